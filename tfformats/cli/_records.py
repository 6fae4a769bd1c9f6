"""TFRecord files, event files and log directories for ``info`` and ``verify``.

Records are read through :mod:`tfformats.records` (CRC of every length and
payload checked; damaged stretches skipped and listed with ``errors="skip"``).
Event payloads are parsed as ``tensorflow.Event`` protos here, which is all
``info`` and ``verify`` need: runs, tags, step ranges.
"""

from __future__ import annotations

from ._graphcheck import problem


def _event_files(target) -> list[str]:
    from ._detect import find_event_files

    if target.kind != "log_dir":
        return [target.path]
    if "runs" in target.details:  # a remote folder, listed once by detection
        return [f for files in target.details["runs"].values() for f in files]
    return find_event_files(target.path)


# -- verify ------------------------------------------------------------------------
def verify(target, report, *, show_progress: bool = True) -> None:
    from ._common import progress

    files = _event_files(target) if target.kind in ("event_file", "log_dir") else [target.path]
    events = target.kind in ("event_file", "log_dir")
    with progress(None, "verifying records", unit=" records", enabled=show_progress) as bar:
        for f in files:
            _verify_file(f, report, events=events, compression=None if events else target.details.get("compression"),
                         bar=bar)


def _verify_file(path: str, report, *, events: bool, compression=None, bar=None) -> None:
    from .. import records
    from ..errors import TFFormatsError

    n = 0
    if events:
        from ..events import _not_a_record_file

        foreign = _not_a_record_file(path)
        if foreign is not None:
            report.add(problem("named like an event file (TensorBoard reads every file with 'tfevents' in its name) "
                               "but not a TFRecord file: no valid record header at offset 0", file=path, offset=0))
            report.count("files")
            return
    try:
        comp = None if compression in (None, "NONE") else compression
        it = records.read(path, comp, errors="skip", tolerate_truncation=True)
        with it:
            for data in it:
                if events:
                    _check_event(data, n, path, report)
                n += 1
                if bar is not None and n % 1000 == 0:
                    bar.update(1000)
        for bad in it.bad_records:
            skipped = "the rest of the file" if bad.skipped is None else f"{bad.skipped} bytes"
            report.add(problem(f"{bad.reason} (skipped {skipped})", file=path, entry=f"record {bad.record}", offset=bad.offset))
        if it.truncated is not None:
            # an event file's writer may still be running: TensorBoard reads up to the cut; a
            # TFRecord file cut short is an error to tf.data
            t = it.truncated
            report.add(problem(f"truncated last record: {t.reason}" + (" (a writer still running?)" if events else ""),
                               file=path, entry=f"record {t.record}", offset=t.offset,
                               severity="warning" if events else "error"))
        elif it.unterminated is not None:
            report.add(problem(f"{it.unterminated}; its {n} records are whole and read as TensorFlow reads them",
                               file=path, severity="warning"))
        if it.ignored_data is not None:
            report.add(problem(it.ignored_data, file=path, severity="warning"))
    except (TFFormatsError, OSError) as exc:
        from .verify import _from_exc

        report.add(_from_exc(exc, file=path, entry=f"record {n}"))
    report.count("files")
    report.count("records", n)


def _check_event(data: bytes, i: int, path: str, report) -> None:
    from ..proto import pb

    try:
        ev = pb.Event.FromString(data)
    except Exception as exc:
        report.add(problem(f"record is not an Event: {exc}", file=path, entry=f"record {i}"))
        return
    if i == 0 and ev.WhichOneof("what") != "file_version":
        report.add(problem("the first event is not a file_version event", file=path, entry="record 0", severity="warning"))
    report.count("events")


# -- info ----------------------------------------------------------------------------
def tfrecord_info(target, *, show_progress: bool = True) -> tuple[dict, str]:
    from .. import records
    from ._detect import file_size
    from ._table import human_bytes, key_values

    comp = target.details.get("compression")
    sizes_min = sizes_max = None
    total = 0
    n = 0
    first = []
    from ._common import progress

    it = records.read(target.path, None if comp in (None, "NONE") else comp)
    with it, progress(None, "reading records", enabled=show_progress) as bar:
        for data in it:
            if n % 1000 == 999:
                bar.update(1000)
            k = len(data)
            total += k
            sizes_min = k if sizes_min is None else min(sizes_min, k)
            sizes_max = k if sizes_max is None else max(sizes_max, k)
            if n < 1000:
                first.append(bytes(data))
            n += 1
    schema = _example_schema(first)
    s = {
        "compression": comp or "NONE",
        "file_bytes": file_size(target, target.path),
        "num_records": n,
        "payload_bytes": total,
        "min_record_bytes": sizes_min,
        "max_record_bytes": sizes_max,
        "example_schema": schema,
    }
    pairs = [
        ("kind", f"tfrecord ({s['compression']})"),
        ("records", f"{n:,}"),
        ("payload", f"{human_bytes(total)} (records of {sizes_min}..{sizes_max} bytes)" if n else "0 B"),
        ("file", human_bytes(s["file_bytes"]) if s["file_bytes"] is not None else "size not reported"),
    ]
    text = key_values(pairs)
    if schema is not None and schema.get("error"):
        text += f"\n\nno Example schema fits the first {schema['records_examined']} records: {schema['error']}"
    elif schema is not None:
        from ._table import table

        n_ex = schema["records_examined"]
        rows = [
            [f["name"], f["kind"], f["type"] or "?", "variable" if f["shape"] is None else str(f["shape"]),
             f"{f['min_length']}..{f['max_length']}", f"{f['present']}/{n_ex}"]
            for f in schema["features"]
        ]
        text += f"\n\n{schema['message']} schema (from the first {n_ex} records):\n"
        text += table(["feature", "kind", "type", "shape", "values", "present in"], rows, indent="  ")
        text += "\n\nas a tf.io parsing spec:\n" + schema["tf_code"]
    return s, text


