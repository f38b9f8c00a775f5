"""Looking inside the LSTM: how the gradient flows back through time, how to start the forget
valve, what a trained unit has learned, and a latch built by hand.

The tools of two chapters: *Why it works: the constant error carousel* and *Inside a trained unit*.

Gradient flow (the source's peephole unit, ``z_t = [c_{t-1}, h_{t-1}, x_t]``). Write each valve's
weights in column blocks, ``W_* = [W_*^c, W_*^h, W_*^x]`` of shapes (H, H), (H, H), (H, D). One
step of the unit maps the state ``s_{t-1} = (c_{t-1}, h_{t-1})`` to ``s_t = (c_t, h_t)``; its
Jacobian has four (H, H) blocks (:func:`step_jacobian`)::

    dc_t/dc_{t-1} = diag(f_t)                                   the memory pipe, straight through
                  + diag(c_{t-1} * f_t * (1 - f_t))  W_f^c      through the forget valve
                  + diag(G_t * i_t * (1 - i_t))      W_i^c      through the new memory valve
                  + diag(i_t * (1 - G_t**2))         W_g^c      through the candidate
    dc_t/dh_{t-1} = the same three valve terms with the h-columns W_*^h (no straight path)
    dh_t/ds_{t-1} = diag(o_t * (1 - tanh(c_t)**2)) dc_t/ds_{t-1}
                  + diag(tanh(c_t) * o_t * (1 - o_t)) W_o^s   (s = c or h: the output valve)

The standard LSTM (``peephole=False``) has no c-columns: there ``dc_t/dc_{t-1} = diag(f_t)``
exactly. :func:`memory_jacobian_terms` returns the four terms of ``dc_t/dc_{t-1}`` one by one,
and :func:`numeric_step_jacobian` the same blocks by finite differences of
:func:`lstmlib.unit.lstm_unit`.

:func:`gradient_flow` backpropagates a loss on the last output through a whole sequence with those
Jacobians (as vector-Jacobian products, ``dL/ds_{t-1} = J_t^T dL/ds_t``) and keeps what reaches
every step, for an LSTM or an RNN core (``dh_t/dh_{t-1} = diag(1 - h_t**2) W_hh``). At ``t = 0``
it equals what ``LSTM.backward`` / ``RNN.backward`` return for the initial state.

Forget-valve initialisation: ``LSTM(..., forget_bias=b)`` sets a constant bias;
:func:`chrono_init` sets the chrono initialisation of Tallec & Ollivier (2018).

A trained unit: :func:`latching_units` finds the units that latch the country of
``fluent_language`` and hold it through the filler. A latch by hand: :func:`latch_lstm` and
:func:`latch_model`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import (
    check_array,
    check_lstm_params,
    check_positive_int,
    check_real,
    check_seed,
    infer_peephole,
)
from .layers import LSTM, RNN, Linear
from .tasks import fluent_language
from .train import Adam, History, SequenceModel, fit, mean_squared_error, softmax_cross_entropy
from .unit import combine, forget_valve, lstm_unit, new_memory_valve, output_valve

__all__ = [
    "LATCH_GAIN",
    "GradientFlow",
    "LatchingUnits",
    "chrono_init",
    "forget_init_model",
    "gradient_flow",
    "latch_lstm",
    "latch_model",
    "latching_units",
    "memory_jacobian_terms",
    "numeric_step_jacobian",
    "plot_by_country",
    "plot_gradient_flow",
    "plot_valves_at_step",
    "step_jacobian",
    "train_fluent",
]


# --- forget-valve initialisation ----------------------------------------------------------------


def chrono_init(lstm: LSTM, T_max: float, seed=None) -> np.ndarray:
    """The chrono initialisation (Tallec & Ollivier 2018), in place: ``b_f ~ log(U(1, T_max - 1))``
    drawn per unit, and ``b_i = -b_f``.

    At rest (valve inputs 0) unit ``k`` then keeps a fraction ``f_k = sigmoid(log u_k) =
    u_k / (1 + u_k) = 1 - 1/(1 + u_k)`` of its memory per step, ``u_k`` uniform in
    ``[1, T_max - 1]``. The characteristic time ``1 / (1 - f)`` of a leaky memory is then
    ``1 + u_k``, uniform in ``[2, T_max]``: a spread of memory spans up to ``T_max`` steps. The new
    memory valve starts as the forget valve's complement, ``sigmoid(-b_f) = 1 - sigmoid(b_f)``.

    lstm   an :class:`~lstmlib.layers.LSTM`; its ``b_f`` and ``b_i`` are overwritten.
    T_max  the longest dependency expected, > 2 (e.g. the sequence length).
    seed   for ``np.random.default_rng``. Returns the ``b_f`` drawn, shape (H,).
    """
    if not isinstance(lstm, LSTM):
        raise TypeError(f"lstm: expected an lstmlib LSTM, got {type(lstm).__name__}")
    T_max = check_real("T_max", T_max)
    if not T_max > 2:
        raise ValueError(f"T_max: expected a number > 2 (U(1, T_max - 1) must be an interval), "
                         f"got {T_max}")  # fmt: skip
    rng = check_seed("seed", seed)
    b_f = np.log(rng.uniform(1.0, T_max - 1.0, size=lstm.hidden_size))
    lstm.params["b_f"][...] = b_f
    lstm.params["b_i"][...] = -b_f
    return lstm.params["b_f"].copy()


def forget_init_model(
    task, hidden_size: int, forget_init, *, seed: int, peephole: bool = True
) -> SequenceModel:
    """A :class:`~lstmlib.train.SequenceModel` for ``task`` (``fluent_language`` or any task with
    ``input_size`` and ``n_classes``): an LSTM read out by a Linear layer, with the forget valve
    started at ``forget_init``.

    forget_init  a number, the bias ``b_f`` of every unit (the other biases 0), or ``"chrono"``:
                 :func:`chrono_init` with ``T_max = task.T``, the sequence length.
    seed         the LSTM's weights (and the chrono draw) use ``seed``, the readout ``seed + 1``.
    peephole     ``True`` (default): the source's unit; ``False``: the standard unit of PyTorch
                 and Keras (see :class:`~lstmlib.layers.LSTM`).
    """
    H = check_positive_int("hidden_size", hidden_size)
    chrono = isinstance(forget_init, str)
    if chrono and forget_init != "chrono":
        raise ValueError(f"forget_init: expected a number or 'chrono', got {forget_init!r}")
    b_f = 0.0 if chrono else forget_init
    core = LSTM(task.input_size, H, peephole=peephole, forget_bias=b_f, seed=seed)
    if chrono:
        chrono_init(core, task.T, seed=seed)
    return SequenceModel(core, Linear(H, task.n_classes, seed=seed + 1))


# --- the one-step Jacobian ----------------------------------------------------------------------


def _blocks(params, H: int, D: int) -> dict[str, dict[str, np.ndarray]]:
    """Each valve's c- and h-column blocks, (H, H) (the c-block zero for the standard LSTM)."""
    n_in = params["W_f"].shape[1]
    peephole = infer_peephole("params", H, n_in, D)
    out = {}
    for g in ("f", "i", "g", "o"):
        W = params[f"W_{g}"]
        if peephole:
            out[g] = {"c": W[:, :H], "h": W[:, H : 2 * H]}
        else:
            out[g] = {"c": np.zeros((H, H), W.dtype), "h": W[:, :H]}
    return out


