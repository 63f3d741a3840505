"""Matrix factorisation for implicit feedback by alternating least squares (ALS)."""

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


def check_rng(rng: object) -> np.random.Generator | int:
    """Return ``rng`` if it is a ``numpy.random.Generator`` or a seed (an integer >= 0).

    Raises
    ------
    ValueError
        Naming the value, for anything else (a float, a string, a negative seed).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    try:
        return checks.count("rng", rng)
    except ValueError:
        raise ValueError(f"rng must be a numpy.random.Generator or a seed (an integer >= 0), "
                         f"got {rng!r}") from None  # fmt: skip


@dataclass(repr=False, eq=False)
class MatrixFactorization(ClassicalRecommender):
    """Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren, Volinsky 2008).

    Each user ``u`` and item ``i`` get ``n_factors``-dimensional vectors ``x_u`` and ``y_i``.
    With ``p_ui = 1`` if ``u`` watched ``i`` (else 0) and confidence ``c_ui = 1 + confidence *
    p_ui``, ALS minimises

    .. math:: \\sum_{u,i} c_{ui} (p_{ui} - x_u^\\top y_i)^2
              + \\lambda \\Big(\\sum_u \\lVert x_u\\rVert^2 + \\sum_i \\lVert y_i\\rVert^2\\Big)

    by solving for all users with the items fixed, then for all items with the users fixed. Each
    half-step is an exact ridge regression with a closed form:

    .. math:: x_u = (Y^\\top Y + Y^\\top (C_u - I) Y + \\lambda I)^{-1} Y^\\top C_u p_u

    where :math:`Y^\\top Y` is shared by all users, so one solve costs only the user's own items.

    Why ALS rather than BPR: ALS is deterministic given the start, has no learning rate or
    negative sampling to tune, and converges in about ten sweeps; above all, *folding in* a new
    history (``score``) is the very same closed-form solve used in training, so a user unseen at
    fit time is scored exactly like a training user. BPR needs stochastic gradient steps with a
    sampled negative per positive, and its fold-in would need more of them at query time.

    Parameters
    ----------
    n_factors : int
        Latent dimension.
    reg : float
        L2 regularisation ``lambda`` (> 0).
    confidence : float
        Extra confidence given to an observed watch (the ``alpha`` of the paper; renamed here
        because ``alpha`` is the Q-learning learning rate in this tutorial).
    n_iterations : int
        ALS sweeps (one user half-step plus one item half-step each).
    recency_decay : float in (0, 1]
        Only for folding in a history at query time: the watch ``t`` steps before the most
        recent one gets confidence ``1 + confidence * recency_decay ** t``. 1.0 is the classical
        order-free fold-in. Training always uses the plain confidences.
    rng : numpy.random.Generator or int
        Source of the small random start (an int is used as a seed).
    """

    name = "MF (ALS)"
    #: The random source is not a setting of the model (and a Generator's repr is an address).
    repr_hidden = frozenset({"rng"})

    n_factors: int = 32
    reg: float = 1.0
    confidence: float = 40.0
    n_iterations: int = 10
    recency_decay: float = 0.8
    rng: np.random.Generator | int = 0

    def check_params(self) -> None:
        """Sizes are positive integers, ``reg`` > 0, ``confidence`` >= 0,
        ``recency_decay`` in (0, 1] and ``rng`` a Generator or a seed (:func:`check_rng`)."""
        checks.positive_int("n_factors", self.n_factors)
        checks.real("reg", self.reg, 0.0, low_open=True)
        checks.real("confidence", self.confidence, 0.0)
        checks.positive_int("n_iterations", self.n_iterations)
        checks.real("recency_decay", self.recency_decay, 0.0, 1.0, low_open=True)
        check_rng(self.rng)

    def fit(self, histories: Histories, n_items: int, catalog: Any = None) -> MatrixFactorization:
        """Learn ``user_factors_`` (n_users x f) and ``item_factors_`` (n_items x f) by ALS."""
        hists = self._fit_common(histories, n_items)
        x = interaction_matrix(hists, self.n_items, dtype=np.float64)
        rng = np.random.default_rng(self.rng)
        f = self.n_factors
        users = 0.01 * rng.standard_normal((x.shape[0], f))
        items = 0.01 * rng.standard_normal((self.n_items, f))
        xt = x.T.tocsr()
        watched = x.toarray()  # dense once, for the loss of every sweep
        self.loss_history_: list[float] = []
        for _ in range(self.n_iterations):
            users = self._solve_all(x, items)
            items = self._solve_all(xt, users)
            self.loss_history_.append(self._loss(watched, users, items))
        self.user_factors_, self.item_factors_ = users, items
        self.gram_ = items.T @ items
        return self

    def _solve_all(self, rows: sp.csr_matrix, fixed: np.ndarray) -> np.ndarray:
        """Closed-form ridge solve for every row of ``rows`` with the other side ``fixed``."""
        gram = fixed.T @ fixed
        out = np.zeros((rows.shape[0], self.n_factors))
        for r in range(rows.shape[0]):
            idx = rows.indices[rows.indptr[r] : rows.indptr[r + 1]]
            out[r] = self._solve_one(gram, fixed, idx)
        return out

    def _solve_one(
        self,
        gram: np.ndarray,
        fixed: np.ndarray,
        idx: np.ndarray,
        weights: np.ndarray | None = None,
    ) -> np.ndarray:
        """Ridge solve for one row; ``weights`` scale the extra confidence of each watch."""
        if idx.size == 0:
            return np.zeros(self.n_factors)
        y = fixed[idx]
        extra = self.confidence * (np.ones(idx.size) if weights is None else weights)
        a = gram + (y.T * extra) @ y + self.reg * np.eye(self.n_factors)
        b = (1.0 + extra) @ y
        return np.linalg.solve(a, b)

    def _loss(self, p: np.ndarray, users: np.ndarray, items: np.ndarray) -> float:
        """The weighted ALS objective for the dense 0/1 matrix ``p`` (fine at tutorial scale)."""
        pred = users @ items.T
        c = 1.0 + self.confidence * p
        fit_term = float(np.sum(c * (p - pred) ** 2))
        return fit_term + self.reg * float(np.sum(users**2) + np.sum(items**2))

    def fold_in(self, history: Iterable[int]) -> np.ndarray:
        """User factor for any history: the same closed-form solve as in training."""
        self.check_fitted()
        return self._fold_in(as_history(history, self.n_items))

    def _fold_in(self, hist: np.ndarray) -> np.ndarray:
        """:meth:`fold_in` of a validated history."""
        # One weight per distinct item: the most recent occurrence wins.
        w = recency.latest_weights_unchecked(hist, self.n_items, self.recency_decay)
        idx = np.flatnonzero(w)
        return self._solve_one(self.gram_, self.item_factors_, idx, w[idx])

    def _score(self, history: np.ndarray) -> np.ndarray:
        return self.item_factors_ @ self._fold_in(history)
