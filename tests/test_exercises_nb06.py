"""Notebook 06's checks: the sub-state decomposition and the row of a pair."""

from __future__ import annotations

from odsc_recsys.exercises import check
from odsc_recsys.exercises.nb06 import GENRES, _cases


def substates(state, genre_of):
    groups = {}
    for m in state:
        groups.setdefault(genre_of[m], []).append(m)
    out = []
    for movies in groups.values():
        if len(movies) == 3:  # scenario (c): the three pairs
            a, b, c = movies
            out += [(a, b), (a, c), (b, c)]
        else:
            out.append(tuple(movies))
    return out


def test_the_cases_cover_every_scenario_and_the_hand_decomposition():
    scenarios = [len({GENRES[m] for m in s}) for s in _cases()]
    assert sorted(scenarios) == [1, 1, 2, 2, 3, 3]
    # by hand: movies 0, 3, 6 are all Drama -> the three pairs
    assert sorted(substates((6, 0, 3), GENRES)) == [(0, 3), (6, 0), (6, 3)]


def test_the_right_function_passes():
    assert check("06.substates", substates).passed


def test_untouched_body_is_not_attempted():
    assert check("06.substates", lambda state, genre_of: ...).status == "not attempted"


def test_one_triple_for_one_genre_gets_the_pairs_hint():
    def grouped(state, genre_of):
        groups = {}
        for m in state:
            groups.setdefault(genre_of[m], []).append(m)
        return [tuple(ms) for ms in groups.values()]

    verdict = check("06.substates", grouped)
    assert verdict.status == "wrong" and "3C2 = 3 pairs" in str(verdict)


def test_singles_only_fails_and_a_number_is_wrong():
    def singles_unless_all_one_genre(state, genre_of):
        if len({genre_of[m] for m in state}) == 1:
            return substates(state, genre_of)
        return [(m,) for m in state]

    verdict = check("06.substates", singles_unless_all_one_genre)
    assert verdict.status == "wrong" and "form one pair sub-state" in str(verdict)
    assert check("06.substates", 3).status == "wrong"
    assert "list of tuples" in str(check("06.substates", lambda s, g: 7))


def test_pair_row_by_hand(tutorial_data):
    # War has 47 movies; Star Wars and The Empire Strikes Back are its local 0 and 4:
    # 47 + C(4, 2) + 0 = 53
    assert check("06.pair_row", 53).passed
    assert "come after the singles" in str(check("06.pair_row", 6))
    assert "C(l_j, 2)" in str(check("06.pair_row", 57))
    assert check("06.pair_row", "row 53").status == "wrong"
    assert check("06.pair_row", None).status == "not attempted"
