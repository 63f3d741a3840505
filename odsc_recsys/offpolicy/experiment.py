"""How good are the estimates? Many small logs cut from one large log, each estimated, all
compared with the truth.

:func:`ope_experiment` cuts one large behaviour log into disjoint chunks of each size (chunk
``c`` of size ``s`` holds sessions ``c*s .. (c+1)*s - 1``), applies every estimator to every
chunk for every target policy, and returns one row per estimate. :func:`summarise_ope` sets
them beside each target's true value (:func:`~odsc_recsys.offpolicy.true_value`): bias,
spread, RMSE and how often the interval holds the truth, as the log grows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import checks
from .estimators import (
    Estimate,
    SessionMatrices,
    doubly_robust,
    effective_sample_size,
    fit_reward_model,
    ips,
    session_matrices,
    snips,
)
from .logs import SessionLog
from .policies import StochasticPolicy, checked_policy

__all__ = ["ESTIMATORS", "OPE_COLUMNS", "ope_experiment", "summarise_ope"]

#: Estimator names, as the rows of :func:`ope_experiment` call them.
ESTIMATORS = ("IPS", "SNIPS", "DR")
#: Columns of :func:`ope_experiment`'s table.
OPE_COLUMNS = ("target", "estimator", "size", "chunk", "value", "low", "high", "ess")


def _check_sizes(sizes: Iterable[int], n_sessions: int) -> list[int]:
    """Distinct positive sizes, each at most the log's number of sessions."""
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Iterable):
        raise ValueError(f"sizes must be a list of positive integers, got {sizes!r}")
    out = [checks.positive_int("sizes", s) for s in sizes]
    if not out:
        raise ValueError("sizes must hold at least one log size, got none")
    if len(set(out)) != len(out):
        raise ValueError(f"sizes must be distinct, got {out}")
    too_large = [s for s in out if s > n_sessions]
    if too_large:
        raise ValueError(f"sizes must be at most the log's {n_sessions} sessions (one whole "
                         f"chunk each), got {too_large[0]!r}")  # fmt: skip
    return out


def _check_targets(targets: Mapping[str, StochasticPolicy], n_items: int) -> None:
    """A non-empty mapping of names to policies of the log's catalogue."""
    if not isinstance(targets, Mapping) or not targets:
        raise ValueError(f"targets must be a non-empty mapping name -> StochasticPolicy, got "
                         f"{checks.short_repr(targets)}")  # fmt: skip
    for name, policy in targets.items():
        checks.text("a target's name", name)
        checked_policy(f"targets[{name!r}]", policy, n_items, "the log's")


def _check_estimators(estimators: Iterable[str]) -> list[str]:
    """Known estimator names, at least one, each once."""
    if isinstance(estimators, str | bytes) or not isinstance(estimators, Iterable):
        raise ValueError(f"estimators must be a list of names from {list(ESTIMATORS)}, got "
                         f"{estimators!r}")  # fmt: skip
    out = [checks.one_of("estimators", e, ESTIMATORS) for e in estimators]
    if not out or len(set(out)) != len(out):
        raise ValueError(f"estimators must name at least one estimator, each once, got {out}")
    return out


def _estimate(
    name: str, m: SessionMatrices, gamma: float, n_boot: int, rng: np.random.Generator
) -> Estimate:
    """The estimate called ``name`` of the matrices ``m``."""
    if name == "IPS":
        return ips(m, gamma)
    if name == "SNIPS":
        return snips(m, rng, gamma, n_boot)
    return doubly_robust(m, gamma)


