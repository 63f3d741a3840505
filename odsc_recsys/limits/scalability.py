"""Scalability: the cost of the item-item similarity as the catalogue grows
(:func:`time_item_similarity`, on :func:`random_interactions`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import checks
from ..classical import item_similarity
from .inputs import check_positions

__all__ = ["random_interactions", "time_item_similarity"]


def random_interactions(
    n_users: int, n_items: int, per_user: int, rng: np.random.Generator
) -> sp.csr_matrix:
    """A random binary user x item matrix with ``per_user`` items per user, Zipf-like popularity.

    Raises
    ------
    ValueError
        If a size is not a positive integer, or ``per_user`` exceeds ``n_items`` (a user cannot
        watch more distinct movies than there are).
    """
    n_users = checks.positive_int("n_users", n_users)
    n_items = checks.positive_int("n_items", n_items)
    per_user = checks.integer("per_user", per_user, 1, n_items)
    checks.generator("rng", rng)
    weights = 1.0 / np.arange(1, n_items + 1)
    weights /= weights.sum()
    rows, cols = [], []
    for u in range(n_users):
        items = rng.choice(n_items, size=min(per_user, n_items), replace=False, p=weights)
        rows.append(np.full(items.size, u))
        cols.append(items)
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n_users, n_items))


def time_item_similarity(
    n_items_list: Sequence[int],
    rng: np.random.Generator,
    n_users: int = 1000,
    density: float = 0.05,
    repeats: int = 3,
) -> pd.DataFrame:
    """Wall time of the full item-item cosine similarity as the catalogue grows.

    Uses :func:`odsc_recsys.classical.item_similarity` (the same code Item-kNN fits with) on
    random matrices of ``n_users`` users who each watched a ``density`` share of the catalogue;
    reports the best of ``repeats`` runs and the memory the dense result takes (float64).
    Timings vary from run to run and machine to machine; the *shape* of the curve is the lesson.
    """
    checks.fraction("density", density)
    n_items_list = check_positions("n_items_list", n_items_list)
    if 0 in n_items_list:
        raise ValueError(f"n_items_list must hold positive catalogue sizes, got {n_items_list}")
    checks.generator("rng", rng)
    n_users = checks.positive_int("n_users", n_users)
    repeats = checks.positive_int("repeats", repeats)
    rows = []
    for n in n_items_list:
        x = random_interactions(n_users, int(n), max(1, round(density * n)), rng)
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            item_similarity(x)
            best = min(best, time.perf_counter() - t0)
        rows.append({"items": int(n), "seconds": best, "similarity MB": n * n * 8 / 1e6})
    return pd.DataFrame(rows).set_index("items")
