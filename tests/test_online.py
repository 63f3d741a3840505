"""Online evaluation: agents, the online Q-learning agent, run loops, aggregation, figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from worlds import planted_world

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
from odsc_recsys.plotting import plot_metric_bars
from odsc_recsys.qtables import GenreQTables
from odsc_recsys.simulator import MovieLensUserEnv


def planted_env(**kwargs) -> MovieLensUserEnv:
    return MovieLensUserEnv(planted_world(), **{"k": 2, "satiation": 0.0, **kwargs})


# ---- static agents ----------------------------------------------------------------------------


def test_random_agent_draws_distinct_unwatched_movies():
    agent = RandomAgent(n_items=10, k=4)
    rng = np.random.default_rng(0)
    for _ in range(20):
        slate = agent.act(np.array([10, 10, 3]), np.array([3, 5, 7]), rng)
        assert len(slate) == 4 and len(set(slate.tolist())) == 4
        assert not set(slate.tolist()) & {3, 5, 7}
    # Fewer candidates than k: all of them.
    slate = RandomAgent(n_items=4, k=3).act(np.array([4, 0, 1]), np.array([0, 1]), rng)
    assert sorted(slate.tolist()) == [2, 3]


def test_popularity_agent_by_hand_and_as_a_recommender():
    pop = np.array([5.0, 9.0, 1.0, 7.0, 3.0])
    agent = PopularityAgent(pop, k=3)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(agent.act(None, np.array([1]), rng), [3, 0, 4])
    model = Popularity().fit([[1, 3], [1, 0], [1]], n_items=5)
    wrapped = RecommenderAgent(model, k=2)
    assert wrapped.name == "Popularity"
    np.testing.assert_array_equal(wrapped.act(None, np.array([1]), rng), [0, 3])


def test_bad_k_is_rejected():
    with pytest.raises(ValueError, match="k must be a positive integer"):
        RandomAgent(n_items=5, k=0)


def test_oracle_shows_the_most_attractive_unwatched_movies():
    env = planted_env(k=2)
    env.reset(seed=0, options={"user_id": 1})
    slate = OracleAgent(env, k=2).act(None, env.history, np.random.default_rng(0))
    assert slate[0] == 6  # the planted favourite of users 1-2


# ---- the online Q-learning agent: learning, and frozen ----------------------------------------


def test_q_agent_learns_a_planted_preference():
    # A miss ends the session, so a session's reward counts the clicks before the first miss.
    env = planted_env(leave_prob=0.0, miss_cost=1.0)
    q = GenreQTables(env.model.primary_genre, env.model.primary_names, alpha=0.3, gamma=0.4,
                     epsilon=0.3)  # fmt: skip
    agent = QLearningAgent(q, pad=env.pad, k=2, reward_scale=15.0, penalty=1.0)
    before = [q.recommend((0, 1, 2), k=1).items[0], q.recommend((3, 4, 5), k=1).items[0]]
    results = run_sessions(env, agent, n_sessions=40, seed=0)
    # Untrained, ties go to the lowest index; trained, each group's favourite comes first.
    assert before == [3, 0]
    assert q.recommend((0, 1, 2), k=1).items[0] == 6
    assert q.recommend((3, 4, 5), k=1).items[0] == 7
    assert agent.updates == results.steps.sum()
    # The same users with the same tables frozen at zero: almost no clicks.
    frozen = QLearningAgent(
        GenreQTables(env.model.primary_genre, env.model.primary_names), pad=env.pad, k=2,
        learn_online=False,
    )  # fmt: skip
    static = run_sessions(env, frozen, n_sessions=40, seed=0)
    assert results.reward.mean() > static.reward.mean() + 0.5


class Recording(QLearningAgent):
    """A Q-learning agent that keeps every (state, history, slate) it acted on."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.acted: list[tuple[tuple[int, ...], np.ndarray, np.ndarray]] = []

    def act(self, observation, history, rng):
        slate = super().act(observation, history, rng)
        self.acted.append((observation_state(observation, self.pad), history.copy(), slate))
        return slate


