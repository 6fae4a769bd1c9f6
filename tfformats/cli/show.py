"""``tfformats show``: one tensor's values (abbreviated) and statistics."""

from __future__ import annotations

from ._common import document, int_at_least, print_json, usage_error, write

HELP = "print a tensor's values (numpy-style, abbreviated) and statistics"
DESCRIPTION = """\
Print one tensor of a checkpoint, a SavedModel's variables or a graph's Const
nodes: dtype, shape, statistics (min, max, mean, std over finite values; NaN,
+Inf, -Inf and zero counts) and the values, abbreviated like numpy prints
them.  Strings show a few values and their lengths.  --rows reads only the
rows asked for (no checksum check is possible on a partial read)."""
EXAMPLES = """\
  tfformats show examples/sample_checkpoint model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE
  tfformats show model.ckpt embedding --rows 1000:1010
  tfformats show frozen_graph.pb conv1/weights --full
  tfformats show ckpt_dir global_step --json"""

CHUNK = 1 << 20  # elements per statistics chunk


def add_arguments(p) -> None:
    p.add_argument("path", help="checkpoint, SavedModel directory or graph file")
    p.add_argument("name", help="tensor (variable or Const node) name, as 'tfformats ls' prints it")
    p.add_argument("--rows", metavar="START:STOP", help="only rows START:STOP along the first axis")
    p.add_argument("--full", action="store_true", help="print every value (no abbreviation)")
    p.add_argument("--max-items", type=int_at_least(0), default=None, metavar="N",
                   help="abbreviate above N elements (default 1000, strings 20); JSON carries all values up to N")
    p.add_argument("--precision", type=int_at_least(0), default=6, metavar="P",
                   help="digits after the point for values, significant digits for statistics (default 6)")
    p.add_argument("--stats-only", action="store_true", help="statistics only, no values")


def _printable(arr):
    """ml_dtypes arrays (bfloat16, float8, int4...) as numpy types numpy's printer formats with
    ``precision`` (it leaves their own repr alone); the values are exact in float32/int8."""
    import numpy as np

    if arr.dtype.kind == "V" and arr.dtype.names is None:
        from .diff import _num_kind

        kind = _num_kind(arr.dtype)
        if kind == "f":
            return arr.astype(np.float32)
        if kind == "i":
            return arr.astype(np.int64)
    return arr


def _parse_rows(text: str) -> tuple[int, int | None]:
    try:
        if ":" in text:
            a, b = text.split(":", 1)
            return (int(a) if a.strip() else 0), (int(b) if b.strip() else None)
        i = int(text)
        return i, i + 1
    except ValueError:
        raise usage_error(f"--rows wants START:STOP with integers, not {text!r}") from None


def statistics(arr) -> dict:
    """Statistics of an array, computed in chunks (bounded extra memory)."""
    import numpy as np

    flat = arr.reshape(-1)
    n = flat.size
    kind = arr.dtype.kind
    if arr.dtype == object or kind in "SU":
        lengths = np.fromiter((len(v) if isinstance(v, (bytes, str)) else 0 for v in flat), np.int64, n)
        return {
            "count": n,
            "min_length": int(lengths.min()) if n else None,
            "max_length": int(lengths.max()) if n else None,
            "total_bytes": int(lengths.sum()),
            "empty": int((lengths == 0).sum()),
        }
    if kind == "b":
        t = int(np.count_nonzero(flat))
        return {"count": n, "true": t, "false": n - t}
    complex_ = kind == "c"
    stats = {"count": n, "nan": 0, "posinf": 0, "neginf": 0, "zeros": 0}
    lo = hi = None
    total_n = 0
    mean = 0.0
    m2 = 0.0
    for start in range(0, n, CHUNK):
        chunk = flat[start : start + CHUNK]
        if complex_:
            stats["nan"] += int(np.isnan(chunk).sum())
            stats["zeros"] += int((chunk == 0).sum())
            x = np.abs(chunk.astype(np.complex128))
        else:
            x = chunk.astype(np.float64)
            stats["nan"] += int(np.isnan(x).sum())
            stats["posinf"] += int(np.isposinf(x).sum())
            stats["neginf"] += int(np.isneginf(x).sum())
            stats["zeros"] += int((x == 0).sum())
        x = x[np.isfinite(x)]
        if not x.size:
            continue
        cmin, cmax = float(x.min()), float(x.max())
        lo = cmin if lo is None else min(lo, cmin)
        hi = cmax if hi is None else max(hi, cmax)
        # combine running (count, mean, M2) with the chunk's (Chan et al.)
        cn = x.size
        # values near the float64 limit: sums taken on scaled values so that they do not overflow
        big = max(abs(cmin), abs(cmax))
        scale = big if big > 1e300 else 1.0
        with np.errstate(over="ignore", invalid="ignore"):
            cmean = float((x / scale).mean()) * scale
            cm2 = float((((x - cmean) / scale) ** 2).sum()) * scale * scale
            if not total_n:
                mean, m2 = cmean, cm2
            else:
                delta = cmean - mean
                tot = total_n + cn
                mean += delta * cn / tot
                m2 += cm2 + delta * delta * total_n * cn / tot
        total_n += cn
    if kind in "iu" and lo is not None:
        lo, hi = int(flat.min()), int(flat.max())
    stats.update(
        {
            "finite": total_n,
            "min": lo,
            "max": hi,
            "mean": mean if total_n else None,
            "std": (m2 / total_n) ** 0.5 if total_n else None,
        }
    )
    if complex_:
        stats["of"] = "abs"
    if kind in "iu":
        for k in ("nan", "posinf", "neginf", "finite"):
            stats.pop(k)
    return stats


