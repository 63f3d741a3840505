"""Notebook 00's checks: the sliding window of transitions and the top-n share of ratings."""

from __future__ import annotations

import numpy as np

from odsc_recsys.exercises import check


def transitions(history, window=3):
    return [
        (tuple(history[i : i + window]), history[i + window]) for i in range(len(history) - window)
    ]


def top_share(popularity, n):
    return np.sort(popularity)[::-1][:n].sum() / popularity.sum()


# --- 00.transitions ------------------------------------------------------------------------------


def test_the_sliding_window_passes():
    assert check("00.transitions", transitions).passed


def test_a_list_of_lists_also_passes():
    verdict = check(
        "00.transitions", lambda h, w=3: [[list(h[i : i + w]), h[i + w]] for i in range(len(h) - w)]
    )
    assert verdict.passed


def test_hand_computed_pairs_of_a_short_history():
    # [5, 9, 2, 7, 1] with window 3 gives ((5, 9, 2) -> 7) and ((9, 2, 7) -> 1)
    assert transitions([5, 9, 2, 7, 1]) == [((5, 9, 2), 7), ((9, 2, 7), 1)]
    assert transitions([5, 9, 2]) == []


def test_running_past_the_end_is_caught():
    def past_the_end(h, w=3):
        return [
            (tuple(h[i : i + w]), h[i + w] if i + w < len(h) else -1) for i in range(len(h) - w + 1)
        ]

    verdict = check("00.transitions", past_the_end)
    assert verdict.status == "wrong" and "stop one window earlier" in str(verdict)


def test_dropping_the_last_pair_is_caught():
    verdict = check("00.transitions", lambda h, w=3: transitions(h, w)[:-1])
    assert verdict.status == "wrong" and "dropped one pair" in str(verdict)


def test_ignoring_the_window_argument_is_caught():
    verdict = check("00.transitions", lambda h, w=3: transitions(h, 3))
    assert verdict.status == "wrong" and "exactly the 2 movies" in str(verdict)


def test_the_next_movie_before_the_state_is_caught():
    verdict = check(
        "00.transitions",
        lambda h, w=3: [(tuple(h[i + 1 : i + w + 1]), h[i]) for i in range(len(h) - w)],
    )
    assert verdict.status == "wrong" and "oldest first" in str(verdict)


def test_transitions_blank_and_non_function():
    assert check("00.transitions", lambda h, w=3: ...).status == "not attempted"
    assert check("00.transitions", [((1, 2, 3), 4)]).status == "wrong"
    assert "list of (state, next_movie) pairs" in str(check("00.transitions", lambda h, w=3: 7))


# --- 00.top_share ----------------------------------------------------------------------------------


def test_the_top_share_passes_and_matches_a_hand_count():
    assert check("00.top_share", top_share).passed
    assert top_share(np.array([1, 5, 3, 1]), 2) == 8 / 10


def test_unsorted_counts_get_the_sort_hint():
    verdict = check("00.top_share", lambda p, n: p[:n].sum() / p.sum())
    assert verdict.status == "wrong" and "sort by ratings first" in str(verdict)


def test_ascending_sort_gets_its_hint():
    verdict = check("00.top_share", lambda p, n: np.sort(p)[:n].sum() / p.sum())
    assert verdict.status == "wrong" and "least-rated" in str(verdict)


def test_a_count_or_a_percentage_gets_its_hint():
    count = check("00.top_share", lambda p, n: np.sort(p)[::-1][:n].sum())
    assert count.status == "wrong" and "divide by the total" in str(count)
    percent = check("00.top_share", lambda p, n: 100 * top_share(p, n))
    assert percent.status == "wrong" and "percentage" in str(percent)


def test_top_share_blank_and_non_number():
    assert check("00.top_share", lambda p, n: ...).status == "not attempted"
    assert "one number" in str(check("00.top_share", lambda p, n: "a lot"))
    assert check("00.top_share", 0.299).status == "wrong"
