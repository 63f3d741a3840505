"""The bad-input battery, distributed Q-tables: settings, shard plans, shards, checkpoints, the
driver, its policy, the round-size sweep and the figures' checks.

Every case asserts a ``ValueError`` (a broken checkpoint's ``CheckpointError`` is one; a gap in
a shard's rounds stays a ``RuntimeError``) whose message names the bad value and what is
allowed, and that the shard, the driver, the checkpoint files (and the open figures) are
exactly as before the call. No Dask cluster is started: the driver runs its shards in process
(``ClusterConfig(in_process=True)``, the same driver and shard code), one module-scoped driver
for the read-only and refused calls.
"""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from bad_input import fingerprint, rejects
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys.distributed import (
    CheckpointConfig,
    ClusterConfig,
    DistributedPolicy,
    DistributedQTables,
    QTableShard,
    ShardPlan,
    plan_shards,
    plot_round_size_shift,
    plot_round_size_sweep,
    plot_shard_plans,
    plot_sharding,
    round_size_sweep,
    rounds,
)
from odsc_recsys.distributed.checkpoints import (
    MANIFEST,
    MANIFEST_FORMAT,
    CheckpointError,
    Checkpoints,
    RoundLog,
    load_table,
    round_dir,
    save_table,
)
from odsc_recsys.distributed.config import check_compatible
from odsc_recsys.distributed.messages import Reads, Updates
from odsc_recsys.qtables import GenreQTables

# 12 movies in 3 genres of sizes 5, 4 and 3.
GENRE_OF = np.array([0, 1, 2, 0, 1, 0, 2, 1, 0, 2, 1, 0])
NAMES = ["Drama", "Comedy", "Horror"]
N_ITEMS = len(GENRE_OF)
IN_PROCESS = ClusterConfig(in_process=True)


def cases(*rows: tuple) -> list:
    """Parameter sets named after their expected message: what is allowed, and the value."""
    return [pytest.param(*row, id=" | ".join(row[-1])[-70:]) for row in rows]


def transitions(states, targets) -> SimpleNamespace:
    return SimpleNamespace(states=np.asarray(states), targets=np.asarray(targets))


TRAIN = transitions([[0, 1, 2], [3, 4, 5], [1, 6, 7], [8, 9, 10]], [3, 6, 8, 11])


@pytest.fixture(scope="module")
def dq():
    """One trained driver (in process), shared by every case that must leave it unchanged."""
    cluster = ClusterConfig(in_process=True, n_shards=2)
    with DistributedQTables(GENRE_OF, NAMES, cluster=cluster) as d:
        d.train(TRAIN, rng=np.random.default_rng(0), round_size=2)
        yield d


class Figures:
    """Pickles to the numbers of the open figures: a refused plot call must open none."""

    def __getstate__(self) -> list[int]:
        import matplotlib.pyplot as plt

        return plt.get_fignums()


# ---- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "match"),
    cases(
        (lambda: ClusterConfig(address=""), ["address must be a scheduler address string", "''"]),
        (lambda: ClusterConfig(address="  "), ["address must be a scheduler address", "'  '"]),
        (lambda: ClusterConfig(n_workers="2"), ["n_workers must be a positive integer", "'2'"]),
        (lambda: ClusterConfig(n_workers=True), ["n_workers must be a positive integer", "True"]),
        (lambda: ClusterConfig(n_shards=-1), ["n_shards must be a positive integer or None", "-1"]),
        (lambda: ClusterConfig(call_timeout=math.inf), ["call_timeout must be a finite number > 0", "inf"]),
        (lambda: ClusterConfig(connect_timeout="10"), ["connect_timeout must be a finite number > 0", "'10'"]),
        (lambda: ClusterConfig(dashboard_address=8787), ["dashboard_address must be a non-empty string", "8787"]),
        (lambda: ClusterConfig(direct_to_workers="yes"), ["direct_to_workers must be True or False", "'yes'"]),
        # settings the chosen mode would ignore: refused, not silently dropped
        (lambda: ClusterConfig(address="tcp://h:1", n_workers=4), ["n_workers applies to a LocalCluster", "n_workers=4"]),
        (lambda: ClusterConfig(in_process=True, dashboard_address=":0"), ["dashboard_address applies to a LocalCluster", "':0'"]),
        (lambda: ClusterConfig(address="tcp://h:1", dashboard_address=":0"), ["not on the cluster at 'tcp://h:1'", "':0'"]),
        (lambda: ClusterConfig(in_process=True, direct_to_workers=False), ["direct_to_workers=False", "in_process=True has no workers"]),
        (lambda: ClusterConfig(address="tcp://h:1", in_process=True), ["either an address or in_process=True"]),
        (lambda: CheckpointConfig(dir=""), ["dir must be a folder path or None", "''"]),
        (lambda: CheckpointConfig(dir=b"ckpt"), ["dir must be a folder path or None", "b'ckpt'"]),
        (lambda: CheckpointConfig(every=1.5), ["every (rounds between checkpoints) must be a positive integer or None", "1.5"]),
        (lambda: CheckpointConfig(every=math.nan), ["must be a positive integer or None", "nan"]),
        (lambda: CheckpointConfig(dir="x", resume="yes"), ["resume must be True or False", "'yes'"]),
        (lambda: check_compatible("local", CheckpointConfig()), ["cluster must be a ClusterConfig", "'local'"]),
        (lambda: check_compatible(IN_PROCESS, {"every": 2}), ["checkpoint must be a CheckpointConfig", "{'every': 2}"]),
    ),
)  # fmt: skip
def test_settings(make, match):
    rejects(make, match=match)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.floats().filter(lambda x: not (math.isfinite(x) and x > 0)),
                 st.sampled_from(["1", None, True, [1.0]])))  # fmt: skip
