"""Command line: ``python -m odsc_recsys <command>`` (also installed as ``odsc-recsys``).

Commands
--------
fetch-data  Download and verify MovieLens-100K into the data folder (GroupLens, else PyPI).
train       Train a model on the training split and save it (.npz): per-genre Q-tables
            (``--model qtables``, the default) or a Q-network (``--model dqn``, ``dueling``,
            ``sqn`` or ``supervised``, early-stopped on the validation split).
evaluate    Evaluate saved Q-tables (``--tables FILE``) or a saved network (``--network FILE``)
            on the validation or test split.
recommend   Recommend movies after three movies given by title or MovieLens id.

Examples::

    python -m odsc_recsys train --out tables.npz
    python -m odsc_recsys train --preset tuned --out tuned.npz
    python -m odsc_recsys train --model dqn --out dqn.npz
    python -m odsc_recsys train --model sqn --head q --max-epochs 5 --out sqn.npz
    python -m odsc_recsys evaluate --network dqn.npz
    python -m odsc_recsys recommend --network dqn.npz --movies "Star Wars" Fargo Contact

``--model`` is optional for ``evaluate`` and ``recommend`` (the file says what it holds); when
given, it must match the file. Options of one family of models (``--alpha`` for the tables,
``--hidden`` for the networks, ...) are refused with the other.

Bad input (a missing or corrupt file, a file of the wrong kind, an option out of range, an
unknown movie, the wrong number of movies) prints one clear ``error:`` line and exits with
status 2. Every option's range is checked while the command line is parsed, before any data
loads; the Q-table and network options are checked by the fields of ``TrainConfig`` and
``NetConfig`` themselves, so the command line and the package never disagree. ``fetch-data``
exits with status 1 when no source can provide the data (the network, not the input, failed).
"""

from __future__ import annotations

import argparse
import re
import sys
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import checks

EXIT_USAGE = 2

#: Movies in MovieLens-100K: the largest catalogue ``--n-items`` can ask for (a test checks it
#: against the data).
MOVIELENS_MOVIES = 1682

#: What ``train --model`` can train; every model but the first is a Q-network.
MODELS = ("qtables", "dqn", "dueling", "sqn", "supervised")
NETWORK_MODELS = MODELS[1:]

#: Defaults of the Q-table options (the paper's as-published hyperparameters).
QTABLE_DEFAULTS = {
    "epochs": 3, "alpha": 0.8, "gamma": 0.4, "epsilon": 0.3, "reward": 15.0, "penalty": 5.0,
    "k": 10, "storage": "dense", "readable": False,
}  # fmt: skip

#: ``train --preset``: named Q-table configurations (copies of ``training.AS_PUBLISHED``,
#: ``AS_CODED`` and ``TUNED``, kept here so that --help need not import the trainer; a test
#: checks that they match). Options given on the command line override the preset's values.
QTABLE_PRESETS: dict[str, dict[str, object]] = {
    "as-published": {},  # the defaults above: the paper's hyperparameters and replay rule
    "as-coded": {
        "one_per_substate": True,
        "proposer_only": True,
        "bootstrap_ignored": False,
        "epochs": 1,
    },
    "tuned": {"alpha": 0.005, "gamma": 0.9, "epsilon": 0.1, "penalty": 0.0, "epochs": 1},
}

#: Options that only the Q-tables use: flag -> attribute.
QTABLE_FLAGS = {
    "--preset": "preset", "--epochs": "epochs", "--alpha": "alpha", "--epsilon": "epsilon",
    "--reward": "reward", "--penalty": "penalty", "--storage": "storage",
    "--readable": "readable",
}  # fmt: skip

#: Options that set a NetConfig field: flag -> field (also the argparse attribute).
NETWORK_FLAGS = {
    "--gamma": "gamma", "--max-epochs": "max_epochs", "--patience": "patience",
    "--learning-rate": "learning_rate", "--batch-size": "batch_size", "--hidden": "hidden",
    "--embed-dim": "embed_dim", "--k": "k",
}  # fmt: skip

