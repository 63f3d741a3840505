"""The one recommender protocol that every model follows, classical and RL alike.

A *history* is a user's chronological sequence of catalogue indices (oldest first). Each model
uses what it needs from it: a Markov chain looks at the last movie, the Q-learning agents at the
last three, collaborative filtering at all of it. The evaluation code never special-cases a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


def as_history(history: Iterable[int], n_items: int) -> np.ndarray:
    """Validate a history and return it as an int64 array.

    Parameters
    ----------
    history : iterable of int
        Catalogue indices, oldest first.
    n_items : int
        Size of the catalogue; valid indices are ``0 .. n_items - 1``.

    Raises
    ------
    ValueError
        If an index is outside ``[0, n_items)`` (the message names it).
    """
    arr = np.asarray(list(history) if not isinstance(history, np.ndarray) else history)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"a history is a 1-d sequence of integer item indices, got {arr!r}")
    bad = arr[(arr < 0) | (arr >= n_items)]
    if bad.size:
        raise ValueError(
            f"unknown item index {int(bad[0])}: catalogue indices run from 0 to {n_items - 1}"
        )
    return arr.astype(np.int64, copy=False)


def top_k(scores: np.ndarray, k: int, exclude: Iterable[int] | None = None) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first, skipping ``exclude``.

    Ties are broken by the lower index, so the result is deterministic. When fewer than ``k``
    items remain after exclusion, all of them are returned.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    scores = np.asarray(scores, dtype=np.float64).copy()
    if exclude is not None:
        ex = np.asarray(list(exclude) if not isinstance(exclude, np.ndarray) else exclude)
        if ex.size:
            scores[ex.astype(np.int64)] = -np.inf
    n_valid = int(np.isfinite(scores).sum()) if exclude is not None else scores.size
    k = min(k, n_valid)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    # A stable sort on the negated scores keeps ties in index order.
    order = np.argsort(-scores, kind="stable")
    return order[:k].astype(np.int64)


class Recommender:
    """Base class of the protocol: ``fit``, ``score(history)``, ``recommend(history, k, exclude)``.

    Subclasses set ``n_items`` in ``fit`` and implement :meth:`score`. ``name`` labels the model
    in evaluation tables.
    """

    name: str = "recommender"
    n_items: int = 0

    def fit(self, *args: Any, **kwargs: Any) -> Recommender:  # pragma: no cover - interface
        raise NotImplementedError

    def score(self, history: Iterable[int]) -> np.ndarray:  # pragma: no cover - interface
        """Return one score per catalogue item (higher is better) for this history."""
        raise NotImplementedError

    def recommend(
        self, history: Iterable[int], k: int = 10, exclude: Iterable[int] | None = None
    ) -> np.ndarray:
        """Return up to ``k`` catalogue indices, best first.

        Parameters
        ----------
        history : iterable of int
            The user's chronological catalogue indices.
        k : int
            List length. Larger than the catalogue is allowed: every eligible item is returned.
        exclude : iterable of int, optional
            Items never to recommend (typically everything in ``history``).
        """
        hist = as_history(history, self.n_items)
        if exclude is not None:
            exclude = as_history(exclude, self.n_items)
        return top_k(self.score(hist), k, exclude)

    def recommend_many(self, histories: Sequence[Iterable[int]], k: int = 10) -> np.ndarray:
        """Lists for many histories at once, each excluding its own history's movies.

        Returns an ``(n, k)`` array padded with ``-1`` where fewer than ``k`` items are
        eligible; row ``j`` equals ``recommend(histories[j], k, exclude=histories[j])``. A model
        that only defines :meth:`score` gets a batched top-k here (one sort for a block of
        histories instead of one call each); a model that overrides :meth:`recommend` is looped
        over, unless it also overrides this method with an equivalent faster one.
        """
        hists = [as_history(h, self.n_items) for h in histories]
        out = np.full((len(hists), k), -1, dtype=np.int64)
        if type(self).recommend is not Recommender.recommend:
            for j, hist in enumerate(hists):
                rec = np.asarray(self.recommend(hist, k, exclude=hist))[:k]
                out[j, : len(rec)] = rec
            return out
        block = 2048  # bounds the memory of the score matrix
        for start in range(0, len(hists), block):
            part = hists[start : start + block]
            scores = np.stack([np.asarray(self.score(h), dtype=np.float64) for h in part])
            out[start : start + len(part)] = top_k_many(scores, k, part)
        return out


def top_k_many(
    scores: np.ndarray, k: int, exclude: Sequence[np.ndarray] | None = None
) -> np.ndarray:
    """Row-wise :func:`top_k`: an ``(n, k)`` array of indices, padded with ``-1``.

    Row ``j`` equals ``top_k(scores[j], k, exclude[j])``: best first, ties to the lower index,
    excluded items never listed.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    masked = np.array(scores, dtype=np.float64)  # a copy
    n, m = masked.shape
    if exclude is not None:
        lengths = np.fromiter((len(e) for e in exclude), dtype=np.int64, count=n)
        if lengths.sum():
            rows = np.repeat(np.arange(n), lengths)
            cols = np.concatenate([np.asarray(e, dtype=np.int64) for e in exclude])
            masked[rows, cols] = -np.inf
        n_valid = np.isfinite(masked).sum(axis=1)
    else:
        n_valid = np.full(n, m)
    kk = min(k, m)
    order = np.argsort(-masked, axis=1, kind="stable")[:, :kk]
    out = np.full((n, k), -1, dtype=np.int64)
    out[:, :kk] = order
    out[np.arange(k)[None, :] >= np.minimum(n_valid, k)[:, None]] = -1
    return out
