"""The command-line tool on tf.data saved datasets (``Dataset.save`` / ``snapshot`` folders)."""

from __future__ import annotations


def _leaf_rows(ds) -> list[dict]:
    from ..dataset import RaggedTensorSpec, SparseTensorSpec, TensorSpec

    rows = []
    for path, spec in ds.leaf_specs():
        if isinstance(spec, TensorSpec):
            kind = "tensor"
        elif isinstance(spec, RaggedTensorSpec):
            kind = f"ragged (ragged_rank {spec.ragged_rank})"
        elif isinstance(spec, SparseTensorSpec):
            kind = "sparse"
        else:
            kind = spec.type_name
        shape = getattr(spec, "shape", None)
        rows.append({"path": path, "kind": kind, "dtype": getattr(spec, "dtype", None), "shape": None if shape is None else list(shape)})
    return rows


def _shape(shape) -> str:
    if shape is None:
        return "?"
    return "[" + ", ".join("None" if d is None else str(d) for d in shape) + "]"


def dataset_info(target, *, show_progress: bool = True) -> tuple[dict, str]:
    from ..dataset import load_dataset
    from ._table import human_bytes, key_values, table

    ds = load_dataset(target.path)
    files = ds.files
    nbytes = sum(ds._fs.size(f) for f in files)
    s = {
        "writer": "Dataset.save" if ds.kind == "save" else "Dataset.snapshot",
        "format_version": ds.version,
        "compression": ds.compression or "NONE",
        "finalized": ds.finalized,
        "num_elements": ds.num_elements,
        "num_shards": ds.num_shards,
        "num_files": len(files),
        "file_bytes": nbytes,
        "run_id": ds.run_id,
        "components": _leaf_rows(ds),
    }
    if ds.structure_note:
        s["structure_note"] = ds.structure_note
    pairs = [
        ("kind", f"tf_dataset ({s['writer']}, file format {ds.version}, compression {s['compression']})"),
        ("elements", f"{ds.num_elements:,}" if ds.num_elements is not None else "not recorded (tfformats verify counts them)"),
        ("finished", "yes" if ds.finalized else "NO: the writer did not finish, elements may be missing"),
        ("shards", f"{ds.num_shards} ({len(files)} files, {human_bytes(nbytes)})"),
    ]
    text = key_values(pairs)
    if ds.kind == "snapshot" and not ds.structure_note:
        text += "\n(a snapshot records no element structure: its flat components are listed)"
    if ds.structure_note:
        text += f"\n({ds.structure_note})"
    text += "\n\n" + table(
        ["component", "kind", "dtype", "shape"],
        [[r["path"], r["kind"], r["dtype"] or "", _shape(r["shape"])] for r in s["components"]],
        align="llll",
    )
    return s, text


def verify_dataset(target, report, *, show_progress: bool = True) -> None:
    from ..dataset import load_dataset
    from ..errors import TFFormatsError
    from ._common import progress
    from ._graphcheck import problem
    from .verify import _from_exc

    try:
        ds = load_dataset(target.path)
    except TFFormatsError as exc:
        report.add(_from_exc(exc, file=target.path))
        return
    report.count("files", len(ds.files))
    if not ds.finalized:
        report.add(problem("the writer did not finish (snapshot.metadata not finalized): elements may be missing",
                           file=ds._fs.join(ds.path, "snapshot.metadata"), severity="warning"))
    n = 0
    with progress(ds.num_elements, "reading elements", enabled=show_progress) as bar:
        for i in range(ds.num_shards):
            try:
                for _ in ds.iter_flat(shard=i):
                    n += 1
                    bar.update(1)
            except TFFormatsError as exc:
                report.add(_from_exc(exc, file=ds.shards[i][0] if ds.shards[i] else None))
    report.count("elements", n)
    if ds.num_elements is not None and ds.finalized and n != ds.num_elements and report.ok:
        report.add(problem(f"{n} elements read, snapshot.metadata records {ds.num_elements}",
                           file=ds._fs.join(ds.path, "snapshot.metadata")))
