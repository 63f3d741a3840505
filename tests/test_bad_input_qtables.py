"""The bad-input battery, Q-tables and training: constructors, recommend, update, replay, files.

Every case asserts a ``ValueError`` whose message names the bad value and what is allowed, and
that the tables, the random generator and any file on disk are exactly as before the call.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from bad_input import fingerprint, rejects
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys.atomic import atomic_savez, atomic_write_text
from odsc_recsys.qtables import (
    FullStateQTable,
    GenreQTables,
    load_tables,
    replay_train,
    replay_train_fast,
)
from odsc_recsys.sessions import Transitions
from odsc_recsys.training import TrainConfig, grid_search, make_tables, sweep, train, tune

GENRE_OF = np.array([0, 0, 1, 0, 2, 1, 2, 0])
NAMES = ["Drama", "Comedy", "Horror"]


def trained(storage: str = "dense") -> GenreQTables:
    """Small tables with some learnt values (so that a stray write would show)."""
    tables = GenreQTables(GENRE_OF, NAMES, storage=storage)
    tables.update([0, 2, 4], [1, 3], 3)
    tables.update([2, 4, 3], [5], None)
    return tables


def small_transitions(states, targets) -> Transitions:
    states = np.asarray(states)
    n = len(states)
    return Transitions(users=np.zeros(n, int), states=states, targets=np.asarray(targets),
                       positions=np.full(n, 3))  # fmt: skip


# ---- constructors ---------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not 0 < x <= 1),
                 st.text(max_size=3), st.booleans(), st.none()))  # fmt: skip
def test_any_alpha_outside_0_1_is_refused(alpha):
    rejects(lambda: GenreQTables(GENRE_OF, NAMES, alpha=alpha),
            match=["alpha (learning rate) must be in (0, 1]", repr(alpha)])  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.floats().filter(lambda x: not 0 <= x <= 1), st.just(math.nan),
                 st.sampled_from(["0.4", None, True])))  # fmt: skip
def test_any_gamma_outside_0_1_is_refused(gamma):
    rejects(lambda: GenreQTables(GENRE_OF, NAMES, gamma=gamma),
            match=["gamma (discount factor) must be in [0, 1]", repr(gamma)])  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epsilon": 1.5}, "epsilon (exploration rate) must be a probability in [0, 1], got 1.5"),
        ({"epsilon": "0.3"}, "got '0.3'"),
        ({"storage": "disk"}, "storage must be one of 'dense', 'lazy', 'sparse', got 'disk'"),
        ({"dtype": int}, "dtype must be a floating type such as float32"),
        ({"dtype": "banana"}, "got 'banana'"),
        ({"prior": [0, 0, np.nan, 0, 0, 0, 0, 0]}, "prior must be finite numbers, got nan at "
                                                   "position 2"),
        ({"prior": [1.0] * 7}, "prior must have shape (8), got shape (7,)"),
        ({"prior": "popular"}, "prior must be finite numbers, got 'popular'"),
        ({"genre_of": np.array([0, 0.5, 1, 0, 2, 1, 2, 0])}, "genre_of must be a non-empty 1-d "
                                                             "integer array"),
        ({"genre_of": np.array([0, -1, 1, 0, 2, 1, 2, 0])}, "genre code -1 has no name"),
        ({"genre_of": np.array([], dtype=int), "genre_names": []}, "genre_of must be a non-empty"),
        ({"genre_names": ["Drama", "Drama", "Horror"]}, "genre_names must be unique"),
        ({"genre_names": ["Drama", "Comedy"]}, "genre code 2 has no name"),
    ],
    ids=lambda v: str(v)[:30] if isinstance(v, dict) else None,
)  # fmt: skip
def test_genre_tables_constructor(kwargs, message):
    args = {"genre_of": GENRE_OF, "genre_names": NAMES, **kwargs}
    rejects(lambda: GenreQTables(**args), match=message)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((0,), {}, "n_items must be a positive integer, got 0"),
        (("5",), {}, "got '5'"),
        ((5,), {"max_bytes": -1}, "max_bytes must be a finite number >= 0, got -1"),
        ((5,), {"alpah": 0.5}, "unknown setting(s) ['alpah']: choose from ['alpha', "),
        ((5,), {"storage": "tape"}, "storage must be one of 'dense', 'lazy', 'sparse', got 'tape'"),
        ((5,), {"dtype": "int8"}, "dtype must be a floating type such as float32, got 'int8'"),
        ((700,), {}, "this is the state-space blow-up"),
    ],
)  # fmt: skip
def test_full_state_table_constructor(args, kwargs, message):
    rejects(lambda: FullStateQTable(*args, **kwargs), match=message)


# ---- reading and recommending ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.recommend([0, 2, 4], k=-1), "k must be a non-negative integer, got -1"),
        (lambda t: t.recommend([0, 2, 4], k=2.5), "got 2.5"),
        (lambda t: t.recommend([0, 2, 4, 5]), "a state holds at most 3 movies"),
        (lambda t: t.recommend([0, 2, -1]), "unknown movie index -1"),
        (lambda t: t.recommend([0, 2, 8]), "unknown movie index 8"),
        (lambda t: t.recommend([0, 2, 2]), "a state cannot hold the same movie twice"),
        (lambda t: t.recommend(np.array([0.0, 2.0, 4.0])), "a state is a 1-d sequence of movie "
                                                          "indices"),
        (lambda t: t.recommend([0, 2, "4"]), "movie indices must be integers, got '4'"),
        (lambda t: t.recommend([0, 2, True]), "got True"),
        (lambda t: t.recommend([0, 2, 4], exclude=[-1]), "unknown item index -1"),
        (lambda t: t.recommend([0, 2, 4], exclude=[1.5]), "integer item indices"),
        (lambda t: t.recommend([0, 2, 4], rng=7), "rng must be a numpy.random.Generator or None"),
        (lambda t: t.score([0, 9]), "unknown movie index 9"),
        (lambda t: t.table(3), "table index must be an integer in [0, 2], got 3"),
        (lambda t: t.table(-1), "got -1"),
        (lambda t: t.members(-1), "table index must be an integer in [0, 2], got -1"),
        (lambda t: t.written_rows(5), "got 5"),
        (lambda t: t.q_row((0, 1)), "substate must be a SubState (from decompose), got (0, 1)"),
        (lambda t: t.scenario([0, 0, 1]), "the same movie twice"),
        (lambda t: t.substates_frame([0, 2, 4], titles=["A"]), "titles must name all 8 "
                                                               "catalogue movies, got 1"),
        (lambda t: t.as_recommender().recommend([0, 2, 4], k=-2), "got -2"),
    ],
)  # fmt: skip
def test_reading_calls(call, message):
    tables = trained()
    rng = np.random.default_rng(0)
    rejects(lambda: call(tables), match=message, unchanged=[tables, rng])


# ---- update: refused before any write -------------------------------------------------------


UPDATES = [
    (([0, 2, 4], [1], 1), {"reward": math.nan}, "reward must be a finite number, got nan"),
    (([0, 2, 4], [1], 1), {"reward": "15"}, "got '15'"),
    (([0, 2, 4], [1], 1), {"penalty": math.inf}, "penalty must be a finite number, got inf"),
    (([0, 2, 4], [1], 0.5), {}, "clicked must be a movie index (integer), got 0.5"),
    (([0, 2, 4], [1], 9), {}, "unknown movie index 9"),
    (([0, 2, 4], [1], 2), {}, "clicked movie 2 is already in the state"),
    (([0, 2, 4], [1, 1], None), {}, "the recommended list repeats a movie: [1, 1]"),
    (([0, 2, 4], [1, 3.5], None), {}, "the recommended list must be integers in [0, 7], got "
                                      "3.5 at position 1"),
    (([0, 2, 4], [1, -1], None), {}, "got -1 at position 1"),
    (([0, 2, 4], [2], None), {}, "recommended movies [2] are in the state"),
    (([0, 2, 4], [1], None), {"done": 1}, "done must be True or False, got 1"),
    (([0, 2, 4, 6], [1], None), {}, "a state holds at most 3 movies"),
]  # fmt: skip


@pytest.mark.parametrize("storage", ["dense", "lazy", "sparse"])
@pytest.mark.parametrize(("args", "kwargs", "message"), UPDATES,
                         ids=[m[:28] for _, _, m in UPDATES])  # fmt: skip
def test_refused_update_writes_nothing(storage, args, kwargs, message):
    tables = trained(storage)
    rejects(lambda: tables.update(*args, **kwargs), match=message, unchanged=[tables])


# ---- replay training --------------------------------------------------------------------------


REPLAYS = [
    ({"epochs": 0}, "epochs must be a positive integer, got 0"),
    ({"k": -1}, "k must be a non-negative integer, got -1"),
    ({"reward": math.nan}, "reward must be a finite number, got nan"),
    ({"rng": 42}, "rng must be a numpy.random.Generator or None"),
    ({"proposer_only": "yes"}, "proposer_only must be True or False, got 'yes'"),
    ({"transitions": [[0, 2, 4]]}, "transitions must have .states and .targets"),
    ({"transitions": ([[0, 2, 4]], [8])}, "unknown movie index 8 in a next movie"),
    ({"transitions": ([[0, 2, -4]], [1])}, "unknown movie index -4 in a state"),
    ({"transitions": ([[0, 2, 2]], [1])}, "a state cannot hold the same movie twice"),
    ({"transitions": ([[0, 2, 4]], [2])}, "next movie 2 is already in its state"),
    ({"transitions": ([[0.0, 2.0, 4.0]], [1])}, "movie indices must be integers, got float64"),
    ({"transitions": ([[0, 2, 4, 5]], [1])}, "a state holds at most 3 movies"),
]  # fmt: skip


@pytest.mark.parametrize("replay", [replay_train, replay_train_fast])
@pytest.mark.parametrize(("change", "message"), REPLAYS, ids=[m[:30] for _, m in REPLAYS])
def test_refused_replay_trains_nothing(replay, change, message):
    tables, rng = trained(), np.random.default_rng(1)
    args = {"transitions": ([[0, 2, 4], [2, 4, 1]], [1, 3]), "rng": rng, **change}
    if isinstance(args["transitions"], tuple):
        args["transitions"] = small_transitions(*args["transitions"])
    rejects(lambda: replay(tables, **args), match=message, unchanged=[tables, rng])


# ---- training configurations and train() ----------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("alpha", 0, "alpha (learning rate) must be in (0, 1], got 0"),
        ("gamma", "0.9", "got '0.9'"),
        ("epsilon", -0.1, "got -0.1"),
        ("reward", -1, "reward must be a finite number >= 0, got -1"),
        ("penalty", math.inf, "got inf"),
        ("k", 0, "k must be a positive integer, got 0"),
        ("epochs", 1.0, "epochs must be a positive integer, got 1.0"),
        ("storage", "ram", "storage must be one of 'dense', 'lazy', 'sparse', got 'ram'"),
        ("genre_strategy", "last", "genre_strategy must be one of 'first', 'paper', got 'last'"),
        ("one_per_substate", 1, "one_per_substate must be True or False, got 1"),
    ],
)
def test_train_config_fields(field, value, message):
    rejects(lambda: TrainConfig(**{field: value}), match=message)


@pytest.fixture(scope="module")
def tiny(tutorial_data):
    """The tutorial catalogue and 200 training transitions."""
    return tutorial_data.catalog, tutorial_data.split.train.subset(np.arange(200))


@pytest.mark.parametrize(
    ("field", "value"), [("alpha", 0.5), ("gamma", 0.9), ("epsilon", 0.0), ("storage", "lazy")]
)
def test_train_refuses_tables_that_disagree_with_the_config(tiny, field, value):
    catalog, transitions = tiny
    tables = make_tables(catalog)
    config = TrainConfig(epochs=1).with_(**{field: value})
    rejects(lambda: train(catalog, transitions, config, tables=tables),
            match=[f"config.{field} is {value!r} but the tables were built with"],
            unchanged=[tables])  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"config": {"alpha": 0.5}}, "config must be a TrainConfig, got dict"),
        ({"rng": 0}, "rng must be a numpy.random.Generator or None"),
        ({"val": [1, 2]}, "val must be Transitions or None, got list"),
        ({"tables": "tables.npz"}, "tables must be GenreQTables or None, got str"),
        ({"tables": GenreQTables(GENRE_OF, NAMES)}, "tables were not built for this catalogue's"),
    ],
)
def test_train_arguments(tiny, kwargs, message):
    catalog, transitions = tiny
    rejects(lambda: train(catalog, transitions, **kwargs), match=message)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c, t: grid_search(c, t, t, {"alpha": []}), "alpha needs a non-empty list of "
                                                           "values, got []"),
        (lambda c, t: grid_search(c, t, t, {"alpha": "0.5"}), "got '0.5'"),
        (lambda c, t: grid_search(c, t, t, {"alpah": [0.5]}), "unknown hyperparameter(s) "
                                                              "['alpah']"),
        (lambda c, t: grid_search(c, t, t, {"alpha": [0.5, 2.0]}), "alpha (learning rate) must "
                                                                   "be in (0, 1], got 2.0"),
        (lambda c, t: grid_search(c, t, t, {"alpha": [0.5]}, seed=-1), "seed must be a "
                                                                       "non-negative integer"),
        (lambda c, t: sweep(c, t, t, {"gamma": [0.5, math.nan]}), "got nan"),
        (lambda c, t: sweep(c, t, t, {"gamma": [0.5]}, seeds=[1, 1]), "seeds must be distinct"),
        (lambda c, t: tune(c, t, t, {"alpha": [0.5]}, TrainConfig(), max_epochs=0),
         "max_epochs must be a positive integer, got 0"),
    ],
)  # fmt: skip
def test_searches_check_every_value_before_training(tiny, call, message):
    catalog, transitions = tiny
    rejects(lambda: call(catalog, transitions), match=message)


# ---- files ------------------------------------------------------------------------------------


def test_saving_non_finite_tables_is_refused_and_keeps_the_old_file(tmp_path):
    path = trained().save(tmp_path / "t.npz")
    broken = trained("lazy")
    broken.store.writable_row(1, 2)[5] = np.inf
    rejects(lambda: broken.save(path), match=["cannot save Q-tables to 't.npz'", "holds inf"],
            files=[path])  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.npz"]  # no temporary file left


@pytest.mark.parametrize(
    ("entry", "value", "message"),
    [
        ("table_0", np.nan, "table_0 holds nan at position (0, 0)"),
        ("table_2", -np.inf, "table_2 holds -inf"),
        ("hyper", np.nan, "hyper holds nan at position 0"),
        ("prior", np.inf, "prior holds inf at position 0"),
    ],
)
def test_loading_non_finite_values_is_refused(tmp_path, entry, value, message):
    tables = trained()
    tables.prior = np.ones(8)
    data = dict(np.load(tables.save(tmp_path / "t.npz")))
    data[entry] = data[entry].copy()
    data[entry].flat[0] = value
    np.savez(tmp_path / "bad.npz", **data)
    rejects(lambda: load_tables(tmp_path / "bad.npz"),
            match=["cannot load Q-tables from 'bad.npz'", message])  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hyper": np.array([0.8, 1.4, 0.3])}, "gamma (discount factor) must be in [0, 1]"),
        ({"hyper": np.array([0.8, 0.4])}, "hyper must hold alpha, gamma, epsilon"),
        ({"kind": np.array("forest")}, "unknown kind 'forest'"),
        ({"storage": np.array("tape")}, "storage must be one of"),
        ({"dtype": np.array("<i8")}, "dtype must be a floating type"),
        ({"genre_of": np.array([0, 0, 1])}, "table_0"),
        ({"format": np.array("other/9")}, "unknown format 'other/9'"),
    ],
)
def test_loading_inconsistent_files_is_refused(tmp_path, change, message):
    data = dict(np.load(trained().save(tmp_path / "t.npz")))
    np.savez(tmp_path / "bad.npz", **{**data, **change})
    rejects(lambda: load_tables(tmp_path / "bad.npz"),
            match=["cannot load Q-tables from 'bad.npz'", message])  # fmt: skip


def test_loading_corrupt_and_missing_files(tmp_path):
    good = trained().save(tmp_path / "t.npz")
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:300])
    (tmp_path / "text.npz").write_text("hello")
    np.savez(tmp_path / "other.npz", weights=np.ones(2))
    for name, message in [("cut.npz", "corrupt or truncated"), ("text.npz", "corrupt or truncated"),
                          ("other.npz", "missing entries ['format', 'kind'"),
                          ("none.npz", "no such file")]:  # fmt: skip
        rejects(lambda n=name: load_tables(tmp_path / n), match=[repr(name), message])
    rejects(lambda: load_tables(tmp_path), match="no such file")


def test_atomic_writes_refuse_a_folder_or_a_missing_folder(tmp_path):
    (tmp_path / "keep.txt").write_text("kept")
    rejects(lambda: atomic_write_text(tmp_path, "x"), exc=IsADirectoryError,
            match=[repr(str(tmp_path)), "is a folder"])  # fmt: skip
    rejects(lambda: atomic_savez(tmp_path / "no" / "t.npz", a=np.ones(1)), exc=FileNotFoundError,
            match="does not exist")  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_the_fingerprint_sees_a_single_changed_q_value():
    """The battery's own check can fail: one Q-value moved changes the fingerprint."""
    tables = trained("sparse")
    before = fingerprint(tables)
    tables.store.writable_row(0, 1)[2] += 1e-6
    assert fingerprint(tables) != before
