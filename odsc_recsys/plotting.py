"""Figure helpers shared by the notebooks, and the series' projector style.

What they draw:

* the data tour: ratings, the long tail, genres, user activity, sparsity (and
  :func:`catalog_frame`, the first movies of a catalogue as a table);
* metric comparisons: one panel per metric, one bar per model (and setting), with intervals;
* diagrams: the reference architecture of an RL recommendation engine, and one state's
  decomposition into sub-states, their table rows and the merged recommendations;
* the state space: how the table's rows and memory grow with the catalogue and the history;
* training: Q-values before and after a replayed step, exploitation and exploration along the
  training stream, and the effect of each hyperparameter.

Each function draws on a given (or new) matplotlib ``Axes`` (see :func:`axes_or_new`) and
returns it, or returns the ``Figure`` of a multi-panel drawing, so notebooks can lay figures
out as they like and end the cell with ``plt.show()``.
Figures that compare models take their colours from :func:`model_colors`, and multi-panel
figures put their one legend under the panels with :func:`legend_below`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import checks
from .catalog import Catalog
from .datasets import normalise_title
from .plot_checks import MetricTable, checked_frame, checked_metric_table
from .protocol import top_k

if TYPE_CHECKING:  # pyplot is imported by the functions that draw, not by importing this module
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

# One style for every figure of the series, readable from the back of a room.
PROJECTOR_STYLE: dict[str, float] = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "figure.titlesize": 14,
    "lines.linewidth": 2.0,
}


def use_projector_style() -> None:
    """Set matplotlib's defaults to the series' projector style (dpi 110, fonts 11 pt and up).

    Every notebook calls this once, in its imports cell, instead of setting ``rcParams``
    itself, so all figures share one legible look.
    """
    # Through pyplot: its first import sets up the notebook's backend, which may set rcParams
    # of its own; the style must come after that, not be overwritten by it.
    import matplotlib.pyplot as plt

    plt.rcParams.update(PROJECTOR_STYLE)


def axes_or_new(ax: Axes | None, figsize: tuple[float, float] = (6, 3.5)) -> Axes:
    """The ``Axes`` to draw on: ``ax`` itself, or the axes of a new figure of ``figsize``.

    Every figure helper of the package takes an optional ``ax`` and draws through this, so a
    notebook can place the figure in a panel of its own or let the helper open one.

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        Where the caller wants the drawing; ``None`` for a new figure.
    figsize : tuple of float
        Width and height in inches of the new figure.

    Raises
    ------
    ValueError
        If ``ax`` is neither ``None`` nor an ``Axes``, or ``figsize`` is not two positive
        numbers; before any figure is opened.
    """
    if ax is not None:
        from matplotlib.axes import Axes  # not pyplot: checking draws nothing

        if not isinstance(ax, Axes):
            raise ValueError(f"ax must be a matplotlib Axes or None, got {checks.short_repr(ax)}")
        return ax
    if isinstance(figsize, str) or not isinstance(figsize, Sequence) or len(figsize) != 2:
        raise ValueError(f"figsize must be (width, height) in inches, got {figsize!r}")
    for side, size in zip(("width", "height"), figsize, strict=True):
        checks.real(f"figsize {side}", size, 0.0, low_open=True)
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_rating_distribution(ratings: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bar chart of how many ratings each star value received."""
    checked_frame("ratings", ratings, ["rating"])
    ax = axes_or_new(ax)
    counts = ratings["rating"].value_counts().sort_index()
    ax.bar(counts.index.astype(str), counts.to_numpy(), color="#4c72b0")
    ax.set(xlabel="rating (stars)", ylabel="number of ratings", title="Rating distribution")
    return ax


def plot_long_tail(popularity: np.ndarray, top: int | None = 627, ax: Axes | None = None) -> Axes:
    """Ratings per movie, sorted: the long tail, with the top-``top`` cut marked."""
    counts = checks.finite_array("popularity", popularity, ndim=1)
    if counts.size == 0 or (counts < 0).any() or counts.sum() == 0:
        raise ValueError(f"popularity must be non-negative counts, at least one positive, got "
                         f"{checks.short_repr(popularity)}")  # fmt: skip
    top = checks.positive_int("top", top, allow_none=True)
    ax = axes_or_new(ax)
    counts = np.sort(np.asarray(popularity))[::-1]
    ax.plot(np.arange(1, len(counts) + 1), counts, color="#4c72b0")
    if top is not None and top < len(counts):
        ax.axvline(top, color="#c44e52", ls="--", lw=1)
        share = counts[:top].sum() / counts.sum()
        ax.text(top * 1.05, counts.max() * 0.8, f"top {top}: {share:.0%} of ratings",
                color="#c44e52")  # fmt: skip
    ax.set(xlabel="movie rank by popularity", ylabel="ratings", title="Long tail of popularity")
    return ax


