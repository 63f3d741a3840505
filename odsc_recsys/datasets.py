"""Fetch and load MovieLens-100K, from GroupLens or from a copy that PyPI serves.

Two sources give the same canonical tables:

1. **GroupLens** (the original): ``ml-100k.zip``, fetched with pooch and checked against its
   known SHA-256.
2. **The RecBole wheel on PyPI** (``recbole==1.2.1``), which ships MovieLens-100K in its
   "atomic" format under ``recbole/dataset_example/ml-100k/``. It is fetched with
   ``python -m pip download`` (so the user's pip configuration, mirrors and proxies apply), its
   SHA-256 is checked, and only the three data files are extracted. recbole itself is never
   installed or imported.

Venue Wi-Fi and corporate proxies often block ``files.grouplens.org`` while PyPI still works,
which is why the second source exists.

Canonical tables
----------------
``ratings``: ``user_id, item_id, rating, timestamp`` (int64).
``movies``: ``item_id, title, year, genres`` where ``title`` has no trailing year,
``year`` is a nullable integer and ``genres`` is a tuple of genre names in GroupLens order.
:func:`display_title` puts the year back: ``"Star Wars (1977)"``.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import checks

#: The 19 genre flags of ``u.item``, in file order.
GENRES: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
GROUPLENS_ZIP = "ml-100k.zip"
GROUPLENS_SHA256 = "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"
GROUPLENS_SIZE = 4_924_029

RECBOLE_REQUIREMENT = "recbole==1.2.1"
RECBOLE_WHEEL = "recbole-1.2.1-py3-none-any.whl"
RECBOLE_WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
RECBOLE_DIR = "ml-100k-recbole"
#: SHA-256 of each file extracted from the wheel, so a cached copy is verified offline.
RECBOLE_FILES: dict[str, str] = {
    "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
    "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
}
RECBOLE_MEMBER_DIR = "recbole/dataset_example/ml-100k/"

SOURCES = ("auto", "grouplens", "recbole")

#: The columns of the canonical ratings table, in order.
RATING_COLUMNS = ("user_id", "item_id", "rating", "timestamp")
#: MovieLens-100K's rating scale: whole stars from 1 to 5.
RATING_RANGE = (1, 5)


class DataUnavailableError(RuntimeError):
    """No source could provide the data set; the message lists what was tried."""


class ChecksumError(ValueError):
    """A file did not match its known SHA-256 (the bad file has been removed)."""


def _say(message: str) -> None:
    print(f"[odsc_recsys] {message}", file=sys.stderr)


# --------------------------------------------------------------------------------------------
# Where the data lives
# --------------------------------------------------------------------------------------------


def data_home() -> Path:
    """The folder that holds downloaded data.

    In order: the environment variable ``ODSC_RECSYS_DATA``; the ``data/`` folder of the
    checkout this package was installed from (editable install); the user cache directory.
    """
    env = os.environ.get("ODSC_RECSYS_DATA")
    if env:
        return Path(env).expanduser()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "data").is_dir():
        return checkout / "data"
    import platformdirs

    return Path(platformdirs.user_cache_dir("odsc-recsys"))


def sha256_of(path: Path) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    if not isinstance(path, str | os.PathLike):  # open(3) would read file descriptor 3
        raise ValueError(f"path must be a file path (str or pathlib.Path), got {path!r}")
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verified(path: Path, sha256: str) -> bool:
    """True if ``path`` exists with the right hash. A corrupt file is removed, with a message."""
    if not path.exists():
        return False
    if sha256_of(path) == sha256:
        return True
    path.unlink()
    _say(f"{path.name} is corrupt (SHA-256 mismatch); removed it and will fetch it again.")
    return False


# --------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch_movielens` found or fetched."""

    source: str  # "grouplens" or "recbole"
    path: Path  # the zip (grouplens) or the folder of extracted files (recbole)


def _fetch_grouplens(home: Path, url: str, progressbar: bool) -> Path:
    import pooch

    target = home / GROUPLENS_ZIP
    if _verified(target, GROUPLENS_SHA256):
        return target
    # pooch downloads into a temporary file and moves it into place only once the hash
    # matches, so an interrupted or corrupt download leaves nothing behind.
    downloader = pooch.HTTPDownloader(progressbar=progressbar, timeout=30)
    try:
        path = pooch.retrieve(
            url,
            known_hash=f"sha256:{GROUPLENS_SHA256}",
            fname=GROUPLENS_ZIP,
            path=home,
            downloader=downloader,
        )
    except ValueError as err:  # pooch's hash mismatch
        if target.exists():
            target.unlink()
        raise ChecksumError(f"{url} did not match its known SHA-256; nothing was kept") from err
    return Path(path)


