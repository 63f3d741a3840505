"""Tests of the per-genre Q-tables: decomposition, recommend, update, storage, save/load."""

from __future__ import annotations

import itertools
import math
import os
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from odsc_recsys.catalog import Catalog
from odsc_recsys.datasets import synthetic_movielens
from odsc_recsys.protocol import top_k
from odsc_recsys.qtables import (
    EXPLORE,
    PRIOR,
    STORAGES,
    FullStateQTable,
    GenreLayout,
    GenreQTables,
    SubState,
    genre_combinations,
    replay_train,
    state_order,
)
from odsc_recsys.sessions import make_transitions, user_histories

NAN = float("nan")
# A hand-made catalogue of 7 movies in 3 genres.
#   Drama  (0): movies 0, 1, 3, 6 -> local 0, 1, 2, 3; rows: 4 singles + 6 pairs = 10
#   Comedy (1): movies 2, 5       -> local 0, 1;       rows: 2 singles + 1 pair  = 3
#   Horror (2): movie 4           -> local 0;          rows: 1 single            = 1
GENRE_OF = np.array([0, 0, 1, 0, 2, 1, 0])
NAMES = ["Drama", "Comedy", "Horror"]
D, C, H = 0, 1, 2


def make(**kwargs) -> GenreQTables:
    return GenreQTables(GENRE_OF, NAMES, **kwargs)


def set_q(tables, genre: int, row: int, col: int, value: float) -> None:
    """Put one Q-value in place (white box: the tests need known starting values)."""
    tables.store.writable_row(genre, row)[col] = value


def transitions_for(n_items: int, n: int, seed: int, length: int = 3) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    rows = np.array([rng.choice(n_items, length + 1, replace=False) for _ in range(n)])
    return SimpleNamespace(states=rows[:, :length], targets=rows[:, length])


# ---------------------------------------------------------------------------- layout


def test_table_layout_by_hand():
    t = make()
    assert t.table_rows.tolist() == [10, 3, 1]
    assert t.local_index.tolist() == [0, 1, 0, 2, 0, 1, 3]
    assert t.n_rows == 14
    assert t.dense_nbytes() == 14 * 7 * 4
    assert t.nbytes == 14 * 7 * 4  # dense: every row is allocated
    assert t.members(D).tolist() == [0, 1, 3, 6]


# ---------------------------------------------------------------------------- decomposition


def test_scenario_a_three_genres():
    t = make()
    assert t.decompose([0, 2, 4]) == (
        SubState(D, (0,), 0),
        SubState(C, (2,), 0),
        SubState(H, (4,), 0),
    )
    assert t.scenario([0, 2, 4]) == "a"


def test_scenario_b_two_share_a_genre():
    t = make()
    # Drama pair {1, 3}: local (1, 2) -> row 4 + C(2, 2) + 1 = 6; Comedy single {5}: row 1.
    assert t.decompose([5, 3, 1]) == (SubState(D, (1, 3), 6), SubState(C, (5,), 1))
    assert t.scenario([5, 3, 1]) == "b"


def test_scenario_c_one_genre_gives_its_three_pairs():
    t = make()
    # Local positions 0, 2, 3: pairs (0,2) -> 4+1+0, (0,3) -> 4+3+0, (2,3) -> 4+3+2.
    assert t.decompose([6, 0, 3]) == (
        SubState(D, (0, 3), 5),
        SubState(D, (0, 6), 7),
        SubState(D, (3, 6), 9),
    )
    assert t.scenario([6, 0, 3]) == "c"


def test_short_histories():
    t = make()
    assert t.decompose([]) == ()
    assert t.decompose([6]) == (SubState(D, (6,), 3),)
    assert t.decompose([5, 2]) == (SubState(C, (2, 5), 2),)  # n_C = 2, pair rank 0
    assert t.decompose([4, 2]) == (SubState(C, (2,), 0), SubState(H, (4,), 0))
    assert t.scenario([4, 2]) == "short"


def reference_rows(genre_of: np.ndarray, genre: int) -> dict[tuple[int, ...], int]:
    """Rows of one genre's table by brute force: singles, then the pairs in colex order."""
    members = np.flatnonzero(genre_of == genre).tolist()
    singles = [(m,) for m in members]
    pairs = sorted(itertools.combinations(members, 2), key=lambda p: (p[1], p[0]))
    return {sub: row for row, sub in enumerate(singles + pairs)}


@st.composite
def catalogue_and_state(draw):
    n_genres = draw(st.integers(min_value=1, max_value=5))
    n_items = draw(st.integers(min_value=3, max_value=25))
    genre_of = np.array(
        draw(st.lists(st.integers(0, n_genres - 1), min_size=n_items, max_size=n_items))
    )
    size = draw(st.integers(min_value=0, max_value=3))
    state = draw(st.lists(st.integers(0, n_items - 1), min_size=size, max_size=size, unique=True))
    return genre_of, n_genres, state


@settings(max_examples=300, deadline=None)
@given(catalogue_and_state())
def test_decomposition_properties(case):
    genre_of, n_genres, state = case
    t = GenreQTables(genre_of, [f"g{g}" for g in range(n_genres)])
    subs = t.decompose(state)
    # Every movie of the state appears in some sub-state, and nothing else does.
    assert set().union(*[set(s.items) for s in subs]) == set(state)
    for s in subs:
        assert len(s.items) in (1, 2)
        assert all(genre_of[m] == s.genre for m in s.items)  # lies in one genre's table
        assert 0 <= s.row < t.table_rows[s.genre]
        assert s.row == reference_rows(genre_of, s.genre)[s.items]  # O(1) rank == brute force
    keys = [(s.genre, s.row) for s in subs]
    assert len(set(keys)) == len(keys)  # row indices unique
    # Count per genre group: 1 movie -> 1 single, 2 -> 1 pair, 3 -> its 3 pairs.
    for g in set(genre_of[state].tolist()):
        group = sorted(m for m in state if genre_of[m] == g)
        mine = sorted(s.items for s in subs if s.genre == g)
        if len(group) == 1:
            assert mine == [tuple(group)]
        else:
            assert mine == sorted(itertools.combinations(group, 2))


