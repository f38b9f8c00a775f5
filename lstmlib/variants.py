"""Variants of the LSTM unit, one layer class for all of them, with exact gradients.

Five units, each a small change to the memory pipe or to what the valves see. ``[h, x]`` is
``[h_{t-1}, x_t]``; ``σ`` the sigmoid; ``⊙`` the elementwise product::

    "full_peephole"      the source's unit (= LSTM(peephole=True)): every valve sees the old memory
                         through a full block of weights, z_k = W_k [c_{t-1}, h, x] + b_k
    "standard"           PyTorch and Keras (= LSTM(peephole=False)): z_k = W_k [h, x] + b_k
    "diagonal_peephole"  Gers et al. (2002): one peephole weight per unit and valve,
                         f = σ(W_f [h, x] + p_f ⊙ c_{t-1} + b_f),  i likewise with p_i,
                         o = σ(W_o [h, x] + p_o ⊙ c_t + b_o)     (o peeks at the *new* memory)
    "no_forget"          Hochreiter & Schmidhuber (1997): no forget valve, c_t = c_{t-1} + i ⊙ G
    "coupled"            coupled input and forget valves (CIFG, Greff et al. 2017): i = 1 - f,
                         c_t = f ⊙ c_{t-1} + (1 - f) ⊙ G

All of them then compute ``G = tanh(W_g [...] + b_g)``, ``c_t = f ⊙ c_{t-1} + i ⊙ G`` and
``h_t = o ⊙ tanh(c_t)``.

:class:`LSTMVariant` has the interface of :class:`lstmlib.layers.LSTM` (``params``/``grads`` dicts,
``forward(xs, state=None) -> (hs, (h_T, c_T))``, ``backward(dhs, dstate=None)``, ``gates``), so
:class:`lstmlib.train.SequenceModel` and :func:`lstmlib.train.fit` train it unchanged. It is the
readable sibling of ``layers.LSTM``: batched and vectorised (one fused matrix product per step for
all the valves), but without that layer's last tuning.

Weights are drawn like ``layers.LSTM``'s, in the order ``W_f, W_i, W_g, W_o`` from one generator,
and a variant keeps the ones it uses; the diagonal peepholes ``p_f, p_i, p_o`` are drawn after the
matrices. So for the same ``seed``, ``"full_peephole"`` and ``"standard"`` start exactly as
``LSTM(peephole=True)`` and ``LSTM(peephole=False)``, and the four variants whose valves see
``[h, x]`` start from the same ``W_f, W_i, W_g, W_o`` wherever they have them: a comparison between
variants changes the unit, not the luck of the draw.

:func:`continuous_stream` strings sentences of :func:`lstmlib.tasks.fluent_language` together into
one long stream without resets (to watch the memory drift), :func:`evaluate_stream` runs a trained
model along it, and :func:`compare_variants` trains every variant on the same task for several
seeds. :func:`plot_by_variant`, :func:`plot_loss_curves`, :func:`plot_drift` and
:func:`plot_pipe_growth` draw the chapter's figures on an ``ax`` they are given (so this module
imports no matplotlib), in the colours of :data:`COLORS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ._checks import (
    check_called,
    check_dtype,
    check_pair,
    check_positive_int,
    check_real,
    check_seed,
)
from .activations import sigmoid_inplace
from .layers import Linear, _Layer, _read_only, initial_valve_params
from .tasks import fluent_language

__all__ = [
    "COLORS",
    "SHORT_NAMES",
    "VARIANTS",
    "LSTMVariant",
    "VariantComparison",
    "compare_variants",
    "Stream",
    "continuous_stream",
    "evaluate_stream",
    "parameter_count",
    "pipe_growth",
    "plot_by_variant",
    "plot_drift",
    "plot_loss_curves",
    "plot_pipe_growth",
]

#: The variants' names, in the book's order.
VARIANTS = ("full_peephole", "standard", "diagonal_peephole", "no_forget", "coupled")

#: One colour per variant in the chapter's figures (Okabe-Ito; the no-forget unit in vermillion).
COLORS = {
    "full_peephole": "#0072B2",
    "standard": "#000000",
    "diagonal_peephole": "#CC79A7",
    "no_forget": "#D55E00",
    "coupled": "#009E73",
}
#: Short names for axes and legends.
SHORT_NAMES = {
    "full_peephole": "full peephole (source)",
    "standard": "standard",
    "diagonal_peephole": "diagonal peephole",
    "no_forget": "no forget valve",
    "coupled": "coupled (i = 1 - f)",
}

# The valves with a diagonal peephole weight p_k in "diagonal_peephole", in the order of its
# params (and of the rows of its peephole gradient buffer).
_PEEPHOLES = ("f", "i", "o")

# The valves that have weights of their own, in the fused order: the sigmoids, then G.
_VALVES = {
    "full_peephole": ("f", "i", "o", "g"),
    "standard": ("f", "i", "o", "g"),
    "diagonal_peephole": ("f", "i", "o", "g"),
    "no_forget": ("i", "o", "g"),
    "coupled": ("f", "o", "g"),
}


def _check_variant(variant) -> str:
    if not isinstance(variant, str):
        raise TypeError(
            f"variant: expected one of {', '.join(map(repr, VARIANTS))}, got "
            f"{type(variant).__name__} {variant!r}"
        )
    if variant not in VARIANTS:
        raise ValueError(
            f"variant: expected one of {', '.join(map(repr, VARIANTS))}, got {variant!r}"
        )
    return variant


def parameter_count(variant: str, input_size: int, hidden_size: int) -> int:
    """The number of weights of one layer of ``variant`` with input size D and H units.

    ``full_peephole`` 4H(2H + D + 1), ``standard`` 4H(H + D + 1), ``diagonal_peephole``
    4H(H + D + 1) + 3H, ``no_forget`` and ``coupled`` 3H(H + D + 1).
    """
    variant = _check_variant(variant)
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    n_in = (2 * H if variant == "full_peephole" else H) + D
    n = len(_VALVES[variant]) * H * (n_in + 1)
    return n + (3 * H if variant == "diagonal_peephole" else 0)


class LSTMVariant(_Layer):
    """A layer of ``hidden_size`` units of one LSTM variant: forward, backward, gates.

    ``LSTMVariant(input_size, hidden_size, variant, *, forget_bias=1.0, seed=None,
    dtype=np.float64)``

    variant      one of :data:`VARIANTS` (see the module's docstring for the equations).
    forget_bias  the initial ``b_f`` (ignored by ``"no_forget"``, which has no forget valve); the
                 other biases start at 0.
    seed         as for ``layers.LSTM``: uniform weights in [-1/sqrt(H), 1/sqrt(H)].

    ``params``: ``W_k`` (H, n_in) and ``b_k`` (H,) for each valve ``k`` the variant has
    (``"no_forget"`` has no ``W_f, b_f``, ``"coupled"`` no ``W_i, b_i``), with columns
    ``[c, h, x]`` (n_in = 2H + D, ``"full_peephole"``) or ``[h, x]`` (n_in = H + D, the others);
    ``"diagonal_peephole"`` adds ``p_f, p_i, p_o`` (H,).

    ``gates`` after ``forward``: read-only ``"f", "i", "g", "o", "c"``, each (T, B, H), always all
    five: ``"no_forget"``'s ``f`` is all ones, ``"coupled"``'s ``i`` is ``1 - f``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        variant: str,
        *,
        forget_bias: float = 1.0,
        seed=None,
        dtype=np.float64,
    ) -> None:
        self.input_size = D = check_positive_int("input_size", input_size)
        self.hidden_size = H = check_positive_int("hidden_size", hidden_size)
        self.variant = _check_variant(variant)
        self.forget_bias = check_real("forget_bias", forget_bias)
        self.dtype = check_dtype("dtype", dtype)
        rng = check_seed("seed", seed)
        self.valves = valves = _VALVES[variant]
        n_in = (2 * H if variant == "full_peephole" else H) + D
        params = initial_valve_params(
            rng, H, n_in, forget_bias=self.forget_bias, dtype=self.dtype, valves=valves
        )
        bound = 1 / np.sqrt(H)
        if variant == "diagonal_peephole":
            for g in _PEEPHOLES:
                params[f"p_{g}"] = rng.uniform(-bound, bound, size=H).astype(self.dtype)
        # grads live in fused buffers that backward writes: W and b one row block per valve
        # (fused order), the diagonal peepholes one row each (none for the other variants)
        n = len(valves)
        self._gW = np.zeros((n * H, n_in), self.dtype)
        self._gb = np.zeros(n * H, self.dtype)
        n_peep = len(_PEEPHOLES) if variant == "diagonal_peephole" else 0
        self._gp = np.zeros((n_peep, H), self.dtype)
        self._set_params(params, self._grad_views())
        self.gates: dict[str, np.ndarray] = {}

    def _grad_views(self) -> dict[str, np.ndarray]:
        """``grads`` as views into ``_gW``, ``_gb`` and ``_gp``, in the order of ``params``
        (also called after a copy or an unpickling: see ``_Layer.__setstate__``)."""
        H, valves = self.hidden_size, self.valves
        views = {}
        for k, g in enumerate(valves):
            views[f"W_{g}"] = self._gW[k * H : (k + 1) * H]
            views[f"b_{g}"] = self._gb[k * H : (k + 1) * H]
        kept = [g for g in "figo" if g in valves]  # the order of initial_valve_params
        grads = {key: views[key] for key in [f"W_{g}" for g in kept] + [f"b_{g}" for g in kept]}
        for j, g in enumerate(_PEEPHOLES[: len(self._gp)]):
            grads[f"p_{g}"] = self._gp[j]
        return grads

    def __repr__(self) -> str:
        return (
            f"LSTMVariant(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"variant={self.variant!r}, dtype={self.dtype.name})"
        )

    @property
    def n_params(self) -> int:
        """The number of weights, ``parameter_count(variant, input_size, hidden_size)``."""
        return sum(p.size for p in self.params.values())

    def _fused_weights(self):
        """``W_rec`` (n_rec, nH), ``W_x`` (D, nH), ``b`` (nH,): column block k is valve
        ``self.valves[k]``, so ``R @ W_rec + x @ W_x + b`` is every valve's input side by side.
        They are views of a copy of the weights; the fourth result, the checked ``params``, holds
        the live arrays."""
        p = self._checked_params()
        stacked = np.concatenate([p[f"W_{g}"] for g in self.valves])
        n_rec = stacked.shape[1] - self.input_size
        b = np.concatenate([p[f"b_{g}"] for g in self.valves])
        return stacked[:, :n_rec].T, stacked[:, n_rec:].T, b, p

    def forward(self, xs, state=None):
        """Run over ``xs`` (T, B, D) from ``state = (h0, c0)``, each (B, H) (``None``: zeros).
        Returns ``hs`` (T, B, H) and ``(h_T, c_T)``; sets ``gates``."""
        D, H, dtype = self.input_size, self.hidden_size, self.dtype
        xs = self._sequence("xs", xs, D)
        T, B, _ = xs.shape
        h0, c0 = check_pair("state", (None, None) if state is None else state, ("h0", "c0"))
        h0 = self._state("state[0] (h0)", h0, B, H)
        c0 = self._state("state[1] (c0)", c0, B, H)
        W_rec, W_x, b, p = self._fused_weights()
        valves, variant = self.valves, self.variant
        k = {g: n for n, g in enumerate(valves)}  # where each valve sits in the fused blocks
        n, n_rec = len(valves), W_rec.shape[0]
        full, diag = variant == "full_peephole", variant == "diagonal_peephole"
        xs = xs.copy()
        # The peepholes as this forward uses them: backward needs these values, not what params
        # holds by then (an optimizer may update it in place in between). The matrices are
        # copies already (stacked by _fused_weights).
        peep = {g: p[f"p_{g}"].copy() for g in _PEEPHOLES} if diag else {}

        xz = (xs.reshape(T * B, D) @ W_x).reshape(T, B, n * H)  # the inputs' share, all steps
        xz += b
        xz4 = xz.reshape(T, B, n, H).transpose(0, 2, 1, 3)  # xz4[t]: (n, B, H)
        A = np.empty((T, n, B, H), dtype)  # valve openings (and G), one block per valve
        C = np.empty((T + 1, B, H), dtype)  # C[t + 1] = c_t
        tanh_C = np.empty((T, B, H), dtype)
        R = np.empty((T + 1, B, n_rec), dtype)  # R[t] = [c_{t-1}, h_{t-1}] or h_{t-1}
        hs = R[:, :, n_rec - H :]
        C[0], hs[0] = c0, h0
        if full:
            R[0, :, :H] = c0
        rec = np.empty((B, n * H), dtype)
        rec4 = rec.reshape(B, n, H).transpose(1, 0, 2)
        sig = slice(0, n - 1)  # the sigmoid valves, in front of G
        if diag:
            sig = slice(0, k["o"])  # f and i now; o once c_t is known (it peeks at c_t)
        with np.errstate(under="ignore"):
            for t in range(T):
                np.matmul(R[t], W_rec, out=rec)  # every valve's recurrent share: one product
                np.add(rec4, xz4[t], out=A[t])
                if diag:  # the old memory, one weight per unit, into f and i
                    A[t, k["f"]] += peep["f"] * C[t]
                    A[t, k["i"]] += peep["i"] * C[t]
                sigmoid_inplace(A[t, sig])
                G = A[t, k["g"]]
                np.tanh(G, out=G)
                if variant == "no_forget":  # c_t = c_{t-1} + i G
                    np.multiply(A[t, k["i"]], G, out=C[t + 1])
                    C[t + 1] += C[t]
                elif variant == "coupled":  # c_t = f c_{t-1} + (1 - f) G = G + f (c_{t-1} - G)
                    np.subtract(C[t], G, out=C[t + 1])
                    C[t + 1] *= A[t, k["f"]]
                    C[t + 1] += G
                else:  # c_t = f c_{t-1} + i G
                    np.multiply(A[t, k["f"]], C[t], out=C[t + 1])
                    C[t + 1] += A[t, k["i"]] * G
                o = A[t, k["o"]]
                if diag:  # the output valve peeks at the new memory c_t
                    o += peep["o"] * C[t + 1]
                    sigmoid_inplace(o)
                np.tanh(C[t + 1], out=tanh_C[t])
                np.multiply(o, tanh_C[t], out=hs[t + 1])
                if full:
                    R[t + 1, :, :H] = C[t + 1]

        self._cache = (xs, A, C, tanh_C, R, W_rec, W_x, peep)
        if "f" in k:
            f = A[:, k["f"]]
        else:
            f = np.ones((T, B, H), dtype)
        i = A[:, k["i"]] if "i" in k else 1 - f
        self.gates = {
            "f": _read_only(f),
            "i": _read_only(i),
            "g": _read_only(A[:, k["g"]]),
            "o": _read_only(A[:, k["o"]]),
            "c": _read_only(C[1:]),
        }
        return hs[1:].copy(), (hs[T].copy(), C[T].copy())

    def backward(self, dhs, dstate=None):
        """Backpropagate through the last ``forward``: ``dhs`` (T, B, H) (``None``: zeros),
        ``dstate = (dh_T, dc_T)`` or ``None``. Returns ``dxs`` (T, B, D) and ``(dh0, dc0)``;
        fills ``grads``."""
        check_called("backward", self._cache)
        xs, A, C, tanh_C, R, W_rec, W_x, peep = self._cache
        T, B, D = xs.shape
        H, dtype = self.hidden_size, self.dtype
        valves, variant = self.valves, self.variant
        k = {g: n for n, g in enumerate(valves)}
        n, n_rec = len(valves), R.shape[2]
        full, diag = variant == "full_peephole", variant == "diagonal_peephole"
        dhs = self._dhs(dhs, (T, B, H))
        dh_T, dc_T = check_pair("dstate", (None, None) if dstate is None else dstate,
                                ("dh_T", "dc_T"))  # fmt: skip
        dh_T = self._state("dstate[0] (dh_T)", dh_T, B, H)
        dc = self._state("dstate[1] (dc_T)", dc_T, B, H).copy()  # dL/dc_t, flowing back

        dZ = np.empty((T, B, n * H), dtype)  # dL/dz of every valve, the layout of the products
        dZ4 = dZ.reshape(T, B, n, H).transpose(0, 2, 1, 3)
        dA = np.empty((n, B, H), dtype)
        dh = np.empty((B, H), dtype)
        dR = np.empty((B, n_rec), dtype)
        dh_later = dh_T
        with np.errstate(under="ignore"):
            for t in range(T - 1, -1, -1):
                G, o = A[t, k["g"]], A[t, k["o"]]
                np.add(dhs[t], dh_later, out=dh)
                # h = o tanh(c): to the output valve, and to c through the tanh
                dz_o = dA[k["o"]]
                np.multiply(dh, tanh_C[t], out=dz_o)
                dz_o *= o * (1 - o)
                dc += dh * o * (1 - tanh_C[t] * tanh_C[t])
                if diag:  # o also saw c_t
                    dc += dz_o * peep["o"]
                # the memory pipe: dc is now the whole dL/dc_t
                if variant == "coupled":
                    f = A[t, k["f"]]
                    np.multiply(dc, 1 - f, out=dA[k["g"]])  # dG: i = 1 - f
                    np.multiply(dc, C[t] - G, out=dA[k["f"]])  # df: c = G + f (c_prev - G)
                else:
                    i = A[t, k["i"]]
                    np.multiply(dc, i, out=dA[k["g"]])
                    np.multiply(dc, G, out=dA[k["i"]])
                    if variant != "no_forget":
                        f = A[t, k["f"]]
                        np.multiply(dc, C[t], out=dA[k["f"]])
                dA[k["g"]] *= 1 - G * G  # tanh' = 1 - G^2
                for g in valves:
                    if g not in ("o", "g"):
                        s = A[t, k[g]]
                        dA[k[g]] *= s * (1 - s)  # sigmoid' = s (1 - s)
                dZ4[t] = dA
                # to step t - 1: through the one product, and along the pipe
                np.matmul(dZ[t], W_rec.T, out=dR)
                if variant != "no_forget":
                    dc *= f
                if diag:
                    dc += dA[k["f"]] * peep["f"] + dA[k["i"]] * peep["i"]
                if full:
                    dc += dR[:, :H]
                dh_later = dR[:, n_rec - H :]

        dZ2 = dZ.reshape(T * B, n * H)
        np.matmul(dZ2.T, R[:-1].reshape(T * B, n_rec), out=self._gW[:, :n_rec])
        np.matmul(dZ2.T, xs.reshape(T * B, D), out=self._gW[:, n_rec:])
        np.sum(dZ2, axis=0, out=self._gb)
        if diag:  # p_f and p_i saw c_{t-1}, p_o saw c_t
            for j, g in enumerate(_PEEPHOLES):
                seen = C[1:] if g == "o" else C[:-1]
                np.einsum("tbh,tbh->h", dZ4[:, k[g]], seen, out=self._gp[j])
        self._publish_grads()
        dxs = (dZ2 @ W_x.T).reshape(T, B, D)
        return dxs, (np.array(dh_later), dc)