def test_any_timeout_that_is_not_a_positive_finite_number_is_refused(seconds):
    rejects(lambda: ClusterConfig(call_timeout=seconds),
            match=["call_timeout must be a finite number > 0", repr(seconds)])  # fmt: skip


def test_valid_settings_keep_their_defaults():
    assert ClusterConfig().n_workers == 2 and ClusterConfig(in_process=True).n_workers == 2
    assert ClusterConfig(address="tcp://h:1").n_workers is None  # that cluster has its own
    assert CheckpointConfig(dir=Path("x")).dir == "x"


# ---- shard plans ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    cases(
        (lambda: plan_shards([1.5, 2.0], 1), ["table_bytes must be a non-empty 1-d integer array", "1.5"]),
        (lambda: plan_shards([], 1), ["table_bytes must be a non-empty 1-d integer array", "array([]"]),
        (lambda: plan_shards([[1, 2]], 1), ["1-d integer array", "array([[1, 2]])"]),
        (lambda: plan_shards("abc", 1), ["integer array", "'abc'"]),
        (lambda: plan_shards([True, False], 1), ["integer array", "True"]),
        (lambda: plan_shards([4, -2], 1), ["table_bytes must be non-negative", "got -2 at position 1"]),
        (lambda: plan_shards(np.array([2**63 + 5], dtype=np.uint64), 1), ["table_bytes must fit in int64", "9223372036854775813"]),
        (lambda: plan_shards([1, 2], "1"), ["n_shards must be a positive integer", "'1'"]),
        (lambda: plan_shards([1, 2], 1.0), ["n_shards must be a positive integer", "1.0"]),
        (lambda: plan_shards([1, 2], 0), ["n_shards must be a positive integer", "0"]),
        (lambda: plan_shards([1, 2], 3), ["n_shards must be between 1 and the number of tables (2)", "3"]),
        (lambda: ShardPlan(((0,), (0,)), np.array([1, 2])), ["every table 0..1 exactly once", "((0,), (0,))"]),
        (lambda: ShardPlan(((0, 1), ()), np.array([1, 2])), ["shards must be non-empty", "((0, 1), ())"]),
        (lambda: ShardPlan(((0, 5),), np.array([1, 2])), ["shards[0] must be integers in [0, 1]", "5 at position 1"]),
        (lambda: ShardPlan(((0, -1),), np.array([1, 2])), ["shards[0] must be integers in [0, 1]", "-1 at position 1"]),
        (lambda: ShardPlan((), np.array([1, 2])), ["shards must not be empty", "()"]),
        (lambda: ShardPlan(((0,),), np.array([0.5])), ["table_bytes must be a non-empty 1-d integer", "0.5"]),
        (lambda: plan_shards([5, 9, 2], 2).frame(["a"]), ["genre_names must name the plan's 3 tables", "['a']"]),
        (lambda: plan_shards([5, 9, 2], 2).frame("abc"), ["genre_names must be a sequence of 3 names", "'abc'"]),
    ),
)  # fmt: skip
def test_shard_plans(call, match):
    rejects(call, match=match)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 100), min_size=1, max_size=6), st.integers(-3, 10))
def test_any_shard_count_outside_1_to_the_tables_is_refused(sizes, n_shards):
    if 1 <= n_shards <= len(sizes):
        assert sorted(g for s in plan_shards(sizes, n_shards).shards for g in s) == list(range(len(sizes)))  # fmt: skip
    else:
        rejects(lambda: plan_shards(sizes, n_shards), match=["n_shards must be", repr(n_shards)])


# ---- the round's arithmetic (plain numpy) ---------------------------------------------------

LAYOUT = GenreQTables(GENRE_OF, NAMES, storage="lazy").layout
OWNER = np.array([0, 1, 0])  # table -> shard
PART = rounds.prepare(LAYOUT, OWNER, TRAIN.states, TRAIN.targets)
READ = np.unique(PART.sub[PART.sub >= 0])  # every row the round reads, all zeros
BANK = rounds.RowBank([READ], [np.zeros((len(READ), N_ITEMS), np.float32)], N_ITEMS, np.float32)
LISTS = rounds.build_lists(BANK, PART.sub, PART.states, PART.targets, 2, 0.0, None)


