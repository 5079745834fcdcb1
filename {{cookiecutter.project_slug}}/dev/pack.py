"""Lay out the Lambda function's code, or the runtime's boto3, in a directory.

    python -m dev.pack function DIRECTORY
    python -m dev.pack runtime-sdk DIRECTORY

``make build`` runs the first ({% if has('zappa_built') %}into the virtualenv ``zappa package`` packs{% elif has('sam_built') %}for ``sam build``, whose Makefile builder gives the directory{% endif %}),
``make invoke`` the second, both through ``uv run`` in the project's
environment. The function's code is:

* the runtime dependencies, exactly as uv.lock pins them (``uv export
  --no-dev``), from wheels built for Lambda whatever machine builds: its
  architecture, its CPython, and manylinux up to glibc 2.34 (Amazon Linux
  2023). boto3 is not among them: the runtime provides it;
{%- if has('secrets_service') %}
* of Powertools, only the utilities the app imports (``POWERTOOLS_UTILITIES``);
{%- if has('sql_store') %}
* SQLAlchemy without its compiled extensions: the same modules run as Python
  instead (the wheel has both), as fast for this app's queries and cold start,
  and 2.6 MB less to zip, fetch and unpack at every cold start; and without
  what the app never imports (``SQLALCHEMY_DROPPED``, ``SQLALCHEMY_KEPT``);
{%- endif %}
{%- endif %}
* every dependency as bytecode only. Lambda's code directory is read-only, so
  without ``.pyc`` files every cold start would compile every import again;
  their hashes are never checked, so they stay valid whatever timestamps the
  zip gives; and each takes its source's place, the source dropped (a third
  of the zip; tracebacks keep file and line);
* the app's package, with its sources (its tracebacks show the code) and
  their unchecked-hash bytecode beside them.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from py_compile import PycInvalidationMode

PROJECT = Path(__file__).resolve().parent.parent
APP = PROJECT / "src" / "{{ cookiecutter.package_name }}"
# The function's runtime: its Python, and its platform as uv names it: the
# function's CPU as wheels name it, on Amazon Linux 2023 (under Lambda's Python
# runtimes), whose glibc 2.34 loads a wheel for any manylinux up to that (some
# binary wheels need 2.28 or newer).
PYTHON_VERSION = "{{ cookiecutter.python_version }}"
PYTHON_PLATFORM = "{{ 'aarch64' if has('arm_cpu') else cookiecutter.architecture }}-manylinux_2_34"
# The dependency group of what the Lambda runtime provides (pyproject.toml).
RUNTIME_GROUP = "lambda-runtime"
{%- if has('sql_store') %}
# SQLAlchemy, as the app and Alembic use it: Core (the store is written in it, not
# the ORM), the database's dialect{% if has('mysql_database') %} (and PostgreSQL's, which Alembic imports
# whatever the database){% endif %}, and of its extensions only the SQL compiler's hooks
# (Alembic's); without its test suite. About 2 MB less in the zip. Keep a package
# here when the app or a migration starts importing it.
SQLALCHEMY_DROPPED = ("orm", "testing")
SQLALCHEMY_KEPT = {
    "dialects": {% if has('mysql_database') %}("mysql", "postgresql"){% elif has('postgresql_database') %}("postgresql",){% endif %},
    "ext": ("compiler",),
}
{%- endif %}
{%- if has('secrets_service') %}
# Powertools (for its Parameters utility) is a toolbox, mostly of parts a Flask
# app never imports (its own event handler, parsers, idempotency...): the
# artifact keeps only these of its utilities, which halves the zip. Add one
# here when the app starts using it.
POWERTOOLS_UTILITIES = ("parameters", "typing", "jmespath_utils")
{%- endif %}


class PackError(Exception):
    """What stops the packing, said in one line."""


def check_python(version: str = PYTHON_VERSION) -> None:
    """Bytecode is for one Python: this one must be the runtime's."""
    running = "{}.{}".format(*sys.version_info[:2])
    if running != version:
        raise PackError(
            f"this is Python {running}, not {version}: the function's bytecode must be compiled by the "
            "runtime's Python (run it with `uv run`, which uses .python-version's)"
        )