#: How ``recommend`` names each kind of network.
MODEL_LABELS = {
    "dqn": "DQN",
    "dueling": "dueling DQN",
    "sqn": "SQN",
    "supervised": "supervised network",
}

#: The SQN's heads (``odsc_recsys.deep.models.SQN_HEADS``).
SQN_HEADS = ("supervised", "q")


#: What ``add_subparsers`` returns and what ``add_argument_group`` returns: argparse names their
#: classes privately, so the parser helpers take them untyped.
Subcommands = Any
OptionGroup = Any


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse with the package's one-line errors: ``error: --k must be an integer >= 1, got
    '0' (python -m odsc_recsys recommend --help lists the options)``, then exit status 2."""

    def error(self, message: str) -> typing.NoReturn:
        # "argument --k: --k must ..." -> "--k must ...": the flag is named once
        message = re.sub(r"^argument (\S+?)(?:/\S+)?: (\1\b)", r"\2", message)
        self.exit(EXIT_USAGE, f"error: {_one_line(message)} ({self.prog} --help lists the "
                              "options)\n")  # fmt: skip


def _one_line(message: object) -> str:
    """A message on one line (the command line's promise: one clear ``error:`` line)."""
    return re.sub(r"\s*\n\s*", " ", str(message)).strip()


#: A parse-time range check: ``check(field, value)`` raises a ``ValueError`` whose message
#: starts with ``field`` (``"k must be an integer >= 1, got 0"``).
FlagCheck = Callable[[str, Any], object]


def _flag_type(flag: str, kind: type, check: FlagCheck | None = None) -> Callable[[str], Any]:
    """An argparse ``type`` that parses ``flag``'s text as ``kind`` and range-checks it at
    parse time with ``check``, called with the flag's field name (``--learning-rate`` ->
    ``learning_rate``), so that the error can name the flag instead."""
    what = "an integer" if kind is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be {what}, got {text!r}") from None
        if check is not None:
            field = _field(flag)
            try:
                check(field, value)
            except ValueError as err:
                raise argparse.ArgumentTypeError(_flag_message(flag, field, err)) from None
        return value

    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


def _field(flag: str) -> str:
    """``--learning-rate`` -> ``learning_rate``: the config field (and check name) of a flag."""
    return flag.lstrip("-").replace("-", "_")


def _train_field(field: str, value: Any) -> object:
    """The check of a Q-table option: the field of :class:`~odsc_recsys.training.TrainConfig`
    (imported only when the option is given)."""
    from .training import AS_PUBLISHED

    return AS_PUBLISHED.with_(**{field: value})


def _net_field(field: str, value: Any) -> object:
    """The check of a network option: the field of :class:`~odsc_recsys.deep.NetConfig`
    (imported only when the option is given: it imports JAX)."""
    from .deep.config import NetConfig

    return NetConfig().with_(**{field: value})


def _existing_folder_for(flag: str) -> Callable[[str], Path]:
    """A path whose folder exists and which is not itself a folder (``--out``)."""

    def parse(text: str) -> Path:
        path = Path(text)
        if not path.parent.is_dir():
            raise argparse.ArgumentTypeError(f"{flag} {text!r}: folder {str(path.parent)!r} "
                                             "does not exist")  # fmt: skip
        if path.is_dir():
            raise argparse.ArgumentTypeError(f"{flag} {text!r} is a folder: give a file name")
        return path

    return parse


def _at_least(low: int) -> FlagCheck:
    return lambda field, value: checks.integer(field, value, low)


def _n_items(field: str, value: Any) -> int:
    return checks.integer(field, value, 1, MOVIELENS_MOVIES)


def _gamma(field: str, value: Any) -> float:
    """The widest range of ``--gamma`` (the tables'); a network narrows it to [0, 1)."""
    return checks.gamma(value)


def _data_home(text: str) -> str:
    """``fetch-data --home``: a folder, or a path where one can be made (not a file)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"--home {text!r} is a file, not a folder")
    return text


def _flag_message(flag: str, field: str, err: Exception) -> str:
    """``"gamma must be in ..."`` -> ``"--gamma must be in ..."``: name the flag the user typed."""
    msg = str(err)
    if msg.startswith(f"{field} "):
        return f"{flag}{msg[len(field) :]}"
    return f"{flag}: {msg}"


def _cmd_fetch_data(args: argparse.Namespace) -> int:
    from .datasets import DataUnavailableError, fetch_movielens, read_source

    try:
        result = fetch_movielens("ml-100k", source=args.source, home=args.home)
    except DataUnavailableError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    ratings, movies = read_source(result)
    print(
        f"MovieLens-100K ready from {result.source}: {len(ratings):,} ratings, "
        f"{ratings.user_id.nunique()} users, {len(movies):,} movies"
    )
    return 0


def _tutorial_data(n_items: int, source: str | None = None):
    """The tutorial data of the top-``n_items`` catalogue; ``source`` names the saved model
    whose catalogue this is (``--n-items`` is range-checked when parsed)."""
    from .sessions import load_tutorial_data

    if source is not None and n_items > MOVIELENS_MOVIES:
        raise CliError(f"{source} was trained on a catalogue of {n_items} movies, but "
                       f"MovieLens-100K has {MOVIELENS_MOVIES}: it was not trained on this "
                       "data")  # fmt: skip
    return load_tutorial_data(n_items=n_items)


# -- files ------------------------------------------------------------------------------------


def _network_model_name(model) -> str:
    """The ``--model`` value that trains this network."""
    return "dueling" if model.kind == "dqn" and model.config.dueling else model.kind


def _holds_network(path: Path) -> str | None:
    """The ``--model`` name if ``path`` is a readable network file, else None."""
    from .deep import load_network

    try:
        return _network_model_name(load_network(path))
    except (ValueError, FileNotFoundError):
        return None


def _holds_tables(path: Path) -> bool:
    from .qtables import GenreQTables

    try:
        return isinstance(GenreQTables.load(path), GenreQTables)
    except ValueError:
        return False


def _load_tables(path: str, n_items: int | None = None):
    from .qtables import GenreQTables

    p = Path(path)
    if not p.is_file():
        raise CliError(f"tables file {path!r} does not exist (create it with the train command)")
    try:
        tables = GenreQTables.load(p)
    except ValueError as err:
        kind = _holds_network(p)
        if kind is not None:
            raise CliError(
                f"{path!r} holds a {kind} network, not Q-tables: give it with --network"
            ) from None
        raise CliError(str(err)) from None
    if not isinstance(tables, GenreQTables):
        raise CliError(f"{path!r} holds a single full-state table, not per-genre tables")
    return tables


def _data_for(tables, path: str, genre_strategy: str = "paper"):
    """The tutorial data whose catalogue these tables were trained on (checked)."""
    from .training import tables_match

    data = _tutorial_data(tables.n_items, source=repr(path))
    if not tables_match(tables, data.catalog, genre_strategy):
        raise CliError(
            "these tables were not trained on the top-"
            f"{tables.n_items} MovieLens catalogue with the '{genre_strategy}' genre rule"
        )
    return data


def _load_network(path: str):
    """A saved network and the tutorial data of its catalogue (checked against the file)."""
    from .deep import load_network

    p = Path(path)
    try:
        model = load_network(p)
    except FileNotFoundError as err:
        raise CliError(f"{err} (create it with: train --model dqn --out FILE)") from None
    except ValueError as err:
        if p.is_file() and _holds_tables(p):
            raise CliError(
                f"{path!r} holds per-genre Q-tables, not a network: give it with --tables"
            ) from None
        raise CliError(str(err)) from None
    data = _tutorial_data(model.n_items, source=repr(str(p)))
    try:
        model.check_catalog(data.catalog.item_ids, source=repr(str(p)))
    except ValueError as err:
        raise CliError(str(err)) from None
    return model, data


def _load_model(args: argparse.Namespace):
    """``(model, data, kind)`` from ``--tables`` or ``--network``, checked against ``--model``."""
    if args.tables is not None:
        if args.model not in (None, "qtables"):
            raise CliError(
                f"--model {args.model} is a network: give its file with --network "
                "(--tables is for per-genre Q-tables)"
            )
        tables = _load_tables(args.tables)
        return tables, _data_for(tables, args.tables), "qtables"
    if args.model == "qtables":
        raise CliError("--model qtables needs --tables FILE (--network is for Q-networks)")
    model, data = _load_network(args.network)
    kind = _network_model_name(model)
    if args.model is not None and args.model != kind:
        raise CliError(f"--model {args.model} does not match {args.network!r}, which holds a "
                       f"{kind} network")  # fmt: skip
    return model, data, kind


# -- train ------------------------------------------------------------------------------------


def _given(args: argparse.Namespace, flags: dict[str, str]) -> list[str]:
    return [flag for flag, attr in flags.items() if getattr(args, attr) is not None]


def _qtable_config(args: argparse.Namespace):
    """The TrainConfig of ``train --model qtables``: the preset's values (the paper's by
    default), with the options given on the command line."""
    from .training import TrainConfig

    wrong = _given(args, {f: a for f, a in NETWORK_FLAGS.items() if f not in ("--gamma", "--k")})
    if args.head is not None:
        wrong.append("--head")
    if wrong:
        raise CliError(f"{wrong[0]} is an option of the network models "
                       f"({', '.join(NETWORK_MODELS)}), not of --model qtables")  # fmt: skip
    preset = {**QTABLE_DEFAULTS, **QTABLE_PRESETS[args.preset or "as-published"]}
    values = {
        name: default if getattr(args, name, None) is None else getattr(args, name)
        for name, default in preset.items()
    }
    readable = values.pop("readable")
    try:
        return TrainConfig(**values), readable
    except ValueError as err:
        raise CliError(str(err)) from None


def _net_config(args: argparse.Namespace):
    """The NetConfig of ``train --model <network>``: NetConfig's defaults, with the options
    given. Each option is checked alone, so the error names the flag that is out of range."""
    from .deep import NetConfig

    wrong = _given(args, QTABLE_FLAGS)
    if wrong:
        raise CliError(f"{wrong[0]} is an option of --model qtables, not of --model "
                       f"{args.model}")  # fmt: skip
    if args.head is not None and args.model != "sqn":
        raise CliError(f"--head is an option of --model sqn, not of --model {args.model}")
    base = NetConfig()
    changes: dict[str, object] = {"dueling": args.model == "dueling"}
    for flag, field in NETWORK_FLAGS.items():
        value = getattr(args, field)
        if value is None:
            continue
        try:
            base.with_(**{field: value})
        except ValueError as err:
            raise CliError(_flag_message(flag, field, err)) from None
        changes[field] = value
    return base.with_(**changes)


def _values(config: dict[str, object]) -> str:
    """``"alpha 0.8, gamma 0.4, epsilon 0.3, penalty 5, 3 epochs"`` for --help."""
    epochs = config["epochs"]
    return (f"alpha {config['alpha']:g}, gamma {config['gamma']:g}, epsilon "
            f"{config['epsilon']:g}, penalty {config['penalty']:g}, {epochs} "
            f"epoch{'s' if epochs != 1 else ''}")  # fmt: skip


def _train_tables(args: argparse.Namespace) -> int:
    import numpy as np

    from .training import train

    config, readable = _qtable_config(args)
    out = args.out
    data = _tutorial_data(args.n_items)
    tables, curve = train(data.catalog, data.split.train, config,
                          np.random.default_rng(args.seed), fast=not readable,
                          progress=not args.quiet)  # fmt: skip
    tables.save(out)
    last = curve.iloc[-1]
    print(
        f"trained {tables.n_tables} genre tables ({args.preset or 'as-published'} preset: "
        f"alpha {config.alpha:g}, gamma {config.gamma:g}, epsilon {config.epsilon:g}, penalty "
        f"{config.penalty:g}) on {len(data.split.train):,} transitions x "
        f"{config.epochs} epochs (online hit rate {last['train_hit_rate']:.3f}, "
        f"explored {last['explored']:.1%}); saved {out} ({out.stat().st_size / 1e6:.1f} MB)"
    )
    return 0


def _new_network(model: str, config, head: str | None):
    from .deep import DQNRecommender, SQNRecommender, SupervisedRecommender

    if model in ("dqn", "dueling"):
        return DQNRecommender(config)  # config.dueling tells them apart
    if model == "sqn":
        return SQNRecommender(config, head=head or "supervised")
    return SupervisedRecommender(config)


def _train_network(args: argparse.Namespace) -> int:
    import numpy as np

    config = _net_config(args)
    out = args.out
    data = _tutorial_data(args.n_items)
    model = _new_network(args.model, config, args.head)
    model.fit(data.split.train, data.catalog.n_items, np.random.default_rng(args.seed),
              val=data.split.val, histories=data.histories, item_ids=data.catalog.item_ids,
              progress=not args.quiet)  # fmt: skip
    model.save(out)
    curve = model.curve
    best = curve.loc[curve["epoch"] == model.best_epoch].iloc[0]
    hr = f"HR@{config.k}"
    print(
        f"trained {model.name} on {len(data.split.train):,} transitions: {len(curve)} "
        f"epoch{'s' if len(curve) != 1 else ''}, "
        f"best epoch {model.best_epoch} (validation {hr} {best[f'val_{hr}']:.4f}); saved {out} "
        f"({out.stat().st_size / 1e6:.2f} MB, {model.n_parameters:,} parameters)"
    )
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    if args.model == "qtables":
        return _train_tables(args)
    return _train_network(args)


# -- evaluate, recommend ----------------------------------------------------------------------


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .metrics import evaluate

    model, data, kind = _load_model(args)
    if kind == "qtables":
        model = model.as_recommender("per-genre Q-tables")
    transitions = getattr(data.split, args.split)
    row = evaluate(model, transitions, k=args.k, catalog=data.catalog,
                   histories=data.histories)  # fmt: skip
    print(f"{args.split} split: {len(transitions):,} transitions")
    print(row.drop(columns="n").round(4).to_string())
    return 0


def _resolve_movie(catalog, text: str) -> int:
    """A catalogue index from a title or a MovieLens id."""
    if text.strip().isdigit():
        try:
            return catalog.index_of(int(text))
        except ValueError as err:
            raise CliError(str(err)) from None
    try:
        return catalog.find(text)
    except ValueError as err:
        raise CliError(str(err)) from None


def _cmd_recommend(args: argparse.Namespace) -> int:
    if len(args.movies) != 3:
        raise CliError(
            f"give exactly 3 movies (the state is the last 3 watched), got {len(args.movies)}"
        )
    model, data, kind = _load_model(args)
    catalog = data.catalog
    state = [_resolve_movie(catalog, m) for m in args.movies]
    if len(set(state)) != 3:
        raise CliError(f"the 3 movies must be different, got {[catalog.titles[i] for i in state]}")
    titles = " | ".join(catalog.titles[i] for i in state)
    if kind == "qtables":
        recs = model.recommend(state, k=args.k)
        print(f"state: {titles} (scenario {model.scenario(state)})")
        frame = model.recommendations_frame(recs, catalog.titles)
        print(frame.drop(columns="item").round(3).to_string(index=False))
        return 0

    import numpy as np
    import pandas as pd

    from .protocol import top_k

    scores = model.score(state)
    items = top_k(scores, args.k, exclude=state)  # what model.recommend returns, scored once
    if model.head == "q":
        column, scores_are = "q_value", "Q-values of the Q head"
    else:
        column, scores_are = "logit", "logits of the supervised head"
    print(f"state: {titles} ({MODEL_LABELS[kind]}; scores: {scores_are})")
    frame = pd.DataFrame({
        "rank": np.arange(1, len(items) + 1),
        "title": [catalog.titles[i] for i in items],
        column: scores[items],
    })  # fmt: skip
    print(frame.round(3).to_string(index=False))
    return 0


# -- the parser -------------------------------------------------------------------------------


def _add_model_source(parser: argparse.ArgumentParser) -> None:
    """``--tables FILE | --network FILE`` (exactly one) and an optional ``--model`` check."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--tables", metavar="FILE",
                        help="per-genre Q-tables written by train (.npz)")  # fmt: skip
    source.add_argument("--network", metavar="FILE",
                        help="a Q-network written by train --model dqn|dueling|sqn|supervised")  # fmt: skip
    parser.add_argument("--model", choices=MODELS, default=None,
                        help="optional check: the kind of model the file must hold "
                        "(default: whatever it holds)")  # fmt: skip


