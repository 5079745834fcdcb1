"""Finish the package ``zappa package`` wrote, then unpack it as Lambda's ``/var/task`` holds it.

    python -m dev.zappa_package .zappa/dev.zip .zappa/package

Run by ``make build`` with the runtime's Python. ``make build`` lays out the
dependencies as bytecode with no source, and Zappa packs them, then changes
two things this undoes:

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


def compiled(source: bytes, name: str) -> bytes:
    """An unchecked-hash ``.pyc`` (PEP 552) of ``source``, for this interpreter."""
    code = compile(source, name, "exec", dont_inherit=True)
    flags = (0b01).to_bytes(4, "little")  # hash-based, source never checked
    source_hash = importlib.util.source_hash(source)
    return importlib.util.MAGIC_NUMBER + flags + source_hash + marshal.dumps(code)


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
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("package", type=Path, help="the zip `zappa package` wrote")
    parser.add_argument("directory", type=Path, help="where to unpack it")
    args = parser.parse_args(argv)
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
