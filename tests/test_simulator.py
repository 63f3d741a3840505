"""The MovieLens user simulator: Gymnasium API, determinism, the choice model and its edge cases."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from odsc_recsys.datasets import synthetic_movielens
from odsc_recsys.simulator import (
    ENV_ID,
    MovieLensUserEnv,
    UserModel,
    cascade_click_probabilities,
)

# ---- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_model() -> UserModel:
    ratings, movies = synthetic_movielens(n_users=120, n_items=150, n_genres=6, seed=3)
    return UserModel.from_ratings(ratings, movies, n_items=100, seed=0, n_factors=4)


def toy_model(**kwargs) -> UserModel:
    """Four movies, two genres; user 1 loves movie 2 (logit 3), the rest are at logit -1."""
    x = np.array([[1.0], [1.0]])
    y = np.array([[-1.0], [-1.0], [3.0], [-1.0]])
    genres = [("Drama",), ("Drama",), ("Comedy",), ("Comedy", "Drama")]
    return UserModel.toy(x, y, genres, **kwargs)


def play(env: MovieLensUserEnv, seed: int, slates: list[list[int]]) -> list[tuple]:
    """Observations, rewards, flags and infos of a fixed slate sequence."""
    obs, info = env.reset(seed=seed)
    out = [(obs.tolist(), info)]
    for slate in slates:
        obs, reward, terminated, truncated, info = env.step(np.array(slate))
        out.append((obs.tolist(), reward, terminated, truncated, info))
        if terminated or truncated:
            break
    return out


# ---- Gymnasium API --------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*alternative render modes")
def test_check_env_passes_on_a_direct_instance(synthetic_model):
    env = MovieLensUserEnv(synthetic_model, k=5, render_mode="ansi")
    check_env(env, skip_render_check=False)


def test_registered_id_makes_the_env_and_passes_check_env(synthetic_model):
    assert ENV_ID in gym.registry
    env = gym.make(ENV_ID, user_model=synthetic_model, k=4)
    assert isinstance(env.unwrapped, MovieLensUserEnv)
    check_env(env.unwrapped)


def test_spaces_document_padding_and_slates(synthetic_model):
    env = MovieLensUserEnv(synthetic_model, k=7)
    n = synthetic_model.n_items
    assert env.pad == n
    np.testing.assert_array_equal(env.observation_space.nvec, [n + 1] * 3)
    np.testing.assert_array_equal(env.action_space.nvec, [n] * 7)


def test_cold_start_observation_is_all_padding_then_fills_from_the_right():
    model = toy_model()
    env = MovieLensUserEnv(model, k=2, n_start=0, leave_prob=0.0, miss_cost=0.0)
    obs, info = env.reset(seed=0)
    np.testing.assert_array_equal(obs, [4, 4, 4])
    assert info["user_id"] in (1, 2) and info["step"] == 0
    # Movie 2 has attraction expit(3) ~ 0.95 at position 0: click it with a favourable seed.
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        obs, reward, *_rest, info = env.step([2])
        if info["clicked"] == 2:
            break
    np.testing.assert_array_equal(obs, [4, 4, 2])
    assert reward == 1.0 and info["position"] == 0


def test_session_opens_with_the_users_first_movies():
    model = toy_model(histories=[[3, 0, 1], [1]])
    env = MovieLensUserEnv(model, k=2, n_start=2)
    obs, info = env.reset(seed=0, options={"user_id": 1})
    np.testing.assert_array_equal(obs, [4, 3, 0])
    np.testing.assert_array_equal(env.history, [3, 0])
    obs, _ = env.reset(seed=0, options={"user_id": 2})
    np.testing.assert_array_equal(obs, [4, 4, 1])


# ---- determinism ------------------------------------------------------------------------------


def test_same_seed_same_session_and_different_seeds_differ(synthetic_model):
    env = MovieLensUserEnv(synthetic_model, k=5, drift=0.1, drift_mode="walk")
    slates = [list(range(5 * j, 5 * j + 5)) for j in range(15)]
    a, b = play(env, 7, slates), play(env, 7, slates)
    assert a == b
    others = [play(env, s, slates) for s in range(8, 12)]
    assert any(o != a for o in others)


def test_determinism_through_gym_make(synthetic_model):
    runs = []
    for _ in range(2):
        env = gym.make(ENV_ID, user_model=synthetic_model, k=3)
        runs.append(play(env.unwrapped, 11, [[0, 1, 2], [3, 4, 5], [6, 7, 8]]))
    assert runs[0] == runs[1]


# ---- the choice model --------------------------------------------------------------------------


def test_cascade_by_hand():
    p = cascade_click_probabilities(np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 0.25]))
    # 0.5; then (1 - 0.5) * 0.5 * 0.5; then (1 - 0.5) * (1 - 0.25) * 0.25
    np.testing.assert_allclose(p, [0.5, 0.125, 0.09375])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=0, max_size=12))
def test_cascade_is_a_sub_distribution(pairs):
    v = np.array([a for a, _ in pairs])
    e = np.array([b for _, b in pairs])
    p = cascade_click_probabilities(v, e)
    assert p.shape == v.shape
    assert np.all(p >= 0)
    no_click = np.prod(1 - v * e) if len(pairs) else 1.0
    assert math.isclose(p.sum() + no_click, 1.0, abs_tol=1e-9)


def test_attractiveness_matches_the_logit_and_position_bias():
    env = MovieLensUserEnv(toy_model(), k=4, satiation=0.0, position_decay=1.0)
    env.reset(seed=0)
    v = env.attractiveness([2, 0])
    np.testing.assert_allclose(v, expit([3.0, -1.0]))
    p = env.click_probabilities([2, 0])
    np.testing.assert_allclose(p, [v[0], 0.5 * v[1] * (1 - v[0])])


def test_empty_slate_shows_nothing_and_costs_interest():
    env = MovieLensUserEnv(toy_model(), k=3, miss_cost=0.25, leave_prob=0.0)
    env.reset(seed=0)
    assert env.click_probabilities([]).shape == (0,)
    obs, reward, terminated, truncated, info = env.step(np.zeros(0, dtype=np.int64))
    assert reward == 0.0 and info["clicked"] == -1 and info["click_probability"] == 0.0
    assert info["interest"] == pytest.approx(0.75)
    assert not terminated and not truncated


def test_duplicates_count_once():
    env = MovieLensUserEnv(toy_model(), k=3, satiation=0.0)
    env.reset(seed=0)
    v = env.attractiveness([2, 2, 0])
    np.testing.assert_allclose(v, [expit(3.0), 0.0, expit(-1.0)])
    p = env.click_probabilities([2, 2, 0])
    assert p[1] == 0.0
    # The copy still takes position 1, so movie 0 is examined at position 2 (e = 1/3).
    assert p[2] == pytest.approx((1 - expit(3.0)) * expit(-1.0) / 3)


def test_watched_movies_are_never_clicked():
    env = MovieLensUserEnv(toy_model(histories=[[2, 0], [2, 0]]), k=2, n_start=2)
    env.reset(seed=0)
    np.testing.assert_array_equal(env.click_probabilities([2, 0]), [0.0, 0.0])


@pytest.mark.parametrize(
    ("slate", "message"),
    [
        ([0, 4], "unknown movie index 4"),
        ([-1], "unknown movie index -1"),
        ([0, 1, 2, 3], "at most k=3"),
        ([0.0, 1.0], "integer movie indices"),
        ([[0, 1]], "1-d"),
    ],
)
def test_bad_slates_raise_clear_errors(slate, message):
    env = MovieLensUserEnv(toy_model(), k=3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(np.array(slate))


def test_satiation_lowers_the_attraction_of_the_genre_just_watched():
    model = toy_model(histories=[[0], [0]])
    tired = MovieLensUserEnv(model, k=2, n_start=1, satiation=1.0, satiation_decay=0.5)
    fresh = MovieLensUserEnv(model, k=2, n_start=1, satiation=0.0)
    tired.reset(seed=0)
    fresh.reset(seed=0)
    np.testing.assert_allclose(tired.satiation_vector, [0.0, 1.0])  # genres: Comedy, Drama
    # Movie 1 is Drama: one unit of satiation costs it one logit; movie 2 (Comedy) is untouched.
    np.testing.assert_allclose(tired.attractiveness([1, 2]), expit([-2.0, 3.0]))
    np.testing.assert_allclose(fresh.attractiveness([1, 2]), expit([-1.0, 3.0]))


# ---- dynamics: drift, interest, leaving ----------------------------------------------------------


def test_shift_drift_reaches_the_target_taste():
    # Two users with opposite tastes: each drifts toward the other.
    model = UserModel.toy(np.array([[1.0], [-1.0]]), np.ones((3, 1)), [("A",)] * 3)
    env = MovieLensUserEnv(model, k=1, drift=0.5, drift_mode="shift", leave_prob=0.0,
                           miss_cost=0.0)  # fmt: skip
    _, info = env.reset(seed=0)
    own = model.user_factors[info["user_id"] - 1]
    np.testing.assert_allclose(env.factors, own)
    env.step([0])
    np.testing.assert_allclose(env.factors, 0.0, atol=1e-12)  # half-way
    env.step([1])
    np.testing.assert_allclose(env.factors, -own)  # there, and it stays


def test_shift_drift_keeps_the_spread_of_tastes():
    # Users 3, 0, 0: mean 1. User 1 (x = 3) drifts toward x* = 0 along
    # m + sqrt(1 - rho)(x0 - m) + sqrt(rho)(x* - m), not along the straight line.
    model = UserModel.toy(np.array([[3.0], [0.0], [0.0]]), np.ones((3, 1)), [("A",)] * 3)
    env = MovieLensUserEnv(model, k=1, drift=0.5, leave_prob=0.0, miss_cost=0.0)
    env.reset(seed=0, options={"user_id": 1})
    env.step([0])
    half = np.sqrt(0.5)
    np.testing.assert_allclose(env.factors, [1 + half * 2 + half * (0 - 1)])


def test_no_drift_keeps_the_taste_and_walk_moves_it(synthetic_model):
    still = MovieLensUserEnv(synthetic_model, k=2, drift=0.0, leave_prob=0.0, miss_cost=0.0)
    walk = MovieLensUserEnv(synthetic_model, k=2, drift=0.5, drift_mode="walk", leave_prob=0.0,
                            miss_cost=0.0)  # fmt: skip
    for env in (still, walk):
        env.reset(seed=1)
    t0, w0 = still.theta, walk.theta
    for _ in range(3):
        still.step([0, 1])
        walk.step([0, 1])
    np.testing.assert_array_equal(still.theta, t0)
    assert not np.allclose(walk.theta, w0)


def test_user_leaves_when_interest_runs_out():
    env = MovieLensUserEnv(toy_model(histories=[[0], [0]]), k=1, n_start=1, miss_cost=0.5,
                           leave_prob=0.0)  # fmt: skip
    env.reset(seed=0)
    # Watched movies are never clicked: show movie 0, watched at the start, to force misses.
    _, _, terminated, _, info = env.step([0])
    assert not terminated and info["interest"] == pytest.approx(0.5)
    _, _, terminated, truncated, info = env.step([0])
    assert terminated and not truncated
    with pytest.raises(RuntimeError, match="reset"):
        env.step([0])


def test_click_restores_interest_by_the_rating():
    env = MovieLensUserEnv(toy_model(rating_mean=5.0, histories=[[0], [0]]), k=1, n_start=1,
                           miss_cost=0.4, click_gain=0.1, rating_gain=0.2,
                           leave_prob=0.0)  # fmt: skip
    for seed in range(30):
        env.reset(seed=seed)
        for _ in range(2):  # two misses on movie 0 (watched, never clicked): interest 0.2
            info = env.step([0])[4]
        assert info["interest"] == pytest.approx(0.2)
        _, reward, _, _, info = env.step([2])
        if info["clicked"] == 2:
            break
    assert info["rating"] == 5
    assert info["interest"] == pytest.approx(min(1.0, 0.2 + 0.1 + 0.2 * 2))


def test_leave_prob_one_ends_every_session_after_one_step_and_max_steps_truncates():
    env = MovieLensUserEnv(toy_model(), k=1, leave_prob=1.0)
    env.reset(seed=0)
    assert env.step([2])[2] is True
    env = MovieLensUserEnv(toy_model(), k=1, leave_prob=0.0, miss_cost=0.0, max_steps=2)
    env.reset(seed=0)
    assert env.step([0])[3] is False
    _, _, terminated, truncated, _ = env.step([1])
    assert truncated and not terminated


def test_reward_adds_the_weighted_rating():
    env = MovieLensUserEnv(toy_model(rating_mean=4.0), k=1, rating_weight=0.5, leave_prob=0.0)
    for seed in range(30):
        env.reset(seed=seed)
        _, reward, _, _, info = env.step([2])
        if info["clicked"] == 2:
            break
    assert info["rating"] == 4 and reward == pytest.approx(1.0 + 0.5 * 4)


def test_ratings_stay_in_one_to_five(synthetic_model):
    env = MovieLensUserEnv(synthetic_model, k=10, leave_prob=0.0, miss_cost=0.0)
    ratings = []
    for seed in range(5):
        env.reset(seed=seed)
        for j in range(20):
            info = env.step(np.arange(10 * (j % 5), 10 * (j % 5) + 10))[4]
            if info["clicked"] >= 0:
                ratings.append(info["rating"])
    assert ratings and set(ratings) <= {1, 2, 3, 4, 5}


# ---- validation of arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must be"),
        ({"k": 5}, "k must be"),
        ({"drift": -0.1}, "drift"),
        ({"drift_mode": "jump"}, "drift_mode"),
        ({"leave_prob": 1.5}, "leave_prob"),
        ({"n_start": 4}, "n_start"),
        ({"users": [99]}, "unknown user id 99"),
        ({"render_mode": "human"}, "render_mode"),
        ({"k": True}, r"k must be an integer in \[1, 4\], got True"),
        ({"satiation_decay": 1.5}, r"satiation_decay must be a finite number in \[0, 1\]"),
        ({"drift": float("nan")}, "drift must be a finite number"),
        ({"drift": 2.0, "drift_mode": "shift"}, r"drift must be a finite number in \[0, 1\]"),
        ({"leave_prob": "0.1"}, "leave_prob must be a probability"),
        ({"max_steps": 0}, "max_steps must be an integer >= 1, got 0"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MovieLensUserEnv(toy_model(), **{"k": 2, **kwargs})


def test_bad_reset_options_and_use_before_reset():
    env = MovieLensUserEnv(toy_model(), k=2)
    with pytest.raises(RuntimeError, match="reset"):
        env.step([0])
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(seed=0, options={"user": 1})
    with pytest.raises(ValueError, match="unknown user id 7"):
        env.reset(seed=0, options={"user_id": 7})


def test_render_ansi_names_the_slate():
    env = MovieLensUserEnv(toy_model(), k=2, render_mode="ansi")
    env.reset(seed=0)
    env.step([2, 0])
    text = env.render()
    assert "Movie 2" in text and "Movie 0" in text


# ---- the user model ------------------------------------------------------------------------------


def test_user_model_from_synthetic_ratings(synthetic_model):
    m = synthetic_model
    assert m.n_items == 100 and m.affinity.shape == (m.n_users, m.n_genres)
    assert m.user_factors.shape == (m.n_users, 4) and m.item_factors.shape == (100, 4)
    np.testing.assert_allclose(m.genre_weights.sum(axis=1), 1.0)
    # The intercept is calibrated: mean attraction = the data's density.
    assert m.attractiveness().mean() == pytest.approx(m.fit_summary["density"], rel=1e-6)
    # Tastes fitted on kept ratings rank the held-out ones above chance.
    assert m.fit_summary["auc"] > 0.6
    assert np.all(np.isfinite(m.parameters().to_numpy()))
    assert m.user_index(int(m.user_ids[3])) == 3
    with pytest.raises(ValueError, match="unknown user id"):
        m.user_index(10**6)


def test_toy_model_validates_its_input():
    with pytest.raises(ValueError, match="same width"):
        UserModel.toy(np.ones((2, 2)), np.ones((3, 1)), [("A",)] * 3)
    with pytest.raises(ValueError, match="at least one genre"):
        UserModel.toy(np.ones((2, 1)), np.ones((3, 1)), [("A",), (), ("B",)])
