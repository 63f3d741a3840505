"""Tabular Q-learning: the Q-table, epsilon-greedy exploration, the TD update, a training loop.

Q-learning is value-based, model-free and off-policy. It never sees the transition model
``P(s, a, s')``; from each experienced step ``(s, a, r, s')`` it nudges one table entry towards
the one-step target ``r + gamma * max_a' Q(s', a')``::

    Q(s, a) <- Q(s, a) + alpha * (r + gamma * max_a' Q(s', a') - Q(s, a))

It is *off-policy* because the target uses the greedy action in ``s'`` whatever the behaviour
policy (here epsilon-greedy) actually does next.

The pieces are small functions on NumPy arrays, the textbook form that notebook 04 teaches
with. The per-genre Q-tables of :mod:`odsc_recsys.qtables` do not call them; instead
:func:`td_target` and :func:`td_update` are thin wrappers of that core's
:func:`~odsc_recsys.qtables.update.td_target` and :func:`~odsc_recsys.qtables.update.td_step`,
so the lesson and the tables share one update. Input checks live in :mod:`odsc_recsys.checks`.
:class:`SingleTableRecommender` is the first tabular recommender of notebook 04: one Q-table
whose rows are every unordered triple of a handful of movies.

Three functions are deliberately wrong, for teaching only: :func:`buggy_explore_as_coded`
(the talk code's whole exploration test), :func:`buggy_explore_argmax_index` (its second half
alone) and :func:`buggy_update_double_counted` reproduce mistakes of the talk's original code.
:func:`exploration_trade_off` runs the seeded comparison of exploration settings of notebook 04.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Protocol

import numpy as np
import pandas as pd

from odsc_recsys import checks
from odsc_recsys.protocol import Recommender, as_history, top_k
from odsc_recsys.qtables.update import td_step
from odsc_recsys.qtables.update import td_target as core_td_target

__all__ = [
    "ExplorationRuns",
    "ExploreRule",
    "SingleTableRecommender",
    "TrainingLog",
    "UpdateRule",
    "buggy_explore_argmax_index",
    "buggy_explore_as_coded",
    "buggy_update_double_counted",
    "epsilon_greedy",
    "epsilon_schedule",
    "exploration_trade_off",
    "explore_uniform",
    "greedy_action",
    "make_q_table",
    "q_learning_step",
    "should_explore",
    "td_target",
    "td_update",
    "train_q_learning",
]


# --------------------------------------------------------------------------------------------
# The Q-table and action selection
# --------------------------------------------------------------------------------------------
def make_q_table(n_states: int, n_actions: int, initial_value: float = 0.0) -> np.ndarray:
    """A dense ``(n_states, n_actions)`` float64 Q-table filled with ``initial_value``.

    Raises
    ------
    ValueError
        If a dimension is not a positive integer or ``initial_value`` is not finite.
    """
    shape = (checks.positive_int("n_states", n_states), checks.positive_int("n_actions", n_actions))
    return np.full(shape, checks.real("initial_value", initial_value), dtype=np.float64)


def greedy_action(q_row: np.ndarray, rng: np.random.Generator) -> int:
    """The action with the highest Q-value; ties are broken uniformly at random.

    Random tie-breaking matters at the start, when a fresh table is all zeros: ``np.argmax``
    would always answer action 0 and the agent would walk into the same wall forever.
    """
    q_row = np.asarray(q_row)
    best = (q_row == q_row.max()).nonzero()[0]
    if best.size == 1:
        return int(best[0])
    return int(best[rng.integers(best.size)])


def should_explore(epsilon: float, rng: np.random.Generator) -> bool:
    """The epsilon rule: explore with probability ``epsilon``.

    Draw ``u ~ Uniform[0, 1)`` and explore when ``u < epsilon``. The comparison is between a
    random number and epsilon, never between a Q-value (or an action index) and epsilon.
    """
    return bool(rng.random() < epsilon)


def epsilon_greedy(q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """Pick an action epsilon-greedily from one row of a Q-table.

    With probability ``epsilon`` a uniformly random action (any of them, the greedy one
    included); otherwise the greedy action, ties broken at random.

    Parameters
    ----------
    q_row : np.ndarray
        ``Q(s, .)``, one value per action.
    epsilon : float
        Exploration rate in ``[0, 1]``.
    rng : np.random.Generator
        Source of randomness.
    """
    epsilon = checks.epsilon(epsilon)
    q_row = np.asarray(q_row)
    if should_explore(epsilon, rng):
        return int(rng.integers(q_row.shape[0]))
    return greedy_action(q_row, rng)


def explore_uniform(q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> bool:
    """The correct exploration test as an :class:`ExploreRule` (``q_row`` is ignored)."""
    return should_explore(epsilon, rng)


def epsilon_schedule(
    n_episodes: int,
    start: float = 1.0,
    end: float = 0.05,
    kind: str = "exponential",
) -> np.ndarray:
    """Per-episode exploration rates that decay from ``start`` to ``end``.

    Parameters
    ----------
    n_episodes : int
        Length of the schedule.
    start, end : float
        First and last epsilon, both in ``[0, 1]``.
    kind : {"exponential", "linear", "constant"}
        ``exponential`` multiplies by a fixed factor each episode (fast early decay, long tail);
        ``linear`` decreases by a fixed step; ``constant`` keeps ``start``.
    """
    n_episodes = checks.positive_int("n_episodes", n_episodes)
    start, end = checks.epsilon(start), checks.epsilon(end)
    checks.one_of("kind", kind, ("exponential", "linear", "constant"))
    t = np.linspace(0.0, 1.0, n_episodes)
    if kind == "constant":
        return np.full(n_episodes, start)
    if kind == "linear":
        return start + (end - start) * t
    if start == 0.0 or end == 0.0:
        raise ValueError("an exponential schedule needs start > 0 and end > 0")
    return start * (end / start) ** t


# --------------------------------------------------------------------------------------------
# The temporal-difference update
# --------------------------------------------------------------------------------------------
def td_target(reward: float, max_next_q: float, gamma: float, done: bool = False) -> float:
    """The one-step Q-learning target ``r + gamma * max_a' Q(s', a')``; just ``r`` if ``done``.

    The textbook argument order of the core's :func:`odsc_recsys.qtables.update.td_target`.
    """
    return core_td_target(float(reward), gamma, float(max_next_q), done)


def td_update(
    q_sa: float, reward: float, max_next_q: float, alpha: float, gamma: float, done: bool = False
) -> float:
    """The new value of ``Q(s, a)`` after one Q-learning step (a pure function).

    ``Q(s, a) + alpha * (r + gamma * max_a' Q(s', a') - Q(s, a))``, exactly as the talk writes
    it. When ``done`` (``s'`` is terminal) there is no future: the target is ``r`` alone.

    Parameters
    ----------
    q_sa : float
        The old value ``Q(s, a)``.
    reward : float
        The reward ``r`` observed after taking ``a`` in ``s``.
    max_next_q : float
        ``max_a' Q(s', a')`` over the actions available in the next state.
    alpha : float
        Learning rate in ``(0, 1]``.
    gamma : float
        Discount factor in ``[0, 1]``.
    done : bool
        Whether ``s'`` is terminal.

    Returns
    -------
    float
        The updated ``Q(s, a)``.
    """
    alpha, gamma = checks.alpha(alpha), checks.gamma(gamma)
    return td_step(float(q_sa), td_target(reward, max_next_q, gamma, done), alpha)


def q_learning_step(
    q_table: np.ndarray,
    state: int,
    action: int,
    reward: float,
    next_state: int,
    alpha: float,
    gamma: float,
    done: bool = False,
) -> float:
    """Apply :func:`td_update` to ``q_table[state, action]`` in place; return the TD error."""
    old = float(q_table[state, action])
    max_next_q = float(np.max(q_table[next_state]))
    q_table[state, action] = td_update(old, reward, max_next_q, alpha, gamma, done)
    return td_target(reward, max_next_q, gamma, done) - old


# --------------------------------------------------------------------------------------------
# Two mistakes of the original implementation, kept for the lesson. Never use them.
# --------------------------------------------------------------------------------------------
def buggy_explore_argmax_index(
    q_row: np.ndarray, epsilon: float, rng: np.random.Generator | None = None
) -> bool:
    """WRONG, for teaching: the second half of the original test alone, ``argmax(Q[s]) <= epsilon``.

    The original code compared the *index* of the best action with epsilon. An index is
    0, 1, 2, ... so for any ``0 <= epsilon < 1`` the test is true exactly when action 0 is the
    best one, which it always is on an all-zero (unvisited) row because ``np.argmax`` returns
    the first maximum (even with ``epsilon = 0``). Exploration then depends on how many rows
    are still empty and on which movie happens to sit in column 0, not on epsilon. The full
    original test adds a random draw: :func:`buggy_explore_as_coded`. Use
    :func:`should_explore` instead.
    """
    return bool(np.argmax(np.asarray(q_row)) <= epsilon)


def buggy_explore_as_coded(q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> bool:
    """WRONG, for teaching: the talk code's whole exploration test, both halves.

    ``Code/Multiple_table.py`` of the talk's repository explores when::

        random.uniform(0, 1) <= epsilon or np.argmax(Dict[List_I[-2]][state])<= epsilon

    The first half is the correct coin flip (it explores with probability ``epsilon``); the
    second, :func:`buggy_explore_argmax_index`, adds exploration whenever column 0 is the row's
    argmax. Together they explore with probability ``epsilon + (1 - epsilon) * P(argmax = 0)``,
    more than ``epsilon`` whenever rows are empty. As in the original, the uniform number is
    drawn on every call, before the second half is looked at.

    Parameters
    ----------
    q_row : np.ndarray
        ``Q(s, .)`` of the state (all actions, as in the original's full table row).
    epsilon : float
        The exploration rate the code meant to use, in ``[0, 1]``.
    rng : np.random.Generator
        Source of the uniform draw (``random.uniform(0, 1)`` in the original).
    """
    epsilon = checks.epsilon(epsilon)
    u = rng.uniform(0.0, 1.0)
    return bool(u <= epsilon or buggy_explore_argmax_index(q_row, epsilon))


def buggy_update_double_counted(
    q_sa: float, reward: float, max_next_q: float, alpha: float, gamma: float, done: bool = False
) -> float:
    """WRONG, for teaching: ``(1 - alpha) * Q + alpha * (r + gamma * (maxQ' - Q))``.

    Expanding gives ``Q + alpha * (r + gamma * maxQ' - (1 + gamma) * Q)``: the old value is
    subtracted once by ``(1 - alpha) * Q`` and again inside the bracket. Its fixed point is
    ``(r + gamma * maxQ') / (1 + gamma)`` instead of ``r + gamma * maxQ'``, so every value is
    shrunk by ``1 / (1 + gamma)``. Use :func:`td_update` instead.
    """
    future = 0.0 if done else float(max_next_q)
    q_sa = float(q_sa)
    return (1 - alpha) * q_sa + alpha * (reward + gamma * (future - q_sa))


# --------------------------------------------------------------------------------------------
# Training loop over any Gymnasium-style environment
# --------------------------------------------------------------------------------------------
@dataclass
class TrainingLog:
    """What :func:`train_q_learning` returns.

    Attributes
    ----------
    q_table : np.ndarray
        The learned ``(n_states, n_actions)`` table.
    episode_rewards : np.ndarray
        Undiscounted sum of rewards of each episode (the learning curve).
    episode_lengths : np.ndarray
        Number of steps of each episode.
    epsilons : np.ndarray
        Exploration rate used in each episode.
    values : np.ndarray or None
        ``max_a Q(s, a)`` after each episode, shape ``(n_episodes, n_states)``, if recorded.
    """

    q_table: np.ndarray
    episode_rewards: np.ndarray
    episode_lengths: np.ndarray
    epsilons: np.ndarray
    values: np.ndarray | None = field(default=None)


def train_q_learning(
    env: Any,
    n_episodes: int,
    *,
    alpha: float,
    gamma: float,
    epsilon: float | Sequence[float] | np.ndarray,
    rng: np.random.Generator,
    q_table: np.ndarray | None = None,
    record_values: bool = False,
) -> TrainingLog:
    """Q-learning with epsilon-greedy behaviour on an environment with ``reset``/``step``.

    The environment follows the Gymnasium API with discrete observation and action spaces:
    ``reset(seed=...) -> (state, info)`` and
    ``step(action) -> (next_state, reward, terminated, truncated, info)``. A ``terminated``
    step does not bootstrap (its target is the reward alone); a ``truncated`` one does, because
    the state it stopped in still has a future.

    Parameters
    ----------
    env : gymnasium.Env
        Must expose ``observation_space.n`` and ``action_space.n`` (``Discrete`` spaces).
    n_episodes : int
        Number of episodes.
    alpha, gamma : float
        Learning rate in ``(0, 1]`` and discount factor in ``[0, 1]``.
    epsilon : float or sequence of float
        A constant exploration rate, or one per episode (see :func:`epsilon_schedule`).
    rng : np.random.Generator
        Drives exploration, tie-breaking and the environment's seed.
    q_table : np.ndarray, optional
        A table to continue training (updated in place); a zero table by default.
    record_values : bool
        Keep ``max_a Q(s, a)`` after every episode (for convergence plots).
    """
    alpha, gamma = checks.alpha(alpha), checks.gamma(gamma)
    n_episodes = checks.positive_int("n_episodes", n_episodes)
    if np.ndim(epsilon) == 0:
        epsilons = np.full(int(n_episodes), checks.epsilon(epsilon))  # type: ignore[arg-type]
    else:
        epsilons = np.array([checks.epsilon(e) for e in epsilon], dtype=np.float64)  # type: ignore[union-attr]
        if epsilons.shape != (n_episodes,):
            raise ValueError(
                f"epsilon schedule has {epsilons.size} values, expected one per episode "
                f"({n_episodes})"
            )
    n_states, n_actions = int(env.observation_space.n), int(env.action_space.n)
    if q_table is None:
        q_table = make_q_table(n_states, n_actions)
    elif q_table.shape != (n_states, n_actions):
        raise ValueError(
            f"q_table has shape {q_table.shape}, the environment needs {(n_states, n_actions)}"
        )

    rewards = np.zeros(n_episodes)
    lengths = np.zeros(n_episodes, dtype=np.int64)
    values = np.zeros((n_episodes, n_states)) if record_values else None
    # Seed the environment once; later resets continue its own random stream (Gymnasium's rule).
    state, _ = env.reset(seed=int(rng.integers(2**31)))
    for episode in range(n_episodes):
        if episode > 0:
            state, _ = env.reset()
        done = False
        while not done:
            action = epsilon_greedy(q_table[state], epsilons[episode], rng)
            next_state, reward, terminated, truncated, _ = env.step(action)
            q_learning_step(q_table, state, action, reward, next_state, alpha, gamma, terminated)
            rewards[episode] += reward
            lengths[episode] += 1
            state = next_state
            done = terminated or truncated
        if values is not None:
            values[episode] = q_table.max(axis=1)
    return TrainingLog(q_table, rewards, lengths, epsilons, values)


@dataclass
class ExplorationRuns:
    """What :func:`exploration_trade_off` returns.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per setting: mean reward per episode over the first and the last ``window``
        episodes, and the share of rooms whose greedy action is optimal at the end, each as a
        mean over the seeded runs with its standard error (``... s.e.`` columns).
    curves : dict of str to np.ndarray
        Mean reward of every episode over the runs, per setting (the learning curves).
    """

    summary: pd.DataFrame
    curves: dict[str, np.ndarray]


def exploration_trade_off(
    env: Any,
    settings: dict[str, float | Sequence[float] | np.ndarray],
    seeds: Iterable[int],
    n_episodes: int,
    optimal: np.ndarray,
    *,
    alpha: float,
    gamma: float,
    window: int = 50,
) -> ExplorationRuns:
    """Train Q-learning with each exploration setting from the same seeds and compare.

    Every setting is trained once per seed with ``np.random.default_rng(seed)``, so the
    settings differ only in how they explore. The summary tells what exploring costs while
    learning (reward per episode) and what it buys (rooms with an optimal greedy action).

    Parameters
    ----------
    env : gymnasium.Env
        A discrete environment, as for :func:`train_q_learning`.
    settings : dict
        Label -> constant epsilon, or one epsilon per episode (:func:`epsilon_schedule`).
    seeds : iterable of int
        One run per seed and setting.
    n_episodes : int
        Episodes per run.
    optimal : np.ndarray
        ``(S, A)`` mask of optimal actions (:func:`odsc_recsys.gridworld.optimal_actions`);
        rooms with no optimal action (terminal ones) are not counted.
    alpha, gamma : float
        Learning rate and discount factor.
    window : int
        Episodes averaged at the start and at the end of learning.
    """
    seeds = [int(seed) for seed in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    window = checks.integer("window", window, 1, n_episodes)  # episodes averaged
    optimal = np.asarray(optimal, dtype=bool)
    rooms = np.flatnonzero(optimal.any(axis=1))
    first, last = f"reward, episodes 1-{window}", f"reward, last {window} episodes"
    share = "rooms with an optimal greedy action"
    rows, curves = [], {}
    for name, epsilon in settings.items():
        rewards, shares = [], []
        for seed in seeds:
            run = train_q_learning(env, n_episodes, alpha=alpha, gamma=gamma, epsilon=epsilon,
                                   rng=np.random.default_rng(seed))  # fmt: skip
            rewards.append(run.episode_rewards)
            greedy = run.q_table.argmax(axis=1)
            shares.append(np.mean(optimal[rooms, greedy[rooms]]))
        rewards_arr = np.array(rewards)
        curves[name] = rewards_arr.mean(axis=0)
        row: dict[str, Any] = {"exploration": name}
        for label, per_run in ((first, rewards_arr[:, :window].mean(axis=1)),
                               (last, rewards_arr[:, -window:].mean(axis=1)),
                               (share, np.array(shares))):  # fmt: skip
            row[label] = per_run.mean()
            # standard error of the mean over runs (0 for a single run)
            se = per_run.std(ddof=1) / np.sqrt(len(seeds)) if len(seeds) > 1 else 0.0
            row[f"{label} s.e."] = se
        rows.append(row)
    return ExplorationRuns(pd.DataFrame(rows).set_index("exploration"), curves)


# --------------------------------------------------------------------------------------------
# A first tabular recommender: one Q-table over every triple of a few movies
# --------------------------------------------------------------------------------------------
class ExploreRule(Protocol):
    """``rule(q_row, epsilon, rng) -> bool``: whether to explore in this state."""

    def __call__(self, q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> bool: ...


class UpdateRule(Protocol):
    """``rule(q_sa, reward, max_next_q, alpha, gamma) -> new q_sa``, like :func:`td_update`."""

    def __call__(
        self, q_sa: float, reward: float, max_next_q: float, alpha: float, gamma: float
    ) -> float: ...


class SingleTableRecommender(Recommender):
    """One Q-table whose rows are every unordered triple of a few movies (the talk's slide).

    With ``m`` movies there are ``mC3`` states (10 movies: 120 rows) and ``m`` actions. A state
    is the set of the user's last three movies; the row of a triple is found in a dictionary
    built from ``itertools.combinations``, which is what later notebooks replace by the
    combinatorial number system when ``mC3`` grows to 40 million.

    Training replays logged transitions ``(m1, m2, m3) -> next`` as the paper does: recommend a
    list of ``list_size`` movies epsilon-greedily from the state; the movie the user really
    watched next is rewarded (appended to the list if it was missing) and every other listed
    movie is penalised; each listed movie gets a TD update towards
    ``r + gamma * max_a' Q(s', a')`` with ``s' = (m2, m3, next)``.

    Parameters
    ----------
    items : iterable of int
        Catalogue indices of the movies the table covers (at least 4, distinct).
    n_items : int
        Size of the whole catalogue; :meth:`score` returns one score per catalogue item.
    alpha, gamma, epsilon : float
        Learning rate, discount factor and exploration rate. Defaults: the talk's 0.8, 0.4, 0.3.
    reward, penalty : float
        Reward for the watched movie and penalty (subtracted) for every other listed one;
        the talk's 15 and 5.
    list_size : int
        Length of the recommended list during training.
    explore_rule : ExploreRule, optional
        How to decide to explore; :func:`explore_uniform` by default. Notebook 04 swaps in
        :func:`buggy_explore_argmax_index` to measure the original mistake.
    update_rule : UpdateRule, optional
        The TD update; :func:`td_update` by default.
    """

    name = "single Q-table"

    def __init__(
        self,
        items: Iterable[int],
        n_items: int,
        *,
        alpha: float = 0.8,
        gamma: float = 0.4,
        epsilon: float = 0.3,
        reward: float = 15.0,
        penalty: float = 5.0,
        list_size: int = 3,
        explore_rule: ExploreRule | None = None,
        update_rule: UpdateRule | Callable[..., float] | None = None,
    ) -> None:
        self.n_items = checks.positive_int("n_items", n_items)
        items_arr = as_history(list(items), self.n_items)
        if np.unique(items_arr).size != items_arr.size:
            raise ValueError(f"items must be distinct, got {items_arr.tolist()}")
        if items_arr.size < 4:
            raise ValueError(f"a triple-state table needs at least 4 items, got {items_arr.size}")
        self.items = np.sort(items_arr)
        self.alpha, self.gamma = checks.alpha(alpha), checks.gamma(gamma)
        self.epsilon = checks.epsilon(epsilon)
        self.reward, self.penalty = float(reward), float(penalty)
        # a list holds only movies outside the state
        self.list_size = checks.integer("list_size", list_size, 1, self.items.size - 3)
        self.explore_rule: ExploreRule = explore_rule or explore_uniform
        self.update_rule = update_rule or td_update

        self._position = {int(item): pos for pos, item in enumerate(self.items)}
        self.states = list(combinations(range(self.items.size), 3))  # rows, as item positions
        self._row = {triple: row for row, triple in enumerate(self.states)}
        self.q_table = make_q_table(len(self.states), self.items.size)
        # An action is valid in a state if its movie is not one of the three already watched.
        self.valid = np.ones_like(self.q_table, dtype=bool)
        for row, triple in enumerate(self.states):
            self.valid[row, list(triple)] = False
        self.hit_rate_: list[float] = []
        self.explore_rate_: list[float] = []

    @property
    def n_states(self) -> int:
        """Number of rows: ``mC3``."""
        return len(self.states)

    def state_row(self, state: Iterable[int]) -> int:
        """The Q-table row of a state given as three catalogue indices (any order).

        Raises
        ------
        ValueError
            If the state is not three distinct movies of the table.
        """
        state = [int(m) for m in state]
        missing = [m for m in state if m not in self._position]
        if len(state) != 3 or len(set(state)) != 3 or missing:
            raise ValueError(
                f"a state is 3 distinct movies of this table's {self.items.size} items, "
                f"got {state}" + (f" ({missing} not in the table)" if missing else "")
            )
        return self._row[tuple(sorted(self._position[m] for m in state))]

    def _choose_list(self, row: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
        candidates = np.flatnonzero(self.valid[row])
        explored = self.explore_rule(self.q_table[row], self.epsilon, rng)
        if explored:
            return rng.choice(candidates, size=self.list_size, replace=False), True
        # Greedy list; a random permutation first so that equal Q-values are ordered at random.
        shuffled = rng.permutation(candidates)
        order = np.argsort(-self.q_table[row, shuffled], kind="stable")
        return shuffled[order[: self.list_size]], False

    def fit(
        self,
        states: np.ndarray,
        targets: np.ndarray,
        *,
        rng: np.random.Generator,
        n_epochs: int = 1,
    ) -> SingleTableRecommender:
        """Replay logged transitions ``states[i] -> targets[i]`` for ``n_epochs`` passes.

        Parameters
        ----------
        states : np.ndarray
            ``(n, 3)`` catalogue indices, the three movies before each target.
        targets : np.ndarray
            ``(n,)`` catalogue index of the movie watched next.
        rng : np.random.Generator
            Drives exploration and tie-breaking.
        n_epochs : int
            Passes over the transitions, in the given (chronological) order.

        Notes
        -----
        After each epoch, ``hit_rate_`` records the share of transitions whose watched movie was
        in the list recommended *before* the update, and ``explore_rate_`` the share of
        exploring steps.
        """
        states = np.asarray(states)
        targets = np.asarray(targets)
        if states.ndim != 2 or states.shape[1] != 3 or targets.shape != (states.shape[0],):
            raise ValueError(
                f"states must be (n, 3) and targets (n,), got {states.shape} and {targets.shape}"
            )
        n_epochs = checks.positive_int("n_epochs", n_epochs)
        rows = np.array([self.state_row(s) for s in states], dtype=np.int64)
        next_rows = np.array(
            [self.state_row((s[1], s[2], t)) for s, t in zip(states, targets, strict=True)],
            dtype=np.int64,
        )
        actions = np.array([self._position[int(t)] for t in targets], dtype=np.int64)
        for _ in range(n_epochs):
            hits = explored = 0
            for row, next_row, target in zip(rows, next_rows, actions, strict=True):
                chosen, did_explore = self._choose_list(row, rng)
                explored += did_explore
                hits += bool(np.any(chosen == target))
                if not np.any(chosen == target):
                    chosen = np.append(chosen, target)  # the paper: append the watched movie
                max_next_q = float(self.q_table[next_row, self.valid[next_row]].max())
                for action in chosen:
                    r = self.reward if action == target else -self.penalty
                    self.q_table[row, action] = self.update_rule(
                        self.q_table[row, action], r, max_next_q, self.alpha, self.gamma
                    )
            self.hit_rate_.append(hits / len(rows))
            self.explore_rate_.append(explored / len(rows))
        return self

    def q_values(self, state: Iterable[int]) -> np.ndarray:
        """``Q(s, .)`` over the table's items (movies of the state are ``nan``)."""
        row = self.state_row(state)
        return np.where(self.valid[row], self.q_table[row], np.nan)

    def score(self, history: Iterable[int]) -> np.ndarray:
        """Q-values of the last three movies' row over the catalogue.

        Movies outside the table, and the three of the state, score ``-inf``.
        """
        hist = as_history(history, self.n_items)
        if hist.size < 3:
            raise ValueError(f"the state is the last 3 movies; the history has {hist.size}")
        row = self.state_row(hist[-3:])
        scores = np.full(self.n_items, -np.inf)
        scores[self.items] = np.where(self.valid[row], self.q_table[row], -np.inf)
        return scores

    def recommend(
        self, history: Iterable[int], k: int = 10, exclude: Iterable[int] | None = None
    ) -> np.ndarray:
        """Up to ``k`` of the table's movies, highest Q-value first (ties: lower index first)."""
        scores = self.score(history)
        if exclude is not None:
            ex = as_history(exclude, self.n_items)
            scores[ex] = -np.inf
        n_valid = int(np.isfinite(scores).sum())
        return top_k(scores, min(k, n_valid))