def _step(prev_c, prev_h, x, params):
    """The valves of one step, checked like ``lstm_unit``: f, i, G, o, c, the column blocks."""
    H, n_in, dtype = check_lstm_params("params", params)
    prev_h = check_array("prev_h", prev_h, shape=[(H,), ("B", H)], dtype=dtype,
                         shape_hint=f"with H={H} (params' rows)")  # fmt: skip
    x = check_array("x", x, ndim=prev_h.ndim, dtype=dtype, shape_hint="(like prev_h)")
    peephole = infer_peephole("params", H, n_in, x.shape[-1])
    combined = combine(prev_c, prev_h, x, peephole=peephole)
    prev_c = np.asarray(prev_c)
    f = forget_valve(combined, params)
    i, G = new_memory_valve(combined, params)
    o = output_valve(combined, params)
    c = f * prev_c + i * G
    return f, i, G, o, c, prev_c, _blocks(params, H, x.shape[-1])


def _diag_times(v: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``diag(v) @ W`` for a vector ``v`` (H,), or a stack of them for ``v`` (B, H): (..., H, H)."""
    return v[..., :, None] * W


def memory_jacobian_terms(prev_c, prev_h, x, params) -> dict[str, np.ndarray]:
    """The four terms of ``dc_t/dc_{t-1}`` for one step, each (H, H) (or (B, H, H) for a batch).

    ``"direct"``     ``diag(f_t)``: the memory pipe carrying the old memory straight through;
    ``"forget"``     ``diag(c_{t-1} f_t (1 - f_t)) W_f^c``: through the forget valve's peephole;
    ``"input"``      ``diag(G_t i_t (1 - i_t)) W_i^c``: through the new memory valve's peephole;
    ``"candidate"``  ``diag(i_t (1 - G_t^2)) W_g^c``: through the candidate's peephole.

    Their sum is ``step_jacobian(...)["cc"]``. For the standard LSTM (no c-columns) the last three
    are zero. Arguments as for :func:`lstmlib.unit.lstm_unit`; entry ``[..., j, k]`` is
    ``d c_t[j] / d c_{t-1}[k]``.
    """
    f, i, G, _, _, prev_c, W = _step(prev_c, prev_h, x, params)
    H = f.shape[-1]
    eye = np.eye(H, dtype=f.dtype)
    return {
        "direct": _diag_times(f, eye),
        "forget": _diag_times(prev_c * f * (1 - f), W["f"]["c"]),
        "input": _diag_times(G * i * (1 - i), W["i"]["c"]),
        "candidate": _diag_times(i * (1 - G * G), W["g"]["c"]),
    }


def step_jacobian(prev_c, prev_h, x, params) -> dict[str, np.ndarray]:
    """The Jacobian of one step ``(c_{t-1}, h_{t-1}) -> (c_t, h_t)`` in four blocks.

    Returns ``{"cc": dc_t/dc_{t-1}, "ch": dc_t/dh_{t-1}, "hc": dh_t/dc_{t-1},
    "hh": dh_t/dh_{t-1}}``, each (H, H), or (B, H, H) for a batch; entry ``[..., j, k]`` is the
    derivative of output ``j`` with respect to input ``k``. Arguments as for
    :func:`lstmlib.unit.lstm_unit` (``params`` of either layout). The formulas are in the module's
    docstring.
    """
    f, i, G, o, c, prev_c, W = _step(prev_c, prev_h, x, params)
    df, di, dG = prev_c * f * (1 - f), G * i * (1 - i), i * (1 - G * G)
    H = f.shape[-1]

    def through_valves(s):  # dc_t/ds_{t-1} without the straight path
        return _diag_times(df, W["f"][s]) + _diag_times(di, W["i"][s]) + _diag_times(dG, W["g"][s])

    cc = _diag_times(f, np.eye(H, dtype=f.dtype)) + through_valves("c")
    ch = through_valves("h")
    tc = np.tanh(c)
    a = o * (1 - tc * tc)  # dh_t/dc_t, elementwise
    b = tc * o * (1 - o)  # dh_t/dz_o, elementwise
    hc = _diag_times(a, cc) + _diag_times(b, W["o"]["c"])
    hh = _diag_times(a, ch) + _diag_times(b, W["o"]["h"])
    return {"cc": cc, "ch": ch, "hc": hc, "hh": hh}


def numeric_step_jacobian(prev_c, prev_h, x, params, eps: float = 1e-6) -> dict[str, np.ndarray]:
    """:func:`step_jacobian` by central finite differences of :func:`lstmlib.unit.lstm_unit`.

    Each column ``k`` is ``(step(s + eps e_k) - step(s - eps e_k)) / (2 eps)``; the error is of
    order ``eps**2`` (about 1e-10 in float64 with the default ``eps``). Same arguments, keys and
    shapes as :func:`step_jacobian` (float64 recommended).
    """
    eps = check_real("eps", eps)
    if not eps > 0:
        raise ValueError(f"eps: expected a positive step, got {eps}")
    H, _, dtype = check_lstm_params("params", params)
    prev_c = check_array("prev_c", prev_c, shape=[(H,), ("B", H)], dtype=dtype)
    prev_h = check_array("prev_h", prev_h, shape=prev_c.shape, dtype=dtype)
    out = {k: np.empty((*prev_c.shape, H), dtype) for k in ("cc", "ch", "hc", "hh")}
    for k in range(H):
        for s, state in (("c", prev_c), ("h", prev_h)):
            up, down = state.copy(), state.copy()
            up[..., k] += eps
            down[..., k] -= eps
            args_up = (up, prev_h) if s == "c" else (prev_c, up)
            args_down = (down, prev_h) if s == "c" else (prev_c, down)
            h_up, c_up = lstm_unit(*args_up, x, params)
            h_down, c_down = lstm_unit(*args_down, x, params)
            out["c" + s][..., k] = (c_up - c_down) / (2 * eps)
            out["h" + s][..., k] = (h_up - h_down) / (2 * eps)
    return out


# --- gradient flow through a sequence -----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GradientFlow:
    """What reaches every step of a sequence from a loss on the last output.

    dh  (T + 1, B, H): ``dL_b/dh_t`` for ``t = 0 .. T`` (``t = 0`` the initial state ``h_0``,
        ``t = T`` the last output, where the readout's gradient enters).
    dc  (T + 1, B, H): ``dL_b/dc_t`` (LSTM), or ``None`` (RNN). ``dc[T]`` is 0: the readout reads
        ``h_T`` only, and the memory reaches the loss through ``h_T`` one step later in the index.
    L_b is the loss of sequence ``b`` (not the batch mean), and ``s_t = (c_t, h_t)`` is treated as
    the input of steps ``t + 1 .. T``, as ``LSTM.backward`` treats the initial state.
    """

    dh: np.ndarray
    dc: np.ndarray | None

    @property
    def T(self) -> int:
        return self.dh.shape[0] - 1

    def norms(self, which: str = "h") -> np.ndarray:
        """``||dL_b/dh_t|| / ||dL_b/dh_T||`` (or ``dc_t``) per step, the median over the batch:
        shape (T + 1,), index ``t``. The fraction of the gradient that reaches step ``t``."""
        if which not in ("h", "c"):
            raise ValueError(f"which: expected 'h' or 'c', got {which!r}")
        if which == "c" and self.dc is None:
            raise ValueError("which: 'c' needs an LSTM; an RNN has no memory pipe")
        g = self.dh if which == "h" else self.dc
        ref = np.linalg.norm(self.dh[-1], axis=-1)
        return np.median(np.linalg.norm(g, axis=-1) / ref, axis=1)

    def gain(self, which: str, start: int, stop: int) -> float:
        """The mean factor by which the gradient is multiplied per step, going back from step
        ``stop`` to step ``start`` (``0 <= start < stop <= T``): ``(n[start] / n[stop]) ** (1 /
        (stop - start))`` with ``n = self.norms(which)``. Below 1 it vanishes, above 1 it grows."""
        if not (isinstance(start, int) and isinstance(stop, int) and 0 <= start < stop <= self.T):
            raise ValueError(f"start, stop: expected ints 0 <= start < stop <= T = {self.T}, got "
                             f"{start!r}, {stop!r}")  # fmt: skip
        n = self.norms(which)
        return float((n[start] / n[stop]) ** (1 / (stop - start)))


def gradient_flow(model: SequenceModel, xs, targets, loss: str = "xent") -> GradientFlow:
    """Run ``model`` (a :class:`~lstmlib.train.SequenceModel` with an LSTM or RNN core) on
    ``xs (T, B, D)``, take the loss of each sequence on ``targets``, and backpropagate it through
    time with the one-step Jacobians of this module, keeping the gradient at every step.

    ``loss``: ``"xent"`` or ``"mse"``, as in :func:`lstmlib.train.fit`. The model's own ``grads``
    are left untouched; its layers' caches hold this forward pass afterwards. Returns a
    :class:`GradientFlow`; ``flow.norms("c")`` is the curve the book plots.
    """
    if not isinstance(model, SequenceModel):
        raise TypeError(f"model: expected a SequenceModel, got {type(model).__name__}")
    core = model.core
    if not isinstance(core, (LSTM, RNN)):
        raise TypeError(f"model.core: expected an LSTM or RNN, got {type(core).__name__}")
    if loss not in ("xent", "mse"):
        raise ValueError(f"loss: expected 'xent' or 'mse', got {loss!r}")
    out = core.forward(xs)
    hs = out[0]
    T, B, H = hs.shape
    logits = model.readout.forward(hs[-1])
    loss_fn = softmax_cross_entropy if loss == "xent" else mean_squared_error
    _, dout = loss_fn(logits, targets)
    dh_T = model.readout.backward(dout * B)  # the gradient of each sequence's own loss
    dh = np.zeros((T + 1, B, H), hs.dtype)
    dh[T] = dh_T
    if isinstance(core, RNN):
        W_hh = core.params["W"][:, :H]
        for t in range(T, 0, -1):  # dh_{t-1} = W_hh^T diag(1 - h_t^2) dh_t
            dh[t - 1] = (dh[t] * (1 - hs[t - 1] ** 2)) @ W_hh
        return GradientFlow(dh=dh, dc=None)

    g = core.gates
    W = _blocks(core.params, H, core.input_size)
    c_prev = np.concatenate([np.zeros((1, B, H), hs.dtype), g["c"][:-1]])
    dc = np.zeros((T + 1, B, H), hs.dtype)
    for t in range(T, 0, -1):  # (dc_{t-1}, dh_{t-1}) = J_t^T (dc_t, dh_t), gates at index t - 1
        f, i, G, o, c = (g[k][t - 1] for k in ("f", "i", "g", "o", "c"))
        tc = np.tanh(c)
        dc_total = dc[t] + dh[t] * o * (1 - tc * tc)  # c_t reaches the loss via c_{t+1} and h_t
        dz = {
            "f": dc_total * c_prev[t - 1] * f * (1 - f),
            "i": dc_total * G * i * (1 - i),
            "g": dc_total * i * (1 - G * G),
            "o": dh[t] * tc * o * (1 - o),
        }
        dc[t - 1] = dc_total * f + sum(dz[k] @ W[k]["c"] for k in dz)
        dh[t - 1] = sum(dz[k] @ W[k]["h"] for k in dz)
    return GradientFlow(dh=dh, dc=dc)


def train_fluent(model, lag: int, *, steps: int = 300, seed: int = 0, lr: float = 0.01,
                 batch_size: int = 32, n_countries: int = 4) -> History:  # fmt: skip
    """Train ``model`` on ``fluent_language`` at ``lag``, silently: Adam (``lr``), the gradient's
    global norm clipped to 1, a fresh batch of ``batch_size`` sentences at every step (batch
    ``k`` drawn with seed ``10_000 * seed + k``, so runs with different ``seed`` see different
    data). Returns :func:`lstmlib.train.fit`'s History."""
    lag = check_positive_int("lag", lag)
    B = check_positive_int("batch_size", batch_size)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected an int >= 0, got {seed!r}")

    def batch(k):
        return fluent_language(B, lag, n_countries, seed=10_000 * int(seed) + k)

    opt = Adam(model.params, lr=lr)
    return fit(model, batch, optimizer=opt, steps=steps, clip=1.0, progress=False)


def plot_gradient_flow(ax, curves, *, colors=None, ylim=(1e-18, 1e2), marks=True):
    """Draw gradient-flow curves (``GradientFlow.norms``) on ``ax``, log scale, one per model.

    curves  a dict ``label -> array``: the fraction of the gradient reaching step ``t``, shape
            (T + 1,) for one model, or (runs, T + 1) for a group of runs (each drawn faintly,
            their median in bold). Non-positive entries (``dc_T = 0``) are left out.
    colors  a dict ``label -> colour`` (optional). Otherwise a label starting with ``"RNN"`` is
            drawn in black and dashed, the others in the Okabe-Ito colours, in order.
    marks   mark step 1 (where the country is read) and step T (the query, where the loss is).
    Imports matplotlib (through :mod:`lstmlib.draw`) only when called. Returns ``ax``.
    """
    from . import draw

    palette = iter(draw.OKABE_ITO[k] for k in ("orange", "vermillion", "reddish_purple",
                                               "bluish_green", "blue", "sky_blue"))  # fmt: skip
    colors = dict(colors or {})
    T = 0
    for label, n in curves.items():
        runs = np.atleast_2d(np.asarray(n, dtype=float))
        T = max(T, runs.shape[1] - 1)
        rnn = label.startswith("RNN")
        color = colors.get(label) or ("#000000" if rnn else next(palette))
        style = {"color": color, "ls": (0, (5, 2)) if rnn else "-"}
        t = np.arange(runs.shape[1])
        if len(runs) > 1:
            for row in runs:
                ax.plot(t[row > 0], row[row > 0], lw=0.8, alpha=0.35, **style)
        median = np.median(runs, axis=0)
        ax.plot(t[median > 0], median[median > 0], label=label, lw=1.8, **style)
    ax.set_yscale("log")
    ax.set_ylim(*ylim)
    ax.set_xlim(0, T)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("gradient reaching step $t$\n(fraction of $\\|\\partial L/\\partial h_T\\|$)")
    if marks:
        for x, text in ((1, "country"), (T, "query")):
            ax.axvline(x, color=draw.GREY, lw=0.9, zorder=0)
            ha = "left" if x == 1 else "right"
            ax.annotate(text, (x, ylim[1]), xytext=(3 if x == 1 else -3, -3),
                        textcoords="offset points", ha=ha, va="top", fontsize=8,
                        color="#555555")  # fmt: skip
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_by_country(ax, values, tokens, countries, *, ylabel=None, title=None, legend=True):
    """One line per country: the mean over the sentences of that country of ``values`` over time.

    values     (T, B) numbers, e.g. one unit's memory ``m.core.gates["c"][:, :, u]``
    tokens     (T, B) ints, the task's ``tokens`` (``tokens[0]`` is the country)
    countries  the country names, ``task.countries``;  legend  draw the legend (default True)
    The x axis counts steps from 1 (the country) to T (the query). Imports matplotlib (through
    :mod:`lstmlib.draw`) only when called. Returns ``ax``.
    """
    from . import draw

    values = np.asarray(values)
    palette = [draw.OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "reddish_purple",
                                           "orange", "sky_blue", "black")]  # fmt: skip
    t = np.arange(1, values.shape[0] + 1)
    for k, name in enumerate(countries):
        rows = np.asarray(tokens)[0] == k
        if rows.any():
            ax.plot(t, values[:, rows].mean(axis=1), color=palette[k % len(palette)], label=name)
    ax.set_xlim(1, t[-1])
    ax.set_xlabel("time step $t$")
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(fontsize=8)
    return ax


def plot_valves_at_step(ax, gates, t: int, *, batch: int = 0, word: str | None = None, c_lim=None):
    """One column of the heat maps as bars: every unit's valves ``f, i, o`` at step ``t`` (1 to T,
    left axis, 0 to 1) and its memory ``c_t`` (right axis, diamonds).

    gates  ``LSTM.gates`` (each (T, B, H));  batch  which sentence;  word  the token read at step
    ``t`` (for the title);  c_lim  the right axis' half range (default: the largest ``|c|`` of the
    sentence, so that frames of a slider line up). Imports matplotlib only when called.
    Returns ``ax``.
    """
    from . import draw

    T, _, H = np.shape(gates["f"])
    if not (isinstance(t, (int, np.integer)) or float(t).is_integer()) or not 1 <= t <= T:
        raise ValueError(f"t: expected a step from 1 to T = {T}, got {t!r}")
    t = int(t)
    units = np.arange(H)
    for name, dx in (("f", -0.27), ("i", 0.0), ("o", 0.27)):
        ax.bar(units + dx, gates[name][t - 1, batch], width=0.26, color=draw.COLORS[name],
               label=draw.LABELS[name])  # fmt: skip
    ax.set_ylim(0, 1.05)
    ax.set_xticks(units)
    ax.set_xlabel("unit")
    ax.set_ylabel("valve opening")
    c = np.asarray(gates["c"])[:, batch]
    lim = float(np.max(np.abs(c))) if c_lim is None else float(c_lim)
    right = ax.twinx()
    right.axhline(0, color=draw.GREY, lw=0.8)
    right.plot(units, c[t - 1], "D", color=draw.COLORS["c"], ms=7, mec="white",
               label=draw.LABELS["c"])  # fmt: skip
    right.set_ylim(-1.1 * lim, 1.1 * lim)
    right.set_ylabel(r"memory $c_t$", color=draw.COLORS["c"])
    right.grid(False)
    right.spines["right"].set_visible(True)
    heading = f"step {t}" + (f": '{word}'" if word else "")
    ax.set_title(heading)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.12, 1.0), fontsize=8)
    return ax


