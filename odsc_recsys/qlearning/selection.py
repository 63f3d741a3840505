"""Action selection: greedy with random tie-breaking, epsilon-greedy, epsilon schedules.

Each public rule checks its arguments; its ``*_unchecked`` twin makes the same random draws in
the same order without the checks, for training loops that check their arguments once.
"""

from __future__ import annotations

import numpy as np

from odsc_recsys import checks

from .table import checked_q_row

__all__ = [
    "epsilon_greedy",
    "epsilon_greedy_unchecked",
    "epsilon_schedule",
    "explore_uniform",
    "explore_uniform_unchecked",
    "greedy_action",
    "should_explore",
]


def greedy_action(q_row: np.ndarray, rng: np.random.Generator) -> int:
    """The action with the highest Q-value; ties are broken uniformly at random.

    Random tie-breaking matters at the start, when a fresh table is all zeros: ``np.argmax``
    would always answer action 0 and the agent would walk into the same wall forever.

    Raises
    ------
    ValueError
        If ``q_row`` is not a non-empty 1-d array of finite numbers, or ``rng`` not a
        ``numpy.random.Generator``.
    """
    q_row = checked_q_row(q_row)
    checks.generator("rng", rng)
    return _greedy_action(q_row, rng)


def _greedy_action(q_row: np.ndarray, rng: np.random.Generator) -> int:
    """:func:`greedy_action` of checked arguments (the training loop checks them once)."""
    best = (q_row == q_row.max()).nonzero()[0]
    if best.size == 1:
        return int(best[0])
    return int(best[rng.integers(best.size)])


def should_explore(epsilon: float, rng: np.random.Generator) -> bool:
    """The epsilon rule: explore with probability ``epsilon``.

    Draw ``u ~ Uniform[0, 1)`` and explore when ``u < epsilon``. The comparison is between a
    random number and epsilon, never between a Q-value (or an action index) and epsilon.
    """
    epsilon = checks.epsilon(epsilon)
    checks.generator("rng", rng)
    return bool(rng.random() < epsilon)


def epsilon_greedy(q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """Pick an action epsilon-greedily from one row of a Q-table.

    With probability ``epsilon`` a uniformly random action (any of them, the greedy one
    included); otherwise the greedy action, ties broken at random.

    Parameters
    ----------
    q_row : np.ndarray
        ``Q(s, .)``, one finite value per action.
    epsilon : float
        Exploration rate in ``[0, 1]``.
    rng : np.random.Generator
        Source of randomness.
    """
    epsilon = checks.epsilon(epsilon)
    q_row = checked_q_row(q_row)
    checks.generator("rng", rng)
    return epsilon_greedy_unchecked(q_row, epsilon, rng)


def epsilon_greedy_unchecked(q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """:func:`epsilon_greedy` of checked arguments: the same draws in the same order."""
    if rng.random() < epsilon:  # should_explore
        return int(rng.integers(q_row.shape[0]))
    return _greedy_action(q_row, rng)


def explore_uniform(q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> bool:
    """The correct exploration test as an :class:`ExploreRule` (``q_row`` is ignored)."""
    return should_explore(epsilon, rng)


def explore_uniform_unchecked(q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> bool:
    """:func:`explore_uniform` of checked arguments."""
    return bool(rng.random() < epsilon)


def epsilon_schedule(
    n_episodes: int,
    start: float = 1.0,
    end: float = 0.05,
    kind: str = "exponential",
) -> np.ndarray:
    """Per-episode exploration rates that decay from ``start`` to ``end``.

    Parameters
    ----------
    n_episodes : int
        Length of the schedule.
    start, end : float
        First and last epsilon, both in ``[0, 1]``.
    kind : {"exponential", "linear", "constant"}
        ``exponential`` multiplies by a fixed factor each episode (fast early decay, long tail);
        ``linear`` decreases by a fixed step; ``constant`` keeps ``start``.
    """
    n_episodes = checks.positive_int("n_episodes", n_episodes)
    start, end = checks.epsilon(start), checks.epsilon(end)
    checks.one_of("kind", kind, ("exponential", "linear", "constant"))
    t = np.linspace(0.0, 1.0, n_episodes)
    if kind == "constant":
        return np.full(n_episodes, start)
    if kind == "linear":
        return start + (end - start) * t
    if start == 0.0 or end == 0.0:
        raise ValueError(f"an exponential schedule needs start > 0 and end > 0, got "
                         f"start={start!r} and end={end!r} (use kind='linear' to reach 0)")  # fmt: skip
    return start * (end / start) ** t
