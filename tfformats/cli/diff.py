"""``tfformats diff A B``: compare the tensors of two checkpoints (or SavedModels, frozen graphs)."""

from __future__ import annotations

from ._common import EXIT_FAILED, EXIT_OK, add_filter_arguments, document, name_filter, print_json, write

HELP = "compare two checkpoints/SavedModels/frozen graphs tensor by tensor"
DESCRIPTION = """\
Compare the tensors of A and B (checkpoints, SavedModels' variables, or the
Const nodes of frozen graphs, in any combination): tensors only in A
(removed), only in B (added), dtype or shape changes, and for common tensors
whether the values are identical or, if not, the largest absolute and
relative difference.  One tensor at a time is held in memory (two, for the
comparison).  Relative difference is |a-b| / max(|a|, |b|) per element.

Exit status 0 when A and B hold the same tensors with identical values (or
within --atol/--rtol when given), 1 when anything differs."""
EXAMPLES = """\
  tfformats diff run1/model.ckpt-1000 run2/model.ckpt-1000
  tfformats diff before_ckpt after_ckpt --glob '*kernel*' --json
  tfformats diff saved_model_v1 saved_model_v2 --names-only
  tfformats diff a.ckpt b.ckpt --atol 1e-6"""

CHUNK_ROWS_BYTES = 64 << 20


def add_arguments(p) -> None:
    p.add_argument("a", metavar="A", help="first checkpoint / SavedModel / frozen graph")
    p.add_argument("b", metavar="B", help="second checkpoint / SavedModel / frozen graph")
    add_filter_arguments(p)
    p.add_argument("--names-only", action="store_true", help="compare names, dtypes and shapes only; skip values")
    p.add_argument("--atol", type=float, default=None, help="values within this absolute tolerance count as equal")
    p.add_argument("--rtol", type=float, default=None, help="values within this relative tolerance count as equal")
    p.add_argument("--all", action="store_true", help="list identical tensors too in the table")
    p.add_argument("--no-verify", action="store_true", help="do not check tensor checksums (compare damaged files)")


def _num_kind(dtype):
    """``'c'``, ``'f'`` or ``'i'`` for numeric dtypes (ml_dtypes' bfloat16, float8 and int4 too), else None."""
    if dtype.kind == "c":
        return "c"
    if dtype.kind == "f":
        return "f"
    if dtype.kind in "biu":
        return "i"
    if dtype.kind == "V" and dtype.names is None:
        import ml_dtypes

        for info, kind in ((ml_dtypes.finfo, "f"), (ml_dtypes.iinfo, "i")):
            try:
                info(dtype)
                return kind
            except Exception:
                continue
    return None


