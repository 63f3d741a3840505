"""Training the per-genre Q-tables by replay, as the paper does, and tuning them honestly.

The paper's training loop, for each logged transition (state = last 3 movies, next movie):
recommend a list from the state (epsilon-greedy); if the movie the user really watched next is
missing, append it; reward it, penalise the rest; update every sub-state. That loop is
:func:`odsc_recsys.multi_table.replay_train` (readable) and
:func:`odsc_recsys.fast_replay.replay_train_fast` (compiled, bit-identical). This module wraps
it with what an experiment needs: hyperparameter sets, epochs with a progress bar, a
validation learning curve, and a small seeded grid search that never sees the test split.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from .catalog import Catalog
from .compiled import replay_train_fast
from .metrics import evaluate
from .multi_table import GenreQTables, replay_train
from .qlearning import check_alpha, check_epsilon, check_gamma
from .sessions import Transitions


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of replay training.

    The defaults are the paper's as-published values: alpha 0.8, gamma 0.4, epsilon 0.3,
    reward 15, penalty 5, lists of 10.
    """

    alpha: float = 0.8
    gamma: float = 0.4
    epsilon: float = 0.3
    reward: float = 15.0
    penalty: float = 5.0
    k: int = 10
    epochs: int = 3
    storage: str = "dense"
    genre_strategy: str = "paper"

    def __post_init__(self) -> None:
        check_alpha(self.alpha)
        check_gamma(self.gamma)
        check_epsilon(self.epsilon)
        for name in ("reward", "penalty"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not isinstance(self.k, int | np.integer) or self.k < 1:
            raise ValueError(f"k must be a positive integer, got {self.k!r}")
        if not isinstance(self.epochs, int | np.integer) or self.epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {self.epochs!r}")

    def with_(self, **changes: object) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


#: The paper's hyperparameters.
AS_PUBLISHED = TrainConfig()


def make_tables(catalog: Catalog, config: TrainConfig = AS_PUBLISHED) -> GenreQTables:
    """Empty per-genre tables for a catalogue: one table per primary genre, popularity as the
    cold-start prior."""
    codes, names = catalog.primary_genres(config.genre_strategy)
    prior = catalog.popularity / catalog.popularity.max()
    return GenreQTables(
        codes,
        names,
        alpha=config.alpha,
        gamma=config.gamma,
        epsilon=config.epsilon,
        storage=config.storage,
        prior=prior,
    )


def train(
    catalog: Catalog,
    transitions: Transitions,
    config: TrainConfig = AS_PUBLISHED,
    rng: np.random.Generator | None = None,
    val: Transitions | None = None,
    histories: Mapping[int, np.ndarray] | None = None,
    fast: bool = True,
    progress: bool = False,
    tables: GenreQTables | None = None,
) -> tuple[GenreQTables, pd.DataFrame]:
    """Replay-train per-genre tables for ``config.epochs`` epochs.

    Parameters
    ----------
    catalog : Catalog
        The movies (their primary genres define the tables).
    transitions : Transitions
        Training transitions, replayed in their order every epoch.
    config : TrainConfig
        Hyperparameters; the paper's by default.
    rng : numpy.random.Generator, optional
        Drives exploration. Without it, training is greedy.
    val : Transitions, optional
        When given, HR@k and NDCG@k on it are recorded after every epoch (a learning curve).
    histories : dict, optional
        Full user histories, passed to :func:`~odsc_recsys.metrics.evaluate` with ``val`` so
        that seen movies are excluded as for every other model.
    fast : bool
        Use the compiled path (identical results) when numba is available.
    progress : bool
        Show a progress bar over epochs.
    tables : GenreQTables, optional
        Continue training these instead of starting from empty tables.

    Returns
    -------
    tables : GenreQTables
    curve : DataFrame
        One row per epoch: online hit rate during training, share of explored slots, and the
        validation metrics when ``val`` is given.
    """
    tables = tables if tables is not None else make_tables(catalog, config)
    step = replay_train_fast if fast else replay_train
    epochs = range(1, config.epochs + 1)
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc="replay training", unit="epoch")
    rows = []
    for epoch in epochs:
        stats = step(tables, transitions, 1, rng, config.reward, config.penalty, config.k)
        row = {
            "epoch": epoch,
            "train_hit_rate": float(stats["hit_rate"].iloc[0]),
            "explored": float(stats["explored"].iloc[0]),
        }
        if val is not None:
            m = evaluate(tables.as_recommender(), val, k=config.k, histories=histories)
            row[f"val_HR@{config.k}"] = float(m[f"HR@{config.k}"].iloc[0])
            row[f"val_NDCG@{config.k}"] = float(m[f"NDCG@{config.k}"].iloc[0])
        rows.append(row)
    return tables, pd.DataFrame(rows)


