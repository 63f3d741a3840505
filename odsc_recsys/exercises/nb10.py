"""Exercises of notebook 10 (deep Q-network).

``10.double_dqn_future``: the learner writes ``double_dqn_future(q_online_next, q_target_next,
gamma, done)``; the check runs it on cases drawn from a fixed seed and compares it with the
package's own :func:`odsc_recsys.deep.losses.bootstrap`, so no answer is stored here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Verdict, answered, as_number, correct, exercise, wrong


def _cases(seed: int = 10) -> list[tuple[np.ndarray, np.ndarray, float, bool]]:
    rng = np.random.default_rng(seed)
    cases = []
    for gamma, done in ((0.9, False), (0.5, False), (0.9, True), (0.0, False)):
        q_online = rng.normal(size=6).round(2)
        q_target = rng.normal(size=6).round(2)
        if np.argmax(q_online) == np.argmax(q_target):  # make plain and double DQN differ
            q_target[np.argmax(q_online)] -= 5.0
        cases.append((q_online, q_target, gamma, done))
    return cases


def _reference(q_online: np.ndarray, q_target: np.ndarray, gamma: float, done: bool) -> float:
    """The package's double-DQN term, through networks whose Q-values are given directly."""
    import jax.numpy as jnp  # JAX only when this exercise is checked

    from ..deep import losses

    n = len(q_online)

    def net(q: np.ndarray) -> dict:
        # one "movie" per state: embed -> identity hidden layer -> Q head whose bias is q
        return {
            "embed": jnp.zeros((n + 1, 1)),
            "hidden": {"w": jnp.zeros((3, 1)), "b": jnp.zeros(1)},
            "q": {"w": jnp.zeros((1, n)), "b": jnp.asarray(q, jnp.float32)},
        }

    out = losses.bootstrap(net(q_online), net(q_target), jnp.zeros((1, 3), jnp.int32),
                           jnp.asarray([float(done)]), gamma, True)  # fmt: skip
    return float(out[0])


@exercise("10.double_dqn_future", "code",
          "double_dqn_future(q_online_next, q_target_next, gamma, done) -> float")  # fmt: skip
def double_dqn_future(func: Callable[[np.ndarray, np.ndarray, float, bool], float]) -> Verdict:
    """The online network chooses the next movie, the target network values it."""
    for q_online, q_target, gamma, done in _cases():
        got = answered(func(q_online.copy(), q_target.copy(), gamma, done))
        want = _reference(q_online, q_target, gamma, done)
        value = as_number(got, "return one number")
        if not np.isclose(value, want, atol=1e-4):
            plain = gamma * (1 - done) * float(np.max(q_target))
            hint = (
                "that is plain DQN's max over the target network: let the online network "
                "choose the movie"
                if np.isclose(value, plain, atol=1e-4)
                else "the online network picks a* = argmax; the target network values it; "
                "multiply by gamma * (1 - done)"
            )
            return wrong(f"for gamma={gamma}, done={done} you returned {value:.4f}; {hint}.")
    return correct("the online network chooses, the target network values, done stops the future.")
