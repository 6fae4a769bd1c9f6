"""Run one harness in this process (started by ``fuzz/run.py``, one process per harness).

    python fuzz/worker.py atheris NAME --seconds N [--runs N] --out DIR
    python fuzz/worker.py mutate  NAME --seconds N [--runs N] --out DIR [--seed S]

Both engines wrap the harness in :func:`checked`, which turns three more
failures into findings: memory growth during one input (peak RSS, or
tracemalloc's peak with ``--mem-check tracemalloc``) above
``ALLOC_BASE + ALLOC_FACTOR * len(input)``, a harness that runs past
``--timeout`` seconds (a hang), and a ``MemoryError`` that is not the
library's ``ResourceLimitError`` (the process address space is capped).

The last line on stdout is ``FUZZRESULT {json}`` with executions and findings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import signal
import sys
import time
import traceback
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

ALLOC_BASE = 48 << 20
ALLOC_FACTOR = 64
AS_HEADROOM = 3 << 30  # address space allowed above what the process maps at start


class AllocationFinding(AssertionError):
    pass


class HangFinding(AssertionError):
    pass


def alloc_limit(n: int) -> int:
    return ALLOC_BASE + ALLOC_FACTOR * n


def cap_address_space(headroom: int = AS_HEADROOM) -> None:
    """Lower RLIMIT_AS to what the process maps now plus ``headroom``."""
    try:
        with open("/proc/self/status") as f:
            vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    except (OSError, StopIteration):
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = vm + headroom
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def _on_alarm(signum, frame):
    raise HangFinding("the harness ran past its time limit (a hang)")


def _vm(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def checked(harness, timeout: float, mem_check: str = "rss"):
    """The harness as a one-input callable that raises on every kind of finding.

    ``mem_check``: ``"rss"`` measures the growth of the peak resident set
    during the input (cheap; sees memory that is touched), ``"tracemalloc"``
    the peak of traced allocations (sees every numpy buffer, touched or not,
    but slows allocation-heavy harnesses ~10x), ``"none"`` skips the check.
    Either way the address-space cap turns a huge untouched allocation into
    a MemoryError, which is a finding too.
    """
    from tfformats import ResourceLimitError

    signal.signal(signal.SIGALRM, _on_alarm)
    if mem_check == "rss" and not _reset_peak_rss():
        mem_check = "tracemalloc"
    if mem_check == "tracemalloc" and not tracemalloc.is_tracing():
        tracemalloc.start(1)

    def run(data: bytes) -> None:
        if mem_check == "tracemalloc":
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
        elif mem_check == "rss":
            _reset_peak_rss()
            before = _vm("VmRSS:")
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            harness(data)
        except ResourceLimitError:
            pass
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if mem_check == "none":
            return
        if mem_check == "tracemalloc":
            peak = tracemalloc.get_traced_memory()[1] - before
        else:
            peak = _vm("VmHWM:") - before
        if peak > alloc_limit(len(data)):
            raise AllocationFinding(
                f"{mem_check}: {peak} bytes at peak for a {len(data)}-byte input (limit {alloc_limit(len(data))})"
            )

    return run


def warm_up(harness, inputs) -> None:
    """Run the seeds once unchecked: first calls load modules and build caches."""
    from tfformats import TFFormatsError

    for data in inputs:
        try:
            harness(data)
        except (TFFormatsError, Exception):  # noqa: BLE001 - the checked runs report these
            pass


def signature(exc: BaseException) -> str:
    """Where a finding comes from: exception type and the innermost tfformats frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/tfformats/" in f.filename] or frames[-1:]
    where = f"{os.path.relpath(ours[-1].filename, ROOT)}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__} at {where}"


def save_finding(out: str, name: str, data: bytes, exc: BaseException) -> str:
    os.makedirs(out, exist_ok=True)
    digest = hashlib.sha1(data).hexdigest()[:16]
    path = os.path.join(out, f"{name}-{digest}")
    with open(path + ".bin", "wb") as f:
        f.write(data)
    with open(path + ".txt", "w") as f:
        f.write(signature(exc) + "\n\n" + "".join(traceback.format_exception(exc)))
    return path + ".bin"


