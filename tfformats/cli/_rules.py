"""The security rules of ``tfformats scan``: which ops are risky, and why.

Each rule maps an op type to ``(severity, category, why)``.  Severities, from
least to most serious: ``info`` < ``low`` < ``medium`` < ``high`` < ``critical``.

The lists below were built by reading TensorFlow 2.21's op registry for ops
whose inputs or attrs name files, paths, addresses or URLs, or that run
Python, print, or talk to other processes (see tests/generate/gen_scan.py,
which also writes ``known_ops.txt``, every op name that registry knows).
Some ops are judged by their attrs or constant inputs in ``scan.py``
(``PrintV2`` to a ``file://`` stream, ``Debug*`` ops with ``debug_urls``,
``DecodeProtoV2`` with a descriptor file, ``CacheDataset`` to a file).
"""

from __future__ import annotations

SEVERITIES = ("info", "low", "medium", "high", "critical")
RANK = {s: i for i, s in enumerate(SEVERITIES)}

_R = {}


def _add(severity: str, category: str, why: str, *ops: str) -> None:
    for op in ops:
        _R[op] = (severity, category, why)


# -- running code -------------------------------------------------------------------
_add("high", "code-execution", "runs a Python callable of the loading process (tf.py_function / tf.numpy_function); "
     "the callable is not in the file, but the op executes whatever is registered under its token",
     "PyFunc", "PyFuncStateless", "EagerPyFunc")
_add("medium", "custom-code", "calls native code by name (XLA custom call); what runs depends on the loading binary",
     "XlaCustomCall", "XlaCustomCallV2")
_add("low", "opaque-code", "executes a serialized StableHLO/MLIR module whose contents are not scanned",
     "XlaCallModule", "_XlaHostComputeMlir")
_add("medium", "denial-of-service", "terminates the process when it runs", "Abort")
_add("high", "opaque-code", "runs TensorFlow ops written as MLIR text in its mlir_module attr, not as graph nodes",
     "MlirPassthroughOp")

# -- writing files ---------------------------------------------------------------------
_add("high", "file-write", "writes a file at a path taken from its input", "WriteFile")
_add("high", "file-write", "writes checkpoint files at a path taken from its input (outside a saver's own graph)",
     "Save", "SaveV2", "SaveSlices")
_add("high", "file-write", "renames and deletes checkpoint files (outside a saver's own graph)", "MergeV2Checkpoints")
_add("high", "file-write", "writes a dataset to files", "SaveDataset", "SaveDatasetV2", "DistributedSave",
     "DatasetToTFRecord", "ExperimentalDatasetToTFRecord", "SnapshotDataset", "SnapshotDatasetV2")
_add("high", "file-write", "writes files named in its attrs", "DumpTensor", "CalibrationStatisticsSaver")
_add("medium", "file-write", "writes TensorBoard summaries to a directory or database taken from its input",
     "CreateSummaryFileWriter", "CreateSummaryDbWriter")
_add("low", "logging", "writes a summary through a summary writer", "WriteSummary", "WriteScalarSummary",
     "WriteHistogramSummary", "WriteImageSummary", "WriteAudioSummary", "WriteGraphSummary", "WriteRawProtoSummary",
     "ImportEvent", "FlushSummaryWriter", "StatsAggregatorSetSummaryWriter")

# -- reading / listing files -------------------------------------------------------------
_add("high", "file-read", "reads a whole file at a path taken from its input; its bytes can flow to the outputs",
     "ReadFile")
_add("high", "file-read", "reads checkpoint files at a path taken from its input (outside a saver's own graph)",
     "Restore", "RestoreV2", "RestoreSlice", "DTensorRestoreV2")
_add("high", "file-read", "a reader that opens files named by a queue", "WholeFileReader", "WholeFileReaderV2",
     "TextLineReader", "TextLineReaderV2", "TFRecordReader", "TFRecordReaderV2", "FixedLengthRecordReader",
     "FixedLengthRecordReaderV2", "LMDBReader")
_add("high", "file-read", "a dataset that reads the files named by its input", "TFRecordDataset", "TFRecordDatasetV2",
     "FixedLengthRecordDataset", "FixedLengthRecordDatasetV2", "TextLineDataset", "CSVDataset", "CSVDatasetV2",
     "ExperimentalCSVDataset", "LMDBDataset", "ExperimentalLMDBDataset", "LoadDataset", "SnapshotDatasetReader",
     "SnapshotChunkDataset", "ListSnapshotChunksDataset")
_add("high", "file-read", "reads files matching a pattern in its attrs", "RecordInput")
_add("high", "file-read", "memory-maps the file named by its memory_region_name attr", "ImmutableConst")
_add("medium", "file-read", "reads a text file (in SavedModels normally a bundled vocabulary asset)",
     "InitializeTableFromTextFile", "InitializeTableFromTextFileV2")
