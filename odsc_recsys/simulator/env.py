"""The Gymnasium environment: a MovieLens user shown slates of movies.

:class:`MovieLensUserEnv` is registered with Gymnasium as :data:`ENV_ID` when this module is
imported (importing :mod:`odsc_recsys.simulator` imports it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from scipy.special import expit

from .. import checks
from ..sessions import WINDOW as HISTORY_LENGTH  # observed: the last movies watched, the state
from .clicks import cascade_unchecked, examination_probabilities
from .user_model import UserModel, default_user_model

__all__ = ["DRIFT_MODES", "ENV_ID", "HISTORY_LENGTH", "MovieLensUserEnv"]

#: Gymnasium id under which :class:`MovieLensUserEnv` is registered.
ENV_ID = "odsc_recsys/MovieLensUser-v0"
#: Ways taste can drift during a session.
DRIFT_MODES = ("shift", "walk")


class MovieLensUserEnv(gym.Env):
    """A MovieLens user who is shown slates of movies, watches one or none, and may leave.

    ## Description
    Each episode is one simulated user's stay with the service (a "session"). The user is a
    real MovieLens-100K user (:class:`UserModel`): their tastes (latent factors ``x`` and
    genre affinities ``theta``) are estimated from their ratings, and the session starts with
    the first ``n_start`` movies they rated. At every step the recommender shows a slate of
    ``k`` movies; the user reads it top-down (cascade model), watches at most one movie, rates
    it, and may then leave.

    Attraction of movie ``i`` at step ``t`` (``sigma`` is the logistic function):

    $$ v_{ti} = \\sigma\\bigl(z_i(x_t, \\theta_t) - \\beta_s \\langle s_t, \\tilde g_i\\rangle\\bigr) $$

    with ``z`` the fitted logit of :class:`UserModel` (factor score, genre affinity,
    popularity), ``(x_t, theta_t)`` the user's current taste, ``g~_i`` the movie's genre vector
    (summing to 1), ``s_t`` the satiation vector and ``beta_s = satiation``. A movie already watched in
    this session has ``v = 0`` (nobody re-watches it). Position ``p`` (0 = top) is examined
    with probability ``e_p = (1 + p) ** -position_decay``, and the click lands on position
    ``p`` with probability ``e_p v_p prod_{j<p} (1 - e_j v_j)``
    (:func:`cascade_click_probabilities`).

    After the step, with ``lambda = satiation_decay``:

    - satiation: ``s_{t+1} = lambda s_t + g~_clicked`` (just ``lambda s_t`` without a click);
    - interest (starts at 1): ``iota -= miss_cost`` without a click, else
      ``iota = min(1, iota + click_gain + rating_gain * (rating - 3) - beta_b <g~_i, s_t>)``
      with ``beta_b = boredom`` and ``s_t`` the satiation *before* movie ``i`` was watched.
      Boredom (off by default): a movie of genres the user has just been watching is still
      clicked, but it wears the user out, so a recommender that keeps serving one genre
      shortens the session. Satiation lowers the *attraction* of such a movie; boredom
      charges its *cost* to the future, which only a recommender that looks ahead (gamma > 0)
      can weigh;
    - taste drift, for both ``x`` and ``theta``. ``drift_mode="shift"``: the user gradually
      becomes someone else, another MovieLens user drawn at reset with taste ``theta*``:
      ``theta_t = m + sqrt(1 - rho_t) (theta_0 - m) + sqrt(rho_t) (theta* - m)`` with
      ``rho_t = min(1, drift t)`` and ``m`` the population mean. The square roots keep the
      spread of tastes: a straight line from ``theta_0`` to ``theta*`` would pass through
      blander, more average users half-way and lower everybody's click rates.
      ``drift_mode="walk"``: ``theta_{t+1} = theta_t + drift * sd(theta) * N(0, I)`` (sd over
      users, per coordinate). ``drift=0`` switches it off.

    ## Action Space
    `MultiDiscrete([n_items] * k)`: a slate of ``k`` catalogue indices, best first.
    Shorter slates (1-d integer arrays of length ``0..k``) are accepted too. Documented edge
    cases:

    - **empty slate**: nothing is shown; there is no click (probability 0), interest drops by
      ``miss_cost``;
    - **duplicates**: only the first copy of a movie counts; later copies are examined (they
      take a position) but never clicked;
    - **already watched movies**: shown but never clicked;
    - **out-of-range ids, non-integers, more than ``k`` movies, not 1-d**: ``ValueError``.

    ## Observation Space
    `MultiDiscrete([n_items + 1] * 3)`: the last three movies watched this session, oldest
    first. **Padding**: the value ``n_items`` means "no movie"; it fills the *left* (oldest)
    slots while fewer than three movies have been watched, e.g. ``[n, n, 42]`` after one
    movie, ``[n, n, n]`` for a cold start (``n_start=0``).

    ## Starting State
    A user drawn uniformly from ``users`` (or ``options["user_id"]``), with their fitted taste
    ``(x_0, theta_0)``, interest 1, the first ``n_start`` movies of their MovieLens
    history as the session so far, and satiation built from those movies as if watched.

    ## Rewards
    ``1`` for a click plus ``rating_weight * rating`` (rating in 1..5 of the clicked movie);
    ``0`` without a click. The default ``rating_weight=0`` makes the return the number of
    clicks.

    ## Episode End
    - Termination (the user leaves): interest ``<= 0``, or with probability ``leave_prob``
      after any step.
    - Truncation: ``max_steps`` steps.

    ## Information
    ``reset`` and ``step`` return a dict with ``user_id`` (MovieLens id), ``step``,
    ``clicked`` (catalogue index or -1), ``position`` (slate position or -1), ``rating``
    (1..5, or 0), ``click_probability`` (probability that the slate got a click) and
    ``interest``.

    ## Arguments
    ```python
    import gymnasium as gym
    import odsc_recsys.simulator  # registers the id
    env = gym.make("odsc_recsys/MovieLensUser-v0", k=10, drift=0.05)
    ```
    - ``user_model``: a :class:`UserModel` (default: MovieLens-100K, top 627 movies).
    - ``k`` (10): slate length.
    - ``drift`` (0.0), ``drift_mode`` ("shift"): taste drift per step (see above).
    - ``satiation`` (0.5), ``satiation_decay`` (0.7): ``beta_s`` and ``lambda``.
    - ``boredom`` (0.0): ``beta_b``, the interest a watched movie costs per unit of satiation
      of its genres (0 switches boredom off).
    - ``position_decay`` (1.0): exponent of the examination probability.
    - ``miss_cost`` (0.25), ``click_gain`` (0.1), ``rating_gain`` (0.1): interest dynamics.
    - ``leave_prob`` (0.02): chance of leaving after any step.
    - ``rating_weight`` (0.0): weight of the rating in the reward.
    - ``n_start`` (3): movies of the user's real history that open the session (0..3).
    - ``max_steps`` (100): truncation.
    - ``users``: MovieLens user ids to draw from (default: all in the model).
    - ``render_mode``: ``None`` or ``"ansi"`` (a text view of the last step).

    ## References
    - N. Craswell, O. Zoeter, M. Taylor, B. Ramsey, "An experimental comparison of click
      position-bias models", WSDM 2008 (the cascade model).
    - E. Ie et al., "RecSim: a configurable simulation platform for recommender systems",
      2019 (user choice, interest and satiation in simulated users).
    - K. Kapoor, K. Subbian, J. Srivastava, P. Schrater, "Just in time recommendations:
      modeling the dynamics of boredom in activity streams", WSDM 2015 (boredom).
    - F. M. Harper, J. A. Konstan, "The MovieLens datasets: history and context", ACM TiiS
      2015.

    ## Version History
    - v0: Initial version; ``boredom`` added later, off by default (runs without it are
      unchanged).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        user_model: UserModel | None = None,
        k: int = 10,
        drift: float = 0.0,
        drift_mode: str = "shift",
        satiation: float = 0.5,
        satiation_decay: float = 0.7,
        boredom: float = 0.0,
        position_decay: float = 1.0,
        miss_cost: float = 0.25,
        click_gain: float = 0.1,
        rating_gain: float = 0.1,
        leave_prob: float = 0.02,
        rating_weight: float = 0.0,
        n_start: int = 3,
        max_steps: int = 100,
        users: Iterable[int] | None = None,
        render_mode: str | None = None,
    ) -> None:
        if user_model is not None and not isinstance(user_model, UserModel):
            raise ValueError(f"user_model must be a UserModel or None, got "
                             f"{checks.short_repr(user_model)} ({type(user_model).__name__})")  # fmt: skip
        self.model = user_model if user_model is not None else default_user_model()
        n = self.model.n_items
        self.n_items = n
        self.k = checks.integer("k", k, 1, n)
        self.drift_mode = checks.one_of("drift_mode", drift_mode, DRIFT_MODES)
        self.drift = checks.real("drift", drift, 0.0, 1.0 if drift_mode == "shift" else 10.0)
        self.satiation = checks.real("satiation", satiation, 0.0)
        self.satiation_decay = checks.real("satiation_decay", satiation_decay, 0.0, 1.0)
        self.boredom = checks.real("boredom", boredom, 0.0)
        self.position_decay = checks.real("position_decay", position_decay, 0.0)
        self.miss_cost = checks.real("miss_cost", miss_cost, 0.0)
        self.click_gain = checks.real("click_gain", click_gain)
        self.rating_gain = checks.real("rating_gain", rating_gain)
        self.leave_prob = checks.probability("leave_prob", leave_prob)
        self.rating_weight = checks.real("rating_weight", rating_weight)
        self.n_start = checks.integer("n_start", n_start, 0, HISTORY_LENGTH)
        self.max_steps = checks.integer("max_steps", max_steps, 1)
        self.users = self._user_rows(users)
        self.render_mode = checks.one_of(
            "render_mode", render_mode, [None, *self.metadata["render_modes"]]
        )
        self.pad = n  # the observation's "no movie" value
        self.observation_space = spaces.MultiDiscrete([n + 1] * HISTORY_LENGTH)
        self.action_space = spaces.MultiDiscrete([n] * self.k)
        self.examination = examination_probabilities(self.k, self.position_decay)
        self._prepare_logit()
        self._ready = False
        self._last: dict[str, Any] = {}

    def _user_rows(self, users: Iterable[int] | None) -> np.ndarray:
        """Model rows of the MovieLens user ids to draw from (all users when None).

        Each id must be an integer (``1.7`` is not truncated to user 1, nor ``"12"`` read as
        users 1 and 2) of a simulated user, and appear once: a repeat would silently make that
        user more likely to be drawn.
        """
        if users is None:
            return np.arange(self.model.n_users)
        if isinstance(users, str | bytes) or not isinstance(users, Iterable):
            raise ValueError(f"users must be a sequence of MovieLens user ids or None, got "
                             f"{checks.short_repr(users)}")  # fmt: skip
        ids = list(users.tolist() if isinstance(users, np.ndarray) else users)
        if not ids:
            raise ValueError(f"users must name at least one MovieLens user id, got {ids!r}")
        rows = [self.model.user_index(checks.integer(f"users[{j}]", u)) for j, u in enumerate(ids)]
        if len(set(rows)) != len(rows):
            repeat = next(u for j, u in enumerate(ids) if rows.index(rows[j]) != j)
            raise ValueError(f"users must name each user once, got {repeat!r} twice")
        return np.array(rows, dtype=np.int64)

    def _prepare_logit(self) -> None:
        """Precompute the logit's parts and allocate the user's state vector.

        The logit, rearranged so that a slate costs one gather and one small product:
        z = const_i + W_i . u, with W_i = [beta_m y_i / s, beta_a g~_i, -beta_s g~_i] and the
        user's state u = [x, theta, satiation] (x, theta, satiation are views into u).
        """
        m = self.model
        self._gw = m.genre_weights
        self._const = (
            m.intercept - m.beta_mf * m.mf_center / m.mf_scale + m.beta_popularity * m.popularity
        )
        self._weights = np.hstack(
            [(m.beta_mf / m.mf_scale) * m.item_factors, m.beta_affinity * m.genre_weights,
             -self.satiation * m.genre_weights]
        )  # fmt: skip
        f, g = m.n_factors, m.n_genres
        self._u = np.zeros(f + 2 * g)
        self._x, self._theta, self._satiation = self._u[:f], self._u[f : f + g], self._u[f + g :]
        self._theta_sd, self._theta_mean = m.affinity.std(axis=0), m.affinity.mean(axis=0)
        self._x_sd, self._x_mean = m.user_factors.std(axis=0), m.user_factors.mean(axis=0)

    # ---- state ------------------------------------------------------------------------------

    @property
    def history(self) -> np.ndarray:
        """Movies watched this session (the opening ones included), oldest first."""
        return np.array(self._history, dtype=np.int64)

    @property
    def theta(self) -> np.ndarray:
        """The user's current genre affinities (a copy)."""
        return self._theta.copy()

    @property
    def factors(self) -> np.ndarray:
        """The user's current latent factors (a copy)."""
        return self._x.copy()

    @property
    def satiation_vector(self) -> np.ndarray:
        """The current per-genre satiation ``s_t`` (a copy)."""
        return self._satiation.copy()

    def _observation(self) -> np.ndarray:
        padded = [self.pad] * HISTORY_LENGTH + self._history[-HISTORY_LENGTH:]
        return np.array(padded[-HISTORY_LENGTH:], dtype=np.int64)

    def _info(self) -> dict[str, Any]:
        return {
            "user_id": int(self.model.user_ids[self._user]),
            "step": self._t,
            "clicked": self._last.get("clicked", -1),
            "position": self._last.get("position", -1),
            "rating": self._last.get("rating", 0),
            "click_probability": self._last.get("click_probability", 0.0),
            "interest": self._interest,
        }

    # ---- Gymnasium API ----------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a session: draw a user (or take ``options["user_id"]``) and a drift target.

        Exactly two integers are drawn from ``np_random`` per reset, whatever the options, so
        that sessions with equal seeds stay aligned across settings. ``seed`` and ``options``
        are checked before the generator is reseeded: a refused reset changes nothing.
        """
        if seed is not None:
            seed = checks.count("seed", seed)
        if options is not None and not isinstance(options, Mapping):
            raise ValueError(f"options must be a dict or None, got {checks.short_repr(options)}")
        options = options or {}
        unknown = sorted(set(options) - {"user_id"}, key=repr)
        if unknown:
            raise ValueError(f"unknown reset options {unknown}: the only option is 'user_id'")
        forced = self.model.user_index(options["user_id"]) if "user_id" in options else None
        super().reset(seed=seed)
        n_users = self.model.n_users
        draw_user = int(self.np_random.integers(len(self.users)))
        draw_target = int(self.np_random.integers(max(n_users - 1, 1)))
        self._user = forced if forced is not None else int(self.users[draw_user])
        # Another user's taste (never the user's own): the drift target.
        self._target = draw_target + (1 if draw_target >= self._user and n_users > 1 else 0)
        self._theta0 = self.model.affinity[self._user].copy()
        self._x0 = self.model.user_factors[self._user].copy()
        self._theta[:] = self._theta0
        self._x[:] = self._x0
        self._history: list[int] = [
            int(m) for m in self.model.histories[self._user][: self.n_start]
        ]
        self._watched = np.zeros(self.n_items, dtype=bool)
        self._watched[self._history] = True
        self._satiation[:] = 0.0
        for m in self._history:
            self._fade_satiation(m)
        self._interest = 1.0
        self._t = 0
        self._done = False
        self._last = {}
        self._ready = True
        return self._observation(), self._info()

    def check_slate(self, action: Any) -> np.ndarray:
        """Validate a slate and return it as an int64 array (see the class docstring)."""
        arr = np.asarray(action)
        if arr.ndim != 1:
            raise ValueError(
                f"a slate must be a 1-d sequence of at most k={self.k} movie indices, got shape "
                f"{arr.shape}: {checks.short_repr(action)}"
            )
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        if arr.dtype.kind not in "iu":
            raise ValueError(f"a slate holds integer movie indices in [0, {self.n_items - 1}], "
                             f"got dtype {arr.dtype}: {checks.short_repr(action)}")  # fmt: skip
        if arr.size > self.k:
            raise ValueError(f"a slate holds at most k={self.k} movies, got {arr.size}: "
                             f"{checks.short_repr(action)}")  # fmt: skip
        if arr.min() < 0 or arr.max() >= self.n_items:
            bad = (arr < 0) | (arr >= self.n_items)
            j = int(np.argmax(bad))
            raise ValueError(
                f"unknown movie index {int(arr[j])} at position {j} of the slate: catalogue "
                f"indices run from 0 to {self.n_items - 1}"
            )
        return arr.astype(np.int64, copy=False)

    def _attraction(self, items: np.ndarray) -> np.ndarray:
        """``v`` of valid catalogue indices for the current user (0 for watched movies)."""
        v = expit(self._const[items] + self._weights[items] @ self._u)
        v[self._watched[items]] = 0.0
        return v

    def catalogue_attractiveness(self) -> np.ndarray:
        """``v`` of every catalogue movie for the current user, now (0 for watched ones).

        What an all-knowing recommender would rank by: the simulator's ground truth, for
        reference policies and for validation; a real recommender never sees it.
        """
        self._require_reset()
        return self._attraction(np.arange(self.n_items))

    def attractiveness(self, slate: Any) -> np.ndarray:
        """``v`` of each slate position for the current user: 0 for watched movies and repeats."""
        self._require_reset()
        return self._slate_attraction(self.check_slate(slate))

    def _slate_attraction(self, slate: np.ndarray) -> np.ndarray:
        if slate.size == 0:
            return np.zeros(0)
        v = self._attraction(slate)
        if slate.size > 1 and len(set(slate.tolist())) < slate.size:
            first = np.zeros(slate.size, dtype=bool)
            first[np.unique(slate, return_index=True)[1]] = True
            v[~first] = 0.0  # later copies of a movie are never clicked
        return v

    def click_probabilities(self, slate: Any) -> np.ndarray:
        """Probability that the click lands on each position of ``slate`` (cascade model).

        ``1 - sum`` is the probability of no click. An empty slate gives an empty array.
        """
        v = self.attractiveness(slate)
        return cascade_unchecked(v * self.examination[: v.size])

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Show a slate; the user watches at most one movie, rates it, and may leave.

        Exactly two uniform and ``1 + n_genres + n_factors`` normal numbers are drawn from
        ``np_random`` per step, whatever happens, so runs with equal seeds stay aligned.
        """
        self._require_reset()
        if self._done:
            raise RuntimeError("the session has ended (terminated or truncated): call reset()")
        slate = self.check_slate(action)
        v = self._slate_attraction(slate)
        probs = cascade_unchecked(v * self.examination[: v.size])
        u_click, u_leave = self.np_random.random(2)
        noise = self.np_random.standard_normal(1 + self.model.n_genres + self.model.n_factors)
        pos = int(np.searchsorted(np.cumsum(probs), u_click, side="right"))
        clicked, rating = -1, 0
        if pos < slate.size:
            clicked = int(slate[pos])
            rating = self._rate(clicked, float(noise[0]))
            # Boredom: a movie of genres the user is already sated with is watched, but costs
            # interest in proportion to that satiation (before this movie adds to it).
            bored = 0.0
            if self.boredom:  # off by default: no product on the hot path
                bored = self.boredom * float(self._gw[clicked] @ self._satiation)
            self._history.append(clicked)
            self._watched[clicked] = True
            self._fade_satiation(clicked)
            self._interest = min(
                1.0, self._interest + self.click_gain + self.rating_gain * (rating - 3) - bored
            )
        else:
            pos = -1
            self._fade_satiation(None)
            self._interest -= self.miss_cost
        self._t += 1
        self._drift(noise[1:])
        terminated = bool(self._interest <= 0.0 or u_leave < self.leave_prob)
        truncated = bool(not terminated and self._t >= self.max_steps)
        self._done = terminated or truncated
        reward = float(clicked >= 0) + self.rating_weight * rating
        self._last = {
            "clicked": clicked,
            "position": pos,
            "rating": rating,
            "click_probability": float(probs.sum()),
            "slate": slate,
        }
        return self._observation(), float(reward), terminated, truncated, self._info()

    def render(self) -> str | None:
        """``"ansi"``: the user, the last slate (the clicked movie marked) and the interest."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; use render_mode='ansi'")
            return None
        self._require_reset()
        titles = self.model.catalog.titles
        lines = [
            f"user {self.model.user_ids[self._user]}, step {self._t}, interest "
            f"{self._interest:.2f}",
            "last watched: " + ", ".join(titles[m] for m in self._history[-HISTORY_LENGTH:]),
        ]
        slate = self._last.get("slate")
        if slate is not None:
            for p, m in enumerate(slate.tolist()):
                mark = "*" if p == self._last["position"] else " "
                lines.append(f" {mark} {p + 1:2d}. {titles[m]}")
            if self._last["clicked"] >= 0:
                lines.append(f"clicked, rated {self._last['rating']}")
            else:
                lines.append("no click")
        return "\n".join(lines) + "\n"

    # ---- internals --------------------------------------------------------------------------

    def _require_reset(self) -> None:
        if not self._ready:
            raise RuntimeError("call reset() before using the environment")

    def _fade_satiation(self, watched: int | None) -> None:
        """``s <- lambda s``, plus the genres of the movie just ``watched`` (None: no movie)."""
        self._satiation *= self.satiation_decay
        if watched is not None:
            self._satiation += self._gw[watched]

    def _rate(self, item: int, noise: float) -> int:
        m = self.model
        mean = (
            m.rating_mean
            + m.user_bias[self._user]
            + m.item_bias[item]
            + m.rating_affinity * float(self._gw[item] @ self._theta)
        )
        # round() halves to even, like np.rint; plain floats are much faster on one value.
        return min(5, max(1, round(float(mean) + m.rating_noise * noise)))

    def _drift(self, noise: np.ndarray) -> None:
        if self.drift == 0.0:
            return
        if self.drift_mode == "shift":
            rho = min(1.0, self.drift * self._t)
            a, b = math.sqrt(1.0 - rho), math.sqrt(rho)
            m = self.model
            self._theta[:] = (
                self._theta_mean
                + a * (self._theta0 - self._theta_mean)
                + b * (m.affinity[self._target] - self._theta_mean)
            )
            self._x[:] = (
                self._x_mean
                + a * (self._x0 - self._x_mean)
                + b * (m.user_factors[self._target] - self._x_mean)
            )
        else:
            n_genres = self.model.n_genres
            self._theta += self.drift * self._theta_sd * noise[:n_genres]
            self._x += self.drift * self._x_sd * noise[n_genres:]


def _register() -> None:
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point=f"{__name__}:MovieLensUserEnv")


_register()
