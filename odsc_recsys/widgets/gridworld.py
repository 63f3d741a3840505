"""Sliders for the robot grid world: change gamma and the slip probability, watch V and the policy.

Every slider move re-runs value iteration on the grid's explicit transition model and redraws the
value heatmap, the optimal arrows and the value table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from odsc_recsys.gridworld import (
    GridWorld,
    format_values,
    plot_gridworld,
    transition_model,
    value_iteration,
)

__all__ = ["bellman_explorer"]


def bellman_explorer(
    layout: str | Sequence[str] = "floydhub",
    gamma: float = 0.9,
    slip: float = 0.2,
    step_reward: float = 0.0,
    digits: int = 3,
) -> Any:
    """An ipywidgets panel with ``gamma`` and ``slip`` sliders over a value map and policy.

    Parameters
    ----------
    layout : str or sequence of str
        Grid layout (see :data:`odsc_recsys.gridworld.LAYOUTS`).
    gamma : float
        Initial discount factor in ``[0, 1]``.
    slip : float
        Initial probability in ``[0, 1]`` that the robot goes left, right or back instead.
    step_reward : float
        Reward of every ordinary move (try a small negative living cost).
    digits : int
        Significant digits shown in the cells.

    Returns
    -------
    SnapshotBox
        An ``ipywidgets.VBox``; display it as the last expression of a cell. Where widgets
        cannot render, the output shows the value map as a picture instead.
    """
    import base64
    import io
    from html import escape

    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from odsc_recsys.widgets.display import TABLE_FONT_PX, SnapshotBox

    grid = GridWorld(layout)
    transition_model(grid, slip)  # validates slip before any widget exists
    gamma_slider = widgets.FloatSlider(
        value=gamma, min=0.0, max=1.0, step=0.01, description="gamma", continuous_update=False
    )
    slip_slider = widgets.FloatSlider(
        value=slip, min=0.0, max=1.0, step=0.05, description="slip", continuous_update=False
    )
    # The figure goes into an Image widget and the table into an HTML widget rather than
    # through an Output widget: no output messages, so a notebook re-run without a browser
    # (nbval, nbconvert) sees nothing but the panel itself.
    picture = widgets.Image(format="png")
    table = widgets.HTML()

    def redraw(_: object = None) -> None:
        mdp = transition_model(grid, slip_slider.value, step_reward=step_reward)
        result = value_iteration(mdp, gamma_slider.value, max_sweeps=2_000)
        fig, ax = plt.subplots(figsize=(0.9 * grid.shape[1] + 1, 0.9 * grid.shape[0] + 0.6))
        title = f"gamma={gamma_slider.value:.2f}, slip={slip_slider.value:.2f}"
        plot_gridworld(grid, result.values, result.q_values, ax=ax, title=title, digits=digits)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        picture.value = buffer.getvalue()
        note = "" if result.converged else " (not converged)"
        text = f"{result.n_sweeps} value-iteration sweeps{note}\n\n"
        text += format_values(grid, result.values, digits)
        table.value = f"<pre style='font-size:{TABLE_FONT_PX}px'>{escape(text)}</pre>"

    name = repr(layout) if isinstance(layout, str) else f"{grid.shape[0]}x{grid.shape[1]} grid"

    def describe() -> str:
        return f"BellmanExplorer({name}, gamma={gamma_slider.value:g}, slip={slip_slider.value:g})"

    def snapshot() -> dict[str, str]:
        return {"image/png": base64.b64encode(bytes(picture.value)).decode("ascii")}

    gamma_slider.observe(redraw, names="value")
    slip_slider.observe(redraw, names="value")
    redraw()
    return SnapshotBox(
        [widgets.HBox([gamma_slider, slip_slider]), widgets.HBox([picture, table])],
        text=describe,
        snapshot=snapshot,
    )
