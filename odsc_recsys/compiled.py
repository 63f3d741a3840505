"""Compiled fast paths for per-genre Q-tables (numba): replay training and batch recommendation.

:func:`odsc_recsys.multi_table.replay_train` is the readable implementation that the notebooks
explain. This module does exactly the same arithmetic in one numba-compiled loop, so that the
hyperparameter grids and learning curves of notebook 07 fit in seconds. It is a drop-in
replacement: same arguments (the original code's three rule switches included), same per-epoch
table, and **bit-for-bit the same Q-tables** for the same seed and data
(``tests/test_compiled.py`` checks it).

How it stays identical:

* the random stream: the readable code draws exactly ``2k`` uniforms per list from the
  ``Generator`` (``2 * 3`` with ``one_per_substate``); here each epoch draws them all at once,
  ``rng.random((n, 2k))``, which yields the same numbers in the same order;
* the order of operations of the module docstring of :mod:`odsc_recsys.multi_table`: the merged
  Q in the table dtype, ties by lower index, the future value read before any write, the update
  ``old + alpha * (target - old)`` computed in float64 and cast to the table dtype;
* numba compiles without fast-math, so no operation is reordered or fused.

numba is optional (``pip install odsc-recsys[fast]``): without it :func:`replay_train_fast`
falls back to the readable implementation, with a warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .multi_table import (
    HISTORY_LENGTH,
    GenreQTables,
    _check_finite,
    _check_k,
    _check_transitions,
    _DenseStore,
    _LazyStore,
    _SparseStore,
    check_rules,
    epoch_stats,
    replay_train,
)

try:
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None
    HAVE_NUMBA = False


def _jit(func):
    """``numba.njit(cache=True)`` when numba is there; the plain function otherwise."""
    if HAVE_NUMBA:
        return numba.njit(cache=True, nogil=True)(func)
    return func  # pragma: no cover


@_jit
def _decompose(items, genre_of, local, sizes, offsets, out_rows, out_first, out_second):
    """Sub-states of a 3-movie state as global rows of the flat table.

    Writes up to 3 sub-states: global row, and their movie(s) (``-1`` for the second movie of a
    single). Returns how many. Same grouping and order as ``GenreQTables._decompose``: movies
    sorted, grouped by genre, groups in increasing genre code. No allocation: this runs once
    or twice per transition.
    """
    # sort the three movies (a tiny sorting network)
    a, b, c = items[0], items[1], items[2]
    if a > b:
        a, b = b, a
    if b > c:
        b, c = c, b
    if a > b:
        a, b = b, a
    ga, gb, gc = genre_of[a], genre_of[b], genre_of[c]
    count = 0
    if ga == gb and gb == gc:  # scenario (c): the 3 pairs of one table, in colex-rank order
        base = offsets[ga] + sizes[ga]
        la, lb, lc = local[a], local[b], local[c]
        out_rows[0] = base + lb * (lb - 1) // 2 + la
        out_first[0] = a
        out_second[0] = b
        out_rows[1] = base + lc * (lc - 1) // 2 + la
        out_first[1] = a
        out_second[1] = c
        out_rows[2] = base + lc * (lc - 1) // 2 + lb
        out_first[2] = b
        out_second[2] = c
        return 3
    # otherwise two or three groups: visit the distinct genres in increasing order
    prev = -1
    big = 1 << 62
    for _ in range(3):
        g = big
        if prev < ga < g:
            g = ga
        if prev < gb < g:
            g = gb
        if prev < gc < g:
            g = gc
        if g == big:
            break
        prev = g
        m0 = -1
        m1 = -1
        for m, gm in ((a, ga), (b, gb), (c, gc)):
            if gm == g:
                if m0 == -1:
                    m0 = m
                else:
                    m1 = m
        if m1 == -1:  # a single: row = local position
            out_rows[count] = offsets[g] + local[m0]
            out_first[count] = m0
            out_second[count] = -1
        else:  # a pair (m0 < m1, so local[m0] < local[m1]): colex rank after the singles
            l0, l1 = local[m0], local[m1]
            out_rows[count] = offsets[g] + sizes[g] + l1 * (l1 - 1) // 2 + l0
            out_first[count] = m0
            out_second[count] = m1
        count += 1
    return count


@_jit
def _state_order(items, first, second, n_sub, order):
    """``order[:n_sub]``: the sub-state slots sorted by the state's order of their movies
    (``multi_table.state_order``): by the sorted positions of their movies in ``items``."""
    keys = np.empty(3, np.int64)
    for t in range(n_sub):
        p1 = 0
        p2 = -1
        for i in range(3):
            if items[i] == first[t]:
                p1 = i
            if items[i] == second[t]:
                p2 = i
        if p2 == -1:
            p2 = p1
        lo = min(p1, p2)
        hi = max(p1, p2)
        keys[t] = lo * 4 + hi  # (lo, hi) in lexicographic order; a single is (p, p)
        order[t] = t
    for t in range(1, n_sub):  # insertion sort of at most 3
        pos = t
        while pos > 0 and keys[order[pos - 1]] > keys[order[pos]]:
            order[pos - 1], order[pos] = order[pos], order[pos - 1]
            pos -= 1


@_jit
def _insert_sorted(blocked, n_blocked, item):
    """Insert ``item`` into the sorted ``blocked[:n_blocked]``; return the new length."""
    pos = n_blocked
    while pos > 0 and blocked[pos - 1] > item:
        blocked[pos] = blocked[pos - 1]
        pos -= 1
    blocked[pos] = item
    return n_blocked + 1


@_jit
def _random_free_item(blocked, n_blocked, n_items, draw):
    """The movie a uniform ``draw`` picks among those not in the sorted ``blocked[:n_blocked]``."""
    n_free = n_items - n_blocked
    item = min(int(draw * n_free), n_free - 1)
    for b in range(n_blocked):  # skip every blocked index at or below the item
        if blocked[b] > item:
            break
        item += 1
    return item


@_jit
def _best_free_item(row, blocked, n_blocked):
    """The best movie of ``row`` outside the sorted ``blocked[:n_blocked]``, lowest index
    among ties."""
    item = -1
    best_v = row[0]
    b = 0
    for c in range(row.shape[0]):
        if b < n_blocked and blocked[b] == c:
            b += 1
            continue
        if item == -1 or row[c] > best_v:
            item = c
            best_v = row[c]
    return item


@_jit
def _assign_proposers(flat, rows, order, n_sub, chosen, n_chosen, proposer):
    """Each chosen movie's proposer: the first sub-state (state order) with its largest Q."""
    for q in range(n_chosen):
        a = chosen[q]
        best_t = order[0]
        best_v = flat[rows[order[0]], a]
        for p in range(1, n_sub):
            v = flat[rows[order[p]], a]
            if v > best_v:
                best_v = v
                best_t = order[p]
        proposer[q] = best_t