@pytest.mark.parametrize(
    ("call", "match"),
    cases(
        (lambda: rounds.prepare(LAYOUT, OWNER, [[0, 1, -1]], [3]), ["unknown movie index -1", "0 to 11"]),
        (lambda: rounds.prepare(LAYOUT, OWNER, [[0, 1, 2]], [1]), ["next movie 1 is already in its state", "(0, 1, 2)"]),
        (lambda: rounds.prepare(LAYOUT, OWNER, np.zeros((0, 3), int), np.zeros(0, int)), ["at least one transition to train on", "got none"]),
        (lambda: rounds.prepare(LAYOUT, [0, 1], TRAIN.states, TRAIN.targets), ["owner must give the shard (an integer >= 0) of each of the 3 tables", "array([0, 1])"]),
        (lambda: rounds.prepare(LAYOUT, [0, -1, 0], TRAIN.states, TRAIN.targets), ["owner must give the shard", "array([ 0, -1,  0])"]),
        (lambda: rounds.prepare("layout", OWNER, TRAIN.states, TRAIN.targets), ["layout must be a GenreLayout", "'layout'"]),
        (lambda: rounds.plan_reads(PART.sub, PART.sub_shard, 0), ["n_shards must be a positive integer", "got 0"]),
        (lambda: rounds.plan_reads(PART.sub, PART.sub_shard[:2], 2), ["sub_shard must give the shard of each id of sub (4, 3)", "shape (2, 3)"]),
        (lambda: rounds.plan_reads(PART.sub, PART.sub_shard, 2, PART.future), ["pass future and future_shard together, or neither"]),
        (lambda: rounds.RowBank([], [], 0, np.float32), ["n_items must be a positive integer", "got 0"]),
        (lambda: rounds.build_lists(BANK, PART.sub, PART.states, PART.targets, -1, 0.3, None), ["k must be a non-negative integer", "-1"]),
        (lambda: rounds.build_lists(BANK, PART.sub, PART.states, PART.targets, 2, 1.5, None), ["epsilon (exploration rate) must be a probability in [0, 1]", "1.5"]),
        (lambda: rounds.build_lists(BANK, PART.sub, PART.states, PART.targets, 2, 0.3, 7), ["rng must be a numpy.random.Generator or None", "got 7"]),
        (lambda: rounds.build_lists(BANK, PART.sub, PART.states[:2], PART.targets, 2, 0.3, None), ["one row per transition", "4, 2 and 4"]),
        (lambda: rounds.round_targets(LISTS, PART.targets, np.zeros(4), 15.0, 5.0, 1.5), ["gamma (discount factor) must be in [0, 1]", "1.5"]),
        (lambda: rounds.round_targets(LISTS, PART.targets, np.zeros(4), math.nan, 5.0, 0.4), ["reward must be a finite number", "nan"]),
        (lambda: rounds.round_targets(LISTS, PART.targets, np.zeros(3), 15.0, 5.0, 0.4), ["one value per list (4)", "got 4 and 3"]),
        (lambda: rounds.split_updates(PART.sub, PART.sub_shard, LISTS, np.zeros(2), 2), ["targets must hold one target per listed movie", "got 2"]),
        (lambda: rounds.split_updates(PART.sub, PART.sub_shard, LISTS, np.zeros(len(LISTS.actions)), "2"), ["n_shards must be a positive integer", "'2'"]),
        (lambda: rounds.future_values({}, {0: np.array([0, 1])}, 4), ["positions must cover the round's 4 transitions", "got 2"]),
    ),
)  # fmt: skip
def test_round_arithmetic(call, match):
    rejects(call, match=match)


# ---- a shard used directly ------------------------------------------------------------------

OFFSETS = [0, 2, 5]  # table 0: rows 0-1, table 1: rows 2-4 (global ids)


def shard(**kwargs) -> QTableShard:
    """A shard owning table 1 (global rows 2-4) of 3 movies, with one round applied."""
    s = QTableShard([1], OFFSETS, 3, 0.5, **kwargs)
    s.step(1, updates([3], [[0, 2]], [[4.0, -2.0]]), None)
    return s


def updates(ids, lists, targets, entry_tx=None) -> Updates:
    """The updates of one round: row ``ids[i]`` gets transition ``i``'s list and targets."""
    offsets = np.concatenate(([0], np.cumsum([len(a) for a in lists])))
    return Updates(np.asarray(ids), np.arange(len(ids)) if entry_tx is None else np.asarray(entry_tx),
                   offsets, np.concatenate(lists).astype(np.int64), np.concatenate(targets).astype(float))  # fmt: skip


NO_FUTURE = np.zeros((0, 2), dtype=np.int64)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    cases(
        ({"genres": "ab"}, ["genres must be a 1-d sequence of integers", "'ab'"]),
        ({"genres": [2]}, ["genres must be integers in [0, 1]", "2 at position 0"]),
        ({"genres": [-1]}, ["genres must be integers in [0, 1]", "-1 at position 0"]),
        ({"genres": [1, 1]}, ["genres must not repeat an element", "1 twice"]),
        ({"genres": []}, ["genres must not be empty", "[]"]),
        ({"offsets": [0, 5, 2]}, ["offsets must be a 1-d integer array that starts at 0 and never decreases", "[0, 5, 2]"]),
        ({"offsets": [0, 2.5, 5]}, ["offsets must be a 1-d integer array", "[0, 2.5, 5]"]),
        ({"offsets": [1, 2, 5]}, ["starts at 0", "[1, 2, 5]"]),
        ({"n_items": 0}, ["n_items must be a positive integer", "0"]),
        ({"n_items": "3"}, ["n_items must be a positive integer", "'3'"]),
        ({"alpha": math.nan}, ["alpha (learning rate) must be in (0, 1]", "nan"]),
        ({"alpha": "0.5"}, ["alpha (learning rate) must be in (0, 1]", "'0.5'"]),
        ({"dtype": "int64"}, ["dtype must be a floating type such as float32", "'int64'"]),
        ({"storage": "tape"}, ["storage must be one of 'dense', 'lazy', 'sparse'", "'tape'"]),
        ({"checkpoint_dir": b"x"}, ["checkpoint_dir must be a folder path or None", "b'x'"]),
        ({"restore_round": -1}, ["restore_round must be a non-negative integer", "-1"]),
        ({"restore_round": 2}, ["restore_round=2 needs the checkpoint_dir", "checkpoint_dir=None"]),
    ),
)  # fmt: skip
def test_shard_constructor(kwargs, match):
    args = {"genres": [1], "offsets": OFFSETS, "n_items": 3, "alpha": 0.5, **kwargs}
    rejects(lambda: QTableShard(**args), match=match)


