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
) -> plt.Figure:
    """One small bar chart per metric, models on the x axis.

    Parameters
    ----------
    table : DataFrame
        One row per model (index = model name), as built by stacking :func:`evaluate` rows.
    metrics : sequence of str
        Columns to draw.
    errors : DataFrame, optional
        Same shape as ``table[metrics]``, holding ``(low, high)`` tuples for error bars.
    """
    metrics = [m for m in metrics if m in table.columns]
    nrows = int(np.ceil(len(metrics) / ncols))
    fig, axes = plt.subplots(nrows, min(ncols, len(metrics)), figsize=(3.2 * min(ncols, len(metrics)), 3.2 * nrows),
                             squeeze=False)  # fmt: skip
    colors = plt.cm.tab10(np.arange(len(table)) % 10)
    for ax, metric in zip(axes.ravel(), metrics, strict=False):
        values = table[metric].to_numpy(dtype=float)
        yerr = None
        if errors is not None and metric in errors.columns:
            lo = np.array([v[0] for v in errors[metric]])
            hi = np.array([v[1] for v in errors[metric]])
            yerr = np.vstack([values - lo, hi - values])
        ax.bar(np.arange(len(table)), values, color=colors, yerr=yerr, capsize=3)
        ax.set_xticks(np.arange(len(table)), table.index, rotation=60, ha="right", fontsize=11)
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


def plot_reference_architecture(ax: Axes | None = None) -> Axes:
    """The reference architecture of an RL recommendation engine, as boxes and arrows.

    request -> state from history -> sub-states -> per-genre Q-tables -> merged list ->
    user feedback -> Q-learning update (back into the tables).
    """
    ax = _ax(ax, (11, 3.6))
    boxes = [
        ("request\n(user id)", 0.05, 0.75, "#dddddd"),
        ("state\nlast 3 movies", 0.2, 0.75, "#c6dbef"),
        ("sub-states\ngenre rows", 0.36, 0.75, "#c6dbef"),
        ("per-genre\nQ-tables", 0.53, 0.75, "#fdd0a2"),
        ("merged list\ntop k by Q,\nepsilon-greedy", 0.71, 0.75, "#c7e9c0"),
        ("user", 0.9, 0.75, "#dddddd"),
        ("feedback\nclick: +reward\nrest: -penalty", 0.9, 0.2, "#fcbba1"),
        ("Q-learning update\nr + gamma max Q(s', .)", 0.53, 0.2, "#fcbba1"),
        ("history\n(append click)", 0.2, 0.2, "#dddddd"),
    ]
    pos = {}
    for text, x, y, color in boxes:
        ax.text(x, y, text, ha="center", va="center", fontsize=11,
                bbox={"boxstyle": "round,pad=0.5", "fc": color, "ec": "#555555"})  # fmt: skip
        pos[text.split("\n")[0]] = (x, y)
    arrows = [
        ("request", "state", 0.0), ("state", "sub-states", 0.0), ("sub-states", "per-genre", 0.0),
        ("per-genre", "merged list", 0.0), ("merged list", "user", 0.0), ("user", "feedback", 0.0),
        ("feedback", "Q-learning update", 0.0), ("Q-learning update", "per-genre", 0.0),
        ("feedback", "history", -0.25), ("history", "state", 0.0),
    ]  # fmt: skip
    for a, b, rad in arrows:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "->", "color": "#333333", "shrinkA": 38,
                                "shrinkB": 38, "lw": 1.2,
                                "connectionstyle": f"arc3,rad={rad}"})  # fmt: skip
    ax.set(xlim=(0, 1), ylim=(-0.25, 1))
    ax.axis("off")
    ax.set_title("Reference architecture of an RL recommendation engine (serving and learning)")
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
