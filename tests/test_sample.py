"""The sample checkpoint shipped for the README quick start reads as TF read it."""

import json
from pathlib import Path

import numpy as np

import tfformats

SAMPLE = Path(__file__).parent.parent / "examples" / "sample_checkpoint"


def test_sample_checkpoint_matches_tensorflow():
    expected = json.loads((SAMPLE / "expected.json").read_text())
    reader = tfformats.load_checkpoint(SAMPLE)
    got = [[n, s, reader.get_variable_to_dtype_map()[n]] for n, s in reader.list_variables()]
    assert got == expected["variables"]
    kernel = reader.get_tensor("model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE")
    np.testing.assert_array_equal(kernel, np.array(expected["kernel"], np.float32))
    assert tfformats.latest_checkpoint(SAMPLE) == str((SAMPLE / expected["prefix"]).resolve()) or \
        tfformats.latest_checkpoint(SAMPLE).endswith(expected["prefix"])
