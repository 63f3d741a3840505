"""Q-networks as recommenders: DQN, SQN and a supervised network, on the one protocol.

Each model is fitted on logged transitions and then answers ``score(history)``,
``recommend(history, k, exclude)`` and ``recommend_many(histories, k)`` like every other model,
so :func:`odsc_recsys.metrics.evaluate` scores it without knowing what it is.

* :class:`DQNRecommender` ranks by ``Q(s, .)``, trained with the TD loss (double DQN, target
  network, optional dueling head).
* :class:`SQNRecommender` (Xin et al. 2020) trains a supervised head and a Q head on one encoder;
  ``head`` chooses which one scores.
* :class:`SupervisedRecommender` trains only the supervised head (softmax over the next movie):
  the same encoder without Q-learning, to isolate what Q-learning adds.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import jax
import numpy as np
import pandas as pd

from .. import checks
from ..atomic import atomic_savez
from ..protocol import Recommender, as_history
from ..sessions import WINDOW, Transitions
from . import networks
from .config import KINDS, NetConfig
from .replay import ReplayBuffer, states_of
from .trainer import FitResult, Validator, fit, score_in_blocks

#: Version of the saved-file layout.
FORMAT = "odsc-recsys-qnetwork-1"

#: The heads an SQN can score with.
SQN_HEADS = ("supervised", "q")


def _scorer(head: str):
    return networks.q_values if head == "q" else networks.next_movie_logits


_SCORERS = {head: jax.jit(_scorer(head)) for head in SQN_HEADS}


class QNetworkRecommender(Recommender):
    """Shared machinery; use :class:`DQNRecommender`, :class:`SQNRecommender` or
    :class:`SupervisedRecommender`.

    Parameters
    ----------
    config : NetConfig, optional
        Sizes and training settings (the defaults of :class:`NetConfig`).
    name : str, optional
        Label in result tables.
    """

    kind: ClassVar[str] = ""
    heads: ClassVar[tuple[str, ...]] = ()
    default_name: ClassVar[str] = ""

    def __init__(self, config: NetConfig | None = None, name: str | None = None) -> None:
        if config is not None and not isinstance(config, NetConfig):
            raise TypeError(f"config must be a NetConfig, got {type(config).__name__}")
        self.config = config if config is not None else NetConfig()
        self.name = name or self.default_name
        self.head = self.heads[0]
        self.params: networks.Params | None = None
        self.n_items = 0
        self.item_ids: np.ndarray | None = None
        self.best_epoch = 0
        self.fit_result: FitResult | None = None

    @property
    def curve(self) -> pd.DataFrame:
        """The learning curve of :meth:`fit`, one row per epoch (``fit_result.curve``); empty
        before ``fit`` and for a loaded model (a file keeps only ``best_epoch``)."""
        return self.fit_result.curve if self.fit_result is not None else pd.DataFrame()

    # -- training ---------------------------------------------------------------------------

    def fit(
        self,
        transitions: Transitions,
        n_items: int,
        rng: np.random.Generator,
        val: Transitions | None = None,
        histories: Mapping[int, np.ndarray] | None = None,
        item_ids: Sequence[int] | None = None,
        progress: bool = False,
    ) -> QNetworkRecommender:
        """Train on logged transitions, with early stopping on ``val`` when it is given.

        Parameters
        ----------
        transitions : Transitions
            Training transitions (e.g. ``split.train``); they fill the replay buffer.
        n_items : int
            Catalogue size.
        rng : numpy.random.Generator
            Seeds the initial weights and the shuffling: the same seed, the same network.
        val : Transitions, optional
            Validation transitions for the learning curve and early stopping.
        histories : dict, optional
            Full user histories; the validation lists then exclude each user's seen movies, as
            :func:`~odsc_recsys.metrics.evaluate` does with the same argument.
        item_ids : sequence of int, optional
            MovieLens ids of the catalogue, saved with the model so that loading it against
            another catalogue fails clearly.
        progress : bool
            Show a progress bar with the validation hit rate.
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        n_items = checks.positive_int("n_items", n_items)
        if item_ids is not None and len(item_ids) != n_items:
            raise ValueError(f"item_ids has {len(item_ids)} ids for a catalogue of {n_items}")
        buffer = ReplayBuffer.from_transitions(transitions, n_items)
        validator = None
        if val is not None:
            validator = Validator.from_transitions(val, n_items, self.config.k, histories)
        key = jax.random.PRNGKey(int(rng.integers(0, 2**31 - 1)))
        params = networks.init_params(key, n_items, self.config, self.heads)
        result = fit(self.kind, params, _SCORERS[self.head], buffer, self.config, rng, validator,
                     progress, desc=self.name)  # fmt: skip
        self.params, self.n_items = result.params, n_items
        self.item_ids = None if item_ids is None else np.asarray(item_ids, dtype=np.int64)
        self.best_epoch, self.fit_result = result.best_epoch, result
        return self

    # -- scoring ----------------------------------------------------------------------------

    def fitted_params(self) -> networks.Params:
        """The trained parameters (a pytree of arrays), or ``RuntimeError`` before ``fit``."""
        if self.params is None:
            raise RuntimeError(f"{self.name} is not fitted yet: call fit(...) (or load a file)")
        return self.params

    def check_fitted(self) -> None:
        """Raise ``RuntimeError`` before ``fit`` (or :func:`load_network`)."""
        self.fitted_params()

    def score_states(self, states: np.ndarray) -> np.ndarray:
        """Scores of every movie for a batch of ``(n, 3)`` states (padding ``n_items``)."""
        params = self.fitted_params()
        states = np.asarray(states)
        if states.ndim != 2 or states.shape[1] != WINDOW:
            raise ValueError(f"states must have shape (n, {WINDOW}), got {states.shape}")
        if states.size and (states.min() < 0 or states.max() > self.n_items):
            bad = states[(states < 0) | (states > self.n_items)][0]
            raise ValueError(
                f"unknown movie index {int(bad)} in a state: catalogue indices run from 0 to "
                f"{self.n_items - 1} ({self.n_items} pads a short history)"
            )
        scorer = _SCORERS[self.head]
        return score_in_blocks(lambda s: scorer(params, s), states.astype(np.int32))

    def score(self, history: Iterable[int]) -> np.ndarray:
        """One score per movie (higher is better) after this history; only its last 3 count."""
        return self.score_many([history])[0]

    def score_many(self, histories: Sequence[Iterable[int]]) -> np.ndarray:
        """Float64 scores of many histories in one batched pass; row ``j`` equals
        ``score(histories[j])`` (:func:`~.trainer.score_in_blocks` pads every call to one
        shape, so a state scores the same alone or among thousands)."""
        self.fitted_params()
        hists = [as_history(h, self.n_items) for h in histories]
        if not hists:
            return np.zeros((0, self.n_items))
        return self.score_states(states_of(hists, self.n_items)).astype(np.float64)

    def check_catalog(self, item_ids: Sequence[int], source: str | None = None) -> None:
        """Raise ``ValueError`` unless the network was trained on exactly this catalogue
        (MovieLens ids in catalogue order). ``source`` names the model in the message."""
        who = source or self.name
        want = np.asarray(item_ids, dtype=np.int64)
        if self.item_ids is None:
            raise ValueError(f"{who} records no catalogue, so it cannot be checked")
        if self.item_ids.shape != want.shape or not np.array_equal(self.item_ids, want):
            raise ValueError(
                f"{who} was trained on another catalogue ({self.item_ids.size} movies) than "
                f"the one given ({want.size} movies)"
            )

    # -- size -------------------------------------------------------------------------------

    @property
    def n_parameters(self) -> int:
        """How many numbers the network holds."""
        return networks.n_parameters(self.fitted_params())

    @property
    def nbytes(self) -> int:
        """Bytes of the parameters (float32)."""
        return int(
            sum(np.asarray(v).nbytes for v in networks.flatten(self.fitted_params()).values())
        )

    # -- saving -----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Write parameters, configuration and catalogue to one ``.npz``, atomically."""
        params = self.fitted_params()
        path = Path(path)
        meta = {
            "format": FORMAT,
            "kind": self.kind,
            "head": self.head,
            "name": self.name,
            "n_items": self.n_items,
            "config": self.config.as_dict(),
            "best_epoch": self.best_epoch,
        }
        arrays = {f"param:{k}": v for k, v in networks.flatten(params).items()}
        arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
        arrays["item_ids"] = self.item_ids if self.item_ids is not None else np.zeros(0, np.int64)
        return atomic_savez(path, **arrays)


