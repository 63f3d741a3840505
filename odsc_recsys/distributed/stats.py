"""What training through the shards cost: rounds, calls, bytes, rows and time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import checks
from .messages import payload_bytes

__all__ = ["TrainStats"]


def _total(per_shard: str, doc: str) -> Any:
    """A read-only attribute: the sum of the per-shard counts named ``per_shard``."""
    return property(lambda self: sum(getattr(self, per_shard)), doc=doc)


@dataclass
class TrainStats:
    """What the last :meth:`DistributedQTables.train` call cost.

    Counts and bytes are deterministic; the ``*_seconds`` fields are timings. Bytes count the
    array data of the messages (Dask's framing and headers come on top). The work is counted
    per shard; the totals (:attr:`calls`, :attr:`bytes_sent`, ...) are their sums.
    """

    #: Rounds run and transitions replayed (over all epochs).
    rounds: int = 0
    transitions: int = 0
    #: Shards rebuilt after their worker was lost, and the logged rounds replayed to do it.
    recoveries: int = 0
    replayed_rounds: int = 0
    #: Per shard: calls, rows read, row updates, bytes sent to it and back, busy seconds.
    shard_calls: list[int] = field(default_factory=list)
    shard_rows_read: list[int] = field(default_factory=list)
    shard_updates: list[int] = field(default_factory=list)
    shard_sent: list[int] = field(default_factory=list)
    shard_received: list[int] = field(default_factory=list)
    shard_seconds: list[float] = field(default_factory=list)
    #: Seconds of the whole ``train`` call, and of the driver's own work in it.
    seconds: float = 0.0
    driver_seconds: float = 0.0

    @classmethod
    def for_shards(cls, n_shards: int) -> TrainStats:
        """Zero counts for ``n_shards`` shards."""
        zeros = [0] * checks.count("n_shards", n_shards)
        return cls(shard_calls=list(zeros), shard_rows_read=list(zeros),
                   shard_updates=list(zeros), shard_sent=list(zeros),
                   shard_received=list(zeros), shard_seconds=[0.0] * n_shards)  # fmt: skip

    calls = _total("shard_calls", "Actor calls, to all shards.")
    bytes_sent = _total("shard_sent", "Bytes of array data sent to the shards (updates, requests).")
    bytes_received = _total("shard_received", "Bytes of array data back (rows, future values).")
    rows_read = _total("shard_rows_read", "Rows the shards returned.")
    updates = _total("shard_updates", "Row updates the shards applied.")

    @property
    def shard_bytes(self) -> list[int]:
        """Bytes moved to and from each shard."""
        return [a + b for a, b in zip(self.shard_sent, self.shard_received, strict=True)]

    @property
    def transitions_per_second(self) -> float:
        return self.transitions / self.seconds if self.seconds > 0 else float("nan")

    def record_call(self, s: int, args: tuple[Any, ...], result: Any) -> None:
        """Count one call to shard ``s``: its bytes each way and the time it spent there."""
        self.shard_calls[s] += 1
        self.shard_sent[s] += payload_bytes(args)
        self.shard_received[s] += payload_bytes(result)
        if isinstance(result, dict):
            self.shard_seconds[s] += float(result.get("seconds", 0.0))

    def record_reads(self, rows_per_shard: dict[int, int]) -> None:
        """Count the rows a round read from each shard."""
        for s, n in rows_per_shard.items():
            self.shard_rows_read[s] += n

    def record_updates(self, updates_per_shard: dict[int, int]) -> None:
        """Count the row updates a round sent to each shard."""
        for s, n in updates_per_shard.items():
            self.shard_updates[s] += n

    def per_round(self) -> dict[str, float]:
        """Calls, bytes, rows read and updates per round (deterministic)."""
        n = max(self.rounds, 1)
        return {
            "rounds": self.rounds,
            "calls/round": self.calls / n,
            "kB sent/round": self.bytes_sent / n / 1e3,
            "kB received/round": self.bytes_received / n / 1e3,
            "rows read/round": self.rows_read / n,
            "row updates/round": self.updates / n,
        }

    def per_shard(self) -> pd.DataFrame:
        """How the work split across shards: rows read, row updates, bytes, busy seconds."""
        return pd.DataFrame(
            {
                "rows read": self.shard_rows_read,
                "row updates": self.shard_updates,
                "MB moved": np.array(self.shard_bytes) / 1e6,
                "busy seconds": self.shard_seconds,
            },
            index=pd.Index(range(len(self.shard_updates)), name="shard"),
        )
