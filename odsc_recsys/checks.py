"""Input checks: the one home for validating numbers, names and choices.

Every public entry point of the package checks its arguments here, so that a bad value gets
the same kind of answer everywhere: a ``ValueError`` that names the argument, says what is
allowed and repeats the value it got::

    alpha (learning rate) must be in (0, 1], got 1.5

Each check returns the value converted to a plain Python type, so a caller can write
``self.alpha = checks.alpha(alpha)``.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = [
    "alpha",
    "boolean",
    "count",
    "epsilon",
    "fraction",
    "gamma",
    "integer",
    "one_of",
    "positive_int",
    "probability",
    "real",
]


def _is_int(value: object) -> bool:
    return isinstance(value, Integral | np.integer) and not isinstance(value, bool | np.bool_)


def _is_real(value: object) -> bool:
    return isinstance(value, Real | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    return f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def real(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a finite real number in the interval.

    Parameters
    ----------
    name : str
        What the value is, as the error message should call it.
    value : Any
        The value to check. Booleans, strings and NaN are rejected.
    low, high : float
        The interval's ends; infinite ends leave that side unbounded.
    low_open, high_open : bool
        Whether the interval excludes that end.

    Raises
    ------
    ValueError
        Naming ``name``, the allowed interval and ``value``.
    """
    allowed = "a finite number"
    if math.isfinite(low) and math.isfinite(high):
        allowed += " in " + _interval(low, high, low_open, high_open)
    elif math.isfinite(low):
        allowed += f" {'>' if low_open else '>='} {low:g}"
    elif math.isfinite(high):
        allowed += f" {'<' if high_open else '<='} {high:g}"
    if not _is_real(value):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    x = float(value)
    above = x > low if low_open else x >= low
    below = x < high if high_open else x <= high
    if not (math.isfinite(x) and above and below):  # comparisons with NaN are all false
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return x


def integer(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in ``[low, high]`` (``None``: unbounded).

    Raises
    ------
    ValueError
        If ``value`` is not an integer (a bool or a float such as ``3.0`` is not) or lies
        outside the bounds.
    """
    if low is not None and high is not None:
        allowed = f"an integer in [{low}, {high}]"
    elif low is not None:
        allowed = f"an integer >= {low}"
    elif high is not None:
        allowed = f"an integer <= {high}"
    else:
        allowed = "an integer"
    if (
        not _is_int(value)
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def count(name: str, value: Any) -> int:
    """Return ``value`` as an int if it is a non-negative integer."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def positive_int(name: str, value: Any, *, allow_none: bool = False) -> int | None:
    """Return ``value`` as an int if it is an integer >= 1 (or ``None`` when allowed)."""
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < 1:
        allowed = "a positive integer or None" if allow_none else "a positive integer"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def probability(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a probability in ``[0, 1]``."""
    if not _is_real(value) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def fraction(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a share strictly between 0 and 1."""
    if not _is_real(value) or not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return float(value)


def alpha(value: Any) -> float:
    """Return the learning rate ``alpha`` if it lies in ``(0, 1]``.

    ``alpha = 0`` would never learn; ``alpha > 1`` overshoots the target.
    """
    if not _is_real(value) or not 0.0 < float(value) <= 1.0:
        raise ValueError(f"alpha (learning rate) must be in (0, 1], got {value!r}")
    return float(value)


def gamma(value: Any) -> float:
    """Return the discount factor ``gamma`` if it lies in ``[0, 1]``."""
    if not _is_real(value) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"gamma (discount factor) must be in [0, 1], got {value!r}")
    return float(value)


def epsilon(value: Any) -> float:
    """Return the exploration rate ``epsilon`` if it is a probability in ``[0, 1]``."""
    return probability("epsilon (exploration rate)", value)


def boolean(name: str, value: Any) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (``1`` and ``"yes"`` are not)."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def one_of(name: str, value: Any, allowed: Collection[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``."""
    try:
        ok = value in allowed
    except TypeError:  # an unhashable value cannot be in a set
        ok = False
    if not ok:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value
