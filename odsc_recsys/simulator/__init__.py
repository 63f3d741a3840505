"""A MovieLens-grounded user simulator: a Gymnasium environment for online recommendation.

Offline replay scores a recommender on what users did under *another* system; it cannot say
what happens when the recommender's own choices change what the user does next. A simulator
can. This one is small, fast and grounded in MovieLens-100K:

* **Who the users are.** Every simulated user is a real MovieLens user: their tastes (latent
  factors of a matrix factorisation and genre affinities) are estimated from their ratings
  (:class:`UserModel`), their session starts from the first movies they rated, and their
  ratings follow a baseline predictor fitted on the data.
* **How they choose.** A cascade click model: the user reads the slate top-down, examines
  position ``p`` with a probability that decays with ``p``, and clicks the first examined
  movie that attracts them. Attraction is a logistic function of the factor score, the genre
  affinity and the movie's popularity (weights fitted on MovieLens), minus satiation with
  genres watched recently.
* **How they change.** Taste drifts during a session (a shift toward another MovieLens user's
  taste, or a random walk); satiation builds up and fades.
* **When they leave.** Interest falls after a slate with no click and rises after a good
  movie; the user leaves when it runs out (or, rarely, for no reason at all). Session length
  is therefore a measure of retention.

The environment is :class:`MovieLensUserEnv`, registered as ``odsc_recsys/MovieLensUser-v0``
when this package is imported. Its class docstring gives the equations.

Modules: :mod:`.user_model` (the population, :class:`UserModel`), :mod:`.estimation` (its fit
on MovieLens ratings), :mod:`.clicks` (the cascade click model), :mod:`.env` (the
environment and its registration) and :mod:`.worlds` (small hand-made worlds).
"""

from .clicks import cascade_click_probabilities
from .env import DRIFT_MODES, ENV_ID, HISTORY_LENGTH, MovieLensUserEnv
from .estimation import genre_affinity
from .user_model import UserModel, default_user_model
from .worlds import genre_world

__all__ = [
    "DRIFT_MODES",
    "ENV_ID",
    "HISTORY_LENGTH",
    "MovieLensUserEnv",
    "UserModel",
    "cascade_click_probabilities",
    "default_user_model",
    "genre_affinity",
    "genre_world",
]