def test_frozen_q_agent_neither_explores_nor_learns():
    env = planted_env()
    # Tables worth following: learnt online with full exploration, so not all zero.
    q = GenreQTables(env.model.primary_genre, env.model.primary_names, epsilon=1.0)
    run_sessions(env, QLearningAgent(q, pad=env.pad, k=2), n_sessions=20, seed=1)
    assert any(q.written_rows(g).size for g in range(q.n_tables))
    before = [q.table(g).tobytes() for g in range(q.n_tables)]
    agent = Recording(q, pad=env.pad, k=2, learn_online=False)
    rng = np.random.default_rng(7)
    rng_state = rng.bit_generator.state
    for seed in range(5):
        run_session(env, agent, rng, seed=seed)
    # Greedy at every step despite epsilon = 1, and the rng it was handed is never drawn from.
    assert len(agent.acted) > 5
    for state, history, slate in agent.acted:
        np.testing.assert_array_equal(slate, q.recommend(state, 2, exclude=history).items)
    assert rng.bit_generator.state == rng_state
    # Nothing learnt: no update counted and the tables byte for byte as they were.
    assert agent.updates == 0
    assert [q.table(g).tobytes() for g in range(q.n_tables)] == before
    # A learning agent on the same tables explores: with epsilon = 1 its slates draw from rng.
    learner = Recording(q, pad=env.pad, k=2)
    run_session(env, learner, rng, seed=0)
    assert rng.bit_generator.state != rng_state and learner.updates > 0


# ---- run loops ---------------------------------------------------------------------------------


def test_run_session_bookkeeping_and_determinism():
    env = planted_env(k=3)
    agent = RandomAgent(env.n_items, k=3)
    a = run_session(env, agent, np.random.default_rng(1), seed=5)
    b = run_session(env, agent, np.random.default_rng(1), seed=5)
    assert a == b
    assert 0 <= a.clicks <= a.steps and a.reward == a.clicks  # rating_weight = 0
    assert a.ctr == pytest.approx(a.clicks / a.steps)
    assert 0 < a.diversity <= 1 and a.genres <= 2


def test_sessions_share_users_across_agents_and_settings():
    seeds = session_seeds(3, 10)
    np.testing.assert_array_equal(seeds[:4], session_seeds(3, 4))
    envs = {"off": planted_env(), "on": planted_env(drift=0.2)}
    agents = {
        "random": lambda s: RandomAgent(8, k=2),
        "popular": lambda s: PopularityAgent(np.arange(8.0), k=2),
    }
    res = run_experiment(envs, agents, seeds=[0, 1], n_sessions=6)
    assert len(res) == 2 * 2 * 2 * 6
    users = res.pivot_table(index=["seed", "session"], columns=["setting", "agent"],
                            values="user_id")  # fmt: skip
    assert (users.nunique(axis=1) == 1).all()
    assert res.groupby(["setting", "agent", "seed"])["coverage"].is_monotonic_increasing.all()


def test_run_experiment_runs_every_agent_on_seeds_given_as_an_iterator():
    # Seeds are read once per agent: a one-shot iterator must not run out after the first.
    envs = {"off": planted_env()}
    agents = {
        "random": lambda s: RandomAgent(8, k=2),
        "popular": lambda s: PopularityAgent(np.arange(8.0), k=2),
    }
    res = run_experiment(envs, agents, seeds=iter([0, 1]), n_sessions=3)
    assert len(res) == 2 * 2 * 3
    assert sorted(res.groupby(["agent", "seed"]).groups) == [
        ("popular", 0), ("popular", 1), ("random", 0), ("random", 1),
    ]  # fmt: skip
    pd.testing.assert_frame_equal(res, run_experiment(envs, agents, seeds=[0, 1], n_sessions=3))


# ---- aggregation -------------------------------------------------------------------------------


def results_by_hand() -> pd.DataFrame:
    rows = []
    # (agent, seed, session, clicks, steps)
    data = [
        ("a", 0, 0, 1, 2), ("a", 0, 1, 3, 4),  # ctr 4/6
        ("a", 1, 0, 2, 2), ("a", 1, 1, 1, 2),  # ctr 3/4
        ("a", 2, 0, 0, 1), ("a", 2, 1, 2, 3),  # ctr 2/4
        ("b", 0, 0, 1, 4), ("b", 0, 1, 1, 4),
        ("b", 1, 0, 1, 2), ("b", 1, 1, 0, 2),
        ("b", 2, 0, 1, 1), ("b", 2, 1, 0, 3),
    ]  # fmt: skip
    for agent, seed, session, clicks, steps in data:
        rows.append(
            {"setting": "s", "agent": agent, "seed": seed, "session": session, "clicks": clicks,
             "steps": steps, "reward": float(clicks), "coverage": 0.1 * (session + 1)}
        )  # fmt: skip
    return pd.DataFrame(rows)


