"""The bad-input battery, data and models: catalogue, sessions, metrics, protocol, loaders and
the classical recommenders.

Every case asserts the exception (a ``ValueError`` unless the model is simply not fitted yet),
that its message names the bad value and what is allowed, and that nothing changed: the
catalogue, the fitted model, the random generator, the files in a temporary folder. The data
files are built here in ``tmp_path``; the real ``data/`` folder is never touched.
"""

from __future__ import annotations

import math
import zipfile
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from bad_input import fingerprint, rejects
from hypothesis import given, settings
from hypothesis import strategies as st

from odsc_recsys import datasets as ds
from odsc_recsys import metrics as M
from odsc_recsys.catalog import Catalog
from odsc_recsys.classical import (
    ContentBased,
    Hybrid,
    ItemKNN,
    MarkovChain,
    MatrixFactorization,
    Popularity,
    UserKNN,
    default_models,
    item_features,
    item_similarity,
    recency,
    title_tokens,
)
from odsc_recsys.classical.base import history_list
from odsc_recsys.protocol import Recommender, as_history, top_k, top_k_many
from odsc_recsys.sessions import (
    Split,
    Transitions,
    chronological_split,
    interaction_matrix,
    load_tutorial_data,
    make_transitions,
    states_seen_in,
    user_histories,
)

N = 8
HISTORIES = {1: [0, 1, 2, 3], 2: [1, 2, 4, 5, 6], 3: [0, 2, 7, 1], 4: [3, 4, 5, 6, 7]}


