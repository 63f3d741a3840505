"""Notebook 01's checks: the hit-rate loop and the Markov chain's best n_last on validation."""

from __future__ import annotations

import numpy as np
import pytest

from odsc_recsys.classical import MarkovChain, Popularity
from odsc_recsys.exercises import check
from odsc_recsys.metrics import hit_rate_at_k, recommend_all
from odsc_recsys.sessions import make_transitions


def hit_rate(model, transitions, histories, k=10):
    hits = 0
    for user, position, target in zip(
        transitions.users, transitions.positions, transitions.targets, strict=True
    ):
        history = histories[user][:position]
        hits += target in model.recommend(history, k, exclude=history)
    return hits / len(transitions)


def _each(fn):
    """A hit rate built from one list per transition, given how to get that list."""

    def rate(model, transitions, histories, k=10):
        found = [t in fn(model, histories, u, p, s, k) for u, p, s, t in
                 zip(transitions.users, transitions.positions, transitions.states, transitions.targets, strict=True)]  # fmt: skip
        return float(np.mean(found))

    return rate


# --- 01.hit_rate ---------------------------------------------------------------------------------


def test_the_loop_passes():
    assert check("01.hit_rate", hit_rate).passed


def test_the_loop_on_a_hand_computed_world():
    # popularity: movie 0 in three histories, movie 1 in two, every other movie in one
    histories = {0: np.array([0, 1, 3, 2]), 1: np.array([0, 1, 4, 5]), 2: np.array([0, 6, 7, 8])}
    model = Popularity().fit(histories, 9)
    trans = make_transitions(histories)  # targets 2, 5 and 8
    # k=2 lists once each history is excluded (ties to the lower index): user 0 gets [2, 4], a
    # hit; user 1 gets [2, 3] and user 2 gets [1, 2], two misses
    assert hit_rate(model, trans, histories, k=2) == pytest.approx(1 / 3)
    assert hit_rate(model, trans, histories, k=6) == pytest.approx(hit_rate_at_k(
        recommend_all(model, trans, 6, histories), trans.targets, 6))  # fmt: skip


def test_forgetting_to_exclude_the_history_gets_its_hint():
    verdict = check("01.hit_rate", _each(lambda m, h, u, p, s, k: m.recommend(h[u][:p], k)))
    assert verdict.status == "wrong" and "exclude=history" in str(verdict)


def test_giving_the_model_the_future_gets_its_hint():
    verdict = check(
        "01.hit_rate", _each(lambda m, h, u, p, s, k: m.recommend(h[u], k, exclude=h[u]))
    )
    assert verdict.status == "wrong" and "saw the future" in str(verdict)


def test_only_the_state_gets_its_hint():
    verdict = check("01.hit_rate", _each(lambda m, h, u, p, s, k: m.recommend(s, k, exclude=s)))
    assert verdict.status == "wrong" and "not only the three-movie state" in str(verdict)


def test_a_fixed_k_and_a_count_get_their_hints():
    fixed = check("01.hit_rate", lambda m, t, h, k=10: hit_rate(m, t, h, 10))
    assert fixed.status == "wrong" and "use the k you are given" in str(fixed)
    count = check("01.hit_rate", lambda m, t, h, k=10: hit_rate(m, t, h, k) * len(t))
    assert count.status == "wrong" and "not their number" in str(count)


def test_hit_rate_blank_and_non_function():
    assert check("01.hit_rate", lambda m, t, h, k=10: ...).status == "not attempted"
    assert check("01.hit_rate", 0.0775).status == "wrong"


# --- 01.best_n_last ------------------------------------------------------------------------------


def test_best_n_last_answers():
    assert check("01.best_n_last", 5).passed and check("01.best_n_last", "5").passed
    assert "larger HR@10" in str(check("01.best_n_last", 1))
    for bad in (3, 5.5, True, "five"):
        assert "1 or 5" in str(check("01.best_n_last", bad)), bad


def test_the_stored_answer_is_what_the_data_says(tutorial_data):
    data = tutorial_data
    split = data.split
    val_hr = {}
    for n_last in (1, 5):
        model = MarkovChain(n_last=n_last).fit(split.train_histories, data.catalog.n_items)
        val_hr[n_last] = hit_rate_at_k(
            recommend_all(model, split.val, 10, split.histories), split.val.targets, 10
        )
    assert check("01.best_n_last", max(val_hr, key=val_hr.get)).passed
    assert not check("01.best_n_last", min(val_hr, key=val_hr.get)).passed
