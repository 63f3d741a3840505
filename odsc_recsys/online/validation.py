"""Is the simulator plausible? Simulated logs set beside MovieLens, and the user split.

:func:`split_users` decides which MovieLens users meet the recommenders online and whose
logs train the static models; :func:`compare_with_movielens` sets logs of
:func:`~odsc_recsys.online.simulate_log` beside the data they imitate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .. import checks
from ..simulator import HISTORY_LENGTH, UserModel

__all__ = ["SimulatorCheck", "compare_with_movielens", "genre_repeat_rate", "split_users"]


def genre_repeat_rate(sequences: Iterable[np.ndarray], genre: np.ndarray) -> float:
    """Share of consecutive watches (``m_t, m_{t+1}``) that share a primary genre.

    Raises
    ------
    ValueError
        If ``genre`` is not a 1-d array of integer genre codes, a sequence holds a movie
        outside ``[0, len(genre))`` (a negative one would wrap to the end), or no sequence
        has two movies.
    """
    genre = np.asarray(genre)
    if genre.ndim != 1 or genre.size == 0 or not np.issubdtype(genre.dtype, np.integer):
        raise ValueError(f"genre must be a non-empty 1-d array of integer genre codes, one "
                         f"per movie, got {checks.short_repr(genre)}")  # fmt: skip
    if isinstance(sequences, str | bytes) or not isinstance(sequences, Iterable):
        raise ValueError(f"sequences must be an iterable of arrays of movie indices, got "
                         f"{checks.short_repr(sequences)}")  # fmt: skip
    same = total = 0
    for j, seq in enumerate(sequences):
        g = genre[checks.indices(f"sequence {j}", seq, genre.size)]
        same += int(np.count_nonzero(g[1:] == g[:-1]))
        total += max(len(g) - 1, 0)
    if total == 0:
        raise ValueError("genre_repeat_rate needs at least one sequence of two or more movies")
    return same / total


def split_users(
    user_ids: Sequence[int] | np.ndarray, n_simulated: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split users into ``n_simulated`` who meet the recommenders online and the rest, whose
    logs train the static models: ``(simulated, logged)``, each sorted.

    The draw depends only on ``seed``, so two notebooks that call this agree on who is who.
    Both groups must be non-empty: ``1 <= n_simulated <= len(user_ids) - 1``.

    Raises
    ------
    ValueError
        If ``user_ids`` are not at least two distinct integers (a repeated id could land in
        both groups), or ``n_simulated`` or ``seed`` is out of range or not an integer.
    """
    ids = np.asarray(user_ids)
    if ids.ndim != 1 or not (ids.size == 0 or np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(f"user_ids must be a 1-d sequence of integer user ids, got "
                         f"{checks.short_repr(user_ids)}")  # fmt: skip
    if ids.size < 2:
        raise ValueError(f"user_ids must hold at least two users (one simulated, one logged), "
                         f"got {checks.short_repr(user_ids)}")  # fmt: skip
    seen, first = np.unique(ids, return_index=True)
    if seen.size != ids.size:
        repeat = ids[np.setdiff1d(np.arange(ids.size), first)[0]]
        raise ValueError(f"user_ids must be distinct, got {repeat.item()!r} twice")
    ids = ids.astype(np.int64, copy=False)
    n_simulated = checks.integer("n_simulated", n_simulated, 1, ids.size - 1)
    seed = checks.count("seed", seed)
    users = np.random.default_rng([seed, 8]).permutation(ids)
    return np.sort(users[:n_simulated]), np.sort(users[n_simulated:])


@dataclass(frozen=True)
class SimulatorCheck:
    """Simulated logs set beside MovieLens (:func:`compare_with_movielens`).

    Attributes
    ----------
    table : DataFrame
        One row per source (``"MovieLens"``, then each log): ``watches``, ``genre repeat
        rate``, ``mean rating``, ``1-star share``, ``CTR``, ``genre share distance (TV)`` and
        ``Spearman(clicks, MovieLens ratings)`` (NaN where they do not apply).
    genre_shares : dict source -> array (n_primary_genres,)
        Share of watches per primary genre.
    genre_names : list of str
    movielens_counts : array (n_items,)
        Ratings per movie in MovieLens.
    mean_attraction : array (n_items,)
        Each movie's attraction averaged over the simulated users.
    attraction_spearman : float
        Spearman correlation of ``mean_attraction`` with ``movielens_counts``.
    rating_shares : dict source -> array (5,)
        Share of ratings with 1..5 stars.
    """

    table: pd.DataFrame
    genre_shares: dict[str, np.ndarray]
    genre_names: list[str]
    movielens_counts: np.ndarray
    mean_attraction: np.ndarray
    attraction_spearman: float
    rating_shares: dict[str, np.ndarray]


def _log_row(
    model: UserModel,
    label: str,
    log: pd.DataFrame,
    movielens_shares: np.ndarray,
    counts: np.ndarray,
) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """The table row of one simulated log, its genre shares and its star shares.

    ``movielens_shares`` are the MovieLens genre shares (the distance is taken to them) and
    ``counts`` the MovieLens ratings per movie.
    """
    genre, n_genres = model.primary_genre, len(model.primary_names)
    clicks = log[log["clicked"] >= 0]
    if clicks.empty:
        raise ValueError(f"the log {label!r} holds no click")
    watched = clicks["clicked"].to_numpy(dtype=np.int64)
    genre_share = np.bincount(genre[watched], minlength=n_genres) / watched.size
    star_share = np.bincount(clicks["rating"], minlength=6)[1:6] / len(clicks)
    # A simulated session counts from the user's opening movies, as the session began there
    # (the environment opens with up to HISTORY_LENGTH of them).
    sequences = [
        np.concatenate([model.histories[model.user_index(int(u))][:HISTORY_LENGTH], g["clicked"]])
        for (_, u), g in clicks.groupby(["session", "user_id"], sort=True)
    ]
    row = {
        "watches": watched.size,
        "genre repeat rate": genre_repeat_rate(sequences, genre),
        "mean rating": float(clicks["rating"].mean()),
        "1-star share": float((clicks["rating"] == 1).mean()),
        "CTR": len(clicks) / len(log),
        "genre share distance (TV)": 0.5 * float(np.abs(genre_share - movielens_shares).sum()),
        "Spearman(clicks, MovieLens ratings)": float(
            stats.spearmanr(np.bincount(watched, minlength=model.n_items), counts).statistic
        ),
    }
    return row, genre_share, star_share


def _check_log(model: UserModel, label: object, log: object) -> None:
    """A step log of ``model``'s users: clicks in ``[-1, n_items)``, ratings 1..5 on clicks."""
    if not isinstance(label, str) or not label.strip() or label == "MovieLens":
        raise ValueError(f"a log label must be a non-empty string other than 'MovieLens' (the "
                         f"data's own row), got {label!r}")  # fmt: skip
    columns = ("session", "user_id", "clicked", "rating")
    if not isinstance(log, pd.DataFrame) or not set(columns) <= set(log.columns):
        raise ValueError(f"logs[{label!r}] must be a DataFrame with the columns "
                         f"{list(columns)} (from simulate_log), got {checks.short_repr(log)}")  # fmt: skip
    clicked = log["clicked"].to_numpy()
    if clicked.size and not np.issubdtype(clicked.dtype, np.integer):
        raise ValueError(f"logs[{label!r}]['clicked'] must be integers in [-1, "
                         f"{model.n_items - 1}], got dtype {clicked.dtype}")  # fmt: skip
    bad = (clicked < -1) | (clicked >= model.n_items)
    if bad.any():
        raise ValueError(f"logs[{label!r}]['clicked'] must be integers in [-1, "
                         f"{model.n_items - 1}], got {clicked[bad][0].item()!r}")  # fmt: skip
    stars = log.loc[clicked >= 0, "rating"].to_numpy()
    if stars.size and not (np.issubdtype(stars.dtype, np.integer) and stars.min() >= 1
                           and stars.max() <= 5):  # fmt: skip
        raise ValueError(f"logs[{label!r}]['rating'] of a click must be whole stars 1..5, got "
                         f"{checks.short_repr(sorted(set(stars.tolist())))}")  # fmt: skip


def _check_stars(ratings: object) -> None:
    """MovieLens ratings: a DataFrame whose ``rating`` column holds whole stars 1..5."""
    if not isinstance(ratings, pd.DataFrame) or not {"item_id", "rating"} <= set(ratings.columns):
        raise ValueError(f"ratings must be a DataFrame with the columns item_id and rating, got "
                         f"{type(ratings).__name__}")  # fmt: skip
    stars = checks.finite_array("ratings['rating']", ratings["rating"].to_numpy())
    bad = (stars < 1) | (stars > 5) | (stars != np.round(stars))
    if bad.any():
        raise ValueError(f"ratings['rating'] must be whole stars 1..5, got "
                         f"{stars[bad][0].item()!r}")  # fmt: skip


def compare_with_movielens(
    model: UserModel, logs: Mapping[str, pd.DataFrame], ratings: pd.DataFrame
) -> SimulatorCheck:
    """Set simulated logs (from :func:`simulate_log`) beside MovieLens.

    What is compared: the primary-genre mix of watches (total-variation distance to
    MovieLens's, i.e. the share of watches that would have to change genre), how often two
    consecutive watches share a primary genre (a simulated session counts from the user's
    opening movies), the ratings, and which movies get watched (Spearman correlation of
    click counts with MovieLens rating counts).

    Parameters
    ----------
    model : UserModel
        The simulated population (its histories are the MovieLens side).
    logs : mapping label -> DataFrame
        Step logs with ``session, user_id, clicked, rating`` columns.
    ratings : DataFrame
        MovieLens ratings (``item_id``, ``rating``); those of the model's catalogue count.

    Raises
    ------
    ValueError
        If ``model`` is not a :class:`UserModel`, ``logs`` is empty, names a log
        ``"MovieLens"`` (it would replace the data's row) or holds a log that is not a step
        log of this model, or ``ratings`` are not whole stars 1..5.
    """
    if not isinstance(model, UserModel):
        raise ValueError(f"model must be a UserModel, got {type(model).__name__}")
    if not isinstance(logs, Mapping) or not logs:
        raise ValueError(f"logs must be a non-empty mapping label -> step log (from "
                         f"simulate_log), got {checks.short_repr(logs)}")  # fmt: skip
    for label, log in logs.items():
        _check_log(model, label, log)
    _check_stars(ratings)
    genre, names, n_items = model.primary_genre, list(model.primary_names), model.n_items
    real = np.concatenate(model.histories)
    stars = ratings.loc[ratings["item_id"].isin(model.catalog.item_ids), "rating"].to_numpy()
    if real.size == 0 or stars.size == 0:
        raise ValueError("compare_with_movielens needs MovieLens watches and ratings")
    counts = np.bincount(real, minlength=n_items)
    shares = {"MovieLens": np.bincount(genre[real], minlength=len(names)) / real.size}
    star_share = {"MovieLens": np.bincount(stars.astype(np.int64), minlength=6)[1:] / stars.size}
    rows = {
        "MovieLens": {
            "watches": real.size,
            "genre repeat rate": genre_repeat_rate(model.histories, genre),
            "mean rating": float(stars.mean()),
            "1-star share": float((stars == 1).mean()),
        }
    }
    for label, log in logs.items():
        rows[label], shares[label], star_share[label] = _log_row(
            model, label, log, shares["MovieLens"], counts
        )
    appeal = model.attractiveness().mean(axis=0)
    return SimulatorCheck(
        table=pd.DataFrame(rows).T,
        genre_shares=shares,
        genre_names=names,
        movielens_counts=counts,
        mean_attraction=appeal,
        attraction_spearman=float(stats.spearmanr(appeal, counts).statistic),
        rating_shares=star_share,
    )