def grid_search(
    catalog: Catalog,
    train_transitions: Transitions,
    val: Transitions,
    grid: Mapping[str, Sequence[object]],
    base: TrainConfig = AS_PUBLISHED,
    seed: int = 0,
    histories: Mapping[int, np.ndarray] | None = None,
    fast: bool = True,
) -> pd.DataFrame:
    """Train one model per point of ``grid`` and score it on the validation split.

    Every point is trained from the same seed (a fresh ``Generator(seed)``), so differences
    come from the hyperparameters, not from the random stream. The test split is never
    touched: pick the best row, then evaluate that one configuration on test.

    Parameters
    ----------
    grid : mapping of field name -> values
        E.g. ``{"alpha": [0.1, 0.8], "gamma": [0.0, 0.4]}``; fields of :class:`TrainConfig`.

    Returns
    -------
    DataFrame
        One row per configuration with its fields and ``val_HR@k``, ``val_NDCG@k``, sorted by
        decreasing HR then NDCG.
    """
    unknown = sorted(set(grid) - set(TrainConfig.__dataclass_fields__))
    if unknown:
        raise ValueError(
            f"unknown hyperparameter(s) {unknown}: choose from {sorted(TrainConfig.__dataclass_fields__)}"
        )
    names = list(grid)
    rows = []
    for values in itertools.product(*(grid[n] for n in names)):
        config = base.with_(**dict(zip(names, values, strict=True)))
        tables, _ = train(catalog, train_transitions, config, np.random.default_rng(seed),
                          fast=fast)  # fmt: skip
        m = evaluate(tables.as_recommender(), val, k=config.k, histories=histories)
        rows.append(
            {
                **dict(zip(names, values, strict=True)),
                f"val_HR@{config.k}": float(m[f"HR@{config.k}"].iloc[0]),
                f"val_NDCG@{config.k}": float(m[f"NDCG@{config.k}"].iloc[0]),
            }
        )
    k = base.k
    return (
        pd.DataFrame(rows)
        .sort_values([f"val_HR@{k}", f"val_NDCG@{k}"], ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def sweep(
    catalog: Catalog,
    train_transitions: Transitions,
    val: Transitions,
    values: Mapping[str, Sequence[object]],
    base: TrainConfig = AS_PUBLISHED,
    seed: int = 0,
    histories: Mapping[int, np.ndarray] | None = None,
    fast: bool = True,
) -> pd.DataFrame:
    """One-factor-at-a-time sweeps around ``base``: the effect of each hyperparameter alone.

    Each configuration is trained once (the base configuration recurs in every sweep but is
    trained a single time), from a fresh ``Generator(seed)``, and scored on ``val``.

    Returns
    -------
    DataFrame
        A long table: ``parameter``, ``value``, ``val_HR@k``, ``val_NDCG@k``.
    """
    unknown = sorted(set(values) - set(TrainConfig.__dataclass_fields__))
    if unknown:
        raise ValueError(
            f"unknown hyperparameter(s) {unknown}: choose from {sorted(TrainConfig.__dataclass_fields__)}"
        )
    k = base.k
    scores: dict[TrainConfig, tuple[float, float]] = {}
    rows = []
    for name, vals in values.items():
        for value in vals:
            config = base.with_(**{name: value})
            if config not in scores:
                tables, _ = train(catalog, train_transitions, config,
                                  np.random.default_rng(seed), fast=fast)  # fmt: skip
                m = evaluate(tables.as_recommender(), val, k=k, histories=histories)
                scores[config] = (float(m[f"HR@{k}"].iloc[0]), float(m[f"NDCG@{k}"].iloc[0]))
            hr, ndcg = scores[config]
            rows.append({"parameter": name, "value": value, f"val_HR@{k}": hr,
                         f"val_NDCG@{k}": ndcg})  # fmt: skip
    return pd.DataFrame(rows)


def stream_curve(
    catalog: Catalog,
    transitions: Transitions,
    config: TrainConfig,
    rng: np.random.Generator,
    chunk: int = 5_000,
    fast: bool = True,
) -> pd.DataFrame:
    """Online behaviour along the training stream, chunk by chunk, over ``config.epochs``.

    For each chunk of ``chunk`` transitions: the share of lists that already held the movie
    the user watched next (exploitation paying off) and the share of exploratory slots.
    Training chunk by chunk gives exactly the tables of one uninterrupted run, because the
    random draws are consumed in the same order.

    Returns
    -------
    DataFrame
        ``seen`` (transitions replayed so far), ``epoch``, ``hit_rate``, ``explored``.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    step = replay_train_fast if fast else replay_train
    tables = make_tables(catalog, config)
    rows, seen = [], 0
    for epoch in range(1, config.epochs + 1):
        for start in range(0, len(transitions), chunk):
            part = transitions.subset(np.arange(start, min(start + chunk, len(transitions))))
            stats = step(tables, part, 1, rng, config.reward, config.penalty, config.k)
            seen += len(part)
            rows.append(
                {
                    "seen": seen,
                    "epoch": epoch,
                    "hit_rate": float(stats["hit_rate"].iloc[0]),
                    "explored": float(stats["explored"].iloc[0]),
                }
            )
    return pd.DataFrame(rows)
