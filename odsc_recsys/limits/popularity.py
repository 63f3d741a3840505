"""Popularity bias: the most popular items (:func:`top_items`) and the share of recommendation
slots they get (:func:`popularity_bias`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import checks
from ..metrics import PAD
from .inputs import check_lists

__all__ = ["popularity_bias", "top_items"]


def top_items(popularity: np.ndarray, frac: float = 0.1) -> np.ndarray:
    """Boolean mask of the ``ceil(frac * n)`` most popular items (ties: lower index first)."""
    checks.fraction("frac", frac)
    pop = checks.finite_array("popularity", popularity, ndim=1)
    checks.nonempty("popularity", pop)
    n_top = int(np.ceil(frac * pop.size))
    mask = np.zeros(pop.size, dtype=bool)
    mask[np.argsort(-pop, kind="stable")[:n_top]] = True
    return mask


def popularity_bias(
    lists: Mapping[str, np.ndarray],
    popularity: np.ndarray,
    targets: np.ndarray | None = None,
    frac: float = 0.1,
) -> pd.DataFrame:
    """Share of recommendation slots that go to the top ``frac`` most popular items.

    A recommender with no popularity bias would give them about their share of what people
    actually watch next (the ``targets`` row, when given), not far above it.

    Returns
    -------
    DataFrame
        One row per model (plus ``"actual next movies"``), column ``"share to top items"``.
    """
    mask = top_items(popularity, frac)
    check_lists(lists, n_items=mask.size)
    if targets is not None:
        targets = checks.nonempty("targets", checks.indices("targets", targets, mask.size))
    rows = {}
    for name, recs in lists.items():
        items = np.asarray(recs)[np.asarray(recs) != PAD]
        rows[name] = float(mask[items].mean()) if items.size else np.nan
    if targets is not None:
        rows["actual next movies"] = float(mask[np.asarray(targets)].mean())
    out = pd.DataFrame({"share to top items": pd.Series(rows)})
    out.index.name = "model"
    out.attrs["catalogue share"] = float(mask.mean())
    return out
