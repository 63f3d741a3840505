"""The robot grid world of the talk: footprints, the Bellman equation and a slippery MDP.

A robot must reach the green room (the goal ``G``) from its start ``A``. Walls (``#`` and the
outer boundary) block it: bumping into one leaves it where it was. An optional fire room
``F`` ends the episode with a penalty. Moving into the goal earns ``+1``; every other move
earns ``step_reward`` (0 by default).

Values follow the Bellman optimality equation with a terminal goal (its value is 0: nothing
more can be earned once the robot is there)::

    V(s) = max_a ( R(s, a) + gamma * sum_s' P(s, a, s') V(s') )

In the deterministic world ``P`` puts all its mass on one cell and this is the talk's
``V(s) = max_a (R(s, a) + gamma V(s'))``. With ``gamma = 0.9`` a cell next to the goal is worth
1, the next ring 0.9, then 0.81, 0.729, 0.6561: the "footprints" of the slide.

With probability ``slip`` the robot's motor misfires and it goes left, right or back relative to
the intended direction instead (``slip / 3`` each). The transition model is kept as an explicit
array ``P[s, a, s']`` so that the notebook can show it.

Layouts are lists of equal-length strings: ``.`` floor, ``#`` wall, ``A`` start (exactly one),
``G`` goal (at least one), ``F`` fire. Two are built in (see :data:`LAYOUTS`).

Importing this module registers the Gymnasium id :data:`ENV_ID`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from odsc_recsys import checks

__all__ = [
    "ACTION_NAMES",
    "ARROWS",
    "DOWN",
    "ENV_ID",
    "LAYOUTS",
    "LEFT",
    "MDP",
    "RIGHT",
    "UP",
    "GridWorld",
    "RobotGridWorldEnv",
    "ValueIterationResult",
    "format_policy",
    "format_values",
    "greedy_policy",
    "optimal_actions",
    "plot_gridworld",
    "q_from_values",
    "transition_model",
    "value_grid",
    "value_iteration",
]

UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3  # the order of Gymnasium's CliffWalking
ACTION_NAMES = ("up", "right", "down", "left")
ARROWS = ("\u2191", "\u2192", "\u2193", "\u2190")
_MOVES = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]])

#: Built-in layouts. ``slide``: the 4 x 3 value table of the talk, goal top-left, start
#: bottom-right. ``floydhub``: the house of the talk's reference 1 (3 x 4, one inner wall,
#: a fire room under the goal).
LAYOUTS: dict[str, tuple[str, ...]] = {
    "slide": ("G..", "...", "...", "..A"),
    "floydhub": ("...G", ".#.F", "A..."),
}
_CELL_CHARS = frozenset(".#AGF")

ENV_ID = "odsc_recsys/RobotGridWorld-v0"


class GridWorld:
    """A parsed layout: which cells are floor, wall, start, goal or fire, and state numbering.

    Every non-wall cell is a state, numbered row by row (so walls have no state).

    Parameters
    ----------
    layout : str or sequence of str
        A name from :data:`LAYOUTS`, a multi-line string, or a sequence of row strings.

    Raises
    ------
    ValueError
        For an unknown layout name, ragged or empty rows, an unknown character, not exactly one
        start ``A`` or no goal ``G``.
    """

    def __init__(self, layout: str | Sequence[str] = "slide") -> None:
        if isinstance(layout, str):
            if "\n" in layout:
                rows = tuple(line.strip() for line in layout.strip().splitlines())
            elif layout in LAYOUTS:
                rows = LAYOUTS[layout]
            else:
                raise ValueError(
                    f"unknown layout {layout!r}: use one of {sorted(LAYOUTS)}, a multi-line "
                    "string or a list of row strings"
                )
        elif isinstance(layout, Iterable) and not isinstance(layout, bytes | Mapping):
            rows = tuple(layout)
        else:
            raise ValueError(f"layout must be one of {sorted(LAYOUTS)}, a multi-line string or a "
                             f"list of row strings, got {layout!r}")  # fmt: skip
        self.rows: tuple[str, ...] = _validate_rows(rows)
        self.shape: tuple[int, int] = (len(self.rows), len(self.rows[0]))
        chars = np.array([list(r) for r in self.rows])
        #: ``index[r, c]`` is the state of a cell, -1 for a wall.
        self.index = np.full(self.shape, -1, dtype=np.int64)
        free = chars != "#"
        self.index[free] = np.arange(int(free.sum()))
        #: ``cells[s]`` is the (row, col) of state ``s``.
        self.cells = np.argwhere(free)
        self.kinds = chars[free]  # the character of every state
        self.n_states = int(free.sum())
        self.n_actions = 4
        self.start_state = int(np.flatnonzero(self.kinds == "A")[0])
        self.terminal = np.isin(self.kinds, ["G", "F"])

    def __repr__(self) -> str:
        return f"GridWorld({list(self.rows)!r})"

    def move(self, state: int, action: int) -> int:
        """The cell reached by moving ``action`` from ``state`` (the same cell if blocked).

        Raises
        ------
        ValueError
            If ``state`` is not one of the grid's states or ``action`` not 0 to 3 (a negative
            one would wrap to the last).
        """
        state = checks.index("state", state, self.n_states)
        action = checks.index("action", action, self.n_actions)
        r, c = self.cells[state] + _MOVES[action]
        if 0 <= r < self.shape[0] and 0 <= c < self.shape[1] and self.index[r, c] >= 0:
            return int(self.index[r, c])
        return int(state)


def _validate_rows(rows: tuple[str, ...]) -> tuple[str, ...]:
    if not rows or not all(isinstance(r, str) and r for r in rows):
        raise ValueError(f"a layout is a non-empty list of non-empty row strings, got {rows!r}")
    if len({len(r) for r in rows}) != 1:
        raise ValueError(f"layout rows must all have the same length, got {[len(r) for r in rows]}")
    bad = sorted({ch for r in rows for ch in r} - _CELL_CHARS)
    if bad:
        raise ValueError(
            f"unknown layout character(s) {bad}: allowed are '.' floor, '#' wall, 'A' start, "
            "'G' goal, 'F' fire"
        )
    n_start = sum(r.count("A") for r in rows)
    if n_start != 1:
        raise ValueError(f"a layout needs exactly one start 'A', got {n_start} in {list(rows)}")
    if not any("G" in r for r in rows):
        raise ValueError(f"a layout needs at least one goal 'G', got {list(rows)}")
    return rows


@dataclass(frozen=True)
class MDP:
    """A finite Markov decision process as arrays.

    Attributes
    ----------
    P : np.ndarray
        ``P[s, a, s']``, shape ``(S, A, S)``: probability of landing in ``s'``.
    reward : np.ndarray
        ``reward[s, a, s']``, shape ``(S, A, S)``: reward of that transition.
    terminal : np.ndarray
        ``(S,)`` bool. Terminal states are absorbing with zero reward, so their value is 0.
    """

    P: np.ndarray
    reward: np.ndarray
    terminal: np.ndarray

    def __post_init__(self) -> None:
        # Checked, not converted: the arrays stay the ones given.
        P = checks.finite_array("P", self.P, ndim=3)
        n, n_actions, n_next = P.shape
        if n == 0 or n_actions == 0 or n_next != n:
            raise ValueError(f"P must have shape (S, A, S) with S, A >= 1, got shape {P.shape}")
        if (P < 0).any() or not np.allclose(P.sum(axis=2), 1.0, rtol=0.0, atol=1e-9):
            s, a = np.argwhere((P < 0).any(axis=2) | ~np.isclose(P.sum(axis=2), 1.0, 0.0, 1e-9))[0]
            raise ValueError(f"P[s, a, :] must be probabilities summing to 1, got "
                             f"{P[s, a].tolist()} at (s, a) = ({s}, {a})")  # fmt: skip
        checks.finite_array("reward", self.reward, shape=P.shape)
        terminal = np.asarray(self.terminal)
        if terminal.dtype != bool or terminal.shape != (n,):
            raise ValueError(f"terminal must be a boolean array of shape ({n},), got "
                             f"{checks.short_repr(self.terminal)}")  # fmt: skip

    @property
    def R(self) -> np.ndarray:
        """Expected immediate reward ``R(s, a) = sum_s' P(s, a, s') reward(s, a, s')``."""
        return (self.P * self.reward).sum(axis=2)

    @property
    def n_states(self) -> int:
        return int(self.P.shape[0])

    @property
    def n_actions(self) -> int:
        return int(self.P.shape[1])


def transition_model(
    grid: GridWorld,
    slip: float = 0.0,
    goal_reward: float = 1.0,
    fire_reward: float = -1.0,
    step_reward: float = 0.0,
) -> MDP:
    """Build ``P[s, a, s']`` and ``reward[s, a, s']`` for a grid.

    Parameters
    ----------
    grid : GridWorld
        The layout.
    slip : float
        Probability in ``[0, 1]`` that the robot does not go where it intends; it then goes left,
        right or back relative to the intended direction, ``slip / 3`` each.
    goal_reward, fire_reward : float
        Reward for moving into a goal or a fire cell.
    step_reward : float
        Reward for any other move (a negative value is a living cost).
    """
    _check_grid(grid)
    slip = checks.probability("slip", slip)
    goal_reward = checks.real("goal_reward", goal_reward)
    fire_reward = checks.real("fire_reward", fire_reward)
    step_reward = checks.real("step_reward", step_reward)
    n, n_actions = grid.n_states, grid.n_actions
    P = np.zeros((n, n_actions, n))
    entry = np.full(n, step_reward)
    entry[grid.kinds == "G"] = goal_reward
    entry[grid.kinds == "F"] = fire_reward
    for s in range(n):
        if grid.terminal[s]:
            P[s, :, s] = 1.0  # absorbing; reward stays 0
            continue
        for a in range(n_actions):
            # Intended, then right, back and left relative to it.
            outcomes = [(a, 1.0 - slip)] + [((a + k) % 4, slip / 3) for k in (1, 2, 3)]
            for direction, p in outcomes:
                P[s, a, grid.move(s, direction)] += p
    reward = np.where(grid.terminal[:, None, None], 0.0, np.broadcast_to(entry, P.shape))
    return MDP(P=P, reward=reward, terminal=grid.terminal.copy())


@dataclass(frozen=True)
class ValueIterationResult:
    """Output of :func:`value_iteration`.

    Attributes
    ----------
    values : np.ndarray
        ``V(s)``, shape ``(S,)``.
    q_values : np.ndarray
        ``Q(s, a) = R(s, a) + gamma * sum_s' P(s, a, s') V(s')``, shape ``(S, A)``.
    n_sweeps : int
        Number of Bellman sweeps performed.
    deltas : np.ndarray
        ``max_s |V_k+1(s) - V_k(s)|`` of every sweep.
    converged : bool
        Whether the last delta fell below the tolerance.
    history : np.ndarray or None
        ``V`` after every sweep, shape ``(n_sweeps + 1, S)`` starting from zeros, if recorded.
    """

    values: np.ndarray
    q_values: np.ndarray
    n_sweeps: int
    deltas: np.ndarray
    converged: bool
    history: np.ndarray | None = None


def q_from_values(mdp: MDP, values: np.ndarray, gamma: float) -> np.ndarray:
    """One Bellman backup: ``Q(s, a) = R(s, a) + gamma * sum_s' P(s, a, s') V(s')``.

    Raises
    ------
    ValueError
        If ``mdp`` is not an :class:`MDP`, ``values`` not one finite number per state, or
        ``gamma`` outside ``[0, 1]``.
    """
    _check_mdp(mdp)
    values = checks.finite_array("values", values, shape=(mdp.n_states,))
    gamma = checks.gamma(gamma)
    return _backup(mdp, values, gamma)


def _backup(mdp: MDP, values: np.ndarray, gamma: float) -> np.ndarray:
    """:func:`q_from_values` of checked arguments (every sweep of value iteration)."""
    return mdp.R + gamma * (mdp.P @ values)


def value_iteration(
    mdp: MDP,
    gamma: float = 0.9,
    tol: float = 1e-10,
    max_sweeps: int = 10_000,
    record: bool = False,
) -> ValueIterationResult:
    """Solve the Bellman optimality equation by repeated synchronous sweeps.

    Starting from ``V = 0``, every sweep computes ``V(s) <- max_a Q(s, a)`` for all states at
    once, until no value moves by more than ``tol``. Terminal states stay at 0.

    Parameters
    ----------
    mdp : MDP
        The model (``P`` and rewards); value iteration is *planning* with a known model.
    gamma : float
        Discount factor in ``[0, 1]``.
    tol : float
        Stop when the largest change of a sweep is below this.
    max_sweeps : int
        Give up after this many sweeps (``converged`` is then False).
    record : bool
        Keep ``V`` after every sweep in ``history`` (to watch the footprints spread).
    """
    _check_mdp(mdp)
    gamma = checks.gamma(gamma)
    tol = checks.real("tol", tol, 0.0, low_open=True)
    max_sweeps = checks.positive_int("max_sweeps", max_sweeps)
    record = checks.boolean("record", record)
    values = np.zeros(mdp.n_states)
    history = [values.copy()] if record else None
    deltas = []
    converged = False
    for _ in range(max_sweeps):
        new_values = _backup(mdp, values, gamma).max(axis=1)
        new_values[mdp.terminal] = 0.0
        deltas.append(float(np.max(np.abs(new_values - values))))
        values = new_values
        if history is not None:
            history.append(values.copy())
        if deltas[-1] < tol:
            converged = True
            break
    return ValueIterationResult(
        values=values,
        q_values=_backup(mdp, values, gamma),
        n_sweeps=len(deltas),
        deltas=np.array(deltas),
        converged=converged,
        history=None if history is None else np.array(history),
    )


def optimal_actions(q_values: np.ndarray, terminal: np.ndarray, atol: float = 1e-9) -> np.ndarray:
    """Boolean ``(S, A)`` mask of the actions within ``atol`` of the best; none for terminals.

    Several actions can be optimal: in the slide's grid, the robot one step down and one step
    right of the goal's diagonal sees footprints in two directions that are worth the same.

    Raises
    ------
    ValueError
        If ``q_values`` is not a non-empty ``(S, A)`` array of finite numbers, ``terminal`` not
        a boolean array of ``S`` flags (integers would be read as state indices), or ``atol``
        negative.
    """
    q_values = checks.finite_array("q_values", q_values, ndim=2)
    if 0 in q_values.shape:
        raise ValueError(f"q_values must hold at least one state and one action, got shape "
                         f"{q_values.shape}")  # fmt: skip
    terminal = np.asarray(terminal)
    if terminal.dtype != bool or terminal.shape != q_values.shape[:1]:
        raise ValueError(f"terminal must be a boolean array of shape ({q_values.shape[0]},), "
                         f"one flag per state, got {checks.short_repr(terminal)}")  # fmt: skip
    atol = checks.real("atol", atol, 0.0)
    mask = q_values >= q_values.max(axis=1, keepdims=True) - atol
    mask[terminal] = False
    return mask


def greedy_policy(q_values: np.ndarray, terminal: np.ndarray, atol: float = 1e-9) -> np.ndarray:
    """One action per state: the first optimal one in the order up, right, down, left (-1 at
    terminal states)."""
    mask = optimal_actions(q_values, terminal, atol)
    return np.where(mask.any(axis=1), mask.argmax(axis=1), -1)


def value_grid(grid: GridWorld, values: np.ndarray) -> np.ndarray:
    """Values laid out on the grid, shape ``grid.shape``; walls and terminal cells are NaN."""
    values = _state_values(grid, values)
    out = np.full(grid.shape, np.nan)
    keep = ~grid.terminal
    out[grid.cells[keep, 0], grid.cells[keep, 1]] = values[keep]
    return out


def _check_grid(grid: Any) -> GridWorld:
    if not isinstance(grid, GridWorld):
        raise ValueError(f"grid must be a GridWorld, got {checks.short_repr(grid)}")
    return grid


def _check_mdp(mdp: Any) -> MDP:
    if not isinstance(mdp, MDP):
        raise ValueError(f"mdp must be an MDP (see transition_model), got {checks.short_repr(mdp)}")
    return mdp


def _state_values(grid: Any, values: Any) -> np.ndarray:
    """``values`` checked to be one finite number per state of ``grid``."""
    _check_grid(grid)
    return checks.finite_array("values", values, shape=(grid.n_states,))


def _state_q_values(grid: GridWorld, q_values: Any) -> np.ndarray:
    """``q_values`` checked to be one finite number per state and action of ``grid``."""
    return checks.finite_array("q_values", q_values, shape=(grid.n_states, grid.n_actions))



def format_values(grid: GridWorld, values: np.ndarray, digits: int = 3) -> str:
    """The value table as text, ``digits`` significant digits; ``G``/``F``/``#`` mark cells."""
    values = _state_values(grid, values)
    digits = checks.positive_int("digits", digits)
    table = _cell_table(grid, lambda s: f"{values[s]:.{digits}g}")
    width = max(len(x) for line in table for x in line)
    return "\n".join(" ".join(x.rjust(width) for x in line) for line in table)


def format_policy(grid: GridWorld, q_values: np.ndarray, atol: float = 1e-9) -> str:
    """The optimal actions of every cell as arrows (several when they tie)."""
    _check_grid(grid)
    mask = optimal_actions(_state_q_values(grid, q_values), grid.terminal, atol)
    table = _cell_table(grid, lambda s: "".join(ARROWS[a] for a in np.flatnonzero(mask[s])))
    width = max(len(x) for line in table for x in line)
    return "\n".join(" ".join(x.center(width) for x in line) for line in table)


def _cell_table(grid: GridWorld, text: Callable[[int], str]) -> list[list[str]]:
    """The grid as rows of cell texts: walls, goals and fires by their layout character, every
    other cell by ``text(state)``."""
    return [
        [ch if ch in "#GF" else text(int(grid.index[r, c])) for c, ch in enumerate(row)]
        for r, row in enumerate(grid.rows)
    ]


def plot_gridworld(
    grid: GridWorld,
    values: np.ndarray | None = None,
    q_values: np.ndarray | None = None,
    ax: Any = None,
    title: str | None = None,
    digits: int = 3,
    cmap: str = "RdBu",
) -> Any:
    """Draw the grid: walls, goal, fire, start; values as a heatmap; the policy as arrows.

    Parameters
    ----------
    grid : GridWorld
        The layout.
    values : np.ndarray, optional
        ``V(s)`` to colour and print in each cell.
    q_values : np.ndarray, optional
        ``Q(s, a)``; every optimal action of a cell gets an arrow.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure otherwise.
    title : str, optional
        Axes title.
    digits : int
        Significant digits of the printed values.
    cmap : str
        Matplotlib diverging colormap of the heatmap (positive values blue, negative red).

    Returns
    -------
    matplotlib.axes.Axes
    """
    from odsc_recsys.plotting import axes_or_new

    # Every argument before the figure (axes_or_new checks ax): a refused call leaves no empty
    # figure behind.
    _check_grid(grid)
    values = None if values is None else _state_values(grid, values)
    q_values = None if q_values is None else _state_q_values(grid, q_values)
    if title is not None and not isinstance(title, str):
        raise ValueError(f"title must be a string or None, got {title!r}")
    digits = checks.positive_int("digits", digits)
    _check_cmap(cmap)
    n_rows, n_cols = grid.shape
    # 1.2 inches a room: values and labels stay legible on a projector.
    ax = axes_or_new(ax, (1.2 * n_cols + 0.9, 1.2 * n_rows + 0.8))
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    _draw_rooms(ax, grid, values, cmap)
    _label_rooms(ax, grid, values, digits, plain=values is None and q_values is None)
    if q_values is not None:
        _draw_policy(ax, grid, q_values, above_values=values is not None)
    ax.set_xticks(np.arange(n_cols))
    ax.set_yticks(np.arange(n_rows))
    ax.set_xticks(np.arange(n_cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n_rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=2)  # white lines between the rooms
    ax.tick_params(which="both", length=0)
    if title:
        ax.set_title(title)
    return ax


def _check_cmap(cmap: Any) -> str:
    """``cmap`` checked to be the name of a registered matplotlib colormap."""
    from matplotlib import colormaps  # the registry, not pyplot

    if not isinstance(cmap, str) or cmap not in colormaps:
        raise ValueError(f"cmap must be the name of a matplotlib colormap such as 'RdBu', "
                         f"got {cmap!r}")  # fmt: skip
    return cmap


def _draw_rooms(ax: Any, grid: GridWorld, values: np.ndarray | None, cmap: str) -> None:
    """The floor (a heatmap of ``values``, or plain grey), then walls, goals and fires over it
    in solid colours."""
    from matplotlib.colors import ListedColormap

    if values is not None:
        grid_values = value_grid(grid, values)
        finite = np.abs(grid_values[np.isfinite(grid_values)])
        # Symmetric limits with headroom: 0 is white, colours stay light enough to read text on.
        limit = 1.6 * max(float(finite.max()) if finite.size else 1.0, 1e-9)
        ax.imshow(grid_values, cmap=cmap, vmin=-limit, vmax=limit)
    else:
        ax.imshow(np.zeros(grid.shape), cmap=ListedColormap(["#e8e8e8"]))  # plain floor
    kinds = np.array([list(r) for r in grid.rows])
    overlay = np.full(grid.shape, np.nan)
    overlay[kinds == "#"], overlay[kinds == "G"], overlay[kinds == "F"] = 0, 1, 2
    ax.imshow(overlay, cmap=ListedColormap(["#555555", "#2e9e44", "#d62728"]), vmin=0, vmax=2)


def _label_rooms(
    ax: Any, grid: GridWorld, values: np.ndarray | None, digits: int, plain: bool
) -> None:
    """The words goal and fire in their rooms, the start ``A`` (large and centred on a
    ``plain`` grid, in the corner otherwise) and each room's value under its centre."""
    label = {"#": "", "G": "goal", "F": "fire"}
    text = {"ha": "center", "va": "center", "fontsize": 13}  # 13 pt: above the 11 pt floor
    for r, row in enumerate(grid.rows):
        for c, ch in enumerate(row):
            if ch in label:
                ax.text(c, r, label[ch], color="white", weight="bold", **text)
                continue
            if ch == "A" and plain:
                ax.text(c, r, "A", **{**text, "fontsize": 16}, weight="bold")
            elif ch == "A":
                ax.text(c - 0.44, r - 0.44, "A", ha="left", va="top", fontsize=13, weight="bold")
            if values is not None:
                ax.text(c, r + 0.28, f"{values[int(grid.index[r, c])]:.{digits}g}", **text)


def _draw_policy(ax: Any, grid: GridWorld, q_values: np.ndarray, above_values: bool) -> None:
    """An arrow from each room's centre (raised over a printed value) along every optimal
    action."""
    mask = optimal_actions(q_values, grid.terminal)
    for s in np.flatnonzero(mask.any(axis=1)):
        r, c = grid.cells[s]
        y0 = r - 0.12 if above_values else r
        for a in np.flatnonzero(mask[s]):
            dr, dc = _MOVES[a] * 0.28
            ax.annotate("", xy=(c + dc, y0 + dr), xytext=(c, y0),
                        arrowprops={"arrowstyle": "-|>", "lw": 2, "color": "black",
                                    "mutation_scale": 14})  # fmt: skip


class RobotGridWorldEnv(gym.Env):
    """The robot of the talk walks through a house of rooms to reach the green room.

    ## Description
    The robot starts in room ``A`` of a grid of rooms and must reach the goal room ``G``
    (the green room of the talk). Inner walls ``#`` and the outer walls block it: a move into
    a wall leaves it in place. An optional fire room ``F`` ends the episode with a penalty.
    With probability ``slip`` the robot's motor misfires and it moves left, right or back
    relative to the intended direction (``slip / 3`` each), which makes the world a Markov
    decision process rather than a deterministic maze.

    The default layout ``"slide"`` is the 4 x 3 value table of the talk (goal top-left, start
    bottom-right); ``"floydhub"`` is the 3 x 4 house of the talk's reference 1 with an inner
    wall and a fire room below the goal.

    ## Action Space
    ``Discrete(4)``:

    - 0: Move up
    - 1: Move right
    - 2: Move down
    - 3: Move left

    ## Observation Space
    ``Discrete(n)`` where ``n`` is the number of non-wall cells. The observation is the state
    index of the robot's cell, cells numbered row by row skipping walls (``GridWorld.index``
    maps a ``(row, col)`` to it). The observation is returned as an ``int``.

    ## Starting State
    The episode starts in the cell marked ``A``.

    ## Reward
    ``goal_reward`` (+1) for the move into the goal, ``fire_reward`` (-1) for the move into a
    fire room, ``step_reward`` (0) for any other move.

    ## Episode End
    The episode terminates when the robot enters the goal or a fire room. It is truncated
    after ``max_steps`` steps.

    ## Information
    ``step()`` and ``reset()`` return ``{"prob": p}``: the probability of the transition that
    happened (1.0 at reset).

    ## Arguments
    ```python
    import gymnasium as gym
    import odsc_recsys.gridworld  # registers the id
    gym.make("odsc_recsys/RobotGridWorld-v0", layout="floydhub", slip=0.2)
    ```

    - ``layout``: a name from ``LAYOUTS``, a multi-line string or a list of row strings
      (``.`` floor, ``#`` wall, ``A`` start, ``G`` goal, ``F`` fire).
    - ``slip``: probability in ``[0, 1]`` of not going where intended (default 0).
    - ``goal_reward``, ``fire_reward``, ``step_reward``: the rewards above.
    - ``max_steps``: truncation horizon (default 100).
    - ``render_mode``: ``None`` or ``"ansi"`` (a text picture with ``R`` for the robot).

    ## References
    The footprints example: https://blog.floydhub.com/an-introduction-to-q-learning-reinforcement-learning/
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        layout: str | Sequence[str] = "slide",
        slip: float = 0.0,
        goal_reward: float = 1.0,
        fire_reward: float = -1.0,
        step_reward: float = 0.0,
        max_steps: int = 100,
        render_mode: str | None = None,
    ) -> None:
        checks.one_of("render_mode", render_mode, [None, *self.metadata["render_modes"]])
        self.max_steps = checks.positive_int("max_steps", max_steps)
        self.grid = GridWorld(layout)
        self.slip = checks.probability("slip", slip)
        self.mdp = transition_model(self.grid, self.slip, goal_reward, fire_reward, step_reward)
        self.render_mode = render_mode
        self.observation_space = spaces.Discrete(self.grid.n_states)
        self.action_space = spaces.Discrete(self.grid.n_actions)
        # Outcomes of every (state, action) with cumulative probabilities, for fast sampling.
        self._outcomes = [
            [np.flatnonzero(self.mdp.P[s, a]) for a in range(self.grid.n_actions)]
            for s in range(self.grid.n_states)
        ]
        self._cumulative = [
            [np.cumsum(self.mdp.P[s, a, out]) for a, out in enumerate(row)]
            for s, row in enumerate(self._outcomes)
        ]
        self.state = self.grid.start_state
        self._steps = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, float]]:
        if seed is not None:  # checked before the generator is replaced
            seed = checks.count("seed", seed)
        if options is not None and not isinstance(options, Mapping):
            raise ValueError(f"options must be a dict or None, got {options!r}")
        super().reset(seed=seed)
        self.state = self.grid.start_state
        self._steps = 0
        return int(self.state), {"prob": 1.0}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, float]]:
        # Integers only: 1.0 is not an action (range's `in` would accept it), True neither.
        if not isinstance(action, int | np.integer) or isinstance(action, bool | np.bool_) \
                or action not in range(self.grid.n_actions):  # fmt: skip
            raise ValueError(
                f"action must be 0 (up), 1 (right), 2 (down) or 3 (left), got {action!r}"
            )
        action = int(action)
        outcomes = self._outcomes[self.state][action]
        if outcomes.size == 1:  # deterministic: no random draw needed
            next_state = int(outcomes[0])
        else:
            cumulative = self._cumulative[self.state][action]
            i = int(np.searchsorted(cumulative, self.np_random.random(), side="right"))
            next_state = int(outcomes[min(i, outcomes.size - 1)])  # guards float round-off
        reward = float(self.mdp.reward[self.state, action, next_state])
        prob = float(self.mdp.P[self.state, action, next_state])
        self.state = next_state
        self._steps += 1
        terminated = bool(self.grid.terminal[next_state])
        truncated = not terminated and self._steps >= self.max_steps
        return next_state, reward, terminated, truncated, {"prob": prob}

    def render(self) -> str | None:
        if self.render_mode is None:
            gym.logger.warn("render() needs render_mode='ansi'")
            return None
        r0, c0 = self.grid.cells[self.state]
        lines = [
            "".join("R" if (r, c) == (r0, c0) else ch for c, ch in enumerate(row))
            for r, row in enumerate(self.grid.rows)
        ]
        return "\n".join(lines) + "\n"


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="odsc_recsys.gridworld:RobotGridWorldEnv")