def _example_schema(payloads: list[bytes]) -> dict | None:
    """The schema :func:`tfformats.example.infer_schema` finds in the records, or None
    when they are not ``tf.train.Example``/``SequenceExample`` protos."""
    if not payloads:
        return None
    from ..errors import InvalidArgumentError, TFFormatsError
    from ..example import SequenceSchema, infer_schema

    try:
        schema = infer_schema(payloads)
    except InvalidArgumentError as exc:
        # Examples, but no one schema fits them (a feature of two kinds): say why
        return {"message": None, "records_examined": len(payloads), "features": [], "tf_code": None,
                "error": exc.message + (f" ({exc.entry})" if exc.entry else "")}
    except (TFFormatsError, ValueError):
        return None
    if isinstance(schema, SequenceSchema):
        parts = [("context", schema.context), ("feature_list", schema.feature_lists)]
        message, code = "SequenceExample", schema.to_tf_code()
    else:
        parts = [("feature", schema)]
        message, code = "Example", schema.to_tf_code()
    features = []
    for kind, sch in parts:
        for name in sorted(sch):
            spec = sch[name]
            f = {
                "name": name,
                "kind": kind,
                "type": spec.kind,
                "fixed_length": spec.fixed,
                "shape": list(spec.shape) if spec.shape is not None else None,
                "min_length": spec.min_length,
                "max_length": spec.max_length,
                "present": spec.present,
            }
            if spec.min_steps is not None:
                f["min_steps"], f["max_steps"] = spec.min_steps, spec.max_steps
            features.append(f)
    if not features:
        return None
    return {"message": message, "records_examined": len(payloads), "features": features, "tf_code": code}


def events_info(target, *, show_progress: bool = True) -> tuple[dict, str]:
    """Runs (directories of event files, as :func:`tfformats.events.find_runs` finds them)
    and, per run, every tag with its kind, count and step range (from
    :func:`tfformats.events.iter_summaries`, which names kinds the way TensorBoard does)."""
    from ..events import _summaries, find_runs
    from ._common import progress
    from ._table import table

    if target.kind == "event_file":
        found = {".": [target.path]}
    else:
        found = target.details.get("runs") or find_runs(target.path)
    out_runs = []
    n_values = 0
    with progress(None, "reading events", enabled=show_progress) as bar:
        for run, files in found.items():
            tags: dict[str, dict] = {}
            count = 0
            # a run's files read together: a tag's plugin, given once by its first value's
            # metadata, holds for the run's later files too (as in TensorBoard)
            for sm in _summaries({run: files}, None, None, True, "raise", in_dir=target.kind == "log_dir"):
                t = tags.get(sm.tag)
                if t is None:
                    t = tags[sm.tag] = {"kind": sm.kind, "count": 0, "first_step": sm.step, "last_step": sm.step,
                                        "min_step": sm.step, "max_step": sm.step}
                elif t["kind"] != sm.kind and sm.kind not in t["kind"].split("+"):
                    t["kind"] += "+" + sm.kind
                t["count"] += 1
                t["last_step"] = sm.step
                t["min_step"] = min(t["min_step"], sm.step)
                t["max_step"] = max(t["max_step"], sm.step)
                count += 1
                if count % 1000 == 0:
                    bar.update(1000)
            n_values += count
            out_runs.append({"run": run, "files": files, "values": count,
                             "tags": [{"tag": k, **v} for k, v in sorted(tags.items())]})
    s = {"num_files": sum(len(f) for f in found.values()), "num_values": n_values, "runs": out_runs}
    parts = [f"kind: {target.kind}", f"event files: {s['num_files']}", f"runs: {len(out_runs)}"]
    for r in out_runs:
        parts.append("")
        parts.append(f"run {r['run']!r}: {r['values']:,} summary values in {len(r['files'])} file(s)")
        if r["tags"]:
            rows = [[t["tag"], t["kind"], f"{t['count']:,}", f"{t['min_step']}..{t['max_step']}"] for t in r["tags"]]
            parts.append(table(["tag", "kind", "values", "steps"], rows, indent="  ", align="llrl"))
    return s, "\n".join(parts)
