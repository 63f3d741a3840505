"""Exercises of notebook 08 (a simulated MovieLens user, and the RL recommender online).

``08.cascade_click``: the learner writes ``click_probabilities(v, e)``, the cascade model's
probability that the click lands on each position of a slate; the check runs it on slates
drawn from a fixed seed and compares it with the simulator's own
:func:`odsc_recsys.simulator.cascade_click_probabilities`, so no answer is stored here.

``08.talk_hyperparameters``: a prediction, "above" or "below"; it is compared through
:func:`~odsc_recsys.exercises.digest`, so only the digest of the expected word is stored.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Verdict, answered, as_vector, correct, digest, exercise, first_slip, wrong


def _cases(seed: int = 8) -> list[tuple[np.ndarray, np.ndarray]]:
    """Slates of attractions ``v`` with examination probabilities ``e``: the simulator's
    ``1 / (1 + p)``, a steeper decay, and an edge case with a certain click at the top."""
    rng = np.random.default_rng(seed)
    cases = []
    for n, decay in ((5, 1.0), (10, 1.0), (6, 1.5)):
        v = rng.uniform(0.05, 0.9, size=n).round(3)
        cases.append((v, (1.0 + np.arange(n)) ** -decay))
    cases.append((np.array([1.0, 0.6, 0.3]), np.array([1.0, 0.5, 1 / 3])))
    return cases


def _hint(got: np.ndarray, v: np.ndarray, e: np.ndarray) -> str:
    """Name the usual slip when the answer matches it."""
    ev = v * e
    above_ev = np.concatenate([[1.0], np.cumprod(1 - ev)[:-1]])
    slips = {
        "that is e_p * v_p, the chance that position p is examined and attractive; the click "
        "lands there only if nobody clicked above it": ev,
        "a movie above p stops the scan only if it was examined AND attractive: use "
        "(1 - e_j * v_j), not (1 - v_j)": ev * np.concatenate([[1.0], np.cumprod(1 - v)[:-1]]),
        "the product runs over the positions above p only (j < p), not p itself": ev
        * np.cumprod(1 - ev),
        "that is the chance nobody clicked above p: multiply it by e_p * v_p": above_ev,
    }
    return first_slip(
        got, slips, "P(click at p) = e_p * v_p * prod over j < p of (1 - e_j * v_j)", atol=1e-6
    )


@exercise("08.cascade_click", "code", "click_probabilities(v, e) -> array of P(click at p)")
def cascade_click(func: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Verdict:
    """The cascade model: read top-down, the first examined attractive movie is watched."""
    from ..simulator import cascade_click_probabilities

    for v, e in _cases():
        got = answered(func(v.copy(), e.copy()))
        got = as_vector(got, v.size, "return an array of numbers, one per position",
                        f"return one probability per position: {v.size} here")  # fmt: skip
        want = cascade_click_probabilities(v, e)
        if not np.allclose(got, want, atol=1e-6):
            return wrong(f"for v = {v.tolist()} you returned {got.round(4).tolist()}; "
                         f"{_hint(got, v, e)}.")  # fmt: skip
    return correct(
        "a lower position gets the click only when it is examined, attractive, and every "
        "movie above it was passed over; 1 - sum is the chance of no click."
    )


_BELOW = "8ada24bf6bf3139273899fed85010be710367bbd1f8a176f19da97a62bc3bc65"
_ABOVE = "88c7f08d0be5407e361c165b1b84fdf5ae2f8cb7f76195c8d309330bd7b61527"


@exercise("08.talk_hyperparameters", "value",
          "Is the click-through rate with the talk's hyperparameters above or below ours?")  # fmt: skip
def talk_hyperparameters(answer: object) -> Verdict:
    """Predicted before it is measured: the talk's alpha 0.8, epsilon 0.3, penalty 5 online."""
    if not isinstance(answer, str):
        return wrong(f'answer with a word, "above" or "below", got {answer!r}')
    if digest(answer) == _BELOW:
        return correct(
            "with alpha = 0.8 a Q-value is mostly the last outcome, a penalty of 5 against a "
            "reward of 15 makes a movie look bad unless more than a quarter of its showings "
            "are clicked, and epsilon = 0.3 fills 3 slots of 10 at random."
        )
    if digest(answer) == _ABOVE:
        return wrong(
            "think about what alpha = 0.8 does to a Q-value after a single miss, and how many "
            "slots epsilon = 0.3 gives away at random."
        )
    return wrong(f'answer "above" or "below", got {answer!r}')
