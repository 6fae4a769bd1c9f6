"""The Python examples of the graph / SavedModel / freezing docs run, and print what they say.

Each page's ```python blocks run in order in one namespace, from the repository
root (the examples use the committed fixtures under tests/data).  Output shown
in the docs as a trailing comment (``print(x)   # value``) or as comment lines
right after a line of code (no blank line between) must appear in what the
block printed; prose comments stand after a blank line or open a block.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["formats-overview.md", "graphs.md", "saved-models.md", "freezing.md"]


def _blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def _expected(block: str) -> list[str]:
    lines = block.splitlines()
    out = []
    for i, line in enumerate(lines):
        s = line.strip()
        m = re.search(r"print\(.*\)\s+#\s(.+)$", line)
        if m and not s.startswith("#"):
            out.append(m.group(1).strip())
            continue
        if s.startswith("# ") and i > 0:
            prev = lines[i - 1].strip()
            if prev and (not prev.startswith("#") or prev in [f"# {o}" for o in out]):
                out.append(s[2:].strip())
    return out


@pytest.mark.parametrize("page", PAGES)
def test_examples_run_and_print_what_the_page_says(page, monkeypatch, tmp_path):
    path = ROOT / "docs" / page
    if not path.exists():
        pytest.fail(f"missing docs/{page}")
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
    for f in os.listdir(ROOT / "tests" / "data"):
        assert not f.startswith("_tmp"), "a docs example left a file behind"
