"""Aligned plain-text tables and human-friendly numbers for terminal output."""

from __future__ import annotations

import unicodedata
from typing import Iterable, Sequence


def _width(text: str) -> int:
    """Display width: East Asian wide characters take two columns."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in text)


MAX_ALIGNED_WIDTH = 80  # cells wider than this do not set their column's width


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    align: str | None = None,
    indent: str = "",
    gap: int = 2,
) -> str:
    """Format ``rows`` under ``headers`` as aligned columns.

    ``align`` has one character per column: ``l`` (left) or ``r`` (right);
    by default columns whose values are all numbers are right-aligned.  The
    last column is never padded on the right.
    """
    rows = [["" if v is None else str(v) for v in row] for row in rows]
    headers = [str(h) for h in headers]
    ncol = len(headers)
    for row in rows:
        if len(row) != ncol:
            raise ValueError(f"row has {len(row)} cells, expected {ncol}")
    if align is None:
        align = "".join("r" if rows and all(_numeric(r[i]) for r in rows) else "l" for i in range(ncol))
    # a column is as wide as its cells, but one outsized cell (a 300-character tensor name) does
    # not widen every row: it overflows, and only its own row loses alignment
    widths = [max([_width(headers[i])] + [w for w in (_width(r[i]) for r in rows) if w <= MAX_ALIGNED_WIDTH])
              for i in range(ncol)]
    sep = " " * gap

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            pad = max(widths[i] - _width(c), 0)
            if align[i] == "r":
                out.append(" " * pad + c)
            elif i == ncol - 1:
                out.append(c)
            else:
                out.append(c + " " * pad)
        return (indent + sep.join(out)).rstrip()

    lines = [line(headers)]
    lines.extend(line(r) for r in rows)
    return "\n".join(lines)


def key_values(pairs: Iterable[tuple[str, object]], *, indent: str = "") -> str:
    """``key: value`` lines with the values aligned."""
    pairs = [(str(k), "" if v is None else str(v)) for k, v in pairs]
    if not pairs:
        return ""
    w = max(_width(k) for k, _ in pairs) + 1
    return "\n".join(f"{indent}{(k + ':').ljust(w)} {v}".rstrip() for k, v in pairs)


def _numeric(text: str) -> bool:
    t = text.replace(",", "").replace("_", "").strip()
    if not t:
        return True
    try:
        float(t)
        return True
    except ValueError:
        return False


def human_bytes(n: int) -> str:
    """``1536`` -> ``'1.5 KiB'``; exact below 1 KiB."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024.0
        if value < 1024 or unit == "PiB":
            return f"{value:.1f} {unit}"
    return f"{n} B"  # pragma: no cover


def human_count(n: int) -> str:
    """``1234567`` -> ``'1,234,567'``."""
    return f"{n:,}"


def shape_str(shape) -> str:
    if shape is None:
        return "<unknown>"
    return "[" + ", ".join("?" if d is None or (isinstance(d, int) and d < 0) else str(d) for d in shape) + "]"
