"""Experience replay: logged transitions as (state, action, reward, next state, done).

A logged transition says: after the movies ``(m1, m2, m3)`` the user watched ``a``. As an RL
step that is ``s = (m1, m2, m3)``, action ``a`` with reward 1 (every other movie: 0), and the
next state ``s' = (m2, m3, a)``. The last transition of a user's history in the buffer is
terminal (``done``): nothing follows it to bootstrap from.

Minibatches are drawn from the shuffled buffer, so consecutive steps of one user do not sit in
one batch: the correlation that replay exists to break (Mnih et al. 2015). The online agent
(:mod:`.agent`) keeps the same arrays as a ring buffer: :meth:`ReplayBuffer.empty`, then
:meth:`ReplayBuffer.put` one step at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .. import checks
from ..sessions import WINDOW, ParallelArrays, Transitions


def check_transitions(name: str, transitions: object) -> Transitions:
    """Return ``transitions`` if it is a :class:`~odsc_recsys.sessions.Transitions` whose
    fields are parallel integer arrays: ``states`` ``(n, 3)``, ``users``, ``targets`` and
    ``positions`` ``(n,)``, positions non-negative. Movie indices are checked against the
    catalogue by the caller, whose messages say which catalogue.

    Raises
    ------
    ValueError
        Naming ``name`` and what is wrong.
    """
    if not isinstance(transitions, Transitions):
        raise ValueError(f"{name} must be Transitions (e.g. split.train), got "
                         f"{type(transitions).__name__} {checks.short_repr(transitions)}")  # fmt: skip
    states = np.asarray(transitions.states)
    if states.ndim != 2 or states.shape[1] != WINDOW:
        raise ValueError(f"{name}.states must have shape (n, {WINDOW}), got {states.shape}")
    n = len(states)
    for field in ("users", "states", "targets", "positions"):
        values = np.asarray(getattr(transitions, field))
        if field != "states" and values.shape != (n,):
            raise ValueError(f"{name}.{field} must have shape ({n},), one per state, got "
                             f"shape {values.shape}")  # fmt: skip
        # a float index such as 2.5 would be truncated, and NaN passes every range check
        if values.size and (values.dtype == bool or not np.issubdtype(values.dtype, np.integer)):
            raise ValueError(f"{name}.{field} must be integers, got "
                             f"{checks.short_repr(values.ravel()[:5])} (dtype {values.dtype})")  # fmt: skip
    positions = np.asarray(transitions.positions)
    if positions.size and positions.min() < 0:
        raise ValueError(f"{name}.positions must be non-negative, got {int(positions.min())}")
    return transitions



def states_of(histories: list[np.ndarray] | np.ndarray, n_items: int) -> np.ndarray:
    """The state of each history: its last three movies, oldest first, padded at the front
    with ``n_items`` ("no movie yet") when shorter. ``(n, 3)`` int32."""
    out = np.full((len(histories), WINDOW), n_items, dtype=np.int32)
    for j, h in enumerate(histories):
        tail = np.asarray(h)[-WINDOW:]
        if tail.size:
            out[j, WINDOW - tail.size :] = tail
    return out


@dataclass(frozen=True)
class ReplayBuffer(ParallelArrays):
    """Transitions for TD learning, as parallel arrays.

    Attributes
    ----------
    states, next_states : np.ndarray
        ``(n, 3)`` int32 movie indices.
    actions : np.ndarray
        ``(n,)`` int32, the watched movie.
    rewards : np.ndarray
        ``(n,)`` float32, its reward.
    done : np.ndarray
        ``(n,)`` float32, 1.0 for a terminal step.
    """

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    done: np.ndarray

    @classmethod
    def from_transitions(cls, transitions: Transitions, n_items: int) -> ReplayBuffer:
        """The buffer of logged transitions: reward 1 for the watched movie, next state
        ``(m2, m3, watched)``, terminal at the end of each user's run of transitions.

        Raises
        ------
        ValueError
            If there are no transitions, a state is not 3 movies, the fields are not parallel
            integer arrays, or an index is outside the catalogue.
        """
        check_transitions("transitions", transitions)
        states = np.asarray(transitions.states)
        actions = np.asarray(transitions.targets)
        if len(actions) == 0:
            raise ValueError("the replay buffer needs at least one transition, got none")
        for name, arr in (("state", states), ("action", actions)):
            bad = arr[(arr < 0) | (arr >= n_items)]
            if bad.size:
                raise ValueError(
                    f"unknown movie index {int(bad[0])} in a {name}: catalogue indices run "
                    f"from 0 to {n_items - 1}"
                )
        users = np.asarray(transitions.users)
        positions = np.asarray(transitions.positions)
        follows = (users[1:] == users[:-1]) & (positions[1:] == positions[:-1] + 1)
        done = np.r_[~follows, True].astype(np.float32)
        next_states = np.concatenate([states[:, 1:], actions[:, None]], axis=1)
        return cls(
            states=states.astype(np.int32),
            actions=actions.astype(np.int32),
            rewards=np.ones(len(actions), dtype=np.float32),
            next_states=next_states.astype(np.int32),
            done=done,
        )

    @classmethod
    def empty(cls, size: int) -> ReplayBuffer:
        """``size`` blank rows (action ``-1``), to be filled in place with :meth:`put`."""
        size = checks.count("size", size)
        return cls(
            states=np.zeros((size, WINDOW), np.int32),
            actions=np.full(size, -1, np.int32),
            rewards=np.zeros(size, np.float32),
            next_states=np.zeros((size, WINDOW), np.int32),
            done=np.zeros(size, np.float32),
        )

    def put(
        self,
        row: int,
        state: np.ndarray,
        action: int,
        reward: float,
        next_state: np.ndarray,
        done: bool,
    ) -> None:
        """Overwrite row ``row`` with one step (the arrays are written in place)."""
        self.states[row], self.next_states[row] = state, next_state
        self.actions[row], self.rewards[row], self.done[row] = action, reward, float(done)

    def batch(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """The rows ``index`` as a batch dict (see :mod:`.losses`)."""
        return self.rows(index)

    def minibatches(self, rng: np.random.Generator, batch_size: int) -> Iterator[np.ndarray]:
        """Index arrays of one shuffled pass. The remainder smaller than ``batch_size`` is
        dropped (a different one each pass), so every batch has one shape and compiles once;
        a buffer smaller than one batch gives one batch of all of it."""
        checks.generator("rng", rng)
        batch_size = checks.positive_int("batch_size", batch_size)
        order = rng.permutation(len(self))
        if len(order) < batch_size:
            yield order
            return
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield order[start : start + batch_size]
