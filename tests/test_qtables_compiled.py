"""The compiled fast paths give exactly what the readable code gives."""

from __future__ import annotations

import numpy as np
import pytest

from odsc_recsys.protocol import Recommender
from odsc_recsys.qtables import (
    HAVE_NUMBA,
    FullStateQTable,
    GenreQTables,
    recommend_batch,
    replay_train,
    replay_train_fast,
)
from odsc_recsys.sessions import Transitions, make_transitions

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")


def planted_data(n_items: int, n_users: int, length: int, seed: int) -> Transitions:
    """Histories with a sequential habit (i -> i+1 most of the time), so Q-values grow apart."""
    rng = np.random.default_rng(seed)
    histories = {}
    for u in range(n_users):
        h = [int(rng.integers(n_items))]
        while len(h) < length:
            nxt = (h[-1] + 1) % n_items if rng.random() < 0.7 else int(rng.integers(n_items))
            if nxt not in h[-3:]:
                h.append(nxt)
        histories[u] = np.array(h)
    return make_transitions(histories)


def genre_codes(n_items: int, n_genres: int, seed: int) -> np.ndarray:
    codes = np.random.default_rng(seed).integers(0, n_genres, size=n_items)
    codes[:n_genres] = np.arange(n_genres)  # every genre has a movie
    return codes


def assert_same_tables(a: GenreQTables, b: GenreQTables) -> None:
    for g in range(a.n_tables):
        np.testing.assert_array_equal(a.table(g), b.table(g))


@pytest.mark.parametrize("storage", ["dense", "lazy", "sparse"])
@pytest.mark.parametrize(
    ("alpha", "gamma", "epsilon", "k", "seed"),
    [(0.8, 0.4, 0.3, 10, 0), (0.1, 0.9, 0.0, 5, 1), (1.0, 0.0, 1.0, 3, 2), (0.5, 0.5, 0.5, 40, 3)],
)
def test_fast_replay_is_bit_identical(storage, alpha, gamma, epsilon, k, seed):
    n_items, n_genres = 45, 4
    codes = genre_codes(n_items, n_genres, seed)
    names = [f"g{i}" for i in range(n_genres)]
    data = planted_data(n_items, 30, 25, seed)
    kwargs = dict(alpha=alpha, gamma=gamma, epsilon=epsilon, storage=storage)
    slow, fast = GenreQTables(codes, names, **kwargs), GenreQTables(codes, names, **kwargs)
    log_slow = replay_train(slow, data, 2, np.random.default_rng(seed), 15, 5, k)
    log_fast = replay_train_fast(fast, data, 2, np.random.default_rng(seed), 15, 5, k)
    assert_same_tables(slow, fast)
    assert log_slow.equals(log_fast)
    assert np.abs(fast.table(0)).max() > 0  # something was learnt
    if storage in ("lazy", "sparse"):
        assert [slow.written_rows(g).tolist() for g in range(n_genres)] == [
            fast.written_rows(g).tolist() for g in range(n_genres)
        ]
    if storage == "sparse":  # the fast path stores a touched row's non-zero entries only
        assert 0 < fast.n_stored_values <= slow.n_stored_values


def test_fast_replay_into_sparse_tables_continues_any_training():
    """Readable, then compiled, then readable again on sparse tables gives the dense result."""
    codes = genre_codes(40, 4, 5)
    data = planted_data(40, 25, 20, 5)
    tables = {s: GenreQTables(codes, list("abcd"), storage=s) for s in ("dense", "sparse")}
    for t in tables.values():
        rng = np.random.default_rng(5)
        replay_train(t, data, 1, rng)
        replay_train_fast(t, data, 1, rng)
        replay_train(t, data, 1, rng)
    assert_same_tables(tables["dense"], tables["sparse"])
    sparse = tables["sparse"]
    for g in range(sparse.n_tables):
        for entries in sparse.store.rows[g].values():  # sorted, unique, in range
            cols = entries["col"].tolist()
            assert cols == sorted(set(cols)) and all(0 <= c < 40 for c in cols)


def test_fast_replay_greedy_and_continued_training():
    codes = genre_codes(30, 3, 7)
    data = planted_data(30, 20, 20, 7)
    slow, fast = GenreQTables(codes, ["a", "b", "c"]), GenreQTables(codes, ["a", "b", "c"])
    for _ in range(2):  # training twice continues from the trained values
        replay_train(slow, data, 1, None)
        replay_train_fast(fast, data, 1, None)
    assert_same_tables(slow, fast)


