"""Explore the per-genre Q-tables live: pick three movies, see the sub-states and the tables
consulted, the recommendations and their Q-values; click one as the user's choice and watch
the Q-values update.

The panel is a thin layer over two pure functions, :func:`explain_state` and
:func:`click_update`, which the notebooks also call directly to print the same tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from odsc_recsys.qtables import GenreQTables, Recommendations
from odsc_recsys.widgets.display import SnapshotBox, fit_width, html_table

if TYPE_CHECKING:
    import ipywidgets as widgets

__all__ = [
    "ClickResult",
    "QTableControls",
    "StateExplanation",
    "click_update",
    "explain_state",
    "picker_width",
    "qtable_explorer",
]

_SCENARIOS = {
    "a": "(a) three different genres: three single-movie sub-states, one per table",
    "b": "(b) two movies share a genre: one pair sub-state and one single",
    "c": "(c) all three in one genre: its 3C2 = 3 pair sub-states",
    "short": "a history shorter than 3 movies: the same grouping on the movies present",
}


@dataclass(frozen=True)
class StateExplanation:
    """Everything the explorer shows for one state.

    Attributes
    ----------
    state : tuple of int
        The movies, oldest first.
    scenario : str
        The talk's scenario in words.
    substates : pandas.DataFrame
        One row per sub-state: table, movies, kind (nC1 or nC2), row, rows of that table.
    recommendations : Recommendations
        The list, its Q-values and sources.
    table : pandas.DataFrame
        The list as a table: rank, title, merged Q-value, proposing sub-state.
    """

    state: tuple[int, ...]
    scenario: str
    substates: pd.DataFrame
    recommendations: Recommendations
    table: pd.DataFrame


def explain_state(
    tables: GenreQTables,
    state: Sequence[int],
    titles: Sequence[str],
    k: int = 10,
    rng: np.random.Generator | None = None,
    exclude: Sequence[int] | None = None,
) -> StateExplanation:
    """Decompose a state, recommend from it, and describe both as tables.

    Parameters
    ----------
    tables : GenreQTables
        The (trained) tables.
    state : sequence of int
        Up to 3 catalogue indices, oldest first.
    titles : sequence of str
        Display title of every catalogue index.
    k : int
        List length.
    rng : numpy.random.Generator, optional
        Explore epsilon-greedily with it; greedy without.
    exclude : sequence of int, optional
        Movies never to recommend besides the state's.
    """
    state = tuple(int(m) for m in state)
    recs = tables.recommend(state, k=k, rng=rng, exclude=exclude)
    return StateExplanation(
        state=state,
        scenario=_SCENARIOS[tables.scenario(state)],
        substates=tables.substates_frame(state, titles),
        recommendations=recs,
        table=tables.recommendations_frame(recs, titles).drop(columns="item"),
    )


@dataclass(frozen=True)
class ClickResult:
    """What one click changed.

    Attributes
    ----------
    per_movie : pandas.DataFrame
        One row per listed movie: reward, merged Q before and after the update.
    per_substate : pandas.DataFrame
        The clicked movie's Q-value in each sub-state's row, before and after.
    next_state : tuple of int
        ``(m2, m3, clicked)``: the state after the click.
    """

    per_movie: pd.DataFrame
    per_substate: pd.DataFrame
    next_state: tuple[int, ...]


def click_update(
    tables: GenreQTables,
    state: Sequence[int],
    recommendations: Recommendations,
    clicked: int,
    titles: Sequence[str],
    reward: float = 15.0,
    penalty: float = 5.0,
) -> ClickResult:
    """Apply the Q-learning update for a click and report the Q-values before and after.

    The tables are updated in place (:meth:`GenreQTables.update`).
    """
    state = tuple(int(m) for m in state)
    subs = tables.decompose(state)
    before_rows = [tables.q_row(s) for s in subs]
    before = tables.score(state)
    actions = tables.update(state, recommendations, clicked, reward=reward, penalty=penalty)
    after = tables.score(state)
    after_rows = [tables.q_row(s) for s in subs]
    per_movie = pd.DataFrame(
        {
            "title": [titles[a] for a in actions],
            "reward": [reward if a == clicked else -penalty for a in actions],
            "q_before": before[actions],
            "q_after": after[actions],
        }
    )
    per_substate = pd.DataFrame(
        {
            "sub_state": [tables.substate_label(s, titles) for s in subs],
            "row": [s.row for s in subs],
            "q_before": [float(r[clicked]) for r in before_rows],
            "q_after": [float(r[clicked]) for r in after_rows],
        }
    )
    next_state = (state + (int(clicked),))[-3:]
    return ClickResult(per_movie=per_movie, per_substate=per_substate, next_state=next_state)


#: Width of the pickers' "movie 1" labels, in ch.
_PICKER_LABEL_CH = 8
#: Room for the drop-down's arrow and padding, in ch.
_PICKER_ARROW_CH = 5


def picker_width(labels: Sequence[str]) -> str:
    """CSS width of a movie picker whose options are ``labels``: the label, the longest
    option and the arrow all fit, so no title is cut."""
    return f"{_PICKER_LABEL_CH + fit_width(labels, padding=_PICKER_ARROW_CH)}ch"


@dataclass(frozen=True)
class QTableControls:
    """The widgets of :func:`qtable_explorer`, by name (``panel.controls``).

    Attributes
    ----------
    pickers : tuple of three ipywidgets.Dropdown
        The state's movies, oldest first.
    explore : ipywidgets.Checkbox
        Epsilon-greedy lists instead of greedy ones (needs an ``rng``).
    header : ipywidgets.HTML
        The talk's scenario of the state.
    body : ipywidgets.HTML
        The sub-states with their tables and rows, and the recommendations.
    clicks : ipywidgets.HBox
        One button per recommended movie: a click on it is the user's choice.
    update_view : ipywidgets.HTML
        What the last click changed, before and after.
    move_on : ipywidgets.Button
        Makes ``(m2, m3, clicked)`` the state.
    """

    pickers: tuple[widgets.Dropdown, ...]
    explore: widgets.Checkbox
    header: widgets.HTML
    body: widgets.HTML
    clicks: widgets.HBox
    update_view: widgets.HTML
    move_on: widgets.Button


def qtable_explorer(
    tables: GenreQTables,
    titles: Sequence[str],
    initial: Sequence[int] = (0, 1, 2),
    k: int = 10,
    rng: np.random.Generator | None = None,
    reward: float = 15.0,
    penalty: float = 5.0,
    n_choices: int | None = None,
) -> Any:
    """An ipywidgets panel: three movie pickers, the sub-states, the tables and rows consulted,
    the top-``k`` list with Q-values, and one button per recommendation to click it.

    Clicking a recommended movie applies the Q-learning update (the tables change in place),
    shows the Q-values before and after, and re-ranks the list for the same state; "Move on"
    makes ``(m2, m3, clicked)`` the new state.

    Parameters
    ----------
    tables : GenreQTables
        Tables to explore (and update).
    titles : sequence of str
        Display title of every catalogue index.
    initial : sequence of int
        Three catalogue indices shown first.
    k : int
        List length.
    rng : numpy.random.Generator, optional
        Needed for the "explore" check box (epsilon-greedy lists); greedy otherwise.
    reward, penalty : float
        The click's reward and the other listed movies' penalty.
    n_choices : int, optional
        Offer only the first ``n_choices`` catalogue movies in the pickers (the catalogue is
        sorted by popularity); all of them by default.

    Returns
    -------
    SnapshotBox
        An ``ipywidgets.VBox``; display it as the last expression of a cell. Where widgets
        cannot render, the output shows the tables as HTML instead. Its ``controls`` are the
        :class:`QTableControls`.
    """
    import ipywidgets as widgets

    initial = tuple(int(m) for m in initial)
    tables.decompose(initial)  # validates before any widget exists
    if len(initial) != 3:
        raise ValueError(f"initial must hold 3 movies, got {initial}")
    n = tables.n_items if n_choices is None else min(int(n_choices), tables.n_items)
    controls = _qtable_controls(tables, titles, initial, n, can_explore=rng is not None)
    view = _QTableView(tables, titles, controls, k=k, rng=rng, reward=reward, penalty=penalty)
    view.render()
    wrap = widgets.Layout(flex_flow="row wrap")  # two wide pickers take two rows
    pickers = controls.pickers
    return SnapshotBox(
        [
            widgets.HBox(pickers[:2], layout=wrap),
            widgets.HBox([pickers[2], controls.explore], layout=wrap),
            controls.header,
            controls.body,
            widgets.HTML("<b>Click a recommendation as the user's choice:</b>"),
            controls.clicks,
            controls.update_view,
            controls.move_on,
        ],
        text=view.describe,
        snapshot=view.snapshot,
        controls=controls,
    )


def _movie_label(tables: GenreQTables, titles: Sequence[str], i: int) -> str:
    """A picker's option: the title and its primary genre."""
    return f"{titles[i]} [{tables.genre_names[tables.genre_of[i]]}]"


