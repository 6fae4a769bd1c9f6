"""``tfformats info``: what is this file, and a summary of it."""

from __future__ import annotations

import os
import re


from ._common import document, print_json, write

HELP = "detect what a path holds and summarize it"
DESCRIPTION = """\
Detect what PATH is from its content and summarize it:
  checkpoints       variable count, parameters, bytes, dtypes, shards, object graph
  graphs            node count, op histogram, inputs/outputs, variables, TF version
  SavedModels       tag sets, signatures, variables, assets, functions
  TFRecords         record count, compression, inferred tf.train.Example schema
  event files/dirs  runs, tags and step ranges
  Keras .keras/.h5  Keras version, model class, layer classes (HDF5 .h5 models
                    and Keras 2.12 HDF5 .keras files are read without h5py)"""
EXAMPLES = """\
  tfformats info examples/sample_checkpoint
  tfformats info model.ckpt-1000.index --json
  tfformats info saved_model_dir
  tfformats info train.tfrecord
  tfformats info logs/
  tfformats info model.h5"""


def add_arguments(p) -> None:
    p.add_argument("path", help="any file or directory TensorFlow wrote")
    p.add_argument("--tags", metavar="TAG[,TAG]", help="SavedModel: the meta graph's exact tag set, '' for the empty one "
                   "(default: the only one, or serve, or the empty set as TF1 Hub modules have)")


def run(args) -> int:
    from ._detect import detect

    target = detect(args.path)
    handler = _HANDLERS.get(target.kind)
    if handler is None:
        from ._common import input_error

        raise input_error(f"{target.given}: 'info' does not handle {target.kind} yet")
    summary, text = handler(target, args)
    if args.json:
        print_json(document("info", path=target.given, kind=target.kind, **summary))
    else:
        write(text)
    return 0


# -- checkpoints ---------------------------------------------------------------
def checkpoint_summary(target, *, prefix_override: str | None = None) -> dict:
    from ._sources import CheckpointSource

    src = CheckpointSource(target)
    try:
        reader = src.reader
        if reader is None:
            return {"format": None, "num_tensors": 0, "num_parameters": 0, "num_bytes": 0, "dtypes": {}, "files": []}
        infos = [src.info(n) for n in src.names()]
        dtypes: dict[str, dict] = {}
        params = 0
        nbytes = 0
        for i in infos:
            d = dtypes.setdefault(i.dtype, {"tensors": 0, "elements": 0, "bytes": 0})
            d["tensors"] += 1
            d["elements"] += i.size
            if i.nbytes is None or d["bytes"] is None:
                d["bytes"] = None  # V1 string tensors: no size without reading them
            else:
                d["bytes"] += i.nbytes
            nbytes += i.nbytes or 0
            if i.dtype not in ("string", "resource", "variant"):
                params += i.size
        files = []
        backend = reader.backend
        if reader.format == "v2":
            files.append(backend.index_file)
            files += [backend.shard_path(k) for k in range(backend.num_shards)]
        else:
            import glob

            files += sorted(glob.glob(reader.prefix)) if any(c in reader.prefix for c in "*?[") else [reader.prefix]
        from ._detect import file_size

        file_rows = [{"path": f, "bytes": file_size(target, f)} for f in files]
        og = None
        try:
            graph = reader.object_graph
        except Exception as exc:  # reported, not fatal: info is a summary
            og = {"error": str(exc)}
            graph = None
        if graph is not None:
            og = {
                "objects": len(graph.nodes),
                "variables": sum(1 for n in graph.nodes if n.is_variable),
                "slot_variables": len(graph.slots()),
            }
        summary = {
            "format": reader.format.upper(),
            "prefix": reader.prefix,
            "num_shards": reader.num_shards if reader.format == "v2" else None,
            "num_tensors": len(infos),
            "num_parameters": params,
            "num_bytes": nbytes,
            "dtypes": dtypes,
            "partitioned": [i.name for i in infos if i.partitioned],
            "files": file_rows,
            "object_graph": og,
        }
        directory = target.details.get("directory")
        if directory and target.kind != "saved_model":
            from ..checkpoint.state import get_checkpoint_state

            try:
                st = get_checkpoint_state(directory)
            except Exception:
                st = None
            if st is not None:
                from ..checkpoint.state import checkpoint_exists

                summary["checkpoint_state"] = {
                    "latest": st.model_checkpoint_path,
                    # a state file naming absolute paths outlives a move of its folder; TensorFlow's
                    # latest_checkpoint() then finds nothing
                    "latest_exists": bool(checkpoint_exists(st.model_checkpoint_path)),
                    "all": list(st.all_model_checkpoint_paths),
                }
        return summary
    finally:
        src.close()


