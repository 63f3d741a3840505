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

from odsc_recsys import checks

__all__ = [
    "combine_rows",
    "entries",
    "latest_weights",
    "latest_weights_unchecked",
    "matrix",
    "score",
    "score_batch",
    "weights",
]


def _decay(decay: object) -> float:
    return checks.real("decay", decay, 0.0, 1.0, low_open=True)


def _history(history: object, n_items: int | None = None, name: str = "history") -> np.ndarray:
    """A history as a 1-d integer array of indices >= 0 (and < ``n_items`` when given): a
    negative index would read a weight or a matrix row from the end."""
    array = np.asarray(history)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)) \
            or array.dtype == bool:  # fmt: skip
        raise ValueError(f"{name} must be a 1-d array of integer item indices, got "
                         f"{checks.short_repr(history)}")  # fmt: skip
    if array.size and (array.min() < 0 or (n_items is not None and array.max() >= n_items)):
        top = "" if n_items is None else f", < {n_items}"
        bad = array.min() if array.min() < 0 else array.max()
        raise ValueError(f"{name} must be item indices >= 0{top}, got {int(bad)}")
    return array.astype(np.int64, copy=False) if array.size else np.zeros(0, dtype=np.int64)


def weights(n: int, decay: float) -> np.ndarray:
    """Weights ``decay ** (steps before the most recent item)``, oldest first."""
    return _weights(checks.count("n", n), _decay(decay))


def _weights(n: int, decay: float) -> np.ndarray:
    return decay ** np.arange(n - 1, -1, -1, dtype=np.float64)


def latest_weights(history: np.ndarray, n_items: int, decay: float) -> np.ndarray:
    """One weight per catalogue item: ``decay ** t`` for an item last seen ``t`` steps before
    the most recent one, 0 for an item not in the history."""
    n_items = checks.count("n_items", n_items)
    return latest_weights_unchecked(_history(history, n_items), n_items, _decay(decay))


def latest_weights_unchecked(history: np.ndarray, n_items: int, decay: float) -> np.ndarray:
    """:func:`latest_weights` of arguments already checked (a model's own history)."""
    out = np.zeros(n_items)
    # Assigning oldest first lets a re-watched item keep its most recent weight.
    out[history] = _weights(history.size, decay)
    return out


def entries(
    history: np.ndarray, decay: float, n_last: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct items of a history (sorted) and their summed recency weights.

    With ``n_last``, only the ``n_last`` most recent items count.
    """
    n_last = checks.positive_int("n_last", n_last, allow_none=True)  # [-0:] would be everything
    return _entries(_history(history), _decay(decay), n_last)


def _entries(
    history: np.ndarray, decay: float, n_last: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`entries` of arguments already checked (the hot path of a batch)."""
    h = history if n_last is None else history[-n_last:]
    cols, where = np.unique(h, return_inverse=True)
    vals = np.bincount(where, weights=_weights(h.size, decay), minlength=cols.size)
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
    n_items = checks.count("n_items", n_items)
    decay = _decay(decay)
    n_last = checks.positive_int("n_last", n_last, allow_none=True)
    arrays = [np.asarray(h) for h in hists]
    arrays = [h if h.size else np.zeros(0, dtype=np.int64) for h in arrays]  # [] is float64
    for h in arrays:
        if h.ndim != 1:
            raise ValueError(f"history must be a 1-d array of integer item indices, got "
                             f"{checks.short_repr(h)}")  # fmt: skip
    rows = [_entries(h, decay, n_last) for h in arrays]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([cols.size for cols, _ in rows])
    if rows:
        indices = np.concatenate([cols for cols, _ in rows])
        data = np.concatenate([vals for _, vals in rows])
        # the indices of all histories at once, checked once
        _history(indices, n_items)
    else:
        indices, data = np.zeros(0, dtype=np.int64), np.zeros(0)
    return sp.csr_matrix((data, indices, indptr), shape=(len(hists), int(n_items)))


def combine_rows(matrix: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """``sum_j vals[j] * matrix[cols[j]]``, added strictly in order.

    scipy's CSR product adds a row's terms one after the other, in column order; doing the
    same here (a plain loop for a few terms, the one-row CSR product for many) makes the
    single-history path of a model match its batched path bit for bit.
    """
    cols, vals = _history(cols, np.shape(matrix)[0], "cols"), np.asarray(vals)
    if cols.size == 0 or vals.shape != cols.shape:
        raise ValueError(f"cols and vals must be two non-empty sequences of one length, got "
                         f"{cols.size} cols and {vals.size} vals")  # fmt: skip
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
    if np.size(history) == 0:  # nothing to sum: the models fall back to popularity instead
        raise ValueError(f"history must not be empty, got {history!r}")
    return combine_rows(item_matrix, *entries(history, decay, n_last))


def score_batch(
    item_matrix: np.ndarray,
    hists: Sequence[np.ndarray],
    decay: float,
    n_last: int | None = None,
) -> np.ndarray:
    """:func:`score` of every history, one row each, by one sparse product (bit-identical)."""
    if np.ndim(item_matrix) != 2:
        raise ValueError(f"item_matrix must be 2-d (items x columns), got shape "
                         f"{np.shape(item_matrix)}")  # fmt: skip
    weighted = matrix(hists, item_matrix.shape[0], decay, n_last)
    return np.asarray(weighted @ item_matrix)