def _json_values(arr):
    import numpy as np

    if arr.dtype == object:  # strings: bytes values (iterating a 1-D array gives the values themselves)
        if arr.ndim <= 1:
            return arr.item() if arr.ndim == 0 else list(arr)
        return [_json_values(a) for a in arr]
    if arr.dtype.kind == "c":
        return [[float(v.real), float(v.imag)] for v in arr.reshape(-1)] if arr.ndim == 1 else (
            [_json_values(a) for a in arr] if arr.ndim else [float(arr.real), float(arr.imag)]
        )
    if arr.dtype.kind in "fV" or arr.dtype.kind not in "biu":
        arr = arr.astype(np.float64)
    return arr.tolist()


class _Clipped(bytes):
    """A long byte string shown by its start and its length."""

    def __repr__(self) -> str:
        return bytes.__repr__(self[: self.limit]) + f"...({self.total:,} bytes)"


def _clip_strings(arr, limit: int):
    import numpy as np

    out = np.empty(arr.shape, object)
    flat_in, flat_out = arr.reshape(-1), out.reshape(-1)
    for i, v in enumerate(flat_in):
        if isinstance(v, bytes) and len(v) > limit:
            c = _Clipped(v)
            c.limit, c.total = limit, len(v)
            v = c
        flat_out[i] = v
    return out


def _format_values(arr, *, threshold: int, precision: int) -> str:
    import shutil

    import numpy as np

    width = max(60, shutil.get_terminal_size((100, 24)).columns)
    with np.printoptions(threshold=threshold, edgeitems=3, precision=precision, linewidth=width):
        return np.array2string(arr, separator=", ")


def run(args) -> int:
    import numpy as np

    from ._detect import detect
    from ._sources import open_tensors
    from ._table import human_bytes, key_values, shape_str

    target = detect(args.path)
    with open_tensors(target) as src:
        if args.name not in src and args.name + "/.ATTRIBUTES/VARIABLE_VALUE" in src:
            args.name += "/.ATTRIBUTES/VARIABLE_VALUE"  # a TF2 object path names its variable's value
        if args.name not in src:
            import difflib

            close = difflib.get_close_matches(args.name, src.names(), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "; see 'tfformats ls'"
            raise usage_error(f"{target.given}: no tensor named {args.name!r}{hint}")
        info = src.info(args.name)
        selection = None
        if args.rows is not None:
            if not info.shape:
                raise usage_error("--rows needs a tensor with at least one dimension")
            start, stop = _parse_rows(args.rows)
            stop = info.shape[0] if stop is None else stop
            if start < 0:
                start += info.shape[0]
            if stop < 0:
                stop += info.shape[0]
            start, stop = max(0, min(start, info.shape[0])), max(0, min(stop, info.shape[0]))
            stop = max(start, stop)
            arr = src.get_rows(args.name, start, stop)
            selection = {"rows": [start, stop]}
        else:
            arr = src.get(args.name)
    arr = np.asarray(arr)
    stats = statistics(arr)
    limit = arr.size if args.full else (args.max_items if args.max_items is not None else 1000)
    if args.json:
        doc = document(
            "show",
            path=target.given,
            kind=target.kind,
            tensor={"name": info.name, "dtype": info.dtype, "shape": info.shape, "size": info.size, "nbytes": info.nbytes},
            selection=selection,
            statistics=stats,
        )
        if not args.stats_only:
            doc["values"] = _json_values(arr) if arr.size <= limit else None
            doc["values_truncated"] = arr.size > limit
            head = arr.reshape(-1)[: min(arr.size, limit)]
            doc["head"] = _json_values(head)
        print_json(doc)
        return 0
    lines = [
        ("name", info.name),
        ("dtype", info.dtype),
        ("shape", shape_str(info.shape)),
        ("size", f"{info.size:,} elements" + (f" ({human_bytes(info.nbytes)})" if info.nbytes is not None else "")),
    ]
    if selection:
        lines.append(("rows", f"{selection['rows'][0]}:{selection['rows'][1]} (shape {shape_str(list(arr.shape))})"))
    for k, v in stats.items():
        if isinstance(v, float):
            v = f"{v:.{args.precision}g}"
        elif isinstance(v, int) and not isinstance(v, bool):
            v = f"{v:,}"
        lines.append((k, v))
    write(key_values(lines))
    if not args.stats_only:
        # printed strings are abbreviated above 20 unless --max-items says otherwise
        max_items = args.max_items if args.max_items is not None else (20 if arr.dtype == object else 1000)
        threshold = arr.size + 1 if args.full else max(1, max_items)
        if arr.dtype == object and not args.full:
            arr = _clip_strings(arr, 80)
        write("values:")
        write(_format_values(_printable(arr), threshold=threshold, precision=args.precision))
    return 0