def _checkpoint_text(s: dict, title: str = "checkpoint") -> str:
    from ._table import human_bytes, key_values, table

    pairs = [
        ("kind", f"{title} ({s['format']})"),
        ("prefix", s.get("prefix")),
        ("tensors", f"{s['num_tensors']:,}"),
        ("parameters", f"{s['num_parameters']:,}"),
        ("bytes", f"{s['num_bytes']:,} ({human_bytes(s['num_bytes'])})"),
    ]
    if s.get("num_shards") is not None:
        pairs.append(("shards", s["num_shards"]))
    if s.get("partitioned"):
        pairs.append(("partitioned", f"{len(s['partitioned'])} tensors"))
    og = s.get("object_graph")
    if og:
        if "error" in og:
            pairs.append(("object graph", f"unreadable: {og['error']}"))
        else:
            pairs.append(("object graph", f"{og['objects']} objects, {og['variables']} variables, {og['slot_variables']} slot variables"))
    st = s.get("checkpoint_state")
    if st:
        gone = "" if st.get("latest_exists", True) else (
            " (no such checkpoint: the state file names it by an absolute path and the folder has moved?"
            " tf.train.latest_checkpoint finds nothing)")
        pairs.append(("latest", f"{st['latest']}{gone}"))
        pairs.append(("checkpoints", len(st["all"])))
    out = [key_values(pairs)]
    if s["dtypes"]:
        rows = [[k, v["tensors"], f"{v['elements']:,}", "?" if v["bytes"] is None else human_bytes(v["bytes"])]
                for k, v in sorted(s["dtypes"].items())]
        out.append("")
        out.append(table(["dtype", "tensors", "elements", "bytes"], rows, align="lrrr"))
    if s.get("files"):
        out.append("")
        out.append(
            table(["file", "bytes"], [[f["path"], human_bytes(f["bytes"]) if f["bytes"] is not None else "missing"] for f in s["files"]], align="lr")
        )
    return "\n".join(out)


def _checkpoint(target, args):
    s = checkpoint_summary(target)
    text = _checkpoint_text(s)
    folder = target.details.get("directory")
    if folder and os.path.isdir(folder):
        # a training folder often holds event files too (the Keras TensorBoard callback with
        # embeddings writes a checkpoint into its run folder): say so, they are not described here
        from ..events import _is_event_file

        events = sorted(f for f in os.listdir(folder) if _is_event_file(f) and os.path.isfile(os.path.join(folder, f)))
        s["event_files"] = events
        given = target.given.rstrip("/")
        if events:
            text += (f"\nthis folder also holds {len(events)} event file(s): "
                     f"'tfformats info {os.path.join(given, events[0])}' describes one")
        # an Estimator's model_dir: eval/ logs, export/<timestamp>/ (or export/<exporter>/<timestamp>/) models
        runs, models = _training_folder_parts(folder)
        s["event_dirs"], s["saved_models"] = runs, models
        if runs:
            text += (f"\nevent files in subfolder(s): {', '.join(runs[:5])}{' ...' if len(runs) > 5 else ''}"
                     f" ('tfformats info {os.path.join(given, runs[0])}')")
        if models:
            text += (f"\nSavedModel(s) in subfolder(s): {', '.join(models[:5])}{' ...' if len(models) > 5 else ''}"
                     f" ('tfformats info {os.path.join(given, models[-1])}')")
    return s, text


def _training_folder_parts(folder: str, limit: int = 200) -> tuple[list, list]:
    """Subfolders (up to three levels down) of a training folder holding event files, and SavedModels."""
    from ..events import _is_event_file

    runs, models = [], []
    todo = [("", 0)]
    seen = 0
    while todo and seen < limit:
        rel, depth = todo.pop(0)
        here = os.path.join(folder, rel) if rel else folder
        try:
            names = sorted(os.listdir(here))
        except OSError:
            continue
        for name in names:
            seen += 1
            sub = os.path.join(here, name)
            if not os.path.isdir(sub) or name == "variables":
                continue
            srel = os.path.join(rel, name) if rel else name
            try:
                inner = os.listdir(sub)
            except OSError:
                continue
            if "saved_model.pb" in inner or "saved_model.pbtxt" in inner:
                models.append(srel)
                continue
            if any(_is_event_file(f) for f in inner):
                runs.append(srel)
            if depth < 2:  # export/<exporter>/<timestamp>/
                todo.append((srel, depth + 1))
    return runs, models


