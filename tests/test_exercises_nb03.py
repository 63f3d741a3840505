"""Notebook 03's checks: the start room's value, and one Bellman sweep written by the learner."""

from __future__ import annotations

import numpy as np

from odsc_recsys.exercises import check


def bellman_sweep(P, R, V, gamma):
    return (R + gamma * P @ V).max(axis=1)


def test_the_value_by_hand_passes():
    # A is 5 moves from the goal; the reward 1 comes with the 5th move: 0.5 ** 4.
    assert check("03.bellman_value", 0.0625).passed
    assert check("03.bellman_value", "0.0625").passed


def test_wrong_values_get_their_hints():
    assert "gamma = 0.9" in str(check("03.bellman_value", 0.9**4))
    assert "count the discounts" in str(check("03.bellman_value", 0.5**5))
    assert check("03.bellman_value", 0.2).status == "wrong"
    assert "one number" in str(check("03.bellman_value", [0.0625]))


def test_the_right_sweep_passes():
    assert check("03.bellman_sweep", bellman_sweep).passed


def test_the_sweep_reproduces_the_slide_after_six_sweeps():
    from odsc_recsys.gridworld import GridWorld, transition_model

    grid = GridWorld("slide")
    mdp = transition_model(grid)
    values = np.zeros(grid.n_states)
    for _ in range(6):
        values = bellman_sweep(mdp.P, mdp.R, values, 0.9)
    assert np.isclose(values[grid.start_state], 0.9**4)


def test_typical_slips_get_their_hints():
    q_only = check("03.bellman_sweep", lambda P, R, V, g: R + g * P @ V)
    assert q_only.status == "wrong" and "max over the actions" in str(q_only)
    undiscounted = check("03.bellman_sweep", lambda P, R, V, g: (R + P @ V).max(axis=1))
    assert "discount" in str(undiscounted)
    mean = check("03.bellman_sweep", lambda P, R, V, g: (R + g * P @ V).mean(axis=1))
    assert "not the mean" in str(mean)

    def deterministic(P, R, V, g):  # follows only the most likely room
        return (R + g * V[P.argmax(axis=2)]).max(axis=1)

    verdict = check("03.bellman_sweep", deterministic)
    assert verdict.status == "wrong" and "without slipping" in str(verdict)


def test_the_blank_body_is_not_attempted():
    def blank(P, R, V, gamma):
        return ...

    assert check("03.bellman_sweep", blank).status == "not attempted"
    assert check("03.bellman_sweep", 0.5).status == "wrong"
