"""Agents that act in the simulator: static baselines, the oracle and the Q-learning agent.

Every agent answers :meth:`Agent.act` with a slate; :meth:`Agent.learn` receives each step's
outcome and hands it, as a :class:`SessionStep`, to :meth:`Agent.learn_step` when the agent
learns online (static agents never do).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import checks
from ..protocol import Recommender, as_history, top_k
from ..qtables import QTables
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
    n_items : int or None
        Size of the catalogue the agent recommends from, when it knows it: slates and
        observations are checked against it, and a run loop refuses an environment with
        another catalogue.
    """

    name = "agent"
    learn_online = False
    n_items: int | None = None

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

        Raises
        ------
        ValueError
            If the step is not one an environment could produce: a slate that is not 1-d
            catalogue indices, ``clicked`` neither ``-1`` nor a movie of the slate, a reward
            that is not a finite number, ``done`` not a bool, or an observation outside
            ``[0, n_items]`` (``n_items`` is the padding). Nothing is learnt then.
        """
        # The step is handed on as given; these checks only refuse it.
        n = self.n_items if self.n_items is not None else np.iinfo(np.int64).max - 1
        shown = movie_positions("slate", slate, n)
        if checks.integer("clicked", clicked, -1) >= 0 and clicked not in shown:
            raise ValueError(f"clicked must be -1 (no click) or a movie of the slate {shown}, "
                             f"got {clicked!r}")  # fmt: skip
        checks.real("reward", reward)
        checks.boolean("done", done)
        movie_positions("observation", observation, n + 1)
        movie_positions("next_observation", next_observation, n + 1)
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
        self.n_items = checks.positive_int("n_items", n_items)

    def act(
        self, observation: np.ndarray, history: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        checks.generator("rng", rng)
        history = as_history(history, self.n_items)  # -1 would wrap to the last movie
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
        popularity = checks.finite_array("popularity", popularity, ndim=1)
        checks.nonempty("popularity", popularity)
        self.popularity = popularity.copy()  # the caller's array may change later
        self.n_items = popularity.size

    def act(
        self, observation: np.ndarray, history: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        return top_k(self.popularity, self.k, exclude=as_history(history, self.n_items))


class RecommenderAgent(Agent):
    """Any fitted :class:`~odsc_recsys.protocol.Recommender` (item-kNN, hybrid, ...) as a static
    agent: it recommends from the session history, excluding what was watched, and never
    updates itself."""

    def __init__(self, model: Recommender, k: int = 10, name: str | None = None) -> None:
        super().__init__(k)
        if not isinstance(model, Recommender):
            raise ValueError(f"model must be a fitted Recommender, got {type(model).__name__}")
        model.check_fitted()  # RuntimeError "call fit first", as the model itself says
        if model.n_items < 1:
            raise ValueError(f"model must be a fitted Recommender (call fit first): its "
                             f"n_items is {model.n_items!r}")  # fmt: skip
        self.model = model
        self.n_items = int(model.n_items)
        # An empty name would silently fall back to the model's: refuse it instead.
        self.name = model.name if name is None else checks.text("name", name)

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
        if not isinstance(env, MovieLensUserEnv):
            raise ValueError(f"env must be a MovieLensUserEnv (for a gym.make environment, "
                             f"pass env.unwrapped), got {type(env).__name__}")  # fmt: skip
        # A longer slate than the environment shows would be refused at the first step.
        super().__init__(checks.integer("k", k, 1, env.k))
        self.env = env
        self.n_items = env.n_items

    def act(
        self, observation: np.ndarray, history: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        history = as_history(history, self.n_items)
        return top_k(self.env.catalogue_attractiveness(), self.k, exclude=history)


def observation_state(observation: np.ndarray, pad: int) -> tuple[int, ...]:
    """The state (last up-to-3 movies, oldest first) of a padded observation.

    Raises
    ------
    ValueError
        If ``pad`` is not a positive integer or ``observation`` is not a 1-d sequence of
        integers in ``[0, pad]`` (a NaN or a negative index is not a movie).
    """
    pad = checks.positive_int("pad", pad)
    return tuple(m for m in movie_positions("observation", observation, pad + 1) if m != pad)


def movie_positions(name: str, values: Any, n: int) -> list[int]:
    """``values`` as a list of ints in ``[0, n)``, else the ``ValueError`` of
    :func:`checks.indices`.

    A fast path for the run loop's small int arrays (a sixth of the cost of the general
    check, which runs several times per step); anything else, and every refusal, goes
    through :func:`checks.indices`.
    """
    if type(values) is np.ndarray and values.dtype.kind in "iu" and values.ndim == 1:
        items = values.tolist()
        if not items or (min(items) >= 0 and max(items) < n):
            return items
    return checks.indices(name, values, n).tolist()


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
        if not isinstance(tables, QTables):
            raise ValueError(f"tables must be Q-tables (e.g. GenreQTables), got "
                             f"{type(tables).__name__}")  # fmt: skip
        # The padding is the catalogue size: any other value would read a movie as "none".
        if checks.integer("pad", pad) != tables.n_items:
            raise ValueError(f"pad must equal the catalogue size {tables.n_items} (of the "
                             f"tables), got {pad!r}")  # fmt: skip
        self.pad = int(pad)
        self.tables = tables
        self.n_items = tables.n_items
        self.reward_scale = checks.real("reward_scale", reward_scale, 0.0, low_open=True)
        self.penalty = checks.real("penalty", penalty, 0.0)
        self.learn_online = checks.boolean("learn_online", learn_online)
        self.name = checks.text("name", name)
        self.updates = 0

    def act(
        self, observation: np.ndarray, history: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        # Exploring needs the generator; a frozen agent is greedy and may be handed None.
        checks.generator("rng", rng, allow_none=not self.learn_online)
        state = observation_state(observation, self.pad)
        explore = rng if self.learn_online else None
        return self.tables.recommend(state, self.k, rng=explore, exclude=history).items

    def learn_step(self, step: SessionStep) -> None:
        """Update the tables from one step (checked first: nothing is written on a refusal).

        Raises
        ------
        ValueError
            If ``clicked`` is neither ``-1`` nor a movie of the slate, the reward is not a
            finite number, an observation holds something other than movie indices and the
            padding, or the tables refuse the slate or ``done``.
        """
        if not isinstance(step, SessionStep):
            raise ValueError(f"step must be a SessionStep, got {type(step).__name__}")
        clicked = checks.integer("clicked", step.clicked, -1)  # -2 or NaN is not "no click"
        # Online, a click is on the slate (the tables alone would append a missing one).
        shown = movie_positions("slate", step.slate, self.n_items)
        if clicked >= 0 and clicked not in shown:
            raise ValueError(f"clicked must be -1 (no click) or a movie of the slate {shown}, "
                             f"got {clicked!r}")  # fmt: skip
        checks.real("reward", step.reward)
        movie_positions("next_observation", step.next_observation, self.pad + 1)
        state = observation_state(step.observation, self.pad)
        # A click (clicked >= 0) moves toward the next sub-state's value, no click keeps the
        # state (s' = s), leaving ends the episode: GenreQTables.update covers all three.
        self.tables.update(state, step.slate, clicked if clicked >= 0 else None,
                           self.reward_scale * step.reward,
                           self.penalty, done=step.done)  # fmt: skip
        self.updates += 1
