"""When do people stop? Session exits against genre satiation and rating, in MovieLens and the
simulator.

The simulator's interest falls after a click on a movie of genres the user is already sated
with (``boredom``) and rises or falls with the rating (``rating_gain``). Both predict that a
session is more likely to *end* after such a movie. MovieLens records no sessions, but its
timestamps group each user's ratings into *rating sessions* (consecutive ratings less than
``gap`` seconds apart), so the same question can be asked of the data:

* :func:`watch_events_movielens` and :func:`watch_events_simulated` turn ratings and simulated
  step logs into one table of *watch events*: the movie, its **satiation overlap**
  ``<g~_movie, s>`` with the decayed genre satiation ``s`` of the movies before it, its rating
  and whether it was the session's **last** watch;
* :func:`exit_rates` gives the share of events that end their session per overlap bin (or per
  rating, or per position), with Wilson intervals;
* :func:`exit_slope` fits a logistic regression of ``last`` on overlap and rating (and any
  other event column, e.g. ``position``) and returns the coefficients with Wald intervals.

Caveat: a MovieLens rating is not a viewing. Users rate movies they saw long ago, in bursts on
the site; a rating session is a visit to MovieLens, not an evening of films.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .. import checks
from ..catalog import Catalog
from ..simulator import HISTORY_LENGTH, UserModel
from ..simulator.estimation import normalised_genres

__all__ = [
    "EVENT_COLUMNS",
    "exit_rates",
    "exit_slope",
    "watch_events_movielens",
    "watch_events_simulated",
    "wilson_interval",
]

#: Columns of a watch-event table (both sources).
EVENT_COLUMNS = ("user_id", "session", "position", "item", "overlap", "rating", "last")
#: What :func:`exit_rates` can group by.
EXIT_GROUPS = ("overlap", "rating", "position")


# ---- the satiation recursion, shared by both sources ---------------------------------------


def _overlaps(
    start: np.ndarray, session: np.ndarray, position: np.ndarray, genres: np.ndarray, decay: float
) -> np.ndarray:
    """``<g_r, s>`` for every row ``r`` with ``s`` the satiation before it, then
    ``s <- decay s + g_r``.

    ``start`` holds each session's opening satiation (one row per session), ``session`` and
    ``position`` say where each row falls (positions ``0 .. n - 1`` within a session) and
    ``genres`` is the row's genre vector (zeros for a step without a watch: ``s`` only fades).
    The loop runs over positions, updating every session at that position at once, so its
    length is the longest session, not the number of rows.
    """
    s = start.copy()
    out = np.zeros(len(session))
    order = np.argsort(position, kind="stable")
    bounds = np.flatnonzero(np.diff(position[order])) + 1
    for rows in np.split(order, bounds):
        if rows.size == 0:
            continue
        who = session[rows]  # distinct: one row per session and position
        out[rows] = np.einsum("ij,ij->i", genres[rows], s[who])
        s[who] = decay * s[who] + genres[rows]
    return out


def _last_of_session(session: np.ndarray) -> np.ndarray:
    """Whether each row is its session's last (rows grouped by session, in order)."""
    last = np.ones(session.size, dtype=bool)
    last[:-1] = session[1:] != session[:-1]
    return last


def _positions_within(session: np.ndarray) -> np.ndarray:
    """``0, 1, 2, ...`` within each run of equal ``session`` values (rows grouped)."""
    if session.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(session[1:] != session[:-1]) + 1]
    lengths = np.diff(np.r_[starts, session.size])
    return np.arange(session.size) - np.repeat(starts, lengths)


# ---- watch events ----------------------------------------------------------------------------