# --- units that latch ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LatchingUnits:
    """Which units of a layer latch the first token of a sequence and hold it through the filler.

    Per unit (arrays of shape (H,)), measured over the filler steps ``1 .. T-2`` of a batch:

    f_mean         mean forget valve opening (a latch keeps its memory: near 1)
    i_mean         mean new memory valve opening (a sealed latch lets nothing in: near 0)
    country_share  the smallest, over the filler steps, fraction of the variance of ``c_t``
                   across sequences that the first token (the country) explains (between-country
                   variance / total variance; 1 when ``c_t`` is a function of the country alone)
    sign_held      fraction of sequences whose memory keeps one sign through the whole filler
                   (the sign of ``c`` after the country, never flipped and never exactly 0)
    reinforcing    fraction of filler steps whose new water ``i_t G_t`` has the sign of the
                   memory already there, ``c_{t-1}`` (1: the unit tops itself up with more of the
                   same; 0 for a sealed latch, whose inflow is exactly 0)
    units          the indices of the units that latch: ``f_mean >= f_min`` and
                   ``country_share >= share_min`` (and, if given, ``i_mean <= i_max`` and
                   ``sign_held >= held_min``)
    thresholds     the thresholds applied, by name
    """

    f_mean: np.ndarray
    i_mean: np.ndarray
    country_share: np.ndarray
    sign_held: np.ndarray
    reinforcing: np.ndarray
    units: np.ndarray
    thresholds: dict