class DQNRecommender(QNetworkRecommender):
    """Deep Q-network: rank movies by ``Q(s, .)``, learnt with the double-DQN TD loss.

    ``NetConfig(dueling=True)`` gives the dueling architecture.
    """

    kind = "dqn"
    heads = ("q",)
    default_name = "DQN"

    def __init__(self, config: NetConfig | None = None, name: str | None = None) -> None:
        super().__init__(config, name)
        if name is None and self.config.dueling:
            self.name = "Dueling DQN"


class SupervisedRecommender(QNetworkRecommender):
    """The same encoder trained with softmax cross-entropy on the next movie: no Q-learning."""

    kind = "supervised"
    heads = ("supervised",)
    default_name = "Supervised net"


class SQNRecommender(QNetworkRecommender):
    """SQN (Xin et al., SIGIR 2020): a supervised head and a Q head on one encoder.

    Both heads train together (cross-entropy plus TD loss); ``head`` picks the one that scores.
    Early stopping watches the scoring head. :meth:`with_head` gives a view that scores with the
    other head, sharing the parameters.
    """

    kind = "sqn"
    heads = ("supervised", "q")
    default_name = "SQN"

    def __init__(
        self, config: NetConfig | None = None, name: str | None = None, head: str = "supervised"
    ) -> None:
        super().__init__(config, name)
        self.head = checks.one_of("head", head, SQN_HEADS)
        if name is None:
            self.name = f"SQN ({'supervised' if head == 'supervised' else 'Q'} head)"

    def with_head(self, head: str, name: str | None = None) -> SQNRecommender:
        """The same trained network, scoring with ``head``."""
        view = SQNRecommender(self.config, name, head)
        for attr in ("params", "n_items", "item_ids", "best_epoch", "fit_result"):
            setattr(view, attr, getattr(self, attr))
        return view


