"""The losses, each written like the equation it implements.

A batch is a dict of arrays:

* ``states``, ``next_states``: ``(B, 3)`` movie indices (see :mod:`.networks`);
* ``actions``: ``(B,)`` the movie that was watched (``-1``: none was);
* ``rewards``: ``(B,)`` the reward of that movie (1 on logged data);
* ``done``: ``(B,)`` 1.0 where the episode ended after the step (no future to bootstrap);
* ``mask`` (optional): ``(B, n_items)`` 1.0 for the actions whose Q-value the step should fit.

**The TD loss as a regression.** Every movie ``a`` gets the target

    y(s, a) = r(s, a) + gamma * (1 - done) * Q_target(s', a*),

with ``r(s, a)`` the reward if ``a`` was watched and 0 otherwise, and ``a*`` the best next
movie: ``argmax_a' Q_target(s', a')`` in plain DQN (Mnih et al. 2015), ``argmax_a'
Q_online(s', a')`` in double DQN (van Hasselt et al. 2016), which stops the max from picking the
movies whose values happen to be overestimated. The loss (:func:`td_loss`) is the squared
TD error of the watched movie plus a weighted mean squared TD error of the other movies that
the mask keeps (every movie on logged data). ``y`` is a constant: no
gradient flows through the target network, which is what makes it a regression target.

On logged data the next state ``s'`` is the one the user really reached, whatever the agent
would have recommended, so ``gamma * Q_target(s', a*)`` is the same number for every movie: it
shifts a row of Q-values without reordering it. Notebook 10 measures this.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .networks import Params, next_movie_logits, q_values


def bootstrap(
    online: Params,
    target: Params,
    next_states: jax.Array,
    done: jax.Array,
    gamma: float,
    double: bool,
) -> jax.Array:
    """``gamma * (1 - done) * Q_target(s', a*)``, one number per transition, without gradient."""
    q_next = q_values(target, next_states)
    if double:
        best = jnp.argmax(q_values(online, next_states), axis=1)  # the online net chooses ...
    else:
        best = jnp.argmax(q_next, axis=1)
    value = jnp.take_along_axis(q_next, best[:, None], axis=1)[:, 0]  # ... the target values
    return jax.lax.stop_gradient(gamma * (1.0 - done) * value)


def td_targets(batch: dict[str, jax.Array], future: jax.Array, n_items: int) -> jax.Array:
    """``y(s, a) = r(s, a) + future(s)`` for every movie: ``(B, n_items)``."""
    watched = jax.nn.one_hot(batch["actions"], n_items)  # all zeros where actions == -1
    return watched * batch["rewards"][:, None] + future[:, None]


def td_loss(
    params: Params,
    target: Params,
    batch: dict[str, jax.Array],
    gamma: float,
    double: bool,
    negative_weight: float = 1.0,
) -> jax.Array:
    """The squared TD error of the watched movie plus ``negative_weight`` times the mean
    squared TD error of the others, averaged over the batch.

    ``(Q(s, a_t) - y(s, a_t))^2 + w * mean_{a != a_t} (Q(s, a) - y(s, a))^2`` (only masked movies
    count when the batch has a mask). The first term is DQN's loss on the logged action; the
    second fits the movies that were not watched (reward 0). A plain mean over all 627 movies
    would be ``w = 626`` and drowns the one watched movie among zeros; any ``w > 0`` keeps the
    same ordering at the optimum (movies ranked by how likely they come next), so ``w`` only
    shapes the optimisation. Notebook 10 explains the value it uses.
    """
    q = q_values(params, batch["states"])
    n_items = q.shape[1]
    future = bootstrap(params, target, batch["next_states"], batch["done"], gamma, double)
    squared = (q - td_targets(batch, future, n_items)) ** 2
    mask = batch.get("mask")
    if mask is None:
        mask = jnp.ones_like(q)
    watched = jax.nn.one_hot(batch["actions"], n_items) * mask
    others = (1.0 - watched) * mask
    mean_others = (squared * others).sum(axis=1) / jnp.maximum(others.sum(axis=1), 1.0)
    per_row = (squared * watched).sum(axis=1) + negative_weight * mean_others
    return per_row.mean()


def cross_entropy(params: Params, batch: dict[str, jax.Array]) -> jax.Array:
    """``-log softmax(logits)[watched]``, the supervised next-movie loss (mean over the batch)."""
    logits = next_movie_logits(params, batch["states"])
    log_p = jax.nn.log_softmax(logits, axis=1)
    return -jnp.take_along_axis(log_p, batch["actions"][:, None], axis=1).mean()


def sqn_loss(params: Params, target: Params, batch: dict[str, jax.Array], *td: Any) -> jax.Array:
    """SQN (Xin et al. 2020): the supervised loss plus the TD loss, on one shared encoder.

    ``td`` are the TD settings, passed on to :func:`td_loss` as they are:
    ``gamma, double[, negative_weight]``.
    """
    return cross_entropy(params, batch) + td_loss(params, target, batch, *td)


def polyak(target: Params, online: Params, tau: float) -> Params:
    """``target <- (1 - tau) * target + tau * online``, leaf by leaf."""
    return jax.tree_util.tree_map(lambda t, o: (1.0 - tau) * t + tau * o, target, online)
