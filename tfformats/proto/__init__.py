"""TensorFlow's protobuf messages, from a private descriptor pool.

The schemas in ``protos/`` (package ``tensorflow``, TensorFlow's own message
and field names and numbers) are compiled into ``tensorflow.binpb``.  They are
loaded into a :class:`~google.protobuf.descriptor_pool.DescriptorPool` of our
own, never the default pool, so ``import tensorflow`` and ``import tfformats``
coexist in one process, and ``Any`` type URLs (``type.googleapis.com/tensorflow.X``)
and text format are the same as TensorFlow's.

Message classes are built on first use::

    from tfformats.proto import pb
    graph = pb.GraphDef.FromString(data)
    pb.TensorShapeProto.Dim

Nothing is loaded at import time.
"""

from __future__ import annotations

import os
import threading

__all__ = ["pb", "pool", "message_class", "PACKAGE"]

PACKAGE = "tensorflow"
_DESCRIPTOR_SET = os.path.join(os.path.dirname(__file__), "tensorflow.binpb")

_lock = threading.Lock()
_pool = None
_classes: dict[str, type] = {}


def pool():
    """The private DescriptorPool holding every schema tfformats knows."""
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                from google.protobuf import descriptor_pb2, descriptor_pool

                with open(_DESCRIPTOR_SET, "rb") as f:
                    fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
                p = descriptor_pool.DescriptorPool()
                for fdp in fds.file:
                    p.Add(fdp)
                _pool = p
    return _pool


def message_class(full_name: str) -> type:
    """The message class for a fully qualified name, e.g. ``tensorflow.GraphDef``."""
    cls = _classes.get(full_name)
    if cls is None:
        from google.protobuf import message_factory

        desc = pool().FindMessageTypeByName(full_name)
        cls = message_factory.GetMessageClass(desc)
        _classes[full_name] = cls
    return cls


class _Nested:
    """Attribute access to nested messages and enums of one message type."""

    def __init__(self, full_name: str) -> None:
        self._full_name = full_name

    def __getattr__(self, name: str):
        return _lookup(f"{self._full_name}.{name}")


def _lookup(full_name: str):
    p = pool()
    try:
        return message_class(full_name)
    except KeyError:
        pass
    try:
        from google.protobuf.internal import enum_type_wrapper

        return enum_type_wrapper.EnumTypeWrapper(p.FindEnumTypeByName(full_name))
    except KeyError:
        raise AttributeError(f"no message or enum {full_name!r} in tfformats' schemas") from None


class _Messages:
    """``pb.Name`` gives the class of ``tensorflow.Name`` (messages and enums).

    Nested types resolve through the class (``pb.TensorShapeProto.Dim``), and
    dotted names are accepted by :func:`message_class`.  Keras' metadata
    messages live in their own package: ``pb.keras.SavedMetadata``.
    """

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        if name == "keras":
            return _Nested("third_party.py.tf_keras.protobuf")
        if name == "google":
            return _Nested("google.protobuf")
        value = _lookup(f"{PACKAGE}.{name}")
        setattr(self, name, value)
        return value


pb = _Messages()
