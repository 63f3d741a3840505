"""A first tabular recommender: one Q-table over every triple of a few movies (notebook 04)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from itertools import combinations
from typing import Any

import numpy as np

from odsc_recsys import checks
from odsc_recsys.protocol import Recommender, top_k

from .rules import ExploreRule, UpdateRule, unchecked
from .selection import explore_uniform
from .table import make_q_table
from .td import td_update

__all__ = ["SingleTableRecommender"]


class SingleTableRecommender(Recommender):
    """One Q-table whose rows are every unordered triple of a few movies (the talk's slide).

    With ``m`` movies there are ``mC3`` states (10 movies: 120 rows) and ``m`` actions. A state
    is the set of the user's last three movies; the row of a triple is found in a dictionary
    built from ``itertools.combinations``, which is what later notebooks replace by the
    combinatorial number system when ``mC3`` grows to 40 million.

    Training replays logged transitions ``(m1, m2, m3) -> next`` as the paper does: recommend a
    list of ``list_size`` movies epsilon-greedily from the state; the movie the user really
    watched next is rewarded (appended to the list if it was missing) and every other listed
    movie is penalised; each listed movie gets a TD update towards
    ``r + gamma * max_a' Q(s', a')`` with ``s' = (m2, m3, next)``.

    Parameters
    ----------
    items : iterable of int
        Catalogue indices of the movies the table covers (at least 4, distinct).
    n_items : int
        Size of the whole catalogue; :meth:`score` returns one score per catalogue item.
    alpha, gamma, epsilon : float
        Learning rate, discount factor and exploration rate. Defaults: the talk's 0.8, 0.4, 0.3.
    reward, penalty : float
        Reward for the watched movie and penalty (subtracted) for every other listed one,
        both finite and non-negative; the talk's 15 and 5.
    list_size : int
        Length of the recommended list during training.
    explore_rule : ExploreRule, optional
        How to decide to explore; :func:`explore_uniform` by default. Notebook 04 swaps in
        :func:`buggy_explore_argmax_index` to measure the original mistake.
    update_rule : UpdateRule, optional
        The TD update; :func:`td_update` by default.
    """

    name = "single Q-table"

    def __init__(
        self,
        items: Iterable[int],
        n_items: int,
        *,
        alpha: float = 0.8,
        gamma: float = 0.4,
        epsilon: float = 0.3,
        reward: float = 15.0,
        penalty: float = 5.0,
        list_size: int = 3,
        explore_rule: ExploreRule | None = None,
        update_rule: UpdateRule | Callable[..., float] | None = None,
    ) -> None:
        n_items = checks.positive_int("n_items", n_items)
        items_arr = _item_indices("items", items, n_items)
        values, counts = np.unique(items_arr, return_counts=True)
        if (counts > 1).any():
            raise ValueError(f"items must be distinct, got {items_arr.tolist()} "
                             f"({int(values[counts > 1][0])} more than once)")  # fmt: skip
        if items_arr.size < 4:
            raise ValueError(f"a triple-state table needs at least 4 items, got "
                             f"{items_arr.size}: {items_arr.tolist()}")  # fmt: skip
        alpha, gamma, epsilon = checks.alpha(alpha), checks.gamma(gamma), checks.epsilon(epsilon)
        reward, penalty = checks.real("reward", reward, 0.0), checks.real("penalty", penalty, 0.0)
        # a list holds only movies outside the state
        list_size = checks.integer("list_size", list_size, 1, items_arr.size - 3)
        for name, rule in (("explore_rule", explore_rule), ("update_rule", update_rule)):
            if rule is not None and not callable(rule):
                raise ValueError(f"{name} must be a function or None, got {rule!r}")
        self.n_items = n_items
        self.items = np.sort(items_arr)
        self.alpha, self.gamma, self.epsilon = alpha, gamma, epsilon
        self.reward, self.penalty = reward, penalty
        self.list_size = list_size
        self.explore_rule: ExploreRule = explore_rule or explore_uniform
        self.update_rule = update_rule or td_update

        self._position = {int(item): pos for pos, item in enumerate(self.items)}
        self.states = list(combinations(range(self.items.size), 3))  # rows, as item positions
        self._row = {triple: row for row, triple in enumerate(self.states)}
        self.q_table = make_q_table(len(self.states), self.items.size)
        # An action is valid in a state if its movie is not one of the three already watched.
        self.valid = np.ones_like(self.q_table, dtype=bool)
        for row, triple in enumerate(self.states):
            self.valid[row, list(triple)] = False
        self.hit_rate_: list[float] = []
        self.explore_rate_: list[float] = []

    @property
    def n_states(self) -> int:
        """Number of rows: ``mC3``."""
        return len(self.states)

    def state_row(self, state: Iterable[int]) -> int:
        """The Q-table row of a state given as three catalogue indices (any order).

        Raises
        ------
        ValueError
            If the state is not three distinct movies of the table (catalogue indices are
            integers: ``0.5`` or ``-1`` is refused, not rounded or wrapped).
        """
        state = _item_indices("state", state, self.n_items).tolist()
        missing = [m for m in state if m not in self._position]
        if len(state) != 3 or len(set(state)) != 3 or missing:
            raise ValueError(
                f"a state is 3 distinct movies of this table's {self.items.size} items, "
                f"got {state}" + (f" ({missing} not in the table)" if missing else "")
            )
        return self._row[tuple(sorted(self._position[m] for m in state))]

    def _choose_list(self, row: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
        candidates = np.flatnonzero(self.valid[row])
        explored = unchecked(self.explore_rule)(self.q_table[row], self.epsilon, rng)
        if explored:
            return rng.choice(candidates, size=self.list_size, replace=False), True
        # Greedy list; a random permutation first so that equal Q-values are ordered at random.
        shuffled = rng.permutation(candidates)
        order = np.argsort(-self.q_table[row, shuffled], kind="stable")
        return shuffled[order[: self.list_size]], False

    def fit(
        self,
        states: np.ndarray,
        targets: np.ndarray,
        *,
        rng: np.random.Generator,
        n_epochs: int = 1,
    ) -> SingleTableRecommender:
        """Replay logged transitions ``states[i] -> targets[i]`` for ``n_epochs`` passes.

        Parameters
        ----------
        states : np.ndarray
            ``(n, 3)`` catalogue indices, the three movies before each target.
        targets : np.ndarray
            ``(n,)`` catalogue index of the movie watched next.
        rng : np.random.Generator
            Drives exploration and tie-breaking.
        n_epochs : int
            Passes over the transitions, in the given (chronological) order.

        Notes
        -----
        After each epoch, ``hit_rate_`` records the share of transitions whose watched movie was
        in the list recommended *before* the update, and ``explore_rate_`` the share of
        exploring steps.

        Raises
        ------
        ValueError
            Before the table or ``rng`` changes: for states or targets that are not movies of
            the table, a target that is one of its state's movies, no transitions, or a bad
            ``rng`` or ``n_epochs``.
        """
        states = np.asarray(states)
        targets = np.asarray(targets)
        if states.ndim != 2 or states.shape[1] != 3 or targets.shape != (states.shape[0],):
            raise ValueError(
                f"states must be (n, 3) and targets (n,), got {states.shape} and {targets.shape}"
            )
        if not len(states):
            raise ValueError(f"states must hold at least one transition, got shape {states.shape}")
        checks.generator("rng", rng)
        n_epochs = checks.positive_int("n_epochs", n_epochs)
        targets = _item_indices("targets", targets, self.n_items)
        outside = np.flatnonzero(~np.isin(targets, self.items))
        if outside.size:
            j = int(outside[0])
            raise ValueError(f"targets must be movies of this table {self.items.tolist()}, got "
                             f"{int(targets[j])} at position {j}")  # fmt: skip
        rows = self._rows_of(states)
        repeats = np.flatnonzero((states == targets[:, None]).any(axis=1))
        if repeats.size:
            j = int(repeats[0])
            raise ValueError(f"the movie watched next cannot be one of its state's, got target "
                             f"{int(targets[j])} after {states[j].tolist()} at position {j}")  # fmt: skip
        next_rows = self._rows_of(np.column_stack([states[:, 1:], targets]))
        actions = np.array([self._position[int(t)] for t in targets], dtype=np.int64)
        update = unchecked(self.update_rule)
        for _ in range(n_epochs):
            hits = explored = 0
            for row, next_row, target in zip(rows, next_rows, actions, strict=True):
                chosen, did_explore = self._choose_list(row, rng)
                explored += did_explore
                hits += bool(np.any(chosen == target))
                if not np.any(chosen == target):
                    chosen = np.append(chosen, target)  # the paper: append the watched movie
                max_next_q = float(self.q_table[next_row, self.valid[next_row]].max())
                for action in chosen:
                    r = self.reward if action == target else -self.penalty
                    self.q_table[row, action] = update(
                        self.q_table[row, action], r, max_next_q, self.alpha, self.gamma
                    )
            self.hit_rate_.append(hits / len(rows))
            self.explore_rate_.append(explored / len(rows))
        return self

    def _rows_of(self, states: np.ndarray) -> np.ndarray:
        """The row of every state of an ``(n, 3)`` array; an error naming the first state that
        has none. One vectorised check instead of :meth:`state_row` on every state."""
        ordered = np.sort(states, axis=1)
        if not (
            np.issubdtype(states.dtype, np.integer)
            and np.isin(states, self.items).all()
            and (ordered[:, 1:] != ordered[:, :-1]).all()
        ):
            for j, state in enumerate(states):  # find and name the first bad one
                try:
                    self.state_row(state)
                except ValueError as error:
                    raise ValueError(f"states[{j}]: {error}") from None
        position = self._position
        return np.array(
            [self._row[tuple(sorted(position[m] for m in s))] for s in states.tolist()],
            dtype=np.int64,
        )

    def q_values(self, state: Iterable[int]) -> np.ndarray:
        """``Q(s, .)`` over the table's items (movies of the state are ``nan``)."""
        row = self.state_row(state)
        return np.where(self.valid[row], self.q_table[row], np.nan)

    def score(self, history: Iterable[int]) -> np.ndarray:
        """Q-values of the last three movies' row over the catalogue.

        Movies outside the table, and the three of the state, score ``-inf``.
        """
        hist = _item_indices("history", history, self.n_items)
        if hist.size < 3:
            raise ValueError(f"the state is the last 3 movies; the history has {hist.size}")
        row = self.state_row(hist[-3:])
        scores = np.full(self.n_items, -np.inf)
        scores[self.items] = np.where(self.valid[row], self.q_table[row], -np.inf)
        return scores

    def recommend(
        self, history: Iterable[int], k: int = 10, exclude: Iterable[int] | None = None
    ) -> np.ndarray:
        """Up to ``k`` of the table's movies, highest Q-value first (ties: lower index first)."""
        k = checks.count("k", k)
        scores = self.score(history)
        if exclude is not None:
            ex = _item_indices("exclude", exclude, self.n_items)
            scores[ex] = -np.inf
        n_valid = int(np.isfinite(scores).sum())
        return top_k(scores, min(k, n_valid))


def _item_indices(name: str, values: Any, n_items: int) -> np.ndarray:
    """Catalogue indices as a 1-d int array, each an integer in ``[0, n_items)``: a float
    such as ``0.5`` is refused rather than truncated, a negative index rather than wrapped."""
    if isinstance(values, Iterable) and not isinstance(values, str | bytes | np.ndarray | Mapping):
        values = list(values)  # a generator or a tuple, as an array of its elements
    return checks.indices(name, values, n_items)