def _pip_download_wheel(dest: Path) -> Path:
    """Download the RecBole wheel with pip into ``dest`` and return its path."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
        "--disable-pip-version-check", "--quiet", "-d", str(dest), RECBOLE_REQUIREMENT,
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    wheel = dest / RECBOLE_WHEEL
    if proc.returncode != 0 or not wheel.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise OSError("pip download failed: " + " | ".join(tail))
    return wheel


def _extract_recbole(wheel: Path, out_dir: Path) -> None:
    """Check the wheel's hash and extract only the MovieLens files, atomically."""
    if sha256_of(wheel) != RECBOLE_WHEEL_SHA256:
        wheel.unlink()
        raise ChecksumError(f"{wheel.name} did not match its known SHA-256; removed it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".recbole-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the data is not secret
    try:
        with zipfile.ZipFile(wheel) as zf:
            for name, sha in RECBOLE_FILES.items():
                data = zf.read(RECBOLE_MEMBER_DIR + name)
                if hashlib.sha256(data).hexdigest() != sha:
                    raise ChecksumError(f"{name} inside {wheel.name} has an unexpected SHA-256")
                (staging / name).write_bytes(data)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _recbole_cached(home: Path) -> bool:
    folder = home / RECBOLE_DIR
    if not folder.is_dir():
        return False
    ok = all(_verified(folder / name, sha) for name, sha in RECBOLE_FILES.items())
    if not ok:
        shutil.rmtree(folder, ignore_errors=True)
    return ok


def _fetch_recbole(home: Path, download: Callable[[Path], Path] | None = None) -> Path:
    download = download or _pip_download_wheel
    folder = home / RECBOLE_DIR
    if _recbole_cached(home):
        return folder
    with tempfile.TemporaryDirectory(prefix=".wheel-", dir=home) as tmp:
        _say(f"fetching MovieLens-100K from PyPI ({RECBOLE_REQUIREMENT} wheel, data files only)")
        wheel = download(Path(tmp))
        _extract_recbole(wheel, folder)
    return folder


def fetch_movielens(
    name: str = "ml-100k",
    source: str = "auto",
    home: str | Path | None = None,
    url: str = GROUPLENS_URL,
    progressbar: bool = True,
) -> FetchResult:
    """Make MovieLens-100K available locally and return where it is.

    Data already present and verified is reused without touching the network. With
    ``source="auto"``, GroupLens is tried first and PyPI's RecBole wheel second.

    Parameters
    ----------
    name : str
        Only ``"ml-100k"`` is supported.
    source : {"auto", "grouplens", "recbole"}
        Which source(s) to use.
    home : path, optional
        Data folder; default :func:`data_home`.
    url : str
        GroupLens address (tests point this elsewhere).
    progressbar : bool
        Show a download progress bar (GroupLens).

    Raises
    ------
    DataUnavailableError
        If no source worked; the message lists each attempt and how to place the zip by hand.
    """
    if not isinstance(name, str) or name != "ml-100k":
        raise ValueError(f"unknown data set {name!r}: only 'ml-100k' is supported")
    if not isinstance(source, str) or source not in SOURCES:
        raise ValueError(f"unknown source {source!r}: choose one of {', '.join(SOURCES)}")
    checks.text("url", url)
    checks.boolean("progressbar", progressbar)
    home = _check_home(home) if home is not None else data_home()
    if home.exists() and not home.is_dir():
        raise ValueError(f"home must be a folder for the data, got the file {str(home)!r}")
    home.mkdir(parents=True, exist_ok=True)

    # Offline first: whatever verified copy is already here wins.
    if source in ("auto", "grouplens") and _verified(home / GROUPLENS_ZIP, GROUPLENS_SHA256):
        return FetchResult("grouplens", home / GROUPLENS_ZIP)
    if source in ("auto", "recbole") and _recbole_cached(home):
        return FetchResult("recbole", home / RECBOLE_DIR)

    tried: list[str] = []
    if source in ("auto", "grouplens"):
        try:
            return FetchResult("grouplens", _fetch_grouplens(home, url, progressbar))
        except Exception as err:  # network errors come in many types
            tried.append(f"GroupLens ({url}): {type(err).__name__}: {err}")
            if source == "auto":
                _say("GroupLens is unreachable; trying the copy on PyPI.")
    if source in ("auto", "recbole"):
        try:
            return FetchResult("recbole", _fetch_recbole(home))
        except Exception as err:
            tried.append(f"PyPI ({RECBOLE_REQUIREMENT} via pip download): {err}")
    lines = "\n  - ".join(tried)
    raise DataUnavailableError(
        f"could not fetch MovieLens-100K. Tried:\n  - {lines}\n"
        f"To install it by hand, download {url} on any machine and copy it to "
        f"{home / GROUPLENS_ZIP} (SHA-256 {GROUPLENS_SHA256}), or set ODSC_RECSYS_DATA "
        f"to a folder that holds it."
    )


def _check_home(home: object) -> Path:
    """``home`` as a Path if it is a path (a str or an ``os.PathLike``)."""
    if isinstance(home, str):
        checks.text("home", home)
    elif not isinstance(home, os.PathLike):
        raise ValueError(f"home must be a folder path (str or pathlib.Path), got {home!r}")
    return Path(home)


# --------------------------------------------------------------------------------------------
# Parsing into canonical tables
# --------------------------------------------------------------------------------------------

_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)(?P<rest>(?:\s*\([^()]*\))*)\s*$")


