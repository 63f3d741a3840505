"""Exercises of notebook 07 (training and evaluation).

``07.replay_targets``: the learner writes ``replay_targets(listed, clicked, future, gamma,
bootstrap_ignored)``, the TD target of every movie one replayed transition updates, under the
paper's rule and under the talk's code. The check runs the package's own update
(:func:`odsc_recsys.qtables.replay_train`'s, with ``alpha = 1`` so that a Q-value becomes
its target) on seeded cases, so no answer is stored here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..qtables import GenreQTables
from . import Verdict, answered, correct, exercise, wrong

REWARD, PENALTY = 15.0, 5.0  # the talk's reward and penalty
N_ITEMS = 12


def _cases() -> list[tuple[list[int], int, float, float, bool]]:
    """(listed, clicked, future, gamma, bootstrap_ignored): a hit, a miss, both rules."""
    return [
        ([5, 7, 4, 9], 7, 10.0, 0.4, True),  # the watched movie is in the list
        ([5, 7, 4], 9, 10.0, 0.4, True),  # it is not: appended
        ([8, 6, 11, 5], 6, 2.5, 0.9, True),
        ([5, 7, 4], 9, 10.0, 0.4, False),  # the talk's code: no future for ignored movies
        ([10, 3, 6], 3, -4.0, 0.5, False),
    ]


def _reference(listed: list[int], clicked: int, future: float, gamma: float,
               bootstrap_ignored: bool) -> dict[int, float]:  # fmt: skip
    """The package's targets: one update with alpha = 1 writes each target into the table."""
    # every movie its own genre: state (0, 1, 2) has three single sub-states, and s' is the
    # single {clicked}, whose row we fill with ``future``
    tables = GenreQTables(np.arange(N_ITEMS), [f"g{i}" for i in range(N_ITEMS)], alpha=1.0,
                          gamma=gamma, dtype=np.float64)  # fmt: skip
    tables.store.writable_row(clicked, 0)[:] = future
    actions = listed + ([clicked] if clicked not in listed else [])
    state = (0, 1, 2)
    subs = tables.decompose(state)
    tables.learn(state, subs, actions, clicked, REWARD, PENALTY,
                 bootstrap_ignored=bootstrap_ignored)  # fmt: skip
    row = tables.q_row(subs[0])
    return {a: float(row[a]) for a in actions}


@exercise("07.replay_targets", "code",
          "replay_targets(listed, clicked, future, gamma, bootstrap_ignored) -> {movie: target}")  # fmt: skip
def replay_targets(func: Callable[..., object]) -> Verdict:
    """Clicked: reward + gamma * future. Ignored: -penalty + gamma * future (the paper), or
    -penalty alone (the talk's code). A missed watched movie is appended first."""
    for listed, clicked, future, gamma, boot in _cases():
        got = answered(func(list(listed), clicked, future, gamma, boot))
        if not isinstance(got, dict):
            return wrong(f"return a dict {{movie: target}}, got {type(got).__name__}")
        want = _reference(listed, clicked, future, gamma, boot)
        case = f"listed={listed}, clicked={clicked}, future={future}, gamma={gamma}, " \
               f"bootstrap_ignored={boot}"
        if set(got) != set(want):
            missing = sorted(set(want) - set(got))
            hint = ("the movie the user watched is appended when the list missed it, and it is "
                    "updated too" if clicked in missing else
                    "give a target to every listed movie (and to the watched one), no other")  # fmt: skip
            return wrong(f"for {case} your keys are {sorted(got)}; {hint}.")
        for movie, target in want.items():
            try:
                value = float(got[movie])  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return wrong(f"targets are numbers, got {got[movie]!r} for movie {movie}")
            if np.isclose(value, target, atol=1e-9):
                continue
            if movie == clicked:
                hint = "the watched movie's target is reward + gamma * future"
            elif boot:
                hint = "under the paper's rule every listed movie gets the future term too"
            else:
                hint = ("as coded, next_max = old_value cancels the future term of an ignored "
                        "movie: its target is -penalty alone")  # fmt: skip
            return wrong(f"for {case}, movie {movie}: you gave {value:g}; {hint}.")
    return correct("+15 for the watched movie, -5 for the rest, plus gamma times the next "
                   "sub-state's best Q, which the talk's code drops for ignored movies.")  # fmt: skip
