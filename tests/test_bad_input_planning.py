"""The bad-input battery, planning: boredom, the genre world, the genre-choice agent, the gamma
sweep and its paired table, the online Q-network's discount, and the OPE figure.

Every case asserts the exception type, that the message names the bad value and what is
allowed, and that nothing changed (agents and their Q-tables, environments).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from bad_input import rejects  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from odsc_recsys.offpolicy import plot_ope  # noqa: E402
from odsc_recsys.online import (  # noqa: E402
    GenreChoiceAgent,
    SessionStep,
    gamma_label,
    gamma_sweep,
    versus,
)
from odsc_recsys.simulator import MovieLensUserEnv, genre_world  # noqa: E402


@pytest.fixture(scope="module")
def world():
    return genre_world({"A": 1.0, "B": 0.0}, movies_per_genre=3, n_users=2)


def agent(**kwargs):
    return GenreChoiceAgent(np.array([0, 0, 1, 1]), ["A", "B"], **{"gamma": 0.5, **kwargs})


# ---- boredom and the genre world ---------------------------------------------------------


@pytest.mark.parametrize("value, match", [
    (-0.1, "boredom must be"), (float("nan"), "boredom must be"), ("0.2", "boredom must be"),
    (float("inf"), "boredom must be"),
])  # fmt: skip
def test_boredom_is_a_finite_number_at_least_0(world, value, match):
    rejects(lambda: MovieLensUserEnv(world, k=1, boredom=value), match=[match, repr(value)])


@pytest.mark.parametrize("kwargs, match", [
    ({"appeal": {}}, "appeal must be a non-empty mapping"),
    ({"appeal": [("A", 1.0)]}, "appeal must be a non-empty mapping"),
    ({"appeal": {"A": float("nan")}}, "appeal['A'] must be"),
    ({"appeal": {"A": "high"}}, "appeal['A'] must be"),
    ({"appeal": {"": 1.0}}, "a genre name must be"),
    ({"appeal": {"A": 1.0}, "movies_per_genre": 0}, "movies_per_genre must be"),
    ({"appeal": {"A": 1.0}, "movies_per_genre": 2.5}, "movies_per_genre must be"),
    ({"appeal": {"A": 1.0}, "n_users": 0}, "n_users must be"),
])  # fmt: skip
def test_genre_world_refuses_a_bad_recipe(kwargs, match):
    rejects(lambda: genre_world(**kwargs), match=match)


# ---- the genre-choice agent ---------------------------------------------------------------


@pytest.mark.parametrize("kwargs, match", [
    ({"gamma": 1.5}, "gamma (discount factor) must be"),
    ({"gamma": -0.1}, "gamma (discount factor) must be"),
    ({"alpha": 0.0}, "alpha (learning rate) must be"),
    ({"alpha": 1.5}, "alpha (learning rate) must be"),
    ({"epsilon": 2.0}, "epsilon (exploration rate) must be"), ({"k": 0}, "k must be"),
    ({"scores": np.zeros(3)}, "scores must"), ({"scores": np.array([0, 1, np.nan, 0])}, "scores"),
    ({"name": ""}, "name must be"),
])  # fmt: skip
def test_genre_choice_agent_checks_its_settings(kwargs, match):
    rejects(lambda: agent(**kwargs), match=match)


@pytest.mark.parametrize("genre, names, match", [
    (np.array([0, 2]), ["A", "B"], "genre"), (np.array([0, -1]), ["A", "B"], "genre"),
    (np.array([0.0, 1.0]), ["A", "B"], "genre"), (np.array([], dtype=int), ["A"], "genre"),
    (np.array([0, 1]), "AB", "genre_names must be a sequence"),
    (np.array([0, 0]), [], "genre_names"), (np.array([0, 0]), [""], "a genre name must be"),
])  # fmt: skip
def test_genre_choice_agent_checks_its_catalogue(genre, names, match):
    rejects(lambda: GenreChoiceAgent(genre, names, gamma=0.5), match=match)


@pytest.mark.parametrize("observation", [[4, 4, 5], [4, -1, 0], [0.5, 0, 0], "abc"])
def test_state_index_refuses_what_is_not_an_observation(observation):
    a = agent()
    rejects(lambda: a.state_index(observation), match="observation", unchanged=[a])


def test_choose_genre_needs_a_generator():
    a = agent()
    rejects(lambda: a.choose_genre([4, 4, 4], 7), match=["rng must be", "7"], unchanged=[a])


@pytest.mark.parametrize("step, match", [
    (SessionStep(np.array([4, 4, 4]), np.array([0, 2]), 0, 1.0, np.array([4, 4, 0]), False),
     "one genre"),
    (SessionStep(np.array([4, 4, 4]), np.array([], dtype=np.int64), -1, 0.0,
                 np.array([4, 4, 4]), False), "call act() first"),
    (SessionStep(np.array([4, 4, 4]), np.array([0]), 0, float("nan"), np.array([4, 4, 0]),
                 False), "reward must be"),
    (SessionStep(np.array([4, 4, 9]), np.array([0]), 0, 1.0, np.array([4, 4, 0]), False),
     "observation"),
    (SessionStep(np.array([4, 4, 4]), np.array([0]), 0, 1.0, np.array([4, 4, 0]), 1),
     "done must be"),
    ((np.array([4, 4, 4]), np.array([0]), 0, 1.0, np.array([4, 4, 0]), False),
     "step must be a SessionStep"),
])  # fmt: skip
def test_a_refused_step_writes_nothing(step, match):
    a = agent()
    a.q_table[:] = np.arange(a.q_table.size).reshape(a.q_table.shape)
    rejects(lambda: a.learn_step(step), match=match, unchanged=[a])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-3, 8), min_size=3, max_size=3))
def test_state_index_accepts_exactly_movies_and_the_padding(observation):
    a = agent()
    if all(0 <= m <= 4 for m in observation):
        assert 0 <= a.state_index(observation) < a.q_table.shape[0]
    else:
        rejects(lambda: a.state_index(observation), match="observation", unchanged=[a])


# ---- the sweep and its table --------------------------------------------------------------


def test_gamma_label_checks_the_discount():
    assert gamma_label(0.9) == "γ = 0.9"
    rejects(lambda: gamma_label(1.2), match=["gamma (discount factor) must be", "1.2"])


@pytest.mark.parametrize("gammas, match", [
    ([], "gammas must be a non-empty sequence"), ("0.5", "gammas must be a non-empty sequence"),
    ([0.0, 0.0], "gammas must be distinct"), ([0.0, 1.5], "gamma (discount factor) must be"),
    (0.5, "gammas must be a non-empty sequence"),
])  # fmt: skip
def test_gamma_sweep_checks_its_discounts_before_running(world, gammas, match):
    env = MovieLensUserEnv(world, k=1, n_start=0)
    rejects(lambda: gamma_sweep({"w": env}, lambda g, s: None, gammas, [0], 2), match=match,
            unchanged=[env])  # fmt: skip


def test_gamma_sweep_needs_a_factory(world):
    env = MovieLensUserEnv(world, k=1, n_start=0)
    rejects(lambda: gamma_sweep({"w": env}, "agent", [0.0], [0], 2),
            match=["make_agent must be a factory", "'agent'"])  # fmt: skip


@pytest.fixture(scope="module")
def results():
    rows = []
    for seed in range(3):
        for agent_name, reward in (("γ = 0", 1.0), ("γ = 0.9", 2.0 + seed)):
            rows.append({"setting": "s", "agent": agent_name, "seed": seed, "session": 0,
                         "reward": reward})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize("metrics, baseline, match", [
    ([], "γ = 0", "metrics must be a non-empty list"),
    ("reward", "γ = 0", "metrics must be a non-empty list"),
    (["reward"], "γ = 0.5", "baseline must be one of"),
    (["clicks"], "γ = 0", "clicks"),
])  # fmt: skip
def test_versus_refuses_a_bad_table_request(results, metrics, baseline, match):
    rejects(lambda: versus(results, metrics, baseline), match=match, unchanged=[results])


def test_versus_needs_another_agent_than_the_baseline(results):
    alone = results[results.agent == "γ = 0"]
    rejects(lambda: versus(alone, ["reward"], "γ = 0"), match="an agent besides the baseline")


def test_versus_needs_a_results_table():
    rejects(lambda: versus([1, 2], ["reward"], "γ = 0"), match="results must be a DataFrame")


# ---- the OPE figure -----------------------------------------------------------------------


def test_plot_ope_needs_the_summary_and_every_truth():
    index = pd.MultiIndex.from_tuples([("T=1", "IPS", 10)], names=["target", "estimator", "size"])
    summary = pd.DataFrame({"mean": [1.0], "sd": [0.1], "ess": [9.0]}, index=index)
    rejects(lambda: plot_ope(summary, {}), match="got none for 'T=1'")
    rejects(lambda: plot_ope(summary, {"T=1": float("nan")}), match="truth['T=1'] must be")
    rejects(lambda: plot_ope(summary.reset_index(), {"T=1": 1.0}),
            match="summary must be summarise_ope's table")  # fmt: skip


def test_run_oracle_needs_environments_and_a_name(world):
    from odsc_recsys.online import run_oracle

    env = MovieLensUserEnv(world, k=1, n_start=0)
    rejects(lambda: run_oracle({}, [0], 2), match="envs must be a non-empty mapping")
    rejects(lambda: run_oracle({"w": "env"}, [0], 2), match=["MovieLensUserEnv", "str"])
    rejects(lambda: run_oracle({"w": env}, [0], 2, name=""), match="name must be",
            unchanged=[env])  # fmt: skip
    rejects(lambda: run_oracle({"w": env}, [0], 0), match="n_sessions must be", unchanged=[env])
