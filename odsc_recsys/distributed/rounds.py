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

:func:`prepare` checks the transitions; the functions after it check their settings (sizes,
``k``, ``epsilon``, ``gamma``, rewards) and that their arrays agree in length, and take the
arrays :func:`prepare` made as valid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any, NamedTuple

import numpy as np

from .. import checks
from ..qtables import HISTORY_LENGTH, GenreLayout, check_transitions, policy, td_target
from .messages import Reads, Updates

__all__ = [
    "CHUNK",
    "Prepared",
    "RoundLists",
    "RowBank",
    "build_lists",
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
    """Check and decompose transitions: their sub-states, next sub-states and the shards of
    both.

    ``states`` is ``(n, w)`` with ``1 <= w <= 3`` distinct catalogue movies per row and
    ``targets`` the ``n`` movies watched next (none in its state), as
    :func:`~odsc_recsys.qtables.replay_train` requires; ``owner`` the shard of each table
    (:attr:`ShardPlan.owner`).
    """
    if not isinstance(layout, GenreLayout):
        raise ValueError(f"layout must be a GenreLayout, got {layout!r}")
    owner = np.asarray(owner)
    if owner.shape != (layout.n_tables,) or owner.dtype.kind not in "iu" or (owner < 0).any():
        raise ValueError(f"owner must give the shard (an integer >= 0) of each of the "
                         f"{layout.n_tables} tables, got {owner!r}")  # fmt: skip
    # check_transitions reads only n_items of its tables, which the layout has
    given = SimpleNamespace(states=states, targets=targets)
    states, targets = check_transitions(layout, given)  # type: ignore[arg-type]
    if states.shape[1] == 0:
        raise ValueError("transitions need states of 1 to 3 movies, got empty states")
    if len(targets) == 0:
        raise ValueError("transitions must hold at least one transition to train on, got none")
    sub = layout.substate_ids_batch(states)
    future = layout.future_ids_batch(states, targets)
    return Prepared(states, targets, sub, shard_of_ids(layout, owner, sub), future,
                    shard_of_ids(layout, owner, future[:, 0]))  # fmt: skip


def plan_reads(
    sub: np.ndarray,
    sub_shard: np.ndarray,
    n_shards: int,
    future: np.ndarray | None = None,
    future_shard: np.ndarray | None = None,
) -> tuple[dict[int, Reads], dict[int, np.ndarray]]:
    """Each shard's :class:`Reads`, and which transitions its future values belong to."""
    n_shards = checks.positive_int("n_shards", n_shards)  # type: ignore[assignment]
    if np.shape(sub) != np.shape(sub_shard):
        raise ValueError(f"sub_shard must give the shard of each id of sub {np.shape(sub)}, "
                         f"got shape {np.shape(sub_shard)}")  # fmt: skip
    if (future is None) != (future_shard is None):
        raise ValueError("pass future and future_shard together, or neither")
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
    n = checks.count("n", n)
    if sum(len(pos) for pos in positions.values()) != n:
        raise ValueError(f"positions must cover the round's {n} transitions, got "
                         f"{sum(len(pos) for pos in positions.values())}")  # fmt: skip
    future = np.empty(n, dtype=np.float64)
    for s, pos in positions.items():
        future[pos] = results[s]["future"]
    return future


class RowBank:
    """The rows one round read from the shards, looked up by global row id."""

    def __init__(
        self, ids: Sequence[np.ndarray], rows: Sequence[np.ndarray], n_items: int, dtype: Any
    ) -> None:
        n_items = checks.positive_int("n_items", n_items)  # type: ignore[assignment]
        if len(ids) != len(rows):
            raise ValueError(f"rows must hold one block per id array ({len(ids)}), got "
                             f"{len(rows)}")  # fmt: skip
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

    Each transition's merged row goes through :func:`~odsc_recsys.qtables.policy.choose`, in
    transition order with the driver's one ``rng`` (``2k`` draws per list), as
    :func:`~odsc_recsys.qtables.replay_train` does. The talk's rule then appends the watched
    movie to each list that missed it.
    """
    k = checks.count("k", k)
    epsilon = checks.epsilon(epsilon)
    rng = checks.generator("rng", rng, allow_none=True)
    if not len(sub) == len(states) == len(clicked):
        raise ValueError(f"sub, states and clicked must hold one row per transition, got "
                         f"{len(sub)}, {len(states)} and {len(clicked)}")  # fmt: skip
    parts: list[int] = []
    lengths = np.empty(len(clicked), dtype=np.int64)
    hits = explored = listed = 0
    for c in range(0, len(clicked), CHUNK):  # chunks bound the memory of the merged rows
        merged = bank.merged(sub[c : c + CHUNK])  # a fresh array: choose may overwrite a row
        for j, (items, target) in enumerate(
            zip(states[c : c + CHUNK].tolist(), clicked[c : c + CHUNK].tolist(), strict=True)
        ):
            chosen, explore = policy.choose(merged[j], items, k, epsilon, rng)
            listed += len(chosen)
            if explore is not None:
                explored += sum(explore)
            if target in chosen:
                hits += 1
            else:
                chosen.append(target)  # the movie the user really watched is always updated
            parts.extend(chosen)
            lengths[c + j] = len(chosen)
    return RoundLists(np.array(parts, dtype=np.int64), lengths, hits, explored, listed)


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
    reward, penalty = checks.real("reward", reward), checks.real("penalty", penalty)
    gamma = checks.gamma(gamma)
    if not len(clicked) == len(future) == len(lists.lengths):
        raise ValueError(f"clicked and future must hold one value per list "
                         f"({len(lists.lengths)}), got {len(clicked)} and {len(future)}")  # fmt: skip
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
    n_shards = checks.positive_int("n_shards", n_shards)  # type: ignore[assignment]
    if np.shape(sub) != np.shape(sub_shard) or len(sub) != len(lists.lengths):
        raise ValueError(f"sub and sub_shard must have one row per list ({len(lists.lengths)}), "
                         f"got shapes {np.shape(sub)} and {np.shape(sub_shard)}")  # fmt: skip
    if len(targets) != len(lists.actions):
        raise ValueError(f"targets must hold one target per listed movie "
                         f"({len(lists.actions)}), got {len(targets)}")  # fmt: skip
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
