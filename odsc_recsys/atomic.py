"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file the package writes (Q-tables, checkpoints, networks) goes through here: the data go
to a temporary file in the same folder, which is then renamed over the target in one step
(``os.replace``). An error or an interruption part-way leaves the old file as it was and no
temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def atomic_savez(path: str | os.PathLike, **arrays: np.ndarray) -> Path:
    """``numpy.savez(path, **arrays)``, atomically.

    Raises
    ------
    FileNotFoundError
        If the folder of ``path`` does not exist (nothing is written).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {str(path.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        # mkstemp creates the file private (0600); give it the usual umask permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
