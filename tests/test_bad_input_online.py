"""The bad-input battery, simulator and online evaluation: the user model, the environment, the
agents, the run loops, the statistics, the MovieLens check and the figures.

Every case asserts the exception type, that the message names the bad value (its repr) and
what is allowed, and that nothing changed: environments (their generator included), agents
(their Q-tables included), generators handed in, and pyplot's open figures.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from bad_input import rejects
from hypothesis import given, settings
from hypothesis import strategies as st
from worlds import planted_world

from odsc_recsys.catalog import Catalog
from odsc_recsys.classical import Popularity
from odsc_recsys.online import (
    OracleAgent,
    PopularityAgent,
    QLearningAgent,
    RandomAgent,
    RecommenderAgent,
    SessionStep,
    agent_colors,
    compare_with_movielens,
    evidence_table,
    genre_repeat_rate,
    lead_change,
    learning_curves,
    mean_interval,
    observation_state,
    paired_difference,
    per_seed,
    plot_learning_curves,
    plot_simulator_check,
    run_experiment,
    run_session,
    run_sessions,
    session_seeds,
    simulate_log,
    split_users,
    summarise,
)
from odsc_recsys.qtables import GenreQTables
from odsc_recsys.simulator import (
    ENV_ID,
    MovieLensUserEnv,
    UserModel,
    cascade_click_probabilities,
    default_user_model,
    genre_affinity,
)
from odsc_recsys.simulator.clicks import examination_probabilities
from odsc_recsys.simulator.estimation import (
    auc,
    calibrate_intercept,
    fit_logistic,
    holdout_split,
    normalised_genres,
    rating_matrix,
    shrunk_biases,
    simulated_users,
)

NAN, INF = float("nan"), float("inf")
N = 8  # movies of the planted world; its users are 1..4


@pytest.fixture(scope="module")
def world() -> UserModel:
    return planted_world()


@pytest.fixture
def env(world) -> MovieLensUserEnv:
    """A planted-world environment in the middle of a session (one step taken)."""
    e = MovieLensUserEnv(world, k=2, satiation=0.0)
    e.reset(seed=0)
    e.step([6, 7])
    return e


def q_agent(world: UserModel, **kwargs) -> QLearningAgent:
    tables = GenreQTables(world.primary_genre, world.primary_names, epsilon=0.5)
    return QLearningAgent(tables, **{"pad": N, "k": 2, **kwargs})


def learnt_agent(world: UserModel) -> QLearningAgent:
    """A Q-learning agent whose tables already hold something (so a write would show)."""
    agent = q_agent(world)
    run_sessions(MovieLensUserEnv(world, k=2), agent, n_sessions=3, seed=0)
    return agent


# ---- the environment: constructor ---------------------------------------------------------------

ENV_ARGS = {
    "user_model a string": ({"user_model": "ml-100k"}, ["user_model must be a UserModel", "'ml-100k'"]),
    "k a string": ({"k": "2"}, ["k must be an integer in [1, 8]", "'2'"]),
    "k beyond the catalogue": ({"k": 9}, ["k must be an integer in [1, 8]", "9"]),
    "k a float": ({"k": 2.0}, ["k must be an integer in [1, 8]", "2.0"]),
    "drift infinite": ({"drift": INF}, ["drift must be a finite number in [0, 1]", "inf"]),
    "drift a string": ({"drift": "0.1"}, ["drift must be a finite number", "'0.1'"]),
    "walk drift too large": ({"drift": 11.0, "drift_mode": "walk"}, ["drift must be a finite number in [0, 10]", "11.0"]),
    "drift_mode unknown": ({"drift_mode": "jump"}, ["drift_mode must be one of 'shift', 'walk'", "'jump'"]),
    "drift_mode unhashable": ({"drift_mode": ["shift"]}, ["drift_mode must be one of", "['shift']"]),
    "satiation negative": ({"satiation": -0.5}, ["satiation must be a finite number >= 0", "-0.5"]),
    "satiation_decay above 1": ({"satiation_decay": 1.5}, ["satiation_decay must be a finite number in [0, 1]", "1.5"]),
    "position_decay a string": ({"position_decay": "1"}, ["position_decay must be a finite number >= 0", "'1'"]),
    "miss_cost infinite": ({"miss_cost": INF}, ["miss_cost must be a finite number >= 0", "inf"]),
    "click_gain nan": ({"click_gain": NAN}, ["click_gain must be a finite number", "nan"]),
    "rating_gain None": ({"rating_gain": None}, ["rating_gain must be a finite number", "None"]),
    "leave_prob above 1": ({"leave_prob": 1.5}, ["leave_prob must be a probability in [0, 1]", "1.5"]),
    "rating_weight a bool": ({"rating_weight": True}, ["rating_weight must be a finite number", "True"]),
    "n_start beyond the window": ({"n_start": 4}, ["n_start must be an integer in [0, 3]", "4"]),
    "n_start a float": ({"n_start": 1.0}, ["n_start must be an integer in [0, 3]", "1.0"]),
    "max_steps zero": ({"max_steps": 0}, ["max_steps must be an integer >= 1", "0"]),
    "users a string": ({"users": "12"}, ["users must be a sequence of MovieLens user ids", "'12'"]),
    "users an int": ({"users": 1}, ["users must be a sequence of MovieLens user ids", "1"]),
    "users empty": ({"users": []}, ["users must name at least one MovieLens user id", "[]"]),
    "users a float": ({"users": [1.7]}, ["users[0] must be an integer", "1.7"]),
    "users unknown": ({"users": [1, 99]}, ["unknown user id 99", "user_id must be the MovieLens id", "got 99"]),
    "users negative": ({"users": [-1]}, ["unknown user id -1", "got -1"]),
    "users repeated": ({"users": [1, 2, 1]}, ["users must name each user once", "1 twice"]),
    "render_mode unknown": ({"render_mode": "human"}, ["render_mode must be one of None, 'ansi'", "'human'"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ENV_ARGS))
def test_env_constructor_checks_every_setting(world, case):
    changes, match = ENV_ARGS[case]
    rejects(lambda: MovieLensUserEnv(**{"user_model": world, "k": 2, **changes}), match=match,
            unchanged=[world])  # fmt: skip


def test_gym_make_passes_the_same_refusal(world):
    rejects(lambda: gym.make(ENV_ID, user_model=world, k=2, leave_prob=-0.1),
            match=["leave_prob must be a probability in [0, 1]", "-0.1"])  # fmt: skip


# ---- the environment: reset and step ------------------------------------------------------------

RESET_CASES = {
    "seed a string": ({"seed": "0"}, ["seed must be a non-negative integer", "'0'"]),
    "seed negative": ({"seed": -1}, ["seed must be a non-negative integer", "-1"]),
    "seed a float": ({"seed": 1.5}, ["seed must be a non-negative integer", "1.5"]),
    "seed a bool": ({"seed": True}, ["seed must be a non-negative integer", "True"]),
    "options a list": ({"options": ["user_id"]}, ["options must be a dict or None", "['user_id']"]),
    "unknown option": ({"options": {"user": 1}}, ["unknown reset options ['user']", "'user_id'"]),
    "user_id a float": ({"options": {"user_id": 1.5}}, ["user_id must be an integer", "1.5"]),
    "user_id a string": ({"options": {"user_id": "1"}}, ["user_id must be an integer", "'1'"]),
    "user_id unknown": ({"options": {"user_id": 99}}, ["unknown user id 99", "ids 1..4", "got 99"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(RESET_CASES))
def test_a_refused_reset_leaves_the_session_and_the_generator_alone(env, case):
    kwargs, match = RESET_CASES[case]
    rejects(lambda: env.reset(**kwargs), match=match, unchanged=[env])


SLATES = {
    "unknown movie": ([0, N], ["unknown movie index 8", "0 to 7", "8 at position 1 of the slate"]),
    "negative index would wrap": ([-1], ["unknown movie index -1", "0 to 7", "-1 at position 0 of the slate"]),
    "floats": ([0.0, 1.0], ["integer movie indices in [0, 7]", "float64", "[0.0, 1.0]"]),
    "booleans": ([True, False], ["integer movie indices in [0, 7]", "bool", "[True, False]"]),
    "strings": (["0", "1"], ["integer movie indices in [0, 7]", "['0', '1']"]),
    "None inside": ([0, None], ["integer movie indices in [0, 7]", "[0, None]"]),
    "longer than k": ([0, 1, 2], ["at most k=2 movies", "got 3", "[0, 1, 2]"]),
    "2-d": ([[0, 1]], ["1-d sequence of at most k=2 movie indices", "(1, 2)", "[[0, 1]]"]),
    "a scalar": (3, ["1-d sequence of at most k=2 movie indices", "shape ()", "3"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SLATES))
def test_a_refused_slate_draws_nothing_and_changes_nothing(env, case):
    slate, match = SLATES[case]
    rejects(lambda: env.step(slate), match=match, unchanged=[env])
    rejects(lambda: env.click_probabilities(slate), match=match, unchanged=[env])


def test_duplicates_in_a_slate_stay_a_documented_edge_case_not_an_error(env):
    # The class docstring: only the first copy can be clicked (tests/test_simulator.py).
    assert env.attractiveness([2, 2])[1] == 0.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=2).filter(
    lambda s: any(m < 0 or m >= N for m in s)))  # fmt: skip
def test_any_slate_outside_the_catalogue_is_refused_and_the_env_unchanged(world, slate):
    e = MovieLensUserEnv(world, k=2)
    e.reset(seed=1)
    bad = next(m for m in slate if m < 0 or m >= N)
    rejects(lambda: e.step(np.array(slate)), match=[f"unknown movie index {bad}", "0 to 7"],
            unchanged=[e])  # fmt: skip


# ---- the click model -----------------------------------------------------------------------------

CASCADE = {
    "lengths differ": ([0.5, 0.5], [1.0], ["examination must hold one probability per position", "(2)", "got 1"]),
    "longer examination": ([0.5], [1.0, 0.5], ["examination must hold one probability per position", "got 2"]),
    "nan attraction": ([NAN, 0.5], [1.0, 0.5], ["attractiveness must be finite numbers", "nan at position 0"]),
    "attraction above 1": ([0.5, 1.5], [1.0, 0.5], ["attractiveness must be probabilities in [0, 1]", "1.5"]),
    "negative examination": ([0.5], [-0.1], ["examination must be probabilities in [0, 1]", "-0.1"]),
    "2-d": ([[0.5]], [1.0], ["attractiveness must be a 1-d array", "(1, 1)"]),
    "strings": (["a"], [1.0], ["attractiveness must be finite numbers", "'a'"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASCADE))
def test_cascade_click_probabilities_checks_both_vectors(case):
    v, e, match = CASCADE[case]
    rejects(lambda: cascade_click_probabilities(v, e), match=match)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("3", 1.0), ["k must be a non-negative integer", "'3'"]),
        ((-1, 1.0), ["k must be a non-negative integer", "-1"]),
        ((3, NAN), ["position_decay must be a finite number >= 0", "nan"]),
        ((3, -1.0), ["position_decay must be a finite number >= 0", "-1.0"]),
    ],
    ids=["k a string", "k negative", "decay nan", "decay negative"],
)
def test_examination_probabilities_checks_its_arguments(args, match):
    rejects(lambda: examination_probabilities(*args), match=match)


# ---- the user model --------------------------------------------------------------------------------

X, Y, GENRES = np.ones((2, 1)), np.ones((3, 1)), [("A",), ("B",), ("A", "B")]
TOY = {
    "nan factor": ({"user_factors": np.array([[NAN], [1.0]])}, ["user_factors must be finite numbers", "nan at position (0, 0)"]),
    "infinite item factor": ({"item_factors": np.array([[1.0], [INF], [1.0]])}, ["item_factors must be finite numbers", "inf"]),
    "string factors": ({"user_factors": [["a"]]}, ["user_factors must be finite numbers", "[['a']]"]),
    "no users": ({"user_factors": np.ones((0, 1))}, ["user_factors must be a non-empty (n, f) array", "(0, 1)"]),
    "widths differ": ({"user_factors": np.ones((2, 2))}, ["same width", "(2, 2) and (3, 1)"]),
    "genres a string": ({"item_genres": ["A", "B", "AB"]}, ["at least one genre to each of 3 movies", "movie 0 has 'A'"]),
    "a movie without genre": ({"item_genres": [("A",), (), ("B",)]}, ["at least one genre", "movie 1 has ()"]),
    "a genre twice": ({"item_genres": [("A",), ("B", "B"), ("A",)]}, ["each genre of a movie once", "('B', 'B')"]),
    "a blank genre": ({"item_genres": [("A",), (" ",), ("A",)]}, ["a genre of movie 1 must be a non-empty string", "' '"]),
    "too few genre lists": ({"item_genres": [("A",)]}, ["at least one genre to each of 3 movies", "[('A',)]"]),
    "intercept a string": ({"intercept": "x"}, ["intercept must be a finite number", "'x'"]),
    "rating_mean above 5": ({"rating_mean": 6.0}, ["rating_mean must be a finite number in [1, 5]", "6.0"]),
    "rating_noise negative": ({"rating_noise": -1.0}, ["rating_noise must be a finite number >= 0", "-1.0"]),
    "history wraps": ({"histories": [[-1], [0]]}, ["the history of user 1 must be integers in [0, 2]", "-1"]),
    "history unknown movie": ({"histories": [[0], [3]]}, ["the history of user 2 must be integers in [0, 2]", "3"]),
    "history repeats": ({"histories": [[0, 1, 0], [1]]}, ["the history of user 1 must not repeat", "0 twice"]),
    "history a float": ({"histories": [[0.5], [1]]}, ["the history of user 1 must be integers", "0.5"]),
    "no history for two users": ({"histories": []}, ["histories must hold one sequence per user (2)", "got 0"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(TOY))
def test_toy_model_checks_every_argument(case):
    changes, match = TOY[case]
    args = {"user_factors": X, "item_factors": Y, "item_genres": GENRES, **changes}
    rejects(lambda: UserModel.toy(**args), match=match)


@pytest.mark.parametrize(
    ("user_id", "match"),
    [
        (1.0, ["user_id must be an integer", "1.0"]),
        ("1", ["user_id must be an integer", "'1'"]),
        (True, ["user_id must be an integer", "True"]),
        (99, ["unknown user id 99", "4 simulated users", "got 99"]),
        (0, ["unknown user id 0", "got 0"]),
    ],
    ids=["a float", "a string", "a bool", "unknown", "below the ids"],
)
def test_user_index_takes_only_known_integer_ids(world, user_id, match):
    rejects(lambda: world.user_index(user_id), match=match, unchanged=[world])


@pytest.mark.parametrize(
    ("factors", "theta", "match"),
    [
        (np.ones(3), np.zeros(2), ["factors must be (2,) or (n, 2)", "(3,)"]),
        (np.array([NAN, 1.0]), np.zeros(2), ["factors must be finite numbers", "nan"]),
        (np.ones(2), np.zeros(3), ["theta must have shape (2,)", "(3,)"]),
        (np.ones((4, 2)), np.zeros((3, 2)), ["theta must have shape (n, 2)", "(3, 2)"]),
    ],
    ids=["factor width", "nan factor", "theta width", "row counts differ"],
)
def test_logits_check_the_taste_against_the_model(world, factors, theta, match):
    rejects(lambda: world.logits(factors, theta), match=match, unchanged=[world])


def small_fit_inputs() -> tuple[Catalog, dict[int, np.ndarray], pd.DataFrame]:
    catalog = Catalog(item_ids=np.array([1, 2, 3]), titles=["a", "b", "c"],
                      genres=[("A",), ("B",), ("A",)], popularity=np.zeros(3, dtype=np.int64))  # fmt: skip
    histories = {1: np.array([0, 1]), 2: np.array([1, 2])}
    ratings = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": [1, 2, 2, 3],
                            "rating": [4.0, 3.0, 5.0, 2.0]})  # fmt: skip
    return catalog, histories, ratings


FIT = {
    "seed negative": ({"seed": -1}, ["seed must be a non-negative integer", "-1"]),
    "seed a string": ({"seed": "0"}, ["seed must be a non-negative integer", "'0'"]),
    "n_factors a string": ({"n_factors": "16"}, ["n_factors must be an integer >= 1", "'16'"]),
    "smoothing infinite": ({"smoothing": INF}, ["smoothing must be a finite number", "inf"]),
    "holdout a string": ({"holdout": "0.2"}, ["holdout must be in (0, 1)", "'0.2'"]),
    "catalog a list": ({"catalog": [1, 2, 3]}, ["catalog must be a Catalog", "list"]),
    "histories a list": ({"histories": [np.array([0, 1])]}, ["histories must be a dict", "list"]),
    "history wraps": ({"histories": {1: np.array([0, -1]), 2: np.array([1, 2])}}, ["the history of user 1 must be integers in [0, 2]", "-1"]),
    "history repeats": ({"histories": {1: np.array([0, 0]), 2: np.array([1, 2])}}, ["the history of user 1 must not repeat", "0 twice"]),
    "rating nan": ({"ratings": pd.DataFrame({"user_id": [1], "item_id": [1], "rating": [NAN]})}, ["ratings['rating'] must be finite numbers", "nan"]),
    "ratings without ratings": ({"ratings": pd.DataFrame({"user_id": [1], "item_id": [1]})}, ["ratings must have the columns user_id, item_id and rating", "missing ['rating']"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(FIT))
def test_from_histories_checks_before_fitting(case):
    catalog, histories, ratings = small_fit_inputs()
    args = {"catalog": catalog, "histories": histories, "ratings": ratings, **FIT[case][0]}
    rejects(lambda: UserModel.from_histories(**args), match=FIT[case][1],
            unchanged=[histories, ratings])  # fmt: skip


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: UserModel.from_movielens(n_items="627"), ["n_items must be a positive integer", "'627'"]),
        (lambda: UserModel.from_movielens(seed=1.5), ["seed must be a non-negative integer", "1.5"]),
        (lambda: UserModel.from_movielens(n_factor=8), ["keyword argument must be one of 'n_factors'", "'n_factor'"]),
        (lambda: UserModel.from_ratings([], [], n_items=0), ["n_items must be a positive integer or None", "0"]),
        (lambda: UserModel.from_ratings([], []), ["ratings must be a DataFrame", "list"]),
    ],
    ids=["n_items a string", "seed a float", "misspelt option", "n_items zero", "ratings a list"],
)  # fmt: skip
def test_the_builders_check_before_loading_anything(call, match):
    rejects(call, match=match)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([627],), ["n_items must be a positive integer", "[627]"]),
        (("627",), ["n_items must be a positive integer", "'627'"]),
        ((0,), ["n_items must be a positive integer", "0"]),
        ((627, -1), ["seed must be a non-negative integer", "-1"]),
    ],
    ids=["unhashable n_items", "n_items a string", "n_items zero", "seed negative"],
)
def test_default_user_model_checks_before_its_cache(args, match):
    from odsc_recsys.simulator.user_model import _cached_user_model

    before = _cached_user_model.cache_info()
    rejects(lambda: default_user_model(*args), match=match)
    assert _cached_user_model.cache_info() == before  # not even a cache miss


# ---- the fit's steps -------------------------------------------------------------------------------

ESTIMATION = {
    "affinity smoothing zero": (lambda: genre_affinity(np.ones((1, 2)), [0.5, 0.5], 0.0), ["smoothing must be a finite number > 0", "0.0"]),
    "affinity smoothing a string": (lambda: genre_affinity(np.ones((1, 2)), [0.5, 0.5], "1"), ["smoothing must be a finite number > 0", "'1'"]),
    "affinity negative counts": (lambda: genre_affinity(-np.ones((1, 2)), [0.5, 0.5], 1.0), ["counts must be >= 0", "-1.0"]),
    "affinity base share zero": (lambda: genre_affinity(np.ones((1, 2)), [1.0, 0.0], 1.0), ["base_share must be positive", "0.0"]),
    "affinity shares of other genres": (lambda: genre_affinity(np.ones((1, 2)), [1.0], 1.0), ["base_share must have shape (2)", "(1,)"]),
    "logistic labels not 0/1": (lambda: fit_logistic(np.ones((2, 1)), [0.0, 2.0]), ["y must be 0 or 1", "2.0 at position 1"]),
    "logistic n_iter zero": (lambda: fit_logistic(np.ones((2, 1)), [0.0, 1.0], n_iter=0), ["n_iter must be a positive integer", "0"]),
    "logistic nan feature": (lambda: fit_logistic(np.array([[NAN], [1.0]]), [0.0, 1.0]), ["x must be finite numbers", "nan"]),
    "auc lengths differ": (lambda: auc([0.1, 0.2], [1]), ["labels must have shape (2)", "(1,)"]),
    "intercept target a string": (lambda: calibrate_intercept(np.zeros(3), "0.1"), ["the target click share must be in (0, 1)", "'0.1'"]),
    "intercept of nothing": (lambda: calibrate_intercept(np.zeros(0), 0.1), ["base must hold at least one number", "empty"]),
    "negative genre weight": (lambda: normalised_genres([[1.0, -1.0]]), ["genre_matrix must be a non-empty (n_items, n_genres) array of weights >= 0", "-1.0"]),
    "holdout wraps": (lambda: holdout_split((np.array([0, -1]),), 3, 0.2, 0), ["history 0 must be integers in [0, 2]", "-1"]),
    "holdout unknown movie": (lambda: holdout_split((np.array([0, 3]),), 3, 0.2, 0), ["history 0 must be integers in [0, 2]", "3"]),
    "holdout empty history": (lambda: holdout_split((np.array([], dtype=int),), 3, 0.2, 0), ["history 0 must not be empty", "array([]"]),
    "holdout seed a float": (lambda: holdout_split((np.array([0]),), 3, 0.2, 0.5), ["seed must be a non-negative integer", "0.5"]),
    "min_history zero": (lambda: simulated_users({1: [0]}, 0), ["min_history must be an integer >= 1", "0"]),
    "rating users repeated": (lambda: rating_matrix(small_fit_inputs()[2], np.array([1, 1]), small_fit_inputs()[0]), ["users must not repeat an id", "1 twice"]),
    "biases of nothing": (lambda: shrunk_biases(np.zeros((2, 2)), np.zeros((2, 2), dtype=bool), 1.0), ["watched must mark at least one rated cell", "none"]),
    "biases of an int mask": (lambda: shrunk_biases(np.zeros((2, 2)), np.ones((2, 2), dtype=int), 1.0), ["watched must be a 2-d boolean array", "int64"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ESTIMATION))
def test_the_fit_steps_check_their_inputs(case):
    call, match = ESTIMATION[case]
    rejects(call, match=match)


# ---- agents: constructors --------------------------------------------------------------------------

AGENTS = {
    "random n_items a string": (lambda w: RandomAgent("8"), ["n_items must be a positive integer", "'8'"]),
    "random n_items a float": (lambda w: RandomAgent(8.5), ["n_items must be a positive integer", "8.5"]),
    "random k a string": (lambda w: RandomAgent(8, k="2"), ["k must be a positive integer", "'2'"]),
    "popularity nan": (lambda w: PopularityAgent([1.0, NAN]), ["popularity must be finite numbers", "nan at position 1"]),
    "popularity empty": (lambda w: PopularityAgent([]), ["popularity must not be empty", "array([]"]),
    "popularity 2-d": (lambda w: PopularityAgent([[1.0, 2.0]]), ["popularity must be a 1-d array", "(1, 2)"]),
    "popularity strings": (lambda w: PopularityAgent(["a", "b"]), ["popularity must be finite numbers", "['a', 'b']"]),
    "recommender not a model": (lambda w: RecommenderAgent("popularity"), ["model must be a fitted Recommender", "str"]),
    "recommender empty name": (lambda w: RecommenderAgent(Popularity().fit([[0, 1]], 8), name=""), ["name must be a non-empty string", "''"]),
    "oracle of a wrapped env": (lambda w: OracleAgent(gym.make(ENV_ID, user_model=w, k=2)), ["env must be a MovieLensUserEnv", "env.unwrapped"]),
    "oracle k beyond the env": (lambda w: OracleAgent(MovieLensUserEnv(w, k=2), k=3), ["k must be an integer in [1, 2]", "3"]),
    "q tables missing": (lambda w: QLearningAgent(None, pad=N), ["tables must be Q-tables", "NoneType"]),
    "q pad a string": (lambda w: q_agent(w, pad="8"), ["pad must be an integer", "'8'"]),
    "q pad not the catalogue": (lambda w: q_agent(w, pad=9), ["pad must equal the catalogue size 8", "9"]),
    "q reward_scale nan": (lambda w: q_agent(w, reward_scale=NAN), ["reward_scale must be a finite number > 0", "nan"]),
    "q reward_scale a string": (lambda w: q_agent(w, reward_scale="15"), ["reward_scale must be a finite number > 0", "'15'"]),
    "q reward_scale zero": (lambda w: q_agent(w, reward_scale=0.0), ["reward_scale must be a finite number > 0", "0.0"]),
    "q penalty negative": (lambda w: q_agent(w, penalty=-1.0), ["penalty must be a finite number >= 0", "-1.0"]),
    "q penalty infinite": (lambda w: q_agent(w, penalty=INF), ["penalty must be a finite number >= 0", "inf"]),
    "q learn_online a string": (lambda w: q_agent(w, learn_online="no"), ["learn_online must be True or False", "'no'"]),
    "q learn_online an int": (lambda w: q_agent(w, learn_online=1), ["learn_online must be True or False", "1"]),
    "q empty name": (lambda w: q_agent(w, name=" "), ["name must be a non-empty string", "' '"]),
    "q k zero": (lambda w: q_agent(w, k=0), ["k must be a positive integer", "0"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(AGENTS))
def test_agent_constructors_check_every_argument(world, case):
    make, match = AGENTS[case]
    rejects(lambda: make(world), match=match, unchanged=[world])


def test_an_unfitted_model_is_the_protocol_s_call_fit_first(world):
    rejects(lambda: RecommenderAgent(Popularity()), exc=RuntimeError,
            match=["Popularity is not fitted", "call fit() first"])  # fmt: skip


# ---- agents: act and learn -------------------------------------------------------------------------

ACT = {
    "random history wraps": (lambda w: RandomAgent(N, k=2), np.array([N, N, 1]), [1, -1], ["unknown item index -1", "0 to 7"]),
    "random history unknown": (lambda w: RandomAgent(N, k=2), np.array([N, N, 1]), [N], ["unknown item index 8", "0 to 7"]),
    "popularity history float": (lambda w: PopularityAgent(np.arange(8.0), k=2), None, [1.5], ["integer item indices", "1.5"]),
    "q observation nan": (q_agent, np.array([N, 1, NAN]), [1], ["observation must be integers in [0, 8]", "nan at position 2"]),
    "q observation beyond padding": (q_agent, np.array([N, 1, N + 1]), [1], ["observation must be integers in [0, 8]", "9 at position 2"]),
    "q observation negative": (q_agent, np.array([N, 1, -1]), [1], ["observation must be integers in [0, 8]", "-1"]),
    "q history wraps": (q_agent, np.array([N, N, 1]), [1, -1], ["unknown item index -1", "0 to 7"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ACT))
def test_act_refuses_bad_histories_and_observations_without_drawing(world, case):
    make, observation, history, match = ACT[case]
    agent, rng = make(world), np.random.default_rng(0)
    rejects(lambda: agent.act(observation, np.asarray(history), rng), match=match,
            unchanged=[agent, rng])  # fmt: skip


@pytest.mark.parametrize(
    "rng", [None, 0, np.random.RandomState(0)], ids=["None", "a seed", "a RandomState"]
)
def test_exploring_agents_need_a_generator(world, rng):
    for agent in (RandomAgent(N, k=2), q_agent(world)):
        rejects(lambda a=agent: a.act(np.array([N, N, 1]), np.array([1]), rng),
                match=["rng must be a numpy.random.Generator", repr(rng)], unchanged=[agent])  # fmt: skip


OBS, NEXT, SLATE = np.array([N, 0, 1]), np.array([0, 1, 6]), np.array([6, 3])
STEPS = {
    "reward nan": ({"reward": NAN}, ["reward must be a finite number", "nan"]),
    "reward inf": ({"reward": -INF}, ["reward must be a finite number", "-inf"]),
    "reward a string": ({"reward": "1"}, ["reward must be a finite number", "'1'"]),
    "clicked half a movie": ({"clicked": 0.5}, ["clicked must be an integer >= -1", "0.5"]),
    "clicked nan": ({"clicked": NAN}, ["clicked must be an integer >= -1", "nan"]),
    "clicked -2": ({"clicked": -2}, ["clicked must be an integer >= -1", "-2"]),
    "clicked not shown": ({"clicked": 5}, ["clicked must be -1 (no click) or a movie of the slate", "[6, 3]", "got 5"]),
    "slate wraps": ({"slate": np.array([6, -1])}, ["slate must be integers in [0, 7]", "-1"]),
    "slate unknown": ({"slate": np.array([6, N])}, ["slate must be integers in [0, 7]", "8"]),
    "slate floats": ({"slate": np.array([6.0, 3.0])}, ["slate must be integers in [0, 7]", "6.0"]),
    "slate repeats": ({"slate": np.array([6, 6])}, ["repeats a movie", "[6, 6]"]),
    "done a string": ({"done": "no"}, ["done must be True or False", "'no'"]),
    "done an int": ({"done": 0}, ["done must be True or False", "0"]),
    "observation nan": ({"observation": np.array([N, 0, NAN])}, ["observation must be integers in [0, 8]", "nan"]),
    "next observation unknown": ({"next_observation": np.array([0, 1, 9])}, ["next_observation must be integers in [0, 8]", "9"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(STEPS))
def test_a_refused_step_writes_nothing_into_the_q_tables(world, case):
    changes, match = STEPS[case]
    step = {"observation": OBS, "slate": SLATE, "clicked": 6, "reward": 1.0,
            "next_observation": NEXT, "done": False, **changes}  # fmt: skip
    agent = learnt_agent(world)
    rejects(lambda: agent.learn(**step), match=match, unchanged=[agent])
    rejects(lambda: agent.learn_step(SessionStep(**step)), match=match[-1:], unchanged=[agent])


def test_a_static_agent_refuses_the_same_steps(world):
    agent = RandomAgent(N, k=2)
    rejects(lambda: agent.learn(OBS, SLATE, 6, NAN, NEXT, False),
            match=["reward must be a finite number", "nan"], unchanged=[agent])  # fmt: skip


def test_learn_step_needs_a_session_step(world):
    agent = q_agent(world)
    rejects(lambda: agent.learn_step((OBS, SLATE, 6, 1.0, NEXT, False)),
            match=["step must be a SessionStep", "tuple"], unchanged=[agent])  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.sampled_from([NAN, INF, -INF, None, [1.0], np.float64("nan")]),
                 st.text(max_size=4), st.booleans(), st.complex_numbers()))  # fmt: skip
def test_any_non_finite_or_non_numeric_reward_writes_nothing(world, reward):
    agent = q_agent(world)
    rejects(lambda: agent.learn(OBS, SLATE, 6, reward, NEXT, False),
            match=["reward must be a finite number", repr(reward)], unchanged=[agent])  # fmt: skip
    assert agent.updates == 0


@settings(max_examples=30, deadline=None)
@given(st.integers(-(10**6), 10**6).filter(lambda c: c not in (-1, 6, 3)))
def test_any_click_outside_the_slate_is_refused(world, clicked):
    agent = q_agent(world)
    rejects(lambda: agent.learn(OBS, SLATE, clicked, 1.0, NEXT, False),
            match=["clicked must be", repr(clicked)], unchanged=[agent])  # fmt: skip


@pytest.mark.parametrize(
    ("observation", "pad", "match"),
    [
        (np.array([N, 1, 2]), "8", ["pad must be a positive integer", "'8'"]),
        (np.array([N, 1, 2]), 0, ["pad must be a positive integer", "0"]),
        (np.array([N, 1, 1.5]), N, ["observation must be integers in [0, 8]", "1.5"]),
        (np.array([N, 1, -1]), N, ["observation must be integers in [0, 8]", "-1"]),
        (np.array([[N, 1, 2]]), N, ["observation must be a 1-d sequence of integers", "array([[8, 1, 2]])"]),
    ],
    ids=["pad a string", "pad zero", "a float movie", "a negative movie", "2-d"],
)  # fmt: skip
def test_observation_state_reads_only_padded_movie_indices(observation, pad, match):
    rejects(lambda: observation_state(observation, pad), match=match)


# ---- run loops ---------------------------------------------------------------------------------------


def run_session_cases(world: UserModel) -> dict[str, tuple[dict, list[str]]]:
    wrapped = gym.make(ENV_ID, user_model=world, k=2)
    return {
        "env wrapped": ({"env": wrapped}, ["env must be a MovieLensUserEnv", "env.unwrapped"]),
        "agent missing": ({"agent": None}, ["agent must be an Agent", "NoneType"]),
        "rng a seed": ({"rng": 0}, ["rng must be a numpy.random.Generator", "got 0"]),
        "seed negative": ({"seed": -1}, ["seed must be a non-negative integer", "-1"]),
        "seed a string": ({"seed": "5"}, ["seed must be a non-negative integer", "'5'"]),
        "user unknown": ({"user_id": 99}, ["unknown user id 99", "got 99"]),
        "user a float": ({"user_id": 1.5}, ["user_id must be an integer", "1.5"]),
        "shown a list": ({"shown": [False] * N}, ["shown must be a writable boolean array of shape (8,)", "[False"]),
        "shown too short": ({"shown": np.zeros(3, dtype=bool)}, ["shown must be a writable boolean array of shape (8,)", "array([False, False, False])"]),
        "shown ints": ({"shown": np.zeros(N, dtype=int)}, ["shown must be a writable boolean array", "array([0, 0"]),
        "log a tuple": ({"log": ()}, ["log must be a list or None", "()"]),
        "slates longer than the env's": ({"agent": RandomAgent(N, k=3)}, ["agent.k must be at most env.k=2", "3"]),
        "another catalogue": ({"agent": RandomAgent(9, k=2)}, ["agent.n_items must be the environment's catalogue size 8", "9"]),
    }  # fmt: skip


@pytest.mark.parametrize("case", list(run_session_cases(planted_world())))
def test_run_session_checks_before_the_reset(world, env, case):
    changes, match = run_session_cases(world)[case]
    agent, rng = q_agent(world), np.random.default_rng(0)
    args = {"env": env, "agent": agent, "rng": rng, **changes}
    rejects(lambda: run_session(**args), match=match, unchanged=[env, agent, rng])


def test_a_read_only_shown_array_is_refused(world, env):
    shown = np.zeros(N, dtype=bool)
    shown.flags.writeable = False
    agent = RandomAgent(N, k=2)
    rejects(lambda: run_session(env, agent, np.random.default_rng(0), shown=shown),
            match=["shown must be a writable boolean array"], unchanged=[env, agent])  # fmt: skip


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("3", 4), ["seed must be a non-negative integer", "'3'"]),
        ((1.5, 4), ["seed must be a non-negative integer", "1.5"]),
        ((-1, 4), ["seed must be a non-negative integer", "-1"]),
        ((3, -1), ["n_sessions must be a non-negative integer", "-1"]),
        ((3, 4.0), ["n_sessions must be a non-negative integer", "4.0"]),
    ],
    ids=[
        "seed a string",
        "seed a float",
        "seed negative",
        "n_sessions negative",
        "n_sessions a float",
    ],
)
def test_session_seeds_take_integer_seeds(args, match):
    rejects(lambda: session_seeds(*args), match=match)


RUNS = {
    "sessions zero": ({"n_sessions": 0}, ["n_sessions must be a positive integer", "0"]),
    "sessions a string": ({"n_sessions": "3"}, ["n_sessions must be a positive integer", "'3'"]),
    "seed a float": ({"seed": 0.5}, ["seed must be a non-negative integer", "0.5"]),
    "start negative": ({"start": -1}, ["start must be a non-negative integer", "-1"]),
    "coverage before start": ({"start": 3, "coverage_from": 1}, ["coverage_from must be an integer >= 3", "1"]),
    "agent a factory": ({"agent": lambda seed: RandomAgent(N, k=2)}, ["agent must be an Agent", "function"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(RUNS))
def test_run_sessions_checks_before_the_first_session(world, env, case):
    changes, match = RUNS[case]
    agent = q_agent(world)
    args = {"env": env, "agent": agent, "n_sessions": 2, "seed": 0, **changes}
    rejects(lambda: run_sessions(**args), match=match, unchanged=[env, agent])


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"n_sessions": 0}, ["n_sessions must be a positive integer", "0"]),
        ({"seed": "0"}, ["seed must be a non-negative integer", "'0'"]),
        ({"agent": RandomAgent(N, k=5)}, ["agent.k must be at most env.k=2", "5"]),
    ],
    ids=["no sessions", "seed a string", "slates too long"],
)
def test_simulate_log_checks_before_the_first_session(world, env, changes, match):
    agent = RandomAgent(N, k=2)
    args = {"env": env, "agent": agent, "n_sessions": 2, "seed": 0, **changes}
    rejects(lambda: simulate_log(**args), match=match, unchanged=[env, agent])


EXPERIMENTS = {
    "seeds a string": ({"seeds": "01"}, ["seeds must be an iterable of non-negative integers", "'01'"]),
    "seeds an int": ({"seeds": 3}, ["seeds must be an iterable of non-negative integers", "3"]),
    "seeds empty": ({"seeds": []}, ["seeds must hold at least one seed", "none"]),
    "a seed twice": ({"seeds": [0, 1, 0]}, ["seeds must be distinct", "0 twice"]),
    "a float seed": ({"seeds": [0, 0.5]}, ["seeds must be a non-negative integer", "0.5"]),
    "no settings": ({"envs": {}}, ["envs must be a non-empty mapping", "{}"]),
    "a setting that is not an env": ({"envs": {"off": None}}, ["envs['off'] must be a MovieLensUserEnv", "NoneType"]),
    "no agents": ({"agents": {}}, ["agents must be a non-empty mapping", "{}"]),
    "an agent instead of a factory": ({"agents": {"r": RandomAgent(N, k=2)}}, ["agents['r'] must be a factory seed -> Agent", "RandomAgent"]),
    "sessions zero": ({"n_sessions": 0}, ["n_sessions must be a positive integer", "0"]),
    "coverage before start": ({"start": 2, "coverage_from": 0}, ["coverage_from must be an integer >= 2", "0"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(EXPERIMENTS))
def test_run_experiment_checks_everything_before_any_run(world, env, case):
    changes, match = EXPERIMENTS[case]
    made: list[int] = []

    def factory(seed: int) -> RandomAgent:
        made.append(seed)
        return RandomAgent(N, k=2)

    args = {"envs": {"off": env}, "agents": {"random": factory}, "seeds": [0, 1],
            "n_sessions": 2, **changes}  # fmt: skip
    rejects(lambda: run_experiment(**args), match=match, unchanged=[env])
    assert made == []  # no agent was even built


# ---- statistics ------------------------------------------------------------------------------------


def results() -> pd.DataFrame:
    rows = [{"setting": "s", "agent": agent, "seed": seed, "session": session, "clicks": c,
             "steps": 2, "reward": float(c), "coverage": 0.1}
            for agent in ("a", "b") for seed in range(3) for session, c in enumerate((1, 2))]  # fmt: skip
    return pd.DataFrame(rows)


STATISTICS = {
    "per_seed of a list": (lambda r: per_seed([1, 2], "reward"), ["results must be a DataFrame", "list"]),
    "per_seed of nothing": (lambda r: per_seed(r.iloc[:0], "reward"), ["results must hold at least one session", "empty"]),
    "per_seed without seeds": (lambda r: per_seed(r.drop(columns="seed"), "reward"), ["results must have the columns", "missing ['seed']"]),
    "per_seed unknown metric": (lambda r: per_seed(r, "joy"), ["unknown metric 'joy'", "metric must be one of", "'ctr'"]),
    "per_seed metric not a name": (lambda r: per_seed(r, 3), ["unknown metric 3", "got 3"]),
    "per_seed by a bare string": (lambda r: per_seed(r, "reward", by="agent"), ["by must be a list of column names", "'agent'"]),
    "per_seed by an unknown column": (lambda r: per_seed(r, "reward", by=["team"]), ["results must have the columns", "missing ['team']"]),
    "ctr without clicks": (lambda r: per_seed(r.drop(columns="clicks"), "ctr"), ["metric 'ctr' needs the columns", "missing ['clicks']"]),
    "summarise a bare string": (lambda r: summarise(r, "ctr"), ["metrics must be a list of column names", "'ctr'"]),
    "summarise nothing": (lambda r: summarise(r, []), ["metrics must name at least one metric", "none"]),
    "summarise a metric twice": (lambda r: summarise(r, ["ctr", "ctr"]), ["metrics must not repeat a name", "['ctr', 'ctr']"]),
    "summarise an unknown metric": (lambda r: summarise(r, ["joy"]), ["unknown metric 'joy'", "got 'joy'"]),
    "summarise level zero": (lambda r: summarise(r, ["ctr"], level=0.0), ["level must be in (0, 1)", "0.0"]),
    "paired with itself": (lambda r: paired_difference(r, "reward", "a", "a"), ["b must differ from the other side", "'a'"]),
    "paired unknown agent": (lambda r: paired_difference(r, "reward", "a", "zz"), ["unknown agent 'zz'", "['a', 'b']"]),
    "paired between seeds": (lambda r: paired_difference(r, "reward", "a", "b", between="seed"), ["between must be one of 'agent', 'setting'", "'seed'"]),
    "paired level a string": (lambda r: paired_difference(r, "reward", "a", "b", level="95%"), ["level must be in (0, 1)", "'95%'"]),
    "curves block a float": (lambda r: learning_curves(r, "ctr", block=2.5), ["block must be a positive integer", "2.5"]),
    "curves block a string": (lambda r: learning_curves(r, "ctr", block="5"), ["block must be a positive integer", "'5'"]),
    "curves level nan": (lambda r: learning_curves(r, "ctr", level=NAN), ["level must be in (0, 1)", "nan"]),
    "curves without sessions": (lambda r: learning_curves(r.drop(columns="session"), "ctr"), ["results must have the columns", "missing ['session']"]),
    "lead window reversed": (lambda r: lead_change(r, "a", "b", "reward", (1, 0), (1, 2)), ["first must be a window (start, stop)", "0 <= start < stop", "(1, 0)"]),
    "lead window of floats": (lambda r: lead_change(r, "a", "b", "reward", (0, 1), (0.5, 2)), ["last must be a window", "(0.5, 2)"]),
    "lead window negative": (lambda r: lead_change(r, "a", "b", "reward", (-1, 1), (1, 2)), ["first must be a window", "(-1, 1)"]),
    "lead window a string": (lambda r: lead_change(r, "a", "b", "reward", "ab", (1, 2)), ["first must be a window", "'ab'"]),
    "lead window of one": (lambda r: lead_change(r, "a", "b", "reward", (0,), (1, 2)), ["first must be a window", "(0,)"]),
    "lead against itself": (lambda r: lead_change(r, "a", "a", "reward", (0, 1), (1, 2)), ["baseline must differ", "'a'"]),
    "lead unknown metric": (lambda r: lead_change(r, "a", "b", "joy", (0, 1), (1, 2)), ["unknown metric 'joy'", "got 'joy'"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(STATISTICS))
def test_statistics_check_their_inputs(case):
    call, match = STATISTICS[case]
    res = results()
    rejects(lambda: call(res), match=match, unchanged=[res])


MEAN_INTERVAL = {
    "a nan": (([1.0, NAN],), ["values must be finite numbers", "nan at position 1"]),
    "an infinity": (([INF, 1.0],), ["values must be finite numbers", "inf at position 0"]),
    "strings": ((["1", "2"],), ["values must be finite numbers", "['1', '2']"]),
    "a bare string": (("12",), ["values must be a sequence of finite numbers", "'12'"]),
    "a number": ((5.0,), ["values must be a sequence of finite numbers", "5.0"]),
    "empty": (([],), ["values must hold at least one number", "[]"]),
    "2-d": (([[1.0, 2.0]],), ["values must be a 1-d array", "(1, 2)"]),
    "level 1": (([1.0, 2.0], 1.0), ["level must be in (0, 1)", "1.0"]),
    "level a string": (([1.0, 2.0], "0.95"), ["level must be in (0, 1)", "'0.95'"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MEAN_INTERVAL))
def test_mean_interval_takes_finite_numbers_and_a_level(case):
    args, match = MEAN_INTERVAL[case]
    rejects(lambda: mean_interval(*args), match=match)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=6),
       st.sampled_from([NAN, INF, -INF]), st.integers(0, 6))  # fmt: skip
def test_one_non_finite_value_anywhere_is_refused(values, bad, where):
    values.insert(min(where, len(values)), bad)
    rejects(lambda: mean_interval(values), match=["values must be finite numbers", repr(bad)])


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.floats().filter(lambda x: not 0.0 < x < 1.0), st.sampled_from(["0.9", None])))
def test_any_level_outside_the_open_unit_interval_is_refused(level):
    rejects(
        lambda: mean_interval([1.0, 2.0], level), match=["level must be in (0, 1)", repr(level)]
    )


EVIDENCE = {
    "empty": (({},), ["evidence must be a mapping with at least one", "{}"]),
    "a list": (([(1.0, 0.0, 2.0)],), ["evidence must be a mapping", "[(1.0, 0.0, 2.0)]"]),
    "a nan row": (({("c", "e"): (NAN, 0.0, 1.0)},), ["evidence[('c', 'e')] must be finite numbers", "nan"]),
    "two numbers": (({("c", "e"): (1.0, 2.0)},), ["evidence[('c', 'e')] must have shape (3)", "(2,)"]),
    "strings": (({("c", "e"): ("a", "a", "b")},), ["evidence[('c', 'e')] must be finite numbers", "('a', 'a', 'b')"]),
    "mean outside": (({("c", "e"): (1.0, 2.0, 3.0)},), ["low <= mean <= high", "(1.0, 2.0, 3.0)"]),
    "a bare key": (({"claim": (1.0, 0.0, 2.0)},), ["evidence keys must be (claim, evidence) pairs", "'claim'"]),
    "equal readings": (({("c", "e"): (1.0, 0.0, 2.0)}, "Q", "Q"), ["higher and lower must differ", "higher='Q'"]),
    "an empty reading": (({("c", "e"): (1.0, 0.0, 2.0)}, ""), ["higher must be a non-empty string", "''"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(EVIDENCE))
def test_evidence_table_checks_every_row(case):
    args, match = EVIDENCE[case]
    rejects(lambda: evidence_table(*args), match=match)


# ---- the user split and the MovieLens check -------------------------------------------------------

SPLIT = {
    "an id twice": ((np.array([5, 6, 5, 7]), 1, 0), ["user_ids must be distinct", "5 twice"]),
    "float ids": ((np.array([1.5, 2.0, 3.0]), 1, 0), ["user_ids must be a 1-d sequence of integer user ids", "1.5"]),
    "one user": (([5], 1, 0), ["user_ids must hold at least two users", "[5]"]),
    "no users": (([], 1, 0), ["user_ids must hold at least two users", "[]"]),
    "2-d ids": ((np.array([[1, 2], [3, 4]]), 1, 0), ["user_ids must be a 1-d sequence", "array([[1, 2]"]),
    "seed negative": ((np.arange(5), 2, -1), ["seed must be a non-negative integer", "-1"]),
    "seed a string": ((np.arange(5), 2, "0"), ["seed must be a non-negative integer", "'0'"]),
    "everybody simulated": ((np.arange(5), 5, 0), ["n_simulated must be an integer in [1, 4]", "5"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SPLIT))
def test_split_users_checks_the_ids_the_size_and_the_seed(case):
    args, match = SPLIT[case]
    rejects(lambda: split_users(*args), match=match)


@pytest.mark.parametrize(
    ("sequences", "genre", "match"),
    [
        ([np.array([0, -1])], np.array([0, 1, 1]), ["sequence 0 must be integers in [0, 2]", "-1"]),
        ([np.array([0, 1]), np.array([0, 9])], np.array([0, 1, 1]), ["sequence 1 must be integers in [0, 2]", "9"]),
        ([np.array([0, 1])], np.array([0.0, 1.0]), ["genre must be a non-empty 1-d array of integer genre codes", "0., 1."]),
        ("01", np.array([0, 1]), ["sequences must be an iterable of arrays", "'01'"]),
    ],
    ids=["a movie that wraps", "an unknown movie", "float genres", "a bare string"],
)  # fmt: skip
def test_genre_repeat_rate_reads_only_catalogue_movies(sequences, genre, match):
    rejects(lambda: genre_repeat_rate(sequences, genre), match=match)


@pytest.fixture(scope="module")
def sim_log(world) -> pd.DataFrame:
    return simulate_log(MovieLensUserEnv(world, k=2, satiation=0.0), RandomAgent(N, k=2),
                        n_sessions=10, seed=0)  # fmt: skip


STARS = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 3], "rating": [1, 4, 5]})
CHECKS = {
    "not a user model": (lambda w, log: compare_with_movielens(None, {"sim": log}, STARS), ["model must be a UserModel", "NoneType"]),
    "no logs": (lambda w, log: compare_with_movielens(w, {}, STARS), ["logs must be a non-empty mapping", "{}"]),
    "a log named MovieLens": (lambda w, log: compare_with_movielens(w, {"MovieLens": log}, STARS), ["a log label must be a non-empty string other than 'MovieLens'", "'MovieLens'"]),
    "a log without clicks column": (lambda w, log: compare_with_movielens(w, {"sim": log.drop(columns="clicked")}, STARS), ["logs['sim'] must be a DataFrame with the columns", "'clicked'"]),
    "a click that wraps": (lambda w, log: compare_with_movielens(w, {"sim": log.assign(clicked=-2)}, STARS), ["logs['sim']['clicked'] must be integers in [-1, 7]", "-2"]),
    "a click on an unknown movie": (lambda w, log: compare_with_movielens(w, {"sim": log.assign(clicked=N)}, STARS), ["logs['sim']['clicked'] must be integers in [-1, 7]", "8"]),
    "a click rated 0": (lambda w, log: compare_with_movielens(w, {"sim": log.assign(clicked=6, rating=0)}, STARS), ["logs['sim']['rating'] of a click must be whole stars 1..5", "[0]"]),
    "an unknown user": (lambda w, log: compare_with_movielens(w, {"sim": log.assign(user_id=99)}, STARS), ["unknown user id 99", "got 99"]),
    "a nan rating": (lambda w, log: compare_with_movielens(w, {"sim": log}, STARS.assign(rating=[1.0, NAN, 5.0])), ["ratings['rating'] must be finite numbers", "nan"]),
    "half a star": (lambda w, log: compare_with_movielens(w, {"sim": log}, STARS.assign(rating=[1.0, 3.5, 5.0])), ["ratings['rating'] must be whole stars 1..5", "3.5"]),
    "six stars": (lambda w, log: compare_with_movielens(w, {"sim": log}, STARS.assign(rating=[1, 6, 5])), ["ratings['rating'] must be whole stars 1..5", "6"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CHECKS))
def test_compare_with_movielens_checks_the_model_logs_and_ratings(world, sim_log, case):
    call, match = CHECKS[case]
    rejects(lambda: call(world, sim_log), match=match, unchanged=[world, sim_log])


# ---- figures ------------------------------------------------------------------------------------------


def refuses_without_a_figure(call, match: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    rejects(call, match=match)
    assert plt.get_fignums() == before  # no figure left behind


FIGURES = {
    "curves empty": (lambda c, lv, chk: plot_learning_curves(c.iloc[:0]), ["curves must be a non-empty DataFrame", "got a DataFrame of shape (0, 7)"]),
    "curves a list": (lambda c, lv, chk: plot_learning_curves([]), ["curves must be a non-empty DataFrame", "[]"]),
    "curves without bands": (lambda c, lv, chk: plot_learning_curves(c.drop(columns="low")), ["curves must be a non-empty DataFrame with the columns", "'low'"]),
    "levels of another metric": (lambda c, lv, chk: plot_learning_curves(c, lv, "reward"), ["levels must be a summarise table", "('reward', 'mean')"]),
    "ylabel a number": (lambda c, lv, chk: plot_learning_curves(c, lv, "ctr", ylabel=3), ["ylabel must be a non-empty string", "3"]),
    "colors a list": (lambda c, lv, chk: plot_learning_curves(c, lv, "ctr", colors=["red"]), ["colors must be a mapping agent -> colour", "['red']"]),
    "check of a table": (lambda c, lv, chk: plot_simulator_check(pd.DataFrame()), ["check must be a SimulatorCheck", "DataFrame"]),
    "log MovieLens": (lambda c, lv, chk: plot_simulator_check(chk, "MovieLens"), ["log must name a simulated log", "['sim']", "'MovieLens'"]),
    "log a list": (lambda c, lv, chk: plot_simulator_check(chk, ["sim"]), ["log must name a simulated log", "['sim']"]),
    "agent colours of a string": (lambda c, lv, chk: agent_colors("Random"), ["agents must be an iterable of agent names", "'Random'"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(FIGURES))
def test_figures_refuse_before_drawing(world, sim_log, case):
    res = results()
    curves = learning_curves(res[res.agent == "a"], "ctr", block=1)
    levels = summarise(res[res.agent == "b"], ["ctr"])
    check = compare_with_movielens(world, {"sim": sim_log}, STARS)
    call, match = FIGURES[case]
    refuses_without_a_figure(lambda: call(curves, levels, check), match)
