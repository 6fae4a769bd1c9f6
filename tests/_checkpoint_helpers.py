"""Helpers shared by the checkpoint tests: TF's expected values and index rewriting.

The expected values come from ``tests/generate/gen_checkpoints.py``, which read
every fixture back with TensorFlow (see ``tests/data/checkpoints/manifest.json``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import struct
from pathlib import Path

import numpy as np

from conftest import DATA, require_data

CK = DATA / "checkpoints"


@functools.lru_cache(maxsize=None)
def manifest() -> dict:
    return json.loads((require_data("checkpoints/manifest.json")).read_text())


def checkpoint(cid: str) -> dict:
    return manifest()["checkpoints"][cid]


def path_of(cid: str) -> str:
    return str(CK / checkpoint(cid)["path"])


@functools.lru_cache(maxsize=None)
def _npz(cid: str):
    with np.load(require_data(f"checkpoints/expected/{cid}.npz")) as z:
        return {k: z[k] for k in z.files}


def expected_strings(cid: str, key: str) -> list[bytes]:
    z = _npz(cid)
    data = z[key + "_bytes"].tobytes()
    out, pos = [], 0
    for n in z[key + "_lengths"].tolist():
        out.append(data[pos : pos + n])
        pos += n
    return out


def assert_matches(value: np.ndarray, cid: str, info: dict, label: str = "") -> None:
    """``value`` is bit-for-bit what TensorFlow read (dtype, shape, bytes)."""
    assert isinstance(value, np.ndarray), (label, type(value))
    assert list(value.shape) == info["shape"], (label, value.shape, info["shape"])
    kind = info["kind"]
    if kind == "variant":
        # TF's elements are serialized VariantTensorDataProtos; ours the parsed messages.
        assert value.dtype == object, label
        got = value.reshape(-1).tolist()
        want = expected_strings(cid, info["npz"])
        assert len(got) == len(want), label
        for i, (g, w) in enumerate(zip(got, want)):
            assert type(g).__name__ == "VariantTensorDataProto", (label, type(g))
            assert g == type(g).FromString(w), f"{label}[{i}]"
            assert g.SerializeToString() == w, f"{label}[{i}] (bytes)"
        return
    if kind == "strings":
        assert value.dtype == object, label
        got = value.reshape(-1).tolist()
        assert all(isinstance(x, bytes) for x in got), label
        assert got == expected_strings(cid, info["npz"]), label
        return
    assert str(value.dtype) == info["numpy_dtype"], (label, value.dtype, info["numpy_dtype"])
    data = np.ascontiguousarray(value).tobytes()
    if kind == "sha256":
        assert hashlib.sha256(data).hexdigest() == info["sha256"], label
    else:
        assert data == _npz(cid)[info["npz"]].tobytes(), label


# ---------------------------------------------------------------------------
# Copying and rewriting checkpoints
# ---------------------------------------------------------------------------
def copy_prefix(prefix: str, dst_dir: Path) -> str:
    """Copy the ``.index`` and data files of a V2 prefix into ``dst_dir``."""
    src_dir, base = os.path.split(prefix)
    dst_dir.mkdir(parents=True, exist_ok=True)
    for f in os.listdir(src_dir):
        if f == base + ".index" or f.startswith(base + ".data-"):
            shutil.copy2(os.path.join(src_dir, f), dst_dir / f)
    return str(dst_dir / base)


def read_index(prefix: str) -> list[tuple[bytes, bytes]]:
    from tfformats._io.table import Table

    with Table(prefix + ".index") as t:
        return list(t.items())


def write_table(path: str, items, **options) -> None:
    from tfformats._io.table_writer import build_table

    with open(path, "wb") as f:
        f.write(build_table(items, **options))


def entry(value: bytes):
    from tfformats.proto import pb

    return pb.BundleEntryProto.FromString(value)


def header(value: bytes):
    from tfformats.proto import pb

    return pb.BundleHeaderProto.FromString(value)


def rewrite_entry(prefix: str, key: str | bytes, change) -> None:
    """Apply ``change(entry_proto)`` to one index entry and rewrite the index."""
    if isinstance(key, str):
        key = key.encode()
    items = []
    found = False
    for k, v in read_index(prefix):
        if k == key:
            e = entry(v) if k else header(v)
            change(e)
            v = e.SerializeToString()
            found = True
        items.append((k, v))
    assert found, key
    write_table(prefix + ".index", items)


def block_compression_types(path: str) -> list[int]:
    """The compression byte of every data block of a table file."""
    from tfformats._io.table import Table

    with Table(path) as t:
        return [bytes(t.source.read(off + size, 1))[0] for off, size in t.block_spans()]


# ---------------------------------------------------------------------------
# A big-endian copy of a little-endian bundle
# ---------------------------------------------------------------------------
def _swap_numeric(data: bytes, numpy_name: str) -> bytes:
    import tfformats.dtypes as D

    npdt = D.BY_NAME[numpy_name].numpy if numpy_name in D.BY_NAME else np.dtype(numpy_name)
    if npdt.kind == "c":
        part = np.dtype(f"<f{npdt.itemsize // 2}")
        return np.frombuffer(data, part).astype(part.newbyteorder(">")).tobytes()
    if npdt.itemsize == 1:
        return data
    u = np.dtype(f"<u{npdt.itemsize}")
    return np.frombuffer(data, u).astype(u.newbyteorder(">")).tobytes()


def _big_endian_strings(data: bytes, n: int) -> tuple[bytes, int]:
    """Re-encode a string tensor's bytes as a big-endian writer lays them out."""
    from tfformats._io import crc, varint

    pos = 0
    lengths = []
    for _ in range(n):
        ln, pos = varint.decode(data, pos, len(data))
        lengths.append(ln)
    len_bytes = b"".join(struct.pack(">I" if x <= 0xFFFFFFFF else ">Q", x) for x in lengths)
    c_len = crc.value(len_bytes)
    checksum = struct.pack(">I", crc.mask(c_len))
    body = data[pos + 4 :]
    running = crc.extend(crc.extend(c_len, checksum), body)
    return data[:pos] + checksum + body, crc.mask(running)


