"""Per-genre Q-tables sharded across Dask workers: the talk's distributed Q-table, distributed.

:class:`~odsc_recsys.multi_table.GenreQTables` splits one impossible table into one table per
genre, all in one process. When the catalogue or the traffic outgrows one machine, the next
step is to put those tables on different machines. This module does that on **Dask
distributed**: a :class:`QTableShard` (a Dask actor) owns a set of genre tables, and a driver,
:class:`DistributedQTables`, trains and serves through the shards. Without an address it
starts a ``LocalCluster`` (worker processes on this machine); with a scheduler address the same
code runs on any Dask cluster.

**Sharding.** Each genre table lives on exactly one shard. :func:`plan_shards` balances the
shards by dense table size (rows x movies x bytes) with the greedy longest-processing-time rule:
largest table first, each to the least-loaded shard. A shard's load is then at most the mean
load plus the largest table. Rows get *global ids*: table ``g``'s row ``r`` is
``offsets[g] + r`` (:class:`SubStateIndex`), so one integer array addresses rows of any table.

**Why batches.** One actor call costs a few milliseconds (the network round trip and Dask's
bookkeeping), as long as tens (readable) to hundreds (compiled) of transitions of
single-process training. A call per transition would make training that many times slower, so
work moves in **synchronous rounds** of ``B`` transitions. In round ``r`` the driver

1. decomposes every state and next state of the round (it knows ``genre_of``, so this is
   local and cheap);
2. asks each shard, in **one call**, for the rows of the round's current sub-states that it
   owns and for ``max_a' Q(s', a')`` of the next sub-states that it owns, both read at the
   start of the round;
3. merges each transition's rows into its list exactly as ``GenreQTables`` does (largest Q per
   movie, ties by lower index, the state's movies never listed), explores epsilon-greedily with
   the driver's one ``numpy.random.Generator`` (the same ``2k`` uniforms per list in the same
   order as :func:`~odsc_recsys.multi_table.replay_train`), appends the clicked movie and
   computes the targets ``r + gamma * max_a' Q(s', a')``;
4. sends each shard the updates of its own rows, in transition order.

The updates of round ``r`` travel in the same call as the reads of round ``r + 1``: the shard
applies them first, then reads. So a round costs **one call per shard**. The arithmetic is
``GenreQTables``'s (float64 targets, ``old + alpha * (target - old)`` cast to the table dtype),
and within a shard the updates are applied in transition order.

**Staleness.** With ``B = 1`` every read sees every earlier update: the tables equal
``replay_train``'s bit for bit. With ``B > 1`` the lists and the bootstrap targets of a round
are read at its start, so they miss the updates of the same round's earlier transitions: they
are stale by at most one round. The updates themselves are never lost; two transitions of a
round that share a row both update it, in order.

**Reliability.** Every ``checkpoint_every`` rounds each shard writes its tables to a folder
every worker can reach (one ``.npz`` per genre, written atomically), and the driver then
records that round in ``checkpoint.json``. The driver also keeps the update batches it sent
since that checkpoint: a write-ahead log. When a call fails because its worker died, the
driver re-creates the shard on a live worker (the nanny's replacement, if one comes), restores
its tables from the last checkpoint, replays the logged rounds after it, and retries the call.
Shards are idempotent per round (a round already applied is not applied again), so retries are
safe, and the result equals an uninterrupted run exactly. Committed rounds (acknowledged by
every shard) are never lost; the round in flight is replayed. ``close()`` (or leaving the
``with`` block) shuts the client and the local cluster down.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import shutil
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
import pandas as pd

from .atomic import atomic_savez
from .metrics import PAD, metrics_row
from .multi_table import GenreQTables, QTablePolicy, epoch_stats
from .plotting import _ax
from .protocol import as_history
from .state_space import format_bytes

__all__ = [
    "DistributedPolicy",
    "DistributedQTables",
    "QTableShard",
    "Reads",
    "ShardPlan",
    "SubStateIndex",
    "TrainStats",
    "Updates",
    "REQUEST_CHUNK",
    "plan_shards",
    "plot_round_size_shift",
    "plot_round_size_sweep",
    "plot_shard_plans",
    "plot_sharding",
    "round_size_sweep",
]

#: A state is the last ``HISTORY_LENGTH`` movies (as in :mod:`odsc_recsys.multi_table`).
HISTORY_LENGTH = 3
_MANIFEST = "checkpoint.json"
_MANIFEST_FORMAT = "odsc_recsys.qshards/1"
STORAGES = ("dense", "lazy")
#: Requests served per fan-out: :meth:`DistributedQTables.recommend_batch` (and so
#: :meth:`DistributedQTables.evaluate`) asks each shard it needs once per this many requests.
REQUEST_CHUNK = 4096


# ---------------------------------------------------------------------------------------------
# Global row ids of the sub-states (driver side)
# ---------------------------------------------------------------------------------------------


class SubStateIndex:
    """Global row ids of the per-genre tables' sub-states, computed from ``genre_of`` alone.

    Table ``g``'s row ``r`` (the layout of :class:`~odsc_recsys.multi_table.GenreQTables`:
    singles, then pairs in colex order) gets the global id ``offsets[g] + r``. The driver uses
    this to address rows of any table with one integer array, and to know which shard owns a
    row without asking anyone.

    Parameters
    ----------
    layout : GenreQTables
        Tables whose layout (``genre_of``, ``local_index``, ``genre_sizes``, ``table_rows``)
        to index; their values are not used.
    """

    def __init__(self, layout: GenreQTables) -> None:
        self.table_rows = layout.table_rows.copy()
        self.offsets = np.concatenate(([0], np.cumsum(self.table_rows))).astype(np.int64)
        self.genre_of = layout.genre_of.astype(np.int64)
        self.local_index = layout.local_index.astype(np.int64)
        self.genre_sizes = layout.genre_sizes.astype(np.int64)
        # Plain lists: indexing them from Python is several times faster than numpy scalars.
        self._genre = layout.genre_of.tolist()
        self._local = layout.local_index.tolist()
        self._size = layout.genre_sizes.tolist()
        self._offset = self.offsets.tolist()

    @property
    def n_rows(self) -> int:
        """Rows over all tables."""
        return int(self.offsets[-1])

    def substate_ids(self, items: Sequence[int]) -> list[int]:
        """Global ids of a state's sub-states, in ``GenreQTables.decompose`` order (by genre,
        then by movies). ``items`` must be valid: at most 3 distinct catalogue indices."""
        genre, local, size, offset = self._genre, self._local, self._size, self._offset
        groups: dict[int, list[int]] = {}
        for m in sorted(items):
            groups.setdefault(genre[m], []).append(m)
        out = []
        for g in sorted(groups):
            ms, base = groups[g], offset[g]
            if len(ms) == 1:  # a single: row = local position
                out.append(base + local[ms[0]])
                continue
            # Scenario (b): the one pair; scenario (c): three movies in one genre -> 3C2 pairs.
            pairs = [(ms[0], ms[1])] if len(ms) == 2 else [(ms[0], ms[1]), (ms[0], ms[2]), (ms[1], ms[2])]  # fmt: skip
            for a, b in pairs:
                la, lb = local[a], local[b]  # la < lb: local order follows catalogue order
                out.append(base + size[g] + lb * (lb - 1) // 2 + la)
        return out

    def future_ids(self, items: Sequence[int], clicked: int) -> list[int]:
        """Global ids of the sub-states ``s'`` of the next state ``(items + clicked)[-3:]`` that
        contain ``clicked``: its single, or its pair with each next-state movie of its genre."""
        genre, local = self._genre, self._local
        g, lc, base = genre[clicked], local[clicked], self._offset[genre[clicked]]
        mates = [local[m] for m in tuple(items)[1 - HISTORY_LENGTH :] if genre[m] == g]
        if not mates:
            return [base + lc]
        n_g = self._size[g]
        return [
            base + n_g + (lc * (lc - 1) // 2 + lm if lm < lc else lm * (lm - 1) // 2 + lc)
            for lm in mates
        ]

    def genre_of_ids(self, ids: npt.ArrayLike) -> np.ndarray:
        """The table (genre code) of each global row id."""
        return np.searchsorted(self.offsets, np.asarray(ids), side="right") - 1

    # ---- whole batches at once (same results as the methods above) ----------------------

    def _pair_ids(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Global ids of the pairs ``{x[i], y[i]}`` (same genre, different movies)."""
        g = self.genre_of[x]
        lx, ly = self.local_index[x], self.local_index[y]
        lo, hi = np.minimum(lx, ly), np.maximum(lx, ly)
        return self.offsets[g] + self.genre_sizes[g] + hi * (hi - 1) // 2 + lo

    def substate_ids_batch(self, states: np.ndarray) -> np.ndarray:
        """:meth:`substate_ids` of every row of an ``(n, w)`` array of valid states, as an
        ``(n, 3)`` array padded with -1."""
        states = np.asarray(states, dtype=np.int64)
        n, width = states.shape
        if width != HISTORY_LENGTH:  # short states are rare: the readable path
            out = np.full((n, HISTORY_LENGTH), -1, dtype=np.int64)
            for j, items in enumerate(states.tolist()):
                ids = self.substate_ids(items)
                out[j, : len(ids)] = ids
            return out
        a, b, c = np.sort(states, axis=1).T
        ga, gb, gc = self.genre_of[a], self.genre_of[b], self.genre_of[c]
        single = self.offsets[self.genre_of] + self.local_index  # per movie
        pad = np.full(n, -1, dtype=np.int64)
        ab, bc, ac = ga == gb, gb == gc, ga == gc
        # Scenario (a): three singles; (b): the pair of the two that share a genre and the
        # single of the third; (c): the three pairs (a, b), (a, c), (b, c).
        first = np.where(ab, self._pair_ids(a, b), np.where(ac, self._pair_ids(a, c), single[a]))
        second = np.where(
            ab & bc,
            self._pair_ids(a, c),
            np.where(
                ab | ac, single[np.where(ab, c, b)], np.where(bc, self._pair_ids(b, c), single[b])
            ),  # fmt: skip
        )
        third = np.where(ab & bc, self._pair_ids(b, c), np.where(ab | ac | bc, pad, single[c]))
        ids = np.stack([first, second, third], axis=1)
        # Order by genre (GenreQTables.decompose); the pairs of scenario (c) keep their order.
        key_first = ga
        key_second = np.where(ab & bc, ga, np.where(ab, gc, np.where(ac, gb, gb)))
        key_third = np.where(third >= 0, gc, np.iinfo(np.int64).max)
        keys = np.stack([key_first, key_second, key_third], axis=1)
        return np.take_along_axis(ids, np.argsort(keys, axis=1, kind="stable"), axis=1)

    def future_ids_batch(self, states: np.ndarray, clicked: np.ndarray) -> np.ndarray:
        """:meth:`future_ids` of every transition, as an ``(n, 2)`` array padded with -1."""
        states = np.asarray(states, dtype=np.int64)
        clicked = np.asarray(clicked, dtype=np.int64)
        g = self.genre_of[clicked]
        single = self.offsets[g] + self.local_index[clicked]
        mates = states[:, max(states.shape[1] - (HISTORY_LENGTH - 1), 0) :]
        out = np.full((len(clicked), 2), -1, dtype=np.int64)
        out[:, 0] = single
        filled = np.zeros(len(clicked), dtype=np.int64)
        for col in range(mates.shape[1]):
            m = mates[:, col]
            is_mate = self.genre_of[m] == g
            pair = self._pair_ids(m, clicked)
            out[is_mate, filled[is_mate]] = pair[is_mate]
            filled += is_mate
        return out


