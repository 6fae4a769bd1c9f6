"""TFRecord datasets as Dask collections (the optional extra ``dask``).

::

    import tfformats.dask

    df = tfformats.dask.read_examples("gs://bucket/train-*.tfrecord")   # a dask DataFrame
    df = tfformats.dask.read_examples("data/*.tfrecord.gz", columns=["label", "tokens"])
    bag = tfformats.dask.read_records("s3://bucket/logs/*.tfrecord")       # a dask Bag of bytes

Like :func:`dask.dataframe.read_parquet`, nothing is decoded when the
collection is made except a sample of records from the first files, from which
the schema (the ``meta``) is inferred; each partition is decoded where it is
computed -- on the workers of a ``distributed`` cluster -- by
:func:`tfformats.example.decode_examples`.

Partitions: one per file, and uncompressed files larger than ``blocksize``
are split into byte ranges.  A range ``[start, end)`` holds the records that
*start* in it; its reader finds the first one by scanning from ``start`` for
12 bytes that form a valid record header (length + masked CRC32C of the
length) followed by a record whose data CRC matches, so the partitions of a
file together hold each record exactly once.  Compressed files (GZIP, ZLIB,
SNAPPY) cannot be entered in the middle and are always one partition.

Columns (pandas dtypes), from each feature's :class:`~tfformats.example.FeatureSpec`:

===========================  =====================================================
feature                      column
===========================  =====================================================
int64 / float32, shape ()    ``int64`` / ``float32`` (numpy)
bytes, shape ()              ``binary[pyarrow]``
any kind, fixed shape (k,)   ``fixed_size_list<item>[k][pyarrow]`` (shapes flattened)
any kind, variable length    ``list<item>[pyarrow]`` (a missing feature: empty list)
===========================  =====================================================

A fixed-shape feature missing from a record is an error unless its spec has a
``default``; a sample that is not representative (a feature fixed-length in
the first records, variable later) is fixed by passing ``features=`` --
a :class:`~tfformats.example.Schema` or ``{name: FeatureSpec}``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from .errors import InvalidArgumentError

__all__ = ["read_examples", "read_records", "partitions", "Partition", "meta_for"]

#: Uncompressed files larger than this are split into byte ranges of this size.
DEFAULT_BLOCKSIZE = 128 << 20
#: Records of the first file used to infer the schema.
DEFAULT_SAMPLE = 1000
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$", re.IGNORECASE)


def _parse_size(value) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, int):
        if value <= 0:
            raise InvalidArgumentError(f"blocksize must be positive, not {value}")
        return value
    m = _SIZE.match(str(value))
    if not m:
        raise InvalidArgumentError(f"cannot read blocksize {value!r} (use bytes or e.g. '64MiB')")
    base = 1024 if m.group(3) else 1000  # "64MiB" binary, "64MB" decimal
    n = float(m.group(1)) * base ** "_kmgt".index(m.group(2).lower() or "_")
    if n < 1:
        raise InvalidArgumentError(f"blocksize must be positive, not {value!r}")
    return int(n)


# ---------------------------------------------------------------------------
# Partitions.


@dataclass(frozen=True)
class Partition:
    """One unit of work: the records of ``path`` starting in ``[start, end)``.

    ``end=None`` means to the end of the file; ``start=0, end=None`` is the
    whole file (any compression).
    """

    path: str
    start: int = 0
    end: Optional[int] = None
    compression: Optional[str] = None

    @property
    def is_range(self) -> bool:
        return self.start != 0 or self.end is not None

    def read_options(self) -> dict:
        opts: dict = {"compression": self.compression}
        if self.is_range:
            opts["start"] = self.start
            opts["end"] = self.end
        return opts


def _expand(urlpath, storage_options) -> list[tuple[str, object, str]]:
    """``[(path to read, fs, fs path)]``: local files as plain paths (read with pread), others as URLs."""
    from ._io import remote

    fs, paths, protocol = remote.expand(urlpath, storage_options)
    local = protocol in ("file", "local")
    out = []
    for p in paths:
        out.append((p if local else fs.unstrip_protocol(p), fs, p))
    return out


def _detect(path: str, storage_options) -> str:
    from . import records

    if storage_options and "://" in path:
        from ._io.remote import RemoteSource

        with RemoteSource(path, storage_options=storage_options) as src:
            return records.detect_compression(src)
    return records.detect_compression(path)


def partitions(
    urlpath,
    *,
    blocksize="default",
    compression: Optional[str] = None,
    storage_options: Optional[dict] = None,
) -> list[Partition]:
    """The partitions :func:`read_examples` and :func:`read_records` make.

    ``urlpath``: a path or fsspec URL with glob characters, or a list of them.
    ``blocksize``: split uncompressed files larger than this (bytes, or a
    string like ``"64MiB"``; ``"default"`` is 128 MiB); ``None``: one
    partition per file.  ``compression``: as in
    :func:`tfformats.records.read`; ``None`` detects it from the first file's
    content, and files are split only if it is uncompressed (each range then
    checks its own file again and refuses a compressed one).
    """
    from ._io.records import NONE, normalize_compression

    files = _expand(urlpath, storage_options)
    if not files:
        raise InvalidArgumentError(f"no files match {urlpath!r}")
    comp = normalize_compression(compression)
    size = DEFAULT_BLOCKSIZE if blocksize == "default" else _parse_size(blocksize)
    splittable = size is not None and (comp == NONE or (comp is None and _detect(files[0][0], storage_options) == NONE))
    sizes = {}
    if splittable:
        fs = files[0][1]
        try:
            sizes = dict(zip([f[2] for f in files], fs.sizes([f[2] for f in files])))
        except Exception:  # some filesystems cannot list sizes in bulk
            sizes = {f[2]: f[1].size(f[2]) for f in files}
    out = []
    for path, _fs, fs_path in files:
        n = sizes.get(fs_path)
        if not splittable or n is None or n <= size:
            out.append(Partition(path, 0, None, comp))
            continue
        for lo in range(0, n, size):
            hi = lo + size
            out.append(Partition(path, lo, hi if hi < n else None, comp))
    return out


# ---------------------------------------------------------------------------
# Schema -> pandas.


def _pa_type(kind: Optional[str]):
    import pyarrow as pa

    from .example import BYTES, INT64

    if kind == INT64:
        return pa.int64()
    if kind == BYTES:
        return pa.binary()
    return pa.float32()


def _column_dtype(spec):
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from .example import BYTES

    item = _pa_type(spec.kind)
    if spec.shape is None:
        return pd.ArrowDtype(pa.list_(item))
    if spec.size == 1 and len(spec.shape) == 0:
        if spec.kind == BYTES:
            return pd.ArrowDtype(pa.binary())
        return spec.dtype if spec.kind is not None else np.dtype(np.float32)
    return pd.ArrowDtype(pa.list_(item, spec.size))


def meta_for(specs) -> "pandas.DataFrame":  # noqa: F821
    """The empty DataFrame (column names and dtypes) for ``{name: FeatureSpec}``."""
    import pandas as pd

    return pd.DataFrame({name: pd.Series([], dtype=_column_dtype(spec)) for name, spec in specs.items()})


def _to_arrow_values(values, kind):
    import numpy as np
    import pyarrow as pa

    from .example import BYTES

    t = _pa_type(kind)
    if kind == BYTES:
        return pa.array(values, type=t)  # an object array of bytes: converted in C++
    return pa.array(np.ascontiguousarray(values).astype(t.to_pandas_dtype(), copy=False), type=t)


def _column(data, spec, n: int):
    """One decoded column (ndarray or Ragged) as a pandas array of the meta's dtype."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from .example import BYTES, Ragged

    dtype = _column_dtype(spec)
    if isinstance(data, Ragged):
        offsets = np.zeros(n + 1, np.int32)
        if n:
            np.cumsum(data.row_lengths, out=offsets[1:])
        arr = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), _to_arrow_values(data.values, spec.kind))
        return pd.array(arr, dtype=dtype)
    data = np.asarray(data)
    if spec.shape is None:  # variable in the schema but every row happens to have the same length
        k = data.shape[1] if data.ndim > 1 else 1
        offsets = np.arange(0, n * k + 1, k, dtype=np.int32)
        arr = pa.ListArray.from_arrays(pa.array(offsets), _to_arrow_values(data.reshape(-1), spec.kind))
        return pd.array(arr, dtype=dtype)
    if isinstance(dtype, pd.ArrowDtype):
        if pa.types.is_fixed_size_list(dtype.pyarrow_dtype):
            arr = pa.FixedSizeListArray.from_arrays(_to_arrow_values(data.reshape(-1), spec.kind), spec.size)
        else:  # bytes scalar
            arr = _to_arrow_values(data.reshape(-1), BYTES)
        return pd.array(arr, dtype=dtype)
    return data.reshape(-1).astype(dtype, copy=False)


