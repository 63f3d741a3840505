"""The one top-k: best first, ties to the lower index, excluded movies never listed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys.protocol import top_k, top_k_many

VALUES = st.sampled_from([-np.inf, -1.0, 0.0, 0.5, 1.0, 2.0])


def test_top_k_by_hand():
    scores = np.array([1.0, 3.0, 3.0, 0.0, 2.0])
    assert top_k(scores, 3).tolist() == [1, 2, 4]  # the tie 1 / 2 goes to the lower index
    assert top_k(scores, 3, exclude=[2]).tolist() == [1, 4, 0]
    assert top_k(scores, 9, exclude=[0, 1, 2, 3]).tolist() == [4]  # fewer left than k
    assert top_k_many(scores[None, :], 3, [np.array([1, 4])]).tolist() == [[2, 0, 3]]
    assert top_k_many(scores[None, :], 3, [np.array([0, 1, 2, 3])]).tolist() == [[4, -1, -1]]
    with pytest.raises(ValueError, match="k must be a non-negative integer, got -1"):
        top_k(scores, -1)


@settings(max_examples=200, deadline=None)
@given(st.lists(VALUES, min_size=1, max_size=40), st.integers(0, 45))
def test_top_k_equals_a_stable_sort(values, k):
    scores = np.array(values)
    want = np.argsort(-scores, kind="stable")[: min(k, len(values))]
    assert top_k(scores, k).tolist() == want.tolist()


@settings(max_examples=200, deadline=None)
@given(st.data(), st.integers(1, 6), st.integers(1, 30), st.integers(0, 33))
def test_every_row_of_top_k_many_is_top_k_of_that_row(data, n, m, k):
    scores = np.array(data.draw(st.lists(st.lists(VALUES, min_size=m, max_size=m), min_size=n, max_size=n)))  # fmt: skip
    exclude = [np.array(data.draw(st.lists(st.integers(0, m - 1), unique=True)), dtype=np.int64)
               for _ in range(n)]  # fmt: skip
    rows = top_k_many(scores, k, exclude)
    assert rows.shape == (n, k)
    for j in range(n):
        want = top_k(scores[j], k, exclude[j]).tolist()
        assert rows[j, : len(want)].tolist() == want
        assert (rows[j, len(want) :] == -1).all()
