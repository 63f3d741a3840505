"""Figure helpers shared by the notebooks: the data tour and metric comparisons.

Each function draws on a given (or new) matplotlib ``Axes`` and returns it, so notebooks can
lay figures out as they like and end the cell with ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.sparse as sp
from matplotlib.axes import Axes

from .catalog import Catalog
from .datasets import normalise_title

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
    plt.rcParams.update(PROJECTOR_STYLE)


def _ax(ax: Axes | None, figsize: tuple[float, float] = (6, 3.5)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_rating_distribution(ratings: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bar chart of how many ratings each star value received."""
    ax = _ax(ax)
    counts = ratings["rating"].value_counts().sort_index()
    ax.bar(counts.index.astype(str), counts.to_numpy(), color="#4c72b0")
    ax.set(xlabel="rating (stars)", ylabel="number of ratings", title="Rating distribution")
    return ax


def plot_long_tail(popularity: np.ndarray, top: int | None = 627, ax: Axes | None = None) -> Axes:
    """Ratings per movie, sorted: the long tail, with the top-``top`` cut marked."""
    ax = _ax(ax)
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
    ax = _ax(ax)
    s = pd.Series(dict(counts)).sort_values()
    ax.barh(s.index, s.to_numpy(), color="#55a868")
    ax.set(xlabel="movies", title=title)
    return ax


