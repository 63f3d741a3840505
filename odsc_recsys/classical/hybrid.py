"""Weighted hybrid: a blend of min-max scaled content and collaborative scores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from odsc_recsys import checks
from odsc_recsys.classical.base import ClassicalRecommender, Histories
from odsc_recsys.classical.content import ContentBased
from odsc_recsys.classical.neighbours import ItemKNN
from odsc_recsys.protocol import Recommender


def _minmax_rows(scores: np.ndarray) -> np.ndarray:
    """Scale each row to [0, 1]; a constant row becomes zeros."""
    lo = scores.min(axis=1, keepdims=True)
    span = scores.max(axis=1, keepdims=True) - lo
    return np.divide(scores - lo, span, out=np.zeros_like(scores, dtype=np.float64), where=span > 0)


@dataclass(repr=False, eq=False)
class Hybrid(ClassicalRecommender):
    """Weighted hybrid: a blend of content-based and collaborative scores.

    Each component's scores are min-max scaled to [0, 1] for the history at hand (their raw
    scales differ: cosines, counts, dot products), then combined with fixed weights:

    .. math:: \\text{score}(i) = \\sum_m w_m \\, \\frac{s_m(i) - \\min s_m}{\\max s_m - \\min s_m}

    The content part can place a movie that has no interactions yet; the collaborative part
    brings in what similar people watched.

    Parameters
    ----------
    components : sequence of (Recommender, weight), optional
        The models to blend, fitted in place by :meth:`fit`. Default (None): fresh
        ``ContentBased()`` and ``ItemKNN()`` with weights 0.1 and 0.9
        (:attr:`default_components`), made at each ``fit``.

    Attributes
    ----------
    components_ : list of (Recommender, float)
        The fitted components and their weights.
    """

    name = "Hybrid"

    #: The components of ``Hybrid()``: a model class and its weight.
    default_components: ClassVar[tuple[tuple[type[Recommender], float], ...]] = (
        (ContentBased, 0.1),
        (ItemKNN, 0.9),
    )

    components: Sequence[tuple[Recommender, float]] | None = None

    def check_params(self) -> None:
        """At least one component, each a Recommender with a finite weight >= 0, not all 0."""
        if self.components is None:
            return
        if isinstance(self.components, str | Mapping) or not isinstance(self.components, Sequence):
            raise ValueError(f"components must be a list of (model, weight) pairs, got "
                             f"{self.components!r}")  # fmt: skip
        if len(self.components) == 0:
            raise ValueError("Hybrid needs at least one (model, weight) component")
        for pair in self.components:
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise ValueError(f"a Hybrid component must be a (model, weight) pair, got "
                                 f"{pair!r}")  # fmt: skip
            model, weight = pair
            if not isinstance(model, Recommender):
                raise ValueError(f"a Hybrid component must be a Recommender, got {model!r}")
            checks.real("component weight", weight, 0.0)
        if all(float(w) == 0.0 for _, w in self.components):
            raise ValueError(f"component weights must not all be 0 (every score would be 0), "
                             f"got {[w for _, w in self.components]!r}")  # fmt: skip

    def check_fit(self, histories: list[np.ndarray], n_items: int, catalog: Any = None) -> None:
        """The components, and what each classical one needs from ``fit``'s arguments: one
        component's refusal must come before any other component is refitted."""
        self.check_params()
        models = (
            [cls() for cls, _ in self.default_components]
            if self.components is None
            else [m for m, _ in self.components]
        )
        for model in models:
            if isinstance(model, ClassicalRecommender):
                model.check_fit(histories, n_items, catalog)

    def _repr_value(self, name: str, value: Any) -> str:
        # the components by name: a fitted model's repr would be long
        if name != "components":
            return super()._repr_value(name, value)
        if value is None:
            return repr([(cls.name, w) for cls, w in self.default_components])
        return repr([(getattr(m, "name", type(m).__name__), w) for m, w in value])

    def fit(self, histories: Histories, n_items: int, catalog: Any = None) -> Hybrid:
        """Fit every component on the same data; the fitted ones are ``components_``.

        Without ``components``, fresh models of :attr:`default_components` are fitted.
        """
        hists = self._fit_common(histories, n_items, catalog)
        if self.components is None:
            self.components_ = [(cls(), w) for cls, w in self.default_components]
        else:
            self.components_ = [(m, float(w)) for m, w in self.components]
        for model, _ in self.components_:
            model.fit(hists, n_items, catalog=catalog)
        return self

    def _score(self, history: np.ndarray) -> np.ndarray:
        total = np.zeros(self.n_items)
        for model, weight in self.components_:
            scores = np.asarray(model.score(history), dtype=np.float64)
            total += weight * _minmax_rows(scores[None, :])[0]
        return total

    def _score_many(self, histories: list[np.ndarray]) -> np.ndarray:
        total = np.zeros((len(histories), self.n_items))
        for model, weight in self.components_:
            total += weight * _minmax_rows(model.score_many(histories))
        return total