def plot_genre_counts(counts: dict[str, int] | pd.Series, ax: Axes | None = None,
                      title: str = "Movies per genre") -> Axes:  # fmt: skip
    """Horizontal bars of movies per genre, largest on top."""
    if not isinstance(counts, Mapping | pd.Series) or not len(counts):
        raise ValueError(f"counts must be a non-empty dict or Series of genre -> movies, got "
                         f"{checks.short_repr(counts)}")  # fmt: skip
    checks.finite_array("counts", list(dict(counts).values()))
    checks.text("title", title)
    ax = axes_or_new(ax)
    s = pd.Series(dict(counts)).sort_values()
    ax.barh(s.index, s.to_numpy(), color="#55a868")
    ax.set(xlabel="movies", title=title)
    return ax


def plot_user_activity(ratings: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Histogram (log x) of ratings per user."""
    checked_frame("ratings", ratings, ["user_id"])
    ax = axes_or_new(ax)
    per_user = ratings.groupby("user_id").size().to_numpy()
    bins = np.logspace(np.log10(per_user.min()), np.log10(per_user.max()), 30)
    # 10 ** log10(20) is 20.000000000000004: pin the ends, or the least and the most active
    # users fall outside the histogram.
    bins[0], bins[-1] = per_user.min(), per_user.max()
    ax.hist(per_user, bins=bins, color="#8172b2")
    ax.set_xscale("log")
    ticks = [t for t in (20, 50, 100, 200, 500, 1000) if per_user.min() <= t <= per_user.max()]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set(xlabel="ratings per user (log scale)", ylabel="users", title="Activity per user")
    return ax


def plot_sparsity(matrix: sp.spmatrix, ax: Axes | None = None, max_points: int = 200_000) -> Axes:
    """Spy plot of a users x items matrix, with its density in the title."""
    if not (sp.issparse(matrix) or isinstance(matrix, np.ndarray)) or matrix.ndim != 2 \
            or 0 in matrix.shape:  # fmt: skip
        raise ValueError(f"matrix must be a non-empty 2-d users x items matrix (scipy sparse "
                         f"or numpy), got {checks.short_repr(matrix)}")  # fmt: skip
    max_points = checks.positive_int("max_points", max_points)
    ax = axes_or_new(ax, (6, 4))
    coo = sp.coo_matrix(matrix)
    ax.scatter(coo.col[:max_points], coo.row[:max_points], s=0.05, c="k", marker=".",
               rasterized=True)  # fmt: skip
    density = coo.nnz / (matrix.shape[0] * matrix.shape[1])
    ax.set(xlabel="movie", ylabel="user", xlim=(0, matrix.shape[1]), ylim=(matrix.shape[0], 0),
           title=f"User-item matrix: {density:.1%} filled")  # fmt: skip
    return ax


def model_colors(names: Iterable[Any], beyond_ten: str = "tab20") -> dict[Any, Any]:
    """One colour per model, in the order given: tab10 for up to ten names.

    Every figure of a comparison draws a model in the same colour when it takes its colours
    from here with the same names.

    Parameters
    ----------
    names : iterable
        The models (any hashable labels), in the order their colours are handed out.
    beyond_ten : str
        The matplotlib colormap for more than ten names, cycled: ``"tab20"`` gives twenty
        distinct colours, ``"tab10"`` repeats tab10's ten.

    Returns
    -------
    dict
        Name -> RGBA tuple, in the order of ``names``.
    """
    from matplotlib import colormaps  # the registry, not pyplot: picking colours draws nothing

    if isinstance(names, str) or not isinstance(names, Iterable):
        raise ValueError(f"names must be an iterable of model names, got {names!r}")
    names = list(names)
    try:
        repeated = [name for i, name in enumerate(names) if name in names[:i]]
    except (TypeError, ValueError):  # a name that cannot be compared (an array, say)
        repeated = names
    if repeated or any(not isinstance(n, Hashable) for n in names):
        raise ValueError(f"names must be distinct hashable labels (one colour each), got "
                         f"{checks.short_repr(names)}")  # fmt: skip
    if not isinstance(beyond_ten, str) or beyond_ten not in colormaps:
        raise ValueError(f"beyond_ten must be the name of a matplotlib colormap such as "
                         f"'tab20', got {beyond_ten!r}")  # fmt: skip
    cmap = colormaps["tab10" if len(names) <= 10 else beyond_ten]
    return {name: cmap(i % cmap.N) for i, name in enumerate(names)}


def legend_below(fig: Figure, handles: Sequence[Any], ncols: int, bottom: float) -> None:
    """One legend for the whole figure, centred under the panels, in ``ncols`` columns.

    The panels are laid out (``tight_layout``) above the bottom ``bottom`` share of the
    figure, which the legend takes.
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {checks.short_repr(fig)}")
    if isinstance(handles, str) or not isinstance(handles, Sequence):
        raise ValueError(f"handles must be a sequence of legend handles, got {handles!r}")
    checks.positive_int("ncols", ncols)
    checks.real("bottom", bottom, 0.0, 1.0, high_open=True)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.legend(handles=handles, loc="lower center", ncols=ncols, frameon=False)


#: Hatches that tell the settings of a grouped bar chart apart (the colours tell the models).
SETTING_HATCHES = ("", "//", "..", "xx")


def plot_metric_bars(
    table: pd.DataFrame,
    metrics: Sequence[str] = ("HR@10", "NDCG@10", "MRR", "coverage"),
    errors: pd.DataFrame | None = None,
    ncols: int = 4,
    horizontal: bool = False,
    *,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, Any] | None = None,
) -> Figure:
    """One small bar chart per metric, one bar per model (and per setting).

    Parameters
    ----------
    table : DataFrame
        One row per model (index = model name), one column per metric, as built by stacking
        :func:`~odsc_recsys.metrics.evaluate` rows. Two other shapes are drawn as well:

        * columns ``(metric, "mean" | "low" | "high")``, as
          :func:`odsc_recsys.online.summarise` returns: bars at the means, error bars over the
          intervals;
        * a two-level index ``(setting, model)``: one bar per model and setting, the settings
          side by side, hatched (:data:`SETTING_HATCHES`) and named in a legend below the
          panels.
    metrics : sequence of str
        Columns to draw, one panel each; metrics the table lacks are left out.
    errors : DataFrame, optional
        Same shape as ``table[metrics]``, holding ``(low, high)`` tuples for error bars (not
        with a table of intervals, which carries its own).
    ncols : int
        Panels per row.
    horizontal : bool
        Models on the y axis, named once on the left and listed top to bottom in the table's
        order: legible with many models or long names (a comparison of ten models).
    labels : mapping of str to str, optional
        Panel title of a metric (the metric's name by default).
    colors : mapping of str to colour, optional
        Colour of each model; by default tab10 (tab20 beyond ten models) in the table's order.

    Returns
    -------
    Figure
        Its axes in reading order, one per panel; panels the last row does not fill are hidden.
    """
    ncols = checks.positive_int("ncols", ncols)
    horizontal = checks.boolean("horizontal", horizontal)
    data = checked_metric_table(table, metrics, errors, labels, colors)
    models, settings = data.models, data.settings
    colors = dict(colors) if colors is not None else model_colors(models)
    fig, axes = _panel_grid(len(data.metrics), ncols, len(models) * len(settings), horizontal,
                            grouped=settings != [None])  # fmt: skip
    for ax, metric in zip(axes.ravel(), data.metrics, strict=False):
        _draw_metric_panel(ax, data, metric, colors, horizontal)
        ax.set_title((labels or {}).get(metric, metric))
    for ax in axes.ravel()[len(data.metrics) :]:
        ax.set_visible(False)
    if settings == [None]:
        fig.tight_layout()
    else:
        _legend_of_settings(fig, settings, nrows=axes.shape[0])
    return fig


