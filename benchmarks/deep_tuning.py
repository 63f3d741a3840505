"""How the Q-networks' defaults were chosen: validation HR@10 over a few settings.

Every setting trains a DQN (early stopping on validation, the same seed) on the tutorial's
training split and reports its best validation HR@10; the test split is never touched. The
defaults of ``odsc_recsys.deep.NetConfig`` are the best rows of this search. It takes several
minutes on two cores: ``make benchmark-deep-tuning`` or ``python benchmarks/deep_tuning.py``.

* ``negative_weight``: the weight of the mean TD error over unwatched movies
  (``odsc_recsys.deep.losses.td_loss``). 626 would be a plain mean over the catalogue.
* ``batch_size`` with ``learning_rate``, and the network's width.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from odsc_recsys.deep import DQNRecommender, NetConfig
from odsc_recsys.sessions import load_tutorial_data

GRID = {
    "negative_weight": [{"negative_weight": w} for w in (1.0, 3.0, 10.0, 30.0, 100.0, 626.0)],
    "batch": [
        {"batch_size": 256, "learning_rate": 1e-3},
        {"batch_size": 512, "learning_rate": 2e-3},
        {"batch_size": 1024, "learning_rate": 3e-3},
    ],
    "width": [
        {"embed_dim": 32, "hidden": 128},
        {"embed_dim": 32, "hidden": 256},
        {"embed_dim": 64, "hidden": 256},
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", nargs="+", choices=list(GRID), default=list(GRID))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = load_tutorial_data()
    split, n = data.split, data.catalog.n_items
    base = NetConfig(max_epochs=12, patience=3)
    print(f"base: {base}")
    print(f"{'group':16s} {'setting':42s} {'best epoch':>10s} {'val HR@10':>10s} {'seconds':>8s}")
    for group in args.groups:
        for change in GRID[group]:
            start = time.perf_counter()
            model = DQNRecommender(base.with_(**change)).fit(
                split.train, n, np.random.default_rng(args.seed), val=split.val,
                histories=data.histories,
            )
            best = model.curve["val_HR@10"].max()
            setting = ", ".join(f"{k}={v:g}" for k, v in change.items())
            print(f"{group:16s} {setting:42s} {model.best_epoch:10d} {best:10.4f} "
                  f"{time.perf_counter() - start:8.1f}")


if __name__ == "__main__":
    main()
