"""The bad-input battery, command line: every flag with its bad values.

Each case must exit with status 2 and print exactly one line, ``error: ...``, that names the
flag (or the file, or the movie) and the bad value; no traceback, and no file is created or
changed. The parser checks every flag's range before anything loads or trains, so these cases
run in milliseconds; the cases that need a model use a small saved one.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from bad_input import fingerprint

from odsc_recsys.__main__ import MOVIELENS_MOVIES, main
from odsc_recsys.qtables import GenreQTables
from odsc_recsys.training import TrainConfig, make_tables


@pytest.fixture(scope="module")
def files(tmp_path_factory, tutorial_data):
    """Saved models and broken files: untrained sparse tables of the tutorial catalogue (a few
    kB), tables of other catalogues, a NaN file, a truncated and a foreign file."""
    folder = tmp_path_factory.mktemp("bad_cli")
    good = make_tables(tutorial_data.catalog, TrainConfig(storage="sparse"))
    paths = {"tables": good.save(folder / "tables.npz")}
    paths["big"] = GenreQTables(np.zeros(2000, dtype=int), ["Drama"], storage="sparse").save(
        folder / "big.npz"
    )
    paths["small"] = GenreQTables(np.zeros(50, dtype=int), ["Drama"], storage="sparse").save(
        folder / "small.npz"
    )
    data = dict(np.load(paths["tables"]))
    data["prior"] = data["prior"].copy()
    data["prior"][3] = np.nan
    np.savez(folder / "nan.npz", **data)
    paths["nan"] = folder / "nan.npz"
    paths["truncated"] = folder / "truncated.npz"
    paths["truncated"].write_bytes(paths["tables"].read_bytes()[:500])
    np.savez(folder / "foreign.npz", weights=np.ones(3))
    paths["foreign"] = folder / "foreign.npz"
    paths["text"] = folder / "notes.npz"
    paths["text"].write_text("not an archive")
    paths["folder"] = folder
    return paths


def _option(flag: str, value: str) -> list[str]:
    """``["--k", "0"]``; a value written ``"=-1"`` gives ``["--k=-1"]`` (argparse would take a
    bare ``-1`` for an option)."""
    return [f"{flag}{value}"] if value.startswith("=") else [flag, value]


def _refused(argv: list[str], capsys, *fragments: str) -> str:
    """``main(argv)`` exits 2 with one ``error:`` line that holds every fragment."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("error: "), err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and captured.out == ""
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    return err


# ---- train: every flag, refused when parsed, before any data is read --------------------------

TRAIN_FLAGS = [
    ("--alpha", "0", "--alpha (learning rate) must be in (0, 1], got 0.0"),
    ("--alpha", "1.5", "got 1.5"),
    ("--alpha", "nan", "got nan"),
    ("--alpha", "inf", "got inf"),
    ("--alpha", "abc", "--alpha must be a number, got 'abc'"),
    ("--gamma", "1.5", "--gamma (discount factor) must be in [0, 1], got 1.5"),
    ("--gamma", "nan", "got nan"),
    ("--gamma", "=-0.1", "got -0.1"),
    ("--epsilon", "1.1", "--epsilon (exploration rate) must be a probability in [0, 1]"),
    ("--epsilon", "nan", "got nan"),
    ("--epsilon", "x", "--epsilon must be a number, got 'x'"),
    ("--reward", "nan", "--reward must be a finite number >= 0, got nan"),
    ("--reward", "inf", "got inf"),
    ("--reward", "=-1", "--reward must be a finite number >= 0, got -1.0"),
    ("--penalty", "=-5", "--penalty must be a finite number >= 0, got -5.0"),
    ("--penalty", "nan", "got nan"),
    ("--epochs", "0", "--epochs must be a positive integer, got 0"),
    ("--epochs", "1.5", "--epochs must be an integer, got '1.5'"),
    ("--epochs", "three", "got 'three'"),
    ("--k", "0", "--k must be an integer >= 1, got 0"),
    ("--k", "=-3", "got -3"),
    ("--seed", "=-1", "--seed must be an integer >= 0, got -1"),
    ("--seed", "0.5", "--seed must be an integer, got '0.5'"),
    ("--n-items", "0", f"--n-items must be an integer in [1, {MOVIELENS_MOVIES}], got 0"),
    ("--n-items", "99999", "got 99999"),
    ("--storage", "disk", "--storage: invalid choice: 'disk'"),
    ("--preset", "best", "--preset: invalid choice: 'best'"),
    ("--model", "xgboost", "--model: invalid choice: 'xgboost'"),
    ("--max-epochs", "0", "--max-epochs must be an integer in [1, 10000], got 0"),
    ("--max-epochs", "20000", "got 20000"),
    ("--patience", "0", "--patience must be an integer in [1, 10000], got 0"),
    ("--learning-rate", "0", "--learning-rate must be a finite number in (0, 1], got 0.0"),
    ("--learning-rate", "2", "got 2.0"),
    ("--learning-rate", "nan", "got nan"),
    ("--batch-size", "0", "--batch-size must be an integer in [1, 1000000], got 0"),
    ("--hidden", "0", "--hidden must be an integer in [1, 65536], got 0"),
    ("--hidden", "100000", "got 100000"),
    ("--embed-dim", "0", "--embed-dim must be an integer in [1, 4096], got 0"),
    ("--embed-dim", "8.0", "--embed-dim must be an integer, got '8.0'"),
    ("--head", "both", "--head: invalid choice: 'both'"),
]


