"""Aggregation of session results: one value per seed, then a t-interval over seeds.

Results of :func:`~odsc_recsys.online.run_experiment` hold one row per session. Sessions of
one seed are not independent (a learning agent carries what it learnt from one to the next),
seeds are: every interval here is taken over per-seed values (:func:`per_seed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .. import checks
from .runner import SESSION_METRICS

__all__ = [
    "evidence_table",
    "lead_change",
    "learning_curves",
    "mean_interval",
    "paired_difference",
    "per_seed",
    "summarise",
]

# Metrics pooled as a ratio of two per-session counts, not averaged over sessions.
_RATIOS = {"ctr": ("clicks", "steps")}


def per_seed(
    results: pd.DataFrame, metric: str, by: Sequence[str] = ("setting", "agent")
) -> pd.Series:
    """One value of ``metric`` per (``by``..., seed).

    ``ctr`` is pooled (total clicks / total steps: a click-through rate over all slates shown);
    ``coverage`` is the share of the catalogue shown at least once (its last value); every
    other metric is the mean over sessions (``left`` becomes the share of sessions in which the
    user left, ``rating`` ignores sessions without a click).
    """
    keys = [*by, "seed"]
    if metric == "coverage":
        return results.groupby(keys, sort=True)[metric].max()
    if metric in _RATIOS:
        num, den = _RATIOS[metric]
        g = results.groupby(keys, sort=True)[[num, den]].sum()
        return g[num] / g[den]
    if metric not in results.columns:
        raise ValueError(f"unknown metric {metric!r}: choose one of {sorted(SESSION_METRICS)}")
    return results.groupby(keys, sort=True)[metric].mean()


def mean_interval(values: Iterable[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and ``level`` t-interval of the mean: ``(mean, low, high)``.

    With ``n`` values the half-width is ``t_{(1+level)/2, n-1} * sd / sqrt(n)``: with few
    seeds this is wider, and more honest, than ``1.96`` standard errors. One value gives a
    point.
    """
    level = checks.fraction("level", level)
    values = np.asarray(list(values), dtype=np.float64)
    if values.size == 0:
        raise ValueError("mean_interval needs at least one value")
    mean = float(values.mean())
    if values.size < 2:
        return mean, mean, mean
    half = stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return mean, float(mean - half), float(mean + half)


def summarise(
    results: pd.DataFrame,
    metrics: Sequence[str] = ("ctr", "reward", "steps", "diversity"),
    level: float = 0.95,
    by: Sequence[str] = ("setting", "agent"),
) -> pd.DataFrame:
    """Mean over seeds of each per-seed metric, with a ``level`` t-interval.

    Returns
    -------
    DataFrame
        Index ``by``; columns ``(metric, "mean" | "low" | "high")``.
    """
    level = checks.fraction("level", level)
    out = {}
    for metric in metrics:
        seeds = per_seed(results, metric, by)
        out[metric] = (
            seeds.groupby(level=list(range(len(by))), sort=True)
            .apply(
                lambda s: pd.Series(
                    mean_interval(s.to_numpy(), level), index=["mean", "low", "high"]
                )
            )
            .unstack()
        )
    return pd.concat(out, axis=1)


def paired_difference(
    results: pd.DataFrame,
    metric: str,
    a: str,
    b: str,
    between: str = "agent",
    level: float = 0.95,
) -> pd.DataFrame:
    """``a - b`` on ``metric``, paired by seed (common random numbers), with a t-interval.

    ``between="agent"`` compares two agents within each setting; ``between="setting"``
    compares two settings (e.g. drift on minus drift off) for each agent. The difference is
    resolved at this level when the interval excludes 0.

    Returns
    -------
    DataFrame
        Index: the other column's values; columns ``mean, low, high``.
    """
    between = checks.one_of("between", between, ("agent", "setting"))
    other = "setting" if between == "agent" else "agent"
    diff = _seed_difference(
        results, metric, a, b, between, lambda who: f"unknown {between} {who!r}"
    )
    diff = diff.dropna().groupby(level=other, sort=True)
    rows = {key: mean_interval(d.to_numpy(), level) for key, d in diff}
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["mean", "low", "high"]
    ).rename_axis(other)