# -- graphs and SavedModels (summaries from tfformats.graph / tfformats.saved_model) -------
def _graph(target, args):
    from ..graph import summarize_graph
    from ._detect import graph_message

    msg = graph_message(target)
    summary = summarize_graph(msg, path=target.path)
    s = {"format": target.details.get("format"), "summary": summary.to_dict()}
    return s, f"kind: {target.kind} ({s['format']})\n{summary}"


def _saved_model(target, args):
    from ..saved_model import load_saved_model
    from ._table import human_bytes

    d = target.path
    with load_saved_model(d, tags=args.tags) as sm:
        doc = sm.to_dict()
        summary = sm.summary()
        reprs = repr(sm)
    from ._detect import file_exists, join_path

    var = checkpoint_summary(target) if file_exists(target, join_path(target, "variables", "variables.index")) else None
    s = {"format": doc.get("encoding"), "saved_model": doc, "checkpoint": var}
    lines = [f"kind: saved_model ({doc.get('encoding')})", reprs, f"tag sets: {doc['tag_sets']}"]
    if var:
        lines.append(
            f"variables/: {var['num_tensors']:,} tensors, {var['num_parameters']:,} parameters ({human_bytes(var['num_bytes'])})"
        )
    if doc.get("assets"):
        names = list(dict.fromkeys(a.get("filename", "?") for a in doc["assets"]))  # two tables, one file: once
        lines.append("assets: " + ", ".join(names[:10]) + (f" (+{len(names) - 10} more)" if len(names) > 10 else ""))
    lines.append(f"keras metadata: {'yes' if doc.get('keras_metadata') else 'no'}; fingerprint: {'yes' if doc.get('fingerprint') else 'no'}")
    lines.append(str(summary))
    return s, "\n".join(lines)


def _keras_metadata(target, args):
    import json

    msg = target.details["message"]
    nodes = []
    for n in msg.nodes:
        try:
            meta = json.loads(n.metadata) if n.metadata else {}
        except ValueError:
            meta = {}
        nodes.append({"node_path": n.node_path, "identifier": n.identifier, "class_name": meta.get("class_name") if isinstance(meta, dict) else None})
    s = {"num_nodes": len(nodes), "nodes": nodes}
    from ._table import table

    text = f"kind: keras_metadata\nnodes: {len(nodes)}\n\n" + table(
        ["node_path", "identifier", "class"], [[n["node_path"], n["identifier"], n["class_name"] or ""] for n in nodes]
    )
    return s, text


def _tfrecord(target, args):
    from ._records import tfrecord_info

    return tfrecord_info(target, show_progress=not args.no_progress)


def _events(target, args):
    from ._records import events_info

    return events_info(target, show_progress=not args.no_progress)


def _keras_json(problems: list, name: str, **where):
    """A Keras 3 save's ``config.json``/``metadata.json`` parsed (``where``: ``archive=`` an open
    ZipFile or ``folder=``), or None; why it was not read goes to ``problems`` (Keras ignores a bad
    metadata.json, not a bad config; info describes what it can either way)."""
    import json

    from ._common import keras_json_member

    data, why = keras_json_member(name, **where)
    if why is not None:
        problems.append(f"{why}: not read")
    if data is None:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        problems.append(f"{name} is not valid JSON ({type(exc).__name__})")
        return None


