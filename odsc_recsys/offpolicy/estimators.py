"""Off-policy estimators of a target policy's value from a behaviour policy's log.

Everything works on padded matrices with one row per session ``i`` and one column per step
``t = 0 .. T-1`` (``T`` the longest session):

* ``W[i, t] = prod_{t' <= t} pi(a_it' | h_it') / mu(a_it' | h_it')``, the cumulative importance
  ratio of the target ``pi`` over the behaviour ``mu``. After a session ends the user has left,
  an absorbing state in which every policy agrees: the ratio is 1 there, so the weight is
  carried forward, and the reward is 0.
* ``R[i, t]`` the reward, ``Q[i, t] = q_hat(h_it, a_it)`` a reward model's value of the logged
  movie, ``V[i, t] = sum_a pi(a | h_it) q_hat(h_it, a)`` its value of the target's choice; both
  0 after the end.

The estimators (``gamma`` the discount, 1 counts clicks per session):

* :func:`ips`, per-decision importance sampling (Precup, Sutton and Singh 2000):
  ``(1/n) sum_i sum_t gamma^t W_it R_it``. Unbiased: each reward is reweighted by the ratio of
  the path that led to it, and later ratios, which do not affect it, are left out.
* :func:`snips`, self-normalised (weighted) per-decision IS:
  ``sum_t gamma^t (sum_i W_it R_it) / (sum_i W_it)``. Biased (a ratio of two means) but
  consistent, and its variance is far lower when a few sessions carry huge weights.
* :func:`doubly_robust`, step-wise DR (Jiang and Li 2016):
  ``(1/n) sum_i sum_t gamma^t [W_it (R_it - Q_it) + W_i,t-1 V_it]`` with ``W_i,-1 = 1``.
  Unbiased for ANY reward model: ``W_i,t-1 V_it - W_it Q_it`` has mean zero (given the history,
  the expectation under ``mu`` of ``(pi/mu) q_hat`` is ``sum_a pi q_hat = V``), so it is a
  control variate, and the closer ``q_hat`` is to the truth the lower the variance.
* :func:`effective_sample_size`, ``(sum_i W_i)^2 / sum_i W_i^2`` of the final weights (Kong
  1992): how many sessions the weighted log is worth. It collapses toward 1 when the target
  strays far from the behaviour policy.

Every estimator returns an :class:`Estimate` with a 95% interval: IPS and DR are means of
independent per-session terms, so a t-interval over sessions; SNIPS is a ratio, so a
percentile bootstrap over sessions.

Slates here are of one movie: with ranked lists, the probability of a whole list is too small
for per-slate weights to be useful (see :mod:`odsc_recsys.offpolicy.policies`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import checks
from ..online import mean_interval
from .logs import SessionLog
from .policies import PROBABILITY_BLOCK, StochasticPolicy, checked_policy

__all__ = [
    "Estimate",
    "SessionMatrices",
    "cumulative_weights",
    "doubly_robust",
    "effective_sample_size",
    "fit_reward_model",
    "ips",
    "session_matrices",
    "snips",
    "target_terms",
]


@dataclass(frozen=True)
class Estimate:
    """An estimate of a policy's value with its interval.

    Attributes
    ----------
    value, low, high : float
        The estimate and its 95% (or ``level``) interval.
    terms : float array (n_sessions,) or None
        The per-session terms whose mean is the estimate (IPS, DR); None for SNIPS.
    """

    value: float
    low: float
    high: float
    terms: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Refuse a value or bound that is not a finite number."""
        for name in ("value", "low", "high"):
            object.__setattr__(self, name, checks.real(name, getattr(self, name)))
        if self.terms is not None:
            object.__setattr__(self, "terms", checks.finite_array("terms", self.terms, ndim=1))


