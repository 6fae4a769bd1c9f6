"""Write the tiny sample checkpoint shipped in examples/ (README quick start).

A small Keras 2 (tf_keras) MLP trained for one step with Adam, saved with tf.train.Checkpoint,
plus expected.json with what TensorFlow reads back.
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf
import tf_keras as keras  # Keras 2 naming: layer_with_weights-N

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "examples", "sample_checkpoint")


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(4, activation="relu", name="hidden"),
         keras.layers.Dense(2, name="logits")]
    )
    opt = keras.optimizers.Adam(1e-3)
    x = tf.random.normal((16, 8))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x)))
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    ckpt = tf.train.Checkpoint(model=model, optimizer=opt)
    prefix = ckpt.save(os.path.join(OUT, "model"))
    reader = tf.train.load_checkpoint(prefix)
    dtypes = reader.get_variable_to_dtype_map()
    expected = {
        "prefix": os.path.basename(prefix),
        "tensorflow_version": tf.__version__,
        "variables": [[n, s, dtypes[n].name] for n, s in tf.train.list_variables(prefix)],
        "kernel": reader.get_tensor("model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE").tolist(),
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print("wrote", prefix)


if __name__ == "__main__":
    main()
