"""Exercises of notebook 06 (one Q-table per genre).

``06.substates``: the learner writes ``substates(state, genre_of)``, the talk's sub-state
decomposition of a 3-movie state; the check compares it with
:meth:`odsc_recsys.qtables.GenreQTables.decompose` on seeded states of every scenario.

``06.pair_row``: the row of the War table that holds the pair {Star Wars (1977), The Empire
Strikes Back (1980)}; the check computes it with the package's tables on the tutorial
catalogue. No answer is stored here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from ..qtables import GenreQTables
from . import Verdict, answered, as_integer, correct, exercise, wrong

# A hand-made catalogue: 12 movies in 4 genres (movie i has genre GENRES[i]).
GENRES = [0, 1, 2, 0, 3, 1, 0, 2, 0, 3, 1, 0]


def _scenario(state: Sequence[int], genre_of: Sequence[int]) -> str:
    return {3: "a", 2: "b", 1: "c"}[len({genre_of[m] for m in state})]


def _cases(seed: int = 6) -> list[tuple[int, int, int]]:
    """Seeded 3-movie states, at least two of each scenario, in no particular order."""
    rng = np.random.default_rng(seed)
    found: dict[str, list[tuple[int, int, int]]] = {"a": [], "b": [], "c": []}
    while min(len(v) for v in found.values()) < 2:
        state = tuple(int(m) for m in rng.choice(len(GENRES), 3, replace=False))
        group = found[_scenario(state, GENRES)]
        if len(group) < 2:
            group.append(state)  # type: ignore[arg-type]
    return [s for key in "cba" for s in found[key]]


def _normalise(answer: object) -> list[tuple[int, ...]] | None:
    """The learner's sub-states as sorted tuples of ints, or None if they are not that."""
    try:
        out = [tuple(sorted(int(m) for m in sub)) for sub in answer]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    return out


@exercise("06.substates", "code",
          "substates(state, genre_of) -> list of tuples: the talk's sub-states of a state")  # fmt: skip
def substates(func: Callable[[tuple[int, ...], list[int]], object]) -> Verdict:
    """Group the state's movies by genre; a lone movie is a single, two make a pair, three of
    one genre make their three pairs."""
    tables = GenreQTables(np.array(GENRES), ["Drama", "Comedy", "Crime", "War"], storage="lazy")
    for state in _cases():
        got = answered(func(tuple(state), list(GENRES)))
        mine = _normalise(got)
        if mine is None:
            return wrong(f"return a list of tuples of movies, e.g. [(3,), (0, 6)]; got {got!r}")
        want = sorted(s.items for s in tables.decompose(state))
        if sorted(mine) == want:
            continue
        genres = [GENRES[m] for m in state]
        scenario = _scenario(state, GENRES)
        if scenario == "c":
            hint = ("when all three movies share a genre, the talk forms the 3C2 = 3 pairs: no "
                    "table has a row for three movies")  # fmt: skip
        elif scenario == "b" and any(len(s) == 1 for s in mine) and len(mine) == 3:
            hint = "two movies of the same genre form one pair sub-state in that genre's table"
        elif scenario == "a":
            hint = "three different genres: each movie alone is a single sub-state"
        else:
            hint = "group the movies by genre; one movie is a single, two are a pair"
        return wrong(f"state {state} (genres {genres}): you returned {sorted(mine)}; {hint}.")
    return correct("one table per genre, singles and pairs only; three movies of one genre "
                   "become the three pairs.")  # fmt: skip


@functools.lru_cache(maxsize=1)
def _war_pair() -> tuple[int, int, int, int]:
    """(row of the pair, War singles, local positions) from the tutorial catalogue."""
    from ..sessions import load_tutorial_data

    catalog = load_tutorial_data().catalog
    codes, names = catalog.primary_genres(strategy="paper")
    tables = GenreQTables(codes, names, storage="lazy")  # the layout, no Q-value allocated
    i, j = catalog.find("Star Wars (1977)"), catalog.find("Empire Strikes Back, The (1980)")
    (pair,) = tables.decompose([i, j])
    li, lj = sorted(int(tables.local_index[m]) for m in (i, j))
    return pair.row, int(tables.genre_sizes[pair.genre]), li, lj


@exercise("06.pair_row", "value",
          "the War table's row of the pair {Star Wars (1977), Empire Strikes Back (1980)}")  # fmt: skip
def pair_row(answer: object) -> Verdict:
    """Row = n_War + C(l_j, 2) + l_i, with l_i < l_j the local positions."""
    value = as_integer(answer, "answer with one whole number, the row index")
    row, n_war, li, lj = _war_pair()
    if value == row:
        return correct(f"the pair rows start after the {n_war} single rows; "
                       f"C({lj}, 2) + {li} more gives the colex rank.")  # fmt: skip
    hints = {  # C(l_j + 1, 2) + l_i and C(l_j, 2) + l_j may coincide: one hint for both
        n_war + (lj + 1) * lj // 2 + li: "use C(l_j, 2) = l_j (l_j - 1) / 2 with the larger "
                                         "position, then add the smaller one",
        n_war + lj * (lj - 1) // 2 + lj: "use C(l_j, 2) = l_j (l_j - 1) / 2 with the larger "
                                         "position, then add the smaller one",
        row - n_war: "that is the rank among the pairs; the pair rows come after the singles",
    }  # fmt: skip
    return wrong(hints.get(value, "take the local positions l_i < l_j from tables.local_index "
                                  "and use n_War + C(l_j, 2) + l_i") + ".")  # fmt: skip