def latching_units(
    gates, tokens, *, f_min=0.95, share_min=0.9, i_max=None, held_min=None
) -> LatchingUnits:
    """Find the units that latch the country (``tokens[0]``) and hold it through the filler.

    gates   ``LSTM.gates`` after a forward pass over a ``fluent_language`` batch: ``"f"``,
            ``"i"``, ``"g"``, ``"c"`` each (T, B, H), T >= 3.
    tokens  (T, B) ints (the task's ``tokens``); ``tokens[0]`` is the country.

    A unit latches when, through the filler, its forget valve stays open (mean ``f >= f_min``)
    and its memory depends on the country (``country_share >= share_min`` at every filler step).
    Optional, stricter conditions: ``i_max`` (a number) also requires the new memory valve to stay
    shut, mean ``i <= i_max`` (the textbook, sealed latch), and ``held_min`` that the memory keep
    its sign in a fraction ``>= held_min`` of the sequences. The default thresholds were set from
    the trained layers of the book's chapter *Inside a trained unit*. See :class:`LatchingUnits`
    for the measurements returned.
    """
    f = check_array("gates['f']", gates["f"], shape=("T", "B", "H"))
    T, B, H = f.shape
    i, G, c = (
        check_array(f"gates[{k!r}]", gates[k], shape=(T, B, H), dtype=f.dtype) for k in "igc"
    )
    tokens = np.asarray(tokens)
    if tokens.dtype.kind not in "iu" or tokens.shape != (T, B):
        raise ValueError(f"tokens: expected an int array of shape (T, B) = {(T, B)}, got "
                         f"{tokens.dtype} {tokens.shape}")  # fmt: skip
    if T < 3:
        raise ValueError(f"gates: expected T >= 3 (a country, a filler, a query), got T={T}")
    given = (("f_min", f_min), ("share_min", share_min), ("i_max", i_max), ("held_min", held_min))
    thresholds = {n: check_real(n, v) for n, v in given if v is not None}
    filler = slice(1, T - 1)
    f_mean = f[filler].mean(axis=(0, 1))
    i_mean = i[filler].mean(axis=(0, 1))
    cf = c[filler]  # (L, B, H): the memory at every filler step
    total = cf.var(axis=1)  # (L, H)
    between = np.zeros_like(total)
    for k in np.unique(tokens[0]):
        rows = tokens[0] == k
        between += rows.mean() * (cf[:, rows].mean(axis=1) - cf.mean(axis=1)) ** 2
    safe = np.where(total > 0, total, 1.0)
    share = np.where(total > 0, between / safe, 0.0).min(axis=0)
    first = np.sign(c[0])  # the sign written by the country
    sign_held = ((np.sign(cf) == first) & (first != 0)).all(axis=0).mean(axis=0)
    inflow = i[filler] * G[filler]
    reinforcing = (np.sign(inflow) == np.sign(c[: T - 2])).mean(axis=(0, 1))
    ok = (f_mean >= thresholds["f_min"]) & (share >= thresholds["share_min"])
    if i_max is not None:
        ok &= i_mean <= thresholds["i_max"]
    if held_min is not None:
        ok &= sign_held >= thresholds["held_min"]
    return LatchingUnits(
        f_mean, i_mean, share, sign_held, reinforcing, np.flatnonzero(ok), thresholds
    )


