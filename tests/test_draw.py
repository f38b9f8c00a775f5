"""lstmlib.draw: the book's plot style, the diagram of the unit and the plot helpers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib._pylab_helpers import Gcf  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from lstmlib import draw  # noqa: E402

HIGHLIGHTS = [None, *draw.PARTS]
EXAMPLE = {"c_prev": 1.0, "h_prev": 0.1, "x": -1.0, "f": 0.9, "i": 0.2, "g": 0.5, "o": 0.7,
           "c": 0.99, "h": 0.53}  # fmt: skip


@pytest.fixture(scope="module")
def figures():
    """One diagram per highlight, drawn once for the whole module."""
    return {h: draw.draw_unit(h) for h in HIGHLIGHTS}


def _parts_of(artist) -> set[str]:
    return {g.removeprefix("lstm-") for g in (artist.get_gid() or "").split()}


def _colours(artist) -> list[tuple[float, float, float]]:
    if isinstance(artist, Text):
        return [to_rgb(artist.get_color())]
    if isinstance(artist, Patch):
        out = []
        if artist.get_fill():
            out.append(artist.get_facecolor()[:3])
        if artist.get_linewidth() > 0:
            out.append(artist.get_edgecolor()[:3])
        return out
    return []


def _saturation(rgb) -> float:
    return max(rgb) - min(rgb)


def _tagged(fig) -> list:
    ax = fig.axes[0]
    return [a for a in [*ax.patches, *ax.texts] if a.get_gid()]


# --- the diagram ------------------------------------------------------------------------------


@pytest.mark.parametrize("highlight", HIGHLIGHTS)
def test_every_highlight_renders_a_figure_that_pyplot_does_not_hold(figures, highlight):
    fig = figures[highlight]
    assert isinstance(fig, Figure)
    assert all(m.canvas.figure is not fig for m in Gcf.get_all_fig_managers())
    FigureCanvasAgg(fig).draw()  # renders without error
    assert len(_tagged(fig)) > 30


@pytest.mark.parametrize("part", draw.PARTS)
def test_the_highlighted_part_is_in_colour_and_bold_the_rest_grey(figures, part):
    fig = figures[part]
    mine = [a for a in _tagged(fig) if part in _parts_of(a)]
    others = [a for a in _tagged(fig) if _parts_of(a) and part not in _parts_of(a)]
    others = [a for a in others if not any(p.startswith("glow-") for p in _parts_of(a))]
    assert mine and others
    coloured = [a for a in mine if any(_saturation(c) > 0.25 for c in _colours(a))]
    assert len(coloured) >= 3, f"{part}: too few coloured artists"
    names = [a for a in mine if isinstance(a, Text) and "\n" in a.get_text()]
    assert names and all(t.get_fontweight() == "bold" for t in names)
    for a in others:
        for c in _colours(a):
            assert _saturation(c) < 0.02, f"{part}: {a.get_gid()} is coloured: {c}"
    assert any(f"glow-{part}" in _parts_of(a) for a in fig.axes[0].patches)


def test_without_highlight_every_part_is_in_colour_and_nothing_bold(figures):
    fig = figures[None]
    for part in draw.PARTS:
        mine = [a for a in _tagged(fig) if part in _parts_of(a)]
        assert any(_saturation(c) > 0.25 for a in mine for c in _colours(a)), part
    names = [t for t in fig.axes[0].texts if "\n" in t.get_text()]
    assert len(names) >= 5 and all(t.get_fontweight() != "bold" for t in names)
    assert not [a for a in fig.axes[0].patches if "glow-" in (a.get_gid() or "")]


def _pixel(fig, xy):
    """RGB (0-1) of the rendered figure at data point ``xy``."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[..., :3] / 255.0
    x, y = fig.axes[0].transData.transform(xy)
    return img[img.shape[0] - 1 - int(round(y)), int(round(x))]


