"""Notebook 11's check: per-decision importance sampling."""

from __future__ import annotations

import numpy as np

from odsc_recsys.exercises import check


def per_decision_ips(rewards, behaviour, target):
    totals = [np.sum(np.cumprod(t / b) * r) for r, b, t in zip(rewards, behaviour, target, strict=False)]
    return float(np.mean(totals))


def test_untouched_body_is_not_attempted():
    assert check("11.per_decision_ips", lambda r, b, t: ...).status == "not attempted"


def test_the_right_function_passes():
    assert check("11.per_decision_ips", per_decision_ips).passed


def test_a_hand_computed_log_agrees_with_the_reference():
    # One session of two steps: ratios 0.5/0.25 = 2 then 0.3/0.6 = 0.5; rewards 1 then 1:
    # 2 * 1 + (2 * 0.5) * 1 = 3. A second session, one step: ratio 0.2/0.4 = 0.5, reward 0.
    rewards = [np.array([1.0, 1.0]), np.array([0.0])]
    behaviour = [np.array([0.25, 0.6]), np.array([0.4])]
    target = [np.array([0.5, 0.3]), np.array([0.2])]
    assert per_decision_ips(rewards, behaviour, target) == 1.5  # (3 + 0) / 2


def test_one_step_weights_get_their_own_hint():
    def one_step(rewards, behaviour, target):
        return float(np.mean([np.sum(t / b * r) for r, b, t in zip(rewards, behaviour, target, strict=False)]))

    verdict = check("11.per_decision_ips", one_step)
    assert verdict.status == "wrong" and "up to and including" in str(verdict)


def test_trajectory_weights_get_their_own_hint():
    def whole(rewards, behaviour, target):
        return float(np.mean([np.prod(t / b) * np.sum(r) for r, b, t in zip(rewards, behaviour, target, strict=False)]))

    verdict = check("11.per_decision_ips", whole)
    assert verdict.status == "wrong" and "trajectory-wise" in str(verdict)


def test_an_inverted_ratio_gets_its_own_hint():
    verdict = check("11.per_decision_ips", lambda r, b, t: per_decision_ips(r, t, b))
    assert verdict.status == "wrong" and "target / behaviour" in str(verdict)


def test_self_normalising_is_not_per_decision_ips():
    def snips(rewards, behaviour, target):
        w = [np.cumprod(t / b) for r, b, t in zip(rewards, behaviour, target, strict=False)]
        return float(sum(np.sum(wi * r) for wi, r in zip(w, rewards, strict=False)) / sum(wi[-1] for wi in w))

    assert check("11.per_decision_ips", snips).status == "wrong"


def test_a_number_instead_of_a_function_is_wrong():
    assert check("11.per_decision_ips", 2.5).status == "wrong"