# --- a stream without resets ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Stream:
    """Sentences of ``fluent_language`` one after another, with no reset in between.

    xs : (n_sentences * (lag + 2), B, V) one-hot: ``B`` independent streams side by side
    targets : (n_sentences, B) int, the language asked at the end of each sentence
    query_steps : (n_sentences,) int, the time step of each sentence's ``"fluent"``
    lag, vocab, languages : as in :class:`lstmlib.tasks.FluentLanguage`
    """

    xs: np.ndarray
    targets: np.ndarray
    query_steps: np.ndarray
    lag: int
    vocab: list[str] = field(repr=False)
    languages: list[str] = field(repr=False)

    @property
    def T(self) -> int:
        """The stream's length in time steps."""
        return self.xs.shape[0]

    @property
    def n_classes(self) -> int:
        return len(self.languages)

    def as_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """``(xs, targets[-1])``: the stream as one batch for :func:`lstmlib.train.fit` (a model
        that reads the last step answers the last sentence's question)."""
        return self.xs, self.targets[-1]

    def __repr__(self) -> str:
        return (
            f"Stream(n_sentences={len(self.query_steps)}, lag={self.lag}, T={self.T}, "
            f"n_streams={self.xs.shape[1]})"
        )


def continuous_stream(
    n_sentences: int, lag: int, n_streams: int = 1, seed=None, *, n_countries: int = 4,
    dtype=np.float64,
) -> Stream:  # fmt: skip
    """``n_streams`` streams of ``n_sentences`` fluent-language sentences each, back to back.

    Sentence ``s`` of stream ``b`` is sentence ``s * n_streams + b`` of
    ``fluent_language(n_sentences * n_streams, lag, n_countries, seed, dtype=dtype)``; each stream
    has ``T = n_sentences * (lag + 2)`` steps and nothing marks where a sentence ends except the
    tokens themselves.
    """
    S = check_positive_int("n_sentences", n_sentences)
    B = check_positive_int("n_streams", n_streams)
    task = fluent_language(S * B, lag, n_countries, seed, dtype=dtype)
    L, V = task.T, task.input_size
    xs = task.xs.reshape(L, S, B, V).transpose(1, 0, 2, 3).reshape(S * L, B, V)
    return Stream(
        xs=np.ascontiguousarray(xs),
        targets=task.targets.reshape(S, B),
        query_steps=np.arange(S) * L + L - 1,
        lag=task.lag,
        vocab=task.vocab,
        languages=task.languages,
    )


