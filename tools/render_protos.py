"""Write ``protos/*.proto`` from the descriptors of an installed TensorFlow.

Development tool only (needs ``tensorflow`` and ``tf_keras``).  It renders
the schema facts (package, message, field and enum names, numbers, types,
labels, oneofs, maps, options that change the wire format) of the files
tfformats reads, with no comments.  Run it when TensorFlow adds fields, then
``python tools/build_descriptors.py`` and commit both.

    python tools/render_protos.py            # writes protos/
"""

from __future__ import annotations

import importlib
import os
import sys

from google.protobuf import descriptor_pb2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "protos")

MODULES = [
    "tensorflow.core.framework.types_pb2",
    "tensorflow.core.framework.tensor_shape_pb2",
    "tensorflow.core.framework.tensor_pb2",
    "tensorflow.core.framework.tensor_slice_pb2",
    "tensorflow.core.framework.resource_handle_pb2",
    "tensorflow.core.framework.versions_pb2",
    "tensorflow.core.framework.graph_pb2",
    "tensorflow.core.framework.node_def_pb2",
    "tensorflow.core.framework.attr_value_pb2",
    "tensorflow.core.framework.function_pb2",
    "tensorflow.core.framework.op_def_pb2",
    "tensorflow.core.framework.full_type_pb2",
    "tensorflow.core.framework.graph_debug_info_pb2",
    "tensorflow.core.framework.variable_pb2",
    "tensorflow.core.framework.summary_pb2",
    "tensorflow.core.protobuf.struct_pb2",
    "tensorflow.core.protobuf.meta_graph_pb2",
    "tensorflow.core.protobuf.saver_pb2",
    "tensorflow.core.protobuf.saved_model_pb2",
    "tensorflow.core.protobuf.saved_object_graph_pb2",
    "tensorflow.core.protobuf.trackable_object_graph_pb2",
    "tensorflow.core.protobuf.tensor_bundle_pb2",
    "tensorflow.core.protobuf.fingerprint_pb2",
    "tensorflow.core.protobuf.snapshot_pb2",
    "tensorflow.core.util.saved_tensor_slice_pb2",
    "tensorflow.core.util.event_pb2",
    "tensorflow.core.example.example_pb2",
    "tensorflow.core.example.feature_pb2",
    "tensorflow.python.training.checkpoint_state_pb2",
    "tf_keras.protobuf.saved_metadata_pb2",
]

F = descriptor_pb2.FieldDescriptorProto
SCALAR = {
    F.TYPE_DOUBLE: "double", F.TYPE_FLOAT: "float", F.TYPE_INT64: "int64", F.TYPE_UINT64: "uint64",
    F.TYPE_INT32: "int32", F.TYPE_FIXED64: "fixed64", F.TYPE_FIXED32: "fixed32", F.TYPE_BOOL: "bool",
    F.TYPE_STRING: "string", F.TYPE_BYTES: "bytes", F.TYPE_UINT32: "uint32", F.TYPE_SFIXED32: "sfixed32",
    F.TYPE_SFIXED64: "sfixed64", F.TYPE_SINT32: "sint32", F.TYPE_SINT64: "sint64",
}


def _type_name(field, pkg):
    if field.type in SCALAR:
        return SCALAR[field.type]
    name = field.type_name  # fully qualified, leading dot
    return name


def _field_opts(field, syntax):
    opts = []
    if field.options.HasField("packed"):
        opts.append(f"packed = {'true' if field.options.packed else 'false'}")
    if field.options.deprecated:
        opts.append("deprecated = true")
    if field.HasField("default_value"):
        v = field.default_value
        if field.type in (F.TYPE_STRING, F.TYPE_BYTES):
            v = '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        opts.append(f"default = {v}")
    return f" [{', '.join(opts)}]" if opts else ""


def _render_enum(enum, indent):
    pad = "  " * indent
    lines = [f"{pad}enum {enum.name} {{"]
    if enum.options.allow_alias:
        lines.append(f"{pad}  option allow_alias = true;")
    for v in enum.value:
        opt = " [deprecated = true]" if v.options.deprecated else ""
        lines.append(f"{pad}  {v.name} = {v.number}{opt};")
    for r in enum.reserved_range:
        lines.append(f"{pad}  reserved {r.start}{'' if r.end == r.start else f' to {r.end}'};")
    if enum.reserved_name:
        lines.append(f"{pad}  reserved {', '.join(repr(n).replace(chr(39), chr(34)) for n in enum.reserved_name)};")
    lines.append(f"{pad}}}")
    return lines


