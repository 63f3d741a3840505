"""Per-genre ("distributed") Q-tables: decompose a state, recommend, update, train, save.

The talk's answer to the state-space blow-up (see :mod:`odsc_recsys.state_space`): instead of
one Q-table with a row per 3-movie state, keep **one Q-table per genre**.

* **Rows** of genre ``g``'s table are its sub-states: first its ``n_g`` single movies (nC1),
  then its ``C(n_g, 2)`` pairs (nC2). Within a genre the movies get local positions
  ``0 .. n_g - 1`` in catalogue order; the single ``{i}`` is row ``local(i)`` and the pair
  ``{i, j}`` (``local(i) < local(j)``) is row ``n_g + C(local(j), 2) + local(i)``: the colex
  rank of the combinatorial number system, computed in O(1).
* **Columns** are every catalogue movie: any table may recommend any movie.

A state ``(m1, m2, m3)`` (the last three movies, order ignored for the sub-states) splits by
genre into sub-states, the talk's three scenarios:

(a) three different genres -> three single-movie sub-states, one per table;
(b) two share a genre -> one pair sub-state in that table and one single in the other;
(c) all one genre -> the 3C2 = 3 pair sub-states in that table.

**Short histories** (cold start). The same grouping is applied to the movies present: one
movie gives one single sub-state; two movies give a pair (same genre) or two singles. An empty
history has no sub-state: its scores are the ``prior`` given at construction (for instance
popularity), or zeros, and its recommendations are labelled ``"prior"``.

Sub-states come ordered by table (genre code), then by their movies.

**Recommend.** Every sub-state proposes its row; the merged score of a movie is the largest Q
over the sub-states (the first sub-state with that value is recorded as its source); the list
is sorted by decreasing merged Q, ties by lower catalogue index (the catalogue is sorted by
popularity, so untrained ties go to popular movies). The state's own movies (and an optional
``exclude`` set, e.g. everything the user has seen) are never recommended. Epsilon-greedy
exploration is decided **per list position**, with exactly ``2k`` uniform draws ``u`` per list
of length ``k``: slot ``p`` explores when ``u[p] < epsilon`` and then takes the
``floor(u[k + p] * n_free)``-th (in catalogue order) of the ``n_free`` eligible movies not yet
listed, a uniform choice; otherwise it takes the best greedy movie not yet listed.

**Update** (Q-learning, the talk's reward scheme). For a state ``s``, a recommended list and the
movie the user clicked: the clicked movie gets reward ``+reward``, every other listed movie
``-penalty`` (a clicked movie missing from the list is appended first, as in the talk's
training). The next state is ``(m2, m3, clicked)``; ``s'`` is its sub-state that contains the
clicked movie. When the next state is all one genre (scenario c), two of its pairs contain
the clicked movie and the larger ``max Q`` of the two is used. Then, for every sub-state
``s_i`` of ``s`` and every listed movie ``a``:

.. math:: Q(s_i, a) \\leftarrow Q(s_i, a) + \\alpha\\,\\bigl(r_a + \\gamma \\max_{a'} Q(s', a')
          - Q(s_i, a)\\bigr)

**The original code's rules** (switchable in :func:`replay_train`; off by default). The talk's
code (``Code/Multiple_table.py`` of raviranjan0309/ODSC-conference-India-2021) differs from the
paper's text in three ways, each an option: ``one_per_substate`` (every sub-state proposes one
movie, so a list holds at most three plus the appended target), ``proposer_only`` (a movie
updates only the sub-state that proposed it) and ``bootstrap_ignored=False`` (an ignored movie's
target is ``-penalty`` with no future-value term). See :func:`replay_train`.

Order of operations (so that a compiled or distributed version can reproduce it bit for bit):
the future value ``max_{a'} Q(s', a')`` is read first, from the table before any write (it is
the max over all columns of the row in the table dtype, then converted to float64); the target
of a listed movie is ``r_a + (gamma * future)`` in float64; the new values are computed in
float64 (``old + alpha * (target - old)``) and cast to the table dtype when written. ``s'``
always contains the clicked movie and no current sub-state does, so no row is both read for the
target and written; and distinct sub-states are distinct rows, so the result does not depend on
loop order.

**Storage** (``storage=`` at construction; the Q-values, recommendations and training results
are identical whichever is chosen, and unwritten Q-values read as 0):

* ``"dense"``: one full numpy array per table, the paper's layout;
* ``"lazy"``: a dict of rows per table; a row gets memory (all its columns) when first written;
* ``"sparse"``: a dict of rows per table, each row holding only the columns ever written, as
  one structured array of ``(col, val)`` entries sorted by column (6 bytes per float32 entry).
  One as-published pass over the MovieLens training transitions writes a third of the rows
  but only 3.6% of the Q-values, so sparse tables take about 8% of the dense memory (lazy:
  36%). Reads and writes are slower: a read materialises a dense row.

``nbytes`` measures each honestly (``sys.getsizeof`` of the Python objects for lazy and
sparse); ``n_allocated_rows`` and ``n_stored_values`` count what is held.
"""

from __future__ import annotations

import bisect
import math
import os
import sys
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from .atomic import atomic_savez
from .protocol import Recommender, as_history
from .qlearning import check_alpha, check_epsilon, check_gamma
from .state_space import format_bytes, n_combinations, rank_combination

__all__ = [
    "EXPLORE",
    "PRIOR",
    "GenreQTables",
    "QTablePolicy",
    "Recommendations",
    "FullStateQTable",
    "SubState",
    "genre_combinations",
    "replay_train",
    "state_order",
]

#: ``Recommendations.source`` value of an exploratory (random) slot.
EXPLORE = -1
#: ``Recommendations.source`` value of a movie scored by the prior (empty state).
PRIOR = -2
#: The state is the last ``HISTORY_LENGTH`` movies.
HISTORY_LENGTH = 3
STORAGES = ("dense", "lazy", "sparse")
_FORMAT = "odsc_recsys.qtables/1"


# ---------------------------------------------------------------------------------------------
# Input checks (alpha, gamma and epsilon use the shared ones of odsc_recsys.qlearning)
# ---------------------------------------------------------------------------------------------


