"""Hyperparameters of the Q-networks, checked once (through :mod:`odsc_recsys.checks`) when a
configuration is made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from .. import checks

#: The kinds of network this package trains (see :mod:`odsc_recsys.deep.models`).
KINDS = ("dqn", "sqn", "supervised")

#: How the target network follows the online one.
TARGET_UPDATES = ("copy", "polyak")


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
        checked = {
            "embed_dim": checks.integer("embed_dim", self.embed_dim, 1, 4096),
            "hidden": checks.integer("hidden", self.hidden, 1, 65536),
            # gamma = 1 would be an undiscounted bootstrap, which on logs never stops growing
            "gamma": checks.real("gamma", self.gamma, 0.0, 1.0, high_open=True),
            "double": checks.boolean("double", self.double),
            "dueling": checks.boolean("dueling", self.dueling),
            "negative_weight": checks.real(
                "negative_weight", self.negative_weight, 0.0, 1e6, low_open=True
            ),
            "target_update": checks.one_of("target_update", self.target_update, TARGET_UPDATES),
            "target_every": checks.positive_int("target_every", self.target_every),
            "tau": checks.real("tau", self.tau, 0.0, 1.0, low_open=True),
            "learning_rate": checks.real(
                "learning_rate", self.learning_rate, 0.0, 1.0, low_open=True
            ),
            "batch_size": checks.integer("batch_size", self.batch_size, 1, 1_000_000),
            "max_epochs": checks.integer("max_epochs", self.max_epochs, 1, 10_000),
            "patience": checks.integer("patience", self.patience, 1, 10_000),
            "k": checks.positive_int("k", self.k),
        }
        # plain Python numbers (numpy scalars are accepted), so a config always saves as JSON
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def with_(self, **changes: Any) -> NetConfig:
        """A copy with some fields changed (checked again)."""
        unknown = sorted(set(changes) - set(asdict(self)))
        if unknown:
            raise ValueError(
                f"unknown NetConfig field(s) {unknown}; allowed: {sorted(asdict(self))}"
            )
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> NetConfig:
        """The inverse of :meth:`as_dict` (unknown keys are an error)."""
        if not isinstance(values, Mapping):
            raise ValueError(
                f"values must be a mapping of NetConfig field names to values, got {values!r}"
            )
        names = [key for key in values if not isinstance(key, str)]
        if names:
            raise ValueError(f"NetConfig field names must be strings, got {names[0]!r}")
        return cls().with_(**values)
