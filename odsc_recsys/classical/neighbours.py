"""Neighbourhood collaborative filtering: user-kNN and item-kNN with shrunk cosine similarity."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from odsc_recsys import checks
from odsc_recsys.classical import recency
from odsc_recsys.classical.base import ClassicalRecommender, Histories
from odsc_recsys.protocol import as_history
from odsc_recsys.sessions import interaction_matrix


def _shrunk_cosine(overlap: np.ndarray, norm_a: np.ndarray, norm_b: np.ndarray, shrink: float):
    """Cosine similarity of binary vectors, damped when the overlap is small.

    .. math:: s = \\frac{|A \\cap B|}{\\sqrt{|A|\\,|B|}} \\cdot \\frac{|A \\cap B|}{|A \\cap B| + \\lambda}

    The second factor (shrinkage, :math:`\\lambda` = ``shrink``) stops two vectors that share a
    single item from looking as similar as two that share fifty.
    """
    denom = np.outer(norm_a, norm_b) if np.ndim(norm_a) and np.ndim(norm_b) else norm_a * norm_b
    cos = np.divide(overlap, denom, out=np.zeros_like(overlap, dtype=np.float64), where=denom > 0)
    if shrink > 0:
        cos *= overlap / (overlap + shrink)
    return cos


def _check_neighbourhood(
    n_neighbours: int | None, shrink: float, recency_decay: float, *, allow_all: bool
) -> None:
    """Check the three settings every neighbourhood model shares.

    Raises
    ------
    ValueError
        Naming the first of ``n_neighbours`` (a positive integer; also None with
        ``allow_all``), ``shrink`` (finite, >= 0) or ``recency_decay`` (in (0, 1]) that is out
        of range.
    """
    checks.positive_int("n_neighbours", n_neighbours, allow_none=allow_all)
    checks.real("shrink", shrink, 0.0)
    checks.real("recency_decay", recency_decay, 0.0, 1.0, low_open=True)


@dataclass(repr=False, eq=False)
class UserKNN(ClassicalRecommender):
    """User-based collaborative filtering: "people like you also watched".

    The asking user's history is folded in as a vector ``q`` (1 per watched item, or recency
    weights); its shrunk cosine similarity (:func:`_shrunk_cosine`) to every training user is
    computed, the ``n_neighbours`` most similar users are kept, and an item's score is the
    similarity-weighted count of those neighbours who watched it:

    .. math:: \\hat r_{u i} = \\sum_{v \\in N_k(u)} s_{u v}\\, x_{v i}

    A training user asking about themself finds themself as the closest neighbour; that is
    harmless here because everything they watched is in their history and is excluded.

    Parameters
    ----------
    n_neighbours : int
        Neighbourhood size ``k``.
    shrink : float
        Shrinkage ``lambda`` (>= 0) applied to the similarity.
    recency_decay : float in (0, 1]
        Weight ``recency_decay ** t`` of the item ``t`` steps before the most recent one in
        ``q``; 1.0 is the classical order-free user-kNN.
    """

    name = "User-kNN"

    n_neighbours: int = 20
    shrink: float = 0.0
    recency_decay: float = 0.85

    def check_params(self) -> None:
        """``n_neighbours`` is a positive integer, ``shrink`` >= 0, ``recency_decay`` in (0, 1]."""
        _check_neighbourhood(self.n_neighbours, self.shrink, self.recency_decay, allow_all=False)

    def fit(self, histories: Histories, n_items: int, catalog: Any = None) -> UserKNN:
        """Store the binary user x item matrix of the training histories."""
        hists = self._fit_common(histories, n_items)
        self.matrix_ = interaction_matrix(hists, self.n_items, dtype=np.float64)
        # Sparse for the similarity products, dense rows for gathering the neighbours fast.
        self._dense = self.matrix_.toarray()
        self.user_norms_ = np.sqrt(self._dense.sum(axis=1))
        return self

    def similarities(self, history: Iterable[int]) -> np.ndarray:
        """Shrunk cosine similarity of this history to every training user (in fit order)."""
        self.check_fitted()
        return self._similarities(as_history(history, self.n_items))

    def _similarities(self, hist: np.ndarray) -> np.ndarray:
        """:meth:`similarities` of a validated history."""
        q = recency.latest_weights_unchecked(hist, self.n_items, self.recency_decay)
        present = (q > 0).astype(np.float64)
        dot = self.matrix_ @ q
        sims = _shrunk_cosine(dot, self.user_norms_, np.linalg.norm(q), 0.0)
        if self.shrink > 0:
            overlap = self.matrix_ @ present
            sims *= overlap / (overlap + self.shrink)
        return sims

    def _score(self, history: np.ndarray) -> np.ndarray:
        sims = self._similarities(history)
        k = min(self.n_neighbours, sims.size)
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[sims[top] > 0]
        return sims[top] @ self._dense[top]


@dataclass(repr=False, eq=False)
class ItemKNN(ClassicalRecommender):
    """Item-based collaborative filtering: "people who watched X also watched Y".

    Item-item shrunk cosine similarities are computed once from the columns of the user x item
    matrix. Each item keeps only its ``n_neighbours`` most similar items. A history scores item
    ``j`` by summing, over the items ``i`` it contains, the similarity ``s_ij`` (recency-weighted):

    .. math:: \\hat r_{u j} = \\sum_{i \\in H_u} w_i\\, s_{i j}

    Parameters
    ----------
    n_neighbours : int or None
        Neighbours kept per item (None keeps all).
    shrink : float
        Shrinkage ``lambda`` (>= 0).
    recency_decay : float in (0, 1]
        Weight ``recency_decay ** t`` for the item ``t`` steps before the most recent one.
    """

    name = "Item-kNN"

    n_neighbours: int | None = None
    shrink: float = 0.0
    recency_decay: float = 0.5

    def check_params(self) -> None:
        """``n_neighbours`` is a positive integer or None, ``shrink`` >= 0, ``recency_decay``
        in (0, 1]."""
        _check_neighbourhood(self.n_neighbours, self.shrink, self.recency_decay, allow_all=True)

    def fit(self, histories: Histories, n_items: int, catalog: Any = None) -> ItemKNN:
        """Compute the pruned item-item similarity matrix ``similarity_`` (n_items x n_items)."""
        hists = self._fit_common(histories, n_items)
        x = interaction_matrix(hists, self.n_items, dtype=np.float64)
        self.similarity_ = item_similarity(x, self.shrink, self.n_neighbours)
        return self

    def _score(self, history: np.ndarray) -> np.ndarray:
        return recency.score(self.similarity_, history, self.recency_decay)

    def _score_many(self, histories: list[np.ndarray]) -> np.ndarray:
        return recency.score_batch(self.similarity_, histories, self.recency_decay)


def item_similarity(
    matrix: sp.spmatrix, shrink: float = 0.0, n_neighbours: int | None = None
) -> np.ndarray:
    """Dense item-item shrunk cosine similarity from a binary user x item matrix.

    The cost is one sparse product ``X^T X``: it grows with the number of co-watched pairs, and
    the result holds ``n_items ** 2`` numbers, which is what limits neighbourhood methods at
    scale (notebook 02 measures it).

    Parameters
    ----------
    matrix : sparse (n_users, n_items)
        Binary interactions.
    shrink : float
        Shrinkage ``lambda`` (>= 0).
    n_neighbours : int or None
        If given, each row keeps only its ``n_neighbours`` largest entries (ties by lower index).

    Returns
    -------
    (n_items, n_items) float array with a zero diagonal.

    Raises
    ------
    ValueError
        If ``matrix`` is not a 2-d matrix of finite numbers, ``shrink`` is not a finite number
        >= 0 or ``n_neighbours`` is not a positive integer or None.
    """
    checks.real("shrink", shrink, 0.0)
    checks.positive_int("n_neighbours", n_neighbours, allow_none=True)
    if not sp.issparse(matrix):
        dense = np.asarray(matrix)
        matrix = checks.finite_array(
            "matrix", dense.astype(np.float64) if dense.dtype == bool else dense, ndim=2
        )
    x = sp.csc_matrix(matrix, dtype=np.float64)
    bad = ~np.isfinite(x.data)
    if bad.any():
        raise ValueError(f"matrix must be finite numbers, got {x.data[bad][0].item()!r}")
    co = (x.T @ x).toarray()
    norms = np.sqrt(np.diag(co))
    sim = _shrunk_cosine(co, norms, norms, shrink)
    np.fill_diagonal(sim, 0.0)
    if n_neighbours is not None and n_neighbours < sim.shape[1]:
        # A stable sort keeps ties in index order, so pruning is deterministic.
        order = np.argsort(-sim, axis=1, kind="stable")[:, n_neighbours:]
        np.put_along_axis(sim, order, 0.0, axis=1)
    return sim