def _draw_metric_panel(
    ax: Axes, data: MetricTable, metric: Hashable, colors: Mapping[Any, Any], horizontal: bool
) -> None:
    """One panel: a bar of ``metric`` per model, the settings side by side and hatched, with
    the error bars of the intervals, and the models named along the axis."""
    models, settings = data.models, data.settings
    width = 0.8 / len(settings)
    for j, setting in enumerate(settings):
        values = _rows_of(data.means, setting, models)[metric].to_numpy(dtype=float)
        err = None
        if data.errors is not None and metric in data.errors.columns:
            err = _error_extents(values, _rows_of(data.errors, setting, models)[metric])
        positions = np.arange(len(models)) + (j - (len(settings) - 1) / 2) * width
        style: dict[str, Any] = {"color": [colors[m] for m in models], "capsize": 3}
        style["xerr" if horizontal else "yerr"] = err
        if setting is not None:
            style.update(hatch=SETTING_HATCHES[j % len(SETTING_HATCHES)], edgecolor="white",
                         label=str(setting))  # fmt: skip
        (ax.barh if horizontal else ax.bar)(positions, values, width, **style)
    _name_models(ax, models, horizontal)


def _panel_grid(
    n_panels: int, ncols: int, n_bars: int, horizontal: bool, grouped: bool
) -> tuple[Figure, np.ndarray]:
    """The figure and its ``(rows, cols)`` array of axes, sized to the bars they hold."""
    import matplotlib.pyplot as plt

    nrows = int(np.ceil(n_panels / ncols))
    cols = min(ncols, n_panels)
    if horizontal:
        return plt.subplots(nrows, cols, figsize=(2.2 + 2.6 * cols, (0.32 * n_bars + 1.0) * nrows),
                            sharey=True, squeeze=False)  # fmt: skip
    if grouped:  # bars side by side need wider panels, and room for the legend below
        return plt.subplots(nrows, cols, figsize=(5.0 * cols, 3.9 * nrows + 0.5), squeeze=False)
    return plt.subplots(nrows, cols, figsize=(3.2 * cols, 3.2 * nrows), squeeze=False)