def _check_finite(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return x


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    return int(k)


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best indices by decreasing score, ties by lower index.

    Equal to ``np.argsort(-scores, kind="stable")[:k]`` but O(n + k log k): a partition finds
    the k-th best value ``v``; the candidates are the indices scoring at least ``v``, in index
    order. When ties at ``v`` make them more than ``k``, keep those strictly better than ``v``
    and then the lowest indices that tie with ``v``. A stable sort of the candidates by
    decreasing score gives the list. Assumes no NaN.
    """
    n = len(scores)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k >= n:
        return np.argsort(-scores, kind="stable")
    partitioned = scores.copy()
    partitioned.partition(n - k)
    v = partitioned[n - k]  # the k-th largest score
    candidates = (scores >= v).nonzero()[0]
    if len(candidates) > k:
        values = scores[candidates]
        better = candidates[values > v]
        ties = candidates[values == v][: k - len(better)]
        candidates = np.concatenate((better, ties))
    return candidates[(-scores[candidates]).argsort(kind="stable")]


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


class SubState(NamedTuple):
    """One sub-state of a state: a row of one table.

    Attributes
    ----------
    genre : int
        The table: a genre code (or genre-combination code; ``0`` for :class:`FullStateQTable`).
    items : tuple of int
        Its movies (catalogue indices, increasing): one (nC1 row) or two (nC2 row).
    row : int
        Its row in that table.
    """

    genre: int
    items: tuple[int, ...]
    row: int


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


# ---------------------------------------------------------------------------------------------
# Storage: dense arrays, rows allocated on first write, or only the written entries
# ---------------------------------------------------------------------------------------------
#
# Every store answers the same questions, so the algorithm never looks at the storage:
#   row(t, r)            the Q-values of row r of table t, one per column (read-only use)
#   writable_row(t, r)   an object supporting ``row[cols]`` and ``row[cols] = values``
#   table(t)             a dense copy of table t
#   written_rows(t)      the rows that hold memory (dense: the rows with a non-zero value)
#   nbytes, n_allocated_rows, n_stored_values   memory accounting


class _DenseStore:
    """One full ``(n_rows, n_cols)`` array per table, as in the paper.

    The tables are consecutive blocks of one ``(total_rows, n_cols)`` array, so that the
    compiled paths can work on all of them at once without a copy (:meth:`flat`).
    """

    kind = "dense"

    def __init__(self, n_rows: Sequence[int], n_cols: int, dtype: np.dtype) -> None:
        self._flat = np.zeros((int(sum(n_rows)), n_cols), dtype=dtype)
        starts = np.concatenate(([0], np.cumsum(n_rows, dtype=np.int64)))
        self.tables = [self._flat[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)]

    def flat(self) -> np.ndarray | None:
        """All tables as one array (a view: writing it writes the tables), or None when a table
        no longer lives in it (replaced by :meth:`GenreQTables.load`, or after a deep copy)."""
        if all(t.base is self._flat for t in self.tables):
            return self._flat
        return None

    def row(self, t: int, r: int) -> np.ndarray:
        return self.tables[t][r]

    def writable_row(self, t: int, r: int) -> np.ndarray:
        return self.tables[t][r]

    def table(self, t: int) -> np.ndarray:
        return self.tables[t].copy()

    def written_rows(self, t: int) -> np.ndarray:
        return np.flatnonzero(np.any(self.tables[t] != 0, axis=1))

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.tables)

    @property
    def n_allocated_rows(self) -> int:
        return sum(len(a) for a in self.tables)

    @property
    def n_stored_values(self) -> int:
        return sum(a.size for a in self.tables)


class _RowDictStore:
    """Shared by the lazy and sparse stores: one dict ``row -> array`` per table, a row
    allocated on first write."""

    rows: list[dict[int, np.ndarray]]

    def written_rows(self, t: int) -> np.ndarray:
        return np.array(sorted(self.rows[t]), dtype=np.int64)

    @property
    def nbytes(self) -> int:
        # Measured with sys.getsizeof: array objects (header + data), int keys, dict tables.
        total = sys.getsizeof(self.rows)
        for table in self.rows:
            total += sys.getsizeof(table)
            total += sum(sys.getsizeof(r) + sys.getsizeof(a) for r, a in table.items())
        return total

    @property
    def n_allocated_rows(self) -> int:
        return sum(len(t) for t in self.rows)


class _LazyStore(_RowDictStore):
    """A dict ``row -> array`` per table; a row is allocated when first written.

    Reads of a missing row return a shared read-only row of zeros and allocate nothing.
    """

    kind = "lazy"

    def __init__(self, n_rows: Sequence[int], n_cols: int, dtype: np.dtype) -> None:
        self.n_rows = list(n_rows)
        self.n_cols = n_cols
        self.dtype = dtype
        self.rows: list[dict[int, np.ndarray]] = [{} for _ in n_rows]
        self._zeros = np.zeros(n_cols, dtype=dtype)
        self._zeros.flags.writeable = False

    def row(self, t: int, r: int) -> np.ndarray:
        return self.rows[t].get(r, self._zeros)

    def writable_row(self, t: int, r: int) -> np.ndarray:
        row = self.rows[t].get(r)
        if row is None:
            row = self.rows[t][r] = np.zeros(self.n_cols, dtype=self.dtype)
        return row

    def table(self, t: int) -> np.ndarray:
        out = np.zeros((self.n_rows[t], self.n_cols), dtype=self.dtype)
        for r, values in self.rows[t].items():
            out[r] = values
        return out

    @property
    def n_stored_values(self) -> int:
        return self.n_allocated_rows * self.n_cols


class _SparseStore(_RowDictStore):
    """A dict ``row -> entries`` per table, holding only the columns ever written.

    A row's entries are one numpy structured array with fields ``col`` (int16 when there are
    fewer than 32,768 columns, else int32) and ``val`` (the table dtype), sorted by ``col``:
    one array object per row, 6 bytes per float32 entry. A row is allocated when first
    written; a column is added to it when first written; unwritten entries read as 0.
    Reads materialise a fresh dense row (zeros, then the entries scattered in).
    """

    kind = "sparse"

    def __init__(self, n_rows: Sequence[int], n_cols: int, dtype: np.dtype) -> None:
        self.n_rows = list(n_rows)
        self.n_cols = n_cols
        self.dtype = dtype
        col_dtype = np.int16 if n_cols < 2**15 else np.int32
        self.entry = np.dtype([("col", col_dtype), ("val", dtype)])
        self.rows: list[dict[int, np.ndarray]] = [{} for _ in n_rows]

    def row(self, t: int, r: int) -> np.ndarray:
        out = np.zeros(self.n_cols, dtype=self.dtype)
        entries = self.rows[t].get(r)
        if entries is not None:
            out[entries["col"]] = entries["val"]
        return out

    def writable_row(self, t: int, r: int) -> _SparseRow:
        return _SparseRow(self, t, r)

    def write(self, t: int, r: int, key: object, values: npt.ArrayLike) -> None:
        """``row[key] = values`` with numpy's indexing, broadcasting and casting rules."""
        dense = self.row(t, r)
        dense[key] = values  # numpy decides what is written (repeats: the last one wins)
        entries = self.rows[t].get(r)
        keep = np.zeros(self.n_cols, dtype=bool)  # the columns held after the write
        keep[key] = True
        if entries is not None:
            keep[entries["col"]] = True
        cols = keep.nonzero()[0]
        if entries is not None and len(cols) == len(entries):  # no new column: write in place
            entries["val"] = dense[cols]
            return
        new = np.empty(len(cols), dtype=self.entry)
        new["col"] = cols
        new["val"] = dense[cols]
        self.rows[t][r] = new

    def set_row(self, t: int, r: int, values: np.ndarray) -> None:
        """Replace a row by a dense one, keeping its non-zero entries (an all-zero row stays
        allocated, with no entry)."""
        cols = np.flatnonzero(values)
        new = np.empty(len(cols), dtype=self.entry)
        new["col"] = cols
        new["val"] = values[cols]
        self.rows[t][r] = new

    def table(self, t: int) -> np.ndarray:
        out = np.zeros((self.n_rows[t], self.n_cols), dtype=self.dtype)
        for r, entries in self.rows[t].items():
            out[r, entries["col"]] = entries["val"]
        return out

    @property
    def n_stored_values(self) -> int:
        return sum(len(e) for table in self.rows for e in table.values())


class _SparseRow:
    """Write access to one row of a :class:`_SparseStore`, indexed like a numpy row:
    ``row[cols]`` reads (table dtype, 0 where unwritten), ``row[cols] = values`` writes
    (cast to the table dtype)."""

    __slots__ = ("_r", "_store", "_t")

    def __init__(self, store: _SparseStore, t: int, r: int) -> None:
        self._store, self._t, self._r = store, t, r

    def __getitem__(self, key: object) -> np.ndarray:
        return self._store.row(self._t, self._r)[key]

    def __setitem__(self, key: object, values: npt.ArrayLike) -> None:
        self._store.write(self._t, self._r, key, values)

    def __len__(self) -> int:
        return self._store.n_cols


_STORES = {"dense": _DenseStore, "lazy": _LazyStore, "sparse": _SparseStore}
_Store = _DenseStore | _LazyStore | _SparseStore


# ---------------------------------------------------------------------------------------------
# The shared machinery
# ---------------------------------------------------------------------------------------------


