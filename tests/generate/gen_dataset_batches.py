"""Saved datasets of *batched* ragged and sparse elements, for tests/test_dataset.py (needs TensorFlow).

A batched composite is stored as one encoded value per row (a ``[batch]`` variant of ragged
tensors, a ``[batch, 3]`` variant of sparse ones), which the reader merges as TensorFlow does.
Writes into tests/data/dataset_batches/, with ``Dataset.load``'s reading in ``expected.json``:

* ``sparse_batch`` -- ``map(parse_single_example)`` of a VarLenFeature, then ``batch(2)``;
* ``sparse_rank2_batch`` -- 2-D sparse tensors of varying dense shapes, ``batch(3)``;
* ``ragged_batch`` -- ``batch(2)`` of ragged elements (ragged rank 1 each, rank 2 batched);
* ``ragged_batch_op`` -- ``ragged_batch(3)`` of dense vectors of varying length.
"""

import json
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "dataset_batches")


def datasets():
    recs = [
        tf.train.Example(features=tf.train.Features(feature={
            "t": tf.train.Feature(int64_list=tf.train.Int64List(value=list(range(i))))})).SerializeToString()
        for i in range(5)
    ]
    yield "sparse_batch", tf.data.Dataset.from_tensor_slices(recs).map(
        lambda r: tf.io.parse_single_example(r, {"t": tf.io.VarLenFeature(tf.int64)})).batch(2)
    yield "sparse_rank2_batch", tf.data.Dataset.range(7).map(
        lambda i: tf.sparse.SparseTensor([[0, 0], [1, 2]], tf.cast(tf.stack([i, -i]), tf.float32),
                                         tf.stack([tf.constant(2, tf.int64), 3 + i % 3]))).batch(3)
    yield "ragged_batch", tf.data.Dataset.range(5).map(
        lambda x: tf.RaggedTensor.from_row_lengths(tf.range(x * 2), [x, x])).batch(2)
    yield "ragged_batch_op", tf.data.Dataset.range(7).map(lambda x: tf.range(x % 4)).ragged_batch(3)


def value(v):
    if isinstance(v, tf.SparseTensor):
        return {"sparse_dense": tf.sparse.to_dense(v).numpy().tolist(), "dense_shape": v.dense_shape.numpy().tolist()}
    if isinstance(v, tf.RaggedTensor):
        return {"ragged": v.to_list()}
    if isinstance(v, dict):
        return {k: value(x) for k, x in v.items()}
    return {"dense": v.numpy().tolist()}


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    expected = {"tensorflow": tf.__version__, "cases": {}}
    for name, ds in datasets():
        path = os.path.join(OUT, name)
        ds.save(path)
        expected["cases"][name] = [value(e) for e in tf.data.Dataset.load(path)]
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    print({k: len(v) for k, v in expected["cases"].items()})


if __name__ == "__main__":
    main()
