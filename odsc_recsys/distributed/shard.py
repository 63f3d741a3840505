"""The shard: a Dask actor that owns some genre tables, reads their rows and applies updates.

The tables live in one of the core's stores (:func:`~odsc_recsys.qtables.storage.make_store`,
dense or lazy) and every write is the core's TD step
(:func:`~odsc_recsys.qtables.update.td_step`): float64 arithmetic, cast to the table dtype on
assignment, as :class:`~odsc_recsys.qtables.GenreQTables` computes it. Within a round the
updates are applied in transition order. Shards are idempotent per round: a round already
applied (a retried call) is not applied again.
"""

from __future__ import annotations

import os
import reprlib
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import checks
from ..qtables.storage import make_store
from ..qtables.update import td_step, td_write
from . import checkpoints
from .messages import Reads, Updates

__all__ = ["QTableShard", "update_waves"]


def update_waves(ids: np.ndarray) -> np.ndarray:
    """For each update of a round, how many earlier updates of the round hit the same row.

    Wave ``w`` holds every row's ``w``-th update: a wave's rows are distinct, so its cells can
    be written by one fancy-indexed assignment, and waves in order keep each row's order.
    """
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    run_start = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    run_of = np.repeat(run_start, np.diff(np.r_[run_start, len(ids)]))
    wave = np.empty(len(ids), dtype=np.int64)
    wave[order] = np.arange(len(ids)) - run_of
    return wave


