"""The book's figures: one plot style, one diagram of the unit, a few plot helpers.

A reader should recognise the book's figures at a glance, so every chapter draws with the same
pieces:

* :func:`use_book_style` sets matplotlib's rcParams once (colour-blind-safe Okabe-Ito palette, font
  sizes readable at the book's ~700 px content width, light grid, no top/right spines).
* :data:`COLORS` gives every quantity of the unit one colour for the whole book (the memory pipe
  ``c`` is blue like water, the forget valve ``f`` vermillion, ...); :data:`LABELS` its legend text.
* :func:`draw_unit` draws the LSTM unit as the source pictures it, pipes and valves, with one part
  highlighted per chapter (``highlight="forget_valve"``), optionally annotated with the numbers of
  a worked example (``values={"f": 0.9, ...}``). :func:`alt_text` describes that picture in words.
* :func:`plot_series`, :func:`plot_gates_heatmap` and :func:`plot_memory_decay` keep the chapters'
  plotting cells short.

Functions that make a whole figure return a matplotlib ``Figure`` that is already closed in pyplot:
a notebook shows it exactly once, as the cell's value (end the line with ``;`` to show nothing).
Functions that take an ``ax`` draw on it and return it.

This module imports matplotlib; it is deliberately not imported by ``lstmlib/__init__.py``. Use
``from lstmlib import draw`` or ``from lstmlib.draw import draw_unit``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.colors import LinearSegmentedColormap, to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path
from matplotlib.ticker import MaxNLocator

from ._checks import check_bool, check_positive_int, check_real

__all__ = [
    "COLORS",
    "GREY",
    "LABELS",
    "OKABE_ITO",
    "PARTS",
    "VALUE_KEYS",
    "alt_text",
    "draw_unit",
    "plot_gates_heatmap",
    "plot_memory_decay",
    "plot_series",
    "use_book_style",
]

# --------------------------------------------------------------------------------------------------
# Palette and style
# --------------------------------------------------------------------------------------------------

#: The Okabe-Ito palette (Okabe & Ito 2008), distinguishable under the common colour-vision
#: deficiencies. Yellow is kept for completeness but is too light for lines on white.
OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "bluish_green": "#009E73",
    "orange": "#E69F00",
    "reddish_purple": "#CC79A7",
    "sky_blue": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}

#: One colour per quantity, in every chapter, in the diagram and in every plot.
COLORS: dict[str, str] = {
    "c": OKABE_ITO["blue"],  # memory pipe (cell state): water is blue
    "h": OKABE_ITO["black"],  # output (hidden state): the unit's result, the strongest ink
    "f": OKABE_ITO["vermillion"],  # forget valve (forget gate)
    "i": OKABE_ITO["bluish_green"],  # new memory valve (input gate)
    "g": OKABE_ITO["orange"],  # candidate G_t
    "o": OKABE_ITO["reddish_purple"],  # output valve (output gate)
    "x": "#7F7F7F",  # input: neutral grey, it is data, not part of the unit
}

#: Legend text for each quantity: the book's name and the symbol.
LABELS: dict[str, str] = {
    "c": r"memory pipe $c_t$",
    "h": r"output $h_t$",
    "f": r"forget valve $f_t$",
    "i": r"new memory valve $i_t$",
    "g": r"candidate $G_t$",
    "o": r"output valve $o_t$",
    "x": r"input $x_t$",
}

#: The colour of everything that is not highlighted in :func:`draw_unit`.
GREY = "#B4B4B4"

_BOOK_RC = {
    "figure.figsize": (6.5, 3.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.constrained_layout.use": True,
    "figure.facecolor": "white",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.labelcolor": "#333333",
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.prop_cycle": cycler(
        color=[OKABE_ITO[k] for k in OKABE_ITO if k not in ("yellow", "black")] + ["#000000"]
    ),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.8,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.7,
    "grid.linestyle": "-",
    "lines.linewidth": 2.0,
    "lines.markersize": 5,
    "image.cmap": "cividis",
    "mathtext.fontset": "dejavusans",
}


def use_book_style() -> None:
    """Set matplotlib's rcParams to the book's style (idempotent; call once per notebook).

    Okabe-Ito colour cycle, font sizes for figures of 6.5 x 3 in at 100 dpi (the book's ~700 px
    content width), constrained layout, a light grid and no top/right spines. Plots of the unit's
    quantities should still pick their colour from :data:`COLORS`, as the helpers here do.
    """
    mpl.rcParams.update(_BOOK_RC)


def _figure(figsize: tuple[float, float], **kwargs) -> Figure:
    """A new Figure that pyplot does not track: a notebook shows it once, as a cell's value."""
    fig = plt.figure(figsize=figsize, **kwargs)
    plt.close(fig)
    return fig


def _tint(color: str, amount: float) -> str:
    """``color`` mixed with white; ``amount`` 0 gives white, 1 the colour itself."""
    r, g, b = to_rgb(color)
    return to_hex((1 - amount + amount * r, 1 - amount + amount * g, 1 - amount + amount * b))


