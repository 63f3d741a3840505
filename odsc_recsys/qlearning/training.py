"""Tabular Q-learning on any Gymnasium-style environment with discrete spaces."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from odsc_recsys import checks

from .selection import epsilon_greedy_unchecked
from .table import checked_q_table, make_q_table
from .td import q_learning_step_unchecked

__all__ = ["TrainingLog", "discrete_sizes", "epsilon_per_episode", "train_q_learning"]


@dataclass
class TrainingLog:
    """What :func:`train_q_learning` returns.

    Attributes
    ----------
    q_table : np.ndarray
        The learned ``(n_states, n_actions)`` table.
    episode_rewards : np.ndarray
        Undiscounted sum of rewards of each episode (the learning curve).
    episode_lengths : np.ndarray
        Number of steps of each episode.
    epsilons : np.ndarray
        Exploration rate used in each episode.
    values : np.ndarray or None
        ``max_a Q(s, a)`` after each episode, shape ``(n_episodes, n_states)``, if recorded.
    """

    q_table: np.ndarray
    episode_rewards: np.ndarray
    episode_lengths: np.ndarray
    epsilons: np.ndarray
    values: np.ndarray | None = field(default=None)


def train_q_learning(
    env: Any,
    n_episodes: int,
    *,
    alpha: float,
    gamma: float,
    epsilon: float | Sequence[float] | np.ndarray,
    rng: np.random.Generator,
    q_table: np.ndarray | None = None,
    record_values: bool = False,
) -> TrainingLog:
    """Q-learning with epsilon-greedy behaviour on an environment with ``reset``/``step``.

    The environment follows the Gymnasium API with discrete observation and action spaces:
    ``reset(seed=...) -> (state, info)`` and
    ``step(action) -> (next_state, reward, terminated, truncated, info)``. A ``terminated``
    step does not bootstrap (its target is the reward alone); a ``truncated`` one does, because
    the state it stopped in still has a future.

    Parameters
    ----------
    env : gymnasium.Env
        Must expose ``observation_space.n`` and ``action_space.n`` (``Discrete`` spaces).
    n_episodes : int
        Number of episodes.
    alpha, gamma : float
        Learning rate in ``(0, 1]`` and discount factor in ``[0, 1]``.
    epsilon : float or sequence of float
        A constant exploration rate, or one per episode (see :func:`epsilon_schedule`).
    rng : np.random.Generator
        Drives exploration, tie-breaking and the environment's seed.
    q_table : np.ndarray, optional
        A table to continue training (updated in place); a zero table by default.
    record_values : bool
        Keep ``max_a Q(s, a)`` after every episode (for convergence plots).

    Raises
    ------
    ValueError
        Before the environment or ``rng`` is touched, for a bad argument. While training, if
        the environment answers with a state outside its observation space or a reward that
        is not a finite number (the table then holds the steps before it).
    """
    alpha, gamma = checks.alpha(alpha), checks.gamma(gamma)
    n_episodes = checks.positive_int("n_episodes", n_episodes)
    epsilons = epsilon_per_episode(epsilon, n_episodes)
    checks.generator("rng", rng)
    record_values = checks.boolean("record_values", record_values)
    n_states, n_actions = discrete_sizes(env)
    q_table = _start_table(q_table, n_states, n_actions)

    rewards = np.zeros(n_episodes)
    lengths = np.zeros(n_episodes, dtype=np.int64)
    values = np.zeros((n_episodes, n_states)) if record_values else None
    # Seed the environment once; later resets continue its own random stream (Gymnasium's rule).
    state = _observed(env.reset(seed=int(rng.integers(2**31)))[0], n_states)
    for episode in range(n_episodes):
        if episode > 0:
            state = _observed(env.reset()[0], n_states)
        rewards[episode], lengths[episode] = _run_episode(
            env, q_table, state, epsilons[episode], alpha, gamma, rng
        )
        if values is not None:
            values[episode] = q_table.max(axis=1)
    return TrainingLog(q_table, rewards, lengths, epsilons, values)


def _start_table(q_table: Any, n_states: int, n_actions: int) -> np.ndarray:
    """The table to train: a zero one, or the caller's, checked to fit the environment."""
    if q_table is None:
        return make_q_table(n_states, n_actions)
    q_table = checked_q_table(q_table)
    if q_table.shape != (n_states, n_actions):
        raise ValueError(f"q_table has shape {q_table.shape}, the environment needs "
                         f"{(n_states, n_actions)}")  # fmt: skip
    checks.finite_array("q_table", q_table)  # a NaN would spread through every max
    return q_table


def _run_episode(
    env: Any,
    q_table: np.ndarray,
    state: int,
    epsilon: float,
    alpha: float,
    gamma: float,
    rng: np.random.Generator,
) -> tuple[float, int]:
    """Play one episode from ``state``, updating ``q_table`` in place after every step.

    Returns the episode's undiscounted sum of rewards and its number of steps.
    """
    n_states = q_table.shape[0]
    total, length = 0.0, 0
    done = False
    while not done:
        action = epsilon_greedy_unchecked(q_table[state], epsilon, rng)
        next_state, reward, terminated, truncated, _ = env.step(action)
        next_state = _observed(next_state, n_states)
        reward = checks.real("the reward of env.step", reward)
        max_next_q = float(np.max(q_table[next_state]))
        q_learning_step_unchecked(q_table, state, action, reward, float(q_table[state, action]),
                                  max_next_q, alpha, gamma, bool(terminated))  # fmt: skip
        total += reward
        length += 1
        state = next_state
        done = terminated or truncated
    return total, length


def epsilon_per_episode(epsilon: Any, n_episodes: int) -> np.ndarray:
    """One checked exploration rate per episode: a constant, or a schedule of that length."""
    if (
        isinstance(epsilon, str | bytes | Mapping)
        or not isinstance(epsilon, Iterable)
        or (isinstance(epsilon, np.ndarray) and epsilon.ndim == 0)
    ):
        return np.full(n_episodes, checks.epsilon(epsilon))
    epsilons = np.array([checks.epsilon(e) for e in epsilon], dtype=np.float64)
    if epsilons.shape != (n_episodes,):
        raise ValueError(f"epsilon schedule has {epsilons.size} values, expected one per "
                         f"episode ({n_episodes})")  # fmt: skip
    return epsilons


def discrete_sizes(env: Any) -> tuple[int, int]:
    """``(n_states, n_actions)`` of an environment with ``Discrete`` spaces and the Gymnasium
    ``reset``/``step`` methods."""
    sizes = []
    for space in ("observation_space", "action_space"):
        n = getattr(getattr(env, space, None), "n", None)
        if n is None or not all(callable(getattr(env, m, None)) for m in ("reset", "step")):
            raise ValueError("env must be a Gymnasium environment with Discrete observation "
                             f"and action spaces (reset, step, {space}.n), got {checks.short_repr(env)}")  # fmt: skip
        sizes.append(checks.positive_int(f"env.{space}.n", n))
    return sizes[0], sizes[1]


def _observed(state: Any, n_states: int) -> int:
    """A state the environment returned, checked to be one of its ``n_states`` (a negative
    one would silently wrap to the table's last rows)."""
    return checks.index("the state returned by the environment", state, n_states)
