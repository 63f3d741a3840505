"""Which shard owns which genre table: balanced by table size.

Each genre table lives on exactly one shard. :func:`plan_shards` balances the shards by dense
table size (rows x movies x bytes) with the greedy longest-processing-time rule: largest table
first, each to the least-loaded shard. A shard's load is then at most the mean load plus the
largest table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import checks

__all__ = ["ShardPlan", "check_genre_names", "plan_shards"]


@dataclass(frozen=True)
class ShardPlan:
    """Which genre tables each shard owns.

    Attributes
    ----------
    shards : tuple of tuple of int
        The genre codes of each shard, sorted.
    table_bytes : np.ndarray of int64
        Dense size of each genre table, the balancing weight.
    """

    shards: tuple[tuple[int, ...], ...]
    table_bytes: np.ndarray

    def __post_init__(self) -> None:
        # Every table on exactly one shard, no shard empty: the plan the driver relies on.
        sizes = _table_bytes(self.table_bytes)
        shards = [checks.indices(f"shards[{s}]", genres, len(sizes), unique=True)
                  for s, genres in enumerate(checks.nonempty("shards", self.shards))]  # fmt: skip
        if any(len(genres) == 0 for genres in shards):
            raise ValueError(f"shards must be non-empty sequences of table numbers, got "
                             f"{self.shards!r}")  # fmt: skip
        owned = np.concatenate(shards)
        if len(np.unique(owned)) != len(owned) or len(owned) != len(sizes):
            missing = sorted(set(range(len(sizes))) - set(owned.tolist()))
            raise ValueError(
                f"shards must hold every table 0..{len(sizes) - 1} exactly once, got "
                f"{self.shards!r}" + (f" (missing {missing})" if missing else " (a repeat)")
            )
        object.__setattr__(self, "shards", tuple(tuple(g.tolist()) for g in shards))
        object.__setattr__(self, "table_bytes", sizes)

    @property
    def n_shards(self) -> int:
        return len(self.shards)

    @property
    def loads(self) -> np.ndarray:
        """Bytes of dense tables per shard."""
        return np.array([int(self.table_bytes[list(s)].sum()) for s in self.shards], np.int64)

    @property
    def owner(self) -> np.ndarray:
        """The shard of each genre table."""
        out = np.full(len(self.table_bytes), -1, dtype=np.int64)
        for s, genres in enumerate(self.shards):
            out[list(genres)] = s
        return out

    @property
    def imbalance(self) -> float:
        """Largest shard load over the mean load (1.0 is perfect balance)."""
        loads = self.loads
        return float(loads.max() / loads.mean()) if loads.mean() > 0 else 1.0

    def frame(self, genre_names: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per shard: its tables and their total dense size."""
        names = None if genre_names is None else check_genre_names(genre_names, len(self.table_bytes))
        return pd.DataFrame(
            {
                "shard": np.arange(self.n_shards),
                "tables": [len(s) for s in self.shards],
                "genres": [
                    ", ".join(names[g] if names else str(g) for g in s) for s in self.shards
                ],
                "MB": self.loads / 1e6,
                "share": self.loads / max(int(self.loads.sum()), 1),
            }
        ).set_index("shard")


def plan_shards(table_bytes: npt.ArrayLike, n_shards: int) -> ShardPlan:
    """Assign every table to exactly one shard, balancing the shards' total table size.

    Greedy longest-processing-time: tables in decreasing size (ties by lower code), each to
    the shard with the smallest load so far (ties: fewer tables, then lower shard index).
    Every shard gets a table when there are at least as many tables as shards; the largest
    load is at most ``mean load + largest table`` (and at most 4/3 of the best possible).

    Parameters
    ----------
    table_bytes : array of int, shape (n_tables,)
        Size of each table (any non-negative weight).
    n_shards : int
        Number of shards, at least 1 and at most the number of tables.
    """
    sizes = _table_bytes(table_bytes)
    n = checks.positive_int("n_shards", n_shards)
    assert n is not None
    if n > sizes.size:
        raise ValueError(
            f"n_shards must be between 1 and the number of tables ({sizes.size}), got {n_shards!r}"
        )
    weights = sizes.astype(np.int64).tolist()
    loads = [0] * n
    members: list[list[int]] = [[] for _ in range(n)]
    for g in sorted(range(len(weights)), key=lambda g: (-weights[g], g)):
        s = min(range(n), key=lambda s: (loads[s], len(members[s]), s))
        loads[s] += weights[g]
        members[s].append(g)
    return ShardPlan(tuple(tuple(sorted(m)) for m in members), sizes)


def _table_bytes(table_bytes: npt.ArrayLike) -> np.ndarray:
    """The table sizes as int64, or a ``ValueError`` naming the bad value."""
    sizes = np.asarray(table_bytes)
    if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer):
        raise ValueError(f"table_bytes must be a non-empty 1-d integer array, got {sizes!r}")
    if np.any(sizes < 0):
        first = int(np.flatnonzero(sizes < 0)[0])
        raise ValueError(f"table_bytes must be non-negative, got {sizes[first].item()!r} at "
                         f"position {first}")  # fmt: skip
    if sizes.dtype.kind == "u" and sizes.max() > np.iinfo(np.int64).max:  # would wrap negative
        raise ValueError(f"table_bytes must fit in int64, got {sizes.max().item()!r}")
    return sizes.astype(np.int64)


def check_genre_names(genre_names: Sequence[str], n_tables: int) -> list[str]:
    """One name per table, or a ``ValueError`` (a single string is not a list of names)."""
    if isinstance(genre_names, str | bytes) or not isinstance(genre_names, Iterable):
        raise ValueError(f"genre_names must be a sequence of {n_tables} names, got "
                         f"{genre_names!r}")  # fmt: skip
    names = [str(name) for name in genre_names]
    if len(names) != n_tables:
        raise ValueError(f"genre_names must name the plan's {n_tables} tables, got "
                         f"{len(names)}: {names!r}")  # fmt: skip
    return names
