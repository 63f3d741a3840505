"""Stochastic policies: a probability for every movie, given the session so far.

Off-policy evaluation reweights what a *behaviour* policy did by how likely a *target* policy
was to do the same, so both must say how likely each movie is, not only which is best. Every
policy here shows a slate of ONE movie (``k = 1``: a "next up" card). For a one-movie slate the
propensity of the action is a single probability; for a ranked list of ``k`` movies it is the
probability of the whole ordered list, a product of ``k`` factors that is tiny for any list
and makes per-slate importance weights useless (slate OPE needs a structural assumption, e.g.
the pseudo-inverse estimator of Swaminathan et al., "Off-policy evaluation for slate
recommendation", NeurIPS 2017).

Policies
--------
:class:`SoftmaxPolicy`
    A fitted recommender's scores, standardised and passed through a softmax with a
    temperature: ``0`` is greedy, large is uniform.
:class:`UniformPolicy`
    Every unwatched movie equally likely.
:class:`MixturePolicy` (built by :func:`mix`)
    ``(1 - w) p_a + w p_b``: a continuous path from one policy to another, to sweep how far a
    target strays from the behaviour policy (``w = 0`` is ``a`` itself).

Movies watched this session get probability exactly 0 (the simulated user never re-watches
one), except in the corner where every movie is watched: then every policy is uniform over the
whole catalogue, so all of them agree there and the importance ratio is 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .. import checks
from ..online import Agent
from ..protocol import Recommender, as_history

__all__ = [
    "MixturePolicy",
    "SoftmaxPolicy",
    "StochasticPolicy",
    "UniformPolicy",
    "draw",
    "mix",
]

#: Histories scored together by :meth:`StochasticPolicy.probabilities_many`: it bounds the
#: memory of the (block, n_items) score matrix.
PROBABILITY_BLOCK = 4096


def _eligible_mask(histories: Sequence[np.ndarray], n_items: int) -> np.ndarray:
    """``(len(histories), n_items)`` booleans: True for the movies each history has not watched.

    The histories must already be validated int arrays. A history that has watched every
    movie gets a row of False; the policies are uniform over the whole catalogue there.
    """
    mask = np.ones((len(histories), n_items), dtype=bool)
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    if lengths.sum():
        rows = np.repeat(np.arange(len(histories)), lengths)
        mask[rows, np.concatenate([h for h in histories if len(h)])] = False
    return mask


def _uniform_if_none(probabilities: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Rows without an eligible movie (every movie watched) become uniform over the catalogue:
    the user clicks nothing whatever is shown, so every policy may as well agree there."""
    none = ~eligible.any(axis=1)
    probabilities[none] = 1.0 / eligible.shape[1]
    return probabilities


