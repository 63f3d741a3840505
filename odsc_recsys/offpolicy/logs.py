"""Logged sessions with propensities, and the true value of a policy by running it online.

A log is what a deployed service keeps: at each step, what the user had watched, which movie
the *behaviour* policy showed, how likely it was to show it (the propensity), and the reward.
Off-policy evaluation estimates another policy's value from such a log alone; in the simulator
we can also run that policy and measure its value, to see how good the estimates are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import checks
from ..online import mean_interval, run_sessions, session_seeds
from ..simulator import MovieLensUserEnv
from .policies import StochasticPolicy, checked_policy, draw

__all__ = ["SessionLog", "log_sessions", "true_value"]


def _int_array(name: str, values: object) -> np.ndarray:
    """``values`` as a 1-d int64 array (an empty sequence is one), else a ValueError naming it."""
    array = np.asarray(values)
    if array.ndim != 1 or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must be a 1-d array of integers, got {checks.short_repr(values)}")
    return array.astype(np.int64, copy=False)


@dataclass(frozen=True)
class SessionLog:
    """Every step of logged sessions, in session order then step order.

    Attributes
    ----------
    session, step : int64 arrays (n_steps,)
        Session index (``0 .. n_sessions - 1``, non-decreasing) and step within the session
        (``0, 1, 2, ...`` in each session).
    history : tuple of int64 arrays
        What the policy saw at each step: the movies watched in the session *before* this
        step, the opening movies included.
    action : int64 array (n_steps,)
        The movie shown (a one-movie slate).
    propensity : float array (n_steps,)
        The behaviour policy's probability of ``action`` given ``history``, in ``(0, 1]``.
    reward : float array (n_steps,)
        The environment's reward of the step (1 for a click by default).
    n_sessions, n_items : int
    behaviour_name : str

    Raises
    ------
    ValueError
        On construction, if the arrays differ in length, a propensity is not in ``(0, 1]``, a
        reward is not finite, a movie is outside the catalogue, or sessions and steps are not
        in order (each session's steps ``0, 1, 2, ...``).
    """

    session: np.ndarray
    step: np.ndarray
    history: tuple[np.ndarray, ...]
    action: np.ndarray
    propensity: np.ndarray
    reward: np.ndarray
    n_sessions: int
    n_items: int
    behaviour_name: str

    def __post_init__(self) -> None:
        """Check every field (see the class docstring) and store them as validated arrays."""
        n_sessions = checks.count("n_sessions", self.n_sessions)
        n_items = checks.positive_int("n_items", self.n_items)
        checks.text("behaviour_name", self.behaviour_name)
        session, step = _int_array("session", self.session), _int_array("step", self.step)
        action = _int_array("action", self.action)
        propensity = checks.finite_array("propensity", self.propensity, ndim=1)
        reward = checks.finite_array("reward", self.reward, ndim=1)
        if not isinstance(self.history, tuple):
            raise ValueError(f"history must be a tuple of int arrays, got "
                             f"{type(self.history).__name__}")  # fmt: skip
        n = session.size
        for name, values in (("step", step), ("history", self.history), ("action", action),
                             ("propensity", propensity), ("reward", reward)):  # fmt: skip
            if len(values) != n:
                raise ValueError(f"{name} must have one entry per logged step ({n}, the length "
                                 f"of session), got {len(values)}")  # fmt: skip
        checks.indices("action", action, n_items)
        bad = (propensity <= 0) | (propensity > 1)
        if bad.any():
            raise ValueError(f"propensity must be probabilities in (0, 1], got "
                             f"{checks.first_bad(propensity, bad)}")  # fmt: skip
        if n and (session.min() < 0 or session.max() >= n_sessions):
            bad = (session < 0) | (session >= n_sessions)
            raise ValueError(f"session must be integers in [0, {n_sessions - 1}], got "
                             f"{checks.first_bad(session, bad)}")  # fmt: skip
        starts = np.r_[True, session[1:] != session[:-1]] if n else np.zeros(0, dtype=bool)
        expected = np.arange(n) - np.maximum.accumulate(np.where(starts, np.arange(n), 0))
        if np.any(np.diff(session) < 0) or np.any(step != expected):
            raise ValueError("session and step must list each session's steps 0, 1, 2, ... in "
                             "order, sessions in increasing order")  # fmt: skip
        hist = tuple(_int_array(f"history[{j}]", h) for j, h in enumerate(self.history))
        for j, h in enumerate(hist):
            if h.size and (h.min() < 0 or h.max() >= n_items):
                checks.indices(f"history[{j}]", h, n_items)
        for name, value in (("session", session), ("step", step), ("history", hist),
                            ("action", action), ("propensity", propensity), ("reward", reward),
                            ("n_sessions", n_sessions), ("n_items", n_items)):  # fmt: skip
            object.__setattr__(self, name, value)

    @property
    def n_steps(self) -> int:
        """Number of logged steps."""
        return int(self.session.size)

    @property
    def lengths(self) -> np.ndarray:
        """Steps per session, ``(n_sessions,)`` int64."""
        return np.bincount(self.session, minlength=self.n_sessions).astype(np.int64)

    def sessions(self, start: int, stop: int) -> SessionLog:
        """The sessions ``start .. stop - 1``, renumbered from 0, as a log of their own."""
        start = checks.integer("start", start, 0, self.n_sessions)
        stop = checks.integer("stop", stop, start, self.n_sessions)
        lo, hi = np.searchsorted(self.session, [start, stop])
        return SessionLog(
            session=self.session[lo:hi] - start, step=self.step[lo:hi],
            history=self.history[lo:hi], action=self.action[lo:hi],
            propensity=self.propensity[lo:hi], reward=self.reward[lo:hi],
            n_sessions=stop - start, n_items=self.n_items, behaviour_name=self.behaviour_name,
        )  # fmt: skip


def _check_env_policy(env: object, policy: object, name: str) -> None:
    """``env`` is a simulator and ``policy`` a one-movie stochastic policy of its catalogue."""
    if not isinstance(env, MovieLensUserEnv):
        raise ValueError(f"env must be a MovieLensUserEnv (for a gym.make environment, pass "
                         f"env.unwrapped), got {type(env).__name__}")  # fmt: skip
    checked_policy(name, policy, env.n_items, "the environment's")


def log_sessions(
    env: MovieLensUserEnv, behaviour: StochasticPolicy, n_sessions: int, seed: int
) -> SessionLog:
    """Run ``behaviour`` for ``n_sessions`` sessions and log every step with its propensity.

    Session ``j`` resets the environment with ``session_seeds(seed, n_sessions)[j]`` and the
    policy draws from ``np.random.default_rng([seed, 1])``, exactly as
    :func:`odsc_recsys.online.run_sessions` does: logging a policy replays the sessions that
    running it gives (common random numbers). At each step the distribution is computed once,
    the movie drawn from it, and its probability recorded as the propensity.

    Raises
    ------
    ValueError
        If ``env`` is not a :class:`MovieLensUserEnv`, ``behaviour`` not a
        :class:`StochasticPolicy` of its catalogue, ``n_sessions`` not a positive integer or
        ``seed`` not a non-negative integer. Checked before the first reset.
    """
    _check_env_policy(env, behaviour, "behaviour")
    n_sessions = checks.positive_int("n_sessions", n_sessions)
    seed = checks.count("seed", seed)
    rng = np.random.default_rng([seed, 1])
    session: list[int] = []
    step: list[int] = []
    history: list[np.ndarray] = []
    action: list[int] = []
    propensity: list[float] = []
    reward: list[float] = []
    for j, s in enumerate(session_seeds(seed, n_sessions).tolist()):
        env.reset(seed=s)
        done, t = False, 0
        while not done:
            seen = env.history
            p = behaviour.probabilities(seen)
            a = draw(p, rng)  # the same single draw as behaviour.act
            _, r, terminated, truncated, _ = env.step(np.array([a], dtype=np.int64))
            session.append(j)
            step.append(t)
            history.append(seen)
            action.append(a)
            propensity.append(float(p[a]))
            reward.append(r)
            done, t = terminated or truncated, t + 1
    return SessionLog(
        session=np.array(session, dtype=np.int64), step=np.array(step, dtype=np.int64),
        history=tuple(history), action=np.array(action, dtype=np.int64),
        propensity=np.array(propensity), reward=np.array(reward, dtype=np.float64),
        n_sessions=n_sessions, n_items=env.n_items, behaviour_name=behaviour.name,
    )  # fmt: skip


def true_value(
    env: MovieLensUserEnv, policy: StochasticPolicy, n_sessions: int, seed: int
) -> tuple[float, float, float]:
    """A policy's value measured online: mean reward per session (clicks per session by
    default) over ``n_sessions`` sessions, with a 95% t-interval over sessions.

    Returns
    -------
    (mean, low, high)

    Raises
    ------
    ValueError
        As :func:`log_sessions` (``n_sessions`` must be at least 2 for an interval).
    """
    _check_env_policy(env, policy, "policy")
    n_sessions = checks.integer("n_sessions", n_sessions, 2)
    seed = checks.count("seed", seed)
    return mean_interval(run_sessions(env, policy, n_sessions, seed)["reward"])
