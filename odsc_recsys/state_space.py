"""How big is the state space? Counting, memory estimates and combination ranking.

With the last ``k`` movies as the state and ``n`` movies in the catalogue there are

* :math:`{}^nP_k = n! / (n-k)!` ordered states (the order of the history matters),
* :math:`{}^nC_k = n! / (k!\\,(n-k)!)` unordered states (it does not),

and each state has ``n`` actions, so a dense Q-table holds ``states x n`` numbers. For the
talk's 627 movies and ``k = 3`` that is 40,885,625 x 627 values, about 102.5 GB in float32.

The second half of the module is the *combinatorial number system*: a bijection between the
``k``-subsets of ``{0, 1, 2, ...}`` and the integers ``0, 1, 2, ...``. We use the
co-lexicographic (colex) order, in which a subset ``c_0 < c_1 < ... < c_{k-1}`` has rank

.. math:: \\operatorname{rank}(c) = \\sum_{i=0}^{k-1} \\binom{c_i}{i + 1}.

Colex ranks do not depend on ``n``: the pairs of ``{0..n-1}`` are exactly ranks
``0 .. C(n, 2) - 1`` whatever ``n`` is. So a sub-state's row in a Q-table is computed in O(1),
without ever building a list of combinations. For pairs ``i < j`` the rank is
``C(j, 2) + i = j (j - 1) / 2 + i``.

Memory figures use decimal units (1 GB = 10**9 bytes), as the talk does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import checks

__all__ = [
    "dense_table_bytes",
    "format_bytes",
    "genre_combination_table_count",
    "genre_table_rows",
    "growth_with_history",
    "growth_with_items",
    "n_combinations",
    "n_permutations",
    "n_states",
    "pair_rank",
    "per_genre_dense_bytes",
    "rank_combination",
    "rank_pair",
    "rank_pairs",
    "unrank_combination",
    "unrank_pair",
    "unrank_pairs",
]


# ---------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------


def n_permutations(n: int, k: int) -> int:
    """Number of ordered ``k``-sequences of distinct items out of ``n``: :math:`{}^nP_k`.

    Exact (a Python int, so no overflow). ``k > n`` gives 0.

    Examples
    --------
    >>> n_permutations(627, 3)
    245313750
    """
    return math.perm(checks.count("n", n), checks.count("k", k))


def n_combinations(n: int, k: int) -> int:
    """Number of ``k``-subsets of ``n`` items: :math:`{}^nC_k`. Exact; ``k > n`` gives 0.

    Examples
    --------
    >>> n_combinations(627, 3)
    40885625
    """
    return math.comb(checks.count("n", n), checks.count("k", k))


def n_states(n_items: int, history_length: int = 3, ordered: bool = False) -> int:
    """Number of states when the state is the last ``history_length`` distinct items.

    Parameters
    ----------
    n_items : int
        Catalogue size.
    history_length : int
        How many past items make the state (the talk uses 3).
    ordered : bool
        ``True`` counts permutations (order matters), ``False`` combinations.
    """
    if checks.boolean("ordered", ordered):
        return n_permutations(n_items, history_length)
    return n_combinations(n_items, history_length)


def dense_table_bytes(n_states: int, n_actions: int, dtype: npt.DTypeLike = np.float32) -> int:
    """Bytes of a dense ``n_states x n_actions`` table of ``dtype`` (exact, Python int).

    Examples
    --------
    >>> dense_table_bytes(40_885_625, 627, "float32")
    102541147500
    """
    n_states, n_actions = checks.count("n_states", n_states), checks.count("n_actions", n_actions)
    return n_states * n_actions * _itemsize(dtype)


def _itemsize(dtype: Any) -> int:
    """Bytes per value of a numeric numpy dtype (``None`` would silently mean float64)."""
    try:
        numeric = dtype is not None and np.issubdtype(np.dtype(dtype), np.number)
    except TypeError:
        numeric = False
    if not numeric:
        raise ValueError(f"dtype must be a numeric numpy dtype such as 'float32', got {dtype!r}")
    return np.dtype(dtype).itemsize


_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def format_bytes(n_bytes: float, digits: int = 4) -> str:
    """Human-readable size in decimal units (1 kB = 1000 B), e.g. ``'102.5 GB'``.

    ``digits`` is the number of significant digits. Sizes beyond yottabytes are written in
    scientific notation.
    """
    value = checks.real("n_bytes", n_bytes, 0.0)
    digits = checks.positive_int("digits", digits)
    for unit in _UNITS:
        if value < 1000 or unit == _UNITS[-1]:
            if value >= 1000:  # beyond yottabytes
                return f"{float(n_bytes):.{digits - 1}e} B"
            if unit == "B":
                return f"{int(n_bytes)} B"
            return f"{value:.{digits}g} {unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def genre_table_rows(n_genre_items: int) -> int:
    """Rows of one per-genre Q-table: its single-movie (nC1) plus pair (nC2) sub-states."""
    n = checks.count("n_genre_items", n_genre_items)
    return n + math.comb(n, 2)


def per_genre_dense_bytes(
    genre_sizes: Iterable[int], n_items: int, dtype: npt.DTypeLike = np.float32
) -> int:
    """Bytes of all per-genre dense tables: ``sum_g (n_g + C(n_g, 2)) * n_items * itemsize``.

    Parameters
    ----------
    genre_sizes : iterable of int
        Number of catalogue movies in each genre (or genre combination).
    n_items : int
        Number of columns of every table (the whole catalogue).
    """
    sizes = _counts("genre_sizes", genre_sizes)
    checks.nonempty("genre_sizes", sizes)
    rows = sum(genre_table_rows(n_g) for n_g in sizes)
    return dense_table_bytes(rows, n_items, dtype)


def _counts(name: str, values: Any) -> list[Any]:
    """The elements of an iterable (not a string) as a list; the caller checks each."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValueError(f"{name} must be a sequence of non-negative integers, got {values!r}")
    return list(values)


