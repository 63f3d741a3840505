"""The cascade click model: how a user scans a slate and where the click lands."""

from __future__ import annotations

import numpy as np

from .. import checks

__all__ = ["cascade_click_probabilities", "cascade_unchecked", "examination_probabilities"]


def examination_probabilities(k: int, position_decay: float) -> np.ndarray:
    """Probability ``e_p = (1 + p) ** -position_decay`` that position ``p`` (0 = top) is read.

    ``position_decay = 0`` means every position is read; larger values favour the top.

    Raises
    ------
    ValueError
        If ``k`` is not a non-negative integer or ``position_decay`` not a finite number >= 0.
    """
    k = checks.count("k", k)
    position_decay = checks.real("position_decay", position_decay, 0.0)
    return (1.0 + np.arange(k)) ** -position_decay


def _probabilities(name: str, values: object) -> np.ndarray:
    """``values`` as a 1-d float array of probabilities, or a ``ValueError`` naming ``name``."""
    p = checks.finite_array(name, values, ndim=1)
    outside = (p < 0.0) | (p > 1.0)
    if outside.any():
        j = int(np.argmax(outside))
        raise ValueError(f"{name} must be probabilities in [0, 1], got {p[j].item()!r} at "
                         f"position {j}")  # fmt: skip
    return p


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
        ``e_p`` in [0, 1], one per position of ``attractiveness``.

    Raises
    ------
    ValueError
        If either is not a 1-d array of probabilities, or their lengths differ (numpy would
        otherwise stretch a single examination probability over the whole slate).
    """
    v = _probabilities("attractiveness", attractiveness)
    e = _probabilities("examination", examination)
    if v.shape != e.shape:
        raise ValueError(f"examination must hold one probability per position of "
                         f"attractiveness ({v.size}), got {e.size}")  # fmt: skip
    return cascade_unchecked(v * e)


def cascade_unchecked(ev: np.ndarray) -> np.ndarray:
    """:func:`cascade_click_probabilities` from the products ``e_p v_p``, unchecked: the
    environment's hot path, whose inputs it builds itself."""
    if ev.size == 0:
        return np.zeros(0)
    p = ev.copy()
    p[1:] *= np.cumprod(1.0 - ev[:-1])  # nobody clicked above position p
    return p