def frame_from_columns(columns: dict, specs: dict, n: int):
    """A pandas DataFrame (meta's dtypes) from :func:`~tfformats.example.decode_examples` columns."""
    import pandas as pd

    if n == 0:
        return meta_for(specs)
    return pd.DataFrame({name: _column(columns[name], spec, n) for name, spec in specs.items()}, index=pd.RangeIndex(n))


# ---------------------------------------------------------------------------
# Reading one partition (runs on the workers).


class ExamplePartitionReader:
    """Decodes one :class:`Partition` into a pandas DataFrame.

    Takes dask's ``columns=`` keyword, so ``df[["a", "b"]]`` decodes only
    those features (each feature is decoded separately, so the others cost
    nothing but the parse of each record into per-feature byte strings).
    """

    def __init__(self, specs: dict, *, verify: bool = True, storage_options: Optional[dict] = None) -> None:
        self.specs = dict(specs)
        self.verify = verify
        self.storage_options = storage_options

    def _source(self, part: Partition):
        if self.storage_options and "://" in part.path:
            from ._io.remote import RemoteSource

            return RemoteSource(part.path, storage_options=self.storage_options)
        return part.path

    def __call__(self, part: Partition, columns: Optional[Sequence[str]] = None):
        from . import example, records

        names = list(self.specs) if columns is None else [columns] if isinstance(columns, str) else list(columns)
        specs = {name: self.specs[name] for name in names}
        source = self._source(part)
        try:
            with records.read(source, verify=self.verify, **part.read_options()) as it:
                recs = list(it)
            cols = example.decode_examples(recs, specs) if recs and specs else {}
        finally:
            if not isinstance(source, str):
                source.close()
        if not specs:
            import pandas as pd

            return pd.DataFrame(index=pd.RangeIndex(len(recs)))
        return frame_from_columns(cols, specs, len(recs))

    def __repr__(self) -> str:
        return f"<tfformats ExamplePartitionReader: {len(self.specs)} features>"