class QTableShard:
    """The genre tables one worker owns. Created as a Dask actor by
    :class:`~odsc_recsys.distributed.DistributedQTables` (it also works as a plain object,
    which is how ``ClusterConfig(in_process=True)`` runs).

    Parameters
    ----------
    genres : sequence of int
        The genre codes (tables) this shard owns.
    offsets : array of int, shape (n_tables + 1,)
        Global row id of each table's first row (:attr:`GenreLayout.offsets`).
    n_items : int
        Columns: every catalogue movie.
    alpha : float
        Learning rate of the updates.
    dtype, storage
        As for :class:`~odsc_recsys.qtables.GenreQTables` (``"dense"`` or ``"lazy"``).
    checkpoint_dir : str, optional
        Folder for checkpoints, reachable from this worker.
    restore_round : int
        If positive, load the tables saved at that round in ``checkpoint_dir``.

    Every argument, and every message of the round protocol (:meth:`step`, :meth:`replay`),
    is checked before anything is applied: a bad one raises a ``ValueError`` and leaves the
    tables as they were.
    """

    def __init__(
        self,
        genres: Sequence[int],
        offsets: npt.ArrayLike,
        n_items: int,
        alpha: float,
        dtype: str = "float32",
        storage: str = "dense",
        checkpoint_dir: str | None = None,
        restore_round: int = 0,
    ) -> None:
        self.offsets = _offsets(offsets)
        sizes = np.diff(self.offsets)
        owned = checks.indices("genres", checks.nonempty("genres", genres), len(sizes),
                               unique=True)  # fmt: skip
        self.genres = tuple(owned.tolist())
        self._owns = np.zeros(len(sizes), dtype=bool)  # per table: whether this shard owns it
        self._owns[owned] = True
        n_items = checks.positive_int("n_items", n_items)
        self.alpha = checks.alpha(alpha)
        dtype = checks.float_dtype("dtype", dtype)
        self.checkpoint_dir = _folder("checkpoint_dir", checkpoint_dir)
        restore_round = checks.count("restore_round", restore_round)
        if restore_round > 0 and self.checkpoint_dir is None:
            raise ValueError(f"restore_round={restore_round} needs the checkpoint_dir to "
                             "restore from, got checkpoint_dir=None")  # fmt: skip
        # Store tables are addressed by genre code; the tables of other shards have no rows.
        n_rows = [int(sizes[g]) if g in self.genres else 0 for g in range(len(sizes))]
        self.store = make_store(storage, n_rows, n_items, dtype)
        self._base = np.concatenate(([0], np.cumsum(n_rows))).astype(np.int64)
        #: The last round whose updates this shard applied.
        self.applied_round = 0
        if restore_round > 0:
            self._restore(restore_round)

    # ---- checks of the messages --------------------------------------------------------------
    # One call per shard per round: each check is a few vectorised passes, and a refused value
    # is described by the package's checks (which name it).

    def _check_owned(self, name: str, ids: np.ndarray) -> None:
        """Refuse global row ids (already in range) of tables this shard does not own."""
        genres = np.searchsorted(self.offsets, ids, side="right") - 1
        owned = self._owns[genres]
        if not owned.all():
            j = int(np.flatnonzero(~owned)[0])
            raise ValueError(
                f"{name} must be rows of the tables this shard owns {self.genres}, got row id "
                f"{int(ids[j])} at position {j}: table {int(genres[j])} is not on this shard"
            )

    def _check_updates(self, updates: Any) -> Updates:
        """``updates`` as an :class:`Updates` of int64 and float64 arrays, checked: owned rows,
        known movies, finite targets, offsets that split the actions into one list per
        transition, and no movie twice in one list (a wave writes each cell once)."""
        missing = [f for f in Updates._fields if not hasattr(updates, f)]
        if missing:
            raise ValueError(f"updates must be an Updates message with {Updates._fields}, got "
                             f"{reprlib.repr(updates)}")  # fmt: skip
        ids = _positions("updates.ids", updates.ids, int(self.offsets[-1]))
        self._check_owned("updates.ids", ids)
        actions = _positions("updates.actions", updates.actions, self.store.n_cols)
        targets = np.asarray(updates.targets)
        if targets.dtype != np.float64 or targets.ndim != 1 or not np.isfinite(targets).all():
            targets = checks.finite_array("updates.targets", targets, ndim=1)
        if len(targets) != len(actions):
            raise ValueError(f"updates.targets must hold one target per action "
                             f"({len(actions)}), got {len(targets)}")  # fmt: skip
        offsets = _positions("updates.offsets", updates.offsets, len(actions) + 1)
        steps = np.diff(offsets)
        if len(offsets) == 0 or offsets[0] != 0 or offsets[-1] != len(actions) or (steps < 0).any():
            raise ValueError(
                f"updates.offsets must rise from 0 to the number of actions ({len(actions)}), "
                f"got {reprlib.repr(offsets.tolist())}"
            )
        entry_tx = _positions("updates.entry_tx", updates.entry_tx, len(offsets) - 1)
        if len(entry_tx) != len(ids):
            raise ValueError(f"updates.entry_tx must hold one transition per row id "
                             f"({len(ids)}), got {len(entry_tx)}")  # fmt: skip
        cells = np.sort(np.repeat(np.arange(len(steps)), steps) * self.store.n_cols + actions)
        if (cells[1:] == cells[:-1]).any():
            raise ValueError(f"updates.actions must not list a movie twice for one transition, "
                             f"got {reprlib.repr(actions.tolist())}")  # fmt: skip
        return Updates(ids, entry_tx, offsets, actions, targets)

    def _check_reads(self, reads: Any) -> Reads:
        """``reads`` as a :class:`Reads` of int64 arrays, checked: owned rows only; ``future``
        of shape ``(n, 2)`` whose second column may be -1 (no second next sub-state)."""
        if not (hasattr(reads, "ids") and hasattr(reads, "future")):
            raise ValueError(f"reads must be a Reads message with ('ids', 'future'), got "
                             f"{reprlib.repr(reads)}")  # fmt: skip
        total = int(self.offsets[-1])
        ids = _positions("reads.ids", reads.ids, total)
        self._check_owned("reads.ids", ids)
        future = np.asarray(reads.future)
        if future.ndim != 2 or future.shape[1] != 2:
            raise ValueError(f"reads.future must have shape (n, 2), got shape {future.shape}")
        first = _positions("reads.future[:, 0]", future[:, 0], total)
        self._check_owned("reads.future[:, 0]", first)
        second = future[:, 1]
        second = _positions("reads.future[:, 1] (or -1)", second[second != -1], total)
        self._check_owned("reads.future[:, 1]", second)
        return Reads(ids, future.astype(np.int64, copy=False))

    def _check_round(self, round_: Any, after: int) -> int:
        """A round number that can follow ``after`` (an already applied one is allowed: it
        is skipped)."""
        round_ = checks.positive_int("apply_round", round_)
        if round_ > after + 1:
            at = f"round {self.applied_round}"
            if after != self.applied_round:
                at += f" (round {after} with the batches before it)"
            raise RuntimeError(
                f"shard {self.genres} at {at} received round {round_}: "
                "the rounds in between must be replayed first"
            )
        return round_  # type: ignore[return-value]

    def _locate(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(genre, local row) of global row ids; refuses rows of tables it does not own."""
        genres = np.searchsorted(self.offsets, ids, side="right") - 1
        owned = np.isin(genres, self.genres)
        if ids.size and not owned.all():
            bad = int(genres[~owned][0])
            raise ValueError(f"table {bad} is not on this shard (it owns {self.genres})")
        return genres, ids - self.offsets[genres]

    # ---- the round protocol ---------------------------------------------------------------

    def step(
        self,
        apply_round: int | None,
        updates: Updates | None,
        reads: Reads | None,
        checkpoint: bool = False,
    ) -> dict[str, Any]:
        """One call of the round protocol: apply round ``apply_round``'s updates (skipped if
        that round was already applied), checkpoint if asked, then read.

        Returns a dict with ``rows`` (the requested rows), ``future`` (float64 maxima),
        ``applied_round`` and ``seconds`` (time spent here, for the benchmark).
        Every argument is checked before anything is applied.
        """
        start = time.perf_counter()
        checkpoint = checks.boolean("checkpoint", checkpoint)
        if apply_round is None and updates is not None:
            raise ValueError("updates need the round they belong to, got apply_round=None")
        if checkpoint and self.checkpoint_dir is None:
            raise ValueError("checkpoint=True needs a shard with a checkpoint_dir, got "
                             "checkpoint_dir=None")  # fmt: skip
        if apply_round is not None:
            apply_round = self._check_round(apply_round, self.applied_round)
            updates = None if updates is None else self._check_updates(updates)
        reads = None if reads is None else self._check_reads(reads)
        if apply_round is not None:
            self._apply_round(apply_round, updates)
        if checkpoint:
            self._save()
        out: dict[str, Any] = {"applied_round": self.applied_round}
        if reads is not None:
            out["rows"] = self._read_rows(reads.ids)
            out["future"] = self._read_future(reads.future)
        out["seconds"] = time.perf_counter() - start
        return out

    def replay(self, batches: Sequence[tuple[int, Updates | None]]) -> int:
        """Apply logged rounds in order (those already applied are skipped); returns the last
        applied round. Every batch is checked before the first is applied."""
        if not isinstance(batches, Iterable) or isinstance(batches, str | bytes):
            raise ValueError(f"batches must be a sequence of (round, updates) pairs, got "
                             f"{reprlib.repr(batches)}")  # fmt: skip
        checked: list[tuple[int, Updates | None]] = []
        last = self.applied_round
        for item in batches:
            if not isinstance(item, tuple | list) or len(item) != 2:
                raise ValueError(f"batches must be (round, updates) pairs, got "
                                 f"{reprlib.repr(item)}")  # fmt: skip
            round_ = self._check_round(item[0], last)
            updates = None if item[1] is None else self._check_updates(item[1])
            checked.append((round_, updates))
            last = max(last, round_)
        for round_, updates in checked:
            self._apply_round(round_, updates)
        return self.applied_round

    def _apply_round(self, round_: int, updates: Updates | None) -> None:
        if round_ <= self.applied_round:  # a retried call: already applied, keep idempotent
            return
        if round_ != self.applied_round + 1:
            raise RuntimeError(
                f"shard {self.genres} at round {self.applied_round} received round {round_}: "
                "the rounds in between must be replayed first"
            )
        if updates is not None and len(updates.ids):
            if self.store.flat() is not None:
                self._apply_in_waves(updates)
            else:
                self._apply_in_order(updates)
        self.applied_round = round_

    def _apply_in_order(self, updates: Updates) -> None:
        """The updates one entry at a time, in order (the reference semantics)."""
        genres, rows = self._locate(updates.ids)
        offsets = updates.offsets.tolist()
        entries = zip(genres.tolist(), rows.tolist(), updates.entry_tx.tolist(), strict=True)
        for g, r, t in entries:
            span = slice(offsets[t], offsets[t + 1])
            td_write(self.store, g, r, updates.actions[span], updates.targets[span], self.alpha)

    def _apply_in_waves(self, updates: Updates) -> None:
        """The same updates on the dense tables, vectorised in :func:`update_waves`: a wave's
        rows are distinct (and a list never repeats a movie), so its (row, movie) cells are
        distinct and one fancy-indexed update does them all."""
        table = self.store.flat()  # type: ignore[union-attr]
        assert table is not None
        genres, rows = self._locate(updates.ids)
        flat_rows = self._base[genres] + rows
        # One cell per (entry, listed movie): its row, the movie's position in the message.
        lengths = np.diff(updates.offsets)[updates.entry_tx]
        first = np.r_[0, np.cumsum(lengths)[:-1]]
        cells = np.repeat(updates.offsets[updates.entry_tx] - first, lengths) + np.arange(
            int(lengths.sum())
        )
        cell_rows = np.repeat(flat_rows, lengths)
        cell_wave = np.repeat(update_waves(updates.ids), lengths)
        by_wave = np.argsort(cell_wave, kind="stable")
        bounds = np.searchsorted(cell_wave[by_wave], np.arange(cell_wave.max() + 2))
        actions, targets = updates.actions[cells], updates.targets[cells]
        for w in range(len(bounds) - 1):
            sel = by_wave[bounds[w] : bounds[w + 1]]
            r, a = cell_rows[sel], actions[sel]
            table[r, a] = td_step(table[r, a], targets[sel], self.alpha)  # type: ignore[arg-type]

    def _by_table(self, ids: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """(genre, positions in ``ids``, local rows) for each owned table ``ids`` touch."""
        genres, rows = self._locate(ids)
        out = []
        for g in np.unique(genres).tolist():
            sel = np.flatnonzero(genres == g)
            out.append((g, sel, rows[sel]))
        return out

    def _read_rows(self, ids: np.ndarray) -> np.ndarray:
        out = np.empty((len(ids), self.store.n_cols), dtype=self.store.dtype)
        for g, sel, rows in self._by_table(ids):
            out[sel] = self.store.read_rows(g, rows)
        return out

    def _row_max(self, ids: np.ndarray) -> np.ndarray:
        out = np.empty(len(ids), dtype=self.store.dtype)
        for g, sel, rows in self._by_table(ids):
            out[sel] = self.store.read_rows(g, rows).max(axis=1)
        return out

    def _read_future(self, future: np.ndarray) -> np.ndarray:
        """max over each transition's one or two next sub-state rows, as float64."""
        best = self._row_max(future[:, 0]).astype(np.float64)
        second = future[:, 1] >= 0
        if second.any():
            best[second] = np.maximum(best[second], self._row_max(future[second, 1]))
        return best

    # ---- checkpoints ----------------------------------------------------------------------

    def _save(self) -> None:
        if self.checkpoint_dir is None:
            raise RuntimeError("this shard has no checkpoint_dir")
        for g in self.genres:
            rows, values = self.written(g)
            checkpoints.save_table(self.checkpoint_dir, self.applied_round, g, rows, values)

    def _restore(self, round_: int) -> None:
        if self.checkpoint_dir is None:
            raise RuntimeError("cannot restore a shard without checkpoint_dir")
        store = self.store
        for g in self.genres:
            rows, values = checkpoints.load_table(
                self.checkpoint_dir, round_, g, store.n_rows[g], store.n_cols, store.dtype
            )
            store.write_rows(g, rows, values)
        self.applied_round = round_

    # ---- inspection -----------------------------------------------------------------------

    def _owned_genre(self, genre: Any) -> int:
        try:
            code: int | None = checks.integer("genre", genre)
        except ValueError:
            code = None
        if code is None or code not in self.genres:
            raise ValueError(f"genre must be one of the tables this shard owns {self.genres}, "
                             f"got {genre!r}")  # fmt: skip
        return code

    def table(self, genre: int) -> np.ndarray:
        """A dense copy of one owned table."""
        return self.store.table(self._owned_genre(genre))

    def written(self, genre: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows of one owned table that hold values, and their values."""
        genre = self._owned_genre(genre)
        rows = self.store.written_rows(genre).astype(np.int64)
        return rows, self.store.read_rows(genre, rows)

    def describe(self) -> dict[str, Any]:
        """Owned genres, rows, memory, last applied round and the process id."""
        return {
            "genres": self.genres,
            "rows": int(sum(self.store.n_rows)),
            "nbytes": int(self.store.nbytes),
            "applied_round": self.applied_round,
            "pid": os.getpid(),
        }


def _positions(name: str, values: Any, n: int) -> np.ndarray:
    """``values`` as a 1-d int64 array if every element is in ``[0, n)``: a quick pass for the
    messages of every round; anything else goes to :func:`checks.indices` for its message."""
    array = np.asarray(values)
    if (
        array.ndim != 1
        or array.dtype.kind not in "iu"
        or (array.size and (array.min() < 0 or array.max() >= n))
    ):
        return checks.indices(name, array, n).astype(np.int64)  # raises, unless it was empty
    return array.astype(np.int64, copy=False)


def _offsets(offsets: npt.ArrayLike) -> np.ndarray:
    """``offsets`` as int64 if they are a layout's table offsets: 1-d integers from 0, never
    decreasing (an empty table repeats its offset)."""
    array = np.asarray(offsets)
    if (
        array.ndim != 1
        or len(array) < 2
        or not np.issubdtype(array.dtype, np.integer)
        or array[0] != 0
        or (np.diff(array) < 0).any()
    ):
        raise ValueError(
            "offsets must be a 1-d integer array that starts at 0 and never decreases "
            f"(GenreLayout.offsets), got {reprlib.repr(offsets)}"
        )
    return array.astype(np.int64)


def _folder(name: str, folder: Any) -> str | None:
    """A folder path as a string (or None); bytes and blank paths are refused."""
    if folder is None:
        return None
    path = os.fspath(folder) if isinstance(folder, str | os.PathLike) else None
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"{name} must be a folder path or None, got {folder!r}")
    return path
