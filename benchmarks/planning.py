"""Does looking ahead pay? Notebook 11's sweeps of the discount gamma, at a larger scale.

Notebook 11 runs each sweep small enough to stay under a minute; this script reruns them with
more seeds and sessions, so the notebook can cite figures with narrower intervals. Every run
uses common random numbers: the discounts of one seed meet the same users with the same draws.
``make benchmark-planning`` or ``python benchmarks/planning.py`` (several minutes on two cores).

* ``tables``: the talk's per-genre Q-tables learning online (notebook 08's agent and
  hyperparameters), gamma 0 / 0.5 / 0.9 / 0.99, in notebook 08's simulator, with its defaults,
  with the rating effect on interest doubled (``rating_gain`` 0.2, which reproduces MovieLens's
  link between low ratings and stopping) and with boredom 0.2.
* ``dqn``: notebook 10's dueling DQN, pretrained on the other users' logs, learning online at
  each discount.
* ``boredom``: notebook 11's genre world, the genre-choice agent at gamma 0 and 0.9, for
  boredom from 0 (off) to 0.5: how strong must boredom be before looking ahead pays?
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from odsc_recsys.online import (
    GenreChoiceAgent,
    QLearningAgent,
    gamma_sweep,
    split_users,
    summarise,
    versus,
)
from odsc_recsys.qtables import GenreQTables
from odsc_recsys.sessions import load_tutorial_data, make_transitions
from odsc_recsys.simulator import MovieLensUserEnv, UserModel, genre_world

GAMMAS = [0.0, 0.5, 0.9, 0.99]
METRICS = ["reward", "steps", "coverage"]
BOREDOM = 0.2
APPEAL = {"Comedy": 1.5, "Drama": 0.5, "Romance": 0.0}  # notebook 11's genre world


def movielens_envs(model: UserModel, users: np.ndarray) -> dict[str, MovieLensUserEnv]:
    return {
        "notebook 08": MovieLensUserEnv(model, users=users),
        "rating_gain 0.2": MovieLensUserEnv(model, users=users, rating_gain=0.2),
        f"boredom {BOREDOM}": MovieLensUserEnv(model, users=users, boredom=BOREDOM),
    }


def report(title: str, results: pd.DataFrame, window: int, seconds: float) -> None:
    last = results[results.session >= results.session.max() + 1 - window]
    print(f"\n== {title} ({results.seed.nunique()} seeds, last {window} sessions, "
          f"{seconds:.0f} s) ==")  # fmt: skip
    print(summarise(last, METRICS).xs("mean", axis=1, level=1).round(3).to_string())
    print("\nminus gamma = 0, paired by seed (mean, 95% interval):")
    print(versus(last, ["reward", "steps"], "γ = 0").round(2).to_string())


def tables(model: UserModel, users: np.ndarray, seeds: int, sessions: int) -> None:
    genre, names = model.primary_genre, model.primary_names

    def make(gamma: float, seed: int) -> QLearningAgent:
        qt = GenreQTables(genre, names, alpha=0.1, gamma=gamma, epsilon=0.1)
        return QLearningAgent(qt, pad=model.n_items, penalty=1.0)

    start = time.perf_counter()
    results = gamma_sweep(movielens_envs(model, users), make, GAMMAS, range(seeds), sessions)
    report("per-genre Q-tables", results, sessions // 4, time.perf_counter() - start)


def dqn(model: UserModel, users: np.ndarray, logged: dict, seeds: int, sessions: int) -> None:
    from odsc_recsys.deep.agent import QNetworkAgent
    from odsc_recsys.deep.config import NetConfig
    from odsc_recsys.deep.models import DQNRecommender

    start = time.perf_counter()
    net = DQNRecommender(NetConfig(max_epochs=1, dueling=True))
    net.fit(make_transitions(logged), model.n_items, np.random.default_rng(0))
    envs = movielens_envs(model, users)
    envs.pop("rating_gain 0.2")

    def make(gamma: float, seed: int) -> QNetworkAgent:
        return QNetworkAgent(net, pad=model.n_items, seed=seed, gamma=gamma)

    results = gamma_sweep(envs, make, GAMMAS, range(seeds), sessions)
    report("dueling DQN online", results, sessions // 2, time.perf_counter() - start)


def boredom(seeds: int, sessions: int) -> None:
    world = genre_world(APPEAL)
    start = time.perf_counter()
    envs = {f"boredom {b:g}": MovieLensUserEnv(world, k=1, n_start=0, boredom=b)
            for b in (0.0, 0.1, 0.2, 0.3, 0.5)}  # fmt: skip

    def make(gamma: float, seed: int) -> GenreChoiceAgent:
        return GenreChoiceAgent(world.primary_genre, world.primary_names, gamma=gamma,
                                alpha=0.3)  # fmt: skip

    results = gamma_sweep(envs, make, [0.0, 0.9], range(seeds), sessions)
    report("genre world, genre-choice agent", results, sessions // 4,
           time.perf_counter() - start)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    groups = ("tables", "dqn", "boredom")
    parser.add_argument("--groups", nargs="+", choices=groups, default=list(groups))
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    model = UserModel.from_movielens(n_items=627, seed=0)
    users, log_users = split_users(model.user_ids, n_simulated=200, seed=0)
    if "tables" in args.groups:
        tables(model, users, args.seeds, sessions=200)
    if "dqn" in args.groups:
        data = load_tutorial_data()
        logged = {int(u): data.histories[int(u)] for u in log_users}
        dqn(model, users, logged, min(args.seeds, 5), sessions=60)
    if "boredom" in args.groups:
        boredom(args.seeds, sessions=800)


if __name__ == "__main__":
    main()
