"""The notebook-10 exercise check: untouched, wrong and right answers, and the stored solution."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from odsc_recsys.deep.exercises import NOT_ATTEMPTED, check_double_dqn_future

SOLUTION = Path(__file__).resolve().parent.parent / "notebooks/solutions/10_deep_q_network.py"


def _solution():
    spec = importlib.util.spec_from_file_location("solution_10", SOLUTION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.double_dqn_future


def test_untouched_blank_is_not_attempted():
    assert check_double_dqn_future(lambda q_on, q_tg, gamma, done: ...) == NOT_ATTEMPTED


def test_the_stored_solution_passes():
    assert check_double_dqn_future(_solution()).startswith("Correct")


def test_plain_dqn_gets_its_own_hint():
    message = check_double_dqn_future(lambda q_on, q_tg, g, d: g * (1 - d) * np.max(q_tg))
    assert message.startswith("Not quite") and "plain DQN" in message


def test_ignoring_done_fails():
    message = check_double_dqn_future(lambda q_on, q_tg, g, d: g * q_tg[np.argmax(q_on)])
    assert message.startswith("Not quite") and "done=True" in message


def test_a_raising_answer_is_reported_not_raised():
    message = check_double_dqn_future(lambda *args: 1 / 0)
    assert message.startswith("Not quite") and "ZeroDivisionError" in message
