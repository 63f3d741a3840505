"""Weighted hybrid: a blend of min-max scaled content and collaborative scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from odsc_recsys.classical._base import Histories, _check_nonneg, _Fitted
from odsc_recsys.classical.content import ContentBased
from odsc_recsys.classical.neighbours import ItemKNN
from odsc_recsys.protocol import Recommender


def _minmax_rows(scores: np.ndarray) -> np.ndarray:
    """Scale each row to [0, 1]; a constant row becomes zeros."""
    lo = scores.min(axis=1, keepdims=True)
    span = scores.max(axis=1, keepdims=True) - lo
    return np.divide(scores - lo, span, out=np.zeros_like(scores, dtype=np.float64), where=span > 0)


def _score_rows(model: Recommender, histories: list[np.ndarray]) -> np.ndarray:
    """Scores of any Recommender for a batch; uses ``score_many`` when the model has it."""
    if isinstance(model, _Fitted):
        return model.score_many(histories)
    return np.stack([np.asarray(model.score(h), dtype=np.float64) for h in histories])


class Hybrid(_Fitted):
    """Weighted hybrid: a blend of content-based and collaborative scores.

    Each component's scores are min-max scaled to [0, 1] for the history at hand (their raw
    scales differ: cosines, counts, dot products), then combined with fixed weights:

    .. math:: \\text{score}(i) = \\sum_m w_m \\, \\frac{s_m(i) - \\min s_m}{\\max s_m - \\min s_m}

    The content part can place a movie that has no interactions yet; the collaborative part
    brings in what similar people watched.

    Parameters
    ----------
    components : sequence of (Recommender, weight), optional
        Default: ``[(ContentBased(), 0.1), (ItemKNN(), 0.9)]``.
    """

    name = "Hybrid"

    def __init__(self, components: Sequence[tuple[Recommender, float]] | None = None) -> None:
        if components is None:
            components = [(ContentBased(), 0.1), (ItemKNN(), 0.9)]
        if len(components) == 0:
            raise ValueError("Hybrid needs at least one (model, weight) component")
        for model, weight in components:
            if not isinstance(model, Recommender):
                raise ValueError(f"a Hybrid component must be a Recommender, got {model!r}")
            _check_nonneg("component weight", weight)
        self.components = [(m, float(w)) for m, w in components]

    def _params(self) -> dict[str, Any]:
        return {"components": [(m.name, w) for m, w in self.components]}

    def fit(self, histories: Histories, n_items: int, catalog: Any = None) -> Hybrid:
        """Fit every component on the same data."""
        hists = self._fit_common(histories, n_items)
        for model, _ in self.components:
            model.fit(hists, n_items, catalog=catalog)
        return self

    def _score(self, history: np.ndarray) -> np.ndarray:
        total = np.zeros(self.n_items)
        for model, weight in self.components:
            scores = np.asarray(model.score(history), dtype=np.float64)
            total += weight * _minmax_rows(scores[None, :])[0]
        return total

    def _score_many(self, histories: list[np.ndarray]) -> np.ndarray:
        total = np.zeros((len(histories), self.n_items))
        for model, weight in self.components:
            total += weight * _minmax_rows(_score_rows(model, histories))
        return total