@dataclass(frozen=True)
class SessionMatrices:
    """The padded ``(n_sessions, T)`` matrices every estimator reads (module docstring).

    Attributes
    ----------
    weights : W, cumulative importance ratios, carried forward after a session ends
    rewards : R, 0 after the end
    q_hat, v_hat : Q and V of a reward model, or None (then :func:`doubly_robust` refuses)

    Raises
    ------
    ValueError
        On construction, if a matrix is not 2-d finite numbers of the weights' shape, a weight
        is negative, or only one of ``q_hat`` and ``v_hat`` is given.
    """

    weights: np.ndarray
    rewards: np.ndarray
    q_hat: np.ndarray | None = None
    v_hat: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Check shapes, finiteness and signs (see the class docstring)."""
        weights = checks.finite_array("weights", self.weights, ndim=2)
        if weights.shape[1] == 0:
            raise ValueError(f"weights must have at least one column (step), got shape "
                             f"{weights.shape}")  # fmt: skip
        if (weights < 0).any():
            raise ValueError(f"weights must be >= 0 (ratios of probabilities), got "
                             f"{checks.first_bad(weights, weights < 0)}")  # fmt: skip
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "rewards",
                           checks.finite_array("rewards", self.rewards, shape=weights.shape))  # fmt: skip
        if (self.q_hat is None) != (self.v_hat is None):
            raise ValueError(f"q_hat and v_hat must be given together or both be None, got "
                             f"q_hat {'None' if self.q_hat is None else 'given'} and v_hat "
                             f"{'None' if self.v_hat is None else 'given'}")  # fmt: skip
        for name in ("q_hat", "v_hat"):
            if getattr(self, name) is not None:
                value = checks.finite_array(name, getattr(self, name), shape=weights.shape)
                object.__setattr__(self, name, value)

    @property
    def n_sessions(self) -> int:
        """Number of sessions (rows)."""
        return int(self.weights.shape[0])

    @property
    def horizon(self) -> int:
        """``T``, the number of steps (columns)."""
        return int(self.weights.shape[1])

    def rows(self, start: int, stop: int) -> SessionMatrices:
        """Sessions ``start .. stop - 1``: the matrices of that part of the log.

        Trailing columns past the part's longest session hold only carried weights and zeros,
        so every estimate equals that of the part's own matrices.
        """
        start = checks.integer("start", start, 0, self.n_sessions)
        stop = checks.integer("stop", stop, start, self.n_sessions)
        part = slice(start, stop)
        return SessionMatrices(
            self.weights[part], self.rewards[part],
            None if self.q_hat is None else self.q_hat[part],
            None if self.v_hat is None else self.v_hat[part],
        )  # fmt: skip


def cumulative_weights(ratios: np.ndarray) -> np.ndarray:
    """``W[i, t] = prod_{t' <= t} ratios[i, t']``: cumulative importance weights.

    Pad each session's ratios with 1 after its end (every policy agrees once the user has
    left), and its last weight is carried forward.

    Raises
    ------
    ValueError
        If ``ratios`` is not a 2-d array of finite numbers >= 0.
    """
    ratios = checks.finite_array("ratios", ratios, ndim=2)
    if (ratios < 0).any():
        raise ValueError(f"ratios must be >= 0, got {checks.first_bad(ratios, ratios < 0)}")
    return np.cumprod(ratios, axis=1)


def _check_reward_model(reward_model: object, n_items: int) -> np.ndarray | None:
    """``reward_model`` as ``n_items`` finite floats, or None."""
    if reward_model is None:
        return None
    return checks.finite_array("reward_model", reward_model, shape=(n_items,))


def target_terms(
    log: SessionLog,
    target: StochasticPolicy | np.ndarray,
    reward_model: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The target's probability of each logged movie, and its expected reward model value.

    Returns
    -------
    pi : float array (n_steps,)
        ``pi(a_t | h_t)`` of the logged movie ``a_t``.
    v : float array (n_steps,) or None
        ``sum_a pi(a | h_t) reward_model[a]`` (None without a reward model).

    A policy's distributions are computed in blocks and only these two numbers per step kept,
    so a long log never needs an ``(n_steps, n_items)`` matrix in memory.

    Raises
    ------
    ValueError
        If ``log`` is not a :class:`SessionLog`, ``target`` neither a policy of its catalogue
        nor an ``(n_steps, n_items)`` array of probabilities (rows summing to 1), or
        ``reward_model`` not ``n_items`` finite numbers.
    """
    if not isinstance(log, SessionLog):
        raise ValueError(f"log must be a SessionLog (from log_sessions), got {type(log).__name__}")
    r_hat = _check_reward_model(reward_model, log.n_items)
    if isinstance(target, StochasticPolicy):
        checked_policy("target", target, log.n_items, "the log's")
        pi, v = np.empty(log.n_steps), np.empty(log.n_steps)
        # one block of distributions at a time: two numbers per step are all that is kept
        for start in range(0, log.n_steps, PROBABILITY_BLOCK):
            part = slice(start, start + PROBABILITY_BLOCK)
            probs = target.probabilities_many(log.history[part])
            pi[part] = probs[np.arange(len(probs)), log.action[part]]
            v[part] = probs @ r_hat if r_hat is not None else 0.0
        return pi, (v if r_hat is not None else None)
    probs = checks.finite_array("target", target, shape=(log.n_steps, log.n_items))
    allowed = "target must hold one probability distribution per logged step (>= 0, summing to 1)"
    if (probs < 0).any():
        raise ValueError(f"{allowed}, got {checks.first_bad(probs, probs < 0)}")
    sums = probs.sum(axis=1)
    off = np.abs(sums - 1.0) > 1e-9
    if off.any():
        raise ValueError(f"{allowed}, got row {int(np.argmax(off))} summing to "
                         f"{sums[np.argmax(off)].item()!r}")  # fmt: skip
    pi = probs[np.arange(log.n_steps), log.action]
    return pi, (probs @ r_hat if r_hat is not None else None)


