"""Figures of notebook 09: the shard plans, and the metrics against the round size.

pyplot is imported by the functions that draw, not by importing this module. Every function
checks its arguments before it opens a figure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import checks
from ..plotting import axes_or_new
from .plan import ShardPlan, check_genre_names

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_round_size_shift", "plot_round_size_sweep", "plot_shard_plans", "plot_sharding"]


def _genre_colours(n_tables: int) -> Callable[[int], Any]:
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("tab10" if n_tables <= 10 else "tab20")
    return lambda g: cmap(g % cmap.N)


def _segments(ax: Axes, plan: ShardPlan, names: Sequence[str], colour: Callable) -> list[int]:
    """Draw each shard's bar, one segment per genre table, largest first; a genre's name goes
    on its segment (on its larger side when the mean-load line crosses it) if it fits there.
    Returns the genres left unnamed."""
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    mean = plan.loads.mean() / 1e6
    unnamed = []
    for s, genres in enumerate(plan.shards):
        left = 0.0
        for g in sorted(genres, key=lambda g: (-int(plan.table_bytes[g]), g)):
            width = plan.table_bytes[g] / 1e6
            ax.barh(s, width, left=left, height=0.75, color=colour(g), edgecolor="white")
            x0, x1 = left, left + width
            if x0 < mean < x1:
                x0, x1 = max((x0, mean), (mean, x1), key=lambda x: x[1] - x[0])
            label = ax.text((x0 + x1) / 2, s, names[g], ha="center", va="center")
            px0, px1 = ax.transData.transform([(x0, s), (x1, s)])[:, 0]
            if label.get_window_extent(renderer).width > 0.92 * (px1 - px0):
                label.remove()
                unnamed.append(g)
            left += width
    return unnamed


def plot_sharding(plan: ShardPlan, genre_names: Sequence[str], ax: Axes | None = None) -> Axes:
    """A stacked bar per shard: the genre tables it owns, by dense size (MB).

    A genre's name is written on its segment when it fits there, measured with the figure's
    renderer: draw the axes at their final size (:func:`plot_shard_plans` does), since a later
    ``tight_layout`` would move them. The genres too small to name, and the dashed mean load,
    are in a legend beside the bars; every genre keeps its colour across plans.
    """
    import matplotlib.pyplot as plt

    names = _plan_names(plan, genre_names)
    if ax is None:
        return plot_shard_plans([plan], names).axes[0]
    colour = _genre_colours(len(names))
    ax.set_xlim(0, plan.loads.max() / 1e6 * 1.02)
    ax.set_ylim(plan.n_shards - 0.5, -0.5)  # shard 0 on top
    unnamed = _segments(ax, plan, names, colour)
    ax.axvline(plan.loads.mean() / 1e6, color="black", linestyle="--", linewidth=1.5)
    ax.set_yticks(range(plan.n_shards), [f"shard {s}" for s in range(plan.n_shards)])
    ax.set_xlabel("dense table size (MB)")
    handles = [plt.Line2D([], [], color="black", linestyle="--", linewidth=1.5, label="mean load")]
    handles += [plt.Rectangle((0, 0), 1, 1, color=colour(g), label=names[g]) for g in unnamed]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return ax


def plot_shard_plans(
    plans: Sequence[ShardPlan], genre_names: Sequence[str], titles: Sequence[str] | None = None
) -> Figure:
    """One :func:`plot_sharding` panel per plan, stacked, at a size a projector can show.

    The panels are placed by hand (in inches), so no ``tight_layout`` is needed or wanted.
    """
    import matplotlib.pyplot as plt

    if isinstance(plans, ShardPlan) or not isinstance(plans, Iterable):
        raise ValueError(f"plans must be a sequence of ShardPlan, got {plans!r}")
    plans = list(plans)
    if not plans:
        raise ValueError("plans must hold at least one ShardPlan, got []")
    for plan in plans:
        _plan_names(plan, genre_names)  # every panel checked before the figure opens
    if titles is None:
        titles = [f"{p.n_shards} workers" for p in plans]
    elif isinstance(titles, str) or not isinstance(titles, Iterable):
        raise ValueError(f"titles must be a sequence of one title per plan, got {titles!r}")
    titles = [checks.text("a title", t) for t in titles]
    if len(titles) != len(plans):
        raise ValueError(f"titles must hold one title per plan: {len(titles)} titles for "
                         f"{len(plans)} plans, got {titles!r}")  # fmt: skip
    width, left, right = 10.0, 1.0, 1.9  # inches; the right margin holds the legends
    above, below, per_shard = 0.4, 0.65, 0.5
    heights = [per_shard * p.n_shards for p in plans]
    total = sum(heights) + len(plans) * (above + below)
    fig = plt.figure(figsize=(width, total))
    top = total
    for plan, title, h in zip(plans, titles, heights, strict=True):
        top -= above
        rect = (left / width, (top - h) / total, (width - left - right) / width, h / total)
        ax = fig.add_axes(rect)
        plot_sharding(plan, genre_names, ax=ax)
        ax.set_title(title)
        top -= h + below
    return fig


def _plan_names(plan: ShardPlan, genre_names: Sequence[str]) -> list[str]:
    """The names of the plan's tables, or a ``ValueError``."""
    if not isinstance(plan, ShardPlan):
        raise ValueError(f"plan must be a ShardPlan (from plan_shards), got {plan!r}")
    return check_genre_names(genre_names, len(plan.table_bytes))


