"""Does looking ahead pay? A sweep of the discount gamma, and every agent against one baseline.

:func:`gamma_sweep` runs one learning agent at several discounts in several environment
settings, with common random numbers (every discount meets the same users with the same draws),
and :func:`versus` turns the results into paired differences against the myopic ``gamma = 0``
agent: a difference whose interval excludes 0 is resolved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import checks
from ..simulator import MovieLensUserEnv
from .agents import Agent
from .runner import run_experiment
from .statistics import paired_difference

__all__ = ["gamma_label", "gamma_sweep", "versus"]


def gamma_label(gamma: float) -> str:
    """The agent label of a discount in result tables: ``"γ = 0.9"``.

    Raises
    ------
    ValueError
        If ``gamma`` is not a number in [0, 1].
    """
    return f"γ = {checks.gamma(gamma):g}"


def gamma_sweep(
    envs: Mapping[str, MovieLensUserEnv],
    make_agent: Callable[[float, int], Agent],
    gammas: Sequence[float],
    seeds: Iterable[int],
    n_sessions: int,
) -> pd.DataFrame:
    """One learning agent at each discount, in each setting, for each seed.

    Parameters
    ----------
    envs : mapping label -> MovieLensUserEnv
    make_agent : callable (gamma, seed) -> Agent
        A fresh agent for each (setting, gamma, seed): nothing learnt carries over.
    gammas : sequence of float in [0, 1]
        Distinct discounts; 0 (the myopic agent) is the usual baseline of :func:`versus`.
    seeds : iterable of int
    n_sessions : int
        Sessions in a row per run (the agent keeps learning across them).

    Returns
    -------
    DataFrame
        The rows of :func:`run_experiment`, whose ``agent`` is :func:`gamma_label`, with a
        ``gamma`` column.

    Raises
    ------
    ValueError
        If ``gammas`` is empty, a string, repeats a discount or holds one outside [0, 1],
        ``make_agent`` is not callable, or :func:`run_experiment` refuses the rest.
    """
    if isinstance(gammas, str | bytes) or not isinstance(gammas, Sequence) or not gammas:
        raise ValueError(f"gammas must be a non-empty sequence of discounts in [0, 1], got "
                         f"{checks.short_repr(gammas)}")  # fmt: skip
    values = [checks.gamma(g) for g in gammas]
    if len(set(values)) != len(values):
        repeat = next(g for g in values if values.count(g) > 1)
        raise ValueError(f"gammas must be distinct, got {repeat!r} twice in {values}")
    if not callable(make_agent):
        raise ValueError(f"make_agent must be a factory (gamma, seed) -> Agent, got "
                         f"{checks.short_repr(make_agent)}")  # fmt: skip
    agents = {gamma_label(g): _factory(make_agent, g) for g in values}
    results = run_experiment(envs, agents, seeds, n_sessions)
    by_label = {gamma_label(g): g for g in values}
    results.insert(3, "gamma", results["agent"].map(by_label).astype(np.float64))
    return results


def _factory(make_agent: Callable[[float, int], Agent], gamma: float) -> Callable[[int], Agent]:
    """``seed -> make_agent(gamma, seed)``, with ``gamma`` bound now (not at call time)."""
    return lambda seed: make_agent(gamma, seed)


def versus(
    results: pd.DataFrame,
    metrics: Sequence[str],
    baseline: str,
    level: float = 0.95,
) -> pd.DataFrame:
    """Every other agent minus ``baseline``, on each metric, paired by seed, per setting.

    Returns
    -------
    DataFrame
        Index ``(setting, agent)``; columns ``(metric, "mean" | "low" | "high")``. A
        difference is resolved when its interval excludes 0.

    Raises
    ------
    ValueError
        If ``metrics`` is empty or a string, ``baseline`` is not an agent of ``results``, or
        :func:`paired_difference` refuses a metric or the results.
    """
    if isinstance(metrics, str) or not isinstance(metrics, Sequence) or not metrics:
        raise ValueError(f"metrics must be a non-empty list of metric names, got "
                         f"{checks.short_repr(metrics)}")  # fmt: skip
    if not isinstance(results, pd.DataFrame) or "agent" not in results.columns:
        raise ValueError(f"results must be a DataFrame of run_experiment rows (with an "
                         f"'agent' column), got {checks.short_repr(results)}")  # fmt: skip
    agents = list(dict.fromkeys(results["agent"]))
    checks.one_of("baseline", baseline, agents)
    frames = {}
    for metric in metrics:
        rows = {
            agent: paired_difference(results, metric, agent, baseline, level=level)
            for agent in agents if agent != baseline
        }  # fmt: skip
        if not rows:
            raise ValueError(f"results must hold an agent besides the baseline {baseline!r}, "
                             f"got only {agents}")  # fmt: skip
        frames[metric] = pd.concat(rows, names=["agent"]).swaplevel().sort_index(
            level="setting", sort_remaining=False
        )
    return pd.concat(frames, axis=1)
