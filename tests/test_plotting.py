"""Figure helpers draw what they promise: panels with titles, labelled axes and legends."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import subprocess  # noqa: E402
import sys  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from odsc_recsys import plotting  # noqa: E402
from odsc_recsys.catalog import Catalog  # noqa: E402
from odsc_recsys.state_space import growth_with_history, growth_with_items  # noqa: E402


def test_state_space_growth_has_three_labelled_panels():
    by_n = growth_with_items([10, 100, 627], history_length=3)
    by_n["per_genre_bytes"] = by_n["dense_bytes"] / 100
    by_k = growth_with_history(627, [1, 2, 3])
    fig = plotting.plot_state_space_growth(by_n, by_k, 627, real_genre_bytes=6e7)
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        assert ax.get_legend() is not None
    assert fig.axes[2].get_title() == "States vs history length (n = 627)"
    # memory panel: two curves and the real-genre star, with the 16 GB line
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels == ["one table, $^nC_3$ rows", "10 equal per-genre tables",
                      "the real 10 genres", "16 GB laptop"]  # fmt: skip
    plt.close(fig)


def test_projector_style_sets_a_legible_dpi_and_fonts():
    import json
    from pathlib import Path

    import matplotlib as mpl

    with mpl.rc_context():
        plt.rcParams.update({"figure.dpi": 72, "font.size": 8, "legend.fontsize": 6})
        plotting.use_projector_style()
        assert plt.rcParams["figure.dpi"] >= 110
        for key in ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize",
                    "ytick.labelsize", "legend.fontsize"):  # fmt: skip
            size = mpl.font_manager.FontProperties(size=plt.rcParams[key]).get_size_in_points()
            assert size >= 11, key
    # every notebook takes its style from the package and sets no dpi of its own
    for path in sorted(
        Path(__file__).resolve().parent.parent.glob("notebooks/[0-9][0-9]*_*.ipynb")
    ):
        code = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                       if c["cell_type"] == "code")  # fmt: skip
        assert "figure.dpi" not in code and "fontsize=" not in code, path.name
        if "plt." in code:
            assert "use_projector_style()" in code, path.name


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_reference_architecture_has_every_box_legibly():
    import matplotlib as mpl

    with mpl.rc_context():
        plotting.use_projector_style()
        ax = plotting.plot_reference_architecture()
    texts = _texts(ax)
    for word in ("request", "state", "sub-states", "per-genre", "merged list", "user",
                 "feedback", "Q-learning update", "history"):  # fmt: skip
        assert any(t.startswith(word) for t in texts), word
    assert min(t.get_fontsize() for t in ax.texts) >= 11
    assert (
        len(ax.patches) + len([c for c in ax.get_children() if type(c).__name__ == "Annotation"])
        >= 10
    )
    plt.close(ax.figure)


def test_state_decomposition_draws_state_substates_rows_and_the_merged_list():
    import numpy as np

    from odsc_recsys.qtables import GenreQTables

    # Drama: 0, 1, 3, 5 (4 singles + 6 pairs = 10 rows); Comedy: 2, 4; state (0, 2, 3) is scenario (b): Drama pair {0, 3}, Comedy {2}
    tables = GenreQTables(np.array([0, 0, 1, 0, 1, 0]), ["Drama", "Comedy"])
    titles = ["Alpha (1990)", "Beta (1991)", "Gamma (1992)", "Delta (1993)", "Eps (1994)",
              "Zeta (1995)"]  # fmt: skip
    pair, single = tables.decompose([0, 2, 3])
    tables.store.writable_row(pair.genre, pair.row)[[1, 5]] = [2.5, 1.25]
    tables.store.writable_row(single.genre, single.row)[4] = 3.0
    ax = plotting.plot_state_decomposition(tables, [0, 2, 3], titles, k=3, row_top=2)
    texts = _texts(ax)
    assert "Alpha\n[Drama]" in texts and "Gamma\n[Comedy]" in texts  # years dropped
    assert "Drama pair (nC2)\nAlpha\nDelta" in texts and "Comedy single (nC1)\nGamma" in texts
    assert f"Drama table, row {pair.row:,}\nof 10; best Q:\nBeta  2.50\nZeta  1.25" in texts
    # the merged list, best first, with its Q-values, in the colour of the proposing row
    assert [" 1. Eps", " 2. Beta", " 3. Zeta"] == [
        t for t in texts if t[:3] in (" 1.", " 2.", " 3.")
    ]
    assert ["3.00", "2.50", "1.25"] == [t for t in texts if t in ("3.00", "2.50", "1.25")]
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 20\], got 0"):
        plotting.plot_state_decomposition(tables, [0, 2, 3], titles, k=0)
    with pytest.raises(ValueError, match=r"row_top must be an integer in \[1, 5\], got 6"):
        plotting.plot_state_decomposition(tables, [0, 2, 3], titles, row_top=6)
    plt.close("all")


def test_hyperparameter_effects_show_the_spread_over_seeds():
    import pandas as pd

    from odsc_recsys.training import AS_PUBLISHED

    effects = pd.DataFrame({"parameter": ["alpha"] * 4 + ["gamma"] * 2,
                            "value": [0.1, 0.1, 0.8, 0.8, 0.4, 0.4], "seed": [0, 1] * 3,
                            "val_HR@10": [0.1, 0.3, 0.5, 0.5, 0.2, 0.4]})  # fmt: skip
    fig = plotting.plot_hyperparameter_effects(effects, AS_PUBLISHED)
    assert [ax.get_title() for ax in fig.axes] == ["alpha", "gamma"]
    assert "mean of 2 seeds" in fig.get_suptitle()
    line = fig.axes[0].lines[0]
    assert line.get_ydata().tolist() == pytest.approx([0.2, 0.5])
    plt.close(fig)


def test_stream_curves_and_q_before_after_are_labelled():
    import pandas as pd

    curve = pd.DataFrame({"seen": [10, 20, 30, 40], "epoch": [1, 1, 2, 2],
                          "hit_rate": [0.1, 0.2, 0.3, 0.3], "explored": [0.3] * 4})  # fmt: skip
    fig = plotting.plot_stream_curves({0.0: curve, 0.3: curve})
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "epsilon = 0",
        "epsilon = 0.3",
    ]
    # the second pass starts after 20 transitions: a dotted line on both panels
    for ax in fig.axes:
        assert [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == ":"] == [20]
    frame = pd.DataFrame({"movie": ["A very long title indeed (1999)", "B (2000)"],
                          "Q before": [1.0, 2.0], "Q after": [0.5, 3.0]})  # fmt: skip
    ax = plotting.plot_q_before_after(frame)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A very long title ind\u2026", "B"]
    plt.close("all")


def test_metric_bars_horizontal_names_each_model_once_top_down():
    import pandas as pd

    table = pd.DataFrame({"HR@10": [0.2, 0.1, 0.05], "coverage": [0.9, 1.0, 0.2]},
                         index=["Item-kNN", "Q-tables, tuned", "Popularity"])  # fmt: skip
    errors = pd.DataFrame({"HR@10": [(0.18, 0.22), (0.09, 0.11), (0.04, 0.06)]}, index=table.index)
    fig = plotting.plot_metric_bars(table, ("HR@10", "coverage"), errors=errors, horizontal=True)
    left = fig.axes[0]
    assert [t.get_text() for t in left.get_yticklabels()] == list(table.index)
    assert left.get_ylim()[0] > left.get_ylim()[1]  # the first model on top
    assert [p.get_width() for p in left.patches] == pytest.approx([0.2, 0.1, 0.05])
    assert [ax.get_title() for ax in fig.axes] == ["HR@10", "coverage"]
    plt.close(fig)


# ---- every public figure: a title, named axes, and exactly the data it was given ---------------


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def labelled(ax) -> bool:
    return bool(ax.get_title() and ax.get_xlabel() and ax.get_ylabel())


def test_importing_the_computing_modules_leaves_pyplot_unloaded():
    # pyplot picks a backend and registers figure managers on import: a module that only
    # computes (or only draws on request) must not pay for it, nor change the backend.
    code = (
        "import sys\n"
        "import odsc_recsys.limits, odsc_recsys.qlearning, odsc_recsys.sessions\n"
        "import odsc_recsys.plotting, odsc_recsys.gridworld, odsc_recsys.training\n"
        "import odsc_recsys.qtables, odsc_recsys.distributed, odsc_recsys.simulator\n"
        "from odsc_recsys.online import agent_colors\n"
        "colors = agent_colors(['b', 'a', 'b'])  # picks colours without drawing\n"
        "print('matplotlib.pyplot' in sys.modules, list(colors))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False ['a', 'b']"


def test_model_colors_hand_out_tab10_in_order_then_the_colormap_for_many():
    tab10, tab20 = matplotlib.colormaps["tab10"], matplotlib.colormaps["tab20"]
    few = plotting.model_colors(["z", 3, "a"])  # any labels, in the order given
    assert list(few) == ["z", 3, "a"]
    assert list(few.values()) == [tab10(0), tab10(1), tab10(2)]
    names = [f"m{i}" for i in range(12)]
    assert list(plotting.model_colors(names).values()) == [tab20(i) for i in range(12)]
    repeated = plotting.model_colors(iter(names), beyond_ten="tab10")
    assert list(repeated.values()) == [tab10(i % 10) for i in range(12)]
    assert repeated["m10"] == repeated["m0"]


def test_legend_below_lays_the_panels_out_above_one_figure_legend():
    fig, axes = plt.subplots(1, 2)
    for ax in axes:
        ax.plot([0, 1], label="a")
        ax.plot([1, 0], label="b")
    handles, _ = axes[0].get_legend_handles_labels()
    plotting.legend_below(fig, handles, ncols=2, bottom=0.2)
    assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in axes)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b"]
    fig.canvas.draw()  # two columns: both entries on one row
    rows = {round(t.get_window_extent().y0) for t in fig.legends[0].get_texts()}
    assert len(rows) == 1
    assert all(ax.get_position().y0 >= 0.2 for ax in axes)
    plt.close(fig)


def test_axes_or_new_draws_on_the_given_axes_or_opens_a_figure_of_the_size():
    fig, ax = plt.subplots()
    assert plotting.axes_or_new(ax) is ax
    assert plotting.axes_or_new(ax, (9, 9)).figure is fig  # the size is only for a new figure
    new = plotting.axes_or_new(None)
    assert new.figure is not fig and tuple(new.figure.get_size_inches()) == (6, 3.5)
    assert tuple(plotting.axes_or_new(None, (8, 4)).figure.get_size_inches()) == (8, 4)


def test_rating_distribution_counts_each_star_value():
    ratings = pd.DataFrame({"user_id": [1, 1, 2, 2, 2, 3], "rating": [5, 3, 3, 1, 3, 5]})
    ax = plotting.plot_rating_distribution(ratings)
    assert labelled(ax) and ax.get_title() == "Rating distribution"
    assert [p.get_height() for p in ax.patches] == [1, 3, 2]  # stars 1, 3 and 5
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "3", "5"]


def test_long_tail_sorts_the_counts_and_marks_the_top_cut():
    ax = plotting.plot_long_tail(np.array([1, 10, 4, 5]), top=2)
    assert labelled(ax)
    curve, cut = ax.lines
    assert curve.get_xdata().tolist() == [1, 2, 3, 4]
    assert curve.get_ydata().tolist() == [10, 5, 4, 1]
    assert cut.get_xdata()[0] == 2
    assert [t.get_text() for t in ax.texts] == ["top 2: 75% of ratings"]  # (10 + 5) / 20
    # no cut beyond the catalogue, nor when none is asked for
    assert len(plotting.plot_long_tail(np.array([3, 1]), top=5).lines) == 1
    assert len(plotting.plot_long_tail(np.array([3, 1]), top=None).lines) == 1


def test_genre_counts_puts_the_largest_genre_on_top():
    ax = plotting.plot_genre_counts({"Drama": 7, "Comedy": 2, "War": 4}, title="Genres")
    assert ax.get_title() == "Genres" and ax.get_xlabel() == "movies"
    # genres are named by the tick labels, bottom to top in increasing count
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Comedy", "War", "Drama"]
    assert [p.get_width() for p in ax.patches] == [2, 4, 7]


def test_user_activity_histogram_counts_the_users_between_the_extremes():
    per_user = [20, 20, 30, 50, 100, 400]
    ratings = pd.DataFrame({"user_id": np.repeat(np.arange(len(per_user)), per_user)})
    ax = plotting.plot_user_activity(ratings)
    assert labelled(ax) and ax.get_xscale() == "log"
    heights = np.array([p.get_height() for p in ax.patches])
    lefts = np.array([p.get_x() for p in ax.patches])
    assert len(heights) == 29  # 30 log-spaced edges from the least to the most active user
    assert lefts[0] == pytest.approx(20) and lefts[-1] + ax.patches[
        -1
    ].get_width() == pytest.approx(400)
    for count in (30, 50, 100):  # one user each, in the bin that holds the count
        assert heights[np.flatnonzero(lefts <= count)[-1]] == 1
    assert [t.get_text() for t in ax.get_xticklabels()] == ["20", "50", "100", "200"]


def test_user_activity_histogram_counts_the_least_and_most_active_users():
    per_user = [20, 20, 30, 50, 100, 400]
    ratings = pd.DataFrame({"user_id": np.repeat(np.arange(len(per_user)), per_user)})
    ax = plotting.plot_user_activity(ratings)
    assert sum(p.get_height() for p in ax.patches) == len(per_user)


def test_sparsity_draws_each_filled_cell_and_the_density():
    matrix = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 1, 1]]))
    ax = plotting.plot_sparsity(matrix)
    assert labelled(ax) and ax.get_title() == "User-item matrix: 37.5% filled"
    (points,) = ax.collections
    # x is the movie (column), y the user (row), users top down
    assert sorted(map(tuple, points.get_offsets().tolist())) == [(0, 0), (2, 1), (3, 1)]
    assert ax.get_ylim() == (2, 0) and ax.get_xlim() == (0, 4)


MODELS = ["Popularity", "Item-kNN", "Q-tables"]


def test_metric_bars_draw_each_models_value_with_its_interval():
    table = pd.DataFrame({"HR@10": [0.2, 0.1, 0.4], "MRR": [0.05, 0.02, 0.1],
                          "extra": [1.0, 1.0, 1.0]}, index=MODELS)  # fmt: skip
    errors = pd.DataFrame({"HR@10": [(0.1, 0.25), (0.05, 0.2), (0.3, 0.5)]}, index=MODELS)
    fig = plotting.plot_metric_bars(table, ("HR@10", "MRR", "absent"), errors=errors, ncols=4)
    hr, mrr = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["HR@10", "MRR"]  # the title names the values
    assert [p.get_height() for p in hr.patches] == pytest.approx([0.2, 0.1, 0.4])
    assert [p.get_height() for p in mrr.patches] == pytest.approx([0.05, 0.02, 0.1])
    assert [t.get_text() for t in hr.get_xticklabels()] == MODELS  # models name the x axis
    # the error bars run from each low to each high bound; MRR has none
    (bars,) = hr.collections
    spans = sorted(
        (round(float(y[0][1]), 9), round(float(y[1][1]), 9)) for y in bars.get_segments()
    )
    assert spans == [(0.05, 0.2), (0.1, 0.25), (0.3, 0.5)]
    assert not mrr.collections
    # tab10 in the table's order: one colour per model, the same in every panel
    tab10 = plt.get_cmap("tab10")
    assert [p.get_facecolor() for p in hr.patches] == [tab10(i) for i in range(3)]


def test_metric_bars_hide_the_panels_the_last_row_leaves_empty():
    table = pd.DataFrame({m: [0.1, 0.2] for m in ("a", "b", "c")}, index=["x", "y"])
    fig = plotting.plot_metric_bars(table, ("a", "b", "c"), ncols=2)
    assert len(fig.axes) == 4 and [ax.get_visible() for ax in fig.axes] == [True] * 3 + [False]
    fig = plotting.plot_metric_bars(table, ("a", "b", "c"), labels={"b": "the b metric"},
                                    colors={"x": "red", "y": "blue"})  # fmt: skip
    assert [ax.get_title() for ax in fig.axes] == ["a", "the b metric", "c"]
    assert [p.get_facecolor() for p in fig.axes[0].patches] == [(1, 0, 0, 1), (0, 0, 1, 1)]


def summary_by_hand() -> pd.DataFrame:
    """``online.summarise``'s shape: index (setting, agent), columns (metric, statistic)."""
    index = pd.MultiIndex.from_tuples(
        [("drift", "Q-learning"), ("drift", "random"), ("static", "Q-learning"),
         ("static", "random")], names=["setting", "agent"])  # fmt: skip
    columns = pd.MultiIndex.from_product([["ctr", "reward"], ["mean", "low", "high"]])
    rows = [[0.3, 0.2, 0.4, 3.0, 2.0, 4.0], [0.1, 0.0, 0.2, 1.0, 0.5, 1.5],
            [0.5, 0.4, 0.6, 5.0, 4.0, 6.0], [0.2, 0.1, 0.3, 2.0, 1.0, 3.0]]  # fmt: skip
    return pd.DataFrame(rows, index=index, columns=columns)


