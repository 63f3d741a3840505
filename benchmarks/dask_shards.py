"""Scaling of the sharded Q-tables on Dask (notebook 09): throughput, work split, traffic.

Prints, in one run on this machine:

1. the round-trip latency of one actor call, to one shard and to every shard at once;
2. on the top-627 catalogue (one epoch of the training transitions): single-process
   training (readable ``replay_train`` on a slice, compiled ``replay_train_fast``), the round
   protocol in process (no network), and on a ``LocalCluster`` against the number of workers
   and against the round size; with the split of each round's time into driver, shard and
   communication, and the calls and bytes per round;
3. against catalogue size (627 and 1,682 MovieLens movies, a 4,000-movie synthetic
   catalogue): the shard plan, throughput, traffic per round and how the work splits across
   the shards;
4. a projection to a multi-node cluster, from a cost model whose parameters are fitted on the
   runs above (the model and its assumptions are printed with it).

Run it with ``python benchmarks/dask_shards.py`` (about 3-5 minutes on 2 cores; ``--quick``
uses 20,000 transitions and skips the synthetic catalogue). Absolute numbers depend on the
machine and its load, which is printed; compare lines of the same run.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import platform
import time
from types import SimpleNamespace

import dask
import numpy as np
import pandas as pd
from distributed import LocalCluster

from odsc_recsys.catalog import Catalog
from odsc_recsys.datasets import synthetic_movielens
from odsc_recsys.distributed import ClusterConfig, DistributedQTables, plan_shards
from odsc_recsys.qtables import GenreQTables, replay_train, replay_train_fast
from odsc_recsys.sessions import chronological_split, load_tutorial_data, user_histories
from odsc_recsys.state_space import format_bytes, n_combinations

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)


def head(transitions: object, n: int | None) -> SimpleNamespace:
    states, targets = transitions.states, transitions.targets  # type: ignore[attr-defined]
    return SimpleNamespace(states=states[:n], targets=targets[:n])


def local_cluster(n_workers: int) -> LocalCluster:
    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    )


def run(
    genre_of: np.ndarray,
    names: list[str],
    train: SimpleNamespace,
    round_size: int,
    address: str | None,
    storage: str = "dense",
    n_shards: int | None = None,
) -> dict[str, float]:
    """One epoch, epsilon-greedy (seed 0); throughput, time split and traffic."""
    cluster = ClusterConfig(address=address, in_process=address is None, n_shards=n_shards)
    with DistributedQTables(genre_of, names, storage=storage, cluster=cluster) as dq:
        dq.train(train, rng=np.random.default_rng(0), round_size=round_size)
        s = dq.stats
        per_round = s.per_round()
        busiest = max(s.shard_seconds)
        return {
            "shards": dq.plan.n_shards,
            "B": round_size,
            "rounds": s.rounds,
            "transitions/s": s.transitions_per_second,
            "driver s": s.driver_seconds,
            "busiest shard s": busiest,
            "sum shard s": sum(s.shard_seconds),
            "comm+wait s": max(s.seconds - s.driver_seconds - busiest, 0.0),
            "calls/round": per_round["calls/round"],
            "kB/round": per_round["kB sent/round"] + per_round["kB received/round"],
            "bytes/transition": (s.bytes_sent + s.bytes_received) / s.transitions,
            "seconds": s.seconds,
            "_shard_frame": s.per_shard(),
        }


def table(rows: list[dict[str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows])
    return frame.round(
        {
            "transitions/s": 0,
            "driver s": 2,
            "busiest shard s": 2,
            "sum shard s": 2,
            "comm+wait s": 2,
            "calls/round": 2,
            "kB/round": 1,
            "bytes/transition": 0,
            "seconds": 2,
        }
    )


def section(title: str) -> None:
    print(f"\n{'=' * 100}\n{title}\n{'=' * 100}")


def machine() -> None:
    section("Machine")
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}; Python "
        f"{platform.python_version()}, numpy {np.__version__}, dask {dask.__version__}"
    )


def single_process(genre_of: np.ndarray, names: list[str], train: SimpleNamespace) -> None:
    """Throughput of the readable and the compiled single-process replay."""
    n = len(train.targets)
    ref = GenreQTables(genre_of, names)
    m = min(n, 10_000)
    start = time.perf_counter()
    replay_train(ref, head(train, m), rng=np.random.default_rng(0))
    readable = m / (time.perf_counter() - start)
    ref = GenreQTables(genre_of, names)
    replay_train_fast(ref, head(train, 100), rng=np.random.default_rng(0))  # compile
    ref = GenreQTables(genre_of, names)
    start = time.perf_counter()
    replay_train_fast(ref, train, rng=np.random.default_rng(0))
    compiled = n / (time.perf_counter() - start)
    print(f"single process, readable replay_train ({m:,} transitions): {readable:,.0f}/s")
    print(f"single process, compiled replay_train_fast:               {compiled:,.0f}/s")


def latency_and_round_sizes(
    genre_of: np.ndarray, names: list[str], train: SimpleNamespace
) -> list[dict[str, float]]:
    """Sections 1 and 2 on one 2-worker cluster; returns the Dask rows of the round sizes."""
    section("1. Round-trip latency of one Dask actor call (median of 100)")
    with local_cluster(2) as cluster:
        on_cluster = ClusterConfig(address=cluster.scheduler_address)
        with DistributedQTables(genre_of, names, cluster=on_cluster) as dq:
            latency = dq.measure_latency(100)
        print((latency * 1e3).round(2).rename("ms").to_string())

        section("2. Top-627 catalogue: one epoch")
        single_process(genre_of, names, train)
        rows = [run(genre_of, names, train, 1024, None, n_shards=2)]
        rows[0]["where"] = "in process (no network)"
        for B in [64, 256, 1024, 4096]:
            rows.append(run(genre_of, names, train, B, cluster.scheduler_address))
            rows[-1]["where"] = "LocalCluster, 2 workers"
        print("\nagainst the round size B (2 shards):")
        print(table(rows).set_index("where").to_string())
    return rows[1:]


def workers(genre_of: np.ndarray, names: list[str], train: SimpleNamespace) -> None:
    print("\nagainst the number of workers (B = 1024; this machine has 2 cores):")
    rows = []
    for n_workers in [1, 2, 4]:
        with local_cluster(n_workers) as cluster:
            rows.append(run(genre_of, names, train, 1024, cluster.scheduler_address))
    print(table(rows).set_index("shards").to_string())
    print("\nhow the work split across the shards (4 workers, B = 1024):")
    print(rows[-1]["_shard_frame"].round(3).to_string())


def catalogue_sizes(
    genre_of: np.ndarray, names: list[str], train: SimpleNamespace, limit: int | None, quick: bool
) -> None:
    section("3. Against catalogue size (2 workers, B = 1024)")
    catalogues = [("MovieLens top 627", genre_of, names, train, "dense")]
    big = load_tutorial_data(n_items=1682)
    g2, n2 = big.catalog.primary_genres("paper")
    catalogues.append(("MovieLens all 1,682", g2, n2, head(big.split.train, limit), "dense"))
    if not quick:
        start = time.perf_counter()
        ratings, movies = synthetic_movielens(n_users=1000, n_items=4000, n_genres=18, seed=0)
        catalog = Catalog.from_movielens(ratings, movies)
        g3, n3 = catalog.primary_genres("paper")
        split = chronological_split(user_histories(ratings, catalog))
        print(f"(synthetic catalogue generated in {time.perf_counter() - start:.0f} s)")
        catalogues.append(("synthetic 4,000", g3, n3, split.train, "lazy"))
    rows, plans = [], []
    with local_cluster(2) as cluster:
        for label, g, nm, tr, storage in catalogues:
            row = run(g, nm, tr, 1024, cluster.scheduler_address, storage=storage)
            rows.append({"catalogue": label, **catalogue_facts(g, nm, tr, storage), **row})
            plans.append((label, row["_shard_frame"]))
    frame = table(rows).set_index("catalogue")
    print(frame[["movies", "transitions", "dense tables", "largest table", "shard loads", "storage"]].to_string())  # fmt: skip
    print()
    print(frame[["transitions/s", "driver s", "busiest shard s", "comm+wait s", "kB/round", "bytes/transition"]].to_string())  # fmt: skip
    for label, shard_frame in plans:
        print(f"\nwork per shard, {label}:")
        print(shard_frame.round(3).to_string())


def catalogue_facts(
    genre_of: np.ndarray, names: list[str], train: SimpleNamespace, storage: str
) -> dict[str, object]:
    """Size of a catalogue's tables and how two shards split them."""
    layout = GenreQTables(genre_of, names, storage="lazy")
    plan = plan_shards(layout.table_rows * layout.n_items * 4, 2)
    return {
        "movies": layout.n_items,
        "transitions": len(train.targets),
        "dense tables": format_bytes(layout.dense_nbytes()),
        "largest table": format_bytes(int(layout.table_rows.max()) * layout.n_items * 4),
        "shard loads": " / ".join(format_bytes(x) for x in plan.loads),
        "storage": storage,
    }