def _records_of(part: Partition, verify: bool, storage_options) -> list:
    from . import records

    source = ExamplePartitionReader({}, storage_options=storage_options)._source(part)
    try:
        with records.read(source, verify=verify, **part.read_options()) as it:
            return list(it)
    finally:
        if not isinstance(source, str):
            source.close()


# ---------------------------------------------------------------------------
# Public API.


#: At most this many files are opened to collect the schema sample.
SAMPLE_FILES = 16


def _sample(parts: list, sample: int, storage_options, verify: bool):
    """The first ``sample`` records of the dataset, file after file (empty shards are skipped)."""
    from . import records

    reader = ExamplePartitionReader({}, storage_options=storage_options)
    seen = 0
    paths = list(dict.fromkeys(p.path for p in parts))[:SAMPLE_FILES]
    for path in paths:
        first = next(p for p in parts if p.path == path)
        source = reader._source(first)
        try:
            # the whole file when it is not split; its first range otherwise
            opts = first.read_options() if first.is_range else {"compression": first.compression}
            with records.read(source, verify=verify, **opts) as it:
                for rec in it:
                    yield rec
                    seen += 1
                    if seen >= sample:
                        return
        finally:
            if not isinstance(source, str):
                source.close()


def _specs_from(features, parts: list, sample: int, storage_options, verify: bool) -> dict:
    from . import example

    if features is not None:
        specs = example._specs_of(features)
        missing = [k for k, v in specs.items() if v is None]
        if not missing:
            return specs
    else:
        specs = None
        missing = []
    where = parts[0].path
    schema = example.infer_schema(_sample(parts, sample, storage_options, verify), limit=sample)
    if isinstance(schema, example.SequenceSchema):
        raise InvalidArgumentError(
            "the records are SequenceExamples; read them with read_records and decode_sequence_example",
            path=where,
        )
    if not len(schema):
        raise InvalidArgumentError(
            f"no features in the first {sample} records (of up to {SAMPLE_FILES} files) to infer a schema from; "
            "pass features=",
            path=where,
        )
    inferred = dict(schema.items())
    if specs is None:
        return inferred
    for name in missing:
        if name not in inferred:
            raise InvalidArgumentError(f"feature {name!r} is not in the sampled records; give its spec", path=where)
        specs[name] = inferred[name]
    return specs