def _rows_of(frame: pd.DataFrame, setting: Any, models: list[Any]) -> pd.DataFrame:
    """The rows of one setting, one per model in ``models`` order (all rows for ``None``)."""
    return frame if setting is None else frame.xs(setting).reindex(models)


def _error_extents(values: np.ndarray, cells: Sequence[Any]) -> np.ndarray:
    """``(2, n)`` distances from each value down to its low and up to its high bound (NaN
    where a cell holds no ``(low, high)`` pair)."""
    pairs = [(c[0], c[1]) if isinstance(c, tuple | list) else (np.nan, np.nan) for c in cells]
    low, high = np.array(pairs, dtype=float).reshape(-1, 2).T
    return np.vstack([values - low, high - values])


def _name_models(ax: Axes, models: list[Any], horizontal: bool) -> None:
    """The models as tick labels: down the left, first on top, or slanted under the bars."""
    from matplotlib.ticker import MaxNLocator

    n = len(models)
    if horizontal:
        ax.set_yticks(np.arange(n), models)
        ax.set_ylim(n - 0.5, -0.5)  # the table's first row on top
        ax.xaxis.set_major_locator(MaxNLocator(4))  # tick labels that do not collide
        ax.grid(axis="x", alpha=0.3)
    else:
        ax.set_xticks(np.arange(n), models, rotation=60, ha="right", fontsize=11)


def _legend_of_settings(fig: Figure, settings: list[Any], nrows: int) -> None:
    """One legend of the settings' hatches, centred below the panels."""
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="lightgrey", edgecolor="white", label=str(setting),
                     hatch=SETTING_HATCHES[j % len(SETTING_HATCHES)])
               for j, setting in enumerate(settings)]  # fmt: skip
    legend_below(fig, handles, ncols=len(settings), bottom=0.06 / nrows)


def catalog_frame(
    catalog: Catalog, codes: np.ndarray, names: list[str], n: int = 10
) -> pd.DataFrame:
    """The first ``n`` movies of a catalogue with their primary genre, for display."""
    if not isinstance(catalog, Catalog):
        raise ValueError(f"catalog must be a Catalog, got {checks.short_repr(catalog)}")
    n = checks.positive_int("n", n)
    checks.nonempty("names", names)
    codes = checks.indices("codes", codes, len(names))
    if len(codes) != catalog.n_items:
        raise ValueError(f"codes must hold one genre code per movie ({catalog.n_items}), got "
                         f"{len(codes)}")  # fmt: skip
    df = catalog.to_frame().head(n).copy()
    df["primary genre"] = [names[c] for c in codes[:n]]
    return df


def _box(ax: Axes, x: float, y: float, text: str, color: str, size: float = 13, **kw) -> Text:
    """A rounded box of text centred at ``(x, y)`` (axes data coordinates)."""
    return ax.text(x, y, text, ha="center", va="center", fontsize=size, linespacing=1.3,
                   bbox={"boxstyle": "round,pad=0.45", "fc": color, "ec": "#555555"}, **kw)  # fmt: skip


