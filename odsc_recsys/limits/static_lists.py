"""Static recommendations: how little a list changes after a click (:func:`list_overlap`) and
not at all after a skip (:func:`repeat_visits`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .. import checks
from ..metrics import PAD
from ..protocol import Recommender
from ..sessions import Transitions
from .inputs import check_lists, check_transitions

__all__ = ["list_overlap", "repeat_visits"]


def list_overlap(lists: Mapping[str, np.ndarray], transitions: Transitions) -> pd.Series:
    """Mean share of a list that is still there after the user watched one more movie.

    Compares each transition's list with the list of the same user's next transition
    (consecutive positions), i.e. before and after one piece of positive feedback.
    """
    check_transitions(transitions)
    check_lists(lists, len(transitions))
    same = (transitions.users[1:] == transitions.users[:-1]) & (
        transitions.positions[1:] == transitions.positions[:-1] + 1
    )
    idx = np.flatnonzero(same)
    if idx.size == 0:
        raise ValueError("no consecutive transitions of the same user to compare")
    out = {}
    for name, recs in lists.items():
        recs = np.asarray(recs)
        before, after = recs[idx], recs[idx + 1]
        # (pairs, k, k) comparison: lists hold no repeats, so the matches count shared items.
        match = (before[:, :, None] == after[:, None, :]) & (before[:, :, None] != PAD)
        out[name] = float(match.sum(axis=(1, 2)).mean() / recs.shape[1])
    return pd.Series(out, name="overlap after one click")


def repeat_visits(
    model: Recommender, history: Sequence[int], n_visits: int = 3, k: int = 10
) -> np.ndarray:
    """The lists a user gets on ``n_visits`` visits while ignoring every recommendation.

    The protocol gives a classical model only the history; a skipped list leaves the history
    unchanged, so there is nothing to react to. Returns an ``(n_visits, k)`` array.
    """
    if not callable(getattr(model, "recommend", None)):
        raise ValueError(f"model must be a recommender, got {checks.short_repr(model)}")
    n_visits = checks.positive_int("n_visits", n_visits)
    k = checks.positive_int("k", k)
    if callable(getattr(model, "check_fitted", None)):
        model.check_fitted()  # an unfitted model knows no catalogue to check the history in
    # integers only: 0.5 would be truncated to movie 0, -1 would wrap to the last movie
    history = checks.indices("history", history, int(model.n_items)).astype(np.int64)
    return np.stack([model.recommend(history, k, exclude=history) for _ in range(n_visits)])
