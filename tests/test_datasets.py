"""The data layer: both converters, fetching, caching, corruption and failure, synthetic data.

No test touches the internet: GroupLens is served from a loopback HTTP server, and the PyPI
wheel is replaced by a fixture wheel that the tests build.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from odsc_recsys import datasets as ds

# A tiny MovieLens in both formats. The quirks of the real files are all here: a year tag after
# the year ("(V)"), the unknown movie without a year (RecBole spells it "unkonwn"), a Latin-1
# accent, a title that carries a second bracket, and a title with ", The".
MOVIES = [
    # item_id, GroupLens title, RecBole title, RecBole year, genres
    (1, "Toy Story (1995)", "Toy Story", "1995", ("Animation", "Children's", "Comedy")),
    (2, "Usual Suspects, The (1995)", "Usual Suspects, The", "1995", ("Crime", "Thriller")),
    (3, "Seven (Se7en) (1995)", "Seven (Se7en)", "1995", ("Crime", "Thriller")),
    (4, "unknown", "unkonwn", "unkonwn", ("unknown",)),
    (5, "Land Before Time III: The Time of the Great Giving (1995) (V)",
     "Land Before Time III: The Time of the Great Giving (1995)", "V",
     ("Animation", "Children's")),
    (6, "Cérémonie, La (1995)", "Cérémonie, La", "1995", ("Drama",)),
    (7, "Star Wars (1977)", "Star Wars", "1977", ("Action", "Adventure", "Romance", "Sci-Fi", "War")),
]  # fmt: skip
RATINGS = [(1, 1, 5, 881250949), (1, 7, 4, 881250950), (2, 3, 3, 891717742),
           (2, 5, 1, 878887116), (3, 6, 2, 880606923), (3, 4, 4, 880606924),
           (3, 2, 5, 880606923)]  # fmt: skip


def grouplens_zip() -> bytes:
    u_data = "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in RATINGS)
    lines = []
    for item_id, title, _, _, genres in MOVIES:
        flags = "|".join("1" if g in genres else "0" for g in ds.GENRES)
        lines.append(f"{item_id}|{title}|01-Jan-1995||http://example/|{flags}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ml-100k/u.data", u_data)
        zf.writestr("ml-100k/u.item", ("\n".join(lines) + "\n").encode("latin-1"))
    return buf.getvalue()


def recbole_files() -> dict[str, bytes]:
    inter = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n" + "".join(
        f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in RATINGS
    )
    item = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n" + "".join(
        f"{i}\t{t}\t{y}\t{' '.join(g)}\n" for i, _, t, y, g in MOVIES
    )
    user = "user_id:token\tage:token\n1\t24\n2\t53\n3\t23\n"
    return {
        "ml-100k.inter": inter.encode(),
        "ml-100k.item": item.encode(),
        "ml-100k.user": user.encode(),
    }


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_both_converters_give_identical_canonical_tables():
    r1, m1 = ds.parse_grouplens(*_grouplens_members())
    files = recbole_files()
    r2, m2 = ds.parse_recbole(files["ml-100k.inter"], files["ml-100k.item"])
    pd.testing.assert_frame_equal(r1, r2)
    pd.testing.assert_frame_equal(m1, m2)
    assert list(r1.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert list(m1.columns) == ["item_id", "title", "year", "genres"]
    by_id = m1.set_index("item_id")
    assert by_id.loc[1, "title"] == "Toy Story" and by_id.loc[1, "year"] == 1995
    assert by_id.loc[3, "title"] == "Seven (Se7en)"
    assert by_id.loc[4, "title"] == "unknown" and pd.isna(by_id.loc[4, "year"])
    assert by_id.loc[5, "title"] == "Land Before Time III: The Time of the Great Giving"
    assert by_id.loc[5, "year"] == 1995
    assert by_id.loc[6, "title"] == "Cérémonie, La"
    assert by_id.loc[7, "genres"] == ("Action", "Adventure", "Romance", "Sci-Fi", "War")
    # ratings are sorted by user, then time
    assert r1["user_id"].is_monotonic_increasing


def _grouplens_members() -> tuple[bytes, bytes]:
    with zipfile.ZipFile(io.BytesIO(grouplens_zip())) as zf:
        return zf.read("ml-100k/u.data"), zf.read("ml-100k/u.item")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Toy Story (1995)", ("Toy Story", 1995)),
        ("  Fargo (1996) ", ("Fargo", 1996)),
        ("Seven (Se7en) (1995)", ("Seven (Se7en)", 1995)),
        ("Land Before Time III (1995) (V)", ("Land Before Time III", 1995)),
        ("unknown", ("unknown", None)),
        ("8 1/2 (1963)", ("8 1/2", 1963)),
    ],
)
def test_normalise_title(raw, expected):
    assert ds.normalise_title(raw) == expected


def test_display_title_adds_the_year_back():
    assert ds.display_title("Star Wars", 1977) == "Star Wars (1977)"
    assert ds.display_title("unknown", pd.NA) == "unknown"


def test_bad_grouplens_line_is_rejected():
    with pytest.raises(ValueError, match="expected 24"):
        ds.parse_grouplens(b"1\t1\t5\t1\n", b"1|Toy Story (1995)|x\n")


def test_unknown_recbole_genre_is_rejected():
    files = recbole_files()
    bad = files["ml-100k.item"].replace(b"Drama", b"Dramedy")
    with pytest.raises(ValueError, match="Dramedy"):
        ds.parse_recbole(files["ml-100k.inter"], bad)


# ---- fetching --------------------------------------------------------------------------------


class _Server:
    """A loopback HTTP server that serves one payload, optionally cut short."""

    def __init__(self, payload: bytes, cut_after: int | None = None):
        outer = self
        self.payload, self.cut_after, self.hits = payload, cut_after, 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                outer.hits += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(outer.payload)))
                self.end_headers()
                body = (
                    outer.payload if outer.cut_after is None else outer.payload[: outer.cut_after]
                )
                self.wfile.write(body)
                if outer.cut_after is not None:
                    self.wfile.flush()
                    self.connection.close()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/ml-100k.zip"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fixture_hashes(monkeypatch):
    """Point the known hashes at the fixtures, and make pip's wheel a fixture wheel."""
    payload = grouplens_zip()
    monkeypatch.setattr(ds, "GROUPLENS_SHA256", sha(payload))
    files = recbole_files()
    monkeypatch.setattr(ds, "RECBOLE_FILES", {n: sha(b) for n, b in files.items()})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(ds.RECBOLE_MEMBER_DIR + name, data)
        zf.writestr("recbole/__init__.py", "")
    wheel = buf.getvalue()
    monkeypatch.setattr(ds, "RECBOLE_WHEEL_SHA256", sha(wheel))
    calls = []

    def fake_pip_download(dest: Path) -> Path:
        calls.append(dest)
        path = dest / ds.RECBOLE_WHEEL
        path.write_bytes(wheel)
        return path

    monkeypatch.setattr(ds, "_pip_download_wheel", fake_pip_download)
    return payload, calls


