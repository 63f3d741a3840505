"""Command line: ``python -m odsc_recsys <command>`` (also installed as ``odsc-recsys``).

Commands
--------
fetch-data  Download and verify MovieLens-100K into the data folder (GroupLens, else PyPI).
train       Replay-train per-genre Q-tables on the training split and save them (.npz).
evaluate    Evaluate saved tables on the validation or test split.
recommend   Recommend movies after three movies given by title or MovieLens id.

Bad input (a missing or corrupt tables file, an unknown movie, the wrong number of movies)
prints one clear ``error:`` line and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_USAGE = 2


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


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


def _load_tables(path: str, n_items: int | None = None):
    from .multi_table import GenreQTables

    p = Path(path)
    if not p.is_file():
        raise CliError(f"tables file {path!r} does not exist (create it with the train command)")
    try:
        tables = GenreQTables.load(p)
    except ValueError as err:
        raise CliError(str(err)) from None
    if not isinstance(tables, GenreQTables):
        raise CliError(f"{path!r} holds a single full-state table, not per-genre tables")
    return tables


def _data_for(tables, genre_strategy: str = "paper"):
    """The tutorial data whose catalogue these tables were trained on (checked)."""
    import numpy as np

    from .sessions import load_tutorial_data

    data = load_tutorial_data(n_items=tables.n_items)
    codes, names = data.catalog.primary_genres(genre_strategy)
    if list(names) != list(tables.genre_names) or not np.array_equal(codes, tables.genre_of):
        raise CliError(
            "these tables were not trained on the top-"
            f"{tables.n_items} MovieLens catalogue with the '{genre_strategy}' genre rule"
        )
    return data


def _cmd_train(args: argparse.Namespace) -> int:
    import numpy as np

    from .sessions import load_tutorial_data
    from .training import TrainConfig, train

    try:
        config = TrainConfig(alpha=args.alpha, gamma=args.gamma, epsilon=args.epsilon,
                             reward=args.reward, penalty=args.penalty, k=args.k,
                             epochs=args.epochs, storage=args.storage)  # fmt: skip
    except ValueError as err:
        raise CliError(str(err)) from None
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CliError(f"folder {str(out.parent)!r} for --out does not exist")
    data = load_tutorial_data(n_items=args.n_items)
    tables, curve = train(data.catalog, data.split.train, config,
                          np.random.default_rng(args.seed), fast=not args.readable,
                          progress=not args.quiet)  # fmt: skip
    tables.save(out)
    last = curve.iloc[-1]
    print(
        f"trained {tables.n_tables} genre tables on {len(data.split.train):,} transitions x "
        f"{config.epochs} epochs (online hit rate {last['train_hit_rate']:.3f}, "
        f"explored {last['explored']:.1%}); saved {out} ({out.stat().st_size / 1e6:.1f} MB)"
    )
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .metrics import evaluate

    tables = _load_tables(args.tables)
    data = _data_for(tables)
    transitions = getattr(data.split, args.split)
    row = evaluate(tables.as_recommender("per-genre Q-tables"), transitions, k=args.k,
                   catalog=data.catalog, histories=data.histories)  # fmt: skip
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
    tables = _load_tables(args.tables)
    data = _data_for(tables)
    catalog = data.catalog
    state = [_resolve_movie(catalog, m) for m in args.movies]
    if len(set(state)) != 3:
        raise CliError(f"the 3 movies must be different, got {[catalog.titles[i] for i in state]}")
    recs = tables.recommend(state, k=args.k)
    print(
        f"state: {' | '.join(catalog.titles[i] for i in state)} (scenario {tables.scenario(state)})"
    )
    frame = tables.recommendations_frame(recs, catalog.titles)
    print(frame.drop(columns="item").round(3).to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m odsc_recsys",
        description="odsc-recsys: recommender systems with reinforcement learning and "
        "per-genre Q-tables, on MovieLens-100K.",
        epilog="Example: python -m odsc_recsys train --out tables.npz && python -m odsc_recsys "
        'recommend --tables tables.npz --movies "Star Wars (1977)" "Fargo (1996)" "Contact (1997)"',
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    fetch = sub.add_parser(
        "fetch-data",
        help="download and verify MovieLens-100K",
        description="Download MovieLens-100K into the data folder and verify its checksum. "
        "GroupLens is tried first; if it is unreachable, the copy inside the recbole wheel on "
        "PyPI is used (only its data files are extracted). Data already present is reused.",
    )
    fetch.add_argument("--source", choices=["auto", "grouplens", "recbole"], default="auto",
                       help="where to fetch from (default: auto = GroupLens, then PyPI)")  # fmt: skip
    fetch.add_argument("--home", default=None,
                       help="data folder (default: $ODSC_RECSYS_DATA, else the checkout's data/)")  # fmt: skip
    fetch.set_defaults(func=_cmd_fetch_data)

    tr = sub.add_parser(
        "train",
        help="replay-train per-genre Q-tables and save them",
        description="Train one Q-table per genre by replaying the training transitions of "
        "MovieLens-100K (top-N catalogue, chronological split), as the paper does, and save "
        "them to one .npz file. Defaults are the paper's as-published hyperparameters.",
    )
    tr.add_argument("--out", required=True, help="where to write the tables (.npz)")
    tr.add_argument("--epochs", type=int, default=3, help="passes over the training data (3)")
    tr.add_argument("--alpha", type=float, default=0.8, help="learning rate in (0, 1] (0.8)")
    tr.add_argument("--gamma", type=float, default=0.4, help="discount in [0, 1] (0.4)")
    tr.add_argument("--epsilon", type=float, default=0.3, help="exploration in [0, 1] (0.3)")
    tr.add_argument("--reward", type=float, default=15.0, help="reward of the watched movie (15)")
    tr.add_argument("--penalty", type=float, default=5.0, help="penalty of the others (5)")
    tr.add_argument("--k", type=int, default=10, help="list length during training (10)")
    tr.add_argument("--seed", type=int, default=0, help="seed of the exploration (0)")
    tr.add_argument("--n-items", type=int, default=627, help="catalogue size (627)")
    tr.add_argument("--storage", choices=["dense", "lazy", "sparse"], default="dense",
                    help="dense tables (the paper's), lazy rows (allocated on first write) or "
                    "sparse rows (only the written entries); all give the same values")  # fmt: skip
    tr.add_argument("--readable", action="store_true",
                    help="use the readable Python loop instead of the compiled fast path")  # fmt: skip
    tr.add_argument("--quiet", action="store_true", help="no progress bar")
    tr.set_defaults(func=_cmd_train)

    ev = sub.add_parser(
        "evaluate",
        help="evaluate saved tables",
        description="Evaluate saved tables with the shared protocol (HR@k, NDCG@k, MRR, "
        "coverage, novelty, diversity) on the test or validation split.",
    )
    ev.add_argument("--tables", required=True, help="tables written by train (.npz)")
    ev.add_argument("--split", choices=["test", "val"], default="test", help="split (test)")
    ev.add_argument("--k", type=int, default=10, help="list length (10)")
    ev.set_defaults(func=_cmd_evaluate)

    rec = sub.add_parser(
        "recommend",
        help="recommend after three movies",
        description="Show the sub-states, and the top-k movies with their Q-values and the "
        "sub-state that proposed each, for a state of three movies. Give movies by title "
        '("Fargo (1996)", or "Fargo" when unambiguous) or by MovieLens id.',
    )
    rec.add_argument("--tables", required=True, help="tables written by train (.npz)")
    rec.add_argument("--movies", nargs="+", required=True, metavar="MOVIE",
                     help="exactly three titles or MovieLens ids, oldest first")  # fmt: skip
    rec.add_argument("--k", type=int, default=10, help="list length (10)")
    rec.set_defaults(func=_cmd_recommend)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
