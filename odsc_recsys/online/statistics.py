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

    Raises
    ------
    ValueError
        If ``results`` is not a non-empty DataFrame with a ``seed`` column and the columns
        of ``by``, or ``metric`` is not one of its columns (``ctr`` needs ``clicks`` and
        ``steps``).
    """
    keys = [*_columns("by", by), "seed"]
    _check_results(results, keys)
    _check_metric(results, metric)
    if metric == "coverage":
        return results.groupby(keys, sort=True)[metric].max()
    if metric in _RATIOS:
        num, den = _RATIOS[metric]
        g = results.groupby(keys, sort=True)[[num, den]].sum()
        return g[num] / g[den]
    return results.groupby(keys, sort=True)[metric].mean()


def mean_interval(values: Iterable[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and ``level`` t-interval of the mean: ``(mean, low, high)``.

    With ``n`` values the half-width is ``t_{(1+level)/2, n-1} * sd / sqrt(n)``: with few
    seeds this is wider, and more honest, than ``1.96`` standard errors. One value gives a
    point.

    Raises
    ------
    ValueError
        If ``level`` is not in (0, 1), or ``values`` is not a non-empty sequence of finite
        numbers (a NaN would make the whole interval NaN).
    """
    level = checks.fraction("level", level)
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValueError(f"values must be a sequence of finite numbers, got {values!r}")
    return _interval(checks.finite_array("values", list(values), ndim=1), level)


