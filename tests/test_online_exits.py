"""Session exits against genre satiation and rating (odsc_recsys.online.exits)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from worlds import planted_world

from odsc_recsys.catalog import Catalog
from odsc_recsys.online import RandomAgent, simulate_log
from odsc_recsys.online.exits import (
    EVENT_COLUMNS,
    exit_rates,
    exit_slope,
    watch_events_movielens,
    watch_events_simulated,
    wilson_interval,
)
from odsc_recsys.simulator import MovieLensUserEnv, UserModel

Z = 1.959963984540054  # the 97.5% normal quantile


def small_catalog() -> Catalog:
    """MovieLens ids 1..5 with genres A, A, A+B, B, B."""
    return Catalog(item_ids=np.arange(1, 6), titles=[f"m{i}" for i in range(1, 6)],
                   genres=[("A",), ("A",), ("A", "B"), ("B",), ("B",)],
                   popularity=np.zeros(5, dtype=np.int64))  # fmt: skip


def small_ratings() -> pd.DataFrame:
    # User 1: movies 1, 2, 3 within minutes, then 5 after 4980 s; movie 99 (not in the
    # catalogue) sits in between and would bridge the two if it were kept.
    # User 2: movies 4 and 3 share a timestamp (in that data order), movie 1 is earlier.
    return pd.DataFrame({
        "user_id":   [1, 1, 1, 1, 1, 2, 2, 2],
        "item_id":   [1, 2, 3, 99, 5, 4, 3, 1],
        "rating":    [5, 4, 1, 3, 2, 3, 4, 5],
        "timestamp": [0, 10, 20, 2000, 5000, 100, 100, 50],
    })  # fmt: skip


# ---- MovieLens rating sessions ---------------------------------------------------------------


def test_movielens_events_by_hand():
    events = watch_events_movielens(small_ratings(), small_catalog(), gap=3600,
                                    satiation_decay=0.5)  # fmt: skip
    assert list(events.columns) == list(EVENT_COLUMNS)
    assert events["user_id"].tolist() == [1, 1, 1, 1, 2, 2, 2]
    assert events["session"].tolist() == [0, 0, 0, 1, 2, 2, 2]
    assert events["position"].tolist() == [0, 1, 2, 0, 0, 1, 2]
    # user 2: movie 1 first (earlier), then the tie in data order: 4, then 3
    assert events["item"].tolist() == [0, 1, 2, 4, 0, 3, 2]
    assert events["rating"].tolist() == [5, 4, 1, 2, 5, 3, 4]
    assert events["last"].tolist() == [False, False, True, True, False, False, True]
    # User 1: s = 0 -> overlap 0; s = [1, 0] -> <A, s> = 1; s = [1.5, 0] -> <(.5, .5), s> = .75.
    # User 2: 0; <B, [1, 0]> = 0; s = [.5, 1] -> <(.5, .5), s> = .75 (reversed tie: .5).
    np.testing.assert_allclose(events["overlap"], [0, 1, 0.75, 0, 0, 0, 0.75])


def test_movielens_gap_and_decay_change_the_events():
    ratings, catalog = small_ratings(), small_catalog()
    # A gap of 10 s splits user 1's first session into single ratings (10 s is not below
    # 10 s); user 2's tie stays together.
    short = watch_events_movielens(ratings, catalog, gap=10)
    assert short["session"].tolist() == [0, 1, 2, 3, 4, 5, 5]
    # No decay memory: only the previous movie counts.
    none = watch_events_movielens(ratings, catalog, satiation_decay=0.0)
    np.testing.assert_allclose(none["overlap"], [0, 1, 0.5, 0, 0, 0, 0.5])


def test_movielens_events_on_the_tutorial_data(tutorial_data):
    events = watch_events_movielens(tutorial_data.ratings, tutorial_data.catalog)
    kept = tutorial_data.ratings["item_id"].isin(tutorial_data.catalog.item_ids)
    assert len(events) == int(kept.sum())
    n_sessions = events["session"].nunique()
    assert events["last"].sum() == n_sessions == (events["position"] == 0).sum()
    assert (events.loc[events["position"] == 0, "overlap"] == 0).all()
    assert events["overlap"].max() <= 1 / (1 - 0.7) + 1e-9  # s never exceeds sum_k 0.7^k


# ---- simulated watches -----------------------------------------------------------------------


def test_simulated_events_by_hand():
    model = planted_world()  # user 1 opens with movies 0, 1, 2 (genre A); 3 is B, 6 is A
    log = pd.DataFrame({"session": [0, 0, 0], "user_id": [1, 1, 1], "step": [0, 1, 2],
                        "clicked": [3, -1, 6], "position": [0, -1, 1],
                        "rating": [4, 0, 2]})  # fmt: skip
    events = watch_events_simulated(log, model, satiation_decay=0.5, n_start=3)
    # opening s = [1.75, 0]; click B: overlap 0, s = [.875, 1]; a miss fades it to
    # [.4375, .5]; click A: overlap .4375.
    np.testing.assert_allclose(events["overlap"], [0.0, 0.4375])
    assert events["item"].tolist() == [3, 6] and events["position"].tolist() == [0, 1]
    assert events["last"].tolist() == [False, True] and events["rating"].tolist() == [4, 2]
    # Shuffled rows are put back in step order; fewer opening movies, less satiation.
    shuffled = watch_events_simulated(log.iloc[[2, 0, 1]], model, 0.5, n_start=3)
    pd.testing.assert_frame_equal(shuffled, events)
    cold = watch_events_simulated(log, model, satiation_decay=0.5, n_start=0)
    np.testing.assert_allclose(cold["overlap"], [0.0, 0.0])
    # A session that ran max_steps steps was cut off: its final watch is not an exit.
    assert watch_events_simulated(log, model, 0.5, max_steps=3)["last"].tolist() == [False]
    assert len(watch_events_simulated(log, model, 0.5, max_steps=4)) == 2


class RecordingAgent(RandomAgent):
    """Random slates; records the environment's satiation before every step."""

    def __init__(self, env: MovieLensUserEnv) -> None:
        super().__init__(n_items=env.n_items, k=env.k)
        self.env, self.seen = env, []

    def act(self, observation, history, rng):
        self.seen.append(self.env.satiation_vector)
        return super().act(observation, history, rng)


