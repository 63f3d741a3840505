"""Where a state's sub-states live: tables, rows and global row ids.

The talk's answer to the state-space blow-up keeps **one Q-table per genre**:

* **rows** of genre ``g``'s table are its sub-states: first its ``n_g`` single movies (nC1),
  then its ``C(n_g, 2)`` pairs (nC2). Within a genre the movies get local positions
  ``0 .. n_g - 1`` in catalogue order; the single ``{i}`` is row ``local(i)`` and the pair
  ``{i, j}`` is row ``n_g + pair_rank(local(i), local(j))``, the colex rank of
  :func:`odsc_recsys.state_space.pair_rank`, computed in O(1);
* **columns** are every catalogue movie: any table may recommend any movie.

A state ``(m1, m2, m3)`` splits by genre into sub-states, the talk's three scenarios:
(a) three genres -> three singles; (b) two share a genre -> their pair and the other's single;
(c) one genre -> the 3C2 = 3 pairs. Shorter histories group the movies present the same way.
Sub-states come ordered by table (genre code), then by their movies.

Row ``r`` of table ``g`` also has a **global id** ``offsets[g] + r``, so that one integer array
addresses rows of every table: the compiled kernels and the Dask shards work on global ids.
This module is the one place that turns movies into rows, for single states (readable code),
for whole batches (vectorised numpy) and for :class:`FullStateLayout`, the one-table baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from .. import checks
from ..state_space import n_combinations, pair_rank, rank_combination

__all__ = [
    "HISTORY_LENGTH",
    "FullStateLayout",
    "GenreLayout",
    "SubState",
    "genre_combinations",
]

#: The state is the last ``HISTORY_LENGTH`` movies.
HISTORY_LENGTH = 3


class SubState(NamedTuple):
    """One sub-state of a state: a row of one table.

    Attributes
    ----------
    genre : int
        The table: a genre code (or genre-combination code; ``0`` for the one full table).
    items : tuple of int
        Its movies (catalogue indices, increasing): one (nC1 row) or two (nC2 row).
    row : int
        Its row in that table.
    """

    genre: int
    items: tuple[int, ...]
    row: int


class GenreLayout:
    """The rows of the per-genre tables, computed from each movie's genre alone.

    Parameters
    ----------
    genre_of : array of int, shape (n_items,)
        Genre code of each catalogue movie.
    genre_names : sequence of str
        Name of each code; a genre without movies gets an empty table.
    """

    def __init__(self, genre_of: npt.ArrayLike, genre_names: Sequence[str]) -> None:
        codes = np.asarray(genre_of)
        if isinstance(genre_names, str) or not all(isinstance(g, str) for g in genre_names):
            # a string would name one genre per letter
            raise ValueError(f"genre_names must be a list of strings, got {genre_names!r}")
        names = list(genre_names)
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
        self.n_items = len(codes)
        self.genre_of = codes.astype(np.int64)
        self.genre_names = names
        self.genre_sizes = np.bincount(self.genre_of, minlength=len(names)).astype(np.int64)
        # Local position of each movie inside its genre, in catalogue order.
        self.local_index = np.zeros(len(codes), dtype=np.int64)
        for g in range(len(names)):
            members = np.flatnonzero(self.genre_of == g)
            self.local_index[members] = np.arange(len(members))
        self.table_rows = self.genre_sizes + self.genre_sizes * (self.genre_sizes - 1) // 2
        self.offsets = np.concatenate(([0], np.cumsum(self.table_rows))).astype(np.int64)
        # Plain lists: indexing them from Python is several times faster than numpy scalars.
        self._genre = self.genre_of.tolist()
        self._local = self.local_index.tolist()
        self._size = self.genre_sizes.tolist()
        self._offset = self.offsets.tolist()

    @property
    def n_tables(self) -> int:
        return len(self.genre_names)

    @property
    def n_rows(self) -> int:
        """Rows over all tables."""
        return int(self.offsets[-1])

    def members(self, genre: int) -> np.ndarray:
        """Catalogue indices of a genre's movies, in local order."""
        return np.flatnonzero(self.genre_of == genre)

    # ---- one state at a time (plain Python: the readable code's hot loop) -----------------

    def decompose(self, items: Sequence[int]) -> tuple[SubState, ...]:
        """The sub-states of a valid state (at most 3 distinct catalogue indices)."""
        genre_of, local, size = self._genre, self._local, self._size
        groups: dict[int, list[int]] = {}
        for m in sorted(items):
            groups.setdefault(genre_of[m], []).append(m)
        out = []
        for g in sorted(groups):
            ms = groups[g]
            if len(ms) == 1:  # a single: row = local position
                out.append(SubState(g, (ms[0],), local[ms[0]]))
                continue
            # Scenario (b): the one pair; scenario (c): three movies in one genre -> 3C2 pairs.
            pairs = [(ms[0], ms[1])] if len(ms) == 2 else [(ms[0], ms[1]), (ms[0], ms[2]), (ms[1], ms[2])]  # fmt: skip
            for a, b in pairs:  # local order follows catalogue order: local[a] < local[b]
                out.append(SubState(g, (a, b), size[g] + pair_rank(local[a], local[b])))
        return tuple(out)

    def future_rows(self, items: Sequence[int], clicked: int) -> tuple[int, list[int]]:
        """The table and rows of the sub-states ``s'`` of the next state
        ``(items + clicked)[-3:]`` that contain ``clicked``: its single, or its pair with each
        next-state movie of its genre. The same as decomposing the next state and keeping the
        sub-states that hold ``clicked``, without building the decomposition."""
        genre_of, local = self._genre, self._local
        g, lc = genre_of[clicked], local[clicked]
        mates = [local[m] for m in tuple(items)[1 - HISTORY_LENGTH :] if genre_of[m] == g]
        if not mates:
            return g, [lc]
        n_g = self._size[g]
        return g, [n_g + pair_rank(min(lm, lc), max(lm, lc)) for lm in mates]

    def substate_ids(self, items: Sequence[int]) -> list[int]:
        """Global ids of a valid state's sub-states, in :meth:`decompose` order."""
        offset = self._offset
        return [offset[s.genre] + s.row for s in self.decompose(items)]

    def future_ids(self, items: Sequence[int], clicked: int) -> list[int]:
        """Global ids of :meth:`future_rows`."""
        g, rows = self.future_rows(items, clicked)
        return [self._offset[g] + r for r in rows]

    def genre_of_ids(self, ids: npt.ArrayLike) -> np.ndarray:
        """The table (genre code) of each global row id."""
        return np.searchsorted(self.offsets, np.asarray(ids), side="right") - 1

    # ---- whole batches at once (same results as the methods above) -------------------------

    def _pair_ids(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Global ids of the pairs ``{x[i], y[i]}`` (same genre, different movies)."""
        g = self.genre_of[x]
        lx, ly = self.local_index[x], self.local_index[y]
        return self.offsets[g] + self.genre_sizes[g] + pair_rank(np.minimum(lx, ly), np.maximum(lx, ly))  # fmt: skip

    def substates_batch(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every sub-state of an ``(n, 3)`` array of valid states, in :meth:`decompose` order.

        Returns
        -------
        ids, first, second : np.ndarray of int64, shape (n, 3)
            Global row id and movies of each sub-state (``second`` is -1 for a single), padded
            with -1 where a state has fewer than 3 sub-states.
        """
        states = np.asarray(states, dtype=np.int64)
        a, b, c = np.sort(states, axis=1).T
        ga, gb, gc = self.genre_of[a], self.genre_of[b], self.genre_of[c]
        single = self.offsets[self.genre_of] + self.local_index  # per movie
        pad = np.full(len(states), -1, dtype=np.int64)
        ab, bc, ac = ga == gb, gb == gc, ga == gc
        one_genre, shared = ab & bc, ab | ac | bc
        # Scenario (a): three singles; (b): the pair of the two that share a genre and the
        # single of the third; (c): the three pairs (a, b), (a, c), (b, c).
        ids = np.stack([
            np.where(ab, self._pair_ids(a, b), np.where(ac, self._pair_ids(a, c), single[a])),
            np.where(one_genre, self._pair_ids(a, c), np.where(
                ab | ac, single[np.where(ab, c, b)], np.where(bc, self._pair_ids(b, c), single[b]))),
            np.where(one_genre, self._pair_ids(b, c), np.where(shared, pad, single[c])),
        ], axis=1)  # fmt: skip
        first = np.stack([a, np.where(one_genre, a, np.where(ab, c, b)), np.where(shared & ~one_genre, pad, np.where(one_genre, b, c))], axis=1)  # fmt: skip
        second = np.stack([
            np.where(ab, b, np.where(ac, c, pad)),
            np.where(one_genre, c, np.where(bc & ~ab, c, pad)),
            np.where(one_genre, c, pad),
        ], axis=1)  # fmt: skip
        # Order by genre (decompose's order); the pairs of scenario (c) keep their order.
        keys = np.stack([ga, np.where(one_genre, ga, np.where(ab, gc, gb)),
                         np.where(ids[:, 2] >= 0, gc, np.iinfo(np.int64).max)], axis=1)  # fmt: skip
        order = np.argsort(keys, axis=1, kind="stable")
        return tuple(np.take_along_axis(x, order, axis=1) for x in (ids, first, second))  # type: ignore[return-value]

    def substate_ids_batch(self, states: np.ndarray) -> np.ndarray:
        """:meth:`substate_ids` of every row of an ``(n, w)`` array of valid states, as an
        ``(n, 3)`` array padded with -1."""
        states = np.asarray(states, dtype=np.int64)
        if states.shape[1] == HISTORY_LENGTH:
            return self.substates_batch(states)[0]
        out = np.full((len(states), HISTORY_LENGTH), -1, dtype=np.int64)
        for j, items in enumerate(states.tolist()):  # short states are rare: the readable path
            ids = self.substate_ids(items)
            out[j, : len(ids)] = ids
        return out

    def substates_seen(
        self, train_states: np.ndarray, states: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Whether each state's sub-states occur among the sub-states of ``train_states``.

        A per-genre row is trained only if some training state holds its sub-state, so this
        is the sub-state version of :func:`odsc_recsys.sessions.states_seen_in`: how much of
        a test set the training data covers. Movie order within a state does not matter.

        Parameters
        ----------
        train_states, states : array of int, shape (n, w)
            Valid states, one per row (e.g. ``Transitions.states``).

        Returns
        -------
        all_seen, any_seen : np.ndarray of bool, shape (len(states),)
            Every sub-state of the state occurs in training; at least one does.
        """
        trained = self.substate_ids_batch(train_states)
        ids = self.substate_ids_batch(states)
        seen = np.isin(ids, trained[trained >= 0])  # the -1 padding is never seen
        return (seen | (ids < 0)).all(axis=1), seen.any(axis=1)

    def future_ids_batch(self, states: np.ndarray, clicked: np.ndarray) -> np.ndarray:
        """:meth:`future_ids` of every transition, as an ``(n, 2)`` array padded with -1."""
        states = np.asarray(states, dtype=np.int64)
        clicked = np.asarray(clicked, dtype=np.int64)
        g = self.genre_of[clicked]
        mates = states[:, max(states.shape[1] - (HISTORY_LENGTH - 1), 0) :]
        out = np.full((len(clicked), 2), -1, dtype=np.int64)
        out[:, 0] = self.offsets[g] + self.local_index[clicked]
        filled = np.zeros(len(clicked), dtype=np.int64)
        for col in range(mates.shape[1]):
            m = mates[:, col]
            is_mate = self.genre_of[m] == g
            out[is_mate, filled[is_mate]] = self._pair_ids(m, clicked)[is_mate]
            filled += is_mate
        return out


class FullStateLayout:
    """One table whose rows are *whole* states: every 1-, 2- and 3-subset of the catalogue.

    Row of a state of size ``m`` = ``sum_{j<m} C(n, j)`` (sizes below ``m``, from ``j = 1``) +
    the colex rank of the state. This is the table the talk says does not fit for 627 movies.
    """

    genre_names = ("all",)
    n_tables = 1

    def __init__(self, n_items: int) -> None:
        n = checks.positive_int("n_items", n_items)
        assert n is not None
        self.n_items = n
        self._start = [0, 0, n, n + n_combinations(n, 2)]
        self.table_rows = np.array([self._start[3] + n_combinations(n, 3)], dtype=np.int64)
        self.offsets = np.array([0, int(self.table_rows[0])], dtype=np.int64)

    @property
    def n_rows(self) -> int:
        return int(self.table_rows[0])

    def decompose(self, items: Sequence[int]) -> tuple[SubState, ...]:
        """The one sub-state of a valid non-empty state: the state itself."""
        if not items:
            return ()
        key = tuple(sorted(items))
        return (SubState(0, key, self._start[len(key)] + rank_combination(key)),)

    def future_rows(self, items: Sequence[int], clicked: int) -> tuple[int, list[int]]:
        """The row of the next state ``(items + clicked)[-3:]``, which holds ``clicked``."""
        (s,) = self.decompose((tuple(items) + (clicked,))[-HISTORY_LENGTH:])
        return 0, [s.row]


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
    max_genres = checks.positive_int("max_genres", max_genres)  # type: ignore[assignment]
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
