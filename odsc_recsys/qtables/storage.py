"""Where the Q-values live: dense arrays, rows allocated on first write, or only the written entries.

Every store answers the same questions, so the algorithms never look at the storage. Rows are
addressed as ``(t, r)``: row ``r`` of table ``t``.

* ``row(t, r)``: the Q-values of one row, one per column (read-only use);
* ``writable_row(t, r)``: an object supporting ``row[cols]`` and ``row[cols] = values``;
* ``read_rows(t, rows)`` / ``write_rows(t, rows, values)``: whole rows at once, as a 2-d array
  (the compiled kernels and the Dask shards move rows in blocks);
* ``table(t)``: a dense copy of one table; ``written_rows(t)``: the rows that hold memory;
* ``export(t)`` / ``restore(t, arrays)``: one table as named arrays, for saving and loading;
* ``nbytes``, ``n_allocated_rows``, ``n_stored_values``: memory accounting.

The Q-values, recommendations and training results are identical whichever store is chosen,
and unwritten Q-values read as 0:

* ``"dense"``: one full array per table, the paper's layout; all tables are consecutive blocks
  of one array (:meth:`DenseStore.flat`), so compiled code works on them without a copy;
* ``"lazy"``: a dict of rows per table; a row gets memory (all its columns) when first written;
* ``"sparse"``: a dict of rows per table, each row holding only the columns ever written, as
  one structured array of ``(col, val)`` entries sorted by column (6 bytes per float32 entry).
  Reads and writes are slower: a read materialises a dense row.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .. import checks

__all__ = ["STORAGES", "DenseStore", "LazyStore", "SparseRow", "SparseStore", "make_store"]

STORAGES = ("dense", "lazy", "sparse")


class DenseStore:
    """One full ``(n_rows, n_cols)`` array per table, as in the paper.

    The tables are consecutive blocks of one ``(total_rows, n_cols)`` array, so that the
    compiled paths can work on all of them at once without a copy (:meth:`flat`).
    """

    kind = "dense"

    def __init__(self, n_rows: Sequence[int], n_cols: int, dtype: np.dtype) -> None:
        self.n_rows, self.n_cols, self.dtype = list(n_rows), n_cols, np.dtype(dtype)
        self._flat = np.zeros((int(sum(n_rows)), n_cols), dtype=dtype)
        starts = np.concatenate(([0], np.cumsum(n_rows, dtype=np.int64)))
        self.tables = [self._flat[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)]

    def flat(self) -> np.ndarray | None:
        """All tables as one array (a view: writing it writes the tables), or None when a table
        no longer lives in it (replaced by :meth:`restore`, or after a deep copy)."""
        if all(t.base is self._flat for t in self.tables):
            return self._flat
        return None

    def row(self, t: int, r: int) -> np.ndarray:
        return self.tables[t][r]

    def writable_row(self, t: int, r: int) -> np.ndarray:
        return self.tables[t][r]

    def read_rows(self, t: int, rows: np.ndarray) -> np.ndarray:
        return self.tables[t][rows]

    def write_rows(self, t: int, rows: np.ndarray, values: np.ndarray) -> None:
        self.tables[t][rows] = values

    def table(self, t: int) -> np.ndarray:
        return self.tables[t].copy()

    def written_rows(self, t: int) -> np.ndarray:
        return np.flatnonzero(np.any(self.tables[t] != 0, axis=1))

    def export(self, t: int) -> dict[str, np.ndarray]:
        return {"table": self.tables[t]}

    def restore(self, t: int, arrays: dict[str, np.ndarray]) -> None:
        arr = arrays.get("table")
        if arr is None:
            raise ValueError(f"missing entry table_{t}")
        shape = (self.n_rows[t], self.n_cols)
        if arr.shape != shape or arr.dtype != self.dtype:
            raise ValueError(
                f"table_{t} has shape {arr.shape} and dtype {arr.dtype}, expected {shape} and "
                f"{self.dtype}"
            )
        self.tables[t] = arr

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.tables)

    @property
    def n_allocated_rows(self) -> int:
        return sum(len(a) for a in self.tables)

    @property
    def n_stored_values(self) -> int:
        return sum(a.size for a in self.tables)


class _RowDictStore:
    """Shared by the lazy and sparse stores: one dict ``row -> array`` per table, a row
    allocated on first write."""

    def __init__(self, n_rows: Sequence[int], n_cols: int, dtype: np.dtype) -> None:
        self.n_rows, self.n_cols, self.dtype = list(n_rows), n_cols, np.dtype(dtype)
        self.rows: list[dict[int, np.ndarray]] = [{} for _ in n_rows]

    def row(self, t: int, r: int) -> np.ndarray:  # pragma: no cover - per subclass
        raise NotImplementedError

    def flat(self) -> None:
        """Rows held one by one: never one array (see :meth:`DenseStore.flat`)."""
        return None

    def read_rows(self, t: int, rows: np.ndarray) -> np.ndarray:
        out = np.zeros((len(rows), self.n_cols), dtype=self.dtype)
        for i, r in enumerate(rows.tolist()):
            if r in self.rows[t]:
                out[i] = self.row(t, r)
        return out

    def written_rows(self, t: int) -> np.ndarray:
        return np.array(sorted(self.rows[t]), dtype=np.int64)

    @property
    def nbytes(self) -> int:
        # Measured with sys.getsizeof: array objects (header + data), int keys, dict tables.
        total = sys.getsizeof(self.rows)
        for table in self.rows:
            total += sys.getsizeof(table)
            total += sum(sys.getsizeof(r) + sys.getsizeof(a) for r, a in table.items())
        return total

    @property
    def n_allocated_rows(self) -> int:
        return sum(len(t) for t in self.rows)


class LazyStore(_RowDictStore):
    """A dict ``row -> array`` per table; a row is allocated when first written.

    Reads of a missing row return a shared read-only row of zeros and allocate nothing.
    """

    kind = "lazy"

    def __init__(self, n_rows: Sequence[int], n_cols: int, dtype: np.dtype) -> None:
        super().__init__(n_rows, n_cols, dtype)
        self._zeros = np.zeros(n_cols, dtype=dtype)
        self._zeros.flags.writeable = False

    def row(self, t: int, r: int) -> np.ndarray:
        return self.rows[t].get(r, self._zeros)

    def writable_row(self, t: int, r: int) -> np.ndarray:
        row = self.rows[t].get(r)
        if row is None:
            row = self.rows[t][r] = np.zeros(self.n_cols, dtype=self.dtype)
        return row

    def write_rows(self, t: int, rows: np.ndarray, values: np.ndarray) -> None:
        for i, r in enumerate(rows.tolist()):
            self.writable_row(t, r)[:] = values[i]  # an allocated row is overwritten in place

    def table(self, t: int) -> np.ndarray:
        out = np.zeros((self.n_rows[t], self.n_cols), dtype=self.dtype)
        for r, values in self.rows[t].items():
            out[r] = values
        return out

    def export(self, t: int) -> dict[str, np.ndarray]:
        rows = self.written_rows(t)
        values = (
            np.stack([self.rows[t][int(r)] for r in rows])
            if len(rows)
            else np.zeros((0, self.n_cols), dtype=self.dtype)
        )
        return {"rows": rows, "values": values}

    def restore(self, t: int, arrays: dict[str, np.ndarray]) -> None:
        rows, values = arrays.get("rows"), arrays.get("values")
        if rows is None or values is None:
            raise ValueError(f"missing entries rows_{t} / values_{t}")
        if (
            rows.ndim != 1
            or values.shape != (len(rows), self.n_cols)
            or values.dtype != self.dtype
            or (rows.size and (rows.min() < 0 or rows.max() >= self.n_rows[t]))
            or len(np.unique(rows)) != len(rows)
        ):
            raise ValueError(
                f"rows_{t} / values_{t} do not describe rows of a {self.n_rows[t]}-row table"
            )
        self.rows[t] = {int(r): values[i].copy() for i, r in enumerate(rows)}

    @property
    def n_stored_values(self) -> int:
        return self.n_allocated_rows * self.n_cols


class SparseStore(_RowDictStore):
    """A dict ``row -> entries`` per table, holding only the columns ever written.

    A row's entries are one numpy structured array with fields ``col`` (int16 when there are
    fewer than 32,768 columns, else int32) and ``val`` (the table dtype), sorted by ``col``:
    one array object per row, 6 bytes per float32 entry. A row is allocated when first
    written; a column is added to it when first written; unwritten entries read as 0.
    Reads materialise a fresh dense row (zeros, then the entries scattered in).
    """

    kind = "sparse"

    def __init__(self, n_rows: Sequence[int], n_cols: int, dtype: np.dtype) -> None:
        super().__init__(n_rows, n_cols, dtype)
        col_dtype = np.int16 if n_cols < 2**15 else np.int32
        self.entry = np.dtype([("col", col_dtype), ("val", dtype)])

    def row(self, t: int, r: int) -> np.ndarray:
        out = np.zeros(self.n_cols, dtype=self.dtype)
        entries = self.rows[t].get(r)
        if entries is not None:
            out[entries["col"]] = entries["val"]
        return out

    def writable_row(self, t: int, r: int) -> SparseRow:
        return SparseRow(self, t, r)

    def write(self, t: int, r: int, key: object, values: npt.ArrayLike) -> None:
        """``row[key] = values`` with numpy's indexing, broadcasting and casting rules."""
        dense = self.row(t, r)
        dense[key] = values  # numpy decides what is written (repeats: the last one wins)
        entries = self.rows[t].get(r)
        keep = np.zeros(self.n_cols, dtype=bool)  # the columns held after the write
        keep[key] = True
        if entries is not None:
            keep[entries["col"]] = True
        cols = keep.nonzero()[0]
        if entries is not None and len(cols) == len(entries):  # no new column: write in place
            entries["val"] = dense[cols]
            return
        self.rows[t][r] = self._entries(cols, dense[cols])

    def write_rows(self, t: int, rows: np.ndarray, values: np.ndarray) -> None:
        """Replace rows by dense ones, keeping their non-zero entries (an all-zero row stays
        allocated, with no entry)."""
        for i, r in enumerate(rows.tolist()):
            cols = np.flatnonzero(values[i])
            self.rows[t][r] = self._entries(cols, values[i, cols])

    def _entries(self, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
        new = np.empty(len(cols), dtype=self.entry)
        new["col"] = cols
        new["val"] = vals
        return new

    def table(self, t: int) -> np.ndarray:
        out = np.zeros((self.n_rows[t], self.n_cols), dtype=self.dtype)
        for r, entries in self.rows[t].items():
            out[r, entries["col"]] = entries["val"]
        return out

    def export(self, t: int) -> dict[str, np.ndarray]:
        """The written rows and their entries in CSR form: row ``i``'s columns and values are
        ``cols[indptr[i]:indptr[i + 1]]`` and the same slice of ``vals``."""
        rows = self.written_rows(t)
        entries = [self.rows[t][int(r)] for r in rows]
        sizes = [len(e) for e in entries]
        flat = np.concatenate(entries) if entries else np.zeros(0, dtype=self.entry)
        return {
            "rows": rows,
            "indptr": np.concatenate(([0], np.cumsum(sizes, dtype=np.int64))),
            "cols": flat["col"].copy(),
            "vals": flat["val"].copy(),
        }

    def restore(self, t: int, arrays: dict[str, np.ndarray]) -> None:
        names = ("rows", "indptr", "cols", "vals")
        if any(arrays.get(name) is None for name in names):
            raise ValueError(f"missing entries rows_{t} / indptr_{t} / cols_{t} / vals_{t}")
        rows, indptr, cols, vals = (arrays[name] for name in names)
        if not self._valid_csr(rows, indptr, cols, vals, self.n_rows[t]):
            raise ValueError(
                f"rows_{t} / indptr_{t} / cols_{t} / vals_{t} do not describe sparse rows of a "
                f"{self.n_rows[t]}-row, {self.n_cols}-column table"
            )
        for i, r in enumerate(rows.tolist()):
            a, b = int(indptr[i]), int(indptr[i + 1])
            self.rows[t][r] = self._entries(cols[a:b], vals[a:b])

    def _valid_csr(
        self, rows: np.ndarray, indptr: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_rows: int
    ) -> bool:
        valid = (
            rows.ndim == indptr.ndim == cols.ndim == vals.ndim == 1
            and all(np.issubdtype(a.dtype, np.integer) for a in (rows, indptr, cols))
            and vals.dtype == self.dtype
            and len(indptr) == len(rows) + 1
            and len(cols) == len(vals)
            and (not rows.size or (rows.min() >= 0 and rows.max() < n_rows))
            and len(np.unique(rows)) == len(rows)
            and indptr[0] == 0
            and indptr[-1] == len(cols)
            and bool(np.all(np.diff(indptr) >= 0))
            and (not cols.size or (cols.min() >= 0 and cols.max() < self.n_cols))
        )
        if not valid:
            return False
        steps = np.diff(cols)  # columns strictly increasing inside every row
        row_starts = indptr[1:-1][(indptr[1:-1] > 0) & (indptr[1:-1] < len(cols))]
        steps[row_starts - 1] = 1  # a row may start below where the previous one ended
        return bool(np.all(steps > 0))

    @property
    def n_stored_values(self) -> int:
        return sum(len(e) for table in self.rows for e in table.values())


class SparseRow:
    """Write access to one row of a :class:`SparseStore`, indexed like a numpy row:
    ``row[cols]`` reads (table dtype, 0 where unwritten), ``row[cols] = values`` writes
    (cast to the table dtype)."""

    __slots__ = ("r", "store", "t")

    def __init__(self, store: SparseStore, t: int, r: int) -> None:
        self.store, self.t, self.r = store, t, r

    def __getitem__(self, key: object) -> np.ndarray:
        return self.store.row(self.t, self.r)[key]

    def __setitem__(self, key: object, values: npt.ArrayLike) -> None:
        self.store.write(self.t, self.r, key, values)

    def __len__(self) -> int:
        return self.store.n_cols


Store = DenseStore | LazyStore | SparseStore
_KINDS: dict[str, type[DenseStore] | type[LazyStore] | type[SparseStore]] = {
    "dense": DenseStore,
    "lazy": LazyStore,
    "sparse": SparseStore,
}


def make_store(kind: str, n_rows: Sequence[int], n_cols: int, dtype: npt.DTypeLike) -> Store:
    """A store of ``kind`` (one of :data:`STORAGES`) for tables of ``n_rows`` rows each."""
    return _KINDS[checks.one_of("storage", kind, STORAGES)](n_rows, n_cols, np.dtype(dtype))