@pytest.mark.parametrize(("flag", "value", "message"), TRAIN_FLAGS,
                         ids=[f"{f} {v}" for f, v, _ in TRAIN_FLAGS])  # fmt: skip
def test_train_flag_out_of_range(tmp_path, capsys, flag, value, message):
    out = tmp_path / "m.npz"
    _refused(["train", "--out", str(out), "--quiet", *_option(flag, value)], capsys, message)
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "dqn", "--gamma", "1.0"], "--gamma must be a finite number in [0, 1), got 1.0"),
        (["--model", "dqn", "--alpha", "0.5"], "--alpha is an option of --model qtables"),
        (["--hidden", "16"], "--hidden is an option of the network models"),
        (["--model", "dueling", "--head", "q"], "--head is an option of --model sqn"),
        (["--model", "sqn", "--storage", "lazy"], "--storage is an option of --model qtables"),
    ],
)  # fmt: skip
def test_train_conflicting_flags(tmp_path, capsys, args, message):
    out = tmp_path / "m.npz"
    _refused(["train", "--out", str(out), "--quiet", *args], capsys, message)
    assert not out.exists()


def test_train_out_must_be_a_file_in_an_existing_folder(tmp_path, capsys):
    missing = tmp_path / "missing" / "m.npz"
    _refused(["train", "--out", str(missing)], capsys, "--out", "does not exist")
    _refused(["train", "--out", str(tmp_path)], capsys, f"--out {str(tmp_path)!r} is a folder")


def test_a_refused_train_leaves_the_old_file(tmp_path, capsys):
    out = tmp_path / "m.npz"
    out.write_bytes(b"an earlier model")
    before = fingerprint(out.read_bytes())
    _refused(["train", "--out", str(out), "--alpha", "2"], capsys, "got 2.0")
    _refused(["train", "--out", str(out), "--model", "dqn", "--gamma", "1"], capsys, "[0, 1)")
    assert fingerprint(out.read_bytes()) == before


# ---- fetch-data -------------------------------------------------------------------------------


def test_fetch_data_home_must_be_a_folder(tmp_path, capsys):
    home = tmp_path / "a file"
    home.write_text("x")
    _refused(["fetch-data", "--home", str(home)], capsys, f"--home {str(home)!r} is a file")
    assert home.read_text() == "x"
    _refused(["fetch-data", "--source", "kaggle"], capsys, "--source: invalid choice: 'kaggle'")


# ---- evaluate and recommend: files ------------------------------------------------------------

