"""Speed and memory of the Q-networks (DQN, dueling DQN, SQN, supervised), in one run.

For each network, trained with its defaults (``NetConfig()``) on the tutorial data with early
stopping on the validation split, prints:

* compile time, apart from training: a one-epoch ``fit`` on one minibatch (with the full
  validation split, so with every array shape of the real ``fit``) run twice, the first run
  (trace, compile, run) minus the second (run only); and, as a cross-check, the ahead-of-time
  ``jit(scorer).lower(...).compile()`` time of the forward pass. Compiling happens before the
  real ``fit``, so the training times hold none of it;
* training time to the best validation epoch (the wall seconds of epochs 1..best, each epoch
  including its validation pass), the total ``fit`` time and the number of epochs run;
* test HR@10 (``odsc_recsys.metrics.evaluate`` with the users' histories, as in notebook 10);
* batched scoring throughput (``score_states`` on random states, best of 3 after a warm-up)
  and ``recommend_many`` throughput on the test prefixes (seen movies excluded);
* parameter count and bytes, set beside the dense per-genre Q-tables and the single dense
  table over all 3-movie states (both computed by ``odsc_recsys.state_space``).

Run it with ``make benchmark-deep`` (or ``python benchmarks/deep.py``). Ratios between lines of
the same run are the figures to compare: absolute numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import jax
import numpy as np
import optax

from odsc_recsys.deep import (
    DQNRecommender,
    NetConfig,
    SQNRecommender,
    SupervisedRecommender,
    networks,
)
from odsc_recsys.metrics import evaluate
from odsc_recsys.sessions import load_tutorial_data
from odsc_recsys.state_space import (
    dense_table_bytes,
    format_bytes,
    n_combinations,
    per_genre_dense_bytes,
)

#: States in the ahead-of-time compile check (a shape no other call here uses).
AOT_STATES = 1000


def timed(fn, *args) -> float:
    """Wall seconds of one call, the result made concrete inside the timing."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0


def best_of(n: int, fn, *args) -> float:
    """The fastest wall time of ``n`` calls (the result is made concrete inside the timing)."""
    return min(timed(fn, *args) for _ in range(n))


