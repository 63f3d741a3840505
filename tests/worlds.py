"""Small simulated worlds shared by the tests of online agents (tabular and network)."""

from __future__ import annotations

import numpy as np

from odsc_recsys.simulator import UserModel


def planted_world() -> UserModel:
    """Eight movies. Users 1-2 open with movies 0, 1, 2 and love movie 6; users 3-4 open with
    3, 4, 5 and love movie 7. Every other movie is at logit -3 (attraction ~0.05)."""
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    y = np.zeros((8, 2))
    y[6], y[7] = [7.0, 0.0], [0.0, 7.0]
    genres = [("A",)] * 3 + [("B",)] * 3 + [("A",), ("B",)]
    return UserModel.toy(x, y, genres, intercept=-3.0,
                         histories=[[0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5]])  # fmt: skip
