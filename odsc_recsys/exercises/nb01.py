"""Exercises of notebook 01 (classical recommenders).

``01.hit_rate``: the learner writes the evaluation loop ``hit_rate(model, transitions,
histories, k)``; the check runs it on a small seeded world with two fitted models and compares
it with :func:`odsc_recsys.metrics.hit_rate_at_k` over :func:`odsc_recsys.metrics.recommend_all`.

``01.best_n_last``: which of ``n_last`` 1 and 5 gives the Markov chain the higher validation
HR@10. Computing it needs the MovieLens split and two evaluations (about a second), too slow
for a one-line check, so only the digest of the answer is stored; the solutions notebook
recomputes the answer from the data, and a test compares it with the digest whenever the data
is present.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from ..classical import MarkovChain, Popularity
from ..metrics import hit_rate_at_k, recommend_all
from ..protocol import Recommender
from ..sessions import Transitions, make_transitions
from . import Verdict, answered, as_number, correct, digest, exercise, first_slip, wrong

# --- 01.hit_rate ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _world(seed: int = 1) -> tuple[dict[int, np.ndarray], Transitions, list[Recommender]]:
    """Thirty users of a 60-movie catalogue with a long tail, and two models fitted on them."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, 61)
    histories = {
        u: rng.choice(60, size=int(rng.integers(6, 16)), replace=False, p=weights / weights.sum())
        for u in range(30)
    }
    models = [Popularity().fit(histories, 60), MarkovChain(n_last=1).fit(histories, 60)]
    return histories, make_transitions(histories), models


def _share(lists: list[np.ndarray], targets: np.ndarray) -> float:
    return float(np.mean([t in rec for rec, t in zip(lists, targets, strict=True)]))


def _slips(model: Recommender, trans: Transitions, histories: dict, k: int) -> dict[str, float]:
    """The hit rates that the usual mistakes produce, each with the hint it earns."""
    before = trans.prefixes(histories)
    whole = [histories[int(u)] for u in trans.users]
    return {
        "exclude the user's history (exclude=history): a watched movie is never the next one":
            _share([model.recommend(h, k) for h in before], trans.targets),
        "the model saw the future: give it only histories[user][:position], the movies before "
        "the target": _share([model.recommend(h, k, exclude=h) for h in whole], trans.targets),
        "give the model the whole history before the target, histories[user][:position], not "
        "only the three-movie state": _share(
            [model.recommend(s, k, exclude=s) for s in trans.states], trans.targets),
    }  # fmt: skip


@exercise("01.hit_rate", "code",
          "hit_rate(model, transitions, histories, k=10) -> share of transitions whose next "
          "movie is in the model's top k")  # fmt: skip
def check_hit_rate(func: Callable[..., Any]) -> Verdict:
    """For each transition: the history before the target in, a top-k list out, a hit or not."""
    histories, trans, models = _world()
    for model in models:
        for k in (10, 3):
            got = answered(func(model, trans, histories, k))
            value = as_number(got, "return one number, the share of hits")
            want = hit_rate_at_k(recommend_all(model, trans, k, histories), trans.targets, k)
            if np.isclose(value, want):
                continue
            slips = _slips(model, trans, histories, k)
            slips["return the share of hits, not their number"] = want * len(trans)
            if k != 10:
                slips[f"use the k you are given (here {k}), not 10"] = hit_rate_at_k(
                    recommend_all(model, trans, 10, histories), trans.targets, 10
                )
            hint = first_slip(
                value,
                slips,
                "for each transition ask model.recommend(history, k, exclude=history) "
                "with history = histories[user][:position], then average the hits",
            )
            return wrong(f"with {model.name} and k={k} you returned {value:.4f}; {hint}.")
    return correct("the history before each target in, the target never shown, hits averaged.")


# --- 01.best_n_last ------------------------------------------------------------------------------

#: digest of the n_last (1 or 5) with the higher validation HR@10; see the module docstring
_BEST_N_LAST = "ef2d127de37b942baad06145e54b0c619a1f22327b2ebbcfbec78f5564afe39d"


@exercise("01.best_n_last", "value",
          "the n_last, 1 or 5, that gives the Markov chain the higher HR@10 on validation")  # fmt: skip
def check_best_n_last(answer: Any) -> Verdict:
    """The Markov chain with one movie of state against five, judged on the validation split."""
    try:
        n_last = int(answer)
        whole = not isinstance(answer, bool) and float(answer) == n_last
    except (TypeError, ValueError):
        whole = False
    if not whole or n_last not in (1, 5):
        return wrong(f"answer with the number 1 or 5, got {answer!r}")
    if digest(str(n_last)) == _BEST_N_LAST:
        return correct("the chain does better with more than the three-movie state; the state "
                       "throws information away.")  # fmt: skip
    return wrong("print both validation hit rates (never the test ones) and keep the n_last "
                 "with the larger HR@10.")  # fmt: skip
