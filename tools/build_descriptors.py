"""Compile ``protos/`` into the descriptor set the package loads at run time.

    python tools/build_descriptors.py          # writes tfformats/proto/tensorflow.binpb
    python tools/build_descriptors.py --check  # exit 1 when the committed set is stale

Needs ``grpcio-tools`` (development and test time only).
"""

from __future__ import annotations

import glob
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTOS = os.path.join(ROOT, "protos")
OUT = os.path.join(ROOT, "tfformats", "proto", "tensorflow.binpb")


def compile_protos() -> bytes:
    """Run protoc over every .proto under protos/; returns the serialized set."""
    import grpc_tools
    from grpc_tools import protoc

    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    files = sorted(
        os.path.relpath(p, PROTOS) for p in glob.glob(os.path.join(PROTOS, "**", "*.proto"), recursive=True)
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "set.binpb")
        args = ["protoc", f"-I{PROTOS}", f"-I{include}", f"--descriptor_set_out={out}", "--include_imports", *files]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        with open(out, "rb") as f:
            return f.read()


def normalized(data: bytes):
    """The set as a {file name: FileDescriptorProto} map, for comparisons."""
    from google.protobuf import descriptor_pb2

    fds = descriptor_pb2.FileDescriptorSet.FromString(data)
    return {f.name: f for f in fds.file}


def main(argv: list[str]) -> int:
    fresh = compile_protos()
    if "--check" in argv:
        with open(OUT, "rb") as f:
            committed = f.read()
        if normalized(fresh) != normalized(committed):
            print("tfformats/proto/tensorflow.binpb is out of date: run python tools/build_descriptors.py")
            return 1
        print("descriptor set is up to date")
        return 0
    with open(OUT, "wb") as f:
        f.write(fresh)
    print(f"wrote {os.path.relpath(OUT, ROOT)} ({len(fresh)} bytes, {len(normalized(fresh))} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