def _render_message(msg, syntax, indent):
    pad = "  " * indent
    lines = [f"{pad}message {msg.name} {{"]
    maps = {n.name: n for n in msg.nested_type if n.options.map_entry}
    for e in msg.enum_type:
        lines += _render_enum(e, indent + 1)
    for n in msg.nested_type:
        if not n.options.map_entry:
            lines += _render_message(n, syntax, indent + 1)

    def field_line(f, in_oneof):
        entry = maps.get(f.type_name.rsplit(".", 1)[-1]) if f.type == F.TYPE_MESSAGE else None
        if entry is not None and f.label == F.LABEL_REPEATED and f.type_name.endswith("." + msg.name + "." + entry.name):
            k, v = entry.field
            return f"map<{_type_name(k, None)}, {_type_name(v, None)}> {f.name} = {f.number}{_field_opts(f, syntax)};"
        label = ""
        if not in_oneof:
            if f.label == F.LABEL_REPEATED:
                label = "repeated "
            elif syntax == "proto2":
                label = "required " if f.label == F.LABEL_REQUIRED else "optional "
            elif f.proto3_optional:
                label = "optional "
        return f"{label}{_type_name(f, None)} {f.name} = {f.number}{_field_opts(f, syntax)};"

    real_oneofs = {}
    for i, o in enumerate(msg.oneof_decl):
        members = [f for f in msg.field if f.HasField("oneof_index") and f.oneof_index == i]
        if members and all(f.proto3_optional for f in members):
            continue  # synthetic oneof of a proto3 `optional` field
        real_oneofs[i] = o
    emitted = set()
    for f in msg.field:
        if f.HasField("oneof_index") and f.oneof_index in real_oneofs:
            i = f.oneof_index
            if i in emitted:
                continue
            emitted.add(i)
            lines.append(f"{pad}  oneof {msg.oneof_decl[i].name} {{")
            for g in msg.field:
                if g.HasField("oneof_index") and g.oneof_index == i:
                    lines.append(f"{pad}    {field_line(g, True)}")
            lines.append(f"{pad}  }}")
        else:
            lines.append(f"{pad}  {field_line(f, False)}")
    for r in msg.reserved_range:
        lines.append(f"{pad}  reserved {r.start}{'' if r.end - 1 == r.start else f' to {r.end - 1}'};")
    if msg.reserved_name:
        lines.append(f"{pad}  reserved {', '.join(chr(34) + n + chr(34) for n in msg.reserved_name)};")
    for r in msg.extension_range:
        lines.append(f"{pad}  extensions {r.start} to {r.end - 1};")
    lines.append(f"{pad}}}")
    return lines


def render(fdp) -> str:
    syntax = fdp.syntax or "proto2"
    if syntax == "editions":
        raise SystemExit(f"{fdp.name}: editions syntax not supported by this renderer")
    out = [
        "// Schema facts of TensorFlow's " + fdp.name + ", written for tfformats.",
        "// Regenerate with tools/render_protos.py; compiled by tools/build_descriptors.py.",
        f'syntax = "{syntax}";',
        "",
        f"package {fdp.package};",
        "",
    ]
    for dep in fdp.dependency:
        out.append(f'import "{dep}";')
    if fdp.dependency:
        out.append("")
    for e in fdp.enum_type:
        out += _render_enum(e, 0)
        out.append("")
    for m in fdp.message_type:
        out += _render_message(m, syntax, 0)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    files = {}

    def walk(fd):
        if fd.name in files:
            return
        files[fd.name] = fd
        for d in fd.dependencies:
            walk(d)

    for m in MODULES:
        walk(importlib.import_module(m).DESCRIPTOR)
    for name, fd in sorted(files.items()):
        if name.startswith("google/protobuf/"):
            continue  # well-known types come with protoc
        fdp = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(fdp)
        path = os.path.join(OUT, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(render(fdp))
        print("wrote", os.path.relpath(path, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
