"""``tfformats export PATH OUT``: tensors to ``.npz`` or ``.safetensors``."""

from __future__ import annotations

import os

from ._common import EXIT_FAILED, EXIT_OK, add_filter_arguments, document, name_filter, print_json, usage_error, warn, write

HELP = "write variables or frozen-graph constants to .npz or .safetensors"
DESCRIPTION = """\
Export the tensors of a checkpoint, a SavedModel's variables, or the Const
nodes of a frozen graph to OUT:

  .npz          numpy's own format, written one tensor at a time.  Types numpy
                files cannot describe are widened without loss: bfloat16 and
                float8/float4 to float32, int4/int2 to int8, uint4/uint2 to uint8.
                Strings become fixed-width bytes arrays ('S' dtype, no pickle); a string
                tensor with a value ending in NUL bytes (which 'S' drops) is skipped.
  .safetensors  through the 'safetensors' package (pip install 'tfformats[safetensors]').
                bfloat16 stays BF16, float8 e4m3fn/e5m2(fnuz) stay F8_*; int4/int2
                are widened to int8 and the rest of the float8/float4 family to
                float32; strings, complex128 and resource/variant tensors are skipped.

The format comes from OUT's suffix or --format.  Names are kept as they are
(use --strip-attributes to drop TF2's '/.ATTRIBUTES/VARIABLE_VALUE' suffix)."""
EXAMPLES = """\
  tfformats export examples/sample_checkpoint weights.safetensors
  tfformats export model.ckpt-1000 weights.npz --glob 'model/*' --exclude '*OPTIMIZER_SLOT*'
  tfformats export frozen_graph.pb consts.npz
  tfformats export saved_model_dir out.safetensors --strip-attributes --json"""

ATTR_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
# numpy-file-unfriendly dtypes -> lossless wider numpy dtype
_WIDEN_NPZ = {
    "bfloat16": "float32",
    "float8_e5m2": "float32",
    "float8_e4m3fn": "float32",
    "float8_e4m3fnuz": "float32",
    "float8_e4m3b11fnuz": "float32",
    "float8_e5m2fnuz": "float32",
    "float4_e2m1fn": "float32",
    "int4": "int8",
    "int2": "int8",
    "uint4": "uint8",
    "uint2": "uint8",
}
_SAFETENSORS_NATIVE = {
    "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float16", "float32", "float64", "bfloat16", "float8_e4m3fn", "float8_e4m3fnuz",
    "float8_e5m2", "float8_e5m2fnuz", "complex64",
    # quantized types read as their integer base
    "qint8", "quint8", "qint16", "quint16", "qint32",
}
_WIDEN_SAFETENSORS = {k: v for k, v in _WIDEN_NPZ.items() if k not in _SAFETENSORS_NATIVE}


def add_arguments(p) -> None:
    p.add_argument("path", help="checkpoint, SavedModel directory or frozen graph")
    p.add_argument("out", help="output file: NAME.npz or NAME.safetensors")
    add_filter_arguments(p)
    p.add_argument("--format", choices=("npz", "safetensors"), help="output format (default: from OUT's suffix)")
    p.add_argument("--strip-attributes", action="store_true", help=f"drop the {ATTR_SUFFIX!r} suffix from names")
    p.add_argument("--compress", action="store_true", help="deflate the .npz members (slower, smaller)")
    p.add_argument("--force", "-f", action="store_true", help="overwrite OUT if it exists")
    p.add_argument("--strict", action="store_true", help="exit 1 when any selected tensor had to be skipped")


def _format(args) -> str:
    if args.format:
        return args.format
    low = args.out.lower()
    if low.endswith(".npz"):
        return "npz"
    if low.endswith(".safetensors"):
        return "safetensors"
    raise usage_error(f"cannot tell the format from {args.out!r}: name it .npz or .safetensors, or pass --format")


def _out_name(name: str, strip: bool) -> str:
    if strip and name.endswith(ATTR_SUFFIX):
        return name[: -len(ATTR_SUFFIX)]
    return name


def _prepare(arr, dtype: str, fmt: str):
    """``(array to store, stored dtype name)`` or ``(None, reason)``."""
    import numpy as np

    if dtype in ("resource", "variant"):
        return None, f"{dtype} tensors hold no data"
    if dtype == "string":
        if fmt == "safetensors":
            return None, "safetensors cannot store strings"
        flat = [v if isinstance(v, bytes) else bytes(v) for v in arr.reshape(-1)]
        if any(v.endswith(b"\0") for v in flat):
            # numpy's 'S' type drops trailing NUL bytes: refuse rather than lose them
            return None, "a string ends with NUL bytes, which a numpy bytes array cannot keep"
        width = max((len(v) for v in flat), default=0)
        if width == 0:
            return np.zeros(arr.shape, "S1"), "bytes"
        return np.array(flat, dtype=f"S{width}").reshape(arr.shape), "bytes"
    widen = (_WIDEN_NPZ if fmt == "npz" else _WIDEN_SAFETENSORS).get(dtype)
    if widen:
        return arr.astype(widen), widen
    if fmt == "safetensors" and dtype not in _SAFETENSORS_NATIVE:
        return None, f"safetensors has no {dtype} type"
    return arr, dtype