FILE_CASES = [
    ("truncated", "tables", "corrupt or truncated"),
    ("text", "tables", "corrupt or truncated"),
    ("foreign", "tables", "missing entries"),
    ("nan", "tables", "prior holds nan at position 3"),
    ("big", "tables", "a catalogue of 2000 movies, but MovieLens-100K has 1682"),
    ("small", "tables", "not trained on the top-50 MovieLens catalogue"),
    ("folder", "tables", "does not exist"),
    ("truncated", "network", "not a readable Q-network file"),
    ("foreign", "network", "foreign.npz"),
    ("tables", "network", "holds per-genre Q-tables, not a network: give it with --tables"),
]


@pytest.mark.parametrize("command", ["evaluate", "recommend"])
@pytest.mark.parametrize(("name", "flag", "message"), FILE_CASES,
                         ids=[f"{n}-as-{f}" for n, f, _ in FILE_CASES])  # fmt: skip
def test_bad_model_files(files, capsys, command, name, flag, message):
    path = files[name]
    before = None if path.is_dir() else fingerprint(path.read_bytes())
    extra = ["--movies", "50", "100", "258"] if command == "recommend" else []
    _refused([command, f"--{flag}", str(path), *extra], capsys, message)
    if before is not None:
        assert fingerprint(path.read_bytes()) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--k", "0"], "--k must be an integer >= 1, got 0"),
        (["--k", "=-1"], "got -1"),
        (["--k", "ten"], "--k must be an integer, got 'ten'"),
        (["--split", "train"], "--split: invalid choice: 'train'"),
        (["--model", "dqn"], "--model dqn is a network: give its file with --network"),
    ],
)
def test_evaluate_flags(files, capsys, args, message):
    flag, value = args
    _refused(["evaluate", "--tables", str(files["tables"]), *_option(flag, value)], capsys,
             message)  # fmt: skip


@pytest.mark.parametrize(
    ("movies", "message"),
    [
        (["Star Wars (1977)", "Fargo (1996)"], "give exactly 3 movies"),
        (["Star Wars", "Fargo", "Contact", "Toy Story"], "got 4"),
        (["Star Wars", "Fargo", "Contakt"], "unknown movie title 'Contakt'"),
        (["50", "100", "99999"], "unknown movie id 99999"),
        (["50", "100", "0"], "unknown movie id 0"),
        (["50", "100", "-5"], "'-5'"),
        (["Fargo", "Fargo (1996)", "Contact"], "the 3 movies must be different"),
        (["50", "100", "   "], "'   '"),
        (["50", "100", ""], "''"),
    ],
)
def test_recommend_bad_movies(files, capsys, movies, message):
    _refused(["recommend", "--tables", str(files["tables"]), "--movies", *movies], capsys,
             message)  # fmt: skip


@pytest.mark.parametrize("k", ["0", "=-2", "1.5"])
def test_recommend_k(files, capsys, k):
    _refused(["recommend", "--tables", str(files["tables"]), "--movies", "50", "100", "258",
              *_option("--k", k)], capsys, "--k must be an integer")  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate"],
        ["evaluate", "--tables", "a.npz", "--network", "b.npz"],
        ["recommend", "--tables", "a.npz"],
        ["train"],
        ["serve"],
        [],
    ],
    ids=["no-model", "both-models", "no-movies", "no-out", "unknown-command", "nothing"],
)
def test_usage_errors_are_one_line(capsys, argv):
    _refused(argv, capsys)


# ---- through the real entry point: no traceback, one line, status 2 ---------------------------


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("big", ["evaluate"], "MovieLens-100K has 1682"),
        ("nan", ["recommend", "--movies", "50", "100", "258"], "holds nan"),
        ("tables", ["recommend", "--k", "0", "--movies", "50", "100", "258"], "--k must be"),
        ("tables", ["recommend", "--movies", "1", "2"], "exactly 3 movies"),
    ],
)
def test_entry_point_prints_no_traceback(files, name, args, message):
    command, rest = args[0], args[1:]
    proc = subprocess.run(
        [sys.executable, "-m", "odsc_recsys", command, "--tables", str(files[name]), *rest],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and len(proc.stderr.splitlines()) == 1
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_the_largest_catalogue_is_movielens_own_size(tutorial_data):
    from odsc_recsys.datasets import fetch_movielens, read_source

    _, movies = read_source(fetch_movielens(progressbar=False))
    assert MOVIELENS_MOVIES == len(movies) == 1682
