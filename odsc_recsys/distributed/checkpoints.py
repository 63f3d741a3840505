"""Checkpoints of the shards, and the driver's write-ahead log of the rounds since the last one.

Every ``every`` rounds each shard writes its tables to a folder every worker can reach: one
``.npz`` per genre in ``round-<round>/`` (the rows that hold values and their values), each
written atomically. When every shard has saved a round, the driver records it in
``checkpoint.json`` (also atomically) and removes the older round folders. A checkpoint is
therefore complete or not there at all. The driver also keeps the update batches it sent since
that checkpoint (:class:`RoundLog`), so that a lost shard can be restored from the checkpoint
and brought forward by replaying them.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_savez, atomic_write_text
from .config import CheckpointConfig
from .messages import Updates

__all__ = [
    "MANIFEST",
    "MANIFEST_FORMAT",
    "Checkpoints",
    "RoundLog",
    "load_table",
    "round_dir",
    "save_table",
]

MANIFEST = "checkpoint.json"
MANIFEST_FORMAT = "odsc_recsys.qshards/1"


def round_dir(folder: str | Path, round_: int) -> Path:
    """The folder of the tables saved at ``round_``."""
    return Path(folder) / f"round-{round_:08d}"


def _table_path(folder: str | Path, round_: int, genre: int) -> Path:
    return round_dir(folder, round_) / f"genre-{genre:03d}.npz"


def save_table(
    folder: str | Path, round_: int, genre: int, rows: np.ndarray, values: np.ndarray
) -> None:
    """Save one table's written ``rows`` and their ``values`` at ``round_``, atomically."""
    round_dir(folder, round_).mkdir(parents=True, exist_ok=True)
    atomic_savez(_table_path(folder, round_, genre), rows=rows, values=values)


def load_table(
    folder: str | Path, round_: int, genre: int, n_rows: int, n_items: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """The rows and values :func:`save_table` wrote, checked against the table's shape.

    Raises
    ------
    RuntimeError
        If the file is missing, unreadable or does not fit the table.
    """
    path = _table_path(folder, round_, genre)
    try:
        with np.load(path, allow_pickle=False) as npz:
            rows, values = npz["rows"], npz["values"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise RuntimeError(f"cannot restore table {genre} from {path}: {exc}") from exc
    if (
        rows.ndim != 1
        or values.shape != (len(rows), n_items)
        or values.dtype != dtype
        or (rows.size and (rows.min() < 0 or rows.max() >= n_rows))
    ):
        raise RuntimeError(f"checkpoint {path} does not fit table {genre}")
    return rows, values


class Checkpoints:
    """The driver's side of checkpointing: the folder, the schedule and the manifest.

    Parameters
    ----------
    config : CheckpointConfig
        The schedule and folder. With ``every`` and no folder, a temporary folder is made
        (removed by :meth:`remove_temporary`).
    identity : dict
        What a checkpoint must match to be resumed (e.g. ``n_items``, ``genre_names``,
        ``dtype``); written into the manifest.
    """

    def __init__(self, config: CheckpointConfig, identity: dict[str, Any]) -> None:
        self.every = config.every
        self.identity = dict(identity)
        self.temporary: str | None = None
        folder = config.dir
        if folder is None and config.every is not None:
            self.temporary = folder = tempfile.mkdtemp(prefix="qtable-shards-")
        self.folder = None if folder is None else str(folder)
        #: The round of the last complete checkpoint (0: none, the initial zeros).
        self.round = 0
        if self.folder is None:
            return
        Path(self.folder).mkdir(parents=True, exist_ok=True)
        if (Path(self.folder) / MANIFEST).exists() and not config.resume:
            raise ValueError(
                f"checkpoint dir {self.folder!r} already holds a checkpoint: pass resume=True "
                "to continue from it, or an empty folder"
            )
        if config.resume:
            self.round = self._read_manifest()

    def due(self, round_: int, final: bool) -> bool:
        """Whether the shards save their tables when they apply ``round_``."""
        return (
            self.folder is not None
            and self.every is not None
            and (round_ % self.every == 0 or final)
        )

    def commit(self, round_: int) -> None:
        """Record a complete checkpoint (every shard saved ``round_``), then drop the older
        round folders."""
        assert self.folder is not None
        manifest = {"format": MANIFEST_FORMAT, "round": round_, **self.identity}
        atomic_write_text(Path(self.folder) / MANIFEST, json.dumps(manifest))
        self.round = round_
        keep = round_dir(self.folder, round_).name
        for old in Path(self.folder).glob("round-*"):
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)

    def remove_temporary(self) -> None:
        """Remove the folder this object made (a folder given by the caller stays)."""
        if self.temporary is not None:
            shutil.rmtree(self.temporary, ignore_errors=True)

    def _read_manifest(self) -> int:
        assert self.folder is not None
        path = Path(self.folder) / MANIFEST
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"cannot resume: no readable {MANIFEST} in the checkpoint dir"
            ) from exc
        for key, value in {"format": MANIFEST_FORMAT, **self.identity}.items():
            if manifest.get(key) != value:
                raise ValueError(
                    f"cannot resume: the checkpoint's {key} is {manifest.get(key)!r}, these "
                    f"tables have {value!r}"
                )
        return int(manifest["round"])


class RoundLog:
    """The rounds of the round protocol: started, committed, pending and logged.

    A round's updates are *pending* until they travel to the shards (with the next round's
    reads); once every shard has acknowledged them the round is *committed*. Every sent round
    stays in the log (a write-ahead log) until a checkpoint covers it, so that a shard rebuilt
    from the checkpoint can replay it.
    """

    def __init__(self, start: int = 0) -> None:
        self.started = start
        self.committed = start
        self.pending: dict[int, Updates] = {}
        self.pending_round: int | None = None
        self.entries: list[tuple[int, dict[int, Updates]]] = []

    def start(self) -> int:
        """Open the next round; returns its number."""
        self.started += 1
        return self.started

    def send(self, updates: dict[int, Updates]) -> None:
        """The updates of the round just started: pending, and logged."""
        self.pending, self.pending_round = updates, self.started
        self.entries.append((self.started, updates))

    def acknowledged(self) -> None:
        """Every shard applied the pending round."""
        if self.pending_round is not None:
            self.committed = self.pending_round
        self.pending, self.pending_round = {}, None

    def forget_until(self, round_: int) -> None:
        """Drop the logged rounds a checkpoint at ``round_`` covers."""
        self.entries = [entry for entry in self.entries if entry[0] > round_]

    def since(self, round_: int, shard: int) -> list[tuple[int, Updates | None]]:
        """One shard's logged rounds after ``round_``, to replay in order."""
        return [(r, updates.get(shard)) for r, updates in self.entries if r > round_]
