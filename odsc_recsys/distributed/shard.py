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
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

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
        self.genres = tuple(int(g) for g in genres)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.alpha = float(alpha)
        self.checkpoint_dir = checkpoint_dir
        # Store tables are addressed by genre code; the tables of other shards have no rows.
        sizes = np.diff(self.offsets)
        n_rows = [int(sizes[g]) if g in self.genres else 0 for g in range(len(sizes))]
        self.store = make_store(storage, n_rows, int(n_items), dtype)
        self._base = np.concatenate(([0], np.cumsum(n_rows))).astype(np.int64)
        #: The last round whose updates this shard applied.
        self.applied_round = 0
        if restore_round > 0:
            self._restore(int(restore_round))

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
        """
        start = time.perf_counter()
        if apply_round is not None:
            self._apply_round(int(apply_round), updates)
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
        applied round."""
        for round_, updates in batches:
            self._apply_round(int(round_), updates)
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

    def table(self, genre: int) -> np.ndarray:
        """A dense copy of one owned table."""
        return self.store.table(int(genre))

    def written(self, genre: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows of one owned table that hold values, and their values."""
        rows = self.store.written_rows(int(genre)).astype(np.int64)
        return rows, self.store.read_rows(int(genre), rows)

    def describe(self) -> dict[str, Any]:
        """Owned genres, rows, memory, last applied round and the process id."""
        return {
            "genres": self.genres,
            "rows": int(sum(self.store.n_rows)),
            "nbytes": int(self.store.nbytes),
            "applied_round": self.applied_round,
            "pid": os.getpid(),
        }
