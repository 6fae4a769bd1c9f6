"""Our schemas against TensorFlow's own descriptors, and coexistence with TF."""

from __future__ import annotations

import importlib
import subprocess
import sys

from google.protobuf import descriptor_pool

TF_MODULES = [
    "tensorflow.core.framework.graph_pb2", "tensorflow.core.protobuf.meta_graph_pb2",
    "tensorflow.core.protobuf.saved_model_pb2", "tensorflow.core.protobuf.saved_object_graph_pb2",
    "tensorflow.core.protobuf.trackable_object_graph_pb2", "tensorflow.core.protobuf.tensor_bundle_pb2",
    "tensorflow.core.protobuf.fingerprint_pb2", "tensorflow.core.util.saved_tensor_slice_pb2",
    "tensorflow.core.util.event_pb2", "tensorflow.core.framework.summary_pb2",
    "tensorflow.core.example.example_pb2", "tensorflow.python.training.checkpoint_state_pb2",
    "tensorflow.core.framework.variable_pb2", "tensorflow.core.protobuf.struct_pb2",
    "tensorflow.core.framework.tensor_slice_pb2", "tf_keras.protobuf.saved_metadata_pb2",
]


def _label(f):
    # protobuf 7 dropped FieldDescriptor.label; is_repeated/is_required replace it.
    if hasattr(f, "is_repeated"):
        return "repeated" if f.is_repeated else "required" if getattr(f, "is_required", False) else "optional"
    return {1: "optional", 2: "required", 3: "repeated"}[f.label]


def _field_facts(f):
    # Packing changes the bytes written; presence whether HasField works.
    return (f.name, f.number, f.type, _label(f),
            f.message_type.full_name if f.message_type else None,
            f.enum_type.full_name if f.enum_type else None,
            f.containing_oneof.name if f.containing_oneof else None,
            getattr(f, "is_packed", None), getattr(f, "has_presence", None))


def _diff_message(ours, theirs, out):
    of = {f.number: f for f in ours.fields}
    tf_ = {f.number: f for f in theirs.fields}
    for num in sorted(set(of) | set(tf_)):
        a, b = of.get(num), tf_.get(num)
        if a is None:
            out.append(f"{theirs.full_name}: field {b.name} = {num} missing in ours")
        elif b is None:
            out.append(f"{ours.full_name}: field {a.name} = {num} not in TensorFlow's")
        elif _field_facts(a) != _field_facts(b):
            out.append(f"{ours.full_name}.{a.name}: ours {_field_facts(a)} vs TF {_field_facts(b)}")
    on = {m.name: m for m in ours.nested_types}
    tn = {m.name: m for m in theirs.nested_types}
    for name in sorted(set(on) | set(tn)):
        if name not in on or name not in tn:
            out.append(f"{theirs.full_name}: nested {name} only in {'TF' if name in tn else 'ours'}")
        else:
            _diff_message(on[name], tn[name], out)
    oe = {e.name: e for e in ours.enum_types}
    te = {e.name: e for e in theirs.enum_types}
    for name in sorted(set(oe) | set(te)):
        if name not in oe or name not in te:
            out.append(f"{theirs.full_name}: enum {name} only in {'TF' if name in te else 'ours'}")
        else:
            _diff_enum(oe[name], te[name], out)


def _diff_enum(ours, theirs, out):
    a = {v.name: v.number for v in ours.values}
    b = {v.name: v.number for v in theirs.values}
    if a != b:
        out.append(f"enum {ours.full_name}: ours {sorted(a.items())} vs TF {sorted(b.items())}")


def test_every_message_and_enum_matches_tensorflow():
    for m in TF_MODULES:
        importlib.import_module(m)
    from tfformats.proto import pool

    ours = pool()
    tf_pool = descriptor_pool.Default()
    diffs = []
    checked = 0
    import os

    root = os.path.join(os.path.dirname(__file__), "..", "protos")
    names = []
    for dirpath, _, files in os.walk(root):
        for fn in files:
            if fn.endswith(".proto"):
                names.append(os.path.relpath(os.path.join(dirpath, fn), root).replace(os.sep, "/"))
    assert len(names) >= 30
    for fname in sorted(names):
        ofd = ours.FindFileByName(fname)
        try:
            tfd = tf_pool.FindFileByName(fname)
        except KeyError:
            diffs.append(f"{fname}: TensorFlow has no file of this name")
            continue
        assert ofd.package == tfd.package, fname
        for name, msg in ofd.message_types_by_name.items():
            if name not in tfd.message_types_by_name:
                diffs.append(f"{fname}: message {name} not in TF")
                continue
            _diff_message(msg, tfd.message_types_by_name[name], diffs)
            checked += 1
        for name in tfd.message_types_by_name:
            if name not in ofd.message_types_by_name:
                diffs.append(f"{fname}: TF message {name} missing in ours")
        for name, enum in ofd.enum_types_by_name.items():
            if name not in tfd.enum_types_by_name:
                diffs.append(f"{fname}: enum {name} not in TF")
            else:
                _diff_enum(enum, tfd.enum_types_by_name[name], diffs)
                checked += 1
        for name in tfd.enum_types_by_name:
            if name not in ofd.enum_types_by_name:
                diffs.append(f"{fname}: TF enum {name} missing in ours")
    assert checked > 80
    assert not diffs, "schema differences:\n" + "\n".join(diffs)


_SAME_BYTES = r"""
import sys
order = sys.argv[1]
if order == "tf-first":
    import tensorflow as tf
    import tfformats
else:
    import tfformats
    from tfformats.proto import pb
    pb.GraphDef()
    import tensorflow as tf
from tfformats.proto import pb
g = tf.compat.v1.GraphDef()
n = g.node.add(name="c", op="Const")
n.attr["value"].tensor.CopyFrom(tf.make_tensor_proto([1.5, 2.5]))
data = g.SerializeToString()
ours = pb.GraphDef.FromString(data)
assert ours.SerializeToString(deterministic=True) == g.SerializeToString(deterministic=True)
from tfformats.tensor import tensor_to_numpy
assert tensor_to_numpy(ours.node[0].attr["value"].tensor).tolist() == [1.5, 2.5]
# TF still works after tfformats loaded its pool
assert float(tf.reduce_sum(tf.constant([1.0, 2.0]))) == 3.0
print("ok")
"""


def test_tensorflow_and_tfformats_in_one_process_both_orders():
    for order in ("tf-first", "tfformats-first"):
        out = subprocess.run([sys.executable, "-c", _SAME_BYTES, order], capture_output=True, text=True,
                             env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.strip().endswith("ok")
