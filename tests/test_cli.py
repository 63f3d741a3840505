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
    assert proc.returncode == 2 and proc.stderr == (
        "error: the following arguments are required: --movies (python -m odsc_recsys "
        "recommend --help lists the options)\n"
    )


def test_help_describes_every_command():
    proc = subprocess.run([sys.executable, "-m", "odsc_recsys", "--help"], capture_output=True,
                          text=True)  # fmt: skip
    assert proc.returncode == 0
    for command in ("fetch-data", "train", "evaluate", "recommend"):
        assert command in proc.stdout


# ---- Q-networks: train --model ..., evaluate/recommend --network ------------------------------

TINY = ["--max-epochs", "1", "--hidden", "16", "--embed-dim", "8", "--quiet"]
STATE = ["Star Wars (1977)", "Fargo (1996)", "Contact (1997)"]


@pytest.fixture(scope="module")
def network_files(tables_file):
    """A tiny DQN and SQN (supervised head, the default), trained once for the module; also
    the summary line each train printed."""
    folder = tables_file.parent
    files, summaries = {}, {}
    for model in ("dqn", "sqn"):
        files[model] = folder / f"{model}.npz"
        code, out = _run(["train", "--model", model, "--out", str(files[model]), *TINY])
        assert code == 0
        summaries[model] = out
    return files, summaries


