"""The training loop shared by every network: shuffled replay, a target network, early stopping.

One step draws a minibatch from the replay buffer, takes the gradient of the network's loss
(:mod:`.losses`) and moves the weights with Adam (optax). The target network is a frozen copy
of the weights that the TD target is computed with: it is refreshed by a copy every
``target_every`` steps, or follows by Polyak averaging. After every epoch the validation hit
rate decides whether this is the best network so far; training stops after ``patience`` epochs
without improvement and returns the best one.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from .. import checks
from ..protocol import as_history
from ..sessions import Transitions
from . import losses
from .config import KINDS, NetConfig
from .networks import Params
from .replay import ReplayBuffer, check_transitions, states_of

#: States per scoring call. Every call is padded to exactly this many rows, so a state's scores
#: are computed by the same compiled kernel whether it is scored alone or among thousands
#: (float32 results can differ in the last bit between batch shapes, which reorders near-ties).
SCORE_BLOCK = 512


#: The loss of each kind of network, all called ``loss(params, target, batch, *td_settings)``.
_LOSSES: dict[str, Callable[..., jax.Array]] = {
    "dqn": losses.td_loss,
    "sqn": losses.sqn_loss,
    "supervised": lambda params, target, batch, *td: losses.cross_entropy(params, batch),
}


def _loss_of(kind: str) -> Callable[..., jax.Array]:
    return _LOSSES[checks.one_of("kind", kind, KINDS)]


@functools.lru_cache(maxsize=32)
def step_function(
    kind: str, gamma: float, double: bool, learning_rate: float, negative_weight: float = 1.0
) -> Callable:
    """A compiled ``step(params, target, opt_state, batch) -> (params, opt_state, loss)``.

    Cached per setting, so that training the same kind of network again does not compile
    again (jit still compiles once per new array shape).
    """
    loss_fn = _loss_of(kind)
    optimizer = optax.adam(learning_rate)

    @jax.jit
    def step(params: Params, target: Params, opt_state: optax.OptState, batch: dict):
        loss, grads = jax.value_and_grad(loss_fn)(
            params, target, batch, gamma, double, negative_weight
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return step


def optimizer_state(params: Params, learning_rate: float) -> optax.OptState:
    """Adam's initial state for these parameters."""
    return optax.adam(learning_rate).init(params)


#: :func:`~odsc_recsys.deep.losses.polyak`, compiled.
polyak_update = jax.jit(losses.polyak)


def training_step(kind: str, params: Params, config: NetConfig) -> tuple[Callable, optax.OptState]:
    """The compiled :func:`step_function` of this kind and configuration, and Adam's initial
    state for ``params``: what both the offline loop and the online agent start from."""
    step = step_function(
        kind, config.gamma, config.double, config.learning_rate, config.negative_weight
    )
    return step, optimizer_state(params, config.learning_rate)


def next_target(target: Params, params: Params, n_steps: int, config: NetConfig) -> Params:
    """The target network after gradient step number ``n_steps`` (counted from 1).

    With ``config.target_update == "polyak"`` it moves a fraction ``tau`` towards ``params``
    after every step; otherwise it becomes ``params`` every ``target_every`` steps and is
    returned unchanged in between.
    """
    if config.target_update == "polyak":
        return polyak_update(target, params, config.tau)
    if n_steps % config.target_every == 0:
        return params  # arrays are immutable: this is a copy
    return target


def score_in_blocks(score: Callable[[jax.Array], jax.Array], states: np.ndarray) -> np.ndarray:
    """``score(states)`` over many states, in padded blocks of :data:`SCORE_BLOCK`, as one
    float32 numpy array."""
    states = np.asarray(states, dtype=np.int32)
    parts = []
    for start in range(0, len(states), SCORE_BLOCK):
        block = states[start : start + SCORE_BLOCK]
        padded = np.zeros((SCORE_BLOCK, states.shape[1]), dtype=np.int32)
        padded[: len(block)] = block
        parts.append(np.asarray(score(jnp.asarray(padded)))[: len(block)])
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def rank_of_targets(scores: np.ndarray, targets: np.ndarray, exclude: np.ndarray) -> np.ndarray:
    """Position (0 = first) of each target in its list, as :func:`~odsc_recsys.protocol.top_k`
    would order it: higher score first, ties to the lower index, excluded movies left out.

    ``exclude`` is a boolean ``(n, n_items)`` mask. A target that is itself excluded gets the
    rank ``n_items`` (never a hit).
    """
    s = np.where(exclude, -np.inf, scores.astype(np.float64))
    rows = np.arange(len(targets))
    mine = s[rows, targets][:, None]
    ahead = (s > mine) | ((s == mine) & (np.arange(s.shape[1])[None, :] < targets[:, None]))
    rank = ahead.sum(axis=1)
    rank[exclude[rows, targets]] = s.shape[1]
    return rank


