"""Tests of the sharded Q-tables: equivalence with GenreQTables, staleness, balance, recovery.

Most tests run the round protocol in process (``ClusterConfig(in_process=True)``: the same
driver and shard code without Dask), which is fast enough for property tests. The cluster
tests share one module-scoped ``LocalCluster`` (two worker processes) and connect to it by
address; the shutdown test starts and stops its own.
"""

from __future__ import annotations

import copy
import itertools
import logging
import time
from types import SimpleNamespace

import numpy as np
import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys.distributed import (
    CheckpointConfig,
    ClusterConfig,
    DistributedQTables,
    QTableShard,
    plan_shards,
)
from odsc_recsys.metrics import evaluate
from odsc_recsys.qtables import GenreQTables, replay_train
from odsc_recsys.sessions import Transitions

# A small catalogue: 30 movies in 5 genres of unequal size (sizes 11, 8, 6, 4, 1).
GENRE_OF = np.array([0] * 11 + [1] * 8 + [2] * 6 + [3] * 4 + [4])[
    np.random.default_rng(5).permutation(30)
]
NAMES = ["Drama", "Comedy", "Action", "Horror", "War"]
N_ITEMS = len(GENRE_OF)


def in_process(n_shards: int | None = None) -> ClusterConfig:
    """The round protocol without Dask (shards as plain objects in this process)."""
    return ClusterConfig(in_process=True, n_shards=n_shards)


def transitions(n: int, seed: int, n_items: int = N_ITEMS, width: int = 3) -> Transitions:
    """Random transitions: ``width`` distinct movies, then a different next movie (one user
    per transition)."""
    rng = np.random.default_rng(seed)
    rows = np.array([rng.choice(n_items, width + 1, replace=False) for _ in range(n)])
    return Transitions(users=np.arange(n), states=rows[:, :width], targets=rows[:, width],
                       positions=np.full(n, width))  # fmt: skip


def assert_same_tables(dq: DistributedQTables, ref: GenreQTables) -> None:
    for g in range(ref.n_tables):
        np.testing.assert_array_equal(dq.table(g), ref.table(g), err_msg=f"table {g}")


def stale_reference(
    data: SimpleNamespace, round_size: int, rng: np.random.Generator | None, k: int = 10
) -> GenreQTables:
    """Rounds written out with GenreQTables's public API: each round's lists and bootstrap
    values come from a snapshot taken at the start of the round; the updates are then applied
    to the live tables in order, with GenreQTables's arithmetic."""
    live = GenreQTables(GENRE_OF, NAMES)
    n = len(data.targets)
    for a in range(0, n, round_size):
        snap = copy.deepcopy(live)
        planned = []
        for state, clicked in zip(data.states[a : a + round_size].tolist(), data.targets[a : a + round_size].tolist(), strict=True):  # fmt: skip
            actions = snap.recommend(state, k=k, rng=rng).items
            if clicked not in actions:
                actions = np.append(actions, clicked)
            nxt = (state + [clicked])[-3:]
            future = max(float(snap.q_row(s).max()) for s in snap.decompose(nxt) if clicked in s.items)  # fmt: skip
            planned.append((state, actions, clicked, future))
        for state, actions, clicked, future in planned:
            target = np.where(actions == clicked, 15.0, -5.0) + live.gamma * future
            for sub in live.decompose(state):
                row = live.store.writable_row(sub.genre, sub.row)  # white box: write a row
                old = row[actions]
                row[actions] = old + live.alpha * (target - old)
    return live


# ---------------------------------------------------------------------------- shard plan


