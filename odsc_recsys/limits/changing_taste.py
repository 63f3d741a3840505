"""Changing taste: the genre mix of early against late watches, pooled (:func:`genre_mix`)
and per user against chance (:func:`taste_drift`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import checks
from ..catalog import Catalog
from .inputs import History, check_catalog, check_histories

__all__ = ["genre_mix", "taste_drift"]


def _genre_shares(items: np.ndarray, genre_matrix: np.ndarray) -> np.ndarray:
    """Genre distribution of a set of watches; a movie's weight is split over its genres."""
    g = np.asarray(genre_matrix, dtype=np.float64)[items]
    g = g / np.maximum(g.sum(axis=1, keepdims=True), 1.0)
    total = g.sum()
    return g.sum(axis=0) / total if total > 0 else np.zeros(g.shape[1])


def genre_mix(
    histories: History, catalog: Catalog, frac: float = 0.5, min_len: int = 20
) -> pd.DataFrame:
    """Genre shares of users' early against late watches.

    Each history of at least ``min_len`` movies is cut at ``frac`` of its length; the early and
    late parts of all users are pooled. A movie's weight is split evenly over its genres.
    """
    checks.fraction("frac", frac)
    min_len = checks.positive_int("min_len", min_len)
    check_histories("histories", histories, check_catalog(catalog).n_items)
    early, late = [], []
    for u in sorted(histories):
        h = histories[u]
        if len(h) >= min_len:
            cut = int(round(frac * len(h)))
            early.append(h[:cut])
            late.append(h[cut:])
    if not early:
        raise ValueError(f"no history has at least min_len={min_len} movies")
    out = pd.DataFrame(
        {
            "early": _genre_shares(np.concatenate(early), catalog.genre_matrix),
            "late": _genre_shares(np.concatenate(late), catalog.genre_matrix),
        },
        index=pd.Index(catalog.genre_names, name="genre"),
    )
    out["change"] = out["late"] - out["early"]
    out.attrs["n_users"] = len(early)
    return out


def taste_drift(
    histories: History,
    catalog: Catalog,
    rng: np.random.Generator,
    frac: float = 0.5,
    min_len: int = 20,
) -> pd.DataFrame:
    """Per user: how different the genre mix of the early and late parts of the history is.

    ``drift`` is the total-variation distance (half the L1 distance, in [0, 1]) between the genre
    distributions of the first ``frac`` and the rest of the history. ``shuffled`` is the same
    distance after a random reordering of that user's history: what chance alone gives with
    parts of the same sizes. Drift above the shuffled value is taste that moved.
    """
    checks.fraction("frac", frac)
    min_len = checks.positive_int("min_len", min_len)
    # all before the first draw
    check_histories("histories", histories, check_catalog(catalog).n_items)
    checks.generator("rng", rng)
    g = catalog.genre_matrix
    rows = []
    for u in sorted(histories):
        h = np.asarray(histories[u])
        if len(h) < min_len:
            continue
        cut = int(round(frac * len(h)))
        s = rng.permutation(h)
        rows.append(
            {
                "user_id": int(u),
                "movies": len(h),
                "drift": 0.5 * np.abs(_genre_shares(h[:cut], g) - _genre_shares(h[cut:], g)).sum(),
                "shuffled": 0.5
                * np.abs(_genre_shares(s[:cut], g) - _genre_shares(s[cut:], g)).sum(),
            }
        )
    if not rows:
        raise ValueError(f"no history has at least min_len={min_len} movies")
    return pd.DataFrame(rows).set_index("user_id")
