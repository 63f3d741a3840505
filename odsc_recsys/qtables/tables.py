"""Per-genre ("distributed") Q-tables and the one-table baseline: recommend, update, save.

:class:`GenreQTables` is the talk's answer to the state-space blow-up: one Q-table per genre,
whose rows are sub-states (:mod:`~odsc_recsys.qtables.layout`). A state is recommended for by
merging its sub-states' rows (:mod:`~odsc_recsys.qtables.policy`) and learnt from by the
Q-learning update of every sub-state (:mod:`~odsc_recsys.qtables.update`). The Q-values live
in a store (:mod:`~odsc_recsys.qtables.storage`): dense, lazy or sparse, with identical
results. :class:`FullStateQTable` is the same machinery with one row per whole state.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import checks
from ..protocol import Recommender, as_history
from ..state_space import format_bytes
from . import fast, io, policy
from .layout import HISTORY_LENGTH, FullStateLayout, GenreLayout, SubState
from .policy import EXPLORE, PRIOR, Recommendations
from .storage import STORAGES, make_store
from .update import apply_update, td_target

__all__ = ["FullStateQTable", "GenreQTables", "QTablePolicy", "QTables", "load_tables"]


def _movie(item: object, what: str, n_items: int, state: tuple[object, ...] | None = None) -> int:
    """A catalogue index, or a ``ValueError`` that names the bad value and the range."""
    if isinstance(item, bool) or not isinstance(item, int | np.integer):
        if state is not None:
            raise ValueError(f"movie indices must be integers, got {item!r} in state {state}")
        raise ValueError(f"{what} must be a movie index (integer), got {item!r}")
    if not 0 <= item < n_items:
        where = f"in state {state}" if state is not None else f"as {what}"
        raise ValueError(
            f"unknown movie index {item} {where}: catalogue indices run from 0 to {n_items - 1}"
        )
    return int(item)


class QTables:
    """Tables of Q-values whose rows are the sub-states of a layout.

    Subclasses choose the layout; everything else (checks, recommend, update, memory, save)
    is shared.
    """

    kind = ""

    def __init__(
        self,
        layout: GenreLayout | FullStateLayout,
        alpha: float,
        gamma: float,
        epsilon: float,
        storage: str,
        dtype: npt.DTypeLike,
        prior: npt.ArrayLike | None,
    ) -> None:
        self.layout = layout
        self.n_items = layout.n_items
        self.alpha = checks.alpha(alpha)
        self.gamma = checks.gamma(gamma)
        self.epsilon = checks.epsilon(epsilon)
        self.dtype = checks.float_dtype("dtype", dtype)
        self.store = make_store(storage, layout.table_rows.tolist(), self.n_items, self.dtype)
        self.storage = storage
        self.prior = None if prior is None else self._check_prior(prior)
        # The scores of a state with no sub-state (an empty history): the prior, or zeros.
        self._empty_scores = self.prior if self.prior is not None else np.zeros(self.n_items)

    @property
    def table_rows(self) -> np.ndarray:
        """Rows of each table (the layout's)."""
        return self.layout.table_rows

    def _check_prior(self, prior: npt.ArrayLike) -> np.ndarray:
        # One finite score per catalogue movie.
        return checks.finite_array("prior", prior, shape=(self.n_items,))

    def check_genre(self, genre: object) -> int:
        """A valid table number (``0 .. n_tables - 1``)."""
        return checks.index("table index", genre, len(self.table_rows))

    def check_titles(self, titles: Sequence[str] | None) -> Sequence[str] | None:
        """``titles`` if it names every catalogue movie (or is None)."""
        if titles is not None and len(titles) != self.n_items:
            raise ValueError(f"titles must name all {self.n_items} catalogue movies, got "
                             f"{len(titles)} titles")  # fmt: skip
        return titles

    # ---- state handling -------------------------------------------------------------------

    def check_state(self, state: Iterable[int]) -> tuple[int, ...]:
        """A valid state (at most 3 distinct known catalogue indices) as a tuple of ints."""
        if isinstance(state, np.ndarray):
            if state.ndim != 1 or (state.size and not np.issubdtype(state.dtype, np.integer)):
                raise ValueError(f"a state is a 1-d sequence of movie indices, got {state!r}")
            items = tuple(state.tolist())
        else:
            items = tuple(state)
        if len(items) > HISTORY_LENGTH:
            raise ValueError(
                f"a state holds at most {HISTORY_LENGTH} movies (the last ones watched), "
                f"got {len(items)}: {items}; pass history[-3:]"
            )
        checked = tuple(_movie(m, "movie indices", self.n_items, items) for m in items)
        if len(set(checked)) != len(checked):
            raise ValueError(f"a state cannot hold the same movie twice, got {items}")
        return checked

    def check_item(self, item: object, what: str) -> int:
        """A valid catalogue index, named ``what`` in the error."""
        return _movie(item, what, self.n_items)

    def decompose(self, state: Iterable[int]) -> tuple[SubState, ...]:
        """The sub-states of a state (see :mod:`~odsc_recsys.qtables.layout`), in a fixed
        order."""
        return self.layout.decompose(self.check_state(state))

    # ---- reading --------------------------------------------------------------------------

    def q_row(self, substate: SubState) -> np.ndarray:
        """A copy of the Q-values of one sub-state's row (one per catalogue movie)."""
        if not isinstance(substate, SubState):
            raise ValueError(f"substate must be a SubState (from decompose), got {substate!r}")
        genre = self.check_genre(substate.genre)
        checks.index(f"row of table {genre}", substate.row, int(self.table_rows[genre]))
        return self.store.row(genre, substate.row).copy()

    def table(self, genre: int) -> np.ndarray:
        """A dense copy of one table (materialised from the lazy or sparse rows if need be)."""
        return self.store.table(self.check_genre(genre))

    def rows(self, subs: Sequence[SubState]) -> list[np.ndarray]:
        """The sub-states' rows, for reading (views into the tables where the store allows)."""
        row = self.store.row
        return [row(s.genre, s.row) for s in subs]

    def merged(self, rows: list[np.ndarray]) -> np.ndarray:
        """A new array with the max of the rows (table dtype), or the prior (float64) / zeros
        when there is no row."""
        return policy.merge_rows(rows, self._empty_scores)

    def score(self, state: Iterable[int]) -> np.ndarray:
        """Merged Q-value of every catalogue movie for this state (max over its sub-states),
        as float64."""
        return self.merged(self.rows(self.decompose(state))).astype(np.float64)

    def future_value(self, items: Sequence[int], clicked: int | None) -> float:
        """``max_a' Q(s', a')``: over the next sub-states that hold ``clicked`` after a click;
        over the state's own sub-states (``s' = s``) when nothing was clicked."""
        if clicked is None:
            return max((float(r.max()) for r in self.rows(self.layout.decompose(items))),
                       default=-np.inf)  # fmt: skip
        g, rows = self.layout.future_rows(items, clicked)
        row = self.store.row
        return max(float(row(g, r).max()) for r in rows)

    # ---- recommend ------------------------------------------------------------------------

    def recommend(
        self,
        state: Iterable[int],
        k: int = 10,
        rng: np.random.Generator | None = None,
        exclude: Iterable[int] | None = None,
    ) -> Recommendations:
        """Recommend up to ``k`` movies for a state, best first.

        Parameters
        ----------
        state : sequence of int
            The last (up to) 3 movies, oldest first.
        k : int
            List length; fewer are returned when fewer movies are eligible.
        rng : numpy.random.Generator, optional
            Drives epsilon-greedy exploration: exactly ``2 * len(list)`` uniform draws per
            list (none when ``epsilon == 0``). Without it the list is greedy: use that for
            evaluation.
        exclude : iterable of int, optional
            Movies never to recommend besides the state's own (e.g. everything the user saw).
        """
        k = checks.count("k", k)
        checks.generator("rng", rng, allow_none=True)
        items = self.check_state(state)
        blocked = None if exclude is None else as_history(exclude, self.n_items)
        subs = self.layout.decompose(items)
        rows = self.rows(subs)
        merged = self.merged(rows)
        chosen, explore = policy.choose(merged.copy(), items, k, self.epsilon, rng, blocked)
        picked = np.array(chosen, dtype=np.int64)
        q_values = merged[picked].astype(np.float64)
        source = policy.sources(rows, picked)
        if explore is not None:
            source[np.array(explore, dtype=bool)] = EXPLORE
        return Recommendations(items=picked, q_values=q_values, source=source, substates=subs)

    # ---- update ---------------------------------------------------------------------------

    def learn(
        self,
        items: tuple[int, ...],
        subs: Sequence[SubState],
        actions: list[int],
        clicked: int | None,
        reward: float,
        penalty: float,
        *,
        done: bool = False,
        proposed_by: Sequence[SubState] | None = None,
        bootstrap_ignored: bool = True,
    ) -> None:
        """:meth:`update` on input already checked (``clicked``, if any, is in ``actions``).

        ``proposed_by`` (one sub-state per action) updates each action in its own sub-state
        only, and ``bootstrap_ignored=False`` drops the future term from the ignored movies'
        targets: the original code's rules (see :func:`~odsc_recsys.qtables.replay_train`).
        """
        if not subs or not actions:
            return
        future = 0.0 if done else self.future_value(items, clicked)
        hit = td_target(reward, self.gamma, future, done)
        miss = td_target(-penalty, self.gamma, future, done) if bootstrap_ignored else -penalty
        targets = [hit if a == clicked else miss for a in actions]
        apply_update(self.store, subs, actions, targets, self.alpha, proposed_by)

    def update(
        self,
        state: Iterable[int],
        recommendations: Recommendations | Iterable[int],
        clicked: int | None,
        reward: float = 15.0,
        penalty: float = 5.0,
        done: bool = False,
    ) -> np.ndarray:
        """One Q-learning step after showing ``recommendations`` in ``state``.

        The clicked movie gets ``+reward``, every other listed movie ``-penalty``; a clicked
        movie missing from the list is appended (the talk's training rule). Every sub-state of
        ``state`` moves toward ``r + gamma * max_a' Q(s', a')`` (see
        :mod:`~odsc_recsys.qtables.update`): after a click ``s'`` is the sub-state of
        ``(m2, m3, clicked)`` that holds it; with ``clicked=None`` (no click) the state stays,
        ``s' = s``; with ``done=True`` (the user left) the target is the reward alone. An
        empty state has no sub-state: nothing is updated.

        Returns
        -------
        np.ndarray of int64
            The actions that were updated (the list, plus ``clicked`` if it was appended).
        """
        items = self.check_state(state)
        if clicked is not None:
            clicked = self.check_item(clicked, "clicked")
            if clicked in items:
                raise ValueError(
                    f"clicked movie {clicked} is already in the state {items}: the next movie "
                    "must be a new one"
                )
        reward = checks.real("reward", reward)
        penalty = checks.real("penalty", penalty)
        checks.boolean("done", done)
        actions = self._check_actions(recommendations, items)
        if clicked is not None and not np.any(actions == clicked):
            actions = np.append(actions, clicked)
        self.learn(items, self.layout.decompose(items), actions.tolist(), clicked, reward,
                   penalty, done=bool(done))  # fmt: skip
        return actions

    def _check_actions(
        self, recommendations: Recommendations | Iterable[int], items: tuple[int, ...]
    ) -> np.ndarray:
        if isinstance(recommendations, Recommendations):
            actions = recommendations.items
        else:  # a float such as 3.5 is refused, not truncated to movie 3
            actions = np.asarray(list(recommendations))
        actions = checks.indices("the recommended list", actions, self.n_items).astype(np.int64)
        if len(np.unique(actions)) != len(actions):
            raise ValueError(f"the recommended list repeats a movie: {actions.tolist()}")
        in_state = [int(a) for a in actions if int(a) in items]
        if in_state:
            raise ValueError(f"recommended movies {in_state} are in the state {items}")
        return actions

    # ---- memory ---------------------------------------------------------------------------

    @property
    def nbytes(self) -> int:
        """Memory held by the Q-values: array bytes for dense storage; for lazy and sparse
        storage the row arrays (lazy) or entry arrays (sparse), their keys and the dicts,
        measured with ``sys.getsizeof``."""
        return self.store.nbytes

    @property
    def n_allocated_rows(self) -> int:
        """Rows that hold memory: all of them for dense storage, the written ones for lazy and
        sparse storage."""
        return self.store.n_allocated_rows

    @property
    def n_stored_values(self) -> int:
        """Q-values held in memory: every entry for dense storage, every entry of the written
        rows for lazy storage, only the written entries for sparse storage."""
        return self.store.n_stored_values

    @property
    def n_rows(self) -> int:
        """Total rows over all tables (allocated or not)."""
        return int(self.table_rows.sum())

    def dense_nbytes(self) -> int:
        """Bytes all tables take when dense, whatever the storage."""
        return self.n_rows * self.n_items * self.dtype.itemsize

    def written_rows(self, genre: int) -> np.ndarray:
        """Rows of one table that hold a non-zero value (dense) or were written (lazy,
        sparse)."""
        return self.store.written_rows(self.check_genre(genre))

    def as_recommender(self, name: str | None = None) -> QTablePolicy:
        """The greedy policy of these tables behind the shared :class:`Recommender` protocol."""
        return QTablePolicy(self, name=name or self.kind)

    # ---- save / load ----------------------------------------------------------------------

    def metadata(self) -> dict[str, np.ndarray]:  # pragma: no cover - per subclass
        """What besides the Q-values a saved file needs to rebuild these tables."""
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> Path:
        """Write everything to one ``.npz`` file, atomically (temp file, then rename).

        Each table's arrays are the store's :meth:`export` with the table's number appended
        (``table_<g>`` when dense; ``rows_<g>`` and ``values_<g>`` when lazy; ``rows_<g>``
        and the CSR arrays ``indptr_<g>``, ``cols_<g>``, ``vals_<g>`` when sparse). Loading
        gives back exactly the same values, storage, dtype and hyperparameters.
        """
        header = {
            "kind": np.array(self.kind),
            "storage": np.array(self.storage),
            "dtype": np.array(self.dtype.str),
            "hyper": np.array([self.alpha, self.gamma, self.epsilon], dtype=np.float64),
            "prior": self.prior if self.prior is not None else np.zeros(0),
            **self.metadata(),
        }
        return io.save_tables(path, header, self.store, len(self.table_rows))

    @staticmethod
    def load(path: str | os.PathLike) -> GenreQTables | FullStateQTable:
        """Read tables written by :meth:`save`; a corrupt, truncated or foreign file raises a
        ``ValueError`` that names the file and the problem."""
        return load_tables(path)


#: The defaults of the tables' settings (the talk's alpha, gamma and epsilon).
_DEFAULTS = {"alpha": 0.8, "gamma": 0.4, "epsilon": 0.3, "storage": "dense",
             "dtype": np.float32, "prior": None}  # fmt: skip


class GenreQTables(QTables):
    """One Q-table per genre (the talk's "distributed Q-table").

    Parameters
    ----------
    genre_of : array of int, shape (n_items,)
        Genre code of each catalogue movie (its primary genre, or a genre-combination code from
        :func:`~odsc_recsys.qtables.genre_combinations`).
    genre_names : sequence of str
        Name of each code; a genre without movies gets an empty table.
    alpha, gamma, epsilon : float
        Learning rate in (0, 1], discount factor in [0, 1], exploration rate in [0, 1]
        (the talk's 0.8, 0.4, 0.3 by default).
    storage : {"dense", "lazy", "sparse"}
        ``"dense"`` allocates every table in full (the paper's numpy array per genre);
        ``"lazy"`` allocates a row the first time it is written; ``"sparse"`` stores only the
        entries ever written (see :mod:`~odsc_recsys.qtables.storage`). Results are identical.
    dtype : numpy float dtype
        Dtype of the Q-values (float32 by default).
    prior : array of float, shape (n_items,), optional
        Scores for an empty history (cold start), e.g. popularity; zeros if omitted.

    Examples
    --------
    >>> tables = GenreQTables(np.array([0, 0, 1, 0, 2]), ["Drama", "Comedy", "Horror"])
    >>> tables.decompose([1, 2, 3])
    (SubState(genre=0, items=(1, 3), row=5), SubState(genre=1, items=(2,), row=0))
    """

    kind = "genre"
    layout: GenreLayout

    def __init__(
        self,
        genre_of: npt.ArrayLike,
        genre_names: Sequence[str],
        alpha: float = 0.8,
        gamma: float = 0.4,
        epsilon: float = 0.3,
        storage: str = "dense",
        dtype: npt.DTypeLike = np.float32,
        prior: npt.ArrayLike | None = None,
    ) -> None:
        layout = GenreLayout(genre_of, genre_names)
        super().__init__(layout, alpha, gamma, epsilon, storage, dtype, prior)

    # The layout's description of the tables, under the names the notebooks use.
    @property
    def genre_of(self) -> np.ndarray:
        return self.layout.genre_of

    @property
    def genre_names(self) -> list[str]:
        return self.layout.genre_names

    @property
    def genre_sizes(self) -> np.ndarray:
        return self.layout.genre_sizes

    @property
    def local_index(self) -> np.ndarray:
        return self.layout.local_index

    @property
    def n_tables(self) -> int:
        return self.layout.n_tables

    def members(self, genre: int) -> np.ndarray:
        """Catalogue indices of a genre's movies, in local order."""
        return self.layout.members(self.check_genre(genre))

    def scenario(self, state: Iterable[int]) -> str:
        """The talk's scenario of a 3-movie state: ``"a"`` (three genres), ``"b"`` (two share a
        genre) or ``"c"`` (one genre); ``"short"`` for a history of fewer than 3 movies."""
        items = self.check_state(state)
        if len(items) < HISTORY_LENGTH:
            return "short"
        return {3: "a", 2: "b", 1: "c"}[len({int(self.genre_of[m]) for m in items})]

    def substate_label(self, substate: SubState, titles: Sequence[str] | None = None) -> str:
        """``"Drama: {Fargo (1996), Contact (1997)}"`` (indices when ``titles`` is omitted)."""
        titles = self.check_titles(titles)
        names = [titles[m] if titles is not None else str(m) for m in substate.items]
        return f"{self.genre_names[substate.genre]}: {{{', '.join(names)}}}"

    def substates_frame(
        self, state: Iterable[int], titles: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """The talk's scenario table for one state: table, sub-state, kind, row."""
        titles = self.check_titles(titles)
        subs = self.decompose(state)
        return pd.DataFrame(
            {
                "table": [self.genre_names[s.genre] for s in subs],
                "sub_state": [
                    ", ".join(titles[m] if titles is not None else str(m) for m in s.items)
                    for s in subs
                ],
                "kind": ["single (nC1)" if len(s.items) == 1 else "pair (nC2)" for s in subs],
                "row": [s.row for s in subs],
                "table_rows": [int(self.table_rows[s.genre]) for s in subs],
            }
        )

    def recommendations_frame(
        self, recs: Recommendations, titles: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """One row per recommended movie: rank, item, title, merged Q-value and its source."""
        titles = self.check_titles(titles)
        labels = [
            "explore" if src == EXPLORE else "prior" if src == PRIOR
            else self.substate_label(recs.substates[src], titles)
            for src in recs.source.tolist()
        ]  # fmt: skip
        frame = pd.DataFrame(
            {
                "rank": np.arange(1, len(recs) + 1),
                "item": recs.items,
                "q_value": recs.q_values,
                "proposed_by": labels,
            }
        )
        if titles is not None:
            frame.insert(2, "title", [titles[m] for m in recs.items])
        return frame

    def metadata(self) -> dict[str, np.ndarray]:
        return {"genre_of": self.genre_of, "genre_names": np.array(self.genre_names, dtype=str)}


class FullStateQTable(QTables):
    """One Q-table whose rows are *whole* states: every 1-, 2- and 3-subset of the catalogue.

    This is the table the talk says does not fit for 627 movies (~102.5 GB); on a small
    catalogue it is the baseline for the per-genre tables. Same recommend / update / save
    interface as :class:`GenreQTables`, with one table (``genre`` 0) and one sub-state per
    state: the state itself (:class:`~odsc_recsys.qtables.layout.FullStateLayout`).

    Parameters
    ----------
    n_items : int
        Catalogue size.
    max_bytes : int
        Refuse (``ValueError``) to build a table whose dense size would exceed this.
    **settings
        ``alpha``, ``gamma``, ``epsilon``, ``storage``, ``dtype``, ``prior``: as for
        :class:`GenreQTables`, with the same defaults.
    """

    kind = "single"

    def __init__(self, n_items: int, max_bytes: int = 2 * 10**9, **settings: Any) -> None:
        unknown = sorted(set(settings) - set(_DEFAULTS))
        if unknown:
            raise ValueError(f"unknown setting(s) {unknown}: choose from {sorted(_DEFAULTS)}")
        checks.real("max_bytes", max_bytes, 0)
        settings = {**_DEFAULTS, **settings}
        settings["dtype"] = checks.float_dtype("dtype", settings["dtype"])
        checks.one_of("storage", settings["storage"], STORAGES)
        layout = FullStateLayout(n_items)
        rows, n = layout.n_rows, layout.n_items
        need = rows * n * np.dtype(settings["dtype"]).itemsize
        if settings["storage"] == "dense" and need > max_bytes:
            raise ValueError(
                f"one dense Q-table for {n} movies has {rows:,} rows x {n} actions = "
                f"{format_bytes(need)}, above max_bytes={format_bytes(max_bytes)}: this is the "
                "state-space blow-up; use GenreQTables or storage='lazy' or 'sparse'"
            )
        super().__init__(layout, **settings)

    def metadata(self) -> dict[str, np.ndarray]:
        return {"n_items": np.array(self.n_items)}


def load_tables(path: str | os.PathLike) -> GenreQTables | FullStateQTable:
    """Read tables written by :meth:`QTables.save`; a corrupt, truncated or foreign file
    raises a ``ValueError`` that names the file and the problem."""
    path = Path(path)
    data = io.read_tables(path, required=["kind", "storage", "dtype", "hyper", "prior"])
    kind, hyper = str(data["kind"]), data["hyper"]
    if hyper.shape != (3,):
        raise io.load_error(path, f"hyper must hold alpha, gamma, epsilon, got shape {hyper.shape}")
    kwargs = dict(alpha=hyper[0], gamma=hyper[1], epsilon=hyper[2], storage=str(data["storage"]),
                  prior=data["prior"] if data["prior"].size else None)  # fmt: skip
    try:
        kwargs["dtype"] = np.dtype(str(data["dtype"]))
        if kind == "genre":
            if "genre_of" not in data or "genre_names" not in data:
                raise io.load_error(path, "missing entries genre_of / genre_names")
            tables: GenreQTables | FullStateQTable = GenreQTables(
                data["genre_of"], data["genre_names"].tolist(), **kwargs
            )
        elif kind == "single":
            if "n_items" not in data:
                raise io.load_error(path, "missing entry n_items")
            tables = FullStateQTable(int(data["n_items"]), max_bytes=2**62, **kwargs)
        else:
            raise io.load_error(path, f"unknown kind {kind!r}")
    except (TypeError, ValueError) as exc:
        if str(exc).startswith("cannot load"):
            raise
        raise io.load_error(path, f"invalid metadata: {exc}") from exc
    io.restore_store(path, tables.store, len(tables.table_rows), data)
    return tables


class QTablePolicy(Recommender):
    """The greedy policy of trained tables, as a :class:`~odsc_recsys.protocol.Recommender`.

    ``score(history)`` is the merged Q of the last 3 movies; ``recommend`` never returns the
    state's movies nor ``exclude``. Train the tables with
    :func:`~odsc_recsys.qtables.replay_train`; ``fit`` is a no-op so that the object can sit in
    a list of fitted models.
    """

    def __init__(self, tables: QTables, name: str = "q-tables") -> None:
        self.tables = tables
        self.n_items = tables.n_items
        self.name = name

    def fit(self, *args: object, **kwargs: object) -> QTablePolicy:
        return self

    def score(self, history: Iterable[int]) -> np.ndarray:
        hist = as_history(history, self.n_items)
        return self.tables.score(hist[-HISTORY_LENGTH:])

    def recommend(
        self, history: Iterable[int], k: int = 10, exclude: Iterable[int] | None = None
    ) -> np.ndarray:
        hist = as_history(history, self.n_items)
        return self.tables.recommend(hist[-HISTORY_LENGTH:], k=k, exclude=exclude).items

    def recommend_many(self, histories: Sequence[np.ndarray], k: int = 10) -> np.ndarray:
        """Greedy lists for many histories, each excluding its own movies: the compiled batch
        kernel when it applies (same lists), else a loop over :meth:`recommend`."""
        out = recommend_batch(self.tables, list(histories), k)
        return out if out is not None else super().recommend_many(histories, k)


def recommend_batch(tables: QTables, histories: list[np.ndarray], k: int = 10) -> np.ndarray | None:
    """Greedy lists for many histories at once, excluding each history's own movies.

    Equal, list for list, to ``tables.recommend(h[-3:], k, exclude=h).items`` padded with -1.
    Returns None when the compiled path does not apply (no numba, a one-table baseline, a
    history shorter than 3): the caller then loops. Dense tables are read in place; otherwise
    the rows the states need are gathered into one block first.
    """
    k = checks.count("k", k)
    if not fast.HAVE_NUMBA or not isinstance(tables, GenreQTables) or not histories:
        return None
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    if lengths.min() < HISTORY_LENGTH:
        return None
    idx = np.concatenate(histories).astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= tables.n_items):
        bad = idx[(idx < 0) | (idx >= tables.n_items)][0]
        raise ValueError(
            f"unknown item index {int(bad)}: catalogue indices run from 0 to {tables.n_items - 1}"
        )
    states = np.stack([h[-HISTORY_LENGTH:] for h in histories]).astype(np.int64)
    s = np.sort(states, axis=1)
    if np.any(s[:, 1:] == s[:, :-1]):
        return None  # a repeated movie: let the readable path raise its error
    sub_rows = tables.layout.substate_ids_batch(states)
    flat = tables.store.flat()
    if flat is None:  # only the rows these states read, gathered from the store
        flat, sub_rows, _ = gather_rows(tables, sub_rows)
    ptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    out = np.full((len(histories), k), -1, dtype=np.int64)
    fast.recommend_kernel(flat, sub_rows, states, ptr, idx, k, out)
    return out


def gather_rows(tables: QTables, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows with global ids ``ids`` (-1: none), read from the store into one block.

    Returns the block, ``ids`` renumbered into it (-1 kept) and the block's global ids
    (sorted: the rows of a table are consecutive in the block).
    """
    touched, inverse = np.unique(ids, return_inverse=True)
    block_ids = np.where(ids >= 0, inverse.reshape(ids.shape) - int(touched[0] < 0), -1)
    touched = touched[touched >= 0]
    block = np.zeros((len(touched), tables.n_items), dtype=tables.dtype)
    for g, sel in _by_table(tables, touched):
        block[sel] = tables.store.read_rows(g, touched[sel] - tables.layout.offsets[g])
    return block, block_ids, touched


def scatter_rows(tables: QTables, block: np.ndarray, touched: np.ndarray, mask: np.ndarray) -> None:
    """Give the store back the rows of a :func:`gather_rows` block where ``mask`` is set."""
    for g, sel in _by_table(tables, touched):
        keep = sel[mask[sel]]
        tables.store.write_rows(g, touched[keep] - tables.layout.offsets[g], block[keep])


def _by_table(tables: QTables, ids: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """For each table holding some of the sorted global ``ids``: (table, positions in ids)."""
    genre = tables.layout.genre_of_ids(ids)
    return [(g, np.flatnonzero(genre == g)) for g in np.unique(genre).tolist()]