@_jit
def _td_write(flat, r, a, target, alpha):
    """``Q <- Q + alpha (target - Q)``, computed in float64, stored in the table dtype."""
    old = np.float64(flat[r, a])
    flat[r, a] = old + alpha * (target - old)


@_jit
def _merge_rows(flat, rows, n_sub, merged):
    """``merged[c] = max over the first n_sub rows of flat[row, c]``, in the table dtype."""
    n_items = flat.shape[1]
    for c in range(n_items):
        merged[c] = flat[rows[0], c]
    for t in range(1, n_sub):
        r = rows[t]
        for c in range(n_items):
            v = flat[r, c]
            if v > merged[c]:
                merged[c] = v


@_jit
def _top_k_into(merged, kk, top_idx, top_val):
    """The ``kk`` best indices of ``merged`` into ``top_idx``, best first, ties by lower index.

    One pass with a stable insertion into a buffer of ``kk``: a value enters only if it beats
    the current last one strictly, so an earlier (lower) index wins a tie.
    """
    filled = 0
    for c in range(len(merged) if kk > 0 else 0):
        v = merged[c]
        if filled == kk and not v > top_val[kk - 1]:
            continue
        pos = filled if filled < kk else kk - 1
        while pos > 0 and v > top_val[pos - 1]:
            if pos < kk:
                top_val[pos] = top_val[pos - 1]
                top_idx[pos] = top_idx[pos - 1]
            pos -= 1
        top_val[pos] = v
        top_idx[pos] = c
        if filled < kk:
            filled += 1