# ---------------------------------------------------------------------------------------------
# Shard planning: balanced by table size
# ---------------------------------------------------------------------------------------------


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
    if isinstance(n_shards, bool) or not isinstance(n_shards, int | np.integer):
        raise ValueError(f"n_shards must be a positive integer, got {n_shards!r}")
    if not 1 <= n_shards <= sizes.size:
        raise ValueError(
            f"n_shards must be between 1 and the number of tables ({sizes.size}), got {n_shards}"
        )
    weights = sizes.astype(np.int64).tolist()
    loads = [0] * int(n_shards)
    members: list[list[int]] = [[] for _ in range(int(n_shards))]
    for g in sorted(range(len(weights)), key=lambda g: (-weights[g], g)):
        s = min(range(len(loads)), key=lambda s: (loads[s], len(members[s]), s))
        loads[s] += weights[g]
        members[s].append(g)
    return ShardPlan(tuple(tuple(sorted(m)) for m in members), sizes.astype(np.int64))


def _genre_colours(n_tables: int) -> Callable[[int], Any]:
    cmap = plt.get_cmap("tab10" if n_tables <= 10 else "tab20")
    return lambda g: cmap(g % cmap.N)


def plot_sharding(
    plan: ShardPlan, genre_names: Sequence[str], ax: plt.Axes | None = None
) -> plt.Axes:
    """A stacked bar per shard: the genre tables it owns, by dense size (MB).

    A genre's name is written on its segment when it fits there, measured with the figure's
    renderer: draw the axes at their final size (:func:`plot_shard_plans` does), since a later
    ``tight_layout`` would move them. The genres too small to name, and the dashed mean load,
    are in a legend beside the bars; every genre keeps its colour across plans.
    """
    names = list(genre_names)
    if len(names) != len(plan.table_bytes):
        raise ValueError(
            f"genre_names must name the plan's {len(plan.table_bytes)} tables, got {len(names)}"
        )
    if ax is None:
        return plot_shard_plans([plan], names).axes[0]
    colour = _genre_colours(len(names))
    fig = ax.figure
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax.set_xlim(0, plan.loads.max() / 1e6 * 1.02)
    ax.set_ylim(plan.n_shards - 0.5, -0.5)  # shard 0 on top
    mean = plan.loads.mean() / 1e6
    unnamed = []
    for s, genres in enumerate(plan.shards):
        left = 0.0
        for g in sorted(genres, key=lambda g: (-int(plan.table_bytes[g]), g)):
            width = plan.table_bytes[g] / 1e6
            ax.barh(s, width, left=left, height=0.75, color=colour(g), edgecolor="white")
            # the name goes on the segment (on its larger side when the mean-load line
            # crosses it) if it fits there, else in the legend
            x0, x1 = left, left + width
            if x0 < mean < x1:
                x0, x1 = max((x0, mean), (mean, x1), key=lambda x: x[1] - x[0])
            label = ax.text((x0 + x1) / 2, s, names[g], ha="center", va="center")
            px0, px1 = ax.transData.transform([(x0, s), (x1, s)])[:, 0]
            if label.get_window_extent(renderer).width > 0.92 * (px1 - px0):
                label.remove()
                unnamed.append(g)
            left += width
    ax.axvline(mean, color="black", linestyle="--", linewidth=1.5)
    ax.set_yticks(range(plan.n_shards), [f"shard {s}" for s in range(plan.n_shards)])
    ax.set_xlabel("dense table size (MB)")
    handles = [plt.Line2D([], [], color="black", linestyle="--", linewidth=1.5, label="mean load")]
    handles += [plt.Rectangle((0, 0), 1, 1, color=colour(g), label=names[g]) for g in unnamed]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return ax


def plot_shard_plans(
    plans: Sequence[ShardPlan], genre_names: Sequence[str], titles: Sequence[str] | None = None
) -> plt.Figure:
    """One :func:`plot_sharding` panel per plan, stacked, at a size a projector can show.

    The panels are placed by hand (in inches), so no ``tight_layout`` is needed or wanted.
    """
    plans = list(plans)
    if not plans:
        raise ValueError("plans must hold at least one ShardPlan")
    titles = [f"{p.n_shards} workers" for p in plans] if titles is None else list(titles)
    if len(titles) != len(plans):
        raise ValueError(f"{len(titles)} titles for {len(plans)} plans")
    width, left, right = 10.0, 1.0, 1.9  # inches; the right margin holds the legends
    above, below, per_shard = 0.4, 0.65, 0.5
    heights = [per_shard * p.n_shards for p in plans]
    total = sum(heights) + len(plans) * (above + below)
    fig = plt.figure(figsize=(width, total))
    top = total
    for plan, title, h in zip(plans, titles, heights, strict=True):
        top -= above
        rect = (left / width, (top - h) / total, (width - left - right) / width, h / total)
        ax = fig.add_axes(rect)
        plot_sharding(plan, genre_names, ax=ax)
        ax.set_title(title)
        top -= h + below
    return fig


