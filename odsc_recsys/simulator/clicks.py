"""The cascade click model: how a user scans a slate and where the click lands."""

from __future__ import annotations

import numpy as np

__all__ = ["cascade_click_probabilities", "examination_probabilities"]


def examination_probabilities(k: int, position_decay: float) -> np.ndarray:
    """Probability ``e_p = (1 + p) ** -position_decay`` that position ``p`` (0 = top) is read.

    ``position_decay = 0`` means every position is read; larger values favour the top.
    """
    return (1.0 + np.arange(k)) ** -position_decay


def cascade_click_probabilities(attractiveness: np.ndarray, examination: np.ndarray) -> np.ndarray:
    """Probability that the click lands on each position of a slate (cascade model).

    The user reads top-down; position ``p`` is examined with probability ``e_p`` and, when
    examined, clicked with probability ``v_p``; the first click ends the scan:

    .. math:: P(\\text{click at } p) = e_p v_p \\prod_{j<p} (1 - e_j v_j)

    The probabilities sum to at most 1; the rest is the probability of no click.

    Parameters
    ----------
    attractiveness : array (n,)
        ``v_p`` in [0, 1].
    examination : array (n,)
        ``e_p`` in [0, 1].
    """
    ev = np.asarray(attractiveness, dtype=np.float64) * np.asarray(examination, dtype=np.float64)
    if ev.size == 0:
        return np.zeros(0)
    p = ev.copy()
    p[1:] *= np.cumprod(1.0 - ev[:-1])  # nobody clicked above position p
    return p
