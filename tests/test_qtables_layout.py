"""Tests of the layout's batch helpers: which sub-states of a set of states training covers."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys.qtables import GenreLayout

# Five movies in two genres.
#   A (0): movies 0, 1, 4 -> local 0, 1, 2; rows 3 singles + 3 pairs = 6, global ids 0..5
#   B (1): movies 2, 3    -> local 0, 1;    rows 2 singles + 1 pair  = 3, global ids 6..8
# Global ids: singles 0 -> 0, 1 -> 1, 4 -> 2, 2 -> 6, 3 -> 7;
#             pairs {0, 1} -> 3, {0, 4} -> 4, {1, 4} -> 5, {2, 3} -> 8.
LAYOUT = GenreLayout(np.array([0, 0, 1, 1, 0]), ["A", "B"])


def test_global_ids_by_hand():
    assert LAYOUT.offsets.tolist() == [0, 6, 9]
    ids = LAYOUT.substate_ids_batch(np.array([[0, 2, 3], [0, 1, 2], [0, 1, 4]]))
    assert ids.tolist() == [[0, 8, -1], [3, 6, -1], [3, 4, 5]]


def test_substates_seen_by_hand():
    # Training meets the sub-states {0, 8} and {3, 6}.
    train = np.array([[0, 2, 3], [0, 1, 2]])
    states = np.array([
        [3, 2, 0],  # ids 0, 8: both trained (order ignored)
        [1, 0, 2],  # ids 3, 6: both trained, from the second training state
        [1, 2, 3],  # ids 1, 8: only the pair {2, 3}
        [0, 1, 4],  # ids 3, 4, 5 (one genre: three pairs): only {0, 1}
        [4, 3, 1],  # ids 5, 7: neither
    ])  # fmt: skip
    all_seen, any_seen = LAYOUT.substates_seen(train, states)
    assert all_seen.dtype == bool and any_seen.dtype == bool
    assert all_seen.tolist() == [True, True, False, False, False]
    assert any_seen.tolist() == [True, True, True, True, False]


def test_substates_seen_on_short_states():
    # Two-movie states: [0, 2] holds the singles 0 and 6; [2, 0] the same; [0, 1] the pair 3.
    all_seen, any_seen = LAYOUT.substates_seen(np.array([[0, 2]]), np.array([[2, 0], [0, 1]]))
    assert all_seen.tolist() == [True, False]
    assert any_seen.tolist() == [True, False]


@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(1, 30), st.integers(1, 30))
@settings(max_examples=40, deadline=None)
def test_substates_seen_matches_sets_of_rows(seed, width, n_train, n_test):
    rng = np.random.default_rng(seed)
    layout = GenreLayout(rng.integers(0, 4, size=12), ["w", "x", "y", "z"])

    def states(n: int) -> np.ndarray:
        return np.array([rng.choice(12, width, replace=False) for _ in range(n)])

    train, test = states(n_train), states(n_test)
    trained = {(s.genre, s.row) for state in train.tolist() for s in layout.decompose(state)}
    rows = [[(s.genre, s.row) for s in layout.decompose(state)] for state in test.tolist()]
    all_seen, any_seen = layout.substates_seen(train, test)
    assert all_seen.tolist() == [all(r in trained for r in subs) for subs in rows]
    assert any_seen.tolist() == [any(r in trained for r in subs) for subs in rows]
