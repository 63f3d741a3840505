"""Tests of state-space counting, memory estimates and the combinatorial number system."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys.state_space import (
    dense_table_bytes,
    format_bytes,
    genre_combination_table_count,
    genre_table_rows,
    growth_with_history,
    growth_with_items,
    n_combinations,
    n_permutations,
    n_states,
    per_genre_dense_bytes,
    rank_combination,
    rank_pair,
    rank_pairs,
    unrank_combination,
    unrank_pair,
    unrank_pairs,
)

# ---------------------------------------------------------------------------- counting


def test_talk_numbers():
    # The talk's figures for the 627 most-rated MovieLens movies.
    assert n_permutations(627, 3) == 245_313_750
    assert n_combinations(627, 3) == 40_885_625
    assert n_states(627, 3, ordered=True) == 245_313_750
    assert n_states(627) == 40_885_625
    assert dense_table_bytes(40_885_625, 627, np.float32) == 102_541_147_500
    assert format_bytes(dense_table_bytes(40_885_625, 627)) == "102.5 GB"


def test_small_counts_by_hand():
    assert n_permutations(5, 2) == 20  # 5 * 4
    assert n_combinations(5, 2) == 10  # 20 / 2!
    assert n_combinations(4, 0) == 1
    assert n_permutations(4, 0) == 1
    assert n_combinations(3, 5) == 0  # cannot pick 5 of 3
    assert n_permutations(3, 5) == 0


def test_counts_are_exact_beyond_int64():
    # 627P10 is about 9e27: must not overflow or round.
    assert n_permutations(627, 10) == math.prod(range(618, 628))


def test_dense_bytes_for_dtypes():
    assert dense_table_bytes(10, 7, np.float64) == 560
    assert dense_table_bytes(10, 7, "float16") == 140
    assert dense_table_bytes(10, 7) == 280  # float32 by default


def test_per_genre_rows_and_memory():
    assert genre_table_rows(4) == 4 + 6
    assert genre_table_rows(1) == 1
    assert genre_table_rows(0) == 0
    # genres of 2 and 3 movies, 5 columns: (2 + 1 + 3 + 3) rows * 5 * 4 bytes.
    assert per_genre_dense_bytes([2, 3], 5) == 180


def test_genre_combination_table_count():
    assert genre_combination_table_count(10, 3) == 10 + 45 + 120
    assert genre_combination_table_count(10, 1) == 10
    assert genre_combination_table_count(4, 4) == 15  # every non-empty subset


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0 B"), (999, "999 B"), (1500, "1.5 kB"), (102_541_147_500, "102.5 GB"), (2e15, "2 PB")],
)
def test_format_bytes(value, text):
    assert format_bytes(value) == text


def test_format_bytes_beyond_yottabytes():
    assert format_bytes(3e30) == "3.000e+30 B"


@pytest.mark.parametrize("bad", [-1, 2.5, True, "3", None])
def test_counts_reject_bad_input(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        n_combinations(bad, 2)
    with pytest.raises(ValueError, match="non-negative integer"):
        n_permutations(10, bad)


def test_format_bytes_rejects_nan_and_negative():
    for bad in (float("nan"), -1.0, float("inf")):
        with pytest.raises(ValueError, match="n_bytes"):
            format_bytes(bad)


def test_growth_frames():
    by_n = growth_with_items([10, 100, 627])
    assert list(by_n.columns) == [
        "n_items",
        "history_length",
        "ordered_states",
        "unordered_states",
        "dense_bytes",
    ]
    assert by_n["unordered_states"].tolist() == [120.0, 161_700.0, 40_885_625.0]
    assert by_n["ordered_states"].iloc[0] == 720.0
    assert by_n["dense_bytes"].iloc[0] == 120 * 10 * 4
    by_k = growth_with_history(627, [1, 2, 3, 4])
    assert by_k["unordered_states"].tolist() == [
        627.0,
        196_251.0,
        40_885_625.0,
        float(math.comb(627, 4)),
    ]
    assert np.all(np.diff(by_k["ordered_states"]) > 0)


# ---------------------------------------------------------------------------- ranking


def test_pair_ranks_by_hand():
    # Colex order: {0,1}, {0,2}, {1,2}, {0,3}, {1,3}, {2,3}, ...
    assert [rank_pair(*p) for p in [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]] == list(
        range(6)
    )
    assert rank_pair(3, 1) == rank_pair(1, 3)  # order within the pair is ignored
    assert unrank_pair(5) == (2, 3)


@pytest.mark.parametrize("n", [2, 3, 7, 30])
def test_every_pair_round_trips_at_small_n(n):
    pairs = sorted(itertools.combinations(range(n), 2), key=lambda p: (p[1], p[0]))  # colex
    ranks = [rank_pair(i, j) for i, j in pairs]
    assert ranks == list(range(math.comb(n, 2)))  # a bijection onto 0..C(n,2)-1
    assert [unrank_pair(r) for r in ranks] == pairs
    i, j = unrank_pairs(np.array(ranks))
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == pairs
    assert rank_pairs(i, j).tolist() == ranks


@pytest.mark.parametrize(("n", "k"), [(6, 0), (6, 1), (6, 2), (8, 3), (8, 4), (7, 7)])
def test_every_combination_round_trips_at_small_n(n, k):
    combos = sorted(itertools.combinations(range(n), k), key=lambda c: c[::-1])  # colex
    ranks = [rank_combination(c) for c in combos]
    assert ranks == list(range(math.comb(n, k)))
    assert [unrank_combination(r, k) for r in ranks] == combos


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**40))
def test_vectorised_unrank_matches_exact_for_large_ranks(rank):
    i, j = unrank_pairs(np.array([rank]))
    assert (int(i[0]), int(j[0])) == unrank_pair(rank)
    assert 0 <= i[0] < j[0]
    assert rank_pair(int(i[0]), int(j[0])) == rank


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=5))
def test_combination_round_trip_property(items):
    rank = rank_combination(items)
    assert unrank_combination(rank, len(items)) == tuple(sorted(items))


def test_ranking_errors():
    with pytest.raises(ValueError, match="two different items"):
        rank_pair(4, 4)
    with pytest.raises(ValueError, match="distinct"):
        rank_combination([1, 2, 2])
    with pytest.raises(ValueError, match="non-negative integer"):
        rank_combination([1, -2])
    with pytest.raises(ValueError, match="rank 0"):
        unrank_combination(3, 0)
    with pytest.raises(ValueError, match="two different items"):
        rank_pairs(np.array([1, 2]), np.array([1, 3]))
    with pytest.raises(ValueError, match="non-negative"):
        unrank_pairs(np.array([-1]))