def genre_combination_table_count(n_genres: int = 10, max_genres: int = 3) -> int:
    """Tables needed when a movie keeps up to ``max_genres`` of ``n_genres`` genres.

    One table per non-empty genre combination of size at most ``max_genres``:
    ``sum_{k=1}^{max_genres} C(n_genres, k)``; for the paper's 10 genres and 3 genres per
    movie that is 10 + 45 + 120 = 175 tables.
    """
    n = checks.count("n_genres", n_genres)
    m = checks.count("max_genres", max_genres)
    return sum(math.comb(n, k) for k in range(1, m + 1))


# ---------------------------------------------------------------------------------------------
# Growth curves
# ---------------------------------------------------------------------------------------------


def _growth_row(n: int, k: int, itemsize: int) -> dict[str, float | int]:
    unordered = n_combinations(n, k)
    return {
        "n_items": n,
        "history_length": k,
        "ordered_states": float(n_permutations(n, k)),
        "unordered_states": float(unordered),
        "dense_bytes": float(unordered * n * itemsize),
    }


def growth_with_items(
    n_values: Sequence[int], history_length: int = 3, dtype: npt.DTypeLike = np.float32
) -> pd.DataFrame:
    """State counts and dense-table memory as the catalogue grows.

    Returns one row per ``n`` with columns ``n_items``, ``history_length``, ``ordered_states``
    (nPk), ``unordered_states`` (nCk) and ``dense_bytes`` (an unordered-state table with ``n``
    actions). Counts are float64 so that they can be plotted on a log axis even when they exceed
    the int64 range; use :func:`n_permutations` / :func:`n_combinations` for exact values.
    """
    k = checks.count("history_length", history_length)
    itemsize = _itemsize(dtype)
    ns = [
        checks.count("n_items", n)
        for n in checks.nonempty("n_values", _counts("n_values", n_values))
    ]
    return pd.DataFrame([_growth_row(n, k, itemsize) for n in ns])


def growth_with_history(
    n_items: int, history_lengths: Sequence[int], dtype: npt.DTypeLike = np.float32
) -> pd.DataFrame:
    """State counts and dense-table memory as the history used as state gets longer.

    Same columns as :func:`growth_with_items`, one row per history length.
    """
    n = checks.count("n_items", n_items)
    itemsize = _itemsize(dtype)
    lengths = checks.nonempty("history_lengths", _counts("history_lengths", history_lengths))
    ks = [checks.count("history_length", k) for k in lengths]
    return pd.DataFrame([_growth_row(n, k, itemsize) for k in ks])


# ---------------------------------------------------------------------------------------------
# Combinatorial number system (colex order)
# ---------------------------------------------------------------------------------------------


def pair_rank(lo: Any, hi: Any) -> Any:
    """Colex rank ``C(hi, 2) + lo`` of the pair ``{lo, hi}``, ``lo < hi``, unchecked.

    The one copy of the formula: :func:`rank_pair` and :func:`rank_pairs` check their input
    and call it, the unranking functions invert it, and the Q-tables' layout calls it on
    plain ints and on int arrays alike.
    """
    return hi * (hi - 1) // 2 + lo