@pytest.mark.parametrize(("decay", "n_start"), [(0.7, 3), (0.4, 2)])
def test_simulated_overlap_is_the_environments_satiation(decay, n_start):
    model = UserModel.toy(
        np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]), np.eye(2)[[0, 1, 0, 1, 0, 1, 0, 1]],
        [("A",), ("A", "B"), ("B",), ("B", "C"), ("C",), ("A", "C"), ("A", "B", "C"), ("B",)],
        intercept=0.0, histories=[[0, 1, 2], [3, 4, 5], [6, 7, 0]], rating_noise=1.0,
    )  # fmt: skip
    env = MovieLensUserEnv(model, k=2, satiation=0.5, satiation_decay=decay, boredom=0.3,
                           n_start=n_start, max_steps=12)  # fmt: skip
    agent = RecordingAgent(env)
    log = simulate_log(env, agent, n_sessions=8, seed=3)
    assert len(agent.seen) == len(log)
    assert (log["clicked"] == -1).any() and (log["clicked"] >= 0).any()
    watched = log["clicked"].to_numpy() >= 0
    expected = [model.genre_weights[m] @ s
                for m, s in zip(log["clicked"][watched], np.array(agent.seen)[watched], strict=True)]  # fmt: skip
    events = watch_events_simulated(log, model, satiation_decay=decay, n_start=n_start)
    np.testing.assert_allclose(events["overlap"], expected, atol=1e-12)
    assert events["last"].sum() == log.loc[watched, "session"].nunique()