def _closed_port_url() -> str:
    srv = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = srv.server_address[1]
    srv.server_close()
    return f"http://127.0.0.1:{port}/ml-100k.zip"


def test_fetch_from_grouplens_then_reuse_offline(tmp_path, fixture_hashes):
    payload, _ = fixture_hashes
    with _Server(payload) as server:
        res = ds.fetch_movielens(home=tmp_path, url=server.url, progressbar=False)
        assert res.source == "grouplens" and res.path.read_bytes() == payload
        again = ds.fetch_movielens(home=tmp_path, url=server.url, progressbar=False)
        assert again.path == res.path
        assert server.hits == 1  # the second call never touched the network
    ratings, movies = ds.load_movielens(home=tmp_path, progressbar=False)
    assert len(ratings) == len(RATINGS) and len(movies) == len(MOVIES)
    assert ratings.attrs["source"] == "grouplens"


def test_corrupt_cached_zip_is_removed_and_fetched_again(tmp_path, fixture_hashes, capsys):
    payload, _ = fixture_hashes
    (tmp_path / ds.GROUPLENS_ZIP).write_bytes(b"not a zip at all")
    with _Server(payload) as server:
        res = ds.fetch_movielens(home=tmp_path, url=server.url, progressbar=False)
        assert server.hits == 1
    assert res.path.read_bytes() == payload
    assert "corrupt" in capsys.readouterr().err


