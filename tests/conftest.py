"""Fixtures shared by several test modules."""

from __future__ import annotations

import pytest

from odsc_recsys.datasets import DataUnavailableError
from odsc_recsys.sessions import TutorialData, load_tutorial_data


@pytest.fixture(scope="module")
def tutorial_data() -> TutorialData:
    """The notebooks' data, ``load_tutorial_data()``; the test is skipped when MovieLens-100K
    is neither here nor downloadable."""
    try:
        return load_tutorial_data()
    except DataUnavailableError:  # pragma: no cover - only without data and network
        pytest.skip("MovieLens-100K is not available")
