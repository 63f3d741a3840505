"""Measuring the limits of classical recommenders (notebook 02).

The talk lists six limits of classical approaches: changing data, dynamic user behaviour (taste),
static recommendations, grey sheep, scalability and cold start; and, for collaborative filtering,
sparsity and popularity bias. Each function here turns one of them into numbers:

* cold start: :func:`hold_out_users`, :func:`new_user_curve` (a new user), :func:`remove_items`
  and :func:`target_ranks_full` (a new movie);
* sparsity: :func:`density`, :func:`accuracy_by_activity`;
* popularity bias: :func:`top_items`, :func:`popularity_bias`;
* grey sheep: :func:`user_typicality`, :func:`accuracy_by_group`;
* static recommendations: :func:`list_overlap`, :func:`repeat_visits`;
* changing data and taste: :func:`genre_mix`, :func:`taste_drift`, :func:`history_timestamps`,
  :func:`stale_vs_fresh`;
* scalability: :func:`time_item_similarity` (on :func:`random_interactions`).

Figures, one per measurement: :func:`plot_new_user_curve`, :func:`plot_new_movie_ranks`,
:func:`plot_accuracy_by_activity`, :func:`plot_popularity_bias`, :func:`plot_grey_sheep`,
:func:`plot_list_overlap`, :func:`plot_taste_drift`, :func:`plot_staleness` and
:func:`plot_scalability`, on the shared :func:`plot_grouped_bars`.

Most functions take *precomputed* recommendation lists (``(n, k)`` arrays from
:func:`odsc_recsys.metrics.recommend_all`), so one pass over the test transitions serves every
measurement.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import checks
from .catalog import Catalog
from .classical import item_similarity
from .metrics import PAD, hits, recommend_all
from .plotting import axes_or_new, legend_below, model_colors
from .protocol import Recommender
from .sessions import Transitions, interaction_matrix, make_transitions

if TYPE_CHECKING:  # pyplot is imported by the functions that draw, not by importing this module
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

History = dict[int, np.ndarray]

__all__ = [
    "accuracy_by_activity",
    "accuracy_by_group",
    "density",
    "genre_mix",
    "history_timestamps",
    "hold_out_users",
    "list_overlap",
    "new_user_curve",
    "plot_accuracy_by_activity",
    "plot_grey_sheep",
    "plot_grouped_bars",
    "plot_list_overlap",
    "plot_new_movie_ranks",
    "plot_new_user_curve",
    "plot_popularity_bias",
    "plot_scalability",
    "plot_staleness",
    "plot_taste_drift",
    "popularity_bias",
    "random_interactions",
    "remove_items",
    "repeat_visits",
    "stale_vs_fresh",
    "target_ranks_full",
    "taste_drift",
    "time_item_similarity",
    "top_items",
    "user_typicality",
]


# --------------------------------------------------------------------------------------------
# Cold start
# --------------------------------------------------------------------------------------------


def hold_out_users(
    histories: History, frac: float, rng: np.random.Generator
) -> tuple[History, History]:
    """Split users into known ones (to train on) and brand-new ones (never seen in training).

    Returns
    -------
    known, new : dict
        Two disjoint dicts of histories, each in sorted user order.
    """
    checks.fraction("frac", frac)
    users = np.array(sorted(histories))
    new = set(rng.choice(users, size=max(1, round(frac * users.size)), replace=False).tolist())
    known = {int(u): histories[u] for u in users if u not in new}
    fresh = {int(u): histories[u] for u in users if u in new}
    return known, fresh


def new_user_curve(
    models: Mapping[str, Recommender],
    new_histories: History,
    n_known: Sequence[int] = (0, 1, 2, 3, 5, 10, 20),
    target_positions: Sequence[int] = (20, 21, 22),
    k: int = 10,
) -> pd.DataFrame:
    """Hit rate on a new user's next movie as a function of how many movies we know.

    For each user, each target position ``p`` and each ``n`` in ``n_known``, the model sees
    only the ``n`` movies just before ``p`` (``history[p - n : p]``) and must put
    ``history[p]`` in its top ``k`` (only the known movies are excluded). The targets stay the
    same for every ``n``, so the curve shows the value of information alone, not a change in
    how hard the targets are. Only users with more than ``max(target_positions)`` movies take
    part.

    Returns
    -------
    DataFrame
        Index ``n_known``, one column per model, values HR@k; ``attrs["n_users"]`` and
        ``attrs["n_targets"]`` say how many users and targets each value averages.
    """
    if max(n_known) > min(target_positions):
        raise ValueError(
            f"every target position must have {max(n_known)} movies before it; "
            f"got target positions from {min(target_positions)}"
        )
    last = max(target_positions)
    users = [u for u in sorted(new_histories) if len(new_histories[u]) > last]
    if not users:
        raise ValueError(f"no new user has more than {last} movies; lower target_positions")
    targets = np.array([new_histories[u][p] for u in users for p in target_positions])
    table = {}
    for name, model in models.items():
        col = []
        for n in n_known:
            known = [new_histories[u][p - n : p] for u in users for p in target_positions]
            recs = model.recommend_many(known, k)  # excludes each known history, as recommend
            col.append(float(hits(recs, targets).mean()))
        table[name] = col
    out = pd.DataFrame(table, index=pd.Index(list(n_known), name="movies known"))
    out.attrs["n_users"] = len(users)
    out.attrs["n_targets"] = len(users) * len(target_positions)
    return out


def remove_items(histories: History, items: Sequence[int]) -> History:
    """The histories with ``items`` deleted: what the models would know if the movies were new."""
    drop = np.asarray(list(items), dtype=np.int64)
    return {u: h[~np.isin(h, drop)] for u, h in sorted(histories.items())}


def target_ranks_full(
    model: Recommender, transitions: Transitions, histories: History
) -> np.ndarray:
    """Rank of each target among all the items the model could recommend (1 = top).

    The history before the target is given as input and excluded, as in
    :func:`odsc_recsys.metrics.evaluate`. Tied scores share the mid-rank, so a model that gives
    the target the same score as 300 other items (a collaborative filter facing a movie nobody
    has watched) gets the middle of those 300, not a lucky or unlucky end.
    """
    prefixes = transitions.prefixes(histories)
    all_scores = np.asarray(model.score_many(prefixes), dtype=np.float64)
    out = np.zeros(len(transitions))
    for j, hist in enumerate(prefixes):
        scores = all_scores[j].copy()
        scores[hist] = np.nan  # NaN compares false: the history neither outranks nor ties
        target = scores[transitions.targets[j]]
        higher = np.sum(scores > target)
        ties = np.sum(scores == target) - 1
        out[j] = 1 + higher + ties / 2
    return out


# --------------------------------------------------------------------------------------------
# Sparsity
# --------------------------------------------------------------------------------------------


def density(histories: History, n_items: int) -> float:
    """Share of the user x item matrix that is filled."""
    m = interaction_matrix(histories, n_items)
    return m.nnz / (m.shape[0] * m.shape[1])


def accuracy_by_activity(
    lists: Mapping[str, np.ndarray],
    transitions: Transitions,
    train_histories: History,
    bins: Sequence[float] = (0, 25, 50, 100, 200, np.inf),
) -> pd.DataFrame:
    """Hit rate grouped by how many training movies the user has.

    Parameters
    ----------
    lists : dict of name -> (n, k) array
        Recommendation lists for ``transitions``, one array per model.
    transitions : Transitions
        The transitions the lists answer.
    train_histories : dict
        The training histories; their lengths define the bins.
    bins : sequence of float
        Bin edges for the number of training movies (right-closed: ``(a, b]``).
    """
    n_train = np.array([len(train_histories[int(u)]) for u in transitions.users])
    out = _accuracy_table(lists, transitions, pd.cut(n_train, bins=list(bins)), "bin")
    out.index = [_bin_label(iv) for iv in out.index]
    out.index.name = "training movies"
    return out


def _accuracy_table(
    lists: Mapping[str, np.ndarray],
    transitions: Transitions,
    labels: np.ndarray | pd.Categorical,
    by: str,
) -> pd.DataFrame:
    """Hit rate per label of the transitions (one label each), one column per model.

    Rows in sorted label order (a categorical's own order, e.g. bins left to right), only the
    labels that occur, in an index named ``by``; columns ``users`` and ``transitions`` count
    what each row averages.
    """
    frame = pd.DataFrame({by: labels, "user": transitions.users})
    for name, recs in lists.items():
        frame[name] = hits(recs, transitions.targets)
    grouped = frame.groupby(by, observed=True, sort=True)
    out = grouped[list(lists)].mean()
    out.insert(0, "users", grouped["user"].nunique())
    out.insert(1, "transitions", grouped.size())
    return out


def _bin_label(interval: pd.Interval) -> str:
    left, right = int(interval.left) + 1, interval.right
    return f"{left}+" if np.isinf(right) else f"{left}-{int(right)}"


# --------------------------------------------------------------------------------------------
# Popularity bias
# --------------------------------------------------------------------------------------------


def top_items(popularity: np.ndarray, frac: float = 0.1) -> np.ndarray:
    """Boolean mask of the ``ceil(frac * n)`` most popular items (ties: lower index first)."""
    checks.fraction("frac", frac)
    pop = np.asarray(popularity, dtype=np.float64)
    n_top = int(np.ceil(frac * pop.size))
    mask = np.zeros(pop.size, dtype=bool)
    mask[np.argsort(-pop, kind="stable")[:n_top]] = True
    return mask


def popularity_bias(
    lists: Mapping[str, np.ndarray],
    popularity: np.ndarray,
    targets: np.ndarray | None = None,
    frac: float = 0.1,
) -> pd.DataFrame:
    """Share of recommendation slots that go to the top ``frac`` most popular items.

    A recommender with no popularity bias would give them about their share of what people
    actually watch next (the ``targets`` row, when given), not far above it.

    Returns
    -------
    DataFrame
        One row per model (plus ``"actual next movies"``), column ``"share to top items"``.
    """
    mask = top_items(popularity, frac)
    rows = {}
    for name, recs in lists.items():
        items = np.asarray(recs)[np.asarray(recs) != PAD]
        rows[name] = float(mask[items].mean()) if items.size else np.nan
    if targets is not None:
        rows["actual next movies"] = float(mask[np.asarray(targets)].mean())
    out = pd.DataFrame({"share to top items": pd.Series(rows)})
    out.index.name = "model"
    out.attrs["catalogue share"] = float(mask.mean())
    return out


# --------------------------------------------------------------------------------------------
# Grey sheep
# --------------------------------------------------------------------------------------------


def user_typicality(train_histories: History, n_items: int, n_neighbours: int = 10) -> pd.Series:
    """How much each user resembles their closest peers.

    The mean cosine similarity of a user's binary training vector to their ``n_neighbours``
    most similar *other* users. Grey sheep are the users with the lowest values: nobody is
    much like them, so "people like you" has little to say.
    """
    n_neighbours = checks.positive_int("n_neighbours", n_neighbours)
    users = sorted(train_histories)
    # The user-user cosine is the item-item one of the transposed (items x users) matrix.
    cos = item_similarity(interaction_matrix(train_histories, n_items, np.float64).T)
    np.fill_diagonal(cos, -np.inf)  # a user is not their own peer
    n = min(n_neighbours, len(users) - 1)
    top = -np.sort(-cos, axis=1)[:, :n]
    return pd.Series(top.mean(axis=1), index=pd.Index(users, name="user_id"), name="typicality")


def accuracy_by_group(
    lists: Mapping[str, np.ndarray], transitions: Transitions, groups: pd.Series
) -> pd.DataFrame:
    """Hit rate per user group (``groups`` maps user id -> label), one column per model."""
    labels = groups.reindex(transitions.users).to_numpy()
    if pd.isna(labels).any():
        missing = transitions.users[pd.isna(labels)][0]
        raise ValueError(f"user {missing} of the transitions has no group label")
    return _accuracy_table(lists, transitions, labels, "group")


# --------------------------------------------------------------------------------------------
# Static recommendations
# --------------------------------------------------------------------------------------------


def list_overlap(lists: Mapping[str, np.ndarray], transitions: Transitions) -> pd.Series:
    """Mean share of a list that is still there after the user watched one more movie.

    Compares each transition's list with the list of the same user's next transition
    (consecutive positions), i.e. before and after one piece of positive feedback.
    """
    same = (transitions.users[1:] == transitions.users[:-1]) & (
        transitions.positions[1:] == transitions.positions[:-1] + 1
    )
    idx = np.flatnonzero(same)
    if idx.size == 0:
        raise ValueError("no consecutive transitions of the same user to compare")
    out = {}
    for name, recs in lists.items():
        recs = np.asarray(recs)
        before, after = recs[idx], recs[idx + 1]
        # (pairs, k, k) comparison: lists hold no repeats, so the matches count shared items.
        match = (before[:, :, None] == after[:, None, :]) & (before[:, :, None] != PAD)
        out[name] = float(match.sum(axis=(1, 2)).mean() / recs.shape[1])
    return pd.Series(out, name="overlap after one click")


def repeat_visits(
    model: Recommender, history: Sequence[int], n_visits: int = 3, k: int = 10
) -> np.ndarray:
    """The lists a user gets on ``n_visits`` visits while ignoring every recommendation.

    The protocol gives a classical model only the history; a skipped list leaves the history
    unchanged, so there is nothing to react to. Returns an ``(n_visits, k)`` array.
    """
    history = np.asarray(history, dtype=np.int64)
    return np.stack([model.recommend(history, k, exclude=history) for _ in range(n_visits)])


# --------------------------------------------------------------------------------------------
# Changing data and changing taste
# --------------------------------------------------------------------------------------------


def _genre_shares(items: np.ndarray, genre_matrix: np.ndarray) -> np.ndarray:
    """Genre distribution of a set of watches; a movie's weight is split over its genres."""
    g = np.asarray(genre_matrix, dtype=np.float64)[items]
    g = g / np.maximum(g.sum(axis=1, keepdims=True), 1.0)
    total = g.sum()
    return g.sum(axis=0) / total if total > 0 else np.zeros(g.shape[1])


def genre_mix(
    histories: History, catalog: Catalog, frac: float = 0.5, min_len: int = 20
) -> pd.DataFrame:
    """Genre shares of users' early against late watches.

    Each history of at least ``min_len`` movies is cut at ``frac`` of its length; the early and
    late parts of all users are pooled. A movie's weight is split evenly over its genres.
    """
    checks.fraction("frac", frac)
    early, late = [], []
    for u in sorted(histories):
        h = histories[u]
        if len(h) >= min_len:
            cut = int(round(frac * len(h)))
            early.append(h[:cut])
            late.append(h[cut:])
    if not early:
        raise ValueError(f"no history has at least min_len={min_len} movies")
    out = pd.DataFrame(
        {
            "early": _genre_shares(np.concatenate(early), catalog.genre_matrix),
            "late": _genre_shares(np.concatenate(late), catalog.genre_matrix),
        },
        index=pd.Index(catalog.genre_names, name="genre"),
    )
    out["change"] = out["late"] - out["early"]
    out.attrs["n_users"] = len(early)
    return out


def taste_drift(
    histories: History,
    catalog: Catalog,
    rng: np.random.Generator,
    frac: float = 0.5,
    min_len: int = 20,
) -> pd.DataFrame:
    """Per user: how different the genre mix of the early and late parts of the history is.

    ``drift`` is the total-variation distance (half the L1 distance, in [0, 1]) between the genre
    distributions of the first ``frac`` and the rest of the history. ``shuffled`` is the same
    distance after a random reordering of that user's history: what chance alone gives with
    parts of the same sizes. Drift above the shuffled value is taste that moved.
    """
    checks.fraction("frac", frac)
    g = catalog.genre_matrix
    rows = []
    for u in sorted(histories):
        h = np.asarray(histories[u])
        if len(h) < min_len:
            continue
        cut = int(round(frac * len(h)))
        s = rng.permutation(h)
        rows.append(
            {
                "user_id": int(u),
                "movies": len(h),
                "drift": 0.5 * np.abs(_genre_shares(h[:cut], g) - _genre_shares(h[cut:], g)).sum(),
                "shuffled": 0.5
                * np.abs(_genre_shares(s[:cut], g) - _genre_shares(s[cut:], g)).sum(),
            }
        )
    if not rows:
        raise ValueError(f"no history has at least min_len={min_len} movies")
    return pd.DataFrame(rows).set_index("user_id")


def history_timestamps(ratings: pd.DataFrame, catalog: Catalog, histories: History) -> History:
    """The timestamp of each position of each history (aligned with ``histories``).

    A history is sorted by time, so its timestamps are the user's catalogue-rating times in
    ascending order (equal times were ordered at random, which does not change this list).
    """
    keep = ratings["item_id"].isin(catalog.item_ids)
    times = ratings.loc[keep].groupby("user_id")["timestamp"].apply(np.sort)
    out = {}
    for u in sorted(histories):
        t = np.asarray(times.get(u, np.zeros(0)), dtype=np.int64)
        if t.size != len(histories[u]):
            raise ValueError(
                f"user {u}: {t.size} ratings in the catalogue but a history of "
                f"{len(histories[u])}; were the histories built from these ratings?"
            )
        out[int(u)] = t
    return out


def _before(histories: History, timestamps: History, t: int) -> History:
    return {u: h[timestamps[u] < t] for u, h in sorted(histories.items())}


def _timed_transitions(
    histories: History, timestamps: History, window: int = 3
) -> tuple[Transitions, np.ndarray]:
    """Every transition of the histories, and the time its target was watched."""
    allt = make_transitions(histories, window)
    ts = np.array([timestamps[int(u)][p] for u, p in zip(allt.users, allt.positions, strict=True)])
    return allt, ts


def stale_vs_fresh(
    factory: Callable[[], Recommender],
    histories: History,
    timestamps: History,
    train_end: int,
    period_edges: Sequence[int],
    n_items: int,
    rng: np.random.Generator,
    k: int = 10,
    max_per_period: int = 1000,
    catalog: Catalog | None = None,
) -> pd.DataFrame:
    """Accuracy of a model frozen at ``train_end`` against one retrained before each period.

    The *stale* model is fitted once on every watch before ``train_end``. Each period
    ``[period_edges[j], period_edges[j + 1])`` is then evaluated on (a sample of at most
    ``max_per_period``) transitions whose target falls in it, with the user's whole earlier
    history as input; the *fresh* model is refitted on every watch before the period starts.

    Returns
    -------
    DataFrame
        One row per period: ``transitions``, ``stale HR@k``, ``fresh HR@k``.
    """
    edges = list(period_edges)
    if len(edges) < 2 or edges[0] < train_end or any(b <= a for a, b in pairwise(edges)):
        raise ValueError(
            "period_edges must be increasing, at least two, and start at or after train_end; "
            f"got {edges} with train_end={train_end}"
        )
    stale = factory().fit(_before(histories, timestamps, train_end), n_items, catalog=catalog)
    allt, target_times = _timed_transitions(histories, timestamps)
    rows = []
    for start, end in pairwise(edges):
        trans = allt.subset((target_times >= start) & (target_times < end))
        if len(trans) > max_per_period:
            trans = trans.subset(np.sort(rng.choice(len(trans), max_per_period, replace=False)))
        fresh = factory().fit(_before(histories, timestamps, start), n_items, catalog=catalog)
        row = {"start": start, "transitions": len(trans)}
        for label, model in (("stale", stale), ("fresh", fresh)):
            recs = recommend_all(model, trans, k, histories)
            row[f"{label} HR@{k}"] = (
                float(hits(recs, trans.targets).mean()) if len(trans) else np.nan
            )
        rows.append(row)
    return pd.DataFrame(rows).set_index("start")


# --------------------------------------------------------------------------------------------
# Scalability
# --------------------------------------------------------------------------------------------


def random_interactions(
    n_users: int, n_items: int, per_user: int, rng: np.random.Generator
) -> sp.csr_matrix:
    """A random binary user x item matrix with ``per_user`` items per user, Zipf-like popularity."""
    weights = 1.0 / np.arange(1, n_items + 1)
    weights /= weights.sum()
    rows, cols = [], []
    for u in range(n_users):
        items = rng.choice(n_items, size=min(per_user, n_items), replace=False, p=weights)
        rows.append(np.full(items.size, u))
        cols.append(items)
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n_users, n_items))


