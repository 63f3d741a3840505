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
    n_workers : int, optional
        Worker processes of that ``LocalCluster`` (one thread each, default 2); with
        ``in_process=True``, the default number of shards. Not given with an ``address``
        (that cluster has its own workers): it stays None.
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
        None turns it off. The dashboard needs the ``bokeh`` package. Only for the
        ``LocalCluster`` this object starts (a remote cluster serves its own).
    direct_to_workers : bool
        Call the shards on their workers directly (about half the latency of going through
        the scheduler, and a lost worker is noticed at once). Set False when this machine can
        reach only the scheduler of a remote cluster; there are no workers in process.

    A setting that the chosen mode would ignore (``n_workers`` or ``dashboard_address`` with
    an ``address``, ``dashboard_address`` or ``direct_to_workers=False`` with
    ``in_process=True``) is refused rather than silently dropped.
    """

    address: str | None = None
    n_workers: int | None = None
    n_shards: int | None = None
    in_process: bool = False
    connect_timeout: float = 10.0
    call_timeout: float = 120.0
    dashboard_address: str | None = None
    direct_to_workers: bool = True

    def __post_init__(self) -> None:
        if self.address is not None and (
            not isinstance(self.address, str) or not self.address.strip()
        ):
            raise ValueError(f"address must be a scheduler address string, got {self.address!r}")
        if self.dashboard_address is not None:
            checks.text("dashboard_address", self.dashboard_address)
        in_process = checks.boolean("in_process", self.in_process)
        direct = checks.boolean("direct_to_workers", self.direct_to_workers)
        # Settings the chosen mode would ignore are refused, not silently dropped.
        if self.address is not None and in_process:
            raise ValueError("pass either an address or in_process=True, not both")
        if self.address is not None and self.n_workers is not None:
            raise ValueError(
                f"n_workers applies to a LocalCluster this object starts, not to the cluster at "
                f"address {self.address!r}; got n_workers={self.n_workers!r}"
            )
        if self.dashboard_address is not None and (self.address is not None or in_process):
            where = "in process" if in_process else f"on the cluster at {self.address!r}"
            raise ValueError(
                f"dashboard_address applies to a LocalCluster this object starts, not {where}; "
                f"got dashboard_address={self.dashboard_address!r}"
            )
        if in_process and not direct:
            raise ValueError(
                "direct_to_workers=False applies to a Dask cluster; in_process=True has no "
                "workers to call"
            )
        n_workers = self.n_workers
        if n_workers is None and self.address is None:
            n_workers = 2  # the default LocalCluster (or in-process shards)
        normalised = {
            "n_workers": None if n_workers is None else checks.positive_int("n_workers", n_workers),
            "n_shards": checks.positive_int("n_shards", self.n_shards, allow_none=True),
            "connect_timeout": _seconds("connect_timeout", self.connect_timeout),
            "call_timeout": _seconds("call_timeout", self.call_timeout),
        }
        for name, value in normalised.items():
            object.__setattr__(self, name, value)  # plain Python numbers on a frozen object
        object.__setattr__(self, "in_process", in_process)
        object.__setattr__(self, "direct_to_workers", direct)

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
        folder = self.dir
        if folder is not None:
            # bytes paths are refused, and "" would silently mean the working directory
            path = os.fspath(folder) if isinstance(folder, str | os.PathLike) else None
            if not isinstance(path, str) or not path.strip():
                raise ValueError(f"dir must be a folder path or None, got {self.dir!r}")
            folder = path
        object.__setattr__(self, "dir", folder)
        object.__setattr__(self, "resume", checks.boolean("resume", self.resume))
        if self.resume and self.dir is None:
            raise ValueError("resume=True needs the checkpoint dir to resume from")


def check_compatible(cluster: ClusterConfig, checkpoint: CheckpointConfig) -> None:
    """Refuse settings that are valid alone but not together.

    On a remote cluster a temporary folder on this machine is not one the workers can reach,
    so checkpoints there need an explicit shared ``dir``.
    """
    if not isinstance(cluster, ClusterConfig):
        raise ValueError(f"cluster must be a ClusterConfig, got {cluster!r}")
    if not isinstance(checkpoint, CheckpointConfig):
        raise ValueError(f"checkpoint must be a CheckpointConfig, got {checkpoint!r}")
    if cluster.address is not None and checkpoint.every is not None and checkpoint.dir is None:
        raise ValueError(
            "on a remote cluster the checkpoint dir must name a folder every worker can reach "
            "(a shared file system); a temporary folder on this machine would not be"
        )
