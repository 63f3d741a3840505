"""The temporal-difference update: the one-step target, the new ``Q(s, a)``, a step in place.

Thin wrappers of the per-genre core's :func:`~odsc_recsys.qtables.update.td_target` and
:func:`~odsc_recsys.qtables.update.td_step`, so the lesson and the tables share one update.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from odsc_recsys import checks
from odsc_recsys.qtables.update import td_step
from odsc_recsys.qtables.update import td_target as core_td_target

from .table import checked_q_table

__all__ = [
    "checked_td_args",
    "q_learning_step",
    "q_learning_step_unchecked",
    "td_target",
    "td_update",
    "td_update_unchecked",
]


def td_target(reward: float, max_next_q: float, gamma: float, done: bool = False) -> float:
    """The one-step Q-learning target ``r + gamma * max_a' Q(s', a')``; just ``r`` if ``done``.

    The textbook argument order of the core's :func:`odsc_recsys.qtables.update.td_target`.

    Raises
    ------
    ValueError
        If ``reward`` or ``max_next_q`` is not a finite number, ``gamma`` is outside
        ``[0, 1]`` or ``done`` is not ``True`` or ``False``.
    """
    reward, max_next_q, gamma, done = checked_td_args(reward, max_next_q, gamma, done)
    return core_td_target(reward, gamma, max_next_q, done)


def checked_td_args(
    reward: Any, max_next_q: Any, gamma: Any, done: Any
) -> tuple[float, float, float, bool]:
    """The checked ``(reward, max_next_q, gamma, done)`` of a TD target."""
    return (checks.real("reward", reward), checks.real("max_next_q", max_next_q),
            checks.gamma(gamma), checks.boolean("done", done))  # fmt: skip


def td_update(
    q_sa: float, reward: float, max_next_q: float, alpha: float, gamma: float, done: bool = False
) -> float:
    """The new value of ``Q(s, a)`` after one Q-learning step (a pure function).

    ``Q(s, a) + alpha * (r + gamma * max_a' Q(s', a') - Q(s, a))``, exactly as the talk writes
    it. When ``done`` (``s'`` is terminal) there is no future: the target is ``r`` alone.

    Parameters
    ----------
    q_sa : float
        The old value ``Q(s, a)``.
    reward : float
        The reward ``r`` observed after taking ``a`` in ``s``.
    max_next_q : float
        ``max_a' Q(s', a')`` over the actions available in the next state.
    alpha : float
        Learning rate in ``(0, 1]``.
    gamma : float
        Discount factor in ``[0, 1]``.
    done : bool
        Whether ``s'`` is terminal.

    Returns
    -------
    float
        The updated ``Q(s, a)``.

    Raises
    ------
    ValueError
        If a value is not a finite number, ``alpha`` is outside ``(0, 1]``, ``gamma`` outside
        ``[0, 1]`` or ``done`` is not ``True`` or ``False``.
    """
    q_sa = checks.real("q_sa", q_sa)
    alpha = checks.alpha(alpha)
    reward, max_next_q, gamma, done = checked_td_args(reward, max_next_q, gamma, done)
    return td_update_unchecked(q_sa, reward, max_next_q, alpha, gamma, done)


def td_update_unchecked(
    q_sa: float, reward: float, max_next_q: float, alpha: float, gamma: float, done: bool = False
) -> float:
    """:func:`td_update` of checked arguments."""
    return td_step(q_sa, core_td_target(reward, gamma, max_next_q, done), alpha)


def q_learning_step(
    q_table: np.ndarray,
    state: int,
    action: int,
    reward: float,
    next_state: int,
    alpha: float,
    gamma: float,
    done: bool = False,
) -> float:
    """Apply :func:`td_update` to ``q_table[state, action]`` in place; return the TD error.

    Raises
    ------
    ValueError
        Before anything is written: if ``q_table`` is not a writable 2-d float array, a state
        or action is not a position in it (a negative one would wrap to the end), the entries
        read are not finite, or a number is out of its range.
    """
    q_table = checked_q_table(q_table)
    n_states, n_actions = q_table.shape
    state = checks.index("state", state, n_states)
    action = checks.index("action", action, n_actions)
    next_state = checks.index("next_state", next_state, n_states)
    alpha, gamma = checks.alpha(alpha), checks.gamma(gamma)
    reward, done = checks.real("reward", reward), checks.boolean("done", done)
    old = checks.real(f"q_table[{state}, {action}]", float(q_table[state, action]))
    max_next_q = checks.real(f"max(q_table[{next_state}])", float(np.max(q_table[next_state])))
    return q_learning_step_unchecked(
        q_table, state, action, reward, old, max_next_q, alpha, gamma, done
    )


def q_learning_step_unchecked(
    q_table: np.ndarray,
    state: int,
    action: int,
    reward: float,
    old: float,
    max_next_q: float,
    alpha: float,
    gamma: float,
    done: bool,
) -> float:
    """Write the TD step of checked values into ``q_table[state, action]``; the TD error."""
    target = core_td_target(reward, gamma, max_next_q, done)
    q_table[state, action] = td_step(old, target, alpha)
    return target - old