def evaluate_stream(model, stream: Stream) -> dict[str, np.ndarray]:
    """Run a trained ``SequenceModel`` over a whole :class:`Stream` from a zero state, once.

    Returns ``{"accuracy": (n_sentences,), "c_max": (T,), "f_max": (T,)}``: the fraction of
    streams whose language is right at each sentence's ``"fluent"`` (the readout applied to
    ``h_t`` there), the largest ``|c_t|`` and the widest-open forget valve ``f_t`` over every unit
    and stream at each step.
    """
    if not isinstance(stream, Stream):
        raise TypeError(
            f"stream: expected a Stream (from continuous_stream), got {type(stream).__name__}"
        )
    for attr in ("core", "readout"):
        if not hasattr(model, attr):
            raise TypeError(
                f"model: expected a SequenceModel (with core and readout), got "
                f"{type(model).__name__}"
            )
    hs, _ = model.core.forward(stream.xs)
    logits = model.readout.forward(hs[stream.query_steps])  # (S, B, K)
    accuracy = np.mean(logits.argmax(axis=-1) == stream.targets, axis=1)
    c_max = np.abs(model.core.gates["c"]).max(axis=(1, 2))
    f_max = model.core.gates["f"].max(axis=(1, 2))
    return {"accuracy": accuracy, "c_max": c_max, "f_max": f_max}


