"""The settings of :class:`~odsc_recsys.distributed.DistributedQTables`, grouped by concern.

The driver's constructor takes the model's hyperparameters (those of
:class:`~odsc_recsys.qtables.GenreQTables`) and two of these frozen settings objects: where the
shards run (:class:`ClusterConfig`) and how they are checkpointed (:class:`CheckpointConfig`).
Each checks its values when it is built, so a bad setting fails before any worker starts.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from .. import checks

__all__ = ["CheckpointConfig", "ClusterConfig", "check_compatible"]


def _seconds(name: str, value: object) -> float:
    return checks.real(name, value, 0.0, math.inf, low_open=True, high_open=True)


@dataclass(frozen=True)
class ClusterConfig:
    """Where the shards run, how many there are, and how long to wait for them.

    Attributes
    ----------
    address : str, optional
        Scheduler address of an existing Dask cluster, e.g. ``"tcp://10.0.0.5:8786"``. Without
        it (and without ``in_process``) the driver starts a ``LocalCluster`` on this machine.
    n_workers : int
        Worker processes of that ``LocalCluster`` (one thread each); with ``in_process=True``,
        the default number of shards. Ignored with an ``address``.
    n_shards : int, optional
        Number of shards; default one per worker (at most one per table).
    in_process : bool
        Run the shards as plain objects in this process, without Dask: the same round
        protocol without the network, for tests and for measuring what the network costs.
    connect_timeout : float
        Seconds to wait for the scheduler at ``address``.
    call_timeout : float
        Seconds to wait for one shard call before treating its worker as lost.
    dashboard_address : str, optional
        Where the local cluster serves the Dask dashboard (e.g. ``":0"`` for a free port);
        None turns it off. The dashboard needs the ``bokeh`` package.
    direct_to_workers : bool
        Call the shards on their workers directly (about half the latency of going through
        the scheduler, and a lost worker is noticed at once). Set False when this machine can
        reach only the scheduler of a remote cluster.
    """

    address: str | None = None
    n_workers: int = 2
    n_shards: int | None = None
    in_process: bool = False
    connect_timeout: float = 10.0
    call_timeout: float = 120.0
    dashboard_address: str | None = None
    direct_to_workers: bool = True

    def __post_init__(self) -> None:
        if self.address is not None and not isinstance(self.address, str):
            raise ValueError(f"address must be a scheduler address string, got {self.address!r}")
        checks.boolean("in_process", self.in_process)
        checks.boolean("direct_to_workers", self.direct_to_workers)
        if self.address is not None and self.in_process:
            raise ValueError("pass either an address or in_process=True, not both")
        normalised = {
            "n_workers": checks.positive_int("n_workers", self.n_workers),
            "n_shards": checks.positive_int("n_shards", self.n_shards, allow_none=True),
            "connect_timeout": _seconds("connect_timeout", self.connect_timeout),
            "call_timeout": _seconds("call_timeout", self.call_timeout),
        }
        for name, value in normalised.items():
            object.__setattr__(self, name, value)  # plain Python numbers on a frozen object

    @property
    def starts_cluster(self) -> bool:
        """Whether the driver starts (and later stops) a ``LocalCluster`` of its own."""
        return self.address is None and not self.in_process


@dataclass(frozen=True)
class CheckpointConfig:
    """How the shards are checkpointed, and whether to resume from a checkpoint.

    Attributes
    ----------
    every : int, optional
        Checkpoint the shards every this many rounds (and at the end of ``train``). Without
        checkpoints a lost shard is rebuilt by replaying every round since the start.
    dir : str or path, optional
        Folder for checkpoints, readable and writable by every worker (a shared file system on
        a real cluster). Default: a temporary folder, removed by ``close`` (local clusters
        only).
    resume : bool
        Restore the tables from the last checkpoint in ``dir`` instead of starting from zeros.
    """

    every: int | None = None
    dir: str | os.PathLike[str] | None = None
    resume: bool = False

    def __post_init__(self) -> None:
        every = checks.positive_int("every (rounds between checkpoints)", self.every,
                                    allow_none=True)  # fmt: skip
        object.__setattr__(self, "every", every)
        if self.dir is not None and not isinstance(self.dir, str | os.PathLike):
            raise ValueError(f"dir must be a folder path or None, got {self.dir!r}")
        object.__setattr__(self, "dir", None if self.dir is None else os.fspath(self.dir))
        checks.boolean("resume", self.resume)
        if self.resume and self.dir is None:
            raise ValueError("resume=True needs the checkpoint dir to resume from")


def check_compatible(cluster: ClusterConfig, checkpoint: CheckpointConfig) -> None:
    """Refuse settings that are valid alone but not together.

    On a remote cluster a temporary folder on this machine is not one the workers can reach,
    so checkpoints there need an explicit shared ``dir``.
    """
    if cluster.address is not None and checkpoint.every is not None and checkpoint.dir is None:
        raise ValueError(
            "on a remote cluster the checkpoint dir must name a folder every worker can reach "
            "(a shared file system); a temporary folder on this machine would not be"
        )
