"""The command line: a full round trip on MovieLens, and clear errors with exit status 2.

These tests use the real MovieLens-100K in the data folder (``make test`` fetches it first).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from odsc_recsys.__main__ import main
from odsc_recsys.datasets import DataUnavailableError, fetch_movielens


@pytest.fixture(scope="module")
def tables_file(tmp_path_factory):
    try:
        fetch_movielens(progressbar=False)
    except DataUnavailableError:  # pragma: no cover - only without data and network
        pytest.skip("MovieLens-100K is not available")
    path = tmp_path_factory.mktemp("cli") / "tables.npz"
    assert main(["train", "--out", str(path), "--epochs", "1", "--quiet"]) == 0
    return path


def test_round_trip_train_save_load_recommend(tables_file, capsys):
    capsys.readouterr()
    code = main(["recommend", "--tables", str(tables_file), "--movies", "Star Wars (1977)",
                 "Fargo (1996)", "Contact (1997)", "--k", "5"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "state: Star Wars (1977) | Fargo (1996) | Contact (1997) (scenario a)" in out
    lines = [line for line in out.splitlines()[2:] if line.strip()]
    assert len(lines) == 5  # five recommendations, each proposed by one of the state's movies
    labels = ("{Star Wars (1977)}", "{Fargo (1996)}", "{Contact (1997)}")
    assert all(line.rstrip().endswith(labels) for line in lines)
    assert all(line.split()[1] not in ("Star", "Fargo", "Contact") for line in lines)
    # the same state by MovieLens id (Star Wars 50, Fargo 100, Contact 258) gives the same list
    assert main(["recommend", "--tables", str(tables_file), "--movies", "50", "100", "258",
                 "--k", "5"]) == 0  # fmt: skip
    assert capsys.readouterr().out == out


def test_evaluate_prints_the_metrics(tables_file, capsys):
    assert main(["evaluate", "--tables", str(tables_file), "--split", "val"]) == 0
    out = capsys.readouterr().out
    assert "val split: 8,631 transitions" in out and "HR@10" in out and "NDCG@10" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--movies", "Star Wars (1977)", "Fargo (1996)"], "exactly 3 movies"),
        (["--movies", "Star Wars", "Fargo", "Contact", "Toy Story"], "exactly 3 movies"),
        (["--movies", "Star Wars", "Fargo", "Contakt"], "Did you mean: 'Contact (1997)'"),
        (["--movies", "50", "100", "99999"], "unknown movie id 99999"),
        (["--movies", "Fargo", "Fargo (1996)", "Contact"], "must be different"),
    ],
)
def test_bad_movies_exit_2(tables_file, capsys, args, message):
    assert main(["recommend", "--tables", str(tables_file), *args]) == 2
    assert message in capsys.readouterr().err


def test_missing_and_corrupt_tables_exit_2(tmp_path, tables_file, capsys):
    assert main(["evaluate", "--tables", str(tmp_path / "nope.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(tables_file.read_bytes()[:5000])  # truncated
    assert main(["recommend", "--tables", str(corrupt), "--movies", "a", "b", "c"]) == 2
    assert "corrupt or truncated" in capsys.readouterr().err


def test_bad_hyperparameter_and_usage_exit_2(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "t.npz"), "--alpha", "1.5"]) == 2
    assert "alpha" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "missing" / "t.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err
    # argparse's own errors (a missing required option) also exit 2, through the real entry point
    proc = subprocess.run([sys.executable, "-m", "odsc_recsys", "recommend"], capture_output=True,
                          text=True)  # fmt: skip
    assert proc.returncode == 2 and "--tables" in proc.stderr


def test_help_describes_every_command():
    proc = subprocess.run([sys.executable, "-m", "odsc_recsys", "--help"], capture_output=True,
                          text=True)  # fmt: skip
    assert proc.returncode == 0
    for command in ("fetch-data", "train", "evaluate", "recommend"):
        assert command in proc.stdout
