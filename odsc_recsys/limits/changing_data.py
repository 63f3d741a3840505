"""Changing data: when each watch happened (:func:`history_timestamps`) and how a model frozen
in time falls behind one retrained before each period (:func:`stale_vs_fresh`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from .. import checks
from ..catalog import Catalog
from ..metrics import hits, recommend_all
from ..plot_checks import checked_frame
from ..protocol import Recommender
from ..sessions import Transitions, make_transitions
from .inputs import History, check_catalog, check_histories

__all__ = ["history_timestamps", "stale_vs_fresh"]


def history_timestamps(ratings: pd.DataFrame, catalog: Catalog, histories: History) -> History:
    """The timestamp of each position of each history (aligned with ``histories``).

    A history is sorted by time, so its timestamps are the user's catalogue-rating times in
    ascending order (equal times were ordered at random, which does not change this list).
    """
    checked_frame("ratings", ratings, ["user_id", "item_id", "timestamp"])
    check_histories("histories", histories, check_catalog(catalog).n_items)
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
    if not callable(factory):
        raise ValueError(
            f"factory must build an unfitted recommender, got {checks.short_repr(factory)}"
        )
    n_items = checks.positive_int("n_items", n_items)
    check_histories("histories", histories, n_items)
    if not isinstance(timestamps, Mapping):
        raise ValueError(f"timestamps must be a dict of user id -> times, got "
                         f"{checks.short_repr(timestamps)}")  # fmt: skip
    for user, history in histories.items():
        if user not in timestamps:
            raise ValueError(f"timestamps must hold every user of the histories, got none "
                             f"for user {user!r}")  # fmt: skip
        checks.finite_array(f"timestamps[{user!r}]", timestamps[user], shape=(len(history),))
    train_end = checks.integer("train_end", train_end)
    if isinstance(period_edges, str | bytes) or not isinstance(period_edges, Iterable):
        raise ValueError(f"period_edges must be a sequence of times, got {period_edges!r}")
    period_edges = [checks.integer("period_edges", edge) for edge in period_edges]
    checks.generator("rng", rng)
    k = checks.positive_int("k", k)
    max_per_period = checks.positive_int("max_per_period", max_per_period)
    if catalog is not None:
        check_catalog(catalog)
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