def _network_defaults(argv: Sequence[str]) -> dict[str, object] | None:
    """NetConfig's defaults for ``train --help``, read only when that help is asked for:
    importing the networks imports JAX (about a second), which no other command line needs
    before it trains or loads a network."""
    if "train" not in argv or not {"-h", "--help"} & set(argv):
        return None
    from .deep import NetConfig

    return NetConfig().as_dict()


def build_parser(network_defaults: dict[str, object] | None = None) -> argparse.ArgumentParser:
    """The parser; ``network_defaults`` (NetConfig's fields) only feeds ``train --help``."""
    parser = Parser(
        prog="python -m odsc_recsys",
        description="odsc-recsys: recommender systems with reinforcement learning, per-genre "
        "Q-tables and Q-networks, on MovieLens-100K.",
        epilog="Example: python -m odsc_recsys train --out tables.npz && python -m odsc_recsys "
        'recommend --tables tables.npz --movies "Star Wars (1977)" "Fargo (1996)" "Contact '
        '(1997)". Networks: train --model dqn --out dqn.npz, then --network dqn.npz.',
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    _add_fetch_data(sub)
    _add_train(sub, network_defaults)
    _add_evaluate(sub)
    _add_recommend(sub)
    return parser


def _add_fetch_data(sub: Subcommands) -> None:
    fetch = sub.add_parser(
        "fetch-data",
        help="download and verify MovieLens-100K",
        description="Download MovieLens-100K into the data folder and verify its checksum. "
        "GroupLens is tried first; if it is unreachable, the copy inside the recbole wheel on "
        "PyPI is used (only its data files are extracted). Data already present is reused.",
    )
    fetch.add_argument("--source", choices=["auto", "grouplens", "recbole"], default="auto",
                       help="where to fetch from (default: auto = GroupLens, then PyPI)")  # fmt: skip
    fetch.add_argument("--home", default=None, type=_data_home,
                       help="data folder (default: $ODSC_RECSYS_DATA, else the checkout's data/)")  # fmt: skip
    fetch.set_defaults(func=_cmd_fetch_data)


def _add_train(sub: Subcommands, network_defaults: dict[str, object] | None) -> None:
    def n(field: str) -> str:  # a network option's default, for --help
        return "NetConfig's default" if network_defaults is None else f"{network_defaults[field]:g}"

    q = QTABLE_DEFAULTS
    tr = sub.add_parser(
        "train",
        help="train per-genre Q-tables or a Q-network and save it",
        description="Train a model on the training split of MovieLens-100K (top-N catalogue, "
        "chronological split) and save it to one .npz file. --model qtables (the default) "
        "replay-trains one Q-table per genre, as the paper does, with its as-published "
        "hyperparameters, or with a --preset: as-coded (the rules of the talk's code) or "
        "tuned (notebook 07's validation search). --model dqn, dueling, sqn or supervised "
        "trains a Q-network (JAX) "
        "with early stopping on the validation split; each option's default depends on the "
        "model, and options of the other family are refused.",
    )
    tr.add_argument("--out", required=True, type=_existing_folder_for("--out"),
                    help="where to write the model (.npz)")  # fmt: skip
    tr.add_argument("--model", choices=MODELS, default="qtables",
                    help="what to train: per-genre Q-tables (default), a DQN, a dueling DQN, an "
                    "SQN (supervised + Q head) or the supervised network alone")  # fmt: skip
    tr.add_argument("--gamma", type=_flag_type("--gamma", float, _gamma), default=None,
                    help=f"discount; Q-tables: in [0, 1] ({q['gamma']}); networks: in [0, 1) "
                    f"({n('gamma')})")  # fmt: skip
    tr.add_argument("--k", type=_flag_type("--k", int, _at_least(1)), default=None,
                    help=f"list length: of training (Q-tables, {q['k']}) or of the validation "
                    f"HR@k that early stopping watches (networks, {n('k')})")  # fmt: skip
    tr.add_argument("--seed", type=_flag_type("--seed", int, _at_least(0)), default=0,
                    help="seed of the exploration or of the initial weights and shuffling (0)")  # fmt: skip
    tr.add_argument("--n-items", default=627, type=_flag_type("--n-items", int, _n_items),
                    help=f"catalogue size, 1 to {MOVIELENS_MOVIES} (627)")  # fmt: skip
    tr.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_qtable_options(tr)
    _add_network_options(tr, n)
    tr.set_defaults(func=_cmd_train)


def _add_unset_options(
    group: OptionGroup, options: list[tuple[str, type, str]], check: FlagCheck
) -> None:
    """``(flag, type, help)`` options whose default is None: "not given", so that the model's
    own default (or the preset's value) applies and a family's option given to the other
    family can be refused. ``check`` range-checks the value at parse time."""
    for flag, kind, text in options:
        group.add_argument(flag, type=_flag_type(flag, kind, check), default=None, help=text)


def _add_qtable_options(train: argparse.ArgumentParser) -> None:
    q = QTABLE_DEFAULTS
    tt = train.add_argument_group("Q-table options (--model qtables; each option overrides the "
                                  "preset's value)")  # fmt: skip
    tt.add_argument("--preset", choices=list(QTABLE_PRESETS), default=None,
                    help=f"as-published (default): the paper's {_values(q)}; as-coded: the "
                    "same with the talk's code's rules (one movie per sub-state, only the "
                    "proposer updated, no future value for ignored movies) and its single "
                    "pass; tuned: "
                    f"{_values({**q, **QTABLE_PRESETS['tuned']})} (notebook 07's validation "
                    "search)")  # fmt: skip
    _add_unset_options(tt, [
        ("--epochs", int, f"passes over the training data ({q['epochs']})"),
        ("--alpha", float, f"learning rate in (0, 1] ({q['alpha']})"),
        ("--epsilon", float, f"exploration in [0, 1] ({q['epsilon']})"),
        ("--reward", float, f"reward of the watched movie ({q['reward']:g})"),
        ("--penalty", float, f"penalty of the others ({q['penalty']:g})"),
    ], _train_field)  # fmt: skip
    tt.add_argument("--storage", choices=["dense", "lazy", "sparse"], default=None,
                    help="dense tables (the paper's, default), lazy rows (allocated on first "
                    "write) or sparse rows (only the written entries); all give the same values")  # fmt: skip
    tt.add_argument("--readable", action="store_true", default=None,
                    help="use the readable Python loop instead of the compiled fast path")  # fmt: skip


def _add_network_options(train: argparse.ArgumentParser, n: Callable[[str], str]) -> None:
    """The networks' options; ``n(field)`` is the default that ``--help`` shows."""
    tn = train.add_argument_group("network options (--model dqn, dueling, sqn, supervised)")
    _add_unset_options(tn, [
        ("--max-epochs", int,
         f"at most this many passes over the replay buffer ({n('max_epochs')})"),
        ("--patience", int,
         f"stop after this many epochs without a better validation HR@k ({n('patience')})"),
        ("--learning-rate", float, f"Adam's step size in (0, 1] ({n('learning_rate')})"),
        ("--batch-size", int, f"transitions per minibatch ({n('batch_size')})"),
        ("--hidden", int, f"width of the hidden layer ({n('hidden')})"),
        ("--embed-dim", int, f"size of each movie's embedding ({n('embed_dim')})"),
    ], _net_field)  # fmt: skip
    tn.add_argument("--head", choices=SQN_HEADS, default=None,
                    help="sqn only: the head that scores and that early stopping watches "
                    "(supervised); saved in the file, so evaluate and recommend use it")  # fmt: skip


def _add_model_command(
    sub: Subcommands, name: str, help_: str, description: str
) -> argparse.ArgumentParser:
    """A command that reads a saved model: ``--tables FILE | --network FILE`` and ``--model``."""
    command = sub.add_parser(name, help=help_, description=description)
    _add_model_source(command)
    return command


def _add_evaluate(sub: Subcommands) -> None:
    ev = _add_model_command(
        sub,
        "evaluate",
        "evaluate saved Q-tables or a saved network",
        "Evaluate saved Q-tables (--tables) or a saved Q-network (--network) with "
        "the shared protocol (HR@k, NDCG@k, MRR, coverage, novelty, diversity) on the test or "
        "validation split.",
    )
    ev.add_argument("--split", choices=["test", "val"], default="test", help="split (test)")
    ev.add_argument("--k", type=_flag_type("--k", int, _at_least(1)), default=10,
                    help="list length (10)")  # fmt: skip
    ev.set_defaults(func=_cmd_evaluate)


def _add_recommend(sub: Subcommands) -> None:
    rec = _add_model_command(
        sub,
        "recommend",
        "recommend after three movies",
        "For a state of three movies, show the top-k movies. With --tables: the "
        "sub-states, and each movie's Q-value and the sub-state that proposed it. With "
        "--network: each movie's Q-value (DQN, dueling DQN, SQN with its Q head) or logit "
        "(supervised network, SQN with its supervised head). The state's movies are never "
        'recommended. Give movies by title ("Fargo (1996)", or "Fargo" when unambiguous) or '
        "by MovieLens id.",
    )
    rec.add_argument("--movies", nargs="+", required=True, metavar="MOVIE",
                     help="exactly three titles or MovieLens ids, oldest first")  # fmt: skip
    rec.add_argument("--k", type=_flag_type("--k", int, _at_least(1)), default=10,
                    help="list length (10)")  # fmt: skip
    rec.set_defaults(func=_cmd_recommend)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status (0 done, 2 bad input, 1 data unavailable).

    A user's mistake never ends in a traceback: whatever raises it (the parser, a loader, a
    check deep in the package), it is printed as one ``error:`` line and the status is 2.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_network_defaults(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return int(args.func(args))
    except (CliError, ValueError, OSError) as err:
        # ValueError: a value only the package could judge (the package's checks name it);
        # OSError: a file or folder that cannot be read or written.
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted (nothing was saved: files are written whole or not at all)",
              file=sys.stderr)  # fmt: skip
        return 130


if __name__ == "__main__":
    sys.exit(main())
