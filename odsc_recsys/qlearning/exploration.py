"""The seeded comparison of exploration settings of notebook 04."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from odsc_recsys import checks

from .training import discrete_sizes, epsilon_per_episode, train_q_learning

__all__ = ["ExplorationRuns", "exploration_trade_off"]


@dataclass
class ExplorationRuns:
    """What :func:`exploration_trade_off` returns.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per setting: mean reward per episode over the first and the last ``window``
        episodes, and the share of rooms whose greedy action is optimal at the end, each as a
        mean over the seeded runs with its standard error (``... s.e.`` columns).
    curves : dict of str to np.ndarray
        Mean reward of every episode over the runs, per setting (the learning curves).
    """

    summary: pd.DataFrame
    curves: dict[str, np.ndarray]


def exploration_trade_off(
    env: Any,
    settings: dict[str, float | Sequence[float] | np.ndarray],
    seeds: Iterable[int],
    n_episodes: int,
    optimal: np.ndarray,
    *,
    alpha: float,
    gamma: float,
    window: int = 50,
) -> ExplorationRuns:
    """Train Q-learning with each exploration setting from the same seeds and compare.

    Every setting is trained once per seed with ``np.random.default_rng(seed)``, so the
    settings differ only in how they explore. The summary tells what exploring costs while
    learning (reward per episode) and what it buys (rooms with an optimal greedy action).

    Parameters
    ----------
    env : gymnasium.Env
        A discrete environment, as for :func:`train_q_learning`.
    settings : dict
        Label -> constant epsilon, or one epsilon per episode (:func:`epsilon_schedule`).
    seeds : iterable of int
        One run per seed and setting.
    n_episodes : int
        Episodes per run.
    optimal : np.ndarray
        ``(S, A)`` mask of optimal actions (:func:`odsc_recsys.gridworld.optimal_actions`);
        rooms with no optimal action (terminal ones) are not counted.
    alpha, gamma : float
        Learning rate and discount factor.
    window : int
        Episodes averaged at the start and at the end of learning.
    """
    seeds = _seed_list(seeds)
    alpha, gamma = checks.alpha(alpha), checks.gamma(gamma)
    n_episodes = checks.positive_int("n_episodes", n_episodes)
    window = checks.integer("window", window, 1, n_episodes)  # episodes averaged
    _check_settings(settings, n_episodes)
    optimal, rooms = _optimal_rooms(optimal, discrete_sizes(env))
    rows, curves = [], {}
    for name, epsilon in settings.items():
        rewards, shares = [], []
        for seed in seeds:
            run = train_q_learning(env, n_episodes, alpha=alpha, gamma=gamma, epsilon=epsilon,
                                   rng=np.random.default_rng(seed))  # fmt: skip
            rewards.append(run.episode_rewards)
            greedy = run.q_table.argmax(axis=1)
            shares.append(np.mean(optimal[rooms, greedy[rooms]]))
        rewards_arr = np.array(rewards)
        curves[name] = rewards_arr.mean(axis=0)
        rows.append(_summary_row(name, rewards_arr, np.array(shares), window))
    return ExplorationRuns(pd.DataFrame(rows).set_index("exploration"), curves)


def _seed_list(seeds: Any) -> list[int]:
    """The seeds as a non-empty list of non-negative integers."""
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Iterable):
        raise ValueError(f"seeds must be an iterable of non-negative integers, got {seeds!r}")
    seeds = [checks.count("seed", seed) for seed in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed, got none")
    return seeds


def _check_settings(settings: Any, n_episodes: int) -> None:
    """Check every setting, before the first run: a non-empty dict of label -> epsilon or
    one epsilon per episode."""
    if not isinstance(settings, Mapping) or not settings:
        raise ValueError(f"settings must be a non-empty dict of label -> epsilon or schedule, "
                         f"got {checks.short_repr(settings)}")  # fmt: skip
    for name, epsilon in settings.items():
        try:
            epsilon_per_episode(epsilon, n_episodes)
        except ValueError as error:
            raise ValueError(f"settings[{name!r}]: {error}") from None


def _optimal_rooms(optimal: Any, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The ``(states, actions)`` mask of optimal actions, checked, and the rooms it counts
    (those with at least one optimal action)."""
    optimal = np.asarray(optimal)
    if optimal.dtype != bool or optimal.shape != shape:
        raise ValueError(f"optimal must be a boolean mask of shape {shape} (states x actions, "
                         f"see gridworld.optimal_actions), got {checks.short_repr(optimal)}")  # fmt: skip
    rooms = np.flatnonzero(optimal.any(axis=1))
    if rooms.size == 0:
        raise ValueError("optimal must mark an optimal action in at least one room, got none")
    return optimal, rooms


def _summary_row(name: str, rewards: np.ndarray, shares: np.ndarray, window: int) -> dict[str, Any]:
    """One setting's row of the summary: each measure's mean over the runs and its standard
    error, from the ``(runs, episodes)`` rewards and each run's share of optimal rooms."""
    first, last = f"reward, episodes 1-{window}", f"reward, last {window} episodes"
    share = "rooms with an optimal greedy action"
    n_runs = len(shares)
    row: dict[str, Any] = {"exploration": name}
    for label, per_run in ((first, rewards[:, :window].mean(axis=1)),
                           (last, rewards[:, -window:].mean(axis=1)),
                           (share, shares)):  # fmt: skip
        row[label] = per_run.mean()
        # standard error of the mean over runs (0 for a single run)
        se = per_run.std(ddof=1) / np.sqrt(n_runs) if n_runs > 1 else 0.0
        row[f"{label} s.e."] = se
    return row
