"""Hit rate per group of transitions: the table behind
:func:`~odsc_recsys.limits.accuracy_by_activity` (sparsity) and
:func:`~odsc_recsys.limits.accuracy_by_group` (grey sheep).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..metrics import hits
from ..sessions import Transitions

__all__ = ["accuracy_table"]


def accuracy_table(
    lists: Mapping[str, np.ndarray],
    transitions: Transitions,
    labels: np.ndarray | pd.Categorical,
    by: str,
) -> pd.DataFrame:
    """Hit rate per label of the transitions (one label each), one column per model.

    Rows in sorted label order (a categorical's own order, e.g. bins left to right), only the
    labels that occur, in an index named ``by``; columns ``users`` and ``transitions`` count
    what each row averages.
    """
    frame = pd.DataFrame({by: labels, "user": transitions.users})
    for name, recs in lists.items():
        frame[name] = hits(recs, transitions.targets)
    grouped = frame.groupby(by, observed=True, sort=True)
    out = grouped[list(lists)].mean()
    out.insert(0, "users", grouped["user"].nunique())
    out.insert(1, "transitions", grouped.size())
    return out
