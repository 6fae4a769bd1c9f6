"""``tfformats verify``: check every checksum and structural invariant."""

from __future__ import annotations

import os

from ._common import EXIT_FAILED, EXIT_OK, document, int_at_least, print_json, progress, write
from ._graphcheck import problem

HELP = "check every CRC and structural invariant; exit 0 only when intact"
DESCRIPTION = """\
Check a checkpoint, SavedModel, graph, TFRecord or event file completely and
report every problem with its location (file, tensor or record, byte offset).

  checkpoints  every index block CRC, the header, every entry, every tensor read
               with its CRC32C (partitioned tensors slice by slice), missing shards,
               the TF2 object graph and the keys it names
  SavedModels  the protobuf, node/function/signature references, recursion,
               assets, keras_metadata.pb and fingerprint.pb, and the variables
  graphs       the protobuf and the same graph invariants
  TFRecords    every record's length and data CRC; event files: each record an Event

Exit status 0 only when everything is intact; 1 when a problem was found."""
EXAMPLES = """\
  tfformats verify examples/sample_checkpoint
  tfformats verify model.ckpt-1000 --json
  tfformats verify saved_model_dir
  tfformats verify data.tfrecord"""


def add_arguments(p) -> None:
    p.add_argument("path", nargs="+", help="checkpoint, SavedModel directory, graph, TFRecord, event file or log "
                   "directory; several (the shards of a dataset: data/train.tfrecord-*) are checked into one report")
    p.add_argument("--max-problems", type=int_at_least(1), default=1000, metavar="N",
                   help="list at most N problems (default 1000; the exit status still counts every error)")


def _from_exc(exc, *, file=None, entry=None, severity: str = "error") -> dict:
    from ..errors import TFFormatsError

    if isinstance(exc, TFFormatsError):
        return problem(
            f"{type(exc).__name__}: {exc.message}",
            file=str(exc.path) if exc.path is not None else file,
            entry=exc.entry if exc.entry is not None else entry,
            offset=exc.offset,
            severity=severity,
        )
    msg = getattr(exc, "strerror", None) or str(exc)
    return problem(f"{type(exc).__name__}: {msg}", file=getattr(exc, "filename", None) or file, entry=entry, severity=severity)


class Report:
    def __init__(self, max_problems: int) -> None:
        self.problems: list[dict] = []
        self.checked: dict[str, int] = {}
        self.max = max_problems
        self.truncated = False
        self.errors = 0  # every error found, listed or not
        self.warnings = 0

    def add(self, p: dict) -> None:
        if p["severity"] == "error":
            self.errors += 1
        else:
            self.warnings += 1
        if len(self.problems) >= self.max:
            self.truncated = True
            return
        self.problems.append(p)

    def extend(self, ps) -> None:
        for p in ps:
            self.add(p)

    def count(self, key: str, n: int = 1) -> None:
        self.checked[key] = self.checked.get(key, 0) + n

    @property
    def ok(self) -> bool:
        return self.errors == 0  # the errors beyond --max-problems count too


# -- checkpoints ---------------------------------------------------------------
def verify_table(path: str, report: Report) -> bool:
    """Read and check every block of a table file; True when all are intact."""
    from .._io.table import Table
    from ..errors import TFFormatsError

    try:
        table = Table(path)
    except (TFFormatsError, OSError) as exc:
        report.add(_from_exc(exc, file=path))
        return False
    ok = True
    with table:
        # each block: bounds, CRC, entries, key order inside it and across blocks
        for block in table.iter_blocks():
            if block.error is None:
                report.count("table_blocks")
            else:
                report.add(_from_exc(block.error, file=path))
                ok = False
    return ok