def _softmax_rows(scores: np.ndarray, eligible: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax of standardised scores over the eligible movies.

    Each row's scores are standardised over its eligible movies (``z = (s - mean) / std``;
    a constant row gives ``z = 0``), so that one temperature means the same whatever the
    model's scale. Then ``p ∝ exp(z / temperature)`` on eligible movies, 0 elsewhere;
    ``temperature = 0`` puts all the mass on the best eligible movie, ties to the lower index
    (as :func:`odsc_recsys.protocol.top_k`). A ``-inf`` score (a movie the model must not
    list) gets probability 0, unless every eligible movie has one: then they are uniform.

    Parameters
    ----------
    scores : float array (m, n_items)
        No NaN.
    eligible : bool array (m, n_items)
        A row without any True (every movie watched) is uniform over the catalogue.
    temperature : float
        ``>= 0``, already checked.
    """
    if np.isnan(scores).any():
        raise ValueError(f"the model's scores must not be NaN, got "
                         f"{checks.first_bad(scores, np.isnan(scores))}")  # fmt: skip
    finite = eligible & np.isfinite(scores)
    none = ~finite.any(axis=1)
    finite[none] = eligible[none]  # every eligible score is -inf: uniform over them
    s = np.where(finite, scores, 0.0)
    s[none] = 0.0
    count = np.maximum(finite.sum(axis=1, keepdims=True), 1)
    mean = s.sum(axis=1, keepdims=True) / count
    centred = np.where(finite, s - mean, 0.0)
    std = np.sqrt((centred**2).sum(axis=1, keepdims=True) / count)
    z = np.divide(centred, std, out=np.zeros_like(centred), where=std > 0)
    z = np.where(finite, z, -np.inf)
    out = np.zeros_like(z)
    if temperature == 0.0:
        out[np.arange(len(z)), np.argmax(z, axis=1)] = 1.0  # argmax: the first of ties
        return _uniform_if_none(out, eligible)
    # (z - max) / T <= 0, so exp never overflows, even for a tiny temperature.
    top = z.max(axis=1, keepdims=True)
    logits = np.subtract(z, top, out=np.full_like(z, -np.inf), where=finite) / temperature
    np.exp(logits, out=out, where=finite)
    total = out.sum(axis=1, keepdims=True)
    np.divide(out, total, out=out, where=total > 0)
    return _uniform_if_none(out, eligible)


def draw(probabilities: np.ndarray, rng: np.random.Generator) -> int:
    """One index drawn from ``probabilities`` with a single ``rng.random()`` (inverse CDF).

    A zero-probability index is never drawn: it adds nothing to the cumulative sum, so the
    first index whose cumulative sum exceeds the uniform draw always has mass.

    Raises
    ------
    ValueError
        If ``probabilities`` is not a 1-d array of finite numbers >= 0 with a positive sum,
        or ``rng`` is not a ``numpy.random.Generator``.
    """
    checks.generator("rng", rng)
    if type(probabilities) is not np.ndarray or probabilities.dtype != np.float64:
        probabilities = checks.finite_array("probabilities", probabilities, ndim=1)
    if probabilities.ndim != 1 or not probabilities.size:
        raise ValueError(f"probabilities must be a non-empty 1-d array, got "
                         f"{checks.short_repr(probabilities)}")  # fmt: skip
    cumulative = np.cumsum(probabilities)
    if not (np.isfinite(cumulative[-1]) and cumulative[-1] > 0 and probabilities.min() >= 0):
        raise ValueError(f"probabilities must be finite numbers >= 0 with a positive sum, got "
                         f"{checks.short_repr(probabilities)}")  # fmt: skip
    return int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))


class StochasticPolicy(Agent):
    """A policy that shows one movie drawn from a distribution over the catalogue.

    Subclasses implement :meth:`probabilities_many`; :meth:`probabilities` and :meth:`act`
    follow from it. The policy never learns (``learn_online`` is False).

    Attributes
    ----------
    n_items : int
        Catalogue size.
    name : str
        Label in result tables.
    """

    n_items: int

    def __init__(self, n_items: int, name: str) -> None:
        super().__init__(k=1)
        self.n_items = checks.positive_int("n_items", n_items)
        self.name = checks.text("name", name)

    def probabilities_many(self, histories: Sequence[Iterable[int]]) -> np.ndarray:
        """``(len(histories), n_items)``: row ``j`` is the distribution given ``histories[j]``.

        Raises
        ------
        ValueError
            If ``histories`` is not a sequence of histories of catalogue indices.
        """
        hists = self._histories(histories)
        out = np.empty((len(hists), self.n_items))
        for start in range(0, len(hists), PROBABILITY_BLOCK):
            block = hists[start : start + PROBABILITY_BLOCK]
            out[start : start + len(block)] = self._rows(block)
        return out

    def probabilities(self, history: Iterable[int]) -> np.ndarray:
        """The distribution over the catalogue given one session history (sums to 1)."""
        return self._rows([as_history(history, self.n_items)])[0]

    def act(
        self, observation: np.ndarray, history: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """One movie drawn from :meth:`probabilities` with ``rng``: an int64 array of length 1."""
        checks.generator("rng", rng)
        return np.array([draw(self.probabilities(history), rng)], dtype=np.int64)

    def _rows(self, hists: list[np.ndarray]) -> np.ndarray:  # pragma: no cover - interface
        """Probabilities of validated histories, one row each."""
        raise NotImplementedError

    def _histories(self, histories: Sequence[Iterable[int]]) -> list[np.ndarray]:
        """Validated histories of a batch (a single flat history is refused)."""
        if isinstance(histories, str | bytes | np.ndarray) or not isinstance(
            histories, Sequence
        ):
            raise ValueError(f"histories must be a sequence (list or tuple) of histories, got "
                             f"{checks.short_repr(histories)}")  # fmt: skip
        out = []
        for j, h in enumerate(histories):
            if isinstance(h, int | np.integer):
                raise ValueError(f"histories must be a sequence of histories (one list of "
                                 f"movies each), got {checks.short_repr(histories)}")  # fmt: skip
            try:
                out.append(as_history(h, self.n_items))
            except ValueError as err:
                raise ValueError(f"histories[{j}]: {err}") from None
        return out


class UniformPolicy(StochasticPolicy):
    """Every unwatched movie equally likely: the most exploring behaviour policy."""

    def __init__(self, n_items: int, name: str = "Uniform") -> None:
        super().__init__(n_items, name)

    def _rows(self, hists: list[np.ndarray]) -> np.ndarray:
        """Uniform over each history's unwatched movies."""
        mask = _eligible_mask(hists, self.n_items)
        counts = mask.sum(axis=1, keepdims=True)
        return _uniform_if_none(mask / np.maximum(counts, 1), mask)