# ---------------------------------------------------------------------------- recommend


def test_untrained_recommendations_fall_back_to_catalogue_order():
    t = make()
    recs = t.recommend([0, 2, 4], k=3)
    assert recs.items.tolist() == [1, 3, 5]  # all Q = 0: ties go to the lower index
    assert recs.q_values.tolist() == [0.0, 0.0, 0.0]
    assert recs.source.tolist() == [0, 0, 0]  # ties: the first sub-state (Drama) wins


def test_merge_takes_the_max_and_records_its_sub_state():
    t = make()
    set_q(t, D, 0, 5, 3.0)  # Drama {0} likes movie 5 a bit
    set_q(t, C, 0, 5, 4.0)  # Comedy {2} likes it more
    set_q(t, H, 0, 6, 2.0)  # Horror {4} proposes movie 6
    set_q(t, D, 0, 1, -1.0)  # Drama {0} dislikes movie 1
    recs = t.recommend([0, 2, 4], k=6)
    assert recs.items.tolist() == [5, 6, 1, 3]  # 1 ties 3 at 0 (merged max) -> lower first
    assert recs.q_values.tolist() == [4.0, 2.0, 0.0, 0.0]
    assert [recs.substates[i].genre for i in recs.source] == [C, H, C, D]
    assert len(recs) == 4  # only 4 movies are not in the state
    assert t.score([0, 2, 4]).tolist() == [0, 0, 0, 0, 0, 4, 2]


def test_recommend_excludes_state_and_seen_movies():
    t = make()
    recs = t.recommend([0, 2, 4], k=10, exclude=[1, 6])
    assert recs.items.tolist() == [3, 5]
    for k in range(5):
        assert len(t.recommend([0], k=k)) == min(k, 6)


def test_empty_state_uses_the_prior():
    prior = np.array([0.0, 5.0, 1.0, 7.0, 0.0, 2.0, 0.5])
    t = make(prior=prior)
    recs = t.recommend([], k=3)
    assert recs.items.tolist() == [3, 1, 5]
    assert recs.source.tolist() == [PRIOR] * 3
    assert make().recommend([], k=2).items.tolist() == [0, 1]  # no prior: zeros


def test_epsilon_zero_is_greedy_and_draws_nothing():
    t = make(epsilon=0.0)
    set_q(t, D, 0, 6, 1.0)
    rng = np.random.default_rng(3)
    before = rng.bit_generator.state
    recs = t.recommend([0, 2, 4], k=3, rng=rng)
    assert rng.bit_generator.state == before
    assert recs.items.tolist() == t.recommend([0, 2, 4], k=3).items.tolist() == [6, 1, 3]


def test_exploration_uses_exactly_2k_draws():
    t = make(epsilon=0.5)
    rng, twin = np.random.default_rng(11), np.random.default_rng(11)
    for _ in range(20):
        recs = t.recommend([0, 2], k=3, rng=rng)
        twin.random(2 * len(recs))
        assert rng.bit_generator.state == twin.bit_generator.state


def test_epsilon_one_explores_every_slot_uniformly():
    t = make(epsilon=1.0)
    rng = np.random.default_rng(0)
    counts = np.zeros(7, dtype=int)
    for _ in range(3000):
        recs = t.recommend([0, 3], k=1, rng=rng)
        assert recs.source.tolist() == [EXPLORE]
        counts[recs.items[0]] += 1
    assert counts[[0, 3]].tolist() == [0, 0]  # never the state's movies
    eligible = counts[[1, 2, 4, 5, 6]]
    assert np.all(np.abs(eligible - 600) < 90)  # 5 movies, 600 each expected (sd ~22)
    full = t.recommend([0, 3], k=5, rng=rng)
    assert sorted(full.items.tolist()) == [1, 2, 4, 5, 6]  # no repeats, all eligible


def test_exploration_rate_per_slot():
    rng_types = np.random.default_rng(5)
    genre_of = rng_types.integers(0, 4, 60)
    t = GenreQTables(genre_of, ["a", "b", "c", "d"], epsilon=0.3)
    rng = np.random.default_rng(6)
    explored = [t.recommend([1, 2, 3], k=10, rng=rng).explored.mean() for _ in range(2000)]
    assert abs(np.mean(explored) - 0.3) < 0.015  # sd of the mean ~0.003