def test_metric_bars_group_the_settings_of_a_summary_side_by_side():
    fig = plotting.plot_metric_bars(summary_by_hand(), ["ctr", "reward"], ncols=2,
                                    labels={"ctr": "click-through rate"})  # fmt: skip
    ctr, reward = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["click-through rate", "reward"]
    # one bar per (setting, agent): settings in the table's order, agents within each
    assert [p.get_height() for p in ctr.patches] == pytest.approx([0.3, 0.1, 0.5, 0.2])
    assert [p.get_height() for p in reward.patches] == pytest.approx([3.0, 1.0, 5.0, 2.0])
    centres = [p.get_x() + p.get_width() / 2 for p in ctr.patches]
    assert centres == pytest.approx([-0.2, 0.8, 0.2, 1.2])  # settings 0.4 apart around each agent
    assert [p.get_hatch() for p in ctr.patches] == ["", "", "//", "//"]
    assert [t.get_text() for t in ctr.get_xticklabels()] == ["Q-learning", "random"]
    # the same agent has the same colour in both settings
    assert ctr.patches[0].get_facecolor() == ctr.patches[2].get_facecolor()
    assert ctr.patches[0].get_facecolor() != ctr.patches[1].get_facecolor()
    # the intervals become the error bars: ctr of (drift, Q-learning) runs from 0.2 to 0.4
    spans = sorted((round(float(s[0][1]), 6), round(float(s[1][1]), 6))
                   for c in ctr.collections for s in c.get_segments())  # fmt: skip
    assert spans == [(0.0, 0.2), (0.1, 0.3), (0.2, 0.4), (0.4, 0.6)]
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["drift", "static"]


