"""Compiled kernels (numba) for replay training and batch recommendation.

The readable code (:mod:`~odsc_recsys.qtables.replay`, :mod:`~odsc_recsys.qtables.policy`,
:mod:`~odsc_recsys.qtables.update`) is what the notebooks explain. These kernels do exactly
the same arithmetic in one compiled loop over arrays, so that the hyperparameter grids and
learning curves of notebook 07 fit in seconds, and the tables come out **bit for bit** the
same (``tests/test_qtables_compiled.py``):

* the rows come from the layout, computed for the whole batch before the loop
  (:meth:`GenreLayout.substates_batch`), so a kernel sees global row ids, never movies' genres;
* the random stream: the readable code draws ``2k`` uniforms per list; the caller draws them
  all at once, ``rng.random((n, 2k))``, which yields the same numbers in the same order;
* the TD step and the random pick are the readable functions themselves, compiled
  (:func:`~odsc_recsys.qtables.update.td_step`,
  :func:`~odsc_recsys.qtables.policy.random_free_item`);
* numba compiles without fast-math, so no operation is reordered or fused.

numba is optional (``pip install odsc-recsys[fast]``): without it :data:`HAVE_NUMBA` is False
and the callers run the readable code.
"""

from __future__ import annotations

import numpy as np

from .policy import random_free_item
from .update import td_step

__all__ = ["HAVE_NUMBA", "recommend_kernel", "replay_kernel"]

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


_td_step = _jit(td_step)
_random_free_item = _jit(random_free_item)


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
def _future_value(flat, future_rows):
    """``max_a' Q(s', a')`` over the given rows (-1: none), each row's max in the table
    dtype, compared in float64."""
    best = -np.inf
    for r in future_rows:
        if r < 0:
            continue
        row_max = flat[r, 0]
        for c in range(1, flat.shape[1]):
            if flat[r, c] > row_max:
                row_max = flat[r, c]
        if np.float64(row_max) > best:
            best = np.float64(row_max)
    return best


@_jit
def _epsilon_greedy(merged, top_idx, kk, u, j, epsilon, blocked, n_blocked, chosen):
    """The merged list slot by slot, as :func:`~odsc_recsys.qtables.policy.choose`; returns
    the number of explored slots."""
    n_items = merged.shape[0]
    explored = 0
    cursor = 0
    for p in range(kk):
        if u[j, p] < epsilon:
            explored += 1
            item = _random_free_item(blocked[:n_blocked], n_items, u[j, kk + p])
        else:  # the next greedy movie not listed yet
            while True:
                cand = top_idx[cursor]
                seen = False
                for q in range(p):
                    if chosen[q] == cand:
                        seen = True
                        break
                if not seen:
                    break
                cursor += 1
            item = top_idx[cursor]
            cursor += 1
        n_blocked = _insert_sorted(blocked, n_blocked, item)
        chosen[p] = item
    return explored


@_jit
def _one_per_substate(flat, rows, n_sub, u, j, use_rng, epsilon, blocked, n_blocked, chosen, proposer):  # fmt: skip
    """The original code's list, as :func:`~odsc_recsys.qtables.policy.choose_per_substate`;
    returns (listed, explored)."""
    n_items = flat.shape[1]
    n_chosen = 0
    explored = 0
    for p in range(n_sub):
        if n_blocked >= n_items:
            break
        if use_rng and u[j, p] < epsilon:
            explored += 1
            item = _random_free_item(blocked[:n_blocked], n_items, u[j, 3 + p])
        else:  # the best of its own row
            item = _best_free_item(flat[rows[p]], blocked, n_blocked)
        n_blocked = _insert_sorted(blocked, n_blocked, item)
        chosen[n_chosen] = item
        proposer[n_chosen] = p
        n_chosen += 1
    return n_chosen, explored


@_jit
def _assign_proposers(flat, rows, n_sub, chosen, n_chosen, proposer):
    """Each chosen movie's proposer: the first sub-state (in ``rows`` order) with its
    largest Q."""
    for q in range(n_chosen):
        a = chosen[q]
        best_t = 0
        best_v = flat[rows[0], a]
        for p in range(1, n_sub):
            v = flat[rows[p], a]
            if v > best_v:
                best_v = v
                best_t = p
        proposer[q] = best_t