_add("medium", "file-read", "reads vocabulary or checkpoint files named by its inputs/attrs", "GenerateVocabRemapping",
     "LoadAndRemapMatrix", "Skipgram", "FixedUnigramCandidateSampler")
_add("medium", "file-list", "lists the files matching a pattern (reveals the file system)", "MatchingFiles",
     "MatchingFilesDataset", "ExperimentalMatchingFilesDataset")
_add("high", "database", "opens a database named by its input", "SqlDataset", "ExperimentalSqlDataset")
_add("medium", "file-system", "changes file-system configuration", "FileSystemSetConfiguration")

# -- network -------------------------------------------------------------------------------
_add("high", "network", "makes or serves remote procedure calls", "RpcClient", "RpcCall", "RpcServer", "RpcServerStart",
     "RpcServerRegister", "RpcCheckStatus", "RpcGetValue", "DeleteRpcFutureResource")
_add("high", "network", "runs a function on a remote device named by its input", "RemoteCall")
_add("high", "network", "talks to a tf.data service at an address taken from its input", "DataServiceDataset",
     "DataServiceDatasetV2", "DataServiceDatasetV3", "DataServiceDatasetV4", "RegisterDataset", "RegisterDatasetV2")
_add("medium", "network", "exchanges tensors with other workers (collective communication)", "CollectiveReduce",
     "CollectiveReduceV2", "CollectiveReduceV3", "CollectiveGather", "CollectiveGatherV2", "CollectiveBcastSend",
     "CollectiveBcastRecv", "CollectiveBcastSendV2", "CollectiveBcastRecvV2", "CollectiveAllToAllV2",
     "CollectiveAllToAllV3", "CollectiveReduceScatterV2", "CollectiveInitializeCommunicator",
     "CollectiveAssignGroupV2")

_add("low", "network", "sends or receives tensors between devices or tasks (a saved graph does not normally hold one)",
     "_Send", "_Recv", "_HostSend", "_HostRecv", "Send", "Recv")

# -- printing / logging ----------------------------------------------------------------------
_add("low", "logging", "prints tensor values to the process's stderr/log", "PrintV2", "Print")
_add("low", "logging", "debug op; sends tensor values to its debug_urls when any are set", "DebugIdentity",
     "DebugIdentityV2", "DebugIdentityV3", "DebugNanCount", "DebugNumericSummary", "DebugNumericSummaryV2")

# -- reading code-like protos --------------------------------------------------------------------
_add("info", "nested-graph", "builds a dataset from a serialized GraphDef (scanned as a nested graph when constant)",
     "DatasetFromGraph")

# Ops a saver's own graph uses: expected there, flagged elsewhere.
SAVER_OPS = frozenset(
    {"Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice", "MergeV2Checkpoints", "DTensorRestoreV2"}
)

RULES = _R

# File-path inputs whose constant value is worth showing: op -> input index.
PATH_INPUT = {
    "WriteFile": 0, "ReadFile": 0, "SaveV2": 0, "RestoreV2": 0, "Save": 0, "Restore": 0, "SaveSlices": 0,
    "RestoreSlice": 0, "MergeV2Checkpoints": 1, "MatchingFiles": 0, "InitializeTableFromTextFileV2": 1,
    "InitializeTableFromTextFile": 1, "TFRecordDataset": 0, "TFRecordDatasetV2": 0, "TextLineDataset": 0,
    "FixedLengthRecordDataset": 0, "FixedLengthRecordDatasetV2": 0, "CSVDataset": 0, "CSVDatasetV2": 0,
    "SaveDataset": 1, "SaveDatasetV2": 1, "LoadDataset": 0, "DatasetToTFRecord": 1, "CacheDataset": 1,
    "CacheDatasetV2": 1, "CreateSummaryFileWriter": 1, "SqlDataset": 1, "DataServiceDataset": 3,
    "RpcClient": 0, "RpcServer": 0, "DistributedSave": 1, "LoadAndRemapMatrix": 0, "SnapshotDataset": 1,
    "SnapshotDatasetV2": 1,
}

# Python modules whose import by a Keras config means running their code.
DANGEROUS_MODULES = frozenset(
    {"os", "posix", "nt", "subprocess", "sys", "builtins", "__builtin__", "shutil", "importlib", "runpy", "pickle",
     "marshal", "code", "codeop", "pty", "socket", "ctypes", "webbrowser", "urllib", "http", "requests", "tempfile",
     "pathlib", "io", "commands", "popen2", "platform", "multiprocessing", "threading", "asyncio", "operator",
     "functools", "types", "inspect", "gc", "signal", "glob", "zipfile", "tarfile"}
)
