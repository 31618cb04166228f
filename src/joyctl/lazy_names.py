"""A package's names loaded with the module that defines each, on first use (PEP 562).

A package that re-exports its modules' names would import them all whenever any one of its
modules is imported; start-up then pays for code the command never runs. Such a package keeps
its imports under `TYPE_CHECKING` (for readers and mypy) and a table of where each name lives.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_getattr(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """The package's `__getattr__`: imports a name's module once and keeps the name."""

    def getattr_(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home), name)
        setattr(sys.modules[package], name, value)
        return value

    return getattr_