def normalise_title(raw: str) -> tuple[str, int | None]:
    """Split a MovieLens title into (title without year, year).

    ``"Toy Story (1995)"`` -> ``("Toy Story", 1995)``. A trailing tag after the year, as in
    ``"... (1995) (V)"``, is dropped with the year. Titles are NFC-normalised and stripped.
    """
    if not isinstance(raw, str):
        raise ValueError(f"raw must be a title string, got {raw!r}")
    text = unicodedata.normalize("NFC", raw).strip()
    m = _YEAR.match(text)
    if m is None:
        return text, None
    return m.group("title").strip(), int(m.group("year"))


def display_title(title: str, year: object) -> str:
    """The title with its year in brackets, as MovieLens shows it.

    ``year`` is a whole number, or missing (``None``, ``pd.NA`` or NaN: then the title alone).
    """
    if not isinstance(title, str):
        raise ValueError(f"title must be a string, got {title!r}")
    if (
        year is None
        or year is pd.NA
        or (isinstance(year, float | np.floating) and math.isnan(year))
    ):
        return title
    if isinstance(year, float | np.floating) and float(year).is_integer():
        year = int(year)  # a float column of years with gaps holds 1995.0
    return f"{title} ({checks.integer('year', year)})"


def _movies_frame(
    item_ids: list[int], titles: list[str], years: list, genres: list
) -> pd.DataFrame:
    movies = pd.DataFrame(
        {
            "item_id": np.asarray(item_ids, dtype=np.int64),
            "title": pd.Series(titles, dtype=object),
            "year": pd.array(years, dtype="Int64"),
            "genres": pd.Series(genres, dtype=object),
        }
    )
    return movies.sort_values("item_id", ignore_index=True)


def _ratings_frame(df: pd.DataFrame, what: str = "ratings", first_line: int = 1) -> pd.DataFrame:
    """The canonical ratings table, after checking every value.

    Raises
    ------
    ValueError
        Naming ``what`` (the file), the column, the line (row 0 is line ``first_line``) and
        the value, if a column is missing,
        there are no ratings, or a value is not a finite whole number in its range (ids >= 1,
        ratings in 1..5, timestamps >= 0).
    """
    missing = [c for c in RATING_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{what} must have the columns {list(RATING_COLUMNS)}, got "
                         f"{list(df.columns)} (missing {missing})")  # fmt: skip
    if len(df) == 0:
        raise ValueError(f"{what} holds no ratings")
    low = {"user_id": 1, "item_id": 1, "rating": RATING_RANGE[0], "timestamp": 0}
    high = {"rating": RATING_RANGE[1]}
    for col in RATING_COLUMNS:
        values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(values) | (values != np.round(values)) | (values < low[col])
            if col in high:
                bad |= values > high[col]
        if bad.any():
            row = int(np.argmax(bad))
            allowed = (f"whole numbers in [{low[col]}, {high[col]}]" if col in high
                       else f"finite whole numbers >= {low[col]}")  # fmt: skip
            value = df[col].iloc[row]
            value = value.item() if isinstance(value, np.generic) else value
            raise ValueError(f"{what} {col} must be {allowed}, got {value!r} in "
                             f"line {row + first_line}")  # fmt: skip
    out = df[list(RATING_COLUMNS)].astype("int64")
    return out.sort_values(["user_id", "timestamp", "item_id"], ignore_index=True)


