"""Tests of the classical recommenders on small synthetic data with known answers."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from odsc_recsys.protocol import Recommender

# ---------------------------------------------------------------------------------------------
# Synthetic data
# ---------------------------------------------------------------------------------------------

N_ITEMS = 12


def small_catalog(n_items: int = N_ITEMS) -> SimpleNamespace:
    """A duck-typed catalogue: three genres in blocks of four, titles with shared tokens."""
    genres = np.zeros((n_items, 3), dtype=bool)
    genres[np.arange(n_items), np.arange(n_items) * 3 // n_items] = True
    titles = [
        f"Saga {i} ({1990 + i})" if i % 4 == 0 else f"Film{i} ({1990 + i})" for i in range(n_items)
    ]
    return SimpleNamespace(genre_matrix=genres, titles=titles)


def random_histories(n_users: int = 30, n_items: int = N_ITEMS, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {u: rng.permutation(n_items)[: rng.integers(3, n_items)] for u in range(n_users)}


def all_models() -> list[Recommender]:
    return list(default_models(rng=np.random.default_rng(0)).values())


def fitted(model: Recommender, histories=None, n_items: int = N_ITEMS) -> Recommender:
    histories = random_histories() if histories is None else histories
    return model.fit(histories, n_items, catalog=small_catalog(n_items))


MODEL_IDS = [m.name for m in all_models()]


# ---------------------------------------------------------------------------------------------
# The protocol, for every model
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(MODEL_IDS)), ids=MODEL_IDS)
class TestProtocol:
    def test_score_has_one_finite_value_per_item(self, index):
        model = fitted(all_models()[index])
        s = model.score([0, 5, 7])
        assert s.shape == (N_ITEMS,)
        assert np.isfinite(s).all()

    def test_seen_items_are_excluded(self, index):
        model = fitted(all_models()[index])
        history = [3, 1, 4, 9]
        rec = model.recommend(history, k=5, exclude=history)
        assert len(rec) == 5
        assert not set(rec.tolist()) & set(history)

    def test_k_larger_than_catalogue_returns_every_eligible_item_once(self, index):
        model = fitted(all_models()[index])
        history = [2, 6]
        rec = model.recommend(history, k=100, exclude=history)
        assert sorted(rec.tolist()) == sorted(set(range(N_ITEMS)) - {2, 6})

    def test_empty_history_falls_back_to_training_popularity(self, index):
        histories = {0: [0, 1, 2], 1: [1, 2], 2: [2, 5], 3: [2, 1, 7]}
        model = fitted(all_models()[index], histories)
        # counts: item 2 in 4 histories, item 1 in 3, items 0, 5 and 7 in 1 (ties by index)
        assert model.recommend([], k=5).tolist() == [2, 1, 0, 5, 7]

    @pytest.mark.parametrize("bad", [[-1], [N_ITEMS], [0, 99]])
    def test_unknown_item_ids_raise_a_clear_error(self, index, bad):
        model = fitted(all_models()[index])
        with pytest.raises(ValueError, match="unknown item index"):
            model.score(bad)
        with pytest.raises(ValueError, match="unknown item index"):
            model.recommend(bad, k=3)
        with pytest.raises(ValueError, match="unknown item index"):
            model.recommend([0], k=3, exclude=bad)

    def test_unknown_ids_in_training_data_raise(self, index):
        with pytest.raises(ValueError, match="unknown item index 12"):
            all_models()[index].fit({0: [1, 12]}, N_ITEMS, catalog=small_catalog())

    def test_bad_catalogue_size_raises(self, index):
        with pytest.raises(ValueError, match="n_items must be a positive integer"):
            all_models()[index].fit({0: [1]}, 0, catalog=small_catalog())

    def test_unfitted_model_raises(self, index):
        with pytest.raises(RuntimeError, match="not fitted"):
            all_models()[index].score([1])

    def test_list_input_equals_dict_input(self, index):
        hist = random_histories()
        a = fitted(all_models()[index], hist).score([1, 2, 3])
        b = fitted(all_models()[index], [hist[u] for u in sorted(hist)]).score([1, 2, 3])
        np.testing.assert_allclose(a, b)

    def test_a_user_unseen_at_fit_time_is_scored(self, index):
        # Fold-in: nothing about the asking user is stored, yet the history changes the scores
        # (popularity, by design, gives everyone the same scores).
        model = fitted(all_models()[index])
        same = np.allclose(model.score([0, 1, 2]), model.score([9, 10, 11]))
        assert same == isinstance(model, Popularity)


@settings(max_examples=30, deadline=None)
@given(
    history=st.lists(st.integers(0, N_ITEMS - 1), max_size=8, unique=True),
    k=st.integers(0, 20),
    index=st.integers(0, len(MODEL_IDS) - 1),
)
def test_recommend_returns_valid_unique_unseen_items(history, k, index):
    model = fitted(all_models()[index])
    rec = model.recommend(history, k=k, exclude=history)
    assert len(rec) == min(k, N_ITEMS - len(history))
    assert len(set(rec.tolist())) == len(rec)
    assert not set(rec.tolist()) & set(history)
    assert all(0 <= r < N_ITEMS for r in rec)
    # best first: the scores along the list never increase
    scores = model.score(history)[rec]
    assert np.all(np.diff(scores) <= 1e-12)


@settings(max_examples=25, deadline=None)
@given(
    histories=st.lists(
        st.lists(st.integers(0, N_ITEMS - 1), max_size=N_ITEMS, unique=True), min_size=1, max_size=6
    ),
    k=st.integers(0, N_ITEMS + 3),
    index=st.integers(0, len(MODEL_IDS) - 1),
)
def test_recommend_many_is_exactly_recommend_in_a_loop(histories, k, index):
    model = fitted(all_models()[index])
    batch = model.recommend_many(histories, k)
    assert batch.shape == (len(histories), k)
    for row, h in zip(batch, histories, strict=True):
        single = model.recommend(h, k, exclude=h)
        np.testing.assert_array_equal(row[: len(single)], single)
        assert (row[len(single) :] == -1).all()  # padding where fewer than k are eligible
    # each row of score_many is bit for bit the single-history score
    scores = model.score_many(histories)
    for row, h in zip(scores, histories, strict=True):
        np.testing.assert_array_equal(row, model.score(h))


def test_long_histories_score_bit_identically_alone_and_in_a_batch():
    # Histories longer than 32 movies take the sparse-product path in single calls too.
    n_items = 80
    rng = np.random.default_rng(5)
    train = [rng.permutation(n_items)[: rng.integers(5, 60)] for _ in range(40)]
    catalog = small_catalog(n_items)
    queries = [rng.permutation(n_items)[:n] for n in (0, 1, 5, 32, 33, 60, 79)]
    for model in [ContentBased(), ItemKNN(), MarkovChain(n_last=50), Hybrid()]:
        model.fit(train, n_items, catalog=catalog)
        batch = model.score_many(queries)
        for row, q in zip(batch, queries, strict=True):
            np.testing.assert_array_equal(row, model.score(q))


class LastItemScores(Recommender):
    """Scores ``(i - last) mod n``: the movie before the last one scores highest."""

    n_items = 5

    def score(self, history):
        last = history[-1] if len(history) else 0
        return (np.arange(self.n_items) - last) % self.n_items


class IndexOrderLists(LastItemScores):
    """A model whose lists are not its scores' order: the protocol must loop over them."""

    def recommend(self, history, k=10, exclude=None):
        skip = set() if exclude is None else set(np.asarray(exclude).tolist())
        return np.array([i for i in range(self.n_items) if i not in skip][:k])