def run(args) -> int:
    fmt = _format(args)
    if fmt == "safetensors":
        try:
            import safetensors.numpy  # noqa: F401
        except ImportError:
            raise usage_error(
                "writing .safetensors needs the 'safetensors' package: pip install 'tfformats[safetensors]'"
            ) from None
    out = args.out
    if os.path.exists(out) and not args.force:
        raise usage_error(f"{out} exists (use --force to overwrite)")
    if os.path.isdir(out):
        raise usage_error(f"{out} is a directory")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise usage_error(f"{out}: the folder {parent} does not exist")

    from ._common import progress
    from ._detect import detect
    from ._sources import open_tensors

    target = detect(args.path)
    keep = name_filter(args)
    exported, skipped = [], []
    seen_out = {}
    tmp = out + ".tmp-tfformats"
    with open_tensors(target) as src:
        names = [n for n in src.names() if keep is None or keep(n)]
        for n in names:
            on = _out_name(n, args.strip_attributes)
            if on in seen_out:
                raise usage_error(f"--strip-attributes maps both {seen_out[on]!r} and {n!r} to {on!r}")
            seen_out[on] = n
        infos = {n: src.info(n) for n in names}
        total = sum(i.nbytes or 0 for i in infos.values())
        try:
            with progress(total, f"exporting to {os.path.basename(out)}", unit="B", enabled=not args.no_progress) as bar:
                if fmt == "npz":
                    _write_npz(src, names, infos, tmp, args, exported, skipped, bar)
                else:
                    _write_safetensors(src, names, infos, tmp, args, exported, skipped, bar)
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    ok = not (args.strict and skipped)
    if args.json:
        print_json(
            document(
                "export",
                path=target.given,
                kind=target.kind,
                out=out,
                format=fmt,
                exported=exported,
                skipped=skipped,
                bytes_written=os.path.getsize(out),
            )
        )
    else:
        from ._table import human_bytes

        write(f"wrote {len(exported)} tensors to {out} ({fmt}, {human_bytes(os.path.getsize(out))})")
        widened = [e for e in exported if e["stored_dtype"] != e["dtype"] and e["dtype"] != "string"]
        if widened:
            kinds = sorted({f"{e['dtype']}->{e['stored_dtype']}" for e in widened})
            write(f"widened {len(widened)} tensors without loss: {', '.join(kinds)}")
        for s in skipped:
            warn(f"skipped {s['name']} ({s['dtype']}): {s['reason']}")
        if not names:
            warn("no tensor matched the filters; the output is empty")
    return EXIT_OK if ok else EXIT_FAILED


def _prepare_value(src, name: str, info, fmt: str):
    """:func:`_prepare` of a tensor's value; ``(None, why)`` for a value the reader lists but
    cannot return (a Keras dataset in chunked storage, say), which is skipped like an
    unexportable dtype."""
    import numpy as np

    from ..errors import UnsupportedError

    try:
        value = src.get_for_export(name)
    except UnsupportedError as exc:
        return None, exc.message
    return _prepare(np.asarray(value), info.dtype, fmt)


def _write_npz(src, names, infos, tmp, args, exported, skipped, bar) -> None:
    import zipfile

    import numpy as np

    comp = zipfile.ZIP_DEFLATED if args.compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(tmp, "w", compression=comp, allowZip64=True) as zf:
        for n in names:
            info = infos[n]
            arr, stored = _prepare_value(src, n, info, "npz")
            if arr is None:
                skipped.append({"name": n, "dtype": info.dtype, "reason": stored})
                continue
            on = _out_name(n, args.strip_attributes)
            with zf.open(on + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, _contiguous(arr), allow_pickle=False)
            exported.append({"name": n, "key": on, "dtype": info.dtype, "stored_dtype": stored, "shape": list(arr.shape)})
            bar.update(info.nbytes or 0)


def _write_safetensors(src, names, infos, tmp, args, exported, skipped, bar) -> None:
    from safetensors.numpy import save_file

    tensors = {}
    for n in names:
        info = infos[n]
        arr, stored = _prepare_value(src, n, info, "safetensors")
        if arr is None:
            skipped.append({"name": n, "dtype": info.dtype, "reason": stored})
            continue
        on = _out_name(n, args.strip_attributes)
        tensors[on] = _contiguous(arr)
        exported.append({"name": n, "key": on, "dtype": info.dtype, "stored_dtype": stored, "shape": list(arr.shape)})
        bar.update(info.nbytes or 0)
    try:
        save_file(tensors, tmp, metadata={"format": "np", "source": "tfformats"})
    except Exception as exc:  # the binding's own error type: e.g. a dtype an old safetensors lacks
        from ._common import input_error

        raise input_error(f"safetensors could not write the file: {exc}") from None


def _contiguous(arr):
    """C-contiguous without changing the shape (np.ascontiguousarray turns scalars into 1-d)."""
    return arr if arr.flags.c_contiguous else arr.copy(order="C")
