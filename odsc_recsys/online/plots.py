"""Figures of online experiments: learning curves and the simulator check.

Bar charts of :func:`~odsc_recsys.online.summarise` tables are drawn by
:func:`odsc_recsys.plotting.plot_metric_bars`. pyplot is imported by the functions that draw,
not by importing this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import checks
from ..plotting import legend_below, model_colors
from .validation import SimulatorCheck

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["agent_colors", "plot_learning_curves", "plot_simulator_check"]


def agent_colors(agents: Iterable[str]) -> dict[str, Any]:
    """A fixed colour per agent name (sorted order, tab10 repeated beyond ten), so every figure
    agrees whatever order the agents come in.

    ``agents`` is an iterable of names; a bare string is refused rather than read as its
    letters.
    """
    if isinstance(agents, str | bytes) or not isinstance(agents, Iterable):
        raise ValueError(f"agents must be an iterable of agent names, got {agents!r}")
    return model_colors(sorted(set(agents)), beyond_ten="tab10")


def _draw_static_levels(
    ax: Axes, levels: pd.DataFrame, metric: str, colors: Mapping[str, Any]
) -> None:
    """Each static agent's level in one setting: its interval as a band, its mean dashed."""
    for agent, row in levels.iterrows():
        c = colors.get(agent, "grey")
        lo, mid, hi = row[(metric, "low")], row[(metric, "mean")], row[(metric, "high")]
        ax.axhspan(lo, hi, color=c, alpha=0.15, lw=0)
        ax.axhline(mid, color=c, lw=1.5, ls="--", label=f"{agent} (static)")


def plot_learning_curves(
    curves: pd.DataFrame,
    levels: pd.DataFrame | None = None,
    metric: str = "reward",
    ylabel: str | None = None,
    colors: Mapping[str, Any] | None = None,
) -> Figure:
    """One panel per setting: each learning agent's ``metric`` per block of sessions (line and
    band) and, as horizontal bands, the level of the static agents.

    The legend sits below the panels, in columns, so the panels keep their width.

    Parameters
    ----------
    curves : DataFrame
        From :func:`learning_curves`.
    levels : DataFrame, optional
        From :func:`summarise` (index ``setting, agent``; columns ``(metric, mean|low|high)``):
        drawn flat across the panel.
    metric : str
        The metric of ``levels`` to draw (``curves`` holds one already).
    ylabel : str, optional
        Label of the y axis (``metric`` by default).
    colors : mapping agent -> colour, optional
        By default :func:`agent_colors` of every agent drawn.

    Raises
    ------
    ValueError
        If ``curves`` is not a non-empty table of :func:`learning_curves`, ``levels`` lacks
        the ``metric`` columns of :func:`summarise`, or ``ylabel`` or ``colors`` has the
        wrong type. Nothing is drawn then.
    """
    _check_frame("curves", curves, ("setting", "agent", "session", "mean", "low", "high"))
    metric = checks.text("metric", metric)
    if levels is not None:
        wanted = [(metric, part) for part in ("mean", "low", "high")]
        if (
            not isinstance(levels, pd.DataFrame)
            or not set(wanted) <= set(levels.columns)
            or not {"setting", "agent"} <= set(levels.index.names)
        ):
            raise ValueError(f"levels must be a summarise table with index (setting, agent) and "
                             f"columns {wanted}, or None, got {checks.short_repr(levels)}")  # fmt: skip
    if ylabel is not None:
        checks.text("ylabel", ylabel)
    if colors is not None and not isinstance(colors, Mapping):
        raise ValueError(f"colors must be a mapping agent -> colour or None, got {colors!r}")
    import matplotlib.pyplot as plt

    settings = sorted(curves["setting"].unique())
    names = list(curves["agent"].unique())
    if levels is not None:
        names += list(levels.index.get_level_values("agent"))
    colors = dict(colors or agent_colors(names))
    fig, axes = plt.subplots(1, len(settings), figsize=(4.8 * len(settings) + 0.6, 4.6),
                             sharey=True, squeeze=False)  # fmt: skip
    for ax, setting in zip(axes[0], settings, strict=True):
        part = curves[curves["setting"] == setting]
        x_max = float(part["session"].max())
        if levels is not None and setting in levels.index.get_level_values("setting"):
            _draw_static_levels(ax, levels.loc[setting], metric, colors)
        for agent, g in part.groupby("agent", sort=True):
            c = colors.get(agent, "black")
            ax.fill_between(g["session"], g["low"], g["high"], color=c, alpha=0.25, lw=0)
            ax.plot(g["session"], g["mean"], color=c, lw=2.5, marker="o", ms=5, label=agent)
        ax.set(title=setting, xlabel="sessions played", xlim=(0, x_max))
    axes[0, 0].set_ylabel(ylabel or metric)
    handles, _ = axes[0, 0].get_legend_handles_labels()
    legend_below(fig, handles, ncols=3, bottom=0.14)
    return fig


