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
from tests.build_codestar import Pipelines
from tests.build_support import Artifact, BuildCache, BuildError
from tests.combinations import Combination
from tests.support import (
    ANSWERS,
    FRONTEND_CHECKS,
    FUZZ,
    REQUIRED_TIERS_ENV,
    SCANS,
    RenderCache,
    RenderedProject,
)

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


# Before xdist's own hook, which reads the xdist_group marks.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if combinations.SELECTED is not None:
        leave_out_empty_parameter_sets(config, items)
    schedule(items)


def leave_out_empty_parameter_sets(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Narrowed to one combination, a test that takes none of its kind is left out, not skipped.

    In a full run an empty parameter set is a gap in the list, and shows as a skip.
    """
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


# --- scheduling ----------------------------------------------------------------------------------
#
# pytest-xdist runs with --dist loadgroup: the tests of one xdist_group are a unit of work
# that one worker runs in a row. A combination's tests are two units, its rendered project
# (`render:<name>`) and its built artifact (`build:<name>`), so a worker never waits on a lock
# for a build or an environment the other worker is making, and `make validate` still keeps
# both workers busy. A codestar project's checks run in its pipeline, which its build goes on
# with (marker `pipeline`): they are in the build unit, as are the deploy tier's, which
# deploy the built artifact (marker `deploy`). Tests that share one session-wide
# result mark their own group (the scans and the app's checks in test_render.py), and so does
# the answers' property test (test_answers.py), a long test of its own. Units are
# handed out longest first, so the run does not end with one worker on a long build while the
# other idles.

# Rough seconds per unit on the 2-core machine, only to order them: a build unit's build
# (codestar's runs its whole pipeline: the project's lint and tests, and the app's for spa)
# and its invokes; a render unit's project tests (against a database server for rds).
_BUILD_SECONDS = {"codestar": 70, "sam": 15, "zappa": 20}
_GROUP_SECONDS = {SCANS: 100, FRONTEND_CHECKS: 90, ANSWERS: 70}
# A fuzz run: its project's environment, a server with its store, and schemathesis.
_FUZZ_SECONDS = 35
_INSTALL_SECONDS = 30


def item_combination(item: pytest.Item) -> Combination | None:
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec is not None else ()
    return next((value for value in params if isinstance(value, Combination)), None)


def work_unit(item: pytest.Item) -> str | None:
    """The xdist group of ``item``: its own mark, else its combination's render or build unit."""
    marked = item.get_closest_marker("xdist_group")
    if marked is not None:
        return str(marked.args[0])
    combination = item_combination(item)
    if combination is None or item.get_closest_marker("install"):
        return None
    shares_the_build = any(item.get_closest_marker(mark) for mark in ("build", "pipeline", "deploy"))
    return f"{'build' if shares_the_build else 'render'}:{combination.name}"


def estimated_seconds(unit: str | None, item: pytest.Item) -> float:
    if unit is None:
        return _INSTALL_SECONDS if item.get_closest_marker("install") else 1
    if unit in _GROUP_SECONDS:
        return _GROUP_SECONDS[unit]
    if unit.startswith(f"{FUZZ}:"):
        return _FUZZ_SECONDS
    combination = item_combination(item)
    if combination is None:
        return 10
    rds = combination["storage"] == "rds"
    if unit.startswith("build:"):
        deployment = combination["deployment"]
        app_checks = deployment == "codestar" and combination["frontend"] == "spa"
        deploys = 10 if not rds and deployment != "zappa" else 0  # the deploy tier's stack (test_deploy.py)
        return _BUILD_SECONDS.get(deployment, 30) + (15 if rds else 0) + (40 if app_checks else 0) + deploys
    return 15 + (8 if rds else 0)


def schedule(items: list[pytest.Item]) -> None:
    """Mark each combination's units, and order the items by unit, the longest unit first."""
    seconds: dict[str, float] = {}

    def key(index: int, item: pytest.Item) -> tuple[float, str]:
        unit = work_unit(item)
        if unit is None:  # a unit of its own, in its place among its equals
            return -estimated_seconds(None, item), f"~{index:06d}"
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(unit))
        return -seconds.setdefault(unit, estimated_seconds(unit, item)), unit

    keyed = sorted((key(index, item), index, item) for index, item in enumerate(items))
    items[:] = [item for _, _, item in keyed]


