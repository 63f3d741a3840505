"""Online evaluation in the simulator: agents, run loops, metrics with confidence bands.

Offline replay asks "would the model have predicted what the user did?". Online evaluation asks
"what does the user do when *this* model recommends?": click, stay or leave. This module runs
recommenders against :class:`odsc_recsys.simulator.MovieLensUserEnv` and aggregates what
happens.

The agent interface is small (:class:`Agent`)::

    slate = agent.act(observation, history, rng)
    agent.learn(observation, slate, clicked, reward, next_observation, done)

``observation`` is the environment's (the last 3 movies, padded), ``history`` every movie
watched this session (what a service knows about the visit), ``clicked`` the catalogue index
of the watched movie or ``-1``, ``done`` whether the user left. Static recommenders ignore
``learn``; the Q-learning agent updates its per-genre Q-tables from every step.

Experiments use **common random numbers**: with the same seed, every agent and every
environment setting meets the same users in the same order with the same random draws at each
step, so differences between agents are not noise from different users. Results are then
summarised per seed and shown as a mean over seeds with a 95% t-interval.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .protocol import Recommender, as_history, top_k
from .simulator import MovieLensUserEnv

__all__ = [
    "Agent",
    "OracleAgent",
    "PopularityAgent",
    "QLearningAgent",
    "RandomAgent",
    "RecommenderAgent",
    "SessionResult",
    "agent_colors",
    "genre_repeat_rate",
    "learning_curves",
    "mean_interval",
    "observation_state",
    "paired_difference",
    "per_seed",
    "plot_learning_curves",
    "plot_metric_bars",
    "q_update",
    "run_experiment",
    "run_session",
    "run_sessions",
    "session_seeds",
    "simulate_log",
    "summarise",
]

#: Metrics recorded per session (see :func:`run_session`).
SESSION_METRICS = (
    "steps", "clicks", "reward", "ctr", "left", "diversity", "genres", "rating", "coverage",
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Agents
# ---------------------------------------------------------------------------------------------


class Agent:
    """A recommender that acts in the simulator (and may learn from it).

    Subclasses implement :meth:`act`; learning agents also override :meth:`learn`.

    Attributes
    ----------
    name : str
        Label in result tables.
    k : int
        Slate length.
    """

    name = "agent"

    def __init__(self, k: int = 10) -> None:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        self.k = int(k)

    def act(
        self, observation: np.ndarray, history: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:  # pragma: no cover - interface
        """Return a slate: up to ``k`` distinct catalogue indices, best first."""
        raise NotImplementedError

    def learn(
        self,
        observation: np.ndarray,
        slate: np.ndarray,
        clicked: int,
        reward: float,
        next_observation: np.ndarray,
        done: bool,
    ) -> None:
        """Learn from one step (static agents do nothing)."""


class RandomAgent(Agent):
    """``k`` distinct movies drawn uniformly among those not yet watched this session."""

    name = "Random"

    def __init__(self, n_items: int, k: int = 10) -> None:
        super().__init__(k)
        self.n_items = int(n_items)

    def act(
        self, observation: np.ndarray, history: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        free = np.ones(self.n_items, dtype=bool)
        free[history] = False
        candidates = np.flatnonzero(free)
        return rng.choice(candidates, size=min(self.k, candidates.size), replace=False)


class PopularityAgent(Agent):
    """The ``k`` most popular movies not yet watched this session: the same list for everyone.

    Parameters
    ----------
    popularity : array (n_items,)
        Any popularity score, e.g. rating counts of the training data.
    """

    name = "Popularity"

    def __init__(self, popularity: np.ndarray, k: int = 10) -> None:
        super().__init__(k)
        self.popularity = np.asarray(popularity, dtype=np.float64)

    def act(
        self, observation: np.ndarray, history: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        return top_k(self.popularity, self.k, exclude=history)


class RecommenderAgent(Agent):
    """Any fitted :class:`~odsc_recsys.protocol.Recommender` (item-kNN, hybrid, ...) as a static
    agent: it recommends from the session history, excluding what was watched, and never
    updates itself."""

    def __init__(self, model: Recommender, k: int = 10, name: str | None = None) -> None:
        super().__init__(k)
        self.model = model
        self.name = name or model.name

    def act(
        self, observation: np.ndarray, history: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        return np.asarray(self.model.recommend(history, self.k, exclude=history), dtype=np.int64)


class OracleAgent(Agent):
    """The myopic ceiling: it reads the simulated user's true attraction of every movie
    (:meth:`MovieLensUserEnv.catalogue_attractiveness`) and shows the ``k`` most attractive.

    No real recommender can do this. It maximises the click probability of each slate
    (sorting by attraction is optimal for the cascade model when examination decreases down
    the slate), not the long-run return, and marks how much room there is above the others.
    """

    name = "Oracle"

    def __init__(self, env: MovieLensUserEnv, k: int = 10) -> None:
        super().__init__(k)
        self.env = env

    def act(
        self, observation: np.ndarray, history: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        return top_k(self.env.catalogue_attractiveness(), self.k, exclude=history)


def observation_state(observation: np.ndarray, pad: int) -> tuple[int, ...]:
    """The state (last up-to-3 movies, oldest first) of a padded observation."""
    obs = np.asarray(observation)
    return tuple(int(m) for m in obs[obs != pad])


def q_update(
    tables: Any,
    state: Sequence[int],
    actions: np.ndarray,
    clicked: int,
    reward: float,
    penalty: float,
    done: bool,
) -> None:
    """One online Q-learning step on per-genre Q-tables, for all three outcomes of a slate.

    * **Click, user stays**: exactly :meth:`GenreQTables.update` (the talk's rule: ``+reward``
      for the clicked movie, ``-penalty`` for the rest, target ``r + gamma max Q(s', .)`` with
      ``s'`` the sub-state of ``(m2, m3, clicked)`` that holds the clicked movie).
    * **No click**: the state does not change (nothing was watched), so ``s' = s``: every
      listed movie gets ``-penalty + gamma max_a' max_i Q(s_i, a')`` over the state's
      sub-states ``s_i``.
    * **The user left** (``done``): no future, the target is the reward alone.

    The last two are not in ``GenreQTables.update`` (it needs a clicked movie and assumes the
    episode goes on), so they write the rows directly. An empty state has no sub-state:
    nothing is updated, as in ``update``.

    Parameters
    ----------
    tables : GenreQTables
        Updated in place.
    state : sequence of int
        The last (up to) 3 movies before the slate.
    actions : array of int
        The slate (distinct movies, none in the state).
    clicked : int
        The watched movie, or ``-1``.
    reward, penalty : float
        Reward of the clicked movie and penalty of the others (both >= 0 in the talk).
    done : bool
        Whether the user left after this step (termination, not truncation).
    """
    if clicked >= 0 and not done:
        tables.update(state, actions, clicked, reward=reward, penalty=penalty)
        return
    subs = tables.decompose(state)
    actions = as_history(actions, tables.n_items)
    if len(np.unique(actions)) != len(actions):
        raise ValueError(f"the slate repeats a movie: {actions.tolist()}")
    if clicked >= 0 and not np.any(actions == clicked):
        actions = np.append(actions, clicked)
    if not subs or actions.size == 0:
        return
    rewards = np.where(actions == clicked, float(reward), -float(penalty))
    future = 0.0 if done else max(float(tables.q_row(s).max()) for s in subs)
    target = rewards + tables.gamma * future
    for s in subs:
        # No public write access to a row: GenreQTables.update covers only the click case.
        row = tables._store.writable_row(s.genre, s.row)
        old = row[actions].astype(np.float64)
        row[actions] = old + tables.alpha * (target - old)


class QLearningAgent(Agent):
    """The talk's per-genre Q-tables, learning online from simulated feedback.

    Each step: recommend epsilon-greedily from the state (the last 3 movies watched),
    excluding what was watched this session; then update every sub-state of the state with
    :func:`q_update`. The clicked movie's reward is ``reward_scale`` times the environment's
    reward (so ratings count when the environment rewards them), the other listed movies get
    ``-penalty``.

    Parameters
    ----------
    tables : GenreQTables
        The Q-tables (trained in place); their ``alpha``, ``gamma``, ``epsilon`` apply.
    pad : int
        The observation's padding value (``env.pad``, i.e. ``n_items``).
    k : int
        Slate length.
    reward_scale, penalty : float
        The talk's 15 and 5 by default.
    learn_online : bool
        False freezes the tables (and switches exploration off): a static Q policy.
    name : str
    """

    def __init__(
        self,
        tables: Any,
        pad: int,
        k: int = 10,
        reward_scale: float = 15.0,
        penalty: float = 5.0,
        learn_online: bool = True,
        name: str = "Q-learning",
    ) -> None:
        super().__init__(k)
        self.tables = tables
        self.pad = int(pad)
        self.reward_scale = float(reward_scale)
        self.penalty = float(penalty)
        self.learn_online = bool(learn_online)
        self.name = name
        self.updates = 0

    def act(
        self, observation: np.ndarray, history: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        state = observation_state(observation, self.pad)
        self._last = (observation, state)  # learn() is called next with this observation
        explore = rng if self.learn_online else None
        return self.tables.recommend(state, self.k, rng=explore, exclude=history).items

    def learn(
        self,
        observation: np.ndarray,
        slate: np.ndarray,
        clicked: int,
        reward: float,
        next_observation: np.ndarray,
        done: bool,
    ) -> None:
        if not self.learn_online:
            return
        seen, state = getattr(self, "_last", (None, ()))
        if seen is not observation:
            state = observation_state(observation, self.pad)
        q_update(self.tables, state, slate, clicked, self.reward_scale * reward, self.penalty,
                 done)  # fmt: skip
        self.updates += 1


# ---------------------------------------------------------------------------------------------
# Run loops
# ---------------------------------------------------------------------------------------------


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
    """
    options = {"user_id": user_id} if user_id is not None else None
    obs, info = env.reset(seed=seed, options=options)
    history = list(observation_state(obs, env.pad))
    genre = env.model.primary_genre
    steps = clicks = 0
    total = 0.0
    diversity = 0.0
    watched_genres: set[int] = set()
    ratings: list[int] = []
    done = left = False
    while not done:
        slate = np.asarray(agent.act(obs, np.array(history, dtype=np.int64), rng), dtype=np.int64)
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
            history.append(clicked)
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


def simulate_log(env: MovieLensUserEnv, agent: Agent, n_sessions: int, seed: int) -> pd.DataFrame:
    """Every step of ``n_sessions`` sessions: ``session, user_id, step, clicked, position,
    rating`` (``clicked = -1`` without a click); for comparing the simulator with the data."""
    rng = np.random.default_rng([int(seed), 1])
    rows: list[dict[str, Any]] = []
    for j, s in enumerate(session_seeds(seed, n_sessions).tolist()):
        start = len(rows)
        run_session(env, agent, rng, seed=s, log=rows)
        for row in rows[start:]:
            row["session"] = j
    cols = ["session", "user_id", "step", "clicked", "position", "rating"]
    return pd.DataFrame(rows, columns=cols)


def genre_repeat_rate(sequences: Iterable[np.ndarray], genre: np.ndarray) -> float:
    """Share of consecutive watches (``m_t, m_{t+1}``) that share a primary genre."""
    same = total = 0
    for seq in sequences:
        g = genre[np.asarray(seq, dtype=np.int64)]
        same += int(np.count_nonzero(g[1:] == g[:-1]))
        total += max(len(g) - 1, 0)
    if total == 0:
        raise ValueError("genre_repeat_rate needs at least one sequence of two or more movies")
    return same / total


def session_seeds(seed: int, n_sessions: int) -> np.ndarray:
    """The environment seeds of sessions ``0 .. n_sessions - 1`` of experiment seed ``seed``:
    the same for every agent and setting (common random numbers)."""
    return np.random.default_rng([int(seed), 0]).integers(0, 2**31 - 1, size=n_sessions)


def run_sessions(
    env: MovieLensUserEnv, agent: Agent, n_sessions: int, seed: int, start: int = 0
) -> pd.DataFrame:
    """Run sessions ``start .. start + n_sessions - 1`` in a row (a learning agent keeps
    learning across them).

    Session ``j`` resets the environment with ``session_seeds(seed, start + n_sessions)[j]``,
    so a static agent run from ``start`` meets exactly the users a learning agent met there;
    the agent's own randomness comes from ``default_rng([seed, 1])``.

    Returns
    -------
    DataFrame
        One row per session: ``session``, ``user_id``, the metrics of :class:`SessionResult`,
        ``ctr`` and ``coverage`` (share of the catalogue shown so far in this run).
    """
    if (
        isinstance(n_sessions, bool)
        or not isinstance(n_sessions, int | np.integer)
        or n_sessions < 1
    ):
        raise ValueError(f"n_sessions must be a positive integer, got {n_sessions!r}")
    if isinstance(start, bool) or not isinstance(start, int | np.integer) or start < 0:
        raise ValueError(f"start must be a non-negative integer, got {start!r}")
    rng = np.random.default_rng([int(seed), 1])
    shown = np.zeros(env.n_items, dtype=bool)
    rows = []
    seeds = session_seeds(seed, start + n_sessions)[start:].tolist()
    for j, s in enumerate(seeds, start=start):
        r = run_session(env, agent, rng, seed=s, shown=shown)
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
                "coverage": float(shown.mean()),
            }
        )
    return pd.DataFrame(rows)


