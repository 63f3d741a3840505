"""The messages of the round protocol between the driver and the shards.

Rows are addressed by *global id*: table ``g``'s row ``r`` is ``offsets[g] + r``
(:class:`~odsc_recsys.qtables.GenreLayout`), so one integer array addresses rows of any table.
Messages hold numpy arrays only, so that their size is the bytes that travel.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Reads", "Updates", "payload_bytes"]


class Reads(NamedTuple):
    """What a shard must read for one round.

    ``ids`` are the sorted unique global row ids of the round's current sub-states it owns (it
    returns those rows); ``future`` is ``(n, 2)``: per transition whose next sub-states it
    owns, their one or two global ids (``-1`` pads); it returns the max over those rows.
    """

    ids: np.ndarray
    future: np.ndarray


class Updates(NamedTuple):
    """A shard's updates for one round, applied in order.

    Entry ``i`` updates row ``ids[i]`` with transition ``entry_tx[i]``'s actions and targets:
    ``actions[offsets[t]:offsets[t + 1]]`` and ``targets[offsets[t]:offsets[t + 1]]``.
    """

    ids: np.ndarray
    entry_tx: np.ndarray
    offsets: np.ndarray
    actions: np.ndarray
    targets: np.ndarray


def payload_bytes(obj: object) -> int:
    """Bytes of array data in a message (numbers and framing not counted)."""
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, tuple | list):
        return sum(payload_bytes(x) for x in obj)
    if isinstance(obj, dict):
        return sum(payload_bytes(x) for x in obj.values())
    return 0
