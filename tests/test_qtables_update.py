"""The Q-learning update of the per-genre tables in all three outcomes of a list: a click, no
click (``clicked=None``) and the user leaving (``done=True``), with hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys.qtables import GenreQTables, td_step, td_target, td_targets


def tables(**kwargs) -> GenreQTables:
    return GenreQTables(np.array([0, 0, 1, 1, 0]), ["A", "B"], alpha=0.5, gamma=0.5,
                        epsilon=0.0, dtype=np.float64, **kwargs)  # fmt: skip


def test_td_step_and_target_by_hand():
    assert td_step(2.0, 10.0, 0.25) == 4.0  # a quarter of the way from 2 to 10
    assert td_target(15.0, 0.5, 2.0) == 16.0
    assert td_target(15.0, 0.5, 2.0, done=True) == 15.0


@settings(max_examples=100, deadline=None)
@given(st.floats(-50, 50), st.floats(-50, 50), st.floats(0.01, 1.0))
def test_td_step_moves_toward_the_target_and_alpha_one_lands_on_it(q, target, alpha):
    new = td_step(q, target, alpha)
    assert min(q, target) - 1e-9 <= new <= max(q, target) + 1e-9
    assert abs(new - target) <= abs(q - target) + 1e-9
    assert td_step(q, target, 1.0) == pytest.approx(target, abs=1e-12)


def test_td_targets_by_hand_in_every_outcome():
    # A click on 7, the user stays: 15 + 0.5 * 2 for 7, -1 + 0.5 * 2 for the others.
    np.testing.assert_allclose(td_targets([4, 7, 9], 7, 15.0, 1.0, 0.5, 2.0, False), [0, 16, 0])
    # No click: every movie gets the penalty plus the future of the unchanged state.
    np.testing.assert_allclose(td_targets([4, 7], -1, 15.0, 1.0, 0.5, 2.0, False), [0, 0])
    # The user left: the reward alone, whatever the future would have been.
    np.testing.assert_allclose(td_targets([4, 7], 4, 15.0, 1.0, 0.5, 99.0, True), [15, -1])
    with pytest.raises(ValueError, match="gamma"):
        td_targets([4], -1, 15.0, 1.0, 1.5, 0.0, False)


@pytest.mark.parametrize("storage", ["dense", "lazy", "sparse"])
def test_click_no_click_and_leaving_by_hand(storage):
    t = tables(storage=storage)
    (sub,) = t.decompose((0,))
    # Click on 2 from state (0,): Q(2) = 0.5 * 10 = 5, Q(3) = 0.5 * -1 = -0.5 (no future yet).
    t.update((0,), [2, 3], 2, reward=10.0, penalty=1.0)
    np.testing.assert_allclose(t.q_row(sub)[[1, 2, 3]], [0.0, 5.0, -0.5])
    # No click on [3, 1]: the state stays, target = -1 + 0.5 * max Q(s, .) = -1 + 2.5 = 1.5.
    t.update((0,), [3, 1], None, reward=10.0, penalty=1.0)
    np.testing.assert_allclose(t.q_row(sub)[[1, 2, 3]], [0.75, 5.0, 0.5])
    # Click on 4 (not shown: appended), then the user leaves: target = reward, no future.
    updated = t.update((0,), [1], 4, reward=10.0, penalty=1.0, done=True)
    assert updated.tolist() == [1, 4]
    np.testing.assert_allclose(t.q_row(sub)[[1, 4]], [0.75 + 0.5 * (-1 - 0.75), 5.0])


def test_no_click_moves_toward_td_targets_of_the_unchanged_state():
    t = tables()
    (sub,) = t.decompose((0,))
    t.store.writable_row(sub.genre, sub.row)[[1, 2, 3]] = [1.0, 4.0, -2.0]
    t.update((0,), [1, 3], None, reward=10.0, penalty=1.0)
    want = td_targets([1, 3], -1, 10.0, 1.0, t.gamma, 4.0, False)
    old = np.array([1.0, -2.0])
    np.testing.assert_allclose(t.q_row(sub)[[1, 3]], old + t.alpha * (want - old))


def test_leaving_without_a_click_gives_every_movie_the_penalty():
    t = tables()
    (sub,) = t.decompose((0,))
    t.store.writable_row(sub.genre, sub.row)[[1, 2]] = [4.0, 9.0]
    t.update((0,), [1, 2], None, reward=10.0, penalty=1.0, done=True)
    np.testing.assert_allclose(
        t.q_row(sub)[[1, 2]], [4.0 + 0.5 * (-1 - 4.0), 9.0 + 0.5 * (-1 - 9.0)]
    )


def test_empty_state_updates_nothing_and_bad_lists_are_rejected():
    t = tables()
    t.update((), [1, 2], None, reward=10.0, penalty=1.0)
    assert all(t.written_rows(g).size == 0 for g in (0, 1))
    with pytest.raises(ValueError, match="repeats"):
        t.update((0,), [1, 1], None, reward=10.0, penalty=1.0)
    with pytest.raises(ValueError, match="done must be True or False, got 'yes'"):
        t.update((0,), [1], None, done="yes")
    with pytest.raises(ValueError, match="unknown movie index 9"):
        t.update((0,), [1], 9)
