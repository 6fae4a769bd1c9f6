"""Deferred imports: ``np = lazy_module("numpy")`` imports numpy on first use.

Keeps paths that never touch arrays (listing a checkpoint, ``--help``) from
paying numpy's import time.
"""

from __future__ import annotations

import importlib
import types


class _LazyModule(types.ModuleType):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_target"] = name

    def _load(self):
        module = importlib.import_module(self.__dict__["_lazy_target"])
        self.__dict__.update(module.__dict__)
        self.__dict__["_lazy_module"] = module
        return module

    def __getattr__(self, attr: str):
        return getattr(self._load(), attr)


def lazy_module(name: str):
    return _LazyModule(name)