def locked_requirements(*selection: str) -> str:
    """uv.lock's pins, with their hashes, for ``selection`` (``uv export`` options)."""
    command = [uv(), "export", "--locked", "--format", "requirements.txt", "--no-header", "--no-annotate"]
    result = subprocess.run(  # noqa: S603
        [*command, *selection], cwd=PROJECT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise PackError(f"`uv export {' '.join(selection)}` failed: {result.stderr.strip()}")
    return result.stdout


def install(requirements: str, directory: Path, *options: str) -> None:
    """Exactly ``requirements`` into ``directory``: no resolution, every hash checked."""
    with tempfile.TemporaryDirectory(prefix="pack-") as work:
        listed = Path(work) / "requirements.txt"
        listed.write_text(requirements, encoding="utf-8")
        command = [uv(), "pip", "install", "--quiet", "--no-deps", "--python", sys.executable]
        command += ["--target", str(directory), "--requirement", str(listed), *options]
        if subprocess.run(command, check=False).returncode != 0:  # noqa: S603
            raise PackError(f"installing uv.lock's pins into {directory} failed (uv's message above)")


def compile_dependencies(directory: Path) -> None:
    """Each module as unchecked-hash bytecode where its source was, the source removed."""
    for cache in list(directory.rglob("__pycache__")):
        shutil.rmtree(cache)
    compiled = compileall.compile_dir(
        directory, quiet=1, legacy=True, workers=0, invalidation_mode=PycInvalidationMode.UNCHECKED_HASH
    )
    if not compiled:
        raise PackError(f"modules under {directory} do not compile (see above)")
    for source in directory.rglob("*.py"):
        source.unlink()


def copy_app(package: Path, directory: Path) -> None:
    """The app's package with its sources, and their unchecked-hash bytecode in ``__pycache__``."""
    target = directory / package.name
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__"))
    compiled = compileall.compile_dir(
        target, quiet=1, workers=0, invalidation_mode=PycInvalidationMode.UNCHECKED_HASH
    )
    if not compiled:
        raise PackError(f"the app's modules under {package} do not compile (see above)")
{%- if has('sql_store') %}


def prune_sqlalchemy(directory: Path) -> None:
    """SQLAlchemy without its compiled extensions (it imports the Python modules they were
    built from) and without the packages and modules ``SQLALCHEMY_DROPPED`` and
    ``SQLALCHEMY_KEPT`` leave out."""
    sqlalchemy = directory / "sqlalchemy"
    extensions = list(sqlalchemy.rglob("*.so"))
    if not extensions:
        raise PackError(f"no compiled SQLAlchemy in {directory} to prune: is it still a dependency?")
    for extension in extensions:
        if not extension.with_name(extension.name.split(".")[0] + ".py").is_file():
            raise PackError(f"{extension.relative_to(directory)} has no Python module to stand in for it")
        extension.unlink()
    for package in SQLALCHEMY_DROPPED:
        shutil.rmtree(sqlalchemy / package)
    for package, kept in SQLALCHEMY_KEPT.items():
        for path in list((sqlalchemy / package).iterdir()):
            if path.name.startswith("_") or path.stem in kept:
                continue  # the package itself, its private helpers, what is kept
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
{%- endif %}
{%- if has('secrets_service') %}


def prune_powertools(directory: Path) -> None:
    """Of Powertools, only the utilities in ``POWERTOOLS_UTILITIES``, and not its event handler."""
    powertools = directory / "aws_lambda_powertools"
    if not powertools.is_dir():
        raise PackError(f"no Powertools in {directory} to prune: is it still a dependency?")
    shutil.rmtree(powertools / "event_handler", ignore_errors=True)
    for utility in (powertools / "utilities").iterdir():
        if utility.is_dir() and utility.name not in POWERTOOLS_UTILITIES:
            shutil.rmtree(utility)
{%- endif %}


def pack_function(directory: Path) -> None:
    check_python()
    if directory.exists() and any(directory.iterdir()):
        raise PackError(f"{directory} is not empty: the function's code would mix with what is there")
    platform = ["--python-platform", PYTHON_PLATFORM, "--python-version", PYTHON_VERSION]
    install(locked_requirements("--no-dev"), directory, *platform, "--only-binary", ":all:")
    # What uv leaves besides the packages: the console scripts, which nothing runs
    # in Lambda, and its lock on the directory.
    shutil.rmtree(directory / "bin", ignore_errors=True)
    (directory / ".lock").unlink(missing_ok=True)
{%- if has('sql_store') %}
    prune_sqlalchemy(directory)
{%- endif %}
{%- if has('secrets_service') %}
    prune_powertools(directory)
{%- endif %}
    compile_dependencies(directory)
    copy_app(APP, directory)


def pack_runtime_sdk(directory: Path) -> None:
    """boto3 at uv.lock's pins (the ``lambda-runtime`` group), for this machine: ``make invoke`` runs here."""
    install(locked_requirements("--only-group", RUNTIME_GROUP), directory)


def uv() -> str:
    """The uv running this script (``uv run`` says which), else the one on PATH."""
    return os.environ.get("UV") or "uv"


def size(directory: Path) -> str:
    files = [path for path in directory.rglob("*") if path.is_file()]
    return f"{len(files):,} files, {sum(path.stat().st_size for path in files):,} bytes"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dev.pack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    function = commands.add_parser("function", help="the function's code, for Lambda's platform")
    function.add_argument("directory", type=Path, help="where (empty or missing)")
    sdk = commands.add_parser("runtime-sdk", help="boto3 as the Lambda runtime provides it, for this machine")
    sdk.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "function":
            pack_function(args.directory)
        else:
            pack_runtime_sdk(args.directory)
    except PackError as error:
        print(f"dev.pack: {error}", file=sys.stderr)
        return 1
    print(f"{args.directory}: {size(args.directory)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
