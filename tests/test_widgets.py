"""The explorers' layout and display: labels fit, tables read, and an output that cannot show
a live widget shows a snapshot of it rather than ``VBox(children=...)``."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from odsc_recsys.catalog import Catalog
from odsc_recsys.classical import Popularity
from odsc_recsys.multi_table import GenreQTables
from odsc_recsys.widgets.classical import classical_explorer
from odsc_recsys.widgets.display import SnapshotBox, fit_width, html_table
from odsc_recsys.widgets.gridworld import bellman_explorer
from odsc_recsys.widgets.qtables import picker_width, qtable_explorer

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Movie 5 carries the longest title of MovieLens-100K (75 characters).
LONGEST = "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1963)"
TITLES = ["Star Wars (1977)", "Fargo (1996)", "Contact (1997)", "Heat (1995)", "Kids (1995)",
          LONGEST, "Jean de Florette (1986)"]  # fmt: skip
GENRE_OF = np.array([0, 1, 2, 0, 1, 2, 0])
NAMES = ["War", "Crime", "Documentary"]


def trained_tables() -> GenreQTables:
    """Tables whose every row ranks the longest title first, so the panel lists it."""
    tables = GenreQTables(GENRE_OF, NAMES, alpha=0.5, gamma=0.0)
    for genre in range(len(NAMES)):
        for row in range(int(tables.table_rows[genre])):
            tables._store.writable_row(genre, row)[5] = 1.0
    return tables


def width_ch(width: str) -> int:
    match = re.fullmatch(r"(\d+)ch", width)
    assert match, f"width {width!r} is not in ch"
    return int(match.group(1))


# ---- helpers ------------------------------------------------------------------------------


def test_fit_width_is_the_longest_label_plus_padding():
    assert fit_width(["ab", "abcde", ""]) == 5
    assert fit_width(["ab", "abcde"], padding=3) == 8
    assert fit_width([]) == 0
    with pytest.raises(ValueError, match="padding must be >= 0, got -1"):
        fit_width(["a"], padding=-1)


def test_html_table_escapes_aligns_and_rounds():
    frame = pd.DataFrame({"title": ["Fish & <Chips>", "B"], "q_value": [1.23456, 2.0]})
    out = html_table(frame, digits=2)
    assert "Fish &amp; &lt;Chips&gt;" in out and "<Chips>" not in out
    assert ">1.23</td>" in out and ">2.00</td>" in out
    # text left, numbers right, headers too
    assert "text-align:left;border-bottom:1px solid #888'>title</th>" in out
    assert "text-align:right;border-bottom:1px solid #888'>q_value</th>" in out
    assert "text-align:right'>1.23</td>" in out and "text-align:left'>B</td>" in out
    # a wide table scrolls sideways instead of being cut
    assert out.startswith("<div style='overflow-x:auto;width:0;min-width:100%'>")
    assert "font-size:14px" in out
    with pytest.raises(ValueError, match="digits must be >= 0"):
        html_table(frame, digits=-1)


def test_snapshot_box_adds_its_snapshot_to_the_widget_bundle():
    box = SnapshotBox([], text=lambda: "Panel(3 rows)", snapshot=lambda: {"text/html": "<b>x</b>"})
    bundle = box._repr_mimebundle_()
    assert bundle["text/plain"] == "Panel(3 rows)"
    assert bundle["text/html"] == "<b>x</b>"
    assert bundle[WIDGET_VIEW]["model_id"] == box.model_id


# ---- notebook 06: the Q-table explorer -------------------------------------------------------


def test_pickers_are_wide_enough_for_the_longest_title_with_its_genre():
    tables = trained_tables()
    panel = qtable_explorer(tables, TITLES, initial=(0, 1, 2), k=3)
    pickers = [*panel.children[0].children, panel.children[1].children[0]]
    longest_label = f"{LONGEST} [Documentary]"  # 89 characters
    assert [label for label, _ in pickers[0].options][5] == longest_label
    for picker in pickers:
        label_ch = width_ch(picker.style.description_width)
        assert label_ch >= len("movie 1")
        # description + the longest option + room for the arrow
        assert width_ch(picker.layout.width) >= label_ch + len(longest_label) + 3
        assert picker.layout.max_width == "100%"
    assert picker_width(["abc", "abcdef"]) == "19ch"  # 8 (label) + 6 + 5 (arrow)
    # two wide pickers share a row only if they fit: the rows wrap
    assert panel.children[0].layout.flex_flow == "row wrap"
    # the tables scroll inside their box rather than push the panel past the notebook's edge
    for html_view in (panel.children[3], panel.children[6]):
        assert (html_view.layout.width, html_view.layout.overflow) == ("100%", "auto")


def test_recommendation_buttons_show_whole_titles():
    tables = trained_tables()
    panel = qtable_explorer(tables, TITLES, initial=(0, 1, 2), k=3)
    buttons = panel.children[5].children
    descriptions = [b.description for b in buttons]
    assert descriptions[0] == LONGEST  # uncut (it used to stop at 28 characters)
    assert all(b.layout.width == "auto" for b in buttons)
    move_on = panel.children[7]
    assert move_on.description == "Move on: state = (m2, m3, clicked)"
    assert move_on.layout.width == "auto"


def test_qtable_explorer_output_holds_an_html_snapshot():
    tables = trained_tables()
    panel = qtable_explorer(tables, TITLES, initial=(0, 1, 2), k=3)
    bundle = panel._repr_mimebundle_()
    assert WIDGET_VIEW in bundle
    assert bundle["text/plain"] == (
        "QTableExplorer(Star Wars (1977), Fargo (1996), Contact (1997); k=3)"
    )
    snapshot = bundle["text/html"]
    assert "Scenario" in snapshot and "(a) three different genres" in snapshot
    assert "Sub-states: tables and rows consulted" in snapshot
    assert html.escape(LONGEST) in snapshot and ">1.000</td>" in snapshot  # its Q-value
    # a click shows up in the snapshot taken afterwards
    panel.children[5].children[0].click()
    assert f"Clicked {html.escape(LONGEST)}" in panel._repr_mimebundle_()["text/html"]


# ---- notebook 03: the Bellman explorer ------------------------------------------------------


def test_bellman_explorer_output_holds_a_picture():
    panel = bellman_explorer("slide", gamma=0.9, slip=0.0)
    bundle = panel._repr_mimebundle_()
    assert WIDGET_VIEW in bundle
    assert bundle["text/plain"] == "BellmanExplorer('slide', gamma=0.9, slip=0)"
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG") and png == bytes(panel.children[1].children[0].value)
    panel.children[0].children[0].value = 0.5  # the gamma slider
    assert "gamma=0.5" in panel._repr_mimebundle_()["text/plain"]
    assert bellman_explorer(["A.G"]).__class__ is SnapshotBox
    assert "1x3 grid" in bellman_explorer(["A.G"])._repr_mimebundle_()["text/plain"]


# ---- notebook 01: the classical explorer ----------------------------------------------------


def small_catalog() -> Catalog:
    return Catalog(
        item_ids=np.arange(1, len(TITLES) + 1),
        titles=list(TITLES),
        genres=[("War",), ("Crime",), ("Sci-Fi", "Drama"), ("War",), ("Drama",)]
        + [("Comedy",), ("Drama",)],
        popularity=np.ones(len(TITLES), dtype=np.int64),
    )


def test_classical_explorer_output_holds_its_lists_as_html():
    histories = {1: np.array([0, 1]), 2: np.array([2, 3, 4])}
    models = {"Popularity": Popularity().fit(histories, len(TITLES))}
    explorer = classical_explorer(models, small_catalog(), histories, k=3)
    explorer.show_user(2)
    bundle = explorer._repr_mimebundle_()
    assert WIDGET_VIEW in bundle
    assert bundle["text/plain"] == "ClassicalExplorer(1 models, 2 users, k=3)"
    snapshot = bundle["text/html"]
    # the intro names the user and the last movies; popularity lists movies 0, 1 and 5
    intro = "<b>user 2</b>: 3 movies; most recent last: Contact (1997); Heat (1995); Kids"
    assert intro in snapshot
    for title in ["Star Wars (1977)", "Fargo (1996)", html.escape(LONGEST)]:
        assert title in snapshot.split("</thead>")[1]
    assert "overflow-x:auto" in snapshot and "font-size:14px" in snapshot
    # "Clear my movies" is not cut, and nothing pushes the panel past the notebook's edge
    assert explorer.clear_button.layout.width == "auto"
    assert explorer.clear_button.layout.flex == "0 0 auto"
    assert explorer.widget.children[2].layout.flex_flow == "row wrap"
    assert explorer.title_box.layout.max_width == "100%"
    assert (explorer.output.layout.width, explorer.output.layout.overflow) == ("100%", "auto")


# ---- the set-up that makes saved widget state render ------------------------------------------


def test_make_lab_and_make_notebooks_trust_the_notebooks():
    """JupyterLab renders a widget, and saved widget state, only in a trusted notebook."""
    makefile = (ROOT / "Makefile").read_text()
    trust = re.search(r"^TRUST :?= (.*)$", makefile, re.MULTILINE)
    assert trust, "no TRUST command in the Makefile"
    assert "jupyter trust $(NOTEBOOKS) $(SOLUTIONS)" in trust.group(1)
    for target, after in [("lab", "jupyter lab"), ("notebooks", "nbconvert")]:
        recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
        assert recipe, f"no {target} target in the Makefile"
        lines = recipe.group(1)
        assert "$(TRUST)" in lines, target
        if target == "lab":  # before JupyterLab opens them
            assert lines.index("$(TRUST)") < lines.index(after)
        else:  # after re-execution changed them
            assert lines.index("$(TRUST)") > lines.index(after)
