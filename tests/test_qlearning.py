"""Tests of the tabular Q-learning pieces and the single-table recommender."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys.gridworld import (
    RobotGridWorldEnv,
    optimal_actions,
    transition_model,
    value_iteration,
)
from odsc_recsys.qlearning import (
    SingleTableRecommender,
    buggy_explore_argmax_index,
    buggy_explore_as_coded,
    buggy_update_double_counted,
    epsilon_greedy,
    epsilon_schedule,
    exploration_trade_off,
    greedy_action,
    make_q_table,
    q_learning_step,
    should_explore,
    td_target,
    td_update,
    train_q_learning,
)

NAN = float("nan")


# ---------------------------------------------------------------------------- validation
def test_entry_points_validate():
    env = RobotGridWorldEnv()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="alpha"):
        train_q_learning(env, 5, alpha=0.0, gamma=0.9, epsilon=0.1, rng=rng)
    with pytest.raises(ValueError, match="gamma"):
        train_q_learning(env, 5, alpha=0.5, gamma=1.5, epsilon=0.1, rng=rng)
    with pytest.raises(ValueError, match="epsilon"):
        train_q_learning(env, 5, alpha=0.5, gamma=0.9, epsilon=NAN, rng=rng)
    with pytest.raises(ValueError, match="one per episode"):
        train_q_learning(env, 5, alpha=0.5, gamma=0.9, epsilon=[0.1, 0.2], rng=rng)
    with pytest.raises(ValueError, match="gamma"):
        td_update(0.0, 1.0, 0.0, alpha=0.5, gamma=NAN)
    with pytest.raises(ValueError, match="alpha"):
        td_update(0.0, 1.0, 0.0, alpha=2.0, gamma=0.9)
    with pytest.raises(ValueError, match="epsilon"):
        epsilon_greedy(np.zeros(3), 1.2, rng)
    with pytest.raises(ValueError, match="n_states"):
        make_q_table(0, 3)


# ---------------------------------------------------------------------------- the TD update
def test_one_td_update_by_hand():
    # Q = 2, r = 15, max Q(s', .) = 10, alpha = 0.8, gamma = 0.4:
    # target = 15 + 0.4 * 10 = 19; new Q = 2 + 0.8 * (19 - 2) = 15.6.
    assert td_target(15, 10, 0.4) == pytest.approx(19.0)
    assert td_update(2.0, 15.0, 10.0, alpha=0.8, gamma=0.4) == pytest.approx(15.6)
    # A terminal next state has no future: 2 + 0.8 * (15 - 2) = 12.4.
    assert td_update(2.0, 15.0, 10.0, alpha=0.8, gamma=0.4, done=True) == pytest.approx(12.4)


def test_q_learning_step_updates_in_place():
    q_table = make_q_table(2, 2)
    q_table[0, 1] = 2.0
    q_table[1] = [10.0, -3.0]
    td_error = q_learning_step(q_table, 0, 1, 15.0, 1, alpha=0.8, gamma=0.4)
    assert td_error == pytest.approx(17.0)
    assert q_table[0, 1] == pytest.approx(15.6)
    assert q_table[1].tolist() == [10.0, -3.0] and q_table[0, 0] == 0.0


@settings(max_examples=60, deadline=None)
@given(
    q=st.floats(-100, 100),
    r=st.floats(-100, 100),
    q_next=st.floats(-100, 100),
    alpha=st.floats(0.01, 1.0),
    gamma=st.floats(0.0, 1.0),
)
def test_td_update_moves_towards_the_target(q, r, q_next, alpha, gamma):
    target = r + gamma * q_next
    new = td_update(q, r, q_next, alpha, gamma)
    assert min(q, target) - 1e-9 <= new <= max(q, target) + 1e-9
    assert abs(new - target) == pytest.approx((1 - alpha) * abs(q - target), abs=1e-9)
    assert td_update(q, r, q_next, 1.0, gamma) == pytest.approx(target)


def test_double_counted_update_is_wrong():
    # (1 - 0.8) * 2 + 0.8 * (15 + 0.4 * (10 - 2)) = 0.4 + 14.56 = 14.96, not 15.6.
    assert buggy_update_double_counted(2.0, 15.0, 10.0, 0.8, 0.4) == pytest.approx(14.96)
    # Repeated on a fixed target it settles at r / (1 + gamma) instead of r.
    right = wrong = 0.0
    for _ in range(200):
        right = td_update(right, 15.0, 0.0, 0.8, 0.4)
        wrong = buggy_update_double_counted(wrong, 15.0, 0.0, 0.8, 0.4)
    assert right == pytest.approx(15.0)
    assert wrong == pytest.approx(15.0 / 1.4)


# ---------------------------------------------------------------------------- exploration
@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.3, 0.8, 1.0])
def test_exploration_frequency(epsilon):
    rng = np.random.default_rng(12)
    n, n_actions = 20_000, 5
    q_row = np.array([0.0, 3.0, 1.0, 0.0, -1.0])  # action 1 is greedy
    explored = np.mean([should_explore(epsilon, rng) for _ in range(n)])
    picks = np.array([epsilon_greedy(q_row, epsilon, rng) for _ in range(n)])
    # A random action can also be the greedy one: non-greedy share = epsilon * (A - 1) / A.
    non_greedy = np.mean(picks != 1)
    tol = 4 * np.sqrt(0.25 / n)
    assert abs(explored - epsilon) < tol
    assert abs(non_greedy - epsilon * (n_actions - 1) / n_actions) < tol


def test_ties_are_broken_at_random():
    rng = np.random.default_rng(5)
    picks = np.array([greedy_action(np.zeros(4), rng) for _ in range(4000)])
    counts = np.bincount(picks, minlength=4) / picks.size
    assert np.all(np.abs(counts - 0.25) < 0.04)
    assert {greedy_action(np.array([1.0, 5.0, 5.0, 0.0]), rng) for _ in range(100)} == {1, 2}


def test_argmax_index_rule_explores_on_every_empty_row():
    # The original's second half: explore when argmax(Q[s]) <= epsilon, i.e. when action 0 is best.
    assert buggy_explore_argmax_index(np.zeros(10), 0.3)
    assert not buggy_explore_argmax_index(np.array([0.0, 0.0, 1.0]), 0.3)
    assert buggy_explore_argmax_index(np.array([9.0, 1.0, 1.0]), 0.3)
    # "<=" as in the original: even epsilon = 0 explores on an empty row; index 1 needs epsilon 1
    assert buggy_explore_argmax_index(np.zeros(4), 0.0)
    assert buggy_explore_argmax_index(np.array([0.0, 2.0]), 1.0)
    assert not buggy_explore_argmax_index(np.array([0.0, 2.0]), 0.99)


def test_the_rule_as_coded_draws_every_time_and_adds_the_argmax_half():
    n = 20_000
    learned = np.array([0.0, 5.0, 1.0])  # argmax 1: only the random half can explore
    empty = np.zeros(3)  # argmax 0: the second half always explores
    for epsilon in (0.0, 0.3, 0.9):
        rng = np.random.default_rng(7)
        rate = np.mean([buggy_explore_as_coded(learned, epsilon, rng) for _ in range(n)])
        assert abs(rate - epsilon) < 4 * np.sqrt(0.25 / n)
        assert all(buggy_explore_as_coded(empty, epsilon, rng) for _ in range(100))
    # One uniform draw per call, whichever half decides: the stream advances the same way.
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    for _ in range(10):
        buggy_explore_as_coded(empty, 0.3, a)
    b.uniform(0.0, 1.0, size=10)
    assert a.random() == b.random()

    # u <= epsilon: a draw equal to epsilon explores (checked with a stub generator)
    class Fixed:
        def uniform(self, low, high):
            return 0.3

    assert buggy_explore_as_coded(learned, 0.3, Fixed())
    with pytest.raises(ValueError, match="epsilon"):
        buggy_explore_as_coded(learned, 1.5, np.random.default_rng(0))


def test_the_rule_as_coded_explores_on_every_new_state_of_a_recommender():
    from itertools import combinations

    # Every one of the 120 states once: each step meets an empty row, where the code explores.
    states = np.array(list(combinations(ITEMS, 3)))
    targets = np.array([next(m for m in ITEMS if m not in s) for s in states])
    as_coded = make_model(epsilon=0.3, explore_rule=buggy_explore_as_coded)
    as_coded.fit(states, targets, rng=np.random.default_rng(2))
    correct = make_model(epsilon=0.3).fit(states, targets, rng=np.random.default_rng(2))
    assert as_coded.explore_rate_ == [1.0]
    assert abs(correct.explore_rate_[0] - 0.3) < 0.15
    # Once a habit is learned in column 3, only the uniform draw explores: about epsilon.
    habit = make_model(epsilon=0.3, explore_rule=buggy_explore_as_coded)
    habit.fit(np.array([[3, 5, 8]] * 2000), np.full(2000, 13), rng=np.random.default_rng(2))
    assert abs(habit.explore_rate_[0] - 0.3) < 0.05


def test_epsilon_schedule():
    sched = epsilon_schedule(5, start=1.0, end=0.01)
    np.testing.assert_allclose(sched, [1.0, 10**-0.5, 0.1, 10**-1.5, 0.01])
    np.testing.assert_allclose(epsilon_schedule(3, 0.5, 0.1, kind="linear"), [0.5, 0.3, 0.1])
    np.testing.assert_allclose(epsilon_schedule(2, 0.2, kind="constant"), [0.2, 0.2])
    with pytest.raises(ValueError, match="kind"):
        epsilon_schedule(3, kind="cosine")


# ---------------------------------------------------------------------------- training
@pytest.mark.parametrize(("layout", "slip"), [("slide", 0.0), ("floydhub", 0.0)])
def test_q_learning_finds_the_optimal_grid_policy(layout, slip):
    env = RobotGridWorldEnv(layout=layout, slip=slip, max_steps=100)
    log = train_q_learning(
        env,
        1000,
        alpha=0.5,
        gamma=0.9,
        epsilon=0.3,
        rng=np.random.default_rng(0),
        record_values=True,
    )
    planned = value_iteration(transition_model(env.grid, slip), 0.9)
    best = optimal_actions(planned.q_values, env.grid.terminal)
    learned = log.q_table.argmax(axis=1)
    live = np.flatnonzero(~env.grid.terminal)
    assert all(best[s, learned[s]] for s in live)
    # In a deterministic world the values converge too: exactly at the start, which every
    # episode visits; rarely visited corners lag behind, but the gap keeps closing.
    start = env.grid.start_state
    assert log.q_table[start].max() == pytest.approx(planned.values[start], abs=1e-3)
    gap = np.abs(log.values[:, live] - planned.values[live]).max(axis=1)
    assert gap[-1] < 0.5 * gap[49]
    assert log.values.shape == (1000, env.grid.n_states)
    assert log.episode_lengths.min() >= 1 and np.all(np.isin(log.episode_rewards, [-1.0, 0.0, 1.0]))


def test_training_is_reproducible():
    def run():
        env = RobotGridWorldEnv(layout="floydhub", slip=0.2)
        return train_q_learning(
            env,
            30,
            alpha=0.5,
            gamma=0.9,
            epsilon=epsilon_schedule(30),
            rng=np.random.default_rng(7),
        )

    a, b = run(), run()
    np.testing.assert_array_equal(a.q_table, b.q_table)
    np.testing.assert_array_equal(a.episode_lengths, b.episode_lengths)


# ---------------------------------------------------------------------------- the recommender
ITEMS = np.array([3, 5, 8, 13, 21, 34, 55, 60, 70, 80])


def make_model(**kwargs) -> SingleTableRecommender:
    return SingleTableRecommender(ITEMS, n_items=100, **kwargs)


def test_table_shape_and_state_rows():
    model = make_model()
    assert model.q_table.shape == (120, 10) and model.n_states == 120
    assert model.state_row([3, 5, 8]) == 0
    assert model.state_row([60, 70, 80]) == 119
    assert model.state_row([21, 3, 13]) == model.state_row([13, 21, 3])
    rows = {model.state_row(ITEMS[list(t)]) for t in model.states}
    assert rows == set(range(120))
    with pytest.raises(ValueError, match="not in the table"):
        model.state_row([3, 5, 4])
    with pytest.raises(ValueError, match="3 distinct"):
        model.state_row([3, 3, 5])


def test_bad_recommender_arguments():
    with pytest.raises(ValueError, match="at least 4"):
        SingleTableRecommender([1, 2, 3], n_items=10)
    with pytest.raises(ValueError, match="distinct"):
        SingleTableRecommender([1, 2, 3, 3], n_items=10)
    with pytest.raises(ValueError, match="list_size"):
        make_model(list_size=8)
    with pytest.raises(ValueError, match="alpha"):
        make_model(alpha=0.0)
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        make_model().fit(
            np.zeros((2, 2), dtype=int), np.zeros(2, dtype=int), rng=np.random.default_rng(0)
        )


def test_counts_and_sizes_are_checked_where_they_enter():
    env = RobotGridWorldEnv(layout="slide")
    rng = np.random.default_rng(0)
    best = optimal_actions(value_iteration(env.mdp, 0.9).q_values, env.grid.terminal)
    cases = [
        (lambda: make_q_table(3, True), "n_actions must be a positive integer, got True"),
        (lambda: make_q_table(2, 3, float("inf")), "initial_value must be a finite number"),
        (lambda: epsilon_schedule(0), "n_episodes must be a positive integer, got 0"),
        (lambda: epsilon_schedule(3, 0.0, 0.1), "exponential schedule needs start > 0"),
        (lambda: train_q_learning(env, 2.5, alpha=0.5, gamma=0.9, epsilon=0.1, rng=rng),
         "n_episodes must be a positive integer, got 2.5"),
        (lambda: exploration_trade_off(env, {"g": 0.1}, [0], 10, best, alpha=0.5, gamma=0.9,
                                       window=0), r"window must be an integer in \[1, 10\]"),
        (lambda: SingleTableRecommender([1, 2, 3, 4], n_items=0), "n_items must be a positive"),
        (lambda: make_model(list_size=0), r"list_size must be an integer in \[1, 7\], got 0"),
        (lambda: make_model().fit(np.array([[3, 5, 8]]), np.array([13]), rng=rng, n_epochs=0),
         "n_epochs must be a positive integer, got 0"),
    ]  # fmt: skip
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
    # the checked values are used as given
    assert make_q_table(np.int64(2), 3, -1).tolist() == [[-1.0] * 3] * 2
    assert make_model(list_size=np.int64(7)).list_size == 7


def test_recommender_learns_a_logged_habit():
    # Everyone who watched 3, 5, 8 watched 13 next; after 13, 5, 8 they watched 21.
    states = np.array([[3, 5, 8], [5, 8, 13]] * 50)
    targets = np.array([13, 21] * 50)
    model = make_model().fit(states, targets, rng=np.random.default_rng(0), n_epochs=2)
    assert model.recommend([1, 3, 5, 8], k=1).tolist() == [13]
    assert model.recommend([5, 8, 13], k=1).tolist() == [21]
    # Only table movies, never the state, at most the 7 candidates.
    recs = model.recommend([3, 5, 8], k=20)
    assert len(recs) == 7 and not set(recs) & {3, 5, 8} and set(recs) <= set(ITEMS)
    assert model.recommend([3, 5, 8], k=3, exclude=[13]).tolist()[0] != 13
    # The learned value of the habit: r + gamma * Q(s', 21) with Q(s', 21) close to its own
    # fixed point r + gamma * max Q(next of s'), which never was updated (0): 15 + 0.4 * 15.
    assert model.q_values([3, 5, 8])[list(ITEMS).index(13)] == pytest.approx(21.0, rel=1e-3)
    # Greedy lists always hold 13 or 21; a random list of 3 of the 7 candidates does with 3/7:
    # expected hit rate 0.7 + 0.3 * 3 / 7 = 0.83.
    assert len(model.hit_rate_) == 2 and 0.75 < model.hit_rate_[1] < 0.92
    assert np.isnan(model.q_values([3, 5, 8])[0])


def test_recommender_explore_rate_and_buggy_rule():
    rng = np.random.default_rng(1)
    states = np.tile(np.array([[3, 5, 8]]), (2000, 1))
    targets = np.full(2000, 13)
    model = make_model(epsilon=0.3).fit(states, targets, rng=rng)
    assert abs(model.explore_rate_[0] - 0.3) < 0.05
    # With the index rule and movie 13 learned as best (column 3), it never explores here.
    buggy = make_model(explore_rule=buggy_explore_argmax_index).fit(states, targets, rng=rng)
    assert buggy.explore_rate_[0] < 0.01


def test_score_follows_the_protocol():
    model = make_model()
    scores = model.score([3, 5, 8])
    assert scores.shape == (100,)
    assert np.isinf(scores[[0, 3, 5, 8]]).all() and (scores[[13, 21, 80]] == 0).all()
    with pytest.raises(ValueError, match="last 3"):
        model.score([3, 5])


# ---------------------------------------------------------------------------- exploration trade-off
def test_exploration_trade_off_compares_settings_from_the_same_seeds():
    env = RobotGridWorldEnv(layout="floydhub", step_reward=-0.04)
    best = optimal_actions(value_iteration(env.mdp, 0.9).q_values, env.grid.terminal)
    settings = {"greedy": 0.0, "random": 1.0, "schedule": epsilon_schedule(30, 1.0, 0.01)}
    runs = exploration_trade_off(env, settings, [0, 1, 2], 30, best, alpha=0.5, gamma=0.9,
                                 window=10)  # fmt: skip
    summary = runs.summary
    assert list(summary.index) == ["greedy", "random", "schedule"]
    assert set(runs.curves) == set(settings) and runs.curves["greedy"].shape == (30,)
    # the shortest path earns 1 - 4 * 0.04 = 0.84; a random walk earns less on average
    assert summary.loc["greedy", "reward, last 10 episodes"] <= 0.84 + 1e-12
    assert (
        summary.loc["random", "reward, last 10 episodes"]
        < summary.loc["greedy", "reward, last 10 episodes"]
    )
    shares = summary["rooms with an optimal greedy action"]
    assert ((0 <= shares) & (shares <= 1)).all()
    assert (summary.filter(like="s.e.") >= 0).all().all()
    # the same seed twice gives the same runs: the standard error of identical runs is 0
    twice = exploration_trade_off(env, {"g": 0.2}, [4, 4], 30, best, alpha=0.5, gamma=0.9,
                                  window=10)  # fmt: skip
    assert (twice.summary.filter(like="s.e.") == 0).all().all()


def test_exploration_trade_off_rejects_bad_input():
    env = RobotGridWorldEnv(layout="floydhub")
    best = optimal_actions(value_iteration(env.mdp, 0.9).q_values, env.grid.terminal)
    with pytest.raises(ValueError, match="seeds"):
        exploration_trade_off(env, {"g": 0.1}, [], 10, best, alpha=0.5, gamma=0.9)
    with pytest.raises(ValueError, match="window"):
        exploration_trade_off(env, {"g": 0.1}, [0], 10, best, alpha=0.5, gamma=0.9, window=50)
