"""The original implementation's way of finding sub-states, for the benchmark's speed ratio.

The talk's code kept, per genre, Python lists of every 1- and 2-combination of the genre's
movies (``itertools.combinations``), found a movie's genre by scanning each genre's column of
movies, and found a sub-state's row with ``list.index`` over those lists, trying every
permutation of the sub-state. The genre scan goes through a pandas data frame with one column per
genre, converting each column to a list as the original did. This module replays training with exactly that look-up and
otherwise the same algorithm as :func:`odsc_recsys.qtables.replay_train` (same merge,
ties, exploration draws and TD update), so the benchmark can check that it produces the same
tables and time it on the same transitions. It is slow on purpose; do not use it.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from odsc_recsys.qtables import GenreQTables
from odsc_recsys.qtables.policy import choose


class NaiveLookup:
    """Sub-state rows by linear search, as the original code did."""

    def __init__(self, tables: GenreQTables) -> None:
        self.tables = tables
        # a data frame with one column of movie ids per genre (padded with NaN), as the
        # original built from its CSV; a movie's genre is found by scanning the columns
        columns = {g: pd.Series(tables.members(g)) for g in range(tables.n_tables)}
        self.genre_data = pd.DataFrame(columns)
        self.genre_columns = [list(tables.members(g)) for g in range(tables.n_tables)]
        # per genre: [list of 1-combinations, list of 2-combinations], in the same order as rows
        self.state_space = []
        for g in range(tables.n_tables):
            members = self.genre_columns[g]
            singles = list(itertools.combinations(members, 1))
            # colex order of pairs, so that list positions equal the tables' row numbers
            pairs = sorted(itertools.combinations(members, 2), key=lambda p: (p[1], p[0]))
            self.state_space.append([singles, pairs])

    def genre_of(self, movie: int) -> int:
        for g in self.genre_data.columns:  # the original: `if S[i] in list(genre_data[col])`
            if movie in list(self.genre_data[g]):
                return int(g)
        raise ValueError(f"movie {movie} has no genre")

    def row_of(self, genre: int, movies: tuple[int, ...]) -> int:
        singles, pairs = self.state_space[genre]
        space = singles if len(movies) == 1 else pairs
        for candidate in itertools.permutations(movies):
            if candidate in space:
                row = space.index(candidate)
                return row if len(movies) == 1 else len(singles) + row
        raise ValueError(f"{movies} not found")

    def decompose(self, items: tuple[int, ...]) -> list[tuple[int, tuple[int, ...], int]]:
        groups: dict[int, list[int]] = {}
        for m in sorted(items):
            groups.setdefault(self.genre_of(m), []).append(m)
        out = []
        for g in sorted(groups):
            ms = groups[g]
            subs = [tuple(ms)] if len(ms) < 3 else list(itertools.combinations(ms, 2))
            out.extend((g, s, self.row_of(g, s)) for s in subs)
        return out


def naive_replay(
    tables: GenreQTables,
    states: np.ndarray,
    targets: np.ndarray,
    rng: np.random.Generator | None,
    reward: float = 15.0,
    penalty: float = 5.0,
    k: int = 10,
) -> None:
    """One epoch of replay training with the naive look-up (trains ``tables`` in place)."""
    lookup = NaiveLookup(tables)
    store = tables.store
    for state, target in zip(states.tolist(), targets.tolist(), strict=True):
        items = tuple(state)
        subs = lookup.decompose(items)
        rows = [store.row(g, r) for g, _, r in subs]
        listed, _ = choose(tables.merged(rows), items, k, tables.epsilon, rng)
        chosen = np.array(listed, dtype=np.int64)
        actions = chosen if target in chosen.tolist() else np.append(chosen, target)
        nxt = (items + (target,))[-3:]
        future = max(
            float(store.row(g, r).max()) for g, s, r in lookup.decompose(nxt) if target in s
        )
        values = np.where(actions == target, reward, -penalty) + tables.gamma * future
        for g, _, r in subs:
            row = store.writable_row(g, r)
            old = row[actions]
            row[actions] = old + tables.alpha * (values - old)
