"""Notebook 07's check: the replay targets of one transition, the paper's and the code's."""

from __future__ import annotations

from odsc_recsys.exercises import check
from odsc_recsys.exercises.nb07 import _reference


def replay_targets(listed, clicked, future, gamma, bootstrap_ignored):
    updated = listed + ([clicked] if clicked not in listed else [])
    ignored = -5.0 + (gamma * future if bootstrap_ignored else 0.0)
    return {a: 15.0 + gamma * future if a == clicked else ignored for a in updated}


def test_the_reference_is_the_hand_computed_rule():
    # 15 + 0.4 * 10 = 19 for the watched movie; -5 + 4 = -1 (paper) or -5 (the talk's code)
    assert _reference([5, 7, 4], 9, 10.0, 0.4, True) == {5: -1.0, 7: -1.0, 4: -1.0, 9: 19.0}
    assert _reference([5, 7, 4], 9, 10.0, 0.4, False) == {5: -5.0, 7: -5.0, 4: -5.0, 9: 19.0}


def test_the_right_function_passes():
    assert check("07.replay_targets", replay_targets).passed


def test_untouched_body_is_not_attempted():
    assert check("07.replay_targets", lambda *args: ...).status == "not attempted"


def test_forgetting_to_append_the_watched_movie_fails():
    def no_append(listed, clicked, future, gamma, boot):
        return {a: v for a, v in replay_targets(listed, clicked, future, gamma, boot).items()
                if a in listed}  # fmt: skip

    verdict = check("07.replay_targets", no_append)
    assert verdict.status == "wrong" and "appended" in str(verdict)


def test_the_paper_rule_everywhere_misses_the_talks_code():
    def paper_only(listed, clicked, future, gamma, boot):
        return replay_targets(listed, clicked, future, gamma, True)

    verdict = check("07.replay_targets", paper_only)
    assert verdict.status == "wrong" and "next_max = old_value" in str(verdict)


def test_no_future_anywhere_fails_on_the_first_ignored_movie():
    def no_future(listed, clicked, future, gamma, boot):
        return replay_targets(listed, clicked, 0.0, gamma, boot)

    verdict = check("07.replay_targets", no_future)
    assert verdict.status == "wrong" and "every listed movie gets the future term" in str(verdict)


def test_a_watched_movie_without_its_future_gets_its_own_hint():
    def clicked_without_future(listed, clicked, future, gamma, boot):
        out = replay_targets(listed, clicked, future, gamma, boot)
        out[clicked] = 15.0
        return out

    verdict = check("07.replay_targets", clicked_without_future)
    assert verdict.status == "wrong" and "reward + gamma * future" in str(verdict)
    assert check("07.replay_targets", [1, 2]).status == "wrong"
    assert "return a dict" in str(check("07.replay_targets", lambda *a: [1]))
