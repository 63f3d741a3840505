"""A MovieLens-grounded user simulator: a Gymnasium environment for online recommendation.

Offline replay scores a recommender on what users did under *another* system; it cannot say
what happens when the recommender's own choices change what the user does next. A simulator
can. This one is small, fast and grounded in MovieLens-100K:

* **Who the users are.** Every simulated user is a real MovieLens user: their tastes (latent
  factors of a matrix factorisation and genre affinities) are estimated from their ratings
  (:class:`UserModel`), their session starts from the first movies they rated, and their
  ratings follow a baseline predictor fitted on the data.
* **How they choose.** A cascade click model: the user reads the slate top-down, examines
  position ``p`` with a probability that decays with ``p``, and clicks the first examined
  movie that attracts them. Attraction is a logistic function of the factor score, the genre
  affinity and the movie's popularity (weights fitted on MovieLens), minus satiation with
  genres watched recently.
* **How they change.** Taste drifts during a session (a shift toward another MovieLens user's
  taste, or a random walk); satiation builds up and fades.
* **When they leave.** Interest falls after a slate with no click and rises after a good
  movie; the user leaves when it runs out (or, rarely, for no reason at all). Session length
  is therefore a measure of retention.

The environment is :class:`MovieLensUserEnv`, registered as ``odsc_recsys/MovieLensUser-v0``
when this module is imported. Its class docstring gives the equations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
from gymnasium import spaces
from scipy.special import expit
from scipy.stats import rankdata

from .catalog import Catalog
from .sessions import user_histories

__all__ = [
    "DRIFT_MODES",
    "ENV_ID",
    "HISTORY_LENGTH",
    "MovieLensUserEnv",
    "UserModel",
    "cascade_click_probabilities",
    "default_user_model",
    "genre_affinity",
]

#: Gymnasium id under which :class:`MovieLensUserEnv` is registered.
ENV_ID = "odsc_recsys/MovieLensUser-v0"
#: The observation is the last ``HISTORY_LENGTH`` movies watched (the talk's state).
HISTORY_LENGTH = 3
#: Ways taste can drift during a session.
DRIFT_MODES = ("shift", "walk")


# ---------------------------------------------------------------------------------------------
# Small numerical helpers
# ---------------------------------------------------------------------------------------------


def _check_real(name: str, value: object, low: float = -math.inf, high: float = math.inf) -> float:
    """A finite float in ``[low, high]``, or a ``ValueError`` naming the bad value."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}") from None
    if not (math.isfinite(x) and low <= x <= high):
        raise ValueError(f"{name} must be a finite number in [{low}, {high}], got {value!r}")
    return x


def _check_int(name: str, value: object, low: int, high: float = math.inf) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= value <= high
    ):
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return int(value)


def genre_affinity(counts: np.ndarray, base_share: np.ndarray, smoothing: float) -> np.ndarray:
    """Smoothed log-lift of each user's genre share over the population's.

    .. math:: \\theta_{ug} = \\log \\frac{n_{ug} + m\\,p_g}{n_u + m} - \\log p_g

    where ``n_ug`` is how much of genre ``g`` user ``u`` watched (a movie with several genres
    counts ``1/|genres|`` for each), ``n_u = sum_g n_ug``, ``p_g`` the population's share of
    genre ``g`` and ``m`` the pseudo-count ``smoothing``. A user who watched nothing, or an
    average user, has ``theta = 0``; ``theta_ug = log 2`` means "twice as much genre g as
    people in general".

    Parameters
    ----------
    counts : array (n_users, n_genres)
        Fractional genre counts ``n_ug``.
    base_share : array (n_genres,)
        Population shares ``p_g`` (positive, summing to 1).
    smoothing : float
        Pseudo-count ``m > 0``: users with few ratings are pulled toward the average taste.
    """
    counts = np.asarray(counts, dtype=np.float64)
    base_share = np.asarray(base_share, dtype=np.float64)
    if np.any(base_share <= 0):
        raise ValueError("base_share must be positive for every genre")
    if not smoothing > 0:
        raise ValueError(
            f"smoothing must be > 0 (an unseen genre would get -inf), got {smoothing!r}"
        )
    total = counts.sum(axis=1, keepdims=True)
    share = (counts + smoothing * base_share) / (total + smoothing)
    return np.log(share) - np.log(base_share)