def test_a_model_with_only_score_gets_score_many_and_batched_lists():
    model = LastItemScores()
    scores = model.score_many([[1], [], [2, 4]])
    assert scores.dtype == np.float64
    np.testing.assert_array_equal(scores, [[4, 0, 1, 2, 3], [0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])
    assert model.score_many([]).shape == (0, 5)
    # by hand: after [1] the order is 0, 4, 3, 2 (1 excluded); after [2, 4] it is 3, 1, 0
    assert model.recommend_many([[1], [2, 4]], 4).tolist() == [[0, 4, 3, 2], [3, 1, 0, -1]]
    looped = IndexOrderLists().recommend_many([[1], [2, 4]], 4)  # recommend, row by row
    assert looped.tolist() == [[0, 2, 3, 4], [0, 1, 3, -1]]
    with pytest.raises(ValueError, match="k must be a non-negative integer, got 2.0"):
        model.recommend_many([[1]], 2.0)


@pytest.mark.parametrize(
    "call", [lambda m: m.recommend([1], 3), lambda m: m.recommend_many([[1]], 3)]
)
def test_an_unfitted_model_says_fit_before_reading_the_history(call):
    with pytest.raises(RuntimeError, match="not fitted"):
        call(ItemKNN())


def test_recency_helpers_by_hand():
    history = np.array([2, 0, 2])  # item 2 now and two steps ago, item 0 one step ago
    np.testing.assert_array_equal(recency.latest_weights(history, 4, 0.5), [0.5, 0, 1.0, 0])
    rows = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(recency.score(rows, history, 0.5), 0.5 * rows[0] + 1.25 * rows[2])
    np.testing.assert_array_equal(recency.score(rows, history, 0.5, n_last=2),
                                  0.5 * rows[0] + rows[2])  # fmt: skip
    hists = [history, np.array([3]), np.arange(4)]
    batch = recency.score_batch(rows, hists, 0.5, n_last=2)
    for row, h in zip(batch, hists, strict=True):
        np.testing.assert_array_equal(row, recency.score(rows, h, 0.5, n_last=2))


def test_recommend_many_rejects_negative_k_and_unknown_ids():
    model = fitted(ItemKNN())
    with pytest.raises(ValueError, match="k must be a non-negative integer, got -1"):
        model.recommend_many([[1]], -1)
    with pytest.raises(ValueError, match="unknown item index 12"):
        model.recommend_many([[1], [12]], 3)


# ---------------------------------------------------------------------------------------------
# Popularity
# ---------------------------------------------------------------------------------------------


def test_popularity_order_is_the_count_of_histories():
    histories = {1: [4, 3], 2: [4, 0], 3: [4, 3, 1], 4: [3, 4]}  # 4: x4, 3: x3, 0: x1, 1: x1
    model = Popularity().fit(histories, 5)
    np.testing.assert_array_equal(model.score([0]), [1, 1, 0, 3, 4])
    assert model.recommend([], k=5).tolist() == [4, 3, 0, 1, 2]
    assert model.recommend([4], k=2, exclude=[4]).tolist() == [3, 0]


def test_popularity_counts_a_repeated_watch_once():
    model = Popularity().fit([[0, 0, 0], [1], [1]], 2)
    np.testing.assert_array_equal(model.score([]), [1, 2])


# ---------------------------------------------------------------------------------------------
# Content-based
# ---------------------------------------------------------------------------------------------


def test_title_tokens_drop_year_punctuation_and_stop_words():
    assert title_tokens("Star Wars (1977)") == ["star", "wars"]
    assert title_tokens("Godfather: Part II, The (1974)") == ["godfather", "part", "ii"]
    assert title_tokens("Ed Wood (1994)") == ["ed", "wood"]


def test_item_features_are_unit_cosines_with_hand_computed_values():
    genres = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    titles = ["Alien (1979)", "Aliens (1986)", "Other (1990)"]  # no token is shared: no title block
    feats, names = item_features(genres, titles, title_weight=0.5)
    assert names == ["genre:0", "genre:1"]
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1.0)
    # cos([1,0], [1,1]) = 1/sqrt(2); cos([1,0], [0,1]) = 0
    np.testing.assert_allclose(feats @ feats[0], [1.0, 1 / np.sqrt(2), 0.0])