# --- a latch by hand ----------------------------------------------------------------------------

#: The weight magnitude of the hand-set latch. Large enough that every valve is *exactly* 0 or 1 in
#: float64: sigmoid(1000) rounds to 1.0 and sigmoid(-1000) = exp(-1000) / (1 + exp(-1000))
#: underflows to 0.0 (exp underflows below -745), in lstmlib.unit and in the fused LSTM alike.
LATCH_GAIN = 1000.0


def latch_lstm(input_size: int, write, read: int, values, *, gain: float = LATCH_GAIN) -> LSTM:
    """A one-unit LSTM (the source's peephole layout, H = 1) whose weights are set by hand to latch.

    The input is one-hot (a token per step, as in ``fluent_language``). The unit

    * **writes** when token ``write[k]`` arrives: forget valve shut (``f = 0``, the old memory is
      emptied), new memory valve open (``i = 1``), candidate ``G = tanh(arctanh(values[k]))``, so
      the memory becomes ``c = G`` (``values[k]`` to within an ulp);
    * **holds** on every other token: ``f = 1`` and ``i = 0`` exactly, so
      ``c_t = 1.0 * c_{t-1} + 0.0 * G_t`` equals ``c_{t-1}`` bit for bit, for ever;
    * **shows** its memory only when token ``read`` arrives: output valve ``o = 1`` there, so
      ``h = tanh(c)``, and ``o = 0`` (hence ``h = 0``) on every other step.

    Every valve is a bias of ``±gain`` flipped by a weight of ``∓2 gain`` on the tokens that switch
    it; the weights on ``c_{t-1}`` and ``h_{t-1}`` are 0 (the latch ignores its own state).

    input_size  the number of token kinds D;  write  distinct token indices;  read  a token index
    not in ``write``;  values  one number in (-1, 1) per write token.
    """
    D = check_positive_int("input_size", input_size)
    write = [int(k) for k in np.atleast_1d(np.asarray(write))]
    values = np.atleast_1d(check_array("values", values, ndim=(0, 1)))
    if len(set(write)) != len(write) or not all(0 <= k < D for k in write):
        raise ValueError(f"write: expected distinct token indices in [0, {D}), got {write}")
    read = int(read)
    if not 0 <= read < D or read in write:
        raise ValueError(f"read: expected a token index in [0, {D}) not in write, got {read}")
    if values.shape != (len(write),) or np.any(np.abs(values) >= 1):
        raise ValueError(f"values: expected {len(write)} numbers in (-1, 1), one per write token, "
                         f"got {values.tolist()}")  # fmt: skip
    gain = check_real("gain", gain)
    m = LSTM(D, 1, peephole=True, forget_bias=0.0, seed=0)
    for key in m.params:
        m.params[key][...] = 0.0
    x = slice(2, 2 + D)  # columns [c, h, x]: the token columns
    m.params["b_f"][0], m.params["b_i"][0], m.params["b_o"][0] = gain, -gain, -gain
    for k, v in zip(write, values, strict=True):
        m.params["W_f"][0, x][k] = -2 * gain  # forget valve shut on a write
        m.params["W_i"][0, x][k] = 2 * gain  # new memory valve open on a write
        m.params["W_g"][0, x][k] = np.arctanh(v)  # the value written
    m.params["W_o"][0, x][read] = 2 * gain  # output valve open on a read
    return m


