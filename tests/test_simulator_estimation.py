"""The steps of the user model's fit and the click model, each against hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from odsc_recsys.catalog import Catalog
from odsc_recsys.simulator import UserModel, genre_affinity
from odsc_recsys.simulator.clicks import examination_probabilities
from odsc_recsys.simulator.estimation import (
    auc,
    calibrate_intercept,
    fit_choice_model,
    fit_logistic,
    fit_rating_model,
    holdout_split,
    normalised_genres,
    rating_matrix,
    shrunk_biases,
    simulated_users,
    zscore,
)


def small_catalog(item_ids: list[int], genres: list[tuple[str, ...]]) -> Catalog:
    """Movies with the given ids and genres, titled by position, without ratings."""
    return Catalog(
        item_ids=np.array(item_ids),
        titles=[f"movie {i}" for i in range(len(item_ids))],
        genres=genres,
        popularity=np.zeros(len(item_ids), dtype=np.int64),
    )


# ---- numerical helpers ------------------------------------------------------------------------


def test_auc_by_hand():
    # Positives score 0.35 and 0.8; negatives 0.1 and 0.4: 3 of the 4 pairs are ordered right.
    assert auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert auc(np.array([1.0, 1.0]), np.array([0, 1])) == 0.5  # a tie counts half
    assert auc(np.array([0.0, 1.0]), np.array([1, 0])) == 0.0
    assert math.isnan(auc(np.array([0.1, 0.2]), np.array([1, 1])))


def test_zscore_by_hand_and_on_a_constant():
    z, mean, sd = zscore(np.array([1.0, 2.0, 3.0]))
    assert mean == 2.0 and sd == pytest.approx(math.sqrt(2 / 3))
    np.testing.assert_allclose(z, np.array([-1.0, 0.0, 1.0]) / math.sqrt(2 / 3))
    z, mean, sd = zscore(np.full(4, 7.0))
    assert (mean, sd) == (7.0, 1.0)
    np.testing.assert_array_equal(z, 0.0)


def test_logistic_fit_is_the_ridge_optimum_and_matches_scikit_learn():
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(300), rng.normal(size=(300, 2))])
    y = (rng.random(300) < expit(x @ np.array([-0.5, 1.5, -1.0]))).astype(np.float64)
    ridge = 0.5
    w = fit_logistic(x, y, ridge=ridge)
    # Stationarity of the penalised log-likelihood: X^T (y - p) = ridge * w.
    np.testing.assert_allclose(x.T @ (y - expit(x @ w)), ridge * w, atol=1e-8)
    from sklearn.linear_model import LogisticRegression

    ref = LogisticRegression(C=1 / ridge, fit_intercept=False, tol=1e-12, max_iter=10_000)
    np.testing.assert_allclose(w, ref.fit(x, y).coef_[0], atol=1e-5)


def test_calibrated_intercept_rejects_impossible_targets():
    with pytest.raises(ValueError, match="target click share"):
        calibrate_intercept(np.zeros(3), 1.0)
    assert calibrate_intercept(np.zeros(3), 0.5) == 0.0  # logit(1/2) = 0 at once


def test_intercept_calibration_hits_the_target():
    base = np.random.default_rng(0).normal(size=(30, 40))
    b = calibrate_intercept(base, 0.1)
    assert expit(b + base).mean() == pytest.approx(0.1, abs=1e-9)


def test_genre_affinity_by_hand():
    theta = genre_affinity(np.array([[3.0, 1.0], [0.0, 0.0]]), np.array([0.5, 0.5]), 4.0)
    # (3 + 2) / 8 = 0.625 and (1 + 2) / 8 = 0.375, over a base share of 0.5.
    np.testing.assert_allclose(theta[0], np.log([1.25, 0.75]))
    np.testing.assert_allclose(theta[1], [0.0, 0.0])
    with pytest.raises(ValueError, match="smoothing"):
        genre_affinity(np.ones((1, 2)), np.array([0.5, 0.5]), 0.0)


def test_normalised_genres_sum_to_one_and_spread_a_movie_without_genres():
    gw = normalised_genres(np.array([[True, True, False], [False, False, False]]))
    np.testing.assert_array_equal(gw, [[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])


def test_examination_decays_with_position():
    np.testing.assert_allclose(examination_probabilities(3, 1.0), [1.0, 0.5, 1 / 3])
    np.testing.assert_array_equal(examination_probabilities(4, 0.0), 1.0)
    np.testing.assert_allclose(examination_probabilities(2, 2.0), [1.0, 0.25])


# ---- the steps of the fit ---------------------------------------------------------------------


def test_simulated_users_are_the_long_histories_in_id_order():
    histories = {9: np.arange(5), 2: np.arange(6), 4: np.arange(2)}
    users, hist = simulated_users(histories, min_history=5)
    np.testing.assert_array_equal(users, [2, 9])
    assert [h.tolist() for h in hist] == [list(range(6)), list(range(5))]
    assert all(h.dtype == np.int64 for h in hist)
    with pytest.raises(ValueError, match="at least 2 users"):
        simulated_users(histories, min_history=6)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 12), min_size=1, max_size=6),
    st.floats(0.05, 0.95),
    st.integers(0, 2**16),
)
def test_holdout_split_holds_out_a_share_of_each_history(lengths, holdout, seed):
    rng = np.random.default_rng(seed)
    histories = tuple(rng.permutation(15)[:n] for n in lengths)
    watched, kept = holdout_split(histories, 15, holdout, seed)
    assert not np.any(kept & ~watched)  # kept movies were watched
    for r, h in enumerate(histories):
        assert set(np.flatnonzero(watched[r])) == set(h.tolist())
        held = int(watched[r].sum() - kept[r].sum())
        assert held == max(1, math.ceil(holdout * len(h)))
    again = holdout_split(histories, 15, holdout, seed)
    np.testing.assert_array_equal(again[1], kept)


def test_shrunk_biases_recover_an_additive_table_and_shrink_with_smoothing():
    rating = np.array([[5.0, 3.0], [3.0, 1.0]])  # 3 + b_u + b_i with b_u = b_i = (1, -1)
    watched = np.ones((2, 2), dtype=bool)
    mu, b_u, b_i = shrunk_biases(rating, watched, smoothing=0.0)
    assert mu == 3.0
    np.testing.assert_allclose(b_u, [1.0, -1.0])
    np.testing.assert_allclose(b_i, [1.0, -1.0])
    _, b_u2, b_i2 = shrunk_biases(rating, watched, smoothing=2.0)
    assert np.all(np.abs(b_u2) < 1.0) and np.all(np.abs(b_i2) < 1.0)


def test_rating_model_without_taste_leaves_no_residual_on_additive_ratings():
    rating = np.array([[5.0, 3.0], [3.0, 1.0]])
    fields = fit_rating_model(rating, np.ones((2, 2), dtype=bool), np.zeros((2, 2)), 0.0)
    assert fields["rating_mean"] == 3.0
    assert fields["rating_affinity"] == 0.0 and fields["rating_noise"] == pytest.approx(0.0)


def test_rating_model_fits_the_genre_taste_slope():
    # Residuals after the biases are exactly 0.5 * taste: beta_r = 0.5, no noise left.
    taste = np.array([[1.0, -1.0], [-1.0, 1.0]])
    rating = 3.0 + 0.5 * taste
    fields = fit_rating_model(rating, np.ones((2, 2), dtype=bool), taste, 0.0)
    assert fields["rating_affinity"] == pytest.approx(0.5)
    assert fields["rating_noise"] == pytest.approx(0.0, abs=1e-12)


def test_rating_matrix_places_ratings_and_ignores_other_users_and_movies():
    catalog = small_catalog([10, 20, 30], [("A",), ("B",), ("A",)])
    ratings = pd.DataFrame(
        {"user_id": [7, 7, 5, 5, 8], "item_id": [30, 99, 10, 20, 10], "rating": [4, 1, 2, 5, 3]}
    )
    got = rating_matrix(ratings, np.array([5, 7]), catalog)
    np.testing.assert_array_equal(got, [[2.0, 5.0, 0.0], [0.0, 0.0, 4.0]])


def test_choice_model_finds_the_planted_signal_and_matches_the_density():
    rng = np.random.default_rng(1)
    n_users, n_items = 60, 40
    mf_score = rng.normal(size=(n_users, n_items))
    watched = rng.random((n_users, n_items)) < expit(-2.0 + 2.0 * mf_score)
    kept = watched & (rng.random((n_users, n_items)) < 0.5)
    fields = fit_choice_model(mf_score, np.zeros((n_users, n_items)), np.zeros(n_items),
                              watched, kept)  # fmt: skip
    assert fields["beta_mf"] > 1.0 and fields["fit_summary"]["auc_mf"] > 0.7
    base = fields["beta_mf"] * mf_score
    density = fields["fit_summary"]["density"]
    assert density == watched.mean()
    assert expit(fields["intercept"] + base).mean() == pytest.approx(density, abs=1e-9)
    assert fields["fit_summary"]["positives"] == (watched & ~kept).sum()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"holdout": 1.0}, r"holdout must be in \(0, 1\), got 1.0"),
        ({"holdout": 0}, "holdout must be"),
        ({"n_factors": 0}, "n_factors must be an integer >= 1, got 0"),
        ({"n_factors": 2.0}, "n_factors must be an integer"),
        ({"smoothing": float("nan")}, "smoothing must be a finite number"),
        ({"min_history": 1}, "min_history must be an integer >= 2, got 1"),
    ],
)
def test_from_histories_checks_its_arguments(kwargs, message):
    catalog = small_catalog([1, 2], [("A",), ("B",)])
    ratings = pd.DataFrame({"user_id": [1], "item_id": [1], "rating": [3]})
    with pytest.raises(ValueError, match=message):
        UserModel.from_histories(catalog, {1: np.array([0])}, ratings, **kwargs)
