"""The private descriptor pool: isolation, freshness, wire/text/Any compatibility."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_committed_descriptor_set_matches_protos():
    pytest.importorskip("grpc_tools")
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import build_descriptors
    finally:
        sys.path.pop(0)
    fresh = build_descriptors.normalized(build_descriptors.compile_protos())
    with open(build_descriptors.OUT, "rb") as f:
        committed = build_descriptors.normalized(f.read())
    assert sorted(fresh) == sorted(committed), "file list differs: run python tools/build_descriptors.py"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"out of date for {stale}: run python tools/build_descriptors.py"


def test_every_required_schema_is_present():
    from tfformats.proto import pool

    p = pool()
    required = [
        "tensorflow.DataType", "tensorflow.TensorShapeProto", "tensorflow.TensorProto", "tensorflow.TensorSliceProto",
        "tensorflow.ResourceHandleProto", "tensorflow.VersionDef", "tensorflow.GraphDef", "tensorflow.NodeDef",
        "tensorflow.AttrValue", "tensorflow.FunctionDefLibrary", "tensorflow.OpDef", "tensorflow.FullTypeDef",
        "tensorflow.GraphDebugInfo", "tensorflow.VariableDef", "tensorflow.StructuredValue", "tensorflow.MetaGraphDef",
        "tensorflow.SaverDef", "tensorflow.SavedModel", "tensorflow.SavedObjectGraph", "tensorflow.TrackableObjectGraph",
        "tensorflow.BundleHeaderProto", "tensorflow.BundleEntryProto", "tensorflow.SavedTensorSlices",
        "tensorflow.CheckpointState", "tensorflow.FingerprintDef", "tensorflow.Event", "tensorflow.Summary",
        "tensorflow.HistogramProto", "tensorflow.Example", "tensorflow.SequenceExample", "tensorflow.Feature",
        "third_party.py.tf_keras.protobuf.SavedMetadata",
    ]
    missing = []
    for name in required:
        try:
            p.FindMessageTypeByName(name)
        except KeyError:
            try:
                p.FindEnumTypeByName(name)
            except KeyError:
                missing.append(name)
    assert not missing


def test_default_pool_is_untouched():
    """After loading every schema (and building a class of every message), the
    default pool holds none of our files, messages or enums (protobuf's own
    well-known types, which it registers itself, aside)."""
    code = (
        "import tfformats\n"
        "from tfformats.proto import pb, pool, message_class\n"
        "from google.protobuf import descriptor_pb2, descriptor_pool\n"
        "import tfformats.proto as P\n"
        "fds = descriptor_pb2.FileDescriptorSet.FromString(open(P._DESCRIPTOR_SET, 'rb').read())\n"
        "ours = [f for f in fds.file if not f.name.startswith('google/protobuf/')]\n"
        "assert len(ours) >= 30, len(ours)\n"
        "names = []\n"
        "def walk(prefix, msgs):\n"
        "    for m in msgs:\n"
        "        full = prefix + '.' + m.name\n"
        "        names.append(full)\n"
        "        walk(full, m.nested_type)\n"
        "for f in ours:\n"
        "    walk(f.package, f.message_type)\n"
        "for n in names:\n"
        "    if not pool().FindMessageTypeByName(n).GetOptions().map_entry:\n"
        "        message_class(n)()\n"
        "d = descriptor_pool.Default()\n"
        "for f in ours:\n"
        "    try:\n"
        "        d.FindFileByName(f.name)\n"
        "    except KeyError:\n"
        "        continue\n"
        "    raise SystemExit('found file ' + f.name)\n"
        "enums = [f.package + '.' + e.name for f in ours for e in f.enum_type]\n"
        "for m in names + enums:\n"
        "    for find in (d.FindMessageTypeByName, d.FindEnumTypeByName):\n"
        "        try:\n"
        "            find(m)\n"
        "        except KeyError:\n"
        "            continue\n"
        "        raise SystemExit('found ' + m)\n"
        "print('clean', len(names))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    word, count = out.stdout.split()
    assert word == "clean" and int(count) > 100


def test_binary_and_text_round_trip():
    from google.protobuf import text_format

    from tfformats.proto import pb, pool

    g = pb.GraphDef()
    n = g.node.add(name="x", op="Placeholder")
    n.attr["dtype"].type = pb.DataType.Value("DT_FLOAT")
    n.attr["shape"].shape.dim.add(size=-1)
    g.versions.producer = 1994
    data = g.SerializeToString()
    assert pb.GraphDef.FromString(data) == g
    text = text_format.MessageToString(g)
    assert 'op: "Placeholder"' in text
    assert text_format.Parse(text, pb.GraphDef(), descriptor_pool=pool()) == g


def test_any_type_url_matches_tensorflow():
    from google.protobuf import text_format

    from tfformats.proto import pb, pool

    info = pb.MetaGraphDef.MetaInfoDef()
    shape = pb.TensorShapeProto()
    shape.dim.add(size=3)
    info.any_info.Pack(shape)
    assert info.any_info.type_url == "type.googleapis.com/tensorflow.TensorShapeProto"
    # Text format expands Any through our pool.
    text = text_format.MessageToString(info, descriptor_pool=pool())
    assert "[type.googleapis.com/tensorflow.TensorShapeProto]" in text
    back = text_format.Parse(text, pb.MetaGraphDef.MetaInfoDef(), descriptor_pool=pool())
    out = pb.TensorShapeProto()
    assert back.any_info.Unpack(out) and out.dim[0].size == 3


def test_nested_and_enum_access():
    from tfformats.proto import pb

    assert pb.TensorShapeProto.Dim(size=4).size == 4
    assert pb.DataType.Name(14) == "DT_BFLOAT16"
    assert pb.SaverDef.CheckpointFormatVersion.Value("V2") == 2
    assert pb.keras.SavedMetadata().nodes is not None
    with pytest.raises(AttributeError):
        pb.NoSuchMessage
