"""The interactive part of each chapter: valves to turn, in Jupyter and in the static HTML.

A chapter writes its plot once, as ``plot_fn(ax, **values)`` drawing on a fresh axes, and gets

* :func:`valve_sliders`: ipywidgets sliders and a plot that redraws when one moves (needs a
  kernel: JupyterLab, Binder);
* :func:`static_slider`: the same plot pre-rendered for a handful of values and shown with an
  ``<input type="range">`` and a few lines of vanilla JavaScript, for the book's HTML, where no
  kernel runs. It is self-contained HTML (frames as ``data:`` URIs, no external resource), so it
  also works inside Jupyter.

Example::

    def plot(ax, f):
        draw.plot_memory_decay(ax, f, steps=20)

    interact.valve_sliders(plot, f=(0.0, 1.0, 0.05, 0.9, "forget valve $f_t$"))
    interact.static_slider(plot, "f", np.linspace(0.5, 1.0, 11), label="forget valve f_t",
                           alt="The memory c_t decaying over 20 steps with the forget valve held")

This module imports matplotlib and ipywidgets; it is deliberately not imported by
``lstmlib/__init__.py``: use ``from lstmlib import interact``.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from IPython.display import HTML
from matplotlib.figure import Figure
from PIL import Image  # Pillow: a dependency of matplotlib

from . import draw
from ._checks import check_positive_int, check_real

__all__ = ["MAX_FRAMES", "static_slider", "valve_sliders"]

#: The most frames :func:`static_slider` renders: each one is a PNG stored in the notebook.
MAX_FRAMES = 25

_PNG_COLORS = 128
_ids = itertools.count(1)  # deterministic element ids within a kernel session


def _check_plot_fn(plot_fn) -> None:
    if not callable(plot_fn):
        raise TypeError(
            f"plot_fn: expected a function plot_fn(ax, **values), got {type(plot_fn).__name__}"
        )


def _check_fixed(fixed, names: Sequence[str]) -> dict:
    if fixed is None:
        return {}
    if not isinstance(fixed, Mapping):
        raise TypeError(f"fixed: expected a dict of extra arguments, got {type(fixed).__name__}")
    clash = sorted(set(fixed) & set(names))
    if clash:
        raise ValueError(f"fixed: {clash!r} are also sliders; a name is either fixed or a slider")
    return dict(fixed)


def _check_figsize(figsize) -> tuple[float, float]:
    try:
        w, h = figsize
    except (TypeError, ValueError):
        raise ValueError(f"figsize: expected (width, height) in inches, got {figsize!r}") from None
    w, h = check_real("figsize[0]", w), check_real("figsize[1]", h)
    if w <= 0 or h <= 0:
        raise ValueError(f"figsize: expected positive sizes, got {figsize!r}")
    return (w, h)


def _slider_spec(name: str, spec) -> tuple[float, float, float, float, str]:
    """``(min, max, step, value[, description])`` checked, with a default description."""
    if isinstance(spec, Mapping):
        keys = ("min", "max", "step", "value", "description")
        unknown = sorted(set(spec) - set(keys))
        if unknown:
            raise ValueError(f"{name}: unknown key(s) {unknown!r}; the allowed keys are {keys}")
        spec = tuple(spec[k] for k in keys if k in spec)
    if not isinstance(spec, (tuple, list)) or len(spec) not in (4, 5):
        raise ValueError(
            f"{name}: expected (min, max, step, value) or (min, max, step, value, description), "
            f"got {spec!r}"
        )
    lo, hi, step, value = (check_real(f"{name}[{k}]", v) for k, v in enumerate(spec[:4]))
    description = spec[4] if len(spec) == 5 else name
    if not isinstance(description, str):
        raise TypeError(f"{name}: expected the description (5th item) to be a str")
    if not lo < hi:
        raise ValueError(f"{name}: expected min < max, got min={lo}, max={hi}")
    if not 0 < step <= hi - lo:
        raise ValueError(f"{name}: expected 0 < step <= max - min, got step={step}")
    if not lo <= value <= hi:
        raise ValueError(f"{name}: expected min <= value <= max, got value={value}")
    return lo, hi, step, value, description


def _decimals(v: float) -> int:
    """Decimals needed to show ``v`` exactly (at most 4): 0.05 -> 2, 0.1 -> 1, 2 -> 0."""
    text = f"{abs(v):.4f}".rstrip("0")
    decimals = len(text.split(".")[1])
    return 4 if decimals == 0 and 0 < abs(v) < 1 else decimals


def _render(plot_fn, values: dict, figsize, dpi=None) -> Figure:
    fig = draw._figure(figsize, dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    plot_fn(ax, **values)
    return fig


def valve_sliders(
    plot_fn: Callable,
    *,
    fixed: Mapping | None = None,
    figsize: tuple[float, float] = (6.5, 3.0),
    continuous_update: bool = True,
    alt: str | Callable | None = None,
    **sliders,
):
    """Sliders for a chapter's valves and a plot that redraws when one moves (needs a kernel).

    Parameters
    ----------
    plot_fn : callable ``plot_fn(ax, **values)``
        Draws on the fresh axes it is given, one keyword argument per slider (plus ``fixed``).
        Fix the axis limits inside it, so the plot does not jump as a slider moves.
    fixed : dict, optional
        Extra keyword arguments passed to every call of ``plot_fn`` unchanged.
    figsize : (width, height) in inches of the figure redrawn each time.
    continuous_update : redraw while the slider is dragged (True) or when it is released.
    alt : str, or callable ``alt(**values) -> str``, optional
        Alt text of the plot; a callable is given the current slider values. By default it names
        the sliders and their values.
    **sliders : ``name=(min, max, step, value)`` or ``name=(min, max, step, value, description)``
        One ``FloatSlider`` each, in the order given; the description (default: the name) may use
        LaTeX, e.g. ``"forget valve $f_t$"``. A dict with those keys works too.

    Returns
    -------
    ipywidgets.VBox
        ``children[0]``: a VBox of the sliders, in order; ``children[1]``: the ``Output`` widget
        holding the plot. A notebook shows it as the cell's value.
    """
    import ipywidgets as widgets

    _check_plot_fn(plot_fn)
    if not sliders:
        raise ValueError("valve_sliders: expected at least one slider, e.g. f=(0, 1, 0.05, 0.9)")
    fixed = _check_fixed(fixed, list(sliders))
    figsize = _check_figsize(figsize)
    controls = {}
    for name, spec in sliders.items():
        lo, hi, step, value, description = _slider_spec(name, spec)
        controls[name] = widgets.FloatSlider(
            value=value,
            min=lo,
            max=hi,
            step=step,
            description=description,
            continuous_update=bool(continuous_update),
            readout_format=f".{max(_decimals(lo), _decimals(step), _decimals(value))}f",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="min(100%, 460px)"),
        )

    if alt is not None and not (callable(alt) or isinstance(alt, str)):
        raise TypeError(f"alt: expected a string or a callable alt(**values), got {alt!r}")
    out = widgets.Output(layout=widgets.Layout(min_height=f"{int(figsize[1] * 100)}px"))

    def redraw(change=None):
        # The plot is set as the Output widget's state in one assignment, not display()ed into it:
        # a display message would also land in the cell's own outputs when the notebook is run
        # headless (nbclient, nbval), and the saved widget state is what the static HTML shows.
        values = {name: control.value for name, control in controls.items()}
        text = alt(**values) if callable(alt) else alt or _default_alt(controls, values)
        src = _png_data_uri(_render(plot_fn, {**fixed, **values}, figsize), dpi=100)
        img = f'<img src="{src}" alt="{html.escape(text)}" style="max-width: 100%">'
        out.outputs = (
            {
                "output_type": "display_data",
                "data": {"text/html": img, "text/plain": text},
                "metadata": {},
            },
        )

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.VBox(list(controls.values())), out])


def _default_alt(controls, values) -> str:
    settings = ", ".join(
        f"{control.description or name} = {values[name]:.{_decimals(control.step)}f}"
        for name, control in controls.items()
    )
    return f"The plot redrawn for {settings}"


def _check_values(values) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"values: expected a sequence of numbers, got {values!r}") from None
    if arr.ndim != 1 or not 2 <= arr.size <= MAX_FRAMES:
        raise ValueError(
            f"values: expected a 1-D sequence of 2 to {MAX_FRAMES} numbers (one frame each), "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"values: expected finite numbers, got {arr.tolist()}")
    steps = np.diff(arr)
    if not (np.all(steps > 0) and np.allclose(steps, steps[0], rtol=1e-6, atol=1e-12)):
        raise ValueError(
            "values: expected evenly spaced, increasing numbers (a range slider moves in equal "
            f"steps), e.g. np.linspace(0, 1, 11); got {arr.tolist()}"
        )
    return arr


def _num(v: float) -> str:
    """A number for an HTML attribute: short, exact enough, the same on every run."""
    s = f"{v:.10g}"
    return "0" if s == "-0" else s


def _png_data_uri(fig: Figure, dpi: int) -> str:
    """The figure as a small PNG ``data:`` URI: 128 colours (a third of the bytes, same look)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    image = image.quantize(_PNG_COLORS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    image.save(buf, format="png", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# Swaps the frame when the range input moves. Finds its own figure (the element just before the
# script) so that any number of sliders can share a page, even with clashing ids.
_JS = """(function () {
  var s = document.currentScript, root = s && s.previousElementSibling;
  if (!root || !root.hasAttribute("data-lstm-frames")) root = document.getElementById("%(id)s");
  if (!root || root.getAttribute("data-lstm-ready")) return;
  root.setAttribute("data-lstm-ready", "1");
  var input = root.querySelector("input[type=range]"), out = root.querySelector("output");
  var imgs = root.querySelectorAll("img"), text = %(text)s;
  var lo = parseFloat(input.min), step = parseFloat(input.step);
  function show() {
    var k = Math.round((parseFloat(input.value) - lo) / step);
    k = Math.max(0, Math.min(imgs.length - 1, k));
    for (var j = 0; j < imgs.length; j++) {
      imgs[j].hidden = j !== k;
      imgs[j].style.display = j === k ? "" : "none";
    }
    out.textContent = text[k];
    input.setAttribute("aria-valuetext", text[k]);
  }
  input.addEventListener("input", show);
  input.disabled = false;
  show();
})();"""


def static_slider(
    plot_fn: Callable,
    name: str,
    values: Sequence[float],
    *,
    alt: str | Callable[[float], str],
    label: str | None = None,
    fixed: Mapping | None = None,
    initial: float | None = None,
    fmt: str = "{:.2f}",
    figsize: tuple[float, float] = (6.5, 3.0),
    dpi: int = 80,
) -> HTML:
    """The kernel-free slider for the book's HTML: one pre-rendered frame per value.

    Parameters
    ----------
    plot_fn : callable ``plot_fn(ax, **values)``
        The same function as for :func:`valve_sliders`; called once per value as
        ``plot_fn(ax, **fixed, name=value)``. Fix its axis limits so the frames line up.
    name : the keyword argument of ``plot_fn`` the slider moves.
    values : 2 to :data:`MAX_FRAMES` evenly spaced, increasing numbers, e.g.
        ``np.linspace(0, 1, 11)``; they become the range input's ``min``, ``max`` and ``step``.
    alt : str or callable ``alt(value) -> str``
        What the plot shows, in plain words (required: it is each frame's alt text). A str gets
        ``", {label} = {value}"`` appended; a callable's text is used as it is.
    label : plain text shown before the current value (default: ``name``), e.g.
        ``"forget valve f_t"``.
    fixed : dict of extra keyword arguments for every call of ``plot_fn``.
    initial : the value shown first (default: the middle of ``values``).
    fmt : format of the value shown and spoken, e.g. ``"{:.2f}"``.
    figsize, dpi : size of each frame; the frames are PNGs of ``figsize * dpi`` pixels.

    Returns
    -------
    IPython.display.HTML
        A ``<figure data-lstm-frames>`` holding a labelled, keyboard-accessible
        ``<input type="range">`` (disabled until its script runs), an ``<output>`` with the current
        value and the frames as ``<img>`` with ``data:`` URIs, followed by a ``<script>`` that
        swaps the frame on ``input`` events. Element ids are ``lstm-slider-N``, N counting up
        from 1 in each kernel session, so re-running a notebook gives the same text.
    """
    _check_plot_fn(plot_fn)
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name: expected the name of a keyword argument of plot_fn, got {name!r}")
    arr = _check_values(values)
    fixed = _check_fixed(fixed, [name])
    figsize = _check_figsize(figsize)
    dpi = check_positive_int("dpi", dpi)
    label = name if label is None else label
    if not isinstance(label, str) or not label.strip():
        raise ValueError(f"label: expected non-empty plain text, got {label!r}")
    if not (callable(alt) or (isinstance(alt, str) and alt.strip())):
        raise ValueError("alt: expected a non-empty description of the plot (or alt(value) -> str)")
    if not isinstance(fmt, str):
        raise TypeError(f"fmt: expected a format string like '{{:.2f}}', got {fmt!r}")
    try:
        texts = [fmt.format(float(v)) for v in arr]
    except (ValueError, IndexError, KeyError) as err:
        raise ValueError(f"fmt: {fmt!r} cannot format a number ({err})") from None
    if initial is None:
        k0 = (len(arr) - 1) // 2
    else:
        initial = check_real("initial", initial)
        k0 = int(np.argmin(np.abs(arr - initial)))
        if not math.isclose(arr[k0], initial, rel_tol=1e-9, abs_tol=1e-12):
            raise ValueError(f"initial: expected one of values {arr.tolist()}, got {initial}")

    alts = []
    for v, text in zip(arr, texts, strict=True):
        a = alt(float(v)) if callable(alt) else f"{alt.strip()}, {label} = {text}"
        if not isinstance(a, str) or not a.strip():
            raise ValueError(f"alt({v}) returned {a!r}; expected a non-empty description")
        alts.append(a)

    width, height = (round(s * dpi) for s in figsize)
    frames = []
    for k, (v, a) in enumerate(zip(arr, alts, strict=True)):
        fig = _render(plot_fn, {**fixed, name: float(v)}, figsize, dpi=dpi)
        uri = _png_data_uri(fig, dpi)
        frames.append(
            f'<img src="{uri}" alt="{html.escape(a)}" width="{width}" height="{height}" '
            + (
                'style="max-width:100%;height:auto">'
                if k == k0
                else 'style="max-width:100%;height:auto;display:none" hidden>'
            )
        )

    uid = f"lstm-slider-{next(_ids)}"
    step = float(arr[1] - arr[0])
    esc = html.escape
    markup = (
        f'<figure class="lstm-slider" id="{uid}" data-lstm-frames="{len(arr)}" '
        f'style="margin:0.5em 0">\n'
        f'<div style="display:flex;align-items:center;gap:0.75em;flex-wrap:wrap;'
        f'font-size:0.95em">\n'
        f'<label for="{uid}-input">{esc(label)} = '
        f'<output id="{uid}-value" for="{uid}-input" style="font-variant-numeric:tabular-nums;'
        f'font-weight:bold">{esc(texts[k0])}</output></label>\n'
        f'<input type="range" id="{uid}-input" min="{_num(arr[0])}" max="{_num(arr[-1])}" '
        f'step="{_num(step)}" value="{_num(arr[k0])}" aria-valuetext="{esc(texts[k0])}" '
        f'style="width:min(100%,22em)" disabled>\n'
        f"</div>\n"
        f'<div class="lstm-slider-frames">\n' + "\n".join(frames) + "\n</div>\n</figure>\n"
    )
    # json, with "<" escaped so that no text can close the script element
    script = _JS % {"id": uid, "text": json.dumps(texts).replace("<", "\\u003c")}
    return HTML(markup + "<script>\n" + script + "\n</script>")