def _check_ratings(ratings: object) -> pd.DataFrame:
    """MovieLens ratings with integer ``user_id, item_id, timestamp`` and stars 1..5."""
    columns = ("user_id", "item_id", "rating", "timestamp")
    if not isinstance(ratings, pd.DataFrame) or not set(columns) <= set(ratings.columns):
        raise ValueError(f"ratings must be a DataFrame with the columns {list(columns)}, got "
                         f"{checks.short_repr(ratings)}")  # fmt: skip
    for col in ("user_id", "item_id", "timestamp"):
        if not pd.api.types.is_integer_dtype(ratings[col].dtype):
            raise ValueError(f"ratings['{col}'] must be integers, got dtype {ratings[col].dtype}")
    stars = checks.finite_array("ratings['rating']", ratings["rating"].to_numpy())
    bad = (stars < 1) | (stars > 5)
    if bad.any():
        raise ValueError(f"ratings['rating'] must be stars in [1, 5], got "
                         f"{checks.first_bad(stars, bad)}")  # fmt: skip
    return ratings


def watch_events_movielens(
    ratings: pd.DataFrame, catalog: Catalog, gap: float = 3600, satiation_decay: float = 0.7
) -> pd.DataFrame:
    """MovieLens ratings as watch events of *rating sessions*.

    Ratings of movies outside ``catalog`` are dropped **first**; sessions are then cut from
    what remains: a user's ratings in timestamp order, a new session starting wherever two
    consecutive ones are ``gap`` seconds or more apart. (So an excluded movie neither ends
    nor bridges a session; only the catalogue's movies count, as in the simulator.) Ratings
    with equal timestamps (about half of MovieLens-100K's consecutive pairs: users rate in
    batches) keep the order they have in ``ratings``; their true order is unknown, and it only
    moves satiation between movies of the same batch.

    Within a session the satiation starts at 0 and after each movie becomes
    ``s <- satiation_decay * s + g~_movie``, with ``g~`` the movie's genres normalised to sum 1
    (as in :class:`~odsc_recsys.simulator.MovieLensUserEnv`); a movie's ``overlap`` is
    ``<g~_movie, s>`` with ``s`` from the movies *before* it (0 for a session's first movie).

    Parameters
    ----------
    ratings : DataFrame
        Canonical ratings: integer ``user_id, item_id, timestamp`` (seconds) and ``rating``.
    catalog : Catalog
        The movies that count (the tutorial's top 627).
    gap : float
        Seconds without a rating that end a session (> 0).
    satiation_decay : float
        ``lambda`` in ``[0, 1]``.

    Returns
    -------
    DataFrame
        One row per rated catalogue movie, sessions numbered ``0, 1, ...`` by user then
        time: ``user_id, session, position`` (0-based within the session), ``item``
        (catalogue index), ``overlap``, ``rating`` and ``last`` (the session's last rating).

    Raises
    ------
    ValueError
        If ``ratings`` lacks a column or holds non-integer ids or timestamps or stars outside
        ``[1, 5]``, ``catalog`` is not a :class:`Catalog`, or ``gap`` or ``satiation_decay``
        is out of range.
    """
    ratings = _check_ratings(ratings)
    if not isinstance(catalog, Catalog):
        raise ValueError(f"catalog must be a Catalog, got {checks.short_repr(catalog)}")
    gap = checks.real("gap", gap, 0.0, low_open=True)
    decay = checks.real("satiation_decay", satiation_decay, 0.0, 1.0)
    kept = ratings[ratings["item_id"].isin(catalog.item_ids)]
    user = kept["user_id"].to_numpy(dtype=np.int64)
    time = kept["timestamp"].to_numpy(dtype=np.int64)
    order = np.lexsort((time, user))  # a stable sort: ties keep the data's order
    user, time = user[order], time[order]
    item = catalog.indices(kept["item_id"].to_numpy()[order])
    new = np.ones(user.size, dtype=bool)
    new[1:] = (user[1:] != user[:-1]) | (np.diff(time) >= gap)
    session = np.cumsum(new) - 1
    genres = normalised_genres(catalog.genre_matrix)[item]
    n_genres = genres.shape[1]
    overlap = _overlaps(np.zeros((int(new.sum()), n_genres)), session,
                        _positions_within(session), genres, decay)  # fmt: skip
    return pd.DataFrame(
        {
            "user_id": user,
            "session": session,
            "position": _positions_within(session),
            "item": item,
            "overlap": overlap,
            "rating": kept["rating"].to_numpy()[order],
            "last": _last_of_session(session),
        },
        columns=list(EVENT_COLUMNS),
    )