def test_shared_title_tokens_link_items_with_no_genre_in_common():
    genres = np.array([[1, 0], [0, 1], [0, 1]], dtype=bool)
    titles = ["Star Trek (1979)", "Star Trek II (1982)", "Mars Attacks! (1996)"]
    catalog = SimpleNamespace(genre_matrix=genres, titles=titles)
    no_titles = ContentBased(title_weight=0.0).fit([[0], [1], [2]], 3, catalog=catalog)
    with_titles = ContentBased(title_weight=1.0).fit([[0], [1], [2]], 3, catalog=catalog)
    assert no_titles.score([0])[1] == pytest.approx(0.0)
    # Tokens "star" and "trek" occur in 2 of 3 titles: item 1 now shares half its vector with 0.
    assert with_titles.score([0])[1] == pytest.approx(0.5)
    assert with_titles.recommend([0], k=1, exclude=[0]).tolist() == [1]


def test_content_recommends_the_genre_of_the_history():
    catalog = small_catalog()
    model = ContentBased(title_weight=0.0).fit(random_histories(), N_ITEMS, catalog=catalog)
    rec = model.recommend([4, 5], k=2, exclude=[4, 5])  # items 4..7 form genre 1
    assert set(rec.tolist()) <= {6, 7}


def test_content_profile_weighs_recent_items_more():
    genres = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=bool)
    catalog = SimpleNamespace(genre_matrix=genres, titles=["A", "B", "C", "D"])
    model = ContentBased(title_weight=0.0, recency_decay=0.5).fit([[0]], 4, catalog=catalog)
    np.testing.assert_allclose(model.profile([0, 1]), [0.5, 1.0])
    assert model.recommend([0, 1], k=1, exclude=[0, 1]).tolist() == [3]  # the genre of item 1