@_jit
def _replay_epoch(
    flat, written, states, targets, genre_of, local, sizes, offsets,
    k, alpha, gamma, epsilon, reward, penalty, u, use_rng,
    one_per_sub, proposer_only, bootstrap_ignored,
):  # fmt: skip
    """One pass over the transitions; returns (hits, explored slots, listed slots)."""
    n_items = flat.shape[1]
    n = states.shape[0]
    width = max(k, 3)
    merged = np.empty(n_items, flat.dtype)
    rows = np.empty(3, np.int64)
    first = np.empty(3, np.int64)
    second = np.empty(3, np.int64)
    order = np.empty(3, np.int64)
    nrows = np.empty(3, np.int64)
    nfirst = np.empty(3, np.int64)
    nsecond = np.empty(3, np.int64)
    top_idx = np.empty(max(k, 1), np.int64)
    top_val = np.empty(max(k, 1), flat.dtype)
    chosen = np.empty(width + 1, np.int64)
    proposer = np.empty(width + 1, np.int64)  # slot (into rows) of each movie's proposer
    blocked = np.empty(3 + width, np.int64)
    next_items = np.empty(3, np.int64)
    neg_inf = -np.inf
    hits = 0
    explored = 0
    listed = 0
    for j in range(n):
        items = states[j]
        target = targets[j]
        n_sub = _decompose(items, genre_of, local, sizes, offsets, rows, first, second)
        if one_per_sub or proposer_only:
            _state_order(items, first, second, n_sub, order)
        n_blocked = len(items)
        for i in range(n_blocked):
            blocked[i] = items[i]
        blocked[:n_blocked].sort()
        n_chosen = 0
        if one_per_sub:
            # the original code's list: one movie per sub-state, in the state's order
            for p in range(n_sub):
                if n_blocked >= n_items:
                    break
                if use_rng and u[j, p] < epsilon:
                    explored += 1
                    item = _random_free_item(blocked, n_blocked, n_items, u[j, 3 + p])
                else:  # the best of its own row
                    item = _best_free_item(flat[rows[order[p]]], blocked, n_blocked)
                n_blocked = _insert_sorted(blocked, n_blocked, item)
                chosen[n_chosen] = item
                proposer[n_chosen] = order[p]
                n_chosen += 1
            listed += n_chosen
        else:
            _merge_rows(flat, rows, n_sub, merged)
            for i in range(n_blocked):
                merged[blocked[i]] = neg_inf
            kk = min(k, n_items - n_blocked)
            _top_k_into(merged, kk, top_idx, top_val)
            # epsilon-greedy, slot by slot, exactly as GenreQTables._select
            if use_rng and epsilon > 0.0 and kk > 0:
                cursor = 0
                for p in range(kk):
                    if u[j, p] < epsilon:
                        explored += 1
                        item = _random_free_item(blocked, n_blocked, n_items, u[j, kk + p])
                    else:
                        while True:
                            cand = top_idx[cursor]
                            seen = False
                            for q in range(n_chosen):
                                if chosen[q] == cand:
                                    seen = True
                                    break
                            if not seen:
                                break
                            cursor += 1
                        item = top_idx[cursor]
                        cursor += 1
                    n_blocked = _insert_sorted(blocked, n_blocked, item)
                    chosen[n_chosen] = item
                    n_chosen += 1
            else:
                for p in range(kk):
                    chosen[p] = top_idx[p]
                n_chosen = kk
            listed += kk
            if proposer_only and n_sub > 0:
                _assign_proposers(flat, rows, order, n_sub, chosen, n_chosen, proposer)
        hit = False
        for q in range(n_chosen):
            if chosen[q] == target:
                hit = True
                break
        if hit:
            hits += 1
        else:
            chosen[n_chosen] = target
            if n_sub > 0:
                proposer[n_chosen] = order[n_sub - 1]  # nobody proposed it: the last sub-state
            n_chosen += 1
        if n_sub == 0:
            continue
        # future value: max Q of the next state's sub-states that contain the target
        next_items[0] = items[1]
        next_items[1] = items[2]
        next_items[2] = target
        n_next = _decompose(next_items, genre_of, local, sizes, offsets, nrows, nfirst, nsecond)
        best = neg_inf
        for t in range(n_next):
            if nfirst[t] == target or nsecond[t] == target:
                r = nrows[t]
                row_max = flat[r, 0]
                for c in range(1, n_items):
                    if flat[r, c] > row_max:
                        row_max = flat[r, c]
                if np.float64(row_max) > best:
                    best = np.float64(row_max)
        future = gamma * best
        hit_target = reward + future
        miss_target = -penalty + future if bootstrap_ignored else -penalty
        if proposer_only:
            for q in range(n_chosen):
                r = rows[proposer[q]]
                written[r] = True
                tg = hit_target if chosen[q] == target else miss_target
                _td_write(flat, r, chosen[q], tg, alpha)
            continue
        for t in range(n_sub):
            r = rows[t]
            written[r] = True
            for q in range(n_chosen):
                tg = hit_target if chosen[q] == target else miss_target
                _td_write(flat, r, chosen[q], tg, alpha)
    return hits, explored, listed


