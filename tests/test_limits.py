"""Tests of the limit-measuring helpers on small synthetic data with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from odsc_recsys.catalog import Catalog
from odsc_recsys.classical import ItemKNN, MarkovChain, Popularity
from odsc_recsys.limits import (
    accuracy_by_activity,
    accuracy_by_group,
    density,
    genre_mix,
    history_timestamps,
    hold_out_users,
    list_overlap,
    new_user_curve,
    popularity_bias,
    random_interactions,
    remove_items,
    repeat_visits,
    stale_vs_fresh,
    target_ranks_full,
    taste_drift,
    time_item_similarity,
    top_items,
    user_typicality,
)
from odsc_recsys.sessions import Transitions


def two_genre_catalog(n_items: int = 6) -> Catalog:
    """Items 0..n/2-1 are Comedy, the rest Drama."""
    half = n_items // 2
    return Catalog(
        item_ids=np.arange(1, n_items + 1),
        titles=[f"Movie {i} (1990)" for i in range(n_items)],
        genres=[("Comedy",) if i < half else ("Drama",) for i in range(n_items)],
        popularity=np.ones(n_items, dtype=np.int64),
    )


def transitions(users, targets, positions=None) -> Transitions:
    users = np.asarray(users)
    n = users.size
    positions = np.arange(3, 3 + n) if positions is None else np.asarray(positions)
    return Transitions(users, np.zeros((n, 3), dtype=np.int64), np.asarray(targets), positions)


# --------------------------------------------------------------------------------------------
# Cold start
# --------------------------------------------------------------------------------------------


def test_hold_out_users_gives_disjoint_parts_of_the_right_size():
    histories = {u: np.array([u % 5]) for u in range(50)}
    known, new = hold_out_users(histories, 0.2, np.random.default_rng(0))
    assert len(new) == 10 and len(known) == 40
    assert not set(known) & set(new)
    assert set(known) | set(new) == set(histories)


def test_new_user_curve_markov_needs_one_movie_popularity_never_learns():
    cycle = np.arange(8)
    train = [np.roll(cycle, -s) for s in range(8)] * 3  # everyone follows 0 -> 1 -> ... -> 7
    new = {100 + s: np.roll(cycle, -s) for s in range(8)}
    models = {
        "pop": Popularity().fit(train, 8),
        "markov": MarkovChain(n_last=1, smoothing=0.0).fit(train, 8),
    }
    curve = new_user_curve(models, new, n_known=(0, 1, 3), target_positions=(4, 5), k=1)
    # With nothing known both fall back to popularity (all tied -> item 0): for each target
    # position exactly one of the 8 rotations has item 0 there.
    assert curve.loc[0].tolist() == [0.125, 0.125]
    assert curve.loc[1, "markov"] == 1.0 and curve.loc[3, "markov"] == 1.0
    # Knowing one movie m, popularity says 0 (or 1 if m is 0); the target is m + 1 (mod 8), so
    # it hits when m is 7 or m is 0: 2 of the 8 rotations.
    assert curve.loc[1, "pop"] == 0.25
    assert curve.attrs["n_users"] == 8 and curve.attrs["n_targets"] == 16


def test_new_user_curve_checks_its_arguments():
    pop = {"pop": Popularity().fit([[0, 1]], 2)}
    with pytest.raises(ValueError, match="no new user has more than 22 movies"):
        new_user_curve(pop, {1: np.array([0, 1])})
    with pytest.raises(ValueError, match="every target position must have 20 movies before it"):
        new_user_curve(pop, {1: np.arange(30) % 2}, target_positions=(10,))


def test_remove_items_deletes_only_those_items():
    out = remove_items({2: np.array([0, 1, 2, 3]), 1: np.array([3, 3, 1])}, [3, 0])
    assert list(out) == [1, 2]
    np.testing.assert_array_equal(out[1], [1])
    np.testing.assert_array_equal(out[2], [1, 2])


def test_target_ranks_full_uses_mid_ranks_for_ties_and_skips_the_history():
    model = Popularity().fit([[0, 1, 2], [0, 1], [0]], 6)  # scores 3, 2, 1, 0, 0, 0
    histories = {1: np.array([0, 3, 1, 4])}
    trans = Transitions(
        np.array([1, 1]), np.zeros((2, 3), dtype=np.int64), np.array([1, 4]), np.array([2, 3])
    )
    # target 1 after [0, 3]: eligible 1, 2, 4, 5 -> item 1 has the top score -> rank 1
    # target 4 after [0, 3, 1]: eligible 2 (score 1), 4, 5 (both 0) -> ranks 2-3 -> mid-rank 2.5
    np.testing.assert_allclose(target_ranks_full(model, trans, histories), [1.0, 2.5])


# --------------------------------------------------------------------------------------------
# Sparsity
# --------------------------------------------------------------------------------------------


def test_density_is_filled_cells_over_all_cells():
    assert density({1: np.array([0, 1]), 2: np.array([1])}, 4) == pytest.approx(3 / 8)


def test_accuracy_by_activity_groups_hits_by_training_length():
    train = {1: np.arange(10), 2: np.arange(30), 3: np.arange(40)}
    trans = transitions([1, 1, 2, 3], targets=[5, 6, 7, 8])
    lists = {"m": np.array([[5, 0], [1, 2], [7, 1], [0, 1]])}  # hits: yes, no, yes, no
    out = accuracy_by_activity(lists, trans, train, bins=(0, 20, 50))
    assert out.index.tolist() == ["1-20", "21-50"]
    assert out["m"].tolist() == [0.5, 0.5]
    assert out["users"].tolist() == [1, 2]
    assert out["transitions"].tolist() == [2, 2]


def test_accuracy_by_activity_keeps_the_bins_in_numeric_order_and_drops_empty_ones():
    # As text "21-100" sorts before "6-20": the rows must follow the bins, not their labels.
    train = {1: np.arange(3), 2: np.arange(10), 3: np.arange(50)}
    trans = transitions([3, 2, 1, 3], targets=[1, 1, 1, 1])
    lists = {"m": np.array([[1], [0], [1], [0]])}  # hits: yes, no, yes, no
    out = accuracy_by_activity(lists, trans, train, bins=(0, 5, 20, 100, 500))
    assert out.index.tolist() == ["1-5", "6-20", "21-100"]  # nobody has 101-500 movies
    assert out.index.name == "training movies"
    assert out["m"].tolist() == [1.0, 0.0, 0.5]
    assert out["transitions"].tolist() == [1, 1, 2]
    assert out.columns.tolist() == ["users", "transitions", "m"]


# --------------------------------------------------------------------------------------------
# Popularity bias
# --------------------------------------------------------------------------------------------


def test_top_items_takes_the_ceiling_and_breaks_ties_by_index():
    mask = top_items(np.array([5, 9, 9, 1, 0, 0, 0, 0, 0, 0, 0]), frac=0.1)  # ceil(1.1) = 2
    assert np.flatnonzero(mask).tolist() == [1, 2]
    with pytest.raises(ValueError, match="frac must be in"):
        top_items(np.ones(3), frac=1.5)


def test_popularity_bias_counts_slots_going_to_top_items():
    popularity = np.arange(10)[::-1]  # item 0 most popular; top 10% = {0}
    lists = {"a": np.array([[0, 5], [0, -1]]), "b": np.array([[3, 4], [5, 6]])}
    out = popularity_bias(lists, popularity, targets=np.array([0, 2, 3, 4]), frac=0.1)
    assert out.loc["a", "share to top items"] == pytest.approx(2 / 3)  # the pad is not a slot
    assert out.loc["b", "share to top items"] == 0.0
    assert out.loc["actual next movies", "share to top items"] == 0.25
    assert out.attrs["catalogue share"] == 0.1


# --------------------------------------------------------------------------------------------
# Grey sheep
# --------------------------------------------------------------------------------------------


def test_user_typicality_finds_the_user_like_nobody_else():
    train = {
        1: np.array([0, 1, 2]),
        2: np.array([0, 1, 2]),
        3: np.array([0, 1]),
        4: np.array([5, 6]),
    }
    typ = user_typicality(train, 7, n_neighbours=1)
    assert typ.index.tolist() == [1, 2, 3, 4]
    np.testing.assert_allclose(typ.to_numpy(), [1.0, 1.0, 2 / np.sqrt(6), 0.0])
    assert typ.idxmin() == 4


def test_user_typicality_averages_every_other_user_when_asked_for_more():
    train = {1: np.array([0, 1, 2]), 2: np.array([0, 1, 2]), 3: np.array([0, 1]),
             4: np.array([5, 6])}  # fmt: skip
    typ = user_typicality(train, 7, n_neighbours=10)  # only three others each
    c = 2 / np.sqrt(6)  # cosine of {0, 1, 2} and {0, 1}
    np.testing.assert_allclose(typ.to_numpy(), [(1 + c) / 3, (1 + c) / 3, 2 * c / 3, 0.0])
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="n_neighbours must be a positive integer"):
            user_typicality(train, 7, n_neighbours=bad)


def test_accuracy_by_group():
    trans = transitions([1, 2, 2, 3], targets=[1, 1, 1, 1])
    lists = {"m": np.array([[1], [0], [1], [1]])}
    groups = pd.Series({1: "grey", 2: "typical", 3: "typical"})
    out = accuracy_by_group(lists, trans, groups)
    assert out.loc["grey", "m"] == 1.0
    assert out.loc["typical", "m"] == pytest.approx(2 / 3)
    assert out.loc["typical", "users"] == 2
    assert out.index.name == "group" and out.index.tolist() == ["grey", "typical"]
    with pytest.raises(ValueError, match="user 3 of the transitions has no group"):
        accuracy_by_group(lists, trans, groups.drop(3))


# --------------------------------------------------------------------------------------------
# Static recommendations
# --------------------------------------------------------------------------------------------


def test_list_overlap_compares_consecutive_lists_of_the_same_user():
    trans = transitions([1, 1, 1, 2], targets=[0, 0, 0, 0], positions=[3, 4, 6, 3])
    lists = {"m": np.array([[1, 2], [2, 3], [9, 8], [2, 3]])}
    # pairs: (0,1) consecutive, (1,2) gap in positions, (2,3) other user -> only one pair
    assert list_overlap(lists, trans)["m"] == 0.5


def test_repeat_visits_of_a_classical_model_are_identical():
    model = ItemKNN().fit([[0, 1, 2], [1, 2, 3], [2, 3, 4]], 6)
    visits = repeat_visits(model, [0, 1], n_visits=4, k=3)
    assert visits.shape == (4, 3)
    assert (visits == visits[0]).all()


# --------------------------------------------------------------------------------------------
# Changing data and taste
# --------------------------------------------------------------------------------------------


def test_genre_mix_pools_early_and_late_halves():
    catalog = two_genre_catalog()
    histories = {1: np.array([0, 1, 3, 4]), 2: np.array([0, 3, 4, 5])}
    out = genre_mix(histories, catalog, frac=0.5, min_len=4)
    # early watches 0, 1, 0, 3 -> 3/4 comedy; late 3, 4, 4, 5 -> all drama
    assert out.loc["Comedy", "early"] == 0.75 and out.loc["Drama", "late"] == 1.0
    assert out.loc["Comedy", "change"] == -0.75
    assert out.attrs["n_users"] == 2


def test_taste_drift_is_total_variation_and_compares_with_a_shuffle():
    catalog = two_genre_catalog()
    histories = {7: np.array([0, 1, 2, 0, 3, 4, 5, 3]), 8: np.array([0, 1])}
    out = taste_drift(histories, catalog, np.random.default_rng(0), min_len=4)
    assert out.index.tolist() == [7]  # user 8 is too short
    assert out.loc[7, "drift"] == 1.0  # all comedy, then all drama
    assert out.loc[7, "shuffled"] < 1.0


def test_history_timestamps_align_with_histories():
    catalog = two_genre_catalog()
    ratings = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2],
            "item_id": [3, 1, 99, 2],
            "rating": 4,
            "timestamp": [30, 10, 5, 7],
        }
    )
    histories = {1: np.array([0, 2]), 2: np.array([1])}  # item 99 is not in the catalogue
    ts = history_timestamps(ratings, catalog, histories)
    np.testing.assert_array_equal(ts[1], [10, 30])
    np.testing.assert_array_equal(ts[2], [7])
    with pytest.raises(ValueError, match="user 2: 1 ratings in the catalogue but a history of 2"):
        history_timestamps(ratings, catalog, {1: np.array([0, 2]), 2: np.array([1, 1])})


def test_a_stale_model_misses_what_became_popular():
    # Three early users watch 0, 1, 2, 3 before time 100. From time 100 on, a new user arrives
    # every 10 time units and watches 0, 1, 2, then the new hit, movie 9.
    histories = {u: np.array([0, 1, 2, 3]) for u in range(3)}
    timestamps = {u: np.arange(4) + 10 * u for u in range(3)}
    for j in range(20):
        histories[10 + j] = np.array([0, 1, 2, 9])
        timestamps[10 + j] = 100 + 10 * j + np.arange(4)
    out = stale_vs_fresh(
        Popularity, histories, timestamps, train_end=100, period_edges=[100, 150, 300],
        n_items=10, rng=np.random.default_rng(0), k=1,
    )  # fmt: skip
    assert out.index.tolist() == [100, 150]
    assert out["transitions"].tolist() == [5, 15]  # targets at 103, 113, ..., 293
    # Before 100 both models know only 0-3: after 0, 1, 2 they say 3. By time 150 the fresh one
    # has seen five users pick 9 (more than the three who picked 3); the stale one never will.
    assert out["stale HR@1"].tolist() == [0.0, 0.0]
    assert out["fresh HR@1"].tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="period_edges must be increasing"):
        stale_vs_fresh(
            Popularity, histories, timestamps, 100, [90, 120], 10, np.random.default_rng(0)
        )


# --------------------------------------------------------------------------------------------
# Scalability
# --------------------------------------------------------------------------------------------


def test_random_interactions_have_the_requested_row_counts():
    x = random_interactions(30, 50, 7, np.random.default_rng(0))
    assert x.shape == (30, 50)
    np.testing.assert_array_equal(np.asarray(x.sum(axis=1)).ravel(), 7)


def test_time_item_similarity_reports_each_size():
    out = time_item_similarity(
        [20, 40], np.random.default_rng(0), n_users=30, density=0.2, repeats=1
    )
    assert out.index.tolist() == [20, 40]
    assert (out["seconds"] > 0).all()
    assert out.loc[40, "similarity MB"] == pytest.approx(40 * 40 * 8 / 1e6)


# --------------------------------------------------------------------------------------------
# Figures: each draws exactly the numbers it is given
# --------------------------------------------------------------------------------------------

MODELS = ["Popularity", "Item-kNN", "Markov chain"]


def _bar_heights(ax) -> list[float]:
    return [round(p.get_height(), 6) for p in ax.patches]


def test_plot_new_user_curve_draws_one_labelled_line_per_model():
    import matplotlib.pyplot as plt

    from odsc_recsys.limits import plot_new_user_curve

    curve = pd.DataFrame({"Popularity": [0.1, 0.1, 0.12], "Item-kNN": [0.1, 0.2, 0.25]},
                         index=pd.Index([0, 1, 20], name="movies known"))  # fmt: skip
    ax = plot_new_user_curve(curve)
    assert [line.get_label() for line in ax.get_lines()] == ["Popularity", "Item-kNN"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [0.1, 0.2, 0.25])
    assert list(ax.get_xticks()) == [0, 1, 20]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
    plt.close("all")


def test_plot_new_movie_ranks_draws_the_median_ranks():
    import matplotlib.pyplot as plt

    from odsc_recsys.limits import plot_new_movie_ranks

    table = pd.DataFrame({"median rank": [467.0, 127.5]}, index=["Item-kNN", "Content-based"])
    ax = plot_new_movie_ranks(table)
    assert [round(p.get_width(), 1) for p in ax.patches] == [467.0, 127.5]
    plt.close("all")


def test_plot_accuracy_by_activity_divides_by_popularity_and_shares_one_legend():
    import matplotlib.pyplot as plt

    from odsc_recsys.limits import plot_accuracy_by_activity

    activity = pd.DataFrame({"users": [3, 4], "Popularity": [0.1, 0.05], "Item-kNN": [0.3, 0.2],
                             "Markov chain": [0.2, 0.05]}, index=["1-25", "26-50"])  # fmt: skip
    fig = plot_accuracy_by_activity(activity, MODELS)
    left, right = fig.axes
    # bars are drawn model by model: Popularity's two groups, then Item-kNN's, then the chain's
    assert _bar_heights(left) == [0.1, 0.05, 0.3, 0.2, 0.2, 0.05]
    assert _bar_heights(right) == [1.0, 1.0, 3.0, 4.0, 2.0, 1.0]
    assert left.get_legend() is None and right.get_legend() is None
    assert [t.get_text() for t in fig.legends[0].get_texts()] == MODELS
    with pytest.raises(ValueError, match="relative to 'Popularity'"):
        plot_accuracy_by_activity(activity, ["Item-kNN"])
    plt.close("all")


def test_plot_popularity_bias_marks_the_real_share_and_names_the_cut():
    import matplotlib.pyplot as plt

    from odsc_recsys.limits import plot_popularity_bias

    lists = {"a": np.array([[0, 5], [0, -1]]), "b": np.array([[3, 4], [5, 6]])}
    bias = popularity_bias(lists, np.arange(10)[::-1], targets=np.array([0, 2, 3, 4]), frac=0.1)
    ax = plot_popularity_bias(bias)
    assert _bar_heights(ax) == [round(2 / 3, 6), 0.0, 0.25]
    assert ax.patches[2].get_facecolor() != ax.patches[0].get_facecolor()  # the real share
    assert ax.get_lines()[0].get_ydata()[0] == pytest.approx(0.1)
    assert "top 10%" in ax.get_title()
    plt.close("all")


def test_plot_grey_sheep_counts_every_user_and_splits_quintile_labels():
    import matplotlib.pyplot as plt

    from odsc_recsys.limits import plot_grey_sheep

    typicality = pd.Series(np.linspace(0.2, 0.7, 50))
    by_quintile = pd.DataFrame({"Popularity": [0.1, 0.2], "Item-kNN": [0.3, 0.4],
                                "Markov chain": [0.2, 0.3]},
                               index=["1 (least typical)", "5 (most typical)"])  # fmt: skip
    fig = plot_grey_sheep(typicality, 0.25, by_quintile, MODELS)
    hist, bars = fig.axes
    assert sum(p.get_height() for p in hist.patches) == 50
    assert hist.get_lines()[0].get_xdata()[0] == 0.25
    assert [t.get_text() for t in bars.get_xticklabels()] == [
        "1\n(least typical)",
        "5\n(most typical)",
    ]
    assert _bar_heights(bars) == [0.1, 0.2, 0.3, 0.4, 0.2, 0.3]
    plt.close("all")


def test_plot_list_overlap_draws_the_shares_and_the_skip_line():
    import matplotlib.pyplot as plt

    from odsc_recsys.limits import plot_list_overlap

    ax = plot_list_overlap(pd.Series({"Popularity": 0.99, "Item-kNN": 0.53}))
    assert _bar_heights(ax) == [0.99, 0.53]
    assert ax.get_lines()[0].get_ydata()[0] == 1.0
    assert len(ax.get_legend().get_texts()) == 2
    plt.close("all")


def test_plot_taste_drift_pairs_the_halves_and_the_two_histograms():
    import matplotlib.pyplot as plt

    from odsc_recsys.limits import plot_taste_drift

    mix = pd.DataFrame({"early": [0.6, 0.4], "late": [0.5, 0.5], "change": [-0.1, 0.1]},
                       index=["Comedy", "Drama"])  # fmt: skip
    drift = pd.DataFrame({"drift": [0.1, 0.3, 0.5], "shuffled": [0.1, 0.2, 0.2]})
    fig = plot_taste_drift(mix, drift)
    halves, hists = fig.axes
    assert _bar_heights(halves) == [0.6, 0.4, 0.5, 0.5]
    assert [t.get_text() for t in halves.get_legend().get_texts()] == ["first half", "second half"]
    assert sum(p.get_height() for p in hists.patches) == 6  # three users, two histograms
    plt.close("all")


def test_plot_staleness_draws_a_solid_fresh_and_a_dashed_frozen_line_per_model():
    import matplotlib.pyplot as plt

    from odsc_recsys.limits import plot_staleness

    staleness = pd.concat({
        "Popularity": pd.DataFrame({"stale HR@10": [0.09, 0.07], "fresh HR@10": [0.09, 0.08]}),
        "Item-kNN": pd.DataFrame({"stale HR@10": [0.19, 0.18], "fresh HR@10": [0.19, 0.22]}),
    }, axis=1)  # fmt: skip
    staleness.index = ["Dec 1997", "Jan 1998"]
    ax = plot_staleness(staleness, frozen_on="1 Dec 1997")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == [
        "Popularity, retrained monthly", "Popularity, frozen on 1 Dec 1997",
        "Item-kNN, retrained monthly", "Item-kNN, frozen on 1 Dec 1997"]  # fmt: skip
    assert [line.get_linestyle() for line in lines] == ["-", "--", "-", "--"]
    np.testing.assert_allclose(lines[3].get_ydata(), [0.19, 0.18])
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    plt.close("all")
