"""Run the fuzz harnesses for a given time and record executions and findings.

    python fuzz/run.py --seconds 300                 # every harness, 5 minutes each
    python fuzz/run.py --seconds 60 --harness bundle --harness table
    python fuzz/run.py --smoke                       # CI: a fixed 600-input pass each, fails on a finding
    python fuzz/run.py --list

Each harness runs in its own process (``fuzz/worker.py``), so a crash of the
interpreter is caught and reported like any other finding.  The engine is
atheris (coverage-guided libFuzzer) when it is installed, otherwise a
pure-Python mutation driver over the same harness functions (``--engine``
chooses).  Inputs of findings go to ``fuzz/findings/``; the corpora grow in
``fuzz/corpus/`` (both ignored by git).  Unless ``--no-record`` (implied by
``--smoke``), one JSON line per harness run is appended to ``fuzz/runs.jsonl``,
which ``docs/robustness.md`` reports from.  Exit status 1 when anything was found.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import importlib.util
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

SMOKE_SECONDS = 8
# The smoke pass is a fixed sequence of inputs: a fixed seed, a fixed number of
# executions, a fresh empty corpus, hash seed 0.  What passes here passes in CI;
# finding new bugs is the job of the long runs, not of a gate.
SMOKE_RUNS = 600
SMOKE_SEED = 1


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _engine(choice: str) -> str:
    if choice != "auto":
        return choice
    return "atheris" if importlib.util.find_spec("atheris") is not None else "mutate"


def _parse_atheris(output: str) -> dict:
    execs = None
    for pattern in (r"stat::number_of_executed_units:\s*(\d+)", r"Done (\d+) runs in", r"#(\d+)\s"):
        found = re.findall(pattern, output)
        if found:
            execs = int(found[-1])
            break
    corpus = re.findall(r"#\d+\s+\w+\s+cov: \d+ ft: \d+ corp: (\d+)", output)
    cov = re.findall(r"cov: (\d+) ft: (\d+)", output)
    result = {"executions": execs or 0, "corpus": int(corpus[-1]) if corpus else None}
    if cov:
        result["coverage"] = {"edges": int(cov[-1][0]), "features": int(cov[-1][1])}
    return result


def run_harness(name: str, args, engine: str) -> dict:
    """One harness for ``args.seconds`` / ``args.runs``, in worker processes of at most ``args.segment`` executions.

    atheris' instrumentation holds on to memory as it runs (about 15 KB per
    execution of the example harness, none without instrumentation), so a
    long run in one process ends in the address-space cap, a false finding.
    Each segment is a fresh worker that resumes from the shared corpus; the
    executions add up, and the first finding ends the run.
    """
    if engine != "atheris" or not args.segment:
        return run_one(name, args, engine, args.seconds, args.runs, args.seed)
    started = time.monotonic()
    total: dict = {"harness": name, "engine": engine, "executions": 0, "findings": [], "artifacts": [], "segments": 0}
    while True:
        left = args.seconds - (time.monotonic() - started)
        want = args.segment if not args.runs else min(args.segment, args.runs - total["executions"])
        if left < 1 or want <= 0:
            break
        seed = args.seed + total["segments"] if args.seed else 0
        part = run_one(name, args, engine, left, want, seed)
        total["segments"] += 1
        total["executions"] += part.get("executions") or 0
        total["findings"] += part["findings"]
        total["artifacts"] += part.get("artifacts", [])
        for key in ("corpus", "coverage"):
            if part.get(key) is not None:
                total[key] = part[key]
        if part["findings"] or (part.get("executions") or 0) < want:  # a finding, or stopped by the clock
            break
    total["seconds"] = round(time.monotonic() - started, 1)
    return total


def run_one(name: str, args, engine: str, seconds: float, runs: int, seed: int) -> dict:
    cmd = [
        sys.executable, os.path.join(HERE, "worker.py"), engine, name,
        "--seconds", str(seconds), "--timeout", str(args.timeout),
        "--out", args.findings, "--corpus", args.corpus, "--seed", str(seed),
    ]
    if runs:
        cmd += ["--runs", str(runs)]
    cmd += ["--mem-check", args.mem_check]
    os.makedirs(args.findings, exist_ok=True)
    before = set(glob.glob(os.path.join(args.findings, f"{name}-*")))
    started = time.monotonic()
    env = dict(os.environ, PYTHONHASHSEED="0")
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, errors="replace", timeout=seconds + 300, env=env, cwd=ROOT
        )
        out, code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode("utf-8", "replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        code = "timeout"
    elapsed = round(time.monotonic() - started, 1)
    result: dict = {"harness": name, "engine": engine, "seconds": elapsed}
    if engine == "mutate":
        line = next((ln for ln in reversed(out.splitlines()) if ln.startswith("FUZZRESULT ")), None)
        if line:
            result.update(json.loads(line[len("FUZZRESULT "):]))
            result["findings"] = sorted(result["findings"])
        else:
            result.update({"executions": None, "findings": [f"process died ({code})"]})
            current = os.path.join(args.findings, f".current-{name}")
            if os.path.exists(current):
                os.replace(current, os.path.join(args.findings, f"{name}-crash-{int(time.time())}.bin"))
    else:
        result.update(_parse_atheris(out))
        new = sorted(set(glob.glob(os.path.join(args.findings, f"{name}-*"))) - before)
        findings = []
        if code != 0:
            kind = re.search(r"(ERROR: libFuzzer: [^\n]+|Uncaught Python exception: ?\n?[^\n]*|=== [^\n]+ ===)", out)
            tb = re.findall(r'File "([^"]*/tfformats/[^"]+)", line (\d+)', out)
            where = f" at {os.path.relpath(tb[-1][0], ROOT)}:{tb[-1][1]}" if tb else ""
            # the exception line: "Name: message", where Name may be lower case (struct.error, zlib.error)
            exc = re.findall(r"^([\w.]+(?:Error|Exception|Finding|Mismatch|Exit|error)\b[^\n]*)$", out, re.M)
            if not exc:
                exc = re.findall(r"=== Uncaught Python exception: ===\s*\n([^\n]+)", out)
            findings.append(((exc[-1] if exc else kind.group(1) if kind else f"exit {code}") + where)[:300])
        result["findings"] = findings
        result["artifacts"] = [os.path.relpath(p, ROOT) for p in new]
        if code != 0 and args.verbose:
            print(out[-6000:], file=sys.stderr, flush=True)
    return result


def report(record: str, since: str = "") -> str:
    """A markdown table of the recorded runs (those dated ``since`` or later), totalled per harness.

    "clean since last finding" adds up the executions of the runs after the
    harness's last run that found something: the inputs tried against code in
    which that finding was already fixed, with nothing new found.
    """
    try:
        with open(record) as f:
            runs = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return "(no runs recorded)"
    runs = sorted((r for r in runs if r.get("date", "") >= since), key=lambda r: r.get("date", ""))
    rows: dict = {}
    for r in runs:
        t = rows.setdefault(r["harness"], {"runs": 0, "seconds": 0.0, "executions": 0, "findings": 0, "engines": set(),
                                            "clean": 0, "first": r.get("date", ""), "last": "", "commits": []})
        t["runs"] += 1
        t["seconds"] += r.get("seconds") or 0
        t["executions"] += r.get("executions") or 0
        t["findings"] += len(r.get("findings") or [])
        t["clean"] = 0 if r.get("findings") else t["clean"] + (r.get("executions") or 0)
        t["engines"].add(r.get("engine", "?"))
        t["last"] = r.get("date", "")
        if r.get("commit") and r["commit"] not in t["commits"]:
            t["commits"].append(r["commit"])
    lines = [
        "| harness | runs | engine | time | executions | findings | clean since last finding | commits |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for name, t in sorted(rows.items()):
        lines.append(
            f"| {name} | {t['runs']} | {', '.join(sorted(t['engines']))} | {t['seconds'] / 60:.1f} min "
            f"| {t['executions']:,} | {t['findings']} | {t['clean']:,} | {', '.join(t['commits'])} |"
        )
    total = sum(t["executions"] for t in rows.values())
    lines.append(f"| **all** | {sum(t['runs'] for t in rows.values())} | | "
                 f"{sum(t['seconds'] for t in rows.values()) / 60:.1f} min | {total:,} | "
                 f"{sum(t['findings'] for t in rows.values())} | {sum(t['clean'] for t in rows.values()):,} | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    from fuzz.harnesses import HARNESSES

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60, help="time per harness (default 60)")
    p.add_argument("--harness", action="append", choices=sorted(HARNESSES), help="run only these (repeatable)")
    p.add_argument("--engine", choices=["auto", "atheris", "mutate"], default="auto")
    p.add_argument("--smoke", action="store_true", help=f"CI pass: seed {SMOKE_SEED}, {SMOKE_RUNS} executions (at most {SMOKE_SECONDS} s) per harness, fresh corpus, no record")
    p.add_argument("--runs", type=int, default=0, help="stop each harness after this many executions")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--segment", type=int, default=50_000,
        help="atheris: restart the worker (resuming from the corpus) every this many executions; 0: never",
    )
    p.add_argument("--timeout", type=float, default=20, help="seconds one input may take before it is a hang")
    p.add_argument(
        "--mem-check", choices=["rss", "tracemalloc", "none"], default="rss",
        help="how memory growth per input is measured (default rss: peak resident set, cheap)",
    )
    p.add_argument("--no-record", action="store_true", help="do not append to fuzz/runs.jsonl")
    p.add_argument("--record", default=os.path.join(HERE, "runs.jsonl"))
    p.add_argument("--findings", default=os.path.join(HERE, "findings"))
    p.add_argument("--corpus", default=os.path.join(HERE, "corpus"))
    p.add_argument("--list", action="store_true", help="list the harnesses and exit")
    p.add_argument("--report", action="store_true", help="summarize the recorded runs (markdown) and exit")
    p.add_argument("--since", default="", help="with --report: only runs dated this ISO date/time or later")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)

    if args.list:
        for name, h in HARNESSES.items():
            state = "ready" if h.available() else "module not in this checkout"
            print(f"{name:14} {state:28} {h.doc}")
        return 0
    if args.report:
        print(report(args.record, args.since))
        return 0
    if args.smoke:
        import tempfile

        args.seconds = SMOKE_SECONDS
        args.runs = args.runs or SMOKE_RUNS
        args.seed = args.seed or SMOKE_SEED
        args.corpus = tempfile.mkdtemp(prefix="tfformats-smoke-corpus-")
        import atexit
        import shutil

        atexit.register(shutil.rmtree, args.corpus, True)
        args.no_record = True
        args.verbose = True
    engine = _engine(args.engine)
    names = args.harness or list(HARNESSES)
    failed = False
    commit = _git_commit()
    limit = f"{args.seconds:g} s" + (f" or {args.runs} executions" if args.runs else "")
    print(f"engine: {engine}; {limit} per harness" + (f", seed {args.seed}" if args.seed else ""), flush=True)
    for name in names:
        h = HARNESSES[name]
        if not h.available():
            print(f"{name:14} skipped: {', '.join(h.needs or h.modules)} not in this checkout", flush=True)
            continue
        result = run_harness(name, args, engine)
        result["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        result["commit"] = commit
        status = "FINDINGS: " + "; ".join(result["findings"]) if result["findings"] else "no findings"
        print(f"{name:14} {result.get('executions') or 0:>9} executions in {result['seconds']:>6} s  {status}", flush=True)
        failed |= bool(result["findings"])
        if not args.no_record:
            with open(args.record, "a") as f:
                f.write(json.dumps(result, sort_keys=True) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
