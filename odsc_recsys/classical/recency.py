"""Recency weighting, shared by the classical models that read a history in order.

The item ``t`` steps before the most recent one weighs ``decay ** t``. A model that scores a
history as the recency-weighted sum of rows of an item x item matrix uses :func:`score` for one
history and :func:`score_batch` for many: the first combines the rows of :func:`entries` with
:func:`combine_rows`, the second multiplies :func:`matrix` by the item matrix; both add the same
terms in the same order, so they give bit-identical scores. :func:`latest_weights` gives one
weight per catalogue item instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

__all__ = [
    "combine_rows",
    "entries",
    "latest_weights",
    "matrix",
    "score",
    "score_batch",
    "weights",
]


def weights(n: int, decay: float) -> np.ndarray:
    """Weights ``decay ** (steps before the most recent item)``, oldest first."""
    return decay ** np.arange(n - 1, -1, -1, dtype=np.float64)


def latest_weights(history: np.ndarray, n_items: int, decay: float) -> np.ndarray:
    """One weight per catalogue item: ``decay ** t`` for an item last seen ``t`` steps before
    the most recent one, 0 for an item not in the history."""
    out = np.zeros(n_items)
    # Assigning oldest first lets a re-watched item keep its most recent weight.
    out[history] = weights(history.size, decay)
    return out


def entries(
    history: np.ndarray, decay: float, n_last: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct items of a history (sorted) and their summed recency weights.

    With ``n_last``, only the ``n_last`` most recent items count.
    """
    h = history if n_last is None else history[-n_last:]
    cols, where = np.unique(h, return_inverse=True)
    vals = np.bincount(where, weights=weights(h.size, decay), minlength=cols.size)
    return cols, vals


def matrix(
    hists: Sequence[np.ndarray], n_items: int, decay: float, n_last: int | None = None
) -> sp.csr_matrix:
    """One row per history: recency weights at its items (a repeated item adds up).

    Multiplying this sparse matrix by an item x item matrix scores a whole batch at once. The
    product is computed row by row, each row's terms added one after the other in column
    order, exactly as :func:`combine_rows` does for a single history, so a batch and a single
    call give bit-identical scores.
    """
    rows = [entries(h, decay, n_last) for h in hists]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([cols.size for cols, _ in rows])
    if rows:
        indices = np.concatenate([cols for cols, _ in rows])
        data = np.concatenate([vals for _, vals in rows])
    else:
        indices, data = np.zeros(0, dtype=np.int64), np.zeros(0)
    return sp.csr_matrix((data, indices, indptr), shape=(len(hists), int(n_items)))


def combine_rows(matrix: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """``sum_j vals[j] * matrix[cols[j]]``, added strictly in order.

    scipy's CSR product adds a row's terms one after the other, in column order; doing the
    same here (a plain loop for a few terms, the one-row CSR product for many) makes the
    single-history path of a model match its batched path bit for bit.
    """
    if cols.size > 32:
        row = sp.csr_matrix((vals, cols, np.array([0, cols.size])), shape=(1, matrix.shape[0]))
        return np.asarray(row @ matrix)[0]
    out = vals[0] * matrix[cols[0]]
    for j in range(1, cols.size):
        out += vals[j] * matrix[cols[j]]
    return out


def score(
    item_matrix: np.ndarray, history: np.ndarray, decay: float, n_last: int | None = None
) -> np.ndarray:
    """``sum_i w_i * item_matrix[i]`` over the (last ``n_last``) items ``i`` of a non-empty
    history, ``w_i`` their summed recency weights (:func:`entries`)."""
    return combine_rows(item_matrix, *entries(history, decay, n_last))


def score_batch(
    item_matrix: np.ndarray,
    hists: Sequence[np.ndarray],
    decay: float,
    n_last: int | None = None,
) -> np.ndarray:
    """:func:`score` of every history, one row each, by one sparse product (bit-identical)."""
    weighted = matrix(hists, item_matrix.shape[0], decay, n_last)
    return np.asarray(weighted @ item_matrix)
