"""The driver's arithmetic of one synchronous round, in plain numpy (no Dask here).

A round of ``B`` transitions: decompose every state and next state (:func:`prepare`), ask each
shard for the rows it owns (:func:`plan_reads`), merge each transition's rows into its list
exactly as :class:`~odsc_recsys.qtables.GenreQTables` does (:class:`RowBank`,
:func:`build_lists`: largest Q per movie, ties by lower index, the state's movies never listed,
then epsilon-greedy with the same ``2k`` uniforms per list as
:func:`~odsc_recsys.qtables.replay_train`), compute the targets ``r + gamma * max_a' Q(s', a')``
(:func:`round_targets`) and split the updates by shard, in transition order
(:func:`split_updates`). Every value read in a round is the value at its start: that is the
staleness of rounds larger than one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..protocol import top_k_many
from ..qtables import HISTORY_LENGTH, GenreLayout, td_target
from .messages import Reads, Updates

__all__ = [
    "CHUNK",
    "Prepared",
    "RoundLists",
    "RowBank",
    "build_lists",
    "explore_rows",
    "future_values",
    "plan_reads",
    "prepare",
    "round_targets",
    "shard_of_ids",
    "split_updates",
    "substate_ids_many",
]

#: Transitions whose lists are built at once (bounds the memory of the merged rows).
CHUNK = 4096


class Prepared(NamedTuple):
    """A batch of transitions decomposed once by the driver."""

    states: np.ndarray  # (n, w) movies
    targets: np.ndarray  # (n,) the movie watched next
    sub: np.ndarray  # (n, 3) global row ids of the current sub-states, -1 padded
    sub_shard: np.ndarray  # (n, 3) their shards, -1 padded
    future: np.ndarray  # (n, 2) global row ids of the next sub-states holding the target
    future_shard: np.ndarray  # (n,) their shard

    def slice(self, a: int, b: int) -> Prepared:
        """Transitions ``a`` to ``b - 1``: one round."""
        return Prepared(*(x[a:b] for x in self))


def shard_of_ids(layout: GenreLayout, owner: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The shard that owns each global row id (``-1`` padding stays ``-1``)."""
    return np.where(ids >= 0, owner[layout.genre_of_ids(np.maximum(ids, 0))], -1)


def prepare(
    layout: GenreLayout, owner: np.ndarray, states: np.ndarray, targets: np.ndarray
) -> Prepared:
    """Decompose valid transitions: their sub-states, next sub-states and the shards of both."""
    sub = layout.substate_ids_batch(states)
    future = layout.future_ids_batch(states, targets)
    return Prepared(states, targets, sub, shard_of_ids(layout, owner, sub), future,
                    owner[layout.genre_of_ids(future[:, 0])])  # fmt: skip


def plan_reads(
    sub: np.ndarray,
    sub_shard: np.ndarray,
    n_shards: int,
    future: np.ndarray | None = None,
    future_shard: np.ndarray | None = None,
) -> tuple[dict[int, Reads], dict[int, np.ndarray]]:
    """Each shard's :class:`Reads`, and which transitions its future values belong to."""
    reads, positions = {}, {}
    for s in range(n_shards):
        ids = np.unique(sub[sub_shard == s]).astype(np.int64)
        if future is None or future_shard is None:
            pos = np.zeros(0, dtype=np.int64)
            fut = np.zeros((0, 2), dtype=np.int64)
        else:
            pos = np.flatnonzero(future_shard == s)
            fut = future[pos]
        reads[s], positions[s] = Reads(ids, fut), pos
    return reads, positions


def future_values(
    results: Mapping[int, Any], positions: Mapping[int, np.ndarray], n: int
) -> np.ndarray:
    """``max_a' Q(s', a')`` of every transition of the round (float64), from the shards."""
    future = np.empty(n, dtype=np.float64)
    for s, pos in positions.items():
        future[pos] = results[s]["future"]
    return future


class RowBank:
    """The rows one round read from the shards, looked up by global row id."""

    def __init__(
        self, ids: Sequence[np.ndarray], rows: Sequence[np.ndarray], n_items: int, dtype: Any
    ) -> None:
        pad = np.full((1, n_items), -np.inf, dtype=dtype)  # the row of a missing sub-state
        self.n_items = n_items
        self.rows = np.concatenate([*rows, pad])
        all_ids = np.concatenate([*ids, np.zeros(0, dtype=np.int64)])
        self.order = np.argsort(all_ids, kind="stable")
        self.sorted_ids = all_ids[self.order]

    @classmethod
    def from_results(
        cls, reads: Mapping[int, Reads], results: Mapping[int, Any], n_items: int, dtype: Any
    ) -> RowBank:
        """The rows the shards returned for ``reads`` (shards asked for nothing are skipped)."""
        asked = [s for s in sorted(reads) if len(reads[s].ids)]
        return cls([reads[s].ids for s in asked], [results[s]["rows"] for s in asked],
                   n_items, dtype)  # fmt: skip

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


