"""The Q-table: a fresh one, and the checks of a table or one of its rows."""

from __future__ import annotations

from typing import Any

import numpy as np

from odsc_recsys import checks

__all__ = ["checked_q_row", "checked_q_table", "make_q_table"]


def make_q_table(n_states: int, n_actions: int, initial_value: float = 0.0) -> np.ndarray:
    """A dense ``(n_states, n_actions)`` float64 Q-table filled with ``initial_value``.

    Raises
    ------
    ValueError
        If a dimension is not a positive integer or ``initial_value`` is not finite.
    """
    shape = (checks.positive_int("n_states", n_states), checks.positive_int("n_actions", n_actions))
    return np.full(shape, checks.real("initial_value", initial_value), dtype=np.float64)


def checked_q_row(q_row: Any) -> np.ndarray:
    """``q_row`` as a float64 array, checked to be one non-empty row of finite Q-values."""
    row = checks.finite_array("q_row", q_row, ndim=1)
    if row.size == 0:
        raise ValueError(f"q_row must hold the value of at least one action, got {q_row!r}")
    return row


def checked_q_table(q_table: Any) -> np.ndarray:
    """``q_table`` itself, checked to be updatable in place: a writable 2-d float ``ndarray``
    with at least one state and one action (a list would be copied, so the caller's table
    would never change, and an integer table would truncate every update)."""
    if (not isinstance(q_table, np.ndarray) or q_table.ndim != 2 or min(q_table.shape) == 0
            or not np.issubdtype(q_table.dtype, np.floating) or not q_table.flags.writeable):  # fmt: skip
        raise ValueError("q_table must be a writable 2-d numpy array of floats (states x "
                         f"actions), got {checks.short_repr(q_table)}")  # fmt: skip
    return q_table
