"""The networks: a state encoder and the heads that read it, as plain pytrees of arrays.

A state is the last three movies a user watched, oldest first (the talk's state). A history
shorter than three is padded at the front with the index ``n_items``, which has an embedding of
its own ("no movie yet"). The encoder looks up the three embeddings, concatenates them (so the
most recent movie keeps its place) and passes them through one hidden layer:

    h(s) = relu([E[m1], E[m2], E[m3]] W + b)

Heads read ``h(s)``:

* the **Q head** gives one value per movie, ``Q(s, .) = h(s) W_q + b_q``;
* the **dueling** Q head splits it into a state value and advantages,
  ``Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')`` (Wang et al. 2016);
* the **supervised** head gives logits of the next movie, ``h(s) W_y + b_y``, for a softmax.

A parameter set is a dict of arrays, so ``jax.tree_util`` maps over it and saving is a flat
``.npz``.
"""

from __future__ import annotations

from collections.abc import Iterable

import jax
import jax.numpy as jnp
import numpy as np

from .. import checks
from ..sessions import WINDOW
from .config import NetConfig

#: A state is this many movies: the sessions' window (the paper's three).
STATE_LEN = WINDOW

Params = dict[str, dict[str, jax.Array] | jax.Array]


def _dense(key: jax.Array, n_in: int, n_out: int) -> dict[str, jax.Array]:
    """A dense layer with Glorot-uniform weights and zero bias."""
    limit = float(np.sqrt(6.0 / (n_in + n_out)))
    w = jax.random.uniform(key, (n_in, n_out), jnp.float32, -limit, limit)
    return {"w": w, "b": jnp.zeros(n_out, jnp.float32)}


def init_params(
    key: jax.Array, n_items: int, config: NetConfig, heads: Iterable[str] = ("q",)
) -> Params:
    """Fresh parameters for a catalogue of ``n_items`` movies.

    Parameters
    ----------
    key : jax.Array
        A ``jax.random`` key (derive it from the notebook's Generator for reproducibility).
    n_items : int
        Catalogue size; the embedding table has one more row, for padding.
    config : NetConfig
        Sizes, and whether the Q head is dueling.
    heads : iterable of {"q", "supervised"}
        Which heads to create.
    """
    n_items = checks.positive_int("n_items", n_items)
    if not isinstance(config, NetConfig):
        raise ValueError(f"config must be a NetConfig, got {type(config).__name__}")
    heads = (heads,) if isinstance(heads, str) else tuple(heads)
    unknown = set(heads) - {"q", "supervised"}
    if unknown or not heads:
        raise ValueError(f"heads must be a non-empty subset of ('q', 'supervised'), got {heads}")
    k_embed, k_hidden, k_q, k_v, k_y = jax.random.split(key, 5)
    params: Params = {
        "embed": 0.1 * jax.random.normal(k_embed, (n_items + 1, config.embed_dim), jnp.float32),
        "hidden": _dense(k_hidden, WINDOW * config.embed_dim, config.hidden),
    }
    if "q" in heads:
        params["q"] = _dense(k_q, config.hidden, n_items)
        if config.dueling:
            params["value"] = _dense(k_v, config.hidden, 1)
    if "supervised" in heads:
        params["supervised"] = _dense(k_y, config.hidden, n_items)
    return params


def encode(params: Params, states: jax.Array) -> jax.Array:
    """``h(s)``: the states' embeddings, concatenated, through one ReLU layer. ``(B, hidden)``."""
    e = params["embed"][states]  # (B, 3, embed_dim)
    x = e.reshape(states.shape[0], -1)
    return jax.nn.relu(x @ params["hidden"]["w"] + params["hidden"]["b"])


def q_values(params: Params, states: jax.Array) -> jax.Array:
    """``Q(s, .)`` for a batch of states, ``(B, n_items)``; dueling when a value head exists."""
    h = encode(params, states)
    advantage = h @ params["q"]["w"] + params["q"]["b"]
    if "value" not in params:
        return advantage
    value = h @ params["value"]["w"] + params["value"]["b"]  # (B, 1)
    return value + advantage - advantage.mean(axis=1, keepdims=True)


def next_movie_logits(params: Params, states: jax.Array) -> jax.Array:
    """Logits of the next movie (the supervised head), ``(B, n_items)``."""
    h = encode(params, states)
    return h @ params["supervised"]["w"] + params["supervised"]["b"]


def n_parameters(params: Params) -> int:
    """How many numbers the network holds."""
    return int(sum(np.size(leaf) for leaf in jax.tree_util.tree_leaves(params)))


def _named_leaves(params: Params):
    """``("hidden/w", leaf), ...``: each parameter with its saved name."""
    for name, value in params.items():
        if isinstance(value, dict):
            for sub, leaf in value.items():
                yield f"{name}/{sub}", leaf
        else:
            yield name, value


def flatten(params: Params) -> dict[str, np.ndarray]:
    """``{"hidden/w": array, ...}``: the parameters as named numpy arrays (for saving)."""
    return {name: np.asarray(leaf) for name, leaf in _named_leaves(params)}


def expected_shapes(
    n_items: int, config: NetConfig, heads: Iterable[str] = ("q",)
) -> dict[str, tuple[int, ...]]:
    """The named shapes :func:`init_params` would give, computed without drawing any weights."""
    abstract = jax.eval_shape(
        lambda key: init_params(key, n_items, config, heads), jax.random.PRNGKey(0)
    )
    return {name: tuple(leaf.shape) for name, leaf in _named_leaves(abstract)}


def unflatten(arrays: dict[str, np.ndarray]) -> Params:
    """The inverse of :func:`flatten`."""
    params: Params = {}
    for key, value in arrays.items():
        if "/" in key:
            name, sub = key.split("/", 1)
            params.setdefault(name, {})[sub] = jnp.asarray(value)  # type: ignore[index]
        else:
            params[key] = jnp.asarray(value)
    return params
