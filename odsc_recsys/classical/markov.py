"""First-order Markov chain over the last movies: "people who watched X next watched Y"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from odsc_recsys import checks
from odsc_recsys.classical import recency
from odsc_recsys.classical.base import ClassicalRecommender, Histories


@dataclass(repr=False, eq=False)
class MarkovChain(ClassicalRecommender):
    """First-order Markov chain: "people who watched X next watched Y".

    Transition counts ``C[i, j]`` (how often ``j`` directly followed ``i`` in a training history)
    are smoothed toward the popularity distribution ``pi`` with a pseudo-count (add-alpha
    smoothing; the pseudo-count is called ``smoothing`` here since ``alpha`` is the Q-learning
    rate in this tutorial):

    .. math:: P(j \\mid i) = \\frac{C_{ij} + \\text{smoothing}\\cdot \\pi_j}{\\sum_{j'} C_{ij'} + \\text{smoothing}}

    With ``n_last = 1`` only the most recent movie matters. With ``n_last = 3`` the model reads
    the same state as the Q-learning agents (the last three movies) and sums the three rows with
    weights ``decay ** t`` (``t`` = 0 for the most recent). It is the natural non-RL baseline for
    the RL notebooks: it learns from the same (state, next movie) pairs, without rewards.

    Parameters
    ----------
    n_last : int
        How many of the most recent movies to use.
    decay : float in (0, 1]
        Weight ratio between consecutive movies of the state.
    smoothing : float
        Pseudo-count (>= 0) spread over items in proportion to their popularity.
    """

    name = "Markov chain"

    n_last: int = 3
    decay: float = 1.0
    smoothing: float = 10.0

    def check_params(self) -> None:
        """``n_last`` is a positive integer, ``decay`` in (0, 1], ``smoothing`` >= 0."""
        checks.positive_int("n_last", self.n_last)
        checks.real("decay", self.decay, 0.0, 1.0, low_open=True)
        checks.real("smoothing", self.smoothing, 0.0)

    def fit(self, histories: Histories, n_items: int, catalog: Any = None) -> MarkovChain:
        """Count transitions and build the smoothed ``transition_`` matrix (rows sum to 1)."""
        hists = self._fit_common(histories, n_items)
        n = self.n_items
        pairs = [(h[:-1], h[1:]) for h in hists if h.size > 1]
        src = np.concatenate([p[0] for p in pairs]) if pairs else np.zeros(0, dtype=np.int64)
        dst = np.concatenate([p[1] for p in pairs]) if pairs else np.zeros(0, dtype=np.int64)
        counts = np.zeros((n, n))
        np.add.at(counts, (src, dst), 1.0)
        self.counts_ = counts
        total = self.popularity_.sum()
        pi = self.popularity_ / total if total > 0 else np.full(n, 1.0 / n)
        num = counts + self.smoothing * pi[None, :]
        den = counts.sum(axis=1, keepdims=True) + self.smoothing
        # A movie never followed by anything (and no smoothing) gets the popularity row.
        self.transition_ = np.where(den > 0, num / np.where(den > 0, den, 1.0), pi[None, :])
        return self

    def _score(self, history: np.ndarray) -> np.ndarray:
        # Only the last n_last movies (the state) are read.
        return recency.score(self.transition_, history, self.decay, self.n_last)

    def _score_many(self, histories: list[np.ndarray]) -> np.ndarray:
        return recency.score_batch(self.transition_, histories, self.decay, self.n_last)