# ---- exit rates and the slope ----------------------------------------------------------------


def test_wilson_interval_known_values():
    low, high = wilson_interval(np.array([5, 0, 0]), np.array([10, 10, 0]))
    np.testing.assert_allclose(low[:2], [0.236593, 0.0], atol=1e-6)
    np.testing.assert_allclose(high[:2], [0.763407, 0.277533], atol=1e-6)
    assert np.isnan(low[2]) and np.isnan(high[2])


def toy_events() -> pd.DataFrame:
    return pd.DataFrame({"overlap": [0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 9.0],
                         "rating": [1, 1, 3, 3, 5, 5, 5], "position": [0, 1, 2, 3, 4, 5, 6],
                         "last": [True, False, False, False, True, True, True]})  # fmt: skip


def test_exit_rates_on_fixed_edges():
    table = exit_rates(toy_events(), bins=[0, 0.5, 1.5, 2.5])
    assert table.index.tolist() == ["[0, 0.5]", "(0.5, 1.5]", "(1.5, 2.5]"]
    assert table["events"].tolist() == [2, 2, 2]  # the 9.0 lies beyond the last edge
    assert table["exits"].tolist() == [1, 0, 2]
    np.testing.assert_allclose(table["exit rate"], [0.5, 0.0, 1.0])
    np.testing.assert_allclose(table["mean overlap"], [0.0, 1.0, 2.0])
    low, high = wilson_interval(np.array([1, 0, 2]), np.array([2, 2, 2]))
    np.testing.assert_allclose(table["low"], low)
    np.testing.assert_allclose(table["high"], high)
    # an edge value belongs to the bin it closes: (a, b]
    assert exit_rates(toy_events(), bins=[0, 1, 9])["events"].tolist() == [4, 3]


def test_exit_rates_by_rating_and_quantiles():
    by_star = exit_rates(toy_events(), by="rating")
    assert by_star.index.tolist() == [1, 2, 3, 4, 5]
    assert by_star["events"].tolist() == [2, 0, 2, 0, 3]
    np.testing.assert_allclose(by_star["exit rate"], [0.5, np.nan, 0.0, np.nan, 1.0])
    # Quartiles of [0, 0, 1, 1, 2, 2, 9] are 0, 0.5, 1, 2, 9: all distinct, four bins.
    quartiles = exit_rates(toy_events())
    assert quartiles["events"].tolist() == [2, 2, 2, 1]
    # Repeated quantiles merge: seven zeros and one 1 give a single bin.
    flat = pd.DataFrame({"overlap": [0.0] * 7 + [1.0], "last": [False] * 7 + [True]})
    assert exit_rates(flat)["events"].tolist() == [8]
    assert exit_rates(toy_events(), by="position", bins=2)["events"].tolist() == [4, 3]


def test_exit_slope_is_the_log_odds_ratio_for_a_binary_covariate():
    # x = 0: 2 exits in 10; x = 1: 6 exits in 10. Odds ratio (6/4) / (2/8) = 6.
    x = np.repeat([0.0, 1.0], 10)
    last = np.r_[np.arange(10) < 2, np.arange(10) < 6]
    fit = exit_slope(pd.DataFrame({"overlap": x, "last": last}), covariates=["overlap"])
    se = math.sqrt(1 / 2 + 1 / 8 + 1 / 6 + 1 / 4)
    assert fit["overlap"] == pytest.approx(math.log(6), abs=1e-9)
    assert fit["overlap low"] == pytest.approx(math.log(6) - Z * se, abs=1e-7)
    assert fit["overlap high"] == pytest.approx(math.log(6) + Z * se, abs=1e-7)
    assert (fit["events"], fit["exits"], fit["exit rate"]) == (20.0, 8.0, 0.4)


