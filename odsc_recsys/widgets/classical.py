"""Side-by-side explorer of the classical recommenders (notebook 01).

Pick a user, or type a few movie titles (with autocomplete), and see every model's top-k list
next to the others, with titles and genres. The pure function :func:`recommendation_table`
does the work and is what the tests check; :class:`ClassicalExplorer` wraps it in widgets.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd

from ..catalog import Catalog
from ..protocol import Recommender
from .display import SCROLL_BOX, TABLE_FONT_PX, SnapshotBox

__all__ = ["ClassicalExplorer", "classical_explorer", "describe", "recommendation_table"]


def describe(catalog: Catalog, index: int) -> str:
    """``"Title (year) [Genre, Genre]"`` for a catalogue index."""
    return f"{catalog.title(index)} [{', '.join(catalog.genres[index])}]"


def recommendation_table(
    models: Mapping[str, Recommender],
    history: Sequence[int],
    catalog: Catalog,
    k: int = 10,
) -> pd.DataFrame:
    """Each model's top-``k`` list for one history, side by side (rank x model).

    Items already in the history are excluded. Cells read ``"Title (year) [genres]"``.
    """
    history = np.asarray(history, dtype=np.int64)
    columns = {}
    for name, model in models.items():
        rec = model.recommend(history, k, exclude=history)
        columns[name] = [describe(catalog, int(i)) for i in rec] + [""] * (k - len(rec))
    return pd.DataFrame(columns, index=pd.RangeIndex(1, k + 1, name="rank"))


_CELL = "padding:3px 8px;vertical-align:top;text-align:left;"


def _html_table(models: Mapping[str, Recommender], history: np.ndarray, catalog: Catalog,
                k: int) -> str:  # fmt: skip
    head = "".join(
        f"<th style='{_CELL}border-bottom:1px solid #888'>{html.escape(n)}</th>" for n in models
    )
    lists = {n: m.recommend(history, k, exclude=history) for n, m in models.items()}
    rows = []
    for r in range(k):
        cells = []
        for name in models:
            rec = lists[name]
            if r < len(rec):
                i = int(rec[r])
                genres = html.escape(", ".join(catalog.genres[i]))
                cells.append(
                    f"<td style='{_CELL}'>{html.escape(catalog.title(i))}<br>"
                    f"<span style='color:#555;font-size:0.9em'>{genres}</span></td>"
                )
            else:
                cells.append(f"<td style='{_CELL}'></td>")
        rows.append(f"<tr><td style='{_CELL}'>{r + 1}</td>{''.join(cells)}</tr>")
    # Seven lists side by side are wide: titles wrap, and at high zoom the box scrolls sideways
    # instead of cutting the last columns.
    return (
        f"<div style='{SCROLL_BOX}'>"
        f"<table style='font-size:{TABLE_FONT_PX}px;line-height:1.3;border-collapse:collapse'>"
        f"<thead><tr><th style='{_CELL}border-bottom:1px solid #888'>#</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


class ClassicalExplorer:
    """Widgets to compare the classical models' lists for a user or for typed-in titles.

    Parameters
    ----------
    models : dict of name -> fitted Recommender
    catalog : Catalog
    histories : dict of user_id -> history
        The users offered in the drop-down (their whole history is used as input).
    k : int
        List length.
    n_recent : int
        How many of the most recent history titles to show above the lists.
    """

    def __init__(
        self,
        models: Mapping[str, Recommender],
        catalog: Catalog,
        histories: Mapping[int, np.ndarray],
        k: int = 10,
        n_recent: int = 5,
    ) -> None:
        if not models:
            raise ValueError("ClassicalExplorer needs at least one fitted model")
        self.models = dict(models)
        self.catalog = catalog
        self.histories = histories
        self.k = k
        self.n_recent = n_recent
        self.typed: list[int] = []
        self.mode = widgets.ToggleButtons(options=["A user", "My movies"], value="A user")
        self.user = widgets.Dropdown(options=sorted(histories), description="User")
        self.title_box = widgets.Combobox(
            options=list(catalog.titles),
            placeholder="Type a title, pick it from the list",
            ensure_option=True,
            description="Add movie",
            layout=widgets.Layout(width="420px", max_width="100%"),
        )
        self.clear_button = widgets.Button(
            description="Clear my movies", layout=widgets.Layout(width="auto", flex="0 0 auto")
        )
        # Never wider than the notebook: a wide table scrolls inside its box (at 150% zoom,
        # say) instead of pushing the panel past the edge, where it would be cut.
        self.output = widgets.HTML(layout=widgets.Layout(width="100%", overflow="auto"))
        self.mode.observe(self._refresh, names="value")
        self.user.observe(self._refresh, names="value")
        self.title_box.observe(self._on_title, names="value")
        self.clear_button.on_click(lambda _: self.clear())
        typing_row = widgets.HBox(
            [self.title_box, self.clear_button], layout=widgets.Layout(flex_flow="row wrap")
        )
        # Where the widget cannot render (an untrusted notebook, a viewer without widgets), the
        # front end shows the snapshot of the lists instead (odsc_recsys.widgets.display).
        self.widget = SnapshotBox(
            [self.mode, self.user, typing_row, self.output],
            text=lambda: (
                f"ClassicalExplorer({len(self.models)} models, "
                f"{len(self.histories)} users, k={self.k})"
            ),
            snapshot=lambda: {"text/html": self.output.value},
        )
        self._refresh()

    # ---- actions (also callable from code) ---------------------------------------------

    def show_user(self, user_id: int) -> None:
        """Switch to a user's whole history."""
        if user_id not in self.histories:
            raise ValueError(
                f"unknown user {user_id}: choose one of the {len(self.histories)} users"
            )
        self.mode.value = "A user"
        self.user.value = user_id
        self._refresh()

    def add_title(self, title: str) -> None:
        """Append a movie (by title) to "my movies" and switch to them."""
        index = self.catalog.find(title)
        if index not in self.typed:
            self.typed.append(index)
        self.mode.value = "My movies"
        self._refresh()

    def clear(self) -> None:
        """Forget the typed movies."""
        self.typed = []
        self._refresh()

    @property
    def history(self) -> np.ndarray:
        """The history the lists are computed from right now."""
        if self.mode.value == "A user":
            return np.asarray(self.histories[self.user.value], dtype=np.int64)
        return np.asarray(self.typed, dtype=np.int64)

    def table(self) -> pd.DataFrame:
        """The lists currently shown, as a DataFrame."""
        return recommendation_table(self.models, self.history, self.catalog, self.k)

    # ---- plumbing ----------------------------------------------------------------------

    def _on_title(self, change: dict) -> None:
        if change["new"]:
            self.add_title(change["new"])
            self.title_box.value = ""

    def _refresh(self, _change: dict | None = None) -> None:
        hist = self.history
        recent = [self.catalog.title(int(i)) for i in hist[-self.n_recent :]]
        who = f"user {self.user.value}" if self.mode.value == "A user" else "your movies"
        if hist.size:
            intro = (
                f"<p><b>{html.escape(who)}</b>: {hist.size} movies; most recent last: "
                f"{html.escape('; '.join(recent))}</p>"
            )
        else:
            intro = f"<p><b>{html.escape(who)}</b>: no movies yet (every model falls back to popularity)</p>"
        self.output.value = intro + _html_table(self.models, hist, self.catalog, self.k)

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)


def classical_explorer(
    models: Mapping[str, Recommender],
    catalog: Catalog,
    histories: Mapping[int, np.ndarray],
    k: int = 10,
) -> ClassicalExplorer:
    """Build the explorer; display it by leaving it as the last expression of a cell."""
    return ClassicalExplorer(models, catalog, histories, k=k)
