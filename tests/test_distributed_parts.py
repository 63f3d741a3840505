"""Tests of the distributed package's parts, without a driver: the round arithmetic against
GenreQTables, the shard's update waves, checkpoints, the write-ahead log and worker placement."""

from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys.distributed import CheckpointConfig, ClusterConfig, QTableShard, rounds
from odsc_recsys.distributed.checkpoints import MANIFEST, Checkpoints, RoundLog
from odsc_recsys.distributed.messages import Updates
from odsc_recsys.distributed.shard import update_waves
from odsc_recsys.distributed.transport import ShardLost, ShardPool
from odsc_recsys.qtables import GenreQTables, td_targets

GENRE_OF = np.array([0, 1, 0, 2, 1, 0, 0, 2, 1, 0, 3, 0])
NAMES = ["Drama", "Comedy", "Action", "War"]
OWNER = np.array([0, 1, 1, 0])  # two shards


def trained_tables(seed: int) -> GenreQTables:
    """Tables whose rows hold random values, with ties (values on a coarse grid)."""
    tables = GenreQTables(GENRE_OF, NAMES, epsilon=0.4)
    rng = np.random.default_rng(seed)
    for g, n_rows in enumerate(tables.table_rows.tolist()):
        values = rng.integers(-3, 4, size=(n_rows, tables.n_items)).astype(np.float32)
        tables.store.write_rows(g, np.arange(n_rows), values)
    return tables


def all_rows(tables: GenreQTables) -> rounds.RowBank:
    """A bank holding every row, split between the two shards as a round would read them."""
    ids = np.arange(tables.layout.n_rows)
    shard = OWNER[tables.layout.genre_of_ids(ids)]
    flat = np.concatenate([tables.table(g) for g in range(tables.n_tables)])
    parts = [ids[shard == s] for s in (0, 1)]
    return rounds.RowBank(parts, [flat[p] for p in parts], tables.n_items, tables.dtype)


@given(st.integers(0, 2**32 - 1), st.integers(0, 12), st.integers(1, 3), st.booleans())
@settings(max_examples=60, deadline=None)
def test_round_lists_and_targets_are_genre_tables_rules(seed, k, width, explore):
    """build_lists on the rows read at a round's start gives, list for list, what
    GenreQTables.recommend gives on those tables with the same random draws; round_targets
    gives td_targets of each list."""
    tables = trained_tables(seed)
    rng = np.random.default_rng(seed)
    rows = np.array([rng.choice(len(GENRE_OF), width + 1, replace=False) for _ in range(9)])
    states, clicked = rows[:, :width], rows[:, width]
    prep = rounds.prepare(tables.layout, OWNER, states, clicked)
    lists = rounds.build_lists(all_rows(tables), prep.sub, states, clicked, k, tables.epsilon,
                               np.random.default_rng(1) if explore else None)  # fmt: skip
    future = rng.normal(size=len(clicked))
    targets = rounds.round_targets(lists, clicked, future, 15.0, 5.0, tables.gamma)
    draws = np.random.default_rng(1) if explore else None
    ends = np.cumsum(lists.lengths)
    hits = 0
    for j, (state, c) in enumerate(zip(states.tolist(), clicked.tolist(), strict=True)):
        want = tables.recommend(state, k, rng=draws).items
        hits += int(c in want)
        want = want if c in want else np.append(want, c)
        got = lists.actions[ends[j] - lists.lengths[j] : ends[j]]
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(
            targets[ends[j] - lists.lengths[j] : ends[j]],
            td_targets(want, c, 15.0, 5.0, tables.gamma, future[j], done=False),
        )
    assert lists.hits == hits


def test_split_updates_give_each_shard_its_rows_in_transition_order():
    layout = GenreQTables(GENRE_OF, NAMES).layout
    states, clicked = np.array([[0, 1, 3], [2, 5, 6], [4, 8, 10]]), np.array([2, 9, 0])
    prep = rounds.prepare(layout, OWNER, states, clicked)
    lists = rounds.RoundLists(np.array([7, 2, 3, 9, 11, 0]), np.array([2, 2, 2]), 0, 0, 6)
    targets = np.arange(6, dtype=np.float64)
    updates = rounds.split_updates(prep.sub, prep.sub_shard, lists, targets, 2)
    seen = []
    for s, up in updates.items():
        assert (OWNER[layout.genre_of_ids(up.ids)] == s).all()
        for i, row in enumerate(up.ids.tolist()):
            t = up.entry_tx[i]
            seen.append((row, up.actions[up.offsets[t] : up.offsets[t + 1]].tolist(),
                         up.targets[up.offsets[t] : up.offsets[t + 1]].tolist()))  # fmt: skip
        assert np.all(np.diff(up.entry_tx) >= 0)  # transition order
    want = [(row, lists.actions[2 * j : 2 * j + 2].tolist(), targets[2 * j : 2 * j + 2].tolist())
            for j in range(3) for row in prep.sub[j].tolist() if row >= 0]  # fmt: skip
    assert sorted(seen) == sorted(want)


def test_update_waves_count_earlier_updates_of_the_same_row():
    assert update_waves(np.array([5, 3, 5, 5, 3, 8])).tolist() == [0, 0, 1, 2, 1, 0]


