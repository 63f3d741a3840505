"""How the driver reaches its shards: the Dask client and cluster, actor calls, retries and
worker placement (or plain objects in this process, with no network at all).

Without an address :class:`ShardPool` starts a ``LocalCluster`` (worker processes on this
machine); with a scheduler address the same code runs on any Dask cluster. Each shard is a Dask
actor placed on a worker of its own when there are enough. A call to shards is sent to all of
them at once; when one fails because its worker died (or stopped answering), the pool asks the
driver to recover that shard, then retries the call. The driver rebuilds a shard through
:meth:`ShardPool.rebuild`: on a live worker (the nanny's replacement, if one comes), restored
from the last checkpoint, with the logged rounds after it replayed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError
from typing import Any

from .config import ClusterConfig
from .messages import Updates
from .shard import QTableShard

__all__ = ["MAX_RECOVERIES", "ShardLost", "ShardPool"]

#: Recoveries of one call before giving up.
MAX_RECOVERIES = 3

_WORKER_LOST: tuple[type[BaseException], ...] = (OSError, CancelledError)
# Dask raises asyncio's TimeoutError, the built-in one from Python 3.11 on.
_TIMEOUTS: tuple[type[BaseException], ...] = (TimeoutError, asyncio.TimeoutError)

#: A call: method name and positional arguments, per shard.
Calls = Mapping[int, tuple[str, tuple[Any, ...]]]


class ShardLost(Exception):
    """A shard's worker died or stopped answering."""


