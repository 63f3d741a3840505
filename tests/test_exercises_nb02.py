"""Notebook 02's checks: the share of slots going to top movies, and the least biased CF model."""

from __future__ import annotations

import numpy as np

from odsc_recsys import limits
from odsc_recsys.classical import ItemKNN, MatrixFactorization, Popularity, UserKNN
from odsc_recsys.exercises import check
from odsc_recsys.metrics import recommend_all


def slot_share(lists, top):
    filled = lists[lists != -1]
    return top[filled].mean()


# --- 02.slot_share -------------------------------------------------------------------------------


def test_the_share_of_filled_slots_passes():
    assert check("02.slot_share", slot_share).passed


def test_a_hand_computed_share():
    top = np.array([True, False, False, True])
    lists = np.array([[0, 1, 3], [2, -1, -1]])  # four filled slots, two of them top movies
    assert slot_share(lists, top) == 0.5


def test_reading_padding_as_a_movie_gets_its_hint():
    verdict = check("02.slot_share", lambda lists, top: top[lists].mean())
    assert verdict.status == "wrong" and "-1 marks an empty slot, not a movie" in str(verdict)


def test_dividing_by_every_slot_gets_its_hint():
    verdict = check("02.slot_share", lambda lists, top: top[lists[lists != -1]].sum() / lists.size)
    assert verdict.status == "wrong" and "filled slots only" in str(verdict)


def test_a_mean_of_per_list_shares_gets_its_hint():
    verdict = check(
        "02.slot_share", lambda lists, top: np.mean([top[r[r != -1]].mean() for r in lists])
    )
    assert verdict.status == "wrong" and "pool the slots" in str(verdict)


def test_slot_share_blank_count_and_non_function():
    assert check("02.slot_share", lambda lists, top: ...).status == "not attempted"
    assert "not their number" in str(
        check("02.slot_share", lambda lists, top: top[lists[lists != -1]].sum())
    )
    assert check("02.slot_share", 0.42).status == "wrong"


# --- 02.least_biased_cf --------------------------------------------------------------------------


def test_least_biased_cf_answers():
    assert check("02.least_biased_cf", "MF (ALS)").passed
    assert check("02.least_biased_cf", " mf (als) ").passed  # case and spaces do not matter
    assert "frac=0.2" in str(check("02.least_biased_cf", "Item-kNN"))
    for bad in ("Popularity", 3, "ALS"):
        assert "one of the names" in str(check("02.least_biased_cf", bad)), bad


def test_the_stored_answer_is_what_the_data_says(tutorial_data):
    data = tutorial_data
    split, n_items = data.split, data.catalog.n_items
    models = {"User-kNN": UserKNN(), "Item-kNN": ItemKNN(),
              "MF (ALS)": MatrixFactorization(rng=np.random.default_rng(0))}  # fmt: skip
    lists = {name: recommend_all(m.fit(split.train_histories, n_items), split.test, 10, split.histories)
             for name, m in models.items()}  # fmt: skip
    popularity = Popularity().fit(split.train_histories, n_items).popularity_
    shares = limits.popularity_bias(lists, popularity, frac=0.2)["share to top items"]
    assert check("02.least_biased_cf", shares.idxmin()).passed
    assert not check("02.least_biased_cf", shares.idxmax()).passed
