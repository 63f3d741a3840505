"""The Q-learning update of the per-genre tables: targets, then the TD write.

For a state ``s``, a shown list and the user's answer, every listed movie ``a`` gets a reward
``r_a``: ``+reward`` if it was clicked, ``-penalty`` otherwise. Then, for every sub-state
``s_i`` of ``s`` (the textbook's two lines)::

    target = r_a + gamma * max_a' Q(s', a')          # td_target
    Q(s_i, a) <- Q(s_i, a) + alpha * (target - Q(s_i, a))   # td_step

``s'`` is what the user moves to:

* **a click** on movie ``c``: the next state is ``(m2, m3, c)`` and ``s'`` its sub-state that
  contains ``c`` (two of them when the next state is all one genre: the larger ``max Q``);
* **no click**: nothing was watched, the state does not change, ``s' = s`` (the largest
  ``max Q`` over its sub-states);
* **the user left** (``done``): there is no next state, the target is the reward alone.

Order of operations, so that the compiled and distributed versions reproduce it bit for bit:
the future value is read first, from the table before any write (the max over the row's
columns in the table dtype, then converted to float64); a target is ``r_a + (gamma * future)``
in float64; the new value ``old + alpha * (target - old)`` is computed in float64 and cast to
the table dtype when written. After a click, ``s'`` always contains the clicked movie and no
current sub-state does, so no row is both read for the target and written; distinct
sub-states are distinct rows, so the result does not depend on loop order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import checks
from .layout import SubState
from .storage import Store

__all__ = ["apply_update", "td_step", "td_target", "td_targets", "td_write"]


def td_step(q: float, target: float, alpha: float) -> float:
    """One temporal-difference step: move ``q`` a share ``alpha`` of the way to ``target``."""
    return q + alpha * (target - q)


def td_target(reward: float, gamma: float, future: float, done: bool = False) -> float:
    """``reward + gamma * future``, or the reward alone when the episode ended."""
    return reward + (0.0 if done else gamma * future)


def td_targets(
    slate: Sequence[int] | np.ndarray,
    clicked: int,
    reward: float,
    penalty: float,
    gamma: float,
    future: float,
    done: bool,
) -> np.ndarray:
    """The Q-learning target of every movie of a slate after one step.

    .. math:: y_i = r_i + \\gamma \\, (1 - \\text{done}) \\, \\text{future}, \\qquad
              r_i = \\text{reward if } i \\text{ was clicked, else } -\\text{penalty}

    Parameters
    ----------
    slate : sequence of int
        The movies shown (and updated).
    clicked : int
        The watched movie, or ``-1`` for no click.
    reward, penalty : float
        Reward of the clicked movie, penalty of every other movie.
    gamma : float in [0, 1]
        Discount.
    future : float
        :math:`\\max_{a'} Q(s', a')`.
    done : bool
        Whether the user left after this step.

    Examples
    --------
    >>> td_targets([4, 7, 9], clicked=7, reward=15, penalty=1, gamma=0.5, future=2.0, done=False)
    array([ 0., 16.,  0.])
    >>> td_targets([4, 7], clicked=-1, reward=15, penalty=1, gamma=0.5, future=2.0, done=True)
    array([-1., -1.])
    """
    gamma = checks.gamma(gamma)
    slate = np.asarray(slate, dtype=np.int64).reshape(-1)
    rewards = np.where(slate == int(clicked), float(reward), -float(penalty))
    return rewards + (0.0 if done else gamma * float(future))


def td_write(
    store: Store,
    t: int,
    r: int,
    cols: np.ndarray,
    targets: np.ndarray,
    alpha: float,
) -> None:
    """:func:`td_step` on the cells ``cols`` of row ``r`` of table ``t``, in place.

    The Q-values are read exactly into float64, the step is computed in float64 and cast to
    the table dtype when written: the arithmetic every other path (compiled, sharded) must
    reproduce bit for bit.

    Parameters
    ----------
    store : Store
        The tables.
    t, r : int
        Table and row.
    cols : np.ndarray of int
        Distinct columns (movies) to update.
    targets : np.ndarray of float64
        One target per column.
    alpha : float
        Learning rate.
    """
    row = store.writable_row(t, r)
    row[cols] = td_step(row[cols].astype(np.float64), targets, alpha)  # type: ignore[arg-type]


def apply_update(
    store: Store,
    subs: Sequence[SubState],
    actions: list[int],
    targets: list[float],
    alpha: float,
    proposed_by: Sequence[SubState] | None = None,
) -> None:
    """Move ``Q(s_i, a)`` toward each action's target, for every sub-state ``s_i``.

    With ``proposed_by`` (one sub-state per action, the original code's rule) each action is
    updated in its own proposer's row only.
    """
    if proposed_by is not None:
        for a, target, s in zip(actions, targets, proposed_by, strict=True):
            row = store.writable_row(s.genre, s.row)
            row[a] = td_step(float(row[a]), target, alpha)  # a scalar: cheaper than td_write
        return
    index = np.array(actions, dtype=np.int64)
    target = np.array(targets, dtype=np.float64)
    for s in subs:
        td_write(store, s.genre, s.row, index, target, alpha)
