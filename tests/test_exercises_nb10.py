"""Notebook 10's check: the double-DQN future term."""

from __future__ import annotations

import numpy as np

from odsc_recsys.exercises import check


def double_dqn_future(q_online_next, q_target_next, gamma, done):
    return gamma * (1.0 - float(done)) * float(q_target_next[int(np.argmax(q_online_next))])


def test_untouched_body_is_not_attempted():
    assert check("10.double_dqn_future", lambda q_on, q_tg, gamma, done: ...).status == "not attempted"


def test_the_right_function_passes():
    assert check("10.double_dqn_future", double_dqn_future).passed


def test_plain_dqn_gets_its_own_hint():
    verdict = check("10.double_dqn_future", lambda q_on, q_tg, g, d: g * (1 - d) * np.max(q_tg))
    assert verdict.status == "wrong" and "plain DQN" in str(verdict)


def test_ignoring_done_fails():
    verdict = check("10.double_dqn_future", lambda q_on, q_tg, g, d: g * q_tg[np.argmax(q_on)])
    assert verdict.status == "wrong" and "done=True" in str(verdict)


def test_a_number_instead_of_a_function_is_wrong():
    assert check("10.double_dqn_future", 0.5).status == "wrong"
