"""Fixtures shared by the tiers, and the wall time of each tier.

Tiers are the test modules: ``tests/test_<tier>.py``. At the end of a run the
terminal summary shows, per tier, the wall time from its first test starting
to its last finishing, per combination the time its tests took, and the
run's total wall time.

``SERVERLESS_FLASK_COMBINATION`` narrows every tier to one combination (see
``tests/combinations.py``); a name or answers that select none stop the run
before collection with one line.
"""

from __future__ import annotations

import os
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import combinations
from tests.build_support import Artifact, BuildCache, BuildError
from tests.combinations import Combination
from tests.support import RenderCache, RenderedProject

# `.ci/run` sets this to the tiers a full run must contain; a tier that ran no
# test (a missing file, a marker that deselected it) then fails the run.
REQUIRED_TIERS_ENV = "SERVERLESS_FLASK_REQUIRED_TIERS"


# test function name -> the combinations it was collected for (after -k/-m deselection)
_COLLECTED = pytest.StashKey[dict[str, list[Combination]]]()
_STARTED = pytest.StashKey[float]()


def pytest_configure(config: pytest.Config) -> None:
    if combinations.SELECTION_ERROR:
        raise pytest.UsageError(combinations.SELECTION_ERROR)
    config.stash[_STARTED] = time.time()


def pytest_report_header(config: pytest.Config) -> str:
    if combinations.SELECTED is not None:
        return f"combinations: only {combinations.SELECTED.name} ({combinations.SELECT_ENV})"
    return f"combinations: all {len(combinations.ALL_COMBINATIONS)}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Narrowed to one combination, a test that takes none of its kind is left out, not skipped."""
    if combinations.SELECTED is None:
        return  # in a full run an empty parameter set is a gap in the list, and shows as a skip
    empty = [
        item
        for item in items
        if any(
            str(mark.kwargs.get("reason", "")).startswith("got empty parameter set")
            for mark in item.iter_markers("skip")
        )
    ]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [item for item in items if item not in empty]


def pytest_collection_finish(session: pytest.Session) -> None:
    collected: dict[str, dict[str, Combination]] = defaultdict(dict)
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        if not isinstance(item, pytest.Function) or callspec is None:
            continue
        for value in callspec.params.values():
            if isinstance(value, Combination):
                collected[item.originalname][value.name] = value
    session.config.stash[_COLLECTED] = {test: list(found.values()) for test, found in collected.items()}


@pytest.fixture(scope="session")
def collected_combinations(pytestconfig: pytest.Config) -> Callable[[str], list[Combination]]:
    """``collected_combinations(test)``: the combinations this run collected ``test`` for.

    Every xdist worker collects the whole (filtered) run, so each gives the
    same answer: what a report shared by the workers must cover.
    """
    collected = pytestconfig.stash.get(_COLLECTED, {})
    return lambda test: collected.get(test, [])


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A directory shared by every xdist worker of this session (``worker_id`` comes from xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def render_cache(session_dir: Path) -> RenderCache:
    return RenderCache(session_dir / "rendered")


@pytest.fixture(scope="session")
def rendered(render_cache: RenderCache) -> Callable[[Combination], RenderedProject]:
    """``rendered(combination)``: the combination's project, rendered once per session."""
    return render_cache.get


@pytest.fixture(scope="session")
def built(session_dir: Path) -> Callable[[Combination], Artifact]:
    """``built(combination)``: its artifact, built once per session; a failed build fails the test."""
    cache = BuildCache(session_dir / "built")

    def get(combination: Combination) -> Artifact:
        try:
            return cache.get(combination)
        except BuildError as exc:
            pytest.fail(f"{combination.name}: {exc}", pytrace=False)

    return get


# --- tier timing ---------------------------------------------------------------------------------

_TIER = re.compile(r"(?:^|/)test_(\w+)\.py::")
# A combination's name ends with its variants: ...-py313-arm64 (the build tier has more than COMBINATIONS).
_COMBINATION_PARAM = re.compile(r"\[([a-z0-9_-]+-py\d+-[a-z0-9_]+)\]$")


@dataclass
class _Span:
    start: float = float("inf")
    stop: float = 0.0
    busy: float = 0.0
    tests: set[str] = field(default_factory=set)

    def add(self, report: pytest.TestReport) -> None:
        self.start = min(self.start, report.start)
        self.stop = max(self.stop, report.stop)
        self.busy += report.duration
        self.tests.add(report.nodeid)


_tiers: dict[str, _Span] = defaultdict(_Span)
_combinations: dict[str, _Span] = defaultdict(_Span)
_ran: dict[str, int] = defaultdict(int)
# What tests measured (record_property), printed at the end: e.g. the app's initial JS size.
_measured: dict[str, dict[str, object]] = defaultdict(dict)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    tier = _TIER.search(report.nodeid)
    if tier is None:
        return
    _tiers[tier.group(1)].add(report)
    if report.when == "call" and not report.skipped:
        _ran[tier.group(1)] += 1
        for name, value in report.user_properties:
            _measured[name][report.nodeid.split("::")[-1]] = value
    param = _COMBINATION_PARAM.search(report.nodeid)
    if param:
        _combinations[param.group(1)].add(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _tiers:
        return
    write = terminalreporter.write_line
    # Wall: from the tier's first test starting to its last finishing. Tiers run
    # together share the workers, so their spans overlap; "in tests" is the sum
    # of their tests' own durations (setup included) over all workers.
    terminalreporter.section("time per tier")
    for tier, span in sorted(_tiers.items(), key=lambda item: item[1].start):
        write(
            f"{tier:<14} {span.stop - span.start:7.1f} s wall   {span.busy:7.1f} s in tests   "
            f"{len(span.tests)} tests"
        )
    if _combinations:
        terminalreporter.section("time per combination (all tiers, summed over its tests)")
        for name, span in sorted(_combinations.items()):
            write(f"{name:<44} {span.busy:7.1f} s   {len(span.tests)} tests")
    if _measured:
        terminalreporter.section("measured")
        for name, values in sorted(_measured.items()):
            for test, value in sorted(values.items()):
                write(f"{name} = {value}   {test}")
    started = terminalreporter.config.stash.get(_STARTED, None)
    if started is not None:
        terminalreporter.section("total")
        write(f"total wall time {time.time() - started:7.1f} s")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    required = [tier for tier in os.environ.get(REQUIRED_TIERS_ENV, "").split(",") if tier]
    if not required or hasattr(session.config, "workerinput"):
        return
    missing = [tier for tier in required if _ran[tier] == 0]
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"ERROR: no test ran in tier(s) {', '.join(missing)} "
                f"({REQUIRED_TIERS_ENV}={','.join(required)})",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
