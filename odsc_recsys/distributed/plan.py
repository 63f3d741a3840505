"""Which shard owns which genre table: balanced by table size.

Each genre table lives on exactly one shard. :func:`plan_shards` balances the shards by dense
table size (rows x movies x bytes) with the greedy longest-processing-time rule: largest table
first, each to the least-loaded shard. A shard's load is then at most the mean load plus the
largest table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import checks

__all__ = ["ShardPlan", "plan_shards"]


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
        names = list(genre_names) if genre_names is not None else None
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
    sizes = np.asarray(table_bytes)
    if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer):
        raise ValueError(f"table_bytes must be a non-empty 1-d integer array, got {sizes!r}")
    if np.any(sizes < 0):
        raise ValueError(f"table sizes must be non-negative, got {sizes.min()}")
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
    return ShardPlan(tuple(tuple(sorted(m)) for m in members), sizes.astype(np.int64))
