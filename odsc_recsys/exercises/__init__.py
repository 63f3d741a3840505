"""The "Try it" checks of the notebooks: ``check("04.td_update", answer)`` answers in one line.

Each notebook's exercises live in a module ``nbNN`` of this package and register themselves
with :func:`exercise`. A check judges the learner's answer against the package's own
implementation, or against a digest of the expected text, so no answer is stored here in
plain text. It answers one of three ways:

* ``Not attempted yet``: the blank (``...`` or ``None``) is still there;
* ``Not quite: <hint>``: an answer that is wrong, with a hint that does not give it away;
* ``Correct: <why>``.

Examples
--------
>>> from odsc_recsys.exercises import check
>>> check("03.bellman_value", ...)
Not attempted yet: replace the ... with your answer and run the cell again.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Status = Literal["correct", "wrong", "not attempted"]
Kind = Literal["value", "code"]

NOT_ATTEMPTED = "Not attempted yet: replace the ... with your answer and run the cell again."


@dataclass(frozen=True)
class Verdict:
    """The one-line answer of a check; it prints as its message."""

    status: Status
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:  # a notebook cell ending in check(...) shows the line itself
        return self.message


def correct(why: str) -> Verdict:
    """A passing verdict; ``why`` says what the learner got right."""
    return Verdict("correct", f"Correct: {why}")


def wrong(hint: str) -> Verdict:
    """A failing verdict with a hint that points the way without giving the answer."""
    return Verdict("wrong", f"Not quite: {hint}")


def not_attempted() -> Verdict:
    return Verdict("not attempted", NOT_ATTEMPTED)


class NotQuite(Exception):
    """Raised inside a judge to answer ``Not quite: <hint>`` at once."""


class NotAttempted(Exception):
    """Raised by a judge when the learner's function still returns the blank (``...`` or
    ``None``); :func:`check` answers "Not attempted yet"."""


def answered(value: Any) -> Any:
    """``value``, or :class:`NotAttempted` when it is a blank (``...`` or ``None``)."""
    if is_blank(value):
        raise NotAttempted
    return value


def as_number(value: Any, hint: str = "return one number") -> float:
    """``value`` as a float, or :class:`NotQuite` with ``"<hint>, got <value>"``."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise NotQuite(f"{hint}, got {value!r}") from None


def as_integer(value: Any, hint: str) -> int:
    """``int(value)`` (which truncates a float), or :class:`NotQuite` with
    ``"<hint>, got <value>"`` when ``value`` is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise NotQuite(f"{hint}, got {value!r}") from None


def as_vector(value: Any, size: int, numbers_hint: str, size_hint: str) -> np.ndarray:
    """``value`` flattened to ``size`` floats, or :class:`NotQuite`.

    The hint is ``"<numbers_hint>, got <value>"`` when ``value`` is not an array of numbers,
    and ``"<size_hint>, got <its size>"`` when it holds another number of them.
    """
    try:
        array = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise NotQuite(f"{numbers_hint}, got {value!r}") from None
    if array.shape != (size,):
        raise NotQuite(f"{size_hint}, got {array.size}")
    return array


def first_slip(got: Any, slips: Mapping[str, Any], otherwise: str, atol: float = 1e-8) -> str:
    """The hint of the first known mistake whose result ``got`` matches, else ``otherwise``.

    ``slips`` maps each hint to what that mistake returns; a match is ``np.allclose`` with
    this ``atol`` (and numpy's default relative tolerance).
    """
    matches = (hint for hint, slip in slips.items() if np.allclose(got, slip, atol=atol))
    return next(matches, otherwise)


def is_blank(answer: Any) -> bool:
    """True for the blanks a notebook hands out: ``...`` and ``None``."""
    return answer is Ellipsis or answer is None


def digest(text: str) -> str:
    """SHA-256 of a normalised text answer: case, spaces and quotes do not matter."""
    norm = " ".join(str(text).strip().strip("\"'").lower().split())
    return hashlib.sha256(norm.encode()).hexdigest()


@dataclass(frozen=True)
class Exercise:
    """One registered exercise: its id, whether it asks for code or a value, and its judge."""

    key: str
    kind: Kind
    prompt: str
    judge: Callable[[Any], Verdict]


_REGISTRY: dict[str, Exercise] = {}


def exercise(key: str, kind: Kind, prompt: str) -> Callable[[Callable[[Any], Verdict]], Callable]:
    """Register ``judge`` as the check of exercise ``key`` (``"NN.name"``).

    The judge receives the learner's answer, never a blank (``check`` answers those) and, for
    a ``"code"`` exercise, always a callable (``check`` answers anything else). It returns a
    :class:`Verdict`, or raises :class:`NotQuite` with a hint. An exception inside the
    learner's code becomes a ``wrong`` verdict, so a check never raises at an attendee.
    """
    if kind not in ("value", "code"):
        raise ValueError(f"kind must be 'value' or 'code', got {kind!r}")

    def register(judge: Callable[[Any], Verdict]) -> Callable[[Any], Verdict]:
        if key in _REGISTRY:
            raise ValueError(f"exercise {key!r} is registered twice")
        _REGISTRY[key] = Exercise(key, kind, prompt, judge)
        return judge

    return register


def _load(notebook: str) -> None:
    try:
        importlib.import_module(f"{__name__}.nb{notebook}")
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.nb{notebook}":
            raise


def exercises() -> dict[str, Exercise]:
    """Every exercise of every notebook, by id (this imports all the ``nbNN`` modules)."""
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("nb"):
            _load(info.name[2:])
    return dict(sorted(_REGISTRY.items()))


def check(key: str, answer: Any) -> Verdict:
    """Judge ``answer`` to exercise ``key`` and return a one-line :class:`Verdict`.

    Parameters
    ----------
    key : str
        The exercise id printed in the notebook, ``"NN.name"``.
    answer : object
        The learner's value or function; ``...`` or ``None`` means not attempted yet.

    Raises
    ------
    KeyError
        If ``key`` names no exercise; the message lists the notebook's exercises.
    """
    notebook = str(key).split(".", 1)[0]
    if key not in _REGISTRY:
        _load(notebook)
    if key not in _REGISTRY:
        known = sorted(k for k in _REGISTRY if k.startswith(notebook + ".")) or sorted(exercises())
        raise KeyError(f"no exercise {key!r}; known exercises: {', '.join(known)}")
    if is_blank(answer):
        return not_attempted()
    entry = _REGISTRY[key]
    if entry.kind == "code" and not callable(answer):
        return wrong(f"pass your function itself, got {type(answer).__name__}")
    try:
        return entry.judge(answer)
    except NotAttempted:
        return not_attempted()
    except NotQuite as hint:
        return wrong(str(hint))
    except Exception as err:  # the learner's code may raise anything; answer, never crash
        return wrong(f"your code raised {type(err).__name__}: {err}")