@_jit
def _write_targets(flat, written, rows, n_sub, chosen, n_chosen, proposer, target, hit_target, miss_target, alpha, proposer_only):  # fmt: skip
    """The TD writes of one transition: every sub-state, or each movie's proposer only."""
    if proposer_only:
        for q in range(n_chosen):
            r = rows[proposer[q]]
            written[r] = True
            tg = hit_target if chosen[q] == target else miss_target
            flat[r, chosen[q]] = _td_step(np.float64(flat[r, chosen[q]]), tg, alpha)
        return
    for t in range(n_sub):
        r = rows[t]
        written[r] = True
        for q in range(n_chosen):
            tg = hit_target if chosen[q] == target else miss_target
            flat[r, chosen[q]] = _td_step(np.float64(flat[r, chosen[q]]), tg, alpha)


@_jit
def replay_kernel(
    flat, written, sub_rows, future_rows, states, targets,
    k, alpha, gamma, epsilon, reward, penalty, u, use_rng,
    one_per_sub, proposer_only, bootstrap_ignored,
):  # fmt: skip
    """One pass of replay training over the transitions, in place on ``flat``.

    ``sub_rows`` (n, 3) and ``future_rows`` (n, 2) are rows of ``flat`` (-1 padded): each
    state's sub-states (in the state's order when the original code's rules are on) and the
    next sub-states that hold the clicked movie. Returns (hits, explored slots, listed slots).
    """
    n_items = flat.shape[1]
    width = max(k, 3)
    merged = np.empty(n_items, flat.dtype)
    top_idx = np.empty(max(k, 1), np.int64)
    top_val = np.empty(max(k, 1), flat.dtype)
    chosen = np.empty(width + 1, np.int64)
    proposer = np.empty(width + 1, np.int64)  # index into the transition's rows
    blocked = np.empty(3 + width, np.int64)
    hits = 0
    explored = 0
    listed = 0
    for j in range(states.shape[0]):
        items, target, rows = states[j], targets[j], sub_rows[j]
        n_sub = 0
        while n_sub < 3 and rows[n_sub] >= 0:
            n_sub += 1
        n_blocked = len(items)
        blocked[:n_blocked] = items
        blocked[:n_blocked].sort()
        if one_per_sub:
            n_chosen, ex = _one_per_substate(flat, rows, n_sub, u, j, use_rng, epsilon, blocked, n_blocked, chosen, proposer)  # fmt: skip
            explored += ex
            listed += n_chosen
        else:
            _merge_rows(flat, rows, n_sub, merged)
            for i in range(n_blocked):
                merged[blocked[i]] = -np.inf
            n_chosen = min(k, n_items - n_blocked)
            _top_k_into(merged, n_chosen, top_idx, top_val)
            if use_rng and epsilon > 0.0 and n_chosen > 0:
                explored += _epsilon_greedy(merged, top_idx, n_chosen, u, j, epsilon, blocked, n_blocked, chosen)  # fmt: skip
            else:
                chosen[:n_chosen] = top_idx[:n_chosen]
            listed += n_chosen
            if proposer_only and n_sub > 0:
                _assign_proposers(flat, rows, n_sub, chosen, n_chosen, proposer)
        hit = False
        for q in range(n_chosen):
            if chosen[q] == target:
                hit = True
                break
        if hit:
            hits += 1
        else:
            chosen[n_chosen] = target
            proposer[n_chosen] = n_sub - 1  # nobody proposed it: the last sub-state
            n_chosen += 1
        if n_sub == 0:
            continue
        future = gamma * _future_value(flat, future_rows[j])
        hit_target = reward + future
        miss_target = -penalty + future if bootstrap_ignored else -penalty
        _write_targets(flat, written, rows, n_sub, chosen, n_chosen, proposer, target,
                       hit_target, miss_target, alpha, proposer_only)  # fmt: skip
    return hits, explored, listed


@_jit
def recommend_kernel(flat, sub_rows, states, excl_ptr, excl_idx, k, out):
    """Greedy top-k for many 3-movie states; ``out`` (n, k) is pre-filled with -1."""
    n_items = flat.shape[1]
    merged = np.empty(n_items, flat.dtype)
    top_idx = np.empty(max(k, 1), np.int64)
    top_val = np.empty(max(k, 1), flat.dtype)
    for j in range(states.shape[0]):
        items, rows = states[j], sub_rows[j]
        n_sub = 0
        while n_sub < 3 and rows[n_sub] >= 0:
            n_sub += 1
        _merge_rows(flat, rows, n_sub, merged)
        n_blocked = 0
        for i in range(3):
            if merged[items[i]] != -np.inf:
                n_blocked += 1
            merged[items[i]] = -np.inf
        for p in range(excl_ptr[j], excl_ptr[j + 1]):
            if merged[excl_idx[p]] != -np.inf:
                n_blocked += 1
            merged[excl_idx[p]] = -np.inf
        kk = min(k, n_items - n_blocked)
        _top_k_into(merged, kk, top_idx, top_val)
        for p in range(kk):
            out[j, p] = top_idx[p]
