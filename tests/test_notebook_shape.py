"""Notebooks a room can read from a projector: short cells, the series' opening and closing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
ALL = NOTEBOOKS + sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
MAX_LINES = {"code": 30, "markdown": 25}


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_cells_fit_on_a_slide(path):
    cells = json.loads(path.read_text())["cells"]
    too_long = [
        (i, cell["cell_type"], n)
        for i, cell in enumerate(cells)
        if cell["cell_type"] in MAX_LINES
        and (n := len("".join(cell["source"]).splitlines())) > MAX_LINES[cell["cell_type"]]
    ]
    assert not too_long, f"{path.name}: (cell, type, lines) over the limit: {too_long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_states_its_run_time_and_ends_with_references(path):
    cells = json.loads(path.read_text())["cells"]
    assert "**Run time:**" in "".join(cells[0]["source"]), path.name
    markdown = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    assert any(m.lstrip().startswith("## References") for m in markdown), path.name
