"""Check the answers before anything is written.

These rules are the template's one definition of a valid answer. They run
twice: at prompt time, through the template's Jinja extension
(``serverless_flask_jinja.py``, the ``__answers_checked`` key of
cookiecutter.json), after the last question and before cookiecutter creates
the project directory, so a refusal leaves nothing on disk; and as this
pre-generation hook, for answers that skip the questions (a replay file),
once the directory exists (cookiecutter removes it when the hook fails).

Each rule is a function that returns an error message, one line starting with
the key, or ``None``; ``main`` prints the first error and exits non-zero. The
functions are imported by the extension and by the template's own tests, so
this file must stay importable before rendering: the only Jinja in it is the
string literal at the end.
"""

from __future__ import annotations

import functools
import json
import keyword
import re
import sys
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path

from slugify import slugify

# Commercial AWS regions that offer Lambda, API Gateway HTTP APIs and DynamoDB.
AWS_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)

# Regions in AWS_REGIONS without a service an option's stack needs, by option value (from
# cfn-lint's resource schemas per region; tests/test_hooks.py checks the table against them):
# deployment=codestar's pipeline stack needs CodeConnections and CodeBuild, storage=rds's stack
# RDS Proxy.
REGIONS_WITHOUT: dict[tuple[str, str], dict[str, frozenset[str]]] = {
    ("deployment", "codestar"): {
        "CodeConnections": frozenset(
            {
                "af-south-1",
                "ap-east-1",
                "ap-east-2",
                "ap-northeast-3",
                "ap-south-2",
                "ap-southeast-3",
                "ap-southeast-4",
                "ap-southeast-5",
                "ap-southeast-7",
                "ca-west-1",
                "eu-central-2",
                "eu-south-2",
                "il-central-1",
                "me-central-1",
                "mx-central-1",
            }
        ),
        "CodeBuild": frozenset({"ap-east-2", "ca-west-1", "mx-central-1"}),
    },
    ("storage", "rds"): {"RDS Proxy": frozenset({"ap-east-2"})},
}

# Distributions the generated project imports: a package of the same name
# would shadow them.
DEPENDENCY_MODULES = frozenset(
    {
        "alembic",
        "apig_wsgi",
        "aws_lambda_powertools",
        "boto3",
        "botocore",
        "flask",
        "flask_cors",
        "flask_smorest",
        "marshmallow",
        "moto",
        "psycopg",
        "pymysql",
        "pytest",
        "pythonjsonlogger",
        "sqlalchemy",
        "webargs",
        "werkzeug",
        "zappa",
    }
)

# Top-level directories of the generated project that are Python packages
# themselves (pytest and `python -m dev...` import them): the package under
# src/ must not share a name with one.
PROJECT_PACKAGES = frozenset({"dev", "tests", "frontend"})

# --- free text -----------------------------------------------------------------------------------
#
# An answer is one line of printable text. Decided by Unicode category
# (unicodedata.category): no control character (Cc: C0, DEL, C1 with U+0085 NEL), no format
# character (Cf: bidi overrides, zero-width joiners, U+FEFF), no surrogate (Cs), no private-use
# character (Co), no unassigned code point or noncharacter (Cn: U+FFFE, U+FFFF, U+FDD0-U+FDEF),
# no line or paragraph separator (Zl, Zp: U+2028, U+2029), and no space but U+0020 (Zs: no
# no-break or ideographic space). These are exactly the characters Python's str.isprintable()
# refuses; every YAML, TOML, JSON, Python and Markdown file can then hold the answer, escaped.
REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "a format character",
    "Cs": "a surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned code point or noncharacter",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Zs": "a space other than U+0020",
}
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")  # str.splitlines() boundaries

# Jinja's openers: cookiecutter renders answers given on the command line, in a config file
# or by `cruft update` (the recorded ones) as templates, so an answer holding one would change,
# or fail, the next time the project is updated.
# (The pattern is written so that this file, itself rendered by Jinja, holds no opener.)
JINJA_MARKUP_RE = re.compile(r"\{(?:\{|%|#)")

# The API's title is a line of Python in the generated project (src/<package>/__init__.py,
# `TITLE = "..."`): 50 characters fit its 110 columns however they are escaped or wide.
NAME_MAX = 50
# pyproject.toml's description is its core metadata Summary, which PyPI takes up to 512 characters.
DESCRIPTION_MAX = 512
# The stacks' Description is "<project_name> - <description>"; CloudFormation takes 1,024 bytes.
STACK_DESCRIPTION_BYTES = 1024
AUTHOR_NAME_MAX = 100
# RFC 5321: a path of at most 254 characters (256 with its angle brackets), a local part of 64.
EMAIL_MAX = 254
EMAIL_LOCAL_MAX = 64

