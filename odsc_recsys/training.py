"""Training the per-genre Q-tables by replay, as the paper does, and tuning them honestly.

The paper's training loop, for each logged transition (state = last 3 movies, next movie):
recommend a list from the state (epsilon-greedy); if the movie the user really watched next is
missing, append it; reward it, penalise the rest; update every sub-state. That loop is
:func:`odsc_recsys.qtables.replay_train` (readable) and
:func:`odsc_recsys.qtables.replay_train_fast` (compiled, bit-identical). This module wraps
it with what an experiment needs: hyperparameter sets, epochs with a progress bar, a
validation learning curve, and a small seeded grid search that never sees the test split.

Three named configurations:

* :data:`AS_PUBLISHED`: the paper's hyperparameters and its replay rule (3 passes: the paper
  publishes no number of passes);
* :data:`AS_CODED`: the same hyperparameters with the three rules of the talk's code
  (``Code/Multiple_table.py``): one movie per sub-state, only the proposer updated, no future
  term for an ignored movie; and its single pass over the logs;
* :data:`TUNED`: the paper's rule with the hyperparameters that notebook 07's seeded search
  picks on the validation split.

Replay from logs is learning from fixed feedback: the logged next movie does not depend on
what the agent recommended, so the agent never steers a user (notebook 08 lets it act).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from . import checks
from .catalog import PRIMARY_GENRE_STRATEGIES, Catalog
from .metrics import evaluate
from .qtables import STORAGES, GenreQTables, check_rules, replay_train, replay_train_fast
from .sessions import Transitions


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of replay training.

    The defaults are the paper's as-published values: alpha 0.8, gamma 0.4, epsilon 0.3,
    reward 15, penalty 5, lists of 10, and the paper's replay rule. The last three fields
    switch on the rules of the talk's code, one by one (see
    :func:`~odsc_recsys.qtables.replay_train`): ``one_per_substate`` (each sub-state
    proposes one movie instead of a merged list of ``k``), ``proposer_only`` (a movie updates
    only the sub-state that proposed it) and ``bootstrap_ignored=False`` (an ignored movie's
    target has no future-value term).
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
    one_per_substate: bool = False
    proposer_only: bool = False
    bootstrap_ignored: bool = True

    def __post_init__(self) -> None:
        checks.alpha(self.alpha)
        checks.gamma(self.gamma)
        checks.epsilon(self.epsilon)
        check_rules(self.one_per_substate, self.proposer_only, self.bootstrap_ignored)
        checks.real("reward", self.reward, 0.0)
        checks.real("penalty", self.penalty, 0.0)
        checks.positive_int("k", self.k)
        checks.positive_int("epochs", self.epochs)
        checks.one_of("storage", self.storage, STORAGES)
        checks.one_of("genre_strategy", self.genre_strategy, PRIMARY_GENRE_STRATEGIES)

    def with_(self, **changes: object) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def rules(self) -> dict[str, bool]:
        """The rule switches, as keyword arguments of ``replay_train``."""
        return {"one_per_substate": self.one_per_substate, "proposer_only": self.proposer_only,
                "bootstrap_ignored": self.bootstrap_ignored}  # fmt: skip


#: The paper's hyperparameters and replay rule.
AS_PUBLISHED = TrainConfig()

#: The paper's hyperparameters with the three rules of the talk's code (Code/Multiple_table.py),
#: which replays its logged states once (one loop over ``State``): one pass.
AS_CODED = AS_PUBLISHED.with_(one_per_substate=True, proposer_only=True, bootstrap_ignored=False,
                              epochs=1)  # fmt: skip

#: The paper's rule with the hyperparameters notebook 07 picks on the validation split (seed 0:
#: a grid over alpha, gamma and the penalty at epsilon 0.1, then the number of passes).
TUNED = AS_PUBLISHED.with_(alpha=0.005, gamma=0.9, epsilon=0.1, penalty=0.0, epochs=1)


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
    _check_train(catalog, config, rng, val, tables)
    tables = tables if tables is not None else make_tables(catalog, config)
    epochs = range(1, config.epochs + 1)
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc="replay training", unit="epoch")
    rows = []
    for epoch in epochs:
        hit_rate, explored = _one_pass(tables, transitions, config, rng, fast)
        row = {"epoch": epoch, "train_hit_rate": hit_rate, "explored": explored}
        if val is not None:
            row.update(_validation_scores(tables, val, config.k, histories))
        rows.append(row)
    return tables, pd.DataFrame(rows)


def tables_match(tables: GenreQTables, catalog: Catalog, genre_strategy: str = "paper") -> bool:
    """Whether ``tables`` have one table per primary genre of ``catalog`` under
    ``genre_strategy``, as :func:`make_tables` builds them (same genres, same movies)."""
    codes, names = catalog.primary_genres(genre_strategy)
    return list(names) == list(tables.genre_names) and np.array_equal(codes, tables.genre_of)


def _check_train(
    catalog: Catalog, config: TrainConfig, rng: object, val: object, tables: object
) -> None:
    """The arguments of :func:`train` that its loop does not check itself. Tables to continue
    must agree with ``config`` and ``catalog``: a setting silently taken from one of them
    would train something else than the caller asked for."""
    if not isinstance(catalog, Catalog):
        raise ValueError(f"catalog must be a Catalog, got {type(catalog).__name__}")
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
    checks.generator("rng", rng, allow_none=True)
    if val is not None and not isinstance(val, Transitions):
        raise ValueError(f"val must be Transitions or None, got {type(val).__name__}")
    if tables is None:
        return
    if not isinstance(tables, GenreQTables):
        raise ValueError(f"tables must be GenreQTables or None, got {type(tables).__name__}")
    if not tables_match(tables, catalog, config.genre_strategy):
        raise ValueError(
            f"tables were not built for this catalogue's {catalog.n_items} movies with the "
            f"{config.genre_strategy!r} genre rule (they have {tables.n_items} movies in "
            f"{tables.n_tables} genres)"
        )
    for name in ("alpha", "gamma", "epsilon", "storage"):
        mine, theirs = getattr(config, name), getattr(tables, name)
        if mine != theirs:
            raise ValueError(f"config.{name} is {mine!r} but the tables were built with "
                             f"{name} {theirs!r}: make them agree (config.with_({name}="
                             f"{theirs!r}) to keep the tables' value)")  # fmt: skip


def _one_pass(
    tables: GenreQTables,
    transitions: Transitions,
    config: TrainConfig,
    rng: np.random.Generator | None,
    fast: bool,
) -> tuple[float, float]:
    """Replay ``transitions`` once into ``tables`` (in place) with ``config``'s reward,
    penalty, list length and rules; the compiled path when ``fast``.

    Returns
    -------
    hit_rate, explored : float
        The pass's online hit rate and share of explored slots.
    """
    step = replay_train_fast if fast else replay_train
    stats = step(tables, transitions, 1, rng, config.reward, config.penalty, config.k,
                 **config.rules)  # fmt: skip
    return float(stats["hit_rate"].iloc[0]), float(stats["explored"].iloc[0])


def _validation_scores(
    tables: GenreQTables,
    val: Transitions,
    k: int,
    histories: Mapping[int, np.ndarray] | None = None,
) -> dict[str, float]:
    """``{"val_HR@k": ..., "val_NDCG@k": ...}`` of the tables' greedy lists on ``val``.

    The one scoring of every training run here (the learning curve of :func:`train`, each
    point of :func:`grid_search` and :func:`sweep`), through
    :func:`~odsc_recsys.metrics.evaluate`, so that seen movies are excluded as for every
    other model when ``histories`` is given.
    """
    m = evaluate(tables.as_recommender(), val, k=k, histories=histories)
    return {f"val_HR@{k}": float(m[f"HR@{k}"].iloc[0]),
            f"val_NDCG@{k}": float(m[f"NDCG@{k}"].iloc[0])}  # fmt: skip


def _check_hyperparameters(names: Iterable[str]) -> None:
    """Refuse names that are not fields of :class:`TrainConfig` (a typo would sweep nothing)."""
    fields = sorted(TrainConfig.__dataclass_fields__)
    unknown = sorted(set(names) - set(fields))
    if unknown:
        raise ValueError(f"unknown hyperparameter(s) {unknown}: choose from {fields}")


def _check_values(grid: Mapping[str, Sequence[object]]) -> None:
    """Every hyperparameter of a grid or sweep needs at least one value; each is checked by
    :class:`TrainConfig` before anything is trained."""
    for name, values in grid.items():
        if isinstance(values, str | bytes) or not hasattr(values, "__len__") or not len(values):
            raise ValueError(f"{name} needs a non-empty list of values, got {values!r}")
        for value in values:
            AS_PUBLISHED.with_(**{name: value})


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
    _check_hyperparameters(grid)
    _check_values(grid)
    checks.count("seed", seed)
    names = list(grid)
    rows = []
    for values in itertools.product(*(grid[n] for n in names)):
        config = base.with_(**dict(zip(names, values, strict=True)))
        tables, _ = train(catalog, train_transitions, config, np.random.default_rng(seed),
                          fast=fast)  # fmt: skip
        scores = _validation_scores(tables, val, config.k, histories)
        rows.append({**dict(zip(names, values, strict=True)), **scores})
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
    seeds: Sequence[int] | None = None,
) -> pd.DataFrame:
    """One-factor-at-a-time sweeps around ``base``: the effect of each hyperparameter alone.

    Each configuration is trained once per seed (the base configuration recurs in every sweep
    but is trained a single time), from a fresh ``Generator(seed)``, and scored on ``val``. A
    configuration with ``epsilon == 0`` draws no random number, so it is trained once and its
    score serves every seed.

    Parameters
    ----------
    seed : int
        The seed when ``seeds`` is not given.
    seeds : sequence of int, optional
        Several training seeds: every configuration is trained once per seed, and the result
        gets a ``seed`` column, so that a plot can show the spread (error bars), not one run.

    Returns
    -------
    DataFrame
        A long table: ``parameter``, ``value`` (and ``seed`` when ``seeds`` is given),
        ``val_HR@k``, ``val_NDCG@k``.
    """
    _check_hyperparameters(values)
    _check_values(values)
    checks.count("seed", seed)
    if seeds is not None and (len(seeds) == 0 or len(set(seeds)) != len(seeds)):
        raise ValueError(f"seeds must be distinct and at least one, got {list(seeds)!r}")
    k = base.k
    scores: dict[tuple[TrainConfig, int | None], dict[str, float]] = {}
    rows = []
    for name, vals in values.items():
        for value in vals:
            config = base.with_(**{name: value})
            for s in seeds if seeds is not None else [seed]:
                key = (config, s if config.epsilon > 0 else None)  # greedy: no random stream
                if key not in scores:
                    tables, _ = train(catalog, train_transitions, config,
                                      np.random.default_rng(s), fast=fast)  # fmt: skip
                    scores[key] = _validation_scores(tables, val, k, histories)
                row = {"parameter": name, "value": value}
                if seeds is not None:
                    row["seed"] = s
                rows.append({**row, **scores[key]})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Tuning:
    """What :func:`tune` found: the configuration, the grid it searched and its learning curve."""

    config: TrainConfig
    search: pd.DataFrame
    curve: pd.DataFrame


def tune(
    catalog: Catalog,
    train_transitions: Transitions,
    val: Transitions,
    grid: Mapping[str, Sequence[object]],
    base: TrainConfig,
    max_epochs: int = 4,
    seed: int = 0,
    histories: Mapping[int, np.ndarray] | None = None,
    fast: bool = True,
) -> Tuning:
    """Notebook 07's tuning, on the validation split only: a seeded grid, then the epochs.

    1. :func:`grid_search` over ``grid`` around ``base`` (one seed, ``base.epochs`` passes);
    2. the best point trained for ``max_epochs`` passes, scoring validation after each one;
       the configuration keeps the number of passes with the best validation HR@k (the first
       of ties).

    :data:`TUNED` is what this returns for the notebook's grid (``tests/test_training.py``
    checks it on MovieLens).
    """
    checks.positive_int("max_epochs", max_epochs)
    search = grid_search(catalog, train_transitions, val, grid, base, seed, histories, fast)
    best = search.iloc[0]
    config = base.with_(**{name: type(getattr(base, name))(best[name]) for name in grid},
                        epochs=max_epochs)  # fmt: skip
    _, curve = train(catalog, train_transitions, config, np.random.default_rng(seed), val=val,
                     histories=histories, fast=fast)  # fmt: skip
    best_epochs = int(curve.loc[curve[f"val_HR@{base.k}"].idxmax(), "epoch"])
    return Tuning(config.with_(epochs=best_epochs), search, curve)


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
    chunk = checks.positive_int("chunk", chunk)
    tables = make_tables(catalog, config)
    rows, seen = [], 0
    for epoch in range(1, config.epochs + 1):
        for start in range(0, len(transitions), chunk):
            part = transitions.subset(np.arange(start, min(start + chunk, len(transitions))))
            hit_rate, explored = _one_pass(tables, part, config, rng, fast)
            seen += len(part)
            rows.append({"seen": seen, "epoch": epoch, "hit_rate": hit_rate, "explored": explored})
    return pd.DataFrame(rows)