def test_the_pixels_of_the_highlighted_valve_are_coloured_and_the_others_grey():
    fig = draw.draw_unit("forget_valve")
    # just inside the upper-left corner of each gate box, clear of its sigma
    offset = np.array([-draw._BOX_W / 2 + 0.1, draw._BOX_H / 2 - 0.1])
    forget = _pixel(fig, np.array([draw._X_F, draw._GATE_Y]) + offset)
    new_memory = _pixel(fig, np.array([draw._X_I, draw._GATE_Y]) + offset)
    assert _saturation(forget) > 0.05 and forget[0] > forget[2]  # a tint of vermillion
    assert _saturation(new_memory) < 0.02


@pytest.mark.parametrize("bad", ["forget", "Forget_Valve", "", 3])
def test_an_unknown_highlight_raises_value_error_naming_the_parts(bad):
    with pytest.raises(ValueError, match="highlight") as err:
        draw.draw_unit(bad)
    for part in draw.PARTS:
        assert part in str(err.value)
    with pytest.raises(ValueError, match="memory_pipe"):
        draw.alt_text(bad)


def test_an_unknown_value_key_raises_value_error_naming_the_allowed_keys():
    with pytest.raises(ValueError, match="'c_t'") as err:
        draw.draw_unit(values={"f": 0.5, "c_t": 1.0})
    for key in draw.VALUE_KEYS:
        assert repr(key) in str(err.value)


@pytest.mark.parametrize("bad", [[0.1, 0.2], "0.5", None, np.nan, np.inf, 1 + 2j])
def test_a_value_that_is_not_one_finite_number_is_refused(bad):
    with pytest.raises((ValueError, TypeError), match=r"values\['f'\]"):
        draw.draw_unit(values={"f": bad})


def test_values_must_be_a_dict_and_peephole_a_bool():
    with pytest.raises(TypeError, match="values"):
        draw.draw_unit(values=[("f", 0.5)])
    with pytest.raises(TypeError, match="peephole"):
        draw.draw_unit(peephole="yes")


def test_values_appear_on_the_diagram_rounded_to_two_decimals():
    values = {**EXAMPLE, "f": 0.904, "c": -0.0001, "h": np.float32(0.125), "i": np.array([0.2])}
    fig = draw.draw_unit("forget_valve", values=values)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for expected in ("0.90", "0.00", "0.12", "0.20", "1.00", "0.10", "-1.00", "0.50", "0.70"):
        assert expected in texts
    assert "-0.00" not in texts
    numbers = [t for t in fig.axes[0].texts if "value-" in (t.get_gid() or "")]
    assert len(numbers) == len(draw.VALUE_KEYS)


def test_the_peephole_line_is_drawn_only_for_the_peephole_unit(figures):
    def dashed(fig):
        return [p for p in fig.axes[0].patches if p.get_linestyle() not in ("-", "solid")
                and "glow-" not in (p.get_gid() or "")]  # fmt: skip

    def texts(fig):
        return " ".join(t.get_text() for t in fig.axes[0].texts)

    standard = draw.draw_unit(peephole=False)
    assert len(dashed(figures[None])) == len(dashed(standard)) + 1
    assert "peephole" in texts(figures[None]) and "peephole" not in texts(standard)
    assert "[c_{t-1}" in texts(figures[None]) and "[h_{t-1}" in texts(standard)


def test_every_part_is_named_with_the_books_word_and_the_standard_term(figures):
    text = " ".join(t.get_text() for t in figures[None].axes[0].texts)
    words = ["memory pipe", "cell state", "forget valve", "forget gate", "new memory valve",
             "input gate", "candidate", "output valve", "output gate", "hidden state"]  # fmt: skip
    assert [w for w in words if w not in text] == []


def test_draw_unit_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    try:
        assert draw.draw_unit("memory_pipe", ax=ax) is fig
        assert not ax.axison and ax.patches
    finally:
        plt.close(fig)


@pytest.mark.parametrize("highlight", HIGHLIGHTS)
def test_alt_text_describes_the_diagram_in_plain_words(highlight):
    text = draw.alt_text(highlight)
    assert text.startswith("Diagram of the LSTM unit") and len(text) > 200
    assert "$" not in text and "\\" not in text
    if highlight is not None:
        assert "Highlighted: the " + highlight.replace("_", " ").split()[0] in text
    assert "peephole" in text and "peephole" not in draw.alt_text(highlight, peephole=False)


