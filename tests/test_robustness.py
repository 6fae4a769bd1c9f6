"""Property tests: damaged TensorFlow-written fixtures only ever raise TFFormatsError.

For every fixture kind (table, V2 bundle, V1 checkpoint, TensorProto,
GraphDef/MetaGraphDef, SavedModel, TFRecord in every compression, Example,
event file, the ``scan`` command), hypothesis takes a committed fixture and
truncates it, flips a bit, or rewrites one of its length fields (protobuf
length varints, table block handles and entry lengths, TFRecord lengths) with
an interesting or random value, then drives it through the same harness the
fuzzers use (``fuzz/harnesses.py``): the public readers, everything they
offer, and consistency checks between their answers.

What counts as a failure:

* any exception that is not a ``tfformats.TFFormatsError`` (the harness lets
  it through), including a ``MemoryError`` that is not the library's own
  ``ResourceLimitError``;
* resident memory growing by more than ``48 MiB + 64 x input size`` while one
  input is read (``fuzz.worker.checked``), and, to catch huge allocations that
  are never touched, an address-space cap (``resource.setrlimit``) while these
  tests run;
* one input running for more than ``HANG_SECONDS`` (an alarm, not a speed
  check: that is far beyond any legitimate time).

``TFFORMATS_ROBUSTNESS_EXAMPLES`` raises the number of examples per kind.
"""

from __future__ import annotations

import os
import resource
import sys

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from fuzz import harnesses, mutate, seeds, worker  # noqa: E402

EXAMPLES = int(os.environ.get("TFFORMATS_ROBUSTNESS_EXAMPLES", "50"))
HANG_SECONDS = 60.0
MULTI_FILE = {"bundle", "v1", "saved_model", "example"}


def _finder(name: str):
    if name in ("table", "bundle", "v1"):
        return mutate.table_length_fields
    if name in ("records", "events"):
        return mutate.record_length_fields
    return mutate.proto_length_fields


@pytest.fixture(scope="module")
def capped_address_space():
    """Lower the soft RLIMIT_AS for this module: a huge allocation fails (MemoryError, a
    failure) instead of succeeding lazily.  Restored afterwards."""
    if not sys.platform.startswith("linux"):
        yield
        return
    before = resource.getrlimit(resource.RLIMIT_AS)
    worker.cap_address_space(2 << 30)
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, before)


_RUNNERS: dict = {}


def _runner(name: str):
    if name not in _RUNNERS:
        h = harnesses.HARNESSES[name]
        worker.warm_up(h, [d for _, d in seeds.seeds(h.kind)][:4])
        _RUNNERS[name] = worker.checked(h, HANG_SECONDS, "rss" if sys.platform.startswith("linux") else "tracemalloc")
    return _RUNNERS[name]


def _harness_names():
    out = []
    for name, h in harnesses.HARNESSES.items():
        mark = pytest.mark.skipif(not h.available(), reason=f"{', '.join(h.needs or h.modules)} not in this checkout yet")
        out.append(pytest.param(name, marks=mark))
    return out


@st.composite
def damaged(draw, name: str):
    """A fixture of the harness's kind with one truncation, bit flip or length rewrite."""
    h = harnesses.HARNESSES[name]
    pool = seeds.seeds(h.kind)
    _label, data = draw(st.sampled_from(pool))
    if name == "scan":
        head, data = data[:1], data[1:]
    else:
        head = b""
    parts = mutate.unpack(data) if name in MULTI_FILE or (name == "scan" and head == b"\x00") else [data]
    i = draw(st.integers(0, len(parts) - 1))
    part = parts[i]
    op = draw(st.sampled_from(["truncate", "flip", "length"]))
    if op == "truncate" or not part:
        part = mutate.truncate(part, draw(st.integers(0, max(0, len(part) - 1))))
    elif op == "flip":
        part = mutate.flip(part, draw(st.integers(0, len(part) - 1)), 1 << draw(st.integers(0, 7)))
    else:
        fields = _finder(name)(part)
        value = draw(st.one_of(st.sampled_from(mutate.INTERESTING), st.integers(0, (1 << 64) - 1)))
        if not fields:
            part = mutate.rewrite_varint(part, draw(st.integers(0, len(part) - 1)), value)
        elif name in ("records", "events"):
            part = mutate.write_int(part, draw(st.sampled_from(fields)), value, 8)
        else:
            part = mutate.rewrite_varint(part, draw(st.sampled_from(fields)), value)
    parts[i] = part
    return head + (mutate.pack(*parts) if len(parts) > 1 else parts[0])


@pytest.mark.parametrize("name", _harness_names())
def test_damaged_fixtures_only_raise_library_errors(name, capped_address_space):
    run = _runner(name)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(damaged(name))
    def check(data):
        run(data)

    check()


@pytest.mark.parametrize("name", _harness_names())
def test_every_truncation_of_a_small_fixture(name, capped_address_space):
    """Cut the smallest fixture of each kind at 48 evenly spaced points (and at every
    one of its last 16 bytes, where footers and trailers live)."""
    run = _runner(name)
    h = harnesses.HARNESSES[name]
    label, data = min(seeds.seeds(h.kind), key=lambda s: (len(s[1]) < 64, len(s[1])))
    n = len(data)
    cuts = sorted({n * k // 48 for k in range(48)} | set(range(max(0, n - 16), n)))
    for at in cuts:
        run(data[:at])


def test_the_seeds_themselves_read_cleanly():
    """Every seed (an undamaged fixture) goes through its harness without a finding."""
    for name, h in harnesses.HARNESSES.items():
        if h.available():
            run = _runner(name)
            for label, data in seeds.seeds(h.kind):
                run(data)


# -- the guards themselves -----------------------------------------------------------------------
def test_guard_reports_a_runaway_allocation():
    import numpy as np

    def greedy(data: bytes) -> None:
        a = np.ones(200 << 20, np.uint8)  # 200 MiB, touched, for a 4-byte input
        assert a[-1] == 1

    run = worker.checked(greedy, HANG_SECONDS, "rss" if sys.platform.startswith("linux") else "tracemalloc")
    with pytest.raises(worker.AllocationFinding):
        run(b"tiny")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_address_space_cap_turns_a_huge_allocation_into_a_failure(capped_address_space):
    import numpy as np

    from tfformats import TFFormatsError

    def reckless(data: bytes) -> None:
        np.empty(1 << 40, np.uint8)  # 1 TiB, never touched: only the cap notices

    run = worker.checked(reckless, HANG_SECONDS, "none")
    with pytest.raises(MemoryError) as ei:
        run(b"tiny")
    assert not isinstance(ei.value, TFFormatsError)


def test_guard_reports_a_hang():
    import time

    run = worker.checked(lambda data: time.sleep(30), 0.2, "none")
    with pytest.raises(worker.HangFinding):
        run(b"")


def test_guard_lets_library_errors_through_quietly():
    from tfformats import DataLossError, ResourceLimitError

    def refuses(data: bytes) -> None:
        raise ResourceLimitError("too big", path="x")

    worker.checked(refuses, HANG_SECONDS, "none")(b"")

    def corrupt(data: bytes) -> None:
        raise DataLossError("bad", path="x")

    with pytest.raises(DataLossError):  # the harnesses catch these themselves
        worker.checked(corrupt, HANG_SECONDS, "none")(b"")