# --- the comparison ---------------------------------------------------------------------------


@dataclass(eq=False)
class VariantComparison:
    """What :func:`compare_variants` measured; arrays indexed ``[variant, seed]``.

    loss : (n_variants, n_seeds, steps) the training loss at every step
    test_loss, test_accuracy : (n_variants, n_seeds) on the held-out batch after training
    models : {variant: [SequenceModel per seed]}
    """

    variants: tuple[str, ...]
    seeds: tuple[int, ...]
    loss: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    models: dict = field(repr=False)

    def summary(self) -> dict[str, tuple[float, float]]:
        """``{variant: (mean, std)}`` of the test loss over the seeds."""
        return {
            v: (float(self.test_loss[j].mean()), float(self.test_loss[j].std()))
            for j, v in enumerate(self.variants)
        }


def compare_variants(
    train,
    test,
    *,
    variants: Sequence[str] = VARIANTS,
    seeds: Sequence[int] = (0, 1, 2),
    hidden_size: int = 8,
    steps: int = 200,
    lr: float = 0.05,
    clip: float | None = 1.0,
    forget_bias: float = 1.0,
) -> VariantComparison:
    """Train one ``SequenceModel(LSTMVariant(...), Linear(...))`` per variant and seed.

    train        the batches, anything :func:`lstmlib.train.fit` accepts (e.g. a function
                 ``step -> batch``): every run sees the same ones.
    test         the held-out batch: a ``fluent_language`` task, or a :class:`Stream` (scored on
                 its last sentence, ``stream.as_batch()``).
    variants     names from :data:`VARIANTS`; ``seeds``: ints >= 0, at least one.
    hidden_size, steps, lr, clip, forget_bias
                 H of every core; Adam steps and learning rate; the gradient-norm clip (or None);
                 the cores' initial ``b_f``.

    Run ``(variant, seed)`` builds its core with ``seed=seed`` and its readout with
    ``seed=seed + 1000``. Deterministic: the same arguments give the same numbers.
    """
    from .train import Adam, SequenceModel, evaluate, fit

    if isinstance(variants, str) or not isinstance(variants, Sequence) or not variants:
        raise TypeError(
            f"variants: expected a non-empty list of names from {', '.join(map(repr, VARIANTS))}"
            f", got {variants!r}"
        )
    variants = tuple(_check_variant(v) for v in variants)
    if not isinstance(seeds, Sequence) or not seeds:
        raise TypeError(f"seeds: expected a non-empty list of ints >= 0, got {seeds!r}")
    for s in seeds:
        check_seed("each seed in seeds", s)
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"each seed in seeds: expected an int >= 0, got {s!r}")
    seeds = tuple(int(s) for s in seeds)
    H = check_positive_int("hidden_size", hidden_size)
    steps = check_positive_int("steps", steps)
    if not all(hasattr(test, a) for a in ("xs", "targets", "n_classes")):
        raise TypeError(
            f"test: expected a task (fluent_language) or a Stream, got {type(test).__name__}"
        )
    K, D = test.n_classes, test.xs.shape[2]
    test_batch = test.as_batch() if isinstance(test, Stream) else test
    loss = np.empty((len(variants), len(seeds), steps))
    test_loss = np.empty((len(variants), len(seeds)))
    test_acc = np.empty_like(test_loss)
    models: dict[str, list] = {v: [] for v in variants}
    for j, v in enumerate(variants):
        for r, s in enumerate(seeds):
            core = LSTMVariant(D, H, v, forget_bias=forget_bias, seed=s)
            model = SequenceModel(core, Linear(H, K, seed=s + 1000))
            hist = fit(model, train, optimizer=Adam(model.params, lr=lr), steps=steps,
                       clip=clip, progress=False)  # fmt: skip
            result = evaluate(model, test_batch)
            loss[j, r] = hist.loss
            test_loss[j, r] = result["loss"]
            test_acc[j, r] = result["accuracy"]
            models[v].append(model)
    return VariantComparison(variants, seeds, loss, test_loss, test_acc, models)


