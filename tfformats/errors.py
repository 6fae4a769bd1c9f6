"""The exceptions tfformats raises.

Every error a caller can provoke with a bad file is a :class:`TFFormatsError`.
Subclasses also derive from the builtin exception they resemble, so callers can
catch either the library's class or the familiar builtin::

    try:
        reader.get_tensor("w")
    except KeyError:          # also catches UnknownTensorError
        ...

Messages name the file and, where it applies, the entry or byte offset.
"""

from __future__ import annotations

import os

__all__ = [
    "TFFormatsError",
    "NotFoundError",
    "DataLossError",
    "ChecksumError",
    "UnknownTensorError",
    "UnsupportedError",
    "InvalidArgumentError",
    "ResourceLimitError",
]


def _where(path: object = None, entry: object = None, offset: int | None = None) -> str:
    parts = []
    if path is not None:
        parts.append(os.fspath(path) if isinstance(path, os.PathLike) else str(path))
    if entry is not None:
        parts.append(f"entry {entry!r}")
    if offset is not None:
        parts.append(f"offset {offset}")
    return ", ".join(parts)


class TFFormatsError(Exception):
    """Base class of every error tfformats raises for a bad file or argument.

    ``path``, ``entry`` and ``offset`` say where the problem is, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: object = None,
        entry: object = None,
        offset: int | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.entry = entry
        self.offset = offset
        where = _where(path, entry, offset)
        super().__init__(f"{where}: {message}" if where else message)

    def __reduce__(self):  # keep pickling working across processes (dask)
        return (_rebuild, (type(self), self.message, self.path, self.entry, self.offset))

    def __str__(self) -> str:
        return self.args[0] if self.args else self.message


def _rebuild(cls, message, path, entry, offset):
    return cls(message, path=path, entry=entry, offset=offset)


class NotFoundError(TFFormatsError, FileNotFoundError):
    """A file, checkpoint or directory entry that should exist does not."""


class DataLossError(TFFormatsError, ValueError):
    """The bytes are corrupt or truncated: bad structure, lengths or offsets."""


class ChecksumError(DataLossError):
    """A CRC32C checksum stored in the file does not match the data."""


class UnknownTensorError(TFFormatsError, KeyError):
    """A tensor or variable name that the checkpoint does not hold."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.args[0] if self.args else self.message


class UnsupportedError(TFFormatsError, NotImplementedError):
    """The file is valid but uses a feature tfformats cannot read."""


class InvalidArgumentError(TFFormatsError, ValueError):
    """A caller passed an argument that cannot work (bad name, bad slice...)."""


class ResourceLimitError(TFFormatsError, MemoryError):
    """Honouring the file would need more memory than its bytes can justify.

    Raised, for example, when a tiny TensorProto claims a huge shape to be
    filled from one repeated value.  Limits are documented parameters.
    """