def reference_list(merged: np.ndarray, state: list[int], k: int, epsilon: float, u) -> list[int]:
    """The module docstring's rule, written plainly: a full stable sort for the greedy order,
    and the list of free movies rebuilt for every exploratory slot."""
    eligible = [m for m in range(len(merged)) if m not in state]
    greedy = [m for m in np.argsort(-merged, kind="stable").tolist() if m not in state]
    k = min(k, len(eligible))
    chosen: list[int] = []
    for p in range(k):
        if u is not None and u[p] < epsilon:
            free = [m for m in eligible if m not in chosen]  # catalogue order
            chosen.append(free[min(int(u[k + p] * len(free)), len(free) - 1)])
        else:
            chosen.append(next(m for m in greedy if m not in chosen))
    return chosen


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=0, max_value=12),
    st.sampled_from([0.0, 0.3, 0.8, 1.0]),
)
def test_recommend_follows_the_reference_rule(seed, k, epsilon):
    # Few distinct Q-values, so that ties (broken by the lower index) are everywhere.
    rng = np.random.default_rng(seed)
    genre_of = rng.integers(0, 3, 12)
    t = GenreQTables(genre_of, ["a", "b", "c"], epsilon=epsilon)
    for g in range(3):
        for r in range(int(t.table_rows[g])):
            t.store.writable_row(g, r)[:] = rng.choice([-1.0, 0.0, 0.5, 2.0], size=12)
    state = rng.choice(12, int(rng.integers(0, 4)), replace=False).tolist()
    merged = t.score(state)
    draws = np.random.default_rng(seed + 1)
    kk = min(k, 12 - len(state))
    u = draws.random(2 * kk) if epsilon > 0 and kk > 0 else None
    want = reference_list(merged, state, k, epsilon, u)
    recs = t.recommend(state, k=k, rng=np.random.default_rng(seed + 1))
    assert recs.items.tolist() == want
    assert recs.q_values.tolist() == merged[want].tolist()
    assert t.recommend(state, k=k).items.tolist() == reference_list(merged, state, k, 0.0, None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([-np.inf, -2.0, -1.0, 0.0, 0.5, 1.0, 3.0]), min_size=1, max_size=60),
    st.integers(min_value=0, max_value=65),
)
def test_top_k_equals_a_stable_sort(values, k):
    scores = np.array(values, dtype=np.float32)
    k = min(k, len(values))
    assert top_k(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()


# ---------------------------------------------------------------------------- update


def test_update_by_hand():
    t = make(alpha=0.5, gamma=0.4)
    # 1. State (0, 2, 4): three singles. Next (2, 4, 1): its sub-state with 1 is Drama {1},
    #    all zeros, so target = +15 for movie 1, -5 for movie 3; Q = 0 + 0.5 * target.
    actions = t.update([0, 2, 4], [1, 3], clicked=1, reward=15, penalty=5)
    assert actions.tolist() == [1, 3]
    for genre in (D, C, H):
        row = t.table(genre)[0]
        assert (row[1], row[3]) == (7.5, -2.5)
    # 2. State (2, 4, 1), clicked 6 (not in the list: appended). Next (4, 1, 6) -> Drama pair
    #    {1, 6} (local 1, 3 -> row 4 + 3 + 1 = 8), zeros. Drama {1} is row 1.
    actions = t.update([2, 4, 1], [3], clicked=6)
    assert actions.tolist() == [3, 6]
    assert t.table(C)[0, 6] == 7.5 and t.table(C)[0, 3] == -3.75  # -2.5 + 0.5 * (-5 + 2.5)
    assert t.table(D)[1, 6] == 7.5 and t.table(D)[1, 3] == -2.5
    # 3. State (0, 2, 4) again, clicked 1: now max Q(Drama {1}) = 7.5, so target = 15 + 0.4*7.5
    #    = 18 and Q(., 1) = 7.5 + 0.5 * (18 - 7.5) = 12.75 in each of the three tables.
    t.update([0, 2, 4], [1], clicked=1)
    assert [t.table(g)[0, 1] for g in (D, C, H)] == [12.75, 12.75, 12.75]
    assert t.written_rows(D).tolist() == [0, 1]


def test_update_future_value_takes_the_best_pair_in_scenario_c():
    t = make(alpha=1.0, gamma=0.5)
    # Next state (0, 3, 6) is all Drama: the pairs holding 6 are {0, 6} (row 7) and {3, 6}
    # (row 9); {0, 3} (row 5) does not hold it and must be ignored.
    set_q(t, D, 7, 2, 4.0)
    set_q(t, D, 9, 2, 10.0)
    set_q(t, D, 5, 2, 100.0)
    t.update([5, 0, 3], [6], clicked=6, reward=1, penalty=0)
    # alpha = 1: Q = r + gamma * max(4, 10) = 1 + 5 = 6 in Comedy {5} and Drama {0, 3}.
    assert t.table(C)[1, 6] == 6.0
    assert t.table(D)[5, 6] == 6.0


def test_update_with_empty_state_changes_nothing():
    t = make()
    t.update([], [1, 2], clicked=1)
    assert t.written_rows(D).size == 0 and t.written_rows(C).size == 0


def test_replay_train_equals_the_public_loop():
    tr = transitions_for(7, 200, seed=1)
    fast, slow = make(), make()
    stats = replay_train(fast, tr, epochs=2, rng=np.random.default_rng(9), k=3)
    rng = np.random.default_rng(9)
    hits = 0
    for _ in range(2):
        for state, target in zip(tr.states, tr.targets, strict=True):
            recs = slow.recommend(state, k=3, rng=rng)
            hits += int(target in recs.items)
            slow.update(state, recs, clicked=int(target))
    for g in range(3):
        assert np.array_equal(fast.table(g), slow.table(g))
    assert stats["transitions"].tolist() == [200, 200]
    assert stats["hit_rate"].sum() * 200 == hits


def test_dense_lazy_and_sparse_are_identical_after_the_same_training():
    rng_genres = np.random.default_rng(2)
    genre_of = rng_genres.integers(0, 5, 40)
    names = [f"g{g}" for g in range(5)]
    tr = transitions_for(40, 400, seed=3)
    trained = {}
    for storage in ("dense", "lazy", "sparse"):
        tables = GenreQTables(genre_of, names, storage=storage)
        log = replay_train(tables, tr, epochs=2, rng=np.random.default_rng(4))
        trained[storage] = tables, log
    (dense, log_dense), (lazy, log_lazy), (sparse, log_sparse) = trained.values()
    assert log_dense.equals(log_lazy) and log_dense.equals(log_sparse)
    for g in range(5):
        assert np.array_equal(dense.table(g), lazy.table(g))
        assert np.array_equal(dense.table(g), sparse.table(g))
        assert sparse.written_rows(g).tolist() == lazy.written_rows(g).tolist()
    for state in tr.states[:20]:
        want = dense.recommend(state, k=10)
        for other in (lazy, sparse):
            got = other.recommend(state, k=10)
            assert np.array_equal(got.items, want.items)
            assert np.array_equal(got.q_values, want.q_values)
            assert np.array_equal(got.source, want.source)
    assert lazy.n_allocated_rows == sparse.n_allocated_rows < dense.n_allocated_rows
    # Lazy memory = the written rows' data plus Python bookkeeping (headers, keys, dicts).
    assert lazy.nbytes > lazy.n_allocated_rows * 40 * 4
    # Sparse holds only the written entries: at most 11 per row per update (a list of 10
    # and the appended clicked movie), 6 bytes each (int16 column, float32 value).
    assert sparse.n_stored_values < lazy.n_stored_values == lazy.n_allocated_rows * 40
    assert sparse.nbytes > sparse.n_stored_values * 6
    assert sparse.nbytes < lazy.nbytes


def test_sparse_memory_on_a_synthetic_catalogue():
    ratings, movies = synthetic_movielens(n_users=100, n_items=200, n_genres=5, seed=0)
    catalog = Catalog.from_movielens(ratings, movies)
    data = make_transitions(user_histories(ratings, catalog, seed=0))
    codes, names = catalog.primary_genres("first")
    memory = {}
    for storage in STORAGES:
        tables = GenreQTables(codes, names, storage=storage)
        replay_train(tables, data, rng=np.random.default_rng(0))
        memory[storage] = tables.nbytes
    assert memory["sparse"] < memory["lazy"] < memory["dense"]


def test_sparse_memory_by_hand():
    t = make(storage="sparse", alpha=0.5, gamma=0.4)
    assert t.nbytes == sys.getsizeof(t.store.rows) + 3 * sys.getsizeof({})  # no rows yet
    t.update([0, 2, 4], [1, 3], clicked=1)  # one row in each table, columns 1 and 3
    assert (t.n_allocated_rows, t.n_stored_values) == (3, 6)
    store = t.store
    assert store.entry.itemsize == 6  # int16 column + float32 value
    entries = store.rows[D][0]
    assert entries["col"].tolist() == [1, 3] and entries["val"].tolist() == [7.5, -2.5]
    per_row = sys.getsizeof(0) + sys.getsizeof(entries)  # key + array header and 12 bytes
    dicts = sum(sys.getsizeof(table) for table in store.rows)
    assert t.nbytes == sys.getsizeof(store.rows) + dicts + 3 * per_row
    # A later update that lists a new column grows the row; the others are kept.
    t.update([0, 2, 4], [5, 3], clicked=5)
    assert store.rows[D][0]["col"].tolist() == [1, 3, 5]
    # Q(3) = -2.5 + 0.5 * (-5 + 2.5) = -3.75 and Q(5) = 0.5 * 15 (the next state's Comedy pair
    # {2, 5} is untrained), as in test_update_by_hand.
    assert t.table(D)[0].tolist() == [0, 7.5, 0, -3.75, 0, 7.5, 0]


@pytest.mark.parametrize("storage", ["lazy", "sparse"])
def test_lazy_and_sparse_reads_do_not_allocate(storage):
    t = make(storage=storage)
    t.recommend([0, 2, 4], k=3)
    t.score([1, 3, 6])
    assert t.n_allocated_rows == 0
    t.update([0, 2, 4], [1], clicked=1)
    assert t.n_allocated_rows == 3
    assert t.written_rows(D).tolist() == [0]


@st.composite
def row_writes(draw):
    """A few numpy-style writes to one row of 9 columns: index arrays (repeats allowed),
    single columns and slices, with float64 values."""
    writes = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        kind = draw(st.sampled_from(["array", "int", "slice"]))
        if kind == "array":
            key = np.array(draw(st.lists(st.integers(0, 8), min_size=1, max_size=6)))
        elif kind == "int":
            key = draw(st.integers(-9, 8))
        else:
            key = slice(draw(st.integers(0, 8)), draw(st.integers(0, 9)))
        size = np.zeros(9)[key].size
        values = draw(st.lists(st.floats(-1e3, 1e3), min_size=size, max_size=size))
        writes.append((key, np.array(values) if kind != "int" else values[0]))
    return writes


@settings(max_examples=200, deadline=None)
@given(row_writes())
def test_sparse_row_behaves_like_a_numpy_row(writes):
    reference = np.zeros(9, dtype=np.float32)
    t = GenreQTables(np.zeros(9, dtype=int), ["only"], storage="sparse")
    row = t.store.writable_row(0, 4)
    written = set()
    for key, values in writes:
        reference[key] = values  # numpy's casting; repeated columns: the last one wins
        row[key] = values
        written.update(np.arange(9)[key].ravel().tolist())
        got = row[np.arange(9)]
        assert got.dtype == np.float32 and got.tolist() == reference.tolist()
    assert t.table(0)[4].tolist() == reference.tolist()
    entries = t.store.rows[0][4]
    assert entries["col"].tolist() == sorted(written)  # only the written columns, sorted
    assert entries["col"].dtype == np.int16 and t.n_stored_values == len(written)


def test_sparse_column_type_follows_the_catalogue_size():
    small = GenreQTables(np.zeros(32767, dtype=int), ["one"], storage="sparse")
    large = GenreQTables(np.zeros(32768, dtype=int), ["one"], storage="sparse")
    assert small.store.entry["col"] == np.int16 and large.store.entry["col"] == np.int32


# ---------------------------------------------------------------------------- single table


def test_full_state_table_rows_match_enumeration():
    n = 6
    t = FullStateQTable(n)
    assert t.n_rows == 6 + 15 + 20
    expected = [(c,) for c in range(n)]
    for k in (2, 3):
        expected += sorted(itertools.combinations(range(n), k), key=lambda c: c[::-1])
    got = {}
    for size in (1, 2, 3):
        for combo in itertools.combinations(range(n), size):
            (sub,) = t.decompose(list(combo)[::-1])
            got[sub.row] = sub.items
    assert [got[r] for r in range(t.n_rows)] == expected


def test_full_state_table_refuses_the_blow_up():
    with pytest.raises(ValueError, match="state-space blow-up"):
        FullStateQTable(627)
    assert FullStateQTable(627, storage="lazy").n_allocated_rows == 0


# ---------------------------------------------------------------------------- save / load


@pytest.mark.parametrize("storage", ["dense", "lazy", "sparse"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_load_round_trip(tmp_path, storage, dtype):
    prior = np.linspace(0, 1, 7)
    t = make(storage=storage, dtype=dtype, alpha=0.7, gamma=0.2, epsilon=0.1, prior=prior)
    replay_train(t, transitions_for(7, 100, seed=5), rng=np.random.default_rng(1), k=3)
    path = t.save(tmp_path / "tables.npz")
    back = GenreQTables.load(path)
    assert isinstance(back, GenreQTables)
    assert (back.storage, back.dtype, back.alpha, back.gamma, back.epsilon) == (
        storage,
        np.dtype(dtype),
        0.7,
        0.2,
        0.1,
    )
    assert back.genre_names == NAMES and np.array_equal(back.genre_of, GENRE_OF)
    assert np.array_equal(back.prior, prior)
    for g in range(3):
        assert np.array_equal(back.table(g), t.table(g))
        assert back.written_rows(g).tolist() == t.written_rows(g).tolist()
    assert os.listdir(tmp_path) == ["tables.npz"]  # no temporary file left behind


def test_save_load_full_state_table(tmp_path):
    t = FullStateQTable(8, storage="lazy")
    replay_train(t, transitions_for(8, 50, seed=6), rng=np.random.default_rng(2), k=2)
    back = FullStateQTable.load(t.save(tmp_path / "single.npz"))
    assert isinstance(back, FullStateQTable)
    assert np.array_equal(back.table(0), t.table(0))


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "t.npz"
    path.write_bytes(b"old")
    make().save(path)
    assert GenreQTables.load(path).n_items == 7


def saved_bytes(tmp_path) -> bytes:
    t = make()
    t.update([0, 2, 4], [1, 3], clicked=1)
    return t.save(tmp_path / "good.npz").read_bytes()


def test_truncated_file_is_rejected(tmp_path):
    data = saved_bytes(tmp_path)
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cannot load Q-tables from 'truncated.npz'"):
        GenreQTables.load(bad)


def test_corrupt_file_is_rejected(tmp_path):
    data = bytearray(saved_bytes(tmp_path))
    # Flip bytes inside the stored table data: the zip CRC no longer matches.
    start = data.index(b"table_0.npy") + 200
    for i in range(start, start + 16):
        data[i] ^= 0xFF
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt.npz"):
        GenreQTables.load(bad)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip file")
    with pytest.raises(ValueError, match="not a readable .npz"):
        GenreQTables.load(garbage)


def test_missing_entries_and_wrong_shapes_are_rejected(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, something=np.zeros(3))
    with pytest.raises(ValueError, match="missing entries"):
        GenreQTables.load(other)
    good = tmp_path / "good.npz"
    make().save(good)
    with np.load(good) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["table_1"] = np.zeros((2, 7), dtype=np.float32)  # Comedy has 3 rows
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, **arrays)
    with pytest.raises(ValueError, match=r"table_1 has shape \(2, 7\)"):
        GenreQTables.load(wrong)
    with pytest.raises(ValueError, match="no such file"):
        GenreQTables.load(tmp_path / "absent.npz")


def test_bad_sparse_files_are_rejected(tmp_path):
    t = make(storage="sparse")
    t.update([0, 2, 4], [1, 3], clicked=1)
    t.update([1, 2, 4], [5, 0], clicked=5)  # Drama {1}: a second Drama row
    with np.load(t.save(tmp_path / "good.npz")) as npz:
        good = {k: npz[k] for k in npz.files}
    assert good["rows_0"].tolist() == [0, 1] and good["indptr_0"].tolist() == [0, 2, 4]
    assert good["cols_0"].tolist() == [1, 3, 0, 5]
    broken = {
        "cols_0": np.array([3, 1, 0, 5]),  # not increasing inside row 0
        "indptr_0": np.array([0, 3, 4]),  # cols 1, 3, 0: not increasing either
        "vals_0": good["vals_0"].astype(np.float64),  # wrong dtype
        "rows_0": np.array([0, 10]),  # Drama has 10 rows: 10 is out of range
    }
    for name, value in broken.items():
        arrays = {**good, name: value}
        path = tmp_path / f"bad_{name}.npz"
        np.savez(path, **arrays)
        with pytest.raises(ValueError, match="do not describe sparse rows"):
            GenreQTables.load(path)
    arrays = {k: v for k, v in good.items() if k != "cols_1"}
    np.savez(tmp_path / "missing.npz", **arrays)
    with pytest.raises(ValueError, match="missing entries rows_1 / indptr_1 / cols_1"):
        GenreQTables.load(tmp_path / "missing.npz")
    # Rows may start below where the previous row ended: cols 1, 3 | 0, 5 is valid.
    assert np.array_equal(GenreQTables.load(tmp_path / "good.npz").table(D), t.table(D))


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ([0, 2, 7], "unknown movie index 7"),
        ([-1], "unknown movie index -1"),
        ([0, 2, 2], "same movie twice"),
        ([0, 1, 2, 3], "at most 3 movies"),
        ([0, 1.5], "integers"),
        (np.array([[0, 1]]), "1-d"),
    ],
)
def test_bad_states(state, message):
    t = make()
    with pytest.raises(ValueError, match=message):
        t.decompose(state)
    with pytest.raises(ValueError, match=message):
        t.recommend(state)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"alpha": NAN}, "alpha"),
        ({"gamma": -0.1}, "gamma"),
        ({"gamma": NAN}, "gamma"),
        ({"epsilon": 1.1}, "epsilon"),
        ({"epsilon": NAN}, "epsilon"),
        ({"storage": "csr"}, "storage"),
        ({"dtype": np.int32}, "dtype"),
        ({"prior": np.zeros(3)}, "prior"),
    ],
)
def test_bad_hyperparameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make(**kwargs)


