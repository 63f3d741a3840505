"""Figures of the limit measurements, one per measurement, on the shared
:func:`plot_grouped_bars`.

pyplot is imported by the functions that draw, not by importing this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import checks
from ..plot_checks import checked_frame
from ..plotting import axes_or_new, legend_below, model_colors

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "plot_accuracy_by_activity",
    "plot_grey_sheep",
    "plot_grouped_bars",
    "plot_list_overlap",
    "plot_new_movie_ranks",
    "plot_new_user_curve",
    "plot_popularity_bias",
    "plot_scalability",
    "plot_staleness",
    "plot_taste_drift",
]


def _string(name: str, value: Any) -> str:
    """A string (the empty string allowed: a figure label may be blank)."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {value!r}")
    return value


def _series(name: str, values: Any) -> pd.Series:
    """``values`` checked to be a non-empty ``Series`` of finite numbers."""
    if not isinstance(values, pd.Series) or values.empty:
        raise ValueError(
            f"{name} must be a non-empty pandas Series, got {checks.short_repr(values)}"
        )
    checks.finite_array(name, values.to_numpy())
    return values


def _model_columns(name: str, table: Any, models: Any) -> list[Any]:
    """``models`` as a list, checked to be distinct columns of the table ``table``."""
    if isinstance(models, str) or not isinstance(models, Iterable):
        raise ValueError(f"models must be a sequence of column names, got {models!r}")
    models = list(models)
    checks.nonempty("models", models)
    if len(set(models)) != len(models):
        raise ValueError(f"models must not repeat a name, got {models}")
    checked_frame(name, table, models)
    return models


def plot_grouped_bars(
    table: pd.DataFrame,
    ax: Axes | None = None,
    title: str = "",
    ylabel: str = "",
    reference: float | None = None,
    reference_label: str = "",
    legend: bool = True,
) -> Axes:
    """Grouped bars: one group per row of ``table``, one bar per column.

    ``reference`` draws a dashed horizontal line (e.g. the catalogue share of the top items).
    With ``legend=False`` the caller draws one legend for several panels (see
    :func:`plot_accuracy_by_activity`).
    """
    checked_frame("table", table)
    numeric = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if numeric:
        raise ValueError(f"table must hold numbers, got the column(s) {numeric} of dtype "
                         f"{[str(table[c].dtype) for c in numeric]}")  # fmt: skip
    for name, label in (("title", title), ("ylabel", ylabel), ("reference_label", reference_label)):
        _string(name, label)
    if reference is not None:
        checks.real("reference", reference)
    legend = checks.boolean("legend", legend)
    ax = axes_or_new(ax, (8, 4))
    n_rows, n_cols = table.shape
    width = 0.8 / n_cols
    x = np.arange(n_rows)
    colors = model_colors(table.columns, beyond_ten="tab10")
    for j, col in enumerate(table.columns):
        ax.bar(x + (j - (n_cols - 1) / 2) * width, table[col].to_numpy(dtype=float), width,
               label=str(col), color=colors[col])  # fmt: skip
    if reference is not None:
        ax.axhline(reference, color="k", ls="--", lw=1, label=reference_label or None)
    ax.set_xticks(x, [str(i) for i in table.index])
    ax.set(title=title, ylabel=ylabel)
    top = np.nanmax(np.r_[table.to_numpy(dtype=float).ravel(), reference or 0.0])
    if legend:
        # Headroom above the tallest bar keeps the legend off the bars.
        ax.set_ylim(0, 1.45 * top if top > 0 else 1.0)
        ax.legend(ncols=min(n_cols, 3), loc="upper center")
    else:
        ax.set_ylim(0, 1.1 * top if top > 0 else 1.0)
    return ax


def _legend_below(fig: Figure, ax: Axes) -> None:
    """One legend for the whole figure (``ax``'s entries, up to six a row), centred under the
    panels, which are laid out above it."""
    handles, _ = ax.get_legend_handles_labels()
    legend_below(fig, handles, ncols=min(len(handles), 6), bottom=0.08)


def _slant_xticklabels(ax: Axes, rotation: float = 30) -> None:
    """Slanted x tick labels, each ending under its tick."""
    ax.tick_params(axis="x", rotation=rotation)
    from matplotlib.artist import setp

    setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")


