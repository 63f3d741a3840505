"""The one recommender protocol that every model follows, classical and RL alike.

A *history* is a user's chronological sequence of catalogue indices (oldest first). Each model
uses what it needs from it: a Markov chain looks at the last movie, the Q-learning agents at the
last three, collaborative filtering at all of it. The evaluation code never special-cases a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Integral
from typing import Any

import numpy as np

from . import checks


def as_history(history: Iterable[int], n_items: int, name: str = "history") -> np.ndarray:
    """Validate a history and return it as an int64 array.

    Parameters
    ----------
    history : iterable of int
        Catalogue indices, oldest first.
    n_items : int
        Size of the catalogue; valid indices are ``0 .. n_items - 1``.
    name : str
        What the error message calls the sequence (``"exclude"`` for a list of movies to skip).

    Raises
    ------
    ValueError
        If ``history`` is not a 1-d sequence of integers (a string, a float such as ``1.0``, a
        bool or a nested list is not), or an index is outside ``[0, n_items)``: the message
        names it. A negative index is refused, never wrapped to the end of the catalogue.
    """
    if type(n_items) is not int or n_items < 0:  # a plain int, the usual case, is checked fast
        n_items = checks.count("n_items", n_items)
    allowed = f"{name} must be a 1-d sequence of integer item indices"
    if isinstance(history, str | bytes):  # list("12") would read as two one-letter items
        raise ValueError(f"{allowed}, got {history!r}")
    try:
        arr = np.asarray(history if isinstance(history, np.ndarray) else list(history))
    except (TypeError, ValueError):  # not iterable, or ragged
        raise ValueError(f"{allowed}, got {checks.short_repr(history)}") from None
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{allowed}, got {checks.short_repr(history)}")
    bad = arr[(arr < 0) | (arr >= n_items)]
    if bad.size:
        where = (
            f"catalogue indices run from 0 to {n_items - 1}"
            if n_items
            else "the catalogue is empty (n_items is 0)"
        )
        raise ValueError(f"unknown item index {int(bad[0])}: {where}")
    return arr.astype(np.int64, copy=False)


def _check_scores(scores: object, ndim: int) -> np.ndarray:
    """``scores`` as an array of ``ndim`` dimensions of numbers without NaN (``-inf`` is
    allowed: it marks an item that must not be listed)."""
    array = np.asarray(scores)
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise ValueError(f"scores must be numbers, got {checks.short_repr(scores)} (dtype {array.dtype})")
    if array.ndim != ndim:
        raise ValueError(f"scores must be a {ndim}-d array, got shape {array.shape}")
    nan = np.isnan(array)
    if nan.any():
        raise ValueError(f"scores must not be NaN, got {checks.first_bad(array, nan)}")
    return array


def top_k(scores: np.ndarray, k: int, exclude: Iterable[int] | None = None) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first, skipping ``exclude``.

    Ties are broken by the lower index, so the result is deterministic. When fewer than ``k``
    items remain after exclusion, all of them are returned. Equal to
    ``np.argsort(-scores, kind="stable")[:k]`` but O(n + k log k): a partition finds the k-th
    best value ``v``; the candidates are the indices scoring at least ``v``, in index order;
    when ties at ``v`` make them more than ``k``, those strictly better than ``v`` stay, then
    the lowest indices that tie with ``v``. Scores must not be NaN.
    """
    k = checks.count("k", k)
    scores = _check_scores(scores, 1)
    if exclude is not None:
        if isinstance(exclude, str | bytes) or not isinstance(exclude, Iterable):
            raise ValueError(f"exclude must be integers in [0, {len(scores) - 1}], "
                             f"got {exclude!r}")  # fmt: skip
        items = exclude if isinstance(exclude, np.ndarray) else list(exclude)  # a set too
        ex = checks.indices("exclude", items, len(scores))
        scores = scores.astype(np.float64)  # a copy, safe to mask
        if ex.size:
            scores[ex] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
    n = len(scores)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k >= n:
        return np.argsort(-scores, kind="stable").astype(np.int64)
    partitioned = scores.copy()
    partitioned.partition(n - k)
    v = partitioned[n - k]  # the k-th largest score
    candidates = (scores >= v).nonzero()[0]
    if len(candidates) > k:
        values = scores[candidates]
        better = candidates[values > v]
        ties = candidates[values == v][: k - len(better)]
        candidates = np.concatenate((better, ties))
    return candidates[(-scores[candidates]).argsort(kind="stable")].astype(np.int64)


