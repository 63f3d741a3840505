"""Every number in a notebook's prose is printed by that notebook or cited next to its source.

A "number" is a decimal (0.0819, 84.9%) or an integer of four digits and more (1,682; 2015).
It passes when one of the notebook's outputs shows it (rounding allowed: 0.082 from 0.0819,
and 8.2% from 0.0819), or when its paragraph or list item cites a source: a link, an
author-year citation such as "(Mnih et al. 2015)", or "notebook NN" whose outputs show it.
Numbers inside inline code and LaTeX-free URLs are code, not claims, and are skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))

NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d{4,})(?![\w]|\.\d)")
ANY_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
AUTHOR_YEAR = re.compile(  # "(Watkins 1989)", "Mnih et al. 2015", "Koren and Volinsky, 2008"
    r"\([A-Z][\w\-]+(?: et al\.|\s+(?:and|&)\s+[A-Z][\w\-]+)?,?\s+(?:19|20)\d\d\)"
    r"|[A-Z][\w\-]+\s+(?:et al\.|(?:and|&)\s+[A-Z][\w\-]+),?\s+\(?(?:19|20)\d\d\b")
NOTEBOOK_REF = re.compile(r"notebooks? (\d\d[a-z]?)\b", re.I)
BLOCK_START = re.compile(r"^\s*(?:[*\-+]|\d+\.)\s", re.M)


def _outputs(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        for mime in ("text/plain", "text/markdown", "text/html"):
            parts.append("".join(out.get("data", {}).get(mime, "")))
    return "\n".join(parts)


def _values(text: str) -> set[float]:
    return {float(m.group(0).replace(",", "")) for m in ANY_NUMBER.finditer(text)}


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _pool(nb: dict) -> set[float]:
    return set().union(*(_values(_outputs(c)) for c in nb["cells"] if c["cell_type"] == "code"))


POOLS = {p.name.split("_")[0]: _pool(_load(p)) for p in NOTEBOOKS}


def shown(token: str, pool: set[float]) -> bool:
    """True if ``token`` is some output value, itself or rounded (or as a percentage)."""
    value = float(token.replace(",", ""))
    places = len(token.split(".")[1]) if "." in token else 0
    return any(
        abs(x) == value or round(abs(x) * scale, places) == value
        for x in pool for scale in (1, 100, 0.01)
    )  # fmt: skip


def blocks(markdown: str) -> list[str]:
    """Paragraphs and list items: the unit a citation must share with its number."""
    out = []
    for paragraph in re.split(r"\n\s*\n", markdown):
        starts = [m.start() for m in BLOCK_START.finditer(paragraph)] or [0]
        starts = sorted({0, *starts})
        out += [paragraph[a:b] for a, b in zip(starts, [*starts[1:], len(paragraph)], strict=True)]
    return out


def unsupported(markdown: str, pool: set[float]) -> list[str]:
    """The numbers of ``markdown`` that neither ``pool`` shows nor a citation supports."""
    missing = []
    for block in blocks(markdown):
        if LINK.search(block) or AUTHOR_YEAR.search(block):
            continue
        text = re.sub(r"`[^`]*`", " ", block)  # inline code is code
        extra = set().union(*(POOLS.get(n, set()) for n in NOTEBOOK_REF.findall(text)))
        missing += [t for t in NUMBER.findall(text) if not shown(t, pool | extra)]
    return missing


def test_the_rule_catches_an_uncited_number_and_accepts_shown_or_cited_ones():
    pool = {0.08194, 1682.0}
    assert unsupported("HR@10 is 0.082 on 1,682 movies.", pool) == []
    assert unsupported("That is 8.2% of lists.", pool) == []
    assert unsupported("The original reached 0.0900.", pool) == ["0.0900"]
    assert unsupported("The original reached 0.0900 ([paper](https://example.org)).", pool) == []
    assert unsupported("Replay (Mnih et al. 2015) stores 4,096 rows.", pool) == []
    assert unsupported("* one: 0.0900\n* two, [cited](x): 0.0800", pool) == ["0.0900"]
    assert unsupported("Set `batch=4096` first.", pool) == []
    assert unsupported("Rated between May 1997 and April 1998.", pool) == ["1997", "1998"]
    assert unsupported("Implicit feedback (Hu 2008) weighs 0.85.", pool) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_prose_numbers_are_printed_or_cited(path):
    nb = _load(path)
    pool = POOLS[path.name.split("_")[0]]
    problems = [
        f"cell {i}: {token}"
        for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "markdown"
        for token in unsupported("".join(cell["source"]), pool)
    ]  # fmt: skip
    assert not problems, f"{path.name}: numbers neither printed nor cited: {problems}"
