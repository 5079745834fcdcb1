"""Answers tier: no answer to the template's questions can break a generated project.

Property-based (hypothesis). The escaping filters of the template's Jinja extension write any
text the rules accept so that it reads back as itself; and real generation with random answers,
drawn from what YAML, TOML, Python, Markdown, HTML and Jinja give meaning to, other scripts, and
every kind of character the rules refuse, either refuses them cleanly (one ``ERROR: <key>:``
line, nothing written) or renders a project whose every structured file parses, whose Python
compiles and passes the project's own ruff, whose CloudFormation passes cfn-lint, and which
records and shows the answers as given.

A run draws its own examples; the seed it used is printed at the end (``answers seed``), and
``SERVERLESS_FLASK_ANSWERS_SEED=<seed>`` runs those examples again.
``SERVERLESS_FLASK_ANSWERS_EXAMPLES`` sets how many answers are generated (60: about a minute).
"""

from __future__ import annotations

import ast
import html.parser
import json
import os
import random
import string
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter
from hypothesis import HealthCheck, Phase, example, given, note, seed, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

import serverless_flask_jinja as extension
from tests import options
from tests.combinations import TEMPLATE_DIR
from tests.support import (
    ANSWERS,
    STRUCTURED_SUFFIXES,
    find_python,
    jinja_literal,
    load_hook,
    load_structured,
)

pre_gen: Any = load_hook("pre_gen_project")

FREE_TEXT_KEYS = list(pre_gen.FIELD_CHECKS)

SEED_ENV = "SERVERLESS_FLASK_ANSWERS_SEED"
SEED = int(os.environ.get(SEED_ENV) or random.SystemRandom().getrandbits(32))

# --- what answers are made of --------------------------------------------------------------------

# What the formats an answer lands in give meaning to.
SYNTAX = [
    *string.punctuation,
    " ",
    " ",
    " ",
    '"""',
    "\\\\",
    "{{",
    "{%",
    "{#",
    "${{",
    "}}",
    "%}",
    ": ",
    " #",
    "- ",
    "? ",
    "&anchor",
    "*alias",
    "!tag",
    "| ",
    "> ",
    "<!--",
    "<b>",
    "&amp;",
    "*em*",
    "[x](y)",
    "~~",
    "$x$",
    "1. ",
    "---",
    "\\n",
    "%MODE%",
]
# Other scripts and what ruff takes for look-alikes of ASCII.
SCRIPTS = [
    "é",
    "Zoë",
    "ß",
    "日本語",
    "サービス",
    "שלום",
    "مرحبا",
    "Привет",
    "e\u0301",
    "\u0301",
    "🚀",
    "👍🏽",
    "’",
    "–",
    "“”",
]
WORDS = ["Quiz", "Board", "service", "API", "orders", "2048", "import", "json", "order", "user", "x"]
# One of each kind of character the rules refuse.
REFUSED = [
    "\n",
    "\r\n",
    "\t",
    "\x00",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9b",
    "\u2028",
    "\u2029",
    "\u00a0",
    "\u3000",
    "\u200b",
    "\u200d",
    "\u202e",
    "\ufeff",
    "\ufffe",
    "\uffff",
    "\ufdd0",
    "\ud800",
    "\udfff",
    "\ue000",
    "\U000e0080",
]

