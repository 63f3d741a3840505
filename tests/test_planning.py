"""Boredom in the simulator, the genre-choice agent, and the discount of the online Q-network."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys.online import GenreChoiceAgent, SessionStep, run_sessions
from odsc_recsys.simulator import MovieLensUserEnv, UserModel, genre_world


def sure_click_world(genres: list[tuple[str, ...]]) -> UserModel:
    """Movies at logit 12 (attraction 0.999994), every rating exactly 3 (no rating gain)."""
    n = len(genres)
    return UserModel.toy(np.ones((1, 1)), np.full((n, 1), 12.0), genres, rating_mean=3.0)


def interests(env: MovieLensUserEnv, slates: list[int]) -> list[tuple[float, bool, int]]:
    """(interest, terminated, clicked) after each one-movie slate."""
    env.reset(seed=0)
    out = []
    for m in slates:
        _, _, terminated, _, info = env.step([m])
        out.append((round(info["interest"], 12), terminated, info["clicked"]))
        if terminated:
            break
    return out


# ---- boredom ------------------------------------------------------------------------------


def test_boredom_charges_interest_by_the_satiation_before_the_click():
    # One genre, lambda 0.5, boredom 0.5, click gain 0.1, rating 3 (rating gain 0):
    # click 1: s = 0        -> min(1, 1 + 0.1 - 0)          = 1
    # click 2: s = 1        -> min(1, 1 + 0.1 - 0.5 * 1)    = 0.6
    # click 3: s = 1.5      -> 0.6 + 0.1 - 0.5 * 1.5        = -0.05: the user leaves
    env = MovieLensUserEnv(sure_click_world([("A",)] * 4), k=1, n_start=0, satiation=0.0,
                           satiation_decay=0.5, boredom=0.5, leave_prob=0.0)  # fmt: skip
    assert interests(env, [0, 1, 2, 3]) == [(1.0, False, 0), (0.6, False, 1), (-0.05, True, 2)]


def test_without_boredom_the_same_clicks_keep_the_user():
    env = MovieLensUserEnv(sure_click_world([("A",)] * 4), k=1, n_start=0, satiation=0.0,
                           satiation_decay=0.5, leave_prob=0.0)  # fmt: skip
    assert interests(env, [0, 1, 2, 3]) == [(1.0, False, m) for m in range(4)]


def test_boredom_is_per_genre_and_fades():
    # A, B, A: B meets no satiation of B; the second A meets A's satiation 1 faded once, by
    # the step of B, to 0.5: 1 -> 1 -> 1 + 0.1 - 0.5 * 0.5 = 0.85.
    env = MovieLensUserEnv(sure_click_world([("A",), ("B",), ("A",)]), k=1, n_start=0,
                           satiation=0.0, satiation_decay=0.5, boredom=0.5,
                           leave_prob=0.0)  # fmt: skip
    assert interests(env, [0, 1, 2]) == [(1.0, False, 0), (1.0, False, 1), (0.85, False, 2)]


def test_a_movie_of_two_genres_is_charged_the_share_of_each():
    # g~ of a ("A", "B") movie is (0.5, 0.5); after one A movie s = (1, 0): overlap 0.5.
    env = MovieLensUserEnv(sure_click_world([("A",), ("A", "B")]), k=1, n_start=0,
                           satiation=0.0, boredom=0.8, leave_prob=0.0)  # fmt: skip
    assert interests(env, [0, 1]) == [(1.0, False, 0), (0.7, False, 1)]  # 1 + 0.1 - 0.8 * 0.5


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 5.0), st.integers(0, 2**31 - 1))
def test_boredom_never_lengthens_a_session(boredom, seed):
    # The same user, draws and slates: interest with boredom is never above interest without.
    model = genre_world({"A": 2.0, "B": 0.0}, movies_per_genre=6)
    runs = []
    for b in (0.0, boredom):
        env = MovieLensUserEnv(model, k=1, n_start=0, boredom=b)
        env.reset(seed=seed)
        trace, done, m = [], False, 0
        while not done and m < model.n_items:
            _, _, terminated, truncated, info = env.step([m])
            trace.append(info["interest"])
            done, m = terminated or truncated, m + 1
        runs.append(trace)
    without, with_boredom = runs
    assert len(with_boredom) <= len(without)
    assert all(b <= a + 1e-12 for a, b in zip(without, with_boredom, strict=False))


def test_boredom_must_be_a_non_negative_number():
    with pytest.raises(ValueError, match=r"boredom must be .*>= 0.*got -0\.1"):
        MovieLensUserEnv(genre_world({"A": 0.0}), boredom=-0.1)


# ---- the genre world ----------------------------------------------------------------------


def test_genre_world_gives_each_genre_its_appeal():
    model = genre_world({"Comedy": 1.5, "Drama": 0.5}, movies_per_genre=3, n_users=2)
    env = MovieLensUserEnv(model, k=1, n_start=0)
    env.reset(seed=0)
    expected = 1.0 / (1.0 + np.exp(-np.array([1.5] * 3 + [0.5] * 3)))
    np.testing.assert_allclose(env.catalogue_attractiveness(), expected, rtol=1e-12)
    assert model.primary_names == ["Comedy", "Drama"]
    assert model.primary_genre.tolist() == [0, 0, 0, 1, 1, 1]
    assert model.n_users == 2


# ---- the genre-choice agent ---------------------------------------------------------------


def two_genre_agent(**kwargs) -> GenreChoiceAgent:
    # Movies 0, 1 are genre 0 ("A"), 2, 3 genre 1 ("B"); the padding is 4.
    return GenreChoiceAgent(np.array([0, 0, 1, 1]), ["A", "B"], **kwargs)


def test_state_index_reads_the_genres_as_a_base_g_plus_1_number():
    agent = two_genre_agent(gamma=0.0)
    # (no movie, A, B) = (2, 0, 1) in base 3: 2 * 9 + 0 * 3 + 1 = 19
    assert agent.state_index([4, 1, 3]) == 19
    assert agent.state_index([4, 4, 4]) == 26
    assert agent.state_index([0, 1, 0]) == 0
    assert agent.q_table.shape == (27, 2)


def test_act_shows_the_best_scored_unwatched_movies_of_the_greedy_genre():
    agent = GenreChoiceAgent(np.array([0, 0, 1, 1, 1]), ["A", "B"], gamma=0.0, epsilon=0.0,
                             scores=np.array([0.0, 0.0, 1.0, 3.0, 2.0]), k=2)  # fmt: skip
    agent.q_table[:] = [0.2, 0.7]  # genre B is preferred in every state
    rng = np.random.default_rng(0)
    assert agent.act(np.array([5, 5, 5]), np.array([], dtype=np.int64), rng).tolist() == [3, 4]
    # movie 3 watched: the next best of genre B
    assert agent.act(np.array([5, 5, 3]), np.array([3]), rng).tolist() == [4, 2]


def test_a_genre_that_has_run_out_gives_a_shorter_slate():
    agent = two_genre_agent(gamma=0.0, epsilon=0.0, k=3)
    rng = np.random.default_rng(0)
    assert agent.act(np.array([4, 4, 0]), np.array([0]), rng).tolist() == [1]


def test_learn_step_is_the_q_learning_update_computed_by_hand():
    agent = two_genre_agent(gamma=0.9, alpha=0.5)
    s, s_next = agent.state_index([4, 4, 4]), agent.state_index([4, 4, 2])
    agent.q_table[s_next] = [2.0, 5.0]
    agent.learn(np.array([4, 4, 4]), np.array([2]), 2, 1.0, np.array([4, 4, 2]), False)
    assert agent.q_table[s, 1] == pytest.approx(0.5 * (1.0 + 0.9 * 5.0))  # 2.75
    assert agent.q_table[s, 0] == 0.0
    agent.learn(np.array([4, 4, 4]), np.array([0]), -1, 0.0, np.array([4, 4, 4]), True)
    assert agent.q_table[s, 0] == 0.0  # done: target 0, no future
    agent.learn(np.array([4, 4, 4]), np.array([3]), 3, 1.0, np.array([4, 4, 3]), True)
    assert agent.q_table[s, 1] == pytest.approx(2.75 + 0.5 * (1.0 - 2.75))


def test_an_empty_slate_is_learnt_for_the_genre_act_chose():
    agent = two_genre_agent(gamma=0.0, alpha=1.0, epsilon=0.0)
    agent.q_table[:, 1] = 1.0  # genre B is preferred everywhere
    rng = np.random.default_rng(0)
    slate = agent.act(np.array([4, 2, 3]), np.array([2, 3]), rng)  # B has run out
    assert slate.size == 0
    agent.learn_step(SessionStep(np.array([4, 2, 3]), slate, -1, 0.0, np.array([4, 2, 3]), False))
    assert agent.q_table[agent.state_index([4, 2, 3]), 1] == 0.0  # 1 + 1.0 * (0 - 1)


def test_a_mixed_slate_is_refused_and_nothing_is_written():
    agent = two_genre_agent(gamma=0.5)
    before = agent.q_table.copy()
    with pytest.raises(ValueError, match=r"one genre, got genres \[0, 1\]"):
        agent.learn(np.array([4, 4, 4]), np.array([0, 2]), 0, 1.0, np.array([4, 4, 0]), False)
    np.testing.assert_array_equal(agent.q_table, before)


def test_exploration_picks_every_genre_at_the_rate_epsilon_over_g():
    agent = two_genre_agent(gamma=0.0, epsilon=0.5)
    agent.q_table[:, 0] = 1.0
    rng = np.random.default_rng(1)
    picks = [agent.choose_genre([4, 4, 4], rng) for _ in range(4000)]
    # P(B) = epsilon / 2 = 0.25; 4,000 draws: sd 0.0068, so +-0.03 is over 4 sd
    assert abs(np.mean(picks) - 0.25) < 0.03


def planning_gain(boredom: float) -> float:
    """Clicks per session of gamma 0.9 minus gamma 0, over the last 200 of 800 sessions."""
    model = genre_world({"Comedy": 1.5, "Drama": 0.5, "Romance": 0.0})
    env = MovieLensUserEnv(model, k=1, n_start=0, boredom=boredom)
    late = []
    for gamma in (0.0, 0.9):
        agent = GenreChoiceAgent(model.primary_genre, model.primary_names, gamma=gamma,
                                 alpha=0.3)  # fmt: skip
        late.append(run_sessions(env, agent, 800, seed=0).reward.iloc[-200:].mean())
    return late[1] - late[0]


def test_looking_ahead_pays_when_boredom_charges_the_future():
    # Each figure is a mean over 200 sessions (sd of a session's clicks about 6): a gap of
    # more than one click is about 1.7 standard errors of the difference at the least.
    assert planning_gain(boredom=0.2) > 1.0


def test_a_learnt_myopic_agent_keeps_to_the_favourite_genre_under_boredom():
    model = genre_world({"Comedy": 1.5, "Drama": 0.5, "Romance": 0.0})
    env = MovieLensUserEnv(model, k=1, n_start=0, boredom=0.2)
    myopic = GenreChoiceAgent(model.primary_genre, model.primary_names, gamma=0.0, alpha=0.3)
    planner = GenreChoiceAgent(model.primary_genre, model.primary_names, gamma=0.9, alpha=0.3)
    for agent in (myopic, planner):
        run_sessions(env, agent, 800, seed=0)
    three_comedies = myopic.state_index([0, 1, 2])
    assert int(np.argmax(myopic.q_table[three_comedies])) == 0  # Comedy again
    assert int(np.argmax(planner.q_table[three_comedies])) != 0  # a change of genre


# ---- the online Q-network's discount ------------------------------------------------------


def test_q_network_agent_takes_its_own_gamma_and_leaves_the_model_alone():
    from odsc_recsys.deep.agent import QNetworkAgent
    from odsc_recsys.deep.config import NetConfig
    from odsc_recsys.deep.models import DQNRecommender
    from odsc_recsys.sessions import make_transitions

    model = DQNRecommender(NetConfig(embed_dim=4, hidden=8, max_epochs=1, batch_size=4))
    model.fit(make_transitions({1: np.array([0, 1, 2, 3]), 2: np.array([3, 2, 1, 0])}), 4,
              np.random.default_rng(0))  # fmt: skip
    assert QNetworkAgent(model, pad=4, k=2, gamma=0.9).config.gamma == 0.9
    assert QNetworkAgent(model, pad=4, k=2).config.gamma == model.config.gamma == 0.5
    with pytest.raises(ValueError, match=r"gamma must be .*got 1\.0"):
        QNetworkAgent(model, pad=4, k=2, gamma=1.0)


# ---- the sweep and its paired table -------------------------------------------------------


def test_gamma_sweep_meets_the_same_users_at_every_discount():
    from odsc_recsys.online import gamma_sweep

    model = genre_world({"A": 1.0, "B": 0.0}, movies_per_genre=4, n_users=6)
    env = MovieLensUserEnv(model, k=1, n_start=0)

    def make(gamma, seed):
        return GenreChoiceAgent(model.primary_genre, model.primary_names, gamma=gamma)

    results = gamma_sweep({"w": env}, make, [0.0, 0.9], seeds=[0, 1], n_sessions=5)
    assert len(results) == 2 * 2 * 5
    assert sorted(results.agent.unique()) == ["γ = 0", "γ = 0.9"]
    assert results.groupby("agent").gamma.first().to_dict() == {"γ = 0": 0.0, "γ = 0.9": 0.9}
    users = results.pivot_table(index=["seed", "session"], columns="agent", values="user_id")
    assert (users["γ = 0"] == users["γ = 0.9"]).all()  # common random numbers


def test_versus_is_the_mean_paired_difference_with_a_t_interval():
    from scipy import stats

    from odsc_recsys.online import versus

    # per seed: baseline 1, 1, 1; other 2, 3, 4 -> differences 1, 2, 3: mean 2, sd 1
    rows = [{"setting": "s", "agent": a, "seed": s, "session": 0, "reward": r}
            for s in range(3) for a, r in (("γ = 0", 1.0), ("γ = 0.9", 2.0 + s))]  # fmt: skip
    table = versus(pd.DataFrame(rows), ["reward"], "γ = 0")
    half = stats.t.ppf(0.975, df=2) * 1.0 / np.sqrt(3)
    assert table.loc[("s", "γ = 0.9"), ("reward", "mean")] == pytest.approx(2.0)
    assert table.loc[("s", "γ = 0.9"), ("reward", "low")] == pytest.approx(2.0 - half)
    assert table.loc[("s", "γ = 0.9"), ("reward", "high")] == pytest.approx(2.0 + half)
    assert list(table.index) == [("s", "γ = 0.9")]


def test_plot_ope_draws_one_panel_per_target_against_its_truth():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from odsc_recsys.offpolicy import plot_ope

    index = pd.MultiIndex.from_product([["near", "far"], ["IPS", "SNIPS"], [100, 400]],
                                       names=["target", "estimator", "size"])  # fmt: skip
    ess = [90, 350, 90, 350, 5, 20, 5, 20]  # per (target, estimator): sizes 100 and 400
    summary = pd.DataFrame({"mean": np.arange(8.0), "sd": 0.1, "ess": ess}, index=index)
    fig = plot_ope(summary, {"near": 1.5, "far": 4.0})
    assert [ax.get_title() for ax in fig.axes] == ["target near: ESS 350 of 400",
                                                   "target far: ESS 20 of 400"]  # fmt: skip
    dashed = [line for line in fig.axes[1].get_lines() if line.get_linestyle() == "--"]
    assert [line.get_ydata()[0] for line in dashed] == [4.0]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["true value", "IPS", "SNIPS"]
    plt.close(fig)


def test_run_oracle_gives_each_setting_the_oracle_of_its_own_environment():
    from odsc_recsys.online import OracleAgent, run_experiment, run_oracle

    model = genre_world({"A": 1.5, "B": 0.0}, movies_per_genre=4, n_users=3)
    envs = {"off": MovieLensUserEnv(model, k=1, n_start=0),
            "on": MovieLensUserEnv(model, k=1, n_start=0, boredom=0.5)}  # fmt: skip
    got = run_oracle(envs, seeds=[0, 1], n_sessions=3, start=2, name="oracle")
    for label, env in envs.items():
        want = run_experiment({label: env}, {"oracle": lambda seed, e=env: OracleAgent(e, k=1)},
                              [0, 1], 3, start=2)  # fmt: skip
        pd.testing.assert_frame_equal(got[got.setting == label].reset_index(drop=True), want)
    assert got.groupby("setting").reward.mean()["on"] < got.groupby("setting").reward.mean()["off"]
