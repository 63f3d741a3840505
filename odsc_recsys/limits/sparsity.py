"""Sparsity: how full the user x item matrix is (:func:`density`) and how accuracy grows with
a user's activity (:func:`accuracy_by_activity`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from .. import checks
from ..sessions import Transitions, interaction_matrix
from .hit_rates import accuracy_table
from .inputs import History, check_histories, check_lists, check_transitions, check_users_known

__all__ = ["accuracy_by_activity", "density"]


def density(histories: History, n_items: int) -> float:
    """Share of the user x item matrix that is filled."""
    n_items = checks.positive_int("n_items", n_items)
    check_histories("histories", histories, n_items)
    m = interaction_matrix(histories, n_items)
    return m.nnz / (m.shape[0] * m.shape[1])


def accuracy_by_activity(
    lists: Mapping[str, np.ndarray],
    transitions: Transitions,
    train_histories: History,
    bins: Sequence[float] = (0, 25, 50, 100, 200, np.inf),
) -> pd.DataFrame:
    """Hit rate grouped by how many training movies the user has.

    Parameters
    ----------
    lists : dict of name -> (n, k) array
        Recommendation lists for ``transitions``, one array per model.
    transitions : Transitions
        The transitions the lists answer.
    train_histories : dict
        The training histories; their lengths define the bins.
    bins : sequence of float
        Bin edges for the number of training movies (right-closed: ``(a, b]``), increasing;
        ``inf`` may close the last bin.
    """
    check_transitions(transitions)
    check_lists(lists, len(transitions))
    check_histories("train_histories", train_histories)
    check_users_known(transitions, train_histories, "train_histories")
    if isinstance(bins, str | bytes) or not isinstance(bins, Iterable):
        raise ValueError(f"bins must be a sequence of increasing edges, got {bins!r}")
    bins = list(bins)
    for edge in bins:
        if not (isinstance(edge, float) and math.isinf(edge)):  # an infinite end is allowed
            checks.real("bins", edge)
    if len(bins) < 2 or any(b <= a for a, b in pairwise(bins)):
        raise ValueError(f"bins must be at least two strictly increasing edges, got {bins}")
    n_train = np.array([len(train_histories[int(u)]) for u in transitions.users])
    out = accuracy_table(lists, transitions, pd.cut(n_train, bins=list(bins)), "bin")
    out.index = [_bin_label(iv) for iv in out.index]
    out.index.name = "training movies"
    return out


def _bin_label(interval: pd.Interval) -> str:
    left, right = int(interval.left) + 1, interval.right
    return f"{left}+" if np.isinf(right) else f"{left}-{int(right)}"
