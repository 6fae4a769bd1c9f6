"""``tfformats ls``: one line per variable or constant."""

from __future__ import annotations

from ._common import add_filter_arguments, document, name_filter, print_json, write

HELP = "list variables (checkpoints, SavedModels) or constants (graphs): name, dtype, shape, size"
DESCRIPTION = """\
List every tensor of a checkpoint (V1 or V2, by prefix, .index, .data shard or
directory), of a SavedModel's variables, or the Const nodes of a GraphDef /
frozen graph / MetaGraph.  Sorted by name like tf.train.list_variables."""
EXAMPLES = """\
  tfformats ls examples/sample_checkpoint
  tfformats ls model.ckpt-1000 --glob '*/kernel*' --json
  tfformats ls saved_model_dir --regex 'dense_[0-9]+' --exclude '*OPTIMIZER_SLOT*'
  tfformats ls frozen_graph.pb"""


def add_arguments(p) -> None:
    p.add_argument("path", help="checkpoint prefix/file/directory, SavedModel directory, or graph file")
    add_filter_arguments(p)
    p.add_argument("--long", "-l", action="store_true", help="also show bytes and whether a tensor is partitioned")


def run(args) -> int:
    from ._detect import detect
    from ._sources import open_tensors
    from ._table import human_bytes, shape_str, table

    target = detect(args.path)
    keep = name_filter(args)
    with open_tensors(target) as src:
        infos = [src.info(n) for n in src.names() if keep is None or keep(n)]
    if args.json:
        print_json(
            document(
                "ls",
                path=target.given,
                kind=target.kind,
                tensors=[
                    {
                        "name": i.name,
                        "dtype": i.dtype,
                        "shape": i.shape,
                        "size": i.size,
                        "nbytes": i.nbytes,
                        "kind": i.kind,
                        "partitioned": i.partitioned,
                        **({"layer": i.layer} if i.layer is not None else {}),
                    }
                    for i in infos
                ],
            )
        )
        return 0
    if not infos:
        write("(no tensors)" if keep is None else "(no tensor matches the filters)")
        return 0
    headers = ["name", "dtype", "shape", "size"]
    layers = any(i.layer is not None for i in infos)  # Keras 3.6+ files: the layers' own names
    rows = []
    for i in infos:
        row = [i.name, i.dtype, shape_str(i.shape), f"{i.size:,}"]
        if args.long:
            row += [human_bytes(i.nbytes) if i.nbytes is not None else "?", "yes" if i.partitioned else ""]
        if layers:
            row.append(i.layer or "")
        rows.append(row)
    if args.long:
        headers += ["bytes", "partitioned"]
    if layers:
        headers.append("layer")
    write(table(headers, rows, align="lllr" + ("rl" if args.long else "") + ("l" if layers else "")))
    return 0