def pytest_collection_finish(session: pytest.Session) -> None:
    collected: dict[str, dict[str, Combination]] = defaultdict(dict)
    for item in session.items:
        combination = item_combination(item)
        if isinstance(item, pytest.Function) and combination is not None:
            collected[item.originalname][combination.name] = combination
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
def pipelines(session_dir: Path) -> Pipelines:
    """The codestar combinations' pipelines: the render tier's checks, then the build (build_codestar.py)."""
    return Pipelines(session_dir / "pipelines")


@pytest.fixture(scope="session")
def built(session_dir: Path, pipelines: Pipelines) -> Callable[[Combination], Artifact]:
    """``built(combination)``: its artifact, built once per session; a failed build fails the test."""
    cache = BuildCache(session_dir / "built", pipelines)

    def get(combination: Combination) -> Artifact:
        try:
            return cache.get(combination)
        except BuildError as exc:
            pytest.fail(f"{combination.name}: {exc}", pytrace=False)

    return get


# --- tier timing ---------------------------------------------------------------------------------

_TIER = re.compile(r"(?:^|/)test_(\w+)\.py::")
# A combination's name ends with its variants: ...-py313-arm64.
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


_workers: dict[str, _Span] = defaultdict(_Span)


def test_id(nodeid: str) -> str:
    """A node id without the ``@<group>`` xdist adds under --dist loadgroup."""
    at = nodeid.rfind("@")
    return nodeid[:at] if at > nodeid.rfind("]") else nodeid


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    nodeid = test_id(report.nodeid)
    tier = _TIER.search(nodeid)
    if tier is None:
        return
    _tiers[tier.group(1)].add(report)
    # Under xdist the controller's reports name the worker that ran them.
    worker = getattr(getattr(getattr(report, "node", None), "gateway", None), "id", None)
    if worker is not None:
        _workers[worker].add(report)
    if report.when == "call" and not report.skipped:
        _ran[tier.group(1)] += 1
        for name, value in report.user_properties:
            _measured[name][nodeid.split("::")[-1]] = value
    param = _COMBINATION_PARAM.search(nodeid)
    if param:
        _combinations[param.group(1)].add(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _tiers:
        return
    write = terminalreporter.write_line
    started = terminalreporter.config.stash.get(_STARTED, time.time())
    # Wall: from the tier's first test starting to its last finishing. Tiers run
    # together share the workers, so their spans overlap; "in tests" is the sum
    # of their tests' own durations (setup included) over all workers.
    terminalreporter.section("time per tier")
    for tier, span in sorted(_tiers.items(), key=lambda item: item[1].start):
        write(
            f"{tier:<14} {span.stop - span.start:7.1f} s wall   {span.busy:7.1f} s in tests   "
            f"{len(span.tests)} tests"
        )
    if _workers:
        # Busy time per worker: how evenly the units were dealt out.
        terminalreporter.section("time per worker")
        for worker, span in sorted(_workers.items()):
            write(f"{worker:<14} {span.busy:7.1f} s in tests   done at {span.stop - started:7.1f} s")
    if _combinations:
        terminalreporter.section("time per combination (all tiers, summed over its tests)")
        for name, span in sorted(_combinations.items()):
            write(f"{name:<44} {span.busy:7.1f} s   {len(span.tests)} tests")
    if _measured:
        terminalreporter.section("measured")
        for name, values in sorted(_measured.items()):
            for test, value in sorted(values.items()):
                write(f"{name} = {value}   {test}")
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