# --- the chapter's figures (they only call methods of the ``ax`` they are given: no import) -----


def _check_variants_rows(name: str, values, variants) -> tuple[np.ndarray, tuple[str, ...]]:
    variants = tuple(_check_variant(v) for v in variants)
    values = np.asarray(values, dtype=float)
    if values.ndim < 2 or values.shape[0] != len(variants):
        raise ValueError(
            f"{name}: expected one row per variant, shape ({len(variants)}, n_seeds, ...), got "
            f"{values.shape}"
        )
    return values, variants


def plot_by_variant(ax, values, variants=VARIANTS, *, ylabel: str = "", title: str | None = None):
    """One column per variant: a dot per seed and the mean with a +-1 standard deviation bar.

    values (n_variants, n_seeds), e.g. ``comparison.test_accuracy``. Returns the axes.
    """
    values, variants = _check_variants_rows("values", values, variants)
    if values.ndim != 2:
        raise ValueError(f"values: expected shape (n_variants, n_seeds), got {values.shape}")
    n_seeds = values.shape[1]
    spread = np.linspace(-0.18, 0.18, n_seeds) if n_seeds > 1 else np.zeros(1)
    for j, v in enumerate(variants):
        color = COLORS[v]
        ax.scatter(j + spread, values[j], s=16, color=color, alpha=0.45, zorder=2, lw=0)
        ax.errorbar(j, values[j].mean(), yerr=values[j].std(), fmt="o", ms=7, color=color,
                    capsize=5, lw=2, zorder=3)  # fmt: skip
    ax.set_xticks(range(len(variants)))
    ax.set_xticklabels([SHORT_NAMES[v].split(" (")[0].replace(" ", "\n", 1) for v in variants])
    ax.set_xlim(-0.6, len(variants) - 0.4)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def _runs(ax, x, runs, color, label):
    """Each of ``runs`` (n_runs, n) as a thin line and their median as a thick one."""
    for r in runs:
        ax.plot(x, r, color=color, lw=0.8, alpha=0.35)
    ax.plot(x, np.median(runs, axis=0), color=color, label=label, lw=2.0)


