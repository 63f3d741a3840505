"""Exercises of notebook 04 (Q-learning).

``04.td_update``: one Q-learning update by hand (the notebook's worked case); the check computes
the expected value with :func:`odsc_recsys.qlearning.td_update`.

``04.q_update``: the learner writes ``q_update(q, s, a, r, s_next, alpha, gamma)``, which moves
``q[s, a]`` towards ``r + gamma * max_a' q[s_next, a']`` in place; the check runs it on seeded
tables and compares with :func:`odsc_recsys.qlearning.q_learning_step`. No answer is stored here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..qlearning import buggy_update_double_counted, q_learning_step, td_target, td_update
from . import Verdict, as_number, correct, exercise, is_blank, not_attempted, wrong

# The notebook's case: Q(s, Liar Liar) = 4, reward 15, best next Q-value 12, alpha 0.8, gamma 0.4.
_CASE = {"q_sa": 4.0, "reward": 15.0, "max_next_q": 12.0, "alpha": 0.8, "gamma": 0.4}


@exercise("04.td_update", "value",
          "new Q(s, a) from Q = 4, r = 15, max Q(s', .) = 12, alpha = 0.8, gamma = 0.4")  # fmt: skip
def td_update_value(answer: object) -> Verdict:
    """Q + alpha * (r + gamma * max Q' - Q)."""
    value = as_number(answer, "answer with one number")
    c = _CASE
    if np.isclose(value, td_update(**c), atol=1e-3):
        return correct("the TD target is r + gamma * max Q', and Q moves alpha of the way "
                       "towards it.")  # fmt: skip
    if np.isclose(value, td_target(c["reward"], c["max_next_q"], c["gamma"]), atol=1e-3):
        return wrong("that is the TD target itself; Q moves only alpha of the way towards it.")
    if np.isclose(value, buggy_update_double_counted(**c), atol=1e-3):
        return wrong("that is the original code's update, which counts the old value twice.")
    if np.isclose(value, td_update(c["q_sa"], c["reward"], 0.0, c["alpha"], c["gamma"]), atol=1e-3):
        return wrong("you left out the future: add gamma times the best next Q-value.")
    return wrong("compute the target r + gamma * max Q' first, then Q + alpha * (target - Q).")


def _tables(seed: int = 4) -> list[tuple[np.ndarray, int, int, float, int, float, float]]:
    """(q, s, a, r, s_next, alpha, gamma) cases from a fixed seed, s_next == s included."""
    rng = np.random.default_rng(seed)
    cases = []
    for alpha, gamma, same in ((0.8, 0.4, False), (0.5, 0.9, False), (0.1, 0.0, False),
                               (1.0, 0.9, True)):  # fmt: skip
        q = rng.normal(0, 5, size=(6, 4)).round(2)
        s, a = int(rng.integers(6)), int(rng.integers(4))
        s_next = s if same else int((s + 1 + rng.integers(5)) % 6)
        r = float(rng.choice([15.0, -5.0]))
        cases.append((q, s, a, r, s_next, alpha, gamma))
    return cases


@exercise("04.q_update", "code",
          "q_update(q, s, a, r, s_next, alpha, gamma): update q[s, a] in place")  # fmt: skip
def q_update(func: Callable[..., object]) -> Verdict:
    """The tabular Q-learning step on a whole table."""
    for q, s, a, r, s_next, alpha, gamma in _tables():
        mine, want = q.copy(), q.copy()
        returned = func(mine, s, a, r, s_next, alpha, gamma)
        q_learning_step(want, s, a, r, s_next, alpha, gamma)
        if np.array_equal(mine, q):  # the table was not touched
            if is_blank(returned):
                return not_attempted()
            return wrong("write the new value into the table, q[s, a] = ..., not only return it.")
        others = np.ones_like(q, dtype=bool)
        others[s, a] = False
        if not np.array_equal(mine[others], q[others]):
            return wrong("only q[s, a] may change: the other entries of the table moved.")
        got = float(mine[s, a])
        if np.isclose(got, want[s, a], atol=1e-8):
            continue
        old = float(q[s, a])
        if np.isclose(got, td_update(old, r, float(q[s_next, a]), alpha, gamma), atol=1e-8):
            return wrong("the target takes the BEST next action, max over q[s_next], not the "
                         "same action a (that would be SARSA-like).")  # fmt: skip
        if np.isclose(got, buggy_update_double_counted(old, r, float(q[s_next].max()), alpha,
                                                       gamma), atol=1e-8):  # fmt: skip
            return wrong("that is the original update, which counts the old value twice.")
        return wrong(f"for alpha={alpha}, gamma={gamma} q[s, a] became {got:.4f}; the target is "
                     "r + gamma * max(q[s_next]) and q[s, a] moves alpha of the way to it.")  # fmt: skip
    return correct("q[s, a] moved alpha of the way towards r + gamma * max_a' q[s_next, a'], "
                   "and nothing else changed.")  # fmt: skip
