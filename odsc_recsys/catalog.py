"""The movie catalogue: contiguous indices <-> MovieLens ids, titles, genres, primary genre.

Every model works on contiguous catalogue indices ``0 .. n_items - 1``; the :class:`Catalog`
translates to and from MovieLens ``item_id`` and titles. :meth:`Catalog.top_n` builds the
paper's catalogue of the most-rated movies (627 of them).
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import checks
from .datasets import GENRES, display_title

#: Strategies for giving each movie exactly one genre (see :meth:`Catalog.primary_genres`).
PRIMARY_GENRE_STRATEGIES = ("first", "paper")
#: Label of the catch-all genre of the "paper" strategy.
OTHER = "Other"


@dataclass(frozen=True)
class Catalog:
    """A set of movies indexed ``0 .. n_items - 1``.

    Build it with :meth:`from_movielens`; restrict it with :meth:`top_n`.

    Attributes
    ----------
    item_ids : np.ndarray
        MovieLens id of each catalogue index.
    titles : list of str
        Display titles, with the year: ``"Star Wars (1977)"``.
    genres : list of tuple of str
        All genres of each movie, in GroupLens order.
    popularity : np.ndarray
        Number of ratings of each movie in the ratings the catalogue was built from.
    """

    item_ids: np.ndarray
    titles: list[str]
    genres: list[tuple[str, ...]]
    popularity: np.ndarray
    _index: dict[int, int] = field(init=False, repr=False, compare=False)
    _by_title: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ids = np.asarray(self.item_ids)
        if ids.ndim != 1 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"item_ids must be a non-empty 1-d array of integer MovieLens ids, "
                             f"got {checks.short_repr(self.item_ids)}")  # fmt: skip
        n = ids.size
        for name, values in (("titles", self.titles), ("genres", self.genres),
                             ("popularity", self.popularity)):  # fmt: skip
            if isinstance(values, str) or not hasattr(values, "__len__") or len(values) != n:
                raise ValueError(f"{name} must hold one entry per movie ({n} item_ids), "
                                 f"got {checks.short_repr(values)}")  # fmt: skip
        for k, t in enumerate(self.titles):
            checks.text(f"titles[{k}]", t)
        for k, gs in enumerate(self.genres):
            if not isinstance(gs, tuple | list) or not all(isinstance(g, str) for g in gs):
                raise ValueError(f"genres[{k}] must be a tuple of genre names, got {gs!r}")
        popularity = checks.finite_array("popularity", self.popularity, ndim=1)
        if (popularity < 0).any():
            at = int(np.argmax(popularity < 0))
            bad = np.asarray(self.popularity)[at].item()
            raise ValueError(f"popularity must be rating counts >= 0, got {bad!r} at position {at}")
        index = {int(i): k for k, i in enumerate(ids)}
        if len(index) != n:
            seen, first = np.unique(ids, return_index=True)
            repeat = int(np.setdiff1d(np.arange(n), first)[0])
            raise ValueError(f"item_ids must be unique, got {ids[repeat].item()!r} twice "
                             f"(position {repeat})")  # fmt: skip
        # Arrays, as documented, so that a list given for them indexes like the rest.
        object.__setattr__(self, "item_ids", ids)
        object.__setattr__(self, "popularity", np.asarray(self.popularity))
        object.__setattr__(self, "_index", index)
        by_title: dict[str, int] = {}
        for k, t in enumerate(self.titles):  # the first of duplicate titles wins
            by_title.setdefault(t.casefold(), k)
        object.__setattr__(self, "_by_title", by_title)

    # ---- construction ------------------------------------------------------------------

    @classmethod
    def from_movielens(cls, ratings: pd.DataFrame, movies: pd.DataFrame) -> Catalog:
        """Every movie of ``movies``, in ``item_id`` order, with rating counts from ``ratings``.

        Raises
        ------
        ValueError
            If either table is not a DataFrame with the canonical columns (see
            :mod:`odsc_recsys.datasets`), or the catalogue it describes is invalid.
        """
        _check_frame("ratings", ratings, ("item_id",))
        _check_frame("movies", movies, ("item_id", "title", "year", "genres"))
        for name, frame in (("ratings", ratings), ("movies", movies)):
            if not pd.api.types.is_integer_dtype(frame["item_id"].dtype):
                raise ValueError(f"{name} item_id must be integer MovieLens ids, got dtype "
                                 f"{frame['item_id'].dtype}")  # fmt: skip
        for item, g in zip(movies["item_id"], movies["genres"], strict=True):
            if not isinstance(g, tuple | list):  # a string would split into letters
                raise ValueError(f"movies genres must be tuples of genre names, got {g!r} for "
                                 f"item_id {item}")  # fmt: skip
        movies = movies.sort_values("item_id")
        counts = ratings["item_id"].value_counts()
        ids = movies["item_id"].to_numpy(dtype=np.int64)
        return cls(
            item_ids=ids,
            titles=[
                display_title(t, y) for t, y in zip(movies["title"], movies["year"], strict=True)
            ],
            genres=[tuple(g) for g in movies["genres"]],
            popularity=counts.reindex(ids, fill_value=0).to_numpy(dtype=np.int64),
        )

    def top_n(self, n: int) -> Catalog:
        """The ``n`` most-rated movies, most-rated first; ties go to the lower MovieLens id."""
        checks.integer("n", n)
        if not 1 <= n <= self.n_items:
            raise ValueError(f"n must be in 1..{self.n_items}, got {n!r}")
        order = np.lexsort((self.item_ids, -self.popularity))[:n]
        return self.subset(order)

    def subset(self, indices: Sequence[int] | np.ndarray) -> Catalog:
        """A new catalogue holding these indices, in this order.

        Raises
        ------
        ValueError
            If ``indices`` is empty, repeats an index or holds one outside ``[0, n_items)``
            (a negative index is refused, not read from the end).
        """
        checks.nonempty("indices", indices)
        idx = checks.indices("indices", indices, self.n_items, unique=True)
        return Catalog(
            item_ids=self.item_ids[idx],
            titles=[self.titles[i] for i in idx],
            genres=[self.genres[i] for i in idx],
            popularity=self.popularity[idx],
        )

    # ---- look-ups -----------------------------------------------------------------------

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def __len__(self) -> int:
        return self.n_items

    def index_of(self, item_id: int) -> int:
        """Catalogue index of a MovieLens id; ``ValueError`` if the movie is not in it."""
        checks.integer("item_id", item_id)
        try:
            return self._index[int(item_id)]
        except KeyError:
            raise ValueError(
                f"unknown movie id {item_id}: not among the {self.n_items} movies of this "
                f"catalogue (ids {int(self.item_ids.min())}..{int(self.item_ids.max())}, "
                "not all present)"
            ) from None

    def indices(self, item_ids: Iterable[int]) -> np.ndarray:
        """Catalogue indices of several MovieLens ids."""
        if isinstance(item_ids, str | bytes) or not isinstance(item_ids, Iterable):
            raise ValueError(f"item_ids must be a sequence of MovieLens ids, got {item_ids!r}")
        return np.array([self.index_of(i) for i in item_ids], dtype=np.int64)

    def contains(self, item_id: int) -> bool:
        """Whether a MovieLens id is in this catalogue."""
        return int(checks.integer("item_id", item_id)) in self._index

    def item_id(self, index: int) -> int:
        """MovieLens id of a catalogue index."""
        self._check_index(index)
        return int(self.item_ids[index])

    def title(self, index: int) -> str:
        """Display title of a catalogue index."""
        self._check_index(index)
        return self.titles[index]

    def find(self, title: str) -> int:
        """Catalogue index of a movie given its title (case-insensitive).

        The year may be left out when the title is unique without it. An unknown title raises
        ``ValueError`` that suggests close matches.
        """
        key = checks.text("title", title).strip().casefold()
        if key in self._by_title:
            return self._by_title[key]
        bare = [k for k, t in enumerate(self.titles) if _strip_year(t).casefold() == key]
        if len(bare) == 1:
            return bare[0]
        if len(bare) > 1:
            options = ", ".join(repr(self.titles[k]) for k in bare)
            raise ValueError(f"title {title!r} is ambiguous: give the year, one of {options}")
        close = difflib.get_close_matches(title, self.titles, n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown movie title {title!r} in this catalogue.{hint}")

    def _check_index(self, index: int) -> None:
        checks.integer("catalogue index", index)
        if not 0 <= index < self.n_items:  # a negative index would read from the end
            raise ValueError(f"catalogue index {index!r} out of range 0..{self.n_items - 1}")

    # ---- genres -------------------------------------------------------------------------

    @property
    def genre_names(self) -> list[str]:
        """Genres present in this catalogue, in GroupLens order (other names after, sorted)."""
        return sorted({g for gs in self.genres for g in gs}, key=_genre_order)

    @property
    def genre_matrix(self) -> np.ndarray:
        """``(n_items, n_genres)`` boolean matrix over :attr:`genre_names`."""
        names = self.genre_names
        col = {g: j for j, g in enumerate(names)}
        m = np.zeros((self.n_items, len(names)), dtype=bool)
        for i, gs in enumerate(self.genres):
            m[i, [col[g] for g in gs]] = True
        return m

    def genre_counts(self) -> Counter:
        """How many movies carry each genre (a movie counts once per genre)."""
        return Counter(g for gs in self.genres for g in gs)

    def primary_genres(
        self, strategy: str = "paper", n_genres: int = 10
    ) -> tuple[np.ndarray, list[str]]:
        """Give each movie exactly one genre, as the paper does.

        The paper says only that each movie was given one genre and that 10 genres remain
        among its 627 movies; it does not give the rule. Two rules are offered:

        ``"first"``
            The first genre the movie lists, in GroupLens order (alphabetical after
            ``unknown``). Simple, but it piles movies into Action, Comedy and Drama and leaves
            16 genres on the top 627.
        ``"paper"``
            The ``n_genres - 1`` genres that are most common in this catalogue keep their
            names; each movie takes the *rarest* of those it carries (the most specific, which
            also balances the tables), and a movie with none of them goes to ``"Other"``. This
            gives exactly ``n_genres`` genres (10 by default, as in the paper).

        Returns
        -------
        codes : np.ndarray of int
            Genre code of each movie, an index into ``names``.
        names : list of str
            Genre names; ``names[codes[i]]`` is movie ``i``'s primary genre.
        """
        checks.one_of("strategy", strategy, PRIMARY_GENRE_STRATEGIES)
        checks.integer("n_genres", n_genres, 2)  # only "paper" reads it, but a bad one is a slip
        if strategy == "first":
            labels = [gs[0] if gs else "unknown" for gs in self.genres]
            names = sorted(set(labels), key=_genre_order)
        else:
            freq = self.genre_counts()
            ranked = sorted(freq, key=lambda g: (-freq[g], _genre_order(g)))
            keep = ranked[: n_genres - 1]
            labels = []
            for gs in self.genres:
                mine = [g for g in gs if g in keep]
                labels.append(
                    min(mine, key=lambda g: (freq[g], _genre_order(g))) if mine else OTHER
                )
            names = sorted(keep, key=_genre_order) + ([OTHER] if OTHER in labels else [])
        code = {g: j for j, g in enumerate(names)}
        return np.array([code[g] for g in labels], dtype=np.int64), names

    # ---- tables -------------------------------------------------------------------------

    def to_frame(self) -> pd.DataFrame:
        """One row per movie: index, item_id, title, genres, popularity."""
        return pd.DataFrame(
            {
                "item_id": self.item_ids,
                "title": self.titles,
                "genres": [", ".join(g) for g in self.genres],
                "ratings": self.popularity,
            }
        ).rename_axis("index")


def _check_frame(name: str, frame: object, columns: Sequence[str]) -> None:
    """Raise ``ValueError`` unless ``frame`` is a DataFrame with these columns."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {checks.short_repr(frame)}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} must have the columns {list(columns)}, got "
                         f"{list(frame.columns)} (missing {missing})")  # fmt: skip


def _strip_year(title: str) -> str:
    return title[:-7] if len(title) > 7 and title[-1] == ")" and title[-6] == "(" else title


def _genre_order(genre: str) -> tuple[int, str]:
    """Sort key: GroupLens order first, then any other genre name alphabetically."""
    return (GENRES.index(genre), "") if genre in GENRES else (len(GENRES), genre)