@pytest.mark.parametrize(
    ("call", "match"),
    cases(
        (lambda s: s.step(0, None, None), ["apply_round must be a positive integer", "got 0"]),
        (lambda s: s.step(2.0, None, None), ["apply_round must be a positive integer", "2.0"]),
        (lambda s: s.step("2", None, None), ["apply_round must be a positive integer", "'2'"]),
        (lambda s: s.step(None, updates([3], [[0]], [[1.0]]), None), ["updates need the round they belong to", "apply_round=None"]),
        (lambda s: s.step(2, None, None, checkpoint=True), ["checkpoint=True needs a shard with a checkpoint_dir", "checkpoint_dir=None"]),
        (lambda s: s.step(2, None, None, checkpoint="yes"), ["checkpoint must be True or False", "'yes'"]),
        (lambda s: s.step(2, updates([3], [[0]], [[math.nan]]), None), ["updates.targets must be finite numbers", "nan at position 0"]),
        (lambda s: s.step(2, updates([3], [[0]], [[-math.inf]]), None), ["updates.targets must be finite numbers", "-inf at position 0"]),
        (lambda s: s.step(2, updates([3], [[-1]], [[1.0]]), None), ["updates.actions must be integers in [0, 2]", "-1 at position 0"]),
        (lambda s: s.step(2, updates([3], [[3]], [[1.0]]), None), ["updates.actions must be integers in [0, 2]", "3 at position 0"]),
        (lambda s: s.step(2, updates([3], [[1, 1]], [[1.0, 2.0]]), None), ["must not list a movie twice for one transition", "[1, 1]"]),
        (lambda s: s.step(2, updates([1], [[0]], [[1.0]]), None), ["updates.ids must be rows of the tables this shard owns (1,)", "row id 1", "table 0 is not on this shard"]),
        (lambda s: s.step(2, updates([-1], [[0]], [[1.0]]), None), ["updates.ids must be integers in [0, 4]", "-1 at position 0"]),
        (lambda s: s.step(2, updates([3], [[0]], [[1.0]], entry_tx=[1]), None), ["updates.entry_tx must be integers in [0, 0]", "1 at position 0"]),
        (lambda s: s.step(2, updates([3], [[0]], [[1.0]])._replace(targets=np.array([1.0, 2.0])), None), ["one target per action (1)", "got 2"]),
        (lambda s: s.step(2, updates([3], [[0, 1]], [[1.0, 2.0]])._replace(offsets=np.array([0, 1])), None), ["updates.offsets must rise from 0 to the number of actions (2)", "[0, 1]"]),
        (lambda s: s.step(2, {"ids": [3]}, None), ["updates must be an Updates message", "{'ids': [3]}"]),
        (lambda s: s.step(None, None, Reads(np.array([-1]), NO_FUTURE)), ["reads.ids must be integers in [0, 4]", "-1 at position 0"]),
        (lambda s: s.step(None, None, Reads(np.array([0]), NO_FUTURE)), ["reads.ids must be rows of the tables this shard owns", "row id 0"]),
        (lambda s: s.step(None, None, Reads(np.array([2.0]), NO_FUTURE)), ["reads.ids must be integers", "2.0 at position 0"]),
        (lambda s: s.step(None, None, Reads(np.array([3]), np.array([3, -1]))), ["reads.future must have shape (n, 2)", "shape (2,)"]),
        (lambda s: s.step(None, None, Reads(np.array([3]), np.array([[3, -2]]))), ["reads.future[:, 1] (or -1) must be integers in [0, 4]", "-2 at position 0"]),
        # a valid round with a bad read: refused whole, the round is not applied
        (lambda s: s.step(2, updates([3], [[0]], [[9.0]]), Reads(np.array([7]), NO_FUTURE)), ["reads.ids must be integers in [0, 4]", "7 at position 0"]),
        (lambda s: s.replay("abc"), ["batches must be a sequence of (round, updates) pairs", "'abc'"]),
        (lambda s: s.replay([(2, None), 3]), ["batches must be (round, updates) pairs", "got 3"]),
        # the first batch is valid, the second not: neither is applied
        (lambda s: s.replay([(2, updates([3], [[0]], [[9.0]])), (3, updates([3], [[0]], [[math.inf]]))]), ["updates.targets must be finite numbers", "inf at position 0"]),
        (lambda s: s.table(0), ["genre must be one of the tables this shard owns (1,)", "got 0"]),
        (lambda s: s.table(1.0), ["genre must be one of the tables this shard owns (1,)", "got 1.0"]),
        (lambda s: s.written(-1), ["genre must be one of the tables this shard owns (1,)", "got -1"]),
    ),
)  # fmt: skip
def test_shard_calls(call, match):
    s = shard()
    rejects(lambda: call(s), match=match, unchanged=[s])


def test_a_gap_in_the_rounds_is_refused_before_anything_is_applied():
    s = shard()
    rejects(lambda: s.replay([(2, updates([3], [[1]], [[5.0]])), (4, None)]),
            match=["at round 1 (round 2 with the batches before it) received round 4",
                   "rounds in between must be replayed"],
            exc=RuntimeError, unchanged=[s])  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=3, max_size=3), st.integers(0, 2),
       st.sampled_from([math.nan, math.inf, -math.inf]))  # fmt: skip
def test_any_non_finite_target_is_refused_and_the_shard_unchanged(targets, at, bad):
    targets[at] = bad
    s = shard()
    rejects(lambda: s.step(2, updates([3, 4], [[0], [1, 2]], [targets[:1], targets[1:]]), None),
            match=["updates.targets must be finite numbers", f"{bad!r} at position {at}"],
            unchanged=[s])  # fmt: skip


# ---- checkpoint files -----------------------------------------------------------------------


def saved(folder: Path, rows, values, round_: int = 1, genre: int = 1) -> Path:
    """A table file written as a shard writes it (bypassing the checks, to plant bad data)."""
    path = round_dir(folder, round_) / f"genre-{genre:03d}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, rows=np.asarray(rows), values=np.asarray(values))
    return path


