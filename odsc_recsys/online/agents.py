"""Agents that act in the simulator: static baselines, the oracle and the Q-learning agent.

Every agent answers :meth:`Agent.act` with a slate; :meth:`Agent.learn` receives each step's
outcome and hands it, as a :class:`SessionStep`, to :meth:`Agent.learn_step` when the agent
learns online (static agents never do).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import checks
from ..protocol import Recommender, top_k
from ..simulator import MovieLensUserEnv


class SessionStep(NamedTuple):
    """One step of a session, as a learning agent receives it (:meth:`Agent.learn_step`).

    Attributes
    ----------
    observation : array
        The environment's observation before the slate (the last 3 movies, padded).
    slate : array of int
        The movies shown.
    clicked : int
        The watched movie's catalogue index, or ``-1`` without a click.
    reward : float
        The environment's reward of the step.
    next_observation : array
        The observation after the step.
    done : bool
        Whether the user left (termination, not truncation).
    """

    observation: np.ndarray
    slate: np.ndarray
    clicked: int
    reward: float
    next_observation: np.ndarray
    done: bool


class Agent:
    """A recommender that acts in the simulator (and may learn from it).

    Subclasses implement :meth:`act`; learning agents set ``learn_online`` and override
    :meth:`learn_step`, which :meth:`learn` calls with each step while ``learn_online`` holds.

    Attributes
    ----------
    name : str
        Label in result tables.
    k : int
        Slate length.
    learn_online : bool
        Whether :meth:`learn` passes steps on to :meth:`learn_step` (False for static agents,
        and for a learning agent that is frozen).
    """

    name = "agent"
    learn_online = False

    def __init__(self, k: int = 10) -> None:
        self.k = checks.positive_int("k", k)

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
        """Learn from one step: passed on to :meth:`learn_step` while ``learn_online`` holds.

        The run loops call this after every step; ``clicked`` is ``-1`` without a click and
        ``done`` says whether the user left.
        """
        if self.learn_online:
            self.learn_step(SessionStep(observation, slate, clicked, reward, next_observation,
                                        done))  # fmt: skip

    def learn_step(self, step: SessionStep) -> None:
        """What a learning agent does with one step (nothing by default)."""


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


class QLearningAgent(Agent):
    """The talk's per-genre Q-tables, learning online from simulated feedback.

    Each step: recommend epsilon-greedily from the state (the last 3 movies watched),
    excluding what was watched this session; then update every sub-state of the state with
    :meth:`GenreQTables.update`. The clicked movie's reward is ``reward_scale`` times the
    environment's reward (so ratings count when the environment rewards them), the other
    listed movies get ``-penalty``.

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
        explore = rng if self.learn_online else None
        return self.tables.recommend(state, self.k, rng=explore, exclude=history).items

    def learn_step(self, step: SessionStep) -> None:
        state = observation_state(step.observation, self.pad)
        # A click (clicked >= 0) moves toward the next sub-state's value, no click keeps the
        # state (s' = s), leaving ends the episode: GenreQTables.update covers all three.
        clicked = step.clicked if step.clicked >= 0 else None
        self.tables.update(state, step.slate, clicked, self.reward_scale * step.reward,
                           self.penalty, done=step.done)  # fmt: skip
        self.updates += 1
