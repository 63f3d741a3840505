"""Hyperparameters of the Q-networks, checked once when a configuration is made."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

#: The kinds of network this package trains (see :mod:`odsc_recsys.deep.models`).
KINDS = ("dqn", "sqn", "supervised")

#: How the target network follows the online one.
TARGET_UPDATES = ("copy", "polyak")


def _positive_int(name: str, value: Any, high: float = math.inf) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 1 <= value <= high:
        allowed = "a positive integer" if high == math.inf else f"an integer in [1, {high:g}]"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def _real(name: str, value: Any, low: float, high: float, *, open_low: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    inside = (low < x if open_low else low <= x) and x <= high  # false for NaN
    if not inside:
        bracket = "(" if open_low else "["
        raise ValueError(f"{name} must be in {bracket}{low:g}, {high:g}], got {value!r}")
    return x


@dataclass(frozen=True)
class NetConfig:
    """Everything that shapes a Q-network and its training.

    The defaults were chosen on the validation split (``benchmarks/deep_tuning.py`` prints the
    search); the test split never took part. Batches of 256 at a learning rate of 0.001 score
    within 0.001 of the default 512 and 0.002, in about half again the time.

    Attributes
    ----------
    embed_dim : int
        Size of each movie's embedding; a state's three embeddings are concatenated.
    hidden : int
        Width of the encoder's hidden layer.
    gamma : float
        Discount of the bootstrapped target, in [0, 1).
    double : bool
        Double DQN: the online network picks the next action, the target network values it.
    dueling : bool
        Split the Q head into a state value and per-movie advantages.
    negative_weight : float
        Weight of the mean TD error over the movies not watched, against the watched movie's
        (:func:`~odsc_recsys.deep.losses.td_loss`); > 0.
    target_update : {"copy", "polyak"}
        Copy the online weights every ``target_every`` steps, or move the target a fraction
        ``tau`` towards them after every step.
    target_every : int
        Steps between copies (``"copy"`` only).
    tau : float
        Polyak rate in (0, 1] (``"polyak"`` only).
    learning_rate : float
        Adam's step size.
    batch_size : int
        Transitions per minibatch, drawn from the shuffled replay buffer.
    max_epochs : int
        Upper bound on passes over the buffer.
    patience : int
        Stop after this many epochs without a better validation hit rate, and keep the best.
    k : int
        List length of the validation hit rate that early stopping watches.
    """

    embed_dim: int = 32
    hidden: int = 256
    gamma: float = 0.5
    double: bool = True
    dueling: bool = False
    negative_weight: float = 10.0
    target_update: str = "copy"
    target_every: int = 200
    tau: float = 0.01
    learning_rate: float = 2e-3
    batch_size: int = 512
    max_epochs: int = 20
    patience: int = 2
    k: int = 10

    def __post_init__(self) -> None:
        gamma = self.gamma
        real = not isinstance(gamma, bool) and isinstance(gamma, int | float | np.number)
        # gamma = 1 would be an undiscounted bootstrap, which on logs never stops growing
        if not real or not 0.0 <= float(gamma) < 1.0:  # also rejects NaN
            raise ValueError(f"gamma must be a real number in [0, 1), got {gamma!r}")
        gamma = float(gamma)
        for flag in ("double", "dueling"):
            if not isinstance(getattr(self, flag), bool | np.bool_):
                raise ValueError(f"{flag} must be True or False, got {getattr(self, flag)!r}")
        if self.target_update not in TARGET_UPDATES:
            raise ValueError(
                f"target_update must be one of {TARGET_UPDATES}, got {self.target_update!r}"
            )
        checked = {
            "embed_dim": _positive_int("embed_dim", self.embed_dim, 4096),
            "hidden": _positive_int("hidden", self.hidden, 65536),
            "gamma": gamma,
            "double": bool(self.double),
            "dueling": bool(self.dueling),
            "negative_weight": _real("negative_weight", self.negative_weight, 0.0, 1e6,
                                     open_low=True),  # fmt: skip
            "target_every": _positive_int("target_every", self.target_every),
            "tau": _real("tau", self.tau, 0.0, 1.0, open_low=True),
            "learning_rate": _real("learning_rate", self.learning_rate, 0.0, 1.0, open_low=True),
            "batch_size": _positive_int("batch_size", self.batch_size, 1_000_000),
            "max_epochs": _positive_int("max_epochs", self.max_epochs, 10_000),
            "patience": _positive_int("patience", self.patience, 10_000),
            "k": _positive_int("k", self.k),
        }
        # plain Python numbers (numpy scalars are accepted), so a config always saves as JSON
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def with_(self, **changes: Any) -> NetConfig:
        """A copy with some fields changed (checked again)."""
        unknown = sorted(set(changes) - set(asdict(self)))
        if unknown:
            raise ValueError(f"unknown NetConfig field(s) {unknown}; allowed: {sorted(asdict(self))}")
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> NetConfig:
        """The inverse of :meth:`as_dict` (unknown keys are an error)."""
        return cls().with_(**values)