def _check_log(log: object, n_items: int) -> pd.DataFrame:
    """A step log of :func:`~odsc_recsys.online.simulate_log`: integer columns, clicks in
    ``[-1, n_items)``, one user per session."""
    columns = ("session", "user_id", "step", "clicked", "rating")
    if not isinstance(log, pd.DataFrame) or not set(columns) <= set(log.columns):
        raise ValueError(f"log must be a DataFrame with the columns {list(columns)} (from "
                         f"simulate_log), got {checks.short_repr(log)}")  # fmt: skip
    for col in columns:
        if len(log) and not pd.api.types.is_integer_dtype(log[col].dtype):
            raise ValueError(f"log['{col}'] must be integers, got dtype {log[col].dtype}")
    clicked = log["clicked"].to_numpy()
    bad = (clicked < -1) | (clicked >= n_items)
    if bad.any():
        raise ValueError(f"log['clicked'] must be integers in [-1, {n_items - 1}], got "
                         f"{checks.first_bad(clicked, bad)}")  # fmt: skip
    users = log.groupby("session")["user_id"].nunique()
    if (users > 1).any():
        raise ValueError(f"log must have one user per session, got {int(users.max())} users in "
                         f"session {users.idxmax()!r}")  # fmt: skip
    return log


def _opening_satiation(
    model: UserModel, user_ids: np.ndarray, n_start: int, decay: float
) -> np.ndarray:
    """Each user's satiation after their first ``n_start`` history movies, one row per id,
    built as :meth:`MovieLensUserEnv.reset` builds it (``s <- decay s + g~`` per movie)."""
    start = np.zeros((len(user_ids), model.genre_weights.shape[1]))
    for j, uid in enumerate(user_ids.tolist()):
        for m in model.histories[model.user_index(uid)][:n_start].tolist():
            start[j] = decay * start[j] + model.genre_weights[m]
    return start