def plot_new_user_curve(curve: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """HR@10 against the number of movies known about a new user, one line per model.

    ``curve`` is the table of :func:`new_user_curve` (index: movies known).
    """
    checked_frame("curve", curve)
    ax = axes_or_new(ax, (9, 4.5))
    for name, color in model_colors(curve.columns, beyond_ten="tab10").items():
        ax.plot(curve.index, curve[name], "o-", label=name, color=color)
    ax.set(xlabel="movies known about the new user", ylabel="HR@10 on their next movie",
           title="Cold start: a new user")  # fmt: skip
    ax.set_xticks(curve.index)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return ax


def plot_new_movie_ranks(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Horizontal bars of each model's median rank for a brand-new movie (lower is better)."""
    checked_frame("table", table, ["median rank"])
    ax = axes_or_new(ax, (8, 3.8))
    ax.barh(table.index, table["median rank"], color="#4c72b0")
    ax.invert_yaxis()
    ax.set(xlabel="median rank of the new movie (lower is better)",
           title="Cold start: a new movie")  # fmt: skip
    return ax


def plot_accuracy_by_activity(activity: pd.DataFrame, models: Sequence[str]) -> Figure:
    """Two panels: HR@10 per activity bin, and the same divided by popularity's HR@10.

    ``activity`` is the table of :func:`accuracy_by_activity`; ``models`` its model columns,
    among them ``"Popularity"`` (the reference of the right panel).
    """
    models = _model_columns("activity", activity, models)
    if "Popularity" not in models:
        raise ValueError(f"the lift is relative to 'Popularity', which is not among {models}")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    lift = activity[models].div(activity["Popularity"], axis=0)
    plot_grouped_bars(activity[models], ax=axes[0], title="HR@10 by training movies per user",
                      ylabel="HR@10", legend=False)  # fmt: skip
    plot_grouped_bars(lift, ax=axes[1], title="... divided by popularity's HR@10",
                      ylabel="lift over popularity", reference=1.0, legend=False)  # fmt: skip
    for ax in axes:
        ax.set_xlabel("movies in the user's training history")
    _legend_below(fig, axes[0])
    return fig


def plot_popularity_bias(bias: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bars of the share of slots going to the top items, per model and for the real next movies.

    ``bias`` is the table of :func:`popularity_bias`; the dashed line is the top items' share
    of the catalogue (``bias.attrs["catalogue share"]``).
    """
    checked_frame("bias", bias, ["share to top items"])
    if "catalogue share" not in bias.attrs:
        raise ValueError("bias must carry attrs['catalogue share'] (the table of "
                         f"popularity_bias), got attrs {bias.attrs}")  # fmt: skip
    checks.probability("bias.attrs['catalogue share']", bias.attrs["catalogue share"])
    ax = axes_or_new(ax, (9, 4.5))
    colors = ["#c44e52" if name == "actual next movies" else "#4c72b0" for name in bias.index]
    ax.bar(bias.index, bias["share to top items"], color=colors)
    share = bias.attrs["catalogue share"]
    ax.axhline(share, color="k", ls="--", lw=1, label="their share of the catalogue")
    ax.set(ylabel="share of recommendation slots", ylim=(0, 1.15),
           title=f"Slots going to the top {share:.0%} most popular movies")  # fmt: skip
    _slant_xticklabels(ax)
    ax.legend(loc="upper right")
    return ax


def plot_grey_sheep(
    typicality: pd.Series, grey_cut: float, by_quintile: pd.DataFrame, models: Sequence[str]
) -> Figure:
    """Two panels: the histogram of typicality with the grey-sheep cut, and HR@10 by quintile.

    ``typicality`` comes from :func:`user_typicality`, ``by_quintile`` from
    :func:`accuracy_by_group` on typicality quintiles; ``models`` are its model columns.
    """
    _series("typicality", typicality)
    checks.real("grey_cut", grey_cut)
    models = _model_columns("by_quintile", by_quintile, models)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    axes[0].hist(typicality, bins=40, color="#8172b2")
    axes[0].axvline(grey_cut, color="k", ls="--", lw=1, label="grey-sheep cut")
    axes[0].set(xlabel="typicality (mean cosine to the closest users)", ylabel="users",
                title="How much users resemble their closest peers")  # fmt: skip
    axes[0].legend(loc="upper right")
    plot_grouped_bars(by_quintile[list(models)], ax=axes[1], title="HR@10 by typicality quintile",
                      ylabel="HR@10", legend=False)  # fmt: skip
    axes[1].set_xticks(
        axes[1].get_xticks(), [str(q).replace(" (", "\n(") for q in by_quintile.index]
    )
    axes[1].set_xlabel("typicality quintile")
    _legend_below(fig, axes[1])
    return fig


def plot_list_overlap(overlap: pd.Series, ax: Axes | None = None) -> Axes:
    """Share of each model's list unchanged after one more watched movie, and after a skip (1)."""
    _series("overlap", overlap)
    ax = axes_or_new(ax, (9, 4.5))
    ax.bar(overlap.index, overlap.to_numpy(), color="#55a868",
           label="after the user watched one more movie")  # fmt: skip
    ax.axhline(1.0, color="k", ls="--", lw=1, label="after the user skipped the whole list")
    ax.set(ylabel="share of the list unchanged", ylim=(0, 1.4),
           title="How much a list changes after feedback")  # fmt: skip
    _slant_xticklabels(ax)
    ax.legend(loc="upper center", ncols=1)
    return ax


def plot_taste_drift(mix: pd.DataFrame, drift: pd.DataFrame) -> Figure:
    """Two panels: pooled genre shares early against late, and per-user drift against chance.

    ``mix`` is the table of :func:`genre_mix`, ``drift`` that of :func:`taste_drift`.
    """
    checked_frame("mix", mix, ["early", "late"])
    checked_frame("drift", drift, ["drift", "shuffled"])
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    plot_grouped_bars(mix[["early", "late"]], ax=axes[0], ylabel="share of watches",
                      title="Genre mix: first half vs second half", legend=False)  # fmt: skip
    axes[0].legend(["first half", "second half"], loc="upper right")
    _slant_xticklabels(axes[0], 60)
    bins = np.linspace(0, max(0.8, float(drift[["drift", "shuffled"]].max().max())), 33)
    axes[1].hist(drift["shuffled"], bins=bins, alpha=0.6, label="shuffled order (chance)")
    axes[1].hist(drift["drift"], bins=bins, alpha=0.6, label="real order")
    axes[1].set(xlabel="genre drift per user (total variation)", ylabel="users",
                title="Taste drift beyond chance")  # fmt: skip
    axes[1].legend(loc="upper right")
    fig.tight_layout()
    return fig


def plot_staleness(staleness: pd.DataFrame, frozen_on: str, ax: Axes | None = None) -> Axes:
    """HR@10 per period of each model retrained monthly (solid) and frozen (dashed).

    ``staleness`` has one column pair per model, ``(model, "fresh HR@10")`` and
    ``(model, "stale HR@10")``, as :func:`stale_vs_fresh` tables concatenated by model.
    """
    checked_frame("staleness", staleness)
    if staleness.columns.nlevels != 2:
        raise ValueError(f"staleness must have two column levels (model, measure), got the "
                         f"columns {list(staleness.columns)[:6]}")  # fmt: skip
    names = list(dict.fromkeys(staleness.columns.get_level_values(0)))
    checked_frame("staleness", staleness,
                  [(n, m) for n in names for m in ("fresh HR@10", "stale HR@10")])  # fmt: skip
    _string("frozen_on", frozen_on)
    ax = axes_or_new(ax, (9, 4.8))
    for name, color in model_colors(names, beyond_ten="tab10").items():
        ax.plot(staleness.index, staleness[(name, "fresh HR@10")], "o-", color=color,
                label=f"{name}, retrained monthly")  # fmt: skip
        ax.plot(staleness.index, staleness[(name, "stale HR@10")], "o--", color=color,
                label=f"{name}, frozen on {frozen_on}")  # fmt: skip
    ax.set(ylabel="HR@10", title="Changing data: frozen vs retrained")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return ax


def plot_scalability(timings: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Log-log plot of similarity time against catalogue size, with the fitted power law."""
    checked_frame("timings", timings, ["seconds"])
    n = checks.finite_array("timings.index", timings.index.to_numpy())
    t = checks.finite_array("timings['seconds']", timings["seconds"].to_numpy())
    if len(timings) < 2 or (n <= 0).any() or (t <= 0).any():
        raise ValueError(f"timings must hold at least two positive catalogue sizes with "
                         f"positive seconds (a power law on log axes), got sizes {n.tolist()} "
                         f"and seconds {t.tolist()}")  # fmt: skip
    ax = axes_or_new(ax, (7, 4.5))
    slope, intercept = np.polyfit(np.log(n), np.log(t), 1)
    ax.loglog(n, t, "o-", label="measured")
    ax.loglog(n, np.exp(intercept) * n**slope, "--", label=f"fit: time ~ n^{slope:.1f}")
    ax.set(xlabel="items in the catalogue", ylabel="seconds", title="Item-item similarity cost")
    ax.legend()
    return ax