def compile_seconds(make, split, data, n_items: int, seed: int) -> tuple[float, float]:
    """Compile time in seconds, apart from training, and an ahead-of-time cross-check.

    The first: a one-epoch ``fit`` on one minibatch of transitions with the full validation
    split (so every array shape of the real ``fit``: the training step's batch, the scorer's
    blocks), run twice; the first run traces, compiles and runs, the second only runs, and
    the difference is the compiling. It leaves the step and the scorer compiled in their
    caches, which the real ``fit`` uses, so its times hold no compiling. The second:
    ``jit(scorer).lower(...).compile()`` of the forward pass on ``AOT_STATES`` states.
    """
    config = make(None).config
    tiny = config.with_(max_epochs=1)
    batch = split.train.subset(np.arange(min(config.batch_size, len(split.train))))
    runs = []
    for _ in range(2):
        model = make(tiny)
        t0 = time.perf_counter()
        model.fit(batch, n_items, np.random.default_rng(seed), val=split.val,
                  histories=data.histories)  # fmt: skip
        runs.append(time.perf_counter() - t0)
    # a shape that nothing else here uses, so that no compiled code is reused
    scorer = networks.q_values if model.head == "q" else networks.next_movie_logits
    block = jax.numpy.zeros((AOT_STATES, networks.STATE_LEN), jax.numpy.int32)
    t0 = time.perf_counter()
    jax.jit(scorer).lower(model.params, block).compile()
    return runs[0] - runs[1], time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=20_000,
                        help="random states for the scoring throughput (20000)")  # fmt: skip
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="cap on epochs (default: NetConfig's)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of every network (0)")
    args = parser.parse_args(argv)

    data = load_tutorial_data()
    catalog, split = data.catalog, data.split
    n = catalog.n_items
    base = NetConfig() if args.max_epochs is None else NetConfig(max_epochs=args.max_epochs)
    print(f"python {platform.python_version()}, numpy {np.__version__}, jax {jax.__version__}, "
          f"optax {optax.__version__}; devices {jax.devices()}; {os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.1f} at the start")  # fmt: skip
    print(f"data: top-{n} MovieLens-100K, {len(split.train):,} training / {len(split.val):,} "
          f"validation / {len(split.test):,} test transitions")  # fmt: skip
    print("NetConfig: " + ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                                    for k, v in base.as_dict().items()) + f"; seed {args.seed}")  # fmt: skip
    print()

    makers = [
        ("DQN", lambda c: DQNRecommender(c or base)),
        ("dueling DQN", lambda c: DQNRecommender(c or base.with_(dueling=True))),
        ("SQN (sup. head)", lambda c: SQNRecommender(c or base)),
        ("supervised", lambda c: SupervisedRecommender(c or base)),
    ]
    # one-time costs (JAX's backend, first tracing of optax and the losses, thread pools) go
    # into a throwaway DQN, not into the first model's figures: a catalogue one movie larger
    # gives it other shapes, so it leaves nothing compiled that the DQN below could reuse
    compile_seconds(makers[0][1], split, data, n + 1, args.seed)
    rng = np.random.default_rng(12345)
    states = rng.integers(0, n, size=(args.states, networks.STATE_LEN)).astype(np.int32)
    prefixes = split.test.prefixes(data.histories)

    rows = []
    for label, make in makers:
        compile_s, aot = compile_seconds(make, split, data, n, args.seed)
        model = make(None)
        t0 = time.perf_counter()
        model.fit(split.train, n, np.random.default_rng(args.seed), val=split.val,
                  histories=data.histories, item_ids=catalog.item_ids)  # fmt: skip
        fit_total = time.perf_counter() - t0
        seconds = model.fit_result.seconds
        to_best = float(sum(seconds[: model.best_epoch]))
        hr = float(evaluate(model, split.test, k=10, catalog=catalog,
                            histories=data.histories)["HR@10"].iloc[0])  # fmt: skip
        model.score_states(states)  # warm-up (compiles the block shapes)
        score_rate = len(states) / best_of(3, model.score_states, states)
        model.recommend_many(prefixes, 10)  # warm-up
        rec_rate = len(prefixes) / best_of(3, model.recommend_many, prefixes, 10)
        rows.append({
            "model": label, "compile": compile_s, "aot": aot,
            "to_best": to_best, "best": model.best_epoch, "epochs": len(seconds),
            "fit": fit_total, "epoch_mean": float(np.mean(seconds)), "hr": hr,
            "score_rate": score_rate, "rec_rate": rec_rate,
            "n_params": model.n_parameters, "nbytes": model.nbytes,
        })  # fmt: skip
        print(f"{label}: {len(seconds)} epochs, best {model.best_epoch}, "
              f"val HR@10 by epoch {np.round(model.curve['val_HR@10'].to_numpy(), 4).tolist()}, "
              f"seconds by epoch {np.round(seconds, 2).tolist()}")  # fmt: skip
    print()

    print("== compile and training (seconds) ==")
    print(f"{'model':<16} {'compile':>7} {'(AOT)':>6} {'to best':>8} {'best/run':>8} "
          f"{'fit total':>9} {'s/epoch':>7} {'test HR@10':>10}")  # fmt: skip
    for r in rows:
        print(f"{r['model']:<16} {r['compile']:>7.2f} {r['aot']:>6.2f} {r['to_best']:>8.1f} "
              f"{r['best']:>4}/{r['epochs']:<3} {r['fit']:>9.1f} {r['epoch_mean']:>7.2f} "
              f"{r['hr']:>10.4f}")  # fmt: skip
    print("(compile: a one-epoch fit on one minibatch with the full validation, first run minus "
          "second: the training step and the scorer, compiled before the real fit; AOT: "
          f"jit(scorer).lower().compile() on {AOT_STATES} states; to best: wall time of epochs "
          "1..best, each with its validation pass)")  # fmt: skip
    print()

    print(f"== throughput (best of 3 after a warm-up; {len(states):,} random states, "
          f"{len(prefixes):,} test prefixes, top-10) ==")  # fmt: skip
    print(f"{'model':<16} {'score_states /s':>16} {'recommend_many /s':>18}")
    for r in rows:
        print(f"{r['model']:<16} {r['score_rate']:>16,.0f} {r['rec_rate']:>18,.0f}")
    print()

    codes, names = catalog.primary_genres("paper")
    genre_bytes = per_genre_dense_bytes(np.bincount(codes, minlength=len(names)), n, np.float32)
    single_bytes = dense_table_bytes(n_combinations(n, 3), n, np.float32)
    print("== memory of the parameters (float32) ==")
    print(f"{'model':<16} {'parameters':>11} {'bytes':>10} {'tables / net':>12} "
          f"{'single / net':>12}")  # fmt: skip
    for r in rows:
        print(f"{r['model']:<16} {r['n_params']:>11,} {format_bytes(r['nbytes']):>10} "
              f"{genre_bytes / r['nbytes']:>11,.0f}x {single_bytes / r['nbytes']:>11,.0f}x")  # fmt: skip
    print(f"dense per-genre Q-tables ({len(names)} genres, state_space.per_genre_dense_bytes): "
          f"{format_bytes(genre_bytes)}; one dense table over all {n}C3 states "
          f"(state_space.dense_table_bytes): {format_bytes(single_bytes)}")  # fmt: skip
    print()

    ref = rows[0]
    print("== ratios (this run; x DQN's) ==")
    print(f"{'model':<16} {'to best':>8} {'s/epoch':>8} {'scoring':>8} {'recommend':>9} "
          f"{'bytes':>6} {'test HR@10':>10} {'compile / fit':>13}")  # fmt: skip
    for r in rows:
        print(f"{r['model']:<16} {r['to_best'] / ref['to_best']:>8.2f} "
              f"{r['epoch_mean'] / ref['epoch_mean']:>8.2f} "
              f"{r['score_rate'] / ref['score_rate']:>8.2f} {r['rec_rate'] / ref['rec_rate']:>9.2f} "
              f"{r['nbytes'] / ref['nbytes']:>6.2f} {r['hr'] / ref['hr']:>10.2f} "
              f"{r['compile'] / r['fit']:>13.1%}")  # fmt: skip
    print("(compile / fit: the model's compile time over its own total fit time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