def time_item_similarity(
    n_items_list: Sequence[int],
    rng: np.random.Generator,
    n_users: int = 1000,
    density: float = 0.05,
    repeats: int = 3,
) -> pd.DataFrame:
    """Wall time of the full item-item cosine similarity as the catalogue grows.

    Uses :func:`odsc_recsys.classical.item_similarity` (the same code Item-kNN fits with) on
    random matrices of ``n_users`` users who each watched a ``density`` share of the catalogue;
    reports the best of ``repeats`` runs and the memory the dense result takes (float64).
    Timings vary from run to run and machine to machine; the *shape* of the curve is the lesson.
    """
    checks.fraction("density", density)
    rows = []
    for n in n_items_list:
        x = random_interactions(n_users, int(n), max(1, round(density * n)), rng)
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            item_similarity(x)
            best = min(best, time.perf_counter() - t0)
        rows.append({"items": int(n), "seconds": best, "similarity MB": n * n * 8 / 1e6})
    return pd.DataFrame(rows).set_index("items")


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def plot_grouped_bars(
    table: pd.DataFrame,
    ax: Axes | None = None,
    title: str = "",
    ylabel: str = "",
    reference: float | None = None,
    reference_label: str = "",
    legend: bool = True,
) -> Axes:
    """Grouped bars: one group per row of ``table``, one bar per column.

    ``reference`` draws a dashed horizontal line (e.g. the catalogue share of the top items).
    With ``legend=False`` the caller draws one legend for several panels (see
    :func:`plot_accuracy_by_activity`).
    """
    ax = axes_or_new(ax, (8, 4))
    n_rows, n_cols = table.shape
    width = 0.8 / n_cols
    x = np.arange(n_rows)
    colors = model_colors(table.columns, beyond_ten="tab10")
    for j, col in enumerate(table.columns):
        ax.bar(x + (j - (n_cols - 1) / 2) * width, table[col].to_numpy(dtype=float), width,
               label=str(col), color=colors[col])  # fmt: skip
    if reference is not None:
        ax.axhline(reference, color="k", ls="--", lw=1, label=reference_label or None)
    ax.set_xticks(x, [str(i) for i in table.index])
    ax.set(title=title, ylabel=ylabel)
    top = np.nanmax(np.r_[table.to_numpy(dtype=float).ravel(), reference or 0.0])
    if legend:
        # Headroom above the tallest bar keeps the legend off the bars.
        ax.set_ylim(0, 1.45 * top if top > 0 else 1.0)
        ax.legend(ncols=min(n_cols, 3), loc="upper center")
    else:
        ax.set_ylim(0, 1.1 * top if top > 0 else 1.0)
    return ax


