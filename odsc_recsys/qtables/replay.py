"""Replay training: learn the tables from logged transitions, readable or compiled.

For each transition ``(state, next movie)`` in order: recommend ``k`` movies from the state
(epsilon-greedy), append the movie the user really watched if the list missed it, reward it,
penalise the rest and update every sub-state. That is the paper's text.
:func:`replay_train` does it in plain Python, one transition at a time;
:func:`replay_train_fast` does the same arithmetic in a compiled kernel and gives the same
tables bit for bit.

**The original code's rules** (off by default). The talk's code (``Code/Multiple_table.py``
of raviranjan0309/ODSC-conference-India-2021) differs from the paper's text in three ways,
each an option: ``one_per_substate`` (every sub-state proposes one movie, so a list holds at
most three plus the appended target), ``proposer_only`` (a movie updates only the sub-state
that proposed it) and ``bootstrap_ignored=False`` (an ignored movie's target is ``-penalty``
with no future-value term).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import checks
from . import fast, policy
from .layout import HISTORY_LENGTH, SubState
from .tables import GenreQTables, QTables, gather_rows, scatter_rows

__all__ = [
    "check_rules",
    "check_transitions",
    "epoch_stats",
    "replay_train",
    "replay_train_fast",
    "state_order",
]


def check_transitions(tables: QTables, transitions: object) -> tuple[np.ndarray, np.ndarray]:
    """The checks of :meth:`QTables.update` for every transition at once (vectorised):
    integer movie indices of the catalogue, at most 3 distinct movies per state, a next movie
    that is not in its state. Returns the states and targets as int64 arrays."""
    if not (hasattr(transitions, "states") and hasattr(transitions, "targets")):
        raise ValueError("transitions must have .states and .targets arrays (e.g. "
                         f"sessions.Transitions), got {type(transitions).__name__}")  # fmt: skip
    states = np.asarray(transitions.states)
    targets = np.asarray(transitions.targets)
    for name, arr in (("states", states), ("targets", targets)):
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"movie indices must be integers, got {arr.dtype} in the "
                             f"{name}: {checks.short_repr(arr)}")  # fmt: skip
    if states.ndim != 2 or targets.ndim != 1 or len(states) != len(targets):
        raise ValueError(
            f"transitions need states of shape (n, 3) and n targets, got {states.shape} and "
            f"{targets.shape}"
        )
    if states.shape[1] > HISTORY_LENGTH:
        raise ValueError(
            f"a state holds at most {HISTORY_LENGTH} movies (the last ones watched), got "
            f"states of {states.shape[1]}"
        )
    n = tables.n_items
    for name, arr in (("state", states), ("next movie", targets)):
        bad = arr[(arr < 0) | (arr >= n)]
        if bad.size:
            raise ValueError(
                f"unknown movie index {int(bad[0])} in a {name}: catalogue indices run from 0 "
                f"to {n - 1}"
            )
    ordered = np.sort(states, axis=1)
    repeats = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
    if repeats.size:
        raise ValueError(
            f"a state cannot hold the same movie twice, got {tuple(states[repeats[0]].tolist())}"
        )
    clashes = np.flatnonzero((states == targets[:, None]).any(axis=1))
    if clashes.size:
        j = clashes[0]
        raise ValueError(
            f"next movie {int(targets[j])} is already in its state {tuple(states[j].tolist())}"
        )
    return states.astype(np.int64), targets.astype(np.int64)


def state_order(items: Sequence[int], subs: Sequence[SubState]) -> list[SubState]:
    """The sub-states in the original code's order: by the state's order of their movies.

    ``Code/Multiple_table.py`` groups a state's movies by genre in order of first appearance
    (oldest movie first) and, when all three share a genre, forms the pairs as
    ``itertools.combinations`` of the state: (m1, m2), (m1, m3), (m2, m3). Sorting each
    sub-state by the sorted positions of its movies in the state gives that order.

    Examples
    --------
    >>> tables = GenreQTables(np.array([0, 1, 0]), ["Drama", "Comedy"])
    >>> [s.items for s in state_order([1, 2, 0], tables.decompose([1, 2, 0]))]
    [(1,), (0, 2)]
    """
    position = {int(m): i for i, m in enumerate(items)}
    return sorted(subs, key=lambda s: sorted(position[m] for m in s.items))


def state_order_batch(states: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """:func:`state_order` for a batch: for each state, the permutation of its (-1 padded)
    sub-state columns that sorts them by the sorted positions of their movies in the state."""
    pos_first = np.argmax(states[:, :, None] == first[:, None, :], axis=1)
    has_second = second >= 0
    pos_second = np.where(has_second, np.argmax(states[:, :, None] == second[:, None, :], axis=1), pos_first)  # fmt: skip
    lo, hi = np.minimum(pos_first, pos_second), np.maximum(pos_first, pos_second)
    keys = np.where(first >= 0, lo * 4 + hi, np.iinfo(np.int64).max)  # padding last
    return np.argsort(keys, axis=1, kind="stable")


def check_rules(one_per_substate: object, proposer_only: object, bootstrap_ignored: object) -> None:
    """The three rule switches of :func:`replay_train` must be booleans."""
    checks.boolean("one_per_substate", one_per_substate)
    checks.boolean("proposer_only", proposer_only)
    checks.boolean("bootstrap_ignored", bootstrap_ignored)


def _check_run(
    tables: QTables, transitions: object, epochs: object, rng: object, k: object,
    reward: object, penalty: object, rules: dict,
) -> tuple:  # fmt: skip
    """The arguments shared by both replay functions, checked in one place, once: returns
    ``(states, targets, epochs, k, reward, penalty)``."""
    epochs = checks.positive_int("epochs", epochs)
    checks.generator("rng", rng, allow_none=True)
    k = checks.count("k", k)
    reward = checks.real("reward", reward)
    penalty = checks.real("penalty", penalty)
    check_rules(**rules)
    states, targets = check_transitions(tables, transitions)
    if not len(states):  # a log of no transitions has no hit rate to report
        raise ValueError("transitions is empty: there is nothing to replay")
    return states, targets, epochs, k, reward, penalty


def epoch_stats(epoch: int, n: int, hits: int, explored: int, listed: int) -> dict[str, float]:
    """One row of a replay log: the share of lists that held the next movie before it was
    appended (``hit_rate``) and the share of exploratory slots (``explored``)."""
    return {
        "epoch": epoch,
        "transitions": n,
        "hit_rate": hits / n if n else float("nan"),
        "explored": explored / listed if listed else float("nan"),
    }


def replay_train(
    tables: QTables,
    transitions: object,
    epochs: int = 1,
    rng: np.random.Generator | None = None,
    reward: float = 15.0,
    penalty: float = 5.0,
    k: int = 10,
    *,
    one_per_substate: bool = False,
    proposer_only: bool = False,
    bootstrap_ignored: bool = True,
) -> pd.DataFrame:
    """Train the tables by replaying logged transitions, the talk's way.

    The logged next movie does not depend on the list: replay is learning from fixed feedback
    with a bootstrapped target, not an agent steering a user.

    Parameters
    ----------
    tables : GenreQTables or FullStateQTable
        Trained in place.
    transitions : object with ``states`` (n, <=3) and ``targets`` (n,) int arrays
        E.g. :class:`odsc_recsys.sessions.Transitions`.
    epochs : int
        Passes over the transitions.
    rng, reward, penalty, k
        Exploration, the clicked movie's reward, the other listed movies' penalty (``-penalty``)
        and the list length.
    one_per_substate : bool
        The original code's list (``RECOMMENDATION_LIST``): each sub-state, in the state's
        order (:func:`state_order`), proposes **one** movie from its own row (exploring with
        probability epsilon), so a list holds at most three movies plus the appended target;
        ``k`` is then not used. Exactly ``2 * 3`` uniform draws per list.
    proposer_only : bool
        The original code's update (``k`` in ``UPDATE_CLICK_Q_VALUE``): each listed movie
        updates only the sub-state that proposed it (with merged lists, the first sub-state in
        the state's order whose row holds the movie's largest Q); the appended target, which
        no sub-state proposed, updates the last sub-state in the state's order.
    bootstrap_ignored : bool
        True (the paper's rule): every listed movie's target is ``r + gamma max Q(s', .)``.
        False (the original code's ``next_max = old_value``, which cancels the term): an
        ignored movie's target is ``-penalty`` alone; the clicked movie keeps its future term.

    Returns
    -------
    pandas.DataFrame
        One row per epoch: ``epoch``, ``transitions``, ``hit_rate`` (share of transitions
        whose next movie was already in the list before appending: an online HR@k under
        exploration) and ``explored`` (share of listed slots that explored).
    """
    rules = {"one_per_substate": one_per_substate, "proposer_only": proposer_only,
             "bootstrap_ignored": bootstrap_ignored}  # fmt: skip
    # Validate everything once, up front; the loop works on plain Python ints, much cheaper
    # than numpy scalars one at a time.
    checked = _check_run(tables, transitions, epochs, rng, k, reward, penalty, rules)
    return _replay_readable(tables, *checked, rng, rules)


def _replay_readable(
    tables: QTables, states: np.ndarray, targets: np.ndarray, epochs: int, k: int,
    reward: float, penalty: float, rng: np.random.Generator | None, rules: dict,
) -> pd.DataFrame:  # fmt: skip
    """:func:`replay_train` on arguments already checked."""
    pairs = list(zip([tuple(s) for s in states.tolist()], targets.tolist(), strict=True))
    out = []
    for epoch in range(1, epochs + 1):
        counts = [0, 0, 0]  # hits, explored slots, listed slots
        for items, target in pairs:
            _replay_step(tables, items, target, k, rng, reward, penalty, rules, counts)
        out.append(epoch_stats(epoch, len(pairs), *counts))
    return pd.DataFrame(out)


def _replay_step(
    tables: QTables, items: tuple[int, ...], target: int, k: int,
    rng: np.random.Generator | None, reward: float, penalty: float, rules: dict, counts: list,
) -> None:  # fmt: skip
    """One transition of :func:`replay_train`: list, append the target, learn."""
    subs = tables.layout.decompose(items)
    proposed_by = None
    if rules["one_per_substate"] or rules["proposer_only"]:
        order = state_order(items, subs)
    if rules["one_per_substate"]:
        chosen, proposed_by, explore = policy.choose_per_substate(
            tables.store, items, order, tables.epsilon, rng
        )
    else:
        chosen, explore = policy.choose(tables.merged(tables.rows(subs)), items, k,
                                        tables.epsilon, rng)  # fmt: skip
        if rules["proposer_only"] and subs:
            proposed_by = policy.proposers(tables.store, order, chosen)  # read before any write
    counts[2] += len(chosen)
    if explore is not None:
        counts[1] += sum(explore)
    if target in chosen:
        counts[0] += 1
    else:
        chosen.append(target)  # the movie the user really watched is always updated
        if proposed_by is not None and subs:
            proposed_by.append(order[-1])
    tables.learn(items, subs, chosen, target, reward, penalty,
                 proposed_by=proposed_by if rules["proposer_only"] else None,
                 bootstrap_ignored=rules["bootstrap_ignored"])  # fmt: skip


def replay_train_fast(
    tables: QTables,
    transitions: object,
    epochs: int = 1,
    rng: np.random.Generator | None = None,
    reward: float = 15.0,
    penalty: float = 5.0,
    k: int = 10,
    *,
    one_per_substate: bool = False,
    proposer_only: bool = False,
    bootstrap_ignored: bool = True,
) -> pd.DataFrame:
    """Compiled :func:`replay_train`: the same arguments, the same result, for the paper's
    rules and for the original code's.

    Only :class:`GenreQTables` with full 3-movie states is compiled; anything else (and a
    machine without numba) runs the readable implementation. The transitions go through the
    kernel in chunks of :data:`CHUNK`, so that its inputs (rows, random draws) stay small:
    dense tables are trained in place; lazy and sparse tables lend the kernel only the rows a
    chunk touches, as one block, and take the written rows back.
    """
    rules = {"one_per_substate": one_per_substate, "proposer_only": proposer_only,
             "bootstrap_ignored": bootstrap_ignored}  # fmt: skip
    checked = _check_run(tables, transitions, epochs, rng, k, reward, penalty, rules)
    states, targets, epochs, k, reward, penalty = checked
    if not fast.HAVE_NUMBA or not isinstance(tables, GenreQTables) or states.shape[1] != HISTORY_LENGTH:  # fmt: skip
        if not fast.HAVE_NUMBA:
            warnings.warn("numba is not installed: using the readable replay_train", stacklevel=2)
        return _replay_readable(tables, *checked, rng, rules)
    # Uniform draws per list: 2k for a merged list of k, 2 * 3 for one movie per sub-state.
    draws = 2 * HISTORY_LENGTH if one_per_substate else 2 * min(k, tables.n_items - 3)
    if rng is None or tables.epsilon == 0.0 or draws == 0:
        rng = None
    out = []
    for epoch in range(1, epochs + 1):
        counts = np.zeros(3, dtype=np.int64)  # hits, explored slots, listed slots
        for start in range(0, len(states), CHUNK):
            chunk = slice(start, start + CHUNK)
            counts += _replay_chunk(tables, states[chunk], targets[chunk], rng, draws, k,
                                    reward, penalty, rules)  # fmt: skip
        out.append(epoch_stats(epoch, len(states), *counts.tolist()))
    return pd.DataFrame(out)


#: Transitions per call of the compiled kernel.
CHUNK = 4096


def _replay_chunk(
    tables: GenreQTables, states: np.ndarray, targets: np.ndarray,
    rng: np.random.Generator | None, draws: int, k: int, reward: float, penalty: float,
    rules: dict,
) -> tuple[int, int, int]:  # fmt: skip
    """One chunk of :func:`replay_train_fast`: its rows, its random draws, one kernel call."""
    sub_rows, first, second = tables.layout.substates_batch(states)
    if rules["one_per_substate"] or rules["proposer_only"]:  # the kernel wants state order
        sub_rows = np.take_along_axis(sub_rows, state_order_batch(states, first, second), axis=1)
    future_rows = tables.layout.future_ids_batch(states, targets)
    # rng.random((n, draws)), chunk after chunk, gives the numbers the readable code draws
    # list by list.
    u = rng.random((len(states), draws)) if rng is not None else np.zeros((0, 0))
    flat = tables.store.flat()
    in_place = flat is not None
    if not in_place:  # lend the kernel only the rows this chunk touches, as one block
        both = np.concatenate((sub_rows, future_rows), axis=1)
        flat, both, touched = gather_rows(tables, both)
        sub_rows = np.ascontiguousarray(both[:, :HISTORY_LENGTH])
        future_rows = np.ascontiguousarray(both[:, HISTORY_LENGTH:])
    written = np.zeros(len(flat), dtype=np.bool_)
    result = fast.replay_kernel(
        flat, written, sub_rows, future_rows, states, targets, k, tables.alpha, tables.gamma,
        tables.epsilon, reward, penalty, u, rng is not None, bool(rules["one_per_substate"]),
        bool(rules["proposer_only"]), bool(rules["bootstrap_ignored"]),
    )  # fmt: skip
    if not in_place:
        scatter_rows(tables, flat, touched, written)
    return result
