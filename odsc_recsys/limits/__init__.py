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

Modules, one per limit: :mod:`~odsc_recsys.limits.cold_start`, :mod:`~odsc_recsys.limits.sparsity`,
:mod:`~odsc_recsys.limits.popularity`, :mod:`~odsc_recsys.limits.grey_sheep`,
:mod:`~odsc_recsys.limits.static_lists`, :mod:`~odsc_recsys.limits.changing_taste`,
:mod:`~odsc_recsys.limits.changing_data`, :mod:`~odsc_recsys.limits.scalability`; the figures in
:mod:`~odsc_recsys.limits.plots`; shared plumbing in :mod:`~odsc_recsys.limits.inputs` (argument
checks) and :mod:`~odsc_recsys.limits.hit_rates` (hit rate per group of transitions).
"""

from __future__ import annotations

from .changing_data import history_timestamps, stale_vs_fresh
from .changing_taste import genre_mix, taste_drift
from .cold_start import hold_out_users, new_user_curve, remove_items, target_ranks_full
from .grey_sheep import accuracy_by_group, user_typicality
from .inputs import History as History  # the type of the histories, kept importable
from .plots import (
    plot_accuracy_by_activity,
    plot_grey_sheep,
    plot_grouped_bars,
    plot_list_overlap,
    plot_new_movie_ranks,
    plot_new_user_curve,
    plot_popularity_bias,
    plot_scalability,
    plot_staleness,
    plot_taste_drift,
)
from .popularity import popularity_bias, top_items
from .scalability import random_interactions, time_item_similarity
from .sparsity import accuracy_by_activity, density
from .static_lists import list_overlap, repeat_visits

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