def _keras_archive(target, args):
    import zipfile

    from .._io.source import ZIP_REFUSALS
    from ._table import human_bytes, key_values

    problems: list = []
    try:
        with zipfile.ZipFile(target.path) as z:
            members = [{"name": i.filename, "bytes": i.file_size} for i in z.infolist()]
            config = _keras_json(problems, "config.json", archive=z)
            meta = _keras_json(problems, "metadata.json", archive=z)
    except ZIP_REFUSALS as exc:  # zipfile's refusals are not all BadZipFile
        from ._common import input_error

        raise input_error(f"{target.given}: damaged .keras archive ({type(exc).__name__}: {exc})") from None
    if not isinstance(config, dict):
        config = {}
    if not isinstance(meta, dict):
        meta = {}
    classes = _layer_classes(config)
    s = {
        "keras_version": meta.get("keras_version"),
        "saved_at": meta.get("date_saved"),
        "model_class": config.get("class_name"),
        "layer_classes": dict(sorted(classes.items())),
        "members": members,
    }
    s["weights"], weights_line, _ = _keras_weights(target.path)
    pairs = [
        ("kind", "keras_archive"),
        ("model", s["model_class"]),
        ("keras", s["keras_version"] or "not recorded"),
        ("layers", ", ".join(f"{k} x{v}" for k, v in s["layer_classes"].items()) or "none"),
        ("weights", weights_line),
        ("members", ", ".join(f"{m['name']} ({human_bytes(m['bytes'])})" for m in members)),
    ]
    s["unreadable"] = problems
    for u in problems:
        pairs.append(("not read", u))
    return s, key_values(pairs) + "\n(run 'tfformats scan' to audit it)"


def _keras_weights(path: str) -> tuple[dict, str, object]:
    """The weights summary of a Keras file (``{num_tensors, num_parameters, num_bytes,
    unreadable, error}``), its line of text, and the reader's names and files (``.names``,
    ``.files``; empty when it could not be read); read by :mod:`tfformats.keras`."""
    from types import SimpleNamespace

    from ..errors import TFFormatsError
    from ..keras import load_keras_weights
    from ._table import human_bytes

    try:
        with load_keras_weights(path) as r:
            shapes = r.get_variable_to_shape_map()
            params = nbytes = 0
            for name, shape in shapes.items():
                n = 1
                for d in shape:
                    n *= d
                params += n
                nbytes += n * (r.itemsize(name) or 0)
            unreadable = r.unreadable()
            seen = SimpleNamespace(names=list(shapes), files=r.files)
    except TFFormatsError as exc:
        return ({"num_tensors": None, "num_parameters": None, "num_bytes": None, "unreadable": {},
                 "error": exc.message}, f"not read: {exc.message}", SimpleNamespace(names=[], files=[]))
    line = f"{len(shapes)} tensors, {params:,} parameters ({human_bytes(nbytes)})"
    if unreadable:
        line += f"; {len(unreadable)} not readable here (see 'tfformats ls')"
    return {"num_tensors": len(shapes), "num_parameters": params, "num_bytes": nbytes, "unreadable": unreadable,
            "error": None}, line, seen


def _layer_classes(config) -> dict:
    """``{class name: count}`` of the layers listed in a Keras model config (nested models'
    layers included)."""
    classes: dict[str, int] = {}

    def walk(o, depth=0, in_layers=False):
        if depth > 200:
            return
        if isinstance(o, dict):
            if in_layers and isinstance(o.get("class_name"), str):
                classes[o["class_name"]] = classes.get(o["class_name"], 0) + 1
            for k, v in o.items():
                walk(v, depth + 1, in_layers=False) if k != "layers" else walk(v, depth + 1, in_layers=True)
        elif isinstance(o, list):
            for v in o:
                walk(v, depth + 1, in_layers)

    walk(config.get("config", {}) if isinstance(config, dict) else {})
    return dict(sorted(classes.items()))


