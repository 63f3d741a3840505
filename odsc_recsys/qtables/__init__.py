"""Per-genre ("distributed") Q-tables: the one core that every path shares.

The talk's answer to the state-space blow-up (see :mod:`odsc_recsys.state_space`): instead of
one Q-table with a row per 3-movie state, keep **one Q-table per genre**. The package is built
from small modules, each the one home of one idea; the readable path (what the notebooks
explain), the compiled path, online learning and the Dask shards all use them:

* :mod:`~odsc_recsys.qtables.layout`: which rows a state's sub-states are (one state or a
  whole batch, as table rows or global row ids);
* :mod:`~odsc_recsys.qtables.storage`: where the Q-values live (dense, lazy or sparse, one
  protocol);
* :mod:`~odsc_recsys.qtables.policy`: how a list is chosen (merge, top-k, epsilon-greedy);
* :mod:`~odsc_recsys.qtables.update`: the Q-learning targets and the TD step;
* :mod:`~odsc_recsys.qtables.tables`: :class:`GenreQTables` and :class:`FullStateQTable`;
* :mod:`~odsc_recsys.qtables.replay`: training from logged transitions, readable or compiled;
* :mod:`~odsc_recsys.qtables.io`: saving and loading, atomically;
* :mod:`~odsc_recsys.qtables.fast`: the numba kernels.
"""

from .fast import HAVE_NUMBA
from .layout import HISTORY_LENGTH, FullStateLayout, GenreLayout, SubState, genre_combinations
from .policy import EXPLORE, PRIOR, Recommendations
from .replay import (
    check_rules,
    check_transitions,
    epoch_stats,
    replay_train,
    replay_train_fast,
    state_order,
)
from .storage import STORAGES
from .tables import (
    FullStateQTable,
    GenreQTables,
    QTablePolicy,
    QTables,
    load_tables,
    recommend_batch,
)
from .update import td_step, td_target, td_targets

__all__ = [
    "EXPLORE",
    "HAVE_NUMBA",
    "HISTORY_LENGTH",
    "PRIOR",
    "STORAGES",
    "FullStateLayout",
    "FullStateQTable",
    "GenreLayout",
    "GenreQTables",
    "QTablePolicy",
    "QTables",
    "Recommendations",
    "SubState",
    "check_rules",
    "check_transitions",
    "epoch_stats",
    "genre_combinations",
    "load_tables",
    "recommend_batch",
    "replay_train",
    "replay_train_fast",
    "state_order",
    "td_step",
    "td_target",
    "td_targets",
]