def plot_user_activity(ratings: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Histogram (log x) of ratings per user."""
    ax = _ax(ax)
    per_user = ratings.groupby("user_id").size().to_numpy()
    bins = np.logspace(np.log10(per_user.min()), np.log10(per_user.max()), 30)
    ax.hist(per_user, bins=bins, color="#8172b2")
    ax.set_xscale("log")
    ticks = [t for t in (20, 50, 100, 200, 500, 1000) if per_user.min() <= t <= per_user.max()]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set(xlabel="ratings per user (log scale)", ylabel="users", title="Activity per user")
    return ax


def plot_sparsity(matrix: sp.spmatrix, ax: Axes | None = None, max_points: int = 200_000) -> Axes:
    """Spy plot of a users x items matrix, with its density in the title."""
    ax = _ax(ax, (6, 4))
    coo = sp.coo_matrix(matrix)
    ax.scatter(coo.col[:max_points], coo.row[:max_points], s=0.05, c="k", marker=".",
               rasterized=True)  # fmt: skip
    density = coo.nnz / (matrix.shape[0] * matrix.shape[1])
    ax.set(xlabel="movie", ylabel="user", xlim=(0, matrix.shape[1]), ylim=(matrix.shape[0], 0),
           title=f"User-item matrix: {density:.1%} filled")  # fmt: skip
    return ax


def plot_metric_bars(
    table: pd.DataFrame,
    metrics: Sequence[str] = ("HR@10", "NDCG@10", "MRR", "coverage"),
    errors: pd.DataFrame | None = None,
    ncols: int = 4,
    horizontal: bool = False,
) -> plt.Figure:
    """One small bar chart per metric, one bar per model.

    Parameters
    ----------
    table : DataFrame
        One row per model (index = model name), as built by stacking :func:`evaluate` rows.
    metrics : sequence of str
        Columns to draw.
    errors : DataFrame, optional
        Same shape as ``table[metrics]``, holding ``(low, high)`` tuples for error bars.
    ncols : int
        Panels per row.
    horizontal : bool
        Models on the y axis, named once on the left and listed top to bottom in the table's
        order: legible with many models or long names (a comparison of ten models).
    """
    metrics = [m for m in metrics if m in table.columns]
    nrows = int(np.ceil(len(metrics) / ncols))
    cols = min(ncols, len(metrics))
    n = len(table)
    colors = plt.get_cmap("tab10" if n <= 10 else "tab20")(np.arange(n) % 20)
    if horizontal:
        fig, axes = plt.subplots(nrows, cols, figsize=(2.2 + 2.6 * cols, (0.32 * n + 1.0) * nrows),
                                 sharey=True, squeeze=False)  # fmt: skip
    else:
        fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 3.2 * nrows), squeeze=False)
    for ax, metric in zip(axes.ravel(), metrics, strict=False):
        values = table[metric].to_numpy(dtype=float)
        err = None
        if errors is not None and metric in errors.columns:
            lo = np.array([v[0] for v in errors[metric]])
            hi = np.array([v[1] for v in errors[metric]])
            err = np.vstack([values - lo, hi - values])
        if horizontal:
            ax.barh(np.arange(n), values, color=colors, xerr=err, capsize=3)
            ax.set_yticks(np.arange(n), table.index)
            ax.set_ylim(n - 0.5, -0.5)  # the table's first row on top
            ax.xaxis.set_major_locator(plt.MaxNLocator(4))  # tick labels that do not collide
            ax.grid(axis="x", alpha=0.3)
        else:
            ax.bar(np.arange(n), values, color=colors, yerr=err, capsize=3)
            ax.set_xticks(np.arange(n), table.index, rotation=60, ha="right", fontsize=11)
        ax.set_title(metric)
    for ax in axes.ravel()[len(metrics) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def catalog_frame(
    catalog: Catalog, codes: np.ndarray, names: list[str], n: int = 10
) -> pd.DataFrame:
    """The first ``n`` movies of a catalogue with their primary genre, for display."""
    df = catalog.to_frame().head(n).copy()
    df["primary genre"] = [names[c] for c in codes[:n]]
    return df


def _box(ax: Axes, x: float, y: float, text: str, color: str, size: float = 13, **kw) -> plt.Text:
    """A rounded box of text centred at ``(x, y)`` (axes data coordinates)."""
    return ax.text(x, y, text, ha="center", va="center", fontsize=size, linespacing=1.3,
                   bbox={"boxstyle": "round,pad=0.45", "fc": color, "ec": "#555555"}, **kw)  # fmt: skip


def _connect(ax: Axes, a: plt.Text, b: plt.Text, style: str = "arc3,rad=0", color: str = "#333333",
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
    ax = _ax(ax, (12.5, 4.2))
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
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 20:
        raise ValueError(f"k must be an integer in 1..20 (one line per movie), got {k!r}")
    if isinstance(row_top, bool) or not isinstance(row_top, int) or not 1 <= row_top <= 5:
        raise ValueError(f"row_top must be an integer in 1..5, got {row_top!r}")
    state = [int(m) for m in state]
    subs = tables.decompose(state)
    recs = tables.recommend(state, k=k)
    ax = _ax(ax, (12.5, 6.2))
    palette = ["#c6dbef", "#fdd0a2", "#c7e9c0"]
    edge = ["#2c7fb8", "#e6550d", "#31a354"]
    genre = tables.genre_names

    def ys(n: int) -> list[float]:
        return [0.5] if n == 1 else list(np.linspace(0.8, 0.2, n))

    movie_box = {m: _box(ax, 0.08, y, f"{_short(titles[m], 22)}\n[{genre[tables.genre_of[m]]}]",
                         "#eeeeee", 11) for m, y in zip(state, ys(len(state)), strict=True)}  # fmt: skip
    row_box = []
    for i, (sub, y) in enumerate(zip(subs, ys(len(subs)), strict=True)):
        kind = "single (nC1)" if len(sub.items) == 1 else "pair (nC2)"
        names = "\n".join(_short(titles[m], 22) for m in sub.items)
        box = _box(ax, 0.285, y, f"{genre[sub.genre]} {kind}\n{names}", palette[i % 3], 11)
        for m in sub.items:
            _connect(ax, movie_box[m], box, lw=1.2)
        q = tables.q_row(sub)
        best = np.argsort(-q, kind="stable")[:row_top]
        lines = "\n".join(f"{_short(titles[a], 20)}  {q[a]:.2f}" for a in best)
        row = _box(ax, 0.53, y, f"{genre[sub.genre]} table, row {sub.row:,}\nof "
                   f"{int(tables.table_rows[sub.genre]):,}; best Q:\n{lines}", palette[i % 3],
                   11)  # fmt: skip
        _connect(ax, box, row, lw=1.2)
        row_box.append(row)
    ys_list = np.linspace(0.88, 0.06, len(recs))
    for rank, (item, q, src, y) in enumerate(
        zip(recs.items, recs.q_values, recs.source, ys_list, strict=True), 1
    ):
        color = edge[src % 3] if src >= 0 else "#555555"
        ax.text(0.72, y, f"{rank:>2}. {_short(titles[item], 23)}", ha="left", va="center",
                fontsize=11, color=color)  # fmt: skip
        ax.text(1.02, y, f"{q:.2f}", ha="right", va="center", fontsize=11, color=color)
        if src >= 0:
            ax.annotate("", xy=(0.715, y), xytext=row_box[src].get_position(),
                        arrowprops={"arrowstyle": "-", "color": color, "lw": 0.8, "alpha": 0.6,
                                    "shrinkA": 0, "shrinkB": 2,
                                    "patchA": row_box[src].get_bbox_patch()})  # fmt: skip
    for x, head in ((0.08, "state"), (0.285, "sub-states"), (0.53, "table rows"),
                    (0.87, f"merged top {len(recs)}: Q")):  # fmt: skip
        ax.text(x, 0.97, head, ha="center", va="center", fontsize=12, weight="bold")
    ax.set(xlim=(0, 1.02), ylim=(0, 1))
    ax.axis("off")
    return ax


def plot_state_space_growth(
    by_n: pd.DataFrame,
    by_k: pd.DataFrame,
    n_items: int,
    real_genre_bytes: float,
    memory_line: float = 16e9,
) -> plt.Figure:
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
    ax = _ax(ax, (10, 4))
    x = np.arange(len(frame))
    ax.bar(x - 0.2, frame["Q before"], 0.4, label="before the step", color="#4c72b0")
    ax.bar(x + 0.2, frame["Q after"], 0.4, label="after the step", color="#dd8452")
    ax.set_xticks(x, [_short(t, 22) for t in frame["movie"]], rotation=20, ha="right")
    ax.axhline(0, color="#555555", lw=0.8)
    ax.set(ylabel="merged Q-value",
           title="One replayed step: the ignored leader drops, the clicked movie rises")  # fmt: skip
    ax.legend(loc="upper right")
    return ax


def plot_stream_curves(curves: dict[float, pd.DataFrame]) -> plt.Figure:
    """Exploitation and exploration along the training stream, one line per epsilon.

    Parameters
    ----------
    curves : dict epsilon -> DataFrame
        :func:`odsc_recsys.training.stream_curve` results (``seen``, ``hit_rate``,
        ``explored``).
    """
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
) -> plt.Figure:
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
    summary = effects.groupby(["parameter", "value"], sort=False)[metric].agg(["mean", "min", "max"])
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