printable = st.characters(exclude_categories=tuple(pre_gen.REFUSED_CATEGORIES))
piece = st.one_of(st.sampled_from(WORDS), st.sampled_from(SYNTAX), st.sampled_from(SCRIPTS), printable)
printable_text = st.lists(piece, min_size=1, max_size=10).map("".join)
long_text = st.builds(lambda text, times: text * times, printable_text, st.integers(5, 120))
with_refused = st.builds(
    lambda text, char, at: text[:at] + char + text[at:],
    printable_text,
    st.sampled_from(REFUSED),
    st.integers(0, 40),
)
# Anything: what the rules accept only by chance.
HOSTILE = st.one_of(
    printable_text.map(lambda value: value.strip(" ")), printable_text, long_text, with_refused
)
# Text the rules accept as a name, description or author (in most draws): the same syntax, scripts
# and look-alikes, without Jinja's openers, commas, or a space at either end.
tame_piece = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from([syntax for syntax in SYNTAX if "{" not in syntax and syntax != ","]),
    st.sampled_from(SCRIPTS),
    printable.filter(lambda char: char not in "{,"),
)
tame_text = st.lists(tame_piece, min_size=1, max_size=8).map(lambda pieces: "".join(pieces).strip(" "))
email = st.builds(
    "{}@{}".format,
    st.from_regex(r"[A-Za-z0-9!#$%&'*+/=?^_`|~-]{1,20}", fullmatch=True),
    st.sampled_from(["example.org", "mail.example.co.uk", "xn--bcher-kva.example"]),
)
TAME: dict[str, st.SearchStrategy[str]] = {
    "project_name": tame_text,
    "project_slug": st.from_regex(r"[a-z][a-z0-9]{0,11}(-[a-z0-9]{1,8}){0,3}", fullmatch=True),
    "package_name": st.from_regex(r"[a-z][a-z0-9_]{0,30}", fullmatch=True),
    "description": st.one_of(tame_text, st.builds(" ".join, st.lists(tame_text, max_size=40))),
    "author_name": tame_text,
    "author_email": email,
    "aws_region": st.sampled_from(sorted(pre_gen.AWS_REGIONS)),
}
# How often each answer is given (in quarters of the examples); else it defaults or is derived.
GIVEN = {
    "project_name": 3,
    "project_slug": 1,
    "package_name": 1,
    "description": 3,
    "author_name": 2,
    "author_email": 2,
    "aws_region": 2,
}


@st.composite
def answers(draw: st.DrawFn) -> dict[str, str]:
    """Some free-text answers (the rest default or derived): in most examples one of them is
    anything at all, the others text the rules accept, so that about half the examples render."""
    hostile = draw(st.sampled_from([None] * 6 + FREE_TEXT_KEYS))
    given = {}
    for key in FREE_TEXT_KEYS:
        if key == hostile:
            given[key] = draw(HOSTILE)
        elif draw(st.integers(0, 3)) < GIVEN[key]:
            given[key] = draw(TAME[key])
    return given


# --- the filters ---------------------------------------------------------------------------------

FAST = settings(max_examples=300, deadline=None, database=None, print_blob=True)
accepted_text = st.text(
    st.characters(exclude_categories=tuple(pre_gen.REFUSED_CATEGORIES), include_characters=" ")
).map(lambda value: value.strip(" "))


@FAST
@seed(SEED)
@given(st.text())
def test_toml_string_reads_back(value: str) -> None:
    assert tomllib.loads(f"value = {extension.toml_string(value)}")["value"] == value


@FAST
@seed(SEED)
@given(st.text())
def test_yaml_string_reads_back(value: str) -> None:
    literal = extension.yaml_string(value)
    assert "\n" not in literal
    assert yaml.safe_load(f"key: {literal}\n") == {"key": value}


@FAST
@seed(SEED)
@given(st.text(st.characters(exclude_categories=())))
def test_python_string_reads_back(value: str) -> None:
    literal = extension.python_string(value)
    assert "\n" not in literal
    assert ast.literal_eval(literal) == value


@FAST
@seed(SEED)
@given(accepted_text, st.integers(20, 110))
@example("ends in a backslash \\", 110)
@example('"""quoted"""', 110)
@example('"', 110)
@example("", 110)
def test_python_docstring_holds_the_words_within_the_width(value: str, width: int) -> None:
    literal = extension.python_docstring(value, width)
    module = ast.parse(literal + "\n")
    docstring = ast.get_docstring(module, clean=False)
    assert docstring is not None
    assert docstring.split() == value.split()
    for line in literal.splitlines():
        # A line wider than the width is one word: ruff's line-length rule lets it pass.
        assert extension._columns(line) <= width or " " not in line, line


