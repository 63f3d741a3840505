"""Figure helpers draw what they promise: panels with titles, labelled axes and legends."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

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