def _connect(ax: Axes, a: Text, b: Text, style: str = "arc3,rad=0", color: str = "#333333",
             lw: float = 1.5) -> None:  # fmt: skip
    """An arrow from box ``a`` to box ``b``, clipped at both boxes' edges."""
    ax.annotate("", xy=b.get_position(), xytext=a.get_position(),
                arrowprops={"arrowstyle": "-|>", "color": color, "lw": lw, "mutation_scale": 16,
                            "shrinkA": 2, "shrinkB": 2, "patchA": a.get_bbox_patch(),
                            "patchB": b.get_bbox_patch(), "connectionstyle": style})  # fmt: skip


def plot_reference_architecture(ax: Axes | None = None) -> Axes:
    """The reference architecture of an RL recommendation engine, as boxes and arrows.

    Serving (top row): request -> state from history -> sub-states -> per-genre Q-tables ->
    merged list -> user. Learning (bottom row): the user's feedback -> Q-learning update (back
    into the tables), and the click appended to the history, which gives the next state.
    Boxes are 13 pt text, arrows clipped at the box edges, so it reads from the back of a room.
    """
    ax = axes_or_new(ax, (12.5, 4.2))
    boxes = {
        "request": ("request\n(user id)", 0.06, 0.78, "#dddddd"),
        "state": ("state:\nlast 3 movies", 0.22, 0.78, "#c6dbef"),
        "sub-states": ("sub-states:\nrows by genre", 0.40, 0.78, "#c6dbef"),
        "tables": ("per-genre\nQ-tables", 0.575, 0.78, "#fdd0a2"),
        "list": ("merged list:\ntop k by Q,\nepsilon-greedy", 0.76, 0.78, "#c7e9c0"),
        "user": ("user", 0.93, 0.78, "#dddddd"),
        "feedback": ("feedback:\nclick +reward,\nrest -penalty", 0.93, 0.3, "#fcbba1"),
        "update": ("Q-learning update:\nr + gamma max Q(s', .)", 0.575, 0.3, "#fcbba1"),
        "history": ("history:\nappend the click", 0.22, 0.3, "#dddddd"),
    }
    art = {key: _box(ax, x, y, text, color) for key, (text, x, y, color) in boxes.items()}
    for a, b in [("request", "state"), ("state", "sub-states"), ("sub-states", "tables"),
                 ("tables", "list"), ("list", "user"), ("user", "feedback"),
                 ("feedback", "update"), ("update", "tables"), ("history", "state")]:  # fmt: skip
        _connect(ax, art[a], art[b])
    _connect(ax, art["feedback"], art["history"], "bar,fraction=-0.12")  # under the update box
    ax.set(xlim=(0, 1), ylim=(0.08, 0.95))
    ax.axis("off")
    ax.set_title("Reference architecture of an RL recommendation engine: serving (top row), "
                 "learning (bottom row)")  # fmt: skip
    return ax


def _short(title: str, width: int = 26) -> str:
    """A title without its year, cut to ``width`` characters (with an ellipsis)."""
    title = normalise_title(title)[0]
    return title if len(title) <= width else title[: width - 1].rstrip() + "\u2026"