def test_per_seed_pools_ctr_and_averages_the_rest():
    res = results_by_hand()
    ctr = per_seed(res, "ctr")
    np.testing.assert_allclose(ctr.loc[("s", "a")].to_numpy(), [4 / 6, 3 / 4, 2 / 4])
    np.testing.assert_allclose(per_seed(res, "steps").loc[("s", "a")].to_numpy(), [3, 2, 2])
    np.testing.assert_allclose(per_seed(res, "coverage").loc[("s", "b")].to_numpy(), [0.2] * 3)
    with pytest.raises(ValueError, match="unknown metric"):
        per_seed(res, "joy")


def test_summarise_gives_a_t_interval_over_seeds():
    res = results_by_hand()
    table = summarise(res, metrics=["ctr"])
    values = np.array([4 / 6, 3 / 4, 2 / 4])
    half = stats.t.ppf(0.975, 2) * values.std(ddof=1) / np.sqrt(3)
    row = table.loc[("s", "a"), "ctr"]
    np.testing.assert_allclose(row[["mean", "low", "high"]].to_numpy(dtype=float),
                               [values.mean(), values.mean() - half, values.mean() + half])  # fmt: skip


def test_paired_difference_by_hand():
    res = results_by_hand()
    diff = paired_difference(res, "reward", "a", "b")
    # Per seed: a's mean reward - b's: (2 - 1), (1.5 - 0.5), (1 - 0.5).
    d = np.array([1.0, 1.0, 0.5])
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    np.testing.assert_allclose(
        diff.loc["s"].to_numpy(), [d.mean(), d.mean() - half, d.mean() + half]
    )
    with pytest.raises(ValueError, match="unknown agent"):
        paired_difference(res, "reward", "a", "zz")


def test_learning_curves_by_block():
    res = results_by_hand()
    curves = learning_curves(res, "ctr", block=1)
    a = curves[curves.agent == "a"].set_index("block")
    # Block 0 (first sessions): ctr 1/2, 2/2, 0/1 per seed.
    assert a.loc[0, "mean"] == pytest.approx(np.mean([0.5, 1.0, 0.0]))
    assert a.loc[1, "session"] == 2
    with pytest.raises(ValueError, match="block"):
        learning_curves(res, "ctr", block=0)


def test_paired_difference_between_settings():
    res = results_by_hand()
    other = res.assign(setting="t", clicks=res["clicks"] * 0, reward=res["reward"] * 0.0)
    diff = paired_difference(pd.concat([res, other]), "reward", "s", "t", between="setting")
    # Setting t has zero reward everywhere: the difference is agent a's own per-seed means.
    d = np.array([2.0, 1.5, 1.0])
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    np.testing.assert_allclose(
        diff.loc["a"].to_numpy(), [d.mean(), d.mean() - half, d.mean() + half]
    )
    with pytest.raises(ValueError, match="between"):
        paired_difference(res, "reward", "s", "t", between="seed")


def test_genre_repeat_rate_by_hand():
    genre = np.array([0, 0, 1, 1, 2])
    # 0->1 same, 1->2 change, 2->3 same | 4->0 change: 2 of 4.
    assert (
        genre_repeat_rate([np.array([0, 1, 2, 3]), np.array([4, 0]), np.array([3])], genre) == 0.5
    )
    with pytest.raises(ValueError, match="at least one sequence"):
        genre_repeat_rate([np.array([1])], genre)


def test_simulate_log_matches_the_session_results():
    env = planted_env(k=2)
    log = simulate_log(env, RandomAgent(8, k=2), n_sessions=5, seed=2)
    res = run_sessions(env, RandomAgent(8, k=2), n_sessions=5, seed=2)
    by_session = log.groupby("session")
    np.testing.assert_array_equal(by_session.size().to_numpy(), res.steps.to_numpy())
    np.testing.assert_array_equal(
        by_session["clicked"].apply(lambda c: int((c >= 0).sum())).to_numpy(), res.clicks.to_numpy()
    )
    assert set(log.loc[log.clicked < 0, "rating"]) == {0}


def test_a_late_start_meets_the_same_users():
    env = planted_env()
    full = run_sessions(env, RandomAgent(8, k=2), n_sessions=8, seed=4)
    late = run_sessions(env, RandomAgent(8, k=2), n_sessions=3, seed=4, start=5)
    np.testing.assert_array_equal(late.session, [5, 6, 7])
    np.testing.assert_array_equal(late.user_id, full.user_id.iloc[5:])
    with pytest.raises(ValueError, match="start"):
        run_sessions(env, RandomAgent(8, k=2), n_sessions=3, seed=4, start=-1)


