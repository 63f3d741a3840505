"""Figure helpers draw what they promise: panels with titles, labelled axes and legends."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from odsc_recsys import plotting  # noqa: E402
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
    for path in sorted(Path(__file__).resolve().parent.parent.glob("notebooks/[0-9][0-9]*_*.ipynb")):
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
    assert len(ax.patches) + len([c for c in ax.get_children() if type(c).__name__ == "Annotation"]) >= 10
    plt.close(ax.figure)


def test_state_decomposition_draws_state_substates_rows_and_the_merged_list():
    import numpy as np

    from odsc_recsys.multi_table import GenreQTables

    # Drama: 0, 1, 3, 5 (4 singles + 6 pairs = 10 rows); Comedy: 2, 4; state (0, 2, 3) is scenario (b): Drama pair {0, 3}, Comedy {2}
    tables = GenreQTables(np.array([0, 0, 1, 0, 1, 0]), ["Drama", "Comedy"])
    titles = ["Alpha (1990)", "Beta (1991)", "Gamma (1992)", "Delta (1993)", "Eps (1994)",
              "Zeta (1995)"]  # fmt: skip
    pair, single = tables.decompose([0, 2, 3])
    tables._store.writable_row(pair.genre, pair.row)[[1, 5]] = [2.5, 1.25]
    tables._store.writable_row(single.genre, single.row)[4] = 3.0
    ax = plotting.plot_state_decomposition(tables, [0, 2, 3], titles, k=3, row_top=2)
    texts = _texts(ax)
    assert "Alpha\n[Drama]" in texts and "Gamma\n[Comedy]" in texts  # years dropped
    assert "Drama pair (nC2)\nAlpha\nDelta" in texts and "Comedy single (nC1)\nGamma" in texts
    assert f"Drama table, row {pair.row:,}\nof 10; best Q:\nBeta  2.50\nZeta  1.25" in texts
    # the merged list, best first, with its Q-values, in the colour of the proposing row
    assert [" 1. Eps", " 2. Beta", " 3. Zeta"] == [t for t in texts if t[:3] in (" 1.", " 2.", " 3.")]
    assert ["3.00", "2.50", "1.25"] == [t for t in texts if t in ("3.00", "2.50", "1.25")]
    with pytest.raises(ValueError, match="k must be an integer in 1..20"):
        plotting.plot_state_decomposition(tables, [0, 2, 3], titles, k=0)
    plt.close("all")


def test_hyperparameter_effects_show_the_spread_over_seeds():
    import pandas as pd

    from odsc_recsys.training import AS_PUBLISHED

    effects = pd.DataFrame({"parameter": ["alpha"] * 4 + ["gamma"] * 2,
                            "value": [0.1, 0.1, 0.8, 0.8, 0.4, 0.4], "seed": [0, 1] * 3,
                            "val_HR@10": [0.1, 0.3, 0.5, 0.5, 0.2, 0.4]})  # fmt: skip
    fig = plotting.plot_hyperparameter_effects(effects, AS_PUBLISHED)
    assert [ax.get_title() for ax in fig.axes] == ["alpha", "gamma"]
    assert "mean of 2 seeds" in fig._suptitle.get_text()
    line = fig.axes[0].lines[0]
    assert line.get_ydata().tolist() == pytest.approx([0.2, 0.5])
    plt.close(fig)


def test_stream_curves_and_q_before_after_are_labelled():
    import pandas as pd

    curve = pd.DataFrame({"seen": [10, 20, 30, 40], "epoch": [1, 1, 2, 2],
                          "hit_rate": [0.1, 0.2, 0.3, 0.3], "explored": [0.3] * 4})  # fmt: skip
    fig = plotting.plot_stream_curves({0.0: curve, 0.3: curve})
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "epsilon = 0", "epsilon = 0.3"]
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