def _check_tables(ratings: pd.DataFrame, movies: pd.DataFrame, what: str) -> None:
    """Refuse movies without rows, repeated movie ids and ratings of movies not listed."""
    if len(movies) == 0:
        raise ValueError(f"{what} lists no movies")
    repeated = movies["item_id"][movies["item_id"].duplicated()]
    if len(repeated):
        raise ValueError(f"{what} lists movie id {int(repeated.iloc[0])} twice: ids must be "
                         f"unique")  # fmt: skip
    foreign = ~ratings["item_id"].isin(movies["item_id"])
    if foreign.any():
        raise ValueError(f"{what} rates movie id {int(ratings['item_id'][foreign].iloc[0])}, "
                         f"which is not among its {len(movies)} movies")  # fmt: skip


def _movie_id(raw: str, what: str, number: int) -> int:
    """A movie id field as an int, or ``ValueError`` naming the file and line."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise ValueError(f"{what} line {number}: item_id must be an integer >= 1, got {raw!r}")
    return int(text)


def _check_bytes(what: str, data: object) -> bytes:
    """``data`` if it is a file's non-empty contents."""
    if not isinstance(data, bytes | bytearray):
        raise ValueError(f"{what} must be the file's contents as bytes, got "
                         f"{type(data).__name__}")  # fmt: skip
    if not data.strip():
        raise ValueError(f"{what} is empty, got {bytes(data[:20])!r}")
    return bytes(data)


def _read_table(data: bytes, what: str, header: bool) -> pd.DataFrame:
    """``pandas.read_csv`` of a tab-separated file, with the file named in any error."""
    _check_bytes(what, data)
    try:
        table = pd.read_csv(io.BytesIO(data), sep="\t", header=0 if header else None)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        reason = str(err).strip()
        raise ValueError(f"{what} is not a tab-separated ratings file: {reason}") from None
    if not isinstance(table.index, pd.RangeIndex):  # pandas shifts rows longer than the header
        raise ValueError(f"{what} has rows with more fields than its header "
                         f"{list(table.columns)}")  # fmt: skip
    return table


