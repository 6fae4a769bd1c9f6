"""The Python examples of docs/records.md and docs/events.md run, and print what they say.

Same rules as tests/test_docs_graph_pages.py: each page's ```python blocks run in order in one
namespace from the repository root; outputs shown as trailing ``# value`` comments must appear.
"""

from __future__ import annotations

import contextlib
import io

import pytest

from test_docs_graph_pages import ROOT, _blocks, _expected


@pytest.mark.parametrize("page", ["records.md", "events.md"])
def test_examples_run_and_print_what_the_page_says(page, monkeypatch, tmp_path):
    if page == "events.md":
        pytest.importorskip("pandas")
    path = ROOT / "docs" / page
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("TFFORMATS_DOCS_TMP", str(tmp_path))
    ns: dict = {}
    blocks = _blocks(path.read_text())
    assert blocks, page
    for i, block in enumerate(blocks):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile(block, f"{page}[block {i}]", "exec"), ns)
        printed = " ".join(buf.getvalue().split())
        for want in _expected(block):
            assert " ".join(want.split()) in printed, f"{page} block {i}: {want!r} not in output:\n{buf.getvalue()}"