# -- the fallback engine: random mutations of the seeds, outcome-diversity feedback ---------------
def run_mutate(harness, args) -> dict:
    from fuzz import mutate, seeds

    corpus = [d for _, d in seeds.seeds(harness.kind)]
    if not corpus:
        corpus = [b""]
    originals = list(corpus)
    rng = random.Random(args.seed)
    m = mutate.Mutator(rng)
    warm_up(harness, originals)
    run = checked(harness, args.timeout, args.mem_check)
    os.makedirs(args.out, exist_ok=True)
    # The input being run, so that a crash of the whole process leaves it behind.
    current = os.open(os.path.join(args.out, f".current-{harness.name}"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    outcomes: set = set()
    findings: dict[str, str] = {}
    execs = 0
    slowest = [0.0, 0]  # seconds, input size
    start = time.monotonic()
    deadline = start + args.seconds
    for d in originals:  # every seed first, unmutated
        execs += 1
        _one(run, d, harness, args, findings, outcomes, corpus, False, current)
    while time.monotonic() < deadline and (not args.runs or execs < args.runs):
        data = m.mutate(rng.choice(corpus), originals)
        if len(data) > args.max_len:
            data = data[: args.max_len]
        execs += 1
        t0 = time.monotonic()
        _one(run, data, harness, args, findings, outcomes, corpus, True, current)
        took = time.monotonic() - t0
        if took > slowest[0]:
            slowest[:] = [took, len(data)]
            with open(os.path.join(args.out, f"slowest-{harness.name}.bin"), "wb") as f:
                f.write(data)
    os.close(current)
    os.unlink(os.path.join(args.out, f".current-{harness.name}"))
    return {"executions": execs, "seconds": round(time.monotonic() - start, 1), "corpus": len(corpus),
            "distinct_outcomes": len(outcomes), "slowest_input": {"seconds": round(slowest[0], 3), "bytes": slowest[1]},
            "findings": findings}


def _one(run, data, harness, args, findings, outcomes, corpus, keep, current=None):
    """Run one input; record a finding, or keep the input if it led somewhere new."""
    from fuzz import harnesses
    from tfformats import TFFormatsError

    if current is not None:
        os.ftruncate(current, 0)
        os.pwrite(current, data, 0)
    try:
        run(data)
    except TFFormatsError as exc:  # raised outside the harness's own guards
        harnesses.note(exc)
    except Exception as exc:  # noqa: BLE001 - every other exception is a finding
        sig = signature(exc)
        if sig not in findings:
            findings[sig] = save_finding(args.out, harness.name, data, exc)
            print(f"FINDING {sig}", flush=True)
        return
    if len(harnesses.SEEN) > len(outcomes):
        outcomes.update(harnesses.SEEN)
        if keep and len(corpus) < 4096:
            corpus.append(data)


# -- atheris (libFuzzer, coverage guided) ----------------------------------------------------------
def run_atheris(harness, args) -> None:
    import importlib

    import atheris

    # Libraries we do not fuzz are imported before instrumentation starts.
    import numpy  # noqa: F401
    import google.protobuf.message  # noqa: F401
    import crc32c  # noqa: F401
    import ml_dtypes  # noqa: F401

    try:
        import snappy  # noqa: F401
    except ImportError:
        pass
    from fuzz import seeds
    from tfformats.proto import pb

    pb.TensorProto  # build the descriptor pool outside the timed runs
    with atheris.instrument_imports(include=["tfformats"]):
        for mod in harness.modules:
            try:
                importlib.import_module(mod)
            except ImportError:
                pass
    warm_up(harness, [d for _, d in seeds.seeds(harness.kind)])
    run = checked(harness, args.timeout, args.mem_check)

    corpus_dir = os.path.join(args.corpus, harness.name)
    seed_dir = os.path.join(args.corpus, harness.name + ".seeds")
    os.makedirs(corpus_dir, exist_ok=True)
    os.makedirs(seed_dir, exist_ok=True)
    for f in os.listdir(seed_dir):
        os.unlink(os.path.join(seed_dir, f))
    longest = 0
    for i, (label, data) in enumerate(seeds.seeds(harness.kind)):
        longest = max(longest, len(data))
        with open(os.path.join(seed_dir, f"seed-{i:03d}"), "wb") as f:
            f.write(data)
    os.makedirs(args.out, exist_ok=True)
    lf = [
        sys.argv[0],
        f"-max_total_time={max(1, int(args.seconds))}",
        f"-timeout={int(args.timeout) + 5}",
        "-rss_limit_mb=4096",
        f"-max_len={min(args.max_len, max(4096, 2 * longest))}",
        f"-artifact_prefix={os.path.join(args.out, harness.name)}-",
        "-print_final_stats=1",
        f"-seed={args.seed or 0}",
    ]
    if args.runs:
        lf.append(f"-runs={args.runs}")
    lf += [corpus_dir, seed_dir]

    def one_input(data: bytes) -> None:
        from tfformats import TFFormatsError

        try:
            run(data)
        except TFFormatsError:
            pass

    atheris.Setup(lf, one_input)
    atheris.Fuzz()  # exits the process


def main(argv=None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("engine", choices=["atheris", "mutate"])
    p.add_argument("harness")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--runs", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--max-len", type=int, default=1 << 20)
    p.add_argument("--out", default=os.path.join(ROOT, "fuzz", "findings"))
    p.add_argument("--corpus", default=os.path.join(ROOT, "fuzz", "corpus"))
    p.add_argument("--mem-check", choices=["rss", "tracemalloc", "none"], default="rss")
    args = p.parse_args(argv)

    from fuzz.harnesses import HARNESSES

    harness = HARNESSES[args.harness]
    cap_address_space()
    if args.engine == "atheris":
        run_atheris(harness, args)
        return
    result = run_mutate(harness, args)
    print("FUZZRESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