def watch_events_simulated(
    log: pd.DataFrame,
    model: UserModel,
    satiation_decay: float = 0.7,
    n_start: int = 3,
    max_steps: int | None = None,
) -> pd.DataFrame:
    """A simulated step log as watch events, with the satiation the simulator itself used.

    The environment opens a session with satiation built from the user's first ``n_start``
    history movies (``model.histories[row][:n_start]``) as if watched, then fades it by
    ``satiation_decay`` after **every** step and adds the clicked movie's genres after a
    click. That is replayed here from the log (rows with ``clicked == -1`` only fade it), so
    ``overlap`` is exactly ``<g~_clicked, s_t>`` at the step of the click; pass the
    environment's own ``satiation_decay`` and ``n_start``.

    Parameters
    ----------
    log : DataFrame
        From :func:`~odsc_recsys.online.simulate_log`: ``session, user_id, step, clicked,
        rating`` (``clicked = -1`` without a click). Rows are put in ``(session, step)``
        order first.
    model : UserModel
        The simulated population the log came from.
    satiation_decay : float
        ``lambda`` in ``[0, 1]``.
    n_start : int
        Opening history movies, ``0 .. HISTORY_LENGTH``.
    max_steps : int, optional
        The environment's ``max_steps``. When given, a session that ran that many steps was
        cut off, not left: its final watch is dropped (the user was still there). By default
        every session's final watch counts as ``last``.

    Returns
    -------
    DataFrame
        One row per watch, with the columns of :func:`watch_events_movielens`; ``position``
        counts watches (not steps) within the session.

    Raises
    ------
    ValueError
        If ``model`` is not a :class:`UserModel`, the log is not a step log of its users, or
        an option is out of range.
    """
    if not isinstance(model, UserModel):
        raise ValueError(f"model must be a UserModel, got {type(model).__name__}")
    log = _check_log(log, model.n_items)
    decay = checks.real("satiation_decay", satiation_decay, 0.0, 1.0)
    n_start = checks.integer("n_start", n_start, 0, HISTORY_LENGTH)
    if max_steps is not None:
        max_steps = checks.positive_int("max_steps", max_steps)
    log = log.sort_values(["session", "step"], kind="stable")
    codes, first = np.unique(log["session"].to_numpy(), return_index=True)
    session = np.searchsorted(codes, log["session"].to_numpy())
    users = log["user_id"].to_numpy()[first]
    gw = model.genre_weights
    start = _opening_satiation(model, users, n_start, decay)
    clicked = log["clicked"].to_numpy(dtype=np.int64)
    watched = clicked >= 0
    genres = np.where(watched[:, None], gw[np.maximum(clicked, 0)], 0.0)
    overlap = _overlaps(start, session, _positions_within(session), genres, decay)
    w_session = session[watched]
    events = pd.DataFrame(
        {
            "user_id": log["user_id"].to_numpy(dtype=np.int64)[watched],
            "session": codes[w_session],
            "position": _positions_within(w_session),
            "item": clicked[watched],
            "overlap": overlap[watched],
            "rating": log["rating"].to_numpy()[watched],
            "last": _last_of_session(w_session),
        },
        columns=list(EVENT_COLUMNS),
    )
    if max_steps is not None:
        cut = codes[np.bincount(session, minlength=codes.size) >= max_steps]
        events = events[~(events["last"] & events["session"].isin(cut))]
    return events.reset_index(drop=True)


# ---- exit rates and the exit slope -----------------------------------------------------------


