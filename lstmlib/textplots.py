"""The figures of the part "Speaking for real", in the book's style (:mod:`lstmlib.draw`).

* :func:`plot_truncated_bptt` — what truncated backpropagation through time sees: the state flows
  forward across chunk boundaries, the gradient stops at them.
* :func:`plot_learning_curves` — bits per character against training steps, from stored recipes.
* :func:`plot_bits_by_model` — held-out bits per character of n-gram models of every order, with
  the recurrent models as horizontal lines.
* :func:`plot_closing_probability` — the causal test: probability of the closing bracket against
  the distance to its opening, per intervention.
* :func:`plot_score_distribution`, :func:`plot_unit_trace` — one score per unit as a histogram,
  and one unit's activation over a passage with the ground truth.

Like :mod:`lstmlib.draw`, this module imports matplotlib; it is not imported by ``lstmlib``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.ticker import MaxNLocator

from . import draw
from ._checks import check_positive_int

__all__ = [
    "MODEL_COLORS",
    "plot_bits_by_model",
    "plot_closing_probability",
    "plot_learning_curves",
    "plot_score_distribution",
    "plot_truncated_bptt",
    "plot_unit_trace",
]

#: One colour per model of the part, for every figure.
MODEL_COLORS = {
    "LSTM": draw.OKABE_ITO["blue"],
    "RNN": draw.OKABE_ITO["vermillion"],
    "n-gram": draw.OKABE_ITO["bluish_green"],
}


def _model_color(name: str, default=None):
    """The colour of the model a label starts with ("LSTM, H = 200" -> the LSTM's)."""
    return next((c for model, c in MODEL_COLORS.items() if name.startswith(model)), default)


def plot_truncated_bptt(ax, T: int = 5, chunks: int = 3):
    """A timeline of ``chunks`` chunks of ``T`` steps: the state's arrows (forward, black) run
    through every step and across the boundaries; the gradient's (backward, vermillion) run back
    within a chunk only. Returns ``ax``."""
    T, chunks = check_positive_int("T", T), check_positive_int("chunks", chunks)
    n = T * chunks
    ink, grad = draw.OKABE_ITO["black"], draw.OKABE_ITO["vermillion"]
    for k in range(chunks):
        ax.add_patch(
            Rectangle((k * T - 0.45, -0.55), T - 0.1, 1.1, fill=True, fc="#F2F2F2", ec="#888888")
        )
        ax.text(k * T + (T - 1) / 2, 0.75, f"chunk {k + 1}", ha="center", va="bottom", fontsize=9)
    for t in range(n):
        ax.add_patch(Rectangle((t - 0.3, -0.3), 0.6, 0.6, fc="white", ec=ink, lw=1))
    for t in range(n - 1):
        crosses = (t + 1) % T == 0
        ax.add_patch(
            FancyArrowPatch(
                (t + 0.3, 0.12),
                (t + 0.7, 0.12),
                arrowstyle="-|>",
                mutation_scale=9,
                color=ink,
                lw=1.6 if crosses else 1.0,
            )
        )
        if not crosses:  # the gradient flows back only inside a chunk
            ax.add_patch(
                FancyArrowPatch(
                    (t + 0.7, -0.12),
                    (t + 0.3, -0.12),
                    arrowstyle="-|>",
                    mutation_scale=9,
                    color=grad,
                    lw=1.0,
                )
            )
    for k in range(1, chunks):  # the cuts: only as tall as the chunks, clear of the labels
        ax.vlines(k * T - 0.5, -0.62, 0.62, color=grad, ls=":", lw=1.2)
    ax.text(n - 0.5, -0.85, "state carried forward (h, c)", color=ink, ha="right", fontsize=9)
    ax.text(-0.5, -0.85, "gradient: back to the chunk's start only", color=grad, fontsize=9)
    ax.set_xlim(-0.7, n - 0.3)
    ax.set_ylim(-1.05, 1.1)
    ax.set_axis_off()
    return ax


def plot_learning_curves(
    ax,
    curves: Mapping[str, list[dict]],
    *,
    key: str = "held_out_bits",
    ls: str = "-",
    marker: str | None = "o",
    suffix: str = "",
):
    """``curves``: model name -> the ``"curve"`` list of a stored recipe (``{"step", key}``
    dicts). Draws ``key`` against the step, one line per model, labelled ``name + suffix``, in
    the model's colour (:data:`MODEL_COLORS`, by the name's first word) with line style ``ls``;
    call it again with another ``key`` and ``ls`` to add, e.g., the training curve. Returns
    ``ax``."""
    if not curves:
        raise ValueError("curves: expected at least one model's curve, got none")
    for name, curve in curves.items():
        if not curve or any("step" not in c or key not in c for c in curve):
            raise ValueError(
                f"curves[{name!r}]: expected a non-empty list of dicts with 'step' and {key!r}"
            )
        steps = [c["step"] for c in curve]
        ax.plot(
            steps,
            [c[key] for c in curve],
            ls=ls,
            marker=marker,
            ms=3,
            label=name + suffix,
            color=_model_color(name),
        )
    ax.set_xlabel("training step (32 streams x 100 characters each)")
    ax.set_ylabel("bits per character")
    ax.legend()
    return ax


def plot_bits_by_model(ax, ngram_bits: Mapping[int, float], lines: Mapping[str, float]):
    """``ngram_bits``: order -> held-out bits per character; ``lines``: model name -> bits,
    drawn as horizontal lines. Returns ``ax``."""
    if not ngram_bits:
        raise ValueError("ngram_bits: expected the bits of at least one order, got none")
    orders = sorted(ngram_bits)
    if any(not isinstance(k, (int, np.integer)) or k < 1 for k in orders):
        raise ValueError(f"ngram_bits: expected positive integer orders as keys, got {orders}")
    ax.plot(
        orders,
        [ngram_bits[k] for k in orders],
        marker="o",
        color=MODEL_COLORS["n-gram"],
        label="n-gram (Kneser-Ney)",
    )
    for name, bits in lines.items():
        ax.axhline(bits, color=_model_color(name, "#555555"), ls="--", label=name)
    ax.set_xlabel("n-gram order n (characters of context: n - 1)")
    ax.set_ylabel("held-out bits per character")
    ax.set_xticks(orders)
    ax.legend()
    return ax


def plot_closing_probability(
    ax, distance_bins, curves: Mapping[str, np.ndarray], counts=None, *, truncation=None
):
    """The causal test: ``curves`` maps a condition's name to the mean probability of the
    closing bracket in each bin of ``distance_bins`` (edges, len(bins) - 1 values). ``counts``
    (one per bin) are written along the top, ``truncation`` (e.g. 100, the T of truncated BPTT)
    is drawn as a dotted vertical line. Returns ``ax``."""
    edges = np.asarray(distance_bins)
    centers = np.sqrt(edges[:-1] * edges[1:])  # geometric centres: the x axis is logarithmic
    palette = [draw.OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "reddish_purple")]
    styles = [("o", "-"), ("s", "-"), ("D", "-"), ("^", "--")]
    rows = zip(curves.items(), palette, styles, strict=False)
    for k, ((name, values), color, (m, ls)) in enumerate(rows):
        # the first condition on top: a control that matches it shows as a dashed line under it
        ax.plot(centers, values, marker=m, ls=ls, ms=4, label=name, color=color, zorder=10 - k)
    ax.set_xscale("log")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel("distance from the opening bracket to its closing one (characters)")
    ax.set_ylabel("mean probability of the closing bracket")
    ax.set_ylim(0, 1)
    if truncation is not None:
        ax.axvline(truncation, color="#555555", ls=":", lw=1.2)
        ax.text(
            truncation * 0.93, 0.5, f"T = {truncation}", ha="right", fontsize=8, color="#555555"
        )
    if counts is not None:
        for x, n in zip(centers, counts, strict=True):
            ax.text(x, 0.96, f"n={n}", ha="center", va="top", fontsize=7, color="#555555")
    ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.9), fontsize=8)
    return ax