def run_experiment(
    envs: Mapping[str, MovieLensUserEnv],
    agents: Mapping[str, Callable[[int], Agent]],
    seeds: Iterable[int],
    n_sessions: int,
    start: int = 0,
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

    Returns
    -------
    DataFrame
        The rows of :func:`run_sessions` with ``setting``, ``agent`` and ``seed`` columns.
    """
    frames = []
    for label, env in envs.items():
        for name, make in agents.items():
            for seed in seeds:
                df = run_sessions(env, make(seed), n_sessions, seed, start=start)
                df.insert(0, "seed", seed)
                df.insert(0, "agent", name)
                df.insert(0, "setting", label)
                frames.append(df)
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Aggregation: per seed, then a t-interval over seeds
# ---------------------------------------------------------------------------------------------

_RATIOS = {"ctr": ("clicks", "steps")}


def per_seed(
    results: pd.DataFrame, metric: str, by: Sequence[str] = ("setting", "agent")
) -> pd.Series:
    """One value of ``metric`` per (``by``..., seed).

    ``ctr`` is pooled (total clicks / total steps: a click-through rate over all slates shown);
    ``coverage`` is the share of the catalogue shown at least once (its last value); every
    other metric is the mean over sessions (``left`` becomes the share of sessions in which the
    user left, ``rating`` ignores sessions without a click).
    """
    keys = [*by, "seed"]
    if metric == "coverage":
        return results.groupby(keys, sort=True)[metric].max()
    if metric in _RATIOS:
        num, den = _RATIOS[metric]
        g = results.groupby(keys, sort=True)[[num, den]].sum()
        return g[num] / g[den]
    if metric not in results.columns:
        raise ValueError(f"unknown metric {metric!r}: choose one of {sorted(SESSION_METRICS)}")
    return results.groupby(keys, sort=True)[metric].mean()


def mean_interval(values: Iterable[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and ``level`` t-interval of the mean: ``(mean, low, high)``.

    With ``n`` values the half-width is ``t_{(1+level)/2, n-1} * sd / sqrt(n)``: with few
    seeds this is wider, and more honest, than ``1.96`` standard errors. One value gives a
    point.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    values = np.asarray(list(values), dtype=np.float64)
    if values.size == 0:
        raise ValueError("mean_interval needs at least one value")
    mean = float(values.mean())
    if values.size < 2:
        return mean, mean, mean
    half = stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return mean, float(mean - half), float(mean + half)


def summarise(
    results: pd.DataFrame,
    metrics: Sequence[str] = ("ctr", "reward", "steps", "diversity"),
    level: float = 0.95,
    by: Sequence[str] = ("setting", "agent"),
) -> pd.DataFrame:
    """Mean over seeds of each per-seed metric, with a ``level`` t-interval.

    Returns
    -------
    DataFrame
        Index ``by``; columns ``(metric, "mean" | "low" | "high")``.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    out = {}
    for metric in metrics:
        seeds = per_seed(results, metric, by)
        out[metric] = (
            seeds.groupby(level=list(range(len(by))), sort=True)
            .apply(
                lambda s: pd.Series(
                    mean_interval(s.to_numpy(), level), index=["mean", "low", "high"]
                )
            )
            .unstack()
        )
    return pd.concat(out, axis=1)


def paired_difference(
    results: pd.DataFrame,
    metric: str,
    a: str,
    b: str,
    between: str = "agent",
    level: float = 0.95,
) -> pd.DataFrame:
    """``a - b`` on ``metric``, paired by seed (common random numbers), with a t-interval.

    ``between="agent"`` compares two agents within each setting; ``between="setting"``
    compares two settings (e.g. drift on minus drift off) for each agent. The difference is
    resolved at this level when the interval excludes 0.

    Returns
    -------
    DataFrame
        Index: the other column's values; columns ``mean, low, high``.
    """
    if between not in ("agent", "setting"):
        raise ValueError(f"between must be 'agent' or 'setting', got {between!r}")
    other = "setting" if between == "agent" else "agent"
    seeds = per_seed(results, metric).unstack(between)
    for name in (a, b):
        if name not in seeds.columns:
            raise ValueError(
                f"unknown {between} {name!r}: the results hold {sorted(seeds.columns)}"
            )
    diff = (seeds[a] - seeds[b]).dropna().groupby(level=other, sort=True)
    rows = {key: mean_interval(d.to_numpy(), level) for key, d in diff}
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["mean", "low", "high"]
    ).rename_axis(other)


