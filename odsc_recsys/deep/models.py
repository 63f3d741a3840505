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
import math
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
from .replay import ReplayBuffer, check_transitions, states_of
from .trainer import FitResult, Validator, fit, score_in_blocks

#: Version of the saved-file layout.
FORMAT = "odsc-recsys-qnetwork-1"

#: The heads an SQN can score with.
SQN_HEADS = ("supervised", "q")


def _scorer(head: str):
    return networks.q_values if head == "q" else networks.next_movie_logits


_SCORERS = {head: jax.jit(_scorer(head)) for head in SQN_HEADS}


def _path(value: object) -> Path:
    """``value`` as a Path if it is a non-empty str or os.PathLike (``Path(None)`` would raise a
    TypeError from deep inside pathlib)."""
    if isinstance(value, str) and value.strip() or isinstance(value, os.PathLike):
        return Path(value)
    raise ValueError(f"path must be a file name (a non-empty str or pathlib.Path), got {value!r}")


def _item_ids(values: object, n_items: int | None = None) -> np.ndarray:
    """``values`` as a 1-d int64 array of distinct ids (``n_items`` of them, when given).

    A float id would be truncated by an int64 cast (and NaN cannot be cast at all), and a
    repeated id would make two movies one: both are refused rather than converted.
    """
    allowed = "a 1-d sequence of distinct integer movie ids (MovieLens ids in catalogue order)"
    if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
        raise ValueError(f"item_ids must be {allowed}, got {values!r}")
    ids = np.asarray(values)
    if ids.ndim != 1:
        raise ValueError(f"item_ids must be {allowed}, got shape {ids.shape}")
    if ids.size and (ids.dtype == bool or not np.issubdtype(ids.dtype, np.integer)):
        values = ids.tolist()
        # name the first id that is not a whole number (NaN, 1.5, "1"), else the first float
        odd = [j for j, v in enumerate(values) if not _whole_float(v)]
        j = odd[0] if odd else 0
        checks.integer(f"item_ids[{j}]", values[j])
        raise ValueError(f"item_ids must be {allowed}, got dtype {ids.dtype}")
    if n_items is not None and len(ids) != n_items:
        raise ValueError(f"item_ids has {len(ids)} ids for a catalogue of {n_items}")
    ids = ids.astype(np.int64, copy=False)
    seen, first = np.unique(ids, return_index=True)
    if len(seen) != len(ids):
        j = int(np.setdiff1d(np.arange(len(ids)), first)[0])
        raise ValueError(f"item_ids must not repeat an id, got {int(ids[j])!r} twice "
                         f"(position {j})")  # fmt: skip
    return ids


