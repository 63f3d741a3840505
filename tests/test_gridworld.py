"""Tests of the robot grid world: layouts, the transition model, value iteration, the env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys.gridworld import (
    DOWN,
    ENV_ID,
    LEFT,
    RIGHT,
    UP,
    GridWorld,
    RobotGridWorldEnv,
    format_policy,
    format_values,
    greedy_policy,
    optimal_actions,
    plot_gridworld,
    q_from_values,
    transition_model,
    value_grid,
    value_iteration,
)

# The talk's slide, by hand: a cell at Manhattan distance d from the goal is worth 0.9 ** (d - 1).
SLIDE_TABLE = np.array(
    [
        [np.nan, 1.0, 0.9],
        [1.0, 0.9, 0.81],
        [0.9, 0.81, 0.729],
        [0.81, 0.729, 0.6561],
    ]
)


def solve(layout: str | list[str], slip: float = 0.0, gamma: float = 0.9):
    grid = GridWorld(layout)
    return grid, value_iteration(transition_model(grid, slip), gamma)


def test_slide_values_match_the_talk():
    grid, result = solve("slide")
    assert result.converged
    np.testing.assert_allclose(value_grid(grid, result.values), SLIDE_TABLE, atol=1e-12)


def test_slide_value_table_text():
    grid, result = solve("slide")
    assert format_values(grid, result.values, digits=3).splitlines() == [
        "    G     1   0.9",
        "    1   0.9  0.81",
        "  0.9  0.81 0.729",
        " 0.81 0.729 0.656",
    ]


def test_floydhub_values_by_hand():
    # Shortest paths avoid the wall and the fire; the bottom-right cell goes left, not up.
    grid, result = solve("floydhub")
    expected = np.array(
        [
            [0.81, 0.9, 1.0, np.nan],
            [0.729, np.nan, 0.9, np.nan],
            [0.6561, 0.729, 0.81, 0.729],
        ]
    )
    np.testing.assert_allclose(value_grid(grid, result.values), expected, atol=1e-12)
    s = grid.index[2, 3]
    assert optimal_actions(result.q_values, grid.terminal)[s].tolist() == [
        False,
        False,
        False,
        True,
    ]
    # Moving up from there means entering the fire: reward -1 and the episode ends.
    assert result.q_values[s, UP] == pytest.approx(-1.0)


def test_two_footprints_tie_in_the_slide_grid():
    grid, result = solve("slide")
    mask = optimal_actions(result.q_values, grid.terminal)
    assert set(np.flatnonzero(mask[grid.index[1, 1]])) == {UP, LEFT}
    assert set(np.flatnonzero(mask[grid.index[0, 1]])) == {LEFT}
    assert greedy_policy(result.q_values, grid.terminal)[grid.index[0, 0]] == -1
    assert format_policy(grid, result.q_values).splitlines()[0].split() == ["G", "\u2190", "\u2190"]


def test_stochastic_values_by_hand():
    # One row "AG": moving right reaches the goal with 1 - slip; every slip (up, down or back)
    # bumps into a wall and stays, so V = (1 - slip) + gamma * slip * V.
    grid, result = solve(["AG"], slip=0.3, gamma=0.9)
    assert result.values[grid.start_state] == pytest.approx(0.7 / (1 - 0.9 * 0.3), abs=1e-9)
    # With slip 0.9 aiming at the goal is worst: aiming up, down or left slips right w.p. 0.3.
    grid, result = solve(["AG"], slip=0.9, gamma=0.9)
    assert result.values[grid.start_state] == pytest.approx(0.3 / (1 - 0.9 * 0.7), abs=1e-9)
    assert not optimal_actions(result.q_values, grid.terminal)[grid.start_state, RIGHT]


def test_transition_model_rows_and_slip_directions():
    grid = GridWorld("slide")
    mdp = transition_model(grid, slip=0.3)
    np.testing.assert_allclose(mdp.P.sum(axis=2), 1.0)
    # From the middle cell (1, 1) aiming up: up 0.7; right, down, left 0.1 each.
    s = grid.index[1, 1]
    expected = {
        grid.index[0, 1]: 0.7,
        grid.index[1, 2]: 0.1,
        grid.index[2, 1]: 0.1,
        grid.index[1, 0]: 0.1,
    }
    assert {int(k): round(float(mdp.P[s, UP, k]), 12) for k in np.flatnonzero(mdp.P[s, UP])} == {
        int(k): v for k, v in expected.items()
    }
    # The goal is absorbing with zero reward.
    goal = grid.index[0, 0]
    assert mdp.P[goal, DOWN, goal] == 1.0 and not mdp.reward[goal].any()
    # Expected reward of moving left from (0, 1) into the goal.
    assert mdp.R[grid.index[0, 1], LEFT] == pytest.approx(0.7)


@settings(max_examples=40, deadline=None)
@given(slip=st.floats(0.0, 1.0), gamma=st.floats(0.0, 0.99))
def test_slipping_never_helps_and_values_are_a_fixed_point(slip, gamma):
    grid = GridWorld("slide")
    deterministic = value_iteration(transition_model(grid, 0.0), gamma).values
    mdp = transition_model(grid, slip)
    result = value_iteration(mdp, gamma)
    assert result.converged
    # No policy reaches the goal in fewer steps than the shortest path.
    assert np.all(result.values <= deterministic + 1e-9)
    assert np.all(result.values >= -1e-12)
    # Bellman optimality: V = max_a Q with Q computed from V.
    backup = q_from_values(mdp, result.values, gamma).max(axis=1)
    backup[grid.terminal] = 0.0
    np.testing.assert_allclose(backup, result.values, atol=1e-8)


def test_value_iteration_history_spreads_footprints():
    grid = GridWorld("slide")
    result = value_iteration(transition_model(grid), 0.9, record=True)
    # After one sweep only the goal's neighbours know anything.
    first = value_grid(grid, result.history[1])
    assert np.nansum(first) == pytest.approx(2.0)
    assert result.history.shape == (result.n_sweeps + 1, grid.n_states)
    assert result.deltas[-1] == 0.0


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("nowhere", "unknown layout"),
        (["G.", "..A"], "same length"),
        (["G.", ".."], "exactly one start"),
        (["GA", "AA"], "exactly one start"),
        (["..", ".A"], "at least one goal"),
        (["GX", ".A"], "unknown layout character"),
        ([], "non-empty"),
    ],
)
def test_invalid_grids_are_rejected(layout, message):
    with pytest.raises(ValueError, match=message):
        GridWorld(layout)


@pytest.mark.parametrize("gamma", [-0.1, 1.1, float("nan"), "0.9"])
def test_value_iteration_rejects_bad_gamma(gamma):
    with pytest.raises(ValueError, match="gamma"):
        value_iteration(transition_model(GridWorld("slide")), gamma)


@pytest.mark.parametrize("slip", [-0.01, 1.5, float("nan")])
def test_bad_slip_is_rejected(slip):
    with pytest.raises(ValueError, match="slip"):
        transition_model(GridWorld("slide"), slip)
    with pytest.raises(ValueError, match="slip"):
        RobotGridWorldEnv(slip=slip)


def test_bad_numbers_and_modes_are_named():
    mdp = transition_model(GridWorld("slide"))
    for tol in (0.0, -1e-3, float("nan"), "1e-9"):
        with pytest.raises(ValueError, match=rf"tol must be a finite number > 0, got {tol!r}"):
            value_iteration(mdp, tol=tol)
    for max_steps in (0, True, 2.5):
        with pytest.raises(ValueError, match="max_steps must be a positive integer"):
            RobotGridWorldEnv(max_steps=max_steps)
    with pytest.raises(ValueError, match="render_mode must be one of None, 'ansi', got 'human'"):
        RobotGridWorldEnv(render_mode="human")
    assert RobotGridWorldEnv(max_steps=np.int64(3)).max_steps == 3


def test_text_tables_mark_walls_goals_and_fires():
    grid, result = solve("floydhub")
    values = format_values(grid, result.values, digits=2).splitlines()
    assert [line.split() for line in values] == [
        ["0.81", "0.9", "1", "G"],
        ["0.73", "#", "0.9", "F"],
        ["0.66", "0.73", "0.81", "0.73"],
    ]
    policy = [line.split() for line in format_policy(grid, result.q_values).splitlines()]
    assert [row[-1] for row in policy] == ["G", "F", "\u2190"]  # the corner under the fire
    assert policy[1][1] == "#" and policy[0][2] == "\u2192"


def test_multiline_layout_and_walls():
    grid = GridWorld("""
        A#G
        ...
    """)
    assert grid.shape == (2, 3) and grid.n_states == 5
    assert grid.index[0, 1] == -1
    assert grid.move(grid.start_state, RIGHT) == grid.start_state  # bumps into the wall
    _, result = solve(["A#G", "..."])
    assert result.values[grid.start_state] == pytest.approx(0.9**3)


@pytest.mark.parametrize("kwargs", [{}, {"layout": "floydhub", "slip": 0.2}])
def test_check_env_passes(kwargs):
    check_env(RobotGridWorldEnv(**kwargs), skip_render_check=True)
    check_env(gym.make(ENV_ID, render_mode="ansi", **kwargs).unwrapped)


def test_env_dynamics_deterministic():
    env = RobotGridWorldEnv(layout="slide", max_steps=50)
    state, info = env.reset(seed=0)
    grid = env.grid
    assert state == grid.index[3, 2] and info == {"prob": 1.0}
    assert env.step(RIGHT)[:4] == (state, 0.0, False, False)  # outer wall
    path = [UP, UP, UP, LEFT]
    for action in path:
        state, reward, terminated, truncated, _ = env.step(action)
    assert state == grid.index[0, 1] and not terminated
    state, reward, terminated, truncated, _ = env.step(LEFT)
    assert (state, reward, terminated, truncated) == (grid.index[0, 0], 1.0, True, False)


def test_env_truncates_and_is_reproducible():
    env = RobotGridWorldEnv(layout="floydhub", slip=0.5, max_steps=7)

    def rollout(seed: int) -> list[int]:
        state, _ = env.reset(seed=seed)
        states, done = [state], False
        while not done:
            state, _, terminated, truncated, _ = env.step(DOWN)  # the bottom wall: mostly bumps
            states.append(state)
            done = terminated or truncated
        return states

    first = rollout(3)
    assert first == rollout(3)
    assert len(first) <= 8
    with pytest.raises(ValueError, match="action"):
        env.step(4)


def test_env_slip_frequency_matches_the_model():
    env = RobotGridWorldEnv(layout="slide", slip=0.3)
    env.reset(seed=1)
    start = env.grid.start_state
    n, moved_up = 4000, 0
    for _ in range(n):
        env.state = start
        moved_up += env.step(UP)[0] == env.grid.index[2, 2]
    # Intended move with probability 0.7 (4 standard deviations is about 0.029).
    assert abs(moved_up / n - 0.7) < 0.03


def test_render_ansi():
    env = RobotGridWorldEnv(layout="floydhub", render_mode="ansi")
    env.reset(seed=0)
    assert env.render() == "...G\n.#.F\nR...\n"


def test_plot_draws_one_arrow_per_optimal_action():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid, result = solve("slide")
    ax = plot_gridworld(grid, result.values, result.q_values, title="t")
    n_arrows = sum(1 for child in ax.get_children() if type(child).__name__ == "Annotation")
    assert n_arrows == int(optimal_actions(result.q_values, grid.terminal).sum()) == 17
    texts = {t.get_text() for t in ax.texts}
    assert {"goal", "A", "0.656", "0.729"} <= texts
    plt.close("all")


def test_plot_text_is_legible_on_a_projector():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from odsc_recsys import plotting

    with matplotlib.rc_context():
        plotting.use_projector_style()
        for layout in ("slide", "floydhub"):
            grid, result = solve(layout)
            for values in (None, result.values):
                ax = plot_gridworld(grid, values, result.q_values, title="a title")
                sizes = [t.get_fontsize() for t in ax.texts] + [ax.title.get_fontsize()]
                sizes += [t.get_fontsize() for t in ax.get_xticklabels()]
                assert min(sizes) >= 11, (layout, sizes)
                # a room is at least an inch wide, so three-digit values fit
                width = ax.figure.get_size_inches()[0] / grid.shape[1]
                assert width >= 1.0
                plt.close("all")


def test_bellman_explorer_redraws_on_slider_change():
    from odsc_recsys.widgets.gridworld import bellman_explorer

    panel = bellman_explorer("slide", gamma=0.9, slip=0.0)
    controls = panel.controls
    gamma_slider, slip_slider = controls.gamma, controls.slip
    picture, table = controls.picture, controls.table
    assert "0.656" in table.value and bytes(picture.value).startswith(b"\x89PNG")
    gamma_slider.value = 0.5
    assert "0.0625" in table.value and "0.656" not in table.value
    slip_slider.value = 0.3
    assert "0.0625" not in table.value
    with pytest.raises(ValueError, match="slip"):
        bellman_explorer(slip=2.0)