class SoftmaxPolicy(StochasticPolicy):
    """A fitted recommender's scores turned into a distribution by a tempered softmax.

    ``p(i | h) ∝ exp(z_i / temperature)`` over the unwatched movies, with ``z`` the model's
    scores ``model.score(h)`` standardised over those movies (``(s - mean) / std``; a
    constant row gives 0), so that one temperature means the same for any model's scale.
    ``temperature = 0`` is greedy: all the mass on the best unwatched movie, ties to the lower
    index. The larger the temperature, the closer to uniform over the unwatched movies.

    Parameters
    ----------
    model : Recommender
        Fitted (its own ``check_fitted`` raises ``RuntimeError`` otherwise).
    temperature : float
        ``>= 0``.
    name : str, optional
        Default ``"<model name> T=<temperature>"``.
    """

    def __init__(self, model: Recommender, temperature: float, name: str | None = None) -> None:
        if not isinstance(model, Recommender):
            raise ValueError(f"model must be a fitted Recommender, got {type(model).__name__}")
        model.check_fitted()  # RuntimeError "not fitted", as the model itself says
        temperature = checks.real("temperature", temperature, 0.0)
        if name is None:
            name = f"{model.name} T={temperature:g}"
        super().__init__(model.n_items, name)
        self.model = model
        self.temperature = temperature

    def probabilities(self, history: Iterable[int]) -> np.ndarray:
        """The distribution given one history; one ``model.score`` call (the logging loop's)."""
        hist = as_history(history, self.n_items)
        scores = np.asarray(self.model.score(hist), dtype=np.float64)[None, :]
        return _softmax_rows(scores, _eligible_mask([hist], self.n_items), self.temperature)[0]

    def _rows(self, hists: list[np.ndarray]) -> np.ndarray:
        """One ``model.score_many`` call, then the row-wise softmax."""
        scores = np.asarray(self.model.score_many(hists), dtype=np.float64)
        return _softmax_rows(scores, _eligible_mask(hists, self.n_items), self.temperature)


def checked_policy(
    label: str, policy: object, n_items: int | None = None, whose: str = "the"
) -> StochasticPolicy:
    """``policy`` if it is a :class:`StochasticPolicy` (of ``n_items`` movies when given).

    Raises
    ------
    ValueError
        ``"<label> must be a StochasticPolicy ..."`` for anything else, and
        ``"<label>.n_items must be <whose> catalogue size <n_items>, got ..."`` for a policy
        of another catalogue.
    """
    if not isinstance(policy, StochasticPolicy):
        raise ValueError(f"{label} must be a StochasticPolicy (e.g. SoftmaxPolicy), got "
                         f"{type(policy).__name__}")  # fmt: skip
    if n_items is not None and policy.n_items != n_items:
        raise ValueError(f"{label}.n_items must be {whose} catalogue size {n_items}, got "
                         f"{policy.n_items!r}")  # fmt: skip
    return policy


class MixturePolicy(StochasticPolicy):
    """``(1 - weight) p_a + weight p_b``: draw from ``b`` with probability ``weight``.

    Build it with :func:`mix`. ``weight = 0`` is ``a``, ``weight = 1`` is ``b``; in between, a
    target that strays continuously further from ``a``.
    """

    def __init__(
        self, a: StochasticPolicy, b: StochasticPolicy, weight: float, name: str | None = None
    ) -> None:
        checked_policy("a", a)
        checked_policy("b", b, a.n_items, "a's")
        weight = checks.probability("weight", weight)
        super().__init__(a.n_items, f"{a.name} + {weight:g} {b.name}" if name is None else name)
        self.a, self.b, self.weight = a, b, weight

    def probabilities(self, history: Iterable[int]) -> np.ndarray:
        """The mixture of the two distributions given one history."""
        return (1.0 - self.weight) * self.a.probabilities(history) + self.weight * (
            self.b.probabilities(history)
        )

    def _rows(self, hists: list[np.ndarray]) -> np.ndarray:
        """The mixture of the two policies' rows."""
        return (1.0 - self.weight) * self.a._rows(hists) + self.weight * self.b._rows(hists)


def mix(
    a: StochasticPolicy, b: StochasticPolicy, weight: float, name: str | None = None
) -> MixturePolicy:
    """The policy ``(1 - weight) p_a + weight p_b`` (see :class:`MixturePolicy`).

    Raises
    ------
    ValueError
        If ``a`` or ``b`` is not a :class:`StochasticPolicy`, their catalogues differ, or
        ``weight`` is not a probability in ``[0, 1]``.
    """
    return MixturePolicy(a, b, weight, name)