def test_exit_slope_holds_the_other_covariate_fixed():
    # The exit depends on the rating only (20% at rating 0, 60% at rating 1), but high
    # overlap comes mostly with rating 1, so overlap alone looks like it drives exits.
    rows = []
    for rating, overlap, n, exits in ((0, 0.0, 30, 6), (0, 1.0, 10, 2), (1, 0.0, 10, 6),
                                      (1, 1.0, 30, 18)):  # fmt: skip
        rows += [(overlap, rating, j < exits) for j in range(n)]
    df = pd.DataFrame(rows, columns=["overlap", "rating", "last"])
    assert exit_slope(df, covariates=["overlap"])["overlap"] == pytest.approx(
        math.log((20 / 20) / (12 / 28)), abs=1e-9)  # fmt: skip
    fit = exit_slope(df)
    assert fit["overlap"] == pytest.approx(0.0, abs=1e-9)
    assert fit["rating"] == pytest.approx(math.log(6), abs=1e-9)


# ---- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: watch_events_movielens(small_ratings(), small_catalog(), gap=0),
            r"gap must be a finite number > 0, got 0",
        ),
        (
            lambda: watch_events_movielens(small_ratings(), small_catalog(), satiation_decay=1.5),
            r"satiation_decay must be a finite number in \[0, 1\], got 1.5",
        ),
        (
            lambda: watch_events_movielens(
                small_ratings().drop(columns="timestamp"), small_catalog()
            ),
            r"ratings must be a DataFrame",
        ),
        (lambda: watch_events_movielens(small_ratings(), "catalog"), r"catalog must be a Catalog"),
        (
            lambda: watch_events_movielens(small_ratings().assign(rating=6), small_catalog()),
            r"ratings\['rating'\] must be stars in \[1, 5\], got 6",
        ),
        (
            lambda: watch_events_simulated(pd.DataFrame(), planted_world()),
            r"log must be a DataFrame",
        ),
        (
            lambda: watch_events_simulated(
                pd.DataFrame(
                    {"session": [0], "user_id": [1], "step": [0], "clicked": [8], "rating": [3]}
                ),
                planted_world(),
            ),
            r"log\['clicked'\] must be integers in \[-1, 7\], got 8",
        ),
        (
            lambda: watch_events_simulated(
                pd.DataFrame(
                    {"session": [0], "user_id": [1], "step": [0], "clicked": [1], "rating": [3]}
                ),
                planted_world(),
                n_start=4,
            ),
            r"n_start must be an integer in \[0, 3\], got 4",
        ),
        (lambda: watch_events_simulated(pd.DataFrame(), "model"), r"model must be a UserModel"),
        (lambda: exit_rates(toy_events(), by="genre"), r"by must be one of 'overlap'"),
        (lambda: exit_rates(toy_events(), by="rating", bins=3), r"bins must be None for"),
        (lambda: exit_rates(toy_events(), bins=[1, 0]), r"bins must be a positive integer"),
        (lambda: exit_rates(toy_events(), bins=0), r"bins must be a positive integer, got 0"),
        (lambda: exit_rates(toy_events().iloc[:0]), r"events must hold at least one"),
        (lambda: exit_rates(toy_events().assign(last=1)), r"events\['last'\] must be booleans"),
        (lambda: exit_slope(toy_events(), covariates=[]), r"covariates must be a non-empty"),
        (
            lambda: exit_slope(toy_events(), covariates=["rating", "rating"]),
            r"covariates must not repeat",
        ),
        (lambda: exit_slope(toy_events().assign(last=True)), r"needs exits and non-exits"),
        (lambda: exit_slope(toy_events().assign(overlap=1.0)), r"constant or a copy"),
        (
            lambda: exit_slope(
                pd.DataFrame({"overlap": [0.0, 1.0], "last": [False, True]}), covariates=["overlap"]
            ),
            r"did not converge",
        ),
        (lambda: exit_slope(toy_events(), level=1.0), r"level must be in \(0, 1\), got 1.0"),
        (lambda: wilson_interval([3], [2]), r"exits must be whole counts in \[0, n\]"),
    ],
)
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
