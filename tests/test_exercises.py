"""The exercise framework, and the contract every notebook keeps with it.

Every numbered notebook hands out at least one exercise that asks for code; running a notebook
untouched prints "Not attempted yet" for each; the solutions notebook of each set passes every
check with the right answer and shows a wrong one failing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from odsc_recsys import exercises
from odsc_recsys.exercises import NOT_ATTEMPTED, Verdict, check, digest, first_slip

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
CHECK_CALL = re.compile(r"""check\(\s*["'](\d\d[a-z]?\.\w+)["']""")


def _code_cells(path: Path) -> list[tuple[str, str]]:
    """(source, output text) of every code cell."""
    cells = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        out = []
        for o in cell.get("outputs", []):
            out.append("".join(o.get("text", "")))
            out.append("".join(o.get("data", {}).get("text/plain", "")))
        cells.append(("".join(cell["source"]), "\n".join(out)))
    return cells


def _calls(path: Path) -> list[tuple[str, str]]:
    """(exercise id, that cell's output) for every check(...) call in a notebook."""
    return [(key, out) for src, out in _code_cells(path) for key in CHECK_CALL.findall(src)]


# --- the framework ---------------------------------------------------------------------------

def test_blanks_are_not_attempted_for_every_exercise():
    for key in exercises.exercises():
        for blank in (..., None):
            verdict = check(key, blank)
            assert verdict.status == "not attempted" and str(verdict) == NOT_ATTEMPTED, key


def test_an_unknown_exercise_names_itself_and_the_known_ones():
    with pytest.raises(KeyError, match=r"'10\.nope'.*10\.double_dqn_future"):
        check("10.nope", 1)


def test_a_verdict_prints_as_its_one_line():
    verdict = Verdict("wrong", "Not quite: look again")
    assert repr(verdict) == str(verdict) == "Not quite: look again"
    assert not verdict.passed and Verdict("correct", "Correct: yes").passed


def test_learner_code_that_raises_is_answered_not_raised():
    verdict = check("10.double_dqn_future", lambda *args: 1 / 0)
    assert verdict.status == "wrong" and "ZeroDivisionError" in str(verdict)


def test_digest_ignores_case_spacing_and_quotes_but_not_words():
    assert digest("  'Below '") == digest("below") == digest('"BELOW"')
    assert digest("below") != digest("above")


def test_an_exercise_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="registered twice"):
        exercises.exercise("10.double_dqn_future", "code", "again")(lambda answer: None)


# --- the notebooks keep the contract ---------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_hands_out_a_code_exercise_left_blank(path):
    number = path.name.split("_")[0]
    calls = _calls(path)
    assert calls, f"{path.name} has no check(...) exercise"
    registry = exercises.exercises()
    kinds = {registry[key].kind for key, _ in calls}
    assert "code" in kinds, f"{path.name}: no exercise asks for code"
    for key, out in calls:
        assert key.startswith(number + "."), f"{path.name} checks another notebook's {key}"
        assert "Not attempted yet" in out, f"{path.name}: {key} is not left blank"


def test_every_exercise_is_used_by_its_notebook_and_proved_by_its_solutions():
    registry = exercises.exercises()
    used = {key for path in NOTEBOOKS for key, _ in _calls(path)}
    assert used == set(registry), "registered but unused, or used but unregistered"
    for key in registry:
        path = ROOT / "notebooks" / "solutions" / f"{key.split('.')[0]}_solutions.ipynb"
        assert path.exists(), f"{key}: no solutions notebook {path.name}"
        outs = [out for k, out in _calls(path) if k == key]
        lines = [line.strip() for o in outs for line in o.splitlines()]
        assert any(x.startswith("Correct") for x in lines), f"{key}: no passing solution"
        assert any(x.startswith("Not quite") for x in lines), f"{key}: no failing answer"


def test_a_code_exercise_answered_with_a_value_asks_for_the_function():
    for key, entry in exercises.exercises().items():
        if entry.kind == "code":
            verdict = check(key, 0.5)
            assert str(verdict) == "Not quite: pass your function itself, got float", key


def test_as_number_turns_a_non_number_into_a_hint():
    assert exercises.as_number("0.25") == 0.25
    verdict = check("04.td_update", "twelve")
    assert str(verdict) == "Not quite: answer with one number, got 'twelve'"


def test_as_integer_truncates_a_number_and_turns_anything_else_into_a_hint():
    assert exercises.as_integer("12", "one row") == 12 and exercises.as_integer(12.7, "x") == 12
    for bad in ("twelve", None, float("inf"), [1, 2]):
        with pytest.raises(exercises.NotQuite, match=re.escape(f"one row, got {bad!r}")):
            exercises.as_integer(bad, "one row")
    assert str(check("06.pair_row", "row 3")) == (
        "Not quite: answer with one whole number, the row index, got 'row 3'"
    )


def test_as_vector_flattens_numbers_and_names_a_wrong_kind_or_size():
    got = exercises.as_vector([[0.5], [1]], 2, "numbers", "two of them")
    assert got.dtype == float and got.tolist() == [0.5, 1.0]
    with pytest.raises(exercises.NotQuite, match=r"^numbers, got \['a', 'b'\]$"):
        exercises.as_vector(["a", "b"], 2, "numbers", "two of them")
    with pytest.raises(exercises.NotQuite, match=r"^two of them, got 3$"):
        exercises.as_vector([1, 2, 3], 2, "numbers", "two of them")
    verdict = check("08a.online_targets", lambda slate, *rest: slate[:1])
    assert str(verdict).startswith("Not quite: return one target per movie of the slate (4), got 1")


def test_first_slip_names_the_first_matching_mistake():
    slips = {"halved": 1.0, "doubled": 4.0, "squared": 4.0}
    assert first_slip(4.00000001, slips, "none") == "doubled"  # the first of two matches
    assert first_slip(3.0, slips, "none") == "none"
    near = np.array([0.0, 1e-7])
    assert first_slip(near, {"zeros": np.zeros(2)}, "none") == "none"  # atol 1e-8
    assert first_slip(near, {"zeros": np.zeros(2)}, "none", atol=1e-6) == "zeros"


def test_answered_passes_an_answer_and_raises_not_attempted_for_a_blank():
    assert exercises.answered(0) == 0 and exercises.answered([]) == []
    for blank in (..., None):
        with pytest.raises(exercises.NotAttempted):
            exercises.answered(blank)
    # check() turns it into the notebook's "Not attempted yet" for every code exercise
    assert check("05.rank", lambda items: ...).status == "not attempted"
    assert check("09.actor_calls", lambda n, b, shards: None).status == "not attempted"