def test_bad_genre_codes():
    with pytest.raises(ValueError, match="genre code 3 has no name"):
        GenreQTables(np.array([0, 3]), ["a", "b"])
    with pytest.raises(ValueError, match="unique"):
        GenreQTables(np.array([0, 1]), ["a", "a"])
    with pytest.raises(ValueError, match="integer array"):
        GenreQTables(np.array([0.5, 1.0]), ["a", "b"])


def test_bad_updates():
    t = make()
    with pytest.raises(ValueError, match="already in the state"):
        t.update([0, 2, 4], [1], clicked=2)
    with pytest.raises(ValueError, match="unknown movie index 9"):
        t.update([0, 2, 4], [1], clicked=9)
    with pytest.raises(ValueError, match="repeats"):
        t.update([0, 2, 4], [1, 1], clicked=1)
    with pytest.raises(ValueError, match=r"recommended movies \[2\] are in the state"):
        t.update([0, 2, 4], [2, 1], clicked=1)
    with pytest.raises(ValueError, match="reward"):
        t.update([0, 2, 4], [1], clicked=1, reward=NAN)
    with pytest.raises(ValueError, match="k must be"):
        t.recommend([0], k=-1)
    with pytest.raises(ValueError, match="epochs"):
        replay_train(t, transitions_for(7, 5, seed=0), epochs=0)