@dataclass(frozen=True)
class Validator:
    """HR@k and NDCG@k on held-out transitions, computed straight from a score matrix.

    It gives the same numbers as :func:`~odsc_recsys.metrics.evaluate` with the same
    ``histories``: the model sees each user's history before the target, whose movies are
    excluded from the list.
    """

    states: np.ndarray
    targets: np.ndarray
    exclude: np.ndarray
    k: int

    @classmethod
    def from_transitions(
        cls,
        transitions: Transitions,
        n_items: int,
        k: int,
        histories: Mapping[int, np.ndarray] | None = None,
    ) -> Validator:
        check_transitions("val", transitions)
        if len(transitions) == 0:  # a hit rate over no lists would be NaN, and never improve
            raise ValueError("val must hold at least one transition, got none")
        n_items = checks.positive_int("n_items", n_items)
        k = checks.positive_int("k", k)
        targets = np.asarray(transitions.targets)
        for what, values in (("state", transitions.states), ("target", targets)):
            try:
                as_history(np.ravel(values), n_items)
            except ValueError as err:
                raise ValueError(f"a validation {what}: {err}") from None
        if histories is not None:
            if not isinstance(histories, Mapping):
                raise ValueError(f"histories must be a mapping user -> history, got "
                                 f"{type(histories).__name__} {checks.short_repr(histories)}")  # fmt: skip
            missing = sorted(set(np.unique(transitions.users).tolist()) - set(histories))
            if missing:
                raise ValueError(
                    f"histories must hold every user of val, but user {missing[0]!r} has no "
                    f"history ({len(missing)} missing)"
                )
            for user, history in histories.items():
                try:
                    as_history(history, n_items)
                except ValueError as err:
                    raise ValueError(f"history of user {user}: {err}") from None
        prefixes = (
            transitions.prefixes(dict(histories))
            if histories is not None
            else list(transitions.states)
        )
        exclude = np.zeros((len(prefixes), n_items), dtype=bool)
        for j, p in enumerate(prefixes):
            exclude[j, p] = True
        return cls(states_of(prefixes, n_items), targets, exclude, k)

    def __call__(self, score: Callable[[jax.Array], jax.Array]) -> dict[str, float]:
        rank = rank_of_targets(score_in_blocks(score, self.states), self.targets, self.exclude)
        hit = rank < self.k
        return {
            f"val_HR@{self.k}": float(hit.mean()),
            f"val_NDCG@{self.k}": float(np.where(hit, 1.0 / np.log2(rank + 2.0), 0.0).mean()),
        }


@dataclass
class FitResult:
    """What :func:`fit` returns: the best parameters and how training went.

    ``curve`` has one row per epoch (mean loss, validation metrics); ``seconds`` holds the
    wall time of each epoch (kept out of ``curve``, which notebooks print and must not vary).
    """

    params: Params
    curve: pd.DataFrame
    best_epoch: int
    seconds: list[float] = field(default_factory=list)


def fit(
    kind: str,
    params: Params,
    score: Callable[[Params, jax.Array], jax.Array],
    buffer: ReplayBuffer,
    config: NetConfig,
    rng: np.random.Generator,
    validator: Validator | None = None,
    progress: bool = False,
    desc: str = "training",
) -> FitResult:
    """Train ``params`` on the buffer with early stopping on ``validator``.

    Parameters
    ----------
    kind : {"dqn", "sqn", "supervised"}
        Which loss (:mod:`.losses`).
    params : Params
        Initial parameters (:func:`~odsc_recsys.deep.networks.init_params`).
    score : callable
        ``score(params, states) -> (B, n_items)``, what the validation ranks.
    buffer : ReplayBuffer
    config : NetConfig
    rng : numpy.random.Generator
        Shuffles the buffer every epoch.
    validator : Validator, optional
        Without it, training runs ``max_epochs`` and keeps the last parameters.
    progress : bool
        A progress bar over epochs that shows the validation hit rate.
    """
    _loss_of(kind)
    if not isinstance(config, NetConfig):
        raise ValueError(f"config must be a NetConfig, got {type(config).__name__}")
    if not isinstance(buffer, ReplayBuffer):
        raise ValueError(f"buffer must be a ReplayBuffer, got {type(buffer).__name__}")
    if validator is not None and not isinstance(validator, Validator):
        raise ValueError(f"validator must be a Validator or None, got {type(validator).__name__}")
    checks.generator("rng", rng)
    checks.boolean("progress", progress)
    step, opt_state = training_step(kind, params, config)
    target = params
    epochs = range(1, config.max_epochs + 1)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(epochs, desc=desc, unit="epoch")
        epochs = bar
    rows, seconds, n_steps = [], [], 0
    best, best_epoch, best_params, waited = -np.inf, 0, params, 0
    for epoch in epochs:
        start, epoch_losses = time.perf_counter(), []
        for index in buffer.minibatches(rng, config.batch_size):
            params, opt_state, loss = step(params, target, opt_state, buffer.batch(index))
            epoch_losses.append(loss)  # read once per epoch: no sync after every step
            n_steps += 1
            target = next_target(target, params, n_steps, config)
        row = {"epoch": epoch, "loss": float(np.mean(jax.device_get(epoch_losses)))}
        if validator is not None:
            row.update(validator(functools.partial(score, params)))
        seconds.append(time.perf_counter() - start)
        rows.append(row)
        if validator is None:
            best_epoch, best_params = epoch, params
            continue
        value = row[f"val_HR@{validator.k}"]
        if bar is not None:
            bar.set_postfix({f"val HR@{validator.k}": f"{value:.4f}"})
        if value > best:
            best, best_epoch, best_params, waited = value, epoch, params, 0
        else:
            waited += 1
            if waited >= config.patience:
                break
    if bar is not None:
        bar.close()
    return FitResult(best_params, pd.DataFrame(rows), best_epoch, seconds)
