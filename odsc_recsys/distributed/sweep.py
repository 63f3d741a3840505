"""What the round size does to what is learned: one epoch per seed and round size, evaluated.

:func:`round_size_sweep` runs in process (``ClusterConfig(in_process=True)``): the tables do
not depend on where the shards run, only on the round size and the exploration draws.
"""

from __future__ import annotations

import reprlib
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import checks
from ..metrics import evaluate
from ..qtables import GenreQTables, check_transitions, replay_train_fast
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

    Every argument is checked before the first run: a bad one fails at once, not after the
    runs before it.
    """
    # The layout and the hyperparameters are checked by building (lazy, empty) tables once.
    spec = GenreQTables(genre_of, genre_names, alpha, gamma, epsilon, storage="lazy")
    sizes = _round_sizes(round_sizes)
    seeds = _seeds(seeds)
    k = checks.positive_int("k", k)  # type: ignore[assignment]
    for name, data in (("train", train), ("test", test)):
        if any(getattr(data, field, None) is None for field in ("states", "targets")):
            raise ValueError(f"{name} must be transitions with .states and .targets, got "
                             f"{reprlib.repr(data)}")  # fmt: skip
    states, _ = check_transitions(spec, train)
    if states.shape[1] == 0 or len(states) == 0:
        raise ValueError(f"train must hold at least one transition with 1 to 3 movies per "
                         f"state, got states of shape {states.shape}")  # fmt: skip
    hyper = {"alpha": alpha, "gamma": gamma, "epsilon": epsilon}
    rows = []
    for seed in seeds:
        for b in sizes:
            first, row = _one_run(genre_of, genre_names, train, test, b, seed, k,
                                  catalog, histories, hyper)  # fmt: skip
            rows.append({**first, **row.iloc[0].to_dict()})
    return pd.DataFrame(rows)


def _round_sizes(round_sizes: Sequence[int]) -> list[int]:
    """The round sizes as ints; a ``ValueError`` unless there is at least one and they are
    distinct positive integers."""
    if not isinstance(round_sizes, Iterable) or isinstance(round_sizes, str | bytes):
        raise ValueError(f"round_sizes must be positive integers, got {round_sizes!r}")
    given = list(round_sizes)
    try:
        sizes = [checks.positive_int("a round size", b) for b in given]
    except ValueError:
        sizes = []
    if not sizes:
        raise ValueError(f"round_sizes must be positive integers, got {given!r}")
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"round_sizes must be positive integers, each once, got {given!r}")
    return sizes  # type: ignore[return-value]


def _seeds(seeds: Sequence[int]) -> list[int]:
    """The seeds as ints: at least one, each a distinct non-negative integer (a seed of
    ``numpy.random.default_rng``)."""
    if not isinstance(seeds, Iterable) or isinstance(seeds, str | bytes):
        raise ValueError(f"seeds must be non-negative integers, got {seeds!r}")
    given = list(seeds)
    if not given:
        raise ValueError("seeds must hold at least one seed, got []")
    checked = [checks.count("a seed", seed) for seed in given]
    if len(set(checked)) != len(checked):
        raise ValueError(f"seeds must be distinct, got {given!r}")
    return checked


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
