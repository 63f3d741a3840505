"""Metrics against values computed by hand and against scikit-learn's ndcg_score."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import ndcg_score

from odsc_recsys import metrics as M
from odsc_recsys.catalog import Catalog
from odsc_recsys.protocol import Recommender, top_k
from odsc_recsys.sessions import Transitions

RECS = np.array([[3, 1, 2], [0, 2, 1], [4, 0, -1]])
TARGETS = np.array([1, 0, 3])  # rank 2, rank 1, absent


def test_ranking_metrics_by_hand():
    np.testing.assert_array_equal(M.target_ranks(RECS, TARGETS), [2, 1, 0])
    hits = M.hits(RECS, TARGETS)
    assert hits.dtype == np.float64 and hits.tolist() == [1.0, 1.0, 0.0]
    assert M.hit_rate_at_k(RECS, TARGETS, 3) == pytest.approx(2 / 3)
    assert M.hit_rate_at_k(RECS, TARGETS, 1) == pytest.approx(1 / 3)
    assert M.recall_at_k(RECS, TARGETS, 3) == pytest.approx(2 / 3)
    assert M.precision_at_k(RECS, TARGETS, 3) == pytest.approx(2 / 9)
    assert M.ndcg_at_k(RECS, TARGETS, 3) == pytest.approx((1 / math.log2(3) + 1) / 3)
    assert M.mrr(RECS, TARGETS) == pytest.approx((0.5 + 1) / 3)
    assert M.mrr(RECS, TARGETS, k=1) == pytest.approx(1 / 3)


def test_beyond_accuracy_by_hand():
    assert M.coverage(RECS, n_items=10) == pytest.approx(0.5)  # items 0..4
    share = np.array([0.5, 0.25, 0.25, 1.0, 0.125])
    # items: 3,1,2,0,2,1,4,0 -> -log2: 0,2,2,1,2,2,3,1
    assert M.novelty(RECS, share) == pytest.approx(13 / 8)
    genres = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    # list [0, 1, 2]: J(0,1)=1/2, J(0,2)=0, J(1,2)=1/2 -> distances 1/2, 1, 1/2
    assert M.intra_list_diversity(np.array([[0, 1, 2]]), genres) == pytest.approx(2 / 3)
    # a list of one item has no pairs and is skipped
    assert M.intra_list_diversity(np.array([[0, 0], [2, -1]])[:, :2], genres) == pytest.approx(0.0)


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match="3 lists but 2 targets"):
        M.hit_rate_at_k(RECS, TARGETS[:2], 3)
    with pytest.raises(ValueError, match="k must be a positive integer, got 0"):
        M.ndcg_at_k(RECS, TARGETS, 0)
    with pytest.raises(ValueError, match="k must be a positive integer, got 2.0"):
        M.hit_rate_at_k(RECS, TARGETS, 2.0)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 30), st.integers(1, 10), st.integers(0, 2**32 - 1))
def test_ndcg_agrees_with_scikit_learn(n_items, k, seed):
    rng = np.random.default_rng(seed)
    n = 5
    scores = rng.permutation(n * n_items).reshape(n, n_items).astype(float)  # no ties
    targets = rng.integers(0, n_items, size=n)
    recs = np.argsort(-scores, axis=1)[:, :k]
    truth = np.zeros((n, n_items))
    truth[np.arange(n), targets] = 1
    assert M.ndcg_at_k(recs, targets, k) == pytest.approx(ndcg_score(truth, scores, k=k))


class Fixed(Recommender):
    """Scores items by a fixed vector, to test evaluate end to end."""

    name = "fixed"

    def __init__(self, scores):
        self.scores = np.asarray(scores, dtype=float)
        self.n_items = len(self.scores)

    def score(self, history):
        return self.scores


def test_evaluate_excludes_history_and_returns_one_row():
    # 5 items, model prefers 4 > 3 > 2 > 1 > 0
    model = Fixed([0, 1, 2, 3, 4])
    t = Transitions(users=np.array([1, 2]), states=np.array([[4, 0, 1], [0, 1, 2]]),
                    targets=np.array([3, 4]), positions=np.array([3, 3]))  # fmt: skip
    genres = [("Drama",), ("Drama",), ("Comedy",), ("Comedy",), ("War",)]
    cat = Catalog(item_ids=np.arange(1, 6), titles=list("abcde"), genres=genres,
                  popularity=np.array([4, 4, 2, 2, 1]))  # fmt: skip
    row = M.evaluate(model, t, k=1, catalog=cat)
    # user 1 has seen 4 -> gets 3 (hit); user 2 gets 4 (hit)
    assert list(row.index) == ["fixed"]
    assert row.loc["fixed", "HR@1"] == 1.0 and row.loc["fixed", "MRR"] == 1.0
    assert row.loc["fixed", "coverage"] == pytest.approx(2 / 5)
    row2 = M.evaluate(model, t, k=2, catalog=cat, name="other")
    assert row2.loc["other", "NDCG@2"] == pytest.approx(1.0)
    assert isinstance(row2, pd.DataFrame) and row2.loc["other", "n"] == 2


def test_protocol_top_k_ties_exclusion_and_short_catalogue():
    np.testing.assert_array_equal(top_k(np.array([1.0, 3.0, 3.0, 0.0]), 3), [1, 2, 0])
    np.testing.assert_array_equal(top_k(np.array([1.0, 3.0, 3.0, 0.0]), 10, exclude=[1]), [2, 0, 3])
    assert len(top_k(np.zeros(3), 5, exclude=[0, 1, 2])) == 0
    with pytest.raises(ValueError, match="unknown item index 7"):
        Fixed([0, 1, 2]).recommend([7])


def test_bootstrap_interval_brackets_the_mean_and_is_seeded():
    values = np.r_[np.zeros(50), np.ones(50)]
    m, lo, hi = M.bootstrap_ci(values, np.random.default_rng(0), n_boot=500)
    assert m == 0.5 and lo < 0.5 < hi and hi - lo < 0.3
    assert M.bootstrap_ci(values, np.random.default_rng(0), n_boot=500) == (m, lo, hi)
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\), got 1\.5"):
        M.bootstrap_ci(values, np.random.default_rng(0), level=1.5)


def test_bootstrap_ci_is_the_percentile_interval_of_resampled_means():
    values = np.arange(10.0)
    got = M.bootstrap_ci(values, np.random.default_rng(4), n_boot=200, level=0.9)
    means = values[np.random.default_rng(4).integers(0, 10, size=(200, 10))].mean(axis=1)
    assert got == (4.5, np.quantile(means, 0.05), np.quantile(means, 0.95))


def test_cluster_bootstrap_by_hand_and_seeded():
    # user 1: 2 of 2 hits, user 2: 0 of 2 -> HR 0.5; every resample is 0, 0.5 or 1
    recs = np.array([[1], [2], [9], [9]])
    targets = np.array([1, 2, 3, 4])
    users = np.array([1, 1, 2, 2])
    hr, lo, hi = M.bootstrap_hit_rate(recs, targets, users, np.random.default_rng(0), 400)
    assert hr == 0.5 and lo == 0.0 and hi == 1.0
    again = M.bootstrap_hit_rate(recs, targets, users, np.random.default_rng(0), 400)
    assert again == (hr, lo, hi)
    # many users with the same rate: a tight interval around it
    recs = np.tile([[1], [9]], (100, 1))
    targets = np.ones(200, dtype=int)
    users = np.repeat(np.arange(100), 2)
    hr, lo, hi = M.bootstrap_hit_rate(recs, targets, users, np.random.default_rng(1), 400)
    assert hr == lo == hi == 0.5


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_vectorised_diversity_equals_a_plain_loop(seed, k):
    rng = np.random.default_rng(seed)
    genres = rng.random((12, 4)) < 0.4
    recs = rng.integers(-1, 12, size=(7, k))
    values = []
    for row in recs:
        items = row[row != -1]
        dists = []
        for a in range(len(items)):
            for b in range(a + 1, len(items)):
                ga, gb = genres[items[a]], genres[items[b]]
                union = (ga | gb).sum()
                dists.append(1 - (ga & gb).sum() / union if union else 0.0)
        if dists:
            values.append(np.mean(dists))
    expected = float(np.mean(values)) if values else 0.0
    assert M.intra_list_diversity(recs, genres) == pytest.approx(expected)


def test_paired_difference_by_hand():
    # two users; model a hits both of user 1's transitions, model b only the first
    recs_a = np.array([[1, 9], [2, 9], [5, 9]])
    recs_b = np.array([[1, 9], [7, 9], [5, 9]])
    targets = np.array([1, 2, 3])
    users = np.array([1, 1, 2])
    diff, low, high = M.paired_hit_rate_difference(
        recs_a, recs_b, targets, users, np.random.default_rng(0), n_boot=500
    )
    assert diff == pytest.approx(1 / 3)
    # resamples hold user 1 (difference 1/2) or only user 2 (difference 0): never below 0
    assert 0.0 <= low <= diff <= high <= 0.5


def test_paired_difference_of_a_model_with_itself_is_zero():
    recs = np.array([[1, 2], [3, 4], [5, 6]])
    out = M.paired_hit_rate_difference(
        recs, recs, np.array([1, 0, 6]), np.array([1, 2, 3]), np.random.default_rng(1)
    )
    assert out == (0.0, 0.0, 0.0)


def test_paired_difference_rejects_bad_input():
    recs = np.array([[1, 2]])
    with pytest.raises(ValueError, match="same transitions"):
        M.paired_hit_rate_difference(
            recs, np.array([[1, 2], [3, 4]]), np.array([1]), np.array([1]), np.random.default_rng(0)
        )
    with pytest.raises(ValueError, match="level"):
        M.paired_hit_rate_difference(
            recs, recs, np.array([1]), np.array([1]), np.random.default_rng(0), level=1.5
        )
    with pytest.raises(ValueError, match="at least one"):
        M.paired_hit_rate_difference(
            np.zeros((0, 2), int),
            np.zeros((0, 2), int),
            np.zeros(0, int),
            np.zeros(0, int),
            np.random.default_rng(0),
        )


def test_compare_models_equals_compare_lists_of_the_same_lists():
    t = Transitions(users=np.array([1, 1, 2]), states=np.array([[4, 0, 1], [0, 1, 2], [0, 1, 2]]),
                    targets=np.array([3, 4, 0]), positions=np.array([3, 4, 3]))  # fmt: skip
    up, down = Fixed([0, 1, 2, 3, 4]), Fixed([4, 3, 2, 1, 0])
    down.name = "down"
    by_models = M.compare_models([up, down], t, np.random.default_rng(3), k=2, n_boot=200)
    lists = {m.name: M.recommend_all(m, t, 2) for m in (up, down)}
    by_lists = M.compare_lists(lists, t, np.random.default_rng(3), k=2, n_boot=200)
    pd.testing.assert_frame_equal(by_models, by_lists)
    # states are excluded: "up" lists [3, 2], [4, 3], [4, 3]; "down" [2, 3], [3, 4], [3, 4];
    # each hits targets 3 and 4 and misses 0 (it was in the state) -> HR@2 = 2/3
    np.testing.assert_array_equal(lists["fixed"], [[3, 2], [4, 3], [4, 3]])
    np.testing.assert_array_equal(lists["down"], [[2, 3], [3, 4], [3, 4]])
    assert by_lists.loc["fixed", "HR@2"] == pytest.approx(2 / 3)
    assert by_lists.loc["down", "HR@2"] == pytest.approx(2 / 3)
    assert by_lists.loc["fixed", "MRR"] == pytest.approx((1 + 1) / 3)
    assert by_lists.loc["down", "MRR"] == pytest.approx((0.5 + 0.5) / 3)


def test_overlap_at_k_by_hand():
    a = np.array([[1, 2, 3], [4, 5, 6]])
    b = np.array([[3, 2, 9], [7, 8, 9]])  # 2 of 3 in common, then none
    assert M.overlap_at_k(a, b) == pytest.approx((2 / 3 + 0) / 2)
    assert M.overlap_at_k(a, a[:, ::-1]) == 1.0  # order within a list does not count
    with pytest.raises(ValueError, match="one shape"):
        M.overlap_at_k(a, b[:, :2])
