"""The bad-input battery, off-policy evaluation: the policies, the log, the estimators and the
experiment.

Every case asserts the exception type, that the message names the bad value (its repr) and
what is allowed, and that nothing changed: policies, environments (their generator included),
logs, matrices and generators handed in.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from bad_input import rejects
from worlds import planted_world

from odsc_recsys.classical import ItemKNN, Popularity
from odsc_recsys.offpolicy import (
    Estimate,
    SessionLog,
    SessionMatrices,
    SoftmaxPolicy,
    UniformPolicy,
    cumulative_weights,
    doubly_robust,
    draw,
    effective_sample_size,
    fit_reward_model,
    ips,
    log_sessions,
    mix,
    ope_experiment,
    session_matrices,
    snips,
    summarise_ope,
    target_terms,
    true_value,
)
from odsc_recsys.online import RandomAgent
from odsc_recsys.simulator import MovieLensUserEnv

NAN, INF = float("nan"), float("inf")
N = 8  # movies of the planted world


@pytest.fixture(scope="module")
def world():
    return planted_world()


@pytest.fixture(scope="module")
def model(world):
    return Popularity().fit(list(world.histories), N)


@pytest.fixture
def policy(model) -> SoftmaxPolicy:
    return SoftmaxPolicy(model, 1.0)


@pytest.fixture
def env(world) -> MovieLensUserEnv:
    e = MovieLensUserEnv(world, k=1)
    e.reset(seed=0)
    return e


@pytest.fixture(scope="module")
def log(world, model) -> SessionLog:
    return log_sessions(MovieLensUserEnv(world, k=1), SoftmaxPolicy(model, 1.0), 6, seed=0)


@pytest.fixture
def m(log, model) -> SessionMatrices:
    return session_matrices(log, SoftmaxPolicy(model, 0.5), np.full(N, 0.3))


# ---- policies -----------------------------------------------------------------------------------

SOFTMAX = {
    "model not a recommender": ({"model": "knn"}, ["model must be a fitted Recommender", "str"]),
    "temperature negative": ({"temperature": -0.5}, ["temperature must be a finite number >= 0", "-0.5"]),
    "temperature nan": ({"temperature": NAN}, ["temperature must be a finite number >= 0", "nan"]),
    "temperature infinite": ({"temperature": INF}, ["temperature must be a finite number >= 0", "inf"]),
    "temperature a string": ({"temperature": "1"}, ["temperature must be a finite number >= 0", "'1'"]),
    "temperature a bool": ({"temperature": True}, ["temperature must be a finite number >= 0", "True"]),
    "name empty": ({"name": " "}, ["name must be a non-empty string", "' '"]),
    "name a number": ({"name": 3}, ["name must be a non-empty string", "3"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SOFTMAX))
def test_softmax_constructor_checks_every_argument(model, case):
    changes, match = SOFTMAX[case]
    rejects(lambda: SoftmaxPolicy(**{"model": model, "temperature": 1.0, **changes}),
            match=match, unchanged=[model])  # fmt: skip


def test_an_unfitted_model_says_so_itself():
    rejects(lambda: SoftmaxPolicy(ItemKNN(), 1.0), exc=RuntimeError, match="not fitted")


UNIFORM = {
    "n_items zero": ({"n_items": 0}, ["n_items must be a positive integer", "0"]),
    "n_items a float": ({"n_items": 2.5}, ["n_items must be a positive integer", "2.5"]),
    "name empty": ({"name": ""}, ["name must be a non-empty string", "''"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(UNIFORM))
def test_uniform_constructor_checks_every_argument(case):
    changes, match = UNIFORM[case]
    rejects(lambda: UniformPolicy(**{"n_items": N, **changes}), match=match)


def test_mix_checks_its_policies_and_weight(policy):
    other = UniformPolicy(N)
    rejects(lambda: mix(policy, other, 1.5), match=["weight must be a probability in [0, 1]", "1.5"],
            unchanged=[policy, other])  # fmt: skip
    rejects(lambda: mix(policy, other, NAN), match=["weight must be a probability", "nan"])
    rejects(lambda: mix(policy, RandomAgent(N), 0.5),
            match=["b must be a StochasticPolicy", "RandomAgent"])  # fmt: skip
    rejects(lambda: mix("p", other, 0.5), match=["a must be a StochasticPolicy", "str"])
    rejects(lambda: mix(policy, UniformPolicy(5), 0.5),
            match=["b.n_items must be a's catalogue size 8", "got 5"])  # fmt: skip


HISTORIES = {
    "unknown movie": ([0, N], ["unknown item index 8", "0 to 7"]),
    "negative movie": ([-1], ["unknown item index -1"]),
    "floats": ([0.0, 1.0], ["history must be a 1-d sequence of integer item indices", "[0.0, 1.0]"]),
    "a string": ("01", ["history must be a 1-d sequence of integer item indices", "'01'"]),
    "2-d": ([[0, 1]], ["history must be a 1-d sequence of integer item indices", "[[0, 1]]"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(HISTORIES))
def test_probabilities_refuse_a_bad_history(policy, case):
    history, match = HISTORIES[case]
    rejects(lambda: policy.probabilities(history), match=match, unchanged=[policy])
    rejects(lambda: UniformPolicy(N).probabilities(history), match=match)
    rejects(lambda: policy.probabilities_many([[0], history]), match=["histories[1]", *match],
            unchanged=[policy])  # fmt: skip


BATCHES = {
    "a single history": ([0, 1], ["histories must be a sequence of histories", "[0, 1]"]),
    "a string": ("01", ["histories must be a sequence (list or tuple) of histories", "'01'"]),
    "an array": (np.array([[0, 1]]), ["histories must be a sequence (list or tuple)", "array([[0, 1]])"]),
    "a number": (3, ["histories must be a sequence (list or tuple) of histories", "3"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BATCHES))
def test_probabilities_many_refuse_what_is_not_a_batch(policy, case):
    batch, match = BATCHES[case]
    rejects(lambda: policy.probabilities_many(batch), match=match, unchanged=[policy])


def test_act_needs_a_generator(policy):
    rejects(lambda: policy.act(np.zeros(3), np.array([0]), 0),
            match=["rng must be a numpy.random.Generator", "got 0"], unchanged=[policy])  # fmt: skip


DRAWS = {
    "negative": ([0.5, -0.5, 1.0], ["probabilities must be finite numbers >= 0 with a positive sum", "-0.5"]),
    "all zero": ([0.0, 0.0], ["probabilities must be finite numbers >= 0 with a positive sum", "0."]),
    "nan": ([0.5, NAN], ["probabilities must be finite numbers", "nan at position 1"]),
    "empty": ([], ["probabilities must be a non-empty 1-d array", "array([]"]),
    "2-d": ([[0.5, 0.5]], ["probabilities must be a 1-d array", "(1, 2)"]),
    "strings": (["a"], ["probabilities must be finite numbers", "'a'"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(DRAWS))
def test_draw_refuses_what_is_not_a_distribution(case):
    p, match = DRAWS[case]
    rng = np.random.default_rng(0)
    rejects(lambda: draw(p, rng), match=match, unchanged=[rng])


def test_draw_needs_a_generator():
    rejects(lambda: draw(np.array([1.0]), 0), match=["rng must be a numpy.random.Generator", "0"])


# ---- the log ------------------------------------------------------------------------------------


def good_log(**changes) -> dict:
    fields = {
        "session": np.array([0, 0, 1]), "step": np.array([0, 1, 0]),
        "history": (np.array([], dtype=np.int64), np.array([0]), np.array([2])),
        "action": np.array([0, 1, 2]), "propensity": np.array([0.25, 0.5, 0.5]),
        "reward": np.array([1.0, 1.0, 0.0]), "n_sessions": 2, "n_items": 3,
        "behaviour_name": "mu",
    }  # fmt: skip
    return {**fields, **changes}


LOGS = {
    "propensity zero": ({"propensity": np.array([0.25, 0.0, 0.5])}, ["propensity must be probabilities in (0, 1]", "0.0 at position 1"]),
    "propensity above 1": ({"propensity": np.array([0.25, 1.5, 0.5])}, ["propensity must be probabilities in (0, 1]", "1.5 at position 1"]),
    "propensity nan": ({"propensity": np.array([NAN, 0.5, 0.5])}, ["propensity must be finite numbers", "nan at position 0"]),
    "propensity short": ({"propensity": np.array([0.5, 0.5])}, ["propensity must have one entry per logged step (3", "got 2"]),
    "reward infinite": ({"reward": np.array([1.0, INF, 0.0])}, ["reward must be finite numbers", "inf at position 1"]),
    "action unknown": ({"action": np.array([0, 3, 2])}, ["action must be integers in [0, 2]", "3 at position 1"]),
    "action floats": ({"action": np.array([0.0, 1.0, 2.0])}, ["action must be a 1-d array of integers", "0."]),
    "history a list": ({"history": [[], [0], [2]]}, ["history must be a tuple of int arrays", "list"]),
    "history short": ({"history": ((), (0,))}, ["history must have one entry per logged step (3", "got 2"]),
    "history unknown movie": ({"history": ((), (0,), (5,))}, ["history[2] must be integers in [0, 2]", "5"]),
    "steps out of order": ({"step": np.array([1, 0, 0])}, ["session and step must list each session's steps 0, 1, 2"]),
    "sessions out of order": ({"session": np.array([1, 1, 0]), "step": np.array([0, 1, 0])}, ["sessions in increasing order"]),
    "session beyond n_sessions": ({"n_sessions": 1}, ["session must be integers in [0, 0]", "1 at position 2"]),
    "n_items zero": ({"n_items": 0}, ["n_items must be a positive integer", "0"]),
    "n_sessions negative": ({"n_sessions": -1}, ["n_sessions must be a non-negative integer", "-1"]),
    "behaviour_name empty": ({"behaviour_name": ""}, ["behaviour_name must be a non-empty string", "''"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(LOGS))
def test_a_session_log_refuses_inconsistent_steps(case):
    changes, match = LOGS[case]
    rejects(lambda: SessionLog(**good_log(**changes)), match=match)


def test_sessions_of_a_log_must_be_a_window(log):
    rejects(lambda: log.sessions(2, 1), match=["stop must be an integer in [2, 6]", "1"],
            unchanged=[log])  # fmt: skip
    rejects(lambda: log.sessions(0, 7), match=["stop must be an integer in [0, 6]", "7"])
    rejects(lambda: log.sessions(-1, 2), match=["start must be an integer in [0, 6]", "-1"])


def test_log_sessions_and_true_value_check_their_arguments(env, policy, model):
    for run in (log_sessions, true_value):
        name = "behaviour" if run is log_sessions else "policy"
        rejects(lambda run=run: run(env, policy, 0, 0),
                match=["n_sessions must be", "0"], unchanged=[env, policy])  # fmt: skip
        rejects(lambda run=run: run(env, policy, 5, -1),
                match=["seed must be a non-negative integer", "-1"], unchanged=[env, policy])  # fmt: skip
        rejects(lambda run=run: run("env", policy, 5, 0),
                match=["env must be a MovieLensUserEnv", "str"], unchanged=[policy])  # fmt: skip
        rejects(lambda run=run, name=name: run(env, RandomAgent(N), 5, 0),
                match=[f"{name} must be a StochasticPolicy", "RandomAgent"], unchanged=[env])  # fmt: skip
        rejects(lambda run=run, name=name: run(env, UniformPolicy(5), 5, 0),
                match=[f"{name}.n_items must be the environment's catalogue size 8", "5"],
                unchanged=[env])  # fmt: skip
    rejects(lambda: true_value(env, policy, 1, 0), match=["n_sessions must be an integer >= 2", "1"],
            unchanged=[env, policy])  # fmt: skip


# ---- matrices and estimators --------------------------------------------------------------------

MATRICES = {
    "weights negative": ({"weights": [[1.0, -0.5]]}, ["weights must be >= 0", "-0.5 at position (0, 1)"]),
    "weights nan": ({"weights": [[1.0, NAN]]}, ["weights must be finite numbers", "nan at position (0, 1)"]),
    "weights 1-d": ({"weights": [1.0, 1.0], "rewards": [1.0, 1.0]}, ["weights must be a 2-d array", "(2,)"]),
    "no step": ({"weights": np.zeros((1, 0)), "rewards": np.zeros((1, 0))}, ["weights must have at least one column", "(1, 0)"]),
    "rewards of another shape": ({"rewards": [[1.0]]}, ["rewards must have shape (1, 2)", "(1, 1)"]),
    "q_hat alone": ({"q_hat": [[0.1, 0.1]]}, ["q_hat and v_hat must be given together", "v_hat None"]),
    "v_hat infinite": ({"q_hat": [[0.1, 0.1]], "v_hat": [[0.1, INF]]}, ["v_hat must be finite numbers", "inf at position (0, 1)"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MATRICES))
def test_session_matrices_refuse_inconsistent_arrays(case):
    changes, match = MATRICES[case]
    rejects(lambda: SessionMatrices(**{"weights": [[1.0, 2.0]], "rewards": [[0.0, 1.0]], **changes}),
            match=match)  # fmt: skip


def test_rows_of_the_matrices_must_be_a_window(m):
    rejects(lambda: m.rows(3, 2), match=["stop must be an integer in [3, 6]", "2"], unchanged=[m])
    rejects(lambda: m.rows(0, 9), match=["stop must be an integer in [0, 6]", "9"], unchanged=[m])


def test_cumulative_weights_refuse_negative_or_flat_ratios():
    rejects(lambda: cumulative_weights([[1.0, -1.0]]), match=["ratios must be >= 0", "-1.0"])
    rejects(lambda: cumulative_weights([1.0, 2.0]), match=["ratios must be a 2-d array", "(2,)"])
    rejects(lambda: cumulative_weights([[NAN]]), match=["ratios must be finite numbers", "nan"])


def test_estimate_refuses_what_is_not_a_number():
    rejects(lambda: Estimate(NAN, 0.0, 1.0), match=["value must be a finite number", "nan"])
    rejects(lambda: Estimate(0.5, "0", 1.0), match=["low must be a finite number", "'0'"])
    rejects(lambda: Estimate(0.5, 0.0, 1.0, np.array([[1.0]])), match=["terms must be a 1-d array"])


def test_target_terms_and_session_matrices_check_the_target(log, model):
    for build in (target_terms, session_matrices):
        rejects(lambda b=build: b("log", UniformPolicy(N)),
                match=["log must be a SessionLog", "str"])  # fmt: skip
        rejects(lambda b=build: b(log, UniformPolicy(5)),
                match=["target.n_items must be the log's catalogue size 8", "5"], unchanged=[log])  # fmt: skip
        rejects(lambda b=build: b(log, np.full((log.n_steps, 5), 0.2)),
                match=[f"target must have shape ({log.n_steps}, 8)", ", 5)"], unchanged=[log])  # fmt: skip
        rejects(lambda b=build: b(log, np.full((log.n_steps, N), 0.2)),
                match=["target must hold one probability distribution per logged step",
                       "row 0 summing to 1.6"], unchanged=[log])  # fmt: skip
        rejects(lambda b=build: b(log, UniformPolicy(N), np.zeros(3)),
                match=["reward_model must have shape (8)", "(3,)"], unchanged=[log])  # fmt: skip
        rejects(lambda b=build: b(log, UniformPolicy(N), np.full(N, NAN)),
                match=["reward_model must be finite numbers", "nan at position 0"])  # fmt: skip
    negative = np.zeros((log.n_steps, N))
    negative[:, 0], negative[:, 1] = 1.5, -0.5  # sums to 1, yet not a distribution
    rejects(lambda: session_matrices(log, negative),
            match=["target must hold one probability distribution per logged step (>= 0",
                   "-0.5 at position (0, 1)"], unchanged=[log])  # fmt: skip


ESTIMATORS = {
    "ips": lambda m, **kw: ips(m, **kw),
    "snips": lambda m, **kw: snips(m, np.random.default_rng(0), **kw),
    "doubly_robust": lambda m, **kw: doubly_robust(m, **kw),
}
ESTIMATOR_CASES = {
    "gamma above 1": ({"gamma": 1.5}, ["gamma (discount factor) must be in [0, 1]", "1.5"]),
    "gamma nan": ({"gamma": NAN}, ["gamma (discount factor) must be in [0, 1]", "nan"]),
    "level 1": ({"level": 1.0}, ["level must be in (0, 1)", "1.0"]),
    "level a string": ({"level": "95%"}, ["level must be in (0, 1)", "'95%'"]),
}  # fmt: skip


@pytest.mark.parametrize("estimator", list(ESTIMATORS))
@pytest.mark.parametrize("case", list(ESTIMATOR_CASES))
def test_estimators_check_gamma_and_level(m, estimator, case):
    kwargs, match = ESTIMATOR_CASES[case]
    rejects(lambda: ESTIMATORS[estimator](m, **kwargs), match=match, unchanged=[m])


@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_estimators_refuse_what_is_not_matrices(estimator):
    rejects(lambda: ESTIMATORS[estimator]({"weights": []}),
            match=["m must be SessionMatrices (from session_matrices)", "dict"])  # fmt: skip
    empty = SessionMatrices(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros((0, 2)), np.zeros((0, 2)))
    rejects(lambda: ESTIMATORS[estimator](empty), match=["m must hold at least one session", "0"])


def test_snips_checks_its_bootstrap(m):
    rng = np.random.default_rng(0)
    rejects(lambda: snips(m, 0), match=["rng must be a numpy.random.Generator", "got 0"],
            unchanged=[m])  # fmt: skip
    rejects(lambda: snips(m, rng, n_boot=0), match=["n_boot must be a positive integer", "0"],
            unchanged=[m, rng])  # fmt: skip
    rejects(lambda: snips(m, rng, n_boot=10.5), match=["n_boot must be a positive integer", "10.5"])


def test_doubly_robust_needs_a_reward_model(log, model):
    plain = session_matrices(log, UniformPolicy(N))
    rejects(lambda: doubly_robust(plain), match=["m must carry a reward model",
                                                 "reward_model=", "q_hat None"], unchanged=[plain])  # fmt: skip


def test_effective_sample_size_refuses_what_is_not_matrices():
    rejects(lambda: effective_sample_size(np.ones((2, 2))),
            match=["m must be SessionMatrices", "ndarray"])  # fmt: skip


def test_fit_reward_model_checks_its_arguments(log):
    rejects(lambda: fit_reward_model(log, smoothing=-1.0),
            match=["smoothing must be a finite number >= 0", "-1.0"], unchanged=[log])  # fmt: skip
    rejects(lambda: fit_reward_model(log, smoothing=NAN), match=["smoothing must be", "nan"])
    rejects(lambda: fit_reward_model([1, 2]), match=["log must be a SessionLog", "list"])
    empty = SessionLog(**good_log(session=np.zeros(0, np.int64), step=np.zeros(0, np.int64),
                                  history=(), action=np.zeros(0, np.int64), propensity=[],
                                  reward=[]))  # fmt: skip
    rejects(lambda: fit_reward_model(empty), match=["log must hold at least one step", "got 0"])


# ---- the experiment -----------------------------------------------------------------------------

EXPERIMENT = {
    "sizes empty": ({"sizes": []}, ["sizes must hold at least one log size", "none"]),
    "sizes zero": ({"sizes": [0]}, ["sizes must be a positive integer", "0"]),
    "sizes negative": ({"sizes": [2, -1]}, ["sizes must be a positive integer", "-1"]),
    "sizes a float": ({"sizes": [2.5]}, ["sizes must be a positive integer", "2.5"]),
    "sizes a string": ({"sizes": "2"}, ["sizes must be a list of positive integers", "'2'"]),
    "sizes repeated": ({"sizes": [2, 2]}, ["sizes must be distinct", "[2, 2]"]),
    "sizes beyond the log": ({"sizes": [2, 7]}, ["sizes must be at most the log's 6 sessions", "7"]),
    "targets empty": ({"targets": {}}, ["targets must be a non-empty mapping name -> StochasticPolicy", "{}"]),
    "targets a list": ({"targets": ["uniform"]}, ["targets must be a non-empty mapping", "['uniform']"]),
    "target not a policy": ({"targets": {"r": RandomAgent(N)}}, ["targets['r'] must be a StochasticPolicy", "RandomAgent"]),
    "target of another catalogue": ({"targets": {"u": UniformPolicy(5)}}, ["targets['u'].n_items must be the log's catalogue size 8", "5"]),
    "estimator unknown": ({"estimators": ["MLE"]}, ["estimators must be one of 'IPS', 'SNIPS', 'DR'", "'MLE'"]),
    "estimators empty": ({"estimators": []}, ["estimators must name at least one estimator", "[]"]),
    "estimators a string": ({"estimators": "IPS"}, ["estimators must be a list of names", "'IPS'"]),
    "DR without a reward log": ({"reward_log": None}, ["reward_log must be a SessionLog of the same catalogue", "None"]),
    "n_boot zero": ({"n_boot": 0}, ["n_boot must be a positive integer", "0"]),
    "gamma negative": ({"gamma": -0.1}, ["gamma (discount factor) must be in [0, 1]", "-0.1"]),
    "seed negative": ({"seed": -1}, ["seed must be a non-negative integer", "-1"]),
    "smoothing negative": ({"smoothing": -2.0}, ["smoothing must be a finite number >= 0", "-2.0"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(EXPERIMENT))
def test_ope_experiment_checks_every_argument_first(log, case):
    changes, match = EXPERIMENT[case]
    targets = {"uniform": UniformPolicy(N)}
    kwargs = {"log": log, "targets": targets, "sizes": [2, 3], "reward_log": log, **changes}
    rejects(lambda: ope_experiment(**kwargs), match=match, unchanged=[log, targets])


def test_ope_experiment_refuses_what_is_not_a_log():
    rejects(lambda: ope_experiment("log", {"u": UniformPolicy(N)}, [1]),
            match=["log must be a SessionLog", "str"])  # fmt: skip


@pytest.fixture(scope="module")
def rows(log) -> pd.DataFrame:
    return ope_experiment(log, {"uniform": UniformPolicy(N)}, [3], estimators=["IPS"])


def test_summarise_ope_checks_rows_and_truth(rows):
    rejects(lambda: summarise_ope(rows.to_dict(), {"uniform": 1.0}),
            match=["rows must be a DataFrame (from ope_experiment)", "dict"])  # fmt: skip
    rejects(lambda: summarise_ope(rows.drop(columns="ess"), {"uniform": 1.0}),
            match=["rows must be a non-empty table with the columns", "missing ['ess']"],
            unchanged=[rows])  # fmt: skip
    rejects(lambda: summarise_ope(rows.iloc[:0], {"uniform": 1.0}),
            match=["rows must be a non-empty table", "got 0 rows"])  # fmt: skip
    rejects(lambda: summarise_ope(rows, {"greedy": 1.0}),
            match=["truth must hold every target of rows", "'uniform'", "['greedy']"],
            unchanged=[rows])  # fmt: skip
    rejects(lambda: summarise_ope(rows, {"uniform": NAN}),
            match=["truth['uniform'] must be a finite number", "nan"])  # fmt: skip
    rejects(lambda: summarise_ope(rows, {"uniform": (1.0, 0.5, 1.5)}),
            match=["truth['uniform'] must be a finite number", "(1.0, 0.5, 1.5)"])  # fmt: skip
    rejects(lambda: summarise_ope(rows, [1.0]), match=["truth must be a mapping", "[1.0]"])


def test_a_frozen_log_and_matrices_cannot_be_changed(log, m):
    with pytest.raises(dataclasses.FrozenInstanceError):
        log.n_items = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.weights = np.ones((1, 1))