@pytest.mark.parametrize(
    ("states", "targets", "message"),
    [
        ([[0, 2, 4], [0, 2, 7]], [1, 1], "unknown movie index 7 in a state"),
        ([[0, 2, 4], [0, 2, 3]], [1, -1], "unknown movie index -1 in a next movie"),
        ([[0, 2, 4], [0, 2, 2]], [1, 1], r"same movie twice, got \(0, 2, 2\)"),
        ([[0, 2, 4], [0, 2, 3]], [1, 3], r"next movie 3 is already in its state \(0, 2, 3\)"),
        ([[0, 1, 2, 3]], [4], "at most 3 movies"),
        ([[0.0, 1.0, 2.0]], [4], "integers"),
        ([[0, 1, 2]], [4.0], "integers"),
        ([[0, 1, 2]], [4, 5], "n targets"),
    ],
)
def test_replay_train_validates_every_transition_up_front(states, targets, message):
    t = make()
    data = SimpleNamespace(states=np.array(states), targets=np.array(targets))
    with pytest.raises(ValueError, match=message):
        replay_train(t, data)
    assert all(t.written_rows(g).size == 0 for g in range(3))  # nothing trained


def test_replay_train_accepts_short_states():
    short = transitions_for(7, 30, seed=8, length=2)
    t, ref = make(), make()
    replay_train(t, short, rng=np.random.default_rng(0), k=2)
    rng = np.random.default_rng(0)
    for state, target in zip(short.states, short.targets, strict=True):
        ref.update(state, ref.recommend(state, k=2, rng=rng), clicked=int(target))
    for g in range(3):
        assert np.array_equal(t.table(g), ref.table(g))


