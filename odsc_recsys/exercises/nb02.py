"""Exercises of notebook 02 (the limits of classical recommenders).

``02.slot_share``: the learner writes ``slot_share(lists, top)``, the share of recommendation
slots that go to the most popular movies (the popularity-bias measurement); the check compares
it with :func:`odsc_recsys.limits.popularity_bias` on padded lists drawn from a fixed seed.

``02.least_biased_cf``: which collaborative model gives the top 20% of movies the smallest share
of its slots. Computing it refits three models on MovieLens (several seconds), too slow for a
one-line check, so only the digest of the answer is stored; the solutions notebook recomputes
it from the data, and a test compares it with the digest whenever the data is present.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..limits import popularity_bias, top_items
from ..metrics import PAD
from . import Verdict, answered, as_number, correct, digest, exercise, first_slip, wrong

# --- 02.slot_share -------------------------------------------------------------------------------


def _cases(seed: int = 2) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(lists padded with -1, popularity, frac): some lists are short, the last movie is a top one."""
    rng = np.random.default_rng(seed)
    cases = []
    for n_items, n_lists, k, frac in ((40, 12, 5, 0.1), (25, 8, 4, 0.2), (60, 20, 10, 0.05)):
        popularity = rng.integers(0, 50, size=n_items).astype(float)
        popularity[-1] = 100.0  # padding read as a movie index (-1) would land on a top movie
        lists = np.stack([rng.choice(n_items, size=k, replace=False) for _ in range(n_lists)])
        for row, short in enumerate(rng.integers(0, k, size=n_lists // 2)):
            lists[row, k - short :] = PAD  # a list with fewer eligible movies than k
        cases.append((lists, popularity, frac))
    return cases


def _reference(lists: np.ndarray, popularity: np.ndarray, frac: float) -> float:
    table = popularity_bias({"model": lists}, popularity, frac=frac)
    return float(table.loc["model", "share to top items"])


@exercise("02.slot_share", "code",
          "slot_share(lists, top) -> share of the filled slots of lists holding a top movie")  # fmt: skip
def check_slot_share(func: Callable[[np.ndarray, np.ndarray], float]) -> Verdict:
    """Count the filled slots holding a top movie, divide by the filled slots (-1 is empty)."""
    for lists, popularity, frac in _cases():
        top = top_items(popularity, frac)
        got = answered(func(lists.copy(), top.copy()))
        value = as_number(got, "return one number (a share between 0 and 1)")
        want = _reference(lists, popularity, frac)
        if np.isclose(value, want):
            continue
        filled = lists != PAD
        per_list = np.mean([top[row[row != PAD]].mean() for row in lists])
        slips = {
            "-1 marks an empty slot, not a movie (top[-1] is the last movie): leave it out":
                top[lists].mean(),
            "divide by the filled slots only: -1 marks an empty slot": top[lists[filled]].sum() / lists.size,
            "pool the slots of all lists; a mean of per-list shares over-weights short lists": per_list,
            "return the share of slots, not their number": top[lists[filled]].sum(),
        }  # fmt: skip
        hint = first_slip(
            value, slips, "keep the filled slots (lists != -1), look each movie up in top, average"
        )
        return wrong(
            f"for {lists.shape[0]} lists of {lists.shape[1]} you returned {value:.4f}; {hint}."
        )
    return correct("filled slots holding a top movie over all filled slots.")


# --- 02.least_biased_cf --------------------------------------------------------------------------

CF_MODELS = ("User-kNN", "Item-kNN", "MF (ALS)")

#: digest of the collaborative model with the smallest top-20% share; see the module docstring
_LEAST_BIASED = "2968fdc72be06a0c63f70c831b7cdddb25438e3e172e08b02902ff40c732985e"


@exercise("02.least_biased_cf", "value",
          "the collaborative model giving the top 20% of movies the smallest share of its slots")  # fmt: skip
def check_least_biased_cf(answer: Any) -> Verdict:
    """One of the three collaborative models, by name."""
    names = {digest(n): n for n in CF_MODELS}
    if not isinstance(answer, str) or digest(answer) not in names:
        return wrong(
            f"answer with one of the names {', '.join(map(repr, CF_MODELS))}; got {answer!r}"
        )
    if digest(answer) == _LEAST_BIASED:
        return correct(f"{names[digest(answer)]} spreads its lists furthest from the blockbusters.")
    return wrong("compute each collaborative model's share for frac=0.2 and keep the smallest.")