def parse_grouplens(u_data: bytes, u_item: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert GroupLens ``u.data`` and ``u.item`` contents into canonical tables.

    Raises
    ------
    ValueError
        Naming the file, line or row and the value, if either file is empty, not bytes or not
        in the GroupLens format, or holds a missing, non-finite or out-of-range value, a
        repeated movie id or a rating of a movie that ``u.item`` does not list.
    """
    _check_bytes("u.item", u_item)
    ratings = _read_table(u_data, "u.data", header=False)
    if ratings.shape[1] != len(RATING_COLUMNS):
        raise ValueError(f"u.data must have {len(RATING_COLUMNS)} tab-separated columns "
                         f"{list(RATING_COLUMNS)}, got {ratings.shape[1]}")  # fmt: skip
    ratings.columns = list(RATING_COLUMNS)
    ids, titles, years, genres = [], [], [], []
    for number, line in enumerate(u_item.decode("latin-1").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 5 + len(GENRES):
            raise ValueError(f"u.item line has {len(fields)} fields, expected 24: {line[:60]!r}")
        item_id = _movie_id(fields[0], "u.item", number)
        title, year = normalise_title(fields[1])
        flags = [f.strip() for f in fields[5:]]
        odd = [f for f in flags if f not in ("0", "1")]
        if odd:
            raise ValueError(f"u.item line {number}: genre flags must be 0 or 1, got {odd[0]!r}")
        ids.append(item_id)
        titles.append(title)
        years.append(year)
        genres.append(tuple(g for g, f in zip(GENRES, flags, strict=True) if f == "1"))
    out = _ratings_frame(ratings, "u.data"), _movies_frame(ids, titles, years, genres)
    _check_tables(*out, "u.item")
    return out


def parse_recbole(inter: bytes, item: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert RecBole atomic files (``.inter``, ``.item``) into canonical tables.

    RecBole's copy stores the title without its year and the year in its own column, except
    that movie 1412's year column says ``V`` (the title keeps ``(1995)``) and movie 267, whose
    GroupLens title is ``unknown``, is spelled ``unkonwn``. Both are mended here.
    """
    ratings = _read_table(inter, "ml-100k.inter", header=True)
    ratings.columns = [str(c).split(":")[0] for c in ratings.columns]
    _check_bytes("ml-100k.item", item)
    try:
        lines = item.decode("utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise ValueError(f"ml-100k.item is not UTF-8 text: {err}") from None
    ids, titles, years, genres = [], [], [], []
    header = [c.split(":")[0] for c in lines[0].split("\t")]
    if header != ["item_id", "movie_title", "release_year", "class"]:
        raise ValueError(f"unexpected RecBole item header: {lines[0]!r}")
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            raise ValueError(f"ml-100k.item line {number} has {len(fields)} fields, expected 4: "
                             f"{line[:60]!r}")  # fmt: skip
        raw_id, raw_title, raw_year, classes = fields
        item_id = _movie_id(raw_id, "ml-100k.item", number)
        title, year = normalise_title(raw_title)
        if year is None and raw_year.strip().isdigit():
            year = int(raw_year)
        if title == "unkonwn":
            title = "unknown"
        ids.append(item_id)
        titles.append(title)
        years.append(year)
        listed = set(classes.split())
        unknown = listed - set(GENRES)
        if unknown:
            raise ValueError(f"unknown genre(s) {sorted(unknown)} for item {item_id}")
        genres.append(tuple(g for g in GENRES if g in listed))
    out = (_ratings_frame(ratings, "ml-100k.inter", first_line=2),
           _movies_frame(ids, titles, years, genres))  # fmt: skip
    _check_tables(*out, "ml-100k.item")
    return out


def read_source(result: FetchResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse whatever :func:`fetch_movielens` returned into canonical tables."""
    if not isinstance(result, FetchResult):
        raise ValueError(f"result must be a FetchResult (from fetch_movielens), got {result!r}")
    checks.one_of("result.source", result.source, ("grouplens", "recbole"))
    if result.source == "grouplens":
        try:
            with zipfile.ZipFile(result.path) as zf:
                return parse_grouplens(zf.read("ml-100k/u.data"), zf.read("ml-100k/u.item"))
        except (zipfile.BadZipFile, KeyError) as err:
            raise ValueError(f"{result.path} is not a valid MovieLens-100K zip: {err}") from err
    folder = result.path
    return parse_recbole(
        (folder / "ml-100k.inter").read_bytes(), (folder / "ml-100k.item").read_bytes()
    )


def load_movielens(
    source: str = "auto", home: str | Path | None = None, progressbar: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fetch (if needed) and load MovieLens-100K as canonical ``(ratings, movies)``.

    Both sources give identical tables: 100,000 ratings by 943 users of 1,682 movies.
    """
    result = fetch_movielens("ml-100k", source=source, home=home, progressbar=progressbar)
    ratings, movies = read_source(result)
    ratings.attrs["source"] = movies.attrs["source"] = result.source
    return ratings, movies


# --------------------------------------------------------------------------------------------
# Synthetic data with the same schema
# --------------------------------------------------------------------------------------------


def synthetic_movielens(
    n_users: int = 200,
    n_items: int = 300,
    n_genres: int = 8,
    seed: int = 0,
    ratings_per_user: tuple[int, int] = (20, 80),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic ratings and movies in the canonical schema, for tests and offline use.

    The structure mimics MovieLens: Zipf-like long-tail popularity, users with a taste over
    genres (Dirichlet), one to three genres per movie, chronological sessions in which a user
    tends to stay in a genre for a few consecutive movies, and ratings higher for liked genres.
    Titles read ``"Synthetic movie 17"`` and ``movies.attrs["source"] == "synthetic"``, so it
    is never mistaken for the real thing.

    Parameters
    ----------
    n_users, n_items, n_genres : int
        Sizes; ``n_genres`` is at most 19 and names come from :data:`GENRES` (without
        ``unknown``).
    seed : int
        Seed of the ``numpy.random.Generator``; equal seeds give equal data.
    ratings_per_user : (int, int)
        Inclusive range of ratings per user, capped by ``n_items``.
    """
    n_users = checks.integer("n_users", n_users, 1)
    n_items = checks.integer("n_items", n_items, 4)
    n_genres = checks.integer("n_genres", n_genres, 1, len(GENRES) - 1)
    seed = checks.count("seed", seed)
    per_user = _ratings_range(ratings_per_user)
    # One generator through every step, in this order: equal seeds give equal data.
    rng = np.random.default_rng(seed)
    primary, movie_genres = _synthetic_genres(rng, n_items, GENRES[1 : n_genres + 1])
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.9  # long tail
    popularity = popularity[rng.permutation(n_items)]
    rows = _synthetic_ratings(rng, n_users, per_user, primary, popularity, n_genres)
    ratings = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
    movies = _movies_frame(
        list(range(1, n_items + 1)),
        [f"Synthetic movie {i}" for i in range(1, n_items + 1)],
        [1990 + int(y) for y in rng.integers(0, 9, size=n_items)],
        movie_genres,
    )
    ratings = _ratings_frame(ratings)
    ratings.attrs["source"] = movies.attrs["source"] = "synthetic"
    return ratings, movies


def _ratings_range(ratings_per_user: object) -> tuple[int, int]:
    """``ratings_per_user`` checked to be a pair of integers ``1 <= low <= high``."""
    pair = isinstance(ratings_per_user, tuple | list) and len(ratings_per_user) == 2
    if not pair or not all(isinstance(v, int | np.integer) and not isinstance(v, bool)
                           for v in ratings_per_user):  # fmt: skip
        raise ValueError(f"ratings_per_user must be a pair of integers (low, high), got "
                         f"{ratings_per_user!r}")  # fmt: skip
    lo, hi = ratings_per_user
    if not 1 <= lo <= hi:
        raise ValueError(f"ratings_per_user must satisfy 1 <= low <= high, got {ratings_per_user}")
    return lo, hi


def _synthetic_genres(
    rng: np.random.Generator, n_items: int, names: Sequence[str]
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Each movie's primary genre code, and its genre names: the primary plus up to two more."""
    n_genres = len(names)
    primary = rng.integers(0, n_genres, size=n_items)
    movie_genres = []
    for i in range(n_items):
        # up to two more genres, as many as there are (the same draws whenever n_genres >= 2)
        extra = rng.choice(n_genres, size=rng.integers(0, min(3, n_genres + 1)), replace=False)
        gs = sorted({int(primary[i]), *map(int, extra)})
        movie_genres.append(tuple(names[g] for g in gs))
    return primary, movie_genres


def _synthetic_ratings(
    rng: np.random.Generator,
    n_users: int,
    per_user: tuple[int, int],
    primary: np.ndarray,
    popularity: np.ndarray,
    n_genres: int,
) -> list[tuple[int, int, int, int]]:
    """``(user_id, item_id, rating, timestamp)`` rows, user by user in time order.

    Each user has a taste over genres and rates between ``per_user`` movies (capped by the
    catalogue), in sessions that mostly stay in one genre and favour popular movies.
    """
    lo, hi = per_user
    n_items = len(primary)
    by_genre = [np.flatnonzero(primary == g) for g in range(n_genres)]
    rows = []
    t0 = 874_724_710  # MovieLens-100K's first timestamp
    for u in range(1, n_users + 1):
        taste = rng.dirichlet(np.full(n_genres, 0.5))
        n = int(min(n_items, rng.integers(lo, hi + 1)))
        seen: set[int] = set()
        t = t0 + int(rng.integers(0, 200 * 86_400))
        genre = int(rng.choice(n_genres, p=taste))
        while len(seen) < n:
            if rng.random() < 0.3:  # sessions: change genre now and then
                genre = int(rng.choice(n_genres, p=taste))
            pool = by_genre[genre] if rng.random() < 0.8 and by_genre[genre].size else None
            pool = np.arange(n_items) if pool is None else pool
            pool = np.array([i for i in pool if i not in seen])
            if pool.size == 0:
                pool = np.array([i for i in range(n_items) if i not in seen])
            p = popularity[pool] / popularity[pool].sum()
            item = int(rng.choice(pool, p=p))
            seen.add(item)
            liked = taste[primary[item]] * n_genres
            rating = int(np.clip(np.round(3 + liked + rng.normal(0, 0.8)), 1, 5))
            t += int(rng.integers(30, 3_600))
            rows.append((u, item + 1, rating, t))
    return rows