def _qtable_controls(
    tables: GenreQTables,
    titles: Sequence[str],
    initial: tuple[int, ...],
    n_choices: int,
    can_explore: bool,
) -> QTableControls:
    """The panel's widgets: pickers offering the first ``n_choices`` movies (and the initial
    ones), wide enough for any title of the catalogue, and the views they feed."""
    import ipywidgets as widgets

    labelled = [(_movie_label(tables, titles, i), i) for i in range(n_choices)]
    options = labelled + [(_movie_label(tables, titles, i), i) for i in initial if i >= n_choices]
    # Wide enough for the longest title of the whole catalogue, since "Move on" may add any.
    width = picker_width([_movie_label(tables, titles, i) for i in range(tables.n_items)])
    pickers = tuple(
        widgets.Dropdown(
            options=options,
            value=m,
            description=f"movie {j + 1}",
            style={"description_width": f"{_PICKER_LABEL_CH}ch"},
            layout=widgets.Layout(width=width, max_width="100%"),
        )
        for j, m in enumerate(initial)
    )
    explore = widgets.Checkbox(value=False, description="explore (epsilon-greedy)")
    explore.disabled = not can_explore
    move_on = widgets.Button(
        description="Move on: state = (m2, m3, clicked)",
        disabled=True,
        layout=widgets.Layout(width="auto", align_self="flex-start"),  # its text, not the row
    )
    # Tables never push the panel past the notebook's edge; they scroll inside their box.
    fit = widgets.Layout(width="100%", overflow="auto")
    return QTableControls(
        pickers=pickers,
        explore=explore,
        header=widgets.HTML(),
        body=widgets.HTML(layout=fit),
        clicks=widgets.HBox(layout=widgets.Layout(flex_flow="row wrap")),
        update_view=widgets.HTML(layout=fit),
        move_on=move_on,
    )