def projection(dask_rows: list[dict[str, float]], transitions: int) -> None:
    section("4. Projection to a multi-node cluster (a model, not a measurement)")
    fit = [r for r in dask_rows if r["B"] == 1024][0]
    c_driver = fit["driver s"] / transitions
    c_shard = fit["sum shard s"] / transitions
    beta = fit["bytes/transition"]
    print(
        "Per round of B transitions on W shard machines, with one driver:\n"
        "    T(B, W) = L + B * c_driver + B * c_shard / W + B * beta / bandwidth\n"
        "    throughput = B / T(B, W)\n"
        "The driver's work (list building, targets) is serial; the shards' work (reads and\n"
        "updates) divides across W machines if the tables are balanced; all traffic passes\n"
        "through the driver's network link. Fitted on the 2-worker run with B = 1024:\n"
        f"    c_driver = {c_driver * 1e6:.1f} us, c_shard = {c_shard * 1e6:.1f} us (summed over "
        f"shards), beta = {beta:,.0f} bytes per transition.\n"
        "Assumed for a cluster: L = 2 ms per round (parallel calls, Dask overhead, one LAN round\n"
        "trip), bandwidth 1.25 GB/s (10 GbE) at the driver. At most one shard per genre table\n"
        "(W <= 10 here): beyond that a table would have to be split by rows."
    )
    L, bandwidth = 2e-3, 1.25e9
    proj = []
    for W in [1, 2, 4, 8, 10]:
        row = {"W": W}
        for B in [256, 1024, 4096]:
            t = L + B * c_driver + B * c_shard / W + B * beta / bandwidth
            row[f"B={B}"] = B / t
        proj.append(row)
    print("\nprojected transitions per second:")
    print(pd.DataFrame(proj).set_index("W").round(0).to_string())
    ceiling = 1 / (c_driver + beta / bandwidth)
    print(
        f"\nCeiling for any W and large B: 1 / (c_driver + beta / bandwidth) = {ceiling:,.0f}/s. "
        "More\nshards add memory, not speed, once the driver is the bottleneck; more speed "
        "needs several\ndrivers (each replaying a slice of the users against the same shards)."
    )