def test_mean_interval_by_hand():
    # Three values 1, 2, 3: mean 2, sd 1, half-width t(0.975, 2) / sqrt(3) = 4.303 / 1.732.
    mean, low, high = mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and high - mean == pytest.approx(4.302653 / np.sqrt(3), rel=1e-6)
    assert mean_interval([5.0]) == (5.0, 5.0, 5.0)
    with pytest.raises(ValueError, match="at least one"):
        mean_interval([])
    with pytest.raises(ValueError, match="level"):
        mean_interval([1.0, 2.0], level=1.0)


def test_figures_draw_one_panel_per_setting_and_metric():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = results_by_hand()
    curves = learning_curves(res[res.agent == "a"], "ctr", block=1)
    levels = summarise(res[res.agent == "b"], ["ctr"])
    fig = plot_learning_curves(curves, levels, "ctr")
    (ax,) = fig.axes
    # One line for the learning agent, one dashed level for the static one.
    assert len(ax.lines) == 2 and ax.get_title() == "s"
    plt.close(fig)
    fig = plot_metric_bars(summarise(res, ["ctr", "reward"]), ["ctr", "reward"], ncols=2)
    assert [a.get_title() for a in fig.axes] == ["ctr", "reward"]
    assert all(len(a.patches) == 2 for a in fig.axes)  # two agents, one setting
    plt.close(fig)


# ---- user split, coverage, leads, evidence, MovieLens checks, learn_step, agent colours -------


def test_split_users_is_a_seeded_partition():
    ids = np.arange(100, 150)
    sim, logged = split_users(ids, 10, seed=3)
    assert len(sim) == 10 and len(logged) == 40
    assert sorted(np.concatenate([sim, logged]).tolist()) == ids.tolist()
    assert np.all(np.diff(sim) > 0) and np.all(np.diff(logged) > 0)
    np.testing.assert_array_equal(split_users(ids, 10, seed=3)[0], sim)
    assert not np.array_equal(split_users(ids, 10, seed=4)[0], sim)
    for bad in (0, 50, 2.5, True):
        with pytest.raises(ValueError, match="n_simulated"):
            split_users(ids, bad, seed=0)


def test_coverage_counts_from_the_session_asked_for():
    env = planted_env()
    agent = PopularityAgent(np.arange(8.0)[::-1], k=2)  # deterministic: slates need no rng
    full = run_sessions(env, agent, n_sessions=6, seed=1)
    late = run_sessions(env, agent, n_sessions=6, seed=1, coverage_from=4)
    alone = run_sessions(env, agent, n_sessions=2, seed=1, start=4)
    assert late.coverage.iloc[:4].isna().all()
    # Coverage from session 4 on is what the same agent started at session 4 has shown.
    np.testing.assert_allclose(late.coverage.iloc[4:].to_numpy(), alone.coverage.to_numpy())
    assert full.coverage.iloc[-1] >= late.coverage.iloc[-1]
    with pytest.raises(ValueError, match="coverage_from"):
        run_sessions(env, RandomAgent(8, k=2), n_sessions=2, seed=1, start=3, coverage_from=1)


def test_lead_change_by_hand():
    rows = []
    # Two seeds; agent a leads b by 1 then 3 (seed 0) and by 0 then 1 (seed 1): changes 2, 1.
    for seed, (a_first, b_first, a_last, b_last) in enumerate([(2, 1, 5, 2), (1, 1, 2, 1)]):
        for agent, first, last in (("a", a_first, a_last), ("b", b_first, b_last)):
            rows.append({"setting": "s", "agent": agent, "seed": seed, "session": 0,
                         "reward": float(first)})  # fmt: skip
            rows.append({"setting": "s", "agent": agent, "seed": seed, "session": 3,
                         "reward": float(last)})  # fmt: skip
    out = lead_change(pd.DataFrame(rows), "a", "b", "reward", (0, 1), (3, 4)).loc["s"]
    assert out["lead, first"] == 0.5 and out["lead, last"] == 2.0
    mean, low, high = mean_interval([2.0, 1.0])
    np.testing.assert_allclose(out[["change", "low", "high"]].to_numpy(dtype=float),
                               [mean, low, high])  # fmt: skip
    with pytest.raises(ValueError, match="no sessions of 'zz'"):
        lead_change(pd.DataFrame(rows), "a", "zz", "reward", (0, 1), (3, 4))
    with pytest.raises(ValueError, match="window"):
        lead_change(pd.DataFrame(rows), "a", "b", "reward", (2, 1), (3, 4))