GOOD = np.array([[1.0, -2.0, 0.5]], dtype=np.float32)


@pytest.mark.parametrize(
    ("rows", "values", "match"),
    cases(
        ([1], np.array([[1.0, np.nan, 0.0]], np.float32), ["its values must be finite numbers", "nan at position (0, 1)"]),
        ([1], np.array([[np.inf, 0.0, 0.0]], np.float32), ["its values must be finite numbers", "inf at position (0, 0)"]),
        ([-1], GOOD, ["its rows must be integers in [0, 2]", "-1 at position 0"]),
        ([3], GOOD, ["its rows must be integers in [0, 2]", "3 at position 0"]),
        ([0.5], GOOD, ["its rows must be integers in [0, 2]", "0.5 at position 0"]),
        ([1, 1], np.zeros((2, 3), np.float32), ["its rows must not repeat an element", "1 twice"]),
        ([1], GOOD.astype(np.float64), ["its values must be float32 of shape (1, 3)", "got float64"]),
        ([1], np.zeros((1, 4), np.float32), ["its values must be float32 of shape (1, 3)", "shape (1, 4)"]),
    ),
)  # fmt: skip
def test_a_table_file_that_does_not_fit_is_refused(tmp_path, rows, values, match):
    path = saved(tmp_path, rows, values)
    message = rejects(lambda: load_table(tmp_path, 1, 1, 3, 3, np.float32), match=match,
                      exc=CheckpointError, files=[path])  # fmt: skip
    assert f"checkpoint {path} does not fit table 1" in message


@pytest.mark.parametrize(
    ("plant", "match"),
    [
        (lambda p: p.write_bytes(b"not a zip at all"), ["cannot restore table 1 from", "pickled"]),
        (lambda p: p.write_bytes(p.read_bytes()[:40]), ["cannot restore table 1 from", "zip"]),
        (lambda p: p.write_bytes(b""), ["cannot restore table 1 from"]),
        (lambda p: np.savez(p, rows=np.array([1])), ["cannot restore table 1 from", "values is not a file"]),
        (lambda p: p.write_bytes(pickle.dumps({"rows": [1]})), ["cannot restore table 1 from"]),
        (lambda p: p.unlink(), ["cannot restore table 1 from", "No such file"]),
    ],
    ids=["garbage", "truncated", "empty", "foreign-archive", "pickle", "missing"],
)  # fmt: skip
def test_a_corrupt_truncated_or_foreign_table_file_is_refused(tmp_path, plant, match):
    path = saved(tmp_path, [1], GOOD)
    plant(path)
    rejects(lambda: load_table(tmp_path, 1, 1, 3, 3, np.float32), match=match,
            exc=CheckpointError, files=[path])  # fmt: skip


def test_a_checkpoint_error_is_both_a_value_and_a_runtime_error():
    assert issubclass(CheckpointError, ValueError) and issubclass(CheckpointError, RuntimeError)


@pytest.mark.parametrize(
    ("args", "match"),
    cases(
        ((-1, 1, [1], GOOD), ["round_ must be a non-negative integer", "-1"]),
        ((1, 1.0, [1], GOOD), ["genre must be a non-negative integer", "1.0"]),
        ((1, 1, [-1], GOOD), ["rows must be distinct non-negative integers", "[-1]"]),
        ((1, 1, [1, 1], np.zeros((2, 3))), ["rows must not repeat an element", "1 twice"]),
        ((1, 1, [1], np.array([[0.0, np.nan, 1.0]])), ["values must be finite numbers", "nan at position (0, 1)"]),
        ((1, 1, [1], np.zeros((2, 3))), ["values must be a 2-d float array with one row per row number (1)", "shape (2, 3)"]),
        ((1, 1, [1], np.zeros((1, 3), dtype=int)), ["values must be a 2-d float array", "int64"]),
    ),
)  # fmt: skip
def test_saving_a_bad_table_writes_nothing(tmp_path, args, match):
    folder = tmp_path / "ckpt"
    rejects(lambda: save_table(folder, *args), match=match, files=[folder])


IDENTITY = {"n_items": 3, "genre_names": ["a", "b"], "dtype": "<f4"}