def _interval(values: np.ndarray, level: float) -> tuple[float, float, float]:
    """:func:`mean_interval` of float values whose level is checked. NaN passes through: the
    per-seed rating of a block without a click is NaN, and its interval stays NaN."""
    if values.size == 0:
        raise ValueError("values must hold at least one number (mean_interval), got []")
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

    Raises
    ------
    ValueError
        If ``metrics`` is empty, a string (not a list of names), repeats a metric or names
        one that ``results`` lack, or another argument is refused (see :func:`per_seed`).
    """
    level = checks.fraction("level", level)
    metrics = _columns("metrics", metrics)
    if not metrics:
        raise ValueError("metrics must name at least one metric, got none")
    _check_results(results, [*_columns("by", by), "seed"])
    for metric in metrics:
        _check_metric(results, metric)
    out = {}
    for metric in metrics:
        seeds = per_seed(results, metric, by)
        out[metric] = (
            seeds.groupby(level=list(range(len(by))), sort=True)
            .apply(
                lambda s: pd.Series(
                    _interval(s.to_numpy(dtype=np.float64), level), index=["mean", "low", "high"]
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

    Raises
    ------
    ValueError
        If ``a`` or ``b`` has no rows, they are the same (the difference would be 0 by
        construction), or another argument is refused.
    """
    between = checks.one_of("between", between, ("agent", "setting"))
    level = checks.fraction("level", level)
    _check_pair("b", a, b)
    other = "setting" if between == "agent" else "agent"
    diff = _seed_difference(
        results, metric, a, b, between, lambda who: f"unknown {between} {who!r}"
    )
    diff = diff.dropna().groupby(level=other, sort=True)
    rows = {key: _interval(d.to_numpy(dtype=np.float64), level) for key, d in diff}
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
    level = checks.fraction("level", level)
    _check_results(results, ["setting", "agent", "seed", "session"])
    df = results.assign(block=results["session"] // block)
    seeds = per_seed(df, metric, by=("setting", "agent", "block"))
    rows = []
    for (setting, agent, b), s in seeds.groupby(level=[0, 1, 2], sort=True):
        mean, low, high = _interval(s.to_numpy(dtype=np.float64), level)
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

    Raises
    ------
    ValueError
        If a window is not ``(start, stop)`` with integers ``0 <= start < stop``, ``agent``
        is ``baseline``, either has no sessions in a window, or another argument is refused.
    """
    first, last = _window("first", first), _window("last", last)
    level = checks.fraction("level", level)
    _check_pair("baseline", agent, baseline)
    _check_results(results, ["setting", "agent", "seed", "session"])
    _check_metric(results, metric)
    leads = {
        name: _window_leads(results, agent, baseline, metric, name, window)
        for name, window in (("first", first), ("last", last))
    }
    rows = {}
    for setting, lead_last in leads["last"].groupby(level="setting", sort=True):
        lead_first = leads["first"].loc[setting]
        change = (lead_last.droplevel("setting") - lead_first).dropna()
        rows[setting] = (float(lead_first.mean()), float(lead_last.mean()),
                         *_interval(change.to_numpy(dtype=np.float64), level))  # fmt: skip
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

    Raises
    ------
    ValueError
        If ``evidence`` is empty or not a mapping, a key is not a ``(claim, evidence)`` pair,
        a row is not three finite numbers with ``low <= mean <= high``, or the readings are
        not distinct non-empty strings (two equal readings could not be told apart).
    """
    if not isinstance(evidence, Mapping) or not evidence:
        raise ValueError(f"evidence must be a mapping with at least one (claim, evidence) -> "
                         f"(mean, low, high) row, got {evidence!r}")  # fmt: skip
    readings = [checks.text("higher", higher), checks.text("lower", lower),
                "no difference detected"]  # fmt: skip
    if len(set(readings)) != 3:
        raise ValueError(f"higher and lower must differ from each other and from 'no difference "
                         f"detected', got higher={higher!r}, lower={lower!r}")  # fmt: skip
    for key, row in evidence.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(f"evidence keys must be (claim, evidence) pairs, got {key!r}")
        values = checks.finite_array(f"evidence[{key!r}]", row, shape=(3,))
        if not values[1] <= values[0] <= values[2]:
            raise ValueError(
                f"evidence[{key!r}] must be (mean, low, high) with low <= mean <= high, got {row}"
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


# ---- input checks -----------------------------------------------------------------------------


def _columns(name: str, names: Sequence[str]) -> list[str]:
    """Column names as a list of distinct strings (a bare string is not a list of names)."""
    if isinstance(names, str | bytes) or not isinstance(names, Iterable):
        raise ValueError(f"{name} must be a list of column names, got {names!r}")
    out = [checks.text(name, n) for n in names]
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must not repeat a name, got {out}")
    return out


def _check_results(results: pd.DataFrame, needed: Sequence[str]) -> None:
    """``results`` is a non-empty DataFrame with every column of ``needed``."""
    if not isinstance(results, pd.DataFrame):
        raise ValueError(f"results must be a DataFrame (from run_experiment), got "
                         f"{type(results).__name__}")  # fmt: skip
    missing = [c for c in needed if c not in results.columns]
    if missing:
        raise ValueError(f"results must have the columns {list(needed)}, got "
                         f"{list(results.columns)} (missing {missing})")  # fmt: skip
    if results.empty:
        raise ValueError("results must hold at least one session, got an empty DataFrame")


def _check_metric(results: pd.DataFrame, metric: str) -> None:
    """``metric`` is a column of ``results``, or a ratio of two of its columns."""
    if isinstance(metric, str) and metric in _RATIOS:
        missing = [c for c in _RATIOS[metric] if c not in results.columns]
        if missing:
            raise ValueError(f"metric {metric!r} needs the columns {list(_RATIOS[metric])}, "
                             f"missing {missing}")  # fmt: skip
        return
    if not isinstance(metric, str) or metric not in results.columns:
        known = sorted(set(SESSION_METRICS) & {*results.columns, *_RATIOS})
        raise ValueError(f"unknown metric {metric!r}: metric must be one of {known}, got "
                         f"{metric!r}")  # fmt: skip


def _check_pair(name: str, a: str, b: str) -> None:
    """Two different things to compare (``a - a`` is 0 by construction, not a finding)."""
    if isinstance(a, str) and isinstance(b, str) and a == b:
        raise ValueError(f"{name} must differ from the other side of the comparison, got "
                         f"{a!r} on both sides")  # fmt: skip


def _window(name: str, window: tuple[int, int]) -> tuple[int, int]:
    """A window ``(start, stop)`` of session indices, integers with ``0 <= start < stop``."""
    allowed = f"{name} must be a window (start, stop) of session indices with 0 <= start < stop"
    try:
        start, stop = window
        start, stop = checks.count("start", start), checks.count("stop", stop)
    except (TypeError, ValueError):
        raise ValueError(f"{allowed}, got {window!r}") from None
    if not start < stop:
        raise ValueError(f"{allowed}, got {window!r}")
    return start, stop