def _pad(log: SessionLog, values: np.ndarray, fill: float) -> np.ndarray:
    """Per-step values as an ``(n_sessions, T)`` matrix, ``fill`` after each session's end."""
    horizon = max(int(log.lengths.max()), 1) if log.n_sessions else 1
    out = np.full((log.n_sessions, horizon), fill)
    out[log.session, log.step] = values
    return out


def session_matrices(
    log: SessionLog,
    target: StochasticPolicy | np.ndarray,
    reward_model: np.ndarray | None = None,
) -> SessionMatrices:
    """The matrices of the estimators, for ``target`` on ``log``.

    Parameters
    ----------
    log : SessionLog
    target : StochasticPolicy or float array (n_steps, n_items)
        The policy to evaluate, or its distribution at every logged step.
    reward_model : float array (n_items,), optional
        ``r_hat``, the reward expected from showing each movie (:func:`fit_reward_model`);
        gives ``Q = r_hat[a_t]`` and ``V = sum_a pi(a | h_t) r_hat[a]`` for
        :func:`doubly_robust`.

    Raises
    ------
    ValueError
        As :func:`target_terms`.
    """
    pi, v = target_terms(log, target, reward_model)
    weights = cumulative_weights(_pad(log, pi / log.propensity, 1.0))
    rewards = _pad(log, log.reward, 0.0)
    if v is None:
        return SessionMatrices(weights, rewards)
    r_hat = np.asarray(reward_model, dtype=np.float64)
    return SessionMatrices(weights, rewards, _pad(log, r_hat[log.action], 0.0), _pad(log, v, 0.0))


def _discounts(m: SessionMatrices, gamma: float) -> np.ndarray:
    """``gamma ** t`` for every step ``t`` of ``m``."""
    return gamma ** np.arange(m.horizon, dtype=np.float64)


def _check(m: object, gamma: object, level: object) -> tuple[SessionMatrices, float, float]:
    """The estimators' shared checks: matrices with a session, ``gamma``, ``level``."""
    if not isinstance(m, SessionMatrices):
        raise ValueError(f"m must be SessionMatrices (from session_matrices), got "
                         f"{type(m).__name__}")  # fmt: skip
    if m.n_sessions == 0:
        raise ValueError("m must hold at least one session, got 0")
    return m, checks.gamma(gamma), checks.fraction("level", level)


def _from_terms(terms: np.ndarray, level: float) -> Estimate:
    """The mean of per-session terms with a t-interval over sessions."""
    value, low, high = mean_interval(terms, level)
    return Estimate(value, low, high, terms)


def ips(m: SessionMatrices, gamma: float = 1.0, level: float = 0.95) -> Estimate:
    """Per-decision importance sampling: ``(1/n) sum_i sum_t gamma^t W_it R_it``.

    Unbiased. The interval is a t-interval over the per-session terms.

    Raises
    ------
    ValueError
        If ``m`` is not :class:`SessionMatrices` with a session, ``gamma`` not in ``[0, 1]`` or
        ``level`` not in ``(0, 1)``.
    """
    m, gamma, level = _check(m, gamma, level)
    return _from_terms((m.weights * m.rewards) @ _discounts(m, gamma), level)


def doubly_robust(m: SessionMatrices, gamma: float = 1.0, level: float = 0.95) -> Estimate:
    """Step-wise doubly robust: ``(1/n) sum_i sum_t gamma^t [W_it (R_it - Q_it) + W_i,t-1 V_it]``
    with ``W_i,-1 = 1``.

    Unbiased whatever the reward model; its variance is lower the better the model. The
    interval is a t-interval over the per-session terms.

    Raises
    ------
    ValueError
        As :func:`ips`, or if ``m`` has no reward model (build it with ``reward_model=``).
    """
    m, gamma, level = _check(m, gamma, level)
    if m.q_hat is None or m.v_hat is None:
        raise ValueError("m must carry a reward model for doubly_robust: build it with "
                         "session_matrices(log, target, reward_model=...), got q_hat None")  # fmt: skip
    previous = np.hstack([np.ones((m.n_sessions, 1)), m.weights[:, :-1]])
    per_step = m.weights * (m.rewards - m.q_hat) + previous * m.v_hat
    return _from_terms(per_step @ _discounts(m, gamma), level)


