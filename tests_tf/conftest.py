"""Differential tests: run TensorFlow and tfformats on the same files.

Run in a virtual environment with tensorflow-cpu (``.ci/run`` makes one).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

tf = pytest.importorskip("tensorflow")
