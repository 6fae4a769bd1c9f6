"""Names TensorFlow accepts that a reader may not expect, for tests/test_odd_names.py (needs TensorFlow).

Writes into tests/data/odd_names/:

* ``lambda_saved_model/`` -- ``tf.saved_model.save`` of a module whose signature is a ``tf.function``
  of a lambda: TensorFlow names the function ``__inference_<lambda>_N`` (TF 2.4 does so for every
  lookup table's initializer, Keras 3's ``ExportArchive`` for lambda endpoints);
* ``lambda_graph.pb`` -- the GraphDef of a concrete function of lambdas (its library holds them);
* ``nul_key.*`` -- a checkpoint written by the raw ``SaveV2`` op with tensor names ``"\\x00nul"`` and
  ``"plain"``: a name starting with a NUL byte, which TensorFlow lists and reads like any other (only
  keys that a partitioned tensor's entry names as its slices are hidden);
* ``expected.json`` -- what TensorFlow reads: the function names, the signature's output for an
  input, the checkpoint's variables and values.
"""

import json
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "odd_names")


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    m = tf.Module()
    m.v = tf.Variable([1.0, 2.0])
    m.f = tf.function(lambda x: x * m.v, input_signature=[tf.TensorSpec([2], tf.float32)])
    sm = os.path.join(OUT, "lambda_saved_model")
    tf.saved_model.save(m, sm, signatures=m.f)
    inner = tf.function(lambda x: tf.sin(x) * 2.0)
    outer = tf.function(lambda x: inner(x) + 1.0, input_signature=[tf.TensorSpec([3], tf.float32)])
    graph = outer.get_concrete_function().graph.as_graph_def()
    with open(os.path.join(OUT, "lambda_graph.pb"), "wb") as f:
        f.write(graph.SerializeToString())
    loaded = tf.saved_model.load(sm)
    out = loaded.signatures["serving_default"](tf.constant([3.0, 4.0]))

    prefix = os.path.join(OUT, "nul_key")
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=["\x00nul", "plain"], shape_and_slices=["", ""],
                      tensors=[tf.constant([1, 2, 3]), tf.constant(2.5)])
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    expected = {
        "graph_functions": sorted(fn.signature.name for fn in graph.library.function),
        "signature_output": {k: v.numpy().tolist() for k, v in out.items()},
        "nul_key": {name.encode("unicode_escape").decode("ascii"): {"shape": list(shapes[name]),
                                                                      "value": reader.get_tensor(name).tolist()}
                    for name in sorted(shapes)},
        "tensorflow": tf.__version__,
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    print(expected)


if __name__ == "__main__":
    main()
