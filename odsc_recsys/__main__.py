"""Command line: ``python -m odsc_recsys <command>``.

Commands
--------
fetch-data  Download and verify MovieLens-100K into the data folder (GroupLens, else PyPI).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m odsc_recsys",
        description="odsc-recsys: recommender systems with reinforcement learning and "
        "per-genre Q-tables, on MovieLens-100K.",
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