def _legend_below(fig: Figure, ax: Axes) -> None:
    """One legend for the whole figure (``ax``'s entries, up to six a row), centred under the
    panels, which are laid out above it."""
    handles, _ = ax.get_legend_handles_labels()
    legend_below(fig, handles, ncols=min(len(handles), 6), bottom=0.08)


def _slant_xticklabels(ax: Axes, rotation: float = 30) -> None:
    """Slanted x tick labels, each ending under its tick."""
    ax.tick_params(axis="x", rotation=rotation)
    from matplotlib.artist import setp

    setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")


def plot_new_user_curve(curve: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """HR@10 against the number of movies known about a new user, one line per model.

    ``curve`` is the table of :func:`new_user_curve` (index: movies known).
    """
    ax = axes_or_new(ax, (9, 4.5))
    for name, color in model_colors(curve.columns, beyond_ten="tab10").items():
        ax.plot(curve.index, curve[name], "o-", label=name, color=color)
    ax.set(xlabel="movies known about the new user", ylabel="HR@10 on their next movie",
           title="Cold start: a new user")  # fmt: skip
    ax.set_xticks(curve.index)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return ax


def plot_new_movie_ranks(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Horizontal bars of each model's median rank for a brand-new movie (lower is better)."""
    ax = axes_or_new(ax, (8, 3.8))
    ax.barh(table.index, table["median rank"], color="#4c72b0")
    ax.invert_yaxis()
    ax.set(xlabel="median rank of the new movie (lower is better)",
           title="Cold start: a new movie")  # fmt: skip
    return ax


def plot_accuracy_by_activity(activity: pd.DataFrame, models: Sequence[str]) -> Figure:
    """Two panels: HR@10 per activity bin, and the same divided by popularity's HR@10.

    ``activity`` is the table of :func:`accuracy_by_activity`; ``models`` its model columns,
    among them ``"Popularity"`` (the reference of the right panel).
    """
    models = list(models)
    if "Popularity" not in models:
        raise ValueError(f"the lift is relative to 'Popularity', which is not among {models}")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    lift = activity[models].div(activity["Popularity"], axis=0)
    plot_grouped_bars(activity[models], ax=axes[0], title="HR@10 by training movies per user",
                      ylabel="HR@10", legend=False)  # fmt: skip
    plot_grouped_bars(lift, ax=axes[1], title="... divided by popularity's HR@10",
                      ylabel="lift over popularity", reference=1.0, legend=False)  # fmt: skip
    for ax in axes:
        ax.set_xlabel("movies in the user's training history")
    _legend_below(fig, axes[0])
    return fig


def plot_popularity_bias(bias: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bars of the share of slots going to the top items, per model and for the real next movies.

    ``bias`` is the table of :func:`popularity_bias`; the dashed line is the top items' share
    of the catalogue (``bias.attrs["catalogue share"]``).
    """
    ax = axes_or_new(ax, (9, 4.5))
    colors = ["#c44e52" if name == "actual next movies" else "#4c72b0" for name in bias.index]
    ax.bar(bias.index, bias["share to top items"], color=colors)
    share = bias.attrs["catalogue share"]
    ax.axhline(share, color="k", ls="--", lw=1, label="their share of the catalogue")
    ax.set(ylabel="share of recommendation slots", ylim=(0, 1.15),
           title=f"Slots going to the top {share:.0%} most popular movies")  # fmt: skip
    _slant_xticklabels(ax)
    ax.legend(loc="upper right")
    return ax


def plot_grey_sheep(
    typicality: pd.Series, grey_cut: float, by_quintile: pd.DataFrame, models: Sequence[str]
) -> Figure:
    """Two panels: the histogram of typicality with the grey-sheep cut, and HR@10 by quintile.

    ``typicality`` comes from :func:`user_typicality`, ``by_quintile`` from
    :func:`accuracy_by_group` on typicality quintiles; ``models`` are its model columns.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    axes[0].hist(typicality, bins=40, color="#8172b2")
    axes[0].axvline(grey_cut, color="k", ls="--", lw=1, label="grey-sheep cut")
    axes[0].set(xlabel="typicality (mean cosine to the closest users)", ylabel="users",
                title="How much users resemble their closest peers")  # fmt: skip
    axes[0].legend(loc="upper right")
    plot_grouped_bars(by_quintile[list(models)], ax=axes[1], title="HR@10 by typicality quintile",
                      ylabel="HR@10", legend=False)  # fmt: skip
    axes[1].set_xticks(
        axes[1].get_xticks(), [str(q).replace(" (", "\n(") for q in by_quintile.index]
    )
    axes[1].set_xlabel("typicality quintile")
    _legend_below(fig, axes[1])
    return fig


def plot_list_overlap(overlap: pd.Series, ax: Axes | None = None) -> Axes:
    """Share of each model's list unchanged after one more watched movie, and after a skip (1)."""
    ax = axes_or_new(ax, (9, 4.5))
    ax.bar(overlap.index, overlap.to_numpy(), color="#55a868",
           label="after the user watched one more movie")  # fmt: skip
    ax.axhline(1.0, color="k", ls="--", lw=1, label="after the user skipped the whole list")
    ax.set(ylabel="share of the list unchanged", ylim=(0, 1.4),
           title="How much a list changes after feedback")  # fmt: skip
    _slant_xticklabels(ax)
    ax.legend(loc="upper center", ncols=1)
    return ax


def plot_taste_drift(mix: pd.DataFrame, drift: pd.DataFrame) -> Figure:
    """Two panels: pooled genre shares early against late, and per-user drift against chance.

    ``mix`` is the table of :func:`genre_mix`, ``drift`` that of :func:`taste_drift`.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    plot_grouped_bars(mix[["early", "late"]], ax=axes[0], ylabel="share of watches",
                      title="Genre mix: first half vs second half", legend=False)  # fmt: skip
    axes[0].legend(["first half", "second half"], loc="upper right")
    _slant_xticklabels(axes[0], 60)
    bins = np.linspace(0, max(0.8, float(drift[["drift", "shuffled"]].max().max())), 33)
    axes[1].hist(drift["shuffled"], bins=bins, alpha=0.6, label="shuffled order (chance)")
    axes[1].hist(drift["drift"], bins=bins, alpha=0.6, label="real order")
    axes[1].set(xlabel="genre drift per user (total variation)", ylabel="users",
                title="Taste drift beyond chance")  # fmt: skip
    axes[1].legend(loc="upper right")
    fig.tight_layout()
    return fig


def plot_staleness(staleness: pd.DataFrame, frozen_on: str, ax: Axes | None = None) -> Axes:
    """HR@10 per period of each model retrained monthly (solid) and frozen (dashed).

    ``staleness`` has one column pair per model, ``(model, "fresh HR@10")`` and
    ``(model, "stale HR@10")``, as :func:`stale_vs_fresh` tables concatenated by model.
    """
    ax = axes_or_new(ax, (9, 4.8))
    names = list(dict.fromkeys(staleness.columns.get_level_values(0)))
    for name, color in model_colors(names, beyond_ten="tab10").items():
        ax.plot(staleness.index, staleness[(name, "fresh HR@10")], "o-", color=color,
                label=f"{name}, retrained monthly")  # fmt: skip
        ax.plot(staleness.index, staleness[(name, "stale HR@10")], "o--", color=color,
                label=f"{name}, frozen on {frozen_on}")  # fmt: skip
    ax.set(ylabel="HR@10", title="Changing data: frozen vs retrained")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return ax


def plot_scalability(timings: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Log-log plot of similarity time against catalogue size, with the fitted power law."""
    ax = axes_or_new(ax, (7, 4.5))
    n = timings.index.to_numpy(dtype=float)
    t = timings["seconds"].to_numpy(dtype=float)
    slope, intercept = np.polyfit(np.log(n), np.log(t), 1)
    ax.loglog(n, t, "o-", label="measured")
    ax.loglog(n, np.exp(intercept) * n**slope, "--", label=f"fit: time ~ n^{slope:.1f}")
    ax.set(xlabel="items in the catalogue", ylabel="seconds", title="Item-item similarity cost")
    ax.legend()
    return ax