class ShardPool:
    """The shards and the way to them: Dask actors on a cluster, or plain objects in process.

    Parameters
    ----------
    config : ClusterConfig
        Where the shards run; connecting (or starting a ``LocalCluster``) happens here.
    """

    def __init__(self, config: ClusterConfig) -> None:
        if not isinstance(config, ClusterConfig):
            raise ValueError(f"config must be a ClusterConfig, got {config!r}")
        self.config = config
        self.client: Any = None
        self.cluster: Any = None
        self._actors: list[Any] = []
        self._futures: list[Any] = []
        #: The worker address of each shard ("in-process" without Dask).
        self.shard_workers: list[str | None] = []
        self._shard_args: Callable[[int, int], tuple[Any, ...]] | None = None
        if not config.in_process:
            try:
                self._connect()
            except BaseException:
                self.close()  # a cluster started before the failure must not linger
                raise

    # ---- the cluster ----------------------------------------------------------------------

    def _connect(self) -> None:
        from distributed import Client, LocalCluster

        config = self.config
        if config.starts_cluster:
            dashboard = config.dashboard_address
            self.cluster = LocalCluster(
                n_workers=config.n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=dashboard,
                silence_logs=logging.ERROR,
                # The scheduler's HTTP server runs even without a dashboard: give it a free
                # port rather than the default 8787, which may be taken.
                scheduler_kwargs={"dashboard": dashboard is not None,
                                  "dashboard_address": dashboard or "127.0.0.1:0"},
            )  # fmt: skip
            self.client = Client(self.cluster, direct_to_workers=config.direct_to_workers)
            self.client.wait_for_workers(config.n_workers, timeout=config.connect_timeout + 60)
            return
        try:
            self.client = Client(config.address, timeout=config.connect_timeout,
                                 direct_to_workers=config.direct_to_workers)  # fmt: skip
        except ValueError as exc:
            raise ValueError(f"invalid scheduler address {config.address!r}: {exc}") from None
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(
                f"cannot reach the Dask scheduler at {config.address!r} within "
                f"{config.connect_timeout:g} s ({exc}); check that the scheduler runs and the "
                "address is right, or pass address=None to start a LocalCluster on this machine"
            ) from None
        if not self.workers():
            self.client.close()
            raise ConnectionError(f"the Dask cluster at {config.address!r} has no workers")

    def workers(self) -> list[str]:
        """The addresses of the cluster's workers, sorted."""
        return sorted(self.client.scheduler_info(n_workers=-1)["workers"])

    @property
    def default_shards(self) -> int:
        """One shard per worker (``n_workers`` in process)."""
        return self.config.n_workers if self.config.in_process else len(self.workers())

    @property
    def dashboard_link(self) -> str | None:
        return None if self.client is None else self.client.dashboard_link

    @property
    def scheduler_address(self) -> str | None:
        return None if self.client is None else self.client.scheduler.address

    def close(self) -> None:
        """Release the shards, close the client and the local cluster (if this pool started
        it)."""
        self._actors = []
        futures, self._futures = self._futures, []
        try:
            if self.client is not None:
                live = [f for f in futures if f is not None]
                if live and self.cluster is None:  # a shared cluster: free our actors
                    self.client.cancel(live)
                self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        finally:
            self.client = self.cluster = None

    # ---- placement --------------------------------------------------------------------------

    def start(
        self, n_shards: int, shard_args: Callable[[int, int], tuple[Any, ...]], restore_round: int
    ) -> None:
        """Create ``n_shards`` shards, restored from ``restore_round`` if positive;
        ``shard_args(s, restore_round)`` gives the arguments of shard ``s``'s
        :class:`QTableShard`."""
        self._shard_args = shard_args
        self._actors = [None] * n_shards
        self._futures = [None] * n_shards
        self.shard_workers = [None] * n_shards
        for s in range(n_shards):
            self.place(s, restore_round)

    def place(
        self, s: int, restore_round: int, wait: float = 0.0, avoid: str | None = None
    ) -> None:
        """Create shard ``s`` (restored from ``restore_round`` if positive) on a worker."""
        assert self._shard_args is not None, "start() the pool first"
        args = self._shard_args(s, restore_round)
        if self.config.in_process:
            self._actors[s] = QTableShard(*args)
            self.shard_workers[s] = "in-process"
            return
        worker = self._choose_worker(s, wait, avoid)
        future = self.client.submit(
            QTableShard,
            *args,
            workers=[worker],
            allow_other_workers=False,
            actor=True,
            key=f"qtable-shard-{s}-{uuid.uuid4().hex}",
        )
        self._futures[s] = future
        self._actors[s] = future.result(timeout=self.config.call_timeout)
        self.shard_workers[s] = worker

    def _choose_worker(self, s: int, wait: float, avoid: str | None = None) -> str:
        """A worker for shard ``s``: one other than ``avoid`` that hosts none of our shards if
        possible (waiting up to ``wait`` seconds for a replacement to join), else the least
        loaded other one, else ``avoid`` itself if it is still alive. Raises ``ShardLost``
        when no worker is left."""
        deadline = time.monotonic() + wait
        while True:
            alive = self.workers()
            workers = [w for w in alive if w != avoid]
            used = [w for i, w in enumerate(self.shard_workers) if i != s and w is not None]
            free = [w for w in workers if w not in used]
            if free:
                return free[0]
            if time.monotonic() >= deadline:
                if workers:
                    return min(workers, key=lambda w: (used.count(w), w))
                if avoid is not None and avoid in alive:
                    return avoid
                raise ShardLost(
                    f"no live worker to place shard {s} on: the cluster has no workers "
                    f"left and none joined within {wait:g} s"
                )
            time.sleep(0.1)

    def rebuild(
        self, s: int, restore_round: int, batches: Sequence[tuple[int, Updates | None]]
    ) -> None:
        """Re-create shard ``s`` from the checkpoint at ``restore_round`` on another worker,
        and replay the logged rounds after it."""
        if self._futures[s] is not None:
            self.client.cancel([self._futures[s]])  # the scheduler must not rebuild it
        lost = self.shard_workers[s]
        self._futures[s] = self._actors[s] = None
        self.shard_workers[s] = None
        wait = 30.0 if self.config.starts_cluster else 5.0
        self.place(s, restore_round, wait=wait, avoid=lost)
        if batches:
            handle = self._actors[s].replay(list(batches))
            self._receive(s, handle, time.monotonic() + self.config.call_timeout)

    # ---- calls ------------------------------------------------------------------------------

    def call(
        self,
        calls: Calls,
        recover: Callable[[int], None],
        on_result: Callable[[int, tuple[Any, ...], Any], None] | None = None,
    ) -> dict[int, Any]:
        """Send one call to each shard in ``calls`` (all in flight at once) and collect the
        results; ``recover(s)`` each shard whose worker was lost, then retry its call.
        ``on_result(s, args, result)`` sees every successful call (for accounting)."""
        results: dict[int, Any] = {}
        todo = dict(calls)
        for attempt in range(MAX_RECOVERIES + 1):
            failed = self._send_all(todo, results)
            if on_result is not None:
                for s, (_, args) in todo.items():
                    if s not in failed:
                        on_result(s, args, results[s])
            if not failed:
                return results
            if attempt == MAX_RECOVERIES:
                break
            for s in failed:
                recover(s)
            todo = {s: todo[s] for s in failed}
        raise RuntimeError(
            f"shards {sorted(todo)} could not be recovered after {MAX_RECOVERIES} attempts"
        )

    def _send_all(self, todo: Calls, results: dict[int, Any]) -> list[int]:
        """One attempt of :meth:`call`: fills ``results``, returns the shards that were lost."""
        handles, failed = {}, []
        for s, (method, args) in todo.items():
            try:
                handles[s] = self._send(s, method, args)
            except ShardLost:
                failed.append(s)
        deadline = time.monotonic() + self.config.call_timeout
        for s, handle in handles.items():
            try:
                results[s] = self._receive(s, handle, deadline)
            except ShardLost:
                failed.append(s)
        return failed

    def _send(self, s: int, method: str, args: tuple[Any, ...]) -> Any:
        """Start a call; in process it runs now and its result is the handle, on Dask the
        handle is a future. Raises ``ShardLost`` if Dask already knows the actor is gone."""
        if self.config.in_process:
            return getattr(self._actors[s], method)(*args)
        if self._futures[s].status not in ("finished", "pending"):
            raise ShardLost(s)
        return getattr(self._actors[s], method)(*args)

    def _receive(self, s: int, handle: Any, deadline: float) -> Any:
        """The result of a call to shard ``s``; raises ``ShardLost`` when its worker left the
        cluster (checked every half second while waiting) or the call timed out."""
        if self.config.in_process:
            return handle
        while True:
            try:
                return handle.result(timeout=0.5)
            except _TIMEOUTS:
                # A dead worker that is not mid-call is only noticed when a connection
                # attempt times out (30 s by default); the scheduler knows sooner.
                if self.shard_workers[s] not in self.workers():
                    raise ShardLost(s) from None
                if time.monotonic() > deadline:
                    raise ShardLost(s) from None
            except _WORKER_LOST as exc:
                raise ShardLost(s) from exc

    def kill_worker(self, s: int) -> int:
        """Kill the worker process that holds shard ``s`` (a ``LocalCluster`` this pool
        started), as a crash would. Returns the killed process id."""
        import psutil

        if self.cluster is None:
            config = self.config
            where = "in process" if config.in_process else f"on the cluster at {config.address!r}"
            raise ValueError(
                f"simulate_worker_crash only kills workers of a LocalCluster it started, not "
                f"shards {where}"
            )
        worker = self.shard_workers[s]
        pid = int(self.client.run(os.getpid, workers=[worker])[worker])
        proc = psutil.Process(pid)
        proc.kill()
        proc.wait(timeout=10)
        return pid