def memory() -> None:
    print("\nmemory: dense per-genre tables of larger catalogues with 10 equal genres")
    mem = []
    for n_items in [627, 1682, 10_000, 100_000]:
        n_g = n_items // 10
        rows_per = n_g + n_combinations(n_g, 2)
        per_table = rows_per * n_items * 4
        mem.append(
            {
                "movies": n_items,
                "table (dense)": format_bytes(per_table),
                "all 10 tables": format_bytes(10 * per_table),
                "machines of 64 GB (whole tables)": math.ceil(10 / (64e9 // per_table))
                if per_table <= 64e9
                else "a table alone does not fit",
            }
        )
    print(pd.DataFrame(mem).set_index("movies").to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 transitions, no synthetic")
    args = parser.parse_args()
    limit = 20_000 if args.quick else None
    machine()
    data = load_tutorial_data()
    genre_of, names = data.catalog.primary_genres("paper")
    train = head(data.split.train, limit)
    n = len(train.targets)
    print(f"top-627 catalogue: {len(names)} genre tables, {n:,} training transitions per epoch")
    dask_rows = latency_and_round_sizes(genre_of, names, train)
    workers(genre_of, names, train)
    catalogue_sizes(genre_of, names, train, limit, args.quick)
    projection(dask_rows, n)
    memory()


if __name__ == "__main__":
    main()
