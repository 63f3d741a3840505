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
import os
import reprlib
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import checks
from ..atomic import atomic_savez, atomic_write_text
from .config import CheckpointConfig
from .messages import Updates

__all__ = [
    "MANIFEST",
    "MANIFEST_FORMAT",
    "CheckpointError",
    "Checkpoints",
    "RoundLog",
    "load_table",
    "round_dir",
    "save_table",
]

MANIFEST = "checkpoint.json"
MANIFEST_FORMAT = "odsc_recsys.qshards/1"


class CheckpointError(ValueError, RuntimeError):
    """A checkpoint table that is missing, unreadable, foreign or does not fit its table.

    A ``ValueError``, the package's answer to a bad value, and a ``RuntimeError``, what a
    failed restore of a shard has always raised, so that either ``except`` catches it.
    """


def round_dir(folder: str | Path, round_: int) -> Path:
    """The folder of the tables saved at ``round_``."""
    return Path(folder) / f"round-{checks.count('round_', round_):08d}"


def _table_path(folder: str | Path, round_: int, genre: int) -> Path:
    return round_dir(folder, round_) / f"genre-{checks.count('genre', genre):03d}.npz"


def _rows(name: str, rows: Any, n_rows: int | None = None) -> np.ndarray:
    """Distinct row numbers as int64, in ``[0, n_rows)`` (without ``n_rows``: any
    non-negative integers)."""
    array = np.asarray(rows)
    if n_rows is None:
        if (
            array.ndim != 1
            or (array.size and array.dtype.kind not in "iu")
            or (array.size and array.min() < 0)
        ):
            raise ValueError(f"{name} must be distinct non-negative integers, got "
                             f"{reprlib.repr(rows)}")  # fmt: skip
        n_rows = int(array.max()) + 1 if array.size else 0
    return checks.indices(name, array, n_rows, unique=True).astype(np.int64)


def _finite(name: str, values: np.ndarray) -> None:
    """Refuse non-finite values (NaN or infinite Q-values poison every later update)."""
    if not np.isfinite(values).all():
        checks.finite_array(name, values)  # raises, naming the first bad value


def save_table(
    folder: str | Path, round_: int, genre: int, rows: npt.ArrayLike, values: npt.ArrayLike
) -> None:
    """Save one table's written ``rows`` and their ``values`` at ``round_``, atomically.

    ``rows`` are distinct row numbers; ``values`` one row of finite floats per row number.
    Everything is checked before the folder or the file is made.
    """
    path = _table_path(folder, round_, genre)
    rows = _rows("rows", rows)
    values = np.asarray(values)
    if values.dtype.kind != "f" or values.ndim != 2 or len(values) != len(rows):
        raise ValueError(f"values must be a 2-d float array with one row per row number "
                         f"({len(rows)}), got {values.dtype} of shape {values.shape}")  # fmt: skip
    _finite("values", values)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_savez(path, rows=rows, values=values)