def explore_rows(
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


class RoundLists(NamedTuple):
    """The lists of a round, with the watched movie appended where the list missed it."""

    actions: np.ndarray  # every list's movies, list after list
    lengths: np.ndarray  # (n,) movies per list
    hits: int  # lists that held the watched movie before it was appended
    explored: int  # exploratory slots
    listed: int  # slots listed (before appending)


def build_lists(
    bank: RowBank,
    sub: np.ndarray,
    states: np.ndarray,
    clicked: np.ndarray,
    k: int,
    epsilon: float,
    rng: np.random.Generator | None,
) -> RoundLists:
    """The round's epsilon-greedy lists from the rows read at its start.

    Greedy top-k of the merged rows with the state's movies blocked, then the exploratory
    slots with the driver's one ``rng``: ``2k`` draws per list in transition order (drawn for a
    block of lists at once, which gives the same numbers). The talk's rule then appends the
    watched movie to each list that missed it.
    """
    n, n_items = len(clicked), bank.n_items
    kk = min(k, n_items - states.shape[1])
    explores = rng is not None and epsilon > 0.0 and kk > 0
    parts, lengths = [], []
    hits = explored = 0
    for c in range(0, n, CHUNK):  # chunks bound the memory of the merged rows
        d = min(c + CHUNK, n)
        merged = bank.merged(sub[c:d])
        merged[np.arange(d - c)[:, None], states[c:d]] = -np.inf
        chosen = top_k_many(merged, kk)
        if explores:
            u = rng.random((d - c, 2 * kk))  # type: ignore[union-attr]
            chosen, explore = explore_rows(chosen, states[c:d], u, n_items, epsilon)
            explored += int(explore.sum())
        hit = (chosen == clicked[c:d, None]).any(axis=1)
        hits += int(hit.sum())
        with_clicked = np.concatenate([chosen, clicked[c:d, None]], axis=1)
        keep = np.ones(with_clicked.shape, dtype=bool)
        keep[:, -1] = ~hit
        parts.append(with_clicked[keep])  # row-major: each list, in order
        lengths.append(kk + (~hit).astype(np.int64))
    actions = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    length = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
    return RoundLists(actions, length, hits, explored, kk * n)


def round_targets(
    lists: RoundLists,
    clicked: np.ndarray,
    future: np.ndarray,
    reward: float,
    penalty: float,
    gamma: float,
) -> np.ndarray:
    """Every listed movie's target ``r + gamma * max_a' Q(s', a')`` (float64), elementwise as
    :func:`~odsc_recsys.qtables.td_target`: ``+reward`` for the watched movie, ``-penalty``
    for the others."""
    rewards = np.where(lists.actions == np.repeat(clicked, lists.lengths), reward, -penalty)
    return td_target(rewards, gamma, np.repeat(future, lists.lengths))  # type: ignore[arg-type]


def split_updates(
    sub: np.ndarray,
    sub_shard: np.ndarray,
    lists: RoundLists,
    targets: np.ndarray,
    n_shards: int,
) -> dict[int, Updates]:
    """Each shard's :class:`Updates`: every sub-state row it owns, in transition order, with
    its transition's actions and targets (shards without a row get none)."""
    lengths = lists.lengths
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    flat_ids, flat_shard = sub.ravel(), sub_shard.ravel()
    flat_tx = np.repeat(np.arange(len(sub)), sub.shape[1])
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
            actions=lists.actions[gather],
            targets=targets[gather],
        )
    return updates


def substate_ids_many(layout: GenreLayout, states: Sequence[tuple[int, ...]]) -> np.ndarray:
    """Global ids of the sub-states of valid states of any length, ``(n, 3)`` padded with -1:
    the full states in one batch, the shorter ones one by one."""
    sub = np.full((len(states), HISTORY_LENGTH), -1, dtype=np.int64)
    full = [j for j, items in enumerate(states) if len(items) == HISTORY_LENGTH]
    if full:
        sub[full] = layout.substate_ids_batch(np.array([states[j] for j in full]))
    for j, items in enumerate(states):
        if len(items) != HISTORY_LENGTH:
            ids = layout.substate_ids(items)
            sub[j, : len(ids)] = ids
    return sub