def read_examples(
    urlpath,
    *,
    columns: Optional[Sequence[str]] = None,
    features=None,
    blocksize="default",
    compression: Optional[str] = None,
    sample: int = DEFAULT_SAMPLE,
    verify: bool = True,
    storage_options: Optional[dict] = None,
):
    """A Dask DataFrame of the ``tf.train.Example`` records of TFRecord files.

    ``urlpath``: local path or fsspec URL (``gs://``, ``s3://``, ``https://``...)
    with glob characters (files in sorted order), or a list of them (in the
    order given).  ``columns``: features to load (default: all).
    ``features``: the schema (:class:`~tfformats.example.Schema`,
    ``{name: FeatureSpec or kind}``, or a list of names whose specs are then
    inferred); ``None`` infers it from the first ``sample`` records of the
    first files (empty ones skipped).  ``blocksize``/``compression``: see
    :func:`partitions`.  ``verify``: check every record's CRCs.
    ``storage_options``: passed to fsspec (credentials, ``anon=True``...).

    Each partition has a fresh ``RangeIndex``; divisions are unknown.
    """
    import dask.dataframe as dd

    parts = partitions(urlpath, blocksize=blocksize, compression=compression, storage_options=storage_options)
    specs = _specs_from(features, parts, sample, storage_options, verify)
    if columns is not None:
        columns = [columns] if isinstance(columns, str) else list(columns)
        unknown = [c for c in columns if c not in specs]
        if unknown:
            raise InvalidArgumentError(f"unknown columns {unknown}; the features are {sorted(specs)}")
    else:
        columns = list(specs)
    reader = ExamplePartitionReader(specs, verify=verify, storage_options=storage_options)
    meta = meta_for({name: specs[name] for name in columns})
    return dd.from_map(
        reader, parts, meta=meta, label="read-tfrecord-examples", enforce_metadata=False, columns=columns
    )


def read_records(
    urlpath,
    *,
    blocksize="default",
    compression: Optional[str] = None,
    verify: bool = True,
    storage_options: Optional[dict] = None,
):
    """A Dask Bag of the raw records (``bytes``) of TFRecord files, partitioned like :func:`read_examples`.

    For records that are not Examples (SequenceExamples, events, anything):
    ``read_records(...).map(tfformats.example.decode_sequence_example)``.
    """
    import dask.bag as db
    from dask import delayed

    parts = partitions(urlpath, blocksize=blocksize, compression=compression, storage_options=storage_options)
    load = delayed(_records_of, pure=True)
    return db.from_delayed([load(p, verify, storage_options, dask_key_name=f"read-tfrecords-{_token(p, verify)}")
                            for p in parts])


def _token(part: Partition, verify: bool) -> str:
    from dask.base import tokenize

    return tokenize(part.path, part.start, part.end, part.compression, verify)
