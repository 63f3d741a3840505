"""What the round size does to what is learned: one epoch per seed and round size, evaluated.

:func:`round_size_sweep` runs in process (``ClusterConfig(in_process=True)``): the tables do
not depend on where the shards run, only on the round size and the exploration draws.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import checks
from ..metrics import evaluate
from ..qtables import GenreQTables, replay_train_fast
from .config import ClusterConfig
from .driver import DistributedQTables

__all__ = ["round_size_sweep"]


def round_size_sweep(
    genre_of: npt.ArrayLike,
    genre_names: Sequence[str],
    train: Any,
    test: Any,
    round_sizes: Sequence[int],
    seeds: Sequence[int],
    *,
    k: int = 10,
    catalog: Any = None,
    histories: dict[int, np.ndarray] | None = None,
    alpha: float = 0.8,
    gamma: float = 0.4,
    epsilon: float = 0.3,
) -> pd.DataFrame:
    """Train one epoch for every seed and round size ``B``, and evaluate each greedy policy.

    ``B = 1`` is :func:`~odsc_recsys.qtables.replay_train` itself, run by its compiled twin
    (bit for bit the same, and the fastest); the other sizes run the round protocol in
    process (``cluster=ClusterConfig(in_process=True)``: the tables do not depend on where
    the shards run). Every run of one seed draws from ``np.random.default_rng(seed)``, so the
    runs of a seed differ only in their round size: compare round sizes seed by seed.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``seed``, ``B``, ``rounds``, ``train_hit_rate``, ``seconds`` (of
        training; a timing), then the columns of :func:`odsc_recsys.metrics.evaluate`.
    """
    sizes = _round_sizes(round_sizes)
    if not len(seeds):
        raise ValueError("seeds must hold at least one seed")
    hyper = {"alpha": alpha, "gamma": gamma, "epsilon": epsilon}
    rows = []
    for seed in seeds:
        for b in sizes:
            first, row = _one_run(genre_of, genre_names, train, test, b, int(seed), k,
                                  catalog, histories, hyper)  # fmt: skip
            rows.append({**first, **row.iloc[0].to_dict()})
    return pd.DataFrame(rows)


def _round_sizes(round_sizes: Sequence[int]) -> list[int]:
    """The round sizes as ints; a ``ValueError`` unless there is at least one and each is a
    positive integer."""
    try:
        sizes = [checks.positive_int("a round size", b) for b in round_sizes]
    except ValueError:
        sizes = []
    if not sizes:
        raise ValueError(f"round_sizes must be positive integers, got {list(round_sizes)!r}")
    return sizes  # type: ignore[return-value]


def _one_run(
    genre_of: npt.ArrayLike, genre_names: Sequence[str], train: Any, test: Any, b: int,
    seed: int, k: int, catalog: Any, histories: dict[int, np.ndarray] | None,
    hyper: dict[str, float],
) -> tuple[dict[str, Any], pd.DataFrame]:  # fmt: skip
    """One epoch with round size ``b``, timed, and the test metrics of its greedy policy."""
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    if b == 1:
        tables = GenreQTables(genre_of, genre_names, **hyper)
        log = replay_train_fast(tables, train, rng=rng, k=k)
        seconds, rounds = time.perf_counter() - start, len(train.targets) * len(log)
        row = evaluate(tables.as_recommender(), test, k, catalog, histories, "B = 1")
    else:
        cluster = ClusterConfig(in_process=True)
        with DistributedQTables(genre_of, genre_names, cluster=cluster, **hyper) as local:
            log = local.train(train, rng=rng, round_size=b, k=k)
            seconds, rounds = time.perf_counter() - start, local.stats.rounds
            row = evaluate(local.as_recommender(), test, k, catalog, histories, f"B = {b}")
    first = {"seed": seed, "B": b, "rounds": rounds,
             "train_hit_rate": float(log["hit_rate"].iloc[0]), "seconds": seconds}  # fmt: skip
    return first, row
