"""A Q-network acting in the user simulator of notebook 08, and learning from it online.

Offline, the network learnt from logs in which its choices changed nothing. Here its slate
decides what the user can click, so the next state depends on the action: the setting where
Q-learning's look-ahead can matter. Each step it

1. ranks the movies by ``Q(s, .)``, leaves out what the user has watched, and fills each slot
   of the slate with a random unwatched movie with probability ``epsilon`` (exploration);
2. stores ``(s, slate, clicked, reward, s', done)`` in a bounded replay buffer;
3. every ``update_every`` steps, takes one gradient step on a random minibatch of stored
   steps. Every shown movie is fitted: the clicked one to ``reward + gamma * Q_target(s', a*)``, the others to
   ``0 + gamma * Q_target(s', a*)`` (with no click the user stays in ``s``). Movies that were
   not shown are left alone (nothing was learnt about them).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .. import checks
from ..online import Agent, SessionStep
from ..protocol import top_k
from .models import DQNRecommender
from .networks import q_values
from .replay import ReplayBuffer, states_of
from .trainer import next_target, training_step

_q_of_state = jax.jit(lambda params, state: q_values(params, state[None])[0])


class QNetworkAgent(Agent):
    """A fitted :class:`~odsc_recsys.deep.models.DQNRecommender` as an online agent.

    Parameters
    ----------
    model : DQNRecommender
        A fitted network (for example trained on logged histories); its weights are copied,
        so the model itself is never changed.
    pad : int
        The observation's padding value (``env.pad``, which equals ``n_items``).
    k : int
        Slate length.
    epsilon : float
        Probability that a slot shows a random unwatched movie, in [0, 1].
    learn_online : bool
        False freezes the network (and switches exploration off): a static policy.
    batch_size, buffer_size : int
        Minibatch size, and how many recent steps the replay buffer keeps.
    update_every : int
        Steps between gradient steps (DQN's 4: learning stays cheap and each step's data is
        reused from the buffer).
    seed : int
        Seeds the minibatch draws (the slates use the ``rng`` that :meth:`act` is given);
        a non-negative integer.
    name : str
    gamma : float in [0, 1), optional
        The discount of the online TD targets; None keeps the model's (``model.config.gamma``).
        Starting several agents from one fitted model with different ``gamma`` isolates the
        discount's effect online (on logs it cannot reorder a list: notebook 10).

    Raises
    ------
    ValueError
        If an argument is invalid, or ``batch_size`` exceeds ``buffer_size`` (the buffer could
        never hold a batch), or ``model`` is not a DQNRecommender. ``RuntimeError`` if it
        is not fitted.
    """

    def __init__(
        self,
        model: DQNRecommender,
        pad: int,
        k: int = 10,
        epsilon: float = 0.1,
        learn_online: bool = True,
        batch_size: int = 32,
        buffer_size: int = 5_000,
        update_every: int = 4,
        seed: int = 0,
        name: str = "DQN",
        gamma: float | None = None,
    ) -> None:
        # every argument is checked before anything is set
        if not isinstance(model, DQNRecommender):
            raise ValueError(f"model must be a DQNRecommender, got {type(model).__name__}")
        params = model.fitted_params()
        n_items = model.n_items
        if checks.integer("pad", pad) != n_items:
            raise ValueError(f"pad must equal the catalogue size {n_items}, got {pad!r}")
        k = checks.positive_int("k", k)
        epsilon = checks.epsilon(epsilon)
        learn_online = checks.boolean("learn_online", learn_online)
        batch_size = checks.positive_int("batch_size", batch_size)
        buffer_size = checks.positive_int("buffer_size", buffer_size)
        if batch_size > buffer_size:  # the buffer could never hold one batch: it would not learn
            raise ValueError(
                f"batch_size must be at most buffer_size ({buffer_size}), got {batch_size!r}"
            )
        update_every = checks.positive_int("update_every", update_every)
        seed = checks.count("seed", seed)
        name = checks.text("name", name)
        config = model.config if gamma is None else model.config.with_(gamma=gamma)
        super().__init__(k)
        self.params = params
        self.target = self.params
        self.config = config
        self.n_items = n_items
        self.epsilon, self.batch_size, self.update_every = epsilon, batch_size, update_every
        self.pad, self.learn_online, self.name = int(pad), learn_online, name
        self._step, self._opt_state = training_step("dqn", self.params, self.config)
        # a ring buffer: the latest buffer_size steps, and the slate each one showed
        self._replay = ReplayBuffer.empty(buffer_size)
        self._slates = np.full((buffer_size, k), -1, np.int64)
        self._size = self._next = 0
        self._replay_rng = np.random.default_rng(seed)
        self.steps = self.updates = 0

    def _state(self, observation: np.ndarray) -> np.ndarray:
        obs = np.asarray(observation)
        return states_of([obs[obs != self.pad]], self.n_items)[0]

    def _observation(self, name: str, observation: object) -> np.ndarray:
        """The observation as indices in ``[0, pad]`` (``pad``: no movie); an index outside
        would be clamped silently by the embedding lookup."""
        return checks.indices(name, observation, self.n_items + 1)

    def act(
        self, observation: np.ndarray, history: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """The slate for this observation: up to ``k`` unwatched movies, best ``Q`` first,
        each slot explored with probability ``epsilon`` while learning.

        Raises
        ------
        ValueError
            If ``observation`` holds an index outside ``[0, pad]``, ``history`` one outside
            the catalogue (a negative index would wrap to the last movies), or ``rng`` is not
            a Generator.
        """
        observation = self._observation("observation", observation)
        history = checks.indices("history", history, self.n_items)
        checks.generator("rng", rng)
        q = np.asarray(_q_of_state(self.params, jnp.asarray(self._state(observation))))
        slate = top_k(q, self.k, exclude=history)
        if not self.learn_online or self.epsilon == 0.0:
            return slate
        explore = rng.random(slate.size) < self.epsilon
        if explore.any():
            free = np.ones(self.n_items, dtype=bool)
            free[history] = False
            free[slate] = False
            pool = np.flatnonzero(free)
            n = min(int(explore.sum()), pool.size)
            slate = slate.copy()
            slate[np.flatnonzero(explore)[:n]] = rng.choice(pool, size=n, replace=False)
        return slate

    def learn_step(self, step: SessionStep) -> None:
        """Store the step in the replay buffer; every ``update_every`` steps, once a batch is
        stored, take one gradient step (:meth:`Agent.learn` calls this while learning).

        Raises
        ------
        ValueError
            If the step is invalid: an observation index outside ``[0, pad]``, a slate of
            unknown or repeated movies or longer than ``k``, a click that is neither ``-1``
            nor a movie of the slate, a non-finite reward or a ``done`` that is not a bool.
            Nothing is stored then.
        """
        self._check_step(step)
        j = self._next
        self._replay.put(j, self._state(step.observation), step.clicked, step.reward,
                         self._state(step.next_observation), step.done)  # fmt: skip
        self._slates[j] = -1
        self._slates[j, : len(step.slate)] = step.slate
        self._next = (j + 1) % len(self._replay)
        self._size = min(self._size + 1, len(self._replay))
        self.steps += 1
        if self._size < self.batch_size or self.steps % self.update_every:
            return
        self._update(self._replay_rng.integers(0, self._size, size=self.batch_size))

    def _check_step(self, step: SessionStep) -> None:
        if not isinstance(step, SessionStep):
            raise ValueError(f"step must be a SessionStep, got {type(step).__name__}")
        self._observation("observation", step.observation)
        self._observation("next_observation", step.next_observation)
        slate = checks.indices("slate", step.slate, self.n_items, unique=True)
        if len(slate) > self.k:
            raise ValueError(
                f"slate must hold at most k={self.k} movies, got {len(slate)}: {slate.tolist()}"
            )
        clicked = checks.integer("clicked", step.clicked, -1, self.n_items - 1)
        if clicked != -1 and clicked not in slate:
            raise ValueError(f"clicked must be -1 (no click) or a movie of the slate "
                             f"{slate.tolist()}, got {step.clicked!r}")  # fmt: skip
        checks.real("reward", step.reward)  # a NaN would spread to every weight
        checks.boolean("done", step.done)

    def _update(self, index: np.ndarray) -> None:
        mask = np.zeros((index.size, self.n_items), np.float32)
        rows = np.repeat(np.arange(index.size), self.k)
        cols = self._slates[index].ravel()
        keep = cols >= 0
        mask[rows[keep], cols[keep]] = 1.0
        batch = {**self._replay.batch(index), "mask": mask}
        self.params, self._opt_state, _ = self._step(self.params, self.target, self._opt_state,
                                                     batch)  # fmt: skip
        self.updates += 1
        self.target = next_target(self.target, self.params, self.updates, self.config)