def verify_checkpoint(prefix_target, report: Report, *, show_progress: bool = True, label: str = "") -> None:
    import glob

    from ..checkpoint.reader import load_checkpoint
    from ..errors import TFFormatsError

    prefix = prefix_target
    is_v2 = os.path.isfile(prefix + ".index")
    if is_v2:
        table_files = [prefix + ".index"]
    elif any(c in prefix for c in "*?["):
        table_files = sorted(glob.glob(prefix))
    else:
        table_files = [prefix]
    tables_ok = all([verify_table(f, report) for f in table_files])
    try:
        reader = load_checkpoint(prefix, verify_checksums=True)
    except ImportError as exc:
        report.add(problem(f"cannot read this checkpoint format here ({exc})", file=prefix))
        return
    except (TFFormatsError, OSError) as exc:
        if tables_ok:
            report.add(_from_exc(exc, file=prefix))
        return
    with reader:
        backend = reader.backend
        if reader.format == "v2":
            for k in range(backend.num_shards):
                sp = backend.shard_path(k)
                if not os.path.isfile(sp):
                    report.add(problem(f"data shard {k} of {backend.num_shards} is missing", file=sp))
                else:
                    report.count("data_shards")
        names = list(reader.keys())
        sizes = {}
        for n in names:
            try:
                if reader.get_dtype(n) != "string":
                    sizes[n] = reader.nbytes(n)
                else:
                    e = backend.entry(n) if hasattr(backend, "entry") else None
                    sizes[n] = e.size if e is not None and not len(e.slices) else 0
            except (TFFormatsError, OSError):
                sizes[n] = 0
        total = sum(sizes.values())
        missing_shard_msgs = set()
        failed = set()
        with progress(total, f"verifying {label or os.path.basename(prefix)}", unit="B", enabled=show_progress) as bar:
            for n in names:
                try:
                    _verify_tensor(reader, n)
                    report.count("tensors")
                    report.count("tensor_bytes", sizes[n])
                except (TFFormatsError, OSError) as exc:
                    failed.add(n)
                    p = _from_exc(exc, file=prefix, entry=n)
                    if "is missing" in p["message"]:
                        # one line per missing shard is enough
                        if p["file"] in missing_shard_msgs or any(p["file"] == q["file"] for q in report.problems):
                            missing_shard_msgs.add(p["file"])
                            continue
                        missing_shard_msgs.add(p["file"])
                    report.add(p)
                bar.update(sizes[n])
        try:
            graph = reader.object_graph if "_CHECKPOINTABLE_OBJECT_GRAPH" not in failed else None
        except TFFormatsError as exc:
            report.add(_from_exc(exc, file=prefix, entry="_CHECKPOINTABLE_OBJECT_GRAPH"))
            graph = None
        if graph is not None:
            report.count("object_graph_nodes", len(graph.nodes))
            # keys of objects that save under key + suffix (iterators, tables) count as present
            for key, owner in graph.keys_without_tensors(names):
                report.add(
                    problem(
                        f"the object graph names checkpoint key {key!r} (of {owner or 'the root'}) but the checkpoint has no such tensor",
                        file=prefix,
                        entry="_CHECKPOINTABLE_OBJECT_GRAPH",
                        severity="warning",
                    )
                )


def _verify_tensor(reader, name: str) -> None:
    """Read one tensor with checksum verification, without keeping it."""
    if reader.format == "v2":
        backend = reader.backend
        e = backend.entry(name)
        dtype = reader.get_dtype(name)
        if not len(e.slices) and dtype not in ("string", "resource", "variant"):
            from ..errors import UnsupportedError

            try:
                backend.view(name, verify=True)  # CRC over the mapped bytes: no copy
                return
            except UnsupportedError:
                pass
    reader.get_tensor(name)


# -- graphs and SavedModels -------------------------------------------------------
def verify_graph_file(target, report: Report) -> None:
    from ._detect import graph_message
    from ._graphcheck import check_graph_def, check_meta_graph

    msg = graph_message(target)
    report.count("graphs")
    if target.kind == "meta_graph":
        report.extend(check_meta_graph(msg, file=target.path))
    else:
        report.extend(check_graph_def(msg, file=target.path))
    report.count("nodes", len(msg.graph_def.node) if target.kind == "meta_graph" else len(msg.node))


