"""Notebook 08's checks: the cascade click model and the talk's hyperparameters online."""

from __future__ import annotations

import numpy as np
import pytest

from odsc_recsys.exercises import check, digest, nb08


def click_probabilities(v, e):
    probs, nobody_yet = [], 1.0
    for v_p, e_p in zip(v, e, strict=True):
        probs.append(nobody_yet * e_p * v_p)
        nobody_yet *= 1.0 - e_p * v_p
    return probs


def test_the_cascade_by_hand():
    # v = (0.5, 0.5), e = (1, 0.5): the top is clicked half the time; the second needs the top
    # passed over (0.5), examined (0.5) and attractive (0.5): 0.125.
    np.testing.assert_allclose(click_probabilities([0.5, 0.5], [1.0, 0.5]), [0.5, 0.125])
    assert check("08.cascade_click", click_probabilities).passed


def test_untouched_body_is_not_attempted():
    assert check("08.cascade_click", lambda v, e: ...).status == "not attempted"


@pytest.mark.parametrize(
    ("slip", "hint"),
    [
        (lambda v, e: v * e, "nobody clicked above"),
        (lambda v, e: v * e * np.concatenate([[1.0], np.cumprod(1 - v)[:-1]]), "(1 - e_j * v_j)"),
        (lambda v, e: v * e * np.cumprod(1 - v * e), "j < p"),
        (lambda v, e: np.concatenate([[1.0], np.cumprod(1 - v * e)[:-1]]), "multiply it by"),
        (lambda v, e: v, "P(click at p) = e_p * v_p"),
    ],
)
def test_usual_slips_get_their_own_hint(slip, hint):
    verdict = check("08.cascade_click", slip)
    assert verdict.status == "wrong" and hint in str(verdict)


def test_wrong_shapes_and_non_functions_are_wrong():
    assert "one probability per position" in str(check("08.cascade_click", lambda v, e: v[:2]))
    assert check("08.cascade_click", [0.5, 0.2]).status == "wrong"
    assert check("08.cascade_click", lambda v, e: "many").status == "wrong"


def test_the_prediction_is_compared_through_its_digest():
    assert check("08.talk_hyperparameters", " Below ").passed
    above = check("08.talk_hyperparameters", "above")
    assert above.status == "wrong" and "alpha = 0.8" in str(above)
    assert "above" in str(check("08.talk_hyperparameters", "lower"))
    assert check("08.talk_hyperparameters", 0.5).status == "wrong"
    assert check("08.talk_hyperparameters", None).status == "not attempted"
    # only digests are stored, and they are the digests of the two words
    assert {nb08._BELOW, nb08._ABOVE} == {digest("below"), digest("above")}
    assert "below" not in nb08._BELOW
