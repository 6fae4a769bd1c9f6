"""Shared test helpers.  The main suite never imports TensorFlow."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def copy_fixture(tmp_path):
    """Copy a fixture file or directory (relative to tests/data) into tmp_path."""

    def _copy(rel: str) -> Path:
        src = DATA / rel
        dst = tmp_path / Path(rel).name
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
        return dst

    return _copy


def require_data(rel: str) -> Path:
    p = DATA / rel
    if not p.exists():
        pytest.fail(f"missing committed fixture {rel}: run tests/generate (see tests/generate/README.md)")
    return p
