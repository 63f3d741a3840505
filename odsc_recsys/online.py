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
from .qlearning import check_gamma
from .simulator import MovieLensUserEnv

__all__ = [
    "Agent",
    "OracleAgent",
    "PopularityAgent",
    "QLearningAgent",
    "RandomAgent",
    "RecommenderAgent",
    "SessionResult",
    "SimulatorCheck",
    "agent_colors",
    "compare_with_movielens",
    "evidence_table",
    "genre_repeat_rate",
    "lead_change",
    "learning_curves",
    "mean_interval",
    "observation_state",
    "paired_difference",
    "per_seed",
    "plot_learning_curves",
    "plot_metric_bars",
    "plot_simulator_check",
    "q_update",
    "run_experiment",
    "run_session",
    "run_sessions",
    "session_seeds",
    "simulate_log",
    "split_users",
    "summarise",
    "td_targets",
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


def td_targets(
    slate: Sequence[int] | np.ndarray,
    clicked: int,
    reward: float,
    penalty: float,
    gamma: float,
    future: float,
    done: bool,
) -> np.ndarray:
    """The Q-learning target of every movie of a slate after one online step.

    .. math:: y_i = r_i + \\gamma \\, (1 - \\text{done}) \\, \\text{future}, \\qquad
              r_i = \\text{reward if } i \\text{ was clicked, else } -\\text{penalty}

    ``future`` is :math:`\\max_{a'} Q(s', a')`: the best value of the next state (after a
    click, the sub-state that holds the clicked movie; without a click, the state itself, since
    nothing was watched). When the user left (``done``) there is no next state and the target
    is the reward alone.

    Parameters
    ----------
    slate : sequence of int
        The movies shown (and updated).
    clicked : int
        The watched movie, or ``-1`` for no click.
    reward, penalty : float
        Reward of the clicked movie, penalty of every other movie.
    gamma : float in [0, 1]
        Discount.
    future : float
        :math:`\\max_{a'} Q(s', a')`.
    done : bool
        Whether the user left after this step.

    Returns
    -------
    array of float, one target per movie of ``slate``

    Examples
    --------
    >>> td_targets([4, 7, 9], clicked=7, reward=15, penalty=1, gamma=0.5, future=2.0, done=False)
    array([ 0., 16.,  0.])
    >>> td_targets([4, 7], clicked=-1, reward=15, penalty=1, gamma=0.5, future=2.0, done=True)
    array([-1., -1.])
    """
    gamma = check_gamma(gamma)
    slate = np.asarray(slate, dtype=np.int64).reshape(-1)
    rewards = np.where(slate == int(clicked), float(reward), -float(penalty))
    return rewards + (0.0 if done else gamma * float(future))


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
    future = 0.0 if done else max(float(tables.q_row(s).max()) for s in subs)
    target = td_targets(actions, clicked, reward, penalty, tables.gamma, future, done)
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


def split_users(
    user_ids: Sequence[int] | np.ndarray, n_simulated: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split users into ``n_simulated`` who meet the recommenders online and the rest, whose
    logs train the static models: ``(simulated, logged)``, each sorted.

    The draw depends only on ``seed``, so two notebooks that call this agree on who is who.
    """
    ids = np.asarray(user_ids, dtype=np.int64)
    if (
        isinstance(n_simulated, bool)
        or not isinstance(n_simulated, int | np.integer)
        or not 0 < n_simulated < ids.size
    ):
        raise ValueError(
            f"n_simulated must be an integer in [1, {ids.size - 1}] (both groups non-empty), got "
            f"{n_simulated!r}"
        )
    users = np.random.default_rng([int(seed), 8]).permutation(ids)
    return np.sort(users[:n_simulated]), np.sort(users[n_simulated:])


@dataclass(frozen=True)
class SimulatorCheck:
    """Simulated logs set beside MovieLens (:func:`compare_with_movielens`).

    Attributes
    ----------
    table : DataFrame
        One row per source (``"MovieLens"``, then each log): ``watches``, ``genre repeat
        rate``, ``mean rating``, ``1-star share``, ``CTR``, ``genre share distance (TV)`` and
        ``Spearman(clicks, MovieLens ratings)`` (NaN where they do not apply).
    genre_shares : dict source -> array (n_primary_genres,)
        Share of watches per primary genre.
    genre_names : list of str
    movielens_counts : array (n_items,)
        Ratings per movie in MovieLens.
    mean_attraction : array (n_items,)
        Each movie's attraction averaged over the simulated users.
    attraction_spearman : float
        Spearman correlation of ``mean_attraction`` with ``movielens_counts``.
    rating_shares : dict source -> array (5,)
        Share of ratings with 1..5 stars.
    """

    table: pd.DataFrame
    genre_shares: dict[str, np.ndarray]
    genre_names: list[str]
    movielens_counts: np.ndarray
    mean_attraction: np.ndarray
    attraction_spearman: float
    rating_shares: dict[str, np.ndarray]


def compare_with_movielens(
    model: Any, logs: Mapping[str, pd.DataFrame], ratings: pd.DataFrame
) -> SimulatorCheck:
    """Set simulated logs (from :func:`simulate_log`) beside MovieLens.

    What is compared: the primary-genre mix of watches (total-variation distance to
    MovieLens's, i.e. the share of watches that would have to change genre), how often two
    consecutive watches share a primary genre (a simulated session counts from the user's
    opening movies), the ratings, and which movies get watched (Spearman correlation of
    click counts with MovieLens rating counts).

    Parameters
    ----------
    model : UserModel
        The simulated population (its histories are the MovieLens side).
    logs : mapping label -> DataFrame
        Step logs with ``session, user_id, clicked, rating`` columns.
    ratings : DataFrame
        MovieLens ratings (``item_id``, ``rating``); those of the model's catalogue count.
    """
    genre, names, n_items = model.primary_genre, list(model.primary_names), model.n_items
    real = np.concatenate(model.histories)
    stars = ratings.loc[ratings["item_id"].isin(model.catalog.item_ids), "rating"].to_numpy()
    if real.size == 0 or stars.size == 0:
        raise ValueError("compare_with_movielens needs MovieLens watches and ratings")
    counts = np.bincount(real, minlength=n_items)
    shares = {"MovieLens": np.bincount(genre[real], minlength=len(names)) / real.size}
    star_share = {"MovieLens": np.bincount(stars.astype(np.int64), minlength=6)[1:] / stars.size}
    rows = {
        "MovieLens": {
            "watches": real.size,
            "genre repeat rate": genre_repeat_rate(model.histories, genre),
            "mean rating": float(stars.mean()),
            "1-star share": float((stars == 1).mean()),
        }
    }
    for label, log in logs.items():
        clicks = log[log["clicked"] >= 0]
        if clicks.empty:
            raise ValueError(f"the log {label!r} holds no click")
        watched = clicks["clicked"].to_numpy(dtype=np.int64)
        shares[label] = np.bincount(genre[watched], minlength=len(names)) / watched.size
        star_share[label] = np.bincount(clicks["rating"], minlength=6)[1:6] / len(clicks)
        sequences = [
            np.concatenate([model.histories[model.user_index(int(u))][:3], g["clicked"]])
            for (_, u), g in clicks.groupby(["session", "user_id"], sort=True)
        ]
        rows[label] = {
            "watches": watched.size,
            "genre repeat rate": genre_repeat_rate(sequences, genre),
            "mean rating": float(clicks["rating"].mean()),
            "1-star share": float((clicks["rating"] == 1).mean()),
            "CTR": len(clicks) / len(log),
            "genre share distance (TV)": 0.5
            * float(np.abs(shares[label] - shares["MovieLens"]).sum()),
            "Spearman(clicks, MovieLens ratings)": float(
                stats.spearmanr(np.bincount(watched, minlength=n_items), counts).statistic
            ),
        }
    appeal = model.attractiveness().mean(axis=0)
    return SimulatorCheck(
        table=pd.DataFrame(rows).T,
        genre_shares=shares,
        genre_names=names,
        movielens_counts=counts,
        mean_attraction=appeal,
        attraction_spearman=float(stats.spearmanr(appeal, counts).statistic),
        rating_shares=star_share,
    )


def session_seeds(seed: int, n_sessions: int) -> np.ndarray:
    """The environment seeds of sessions ``0 .. n_sessions - 1`` of experiment seed ``seed``:
    the same for every agent and setting (common random numbers)."""
    return np.random.default_rng([int(seed), 0]).integers(0, 2**31 - 1, size=n_sessions)


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
    if (
        isinstance(n_sessions, bool)
        or not isinstance(n_sessions, int | np.integer)
        or n_sessions < 1
    ):
        raise ValueError(f"n_sessions must be a positive integer, got {n_sessions!r}")
    if isinstance(start, bool) or not isinstance(start, int | np.integer) or start < 0:
        raise ValueError(f"start must be a non-negative integer, got {start!r}")
    coverage_from = start if coverage_from is None else coverage_from
    if (
        isinstance(coverage_from, bool)
        or not isinstance(coverage_from, int | np.integer)
        or coverage_from < start
    ):
        raise ValueError(
            f"coverage_from must be an integer >= start ({start}), got {coverage_from!r}"
        )
    rng = np.random.default_rng([int(seed), 1])
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
    """
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


def lead_change(
    results: pd.DataFrame,
    agent: str,
    baseline: str,
    metric: str,
    first: tuple[int, int],
    last: tuple[int, int],
    level: float = 0.95,
) -> pd.DataFrame:
    """Did ``agent`` improve? Its lead over ``baseline`` in two windows of sessions, and how
    that lead changed, paired by seed, per setting.

    Comparing a learning agent's first sessions with its last mixes learning with *which*
    users happened to come. Within a window both agents meet the same users (common random
    numbers), so the lead ``agent - baseline`` is free of that; its change from the ``first``
    to the ``last`` window is what the agent learned.

    Parameters
    ----------
    results : DataFrame
        Sessions of both agents (from :func:`run_experiment`), covering both windows.
    first, last : (start, stop)
        Session index windows, ``start <= session < stop``.

    Returns
    -------
    DataFrame
        Index ``setting``; columns ``lead, first``, ``lead, last`` (means over seeds),
        ``change``, ``low``, ``high`` (mean and t-interval of the per-seed change).
    """
    leads = {}
    for name, (start, stop) in (("first", first), ("last", last)):
        if not 0 <= start < stop:
            raise ValueError(
                f"a window is (start, stop) with 0 <= start < stop, got {(start, stop)}"
            )
        part = results[(results["session"] >= start) & (results["session"] < stop)]
        seeds = per_seed(part, metric).unstack("agent")
        for who in (agent, baseline):
            if who not in seeds.columns:
                raise ValueError(
                    f"no sessions of {who!r} in the {name} window {(start, stop)}: the results "
                    f"hold {sorted(seeds.columns)}"
                )
        leads[name] = seeds[agent] - seeds[baseline]
    rows = {}
    for setting, lead_last in leads["last"].groupby(level="setting", sort=True):
        lead_first = leads["first"].loc[setting]
        change = (lead_last.droplevel("setting") - lead_first).dropna()
        rows[setting] = (float(lead_first.mean()), float(lead_last.mean()),
                         *mean_interval(change.to_numpy(), level))  # fmt: skip
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["lead, first", "lead, last", "change", "low", "high"]
    ).rename_axis("setting")


def evidence_table(
    evidence: Mapping[tuple[str, str], tuple[float, float, float]],
    higher: str = "higher",
    lower: str = "lower",
) -> pd.DataFrame:
    """Intervals as a table, each with its reading: ``higher`` when the interval lies above 0,
    ``lower`` when below, ``"no difference detected"`` when it holds 0.

    Parameters
    ----------
    evidence : mapping (claim, evidence) -> (mean, low, high)
    """
    if not evidence:
        raise ValueError("evidence_table needs at least one (mean, low, high) row")
    for key, row in evidence.items():
        if len(row) != 3 or not row[1] <= row[0] <= row[2]:
            raise ValueError(
                f"{key}: expected (mean, low, high) with low <= mean <= high, got {row}"
            )
    table = pd.DataFrame(
        [tuple(map(float, row)) for row in evidence.values()],
        columns=["mean", "low", "high"],
        index=pd.MultiIndex.from_tuples(list(evidence), names=["claim", "evidence"]),
    )
    table["reading"] = np.select(
        [table["low"] > 0, table["high"] < 0], [higher, lower], "no difference detected"
    )
    return table


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

    The legend sits below the panels, in columns, so the panels keep their width.

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
    fig, axes = plt.subplots(1, len(settings), figsize=(4.8 * len(settings) + 0.6, 4.6),
                             sharey=True, squeeze=False)  # fmt: skip
    for ax, setting in zip(axes[0], settings, strict=True):
        part = curves[curves["setting"] == setting]
        x_max = float(part["session"].max())
        if levels is not None and setting in levels.index.get_level_values("setting"):
            for agent, row in levels.loc[setting].iterrows():
                c = colors.get(agent, "grey")
                lo, mid, hi = row[(metric, "low")], row[(metric, "mean")], row[(metric, "high")]
                ax.axhspan(lo, hi, color=c, alpha=0.15, lw=0)
                ax.axhline(mid, color=c, lw=1.5, ls="--", label=f"{agent} (static)")
        for agent, g in part.groupby("agent", sort=True):
            c = colors.get(agent, "black")
            ax.fill_between(g["session"], g["low"], g["high"], color=c, alpha=0.25, lw=0)
            ax.plot(g["session"], g["mean"], color=c, lw=2.5, marker="o", ms=5, label=agent)
        ax.set(title=setting, xlabel="sessions played", xlim=(0, x_max))
    axes[0, 0].set_ylabel(ylabel or metric)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False)
    return fig


def plot_metric_bars(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, Any] | None = None,
    ncols: int = 2,
) -> Any:
    """One panel per metric, ``ncols`` panels a row: a bar per (agent, setting) with its
    interval, settings hatched.

    ``summary`` comes from :func:`summarise`.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if isinstance(ncols, bool) or not isinstance(ncols, int | np.integer) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    labels = dict(labels or {})
    settings = sorted(summary.index.get_level_values("setting").unique())
    agents = sorted(summary.index.get_level_values("agent").unique())
    colors = dict(colors or agent_colors(agents))
    ncols = min(ncols, len(metrics))
    nrows = -(-len(metrics) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols, 3.9 * nrows + 0.5),
                             squeeze=False)  # fmt: skip
    width = 0.8 / len(settings)
    hatches = ["", "//", "..", "xx"]
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for j, setting in enumerate(settings):
            rows = summary.loc[setting].reindex(agents)
            mid = rows[(metric, "mean")].to_numpy(dtype=float)
            err = np.vstack([mid - rows[(metric, "low")], rows[(metric, "high")] - mid])
            x = np.arange(len(agents)) + (j - (len(settings) - 1) / 2) * width
            ax.bar(x, mid, width, yerr=err, capsize=3, color=[colors[a] for a in agents],
                   hatch=hatches[j % len(hatches)], edgecolor="white",
                   label=setting)  # fmt: skip
        ax.set_xticks(np.arange(len(agents)), agents, rotation=30, ha="right")
        ax.set_title(labels.get(metric, metric))
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    handles = [Patch(facecolor="lightgrey", edgecolor="white", hatch=hatches[j % len(hatches)],
                     label=setting) for j, setting in enumerate(settings)]  # fmt: skip
    fig.tight_layout(rect=(0, 0.06 / nrows, 1, 1))
    fig.legend(handles=handles, loc="lower center", ncol=len(settings), frameon=False)
    return fig


def plot_simulator_check(check: SimulatorCheck, log: str | None = None) -> Any:
    """Three views of :func:`compare_with_movielens`: the genre mix of watches (every source),
    which movies get watched (mean attraction against MovieLens rating counts) and the
    ratings (MovieLens against the log ``log``, by default the last one).
    """
    import matplotlib.pyplot as plt

    sources = list(check.genre_shares)
    log = log if log is not None else sources[-1]
    if log not in check.rating_shares or log == "MovieLens":
        raise ValueError(f"log must name a simulated log, one of {sources[1:]}, got {log!r}")
    fig = plt.figure(figsize=(10.5, 8.2))
    grid = fig.add_gridspec(2, 2, height_ratios=(1.1, 1))
    top, left, right = fig.add_subplot(grid[0, :]), fig.add_subplot(grid[1, 0]), \
        fig.add_subplot(grid[1, 1])  # fmt: skip
    x = np.arange(len(check.genre_names))
    width = 0.8 / len(sources)
    for j, label in enumerate(sources):
        top.bar(x + (j - (len(sources) - 1) / 2) * width, check.genre_shares[label], width,
                label=label)  # fmt: skip
    top.set_xticks(x, check.genre_names, rotation=30, ha="right")
    highest = max(float(np.max(share)) for share in check.genre_shares.values())
    top.set(title="Primary genre of watched movies", ylabel="share of watches",
            ylim=(0, 1.3 * highest))  # fmt: skip
    top.legend(loc="upper center", ncol=len(sources), frameon=False)
    left.scatter(check.movielens_counts, check.mean_attraction, s=10, alpha=0.5)
    left.set(xscale="log", xlabel="MovieLens ratings of the movie", ylabel="mean attraction",
             title="Who gets watched")  # fmt: skip
    ticks = [t for t in (50, 100, 200, 400) if t <= check.movielens_counts.max()]
    left.set_xticks(ticks, [str(t) for t in ticks])
    left.minorticks_off()
    stars = np.arange(1, 6)
    right.bar(stars - 0.2, check.rating_shares["MovieLens"], 0.4, label="MovieLens")
    right.bar(stars + 0.2, check.rating_shares[log], 0.4, label=log)
    right.set(xlabel="stars", ylabel="share of ratings", title="Ratings", xticks=stars)
    right.legend(loc="upper left")
    fig.tight_layout()
    return fig
