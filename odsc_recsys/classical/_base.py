"""Shared plumbing of the classical models: input validation, recency weights, the fallback.

Every model subclasses :class:`_Fitted`, which validates histories, stores the training
popularity (the fallback for an empty history) and provides the batched ``score_many`` and
``recommend_many`` that the evaluation uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from odsc_recsys.protocol import Recommender, as_history, top_k_many

Histories = Mapping[int, Sequence[int]] | Sequence[Sequence[int]]


def _history_list(histories: Histories, n_items: int) -> list[np.ndarray]:
    """Validated histories as a list; a dict is read in sorted user order (deterministic)."""
    if isinstance(n_items, bool) or not isinstance(n_items, int | np.integer) or n_items < 1:
        raise ValueError(f"n_items must be a positive integer, got {n_items!r}")
    if isinstance(histories, Mapping):
        items = [histories[u] for u in sorted(histories)]
    else:
        items = list(histories)
    return [as_history(h, int(n_items)) for h in items]


def _binary_matrix(hists: list[np.ndarray], n_items: int) -> sp.csr_matrix:
    """Binary users x items matrix (rows in the order of ``hists``) of who watched what."""
    rows = np.repeat(np.arange(len(hists)), [h.size for h in hists])
    cols = np.concatenate(hists) if hists else np.zeros(0, dtype=np.int64)
    x = sp.csr_matrix(
        (np.ones(cols.size), (rows, cols)), shape=(len(hists), int(n_items)), dtype=np.float64
    )
    x.data[:] = 1.0  # a repeated watch still counts once
    return x


def _recency_weights(n: int, decay: float) -> np.ndarray:
    """Weights ``decay ** (steps before the most recent item)``, oldest first."""
    return decay ** np.arange(n - 1, -1, -1, dtype=np.float64)


def _recency_entries(
    history: np.ndarray, decay: float, n_last: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct items of a history (sorted) and their summed recency weights."""
    h = history if n_last is None else history[-n_last:]
    cols, where = np.unique(h, return_inverse=True)
    vals = np.bincount(where, weights=_recency_weights(h.size, decay), minlength=cols.size)
    return cols, vals


def _recency_matrix(
    hists: Sequence[np.ndarray], n_items: int, decay: float, n_last: int | None = None
) -> sp.csr_matrix:
    """One row per history: recency weights at its items (a repeated item adds up).

    Multiplying this sparse matrix by an item x item matrix scores a whole batch at once. The
    product is computed row by row, each row's terms added one after the other in column
    order, exactly as :func:`_combine_rows` does for a single history, so a batch and a single
    call give bit-identical scores.
    """
    entries = [_recency_entries(h, decay, n_last) for h in hists]
    indptr = np.zeros(len(entries) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([cols.size for cols, _ in entries])
    if entries:
        indices = np.concatenate([cols for cols, _ in entries])
        data = np.concatenate([vals for _, vals in entries])
    else:
        indices, data = np.zeros(0, dtype=np.int64), np.zeros(0)
    return sp.csr_matrix((data, indices, indptr), shape=(len(hists), int(n_items)))


def _combine_rows(matrix: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
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


def _check_unit(name: str, value: float, *, allow_zero: bool = False) -> float:
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 1):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return float(value)


def _check_positive_int(name: str, value: int | None, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        allowed = "a positive integer or None" if allow_none else "a positive integer"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def _check_nonneg(name: str, value: float) -> float:
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return float(value)


#: Histories scored together by ``recommend_many`` (bounds the memory of the score matrix).
_BATCH = 512


class _Fitted(Recommender):
    """Common plumbing: validation, the popularity fallback, the fitted check."""

    popularity_: np.ndarray | None = None

    def _fit_common(self, histories: Histories, n_items: int) -> list[np.ndarray]:
        hists = _history_list(histories, n_items)
        self.n_items = int(n_items)
        counts = np.zeros(self.n_items, dtype=np.float64)
        for h in hists:
            counts[np.unique(h)] += 1.0
        self.popularity_ = counts
        return hists

    def score(self, history: Iterable[int]) -> np.ndarray:
        """One score per catalogue item for this history (higher is better).

        An empty history falls back to training popularity.
        """
        if self.popularity_ is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() first")
        hist = as_history(history, self.n_items)
        if hist.size == 0:
            return self.popularity_.copy()
        return self._score(hist)

    def _score(self, history: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def score_many(self, histories: Sequence[Iterable[int]]) -> np.ndarray:
        """Scores for several histories, one row each; row ``j`` equals ``score(histories[j])``."""
        if self.popularity_ is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() first")
        hists = [as_history(h, self.n_items) for h in histories]
        out = np.empty((len(hists), self.n_items))
        full = [j for j, h in enumerate(hists) if h.size]
        out[[j for j, h in enumerate(hists) if not h.size]] = self.popularity_
        if full:
            out[full] = self._score_many([hists[j] for j in full])
        return out

    def _score_many(self, histories: list[np.ndarray]) -> np.ndarray:
        """Non-empty validated histories -> scores; models with a batched form override this."""
        return np.stack([self._score(h) for h in histories])

    def recommend_many(self, histories: Sequence[Iterable[int]], k: int = 10) -> np.ndarray:
        """``recommend(h, k, exclude=h)`` for every history, scored in batches.

        Returns an ``(n, k)`` array padded with ``-1`` where fewer than ``k`` items are
        eligible. The lists are exactly those of :meth:`recommend`: :meth:`score_many` rows are
        bit-identical to :meth:`score`, and :func:`odsc_recsys.protocol.top_k_many` is the
        row-wise :func:`~odsc_recsys.protocol.top_k`.
        """
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        hists = [as_history(h, self.n_items) for h in histories]
        out = np.full((len(hists), k), -1, dtype=np.int64)
        for start in range(0, len(hists), _BATCH):
            chunk = hists[start : start + _BATCH]
            out[start : start + len(chunk)] = top_k_many(self.score_many(chunk), k, chunk)
        return out

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({params})"

    def _params(self) -> dict[str, Any]:
        return {}