#: Histories scored together by :meth:`Recommender.recommend_many`. It bounds the memory of the
#: score matrix; blocks of 512 were also faster than 2048 or one block for every model.
RECOMMEND_BLOCK = 512


class Recommender:
    """Base class of the protocol: ``fit``, ``score(history)``, ``recommend(history, k, exclude)``.

    Subclasses set ``n_items`` in ``fit`` and implement :meth:`score`; a model with a faster
    batched form also overrides :meth:`score_many`, and one that must be fitted before it can
    answer overrides :meth:`check_fitted`. ``name`` labels the model in evaluation tables.
    """

    name: str = "recommender"
    n_items: int = 0

    def fit(self, *args: Any, **kwargs: Any) -> Recommender:  # pragma: no cover - interface
        raise NotImplementedError

    def check_fitted(self) -> None:
        """Raise ``RuntimeError`` if the model cannot answer yet.

        Called before a history is validated: until ``fit``, ``n_items`` is not the
        catalogue's size, and every movie would look unknown. By default a model without a
        catalogue (``n_items`` still 0) is not fitted; subclasses check what ``fit`` sets.
        """
        if not self.n_items:
            raise RuntimeError(
                f"{type(self).__name__} is not fitted: call fit() first (it has no catalogue yet)"
            )

    def score(self, history: Iterable[int]) -> np.ndarray:  # pragma: no cover - interface
        """Return one score per catalogue item (higher is better) for this history."""
        raise NotImplementedError

    def score_many(self, histories: Sequence[Iterable[int]]) -> np.ndarray:
        """Scores for several histories, one float64 row each: row ``j`` equals
        ``score(histories[j])``. This stacks :meth:`score`; models that score a batch faster
        override it with the same rows."""
        rows = [np.asarray(self.score(h), dtype=np.float64) for h in histories]
        return np.stack(rows) if rows else np.zeros((0, self.n_items))

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
        self.check_fitted()
        k = checks.count("k", k)
        hist = as_history(history, self.n_items)
        if exclude is not None:
            exclude = as_history(exclude, self.n_items, "exclude")
        return top_k(self.score(hist), k, exclude)

    def recommend_many(self, histories: Sequence[Iterable[int]], k: int = 10) -> np.ndarray:
        """Lists for many histories at once, each excluding its own history's movies.

        Returns an ``(n, k)`` array padded with ``-1`` where fewer than ``k`` items are
        eligible; row ``j`` equals ``recommend(histories[j], k, exclude=histories[j])``. A model
        that ranks by its scores gets one :meth:`score_many` call and one row-wise top-k
        (:func:`top_k_many`) per block of :data:`RECOMMEND_BLOCK` histories; a model that
        overrides :meth:`recommend` is looped over, unless it also overrides this method with
        an equivalent faster one.
        """
        self.check_fitted()
        k = checks.count("k", k)
        hists = _histories(histories, self.n_items)
        out = np.full((len(hists), k), -1, dtype=np.int64)
        if type(self).recommend is not Recommender.recommend:
            for j, hist in enumerate(hists):
                rec = np.asarray(self.recommend(hist, k, exclude=hist))[:k]
                out[j, : len(rec)] = rec
            return out
        for start in range(0, len(hists), RECOMMEND_BLOCK):
            block = hists[start : start + RECOMMEND_BLOCK]
            out[start : start + len(block)] = top_k_many(self.score_many(block), k, block)
        return out