def test_content_score_is_the_cosine_of_profile_and_item_features():
    model = ContentBased(recency_decay=0.7).fit(
        random_histories(), N_ITEMS, catalog=small_catalog()
    )
    history = [3, 0, 8, 4]
    p = model.profile(history)
    np.testing.assert_allclose(model.score(history), model.features_ @ p / np.linalg.norm(p))


def test_content_needs_a_catalogue():
    with pytest.raises(ValueError, match="needs a catalog"):
        ContentBased().fit([[0]], 3)


# ---------------------------------------------------------------------------------------------
# Neighbourhood models
# ---------------------------------------------------------------------------------------------


def test_item_similarity_matches_a_hand_computed_shrunk_cosine():
    # item 0 watched by users 0..3, item 1 by users 0 and 1: overlap 2
    histories = [[0, 1], [0, 1], [0], [0]]
    x = UserKNN().fit(histories, 2).matrix_
    sim = item_similarity(x, shrink=2.0)
    cosine = 2 / np.sqrt(4 * 2)
    assert sim[0, 1] == pytest.approx(cosine * 2 / (2 + 2))
    assert sim[0, 0] == 0.0


def test_item_knn_finds_the_planted_neighbour():
    rng = np.random.default_rng(1)
    histories = []
    for u in range(40):
        noise = rng.choice(np.arange(2, 10), size=3, replace=False).tolist()
        histories.append(noise + ([0, 1] if u % 2 == 0 else []))  # 0 and 1 always together
    model = ItemKNN(n_neighbours=3, shrink=0.0).fit(histories, 10)
    assert int(np.argmax(model.similarity_[0])) == 1
    assert model.similarity_[0, 1] == pytest.approx(1.0)
    assert model.recommend([0], k=1, exclude=[0]).tolist() == [1]
    assert (model.similarity_ > 0).sum(axis=1).max() <= 3  # the neighbourhood is pruned


def test_item_knn_scores_are_the_recency_weighted_sum_of_rows():
    model = ItemKNN(n_neighbours=None, shrink=0.0, recency_decay=0.5).fit(random_histories(), 12)
    expected = 0.25 * model.similarity_[2] + 0.5 * model.similarity_[7] + model.similarity_[5]
    np.testing.assert_allclose(model.score([2, 7, 5]), expected)


def test_user_knn_recommends_what_the_nearest_user_watched():
    histories = {10: [0, 1, 2, 3], 11: [4, 5, 6], 12: [7, 8], 13: [5, 9]}
    model = UserKNN(n_neighbours=1, shrink=0.0, recency_decay=1.0).fit(histories, 10)
    assert model.recommend([0, 1, 2], k=1, exclude=[0, 1, 2]).tolist() == [3]
    # cosine of {0,1,2} with {0,1,2,3} = 3 / sqrt(3 * 4)
    np.testing.assert_allclose(model.similarities([0, 1, 2]), [3 / np.sqrt(12), 0, 0, 0])


def test_user_knn_recency_weights_the_query_vector():
    histories = {1: [0, 5], 2: [1, 6]}
    model = UserKNN(n_neighbours=1, shrink=0.0, recency_decay=0.5).fit(histories, 7)
    # q = (0.5, 1) on items (0, 1): user 2 shares the recent item and wins
    np.testing.assert_allclose(model.similarities([0, 1]), np.array([0.5, 1.0]) / np.sqrt(1.25 * 2))
    assert model.recommend([0, 1], k=1, exclude=[0, 1]).tolist() == [6]


def test_user_knn_shrinkage_damps_small_overlaps():
    histories = [[0, 1], [0, 2, 3, 4, 5, 6]]
    plain = UserKNN(shrink=0.0).fit(histories, 7).similarities([0])
    shrunk = UserKNN(shrink=1.0).fit(histories, 7).similarities([0])
    np.testing.assert_allclose(shrunk, plain * 1 / (1 + 1))


# ---------------------------------------------------------------------------------------------
# Matrix factorisation
# ---------------------------------------------------------------------------------------------


