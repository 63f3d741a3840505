"""Exercises of notebook 08a (the simulator in depth).

``08a.online_targets``: the learner writes ``online_targets(slate, clicked, reward, penalty,
gamma, future, done)``, the Q-learning target of every movie of a slate after one online step,
including the two outcomes replay from logs never meets (no click, the user leaves). The check
runs it on fixed cases and compares it with the package's own
:func:`odsc_recsys.qtables.td_targets`, so no answer is stored here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Verdict, answered, as_vector, correct, exercise, first_slip, wrong

# (slate, clicked, reward, penalty, gamma, future, done): click and stay, no click, a click
# and the user leaves, no click and the user leaves.
_CASES = [
    (np.array([12, 5, 40, 7]), 40, 15.0, 1.0, 0.4, 6.5, False),
    (np.array([3, 9, 27]), -1, 15.0, 1.0, 0.4, 2.0, False),
    (np.array([8, 1]), 8, 15.0, 5.0, 0.9, 4.0, True),
    (np.array([2, 6, 11]), -1, 15.0, 5.0, 0.4, 3.0, True),
]


def _hint(got: np.ndarray, case: tuple) -> str:
    from ..qtables import td_targets

    slate, clicked, reward, penalty, gamma, future, done = case
    slips = {
        "when the user leaves (done) there is no next state: the target is the reward alone": (
            td_targets(slate, clicked, reward, penalty, gamma, future, False)
        ),
        "the future term is discounted: multiply it by gamma": td_targets(
            slate, clicked, reward, penalty, 1.0, future, done
        ),
        "every shown movie that was not watched gets -penalty, with or without a click": (
            np.where(slate == clicked, reward, 0.0) + (0.0 if done else gamma * future)
        ),
        "the watched movie earns +reward, the others -penalty; all share the same future": (
            np.where(slate == clicked, -penalty, reward) + (0.0 if done else gamma * future)
        ),
    }
    return first_slip(
        got, slips, "y_i = r_i + gamma * future, with no future once the user has left", atol=1e-6
    )


@exercise("08a.online_targets", "code",
          "online_targets(slate, clicked, reward, penalty, gamma, future, done) -> array")  # fmt: skip
def online_targets(func: Callable[..., np.ndarray]) -> Verdict:
    """The online Q-learning target: reward or penalty, plus the discounted future unless the
    user left."""
    from ..qtables import td_targets

    for case in _CASES:
        slate, clicked, reward, penalty, gamma, future, done = case
        got = answered(func(slate.copy(), clicked, reward, penalty, gamma, future, done))
        got = as_vector(got, slate.size, "return an array of numbers, one per movie of the slate",
                        f"return one target per movie of the slate ({slate.size})")  # fmt: skip
        want = td_targets(slate, clicked, reward, penalty, gamma, future, done)
        if not np.allclose(got, want, atol=1e-6):
            what = "no click" if clicked < 0 else f"a click on {clicked}"
            return wrong(f"with {what} and done={done} you returned {got.round(3).tolist()}; "
                         f"{_hint(got, case)}.")  # fmt: skip
    return correct(
        "+reward for the watched movie, -penalty for the others, plus gamma times the best "
        "value of the next state; no click leaves the state as it was, and a user who left has "
        "no future."
    )