def _snips_value(
    numerators: np.ndarray, denominators: np.ndarray, discounts: np.ndarray
) -> np.ndarray:
    """``sum_t gamma^t num_t / den_t`` along the last axis; a step whose weights sum to 0
    contributes 0 (no logged session says anything about it)."""
    ratio = np.divide(numerators, denominators, out=np.zeros_like(numerators),
                      where=denominators > 0)  # fmt: skip
    return ratio @ discounts


def snips(
    m: SessionMatrices,
    rng: np.random.Generator,
    gamma: float = 1.0,
    n_boot: int = 1000,
    level: float = 0.95,
) -> Estimate:
    """Self-normalised per-decision IS: ``sum_t gamma^t (sum_i W_it R_it) / (sum_i W_it)``.

    Biased (a ratio of means) but consistent, with a lower variance than :func:`ips`. If the
    weights of step ``t`` sum to 0 (the target never takes the logged movies), that step adds
    0. The interval is a percentile bootstrap over sessions: ``n_boot`` resamples of ``n``
    sessions with replacement, drawn from ``rng`` all at once as counts per session.

    Raises
    ------
    ValueError
        As :func:`ips`, or if ``rng`` is not a ``numpy.random.Generator`` or ``n_boot`` not a
        positive integer.
    """
    m, gamma, level = _check(m, gamma, level)
    rng = checks.generator("rng", rng)
    n_boot = checks.positive_int("n_boot", n_boot)
    discounts = _discounts(m, gamma)
    numerator, denominator = m.weights * m.rewards, m.weights
    value = float(_snips_value(numerator.sum(axis=0), denominator.sum(axis=0), discounts))
    n = m.n_sessions
    picks = rng.integers(0, n, size=(n_boot, n)) + n * np.arange(n_boot)[:, None]
    counts = np.bincount(picks.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(float)
    boot = _snips_value(counts @ numerator, counts @ denominator, discounts)
    low, high = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return Estimate(value, float(low), float(high))


def effective_sample_size(m: SessionMatrices) -> float:
    """Kong's effective sample size ``(sum_i W_i)^2 / sum_i W_i^2`` of the final weights.

    ``n`` when every weight is equal (target = behaviour), close to 1 when one session carries
    all the weight. 0 when every final weight is 0.

    Raises
    ------
    ValueError
        If ``m`` is not :class:`SessionMatrices` with a session.
    """
    m, _, _ = _check(m, 1.0, 0.95)
    final = m.weights[:, -1]
    squares = float(final @ final)
    return float(final.sum() ** 2 / squares) if squares > 0 else 0.0


def fit_reward_model(log: SessionLog, smoothing: float = 10.0) -> np.ndarray:
    """Per-movie mean reward (click rate) in ``log``, shrunk toward the log's overall rate.

    ``r_hat[i] = (rewards_i + smoothing * overall) / (shows_i + smoothing)``: a movie shown
    rarely stays near the overall rate, one never shown gets it. It models only the next
    click, not what the movie does to the rest of the session, and ignores the history: a
    crude ``q_hat``. :func:`doubly_robust` is unbiased anyway; a better model only lowers its
    variance. Fit it on a *separate* log from the one evaluated (cross-fitting), so that the
    model's errors are independent of the data it corrects.

    Raises
    ------
    ValueError
        If ``log`` is not a :class:`SessionLog` with a step or ``smoothing`` is not a finite
        number >= 0.
    """
    if not isinstance(log, SessionLog):
        raise ValueError(f"log must be a SessionLog (from log_sessions), got {type(log).__name__}")
    smoothing = checks.real("smoothing", smoothing, 0.0)
    if log.n_steps == 0:
        raise ValueError("log must hold at least one step to fit a reward model, got 0")
    overall = float(log.reward.mean())
    shows = np.bincount(log.action, minlength=log.n_items).astype(np.float64)
    totals = np.bincount(log.action, weights=log.reward, minlength=log.n_items)
    denominator = shows + smoothing
    return np.divide(totals + smoothing * overall, denominator,
                     out=np.full(log.n_items, overall), where=denominator > 0)  # fmt: skip
