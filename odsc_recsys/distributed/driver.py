"""The driver: :class:`DistributedQTables` trains and serves per-genre Q-tables through shards.

It holds no Q-values. It knows the layout (which rows a state's sub-states are, and which shard
owns them), runs the round protocol (:mod:`~odsc_recsys.distributed.rounds`), talks to the
shards through a :class:`~odsc_recsys.distributed.transport.ShardPool` and keeps the
checkpoints and the write-ahead log (:mod:`~odsc_recsys.distributed.checkpoints`).
"""

from __future__ import annotations

import reprlib
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import checks
from ..protocol import as_history, top_k_many
from ..qtables import GenreQTables, epoch_stats
from ..state_space import format_bytes
from . import rounds
from .checkpoints import Checkpoints, RoundLog
from .config import CheckpointConfig, ClusterConfig, check_compatible
from .messages import Reads
from .plan import plan_shards
from .recommender import REQUEST_CHUNK, DistributedPolicy
from .rounds import RoundLists, RowBank
from .stats import TrainStats
from .transport import ShardPool

__all__ = ["STORAGES", "DistributedQTables"]

#: The stores a shard can keep its tables in.
STORAGES = ("dense", "lazy")


class DistributedQTables:
    """Per-genre Q-tables sharded across Dask workers, trained in synchronous rounds.

    The same model as :class:`~odsc_recsys.qtables.GenreQTables` (same rows, same
    recommend and update rules; see :mod:`odsc_recsys.distributed` for the round protocol),
    with each genre table owned by one worker.

    Parameters
    ----------
    genre_of, genre_names
        As for :class:`~odsc_recsys.qtables.GenreQTables`.
    alpha, gamma, epsilon, dtype, prior
        As for :class:`~odsc_recsys.qtables.GenreQTables`.
    storage : {"dense", "lazy"}
        How each shard stores its tables (the core's stores; results are identical).
    cluster : ClusterConfig, optional
        Where the shards run; default a ``LocalCluster`` of two worker processes.
    checkpoint : CheckpointConfig, optional
        When and where the shards are checkpointed, and whether to resume; default none.

    Attributes
    ----------
    layout : GenreLayout
        Which rows (global ids) a state's sub-states are.
    plan : ShardPlan
        Which shard owns which genre table.
    pool : ShardPool
        The shards and the way to them (Dask actors, or plain objects in process).
    stats : TrainStats
        What the last :meth:`train` cost.

    Examples
    --------
    >>> with DistributedQTables(genre_of, genre_names) as dq:  # doctest: +SKIP
    ...     dq.train(split.train, rng=np.random.default_rng(0), round_size=256)
    ...     dq.recommend([10, 20, 30], k=10)
    """

    def __init__(
        self,
        genre_of: npt.ArrayLike,
        genre_names: Sequence[str],
        *,
        alpha: float = 0.8,
        gamma: float = 0.4,
        epsilon: float = 0.3,
        storage: str = "dense",
        dtype: npt.DTypeLike = np.float32,
        prior: npt.ArrayLike | None = None,
        cluster: ClusterConfig | None = None,
        checkpoint: CheckpointConfig | None = None,
    ) -> None:
        self._closed = False
        self.pool: ShardPool | None = None
        self._checkpoints: Checkpoints | None = None
        checks.one_of("storage", storage, STORAGES)
        # The layout, the hyperparameters and every input check are GenreQTables's; "lazy" so
        # that it holds no Q-values: the values live on the shards.
        spec = GenreQTables(genre_of, genre_names, alpha, gamma, epsilon, "lazy", dtype, prior)
        self._spec, self.layout, self.storage = spec, spec.layout, storage
        self.alpha, self.gamma, self.epsilon = spec.alpha, spec.gamma, spec.epsilon
        self.n_items, self.dtype, self.prior = spec.n_items, spec.dtype, spec.prior
        self.cluster = ClusterConfig() if cluster is None else cluster
        self.checkpoint = CheckpointConfig() if checkpoint is None else checkpoint
        if not isinstance(self.cluster, ClusterConfig):
            raise ValueError(f"cluster must be a ClusterConfig, got {cluster!r}")
        if not isinstance(self.checkpoint, CheckpointConfig):
            raise ValueError(f"checkpoint must be a CheckpointConfig, got {checkpoint!r}")
        check_compatible(self.cluster, self.checkpoint)
        n_shards = self.cluster.n_shards
        if n_shards is not None and n_shards > self.layout.n_tables:  # refused before any folder
            raise ValueError(f"n_shards must be between 1 and the number of tables "
                             f"({self.layout.n_tables}), got {n_shards!r}")  # fmt: skip
        identity = {"n_items": self.n_items, "genre_names": list(self.layout.genre_names),
                    "dtype": self.dtype.str}  # fmt: skip
        self._checkpoints = Checkpoints(self.checkpoint, identity)
        self._rounds = RoundLog(self._checkpoints.round)
        self.stats = TrainStats()
        self._counting = False  # account calls in self.stats (during train only)
        try:  # the cluster, then the plan (one shard per worker by default), then the shards
            self.pool = ShardPool(self.cluster)
            n_shards = self.cluster.n_shards
            if n_shards is None:
                n_shards = min(self.pool.default_shards, self.layout.n_tables)
            self.plan = plan_shards(self.layout.table_rows * self.n_items * self.dtype.itemsize,
                                    n_shards)  # fmt: skip
            self.pool.start(self.plan.n_shards, self._shard_args, self._checkpoints.round)
        except BaseException:
            self.close()
            self._checkpoints.discard()  # e.g. an unreachable scheduler: leave no new folder
            raise

    # ---- life cycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Release the shards, close the client and the local cluster (if this object
        started it), and remove the temporary checkpoint folder. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.pool is not None:
                self.pool.close()
        finally:
            if self._checkpoints is not None:
                self._checkpoints.remove_temporary()

    def __enter__(self) -> DistributedQTables:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten close() must not leave worker processes behind
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this DistributedQTables is closed")

    @property
    def dashboard_link(self) -> str | None:
        """The Dask dashboard's address (None when running in process)."""
        return None if self.pool is None else self.pool.dashboard_link

    @property
    def scheduler_address(self) -> str | None:
        return None if self.pool is None else self.pool.scheduler_address

    @property
    def shard_workers(self) -> list[str | None]:
        """The worker address of each shard (``"in-process"`` without Dask)."""
        return [] if self.pool is None else list(self.pool.shard_workers)

    @property
    def checkpoint_dir(self) -> str | None:
        """The checkpoint folder (a temporary one unless :class:`CheckpointConfig` named it)."""
        return None if self._checkpoints is None else self._checkpoints.folder

    @property
    def committed_round(self) -> int:
        """The last round whose updates every shard has applied."""
        return self._rounds.committed

    @property
    def checkpoint_round(self) -> int:
        """The round of the last complete checkpoint (0: none, the initial zeros)."""
        assert self._checkpoints is not None
        return self._checkpoints.round

    # ---- calls to the shards --------------------------------------------------------------

    def _shard_args(self, s: int, restore_round: int) -> tuple[Any, ...]:
        return (self.plan.shards[s], self.layout.offsets, self.n_items, self.alpha,
                self.dtype.str, self.storage, self.checkpoint_dir, restore_round)  # fmt: skip

    def _call(self, calls: dict[int, tuple[str, tuple[Any, ...]]]) -> dict[int, Any]:
        """One call per shard in ``calls``, all in flight at once; lost shards are recovered
        and their calls retried."""
        assert self.pool is not None
        return self.pool.call(calls, recover=self._recover, on_result=self._account)

    def _account(self, s: int, args: tuple[Any, ...], result: Any) -> None:
        if self._counting:
            self.stats.record_call(s, args, result)

    def _recover(self, s: int) -> None:
        """Re-create shard ``s`` from the last checkpoint and replay the logged rounds."""
        assert self.pool is not None
        c = self.checkpoint_round
        batches = self._rounds.since(c, s)
        self.pool.rebuild(s, c, batches)
        self.stats.recoveries += 1
        self.stats.replayed_rounds += len(batches)

    def _exchange(self, reads: dict[int, Reads] | None, final: bool = False) -> dict[int, Any]:
        """One call per shard: the pending round's updates (if any), then this round's reads."""
        assert self._checkpoints is not None
        apply_round, pending = self._rounds.pending_round, self._rounds.pending
        checkpoint = apply_round is not None and self._checkpoints.due(apply_round, final)
        calls = {
            s: ("step", (apply_round, pending.get(s), None if reads is None else reads[s],
                         checkpoint))
            for s in range(self.plan.n_shards)
        }  # fmt: skip
        results = self._call(calls)
        if apply_round is not None:
            self._rounds.acknowledged()
            if checkpoint:
                self._checkpoints.commit(apply_round)
                self._rounds.forget_until(apply_round)
        return results

    # ---- training -------------------------------------------------------------------------

    def train(
        self,
        transitions: object,
        epochs: int = 1,
        rng: np.random.Generator | None = None,
        round_size: int = 256,
        reward: float = 15.0,
        penalty: float = 5.0,
        k: int = 10,
        on_round: Callable[[int], None] | None = None,
    ) -> pd.DataFrame:
        """Train by replaying logged transitions in synchronous rounds of ``round_size``.

        The talk's replay (see :func:`~odsc_recsys.qtables.replay_train`), distributed:
        with ``round_size=1`` the tables end up exactly equal to ``replay_train``'s with the
        same ``rng``; with larger rounds the lists and targets are read at the start of each
        round (stale by at most one round).

        Parameters
        ----------
        transitions : object with ``states`` (n, 1..3) and ``targets`` (n,) int arrays
            E.g. :class:`odsc_recsys.sessions.Transitions`.
        epochs : int
            Passes over the transitions.
        rng : numpy.random.Generator, optional
            Epsilon-greedy exploration, drawn centrally by the driver (``2k`` uniforms per list,
            as ``replay_train``); greedy when None.
        round_size : int
            Transitions per round ``B``.
        reward, penalty, k
            As for ``replay_train``.
        on_round : callable, optional
            Called with the round number after each round's lists are built (progress bars;
            the tests use it to kill a worker mid-training).

        Returns
        -------
        pandas.DataFrame
            One row per epoch: ``epoch``, ``transitions``, ``rounds``, ``hit_rate`` and
            ``explored``, as ``replay_train``. Costs are in :attr:`stats`.
        """
        self._check_open()
        epochs = checks.positive_int("epochs", epochs)  # type: ignore[assignment]
        round_size = checks.positive_int("round_size", round_size)  # type: ignore[assignment]
        k = checks.count("k", k)
        reward, penalty = checks.real("reward", reward), checks.real("penalty", penalty)
        rng = checks.generator("rng", rng, allow_none=True)
        if on_round is not None and not callable(on_round):
            raise ValueError(f"on_round must be a function of the round number or None, got "
                             f"{on_round!r}")  # fmt: skip
        prep = self._prepare(transitions)
        self.stats = TrainStats.for_shards(self.plan.n_shards)
        start = time.perf_counter()
        self._counting = True
        try:
            log, driver = self._train_epochs(prep, epochs, rng, round_size, reward, penalty, k,
                                             on_round)  # fmt: skip
        finally:
            self._counting = False
        stats = self.stats
        stats.rounds = sum(row["rounds"] for row in log)
        stats.transitions = len(prep.targets) * epochs
        stats.seconds = time.perf_counter() - start
        stats.driver_seconds = driver
        # the columns of replay_train's log, with the number of rounds after the transitions
        return pd.DataFrame(log)[["epoch", "transitions", "rounds", "hit_rate", "explored"]]

    def _prepare(self, transitions: object) -> rounds.Prepared:
        """Check the transitions as ``replay_train`` does and decompose them once."""
        if any(getattr(transitions, name, None) is None for name in ("states", "targets")):
            raise ValueError(f"transitions need .states and .targets arrays, got "
                             f"{reprlib.repr(transitions)}")  # fmt: skip
        states, targets = transitions.states, transitions.targets  # type: ignore[attr-defined]
        return rounds.prepare(self.layout, self.plan.owner, states, targets)

    def _train_epochs(
        self, prep: rounds.Prepared, epochs: int, rng: np.random.Generator | None,
        round_size: int, reward: float, penalty: float, k: int,
        on_round: Callable[[int], None] | None,
    ) -> tuple[list[dict[str, float]], float]:  # fmt: skip
        """Every round of every epoch, then the call that applies the last round; returns the
        log rows and the seconds the driver spent on its own work."""
        driver, log, n = 0.0, [], len(prep.targets)
        for epoch in range(1, epochs + 1):
            n_rounds = hits = explored = listed = 0
            for a in range(0, n, round_size):
                seconds, lists = self._train_round(prep.slice(a, a + round_size), rng, reward,
                                                   penalty, k)  # fmt: skip
                driver += seconds
                n_rounds += 1
                hits, explored, listed = (hits + lists.hits, explored + lists.explored,
                                          listed + lists.listed)  # fmt: skip
                if on_round is not None:
                    on_round(self._rounds.started)
            log.append({"rounds": n_rounds, **epoch_stats(epoch, n, hits, explored, listed)})
        self._exchange(None, final=True)  # apply the last round (and checkpoint it)
        return log, driver

    def _train_round(
        self, part: rounds.Prepared, rng: np.random.Generator | None, reward: float,
        penalty: float, k: int,
    ) -> tuple[float, RoundLists]:  # fmt: skip
        """One round: read at its start (applying the previous round's updates in the same
        call), build the lists and targets, and leave this round's updates pending."""
        n_shards = self.plan.n_shards
        self._rounds.start()
        try:
            t0 = time.perf_counter()
            reads, positions = rounds.plan_reads(part.sub, part.sub_shard, n_shards, part.future,
                                                 part.future_shard)  # fmt: skip
            driver = time.perf_counter() - t0
            results = self._exchange(reads)
            t0 = time.perf_counter()
            self.stats.record_reads({s: len(r.ids) for s, r in reads.items()})
            bank = RowBank.from_results(reads, results, self.n_items, self.dtype)
            lists = rounds.build_lists(bank, part.sub, part.states, part.targets, k,
                                       self.epsilon, rng)  # fmt: skip
            future = rounds.future_values(results, positions, len(part.targets))
            targets = rounds.round_targets(lists, part.targets, future, reward, penalty,
                                           self.gamma)  # fmt: skip
            updates = rounds.split_updates(part.sub, part.sub_shard, lists, targets, n_shards)
        except BaseException:
            # Interrupted before its updates left (e.g. KeyboardInterrupt): the round never
            # happened, so the next train() starts it again instead of skipping its number.
            self._rounds.started -= 1
            raise
        self.stats.record_updates({s: len(u.ids) for s, u in updates.items()})
        self._rounds.send(updates)
        return driver + time.perf_counter() - t0, lists

    # ---- serving --------------------------------------------------------------------------

    def _scores(self, states: list[tuple[int, ...]]) -> np.ndarray:
        """Merged Q rows (max over sub-states, float64) of valid states: one call per shard
        touched. An empty state gets the prior (or zeros)."""
        sub = rounds.substate_ids_many(self.layout, states)
        sub_shard = rounds.shard_of_ids(self.layout, self.plan.owner, sub)
        reads, _ = rounds.plan_reads(sub, sub_shard, self.plan.n_shards)
        touched = {s: ("step", (None, None, reads[s], False)) for s in reads if len(reads[s].ids)}
        results = self._call(touched) if touched else {}
        scores = RowBank.from_results(reads, results, self.n_items, self.dtype).merged(sub)
        scores = scores.astype(np.float64)
        empty = [j for j, items in enumerate(states) if not items]
        scores[empty] = self.prior if self.prior is not None else 0.0
        return scores

    def _check_states(self, states: Sequence[Iterable[int]]) -> list[tuple[int, ...]]:
        """Valid states as tuples (GenreQTables's check of each), or a ``ValueError``."""
        if not isinstance(states, Iterable) or isinstance(states, str | bytes):
            raise ValueError(f"states must be a sequence of states (movie index sequences), got "
                             f"{reprlib.repr(states)}")  # fmt: skip
        checked = []
        for state in states:
            if not isinstance(state, Iterable):
                raise ValueError(f"a state is a sequence of up to 3 movie indices, got "
                                 f"{state!r}")  # fmt: skip
            checked.append(self._spec.check_state(state))
        return checked

    def score_batch(self, states: Sequence[Iterable[int]]) -> np.ndarray:
        """Merged Q-values (float64) of many states, ``(n, n_items)``; see :meth:`score`."""
        self._check_open()
        return self._scores(self._check_states(states))

    def score(self, state: Iterable[int]) -> np.ndarray:
        """Merged Q-value of every movie for a state (max over its sub-states), as float64;
        the prior (or zeros) for an empty state. Equals ``GenreQTables.score``."""
        return self.score_batch([state])[0]

    def recommend_batch(
        self,
        states: Sequence[Iterable[int]],
        k: int = 10,
        excludes: Sequence[Iterable[int] | None] | None = None,
        chunk: int = REQUEST_CHUNK,
    ) -> np.ndarray:
        """Greedy top-``k`` lists of many states, ``(n, k)`` padded with -1.

        The requests fan out in one call per shard that owns a sub-state of any of them (per
        ``chunk`` requests, :data:`REQUEST_CHUNK` by default); the driver merges the rows.
        Each list equals ``GenreQTables.recommend(state, k, exclude=exclude).items``.
        """
        self._check_open()
        k = checks.count("k", k)
        chunk = checks.positive_int("chunk", chunk)  # type: ignore[assignment]
        checked = self._check_states(states)
        if excludes is not None:
            if not isinstance(excludes, Sequence) or isinstance(excludes, str | bytes):
                raise ValueError(f"excludes must be a sequence of one exclude list (or None) per "
                                 f"state, got {reprlib.repr(excludes)}")  # fmt: skip
            if len(excludes) != len(checked):
                raise ValueError(f"excludes must hold one exclude list (or None) per state "
                                 f"({len(checked)}), got {len(excludes)}")  # fmt: skip
            for ex in excludes:
                if ex is not None and not isinstance(ex, Iterable):
                    raise ValueError(f"an exclude list is a sequence of movie indices or None, "
                                     f"got {ex!r}")  # fmt: skip
        blocked = [np.array(items, dtype=np.int64) for items in checked]
        if excludes is not None:
            blocked = [b if ex is None else np.concatenate((b, as_history(ex, self.n_items)))
                       for b, ex in zip(blocked, excludes, strict=True)]  # fmt: skip
        out = np.full((len(checked), k), -1, dtype=np.int64)
        for a in range(0, len(checked), chunk):
            out[a : a + chunk] = top_k_many(self._scores(checked[a : a + chunk]), k,
                                            blocked[a : a + chunk])  # fmt: skip
        return out

    def recommend(
        self, state: Iterable[int], k: int = 10, exclude: Iterable[int] | None = None
    ) -> np.ndarray:
        """Greedy top-``k`` movies for one state (the last up-to-3 movies), best first."""
        recs = self.recommend_batch([state], k, [exclude])[0]
        return recs[recs >= 0]

    def as_recommender(self, name: str = "distributed q-tables") -> DistributedPolicy:
        """The greedy policy behind the shared :class:`~odsc_recsys.protocol.Recommender`
        protocol; :func:`odsc_recsys.metrics.evaluate` gets its lists in batches of
        :data:`REQUEST_CHUNK` requests (one call per shard per batch)."""
        return DistributedPolicy(self, name)

    # ---- inspection -----------------------------------------------------------------------

    def _owner_of(self, genre: int) -> int:
        genre = checks.integer("genre", genre, 0, self.layout.n_tables - 1)
        return int(self.plan.owner[genre])

    def table(self, genre: int) -> np.ndarray:
        """A dense copy of one genre table, fetched from the shard that owns it."""
        self._check_open()
        s = self._owner_of(genre)
        return self._call({s: ("table", (int(genre),))})[s]

    def to_genre_tables(self, storage: str | None = None) -> GenreQTables:
        """Gather every table into one single-process :class:`GenreQTables` (same values,
        hyperparameters and prior), e.g. to serve or inspect a model trained on the cluster.

        Only the rows that hold values travel; the result stores its tables in ``storage``
        (default: the shards' storage)."""
        self._check_open()
        storage = self.storage if storage is None else storage
        checks.one_of("storage", storage, STORAGES)
        layout = self.layout
        tables = GenreQTables(layout.genre_of, layout.genre_names, self.alpha, self.gamma,
                              self.epsilon, storage, self.dtype, self.prior)  # fmt: skip
        for g in range(self.layout.n_tables):
            s = self._owner_of(g)
            rows, values = self._call({s: ("written", (g,))})[s]
            tables.store.write_rows(g, rows, values)
        return tables

    def _describe(self) -> dict[int, dict[str, Any]]:
        return self._call({s: ("describe", ()) for s in range(self.plan.n_shards)})

    def shard_info(self) -> pd.DataFrame:
        """One row per shard: its genres, rows, memory held, last applied round."""
        self._check_open()
        info = self._describe()
        names, shards = self.layout.genre_names, sorted(info)
        return pd.DataFrame(
            {
                "genres": [", ".join(names[g] for g in info[s]["genres"]) for s in shards],
                "rows": [info[s]["rows"] for s in shards],
                "memory": [format_bytes(info[s]["nbytes"]) for s in shards],
                "applied_round": [info[s]["applied_round"] for s in shards],
            },
            index=pd.Index(shards, name="shard"),
        )

    def measure_latency(self, repeats: int = 50) -> pd.Series:
        """Median seconds of an (almost) empty round trip: to shard 0 alone, and to every
        shard at once (the floor of a round's cost, whatever its size)."""
        self._check_open()
        repeats = checks.positive_int("repeats", repeats)  # type: ignore[assignment]
        one, all_shards = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            self._call({0: ("describe", ())})
            one.append(time.perf_counter() - start)
            start = time.perf_counter()
            self._describe()
            all_shards.append(time.perf_counter() - start)
        return pd.Series(
            {"one shard": float(np.median(one)), "all shards": float(np.median(all_shards))},
            name="seconds per call",
        )

    def worker_pids(self) -> dict[int, int]:
        """The process id of each shard's worker."""
        self._check_open()
        info = self._describe()
        return {s: int(info[s]["pid"]) for s in sorted(info)}

    def simulate_worker_crash(self, shard: int) -> int:
        """Kill the worker process that holds ``shard`` (local clusters only), as a crash
        would; the next call to that shard recovers it. Returns the killed process id."""
        self._check_open()
        assert self.pool is not None
        shard = checks.integer("shard", shard, 0, self.plan.n_shards - 1)
        return self.pool.kill_worker(shard)

    def __repr__(self) -> str:
        where = "in process" if self.cluster.in_process else f"{self.plan.n_shards} shards on Dask"
        return (
            f"DistributedQTables({self.layout.n_tables} tables, {self.n_items} movies, "
            f"{where}, round {self._rounds.started})"
        )