def _histories(histories: Sequence[Iterable[int]], n_items: int) -> list[np.ndarray]:
    """Validated histories of a batch; a single flat history is refused, not read as many."""
    if isinstance(histories, str | bytes) or not isinstance(histories, Iterable):
        raise ValueError(f"histories must be a sequence of histories, got {checks.short_repr(histories)}")
    hists = list(histories)
    if hists and all(isinstance(h, Integral | np.integer) for h in hists):
        raise ValueError(f"histories must be a sequence of histories (one list of movies per "
                         f"user), got a single history {checks.short_repr(histories)}")  # fmt: skip
    out = []
    for j, h in enumerate(hists):
        try:
            out.append(as_history(h, n_items))
        except ValueError as err:
            raise ValueError(f"histories[{j}]: {err}") from None
    return out


def _top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best indices of every row, best first, ties by lower index: row-wise
    ``argsort(-row, kind="stable")[:k]`` in O(m + k log k) per row, as :func:`top_k`.

    The ``k``-th best value ``v`` of each row comes from a partition; a row keeps every entry
    strictly better than ``v`` and its lowest-indexed ties with ``v``, exactly ``k`` in all;
    those are then sorted by value, stably, so ties stay in index order.
    """
    n_rows, m = scores.shape
    if k == 0 or n_rows == 0:
        return np.zeros((n_rows, k), dtype=np.int64)
    neg = -scores
    if k >= m:
        return np.argsort(neg, axis=1, kind="stable").astype(np.int64)
    kth = np.partition(neg, k - 1, axis=1)[:, k - 1 : k]
    better = neg < kth
    ties = neg == kth
    room = k - better.sum(axis=1, keepdims=True)
    take = better | (ties & (np.cumsum(ties, axis=1, dtype=np.int32) <= room))
    cols = np.nonzero(take)[1].reshape(n_rows, k)  # row-major: each row's picks, by index
    order = np.argsort(np.take_along_axis(neg, cols, axis=1), axis=1, kind="stable")
    return np.take_along_axis(cols, order, axis=1).astype(np.int64)


def top_k_many(
    scores: np.ndarray, k: int, exclude: Sequence[np.ndarray] | None = None
) -> np.ndarray:
    """Row-wise :func:`top_k`: an ``(n, k)`` array of indices, padded with ``-1``.

    Row ``j`` equals ``top_k(scores[j], k, exclude[j])``: best first, ties to the lower index,
    excluded items never listed.
    """
    k = checks.count("k", k)
    masked = np.array(_check_scores(scores, 2), dtype=np.float64)  # a copy
    n, m = masked.shape
    if exclude is not None:
        if len(exclude) != n:
            raise ValueError(f"exclude must hold one sequence per row of scores ({n}), "
                             f"got {len(exclude)}")  # fmt: skip
        lengths = np.fromiter((len(e) for e in exclude), dtype=np.int64, count=n)
        if lengths.sum():
            rows = np.repeat(np.arange(n), lengths)
            cols = np.concatenate([np.asarray(e) for e in exclude if len(e)])
            if not np.issubdtype(cols.dtype, np.integer):
                raise ValueError(f"exclude must hold integer item indices, got "
                                 f"{checks.short_repr(exclude)}")  # fmt: skip
            bad = (cols < 0) | (cols >= m)
            if bad.any():  # a negative index would mask the end of the row
                first = int(np.argmax(bad))
                raise ValueError(f"exclude[{int(rows[first])}] must be integers in [0, {m - 1}],"
                                 f" got {cols[first].item()!r}")  # fmt: skip
            masked[rows, cols.astype(np.int64)] = -np.inf
        n_valid = np.isfinite(masked).sum(axis=1)
    else:
        n_valid = np.full(n, m)
    kk = min(k, m)
    out = np.full((n, k), -1, dtype=np.int64)
    out[:, :kk] = _top_rows(masked, kk)
    out[np.arange(k)[None, :] >= np.minimum(n_valid, k)[:, None]] = -1
    return out
