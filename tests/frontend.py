"""The single-page app's checks (``frontend=spa``), shared by the combinations that render it alike.

The app's files depend on the project's name and description, not on the
backend, so every spa combination of a run renders the same ``frontend/``.
What costs time runs once per distinct ``frontend/`` content in a session:
``npm ci`` (once per ``package-lock.json`` and Node version, into the cache
directory, npm's download cache beside it), type-check, lint, unit tests,
build and the size report. Each combination then asserts that its own
``frontend/`` is one that passed. ``node_modules`` is hard-linked into each
work copy (a symlink where the cache is on another file system), so what the
tools write there (Vite's and Vitest's caches) stays in the copy.

The browser test needs Chromium (or Chrome): ``CHROME_PATH``, or the first of
``CHROME_CANDIDATES`` that exists; ``.ci/run`` installs Debian's.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from tests.support import RenderedProject, cache_dir, check, clean_environ, file_lock, run

FRONTEND = "frontend"
# Made by the tools, never rendered.
GENERATED = ("node_modules", "dist")
CHROME_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# The package scripts every generated app has, in the order a developer runs them.
CHECKS = (
    ("type-check", ("run", "typecheck")),
    ("lint", ("run", "lint")),
    ("unit tests", ("test",)),
    ("build", ("run", "build")),
    ("size", ("run", "size")),
)
_INITIAL_JS = re.compile(r"^initial JS: ([\d.]+) KB gzipped", re.MULTILINE)


def has_frontend(project: Path) -> bool:
    return (project / FRONTEND / "package.json").is_file()


def require_node() -> Path:
    found = shutil.which("node")
    if not found or not shutil.which("npm"):
        pytest.fail("Node.js and npm are not installed: spa combinations need Node 20.19+", pytrace=False)
    return Path(found)


def require_npm() -> Path:
    require_node()
    return Path(str(shutil.which("npm")))


def require_chrome() -> Path:
    configured = os.environ.get("CHROME_PATH")
    for candidate in (configured, *CHROME_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.fail(
        "no Chromium for the browser test: `apt-get install chromium` (what .ci/run does) or set CHROME_PATH",
        pytrace=False,
    )


def npm_environ(**overrides: str) -> dict[str, str]:
    """A generated project's environment for npm: its download cache shared, nothing reported home."""
    return clean_environ(
        (),
        npm_config_cache=str(cache_dir() / "npm"),
        npm_config_update_notifier="false",
        npm_config_fund="false",
        npm_config_audit="false",
        **overrides,
    )


def frontend_digest(project: Path) -> str:
    """A hash of every file of ``frontend/`` as rendered (what the tools make excluded)."""
    root = project / FRONTEND
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and relative.parts[0] not in GENERATED:
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def node_modules(frontend: Path) -> Path:
    """``node_modules`` for this lock file, installed by ``npm ci`` on first use and kept in the cache."""
    npm = require_npm()
    node_version = subprocess.run(
        [require_node(), "--version"], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    digest = hashlib.sha256(node_version.encode())
    for name in ("package.json", "package-lock.json"):
        digest.update((frontend / name).read_bytes())
    install = cache_dir() / "node" / f"{node_version}-{digest.hexdigest()[:16]}"
    with file_lock(install.with_name(install.name + ".lock")):
        if not (install / ".complete").exists():
            shutil.rmtree(install, ignore_errors=True)
            install.mkdir(parents=True)
            for name in ("package.json", "package-lock.json"):
                shutil.copy2(frontend / name, install / name)
            check(run([npm, "ci", "--no-audit"], cwd=install, env=npm_environ(), timeout=900), "npm ci")
            (install / ".complete").touch()
    return install / "node_modules"


def link_node_modules(frontend: Path) -> None:
    shared = node_modules(frontend)
    target = frontend / "node_modules"
    result = run(["cp", "-al", shared, target], cwd=frontend, timeout=300)
    if result.returncode != 0:  # the cache is on another file system
        shutil.rmtree(target, ignore_errors=True)
        target.symlink_to(shared, target_is_directory=True)


def work_copy(project: RenderedProject, destination: Path) -> Path:
    """A copy of the rendered project, with ``node_modules`` in its app, for tools that write."""
    copy = project.copy_to(destination)
    link_node_modules(copy / FRONTEND)
    return copy


@dataclass(frozen=True)
class FrontendReport:
    digest: str
    failed: str | None  # the check that failed, if any
    output: str
    initial_js_kb: float | None
    seconds: float


class FrontendChecks:
    """Runs ``CHECKS`` once per ``frontend/`` content per session, shared by the xdist workers."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, project: RenderedProject) -> FrontendReport:
        digest = frontend_digest(project.path)
        report = self.root / digest / "report.json"
        with file_lock(self.root / f"{digest}.lock"):
            if not report.exists():
                report.parent.mkdir(parents=True, exist_ok=True)
                result = self._check(project, digest, report.parent / "work")
                report.write_text(json.dumps(asdict(result)), encoding="utf-8")
        return FrontendReport(**json.loads(report.read_text(encoding="utf-8")))

    @staticmethod
    def _check(project: RenderedProject, digest: str, workdir: Path) -> FrontendReport:
        started = time.perf_counter()
        frontend = work_copy(project, workdir / project.path.name) / FRONTEND
        outputs = []
        for name, args in CHECKS:
            result = run([require_npm(), *args], cwd=frontend, env=npm_environ(CI="true"), timeout=600)
            outputs.append(result.describe(80))
            if result.returncode != 0:
                return FrontendReport(digest, name, "\n\n".join(outputs), None, time.perf_counter() - started)
        size = _INITIAL_JS.search(outputs[-1])
        kb = float(size.group(1)) if size else None
        return FrontendReport(digest, None, "\n\n".join(outputs), kb, time.perf_counter() - started)


def stack_template(frontend: Path) -> str:
    """The template frontend.mk hands the browser tests: ``STACK_TEMPLATE`` of the project's Makefile."""
    makefile = (frontend.parent / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^STACK_TEMPLATE := (\S+)$", makefile, re.MULTILINE)
    if not found:
        pytest.fail("the project's Makefile sets no STACK_TEMPLATE", pytrace=False)
    return found.group(1)