def test_fast_replay_validates_like_the_readable_code():
    tables = GenreQTables(genre_codes(10, 2, 0), ["a", "b"])
    bad = Transitions(np.zeros(1, int), np.array([[0, 1, 2]]), np.array([2]), np.array([3]))
    with pytest.raises(ValueError, match="already in its state"):
        replay_train_fast(tables, bad)
    bad = Transitions(np.zeros(1, int), np.array([[0, 1, 1]]), np.array([2]), np.array([3]))
    with pytest.raises(ValueError, match="same movie twice"):
        replay_train_fast(tables, bad)
    bad = Transitions(np.zeros(1, int), np.array([[0, 1, 12]]), np.array([2]), np.array([3]))
    with pytest.raises(ValueError, match="unknown movie index 12"):
        replay_train_fast(tables, bad)
    with pytest.raises(ValueError, match="epochs"):
        replay_train_fast(tables, planted_data(10, 2, 6, 0), epochs=0)


def test_full_state_tables_fall_back_to_the_readable_code():
    data = planted_data(8, 5, 10, 1)
    slow, fast = FullStateQTable(8), FullStateQTable(8)
    replay_train(slow, data, 1, np.random.default_rng(0))
    replay_train_fast(fast, data, 1, np.random.default_rng(0))
    np.testing.assert_array_equal(slow.table(0), fast.table(0))


def test_batch_recommendations_equal_the_loop():
    codes = genre_codes(40, 4, 3)
    tables = GenreQTables(codes, list("abcd"))
    replay_train_fast(tables, planted_data(40, 30, 30, 3), 2, np.random.default_rng(3))
    rng = np.random.default_rng(9)
    histories = [rng.permutation(40)[: rng.integers(3, 30)] for _ in range(50)]
    for k in (1, 10, 39):
        got = recommend_batch(tables, histories, k)
        want = Recommender.recommend_many(tables.as_recommender(), histories, k)
        np.testing.assert_array_equal(got, want)
    # a history of 37 movies leaves 3 eligible: the rest is padding
    assert (recommend_batch(tables, [np.arange(37)], 10)[0] == -1).sum() == 7
    # short histories are left to the readable path
    assert recommend_batch(tables, [np.array([1, 2])], 10) is None
    with pytest.raises(ValueError, match="unknown item index 40"):
        recommend_batch(tables, [np.array([1, 2, 40])], 10)


RULES = [
    {"one_per_substate": True},
    {"proposer_only": True},
    {"bootstrap_ignored": False},
    {"one_per_substate": True, "proposer_only": True, "bootstrap_ignored": False},  # as coded
]


@pytest.mark.parametrize("storage", ["dense", "lazy"])
@pytest.mark.parametrize("rules", RULES, ids=lambda r: "+".join(sorted(r)))
@pytest.mark.parametrize(("epsilon", "seed"), [(0.3, 0), (0.0, 1), (1.0, 2)])
def test_fast_replay_with_the_original_codes_rules_is_bit_identical(storage, rules, epsilon, seed):
    codes = genre_codes(30, 3, seed)  # few genres: many pairs and all-one-genre states
    names = [f"g{i}" for i in range(3)]
    data = planted_data(30, 25, 25, seed)
    slow = GenreQTables(codes, names, alpha=0.5, gamma=0.6, epsilon=epsilon, storage=storage)
    fast = GenreQTables(codes, names, alpha=0.5, gamma=0.6, epsilon=epsilon, storage=storage)
    rng_slow, rng_fast = np.random.default_rng(seed), np.random.default_rng(seed)
    log_slow = replay_train(slow, data, 2, rng_slow, 15, 5, 4, **rules)
    log_fast = replay_train_fast(fast, data, 2, rng_fast, 15, 5, 4, **rules)
    assert_same_tables(slow, fast)
    assert log_slow.equals(log_fast)
    assert rng_slow.random() == rng_fast.random()  # the same number of draws
    with pytest.raises(ValueError, match="proposer_only must be True or False"):
        replay_train_fast(fast, data, proposer_only=1)


def test_dense_tables_are_trained_in_place_and_copies_fall_back(tmp_path):
    import copy

    codes = genre_codes(20, 3, 4)
    data = planted_data(20, 15, 20, 4)
    fresh = GenreQTables(codes, list("abc"))
    assert fresh.store.flat() is not None  # one array behind every table: no copy
    replay_train_fast(fresh, data.subset(np.arange(50)), 1, np.random.default_rng(0))
    # a deep copy and a loaded file no longer share one array: the compiled path copies
    copied = copy.deepcopy(fresh)
    loaded = GenreQTables.load(fresh.save(tmp_path / "t.npz"))
    assert copied.store.flat() is None and loaded.store.flat() is None
    reference = copy.deepcopy(fresh)
    rest = data.subset(np.arange(50, len(data)))
    replay_train(reference, rest, 1, np.random.default_rng(1))
    for tables in (fresh, copied, loaded):
        replay_train_fast(tables, rest, 1, np.random.default_rng(1))
        assert_same_tables(tables, reference)
