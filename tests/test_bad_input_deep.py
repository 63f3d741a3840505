"""The bad-input battery, Q-networks: NetConfig, the recommenders, save/load, the online agent.

Every case asserts the exception (``ValueError`` unless the case says otherwise), that its
message names the bad value and what is allowed, and that the model, the random generator, the
agent and any file on disk are exactly as before the call. One tiny network of an 8-movie
catalogue is trained once for the module; every refusal happens before any training.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from bad_input import rejects
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys.deep import (
    DQNRecommender,
    NetConfig,
    SQNRecommender,
    SupervisedRecommender,
    load_network,
)
from odsc_recsys.deep.agent import QNetworkAgent
from odsc_recsys.deep.networks import flatten
from odsc_recsys.online import SessionStep
from odsc_recsys.qtables import GenreQTables
from odsc_recsys.sessions import Transitions, make_transitions

N = 8  # movies; the padding index of a state is N
IDS = np.arange(101, 101 + N)  # the catalogue's MovieLens ids
TINY = NetConfig(embed_dim=4, hidden=8, batch_size=8, max_epochs=1, learning_rate=0.01, k=2)
NAN, INF = math.nan, math.inf


def small(states, targets) -> Transitions:
    """Hand-made transitions of one user, at consecutive positions."""
    states = np.asarray(states)
    n = len(states)
    return Transitions(users=np.zeros(n, np.int64), states=states, targets=np.asarray(targets),
                       positions=np.arange(3, 3 + n))  # fmt: skip


def forged(**fields) -> Transitions:
    """Two valid transitions with some fields swapped afterwards for malformed arrays, as
    code that assigns to a frozen dataclass (or a Transitions constructor that checks less)
    could leave them: the model must not rely on the constructor alone."""
    transitions = small([[0, 1, 2], [1, 2, 3]], [3, 4])
    for name, value in fields.items():
        object.__setattr__(transitions, name, np.asarray(value))
    return transitions


@pytest.fixture(scope="module")
def data() -> tuple[dict, Transitions, Transitions]:
    rng = np.random.default_rng(0)
    histories = {u: rng.permutation(N) for u in range(6)}
    transitions = make_transitions(histories)
    val = transitions.subset(transitions.users == 5)
    return histories, transitions, val


@pytest.fixture(scope="module")
def model(data) -> DQNRecommender:
    _, transitions, _ = data
    return DQNRecommender(TINY).fit(transitions, N, np.random.default_rng(0), item_ids=IDS)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("deep_files")


@pytest.fixture(scope="module")
def good_file(model, folder) -> Path:
    return model.save(folder / "good.npz")


class AgentState:
    """Pickles to everything an agent holds that a step could change (the agent itself holds a
    compiled function, which does not pickle): weights, target, optimiser state, replay rows,
    slates, counters and the minibatch generator."""

    def __init__(self, agent: QNetworkAgent) -> None:
        self.agent = agent

    def __getstate__(self) -> dict:
        a = self.agent
        return {
            "params": {k: v.tolist() for k, v in flatten(a.params).items()},
            "target": {k: v.tolist() for k, v in flatten(a.target).items()},
            "opt": [np.asarray(leaf).tolist() for leaf in jax.tree_util.tree_leaves(a._opt_state)],
            "replay": a._replay.rows(np.arange(len(a._replay))),
            "slates": a._slates.copy(),
            "counters": (a._size, a._next, a.steps, a.updates),
            "rng": a._replay_rng.bit_generator.state,
            "settings": (a.k, a.epsilon, a.learn_online, a.batch_size, a.update_every, a.name),
        }


def with_params(base: DQNRecommender, key: str, sub: str | None, value: float) -> DQNRecommender:
    """A copy of ``base`` whose parameter ``key[/sub]`` holds ``value`` at its first entry."""
    model = DQNRecommender(base.config)
    model.n_items, model.item_ids = base.n_items, base.item_ids
    params = {k: dict(v) if isinstance(v, dict) else v for k, v in base.params.items()}
    leaf = np.array(params[key][sub] if sub else params[key])
    leaf.flat[0] = value
    if sub:
        params[key][sub] = jnp.asarray(leaf)
    else:
        params[key] = jnp.asarray(leaf)
    model.params = params
    return model


# ---- NetConfig ------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not 0 <= x < 1),
        st.sampled_from(["0.5", None, True, [0.5]]),
    )
)
def test_any_gamma_outside_0_1_is_refused(gamma):
    base = NetConfig()
    rejects(lambda: NetConfig(gamma=gamma), match=["gamma must be", "[0, 1)", repr(gamma)])
    rejects(lambda: base.with_(gamma=gamma), match=["gamma", repr(gamma)], unchanged=[base])


#: Every field given as a string, as a hand-edited config file would give it.
AS_TEXT = [("embed_dim", "4"), ("hidden", "8"), ("gamma", "0.5"), ("negative_weight", "10"),
           ("target_update", "COPY"), ("target_every", "200"), ("tau", "0.01"),
           ("learning_rate", "2e-3"), ("batch_size", "512"), ("max_epochs", "20"),
           ("patience", "2"), ("k", "10"), ("double", "True"), ("dueling", "false")]  # fmt: skip


@pytest.mark.parametrize(("field", "value"), AS_TEXT, ids=[f for f, _ in AS_TEXT])
def test_a_hyperparameter_given_as_a_string_is_refused(field, value):
    message = rejects(lambda: NetConfig(**{field: value}), match=[f"{field} must be", repr(value)])
    assert "numpy" not in message
    rejects(lambda: NetConfig.from_dict({field: value}), match=[field, repr(value)])


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("negative_weight", INF, "(0, 1e+06]"),
        ("learning_rate", NAN, "(0, 1]"),
        ("tau", -INF, "(0, 1]"),
        ("embed_dim", 0, "[1, 4096]"),
        ("batch_size", 4.0, "an integer"),
        ("max_epochs", -1, "[1, 10000]"),
        ("target_every", None, "a positive integer"),
    ],
    ids=["weight inf", "lr nan", "tau -inf", "embed 0", "batch 4.0", "epochs -1", "every None"],
)
def test_non_finite_and_out_of_range_hyperparameters(field, value, allowed):
    rejects(lambda: NetConfig(**{field: value}), match=[field, allowed, repr(value)])


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ([("gamma", 0.5)], ["values must be a mapping", "[('gamma', 0.5)]"]),
        (None, ["values must be a mapping", "None"]),
        ("gamma=0.5", ["values must be a mapping", "'gamma=0.5'"]),
        ({1: 0.5}, ["field names must be strings", "1"]),
        ({"gama": 0.5}, ["unknown NetConfig field(s) ['gama']", "'gamma'"]),
    ],
    ids=["list of pairs", "None", "string", "int key", "misspelt field"],
)
def test_from_dict_needs_a_mapping_of_known_fields(values, match):
    rejects(lambda: NetConfig.from_dict(values), match=match)


# ---- constructors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: DQNRecommender(TINY, name=""), ["name must be a non-empty string", "''"]),
        (lambda: DQNRecommender(TINY, name=5), ["name must be a non-empty string", "5"]),
        (lambda: SupervisedRecommender(TINY, name=["x"]), ["name must be", "['x']"]),
        (lambda: SQNRecommender(TINY, head="Q"), ["head must be one of 'supervised', 'q'", "'Q'"]),
        (lambda: SQNRecommender(TINY, head=None), ["head must be one of", "None"]),
    ],
    ids=["empty name", "numeric name", "list name", "head 'Q'", "head None"],
)
def test_constructors_check_their_arguments(make, match):
    rejects(make, match=match)


def test_a_config_that_is_not_a_netconfig_is_refused():
    rejects(lambda: DQNRecommender({"gamma": 0.5}),
            match=["config must be a NetConfig", "{'gamma': 0.5}"])  # fmt: skip


def test_with_head_checks_the_head(model):
    sqn = SQNRecommender(TINY)
    rejects(lambda: sqn.with_head("value"), match=["head must be one of", "'value'"],
            unchanged=[sqn])  # fmt: skip


# ---- fit ------------------------------------------------------------------------------------

FIT_CASES = {
    "transitions a list": (
        lambda d: {"transitions": [[0, 1, 2]]},
        ["transitions must be Transitions", "[[0, 1, 2]]"],
    ),
    "n_items a string": (lambda d: {"n_items": "8"}, ["n_items must be a positive integer", "'8'"]),
    "n_items nan": (lambda d: {"n_items": NAN}, ["n_items must be a positive integer", "nan"]),
    "n_items zero": (lambda d: {"n_items": 0}, ["n_items must be a positive integer", "0"]),
    "val a list": (lambda d: {"val": [1, 2]}, ["val must be Transitions", "[1, 2]"]),
    "val empty": (
        lambda d: {"val": make_transitions({0: np.array([1, 2])})},
        ["val must hold at least one transition", "none"],
    ),
    "val unknown movie": (
        lambda d: {"val": small([[0, 1, 2]], [N])},
        ["unknown item index 8", "0 to 7"],
    ),
    "val negative movie": (
        lambda d: {"val": small([[0, -1, 2]], [3])},
        ["unknown item index -1", "0 to 7"],
    ),
    "histories a list": (
        lambda d: {"val": d[2], "histories": [[0, 1]]},
        ["histories must be a mapping", "[[0, 1]]"],
    ),
    "histories miss a user": (
        lambda d: {"val": d[2], "histories": {0: d[0][0]}},
        ["histories must hold every user of val", "user 5"],
    ),
    "histories without val": (
        lambda d: {"histories": d[0]},
        ["histories only shape the validation lists", "val is None"],
    ),
    "item_ids too few": (
        lambda d: {"item_ids": [1, 2, 3]},
        ["item_ids has 3 ids for a catalogue of 8"],
    ),
    "item_ids nan": (
        lambda d: {"item_ids": np.r_[IDS[:-1], NAN]},
        ["item_ids[7] must be an integer", "nan"],
    ),
    "item_ids floats": (
        lambda d: {"item_ids": IDS + 0.5},
        ["item_ids[0] must be an integer", "101.5"],
    ),
    "item_ids repeated": (
        lambda d: {"item_ids": np.r_[IDS[:-1], 101]},
        ["item_ids must not repeat an id", "101", "position 7"],
    ),
    "item_ids a number": (lambda d: {"item_ids": 101}, ["item_ids must be a 1-d sequence", "101"]),
    "item_ids strings": (
        lambda d: {"item_ids": [str(i) for i in IDS]},
        ["item_ids[0] must be an integer", "'101'"],
    ),
    "progress a string": (
        lambda d: {"progress": "yes"},
        ["progress must be True or False", "'yes'"],
    ),
    "nan in a state": (
        lambda d: {"transitions": forged(states=[[0, 1, NAN], [1, 2, 3]])},
        ["transitions.states must be integers", "nan"],
    ),
    "float target": (
        lambda d: {"transitions": forged(targets=[3, 4.5])},
        ["transitions.targets must be integers", "4.5"],
    ),
    "negative state wraps": (
        lambda d: {"transitions": small([[0, 1, -1], [1, 2, 3]], [3, 4])},
        ["unknown movie index -1", "0 to 7"],
    ),
    "unknown target": (
        lambda d: {"transitions": small([[0, 1, 2], [1, 2, 3]], [3, N])},
        ["unknown movie index 8", "0 to 7"],
    ),
    "ragged fields": (
        lambda d: {"transitions": forged(targets=[3])},
        ["transitions.targets must have shape (2,)", "(1,)"],
    ),
    "negative position": (
        lambda d: {"transitions": forged(positions=[-1, 3])},
        ["transitions.positions must be non-negative", "-1"],
    ),
    "states of 2 movies": (
        lambda d: {"transitions": forged(states=[[0, 1], [1, 2]])},
        ["must have shape (n, 3)", "(2, 2)"],
    ),
    "no transitions": (
        lambda d: {"transitions": make_transitions({0: np.array([1, 2])})},
        ["at least one transition", "none"],
    ),
}


@pytest.mark.parametrize("case", list(FIT_CASES))
def test_fit_refuses_before_changing_the_model_or_drawing_from_rng(model, data, case):
    changes, match = FIT_CASES[case]
    args = {"transitions": data[1], "n_items": N, "val": None, "histories": None}
    args.update(changes(data))
    transitions, n_items = args.pop("transitions"), args.pop("n_items")
    fresh, rng = DQNRecommender(TINY), np.random.default_rng(7)
    for target in (fresh, model):  # a new model stays unfitted; a fitted one keeps its weights
        rejects(lambda m=target: m.fit(transitions, n_items, rng, **args), match=match,
                unchanged=[target, rng])  # fmt: skip
    assert fresh.params is None


def test_fit_with_a_seed_instead_of_a_generator_is_refused(model, data):
    rejects(lambda: model.fit(data[1], N, 12345),
            match=["rng must be a numpy.random.Generator", "12345"], unchanged=[model])  # fmt: skip


# ---- scoring and recommending ---------------------------------------------------------------

SCORE_CASES = {
    "history a number": (lambda m: m.score(12345), ["sequence of movie indices", "12345"]),
    "history a string": (lambda m: m.score("12"), ["sequence of movie indices", "'12'"]),
    "float movie": (lambda m: m.score([1.5]), ["integer item indices", "1.5"]),
    "nan movie": (lambda m: m.score([2, NAN]), ["integer item indices", "nan"]),
    "negative movie wraps": (lambda m: m.score([-1]), ["unknown item index -1", "0 to 7"]),
    "unknown movie": (lambda m: m.score([N]), ["unknown item index 8", "0 to 7"]),
    "histories a number": (
        lambda m: m.score_many(12345),
        ["histories must be a sequence", "12345"],
    ),
    "one history not a list": (
        lambda m: m.score_many([[1], 3]),
        ["sequence of movie indices", "3"],
    ),
    "state nan": (
        lambda m: m.score_states(np.array([[0.0, 1.0, NAN]])),
        ["states must be integer movie indices", "nan"],
    ),
    "state float": (
        lambda m: m.score_states(np.array([[0, 1, 2.5]])),
        ["states must be integer movie indices", "2.5"],
    ),
    "state bool": (
        lambda m: m.score_states(np.array([[True, False, True]])),
        ["states must be integer movie indices", "dtype bool"],
    ),
    "state negative wraps": (
        lambda m: m.score_states([[0, -1, 2]]),
        ["unknown movie index -1", f"0 to {N - 1}", f"{N} pads"],
    ),
    "state beyond padding": (
        lambda m: m.score_states([[0, 1, N + 1]]),
        ["unknown movie index 9", f"0 to {N - 1}"],
    ),
    "state wrong shape": (
        lambda m: m.score_states(np.zeros((2, 4), int)),
        ["states must have shape (n, 3)", "(2, 4)"],
    ),
    "k a string": (lambda m: m.recommend([1], "3"), ["k must be a non-negative integer", "'3'"]),
    "k negative": (lambda m: m.recommend([1], -1), ["k must be a non-negative integer", "-1"]),
    "k nan": (lambda m: m.recommend_many([[1]], NAN), ["k must be a non-negative integer", "nan"]),
    "k float": (
        lambda m: m.recommend_many([[1]], 2.0),
        ["k must be a non-negative integer", "2.0"],
    ),
    "exclude negative wraps": (
        lambda m: m.recommend([1], 3, exclude=[-1]),
        ["unknown item index -1", "0 to 7"],
    ),
    "exclude unknown": (lambda m: m.recommend([1], 3, exclude=[N]), ["unknown item index 8"]),
    "recommend_many unknown": (
        lambda m: m.recommend_many([[0], [1, N + 3]], 2),
        ["unknown item index 11", "0 to 7"],
    ),
}


@pytest.mark.parametrize("case", list(SCORE_CASES))
def test_scoring_and_recommending_refuse_bad_histories_states_and_k(model, case):
    call, match = SCORE_CASES[case]
    rejects(lambda: call(model), match=match, unchanged=[model])


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.integers(-(2**31), -1), st.integers(N + 1, 2**31 - 1)), st.integers(0, 2))
def test_any_index_outside_the_catalogue_and_padding_is_refused_in_a_state(model, bad, column):
    states = np.array([[N, 1, 2], [3, 4, 5]], dtype=object)
    states[1, column] = bad
    rejects(lambda: model.score_states(states.astype(np.int64)),
            match=[f"unknown movie index {bad}", f"0 to {N - 1}"], unchanged=[model])  # fmt: skip


UNFITTED_CALLS = {
    "score": lambda m: m.score([1, 2]),
    "score_many": lambda m: m.score_many([[1]]),
    "score_states": lambda m: m.score_states(np.zeros((1, 3), np.int64)),
    "recommend": lambda m: m.recommend([1, 2], 3),
    "recommend_many": lambda m: m.recommend_many([[1, 2]], 3),
    "check_catalog": lambda m: m.check_catalog(IDS),
    "n_parameters": lambda m: m.n_parameters,
    "agent": lambda m: QNetworkAgent(m, pad=N),
}


@pytest.mark.parametrize("call", list(UNFITTED_CALLS))
def test_an_unfitted_model_says_call_fit(call):
    # RuntimeError: the protocol's answer for a model that cannot answer yet (not "from 0 to -1")
    model = DQNRecommender(TINY)
    message = rejects(lambda: UNFITTED_CALLS[call](model), exc=RuntimeError,
                      match=["not fitted", "call fit("], unchanged=[model])  # fmt: skip
    assert "-1" not in message


def test_saving_an_unfitted_model_writes_nothing(folder, good_file):
    model = DQNRecommender(TINY)
    rejects(lambda: model.save(good_file), exc=RuntimeError, match=["call fit("],
            files=[good_file, folder / "never.npz"])  # fmt: skip
    rejects(lambda: model.save(folder / "never.npz"), exc=RuntimeError, match=["call fit("],
            files=[folder / "never.npz"])  # fmt: skip


# ---- check_catalog --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "source", "match"),
    [
        (np.r_[IDS[:-1], NAN], None, ["item_ids[7] must be an integer", "nan"]),
        ("abc", None, ["item_ids must be a 1-d sequence", "'abc'"]),
        (101, None, ["item_ids must be a 1-d sequence", "101"]),
        (np.r_[IDS[:-1], 101], None, ["item_ids must not repeat an id", "101"]),
        (IDS.reshape(2, 4), None, ["item_ids must be a 1-d sequence", "(2, 4)"]),
        (IDS[::-1], None, ["another catalogue", "id 101 at position 0, given 108"]),
        (IDS, 5, ["source must be a non-empty string", "5"]),
    ],
    ids=["nan", "string", "number", "repeated", "2-d", "reordered", "source 5"],
)
def test_check_catalog_refuses_bad_ids(model, ids, source, match):
    rejects(lambda: model.check_catalog(ids, source=source), match=match, unchanged=[model])


# ---- save -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [None, 12, "", "   ", b"m.npz"], ids=repr)
def test_save_needs_a_file_name(model, good_file, path):
    rejects(lambda: model.save(path), match=["path must be a file name", repr(path)],
            unchanged=[model], files=[good_file])  # fmt: skip


@pytest.mark.parametrize(
    ("key", "sub", "value", "shown"),
    [("q", "w", NAN, "nan"), ("embed", None, INF, "inf"), ("hidden", "b", -INF, "-inf")],
    ids=["nan weight", "inf embedding", "-inf bias"],
)
def test_a_network_with_non_finite_weights_is_not_saved(model, good_file, key, sub, value, shown):
    bad = with_params(model, key, sub, value)
    name = f"{key}/{sub}" if sub else key
    rejects(lambda: bad.save(good_file), match=["cannot save", repr(name), shown, "non-finite"],
            unchanged=[bad], files=[good_file])  # fmt: skip
    assert isinstance(load_network(good_file), DQNRecommender)  # the old file still loads


def test_a_reassigned_name_that_is_not_text_is_not_saved(model, good_file):
    bad = with_params(model, "q", "b", 0.0)
    bad.name = 5
    rejects(lambda: bad.save(good_file), match=["name must be a non-empty string", "5"],
            files=[good_file])  # fmt: skip


def test_save_into_a_folder_or_a_missing_folder(model, folder, good_file):
    rejects(lambda: model.save(folder), exc=IsADirectoryError, match=[repr(str(folder))],
            files=[good_file])  # fmt: skip
    missing = folder / "missing" / "m.npz"
    rejects(lambda: model.save(missing), exc=FileNotFoundError, match=["missing"],
            files=[missing])  # fmt: skip


# ---- load_network ---------------------------------------------------------------------------


def variant(good: Path, name: str, meta: dict | None = None, **arrays) -> Path:
    """A copy of a saved network with some metadata or arrays changed (None drops an array)."""
    with np.load(good) as z:
        content = {k: z[k] for k in z.files}
    saved = json.loads(str(content["meta"]))
    for key, value in (meta or {}).items():
        saved[key] = value
    content["meta"] = np.array(json.dumps(saved))
    for key, value in arrays.items():
        if value is None:
            content.pop(key)
        else:
            content[key] = value
    path = good.parent / name
    np.savez(path, **content)
    return path


def with_weight(good: Path, key: str, value: float, dtype=None) -> dict:
    with np.load(good) as z:
        w = z[key].copy()
    w.flat[0] = value
    return {key: w if dtype is None else w.astype(dtype)}


def build_bad_files(good: Path) -> dict[str, tuple[Path, list[str]]]:
    folder = good.parent
    raw = good.read_bytes()
    with np.load(good) as z:
        config = json.loads(str(z["meta"]))["config"]
    (folder / "garbage.npz").write_bytes(b"not a zip at all " * 10)
    (folder / "half.npz").write_bytes(raw[: len(raw) // 2])
    (folder / "empty.npz").write_bytes(b"")
    (folder / "text.npz").write_text("gamma = 0.5\n")
    np.savez(folder / "random.npz", a=np.random.default_rng(0).random((3, 3)))
    tables = GenreQTables(np.zeros(N, int), ["Drama"], alpha=0.1, gamma=0.4, epsilon=0.1)
    tables.save(folder / "qtables.npz")
    unreadable = "not a readable Q-network file"
    return {
        "garbage": (folder / "garbage.npz", [unreadable]),
        "truncated": (folder / "half.npz", [unreadable]),
        "empty": (folder / "empty.npz", [unreadable]),
        "a text file": (folder / "text.npz", [unreadable]),
        "a random npz": (folder / "random.npz", ["not a Q-network file", "no 'meta' entry", "'a'"]),
        "a Q-tables file": (folder / "qtables.npz", ["not a Q-network file", "no 'meta' entry"]),
        "meta not JSON": (_meta_text(good, "json.npz", "{oops"), ["'meta' entry is not JSON"]),
        "another format": (
            variant(good, "fmt.npz", {"format": "qtables/1"}),
            ["not a Q-network file of format", "'odsc-recsys-qnetwork-1'"],
        ),
        "unknown kind": (
            variant(good, "kind.npz", {"kind": "transformer"}),
            ["unknown network kind 'transformer'", "'dqn'"],
        ),
        "nan weight": (
            variant(good, "nan.npz", **with_weight(good, "param:q/w", NAN)),
            ["'q/w'", "non-finite", "nan"],
        ),
        "inf weight": (
            variant(good, "inf.npz", **with_weight(good, "param:embed", INF)),
            ["'embed'", "non-finite", "inf"],
        ),
        "-inf bias": (
            variant(good, "ninf.npz", **with_weight(good, "param:hidden/b", -INF)),
            ["'hidden/b'", "non-finite", "-inf"],
        ),
        "integer weights": (
            variant(good, "int.npz", **with_weight(good, "param:q/w", 1, np.int64)),
            ["'q/w' must hold floating-point numbers", "int64"],
        ),
        "a missing layer": (
            variant(good, "nolayer.npz", **{"param:q/b": None}),
            ["parameter shapes", "do not match"],
        ),
        "head of another kind": (
            variant(good, "head.npz", {"head": "supervised"}),
            ["head must be one of 'q'", "'supervised'"],
        ),
        "unknown head": (
            variant(good, "head2.npz", {"head": "value"}),
            ["head must be", "'value'"],
        ),
        "numeric name": (
            variant(good, "name.npz", {"name": 5}),
            ["name must be a non-empty string", "5"],
        ),
        "negative best_epoch": (
            variant(good, "epoch.npz", {"best_epoch": -1}),
            ["best_epoch must be a non-negative integer", "-1"],
        ),
        "best_epoch as text": (
            variant(good, "epoch2.npz", {"best_epoch": "2"}),
            ["best_epoch must be", "'2'"],
        ),
        "gamma as text": (
            variant(good, "gamma.npz", {"config": {**config, "gamma": "0.5"}}),
            ["gamma must be a finite number in [0, 1)", "'0.5'"],
        ),
        "nan learning rate": (
            variant(good, "lr.npz", {"config": {**config, "learning_rate": NAN}}),
            ["learning_rate must be", "nan"],
        ),
        "config a list": (
            variant(good, "cfg.npz", {"config": [1, 2]}),
            ["values must be a mapping", "[1, 2]"],
        ),
        "n_items as text": (
            variant(good, "n.npz", {"n_items": "8"}),
            ["n_items must be a positive integer", "'8'"],
        ),
        "another catalogue size": (
            variant(good, "n2.npz", {"n_items": 9}),
            ["item_ids has 8 ids for a catalogue of 9"],
        ),
        "float item ids": (
            variant(good, "ids.npz", item_ids=IDS + 0.5),
            ["item_ids[0] must be an integer", "101.5"],
        ),
        "repeated item ids": (
            variant(good, "ids2.npz", item_ids=np.r_[IDS[:-1], 101]),
            ["item_ids must not repeat an id", "101"],
        ),
        "too few item ids": (
            variant(good, "ids3.npz", item_ids=IDS[:3]),
            ["item_ids has 3 ids for a catalogue of 8"],
        ),
    }


def _meta_text(good: Path, name: str, text: str) -> Path:
    with np.load(good) as z:
        content = {k: z[k] for k in z.files}
    content["meta"] = np.array(text)
    path = good.parent / name
    np.savez(path, **content)
    return path


@pytest.fixture(scope="module")
def bad_files(good_file) -> dict[str, tuple[Path, list[str]]]:
    return build_bad_files(good_file)


BAD_FILES = ["garbage", "truncated", "empty", "a text file", "a random npz", "a Q-tables file",
             "meta not JSON", "another format", "unknown kind", "nan weight", "inf weight",
             "-inf bias", "integer weights", "a missing layer", "head of another kind",
             "unknown head", "numeric name", "negative best_epoch", "best_epoch as text",
             "gamma as text", "nan learning rate", "config a list", "n_items as text",
             "another catalogue size", "float item ids", "repeated item ids",
             "too few item ids"]  # fmt: skip


@pytest.mark.parametrize("case", BAD_FILES)
def test_loading_a_bad_file_names_it_and_what_is_wrong(bad_files, case):
    path, match = bad_files[case]
    rejects(lambda: load_network(path), match=[repr(str(path)), *match], files=[path])


@pytest.mark.parametrize(
    ("item_ids", "match"),
    [
        (np.r_[IDS[:-1], NAN], ["item_ids[7] must be an integer", "nan"]),
        ("101", ["item_ids must be a 1-d sequence", "'101'"]),
        (IDS + 1, ["another catalogue", "8 movies"]),
        (IDS[:-1], ["another catalogue", "7 movies"]),
    ],
    ids=["nan id", "a string", "shifted ids", "one id short"],
)
def test_loading_against_bad_or_other_item_ids(good_file, item_ids, match):
    rejects(lambda: load_network(good_file, item_ids=item_ids), match=match, files=[good_file])


def test_load_path_must_be_an_existing_file(folder):
    rejects(lambda: load_network(None), match=["path must be a file name", "None"])
    rejects(lambda: load_network(folder / "nope.npz"), exc=FileNotFoundError,
            match=["does not exist", "nope.npz"], files=[folder / "nope.npz"])  # fmt: skip
    rejects(lambda: load_network(folder), exc=IsADirectoryError, match=["is a folder"])


# ---- the online agent -----------------------------------------------------------------------

AGENT_ARGS = {
    "pad a string": ({"pad": "8"}, ["pad must be an integer", "'8'"]),
    "pad a float": ({"pad": 8.5}, ["pad must be an integer", "8.5"]),
    "pad not n_items": ({"pad": 9}, ["pad must equal the catalogue size 8", "9"]),
    "k zero": ({"k": 0}, ["k must be a positive integer", "0"]),
    "k a string": ({"k": "2"}, ["k must be a positive integer", "'2'"]),
    "epsilon nan": ({"epsilon": NAN}, ["epsilon (exploration rate) must be", "nan"]),
    "epsilon a string": ({"epsilon": "0.1"}, ["epsilon (exploration rate) must be", "'0.1'"]),
    "learn_online a string": (
        {"learn_online": "no"},
        ["learn_online must be True or False", "'no'"],
    ),
    "batch above buffer": (
        {"batch_size": 64, "buffer_size": 10},
        ["batch_size must be at most buffer_size (10)", "64"],
    ),
    "update_every zero": ({"update_every": 0}, ["update_every must be a positive integer", "0"]),
    "seed negative": ({"seed": -1}, ["seed must be a non-negative integer", "-1"]),
    "seed a float": ({"seed": 1.5}, ["seed must be a non-negative integer", "1.5"]),
    "empty name": ({"name": ""}, ["name must be a non-empty string", "''"]),
}


@pytest.mark.parametrize("case", list(AGENT_ARGS))
def test_agent_constructor_checks_every_argument(model, case):
    changes, match = AGENT_ARGS[case]
    args = {"pad": N, **changes}
    rejects(lambda: QNetworkAgent(model, **args), match=match, unchanged=[model])


def test_agent_of_a_model_without_a_q_head_is_refused(model):
    sup = SupervisedRecommender(TINY)
    rejects(lambda: QNetworkAgent(sup, pad=N),
            match=["model must be a DQNRecommender", "SupervisedRecommender"])  # fmt: skip


@pytest.fixture
def agent(model) -> QNetworkAgent:
    return QNetworkAgent(model, pad=N, k=2, batch_size=1, update_every=1)


ACT_CASES = {
    "observation beyond padding": (
        np.array([N, 1, N + 1]),
        [1],
        ["observation must be integers in [0, 8]", "9"],
    ),
    "observation negative": (
        np.array([N, 1, -1]),
        [1],
        ["observation must be integers in [0, 8]", "-1"],
    ),
    "observation float": (
        np.array([N, 1, 1.5]),
        [1],
        ["observation must be integers in [0, 8], got 1.5 at position 2"],
    ),
    "observation nan": (
        np.array([N, 1, NAN]),
        [1],
        ["observation must be integers in [0, 8], got nan at position 2"],
    ),
    "observation 2-d": (
        np.array([[N, 1, 2]]),
        [1],
        ["observation must be a 1-d sequence", "[[8, 1, 2]]"],
    ),
    "history negative wraps": (
        np.array([N, N, 1]),
        [1, -1],
        ["history must be integers in [0, 7]", "-1"],
    ),
    "history unknown": (np.array([N, N, 1]), [N], ["history must be integers in [0, 7]", "8"]),
    "history float": (
        np.array([N, N, 1]),
        [2.5],
        ["history must be integers in [0, 7], got 2.5 at position 0"],
    ),
}


@pytest.mark.parametrize("case", list(ACT_CASES))
def test_act_refuses_bad_observations_and_histories(agent, case):
    observation, history, match = ACT_CASES[case]
    rng = np.random.default_rng(0)
    rejects(lambda: agent.act(observation, np.asarray(history), rng), match=match,
            unchanged=[AgentState(agent), rng])  # fmt: skip


def test_act_needs_a_generator(agent):
    rejects(lambda: agent.act(np.array([N, N, 1]), np.array([1]), 0),
            match=["rng must be a numpy.random.Generator", "got 0"],
            unchanged=[AgentState(agent)])  # fmt: skip


OBS, NEXT = np.array([0, 1, 2]), np.array([1, 2, 6])
STEP_CASES = {
    "reward nan": ({"reward": NAN}, ["reward must be a finite number", "nan"]),
    "reward inf": ({"reward": INF}, ["reward must be a finite number", "inf"]),
    "reward a string": ({"reward": "1"}, ["reward must be a finite number", "'1'"]),
    "clicked unknown": ({"clicked": N}, ["clicked", "8"]),
    "clicked -2": ({"clicked": -2}, ["clicked must be", "-2"]),
    "clicked not shown": (
        {"clicked": 5},
        ["clicked must be -1 (no click) or a movie of the slate", "[6, 3]", "5"],
    ),
    "clicked a float": ({"clicked": 6.0}, ["clicked must be", "6.0"]),
    "slate too long": (
        {"slate": np.array([6, 3, 4])},
        ["slate must hold at most k=2 movies", "[6, 3, 4]"],
    ),
    "slate negative wraps": (
        {"slate": np.array([6, -1])},
        ["slate must be integers in [0, 7]", "-1"],
    ),
    "slate unknown": ({"slate": np.array([6, N])}, ["slate must be integers in [0, 7]", "8"]),
    "slate repeated": ({"slate": np.array([6, 6])}, ["slate must not repeat", "6"]),
    "done a string": ({"done": "no"}, ["done must be True or False", "'no'"]),
    "done an int": ({"done": 1}, ["done must be True or False", "1"]),
    "observation negative": (
        {"observation": np.array([0, 1, -1])},
        ["observation must be integers in [0, 8]", "-1"],
    ),
    "next observation unknown": (
        {"next_observation": np.array([1, 2, 9])},
        ["next_observation must be integers in [0, 8]", "9"],
    ),
}


@pytest.mark.parametrize("case", list(STEP_CASES))
def test_learn_step_stores_nothing_from_a_bad_step(agent, case):
    changes, match = STEP_CASES[case]
    step = {"observation": OBS, "slate": np.array([6, 3]), "clicked": 6, "reward": 1.0,
            "next_observation": NEXT, "done": False, **changes}  # fmt: skip
    rejects(lambda: agent.learn_step(SessionStep(**step)), match=match,
            unchanged=[AgentState(agent)])  # fmt: skip
    rejects(lambda: agent.learn(**step), match=match, unchanged=[AgentState(agent)])


def test_learn_step_needs_a_session_step(agent):
    rejects(lambda: agent.learn_step((OBS, [6, 3], 6, 1.0, NEXT, False)),
            match=["step must be a SessionStep", "tuple"],
            unchanged=[AgentState(agent)])  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(st.one_of(st.sampled_from([NAN, INF, -INF, None, True, np.float32(NAN)]),
                 st.text(max_size=4), st.lists(st.floats(), max_size=2)))  # fmt: skip
def test_any_non_finite_or_non_numeric_reward_is_refused_and_nothing_is_stored(model, reward):
    agent = QNetworkAgent(model, pad=N, k=2, batch_size=1, update_every=1)
    rejects(lambda: agent.learn_step(SessionStep(OBS, np.array([6, 3]), 6, reward, NEXT, False)),
            match=["reward must be a finite number", repr(reward)],
            unchanged=[AgentState(agent)])  # fmt: skip
    assert agent.steps == agent.updates == 0