# ---------------------------------------------------------------------------- extensions


def test_genre_combinations_by_hand():
    names = ["A", "B", "C", "D"]
    matrix = np.array(
        [
            [1, 0, 0, 0],  # A
            [1, 1, 1, 0],  # A, B, C -> first two kept: A|B
            [0, 0, 0, 1],  # D only: not kept -> fallback
            [0, 1, 0, 1],  # B, D -> B
            [1, 1, 0, 0],  # A|B
        ],
        dtype=bool,
    )
    codes, labels = genre_combinations(
        matrix, names, keep=["A", "B", "C"], max_genres=2, fallback=["-", "-", "X", "-", "-"]
    )
    assert labels == ["A", "B", "A|B", "X"]
    assert codes.tolist() == [0, 2, 3, 1, 2]
    t = GenreQTables(codes, labels)
    assert t.decompose([1, 4, 0]) == (SubState(0, (0,), 0), SubState(2, (1, 4), 2))
    with pytest.raises(ValueError, match="no fallback"):
        genre_combinations(matrix, names, keep=["A"])


def test_as_recommender_is_the_greedy_policy():
    t = make()
    set_q(t, H, 0, 6, 2.0)  # Horror {4} -> movie 6
    policy = t.as_recommender("genre tables")
    history = [5, 1, 0, 2, 4]  # state = last three: (0, 2, 4)
    assert policy.recommend(history, k=2).tolist() == [6, 1]
    assert policy.recommend(history, k=2, exclude=history).tolist() == [6, 3]
    assert policy.score(history)[6] == 2.0
    assert policy.fit() is policy
    assert math.isclose(policy.score([])[0], 0.0)