def _draw_genre_shares(ax: Axes, check: SimulatorCheck) -> None:
    """Bars of each source's share of watches per primary genre."""
    sources = list(check.genre_shares)
    x = np.arange(len(check.genre_names))
    width = 0.8 / len(sources)
    for j, label in enumerate(sources):
        ax.bar(x + (j - (len(sources) - 1) / 2) * width, check.genre_shares[label], width,
               label=label)  # fmt: skip
    ax.set_xticks(x, check.genre_names, rotation=30, ha="right")
    highest = max(float(np.max(share)) for share in check.genre_shares.values())
    ax.set(title="Primary genre of watched movies", ylabel="share of watches",
           ylim=(0, 1.3 * highest))  # fmt: skip
    ax.legend(loc="upper center", ncol=len(sources), frameon=False)


def _draw_who_gets_watched(ax: Axes, check: SimulatorCheck) -> None:
    """Mean attraction of each movie against its MovieLens rating count (log x)."""
    ax.scatter(check.movielens_counts, check.mean_attraction, s=10, alpha=0.5)
    ax.set(xscale="log", xlabel="MovieLens ratings of the movie", ylabel="mean attraction",
           title="Who gets watched")  # fmt: skip
    ticks = [t for t in (50, 100, 200, 400) if t <= check.movielens_counts.max()]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()


def _draw_rating_shares(ax: Axes, check: SimulatorCheck, log: str) -> None:
    """Share of ratings per star: MovieLens beside the log ``log``."""
    stars = np.arange(1, 6)
    ax.bar(stars - 0.2, check.rating_shares["MovieLens"], 0.4, label="MovieLens")
    ax.bar(stars + 0.2, check.rating_shares[log], 0.4, label=log)
    ax.set(xlabel="stars", ylabel="share of ratings", title="Ratings", xticks=stars)
    ax.legend(loc="upper left")


def plot_simulator_check(check: SimulatorCheck, log: str | None = None) -> Figure:
    """Three views of :func:`compare_with_movielens`: the genre mix of watches (every source),
    which movies get watched (mean attraction against MovieLens rating counts) and the
    ratings (MovieLens against the log ``log``, by default the last one).
    """
    if not isinstance(check, SimulatorCheck):
        raise ValueError(f"check must be a SimulatorCheck (from compare_with_movielens), got "
                         f"{type(check).__name__}")  # fmt: skip
    import matplotlib.pyplot as plt

    sources = list(check.genre_shares)
    log = log if log is not None else sources[-1]
    if not isinstance(log, str) or log not in check.rating_shares or log == "MovieLens":
        raise ValueError(f"log must name a simulated log, one of {sources[1:]}, got {log!r}")
    fig = plt.figure(figsize=(10.5, 8.2))
    grid = fig.add_gridspec(2, 2, height_ratios=(1.1, 1))
    _draw_genre_shares(fig.add_subplot(grid[0, :]), check)
    _draw_who_gets_watched(fig.add_subplot(grid[1, 0]), check)
    _draw_rating_shares(fig.add_subplot(grid[1, 1]), check, log)
    fig.tight_layout()
    return fig


def _check_frame(name: str, frame: object, columns: Iterable[str]) -> None:
    """``frame`` is a non-empty DataFrame with ``columns``."""
    ok = isinstance(frame, pd.DataFrame) and not frame.empty
    if not ok or not set(columns) <= set(frame.columns):
        raise ValueError(f"{name} must be a non-empty DataFrame with the columns "
                         f"{list(columns)}, got {checks.short_repr(frame)}")  # fmt: skip