def _keras_h5(target, args):
    """An HDF5 file: the root group's Keras attributes, read by tfformats._io.hdf5."""
    import json

    from ..errors import TFFormatsError
    from .._io.hdf5 import read_root_attributes, string_value
    from ._table import human_bytes, key_values

    attrs = read_root_attributes(target.path)  # a damaged root group: an input error
    unreadable = list(attrs.unsupported)
    if attrs.truncated:
        unreadable.append("the file is shorter than the end of file its superblock records (truncated)")
    values: dict = {}
    for key in ("keras_version", "backend", "model_config", "training_config"):
        if key in attrs.attributes:
            try:
                values[key] = string_value(target.path, attrs, key)
            except TFFormatsError as exc:
                unreadable.append(f"attribute {key}: {exc.message}")
    config = None
    if "model_config" in values:
        try:
            config = json.loads(values["model_config"])
        except (ValueError, RecursionError) as exc:
            unreadable.append(f"attribute model_config is not valid JSON ({type(exc).__name__})")
    folder = target.details.get("directory")
    if config is None and folder:  # an unzipped Keras 3 save: the archive's members in a folder
        for member in ("config.json", "metadata.json"):
            try:
                doc = _keras_json(unreadable, member, folder=folder)
            except OSError as exc:
                unreadable.append(f"{member} cannot be read ({exc.strerror or exc})")
                continue
            if member == "config.json" and isinstance(doc, dict):
                config = doc
            elif isinstance(doc, dict):
                values.setdefault("keras_version", doc.get("keras_version"))
    classes = _layer_classes(config) if isinstance(config, dict) else {}
    weights, weights_line, seen = _keras_weights(target.path)
    # Keras 1/2 weights files name their layers in a root attribute; Keras 3's have none, but
    # keep every variable under layers/<name>/vars/ (and optimizer/vars/)
    keras3 = bool(seen.names) and all(n.startswith(("layers/", "optimizer/", "vars/")) for n in seen.names)
    # Keras 2 / tf_keras name the layers in 'layer_names', split into 'layer_names0', 'layer_names1'...
    # when the list is too big for one attribute (64 KiB)
    layer_names = any(re.fullmatch(r"layer_names\d*", a) for a in attrs.attributes)
    content = "model" if "model_config" in attrs.attributes else "folder" if folder and isinstance(config, dict) \
        else "weights" if layer_names or keras3 else "unknown" if attrs.unsupported else "other"
    s = {
        "format": "HDF5",
        "superblock_version": attrs.superblock_version,
        "userblock_bytes": attrs.superblock_offset,
        "content": content,
        "keras_version": values.get("keras_version"),
        "backend": values.get("backend"),
        "model_class": config.get("class_name") if isinstance(config, dict) else None,
        "layer_classes": classes,
        "num_layers": sum(classes.values()),
        "model_config_bytes": len(values["model_config"].encode("utf-8")) if "model_config" in values else None,
        "training_config": "training_config" in attrs.attributes,
        "attributes": sorted(attrs.attributes),
        "unreadable": unreadable,
        "weights": weights,
    }
    what = {"model": "a Keras model", "folder": "a Keras 3 model saved unzipped (config.json beside its weights)",
            "weights": "Keras weights (no model config)", "other": "HDF5 data without a "
            "Keras model config", "unknown": "unknown: the root group's attributes cannot all be read"}[content]
    pairs = [
        ("kind", f"keras_h5 (HDF5{f', {attrs.superblock_offset}-byte user block' if attrs.superblock_offset else ''})"),
        ("content", what),
        ("model", s["model_class"] or "-"),
        ("keras", s["keras_version"] or "not recorded"),
        ("backend", s["backend"] or "not recorded"),
        ("layers", f"{s['num_layers']}: " + ", ".join(f"{k} x{v}" for k, v in classes.items()) if classes else "none"),
        ("model config", human_bytes(s["model_config_bytes"]) if s["model_config_bytes"] is not None else "none"),
        ("training config", "yes" if s["training_config"] else "no"),
        ("weights", weights_line),
        ("root attributes", ", ".join(s["attributes"]) or "none"),
    ]
    for u in unreadable:
        pairs.append(("not read", u))
    return s, key_values(pairs) + "\n(run 'tfformats scan' to audit it)"


def _keras_sharded(target, args):
    """A Keras 3 sharded-weights index: its shards and the weights they hold together."""
    import os

    from ._table import key_values

    weights, line, seen = _keras_weights(target.path)
    shards = seen.files  # empty when the weights could not be read (the summary says why)
    s = {"shards": shards, "weights": weights}
    pairs = [("kind", "keras_sharded (a Keras 3 sharded-weights index)"), ("weights", line),
             ("shards", ", ".join(os.path.basename(x) for x in shards) or "none read")]
    return s, key_values(pairs)


def _tf_dataset(target, args):
    from ._datasets import dataset_info

    return dataset_info(target, show_progress=not args.no_progress)


_HANDLERS = {
    "tf_dataset": _tf_dataset,
    "keras_sharded": _keras_sharded,
    "keras_h5": _keras_h5,
    "keras_archive": _keras_archive,
    "tfrecord": _tfrecord,
    "event_file": _events,
    "log_dir": _events,
    "checkpoint": _checkpoint,
    "checkpoint_v1": _checkpoint,
    "graph_def": _graph,
    "frozen_graph": _graph,
    "meta_graph": _graph,
    "saved_model": _saved_model,
    "keras_metadata": _keras_metadata,
}
