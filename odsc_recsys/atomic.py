"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file the package writes (Q-tables, checkpoints, manifests, networks) goes through here:
the data go to a temporary file in the same folder, which is then renamed over the target in
one step (``os.replace``). An error or an interruption part-way leaves the old file as it was
and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["atomic_savez", "atomic_write_text"]


def _write(path: str | os.PathLike, mode: str, fill: Callable[[IO[Any]], object]) -> Path:
    """Call ``fill`` on a temporary file beside ``path`` opened in ``mode``, then rename it
    over ``path``; on an error the temporary file is removed and ``path`` is left as it was."""
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a folder: give a file name inside it")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            fill(f)
        # mkstemp creates the file private (0600); give it the usual umask permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_savez(path: str | os.PathLike, **arrays: np.ndarray) -> Path:
    """``numpy.savez(path, **arrays)``, atomically; returns the path.

    Raises ``FileNotFoundError`` if the folder of ``path`` does not exist (nothing is written).
    """
    return _write(path, "wb", lambda f: np.savez(f, **arrays))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` (UTF-8), atomically; returns the path.

    Raises ``FileNotFoundError`` if the folder of ``path`` does not exist (nothing is written).
    """
    return _write(path, "w", lambda f: f.write(text))