# The slug names the stack, its resources ("<slug>-<stage>-<resource>") and the S3 bucket
# prefixes; 40 leaves room for the rest within their limits (64 for a Lambda function name,
# 63 for a bucket). The package name is derived from it and kept as short: it is also the
# database's name with storage=rds (PostgreSQL takes 63), part of Lambda handler strings (128),
# and of import lines that fit the generated project's line length.
SLUG_MAX = 40
PACKAGE_MAX = SLUG_MAX
SLUG_RE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
PACKAGE_RE = re.compile(r"[a-z][a-z0-9_]*")
# RFC 5322's dot-atom local part, then a domain name of letter-digit-hyphen labels.
EMAIL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
EMAIL_RE = re.compile(EMAIL_ATOM + r"(?:\." + EMAIL_ATOM + r")*@" + EMAIL_DOMAIN)

# With storage=rds the package names the database, and RDS refuses a name the engine reserves.
# PostgreSQL 17's reserved key words (Appendix C, pg_get_keywords() with catcode R) and MySQL's
# reserved words (the manual's list marked (R), 5.7 to 8.4).
POSTGRES_RESERVED = """
all analyse analyze and any array as asc asymmetric both case cast check collate column
constraint create current_catalog current_date current_role current_time current_timestamp
current_user default deferrable desc distinct do else end except false fetch for foreign
from grant group having in initially intersect into lateral leading limit localtime
localtimestamp not null offset on only or order placing primary references returning select
session_user some symmetric system_user table then to trailing true union unique user using
variadic when where window with
"""
MYSQL_RESERVED = """
accessible add admin all alter analyze and array as asc asensitive before between bigint
binary blob both by call cascade case change char character check collate column condition
constraint continue convert create cross cube cume_dist current_date current_time
current_timestamp current_user cursor database databases day_hour day_microsecond
day_minute day_second dec decimal declare default delayed delete dense_rank desc describe
deterministic distinct distinctrow div double drop dual each else elseif empty enclosed
escaped except exists exit explain false fetch first_value float float4 float8 for force
foreign from fulltext function general generated get get_master_public_key grant group
grouping groups having high_priority hour_microsecond hour_minute hour_second if ignore
ignore_server_ids in index infile inner inout insensitive insert int int1 int2 int3 int4
int8 integer intersect interval into io_after_gtids io_before_gtids is iterate join
json_table key keys kill lag last_value lateral lead leading leave left like limit linear
lines load localtime localtimestamp lock long longblob longtext loop low_priority
master_bind master_heartbeat_period master_ssl_verify_server_cert match maxvalue mediumblob
mediumint mediumtext member middleint minute_microsecond minute_second mod modifies natural
no_write_to_binlog not nth_value ntile null numeric of on optimize optimizer_costs option
optionally or order out outer outfile over parallel parse_gcol_expr partition percent_rank
persist persist_only precision primary procedure purge qualify range rank read read_write
reads real recursive references regexp release rename repeat replace require resignal
restrict return revoke right rlike role row row_number rows schema schemas
second_microsecond select sensitive separator set show signal slow smallint spatial
specific sql sql_after_gtids sql_before_gtids sql_big_result sql_calc_found_rows
sql_small_result sqlexception sqlstate sqlwarning ssl starting stored straight_join system
table terminated then tinyblob tinyint tinytext to trailing trigger true undo union unique
unlock unsigned update usage use using utc_date utc_time utc_timestamp values varbinary
varchar varcharacter varying virtual when where while window with write xor year_month
zerofill
"""
RESERVED_DATABASE_NAMES = {
    "postgres": frozenset(POSTGRES_RESERVED.split()),
    "mysql": frozenset(MYSQL_RESERVED.split()),
}
ENGINE_NAMES = {"postgres": "PostgreSQL", "mysql": "MySQL"}


def shown(value: str, limit: int = 60) -> str:
    """``value`` quoted for a one-line message: non-printables escaped, a long value cut short."""
    return repr(value if len(value) <= limit else value[: limit - 3] + "...")


def unprintable(value: str) -> str | None:
    """The first character no answer may hold, described with its position; None if there is none."""
    for position, char in enumerate(value, start=1):
        category = unicodedata.category(char)
        if category in REFUSED_CATEGORIES and char != " ":
            kind = "a line break" if char in LINE_BREAKS else REFUSED_CATEGORIES[category]
            return f"U+{ord(char):04X} ({kind}) at character {position}"
    return None