def verify_saved_model(target, report: Report, *, show_progress: bool = True) -> None:
    from ..errors import TFFormatsError
    from ..proto import pb
    from ._detect import load_saved_model_proto
    from ._graphcheck import check_meta_graph

    d = target.path
    pbfile = os.path.join(d, target.details.get("file", "saved_model.pb"))
    try:
        sm = load_saved_model_proto(target)
    except (TFFormatsError, OSError) as exc:
        report.add(_from_exc(exc, file=pbfile))
        sm = None
    except Exception as exc:  # CLIError from detection
        report.add(problem(str(exc), file=pbfile))
        sm = None
    if sm is not None:
        if not len(sm.meta_graphs):
            report.add(problem("the SavedModel has no meta graph", file=pbfile))
        seen_tags = set()
        for i, m in enumerate(sm.meta_graphs):
            tags = ",".join(sorted(m.meta_info_def.tags))
            if tags in seen_tags:
                report.add(problem(f"two meta graphs have the same tag set {{{tags}}}", file=pbfile, entry=f"meta_graphs[{i}]", severity="warning"))
            seen_tags.add(tags)
            report.extend(check_meta_graph(m, file=pbfile, where=f"meta_graph[{tags or i}]", assets_dir=os.path.join(d, "assets")))
            report.count("graphs")
            report.count("nodes", len(m.graph_def.node))
    if sm is not None:
        # the SavedModel reader's own consistency checks (object graph, functions, variables, assets)
        try:
            from ..saved_model import SavedModel

            for i, tags in enumerate(sorted(m.meta_info_def.tags) for m in sm.meta_graphs):
                try:
                    model = SavedModel(d, tags=tags)
                except TFFormatsError:
                    continue
                with model:
                    seen = {p["message"] for p in report.problems}
                    for msg in model.problems:
                        text = f"meta_graph[{','.join(tags) or i}]: {msg}"
                        if text not in seen:
                            report.add(problem(text, file=pbfile, severity="warning"))
        except (TFFormatsError, OSError) as exc:
            report.add(_from_exc(exc, file=pbfile, severity="warning"))
    for fname, cls in (("keras_metadata.pb", "keras.SavedMetadata"), ("fingerprint.pb", "FingerprintDef")):
        fp = os.path.join(d, fname)
        if os.path.isfile(fp):
            try:
                with open(fp, "rb") as f:
                    data = f.read()
                msg_cls = pb.keras.SavedMetadata if fname.startswith("keras") else pb.FingerprintDef
                msg_cls.FromString(data)
                report.count("metadata_files")
            except Exception as exc:
                report.add(problem(f"cannot parse {fname}: {exc}", file=fp))
    var_prefix = os.path.join(d, "variables", "variables")
    if os.path.isfile(var_prefix + ".index"):
        verify_checkpoint(var_prefix, report, show_progress=show_progress, label="variables")
    elif os.path.isdir(os.path.join(d, "variables")) and any(
        f.startswith("variables.data") for f in os.listdir(os.path.join(d, "variables"))
    ):
        report.add(problem("variables/variables.index is missing but data shards exist", file=var_prefix + ".index"))


# -- Keras weights -------------------------------------------------------------------
def target_is_hdf5(path: str) -> bool:
    from .._io.hdf5 import find_superblock

    return find_superblock(path) is not None


def verify_keras_config(target, report: Report) -> None:
    """A ``.keras`` archive's (or unzipped save's) ``config.json`` must be JSON, or Keras cannot
    load the model; a bad ``metadata.json`` Keras ignores (a warning)."""
    import json
    import zipfile

    from .._io.source import ZIP_REFUSALS

    from ._common import keras_json_member

    def check(name: str, **where) -> None:
        try:
            data, why = keras_json_member(name, **where)
        except (OSError, *ZIP_REFUSALS):
            return  # the weights check reports a damaged archive
        if why is not None:
            report.add(problem(f"{why}: not checked", file=target.path, entry=name, severity="warning"))
        if data is None:
            return
        try:
            json.loads(data)
            report.count("keras_configs" if name == "config.json" else "keras_metadata")
        except (ValueError, RecursionError) as exc:
            what = ("Keras cannot load the model" if name == "config.json" else "Keras ignores it")
            report.add(problem(f"{name} is not valid JSON ({type(exc).__name__}: {exc}); {what}", file=target.path,
                               entry=name, severity="error" if name == "config.json" else "warning"))

    members = ("config.json", "metadata.json")
    if target.kind == "keras_archive":
        try:
            with zipfile.ZipFile(target.path) as z:
                for name in members:
                    check(name, archive=z)
        except (OSError, *ZIP_REFUSALS):
            return  # the weights check reports a damaged archive
    elif target.kind == "keras_h5" and target.details.get("directory"):
        for name in members:
            check(name, folder=target.details["directory"])