def manifest(**changes) -> str:
    return json.dumps({"format": MANIFEST_FORMAT, "round": 1, **IDENTITY, **changes})


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{{{", ["cannot resume: no readable checkpoint.json"]),
        ("[1, 2]", ["is not a checkpoint manifest", "[1, 2]"]),
        (manifest(round="x"), ["the checkpoint's round must be a non-negative integer", "'x'"]),
        (manifest(round=math.nan), ["the checkpoint's round must be a non-negative integer", "nan"]),
        (manifest(round=-3), ["the checkpoint's round must be a non-negative integer", "-3"]),
        (manifest(round=2.5), ["the checkpoint's round must be a non-negative integer", "2.5"]),
        (manifest(round=7), ["the checkpoint's round 7 has no tables folder", "round-00000007"]),
        (manifest(format="someone-else/1"), ["the checkpoint's format is 'someone-else/1'", repr(MANIFEST_FORMAT)]),
        (manifest(n_items=4), ["the checkpoint's n_items is 4, these tables have 3"]),
    ],
    ids=["garbage", "a-list", "round-str", "round-nan", "round-negative", "round-float",
         "round-missing-folder", "foreign", "other-tables"],
)  # fmt: skip
def test_resuming_from_a_bad_manifest_is_refused(tmp_path, text, match):
    saved(tmp_path, [1], GOOD)
    (tmp_path / MANIFEST).write_text(text)
    resume = CheckpointConfig(dir=tmp_path, resume=True)
    rejects(lambda: Checkpoints(resume, IDENTITY), match=match,
            files=[tmp_path / MANIFEST, round_dir(tmp_path, 1) / "genre-001.npz"])  # fmt: skip


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda d: Checkpoints(CheckpointConfig(dir=d / "none", resume=True), IDENTITY), ["cannot resume: no readable checkpoint.json", "none"]),
        (lambda d: Checkpoints(CheckpointConfig(dir=d / "file", every=2), IDENTITY), ["is a file, not a folder", "file"]),
        (lambda d: Checkpoints(CheckpointConfig(dir=d / "old", every=2), IDENTITY), ["already holds a checkpoint", "old"]),
        (lambda d: Checkpoints({"every": 2}, IDENTITY), ["config must be a CheckpointConfig", "{'every': 2}"]),
        (lambda d: Checkpoints(CheckpointConfig(), ["n_items"]), ["identity must be a dict", "['n_items']"]),
        (lambda d: Checkpoints(CheckpointConfig(), IDENTITY).commit(1), ["nothing to commit", "no folder"]),
        (lambda d: Checkpoints(CheckpointConfig(), IDENTITY).commit(0), ["round_ must be a positive integer", "got 0"]),
        (lambda d: RoundLog(-1), ["start must be a non-negative integer", "-1"]),
        (lambda d: RoundLog("0"), ["start must be a non-negative integer", "'0'"]),
    ],
    ids=["resume-missing", "dir-is-a-file", "existing-checkpoint", "config-dict", "identity-list",
         "commit-without-folder", "commit-round-0", "log-negative", "log-str"],
)  # fmt: skip
def test_checkpoint_folders(tmp_path, call, match):
    (tmp_path / "file").write_text("x")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / MANIFEST).write_text(manifest())
    rejects(lambda: call(tmp_path), match=match,
            files=[tmp_path / "none", tmp_path / "file", tmp_path / "old" / MANIFEST])  # fmt: skip


# ---- the driver ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    cases(
        ({"cluster": {"in_process": True}}, ["cluster must be a ClusterConfig", "{'in_process': True}"]),
        ({"checkpoint": {"every": 2}}, ["checkpoint must be a CheckpointConfig", "{'every': 2}"]),
        ({"storage": "sparse"}, ["storage must be one of 'dense', 'lazy'", "'sparse'"]),
        ({"alpha": "0.8"}, ["alpha (learning rate) must be in (0, 1]", "'0.8'"]),
        ({"gamma": math.nan}, ["gamma (discount factor) must be in [0, 1]", "nan"]),
        ({"prior": np.full(N_ITEMS, math.inf)}, ["prior must be finite numbers", "inf at position 0"]),
        ({"genre_of": np.r_[GENRE_OF[:-1], -1]}, ["genre code -1 has no name"]),
        ({"cluster": ClusterConfig(in_process=True, n_shards=4)}, ["n_shards must be between 1 and the number of tables (3)", "4"]),
        ({"cluster": ClusterConfig(address="bogus://h:1")}, ["invalid scheduler address", "'bogus://h:1'"]),
    ),
)  # fmt: skip
def test_driver_constructor_leaves_no_folder(tmp_path, kwargs, match):
    folder = tmp_path / "checkpoints"  # a refused driver must not have made it
    args = {"genre_of": GENRE_OF, "genre_names": NAMES, "cluster": IN_PROCESS,
            "checkpoint": CheckpointConfig(every=2, dir=folder), **kwargs}  # fmt: skip
    rejects(lambda: DistributedQTables(**args), match=match, files=[folder])
    assert not folder.exists()


def test_resuming_from_a_checkpoint_with_nan_values_is_refused(tmp_path):
    every = CheckpointConfig(every=1, dir=tmp_path)
    with DistributedQTables(GENRE_OF, NAMES, cluster=IN_PROCESS, checkpoint=every) as d:
        d.train(TRAIN, round_size=2)
    (table,) = [p for p in round_dir(tmp_path, 2).iterdir() if p.name == "genre-000.npz"]
    with np.load(table) as npz:
        rows, values = npz["rows"], npz["values"].copy()
    values[0, 0] = np.nan
    np.savez(table, rows=rows, values=values)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    resume = CheckpointConfig(dir=tmp_path, resume=True)
    message = rejects(lambda: DistributedQTables(GENRE_OF, NAMES, cluster=IN_PROCESS, checkpoint=resume),
                      match=["its values must be finite numbers", "nan at position (0, 0)"],
                      exc=CheckpointError, files=files)  # fmt: skip
    assert "does not fit table 0" in message
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == files