def cascade_click_probabilities(attractiveness: np.ndarray, examination: np.ndarray) -> np.ndarray:
    """Probability that the click lands on each position of a slate (cascade model).

    The user reads top-down; position ``p`` is examined with probability ``e_p`` and, when
    examined, clicked with probability ``v_p``; the first click ends the scan:

    .. math:: P(\\text{click at } p) = e_p v_p \\prod_{j<p} (1 - e_j v_j)

    The probabilities sum to at most 1; the rest is the probability of no click.

    Parameters
    ----------
    attractiveness : array (n,)
        ``v_p`` in [0, 1].
    examination : array (n,)
        ``e_p`` in [0, 1].
    """
    ev = np.asarray(attractiveness, dtype=np.float64) * np.asarray(examination, dtype=np.float64)
    if ev.size == 0:
        return np.zeros(0)
    p = ev.copy()
    p[1:] *= np.cumprod(1.0 - ev[:-1])  # nobody clicked above position p
    return p


def _fit_logistic(
    x: np.ndarray, y: np.ndarray, ridge: float = 1e-3, n_iter: int = 50
) -> np.ndarray:
    """Weights of a ridge-regularised logistic regression by Newton's method (IRLS)."""
    w = np.zeros(x.shape[1])
    eye = np.eye(x.shape[1])
    for _ in range(n_iter):
        p = expit(x @ w)
        grad = x.T @ (y - p) - ridge * w
        hess = (x * (p * (1.0 - p))[:, None]).T @ x + ridge * eye
        step = np.linalg.solve(hess, grad)
        w += step
        if np.max(np.abs(step)) < 1e-9:
            break
    return w


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U), ties counted half."""
    labels = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _zscore(x: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(x - mean) / sd`` and the mean and sd used (sd 1 when x is constant)."""
    mean, sd = float(x.mean()), float(x.std())
    sd = sd if sd > 0 else 1.0
    return (x - mean) / sd, mean, sd