_CLASSES: dict[str, type[QNetworkRecommender]] = {
    "dqn": DQNRecommender,
    "sqn": SQNRecommender,
    "supervised": SupervisedRecommender,
}


def load_network(
    path: str | os.PathLike, item_ids: Sequence[int] | None = None
) -> QNetworkRecommender:
    """Read a model written by :meth:`QNetworkRecommender.save`.

    Parameters
    ----------
    path : path
    item_ids : sequence of int, optional
        The catalogue the caller will use (MovieLens ids in catalogue order). When given, a file
        trained on another catalogue is rejected.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is corrupt, truncated, not a Q-network, its shapes disagree with its
        configuration, or it was trained on another catalogue. The message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Q-network file {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{str(path)!r} is not a readable Q-network file ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} is not a Q-network file of format {FORMAT!r}")
    kind = meta.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{str(path)!r}: unknown network kind {kind!r}; allowed: {KINDS}")
    try:
        config = NetConfig.from_dict(meta["config"])
        n_items = checks.positive_int("n_items", meta["n_items"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{str(path)!r}: invalid metadata ({type(err).__name__}: {err})") from None
    cls = _CLASSES[kind]
    model = cls(config, meta.get("name"))
    model.head = meta.get("head", model.head)
    params = networks.unflatten(
        {k.split(":", 1)[1]: v for k, v in arrays.items() if k.startswith("param:")}
    )
    flat = networks.flatten(params)
    got_shapes = {k: np.shape(v) for k, v in flat.items()}
    want_shapes = networks.expected_shapes(n_items, config, cls.heads)
    if got_shapes != want_shapes:
        raise ValueError(
            f"{str(path)!r}: parameter shapes {got_shapes} do not match a {kind} network of "
            f"{n_items} movies with this configuration ({want_shapes})"
        )
    for k, v in flat.items():
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{str(path)!r}: parameter {k!r} holds non-finite values")
    saved_ids = arrays.get("item_ids", np.zeros(0, np.int64))
    model.params, model.n_items = params, n_items
    model.item_ids = saved_ids if saved_ids.size else None
    model.best_epoch = int(meta.get("best_epoch", 0))
    if item_ids is not None:
        model.check_catalog(item_ids, source=repr(str(path)))
    return model
