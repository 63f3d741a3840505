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
    "finite_array",
    "first_bad",
    "first_non_finite",
    "float_dtype",
    "fraction",
    "gamma",
    "generator",
    "index",
    "indices",
    "integer",
    "nonempty",
    "one_of",
    "positive_int",
    "probability",
    "real",
    "short_repr",
    "text",
]


def _is_int(value: object) -> bool:
    if type(value) is int:  # the common case, without the slower ABC check
        return True
    return isinstance(value, Integral | np.integer) and not isinstance(value, bool | np.bool_)


def _is_real(value: object) -> bool:
    if type(value) is float or type(value) is int:
        return True
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


def text(name: str, value: Any) -> str:
    """Return ``value`` if it is a non-empty string (blank strings are refused)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def nonempty(name: str, values: Any) -> Any:
    """Return ``values`` if it has at least one element (``len(values) > 0``)."""
    try:
        size = len(values)
    except TypeError:
        raise ValueError(f"{name} must be a sequence, got {values!r}") from None
    if size == 0:
        raise ValueError(f"{name} must not be empty, got {values!r}")
    return values


def generator(name: str, value: Any, *, allow_none: bool = False) -> np.random.Generator | None:
    """Return ``value`` if it is a ``numpy.random.Generator`` (or ``None`` when allowed).

    A seed is not accepted in its place: the caller owns the random stream, so that two calls
    never replay the same draws by accident.
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, np.random.Generator):
        allowed = "a numpy.random.Generator" + (" or None" if allow_none else "")
        raise ValueError(f"{name} must be {allowed} (e.g. numpy.random.default_rng(0)), "
                         f"got {value!r}")  # fmt: skip
    return value


def first_bad(values: np.ndarray, bad: np.ndarray) -> str:
    """``"nan at position 3"`` (``"(2, 7)"`` in 2-d): the first element where ``bad`` is set,
    for an error message."""
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    at = where[0] if len(where) == 1 else where
    value = values[where]
    return f"{(value.item() if isinstance(value, np.generic) else value)!r} at position {at}"


def first_non_finite(values: np.ndarray) -> str | None:
    """``"nan at position (2, 7)"`` for the first NaN or infinity of ``values``, or None when
    every value is finite (integer arrays always are)."""
    if values.dtype.kind not in "fc" or not values.size:
        return None
    bad = ~np.isfinite(values)
    return first_bad(values, bad) if bad.any() else None


def finite_array(
    name: str, values: Any, *, ndim: int | None = None, shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """Return ``values`` as a float64 array if every element is a finite real number.

    Parameters
    ----------
    name : str
        What the values are, as the error message should call them.
    values : array_like
        Numbers; booleans, strings, objects, NaN and infinities are refused.
    ndim : int, optional
        The number of dimensions required.
    shape : tuple of int, optional
        The exact shape required (``-1`` matches any length on that axis).

    Raises
    ------
    ValueError
        Naming ``name`` and the first bad element or the wrong shape.
    """
    array = np.asarray(values)
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise ValueError(f"{name} must be finite numbers, got {short_repr(values)} "
                         f"(dtype {array.dtype})")  # fmt: skip
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array, got shape {array.shape}")
    if shape is not None and (
        array.ndim != len(shape) or any(s not in (-1, a) for s, a in zip(shape, array.shape, strict=True))
    ):
        wanted = "(" + ", ".join("any" if s == -1 else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {wanted}, got shape {array.shape}")
    array = array.astype(np.float64, copy=False)
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(f"{name} must be finite numbers, got {first_bad(array, bad)}")
    return array


def float_dtype(name: str, value: Any) -> np.dtype:
    """Return ``value`` as a numpy floating dtype (``float32``, ``"float64"``, ``np.float16``)."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind != "f":
        raise ValueError(f"{name} must be a floating type such as float32, got {value!r}")
    return dtype


def index(name: str, value: Any, n: int) -> int:
    """Return ``value`` as an int if it is a position in ``[0, n)``."""
    if n <= 0:
        raise ValueError(f"{name} must be a position in [0, n), but n is 0 (nothing to "
                         f"choose from), got {value!r}")  # fmt: skip
    return integer(name, value, 0, n - 1)


def indices(name: str, values: Any, n: int, *, unique: bool = False) -> np.ndarray:
    """Return ``values`` as a 1-d ``intp`` array if every element is a position in ``[0, n)``.

    Floats (even ``1.0``), booleans and negative numbers are refused: a negative index would
    silently wrap to the end of the array.

    Raises
    ------
    ValueError
        Naming ``name``, the allowed range and the first bad element (or the first repeat,
        when ``unique``).
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-d sequence of integers, got {short_repr(values)}")
    if array.size == 0:
        return np.zeros(0, dtype=np.intp)
    if not isinstance(values, np.ndarray) and np.issubdtype(array.dtype, np.integer):
        # numpy turns [1, True] into [1, 1]: a bool in a list is refused before that
        flags = np.array([isinstance(v, bool | np.bool_) for v in values])
        if flags.any():
            raise ValueError(f"{name} must be integers in [0, {n - 1}], got "
                             f"{first_bad(np.asarray(values, dtype=object), flags)}")  # fmt: skip
    if not np.issubdtype(array.dtype, np.integer):
        if array.dtype == object:  # Python ints beyond int64 are out of range, not an overflow
            bad = np.array([not _is_int(v) or not 0 <= v < n for v in array.tolist()])
        elif np.issubdtype(array.dtype, np.floating):  # name a fraction (3.5) before a 1.0
            fractional = ~np.isfinite(array) | (array != np.round(array))
            bad = fractional if fractional.any() else np.ones(array.size, dtype=bool)
        else:
            bad = np.ones(array.size, dtype=bool)
        if bad.any():
            raise ValueError(f"{name} must be integers in [0, {n - 1}], got "
                             f"{first_bad(array, bad)}")  # fmt: skip
        array = array.astype(np.int64)
    bad = (array < 0) | (array >= n)
    if bad.any():
        allowed = f"integers in [0, {n - 1}]" if n > 0 else "integers in an empty range"
        raise ValueError(f"{name} must be {allowed}, got {first_bad(array, bad)}")
    if unique:
        seen, first = np.unique(array, return_index=True)
        if len(seen) != len(array):
            repeat = np.setdiff1d(np.arange(len(array)), first)[0]
            raise ValueError(f"{name} must not repeat an element, got {array[repeat].item()!r} "
                             f"twice (position {int(repeat)})")  # fmt: skip
    return array.astype(np.intp, copy=False)


def short_repr(value: Any, limit: int = 60) -> str:
    """The bad value, quoted for an error message: its repr, cut to ``limit`` characters.

    An array shows its dtype too (``array([0, 1]) (dtype int64)``), or, when its repr is
    long, its shape and dtype; a pandas table shows its type and shape.
    """
    if type(value).__name__ in ("DataFrame", "Series") and hasattr(value, "shape"):
        return f"a {type(value).__name__} of shape {value.shape}"
    text = repr(value)
    if isinstance(value, np.ndarray):
        if len(text) <= limit:  # numpy names the dtype itself unless it is the default one
            return text if "dtype=" in text else f"{text} (dtype {value.dtype})"
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return text if len(text) <= limit else text[: limit - 3] + "..."