def latch_model(task, values=None) -> SequenceModel:
    """A hand-set model that solves ``fluent_language`` at any lag: :func:`latch_lstm` writing a
    level per country, reading on ``"fluent"``, and a ``Linear(1, K)`` readout that picks the
    nearest level.

    task    a :class:`~lstmlib.tasks.FluentLanguage` (its vocabulary: countries, fillers, query).
    values  the memory level of each country (default: evenly spaced in [-0.8, 0.8]).

    The readout's logits are ``2 m_k h - m_k^2`` with ``m_k = tanh(values[k])`` the output on a
    read: ``-(h - m_k)^2`` plus a term common to all classes, so the largest logit is the nearest
    level.
    """
    K = task.n_classes
    values = np.linspace(-0.8, 0.8, K) if values is None else np.asarray(values, dtype=float)
    core = latch_lstm(task.input_size, write=range(K), read=task.input_size - 1, values=values)
    readout = Linear(1, K, seed=0)
    levels = np.tanh(values)
    readout.params["W"][:, 0] = 2 * levels
    readout.params["b"][...] = -(levels**2)
    return SequenceModel(core, readout)


# --- the trained network of "Inside a trained unit" (book/data/inside_unit.npz) -------------------

#: How the chapter's network is trained: :func:`latch_network` and :func:`train_fluent` with these
#: settings (the source's peephole unit, chrono-initialised, gap 20, 4 countries).
LATCH_SETTINGS = {"hidden_size": 8, "lag": 20, "n_countries": 4, "forget_init": "chrono",
                  "steps": 300, "lr": 0.01, "batch_size": 32, "clip": 1.0}  # fmt: skip