def plot_loss_curves(ax, comparison: VariantComparison, *, window: int = 10, title=None):
    """Training loss of every variant, averaged over ``window`` steps, on a log scale: each seed
    as a thin line, the median over seeds as a thick one. Returns the axes."""
    window = check_positive_int("window", window)
    loss = comparison.loss
    if window > loss.shape[2]:
        raise ValueError(f"window: expected at most steps = {loss.shape[2]}, got {window}")
    kernel = np.ones(window) / window
    smooth = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="valid"), 2, loss)
    steps = np.arange(window, loss.shape[2] + 1)
    for j, v in enumerate(comparison.variants):
        _runs(ax, steps, smooth[j], COLORS[v], SHORT_NAMES[v])
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss (cross-entropy)")
    if title:
        ax.set_title(title)
    return ax


def plot_drift(ax, c_max, variants=VARIANTS, *, title=None):
    """The largest memory ``max |c_t|`` along a stream, on a log scale: each seed as a thin line,
    the median over seeds as a thick one. ``c_max`` (n_variants, n_seeds, T). Returns the
    axes."""
    c_max, variants = _check_variants_rows("c_max", c_max, variants)
    if c_max.ndim != 3:
        raise ValueError(f"c_max: expected shape (n_variants, n_seeds, T), got {c_max.shape}")
    t = np.arange(1, c_max.shape[2] + 1)
    for j, v in enumerate(variants):
        _runs(ax, t, np.maximum(c_max[j], 1e-3), COLORS[v], SHORT_NAMES[v])
    ax.set_yscale("log")
    ax.set_xlabel("time step $t$ of the stream")
    ax.set_ylabel(r"largest memory $\max |c_t|$")
    if title:
        ax.set_title(title)
    return ax


