"""How the tables choose a list: merge the sub-states' rows, then epsilon-greedy, slot by slot.

**Merge.** Every sub-state proposes its row; the merged score of a movie is the largest Q over
the sub-states (the first sub-state with that value is recorded as its source). The list is
sorted by decreasing merged Q, ties by lower catalogue index (the catalogue is sorted by
popularity, so untrained ties go to popular movies). The state's own movies (and an optional
``exclude`` set) are never recommended. An empty state has no row: its scores are the prior.

**Explore.** Epsilon-greedy exploration is decided **per list position**, with exactly ``2k``
uniform draws ``u`` per list of length ``k``: slot ``p`` explores when ``u[p] < epsilon`` and
then takes the ``floor(u[k + p] * n_free)``-th (in catalogue order) of the ``n_free`` eligible
movies not yet listed, a uniform choice; otherwise it takes the best greedy movie not yet
listed. A fixed number of draws keeps the random stream aligned, so that the compiled and the
distributed versions reproduce the lists exactly.

**The original code's list** (:func:`choose_per_substate`): each sub-state proposes one movie
of its own row, so a list holds at most three.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..protocol import top_k
from .layout import HISTORY_LENGTH, SubState
from .storage import Store

__all__ = [
    "EXPLORE",
    "PRIOR",
    "Recommendations",
    "choose",
    "choose_per_substate",
    "merge_rows",
    "proposers",
    "random_free_item",
    "sources",
]

#: ``Recommendations.source`` value of an exploratory (random) slot.
EXPLORE = -1
#: ``Recommendations.source`` value of a movie scored by the prior (empty state).
PRIOR = -2


@dataclass(frozen=True)
class Recommendations:
    """A recommended list, best first, and where each movie came from.

    Attributes
    ----------
    items : np.ndarray of int64
        Recommended catalogue indices, in list order.
    q_values : np.ndarray of float64
        Merged Q-value of each listed movie (for explored slots too).
    source : np.ndarray of int64
        Index into :attr:`substates` of the sub-state that proposed each movie (the one with
        the largest Q for it), or :data:`EXPLORE` for a random slot, or :data:`PRIOR` when the
        state was empty.
    substates : tuple of SubState
        The sub-states of the state.
    """

    items: np.ndarray
    q_values: np.ndarray
    source: np.ndarray
    substates: tuple[SubState, ...]

    def __len__(self) -> int:
        return len(self.items)

    @property
    def explored(self) -> np.ndarray:
        """Boolean mask of the exploratory slots."""
        return self.source == EXPLORE


def merge_rows(rows: list[np.ndarray], fallback: np.ndarray) -> np.ndarray:
    """A new array with the element-wise max of ``rows`` (table dtype), or a copy of
    ``fallback`` (the prior, or zeros) when there is no row."""
    if not rows:
        return fallback.copy()
    if len(rows) == 1:
        return rows[0].copy()
    merged = np.maximum(rows[0], rows[1])
    for r in rows[2:]:
        np.maximum(merged, r, out=merged)
    return merged


def sources(rows: list[np.ndarray], items: np.ndarray) -> np.ndarray:
    """For each item, the index of the first row that holds its merged Q (:data:`PRIOR`
    when there is no row)."""
    if not rows:
        return np.full(len(items), PRIOR, dtype=np.int64)
    if len(rows) == 1:
        return np.zeros(len(items), dtype=np.int64)
    return np.array([r[items] for r in rows]).argmax(axis=0).astype(np.int64)


def random_free_item(blocked: Sequence[int], n_items: int, draw: float) -> int:
    """The movie a uniform ``draw`` picks among the ``n_items - len(blocked)`` movies not in
    the sorted list ``blocked``: the ``floor(draw * n_free)``-th of them in catalogue order."""
    n_free = n_items - len(blocked)
    item = min(int(draw * n_free), n_free - 1)
    for b in blocked:  # sorted: skip every blocked index at or below the item
        if b > item:
            break
        item += 1
    return item


def choose(
    merged: np.ndarray,
    items: Sequence[int],
    k: int,
    epsilon: float,
    rng: np.random.Generator | None,
    exclude: np.ndarray | None = None,
) -> tuple[list[int], list[bool] | None]:
    """An epsilon-greedy list of up to ``k`` movies from merged scores (see the module doc).

    ``merged`` is a fresh array that this function overwrites (ineligible movies become
    ``-inf``). Returns the movies in list order and which slots explored (None when none did).
    """
    n_items = len(merged)
    if exclude is not None and exclude.size:
        blocked = sorted(set(items).union(exclude.tolist()))
        merged[blocked] = -np.inf
    else:
        blocked = sorted(items)  # ineligible movies, kept sorted for exploration
        for m in blocked:  # at most 3: scalar writes are cheaper than an index array
            merged[m] = -np.inf
    k = min(k, n_items - len(blocked))
    if rng is None or epsilon == 0.0 or k == 0:
        return top_k(merged, k).tolist(), None
    u = rng.random(2 * k).tolist()  # Python floats: cheaper than numpy scalars in a loop
    explore = [draw < epsilon for draw in u[:k]]
    if not any(explore):
        return top_k(merged, k).tolist(), None
    chosen: list[int] = []
    for explores, pick in zip(explore, u[k:], strict=True):
        if explores:
            item = random_free_item(blocked, n_items, pick)
        else:
            # The best movie not yet listed, the lowest index among ties: the next one of the
            # greedy list (eligible Q-values are finite, listed ones are -inf).
            item = int(merged.argmax())
        merged[item] = -np.inf
        bisect.insort(blocked, item)
        chosen.append(item)
    return chosen, explore


def choose_per_substate(
    store: Store,
    items: Sequence[int],
    order: list[SubState],
    epsilon: float,
    rng: np.random.Generator | None,
) -> tuple[list[int], list[SubState], list[bool]]:
    """The original code's list: each sub-state, in ``order``, proposes one movie.

    A sub-state explores with probability epsilon (a uniform choice among the movies that are
    neither in the state nor listed yet); otherwise it proposes the best movie of its own row
    among those, the lowest index among ties. Exactly ``2 * HISTORY_LENGTH`` uniform draws per
    list when ``rng`` is given and epsilon > 0: ``u[p]`` decides slot ``p``,
    ``u[HISTORY_LENGTH + p]`` picks its random movie.

    Returns the movies in list order, the sub-state that proposed each, and which slots
    explored.
    """
    u = None
    if rng is not None and epsilon > 0.0:
        u = rng.random(2 * HISTORY_LENGTH).tolist()
    n_items = store.n_cols
    blocked = sorted(items)
    chosen: list[int] = []
    proposed_by: list[SubState] = []
    explored: list[bool] = []
    for p, s in enumerate(order):
        if n_items - len(blocked) <= 0:
            break
        explores = u is not None and u[p] < epsilon
        if explores:
            item = random_free_item(blocked, n_items, u[HISTORY_LENGTH + p])  # type: ignore[index]
        else:
            row = store.row(s.genre, s.row).copy()  # table dtype, as the merge
            row[blocked] = -np.inf
            item = int(row.argmax())
        bisect.insort(blocked, item)
        chosen.append(item)
        proposed_by.append(s)
        explored.append(explores)
    return chosen, proposed_by, explored


def proposers(store: Store, order: list[SubState], actions: list[int]) -> list[SubState]:
    """For each action, the first sub-state of ``order`` whose row holds its largest Q."""
    rows = [store.row(s.genre, s.row) for s in order]
    out = []
    for a in actions:
        values = [float(r[a]) for r in rows]
        out.append(order[values.index(max(values))])
    return out