def to_big_endian(prefix: str, dst_prefix: str) -> None:
    """Write a copy of the bundle at ``prefix`` as a big-endian machine would
    (header BIG, every numeric element byte-swapped, CRCs recomputed over the
    swapped bytes; string length checksums as big-endian u32)."""
    import tfformats.dtypes as D
    from tfformats._io import crc

    items = read_index(prefix)
    h = header(items[0][1])
    assert items[0][0] == b""
    h.endianness = 1
    shards: dict[int, bytearray] = {
        i: bytearray(Path(f"{prefix}.data-{i:05d}-of-{h.num_shards:05d}").read_bytes()) for i in range(h.num_shards)
    }
    out_items = [(b"", h.SerializeToString())]
    for k, v in items[1:]:
        e = entry(v)
        dt = D.BY_ENUM[e.dtype]
        if len(e.slices) == 0:
            buf = shards[e.shard_id]
            data = bytes(buf[e.offset : e.offset + e.size])
            if dt.enum == D.DT_STRING:
                n = int(np.prod([d.size for d in e.shape.dim], dtype=np.int64))
                new, masked = _big_endian_strings(data, n)
            else:
                new = _swap_numeric(data, dt.name)
                masked = crc.mask(crc.value(new))
            assert len(new) == len(data)
            buf[e.offset : e.offset + e.size] = new
            e.crc32c = masked
        out_items.append((k, e.SerializeToString()))
    for i, buf in shards.items():
        with open(f"{dst_prefix}.data-{i:05d}-of-{h.num_shards:05d}", "wb") as f:
            f.write(bytes(buf))
    write_table(dst_prefix + ".index", out_items)
