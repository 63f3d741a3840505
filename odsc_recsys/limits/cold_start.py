"""Cold start: a new user (:func:`hold_out_users`, :func:`new_user_curve`) and a new movie
(:func:`remove_items`, :func:`target_ranks_full`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import checks
from ..metrics import hits
from ..protocol import Recommender
from ..sessions import Transitions
from .inputs import History, check_histories, check_positions, check_transitions, check_users_known

__all__ = ["hold_out_users", "new_user_curve", "remove_items", "target_ranks_full"]


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
    check_histories("histories", histories)
    checks.generator("rng", rng)
    users = np.array(sorted(histories))
    n_new = max(1, round(frac * users.size))
    if n_new >= users.size:
        raise ValueError(f"frac={frac!r} of {users.size} users holds out every one of them; "
                         "at least one known user must be left to train on")  # fmt: skip
    new = set(rng.choice(users, size=n_new, replace=False).tolist())
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
    if not isinstance(models, Mapping) or not models:
        raise ValueError(f"models must be a non-empty dict of name -> fitted recommender, got "
                         f"{checks.short_repr(models)}")  # fmt: skip
    for name, model in models.items():
        if not callable(getattr(model, "recommend_many", None)):
            raise ValueError(f"models[{name!r}] must be a recommender (with recommend_many), "
                             f"got {checks.short_repr(model)}")  # fmt: skip
    check_histories("new_histories", new_histories)
    n_known = check_positions("n_known", n_known)
    target_positions = check_positions("target_positions", target_positions)
    k = checks.positive_int("k", k)
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
    check_histories("histories", histories)
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise ValueError(f"items must be a sequence of catalogue indices, got {items!r}")
    # checked one by one: 0.5 would be truncated to movie 0 by an int64 conversion
    drop = np.array([checks.count("items", i) for i in items], dtype=np.int64)
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
    if not callable(getattr(model, "score_many", None)):
        raise ValueError(f"model must be a fitted recommender (with score_many), got "
                         f"{checks.short_repr(model)}")  # fmt: skip
    check_transitions(transitions)
    check_histories("histories", histories)
    check_users_known(transitions, histories, "histories")
    prefixes = transitions.prefixes(histories)
    all_scores = np.asarray(model.score_many(prefixes), dtype=np.float64)
    # a target outside the scored catalogue would index past it, or wrap if negative
    checks.indices("transitions.targets", transitions.targets, all_scores.shape[1])
    out = np.zeros(len(transitions))
    for j, hist in enumerate(prefixes):
        scores = all_scores[j].copy()
        scores[hist] = np.nan  # NaN compares false: the history neither outranks nor ties
        target = scores[transitions.targets[j]]
        higher = np.sum(scores > target)
        ties = np.sum(scores == target) - 1
        out[j] = 1 + higher + ties / 2
    return out