def test_plan_by_hand():
    plan = plan_shards(np.array([5, 9, 2, 7, 4]), 2)
    # Largest first, each to the lighter shard: 9 -> s0; 7 -> s1; 5 -> s1 (7 < 9, now 12);
    # 4 -> s0 (9 < 12, now 13); 2 -> s1 (12 < 13, now 14).
    assert plan.shards == ((1, 4), (0, 2, 3))
    assert plan.loads.tolist() == [13, 14]
    assert plan.owner.tolist() == [1, 0, 1, 1, 0]


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=25), st.integers(1, 8))
@settings(max_examples=200, deadline=None)
def test_plan_is_a_balanced_partition(sizes, n_shards):
    n_shards = min(n_shards, len(sizes))
    plan = plan_shards(np.array(sizes, dtype=np.int64), n_shards)
    owned = sorted(g for shard in plan.shards for g in shard)
    assert owned == list(range(len(sizes)))  # every table on exactly one shard
    loads = plan.loads
    assert loads.sum() == sum(sizes)
    assert loads.max() <= loads.mean() + max(sizes)  # the list-scheduling bound
    assert all(len(shard) >= 1 for shard in plan.shards)


@given(st.lists(st.integers(0, 100), min_size=1, max_size=7), st.integers(1, 3))
@settings(max_examples=100, deadline=None)
def test_plan_is_within_graham_bound_of_the_best(sizes, n_shards):
    """LPT's largest load is at most (4/3 - 1/(3m)) times the best possible (brute force)."""
    n_shards = min(n_shards, len(sizes))
    plan = plan_shards(np.array(sizes, dtype=np.int64), n_shards)
    best = min(
        max(
            sum(w for w, s in zip(sizes, assign, strict=True) if s == shard)
            for shard in range(n_shards)
        )  # fmt: skip
        for assign in itertools.product(range(n_shards), repeat=len(sizes))
    )
    assert plan.loads.max() <= (4 / 3 - 1 / (3 * n_shards)) * best + 1e-9


def test_plan_rejects_bad_input():
    with pytest.raises(ValueError, match="n_shards must be between 1 and the number of tables"):
        plan_shards(np.array([1, 2]), 3)
    with pytest.raises(ValueError, match="non-negative"):
        plan_shards(np.array([1, -2]), 1)
    with pytest.raises(ValueError, match="integer array"):
        plan_shards(np.array([1.5, 2.0]), 1)


# ---------------------------------------------------------------------------- in process


@pytest.mark.parametrize("storage", ["dense", "lazy"])
@given(seed=st.integers(0, 2**32 - 1), explore=st.booleans(), n_shards=st.integers(1, 5))
@settings(max_examples=15, deadline=None)
def test_round_of_one_equals_replay_train(storage, seed, explore, n_shards):
    data = transitions(60, seed)
    ref = GenreQTables(GENRE_OF, NAMES)
    ref_log = replay_train(ref, data, epochs=2, rng=np.random.default_rng(seed) if explore else None)  # fmt: skip
    with DistributedQTables(GENRE_OF, NAMES, storage=storage, cluster=in_process(n_shards)) as dq:  # fmt: skip
        log = dq.train(data, epochs=2, rng=np.random.default_rng(seed) if explore else None, round_size=1)  # fmt: skip
        assert_same_tables(dq, ref)
    assert log[["hit_rate", "explored"]].equals(ref_log[["hit_rate", "explored"]])
    assert log["rounds"].tolist() == [60, 60]


