"""Shared plumbing of the classical models: the base class, its parameters, the fallback.

Every model subclasses :class:`ClassicalRecommender`, which follows scikit-learn's estimator
conventions: ``__init__`` only stores its arguments under their own names (each model declares
its parameters as fields of a ``@dataclass(repr=False, eq=False)``, whose generated
``__init__`` does exactly that), ``fit`` checks them
(:meth:`~ClassicalRecommender.check_params`), and :meth:`~ClassicalRecommender.get_params`,
:meth:`~ClassicalRecommender.set_params` and ``repr`` read them from the ``__init__``
signature. The base class also validates histories, stores the training popularity (the
fallback for an empty history) and provides the batched ``score_many`` that the protocol's
``recommend_many`` ranks.

The recency weighting that most models share lives in :mod:`~odsc_recsys.classical.recency`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from numbers import Integral
from typing import Any, ClassVar, TypeVar

import numpy as np

from odsc_recsys import checks
from odsc_recsys.protocol import Recommender, as_history

__all__ = ["ClassicalRecommender", "Histories", "history_list"]

#: Training histories: ``user_id -> items`` (read in sorted user order) or a list of item lists.
Histories = Mapping[int, Sequence[int]] | Sequence[Sequence[int]]

_Model = TypeVar("_Model", bound="ClassicalRecommender")


def history_list(
    histories: Histories, n_items: int, *, allow_empty: bool = False
) -> list[np.ndarray]:
    """Validated histories as a list; a dict is read in sorted user order (deterministic).

    Raises
    ------
    ValueError
        If ``n_items`` is not a positive integer, ``histories`` is not a dict or a sequence of
        histories (a single flat history is not), is empty (unless ``allow_empty``), or a
        history holds an unknown item index (the message names the history).
    """
    n_items = checks.positive_int("n_items", n_items)
    if isinstance(histories, Mapping):
        keys = list(histories)
        for u in keys:
            checks.integer("a user id of histories", u)
        keys = sorted(keys)
        items = [histories[u] for u in keys]
    elif isinstance(histories, str | bytes) or not isinstance(histories, Iterable):
        raise ValueError(f"histories must be a dict user_id -> history or a list of histories, "
                         f"got {checks.short_repr(histories)}")  # fmt: skip
    else:
        items = list(histories)
        keys = list(range(len(items)))
        if items and all(isinstance(h, Integral | np.integer) for h in items):
            raise ValueError(f"histories must be a list of histories (one per user), got a "
                             f"single history {checks.short_repr(histories)}")  # fmt: skip
    if not items and not allow_empty:
        raise ValueError(f"histories must hold at least one history, got {checks.short_repr(histories)}")
    out = []
    for key, h in zip(keys, items, strict=True):
        try:
            out.append(as_history(h, n_items))
        except ValueError as err:  # which history: the user id of a dict, else the position
            raise ValueError(f"histories[{key!r}]: {err}") from None
    return out


class ClassicalRecommender(Recommender):
    """Base of the classical models: parameters, validation, the popularity fallback.

    Subclasses store each ``__init__`` argument unchanged under its own name (as dataclass
    fields), check them in :meth:`check_params`, and implement ``fit`` (starting with
    :meth:`_fit_common`) and ``_score`` (optionally a batched ``_score_many``).
    """

    #: Parameters that ``repr`` leaves out (still in :meth:`get_params`).
    repr_hidden: ClassVar[frozenset[str]] = frozenset()

    popularity_: np.ndarray | None = None

    # ---- parameters (scikit-learn's conventions) ------------------------------------------

    @classmethod
    def param_names(cls) -> list[str]:
        """The names of the ``__init__`` parameters, in signature order."""
        signature = inspect.signature(cls.__init__)
        return [
            p.name
            for p in list(signature.parameters.values())[1:]  # without self
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self) -> dict[str, Any]:
        """The model's parameters, ``name -> value``, as given to ``__init__`` or
        :meth:`set_params`."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self: _Model, **params: Any) -> _Model:
        """Change parameters (checked at the next ``fit``); returns the model.

        Raises
        ------
        ValueError
            If a name is not a parameter of this model.
        """
        allowed = self.param_names()
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {unknown} of {type(self).__name__}; allowed: {allowed}"
            )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def check_params(self) -> None:
        """Raise ``ValueError`` naming the first parameter out of its range (``fit`` calls
        this first); models with parameters override it."""

    def __repr__(self) -> str:
        shown = (
            f"{name}={self._repr_value(name, value)}"
            for name, value in self.get_params().items()
            if name not in self.repr_hidden
        )
        return f"{type(self).__name__}({', '.join(shown)})"

    def _repr_value(self, name: str, value: Any) -> str:
        """How ``repr`` shows one parameter."""
        return repr(value)

    # ---- fitting --------------------------------------------------------------------------

    def check_fit(self, histories: list[np.ndarray], n_items: int, catalog: Any = None) -> None:
        """Raise ``ValueError`` if ``fit`` would refuse these arguments, changing nothing.

        ``histories`` are already validated (:func:`history_list`); by default only the
        parameters are checked. Models that read more (the catalogue) override this, so that
        ``fit`` refuses before it changes anything, and a :class:`~.hybrid.Hybrid` can check
        all its components before it fits the first.
        """
        self.check_params()

    def _fit_common(
        self, histories: Histories, n_items: int, catalog: Any = None
    ) -> list[np.ndarray]:
        """Check the parameters, the histories and the rest of ``fit``'s arguments
        (:meth:`check_fit`), then count the training popularity: nothing is set before all
        are valid."""
        self.check_params()
        hists = history_list(histories, n_items)
        self.check_fit(hists, n_items, catalog)
        self.n_items = int(n_items)
        counts = np.zeros(self.n_items, dtype=np.float64)
        for h in hists:
            counts[np.unique(h)] += 1.0
        self.popularity_ = counts
        return hists

    def check_fitted(self) -> None:
        """Raise ``RuntimeError`` before ``fit`` (the popularity fallback is set by fit)."""
        if self.popularity_ is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() first")

    # ---- scoring --------------------------------------------------------------------------

    def score(self, history: Iterable[int]) -> np.ndarray:
        """One score per catalogue item for this history (higher is better).

        An empty history falls back to training popularity.
        """
        self.check_fitted()
        hist = as_history(history, self.n_items)
        if hist.size == 0:
            return self.popularity_.copy()
        return self._score(hist)

    def _score(self, history: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def score_many(self, histories: Sequence[Iterable[int]]) -> np.ndarray:
        """Scores for several histories, one row each; row ``j`` equals ``score(histories[j])``."""
        self.check_fitted()
        popularity = self.popularity_
        hists = history_list(histories, self.n_items, allow_empty=True)
        out = np.empty((len(hists), self.n_items))
        full = [j for j, h in enumerate(hists) if h.size]
        out[[j for j, h in enumerate(hists) if not h.size]] = popularity
        if full:
            out[full] = self._score_many([hists[j] for j in full])
        return out

    def _score_many(self, histories: list[np.ndarray]) -> np.ndarray:
        """Non-empty validated histories -> scores; models with a batched form override this."""
        return np.stack([self._score(h) for h in histories])