def test_evidence_table_reads_each_interval():
    table = evidence_table({("c", "up"): (1.0, 0.5, 1.5), ("c", "down"): (-1.0, -2.0, -0.1),
                            ("d", "flat"): (0.1, -0.2, 0.4)}, higher="Q higher")  # fmt: skip
    assert table["reading"].tolist() == ["Q higher", "lower", "no difference detected"]
    with pytest.raises(ValueError, match="low <= mean <= high"):
        evidence_table({("c", "bad"): (1.0, 2.0, 3.0)})
    with pytest.raises(ValueError, match="at least one"):
        evidence_table({})


def test_compare_with_movielens_on_a_planted_world():
    model = planted_world()
    env = MovieLensUserEnv(model, k=2, satiation=0.0)
    log = simulate_log(env, RandomAgent(8, k=2), n_sessions=20, seed=0)
    ratings = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 3], "rating": [1, 4, 5]})
    check = compare_with_movielens(model, {"sim": log}, ratings)
    clicks = log[log.clicked >= 0]
    row = check.table.loc["sim"]
    assert row["watches"] == len(clicks) and row["CTR"] == pytest.approx(len(clicks) / len(log))
    # MovieLens side: the histories (0, 1, 2) twice and (3, 4, 5) twice; genres A and B.
    np.testing.assert_allclose(check.genre_shares["MovieLens"], [0.5, 0.5])
    assert check.table.loc["MovieLens", "genre repeat rate"] == 1.0
    assert check.table.loc["MovieLens", "1-star share"] == pytest.approx(1 / 3)
    np.testing.assert_allclose(check.rating_shares["MovieLens"], [1 / 3, 0, 0, 1 / 3, 1 / 3])
    shares = check.genre_shares["sim"]
    assert row["genre share distance (TV)"] == pytest.approx(0.5 * np.abs(shares - 0.5).sum())
    with pytest.raises(ValueError, match="no click"):
        compare_with_movielens(model, {"empty": log.assign(clicked=-1)}, ratings)


def test_simulator_check_figure_and_a_grid_of_metric_panels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model = planted_world()
    env = MovieLensUserEnv(model, k=2, satiation=0.0)
    log = simulate_log(env, RandomAgent(8, k=2), n_sessions=10, seed=0)
    ratings = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 4], "rating": [3, 4]})
    fig = plot_simulator_check(compare_with_movielens(model, {"sim": log}, ratings))
    titles = [a.get_title() for a in fig.axes]
    assert titles == ["Primary genre of watched movies", "Who gets watched", "Ratings"]
    plt.close(fig)
    with pytest.raises(ValueError, match="simulated log"):
        plot_simulator_check(compare_with_movielens(model, {"sim": log}, ratings), "MovieLens")
    res = results_by_hand()
    fig = plot_metric_bars(
        summarise(res, ["ctr", "reward", "steps"]), ["ctr", "reward", "steps"], ncols=2
    )
    visible = [a.get_title() for a in fig.axes if a.get_visible()]
    assert visible == ["ctr", "reward", "steps"] and len(fig.axes) == 4  # a 2 x 2 grid
    plt.close(fig)


def test_learn_hands_each_step_to_learn_step_only_while_learning():
    class Steps(RandomAgent):
        def __init__(self, learn_online: bool) -> None:
            super().__init__(n_items=8, k=2)
            self.learn_online = learn_online
            self.steps: list[SessionStep] = []

        def learn_step(self, step: SessionStep) -> None:
            self.steps.append(step)

    env = planted_env()
    agent = Steps(learn_online=True)
    log: list[dict] = []
    result = run_session(env, agent, np.random.default_rng(0), seed=3, log=log)
    assert len(agent.steps) == result.steps == len(log)
    assert [s.clicked for s in agent.steps] == [row["clicked"] for row in log]
    # Each step starts where the last one ended; only the last may end the session.
    for prev, nxt in zip(agent.steps, agent.steps[1:], strict=False):
        assert nxt.observation is prev.next_observation and not prev.done
    assert agent.steps[-1].done == result.left
    assert sum(s.reward for s in agent.steps) == result.reward
    frozen = Steps(learn_online=False)
    run_session(env, frozen, np.random.default_rng(0), seed=3)
    assert frozen.steps == []


def test_agent_colors_follow_tab10_in_sorted_order():
    import matplotlib

    tab10 = matplotlib.colormaps["tab10"]
    names = [f"agent {i:02d}" for i in range(12)]
    colors = agent_colors(reversed(names))
    assert list(colors) == names
    assert [colors[n] for n in names] == [tab10(i % 10) for i in range(12)]
