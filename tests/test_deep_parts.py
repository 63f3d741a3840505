"""The shared pieces of odsc_recsys.deep by hand: the target-network schedule, the training
step both loops start from, the online ring buffer, and batched scoring on the protocol.

Tiny networks on a tiny synthetic catalogue (never MovieLens).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from odsc_recsys.deep import DQNRecommender, NetConfig, load_network, networks, trainer
from odsc_recsys.deep.replay import ReplayBuffer
from odsc_recsys.sessions import WINDOW, make_transitions

N_ITEMS = 8
TINY = NetConfig(embed_dim=4, hidden=8, batch_size=8, max_epochs=2, learning_rate=0.01)


@pytest.fixture(scope="module")
def model() -> DQNRecommender:
    rng = np.random.default_rng(0)
    histories = {u: rng.permutation(N_ITEMS) for u in range(12)}
    return DQNRecommender(TINY).fit(make_transitions(histories), N_ITEMS,
                                    np.random.default_rng(0))  # fmt: skip


def test_copied_target_changes_every_target_every_steps_only():
    config = NetConfig(target_every=3)
    target, params = {"w": jnp.zeros(2)}, {"w": jnp.ones(2)}
    assert trainer.next_target(target, params, 1, config) is target
    assert trainer.next_target(target, params, 2, config) is target
    assert trainer.next_target(target, params, 3, config) is params
    assert trainer.next_target(target, params, 4, config) is target
    assert trainer.next_target(target, params, 6, config) is params


def test_polyak_target_moves_tau_of_the_way_after_every_step():
    config = NetConfig(target_update="polyak", tau=0.25)
    target, params = {"w": jnp.array([0.0, 2.0])}, {"w": jnp.array([4.0, 2.0])}
    for n_steps in (1, 3):  # the step count does not matter
        out = trainer.next_target(target, params, n_steps, config)
        np.testing.assert_array_equal(np.asarray(out["w"]), [1.0, 2.0])


def test_training_step_is_the_cached_step_and_a_fresh_adam_state():
    params = networks.init_params(jnp.zeros(2, jnp.uint32), N_ITEMS, TINY)
    step, opt_state = trainer.training_step("dqn", params, TINY)
    assert step is trainer.step_function("dqn", TINY.gamma, TINY.double, TINY.learning_rate,
                                         TINY.negative_weight)  # fmt: skip
    fresh = trainer.optimizer_state(params, TINY.learning_rate)
    assert int(opt_state[0].count) == int(fresh[0].count) == 0


def test_an_empty_buffer_is_filled_row_by_row():
    buffer = ReplayBuffer.empty(3)
    assert len(buffer) == 3 and buffer.states.shape == (3, WINDOW)
    assert buffer.actions.tolist() == [-1, -1, -1]
    buffer.put(1, np.array([8, 2, 5]), 4, 1.0, np.array([2, 5, 4]), True)
    batch = buffer.batch(np.array([1, 0]))
    assert batch["states"].tolist() == [[8, 2, 5], [0, 0, 0]]
    assert batch["next_states"].tolist() == [[2, 5, 4], [0, 0, 0]]
    assert batch["actions"].tolist() == [4, -1]
    assert batch["rewards"].tolist() == [1.0, 0.0] and batch["done"].tolist() == [1.0, 0.0]
    assert [batch[k].dtype for k in ("states", "actions", "rewards", "done")] == [
        np.int32, np.int32, np.float32, np.float32]  # fmt: skip


def test_score_many_rows_are_the_single_scores(model):
    histories = [[1, 2, 3], [], [5], [7, 0, 6, 2]]
    scores = model.score_many(histories)
    assert scores.dtype == np.float64 and scores.shape == (4, N_ITEMS)
    for row, history in zip(scores, histories, strict=True):
        np.testing.assert_array_equal(row, model.score(history))
    assert model.score_many([]).shape == (0, N_ITEMS)


def test_curve_is_the_fit_results_and_empty_without_one(model, tmp_path):
    assert DQNRecommender(TINY).curve.empty
    assert model.curve is model.fit_result.curve and list(model.curve.epoch) == [1, 2]
    loaded = load_network(model.save(tmp_path / "dqn.npz"))
    assert loaded.curve.empty and loaded.best_epoch == model.best_epoch