def test_metric_bars_refuse_what_they_cannot_draw():
    table = pd.DataFrame({"HR@10": [0.1]}, index=["m"])
    with pytest.raises(ValueError, match="ncols must be a positive integer, got 0"):
        plotting.plot_metric_bars(table, ncols=0)
    with pytest.raises(ValueError, match="none of the metrics"):
        plotting.plot_metric_bars(table, ("MRR",))
    with pytest.raises(ValueError, match="errors must be None"):
        plotting.plot_metric_bars(summary_by_hand(), ["ctr"], errors=table)
    odd = pd.DataFrame([[1.0]], columns=pd.MultiIndex.from_tuples([("ctr", "median")]))
    with pytest.raises(ValueError, match="'mean' | 'low' | 'high'"):
        plotting.plot_metric_bars(odd, ["ctr"])


def test_catalog_frame_names_each_movies_primary_genre():
    catalog = Catalog(item_ids=np.array([10, 20, 30]), titles=["A (1990)", "B (1991)", "C (1992)"],
                      genres=[("Drama",), ("Comedy", "Drama"), ("War",)],
                      popularity=np.array([5, 3, 1]))  # fmt: skip
    frame = plotting.catalog_frame(catalog, np.array([0, 1, 2]), ["Drama", "Comedy", "War"], n=2)
    assert frame["title"].tolist() == ["A (1990)", "B (1991)"]
    assert frame["primary genre"].tolist() == ["Drama", "Comedy"]