def test_checksum_mismatch_keeps_nothing(tmp_path, fixture_hashes):
    with _Server(b"tampered payload") as server, pytest.raises(ds.ChecksumError, match="SHA-256"):
        ds._fetch_grouplens(tmp_path, server.url, progressbar=False)
    assert not (tmp_path / ds.GROUPLENS_ZIP).exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_interrupted_download_leaves_no_partial_file(tmp_path, fixture_hashes):
    payload, _ = fixture_hashes
    with _Server(payload, cut_after=len(payload) // 3) as server, pytest.raises(Exception):  # noqa: B017
        ds._fetch_grouplens(tmp_path, server.url, progressbar=False)
    assert list(tmp_path.iterdir()) == []


def test_falls_back_to_pypi_when_grouplens_is_unreachable(tmp_path, fixture_hashes, capsys):
    _, calls = fixture_hashes
    res = ds.fetch_movielens(home=tmp_path, url=_closed_port_url(), progressbar=False)
    assert res.source == "recbole" and len(calls) == 1
    assert sorted(p.name for p in res.path.iterdir()) == sorted(ds.RECBOLE_FILES)
    assert "unreachable" in capsys.readouterr().err
    # the wheel itself is not kept, only the three data files
    assert not list(tmp_path.rglob("*.whl"))
    # reused offline, and loads to the same tables as the GroupLens fixture
    ds.fetch_movielens(home=tmp_path, url=_closed_port_url(), progressbar=False)
    assert len(calls) == 1
    r, m = ds.load_movielens(home=tmp_path, progressbar=False)
    r0, m0 = ds.parse_grouplens(*_grouplens_members())
    pd.testing.assert_frame_equal(r, r0)
    pd.testing.assert_frame_equal(m, m0)


def test_corrupt_extracted_file_is_detected_and_refetched(tmp_path, fixture_hashes, capsys):
    _, calls = fixture_hashes
    ds.fetch_movielens(source="recbole", home=tmp_path)
    (tmp_path / ds.RECBOLE_DIR / "ml-100k.item").write_bytes(b"garbage")
    ds.fetch_movielens(source="recbole", home=tmp_path)
    assert len(calls) == 2
    assert "corrupt" in capsys.readouterr().err
    ds.load_movielens(source="recbole", home=tmp_path)


def test_tampered_wheel_is_rejected_and_removed(tmp_path, fixture_hashes, monkeypatch):
    monkeypatch.setattr(ds, "RECBOLE_WHEEL_SHA256", "0" * 64)
    with pytest.raises(ds.DataUnavailableError, match="SHA-256"):
        ds.fetch_movielens(source="recbole", home=tmp_path)
    assert not (tmp_path / ds.RECBOLE_DIR).exists()


def test_no_source_reachable_lists_what_was_tried(tmp_path, fixture_hashes, monkeypatch):
    def offline(dest: Path) -> Path:
        raise OSError("pip download failed: no network")

    monkeypatch.setattr(ds, "_pip_download_wheel", offline)
    url = _closed_port_url()
    with pytest.raises(ds.DataUnavailableError) as info:
        ds.fetch_movielens(home=tmp_path, url=url, progressbar=False)
    msg = str(info.value)
    assert "GroupLens" in msg and url in msg
    assert "recbole==1.2.1" in msg and "no network" in msg
    assert str(tmp_path / ds.GROUPLENS_ZIP) in msg  # how to place the zip by hand
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="ml-1m"):
        ds.fetch_movielens("ml-1m")
    with pytest.raises(ValueError, match="kaggle"):
        ds.fetch_movielens(source="kaggle")


def test_data_home_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ODSC_RECSYS_DATA", str(tmp_path / "x"))
    assert ds.data_home() == tmp_path / "x"
    monkeypatch.delenv("ODSC_RECSYS_DATA")
    assert ds.data_home().name in ("data", "odsc-recsys")


# ---- synthetic data --------------------------------------------------------------------------


def test_synthetic_has_the_canonical_schema_and_is_seeded():
    r1, m1 = ds.synthetic_movielens(n_users=30, n_items=60, n_genres=5, seed=3)
    r2, m2 = ds.synthetic_movielens(n_users=30, n_items=60, n_genres=5, seed=3)
    r3, _ = ds.synthetic_movielens(n_users=30, n_items=60, n_genres=5, seed=4)
    pd.testing.assert_frame_equal(r1, r2)
    pd.testing.assert_frame_equal(m1, m2)
    assert not r1.equals(r3)
    assert list(r1.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert list(m1.columns) == ["item_id", "title", "year", "genres"]
    assert r1.attrs["source"] == m1.attrs["source"] == "synthetic"
    assert r1["rating"].between(1, 5).all()
    assert not r1.duplicated(["user_id", "item_id"]).any()
    assert set(r1["item_id"]) <= set(m1["item_id"])
    assert {g for gs in m1["genres"] for g in gs} <= set(ds.GENRES[1:6])
    # timestamps increase within each user
    assert (r1.groupby("user_id")["timestamp"].diff().dropna() > 0).all()


def test_synthetic_with_one_genre_gives_every_movie_that_genre():
    # it used to ask for up to two more genres out of one and crash inside numpy
    _, movies = ds.synthetic_movielens(n_users=20, n_items=40, n_genres=1, seed=0)
    assert set(movies["genres"]) == {(ds.GENRES[1],)}


def test_synthetic_popularity_has_a_long_tail():
    r, _ = ds.synthetic_movielens(n_users=300, n_items=200, seed=0)
    counts = np.sort(r["item_id"].value_counts().to_numpy())[::-1]
    top_decile_share = counts[: len(counts) // 10].sum() / counts.sum()
    assert top_decile_share > 0.2  # a uniform catalogue would give 0.1


def test_synthetic_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_genres"):
        ds.synthetic_movielens(n_genres=25)
    with pytest.raises(ValueError, match="ratings_per_user"):
        ds.synthetic_movielens(ratings_per_user=(10, 5))