def test_alt_text_lists_the_numbers_written_on_the_diagram():
    text = draw.alt_text("forget_valve", values={"f": 0.904, "c_prev": 1})
    assert "f(t) = 0.90" in text and "c(t-1) = 1.00" in text


# --- the style --------------------------------------------------------------------------------


def test_use_book_style_sets_the_okabe_ito_palette_and_the_book_look():
    with mpl.rc_context():
        draw.use_book_style()
        cycle = [c.upper() for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]]
        assert cycle[0] == draw.OKABE_ITO["blue"]
        assert set(cycle) <= {c.upper() for c in draw.OKABE_ITO.values()}
        assert draw.OKABE_ITO["yellow"] not in cycle  # too light for lines on white
        assert not mpl.rcParams["axes.spines.top"] and not mpl.rcParams["axes.spines.right"]
        assert mpl.rcParams["axes.grid"]
        assert tuple(mpl.rcParams["figure.figsize"]) == (6.5, 3.0)
        draw.use_book_style()  # idempotent
        assert [c.upper() for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]] == cycle


def test_every_quantity_has_its_own_colour_and_label():
    assert set(draw.COLORS) == set(draw.LABELS) == {"c", "h", "f", "i", "g", "o", "x"}
    assert len(set(draw.COLORS.values())) == len(draw.COLORS)
    palette = {c.upper() for c in draw.OKABE_ITO.values()}
    assert all(c.upper() in palette for k, c in draw.COLORS.items() if k != "x")


def test_text_ink_is_dark_enough_to_read_on_white():
    for colour in draw.COLORS.values():
        ink = draw._ink(colour)
        assert 1.05 / (draw._luminance(ink) + 0.05) >= 4.5


# --- the plot helpers -------------------------------------------------------------------------


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_plot_series_draws_each_quantity_in_its_book_colour(ax):
    T = 5
    draw.plot_series(ax, None, {"f": np.zeros(T), "c (unit 2)": np.ones(T), "loss": np.ones(T)})
    f, c, loss = ax.get_lines()
    assert to_rgb(f.get_color()) == to_rgb(draw.COLORS["f"])
    assert to_rgb(c.get_color()) == to_rgb(draw.COLORS["c"])
    assert f.get_label() == draw.LABELS["f"] and c.get_label() == "c (unit 2)"
    assert loss.get_label() == "loss"
    np.testing.assert_array_equal(f.get_xdata(), np.arange(T))
    assert ax.get_legend() is not None


@pytest.mark.parametrize(
    ("t", "series", "match"),
    [
        (None, {}, "non-empty"),
        (None, {"f": np.zeros((3, 2))}, r"series\['f'\]"),
        (None, {"f": np.zeros(3), "i": np.zeros(4)}, "one length"),
        (np.arange(4), {"f": np.zeros(3)}, "t: expected shape"),
    ],
)
def test_plot_series_refuses_bad_shapes(ax, t, series, match):
    with pytest.raises(ValueError, match=match):
        draw.plot_series(ax, t, series)


def test_plot_gates_heatmap_has_one_panel_per_quantity():
    rng = np.random.default_rng(0)
    gates = {k: rng.uniform(size=(6, 2, 3)) for k in "fioc"}
    fig = draw.plot_gates_heatmap(gates, names=("f", "c"), batch=1)
    panels = [a for a in fig.axes if a.images]
    assert len(panels) == 2
    np.testing.assert_array_equal(panels[0].images[0].get_array(), gates["f"][:, 1, :].T)
    assert panels[0].images[0].get_clim() == (0.0, 1.0)
    assert panels[1].images[0].get_clim()[0] == -panels[1].images[0].get_clim()[1]
    fig2 = draw.plot_gates_heatmap({k: v[:, 0] for k, v in gates.items()})
    assert len([a for a in fig2.axes if a.images]) == 4


