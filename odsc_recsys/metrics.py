"""Ranking and beyond-accuracy metrics, and the one :func:`evaluate` every model goes through.

The task is next-item prediction: for each transition there is exactly one relevant movie, the
one the user watched next. With one relevant item:

* hit rate@k = recall@k = 1 if the target is in the top k, else 0;
* precision@k = hit / k;
* NDCG@k = 1 / log2(rank + 1) if the target is at 1-based ``rank <= k`` (the ideal DCG is 1);
* reciprocal rank = 1 / rank if the target is in the list, else 0 (MRR over the top k).

Beyond accuracy:

* coverage: the share of the catalogue that appears in at least one list;
* novelty: mean self-information ``-log2(p_i)`` of recommended items, where ``p_i`` is the share
  of users who rated item ``i`` (popular items carry little information);
* diversity: mean pairwise genre dissimilarity (1 - Jaccard) within a list.

Lists are ``(n, k)`` integer arrays padded with ``-1`` when a model returns fewer than k items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from . import checks
from .catalog import Catalog
from .protocol import Recommender
from .sessions import Transitions

PAD = -1


def _check(recs: np.ndarray, targets: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    recs = np.atleast_2d(np.asarray(recs))
    targets = np.asarray(targets).ravel()
    if recs.shape[0] != targets.shape[0]:
        raise ValueError(f"{recs.shape[0]} lists but {targets.shape[0]} targets")
    k = checks.positive_int("k", k)
    return recs[:, :k], targets


def target_ranks(recs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1-based rank of each target in its list, or 0 where it is absent."""
    recs = np.atleast_2d(np.asarray(recs))
    targets = np.asarray(targets).ravel()
    match = recs == targets[:, None]
    found = match.any(axis=1)
    return np.where(found, match.argmax(axis=1) + 1, 0)


