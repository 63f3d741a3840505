"""Content-based filtering: genre and title-token features, cosine similarity to a profile."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from odsc_recsys import checks
from odsc_recsys.classical import recency
from odsc_recsys.classical.base import ClassicalRecommender, Histories
from odsc_recsys.protocol import as_history

_YEAR = re.compile(r"\(\s*\d{4}\s*\)")
_TOKEN = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    "a an and at de der die for from in is it la le of on or the to with".split()
)


def title_tokens(title: str) -> list[str]:
    """Lower-case word tokens of a title, without the year and common stop words.

    >>> title_tokens("Star Wars (1977)")
    ['star', 'wars']
    >>> title_tokens("Godfather: Part II, The (1974)")
    ['godfather', 'part', 'ii']
    """
    if not isinstance(title, str):
        raise ValueError(f"title must be a string, got {title!r}")
    text = _YEAR.sub(" ", title.lower())
    return [t for t in _TOKEN.findall(text) if t not in _STOPWORDS and len(t) > 1]


def _genre_rows(genre_matrix: object) -> np.ndarray:
    """``genre_matrix`` as a 2-d float array of finite numbers (bool is read as 0/1)."""
    array = np.asarray(genre_matrix)
    return checks.finite_array(
        "genre_matrix", array.astype(np.float64) if array.dtype == bool else array, ndim=2
    )


def _check_titles(titles: object) -> None:
    """Raise ``ValueError`` unless ``titles`` is a sequence of strings (a str is not)."""
    if isinstance(titles, str) or not isinstance(titles, Sequence):
        raise ValueError(f"titles must be a sequence of strings, got {checks.short_repr(titles)}")
    for j, t in enumerate(titles):
        if not isinstance(t, str):
            raise ValueError(f"titles[{j}] must be a string, got {t!r}")


def _l2_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)


def item_features(
    genre_matrix: np.ndarray,
    titles: Sequence[str],
    genre_weight: float = 1.0,
    title_weight: float = 0.5,
    min_df: int = 2,
) -> tuple[np.ndarray, list[str]]:
    """Item feature vectors: genre indicators plus TF-IDF title tokens, unit length.

    Each block is scaled to unit length per item, weighted, concatenated, and the whole row is
    scaled to unit length again, so a dot product of two rows is their cosine similarity:

    .. math:: \\cos(i, j) = \\frac{f_i \\cdot f_j}{\\lVert f_i \\rVert \\lVert f_j \\rVert}

    Parameters
    ----------
    genre_matrix : (n_items, n_genres) array of bool
        Multi-hot genres.
    titles : sequence of str
        One title per item.
    genre_weight, title_weight : float
        Relative weight of the two blocks (>= 0).
    min_df : int
        A token must occur in at least this many titles; a token of one title links nothing.

    Returns
    -------
    features : (n_items, n_features) float array
    names : list of str
        ``"genre:<index>"`` for genre columns and ``"title:<token>"`` for token columns.
    """
    genres = _genre_rows(genre_matrix)
    _check_titles(titles)
    if genres.shape[0] != len(titles):
        raise ValueError(
            f"genre_matrix must be (n_items, n_genres) with one row per title; got shape "
            f"{genres.shape} for {len(titles)} titles"
        )
    checks.real("genre_weight", genre_weight, 0.0)
    checks.real("title_weight", title_weight, 0.0)
    min_df = checks.positive_int("min_df", min_df)
    n_items = genres.shape[0]
    tokens = [set(title_tokens(t)) for t in titles]
    df: dict[str, int] = {}
    for toks in tokens:
        for t in toks:
            df[t] = df.get(t, 0) + 1
    vocab = sorted(t for t, c in df.items() if c >= min_df)
    col = {t: j for j, t in enumerate(vocab)}
    tfidf = np.zeros((n_items, len(vocab)))
    for i, toks in enumerate(tokens):
        for t in toks:
            if t in col:
                tfidf[i, col[t]] = np.log(n_items / df[t])
    feats = np.hstack([genre_weight * _l2_rows(genres), title_weight * _l2_rows(tfidf)])
    names = [f"genre:{g}" for g in range(genres.shape[1])] + [f"title:{t}" for t in vocab]
    return _l2_rows(feats), names


@dataclass(repr=False, eq=False)
class ContentBased(ClassicalRecommender):
    """Content-based filtering: recommend items that look like what the user watched.

    Items are described by their genres and the words of their titles (:func:`item_features`).
    The user profile is the recency-weighted sum of the feature vectors of the history, and an
    item's score is its cosine similarity to that profile. No other user's data is used, so it
    can recommend a movie nobody has watched yet; but it only ever finds "more of the same".

    Parameters
    ----------
    genre_weight, title_weight : float
        Weights of the genre and title-token blocks.
    recency_decay : float in (0, 1]
        Weight of an item ``t`` steps before the most recent one is ``recency_decay ** t``;
        1.0 weighs the whole history equally.
    """

    name = "Content-based"

    genre_weight: float = 1.0
    title_weight: float = 0.5
    recency_decay: float = 0.5

    def check_params(self) -> None:
        """Both weights are finite and >= 0; ``recency_decay`` lies in (0, 1]."""
        checks.real("genre_weight", self.genre_weight, 0.0)
        checks.real("title_weight", self.title_weight, 0.0)
        checks.real("recency_decay", self.recency_decay, 0.0, 1.0, low_open=True)

    def fit(self, histories: Histories, n_items: int, catalog: Any = None) -> ContentBased:
        """Build the item feature matrix from ``catalog.genre_matrix`` and ``catalog.titles``.

        The histories only provide the popularity fallback for an empty history.
        """
        self._fit_common(histories, n_items, catalog)
        self.features_, self.feature_names_ = item_features(
            catalog.genre_matrix, list(catalog.titles), self.genre_weight, self.title_weight
        )
        # Item-item content cosines: with them a whole batch is scored by one sparse product.
        self.content_similarity_ = self.features_ @ self.features_.T
        return self

    def check_fit(self, histories: list[np.ndarray], n_items: int, catalog: Any = None) -> None:
        """The parameters, and a catalogue of ``n_items`` movies with genres and titles."""
        self.check_params()
        if (
            catalog is None
            or not hasattr(catalog, "genre_matrix")
            or not hasattr(catalog, "titles")
        ):
            raise ValueError(
                "ContentBased.fit needs a catalog with .genre_matrix and .titles, "
                f"got {type(catalog).__name__}"
            )
        _check_titles(catalog.titles)
        if len(catalog.titles) != n_items:
            raise ValueError(f"catalog has {len(catalog.titles)} items but n_items is {n_items}")
        genres = _genre_rows(catalog.genre_matrix)
        if genres.shape[0] != n_items:
            raise ValueError(f"catalog.genre_matrix has {genres.shape[0]} rows but n_items is "
                             f"{n_items}")  # fmt: skip

    def profile(self, history: Iterable[int]) -> np.ndarray:
        """The user's profile vector: recency-weighted sum of the history's item features."""
        self.check_fitted()
        hist = as_history(history, self.n_items)
        w = recency.weights(hist.size, self.recency_decay)
        return w @ self.features_[hist]

    def _score(self, history: np.ndarray) -> np.ndarray:
        cols, vals = recency.entries(history, self.recency_decay)
        dots = recency.combine_rows(self.content_similarity_, cols, vals)
        return _normalise(dots, cols, vals)

    def _score_many(self, histories: list[np.ndarray]) -> np.ndarray:
        weights = recency.matrix(histories, self.n_items, self.recency_decay)
        dots = np.asarray(weights @ self.content_similarity_)
        out = np.empty_like(dots)
        for r in range(len(histories)):
            lo, hi = weights.indptr[r], weights.indptr[r + 1]
            out[r] = _normalise(dots[r], weights.indices[lo:hi], weights.data[lo:hi])
        return out


def _normalise(dots: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """Cosine scores from ``dots = G w``: with ``p = w F``, ``|p|^2 = w . (G w)``."""
    norm_sq = np.add.accumulate(vals * dots[cols])[-1]
    if norm_sq <= 0:
        return np.zeros_like(dots)
    return dots / np.sqrt(norm_sq)
