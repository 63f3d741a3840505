"""Exercises of notebook 05 (the state-space blow-up).

``05.table_bytes``: the bytes of one dense float32 Q-table over unordered 4-movie states of the
627 movies; the check computes it with :mod:`odsc_recsys.state_space`.

``05.rank``: the learner writes ``rank(items)``, the colex rank of a set of movies in the
combinatorial number system; the check compares it with
:func:`odsc_recsys.state_space.rank_combination` on seeded pairs and triples. No answer is
stored here.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..state_space import dense_table_bytes, n_combinations, n_permutations, rank_combination
from . import Verdict, answered, as_integer, correct, exercise, wrong

N_ITEMS = 627  # the tutorial's catalogue


@exercise("05.table_bytes", "value",
          "bytes of one dense float32 table over unordered 4-movie states of 627 movies")  # fmt: skip
def table_bytes(answer: object) -> Verdict:
    """States (627C4) x actions (627) x 4 bytes."""
    value = as_integer(answer, "answer with one whole number of bytes")
    if not math.isclose(value, float(answer), rel_tol=1e-12):  # type: ignore[arg-type]
        return wrong(f"a number of bytes is a whole number, got {answer!r}")
    states = n_combinations(N_ITEMS, 4)
    if value == dense_table_bytes(states, N_ITEMS, "float32"):
        return correct("627C4 states x 627 actions x 4 bytes: 16 terabytes, before learning "
                       "a single value.")  # fmt: skip
    hints = {
        dense_table_bytes(n_permutations(N_ITEMS, 4), N_ITEMS, "float32"):
            "that counts ordered histories; the talk ignores the order: use combinations.",
        dense_table_bytes(n_combinations(N_ITEMS, 3), N_ITEMS, "float32"):
            "that is the 3-movie table; the history now holds 4 movies.",
        dense_table_bytes(states, N_ITEMS, "float64"):
            "float32 takes 4 bytes a value, not 8.",
        states * N_ITEMS: "that is the number of Q-values; each takes 4 bytes.",
        states * 4: "every state has one Q-value per movie: 627 columns.",
    }  # fmt: skip
    return wrong(hints.get(value, "multiply states (unordered, 4 movies) by actions (627) by "
                                  "bytes per float32 value."))  # fmt: skip


def _cases(seed: int = 5) -> list[list[int]]:
    """Seeded pairs and triples of movies (0-based), given in shuffled order."""
    rng = np.random.default_rng(seed)
    cases = [[0, 1, 2], [0, 1, 3], [3, 1, 2], [626, 0, 313], [7, 9]]
    for k in (2, 3, 3, 4):
        cases.append([int(x) for x in rng.choice(N_ITEMS, size=k, replace=False)])
    return cases


def _lex_rank(items: list[int]) -> int:
    """Rank in lexicographic order among the k-subsets of the 627 movies (a common mix-up)."""
    combo, k, rank, prev = sorted(items), len(items), 0, -1
    for i, c in enumerate(combo):
        for skipped in range(prev + 1, c):
            rank += math.comb(N_ITEMS - 1 - skipped, k - 1 - i)
        prev = c
    return rank


@exercise("05.rank", "code", "rank(items) -> colex rank: sum of C(c_i, i + 1) over sorted items")
def rank(func: Callable[[list[int]], int]) -> Verdict:
    """The combinatorial number system: a set's row, computed without a list of combinations."""
    for items in _cases():
        got = answered(func(list(items)))
        want = rank_combination(items)
        value = as_integer(got, "return one whole number")
        if value == want:
            continue
        unsorted = sum(math.comb(c, i + 1) for i, c in enumerate(items))
        if value == unsorted and sorted(items) != items:
            return wrong(f"for {items} sort the movies first: the order of a state is ignored.")
        if value == sum(math.comb(c, i) for i, c in enumerate(sorted(items))):
            return wrong(
                "the i-th smallest movie (from 0) contributes C(c_i, i + 1), not C(c_i, i)."
            )
        if value == _lex_rank(items):
            return wrong("that is the lexicographic rank, which depends on n; the colex rank "
                         "sums C(c_i, i + 1) and does not.")  # fmt: skip
        return wrong(f"for {items} you returned {value}; sort the movies, then add "
                     "C(c_i, i + 1) for the i-th smallest (i from 0).")  # fmt: skip
    return correct("every set gets its own row in O(k) arithmetic, with no list of the "
                   "40 million combinations.")  # fmt: skip