def test_plot_gates_heatmap_refuses_unknown_or_missing_quantities():
    gates = {"f": np.zeros((4, 2))}
    with pytest.raises(ValueError, match="'f', 'i', 'g', 'o', 'c', 'h'"):
        draw.plot_gates_heatmap(gates, names=("forget",))
    with pytest.raises(ValueError, match="no 'i'"):
        draw.plot_gates_heatmap(gates, names=("f", "i"))
    with pytest.raises(ValueError, match="batch"):
        draw.plot_gates_heatmap({"f": np.zeros((4, 2, 3))}, names=("f",), batch=2)


def test_plot_memory_decay_draws_f_to_the_power_t(ax):
    draw.plot_memory_decay(ax, (0.5, 0.9), steps=10, c0=2.0)
    curves = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 11]
    assert len(curves) == 2
    for line, f in zip(curves, (0.5, 0.9), strict=True):
        np.testing.assert_allclose(line.get_ydata(), 2.0 * f ** np.arange(11))
    halves = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 1]
    np.testing.assert_allclose([ln.get_xdata()[0] for ln in halves],
                               [1.0, np.log(2) / np.log(1 / 0.9)])  # fmt: skip


@pytest.mark.parametrize("bad", [1.5, -0.1, [0.5, np.nan], []])
def test_plot_memory_decay_refuses_a_forget_value_outside_zero_one(ax, bad):
    with pytest.raises(ValueError, match="forget"):
        draw.plot_memory_decay(ax, bad)


# --- the GRU's diagram (chapter 18) -----------------------------------------------------------


@pytest.mark.parametrize("part", draw.GRU_PARTS)
def test_the_gru_diagram_colours_the_highlighted_part_and_greys_the_rest(part):
    fig = draw.draw_gru(part)
    assert all(m.canvas.figure is not fig for m in Gcf.get_all_fig_managers())
    FigureCanvasAgg(fig).draw()
    mine = [a for a in _tagged(fig) if part in _parts_of(a)]
    others = [a for a in _tagged(fig) if _parts_of(a) and part not in _parts_of(a)]
    others = [a for a in others if not any(p.startswith("glow-") for p in _parts_of(a))]
    assert len([a for a in mine if any(_saturation(c) > 0.25 for c in _colours(a))]) >= 3
    assert all(_saturation(c) < 0.02 for a in others for c in _colours(a))
    assert any(f"glow-{part}" in _parts_of(a) for a in fig.axes[0].patches)


def test_the_gru_diagram_uses_the_colours_of_the_lstm_parts_that_play_the_same_role():
    assert draw.GRU_COLORS["h"] == draw.COLORS["c"] and draw.GRU_COLORS["z"] == draw.COLORS["f"]
    assert draw.GRU_COLORS["1-z"] == draw.COLORS["i"] and draw.GRU_COLORS["n"] == draw.COLORS["g"]
    fig = draw.draw_gru()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for name in ("update valve (update gate)", "reset valve\n(reset gate)", "candidate"):
        assert name in texts


def test_the_gru_diagram_writes_the_numbers_and_its_alt_text_names_them():
    values = {"h_prev": 2.0, "z": 0.75, "r": 0.5, "n": 0.8, "h": 1.7}
    fig = draw.draw_gru(values=values)
    shown = {t.get_text() for t in fig.axes[0].texts if t.get_gid() and "value-" in t.get_gid()}
    assert shown == {"2.00", "0.75", "0.50", "0.80", "1.70"}
    alt = draw.gru_alt_text("reset_valve", values=values)
    assert "reset valve highlighted" in alt and "z(t) = 0.75" in alt and "$" not in alt


def test_the_gru_diagram_refuses_unknown_parts_and_values():
    with pytest.raises(ValueError, match="highlight: expected None or one of 'memory_pipe'"):
        draw.draw_gru("forget_valve")
    with pytest.raises(ValueError, match="unknown key"):
        draw.draw_gru(values={"f": 0.5})
    with pytest.raises(TypeError, match="values: expected a dict"):
        draw.gru_alt_text(values=[0.5])
