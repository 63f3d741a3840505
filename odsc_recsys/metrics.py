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

Every metric refuses zero lists with a ``ValueError`` ("no lists to score"): an average over
nothing is not 0, and a 0.0 would read as a real, very bad score.
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


def _lists(recs: object, name: str = "recs") -> np.ndarray:
    """``recs`` as a 2-d integer array (a 1-d array is one list) of indices >= 0 or ``-1``."""
    array = np.asarray(recs)
    array = array.reshape(0, 0) if array.ndim == 1 and array.size == 0 else np.atleast_2d(array)
    if array.ndim != 2 or (array.size and (
            array.dtype == bool or not np.issubdtype(array.dtype, np.integer))):  # fmt: skip
        raise ValueError(f"{name} must be an (n, k) array of integer item indices, -1 padding "
                         f"a short list, got {checks.short_repr(recs)}")  # fmt: skip
    if array.size and array.min() < PAD:  # -2 would index from the end of a lookup table
        raise ValueError(f"{name} must be item indices >= 0 or -1 (padding), got "
                         f"{int(array.min())}")  # fmt: skip
    return array if array.size else array.astype(np.int64)


def _targets(targets: object) -> np.ndarray:
    """``targets`` as a 1-d integer array of item indices >= 0."""
    array = np.asarray(targets).ravel()
    if array.size and (array.dtype == bool or not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"targets must be integer item indices, got {checks.short_repr(targets)}")
    if array.size and array.min() < 0:
        raise ValueError(f"targets must be item indices >= 0, got {int(array.min())}")
    return array


def _pair(recs: object, targets: object) -> tuple[np.ndarray, np.ndarray]:
    """Checked lists and targets, one target per list."""
    recs, targets = _lists(recs), _targets(targets)
    if recs.shape[0] != targets.shape[0]:
        raise ValueError(f"{recs.shape[0]} lists but {targets.shape[0]} targets")
    return recs, targets


def _scored(recs: np.ndarray, what: str = "score") -> np.ndarray:
    """``recs`` if it holds at least one list; a mean over none would be a made-up 0."""
    if recs.shape[0] == 0:
        raise ValueError(f"there are no lists to {what}: recs must hold at least one list, "
                         f"got shape {recs.shape} (no transitions?)")  # fmt: skip
    return recs


