"""Input checks of the figure helpers: the tables they draw, and the metric table of a bar chart.

The helpers of :mod:`odsc_recsys.plotting` (and of other figure modules) call these before they
open a figure, so a wrong argument is named in a ``ValueError`` instead of failing inside pandas
or matplotlib half-way through a drawing. Nothing here imports matplotlib.

* :func:`checked_frame`: a non-empty ``DataFrame`` with the columns a figure draws;
* :func:`checked_metric_table`: the arguments of
  :func:`~odsc_recsys.plotting.plot_metric_bars`, its table read into means, intervals,
  metrics, models and settings (:class:`MetricTable`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any, NamedTuple

import pandas as pd

from . import checks

__all__ = ["MetricTable", "checked_frame", "checked_metric_table"]


def checked_frame(name: str, table: Any, columns: Iterable[Any] = ()) -> pd.DataFrame:
    """``table`` itself, checked to be a non-empty ``DataFrame`` holding ``columns``.

    The figure helpers check the tables they draw with it before they open a figure, so a
    wrong table is named in a ``ValueError`` instead of failing inside pandas half-way.

    Raises
    ------
    ValueError
        Naming ``name`` and the missing columns, or what ``table`` is.
    """
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise ValueError(
            f"{name} must be a non-empty pandas DataFrame, got {checks.short_repr(table)}"
        )
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name} must have the column(s) {missing}, got the columns "
                         f"{list(table.columns)}")  # fmt: skip
    return table


class MetricTable(NamedTuple):
    """A metric table checked and read for :func:`~odsc_recsys.plotting.plot_metric_bars`."""

    #: One row per model (or per ``(setting, model)``), one column per metric.
    means: pd.DataFrame
    #: Same shape as ``means``, ``(low, high)`` tuples; None without intervals.
    errors: pd.DataFrame | None
    #: The metrics to draw (those the table holds), one panel each, in the order asked for.
    metrics: list[Hashable]
    #: The models, in the table's order: one bar (and one colour) each.
    models: list[Any]
    #: The settings, in the table's order; ``[None]`` for a table without settings.
    settings: list[Any]


def checked_metric_table(
    table: Any,
    metrics: Any,
    errors: Any,
    labels: Any,
    colors: Any,
) -> MetricTable:
    """The arguments of :func:`~odsc_recsys.plotting.plot_metric_bars` checked, and its table
    read into means, intervals, metrics, models and settings.

    Raises
    ------
    ValueError
        If ``table`` or ``errors`` is not a non-empty ``DataFrame``, ``metrics`` is one string
        or not an iterable of distinct column names, ``labels`` or ``colors`` is neither a
        mapping nor None, the table's columns or index have a shape that cannot be drawn,
        ``errors`` is given with a table of intervals or lacks the table's rows, no metric is a
        column of the table, or ``colors`` misses a model; checked in that order.
    """
    checked_frame("table", table)
    if isinstance(metrics, str) or not isinstance(metrics, Iterable):
        raise ValueError(f"metrics must be a sequence of column names (not one string), got "
                         f"{metrics!r}")  # fmt: skip
    metrics = list(metrics)
    if not all(isinstance(m, Hashable) for m in metrics):
        raise ValueError(f"metrics must be column names, got {checks.short_repr(metrics)}")
    if len(set(metrics)) != len(metrics):
        raise ValueError(f"metrics must not repeat a column (one panel each), got {metrics}")
    if errors is not None:
        checked_frame("errors", errors)
    for name, mapping in (("labels", labels), ("colors", colors)):
        if mapping is not None and not isinstance(mapping, Mapping):
            raise ValueError(f"{name} must be a dict or None, got {mapping!r}")
    means, errors = _means_and_errors(table, errors)
    if errors is not None and not errors.index.equals(means.index):
        raise ValueError(f"errors must have the table's rows {list(means.index)}, got "
                         f"{list(errors.index)}")  # fmt: skip
    metrics = [m for m in metrics if m in means.columns]
    if not metrics:
        raise ValueError(f"none of the metrics is a column of the table {list(means.columns)}")
    models, settings = _models_and_settings(means.index)
    if colors is not None and any(m not in colors for m in models):
        missing = [m for m in models if m not in colors]
        raise ValueError(f"colors must give every model a colour, got none for {missing}")
    return MetricTable(means, errors, metrics, models, settings)


def _means_and_errors(
    table: pd.DataFrame, errors: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A table of intervals (columns ``(metric, "mean" | "low" | "high")``) as its means and
    ``(low, high)`` tuples; any other table as it is, with ``errors`` as given."""
    if not isinstance(table.columns, pd.MultiIndex):
        return table, errors
    stats = set(table.columns.get_level_values(-1))
    if table.columns.nlevels != 2 or not {"mean", "low", "high"} <= stats:
        raise ValueError(
            "a table with two column levels must hold (metric, 'mean' | 'low' | 'high'), "
            f"got {list(table.columns)[:6]}"
        )
    if errors is not None:
        raise ValueError("errors must be None: the table holds its own (low, high) intervals")
    means, lows, highs = (table.xs(stat, axis=1, level=1) for stat in ("mean", "low", "high"))
    bounds = {m: list(zip(lows[m], highs[m], strict=True)) for m in means.columns}
    return means, pd.DataFrame(bounds, index=table.index)


def _models_and_settings(index: pd.Index) -> tuple[list[Any], list[Any]]:
    """The models (bars of one colour each) and the settings (groups of bars), in the table's
    order; ``[None]`` as the settings of a one-level index."""
    if index.nlevels == 1:
        return list(index), [None]
    if index.nlevels == 2:
        return list(dict.fromkeys(index.get_level_values(1))), list(
            dict.fromkeys(index.get_level_values(0))
        )
    raise ValueError(f"the table's index must be models or (setting, model), got {index.names}")
