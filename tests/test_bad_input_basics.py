"""The bad-input battery of the basic modules: Q-learning, the grid world, state-space counts,
the limits of classical models and the figure helpers.

Every case asserts a ``ValueError`` whose message names the bad value (its repr) and what is
allowed, and that nothing the call could touch changed: the Q-table, the model, the environment,
the random generator (all compared by their pickles) and, for the figure helpers, the open
figures (a refused call opens none).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from bad_input import rejects  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from odsc_recsys import limits, plotting, state_space  # noqa: E402
from odsc_recsys import qlearning as ql  # noqa: E402
from odsc_recsys.catalog import Catalog  # noqa: E402
from odsc_recsys.classical import Popularity  # noqa: E402
from odsc_recsys.gridworld import (  # noqa: E402
    MDP,
    GridWorld,
    RobotGridWorldEnv,
    format_policy,
    format_values,
    greedy_policy,
    optimal_actions,
    plot_gridworld,
    q_from_values,
    transition_model,
    value_grid,
    value_iteration,
)
from odsc_recsys.qtables import GenreQTables  # noqa: E402
from odsc_recsys.sessions import Transitions  # noqa: E402

NAN, INF = math.nan, math.inf
ITEMS = np.array([3, 5, 8, 13, 21, 34, 55, 60, 70, 80])  # the single table's movies, of 100


def _catalog(n: int = 6) -> Catalog:
    """Movies 0 .. n/2-1 are comedies, the rest dramas."""
    return Catalog(item_ids=np.arange(1, n + 1), titles=[f"Movie {i} (1990)" for i in range(n)],
                   genres=[("Comedy",) if i < n // 2 else ("Drama",) for i in range(n)],
                   popularity=np.arange(n, 0, -1))  # fmt: skip


def _transitions(users, targets, positions) -> Transitions:
    n = len(users)
    return Transitions(np.asarray(users), np.zeros((n, 3), dtype=np.int64), np.asarray(targets),
                       np.asarray(positions))  # fmt: skip


@pytest.fixture
def w() -> SimpleNamespace:
    """A fresh small world per case: every object a refused call might touch."""
    env = RobotGridWorldEnv(layout="floydhub")
    env.reset(seed=0)
    grid = env.grid
    solved = value_iteration(env.mdp, 0.9)
    model = ql.SingleTableRecommender(ITEMS, n_items=100)  # learnt values: a stray write shows
    model.fit(
        np.array([[3, 5, 8], [5, 8, 13]] * 5), np.array([13, 21] * 5), rng=np.random.default_rng(1)
    )
    histories = {1: np.array([0, 1, 2, 3, 4]), 2: np.array([5, 4, 3, 2]),
                 3: np.array([0, 2, 4, 1])}  # fmt: skip
    trans = _transitions([1, 1, 2], [3, 4, 2], [3, 4, 3])
    lists = {"m": np.array([[3, 0], [1, 4], [2, -1]])}
    return SimpleNamespace(
        rng=np.random.default_rng(0),
        env=env,
        grid=grid,
        mdp=env.mdp,
        values=solved.values,
        q=solved.q_values,
        table=np.arange(12.0).reshape(4, 3),
        model=model,
        catalog=_catalog(),
        histories=histories,
        trans=trans,
        lists=lists,
        pop=Popularity().fit(list(histories.values()), 6),
    )


@pytest.fixture(autouse=True)
def no_figure_left_open():
    """A refused figure helper opens no figure (its arguments are checked first)."""
    plt.close("all")
    yield
    assert plt.get_fignums() == [], "a refused call left a figure open"


def case(call, match, keep=(), *, id: str):  # noqa: A002 - pytest's own name for it
    return pytest.param(call, [match] if isinstance(match, str) else match, keep, id=id)


def run(w: SimpleNamespace, call, match, keep) -> None:
    rejects(lambda: call(w), match=match, unchanged=[getattr(w, name) for name in keep])


# ---- Q-learning: the pieces ------------------------------------------------------------------

QLEARNING = [
    case(
        lambda w: ql.make_q_table("3", 2),
        "n_states must be a positive integer, got '3'",
        id="make_q_table-string-size",
    ),
    case(
        lambda w: ql.make_q_table(2, 3, NAN),
        "initial_value must be a finite number, got nan",
        id="make_q_table-nan-fill",
    ),
    case(
        lambda w: ql.greedy_action([], w.rng),
        "q_row must hold the value of at least one action, got []",
        ["rng"],
        id="greedy_action-empty-row",
    ),
    case(
        lambda w: ql.greedy_action([1.0, NAN], w.rng),
        "q_row must be finite numbers, got nan at position 1",
        ["rng"],
        id="greedy_action-nan",
    ),
    case(
        lambda w: ql.greedy_action(np.zeros((2, 2)), w.rng),
        "q_row must be a 1-d array, got shape (2, 2)",
        ["rng"],
        id="greedy_action-2d-row",
    ),
    case(
        lambda w: ql.greedy_action(np.zeros(3), 7),
        ["rng must be a numpy.random.Generator", "got 7"],
        id="greedy_action-seed-for-rng",
    ),
    case(
        lambda w: ql.should_explore("0.3", w.rng),
        "epsilon (exploration rate) must be a probability in [0, 1], got '0.3'",
        ["rng"],
        id="should_explore-string-epsilon",
    ),
    case(
        lambda w: ql.epsilon_greedy(["a", "b"], 0.1, w.rng),
        ["q_row must be finite numbers", "['a', 'b']"],
        ["rng"],
        id="epsilon_greedy-text-row",
    ),
    case(
        lambda w: ql.epsilon_greedy(np.zeros(3), -0.1, w.rng),
        "must be a probability in [0, 1], got -0.1",
        ["rng"],
        id="epsilon_greedy-negative-eps",
    ),
    case(
        lambda w: ql.explore_uniform(np.zeros(3), INF, w.rng),
        "in [0, 1], got inf",
        ["rng"],
        id="explore_uniform-inf-epsilon",
    ),
    case(
        lambda w: ql.epsilon_schedule(10, start="1.0"),
        "in [0, 1], got '1.0'",
        id="schedule-string-start",
    ),
    case(
        lambda w: ql.epsilon_schedule(3, 0.0),
        ["exponential schedule needs start > 0", "start=0.0"],
        id="schedule-exponential-from-zero",
    ),
    case(
        lambda w: ql.epsilon_schedule(3, kind="cosine"),
        "kind must be one of 'exponential', 'linear', 'constant', got 'cosine'",
        id="schedule-unknown-kind",
    ),
    case(
        lambda w: ql.td_target("15", 10, 0.4),
        "reward must be a finite number, got '15'",
        id="td_target-string-reward",
    ),
    case(
        lambda w: ql.td_target(15, INF, 0.4),
        "max_next_q must be a finite number, got inf",
        id="td_target-inf-future",
    ),
    case(
        lambda w: ql.td_target(15, 10, 0.4, done="no"),
        "done must be True or False, got 'no'",
        id="td_target-string-done",
    ),
    case(
        lambda w: ql.td_update(NAN, 15, 10, 0.8, 0.4),
        "q_sa must be a finite number, got nan",
        id="td_update-nan-q",
    ),
    case(
        lambda w: ql.td_update(2, 15, 10, "0.8", 0.4),
        "alpha (learning rate) must be in (0, 1], got '0.8'",
        id="td_update-string-alpha",
    ),
    case(
        lambda w: ql.td_update(2, 15, 10, 0.8, 1.5),
        "gamma (discount factor) must be in [0, 1], got 1.5",
        id="td_update-gamma-above-1",
    ),
    case(
        lambda w: ql.buggy_update_double_counted(2, 15, 10, 0.8, "0.4"),
        "gamma (discount factor) must be in [0, 1], got '0.4'",
        id="double_counted-string",
    ),
    case(
        lambda w: ql.buggy_explore_argmax_index(np.zeros(3), "0.3"),
        "got '0.3'",
        id="argmax_rule-string-epsilon",
    ),
    case(
        lambda w: ql.buggy_explore_argmax_index([], 0.3),
        "q_row must hold the value of at least one action, got []",
        id="argmax_rule-empty-row",
    ),
    case(
        lambda w: ql.buggy_explore_as_coded([NAN], 0.3, w.rng),
        "got nan at position 0",
        ["rng"],
        id="as_coded-nan-row-draws-nothing",
    ),
    case(
        lambda w: ql.buggy_explore_as_coded(np.zeros(3), 0.3, "rng"),
        ["rng must be a numpy.random.Generator", "got 'rng'"],
        id="as_coded-string-rng",
    ),
]


@pytest.mark.parametrize(("call", "match", "keep"), QLEARNING)
def test_qlearning_pieces(w, call, match, keep):
    run(w, call, match, keep)


STEP = [
    case(
        lambda w: ql.q_learning_step(w.table, -1, 0, 1.0, 1, 0.5, 0.9),
        "state must be an integer in [0, 3], got -1",
        ["table"],
        id="negative-state-would-wrap",
    ),
    case(
        lambda w: ql.q_learning_step(w.table, 0, 0.5, 1.0, 1, 0.5, 0.9),
        "action must be an integer in [0, 2], got 0.5",
        ["table"],
        id="half-an-action",
    ),
    case(
        lambda w: ql.q_learning_step(w.table, 0, 0, 1.0, 4, 0.5, 0.9),
        "next_state must be an integer in [0, 3], got 4",
        ["table"],
        id="next-state-too-big",
    ),
    case(
        lambda w: ql.q_learning_step(w.table, 0, 0, NAN, 1, 0.5, 0.9),
        "reward must be a finite number, got nan",
        ["table"],
        id="nan-reward",
    ),
    case(
        lambda w: ql.q_learning_step(w.table, 0, 0, 1.0, 1, "0.5", 0.9),
        "alpha (learning rate) must be in (0, 1], got '0.5'",
        ["table"],
        id="string-alpha",
    ),
    case(
        lambda w: ql.q_learning_step(w.table.tolist(), 0, 0, 1.0, 1, 0.5, 0.9),
        ["q_table must be a writable 2-d numpy array of floats", "[[0.0, 1.0, 2.0]"],
        id="list-table-would-be-copied",
    ),
    case(
        lambda w: ql.q_learning_step(np.zeros((2, 2), dtype=int), 0, 0, 1.0, 1, 0.5, 0.9),
        ["q_table must be a writable 2-d numpy array of floats", "dtype int64"],
        id="integer-table-would-truncate",
    ),
]


@pytest.mark.parametrize(("call", "match", "keep"), STEP)
def test_q_learning_step_writes_nothing_on_bad_input(w, call, match, keep):
    run(w, call, match, keep)


def test_q_learning_step_refuses_a_nan_it_would_read(w):
    w.table[1, 2] = NAN
    rejects(lambda: ql.q_learning_step(w.table, 0, 0, 1.0, 1, 0.5, 0.9),
            match="max(q_table[1]) must be a finite number, got nan", unchanged=[w.table])  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.floats().filter(lambda x: not 0 < x <= 1), st.just(NAN),
                 st.sampled_from(["0.5", None, True, [0.5]])))  # fmt: skip
def test_any_alpha_outside_0_1_leaves_the_table_alone(alpha):
    table = np.arange(6.0).reshape(3, 2)
    rejects(lambda: ql.q_learning_step(table, 0, 1, 1.0, 2, alpha, 0.9),
            match=["alpha (learning rate) must be in (0, 1]", repr(alpha)], unchanged=[table])  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(st.integers(max_value=-1) | st.integers(min_value=3))
def test_no_state_index_wraps_or_overflows(state):
    table = np.arange(6.0).reshape(3, 2)
    rejects(lambda: ql.q_learning_step(table, state, 1, 1.0, 0, 0.5, 0.9),
            match=f"state must be an integer in [0, 2], got {state!r}", unchanged=[table])  # fmt: skip


# ---- Q-learning: training loops --------------------------------------------------------------


class _WrappingEnv:
    """A Discrete-looking environment whose states fall outside its observation space."""

    observation_space = SimpleNamespace(n=3)
    action_space = SimpleNamespace(n=2)

    def reset(self, seed=None):
        return 0, {}

    def step(self, action):
        return -1, 0.0, False, False, {}


def _train(w, **kwargs):
    args = {"alpha": 0.5, "gamma": 0.9, "epsilon": 0.1, "rng": w.rng, **kwargs}
    return ql.train_q_learning(args.pop("env", w.env), args.pop("n", 5), **args)


def _trade_off(w, **kwargs):
    best = optimal_actions(w.q, w.grid.terminal)
    args = {"settings": {"a": 0.1}, "seeds": [0], "n_episodes": 5, "optimal": best,
            "alpha": 0.5, "gamma": 0.9, "window": 2, **kwargs}  # fmt: skip
    return ql.exploration_trade_off(w.env, **args)


TRAINING = [
    case(
        lambda w: _train(w, alpha="0.5"),
        "alpha (learning rate) must be in (0, 1], got '0.5'",
        ["env", "rng"],
        id="train-string-alpha",
    ),
    case(
        lambda w: _train(w, epsilon=[0.1, 0.1, NAN, 0.1, 0.1]),
        "in [0, 1], got nan",
        ["env", "rng"],
        id="train-nan-in-schedule",
    ),
    case(
        lambda w: _train(w, rng=0),
        ["rng must be a numpy.random.Generator", "got 0"],
        ["env"],
        id="train-seed-for-rng",
    ),
    case(
        lambda w: _train(w, record_values="yes"),
        "record_values must be True or False, got 'yes'",
        ["env", "rng"],
        id="train-string-flag",
    ),
    case(
        lambda w: _train(w, env="FrozenLake"),
        ["env must be a Gymnasium environment with Discrete", "got 'FrozenLake'"],
        ["rng"],
        id="train-env-by-name",
    ),
    case(
        lambda w: _train(w, q_table=np.zeros((3, 4))),
        "q_table has shape (3, 4), the environment needs (11, 4)",
        ["env", "rng"],
        id="train-table-of-another-world",
    ),
    case(
        lambda w: _train(w, q_table=np.full((11, 4), NAN)),
        "q_table must be finite numbers, got nan at position (0, 0)",
        ["env", "rng"],
        id="train-nan-table",
    ),
    case(
        lambda w: _train(w, env=_WrappingEnv()),
        "the state returned by the environment must be an integer in [0, 2], got -1",
        id="train-env-state-would-wrap",
    ),
    case(
        lambda w: _trade_off(w, settings={"a": 0.1, "b": 2.0}),
        ["settings['b']", "in [0, 1], got 2.0"],
        ["env"],
        id="trade_off-bad-setting-before-any-run",
    ),
    case(
        lambda w: _trade_off(w, settings={}),
        "settings must be a non-empty dict of label -> epsilon or schedule, got {}",
        ["env"],
        id="trade_off-no-settings",
    ),
    case(
        lambda w: _trade_off(w, seeds=[0, 1.5]),
        "seed must be a non-negative integer, got 1.5",
        ["env"],
        id="trade_off-float-seed",
    ),
    case(
        lambda w: _trade_off(w, seeds="01"),
        "seeds must be an iterable of non-negative integers, got '01'",
        ["env"],
        id="trade_off-seeds-as-text",
    ),
    case(
        lambda w: _trade_off(w, optimal=optimal_actions(w.q, w.grid.terminal).astype(float)),
        ["optimal must be a boolean mask of shape (11, 4)", "dtype float64"],
        ["env"],
        id="trade_off-float-mask",
    ),
    case(
        lambda w: _trade_off(w, n_episodes="5"),
        "n_episodes must be a positive integer, got '5'",
        ["env"],
        id="trade_off-string-episodes",
    ),
]


@pytest.mark.parametrize(("call", "match", "keep"), TRAINING)
def test_training_refuses_before_the_first_step(w, call, match, keep):
    run(w, call, match, keep)


# ---- Q-learning: the single-table recommender ------------------------------------------------


def _single(**kwargs):
    return ql.SingleTableRecommender(kwargs.pop("items", ITEMS), kwargs.pop("n_items", 100),
                                     **kwargs)  # fmt: skip


def _fit(w, states=((3, 5, 8), (5, 8, 13)), targets=(13, 21), **kwargs):
    args = {"rng": w.rng, **kwargs}
    return w.model.fit(np.array(states), np.array(targets), **args)


SINGLE = [
    case(
        lambda w: _single(items=[1, 2, 3, 0.5], n_items=10),
        "items must be integers in [0, 9], got 0.5 at position 3",
        id="init-half-a-movie",
    ),
    case(
        lambda w: _single(items=[1, 2, 3, -1], n_items=10),
        "items must be integers in [0, 9], got -1 at position 3",
        id="init-negative-movie",
    ),
    case(
        lambda w: _single(items=[1, 2, 3, 3], n_items=10),
        ["items must be distinct", "[1, 2, 3, 3] (3 more than once)"],
        id="init-repeated-movie",
    ),
    case(
        lambda w: _single(reward=NAN),
        "reward must be a finite number >= 0, got nan",
        id="init-nan-reward",
    ),
    case(
        lambda w: _single(penalty="5"),
        "penalty must be a finite number >= 0, got '5'",
        id="init-string-penalty",
    ),
    case(
        lambda w: _single(epsilon="0.3"),
        "epsilon (exploration rate) must be a probability in [0, 1], got '0.3'",
        id="init-string-epsilon",
    ),
    case(
        lambda w: _single(explore_rule="greedy"),
        "explore_rule must be a function or None, got 'greedy'",
        id="init-rule-by-name",
    ),
    case(
        lambda w: w.model.state_row([3, 5, 0.5]),
        "state must be integers in [0, 99], got 0.5 at position 2",
        ["model"],
        id="state_row-half-a-movie",
    ),
    case(
        lambda w: w.model.q_values([3, 5, -8]),
        "state must be integers in [0, 99], got -8 at position 2",
        ["model"],
        id="q_values-negative-movie",
    ),
    case(
        lambda w: _fit(w, states=((3, 5, 0.5), (5, 8, 13))),
        "states[0]: state must be integers in [0, 99], got 0.5",
        ["model", "rng"],
        id="fit-half-a-movie-in-state",
    ),
    case(
        lambda w: _fit(w, targets=(13.0, NAN)),
        "targets must be integers in [0, 99], got nan at position 1",
        ["model", "rng"],
        id="fit-nan-target",
    ),
    case(
        lambda w: _fit(w, targets=(13, 4)),
        ["targets must be movies of this table", "got 4 at position 1"],
        ["model", "rng"],
        id="fit-target-outside-table",
    ),
    case(
        lambda w: _fit(w, targets=(13, 8)),
        ["cannot be one of its state's", "got target 8 after [5, 8, 13] at position 1"],
        ["model", "rng"],
        id="fit-target-in-its-state",
    ),
    case(
        lambda w: _fit(w, states=np.zeros((0, 3), dtype=int), targets=np.zeros(0, dtype=int)),
        "states must hold at least one transition, got shape (0, 3)",
        ["model", "rng"],
        id="fit-no-transitions",
    ),
    case(
        lambda w: _fit(w, rng=None),
        ["rng must be a numpy.random.Generator", "got None"],
        ["model"],
        id="fit-no-rng",
    ),
    case(
        lambda w: _fit(w, n_epochs="2"),
        "n_epochs must be a positive integer, got '2'",
        ["model", "rng"],
        id="fit-string-epochs",
    ),
    case(
        lambda w: w.model.recommend([3, 5, 8], k="3"),
        "k must be a non-negative integer, got '3'",
        ["model"],
        id="recommend-string-k",
    ),
    case(
        lambda w: w.model.recommend([3, 5, 8], exclude=[0.5]),
        "exclude must be integers in [0, 99], got 0.5 at position 0",
        ["model"],
        id="recommend-half-a-movie-excluded",
    ),
    case(
        lambda w: w.model.score("358"),
        "history must be a 1-d sequence of integers, got '358'",
        ["model"],
        id="score-history-as-text",
    ),
]


@pytest.mark.parametrize(("call", "match", "keep"), SINGLE)
def test_single_table_recommender(w, call, match, keep):
    run(w, call, match, keep)


@settings(max_examples=25, deadline=None)
@given(st.floats(allow_nan=True).filter(lambda x: not (x >= 0 and math.isfinite(x))))
def test_no_negative_or_non_finite_reward_enters_the_table(reward):
    rejects(lambda: _single(reward=reward),
            match=["reward must be a finite number >= 0", repr(reward)])  # fmt: skip


# ---- the grid world --------------------------------------------------------------------------


def _mdp(w, **changes):
    parts = {"P": w.mdp.P, "reward": w.mdp.reward, "terminal": w.mdp.terminal, **changes}
    return MDP(**parts)


def _nan_at_start(array):
    out = array.copy()
    out.flat[0] = NAN
    return out


GRIDWORLD = [
    case(
        lambda w: GridWorld(5),
        ["layout must be one of ['floydhub', 'slide']", "got 5"],
        id="layout-number",
    ),
    case(
        lambda w: GridWorld(["G.", ".."]),
        "a layout needs exactly one start 'A', got 0 in ['G.', '..']",
        id="layout-no-start",
    ),
    case(
        lambda w: GridWorld(["..", ".A"]),
        "a layout needs at least one goal 'G', got ['..', '.A']",
        id="layout-no-goal",
    ),
    case(
        lambda w: w.grid.move(-1, 0),
        "state must be an integer in [0, 10], got -1",
        ["grid"],
        id="move-negative-state-would-wrap",
    ),
    case(
        lambda w: w.grid.move(0, 4),
        "action must be an integer in [0, 3], got 4",
        ["grid"],
        id="move-unknown-action",
    ),
    case(
        lambda w: w.grid.move(0, 1.0),
        "action must be an integer in [0, 3], got 1.0",
        ["grid"],
        id="move-float-action",
    ),
    case(
        lambda w: _mdp(w, P=_nan_at_start(w.mdp.P)),
        "P must be finite numbers, got nan at position (0, 0, 0)",
        id="mdp-nan-probability",
    ),
    case(
        lambda w: _mdp(w, P=w.mdp.P * 0.5),
        ["P[s, a, :] must be probabilities summing to 1", "at (s, a) = (0, 0)"],
        id="mdp-probabilities-not-summing-to-1",
    ),
    case(
        lambda w: _mdp(w, reward=w.mdp.reward[:, :2]),
        "reward must have shape (11, 4, 11), got shape (11, 2, 11)",
        id="mdp-reward-wrong-shape",
    ),
    case(
        lambda w: _mdp(w, terminal=w.mdp.terminal.astype(int)),
        ["terminal must be a boolean array of shape (11,)", "dtype int64"],
        id="mdp-terminal-as-integers",
    ),
    case(
        lambda w: transition_model("slide"),
        "grid must be a GridWorld, got 'slide'",
        id="transition_model-layout-name",
    ),
    case(
        lambda w: transition_model(w.grid, goal_reward="1"),
        "goal_reward must be a finite number, got '1'",
        ["grid"],
        id="transition_model-string-reward",
    ),
    case(
        lambda w: transition_model(w.grid, step_reward=-INF),
        "step_reward must be a finite number, got -inf",
        ["grid"],
        id="transition_model-infinite-cost",
    ),
    case(
        lambda w: q_from_values(w.mdp, np.zeros(3), 0.9),
        "values must have shape (11), got shape (3,)",
        ["mdp"],
        id="backup-values-of-another-world",
    ),
    case(
        lambda w: q_from_values(w.mdp, _nan_at_start(w.values), 0.9),
        "values must be finite numbers, got nan at position 0",
        ["mdp"],
        id="backup-nan-value",
    ),
    case(
        lambda w: value_iteration(w.mdp, max_sweeps=0),
        "max_sweeps must be a positive integer, got 0",
        ["mdp"],
        id="value_iteration-no-sweeps",
    ),
    case(
        lambda w: value_iteration(w.mdp, record="yes"),
        "record must be True or False, got 'yes'",
        ["mdp"],
        id="value_iteration-string-flag",
    ),
    case(
        lambda w: value_iteration("floydhub"),
        "mdp must be an MDP (see transition_model), got 'floydhub'",
        id="value_iteration-layout-name",
    ),
    case(
        lambda w: optimal_actions(w.q, w.grid.terminal.astype(int)),
        ["terminal must be a boolean array of shape (11,)", "dtype int64"],
        ["q"],
        id="optimal-terminal-as-ints",
    ),
    case(
        lambda w: optimal_actions(_nan_at_start(w.q), w.grid.terminal),
        "q_values must be finite numbers, got nan at position (0, 0)",
        id="optimal-nan-q",
    ),
    case(
        lambda w: optimal_actions(np.zeros((0, 4)), np.zeros(0, bool)),
        "q_values must hold at least one state and one action, got shape (0, 4)",
        id="optimal-no-states",
    ),
    case(
        lambda w: greedy_policy(w.q, w.grid.terminal, atol=-1e-9),
        "atol must be a finite number >= 0, got -1e-09",
        ["q"],
        id="greedy_policy-negative-tolerance",
    ),
    case(
        lambda w: value_grid(w.grid, w.values[:-1]),
        "values must have shape (11), got shape (10,)",
        ["values"],
        id="value_grid-one-value-short",
    ),
    case(
        lambda w: format_values(w.grid, w.values, digits=0),
        "digits must be a positive integer, got 0",
        id="format_values-zero-digits",
    ),
    case(
        lambda w: format_policy(w.grid, w.q[:5]),
        "q_values must have shape (11, 4), got shape (5, 4)",
        id="format_policy-q-of-another-world",
    ),
    case(
        lambda w: plot_gridworld(w.grid, cmap="nope"),
        "cmap must be the name of a matplotlib colormap such as 'RdBu', got 'nope'",
        id="plot-unknown-colormap",
    ),
    case(
        lambda w: plot_gridworld(w.grid, ax="left"),
        "ax must be a matplotlib Axes or None, got 'left'",
        id="plot-axes-by-name",
    ),
    case(
        lambda w: plot_gridworld(w.grid, w.values, title=3),
        "title must be a string or None, got 3",
        id="plot-numeric-title",
    ),
    case(
        lambda w: w.env.reset(seed=-1),
        "seed must be a non-negative integer, got -1",
        ["env"],
        id="env-reset-negative-seed",
    ),
    case(
        lambda w: w.env.reset(seed=1.5),
        "seed must be a non-negative integer, got 1.5",
        ["env"],
        id="env-reset-float-seed",
    ),
    case(
        lambda w: w.env.reset(options=[1]),
        "options must be a dict or None, got [1]",
        ["env"],
        id="env-reset-list-options",
    ),
    case(
        lambda w: w.env.step(1.0),
        "action must be 0 (up), 1 (right), 2 (down) or 3 (left), got 1.0",
        ["env"],
        id="env-step-float-action",
    ),
    case(lambda w: w.env.step(-1), "got -1", ["env"], id="env-step-negative-action"),
    case(lambda w: w.env.step(True), "got True", ["env"], id="env-step-boolean-action"),
    case(
        lambda w: RobotGridWorldEnv(fire_reward=NAN),
        "fire_reward must be a finite number, got nan",
        id="env-nan-reward",
    ),
]


@pytest.mark.parametrize(("call", "match", "keep"), GRIDWORLD)
def test_gridworld(w, call, match, keep):
    run(w, call, match, keep)


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.floats(), st.integers(max_value=-1), st.integers(min_value=4),
                 st.sampled_from(["1", None, False])))  # fmt: skip
def test_no_bad_action_moves_the_robot(action):
    env = RobotGridWorldEnv(layout="slide", slip=0.3)
    env.reset(seed=1)
    rejects(lambda: env.step(action), match=repr(action), unchanged=[env])


# ---- state-space counts ----------------------------------------------------------------------

STATE_SPACE = [
    case(
        lambda w: state_space.n_states(10, 3, ordered="yes"),
        "ordered must be True or False, got 'yes'",
        id="n_states-string-flag",
    ),
    case(
        lambda w: state_space.dense_table_bytes(10, 10, "banana"),
        "dtype must be a numeric numpy dtype such as 'float32', got 'banana'",
        id="bytes-unknown-dtype",
    ),
    case(
        lambda w: state_space.dense_table_bytes(10, 10, None),
        "numeric numpy dtype such as 'float32', got None",
        id="bytes-none-dtype-would-mean-float64",
    ),
    case(lambda w: state_space.dense_table_bytes(10, 10, "U3"), "got 'U3'", id="bytes-text-dtype"),
    case(
        lambda w: state_space.format_bytes("5"),
        "n_bytes must be a finite number >= 0, got '5'",
        id="format_bytes-string",
    ),
    case(
        lambda w: state_space.format_bytes(True),
        "n_bytes must be a finite number >= 0, got True",
        id="format_bytes-boolean",
    ),
    case(
        lambda w: state_space.format_bytes(5, digits=0),
        "digits must be a positive integer, got 0",
        id="format_bytes-zero-digits",
    ),
    case(
        lambda w: state_space.per_genre_dense_bytes([], 10),
        "genre_sizes must not be empty, got []",
        id="per_genre-no-genres",
    ),
    case(
        lambda w: state_space.per_genre_dense_bytes(5, 10),
        "genre_sizes must be a sequence of non-negative integers, got 5",
        id="per_genre-one-number",
    ),
    case(
        lambda w: state_space.per_genre_dense_bytes([3, 2.5], 10),
        "n_genre_items must be a non-negative integer, got 2.5",
        id="per_genre-half-a-movie",
    ),
    case(
        lambda w: state_space.growth_with_items([]),
        "n_values must not be empty, got []",
        id="growth-no-sizes",
    ),
    case(
        lambda w: state_space.growth_with_items([10, -5]),
        "n_items must be a non-negative integer, got -5",
        id="growth-negative-size",
    ),
    case(
        lambda w: state_space.growth_with_history(627, "123"),
        "history_lengths must be a sequence of non-negative integers, got '123'",
        id="growth-lengths-as-text",
    ),
    case(
        lambda w: state_space.rank_pairs([0.5], [2]),
        "i must be integers, got [0.5]",
        id="rank_pairs-half-an-item",
    ),
    case(
        lambda w: state_space.rank_pairs([1, 2], [2, 3, 4]),
        "i and j must have the same (or broadcastable) shapes, got (2,) and (3,)",
        id="rank_pairs-shapes",
    ),
    case(
        lambda w: state_space.rank_pairs([-1], [2]),
        "pair members must be non-negative integers, got i = -1",
        id="rank_pairs-negative",
    ),
    case(
        lambda w: state_space.unrank_pairs([1.0, NAN]),
        ["ranks must be integers", "[1.0, nan]"],
        id="unrank_pairs-nan",
    ),
    case(
        lambda w: state_space.rank_combination(5),
        "items must be a sequence of non-negative integers, got 5",
        id="rank_combination-one-number",
    ),
    case(
        lambda w: state_space.rank_combination([1, 2.0]),
        "item must be a non-negative integer, got 2.0",
        id="rank_combination-float-item",
    ),
    case(
        lambda w: state_space.rank_pair(1, True),
        "j must be a non-negative integer, got True",
        id="rank_pair-boolean",
    ),
]


@pytest.mark.parametrize(("call", "match", "keep"), STATE_SPACE)
def test_state_space(w, call, match, keep):
    run(w, call, match, keep)


# ---- the limits of classical models ----------------------------------------------------------


def _curve(w, **kwargs):
    new = {u: np.arange(30) % 6 for u in (7, 8)}
    args = {"n_known": (0, 1), "target_positions": (20, 21), **kwargs}
    return limits.new_user_curve({"pop": w.pop}, new, **args)


def _stale(w, **kwargs):
    times = {u: np.arange(len(h)) * 10 for u, h in w.histories.items()}
    args = {"factory": Popularity, "histories": w.histories, "timestamps": times, "train_end": 10,
            "period_edges": [10, 30, 50], "n_items": 6, "rng": w.rng, **kwargs}  # fmt: skip
    return limits.stale_vs_fresh(**args)


LIMITS = [
    case(
        lambda w: limits.hold_out_users(w.histories, 0.5, "0"),
        ["rng must be a numpy.random.Generator", "got '0'"],
        ["histories"],
        id="hold_out-seed-for-rng",
    ),
    case(
        lambda w: limits.hold_out_users({}, 0.2, w.rng),
        "histories must be a non-empty dict of user id -> history, got {}",
        ["rng"],
        id="hold_out-no-users",
    ),
    case(
        lambda w: limits.hold_out_users(w.histories, 0.9, w.rng),
        ["frac=0.9 of 3 users holds out every one of them", "at least one known user"],
        ["rng", "histories"],
        id="hold_out-nobody-left-to-train-on",
    ),
    case(
        lambda w: _curve(w, n_known=()),
        "n_known must not be empty, got []",
        id="new_user_curve-nothing-known",
    ),
    case(
        lambda w: _curve(w, n_known=(0, -1)),
        "n_known must be a non-negative integer, got -1",
        id="new_user_curve-negative-count",
    ),
    case(
        lambda w: _curve(w, target_positions=(20, 20)),
        "target_positions must not repeat a value, got [20, 20]",
        id="new_user_curve-repeated-target",
    ),
    case(
        lambda w: _curve(w, k=0), "k must be a positive integer, got 0", id="new_user_curve-zero-k"
    ),
    case(
        lambda w: limits.new_user_curve({"pop": "Popularity"}, w.histories),
        ["models['pop'] must be a recommender", "got 'Popularity'"],
        id="new_user_curve-model-by-name",
    ),
    case(
        lambda w: limits.remove_items(w.histories, [0.5]),
        "items must be a non-negative integer, got 0.5",
        ["histories"],
        id="remove_items-half-a-movie",
    ),
    case(
        lambda w: limits.remove_items(w.histories, [-1]),
        "items must be a non-negative integer, got -1",
        ["histories"],
        id="remove_items-negative",
    ),
    case(
        lambda w: limits.target_ranks_full(w.pop, _transitions([], [], []), w.histories),
        "transitions must be non-empty Transitions",
        ["pop"],
        id="ranks-no-transitions",
    ),
    case(
        lambda w: limits.target_ranks_full(w.pop, _transitions([9], [1], [2]), w.histories),
        "histories must hold every user of the transitions, got none for user 9",
        ["pop"],
        id="ranks-unknown-user",
    ),
    case(
        lambda w: limits.target_ranks_full(w.pop, _transitions([1], [-1], [2]), w.histories),
        "transitions.targets must be integers in [0, 5], got -1 at position 0",
        ["pop"],
        id="ranks-negative-target-would-wrap",
    ),
    case(
        lambda w: limits.density(w.histories, 0),
        "n_items must be a positive integer, got 0",
        id="density-empty-catalogue",
    ),
    case(
        lambda w: limits.density({1: np.array([0, 12])}, 10),
        "histories[1] must be integers in [0, 9], got 12 at position 1",
        id="density-movie-outside-catalogue",
    ),
    case(
        lambda w: limits.accuracy_by_activity({"m": w.lists["m"][:2]}, w.trans, w.histories),
        "lists['m'] must hold one list per transition (3), got 2",
        id="activity-lists-short",
    ),
    case(
        lambda w: limits.accuracy_by_activity(w.lists, w.trans, w.histories, bins=(0, 50, 20)),
        "bins must be at least two strictly increasing edges, got [0, 50, 20]",
        id="activity-bins-decreasing",
    ),
    case(
        lambda w: limits.accuracy_by_activity(w.lists, w.trans, w.histories, bins=(0, NAN)),
        "bins must be a finite number, got nan",
        id="activity-nan-edge",
    ),
    case(
        lambda w: limits.accuracy_by_activity(w.lists, w.trans, {1: np.arange(3)}),
        "train_histories must hold every user of the transitions, got none for user 2",
        id="activity-user-without-training",
    ),
    case(
        lambda w: limits.top_items([], 0.1), "popularity must not be empty", id="top_items-no-items"
    ),
    case(
        lambda w: limits.top_items([3.0, NAN], 0.1),
        "popularity must be finite numbers, got nan at position 1",
        id="top_items-nan-popularity",
    ),
    case(
        lambda w: limits.popularity_bias({"m": np.array([[0, -2]])}, np.ones(6)),
        "lists['m'] must hold catalogue indices in [0, 5] or the pad -1, got -2",
        id="bias-negative-item-would-wrap",
    ),
    case(
        lambda w: limits.popularity_bias({"m": np.array([[0, 6]])}, np.ones(6)),
        "got 6",
        id="bias-item-outside-catalogue",
    ),
    case(
        lambda w: limits.popularity_bias(w.lists, np.ones(6), targets=[]),
        "targets must not be empty, got array([]",
        id="bias-no-targets",
    ),
    case(
        lambda w: limits.popularity_bias(w.lists, np.ones(6), targets=[0.5]),
        "targets must be integers in [0, 5], got 0.5 at position 0",
        id="bias-half-a-target",
    ),
    case(
        lambda w: limits.user_typicality({1: np.array([0, 1])}, 6),
        "train_histories must hold at least two users (a user's peers are the others), got 1",
        id="typicality-one-user",
    ),
    case(
        lambda w: limits.user_typicality(w.histories, "6"),
        "n_items must be a positive integer, got '6'",
        id="typicality-string-catalogue",
    ),
    case(
        lambda w: limits.accuracy_by_group(w.lists, w.trans, {1: "a", 2: "b"}),
        ["groups must be a pandas Series", "{1: 'a', 2: 'b'}"],
        id="group-dict-for-series",
    ),
    case(
        lambda w: limits.accuracy_by_group(
            w.lists, w.trans, pd.Series(["a", "b", "c"], index=[1, 2, 1])
        ),
        "groups must give each user one label, got user 1 twice",
        id="group-user-twice",
    ),
    case(
        lambda w: limits.list_overlap({"m": np.zeros((3, 0), dtype=int)}, w.trans),
        ["lists['m'] must be a 2-d integer array with at least one column", "(3, 0)"],
        id="overlap-empty-lists",
    ),
    case(
        lambda w: limits.repeat_visits(w.pop, [0.5]),
        "history must be integers in [0, 5], got 0.5 at position 0",
        ["pop"],
        id="repeat_visits-half-a-movie",
    ),
    case(
        lambda w: limits.repeat_visits(w.pop, [0, -1]),
        "history must be integers in [0, 5], got -1 at position 1",
        ["pop"],
        id="repeat_visits-negative-would-wrap",
    ),
    case(
        lambda w: limits.repeat_visits(w.pop, [0], n_visits=0),
        "n_visits must be a positive integer, got 0",
        ["pop"],
        id="repeat_visits-no-visits",
    ),
    case(
        lambda w: limits.genre_mix(w.histories, w.catalog, min_len="2"),
        "min_len must be a positive integer, got '2'",
        id="genre_mix-string-length",
    ),
    case(
        lambda w: limits.genre_mix({1: np.array([0, 9])}, w.catalog, min_len=1),
        "histories[1] must be integers in [0, 5], got 9 at position 1",
        id="genre_mix-movie-outside-genre-matrix",
    ),
    case(
        lambda w: limits.genre_mix(w.histories, "catalog"),
        "catalog must be a Catalog, got 'catalog'",
        id="genre_mix-catalogue-by-name",
    ),
    case(
        lambda w: limits.taste_drift(
            {1: np.arange(4), 2: np.array([0, -1])}, w.catalog, w.rng, min_len=2
        ),
        "histories[2] must be integers in [0, 5], got -1 at position 1",
        ["rng"],
        id="taste_drift-checks-all-before-first-draw",
    ),
    case(
        lambda w: limits.taste_drift(w.histories, w.catalog, w.rng, frac=1.0),
        "frac must be in (0, 1), got 1.0",
        ["rng"],
        id="taste_drift-frac-1",
    ),
    case(
        lambda w: limits.history_timestamps(
            pd.DataFrame({"user_id": [1], "item_id": [1]}), w.catalog, w.histories
        ),
        "ratings must have the column(s) ['timestamp']",
        id="timestamps-no-time-column",
    ),
    case(
        lambda w: _stale(w, timestamps={1: np.arange(5)}),
        "timestamps must hold every user of the histories, got none for user 2",
        ["rng"],
        id="stale-user-without-times",
    ),
    case(
        lambda w: _stale(w, period_edges=[10, 30.5]),
        "period_edges must be an integer, got 30.5",
        ["rng"],
        id="stale-float-edge",
    ),
    case(
        lambda w: _stale(w, rng=1),
        ["rng must be a numpy.random.Generator", "got 1"],
        id="stale-seed-for-rng",
    ),
    case(
        lambda w: _stale(w, max_per_period=0),
        "max_per_period must be a positive integer, got 0",
        ["rng"],
        id="stale-no-sample",
    ),
    case(
        lambda w: limits.random_interactions(0, 10, 1, w.rng),
        "n_users must be a positive integer, got 0",
        ["rng"],
        id="random-no-users",
    ),
    case(
        lambda w: limits.random_interactions(5, 10, 20, w.rng),
        "per_user must be an integer in [1, 10], got 20",
        ["rng"],
        id="random-more-per-user-than-items",
    ),
    case(
        lambda w: limits.time_item_similarity([], w.rng),
        "n_items_list must not be empty, got []",
        ["rng"],
        id="timing-no-sizes",
    ),
    case(
        lambda w: limits.time_item_similarity([20, 20], w.rng),
        "n_items_list must not repeat a value, got [20, 20]",
        ["rng"],
        id="timing-repeated-size",
    ),
    case(
        lambda w: limits.time_item_similarity([20], w.rng, repeats=0),
        "repeats must be a positive integer, got 0",
        ["rng"],
        id="timing-no-repeats",
    ),
]


@pytest.mark.parametrize(("call", "match", "keep"), LIMITS)
def test_limits(w, call, match, keep):
    run(w, call, match, keep)


# ---- figures ---------------------------------------------------------------------------------

MODELS = ["Popularity", "Item-kNN"]
ACTIVITY = pd.DataFrame({"Popularity": [0.1, 0.05], "Item-kNN": [0.3, 0.2]}, index=["a", "b"])
METRICS = pd.DataFrame({"HR@10": [0.1, 0.2], "MRR": [0.05, 0.07]}, index=["A", "B"])


def _tables() -> GenreQTables:
    return GenreQTables(np.array([0, 0, 1, 0, 2, 1]), ["Drama", "Comedy", "Horror"])


def _growth(**drop):
    by_n = state_space.growth_with_items([10, 20])
    by_n["per_genre_bytes"] = [1e3, 1e4]
    by_k = state_space.growth_with_history(20, [1, 2])
    args = {"by_n": by_n, "by_k": by_k, "n_items": 20, "real_genre_bytes": 1e9, **drop}
    return plotting.plot_state_space_growth(**args)


FIGURES = [
    case(
        lambda w: limits.plot_grouped_bars(pd.DataFrame()),
        "table must be a non-empty pandas DataFrame, got a DataFrame of shape (0, 0)",
        id="bars-empty-table",
    ),
    case(
        lambda w: limits.plot_grouped_bars(pd.DataFrame({"m": ["high"]})),
        "table must hold numbers, got the column(s) ['m'] of dtype",
        id="bars-text-values",
    ),
    case(
        lambda w: limits.plot_grouped_bars(ACTIVITY, reference=NAN),
        "reference must be a finite number, got nan",
        id="bars-nan-reference",
    ),
    case(
        lambda w: limits.plot_grouped_bars(ACTIVITY, legend="yes"),
        "legend must be True or False, got 'yes'",
        id="bars-string-flag",
    ),
    case(
        lambda w: limits.plot_accuracy_by_activity(ACTIVITY, [*MODELS, "MF"]),
        "activity must have the column(s) ['MF']",
        id="activity-figure-unknown-model",
    ),
    case(
        lambda w: limits.plot_accuracy_by_activity(ACTIVITY, "Popularity"),
        "models must be a sequence of column names, got 'Popularity'",
        id="activity-figure-models-as-text",
    ),
    case(
        lambda w: limits.plot_popularity_bias(pd.DataFrame({"share to top items": [0.5]})),
        "bias must carry attrs['catalogue share']",
        id="bias-figure-no-catalogue-share",
    ),
    case(
        lambda w: limits.plot_grey_sheep(pd.Series([0.2, NAN]), 0.25, ACTIVITY, MODELS),
        "typicality must be finite numbers, got nan at position 1",
        id="grey-sheep-nan",
    ),
    case(
        lambda w: limits.plot_grey_sheep(pd.Series([0.2, 0.3]), "low", ACTIVITY, MODELS),
        "grey_cut must be a finite number, got 'low'",
        id="grey-sheep-string-cut",
    ),
    case(
        lambda w: limits.plot_list_overlap(pd.Series([], dtype=float)),
        "overlap must be a non-empty pandas Series",
        id="overlap-figure-empty",
    ),
    case(
        lambda w: limits.plot_staleness(ACTIVITY, "Dec"),
        "staleness must have two column levels (model, measure)",
        id="staleness-one-level",
    ),
    case(
        lambda w: limits.plot_scalability(pd.DataFrame({"seconds": [0.1]}, index=[100])),
        "timings must hold at least two positive catalogue sizes",
        id="scalability-one-point",
    ),
    case(
        lambda w: plotting.axes_or_new("ax"),
        "ax must be a matplotlib Axes or None, got 'ax'",
        id="axes-by-name",
    ),
    case(
        lambda w: plotting.axes_or_new(None, (0, 3)),
        "figsize width must be a finite number > 0, got 0",
        id="axes-zero-width",
    ),
    case(
        lambda w: plotting.axes_or_new(None, "6x4"),
        "figsize must be (width, height) in inches, got '6x4'",
        id="axes-size-as-text",
    ),
    case(
        lambda w: plotting.plot_rating_distribution(pd.DataFrame({"stars": [4]})),
        "ratings must have the column(s) ['rating']",
        id="ratings-no-rating-column",
    ),
    case(
        lambda w: plotting.plot_long_tail([3.0, NAN]),
        "popularity must be finite numbers, got nan at position 1",
        id="long-tail-nan",
    ),
    case(
        lambda w: plotting.plot_long_tail([3, 2], top=0),
        "top must be a positive integer or None, got 0",
        id="long-tail-zero-top",
    ),
    case(
        lambda w: plotting.plot_genre_counts({}),
        "counts must be a non-empty dict or Series of genre -> movies, got {}",
        id="genre-counts-empty",
    ),
    case(
        lambda w: plotting.plot_genre_counts({"Drama": "many"}),
        ["counts must be finite numbers", "'many'"],
        id="genre-counts-text",
    ),
    case(
        lambda w: plotting.plot_sparsity(np.zeros((0, 3))),
        ["matrix must be a non-empty 2-d users x items matrix", "shape=(0, 3)"],
        id="sparsity-no-users",
    ),
    case(
        lambda w: plotting.model_colors(["a", "b", "a"]),
        "names must be distinct hashable labels (one colour each), got ['a', 'b', 'a']",
        id="colors-repeated-model",
    ),
    case(
        lambda w: plotting.model_colors("abc"),
        "names must be an iterable of model names, got 'abc'",
        id="colors-names-as-text",
    ),
    case(
        lambda w: plotting.model_colors(["a"], beyond_ten="nope"),
        "beyond_ten must be the name of a matplotlib colormap such as 'tab20', got 'nope'",
        id="colors-unknown-colormap",
    ),
    case(
        lambda w: plotting.plot_metric_bars(METRICS, metrics="HR@10"),
        "metrics must be a sequence of column names (not one string), got 'HR@10'",
        id="metric-bars-one-string",
    ),
    case(
        lambda w: plotting.plot_metric_bars(METRICS, metrics=["MRR", "MRR"]),
        "metrics must not repeat a column (one panel each), got ['MRR', 'MRR']",
        id="metric-bars-repeated",
    ),
    case(
        lambda w: plotting.plot_metric_bars(METRICS, colors={"A": "red"}),
        "colors must give every model a colour, got none for ['B']",
        id="metric-bars-colour-missing",
    ),
    case(
        lambda w: plotting.plot_metric_bars(METRICS, errors=METRICS.iloc[::-1]),
        "errors must have the table's rows ['A', 'B'], got ['B', 'A']",
        id="metric-bars-errors-misaligned",
    ),
    case(
        lambda w: plotting.plot_metric_bars(METRICS, horizontal="yes"),
        "horizontal must be True or False, got 'yes'",
        id="metric-bars-string-flag",
    ),
    case(
        lambda w: plotting.catalog_frame(
            w.catalog, np.array([0, 1, 0, -1, 1, 0]), ["Drama", "Comedy"]
        ),
        "codes must be integers in [0, 1], got -1 at position 3",
        ["catalog"],
        id="catalog-frame-negative-code-would-wrap",
    ),
    case(
        lambda w: plotting.catalog_frame(w.catalog, np.array([0, 1]), ["Drama", "Comedy"]),
        "codes must hold one genre code per movie (6), got 2",
        ["catalog"],
        id="catalog-frame-codes-short",
    ),
    case(
        lambda w: plotting.plot_state_decomposition(_tables(), [0, 2, 0.5], list("abcdef")),
        "movie indices must be integers, got 0.5 in state (0, 2, 0.5)",
        id="decomposition-half-a-movie",
    ),
    case(
        lambda w: plotting.plot_state_decomposition(_tables(), [0, 2, 3], list("abc")),
        "titles must name all 6 catalogue movies, got ['a', 'b', 'c']",
        id="decomposition-titles-short",
    ),
    case(
        lambda w: _growth(real_genre_bytes=0),
        "real_genre_bytes must be a finite number > 0, got 0",
        id="growth-figure-zero-bytes-on-log-axis",
    ),
    case(
        lambda w: _growth(by_k=pd.DataFrame({"history_length": [1]})),
        "by_k must have the column(s) ['ordered_states', 'unordered_states']",
        id="growth-figure-missing-columns",
    ),
    case(
        lambda w: plotting.plot_q_before_after(
            pd.DataFrame({"movie": ["A (1990)"], "Q before": [1.0], "Q after": [INF]})
        ),
        "Q after must be finite numbers, got inf at position 0",
        id="q-before-after-inf",
    ),
    case(
        lambda w: plotting.plot_stream_curves({}),
        "curves must be a non-empty dict of epsilon -> curve, got {}",
        id="stream-curves-empty",
    ),
    case(
        lambda w: plotting.plot_hyperparameter_effects(
            pd.DataFrame({"parameter": ["alpah"], "value": [0.1], "val_HR@10": [0.2]}),
            SimpleNamespace(alpha=0.2),
        ),
        "reference must have a value for every swept parameter, got none for ['alpah']",
        id="effects-unknown-param",
    ),
]


@pytest.mark.parametrize(("call", "match", "keep"), FIGURES)
def test_figures(w, call, match, keep):
    run(w, call, match, keep)


def test_legend_below_refuses_before_laying_out():
    fig = plt.figure()
    try:
        for kwargs, message in (({"ncols": 0, "bottom": 0.1}, "ncols must be a positive "
                                 "integer, got 0"),
                                ({"ncols": 2, "bottom": 1.0}, "bottom must be a finite number "
                                 "in [0, 1), got 1.0")):  # fmt: skip
            rejects(lambda kwargs=kwargs: plotting.legend_below(fig, [], **kwargs),
                    match=message)  # fmt: skip
            assert not fig.legends
    finally:
        plt.close(fig)