def hits(recs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1.0 for each list that holds its target, else 0.0 (the per-transition hit)."""
    return (target_ranks(recs, targets) > 0).astype(np.float64)


def hit_rate_at_k(recs: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Share of lists whose top ``k`` hold the target."""
    recs, targets = _check(recs, targets, k)
    return float(hits(recs, targets).mean()) if len(targets) else 0.0


def recall_at_k(recs: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Recall@k; with a single relevant item it equals the hit rate."""
    return hit_rate_at_k(recs, targets, k)


def precision_at_k(recs: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Precision@k: relevant items in the top ``k`` divided by ``k``."""
    return hit_rate_at_k(recs, targets, k) / k


def ndcg_at_k(recs: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Mean NDCG@k with one relevant item per list (binary relevance)."""
    recs, targets = _check(recs, targets, k)
    if not len(targets):
        return 0.0
    ranks = target_ranks(recs, targets)
    gains = np.zeros(len(ranks))
    hit = ranks > 0
    gains[hit] = 1.0 / np.log2(ranks[hit] + 1)
    return float(gains.mean())


def mrr(recs: np.ndarray, targets: np.ndarray, k: int | None = None) -> float:
    """Mean reciprocal rank of the target within the lists (0 when absent)."""
    recs = np.atleast_2d(np.asarray(recs))
    if k is not None:
        recs, targets = _check(recs, targets, k)
    ranks = target_ranks(recs, targets)
    if not len(ranks):
        return 0.0
    rr = np.zeros(len(ranks))
    rr[ranks > 0] = 1.0 / ranks[ranks > 0]
    return float(rr.mean())


def coverage(recs: np.ndarray, n_items: int) -> float:
    """Share of the ``n_items`` catalogue recommended at least once."""
    recs = np.asarray(recs)
    items = np.unique(recs[recs != PAD])
    return float(len(items) / n_items)


def novelty(recs: np.ndarray, item_share: np.ndarray) -> float:
    """Mean ``-log2(share)`` of recommended items; ``item_share[i]`` in (0, 1].

    Items nobody rated get the share of one user, so the value stays finite.
    """
    recs = np.asarray(recs)
    items = recs[recs != PAD]
    if not items.size:
        return 0.0
    share = np.asarray(item_share, dtype=np.float64)
    floor = share[share > 0].min() if (share > 0).any() else 1.0
    return float(np.mean(-np.log2(np.maximum(share[items], floor))))


def intra_list_diversity(recs: np.ndarray, genre_matrix: np.ndarray) -> float:
    """Mean over lists of the mean pairwise genre distance ``1 - Jaccard`` between items.

    Padding (``-1``) is ignored; a list with fewer than two items has no pair and is skipped.
    Two items without any genre count as identical (distance 0).
    """
    recs = np.atleast_2d(np.asarray(recs))
    g = np.asarray(genre_matrix, dtype=np.float64)
    valid = recs != PAD
    feats = g[np.where(valid, recs, 0)] * valid[:, :, None]  # (n, k, genres), padding zeroed
    inter = np.einsum("nig,njg->nij", feats, feats)
    sizes = feats.sum(axis=2)
    union = sizes[:, :, None] + sizes[:, None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        distance = np.where(union > 0, 1.0 - inter / np.where(union > 0, union, 1.0), 0.0)
    pair = valid[:, :, None] & valid[:, None, :]
    pair &= np.triu(np.ones((recs.shape[1],) * 2, dtype=bool), 1)[None]
    n_pairs = pair.sum(axis=(1, 2))
    keep = n_pairs > 0
    if not keep.any():
        return 0.0
    per_list = (distance * pair).sum(axis=(1, 2))[keep] / n_pairs[keep]
    return float(per_list.mean())


def recommend_all(
    model: Recommender,
    transitions: Transitions,
    k: int = 10,
    histories: dict[int, np.ndarray] | None = None,
) -> np.ndarray:
    """Ask the model for every transition's list and stack them (padded with -1).

    The history given to the model is the user's whole history before the target when
    ``histories`` is given, otherwise the transition's state; it is also excluded from the
    list (MovieLens users rate a movie once, so the target is never among them). The lists
    come from ``model.recommend_many``: ranked from ``score_many`` in blocks, or ``recommend``
    in a loop for a model that ranks otherwise (see
    :meth:`odsc_recsys.protocol.Recommender.recommend_many`).
    """
    prefixes = (
        transitions.prefixes(histories) if histories is not None else list(transitions.states)
    )
    return model.recommend_many(prefixes, k)


def evaluate(
    model: Recommender,
    transitions: Transitions,
    k: int = 10,
    catalog: Catalog | None = None,
    histories: dict[int, np.ndarray] | None = None,
    name: str | None = None,
    item_share: np.ndarray | None = None,
) -> pd.DataFrame:
    """Evaluate a model on transitions and return one tidy row.

    Parameters
    ----------
    model : Recommender
        Anything with ``recommend(history, k, exclude)``.
    transitions : Transitions
        What to predict (usually ``split.test`` or ``split.val``).
    k : int
        List length.
    catalog : Catalog, optional
        Needed for coverage, novelty and diversity (they are NaN without it).
    histories : dict, optional
        Full user histories; when given, models see each user's whole prefix (CF needs it),
        otherwise only the 3-movie state.
    name : str, optional
        Row label; defaults to ``model.name``.
    item_share : array, optional
        Share of users who rated each item, for novelty; defaults to the catalogue's
        popularity divided by the number of users in ``histories`` (or the maximum count).
    """
    recs = recommend_all(model, transitions, k, histories)
    return metrics_row(recs, transitions.targets, k, catalog, histories, name or model.name,
                       item_share)  # fmt: skip


def metrics_row(
    recs: np.ndarray,
    targets: np.ndarray,
    k: int,
    catalog: Catalog | None = None,
    histories: dict[int, np.ndarray] | None = None,
    name: str = "model",
    item_share: np.ndarray | None = None,
) -> pd.DataFrame:
    """The metrics of precomputed lists, as one row (see :func:`evaluate`)."""
    row = {
        f"HR@{k}": hit_rate_at_k(recs, targets, k),
        f"Precision@{k}": precision_at_k(recs, targets, k),
        f"NDCG@{k}": ndcg_at_k(recs, targets, k),
        "MRR": mrr(recs, targets, k),
        "coverage": np.nan,
        "novelty": np.nan,
        "diversity": np.nan,
        "n": len(targets),
    }
    if catalog is not None:
        if item_share is None:
            n_users = len(histories) if histories else max(int(catalog.popularity.max()), 1)
            item_share = catalog.popularity / n_users
        row["coverage"] = coverage(recs, catalog.n_items)
        row["novelty"] = novelty(recs, item_share)
        row["diversity"] = intra_list_diversity(recs, catalog.genre_matrix)
    return pd.DataFrame([row], index=pd.Index([name], name="model"))


def per_user_hits(recs: np.ndarray, targets: np.ndarray, users: np.ndarray) -> pd.Series:
    """Hit rate per user, the unit the bootstrap resamples."""
    return pd.Series(hits(recs, targets)).groupby(np.asarray(users)).mean()


def bootstrap_ci(
    per_user: pd.Series | np.ndarray,
    rng: np.random.Generator,
    n_boot: int = 1000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Mean and percentile bootstrap interval over users: ``(mean, low, high)``."""
    values = np.asarray(per_user, dtype=np.float64)
    if values.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    level = checks.fraction("level", level)
    idx = rng.integers(0, values.size, size=(n_boot, values.size))
    return _with_interval(values.mean(), values[idx].mean(axis=1), level)


def _with_interval(point: float, resampled: np.ndarray, level: float) -> tuple[float, float, float]:
    """``(point, low, high)``: the estimate and the central ``level`` percentile interval of
    its bootstrap replicates."""
    tail = (1 - level) / 2
    return (
        float(point),
        float(np.quantile(resampled, tail)),
        float(np.quantile(resampled, 1 - tail)),
    )


def compare_models(
    models: list[Recommender],
    transitions: Transitions,
    rng: np.random.Generator,
    k: int = 10,
    catalog: Catalog | None = None,
    histories: dict[int, np.ndarray] | None = None,
    n_boot: int = 1000,
) -> pd.DataFrame:
    """Evaluate several models on the same transitions, with a bootstrap interval on HR@k.

    The interval resamples *users* with all their transitions (:func:`bootstrap_hit_rate`),
    since transitions of one user are not independent. Columns as :func:`evaluate`, plus
    ``HR@k low`` and ``HR@k high`` (95% percentile interval).
    """
    lists = [(model.name, recommend_all(model, transitions, k, histories)) for model in models]
    return compare_lists(lists, transitions, rng, k, catalog, histories, n_boot)


def compare_lists(
    lists: Mapping[str, np.ndarray] | Sequence[tuple[str, np.ndarray]],
    transitions: Transitions,
    rng: np.random.Generator,
    k: int = 10,
    catalog: Catalog | None = None,
    histories: dict[int, np.ndarray] | None = None,
    n_boot: int = 1000,
) -> pd.DataFrame:
    """:func:`compare_models` for lists already computed (``name -> (n, k) array``), so that
    the same lists can also serve paired comparisons without asking the models again."""
    pairs = list(lists.items()) if isinstance(lists, Mapping) else list(lists)
    rows = []
    for name, recs in pairs:
        row = metrics_row(recs, transitions.targets, k, catalog, histories, name)
        _, low, high = bootstrap_hit_rate(recs, transitions.targets, transitions.users, rng,
                                          n_boot)  # fmt: skip
        row[f"HR@{k} low"], row[f"HR@{k} high"] = low, high
        rows.append(row)
    return pd.concat(rows)


def bootstrap_hit_rate(
    recs: np.ndarray,
    targets: np.ndarray,
    users: np.ndarray,
    rng: np.random.Generator,
    n_boot: int = 1000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Hit rate over transitions with a cluster bootstrap over users: ``(hr, low, high)``.

    Each resample draws users with replacement and recomputes the hit rate over all their
    transitions, so the interval reflects that a user's transitions are correlated.
    """
    return _user_bootstrap(hits(recs, targets), users, rng, n_boot, level, "bootstrap_hit_rate")


def _user_bootstrap(
    values: np.ndarray,
    users: np.ndarray,
    rng: np.random.Generator,
    n_boot: int,
    level: float,
    caller: str,
) -> tuple[float, float, float]:
    """Mean of per-transition ``values`` and its percentile interval, resampling users with
    all their transitions (a cluster bootstrap)."""
    level = checks.fraction("level", level)
    _, user_index = np.unique(np.asarray(users), return_inverse=True)
    value_sum = np.bincount(user_index, weights=values)
    count = np.bincount(user_index).astype(np.float64)
    if count.size == 0:
        raise ValueError(f"{caller} needs at least one transition")
    draw = rng.integers(0, count.size, size=(n_boot, count.size))
    rates = value_sum[draw].sum(axis=1) / count[draw].sum(axis=1)
    return _with_interval(values.mean(), rates, level)


def paired_hit_rate_difference(
    recs_a: np.ndarray,
    recs_b: np.ndarray,
    targets: np.ndarray,
    users: np.ndarray,
    rng: np.random.Generator,
    n_boot: int = 1000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """HR(a) - HR(b) on the same transitions, with a paired cluster bootstrap over users.

    Both models are resampled with the *same* users, so what they share (easy and hard users)
    cancels and the interval is narrower than two separate intervals suggest. Returns
    ``(difference, low, high)``.
    """
    if np.shape(recs_a)[0] != np.shape(recs_b)[0] or np.shape(recs_a)[0] != len(targets):
        raise ValueError(
            f"both lists and the targets must cover the same transitions, got "
            f"{np.shape(recs_a)[0]}, {np.shape(recs_b)[0]} and {len(targets)}"
        )
    diff = hits(recs_a, targets) - hits(recs_b, targets)
    return _user_bootstrap(diff, users, rng, n_boot, level, "paired_hit_rate_difference")


def overlap_at_k(recs_a: np.ndarray, recs_b: np.ndarray) -> float:
    """Mean share of movies two stacks of top-k lists have in common (1 = the same movies).

    Row ``j`` of one stack is compared with row ``j`` of the other; order within a list does
    not count. Both stacks must have the same shape.
    """
    a, b = np.asarray(recs_a), np.asarray(recs_b)
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] == 0:
        raise ValueError(f"two stacks of lists of one shape (n, k >= 1) are needed, got "
                         f"{a.shape} and {b.shape}")  # fmt: skip
    return float(np.mean([len(set(x) & set(y)) / a.shape[1] for x, y in zip(a, b, strict=True)]))
