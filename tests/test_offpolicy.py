"""Off-policy evaluation: hand-computed estimates, exact unbiasedness on a tiny MDP enumerated
trajectory by trajectory, the softmax policies, logging in the simulator, and an end-to-end
check against the true value."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from odsc_recsys.classical import ItemKNN
from odsc_recsys.offpolicy import (
    OPE_COLUMNS,
    SessionLog,
    SessionMatrices,
    SoftmaxPolicy,
    UniformPolicy,
    cumulative_weights,
    doubly_robust,
    effective_sample_size,
    fit_reward_model,
    ips,
    log_sessions,
    mix,
    ope_experiment,
    session_matrices,
    snips,
    summarise_ope,
    true_value,
)
from odsc_recsys.online import mean_interval, run_sessions
from odsc_recsys.protocol import Recommender
from odsc_recsys.simulator import MovieLensUserEnv, UserModel

REL = 1e-12


class Scores(Recommender):
    """A fitted model with given scores, plus ``bonus[last movie]`` when the history is not
    empty: scores that depend on the history, for the policy tests."""

    name = "scores"

    def __init__(self, scores, bonus=None):
        self.base = np.asarray(scores, dtype=np.float64)
        self.n_items = self.base.size
        self.bonus = np.zeros((self.n_items, self.n_items)) if bonus is None else bonus

    def score(self, history):
        h = np.asarray(history, dtype=np.int64)
        return self.base + (self.bonus[h[-1]] if h.size else 0.0)


def toy_world(n_items: int = 20, n_users: int = 12, seed: int = 3) -> UserModel:
    """A random world: 2 latent factors, three genres, six past movies per user."""
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n_users, 2)), 1.5 * rng.normal(size=(n_items, 2))
    genres = [(("A",), ("B",), ("C",))[i % 3] for i in range(n_items)]
    histories = [rng.choice(n_items, size=6, replace=False).tolist() for _ in range(n_users)]
    return UserModel.toy(x, y, genres, intercept=-1.0, histories=histories)


@pytest.fixture(scope="module")
def world() -> UserModel:
    return toy_world()


@pytest.fixture(scope="module")
def knn(world) -> ItemKNN:
    return ItemKNN(n_neighbours=10, recency_decay=0.8).fit(list(world.histories), world.n_items)


@pytest.fixture
def env(world) -> MovieLensUserEnv:
    return MovieLensUserEnv(world, k=1)


# ---- hand-computed estimates --------------------------------------------------------------------

# Two sessions. Session 0 takes two steps with ratios 2 and 0.5, so W = (2, 1), rewards (1, 1),
# q_hat (0.5, 0.25), v_hat (0.6, 0.3). Session 1 leaves after one step with ratio 0.5, so
# W = (0.5, 0.5) (carried forward), rewards (0, 0), q_hat (0.4, 0), v_hat (0.2, 0).
HAND = SessionMatrices(
    weights=cumulative_weights(np.array([[2.0, 0.5], [0.5, 1.0]])),
    rewards=np.array([[1.0, 1.0], [0.0, 0.0]]),
    q_hat=np.array([[0.5, 0.25], [0.4, 0.0]]),
    v_hat=np.array([[0.6, 0.3], [0.2, 0.0]]),
)


def test_cumulative_weights_carry_forward_by_hand():
    assert HAND.weights.tolist() == [[2.0, 1.0], [0.5, 0.5]]


def test_ips_by_hand():
    # terms: session 0: 2*1 + 1*1 = 3; session 1: 0. Mean 1.5.
    e = ips(HAND)
    assert e.value == pytest.approx(1.5, rel=REL)
    assert e.terms.tolist() == [3.0, 0.0]
    # t-interval of [3, 0]: sd = sqrt(4.5), se = sd / sqrt(2) = 1.5, t(0.975, 1 dof)
    half = stats.t.ppf(0.975, 1) * 1.5
    assert (e.low, e.high) == pytest.approx((1.5 - half, 1.5 + half), rel=REL)
    # gamma = 0.5: session 0: 2 + 0.5 * 1 = 2.5; mean 1.25
    assert ips(HAND, gamma=0.5).value == pytest.approx(1.25, rel=REL)


def test_snips_by_hand():
    # t = 0: (2*1 + 0.5*0) / (2 + 0.5) = 0.8; t = 1: (1*1 + 0.5*0) / (1 + 0.5) = 2/3
    rng = np.random.default_rng(0)
    assert snips(HAND, rng).value == pytest.approx(0.8 + 2 / 3, rel=REL)
    assert snips(HAND, rng, gamma=0.5).value == pytest.approx(0.8 + 0.5 * 2 / 3, rel=REL)
    assert snips(HAND, rng).terms is None


def test_doubly_robust_by_hand():
    # session 0: t = 0: 2 (1 - 0.5) + 1 * 0.6 = 1.6; t = 1: 1 (1 - 0.25) + 2 * 0.3 = 1.35
    # session 1: t = 0: 0.5 (0 - 0.4) + 1 * 0.2 = 0;  t = 1: 0
    e = doubly_robust(HAND)
    assert e.terms == pytest.approx([2.95, 0.0], rel=REL)
    assert e.value == pytest.approx(1.475, rel=REL)
    assert doubly_robust(HAND, gamma=0.5).value == pytest.approx((1.6 + 0.5 * 1.35) / 2, rel=REL)


def test_effective_sample_size_by_hand():
    # final weights (1, 0.5): 1.5^2 / (1 + 0.25) = 1.8
    assert effective_sample_size(HAND) == pytest.approx(1.8, rel=REL)
    zero = SessionMatrices(np.zeros((3, 2)), np.zeros((3, 2)))
    assert effective_sample_size(zero) == 0.0


def hand_log() -> SessionLog:
    """The weights of HAND from a log: 3 movies, target (0.5, 0.25, 0.25) at every step."""
    return SessionLog(
        session=np.array([0, 0, 1]), step=np.array([0, 1, 0]),
        history=(np.array([], dtype=np.int64), np.array([0]), np.array([2])),
        action=np.array([0, 1, 2]), propensity=np.array([0.25, 0.5, 0.5]),
        reward=np.array([1.0, 1.0, 0.0]), n_sessions=2, n_items=3, behaviour_name="mu",
    )  # fmt: skip


def test_session_matrices_from_a_log_by_hand():
    log = hand_log()
    target = np.tile([0.5, 0.25, 0.25], (3, 1))
    r_hat = np.array([0.5, 0.25, 0.4])
    m = session_matrices(log, target, r_hat)
    # ratios 0.5/0.25 = 2, 0.25/0.5 = 0.5, 0.25/0.5 = 0.5
    assert m.weights.tolist() == [[2.0, 1.0], [0.5, 0.5]]
    assert m.rewards.tolist() == HAND.rewards.tolist()
    assert m.q_hat.tolist() == HAND.q_hat.tolist()
    # V = 0.5*0.5 + 0.25*0.25 + 0.25*0.4 = 0.4125 while the session lasts
    assert m.v_hat == pytest.approx(np.array([[0.4125, 0.4125], [0.4125, 0.0]]), rel=REL)
    # DR: session 0: 2*0.5 + 0.4125 + 1*0.75 + 2*0.4125 = 2.9875; session 1: -0.2 + 0.4125
    assert doubly_robust(m).value == pytest.approx((2.9875 + 0.2125) / 2, rel=REL)
    assert session_matrices(log, target).q_hat is None


def test_fit_reward_model_by_hand():
    # overall rate 2/3; movie 0: (1 + 2 * 2/3) / (1 + 2); movie 2: (0 + 4/3) / 3
    r_hat = fit_reward_model(hand_log(), smoothing=2.0)
    assert r_hat == pytest.approx([7 / 9, 7 / 9, 4 / 9], rel=REL)
    assert fit_reward_model(hand_log(), smoothing=0.0).tolist() == [1.0, 1.0, 0.0]


def test_rows_of_the_matrices_estimate_like_their_own_log():
    log = hand_log()
    target = np.tile([0.5, 0.25, 0.25], (3, 1))
    part = session_matrices(log, target).rows(1, 2)
    alone = session_matrices(log.sessions(1, 2), target[2:])
    assert ips(part).value == ips(alone).value
    assert effective_sample_size(part) == effective_sample_size(alone)


# ---- special cases ------------------------------------------------------------------------------

positive = st.floats(0.05, 20.0)
unit = st.floats(0.0, 1.0)


@given(st.integers(2, 8).flatmap(lambda n: st.tuples(*[st.lists(s, min_size=n, max_size=n)
                                                       for s in (positive, unit, unit, unit)])))
def test_the_bandit_case(arrays):
    w, r, q, v = (np.array(a) for a in arrays)
    col = lambda a: a[:, None]  # noqa: E731 - one step: T = 1
    m = SessionMatrices(col(w), col(r), col(q), col(v))
    assert ips(m).value == pytest.approx(np.mean(w * r), rel=REL, abs=1e-15)
    assert snips(m, np.random.default_rng(0), n_boot=5).value == pytest.approx(
        np.sum(w * r) / np.sum(w), rel=REL, abs=1e-15)
    assert doubly_robust(m).value == pytest.approx(np.mean(w * (r - q) + v), rel=REL, abs=1e-15)


def test_target_equal_to_behaviour_weighs_every_step_one(env, knn):
    behaviour = SoftmaxPolicy(knn, 1.0)
    log = log_sessions(env, behaviour, 40, seed=0)
    m = session_matrices(log, behaviour)
    assert m.weights == pytest.approx(np.ones_like(m.weights), rel=REL)
    mean_return = log.reward.sum() / log.n_sessions
    assert ips(m).value == pytest.approx(mean_return, rel=1e-10)
    assert snips(m, np.random.default_rng(0)).value == pytest.approx(mean_return, rel=1e-10)
    assert effective_sample_size(m) == pytest.approx(40, rel=1e-10)


# ---- exact unbiasedness on a two-step MDP -------------------------------------------------------

prob = st.floats(0.05, 0.95)


@st.composite
def mdps(draw):
    """Two steps, two movies each. The click of step 0 is the state of step 1; the user
    leaves after step 0 with a probability that depends on that click."""
    pair = lambda: [draw(prob), draw(prob)]  # noqa: E731
    return {
        "mu0": draw(prob), "pi0": draw(prob), "mu1": pair(), "pi1": pair(),
        "c0": pair(), "c1": [pair(), pair()], "leave": pair(),
        "q0": [draw(unit), draw(unit)], "q1": [[draw(unit), draw(unit)], [draw(unit), draw(unit)]],
        "gamma": draw(unit),
    }  # fmt: skip


def bern(p: float, x: int) -> float:
    return p if x else 1.0 - p


def trajectories(mdp):
    """Every trajectory: (probability under mu, under pi, its one-session matrices, return)."""
    p0 = {"mu": mdp["mu0"], "pi": mdp["pi0"]}
    for a0, c0, stay in itertools.product((0, 1), repeat=3):
        head = bern(mdp["c0"][a0], c0) * bern(1 - mdp["leave"][c0], stay)
        v0 = bern(mdp["pi0"], 0) * mdp["q0"][0] + bern(mdp["pi0"], 1) * mdp["q0"][1]
        r0 = bern(p0["pi"], a0) / bern(p0["mu"], a0)
        tails = itertools.product((0, 1), repeat=2) if stay else [(None, None)]
        for a1, c1 in tails:
            if a1 is None:
                mu, pi = bern(p0["mu"], a0) * head, bern(p0["pi"], a0) * head
                ratios, rewards, q, v = [r0, 1.0], [c0, 0.0], [mdp["q0"][a0], 0.0], [v0, 0.0]
            else:
                pm, pp = mdp["mu1"][c0], mdp["pi1"][c0]
                click = bern(mdp["c1"][c0][a1], c1)
                mu = bern(p0["mu"], a0) * head * bern(pm, a1) * click
                pi = bern(p0["pi"], a0) * head * bern(pp, a1) * click
                v1 = bern(pp, 0) * mdp["q1"][c0][0] + bern(pp, 1) * mdp["q1"][c0][1]
                ratios, rewards = [r0, bern(pp, a1) / bern(pm, a1)], [c0, c1]
                q, v = [mdp["q0"][a0], mdp["q1"][c0][a1]], [v0, v1]
            m = SessionMatrices(cumulative_weights(np.array([ratios])), np.array([rewards], float),
                                np.array([q]), np.array([v]))  # fmt: skip
            yield mu, pi, m, rewards[0] + mdp["gamma"] * rewards[1]


@settings(max_examples=60, deadline=None)
@given(mdps())
def test_ips_and_doubly_robust_are_exactly_unbiased(mdp):
    paths = list(trajectories(mdp))
    assert sum(mu for mu, *_ in paths) == pytest.approx(1.0, rel=REL)
    truth = sum(pi * ret for _, pi, _, ret in paths)
    g = mdp["gamma"]
    assert sum(mu * ips(m, g).value for mu, _, m, _ in paths) == pytest.approx(truth, rel=REL)
    assert sum(mu * doubly_robust(m, g).value for mu, _, m, _ in paths) == pytest.approx(
        truth, rel=REL)
    # SNIPS with one session divides each weight away: it estimates the behaviour's value
    rng = np.random.default_rng(0)
    behaviour = sum(mu * ret for mu, _, _, ret in paths)
    expected = sum(mu * snips(m, rng, g, n_boot=2).value for mu, _, m, _ in paths)
    assert expected == pytest.approx(behaviour, rel=REL)


def test_snips_with_one_session_is_biased():
    # mu: movie 1 with probability 0.5 at each step, pi: 0.9. Clicks: 0.2 for movie 0 and 0.8
    # for movie 1 at both steps whatever the state; nobody leaves; gamma 1.
    # truth (pi): 2 * (0.1 * 0.2 + 0.9 * 0.8) = 1.48; E[SNIPS, n = 1] = mu's 2 * 0.5 = 1.0
    mdp = {"mu0": 0.5, "pi0": 0.9, "mu1": [0.5, 0.5], "pi1": [0.9, 0.9], "c0": [0.2, 0.8],
           "c1": [[0.2, 0.8], [0.2, 0.8]], "leave": [0.0, 0.0], "q0": [0, 0],
           "q1": [[0, 0], [0, 0]], "gamma": 1.0}  # fmt: skip
    paths = list(trajectories(mdp))
    rng = np.random.default_rng(0)
    assert sum(pi * ret for _, pi, _, ret in paths) == pytest.approx(1.48, rel=REL)
    assert sum(mu * ips(m).value for mu, _, m, _ in paths) == pytest.approx(1.48, rel=REL)
    snips_mean = sum(mu * snips(m, rng, n_boot=2).value for mu, _, m, _ in paths)
    assert snips_mean == pytest.approx(1.0, rel=REL)


# ---- policies -----------------------------------------------------------------------------------

SCORES = np.array([0.0, 3.0, 1.0, 3.0, -2.0, 0.5])
BONUS = np.random.default_rng(1).normal(size=(6, 6))
histories = st.lists(st.integers(0, 5), max_size=5, unique=True)


@given(histories, st.sampled_from([0.0, 0.01, 0.5, 1.0, 7.0]))
def test_softmax_sums_to_one_and_skips_watched_movies(history, temperature):
    p = SoftmaxPolicy(Scores(SCORES, BONUS), temperature).probabilities(history)
    assert p.sum() == pytest.approx(1.0, rel=REL)
    assert (p[history] == 0).all() and (p >= 0).all()
    if temperature > 0:  # every unwatched movie has some mass
        assert (np.delete(p, history) > 0).all()


def test_softmax_by_hand():
    # scores (0, 1, 2): z = (s - 1) / sqrt(2/3); T = 0.5: p ∝ exp(2 z)
    z = (np.array([0.0, 1.0, 2.0]) - 1.0) / np.sqrt(2 / 3)
    e = np.exp(2 * z)
    p = SoftmaxPolicy(Scores([0.0, 1.0, 2.0]), 0.5).probabilities([])
    assert p == pytest.approx(e / e.sum(), rel=REL)


@given(st.floats(0.1, 100.0), st.floats(-100.0, 100.0), histories)
def test_softmax_ignores_the_scale_of_the_scores(scale, shift, history):
    a = SoftmaxPolicy(Scores(SCORES), 0.7).probabilities(history)
    b = SoftmaxPolicy(Scores(scale * SCORES + shift), 0.7).probabilities(history)
    assert b == pytest.approx(a, rel=1e-9, abs=1e-12)


def test_temperature_zero_is_greedy_with_ties_to_the_lower_index():
    policy = SoftmaxPolicy(Scores(SCORES), 0.0)
    assert policy.probabilities([]).tolist() == [0, 1, 0, 0, 0, 0]  # movies 1 and 3 tie
    assert policy.probabilities([1]).tolist() == [0, 0, 0, 1, 0, 0]
    flat = SoftmaxPolicy(Scores(np.ones(4)), 0.0)
    assert flat.probabilities([0]).tolist() == [0, 1, 0, 0]


def test_a_large_temperature_tends_to_uniform_over_unwatched():
    p = SoftmaxPolicy(Scores(SCORES), 1e6).probabilities([2, 4])
    assert p[[2, 4]].tolist() == [0, 0]
    assert np.delete(p, [2, 4]) == pytest.approx(np.full(4, 0.25), abs=1e-5)
    assert UniformPolicy(6).probabilities([2, 4]).tolist() == [0.25, 0.25, 0, 0.25, 0, 0.25]


def test_every_movie_watched_gives_uniform_and_minus_infinity_gives_zero():
    assert SoftmaxPolicy(Scores(SCORES), 1.0).probabilities(range(6)) == pytest.approx(
        np.full(6, 1 / 6), rel=REL)
    scores = np.array([1.0, -np.inf, 2.0])
    p = SoftmaxPolicy(Scores(scores), 1.0).probabilities([])
    assert p[1] == 0 and p.sum() == pytest.approx(1.0, rel=REL)


def test_probabilities_many_stacks_probabilities():
    policy = SoftmaxPolicy(Scores(SCORES, BONUS), 0.8)
    hists = [[], [0], [3, 1], [5, 4, 2]]
    many = policy.probabilities_many(hists)
    for row, h in zip(many, hists, strict=True):
        assert row == pytest.approx(policy.probabilities(h), rel=REL)
    assert policy.probabilities_many([]).shape == (0, 6)


def test_mixture_by_hand():
    a, b = SoftmaxPolicy(Scores(SCORES), 0.0), UniformPolicy(6)
    p = mix(a, b, 0.4).probabilities([1])
    # 0.6 * one-hot(3) + 0.4 * uniform over the 5 unwatched
    assert p == pytest.approx([0.08, 0, 0.08, 0.68, 0.08, 0.08], rel=REL)
    assert mix(a, b, 0.0).probabilities([1]).tolist() == a.probabilities([1]).tolist()
    assert mix(a, b, 0.4).probabilities_many([[1]])[0] == pytest.approx(p, rel=REL)


def test_act_draws_with_the_policy_frequencies():
    policy = SoftmaxPolicy(Scores(SCORES), 1.0)
    p = policy.probabilities([2])
    rng = np.random.default_rng(0)
    n = 20_000
    draws = [int(policy.act(np.zeros(3), np.array([2]), rng)[0]) for _ in range(n)]
    freq = np.bincount(draws, minlength=6) / n
    # Each frequency has standard error sqrt(p (1 - p) / n) <= 0.0036; 4.5 of them is a miss
    # chance of ~7e-6 per movie (the run is seeded, so the check is deterministic anyway).
    assert np.all(np.abs(freq - p) <= 4.5 * np.sqrt(p * (1 - p) / n))
    assert freq[2] == 0.0
    slate = policy.act(np.zeros(3), np.array([2]), rng)
    assert slate.dtype == np.int64 and slate.shape == (1,)


# ---- logging in the simulator -------------------------------------------------------------------


def test_logged_propensities_are_the_policy_probabilities(env, knn):
    behaviour = SoftmaxPolicy(knn, 0.7)
    log = log_sessions(env, behaviour, 30, seed=2)
    for h, a, p in zip(log.history, log.action, log.propensity, strict=True):
        assert p == behaviour.probabilities(h)[a]
        assert a not in h
    assert log.lengths.sum() == log.n_steps and log.n_sessions == 30
    assert log.behaviour_name == behaviour.name


def test_logging_replays_run_sessions(env, knn):
    behaviour = SoftmaxPolicy(knn, 1.0)
    log = log_sessions(env, behaviour, 25, seed=4)
    runs = run_sessions(env, behaviour, 25, seed=4)
    assert log.lengths.tolist() == runs["steps"].tolist()
    per_session = np.bincount(log.session, weights=log.reward, minlength=25)
    assert per_session.tolist() == runs["reward"].tolist()
    again = log_sessions(env, behaviour, 25, seed=4)
    assert again.action.tolist() == log.action.tolist()


def test_common_random_numbers_meet_the_same_users(env, knn):
    a = log_sessions(env, SoftmaxPolicy(knn, 1.0), 20, seed=5)
    b = log_sessions(env, UniformPolicy(env.n_items), 20, seed=5)
    first = lambda log: [log.history[i].tolist() for i in np.flatnonzero(log.step == 0)]  # noqa: E731
    assert first(a) == first(b)  # each session opens with its user's first movies


def test_true_value_is_the_mean_reward_of_run_sessions(env, knn):
    policy = SoftmaxPolicy(knn, 0.5)
    runs = run_sessions(env, policy, 30, seed=6)
    assert true_value(env, policy, 30, seed=6) == mean_interval(runs["reward"])


# ---- end to end ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_log(world, knn) -> SessionLog:
    return log_sessions(MovieLensUserEnv(world, k=1), SoftmaxPolicy(knn, 1.0), 2000, seed=7)


def test_estimates_land_near_the_true_value(world, knn, big_log):
    env = MovieLensUserEnv(world, k=1)
    target = SoftmaxPolicy(knn, 0.6)
    truth, low, high = true_value(env, target, 2000, seed=8)
    r_hat = fit_reward_model(log_sessions(env, SoftmaxPolicy(knn, 1.0), 300, seed=9))
    m = session_matrices(big_log, target, r_hat)
    for e in (ips(m), doubly_robust(m), snips(m, np.random.default_rng(0), n_boot=300)):
        assert e.low <= truth <= e.high
        assert low <= e.value <= high
    assert doubly_robust(m).high - doubly_robust(m).low < ips(m).high - ips(m).low
    assert 10 < effective_sample_size(m) < 2000


def test_ope_experiment_rows_and_summary(world, knn, big_log):
    env = MovieLensUserEnv(world, k=1)
    targets = {"near": SoftmaxPolicy(knn, 0.9), "far": mix(SoftmaxPolicy(knn, 1.0),
                                                          SoftmaxPolicy(knn, 0.2), 0.8)}
    reward_log = log_sessions(env, SoftmaxPolicy(knn, 1.0), 200, seed=10)
    rows = ope_experiment(big_log, targets, [200, 500], reward_log=reward_log, n_boot=100)
    assert list(rows.columns) == list(OPE_COLUMNS)
    # 2 targets x (10 + 4 chunks) x 3 estimators
    assert len(rows) == 2 * 14 * 3
    assert rows.groupby(["target", "size"]).chunk.nunique().to_dict() == {
        ("far", 200): 10, ("far", 500): 4, ("near", 200): 10, ("near", 500): 4}
    # chunk 1 of size 500 is sessions 500..999
    m = session_matrices(big_log.sessions(500, 1000), targets["near"])
    row = rows.query("target == 'near' and estimator == 'IPS' and size == 500 and chunk == 1")
    assert row.value.item() == pytest.approx(ips(m).value, rel=1e-10)
    assert row.ess.item() == pytest.approx(effective_sample_size(m), rel=1e-10)
    truth = {"near": 2.0, "far": 2.5}
    table = summarise_ope(rows, truth)
    near = rows.query("target == 'near' and estimator == 'DR' and size == 200")
    got = table.loc[("near", "DR", 200)]
    assert got["mean"] == pytest.approx(near.value.mean(), rel=REL)
    assert got["bias"] == pytest.approx(near.value.mean() - 2.0, rel=REL)
    assert got["sd"] == pytest.approx(near.value.std(ddof=1), rel=REL)
    assert got["rmse"] == pytest.approx(np.sqrt(((near.value - 2.0) ** 2).mean()), rel=REL)
    assert got["coverage"] == ((near.low <= 2.0) & (2.0 <= near.high)).mean()
    assert got["chunks"] == 10
    assert isinstance(table, pd.DataFrame) and table.index.names == ["target", "estimator", "size"]
    # the far target's weights spread: fewer effective sessions than the near one's
    assert table.loc[("far", "IPS", 500), "ess"] < table.loc[("near", "IPS", 500), "ess"]
