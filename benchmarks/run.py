"""Speed and memory of the per-genre Q-tables, measured in one run on the same data.

Prints:

* training throughput (transitions per second) of the readable ``replay_train``, of the
  compiled ``replay_train_fast`` and of a naive baseline that finds sub-states by linear search
  through lists of combinations, as the original implementation did; and the ratios;
* recommendation latency per request (median and p99), single requests and batched;
* memory of the tables: dense, lazy (rows on first write) and, where available, sparse.

Run it with ``make benchmark`` (or ``python benchmarks/run.py``). Ratios between lines of the
same run are the figures to compare: absolute numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for the scripts next to us

from naive_baseline import naive_replay  # noqa: E402
from peak_memory import table as peak_memory_table  # noqa: E402

from odsc_recsys.qtables import (  # noqa: E402
    HAVE_NUMBA,
    STORAGES,
    recommend_batch,
    replay_train,
    replay_train_fast,
)
from odsc_recsys.sessions import load_tutorial_data  # noqa: E402
from odsc_recsys.state_space import dense_table_bytes, n_combinations  # noqa: E402
from odsc_recsys.training import AS_PUBLISHED, make_tables, train  # noqa: E402


def timed(fn, *args, **kwargs) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn(*args, **kwargs)
    return time.perf_counter() - w0, time.process_time() - c0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readable", type=int, default=20_000,
                        help="transitions for the readable loop (20000)")  # fmt: skip
    parser.add_argument("--naive", type=int, default=500,
                        help="transitions for the naive baseline (500)")  # fmt: skip
    parser.add_argument("--epochs", type=int, default=3, help="epochs for the fast path (3)")
    parser.add_argument("--requests", type=int, default=5_000, help="latency requests (5000)")
    args = parser.parse_args(argv)

    data = load_tutorial_data()
    train_t = data.split.train
    cfg = AS_PUBLISHED
    print(f"python {platform.python_version()}, numpy {np.__version__}, numba: {HAVE_NUMBA}")
    print(f"data: top-{data.catalog.n_items} MovieLens-100K, {len(train_t):,} training "
          f"transitions; as-published alpha {cfg.alpha}, gamma {cfg.gamma}, "
          f"epsilon {cfg.epsilon}, k {cfg.k}")  # fmt: skip
    tables = make_tables(data.catalog, cfg)
    print(f"tables: {tables.n_tables} genres, {tables.n_rows:,} rows x {tables.n_items} "
          f"actions")  # fmt: skip
    print()

    # ---- training throughput ------------------------------------------------------------
    print("== training throughput (transitions/s; CPU time in brackets) ==")
    sub = train_t.subset(np.arange(min(args.readable, len(train_t))))
    readable_tables = make_tables(data.catalog, cfg)
    wall, cpu = timed(replay_train, readable_tables, sub, 1, np.random.default_rng(0))
    readable_rate = len(sub) / wall
    print(f"readable replay_train   {readable_rate:>12,.0f}   ({len(sub) / cpu:,.0f} CPU)"
          f"   on {len(sub):,} transitions")  # fmt: skip

    if HAVE_NUMBA:
        # compile (or load the cache) outside the timing
        replay_train_fast(make_tables(data.catalog, cfg), train_t.subset(np.arange(100)), 1,
                          np.random.default_rng(0))  # fmt: skip
        fast_tables = make_tables(data.catalog, cfg)
        n = len(train_t) * args.epochs
        wall, cpu = timed(replay_train_fast, fast_tables, train_t, args.epochs,
                          np.random.default_rng(0))  # fmt: skip
        fast_rate = n / wall
        print(f"compiled replay_train   {fast_rate:>12,.0f}   ({n / cpu:,.0f} CPU)"
              f"   on {len(train_t):,} x {args.epochs} epochs")  # fmt: skip
        # the compiled path must give the readable path's tables on the same transitions
        check = make_tables(data.catalog, cfg)
        replay_train_fast(check, sub, 1, np.random.default_rng(0))
        same = all(
            np.array_equal(check.table(g), readable_tables.table(g)) for g in range(check.n_tables)
        )
        print(f"  compiled == readable on the same {len(sub):,} transitions: {same}")
    else:
        fast_rate = float("nan")
        print("compiled replay_train   (numba not installed)")

    naive_sub = train_t.subset(np.arange(min(args.naive, len(train_t))))
    naive_tables = make_tables(data.catalog, cfg)
    wall, cpu = timed(naive_replay, naive_tables, naive_sub.states, naive_sub.targets,
                      np.random.default_rng(0))  # fmt: skip
    naive_rate = len(naive_sub) / wall
    ref = make_tables(data.catalog, cfg)
    replay_train(ref, naive_sub, 1, np.random.default_rng(0))
    same = all(np.array_equal(ref.table(g), naive_tables.table(g)) for g in range(ref.n_tables))
    print(f"naive (linear search)   {naive_rate:>12,.0f}   ({len(naive_sub) / cpu:,.0f} CPU)"
          f"   on {len(naive_sub):,} transitions; same tables as readable: {same}")  # fmt: skip
    print(f"ratios: readable / naive {readable_rate / naive_rate:,.0f}x, "
          f"compiled / naive {fast_rate / naive_rate:,.0f}x, "
          f"compiled / readable {fast_rate / readable_rate:,.1f}x")  # fmt: skip
    print()

    # ---- recommendation latency -----------------------------------------------------------
    print("== recommendation latency (greedy top-10, trained tables) ==")
    trained, _ = train(data.catalog, train_t, cfg.with_(epochs=1), np.random.default_rng(0))
    test = data.split.test
    states = [s for s in test.states[: args.requests]]
    for s in states[:50]:  # warm up
        trained.recommend(s, k=10)
    lat = np.empty(len(states))
    for j, s in enumerate(states):
        t0 = time.perf_counter()
        trained.recommend(s, k=10)
        lat[j] = time.perf_counter() - t0
    print(f"single request          median {np.median(lat) * 1e6:7.1f} us   "
          f"p99 {np.quantile(lat, 0.99) * 1e6:7.1f} us   over {len(lat):,} test states")  # fmt: skip
    if HAVE_NUMBA:
        prefixes = test.prefixes(data.histories)[: args.requests]
        recommend_batch(trained, prefixes[:10], 10)
        wall, _ = timed(recommend_batch, trained, prefixes, 10)
        print(f"batched (evaluation)    {wall / len(prefixes) * 1e6:7.1f} us per request, "
              f"seen movies excluded, {len(prefixes):,} requests")  # fmt: skip
    print()

    # ---- memory ----------------------------------------------------------------------------
    print("== memory of the tables after one epoch of as-published training ==")
    dense_bytes = None
    for storage in STORAGES:
        t, _ = train(data.catalog, train_t, cfg.with_(epochs=1, storage=storage),
                     np.random.default_rng(0))  # fmt: skip
        if dense_bytes is None:
            dense_bytes = t.nbytes
        print(f"{storage:<7} {t.nbytes / 1e6:9.2f} MB   {t.nbytes / dense_bytes:6.1%} of dense   "
              f"{t.n_allocated_rows:,} of {t.n_rows:,} rows allocated")  # fmt: skip
    n = data.catalog.n_items
    single = dense_table_bytes(n_combinations(n, 3), n, np.float32)
    print(f"(one dense float32 table over all {n}C3 states would take {single / 1e9:.1f} GB)")
    print()
    print_peak_memory()
    return 0


def print_peak_memory() -> None:
    """Peak RSS of one as-published epoch, each path and storage in a fresh process."""
    print("== peak memory (RSS, MiB) of one epoch of training, each in a fresh process ==")
    print("path      storage   data loaded   after warm-up   after training   training adds")
    rows = peak_memory_table(STORAGES)
    for path, storage, loaded, warmed, trained in rows:
        print(f"{path:<9} {storage:<7} {loaded:13.1f} {warmed:15.1f} {trained:16.1f} "
              f"{trained - warmed:15.1f}")  # fmt: skip
    adds = {(p, s): t - w for p, s, _, w, t in rows}
    print("compiled / readable, what training adds: " + ", ".join(
        f"{s} {adds['compiled', s] / adds['readable', s]:.2f}" for s in STORAGES))  # fmt: skip
    print("(the warm-up loads numba and the compiled kernels: a fixed cost, paid once per "
          "process, not per table)")


if __name__ == "__main__":
    sys.exit(main())