def markdown_text_of(markdown: str, block: str) -> str:
    """The plain text of the first ``block`` ("heading" or "paragraph"), rendered as GitHub does."""
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(markdown)
    for index, token in enumerate(tokens):
        if token.type == f"{block}_open":
            inline = tokens[index + 1]
            kinds = {child.type for child in inline.children or []}
            assert kinds <= {"text"}, f"{markdown!r} renders {kinds}"
            return "".join(child.content for child in inline.children or [])
    return ""


@FAST
@seed(SEED)
@given(accepted_text)
@example("1. first")
@example("- item")
@example("> quote")
@example("<!-- comment")
@example("*not* _emphasis_ `code` [link](x) ~~struck~~ &amp; #hash #")
def test_markdown_text_renders_as_itself(value: str) -> None:
    assert markdown_text_of(f"# {extension.markdown_text(value)}\n", "heading") == value
    assert markdown_text_of(f"# Title\n\n{extension.markdown_text(value)}\n", "paragraph") == value


class _Title(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.inside = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.title += data


@FAST
@seed(SEED)
@given(accepted_text)
def test_html_text_reads_back_and_hides_vites_placeholders(value: str) -> None:
    parser = _Title()
    parser.feed(f"<title>{extension.html_text(value)}</title>")
    assert parser.title == value
    assert "%" not in extension.html_text(value)


@FAST
@seed(SEED)
@given(st.text())
def test_a_derived_slug_is_valid_or_empty(name: str) -> None:
    slug = pre_gen.derive_slug(name)
    assert slug == "" or pre_gen.check_project_slug(slug) is None


@FAST
@seed(SEED)
@given(st.fixed_dictionaries({key: st.text(st.characters(exclude_categories=())) for key in FREE_TEXT_KEYS}))
def test_every_refusal_is_one_line_naming_its_key(given: dict[str, str]) -> None:
    error = pre_gen.validate(given)
    if error is not None:
        assert "\n" not in error
        assert error.split(":", 1)[0] in FREE_TEXT_KEYS, error


# --- real generation -----------------------------------------------------------------------------

# Together these render every file that holds a free-text answer: pyproject.toml, README.md,
# the package's __init__.py (all), template.yaml (sam), infra/stack.yaml (zappa), template.yml
# and pipeline/pipeline.yml (codestar), the database named after the package (rds), and
# frontend/index.html (spa).
COMBINATIONS = [
    {"deployment": "sam", "storage": "dynamodb", "secrets": "ssm", "frontend": "spa"},
    {"deployment": "zappa", "storage": "rds", "rds_engine": "postgres", "secrets": "env", "frontend": "none"},
    {"deployment": "codestar", "storage": "rds", "rds_engine": "mysql", "secrets": "ssm", "frontend": "spa"},
]
CLOUDFORMATION = ("template.yaml", "template.yml", "infra/stack.yaml", "pipeline/pipeline.yml")
# A render takes half a second: no shrinking (it would take minutes) and no explaining; a failure
# prints its example as drawn, with the seed that draws it again.
RENDERS = settings(
    max_examples=int(os.environ.get("SERVERLESS_FLASK_ANSWERS_EXAMPLES", "60")),
    deadline=None,
    database=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass
class Outcomes:
    """What the examples did, and the rendered projects left for the checks run once over all."""

    base: Path
    tried: int = 0
    refused: int = 0
    refused_by_key: dict[str, int] = field(default_factory=dict)
    projects: list[tuple[dict[str, str], Path]] = field(default_factory=list)

    def directory(self) -> Path:
        self.tried += 1
        path = self.base / str(self.tried)
        path.mkdir()
        return path


def expected_answers(given: dict[str, str], combination: dict[str, str]) -> dict[str, str]:
    """Every free-text answer as the project should record it: given, or the default, or derived."""
    defaults = options.default_answers()
    name = given.get("project_name", defaults["project_name"])
    slug = given.get("project_slug", pre_gen.derive_slug(name))
    return {
        **{key: defaults[key] for key in FREE_TEXT_KEYS},
        "project_slug": slug,
        "package_name": slug.replace("-", "_"),
        **combination,
        **given,
    }


def generate(given: dict[str, str], combination: dict[str, str], work: Path) -> tuple[Path | None, str]:
    """Generate as a user would, answers as typed; the project, or the refusal's ERROR lines."""
    output = work / "out"
    output.mkdir()
    config = work / "config.yaml"
    config.write_text(f"replay_dir: {json.dumps(str(work / 'replay'))}\n", encoding="utf-8")
    extra = {**combination, **{key: jinja_literal(value) for key, value in given.items()}}
    try:
        project = cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            extra_context=extra,
            output_dir=str(output),
            config_file=str(config),
        )
    except FailedHookException as refused:
        return None, str(refused)
    return Path(project), ""


def check_refusal(given: dict[str, str], expected: dict[str, str], message: str, work: Path) -> str:
    lines = [line for line in message.splitlines() if line.startswith("ERROR: ")]
    assert len(lines) == 1, f"not one ERROR line: {message!r}"
    key = lines[0].removeprefix("ERROR: ").split(":", 1)[0]
    assert key in FREE_TEXT_KEYS, lines[0]
    assert lines[0] == f"ERROR: {pre_gen.validate(expected)}", "refused otherwise than the rules say"
    assert list((work / "out").iterdir()) == [], "a refusal left something in the output directory"
    assert not (work / "replay").exists(), "a refusal recorded a replay"
    return key


def check_project(project: Path, expected: dict[str, str]) -> None:
    """What one rendered project must be, checked in this process (cfn-lint and ruff run later)."""
    recorded = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))
    assert {key: recorded[key] for key in expected} == expected, "recorded answers differ from those given"
    files = [path for path in project.rglob("*") if path.is_file() and "node_modules" not in path.parts]
    for path in files:
        if path.suffix in STRUCTURED_SUFFIXES:
            load_structured(path)
    # The answers read back as given, wherever they are written.
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert pyproject["description"] == expected["description"]
    assert pyproject["authors"] == [{"name": expected["author_name"], "email": expected["author_email"]}]
    package = ast.parse(
        (project / "src" / expected["package_name"] / "__init__.py").read_text(encoding="utf-8")
    )
    docstring = ast.get_docstring(package, clean=False) or ""
    assert docstring.split() == expected["description"].split()
    titles = [node.value for node in package.body if isinstance(node, ast.Assign)]
    assert [ast.literal_eval(title) for title in titles] == [expected["project_name"]]
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert markdown_text_of(readme, "heading") == expected["project_name"]
    if expected["description"]:
        assert markdown_text_of(readme, "paragraph") == expected["description"]
    for relative in ("template.yaml", "template.yml"):  # the application's stack (sam, codestar)
        path = project / relative
        if path.exists():
            assert load_structured(path)["Description"] == pre_gen.stack_description(expected)
    index = project / "frontend" / "index.html"
    if index.exists():
        parser = _Title()
        parser.feed(index.read_text(encoding="utf-8"))
        assert parser.title == expected["project_name"]


