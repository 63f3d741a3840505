"""Notebook 05's checks: the 4-movie table's bytes, and the colex rank written by the learner."""

from __future__ import annotations

import math

from odsc_recsys.exercises import check


def rank(items):
    return sum(math.comb(c, i + 1) for i, c in enumerate(sorted(items)))


def test_the_bytes_by_hand_pass():
    # 627C4 = 627 * 626 * 625 * 624 / 24 states, 627 actions, 4 bytes each
    expected = 627 * 626 * 625 * 624 // 24 * 627 * 4
    assert expected == 15_996_419_010_000
    assert check("05.table_bytes", expected).passed


def test_wrong_bytes_get_their_hints():
    states = 627 * 626 * 625 * 624 // 24
    assert "ordered" in str(check("05.table_bytes", 627 * 626 * 625 * 624 * 627 * 4))
    assert "3-movie" in str(check("05.table_bytes", 627 * 626 * 625 // 6 * 627 * 4))
    assert "not 8" in str(check("05.table_bytes", states * 627 * 8))
    assert "4 bytes" in str(check("05.table_bytes", states * 627))
    assert "whole number" in str(check("05.table_bytes", 2.5))


def test_the_right_rank_passes_and_matches_the_slide():
    assert check("05.rank", rank).passed
    # the slide's rows, 1-based movies: (1,2,3) row 0, (1,2,4) row 1, (8,9,10) row 119
    assert [rank([m - 1 for m in s]) for s in ((1, 2, 3), (1, 2, 4), (8, 9, 10))] == [0, 1, 119]


def test_typical_slips_get_their_hints():
    unsorted = check("05.rank", lambda items: sum(math.comb(c, i + 1) for i, c in enumerate(items)))
    assert "sort the movies" in str(unsorted)
    off_by_one = check(
        "05.rank", lambda items: sum(math.comb(c, i) for i, c in enumerate(sorted(items)))
    )
    assert "not C(c_i, i)" in str(off_by_one)
    assert "whole number" in str(check("05.rank", lambda items: sorted(items)))
    assert str(check("05.rank", lambda items: "x")) == "Not quite: return one whole number, got 'x'"


def test_lexicographic_rank_is_told_apart():
    from odsc_recsys.exercises.nb05 import _lex_rank

    assert _lex_rank([0, 1, 2]) == 0 and _lex_rank([0, 1, 3]) == 1
    assert _lex_rank([624, 625, 626]) == math.comb(627, 3) - 1
    assert "lexicographic" in str(check("05.rank", _lex_rank))


def test_the_blank_body_is_not_attempted():
    def blank(items):
        return ...

    assert check("05.rank", blank).status == "not attempted"
