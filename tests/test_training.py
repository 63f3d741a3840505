"""Replay training: determinism, hyperparameter checks, and that it learns planted structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from odsc_recsys.catalog import Catalog
from odsc_recsys.classical import Popularity
from odsc_recsys.metrics import evaluate
from odsc_recsys.sessions import chronological_split
from odsc_recsys.training import AS_PUBLISHED, TrainConfig, grid_search, stream_curve, sweep, train


def planted_catalog(n_items: int = 40, n_genres: int = 4) -> Catalog:
    genres = [(f"G{i % n_genres}",) for i in range(n_items)]
    # distinct popularity so the catalogue order is fixed; Popularity favours low indices
    return Catalog(np.arange(1, n_items + 1), [f"m{i}" for i in range(n_items)], genres,
                   np.arange(n_items, 0, -1) * 10)  # fmt: skip


def planted_histories(n_items: int, n_users: int, length: int, seed: int) -> dict:
    """Users walk a fixed random successor map 85% of the time: strong sequential structure
    that popularity cannot see."""
    rng = np.random.default_rng(seed)
    successor = np.random.default_rng(123).permutation(n_items)
    histories = {}
    for u in range(n_users):
        h = [int(rng.integers(n_items))]
        while len(h) < length:
            nxt = int(successor[h[-1]]) if rng.random() < 0.85 else int(rng.integers(n_items))
            if nxt not in h:
                h.append(nxt)
            elif len(set(h)) == n_items:
                break
            else:
                h.append(int(rng.choice([i for i in range(n_items) if i not in h])))
        histories[u] = np.array(h)
    return histories


@pytest.fixture(scope="module")
def planted():
    catalog = planted_catalog()
    histories = planted_histories(catalog.n_items, 120, 20, seed=0)
    return catalog, histories, chronological_split(histories)


def test_training_is_deterministic_for_a_seed(planted):
    catalog, _, split = planted
    config = AS_PUBLISHED.with_(epochs=2)
    a, log_a = train(catalog, split.train, config, np.random.default_rng(5))
    b, log_b = train(catalog, split.train, config, np.random.default_rng(5))
    c, _ = train(catalog, split.train, config, np.random.default_rng(6))
    for g in range(a.n_tables):
        np.testing.assert_array_equal(a.table(g), b.table(g))
    pd.testing.assert_frame_equal(log_a, log_b)
    assert any(not np.array_equal(a.table(g), c.table(g)) for g in range(a.n_tables))


def test_readable_and_compiled_training_agree(planted):
    catalog, _, split = planted
    a, log_a = train(catalog, split.train, AS_PUBLISHED, np.random.default_rng(1), fast=False)
    b, log_b = train(catalog, split.train, AS_PUBLISHED, np.random.default_rng(1), fast=True)
    for g in range(a.n_tables):
        np.testing.assert_array_equal(a.table(g), b.table(g))
    pd.testing.assert_frame_equal(log_a, log_b)


def test_trained_agent_beats_popularity_on_planted_sequences(planted):
    catalog, histories, split = planted
    tuned = AS_PUBLISHED.with_(alpha=0.1, penalty=0.0, gamma=0.5, epsilon=0.1, epochs=2)
    tables, curve = train(catalog, split.train, tuned, np.random.default_rng(0),
                          val=split.val, histories=histories)  # fmt: skip
    agent = evaluate(tables.as_recommender(), split.test, k=5, histories=histories)
    pop = evaluate(Popularity().fit(split.train_histories, catalog.n_items), split.test, k=5,
                   histories=histories)  # fmt: skip
    assert agent["HR@5"].iloc[0] > 2 * pop["HR@5"].iloc[0]
    assert agent["HR@5"].iloc[0] > 0.5  # the successor is right 85% of the time
    assert list(curve.columns) == [
        "epoch",
        "train_hit_rate",
        "explored",
        "val_HR@10",
        "val_NDCG@10",
    ]


def test_bad_hyperparameters_are_named():
    with pytest.raises(ValueError, match="alpha"):
        TrainConfig(alpha=0.0)
    with pytest.raises(ValueError, match="gamma"):
        TrainConfig(gamma=float("nan"))
    with pytest.raises(ValueError, match="epsilon"):
        TrainConfig(epsilon=1.5)
    with pytest.raises(ValueError, match="penalty"):
        TrainConfig(penalty=-1.0)
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)


def test_grid_search_and_sweep_use_validation_only(planted):
    catalog, histories, split = planted
    base = AS_PUBLISHED.with_(epochs=1)
    g = grid_search(catalog, split.train, split.val, {"alpha": [0.1, 0.8]}, base,
                    histories=histories)  # fmt: skip
    assert list(g.columns) == ["alpha", "val_HR@10", "val_NDCG@10"]
    assert g["val_HR@10"].is_monotonic_decreasing
    # the grid's numbers are exactly a model trained with that config and scored on val
    tables, _ = train(catalog, split.train, base.with_(alpha=0.1), np.random.default_rng(0))
    direct = evaluate(tables.as_recommender(), split.val, k=10, histories=histories)
    assert g.set_index("alpha").loc[0.1, "val_HR@10"] == direct["HR@10"].iloc[0]
    s = sweep(catalog, split.train, split.val, {"alpha": [0.1, 0.8], "penalty": [0.0, 5.0]},
              base, histories=histories)  # fmt: skip
    assert list(s["parameter"]) == ["alpha", "alpha", "penalty", "penalty"]
    # the base point (alpha 0.8, penalty 5) is the same model in both sweeps
    assert s.iloc[1]["val_HR@10"] == s.iloc[3]["val_HR@10"]
    with pytest.raises(ValueError, match="learning_rate"):
        grid_search(catalog, split.train, split.val, {"learning_rate": [0.1]})


def test_stream_curve_equals_one_uninterrupted_run(planted):
    catalog, _, split = planted
    config = AS_PUBLISHED.with_(epochs=2)
    curve = stream_curve(catalog, split.train, config, np.random.default_rng(3), chunk=100)
    assert curve["seen"].iloc[-1] == 2 * len(split.train)
    assert curve["explored"].between(0.15, 0.45).all()
    whole, log = train(catalog, split.train, config, np.random.default_rng(3))
    # the last chunk's hit rate comes from the same stream as the whole second epoch
    n = len(split.train)
    last = curve[curve["epoch"] == 2]
    sizes = np.diff(np.r_[n, last["seen"].to_numpy()])
    assert np.average(last["hit_rate"], weights=sizes) == pytest.approx(
        log["train_hit_rate"].iloc[1]
    )