def verify_keras_weights(path: str, report: Report) -> None:
    """Every dataset of a Keras ``.h5``/``.keras`` file read (HDF5 has no checksums over
    data: the structures and each value's storage are what can be checked, and for a
    ``.keras`` archive the zip CRC-32 of its weights member); a file shorter than its
    superblock says is an error, a dataset stored in a way tfformats does not read a warning."""
    from .._io.hdf5 import is_truncated
    from ..errors import TFFormatsError, UnsupportedError
    from ..keras import load_keras_weights

    if target_is_hdf5(path) and is_truncated(path):
        report.add(problem("the file is shorter than the end of file its HDF5 superblock records (truncated)",
                           file=path))
    try:
        reader = load_keras_weights(path)
    except (TFFormatsError, OSError) as exc:
        # an unreadable structure (UnsupportedError included) leaves every weight unchecked: not OK
        report.add(_from_exc(exc, file=path))
        return
    with reader:
        report.count("files", len(reader.files))
        if reader.format == "keras_v3":
            try:
                reader.verify_archive()  # the zip CRC-32: the one checksum over a .keras file's weights
                report.count("archive_crcs")
            except TFFormatsError as exc:
                report.add(_from_exc(exc, file=path))
            reader.verify_checksums = False  # said once above; the values are still read below
        for name in reader:
            try:
                value = reader.get_tensor(name)
            except UnsupportedError as exc:
                report.add(_from_exc(exc, file=path, entry=name, severity="warning"))
                continue
            except TFFormatsError as exc:
                report.add(_from_exc(exc, file=path, entry=name))
                continue
            report.count("tensors")
            if value.dtype != object:
                report.count("tensor_bytes", value.nbytes)


# -- entry point ---------------------------------------------------------------------
def run(args) -> int:
    from ._detect import detect, localize

    paths = args.path if isinstance(args.path, list) else [args.path]
    # detect them all first: a path that names nothing readable stops the command (exit 3) before any check
    targets = [detect(p) for p in paths]
    report = Report(args.max_problems)
    show = not args.no_progress
    for target in targets:
        target = localize(target)  # reads every byte: a remote checkpoint or SavedModel is fetched first
        _verify_one(target, report, show)
    ok = report.ok
    if args.json:
        one = len(targets) == 1
        print_json(
            document(
                "verify",
                path=targets[0].given if one else [t.given for t in targets],
                kind=targets[0].kind if one else [t.kind for t in targets],
                ok=ok,
                checked=report.checked,
                problems=report.problems,
                truncated=report.truncated,
            )
        )
    else:
        _print_human(targets, report)
    return EXIT_OK if ok else EXIT_FAILED


def _verify_one(target, report: Report, show: bool) -> None:
    if target.kind in ("checkpoint", "checkpoint_v1"):
        verify_checkpoint(target.path, report, show_progress=show)
    elif target.kind == "saved_model":
        verify_saved_model(target, report, show_progress=show)
    elif target.kind in ("graph_def", "frozen_graph", "meta_graph"):
        verify_graph_file(target, report)
    elif target.kind in ("tfrecord", "event_file", "log_dir"):
        from . import _records

        _records.verify(target, report, show_progress=show)
    elif target.kind in ("keras_h5", "keras_archive", "keras_sharded"):
        verify_keras_weights(target.path, report)
        verify_keras_config(target, report)
    elif target.kind == "tf_dataset":
        from ._datasets import verify_dataset

        verify_dataset(target, report, show_progress=show)
    else:
        from ._common import input_error

        raise input_error(f"{target.given}: 'verify' does not handle {target.kind}")


def _print_human(targets, report: Report) -> None:
    from ._table import human_bytes, table

    checked = ", ".join(
        f"{human_bytes(v)} of tensor data" if k == "tensor_bytes" else f"{v:,} {k.replace('_', ' ')}"
        for k, v in report.checked.items()
    )
    for target in targets[:20]:
        write(f"{target.describe()}: {target.given}")
    if len(targets) > 20:
        write(f"... and {len(targets) - 20} more")
    write(f"checked: {checked or 'nothing readable'}")
    if report.problems:
        rows = []
        for p in report.problems:
            loc = p["file"] or ""
            if p.get("entry") is not None:
                loc += f" [{p['entry']}]"
            if p.get("offset") is not None:
                loc += f" @{p['offset']}"
            rows.append([p["severity"], loc, p["message"]])
        write(table(["severity", "location", "problem"], rows, align="lll"))
        if report.truncated:
            write(f"(only the first {report.max} problems are listed)")
    errors, warnings = report.errors, report.warnings
    if errors:
        write(f"FAILED: {errors} error(s), {warnings} warning(s)")
    else:
        kinds = {t.kind for t in targets}
        keras = all(k.startswith("keras") for k in kinds)
        values = "every value read" if not warnings else "every value read but those the warnings name"
        what = (f"every structural check passed, {values}, the archive's CRC-32 checked"
                if kinds == {"keras_archive"} else
                f"every structural check passed, {values}") if keras else \
            "every checksum and structural check passed"  # HDF5 keeps no checksums over data
        write(f"OK: {what}" + (f" ({warnings} warning(s))" if warnings else ""))