def _luminance(color: str) -> float:
    def lin(u: float) -> float:
        return u / 12.92 if u <= 0.04045 else ((u + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(u) for u in to_rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _ink(color: str, contrast: float = 4.5) -> str:
    """``color`` darkened just enough to read as small text on white (WCAG contrast ratio)."""
    rgb = np.array(to_rgb(color))
    for k in range(21):
        c = to_hex(rgb * (1 - 0.05 * k))
        if 1.05 / (_luminance(c) + 0.05) >= contrast:
            return c
    return "#000000"


def _check_choice(name: str, value, allowed: Sequence, *, allow_none: bool = False) -> None:
    """ValueError naming every allowed value unless ``value`` is one of them."""
    if (value is None and allow_none) or (isinstance(value, str) and value in allowed):
        return
    names = ", ".join(repr(a) for a in allowed)
    none = "None or " if allow_none else ""
    raise ValueError(f"{name}: expected {none}one of {names}; got {value!r}")


def _scalar(name: str, value) -> float:
    """One real number (a Python or numpy scalar, or an array of size 1) as a float."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf" or arr.size != 1:
        raise ValueError(
            f"{name}: expected one real number (for a vector, pick one unit); got {value!r}"
        )
    return check_real(name, float(arr.reshape(())))


def _fmt(v: float) -> str:
    s = f"{v:.2f}"
    return "0.00" if s == "-0.00" else s


# --------------------------------------------------------------------------------------------------
# The diagram
# --------------------------------------------------------------------------------------------------

#: The parts :func:`draw_unit` can highlight, one per chapter of the source.
PARTS: tuple[str, ...] = ("memory_pipe", "forget_valve", "new_memory_valve", "output_state")

#: The numbers :func:`draw_unit` can write on the diagram (``values=``).
VALUE_KEYS: tuple[str, ...] = ("c_prev", "h_prev", "x", "f", "i", "g", "o", "c", "h")

# Geometry, in data units (the axes keep an aspect ratio of 1; 1 unit is ~50 px at 7 in wide).
_W, _H = 14.2, 7.0
_PIPE_Y = 5.25  # the memory pipe
_PIPE_X0, _PIPE_X1 = 0.95, 13.15
_PIPE_R = 0.2  # half the pipe's thickness
_GATE_Y = 2.55  # the row of gate boxes
_MID_Y = 4.0  # the new memory product and tanh(c_t)
_BUS_Y = 1.25  # the [c_{t-1}, h_{t-1}, x_t] bus
_BODY = (1.25, 0.6, 12.25, 5.9)  # x0, y0, x1, y1 of the unit's rounded box
_X_PEEP = 1.85  # the peephole: c_{t-1} down to the bus
_X_IN = 2.75  # x_t up to the bus
_X_F = 3.85  # forget valve
_X_NEW = 6.85  # new memory valve: the + on the pipe and the product below it
_X_I, _X_G = 5.95, 7.75  # input gate, candidate
_X_O, _X_OUT = 9.2, 10.6  # output gate; the output product and tanh(c_t)
_Y_IG = _MID_Y - 0.38  # the i_t and G_t labels
_LABEL_Y = 6.15  # baseline row of the part names
_X_MEM_LABEL = 1.15
_R_OP = 0.27  # radius of the x and + circles
_BOX_W, _BOX_H = 0.86, 0.5
_VAL_FS = 8.0


class _Canvas:
    """Draws one diagram; every artist is tagged with the part it belongs to (its ``gid``).

    ``part`` is one name, or a tuple of names for an artist shared by several parts (the ``c_t``
    exit belongs to the memory pipe and to the output state); its gid lists them all, e.g.
    ``"lstm-memory_pipe lstm-output_state"``.
    """

    def __init__(self, ax, highlight: str | None):
        self.ax = ax
        self.highlight = highlight

    @staticmethod
    def _parts(part) -> tuple[str, ...]:
        return (part,) if isinstance(part, str) else tuple(part)

    def active(self, part) -> bool:
        return self.highlight is None or self.highlight in self._parts(part)

    def emph(self, part) -> bool:
        return self.highlight is not None and self.highlight in self._parts(part)

    def color(self, part, quantity_color: str) -> str:
        return quantity_color if self.active(part) else GREY

    def text_color(self, part, quantity_color: str = "#222222") -> str:
        return _ink(quantity_color) if self.active(part) else "#A0A0A0"

    def lw(self, part, base: float = 1.5) -> float:
        return base * (1.45 if self.emph(part) else 1.0)

    def _tag(self, artist, part):
        artist.set_gid(" ".join(f"lstm-{p}" for p in self._parts(part)))
        return artist

    # primitives -----------------------------------------------------------------------------
    def wire(self, part, color, points, *, arrow=True, dashed=False, z=2):
        path = Path(points, [Path.MOVETO] + [Path.LINETO] * (len(points) - 1))
        patch = FancyArrowPatch(
            path=path,
            arrowstyle="-|>" if arrow else "-",
            mutation_scale=11 if arrow else 1,
            color=self.color(part, color),
            linewidth=self.lw(part),
            linestyle=(0, (3, 2)) if dashed else "-",
            joinstyle="round",
            capstyle="butt",
            shrinkA=0,
            shrinkB=0,
            zorder=z,
        )
        self.ax.add_patch(patch)
        return self._tag(patch, part)

    def dot(self, part, color, xy, r=0.075, z=4):
        c = Circle(xy, r, facecolor=self.color(part, color), edgecolor="none", zorder=z)
        self.ax.add_patch(c)
        return self._tag(c, part)

    def op(self, part, color, xy, symbol):
        """A valve on a line: a white circle with x or +."""
        col = self.color(part, color)
        c = Circle(xy, _R_OP, facecolor="white", edgecolor=col, linewidth=self.lw(part, 1.6))
        c.set_zorder(5)
        self.ax.add_patch(c)
        self._tag(c, part)
        s = {"x": "\u00d7", "+": "+"}[symbol]
        t = self.ax.text(
            xy[0],
            xy[1] - 0.015,
            s,
            ha="center",
            va="center_baseline",
            fontsize=13,
            color=col,
            fontweight="bold",
            zorder=6,
        )
        self._tag(t, part)

    def box(self, part, color, xy, label, *, w=_BOX_W, h=_BOX_H):
        """A gate: a rounded box holding its activation function."""
        col = self.color(part, color)
        x, y = xy
        b = FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.14",
            facecolor=_tint(col, 0.16),
            edgecolor=col,
            linewidth=self.lw(part, 1.4),
            zorder=5,
        )
        self.ax.add_patch(b)
        self._tag(b, part)
        t = self.ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=10,
            color=self.text_color(part, "#222222"),
            zorder=6,
        )
        self._tag(t, part)

    def text(self, part, xy, s, *, color="#222222", size=9.0, weight=None, **kw):
        if weight is None:
            weight = "bold" if self.emph(part) else "normal"
        t = self.ax.text(
            xy[0],
            xy[1],
            s,
            color=self.text_color(part, color),
            fontsize=size,
            fontweight=weight,
            zorder=7,
            **kw,
        )
        return self._tag(t, part)

    def value(self, part, color, xy, v: float, **kw):
        """A number of the worked example, in a small white pill edged with its colour."""
        col = self.color(part, color)
        t = self.ax.text(
            xy[0],
            xy[1],
            _fmt(v),
            fontsize=_VAL_FS,
            color=self.text_color(part, "#111111"),
            fontweight="bold" if self.active(part) else "normal",
            zorder=8,
            bbox={
                "boxstyle": "round,pad=0.22,rounding_size=0.5",
                "facecolor": "white",
                "edgecolor": col,
                "linewidth": 1.0,
            },
            **kw,
        )
        return self._tag(t, f"value-{part}")

    def glow(self, part, color, x0, y0, x1, y1):
        """The soft background that marks the highlighted part."""
        if not self.emph(part):
            return
        g = FancyBboxPatch(
            (x0, y0),
            x1 - x0,
            y1 - y0,
            boxstyle="round,pad=0,rounding_size=0.3",
            facecolor=_tint(color, 0.10),
            edgecolor=_tint(color, 0.45),
            linewidth=1.0,
            linestyle=(0, (4, 3)),
            zorder=0.5,
        )
        self.ax.add_patch(g)
        self._tag(g, f"glow-{part}")


def _diagram_axes(ax):
    """The figure and the axes a cell diagram is drawn in: ``ax`` (its figure), or a new figure
    whose one axes fills it; the axes span the diagram's ``_W`` x ``_H`` units, equal, no frame."""
    if ax is None:
        fig = _figure((7.0, 7.0 * _H / _W), layout="none")
        ax = fig.add_axes((0, 0, 1, 1))
    else:
        fig = ax.figure
    ax.set_xlim(0, _W)
    ax.set_ylim(0, _H)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig, ax


def draw_unit(
    highlight: str | None = None,
    *,
    values: Mapping[str, float] | None = None,
    peephole: bool = True,
    ax=None,
) -> Figure:
    """Draw the LSTM unit as the source pictures it: a memory pipe and three valves.

    Parameters
    ----------
    highlight : None or one of :data:`PARTS`
        ``"memory_pipe"``, ``"forget_valve"``, ``"new_memory_valve"`` or ``"output_state"``: that
        part is drawn in full colour with bold labels and a soft background, the rest in grey.
        ``None`` (default) draws the whole unit in colour.
    values : mapping, optional
        Numbers of a worked example to write on the picture, rounded to 2 decimals. Keys from
        :data:`VALUE_KEYS`: ``c_prev``, ``h_prev``, ``x`` (the inputs), ``f``, ``i``, ``g``,
        ``o`` (the valves and the candidate) and ``c``, ``h`` (the outputs). Each value is one real
        number (for a vector, pick one unit).
    peephole : bool
        True (the source's unit): the old memory ``c_{t-1}`` also feeds every gate, which see
        ``[c_{t-1}, h_{t-1}, x_t]``. False: the standard unit, gates see ``[h_{t-1}, x_t]``.
    ax : matplotlib Axes, optional
        Draw into this axes (its limits, aspect and axis are set); default: a new figure 7 in wide.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure (closed in pyplot, so a notebook shows it once as the cell's value), or
        ``ax.figure``. Each artist's ``gid`` lists its part(s), e.g. ``"lstm-forget_valve"``.
    """
    _check_choice("highlight", highlight, PARTS, allow_none=True)
    vals = _check_values(values)
    peephole = check_bool("peephole", peephole)

    fig, ax = _diagram_axes(ax)

    d = _Canvas(ax, highlight)
    col_c, col_f, col_i, col_g, col_o, col_h = (COLORS[k] for k in "cfigoh")
    col_x = "#4D4D4D"  # the input wires: dark grey, quieter than the valves

    # The unit's body -------------------------------------------------------------------------
    bx0, by0, bx1, by1 = _BODY
    body = FancyBboxPatch(
        (bx0, by0),
        bx1 - bx0,
        by1 - by0,
        boxstyle="round,pad=0,rounding_size=0.35",
        facecolor="#FAFAFA",
        edgecolor="#D0D0D0",
        linewidth=1.0,
        zorder=0.2,
    )
    ax.add_patch(body)
    body.set_gid("lstm-body")

    # Soft backgrounds for the highlighted part ------------------------------------------------
    top = _PIPE_Y + 0.45
    d.glow("memory_pipe", col_c, 0.05, _PIPE_Y - 0.45, _W - 0.05, _PIPE_Y + 0.75)
    d.glow("forget_valve", col_f, _X_F - 0.62, _GATE_Y - 0.5, _X_F + 0.62, top)
    d.glow("new_memory_valve", col_i, _X_I - 0.62, _GATE_Y - 0.5, _X_G + 0.62, top)
    d.glow("output_state", col_o, _X_O - 0.62, _GATE_Y - 0.5, _W - 0.05, top)

    # The memory pipe: a thick band carrying the memory from c_{t-1} to c_t ---------------------
    pc = d.color("memory_pipe", col_c)
    band = FancyBboxPatch(
        (_PIPE_X0, _PIPE_Y - _PIPE_R),
        _PIPE_X1 - _PIPE_X0 - 0.25,
        2 * _PIPE_R,
        boxstyle="round,pad=0,rounding_size=0.06",
        facecolor=_tint(pc, 0.22),
        edgecolor=pc,
        linewidth=d.lw("memory_pipe", 1.3),
        zorder=3,
    )
    ax.add_patch(band)
    d._tag(band, "memory_pipe")
    head = FancyArrowPatch(
        (_PIPE_X1 - 0.3, _PIPE_Y),
        (_PIPE_X1 + 0.12, _PIPE_Y),
        arrowstyle="simple,head_length=0.9,head_width=1.35,tail_width=0.01",
        mutation_scale=14,
        facecolor=pc,
        edgecolor=pc,
        linewidth=0.5,
        zorder=3.1,
    )
    ax.add_patch(head)
    d._tag(head, "memory_pipe")
    # the flow inside the pipe
    flow = d.wire(
        "memory_pipe", col_c, [(_PIPE_X0 + 0.05, _PIPE_Y), (_PIPE_X1 - 0.35, _PIPE_Y)], arrow=False
    )
    flow.set_linewidth(d.lw("memory_pipe", 1.0))
    flow.set_linestyle((0, (1, 3)))
    flow.set_zorder(3.05)
    d.text(
        "memory_pipe",
        (_PIPE_X0 - 0.12, _PIPE_Y),
        r"$c_{t-1}$",
        color=col_c,
        size=11,
        ha="right",
        va="center",
    )
    d.text(
        ("memory_pipe", "output_state"),
        (_PIPE_X1 + 0.2, _PIPE_Y),
        r"$c_t$",
        color=col_c,
        size=11,
        ha="left",
        va="center",
    )
    d.text(
        "memory_pipe",
        (_X_MEM_LABEL, _LABEL_Y),
        "memory pipe\n(cell state) $c_t$",
        color=col_c,
        size=9,
        ha="center",
        va="bottom",
        linespacing=1.25,
    )

    # The inputs: h_{t-1} and x_t (and, with peepholes, c_{t-1}) onto one bus ------------------
    d.text("inputs", (_PIPE_X0 - 0.12, _BUS_Y), r"$h_{t-1}$", color="#222222", size=11,
           ha="right", va="center")  # fmt: skip
    d.wire("inputs", col_x, [(_PIPE_X0, _BUS_Y), (_X_O, _BUS_Y)], arrow=False)
    d.text("inputs", (_X_IN, 0.02), r"$x_t$", color="#222222", size=11, ha="center", va="bottom")
    d.wire("inputs", col_x, [(_X_IN, 0.42), (_X_IN, _BUS_Y)], arrow=False)
    d.dot("inputs", col_x, (_X_IN, _BUS_Y))
    if peephole:
        d.dot("memory_pipe", col_c, (_X_PEEP, _PIPE_Y), r=0.09)
        d.wire("memory_pipe", col_c, [(_X_PEEP, _PIPE_Y), (_X_PEEP, _BUS_Y + 0.02)], dashed=True,
               arrow=False, z=2.5)  # fmt: skip
        d.dot("inputs", col_x, (_X_PEEP, _BUS_Y))
        d.text("memory_pipe", (_X_PEEP - 0.1, 0.5 * (_BUS_Y + _PIPE_Y) - 0.3), "peephole",
               color=col_c, size=7.5, rotation=90, ha="right", va="center",
               style="italic", weight="normal")  # fmt: skip
        bus_label = r"every gate sees $[c_{t-1},\, h_{t-1},\, x_t]$"
    else:
        bus_label = r"every gate sees $[h_{t-1},\, x_t]$"
    d.text("inputs", (0.5 * (_X_F + _X_O), _BUS_Y - 0.12), bus_label, color="#555555",
           size=8.5, ha="center", va="top", weight="normal")  # fmt: skip
    for xg in (_X_F, _X_I, _X_G):
        d.dot("inputs", col_x, (xg, _BUS_Y))
    # taps from the bus up into the gates (coloured by the gate they feed)
    top_of_bus = _GATE_Y - _BOX_H / 2
    d.wire("forget_valve", col_x, [(_X_F, _BUS_Y), (_X_F, top_of_bus)])
    d.wire("new_memory_valve", col_x, [(_X_I, _BUS_Y), (_X_I, top_of_bus)])
    d.wire("new_memory_valve", col_x, [(_X_G, _BUS_Y), (_X_G, top_of_bus)])
    d.wire("output_state", col_x, [(_X_O, _BUS_Y), (_X_O, top_of_bus)])

    # Forget valve: f_t = sigma(...), multiplies the memory in the pipe -------------------------
    d.box("forget_valve", col_f, (_X_F, _GATE_Y), r"$\sigma$")
    d.wire("forget_valve", col_f, [(_X_F, _GATE_Y + _BOX_H / 2), (_X_F, _PIPE_Y - _R_OP)])
    d.op("forget_valve", col_f, (_X_F, _PIPE_Y), "x")
    d.text("forget_valve", (_X_F + 0.12, _MID_Y - 0.05), r"$f_t$", color=col_f, size=11,
           ha="left", va="center")  # fmt: skip
    d.text(
        "forget_valve",
        (_X_F, _LABEL_Y),
        "forget valve\n(forget gate) $f_t$",
        color=col_f,
        size=9,
        ha="center",
        va="bottom",
        linespacing=1.25,
    )

    # New memory valve: i_t x G_t, added into the pipe ------------------------------------------
    d.box("new_memory_valve", col_i, (_X_I, _GATE_Y), r"$\sigma$")
    d.box("new_memory_valve", col_g, (_X_G, _GATE_Y), r"$\tanh$")
    d.wire("new_memory_valve", col_i,
           [(_X_I, _GATE_Y + _BOX_H / 2), (_X_I, _MID_Y), (_X_NEW - _R_OP, _MID_Y)])  # fmt: skip
    d.wire("new_memory_valve", col_g,
           [(_X_G, _GATE_Y + _BOX_H / 2), (_X_G, _MID_Y), (_X_NEW + _R_OP, _MID_Y)])  # fmt: skip
    d.op("new_memory_valve", col_i, (_X_NEW, _MID_Y), "x")
    d.wire("new_memory_valve", col_i, [(_X_NEW, _MID_Y + _R_OP), (_X_NEW, _PIPE_Y - _R_OP)])
    d.op("new_memory_valve", col_i, (_X_NEW, _PIPE_Y), "+")
    d.text("new_memory_valve", (_X_I - 0.12, _Y_IG), r"$i_t$",
           color=col_i, size=11, ha="right", va="center")  # fmt: skip
    d.text("new_memory_valve", (_X_G + 0.12, _Y_IG), r"$G_t$",
           color=col_g, size=11, ha="left", va="center")  # fmt: skip
    d.text(
        "new_memory_valve",
        (_X_NEW, _LABEL_Y),
        "new memory valve\n(input gate $i_t$, candidate $G_t$)",
        color=col_i,
        size=9,
        ha="center",
        va="bottom",
        linespacing=1.25,
    )

    # Output valve and output state: h_t = o_t x tanh(c_t) --------------------------------------
    d.dot("output_state", col_c, (_X_OUT, _PIPE_Y), r=0.09)
    d.wire("output_state", col_c, [(_X_OUT, _PIPE_Y), (_X_OUT, _MID_Y + _BOX_H / 2)])
    d.box("output_state", col_c, (_X_OUT, _MID_Y), r"$\tanh$")
    d.wire("output_state", col_c, [(_X_OUT, _MID_Y - _BOX_H / 2), (_X_OUT, _GATE_Y + _R_OP)])
    d.box("output_state", col_o, (_X_O, _GATE_Y), r"$\sigma$")
    d.wire("output_state", col_o, [(_X_O + _BOX_W / 2, _GATE_Y), (_X_OUT - _R_OP, _GATE_Y)])
    d.op("output_state", col_o, (_X_OUT, _GATE_Y), "x")
    d.wire("output_state", col_h, [(_X_OUT + _R_OP, _GATE_Y), (_PIPE_X1 + 0.12, _GATE_Y)])
    d.text("output_state", (_PIPE_X1 + 0.2, _GATE_Y), r"$h_t$", color=col_h, size=11,
           ha="left", va="center")  # fmt: skip
    d.text("output_state", (0.5 * (_X_O + _X_OUT) + 0.1, _GATE_Y + 0.12), r"$o_t$", color=col_o,
           size=11, ha="center", va="bottom")  # fmt: skip
    d.text("output_state", (0.5 * (_X_OUT + _R_OP + bx1) + 0.1, _GATE_Y - 0.3),
           "output state\n(hidden state)", color=col_h, size=8, ha="center", va="top",
           linespacing=1.1)  # fmt: skip
    d.text(
        "output_state",
        (_X_OUT, _LABEL_Y),
        "output valve\n(output gate) $o_t$",
        color=col_o,
        size=9,
        ha="center",
        va="bottom",
        linespacing=1.25,
    )

    # Numbers of a worked example --------------------------------------------------------------
    spots = {
        "c_prev": (("memory_pipe", col_c), (_PIPE_X0 - 0.45, _PIPE_Y - 0.55), {}),
        "h_prev": (("inputs", col_x), (_PIPE_X0 - 0.45, _BUS_Y - 0.55), {}),
        "x": (("inputs", col_x), (_X_IN + 0.42, 0.2), {"ha": "left"}),
        "f": (("forget_valve", col_f), (_X_F + 0.14, _MID_Y - 0.5), {"ha": "left"}),
        "i": (("new_memory_valve", col_i), (_X_I - 0.14, _Y_IG - 0.45), {"ha": "right"}),
        "g": (("new_memory_valve", col_g), (_X_G + 0.14, _Y_IG - 0.45), {"ha": "left"}),
        "o": (("output_state", col_o), (0.5 * (_X_O + _X_OUT) + 0.1, _GATE_Y - 0.4), {}),
        "c": (("memory_pipe", col_c), (_PIPE_X1 + 0.45, _PIPE_Y - 0.55), {}),
        "h": (("output_state", col_h), (_PIPE_X1 + 0.45, _GATE_Y - 0.55), {}),
    }
    for key, v in vals.items():
        (part, col), xy, kw = spots[key]
        kw = {"ha": "center", "va": "center", **kw}
        d.value(part, col, xy, v, **kw)

    return fig


def _check_values(values, keys=VALUE_KEYS, example: str = "f") -> dict[str, float]:
    """``values`` (a dict of some of ``keys`` -> a finite number, or None) as floats."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise TypeError(
            f"values: expected a dict like {{{example!r}: 0.9}}, got {type(values).__name__}"
        )
    unknown = [k for k in values if k not in keys]
    if unknown:
        allowed = ", ".join(repr(k) for k in keys)
        raise ValueError(f"values: unknown key(s) {unknown!r}; the allowed names are {allowed}")
    return {k: _scalar(f"values[{k!r}]", values[k]) for k in keys if k in values}


_WHOLE = (
    "The memory pipe (cell state) carries the old memory c(t-1) from left to right and leaves as "
    "the new memory c(t). On the pipe, the forget valve (forget gate f(t), a sigmoid) multiplies "
    "the old memory; then the new memory valve adds the input gate i(t) (a sigmoid) times the "
    "candidate G(t) (a tanh). A branch of the pipe goes through tanh and is multiplied by the "
    "output valve (output gate o(t), a sigmoid) to give the output state h(t), which leaves on the "
    "right with c(t)."
)
_INPUTS = {
    True: " The inputs h(t-1) and x(t) enter at the bottom left and, with the old memory c(t-1) "
    "through a dashed peephole line, feed every gate.",
    False: " The inputs h(t-1) and x(t) enter at the bottom left and feed every gate.",
}
_FOCUS = {
    None: "",
    "memory_pipe": " Highlighted: the memory pipe, the thick horizontal line across the top that "
    "carries the memory from c(t-1) to c(t); everything else is greyed out.",
    "forget_valve": " Highlighted: the forget valve, a sigmoid box whose output f(t) rises to a "
    "multiplication on the memory pipe; everything else is greyed out.",
    "new_memory_valve": " Highlighted: the new memory valve, where a sigmoid gives i(t) and a tanh "
    "gives the candidate G(t); their product is added (+) into the memory pipe; everything else "
    "is greyed out.",
    "output_state": " Highlighted: the output valve and output state, where tanh of the new memory "
    "c(t) is multiplied by the output gate o(t) to give h(t), which leaves on the right with c(t); "
    "everything else is greyed out.",
}
_VALUE_NAMES = {
    "c_prev": "c(t-1)",
    "h_prev": "h(t-1)",
    "x": "x(t)",
    "f": "f(t)",
    "i": "i(t)",
    "g": "G(t)",
    "o": "o(t)",
    "c": "c(t)",
    "h": "h(t)",
}


def alt_text(
    highlight: str | None = None,
    *,
    values: Mapping[str, float] | None = None,
    peephole: bool = True,
) -> str:
    """Alt text for ``draw_unit(highlight, values=values, peephole=peephole)``.

    Plain words (no LaTeX), for the cell's ``"mystnb": {"image": {"alt": ...}}`` metadata.
    """
    _check_choice("highlight", highlight, PARTS, allow_none=True)
    vals = _check_values(values)
    head = "Diagram of the LSTM unit drawn as pipes and valves"
    if highlight is not None:
        head += ", " + highlight.replace("_", " ") + " highlighted"
    text = head + ". " + _WHOLE + _INPUTS[bool(peephole)] + _FOCUS[highlight]
    if vals:
        text += " Numbers of the worked example written on the diagram: " + ", ".join(
            f"{_VALUE_NAMES[k]} = {_fmt(v)}" for k, v in vals.items()
        )
        text += "."
    return text


# --------------------------------------------------------------------------------------------------
# Plot helpers
# --------------------------------------------------------------------------------------------------


def _quantity(name: str) -> str | None:
    """The quantity a series name refers to: ``"f"``, ``"f_t"``, ``"f (unit 0)"`` -> ``"f"``."""
    if name in COLORS:
        return name
    for sep in ("_", " ", "(", "["):
        head = name.split(sep, 1)[0].strip()
        if head in COLORS:
            return head
    return None


def plot_series(
    ax,
    t,
    series: Mapping[str, np.ndarray],
    *,
    xlabel: str = "time step $t$",
    ylabel: str | None = None,
    title: str | None = None,
    ylim: tuple[float, float] | None = None,
    legend: bool | str = "best",
    markers: bool = False,
):
    """Plot named series over time, each quantity in its book colour.

    Parameters
    ----------
    ax : matplotlib Axes
    t : array (T,) or None
        Time steps; None means ``0, 1, ..., T-1``.
    series : mapping name -> array (T,)
        A name that is a quantity of the unit (``"c"``, ``"h"``, ``"f"``, ``"i"``, ``"g"``,
        ``"o"``, ``"x"``), or starts with one (``"f_t"``, ``"c (unit 2)"``), is drawn in that
        quantity's :data:`COLORS` and, for a bare key, labelled from :data:`LABELS`; other names
        take the next colour of the cycle and their own name as label.
    legend : "best", another matplotlib ``loc``, "outside" (right of the axes), or False.
    markers : draw a dot at every step (useful for short sequences).

    Returns the axes.
    """
    if not isinstance(series, Mapping) or not series:
        raise ValueError("series: expected a non-empty dict name -> array of shape (T,)")
    arrays = {}
    for name, y in series.items():
        y = np.asarray(y)
        if y.ndim != 1 or y.dtype.kind not in "biuf":
            raise ValueError(
                f"series[{name!r}]: expected a 1-D real array (T,), got shape {y.shape} and dtype "
                f"{y.dtype} (pick one unit, e.g. m.gates['f'][:, 0, 0])"
            )
        arrays[str(name)] = y
    lengths = {len(y) for y in arrays.values()}
    if len(lengths) != 1:
        raise ValueError(f"series: expected arrays of one length, got lengths {sorted(lengths)}")
    (T,) = lengths
    t = np.arange(T) if t is None else np.asarray(t)
    if t.shape != (T,):
        raise ValueError(f"t: expected shape ({T},) like the series, got {t.shape}")
    for name, y in arrays.items():
        q = _quantity(name)
        kw = {}
        if q is not None:
            kw["color"] = COLORS[q]
        label = LABELS[name] if name in LABELS else name
        ax.plot(t, y, label=label, marker="o" if markers else None, **kw)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if legend == "outside":
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    elif legend:
        ax.legend(loc=legend)
    return ax


def _cmap(name: str):
    """Sequential white -> colour for the gates; diverging orange - white - blue for signed ones."""
    if name in ("f", "i", "o"):
        return LinearSegmentedColormap.from_list(f"lstm_{name}", ["#FFFFFF", COLORS[name]])
    return LinearSegmentedColormap.from_list(
        "lstm_signed", [OKABE_ITO["vermillion"], "#FFFFFF", OKABE_ITO["blue"]]
    )


_HEAT_TITLES = {
    "f": r"forget valve $f_t$",
    "i": r"new memory valve $i_t$",
    "g": r"candidate $G_t$",
    "o": r"output valve $o_t$",
    "c": r"memory $c_t$",
    "h": r"output $h_t$",
}


def plot_gates_heatmap(
    gates: Mapping[str, np.ndarray],
    *,
    names: Sequence[str] = ("f", "i", "o", "c"),
    t=None,
    batch: int = 0,
    title: str | None = None,
) -> Figure:
    """One heat-map panel per quantity, time across and units down (e.g. a trained unit's gates).

    Parameters
    ----------
    gates : mapping name -> array (T, H) or (T, B, H)
        For instance ``LSTM.gates`` after a forward pass (then ``batch`` picks the sequence).
    names : which quantities to show, top to bottom; from ``"f", "i", "g", "o", "c", "h"``.
        Gates (``f``, ``i``, ``o``) use a white-to-colour scale on [0, 1]; the signed quantities
        (``g``, ``c``, ``h``) a vermillion-white-blue scale symmetric about 0.
    t : array (T,) or None
        Time labels of the columns (default ``0 .. T-1``).
    batch : which sequence of a (T, B, H) array.

    Returns a new Figure (6.5 in wide, ~1.1 in per panel).
    """
    allowed = tuple(_HEAT_TITLES)
    if isinstance(names, str):
        names = (names,)
    if not names:
        raise ValueError("names must name at least one quantity")
    for n in names:
        _check_choice("each name in names", n, allowed)
        if n not in gates:
            raise ValueError(f"gates: no {n!r} among its keys {sorted(gates)!r}")
    mats = []
    for n in names:
        a = np.asarray(gates[n])
        if a.dtype.kind not in "biuf" or a.ndim not in (2, 3):
            raise ValueError(
                f"gates[{n!r}]: expected a real array (T, H) or (T, B, H), got {a.shape}"
            )
        if a.ndim == 3:
            if not 0 <= batch < a.shape[1]:
                raise ValueError(f"batch: expected an index in [0, {a.shape[1]}), got {batch}")
            a = a[:, batch, :]
        mats.append(a)
    shapes = {m.shape for m in mats}
    if len(shapes) != 1:
        raise ValueError(f"every quantity must have the same (T, H); got {sorted(shapes)}")
    T, Hn = mats[0].shape
    t = np.arange(T) if t is None else np.asarray(t)
    if t.shape != (T,):
        raise ValueError(f"t must have shape ({T},); got {t.shape}")

    fig = _figure((6.5, 0.45 + 1.05 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    dt = (t[1] - t[0]) if T > 1 else 1.0
    extent = (t[0] - dt / 2, t[-1] + dt / 2, Hn - 0.5, -0.5)
    for ax, n, m in zip(axes, names, mats, strict=True):
        if n in ("f", "i", "o"):
            vmin, vmax = 0.0, 1.0
        else:
            lim = max(float(np.max(np.abs(m))), 1e-12) if n == "c" else 1.0
            vmin, vmax = -lim, lim
        im = ax.imshow(m.T, aspect="auto", cmap=_cmap(n), vmin=vmin, vmax=vmax,
                       interpolation="nearest", extent=extent)  # fmt: skip
        ax.grid(False)
        ax.set_ylabel("unit")
        ax.set_yticks(range(Hn) if Hn <= 8 else np.linspace(0, Hn - 1, 5).round().astype(int))
        ax.set_title(_HEAT_TITLES[n], fontsize=10, loc="left", color=_ink(COLORS[n]))
        cb = fig.colorbar(im, ax=ax, pad=0.01, aspect=8)
        cb.outline.set_visible(False)
        cb.ax.tick_params(labelsize=8)
    axes[-1].set_xlabel("time step $t$")
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    return fig


def plot_memory_decay(
    ax,
    forget=(0.5, 0.9, 0.99),
    *,
    steps: int = 30,
    c0: float = 1.0,
    half_life: bool = True,
    legend: bool | str = "best",
):
    """The memory pipe with the new memory valve shut: ``c_t = f**t * c0`` for each forget value.

    Parameters
    ----------
    ax : matplotlib Axes
    forget : a number or sequence of numbers in [0, 1], the forget valve held fixed.
    steps : the last time step drawn (``t = 0 .. steps``).
    c0 : the memory at ``t = 0``.
    half_life : mark where each curve halves, ``t = ln 2 / ln(1/f)``, and draw ``c0 / 2``.

    Lines are shades of the forget valve's colour (darker = remembers longer). Returns the axes.
    """
    fs = np.atleast_1d(np.asarray(forget, dtype=float))
    if fs.ndim != 1 or fs.size == 0 or not np.all(np.isfinite(fs)):
        raise ValueError(f"forget: expected a number or a 1-D sequence of numbers, got {forget!r}")
    if np.any((fs < 0) | (fs > 1)):
        raise ValueError(
            f"forget: expected values in [0, 1] (a sigmoid's range), got {fs.tolist()}"
        )
    steps = check_positive_int("steps", steps)
    c0 = check_real("c0", c0)
    t = np.arange(steps + 1)
    order = np.argsort(fs)
    shades = np.linspace(0.35, 1.0, len(fs)) if len(fs) > 1 else np.array([1.0])
    for rank, k in enumerate(order):
        f = fs[k]
        col = _tint(COLORS["f"], shades[rank])
        ax.plot(
            t, c0 * f**t, color=col, label=f"$f_t = {f:.2f}$", marker="o" if steps <= 12 else None
        )
        if half_life and 0 < f < 1:
            th = math.log(2) / math.log(1 / f)
            if th <= steps:
                ax.plot([th], [c0 / 2], marker="o", ms=5, color=col, mec="white", zorder=4)
    if half_life:
        ax.axhline(c0 / 2, color="#999999", lw=0.9, ls=(0, (4, 3)), zorder=1)
        ax.annotate("half the memory", (steps, c0 / 2), xytext=(0, 3), textcoords="offset points",
                    ha="right", va="bottom", fontsize=8, color="#777777")  # fmt: skip
    ax.set_xlabel("time step $t$")
    ax.set_ylabel(r"memory $c_t$")
    ax.set_xlim(0, steps)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    lo, hi = sorted((0.0, c0))
    pad = 0.05 * (hi - lo or 1.0)
    ax.set_ylim(lo - pad, hi + pad)
    if legend:
        ax.legend(loc=legend)
    return ax


# --------------------------------------------------------------------------------------------------
# The GRU's diagram (chapter 18): the same pipes, valves and colours
# --------------------------------------------------------------------------------------------------

#: The parts :func:`draw_gru` can highlight.
GRU_PARTS: tuple[str, ...] = ("memory_pipe", "update_valve", "reset_valve", "candidate")

#: The numbers :func:`draw_gru` can write on the diagram (``values=``).
GRU_VALUE_KEYS: tuple[str, ...] = ("h_prev", "x", "r", "z", "n", "h")

#: The GRU's quantities in the colours of the LSTM's that play their role: the memory (here the
#: output too) blue, the update valve the forget valve's vermillion, its complement ``1 - z_t``
#: the new memory valve's green, the candidate ``n_t`` the candidate's orange; the reset valve,
#: which the LSTM does not have, takes the reddish purple the GRU's missing output valve frees.
GRU_COLORS: dict[str, str] = {
    "h": COLORS["c"],
    "z": COLORS["f"],
    "1-z": COLORS["i"],
    "n": COLORS["g"],
    "r": COLORS["o"],
    "x": COLORS["x"],
}

_X_Z, _X_ONE_MINUS = _X_F, 5.3  # update valve; its complement 1 - z on the way to the new memory
_X_N, _X_N_X, _X_N_H = _X_G, 7.45, 8.05  # candidate; its taps for x_t and the reset h-share
_X_R = 9.75  # reset valve
_Y_RESET = 1.85  # the reset product r * (W_nh h + b_hn), between the bus and the candidate
_X_H_DOWN = 1.85  # where h_(t-1) leaves the pipe for the valves


def draw_gru(
    highlight: str | None = None,
    *,
    values: Mapping[str, float] | None = None,
    ax=None,
) -> Figure:
    """Draw the GRU as pipes and valves, in the style of :func:`draw_unit`.

    The memory pipe carries ``h_{t-1}`` to ``h_t`` (in the GRU the memory *is* the output). The
    update valve ``z_t`` multiplies the old memory (the forget valve's place); ``1 - z_t`` lets
    the candidate ``n_t`` in (the new memory valve's place); the reset valve ``r_t`` multiplies
    the old memory's share of the candidate. ``highlight``: None or one of :data:`GRU_PARTS`.
    ``values``: numbers to write on it, keys from :data:`GRU_VALUE_KEYS` (rounded to 2
    decimals). ``ax``: draw into this axes. Returns the figure (closed in pyplot), as
    :func:`draw_unit`; each artist's gid lists its part(s), e.g. ``"lstm-reset_valve"``.
    """
    _check_choice("highlight", highlight, GRU_PARTS, allow_none=True)
    vals = _check_values(values, GRU_VALUE_KEYS, "z")
    fig, ax = _diagram_axes(ax)
    d = _Canvas(ax, highlight)
    col_h, col_z, col_1z, col_n, col_r = (GRU_COLORS[k] for k in ("h", "z", "1-z", "n", "r"))
    col_x = "#4D4D4D"

    bx0, by0, bx1, by1 = _BODY
    body = FancyBboxPatch((bx0, by0), bx1 - bx0, by1 - by0, facecolor="#FAFAFA",
                          boxstyle="round,pad=0,rounding_size=0.35", edgecolor="#D0D0D0",
                          linewidth=1.0, zorder=0.2)  # fmt: skip
    ax.add_patch(body)
    body.set_gid("lstm-body")
    top = _PIPE_Y + 0.45
    d.glow("memory_pipe", col_h, 0.05, _PIPE_Y - 0.45, _W - 0.05, _PIPE_Y + 0.75)
    d.glow("update_valve", col_z, _X_Z - 0.62, _GATE_Y - 0.5, _X_NEW + 0.45, top)
    d.glow("candidate", col_n, _X_N_X - 0.3, _Y_RESET - 0.45, _X_N + 0.62, _MID_Y + 0.45)
    d.glow("reset_valve", col_r, _X_N_H - 0.4, _Y_RESET - 0.45, _X_R + 0.62, _GATE_Y + 0.45)

    # The memory pipe, h_(t-1) to h_t ----------------------------------------------------------
    pc = d.color("memory_pipe", col_h)
    band = FancyBboxPatch((_PIPE_X0, _PIPE_Y - _PIPE_R), _PIPE_X1 - _PIPE_X0 - 0.25, 2 * _PIPE_R,
                          boxstyle="round,pad=0,rounding_size=0.06", facecolor=_tint(pc, 0.22),
                          edgecolor=pc, linewidth=d.lw("memory_pipe", 1.3), zorder=3)  # fmt: skip
    ax.add_patch(band)
    d._tag(band, "memory_pipe")
    head = FancyArrowPatch((_PIPE_X1 - 0.3, _PIPE_Y), (_PIPE_X1 + 0.12, _PIPE_Y),
                           arrowstyle="simple,head_length=0.9,head_width=1.35,tail_width=0.01",
                           mutation_scale=14, facecolor=pc, edgecolor=pc, linewidth=0.5,
                           zorder=3.1)  # fmt: skip
    ax.add_patch(head)
    d._tag(head, "memory_pipe")
    d.text("memory_pipe", (_PIPE_X0 - 0.12, _PIPE_Y), r"$h_{t-1}$", color=col_h, size=11,
           ha="right", va="center")  # fmt: skip
    d.text("memory_pipe", (_PIPE_X1 + 0.2, _PIPE_Y), r"$h_t$", color=col_h, size=11, ha="left",
           va="center")  # fmt: skip
    d.text("memory_pipe", (_X_MEM_LABEL, _LABEL_Y), "memory pipe\n(hidden state) $h_t$",
           color=col_h, size=9, ha="center", va="bottom", linespacing=1.25)  # fmt: skip

    # The inputs: the old memory h_(t-1) down to the bus, x_t up to it ---------------------------
    d.dot("memory_pipe", col_h, (_X_H_DOWN, _PIPE_Y), r=0.09)
    d.wire("inputs", col_h, [(_X_H_DOWN, _PIPE_Y), (_X_H_DOWN, _BUS_Y)], arrow=False, z=2.5)
    d.wire("inputs", col_x, [(_X_H_DOWN, _BUS_Y), (_X_R, _BUS_Y)], arrow=False)
    d.text("inputs", (_X_IN, 0.02), r"$x_t$", color="#222222", size=11, ha="center", va="bottom")
    d.wire("inputs", col_x, [(_X_IN, 0.42), (_X_IN, _BUS_Y)], arrow=False)
    for xg in (_X_H_DOWN, _X_IN, _X_Z, _X_N_X, _X_N_H, _X_R):
        d.dot("inputs", col_x, (xg, _BUS_Y))
    d.text("inputs", (0.5 * (_X_Z + _X_R), _BUS_Y - 0.12),
           r"the valves see $[h_{t-1},\, x_t]$; the candidate sees $x_t$, and $h_{t-1}$ "
           r"through $r_t$",
           color="#555555", size=8, ha="center", va="top", weight="normal")  # fmt: skip
    top_of_bus = _GATE_Y - _BOX_H / 2

    # Update valve: z_t multiplies the old memory; 1 - z_t lets the candidate in --------------
    d.wire("update_valve", col_x, [(_X_Z, _BUS_Y), (_X_Z, top_of_bus)])
    d.box("update_valve", col_z, (_X_Z, _GATE_Y), r"$\sigma$")
    d.wire("update_valve", col_z, [(_X_Z, _GATE_Y + _BOX_H / 2), (_X_Z, _PIPE_Y - _R_OP)])
    d.op("update_valve", col_z, (_X_Z, _PIPE_Y), "x")
    d.text("update_valve", (_X_Z - 0.12, _MID_Y - 0.05), r"$z_t$", color=col_z, size=11,
           ha="right", va="center")  # fmt: skip
    d.dot("update_valve", col_z, (_X_Z, _MID_Y))
    d.wire("update_valve", col_z, [(_X_Z, _MID_Y), (_X_ONE_MINUS - 0.33, _MID_Y)])
    d.box("update_valve", col_1z, (_X_ONE_MINUS, _MID_Y), r"$1-$", w=0.66)
    d.wire("update_valve", col_1z, [(_X_ONE_MINUS + 0.33, _MID_Y), (_X_NEW - _R_OP, _MID_Y)])
    d.text("update_valve", (_X_ONE_MINUS + 0.55, _MID_Y + 0.1), r"$1 - z_t$", color=col_1z,
           size=9.5, ha="left", va="bottom")  # fmt: skip
    d.op(("update_valve", "candidate"), col_1z, (_X_NEW, _MID_Y), "x")
    d.wire(
        ("update_valve", "candidate"), col_1z, [(_X_NEW, _MID_Y + _R_OP), (_X_NEW, _PIPE_Y - _R_OP)]
    )
    d.op(("update_valve", "candidate"), col_1z, (_X_NEW, _PIPE_Y), "+")
    d.text("update_valve", (0.5 * (_X_Z + _X_NEW), _LABEL_Y),
           "update valve (update gate) $z_t$:\nkeeps $z_t$ of the memory, lets in "
           "$1 - z_t$ of $n_t$",
           color=col_z, size=9, ha="center", va="bottom", linespacing=1.25)  # fmt: skip

    # Candidate n_t = tanh(W_nx x + b_n + r * (W_nh h + b_hn)) ---------------------------------
    d.wire("candidate", col_x, [(_X_N_X, _BUS_Y), (_X_N_X, top_of_bus)])
    d.box("candidate", col_n, (_X_N, _GATE_Y), r"$\tanh$")
    d.wire(
        "candidate", col_n, [(_X_N, _GATE_Y + _BOX_H / 2), (_X_N, _MID_Y), (_X_NEW + _R_OP, _MID_Y)]
    )
    d.text("candidate", (_X_N + 0.35, _MID_Y + 0.12), "candidate\n$n_t$", color=col_n, size=9,
           ha="left", va="bottom", linespacing=1.15)  # fmt: skip

    # Reset valve: r_t multiplies the old memory's share of the candidate ----------------------
    d.wire(("reset_valve", "candidate"), col_x, [(_X_N_H, _BUS_Y), (_X_N_H, _Y_RESET - _R_OP)])
    d.op("reset_valve", col_r, (_X_N_H, _Y_RESET), "x")
    d.wire(("reset_valve", "candidate"), col_r, [(_X_N_H, _Y_RESET + _R_OP), (_X_N_H, top_of_bus)])
    d.wire("reset_valve", col_x, [(_X_R, _BUS_Y), (_X_R, top_of_bus)])
    d.box("reset_valve", col_r, (_X_R, _GATE_Y), r"$\sigma$")
    x_turn = 0.5 * (_X_N_H + _X_R)
    d.wire("reset_valve", col_r, [(_X_R - _BOX_W / 2, _GATE_Y), (x_turn, _GATE_Y),
                                  (x_turn, _Y_RESET), (_X_N_H + _R_OP, _Y_RESET)])  # fmt: skip
    d.text("reset_valve", (x_turn + 0.1, _GATE_Y + 0.12), r"$r_t$", color=col_r, size=11,
           ha="left", va="bottom")  # fmt: skip
    d.text("reset_valve", (_X_R + 0.55, _GATE_Y), "reset valve\n(reset gate) $r_t$", color=col_r,
           size=9, ha="left", va="center", linespacing=1.25)  # fmt: skip

    spots = {
        "h_prev": ("memory_pipe", col_h, (_PIPE_X0 - 0.45, _PIPE_Y - 0.55), {}),
        "x": ("inputs", col_x, (_X_IN + 0.42, 0.2), {"ha": "left"}),
        "z": ("update_valve", col_z, (_X_Z - 0.14, _MID_Y - 0.5), {"ha": "right"}),
        "n": ("candidate", col_n, (_X_N + 0.14, _MID_Y - 0.95), {"ha": "left"}),
        "r": ("reset_valve", col_r, (x_turn + 0.1, _Y_RESET - 0.05), {"ha": "left"}),
        "h": ("memory_pipe", col_h, (_PIPE_X1 + 0.45, _PIPE_Y - 0.55), {}),
    }
    for key, v in vals.items():
        part, col, xy, kw = spots[key]
        d.value(part, col, xy, v, **{"ha": "center", "va": "center", **kw})
    return fig


_GRU_WHOLE = (
    "The memory pipe carries the old memory h(t-1) from left to right and leaves as h(t), which "
    "is also the unit's output. On the pipe, the update valve (update gate z(t), a sigmoid) "
    "multiplies the old memory, and its complement 1 - z(t) multiplies the candidate n(t) (a "
    "tanh) before it is added (+) into the pipe. The old memory also drops down to a bus at the "
    "bottom, which, with the input x(t), feeds the update valve and the reset valve (reset gate "
    "r(t), a sigmoid). The candidate sees x(t) directly and the old memory's share only through a "
    "multiplication by r(t)."
)
_GRU_FOCUS = {
    None: "",
    "memory_pipe": " Highlighted: the memory pipe across the top, from h(t-1) to h(t); everything "
    "else is greyed out.",
    "update_valve": " Highlighted: the update valve, a sigmoid box whose output z(t) multiplies "
    "the memory on the pipe and, through a 1 - z(t) box, the candidate on its way in; everything "
    "else is greyed out.",
    "reset_valve": " Highlighted: the reset valve, a sigmoid box at the right whose output r(t) "
    "multiplies the old memory's share of the candidate below the candidate's tanh box; everything "
    "else is greyed out.",
    "candidate": " Highlighted: the candidate n(t), a tanh box fed by x(t) and by the reset old "
    "memory, whose output goes through the 1 - z(t) multiplication into the pipe; everything else "
    "is greyed out.",
}
_GRU_VALUE_NAMES = {"h_prev": "h(t-1)", "x": "x(t)", "r": "r(t)", "z": "z(t)", "n": "n(t)",
                    "h": "h(t)"}  # fmt: skip


def gru_alt_text(highlight: str | None = None, *, values: Mapping[str, float] | None = None) -> str:
    """Alt text for ``draw_gru(highlight, values=values)``, in plain words (no LaTeX)."""
    _check_choice("highlight", highlight, GRU_PARTS, allow_none=True)
    vals = _check_values(values, GRU_VALUE_KEYS, "z")
    head = "Diagram of the GRU drawn as pipes and valves"
    if highlight is not None:
        head += ", " + highlight.replace("_", " ") + " highlighted"
    text = head + ". " + _GRU_WHOLE + _GRU_FOCUS[highlight]
    if vals:
        text += " Numbers of the worked example written on the diagram: " + ", ".join(
            f"{_GRU_VALUE_NAMES[k]} = {_fmt(v)}" for k, v in vals.items()
        )
        text += "."
    return text


__all__ += ["GRU_COLORS", "GRU_PARTS", "GRU_VALUE_KEYS", "draw_gru", "gru_alt_text"]
