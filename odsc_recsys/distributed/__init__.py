"""Per-genre Q-tables sharded across Dask workers: the talk's distributed Q-table, distributed.

:class:`~odsc_recsys.qtables.GenreQTables` splits one impossible table into one table per
genre, all in one process. When the catalogue or the traffic outgrows one machine, the next
step is to put those tables on different machines. This package does that on **Dask
distributed**: a :class:`QTableShard` (a Dask actor) owns a set of genre tables, and a driver,
:class:`DistributedQTables`, trains and serves through the shards. By default it starts a
``LocalCluster`` (worker processes on this machine); with a scheduler address
(:class:`ClusterConfig`) the same code runs on any Dask cluster.

**Sharding.** Each genre table lives on exactly one shard. :func:`plan_shards` balances the
shards by dense table size (rows x movies x bytes) with the greedy longest-processing-time rule:
largest table first, each to the least-loaded shard. A shard's load is then at most the mean
load plus the largest table. Rows get *global ids*: table ``g``'s row ``r`` is
``offsets[g] + r`` (:class:`~odsc_recsys.qtables.GenreLayout`), so one integer array addresses
rows of any table.

**Why batches.** One actor call costs a few milliseconds (the network round trip and Dask's
bookkeeping), as long as tens (readable) to hundreds (compiled) of transitions of
single-process training. A call per transition would make training that many times slower, so
work moves in **synchronous rounds** of ``B`` transitions. In round ``r`` the driver

1. decomposes every state and next state of the round (it knows ``genre_of``, so this is
   local and cheap);
2. asks each shard, in **one call**, for the rows of the round's current sub-states that it
   owns and for ``max_a' Q(s', a')`` of the next sub-states that it owns, both read at the
   start of the round;
3. merges each transition's rows into its list exactly as ``GenreQTables`` does (largest Q per
   movie, ties by lower index, the state's movies never listed), explores epsilon-greedily with
   the driver's one ``numpy.random.Generator`` (the same ``2k`` uniforms per list in the same
   order as :func:`~odsc_recsys.qtables.replay_train`), appends the clicked movie and
   computes the targets ``r + gamma * max_a' Q(s', a')``;
4. sends each shard the updates of its own rows, in transition order.

The updates of round ``r`` travel in the same call as the reads of round ``r + 1``: the shard
applies them first, then reads. So a round costs **one call per shard**. The arithmetic is
``GenreQTables``'s (float64 targets, the core's TD step ``old + alpha * (target - old)`` cast
to the table dtype), and within a shard the updates are applied in transition order.

**Staleness.** With ``B = 1`` every read sees every earlier update: the tables equal
``replay_train``'s bit for bit. With ``B > 1`` the lists and the bootstrap targets of a round
are read at its start, so they miss the updates of the same round's earlier transitions: they
are stale by at most one round. The updates themselves are never lost; two transitions of a
round that share a row both update it, in order.

**Reliability.** Every ``CheckpointConfig.every`` rounds each shard writes its tables to a
folder every worker can reach (one ``.npz`` per genre, written atomically), and the driver then
records that round in ``checkpoint.json``. The driver also keeps the update batches it sent
since that checkpoint: a write-ahead log. When a call fails because its worker died, the
driver re-creates the shard on a live worker (the nanny's replacement, if one comes), restores
its tables from the last checkpoint, replays the logged rounds after it, and retries the call.
Shards are idempotent per round (a round already applied is not applied again), so retries are
safe, and the result equals an uninterrupted run exactly. Committed rounds (acknowledged by
every shard) are never lost; the round in flight is replayed. ``close()`` (or leaving the
``with`` block) shuts the client and the local cluster down.

**Modules.** :mod:`.config` (the grouped settings), :mod:`.plan` (the shard plan),
:mod:`.messages` (what travels), :mod:`.rounds` (the round's arithmetic, plain numpy),
:mod:`.shard` (the actor), :mod:`.transport` (Dask: connection, calls, retries, placement),
:mod:`.checkpoints` (checkpoints and the write-ahead log), :mod:`.stats` (costs),
:mod:`.driver` (:class:`DistributedQTables`), :mod:`.recommender` (its greedy policy),
:mod:`.sweep` and :mod:`.plots` (notebook 09's experiment and figures).
"""

from .config import CheckpointConfig, ClusterConfig
from .driver import STORAGES, DistributedQTables
from .messages import Reads, Updates
from .plan import ShardPlan, plan_shards
from .plots import plot_round_size_shift, plot_round_size_sweep, plot_shard_plans, plot_sharding
from .recommender import REQUEST_CHUNK, DistributedPolicy
from .shard import QTableShard
from .stats import TrainStats
from .sweep import round_size_sweep

__all__ = [
    "REQUEST_CHUNK",
    "STORAGES",
    "CheckpointConfig",
    "ClusterConfig",
    "DistributedPolicy",
    "DistributedQTables",
    "QTableShard",
    "Reads",
    "ShardPlan",
    "TrainStats",
    "Updates",
    "plan_shards",
    "plot_round_size_shift",
    "plot_round_size_sweep",
    "plot_shard_plans",
    "plot_sharding",
    "round_size_sweep",
]