def rank_pair(i: int, j: int) -> int:
    """Colex rank of the pair ``{i, j}`` (``i != j``): ``C(max, 2) + min``.

    Examples
    --------
    >>> [rank_pair(0, 1), rank_pair(0, 2), rank_pair(1, 2), rank_pair(0, 3)]
    [0, 1, 2, 3]
    """
    i = checks.count("i", i)
    j = checks.count("j", j)
    if i == j:
        raise ValueError(f"a pair needs two different items, got {i} twice")
    return pair_rank(min(i, j), max(i, j))


def unrank_pair(rank: int) -> tuple[int, int]:
    """Inverse of :func:`rank_pair`: the pair ``(i, j)``, ``i < j``, of colex rank ``rank``.

    O(1): ``j`` is the largest integer with ``C(j, 2) <= rank``, found with an exact integer
    square root.
    """
    r = checks.count("rank", rank)
    j = (1 + math.isqrt(1 + 8 * r)) // 2
    return r - pair_rank(0, j), j


def rank_pairs(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Vectorised :func:`rank_pair` for int arrays (order within each pair is ignored)."""
    i, j = _int_array("i", i), _int_array("j", j)
    try:
        shape = np.broadcast_shapes(i.shape, j.shape)
    except ValueError:
        raise ValueError(f"i and j must have the same (or broadcastable) shapes, got {i.shape} "
                         f"and {j.shape}") from None  # fmt: skip
    for name, members in (("i", i), ("j", j)):
        if np.any(members < 0):
            raise ValueError(f"pair members must be non-negative integers, got {name} = "
                             f"{members[members < 0].ravel()[0].item()!r}")  # fmt: skip
    if np.any(i == j):
        twice = np.broadcast_to(i, shape)[i == j].ravel()[0].item()
        raise ValueError(f"a pair needs two different items, got {twice!r} twice")
    return pair_rank(np.minimum(i, j), np.maximum(i, j))


def _int_array(name: str, values: Any) -> np.ndarray:
    """``values`` as an int64 array, refusing floats (``0.5`` would truncate to ``0``),
    booleans, strings and NaN instead of converting them."""
    array = np.asarray(values)
    if array.size and (array.dtype == bool or not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must be integers, got {checks.short_repr(values)} (dtype {array.dtype})")
    return array.astype(np.int64)



def unrank_pairs(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`unrank_pair`: returns arrays ``(i, j)`` with ``i < j``."""
    r = _int_array("ranks", ranks)
    if np.any(r < 0):
        raise ValueError(f"ranks must be non-negative integers, got {r[r < 0].ravel()[0].item()!r}")
    j = ((1 + np.sqrt(1 + 8 * r.astype(np.float64))) // 2).astype(np.int64)
    # Float square roots can be off by one for large ranks: correct both ways.
    j -= pair_rank(0, j) > r
    j += pair_rank(0, j + 1) <= r
    return r - pair_rank(0, j), j


def rank_combination(items: Iterable[int]) -> int:
    """Colex rank of a set of distinct non-negative integers (order of ``items`` is ignored).

    ``rank({c_0 < ... < c_{k-1}}) = sum_i C(c_i, i + 1)``. The ``k``-subsets of
    ``{0..n-1}`` get ranks ``0 .. C(n, k) - 1``.

    Examples
    --------
    >>> rank_combination([0, 1, 2]), rank_combination([0, 1, 3]), rank_combination([2, 1, 3])
    (0, 1, 3)
    """
    values = [checks.count("item", c) for c in _counts("items", items)]
    combo = sorted(values)
    if len(set(combo)) != len(combo):
        raise ValueError(f"a combination needs distinct items, got {values}")
    return sum(math.comb(c, i + 1) for i, c in enumerate(combo))


def unrank_combination(rank: int, k: int) -> tuple[int, ...]:
    """Inverse of :func:`rank_combination`: the increasing ``k``-tuple of colex rank ``rank``.

    Greedy decoding from the largest element down: ``c_{k-1}`` is the largest ``c`` with
    ``C(c, k) <= rank``, and so on. ``O(k log rank)`` arithmetic, no list of combinations.
    """
    r = checks.count("rank", rank)
    k = checks.count("k", k)
    if k == 0:
        if r != 0:
            raise ValueError(f"the only 0-combination has rank 0, got rank {r}")
        return ()
    out: list[int] = []
    for size in range(k, 0, -1):
        # Largest c with C(c, size) <= r: exponential then binary search (C(c, size) grows in c).
        lo, hi = size - 1, size
        while math.comb(hi, size) <= r:
            lo, hi = hi, 2 * hi
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if math.comb(mid, size) <= r:
                lo = mid
            else:
                hi = mid
        out.append(lo)
        r -= math.comb(lo, size)
    return tuple(reversed(out))