class _TabularQ:
    """Tables of Q-values whose rows are sub-states; subclasses define :meth:`_decompose`."""

    kind = ""

    def __init__(
        self,
        n_items: int,
        table_rows: Sequence[int],
        table_names: Sequence[str],
        alpha: float,
        gamma: float,
        epsilon: float,
        storage: str,
        dtype: npt.DTypeLike,
        prior: npt.ArrayLike | None,
    ) -> None:
        self.n_items = int(n_items)
        self.alpha = check_alpha(alpha)
        self.gamma = check_gamma(gamma)
        self.epsilon = check_epsilon(epsilon)
        if storage not in STORAGES:
            raise ValueError(f"storage must be one of {STORAGES}, got {storage!r}")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"dtype must be a floating type such as float32, got {self.dtype}")
        self.storage = storage
        self.table_rows = np.asarray(table_rows, dtype=np.int64)
        self.table_names = list(table_names)
        if prior is None:
            self.prior = None
        else:
            p = np.asarray(prior, dtype=np.float64)
            if p.shape != (self.n_items,) or not np.all(np.isfinite(p)):
                raise ValueError(
                    f"prior must be {self.n_items} finite scores (one per catalogue item), "
                    f"got shape {p.shape}"
                )
            self.prior = p
        self._store: _Store = _STORES[storage](self.table_rows.tolist(), self.n_items, self.dtype)

    # ---- state handling -------------------------------------------------------------------

    def _check_state(self, state: Iterable[int]) -> tuple[int, ...]:
        """Validate a state (at most 3 distinct known catalogue indices) and return a tuple."""
        if isinstance(state, np.ndarray):
            if state.ndim != 1 or (state.size and not np.issubdtype(state.dtype, np.integer)):
                raise ValueError(f"a state is a 1-d sequence of movie indices, got {state!r}")
            items = tuple(state.tolist())
        else:
            items = tuple(state)
        if len(items) > HISTORY_LENGTH:
            raise ValueError(
                f"a state holds at most {HISTORY_LENGTH} movies (the last ones watched), "
                f"got {len(items)}: {items}; pass history[-3:]"
            )
        n = self.n_items
        for m in items:
            if isinstance(m, bool) or not isinstance(m, int | np.integer):
                raise ValueError(f"movie indices must be integers, got {m!r} in state {items}")
            if not 0 <= m < n:
                raise ValueError(
                    f"unknown movie index {m} in state {items}: catalogue indices run from 0 "
                    f"to {n - 1}"
                )
        if len(set(items)) != len(items):
            raise ValueError(f"a state cannot hold the same movie twice, got {items}")
        return tuple(int(m) for m in items)

    def _check_item(self, item: object, what: str) -> int:
        if isinstance(item, bool) or not isinstance(item, int | np.integer):
            raise ValueError(f"{what} must be a movie index (integer), got {item!r}")
        if not 0 <= item < self.n_items:
            raise ValueError(
                f"unknown movie index {item} as {what}: catalogue indices run from 0 to "
                f"{self.n_items - 1}"
            )
        return int(item)

    def _decompose(self, items: tuple[int, ...]) -> tuple[SubState, ...]:  # pragma: no cover
        raise NotImplementedError

    def decompose(self, state: Iterable[int]) -> tuple[SubState, ...]:
        """The sub-states of a state (see the module docstring), in a fixed order."""
        return self._decompose(self._check_state(state))

    # ---- reading --------------------------------------------------------------------------

    def q_row(self, substate: SubState) -> np.ndarray:
        """A copy of the Q-values of one sub-state's row (one per catalogue movie)."""
        return self._store.row(substate.genre, substate.row).copy()

    def table(self, genre: int) -> np.ndarray:
        """A dense copy of one table (materialised from the lazy or sparse rows if need be)."""
        if not 0 <= genre < len(self.table_rows):
            raise ValueError(f"table index must be in 0..{len(self.table_rows) - 1}, got {genre}")
        return self._store.table(genre)

    def _rows(self, subs: tuple[SubState, ...]) -> list[np.ndarray]:
        """The sub-states' rows (read-only use: views into the tables)."""
        row = self._store.row
        return [row(s.genre, s.row) for s in subs]

    def _merged(self, rows: list[np.ndarray]) -> np.ndarray:
        """A new array with the max of the rows (table dtype), or the prior (float64) / zeros
        when there is no row."""
        if not rows:
            return self.prior.copy() if self.prior is not None else np.zeros(self.n_items)
        if len(rows) == 1:
            return rows[0].copy()
        merged = np.maximum(rows[0], rows[1])
        for r in rows[2:]:
            np.maximum(merged, r, out=merged)
        return merged

    def score(self, state: Iterable[int]) -> np.ndarray:
        """Merged Q-value of every catalogue movie for this state (max over its sub-states),
        as float64."""
        return self._merged(self._rows(self.decompose(state))).astype(np.float64)

    @staticmethod
    def _sources(rows: list[np.ndarray], items: np.ndarray) -> np.ndarray:
        """For each item, the index of the first sub-state whose row holds its merged Q."""
        if not rows:
            return np.full(len(items), PRIOR, dtype=np.int64)
        if len(rows) == 1:
            return np.zeros(len(items), dtype=np.int64)
        return np.array([r[items] for r in rows]).argmax(axis=0).astype(np.int64)

    # ---- recommend ------------------------------------------------------------------------

    def _choose(
        self,
        items: tuple[int, ...],
        rows: list[np.ndarray],
        k: int,
        rng: np.random.Generator | None,
        exclude: np.ndarray | None,
    ) -> tuple[list[int], list[bool] | None]:
        """Core of :meth:`recommend` and :func:`replay_train` on validated input.

        Returns the chosen movies in list order and which slots explored (None when none
        did).
        """
        masked = self._merged(rows)  # a fresh array: ineligible movies are set to -inf
        if exclude is not None and exclude.size:
            blocked = sorted(set(items).union(exclude.tolist()))
            masked[blocked] = -np.inf
        else:
            blocked = sorted(items)  # ineligible movies, kept sorted for exploration
            for m in blocked:  # at most 3: scalar writes are cheaper than an index array
                masked[m] = -np.inf
        k = min(k, self.n_items - len(blocked))
        if rng is None or self.epsilon == 0.0 or k == 0:
            return _top_k(masked, k).tolist(), None
        # Exactly 2k uniform draws per list, whatever happens: u[p] < epsilon makes slot p
        # explore, u[k + p] picks its movie. A fixed number of draws keeps the random stream
        # aligned for a compiled or distributed re-implementation.
        u = rng.random(2 * k).tolist()  # Python floats: cheaper than numpy scalars in a loop
        explore = [draw < self.epsilon for draw in u[:k]]
        if not any(explore):
            return _top_k(masked, k).tolist(), None
        chosen: list[int] = []
        for explores, pick in zip(explore, u[k:], strict=True):
            if explores:
                # The r-th (in catalogue order) movie that is neither blocked nor listed.
                n_free = self.n_items - len(blocked)
                item = min(int(pick * n_free), n_free - 1)
                for b in blocked:  # sorted: skip every blocked index at or below the item
                    if b > item:
                        break
                    item += 1
            else:
                # The best movie not yet listed, the lowest index among ties: the next one of
                # the greedy list (eligible Q-values are finite, listed ones are -inf).
                item = int(masked.argmax())
            masked[item] = -np.inf
            bisect.insort(blocked, item)
            chosen.append(item)
        return chosen, explore

    def _select(
        self,
        items: tuple[int, ...],
        rows: list[np.ndarray],
        k: int,
        rng: np.random.Generator | None,
        exclude: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """:meth:`_choose` as arrays: the chosen movies, their merged Q-values (float64) and
        the boolean mask of exploratory slots (None when nothing explored)."""
        chosen, explore = self._choose(items, rows, k, rng, exclude)
        picked = np.array(chosen, dtype=np.int64)
        q_values = self._merged(rows)[picked].astype(np.float64)
        mask = None if explore is None else np.array(explore, dtype=bool)
        return picked, q_values, mask

    def _choose_per_substate(
        self,
        items: tuple[int, ...],
        order: list[SubState],
        rng: np.random.Generator | None,
    ) -> tuple[list[int], list[SubState], list[bool]]:
        """The original code's list: each sub-state, in ``order``, proposes one movie.

        A sub-state explores with probability epsilon (a uniform choice among the movies that
        are neither in the state nor listed yet); otherwise it proposes the best movie of its
        own row among those, the lowest index among ties. Exactly ``2 * HISTORY_LENGTH``
        uniform draws per list when ``rng`` is given and epsilon > 0: ``u[p]`` decides slot
        ``p``, ``u[HISTORY_LENGTH + p]`` picks its random movie.

        Returns the movies in list order, the sub-state that proposed each, and which slots
        explored.
        """
        u = None
        if rng is not None and self.epsilon > 0.0:
            u = rng.random(2 * HISTORY_LENGTH).tolist()
        blocked = sorted(items)
        chosen: list[int] = []
        proposers: list[SubState] = []
        explored: list[bool] = []
        for p, s in enumerate(order):
            n_free = self.n_items - len(blocked)
            if n_free <= 0:
                break
            explores = u is not None and u[p] < self.epsilon
            if explores:
                item = min(int(u[HISTORY_LENGTH + p] * n_free), n_free - 1)
                for b in blocked:  # sorted: skip every blocked index at or below the item
                    if b > item:
                        break
                    item += 1
            else:
                row = self._store.row(s.genre, s.row).copy()  # table dtype, as the merge
                row[blocked] = -np.inf
                item = int(row.argmax())
            bisect.insort(blocked, item)
            chosen.append(item)
            proposers.append(s)
            explored.append(explores)
        return chosen, proposers, explored

    def _proposers(self, order: list[SubState], actions: list[int]) -> list[SubState]:
        """For each action, the first sub-state of ``order`` whose row holds its largest Q."""
        rows = [self._store.row(s.genre, s.row) for s in order]
        out = []
        for a in actions:
            values = [float(r[a]) for r in rows]
            out.append(order[values.index(max(values))])
        return out

    def _check_exclude(self, exclude: Iterable[int] | None) -> np.ndarray | None:
        if exclude is None:
            return None
        return as_history(exclude, self.n_items)

    def recommend(
        self,
        state: Iterable[int],
        k: int = 10,
        rng: np.random.Generator | None = None,
        exclude: Iterable[int] | None = None,
    ) -> Recommendations:
        """Recommend up to ``k`` movies for a state, best first.

        Parameters
        ----------
        state : sequence of int
            The last (up to) 3 movies, oldest first.
        k : int
            List length; fewer are returned when fewer movies are eligible.
        rng : numpy.random.Generator, optional
            Drives epsilon-greedy exploration: exactly ``2 * len(list)`` uniform draws per
            list (none when ``epsilon == 0``). Without it the list is greedy: use that for
            evaluation.
        exclude : iterable of int, optional
            Movies never to recommend besides the state's own (e.g. everything the user saw).
        """
        k = _check_k(k)
        items = self._check_state(state)
        subs = self._decompose(items)
        rows = self._rows(subs)
        chosen, q, explore = self._select(items, rows, k, rng, self._check_exclude(exclude))
        source = self._sources(rows, chosen)
        if explore is not None:
            source[explore] = EXPLORE
        return Recommendations(items=chosen, q_values=q, source=source, substates=subs)

    # ---- update ---------------------------------------------------------------------------

    def _future_value(self, items: tuple[int, ...], clicked: int) -> float:
        """``max_a' Q(s', a')`` over the next state's sub-states that contain ``clicked``."""
        next_items = (items + (clicked,))[-HISTORY_LENGTH:]
        best = -np.inf
        for s in self._decompose(next_items):
            if clicked in s.items:
                best = max(best, float(self._store.row(s.genre, s.row).max()))
        return best

    def _apply_update(
        self,
        items: tuple[int, ...],
        subs: tuple[SubState, ...],
        actions: list[int],
        clicked: int,
        reward: float,
        penalty: float,
        proposers: list[SubState] | None = None,
        bootstrap_ignored: bool = True,
    ) -> None:
        """Core of :meth:`update` on validated input (``clicked`` is in ``actions``).

        ``proposers`` (one sub-state per action) updates each action in its own sub-state
        only, and ``bootstrap_ignored=False`` drops the future term from the ignored movies'
        targets: the original code's rules (see :func:`replay_train`).
        """
        if not subs:
            return
        # The TD target r_a + gamma * max_a' Q(s', a') of every listed movie a: one value for
        # the clicked movie, one for the others.
        future = self.gamma * self._future_value(items, clicked)
        hit = reward + future
        miss = -penalty + future if bootstrap_ignored else -penalty
        targets = [hit if a == clicked else miss for a in actions]
        alpha = self.alpha
        writable = self._store.writable_row
        if proposers is not None:
            # One entry per action, each in its proposer's row: distinct (row, column) pairs.
            for a, t, s in zip(actions, targets, proposers, strict=True):
                row = writable(s.genre, s.row)
                q = float(row[a])
                row[a] = q + alpha * (t - q)
            return
        index = np.array(actions, dtype=np.int64)
        for s in subs:
            row = writable(s.genre, s.row)
            # Python floats are float64: Q-values are read exactly, the update is computed in
            # float64 and cast to the table dtype when written (the module docstring's order).
            # On ~11 values, a list is cheaper than numpy's per-call overhead.
            old = row[index].tolist()
            row[index] = [q + alpha * (t - q) for q, t in zip(old, targets, strict=True)]

    def update(
        self,
        state: Iterable[int],
        recommendations: Recommendations | Iterable[int],
        clicked: int,
        reward: float = 15.0,
        penalty: float = 5.0,
    ) -> np.ndarray:
        """One Q-learning step after showing ``recommendations`` in ``state``.

        The clicked movie gets ``+reward``, every other listed movie ``-penalty``; a clicked
        movie missing from the list is appended (the talk's training rule). Every sub-state of
        ``state`` is updated toward ``r + gamma * max_a' Q(s', a')``, with ``s'`` the sub-state
        of ``(m2, m3, clicked)`` that contains ``clicked`` (see the module docstring for the
        exact order of operations). An empty state has no sub-state: nothing is updated.

        Returns
        -------
        np.ndarray of int64
            The actions that were updated (the list, plus ``clicked`` if it was appended).
        """
        items = self._check_state(state)
        clicked = self._check_item(clicked, "clicked")
        if clicked in items:
            raise ValueError(
                f"clicked movie {clicked} is already in the state {items}: the next movie must "
                "be a new one"
            )
        reward = _check_finite(reward, "reward")
        penalty = _check_finite(penalty, "penalty")
        if isinstance(recommendations, Recommendations):
            actions = recommendations.items
        else:
            actions = np.asarray(list(recommendations), dtype=np.int64)
        actions = as_history(actions, self.n_items)
        if len(np.unique(actions)) != len(actions):
            raise ValueError(f"the recommended list repeats a movie: {actions.tolist()}")
        in_state = [int(a) for a in actions if int(a) in items]
        if in_state:
            raise ValueError(f"recommended movies {in_state} are in the state {items}")
        if not np.any(actions == clicked):
            actions = np.append(actions, clicked)
        subs = self._decompose(items)
        self._apply_update(items, subs, actions.tolist(), clicked, reward, penalty)
        return actions

    # ---- memory ---------------------------------------------------------------------------

    @property
    def nbytes(self) -> int:
        """Memory held by the Q-values: array bytes for dense storage; for lazy and sparse
        storage the row arrays (lazy) or entry arrays (sparse), their keys and the dicts,
        measured with ``sys.getsizeof``."""
        return self._store.nbytes

    @property
    def n_allocated_rows(self) -> int:
        """Rows that hold memory: all of them for dense storage, the written ones for lazy and
        sparse storage."""
        return self._store.n_allocated_rows

    @property
    def n_stored_values(self) -> int:
        """Q-values held in memory: every entry for dense storage, every entry of the written
        rows for lazy storage, only the written entries for sparse storage."""
        return self._store.n_stored_values

    @property
    def n_rows(self) -> int:
        """Total rows over all tables (allocated or not)."""
        return int(self.table_rows.sum())

    def dense_nbytes(self) -> int:
        """Bytes all tables take when dense, whatever the storage."""
        return self.n_rows * self.n_items * self.dtype.itemsize

    def written_rows(self, genre: int) -> np.ndarray:
        """Rows of one table that hold a non-zero value (dense) or were written (lazy,
        sparse)."""
        return self._store.written_rows(genre)

    def as_recommender(self, name: str | None = None) -> QTablePolicy:
        """The greedy policy of these tables behind the shared :class:`Recommender` protocol."""
        return QTablePolicy(self, name=name or self.kind)

    # ---- save / load ----------------------------------------------------------------------

    def _meta(self) -> dict[str, np.ndarray]:  # pragma: no cover - per subclass
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> Path:
        """Write everything to one ``.npz`` file, atomically (temp file, then rename).

        Dense storage saves each table as ``table_<g>``; lazy storage saves the written row
        indices ``rows_<g>`` and their stacked values ``values_<g>``; sparse storage saves
        ``rows_<g>`` and the rows' entries in CSR form: row ``i``'s columns and values are
        ``cols_<g>[indptr_<g>[i]:indptr_<g>[i + 1]]`` and the same slice of ``vals_<g>``.
        Loading gives back exactly the same values, storage, dtype and hyperparameters.
        """
        path = Path(path)
        arrays = {
            "format": np.array(_FORMAT),
            "kind": np.array(self.kind),
            "storage": np.array(self.storage),
            "dtype": np.array(self.dtype.str),
            "hyper": np.array([self.alpha, self.gamma, self.epsilon], dtype=np.float64),
            "prior": self.prior if self.prior is not None else np.zeros(0),
            **self._meta(),
        }
        store = self._store
        for g in range(len(self.table_rows)):
            if isinstance(store, _DenseStore):
                arrays[f"table_{g}"] = store.tables[g]
                continue
            rows = store.written_rows(g)
            arrays[f"rows_{g}"] = rows
            if isinstance(store, _LazyStore):
                arrays[f"values_{g}"] = (
                    np.stack([store.rows[g][int(r)] for r in rows])
                    if len(rows)
                    else np.zeros((0, self.n_items), dtype=self.dtype)
                )
            else:  # sparse: the rows' entries one after the other, as in a CSR matrix
                entries = [store.rows[g][int(r)] for r in rows]
                sizes = [len(e) for e in entries]
                arrays[f"indptr_{g}"] = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
                flat = np.concatenate(entries) if entries else np.zeros(0, dtype=store.entry)
                arrays[f"cols_{g}"] = flat["col"].copy()
                arrays[f"vals_{g}"] = flat["val"].copy()
        return atomic_savez(path, **arrays)

    @staticmethod
    def load(path: str | os.PathLike) -> GenreQTables | FullStateQTable:
        """Read tables written by :meth:`save`; a corrupt, truncated or foreign file raises a
        ``ValueError`` that names the file and the problem."""
        return _load(Path(path))


# ---------------------------------------------------------------------------------------------
# Per-genre tables
# ---------------------------------------------------------------------------------------------


class GenreQTables(_TabularQ):
    """One Q-table per genre (the talk's "distributed Q-table").

    Parameters
    ----------
    genre_of : array of int, shape (n_items,)
        Genre code of each catalogue movie (its primary genre, or a genre-combination code from
        :func:`genre_combinations`).
    genre_names : sequence of str
        Name of each code; a genre without movies gets an empty table.
    alpha, gamma, epsilon : float
        Learning rate in (0, 1], discount factor in [0, 1], exploration rate in [0, 1]
        (the talk's 0.8, 0.4, 0.3 by default).
    storage : {"dense", "lazy", "sparse"}
        ``"dense"`` allocates every table in full (the paper's numpy array per genre);
        ``"lazy"`` allocates a row the first time it is written; ``"sparse"`` stores only the
        entries ever written (see the module docstring). Results are identical.
    dtype : numpy float dtype
        Dtype of the Q-values (float32 by default).
    prior : array of float, shape (n_items,), optional
        Scores for an empty history (cold start), e.g. popularity; zeros if omitted.

    Examples
    --------
    >>> tables = GenreQTables(np.array([0, 0, 1, 0, 2]), ["Drama", "Comedy", "Horror"])
    >>> tables.decompose([1, 2, 3])
    (SubState(genre=0, items=(1, 3), row=5), SubState(genre=1, items=(2,), row=0))
    """

    kind = "genre"

    def __init__(
        self,
        genre_of: npt.ArrayLike,
        genre_names: Sequence[str],
        alpha: float = 0.8,
        gamma: float = 0.4,
        epsilon: float = 0.3,
        storage: str = "dense",
        dtype: npt.DTypeLike = np.float32,
        prior: npt.ArrayLike | None = None,
    ) -> None:
        codes = np.asarray(genre_of)
        names = [str(g) for g in genre_names]
        if codes.ndim != 1 or codes.size == 0 or not np.issubdtype(codes.dtype, np.integer):
            raise ValueError(
                f"genre_of must be a non-empty 1-d integer array (one code per movie), got {codes!r}"
            )
        if not names:
            raise ValueError("genre_names must name at least one genre")
        bad = codes[(codes < 0) | (codes >= len(names))]
        if bad.size:
            raise ValueError(
                f"genre code {int(bad[0])} has no name: codes must be in 0..{len(names) - 1}"
            )
        if len(set(names)) != len(names):
            raise ValueError(f"genre_names must be unique, got {names}")
        self.genre_of = codes.astype(np.int64)
        self.genre_names = names
        self.genre_sizes = np.bincount(self.genre_of, minlength=len(names)).astype(np.int64)
        # Local position of each movie inside its genre, in catalogue order.
        self.local_index = np.zeros(len(codes), dtype=np.int64)
        for g in range(len(names)):
            members = np.flatnonzero(self.genre_of == g)
            self.local_index[members] = np.arange(len(members))
        rows = [int(n + n * (n - 1) // 2) for n in self.genre_sizes]
        super().__init__(len(codes), rows, names, alpha, gamma, epsilon, storage, dtype, prior)
        # Plain lists: indexing them from Python is several times faster than numpy scalars.
        self._genre_list = self.genre_of.tolist()
        self._local_list = self.local_index.tolist()
        self._size_list = self.genre_sizes.tolist()

    @property
    def n_tables(self) -> int:
        return len(self.genre_names)

    def members(self, genre: int) -> np.ndarray:
        """Catalogue indices of a genre's movies, in local order."""
        return np.flatnonzero(self.genre_of == genre)

    def _decompose(self, items: tuple[int, ...]) -> tuple[SubState, ...]:
        genre_of, local, size = self._genre_list, self._local_list, self._size_list
        groups: dict[int, list[int]] = {}
        for m in sorted(items):
            groups.setdefault(genre_of[m], []).append(m)
        out = []
        for g in sorted(groups):
            ms = groups[g]
            if len(ms) == 1:  # a single: row = local position
                out.append(SubState(g, (ms[0],), local[ms[0]]))
                continue
            n_g = size[g]
            # Scenario (b): the one pair; scenario (c): three movies in one genre -> 3C2 pairs.
            if len(ms) == 2:
                pairs = [(ms[0], ms[1])]
            else:
                pairs = [(ms[0], ms[1]), (ms[0], ms[2]), (ms[1], ms[2])]
            for a, b in pairs:
                la, lb = local[a], local[b]  # la < lb: local order follows catalogue order
                out.append(SubState(g, (a, b), n_g + lb * (lb - 1) // 2 + la))
        return tuple(out)

    def _future_value(self, items: tuple[int, ...], clicked: int) -> float:
        # Same result as the generic version (decompose the next state, keep the sub-states
        # holding ``clicked``) without building the decomposition: ``clicked`` is paired with
        # each next-state movie of its genre, or stands alone if there is none.
        genre_of, local = self._genre_list, self._local_list
        g = genre_of[clicked]
        lc = local[clicked]
        mates = [local[m] for m in items[1 - HISTORY_LENGTH :] if genre_of[m] == g]
        row = self._store.row
        if not mates:  # the single {clicked}
            return float(row(g, lc).max())
        n_g = self._size_list[g]
        rows = [
            n_g + (lc * (lc - 1) // 2 + lm if lm < lc else lm * (lm - 1) // 2 + lc) for lm in mates
        ]
        return max(float(row(g, r).max()) for r in rows)

    def scenario(self, state: Iterable[int]) -> str:
        """The talk's scenario of a 3-movie state: ``"a"`` (three genres), ``"b"`` (two share a
        genre) or ``"c"`` (one genre); ``"short"`` for a history of fewer than 3 movies."""
        items = self._check_state(state)
        if len(items) < HISTORY_LENGTH:
            return "short"
        n_genres = len({self._genre_list[m] for m in items})
        return {3: "a", 2: "b", 1: "c"}[n_genres]

    def substate_label(self, substate: SubState, titles: Sequence[str] | None = None) -> str:
        """``"Drama: {Fargo (1996), Contact (1997)}"`` (indices when ``titles`` is omitted)."""
        names = [titles[m] if titles is not None else str(m) for m in substate.items]
        return f"{self.genre_names[substate.genre]}: {{{', '.join(names)}}}"

    def substates_frame(
        self, state: Iterable[int], titles: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """The talk's scenario table for one state: table, sub-state, kind, row."""
        subs = self.decompose(state)
        return pd.DataFrame(
            {
                "table": [self.genre_names[s.genre] for s in subs],
                "sub_state": [
                    ", ".join(titles[m] if titles is not None else str(m) for m in s.items)
                    for s in subs
                ],
                "kind": ["single (nC1)" if len(s.items) == 1 else "pair (nC2)" for s in subs],
                "row": [s.row for s in subs],
                "table_rows": [int(self.table_rows[s.genre]) for s in subs],
            }
        )

    def recommendations_frame(
        self, recs: Recommendations, titles: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """One row per recommended movie: rank, item, title, merged Q-value and its source."""
        labels = []
        for src in recs.source.tolist():
            if src == EXPLORE:
                labels.append("explore")
            elif src == PRIOR:
                labels.append("prior")
            else:
                labels.append(self.substate_label(recs.substates[src], titles))
        frame = pd.DataFrame(
            {
                "rank": np.arange(1, len(recs) + 1),
                "item": recs.items,
                "q_value": recs.q_values,
                "proposed_by": labels,
            }
        )
        if titles is not None:
            frame.insert(2, "title", [titles[m] for m in recs.items])
        return frame

    def _meta(self) -> dict[str, np.ndarray]:
        return {"genre_of": self.genre_of, "genre_names": np.array(self.genre_names, dtype=str)}


# ---------------------------------------------------------------------------------------------
# One full table, for small catalogues (the comparison baseline)
# ---------------------------------------------------------------------------------------------


class FullStateQTable(_TabularQ):
    """One Q-table whose rows are *whole* states: every 1-, 2- and 3-subset of the catalogue.

    Row of a state of size ``m`` = ``sum_{j<m} C(n, j)`` (sizes below ``m``, starting at
    ``j = 1``) + colex rank of the state. This is the table the talk says does not fit for
    627 movies (~102.5 GB); on a small catalogue it is the baseline for the per-genre tables.
    Same recommend / update / save interface as :class:`GenreQTables`, with one table
    (``genre`` 0) and one sub-state per state: the state itself.

    Parameters
    ----------
    n_items : int
        Catalogue size.
    max_bytes : int
        Refuse (``ValueError``) to build a table whose dense size would exceed this.
    alpha, gamma, epsilon, storage, dtype, prior
        As for :class:`GenreQTables`.
    """

    kind = "single"

    def __init__(
        self,
        n_items: int,
        alpha: float = 0.8,
        gamma: float = 0.4,
        epsilon: float = 0.3,
        storage: str = "dense",
        dtype: npt.DTypeLike = np.float32,
        prior: npt.ArrayLike | None = None,
        max_bytes: int = 2 * 10**9,
    ) -> None:
        if isinstance(n_items, bool) or not isinstance(n_items, int | np.integer) or n_items < 1:
            raise ValueError(f"n_items must be a positive integer, got {n_items!r}")
        n = int(n_items)
        self._offsets = [0, 0, n, n + n_combinations(n, 2)]
        rows = self._offsets[3] + n_combinations(n, 3)
        need = rows * n * np.dtype(dtype).itemsize
        if storage == "dense" and need > max_bytes:
            raise ValueError(
                f"one dense Q-table for {n} movies has {rows:,} rows x {n} actions = "
                f"{format_bytes(need)}, above max_bytes={format_bytes(max_bytes)}: this is the "
                "state-space blow-up; use GenreQTables or storage='lazy' or 'sparse'"
            )
        super().__init__(n, [rows], ["all"], alpha, gamma, epsilon, storage, dtype, prior)

    def _decompose(self, items: tuple[int, ...]) -> tuple[SubState, ...]:
        if not items:
            return ()
        key = tuple(sorted(items))
        return (SubState(0, key, self._offsets[len(key)] + rank_combination(key)),)

    def _meta(self) -> dict[str, np.ndarray]:
        return {"n_items": np.array(self.n_items)}


# ---------------------------------------------------------------------------------------------
# Save / load
# ---------------------------------------------------------------------------------------------


def _load(path: Path) -> GenreQTables | FullStateQTable:
    def fail(problem: str) -> ValueError:
        return ValueError(f"cannot load Q-tables from {path.name!r}: {problem}")

    if not path.is_file():
        raise fail("no such file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {key: npz[key] for key in npz.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise fail(f"not a readable .npz file (corrupt or truncated?): {exc}") from exc
    required = ["format", "kind", "storage", "dtype", "hyper", "prior"]
    missing = [key for key in required if key not in data]
    if missing:
        raise fail(f"missing entries {missing}")
    if str(data["format"]) != _FORMAT:
        raise fail(f"unknown format {str(data['format'])!r}, expected {_FORMAT!r}")
    kind, storage = str(data["kind"]), str(data["storage"])
    hyper = data["hyper"]
    if hyper.shape != (3,):
        raise fail(f"hyper must hold alpha, gamma, epsilon, got shape {hyper.shape}")
    prior = data["prior"] if data["prior"].size else None
    try:
        kwargs = dict(
            alpha=hyper[0],
            gamma=hyper[1],
            epsilon=hyper[2],
            storage=storage,
            dtype=np.dtype(str(data["dtype"])),
            prior=prior,
        )
        if kind == "genre":
            if "genre_of" not in data or "genre_names" not in data:
                raise fail("missing entries genre_of / genre_names")
            tables: GenreQTables | FullStateQTable = GenreQTables(
                data["genre_of"], data["genre_names"].tolist(), **kwargs
            )
        elif kind == "single":
            if "n_items" not in data:
                raise fail("missing entry n_items")
            tables = FullStateQTable(int(data["n_items"]), max_bytes=2**62, **kwargs)
        else:
            raise fail(f"unknown kind {kind!r}")
    except ValueError as exc:
        if str(exc).startswith("cannot load"):
            raise
        raise fail(f"invalid metadata: {exc}") from exc
    n_items, dtype = tables.n_items, tables.dtype
    for g, n_rows in enumerate(tables.table_rows.tolist()):
        if storage == "dense":
            arr = data.get(f"table_{g}")
            if arr is None:
                raise fail(f"missing entry table_{g}")
            if arr.shape != (n_rows, n_items) or arr.dtype != dtype:
                raise fail(
                    f"table_{g} has shape {arr.shape} and dtype {arr.dtype}, expected "
                    f"{(n_rows, n_items)} and {dtype}"
                )
            tables._store.tables[g] = arr
        elif storage == "sparse":
            _load_sparse_table(tables, g, data, fail)
        else:
            rows, values = data.get(f"rows_{g}"), data.get(f"values_{g}")
            if rows is None or values is None:
                raise fail(f"missing entries rows_{g} / values_{g}")
            if (
                rows.ndim != 1
                or values.shape != (len(rows), n_items)
                or values.dtype != dtype
                or (rows.size and (rows.min() < 0 or rows.max() >= n_rows))
                or len(np.unique(rows)) != len(rows)
            ):
                raise fail(f"rows_{g} / values_{g} do not describe rows of a {n_rows}-row table")
            store = tables._store
            assert isinstance(store, _LazyStore)
            store.rows[g] = {int(r): values[i].copy() for i, r in enumerate(rows)}
    return tables


def _load_sparse_table(
    tables: GenreQTables | FullStateQTable,
    g: int,
    data: dict[str, np.ndarray],
    fail: Callable[[str], ValueError],
) -> None:
    """Fill table ``g`` of sparse ``tables`` from its CSR entries, after checking them."""
    arrays = [data.get(f"{name}_{g}") for name in ("rows", "indptr", "cols", "vals")]
    if any(a is None for a in arrays):
        raise fail(f"missing entries rows_{g} / indptr_{g} / cols_{g} / vals_{g}")
    rows, indptr, cols, vals = arrays
    n_rows, n_items = int(tables.table_rows[g]), tables.n_items
    valid = (
        rows.ndim == indptr.ndim == cols.ndim == vals.ndim == 1
        and all(np.issubdtype(a.dtype, np.integer) for a in (rows, indptr, cols))
        and vals.dtype == tables.dtype
        and len(indptr) == len(rows) + 1
        and len(cols) == len(vals)
        and (not rows.size or (rows.min() >= 0 and rows.max() < n_rows))
        and len(np.unique(rows)) == len(rows)
        and indptr[0] == 0
        and indptr[-1] == len(cols)
        and bool(np.all(np.diff(indptr) >= 0))
        and (not cols.size or (cols.min() >= 0 and cols.max() < n_items))
    )
    if valid:  # columns strictly increasing inside every row
        steps = np.diff(cols)
        row_starts = indptr[1:-1][(indptr[1:-1] > 0) & (indptr[1:-1] < len(cols))]
        steps[row_starts - 1] = 1  # a row may start below where the previous one ended
        valid = bool(np.all(steps > 0))
    if not valid:
        raise fail(
            f"rows_{g} / indptr_{g} / cols_{g} / vals_{g} do not describe sparse rows of a "
            f"{n_rows}-row, {n_items}-column table"
        )
    store = tables._store
    assert isinstance(store, _SparseStore)
    for i, r in enumerate(rows.tolist()):
        a, b = int(indptr[i]), int(indptr[i + 1])
        entries = np.empty(b - a, dtype=store.entry)
        entries["col"] = cols[a:b]
        entries["val"] = vals[a:b]
        store.rows[g][r] = entries


# ---------------------------------------------------------------------------------------------
# Recommender protocol adapter
# ---------------------------------------------------------------------------------------------


class QTablePolicy(Recommender):
    """The greedy policy of trained tables, as a :class:`~odsc_recsys.protocol.Recommender`.

    ``score(history)`` is the merged Q of the last 3 movies; ``recommend`` never returns the
    state's movies nor ``exclude``. Train the tables with :func:`replay_train`; ``fit`` is a
    no-op so that the object can sit in a list of fitted models.
    """

    def __init__(self, tables: GenreQTables | FullStateQTable, name: str = "q-tables") -> None:
        self.tables = tables
        self.n_items = tables.n_items
        self.name = name

    def fit(self, *args: object, **kwargs: object) -> QTablePolicy:
        return self

    def score(self, history: Iterable[int]) -> np.ndarray:
        hist = as_history(history, self.n_items)
        return self.tables.score(hist[-HISTORY_LENGTH:])

    def recommend(
        self, history: Iterable[int], k: int = 10, exclude: Iterable[int] | None = None
    ) -> np.ndarray:
        hist = as_history(history, self.n_items)
        return self.tables.recommend(hist[-HISTORY_LENGTH:], k=k, exclude=exclude).items

    def recommend_many(self, histories: Sequence[np.ndarray], k: int = 10) -> np.ndarray:
        """Greedy lists for many histories, each excluding its own movies: the compiled batch
        path of :mod:`odsc_recsys.compiled` when it applies (same lists), else a loop."""
        from .compiled import recommend_batch  # imported here: compiled imports this module

        out = recommend_batch(self.tables, list(histories), k)
        return out if out is not None else super().recommend_many(histories, k)


# ---------------------------------------------------------------------------------------------
# Replay training
# ---------------------------------------------------------------------------------------------


def _check_transitions(
    tables: GenreQTables | FullStateQTable, transitions: object
) -> tuple[np.ndarray, np.ndarray]:
    """The checks of :meth:`GenreQTables.update` for every transition at once (vectorised):
    integer movie indices of the catalogue, at most 3 distinct movies per state, a next movie
    that is not in its state. Returns the states and targets as int64 arrays."""
    states = np.asarray(transitions.states)  # type: ignore[attr-defined]
    targets = np.asarray(transitions.targets)  # type: ignore[attr-defined]
    if states.ndim != 2 or targets.ndim != 1 or len(states) != len(targets):
        raise ValueError(
            f"transitions need states of shape (n, 3) and n targets, got {states.shape} and "
            f"{targets.shape}"
        )
    if states.shape[1] > HISTORY_LENGTH:
        raise ValueError(
            f"a state holds at most {HISTORY_LENGTH} movies (the last ones watched), got "
            f"states of {states.shape[1]}"
        )
    n = tables.n_items
    for name, arr in (("state", states), ("next movie", targets)):
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"movie indices must be integers, got {arr.dtype} in the {name}s")
        bad = arr[(arr < 0) | (arr >= n)]
        if bad.size:
            raise ValueError(
                f"unknown movie index {int(bad[0])} in a {name}: catalogue indices run from 0 "
                f"to {n - 1}"
            )
    ordered = np.sort(states, axis=1)
    repeats = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
    if repeats.size:
        state = tuple(states[repeats[0]].tolist())
        raise ValueError(f"a state cannot hold the same movie twice, got {state}")
    clashes = np.flatnonzero((states == targets[:, None]).any(axis=1))
    if clashes.size:
        j = clashes[0]
        raise ValueError(
            f"next movie {int(targets[j])} is already in its state {tuple(states[j].tolist())}"
        )
    return states.astype(np.int64), targets.astype(np.int64)


def state_order(items: Sequence[int], subs: Sequence[SubState]) -> list[SubState]:
    """The sub-states in the original code's order: by the state's order of their movies.

    ``Code/Multiple_table.py`` groups a state's movies by genre in order of first appearance
    (oldest movie first) and, when all three share a genre, forms the pairs as
    ``itertools.combinations`` of the state: (m1, m2), (m1, m3), (m2, m3). Sorting each
    sub-state by the sorted positions of its movies in the state gives that order.

    Examples
    --------
    >>> tables = GenreQTables(np.array([0, 1, 0]), ["Drama", "Comedy"])
    >>> [s.items for s in state_order([1, 2, 0], tables.decompose([1, 2, 0]))]
    [(1,), (0, 2)]
    """
    position = {int(m): i for i, m in enumerate(items)}
    return sorted(subs, key=lambda s: sorted(position[m] for m in s.items))


def check_rules(one_per_substate: object, proposer_only: object, bootstrap_ignored: object) -> None:
    """The three rule switches of :func:`replay_train` must be booleans."""
    for name, value in (("one_per_substate", one_per_substate), ("proposer_only", proposer_only),
                        ("bootstrap_ignored", bootstrap_ignored)):  # fmt: skip
        if not isinstance(value, bool | np.bool_):
            raise ValueError(f"{name} must be True or False, got {value!r}")


def replay_train(
    tables: GenreQTables | FullStateQTable,
    transitions: object,
    epochs: int = 1,
    rng: np.random.Generator | None = None,
    reward: float = 15.0,
    penalty: float = 5.0,
    k: int = 10,
    *,
    one_per_substate: bool = False,
    proposer_only: bool = False,
    bootstrap_ignored: bool = True,
) -> pd.DataFrame:
    """Train the tables by replaying logged transitions, the talk's way.

    For each transition ``(state, next movie)`` in the given order: recommend ``k`` movies
    from the state (epsilon-greedy with ``rng``; greedy when ``rng`` is None); if the movie the
    user really watched next is not in the list, append it; reward it, penalise the rest, and
    update every sub-state (:meth:`GenreQTables.update`). That is the paper's text.

    The logged next movie does not depend on the list: replay is learning from fixed feedback
    with a bootstrapped target, not an agent steering a user.

    Parameters
    ----------
    tables : GenreQTables or FullStateQTable
        Trained in place.
    transitions : object with ``states`` (n, <=3) and ``targets`` (n,) int arrays
        E.g. :class:`odsc_recsys.sessions.Transitions`.
    epochs : int
        Passes over the transitions.
    rng, reward, penalty, k
        Exploration, the clicked movie's reward, the other listed movies' penalty (``-penalty``)
        and the list length.
    one_per_substate : bool
        The original code's list (``RECOMMENDATION_LIST``): each sub-state, in the state's
        order (:func:`state_order`), proposes **one** movie from its own row (exploring with
        probability epsilon), so a list holds at most three movies plus the appended target;
        ``k`` is then not used. Exactly ``2 * 3`` uniform draws per list.
    proposer_only : bool
        The original code's update (``k`` in ``UPDATE_CLICK_Q_VALUE``): each listed movie
        updates only the sub-state that proposed it (with merged lists, the first sub-state in
        the state's order whose row holds the movie's largest Q); the appended target, which
        no sub-state proposed, updates the last sub-state in the state's order.
    bootstrap_ignored : bool
        True (the paper's rule): every listed movie's target is ``r + gamma max Q(s', .)``.
        False (the original code's ``next_max = old_value``, which cancels the term): an
        ignored movie's target is ``-penalty`` alone; the clicked movie keeps its future term.

    Returns
    -------
    pandas.DataFrame
        One row per epoch: ``epoch``, ``transitions``, ``hit_rate`` (share of transitions
        whose next movie was already in the list before appending: an online HR@k under
        exploration) and ``explored`` (share of listed slots that explored).
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    k = _check_k(k)
    reward = _check_finite(reward, "reward")
    penalty = _check_finite(penalty, "penalty")
    check_rules(one_per_substate, proposer_only, bootstrap_ignored)
    as_coded = bool(one_per_substate or proposer_only)
    # Validate everything once, up front, so the loop can use the unchecked fast paths; the
    # loop works on plain Python ints, much cheaper than numpy scalars one at a time.
    states, targets = _check_transitions(tables, transitions)
    state_list = [tuple(s) for s in states.tolist()]
    target_list = targets.tolist()
    out = []
    for epoch in range(1, int(epochs) + 1):
        hits = explored = listed = 0
        for items, target in zip(state_list, target_list, strict=True):
            subs = tables._decompose(items)
            proposers = None
            if as_coded:
                order = state_order(items, subs)
            if one_per_substate:
                chosen, proposers, explore = tables._choose_per_substate(items, order, rng)
            else:
                chosen, explore = tables._choose(items, tables._rows(subs), k, rng, None)
                if proposer_only and subs:
                    proposers = tables._proposers(order, chosen)  # read before any write
            listed += len(chosen)
            if explore is not None:
                explored += sum(explore)
            if target in chosen:
                hits += 1
            else:
                chosen.append(target)  # the movie the user really watched is always updated
                if proposers is not None and subs:
                    proposers.append(order[-1])
            tables._apply_update(items, subs, chosen, target, reward, penalty,
                                 proposers if proposer_only else None,
                                 bootstrap_ignored)  # fmt: skip
        n = len(target_list)
        out.append(epoch_stats(epoch, n, hits, explored, listed))
    return pd.DataFrame(out)


def epoch_stats(epoch: int, n: int, hits: int, explored: int, listed: int) -> dict[str, float]:
    """One row of a replay log: the share of lists that held the next movie before it was
    appended (``hit_rate``) and the share of exploratory slots (``explored``)."""
    return {
        "epoch": epoch,
        "transitions": n,
        "hit_rate": hits / n if n else float("nan"),
        "explored": explored / listed if listed else float("nan"),
    }


# ---------------------------------------------------------------------------------------------
# The paper's multi-genre extension
# ---------------------------------------------------------------------------------------------


def genre_combinations(
    genre_matrix: npt.ArrayLike,
    genre_names: Sequence[str],
    keep: Sequence[str] | None = None,
    max_genres: int = 3,
    fallback: Sequence[str] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Group movies by genre *combination*: the paper's extension to multi-genre movies.

    Each movie keeps its genres that are in ``keep`` (all genres if omitted), the first
    ``max_genres`` of them in column order; its group is that combination, e.g.
    ``"Action|Thriller"``. With 10 genres and ``max_genres=3`` there are at most
    10C1 + 10C2 + 10C3 = 175 groups; only the combinations that occur are returned. Pass the
    codes and names to :class:`GenreQTables` to get one table per combination.

    Parameters
    ----------
    genre_matrix : bool array, shape (n_items, n_genres)
        Which genres each movie carries (e.g. ``Catalog.genre_matrix``).
    genre_names : sequence of str
        Column names of ``genre_matrix``.
    keep : sequence of str, optional
        Genres allowed in a combination (e.g. the paper's 10).
    max_genres : int
        Largest combination size.
    fallback : sequence of str, optional
        Group label per movie for movies with no kept genre (e.g. their primary genre); without
        it such a movie raises ``ValueError``.

    Returns
    -------
    codes : np.ndarray of int64
        Group code of each movie.
    names : list of str
        Group names, ordered by combination size, then by column order.
    """
    m = np.asarray(genre_matrix, dtype=bool)
    names = list(genre_names)
    if m.ndim != 2 or m.shape[1] != len(names):
        raise ValueError(
            f"genre_matrix must be (n_items, {len(names)}) to match genre_names, got {m.shape}"
        )
    if isinstance(max_genres, bool) or not isinstance(max_genres, int) or max_genres < 1:
        raise ValueError(f"max_genres must be a positive integer, got {max_genres!r}")
    allowed = set(names) if keep is None else set(keep)
    unknown = sorted(allowed - set(names))
    if unknown:
        raise ValueError(f"genres {unknown} in keep are not among genre_names {names}")
    keys: list[tuple[int, ...] | str] = []
    for i, row in enumerate(m):
        cols = tuple(j for j in np.flatnonzero(row).tolist() if names[j] in allowed)[:max_genres]
        if cols:
            keys.append(cols)
        elif fallback is not None:
            keys.append(str(fallback[i]))
        else:
            raise ValueError(f"movie {i} has none of the kept genres and no fallback was given")
    # Combinations by size then column order; fallback labels that are not already a
    # combination's name come after them, sorted.
    combos = sorted({k for k in keys if isinstance(k, tuple)}, key=lambda c: (len(c), c))
    labels = ["|".join(names[j] for j in c) for c in combos]
    labels += sorted({k for k in keys if isinstance(k, str)} - set(labels))
    code = {label: idx for idx, label in enumerate(labels)}
    out = np.array(
        [code["|".join(names[j] for j in k) if isinstance(k, tuple) else k] for k in keys],
        dtype=np.int64,
    )
    return out, labels