def _whole_float(value: object) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def _non_finite(flat: Mapping[str, np.ndarray]) -> str | None:
    """``"parameter 'q/w' holds nan at position (2, 3)"`` for the first parameter with a NaN
    or an infinity, or None when all are finite."""
    for name, values in flat.items():
        found = checks.first_non_finite(np.asarray(values))
        if found is not None:
            return f"parameter {name!r} holds non-finite values ({found})"
    return None


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
            raise ValueError(f"config must be a NetConfig or None, got {type(config).__name__} "
                             f"{config!r}")  # fmt: skip
        if name is not None:
            checks.text("name", name)
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

        Raises
        ------
        ValueError
            If an argument is invalid (every one is checked before ``rng`` is drawn from or the
            model changes), or ``histories`` is given without ``val`` (it only shapes the
            validation lists).
        """
        check_transitions("transitions", transitions)
        n_items = checks.positive_int("n_items", n_items)
        checks.generator("rng", rng)
        if val is not None:
            check_transitions("val", val)
        elif histories is not None:
            raise ValueError("histories only shape the validation lists, but val is None: give "
                             "val too, or leave histories out")  # fmt: skip
        ids = None if item_ids is None else _item_ids(item_ids, n_items)
        checks.boolean("progress", progress)
        buffer = ReplayBuffer.from_transitions(transitions, n_items)
        validator = None
        if val is not None:
            validator = Validator.from_transitions(val, n_items, self.config.k, histories)
        key = jax.random.PRNGKey(int(rng.integers(0, 2**31 - 1)))
        params = networks.init_params(key, n_items, self.config, self.heads)
        result = fit(self.kind, params, _SCORERS[self.head], buffer, self.config, rng, validator,
                     progress, desc=self.name)  # fmt: skip
        self.params, self.n_items = result.params, n_items
        self.item_ids = ids
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
        """Scores of every movie for a batch of ``(n, 3)`` states (padding ``n_items``).

        Raises
        ------
        ValueError
            If ``states`` is not an ``(n, 3)`` array of integers in ``[0, n_items]`` (a
            negative index would wrap to the last movie, a float would be truncated).
        """
        params = self.fitted_params()
        states = np.asarray(states)
        if states.ndim != 2 or states.shape[1] != WINDOW:
            raise ValueError(f"states must have shape (n, {WINDOW}), got {states.shape}")
        if states.size and (states.dtype == bool or not np.issubdtype(states.dtype, np.integer)):
            # a float would be truncated to a movie, and NaN passes every range check
            raise ValueError(f"states must be integer movie indices, got dtype {states.dtype}: "
                             f"{states.ravel()[:6]!r}")  # fmt: skip
        if len(states) == 0:
            return np.zeros((0, self.n_items), np.float32)
        if states.min() < 0 or states.max() > self.n_items:
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
        if isinstance(histories, str | bytes) or not isinstance(histories, Iterable):
            raise ValueError(f"histories must be a sequence of histories (each a sequence of "
                             f"movie indices), got {histories!r}")  # fmt: skip
        hists = []
        for history in histories:
            if isinstance(history, str | bytes) or not isinstance(history, Iterable):
                raise ValueError(f"a history must be a sequence of movie indices, got "
                                 f"{history!r}")  # fmt: skip
            hists.append(as_history(history, self.n_items))
        if not hists:
            return np.zeros((0, self.n_items))
        return self.score_states(states_of(hists, self.n_items)).astype(np.float64)

    def check_catalog(self, item_ids: Sequence[int], source: str | None = None) -> None:
        """Raise ``ValueError`` unless the network was trained on exactly this catalogue
        (MovieLens ids in catalogue order). ``source`` names the model in the message.

        Raises ``RuntimeError`` before ``fit``: an unfitted model has no catalogue yet.
        """
        self.fitted_params()
        want = _item_ids(item_ids)
        who = self.name if source is None else checks.text("source", source)
        if self.item_ids is None:
            raise ValueError(f"{who} records no catalogue, so it cannot be checked")
        if self.item_ids.shape != want.shape or not np.array_equal(self.item_ids, want):
            where = ""
            if self.item_ids.shape == want.shape:  # same size: say where they first differ
                j = int(np.flatnonzero(self.item_ids != want)[0])
                where = f": id {int(self.item_ids[j])} at position {j}, given {int(want[j])}"
            raise ValueError(
                f"{who} was trained on another catalogue ({self.item_ids.size} movies) than "
                f"the one given ({want.size} movies){where}"
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
        """Write parameters, configuration and catalogue to one ``.npz``, atomically.

        Raises
        ------
        ValueError
            If ``path`` is not a file name, or a parameter holds NaN or an infinity (such a
            file could not be loaded again): refused before anything is written.
        FileNotFoundError
            If the folder does not exist.
        """
        params = self.fitted_params()
        path = _path(path)
        checks.text("name", self.name)  # it may have been reassigned since the constructor
        flat = networks.flatten(params)
        bad = _non_finite(flat)
        if bad:
            raise ValueError(f"cannot save {self.name} to {str(path)!r}: {bad} (did training "
                             f"diverge?)")  # fmt: skip
        meta = {
            "format": FORMAT,
            "kind": self.kind,
            "head": self.head,
            "name": self.name,
            "n_items": self.n_items,
            "config": self.config.as_dict(),
            "best_epoch": self.best_epoch,
        }
        arrays = {f"param:{k}": v for k, v in flat.items()}
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
    path = _path(path)
    want_ids = None if item_ids is None else _item_ids(item_ids)
    arrays = _read_arrays(path)
    where = repr(str(path))
    meta = _read_meta(arrays, where)
    kind = meta.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{where}: unknown network kind {kind!r}; allowed: {KINDS}")
    cls = _CLASSES[kind]
    config, n_items, name, head, best_epoch, saved_ids = _read_settings(meta, arrays, cls, where)
    flat = _read_params(arrays, where, kind, n_items, config, cls.heads)
    model = cls(config, name)
    model.head = head
    model.params, model.n_items = networks.unflatten(flat), n_items
    model.item_ids = saved_ids if saved_ids.size else None
    model.best_epoch = best_epoch
    if want_ids is not None:
        model.check_catalog(want_ids, source=where)
    return model


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file at ``path``, by name; no pickled object is unpacked."""
    if path.is_dir():
        raise IsADirectoryError(f"Q-network file {str(path)!r} is a folder, not a file")
    if not path.is_file():
        raise FileNotFoundError(f"Q-network file {str(path)!r} does not exist")
    where = repr(str(path))
    try:
        with np.load(path, allow_pickle=False) as z:
            return {name: z[name] for name in z.files}
    except ValueError:  # numpy's "pickled data" advice would only mislead here
        raise ValueError(
            f"{where} is not a readable Q-network file (not an .npz archive of "
            f"plain arrays: corrupt, truncated or another kind of file)"
        ) from None
    except (OSError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{where} is not a readable Q-network file ({err})") from None


def _read_meta(arrays: dict[str, np.ndarray], where: str) -> dict:
    """The JSON metadata of a saved file, taken out of ``arrays``, checked to be of
    :data:`FORMAT`."""
    if "meta" not in arrays:
        raise ValueError(f"{where} is not a Q-network file: it has no 'meta' entry (it holds "
                         f"{checks.short_repr(sorted(arrays), 80)})")  # fmt: skip
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except ValueError as err:
        raise ValueError(
            f"{where} is not a readable Q-network file (its 'meta' entry is not JSON: {err})"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{where} is not a Q-network file of format {FORMAT!r}")
    return meta


def _read_settings(
    meta: dict, arrays: Mapping[str, np.ndarray], cls: type[QNetworkRecommender], where: str
) -> tuple[NetConfig, int, str | None, str, int, np.ndarray]:
    """The saved configuration, catalogue size, name, head, best epoch and item ids (empty
    when none were saved), each checked; any fault is an "invalid metadata" error."""
    try:
        config = NetConfig.from_dict(meta["config"])
        n_items = checks.positive_int("n_items", meta["n_items"])
        name = meta.get("name")
        if name is not None:
            checks.text("name", name)
        head = checks.one_of("head", meta.get("head", cls.heads[0]), cls.heads)
        best_epoch = checks.count("best_epoch", meta.get("best_epoch", 0))
        saved_ids = arrays.get("item_ids", np.zeros(0, np.int64))
        saved_ids = _item_ids(saved_ids, n_items if saved_ids.size else None)
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{where}: invalid metadata ({type(err).__name__}: {err})") from None
    return config, n_items, name, head, best_epoch, saved_ids


def _read_params(
    arrays: Mapping[str, np.ndarray],
    where: str,
    kind: str,
    n_items: int,
    config: NetConfig,
    heads: Sequence[str],
) -> dict[str, np.ndarray]:
    """The flat parameters (``"param:"`` entries, by name), checked to have the shapes of a
    ``kind`` network of this configuration and to be finite floating-point numbers."""
    flat = {k.split(":", 1)[1]: v for k, v in arrays.items() if k.startswith("param:")}
    got_shapes = {k: np.shape(v) for k, v in flat.items()}
    want_shapes = networks.expected_shapes(n_items, config, heads)
    if got_shapes != want_shapes:
        raise ValueError(
            f"{where}: parameter shapes {got_shapes} do not match a {kind} network of "
            f"{n_items} movies with this configuration ({want_shapes})"
        )
    for k, v in flat.items():
        if v.dtype.kind != "f":  # the network computes in floating point; isfinite needs it
            raise ValueError(f"{where}: parameter {k!r} must hold floating-point numbers, got "
                             f"dtype {v.dtype}")  # fmt: skip
    bad = _non_finite(flat)
    if bad:
        raise ValueError(f"{where}: {bad}")
    return flat
