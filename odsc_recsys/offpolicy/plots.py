"""The figure of an off-policy evaluation: each estimator against the truth as the log grows.

pyplot is imported by the function that draws, not by importing this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import checks
from ..plotting import legend_below, model_colors

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_ope"]

_MARKERS = ("o", "s", "^", "D")


def plot_ope(summary: pd.DataFrame, truth: Mapping[str, float]) -> Figure:
    """One panel per target: each estimator's mean estimate per log size, with bars of one
    standard deviation across chunks, against the true value (dashed).

    Parameters
    ----------
    summary : DataFrame
        :func:`~odsc_recsys.offpolicy.summarise_ope`'s table: index ``(target, estimator,
        size)``, columns including ``mean``, ``sd`` and ``ess``.
    truth : mapping target -> float
        Each target's value measured online (:func:`~odsc_recsys.offpolicy.true_value`).

    Returns
    -------
    Figure
        Its axes in the order of the targets; each title gives the effective sample size of
        the largest log.

    Raises
    ------
    ValueError
        If ``summary`` lacks the index levels or columns, or a target has no true value.
    """
    import matplotlib.pyplot as plt

    if not isinstance(summary, pd.DataFrame) or list(summary.index.names) != [
        "target", "estimator", "size"
    ] or not {"mean", "sd", "ess"} <= set(summary.columns):  # fmt: skip
        raise ValueError(f"summary must be summarise_ope's table (index target, estimator, "
                         f"size; columns mean, sd, ess), got {checks.short_repr(summary)}")  # fmt: skip
    targets = list(dict.fromkeys(summary.index.get_level_values("target")))
    for name in targets:
        if name not in truth:
            raise ValueError(f"truth must give a value for every target, got none for {name!r}")
        checks.real(f"truth[{name!r}]", truth[name])
    estimators = list(dict.fromkeys(summary.index.get_level_values("estimator")))
    colors = model_colors(estimators)
    fig, axes = plt.subplots(1, len(targets), figsize=(4.8 * len(targets), 4.8), sharey=True,
                             squeeze=False)  # fmt: skip
    # estimators side by side at each size: a small multiplicative shift on the log axis
    shifts = np.exp(0.06 * (np.arange(len(estimators)) - (len(estimators) - 1) / 2))
    target_of = summary.index.get_level_values("target")
    estimator_of = summary.index.get_level_values("estimator")
    size_of = summary.index.get_level_values("size")
    for ax, name in zip(axes[0], targets, strict=True):
        mine = target_of == name  # boolean masks, not .loc: the index is in the caller's order
        for j, est in enumerate(estimators):
            s = summary[mine & (estimator_of == est)].droplevel([0, 1])
            ax.errorbar(s.index.to_numpy(float) * shifts[j], s["mean"], yerr=s["sd"],
                        marker=_MARKERS[j % len(_MARKERS)], capsize=3, color=colors[est],
                        label=est)  # fmt: skip
        ax.axhline(float(truth[name]), color="black", linestyle="--", label="true value")
        ax.set_xscale("log")
        ticks = sorted(set(size_of[mine].tolist()))
        ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
        ax.minorticks_off()  # only the log sizes, not 2 x 10^2 and its kin
        ax.set_xlabel("sessions in the log")
        largest = int(size_of[mine].max())
        ess = float(summary[mine & (size_of == largest)]["ess"].iloc[0])
        ax.set_title(f"target {name}: ESS {ess:.0f} of {largest}")
    axes[0, 0].set_ylabel("estimated value")
    handles, _ = axes[0, 0].get_legend_handles_labels()
    legend_below(fig, handles, ncols=len(handles), bottom=0.12)
    return fig