@pytest.mark.parametrize(
    ("call", "match"),
    cases(
        (lambda d: d.train(TRAIN, rng=5), ["rng must be a numpy.random.Generator or None", "got 5"]),
        (lambda d: d.train(TRAIN, rng=np.random.RandomState(0)), ["rng must be a numpy.random.Generator", "RandomState"]),
        (lambda d: d.train(TRAIN, on_round=5), ["on_round must be a function of the round number or None", "got 5"]),
        (lambda d: d.train(TRAIN, epochs="1"), ["epochs must be a positive integer", "'1'"]),
        (lambda d: d.train(TRAIN, round_size=0), ["round_size must be a positive integer", "got 0"]),
        (lambda d: d.train(TRAIN, reward=math.nan), ["reward must be a finite number", "nan"]),
        (lambda d: d.train(TRAIN, penalty=-math.inf), ["penalty must be a finite number", "-inf"]),
        (lambda d: d.train(TRAIN, k=-1), ["k must be a non-negative integer", "-1"]),
        (lambda d: d.train([[0, 1, 2]]), ["transitions need .states and .targets arrays", "[[0, 1, 2]]"]),
        (lambda d: d.train(transitions(np.zeros((0, 3), int), np.zeros(0, int))), ["at least one transition to train on", "got none"]),
        (lambda d: d.train(transitions([[0, 1, -1]], [3])), ["unknown movie index -1", "0 to 11"]),
        (lambda d: d.train(transitions([[0, 1, 2]], [12])), ["unknown movie index 12", "0 to 11"]),
        (lambda d: d.train(transitions([[0.0, 1.0, 2.0]], [3])), ["movie indices must be integers", "float64"]),
        (lambda d: d.train(transitions([[0, 1, 1]], [3])), ["the same movie twice", "(0, 1, 1)"]),
        (lambda d: d.train(transitions([[0, 1, 2]], [2])), ["next movie 2 is already in its state", "(0, 1, 2)"]),
        (lambda d: d.train(transitions(np.zeros((1, 0), int), [3])), ["states of 1 to 3 movies", "empty states"]),
        (lambda d: d.recommend(5), ["a state is a sequence of up to 3 movie indices", "got 5"]),
        (lambda d: d.recommend([0, -1]), ["unknown movie index -1", "0 to 11"]),
        (lambda d: d.recommend([0.5]), ["movie indices must be integers", "0.5"]),
        (lambda d: d.recommend([0, 1, 2, 3]), ["a state holds at most 3 movies", "got 4"]),
        (lambda d: d.recommend([0], k=-1), ["k must be a non-negative integer", "-1"]),
        (lambda d: d.recommend([0], exclude=5), ["an exclude list is a sequence of movie indices or None", "got 5"]),
        (lambda d: d.recommend([0], exclude=[12]), ["unknown item index 12", "0 to 11"]),
        (lambda d: d.recommend_batch("abc"), ["states must be a sequence of states", "'abc'"]),
        (lambda d: d.recommend_batch([[0], [1]], excludes=[[2]]), ["one exclude list (or None) per state (2)", "got 1"]),
        (lambda d: d.recommend_batch([[0]], excludes=5), ["excludes must be a sequence", "got 5"]),
        (lambda d: d.recommend_batch([[0]], chunk=0), ["chunk must be a positive integer", "got 0"]),
        (lambda d: d.score_batch([[0], 7]), ["a state is a sequence of up to 3 movie indices", "got 7"]),
        (lambda d: d.table(-1), ["genre must be an integer in [0, 2]", "got -1"]),
        (lambda d: d.table(1.0), ["genre must be an integer in [0, 2]", "got 1.0"]),
        (lambda d: d.to_genre_tables("sparse"), ["storage must be one of 'dense', 'lazy'", "'sparse'"]),
        (lambda d: d.measure_latency(0), ["repeats must be a positive integer", "got 0"]),
        (lambda d: d.simulate_worker_crash(2), ["shard must be an integer in [0, 1]", "got 2"]),
        (lambda d: d.simulate_worker_crash(0), ["only kills workers of a LocalCluster it started", "not shards in process"]),
        (lambda d: d.as_recommender(""), ["name must be a non-empty string", "''"]),
        (lambda d: d.as_recommender().recommend(5), ["a history is a sequence of movie indices", "got 5"]),
        (lambda d: d.as_recommender().recommend([0, 12]), ["unknown item index 12", "0 to 11"]),
        (lambda d: d.as_recommender().recommend_many("ab"), ["histories must be a sequence of histories", "'ab'"]),
        (lambda d: d.as_recommender().recommend_many([[0], 3]), ["a history is a sequence of movie indices", "got 3"]),
        (lambda d: d.as_recommender().recommend_many([[0]], k=0.5), ["k must be a non-negative integer", "0.5"]),
        (lambda d: DistributedPolicy(object()), ["tables must be a DistributedQTables", "object"]),
    ),
)  # fmt: skip
def test_driver_calls_change_nothing(dq, call, match):
    rejects(lambda: call(dq), match=match, unchanged=[dq])


def test_a_refused_or_interrupted_round_leaves_the_driver_ready_to_train(monkeypatch):
    with DistributedQTables(GENRE_OF, NAMES, cluster=IN_PROCESS) as d:
        d.train(TRAIN, round_size=2)
        before = fingerprint(d)

        def interrupted(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        with monkeypatch.context() as patch:  # e.g. Ctrl-C while a round's lists are built
            patch.setattr(rounds, "build_lists", interrupted)
            with pytest.raises(KeyboardInterrupt):
                d.train(TRAIN, round_size=2)
        assert d._rounds.started == d.committed_round == 2  # the interrupted round never began
        d.train(TRAIN, round_size=2)  # trains on, with no gap in the rounds
        assert d.committed_round == 4 and fingerprint(d) != before


# ---- the round-size sweep -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "match"),
    cases(
        ({"round_sizes": [0, 4]}, ["round_sizes must be positive integers", "[0, 4]"]),
        ({"round_sizes": [2.5]}, ["round_sizes must be positive integers", "[2.5]"]),
        ({"round_sizes": "12"}, ["round_sizes must be positive integers", "'12'"]),
        ({"round_sizes": 4}, ["round_sizes must be positive integers", "got 4"]),
        ({"round_sizes": [4, 4]}, ["round_sizes must be positive integers, each once", "[4, 4]"]),
        ({"seeds": []}, ["seeds must hold at least one seed", "[]"]),
        ({"seeds": [1.5]}, ["a seed must be a non-negative integer", "1.5"]),
        ({"seeds": [-1]}, ["a seed must be a non-negative integer", "-1"]),
        ({"seeds": [3, 3]}, ["seeds must be distinct", "[3, 3]"]),
        ({"seeds": "ab"}, ["seeds must be non-negative integers", "'ab'"]),
        ({"k": 0}, ["k must be a positive integer", "got 0"]),
        ({"alpha": "0.8"}, ["alpha (learning rate) must be in (0, 1]", "'0.8'"]),
        ({"epsilon": 1.5}, ["epsilon (exploration rate) must be a probability in [0, 1]", "1.5"]),
        ({"train": [[0, 1, 2]]}, ["train must be transitions with .states and .targets", "[[0, 1, 2]]"]),
        ({"test": None}, ["test must be transitions with .states and .targets", "None"]),
        ({"train": transitions([[0, 1, 12]], [3])}, ["unknown movie index 12", "0 to 11"]),
        ({"train": transitions(np.zeros((0, 3), int), np.zeros(0, int))}, ["train must hold at least one transition", "(0, 3)"]),
        ({"genre_names": ["Drama", "Comedy"]}, ["genre code 2 has no name"]),
    ),
)  # fmt: skip
def test_round_size_sweep_is_refused_before_any_run(changes, match):
    args = {"genre_of": GENRE_OF, "genre_names": NAMES, "train": TRAIN, "test": TRAIN,
            "round_sizes": [1, 2], "seeds": [0], **changes}  # fmt: skip
    rejects(lambda: round_size_sweep(**args), match=match)


