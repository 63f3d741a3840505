"""The bad-input battery's one assertion: the call is refused, clearly, and nothing changed.

``rejects(call, match=..., unchanged=..., files=...)`` runs ``call`` and checks that

* it raises ``exc`` (``ValueError`` unless told otherwise);
* the message contains every string in ``match`` (the bad value's repr and what is allowed);
* every object in ``unchanged`` pickles to the same bytes as before the call, so no attribute,
  array or random generator moved;
* every file in ``files`` has the same bytes as before (or still does not exist).
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest


def fingerprint(obj: object) -> str:
    """A digest of everything ``obj`` holds (its pickle), to compare before and after."""
    return hashlib.sha256(pickle.dumps(obj, protocol=5)).hexdigest()


def _file_state(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def rejects(
    call: Callable[[], object],
    *,
    match: str | Iterable[str] = (),
    exc: type[BaseException] | tuple[type[BaseException], ...] = ValueError,
    unchanged: Iterable[object] = (),
    files: Iterable[Path | str] = (),
) -> str:
    """Assert that ``call()`` raises ``exc`` naming ``match`` and changes nothing.

    Returns
    -------
    str
        The error message, for further checks.
    """
    fragments = [match] if isinstance(match, str) else list(match)
    objects = list(unchanged)
    paths = [Path(f) for f in files]
    before = [fingerprint(o) for o in objects]
    file_before = [_file_state(p) for p in paths]
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in the message {message!r}"
    for obj, digest in zip(objects, before, strict=True):
        assert fingerprint(obj) == digest, f"{type(obj).__name__} changed on a refused call"
    for path, digest in zip(paths, file_before, strict=True):
        assert _file_state(path) == digest, f"{path.name} changed on a refused call"
    return message
