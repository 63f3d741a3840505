"""Catalogue: indices, top-N with its tie-break, title look-up and primary-genre rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from odsc_recsys.catalog import OTHER, Catalog
from odsc_recsys.datasets import synthetic_movielens


def small_catalog() -> Catalog:
    movies = pd.DataFrame(
        {
            "item_id": [10, 20, 30, 40, 50],
            "title": ["Alpha", "Beta", "Gamma", "Alpha", "Delta"],
            "year": pd.array([1990, 1991, 1992, 1999, pd.NA], dtype="Int64"),
            "genres": [
                ("Action", "Drama"),
                ("Comedy",),
                ("Drama", "War"),
                ("Action",),
                ("Comedy", "Drama"),
            ],
        }
    )
    # rating counts: 10 -> 3, 20 -> 2, 30 -> 3, 40 -> 1, 50 -> 0
    ratings = pd.DataFrame({"user_id": [1, 2, 3, 1, 2, 1, 2, 3, 4], "item_id": [10, 10, 10, 20, 20, 30, 30, 30, 40],
                            "rating": 4, "timestamp": 0})  # fmt: skip
    return Catalog.from_movielens(ratings, movies)


def test_indices_round_trip_and_titles():
    cat = small_catalog()
    assert cat.n_items == 5
    assert cat.index_of(30) == 2 and cat.item_id(2) == 30
    np.testing.assert_array_equal(cat.indices([50, 10]), [4, 0])
    assert cat.titles == ["Alpha (1990)", "Beta (1991)", "Gamma (1992)", "Alpha (1999)", "Delta"]
    np.testing.assert_array_equal(cat.popularity, [3, 2, 3, 1, 0])


def test_top_n_orders_by_count_and_breaks_ties_by_lower_id():
    top = small_catalog().top_n(3)
    np.testing.assert_array_equal(top.item_ids, [10, 30, 20])  # 10 and 30 tie on 3 ratings
    assert top.index_of(20) == 2
    with pytest.raises(ValueError, match="n must be in 1..5"):
        small_catalog().top_n(6)


def test_unknown_ids_and_indices_raise_clear_errors():
    cat = small_catalog()
    with pytest.raises(ValueError, match="unknown movie id 99"):
        cat.index_of(99)
    with pytest.raises(ValueError, match="out of range 0..4"):
        cat.title(5)


def test_find_by_title_with_or_without_year():
    cat = small_catalog()
    assert cat.find("gamma (1992)") == 2
    assert cat.find("Gamma") == 2
    assert cat.find("Delta") == 4
    with pytest.raises(ValueError, match="ambiguous"):
        cat.find("Alpha")
    with pytest.raises(ValueError, match="Did you mean: 'Gamma \\(1992\\)'"):
        cat.find("Gama (1992)")


def test_genre_matrix_matches_genres():
    cat = small_catalog()
    assert cat.genre_names == ["Action", "Comedy", "Drama", "War"]
    expected = np.array(
        [[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 0], [0, 1, 1, 0]], bool
    )
    np.testing.assert_array_equal(cat.genre_matrix, expected)


def test_primary_genre_first_strategy():
    codes, names = small_catalog().primary_genres("first")
    assert [names[c] for c in codes] == ["Action", "Comedy", "Drama", "Action", "Comedy"]


def test_primary_genre_paper_strategy_by_hand():
    # frequencies: Drama 3, Action 2, Comedy 2, War 1. With n_genres=3 keep Drama and Action
    # (Action beats Comedy on GroupLens order), each movie takes its rarest kept genre.
    codes, names = small_catalog().primary_genres("paper", n_genres=3)
    assert names == ["Action", "Drama", OTHER]
    assert [names[c] for c in codes] == ["Action", OTHER, "Drama", "Action", "Drama"]


def test_paper_strategy_gives_exactly_n_genres_on_synthetic_data():
    ratings, movies = synthetic_movielens(n_users=50, n_items=120, n_genres=12, seed=1)
    cat = Catalog.from_movielens(ratings, movies).top_n(100)
    for n in (4, 6, 10):
        codes, names = cat.primary_genres("paper", n_genres=n)
        assert len(names) <= n and set(np.unique(codes)) == set(range(len(names)))
        for i, c in enumerate(codes):  # a movie's primary genre is one of its own, or Other
            assert names[c] in cat.genres[i] or names[c] == OTHER


def test_unknown_strategy_is_named():
    with pytest.raises(ValueError, match="'alphabetical'"):
        small_catalog().primary_genres("alphabetical")