# ---- the figures ----------------------------------------------------------------------------

PLAN = plan_shards([30, 20, 10], 2)
SWEEP = pd.DataFrame({"seed": [0, 0, 1, 1], "B": [1, 8, 1, 8], "HR@10": [0.2, 0.25, 0.21, 0.24],
                      "NDCG@10": [0.1, 0.12, 0.1, 0.11]})  # fmt: skip


@pytest.mark.parametrize(
    ("call", "match"),
    cases(
        (lambda: plot_sharding("plan", NAMES), ["plan must be a ShardPlan", "'plan'"]),
        (lambda: plot_sharding(PLAN, NAMES[:2]), ["genre_names must name the plan's 3 tables", "['Drama', 'Comedy']"]),
        (lambda: plot_sharding(PLAN, "abc"), ["genre_names must be a sequence of 3 names", "'abc'"]),
        (lambda: plot_shard_plans([], NAMES), ["plans must hold at least one ShardPlan", "[]"]),
        (lambda: plot_shard_plans(PLAN, NAMES), ["plans must be a sequence of ShardPlan", "ShardPlan("]),
        (lambda: plot_shard_plans([PLAN, plan_shards([1, 2], 1)], NAMES), ["genre_names must name the plan's 2 tables", "got 3"]),
        (lambda: plot_shard_plans([PLAN], NAMES, titles="two"), ["titles must be a sequence of one title per plan", "'two'"]),
        (lambda: plot_shard_plans([PLAN], NAMES, titles=[""]), ["a title must be a non-empty string", "''"]),
        (lambda: plot_shard_plans([PLAN], NAMES, titles=["a", "b"]), ["2 titles for 1 plans", "['a', 'b']"]),
        (lambda: plot_round_size_sweep(SWEEP.to_dict()), ["sweep must be a DataFrame from round_size_sweep", "dict"]),
        (lambda: plot_round_size_sweep(SWEEP, metrics="HR@10"), ["metrics must be a sequence of column names", "'HR@10'"]),
        (lambda: plot_round_size_sweep(SWEEP, metrics=[]), ["metrics must not be empty", "[]"]),
        (lambda: plot_round_size_sweep(SWEEP, metrics=["HR@10", "HR@10"]), ["metrics must not repeat a column", "['HR@10', 'HR@10']"]),
        (lambda: plot_round_size_sweep(SWEEP, metrics=["MRR"]), ["the sweep has no column(s) ['MRR']"]),
        (lambda: plot_round_size_sweep(SWEEP.iloc[:0]), ["the sweep must hold at least one run", "empty"]),
        (lambda: plot_round_size_sweep(SWEEP.assign(B=[0, 8, 0, 8])), ["round sizes B must be positive integers", "[0, 8]"]),
        (lambda: plot_round_size_sweep(SWEEP.assign(B=[1.5, 8, 1.5, 8])), ["round sizes B must be positive integers", "1.5"]),
        (lambda: plot_round_size_sweep(SWEEP.assign(**{"HR@10": [0.2, np.nan, 0.2, 0.2]})), ["'HR@10' column must be finite numbers", "nan at position 1"]),
        (lambda: plot_round_size_sweep(SWEEP.assign(B=[1, 1, 1, 8])), ["one run per seed and round size", "seed 0 with B = 1 twice"]),
        (lambda: plot_round_size_shift(SWEEP, metric=""), ["metric must be a non-empty string", "''"]),
        (lambda: plot_round_size_shift(SWEEP, baseline=0), ["baseline must be a positive integer", "got 0"]),
        (lambda: plot_round_size_shift(SWEEP, baseline="1"), ["baseline must be a positive integer", "'1'"]),
        (lambda: plot_round_size_shift(SWEEP, baseline=2), ["baseline round size 2 is not in the sweep", "[1, 8]"]),
        (lambda: plot_round_size_shift(SWEEP[SWEEP.B == 1]), ["a round size other than the baseline 1", "[1]"]),
        (lambda: plot_round_size_shift(SWEEP.iloc[:3]), ["run every seed at every round size", "seed 1 without [8]"]),
    ),
)  # fmt: skip
def test_figures_are_refused_before_a_figure_opens(call, match):
    import matplotlib

    matplotlib.use("Agg")
    rejects(call, match=match, unchanged=[Figures()])
