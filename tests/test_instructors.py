"""INSTRUCTORS.md cannot drift: each path's minutes add up to its length, and every notebook and
section it names exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "INSTRUCTORS.md"
HOW = {"run", "show", "try", "skip", "—"}


def path_rows(text: str, minutes: int) -> tuple[list[list[str]], int, str]:
    """The rows of the table under "## The N-minute path", its total, and the text after it."""
    match = re.search(rf"^## The {minutes}-minute path\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"INSTRUCTORS.md has no '## The {minutes}-minute path' section"
    section = match.group(1)
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|")
    ]
    header, *body = rows
    assert header[0] == "min", header
    body = [r for r in body if not set("".join(r)) <= set("-: ")]  # drop the |---| line
    totals = [r for r in body if r[0].startswith("**")]
    assert len(totals) == 1, f"the {minutes}-minute table needs exactly one total row"
    total = int(totals[0][0].strip("*"))
    return [r for r in body if not r[0].startswith("**")], total, section


def headings(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return [line for line in text.splitlines() if line.startswith("#")]


@pytest.mark.parametrize("minutes", [90, 180])
def test_path_minutes_add_up(minutes):
    rows, total, section = path_rows(GUIDE.read_text(), minutes)
    assert all(r[0].isdigit() for r in rows), [r[0] for r in rows if not r[0].isdigit()]
    assert sum(int(r[0]) for r in rows) == total == minutes
    # the written-out sum says the same
    written = re.search(r"^Sum:.*?=\s*\*\*(\d+)\*\*", section, re.M | re.S)
    assert written and int(written.group(1)) == minutes
    terms = re.search(r"=\s*([\d\s+]+)=\s*\*\*\d+\*\*", section, re.S)
    assert terms, "the sum line needs the per-notebook subtotals"
    assert sum(int(t) for t in terms.group(1).split("+")) == minutes


@pytest.mark.parametrize("minutes", [90, 180])
def test_path_names_existing_notebooks_and_sections(minutes):
    rows, _, _ = path_rows(GUIDE.read_text(), minutes)
    for _minute, notebook, section, how, _say in rows:
        assert how in HOW, f"'{how}' is not one of {sorted(HOW)}"
        if notebook == "—":
            continue
        matches = sorted((ROOT / "notebooks").glob(f"{notebook}_*.ipynb"))
        assert len(matches) == 1, f"no notebook {notebook}_*.ipynb for '{section}'"
        heads = headings(matches[0])
        number = re.match(r"§(\d+)\b", section)
        if number:
            wanted = f"## {number.group(1)}."
            assert any(h.startswith(wanted) for h in heads), f"{matches[0].name}: no '{wanted}'"
        else:
            assert any(section in h for h in heads), f"{matches[0].name}: no heading '{section}'"


def test_readme_links_the_guide_and_the_guide_names_the_solutions():
    assert "(INSTRUCTORS.md)" in (ROOT / "README.md").read_text()
    text = GUIDE.read_text()
    assert "notebooks/solutions/NN_solutions.ipynb" in text
    for widget in ["classical_explorer", "bellman_explorer", "qtable_explorer"]:
        assert widget in text