def planted_blocks(rng: np.random.Generator, n_blocks=3, users_per=20, items_per=8, keep=0.7):
    """Users of block b watch a random 70% of block b's items and nothing else (rank n_blocks)."""
    histories, held_out = [], []
    for b in range(n_blocks):
        items = np.arange(b * items_per, (b + 1) * items_per)
        for _ in range(users_per):
            watched = rng.permutation(items)
            n = int(keep * items_per)
            histories.append(watched[:n])
            held_out.append(watched[n:])
    return histories, held_out, n_blocks * items_per


def test_mf_recovers_a_planted_low_rank_structure():
    rng = np.random.default_rng(0)
    histories, held_out, n_items = planted_blocks(rng)
    model = MatrixFactorization(n_factors=3, reg=0.1, n_iterations=15, rng=rng)
    model.fit(histories, n_items)
    items_per = n_items // 3
    for u in range(len(histories)):
        block = u // 20
        rec = model.recommend(histories[u], k=len(held_out[u]), exclude=histories[u])
        # every held-out item of the user's block outranks every item of the other blocks
        assert set(rec.tolist()) == set(held_out[u].tolist())
        assert all(r // items_per == block for r in rec)
    # the reconstruction is close to the block pattern
    pred = model.user_factors_ @ model.item_factors_.T
    in_block = np.kron(np.eye(3), np.ones((20, items_per))).astype(bool)
    assert pred[in_block].mean() > 0.8
    assert np.abs(pred[~in_block]).max() < 0.1


def test_als_objective_never_increases():
    rng = np.random.default_rng(3)
    model = MatrixFactorization(n_factors=4, reg=0.5, n_iterations=8, rng=rng)
    model.fit(random_histories(seed=3), N_ITEMS)
    loss = np.array(model.loss_history_)
    assert np.all(np.diff(loss) <= 1e-9 * loss[:-1])


@pytest.mark.parametrize("decay", [1.0, 0.5])
def test_fold_in_is_the_closed_form_weighted_ridge_solution(decay):
    model = MatrixFactorization(
        n_factors=4, reg=0.7, confidence=5.0, n_iterations=3, recency_decay=decay, rng=1
    )
    model.fit(random_histories(), N_ITEMS)
    history = [1, 4, 9]
    y = model.item_factors_
    p = np.zeros(N_ITEMS)
    p[history] = 1.0
    c = np.ones(N_ITEMS)
    c[history] += 5.0 * np.array([decay**2, decay, 1.0])  # the most recent watch counts most
    expected = np.linalg.solve(y.T @ (c[:, None] * y) + 0.7 * np.eye(4), y.T @ (c * p))
    np.testing.assert_allclose(model.fold_in(history), expected, rtol=1e-9)
    np.testing.assert_allclose(model.score(history), y @ expected, rtol=1e-9)


def test_mf_is_deterministic_given_its_generator():
    a = MatrixFactorization(rng=np.random.default_rng(7)).fit(random_histories(), N_ITEMS)
    b = MatrixFactorization(rng=np.random.default_rng(7)).fit(random_histories(), N_ITEMS)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)


# ---------------------------------------------------------------------------------------------
# Hybrid
# ---------------------------------------------------------------------------------------------


def test_hybrid_is_the_weighted_sum_of_min_max_scaled_scores():
    histories = random_histories()
    cat = small_catalog()
    pop = Popularity()
    knn = ItemKNN()
    model = Hybrid([(pop, 0.25), (knn, 0.75)]).fit(histories, N_ITEMS, catalog=cat)

    def scaled(s):
        return (s - s.min()) / (s.max() - s.min())

    expected = 0.25 * scaled(pop.score([1, 2])) + 0.75 * scaled(knn.score([1, 2]))
    np.testing.assert_allclose(model.score([1, 2]), expected)


def test_hybrid_with_one_component_ranks_like_that_component():
    histories = random_histories()
    knn = ItemKNN().fit(histories, N_ITEMS)
    hybrid = Hybrid([(ItemKNN(), 1.0), (ContentBased(), 0.0)]).fit(
        histories, N_ITEMS, catalog=small_catalog()
    )
    assert (
        hybrid.recommend([3, 8], k=6, exclude=[3, 8]).tolist()
        == knn.recommend([3, 8], k=6, exclude=[3, 8]).tolist()
    )