# ---------------------------------------------------------------------------------------------
# The user model, estimated from MovieLens
# ---------------------------------------------------------------------------------------------


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

    # ---- construction -----------------------------------------------------------------------

    @classmethod
    def from_movielens(cls, n_items: int = 627, seed: int = 0, **kwargs: Any) -> UserModel:
        """The user model of MovieLens-100K on its ``n_items`` most-rated movies.

        Uses :func:`odsc_recsys.sessions.load_tutorial_data`, so the catalogue and histories
        are exactly those of the other notebooks. ``kwargs`` go to :meth:`from_histories`.
        """
        from .sessions import load_tutorial_data

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
        """
        from .classical import MatrixFactorization

        n_factors = _check_int("n_factors", n_factors, 1)
        smoothing = _check_real("smoothing", smoothing, 1e-9)
        holdout = _check_real("holdout", holdout, 0.0, 1.0)
        if not 0 < holdout < 1:
            raise ValueError(f"holdout must be in (0, 1), got {holdout}")
        min_history = _check_int("min_history", min_history, 2)
        users = np.array(sorted(u for u, h in histories.items() if len(h) >= min_history))
        if users.size < 2:
            raise ValueError(
                f"need at least 2 users with >= {min_history} movies in the catalogue, got "
                f"{users.size}"
            )
        n_users, n_items = len(users), catalog.n_items
        hist = tuple(np.asarray(histories[int(u)], dtype=np.int64) for u in users)

        # Dense users x items matrices: fine at MovieLens-100K scale (943 x 627).
        watched = np.zeros((n_users, n_items), dtype=bool)
        kept = np.zeros((n_users, n_items), dtype=bool)
        rng = np.random.default_rng(seed)
        for r, h in enumerate(hist):
            watched[r, h] = True
            kept[r, h] = True
            # A random (not the latest) share is held out: the latest ratings of MovieLens
            # are mostly the new releases of 1998, which is the calendar, not taste.
            kept[r, rng.choice(h, max(1, math.ceil(holdout * len(h))), replace=False)] = False
        held_out = watched & ~kept

        # Tastes and item features, all from the kept part.
        gm = catalog.genre_matrix.astype(np.float64)
        gm[gm.sum(axis=1) == 0] = 1.0  # a movie without genres is spread over all of them
        gw = gm / gm.sum(axis=1, keepdims=True)
        totals = kept.astype(np.float64) @ gw
        genre_share = (totals.sum(axis=0) + 1.0) / (totals.sum() + gw.shape[1])
        theta = genre_affinity(totals, genre_share, smoothing)
        pop, _, _ = _zscore(np.log1p(kept.sum(axis=0).astype(np.float64)))
        mf = MatrixFactorization(n_factors=n_factors, rng=seed)
        mf.fit([np.flatnonzero(row) for row in kept], n_items)
        x_u, y_i = mf.user_factors_, mf.item_factors_
        mf_score, mf_center, mf_scale = _zscore(x_u @ y_i.T)
        taste = theta @ gw.T

        # Choice model: which of the movies outside the kept part did the user rate?
        cand = ~kept
        x = np.column_stack(
            [np.ones(int(cand.sum())), mf_score[cand], taste[cand],
             np.broadcast_to(pop, cand.shape)[cand]]
        )  # fmt: skip
        y = held_out[cand].astype(np.float64)
        w = _fit_logistic(x, y)
        _, beta_m, beta_a, beta_p = (float(v) for v in w)
        density = float(watched.mean())
        base = beta_m * mf_score + beta_a * taste + beta_p * pop[None, :]
        summary = {
            "auc": _auc(x @ w, y),
            "auc_mf": _auc(x[:, 1], y),
            "auc_affinity": _auc(x[:, 2], y),
            "auc_popularity": _auc(x[:, 3], y),
            "pairs": float(y.size),
            "positives": float(y.sum()),
            "density": density,
        }
        intercept = _calibrate_intercept(base, density)

        # Rating model: shrunk baseline biases, then genre taste on the residual.
        rating = np.zeros((n_users, n_items))
        row = {int(u): r for r, u in enumerate(users)}
        in_catalog = np.fromiter(
            (catalog.contains(i) for i in ratings["item_id"].to_numpy()), bool, len(ratings)
        )
        sub = ratings.loc[ratings["user_id"].isin(row).to_numpy() & in_catalog]
        rating[
            [row[int(u)] for u in sub["user_id"].to_numpy()],
            catalog.indices(sub["item_id"].to_numpy()),
        ] = sub["rating"].to_numpy(dtype=np.float64)
        mu = float(rating[watched].mean())
        b_u, b_i = np.zeros(n_users), np.zeros(n_items)
        for _ in range(5):
            resid = np.where(watched, rating - mu - b_u[:, None], 0.0)
            b_i = resid.sum(axis=0) / (watched.sum(axis=0) + smoothing)
            resid = np.where(watched, rating - mu - b_i[None, :], 0.0)
            b_u = resid.sum(axis=1) / (watched.sum(axis=1) + smoothing)
        resid = (rating - mu - b_u[:, None] - b_i[None, :])[watched]
        t = taste[watched]
        beta_r = float(t @ resid / (t @ t)) if np.any(t) else 0.0
        sigma = float(np.std(resid - beta_r * t))

        n_primary = min(10, len(catalog.genre_names) + 1)
        codes, names = catalog.primary_genres("paper", n_genres=n_primary)
        return cls(
            catalog=catalog,
            genre_names=catalog.genre_names,
            genre_weights=gw,
            primary_genre=codes,
            primary_names=names,
            user_ids=users.astype(np.int64),
            histories=hist,
            user_factors=x_u,
            item_factors=y_i,
            affinity=theta,
            popularity=pop,
            intercept=float(intercept),
            beta_mf=beta_m,
            beta_affinity=beta_a,
            beta_popularity=beta_p,
            mf_center=mf_center,
            mf_scale=mf_scale,
            rating_mean=mu,
            user_bias=b_u,
            item_bias=b_i,
            rating_affinity=beta_r,
            rating_noise=sigma,
            genre_share=genre_share,
            fit_summary=summary,
        )

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
        """
        x = np.atleast_2d(np.asarray(user_factors, dtype=np.float64))
        y = np.atleast_2d(np.asarray(item_factors, dtype=np.float64))
        n_users, n_items = x.shape[0], y.shape[0]
        if x.shape[1] != y.shape[1]:
            raise ValueError(
                f"user_factors and item_factors need the same width, got {x.shape} and {y.shape}"
            )
        if len(item_genres) != n_items or any(len(g) == 0 for g in item_genres):
            raise ValueError(
                f"item_genres must give at least one genre to each of {n_items} movies"
            )
        names = sorted({g for gs in item_genres for g in gs})
        gm = np.array([[g in gs for g in names] for gs in item_genres], dtype=np.float64)
        hist = tuple(
            np.asarray(h, dtype=np.int64) for h in (histories or [[] for _ in range(n_users)])
        )
        if len(hist) != n_users:
            raise ValueError(
                f"histories must hold one sequence per user ({n_users}), got {len(hist)}"
            )
        catalog = Catalog(
            item_ids=np.arange(1, n_items + 1),
            titles=[f"Movie {i}" for i in range(n_items)],
            genres=[tuple(gs) for gs in item_genres],
            popularity=np.zeros(n_items, dtype=np.int64),
        )
        primary = [gs[0] for gs in item_genres]
        primary_names = sorted(set(primary))
        n_genres = len(names)
        return cls(
            catalog=catalog,
            genre_names=names,
            genre_weights=gm / gm.sum(axis=1, keepdims=True),
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
        """Row of a MovieLens user id; ``ValueError`` if the user is not simulated."""
        pos = int(np.searchsorted(self.user_ids, user_id))
        if pos >= self.n_users or self.user_ids[pos] != user_id:
            raise ValueError(
                f"unknown user id {user_id}: the model simulates {self.n_users} users with ids "
                f"{int(self.user_ids[0])}..{int(self.user_ids[-1])} (not all present)"
            )
        return pos

    def logits(self, factors: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Attraction logits ``z`` of every movie for a taste ``(x, theta)`` (no satiation).

        ``factors`` and ``theta`` may be one user's vectors or stacked ``(n, .)`` rows; the
        result is ``(n_items,)`` or ``(n, n_items)``.
        """
        mf = (np.asarray(factors) @ self.item_factors.T - self.mf_center) / self.mf_scale
        return (
            self.intercept
            + self.beta_mf * mf
            + self.beta_affinity * (np.asarray(theta) @ self.genre_weights.T)
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


def _calibrate_intercept(base: np.ndarray, target: float) -> float:
    """The ``b`` with ``mean(expit(b + base)) == target``, by Newton's method (monotone)."""
    if not 0 < target < 1:
        raise ValueError(f"the target click share must be in (0, 1), got {target}")
    b = math.log(target / (1 - target)) - float(np.mean(base))
    for _ in range(100):
        p = expit(b + base)
        gap = float(p.mean()) - target
        slope = float(np.mean(p * (1 - p)))
        if abs(gap) < 1e-12 or slope == 0:
            break
        b -= gap / slope
    return b


@lru_cache(maxsize=4)
def default_user_model(n_items: int = 627, seed: int = 0) -> UserModel:
    """:meth:`UserModel.from_movielens`, cached: environments made without a user model share
    it."""
    return UserModel.from_movielens(n_items=n_items, seed=seed)


# ---------------------------------------------------------------------------------------------
# The environment
# ---------------------------------------------------------------------------------------------


class MovieLensUserEnv(gym.Env):
    """A MovieLens user who is shown slates of movies, watches one or none, and may leave.

    ## Description
    Each episode is one simulated user's stay with the service (a "session"). The user is a
    real MovieLens-100K user (:class:`UserModel`): their tastes (latent factors ``x`` and
    genre affinities ``theta``) are estimated from their ratings, and the session starts with
    the first ``n_start`` movies they rated. At every step the recommender shows a slate of
    ``k`` movies; the user reads it top-down (cascade model), watches at most one movie, rates
    it, and may then leave.

    Attraction of movie ``i`` at step ``t`` (``sigma`` is the logistic function):

    $$ v_{ti} = \\sigma\\bigl(z_i(x_t, \\theta_t) - \\beta_s \\langle s_t, \\tilde g_i\\rangle\\bigr) $$

    with ``z`` the fitted logit of :class:`UserModel` (factor score, genre affinity,
    popularity), ``(x_t, theta_t)`` the user's current taste, ``g~_i`` the movie's genre vector
    (summing to 1), ``s_t`` the satiation vector and ``beta_s = satiation``. A movie already watched in
    this session has ``v = 0`` (nobody re-watches it). Position ``p`` (0 = top) is examined
    with probability ``e_p = (1 + p) ** -position_decay``, and the click lands on position
    ``p`` with probability ``e_p v_p prod_{j<p} (1 - e_j v_j)``
    (:func:`cascade_click_probabilities`).

    After the step, with ``lambda = satiation_decay``:

    - satiation: ``s_{t+1} = lambda s_t + g~_clicked`` (just ``lambda s_t`` without a click);
    - interest (starts at 1): ``iota -= miss_cost`` without a click, else
      ``iota = min(1, iota + click_gain + rating_gain * (rating - 3))``;
    - taste drift, for both ``x`` and ``theta``. ``drift_mode="shift"``: the user gradually
      becomes someone else, another MovieLens user drawn at reset with taste ``theta*``:
      ``theta_t = m + sqrt(1 - rho_t) (theta_0 - m) + sqrt(rho_t) (theta* - m)`` with
      ``rho_t = min(1, drift t)`` and ``m`` the population mean. The square roots keep the
      spread of tastes: a straight line from ``theta_0`` to ``theta*`` would pass through
      blander, more average users half-way and lower everybody's click rates.
      ``drift_mode="walk"``: ``theta_{t+1} = theta_t + drift * sd(theta) * N(0, I)`` (sd over
      users, per coordinate). ``drift=0`` switches it off.

    ## Action Space
    `MultiDiscrete([n_items] * k)`: a slate of ``k`` catalogue indices, best first.
    Shorter slates (1-d integer arrays of length ``0..k``) are accepted too. Documented edge
    cases:

    - **empty slate**: nothing is shown; there is no click (probability 0), interest drops by
      ``miss_cost``;
    - **duplicates**: only the first copy of a movie counts; later copies are examined (they
      take a position) but never clicked;
    - **already watched movies**: shown but never clicked;
    - **out-of-range ids, non-integers, more than ``k`` movies, not 1-d**: ``ValueError``.

    ## Observation Space
    `MultiDiscrete([n_items + 1] * 3)`: the last three movies watched this session, oldest
    first. **Padding**: the value ``n_items`` means "no movie"; it fills the *left* (oldest)
    slots while fewer than three movies have been watched, e.g. ``[n, n, 42]`` after one
    movie, ``[n, n, n]`` for a cold start (``n_start=0``).

    ## Starting State
    A user drawn uniformly from ``users`` (or ``options["user_id"]``), with their fitted taste
    ``(x_0, theta_0)``, interest 1, the first ``n_start`` movies of their MovieLens
    history as the session so far, and satiation built from those movies as if watched.

    ## Rewards
    ``1`` for a click plus ``rating_weight * rating`` (rating in 1..5 of the clicked movie);
    ``0`` without a click. The default ``rating_weight=0`` makes the return the number of
    clicks.

    ## Episode End
    - Termination (the user leaves): interest ``<= 0``, or with probability ``leave_prob``
      after any step.
    - Truncation: ``max_steps`` steps.

    ## Information
    ``reset`` and ``step`` return a dict with ``user_id`` (MovieLens id), ``step``,
    ``clicked`` (catalogue index or -1), ``position`` (slate position or -1), ``rating``
    (1..5, or 0), ``click_probability`` (probability that the slate got a click) and
    ``interest``.

    ## Arguments
    ```python
    import gymnasium as gym
    import odsc_recsys.simulator  # registers the id
    env = gym.make("odsc_recsys/MovieLensUser-v0", k=10, drift=0.05)
    ```
    - ``user_model``: a :class:`UserModel` (default: MovieLens-100K, top 627 movies).
    - ``k`` (10): slate length.
    - ``drift`` (0.0), ``drift_mode`` ("shift"): taste drift per step (see above).
    - ``satiation`` (0.5), ``satiation_decay`` (0.7): ``beta_s`` and ``lambda``.
    - ``position_decay`` (1.0): exponent of the examination probability.
    - ``miss_cost`` (0.25), ``click_gain`` (0.1), ``rating_gain`` (0.1): interest dynamics.
    - ``leave_prob`` (0.02): chance of leaving after any step.
    - ``rating_weight`` (0.0): weight of the rating in the reward.
    - ``n_start`` (3): movies of the user's real history that open the session (0..3).
    - ``max_steps`` (100): truncation.
    - ``users``: MovieLens user ids to draw from (default: all in the model).
    - ``render_mode``: ``None`` or ``"ansi"`` (a text view of the last step).

    ## References
    - N. Craswell, O. Zoeter, M. Taylor, B. Ramsey, "An experimental comparison of click
      position-bias models", WSDM 2008 (the cascade model).
    - E. Ie et al., "RecSim: a configurable simulation platform for recommender systems",
      2019 (user choice, interest and satiation in simulated users).
    - F. M. Harper, J. A. Konstan, "The MovieLens datasets: history and context", ACM TiiS
      2015.

    ## Version History
    - v0: Initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        user_model: UserModel | None = None,
        k: int = 10,
        drift: float = 0.0,
        drift_mode: str = "shift",
        satiation: float = 0.5,
        satiation_decay: float = 0.7,
        position_decay: float = 1.0,
        miss_cost: float = 0.25,
        click_gain: float = 0.1,
        rating_gain: float = 0.1,
        leave_prob: float = 0.02,
        rating_weight: float = 0.0,
        n_start: int = 3,
        max_steps: int = 100,
        users: Iterable[int] | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.model = user_model if user_model is not None else default_user_model()
        if not isinstance(self.model, UserModel):
            raise ValueError(f"user_model must be a UserModel, got {type(self.model).__name__}")
        n = self.model.n_items
        self.n_items = n
        self.k = _check_int("k", k, 1, n)
        if drift_mode not in DRIFT_MODES:
            raise ValueError(f"drift_mode must be one of {DRIFT_MODES}, got {drift_mode!r}")
        self.drift_mode = drift_mode
        self.drift = _check_real("drift", drift, 0.0, 1.0 if drift_mode == "shift" else 10.0)
        self.satiation = _check_real("satiation", satiation, 0.0)
        self.satiation_decay = _check_real("satiation_decay", satiation_decay, 0.0, 1.0)
        self.position_decay = _check_real("position_decay", position_decay, 0.0)
        self.miss_cost = _check_real("miss_cost", miss_cost, 0.0)
        self.click_gain = _check_real("click_gain", click_gain)
        self.rating_gain = _check_real("rating_gain", rating_gain)
        self.leave_prob = _check_real("leave_prob", leave_prob, 0.0, 1.0)
        self.rating_weight = _check_real("rating_weight", rating_weight)
        self.n_start = _check_int("n_start", n_start, 0, HISTORY_LENGTH)
        self.max_steps = _check_int("max_steps", max_steps, 1)
        if users is None:
            self.users = np.arange(self.model.n_users)
        else:
            ids = list(users)
            if not ids:
                raise ValueError("users must name at least one MovieLens user id")
            self.users = np.array([self.model.user_index(int(u)) for u in ids], dtype=np.int64)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, got "
                f"{render_mode!r}"
            )
        self.render_mode = render_mode
        self.pad = n  # the observation's "no movie" value
        self.observation_space = spaces.MultiDiscrete([n + 1] * HISTORY_LENGTH)
        self.action_space = spaces.MultiDiscrete([n] * self.k)
        self.examination = (1.0 + np.arange(self.k)) ** -self.position_decay
        m = self.model
        # The logit, rearranged so that a slate costs one gather and one small product:
        # z = const_i + W_i . u, with W_i = [beta_m y_i / s, beta_a g~_i, -beta_s g~_i] and
        # the user's state u = [x, theta, satiation] (x, theta, satiation are views into u).
        self._gw = m.genre_weights
        self._const = (
            m.intercept - m.beta_mf * m.mf_center / m.mf_scale + m.beta_popularity * m.popularity
        )
        self._weights = np.hstack(
            [(m.beta_mf / m.mf_scale) * m.item_factors, m.beta_affinity * m.genre_weights,
             -self.satiation * m.genre_weights]
        )  # fmt: skip
        f, g = m.n_factors, m.n_genres
        self._u = np.zeros(f + 2 * g)
        self._x, self._theta, self._satiation = self._u[:f], self._u[f : f + g], self._u[f + g :]
        self._theta_sd, self._theta_mean = m.affinity.std(axis=0), m.affinity.mean(axis=0)
        self._x_sd, self._x_mean = m.user_factors.std(axis=0), m.user_factors.mean(axis=0)
        self._ready = False
        self._last: dict[str, Any] = {}

    # ---- state ------------------------------------------------------------------------------

    @property
    def history(self) -> np.ndarray:
        """Movies watched this session (the opening ones included), oldest first."""
        return np.array(self._history, dtype=np.int64)

    @property
    def theta(self) -> np.ndarray:
        """The user's current genre affinities (a copy)."""
        return self._theta.copy()

    @property
    def factors(self) -> np.ndarray:
        """The user's current latent factors (a copy)."""
        return self._x.copy()

    @property
    def satiation_vector(self) -> np.ndarray:
        """The current per-genre satiation ``s_t`` (a copy)."""
        return self._satiation.copy()

    def _observation(self) -> np.ndarray:
        padded = [self.pad] * HISTORY_LENGTH + self._history[-HISTORY_LENGTH:]
        return np.array(padded[-HISTORY_LENGTH:], dtype=np.int64)

    def _info(self) -> dict[str, Any]:
        return {
            "user_id": int(self.model.user_ids[self._user]),
            "step": self._t,
            "clicked": self._last.get("clicked", -1),
            "position": self._last.get("position", -1),
            "rating": self._last.get("rating", 0),
            "click_probability": self._last.get("click_probability", 0.0),
            "interest": self._interest,
        }

    # ---- Gymnasium API ----------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a session: draw a user (or take ``options["user_id"]``) and a drift target.

        Exactly two integers are drawn from ``np_random`` per reset, whatever the options, so
        that sessions with equal seeds stay aligned across settings.
        """
        super().reset(seed=seed)
        options = options or {}
        unknown = sorted(set(options) - {"user_id"})
        if unknown:
            raise ValueError(f"unknown reset options {unknown}: the only option is 'user_id'")
        n_users = self.model.n_users
        draw_user = int(self.np_random.integers(len(self.users)))
        draw_target = int(self.np_random.integers(max(n_users - 1, 1)))
        if "user_id" in options:
            self._user = self.model.user_index(int(options["user_id"]))
        else:
            self._user = int(self.users[draw_user])
        # Another user's taste (never the user's own): the drift target.
        self._target = draw_target + (1 if draw_target >= self._user and n_users > 1 else 0)
        self._theta0 = self.model.affinity[self._user].copy()
        self._x0 = self.model.user_factors[self._user].copy()
        self._theta[:] = self._theta0
        self._x[:] = self._x0
        self._history: list[int] = [
            int(m) for m in self.model.histories[self._user][: self.n_start]
        ]
        self._watched = np.zeros(self.n_items, dtype=bool)
        self._watched[self._history] = True
        self._satiation[:] = 0.0
        for m in self._history:
            self._satiation *= self.satiation_decay
            self._satiation += self._gw[m]
        self._interest = 1.0
        self._t = 0
        self._done = False
        self._last = {}
        self._ready = True
        return self._observation(), self._info()

    def check_slate(self, action: Any) -> np.ndarray:
        """Validate a slate and return it as an int64 array (see the class docstring)."""
        arr = np.asarray(action)
        if arr.ndim != 1:
            raise ValueError(
                f"a slate is a 1-d sequence of at most k={self.k} movie indices, got shape "
                f"{arr.shape}"
            )
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        if arr.dtype.kind not in "iu":
            raise ValueError(f"a slate holds integer movie indices, got dtype {arr.dtype}: {arr!r}")
        if arr.size > self.k:
            raise ValueError(f"a slate holds at most k={self.k} movies, got {arr.size}")
        if arr.min() < 0 or arr.max() >= self.n_items:
            bad = arr[(arr < 0) | (arr >= self.n_items)]
            raise ValueError(
                f"unknown movie index {int(bad[0])} in the slate: catalogue indices run from 0 "
                f"to {self.n_items - 1}"
            )
        return arr.astype(np.int64, copy=False)

    def _attraction(self, items: np.ndarray) -> np.ndarray:
        """``v`` of valid catalogue indices for the current user (0 for watched movies)."""
        v = expit(self._const[items] + self._weights[items] @ self._u)
        v[self._watched[items]] = 0.0
        return v

    def catalogue_attractiveness(self) -> np.ndarray:
        """``v`` of every catalogue movie for the current user, now (0 for watched ones).

        What an all-knowing recommender would rank by: the simulator's ground truth, for
        reference policies and for validation; a real recommender never sees it.
        """
        self._require_reset()
        return self._attraction(np.arange(self.n_items))

    def attractiveness(self, slate: Any) -> np.ndarray:
        """``v`` of each slate position for the current user: 0 for watched movies and repeats."""
        self._require_reset()
        return self._slate_attraction(self.check_slate(slate))

    def _slate_attraction(self, slate: np.ndarray) -> np.ndarray:
        if slate.size == 0:
            return np.zeros(0)
        v = self._attraction(slate)
        if slate.size > 1 and len(set(slate.tolist())) < slate.size:
            first = np.zeros(slate.size, dtype=bool)
            first[np.unique(slate, return_index=True)[1]] = True
            v[~first] = 0.0  # later copies of a movie are never clicked
        return v

    def click_probabilities(self, slate: Any) -> np.ndarray:
        """Probability that the click lands on each position of ``slate`` (cascade model).

        ``1 - sum`` is the probability of no click. An empty slate gives an empty array.
        """
        v = self.attractiveness(slate)
        return cascade_click_probabilities(v, self.examination[: v.size])

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Show a slate; the user watches at most one movie, rates it, and may leave.

        Exactly two uniform and ``1 + n_genres + n_factors`` normal numbers are drawn from
        ``np_random`` per step, whatever happens, so runs with equal seeds stay aligned.
        """
        self._require_reset()
        if self._done:
            raise RuntimeError("the session has ended (terminated or truncated): call reset()")
        slate = self.check_slate(action)
        v = self._slate_attraction(slate)
        probs = cascade_click_probabilities(v, self.examination[: v.size])
        u_click, u_leave = self.np_random.random(2)
        noise = self.np_random.standard_normal(1 + self.model.n_genres + self.model.n_factors)
        pos = int(np.searchsorted(np.cumsum(probs), u_click, side="right"))
        clicked, rating = -1, 0
        if pos < slate.size:
            clicked = int(slate[pos])
            rating = self._rate(clicked, float(noise[0]))
            self._history.append(clicked)
            self._watched[clicked] = True
            self._satiation *= self.satiation_decay
            self._satiation += self._gw[clicked]
            self._interest = min(
                1.0, self._interest + self.click_gain + self.rating_gain * (rating - 3)
            )
        else:
            pos = -1
            self._satiation *= self.satiation_decay
            self._interest -= self.miss_cost
        self._t += 1
        self._drift(noise[1:])
        terminated = bool(self._interest <= 0.0 or u_leave < self.leave_prob)
        truncated = bool(not terminated and self._t >= self.max_steps)
        self._done = terminated or truncated
        reward = float(clicked >= 0) + self.rating_weight * rating
        self._last = {
            "clicked": clicked,
            "position": pos,
            "rating": rating,
            "click_probability": float(probs.sum()),
            "slate": slate,
        }
        return self._observation(), float(reward), terminated, truncated, self._info()

    def render(self) -> str | None:
        """``"ansi"``: the user, the last slate (the clicked movie marked) and the interest."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; use render_mode='ansi'")
            return None
        self._require_reset()
        titles = self.model.catalog.titles
        lines = [
            f"user {self.model.user_ids[self._user]}, step {self._t}, interest "
            f"{self._interest:.2f}",
            "last watched: " + ", ".join(titles[m] for m in self._history[-HISTORY_LENGTH:]),
        ]
        slate = self._last.get("slate")
        if slate is not None:
            for p, m in enumerate(slate.tolist()):
                mark = "*" if p == self._last["position"] else " "
                lines.append(f" {mark} {p + 1:2d}. {titles[m]}")
            if self._last["clicked"] >= 0:
                lines.append(f"clicked, rated {self._last['rating']}")
            else:
                lines.append("no click")
        return "\n".join(lines) + "\n"

    # ---- internals --------------------------------------------------------------------------

    def _require_reset(self) -> None:
        if not self._ready:
            raise RuntimeError("call reset() before using the environment")

    def _rate(self, item: int, noise: float) -> int:
        m = self.model
        mean = (
            m.rating_mean
            + m.user_bias[self._user]
            + m.item_bias[item]
            + m.rating_affinity * float(self._gw[item] @ self._theta)
        )
        # round() halves to even, like np.rint; plain floats are much faster on one value.
        return min(5, max(1, round(float(mean) + m.rating_noise * noise)))

    def _drift(self, noise: np.ndarray) -> None:
        if self.drift == 0.0:
            return
        if self.drift_mode == "shift":
            rho = min(1.0, self.drift * self._t)
            a, b = math.sqrt(1.0 - rho), math.sqrt(rho)
            m = self.model
            self._theta[:] = (
                self._theta_mean
                + a * (self._theta0 - self._theta_mean)
                + b * (m.affinity[self._target] - self._theta_mean)
            )
            self._x[:] = (
                self._x_mean
                + a * (self._x0 - self._x_mean)
                + b * (m.user_factors[self._target] - self._x_mean)
            )
        else:
            n_genres = self.model.n_genres
            self._theta += self.drift * self._theta_sd * noise[:n_genres]
            self._x += self.drift * self._x_sd * noise[n_genres:]


def _register() -> None:
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point=f"{__name__}:MovieLensUserEnv")


_register()
