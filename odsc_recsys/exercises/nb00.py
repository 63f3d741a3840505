"""Exercises of notebook 00 (welcome and data).

``00.transitions``: the learner writes ``transitions(history, window)``, the sliding window that
turns a history into (state, next movie) pairs; the check compares it with
:func:`odsc_recsys.sessions.make_transitions` on histories drawn from a fixed seed.

``00.top_share``: the learner writes ``top_share(popularity, n)``, the share of all ratings that
the ``n`` most-rated movies hold; the check compares it with :meth:`Catalog.top_n` on
popularity counts drawn from a fixed seed.

No expected answer is stored here: each one is computed from the package when the check runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..catalog import Catalog
from ..sessions import make_transitions
from . import Verdict, answered, as_number, correct, exercise, first_slip, wrong

# --- 00.transitions ----------------------------------------------------------------------------


def _histories(seed: int = 0) -> list[tuple[np.ndarray, int]]:
    """(history, window) cases, among them a history just one movie longer than the window."""
    rng = np.random.default_rng(seed)
    cases = [(rng.permutation(40)[:n], w) for n, w in ((9, 3), (6, 3), (4, 3), (7, 2), (5, 1))]
    return cases + [(np.array([5, 9, 2]), 3)]  # no movie after the state: no transition


def _pairs(history: np.ndarray, window: int) -> list[tuple[tuple[int, ...], int]]:
    """The package's transitions of one history, as (state, next movie) pairs."""
    t = make_transitions({0: history}, window)
    return [(tuple(int(i) for i in s), int(n)) for s, n in zip(t.states, t.targets, strict=True)]


def _as_pairs(got: object) -> list[tuple[tuple[int, ...], int]]:
    return [(tuple(int(i) for i in state), int(nxt)) for state, nxt in got]  # type: ignore[attr-defined]


@exercise("00.transitions", "code",
          "transitions(history, window=3) -> list of (state, next_movie) pairs")  # fmt: skip
def check_transitions(func: Callable[..., object]) -> Verdict:
    """Every window of ``window`` consecutive movies, paired with the movie that follows it."""
    for history, window in _histories():
        got = answered(func(history.copy(), window))
        try:
            pairs = _as_pairs(got)
        except (TypeError, ValueError):
            return wrong("return a list of (state, next_movie) pairs, state a tuple of movies.")
        want = _pairs(history, window)
        if pairs == want:
            continue
        where = f"for history {history.tolist()} and window {window}"
        if any(len(s) != window for s, _ in pairs):
            hint = f"a state holds exactly the {window} movies (the window) before the next one"
        elif len(pairs) == len(want) + 1:
            hint = "the last state has no next movie: stop one window earlier"
        elif len(pairs) + 1 == len(want):
            hint = "you dropped one pair: the last movie is the next movie of the last state"
        elif len(pairs) == len(want):
            hint = "states are consecutive movies, oldest first, and the next movie follows them"
        else:
            hint = f"a history of n movies gives n - {window} pairs"
        return wrong(f"{where} you returned {pairs[:4]}{'...' if len(pairs) > 4 else ''}; {hint}.")
    return correct(
        "every state is the last movies before the next one, and none runs past the end."
    )


# --- 00.top_share --------------------------------------------------------------------------------


def _popularities(seed: int = 0) -> list[tuple[np.ndarray, int]]:
    """(ratings per movie, n) cases whose most-rated movies are not the first ones."""
    rng = np.random.default_rng(seed)
    cases = []
    for size, n in ((30, 5), (50, 10), (12, 1), (8, 8)):
        pop = np.sort(rng.zipf(1.6, size=size).clip(max=500))  # ascending: the top sits last
        cases.append((rng.permutation(pop) if size > 20 else pop, n))
    return cases


def _reference_share(popularity: np.ndarray, n: int) -> float:
    """The share of ratings held by the package's top-``n`` catalogue."""
    size = len(popularity)
    catalog = Catalog(item_ids=np.arange(1, size + 1), titles=[f"Movie {i}" for i in range(size)],
                      genres=[()] * size, popularity=popularity)  # fmt: skip
    return float(catalog.top_n(n).popularity.sum() / popularity.sum())


@exercise("00.top_share", "code",
          "top_share(popularity, n) -> share of all ratings held by the n most-rated movies")  # fmt: skip
def check_top_share(func: Callable[[np.ndarray, int], float]) -> Verdict:
    """Sort the counts in decreasing order, add up the first ``n``, divide by all ratings."""
    for popularity, n in _popularities():
        got = answered(func(popularity.copy(), n))
        value = as_number(got, "return one number (a share between 0 and 1)")
        want = _reference_share(popularity, n)
        if np.isclose(value, want, atol=1e-9):
            continue
        total = popularity.sum()
        slips = {
            "you added the first n movies of the array: sort by ratings first": popularity[:n].sum() / total,
            "you took the n least-rated movies: sort in decreasing order": np.sort(popularity)[:n].sum() / total,
            "that is a count of ratings: divide by the total number of ratings": want * total,
            "that is a percentage: return a share between 0 and 1": 100 * want,
        }  # fmt: skip
        hint = first_slip(
            value,
            slips,
            "sort the counts from most to least rated, add the first n, divide by the total",
        )
        return wrong(f"for {len(popularity)} movies and n={n} you returned {value:.4g}; {hint}.")
    return correct("the n most-rated movies' ratings over all ratings.")