def _check(recs: np.ndarray, targets: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    recs, targets = _pair(recs, targets)
    k = checks.positive_int("k", k)
    return _scored(recs)[:, :k], targets


def target_ranks(recs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1-based rank of each target in its list, or 0 where it is absent."""
    recs, targets = _pair(recs, targets)
    match = recs == targets[:, None]
    found = match.any(axis=1)
    return np.where(found, match.argmax(axis=1) + 1, 0)


def hits(recs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1.0 for each list that holds its target, else 0.0 (the per-transition hit)."""
    return (target_ranks(recs, targets) > 0).astype(np.float64)


def hit_rate_at_k(recs: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Share of lists whose top ``k`` hold the target."""
    recs, targets = _check(recs, targets, k)
    return float(hits(recs, targets).mean())


def recall_at_k(recs: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Recall@k; with a single relevant item it equals the hit rate."""
    return hit_rate_at_k(recs, targets, k)


def precision_at_k(recs: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Precision@k: relevant items in the top ``k`` divided by ``k``."""
    return hit_rate_at_k(recs, targets, k) / checks.positive_int("k", k)


def ndcg_at_k(recs: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Mean NDCG@k with one relevant item per list (binary relevance)."""
    recs, targets = _check(recs, targets, k)
    ranks = target_ranks(recs, targets)
    gains = np.zeros(len(ranks))
    hit = ranks > 0
    gains[hit] = 1.0 / np.log2(ranks[hit] + 1)
    return float(gains.mean())


def mrr(recs: np.ndarray, targets: np.ndarray, k: int | None = None) -> float:
    """Mean reciprocal rank of the target within the lists (0 when absent)."""
    if k is not None:
        recs, targets = _check(recs, targets, k)
    else:
        recs, targets = _pair(recs, targets)
        _scored(recs)
    ranks = target_ranks(recs, targets)
    rr = np.zeros(len(ranks))
    rr[ranks > 0] = 1.0 / ranks[ranks > 0]
    return float(rr.mean())


def coverage(recs: np.ndarray, n_items: int) -> float:
    """Share of the ``n_items`` catalogue recommended at least once."""
    n_items = checks.positive_int("n_items", n_items)
    recs = _scored(_lists(recs))
    items = np.unique(recs[recs != PAD])
    if items.size and items[-1] >= n_items:
        raise ValueError(f"recs must be item indices in [0, {n_items - 1}] (or -1), got "
                         f"{int(items[-1])}")  # fmt: skip
    return float(len(items) / n_items)


def novelty(recs: np.ndarray, item_share: np.ndarray) -> float:
    """Mean ``-log2(share)`` of recommended items; ``item_share[i]`` in (0, 1].

    Items nobody rated get the share of one user, so the value stays finite.
    """
    recs = _scored(_lists(recs))
    share = checks.finite_array("item_share", item_share, ndim=1)
    if (share < 0).any():
        at = int(np.argmax(share < 0))
        raise ValueError(f"item_share must be shares >= 0, got {share[at].item()!r} at "
                         f"position {at}")  # fmt: skip
    items = recs[recs != PAD]
    if items.size and items.max() >= share.size:
        raise ValueError(f"recs must be item indices in [0, {share.size - 1}] (one share per "
                         f"item), got {int(items.max())}")  # fmt: skip
    if not items.size:
        return 0.0
    floor = share[share > 0].min() if (share > 0).any() else 1.0
    return float(np.mean(-np.log2(np.maximum(share[items], floor))))


def intra_list_diversity(recs: np.ndarray, genre_matrix: np.ndarray) -> float:
    """Mean over lists of the mean pairwise genre distance ``1 - Jaccard`` between items.

    Padding (``-1``) is ignored; a list with fewer than two items has no pair and is skipped.
    Two items without any genre count as identical (distance 0).
    """
    recs = _scored(_lists(recs))
    g = np.asarray(genre_matrix)
    g = checks.finite_array("genre_matrix", g.astype(np.float64) if g.dtype == bool else g,
                            ndim=2)  # fmt: skip
    if not np.isin(g, (0.0, 1.0)).all():
        raise ValueError(f"genre_matrix must hold 0/1 (or bool) genre flags, got "
                         f"{g[~np.isin(g, (0.0, 1.0))][0].item()!r}")  # fmt: skip
    if recs.size and recs.max() >= g.shape[0]:
        raise ValueError(f"recs must be item indices in [0, {g.shape[0] - 1}] (one genre row "
                         f"per item), got {int(recs.max())}")  # fmt: skip
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
    _check_model(model)
    _check_transitions(transitions, histories)
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
    _check_model(model)
    _check_transitions(transitions, histories)
    _check_row_args(k, catalog, histories, name, item_share)
    if len(transitions.targets) == 0:  # refused before the model is asked for anything
        raise ValueError("there are no lists to score: transitions is empty")
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
    _check_row_args(k, catalog, histories, name, item_share)
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


def _check_model(model: object) -> None:
    if not callable(getattr(model, "recommend_many", None)):
        raise ValueError(f"model must be a Recommender (with recommend_many), got "
                         f"{checks.short_repr(model)}")  # fmt: skip


def _check_transitions(
    transitions: object, histories: object = None, need: tuple[str, ...] = ("states", "targets")
) -> None:
    """``transitions`` has what the caller reads: ``Transitions`` (such as ``split.test``) or
    anything with ``.states`` and ``.targets``; with ``histories``, ``.prefixes`` too."""
    if histories is not None and not isinstance(histories, Mapping):
        raise ValueError(f"histories must be a dict user_id -> history or None, got "
                         f"{checks.short_repr(histories)}")  # fmt: skip
    if histories is not None:
        need = (*need, "prefixes")  # each user's history up to the target
    missing = [a for a in need if not hasattr(transitions, a)]
    if missing:
        wanted = ", ".join("." + a for a in need)
        raise ValueError(f"transitions must be Transitions (such as split.test) or have "
                         f"{wanted}, got {checks.short_repr(transitions)}")  # fmt: skip


def _check_row_args(
    k: object, catalog: object, histories: object, name: object, item_share: object
) -> None:
    """The arguments :func:`metrics_row` shares with :func:`evaluate`, before any work."""
    checks.positive_int("k", k)
    if catalog is not None and not isinstance(catalog, Catalog):
        raise ValueError(f"catalog must be a Catalog or None, got {checks.short_repr(catalog)}")
    if histories is not None and not isinstance(histories, Mapping):
        raise ValueError(f"histories must be a dict user_id -> history or None, got "
                         f"{checks.short_repr(histories)}")  # fmt: skip
    if name is not None:
        checks.text("name", name)
    if item_share is not None:
        if catalog is None:  # novelty needs a catalogue: the shares would be ignored
            raise ValueError("item_share needs a catalog: novelty is computed only with one")
        checks.finite_array("item_share", item_share, shape=(catalog.n_items,))


def _check_boot(rng: object, n_boot: object, level: object) -> None:
    """The bootstrap's settings, checked before the generator draws anything."""
    checks.generator("rng", rng)
    checks.positive_int("n_boot", n_boot)
    checks.fraction("level", level)


def per_user_hits(recs: np.ndarray, targets: np.ndarray, users: np.ndarray) -> pd.Series:
    """Hit rate per user, the unit the bootstrap resamples."""
    return pd.Series(hits(recs, targets)).groupby(_users(users, len(_lists(recs)))).mean()


def _users(users: object, n: int) -> np.ndarray:
    """``users`` as a 1-d array of one user id per list."""
    array = np.asarray(users)
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError(f"users must hold one user id per list ({n}), got shape {array.shape}")
    if array.size and (array.dtype == bool or not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"users must be integer user ids, got {checks.short_repr(users)}")
    return array


def bootstrap_ci(
    per_user: pd.Series | np.ndarray,
    rng: np.random.Generator,
    n_boot: int = 1000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Mean and percentile bootstrap interval over users: ``(mean, low, high)``."""
    _check_boot(rng, n_boot, level)
    values = checks.finite_array("per_user", np.asarray(per_user), ndim=1)
    if values.size == 0:
        raise ValueError("bootstrap_ci needs at least one value, got an empty per_user")
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
    if isinstance(models, str | Mapping) or not isinstance(models, Sequence):
        raise ValueError(f"models must be a list of Recommenders, got {checks.short_repr(models)}")
    checks.nonempty("models", models)
    for model in models:
        _check_model(model)
    _check_names([getattr(m, "name", None) for m in models])
    _check_compare_args(transitions, rng, k, catalog, histories, n_boot)
    lists = [(model.name, recommend_all(model, transitions, k, histories)) for model in models]
    return compare_lists(lists, transitions, rng, k, catalog, histories, n_boot)


def _check_names(names: list[object]) -> None:
    for name in names:
        checks.text("a model name", name)
    repeated = [n for j, n in enumerate(names) if n in names[:j]]
    if repeated:  # two rows of one label could not be told apart
        raise ValueError(f"model names must be unique, got {repeated[0]!r} twice")


def _check_compare_args(
    transitions: object, rng: object, k: object, catalog: object, histories: object,
    n_boot: object,
) -> None:  # fmt: skip
    _check_transitions(transitions, histories, ("states", "targets", "users"))
    _check_boot(rng, n_boot, 0.95)
    _check_row_args(k, catalog, histories, None, None)
    if len(transitions.targets) == 0:
        raise ValueError("there are no lists to score: transitions is empty")


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
    if isinstance(lists, str) or not isinstance(lists, Mapping | Sequence):
        raise ValueError(f"lists must be a dict name -> (n, k) array, got {checks.short_repr(lists)}")
    pairs = list(lists.items()) if isinstance(lists, Mapping) else list(lists)
    checks.nonempty("lists", pairs)
    if not all(isinstance(p, tuple | list) and len(p) == 2 for p in pairs):
        raise ValueError(f"lists must be (name, (n, k) array) pairs, got {checks.short_repr(lists)}")
    _check_names([name for name, _ in pairs])
    _check_compare_args(transitions, rng, k, catalog, histories, n_boot)
    for name, recs in pairs:  # every list before the first bootstrap draws from rng
        try:
            _pair(recs, transitions.targets)
        except ValueError as err:
            raise ValueError(f"lists[{name!r}]: {err}") from None
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
    _check_boot(rng, n_boot, level)
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
    all their transitions (a cluster bootstrap); the callers have checked the settings."""
    _, user_index = np.unique(_users(users, len(values)), return_inverse=True)
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
    _check_boot(rng, n_boot, level)
    recs_a, recs_b, targets = _lists(recs_a, "recs_a"), _lists(recs_b, "recs_b"), _targets(targets)
    if recs_a.shape[0] != recs_b.shape[0] or recs_a.shape[0] != len(targets):
        raise ValueError(
            f"both lists and the targets must cover the same transitions, got "
            f"{recs_a.shape[0]}, {recs_b.shape[0]} and {len(targets)}"
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
    _lists(a, "recs_a"), _lists(b, "recs_b")
    _scored(a, "compare")
    return float(np.mean([len(set(x) & set(y)) / a.shape[1] for x, y in zip(a, b, strict=True)]))
