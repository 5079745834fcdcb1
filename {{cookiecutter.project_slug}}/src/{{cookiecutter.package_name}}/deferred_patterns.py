"""marshmallow's e-mail patterns, compiled when first used instead of at import.

marshmallow compiles its e-mail validator's two patterns as ``marshmallow.validate``
is imported (``Email.USER_REGEX``, ``Email.DOMAIN_REGEX``: a case-insensitive class
spanning nearly all of Unicode), 25-50 ms of every cold start for a validator this
API never uses. ``install()``, called by the package before anything imports
marshmallow, has the ``re.compile`` calls made while that one module is imported
return patterns that compile on first use; every other pattern compiles as usual.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from functools import cached_property
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # importlib.abc imports importlib.resources: more than this saves
    from importlib.abc import Loader

MODULE = "marshmallow.validate"
_compile = re.compile


class DeferredPattern:
    """What ``re.compile(pattern, flags)`` would return, compiled on first use."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._source = pattern
        self._flags = flags

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return _compile(self._source, self._flags)

    @property
    def is_compiled(self) -> bool:
        return "compiled" in vars(self)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # asked of every class attribute, e.g. by ABCMeta: not a use
            raise AttributeError(name)
        return getattr(self.compiled, name)


class _DeferringLoader:
    """The module's own loader, run with ``re.compile`` deferred."""

    def __init__(self, loader: Loader) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        re.compile = DeferredPattern  # type: ignore[assignment]
        try:
            self._loader.exec_module(module)
        finally:
            re.compile = _compile

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _Finder:
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != MODULE:
            return None
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = cast("Loader", _DeferringLoader(spec.loader))
        return spec


def install() -> None:
    """Defer the patterns of ``marshmallow.validate`` when it is imported from now on."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
