"""The sharded tables' greedy policy behind the one recommender protocol.

:func:`odsc_recsys.metrics.evaluate` asks a model for all its lists at once
(``recommend_many``); :class:`DistributedPolicy` answers through
:meth:`DistributedQTables.recommend_batch`, one call per shard per :data:`REQUEST_CHUNK`
requests, so evaluating through the cluster costs a few calls, not one fan-out per request.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .. import checks
from ..protocol import as_history
from ..qtables import HISTORY_LENGTH, QTablePolicy

if TYPE_CHECKING:
    from .driver import DistributedQTables

__all__ = ["REQUEST_CHUNK", "DistributedPolicy"]

#: Requests served per fan-out: :meth:`DistributedQTables.recommend_batch` (and so
#: :meth:`DistributedPolicy.recommend_many`) asks each shard it needs once per this many
#: requests.
REQUEST_CHUNK = 4096


class DistributedPolicy(QTablePolicy):
    """The greedy policy of :class:`DistributedQTables` as a
    :class:`~odsc_recsys.protocol.Recommender`: ``score`` and ``recommend`` use the last 3
    movies of the history, as :class:`~odsc_recsys.qtables.QTablePolicy` does (whose
    ``fit`` and ``score`` it shares).

    :meth:`recommend_many`, what :func:`odsc_recsys.metrics.evaluate` calls, serves all the
    histories through :meth:`DistributedQTables.recommend_batch`: one call per shard per
    :data:`REQUEST_CHUNK` requests instead of one fan-out per request.
    """

    def __init__(self, tables: DistributedQTables, name: str = "distributed q-tables") -> None:
        from .driver import DistributedQTables  # the driver imports this module

        if not isinstance(tables, DistributedQTables):
            raise ValueError(f"tables must be a DistributedQTables, got {reprlib.repr(tables)}")
        # QTablePolicy needs of its tables only n_items and score(state), which the driver has
        super().__init__(tables, checks.text("name", name))  # type: ignore[arg-type]

    @property
    def driver(self) -> DistributedQTables:
        """The driver the lists come from (``tables``, typed as what it is)."""
        return self.tables  # type: ignore[return-value]

    def recommend(
        self, history: Iterable[int], k: int = 10, exclude: Iterable[int] | None = None
    ) -> np.ndarray:
        hist = self._history(history)
        return self.driver.recommend(hist[-HISTORY_LENGTH:], k, exclude)

    def _history(self, history: Iterable[int]) -> np.ndarray:
        if not isinstance(history, Iterable):
            raise ValueError(f"a history is a sequence of movie indices, got {history!r}")
        return as_history(history, self.n_items)

    def recommend_many(self, histories: Sequence[Iterable[int]], k: int = 10) -> np.ndarray:
        """Lists for many histories, each excluding its own movies, ``(n, k)`` padded with -1:
        row ``j`` equals ``recommend(histories[j], k, exclude=histories[j])``."""
        if not isinstance(histories, Iterable) or isinstance(histories, str | bytes):
            raise ValueError(f"histories must be a sequence of histories (movie index "
                             f"sequences), got {reprlib.repr(histories)}")  # fmt: skip
        hists = [self._history(h) for h in histories]
        states = [h[-HISTORY_LENGTH:] for h in hists]
        return self.driver.recommend_batch(states, k, excludes=hists)