def ope_experiment(
    log: SessionLog,
    targets: Mapping[str, StochasticPolicy],
    sizes: Sequence[int],
    reward_log: SessionLog | None = None,
    estimators: Sequence[str] = ESTIMATORS,
    gamma: float = 1.0,
    n_boot: int = 500,
    seed: int = 0,
    smoothing: float = 10.0,
) -> pd.DataFrame:
    """Every estimator on every chunk of every size, for every target.

    Each target's distributions are computed once over the whole log
    (:func:`session_matrices`); chunks are row slices of its matrices.

    Parameters
    ----------
    log : SessionLog
        The large behaviour log; ``n_sessions // size`` chunks of each size (the rest unused).
    targets : mapping name -> StochasticPolicy
    sizes : sequence of int
        Log sizes in sessions, e.g. ``[100, 400, 1600]``.
    reward_log : SessionLog, optional
        A separate log on which the reward model of ``"DR"`` is fitted
        (:func:`fit_reward_model` with ``smoothing``): cross-fitting, so that the model's
        errors do not correlate with the chunks it corrects. Required when ``"DR"`` is asked.
    estimators : sequence of str
        Among ``"IPS"``, ``"SNIPS"``, ``"DR"``.
    gamma : float
        Discount (1: reward per session).
    n_boot : int
        Bootstrap resamples of the SNIPS intervals, drawn from ``default_rng([seed, 11])``.

    Returns
    -------
    DataFrame
        Columns :data:`OPE_COLUMNS`: ``target, estimator, size, chunk, value, low, high, ess``
        (``ess`` the chunk's :func:`effective_sample_size`).

    Raises
    ------
    ValueError
        If an argument is refused (checked before any estimate): ``sizes`` empty, repeated,
        non-positive or above ``log.n_sessions``; a target not a policy of the log's
        catalogue; ``"DR"`` without a ``reward_log``.
    """
    if not isinstance(log, SessionLog):
        raise ValueError(f"log must be a SessionLog (from log_sessions), got {type(log).__name__}")
    _check_targets(targets, log.n_items)
    sizes = _check_sizes(sizes, log.n_sessions)
    estimators = _check_estimators(estimators)
    gamma = checks.gamma(gamma)
    n_boot = checks.positive_int("n_boot", n_boot)
    seed = checks.count("seed", seed)
    r_hat = None
    if "DR" in estimators:
        if not isinstance(reward_log, SessionLog) or reward_log.n_items != log.n_items:
            raise ValueError(f"reward_log must be a SessionLog of the same catalogue (a separate "
                             f"log, for the reward model of DR), got "
                             f"{checks.short_repr(reward_log)}")  # fmt: skip
        r_hat = fit_reward_model(reward_log, smoothing)
    rng = np.random.default_rng([seed, 11])
    rows = []
    for name, policy in targets.items():
        m = session_matrices(log, policy, r_hat)
        for size in sizes:
            for c in range(log.n_sessions // size):
                part = m.rows(c * size, (c + 1) * size)
                ess = effective_sample_size(part)
                for est in estimators:
                    e = _estimate(est, part, gamma, n_boot, rng)
                    rows.append((name, est, size, c, e.value, e.low, e.high, ess))
    return pd.DataFrame(rows, columns=list(OPE_COLUMNS))


def summarise_ope(rows: pd.DataFrame, truth: Mapping[str, float]) -> pd.DataFrame:
    """Per (target, estimator, size): how the chunks' estimates sit around the truth.

    Parameters
    ----------
    rows : DataFrame
        From :func:`ope_experiment`.
    truth : mapping target -> float
        Each target's true value, e.g. ``true_value(env, policy, ...)[0]``.

    Returns
    -------
    DataFrame
        Index ``target, estimator, size``; columns ``mean`` (of the estimates), ``bias``
        (``mean - truth``), ``sd`` (across chunks; NaN with one chunk), ``rmse``
        (``sqrt(mean((value - truth)^2))``), ``coverage`` (share of chunks whose interval
        holds the truth), ``ess`` (mean effective sample size) and ``chunks``.

    Raises
    ------
    ValueError
        If ``rows`` is not a non-empty table with :data:`OPE_COLUMNS`, or ``truth`` lacks a
        target of ``rows`` or holds a value that is not a finite number.
    """
    if not isinstance(rows, pd.DataFrame):
        raise ValueError(f"rows must be a DataFrame (from ope_experiment), got "
                         f"{type(rows).__name__}")  # fmt: skip
    missing = [c for c in OPE_COLUMNS if c not in rows.columns]
    if missing or rows.empty:
        raise ValueError(f"rows must be a non-empty table with the columns {list(OPE_COLUMNS)}, "
                         f"got {len(rows)} rows (missing {missing})")  # fmt: skip
    if not isinstance(truth, Mapping):
        raise ValueError(f"truth must be a mapping target -> true value, got "
                         f"{checks.short_repr(truth)}")  # fmt: skip
    values = {}
    for target in pd.unique(rows["target"]):
        if target not in truth:
            raise ValueError(f"truth must hold every target of rows, got no value for "
                             f"{target!r} (truth holds {sorted(truth)!r})")  # fmt: skip
        values[target] = checks.real(f"truth[{target!r}]", truth[target])
    true = rows["target"].map(values)
    table = rows.assign(
        error2=(rows["value"] - true) ** 2,
        covered=(rows["low"] <= true) & (true <= rows["high"]),
    )
    g = table.groupby(["target", "estimator", "size"], sort=False)
    out = pd.DataFrame({
        "mean": g["value"].mean(),
        "sd": g["value"].std(ddof=1),
        "rmse": np.sqrt(g["error2"].mean()),
        "coverage": g["covered"].mean(),
        "ess": g["ess"].mean(),
        "chunks": g["value"].size(),
    })  # fmt: skip
    out.insert(1, "bias", out["mean"] - out.index.get_level_values("target").map(values))
    return out
