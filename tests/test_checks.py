"""The one home of input checks: what each accepts, and the one message style it answers in."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from odsc_recsys import checks

NAN = float("nan")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: checks.alpha(0), "alpha (learning rate) must be in (0, 1], got 0"),
        (lambda: checks.alpha(1.5), "alpha (learning rate) must be in (0, 1], got 1.5"),
        (lambda: checks.gamma(-0.1), "gamma (discount factor) must be in [0, 1], got -0.1"),
        (lambda: checks.gamma(True), "gamma (discount factor) must be in [0, 1], got True"),
        (
            lambda: checks.epsilon(float("nan")),
            "epsilon (exploration rate) must be a probability in [0, 1], got nan",
        ),  # fmt: skip
        (lambda: checks.real("reward", "15"), "reward must be a finite number, got '15'"),
        (lambda: checks.real("reward", math.inf), "reward must be a finite number, got inf"),
        (lambda: checks.real("shrink", -1.0, 0.0), "shrink must be a finite number >= 0, got -1.0"),
        (
            lambda: checks.real("reg", 0.0, 0.0, low_open=True),
            "reg must be a finite number > 0, got 0.0",
        ),  # fmt: skip
        (lambda: checks.real("cap", 3, high=2), "cap must be a finite number <= 2, got 3"),
        (
            lambda: checks.real("x", 1, 0, 1, high_open=True),
            "x must be a finite number in [0, 1), got 1",
        ),  # fmt: skip
        (lambda: checks.integer("k", 2.0, 1), "k must be an integer >= 1, got 2.0"),
        (lambda: checks.integer("k", 21, 1, 20), "k must be an integer in [1, 20], got 21"),
        (lambda: checks.integer("k", 3, high=2), "k must be an integer <= 2, got 3"),
        (lambda: checks.count("k", -1), "k must be a non-negative integer, got -1"),
        (lambda: checks.positive_int("epochs", 0), "epochs must be a positive integer, got 0"),
        (
            lambda: checks.positive_int("n", "a", allow_none=True),
            "n must be a positive integer or None, got 'a'",
        ),  # fmt: skip
        (lambda: checks.fraction("holdout", 1.0), "holdout must be in (0, 1), got 1.0"),
        (lambda: checks.boolean("done", 1), "done must be True or False, got 1"),
        (
            lambda: checks.one_of("storage", "disk", ("dense", "lazy")),
            "storage must be one of 'dense', 'lazy', got 'disk'",
        ),  # fmt: skip
        (
            lambda: checks.one_of("storage", [], ("dense",)),
            "storage must be one of 'dense', got []",
        ),
    ],
)
def test_a_bad_value_is_named_with_what_is_allowed(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


def test_good_values_come_back_as_plain_python_types():
    assert checks.alpha(np.float32(0.5)) == 0.5 and type(checks.alpha(1)) is float
    assert checks.gamma(0) == 0.0 and checks.epsilon(1) == 1.0
    assert (
        checks.integer("k", np.int64(3), 1) == 3 and type(checks.integer("k", np.int64(3))) is int
    )
    assert checks.count("k", 0) == 0 and checks.positive_int("n", None, allow_none=True) is None
    assert checks.boolean("done", np.bool_(True)) is True
    assert checks.one_of("storage", "lazy", ("dense", "lazy")) == "lazy"
    assert checks.real("x", 0.0, 0.0, 1.0) == 0.0 and checks.fraction("f", 0.25) == 0.25


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_probability_accepts_exactly_the_unit_interval(x):
    inside = 0.0 <= x <= 1.0  # false for NaN
    if inside:
        assert checks.probability("p", x) == x
    else:
        with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\]"):
            checks.probability("p", x)


@given(st.integers(-5, 5), st.integers(-5, 5), st.integers(-5, 5))
def test_integer_bounds_are_inclusive(value, low, high):
    if low <= value <= high:
        assert checks.integer("n", value, low, high) == value
    else:
        with pytest.raises(
            ValueError, match=rf"n must be an integer in \[{low}, {high}\], got {value}"
        ):
            checks.integer("n", value, low, high)


# ---- the learning-rate, discount and exploration-rate checks
@pytest.mark.parametrize("alpha", [0.0, -0.5, 1.01, NAN, "0.5", None, True])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        checks.alpha(alpha)


@pytest.mark.parametrize("gamma", [-0.01, 1.01, NAN, float("inf")])
def test_bad_gamma(gamma):
    with pytest.raises(ValueError, match="gamma"):
        checks.gamma(gamma)


@pytest.mark.parametrize("epsilon", [-0.01, 1.01, NAN])
def test_bad_epsilon(epsilon):
    with pytest.raises(ValueError, match="epsilon"):
        checks.epsilon(epsilon)


def test_boundaries_are_allowed():
    assert checks.alpha(1) == 1.0 and checks.gamma(0) == 0.0 and checks.gamma(1.0) == 1.0
    assert checks.epsilon(0.0) == 0.0 and checks.epsilon(np.float32(1.0)) == 1.0


# ---- arrays, positions, strings and generators
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1.0, math.nan, 2.0], "q must be finite numbers, got nan at position 1"),
        ([[1.0, 2.0], [3.0, -math.inf]], "q must be finite numbers, got -inf at position (1, 1)"),
        (["1", "2"], "q must be finite numbers, got ['1', '2'] (dtype <U1)"),
        ([True, False], "q must be finite numbers, got [True, False] (dtype bool)"),
    ],
)
def test_finite_array_names_the_first_bad_element(values, message):
    with pytest.raises(ValueError) as info:
        checks.finite_array("q", values)
    assert str(info.value) == message


def test_finite_array_shapes():
    assert checks.finite_array("q", [1, 2]).dtype == np.float64
    assert checks.finite_array("q", np.ones((2, 3)), shape=(-1, 3)).shape == (2, 3)
    with pytest.raises(ValueError, match=r"q must have shape \(any, 4\), got shape \(2, 3\)"):
        checks.finite_array("q", np.ones((2, 3)), shape=(-1, 4))
    with pytest.raises(ValueError, match=r"q must be a 1-d array, got shape \(2, 3\)"):
        checks.finite_array("q", np.ones((2, 3)), ndim=1)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([0, 4, -1], "items must be integers in [0, 4], got -1 at position 2"),
        ([0, 5], "items must be integers in [0, 4], got 5 at position 1"),
        ([1.0, 2.5], "items must be integers in [0, 4], got 2.5 at position 1"),
        ([1.0, 2.0], "items must be integers in [0, 4], got 1.0 at position 0"),
        ([1, True], "items must be integers in [0, 4], got True at position 1"),
        (np.array([1, "a"], dtype=object), "items must be integers in [0, 4], got 'a' at position 1"),
        ([[1, 2]], "items must be a 1-d sequence of integers, got [[1, 2]]"),
        ([3, 1, 3], "items must not repeat an element, got 3 twice (position 2)"),
    ],
)  # fmt: skip
def test_indices_names_the_first_bad_element(values, message):
    with pytest.raises(ValueError) as info:
        checks.indices("items", values, 5, unique=True)
    assert str(info.value) == message


@given(st.lists(st.integers(-10, 10), max_size=8), st.integers(0, 6))
def test_indices_accepts_exactly_the_positions_in_range(values, n):
    if all(0 <= v < n for v in values):
        assert checks.indices("items", values, n).tolist() == values
    else:
        with pytest.raises(ValueError, match="items must be integers in"):
            checks.indices("items", values, n)


def test_index_text_nonempty_generator():
    assert checks.index("genre", 2, 3) == 2
    with pytest.raises(ValueError, match=r"genre must be an integer in \[0, 2\], got 3"):
        checks.index("genre", 3, 3)
    with pytest.raises(ValueError, match=r"item must be a position in \[0, n\), but n is 0"):
        checks.index("item", 0, 0)
    assert checks.text("title", "Fargo") == "Fargo"
    for bad in ("", "   ", 5, None):
        with pytest.raises(ValueError, match=f"title must be a non-empty string, got {bad!r}"):
            checks.text("title", bad)
    assert checks.nonempty("lists", [1]) == [1]
    with pytest.raises(ValueError, match=r"lists must not be empty, got \[\]"):
        checks.nonempty("lists", [])
    rng = np.random.default_rng(0)
    assert checks.generator("rng", rng) is rng and checks.generator("rng", None, allow_none=True) is None
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator .*, got 0"):
        checks.generator("rng", 0)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator .*, got None"):
        checks.generator("rng", None)