def test_hybrid_places_a_movie_nobody_watched_through_its_content():
    # Two genres: items 0-5 and 6-11. Each user stays in one genre. Item 7 is brand new.
    genres = np.zeros((N_ITEMS, 2), dtype=bool)
    genres[:6, 0] = genres[6:, 1] = True
    catalog = SimpleNamespace(genre_matrix=genres, titles=[f"T{i}" for i in range(N_ITEMS)])
    rng = np.random.default_rng(0)
    pools = [np.arange(6), np.array([6, 8, 9, 10, 11])]
    histories = [rng.permutation(pools[u % 2])[:4] for u in range(40)]
    cf = ItemKNN().fit(histories, N_ITEMS)
    hybrid = Hybrid().fit(histories, N_ITEMS, catalog=catalog)
    history = [6, 8, 9]
    assert cf.score(history)[7] == 0.0  # collaborative filtering cannot see it
    cf_list = cf.recommend(history, k=N_ITEMS, exclude=history).tolist()
    hybrid_list = hybrid.recommend(history, k=N_ITEMS, exclude=history).tolist()
    assert set(cf_list[:2]) == {10, 11} and cf_list.index(7) > 2  # tied with the other genre
    assert set(hybrid_list[:2]) == {10, 11} and hybrid_list[2] == 7  # right after its genre-mates
    assert hybrid.score(history)[7] == pytest.approx(0.1)  # content weight x best content score


def test_hybrid_rejects_bad_components_at_fit():
    bad = [
        (Hybrid([("popularity", 1.0)]), "must be a Recommender"),
        (Hybrid([]), "at least one"),
        (Hybrid([(Popularity(), -0.5)]), r"component weight must be .*, got -0\.5"),
    ]
    for model, message in bad:  # construction only stores
        with pytest.raises(ValueError, match=message):
            model.fit(random_histories(), N_ITEMS, catalog=small_catalog())


def test_hybrid_default_components_are_fresh_models_fitted_at_fit():
    a, b = Hybrid(), Hybrid()
    assert a.get_params() == {"components": None}
    fitted(a)
    fitted(b)
    assert [(type(m), w) for m, w in a.components_] == [(ContentBased, 0.1), (ItemKNN, 0.9)]
    assert a.components_[1][0] is not b.components_[1][0]  # no model shared between hybrids
    assert a.components_[1][0].popularity_ is not None  # fitted


# ---------------------------------------------------------------------------------------------
# Markov chain
# ---------------------------------------------------------------------------------------------


def test_markov_chain_predicts_a_planted_sequence():
    rng = np.random.default_rng(0)
    # Everyone watches a rotation of the cycle 0 -> 1 -> ... -> 9 -> 0, from a random start.
    histories = [np.roll(np.arange(10), -int(rng.integers(10)))[:6] for _ in range(50)]
    model = MarkovChain(n_last=1, smoothing=1.0).fit(histories, 10)
    for last in range(10):
        assert model.recommend([last], k=1, exclude=[last]).tolist() == [(last + 1) % 10]
    model3 = MarkovChain(n_last=3, decay=0.5).fit(histories, 10)
    assert model3.recommend([2, 3, 4], k=1, exclude=[2, 3, 4]).tolist() == [5]


def test_markov_transition_probabilities_by_hand():
    # transitions: 0->1 twice, 0->2 once; popularity: 0 in 3 histories, 1 in 2, 2 in 1
    histories = [[0, 1], [0, 1], [0, 2]]
    model = MarkovChain(n_last=1, smoothing=2.0).fit(histories, 3)
    pi = np.array([3, 2, 1]) / 6
    expected = (np.array([0, 2, 1]) + 2.0 * pi) / (3 + 2.0)
    np.testing.assert_allclose(model.transition_[0], expected)
    np.testing.assert_allclose(model.transition_.sum(axis=1), 1.0)
    # item 2 was never followed by anything: its row is the popularity distribution
    np.testing.assert_allclose(model.transition_[2], pi)


def test_markov_state_weights_decay_from_the_most_recent_movie():
    model = MarkovChain(n_last=3, decay=0.5).fit(random_histories(), N_ITEMS)
    t = model.transition_
    np.testing.assert_allclose(model.score([9, 1, 4, 6]), 0.25 * t[1] + 0.5 * t[4] + t[6])