def cfn_lint_findings(projects: list[tuple[dict[str, str], Path]]) -> tuple[list[str], int]:
    """cfn-lint, in this process (its rules and schemas load once), over every distinct rendered
    template: answers that do not reach a template (the author's) leave it as another example's.
    The findings, and how many templates were linted."""
    from cfnlint.api import ManualArgs, lint  # seconds to import: only when this test runs

    findings = []
    linted: set[tuple[str, tuple[str, ...]]] = set()
    for expected, project in projects:
        regions = sorted({"us-east-1", expected["aws_region"]})
        for relative in CLOUDFORMATION:
            path = project / relative
            if not path.exists():
                continue
            template = path.read_text(encoding="utf-8")
            if (template, tuple(regions)) in linted:
                continue
            linted.add((template, tuple(regions)))
            for match in lint(template, config=ManualArgs(regions=regions)):
                findings.append(f"{path}: {match} (answers {expected!r})")
    return findings, len(linted)


# Compiles every path it reads on standard input, one per line; prints those that do not compile.
_COMPILE_EACH = """
import sys
for path in sys.stdin.read().splitlines():
    try:
        with open(path, "rb") as source:
            compile(source.read(), path, "exec")
    except SyntaxError as exc:
        print(f"{path}: {exc}")
"""


