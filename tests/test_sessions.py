"""Histories, sliding windows and the chronological split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys import sessions
from odsc_recsys.catalog import Catalog
from odsc_recsys.datasets import synthetic_movielens
from odsc_recsys.sessions import (
    Transitions,
    chronological_split,
    interaction_matrix,
    make_transitions,
    states_seen_in,
    user_histories,
)


def test_histories_are_chronological_and_restricted_to_the_catalogue():
    movies = pd.DataFrame({"item_id": [1, 2, 3, 4], "title": list("abcd"),
                           "year": pd.array([None] * 4, dtype="Int64"), "genres": [("Drama",)] * 4})  # fmt: skip
    ratings = pd.DataFrame({"user_id": [7, 7, 7, 7, 9, 9], "item_id": [3, 1, 4, 2, 2, 1],
                            "rating": 3, "timestamp": [30, 10, 40, 20, 5, 6]})  # fmt: skip
    cat = Catalog.from_movielens(ratings, movies).subset([0, 1, 2])  # drop item 4
    h = user_histories(ratings, cat)
    assert list(h) == [7, 9]
    np.testing.assert_array_equal(h[7], cat.indices([1, 2, 3]))
    np.testing.assert_array_equal(h[9], cat.indices([2, 1]))


def test_equal_timestamps_are_ordered_by_the_seed_only():
    movies = pd.DataFrame({"item_id": range(1, 9), "title": list("abcdefgh"),
                           "year": pd.array([None] * 8, dtype="Int64"), "genres": [("Drama",)] * 8})  # fmt: skip
    ratings = pd.DataFrame({"user_id": 1, "item_id": range(1, 9), "rating": 3, "timestamp": 100})
    cat = Catalog.from_movielens(ratings, movies)
    orders = {tuple(user_histories(ratings, cat, seed=s)[1]) for s in range(6)}
    assert len(orders) > 1  # ties are shuffled ...
    np.testing.assert_array_equal(
        user_histories(ratings, cat, seed=2)[1], user_histories(ratings, cat, seed=2)[1]
    )  # ... reproducibly


def test_sliding_window_by_hand():
    t = make_transitions({5: np.array([10, 11, 12, 13, 14]), 6: np.array([1, 2])})
    np.testing.assert_array_equal(t.states, [[10, 11, 12], [11, 12, 13]])
    np.testing.assert_array_equal(t.targets, [13, 14])
    np.testing.assert_array_equal(t.positions, [3, 4])
    np.testing.assert_array_equal(t.users, [5, 5])
    assert len(make_transitions({1: np.array([1, 2, 3])})) == 0
    with pytest.raises(ValueError, match="window"):
        make_transitions({}, window=0)


def test_split_by_hand():
    h = {1: np.arange(100, 113)}  # 13 movies -> 10 transitions
    s = chronological_split(h, val_frac=0.1, test_frac=0.2)
    np.testing.assert_array_equal(s.test.positions, [11, 12])
    np.testing.assert_array_equal(s.val.positions, [10])
    np.testing.assert_array_equal(s.train.positions, np.arange(3, 10))
    np.testing.assert_array_equal(s.train_histories[1], np.arange(100, 110))
    np.testing.assert_array_equal(s.test.prefixes(h)[0], np.arange(100, 111))


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.integers(1, 50), st.integers(0, 30), min_size=1, max_size=8),
       st.floats(0.05, 0.45), st.floats(0.05, 0.45))  # fmt: skip
def test_split_partitions_every_transition_in_time(lengths, val_frac, test_frac):
    histories = {u: np.arange(n) + 1000 * u for u, n in lengths.items()}
    s = chronological_split(histories, val_frac, test_frac)
    whole = make_transitions(histories)
    assert len(s.train) + len(s.val) + len(s.test) == len(whole)
    for u in histories:
        tr = s.train.positions[s.train.users == u]
        va = s.val.positions[s.val.users == u]
        te = s.test.positions[s.test.users == u]
        if len(te):  # training strictly before validation strictly before test
            assert len(va) >= 1
            assert tr.max(initial=-1) < va.min() and va.max() < te.min()
        # CF may be fitted on train_histories: it never contains a val/test target
        first_heldout = min(np.r_[va, te], default=len(histories[u]))
        assert len(s.train_histories[u]) == first_heldout


def test_split_rejects_bad_fractions():
    with pytest.raises(ValueError, match="val_frac"):
        chronological_split({1: np.arange(10)}, val_frac=1.5)
    with pytest.raises(ValueError, match="< 1"):
        chronological_split({1: np.arange(10)}, val_frac=0.5, test_frac=0.5)


def test_interaction_matrix_counts_each_pair_once():
    m = interaction_matrix({2: np.array([0, 2]), 1: np.array([1, 1])}, n_items=3)
    np.testing.assert_array_equal(m.toarray(), [[0, 1, 0], [1, 0, 1]])


def test_split_on_synthetic_data_is_reproducible():
    ratings, movies = synthetic_movielens(n_users=40, n_items=80, seed=5)
    cat = Catalog.from_movielens(ratings, movies).top_n(60)
    a = chronological_split(user_histories(ratings, cat, seed=1))
    b = chronological_split(user_histories(ratings, cat, seed=1))
    np.testing.assert_array_equal(a.test.states, b.test.states)
    np.testing.assert_array_equal(a.test.targets, b.test.targets)


def _transitions(states: list[list[int]]) -> Transitions:
    n = len(states)
    return Transitions(
        users=np.zeros(n, np.int64),
        states=np.array(states, np.int64),
        targets=np.zeros(n, np.int64),
        positions=np.arange(3, 3 + n),
    )


def test_states_seen_in_ignores_order_and_needs_the_same_three_movies():
    train = _transitions([[1, 2, 3], [4, 5, 6]])
    test = _transitions([[3, 1, 2], [1, 2, 4], [6, 5, 4], [7, 8, 9]])
    np.testing.assert_array_equal(states_seen_in(train, test), [True, False, True, False])


def test_states_seen_in_compares_whole_states_of_any_window():
    # A four-movie window: sharing three movies is not enough; order still does not matter.
    train = _transitions([[1, 2, 3, 4]])
    test = _transitions([[1, 2, 3, 9], [4, 3, 2, 1]])
    assert states_seen_in(train, test).tolist() == [False, True]
    two = _transitions([[5, 6]])
    assert states_seen_in(two, _transitions([[6, 5], [5, 7]])).tolist() == [True, False]


@given(st.lists(st.lists(st.integers(0, 700), min_size=3, max_size=3), min_size=1, max_size=30))
@settings(max_examples=50, deadline=None)
def test_states_seen_in_matches_a_set_of_sorted_tuples(states):
    train = _transitions(states[::2])
    test = _transitions(states)
    known = {tuple(sorted(s)) for s in states[::2]}
    expected = [tuple(sorted(s)) in known for s in states]
    np.testing.assert_array_equal(states_seen_in(train, test), expected)


def test_interaction_matrix_rows_follow_a_sequence_and_take_a_dtype():
    m = interaction_matrix([np.array([2, 2, 0]), np.array([], dtype=np.int64), np.array([1])], 3,
                           dtype=np.float64)  # fmt: skip
    assert m.dtype == np.float64 and m.shape == (3, 3)
    np.testing.assert_array_equal(m.toarray(), [[1, 0, 1], [0, 0, 0], [0, 1, 0]])
    assert interaction_matrix({}, 4).shape == (0, 4)


def test_transitions_length_and_subset_select_every_field():
    t = make_transitions({5: np.array([10, 11, 12, 13, 14, 15]), 2: np.array([1, 2, 3, 4])})
    assert len(t) == 4
    sub = t.subset(np.array([3, 0]))
    np.testing.assert_array_equal(sub.users, [5, 2])
    np.testing.assert_array_equal(sub.states, [[12, 13, 14], [1, 2, 3]])
    np.testing.assert_array_equal(sub.targets, [15, 4])
    np.testing.assert_array_equal(sub.positions, [5, 3])
    assert list(t.rows(np.array([1]))) == ["users", "states", "targets", "positions"]


# ---------------------------------------------------------------------------------------------
# load_tutorial_data: a cached load, but every caller gets its own copy
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def tutorial_load(monkeypatch, request):
    """``load_tutorial_data`` on synthetic ratings, with a source of its own (so a fresh load)
    and a count of how often the ratings were read."""
    reads = []

    def fake_movielens(source: str, progressbar: bool):
        reads.append(source)
        return synthetic_movielens(n_users=40, n_items=80, seed=3)

    monkeypatch.setattr(sessions, "load_movielens", fake_movielens)
    source = f"synthetic for {request.node.name}"
    return (lambda: sessions.load_tutorial_data(n_items=60, seed=1, source=source)), reads


def test_tutorial_data_is_read_once_and_copied_per_call(tutorial_load):
    load, reads = tutorial_load
    a, b = load(), load()
    assert len(reads) == 1  # the second call is served from the cache
    assert a is not b and a.histories is not b.histories and a.ratings is not b.ratings
    assert a.split.histories is a.histories  # one dict within a copy, as in the load
    assert a.histories.keys() == b.histories.keys()
    for u in a.histories:
        np.testing.assert_array_equal(a.histories[u], b.histories[u])
    np.testing.assert_array_equal(a.split.test.states, b.split.test.states)
    pd.testing.assert_frame_equal(a.ratings, b.ratings)
    assert a.ratings.attrs == b.ratings.attrs and a.catalog.titles == b.catalog.titles


def test_changing_the_tutorial_data_does_not_reach_the_next_caller(tutorial_load):
    load, _ = tutorial_load
    mine = load()
    user = min(mine.histories)
    history = mine.histories[user].copy()
    state = mine.split.train.states[0].copy()
    ratings = mine.ratings["rating"].copy()
    n_users, title = len(mine.histories), mine.catalog.titles[0]
    # a cell that edits what it got: a dict entry, array elements, a column, a list
    mine.histories[user] = np.array([0])
    del mine.histories[max(mine.histories)]
    mine.split.train.states[0] = -1
    mine.split.train_histories[user][:] = 0
    mine.ratings["rating"] = 0
    mine.catalog.titles[0] = "edited"
    mine.catalog.popularity[:] = 0

    theirs = load()
    assert len(theirs.histories) == n_users
    np.testing.assert_array_equal(theirs.histories[user], history)
    np.testing.assert_array_equal(theirs.split.train.states[0], state)
    train_history = theirs.split.train_histories[user]
    assert train_history.size > 0
    np.testing.assert_array_equal(train_history, history[: len(train_history)])
    pd.testing.assert_series_equal(theirs.ratings["rating"], ratings)
    assert theirs.catalog.titles[0] == title and theirs.catalog.popularity.max() > 0