def replay_train_fast(
    tables: GenreQTables,
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
    """Compiled :func:`~odsc_recsys.multi_table.replay_train`: same arguments, same result,
    for the paper's rules and for the original code's (``one_per_substate``,
    ``proposer_only``, ``bootstrap_ignored=False``).

    Only :class:`~odsc_recsys.multi_table.GenreQTables` with full 3-movie states is compiled;
    anything else (and a machine without numba) runs the readable implementation.
    """
    rules = {"one_per_substate": one_per_substate, "proposer_only": proposer_only,
             "bootstrap_ignored": bootstrap_ignored}  # fmt: skip
    states = np.asarray(transitions.states)  # type: ignore[attr-defined]
    targets = np.asarray(transitions.targets)  # type: ignore[attr-defined]
    if (
        not HAVE_NUMBA
        or not isinstance(tables, GenreQTables)
        or states.ndim != 2
        or states.shape[1] != 3
    ):
        if not HAVE_NUMBA:
            warnings.warn("numba is not installed: using the readable replay_train", stacklevel=2)
        return replay_train(tables, transitions, epochs, rng, reward, penalty, k, **rules)
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    k = _check_k(k)
    reward = _check_finite(reward, "reward")
    penalty = _check_finite(penalty, "penalty")
    check_rules(one_per_substate, proposer_only, bootstrap_ignored)
    # the readable version's checks, shared
    states, targets = _check_transitions(tables, transitions)

    sizes = tables.genre_sizes.astype(np.int64)
    rows_per_table = tables.table_rows.astype(np.int64)
    flat, offsets = flat_tables(tables)
    written = np.zeros(len(flat), dtype=np.bool_)

    # Uniform draws per list: 2k for a merged list of k, 2 * 3 for one movie per sub-state.
    draws = 2 * HISTORY_LENGTH if one_per_substate else 2 * min(k, tables.n_items - 3)
    use_rng = rng is not None and tables.epsilon > 0.0 and draws > 0
    out = []
    for epoch in range(1, int(epochs) + 1):
        # The readable code draws rng.random(draws) per list; drawing (n, draws) at once gives
        # the same numbers in the same order.
        u = rng.random((len(states), draws)) if use_rng else np.zeros((0, 0))
        hits, explored, listed = _replay_epoch(
            flat, written, states, targets, tables.genre_of, tables.local_index, sizes,
            offsets, k, tables.alpha, tables.gamma, tables.epsilon, reward, penalty, u, use_rng,
            bool(one_per_substate), bool(proposer_only), bool(bootstrap_ignored),
        )  # fmt: skip
        n = len(states)
        out.append(epoch_stats(epoch, n, hits, explored, listed))

    # Write the trained values back into the tables' own storage: whole tables when dense;
    # the rows the loop touched when lazy; when sparse, each touched row's non-zero entries
    # (its Q-values read back the same; an entry that is exactly 0.0 need not be stored).
    store = tables._store
    if isinstance(store, _DenseStore) and store.flat() is flat:
        return pd.DataFrame(out)  # the loop wrote the tables themselves
    for g in range(tables.n_tables):
        block = flat[offsets[g] : offsets[g] + rows_per_table[g]]
        if isinstance(store, _LazyStore):
            for r in np.flatnonzero(written[offsets[g] : offsets[g] + rows_per_table[g]]):
                store.writable_row(g, int(r))[:] = block[r]
        elif isinstance(store, _SparseStore):
            for r in np.flatnonzero(written[offsets[g] : offsets[g] + rows_per_table[g]]):
                store.set_row(g, int(r), block[r])
        else:
            store.tables[g][:] = block
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------------
# Batch recommendation (greedy), for evaluation
# ---------------------------------------------------------------------------------------------


@_jit
def _recommend_batch(flat, states, excl_ptr, excl_idx, genre_of, local, sizes, offsets, k, out):
    """Greedy top-k for many 3-movie states; ``out`` (n, k) is pre-filled with -1."""
    n_items = flat.shape[1]
    merged = np.empty(n_items, flat.dtype)
    rows = np.empty(3, np.int64)
    first = np.empty(3, np.int64)
    second = np.empty(3, np.int64)
    top_idx = np.empty(max(k, 1), np.int64)
    top_val = np.empty(max(k, 1), flat.dtype)
    neg_inf = -np.inf
    for j in range(states.shape[0]):
        items = states[j]
        n_sub = _decompose(items, genre_of, local, sizes, offsets, rows, first, second)
        _merge_rows(flat, rows, n_sub, merged)
        n_blocked = 0
        for i in range(3):
            if merged[items[i]] != neg_inf:
                n_blocked += 1
            merged[items[i]] = neg_inf
        for p in range(excl_ptr[j], excl_ptr[j + 1]):
            if merged[excl_idx[p]] != neg_inf:
                n_blocked += 1
            merged[excl_idx[p]] = neg_inf
        kk = min(k, n_items - n_blocked)
        _top_k_into(merged, kk, top_idx, top_val)
        for p in range(kk):
            out[j, p] = top_idx[p]


def flat_tables(tables: GenreQTables) -> tuple[np.ndarray, np.ndarray]:
    """All tables stacked into one ``(total_rows, n_items)`` array, and each table's first row.

    Dense tables already live in one array: that array itself is returned (no copy; writing
    it writes the tables). Otherwise the array is a new copy.
    """
    rows_per_table = tables.table_rows.astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(rows_per_table)[:-1])).astype(np.int64)
    store = tables._store
    shared = store.flat() if isinstance(store, _DenseStore) else None
    if shared is not None:
        return shared, offsets
    flat = np.empty((int(rows_per_table.sum()), tables.n_items), dtype=tables.dtype)
    for g in range(tables.n_tables):
        flat[offsets[g] : offsets[g] + rows_per_table[g]] = tables._store.table(g)
    return flat, offsets


