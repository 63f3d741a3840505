"""The pluggable rules of the single-table recommender: their signatures, their unchecked twins.

:class:`~odsc_recsys.qlearning.single_table.SingleTableRecommender` takes an exploration rule
and an update rule. When they are the package's own, its training loop calls their unchecked
twins: the arguments are checked once, in the constructor and ``fit``, not at every step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from .buggy import (
    buggy_explore_argmax_index,
    buggy_explore_argmax_index_unchecked,
    buggy_explore_as_coded,
    buggy_explore_as_coded_unchecked,
    buggy_update_double_counted,
    buggy_update_double_counted_unchecked,
)
from .selection import explore_uniform, explore_uniform_unchecked
from .td import td_update, td_update_unchecked

__all__ = ["ExploreRule", "UpdateRule", "unchecked"]


class ExploreRule(Protocol):
    """``rule(q_row, epsilon, rng) -> bool``: whether to explore in this state."""

    def __call__(self, q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> bool: ...


class UpdateRule(Protocol):
    """``rule(q_sa, reward, max_next_q, alpha, gamma) -> new q_sa``, like :func:`td_update`."""

    def __call__(
        self, q_sa: float, reward: float, max_next_q: float, alpha: float, gamma: float
    ) -> float: ...


#: The package's own rules, as called in the training loop of :class:`SingleTableRecommender`:
#: its arguments are checked once, in the constructor and ``fit``, not at every step.
_CHECKED_ONCE: tuple[tuple[Callable[..., Any], Callable[..., Any]], ...] = (
    (explore_uniform, explore_uniform_unchecked),
    (buggy_explore_argmax_index, buggy_explore_argmax_index_unchecked),
    (buggy_explore_as_coded, buggy_explore_as_coded_unchecked),
    (td_update, td_update_unchecked),
    (buggy_update_double_counted, buggy_update_double_counted_unchecked),
)


def unchecked(rule: Callable[..., Any]) -> Callable[..., Any]:
    """The unchecked twin of one of the package's rules; any other rule as it is."""
    return next((twin for public, twin in _CHECKED_ONCE if public is rule), rule)
