"""lstmlib.textplots: the figures of the part "Speaking for real"."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402

from lstmlib import draw, textplots  # noqa: E402

CURVE = [{"step": 500, "held_out_bits": 2.2, "train_bits": 2.8},
         {"step": 1000, "held_out_bits": 2.0, "train_bits": 1.9}]  # fmt: skip


def _ax():
    return Figure().subplots()


def _arrows(ax, colour):
    return [
        p for p in ax.patches if isinstance(p, FancyArrowPatch) and to_rgb(p.get_ec()) == colour
    ]


# --- plot_truncated_bptt --------------------------------------------------------------------------


@pytest.mark.parametrize(("T", "chunks"), [(5, 3), (4, 2), (1, 3)])
def test_truncated_bptt_state_crosses_every_boundary_and_the_gradient_none(T, chunks):
    ax = textplots.plot_truncated_bptt(_ax(), T=T, chunks=chunks)
    ink, grad = to_rgb(draw.OKABE_ITO["black"]), to_rgb(draw.OKABE_ITO["vermillion"])
    steps = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() == 0.6]
    assert len(steps) == T * chunks  # one box per time step
    assert len(_arrows(ax, ink)) == T * chunks - 1  # forward: between every two steps
    assert len(_arrows(ax, grad)) == (T - 1) * chunks  # backward: inside the chunks only
    texts = [t.get_text() for t in ax.texts]
    assert [f"chunk {k + 1}" for k in range(chunks)] == [t for t in texts if t.startswith("chunk")]


def test_truncated_bptt_marks_each_cut_between_chunks():
    ax = textplots.plot_truncated_bptt(_ax(), T=5, chunks=3)
    cuts = sorted(float(seg[0, 0]) for c in ax.collections for seg in c.get_segments())
    assert cuts == [4.5, 9.5]


@pytest.mark.parametrize(("name", "kwargs"), [("T", {"T": 0}), ("chunks", {"chunks": -1})])
def test_truncated_bptt_refuses_a_non_positive_size_naming_it(name, kwargs):
    with pytest.raises(ValueError, match=name):
        textplots.plot_truncated_bptt(_ax(), **kwargs)


# --- plot_learning_curves -------------------------------------------------------------------------


def test_learning_curves_draw_one_line_per_model_in_its_colour():
    ax = textplots.plot_learning_curves(_ax(), {"LSTM": CURVE, "RNN (H=419)": CURVE})
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["LSTM", "RNN (H=419)"]
    assert to_rgb(lines[0].get_color()) == to_rgb(textplots.MODEL_COLORS["LSTM"])
    assert to_rgb(lines[1].get_color()) == to_rgb(textplots.MODEL_COLORS["RNN"])
    np.testing.assert_array_equal(lines[0].get_xdata(), [500, 1000])
    np.testing.assert_array_equal(lines[0].get_ydata(), [2.2, 2.0])
    assert ax.get_ylabel() == "bits per character"


def test_learning_curves_add_another_key_with_its_own_style_and_label():
    ax = textplots.plot_learning_curves(_ax(), {"LSTM": CURVE})
    textplots.plot_learning_curves(ax, {"LSTM": CURVE}, key="train_bits", ls="--", suffix=", train")
    held, train = ax.get_lines()
    assert train.get_label() == "LSTM, train" and train.get_linestyle() == "--"
    np.testing.assert_array_equal(train.get_ydata(), [2.8, 1.9])
    assert held.get_color() == train.get_color()


@pytest.mark.parametrize(
    ("curves", "key", "match"),
    [({}, "held_out_bits", "curves"), ({"LSTM": []}, "held_out_bits", "LSTM"),
     ({"LSTM": CURVE}, "missing", "missing")],
)  # fmt: skip
def test_learning_curves_refuse_empty_or_incomplete_curves_naming_them(curves, key, match):
    with pytest.raises(ValueError, match=match):
        textplots.plot_learning_curves(_ax(), curves, key=key)


# --- plot_bits_by_model ---------------------------------------------------------------------------


def test_bits_by_model_draws_the_ngram_orders_and_one_level_per_model():
    bits = {3: 2.5, 1: 4.4, 2: 3.3}
    ax = textplots.plot_bits_by_model(_ax(), bits, {"LSTM": 1.9, "RNN": 2.0})
    ngram, lstm, rnn = ax.get_lines()
    np.testing.assert_array_equal(ngram.get_xdata(), [1, 2, 3])  # sorted by order
    np.testing.assert_array_equal(ngram.get_ydata(), [4.4, 3.3, 2.5])
    assert list(lstm.get_ydata()) == [1.9, 1.9] and list(rnn.get_ydata()) == [2.0, 2.0]
    assert to_rgb(lstm.get_color()) == to_rgb(textplots.MODEL_COLORS["LSTM"])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["n-gram (Kneser-Ney)", "LSTM", "RNN"]
    assert list(ax.get_xticks()) == [1, 2, 3]


def test_a_models_colour_follows_the_start_of_its_label():
    ax = textplots.plot_bits_by_model(_ax(), {1: 4.4}, {"LSTM, H = 200": 1.9, "GRU": 2.0})
    _, lstm, other = ax.get_lines()
    assert to_rgb(lstm.get_color()) == to_rgb(textplots.MODEL_COLORS["LSTM"])
    assert to_rgb(other.get_color()) == to_rgb("#555555")  # a model without a colour: grey


@pytest.mark.parametrize("bits", [{}, {0: 6.5}, {1.5: 3.0}])
def test_bits_by_model_refuses_missing_or_bad_orders_naming_the_argument(bits):
    with pytest.raises(ValueError, match="ngram_bits"):
        textplots.plot_bits_by_model(_ax(), bits, {"LSTM": 1.9})


# --- plot_closing_probability (as it stands) ------------------------------------------------------


def test_closing_probability_draws_one_curve_per_condition_at_geometric_centres():
    edges = np.array([1, 4, 16, 64])
    curves = {"as is": np.array([0.9, 0.7, 0.5]), "bracket removed": np.array([0.1, 0.1, 0.05])}
    ax = textplots.plot_closing_probability(_ax(), edges, curves, counts=[10, 20, 30])
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["as is", "bracket removed"]
    np.testing.assert_allclose(lines[0].get_xdata(), [2, 8, 32])
    np.testing.assert_array_equal(lines[1].get_ydata(), curves["bracket removed"])
    assert ax.get_xscale() == "log" and ax.get_ylim() == (0, 1)
    texts = [t.get_text() for t in ax.texts]
    assert all(any(str(n) in text for text in texts) for n in (10, 20, 30))  # the counts, per bin