def check_text(key: str, value: str, limit: int, *, required: bool = False) -> str | None:
    """The rule every free-text answer follows: printable, one line, no Jinja, at most ``limit``."""
    if not value:
        return f"{key}: must not be empty" if required else None
    problem = unprintable(value)
    if problem:
        return f"{key}: must be one line of printable text; it holds {problem}"
    if value != value.strip(" "):
        return f"{key}: must not start or end with a space"
    markup = JINJA_MARKUP_RE.search(value)
    if markup:
        return (
            f"{key}: must not hold {markup.group()!r}: cookiecutter reads it as Jinja when the "
            "project is updated"
        )
    if len(value) > limit:
        return f"{key}: at most {limit} characters ({len(value)} given)"
    return None


def derive_slug(name: str) -> str:
    """The default slug: the name in kebab-case, from its first word that starts with a letter,
    shortened at a word boundary to at most SLUG_MAX characters ('' when nothing is left).

    python-slugify transliterates (``Zoë's Orders`` gives ``zoe-s-orders``) and keeps ``[a-z0-9]``
    runs, so every word is a valid part of a slug.
    """
    words = slugify(name).split("-")
    while words and not words[0][:1].isalpha():
        words.pop(0)
    if not words:
        return ""
    slug = words[0][:SLUG_MAX]
    for word in words[1:]:
        if len(slug) + 1 + len(word) > SLUG_MAX:
            break
        slug = f"{slug}-{word}"
    return slug


def check_project_name(value: str) -> str | None:
    return check_text("project_name", value, NAME_MAX, required=True)


def check_project_slug(value: str) -> str | None:
    allowed = (
        f"use lowercase letters, digits and single hyphens, starting with a letter, "
        f"at most {SLUG_MAX} characters"
    )
    if not value:
        return f"project_slug: none can be derived from the project name; give one: {allowed}"
    if not SLUG_RE.fullmatch(value) or len(value) > SLUG_MAX:
        return f"project_slug: {shown(value)} is not allowed; {allowed}"
    return None


def check_package_name(value: str) -> str | None:
    if not PACKAGE_RE.fullmatch(value) or len(value) > PACKAGE_MAX:
        return (
            f"package_name: {shown(value)} is not allowed; use lowercase letters, digits and "
            f"underscores, starting with a letter, at most {PACKAGE_MAX} characters"
        )
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return f"package_name: {value!r} is a Python keyword; choose another name"
    if value in sys.stdlib_module_names:
        return f"package_name: {value!r} is a standard library module; choose another name"
    if value in DEPENDENCY_MODULES:
        return f"package_name: {value!r} would shadow a dependency; choose another name"
    if value in PROJECT_PACKAGES:
        return f"package_name: {value!r} is a directory of the generated project; choose another name"
    return None


def check_description(value: str) -> str | None:
    return check_text("description", value, DESCRIPTION_MAX)


def check_author_name(value: str) -> str | None:
    error = check_text("author_name", value, AUTHOR_NAME_MAX)
    if error:
        return error
    if "," in value:
        # PEP 621: an author's name is an email display name without commas.
        return "author_name: must not hold a comma (pyproject.toml's authors)"
    return None


def check_author_email(value: str) -> str | None:
    error = check_text("author_email", value, EMAIL_MAX, required=True)
    if error:
        return error
    if not EMAIL_RE.fullmatch(value) or len(value.partition("@")[0]) > EMAIL_LOCAL_MAX:
        return f"author_email: {shown(value)} is not an email address like name@example.com"
    return None


def check_aws_region(value: str) -> str | None:
    if value not in AWS_REGIONS:
        return f"aws_region: {shown(value)} is not an AWS region; one of: {', '.join(sorted(AWS_REGIONS))}"
    return None


FIELD_CHECKS: dict[str, Callable[[str], str | None]] = {
    "project_name": check_project_name,
    "project_slug": check_project_slug,
    "package_name": check_package_name,
    "description": check_description,
    "author_name": check_author_name,
    "author_email": check_author_email,
    "aws_region": check_aws_region,
}


def stack_description(answers: Mapping[str, object]) -> str:
    """The Description of the project's stacks (templates/sam/application.yaml, infra/stack.yaml)."""
    return f"{answers.get('project_name', '')} - {answers.get('description', '')}"


def check_stack_description(answers: Mapping[str, object]) -> str | None:
    size = len(stack_description(answers).encode("utf-8"))
    if size > STACK_DESCRIPTION_BYTES:
        return (
            f"description: with the project name it makes the stack's Description, {size} bytes in "
            f"UTF-8; CloudFormation takes {STACK_DESCRIPTION_BYTES}"
        )
    return None