def learning_curves(
    results: pd.DataFrame, metric: str = "reward", block: int = 50, level: float = 0.95
) -> pd.DataFrame:
    """``metric`` per block of ``block`` consecutive sessions, per (setting, agent), with a
    t-interval over seeds: how an agent's users fare as it gains experience.

    Returns
    -------
    DataFrame
        Columns ``setting, agent, block, session`` (the block's last session + 1, i.e. how
        many sessions have been played), ``mean, low, high``.
    """
    if isinstance(block, bool) or not isinstance(block, int | np.integer) or block < 1:
        raise ValueError(f"block must be a positive integer, got {block!r}")
    df = results.assign(block=results["session"] // block)
    seeds = per_seed(df, metric, by=("setting", "agent", "block"))
    rows = []
    for (setting, agent, b), s in seeds.groupby(level=[0, 1, 2], sort=True):
        mean, low, high = mean_interval(s.to_numpy(), level)
        rows.append((setting, agent, int(b), (int(b) + 1) * block, mean, low, high))
    return pd.DataFrame(
        rows, columns=["setting", "agent", "block", "session", "mean", "low", "high"]
    )


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def agent_colors(agents: Iterable[str]) -> dict[str, Any]:
    """A fixed colour per agent name (sorted order, tab10), so every figure agrees."""
    import matplotlib.pyplot as plt

    names = sorted(set(agents))
    return {name: plt.cm.tab10(i % 10) for i, name in enumerate(names)}


def plot_learning_curves(
    curves: pd.DataFrame,
    levels: pd.DataFrame | None = None,
    metric: str = "reward",
    ylabel: str | None = None,
    colors: Mapping[str, Any] | None = None,
) -> Any:
    """One panel per setting: each learning agent's ``metric`` per block of sessions (line and
    band) and, as horizontal bands, the level of the static agents.

    Parameters
    ----------
    curves : DataFrame
        From :func:`learning_curves`.
    levels : DataFrame, optional
        From :func:`summarise` (index ``setting, agent``; columns ``(metric, mean|low|high)``):
        drawn flat across the panel.
    """
    import matplotlib.pyplot as plt

    settings = sorted(curves["setting"].unique())
    names = list(curves["agent"].unique())
    if levels is not None:
        names += list(levels.index.get_level_values("agent"))
    colors = dict(colors or agent_colors(names))
    fig, axes = plt.subplots(1, len(settings), figsize=(5.2 * len(settings), 3.6), sharey=True,
                             squeeze=False)  # fmt: skip
    for ax, setting in zip(axes[0], settings, strict=True):
        part = curves[curves["setting"] == setting]
        x_max = float(part["session"].max())
        if levels is not None and setting in levels.index.get_level_values("setting"):
            for agent, row in levels.loc[setting].iterrows():
                c = colors.get(agent, "grey")
                lo, mid, hi = row[(metric, "low")], row[(metric, "mean")], row[(metric, "high")]
                ax.axhspan(lo, hi, color=c, alpha=0.15, lw=0)
                ax.axhline(mid, color=c, lw=1, ls="--", label=f"{agent} (static)")
        for agent, g in part.groupby("agent", sort=True):
            c = colors.get(agent, "black")
            ax.fill_between(g["session"], g["low"], g["high"], color=c, alpha=0.25, lw=0)
            ax.plot(g["session"], g["mean"], color=c, lw=2, marker="o", ms=3, label=agent)
        ax.set(title=setting, xlabel="sessions played", xlim=(0, x_max))
    axes[0, 0].set_ylabel(ylabel or metric)
    axes[0, -1].legend(fontsize=11, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig


def plot_metric_bars(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, Any] | None = None,
) -> Any:
    """One panel per metric: a bar per (agent, setting) with its interval, settings hatched.

    ``summary`` comes from :func:`summarise`.
    """
    import matplotlib.pyplot as plt

    labels = dict(labels or {})
    settings = sorted(summary.index.get_level_values("setting").unique())
    agents = sorted(summary.index.get_level_values("agent").unique())
    colors = dict(colors or agent_colors(agents))
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.4 * len(metrics), 3.4), squeeze=False)
    width = 0.8 / len(settings)
    hatches = ["", "//", "..", "xx"]
    for ax, metric in zip(axes[0], metrics, strict=True):
        for j, setting in enumerate(settings):
            rows = summary.loc[setting].reindex(agents)
            mid = rows[(metric, "mean")].to_numpy(dtype=float)
            err = np.vstack([mid - rows[(metric, "low")], rows[(metric, "high")] - mid])
            x = np.arange(len(agents)) + (j - (len(settings) - 1) / 2) * width
            ax.bar(x, mid, width, yerr=err, capsize=2, color=[colors[a] for a in agents],
                   hatch=hatches[j % len(hatches)], edgecolor="white",
                   label=setting)  # fmt: skip
        ax.set_xticks(np.arange(len(agents)), agents, rotation=45, ha="right", fontsize=11)
        ax.set_title(labels.get(metric, metric), fontsize=11)
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="lightgrey", edgecolor="white", hatch=hatches[j % len(hatches)],
                     label=setting) for j, setting in enumerate(settings)]  # fmt: skip
    axes[0, 0].legend(handles=handles, fontsize=11)
    fig.tight_layout()
    return fig