# ---------------------------------------------------------------------------------------------
# Parameter validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: UserKNN(n_neighbours=0), "n_neighbours must be a positive integer, got 0"),
        (lambda: ItemKNN(n_neighbours=2.5), "n_neighbours must be a positive integer or None"),
        (lambda: ItemKNN(shrink=-1.0), r"shrink must be a finite number >= 0, got -1\.0"),
        (lambda: ItemKNN(recency_decay=0.0), r"recency_decay must be .* in \(0, 1\], got 0\.0"),
        (
            lambda: ContentBased(recency_decay=1.5),
            r"recency_decay must be .* in \(0, 1\], got 1\.5",
        ),
        (lambda: ContentBased(title_weight=-1), r"title_weight must be .* >= 0, got -1"),
        (
            lambda: MatrixFactorization(reg=0.0),
            r"reg must be a finite number > 0, got 0\.0",
        ),
        (
            lambda: MatrixFactorization(n_factors=2.5),
            "n_factors must be a positive integer, got 2.5",
        ),
        (lambda: MatrixFactorization(n_iterations=0), "n_iterations must be a positive integer"),
        (lambda: MatrixFactorization(confidence=float("nan")), "confidence must be .*, got nan"),
        (lambda: MarkovChain(n_last=0), "n_last must be a positive integer, got 0"),
        (lambda: MarkovChain(decay=2), r"decay must be .* in \(0, 1\], got 2"),
        (lambda: MarkovChain(smoothing=-1), r"smoothing must be .* >= 0, got -1"),
    ],
)
def test_bad_parameters_raise_at_fit_naming_the_parameter(factory, message):
    model = factory()  # scikit-learn's convention: __init__ only stores, fit checks
    with pytest.raises(ValueError, match=message):
        model.check_params()
    with pytest.raises(ValueError, match=message):
        model.fit(random_histories(), N_ITEMS, catalog=small_catalog())
    assert model.popularity_ is None  # nothing was fitted


# ---------------------------------------------------------------------------------------------
# Parameters: get_params, set_params and repr from the __init__ signature
# ---------------------------------------------------------------------------------------------

#: The defaults of each model, as get_params returns them.
DEFAULT_PARAMS = {
    Popularity: {},
    ContentBased: {"genre_weight": 1.0, "title_weight": 0.5, "recency_decay": 0.5},
    UserKNN: {"n_neighbours": 20, "shrink": 0.0, "recency_decay": 0.85},
    ItemKNN: {"n_neighbours": None, "shrink": 0.0, "recency_decay": 0.5},
    MatrixFactorization: {
        "n_factors": 32,
        "reg": 1.0,
        "confidence": 40.0,
        "n_iterations": 10,
        "recency_decay": 0.8,
        "rng": 0,
    },  # fmt: skip
    MarkovChain: {"n_last": 3, "decay": 1.0, "smoothing": 10.0},
    Hybrid: {"components": None},
}


@pytest.mark.parametrize("cls", list(DEFAULT_PARAMS), ids=lambda c: c.__name__)
def test_get_params_are_the_init_arguments(cls):
    assert cls().get_params() == DEFAULT_PARAMS[cls]
    assert cls.param_names() == list(DEFAULT_PARAMS[cls])
    # what was given, unchanged (checking and converting is fit's job)
    given = {name: f"value of {name}" for name in DEFAULT_PARAMS[cls]}
    assert cls(**given).get_params() == given


def test_get_params_of_models_built_with_arguments():
    rng = np.random.default_rng(3)
    mf = MatrixFactorization(n_factors=4, reg=0.5, rng=rng)
    assert mf.get_params() == {"n_factors": 4, "reg": 0.5, "confidence": 40.0,
                               "n_iterations": 10, "recency_decay": 0.8, "rng": rng}  # fmt: skip
    assert MarkovChain(n_last=1, smoothing=2.0).get_params() == {
        "n_last": 1, "decay": 1.0, "smoothing": 2.0}  # fmt: skip
    components = [(Popularity(), 1.0)]
    assert Hybrid(components).get_params()["components"] is components


def test_set_params_changes_what_the_next_fit_uses():
    model = ItemKNN()
    assert model.set_params(n_neighbours=2, shrink=1.0) is model
    assert model.get_params() == {"n_neighbours": 2, "shrink": 1.0, "recency_decay": 0.5}
    fitted(model)
    assert ((model.similarity_ > 0).sum(axis=1) <= 2).all()  # two neighbours kept per item
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['n_neighbors'\] of ItemKNN"):
        model.set_params(n_neighbors=3)
    model.set_params(recency_decay=0.0)  # stored as given ...
    with pytest.raises(ValueError, match="recency_decay"):  # ... and refused at fit
        fitted(model)


