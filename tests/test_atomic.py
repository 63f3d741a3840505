"""Tests of the atomic writers: a file is replaced whole or not at all."""

from __future__ import annotations

import pytest

from odsc_recsys.atomic import atomic_write_text


def test_atomic_write_text_replaces_whole_files_only(tmp_path):
    path = tmp_path / "note.json"
    atomic_write_text(path, "first")
    assert atomic_write_text(path, "second, é") == path
    assert path.read_text(encoding="utf-8") == "second, é"
    assert [p.name for p in tmp_path.iterdir()] == ["note.json"]  # no temporary file left
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_text(tmp_path / "missing" / "note.json", "x")
