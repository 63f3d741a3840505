"""Notebook 04's checks: one TD update by hand, and the in-place Q-learning step."""

from __future__ import annotations

import numpy as np

from odsc_recsys.exercises import check


def q_update(q, s, a, r, s_next, alpha, gamma):
    q[s, a] += alpha * (r + gamma * np.max(q[s_next]) - q[s, a])


def test_the_hand_computed_update_passes():
    # 4 + 0.8 * (15 + 0.4 * 12 - 4) = 4 + 0.8 * 15.8 = 16.64
    assert check("04.td_update", 16.64).passed


def test_wrong_values_get_their_hints():
    assert "TD target itself" in str(check("04.td_update", 15 + 0.4 * 12))
    assert "old value twice" in str(check("04.td_update", 0.2 * 4 + 0.8 * (15 + 0.4 * (12 - 4))))
    assert "left out the future" in str(check("04.td_update", 4 + 0.8 * 11))
    assert check("04.td_update", 16.0).status == "wrong"


def test_the_right_step_passes():
    assert check("04.q_update", q_update).passed


def test_typical_slips_get_their_hints():
    def sarsa_like(q, s, a, r, s_next, alpha, gamma):
        q[s, a] += alpha * (r + gamma * q[s_next, a] - q[s, a])

    def returns_only(q, s, a, r, s_next, alpha, gamma):
        return q[s, a] + alpha * (r + gamma * np.max(q[s_next]) - q[s, a])

    def whole_row(q, s, a, r, s_next, alpha, gamma):
        q[s] += alpha * (r + gamma * np.max(q[s_next]) - q[s])

    def double_counted(q, s, a, r, s_next, alpha, gamma):
        q[s, a] = (1 - alpha) * q[s, a] + alpha * (r + gamma * (np.max(q[s_next]) - q[s, a]))

    assert "BEST next action" in str(check("04.q_update", sarsa_like))
    assert "write the new value" in str(check("04.q_update", returns_only))
    assert "only q[s, a]" in str(check("04.q_update", whole_row))
    assert "twice" in str(check("04.q_update", double_counted))


def test_the_blank_body_is_not_attempted():
    def blank(q, s, a, r, s_next, alpha, gamma): ...

    assert check("04.q_update", blank).status == "not attempted"
    assert check("04.q_update", "q").status == "wrong"