@pytest.mark.parametrize("round_size", [2, 7, 25])
def test_larger_rounds_read_the_start_of_round(round_size):
    data = transitions(80, seed=11)
    want = stale_reference(data, round_size, np.random.default_rng(4))
    with DistributedQTables(GENRE_OF, NAMES, cluster=in_process(3)) as dq:
        dq.train(data, rng=np.random.default_rng(4), round_size=round_size)
        assert_same_tables(dq, want)
        assert dq.stats.rounds == -(-80 // round_size)


def test_vectorised_waves_equal_updates_in_order():
    """Dense shards apply a round in waves; lazy shards one update at a time. Rounds of 200
    on 30 movies repeat rows many times, and both must give the same tables."""
    data = transitions(400, seed=12)
    tables = []
    for storage in ["dense", "lazy"]:
        with DistributedQTables(GENRE_OF, NAMES, storage=storage, cluster=in_process()) as dq:
            dq.train(data, rng=np.random.default_rng(3), round_size=200, epochs=2)
            tables.append([dq.table(g) for g in range(5)])
    for dense, lazy in zip(*tables, strict=True):
        np.testing.assert_array_equal(dense, lazy)


# A planted world small enough to train by hand: movies 0, 1 in genre A and 2, 3 in genre B,
# states of one movie, greedy lists of one movie, alpha = gamma = 0.5 (exact in float32).
# Transition 1: (0,) -> 2; transition 2: (0,) -> 3; transition 3: (2,) -> 0.
PLANTED = SimpleNamespace(states=np.array([[0], [0], [2]]), targets=np.array([2, 3, 0]))
PLANTED_GENRES, PLANTED_NAMES = np.array([0, 0, 1, 1]), ["A", "B"]
# Row 0 of table A is the single {0}, row 0 of table B the single {2}; nothing else is written.
# B = 1 (one transition at a time, replay_train):
#   1. row {0} is all zero: list [1], append 2; s' = {2} (another genre), max 0.
#      Q({0}, 1) = .5 * -5 = -2.5, Q({0}, 2) = .5 * 15 = 7.5.
#   2. row {0} = [0, -2.5, 7.5, 0], 0 blocked: list [2], append 3; s' = {3}, max 0.
#      Q({0}, 2) = 7.5 + .5 * (-5 - 7.5) = 1.25, Q({0}, 3) = 7.5.
#   3. row {2} all zero: list [0], a hit; s' = {0}, max 7.5: target 15 + .5 * 7.5 = 18.75.
#      Q({2}, 0) = .5 * 18.75 = 9.375.
# B = 3 (one round, every read at its start, when all is zero):
#   1. as above; 2. list [1] (row {0} read as zeros), append 3: Q({0}, 1) = -2.5 + .5 *
#   (-5 + 2.5) = -3.75, Q({0}, 3) = 7.5, and Q({0}, 2) stays 7.5; 3. s' = {0} read as zeros:
#   target 15, Q({2}, 0) = 7.5.
# B = 2: transitions 1-2 as in B = 3; transition 3 opens round 2 and reads max 7.5: 9.375.
PLANTED_TABLES = {
    1: ([0.0, -2.5, 1.25, 7.5], [9.375, 0.0, 0.0, 0.0]),
    2: ([0.0, -3.75, 7.5, 7.5], [9.375, 0.0, 0.0, 0.0]),
    3: ([0.0, -3.75, 7.5, 7.5], [7.5, 0.0, 0.0, 0.0]),
}


def planted_tables(row_a: list[float], row_b: list[float]) -> list[np.ndarray]:
    """The two 3-row tables of the planted world with only their row 0 written."""
    out = [np.zeros((3, 4), dtype=np.float32), np.zeros((3, 4), dtype=np.float32)]
    out[0][0], out[1][0] = row_a, row_b
    return out


@pytest.mark.parametrize("storage", ["dense", "lazy"])
@pytest.mark.parametrize("n_shards", [1, 2])
@pytest.mark.parametrize("round_size", [1, 2, 3])
def test_a_round_reads_the_values_at_its_start(round_size, n_shards, storage):
    """The exact tables of the planted world, computed by hand above: a round's lists and
    bootstrap values see none of its own updates, and every update is still applied."""
    want = planted_tables(*PLANTED_TABLES[round_size])
    with DistributedQTables(PLANTED_GENRES, PLANTED_NAMES, alpha=0.5, gamma=0.5,
                            storage=storage, cluster=in_process(n_shards)) as dq:  # fmt: skip
        log = dq.train(PLANTED, round_size=round_size, k=1)
        for g in range(2):
            np.testing.assert_array_equal(dq.table(g), want[g], err_msg=f"table {g}")
        assert dq.stats.rounds == -(-3 // round_size)
        # Rows read per round are the distinct current sub-states: {0}, {0}, {2} one at a
        # time; {0} once and {2} once in rounds of two or three.
        assert dq.stats.rows_read == {1: 3, 2: 2, 3: 2}[round_size]
    assert log["hit_rate"].tolist() == [1 / 3]


def test_planted_world_by_hand_is_replay_train():
    """B = 1's hand-computed tables are replay_train's, bit for bit."""
    ref = GenreQTables(PLANTED_GENRES, PLANTED_NAMES, alpha=0.5, gamma=0.5)
    replay_train(ref, PLANTED, k=1)
    for g, want in enumerate(planted_tables(*PLANTED_TABLES[1])):
        np.testing.assert_array_equal(ref.table(g), want, err_msg=f"table {g}")


def test_one_call_per_shard_per_round_and_byte_counts():
    data = transitions(50, seed=3)
    with DistributedQTables(GENRE_OF, NAMES, cluster=in_process(2)) as dq:
        dq.train(data, round_size=10)
        stats = dq.stats
        # 5 rounds, one call per shard each, plus the call that applies the last round.
        assert (stats.rounds, stats.calls) == (5, 2 * 6)
        assert stats.shard_calls == [6, 6]
        # Every transition updates all its sub-state rows once.
        index = dq.layout
        n_subs = sum(len(index.substate_ids(s)) for s in data.states.tolist())
        assert stats.updates == n_subs == sum(stats.shard_updates)
        # Each round returns the rows it reads: rows x 30 movies x 4 bytes, plus one float64
        # bootstrap value per transition.
        assert stats.bytes_received == stats.rows_read * N_ITEMS * 4 + 50 * 8


def test_serving_equals_genre_tables():
    data = transitions(200, seed=8)
    ref = GenreQTables(GENRE_OF, NAMES, prior=np.linspace(1, 0, N_ITEMS))
    replay_train(ref, data, rng=np.random.default_rng(1))
    with DistributedQTables(GENRE_OF, NAMES, prior=np.linspace(1, 0, N_ITEMS), cluster=in_process()) as dq:  # fmt: skip
        dq.train(data, rng=np.random.default_rng(1), round_size=1)
        states = [[], [3], [4, 9], *data.states[:20].tolist()]
        excludes = [None, [0, 1], [7], *data.states[20:40].tolist()]
        recs = dq.recommend_batch(states, k=8, excludes=excludes)
        for j, (state, exclude) in enumerate(zip(states, excludes, strict=True)):
            want = ref.recommend(state, k=8, exclude=exclude).items
            np.testing.assert_array_equal(recs[j, : len(want)], want)
            np.testing.assert_array_equal(dq.score(state), ref.score(state))
        gathered = dq.to_genre_tables()
        assert_same_tables(dq, gathered)
        np.testing.assert_array_equal(gathered.prior, ref.prior)
        assert (gathered.alpha, gathered.gamma, gathered.epsilon) == (0.8, 0.4, 0.3)


def test_evaluate_through_the_protocol_is_batched_and_equals_gathered_tables(monkeypatch):
    data = transitions(150, seed=2)
    histories = {u: np.random.default_rng(u).choice(N_ITEMS, 6, replace=False) for u in range(12)}
    test = Transitions(
        users=np.arange(12),
        states=np.array([h[2:5] for h in histories.values()]),
        targets=np.array([h[5] for h in histories.values()]),
        positions=np.full(12, 5),  # prefixes: each user's first 5 movies
    )
    with DistributedQTables(GENRE_OF, NAMES, cluster=in_process(2)) as dq:
        dq.train(data, round_size=16)
        want = evaluate(dq.to_genre_tables().as_recommender(), test, k=5, histories=histories, name="q")  # fmt: skip
        policy = dq.as_recommender("q")
        calls = []
        real_call = dq.pool.call
        monkeypatch.setattr(dq.pool, "call", lambda todo, **kw: calls.append(sorted(todo)) or real_call(todo, **kw))  # fmt: skip
        got = evaluate(policy, test, k=5, histories=histories)
        assert got.equals(want)
        # 12 requests, fewer than REQUEST_CHUNK: one fan-out, one call to each shard
        assert calls == [[0, 1]]
        # each row is the policy's own recommend(history, exclude=history), padded with -1
        lists = policy.recommend_many(test.prefixes(histories), k=5)
        for j, prefix in enumerate(test.prefixes(histories)):
            one = policy.recommend(prefix, k=5, exclude=prefix)
            np.testing.assert_array_equal(lists[j, : len(one)], one)
            assert (lists[j, len(one) :] == -1).all()


def test_checkpoint_and_resume(tmp_path):
    data = transitions(90, seed=6)
    every_4 = CheckpointConfig(every=4, dir=tmp_path)
    with DistributedQTables(GENRE_OF, NAMES, cluster=in_process(), checkpoint=every_4) as dq:
        dq.train(data, round_size=10)  # 9 rounds: checkpoints at 4, 8 and the end (9)
        assert (dq.checkpoint_round, dq.committed_round) == (9, 9)
        tables = [dq.table(g) for g in range(5)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.json", "round-00000009"]
    resume = CheckpointConfig(dir=tmp_path, resume=True)
    with DistributedQTables(GENRE_OF, NAMES, cluster=in_process(4), checkpoint=resume) as dq:
        assert dq.committed_round == 9
        for g in range(5):
            np.testing.assert_array_equal(dq.table(g), tables[g])
    with pytest.raises(ValueError, match="already holds a checkpoint"):
        DistributedQTables(GENRE_OF, NAMES, cluster=in_process(), checkpoint=CheckpointConfig(dir=tmp_path))  # fmt: skip
    with pytest.raises(ValueError, match="the checkpoint's n_items is 30"):
        DistributedQTables(np.zeros(31, dtype=int), ["a"], cluster=in_process(), checkpoint=resume)


def test_shard_is_idempotent_per_round_and_refuses_gaps():
    shard = QTableShard([0], [0, 3], n_items=4, alpha=0.5)
    updates = SimpleNamespace(
        ids=np.array([1]),
        entry_tx=np.array([0]),
        offsets=np.array([0, 2]),
        actions=np.array([0, 3]),
        targets=np.array([10.0, -2.0]),
    )
    shard.step(1, updates, None)
    shard.step(1, updates, None)  # a retried call: not applied twice
    np.testing.assert_array_equal(shard.table(0)[1], [5.0, 0.0, 0.0, -1.0])
    with pytest.raises(RuntimeError, match="rounds in between must be replayed"):
        shard.step(3, updates, None)


def test_bad_input_is_refused():
    with DistributedQTables(GENRE_OF, NAMES, cluster=in_process()) as dq:
        with pytest.raises(ValueError, match="already in its state"):
            dq.train(SimpleNamespace(states=np.array([[1, 2, 3]]), targets=np.array([2])))
        with pytest.raises(ValueError, match="unknown movie index 30"):
            dq.train(SimpleNamespace(states=np.array([[1, 2, 30]]), targets=np.array([4])))
        with pytest.raises(ValueError, match="same movie twice"):
            dq.train(SimpleNamespace(states=np.array([[1, 1, 2]]), targets=np.array([4])))
        with pytest.raises(ValueError, match="round_size must be a positive integer"):
            dq.train(transitions(3, 0), round_size=0)
        with pytest.raises(ValueError, match="at most 3 movies"):
            dq.recommend([1, 2, 3, 4])
    with pytest.raises(RuntimeError, match="closed"):
        dq.recommend([1])
    with pytest.raises(ValueError, match="storage must be one of"):
        DistributedQTables(GENRE_OF, NAMES, storage="sparse", cluster=in_process())
    with pytest.raises(ValueError, match="alpha"):
        DistributedQTables(GENRE_OF, NAMES, alpha=0.0, cluster=in_process())
    with pytest.raises(ValueError, match="cluster must be a ClusterConfig, got"):
        DistributedQTables(GENRE_OF, NAMES, cluster={"in_process": True})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="checkpoint dir must name a folder every worker"):
        DistributedQTables(GENRE_OF, NAMES, cluster=ClusterConfig(address="tcp://127.0.0.1:1"),
                           checkpoint=CheckpointConfig(every=5))  # fmt: skip


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ClusterConfig(address="tcp://h:1", in_process=True), "either an address or in_process"),
        (lambda: ClusterConfig(address=8786), "address must be a scheduler address string, got 8786"),
        (lambda: ClusterConfig(n_workers=0), "n_workers must be a positive integer, got 0"),
        (lambda: ClusterConfig(n_shards=2.0), "n_shards must be a positive integer or None, got 2.0"),
        (lambda: ClusterConfig(call_timeout=0), "call_timeout must be a finite number > 0, got 0"),
        (lambda: ClusterConfig(connect_timeout=float("nan")), "connect_timeout must be"),
        (lambda: ClusterConfig(in_process=1), "in_process must be True or False, got 1"),
        (lambda: CheckpointConfig(every=0), r"every \(rounds between checkpoints\) must be a positive integer or None, got 0"),
        (lambda: CheckpointConfig(resume=True), "resume=True needs the checkpoint dir"),
        (lambda: CheckpointConfig(dir=3), "dir must be a folder path or None, got 3"),
    ],
)  # fmt: skip
def test_settings_are_checked_when_built(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_settings_are_frozen_and_normalised(tmp_path):
    cluster = ClusterConfig(n_workers=np.int64(3), connect_timeout=1)
    assert (type(cluster.n_workers), cluster.connect_timeout) == (int, 1.0)
    assert cluster.starts_cluster and not ClusterConfig(in_process=True).starts_cluster
    checkpoint = CheckpointConfig(every=np.int32(5), dir=tmp_path)
    assert (type(checkpoint.every), checkpoint.dir) == (int, str(tmp_path))
    with pytest.raises(AttributeError):
        cluster.n_workers = 4  # type: ignore[misc]


# ---------------------------------------------------------------------------- on a cluster


@pytest.fixture(scope="module")
def local_cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as local:
        yield local


def on(cluster: object) -> ClusterConfig:
    """Settings that connect to a running cluster by its scheduler's address."""
    return ClusterConfig(address=cluster.scheduler_address)  # type: ignore[attr-defined]


def test_cluster_round_of_one_equals_replay_train(local_cluster):
    data = transitions(80, seed=21)
    for rng_seed in [None, 9]:
        ref = GenreQTables(GENRE_OF, NAMES)
        replay_train(ref, data, rng=None if rng_seed is None else np.random.default_rng(rng_seed))
        with DistributedQTables(GENRE_OF, NAMES, cluster=on(local_cluster)) as dq:
            assert dq.plan.n_shards == 2
            assert len(set(dq.shard_workers)) == 2  # one shard per worker process
            dq.train(data, rng=None if rng_seed is None else np.random.default_rng(rng_seed), round_size=1)  # fmt: skip
            assert_same_tables(dq, ref)
            # Serving fans out to the shards and merges: the same lists as one process.
            recs = dq.recommend_batch(data.states[:30].tolist(), k=10)
            for j in range(30):
                np.testing.assert_array_equal(recs[j], ref.recommend(data.states[j], k=10).items)


def test_cluster_rounds_equal_in_process_rounds(local_cluster):
    data = transitions(300, seed=22)
    with DistributedQTables(GENRE_OF, NAMES, cluster=in_process()) as local:
        local.train(data, rng=np.random.default_rng(2), round_size=32)
        with DistributedQTables(GENRE_OF, NAMES, cluster=on(local_cluster)) as dq:
            dq.train(data, rng=np.random.default_rng(2), round_size=32)
            for g in range(5):
                np.testing.assert_array_equal(dq.table(g), local.table(g))
            assert dq.stats.bytes_sent == local.stats.bytes_sent
            assert dq.stats.bytes_received == local.stats.bytes_received


def test_cluster_recovers_a_killed_worker(local_cluster, tmp_path):
    """Kill the worker process of shard 0 after round 10 of 15 (checkpoints every 4 rounds):
    the shard is rebuilt from the round-8 checkpoint, rounds 9-10 are replayed from the log,
    the round in flight is retried, and the tables equal an uninterrupted run's exactly."""
    data = transitions(300, seed=23)
    with DistributedQTables(GENRE_OF, NAMES, cluster=in_process()) as local:
        local.train(data, rng=np.random.default_rng(5), round_size=20)
        want = [local.table(g) for g in range(5)]
    with DistributedQTables(
        GENRE_OF,
        NAMES,
        cluster=on(local_cluster),
        checkpoint=CheckpointConfig(every=4, dir=tmp_path),
    ) as dq:
        before = dq.worker_pids()
        killed = []

        def crash(round_: int) -> None:
            if round_ == 10:
                proc = psutil.Process(before[0])
                proc.kill()
                proc.wait(timeout=10)
                killed.append(round_)

        start = time.monotonic()
        dq.train(data, rng=np.random.default_rng(5), round_size=20, on_round=crash)
        assert time.monotonic() - start < 60  # detected via the scheduler, not a 30 s timeout
        assert killed == [10]
        assert (dq.stats.recoveries, dq.stats.replayed_rounds) == (1, 2)  # rounds 9 and 10
        assert (dq.committed_round, dq.checkpoint_round) == (15, 15)
        after = dq.worker_pids()
        assert after[0] != before[0] and after[1] == before[1]
        for g in range(5):
            np.testing.assert_array_equal(dq.table(g), want[g], err_msg=f"table {g}")


def test_unreachable_scheduler_raises_a_clear_error():
    start = time.monotonic()
    with pytest.raises(ConnectionError, match=r"cannot reach the Dask scheduler at 'tcp://127\.0\.0\.1:1' within 1 s"):  # fmt: skip
        DistributedQTables(GENRE_OF, NAMES, cluster=ClusterConfig(address="tcp://127.0.0.1:1", connect_timeout=1))  # fmt: skip
    assert time.monotonic() - start < 10
    with pytest.raises(ValueError, match="invalid scheduler address 'no-port'"):
        DistributedQTables(GENRE_OF, NAMES, cluster=ClusterConfig(address="no-port", connect_timeout=1))  # fmt: skip


def _worker_processes() -> set[int]:
    """Child processes of this test process, except multiprocessing's resource tracker (one
    per interpreter, shared, not a worker)."""
    out = set()
    for proc in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(proc.cmdline()):
                out.add(proc.pid)
        except psutil.NoSuchProcess:
            pass
    return out


def test_clean_shutdown_leaves_no_worker_processes():
    before = _worker_processes()
    local, every_2 = ClusterConfig(n_workers=2), CheckpointConfig(every=2)
    with DistributedQTables(GENRE_OF, NAMES, cluster=local, checkpoint=every_2) as dq:
        during = _worker_processes() - before
        pids = set(dq.worker_pids().values())
        assert pids <= during and len(pids) == 2
        folder = dq.checkpoint_dir
        dq.train(transitions(40, seed=1), round_size=10)
    gone, alive = psutil.wait_procs([psutil.Process(p) for p in during if psutil.pid_exists(p)], timeout=10)  # fmt: skip
    assert not alive
    assert not (_worker_processes() - before)
    assert folder is not None and not __import__("os").path.exists(folder)  # temp folder gone
    dq.close()  # closing twice is harmless


# ---------------------------------------------------------------------------- serving chunks


def test_serving_in_chunks_gives_the_same_lists_and_one_call_per_shard_per_chunk(monkeypatch):
    import odsc_recsys.distributed as distributed

    assert distributed.REQUEST_CHUNK == 4096
    data = transitions(120, seed=4)
    with DistributedQTables(GENRE_OF, NAMES, cluster=in_process(2)) as dq:
        dq.train(data, rng=np.random.default_rng(0), round_size=8)
        states = data.states[:50].tolist()
        whole = dq.recommend_batch(states, k=6)
        calls = []
        real_call = dq.pool.call
        monkeypatch.setattr(dq.pool, "call", lambda todo, **kw: calls.append(sorted(todo)) or real_call(todo, **kw))  # fmt: skip
        np.testing.assert_array_equal(dq.recommend_batch(states, k=6, chunk=16), whole)
        # 50 requests in chunks of 16: 4 fan-outs, each asking only the shards it needs
        assert len(calls) == 4 and all(set(c) <= {0, 1} for c in calls)
        for bad in (0, -3, 2.5, True):
            with pytest.raises(ValueError, match="chunk must be a positive integer"):
                dq.recommend_batch(states, k=6, chunk=bad)


# ---------------------------------------------------------------------------- figures


def test_sharding_figure_names_every_genre_once_on_a_bar_or_in_the_legend():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from odsc_recsys.distributed import plot_shard_plans, plot_sharding

    sizes = np.array([900, 40, 300, 10, 250, 5])
    names = ["Comedy", "Action", "Drama", "Western", "Romance", "Film-Noir"]
    plans = [plan_shards(sizes, 2), plan_shards(sizes, 3)]
    fig = plot_shard_plans(plans, names)
    assert [ax.get_title() for ax in fig.axes] == ["2 workers", "3 workers"]
    for ax in fig.axes:
        on_bars = [t.get_text() for t in ax.texts]
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend[0] == "mean load"
        assert sorted(on_bars + legend[1:]) == sorted(names)
        assert "Comedy" in on_bars and "Film-Noir" in legend  # the largest fits, the tiniest not
    plt.close(fig)
    ax = plot_sharding(plans[0], names)
    assert ax.get_xlabel() == "dense table size (MB)"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="must name the plan's 6 tables, got 2"):
        plot_sharding(plans[0], names[:2])
    with pytest.raises(ValueError, match="1 titles for 2 plans"):
        plot_shard_plans(plans, names, titles=["one"])


