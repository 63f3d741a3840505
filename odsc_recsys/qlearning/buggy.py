"""Three mistakes of the talk's original code, kept for the lesson. Never use them.

:func:`buggy_explore_as_coded` is the original code's whole exploration test,
:func:`buggy_explore_argmax_index` its second half alone and
:func:`buggy_update_double_counted` its TD update. Each has a ``*_unchecked`` twin of checked
arguments, called by the training loop of the single-table recommender.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from odsc_recsys import checks

from .table import checked_q_row
from .td import checked_td_args

__all__ = [
    "buggy_explore_argmax_index",
    "buggy_explore_argmax_index_unchecked",
    "buggy_explore_as_coded",
    "buggy_explore_as_coded_unchecked",
    "buggy_update_double_counted",
    "buggy_update_double_counted_unchecked",
]


def buggy_explore_argmax_index(
    q_row: np.ndarray, epsilon: float, rng: np.random.Generator | None = None
) -> bool:
    """WRONG, for teaching: the second half of the original test alone, ``argmax(Q[s]) <= epsilon``.

    The original code compared the *index* of the best action with epsilon. An index is
    0, 1, 2, ... so for any ``0 <= epsilon < 1`` the test is true exactly when action 0 is the
    best one, which it always is on an all-zero (unvisited) row because ``np.argmax`` returns
    the first maximum (even with ``epsilon = 0``). Exploration then depends on how many rows
    are still empty and on which movie happens to sit in column 0, not on epsilon. The full
    original test adds a random draw: :func:`buggy_explore_as_coded`. Use
    :func:`should_explore` instead.
    """
    q_row, epsilon = checked_q_row(q_row), checks.epsilon(epsilon)
    checks.generator("rng", rng, allow_none=True)  # unused: the ExploreRule signature
    return buggy_explore_argmax_index_unchecked(q_row, epsilon)


def buggy_explore_argmax_index_unchecked(
    q_row: np.ndarray, epsilon: float, rng: Any = None
) -> bool:
    """:func:`buggy_explore_argmax_index` of checked arguments."""
    return bool(np.argmax(q_row) <= epsilon)


def buggy_explore_as_coded(q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> bool:
    """WRONG, for teaching: the talk code's whole exploration test, both halves.

    ``Code/Multiple_table.py`` of the talk's repository explores when::

        random.uniform(0, 1) <= epsilon or np.argmax(Dict[List_I[-2]][state])<= epsilon

    The first half is the correct coin flip (it explores with probability ``epsilon``); the
    second, :func:`buggy_explore_argmax_index`, adds exploration whenever column 0 is the row's
    argmax. Together they explore with probability ``epsilon + (1 - epsilon) * P(argmax = 0)``,
    more than ``epsilon`` whenever rows are empty. As in the original, the uniform number is
    drawn on every call, before the second half is looked at.

    Parameters
    ----------
    q_row : np.ndarray
        ``Q(s, .)`` of the state (all actions, as in the original's full table row).
    epsilon : float
        The exploration rate the code meant to use, in ``[0, 1]``.
    rng : np.random.Generator
        Source of the uniform draw (``random.uniform(0, 1)`` in the original).
    """
    q_row, epsilon = checked_q_row(q_row), checks.epsilon(epsilon)
    if not callable(getattr(rng, "uniform", None)):
        raise ValueError(f"rng must be a numpy.random.Generator (anything with uniform(low, "
                         f"high)), got {rng!r}")  # fmt: skip
    return buggy_explore_as_coded_unchecked(q_row, epsilon, rng)


def buggy_explore_as_coded_unchecked(
    q_row: np.ndarray, epsilon: float, rng: np.random.Generator
) -> bool:
    """:func:`buggy_explore_as_coded` of checked arguments: the draw first, as the original."""
    u = rng.uniform(0.0, 1.0)
    return bool(u <= epsilon or buggy_explore_argmax_index_unchecked(q_row, epsilon))


def buggy_update_double_counted(
    q_sa: float, reward: float, max_next_q: float, alpha: float, gamma: float, done: bool = False
) -> float:
    """WRONG, for teaching: ``(1 - alpha) * Q + alpha * (r + gamma * (maxQ' - Q))``.

    Expanding gives ``Q + alpha * (r + gamma * maxQ' - (1 + gamma) * Q)``: the old value is
    subtracted once by ``(1 - alpha) * Q`` and again inside the bracket. Its fixed point is
    ``(r + gamma * maxQ') / (1 + gamma)`` instead of ``r + gamma * maxQ'``, so every value is
    shrunk by ``1 / (1 + gamma)``. Use :func:`td_update` instead.
    """
    q_sa = checks.real("q_sa", q_sa)
    alpha = checks.alpha(alpha)
    reward, max_next_q, gamma, done = checked_td_args(reward, max_next_q, gamma, done)
    return buggy_update_double_counted_unchecked(q_sa, reward, max_next_q, alpha, gamma, done)


def buggy_update_double_counted_unchecked(
    q_sa: float, reward: float, max_next_q: float, alpha: float, gamma: float, done: bool = False
) -> float:
    """:func:`buggy_update_double_counted` of checked arguments."""
    future = 0.0 if done else max_next_q
    return (1 - alpha) * q_sa + alpha * (reward + gamma * (future - q_sa))