def _check_sweep(sweep: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise unless ``sweep`` (a frame from :func:`round_size_sweep`) has ``columns`` and
    rows: positive integer round sizes ``B``, integer seeds and finite metric values."""
    if not isinstance(sweep, pd.DataFrame):
        raise ValueError(f"sweep must be a DataFrame from round_size_sweep, got "
                         f"{type(sweep).__name__}")  # fmt: skip
    missing = [c for c in columns if c not in sweep.columns]
    if missing:
        raise ValueError(f"the sweep has no column(s) {missing}; is it from round_size_sweep?")
    if sweep.empty:
        raise ValueError("the sweep must hold at least one run, got an empty frame")
    sizes = sweep["B"].to_numpy()
    if sizes.dtype.kind not in "iu" or (sizes < 1).any():
        raise ValueError(f"the sweep's round sizes B must be positive integers, got "
                         f"{sorted(set(sizes.tolist()))!r}")  # fmt: skip
    if sweep.duplicated(["seed", "B"]).any():
        seed, b = sweep.loc[sweep.duplicated(["seed", "B"]), ["seed", "B"]].iloc[0].tolist()
        raise ValueError(f"the sweep must hold one run per seed and round size, got seed "
                         f"{seed!r} with B = {b!r} twice")  # fmt: skip
    for metric in columns[2:]:
        checks.finite_array(f"the sweep's {metric!r} column", sweep[metric].to_numpy())


def _metric_names(name: str, metrics: Any) -> list[str]:
    """Column names: a non-empty sequence of distinct strings (a lone string is refused)."""
    if isinstance(metrics, str) or not isinstance(metrics, Iterable):
        raise ValueError(f"{name} must be a sequence of column names, got {metrics!r}")
    names = [checks.text("a metric", m) for m in metrics]
    checks.nonempty(name, names)
    if len(set(names)) != len(names):
        raise ValueError(f"{name} must not repeat a column, got {names!r}")
    return names


def _round_size_ticks(ax: Axes, sizes: Sequence[int]) -> None:
    """A log x-axis labelled at the round sizes themselves (1,024 rather than 10^3)."""
    import matplotlib.pyplot as plt

    ax.set_xscale("log")
    ax.set_xticks([int(b) for b in sizes], [f"{int(b):,}" for b in sizes])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_xlim(min(sizes) / 2.5, max(sizes) * 2.5)


def plot_round_size_sweep(
    sweep: pd.DataFrame, metrics: Sequence[str] = ("HR@10", "NDCG@10"), ax: Axes | None = None
) -> Axes:
    """Each metric against the round size: every seed as a dot, the mean over seeds with an
    error bar of one standard deviation (a frame from :func:`round_size_sweep`)."""
    import matplotlib.pyplot as plt

    metrics = _metric_names("metrics", metrics)
    _check_sweep(sweep, ("seed", "B", *metrics))
    ax = axes_or_new(ax, (8, 4.5))
    n_seeds = sweep["seed"].nunique()
    for i, metric in enumerate(metrics):
        colour = plt.get_cmap("tab10")(i)
        by_b = sweep.groupby("B")[metric]
        mean, sd = by_b.mean(), by_b.std(ddof=1).fillna(0.0)  # one seed: no spread, sd 0
        ax.scatter(sweep["B"], sweep[metric], color=colour, alpha=0.35, s=25, linewidths=0)
        ax.errorbar(mean.index, mean, yerr=sd, color=colour, marker="o", capsize=5,
                    label=f"{metric} (test)")  # fmt: skip
    _round_size_ticks(ax, sorted(sweep["B"].unique()))
    ax.set_xlabel("round size B (transitions per round, log scale)")
    ax.set_ylabel("metric")
    ax.set_title(f"Test metrics: {n_seeds} seeds (dots), mean ± sd")
    ax.legend(loc="upper left")
    return ax


def plot_round_size_shift(
    sweep: pd.DataFrame, metric: str = "HR@10", baseline: int = 1, ax: Axes | None = None
) -> Axes:
    """Each seed's ``metric`` minus the same seed's run at round size ``baseline``: the paired
    view of a :func:`round_size_sweep`, where a shift that keeps its sign over the seeds is
    not noise of the exploration draws."""
    import matplotlib.pyplot as plt

    metric = checks.text("metric", metric)
    baseline = checks.positive_int("baseline", baseline)  # type: ignore[assignment]
    _check_sweep(sweep, ("seed", "B", metric))
    wide = sweep.pivot(index="seed", columns="B", values=metric)
    if baseline not in wide.columns:
        raise ValueError(
            f"baseline round size {baseline} is not in the sweep: {list(wide.columns)}"
        )
    if len(wide.columns) < 2:
        raise ValueError(f"the sweep must hold a round size other than the baseline "
                         f"{baseline} to compare with, got {list(wide.columns)}")  # fmt: skip
    if wide.isna().any().any():  # a seed without a run at some size: no pair to compare
        seed = wide.index[wide.isna().any(axis=1)][0]
        missing = wide.columns[wide.loc[seed].isna()].tolist()
        raise ValueError(f"the sweep must run every seed at every round size, got seed "
                         f"{np.asarray(seed).item()!r} without {missing}")  # fmt: skip
    shift = wide.sub(wide[baseline], axis=0).drop(columns=baseline)
    ax = axes_or_new(ax, (8, 4.5))
    colour = plt.get_cmap("tab10")(0)
    for b in shift.columns:
        ax.scatter([b] * len(shift), shift[b], color=colour, alpha=0.5, s=40, linewidths=0)
    ax.plot(shift.columns, shift.mean(), color=colour, marker="o", label="mean over seeds")
    ax.axhline(0.0, color="black", linewidth=1)
    _round_size_ticks(ax, list(shift.columns))
    ax.set_xlabel("round size B (log scale)")
    ax.set_ylabel(f"{metric} minus the seed's B = {baseline}")
    ax.set_title(f"Paired by seed: {len(shift)} seeds (dots)")
    ax.legend(loc="upper left")
    return ax
