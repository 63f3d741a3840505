"""Deep Q-networks for recommendation (notebook 10): from a table row to a function.

A Q-table keeps one row per state, so it knows nothing about a state it never saw. A network
embeds movies and computes ``Q(s, .)`` from them, so what it learns about one state carries to
states that share movies. Built on JAX and optax, as plain pytrees of arrays.

Modules: :mod:`.config` (hyperparameters), :mod:`.networks` (encoder and heads),
:mod:`.losses` (TD loss, double-DQN targets, cross-entropy, Polyak), :mod:`.replay` (logged
transitions as a replay buffer), :mod:`.trainer` (the training loop, early stopping),
:mod:`.models` (the recommenders, save/load), :mod:`.agent` (a Q-network acting online).
"""

from .config import NetConfig
from .models import (
    DQNRecommender,
    QNetworkRecommender,
    SQNRecommender,
    SupervisedRecommender,
    load_network,
)

__all__ = [
    "DQNRecommender",
    "NetConfig",
    "QNetworkRecommender",
    "SQNRecommender",
    "SupervisedRecommender",
    "load_network",
]