# --- chapter 15: single units against the ground truth (appended) --------------------------------


def plot_score_distribution(ax, scores, *, chance: float, marked=None, xlabel: str = "score"):
    """A histogram of one score per unit (``scores`` (H,)), a dashed line at ``chance`` and, for
    each ``name -> unit`` of ``marked``, a labelled tick at that unit's score. Returns ``ax``."""
    scores = np.asarray(scores)
    lo, hi = (
        min(scores.min(), 2 * chance - scores.max()),
        max(scores.max(), 2 * chance - scores.min()),
    )
    bins = np.linspace(lo, hi, 41)
    ax.hist(scores, bins=bins, color=draw.OKABE_ITO["sky_blue"], edgecolor="white")
    ax.axvline(chance, color="#555555", ls="--", lw=1)
    ax.text(chance, ax.get_ylim()[1] * 0.97, " chance", va="top", fontsize=8, color="#555555")
    for k, (name, unit) in enumerate((marked or {}).items()):
        x = scores[unit]
        ax.annotate(
            name,
            (x, 0),
            xytext=(x, ax.get_ylim()[1] * (0.55 - 0.15 * k)),
            ha="center",
            fontsize=8,
            color=draw.OKABE_ITO["vermillion"],
            arrowprops={"arrowstyle": "-|>", "color": draw.OKABE_ITO["vermillion"], "lw": 1},
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("number of units")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def plot_unit_trace(ax, values, truth, *, label: str, truth_label: str):
    """One unit's activation ``values`` (n,) over a passage of n characters (left axis, blue),
    and the ground truth ``truth`` (n,) as a step line on a second axis (right, grey). Returns
    ``(ax, twin)``."""
    values, truth = np.asarray(values), np.asarray(truth)
    if values.shape != truth.shape or values.ndim != 1:
        raise ValueError(
            f"values, truth: expected two arrays of one shape (n,), got {values.shape} and "
            f"{truth.shape}"
        )
    t = np.arange(values.size)
    twin = ax.twinx()
    twin.step(t, truth, where="mid", color="#777777", lw=1.2, label=truth_label)
    twin.set_ylabel(truth_label, color="#555555")
    ax.plot(t, values, color=draw.OKABE_ITO["blue"], lw=1.2, label=label)
    ax.set_ylabel(label, color=draw.OKABE_ITO["blue"])
    ax.set_xlabel("character of the passage")
    ax.set_zorder(twin.get_zorder() + 1)  # the unit in front of the ground truth
    ax.patch.set_visible(False)
    return ax, twin
