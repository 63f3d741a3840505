"""Grey sheep: how much users resemble their peers (:func:`user_typicality`) and the hit rate
per user group (:func:`accuracy_by_group`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import checks
from ..classical import item_similarity
from ..sessions import Transitions, interaction_matrix
from .hit_rates import accuracy_table
from .inputs import History, check_histories, check_lists, check_transitions

__all__ = ["accuracy_by_group", "user_typicality"]


def user_typicality(train_histories: History, n_items: int, n_neighbours: int = 10) -> pd.Series:
    """How much each user resembles their closest peers.

    The mean cosine similarity of a user's binary training vector to their ``n_neighbours``
    most similar *other* users. Grey sheep are the users with the lowest values: nobody is
    much like them, so "people like you" has little to say.
    """
    n_neighbours = checks.positive_int("n_neighbours", n_neighbours)
    n_items = checks.positive_int("n_items", n_items)
    check_histories("train_histories", train_histories, n_items)
    if len(train_histories) < 2:
        raise ValueError(f"train_histories must hold at least two users (a user's peers are "
                         f"the others), got {len(train_histories)}")  # fmt: skip
    users = sorted(train_histories)
    # The user-user cosine is the item-item one of the transposed (items x users) matrix.
    cos = item_similarity(interaction_matrix(train_histories, n_items, np.float64).T)
    np.fill_diagonal(cos, -np.inf)  # a user is not their own peer
    n = min(n_neighbours, len(users) - 1)
    top = -np.sort(-cos, axis=1)[:, :n]
    return pd.Series(top.mean(axis=1), index=pd.Index(users, name="user_id"), name="typicality")


def accuracy_by_group(
    lists: Mapping[str, np.ndarray], transitions: Transitions, groups: pd.Series
) -> pd.DataFrame:
    """Hit rate per user group (``groups`` maps user id -> label), one column per model."""
    check_transitions(transitions)
    check_lists(lists, len(transitions))
    if not isinstance(groups, pd.Series):
        raise ValueError(f"groups must be a pandas Series of user id -> label, got "
                         f"{checks.short_repr(groups)}")  # fmt: skip
    if groups.index.has_duplicates:
        twice = groups.index[groups.index.duplicated()][0]
        twice = twice.item() if isinstance(twice, np.generic) else twice
        raise ValueError(f"groups must give each user one label, got user {twice!r} twice")
    labels = groups.reindex(transitions.users).to_numpy()
    if pd.isna(labels).any():
        missing = transitions.users[pd.isna(labels)][0]
        raise ValueError(f"user {missing} of the transitions has no group label")
    return accuracy_table(lists, transitions, labels, "group")