def plot_state_decomposition(
    tables: object,
    state: Sequence[int],
    titles: Sequence[str],
    k: int = 10,
    row_top: int = 3,
    ax: Axes | None = None,
) -> Axes:
    """One real state through the per-genre tables: state -> sub-states -> table rows -> the
    merged top-k, with the Q-values (notebook 06).

    Parameters
    ----------
    tables : GenreQTables
        Trained (or not) per-genre tables.
    state : sequence of int
        Three catalogue indices, oldest first.
    titles : sequence of str
        Title of every catalogue index.
    k : int
        Length of the merged (greedy) list drawn on the right.
    row_top : int
        How many of each row's best Q-values to print in its box.

    Returns
    -------
    Axes
        Column 1: the state's movies and their genres. Column 2: the sub-states, one colour
        each. Column 3: each sub-state's row (table, row number, its best Q-values). Column 4:
        the greedy top-k by merged Q, each entry in the colour of the sub-state that proposed
        it and linked to its row.
    """
    needs = ("check_state", "decompose", "recommend", "q_row", "genre_names", "genre_of",
             "table_rows", "n_items")  # fmt: skip
    if not all(hasattr(tables, a) for a in needs):
        raise ValueError(f"tables must be per-genre Q-tables (GenreQTables), got "
                         f"{checks.short_repr(tables)}")  # fmt: skip
    k = checks.integer("k", k, 1, 20)  # one line per movie of the merged list
    row_top = checks.integer("row_top", row_top, 1, 5)
    state = list(tables.check_state(state))  # integers only: 0.5 is refused, not truncated
    if not state:
        raise ValueError("state must hold at least one movie, got none")
    if isinstance(titles, str) or not isinstance(titles, Sequence) or \
            len(titles) != tables.n_items:  # fmt: skip
        raise ValueError(f"titles must name all {tables.n_items} catalogue movies, got "
                         f"{checks.short_repr(titles)}")  # fmt: skip
    subs = tables.decompose(state)
    recs = tables.recommend(state, k=k)
    ax = axes_or_new(ax, (12.5, 6.2))
    movie_box = _draw_state_movies(ax, tables, state, titles)
    row_box = _draw_substate_rows(ax, tables, subs, titles, movie_box, row_top)
    _draw_merged_list(ax, recs, titles, row_box)
    for x, head in ((0.08, "state"), (0.285, "sub-states"), (0.53, "table rows"),
                    (0.87, f"merged top {len(recs)}: Q")):  # fmt: skip
        ax.text(x, 0.97, head, ha="center", va="center", fontsize=12, weight="bold")
    ax.set(xlim=(0, 1.02), ylim=(0, 1))
    ax.axis("off")
    return ax


#: Fill and edge colour of each sub-state (and of the movies it proposes), in order.
_SUBSTATE_FILLS = ("#c6dbef", "#fdd0a2", "#c7e9c0")
_SUBSTATE_EDGES = ("#2c7fb8", "#e6550d", "#31a354")


def _column_heights(n: int) -> list[float]:
    """Where ``n`` boxes of one column sit: centred for one, spread top to bottom otherwise."""
    return [0.5] if n == 1 else list(np.linspace(0.8, 0.2, n))


def _draw_state_movies(
    ax: Axes, tables: Any, state: list[int], titles: Sequence[str]
) -> dict[int, Text]:
    """Column 1: a box per movie of the state with its primary genre; the boxes by movie."""
    genre = tables.genre_names
    return {m: _box(ax, 0.08, y, f"{_short(titles[m], 22)}\n[{genre[tables.genre_of[m]]}]",
                    "#eeeeee", 11) for m, y in zip(state, _column_heights(len(state)), strict=True)}  # fmt: skip


def _draw_substate_rows(
    ax: Axes,
    tables: Any,
    subs: Sequence[Any],
    titles: Sequence[str],
    movie_box: dict[int, Text],
    row_top: int,
) -> list[Text]:
    """Columns 2 and 3: each sub-state, linked to its movies, and its table row with the
    ``row_top`` best Q-values; the row boxes in sub-state order."""
    genre = tables.genre_names
    row_box = []
    for i, (sub, y) in enumerate(zip(subs, _column_heights(len(subs)), strict=True)):
        fill = _SUBSTATE_FILLS[i % 3]
        kind = "single (nC1)" if len(sub.items) == 1 else "pair (nC2)"
        names = "\n".join(_short(titles[m], 22) for m in sub.items)
        box = _box(ax, 0.285, y, f"{genre[sub.genre]} {kind}\n{names}", fill, 11)
        for m in sub.items:
            _connect(ax, movie_box[m], box, lw=1.2)
        q = tables.q_row(sub)
        best = top_k(q, row_top)
        lines = "\n".join(f"{_short(titles[a], 20)}  {q[a]:.2f}" for a in best)
        row = _box(ax, 0.53, y, f"{genre[sub.genre]} table, row {sub.row:,}\nof "
                   f"{int(tables.table_rows[sub.genre]):,}; best Q:\n{lines}", fill, 11)  # fmt: skip
        _connect(ax, box, row, lw=1.2)
        row_box.append(row)
    return row_box