def check_choices(answers: Mapping[str, object], options: Mapping[str, object]) -> str | None:
    """Every list-valued option in cookiecutter.json only takes one of its values."""
    for key, allowed in options.items():
        if key.startswith("_") or not isinstance(allowed, list):
            continue
        value = answers.get(key)
        if value not in allowed:
            return f"{key}: {value!r} is not allowed; one of: {', '.join(map(str, allowed))}"
    return None


def check_database_name(answers: Mapping[str, object]) -> str | None:
    """With storage=rds the package name is the database's name too."""
    if answers.get("storage") != "rds":
        return None
    package = str(answers.get("package_name", ""))
    engine = str(answers.get("rds_engine", "postgres"))
    if package in RESERVED_DATABASE_NAMES.get(engine, frozenset()):
        return (
            f"package_name: {package!r} is a reserved word of {ENGINE_NAMES[engine]}, and with "
            "storage=rds it names the database; choose another name"
        )
    return None


def check_region_services(answers: Mapping[str, object]) -> str | None:
    """The region has every service the chosen options' stacks need."""
    region = answers.get("aws_region")
    for (option, value), lacking in REGIONS_WITHOUT.items():
        if answers.get(option) != value:
            continue
        for service, regions in lacking.items():
            if region in regions:
                return (
                    f"aws_region: {region!r} has no {service}, which {option}={value} needs; "
                    "choose another region"
                )
    return None


def check_slug_names_no_dependency(answers: Mapping[str, object]) -> str | None:
    """The project is an entry of its own uv.lock, named by the slug: no dependency may have that name."""
    slug = str(answers.get("project_slug", ""))
    repo_dir = answers.get("_repo_dir")
    if isinstance(repo_dir, str) and slug in locked_dependencies(Path(repo_dir)):
        return f"project_slug: {slug!r} is the name of one of the project's dependencies; choose another"
    return None


@functools.cache
def locked_dependencies(template_dir: Path) -> frozenset[str]:
    """The name of every package the projects' locks pin (``locks/``), the projects themselves aside.

    Read from each entry's first line, as the post-generation hook reads them; none when the
    template directory is not at hand (a hook run from a copy of its script).
    """
    names: set[str] = set()
    # The project template's directory is named by a Jinja expression, which this file (itself
    # rendered when cookiecutter runs it as a hook) cannot spell: matched instead.
    for lock in template_dir.glob("*cookiecutter.project_slug*/locks/*/uv.lock"):
        for entry in lock.read_text(encoding="utf-8").split("\n[[package]]\n")[1:]:
            if 'source = { virtual = "." }' not in entry.splitlines():
                names.add(entry.split("\n", 1)[0].removeprefix('name = "').removesuffix('"'))
    return frozenset(names)


ANSWERS_CHECKS: list[Callable[[Mapping[str, object]], str | None]] = [
    check_stack_description,
    check_database_name,
    check_region_services,
    check_slug_names_no_dependency,
]


def validate(answers: Mapping[str, object]) -> str | None:
    """Return the first problem with the answers, or None when they are all valid."""
    for key, check in FIELD_CHECKS.items():
        error = check(str(answers.get(key, "")))
        if error:
            return error
    for check_answers in ANSWERS_CHECKS:
        error = check_answers(answers)
        if error:
            return error
    options = choice_options(answers)
    if options is not None:
        return check_choices(answers, options)
    return None


def choice_options(answers: Mapping[str, object]) -> Mapping[str, object] | None:
    """The template's options with their allowed values.

    Cookiecutter (2.x) does not pass ``_cookiecutter`` inside the answers a
    hook renders, so read cookiecutter.json from the template directory it
    does pass; a replay or an old project's answers reach the hook unchecked
    by cookiecutter itself.
    """
    options = answers.get("_cookiecutter")
    if isinstance(options, Mapping):
        return options
    repo_dir = answers.get("_repo_dir")
    if isinstance(repo_dir, str):
        path = Path(repo_dir) / "cookiecutter.json"
        if path.is_file():
            loaded = json.loads(path.read_text(encoding="utf-8"))
            return loaded if isinstance(loaded, Mapping) else None
    return None


# Rendered by cookiecutter. JSON never holds three unescaped double quotes in a row,
# so the raw string cannot end early.
ANSWERS_JSON = r"""{{ cookiecutter | jsonify }}"""


def main() -> int:
    error = validate(json.loads(ANSWERS_JSON))
    if error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
