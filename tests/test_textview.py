"""lstmlib.textview: coloured text that needs no kernel and no outside host."""

import re

import numpy as np
import pytest

from lstmlib.textview import LEVELS, PALETTE, colored_text, text_viewer


def test_palette_runs_from_blue_through_white_to_red():
    assert len(PALETTE) == LEVELS and PALETTE[LEVELS // 2] == "#ffffff"
    assert PALETTE[0] == "#2166ac" and PALETTE[-1] == "#b2182b"


def test_colored_text_gives_each_character_the_colour_of_its_value():
    out = colored_text("a<\n", np.array([-1.0, 0.0, 2.0])).data
    spans = re.findall(r"background:(#[0-9a-f]{6})[^>]*>([^<]*)</span>", out)
    assert spans == [(PALETTE[0], "a"), (PALETTE[LEVELS // 2], "&lt;"), (PALETTE[-1], "\u21b5\n")]
    with pytest.raises(ValueError, match="values: expected 3 values"):
        colored_text("abc", np.zeros(2))


def test_the_viewer_is_self_contained_and_stores_one_level_per_character():
    out = text_viewer({"p": "ab</script>"}, {"unit 1": {"p": np.linspace(-1, 1, 11)}}).data
    assert "http" not in out and "<script src" not in out
    assert '"p": "0123456789a"' in out  # levels 0..10 in one hex digit each
    assert "<\\/script>" in out  # the text cannot close the JSON's script element
    with pytest.raises(ValueError, match="no values for passages"):
        text_viewer({"p": "ab", "q": "cd"}, {"u": {"p": np.zeros(2)}})


def test_the_score_histogram_counts_every_unit_and_marks_the_named_ones():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lstmlib.textplots import plot_score_distribution

    scores = np.r_[np.linspace(0.4, 0.6, 19), 0.93]
    fig, ax = plt.subplots()
    plot_score_distribution(ax, scores, chance=0.5, marked={"unit 19": 19}, xlabel="AUC")
    heights = sum(p.get_height() for p in ax.patches)
    assert heights == 20, f"the histogram counts {heights} units, not 20"
    assert [t.get_text() for t in ax.texts if t.get_text().startswith("unit")] == ["unit 19"]
    plt.close(fig)


def test_the_unit_trace_draws_the_unit_in_front_of_the_ground_truth():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lstmlib.textplots import plot_unit_trace

    fig, ax = plt.subplots()
    ax, twin = plot_unit_trace(ax, np.sin(np.arange(30.0)), np.arange(30) // 10, label="c",
                               truth_label="depth")  # fmt: skip
    assert ax.lines[0].get_ydata()[3] == pytest.approx(np.sin(3.0))
    assert twin.get_ylabel() == "depth" and ax.get_zorder() > twin.get_zorder()
    with pytest.raises(ValueError, match="values, truth"):
        plot_unit_trace(ax, np.ones(3), np.ones(4), label="c", truth_label="depth")
    plt.close(fig)


def test_the_closing_probability_plot_draws_one_line_per_condition_and_the_counts():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lstmlib.textplots import plot_closing_probability

    fig, ax = plt.subplots()
    curves = {"intact": np.array([0.5, 0.4, 0.3]), "reset": np.array([0.1, 0.2, 0.3])}
    plot_closing_probability(ax, [1, 10, 100, 1000], curves, counts=[7, 8, 9], truncation=100)
    assert [line.get_label() for line in ax.lines if not line.get_label().startswith("_")] == [
        "intact",
        "reset",
    ]
    assert ax.lines[0].get_xdata() == pytest.approx(np.sqrt([10, 1000, 100000]))
    assert {"n=7", "n=8", "n=9", "T = 100"} <= {t.get_text() for t in ax.texts}
    plt.close(fig)