#: The held-out sentences a run is judged on: ``fluent_language(256, 20, seed=98)`` (the chapter
#: analyses another set, seed 99).
LATCH_VALIDATION = {"n_sequences": 256, "lag": 20, "seed": 98}


def latch_network(seed: int = 0, *, peephole: bool = True) -> SequenceModel:
    """The untrained model of ``LATCH_SETTINGS``: 8 LSTM units read out by ``Linear(8, 4)``,
    the forget valve chrono-initialised with ``T_max = 22`` (the sentence length).

    peephole  ``True``: the source's unit, exactly :func:`forget_init_model`'s model; ``False``:
              the standard unit, built from the same seeds the same way.
    Build one with any seed and :func:`lstmlib.store.load_into` stored weights into it.
    """
    peephole = bool(peephole)
    task = fluent_language(1, LATCH_SETTINGS["lag"], LATCH_SETTINGS["n_countries"], seed=0)
    H = LATCH_SETTINGS["hidden_size"]
    if peephole:
        return forget_init_model(task, H, "chrono", seed=seed)
    core = LSTM(task.input_size, H, peephole=False, forget_bias=0.0, seed=seed)
    chrono_init(core, task.T, seed=seed)
    return SequenceModel(core, Linear(H, task.n_classes, seed=seed + 1))


def trained_latch(seed: int, *, peephole: bool = True) -> tuple[SequenceModel, dict]:
    """Train :func:`latch_network` ``(seed, peephole=peephole)`` with :func:`train_fluent` and
    ``LATCH_SETTINGS`` (about a second), in float64.

    Returns ``(model, metrics)``: ``metrics`` holds the seed, the loss and accuracy of the last
    training batch, and the ``validation_loss`` and ``validation_accuracy`` on the held-out
    sentences of ``LATCH_VALIDATION``.
    """
    s = LATCH_SETTINGS
    model = latch_network(seed, peephole=peephole)
    history = train_fluent(model, s["lag"], steps=s["steps"], seed=seed, lr=s["lr"],
                           batch_size=s["batch_size"], n_countries=s["n_countries"])  # fmt: skip
    val = fluent_language(LATCH_VALIDATION["n_sequences"], LATCH_VALIDATION["lag"],
                          s["n_countries"], seed=LATCH_VALIDATION["seed"])  # fmt: skip
    from .train import evaluate

    result = evaluate(model, val)
    metrics = {
        "seed": int(seed),
        "final_batch_loss": round(history.loss[-1], 6),
        "final_batch_accuracy": history.accuracy[-1],
        "validation_loss": result["loss"],
        "validation_accuracy": result["accuracy"],
    }
    return model, metrics


def trained_latch_recipe(max_seed: int = 20) -> tuple[dict[str, np.ndarray], dict]:
    """The recipe of ``book/data/inside_unit.npz`` (``make weights W=inside_unit.npz``).

    Trains :func:`trained_latch` from seeds 0, 1, 2, ... and keeps the first network that answers
    every held-out sentence right (``validation_accuracy == 1.0``): training is chaotic, so the
    seed that passes may differ between machines, the criterion does not. Returns
    ``(params, recipe)`` for :func:`lstmlib.store.save_params`: the model's params and a dict with
    the settings, the criterion, every seed tried with its metrics, and the kept one's metrics.
    ``RuntimeError`` if no seed below ``max_seed`` passes.
    """
    tried = []
    for seed in range(check_positive_int("max_seed", max_seed)):
        model, metrics = trained_latch(seed)
        tried.append(metrics)
        if metrics["validation_accuracy"] == 1.0:
            recipe = {
                "function": "lstmlib.analysis.trained_latch_recipe",
                "model": "lstmlib.analysis.latch_network(peephole=True), float64",
                "settings": dict(LATCH_SETTINGS),
                "validation": dict(LATCH_VALIDATION),
                "criterion": "the first seed from 0 up with validation_accuracy == 1.0",
                "tried": tried,
                **metrics,
            }
            return {k: v.copy() for k, v in model.params.items()}, recipe
    raise RuntimeError(f"max_seed: no seed below {max_seed} reached validation accuracy 1.0")