@settings(max_examples=200, deadline=None)
@given(catalogue_and_state(), st.data())
def test_fast_future_value_matches_the_definition(case, data):
    genre_of, n_genres, state = case
    free = sorted(set(range(len(genre_of))) - set(state))
    assume(free)
    clicked = data.draw(st.sampled_from(free))
    t = GenreQTables(genre_of, [f"g{g}" for g in range(n_genres)])
    rng = np.random.default_rng(0)
    for g in range(n_genres):  # random Q-values everywhere
        for r in range(int(t.table_rows[g])):
            t.store.writable_row(g, r)[:] = rng.normal(size=len(genre_of))
    # The definition: decompose the next state, keep the sub-states that hold ``clicked``.
    nxt = (tuple(state) + (clicked,))[-3:]
    generic = max(float(t.q_row(s).max()) for s in t.decompose(nxt) if clicked in s.items)
    assert t.future_value(tuple(state), clicked) == generic


# ---------------------------------------------------------------------------- explorer

TITLES = [f"movie {m}" for m in range(7)]


def test_explain_state_and_click_update():
    from odsc_recsys.widgets.qtables import click_update, explain_state

    t = make(alpha=0.5, gamma=0.4)
    info = explain_state(t, [0, 2, 4], TITLES, k=2)
    assert info.scenario.startswith("(a)")
    assert info.substates["table"].tolist() == ["Drama", "Comedy", "Horror"]
    assert info.table["title"].tolist() == ["movie 1", "movie 3"]
    result = click_update(t, [0, 2, 4], info.recommendations, 3, TITLES)
    # Same numbers as test_update_by_hand, with the roles of movies 1 and 3 swapped.
    assert result.per_movie["reward"].tolist() == [-5.0, 15.0]
    assert result.per_movie["q_after"].tolist() == [-2.5, 7.5]
    assert result.per_substate["q_after"].tolist() == [7.5, 7.5, 7.5]
    assert result.next_state == (2, 4, 3)


def test_explorer_panel_clicks_and_moves_on():
    from odsc_recsys.widgets.qtables import qtable_explorer

    t = make(epsilon=0.0)
    panel = qtable_explorer(t, TITLES, initial=(0, 2, 4), k=3)
    buttons = panel.children[5].children
    assert [b.description for b in buttons] == ["movie 1", "movie 3", "movie 5"]
    buttons[1].click()  # the user picks movie 3
    assert t.table(D)[0, 3] > 0  # Q(Drama {0}, movie 3) went up
    assert "Clicked movie 3" in panel.children[6].value
    panel.children[7].click()  # move on: the state becomes (2, 4, 3)
    pickers = [*panel.children[0].children, panel.children[1].children[0]]
    assert [p.value for p in pickers] == [2, 4, 3]
    with pytest.raises(ValueError, match="3 movies"):
        qtable_explorer(t, TITLES, initial=(0, 2))


# ---------------------------------------------------------------------------- the original code's rules
# State (0, 2, 4) is scenario (a): Drama {0}, Comedy {2} and Horror {4}, each at row 0, in the
# state's order. The next state (2, 4, 5) holds 5 with 2 in Comedy: s' = the pair {2, 5}, row 2.


def one_transition(target: int = 5) -> SimpleNamespace:
    return SimpleNamespace(states=np.array([[0, 2, 4]]), targets=np.array([target]))


def coded_tables(future: float = 0.0) -> GenreQTables:
    """Rows with known values: each sub-state prefers a different movie."""
    t = make(alpha=0.5, gamma=0.4)
    set_q(t, D, 0, 6, 3.0)  # Drama {0}: best 6, then 5
    set_q(t, D, 0, 5, 1.0)
    set_q(t, C, 0, 6, 5.0)  # Comedy {2}: best 6 (taken by Drama), then 1
    set_q(t, C, 0, 1, 2.0)
    set_q(t, H, 0, 3, 4.0)  # Horror {4}: best 3
    set_q(t, C, 2, 0, future)  # s' = Comedy pair {2, 5}: max Q' = future (if >= 0)
    return t


def test_state_order_follows_the_state_as_the_original_code():
    t = make()
    # scenario (b): the Drama pair {0, 3} comes first because 0 is the oldest movie ...
    assert [s.items for s in state_order((0, 2, 3), t.decompose((0, 2, 3)))] == [(0, 3), (2,)]
    # ... and second when the Comedy movie is older
    assert [s.items for s in state_order((2, 0, 3), t.decompose((2, 0, 3)))] == [(2,), (0, 3)]
    # scenario (c): itertools.combinations of the state, (m1, m2), (m1, m3), (m2, m3)
    order = state_order((6, 1, 3), t.decompose((6, 1, 3)))
    assert [s.items for s in order] == [(1, 6), (3, 6), (1, 3)]


def test_one_movie_per_substate_by_hand():
    t = coded_tables()
    log = replay_train(t, one_transition(), k=10, one_per_substate=True)
    # Drama proposes 6; Comedy its best not yet listed, 1; Horror 3; 5 is appended. Every
    # sub-state updates all four (the paper's update), alpha 0.5, future 0:
    # 5 -> 15, others -> -5.
    assert t.table(D)[0].tolist() == [0, -2.5, 0, -2.5, 0, 8.0, -1.0]
    assert t.table(C)[0].tolist() == [0, -1.5, 0, -2.5, 0, 7.5, 0.0]
    assert t.table(H)[0].tolist() == [0, -2.5, 0, -0.5, 0, 7.5, -2.5]
    assert log[["hit_rate", "explored"]].iloc[0].tolist() == [0.0, 0.0]
    # the paper's merged list of 3 for this state holds the same movies in another order
    assert coded_tables().recommend([0, 2, 4], k=3).items.tolist() == [6, 3, 1]


