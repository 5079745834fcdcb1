"""Zappa's part of ``make build``, around ``zappa package``: its handler in, then the zip finished.

    python -m dev.zappa_package handler .zappa/packed/lib/pythonX.Y/site-packages
    python -m dev.zappa_package finish .zappa/dev.zip .zappa/package

Run by ``make build`` with the runtime's Python (``uv run``), after dev/pack.py
laid out the app and its dependencies, as bytecode with no source, in the
virtualenv Zappa packs.

``handler`` adds Zappa's Lambda entry point (``Handler: handler.lambda_handler``)
at the package's root and the few modules of Zappa it imports under
``zappa/``, as bytecode too; the rest of Zappa deploys, and stays out. (Zappa
copies its handler's source to the root itself, unless a newer ``.pyc`` is
there: this one.)

``finish`` undoes two things Zappa changes in the zip, then unpacks it:

* It adds an empty ``__init__.py`` to every directory with Python files that
  has none. Beside a package's ``__init__.pyc`` that empty source would be
  imported instead, and the package would be empty: they are left out (an
  ``__init__.py`` of the app has its bytecode in ``__pycache__`` and stays).
* It adds its settings module, ``zappa_settings.py``, after packing: it goes
  the way of the others, to unchecked-hash bytecode, valid whatever
  timestamps the zip gives. Lambda's code directory is read-only, so a source
  would be compiled at every cold start.

The zip unpacked is what ``make invoke`` runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import marshal
import shutil
import sys
import zipfile
from pathlib import Path

SETTINGS_MODULE = "zappa_settings.py"
HANDLER_MODULE = "handler"
# What Zappa's handler imports of Zappa at run time.
RUNTIME_MODULES = ("__init__", HANDLER_MODULE, "middleware", "utilities", "wsgi", "asgi")


def compiled(source: bytes, name: str) -> bytes:
    """An unchecked-hash ``.pyc`` (PEP 552) of ``source``, for this interpreter."""
    code = compile(source, name, "exec", dont_inherit=True)
    flags = (0b01).to_bytes(4, "little")  # hash-based, source never checked
    source_hash = importlib.util.source_hash(source)
    return importlib.util.MAGIC_NUMBER + flags + source_hash + marshal.dumps(code)


def add_handler(site_packages: Path) -> None:
    """Zappa's handler at the root of ``site_packages``, the modules it imports in ``zappa/``, compiled."""
    spec = importlib.util.find_spec("zappa")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("dev.zappa_package: Zappa is not installed in this environment (uv sync)")
    source = Path(spec.submodule_search_locations[0])
    package = site_packages / "zappa"
    package.mkdir(parents=True)
    for module in RUNTIME_MODULES:
        name = f"{module}.py"
        target = site_packages if module == HANDLER_MODULE else package
        (target / f"{name}c").write_bytes(compiled((source / name).read_bytes(), name))


def added_by_zappa(entry: zipfile.ZipInfo, names: set[str]) -> bool:
    """Whether ``entry`` is an empty ``__init__.py`` that Zappa added: none compiled beside it."""
    directory, _, name = entry.filename.rpartition("/")
    if name != "__init__.py" or entry.file_size:
        return False
    compiled = f"__pycache__/__init__.{sys.implementation.cache_tag}.pyc"
    return (f"{directory}/{compiled}" if directory else compiled) not in names


def finish(package: Path) -> None:
    """Rewrite the zip without Zappa's empty ``__init__.py`` files, its settings as bytecode."""
    rewritten = package.with_suffix(".tmp")
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        names = set(source.namelist())
        for entry in source.infolist():
            if added_by_zappa(entry, names):
                continue
            data = source.read(entry)
            if entry.filename == SETTINGS_MODULE:
                entry.filename = SETTINGS_MODULE + "c"
                data = compiled(data, SETTINGS_MODULE)
            target.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)
    rewritten.replace(package)


def unpack(package: Path, directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    with zipfile.ZipFile(package) as archive:
        archive.extractall(directory)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dev.zappa_package",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    handler = commands.add_parser("handler", help="add Zappa's handler, as bytecode")
    handler.add_argument("site_packages", type=Path, help="the site-packages of the virtualenv Zappa packs")
    finish_zip = commands.add_parser("finish", help="finish the zip `zappa package` wrote, and unpack it")
    finish_zip.add_argument("package", type=Path, help="the zip `zappa package` wrote")
    finish_zip.add_argument("directory", type=Path, help="where to unpack it")
    args = parser.parse_args(argv)
    if args.command == "handler":
        add_handler(args.site_packages)
        return 0
    with zipfile.ZipFile(args.package) as archive:
        names = archive.namelist()
    if SETTINGS_MODULE not in names:
        parser.error(f"{args.package} has no {SETTINGS_MODULE}: is it a package `zappa package` wrote?")
    finish(args.package)
    unpack(args.package, args.directory)
    print(f"{args.package}: {args.package.stat().st_size:,} bytes, unpacked in {args.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