def learning_curves(
    results: pd.DataFrame, metric: str = "reward", block: int = 50, level: float = 0.95
) -> pd.DataFrame:
    """``metric`` per block of ``block`` consecutive sessions, per (setting, agent), with a
    t-interval over seeds: how an agent's users fare as it gains experience.

    Returns
    -------
    DataFrame
        Columns ``setting, agent, block, session`` (the block's last session + 1, i.e. how
        many sessions have been played), ``mean, low, high``.
    """
    block = checks.positive_int("block", block)
    df = results.assign(block=results["session"] // block)
    seeds = per_seed(df, metric, by=("setting", "agent", "block"))
    rows = []
    for (setting, agent, b), s in seeds.groupby(level=[0, 1, 2], sort=True):
        mean, low, high = mean_interval(s.to_numpy(), level)
        rows.append((setting, agent, int(b), (int(b) + 1) * block, mean, low, high))
    return pd.DataFrame(
        rows, columns=["setting", "agent", "block", "session", "mean", "low", "high"]
    )


def _seed_difference(
    results: pd.DataFrame,
    metric: str,
    a: str,
    b: str,
    between: str,
    missing: Callable[[str], str],
) -> pd.Series:
    """Per seed (and value of the other column): ``a - b`` on ``metric``, ``a`` and ``b``
    being values of the column ``between``.

    Raises
    ------
    ValueError
        ``"<missing(who)>: the results hold [...]"`` if ``a`` or ``b`` has no rows.
    """
    seeds = per_seed(results, metric).unstack(between)
    for who in (a, b):
        if who not in seeds.columns:
            raise ValueError(f"{missing(who)}: the results hold {sorted(seeds.columns)}")
    return seeds[a] - seeds[b]


def _window_leads(
    results: pd.DataFrame, agent: str, baseline: str, metric: str, name: str,
    window: tuple[int, int],
) -> pd.Series:  # fmt: skip
    """Per (setting, seed): ``agent - baseline`` on ``metric`` over the sessions of
    ``window`` (``start <= session < stop``), named ``name`` in messages."""
    start, stop = window
    if not 0 <= start < stop:
        raise ValueError(f"a window is (start, stop) with 0 <= start < stop, got {(start, stop)}")
    part = results[(results["session"] >= start) & (results["session"] < stop)]
    return _seed_difference(
        part, metric, agent, baseline, "agent",
        lambda who: f"no sessions of {who!r} in the {name} window {(start, stop)}",
    )  # fmt: skip


def lead_change(
    results: pd.DataFrame,
    agent: str,
    baseline: str,
    metric: str,
    first: tuple[int, int],
    last: tuple[int, int],
    level: float = 0.95,
) -> pd.DataFrame:
    """Did ``agent`` improve? Its lead over ``baseline`` in two windows of sessions, and how
    that lead changed, paired by seed, per setting.

    Comparing a learning agent's first sessions with its last mixes learning with *which*
    users happened to come. Within a window both agents meet the same users (common random
    numbers), so the lead ``agent - baseline`` is free of that; its change from the ``first``
    to the ``last`` window is what the agent learned.

    Parameters
    ----------
    results : DataFrame
        Sessions of both agents (from :func:`run_experiment`), covering both windows.
    first, last : (start, stop)
        Session index windows, ``start <= session < stop``.

    Returns
    -------
    DataFrame
        Index ``setting``; columns ``lead, first``, ``lead, last`` (means over seeds),
        ``change``, ``low``, ``high`` (mean and t-interval of the per-seed change).
    """
    leads = {
        name: _window_leads(results, agent, baseline, metric, name, window)
        for name, window in (("first", first), ("last", last))
    }
    rows = {}
    for setting, lead_last in leads["last"].groupby(level="setting", sort=True):
        lead_first = leads["first"].loc[setting]
        change = (lead_last.droplevel("setting") - lead_first).dropna()
        rows[setting] = (float(lead_first.mean()), float(lead_last.mean()),
                         *mean_interval(change.to_numpy(), level))  # fmt: skip
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["lead, first", "lead, last", "change", "low", "high"]
    ).rename_axis("setting")


def evidence_table(
    evidence: Mapping[tuple[str, str], tuple[float, float, float]],
    higher: str = "higher",
    lower: str = "lower",
) -> pd.DataFrame:
    """Intervals as a table, each with its reading: ``higher`` when the interval lies above 0,
    ``lower`` when below, ``"no difference detected"`` when it holds 0.

    Parameters
    ----------
    evidence : mapping (claim, evidence) -> (mean, low, high)
    """
    if not evidence:
        raise ValueError("evidence_table needs at least one (mean, low, high) row")
    for key, row in evidence.items():
        if len(row) != 3 or not row[1] <= row[0] <= row[2]:
            raise ValueError(
                f"{key}: expected (mean, low, high) with low <= mean <= high, got {row}"
            )
    table = pd.DataFrame(
        [tuple(map(float, row)) for row in evidence.values()],
        columns=["mean", "low", "high"],
        index=pd.MultiIndex.from_tuples(list(evidence), names=["claim", "evidence"]),
    )
    table["reading"] = np.select(
        [table["low"] > 0, table["high"] < 0], [higher, lower], "no difference detected"
    )
    return table