def compare_values(a, b) -> dict:
    """Compare two arrays of the same shape: identical, or how different.

    Floats (bfloat16 and float8 included) compare as float64, NaN equal to
    NaN; integers compare exactly (int64 values above 2**53 included).
    """
    import numpy as np

    ka, kb = _num_kind(a.dtype), _num_kind(b.dtype)
    if ka is None or kb is None or a.dtype == object or b.dtype == object:
        same = a.shape == b.shape and all(x == y for x, y in zip(a.reshape(-1), b.reshape(-1)))
        if same:
            return {"identical": True}
        diff = sum(1 for x, y in zip(a.reshape(-1), b.reshape(-1)) if x != y)
        return {"identical": False, "num_different": diff}
    if a.dtype == b.dtype and _bytes_equal(a, b):
        return {"identical": True}
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    n = flat_a.size
    max_abs = 0.0
    max_rel = 0.0
    ndiff = 0
    nan_mismatch = 0
    step = max(1, CHUNK_ROWS_BYTES // 16)
    if "c" in (ka, kb):
        conv = np.complex128
    elif "f" in (ka, kb):
        conv = np.float64
    else:  # integers: exactly, in a type holding both (object when none does: int64 vs uint64)
        conv = np.result_type(*(np.int8 if d.kind == "b" else d for d in (a.dtype, b.dtype)))
        if conv.kind not in "iu":
            conv = object
    for s in range(0, n, step):
        x = flat_a[s : s + step].astype(conv)
        y = flat_b[s : s + step].astype(conv)
        if conv in (np.float64, np.complex128):
            xn, yn = np.isnan(x), np.isnan(y)
            nan_mismatch += int((xn != yn).sum())
            both = ~(xn | yn)
            x, y = x[both], y[both]
        neq = x != y
        ndiff += int(neq.sum())
        if not neq.any():
            continue
        x, y = x[neq], y[neq]
        if conv not in (np.float64, np.complex128):
            # exact differences of the integers that differ, as floats for the report
            d = np.array([abs(int(p) - int(q)) for p, q in zip(x.tolist(), y.tolist())], np.float64)
            den = np.array([max(abs(int(p)), abs(int(q))) for p, q in zip(x.tolist(), y.tolist())], np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                rel = np.where(den > 0, d / np.where(den > 0, den, 1), 0.0)
        else:
            with np.errstate(invalid="ignore", over="ignore"):
                d = np.abs(x - y)
                den = np.maximum(np.abs(x), np.abs(y))
                rel = np.where(den > 0, d / np.where(den > 0, den, 1), 0.0)
            d = np.where(np.isnan(d), np.inf, d)  # inf - inf: infinitely different
            rel = np.where(np.isnan(rel), np.inf, rel)
        max_abs = max(max_abs, float(d.max()))
        max_rel = max(max_rel, float(rel.max()))
    ndiff += nan_mismatch
    if ndiff == 0:
        # equal values, different bits (e.g. -0.0 vs 0.0, NaN payloads): identical as numbers
        return {"identical": True, "bitwise_identical": False}
    return {
        "identical": False,
        "num_different": ndiff,
        "nan_mismatch": nan_mismatch,
        "max_abs_diff": max_abs,
        "max_rel_diff": max_rel,
    }


def _bytes_equal(a, b) -> bool:
    """Bitwise equality, compared in chunks (no copy of the whole tensors)."""
    import numpy as np

    if a.shape != b.shape:
        return False
    fa = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
    fb = np.ascontiguousarray(b).reshape(-1).view(np.uint8)
    step = CHUNK_ROWS_BYTES
    for s in range(0, fa.size, step):
        if not np.array_equal(fa[s : s + step], fb[s : s + step]):
            return False
    return True


def run(args) -> int:
    from ._detect import detect
    from ._sources import open_tensors

    ta, tb = detect(args.a), detect(args.b)
    keep = name_filter(args)
    with open_tensors(ta, verify=not args.no_verify) as sa, open_tensors(tb, verify=not args.no_verify) as sb:
        names_a = [n for n in sa.names() if keep is None or keep(n)]
        names_b = [n for n in sb.names() if keep is None or keep(n)]
        set_a, set_b = set(names_a), set(names_b)
        removed = [n for n in names_a if n not in set_b]
        added = [n for n in names_b if n not in set_a]
        removed_specs = [{"name": n, "dtype": (i := sa.info(n)).dtype, "shape": i.shape} for n in removed]
        added_specs = [{"name": n, "dtype": (i := sb.info(n)).dtype, "shape": i.shape} for n in added]
        common = [n for n in names_a if n in set_b]
        results = []
        from ._common import progress

        with progress(len(common), "comparing", enabled=not args.no_progress and not args.names_only) as bar:
            for n in common:
                ia, ib = sa.info(n), sb.info(n)
                row = {"name": n, "dtype_a": ia.dtype, "dtype_b": ib.dtype, "shape_a": ia.shape, "shape_b": ib.shape}
                if ia.dtype != ib.dtype or ia.shape != ib.shape:
                    row["status"] = "dtype_changed" if ia.dtype != ib.dtype else "shape_changed"
                    if ia.dtype != ib.dtype and ia.shape != ib.shape:
                        row["status"] = "dtype_and_shape_changed"
                elif args.names_only:
                    row["status"] = "same_spec"
                else:
                    cmp = compare_values(sa.get_for_export(n), sb.get_for_export(n))
                    row.update(cmp)
                    if cmp["identical"]:
                        row["status"] = "identical"
                    elif (args.atol is not None or args.rtol is not None) and "max_abs_diff" in cmp and _within(cmp, args):
                        row["status"] = "close"
                    else:
                        row["status"] = "different"
                results.append(row)
                bar.update(1)
    changed = [r for r in results if r["status"] not in ("identical", "close", "same_spec")]
    same = not removed and not added and not changed
    if args.json:
        print_json(
            document(
                "diff",
                a={"path": ta.given, "kind": ta.kind},
                b={"path": tb.given, "kind": tb.kind},
                same=same,
                removed=removed_specs,
                added=added_specs,
                common=results,
                summary={
                    "removed": len(removed),
                    "added": len(added),
                    "common": len(results),
                    "identical": sum(r["status"] == "identical" for r in results),
                    "close": sum(r["status"] == "close" for r in results),
                    "different": sum(r["status"] == "different" for r in results),
                    "spec_changed": sum(r["status"].endswith("changed") for r in results),
                },
            )
        )
    else:
        _print_human(ta, tb, removed, added, results, args)
    return EXIT_OK if same else EXIT_FAILED


def _within(cmp: dict, args) -> bool:
    if cmp.get("nan_mismatch"):
        return False
    ok = True
    if args.atol is not None:
        ok = ok and cmp["max_abs_diff"] <= args.atol
    if args.rtol is not None:
        ok = ok and cmp["max_rel_diff"] <= args.rtol
    return ok


def _print_human(ta, tb, removed, added, results, args) -> None:
    from ._table import shape_str, table

    rows = []
    for n in removed:
        rows.append(["-", n, "only in A", ""])
    for n in added:
        rows.append(["+", n, "only in B", ""])
    for r in results:
        st = r["status"]
        if st in ("identical", "same_spec") and not args.all:
            continue
        if st.endswith("changed"):
            detail = f"{r['dtype_a']}{shape_str(r['shape_a'])} -> {r['dtype_b']}{shape_str(r['shape_b'])}"
        elif st in ("different", "close") and "max_abs_diff" in r:
            detail = f"max abs {r['max_abs_diff']:.3g}, max rel {r['max_rel_diff']:.3g}, {r['num_different']:,} elements differ"
            if r.get("nan_mismatch"):
                detail += f" ({r['nan_mismatch']:,} NaN in one side only)"
        elif "num_different" in r:
            detail = f"{r['num_different']:,} elements differ"
        else:
            detail = ""
        mark = {"identical": "=", "same_spec": "=", "close": "~"}.get(st, "!")
        rows.append([mark, r["name"], st.replace("_", " "), detail])
    write(f"A: {ta.given} ({ta.kind})")
    write(f"B: {tb.given} ({tb.kind})")
    if rows:
        write(table(["", "name", "status", "detail"], rows, align="llll"))
    ident = sum(r["status"] == "identical" for r in results)
    diffs = sum(r["status"] not in ("identical", "close", "same_spec") for r in results)
    close = sum(r["status"] == "close" for r in results)
    parts = [f"{len(removed)} removed", f"{len(added)} added", f"{len(results)} in common"]
    if not args.names_only:
        parts += [f"{ident} identical"] + ([f"{close} close"] if close else []) + [f"{diffs} changed"]
    else:
        parts += [f"{diffs} with a different dtype/shape"]
    write(", ".join(parts))
