"""A small tabular Q-learning agent that chooses which genre to show next.

The talk's per-genre tables learn a value for every (movie, movie) pair: in the simulator they
see each cell too rarely for the discounted future to be learnt. This agent asks a question
small enough to learn in a few hundred sessions: given the genres of the last three movies
watched, *which genre* should the next slate show? Its table has ``(G + 1) ** 3`` states (the
ordered genres of the last three movies, ``G`` marking "no movie yet") and ``G`` actions, so
the effect of a choice on the user's future (satiation, boredom) can be learnt, and the
discount ``gamma`` decides whether it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import checks
from ..qlearning.table import make_q_table
from ..qlearning.td import q_learning_step_unchecked
from ..sessions import WINDOW
from .agents import Agent, SessionStep, movie_positions

__all__ = ["GenreChoiceAgent"]


class GenreChoiceAgent(Agent):
    """Tabular Q-learning over "which genre next": state = the genres of the last 3 movies.

    Each step it picks a genre epsilon-greedily from ``Q[state]`` (ties go to the lower
    genre code) and shows the ``k`` unwatched movies of that genre with the highest
    ``scores`` (e.g. popularity). After the step it applies the Q-learning update

    .. math:: Q(s, g) \\leftarrow Q(s, g) + \\alpha\\,(r + \\gamma \\max_{g'} Q(s', g') - Q(s, g))

    with ``r`` the environment's reward and no future term when the user left.

    Parameters
    ----------
    genre : array of int (n_items,)
        Each movie's genre code in ``0 .. len(genre_names) - 1`` (``UserModel.primary_genre``).
    genre_names : sequence of str
        One name per code (``UserModel.primary_names``).
    gamma : float in [0, 1]
        The discount: 0 is the myopic agent, which values a genre by its next click alone.
    alpha : float in (0, 1]
        Learning rate.
    epsilon : float in [0, 1]
        Probability of a random genre.
    scores : array (n_items,), optional
        The order within a genre, highest first (ties: lower index). None: catalogue order.
    k : int
        Slate length.
    name : str

    Attributes
    ----------
    q_table : array ((G + 1) ** 3, G)
        ``Q[state, genre]``; :meth:`state_index` maps an observation to its row.
    """

    learn_online = True

    def __init__(
        self,
        genre: np.ndarray,
        genre_names: Sequence[str],
        gamma: float,
        alpha: float = 0.1,
        epsilon: float = 0.1,
        scores: np.ndarray | None = None,
        k: int = 1,
        name: str = "Genre choice",
    ) -> None:
        super().__init__(k)
        if isinstance(genre_names, str) or not isinstance(genre_names, Sequence):
            raise ValueError(f"genre_names must be a sequence of names, got "
                             f"{checks.short_repr(genre_names)}")  # fmt: skip
        self.genre_names = [checks.text("a genre name", g) for g in genre_names]
        checks.nonempty("genre_names", self.genre_names)
        n_genres = len(self.genre_names)
        self.genre = checks.indices("genre", genre, n_genres).astype(np.int64)
        checks.nonempty("genre", self.genre)
        self.n_items = self.genre.size
        if scores is None:
            scores = np.zeros(self.n_items)
        self.scores = checks.finite_array("scores", scores, shape=(self.n_items,)).copy()
        self.gamma, self.alpha = checks.gamma(gamma), checks.alpha(alpha)
        self.epsilon = checks.epsilon(epsilon)
        self.name = checks.text("name", name)
        self.n_genres = n_genres
        self.q_table = make_q_table((n_genres + 1) ** WINDOW, n_genres)
        self._pending: int | None = None  # the genre chosen by the last act()
        # each genre's movies, best score first (ties: lower index), ranked once
        order = np.lexsort((np.arange(self.n_items), -self.scores))
        self._ranked = [[int(m) for m in order if self.genre[m] == g] for g in range(n_genres)]

    def state_index(self, observation: Any) -> int:
        """Row of ``q_table`` for an observation: its genres read as a base-``G + 1`` number
        (the padding ``n_items`` reads as ``G``, "no movie").

        Raises
        ------
        ValueError
            If ``observation`` is not 1-d movie indices in ``[0, n_items]``.
        """
        index = 0
        for m in movie_positions("observation", observation, self.n_items + 1):
            code = self.n_genres if m == self.n_items else int(self.genre[m])
            index = index * (self.n_genres + 1) + code
        return index

    def choose_genre(self, observation: Any, rng: np.random.Generator) -> int:
        """The genre to show: random with probability ``epsilon``, else the best in ``Q``."""
        checks.generator("rng", rng)
        row = self.q_table[self.state_index(observation)]
        if self.epsilon > 0.0 and rng.random() < self.epsilon:
            return int(rng.integers(self.n_genres))
        return int(np.argmax(row))  # argmax returns the first maximum: the lower code

    def act(
        self, observation: np.ndarray, history: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        g = self.choose_genre(observation, rng)
        watched = set(movie_positions("history", history, self.n_items))
        slate = [m for m in self._ranked[g] if m not in watched][: self.k]
        self._pending = g
        return np.array(slate, dtype=np.int64)  # fewer than k when the genre runs out

    def learn_step(self, step: SessionStep) -> None:
        """One Q-learning update for the genre of ``step.slate`` (the pending choice when the
        slate was empty).

        Raises
        ------
        ValueError
            If the slate mixes genres or is empty with no pending choice, or an observation
            or the reward is invalid. Nothing is written then.
        """
        if not isinstance(step, SessionStep):
            raise ValueError(f"step must be a SessionStep, got {type(step).__name__}")
        slate = movie_positions("slate", step.slate, self.n_items)
        genres = {int(self.genre[m]) for m in slate}
        if len(genres) > 1:
            raise ValueError(f"slate must hold movies of one genre, got genres "
                             f"{sorted(genres)} in {slate}")  # fmt: skip
        if not genres and self._pending is None:
            raise ValueError("an empty slate needs the genre chosen by act(): call act() first")
        g = genres.pop() if genres else self._pending
        s, s_next = self.state_index(step.observation), self.state_index(step.next_observation)
        reward, done = checks.real("reward", step.reward), checks.boolean("done", step.done)
        q_learning_step_unchecked(self.q_table, s, g, reward, float(self.q_table[s, g]),
                                  float(self.q_table[s_next].max()), self.alpha, self.gamma,
                                  done)  # fmt: skip
        self._pending = None