@pytest.mark.parametrize("storage", ["dense", "lazy"])
def test_shard_applies_a_round_in_order_with_the_td_step(storage):
    """Row 1 is updated twice in one round: the second update starts from the first's value.
    alpha = 0.5: 0 -> 5 -> 5 + .5 * (1 - 5) = 3 for movie 0; movie 2 -> .5 * 4 = 2."""
    shard = QTableShard([1], [0, 2, 5], n_items=3, alpha=0.5, storage=storage)
    updates = Updates(ids=np.array([3, 3]), entry_tx=np.array([0, 1]), offsets=np.array([0, 1, 3]),
                      actions=np.array([0, 0, 2]), targets=np.array([10.0, 1.0, 4.0]))  # fmt: skip
    out = shard.step(1, updates, rounds.Reads(np.array([3, 4]), np.array([[3, -1], [2, 3]])))
    np.testing.assert_array_equal(out["rows"], [[3.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(out["future"], [3.0, 3.0])
    with pytest.raises(ValueError, match="table 0 is not on this shard"):
        shard.step(None, None, rounds.Reads(np.array([1]), np.zeros((0, 2), dtype=np.int64)))


def test_checkpoints_commit_prune_and_resume(tmp_path):
    identity = {"n_items": 4, "genre_names": ["a", "b"], "dtype": "<f4"}
    shard = QTableShard([0, 1], [0, 3, 5], 4, 0.5, checkpoint_dir=str(tmp_path))
    shard.store.write_rows(1, np.array([1]), np.array([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32))
    points = Checkpoints(CheckpointConfig(every=2, dir=tmp_path), identity)
    assert [points.due(r, final=False) for r in (1, 2, 3, 4)] == [False, True, False, True]
    assert points.due(3, final=True)
    for round_ in (2, 4):
        shard.applied_round = round_
        shard.step(None, None, None, checkpoint=True)
        points.commit(round_)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, "round-00000004"]
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest == {"format": "odsc_recsys.qshards/1", "round": 4, **identity}
    restored = QTableShard([1], [0, 3, 5], 4, 0.5, checkpoint_dir=str(tmp_path), restore_round=4)
    np.testing.assert_array_equal(restored.table(1), shard.table(1))
    assert Checkpoints(CheckpointConfig(dir=tmp_path, resume=True), identity).round == 4
    with pytest.raises(
        ValueError, match="the checkpoint's dtype is '<f4', these tables have '<f8'"
    ):
        Checkpoints(CheckpointConfig(dir=tmp_path, resume=True), {**identity, "dtype": "<f8"})
    with pytest.raises(RuntimeError, match="cannot restore table 1"):
        QTableShard([1], [0, 3, 5], 4, 0.5, checkpoint_dir=str(tmp_path), restore_round=2)


def test_temporary_checkpoint_folder_is_removed():
    points = Checkpoints(CheckpointConfig(every=3), {})
    assert points.folder is not None and os.path.isdir(points.folder)
    points.remove_temporary()
    assert not os.path.exists(points.folder)


def test_round_log_keeps_the_rounds_a_checkpoint_does_not_cover():
    log = RoundLog(start=5)
    for _ in range(3):
        round_ = log.start()
        log.send({0: f"updates {round_}", 1: f"other {round_}"})  # type: ignore[dict-item]
    assert (log.started, log.committed, log.pending_round) == (8, 5, 8)
    log.acknowledged()
    assert (log.committed, log.pending_round, log.pending) == (8, None, {})
    assert log.since(6, shard=0) == [(7, "updates 7"), (8, "updates 8")]
    log.forget_until(7)
    assert log.since(0, shard=1) == [(8, "other 8")]


class FakeClient:
    """The two things placement asks of a Dask client: the live workers, and an actor
    submitted to one of them (recorded, never run)."""

    def __init__(self, workers: list[str]) -> None:
        self.alive = workers
        self.placed_on: list[list[str]] = []

    def scheduler_info(self, n_workers: int = 0) -> dict:
        return {"workers": {w: {} for w in self.alive}}

    def submit(self, *args, workers: list[str], **kwargs) -> SimpleNamespace:
        self.placed_on.append(workers)
        return SimpleNamespace(result=lambda timeout: "actor")


def fake_pool(workers: list[str]) -> ShardPool:
    """A pool that places shards through ``FakeClient`` (no cluster)."""
    pool = ShardPool(ClusterConfig(in_process=True))
    pool.config = ClusterConfig(address="tcp://scheduler:8786")
    pool.client = FakeClient(workers)
    pool.start(2, lambda s, restore_round: (), 0)
    return pool


def test_placement_falls_back_to_the_avoided_worker_when_it_is_the_only_one():
    pool = fake_pool(["tcp://a"])
    assert pool.shard_workers == ["tcp://a", "tcp://a"]  # one worker: both shards share it
    pool.client.alive = ["tcp://b"]  # a replacement joined: a free worker is taken at once
    pool.place(0, 0, wait=30.0, avoid="tcp://a")
    assert pool.shard_workers[0] == "tcp://b"
    pool.client.alive = ["tcp://a"]  # no replacement: after the wait, the avoided one
    start = time.monotonic()
    pool.place(1, 0, wait=0.2, avoid="tcp://a")
    assert pool.shard_workers[1] == "tcp://a" and time.monotonic() - start >= 0.2
    assert pool.client.placed_on[-1] == ["tcp://a"]


def test_placement_fails_when_no_worker_is_left():
    pool = fake_pool(["tcp://a"])
    pool.client.alive = []
    with pytest.raises(ShardLost, match="no live worker to place shard 1 on"):
        pool.place(1, 0, wait=0.2, avoid="tcp://a")
