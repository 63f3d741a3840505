"""Sliders for the robot grid world: change gamma and the slip probability, watch V and the policy.

Every slider move re-runs value iteration on the grid's explicit transition model and redraws the
value heatmap, the optimal arrows and the value table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from odsc_recsys.gridworld import (
    GridWorld,
    format_values,
    plot_gridworld,
    transition_model,
    value_iteration,
)

if TYPE_CHECKING:
    import ipywidgets as widgets
    from matplotlib.figure import Figure

__all__ = ["BellmanControls", "bellman_explorer"]


@dataclass(frozen=True)
class BellmanControls:
    """The widgets of :func:`bellman_explorer`, by name (``panel.controls``).

    Attributes
    ----------
    gamma, slip : ipywidgets.FloatSlider
        The discount factor and the slip probability.
    picture : ipywidgets.Image
        The value map and the optimal arrows, as a PNG.
    table : ipywidgets.HTML
        The number of sweeps and the value table as text.
    """

    gamma: widgets.FloatSlider
    slip: widgets.FloatSlider
    picture: widgets.Image
    table: widgets.HTML


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
        cannot render, the output shows the value map as a picture instead. Its ``controls``
        are the :class:`BellmanControls`.
    """
    import base64

    import ipywidgets as widgets

    from odsc_recsys.widgets.display import SnapshotBox

    grid = GridWorld(layout)
    transition_model(grid, slip)  # validates slip before any widget exists
    controls = _bellman_controls(gamma, slip)

    def redraw(_: object = None) -> None:
        _show_solution(grid, controls, step_reward, digits)

    name = repr(layout) if isinstance(layout, str) else f"{grid.shape[0]}x{grid.shape[1]} grid"

    def describe() -> str:
        return (f"BellmanExplorer({name}, gamma={controls.gamma.value:g}, "
                f"slip={controls.slip.value:g})")  # fmt: skip

    def snapshot() -> dict[str, str]:
        return {"image/png": base64.b64encode(bytes(controls.picture.value)).decode("ascii")}

    controls.gamma.observe(redraw, names="value")
    controls.slip.observe(redraw, names="value")
    redraw()
    return SnapshotBox(
        [
            widgets.HBox([controls.gamma, controls.slip]),
            widgets.HBox([controls.picture, controls.table]),
        ],
        text=describe,
        snapshot=snapshot,
        controls=controls,
    )


def _bellman_controls(gamma: float, slip: float) -> BellmanControls:
    """The two sliders, and the views that show what they select."""
    import ipywidgets as widgets

    gamma_slider = widgets.FloatSlider(
        value=gamma, min=0.0, max=1.0, step=0.01, description="gamma", continuous_update=False
    )
    slip_slider = widgets.FloatSlider(
        value=slip, min=0.0, max=1.0, step=0.05, description="slip", continuous_update=False
    )
    # The figure goes into an Image widget and the table into an HTML widget rather than
    # through an Output widget: no output messages, so a notebook re-run without a browser
    # (nbval, nbconvert) sees nothing but the panel itself.
    return BellmanControls(gamma_slider, slip_slider, widgets.Image(format="png"), widgets.HTML())


def _show_solution(
    grid: GridWorld, controls: BellmanControls, step_reward: float, digits: int
) -> None:
    """Solve the grid at the sliders' gamma and slip; draw the map and write the table."""
    from html import escape

    import matplotlib.pyplot as plt

    from odsc_recsys.widgets.display import TABLE_FONT_PX

    gamma, slip = controls.gamma.value, controls.slip.value
    mdp = transition_model(grid, slip, step_reward=step_reward)
    result = value_iteration(mdp, gamma, max_sweeps=2_000)
    fig, ax = plt.subplots(figsize=(0.9 * grid.shape[1] + 1, 0.9 * grid.shape[0] + 0.6))
    title = f"gamma={gamma:.2f}, slip={slip:.2f}"
    plot_gridworld(grid, result.values, result.q_values, ax=ax, title=title, digits=digits)
    controls.picture.value = _png(fig)
    plt.close(fig)
    note = "" if result.converged else " (not converged)"
    text = f"{result.n_sweeps} value-iteration sweeps{note}\n\n"
    text += format_values(grid, result.values, digits)
    controls.table.value = f"<pre style='font-size:{TABLE_FONT_PX}px'>{escape(text)}</pre>"


def _png(fig: Figure) -> bytes:
    """The figure as PNG bytes, at the projector style's resolution, cropped to its content."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()