def test_state_space_growth_plots_the_counts_it_is_given():
    by_n = growth_with_items([10, 100], history_length=3)
    by_n["per_genre_bytes"] = [1.0, 2.0]
    by_k = growth_with_history(100, [1, 2])
    fig = plotting.plot_state_space_growth(by_n, by_k, 100, real_genre_bytes=5.0)
    states, memory, history = fig.axes
    assert states.lines[0].get_ydata().tolist() == by_n.ordered_states.tolist()
    assert states.lines[1].get_ydata().tolist() == [120, 161700]  # 10C3 and 100C3
    assert memory.lines[1].get_ydata().tolist() == [1.0, 2.0]
    assert memory.lines[2].get_ydata().tolist() == [5.0]  # the star
    assert history.lines[1].get_ydata().tolist() == [100, 4950]  # 100C1, 100C2


def test_q_before_after_draws_both_values_of_each_movie():
    frame = pd.DataFrame({"movie": ["A (1999)", "B (2000)"], "Q before": [1.0, 2.0],
                          "Q after": [0.5, 3.0]})  # fmt: skip
    ax = plotting.plot_q_before_after(frame)
    assert ax.get_title() and ax.get_ylabel() == "merged Q-value"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B"]  # the movies name x
    assert [p.get_height() for p in ax.patches] == [1.0, 2.0, 0.5, 3.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["before the step",
                                                                   "after the step"]  # fmt: skip


def test_stream_curves_plot_each_epsilons_rates():
    fast = pd.DataFrame({"seen": [10, 20], "epoch": [1, 1], "hit_rate": [0.1, 0.2],
                         "explored": [0.0, 0.0]})  # fmt: skip
    slow = fast.assign(hit_rate=[0.05, 0.1], explored=[0.3, 0.25])
    fig = plotting.plot_stream_curves({0.0: fast, 0.3: slow})
    exploit, explore = fig.axes
    assert labelled(exploit) and labelled(explore)
    assert [line.get_ydata().tolist() for line in exploit.lines] == [[0.1, 0.2], [0.05, 0.1]]
    assert [line.get_ydata().tolist() for line in explore.lines] == [[0.0, 0.0], [0.3, 0.25]]
    assert all(line.get_xdata().tolist() == [10, 20] for line in exploit.lines)


def test_hyperparameter_effects_name_every_axis():
    from odsc_recsys.training import AS_PUBLISHED

    effects = pd.DataFrame({"parameter": ["alpha", "alpha", "gamma"], "value": [0.1, 0.8, 0.4],
                            "val_HR@10": [0.1, 0.5, 0.2]})  # fmt: skip
    fig = plotting.plot_hyperparameter_effects(effects, AS_PUBLISHED, reference_label="here")
    alpha, gamma = fig.axes
    assert alpha.get_ylabel() == "validation HR@10"  # shared by the panels in a row
    assert [ax.get_xlabel() for ax in fig.axes] == ["alpha", "gamma"]
    assert "mean of 1 seeds" in fig.get_suptitle() and "(dotted: here)" in fig.get_suptitle()
    assert alpha.lines[0].get_ydata().tolist() == [0.1, 0.5]
    # the dotted line sits at the reference configuration's value
    assert [ln.get_xdata()[0] for ln in gamma.lines if ln.get_linestyle() == ":"] == [0.4]
