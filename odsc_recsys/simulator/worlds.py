"""Small hand-made worlds in which one effect can be seen in isolation.

:func:`genre_world` builds a catalogue of a few genres of equal-looking movies and a population
that shares one taste: the only things that differ are the genres' appeal and what the user
has just watched. In such a world the effect of satiation and boredom on a session can be
learnt by a small table in a few hundred sessions, which the full MovieLens simulator, with its
627 movies and 943 different users, does not allow.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .. import checks
from .user_model import UserModel

__all__ = ["genre_world"]


def genre_world(
    appeal: Mapping[str, float], movies_per_genre: int = 20, n_users: int = 5
) -> UserModel:
    """A world of genres: ``movies_per_genre`` movies of each genre, all users alike.

    Movie ``i`` of genre ``g`` has attraction logit ``appeal[g]`` (before satiation), so its
    attraction is ``sigma(appeal[g])``; movies are numbered genre by genre, in the order of
    ``appeal``. Users start cold (no history) and rate every movie 4, so a click always adds
    the same interest (the environment's ``click_gain + rating_gain``).

    Parameters
    ----------
    appeal : mapping genre name -> float
        The logit of each genre's movies, at least one genre.
    movies_per_genre : int >= 1
    n_users : int >= 1
        Identical users (their number only matters for who is drawn).

    Raises
    ------
    ValueError
        If ``appeal`` is empty, not a mapping, names a genre twice or holds a non-finite
        logit, or a count is not a positive integer.
    """
    if not isinstance(appeal, Mapping) or not appeal:
        raise ValueError(f"appeal must be a non-empty mapping genre name -> logit, got "
                         f"{checks.short_repr(appeal)}")  # fmt: skip
    names = [checks.text("a genre name", g) for g in appeal]
    logits = np.array([checks.real(f"appeal[{g!r}]", v) for g, v in appeal.items()])
    per = checks.positive_int("movies_per_genre", movies_per_genre)
    n_users = checks.positive_int("n_users", n_users)
    item_factors = np.repeat(logits, per)[:, None]  # logit = 0 + 1 * appeal: z = b + x . y
    genres = [(g,) for g in names for _ in range(per)]
    return UserModel.toy(np.ones((n_users, 1)), item_factors, genres, intercept=0.0,
                         rating_mean=4.0)  # fmt: skip
