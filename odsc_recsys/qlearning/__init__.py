"""Tabular Q-learning: the Q-table, epsilon-greedy exploration, the TD update, a training loop.

Q-learning is value-based, model-free and off-policy. It never sees the transition model
``P(s, a, s')``; from each experienced step ``(s, a, r, s')`` it nudges one table entry towards
the one-step target ``r + gamma * max_a' Q(s', a')``::

    Q(s, a) <- Q(s, a) + alpha * (r + gamma * max_a' Q(s', a') - Q(s, a))

It is *off-policy* because the target uses the greedy action in ``s'`` whatever the behaviour
policy (here epsilon-greedy) actually does next.

The pieces are small functions on NumPy arrays, the textbook form that notebook 04 teaches
with. The per-genre Q-tables of :mod:`odsc_recsys.qtables` do not call them; instead
:func:`td_target` and :func:`td_update` are thin wrappers of that core's
:func:`~odsc_recsys.qtables.update.td_target` and :func:`~odsc_recsys.qtables.update.td_step`,
so the lesson and the tables share one update. Input checks live in :mod:`odsc_recsys.checks`.
:class:`SingleTableRecommender` is the first tabular recommender of notebook 04: one Q-table
whose rows are every unordered triple of a handful of movies.

Three functions are deliberately wrong, for teaching only: :func:`buggy_explore_as_coded`
(the talk code's whole exploration test), :func:`buggy_explore_argmax_index` (its second half
alone) and :func:`buggy_update_double_counted` reproduce mistakes of the talk's original code.
:func:`exploration_trade_off` runs the seeded comparison of exploration settings of notebook 04.

The package is built from small modules:

* :mod:`~odsc_recsys.qlearning.table`: a fresh Q-table and the checks of a table or a row;
* :mod:`~odsc_recsys.qlearning.selection`: greedy and epsilon-greedy actions, epsilon schedules;
* :mod:`~odsc_recsys.qlearning.td`: the TD target, the TD update and one step in place;
* :mod:`~odsc_recsys.qlearning.buggy`: the talk's original mistakes (``buggy_*``);
* :mod:`~odsc_recsys.qlearning.rules`: the exploration and update rule signatures;
* :mod:`~odsc_recsys.qlearning.single_table`: :class:`SingleTableRecommender`;
* :mod:`~odsc_recsys.qlearning.training`: :func:`train_q_learning` on a Gymnasium environment;
* :mod:`~odsc_recsys.qlearning.exploration`: :func:`exploration_trade_off`.
"""

from .buggy import (
    buggy_explore_argmax_index,
    buggy_explore_as_coded,
    buggy_update_double_counted,
)
from .exploration import ExplorationRuns, exploration_trade_off
from .rules import ExploreRule, UpdateRule
from .selection import (
    epsilon_greedy,
    epsilon_schedule,
    explore_uniform,
    greedy_action,
    should_explore,
)
from .single_table import SingleTableRecommender
from .table import make_q_table
from .td import q_learning_step, td_target, td_update
from .training import TrainingLog, train_q_learning

__all__ = [
    "ExplorationRuns",
    "ExploreRule",
    "SingleTableRecommender",
    "TrainingLog",
    "UpdateRule",
    "buggy_explore_argmax_index",
    "buggy_explore_as_coded",
    "buggy_update_double_counted",
    "epsilon_greedy",
    "epsilon_schedule",
    "exploration_trade_off",
    "explore_uniform",
    "greedy_action",
    "make_q_table",
    "q_learning_step",
    "should_explore",
    "td_target",
    "td_update",
    "train_q_learning",
]
