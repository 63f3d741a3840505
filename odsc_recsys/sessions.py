"""Chronological user histories, sliding-window transitions and the train/validation/test split.

The talk's state is "the last 3 movies the user watched"; its action is the next movie. So the
unit of data is a *transition*: (3 previous movies) -> (next movie), cut from each user's
chronological history by a sliding window. The split is per user and chronological: every
user's latest transitions are the test set, the ones before them validation, the rest training.
Nothing from a user's future leaks into training.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from . import checks
from .catalog import Catalog
from .datasets import load_movielens
from .protocol import as_history

#: The paper's history length: a state is the last 3 movies.
WINDOW = 3


def user_histories(ratings: pd.DataFrame, catalog: Catalog, seed: int = 0) -> dict[int, np.ndarray]:
    """Each user's chronological history of catalogue indices, oldest first.

    Ratings of movies outside the catalogue are dropped. MovieLens often gives several ratings
    the same timestamp (a user rating a batch at once); their order is unknown, so ties are
    broken by a seeded random key rather than by item id, which would smuggle in a bias (low
    ids are older, more popular movies).

    Parameters
    ----------
    ratings : DataFrame
        Canonical ratings (``user_id, item_id, rating, timestamp``).
    catalog : Catalog
        The movies to keep.
    seed : int
        Seed for the tie-break; the same seed gives the same histories.

    Raises
    ------
    ValueError
        If ``ratings`` lacks a column or holds a missing, non-integer value in one, if
        ``catalog`` is not a :class:`Catalog`, or ``seed`` is not a non-negative integer.
    """
    if not isinstance(catalog, Catalog):
        raise ValueError(f"catalog must be a Catalog, got {checks.short_repr(catalog)}")
    seed = checks.count("seed", seed)
    if not isinstance(ratings, pd.DataFrame):
        raise ValueError(f"ratings must be a pandas DataFrame, got {checks.short_repr(ratings)}")
    for col in ("user_id", "item_id", "timestamp"):
        if col not in ratings.columns:
            raise ValueError(f"ratings must have the columns user_id, item_id, timestamp; "
                             f"missing {col!r} (got {list(ratings.columns)})")  # fmt: skip
        if not pd.api.types.is_integer_dtype(ratings[col].dtype) or ratings[col].isna().any():
            raise ValueError(f"ratings {col} must be integers without gaps, got dtype "
                             f"{ratings[col].dtype}")  # fmt: skip
    item = ratings["item_id"].to_numpy()
    keep = np.isin(item, catalog.item_ids)
    df = ratings.loc[keep, ["user_id", "item_id", "timestamp"]]
    rng = np.random.default_rng(seed)
    tie = rng.permutation(len(df))
    order = np.lexsort((tie, df["timestamp"].to_numpy(), df["user_id"].to_numpy()))
    users = df["user_id"].to_numpy()[order]
    items = catalog.indices(df["item_id"].to_numpy()[order])
    bounds = np.flatnonzero(np.diff(users)) + 1
    return {
        int(chunk_users[0]): chunk_items
        for chunk_users, chunk_items in zip(
            np.split(users, bounds), np.split(items, bounds), strict=True
        )
        if len(chunk_users)
    }


class ParallelArrays:
    """A dataclass whose fields are equal-length arrays, one row per record.

    Gives its length and the selection of some rows from every field at once.
    """

    def __len__(self) -> int:
        return len(getattr(self, fields(self)[0].name))

    def rows(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """``field name -> field[index]`` for every field, in field order.

        ``index`` is a boolean mask of ``len(self)`` or integer positions in
        ``[0, len(self))``; a negative position is refused, not read from the end.
        """
        n = len(self)
        if isinstance(index, str | bytes):
            raise ValueError(f"index must be a boolean mask or integer positions, got {index!r}")
        array = np.asarray(index)
        if array.dtype == bool:
            if array.shape != (n,):
                raise ValueError(f"a boolean mask must have one entry per row ({n}), got shape "
                                 f"{array.shape}")  # fmt: skip
        else:
            array = checks.indices("index", array, n)
        return {f.name: getattr(self, f.name)[array] for f in fields(self)}


@dataclass(frozen=True)
class Transitions(ParallelArrays):
    """Sliding-window transitions: ``states[j]`` (3 movies, oldest first) -> ``targets[j]``.

    Attributes
    ----------
    users : np.ndarray
        The user of each transition.
    states : np.ndarray
        ``(n, window)`` catalogue indices, oldest first.
    targets : np.ndarray
        The movie watched next.
    positions : np.ndarray
        Index of the target in its user's history (so ``history[:position]`` is what was seen
        before it).
    """

    users: np.ndarray
    states: np.ndarray
    targets: np.ndarray
    positions: np.ndarray

    def __post_init__(self) -> None:
        # Only the shape is checked here: the movie indices are checked by whoever knows the
        # catalogue (a model, a table), with messages that name the movie.
        n = None
        for f in fields(self):
            value = getattr(self, f.name)
            ndim = 2 if f.name == "states" else 1
            if not isinstance(value, np.ndarray) or value.ndim != ndim:
                raise ValueError(f"{f.name} must be a {ndim}-d numpy array, got {checks.short_repr(value)}")
            if n is not None and len(value) != n:
                raise ValueError(f"users, states, targets and positions must have one row per "
                                 f"transition, got {n} users and {len(value)} "
                                 f"{f.name}")  # fmt: skip
            n = len(value)

    def subset(self, mask: np.ndarray) -> Transitions:
        """The transitions selected by a boolean mask or an index array."""
        return Transitions(**self.rows(mask))

    def prefixes(self, histories: dict[int, np.ndarray]) -> list[np.ndarray]:
        """For each transition, the user's whole history before its target.

        Raises
        ------
        ValueError
            If a transition's user has no history, or one too short for its position.
        """
        if not isinstance(histories, Mapping):
            raise ValueError(f"histories must be a dict user_id -> history, got "
                             f"{checks.short_repr(histories)}")  # fmt: skip
        out = []
        for u, p in zip(self.users, self.positions, strict=True):
            history = histories.get(int(u))
            if history is None:
                raise ValueError(f"user {int(u)} of the transitions has no history in histories "
                                 f"({len(histories)} users)")  # fmt: skip
            if not 0 <= p <= len(history):
                raise ValueError(f"user {int(u)}'s history has {len(history)} movies, fewer than "
                                 f"the transition's position {int(p)}")  # fmt: skip
            out.append(history[:p])
        return out

    def to_frame(self, catalog: Catalog | None = None) -> pd.DataFrame:
        """A readable table; with a catalogue, titles instead of indices."""
        if catalog is not None:
            if not isinstance(catalog, Catalog):
                raise ValueError(f"catalog must be a Catalog or None, got {checks.short_repr(catalog)}")
            for what, values in (("state", self.states), ("target", self.targets)):
                as_history(np.ravel(values), catalog.n_items, f"every {what}")
        name = (lambda i: catalog.titles[i]) if catalog is not None else int
        cols = {"user_id": self.users}
        for k in range(self.states.shape[1]):
            cols[f"m{k + 1}"] = [name(i) for i in self.states[:, k]]
        cols["next"] = [name(i) for i in self.targets]
        return pd.DataFrame(cols)


def _check_histories(histories: object) -> dict[int, np.ndarray]:
    """``user_id -> history`` as int64 arrays, each a 1-d sequence of movie indices >= 0 (no
    catalogue is known here, so there is no upper bound)."""
    if not isinstance(histories, Mapping):
        raise ValueError(f"histories must be a dict user_id -> history, got {checks.short_repr(histories)}")
    out = {}
    for u, h in histories.items():
        checks.integer("user id", u)
        allowed = f"the history of user {u} must be a 1-d sequence of movie indices >= 0"
        try:
            arr = np.asarray(h if isinstance(h, np.ndarray) else list(h))
        except (TypeError, ValueError):  # not iterable, or ragged
            arr = None
        if isinstance(h, str | bytes) or arr is None or (arr.size and (
                arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer))):  # fmt: skip
            raise ValueError(f"{allowed}, got {checks.short_repr(h)}")
        if arr.size and arr.min() < 0:
            raise ValueError(f"{allowed}, got {int(arr.min())}")
        out[u] = arr.astype(np.int64, copy=False) if arr.size else np.zeros(0, dtype=np.int64)
    return out


def make_transitions(histories: dict[int, np.ndarray], window: int = WINDOW) -> Transitions:
    """Cut every history into ``window`` movies -> next movie, users in sorted order.

    Raises
    ------
    ValueError
        If ``histories`` is not a dict of integer user ids to 1-d sequences of non-negative
        integer movie indices, or ``window`` is not a positive integer.
    """
    window = checks.positive_int("window", window)
    checked = _check_histories(histories)
    users, states, targets, positions = [], [], [], []
    for u in sorted(checked):
        h = checked[u]
        n = len(h) - window
        if n <= 0:
            continue
        idx = np.arange(window, len(h))
        states.append(np.lib.stride_tricks.sliding_window_view(h, window)[:n])
        targets.append(h[window:])
        positions.append(idx)
        users.append(np.full(n, u, dtype=np.int64))
    if not targets:
        empty = np.zeros(0, dtype=np.int64)
        return Transitions(empty, np.zeros((0, window), dtype=np.int64), empty, empty)
    return Transitions(
        np.concatenate(users),
        np.ascontiguousarray(np.concatenate(states)),
        np.concatenate(targets),
        np.concatenate(positions),
    )


@dataclass(frozen=True)
class Split:
    """A per-user chronological train / validation / test split of transitions.

    ``train_histories`` holds each user's history before their first validation target: what
    collaborative filtering may be fitted on without seeing the future.
    """

    train: Transitions
    val: Transitions
    test: Transitions
    histories: dict[int, np.ndarray]
    train_histories: dict[int, np.ndarray]

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            wanted = Transitions if f.name in ("train", "val", "test") else Mapping
            if not isinstance(value, wanted):
                kind = "Transitions" if wanted is Transitions else "a dict user_id -> history"
                raise ValueError(f"{f.name} must be {kind}, got {checks.short_repr(value)}")

    def summary(self) -> pd.DataFrame:
        """Transitions and users per part."""
        parts = {"train": self.train, "val": self.val, "test": self.test}
        return pd.DataFrame(
            {
                "transitions": [len(t) for t in parts.values()],
                "users": [len(np.unique(t.users)) for t in parts.values()],
            },
            index=list(parts),
        )


def chronological_split(
    histories: dict[int, np.ndarray],
    val_frac: float = 0.1,
    test_frac: float = 0.1,
    window: int = WINDOW,
) -> Split:
    """Split each user's transitions in time: the last ``test_frac`` to test, the
    ``val_frac`` before them to validation, the rest to training.

    Each part gets at least one transition of a user who has three or more; a user with fewer
    goes wholly to training. The split is a pure function of the histories, which are seeded
    (:func:`user_histories`), so the same seed gives the same split everywhere.
    """
    val_frac = checks.fraction("val_frac", val_frac)
    test_frac = checks.fraction("test_frac", test_frac)
    if val_frac + test_frac >= 1.0:
        raise ValueError(f"val_frac + test_frac must be < 1, got {val_frac + test_frac}")
    allt = make_transitions(histories, window)
    part = np.zeros(len(allt), dtype=np.int8)  # 0 train, 1 val, 2 test
    train_histories: dict[int, np.ndarray] = {}
    starts = (
        np.flatnonzero(np.r_[True, np.diff(allt.users) != 0]) if len(allt) else np.zeros(0, int)
    )
    ends = np.r_[starts[1:], len(allt)] if len(allt) else starts
    for s, e in zip(starts, ends, strict=True):
        n = e - s
        u = int(allt.users[s])
        if n >= 3:
            # at least one transition in each part, and never more than the user has
            n_test = min(max(1, math.ceil(test_frac * n)), n - 2)
            n_val = min(max(1, math.ceil(val_frac * n)), n - n_test - 1)
            part[e - n_test : e] = 2
            part[e - n_test - n_val : e - n_test] = 1
            first_val = allt.positions[e - n_test - n_val]
        else:
            first_val = len(histories[u])
        train_histories[u] = histories[u][:first_val]
    for u in histories:  # users too short for any transition still have a history
        train_histories.setdefault(int(u), np.asarray(histories[u], dtype=np.int64))
    return Split(
        train=allt.subset(part == 0),
        val=allt.subset(part == 1),
        test=allt.subset(part == 2),
        histories=histories,
        train_histories=dict(sorted(train_histories.items())),
    )


def interaction_matrix(
    histories: Mapping[int, np.ndarray] | Sequence[np.ndarray],
    n_items: int,
    dtype: npt.DTypeLike = np.float32,
) -> sp.csr_matrix:
    """Binary users x items matrix of who watched what; a repeated watch counts once.

    Parameters
    ----------
    histories : dict or sequence of arrays
        Catalogue indices per user: a dict gives one row per user in sorted user order, a
        sequence one row per history in its order.
    n_items : int
        Number of columns.
    dtype : numpy dtype
        Of the stored ones (float32 is half the memory; the classical models use float64).

    Raises
    ------
    ValueError
        If ``n_items`` is not a non-negative integer, ``dtype`` is not a numeric type, or a
        history holds an index outside ``[0, n_items)``.
    """
    n_items = checks.count("n_items", n_items)
    try:
        kind = np.dtype(dtype).kind
    except TypeError:  # not a dtype at all
        kind = None
    if kind is None or kind not in "iuf":
        raise ValueError(f"dtype must be a numeric numpy dtype such as float32, got {dtype!r}")
    if isinstance(histories, Mapping):
        hists = [histories[u] for u in sorted(histories)]
    elif isinstance(histories, str | bytes) or not isinstance(histories, Iterable):
        raise ValueError(f"histories must be a dict or a sequence of histories, got "
                         f"{checks.short_repr(histories)}")  # fmt: skip
    else:
        hists = list(histories)
    hists = [as_history(h, n_items) for h in hists]
    rows = np.repeat(np.arange(len(hists)), [len(h) for h in hists])
    cols = np.concatenate(hists).astype(np.int64) if hists else np.zeros(0, dtype=np.int64)
    data = np.ones(len(cols), dtype=dtype)
    m = sp.csr_matrix((data, (rows, cols)), shape=(len(hists), int(n_items)))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


@dataclass(frozen=True)
class TutorialData:
    """Everything the notebooks share: the same data, catalogue and split for every model."""

    ratings: pd.DataFrame
    movies: pd.DataFrame
    full_catalog: Catalog
    catalog: Catalog
    histories: dict[int, np.ndarray]
    split: Split
    source: str


def load_tutorial_data(n_items: int = 627, seed: int = 0, source: str = "auto") -> TutorialData:
    """MovieLens-100K restricted to the ``n_items`` most-rated movies, with histories and split.

    Every notebook calls this with the defaults, so every model in the tutorial is trained and
    evaluated on the same catalogue (the paper's top 627) and the same split.

    The data is loaded once per setting; each call returns its own deep copy of that load
    (about 10 ms), so a cell that changes what it got (a history, a DataFrame column) cannot
    change what a later call returns.
    """
    n_items = checks.positive_int("n_items", n_items)
    seed = checks.count("seed", seed)
    checks.text("source", source)  # the loader names the sources it knows
    return copy.deepcopy(_load_tutorial_data(n_items, seed, source))


@lru_cache(maxsize=4)
def _load_tutorial_data(n_items: int, seed: int, source: str) -> TutorialData:
    """The one load per setting behind :func:`load_tutorial_data`; never handed out itself."""
    ratings, movies = load_movielens(source=source, progressbar=False)
    full = Catalog.from_movielens(ratings, movies)
    catalog = full.top_n(n_items)
    histories = user_histories(ratings, catalog, seed=seed)
    split = chronological_split(histories)
    source = ratings.attrs.get("source", source)
    return TutorialData(ratings, movies, full, catalog, histories, split, source)


def states_seen_in(train: Transitions, transitions: Transitions) -> np.ndarray:
    """For each transition, whether its state (as a set of movies: order ignored, as in the
    talk) occurs among the training transitions' states. A full-state Q-table has a trained
    row only where this is True. Any window length works."""
    for name, value in (("train", train), ("transitions", transitions)):
        if not isinstance(value, Transitions):
            raise ValueError(f"{name} must be Transitions, got {checks.short_repr(value)}")
    if train.states.shape[1] != transitions.states.shape[1]:
        raise ValueError(f"train and transitions must have states of one length, got "
                         f"{train.states.shape[1]} and {transitions.states.shape[1]}")  # fmt: skip
    both = np.sort(np.concatenate([train.states, transitions.states]), axis=1)
    _, state_id = np.unique(both, axis=0, return_inverse=True)
    state_id = state_id.ravel()
    return np.isin(state_id[len(train) :], state_id[: len(train)])
