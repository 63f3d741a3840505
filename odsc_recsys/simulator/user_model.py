"""The simulated population: who the users are, how they choose and how they rate.

:class:`UserModel` holds every user's taste and the fitted choice and rating models; the fit
itself is in :mod:`odsc_recsys.simulator.estimation`. :meth:`UserModel.toy` builds a small
hand-made world for tests and exercises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from .. import checks
from ..catalog import Catalog
from ..sessions import user_histories
from .estimation import (
    fit_choice_model,
    fit_rating_model,
    fit_tastes,
    holdout_split,
    normalised_genres,
    rating_matrix,
    simulated_users,
)

__all__ = ["UserModel", "default_user_model"]


@dataclass(frozen=True, eq=False)
class UserModel:
    """The simulated population: per-user tastes and the choice and rating models.

    Build it with :meth:`from_movielens` (the tutorial's top-627 catalogue) or
    :meth:`from_ratings` (any ratings in the canonical schema, e.g. synthetic ones).

    A user's taste has two parts, both estimated from their ratings: latent factors ``x_u``
    of an implicit matrix factorisation (ALS, :class:`odsc_recsys.classical.MatrixFactorization`)
    with item factors ``y_i``, and genre affinities ``theta_u`` (:func:`genre_affinity`). The
    attraction logit of movie ``i`` for user ``u`` is

    .. math:: z_{ui} = b + \\beta_m \\frac{x_u^\\top y_i - c}{s}
              + \\beta_a \\langle \\theta_u, \\tilde g_i \\rangle + \\beta_p \\,\\mathrm{pop}_i

    with ``g~_i`` the movie's genre vector normalised to sum 1, ``pop`` the z-scored
    log-number of ratings and ``c, s`` the mean and spread of the factor scores. Everything is
    estimated on a random ``1 - holdout`` of each user's movies (the *kept* part); the weights
    ``beta_m, beta_a, beta_p`` by a logistic regression whose labels say which of the other
    catalogue movies the user rated in the held-out rest. The intercept ``b`` is then set so
    that the mean attraction over users and movies equals the share of the catalogue a
    MovieLens user rated (the data's density): an examined random movie is clicked as often as
    a random movie was rated.

    Ratings of clicked movies follow a baseline predictor plus genre taste:

    .. math:: \\hat r_{ui} = \\mathrm{clip}_{[1,5]}\\,\\mathrm{round}\\bigl(\\mu + b_u + b_i
              + \\beta_r \\langle \\theta_u, \\tilde g_i \\rangle + \\sigma\\varepsilon\\bigr),
              \\quad \\varepsilon \\sim N(0, 1)

    with shrunk biases, ``beta_r`` by least squares and ``sigma`` the residual spread.

    Attributes
    ----------
    catalog : Catalog
        The movies (contiguous indices ``0 .. n_items - 1``).
    genre_names : list of str
        Columns of ``genre_weights`` and ``affinity``.
    genre_weights : array (n_items, n_genres)
        ``g~_i``: each movie's genres, rows summing to 1.
    primary_genre, primary_names
        One genre per movie (``Catalog.primary_genres("paper")``), for the Q-tables and for
        diversity metrics.
    user_ids : array (n_users,)
        MovieLens ids of the simulated users (those with at least ``min_history`` movies).
    histories : tuple of arrays
        Each user's chronological catalogue indices (aligned with ``user_ids``).
    user_factors, item_factors : arrays (n_users, f), (n_items, f)
        ``x_u`` and ``y_i``.
    affinity : array (n_users, n_genres)
        ``theta_u``.
    popularity : array (n_items,)
        ``pop_i``.
    intercept, beta_mf, beta_affinity, beta_popularity, mf_center, mf_scale : float
        ``b, beta_m, beta_a, beta_p, c, s``.
    rating_mean, user_bias, item_bias, rating_affinity, rating_noise
        Rating-model parameters ``mu, b_u, b_i, beta_r, sigma``.
    genre_share : array (n_genres,)
        The population's genre shares ``p_g``.
    fit_summary : dict
        Held-out AUC of the choice model (``auc``) and of each part alone (``auc_mf``,
        ``auc_affinity``, ``auc_popularity``), ``pairs``, ``positives``, ``density``.
    """

    catalog: Catalog
    genre_names: list[str]
    genre_weights: np.ndarray
    primary_genre: np.ndarray
    primary_names: list[str]
    user_ids: np.ndarray
    histories: tuple[np.ndarray, ...]
    user_factors: np.ndarray
    item_factors: np.ndarray
    affinity: np.ndarray
    popularity: np.ndarray
    intercept: float
    beta_mf: float
    beta_affinity: float
    beta_popularity: float
    mf_center: float
    mf_scale: float
    rating_mean: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    rating_affinity: float
    rating_noise: float
    genre_share: np.ndarray
    fit_summary: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse a model whose parts disagree: wrong shapes, non-finite numbers, histories
        outside the catalogue or unsorted user ids (:meth:`user_index` searches them)."""
        if not isinstance(self.catalog, Catalog):
            raise ValueError(f"catalog must be a Catalog, got {type(self.catalog).__name__}")
        n_items, n_genres = self.catalog.n_items, len(self.genre_names)
        n_users = len(self.user_ids)
        f = np.shape(self.user_factors)[-1] if np.ndim(self.user_factors) == 2 else -1
        for name, shape in (
            ("genre_weights", (n_items, n_genres)), ("user_factors", (n_users, f)),
            ("item_factors", (n_items, f)), ("affinity", (n_users, n_genres)),
            ("popularity", (n_items,)), ("user_bias", (n_users,)), ("item_bias", (n_items,)),
            ("genre_share", (n_genres,)),
        ):  # fmt: skip
            checks.finite_array(name, getattr(self, name), shape=shape)
        for name in ("intercept", "beta_mf", "beta_affinity", "beta_popularity", "mf_center",
                     "rating_mean", "rating_affinity"):  # fmt: skip
            checks.real(name, getattr(self, name))
        checks.real("mf_scale", self.mf_scale, 0.0, low_open=True)
        checks.real("rating_noise", self.rating_noise, 0.0)
        ids = _user_ids(self.user_ids)
        if ids.size > 1 and np.any(np.diff(ids) <= 0):
            raise ValueError(f"user_ids must be sorted and unique, got {checks.short_repr(self.user_ids)}")
        checks.indices("primary_genre", self.primary_genre, len(self.primary_names))
        if len(self.histories) != n_users:
            raise ValueError(f"histories must hold one array per user ({n_users}), got "
                             f"{len(self.histories)}")  # fmt: skip
        for uid, h in zip(ids.tolist(), self.histories, strict=True):
            checks.indices(f"the history of user {uid}", h, n_items, unique=True)

    # ---- construction -----------------------------------------------------------------------

    @classmethod
    def from_movielens(cls, n_items: int = 627, seed: int = 0, **kwargs: Any) -> UserModel:
        """The user model of MovieLens-100K on its ``n_items`` most-rated movies.

        Uses :func:`odsc_recsys.sessions.load_tutorial_data`, so the catalogue and histories
        are exactly those of the other notebooks. ``kwargs`` go to :meth:`from_histories`.
        """
        from ..sessions import load_tutorial_data

        n_items = checks.positive_int("n_items", n_items)
        seed = checks.count("seed", seed)
        _check_fit_options(kwargs)
        data = load_tutorial_data(n_items=n_items, seed=seed)
        return cls.from_histories(data.catalog, data.histories, data.ratings, seed=seed,
                                  **kwargs)  # fmt: skip

    @classmethod
    def from_ratings(
        cls, ratings: pd.DataFrame, movies: pd.DataFrame, n_items: int | None = None, seed: int = 0,
        **kwargs: Any,
    ) -> UserModel:  # fmt: skip
        """Build the catalogue (the ``n_items`` most-rated movies; all if None) and histories
        from canonical ``ratings`` and ``movies``, then fit (see :meth:`from_histories`)."""
        n_items = checks.positive_int("n_items", n_items, allow_none=True)
        seed = checks.count("seed", seed)
        _check_fit_options(kwargs)
        for name, frame in (("ratings", ratings), ("movies", movies)):
            if not isinstance(frame, pd.DataFrame):
                raise ValueError(f"{name} must be a DataFrame, got {type(frame).__name__}")
        full = Catalog.from_movielens(ratings, movies)
        catalog = full if n_items is None else full.top_n(n_items)
        return cls.from_histories(catalog, user_histories(ratings, catalog, seed=seed), ratings,
                                  seed=seed, **kwargs)  # fmt: skip

    @classmethod
    def from_histories(
        cls,
        catalog: Catalog,
        histories: dict[int, np.ndarray],
        ratings: pd.DataFrame,
        n_factors: int = 16,
        smoothing: float = 10.0,
        holdout: float = 0.2,
        min_history: int = 5,
        seed: int = 0,
    ) -> UserModel:
        """Fit the user model (about a second on MovieLens-100K).

        The steps are the functions of :mod:`odsc_recsys.simulator.estimation`.

        Parameters
        ----------
        catalog : Catalog
            The movies.
        histories : dict user_id -> array
            Chronological catalogue indices (from :func:`odsc_recsys.sessions.user_histories`).
        ratings : DataFrame
            Canonical ratings; those of ``histories``' users and ``catalog``'s movies give the
            rating values.
        n_factors : int
            Latent dimension ``f`` of the factorisation.
        smoothing : float
            Pseudo-count for tastes (:func:`genre_affinity`) and rating biases.
        holdout : float in (0, 1)
            Share of each user's movies, drawn at random, held out as labels when fitting the
            choice model.
        min_history : int
            Users with fewer movies are not simulated (their taste is mostly prior).
        seed : int
            Seed of the hold-out draw and of the factorisation's start.

        Raises
        ------
        ValueError
            If an argument has the wrong type or range, a history holds a movie outside the
            catalogue (or one twice), or ``ratings`` lack a column or hold a non-finite rating.
        """
        n_factors = checks.integer("n_factors", n_factors, 1)
        smoothing = checks.real("smoothing", smoothing, 1e-9)
        holdout = checks.fraction("holdout", holdout)
        min_history = checks.integer("min_history", min_history, 2)
        seed = checks.count("seed", seed)
        if not isinstance(catalog, Catalog):
            raise ValueError(f"catalog must be a Catalog, got {type(catalog).__name__}")
        if not isinstance(histories, Mapping):
            raise ValueError(f"histories must be a dict user_id -> array of catalogue indices, "
                             f"got {type(histories).__name__}")  # fmt: skip
        for uid, h in histories.items():
            checks.indices(f"the history of user {uid!r}", h, catalog.n_items, unique=True)
        _check_ratings(ratings)
        users, hist = simulated_users(histories, min_history)
        watched, kept = holdout_split(hist, catalog.n_items, holdout, seed)
        gw = normalised_genres(catalog.genre_matrix)
        # Each step returns the model fields it estimates (dicts), the last two also need
        # the factor score and the genre taste <theta_u, g~_i> of every (user, movie) pair.
        taste_fields, mf_score, genre_taste = fit_tastes(kept, gw, n_factors, smoothing, seed)
        choice_fields = fit_choice_model(
            mf_score, genre_taste, taste_fields["popularity"], watched, kept
        )
        rating = rating_matrix(ratings, users, catalog)
        rating_fields = fit_rating_model(rating, watched, genre_taste, smoothing)
        n_primary = min(10, len(catalog.genre_names) + 1)
        codes, names = catalog.primary_genres("paper", n_genres=n_primary)
        return cls(catalog=catalog, genre_names=catalog.genre_names, genre_weights=gw,
                   primary_genre=codes, primary_names=names, user_ids=users.astype(np.int64),
                   histories=hist, **taste_fields, **choice_fields, **rating_fields)  # fmt: skip

    @classmethod
    def toy(
        cls,
        user_factors: np.ndarray,
        item_factors: np.ndarray,
        item_genres: Sequence[Sequence[str]],
        intercept: float = 0.0,
        histories: Sequence[Sequence[int]] | None = None,
        rating_mean: float = 4.0,
        rating_noise: float = 0.0,
    ) -> UserModel:
        """A hand-made world, for tests and exercises: the logit is ``z = b + x_u . y_i``.

        No popularity and no genre affinity (their weights are 0); genres only feed
        satiation and diversity. Ratings are ``rating_mean`` plus ``rating_noise`` noise.

        Parameters
        ----------
        user_factors : array (n_users, f)
            ``x_u``: user ids are ``1 .. n_users``.
        item_factors : array (n_items, f)
            ``y_i``.
        item_genres : sequence of sequences of str
            Genres of each movie (at least one each); the first is its primary genre.
        intercept : float
            ``b``.
        histories : sequence of sequences of int, optional
            Each user's earlier movies (the session opens with the first ``n_start``); empty
            by default (cold start).
        rating_mean : float in [1, 5]
        rating_noise : float >= 0

        Raises
        ------
        ValueError
            Naming the first argument that is of the wrong type, shape or range.
        """
        x, y = _toy_factors(user_factors, item_factors, item_genres)
        intercept = checks.real("intercept", intercept)
        rating_mean = checks.real("rating_mean", rating_mean, 1.0, 5.0)
        rating_noise = checks.real("rating_noise", rating_noise, 0.0)
        n_users, n_items = x.shape[0], y.shape[0]
        names = sorted({g for gs in item_genres for g in gs})
        gm = np.array([[g in gs for g in names] for gs in item_genres], dtype=np.float64)
        hist = _toy_histories(histories, n_users, n_items)
        primary = [gs[0] for gs in item_genres]
        primary_names = sorted(set(primary))
        n_genres = len(names)
        return cls(
            catalog=_toy_catalog(item_genres),
            genre_names=names,
            genre_weights=normalised_genres(gm),
            primary_genre=np.array([primary_names.index(g) for g in primary], dtype=np.int64),
            primary_names=primary_names,
            user_ids=np.arange(1, n_users + 1),
            histories=hist,
            user_factors=x,
            item_factors=y,
            affinity=np.zeros((n_users, n_genres)),
            popularity=np.zeros(n_items),
            intercept=float(intercept),
            beta_mf=1.0,
            beta_affinity=0.0,
            beta_popularity=0.0,
            mf_center=0.0,
            mf_scale=1.0,
            rating_mean=float(rating_mean),
            user_bias=np.zeros(n_users),
            item_bias=np.zeros(n_items),
            rating_affinity=0.0,
            rating_noise=float(rating_noise),
            genre_share=np.full(n_genres, 1.0 / n_genres),
        )

    # ---- look-ups ---------------------------------------------------------------------------

    @property
    def n_items(self) -> int:
        return self.catalog.n_items

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_genres(self) -> int:
        return len(self.genre_names)

    @property
    def n_factors(self) -> int:
        return self.user_factors.shape[1]

    def user_index(self, user_id: int) -> int:
        """Row of a MovieLens user id; ``ValueError`` if it is not the integer id of a
        simulated user (``1.0`` and ``"1"`` are refused, not read as user 1)."""
        user_id = checks.integer("user_id", user_id)
        pos = int(np.searchsorted(self.user_ids, user_id))
        if pos >= self.n_users or self.user_ids[pos] != user_id:
            raise ValueError(
                f"unknown user id {user_id}: user_id must be the MovieLens id of one of the "
                f"{self.n_users} simulated users (ids {int(self.user_ids[0])}.."
                f"{int(self.user_ids[-1])}, not all present), got {user_id!r}"
            )
        return pos

    def logits(self, factors: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Attraction logits ``z`` of every movie for a taste ``(x, theta)`` (no satiation).

        ``factors`` and ``theta`` may be one user's vectors or stacked ``(n, .)`` rows; the
        result is ``(n_items,)`` or ``(n, n_items)``.

        Raises
        ------
        ValueError
            If either is not finite, or their widths (``n_factors``, ``n_genres``) or their
            numbers of rows disagree.
        """
        x = checks.finite_array("factors", factors)
        t = checks.finite_array("theta", theta)
        if x.ndim not in (1, 2) or x.shape[-1] != self.n_factors:
            raise ValueError(f"factors must be ({self.n_factors},) or (n, {self.n_factors}), "
                             f"got shape {x.shape}")  # fmt: skip
        if t.shape[:-1] != x.shape[:-1] or t.shape[-1:] != (self.n_genres,):
            want = f"(n, {self.n_genres})" if x.ndim == 2 else f"({self.n_genres},)"
            raise ValueError(f"theta must have shape {want} to match factors {x.shape}, got "
                             f"shape {t.shape}")  # fmt: skip
        mf = (x @ self.item_factors.T - self.mf_center) / self.mf_scale
        return (
            self.intercept
            + self.beta_mf * mf
            + self.beta_affinity * (t @ self.genre_weights.T)
            + self.beta_popularity * self.popularity
        )

    def attractiveness(self) -> np.ndarray:
        """``(n_users, n_items)`` attraction ``sigma(z)`` of every movie for every user."""
        return expit(self.logits(self.user_factors, self.affinity))

    def parameters(self) -> pd.Series:
        """The fitted weights and fit quality, for display."""
        return pd.Series(
            {
                "intercept b": self.intercept,
                "beta_mf": self.beta_mf,
                "beta_affinity": self.beta_affinity,
                "beta_popularity": self.beta_popularity,
                "rating mean mu": self.rating_mean,
                "rating beta_r": self.rating_affinity,
                "rating noise sigma": self.rating_noise,
                **{k: float(v) for k, v in sorted(self.fit_summary.items())},
            }
        )


def _toy_factors(
    user_factors: np.ndarray, item_factors: np.ndarray, item_genres: Sequence[Sequence[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """``x_u`` and ``y_i`` of :meth:`UserModel.toy` as float rows, checked against the genres."""
    x, y = (
        np.atleast_2d(checks.finite_array(name, values))
        for name, values in (("user_factors", user_factors), ("item_factors", item_factors))
    )
    for name, rows in (("user_factors", x), ("item_factors", y)):
        if rows.ndim != 2 or 0 in rows.shape:
            raise ValueError(f"{name} must be a non-empty (n, f) array, got shape {rows.shape}")
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"user_factors and item_factors need the same width, got {x.shape} and {y.shape}"
        )
    n_items = y.shape[0]
    if isinstance(item_genres, str) or len(item_genres) != n_items:
        raise ValueError(f"item_genres must give at least one genre to each of {n_items} movies, "
                         f"got {checks.short_repr(item_genres)}")  # fmt: skip
    for i, gs in enumerate(item_genres):
        # A string is a sequence too: "AB" would silently become the genres "A" and "B".
        if isinstance(gs, str) or len(gs) == 0:
            raise ValueError(f"item_genres must give at least one genre to each of {n_items} "
                             f"movies, as a tuple of names; movie {i} has {gs!r}")  # fmt: skip
        for g in gs:
            checks.text(f"a genre of movie {i}", g)
        if len(set(gs)) != len(gs):
            raise ValueError(f"item_genres must name each genre of a movie once; movie {i} has "
                             f"{tuple(gs)!r}")  # fmt: skip
    return x, y


def _toy_histories(
    histories: Sequence[Sequence[int]] | None, n_users: int, n_items: int
) -> tuple[np.ndarray, ...]:
    """One int64 array per toy user; empty ones (a cold start) when ``histories`` is None.

    An empty list is not None: it gives no history to users who need one each.
    """
    if histories is None:
        return tuple(np.zeros(0, dtype=np.int64) for _ in range(n_users))
    if isinstance(histories, str) or len(histories) != n_users:
        size = "a str" if isinstance(histories, str) else len(histories)
        raise ValueError(f"histories must hold one sequence per user ({n_users}), got {size}")
    return tuple(
        checks.indices(f"the history of user {u + 1}", h, n_items, unique=True).astype(np.int64)
        for u, h in enumerate(histories)
    )


def _user_ids(values: object) -> np.ndarray:
    """MovieLens user ids as a 1-d int64 array; floats (even ``1.0``) and bools are refused."""
    ids = np.asarray(values)
    if ids.ndim != 1 or not (ids.size == 0 or np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(f"user_ids must be a 1-d sequence of integer MovieLens ids, got "
                         f"{checks.short_repr(values)}")  # fmt: skip
    return ids.astype(np.int64, copy=False)


def _check_fit_options(options: Mapping[str, Any]) -> None:
    """The keyword arguments passed through to :meth:`UserModel.from_histories`."""
    allowed = ("n_factors", "smoothing", "holdout", "min_history")
    for name in options:
        checks.one_of("keyword argument", name, allowed)


def _check_ratings(ratings: object) -> None:
    """Canonical ratings: a DataFrame with ``user_id``, ``item_id`` and finite ``rating``."""
    if not isinstance(ratings, pd.DataFrame):
        raise ValueError(f"ratings must be a DataFrame, got {type(ratings).__name__}")
    missing = [c for c in ("user_id", "item_id", "rating") if c not in ratings.columns]
    if missing:
        raise ValueError(f"ratings must have the columns user_id, item_id and rating, got "
                         f"{list(ratings.columns)} (missing {missing})")  # fmt: skip
    checks.finite_array("ratings['rating']", ratings["rating"].to_numpy())



def _toy_catalog(item_genres: Sequence[Sequence[str]]) -> Catalog:
    """A catalogue of movies called ``Movie 0, Movie 1, ...`` with ids from 1 and no ratings."""
    n_items = len(item_genres)
    return Catalog(
        item_ids=np.arange(1, n_items + 1),
        titles=[f"Movie {i}" for i in range(n_items)],
        genres=[tuple(gs) for gs in item_genres],
        popularity=np.zeros(n_items, dtype=np.int64),
    )


def default_user_model(n_items: int = 627, seed: int = 0) -> UserModel:
    """:meth:`UserModel.from_movielens`, cached: environments made without a user model share
    it.

    The arguments are checked before the cache is consulted, so a bad one gets a clear
    ``ValueError`` (not the cache's ``TypeError`` for an unhashable value) and ``627`` and
    ``np.int64(627)`` share one entry.
    """
    return _cached_user_model(checks.positive_int("n_items", n_items), checks.count("seed", seed))


@lru_cache(maxsize=4)
def _cached_user_model(n_items: int, seed: int) -> UserModel:
    return UserModel.from_movielens(n_items=n_items, seed=seed)
