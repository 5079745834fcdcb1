"""dev/pack.py, what ``make build`` lays the function's code out with: each step on a small tree."""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path

import pytest

from dev import pack

# The flags of a hash-based .pyc whose source is never checked (PEP 552).
UNCHECKED_HASH = 0b01


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def assert_unchecked_bytecode(compiled: Path) -> None:
    header = compiled.read_bytes()[:8]
    assert header[:4] == importlib.util.MAGIC_NUMBER, f"{compiled} is for another Python"
    assert struct.unpack_from("<I", header, 4)[0] == UNCHECKED_HASH, f"{compiled} would be checked"


def test_wheels_are_for_amazon_linux_2023() -> None:
    """Lambda's Python runtimes run on Amazon Linux 2023: any manylinux wheel up to its glibc, 2.34."""
    assert pack.PYTHON_PLATFORM.endswith("-manylinux_2_34")


def test_only_the_runtimes_python_compiles_the_bytecode() -> None:
    pack.check_python()  # the tests run on the runtime's Python too (.python-version)
    with pytest.raises(pack.PackError, match=r"not 2\.7: .*runtime's Python"):
        pack.check_python("2.7")


def test_dependencies_ship_as_bytecode_where_their_sources_were(tmp_path: Path) -> None:
    write(tmp_path / "library" / "__init__.py", "VALUE = 1\n")
    write(tmp_path / "library" / "module.py", "def double(x: int) -> int:\n    return 2 * x\n")
    stale = write(tmp_path / "library" / "__pycache__" / "module.cpython-00.pyc", "stale")
    (tmp_path / "library.dist-info").mkdir()

    pack.compile_dependencies(tmp_path)

    assert not list(tmp_path.rglob("*.py")), "a dependency's source was left"
    assert not stale.parent.exists(), "a __pycache__ was left"
    for name in ("__init__.pyc", "module.pyc"):
        assert_unchecked_bytecode(tmp_path / "library" / name)
    assert (tmp_path / "library.dist-info").is_dir()


def test_a_module_that_does_not_compile_stops_the_packing(tmp_path: Path) -> None:
    write(tmp_path / "library" / "broken.py", "def (:\n")
    with pytest.raises(pack.PackError, match="do not compile"):
        pack.compile_dependencies(tmp_path)


def test_the_app_keeps_its_sources_with_bytecode_beside_them(tmp_path: Path) -> None:
    app = tmp_path / "src" / "app"
    write(app / "__init__.py", "")
    write(app / "api" / "routes.py", "ROUTES = ['/health']\n")
    write(app / "__pycache__" / "old.cpython-00.pyc", "stale")
    code = tmp_path / "code"
    code.mkdir()

    pack.copy_app(app, code)

    tag = sys.implementation.cache_tag
    assert (code / "app" / "api" / "routes.py").is_file()
    assert_unchecked_bytecode(code / "app" / "api" / "__pycache__" / f"routes.{tag}.pyc")
    assert_unchecked_bytecode(code / "app" / "__pycache__" / f"__init__.{tag}.pyc")
    assert not (code / "app" / "__pycache__" / "old.cpython-00.pyc").exists()
{%- if has('sql_store') %}


def sqlalchemy_tree(root: Path) -> Path:
    """What the wheel holds of SQLAlchemy, in small: each kind of file the pruning decides on."""
    sqlalchemy = root / "sqlalchemy"
    for module in (
        "__init__.py",
        "util/_collections_cy.py",
        "util/_collections_cy.abi3.so",
        "orm/session.py",
        "testing/fixtures.py",
        "ext/__init__.py",
        "ext/compiler.py",
        "ext/hybrid.py",
        "ext/asyncio/engine.py",
        "dialects/__init__.py",
        "dialects/_typing.py",
        "dialects/type_migration_guidelines.txt",
        "dialects/oracle/base.py",
        *(f"dialects/{dialect}/base.py" for dialect in pack.SQLALCHEMY_KEPT["dialects"]),
    ):
        write(sqlalchemy / module, "")
    return sqlalchemy


def test_sqlalchemy_keeps_what_the_app_and_alembic_import_as_python(tmp_path: Path) -> None:
    sqlalchemy = sqlalchemy_tree(tmp_path)

    pack.prune_sqlalchemy(tmp_path)

    kept = sorted(str(path.relative_to(sqlalchemy)) for path in sqlalchemy.rglob("*") if path.is_file())
    dialects = [f"dialects/{dialect}/base.py" for dialect in pack.SQLALCHEMY_KEPT["dialects"]]
    expected = ["__init__.py", "dialects/__init__.py", "dialects/_typing.py", *dialects]
    expected += ["ext/__init__.py", "ext/compiler.py", "util/_collections_cy.py"]
    assert kept == sorted(expected)


def test_a_compiled_module_with_no_python_twin_stops_the_packing(tmp_path: Path) -> None:
    sqlalchemy_tree(tmp_path)
    write(tmp_path / "sqlalchemy" / "engine" / "_row_cy.so", "")
    with pytest.raises(pack.PackError, match="no Python module to stand in for it"):
        pack.prune_sqlalchemy(tmp_path)
{%- endif %}
{%- if has('secrets_service') %}


def test_powertools_keeps_the_utilities_the_app_imports(tmp_path: Path) -> None:
    powertools = tmp_path / "aws_lambda_powertools"
    for part in ("event_handler", "utilities/idempotency", "utilities/parser", "logging"):
        write(powertools / part / "__init__.py", "")
    for utility in pack.POWERTOOLS_UTILITIES:
        write(powertools / "utilities" / utility / "__init__.py", "")

    pack.prune_powertools(tmp_path)

    utilities = {path.name for path in (powertools / "utilities").iterdir() if path.is_dir()}
    assert utilities == set(pack.POWERTOOLS_UTILITIES)
    assert not (powertools / "event_handler").exists()
    assert (powertools / "logging").is_dir()
{%- endif %}


def test_the_function_is_packed_into_an_empty_directory(tmp_path: Path) -> None:
    write(tmp_path / "left-over.txt", "from another build")
    with pytest.raises(pack.PackError, match="is not empty"):
        pack.pack_function(tmp_path)


def test_boto3_is_left_to_the_runtime() -> None:
    """uv.lock's runtime dependencies, what the artifact holds, leave boto3 to the runtime's group."""
    runtime = pinned_names(pack.locked_requirements("--no-dev"))
    provided = pinned_names(pack.locked_requirements("--only-group", pack.RUNTIME_GROUP))
    assert "flask" in runtime
    assert {"boto3", "botocore"} <= provided
    assert not {"boto3", "botocore", "s3transfer"} & runtime


def pinned_names(requirements: str) -> set[str]:
    return {line.split("==")[0].lower() for line in requirements.splitlines() if "==" in line}