def _check_sweep(sweep: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise unless ``sweep`` (a frame from :func:`round_size_sweep`) has ``columns``."""
    missing = [c for c in columns if c not in sweep.columns]
    if missing:
        raise ValueError(f"the sweep has no column(s) {missing}; is it from round_size_sweep?")


def _round_size_ticks(ax: plt.Axes, sizes: Sequence[int]) -> None:
    """A log x-axis labelled at the round sizes themselves (1,024 rather than 10^3)."""
    ax.set_xscale("log")
    ax.set_xticks([int(b) for b in sizes], [f"{int(b):,}" for b in sizes])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_xlim(min(sizes) / 2.5, max(sizes) * 2.5)


def round_size_sweep(
    genre_of: npt.ArrayLike,
    genre_names: Sequence[str],
    train: Any,
    test: Any,
    round_sizes: Sequence[int],
    seeds: Sequence[int],
    *,
    k: int = 10,
    catalog: Any = None,
    histories: dict[int, np.ndarray] | None = None,
    alpha: float = 0.8,
    gamma: float = 0.4,
    epsilon: float = 0.3,
) -> pd.DataFrame:
    """Train one epoch for every seed and round size ``B``, and evaluate each greedy policy.

    ``B = 1`` is :func:`~odsc_recsys.multi_table.replay_train` itself, run by its compiled twin
    (bit for bit the same, and the fastest); the other sizes run the round protocol in
    process (``DistributedQTables(..., in_process=True)``: the tables do not depend on where
    the shards run). Every run of one seed draws from ``np.random.default_rng(seed)``, so the
    runs of a seed differ only in their round size: compare round sizes seed by seed.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``seed``, ``B``, ``rounds``, ``train_hit_rate``, ``seconds`` (of
        training; a timing), then the columns of :func:`odsc_recsys.metrics.evaluate`.
    """
    from .compiled import replay_train_fast  # numba only when a sweep runs
    from .metrics import evaluate

    if not len(round_sizes) or any(
        isinstance(b, bool) or not isinstance(b, int | np.integer) or b < 1 for b in round_sizes
    ):
        raise ValueError(f"round_sizes must be positive integers, got {list(round_sizes)!r}")
    sizes = [int(b) for b in round_sizes]
    if not len(seeds):
        raise ValueError("seeds must hold at least one seed")
    hyper = {"alpha": alpha, "gamma": gamma, "epsilon": epsilon}
    rows = []
    for seed in seeds:
        for b in sizes:
            start = time.perf_counter()
            if b == 1:
                tables = GenreQTables(genre_of, genre_names, **hyper)
                log = replay_train_fast(tables, train, rng=np.random.default_rng(seed), k=k)
                seconds, rounds = time.perf_counter() - start, len(train.targets) * len(log)
                row = evaluate(tables.as_recommender(), test, k, catalog, histories, "B = 1")
            else:
                with DistributedQTables(genre_of, genre_names, in_process=True, **hyper) as local:
                    log = local.train(train, rng=np.random.default_rng(seed), round_size=b, k=k)
                    seconds, rounds = time.perf_counter() - start, local.stats.rounds
                    row = local.evaluate(test, k, catalog, histories, f"B = {b}")
            first = {"seed": int(seed), "B": b, "rounds": rounds,
                     "train_hit_rate": float(log["hit_rate"].iloc[0]), "seconds": seconds}  # fmt: skip
            rows.append({**first, **row.iloc[0].to_dict()})
    return pd.DataFrame(rows)


def plot_round_size_sweep(
    sweep: pd.DataFrame, metrics: Sequence[str] = ("HR@10", "NDCG@10"), ax: plt.Axes | None = None
) -> plt.Axes:
    """Each metric against the round size: every seed as a dot, the mean over seeds with an
    error bar of one standard deviation (a frame from :func:`round_size_sweep`)."""
    _check_sweep(sweep, ("seed", "B", *metrics))
    ax = _ax(ax, (8, 4.5))
    n_seeds = sweep["seed"].nunique()
    for i, metric in enumerate(metrics):
        colour = plt.get_cmap("tab10")(i)
        by_b = sweep.groupby("B")[metric]
        mean, sd = by_b.mean(), by_b.std(ddof=1).fillna(0.0)  # one seed: no spread, sd 0
        ax.scatter(sweep["B"], sweep[metric], color=colour, alpha=0.35, s=25, linewidths=0)
        ax.errorbar(mean.index, mean, yerr=sd, color=colour, marker="o", capsize=5,
                    label=f"{metric} (test)")  # fmt: skip
    _round_size_ticks(ax, sorted(sweep["B"].unique()))
    ax.set_xlabel("round size B (transitions per round, log scale)")
    ax.set_ylabel("metric")
    ax.set_title(f"Test metrics: {n_seeds} seeds (dots), mean ± sd")
    ax.legend(loc="upper left")
    return ax


def plot_round_size_shift(
    sweep: pd.DataFrame, metric: str = "HR@10", baseline: int = 1, ax: plt.Axes | None = None
) -> plt.Axes:
    """Each seed's ``metric`` minus the same seed's run at round size ``baseline``: the paired
    view of a :func:`round_size_sweep`, where a shift that keeps its sign over the seeds is
    not noise of the exploration draws."""
    _check_sweep(sweep, ("seed", "B", metric))
    wide = sweep.pivot(index="seed", columns="B", values=metric)
    if baseline not in wide.columns:
        raise ValueError(f"baseline round size {baseline} is not in the sweep: {list(wide.columns)}")
    shift = wide.sub(wide[baseline], axis=0).drop(columns=baseline)
    ax = _ax(ax, (8, 4.5))
    colour = plt.get_cmap("tab10")(0)
    for b in shift.columns:
        ax.scatter([b] * len(shift), shift[b], color=colour, alpha=0.5, s=40, linewidths=0)
    ax.plot(shift.columns, shift.mean(), color=colour, marker="o", label="mean over seeds")
    ax.axhline(0.0, color="black", linewidth=1)
    _round_size_ticks(ax, list(shift.columns))
    ax.set_xlabel("round size B (log scale)")
    ax.set_ylabel(f"{metric} minus the seed's B = {baseline}")
    ax.set_title(f"Paired by seed: {len(shift)} seeds (dots)")
    ax.legend(loc="upper left")
    return ax


# ---------------------------------------------------------------------------------------------
# Messages between the driver and the shards
# ---------------------------------------------------------------------------------------------


class Reads(NamedTuple):
    """What a shard must read for one round.

    ``ids`` are the sorted unique global row ids of the round's current sub-states it owns (it
    returns those rows); ``future`` is ``(n, 2)``: per transition whose next sub-states it
    owns, their one or two global ids (``-1`` pads); it returns the max over those rows.
    """

    ids: np.ndarray
    future: np.ndarray


class Updates(NamedTuple):
    """A shard's updates for one round, applied in order.

    Entry ``i`` updates row ``ids[i]`` with transition ``entry_tx[i]``'s actions and targets:
    ``actions[offsets[t]:offsets[t + 1]]`` and ``targets[offsets[t]:offsets[t + 1]]``.
    """

    ids: np.ndarray
    entry_tx: np.ndarray
    offsets: np.ndarray
    actions: np.ndarray
    targets: np.ndarray


def _payload_bytes(obj: object) -> int:
    """Bytes of array data in a message (numbers and framing not counted)."""
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, tuple | list):
        return sum(_payload_bytes(x) for x in obj)
    if isinstance(obj, dict):
        return sum(_payload_bytes(x) for x in obj.values())
    return 0


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _round_dir(checkpoint_dir: str | os.PathLike, round_: int) -> Path:
    return Path(checkpoint_dir) / f"round-{round_:08d}"


# ---------------------------------------------------------------------------------------------
# The shard: a Dask actor holding some genre tables
# ---------------------------------------------------------------------------------------------


class _DenseRows:
    """The owned tables as one array, one after the other; ``tables[g]`` is a view of table
    ``g`` and ``base[g]`` its first row in ``flat``."""

    def __init__(self, rows: dict[int, int], n_items: int, dtype: np.dtype) -> None:
        self.flat = np.zeros((sum(rows.values()), n_items), dtype=dtype)
        self.base, self.tables, start = {}, {}, 0
        for g, n in rows.items():
            self.base[g], self.tables[g] = start, self.flat[start : start + n]
            start += n

    def gather(self, g: int, rows: np.ndarray) -> np.ndarray:
        return self.tables[g][rows]

    def row_max(self, g: int, rows: np.ndarray) -> np.ndarray:
        return self.tables[g][rows].max(axis=1)

    def writable(self, g: int, r: int) -> np.ndarray:
        return self.tables[g][r]

    def written(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.flatnonzero(np.any(self.tables[g] != 0, axis=1))
        return rows, self.tables[g][rows]

    def put(self, g: int, rows: np.ndarray, values: np.ndarray) -> None:
        self.tables[g][rows] = values

    def table(self, g: int) -> np.ndarray:
        return self.tables[g].copy()

    @property
    def nbytes(self) -> int:
        return int(self.flat.nbytes)


class _LazyRows:
    """Each owned table as a dict ``row -> array``; a row is allocated when first written."""

    def __init__(self, rows: dict[int, int], n_items: int, dtype: np.dtype) -> None:
        self.n_rows = dict(rows)
        self.rows: dict[int, dict[int, np.ndarray]] = {g: {} for g in rows}
        self.n_items, self.dtype = n_items, dtype
        self._zeros = np.zeros(n_items, dtype=dtype)

    def gather(self, g: int, rows: np.ndarray) -> np.ndarray:
        table, zeros = self.rows[g], self._zeros
        out = np.empty((len(rows), self.n_items), dtype=self.dtype)
        for i, r in enumerate(rows.tolist()):
            out[i] = table.get(r, zeros)
        return out

    def row_max(self, g: int, rows: np.ndarray) -> np.ndarray:
        table = self.rows[g]
        return np.array(
            [table[r].max() if r in table else 0 for r in rows.tolist()], dtype=self.dtype
        )

    def writable(self, g: int, r: int) -> np.ndarray:
        row = self.rows[g].get(r)
        if row is None:
            row = self.rows[g][r] = np.zeros(self.n_items, dtype=self.dtype)
        return row

    def written(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.array(sorted(self.rows[g]), dtype=np.int64)
        if not len(rows):
            return rows, np.zeros((0, self.n_items), dtype=self.dtype)
        return rows, np.stack([self.rows[g][r] for r in rows.tolist()])

    def put(self, g: int, rows: np.ndarray, values: np.ndarray) -> None:
        for r, v in zip(rows.tolist(), values, strict=True):
            self.rows[g][r] = v.copy()

    def table(self, g: int) -> np.ndarray:
        out = np.zeros((self.n_rows[g], self.n_items), dtype=self.dtype)
        for r, v in self.rows[g].items():
            out[r] = v
        return out

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for t in self.rows.values() for v in t.values())


class QTableShard:
    """The genre tables one worker owns. Created as a Dask actor by :class:`DistributedQTables`
    (it also works as a plain object, which is how ``in_process=True`` runs).

    Parameters
    ----------
    genres : sequence of int
        The genre codes (tables) this shard owns.
    offsets : array of int, shape (n_tables + 1,)
        Global row id of each table's first row (:attr:`SubStateIndex.offsets`).
    n_items : int
        Columns: every catalogue movie.
    alpha : float
        Learning rate of the updates.
    dtype, storage
        As for :class:`~odsc_recsys.multi_table.GenreQTables`.
    checkpoint_dir : str, optional
        Folder for checkpoints, reachable from this worker.
    restore_round : int
        If positive, load the tables saved at that round in ``checkpoint_dir``.
    """

    def __init__(
        self,
        genres: Sequence[int],
        offsets: npt.ArrayLike,
        n_items: int,
        alpha: float,
        dtype: str = "float32",
        storage: str = "dense",
        checkpoint_dir: str | None = None,
        restore_round: int = 0,
    ) -> None:
        self.genres = tuple(int(g) for g in genres)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.n_items = int(n_items)
        self.alpha = float(alpha)
        self.dtype = np.dtype(dtype)
        self.checkpoint_dir = checkpoint_dir
        rows = {g: int(self.offsets[g + 1] - self.offsets[g]) for g in self.genres}
        store = _DenseRows if storage == "dense" else _LazyRows
        self.store: _DenseRows | _LazyRows = store(rows, self.n_items, self.dtype)
        #: The last round whose updates this shard applied.
        self.applied_round = 0
        if restore_round > 0:
            self._restore(int(restore_round))

    # ---- addressing -----------------------------------------------------------------------

    def _locate(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(genre, local row) of global row ids; refuses rows of tables it does not own."""
        genres = np.searchsorted(self.offsets, ids, side="right") - 1
        if ids.size and not np.isin(genres, self.genres).all():
            bad = int(genres[~np.isin(genres, self.genres)][0])
            raise ValueError(f"table {bad} is not on this shard (it owns {self.genres})")
        return genres, ids - self.offsets[genres]

    # ---- the round protocol ---------------------------------------------------------------

    def step(
        self,
        apply_round: int | None,
        updates: Updates | None,
        reads: Reads | None,
        checkpoint: bool = False,
    ) -> dict[str, Any]:
        """One call of the round protocol: apply round ``apply_round``'s updates (skipped if
        that round was already applied), checkpoint if asked, then read.

        Returns a dict with ``rows`` (the requested rows), ``future`` (float64 maxima),
        ``applied_round`` and ``seconds`` (time spent here, for the benchmark).
        """
        start = time.perf_counter()
        if apply_round is not None:
            self._apply_round(int(apply_round), updates)
        if checkpoint:
            self._save()
        out: dict[str, Any] = {"applied_round": self.applied_round}
        if reads is not None:
            out["rows"] = self._read_rows(reads.ids)
            out["future"] = self._read_future(reads.future)
        out["seconds"] = time.perf_counter() - start
        return out

    def replay(self, batches: Sequence[tuple[int, Updates | None]]) -> int:
        """Apply logged rounds in order (those already applied are skipped); returns the last
        applied round."""
        for round_, updates in batches:
            self._apply_round(int(round_), updates)
        return self.applied_round

    def _apply_round(self, round_: int, updates: Updates | None) -> None:
        if round_ <= self.applied_round:  # a retried call: already applied, keep idempotent
            return
        if round_ != self.applied_round + 1:
            raise RuntimeError(
                f"shard {self.genres} at round {self.applied_round} received round {round_}: "
                "the rounds in between must be replayed first"
            )
        if updates is not None and len(updates.ids):
            if isinstance(self.store, _DenseRows):
                self._apply_dense(updates)
            else:
                self._apply_in_order(updates)
        self.applied_round = round_

    def _apply_in_order(self, updates: Updates) -> None:
        """The updates one entry at a time, in order (the reference semantics)."""
        genres, rows = self._locate(updates.ids)
        offsets = updates.offsets.tolist()
        actions, targets, alpha = updates.actions, updates.targets, self.alpha
        writable = self.store.writable
        for g, r, t in zip(genres.tolist(), rows.tolist(), updates.entry_tx.tolist(), strict=True):  # fmt: skip
            a, b = offsets[t], offsets[t + 1]
            row = writable(g, r)
            # As GenreQTables: float64 arithmetic, cast to the table dtype on assignment.
            old = row[actions[a:b]]
            row[actions[a:b]] = old + alpha * (targets[a:b] - old)

    def _apply_dense(self, updates: Updates) -> None:
        """The same updates, vectorised in *waves*: wave ``w`` holds every row's ``w``-th
        update of the round. A wave's rows are distinct (and a list never repeats a movie), so
        its (row, movie) cells are distinct and one fancy-indexed update does them all; the
        waves run in order, so each row sees its updates in the order they were sent."""
        store = self.store
        assert isinstance(store, _DenseRows)
        ids = updates.ids
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        run_start = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
        run_of = np.repeat(run_start, np.diff(np.r_[run_start, len(ids)]))
        wave = np.empty(len(ids), dtype=np.int64)
        wave[order] = np.arange(len(ids)) - run_of  # how many earlier updates of the same row
        genres, rows = self._locate(ids)
        flat_rows = np.array([store.base[g] for g in genres.tolist()], dtype=np.int64) + rows
        # One cell per (entry, listed movie): its row, the movie's position in the message.
        lengths = np.diff(updates.offsets)[updates.entry_tx]
        first = np.r_[0, np.cumsum(lengths)[:-1]]
        cells = np.repeat(updates.offsets[updates.entry_tx] - first, lengths) + np.arange(
            int(lengths.sum())
        )
        cell_rows = np.repeat(flat_rows, lengths)
        by_wave = np.argsort(np.repeat(wave, lengths), kind="stable")
        bounds = np.searchsorted(np.repeat(wave, lengths)[by_wave], np.arange(wave.max() + 2))
        actions, targets, table = updates.actions[cells], updates.targets[cells], store.flat
        for w in range(len(bounds) - 1):
            sel = by_wave[bounds[w] : bounds[w + 1]]
            r, a = cell_rows[sel], actions[sel]
            old = table[r, a]
            # As GenreQTables: float64 arithmetic, cast to the table dtype on assignment.
            table[r, a] = old + self.alpha * (targets[sel] - old)

    def _read_rows(self, ids: np.ndarray) -> np.ndarray:
        out = np.empty((len(ids), self.n_items), dtype=self.dtype)
        if not len(ids):
            return out
        genres, rows = self._locate(ids)
        for g in np.unique(genres).tolist():
            sel = genres == g
            out[sel] = self.store.gather(g, rows[sel])
        return out

    def _row_max(self, ids: np.ndarray) -> np.ndarray:
        out = np.empty(len(ids), dtype=self.dtype)
        genres, rows = self._locate(ids)
        for g in np.unique(genres).tolist():
            sel = genres == g
            out[sel] = self.store.row_max(g, rows[sel])
        return out

    def _read_future(self, future: np.ndarray) -> np.ndarray:
        """max over each transition's one or two next sub-state rows, as float64."""
        best = self._row_max(future[:, 0]).astype(np.float64)
        second = future[:, 1] >= 0
        if second.any():
            best[second] = np.maximum(best[second], self._row_max(future[second, 1]))
        return best

    # ---- checkpoints ----------------------------------------------------------------------

    def _save(self) -> None:
        if self.checkpoint_dir is None:
            raise RuntimeError("this shard has no checkpoint_dir")
        folder = _round_dir(self.checkpoint_dir, self.applied_round)
        folder.mkdir(parents=True, exist_ok=True)
        for g in self.genres:
            rows, values = self.store.written(g)
            atomic_savez(folder / f"genre-{g:03d}.npz", rows=rows, values=values)

    def _restore(self, round_: int) -> None:
        if self.checkpoint_dir is None:
            raise RuntimeError("cannot restore a shard without checkpoint_dir")
        folder = _round_dir(self.checkpoint_dir, round_)
        for g in self.genres:
            path = folder / f"genre-{g:03d}.npz"
            try:
                with np.load(path, allow_pickle=False) as npz:
                    rows, values = npz["rows"], npz["values"]
            except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
                raise RuntimeError(f"cannot restore table {g} from {path}: {exc}") from exc
            n_rows = int(self.offsets[g + 1] - self.offsets[g])
            if (
                rows.ndim != 1
                or values.shape != (len(rows), self.n_items)
                or values.dtype != self.dtype
                or (rows.size and (rows.min() < 0 or rows.max() >= n_rows))
            ):
                raise RuntimeError(f"checkpoint {path} does not fit table {g}")
            self.store.put(g, rows, values)
        self.applied_round = round_

    # ---- inspection -----------------------------------------------------------------------

    def table(self, genre: int) -> np.ndarray:
        """A dense copy of one owned table."""
        return self.store.table(int(genre))

    def written(self, genre: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows of one owned table that hold values, and their values."""
        return self.store.written(int(genre))

    def describe(self) -> dict[str, Any]:
        """Owned genres, rows, memory, last applied round and the process id."""
        return {
            "genres": self.genres,
            "rows": int(sum(self.offsets[g + 1] - self.offsets[g] for g in self.genres)),
            "nbytes": int(self.store.nbytes),
            "applied_round": self.applied_round,
            "pid": os.getpid(),
        }


# ---------------------------------------------------------------------------------------------
# List building, with GenreQTables's documented semantics
# ---------------------------------------------------------------------------------------------


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best indices by decreasing score, ties by lower index (a stable argsort's
    first ``k``), in O(n + k log k) with a partition."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    neg = -scores
    if k >= len(neg):
        return np.argsort(neg, kind="stable")[:k]
    v = np.partition(neg, k - 1)[k - 1]
    better = (neg < v).nonzero()[0]
    if len(better) > 1:
        better = better[np.argsort(neg[better], kind="stable")]
    ties = (neg == v).nonzero()[0][: k - len(better)]
    return np.concatenate((better, ties))


def _top_k_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """:func:`_top_k` of every row of a matrix at once, ``(n_rows, k)``; ``k`` must be below
    the row length.

    The ``k``-th best value ``v`` of each row comes from a partition; a row keeps every entry
    strictly better than ``v`` and its lowest-indexed ties with ``v``, exactly ``k`` in all;
    those are then sorted by value, stably, so ties stay in index order.
    """
    n_rows = scores.shape[0]
    if k <= 0 or n_rows == 0:
        return np.zeros((n_rows, max(k, 0)), dtype=np.int64)
    neg = -scores
    kth = np.partition(neg, k - 1, axis=1)[:, k - 1 : k]
    better = neg < kth
    ties = neg == kth
    room = k - better.sum(axis=1, keepdims=True)
    take = better | (ties & (np.cumsum(ties, axis=1, dtype=np.int32) <= room))
    cols = np.nonzero(take)[1].reshape(n_rows, k)  # row-major: each row's picks, by index
    order = np.argsort(np.take_along_axis(neg, cols, axis=1), axis=1, kind="stable")
    return np.take_along_axis(cols, order, axis=1).astype(np.int64)


def _explore_rows(
    greedy: np.ndarray, states: np.ndarray, u: np.ndarray, n_items: int, epsilon: float
) -> tuple[np.ndarray, np.ndarray]:
    """Epsilon-greedy lists from greedy orders ``(n, k)`` and uniforms ``u`` ``(n, 2k)``.

    GenreQTables's rule, slot by slot for all lists at once: slot ``p`` explores when
    ``u[p] < epsilon`` and takes the ``floor(u[k + p] * n_free)``-th (in catalogue order) movie
    that is neither in the state nor already listed; otherwise it takes the best greedy movie
    not yet listed. Returns the lists and the mask of explored slots.
    """
    n, k = greedy.shape
    explore = u[:, :k] < epsilon
    picks = u[:, k:]
    width = states.shape[1]
    # Each list's blocked movies, kept sorted; unused places hold a sentinel above any index.
    blocked = np.full((n, width + k), np.iinfo(np.int64).max, dtype=np.int64)
    blocked[:, :width] = np.sort(states, axis=1)
    chosen = np.empty((n, k), dtype=np.int64)
    cursor = np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    for p in range(k):
        n_blocked = width + p
        n_free = n_items - n_blocked
        # Exploring: the r-th free movie. Walk the sorted blocked movies, stepping over each
        # one at or below the candidate (a blocked movie above it cannot matter any more).
        item = np.minimum((picks[:, p] * n_free).astype(np.int64), n_free - 1)
        for col in range(n_blocked):
            item += blocked[:, col] <= item
        # Greedy: the next greedy movie that no exploring slot has taken already.
        greedy_slot = ~explore[:, p]
        cur = cursor.copy()
        cand = greedy[rows, np.minimum(cur, k - 1)]
        need = greedy_slot & (chosen[:, :p] == cand[:, None]).any(axis=1)
        while need.any():
            cur[need] += 1
            cand[need] = greedy[rows[need], np.minimum(cur[need], k - 1)]
            need = greedy_slot & (chosen[:, :p] == cand[:, None]).any(axis=1)
        item = np.where(greedy_slot, cand, item)
        cursor = np.where(greedy_slot, cur + 1, cursor)
        chosen[:, p] = item
        blocked[:, n_blocked] = item
        blocked[:, : n_blocked + 1].sort(axis=1)
    return chosen, explore


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------


@dataclass
class TrainStats:
    """What the last :meth:`DistributedQTables.train` call cost.

    Counts and bytes are deterministic; the ``*_seconds`` fields are timings. Bytes count the
    array data of the messages (Dask's framing and headers come on top).
    """

    rounds: int = 0
    transitions: int = 0
    calls: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    rows_read: int = 0
    updates: int = 0
    recoveries: int = 0
    replayed_rounds: int = 0
    seconds: float = 0.0
    driver_seconds: float = 0.0
    shard_seconds: list[float] = field(default_factory=list)
    shard_calls: list[int] = field(default_factory=list)
    shard_rows_read: list[int] = field(default_factory=list)
    shard_updates: list[int] = field(default_factory=list)
    shard_bytes: list[int] = field(default_factory=list)

    @property
    def transitions_per_second(self) -> float:
        return self.transitions / self.seconds if self.seconds > 0 else float("nan")

    def per_round(self) -> dict[str, float]:
        """Calls, bytes, rows read and updates per round (deterministic)."""
        n = max(self.rounds, 1)
        return {
            "rounds": self.rounds,
            "calls/round": self.calls / n,
            "kB sent/round": self.bytes_sent / n / 1e3,
            "kB received/round": self.bytes_received / n / 1e3,
            "rows read/round": self.rows_read / n,
            "row updates/round": self.updates / n,
        }

    def per_shard(self) -> pd.DataFrame:
        """How the work split across shards: rows read, row updates, bytes, busy seconds."""
        return pd.DataFrame(
            {
                "rows read": self.shard_rows_read,
                "row updates": self.shard_updates,
                "MB moved": np.array(self.shard_bytes) / 1e6,
                "busy seconds": self.shard_seconds,
            },
            index=pd.Index(range(len(self.shard_updates)), name="shard"),
        )


class _RowBank:
    """The rows one round read from the shards, looked up by global row id."""

    def __init__(
        self, reads: dict[int, Reads], results: dict[int, Any], n_items: int, dtype: np.dtype
    ) -> None:
        parts = [s for s in sorted(reads) if len(reads[s].ids)]
        pad = np.full((1, n_items), -np.inf, dtype=dtype)  # the row of a missing sub-state
        self.rows = np.concatenate([results[s]["rows"] for s in parts] + [pad])
        ids = np.concatenate([reads[s].ids for s in parts] + [np.zeros(0, dtype=np.int64)])
        self.order = np.argsort(ids, kind="stable")
        self.sorted_ids = ids[self.order]

    def merged(self, sub: np.ndarray) -> np.ndarray:
        """Each state's sub-state rows merged by max (in the table dtype): ``(len(sub),
        n_items)`` for ``sub`` of shape ``(n, 3)``, -1 padded. No sub-state: a row of -inf."""
        pos = np.full(sub.shape, len(self.rows) - 1, dtype=np.int64)
        present = sub >= 0
        pos[present] = self.order[np.searchsorted(self.sorted_ids, sub[present])]
        merged = self.rows[pos[:, 0]]
        for slot in range(1, sub.shape[1]):
            np.maximum(merged, self.rows[pos[:, slot]], out=merged)
        return merged


class _Prepared(NamedTuple):
    """A batch of transitions decomposed once by the driver."""

    states: np.ndarray  # (n, w) movies
    targets: np.ndarray  # (n,) the movie watched next
    sub: np.ndarray  # (n, 3) global row ids of the current sub-states, -1 padded
    sub_shard: np.ndarray  # (n, 3) their shards, -1 padded
    future: np.ndarray  # (n, 2) global row ids of the next sub-states holding the target
    future_shard: np.ndarray  # (n,) their shard


#: Transitions whose lists the driver builds at once (bounds the merged rows' memory).
_CHUNK = 4096

_WORKER_LOST: tuple[type[BaseException], ...] = (OSError, CancelledError)
# Dask raises asyncio's TimeoutError, the built-in one from Python 3.11 on.
_TIMEOUTS: tuple[type[BaseException], ...] = (TimeoutError, asyncio.TimeoutError)


class _ShardLost(Exception):
    """A shard's worker died or stopped answering."""


class DistributedQTables:
    """Per-genre Q-tables sharded across Dask workers, trained in synchronous rounds.

    The same model as :class:`~odsc_recsys.multi_table.GenreQTables` (same rows, same
    recommend and update rules; see the module docstring for the round protocol), with each
    genre table owned by one worker.

    Parameters
    ----------
    genre_of, genre_names
        As for :class:`~odsc_recsys.multi_table.GenreQTables`.
    n_workers : int
        Worker processes of the ``LocalCluster`` started when ``address`` is None (one thread
        each); with ``in_process=True``, the default number of shards. Ignored with an
        ``address``.
    address : str, optional
        Scheduler address of an existing Dask cluster, e.g. ``"tcp://10.0.0.5:8786"``.
    n_shards : int, optional
        Number of shards; default one per worker (at most one per table).
    in_process : bool
        Run the shards as plain objects in this process, without Dask: the same round
        protocol without the network, for tests and for measuring what the network costs.
    alpha, gamma, epsilon, storage, dtype, prior
        As for :class:`~odsc_recsys.multi_table.GenreQTables`.
    checkpoint_every : int, optional
        Checkpoint the shards every this many rounds (and at the end of :meth:`train`).
        Without checkpoints a lost shard is rebuilt by replaying every round since the start.
    checkpoint_dir : str or path, optional
        Folder for checkpoints, readable and writable by every worker (a shared file system
        on a real cluster). Default: a temporary folder, removed by :meth:`close` (local
        clusters only).
    resume : bool
        Restore the tables from the last checkpoint in ``checkpoint_dir`` instead of starting
        from zeros.
    connect_timeout : float
        Seconds to wait for the scheduler at ``address``.
    call_timeout : float
        Seconds to wait for one shard call before treating its worker as lost.
    dashboard_address : str, optional
        Where the local cluster serves the Dask dashboard (e.g. ``":0"`` for a free port);
        None turns it off. The dashboard needs the ``bokeh`` package.
    direct_to_workers : bool
        Call the shards on their workers directly (about half the latency of going through
        the scheduler, and a lost worker is noticed at once). Set False when this machine can
        reach only the scheduler of a remote cluster.

    Examples
    --------
    >>> with DistributedQTables(genre_of, genre_names, n_workers=2) as dq:  # doctest: +SKIP
    ...     dq.train(split.train, rng=np.random.default_rng(0), round_size=256)
    ...     dq.recommend([10, 20, 30], k=10)
    """

    def __init__(
        self,
        genre_of: npt.ArrayLike,
        genre_names: Sequence[str],
        *,
        n_workers: int = 2,
        address: str | None = None,
        n_shards: int | None = None,
        in_process: bool = False,
        alpha: float = 0.8,
        gamma: float = 0.4,
        epsilon: float = 0.3,
        storage: str = "dense",
        dtype: npt.DTypeLike = np.float32,
        prior: npt.ArrayLike | None = None,
        checkpoint_every: int | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        resume: bool = False,
        connect_timeout: float = 10.0,
        call_timeout: float = 120.0,
        dashboard_address: str | None = None,
        direct_to_workers: bool = True,
    ) -> None:
        self._client: Any = None
        self._cluster: Any = None
        self._own_dir: str | None = None
        self._closed = False
        # The layout (and every input check) is GenreQTables's; "lazy" so that it holds no
        # Q-values: the values live on the shards.
        if storage not in STORAGES:
            raise ValueError(f"storage must be one of {STORAGES}, got {storage!r}")
        self.layout = GenreQTables(
            genre_of, genre_names, alpha, gamma, epsilon, "lazy", dtype, prior
        )
        self.storage = storage
        self.index = SubStateIndex(self.layout)
        self.n_items = self.layout.n_items
        self.alpha, self.gamma, self.epsilon = (
            self.layout.alpha,
            self.layout.gamma,
            self.layout.epsilon,
        )
        self.dtype = self.layout.dtype
        self.prior = self.layout.prior
        if checkpoint_every is not None and (
            isinstance(checkpoint_every, bool)
            or not isinstance(checkpoint_every, int | np.integer)
            or checkpoint_every < 1
        ):
            raise ValueError(
                f"checkpoint_every must be a positive integer or None, got {checkpoint_every!r}"
            )
        self.checkpoint_every = None if checkpoint_every is None else int(checkpoint_every)
        for name, value in [("connect_timeout", connect_timeout), ("call_timeout", call_timeout)]:
            if not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        self.call_timeout = float(call_timeout)
        if resume and checkpoint_dir is None:
            raise ValueError("resume=True needs the checkpoint_dir to resume from")
        self.in_process = bool(in_process)
        if address is not None and not isinstance(address, str):
            raise ValueError(f"address must be a scheduler address string, got {address!r}")
        if address is not None and in_process:
            raise ValueError("pass either an address or in_process=True, not both")
        if address is not None and checkpoint_every is not None and checkpoint_dir is None:
            raise ValueError(
                "on a remote cluster checkpoint_dir must name a folder every worker can reach "
                "(a shared file system); a temporary folder on this machine would not be"
            )

        # Checkpoint folder and the committed-round bookkeeping.
        if checkpoint_dir is None and checkpoint_every is not None:
            self._own_dir = tempfile.mkdtemp(prefix="qtable-shards-")
            checkpoint_dir = self._own_dir
        self.checkpoint_dir = None if checkpoint_dir is None else str(checkpoint_dir)
        self._checkpoint_round = 0
        if self.checkpoint_dir is not None:
            Path(self.checkpoint_dir).mkdir(parents=True, exist_ok=True)
            manifest = Path(self.checkpoint_dir) / _MANIFEST
            if manifest.exists() and not resume:
                raise ValueError(
                    f"checkpoint_dir {self.checkpoint_dir!r} already holds a checkpoint: pass "
                    "resume=True to continue from it, or an empty folder"
                )
            if resume:
                self._checkpoint_round = self._read_manifest()
        self._round = self._checkpoint_round  # rounds started
        self._committed = self._checkpoint_round  # rounds acknowledged by every shard
        self._pending: dict[int, Updates] = {}
        self._pending_round: int | None = None
        self._log: list[tuple[int, dict[int, Updates]]] = []
        self.stats = TrainStats()
        self._counting = False  # account calls in self.stats (during train only)

        # The cluster, then the plan (one shard per worker by default), then the shards.
        self._futures: list[Any] = []
        try:
            if not self.in_process:
                self._connect(
                    address, n_workers, connect_timeout, dashboard_address, direct_to_workers
                )
                default_shards = len(self._workers())
            else:
                default_shards = n_workers
            if n_shards is None:
                n_shards = min(default_shards, len(self.layout.genre_names))
            self.plan = plan_shards(
                self.index.table_rows * self.n_items * self.dtype.itemsize, n_shards
            )
            self._owner = self.plan.owner
            self._actors: list[Any] = [None] * self.plan.n_shards
            self._futures = [None] * self.plan.n_shards
            self.shard_workers: list[str | None] = [None] * self.plan.n_shards
            for s in range(self.plan.n_shards):
                self._place(s, self._checkpoint_round)
        except BaseException:
            self.close()
            raise

    # ---- cluster life cycle ---------------------------------------------------------------

    def _connect(
        self,
        address: str | None,
        n_workers: int,
        connect_timeout: float,
        dashboard_address: str | None,
        direct: bool,
    ) -> None:
        from distributed import Client, LocalCluster

        if address is None:
            if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
                raise ValueError(f"n_workers must be a positive integer, got {n_workers!r}")
            self._cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=dashboard_address,
                silence_logs=logging.ERROR,
                # The scheduler's HTTP server runs even without a dashboard: give it a free
                # port rather than the default 8787, which may be taken.
                scheduler_kwargs={
                    "dashboard": dashboard_address is not None,
                    "dashboard_address": dashboard_address or "127.0.0.1:0",
                },
            )
            self._client = Client(self._cluster, direct_to_workers=direct)
            self._client.wait_for_workers(n_workers, timeout=connect_timeout + 60)
            return
        try:
            self._client = Client(address, timeout=connect_timeout, direct_to_workers=direct)
        except ValueError as exc:
            raise ValueError(f"invalid scheduler address {address!r}: {exc}") from None
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(
                f"cannot reach the Dask scheduler at {address!r} within {connect_timeout:g} s "
                f"({exc}); check that the scheduler runs and the address is right, or pass "
                "address=None to start a LocalCluster on this machine"
            ) from None
        if not self._workers():
            self._client.close()
            raise ConnectionError(f"the Dask cluster at {address!r} has no workers")

    def _workers(self) -> list[str]:
        return sorted(self._client.scheduler_info(n_workers=-1)["workers"])

    @property
    def dashboard_link(self) -> str | None:
        """The Dask dashboard's address (None when running in process)."""
        return None if self._client is None else self._client.dashboard_link

    @property
    def scheduler_address(self) -> str | None:
        return None if self._client is None else self._client.scheduler.address

    def close(self) -> None:
        """Release the shards, close the client and the local cluster (if this object
        started it), and remove the temporary checkpoint folder. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._actors = []
        futures, self._futures = getattr(self, "_futures", []), []
        try:
            if self._client is not None:
                live = [f for f in futures if f is not None]
                if live and self._cluster is None:  # a shared cluster: free our actors
                    self._client.cancel(live)
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
        finally:
            self._client = self._cluster = None
            if self._own_dir is not None:
                shutil.rmtree(self._own_dir, ignore_errors=True)

    def __enter__(self) -> DistributedQTables:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten close() must not leave worker processes behind
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this DistributedQTables is closed")

    # ---- shards: placement, calls, recovery -----------------------------------------------

    def _shard_args(self, s: int, restore_round: int) -> tuple[Any, ...]:
        return (
            self.plan.shards[s],
            self.index.offsets,
            self.n_items,
            self.alpha,
            self.dtype.str,
            self.storage,
            self.checkpoint_dir,
            restore_round,
        )

    def _choose_worker(self, s: int, wait: float, avoid: str | None = None) -> str:
        """A worker for shard ``s``: one that hosts none of our shards if possible (waiting up
        to ``wait`` seconds for a replacement to join), else the least loaded."""
        deadline = time.monotonic() + wait
        while True:
            workers = [w for w in self._workers() if w != avoid]
            used = [w for i, w in enumerate(self.shard_workers) if i != s and w is not None]
            free = [w for w in workers if w not in used]
            if free:
                return free[0]
            if time.monotonic() >= deadline and workers:
                return min(workers, key=lambda w: (used.count(w), w))
            time.sleep(0.1)

    def _place(
        self, s: int, restore_round: int, wait: float = 0.0, avoid: str | None = None
    ) -> None:
        """Create shard ``s`` (restored from ``restore_round`` if positive) on a worker."""
        args = self._shard_args(s, restore_round)
        if self.in_process:
            self._actors[s] = QTableShard(*args)
            self.shard_workers[s] = "in-process"
            return
        worker = self._choose_worker(s, wait, avoid)
        future = self._client.submit(
            QTableShard,
            *args,
            workers=[worker],
            allow_other_workers=False,
            actor=True,
            key=f"qtable-shard-{s}-{uuid.uuid4().hex}",
        )
        self._futures[s] = future
        self._actors[s] = future.result(timeout=self.call_timeout)
        self.shard_workers[s] = worker

    def _send(self, s: int, method: str, args: tuple[Any, ...]) -> Any:
        """Start a call; in process it runs now and its result is the handle, on Dask the
        handle is a future. Raises ``_ShardLost`` if Dask already knows the actor is gone."""
        if self.in_process:
            return getattr(self._actors[s], method)(*args)
        if self._futures[s].status not in ("finished", "pending"):
            raise _ShardLost(s)
        return getattr(self._actors[s], method)(*args)

    def _receive(self, s: int, handle: Any, deadline: float) -> Any:
        """The result of a call to shard ``s``; raises ``_ShardLost`` when its worker left the
        cluster (checked every half second while waiting) or the call timed out."""
        if self.in_process:
            return handle
        while True:
            try:
                return handle.result(timeout=0.5)
            except _TIMEOUTS:
                # A dead worker that is not mid-call is only noticed when a connection
                # attempt times out (30 s by default); the scheduler knows sooner.
                if self.shard_workers[s] not in self._workers():
                    raise _ShardLost(s) from None
                if time.monotonic() > deadline:
                    raise _ShardLost(s) from None
            except _WORKER_LOST as exc:
                raise _ShardLost(s) from exc

    def _call(self, calls: dict[int, tuple[str, tuple[Any, ...]]]) -> dict[int, Any]:
        """Send one call to each shard in ``calls`` (all in flight at once), collect the
        results, and recover the shards whose worker was lost, then retry those calls."""
        results: dict[int, Any] = {}
        todo = dict(calls)
        for attempt in range(4):
            handles, failed = {}, []
            for s, (method, args) in todo.items():
                try:
                    handles[s] = self._send(s, method, args)
                except _ShardLost:
                    failed.append(s)
            deadline = time.monotonic() + self.call_timeout
            for s, handle in handles.items():
                try:
                    results[s] = self._receive(s, handle, deadline)
                except _ShardLost:
                    failed.append(s)
            for s, (_, args) in todo.items():
                if s not in failed:
                    self._account(s, args, results[s])
            if not failed:
                return results
            if attempt == 3:
                break
            for s in failed:
                self._recover(s)
            todo = {s: todo[s] for s in failed}
        raise RuntimeError(f"shards {sorted(todo)} could not be recovered after 3 attempts")

    def _account(self, s: int, args: tuple[Any, ...], result: Any) -> None:
        if not self._counting:
            return
        stats = self.stats
        sent, received = _payload_bytes(args), _payload_bytes(result)
        stats.calls += 1
        stats.bytes_sent += sent
        stats.bytes_received += received
        stats.shard_calls[s] += 1
        stats.shard_bytes[s] += sent + received
        if isinstance(result, dict):
            stats.shard_seconds[s] += float(result.get("seconds", 0.0))

    def _recover(self, s: int) -> None:
        """Re-create shard ``s`` from the last checkpoint and replay the logged rounds."""
        if self._futures[s] is not None:
            self._client.cancel([self._futures[s]])  # the scheduler must not rebuild it
        lost = self.shard_workers[s]
        self._futures[s] = self._actors[s] = None
        self.shard_workers[s] = None
        c = self._checkpoint_round
        self._place(s, c, wait=30.0 if self._cluster is not None else 5.0, avoid=lost)
        batches = [(r, updates.get(s)) for r, updates in self._log if r > c]
        if batches:
            self._receive(s, self._actors[s].replay(batches), time.monotonic() + self.call_timeout)
        self.stats.recoveries += 1
        self.stats.replayed_rounds += len(batches)

    def _read_manifest(self) -> int:
        assert self.checkpoint_dir is not None
        path = Path(self.checkpoint_dir) / _MANIFEST
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot resume: no readable {_MANIFEST} in checkpoint_dir") from exc
        expected = {
            "format": _MANIFEST_FORMAT,
            "n_items": self.n_items,
            "genre_names": list(self.layout.genre_names),
            "dtype": self.dtype.str,
        }
        for key, value in expected.items():
            if manifest.get(key) != value:
                raise ValueError(
                    f"cannot resume: the checkpoint's {key} is {manifest.get(key)!r}, these "
                    f"tables have {value!r}"
                )
        return int(manifest["round"])

    def _write_manifest(self, round_: int) -> None:
        """Record a complete checkpoint (every shard saved ``round_``), then drop older ones
        and the log entries it covers."""
        assert self.checkpoint_dir is not None
        manifest = {
            "format": _MANIFEST_FORMAT,
            "round": round_,
            "n_items": self.n_items,
            "genre_names": list(self.layout.genre_names),
            "dtype": self.dtype.str,
        }
        _atomic_write_text(Path(self.checkpoint_dir) / _MANIFEST, json.dumps(manifest))
        self._checkpoint_round = round_
        self._log = [entry for entry in self._log if entry[0] > round_]
        for old in Path(self.checkpoint_dir).glob("round-*"):
            if old.name != _round_dir(self.checkpoint_dir, round_).name:
                shutil.rmtree(old, ignore_errors=True)

    # ---- the round protocol (driver side) -------------------------------------------------

    def _exchange(self, reads: dict[int, Reads] | None, final: bool = False) -> dict[int, Any]:
        """One call per shard: the pending round's updates (if any), then this round's reads."""
        apply_round = self._pending_round
        checkpoint = (
            apply_round is not None
            and self.checkpoint_dir is not None
            and self.checkpoint_every is not None
            and (apply_round % self.checkpoint_every == 0 or final)
        )
        calls = {
            s: (
                "step",
                (
                    apply_round,
                    self._pending.get(s),
                    None if reads is None else reads[s],
                    checkpoint,
                ),
            )
            for s in range(self.plan.n_shards)
        }
        results = self._call(calls)
        if apply_round is not None:
            self._committed = apply_round
            self._pending, self._pending_round = {}, None
            if checkpoint:
                self._write_manifest(apply_round)
        return results

    @property
    def committed_round(self) -> int:
        """The last round whose updates every shard has applied."""
        return self._committed

    @property
    def checkpoint_round(self) -> int:
        """The round of the last complete checkpoint (0: none, the initial zeros)."""
        return self._checkpoint_round

    def _prepare(self, states: np.ndarray, targets: np.ndarray) -> _Prepared:
        """Validate transitions and decompose every state and next state (driver only)."""
        states = np.asarray(states)
        targets = np.asarray(targets)
        if (
            states.ndim != 2
            or not 1 <= states.shape[1] <= HISTORY_LENGTH
            or len(states) != len(targets)
            or targets.ndim != 1
        ):
            raise ValueError(
                f"transitions need states of shape (n, 1..3) and n targets, got {states.shape} "
                f"and {targets.shape}"
            )
        if len(states) and (
            not np.issubdtype(states.dtype, np.integer)
            or not np.issubdtype(targets.dtype, np.integer)
        ):
            raise ValueError(
                f"states and targets must be integer movie indices, got {states.dtype} and "
                f"{targets.dtype}"
            )
        n = self.n_items
        for what, arr in [("state", states), ("next movie", targets)]:
            bad = arr[(arr < 0) | (arr >= n)]
            if bad.size:
                raise ValueError(
                    f"unknown movie index {int(bad[0])} as {what}: catalogue indices run from "
                    f"0 to {n - 1}"
                )
        srt = np.sort(states, axis=1)
        dup = np.flatnonzero(np.any(srt[:, 1:] == srt[:, :-1], axis=1))
        if dup.size:
            raise ValueError(
                f"a state cannot hold the same movie twice, got {tuple(states[dup[0]].tolist())}"
            )
        clash = np.flatnonzero(np.any(states == targets[:, None], axis=1))
        if clash.size:
            j = int(clash[0])
            raise ValueError(
                f"next movie {int(targets[j])} is already in its state {tuple(states[j].tolist())}"
            )
        index = self.index
        sub = index.substate_ids_batch(states)
        future = index.future_ids_batch(states, targets)
        owner = self._owner
        sub_shard = np.where(sub >= 0, owner[index.genre_of_ids(np.maximum(sub, 0))], -1)
        future_shard = owner[index.genre_of_ids(future[:, 0])]
        return _Prepared(
            states.astype(np.int64), targets.astype(np.int64), sub, sub_shard, future, future_shard
        )

    def _reads(self, sub: np.ndarray, sub_shard: np.ndarray, future: np.ndarray | None, future_shard: np.ndarray | None) -> tuple[dict[int, Reads], dict[int, np.ndarray]]:  # fmt: skip
        reads, positions = {}, {}
        for s in range(self.plan.n_shards):
            ids = np.unique(sub[sub_shard == s])
            if future is None or future_shard is None:
                f, pos = np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
            else:
                pos = np.flatnonzero(future_shard == s)
                f = future[pos]
            reads[s], positions[s] = Reads(ids.astype(np.int64), f), pos
        return reads, positions

    def train(
        self,
        transitions: object,
        epochs: int = 1,
        rng: np.random.Generator | None = None,
        round_size: int = 256,
        reward: float = 15.0,
        penalty: float = 5.0,
        k: int = 10,
        on_round: Callable[[int], None] | None = None,
    ) -> pd.DataFrame:
        """Train by replaying logged transitions in synchronous rounds of ``round_size``.

        The talk's replay (see :func:`~odsc_recsys.multi_table.replay_train`), distributed:
        with ``round_size=1`` the tables end up exactly equal to ``replay_train``'s with the
        same ``rng``; with larger rounds the lists and targets are read at the start of each
        round (stale by at most one round).

        Parameters
        ----------
        transitions : object with ``states`` (n, <=3) and ``targets`` (n,) int arrays
            E.g. :class:`odsc_recsys.sessions.Transitions`.
        epochs : int
            Passes over the transitions.
        rng : numpy.random.Generator, optional
            Epsilon-greedy exploration, drawn centrally by the driver (``2k`` uniforms per list,
            as ``replay_train``); greedy when None.
        round_size : int
            Transitions per round ``B``.
        reward, penalty, k
            As for ``replay_train``.
        on_round : callable, optional
            Called with the round number after each round's lists are built (progress bars;
            the tests use it to kill a worker mid-training).

        Returns
        -------
        pandas.DataFrame
            One row per epoch: ``epoch``, ``transitions``, ``rounds``, ``hit_rate`` and
            ``explored``, as ``replay_train``. Costs are in :attr:`stats`.
        """
        self._check_open()
        states = getattr(transitions, "states", None)
        targets = getattr(transitions, "targets", None)
        if states is None or targets is None:
            raise ValueError("transitions need .states and .targets arrays")
        if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        if isinstance(round_size, bool) or not isinstance(round_size, int | np.integer) or round_size < 1:  # fmt: skip
            raise ValueError(f"round_size must be a positive integer, got {round_size!r}")
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
            raise ValueError(f"k must be a non-negative integer, got {k!r}")
        for name, value in [("reward", reward), ("penalty", penalty)]:
            if not isinstance(value, int | float | np.number) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        reward, penalty = float(reward), float(penalty)
        prep = self._prepare(states, targets)
        n_shards = self.plan.n_shards
        self.stats = TrainStats(
            shard_seconds=[0.0] * n_shards,
            shard_calls=[0] * n_shards,
            shard_rows_read=[0] * n_shards,
            shard_updates=[0] * n_shards,
            shard_bytes=[0] * n_shards,
        )
        self._counting = True
        try:
            out, driver, start = self._train_rounds(prep, epochs, rng, round_size, reward, penalty, k, on_round)  # fmt: skip
        finally:
            self._counting = False
        stats = self.stats
        stats.rounds = sum(row["rounds"] for row in out)
        stats.transitions = len(prep.targets) * int(epochs)
        stats.seconds = time.perf_counter() - start
        stats.driver_seconds = driver
        # the columns of replay_train's log, with the number of rounds after the transitions
        return pd.DataFrame(out)[["epoch", "transitions", "rounds", "hit_rate", "explored"]]

    def _train_rounds(
        self,
        prep: _Prepared,
        epochs: int,
        rng: np.random.Generator | None,
        round_size: int,
        reward: float,
        penalty: float,
        k: int,
        on_round: Callable[[int], None] | None,
    ) -> tuple[list[dict[str, float]], float, float]:
        start = time.perf_counter()
        driver = 0.0
        out = []
        n = len(prep.targets)
        for epoch in range(1, int(epochs) + 1):
            hits = explored = listed = rounds = 0
            for a in range(0, n, int(round_size)):
                b = min(a + int(round_size), n)
                self._round += 1
                rounds += 1
                t0 = time.perf_counter()
                reads, fut_pos = self._reads(
                    prep.sub[a:b], prep.sub_shard[a:b], prep.future[a:b], prep.future_shard[a:b]
                )
                driver += time.perf_counter() - t0
                results = self._exchange(reads)
                t0 = time.perf_counter()
                h, e, li = self._round_updates(prep, a, b, reads, fut_pos, results, rng, reward, penalty, k)  # fmt: skip
                hits, explored, listed = hits + h, explored + e, listed + li
                driver += time.perf_counter() - t0
                if on_round is not None:
                    on_round(self._round)
            out.append({"rounds": rounds, **epoch_stats(epoch, n, hits, explored, listed)})
        self._exchange(None, final=True)  # apply the last round (and checkpoint it)
        return out, driver, start

    def _round_updates(
        self,
        prep: _Prepared,
        a: int,
        b: int,
        reads: dict[int, Reads],
        fut_pos: dict[int, np.ndarray],
        results: dict[int, Any],
        rng: np.random.Generator | None,
        reward: float,
        penalty: float,
        k: int,
    ) -> tuple[int, int, int]:
        """Build the round's lists and targets, and the pending per-shard updates."""
        n_shards, n_items, epsilon = self.plan.n_shards, self.n_items, self.epsilon
        sub, sub_shard = prep.sub[a:b], prep.sub_shard[a:b]
        future = np.empty(b - a, dtype=np.float64)
        for s in range(n_shards):
            future[fut_pos[s]] = results[s]["future"]
            self.stats.shard_rows_read[s] += len(reads[s].ids)
        self.stats.rows_read += sum(len(reads[s].ids) for s in range(n_shards))

        # The lists: greedy top-k of the merged rows, the state's movies blocked, then the
        # epsilon-greedy slots with the central rng: 2k draws per list in transition order
        # (drawn for a block of lists at once, which gives the same numbers).
        state_block = prep.states[a:b]
        clicked = prep.targets[a:b]
        kk = min(k, n_items - state_block.shape[1])
        explores = rng is not None and epsilon > 0.0 and kk > 0
        parts, lengths_parts = [], []
        hits = explored = 0
        bank = _RowBank(reads, results, n_items, self.dtype)
        for c in range(0, b - a, _CHUNK):  # chunks bound the memory of the merged rows
            d = min(c + _CHUNK, b - a)
            merged = bank.merged(sub[c:d])
            merged[np.arange(d - c)[:, None], state_block[c:d]] = -np.inf
            chosen = _top_k_rows(merged, kk)
            if explores:
                u = rng.random((d - c, 2 * kk))  # type: ignore[union-attr]
                chosen, explore = _explore_rows(chosen, state_block[c:d], u, n_items, epsilon)
                explored += int(explore.sum())
            # The talk's rule: the watched movie joins the list when it is not there.
            hit = (chosen == clicked[c:d, None]).any(axis=1)
            hits += int(hit.sum())
            with_clicked = np.concatenate([chosen, clicked[c:d, None]], axis=1)
            keep = np.ones(with_clicked.shape, dtype=bool)
            keep[:, -1] = ~hit
            parts.append(with_clicked[keep])  # row-major: each list, in order
            lengths_parts.append(kk + (~hit).astype(np.int64))
        listed = kk * (b - a)

        # Targets r + gamma * max Q(s', a'), elementwise as GenreQTables computes them.
        lengths = np.concatenate(lengths_parts) if parts else np.zeros(0, dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        actions = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        clicked_each = np.repeat(clicked, lengths)
        rewards = np.where(actions == clicked_each, reward, -penalty)
        targets = rewards + self.gamma * np.repeat(future, lengths)

        # Each shard gets the updates of the rows it owns, in transition order.
        flat_ids, flat_shard = sub.ravel(), sub_shard.ravel()
        flat_tx = np.repeat(np.arange(b - a), sub.shape[1])
        updates = {}
        for s in range(n_shards):
            sel = flat_shard == s
            if not sel.any():
                continue
            txs, local_tx = np.unique(flat_tx[sel], return_inverse=True)
            own_offsets = np.concatenate(([0], np.cumsum(lengths[txs])))
            gather = np.repeat(offsets[txs] - own_offsets[:-1], lengths[txs]) + np.arange(
                own_offsets[-1]
            )
            updates[s] = Updates(
                ids=flat_ids[sel],
                entry_tx=local_tx.astype(np.int64),
                offsets=own_offsets.astype(np.int64),
                actions=actions[gather],
                targets=targets[gather],
            )
            self.stats.shard_updates[s] += int(sel.sum())
            self.stats.updates += int(sel.sum())
        self._pending, self._pending_round = updates, self._round
        self._log.append((self._round, updates))
        return hits, explored, listed

    # ---- serving --------------------------------------------------------------------------

    def _check_state(self, state: Iterable[int]) -> tuple[int, ...]:
        items = tuple(as_history(state, self.n_items).tolist())
        if len(items) > HISTORY_LENGTH:
            raise ValueError(
                f"a state holds at most {HISTORY_LENGTH} movies (the last ones watched), got "
                f"{len(items)}: {items}; pass history[-3:]"
            )
        if len(set(items)) != len(items):
            raise ValueError(f"a state cannot hold the same movie twice, got {items}")
        return items

    def _merged_batch(self, states: list[tuple[int, ...]]) -> np.ndarray:
        """Merged Q rows (max over sub-states) of many states: one call per shard touched.
        A state without sub-states (empty) gets a row of -inf; callers use the prior."""
        sub = np.full((len(states), HISTORY_LENGTH), -1, dtype=np.int64)
        full = [j for j, items in enumerate(states) if len(items) == HISTORY_LENGTH]
        if full:
            sub[full] = self.index.substate_ids_batch(np.array([states[j] for j in full]))
        for j, items in enumerate(states):
            if len(items) != HISTORY_LENGTH:
                ids = self.index.substate_ids(items)
                sub[j, : len(ids)] = ids
        sub_shard = np.where(sub >= 0, self._owner[self.index.genre_of_ids(np.maximum(sub, 0))], -1)  # fmt: skip
        reads, _ = self._reads(sub, sub_shard, None, None)
        touched = {s: ("step", (None, None, reads[s], False)) for s in reads if len(reads[s].ids)}
        results = self._call(touched) if touched else {}
        for s in reads:
            results.setdefault(s, {"rows": np.zeros((0, self.n_items), dtype=self.dtype)})
        return _RowBank(reads, results, self.n_items, self.dtype).merged(sub)

    def _fallback(self) -> np.ndarray:
        return self.prior.copy() if self.prior is not None else np.zeros(self.n_items)

    def score_batch(self, states: Sequence[Iterable[int]]) -> np.ndarray:
        """Merged Q-values (float64) of many states, ``(n, n_items)``; see :meth:`score`."""
        self._check_open()
        checked = [self._check_state(s) for s in states]
        merged = self._merged_batch(checked).astype(np.float64)
        for j, items in enumerate(checked):
            if not items:
                merged[j] = self._fallback()
        return merged

    def score(self, state: Iterable[int]) -> np.ndarray:
        """Merged Q-value of every movie for a state (max over its sub-states), as float64;
        the prior (or zeros) for an empty state. Equals ``GenreQTables.score``."""
        return self.score_batch([state])[0]

    def recommend_batch(
        self,
        states: Sequence[Iterable[int]],
        k: int = 10,
        excludes: Sequence[Iterable[int] | None] | None = None,
        chunk: int = REQUEST_CHUNK,
    ) -> np.ndarray:
        """Greedy top-``k`` lists of many states, ``(n, k)`` padded with -1.

        The requests fan out in one call per shard that owns a sub-state of any of them (per
        ``chunk`` requests, :data:`REQUEST_CHUNK` by default); the driver merges the rows.
        Each list equals ``GenreQTables.recommend(state, k, exclude=exclude).items``.
        """
        self._check_open()
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
            raise ValueError(f"k must be a non-negative integer, got {k!r}")
        if isinstance(chunk, bool) or not isinstance(chunk, int | np.integer) or chunk < 1:
            raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
        states = list(states)
        if excludes is not None and len(excludes) != len(states):
            raise ValueError(f"{len(excludes)} exclude lists for {len(states)} states")
        checked = [self._check_state(s) for s in states]
        out = np.full((len(states), k), PAD, dtype=np.int64)
        for a in range(0, len(states), chunk):
            block = checked[a : a + chunk]
            merged = self._merged_batch(block)
            for j, items in enumerate(block):
                row = merged[j] if items else self._fallback()
                blocked = set(items)
                if excludes is not None and excludes[a + j] is not None:
                    blocked.update(as_history(excludes[a + j], self.n_items).tolist())  # type: ignore[arg-type]
                if blocked:
                    row[sorted(blocked)] = -np.inf
                kk = min(k, self.n_items - len(blocked))
                out[a + j, :kk] = _top_k(row, kk)
        return out

    def recommend(
        self, state: Iterable[int], k: int = 10, exclude: Iterable[int] | None = None
    ) -> np.ndarray:
        """Greedy top-``k`` movies for one state (the last up-to-3 movies), best first."""
        recs = self.recommend_batch([state], k, [exclude])[0]
        return recs[recs != PAD]

    def evaluate(
        self,
        transitions: Any,
        k: int = 10,
        catalog: Any = None,
        histories: dict[int, np.ndarray] | None = None,
        name: str = "distributed q-tables",
    ) -> pd.DataFrame:
        """:func:`odsc_recsys.metrics.evaluate` of the greedy policy, served in batches.

        Gives the same row as ``evaluate(tables.as_recommender(), ...)`` on the gathered
        tables, with one call per shard per :data:`REQUEST_CHUNK` requests instead of one
        per request.
        """
        prefixes = (
            transitions.prefixes(histories) if histories is not None else list(transitions.states)
        )
        states = [np.asarray(p)[-HISTORY_LENGTH:] for p in prefixes]
        recs = self.recommend_batch(states, k, excludes=prefixes)
        return metrics_row(recs, transitions.targets, k, catalog, histories, name)

    def as_recommender(self, name: str = "distributed q-tables") -> DistributedPolicy:
        """The greedy policy behind the shared :class:`~odsc_recsys.protocol.Recommender`
        protocol (one fan-out per request; :meth:`evaluate` batches them)."""
        return DistributedPolicy(self, name)

    # ---- inspection -----------------------------------------------------------------------

    def table(self, genre: int) -> np.ndarray:
        """A dense copy of one genre table, fetched from the shard that owns it."""
        self._check_open()
        if isinstance(genre, bool) or not isinstance(genre, int | np.integer) or not 0 <= genre < len(self._owner):  # fmt: skip
            raise ValueError(f"table index must be in 0..{len(self._owner) - 1}, got {genre!r}")
        s = int(self._owner[genre])
        return self._call({s: ("table", (int(genre),))})[s]

    def to_genre_tables(self, storage: str | None = None) -> GenreQTables:
        """Gather every table into one single-process :class:`GenreQTables` (same values,
        hyperparameters and prior), e.g. to serve or inspect a model trained on the cluster.

        Goes through ``GenreQTables``'s own file format (``save`` / ``load``), so the result
        is an ordinary ``GenreQTables``.
        """
        self._check_open()
        storage = self.storage if storage is None else storage
        if storage not in STORAGES:
            raise ValueError(f"storage must be one of {STORAGES}, got {storage!r}")
        template = GenreQTables(
            self.layout.genre_of,
            self.layout.genre_names,
            self.alpha,
            self.gamma,
            self.epsilon,
            storage,
            self.dtype,
            self.prior,
        )
        with tempfile.TemporaryDirectory() as tmp:
            path = template.save(Path(tmp) / "tables.npz")
            del template
            with np.load(path, allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
            for g in range(len(self._owner)):
                s = int(self._owner[g])
                if storage == "lazy":
                    rows, values = self._call({s: ("written", (g,))})[s]
                    arrays[f"rows_{g}"], arrays[f"values_{g}"] = rows, values
                else:
                    arrays[f"table_{g}"] = self._call({s: ("table", (g,))})[s]
            atomic_savez(path, **arrays)
            return GenreQTables.load(path)  # type: ignore[return-value]

    def shard_info(self) -> pd.DataFrame:
        """One row per shard: its genres, rows, memory held, last applied round."""
        self._check_open()
        info = self._call({s: ("describe", ()) for s in range(self.plan.n_shards)})
        names = self.layout.genre_names
        return pd.DataFrame(
            {
                "genres": [", ".join(names[g] for g in info[s]["genres"]) for s in sorted(info)],
                "rows": [info[s]["rows"] for s in sorted(info)],
                "memory": [format_bytes(info[s]["nbytes"]) for s in sorted(info)],
                "applied_round": [info[s]["applied_round"] for s in sorted(info)],
            },
            index=pd.Index(sorted(info), name="shard"),
        )

    def measure_latency(self, repeats: int = 50) -> pd.Series:
        """Median seconds of an (almost) empty round trip: to shard 0 alone, and to every
        shard at once (the floor of a round's cost, whatever its size)."""
        self._check_open()
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
        one, all_shards = [], []
        every = {s: ("describe", ()) for s in range(self.plan.n_shards)}
        for _ in range(repeats):
            start = time.perf_counter()
            self._call({0: ("describe", ())})
            one.append(time.perf_counter() - start)
            start = time.perf_counter()
            self._call(every)
            all_shards.append(time.perf_counter() - start)
        return pd.Series(
            {"one shard": float(np.median(one)), "all shards": float(np.median(all_shards))},
            name="seconds per call",
        )

    def worker_pids(self) -> dict[int, int]:
        """The process id of each shard's worker."""
        self._check_open()
        info = self._call({s: ("describe", ()) for s in range(self.plan.n_shards)})
        return {s: int(info[s]["pid"]) for s in sorted(info)}

    def simulate_worker_crash(self, shard: int) -> int:
        """Kill the worker process that holds ``shard`` (local clusters only), as a crash
        would; the next call to that shard recovers it. Returns the killed process id."""
        import psutil

        self._check_open()
        if self._cluster is None:
            raise ValueError(
                "simulate_worker_crash only kills workers of a LocalCluster it started"
            )
        if not 0 <= shard < self.plan.n_shards:
            raise ValueError(f"shard must be in 0..{self.plan.n_shards - 1}, got {shard!r}")
        worker = self.shard_workers[shard]
        pid = int(self._client.run(os.getpid, workers=[worker])[worker])
        proc = psutil.Process(pid)
        proc.kill()
        proc.wait(timeout=10)
        return pid

    def __repr__(self) -> str:
        where = "in process" if self.in_process else f"{self.plan.n_shards} shards on Dask"
        return (
            f"DistributedQTables({len(self.layout.genre_names)} tables, {self.n_items} movies, "
            f"{where}, round {self._round})"
        )


class DistributedPolicy(QTablePolicy):
    """The greedy policy of :class:`DistributedQTables` as a
    :class:`~odsc_recsys.protocol.Recommender` (``score`` and ``recommend`` use the last 3
    movies of the history, as :class:`~odsc_recsys.multi_table.QTablePolicy` does)."""

    def __init__(self, tables: DistributedQTables, name: str = "distributed q-tables") -> None:
        super().__init__(tables, name)  # type: ignore[arg-type]

    def recommend(
        self, history: Iterable[int], k: int = 10, exclude: Iterable[int] | None = None
    ) -> np.ndarray:
        hist = as_history(history, self.n_items)
        return self.tables.recommend(hist[-HISTORY_LENGTH:], k, exclude)