def wilson_interval(exits: Any, n: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval ``(low, high)`` of the proportions ``exits / n``.

    Unlike ``p +- z se`` it stays inside ``[0, 1]`` and is not empty at 0 or ``n`` exits.
    Where ``n`` is 0 both ends are NaN.

    Raises
    ------
    ValueError
        If the counts are not non-negative integers with ``exits <= n``, or ``level`` is not
        in ``(0, 1)``.
    """
    level = checks.fraction("level", level)
    k = checks.finite_array("exits", exits)
    n = checks.finite_array("n", n)
    if k.shape != n.shape:
        raise ValueError(f"exits and n must have one shape, got {k.shape} and {n.shape}")
    bad = (k < 0) | (k != np.round(k)) | (k > n) | (n != np.round(n))
    if bad.any():
        raise ValueError(f"exits must be whole counts in [0, n], got {checks.first_bad(k, bad)}")
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _check_events(events: object, needed: Sequence[str]) -> pd.DataFrame:
    """A watch-event table with the ``needed`` columns, finite numbers and a boolean ``last``."""
    if not isinstance(events, pd.DataFrame) or not {"last", *needed} <= set(events.columns):
        raise ValueError(f"events must be a DataFrame with the columns "
                         f"{['last', *needed]} (from watch_events_movielens or "
                         f"watch_events_simulated), got {checks.short_repr(events)}")  # fmt: skip
    if events.empty:
        raise ValueError("events must hold at least one watch event, got an empty table")
    if events["last"].dtype != bool:
        raise ValueError(f"events['last'] must be booleans, got dtype {events['last'].dtype}")
    for col in needed:
        checks.finite_array(f"events['{col}']", events[col].to_numpy())
    return events


def _bin_edges(values: np.ndarray, bins: object) -> np.ndarray:
    """Edges: ``bins`` quantile bins (repeated quantiles merged) or the given increasing edges."""
    if isinstance(bins, int | np.integer) and not isinstance(bins, bool | np.bool_):
        n = checks.positive_int("bins", bins)
        return np.unique(np.quantile(values, np.linspace(0.0, 1.0, n + 1)))
    edges = np.asarray(bins)
    if (edges.ndim != 1 or edges.size < 2 or edges.dtype.kind not in "iuf"
            or np.isnan(edges).any() or (np.diff(edges) <= 0).any()):  # fmt: skip
        raise ValueError(f"bins must be a positive integer (quantile bins) or at least two "
                         f"strictly increasing edges, got {checks.short_repr(bins)}")  # fmt: skip
    return edges.astype(np.float64)


def exit_rates(
    events: pd.DataFrame, by: str = "overlap", bins: int | Sequence[float] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:  # fmt: skip
    """Share of watch events that end their session, per bin of ``by``, with intervals.

    Parameters
    ----------
    events : DataFrame
        From :func:`watch_events_movielens` or :func:`watch_events_simulated`.
    by : {"overlap", "rating", "position"}
        ``"rating"`` gives one row per star 1..5 (a row with no event has NaN rate); the
        others are cut into ``bins``.
    bins : int or sequence of float, optional
        For ``overlap`` and ``position``: a number of quantile bins (default 4; quantiles that
        coincide, as many overlaps of 0 do, are merged, so fewer bins may come back) or fixed
        edges, to put two sources on the same bins. Bins are ``(a, b]``, the first ``[a, b]``;
        events outside the edges are not counted. Must be None for ``rating``.
    level : float
        Coverage of the Wilson intervals.

    Returns
    -------
    DataFrame
        Indexed by bin (``"[0, 0.31]"``, ``"(0.31, 0.8]"``, ... or stars 1..5): ``events``,
        ``exits``, ``exit rate``, ``low``, ``high`` and ``mean <by>``.

    Raises
    ------
    ValueError
        If ``events`` is not an event table, ``by`` is unknown, ``bins`` is given for
        ``rating`` or is not a positive integer or increasing edges, or ``level`` is not in
        ``(0, 1)``.
    """
    by = checks.one_of("by", by, EXIT_GROUPS)
    events = _check_events(events, [by])
    level = checks.fraction("level", level)
    values = events[by].to_numpy(dtype=np.float64)
    last = events["last"].to_numpy()
    if by == "rating":
        if bins is not None:
            raise ValueError(f"bins must be None for by='rating' (one row per star), got "
                             f"{checks.short_repr(bins)}")  # fmt: skip
        edges = np.arange(0.5, 6.0)  # (0.5, 1.5], ..., (4.5, 5.5]: one bin per whole star
        labels: list[Any] = [1, 2, 3, 4, 5]
    else:
        edges = _bin_edges(values, 4 if bins is None else bins)
        labels = [("[" if j == 0 else "(") + f"{a:.3g}, {b:.3g}]"
                  for j, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True))]  # fmt: skip
    if edges.size == 1:  # every value equal: one bin holding them all
        edges, labels = np.array([edges[0], edges[0]]), [f"[{edges[0]:.3g}, {edges[0]:.3g}]"]
    # (a, b] bins: a left-sided search puts v in bin j when edges[j] < v <= edges[j + 1];
    # the first bin is closed on the left too, so the first edge's own values join bin 0.
    code = np.searchsorted(edges, values, side="left") - 1
    code[values == edges[0]] = 0
    inside = (code >= 0) & (code < len(labels))
    n = np.bincount(code[inside], minlength=len(labels))
    k = np.bincount(code[inside], weights=last[inside], minlength=len(labels))
    total = np.bincount(code[inside], weights=values[inside], minlength=len(labels))
    low, high = wilson_interval(k, n, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {"events": n, "exits": k.astype(np.int64), "exit rate": k / n, "low": low,
             "high": high, f"mean {by}": total / n},
            index=pd.Index(labels, name=by),
        )  # fmt: skip


def _logistic_fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood logistic regression (Newton-Raphson): coefficients and covariance.

    Raises
    ------
    ValueError
        If the design is singular (a constant or duplicated covariate) or the fit does not
        converge (a covariate separates exits from the rest).
    """
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise ValueError("exit_slope cannot fit: a covariate is constant or a copy of another")
    beta = np.zeros(x.shape[1])
    for _ in range(100):
        eta = x @ beta
        # Under separation the likelihood keeps rising as |beta| grows: the fitted
        # probabilities run to 0 and 1 and the Hessian to singular. Stop there.
        if np.max(np.abs(eta)) > 30:
            break
        p = 1.0 / (1.0 + np.exp(-eta))
        hessian = x.T @ (x * (p * (1.0 - p))[:, None])
        try:
            step = np.linalg.solve(hessian, x.T @ (y - p))
        except np.linalg.LinAlgError:
            break
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            p = 1.0 / (1.0 + np.exp(-(x @ beta)))
            hessian = x.T @ (x * (p * (1.0 - p))[:, None])
            return beta, np.linalg.inv(hessian)
    raise ValueError(
        "exit_slope's logistic fit did not converge: a covariate separates "
        "the exits from the other events"
    )


def exit_slope(
    events: pd.DataFrame, covariates: Sequence[str] = ("overlap", "rating"), level: float = 0.95
) -> dict[str, float]:
    """How the odds of leaving change with overlap and rating: a logistic regression.

    Fits ``P(last) = sigma(b_0 + sum_c b_c x_c)`` over all events, the covariates jointly (so
    the overlap's coefficient is at a fixed rating and vice versa). ``b_c`` is the change in
    the log-odds of leaving per unit of ``x_c``: per unit of overlap (one fully sated genre
    matching the movie) or per star; ``exp(b_c)`` is the odds ratio. Intervals are Wald
    intervals, ``b +- z se`` from the inverse Fisher information. Chosen over a top-minus-
    bottom quartile difference because it uses every event, holds the other covariate fixed
    and can take more (``"position"`` separates satiation from mere session age: satiation
    grows with position, and so may the chance of stopping).

    Returns
    -------
    dict
        ``events``, ``exits``, ``exit rate``, then per covariate ``c``: ``c`` (the
        coefficient), ``c low`` and ``c high``. Flat, so that
        ``pd.DataFrame({label: exit_slope(e) for ...}).T`` is a table.

    Raises
    ------
    ValueError
        If ``events`` lacks a covariate column or holds non-finite values, ``covariates`` is
        empty or repeats one, every event or none is an exit, or the fit is singular or does
        not converge.
    """
    if isinstance(covariates, str) or not isinstance(covariates, Sequence) or not covariates:
        raise ValueError(f"covariates must be a non-empty sequence of event columns, got "
                         f"{checks.short_repr(covariates)}")  # fmt: skip
    covariates = [checks.text("covariates", c) for c in covariates]
    if len(set(covariates)) != len(covariates):
        raise ValueError(f"covariates must not repeat a column, got {covariates}")
    level = checks.fraction("level", level)
    events = _check_events(events, covariates)
    y = events["last"].to_numpy(dtype=np.float64)
    if y.min() == y.max():
        raise ValueError(f"exit_slope needs exits and non-exits, got {int(y.sum())} exits in "
                         f"{y.size} events")  # fmt: skip
    x = np.column_stack([np.ones(y.size)] + [events[c].to_numpy(dtype=np.float64)
                                             for c in covariates])  # fmt: skip
    beta, cov = _logistic_fit(x, y)
    z = stats.norm.ppf(0.5 + level / 2)
    out = {"events": float(y.size), "exits": float(y.sum()), "exit rate": float(y.mean())}
    for j, c in enumerate(covariates, start=1):
        half = z * math.sqrt(cov[j, j])
        out[c], out[f"{c} low"], out[f"{c} high"] = (
            float(beta[j]),
            float(beta[j] - half),
            float(beta[j] + half),
        )
    return out