def uncompilable(projects: list[tuple[dict[str, str], Path]]) -> list[str]:
    """The ``.py`` files that do not compile, each with the Python its project targets (the
    generated code may use syntax newer than this interpreter's): one process per version."""
    by_version: dict[str, list[str]] = {}
    for expected, project in projects:
        version = expected.get("python_version") or options.default_answers()["python_version"]
        by_version.setdefault(version, []).extend(
            str(path) for path in project.rglob("*.py") if "node_modules" not in path.parts
        )
    problems = []
    for version, paths in by_version.items():
        result = subprocess.run(
            [find_python(version), "-I", "-c", _COMPILE_EACH],
            input="\n".join(paths),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode or result.stdout:
            problems.append(f"python{version} compile:\n{result.stdout}{result.stderr}")
    return problems


def ruff(*args: str, projects: list[Path]) -> subprocess.CompletedProcess[str]:
    """The template's ruff, the generated projects' version, with each project's own configuration."""
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--no-cache", *map(str, projects)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_ruff_here_is_the_generated_projects_ruff() -> None:
    locks = sorted((TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "locks").glob("*/uv.lock"))
    assert locks, "the project template holds no uv.lock"
    pinned = {
        package["version"]
        for lock in locks
        for package in tomllib.loads(lock.read_text(encoding="utf-8"))["package"]
        if package["name"] == "ruff"
    }
    assert len(pinned) == 1, f"the generated projects pin several ruffs: {sorted(pinned)}"
    version = subprocess.run(
        [sys.executable, "-m", "ruff", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.split() == ["ruff", *pinned]


@pytest.mark.xdist_group(ANSWERS)
def test_no_answer_breaks_a_generated_project(
    tmp_path_factory: pytest.TempPathFactory, record_property: Callable[[str, object], None]
) -> None:
    record_property("answers seed", SEED)
    started = time.perf_counter()
    outcomes = Outcomes(tmp_path_factory.mktemp("answers"))

    @RENDERS
    @seed(SEED)
    @given(answers(), st.sampled_from(COMBINATIONS))
    def render(given: dict[str, str], combination: dict[str, str]) -> None:
        note(f"{SEED_ENV}={SEED}")
        work = outcomes.directory()
        expected = expected_answers(given, combination)
        project, message = generate(given, combination, work)
        if project is None:
            key = check_refusal(given, expected, message, work)
            outcomes.refused += 1
            outcomes.refused_by_key[key] = outcomes.refused_by_key.get(key, 0) + 1
            return
        assert pre_gen.validate(expected) is None, "rendered answers the rules refuse"
        check_project(project, expected)
        outcomes.projects.append((expected, project))

    render()
    rendered = outcomes.projects
    assert rendered, "no example rendered: the strategies draw nothing the rules accept"

    generated = time.perf_counter()
    problems, templates = cfn_lint_findings(rendered)
    problems += uncompilable(rendered)
    paths = [project for _, project in rendered]
    for result in (ruff("check", projects=paths), ruff("format", "--check", projects=paths)):
        if result.returncode:
            problems.append(f"{' '.join(result.args[3:5])}:\n{result.stdout}{result.stderr}")

    record_property("answers tried", outcomes.tried)
    record_property("answers refused", f"{outcomes.refused} {dict(sorted(outcomes.refused_by_key.items()))}")
    record_property("answers rendered", f"{len(rendered)} ({templates} distinct CloudFormation templates)")
    done = time.perf_counter()
    record_property(
        "answers seconds",
        f"{done - started:.1f} (generating {generated - started:.1f}, linting {done - generated:.1f})",
    )
    assert not problems, f"({SEED_ENV}={SEED})\n" + "\n".join(problems)
