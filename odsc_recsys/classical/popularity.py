"""Popularity: recommend what most people watched, the same list for everyone."""

from __future__ import annotations

from typing import Any

import numpy as np

from odsc_recsys.classical.base import ClassicalRecommender, Histories


class Popularity(ClassicalRecommender):
    """Recommend what most people watched: the same list for everyone.

    The score of an item is the number of training histories that contain it. It ignores the
    history except through ``exclude``, which makes it the floor every personalised model must
    beat, and a strong one on MovieLens.
    """

    name = "Popularity"

    def fit(self, histories: Histories, n_items: int, catalog: Any = None) -> Popularity:
        """Count, for each item, how many training histories contain it."""
        self._fit_common(histories, n_items)
        return self

    def _score(self, history: np.ndarray) -> np.ndarray:
        assert self.popularity_ is not None
        return self.popularity_.copy()

    def _score_many(self, histories: list[np.ndarray]) -> np.ndarray:
        return np.tile(self.popularity_, (len(histories), 1))