def _draw_merged_list(ax: Axes, recs: Any, titles: Sequence[str], row_box: list[Text]) -> None:
    """Column 4: the merged top-k with Q-values, each in the colour of the sub-state that
    proposed it and linked to that sub-state's row."""
    ys = np.linspace(0.88, 0.06, len(recs))
    for rank, (item, q, src, y) in enumerate(
        zip(recs.items, recs.q_values, recs.source, ys, strict=True), 1
    ):
        color = _SUBSTATE_EDGES[src % 3] if src >= 0 else "#555555"
        ax.text(0.72, y, f"{rank:>2}. {_short(titles[item], 23)}", ha="left", va="center",
                fontsize=11, color=color)  # fmt: skip
        ax.text(1.02, y, f"{q:.2f}", ha="right", va="center", fontsize=11, color=color)
        if src >= 0:
            ax.annotate("", xy=(0.715, y), xytext=row_box[src].get_position(),
                        arrowprops={"arrowstyle": "-", "color": color, "lw": 0.8, "alpha": 0.6,
                                    "shrinkA": 0, "shrinkB": 2,
                                    "patchA": row_box[src].get_bbox_patch()})  # fmt: skip


def plot_state_space_growth(
    by_n: pd.DataFrame,
    by_k: pd.DataFrame,
    n_items: int,
    real_genre_bytes: float,
    memory_line: float = 16e9,
) -> Figure:
    """Notebook 05's three panels: states and dense memory against catalogue size, and states
    against history length.

    Parameters
    ----------
    by_n : DataFrame
        :func:`~odsc_recsys.state_space.growth_with_items` rows plus a ``per_genre_bytes``
        column (10 equal genres).
    by_k : DataFrame
        :func:`~odsc_recsys.state_space.growth_with_history` rows.
    n_items : int
        The tutorial's catalogue size, marked by a dotted line.
    real_genre_bytes : float
        Dense bytes of the real per-genre tables, drawn as a star at ``n_items``.
    memory_line : float
        A machine's memory, drawn as a dashed line (16 GB: a laptop).
    """
    growth = ["n_items", "ordered_states", "unordered_states", "dense_bytes"]
    checked_frame("by_n", by_n, [*growth, "per_genre_bytes"])
    checked_frame("by_k", by_k, ["history_length", "ordered_states", "unordered_states"])
    n_items = checks.positive_int("n_items", n_items)
    checks.real("real_genre_bytes", real_genre_bytes, 0.0, low_open=True)  # on a log axis
    checks.real("memory_line", memory_line, 0.0, low_open=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ax = axes[0]
    ax.plot(by_n.n_items, by_n.ordered_states, "o-", label="ordered states $^nP_3$")
    ax.plot(by_n.n_items, by_n.unordered_states, "s-", label="unordered states $^nC_3$")
    ax.set(xscale="log", yscale="log", xlabel="movies n", ylabel="states",
           title="States vs catalogue size")  # fmt: skip
    ax.axvline(n_items, color="grey", ls=":", lw=1)
    ax.legend(fontsize=11)
    ax = axes[1]
    ax.plot(by_n.n_items, by_n.dense_bytes, "s-", label="one table, $^nC_3$ rows")
    ax.plot(by_n.n_items, by_n.per_genre_bytes, "^-", label="10 equal per-genre tables")
    ax.plot([n_items], [real_genre_bytes], "k*", ms=10, label="the real 10 genres")
    ax.axhline(memory_line, color="red", ls="--", lw=1,
               label=f"{memory_line / 1e9:g} GB laptop")  # fmt: skip
    ax.axvline(n_items, color="grey", ls=":", lw=1)
    ax.set(xscale="log", yscale="log", xlabel="movies n", ylabel="bytes (float32)",
           title="Dense memory vs catalogue size")  # fmt: skip
    ax.legend(fontsize=11)
    ax = axes[2]
    ax.plot(by_k.history_length, by_k.ordered_states, "o-", label=f"ordered $^{{{n_items}}}P_k$")
    ax.plot(by_k.history_length, by_k.unordered_states, "s-",
            label=f"unordered $^{{{n_items}}}C_k$")  # fmt: skip
    ax.set(yscale="log", xlabel="history length k (movies in the state)", ylabel="states",
           title=f"States vs history length (n = {n_items})")  # fmt: skip
    ax.legend(fontsize=11)
    fig.tight_layout()
    return fig


def plot_q_before_after(frame: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Notebook 07's replayed step: each listed movie's merged Q before and after, side by side.

    Parameters
    ----------
    frame : DataFrame
        Columns ``movie``, ``Q before`` and ``Q after``, one row per listed movie.
    """
    checked_frame("frame", frame, ["movie", "Q before", "Q after"])
    checks.finite_array("Q before", frame["Q before"].to_numpy())
    checks.finite_array("Q after", frame["Q after"].to_numpy())
    ax = axes_or_new(ax, (10, 4))
    x = np.arange(len(frame))
    ax.bar(x - 0.2, frame["Q before"], 0.4, label="before the step", color="#4c72b0")
    ax.bar(x + 0.2, frame["Q after"], 0.4, label="after the step", color="#dd8452")
    ax.set_xticks(x, [_short(t, 22) for t in frame["movie"]], rotation=20, ha="right")
    ax.axhline(0, color="#555555", lw=0.8)
    ax.set(ylabel="merged Q-value",
           title="One replayed step: the ignored leader drops, the clicked movie rises")  # fmt: skip
    ax.legend(loc="upper right")
    return ax


def plot_stream_curves(curves: dict[float, pd.DataFrame]) -> Figure:
    """Exploitation and exploration along the training stream, one line per epsilon.

    Parameters
    ----------
    curves : dict epsilon -> DataFrame
        :func:`odsc_recsys.training.stream_curve` results (``seen``, ``hit_rate``,
        ``explored``).
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError(f"curves must be a non-empty dict of epsilon -> curve, got "
                         f"{checks.short_repr(curves)}")  # fmt: skip
    for eps, curve in curves.items():
        checks.epsilon(eps)
        checked_frame(f"curves[{eps!r}]", curve, ["seen", "hit_rate", "explored", "epoch"])
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for eps, c in curves.items():
        axes[0].plot(c["seen"], c["hit_rate"], "o-", ms=4, label=f"epsilon = {eps:g}")
        axes[1].plot(c["seen"], c["explored"], "o-", ms=4, label=f"epsilon = {eps:g}")
    first = next(iter(curves.values()))
    for end in first.groupby("epoch")["seen"].max().iloc[:-1]:  # where each further pass starts
        for ax in axes:
            ax.axvline(end, color="grey", ls=":", lw=1.5)
        axes[0].annotate("next pass", (end, 1), xycoords=("data", "axes fraction"),
                         xytext=(4, -14), textcoords="offset points", color="grey")  # fmt: skip
    axes[0].set(xlabel="transitions replayed", ylabel="list held the next movie",
                title="Exploitation")  # fmt: skip
    axes[1].set(xlabel="transitions replayed", ylabel="share of exploratory slots",
                title="Exploration")  # fmt: skip
    axes[0].legend(loc="upper left")
    fig.tight_layout()
    return fig


def plot_hyperparameter_effects(
    effects: pd.DataFrame,
    reference: object,
    metric: str = "val_HR@10",
    reference_label: str = "the paper's value",
) -> Figure:
    """One panel per hyperparameter: the mean of ``metric`` over seeds, with error bars from
    the lowest to the highest seed, and a dotted line at the reference value.

    Parameters
    ----------
    effects : DataFrame
        :func:`odsc_recsys.training.sweep` output (with a ``seed`` column for several seeds).
    reference : TrainConfig
        The configuration swept around (its value of each parameter is marked).
    metric : str
        The column to draw.
    reference_label : str
        What the dotted line is, for the title.
    """
    checks.text("metric", metric)
    checks.text("reference_label", reference_label)
    checked_frame("effects", effects, ["parameter", "value", metric])
    unknown = [p for p in dict.fromkeys(effects["parameter"]) if not hasattr(reference, str(p))]
    if unknown:
        raise ValueError(f"reference must have a value for every swept parameter, got none "
                         f"for {unknown} in {checks.short_repr(reference)}")  # fmt: skip
    import matplotlib.pyplot as plt

    summary = effects.groupby(["parameter", "value"], sort=False)[metric].agg(
        ["mean", "min", "max"]
    )
    names = list(dict.fromkeys(effects["parameter"]))
    n_seeds = effects["seed"].nunique() if "seed" in effects else 1
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.6), sharey=True,
                             squeeze=False)  # fmt: skip
    for ax, name in zip(axes[0], names, strict=True):
        part = summary.loc[name]
        x = part.index.to_numpy(dtype=float)
        yerr = np.vstack([part["mean"] - part["min"], part["max"] - part["mean"]])
        ax.errorbar(x, part["mean"], yerr=yerr, fmt="o-", capsize=4)
        ax.axvline(getattr(reference, name), color="grey", ls=":", lw=1.5)
        ax.set(title=name, xlabel=name)
    axes[0][0].set_ylabel(f"{metric.replace('val_', 'validation ')}")
    fig.suptitle(f"Effect of each hyperparameter: mean of {n_seeds} seeds, bars from the "
                 f"lowest to the highest (dotted: {reference_label})")  # fmt: skip
    fig.tight_layout()
    return fig