# ---------------------------------------------------------------------------- round-size sweep


def test_round_size_sweep_runs_each_seed_and_size_and_b1_is_replay_train():
    from odsc_recsys.distributed import (
        plot_round_size_shift,
        plot_round_size_sweep,
        round_size_sweep,
    )

    train, test = transitions(60, seed=11), transitions(25, seed=12)
    sweep = round_size_sweep(GENRE_OF, NAMES, train, test, [1, 7, 60], seeds=[3, 4], k=5)
    assert sweep[["seed", "B"]].values.tolist() == [[3, 1], [3, 7], [3, 60], [4, 1], [4, 7], [4, 60]]  # fmt: skip
    assert sweep["rounds"].tolist() == [60, 9, 1] * 2  # ceil(60 / B) rounds, B = 1 one per step
    for seed in (3, 4):
        ref = GenreQTables(GENRE_OF, NAMES)
        log = replay_train(ref, train, rng=np.random.default_rng(seed), k=5)
        want = evaluate(ref.as_recommender(), test, k=5)
        got = sweep[(sweep.seed == seed) & (sweep.B == 1)].iloc[0]
        assert got["HR@5"] == want["HR@5"].iloc[0] and got["MRR"] == want["MRR"].iloc[0]
        assert got["train_hit_rate"] == log["hit_rate"].iloc[0]
        # B = 7 is the round protocol itself
        with DistributedQTables(GENRE_OF, NAMES, cluster=in_process()) as dq:
            dq.train(train, rng=np.random.default_rng(seed), round_size=7, k=5)
            want7 = evaluate(dq.as_recommender(), test, k=5)
        assert sweep[(sweep.seed == seed) & (sweep.B == 7)].iloc[0]["HR@5"] == want7["HR@5"].iloc[0]
    ax = plot_round_size_sweep(sweep, metrics=("HR@5",))
    assert ax.get_xscale() == "log" and "2 seeds" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "7", "60"]
    ax = plot_round_size_shift(sweep, "HR@5", baseline=1)
    wide = sweep.pivot(index="seed", columns="B", values="HR@5")
    mean_line = ax.get_lines()[0]  # the mean over seeds of each seed's shift from B = 1
    np.testing.assert_allclose(mean_line.get_ydata(), (wide[[7, 60]].sub(wide[1], axis=0)).mean())
    with pytest.raises(ValueError, match="baseline round size 2 is not in the sweep"):
        plot_round_size_shift(sweep, "HR@5", baseline=2)
    with pytest.raises(ValueError, match=r"no column\(s\) \['HR@10', 'NDCG@10'\]"):
        plot_round_size_sweep(sweep)
    with pytest.raises(ValueError, match="round_sizes must be positive integers"):
        round_size_sweep(GENRE_OF, NAMES, train, test, [0, 4], seeds=[1])
    with pytest.raises(ValueError, match="round_sizes must be positive integers"):
        round_size_sweep(GENRE_OF, NAMES, train, test, [2.5], seeds=[1])
    with pytest.raises(ValueError, match="seeds must hold at least one seed"):
        round_size_sweep(GENRE_OF, NAMES, train, test, [1], seeds=[])