def load_table(
    folder: str | Path, round_: int, genre: int, n_rows: int, n_items: int, dtype: npt.DTypeLike
) -> tuple[np.ndarray, np.ndarray]:
    """The rows and values :func:`save_table` wrote, checked against the table's shape.

    Raises
    ------
    CheckpointError
        (a ``ValueError`` and a ``RuntimeError``) if the file is missing, unreadable, foreign
        or does not fit the table: rows outside ``[0, n_rows)`` or repeated, values of another
        shape or dtype, or values that are not finite.
    """
    path = _table_path(folder, round_, genre)
    n_rows = checks.count("n_rows", n_rows)
    n_items = checks.positive_int("n_items", n_items)  # type: ignore[assignment]
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be a numpy dtype, got {dtype!r}") from None
    try:
        with np.load(path, allow_pickle=False) as npz:
            rows, values = npz["rows"], npz["values"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise CheckpointError(f"cannot restore table {genre} from {path}: {exc}") from exc
    except (AttributeError, TypeError) as exc:  # a .npy file: np.load gave one array
        raise CheckpointError(f"cannot restore table {genre} from {path}: not an .npz "
                              f"archive of rows and values") from exc  # fmt: skip
    try:
        rows = _rows("its rows", rows, n_rows)
        if values.shape != (len(rows), n_items) or values.dtype != dtype:
            raise ValueError(f"its values must be {dtype} of shape ({len(rows)}, {n_items}), "
                             f"got {values.dtype} of shape {values.shape}")  # fmt: skip
        _finite("its values", values)
    except ValueError as exc:
        raise CheckpointError(f"checkpoint {path} does not fit table {genre}: {exc}") from None
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
        if not isinstance(config, CheckpointConfig):
            raise ValueError(f"config must be a CheckpointConfig, got {config!r}")
        if not isinstance(identity, dict):
            raise ValueError(f"identity must be a dict, got {identity!r}")
        self.every = config.every
        self.identity = dict(identity)
        self.temporary: str | None = None
        #: A folder this object made (removed by :meth:`discard` if nothing was saved in it).
        self.created: str | None = None
        folder = config.dir
        self.folder = None if folder is None else str(folder)
        #: The round of the last complete checkpoint (0: none, the initial zeros).
        self.round = 0
        if self.folder is not None:
            # Everything that can refuse the folder is read before anything is made.
            path = Path(self.folder)
            if path.exists() and not path.is_dir():
                raise ValueError(f"checkpoint dir {self.folder!r} is a file, not a folder")
            if (path / MANIFEST).exists() and not config.resume:
                raise ValueError(
                    f"checkpoint dir {self.folder!r} already holds a checkpoint: pass "
                    "resume=True to continue from it, or an empty folder"
                )
            if config.resume:
                self.round = self._read_manifest()
            if not path.exists():
                self.created = self.folder
            path.mkdir(parents=True, exist_ok=True)
        elif config.every is not None:
            self.temporary = self.folder = tempfile.mkdtemp(prefix="qtable-shards-")

    def due(self, round_: int, final: bool) -> bool:
        """Whether the shards save their tables when they apply ``round_``."""
        round_ = checks.positive_int("round_", round_)  # type: ignore[assignment]
        final = checks.boolean("final", final)
        return (
            self.folder is not None
            and self.every is not None
            and (round_ % self.every == 0 or final)
        )

    def commit(self, round_: int) -> None:
        """Record a complete checkpoint (every shard saved ``round_``), then drop the older
        round folders."""
        round_ = checks.positive_int("round_", round_)  # type: ignore[assignment]
        if self.folder is None:
            raise ValueError("nothing to commit: these checkpoints have no folder (give "
                             "CheckpointConfig a dir or every)")  # fmt: skip
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

    def discard(self) -> None:
        """Undo the folders of a construction that failed later (e.g. the driver could not
        reach its cluster): the temporary folder, and the named folder if this object made it
        and nothing was saved in it since."""
        self.remove_temporary()
        if self.created is not None and not any(Path(self.created).iterdir()):
            os.rmdir(self.created)

    def _read_manifest(self) -> int:
        assert self.folder is not None
        path = Path(self.folder) / MANIFEST
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"cannot resume: no readable {MANIFEST} in the checkpoint dir {self.folder!r}"
            ) from exc
        if not isinstance(manifest, dict):
            raise ValueError(f"cannot resume: {path} is not a checkpoint manifest, got "
                             f"{manifest!r}")  # fmt: skip
        for key, value in {"format": MANIFEST_FORMAT, **self.identity}.items():
            if manifest.get(key) != value:
                raise ValueError(
                    f"cannot resume: the checkpoint's {key} is {manifest.get(key)!r}, these "
                    f"tables have {value!r}"
                )
        try:
            round_ = checks.count("round", manifest.get("round"))
        except ValueError as exc:
            raise ValueError(f"cannot resume: the checkpoint's {exc}") from None
        if round_ > 0 and not round_dir(self.folder, round_).is_dir():
            raise ValueError(f"cannot resume: the checkpoint's round {round_} has no tables "
                             f"folder {round_dir(self.folder, round_)}")  # fmt: skip
        return round_


class RoundLog:
    """The rounds of the round protocol: started, committed, pending and logged.

    A round's updates are *pending* until they travel to the shards (with the next round's
    reads); once every shard has acknowledged them the round is *committed*. Every sent round
    stays in the log (a write-ahead log) until a checkpoint covers it, so that a shard rebuilt
    from the checkpoint can replay it.
    """

    def __init__(self, start: int = 0) -> None:
        start = checks.count("start", start)
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
        round_ = checks.count("round_", round_)
        self.entries = [entry for entry in self.entries if entry[0] > round_]

    def since(self, round_: int, shard: int) -> list[tuple[int, Updates | None]]:
        """One shard's logged rounds after ``round_``, to replay in order."""
        round_, shard = checks.count("round_", round_), checks.count("shard", shard)
        return [(r, updates.get(shard)) for r, updates in self.entries if r > round_]
