"""tfformats: read TensorFlow's on-disk formats without TensorFlow.

Checkpoints (V1 and V2), GraphDefs, MetaGraphs, SavedModels, TFRecords and
event files, Keras weights files and tf.data saved datasets, as numpy arrays and protobuf messages.  Importing the package is
cheap: submodules load on first use.
"""

from __future__ import annotations

from importlib import import_module

from .errors import (
    ChecksumError,
    DataLossError,
    InvalidArgumentError,
    NotFoundError,
    ResourceLimitError,
    TFFormatsError,
    UnknownTensorError,
    UnsupportedError,
)

__version__ = "0.1.0"

# public name -> module that defines it (loaded lazily by __getattr__)
_LAZY = {
    "CheckpointReader": "tfformats.checkpoint.reader",
    "load_checkpoint": "tfformats.checkpoint.reader",
    "list_variables": "tfformats.checkpoint.reader",
    "load_variable": "tfformats.checkpoint.reader",
    "latest_checkpoint": "tfformats.checkpoint.state",
    "get_checkpoint_state": "tfformats.checkpoint.state",
    "update_checkpoint_state": "tfformats.checkpoint.state",
    "save_checkpoint": "tfformats.checkpoint.writer",
    "CheckpointWriter": "tfformats.checkpoint.writer",
    "save_object_checkpoint": "tfformats.checkpoint.object_writer",
    "read_graph_def": "tfformats.graph",
    "read_meta_graph": "tfformats.graph",
    "write_graph_def": "tfformats.graph",
    "summarize_graph": "tfformats.graph",
    "graph_constants": "tfformats.graph",
    "freeze_graph": "tfformats.graph",
    "iter_nodes": "tfformats.graph",
    "load_saved_model": "tfformats.saved_model",
    "SavedModel": "tfformats.saved_model",
    "freeze_saved_model": "tfformats.saved_model",
    "tensor_to_numpy": "tfformats.tensor",
    "numpy_to_tensor": "tfformats.tensor",
    "read_records": "tfformats.records",
    "count_records": "tfformats.records",
    "write_records": "tfformats.records",
    "open_records": "tfformats.records",
    "RecordFile": "tfformats.records",
    "RecordWriter": "tfformats.records",
    "decode_example": "tfformats.example",
    "decode_examples": "tfformats.example",
    "decode_sequence_example": "tfformats.example",
    "read_examples": "tfformats.example",
    "infer_example_schema": "tfformats.example",
    "encode_example": "tfformats.example",
    "encode_sequence_example": "tfformats.example",
    "read_events": "tfformats.events",
    "iter_events": "tfformats.events",
    "iter_summaries": "tfformats.events",
    "load_keras_weights": "tfformats.keras",
    "KerasWeights": "tfformats.keras",
    "load_dataset": "tfformats.dataset",
    "SavedDataset": "tfformats.dataset",
}

__all__ = sorted(
    [
        "ChecksumError",
        "DataLossError",
        "InvalidArgumentError",
        "NotFoundError",
        "ResourceLimitError",
        "TFFormatsError",
        "UnknownTensorError",
        "UnsupportedError",
        "__version__",
        *_LAZY,
    ]
)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tfformats' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