def case_id(value: object) -> str:
    """A test id from the expected message (the first fragment), not from the lambda."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        value = value[0]  # the first fragment of the message
    return value[:48] if isinstance(value, str) else ""


def catalog() -> Catalog:
    return Catalog(
        item_ids=np.array([10, 20, 30, 40, 50, 60, 70, 80]),
        titles=["Alpha (1990)", "Beta (1991)", "Gamma (1992)", "Gamma (1995)", "Delta (1993)",
                "Epsilon (1994)", "Zeta (1996)", "Eta (1997)"],
        genres=[("Drama",), ("Comedy",), ("Comedy", "Drama"), ("Horror",), ("Drama",),
                ("Comedy",), (), ("Drama", "Horror")],
        popularity=np.array([8, 7, 6, 5, 4, 3, 2, 1]),
    )  # fmt: skip


def transitions() -> Transitions:
    return make_transitions({u: np.array(h) for u, h in HISTORIES.items()})


class Fixed(Recommender):
    """Scores items by a fixed vector."""

    name = "fixed"

    def __init__(self, scores=tuple(range(N))):
        self.scores = np.asarray(scores, dtype=float)
        self.n_items = len(self.scores)

    def score(self, history):
        return self.scores


class NeverFitted(Recommender):
    """A model whose fit was never called: it has no catalogue."""

    def score(self, history):  # pragma: no cover - never reached
        return np.zeros(self.n_items)


MODELS = {
    "popularity": Popularity,
    "content": ContentBased,
    "user-knn": UserKNN,
    "item-knn": ItemKNN,
    "mf": lambda: MatrixFactorization(n_factors=4, n_iterations=2),
    "hybrid": Hybrid,
    "markov": MarkovChain,
}


def fitted(name: str):
    return MODELS[name]().fit(HISTORIES, N, catalog=catalog())


# ---- the catalogue -----------------------------------------------------------------------------


CATALOG_CALLS = [
    (lambda c: c.subset([-1]), ["indices must be integers in [0, 7]", "got -1 at position 0"]),
    (lambda c: c.subset([2, 8]), ["indices must be integers in [0, 7]", "got 8 at position 1"]),
    (lambda c: c.subset([1.5]), ["indices must be integers in [0, 7]", "got 1.5"]),
    (lambda c: c.subset([3, 1, 3]), ["indices must not repeat an element, got 3 twice"]),
    (lambda c: c.subset([]), ["indices must not be empty, got []"]),
    (lambda c: c.subset(5), ["indices must be a sequence, got 5"]),
    (lambda c: c.top_n("5"), ["n must be an integer, got '5'"]),
    (lambda c: c.top_n(0), ["n must be in 1..8, got 0"]),
    (lambda c: c.top_n(9), ["n must be in 1..8, got 9"]),
    (lambda c: c.top_n(2.0), ["n must be an integer, got 2.0"]),
    (lambda c: c.index_of(999), ["unknown movie id 999", "ids 10..80"]),
    (lambda c: c.index_of(10.5), ["item_id must be an integer, got 10.5"]),
    (lambda c: c.index_of("10"), ["item_id must be an integer, got '10'"]),
    (lambda c: c.indices("1020"), ["item_ids must be a sequence of MovieLens ids, got '1020'"]),
    (lambda c: c.indices([10, 99]), ["unknown movie id 99"]),
    (lambda c: c.contains(math.nan), ["item_id must be an integer, got nan"]),
    (lambda c: c.item_id(-1), ["catalogue index -1 out of range 0..7"]),
    (lambda c: c.item_id(8), ["catalogue index 8 out of range 0..7"]),
    (lambda c: c.title(1.5), ["catalogue index must be an integer, got 1.5"]),
    (lambda c: c.title(True), ["catalogue index must be an integer, got True"]),
    (lambda c: c.find("Omega"), ["unknown movie title 'Omega'"]),
    (lambda c: c.find("gamma"), ["title 'gamma' is ambiguous", "'Gamma (1992)'"]),
    (lambda c: c.find(3), ["title must be a non-empty string, got 3"]),
    (lambda c: c.find("  "), ["title must be a non-empty string, got '  '"]),
    (lambda c: c.primary_genres("alphabetical"),
     ["strategy must be one of 'first', 'paper', got 'alphabetical'"]),
    (lambda c: c.primary_genres("paper", n_genres=1), ["n_genres must be an integer >= 2, got 1"]),
    (lambda c: c.primary_genres("paper", n_genres="10"),
     ["n_genres must be an integer >= 2, got '10'"]),
    (lambda c: c.primary_genres("first", n_genres=2.5),
     ["n_genres must be an integer >= 2, got 2.5"]),
]  # fmt: skip


@pytest.mark.parametrize(("call", "message"), CATALOG_CALLS,
                         ids=[m[0][:40] for _, m in CATALOG_CALLS])  # fmt: skip
def test_catalogue_calls(call, message):
    cat = catalog()
    rejects(lambda: call(cat), match=message, unchanged=[cat])


GOOD = {
    "item_ids": np.array([1, 2, 3]),
    "titles": ["A", "B", "C"],
    "genres": [("Drama",), (), ("Comedy",)],
    "popularity": np.array([3, 2, 1]),
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"item_ids": np.array([1, 2, 1])}, ["item_ids must be unique, got 1 twice (position 2)"]),
        ({"item_ids": np.array([1.0, 2.0, 3.0])}, ["item_ids must be a non-empty 1-d array of "
                                                   "integer MovieLens ids", "1., 2., 3."]),
        ({"item_ids": np.array([], dtype=int), "titles": [], "genres": [],
          "popularity": np.array([])}, ["item_ids must be a non-empty", "array([], dtype=int64)"]),
        ({"titles": ["A", "B"]}, ["titles must hold one entry per movie (3 item_ids), got "
                                  "['A', 'B']"]),
        ({"titles": "ABC"}, ["titles must hold one entry per movie", "got 'ABC'"]),
        ({"titles": ["A", 5, "C"]}, ["titles[1] must be a non-empty string, got 5"]),
        ({"genres": ["Drama", (), ()]}, ["genres[0] must be a tuple of genre names, got 'Drama'"]),
        ({"popularity": np.array([3.0, np.nan, 1.0])}, ["popularity must be finite numbers, "
                                                        "got nan at position 1"]),
        ({"popularity": np.array([3, -2, 1])}, ["popularity must be rating counts >= 0, got -2 "
                                                "at position 1"]),
        ({"popularity": ["a", "b", "c"]}, ["popularity must be finite numbers", "'a'"]),
    ],
    ids=lambda v: "" if isinstance(v, dict) else case_id(v),
)  # fmt: skip
def test_catalogue_constructor(change, message):
    rejects(lambda: Catalog(**{**GOOD, **change}), match=message)


def small_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    ratings = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 2], "rating": [5, 3, 4],
                            "timestamp": [10, 11, 12]})  # fmt: skip
    movies = pd.DataFrame({"item_id": [1, 2], "title": ["A", "B"],
                           "year": pd.array([1990, None], dtype="Int64"),
                           "genres": [("Drama",), ("Comedy",)]})  # fmt: skip
    return ratings, movies


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r, m: (r, m.drop(columns="genres")), ["movies must have the columns", "'genres'"]),
        (lambda r, m: (r.to_dict(), m), ["ratings must be a pandas DataFrame, got {"]),
        (lambda r, m: (r, m.assign(genres=["Drama", "Comedy"])),
         ["movies genres must be tuples of genre names, got 'Drama' for item_id 1"]),
        (lambda r, m: (r.assign(item_id=[1.0, np.nan, 2.0]), m),
         ["ratings item_id must be integer MovieLens ids, got dtype float64"]),
        (lambda r, m: (r, m.assign(item_id=[1, 1])), ["item_ids must be unique, got 1 twice"]),
        (lambda r, m: (r, m.assign(year=[1990.5, 1991.0])),
         ["year must be an integer, got 1990.5"]),
    ],
    ids=case_id,
)  # fmt: skip
def test_catalogue_from_movielens(change, message):
    ratings, movies = change(*small_tables())
    rejects(lambda: Catalog.from_movielens(ratings, movies), match=message)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.integers(-(2**62), -1), st.integers(N, 2**62)))
def test_any_index_outside_the_catalogue_is_refused_not_wrapped(index):
    cat = catalog()
    rejects(
        lambda: cat.subset([0, index]),
        match=["indices must be integers in [0, 7]", f"got {index} at position 1"],
        unchanged=[cat],
    )
    rejects(lambda: cat.title(index), match=[f"catalogue index {index} out of range 0..7"])


# ---- sessions ----------------------------------------------------------------------------------


def test_user_histories_arguments():
    ratings, movies = small_tables()
    cat = Catalog.from_movielens(ratings, movies)
    rejects(lambda: user_histories(ratings, cat, seed=-1),
            match="seed must be a non-negative integer, got -1")  # fmt: skip
    rejects(
        lambda: user_histories(ratings, cat, seed="0"),
        match="seed must be a non-negative integer, got '0'",
    )
    rejects(lambda: user_histories(ratings, None), match="catalog must be a Catalog, got None")
    rejects(lambda: user_histories(ratings.drop(columns="timestamp"), cat),
            match=["ratings must have the columns", "missing 'timestamp'"])  # fmt: skip
    rejects(lambda: user_histories(ratings.assign(timestamp=[1.0, np.nan, 2.0]), cat),
            match="ratings timestamp must be integers without gaps, got dtype float64")  # fmt: skip
    rejects(lambda: user_histories([[1, 1, 5, 10]], cat),
            match="ratings must be a pandas DataFrame, got [[1, 1, 5, 10]]")  # fmt: skip


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda h: make_transitions(h, window=0), "window must be a positive integer, got 0"),
        (lambda h: make_transitions(h, window="3"), "window must be a positive integer, got '3'"),
        (lambda h: make_transitions(list(h.values())),
         "histories must be a dict user_id -> history, got [array("),
        (lambda h: make_transitions({**h, 5: [1.5, 2.0, 3.0, 4.0]}),
         "the history of user 5 must be a 1-d sequence of movie indices >= 0, got [1.5, "),
        (lambda h: make_transitions({**h, 5: [1, -2, 3, 4]}),
         "the history of user 5 must be a 1-d sequence of movie indices >= 0, got -2"),
        (lambda h: make_transitions({**h, "u5": [1, 2, 3, 4]}), "user id must be an integer, "
                                                                "got 'u5'"),
        (lambda h: make_transitions({**h, 5: "1234"}),
         "the history of user 5 must be a 1-d sequence of movie indices >= 0, got '1234'"),
        (lambda h: chronological_split(h, val_frac=1.5), "val_frac must be in (0, 1), got 1.5"),
        (lambda h: chronological_split(h, test_frac=math.nan), "test_frac must be in (0, 1), "
                                                               "got nan"),
        (lambda h: chronological_split(h, val_frac="0.1"), "val_frac must be in (0, 1), got '0.1'"),
        (lambda h: chronological_split(h, val_frac=0.5, test_frac=0.5),
         "val_frac + test_frac must be < 1, got 1.0"),
        (lambda h: chronological_split({**h, 5: [[1, 2], [3, 4]]}),
         "the history of user 5 must be a 1-d sequence"),
        (lambda h: interaction_matrix(h, "8"), "n_items must be a non-negative integer, got '8'"),
        (lambda h: interaction_matrix(h, 7), "unknown item index 7: catalogue indices run from "
                                             "0 to 6"),
        (lambda h: interaction_matrix([[0, -1]], 8), "unknown item index -1"),
        (lambda h: interaction_matrix(h, 8, dtype="banana"), "dtype must be a numeric numpy "
                                                             "dtype such as float32, got 'banana'"),
        (lambda h: interaction_matrix(h, 8, dtype=bool), "dtype must be a numeric numpy dtype "
                                                         "such as float32, got <class 'bool'>"),
        (lambda h: interaction_matrix(5, 8), "histories must be a dict or a sequence of "
                                             "histories, got 5"),
    ],
    ids=case_id,
)  # fmt: skip
def test_histories_transitions_and_matrices(call, message):
    histories = {u: np.array(h) for u, h in HISTORIES.items()}
    rejects(lambda: call(histories), match=message, unchanged=[histories])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.subset(np.array([-1])), "index must be integers in [0, 5], got -1"),
        (lambda t: t.subset(np.array([0.5])), "index must be integers in [0, 5], got 0.5"),
        (lambda t: t.subset(np.ones(3, dtype=bool)),
         "a boolean mask must have one entry per row (6), got shape (3,)"),
        (lambda t: t.subset("all"), "index must be a boolean mask or integer positions, got 'all'"),
        (lambda t: t.prefixes({1: np.arange(4)}), "user 2 of the transitions has no history"),
        (lambda t: t.prefixes({u: np.arange(2) for u in HISTORIES}),
         "user 1's history has 2 movies, fewer than the transition's position 3"),
        (lambda t: t.prefixes([np.arange(4)]), "histories must be a dict user_id -> history"),
        (lambda t: t.to_frame(catalog().subset([0, 1, 2])),
         "unknown item index 4: catalogue indices run from 0 to 2"),
        (lambda t: t.to_frame("titles"), "catalog must be a Catalog or None, got 'titles'"),
        (lambda t: states_seen_in(t, Transitions(np.zeros(1, int), np.zeros((1, 2), int),
                                                 np.zeros(1, int), np.full(1, 2))),
         "train and transitions must have states of one length, got 3 and 2"),
        (lambda t: states_seen_in(t, t.states), "transitions must be Transitions, got an array of shape (6, 3) and dtype int64"),
    ],
    ids=case_id,
)  # fmt: skip
def test_transitions_calls(call, message):
    t = transitions()
    rejects(lambda: call(t), match=message, unchanged=[t])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.zeros(2, int), np.zeros((3, 3), int), np.zeros(3, int), np.zeros(3, int)),
         "one row per transition, got 2 users and 3 states"),
        ((np.zeros(3, int), np.zeros(3, int), np.zeros(3, int), np.zeros(3, int)),
         "states must be a 2-d numpy array, got array([0, 0, 0])"),
        (([0, 0], np.zeros((2, 3), int), np.zeros(2, int), np.zeros(2, int)),
         "users must be a 1-d numpy array, got [0, 0]"),
    ],
    ids=case_id,
)  # fmt: skip
def test_transitions_constructor(args, message):
    rejects(lambda: Transitions(*args), match=message)


def test_split_constructor_and_tutorial_data_arguments():
    t = transitions()
    rejects(lambda: Split(t, t, [1], {}, {}), match="test must be Transitions, got [1]")
    rejects(lambda: Split(t, t, t, [np.arange(3)], {}),
            match="histories must be a dict user_id -> history, got [array(")  # fmt: skip
    # refused before anything is loaded: fast, and no data needed
    rejects(lambda: load_tutorial_data(n_items=0), match="n_items must be a positive integer, "
                                                         "got 0")  # fmt: skip
    rejects(
        lambda: load_tutorial_data(n_items="627"),
        match="n_items must be a positive integer, got '627'",
    )
    rejects(lambda: load_tutorial_data(seed=-3), match="seed must be a non-negative integer, "
                                                       "got -3")  # fmt: skip
    rejects(lambda: load_tutorial_data(source=["auto"]), match="source must be a non-empty "
                                                               "string, got ['auto']")  # fmt: skip


# ---- metrics -----------------------------------------------------------------------------------


RECS = np.array([[3, 1, 2], [0, 2, 1], [4, 0, -1]])
TARGETS = np.array([1, 0, 3])
EMPTY = np.zeros((0, 3), dtype=np.int64)
NO_LISTS = "there are no lists to score"
HIST = "history must be a 1-d sequence of integer item indices, got "


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: M.hit_rate_at_k(EMPTY, [], 3), [NO_LISTS, "got shape (0, 3)"]),
        (lambda: M.recall_at_k(EMPTY, [], 3), [NO_LISTS]),
        (lambda: M.precision_at_k(EMPTY, [], 3), [NO_LISTS]),
        (lambda: M.ndcg_at_k(EMPTY, [], 3), [NO_LISTS]),
        (lambda: M.mrr(EMPTY, []), [NO_LISTS]),
        (lambda: M.mrr([], [], k=2), [NO_LISTS, "got shape (0, 0)"]),
        (lambda: M.coverage(EMPTY, 10), [NO_LISTS]),
        (lambda: M.novelty(EMPTY, np.full(5, 0.5)), [NO_LISTS]),
        (lambda: M.intra_list_diversity(EMPTY, np.ones((5, 2), bool)), [NO_LISTS]),
        (lambda: M.metrics_row(EMPTY, [], 3), [NO_LISTS]),
        (lambda: M.overlap_at_k(EMPTY, EMPTY), ["there are no lists to compare"]),
    ],
    ids=case_id,
)  # fmt: skip
def test_metrics_over_zero_lists_are_refused_not_zero(call, message):
    rejects(call, match=message)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: M.hit_rate_at_k(RECS, TARGETS, "3"), ["k must be a positive integer, got '3'"]),
        (lambda: M.ndcg_at_k(RECS, TARGETS, math.nan), ["k must be a positive integer, got nan"]),
        (lambda: M.precision_at_k(RECS, TARGETS, -1), ["k must be a positive integer, got -1"]),
        (lambda: M.mrr(RECS, TARGETS[:2]), ["3 lists but 2 targets"]),
        (lambda: M.target_ranks(RECS, TARGETS[:1]), ["3 lists but 1 targets"]),
        (lambda: M.hit_rate_at_k(RECS.astype(float), TARGETS, 3),
         ["recs must be an (n, k) array of integer item indices", "got an array of shape (3, 3) and dtype float64"]),
        (lambda: M.hit_rate_at_k(RECS - 2, TARGETS, 3),
         ["recs must be item indices >= 0 or -1 (padding), got -3"]),
        (lambda: M.hits(RECS, [1.0, 0.0, 3.5]), ["targets must be integer item indices, got "
                                                 "[1.0, 0.0, 3.5]"]),
        (lambda: M.hits(RECS, [1, -1, 3]), ["targets must be item indices >= 0, got -1"]),
        (lambda: M.coverage(RECS, 0), ["n_items must be a positive integer, got 0"]),
        (lambda: M.coverage(RECS, 4), ["recs must be item indices in [0, 3] (or -1), got 4"]),
        (lambda: M.novelty(RECS, [0.5, np.nan, 0.2, 0.1, 0.1]),
         ["item_share must be finite numbers, got nan at position 1"]),
        (lambda: M.novelty(RECS, [0.5, -0.1, 0.2, 0.1, 0.1]),
         ["item_share must be shares >= 0, got -0.1 at position 1"]),
        (lambda: M.novelty(RECS, [0.5, 0.5, 0.5]),
         ["recs must be item indices in [0, 2] (one share per item), got 4"]),
        (lambda: M.intra_list_diversity([[0, 5]], np.ones((3, 2), bool)),
         ["recs must be item indices in [0, 2] (one genre row per item), got 5"]),
        (lambda: M.intra_list_diversity(RECS, np.ones(5, bool)),
         ["genre_matrix must be a 2-d array, got shape (5,)"]),
        (lambda: M.intra_list_diversity(RECS, np.full((5, 2), 0.5)),
         ["genre_matrix must hold 0/1 (or bool) genre flags, got 0.5"]),
        (lambda: M.per_user_hits(RECS, TARGETS, [1, 2]),
         ["users must hold one user id per list (3), got shape (2,)"]),
        (lambda: M.overlap_at_k(RECS, RECS[:, :2]), ["two stacks of lists of one shape"]),
    ],
    ids=case_id,
)  # fmt: skip
def test_metric_arguments(call, message):
    rejects(call, match=message)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda rng: M.bootstrap_ci([0.0, 1.0], rng, n_boot=0),
         "n_boot must be a positive integer, got 0"),
        (lambda rng: M.bootstrap_ci([0.0, 1.0], rng, n_boot="100"),
         "n_boot must be a positive integer, got '100'"),
        (lambda rng: M.bootstrap_ci([0.0, 1.0], 0), "rng must be a numpy.random.Generator "
                                                    "(e.g. numpy.random.default_rng(0)), got 0"),
        (lambda rng: M.bootstrap_ci([0.0, 1.0], rng, level=1.5), "level must be in (0, 1), "
                                                                 "got 1.5"),
        (lambda rng: M.bootstrap_ci([0.0, np.inf], rng), "per_user must be finite numbers, got "
                                                         "inf at position 1"),
        (lambda rng: M.bootstrap_ci([], rng), "bootstrap_ci needs at least one value"),
        (lambda rng: M.bootstrap_hit_rate(RECS, TARGETS, [1, 1], rng),
         "users must hold one user id per list (3), got shape (2,)"),
        (lambda rng: M.bootstrap_hit_rate(RECS, TARGETS, [1, 1, 2], rng, n_boot=-5),
         "n_boot must be a positive integer, got -5"),
        (lambda rng: M.paired_hit_rate_difference(RECS, RECS, TARGETS, [1, 1, 2], 7),
         "rng must be a numpy.random.Generator"),
        (lambda rng: M.paired_hit_rate_difference(RECS, RECS[:2], TARGETS, [1, 1, 2], rng),
         "both lists and the targets must cover the same transitions, got 3, 2 and 3"),
    ],
    ids=case_id,
)  # fmt: skip
def test_bootstraps_draw_nothing_when_refused(call, message):
    rng = np.random.default_rng(5)
    rejects(lambda: call(rng), match=message, unchanged=[rng])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m, t: M.evaluate(m, t, k=0), "k must be a positive integer, got 0"),
        (lambda m, t: M.evaluate(m, t, name=5), "name must be a non-empty string, got 5"),
        (lambda m, t: M.evaluate(m, t, catalog="catalog"), "catalog must be a Catalog or None, "
                                                           "got 'catalog'"),
        (lambda m, t: M.evaluate(m, t, item_share=np.ones(N)),
         "item_share needs a catalog: novelty is computed only with one"),
        (lambda m, t: M.evaluate(m, t, catalog=catalog(), item_share=np.ones(3)),
         "item_share must have shape (8), got shape (3,)"),
        (lambda m, t: M.evaluate(m, t.subset(np.zeros(len(t), bool))),
         "there are no lists to score: transitions is empty"),
        (lambda m, t: M.evaluate("popularity", t), "model must be a Recommender (with "
                                                   "recommend_many), got 'popularity'"),
        (lambda m, t: M.evaluate(m, t.states), "transitions must be Transitions (such as "
                                               "split.test) or have .states, .targets, got "
                                               "an array of shape (6, 3)"),
        (lambda m, t: M.evaluate(m, SimpleNamespace(states=t.states, targets=t.targets),
                                 histories={}),
         "transitions must be Transitions (such as split.test) or have .states, .targets, "
         ".prefixes, got namespace("),
        (lambda m, t: M.evaluate(m, t, histories=[1, 2]), "histories must be a dict user_id -> "
                                                          "history or None, got [1, 2]"),
        (lambda m, t: M.recommend_all(m, t, histories={1: np.arange(4)}),
         "user 2 of the transitions has no history"),
        (lambda m, t: M.metrics_row(RECS, TARGETS, 3, item_share=np.ones(5)),
         "item_share needs a catalog"),
    ],
    ids=case_id,
)  # fmt: skip
def test_evaluate_refuses_before_asking_the_model(call, message):
    model, t = fitted("item-knn"), transitions()
    rejects(lambda: call(model, t), match=message, unchanged=[model, t])


@pytest.mark.parametrize(
    ("lists", "message"),
    [
        ([("a", RECS), ("a", RECS)], "model names must be unique, got 'a' twice"),
        ({}, "lists must not be empty, got []"),
        ({"a": RECS, "b": RECS[:2]}, "lists['a']: 3 lists but 6 targets"),
        ([("a", RECS, 1)], "lists must be (name, (n, k) array) pairs"),
        ({5: RECS}, "a model name must be a non-empty string, got 5"),
        ("lists", "lists must be a dict name -> (n, k) array, got 'lists'"),
    ],
    ids=case_id,
)  # fmt: skip
def test_compare_lists_checks_every_list_before_the_first_draw(lists, message):
    t, rng = transitions(), np.random.default_rng(3)
    rejects(lambda: M.compare_lists(lists, t, rng, k=3), match=message, unchanged=[rng])


def test_compare_lists_with_one_bad_list_after_a_good_one_draws_nothing():
    t, rng = transitions(), np.random.default_rng(3)
    good = M.recommend_all(Fixed(), t, 3)
    rejects(lambda: M.compare_lists({"good": good, "bad": np.full_like(good, -5)}, t, rng, k=3),
            match=["lists['bad']: recs must be item indices >= 0 or -1 (padding), got -5"],
            unchanged=[rng])  # fmt: skip


def test_compare_models_arguments():
    t, rng = transitions(), np.random.default_rng(3)
    a, b = Fixed(), Fixed(np.arange(N)[::-1])
    rejects(lambda: M.compare_models([a, b], t, rng), match="model names must be unique, "
                                                              "got 'fixed' twice",
            unchanged=[rng, a, b])  # fmt: skip
    rejects(lambda: M.compare_models([], t, rng), match="models must not be empty, got []",
            unchanged=[rng])  # fmt: skip
    rejects(lambda: M.compare_models(a, t, rng), match="models must be a list of Recommenders",
            unchanged=[rng])  # fmt: skip
    rejects(lambda: M.compare_models([a], t, rng, n_boot=0), match="n_boot must be a positive "
                                                                   "integer, got 0",
            unchanged=[rng, a])  # fmt: skip


# ---- the protocol ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: as_history("12", 5), HIST + "'12'"),
        (lambda: as_history([1.5], 5), HIST + "[1.5]"),
        (lambda: as_history([True, False], 5), HIST + "[True, False]"),
        (lambda: as_history([[1, 2]], 5), HIST + "[[1, 2]]"),
        (lambda: as_history(7, 5), HIST + "7"),
        (lambda: as_history([1, None], 5), HIST + "[1, None]"),
        (lambda: as_history([-1], 5), "unknown item index -1: catalogue indices run from 0 to 4"),
        (lambda: as_history([5], 5), "unknown item index 5"),
        (lambda: as_history([1], 0), "unknown item index 1: the catalogue is empty (n_items is 0)"),
        (lambda: as_history([1], "5"), "n_items must be a non-negative integer, got '5'"),
        (lambda: top_k([1.0, np.nan, 2.0], 2), "scores must not be NaN, got nan at position 1"),
        (lambda: top_k([[1.0, 2.0]], 1), "scores must be a 1-d array, got shape (1, 2)"),
        (lambda: top_k(["a", "b"], 1), "scores must be numbers, got ['a', 'b']"),
        (lambda: top_k([1.0, 2.0], -1), "k must be a non-negative integer, got -1"),
        (lambda: top_k([1.0, 2.0, 3.0], 2, exclude=[-1]),
         "exclude must be integers in [0, 2], got -1 at position 0"),
        (lambda: top_k([1.0, 2.0, 3.0], 2, exclude=[0.0]), "exclude must be integers in [0, 2], "
                                                            "got 0.0 at position 0"),
        (lambda: top_k([1.0, 2.0, 3.0], 2, exclude="2"), "exclude must be integers in [0, 2], "
                                                         "got '2'"),
        (lambda: top_k_many(np.ones(3), 2), "scores must be a 2-d array, got shape (3,)"),
        (lambda: top_k_many(np.ones((2, 3)), 2, exclude=[[0]]),
         "exclude must hold one sequence per row of scores (2), got 1"),
        (lambda: top_k_many(np.ones((2, 3)), 2, exclude=[[0], [-1]]),
         "exclude[1] must be integers in [0, 2], got -1"),
        (lambda: top_k_many(np.ones((2, 3)), 2, exclude=[[0], [1.5]]),
         "exclude must hold integer item indices, got [[0], [1.5]]"),
        (lambda: top_k_many(np.full((2, 3), np.nan), 2), "scores must not be NaN, got nan at "
                                                         "position (0, 0)"),
    ],
    ids=case_id,
)  # fmt: skip
def test_protocol_functions(call, message):
    rejects(call, match=message)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.recommend([1], k="3"), "k must be a non-negative integer, got '3'"),
        (lambda m: m.recommend([1], exclude=[9]), "unknown item index 9"),
        (lambda m: m.recommend([1], exclude="1"), "exclude must be a 1-d sequence of integer "
                                                  "item indices, got '1'"),
        (lambda m: m.recommend_many([1, 2, 3], 2), "histories must be a sequence of histories "
                                                   "(one list of movies per user), got a single "
                                                   "history [1, 2, 3]"),
        (lambda m: m.recommend_many([[1], [2, -4]], 2), "histories[1]: unknown item index -4"),
        (lambda m: m.recommend_many(5, 2), "histories must be a sequence of histories, got 5"),
    ],
    ids=case_id,
)  # fmt: skip
def test_recommender_calls(call, message):
    model = Fixed()
    rejects(lambda: call(model), match=message, unchanged=[model])


@pytest.mark.parametrize(
    "call", [lambda m: m.recommend([1, 2], 3), lambda m: m.recommend_many([[1, 2]], 3)]
)
def test_a_never_fitted_model_says_call_fit_not_from_0_to_minus_1(call):
    model = NeverFitted()
    message = rejects(lambda: call(model), match="NeverFitted is not fitted: call fit() first",
                      exc=RuntimeError, unchanged=[model])  # fmt: skip
    assert "-1" not in message


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=-(2**62), max_value=-1))
def test_any_negative_index_in_a_history_or_exclude_is_refused(index):
    model = Fixed()
    rejects(lambda: model.recommend([0, index]), match=f"unknown item index {index}:")
    rejects(lambda: model.recommend([0], exclude=[index]), match=f"unknown item index {index}:")
    rejects(
        lambda: top_k(np.arange(5.0), 2, exclude=[index]),
        match=["exclude must be integers in [0, 4]", f"got {index} at position 0"],
    )


# ---- the loaders -------------------------------------------------------------------------------


def u_item(rows=((1, "Toy Story (1995)", "Comedy"), (2, "Heat (1995)", "Action"))) -> bytes:
    lines = []
    for item_id, title, genre in rows:
        flags = "|".join("1" if g == genre else "0" for g in ds.GENRES)
        lines.append(f"{item_id}|{title}|01-Jan-1995||http://example/|{flags}")
    return ("\n".join(lines) + "\n").encode("latin-1")


U_DATA = b"1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t2\t4\t881250951\n"
INTER = b"user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t1\t5\t881250949\n"
ITEM = b"item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n" \
       b"1\tToy Story\t1995\tComedy\n"  # fmt: skip


@pytest.mark.parametrize(
    ("u_data", "item", "message"),
    [
        (U_DATA.replace(b"\t5\t", b"\tnan\t"), u_item(), "u.data rating must be whole numbers "
                                                         "in [1, 5], got nan in line 1"),
        (U_DATA.replace(b"\t4\t", b"\t7\t"), u_item(), "u.data rating must be whole numbers "
                                                          "in [1, 5], got 7 in line 3"),
        (U_DATA.replace(b"\t3\t", b"\t3.5\t"), u_item(), "u.data rating must be whole "
                                                            "numbers in [1, 5], got 3.5 in line 2"),
        (U_DATA.replace(b"881250950", b"inf"), u_item(), "u.data timestamp must be finite "
                                                         "whole numbers >= 0, got inf in line 2"),
        (U_DATA.replace(b"2\t2\t4", b"-2\t2\t4"), u_item(), "u.data user_id must be finite whole "
                                                            "numbers >= 1, got -2 in line 3"),
        (U_DATA + b"3\t1\t4\n", u_item(), "u.data timestamp must be finite whole numbers >= 0, "
                                          "got nan in line 4"),
        (U_DATA.replace(b"\n", b"\t9\n"), u_item(), "u.data must have 4 tab-separated columns "
                                                    "['user_id', 'item_id', 'rating', "
                                                    "'timestamp'], got 5"),
        (U_DATA + b"1\t2\t3\t4\t5\n", u_item(), "u.data is not a tab-separated ratings file: "
                                                "Error tokenizing data. C error: Expected 4 "
                                                "fields in line 4, saw 5"),
        (U_DATA.replace(b"\t", b","), u_item(), "u.data must have 4 tab-separated columns"),
        (b"", u_item(), "u.data is empty, got b''"),
        (U_DATA.decode(), u_item(), "u.data must be the file's contents as bytes, got str"),
        (U_DATA, u_item() + u_item()[:40], "u.item line has 5 fields, expected 24: "
                                           "'1|Toy Story (1995)|01-Jan-1995||http://e'"),
        (U_DATA, u_item(((1, "A (1990)", "Drama"), (1, "B (1991)", "War"))),
         "u.item lists movie id 1 twice: ids must be unique"),
        (U_DATA, u_item(((1, "A (1990)", "Drama"),)), "u.item rates movie id 2, which is not "
                                                      "among its 1 movies"),
        (U_DATA, u_item().replace(b"1|Toy", b"x1|Toy"), "u.item line 1: item_id must be an "
                                                         "integer >= 1, got 'x1'"),
        (U_DATA, u_item().replace(b"|0|", b"|x|", 1), "u.item line 1: genre flags must be 0 or "
                                                       "1, got 'x'"),
        (U_DATA, b"\n\n", "u.item is empty, got b'\\n\\n'"),
    ],
    ids=case_id,
)  # fmt: skip
def test_corrupt_grouplens_files(u_data, item, message):
    rejects(lambda: ds.parse_grouplens(u_data, item), match=message)


@pytest.mark.parametrize(
    ("inter", "item", "message"),
    [
        (INTER.replace(b"\t5\t", b"\t\t"), ITEM, "ml-100k.inter rating must be whole numbers in "
                                                 "[1, 5], got nan in line 2"),
        (INTER.replace(b"timestamp:float", b"time:float"), ITEM,
         "ml-100k.inter must have the columns ['user_id', 'item_id', 'rating', 'timestamp']"),
        (INTER + b"1\t1\t4\t5\t6\n", ITEM, "ml-100k.inter is not a tab-separated ratings file: "
                                           "Error tokenizing data. C error: Expected 4 fields "
                                           "in line 3, saw 5"),
        (INTER, ITEM.replace(b"class:", b"genre:"), "unexpected RecBole item header: 'item_id:"),
        (INTER, ITEM + b"2\tHeat\n", "ml-100k.item line 3 has 2 fields, expected 4"),
        (INTER, ITEM + b"2.5\tHeat\t1995\tAction\n", "ml-100k.item line 3: item_id must be an "
                                                    "integer >= 1, got '2.5'"),
        (INTER, ITEM.replace(b"Toy", b"\xff\xfeToy"), "ml-100k.item is not UTF-8 text: 'utf-8' "
                                                      "codec can't decode byte 0xff in position "
                                                      "73"),
        (INTER.replace(b"\t1\t5", b"\t3\t5"), ITEM, "ml-100k.item rates movie id 3, which is "
                                                     "not among its 1 movies"),
        (INTER, None, "ml-100k.item must be the file's contents as bytes, got NoneType"),
    ],
    ids=case_id,
)  # fmt: skip
def test_corrupt_recbole_files(inter, item, message):
    rejects(lambda: ds.parse_recbole(inter, item), match=message)


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: _write(p, b"PK\x03\x04 truncated"), "ml-100k.zip is not a valid MovieLens-100K "
                                                       "zip: File is not a zip file"),
        (lambda p: _zip(p, {"ml-1m/ratings.dat": b"1::1::5::1\n"}),
         "ml-100k.zip is not a valid MovieLens-100K zip: \"There is no item named "
         "'ml-100k/u.data' in the archive\""),
        (lambda p: _zip(p, {"ml-100k/u.data": U_DATA.replace(b"\t5\t", b"\tNaN\t"),
                            "ml-100k/u.item": u_item()}), "u.data rating must be whole numbers"),
    ],
    ids=case_id,
)  # fmt: skip
def test_corrupt_or_foreign_zips_are_refused_and_left_alone(tmp_path, make, message):
    path = make(tmp_path / "ml-100k.zip")
    result = ds.FetchResult("grouplens", path)
    rejects(lambda: ds.read_source(result), match=message, files=[path])


def test_read_source_arguments(tmp_path):
    rejects(lambda: ds.read_source(ds.FetchResult("kaggle", tmp_path)),
            match="result.source must be one of 'grouplens', 'recbole', got 'kaggle'")  # fmt: skip
    rejects(lambda: ds.read_source(str(tmp_path)), match="result must be a FetchResult")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "ml-1m"}, "unknown data set 'ml-1m': only 'ml-100k' is supported"),
        ({"source": "kaggle"}, "unknown source 'kaggle': choose one of auto, grouplens, recbole"),
        ({"source": ["auto"]}, "unknown source ['auto']"),
        ({"progressbar": "yes"}, "progressbar must be True or False, got 'yes'"),
        ({"url": ""}, "url must be a non-empty string, got ''"),
        ({"home": 5}, "home must be a folder path (str or pathlib.Path), got 5"),
    ],
    ids=case_id,
)  # fmt: skip
def test_fetch_arguments_are_refused_before_any_folder_is_made(tmp_path, kwargs, message):
    home = tmp_path / "new-home"
    args = {"home": home, **kwargs}
    rejects(lambda: ds.fetch_movielens(**args), match=message, files=[home])
    assert list(tmp_path.iterdir()) == []


def test_fetch_into_a_file_and_load_with_a_bad_source(tmp_path):
    home = tmp_path / "data.txt"
    home.write_text("not a folder")
    rejects(lambda: ds.fetch_movielens(home=home), match=f"home must be a folder for the data, "
                                                         f"got the file {str(home)!r}",
            files=[home])  # fmt: skip
    rejects(lambda: ds.load_movielens(source="kaggle", home=tmp_path / "x"), match="'kaggle'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.txt"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ds.normalise_title(None), "raw must be a title string, got None"),
        (lambda: ds.display_title("Heat", "1995"), "year must be an integer, got '1995'"),
        (lambda: ds.display_title("Heat", 1995.5), "year must be an integer, got 1995.5"),
        (lambda: ds.display_title("Heat", math.inf), "year must be an integer, got inf"),
        (lambda: ds.display_title(None, 1995), "title must be a string, got None"),
        (lambda: ds.sha256_of(3), "path must be a file path (str or pathlib.Path), got 3"),
        (lambda: ds.synthetic_movielens(n_users=0), "n_users must be an integer >= 1, got 0"),
        (lambda: ds.synthetic_movielens(n_items="300"), "n_items must be an integer >= 4, "
                                                        "got '300'"),
        (lambda: ds.synthetic_movielens(n_genres=25), "n_genres must be an integer in [1, 18], "
                                                      "got 25"),
        (lambda: ds.synthetic_movielens(seed=-1), "seed must be a non-negative integer, got -1"),
        (lambda: ds.synthetic_movielens(ratings_per_user=(5,)),
         "ratings_per_user must be a pair of integers (low, high), got (5,)"),
        (lambda: ds.synthetic_movielens(ratings_per_user=(1.5, 3)),
         "ratings_per_user must be a pair of integers (low, high), got (1.5, 3)"),
        (lambda: ds.synthetic_movielens(ratings_per_user=(10, 5)),
         "ratings_per_user must satisfy 1 <= low <= high, got (10, 5)"),
    ],
    ids=case_id,
)  # fmt: skip
def test_dataset_helpers(call, message):
    rejects(call, match=message)


def test_a_missing_file_is_file_not_found(tmp_path):
    rejects(lambda: ds.sha256_of(tmp_path / "absent.zip"), exc=FileNotFoundError,
            match="absent.zip", files=[tmp_path / "absent.zip"])  # fmt: skip


# ---- the classical models ----------------------------------------------------------------------


PARAMS = [
    (UserKNN, "n_neighbours", "20", "n_neighbours must be a positive integer, got '20'"),
    (UserKNN, "n_neighbours", None, "n_neighbours must be a positive integer, got None"),
    (ItemKNN, "n_neighbours", 0, "n_neighbours must be a positive integer or None, got 0"),
    (ItemKNN, "shrink", "1", "shrink must be a finite number >= 0, got '1'"),
    (ItemKNN, "shrink", math.inf, "shrink must be a finite number >= 0, got inf"),
    (ContentBased, "title_weight", -0.5, "title_weight must be a finite number >= 0, got -0.5"),
    (ContentBased, "genre_weight", "1", "genre_weight must be a finite number >= 0, got '1'"),
    (MatrixFactorization, "n_factors", 2.0, "n_factors must be a positive integer, got 2.0"),
    (MatrixFactorization, "reg", 0, "reg must be a finite number > 0, got 0"),
    (MatrixFactorization, "rng", "seed", "rng must be a numpy.random.Generator or a seed (an "
                                         "integer >= 0), got 'seed'"),
    (MatrixFactorization, "rng", -1, "rng must be a numpy.random.Generator or a seed (an integer "
                                    ">= 0), got -1"),
    (MatrixFactorization, "rng", 1.5, "rng must be a numpy.random.Generator or a seed (an "
                                     "integer >= 0), got 1.5"),
    (MarkovChain, "n_last", True, "n_last must be a positive integer, got True"),
    (MarkovChain, "smoothing", math.nan, "smoothing must be a finite number >= 0, got nan"),
    (Hybrid, "components", ItemKNN(), "components must be a list of (model, weight) pairs, got "
                                      "ItemKNN("),
    (Hybrid, "components", [(ItemKNN(),)], "a Hybrid component must be a (model, weight) pair, "
                                           "got (ItemKNN("),
    (Hybrid, "components", [(ItemKNN(), 0), (Popularity(), 0.0)],
     "component weights must not all be 0 (every score would be 0), got [0, 0.0]"),
    (Hybrid, "components", [(ItemKNN(), "0.5")], "component weight must be a finite number >= 0, "
                                                 "got '0.5'"),
]  # fmt: skip


@pytest.mark.parametrize(("cls", "param", "value", "message"), PARAMS,
                         ids=[f"{c.__name__}.{p}={v!r}"[:40] for c, p, v, _ in PARAMS])  # fmt: skip
def test_a_bad_setting_is_refused_at_fit_and_the_fitted_model_is_kept(cls, param, value, message):
    model = cls().fit(HISTORIES, N, catalog=catalog())
    model.set_params(**{param: value})  # stored as given (scikit-learn's convention) ...
    rejects(lambda: model.fit(HISTORIES, N, catalog=catalog()), match=message,
            unchanged=[model])  # ... refused at fit, before anything is refitted  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.floats().filter(lambda x: not 0 < x <= 1), st.just(math.nan),
                 st.text(max_size=3), st.none(), st.booleans()))  # fmt: skip
def test_any_recency_decay_outside_0_1_is_refused(decay):
    for model in (UserKNN(), ItemKNN(), ContentBased()):
        model.set_params(recency_decay=decay)
        rejects(lambda m=model: m.fit(HISTORIES, N, catalog=catalog()),
                match=["recency_decay must be a finite number in (0, 1]", repr(decay)],
                unchanged=[model])  # fmt: skip
        assert model.popularity_ is None


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize(
    ("histories", "n_items", "message"),
    [
        ({}, N, "histories must hold at least one history, got {}"),
        ([0, 1, 2], N, "histories must be a list of histories (one per user), got a single "
                       "history [0, 1, 2]"),
        ("0123", N, "histories must be a dict user_id -> history or a list of histories, "
                    "got '0123'"),
        ({1: [0, 1], "two": [2]}, N, "a user id of histories must be an integer, got 'two'"),
        ({1: [0, 1], 2: [2, 8]}, N, "histories[2]: unknown item index 8: catalogue indices "
                                    "run from 0 to 7"),
        ({1: [0, 1], 2: [2.0, 3.0]}, N, "histories[2]: history must be a 1-d sequence of "
                                        "integer item indices, got [2.0, 3.0]"),
        ({1: [0, 1]}, "8", "n_items must be a positive integer, got '8'"),
    ],
    ids=case_id,
)  # fmt: skip
def test_refitting_with_bad_data_keeps_the_fitted_model(name, histories, n_items, message):
    model = fitted(name)
    rejects(lambda: model.fit(histories, n_items, catalog=catalog()), match=message,
            unchanged=[model])  # fmt: skip


def test_content_refit_with_a_catalogue_of_another_size_keeps_the_fitted_model():
    # fit used to store n_items and the popularity before it compared the catalogue's size
    model = fitted("content")
    small = catalog().subset([0, 1, 2])
    rejects(lambda: model.fit({1: [0, 1, 2]}, 3, catalog=catalog()),
            match="catalog has 8 items but n_items is 3", unchanged=[model])  # fmt: skip
    rejects(lambda: model.fit(HISTORIES, N, catalog=small), match="catalog has 3 items but "
                                                                  "n_items is 8",
            unchanged=[model])  # fmt: skip
    rejects(lambda: model.fit(HISTORIES, N), match="ContentBased.fit needs a catalog with "
                                                   ".genre_matrix and .titles, got NoneType",
            unchanged=[model])  # fmt: skip


def test_hybrid_refused_by_a_later_component_leaves_the_earlier_ones_unfitted():
    # ItemKNN would be refitted before ContentBased refuses the missing catalogue
    knn, content = ItemKNN(), ContentBased()
    hybrid = Hybrid([(knn, 0.9), (content, 0.1)])
    rejects(lambda: hybrid.fit(HISTORIES, N), match="ContentBased.fit needs a catalog",
            unchanged=[hybrid, knn, content])  # fmt: skip
    assert knn.popularity_ is None
    rejects(lambda: Hybrid().fit(HISTORIES, N), match="ContentBased.fit needs a catalog")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.score([1.5]), "history must be a 1-d sequence of integer item indices, got "
                                   "[1.5]"),
        (lambda m: m.score([-1]), "unknown item index -1"),
        (lambda m: m.score("12"), HIST + "'12'"),
        (lambda m: m.score_many([[1], [9]]), "histories[1]: unknown item index 9"),
        (lambda m: m.score_many([1, 2]), "histories must be a list of histories (one per "
                                           "user), got a single history [1, 2]"),
        (lambda m: m.recommend([1], k=1.0), "k must be a non-negative integer, got 1.0"),
        (lambda m: m.recommend_many([[1]], k=None), "k must be a non-negative integer, "
                                                      "got None"),
    ],
    ids=case_id,
)  # fmt: skip
@pytest.mark.parametrize("name", ["user-knn", "mf", "markov"])
def test_fitted_model_calls(name, call, message):
    model = fitted(name)
    rejects(lambda: call(model), match=message, unchanged=[model])


@pytest.mark.parametrize(
    ("cls", "call"),
    [
        (UserKNN, lambda m: m.similarities([1, 2])),
        (ContentBased, lambda m: m.profile([1, 2])),
        (MatrixFactorization, lambda m: m.fold_in([1, 2])),
    ],
)
def test_public_methods_of_an_unfitted_model_say_call_fit(cls, call):
    model = cls()
    message = rejects(lambda: call(model), match=f"{cls.__name__} is not fitted: call fit() first",
                      exc=RuntimeError, unchanged=[model])  # fmt: skip
    assert "-1" not in message


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: item_features(np.ones((3, 2)), ["a", "b", "c"], min_df=0),
         "min_df must be a positive integer, got 0"),
        (lambda: item_features(np.ones((3, 2)), "abc"), "titles must be a sequence of strings, "
                                                        "got 'abc'"),
        (lambda: item_features(np.ones((3, 2)), ["a", None, "c"]), "titles[1] must be a string, "
                                                                   "got None"),
        (lambda: item_features(np.full((3, 2), np.nan), ["a", "b", "c"]),
         "genre_matrix must be finite numbers, got nan at position (0, 0)"),
        (lambda: item_features(np.ones(3), ["a", "b", "c"]), "genre_matrix must be a 2-d array, "
                                                             "got shape (3,)"),
        (lambda: item_features(np.ones((3, 2)), ["a", "b", "c"], title_weight="0.5"),
         "title_weight must be a finite number >= 0, got '0.5'"),
        (lambda: title_tokens(None), "title must be a string, got None"),
        (lambda: item_similarity(np.ones((3, 4)), shrink=-1), "shrink must be a finite number "
                                                              ">= 0, got -1"),
        (lambda: item_similarity(np.ones((3, 4)), n_neighbours=0),
         "n_neighbours must be a positive integer or None, got 0"),
        (lambda: item_similarity(np.full((3, 4), np.inf)), "matrix must be finite numbers, got "
                                                           "inf at position (0, 0)"),
        (lambda: item_similarity(interaction_matrix([[0, 1]], 3) * np.nan),
         "matrix must be finite numbers, got nan"),
        (lambda: history_list([[0]], 0), "n_items must be a positive integer, got 0"),
        (lambda: default_models(rng="x"), "rng must be a numpy.random.Generator or a seed"),
        (lambda: default_models(rng=-2), "rng must be a numpy.random.Generator or a seed (an "
                                                   "integer >= 0), got -2"),
    ],
    ids=case_id,
)  # fmt: skip
def test_classical_functions(call, message):
    rejects(call, match=message)


ROWS = np.arange(12.0).reshape(4, 3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: recency.weights(-1, 0.5), "n must be a non-negative integer, got -1"),
        (lambda: recency.weights(3, 0.0), "decay must be a finite number in (0, 1], got 0.0"),
        (lambda: recency.weights(3, "0.5"), "decay must be a finite number in (0, 1], "
                                                      "got '0.5'"),
        (lambda: recency.latest_weights(np.array([0, -1]), 4, 0.5),
         "history must be item indices >= 0, < 4, got -1"),
        (lambda: recency.latest_weights(np.array([0, 4]), 4, 0.5),
         "history must be item indices >= 0, < 4, got 4"),
        (lambda: recency.entries(np.array([0, 1]), 0.5, n_last=0),
         "n_last must be a positive integer or None, got 0"),
        (lambda: recency.entries(np.array([0.5]), 0.5), "history must be a 1-d array of integer "
                                                        "item indices, got array([0.5])"),
        (lambda: recency.matrix([np.array([1]), np.array([5])], 4, 0.5),
         "history must be item indices >= 0, < 4, got 5"),
        (lambda: recency.combine_rows(ROWS, np.array([], dtype=int), np.array([])),
         "cols and vals must be two non-empty sequences of one length, got 0 cols and 0 vals"),
        (lambda: recency.combine_rows(ROWS, np.array([-1]), np.array([1.0])),
         "cols must be item indices >= 0, < 4, got -1"),
        (lambda: recency.score(ROWS, np.array([], dtype=int), 0.5),
         "history must not be empty, got array([], dtype=int64)"),
        (lambda: recency.score_batch(np.ones(4), [np.array([1])], 0.5),
         "item_matrix must be 2-d (items x columns), got shape (4,)"),
    ],
    ids=case_id,
)  # fmt: skip
def test_recency_helpers(call, message):
    rejects(call, match=message)


def test_unknown_parameter_names_leave_the_model_as_it_was():
    model = fitted("item-knn")
    before = fingerprint(model)
    rejects(lambda: model.set_params(shrink=5.0, n_neighbors=3),
            match="unknown parameter(s) ['n_neighbors'] of ItemKNN", unchanged=[model])  # fmt: skip
    assert fingerprint(model) == before and model.shrink == 0.0


def test_valid_input_still_gives_the_same_answers():
    """The checks are in front of the computations, not in them."""
    cat = catalog()
    assert cat.subset([7, 0]).titles == ["Eta (1997)", "Alpha (1990)"]
    assert cat.title(np.int64(2)) == "Gamma (1992)" and cat.index_of(np.int64(80)) == 7
    assert M.hit_rate_at_k(RECS, TARGETS, 3) == pytest.approx(2 / 3)
    assert M.coverage(RECS, 10) == pytest.approx(0.5)
    assert ds.display_title("Heat", 1995.0) == "Heat (1995)" == ds.display_title("Heat", 1995)
    assert ds.display_title("unknown", float("nan")) == "unknown"
    r, m = ds.parse_grouplens(U_DATA, u_item())
    assert r["rating"].tolist() == [5, 3, 4] and m["title"].tolist() == ["Toy Story", "Heat"]
    assert interaction_matrix({}, 4).shape == (0, 4)
    assert make_transitions({1: []}).states.shape == (0, 3)
    assert len(Popularity().fit(HISTORIES, N).score_many([])) == 0
    assert top_k_many(np.ones((2, 3)), 2, exclude=[[], [0]]).tolist() == [[0, 1], [1, 2]]