def recommend_batch(
    tables: GenreQTables, histories: list[np.ndarray], k: int = 10
) -> np.ndarray | None:
    """Greedy lists for many histories at once, excluding each history's own movies.

    Equal, list for list, to ``tables.recommend(h[-3:], k, exclude=h).items`` padded with -1.
    Returns None when the compiled path does not apply (no numba, or a history shorter than
    3): the caller then loops over :meth:`GenreQTables.recommend`.
    """
    k = _check_k(k)
    if not HAVE_NUMBA or not isinstance(tables, GenreQTables) or not histories:
        return None
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    if lengths.min() < 3:
        return None
    idx = np.concatenate(histories).astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= tables.n_items):
        bad = idx[(idx < 0) | (idx >= tables.n_items)][0]
        raise ValueError(
            f"unknown item index {int(bad)}: catalogue indices run from 0 to {tables.n_items - 1}"
        )
    ptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    states = np.stack([h[-3:] for h in histories]).astype(np.int64)
    s = np.sort(states, axis=1)
    if np.any(s[:, 1:] == s[:, :-1]):
        return None  # a repeated movie: let the readable path raise its error
    flat, offsets = flat_tables(tables)
    out = np.full((len(histories), k), -1, dtype=np.int64)
    _recommend_batch(flat, states, ptr, idx, tables.genre_of, tables.local_index,
                     tables.genre_sizes.astype(np.int64), offsets, k, out)  # fmt: skip
    return out
