"""Saving and loading Q-tables: one ``.npz`` file, written atomically, read with checks.

A file holds a header (format tag, kind, storage, dtype, hyperparameters, prior and the
layout's metadata) and each table's arrays as its store exports them, with the table's number
appended (``table_3``, ``rows_3``, ...). Files are written through
:func:`odsc_recsys.atomic.atomic_savez` (a temporary file, then a rename), the writer that the
Dask shards' checkpoints use too. A corrupt, truncated or foreign file raises a ``ValueError``
that names the file and the problem.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import checks
from ..atomic import atomic_savez
from .storage import Store

__all__ = ["FORMAT", "load_error", "non_finite", "read_tables", "restore_store", "save_tables"]

#: The format tag of a saved file.
FORMAT = "odsc_recsys.qtables/1"


def load_error(path: Path, problem: str) -> ValueError:
    """The error for a file that cannot be loaded: it names the file and the problem."""
    return ValueError(f"cannot load Q-tables from {path.name!r}: {problem}")


def save_tables(
    path: str | os.PathLike, header: dict[str, np.ndarray], store: Store, n_tables: int
) -> Path:
    """Write ``header`` and every table of ``store`` to one ``.npz`` file, atomically."""
    arrays = {"format": np.array(FORMAT), **header}
    for g in range(n_tables):
        for name, values in store.export(g).items():
            arrays[f"{name}_{g}"] = values
    bad = non_finite(arrays)
    if bad:  # such a file could not be loaded again: refuse it before anything is written
        raise ValueError(f"cannot save Q-tables to {Path(path).name!r}: {bad}")
    return atomic_savez(Path(path), **arrays)


def non_finite(arrays: dict[str, np.ndarray]) -> str | None:
    """``"table_3 holds nan at position (2, 7)"`` for the first array with a NaN or an
    infinity, or None when every floating-point value is finite."""
    for key, values in arrays.items():
        found = checks.first_non_finite(values)
        if found is not None:
            return f"{key} holds {found} (Q-values must be finite)"
    return None


def read_tables(path: Path, required: Sequence[str]) -> dict[str, np.ndarray]:
    """Every array of a saved file, after checking it is a readable file of our format that
    holds the ``required`` entries."""
    if not path.is_file():
        raise load_error(path, "no such file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {key: npz[key] for key in npz.files}
    except ValueError as exc:  # numpy's "pickled data" message would only mislead here
        raise load_error(path, "not a readable .npz file (corrupt or truncated?)") from exc
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
        raise load_error(path, f"not a readable .npz file (corrupt or truncated?): {exc}") from exc
    missing = [key for key in ["format", *required] if key not in data]
    if missing:
        raise load_error(path, f"missing entries {missing}")
    if str(data["format"]) != FORMAT:
        raise load_error(path, f"unknown format {str(data['format'])!r}, expected {FORMAT!r}")
    bad = non_finite(data)
    if bad:
        raise load_error(path, bad)
    return data


def restore_store(path: Path, store: Store, n_tables: int, data: dict[str, np.ndarray]) -> None:
    """Fill ``store`` with the tables saved in ``data``; the store checks each table."""
    for g in range(n_tables):
        suffix = f"_{g}"
        arrays = {key[: -len(suffix)]: v for key, v in data.items() if key.endswith(suffix)}
        try:
            store.restore(g, arrays)
        except ValueError as exc:
            raise load_error(path, str(exc)) from exc
