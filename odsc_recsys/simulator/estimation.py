"""Estimating the simulated population from MovieLens ratings.

The steps of :meth:`odsc_recsys.simulator.UserModel.from_histories`, each a small function
that can be tested alone:

1. :func:`simulated_users` and :func:`holdout_split`: who is simulated, and which of their
   movies are *kept* for estimating tastes and which are held out as labels;
2. :func:`fit_tastes`: genre affinities (:func:`genre_affinity`), popularity and the latent
   factors of a matrix factorisation, all from the kept part;
3. :func:`fit_choice_model`: the weights of the attraction logit by a logistic regression
   (:func:`fit_logistic`) on the held-out movies, its quality (:func:`auc`), and the intercept
   that matches the data's density (:func:`calibrate_intercept`);
4. :func:`rating_matrix` and :func:`fit_rating_model`: shrunk baseline biases
   (:func:`shrunk_biases`) plus genre taste.

Steps 2 to 4 return dicts whose keys are fields of
:class:`~odsc_recsys.simulator.UserModel`, so the model is their union.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import rankdata

from .. import checks
from ..catalog import Catalog

__all__ = [
    "auc",
    "calibrate_intercept",
    "fit_choice_model",
    "fit_logistic",
    "fit_rating_model",
    "fit_tastes",
    "genre_affinity",
    "holdout_split",
    "normalised_genres",
    "rating_matrix",
    "shrunk_biases",
    "simulated_users",
    "zscore",
]


# ---- numerical helpers ----------------------------------------------------------------------


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
    counts = checks.finite_array("counts", counts, ndim=2)
    base_share = checks.finite_array("base_share", base_share, shape=(counts.shape[1],))
    if np.any(counts < 0):
        raise ValueError(f"counts must be >= 0, got {counts.min().item()!r}")
    if np.any(base_share <= 0):
        raise ValueError(f"base_share must be positive for every genre, got "
                         f"{base_share.min().item()!r}")  # fmt: skip
    # smoothing = 0 would give an unseen genre -inf
    smoothing = checks.real("smoothing", smoothing, 0.0, low_open=True)
    total = counts.sum(axis=1, keepdims=True)
    share = (counts + smoothing * base_share) / (total + smoothing)
    return np.log(share) - np.log(base_share)


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = 1e-3, n_iter: int = 50) -> np.ndarray:
    """Weights of a ridge-regularised logistic regression by Newton's method (IRLS).

    Parameters
    ----------
    x : array (n, d)
        Features (a column of ones for an intercept).
    y : array (n,)
        Labels in {0, 1}.
    ridge : float
        L2 penalty on every weight; it keeps the Hessian invertible on separable data.
    n_iter : int
        Most Newton steps; the loop stops earlier once a step moves no weight by 1e-9.
    """
    x = checks.finite_array("x", x, ndim=2)
    y = _labels("y", y, x.shape[0])
    ridge = checks.real("ridge", ridge, 0.0)
    n_iter = checks.positive_int("n_iter", n_iter)
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


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U), ties counted half; NaN without both labels.

    Raises
    ------
    ValueError
        If ``scores`` are not finite numbers or ``labels`` not one 0/1 per score.
    """
    scores = checks.finite_array("scores", scores, ndim=1)
    labels = _labels("labels", labels, scores.size).astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def zscore(x: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(x - mean) / sd`` and the mean and sd used (sd 1 when x is constant)."""
    x = _nonempty_finite("x", x)
    mean, sd = float(x.mean()), float(x.std())
    sd = sd if sd > 0 else 1.0
    return (x - mean) / sd, mean, sd


def calibrate_intercept(base: np.ndarray, target: float) -> float:
    """The ``b`` with ``mean(expit(b + base)) == target``, by Newton's method (monotone)."""
    target = checks.fraction("the target click share", target)
    base = _nonempty_finite("base", base)
    b = math.log(target / (1 - target)) - float(np.mean(base))
    for _ in range(100):
        p = expit(b + base)
        gap = float(p.mean()) - target
        slope = float(np.mean(p * (1 - p)))
        if abs(gap) < 1e-12 or slope == 0:
            break
        b -= gap / slope
    return b


def normalised_genres(genre_matrix: np.ndarray) -> np.ndarray:
    """Each movie's genre vector ``g~_i`` as floats summing to 1.

    A movie without genres is spread evenly over all of them rather than dividing by zero.
    """
    gm = np.asarray(genre_matrix)
    gm = checks.finite_array("genre_matrix", gm.astype(np.float64) if gm.dtype == bool else gm,
                             ndim=2).copy()  # fmt: skip
    if np.any(gm < 0) or 0 in gm.shape:
        raise ValueError(f"genre_matrix must be a non-empty (n_items, n_genres) array of "
                         f"weights >= 0, got shape {gm.shape} with minimum "
                         f"{gm.min().item() if gm.size else None!r}")  # fmt: skip
    gm[gm.sum(axis=1) == 0] = 1.0
    return gm / gm.sum(axis=1, keepdims=True)


# ---- the steps of the fit -------------------------------------------------------------------


def simulated_users(
    histories: Mapping[int, np.ndarray], min_history: int
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The ids (sorted) of users with at least ``min_history`` movies, and their histories.

    Raises
    ------
    ValueError
        If fewer than two users qualify (drift needs another user to drift toward), or the
        arguments have the wrong type.
    """
    if not isinstance(histories, Mapping):
        raise ValueError(f"histories must be a dict user_id -> array of catalogue indices, "
                         f"got {type(histories).__name__}")  # fmt: skip
    min_history = checks.integer("min_history", min_history, 1)
    users = np.array(sorted(u for u, h in histories.items() if len(h) >= min_history))
    if users.size < 2:
        raise ValueError(
            f"need at least 2 users with >= {min_history} movies in the catalogue, got {users.size}"
        )
    return users, tuple(np.asarray(histories[int(u)], dtype=np.int64) for u in users)


def holdout_split(
    histories: tuple[np.ndarray, ...], n_items: int, holdout: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean ``(n_users, n_items)`` matrices: every movie watched, and the *kept* ones.

    Per user, ``ceil(holdout * len(history))`` movies (at least one), drawn at random, are
    held out; the rest are kept. Dense matrices are fine at MovieLens-100K scale (943 x 627).

    Raises
    ------
    ValueError
        If a history is empty, repeats a movie or holds one outside ``[0, n_items)``, or an
        argument has the wrong type or range.
    """
    n_items = checks.positive_int("n_items", n_items)
    holdout = checks.fraction("holdout", holdout)
    seed = checks.count("seed", seed)
    for r, h in enumerate(histories):
        checks.nonempty(f"history {r}", checks.indices(f"history {r}", h, n_items, unique=True))
    watched = np.zeros((len(histories), n_items), dtype=bool)
    kept = np.zeros((len(histories), n_items), dtype=bool)
    rng = np.random.default_rng(seed)
    for r, h in enumerate(histories):
        watched[r, h] = True
        kept[r, h] = True
        # A random (not the latest) share is held out: the latest ratings of MovieLens
        # are mostly the new releases of 1998, which is the calendar, not taste.
        kept[r, rng.choice(h, max(1, math.ceil(holdout * len(h))), replace=False)] = False
    return watched, kept


def fit_tastes(
    kept: np.ndarray, genre_weights: np.ndarray, n_factors: int, smoothing: float, seed: int
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Tastes and item features, all estimated from the kept part of the histories.

    Returns
    -------
    fields : dict
        The user-model fields ``affinity``, ``genre_share``, ``popularity``,
        ``user_factors``, ``item_factors``, ``mf_center`` and ``mf_scale``.
    mf_score : array (n_users, n_items)
        The z-scored factor score ``(x_u . y_i - c) / s``.
    taste : array (n_users, n_items)
        Each user's genre affinity for each movie, ``<theta_u, g~_i>``.
    """
    from ..classical import MatrixFactorization

    kept = _mask("kept", kept)
    genre_weights = checks.finite_array("genre_weights", genre_weights,
                                        shape=(kept.shape[1], -1))  # fmt: skip
    n_factors = checks.positive_int("n_factors", n_factors)
    smoothing = checks.real("smoothing", smoothing, 0.0, low_open=True)
    seed = checks.count("seed", seed)

    totals = kept.astype(np.float64) @ genre_weights
    genre_share = (totals.sum(axis=0) + 1.0) / (totals.sum() + genre_weights.shape[1])
    theta = genre_affinity(totals, genre_share, smoothing)
    pop, _, _ = zscore(np.log1p(kept.sum(axis=0).astype(np.float64)))
    mf = MatrixFactorization(n_factors=n_factors, rng=seed)
    mf.fit([np.flatnonzero(row) for row in kept], kept.shape[1])
    x_u, y_i = mf.user_factors_, mf.item_factors_
    mf_score, mf_center, mf_scale = zscore(x_u @ y_i.T)
    fields = {"affinity": theta, "genre_share": genre_share, "popularity": pop,
              "user_factors": x_u, "item_factors": y_i, "mf_center": mf_center,
              "mf_scale": mf_scale}  # fmt: skip
    return fields, mf_score, theta @ genre_weights.T


def fit_choice_model(
    mf_score: np.ndarray,
    taste: np.ndarray,
    popularity: np.ndarray,
    watched: np.ndarray,
    kept: np.ndarray,
) -> dict[str, Any]:
    """Weights of the attraction logit: which movies outside the kept part did a user rate?

    A logistic regression of "held out" on the factor score, the genre taste and popularity,
    over every (user, movie) pair outside the kept part. The intercept is then calibrated so
    that the mean attraction equals the data's density (the share of the catalogue a user
    rated).

    Returns
    -------
    dict
        The user-model fields ``intercept``, ``beta_mf``, ``beta_affinity``,
        ``beta_popularity`` and ``fit_summary`` (held-out AUCs, ``pairs``, ``positives``,
        ``density``).
    """
    watched, kept = _mask("watched", watched), _mask("kept", kept)
    shape = watched.shape
    _same_shape(watched=watched, kept=kept, mf_score=checks.finite_array("mf_score", mf_score),
                taste=checks.finite_array("taste", taste))  # fmt: skip
    checks.finite_array("popularity", popularity, shape=(shape[1],))
    if np.any(kept & ~watched):
        raise ValueError("kept must mark only watched movies (kept & ~watched is not empty)")
    cand = ~kept
    x = np.column_stack(
        [np.ones(int(cand.sum())), mf_score[cand], taste[cand],
         np.broadcast_to(popularity, cand.shape)[cand]]
    )  # fmt: skip
    y = (watched & ~kept)[cand].astype(np.float64)
    w = fit_logistic(x, y)
    _, beta_m, beta_a, beta_p = (float(v) for v in w)
    density = float(watched.mean())
    summary = {"auc": auc(x @ w, y), "auc_mf": auc(x[:, 1], y),
               "auc_affinity": auc(x[:, 2], y), "auc_popularity": auc(x[:, 3], y),
               "pairs": float(y.size), "positives": float(y.sum()),
               "density": density}  # fmt: skip
    base = beta_m * mf_score + beta_a * taste + beta_p * popularity[None, :]
    intercept = float(calibrate_intercept(base, density))
    return {"intercept": intercept, "beta_mf": beta_m, "beta_affinity": beta_a,
            "beta_popularity": beta_p, "fit_summary": summary}  # fmt: skip


def rating_matrix(ratings: pd.DataFrame, users: np.ndarray, catalog: Catalog) -> np.ndarray:
    """Dense ``(n_users, n_items)`` ratings of ``users`` (rows in that order), 0 where unrated.

    Ratings of movies outside ``catalog`` and of other users are ignored.

    Raises
    ------
    ValueError
        If ``users`` repeat an id (its first row would stay empty) or are not integers, or
        ``ratings`` lack a column or hold a non-finite rating.
    """
    if not isinstance(catalog, Catalog):
        raise ValueError(f"catalog must be a Catalog, got {type(catalog).__name__}")
    if not isinstance(ratings, pd.DataFrame) or not {"user_id", "item_id", "rating"} <= set(
        ratings.columns
    ):
        raise ValueError("ratings must be a DataFrame with the columns user_id, item_id and "
                         f"rating, got {type(ratings).__name__}")  # fmt: skip
    ids = np.asarray(users)
    if ids.ndim != 1 or not (ids.size == 0 or np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(f"users must be a 1-d array of integer user ids, got dtype "
                         f"{ids.dtype} and shape {ids.shape}")  # fmt: skip
    seen, first = np.unique(ids, return_index=True)
    if seen.size != ids.size:
        repeat = ids[np.setdiff1d(np.arange(ids.size), first)[0]].item()
        raise ValueError(f"users must not repeat an id, got {repeat!r} twice")
    checks.finite_array("ratings['rating']", ratings["rating"].to_numpy())
    rating = np.zeros((len(users), catalog.n_items))
    row = {int(u): r for r, u in enumerate(users)}
    keep = ratings["user_id"].isin(row) & ratings["item_id"].isin(catalog.item_ids)
    sub = ratings.loc[keep.to_numpy()]
    rating[
        [row[int(u)] for u in sub["user_id"].to_numpy()],
        catalog.indices(sub["item_id"].to_numpy()),
    ] = sub["rating"].to_numpy(dtype=np.float64)
    return rating


def shrunk_biases(
    rating: np.ndarray, watched: np.ndarray, smoothing: float, n_sweeps: int = 5
) -> tuple[float, np.ndarray, np.ndarray]:
    """Baseline predictor ``mu + b_u + b_i`` of the watched cells, biases shrunk to 0.

    Alternating sweeps: each bias is the mean residual of its row or column with
    ``smoothing`` extra zero residuals, so users and movies with few ratings stay near ``mu``.
    """
    watched = _mask("watched", watched)
    rating = checks.finite_array("rating", rating, shape=watched.shape)
    smoothing = checks.real("smoothing", smoothing, 0.0)
    n_sweeps = checks.positive_int("n_sweeps", n_sweeps)
    if not watched.any():
        raise ValueError("watched must mark at least one rated cell, got none")
    mu = float(rating[watched].mean())
    b_u, b_i = np.zeros(rating.shape[0]), np.zeros(rating.shape[1])
    for _ in range(n_sweeps):
        resid = np.where(watched, rating - mu - b_u[:, None], 0.0)
        b_i = resid.sum(axis=0) / (watched.sum(axis=0) + smoothing)
        resid = np.where(watched, rating - mu - b_i[None, :], 0.0)
        b_u = resid.sum(axis=1) / (watched.sum(axis=1) + smoothing)
    return mu, b_u, b_i


def fit_rating_model(
    rating: np.ndarray, watched: np.ndarray, taste: np.ndarray, smoothing: float
) -> dict[str, Any]:
    """Rating model: shrunk baseline biases, then genre taste on the residual.

    Returns
    -------
    dict
        The user-model fields ``rating_mean`` (``mu``), ``user_bias``, ``item_bias``,
        ``rating_affinity`` (``beta_r`` by least squares) and ``rating_noise`` (``sigma``,
        the spread of what is left).
    """
    checks.finite_array("taste", taste, shape=np.shape(watched))
    mu, b_u, b_i = shrunk_biases(rating, watched, smoothing)
    resid = (rating - mu - b_u[:, None] - b_i[None, :])[watched]
    t = taste[watched]
    beta_r = float(t @ resid / (t @ t)) if np.any(t) else 0.0
    sigma = float(np.std(resid - beta_r * t))
    return {"rating_mean": mu, "user_bias": b_u, "item_bias": b_i,
            "rating_affinity": beta_r, "rating_noise": sigma}  # fmt: skip


# ---- input checks -----------------------------------------------------------------------------


def _nonempty_finite(name: str, values: object) -> np.ndarray:
    """``values`` as a float array with at least one element, all finite."""
    array = checks.finite_array(name, values)
    if array.size == 0:
        raise ValueError(f"{name} must hold at least one number, got an empty array")
    return array


def _labels(name: str, values: object, n: int) -> np.ndarray:
    """``n`` labels in {0, 1} (booleans allowed) as floats."""
    array = np.asarray(values)
    array = checks.finite_array(name, array.astype(np.float64) if array.dtype == bool else array,
                                shape=(n,))  # fmt: skip
    bad = (array != 0.0) & (array != 1.0)
    if bad.any():
        j = int(np.argmax(bad))
        raise ValueError(f"{name} must be 0 or 1, got {array[j].item()!r} at position {j}")
    return array


def _mask(name: str, values: object) -> np.ndarray:
    """A boolean ``(n_users, n_items)`` matrix."""
    array = np.asarray(values)
    if array.dtype != bool or array.ndim != 2:
        raise ValueError(f"{name} must be a 2-d boolean array, got dtype {array.dtype} and "
                         f"shape {array.shape}")  # fmt: skip
    return array


def _same_shape(**arrays: np.ndarray) -> None:
    """Every array has the shape of the first."""
    (first, shape), *rest = ((k, np.shape(v)) for k, v in arrays.items())
    for name, other in rest:
        if other != shape:
            raise ValueError(f"{name} must have the shape of {first} {shape}, got {other}")