# --- ablation: zero blocks of the valves' weights -----------------------------------------------


def ablate(model: SequenceModel, zero) -> SequenceModel:
    """A copy of ``model`` (an LSTM core and its readout) with column blocks of the valves'
    weights set to 0; ``model`` itself is untouched.

    zero  a dict ``valve -> blocks``: valve ``"f"``, ``"i"``, ``"g"`` or ``"o"``, blocks a string
          of ``"c"`` (the peephole columns, reading ``c_{t-1}``), ``"h"`` (reading ``h_{t-1}``)
          and ``"x"`` (reading the input). E.g. ``{"g": "c"}`` cuts the candidate's peephole,
          ``{"g": "ch"}`` everything the candidate reads from the unit's state, and
          ``dict.fromkeys("figo", "c")`` every peephole (the standard unit's wiring, with the
          peephole network's other weights).
    """
    import copy

    if not isinstance(model, SequenceModel) or not isinstance(model.core, LSTM):
        raise TypeError(f"model: expected a SequenceModel with an LSTM core, got {model!r}")
    if not isinstance(zero, dict):
        raise TypeError(f"zero: expected a dict valve -> blocks, got {type(zero).__name__}")
    H, D = model.core.hidden_size, model.core.input_size
    cols = {"c": slice(0, H), "h": slice(H, 2 * H), "x": slice(2 * H, 2 * H + D)}
    if not model.core.peephole:
        cols = {"h": slice(0, H), "x": slice(H, H + D)}
    for valve, blocks in zero.items():
        if valve not in ("f", "i", "g", "o"):
            raise ValueError(f"zero: expected valves 'f', 'i', 'g', 'o', got {valve!r}")
        if not isinstance(blocks, str) or not blocks or any(b not in cols for b in blocks):
            raise ValueError(f"zero[{valve!r}]: expected a string of the blocks "
                             f"{''.join(cols)!r} of this layer, got {blocks!r}")  # fmt: skip
    out = copy.deepcopy(model)
    for valve, blocks in zero.items():
        for b in blocks:
            out.core.params[f"W_{valve}"][:, cols[b]] = 0.0
    return out


def memory_size(gates) -> np.ndarray:
    """How much water the fullest unit holds, step by step: ``max_k |c_t[k]|`` over the units,
    the median over the sequences of the batch. ``gates``: ``LSTM.gates`` (``"c"`` (T, B, H)).
    Returns shape (T,); entry ``t - 1`` is step ``t``."""
    c = check_array("gates['c']", gates["c"], shape=("T", "B", "H"))
    return np.median(np.abs(c).max(axis=2), axis=1)


def latch_findings(model: SequenceModel, task) -> dict:
    """What *Inside a trained unit* measures in a network, on the sentences of ``task`` (a
    ``fluent_language`` batch): runs ``model.forward(task.xs)`` and returns

    ``"accuracy"``  the fraction of sentences answered right;
    ``"latching"``  the units that latch (:func:`latching_units`, default thresholds);
    ``"sealed"``    the units that latch with the new memory valve shut (``i_max=0.1``);
    ``"memory"``    :func:`memory_size`, shape (T,): how much water the fullest unit holds;
    ``"spread_growth"``  per unit, shape (H,): how many times wider the spread between the
                    countries is at the last filler step than at step 1 (the standard deviation,
                    over the countries, of each country's mean ``c_t``; NaN where it is 0 at
                    step 1). The fillers are drawn alike whatever the country, so if no valve read
                    the layer's state ``(c_{t-1}, h_{t-1})``, each step would multiply the
                    expected gap between two countries' mean memories by a mean forget valve,
                    below 1: a spread that grows is the state feeding back.
    """
    if not isinstance(model, SequenceModel) or not isinstance(model.core, LSTM):
        raise TypeError(f"model: expected a SequenceModel with an LSTM core, got {model!r}")
    logits = model.forward(task.xs)
    gates = model.core.gates
    c, first_token = gates["c"], np.asarray(task.tokens)[0]
    means = np.stack([c[:, first_token == k].mean(axis=1) for k in np.unique(first_token)])
    first, last = means[:, 0].std(axis=0), means[:, -2].std(axis=0)  # (H,): steps 1 and T - 1
    return {
        "accuracy": float(np.mean(logits.argmax(axis=1) == task.targets)),
        "latching": latching_units(gates, task.tokens).units,
        "sealed": latching_units(gates, task.tokens, i_max=0.1).units,
        "memory": memory_size(gates),
        "spread_growth": np.divide(last, first, out=np.full_like(first, np.nan), where=first > 0),
    }


def ablation_study(model: SequenceModel, task, cuts: dict) -> dict[str, dict]:
    """:func:`latch_findings` of ``ablate(model, zero)`` for every ``name -> zero`` of ``cuts``
    (e.g. ``{"nothing": {}, "candidate's peephole": {"g": "c"}}``), on ``task``'s sentences.
    Nothing is retrained: it shows what this network relies on. Returns ``name -> findings``."""
    if not isinstance(cuts, dict):
        raise TypeError(f"cuts: expected a dict name -> zero, got {type(cuts).__name__}")
    return {name: latch_findings(ablate(model, zero), task) for name, zero in cuts.items()}


__all__ += ["LATCH_SETTINGS", "LATCH_VALIDATION", "ablate", "ablation_study", "latch_findings"]
__all__ += ["latch_network", "memory_size", "trained_latch", "trained_latch_recipe"]
