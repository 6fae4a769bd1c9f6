"""Serialized TensorProtos that only ``tensor_content`` can carry: variant tensors.

``tf.io.serialize_tensor`` writes every non-string tensor with
``Tensor::AsProtoTensorContent``; for ``DT_VARIANT`` that is
``port::EncodeVariantList``: each element's length as a varint32, then the
elements' serialized ``VariantTensorDataProto`` messages.  The TensorLists
here are what ``tf.data``/``tf.function`` code serializes (e.g. into
TFRecords).

Writes ``tests/data/tensors/``:

* ``<name>.pb``: the bytes ``tf.io.serialize_tensor`` returned;
* ``variants.npz``: for each file and element ``i``, what TensorFlow reads
  back from those bytes (``tf.io.parse_tensor`` then ``TensorListStack``):
  ``<name>/<i>/values``; and ``variants.json``: each file's shape and, per
  element, the list's length and element dtype as TensorFlow reports them.
"""

import json
import os

import numpy as np
import tensorflow as tf
from tensorflow.python.ops import list_ops

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "tensors")


def lists():
    a = list_ops.tensor_list_from_tensor(tf.constant([[1.0, 2.0], [3.0, 4.0]]), element_shape=[2])
    b = list_ops.tensor_list_from_tensor(tf.constant([7, 8, 9], tf.int64), element_shape=[])
    c = list_ops.tensor_list_from_tensor(tf.constant([[1.5, -2.5, 3.25]]), element_shape=[3])
    empty = list_ops.empty_tensor_list(element_shape=[2], element_dtype=tf.float32)
    strings = list_ops.tensor_list_from_tensor(tf.constant([b"ab", b"", b"xyz"]), element_shape=[])
    return {
        "list_scalar": a,  # shape [] (one TensorList)
        "list_int64": b,
        "list_strings": strings,
        "list_empty": empty,
        "list_vector": tf.stack([a, c]),  # shape [2]: two TensorLists of float32 rows
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    arrays = {}
    info = {}
    for name, t in lists().items():
        data = tf.io.serialize_tensor(t).numpy()
        with open(os.path.join(OUT, name + ".pb"), "wb") as f:
            f.write(data)
        back = tf.io.parse_tensor(data, out_type=tf.variant)
        flat = tf.reshape(back, [-1])
        elements = []
        for i in range(int(tf.size(flat))):
            lst = flat[i]
            length = int(list_ops.tensor_list_length(lst))
            # the element dtype the list was built with (TensorListStack must be told it)
            edtype = {"list_int64": tf.int64, "list_strings": tf.string}.get(name, tf.float32)
            values = list_ops.tensor_list_stack(lst, element_dtype=edtype).numpy()
            if values.dtype == object:
                values = np.array([bytes(v) for v in values.reshape(-1)], dtype=object).reshape(values.shape)
            arrays[f"{name}/{i}/values"] = values
            elements.append({"length": length, "element_dtype": edtype.name})
        info[name] = {"shape": [int(d) for d in back.shape], "elements": elements}
    np.savez(os.path.join(OUT, "variants.npz"), **arrays)
    with open(os.path.join(OUT, "variants.json"), "w") as f:
        json.dump({"tensorflow": tf.__version__, "files": info}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
