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
from odsc_recsys.qtables import GenreQTables
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
            tables.store.writable_row(genre, row)[5] = 1.0
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
    controls = panel.controls
    pickers = controls.pickers
    assert [p.description for p in pickers] == ["movie 1", "movie 2", "movie 3"]
    longest_label = f"{LONGEST} [Documentary]"  # 89 characters
    assert [label for label, _ in pickers[0].options][5] == longest_label
    for picker in pickers:
        label_ch = width_ch(picker.style.description_width)
        assert label_ch >= len("movie 1")
        # description + the longest option + room for the arrow
        assert width_ch(picker.layout.width) >= label_ch + len(longest_label) + 3
        assert picker.layout.max_width == "100%"
    assert picker_width(["abc", "abcdef"]) == "19ch"  # 8 (label) + 6 + 5 (arrow)
    # two wide pickers share a row only if they fit: every row that holds a picker wraps
    rows = [row for row in panel.children if set(getattr(row, "children", ())) & set(pickers)]
    assert rows and all(row.layout.flex_flow == "row wrap" for row in rows)
    # the tables scroll inside their box rather than push the panel past the notebook's edge
    for html_view in (controls.body, controls.update_view):
        assert (html_view.layout.width, html_view.layout.overflow) == ("100%", "auto")


def test_every_control_is_on_the_panel():
    panel = qtable_explorer(trained_tables(), TITLES, initial=(0, 1, 2), k=3)
    shown = set()
    for child in panel.children:
        shown |= {child, *getattr(child, "children", ())}
    controls = panel.controls
    named = [*controls.pickers, controls.explore, controls.header, controls.body, controls.clicks,
             controls.update_view, controls.move_on]  # fmt: skip
    assert all(widget in shown for widget in named)
    assert controls.explore.disabled  # no rng: greedy lists only


def test_recommendation_buttons_show_whole_titles():
    tables = trained_tables()
    panel = qtable_explorer(tables, TITLES, initial=(0, 1, 2), k=3)
    buttons = panel.controls.clicks.children
    descriptions = [b.description for b in buttons]
    assert len(buttons) == 3 and descriptions[0] == LONGEST  # uncut (it used to stop at 28)
    assert all(b.layout.width == "auto" for b in buttons)
    move_on = panel.controls.move_on
    assert move_on.description == "Move on: state = (m2, m3, clicked)"
    assert move_on.layout.width == "auto"


def test_a_click_updates_the_tables_and_move_on_shifts_the_state():
    tables = trained_tables()
    panel = qtable_explorer(tables, TITLES, initial=(0, 1, 2), k=3)
    controls = panel.controls
    assert controls.move_on.disabled and controls.update_view.value == ""
    before = tables.score((0, 1, 2))[5]
    controls.clicks.children[0].click()  # the longest title, the best Q-value
    assert tables.score((0, 1, 2))[5] > before  # rewarded in every sub-state's row
    assert f"Clicked {html.escape(LONGEST)}" in controls.update_view.value
    assert not controls.move_on.disabled
    controls.move_on.click()
    assert [p.value for p in controls.pickers] == [1, 2, 5]  # (m2, m3, clicked)
    assert controls.move_on.disabled and controls.update_view.value == ""
    assert (
        "QTableExplorer(Fargo (1996), Contact (1997), Dr. Strangelove"
        in (panel._repr_mimebundle_()["text/plain"])
    )
    # two equal movies are not a state: the panel asks for three different ones
    controls.pickers[0].value = 2
    assert "Pick three different movies" in controls.header.value
    assert controls.clicks.children == ()


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
    panel.controls.clicks.children[0].click()
    assert f"Clicked {html.escape(LONGEST)}" in panel._repr_mimebundle_()["text/html"]


# ---- notebook 03: the Bellman explorer ------------------------------------------------------


def test_bellman_explorer_output_holds_a_picture():
    panel = bellman_explorer("slide", gamma=0.9, slip=0.0)
    bundle = panel._repr_mimebundle_()
    assert WIDGET_VIEW in bundle
    assert bundle["text/plain"] == "BellmanExplorer('slide', gamma=0.9, slip=0)"
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG") and png == bytes(panel.controls.picture.value)
    panel.controls.gamma.value = 0.5
    assert "gamma=0.5" in panel._repr_mimebundle_()["text/plain"]
    assert bellman_explorer(["A.G"]).__class__ is SnapshotBox
    assert "1x3 grid" in bellman_explorer(["A.G"])._repr_mimebundle_()["text/plain"]


def test_bellman_explorer_shows_all_its_controls():
    panel = bellman_explorer("slide")
    shown = set()
    for child in panel.children:
        shown |= {child, *getattr(child, "children", ())}
    c = panel.controls
    assert {c.gamma, c.slip, c.picture, c.table} <= shown
    assert (c.gamma.description, c.slip.description) == ("gamma", "slip")


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