def pipe_growth(f: float, write: float = 0.4, steps: int = 200) -> np.ndarray:
    """``c_t`` for ``t = 0, 1, ..., steps`` of a memory pipe with the forget valve held at ``f``
    and the same ``write = i G`` added every step, from ``c_0 = 0``: ``c_t = write (1 - f^t) /
    (1 - f)``, which levels off at ``write / (1 - f)`` for ``f < 1`` and is ``write * t`` (no
    bound) at ``f = 1``, the no-forget unit."""
    f = check_real("f", f)
    if not 0 <= f <= 1:
        raise ValueError(f"f: expected a forget valve opening in [0, 1], got {f}")
    write = check_real("write", write)
    t = np.arange(check_positive_int("steps", steps) + 1)
    if f == 1:
        return write * t.astype(float)
    return write * (1 - f**t) / (1 - f)


def plot_pipe_growth(ax, f: float, *, write: float = 0.4, steps: int = 200, ymax: float = 85.0):
    """Draw :func:`pipe_growth` and its level ``write / (1 - f)`` (dashed) on ``ax``, with fixed
    limits so that frames for different ``f`` line up. Returns the axes."""
    c = pipe_growth(f, write, steps)
    ax.plot(np.arange(steps + 1), c, color="#0072B2", label=r"memory $c_t$")
    if f < 1:
        level = write / (1 - f)
        ax.axhline(level, color="#777777", lw=1.2, ls="--", label=f"level {write:g} / (1 - f) = "
                   f"{level:.1f}")  # fmt: skip
        ax.set_title(f"f = {f:.2f}: the memory levels off")
    else:
        ax.set_title(f"f = 1 (no forget valve): {write:g} more every step, no bound")
    ax.set_xlim(0, steps)
    ax.set_ylim(0, ymax)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel(r"memory $c_t$")
    ax.legend(loc="upper left")
    return ax


# --- chapter 11's Experiment 2 and its two stored runs (book/data, ``make weights``) ---------

#: Experiment 2's training settings (those of :func:`compare_variants`' defaults, written out).
STREAM_SETTINGS = {"hidden_size": 8, "steps": 200, "lr": 0.05, "clip": 1.0, "forget_bias": 1.0}


def stream_pieces(step: int) -> tuple[np.ndarray, np.ndarray]:
    """Experiment 2's training batch at ``step``: 32 pieces of three sentences with 5 fillers each
    (21 steps, no reset between the sentences), asked the language of the third;
    ``continuous_stream(3, lag=5, n_streams=32, seed=20_000 + step).as_batch()``."""
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
        raise TypeError(f"step: expected an int >= 0, got {step!r}")
    return continuous_stream(3, lag=5, n_streams=32, seed=20_000 + step).as_batch()


def stream_test_pieces() -> Stream:
    """Experiment 2's held-out pieces: 256 streams of three sentences (seed 3)."""
    return continuous_stream(3, lag=5, n_streams=256, seed=3)


def long_stream() -> Stream:
    """Experiment 2's long stream: 32 streams of 100 sentences (700 steps, seed 7), never reset."""
    return continuous_stream(100, lag=5, n_streams=32, seed=7)


def stream_run(variant: str, seed: int):
    """Train run ``(variant, seed)`` of Experiment 2 exactly as
    ``compare_variants(stream_pieces, stream_test_pieces(), variants=[variant], seeds=[seed])``
    does (core ``seed``, readout ``seed + 1000``, :data:`STREAM_SETTINGS`); returns the
    ``SequenceModel``."""
    comparison = compare_variants(stream_pieces, stream_test_pieces(), variants=[variant],
                                  seeds=[seed], **STREAM_SETTINGS)  # fmt: skip
    return comparison.models[variant][0]


def stream_network(variant: str):
    """An untrained ``SequenceModel`` of Experiment 2's sizes for ``variant`` (to load stored
    weights into with :func:`lstmlib.store.load_into`)."""
    from .train import SequenceModel

    st = stream_test_pieces()
    H = STREAM_SETTINGS["hidden_size"]
    core = LSTMVariant(st.xs.shape[2], H, variant, seed=0)
    return SequenceModel(core, Linear(H, st.n_classes, seed=0))


