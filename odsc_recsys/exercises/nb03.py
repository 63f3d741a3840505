"""Exercises of notebook 03 (RL basics and the Bellman equation).

``03.bellman_value``: the value of the start room A of the slide's house with no slipping and
``gamma = 0.5``; the check solves the house with :func:`odsc_recsys.gridworld.value_iteration`.

``03.bellman_sweep``: the learner writes ``bellman_sweep(P, R, V, gamma)``, one synchronous
sweep of value iteration; the check runs it on the talk's two houses, with and without slipping,
and compares it with the package's own backup :func:`odsc_recsys.gridworld.q_from_values`.
No answer is stored here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..gridworld import MDP, GridWorld, q_from_values, transition_model, value_iteration
from . import Verdict, answered, as_number, correct, exercise, wrong


def _start_value(gamma: float) -> float:
    grid = GridWorld("slide")
    return float(value_iteration(transition_model(grid), gamma=gamma).values[grid.start_state])


@exercise("03.bellman_value", "value",
          "V(A) in the slide's house with no slipping and gamma = 0.5")  # fmt: skip
def bellman_value(answer: object) -> Verdict:
    """A room ``d`` moves from the goal is worth ``gamma ** (d - 1)``: the reward comes last."""
    value = as_number(answer, "answer with one number")
    want = _start_value(0.5)
    if np.isclose(value, want, atol=1e-4):
        return correct("A is five moves from the goal and the reward 1 comes with the last "
                       "move, so it is discounted four times.")  # fmt: skip
    if np.isclose(value, _start_value(0.9), atol=1e-3):
        return wrong("that is the value for gamma = 0.9, the slide's table; use gamma = 0.5.")
    if np.isclose(value, want * 0.5, atol=1e-4) or np.isclose(value, want * 2, atol=1e-4):
        return wrong("count the discounts again: the reward arrives with the move INTO the "
                     "goal, and a room next to the goal is worth 1, not gamma.")  # fmt: skip
    return wrong("count the moves from A to the goal, d; the value is gamma ** (d - 1).")


def _cases() -> list[tuple[str, MDP, np.ndarray, float]]:
    """(name, model, V, gamma) on both houses, deterministic and slippery; terminals hold 0."""
    rng = np.random.default_rng(3)
    cases = []
    for layout, slip, gamma in (("slide", 0.0, 0.9), ("floydhub", 0.0, 0.9),
                                ("floydhub", 0.2, 0.9), ("floydhub", 0.4, 0.5)):  # fmt: skip
        mdp = transition_model(GridWorld(layout), slip=slip)
        values = np.where(mdp.terminal, 0.0, rng.uniform(-1, 1, mdp.n_states).round(2))
        house = "the slide's house" if layout == "slide" else "the FloydHub house"
        cases.append((f"{house} with slip {slip:g}, gamma {gamma:g}", mdp, values, gamma))
    return cases


@exercise("03.bellman_sweep", "code",
          "bellman_sweep(P, R, V, gamma) -> new V: one value-iteration sweep")  # fmt: skip
def bellman_sweep(func: Callable[..., np.ndarray]) -> Verdict:
    """V'(s) = max_a (R(s, a) + gamma * sum_s' P(s, a, s') V(s')) for every room at once."""
    for name, mdp, values, gamma in _cases():
        P, R = mdp.P, mdp.R
        got = answered(func(P.copy(), R.copy(), values.copy(), gamma))
        q = q_from_values(mdp, values, gamma)
        want = q.max(axis=1)
        got = np.asarray(got, dtype=float)
        if got.shape == q.shape:
            return wrong("that is Q(s, a) for every action: take the max over the actions.")
        if got.shape != want.shape:
            return wrong(f"return one value per state, shape {want.shape}; got {got.shape}")
        if np.allclose(got, want, atol=1e-8):
            continue
        if np.allclose(got, (R + P @ values).max(axis=1), atol=1e-8):
            return wrong("the next room's value is worth gamma times as much: discount it.")
        if np.allclose(got, q.mean(axis=1), atol=1e-8):
            return wrong("the robot picks its best action: max over actions, not the mean.")
        if not np.allclose(mdp.P.max(axis=2), 1.0):  # only slipping cases reach this far
            return wrong(f"right without slipping, but not on {name}: average V(s') over "
                         "every room the robot may land in, weighted by P(s, a, s').")  # fmt: skip
        return wrong(f"on {name} your values differ: average V(s') over P(s, a, s'), add "
                     "R(s, a), then take the best action.")  # fmt: skip
    return correct("one Bellman backup for every room; repeat it until nothing changes and "
                   "you have value iteration.")  # fmt: skip
