"""Run loops: one session, sessions in a row, and every agent in every setting for every seed.

Experiments use **common random numbers**: session ``j`` of experiment seed ``seed`` resets
the environment with :func:`session_seeds` ``(seed, ...)[j]`` whatever the agent or setting,
so every agent meets the same users in the same order with the same random draws.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import checks
from ..simulator import MovieLensUserEnv
from .agents import Agent, OracleAgent

__all__ = [
    "SESSION_METRICS",
    "SessionResult",
    "run_experiment",
    "run_oracle",
    "run_session",
    "run_sessions",
    "session_seeds",
    "simulate_log",
]

#: Metrics recorded per session (see :func:`run_session`).
SESSION_METRICS = (
    "steps", "clicks", "reward", "ctr", "left", "diversity", "genres", "rating", "coverage",
)  # fmt: skip


@dataclass(frozen=True)
class SessionResult:
    """What happened in one session (one row of the results table)."""

    user_id: int
    steps: int
    clicks: int
    reward: float
    left: bool
    diversity: float
    genres: int
    rating: float

    @property
    def ctr(self) -> float:
        return self.clicks / self.steps if self.steps else 0.0


def run_session(
    env: MovieLensUserEnv,
    agent: Agent,
    rng: np.random.Generator,
    seed: int | None = None,
    user_id: int | None = None,
    shown: np.ndarray | None = None,
    log: list[dict[str, Any]] | None = None,
) -> SessionResult:
    """Play one session: reset, then act and learn until the user leaves or time runs out.

    Parameters
    ----------
    env : MovieLensUserEnv
        The simulator (unwrapped: the loop is hot).
    agent : Agent
    rng : numpy.random.Generator
        The agent's randomness (exploration, random slates).
    seed : int, optional
        Seed of ``env.reset``; fixes the user and every random draw of the environment.
    user_id : int, optional
        Force this MovieLens user.
    shown : bool array (n_items,), optional
        Marked ``True`` for every movie shown (to measure catalogue coverage over sessions).
    log : list, optional
        Receives one dict per step: ``user_id, step, clicked, position, rating``.

    Returns
    -------
    SessionResult
        ``diversity`` is the mean share of distinct primary genres in a slate (1 = every
        movie a different genre); ``genres`` the number of distinct primary genres watched;
        ``rating`` the mean rating of the watched movies (NaN without a click).

    Raises
    ------
    ValueError
        If an argument has the wrong type, the agent's slates are longer than ``env.k`` or
        its catalogue is not the environment's, ``shown`` is not a writable boolean array of
        ``n_items``, or ``seed`` or ``user_id`` is refused by ``env.reset``. The check comes
        before the reset, so a refused call changes neither the environment nor the agent.
    """
    seed = _check_session_arguments(env, agent, rng, seed, user_id, shown, log)
    options = {"user_id": user_id} if user_id is not None else None
    obs, _ = env.reset(seed=seed, options=options)
    return _play_session(env, agent, rng, obs, shown, log)


def _check_session_arguments(
    env: object,
    agent: object,
    rng: object,
    seed: object,
    user_id: object,
    shown: object,
    log: object,
) -> int | None:
    """Refuse what :func:`run_session` cannot play, before the reset; ``seed`` as an int."""
    _check_players(env, agent)
    checks.generator("rng", rng)
    if seed is not None:
        seed = checks.count("seed", seed)
    if user_id is not None:
        env.model.user_index(user_id)
    if shown is not None and not (
        isinstance(shown, np.ndarray) and shown.dtype == bool and shown.shape == (env.n_items,)
        and shown.flags.writeable
    ):  # fmt: skip
        raise ValueError(f"shown must be a writable boolean array of shape ({env.n_items},) or "
                         f"None, got {checks.short_repr(shown)}")  # fmt: skip
    if log is not None and not isinstance(log, list):
        raise ValueError(f"log must be a list or None, got {checks.short_repr(log)}")
    return seed


def _play_session(
    env: MovieLensUserEnv,
    agent: Agent,
    rng: np.random.Generator,
    obs: Any,
    shown: np.ndarray | None,
    log: list[dict[str, Any]] | None,
) -> SessionResult:
    """The steps of a session just reset to ``obs``, until the user leaves or time runs out.

    The tallies are plain locals, not an object, because this loop is the hot one of every
    experiment.
    """
    genre = env.model.primary_genre
    steps = clicks = 0
    total = 0.0
    diversity = 0.0
    watched_genres: set[int] = set()
    ratings: list[int] = []
    done = left = False
    while not done:
        slate = np.asarray(agent.act(obs, env.history, rng), dtype=np.int64)
        next_obs, reward, terminated, truncated, info = env.step(slate)
        clicked = int(info["clicked"])
        agent.learn(obs, slate, clicked, reward, next_obs, terminated)
        if log is not None:
            log.append(
                {"user_id": info["user_id"], "step": steps, "clicked": clicked,
                 "position": info["position"], "rating": info["rating"]}
            )  # fmt: skip
        steps += 1
        total += reward
        if slate.size:
            diversity += len(set(genre[slate].tolist())) / slate.size
            if shown is not None:
                shown[slate] = True
        if clicked >= 0:
            clicks += 1
            watched_genres.add(int(genre[clicked]))
            ratings.append(int(info["rating"]))
        obs = next_obs
        done = terminated or truncated
        left = terminated
    return SessionResult(
        user_id=int(info["user_id"]),
        steps=steps,
        clicks=clicks,
        reward=total,
        left=left,
        diversity=diversity / steps,
        genres=len(watched_genres),
        rating=float(np.mean(ratings)) if ratings else float("nan"),
    )


def session_seeds(seed: int, n_sessions: int) -> np.ndarray:
    """The environment seeds of sessions ``0 .. n_sessions - 1`` of experiment seed ``seed``:
    the same for every agent and setting (common random numbers).

    ``seed`` and ``n_sessions`` must be non-negative integers (``1.5`` is not read as 1).
    """
    seed = checks.count("seed", seed)
    n_sessions = checks.count("n_sessions", n_sessions)
    return np.random.default_rng([seed, 0]).integers(0, 2**31 - 1, size=n_sessions)


def simulate_log(env: MovieLensUserEnv, agent: Agent, n_sessions: int, seed: int) -> pd.DataFrame:
    """Every step of ``n_sessions`` sessions: ``session, user_id, step, clicked, position,
    rating`` (``clicked = -1`` without a click); for comparing the simulator with the data.

    Raises
    ------
    ValueError
        If ``n_sessions`` is not a positive integer, ``seed`` not a non-negative integer, or
        ``env`` and ``agent`` do not fit together (see :func:`run_session`).
    """
    n_sessions = checks.positive_int("n_sessions", n_sessions)
    seed = checks.count("seed", seed)
    _check_players(env, agent)
    rng = np.random.default_rng([seed, 1])
    rows: list[dict[str, Any]] = []
    for j, s in enumerate(session_seeds(seed, n_sessions).tolist()):
        start = len(rows)
        run_session(env, agent, rng, seed=s, log=rows)
        for row in rows[start:]:
            row["session"] = j
    cols = ["session", "user_id", "step", "clicked", "position", "rating"]
    return pd.DataFrame(rows, columns=cols)


def run_sessions(
    env: MovieLensUserEnv,
    agent: Agent,
    n_sessions: int,
    seed: int,
    start: int = 0,
    coverage_from: int | None = None,
) -> pd.DataFrame:
    """Run sessions ``start .. start + n_sessions - 1`` in a row (a learning agent keeps
    learning across them).

    Session ``j`` resets the environment with ``session_seeds(seed, start + n_sessions)[j]``,
    so a static agent run from ``start`` meets exactly the users a learning agent met there;
    the agent's own randomness comes from ``default_rng([seed, 1])``.

    Parameters
    ----------
    coverage_from : int, optional
        First session whose slates count toward ``coverage`` (default ``start``). Comparing
        agents on a window of sessions needs coverage over that same window: a learning agent
        run from session 0 has otherwise shown movies for longer than a static agent run from
        the window's start.

    Returns
    -------
    DataFrame
        One row per session: ``session``, ``user_id``, the metrics of :class:`SessionResult`,
        ``ctr`` and ``coverage`` (share of the catalogue shown from ``coverage_from`` up to
        this session; NaN before ``coverage_from``).
    """
    n_sessions = checks.positive_int("n_sessions", n_sessions)
    seed = checks.count("seed", seed)
    start = checks.count("start", start)
    coverage_from = checks.integer(
        "coverage_from", start if coverage_from is None else coverage_from, low=start
    )
    _check_players(env, agent)
    rng = np.random.default_rng([seed, 1])
    shown = np.zeros(env.n_items, dtype=bool)
    rows = []
    seeds = session_seeds(seed, start + n_sessions)[start:].tolist()
    for j, s in enumerate(seeds, start=start):
        counted = j >= coverage_from  # slates shown before coverage_from are not marked
        r = run_session(env, agent, rng, seed=s, shown=shown if counted else None)
        rows.append(
            {
                "session": j,
                "user_id": r.user_id,
                "steps": r.steps,
                "clicks": r.clicks,
                "reward": r.reward,
                "ctr": r.ctr,
                "left": r.left,
                "diversity": r.diversity,
                "genres": r.genres,
                "rating": r.rating,
                "coverage": float(shown.mean()) if counted else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def run_experiment(
    envs: Mapping[str, MovieLensUserEnv],
    agents: Mapping[str, Callable[[int], Agent]],
    seeds: Iterable[int],
    n_sessions: int,
    start: int = 0,
    coverage_from: int | None = None,
) -> pd.DataFrame:
    """Every agent in every environment setting, for every seed.

    Parameters
    ----------
    envs : mapping label -> MovieLensUserEnv
        The settings, e.g. ``{"drift off": ..., "drift on": ...}``.
    agents : mapping name -> factory(seed) -> Agent
        A factory, so that a learning agent starts fresh for each seed and setting.
    seeds : iterable of int
    n_sessions : int
        Sessions per (setting, agent, seed).
    start : int
        Index of the first session (see :func:`run_sessions`).
    coverage_from : int, optional
        First session counted in ``coverage`` (see :func:`run_sessions`).

    Returns
    -------
    DataFrame
        The rows of :func:`run_sessions` with ``setting``, ``agent`` and ``seed`` columns.

    Raises
    ------
    ValueError
        If a mapping is empty or holds the wrong kind of value, ``seeds`` is empty, repeats
        a seed (its sessions would be counted twice) or holds a non-integer, or the session
        arguments are refused by :func:`run_sessions`. Everything is checked before the first
        session is run.
    """
    seeds = _seed_list(seeds)  # iterated once per (setting, agent): an iterator would run out
    n_sessions = checks.positive_int("n_sessions", n_sessions)
    start = checks.count("start", start)
    checks.integer("coverage_from", start if coverage_from is None else coverage_from, low=start)
    for name, mapping in (("envs", envs), ("agents", agents)):
        if not isinstance(mapping, Mapping) or not mapping:
            raise ValueError(f"{name} must be a non-empty mapping label -> "
                             f"{'environment' if name == 'envs' else 'agent factory'}, got "
                             f"{checks.short_repr(mapping)}")  # fmt: skip
    for label, env in envs.items():
        if not isinstance(env, MovieLensUserEnv):
            raise ValueError(f"envs[{label!r}] must be a MovieLensUserEnv, got "
                             f"{type(env).__name__}")  # fmt: skip
    for name, make in agents.items():
        if not callable(make):
            raise ValueError(f"agents[{name!r}] must be a factory seed -> Agent (e.g. a "
                             f"lambda), got {checks.short_repr(make)}")  # fmt: skip
    frames = []
    for label, env in envs.items():
        for name, make in agents.items():
            for seed in seeds:
                df = run_sessions(
                    env, make(seed), n_sessions, seed, start=start, coverage_from=coverage_from
                )
                df.insert(0, "seed", seed)
                df.insert(0, "agent", name)
                df.insert(0, "setting", label)
                frames.append(df)
    return pd.concat(frames, ignore_index=True)


def run_oracle(
    envs: Mapping[str, MovieLensUserEnv],
    seeds: Iterable[int],
    n_sessions: int,
    start: int = 0,
    name: str = "Oracle",
) -> pd.DataFrame:
    """:class:`OracleAgent` in every setting, for every seed: the rows of :func:`run_experiment`.

    The oracle reads the true attraction of the environment it acts in, so each setting gets
    an oracle of its own environment (a factory of :func:`run_experiment` sees only the seed);
    its slates are as long as that environment's.

    Raises
    ------
    ValueError
        If ``envs`` is not a non-empty mapping of environments, ``name`` is empty, or
        :func:`run_experiment` refuses the rest.
    """
    name = checks.text("name", name)
    if not isinstance(envs, Mapping) or not envs:
        raise ValueError(f"envs must be a non-empty mapping label -> environment, got "
                         f"{checks.short_repr(envs)}")  # fmt: skip
    frames = [
        run_experiment({label: env}, {name: _oracle_of(env)}, seeds, n_sessions, start=start)
        for label, env in envs.items()
    ]
    return pd.concat(frames, ignore_index=True)


def _oracle_of(env: MovieLensUserEnv) -> Callable[[int], Agent]:
    """``seed -> OracleAgent(env, k=env.k)``, with ``env`` bound now (not at call time)."""
    if not isinstance(env, MovieLensUserEnv):
        raise ValueError(f"envs must hold MovieLensUserEnv environments, got "
                         f"{type(env).__name__}")  # fmt: skip
    return lambda seed: OracleAgent(env, k=env.k)


def _check_players(env: object, agent: object) -> None:
    """``env`` is a simulator and ``agent`` an agent whose slates and catalogue fit it."""
    if not isinstance(env, MovieLensUserEnv):
        raise ValueError(f"env must be a MovieLensUserEnv (for a gym.make environment, pass "
                         f"env.unwrapped), got {type(env).__name__}")  # fmt: skip
    if not isinstance(agent, Agent):
        raise ValueError(f"agent must be an Agent, got {type(agent).__name__}")
    if agent.k > env.k:
        raise ValueError(f"agent.k must be at most env.k={env.k} (the environment refuses a "
                         f"longer slate), got {agent.k!r}")  # fmt: skip
    if agent.n_items is not None and agent.n_items != env.n_items:
        raise ValueError(f"agent.n_items must be the environment's catalogue size "
                         f"{env.n_items}, got {agent.n_items!r}")  # fmt: skip


def _seed_list(seeds: Iterable[int]) -> list[int]:
    """``seeds`` as a list of distinct non-negative ints (a string is not a list of seeds)."""
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Iterable):
        raise ValueError(f"seeds must be an iterable of non-negative integers, got "
                         f"{checks.short_repr(seeds)}")  # fmt: skip
    out = [checks.count("seeds", s) for s in seeds]
    if not out:
        raise ValueError("seeds must hold at least one seed, got none")
    repeats = sorted({s for s in out if out.count(s) > 1})
    if repeats:
        raise ValueError(f"seeds must be distinct, got {repeats[0]!r} twice in {out}")
    return out
