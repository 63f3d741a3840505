"""What the explorers share: legible HTML tables, widths that fit their labels, and a display
that still shows something where a live widget cannot.

Why the snapshot: JupyterLab draws a widget output only in a *trusted* notebook (the widget
renderer is registered as unsafe). In an untrusted one, and in viewers without widgets, the
front end picks the richest type of the output that it can show instead. Widgets
alone offer only ``text/plain`` (``VBox(children=...)``), so every explorer adds a static
snapshot of what it showed when displayed: an HTML table (``text/html``) or a picture
(``image/png``), and a one-line ``text/plain``. ``make lab`` trusts the notebooks, so there the
saved widget state renders as the widget itself.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

__all__ = ["SnapshotBox", "fit_width", "html_table"]

#: Font size of the explorers' tables: larger than the widgets' 13 px, for a projector.
TABLE_FONT_PX = 14
_CELL = "padding:3px 10px;vertical-align:top;"
#: A box that is exactly as wide as its parent and scrolls a wider table sideways. Width 0 with
#: min-width 100% keeps the table's own width from widening the parent (and cutting the text
#: around it at the notebook's edge).
SCROLL_BOX = "overflow-x:auto;width:0;min-width:100%"


def html_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A table with inline styles, so it reads the same in a widget, in a saved notebook and
    in a sanitised (untrusted) view.

    Text is left-aligned and may wrap; numbers are right-aligned and rounded to ``digits``
    decimals. The table sits in a box that scrolls sideways rather than clip a wide table
    (at 150% zoom, say).

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; its cells are HTML-escaped.
    digits : int
        Decimals of float columns.
    """
    if digits < 0:
        raise ValueError(f"digits must be >= 0, got {digits}")
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    head = "".join(
        f"<th style='{_CELL}text-align:{'right' if num else 'left'};"
        f"border-bottom:1px solid #888'>{html.escape(str(col))}</th>"
        for col, num in zip(frame.columns, numeric, strict=True)
    )
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for value, num in zip(values, numeric, strict=True):
            if isinstance(value, float | np.floating):
                text = f"{float(value):.{digits}f}"
            else:
                text = str(value)
            align = "right" if num else "left"
            cells.append(f"<td style='{_CELL}text-align:{align}'>{html.escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f"<div style='{SCROLL_BOX}'>"
        f"<table style='border-collapse:collapse;font-size:{TABLE_FONT_PX}px;line-height:1.35'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def fit_width(labels: Iterable[str], padding: int = 0) -> int:
    """Width, in CSS ``ch`` units, that holds the longest label plus ``padding`` characters.

    One ``ch`` is the width of "0" in the widget's font, wider than the average letter of a
    title (lower case and spaces), so ``len(label)`` ch holds the label.
    """
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    return max((len(str(label)) for label in labels), default=0) + int(padding)


class SnapshotBox(widgets.VBox):
    """A ``VBox`` whose display also carries a static snapshot and a one-line text.

    Parameters
    ----------
    children : sequence of widgets
        The panel's rows.
    text : callable returning str
        The ``text/plain`` of the output, for viewers that show only text.
    snapshot : callable returning dict
        Extra MIME types of the output (``{"text/html": ...}`` or ``{"image/png": ...}``),
        taken when the panel is displayed.
    controls : object, optional
        The panel's widgets by name (a dataclass of the explorer), kept as :attr:`controls` so
        that code and tests reach a slider or a button by what it is, not by where the layout
        happens to put it.
    """

    def __init__(
        self,
        children: Sequence[widgets.Widget],
        *,
        text: Callable[[], str],
        snapshot: Callable[[], dict[str, Any]],
        controls: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(list(children), **kwargs)
        self._snapshot_text = text
        self._snapshot_data = snapshot
        self.controls = controls

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle.update(self._snapshot_data())
        bundle["text/plain"] = self._snapshot_text()
        return bundle