class _QTableView:
    """What the explorer does when a control changes: render the state, apply a click, move
    on to the next state. It holds the list on show and the state a click leads to."""

    def __init__(
        self,
        tables: GenreQTables,
        titles: Sequence[str],
        controls: QTableControls,
        *,
        k: int,
        rng: np.random.Generator | None,
        reward: float,
        penalty: float,
    ) -> None:
        import ipywidgets as widgets

        self.tables, self.titles, self.controls = tables, titles, controls
        self.k, self.rng, self.reward, self.penalty = k, rng, reward, penalty
        self.recs: Recommendations | None = None  # the list on show
        self.next_state: tuple[int, ...] | None = None  # where the last click leads
        self.busy = False  # set while "Move on" changes the pickers one by one
        # Buttons as wide as their text; one Layout shared by every button the panel makes.
        self.button_layout = widgets.Layout(width="auto")
        for p in controls.pickers:
            p.observe(self.render, names="value")
        controls.explore.observe(self.render, names="value")
        controls.move_on.on_click(self.advance)

    def state(self) -> tuple[int, ...]:
        return tuple(p.value for p in self.controls.pickers)

    def render(self, _: object = None) -> None:
        """Explain the pickers' state and list its recommendations, one button each."""
        if self.busy:
            return
        c, s = self.controls, self.state()
        if len(set(s)) < 3:
            c.header.value = "<b>Pick three different movies.</b>"
            c.body.value, c.clicks.children = "", ()
            return
        rng = self.rng if c.explore.value else None
        info = explain_state(self.tables, s, self.titles, k=self.k, rng=rng)
        self.recs = info.recommendations
        c.header.value = f"<b>Scenario</b> {info.scenario}"
        c.body.value = (
            "<b>Sub-states: tables and rows consulted</b>"
            + html_table(info.substates)
            + "<b>Recommendations, merged in decreasing Q-value</b>"
            + html_table(info.table)
        )
        c.clicks.children = tuple(self._button(item) for item in self.recs.items.tolist())

    def _button(self, item: int) -> Any:
        import ipywidgets as widgets

        # The full title; the default button width cuts a title after about 15 characters.
        title = self.titles[item]
        button = widgets.Button(description=title, tooltip=title, layout=self.button_layout)
        button.on_click(lambda _b: self.click(item))
        return button

    def click(self, item: int) -> None:
        """The user chose ``item``: update the tables, show the change, list again."""
        result = click_update(self.tables, self.state(), self.recs, item, self.titles,
                              reward=self.reward, penalty=self.penalty)  # fmt: skip
        self.next_state = result.next_state
        self.controls.move_on.disabled = False
        self.controls.update_view.value = (
            f"<b>Clicked {self.titles[item]}</b>: +{self.reward:g} for it, "
            f"-{self.penalty:g} for the others"
            + html_table(result.per_movie)
            + "<b>Its Q-value in every sub-state row</b>"
            + html_table(result.per_substate)
        )
        self.render()

    def advance(self, _: object = None) -> None:
        """Make ``(m2, m3, clicked)`` the pickers' state."""
        nxt = self.next_state
        if nxt is None:
            return
        self.busy = True  # one render after all three pickers changed, not three
        for p, m in zip(self.controls.pickers, nxt, strict=True):
            if m not in [v for _, v in p.options]:
                p.options = [*p.options, (_movie_label(self.tables, self.titles, m), m)]
            p.value = m
        self.busy = False
        self.next_state = None
        self.controls.move_on.disabled = True
        self.controls.update_view.value = ""
        self.render()

    def describe(self) -> str:
        movies = ", ".join(self.titles[m] for m in self.state())
        return f"QTableExplorer({movies}; k={self.k})"

    def snapshot(self) -> dict[str, str]:
        c = self.controls
        parts = [c.header.value, c.body.value, c.update_view.value]
        return {"text/html": "".join(f"<div>{part}</div>" for part in parts if part)}
