"""Notebook 08a's check: the online Q-learning target of every movie of a slate."""

from __future__ import annotations

import numpy as np
import pytest

from odsc_recsys.exercises import check


def online_targets(slate, clicked, reward, penalty, gamma, future, done):
    return np.where(np.asarray(slate) == clicked, reward, -penalty) + (
        0 if done else gamma * future
    )


def test_by_hand():
    # A click on 7 of (4, 7), gamma 0.5, future 2: 15 + 1 = 16 for 7 and -1 + 1 = 0 for 4.
    np.testing.assert_allclose(online_targets([4, 7], 7, 15, 1, 0.5, 2.0, False), [0.0, 16.0])
    # No click and the user left: the penalty alone.
    np.testing.assert_allclose(online_targets([4, 7], -1, 15, 1, 0.5, 2.0, True), [-1.0, -1.0])
    assert check("08a.online_targets", online_targets).passed


def test_untouched_body_is_not_attempted():
    assert check("08a.online_targets", lambda *args: ...).status == "not attempted"


@pytest.mark.parametrize(
    ("slip", "hint"),
    [
        (lambda s, c, r, p, g, f, d: np.where(s == c, r, -p) + g * f, "no next state"),
        (lambda s, c, r, p, g, f, d: np.where(s == c, r, -p) + f * (not d), "multiply it by gamma"),
        (lambda s, c, r, p, g, f, d: np.where(s == c, r, 0.0) + g * f * (not d), "-penalty"),
        (lambda s, c, r, p, g, f, d: np.where(s == c, -p, r) + g * f * (not d), "+reward"),
    ],
)
def test_usual_slips_get_their_own_hint(slip, hint):
    verdict = check("08a.online_targets", slip)
    assert verdict.status == "wrong" and hint in str(verdict)


def test_a_scalar_or_a_non_function_is_wrong():
    assert "one target per movie" in str(check("08a.online_targets", lambda *args: 1.0))
    assert check("08a.online_targets", np.zeros(4)).status == "wrong"
