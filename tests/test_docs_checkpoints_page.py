"""The Python examples of docs/checkpoints.md run (from the repository root, in
order, in one namespace), and what the page says they return is true."""

from __future__ import annotations

import contextlib
import io

from test_docs_graph_pages import ROOT, _blocks


def test_checkpoint_page_examples_run(monkeypatch):
    page = ROOT / "docs" / "checkpoints.md"
    monkeypatch.chdir(ROOT)
    ns: dict = {}
    blocks = _blocks(page.read_text())
    assert len(blocks) >= 5
    for i, block in enumerate(blocks):
        with contextlib.redirect_stdout(io.StringIO()) as out:
            exec(compile(block, f"checkpoints.md[block {i}]", "exec"), ns)
        if i == 0:
            assert "<tfformats CheckpointReader" in out.getvalue() and "V2, 16 tensors, 1 shard" in out.getvalue()
    # The claims next to the examples
    r, g = ns["r"], ns["g"]
    assert not ns["view"].flags.writeable and ns["rows"].shape[0] == 3
    owners = g.tensor_owners(r.keys())
    assert set(owners) == set(r.keys()) - {"_CHECKPOINTABLE_OBJECT_GRAPH"}
    assert g.keys_without_tensors(r.keys()) == []