def test_proposer_only_by_hand():
    t = coded_tables()
    replay_train(t, one_transition(), one_per_substate=True, proposer_only=True)
    # Drama updates only 6, Comedy only 1, Horror its 3 and the appended 5 (the last sub-state)
    assert t.table(D)[0].tolist() == [0, 0, 0, 0, 0, 1.0, -1.0]
    assert t.table(C)[0].tolist() == [0, -1.5, 0, 0, 0, 0, 5.0]
    assert t.table(H)[0].tolist() == [0, 0, 0, -0.5, 0, 7.5, 0]
    # With the merged list [6, 3, 1] a movie's proposer is the row with its largest Q:
    # 6 -> Comedy (5 > 3), 3 -> Horror, 1 -> Comedy; the appended 5 -> Horror (the last).
    m = coded_tables()
    replay_train(m, one_transition(), k=3, proposer_only=True)
    assert m.table(D)[0].tolist() == [0, 0, 0, 0, 0, 1.0, 3.0]
    assert m.table(C)[0].tolist() == [0, -1.5, 0, 0, 0, 0, 0.0]
    assert m.table(H)[0].tolist() == [0, 0, 0, -0.5, 0, 7.5, 0]


@pytest.mark.parametrize(("bootstrap_ignored", "ignored"), [(True, [1.0, -0.5]), (False, [-1.0, -2.5])])
def test_no_future_for_ignored_movies_by_hand(bootstrap_ignored, ignored):
    # k = 1: the list is [6] (merged Q 5), 5 is appended. max Q' = 10, gamma 0.4:
    # 5 -> 15 + 4 = 19 either way; 6 -> -5 + 4 = -1 (paper) or -5 (as coded).
    t = coded_tables(future=10.0)
    replay_train(t, one_transition(), k=1, bootstrap_ignored=bootstrap_ignored)
    drama, horror = t.table(D)[0], t.table(H)[0]
    assert [drama[6], horror[6]] == ignored  # 3 + 0.5 (target - 3); 0 + 0.5 (target - 0)
    assert drama[5] == 1.0 + 0.5 * (19 - 1.0) and horror[5] == 0.5 * 19


def test_one_per_substate_draws_six_uniforms_and_explores_every_slot_at_epsilon_one():
    t = make(epsilon=1.0)
    data = transitions_for(7, 30, seed=2)
    rng = np.random.default_rng(5)
    log = replay_train(t, data, rng=rng, one_per_substate=True)
    reference = np.random.default_rng(5)
    reference.random(6 * 30)
    assert rng.random() == reference.random()
    assert log["explored"].iloc[0] == 1.0


@pytest.mark.parametrize("flag", ["one_per_substate", "proposer_only", "bootstrap_ignored"])
def test_rule_switches_must_be_booleans(flag):
    with pytest.raises(ValueError, match=f"{flag} must be True or False, got 'yes'"):
        replay_train(make(), one_transition(), **{flag: "yes"})


# ---------------------------------------------------------------------------- global row ids

# 30 movies in 5 genres of unequal size (sizes 11, 8, 6, 4, 1), as in the sharded tables' tests.
GENRE_OF_30 = np.array([0] * 11 + [1] * 8 + [2] * 6 + [3] * 4 + [4])[
    np.random.default_rng(5).permutation(30)
]
NAMES_30 = ["Drama", "Comedy", "Action", "Horror", "War"]


@given(st.integers(0, 2**32 - 1), st.integers(1, 3))
@settings(max_examples=60, deadline=None)
def test_substate_ids_match_genre_tables_decompose(seed, width):
    tables = GenreQTables(GENRE_OF_30, NAMES_30, storage="lazy")
    layout = tables.layout  # global row ids: offsets[genre] + row
    rng = np.random.default_rng(seed)
    *state, clicked = rng.choice(len(GENRE_OF_30), width + 1, replace=False).tolist()
    subs = tables.decompose(state)
    assert layout.substate_ids(state) == [layout.offsets[s.genre] + s.row for s in subs]
    nxt = (state + [clicked])[-3:]
    want = [layout.offsets[s.genre] + s.row for s in tables.decompose(nxt) if clicked in s.items]
    assert sorted(layout.future_ids(state, clicked)) == sorted(want)
    ids = np.array(layout.substate_ids(state))
    assert layout.genre_of_ids(ids).tolist() == [s.genre for s in subs]


@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(1, 40))
@settings(max_examples=40, deadline=None)
def test_batch_decomposition_matches_one_at_a_time(seed, width, n):
    layout = GenreLayout(GENRE_OF_30, NAMES_30)
    data = transitions_for(len(GENRE_OF_30), n, seed, width)
    sub = layout.substate_ids_batch(data.states)
    future = layout.future_ids_batch(data.states, data.targets)
    for j, (state, clicked) in enumerate(zip(data.states.tolist(), data.targets.tolist(), strict=True)):  # fmt: skip
        ids = layout.substate_ids(state)
        assert sub[j].tolist() == ids + [-1] * (3 - len(ids))
        f = layout.future_ids(state, clicked)
        assert sorted(future[j][future[j] >= 0].tolist()) == sorted(f)


def test_offsets_by_hand():
    layout = GenreLayout(np.array([0, 0, 1, 0, 2, 1, 0]), ["D", "C", "H"])
    # Tables of 10, 3 and 1 rows (4 + 6, 2 + 1, 1 + 0).
    assert layout.offsets.tolist() == [0, 10, 13, 14]
    # Drama holds movies 0, 1, 3, 6 at local positions 0..3. State (1, 2, 3): the Drama pair
    # {1, 3} (locals 1, 2) is row 4 + C(2, 2) + 1 = 6; the Comedy single {2} is Comedy row 0,
    # global 10 + 0.
    assert layout.substate_ids((1, 2, 3)) == [6, 10]
    # Next state (2, 3, 6) after clicking 6: Drama pair {3, 6} (locals 2, 3): 4 + C(3, 2) + 2.
    assert layout.future_ids((1, 2, 3), 6) == [9]