def test_a_params_round_trip_rebuilds_an_equal_model():
    original = UserKNN(n_neighbours=3, shrink=2.0, recency_decay=0.9)
    clone = UserKNN(**original.get_params())
    query = [1, 2, 3]
    np.testing.assert_array_equal(fitted(original).score(query), fitted(clone).score(query))


@pytest.mark.parametrize(
    ("model", "text"),
    [
        (Popularity(), "Popularity()"),
        (ContentBased(), "ContentBased(genre_weight=1.0, title_weight=0.5, recency_decay=0.5)"),
        (UserKNN(), "UserKNN(n_neighbours=20, shrink=0.0, recency_decay=0.85)"),
        (ItemKNN(), "ItemKNN(n_neighbours=None, shrink=0.0, recency_decay=0.5)"),
        (MatrixFactorization(rng=np.random.default_rng(0)),  # the generator is not shown
         "MatrixFactorization(n_factors=32, reg=1.0, confidence=40.0, n_iterations=10, "
         "recency_decay=0.8)"),
        (Hybrid(), "Hybrid(components=[('Content-based', 0.1), ('Item-kNN', 0.9)])"),
        (Hybrid([(Popularity(), 0.3), (MarkovChain(n_last=1), 0.7)]),
         "Hybrid(components=[('Popularity', 0.3), ('Markov chain', 0.7)])"),
        (MarkovChain(), "MarkovChain(n_last=3, decay=1.0, smoothing=10.0)"),
        (ItemKNN(n_neighbours=5, shrink=2), "ItemKNN(n_neighbours=5, shrink=2, recency_decay=0.5)"),
    ],
)  # fmt: skip
def test_repr_shows_the_parameters_as_notebook_01_prints_them(model, text):
    assert repr(model) == text
    assert repr(fitted(model)) == text  # fitting changes no parameter


# ---------------------------------------------------------------------------------------------
# The explorer widget
# ---------------------------------------------------------------------------------------------


def widget_setup():
    from odsc_recsys.catalog import Catalog

    cat = small_catalog()
    catalog = Catalog(
        item_ids=np.arange(1, N_ITEMS + 1),
        titles=cat.titles,
        genres=[
            ("Comedy", "Drama", "Horror")[i * 3 // N_ITEMS : i * 3 // N_ITEMS + 1]
            for i in range(N_ITEMS)
        ],
        popularity=np.ones(N_ITEMS, dtype=np.int64),
    )
    histories = random_histories()
    models = {
        "Popularity": Popularity().fit(histories, N_ITEMS),
        "Item-kNN": ItemKNN().fit(histories, N_ITEMS),
    }
    return models, catalog, histories


def test_recommendation_table_lists_titles_and_genres_side_by_side():
    from odsc_recsys.widgets.classical import recommendation_table

    models, catalog, histories = widget_setup()
    table = recommendation_table(models, [0, 1], catalog, k=3)
    assert table.columns.tolist() == ["Popularity", "Item-kNN"]
    assert table.index.tolist() == [1, 2, 3]
    top = int(models["Popularity"].recommend([0, 1], 1, exclude=[0, 1])[0])
    assert table.loc[1, "Popularity"] == f"{catalog.titles[top]} [{catalog.genres[top][0]}]"
    # k larger than what is left: the rest of the column is blank
    wide = recommendation_table(models, list(range(10)), catalog, k=4)
    assert wide["Item-kNN"].tolist()[2:] == ["", ""]


def test_explorer_follows_the_user_and_the_typed_titles():
    from odsc_recsys.widgets.classical import classical_explorer, recommendation_table

    models, catalog, histories = widget_setup()
    ex = classical_explorer(models, catalog, histories, k=3)
    ex.show_user(5)
    np.testing.assert_array_equal(ex.history, histories[5])
    assert ex.table().equals(recommendation_table(models, histories[5], catalog, k=3))
    ex.title_box.value = catalog.titles[4]  # what picking from the autocomplete does
    ex.add_title("film7")  # the year may be left out; case does not matter
    assert ex.history.tolist() == [4, 7]
    assert ex.title_box.value == ""
    assert catalog.titles[4] in ex.output.value
    ex.clear()
    assert ex.history.size == 0 and "falls back to popularity" in ex.output.value
    with pytest.raises(ValueError, match="unknown user 999"):
        ex.show_user(999)
    assert ex._repr_mimebundle_()["text/plain"] == "ClassicalExplorer(2 models, 30 users, k=3)"
