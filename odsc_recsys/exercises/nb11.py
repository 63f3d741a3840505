"""Exercises of notebook 11 (planning, and off-policy evaluation checked against the truth).

``11.per_decision_ips``: the learner writes ``per_decision_ips(rewards, behaviour, target)``,
the per-decision importance-sampling estimate of clicks per session from logged sessions; the
check runs it on logs drawn from a fixed seed and compares it with the package's own
:func:`odsc_recsys.offpolicy.ips`, so no answer is stored here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import Verdict, answered, as_number, correct, exercise, first_slip, wrong

Sessions = list[np.ndarray]


def _cases(seed: int = 11) -> list[tuple[Sessions, Sessions, Sessions]]:
    """Logs of sessions of different lengths: per step the reward (a click or not), the
    behaviour's probability of the logged movie and the target's."""
    rng = np.random.default_rng(seed)
    cases = []
    for n_sessions in (1, 3, 5):
        lengths = rng.integers(1, 5, size=n_sessions)
        rewards = [rng.integers(0, 2, size=n).astype(float) for n in lengths]
        behaviour = [rng.uniform(0.1, 0.9, size=n).round(2) for n in lengths]
        target = [rng.uniform(0.05, 0.95, size=n).round(2) for n in lengths]
        cases.append((rewards, behaviour, target))
    return cases


def _reference(rewards: Sessions, behaviour: Sessions, target: Sessions) -> float:
    """The package's estimator on the same log."""
    from ..offpolicy import SessionMatrices, cumulative_weights, ips

    horizon = max(len(r) for r in rewards)
    ratios = np.ones((len(rewards), horizon))  # after the end, every policy agrees: ratio 1
    reward = np.zeros((len(rewards), horizon))
    for i, (r, b, t) in enumerate(zip(rewards, behaviour, target, strict=True)):
        ratios[i, : len(r)] = t / b
        reward[i, : len(r)] = r
    return ips(SessionMatrices(cumulative_weights(ratios), reward)).value


def _slips(rewards: Sessions, behaviour: Sessions, target: Sessions) -> dict[str, float]:
    """What the usual mistakes return on this log."""
    one_step = np.mean([np.sum(t / b * r) for r, b, t in zip(rewards, behaviour, target, strict=True)])
    whole = np.mean([np.prod(t / b) * np.sum(r) for r, b, t in zip(rewards, behaviour, target, strict=True)])
    inverted = _reference(rewards, target, behaviour)
    return {
        "each reward's weight is the product of the ratios of every step up to and including "
        "its own, not its own step's ratio alone": float(one_step),
        "that weights every reward by the whole session's product (trajectory-wise IS); a "
        "reward cannot depend on choices made after it, so use the ratios up to its own step":
        float(whole),
        "the ratio is target / behaviour: how much more likely the target was to show the "
        "logged movie": float(inverted),
    }


@exercise("11.per_decision_ips", "code",
          "per_decision_ips(rewards, behaviour, target) -> clicks per session")  # fmt: skip
def per_decision_ips(func: Callable[[Sessions, Sessions, Sessions], float]) -> Verdict:
    """Per-decision importance sampling: sum over steps of the cumulative ratio times the
    reward, averaged over sessions."""
    for rewards, behaviour, target in _cases():
        copy = [[a.copy() for a in arrays] for arrays in (rewards, behaviour, target)]
        got = as_number(answered(func(*copy)), "return one number: the estimated clicks per session")
        want = _reference(rewards, behaviour, target)
        if not np.isclose(got, want, rtol=1e-9, atol=1e-9):
            hint = first_slip(got, _slips(rewards, behaviour, target),
                              "average over sessions of sum_t (prod_{t' <= t} target / behaviour) "
                              "* reward_t", atol=1e-9)  # fmt: skip
            return wrong(f"on a log of {len(rewards)} session(s) you returned {got:.4f}; {hint}.")
    return correct("each reward is reweighted by how much more likely the target was to take "
                   "every step that led to it; averaged over sessions, that is unbiased.")  # fmt: skip
