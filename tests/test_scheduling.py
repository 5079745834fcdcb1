"""How the tiers share work: the two workers (tests/conftest.py), and installs kept between runs.

pytest-xdist's --dist loadgroup keeps the tests of one ``xdist_group`` on one
worker. Two pytest and pytest-xdist releases can silently stop doing that
(pytest-xdist#1386), and nothing would fail: both workers would only wait on
each other's builds. So this checks the pinned releases group, and that the
suite's own units are what the scheduling promises. Installs shared between
combinations are keyed by what they install (``lock_closure``), never by less.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from tests.combinations import COMBINATIONS, TEMPLATE_DIR
from tests.support import collect_only, lock_closure

_GROUPED = """
import pytest

@pytest.mark.xdist_group("first")
@pytest.mark.parametrize("n", range(4))
def test_first(n):
    pass

@pytest.mark.xdist_group("second")
@pytest.mark.parametrize("n", range(4))
def test_second(n):
    pass
"""

# Loaded into the suite's own pytest: every collected test's unit, in the order they run.
_DUMP_UNITS = """
import json, os
from tests.conftest import estimated_seconds, work_unit

def pytest_collection_finish(session):
    units = [
        {
            "test": item.nodeid,
            "unit": work_unit(item),
            "seconds": estimated_seconds(work_unit(item), item),
            "with_build": any(item.get_closest_marker(mark) for mark in ("build", "pipeline", "deploy")),
        }
        for item in session.items
    ]
    with open(os.environ["UNITS_FILE"], "w", encoding="utf-8") as report:
        json.dump(units, report)
"""


def test_the_pinned_xdist_keeps_a_group_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_grouped.py").write_text(_GROUPED, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ran = re.findall(r"^\[(gw\d+)\] .*PASSED test_grouped\.py::(test_\w+)\[\d+\]@(\w+)", result.stdout, re.M)
    assert len(ran) == 8, f"the group is not in the test ids:\n{result.stdout}"
    workers: dict[str, set[str]] = {}
    for worker, test, group in ran:
        assert test == f"test_{group}"
        workers.setdefault(group, set()).add(worker)
    assert all(len(found) == 1 for found in workers.values()), workers


def collected_units(tmp_path: Path) -> list[dict[str, Any]]:
    (tmp_path / "dump_units.py").write_text(_DUMP_UNITS, encoding="utf-8")
    units_file = tmp_path / "units.json"
    environ = {"PYTHONPATH": f"{tmp_path}:{TEMPLATE_DIR}", "UNITS_FILE": str(units_file)}
    result = collect_only("-p", "dump_units", env=environ)
    assert result.returncode == 0, result.stdout + result.stderr
    units: list[dict[str, Any]] = json.loads(units_file.read_text(encoding="utf-8"))
    return units


def test_each_combination_is_a_render_and_a_build_unit_handed_out_longest_first(tmp_path: Path) -> None:
    units = collected_units(tmp_path)
    assert units, "the suite collected nothing"
    # The from-scratch installs are tests of no unit, handed out by their estimate like the units.
    installs = [entry for entry in units if "::test_make_install_" in entry["test"]]
    assert len(installs) == 2, installs
    assert all(entry["unit"] is None for entry in installs), installs

    names = {combination.name for combination in COMBINATIONS}
    for entry in units:
        found = re.search(r"\[([^\]]+)\]$", entry["test"])
        if entry["unit"] is None or found is None or found.group(1) not in names:
            continue
        if entry["with_build"]:
            assert entry["unit"] == f"build:{found.group(1)}", entry
        elif entry["unit"].startswith(("render:", "build:")):
            assert entry["unit"] == f"render:{found.group(1)}", entry
    built = {entry["unit"] for entry in units if entry["test"].startswith("tests/test_build.py::")}
    assert built == {f"build:{name}" for name in names}, "every combination is built, in a unit of its own"
    # A codestar project's tests run in the pipeline its build goes on with.
    project_tests = "tests/test_render.py::test_project_tests_pass["
    checked = {entry["unit"] for entry in units if entry["test"].startswith(project_tests)}
    codestar = {combination.name for combination in COMBINATIONS if combination["deployment"] == "codestar"}
    assert checked == {f"{'build' if name in codestar else 'render'}:{name}" for name in names}

    # A unit's tests are handed out together, and the units longest first.
    order: list[str] = []
    for entry in units:
        if entry["unit"] is not None and (not order or order[-1] != entry["unit"]):
            assert entry["unit"] not in order, f"{entry['unit']} is split: {entry['test']}"
            order.append(entry["unit"])
    seconds = [entry["seconds"] for entry in units]
    assert seconds == sorted(seconds, reverse=True)


_LOCK = """\
[[package]]
name = "boto3"
version = "1.44.5"
dependencies = [{ name = "botocore" }, { name = "jmespath" }, { name = "s3transfer" }]

[[package]]
name = "botocore"
version = "1.44.5"
dependencies = [{ name = "jmespath" }, { name = "python-dateutil" }]

[[package]]
name = "flask"
version = "3.2.1"
dependencies = [{ name = "typing-extensions" }]

[[package]]
name = "jmespath"
version = "1.1.0"

[[package]]
name = "moto"
version = "5.2.5"
dependencies = [{ name = "boto3" }]

[package.optional-dependencies]
server = [{ name = "flask" }]

[[package]]
name = "python-dateutil"
version = "2.9.0.post0"
dependencies = [{ name = "six" }]

[[package]]
name = "s3transfer"
version = "0.19.3"
dependencies = [{ name = "botocore" }]

[[package]]
name = "six"
version = "1.17.0"

[[package]]
name = "tool"
version = "1.0"
dependencies = [{ name = "moto", extra = ["server"] }]

[[package]]
name = "typing-extensions"
version = "4.15.0"
"""


def test_a_lock_closure_holds_what_the_package_needs_and_nothing_else() -> None:
    lock = tomllib.loads(_LOCK)
    closure = lock_closure(lock, "boto3")
    assert closure == (
        "boto3==1.44.5",
        "botocore==1.44.5",
        "jmespath==1.1.0",
        "python-dateutil==2.9.0.post0",
        "s3transfer==0.19.3",
        "six==1.17.0",  # two levels down, through python-dateutil
    )
    assert lock_closure(lock, "flask") == ("flask==3.2.1", "typing-extensions==4.15.0")
    # An extra a dependency asks for brings its own dependencies.
    assert "flask==3.2.1" in lock_closure(lock, "tool")
    assert "flask==3.2.1" not in lock_closure(lock, "moto")
    assert lock_closure(lock, "no-such-package") == ()
