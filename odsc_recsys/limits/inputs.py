"""Argument checks shared by the limit measurements (scalars go through
:mod:`odsc_recsys.checks`), and the :data:`History` type they check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .. import checks
from ..catalog import Catalog
from ..metrics import PAD
from ..sessions import Transitions

History = dict[int, np.ndarray]

__all__ = [
    "History",
    "check_catalog",
    "check_histories",
    "check_lists",
    "check_positions",
    "check_transitions",
    "check_users_known",
]


def check_histories(name: str, histories: Any, n_items: int | None = None) -> History:
    """``histories`` itself, checked to be a non-empty dict of user -> 1-d array of catalogue
    indices (integers in ``[0, n_items)`` when the catalogue size is known, else >= 0)."""
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError(f"{name} must be a non-empty dict of user id -> history, got "
                         f"{checks.short_repr(histories)}")  # fmt: skip
    for user, history in histories.items():
        if n_items is not None:
            checks.indices(f"{name}[{user!r}]", history, n_items)
            continue
        array = np.asarray(history)
        if array.ndim != 1 or (array.size and (
            array.dtype == bool or not np.issubdtype(array.dtype, np.integer) or array.min() < 0
        )):  # fmt: skip
            raise ValueError(f"{name}[{user!r}] must be a 1-d sequence of catalogue indices "
                             f"(non-negative integers), got {checks.short_repr(history)}")  # fmt: skip
    return histories


def check_transitions(transitions: Any) -> Transitions:
    """``transitions`` checked to be a non-empty :class:`~odsc_recsys.sessions.Transitions`."""
    if not isinstance(transitions, Transitions) or not len(transitions):
        raise ValueError(
            f"transitions must be non-empty Transitions, got {checks.short_repr(transitions)}"
        )
    return transitions


def check_users_known(transitions: Transitions, histories: History, name: str) -> None:
    """Every user of the transitions has a history in ``histories``."""
    missing = np.setdiff1d(transitions.users, np.fromiter(histories, dtype=np.int64))
    if missing.size:
        raise ValueError(f"{name} must hold every user of the transitions, got none for user "
                         f"{int(missing[0])}")  # fmt: skip


def check_lists(lists: Any, n_rows: int | None = None, n_items: int | None = None) -> None:
    """``lists`` checked to be a non-empty dict of model -> ``(n, k)`` integer lists, ``k >= 1``,
    of catalogue indices or ``PAD`` (``n_rows`` rows and indices below ``n_items`` if given)."""
    if not isinstance(lists, Mapping) or not lists:
        raise ValueError(f"lists must be a non-empty dict of model name -> (n, k) lists, got "
                         f"{checks.short_repr(lists)}")  # fmt: skip
    for name, recs in lists.items():
        array = np.asarray(recs)
        if array.ndim != 2 or array.shape[1] == 0 or array.dtype == bool \
                or not np.issubdtype(array.dtype, np.integer):  # fmt: skip
            raise ValueError(f"lists[{name!r}] must be a 2-d integer array with at least one "
                             f"column (one list per row), got {checks.short_repr(recs)}")  # fmt: skip
        if n_rows is not None and array.shape[0] != n_rows:
            raise ValueError(f"lists[{name!r}] must hold one list per transition ({n_rows}), "
                             f"got {array.shape[0]}")  # fmt: skip
        top = n_items if n_items is not None else np.iinfo(np.int64).max
        bad = (array < PAD) | (array >= top)
        if bad.any():
            allowed = f"in [0, {n_items - 1}]" if n_items is not None else ">= 0"
            raise ValueError(f"lists[{name!r}] must hold catalogue indices {allowed} or the pad "
                             f"{PAD}, got {array[bad][0].item()!r}")  # fmt: skip


def check_positions(name: str, values: Any) -> list[int]:
    """A non-empty sequence of distinct non-negative integers."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValueError(f"{name} must be a sequence of non-negative integers, got {values!r}")
    out = [checks.count(name, v) for v in values]
    checks.nonempty(name, out)
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must not repeat a value, got {out}")
    return out


def check_catalog(catalog: Any) -> Catalog:
    if not isinstance(catalog, Catalog):
        raise ValueError(f"catalog must be a Catalog, got {checks.short_repr(catalog)}")
    return catalog