def _run(argv):
    """``main(argv)`` with its stdout captured (module-scoped fixtures cannot use capsys)."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(argv)
    return code, buf.getvalue()


@pytest.mark.parametrize("model", ["dqn", "sqn"])
def test_network_round_trip_train_evaluate_recommend(network_files, capsys, model):
    files, summaries = network_files
    path = files[model]
    summary = summaries[model]
    assert summary.startswith(f"trained {'DQN' if model == 'dqn' else 'SQN (supervised head)'}")
    assert "1 epoch, best epoch 1 (validation HR@10 0." in summary and " MB, " in summary
    assert len(summary.strip().splitlines()) == 1
    # evaluate on val gives the hit rate that early stopping saw (the same protocol)
    capsys.readouterr()
    assert main(["evaluate", "--network", str(path), "--split", "val"]) == 0
    out = capsys.readouterr().out
    assert "val split: 8,631 transitions" in out and "HR@10" in out and "NDCG@10" in out
    val_hr = summary.split("validation HR@10 ")[1].split(")")[0]
    assert float(out.splitlines()[-1].split()[-7]) == float(val_hr)  # HR@10, 4 decimals both
    # --model, when given, must match the file
    assert main(["evaluate", "--network", str(path), "--model", model, "--k", "5"]) == 0
    assert "HR@5" in capsys.readouterr().out
    # recommend: the state, then k movies with Q-values (DQN) or logits (SQN's supervised head)
    code = main(["recommend", "--network", str(path), "--movies", *STATE, "--k", "5"])
    out = capsys.readouterr().out
    assert code == 0
    column = "q_value" if model == "dqn" else "logit"
    assert out.startswith(f"state: {' | '.join(STATE)} (")
    assert out.splitlines()[1].split() == ["rank", "title", column]
    rows = [line for line in out.splitlines()[2:] if line.strip()]
    assert len(rows) == 5
    assert not any(title in row for row in rows for title in STATE)  # the state is excluded
    scores = [float(row.split()[-1]) for row in rows]
    assert scores == sorted(scores, reverse=True)
    # the same state by MovieLens id gives the same list
    assert main(["recommend", "--network", str(path), "--movies", "50", "100", "258",
                 "--k", "5"]) == 0  # fmt: skip
    assert capsys.readouterr().out == out


def test_network_defaults_and_sqn_head_are_saved(network_files, tmp_path, capsys):
    from odsc_recsys.deep import NetConfig, load_network

    files, _ = network_files
    # unset options take NetConfig's defaults (gamma 0.5, not the Q-tables' 0.4)
    dqn = load_network(files["dqn"])
    default = NetConfig()
    assert dqn.config == default.with_(max_epochs=1, hidden=16, embed_dim=8)
    assert dqn.config.gamma == default.gamma != 0.4
    assert load_network(files["sqn"]).head == "supervised"
    # --head q is recorded in the file, so recommend ranks by Q-values; options are kept
    path = tmp_path / "sqn_q.npz"
    assert main(["train", "--model", "sqn", "--head", "q", "--gamma", "0.3",
                 "--learning-rate", "0.01", "--batch-size", "512", "--out", str(path),
                 *TINY]) == 0  # fmt: skip
    capsys.readouterr()
    sqn = load_network(path)
    assert sqn.head == "q" and sqn.config.gamma == 0.3 and sqn.config.batch_size == 512
    assert sqn.config.learning_rate == 0.01
    assert main(["recommend", "--network", str(path), "--movies", *STATE, "--k", "3"]) == 0
    out = capsys.readouterr().out
    assert "Q-values of the Q head" in out and out.splitlines()[1].split()[-1] == "q_value"


@pytest.mark.parametrize(("model", "column"), [("dueling", "q_value"), ("supervised", "logit")])
def test_dueling_and_supervised_round_trip(tables_file, tmp_path, capsys, model, column):
    path = tmp_path / f"{model}.npz"
    assert main(["train", "--model", model, "--out", str(path), *TINY]) == 0
    capsys.readouterr()
    assert main(["recommend", "--network", str(path), "--model", model, "--movies", *STATE,
                 "--k", "3"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[-1] == column
    assert len([line for line in out.splitlines()[2:] if line.strip()]) == 3
    other = "dqn" if model == "dueling" else "sqn"
    assert main(["evaluate", "--network", str(path), "--model", other]) == 2
    assert f"which holds a {model} network" in capsys.readouterr().err


def test_train_help_quotes_netconfigs_defaults(capsys):
    from odsc_recsys.deep import NetConfig

    assert main(["train", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # undo argparse's line wrapping
    c = NetConfig()
    for flag, value in [("--hidden HIDDEN", c.hidden), ("--embed-dim EMBED_DIM", c.embed_dim),
                        ("--max-epochs MAX_EPOCHS", c.max_epochs)]:  # fmt: skip
        assert f"({value:g})" in out.rsplit(flag, 1)[1][:80]  # its entry, after the usage
    assert f"networks: in [0, 1) ({c.gamma:g})" in out
    assert "Q-tables: in [0, 1] (0.4)" in out


def test_qtables_defaults_are_unchanged():
    from odsc_recsys.__main__ import _qtable_config, build_parser

    args = build_parser().parse_args(["train", "--out", "t.npz"])
    config, readable = _qtable_config(args)
    assert (config.alpha, config.gamma, config.epsilon, config.epochs) == (0.8, 0.4, 0.3, 3)
    assert (config.reward, config.penalty, config.k, config.storage) == (15.0, 5.0, 10, "dense")
    assert readable is False


def test_bad_network_files_exit_2(tmp_path, tables_file, network_files, capsys):
    files, _ = network_files
    assert main(["evaluate", "--network", str(tmp_path / "nope.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(files["dqn"].read_bytes()[:3000])  # truncated
    assert main(["recommend", "--network", str(corrupt), "--movies", "a", "b", "c"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not a readable Q-network file" in err
    assert len(err.strip().splitlines()) == 1
    # a file of the other kind, under either flag, is named for what it holds
    assert main(["evaluate", "--network", str(tables_file)]) == 2
    assert "holds per-genre Q-tables, not a network: give it with --tables" in (
        capsys.readouterr().err
    )
    assert main(["evaluate", "--tables", str(files["sqn"])]) == 2
    assert "holds a sqn network, not Q-tables: give it with --network" in capsys.readouterr().err
    # --model must agree with the file
    assert main(["evaluate", "--network", str(files["dqn"]), "--model", "sqn"]) == 2
    assert "--model sqn does not match" in capsys.readouterr().err
    assert main(["evaluate", "--network", str(files["dqn"]), "--model", "qtables"]) == 2
    assert "--model qtables needs --tables" in capsys.readouterr().err
    assert main(["recommend", "--tables", str(tables_file), "--model", "dueling",
                 "--movies", *STATE]) == 2  # fmt: skip
    assert "give its file with --network" in capsys.readouterr().err


def test_network_from_another_catalogue_exit_2(tmp_path, network_files, capsys):
    from odsc_recsys.deep import load_network

    model = load_network(network_files[0]["dqn"])
    model.item_ids = model.item_ids[::-1].copy()  # same size, another order of movies
    other = model.save(tmp_path / "other.npz")
    assert main(["evaluate", "--network", str(other)]) == 2
    assert "trained on another catalogue" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "--tables", "a.npz", "--network", "b.npz"],
         "argument --network: not allowed with argument --tables"),
        (["recommend", "--network", "b.npz", "--tables", "a.npz", "--movies", "1", "2", "3"],
         "argument --tables: not allowed with argument --network"),
        (["evaluate"], "one of the arguments --tables --network is required"),
        (["recommend", "--movies", "1", "2", "3"],
         "one of the arguments --tables --network is required"),
        (["train", "--model", "xgboost", "--out", "m.npz"],
         "argument --model: invalid choice: 'xgboost' (choose from 'qtables', 'dqn', 'dueling', "
         "'sqn', 'supervised')"),
        (["evaluate", "--network", "m.npz", "--model", "bert"], "argument --model: invalid"),
        (["evaluate", "--network", "m.npz", "--k", "0"],
         "error: --k must be an integer >= 1, got 0 (python -m odsc_recsys evaluate --help"),
        (["train", "--out", "m.npz", "--seed", "-1"], "error: --seed must be an integer >= 0"),
    ],
)  # fmt: skip
def test_argparse_errors_exit_2(capsys, argv, message):
    assert main(argv) == 2  # the parser's errors too: a status, never SystemExit
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: ") and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--model", "dqn", "--gamma", "1.0"],
            "--gamma must be a finite number in [0, 1), got 1.0",
        ),
        (  # out of every model's range: refused when parsed
            ["--model", "sqn", "--gamma", "-0.1"],
            "--gamma (discount factor) must be in [0, 1], got -0.1",
        ),
        (["--model", "dueling", "--hidden", "0"], "--hidden must be an integer in [1, 65536]"),
        (["--model", "dqn", "--embed-dim", "0"], "--embed-dim must be an integer in [1, 4096]"),
        (
            ["--model", "supervised", "--learning-rate", "0"],
            "--learning-rate must be a finite number in (0, 1], got 0.0",
        ),
        (["--model", "dqn", "--batch-size", "0"], "--batch-size must be an integer in"),
        (["--model", "dqn", "--max-epochs", "0"], "--max-epochs must be an integer in"),
        (["--model", "dqn", "--patience", "0"], "--patience must be an integer in"),
        (["--model", "dqn", "--alpha", "0.5"], "--alpha is an option of --model qtables"),
        (["--model", "sqn", "--readable"], "--readable is an option of --model qtables"),
        (["--model", "dueling", "--head", "q"], "--head is an option of --model sqn"),
        (["--hidden", "16"], "--hidden is an option of the network models"),
        (["--model", "qtables", "--head", "q"], "--head is an option of the network models"),
        (["--gamma", "1.5"], "gamma (discount factor) must be in [0, 1]"),  # the tables' range
        (["--model", "dqn", "--n-items", "5000"], "--n-items must be an integer in [1, 1682], got 5000"),
    ],
)
def test_bad_train_options_exit_2(tmp_path, capsys, args, message):
    assert main(["train", "--out", str(tmp_path / "m.npz"), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.npz").exists()


def test_cli_constants_mirror_the_package():
    """The CLI keeps copies so that --help need not import JAX; they must not drift."""
    from odsc_recsys.__main__ import QTABLE_DEFAULTS, SQN_HEADS
    from odsc_recsys.deep.models import SQN_HEADS as PACKAGE_HEADS
    from odsc_recsys.training import TrainConfig

    assert SQN_HEADS == PACKAGE_HEADS
    defaults = TrainConfig().as_dict()
    assert {k: v for k, v in QTABLE_DEFAULTS.items() if k != "readable"} == {
        k: defaults[k] for k in QTABLE_DEFAULTS if k != "readable"
    }


@pytest.mark.parametrize(("preset", "name"), [(None, "AS_PUBLISHED"), ("as-published", "AS_PUBLISHED"),
                                              ("as-coded", "AS_CODED"), ("tuned", "TUNED")])  # fmt: skip
def test_presets_are_the_packages_named_configurations(preset, name):
    from odsc_recsys import training
    from odsc_recsys.__main__ import _qtable_config, build_parser

    argv = ["train", "--out", "t.npz"] + (["--preset", preset] if preset else [])
    config, readable = _qtable_config(build_parser().parse_args(argv))
    assert config == getattr(training, name) and readable is False


def test_options_override_the_preset():
    from odsc_recsys.__main__ import _qtable_config, build_parser
    from odsc_recsys.training import TUNED

    args = build_parser().parse_args(["train", "--out", "t.npz", "--preset", "tuned",
                                      "--alpha", "0.01", "--epochs", "2"])  # fmt: skip
    assert _qtable_config(args)[0] == TUNED.with_(alpha=0.01, epochs=2)


def test_train_with_the_tuned_preset_says_so(tmp_path, tables_file, capsys):
    out = tmp_path / "tuned.npz"
    assert main(["train", "--out", str(out), "--preset", "tuned", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "(tuned preset: alpha 0.005, gamma 0.9, epsilon 0.1, penalty 0)" in printed
    assert "x 1 epochs" in printed and out.is_file()


def test_preset_is_refused_with_a_network_and_checked_by_argparse(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "m.npz"), "--model", "dqn", "--preset",
                 "tuned", "--quiet"]) == 2  # fmt: skip
    assert "--preset is an option of --model qtables" in capsys.readouterr().err
    assert main(["train", "--out", "m.npz", "--preset", "best"]) == 2
    assert "argument --preset: invalid choice: 'best'" in capsys.readouterr().err


def test_preset_copies_mirror_the_package():
    from odsc_recsys.__main__ import QTABLE_DEFAULTS, QTABLE_PRESETS
    from odsc_recsys.training import AS_CODED, AS_PUBLISHED, TUNED

    for name, config in (("as-published", AS_PUBLISHED), ("as-coded", AS_CODED),
                         ("tuned", TUNED)):  # fmt: skip
        values = {**QTABLE_DEFAULTS, **QTABLE_PRESETS[name]}
        values.pop("readable")
        assert config == AS_PUBLISHED.with_(**values), name