def stream_findings(model) -> dict:
    """What chapter 11 reads off one trained run of Experiment 2 (a forward pass, float64):

    pieces_accuracy   accuracy on :func:`stream_test_pieces`
    stream_accuracy   accuracy on sentences 51 to 100 of :func:`long_stream`
    c_max_350, c_max_700
                      the largest ``|c_t|`` over streams and units at steps 350 and 700
    flat_fraction     the fraction of the memories (stream, unit) beyond ``|c| = 5`` at step 700
    big_memories      how many of them are beyond ``|c| = 100``; for those,
    big_forget_min    their smallest forget valve at step 700 (``None`` if there are none)
    big_peek_min      the smallest share of their forget valve's input ``z_f`` at step 700 that
                      comes from the old memory ``c_699`` through the peephole weights
                      (``"full_peephole"`` only, else ``None``)
    """
    from .train import evaluate

    pieces_accuracy = evaluate(model, stream_test_pieces().as_batch())["accuracy"]
    stream = long_stream()
    run = evaluate_stream(model, stream)  # runs the core over the stream: its gates are set
    gates = model.core.gates
    c_end, f_end = gates["c"][-1], gates["f"][-1]
    big = np.abs(c_end) > 100
    peek = None
    if getattr(model.core, "variant", None) == "full_peephole" and big.any():
        H = model.core.hidden_size
        share = gates["c"][-2] @ model.core.params["W_f"][:, :H].T  # (streams, units)
        peek = float(share[big].min())
    return {
        "pieces_accuracy": float(pieces_accuracy),
        "stream_accuracy": float(run["accuracy"][50:].mean()),
        "c_max_350": float(run["c_max"][349]),
        "c_max_700": float(run["c_max"][699]),
        "flat_fraction": float(np.mean(np.abs(c_end) > 5)),
        "big_memories": int(big.sum()),
        "big_forget_min": float(f_end[big].min()) if big.any() else None,
        "big_peek_min": peek,
    }


def _stream_recipe(model, seed: int, function: str, **extra) -> tuple[dict, dict]:
    variant = model.core.variant
    recipe = {
        "function": f"lstmlib.variants.{function}",
        "chapter": "11_variants, Experiment 2",
        "variant": variant,
        "seed": seed,
        "readout_seed": seed + 1000,
        "settings": dict(STREAM_SETTINGS),
        "optimizer": "Adam",
        "train": f"stream_pieces(step) for step in range({STREAM_SETTINGS['steps']})",
        **extra,
        "metrics": stream_findings(model),
    }
    return {k: v.copy() for k, v in model.params.items()}, recipe


def no_forget_stream_recipe() -> tuple[dict, dict]:
    """``book/data/no_forget_run.npz``: run (``"no_forget"``, seed 0) of Experiment 2, as the
    chapter trains it; returns ``(params, recipe)`` with :func:`stream_findings` as metrics."""
    return _stream_recipe(stream_run("no_forget", 0), 0, "no_forget_stream_recipe")


#: The drifting full-peephole run: the seeds tried, in order, and the criterion (the largest
#: memory beyond DRIFT_THRESHOLD at step 700, and DRIFT_GROWTH times what it was at step 350).
DRIFT_SEEDS = tuple(range(10))
DRIFT_THRESHOLD = 100.0
DRIFT_GROWTH = 1.5


def drifting_peephole_recipe() -> tuple[dict, dict]:
    """``book/data/drifting_peephole_run.npz``: the first seed of :data:`DRIFT_SEEDS` whose
    ``"full_peephole"`` run of Experiment 2 drifts, that is whose largest memory ``|c|`` at step
    700 of :func:`long_stream` exceeds :data:`DRIFT_THRESHOLD` and is still growing, at least
    :data:`DRIFT_GROWTH` times what it was at step 350. Returns ``(params, recipe)``; the recipe
    lists every seed tried with its largest memory at steps 350 and 700. ``RuntimeError`` if no
    seed drifts."""
    tried = []
    for seed in DRIFT_SEEDS:
        model = stream_run("full_peephole", seed)
        c_max = evaluate_stream(model, long_stream())["c_max"]
        c_350, c_700 = float(c_max[349]), float(c_max[699])
        tried.append({"seed": seed, "c_max_350": c_350, "c_max_700": c_700})
        if c_700 > DRIFT_THRESHOLD and c_700 > DRIFT_GROWTH * c_350:
            criterion = (f"the first seed of {list(DRIFT_SEEDS)} whose full-peephole run has "
                         f"max |c| > {DRIFT_THRESHOLD:g} at step 700 of long_stream(), and more "
                         f"than {DRIFT_GROWTH:g} times its max |c| at step 350")  # fmt: skip
            return _stream_recipe(model, seed, "drifting_peephole_recipe", criterion=criterion,
                                  tried=tried)  # fmt: skip
    raise RuntimeError(f"no full-peephole run of seeds {list(DRIFT_SEEDS)} drifted: {tried}")


__all__ += [
    "DRIFT_GROWTH",
    "DRIFT_SEEDS",
    "DRIFT_THRESHOLD",
    "STREAM_SETTINGS",
    "drifting_peephole_recipe",
    "long_stream",
    "no_forget_stream_recipe",
    "stream_findings",
    "stream_network",
    "stream_pieces",
    "stream_run",
    "stream_test_pieces",
]
