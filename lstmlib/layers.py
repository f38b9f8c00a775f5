"""LSTM, RNN and Linear layers: the unit of :mod:`lstmlib.unit`, fused and batched over sequences.

Shapes: ``T`` time steps, ``B`` sequences in a batch, ``D`` the input size, ``H`` the hidden size.
Sequences are time-major: ``xs`` has shape ``(T, B, D)``, ``hs`` shape ``(T, B, H)``. Inputs are
numpy arrays of the layer's dtype (a float64 array given to a float32 layer is refused, not
silently cast) or nested lists of numbers (converted); everything returned has the layer's dtype.

Every layer keeps its weights in ``params`` (a dict of ndarrays, named after the source) and, after
``backward``, the gradient of the loss with respect to each in ``grads`` (same keys and shapes).
``forward`` reads ``params`` afresh on every call, so an optimizer may update the arrays in place
(the intended way) or even replace them by arrays of the same shape and dtype. ``grads`` holds the
same arrays from one ``backward`` to the next, overwritten each time, so a reference to
``m.grads["W_f"]`` stays valid.

How the LSTM is made fast (the math is that of :mod:`lstmlib.unit`, the arithmetic reordered):

1. The four valves are one matrix: the rows of ``W_f, W_i, W_o, W_g`` (in that order: the three
   sigmoid valves side by side) stacked once per ``forward``, and read through transposed views
   as ``W_rec`` (2H or H, 4H) for the recurrent part and ``W_x`` (D, 4H) for the input.
2. The inputs do not depend on the recurrence: their share of every valve, ``xs @ W_x + b`` for all
   ``T`` steps, is one matrix product ``(T*B, D) @ (D, 4H)`` before the time loop.
3. For the peephole LSTM, ``c_t`` and ``h_t`` sit side by side in one buffer ``R`` of shape
   ``(T+1, B, 2H)``: ``R[t]`` *is* ``[c_{t-1}, h_{t-1}]``, so the recurrent share of all four
   valves is a single ``(B, 2H) @ (2H, 4H)`` product per step, with no concatenation: each step
   writes ``c_t`` and ``h_t`` straight into ``R[t+1]``. (For the standard LSTM ``R`` holds ``h``
   alone, ``(T+1, B, H)``, and the memory has its own buffer ``C``.)
4. One ``tanh`` opens all four valves: ``sigmoid(z) = (1 + tanh(z/2)) / 2``, and the sigmoid
   valves' weights are halved beforehand (exact: a power of two). numpy's tanh is also cheaper
   than ``exp`` plus a division here, and it cannot overflow.
5. Inside the time loop every elementwise operation works on whole ``(B, H)`` blocks (numpy is
   ~4x slower on a column slice such as ``z[:, :H]`` of a ``(B, 4H)`` array): the valve openings
   are stored valve by valve, ``A[t] = [f_t, i_t, o_t, G_t]`` of shape ``(4, B, H)``. (The
   peephole LSTM's ``c_t``, the first H columns of ``R[t+1]``, measured no slower than a copy of
   its own would be.) Everything is written into preallocated memory (``out=``); the only
   strided operation is one per step that regroups the product's columns valve by valve (in
   ``backward``: back). At small sizes the time goes to numpy's cost per call, not to arithmetic:
   the loops make no views per step (they iterate over views of all steps made once) and
   multiply with ``np.dot``, cheaper per call than ``np.matmul``.
6. ``backward`` computes what does not depend on the incoming gradient (the valves' slopes) for
   all steps at once, propagates through time in its loop with a dozen calls per step, and then
   gets the weight gradients of all steps from a few large products (e.g. ``dZ^T @ R`` for
   ``W_rec``: ``(4H, T*B) @ (T*B, 2H)``).

Many models at once. ``LSTM.stack([m_1, ..., m_M])`` (and ``RNN.stack``, ``Linear.stack``) makes
one layer of M independent layers of the same sizes: every array gains a leading model axis,
``params["W_f"]`` (M, H, n_in), ``xs`` (T, M, B, D), states (M, B, H), ``hs`` (T, M, B, H), and
every step's product becomes a stacked ``np.matmul`` of M matrices. The arithmetic of each model
is that of the single layer; only the number of numpy calls changes: M models cost the calls of
one. Where the time goes to numpy's cost per call that pays (8 seeds at H = 8: about 2x faster
than one after another, ``benchmarks/bench_lstm.py``); where it goes to arithmetic it does not
(H = 32: 1.1-1.3x). ``unstack()`` gives the M layers back, ``take`` some of them.

Memory is linear in ``T``: forward keeps ``R``, ``C`` (T+1, B, H; inside ``R`` if peephole),
``A`` (T, 4, B, H), ``tanh(c_t)`` (T, B, H) and a copy of ``xs``; backward allocates two
(T, 4, B, H)-sized buffers.
"""

from __future__ import annotations

import copy

import numpy as np

from ._checks import (
    LSTM_PARAM_KEYS,
    check_array,
    check_bool,
    check_called,
    check_dtype,
    check_pair,
    check_params,
    check_positive_int,
    check_real,
    check_seed,
)

__all__ = ["LSTM", "RNN", "Linear"]

#: Order of the valves' blocks in the fused matrices: the three sigmoid valves, then G.
_FUSED_ORDER = ("f", "i", "o", "g")


def initial_valve_params(rng, H: int, n_in: int, *, forget_bias: float, dtype, valves="figo"):
    """The starting weights of an LSTM's valves, as every LSTM-like layer of lstmlib draws them.

    ``W_f, W_i, W_g, W_o`` (H, n_in) uniform in ``[-1/sqrt(H), 1/sqrt(H)]`` (as PyTorch does),
    drawn in that order in float64 and then cast to ``dtype``; biases ``b_*`` (H,) zero, except
    ``b_f = forget_bias``. All four matrices are always drawn, even when ``valves`` keeps fewer
    (a variant without a forget valve), so that layers built with the same seed start alike.
    """
    bound = 1 / np.sqrt(H)
    drawn = {g: rng.uniform(-bound, bound, size=(H, n_in)) for g in "figo"}
    kept = [g for g in "figo" if g in valves]
    params = {f"W_{g}": drawn[g].astype(dtype) for g in kept}
    for g in kept:
        params[f"b_{g}"] = np.full(H, forget_bias if g == "f" else 0.0, dtype)
    return params


def _read_only(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


def _fold(a: np.ndarray) -> np.ndarray:
    """All steps of a sequence as rows of one matrix per model, for one large product:
    (T, B, k) -> (T*B, k), or, stacked, (T, M, B, k) -> (M, T*B, k)."""
    if a.ndim == 3:
        return a.reshape(-1, a.shape[-1])
    return a.transpose(1, 0, 2, 3).reshape(a.shape[1], -1, a.shape[-1])


def _unfold(a: np.ndarray, T: int) -> np.ndarray:
    """The inverse of ``_fold``: (T*B, k) -> (T, B, k), or (M, T*B, k) -> (T, M, B, k)."""
    if a.ndim == 2:
        return a.reshape(T, -1, a.shape[-1])
    return a.reshape(a.shape[0], T, -1, a.shape[-1]).transpose(1, 0, 2, 3)


class _Layer:
    """What every layer shares: sizes, dtype, ``params``, ``grads``, the forward cache."""

    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    #: ``None`` for one layer; M for M layers stacked along a leading model axis (see ``stack``)
    models: int | None = None

    @property
    def _lead(self) -> tuple[int, ...]:
        """The leading axes of every array: ``()`` for one layer, ``(M,)`` for a stack."""
        return () if self.models is None else (self.models,)

    def _new_grads(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Zeroed gradient arrays for ``params`` (layers with fused buffers override this)."""
        return {k: np.zeros_like(v) for k, v in params.items()}

    def _same_kind(self) -> tuple:
        """What must agree between layers that are stacked: type, sizes, dtype, options."""
        shapes = tuple((k, v.shape) for k, v in self.params.items())
        options = tuple((k, v) for k, v in vars(self).items() if isinstance(v, (bool, int, float)))
        return (type(self), self.dtype, shapes, options)

    def _copy_with(self, params: dict[str, np.ndarray], models: int | None):
        new = copy.copy(self)  # sizes, dtype and options; arrays are replaced below
        new.models = models
        new._set_params(params, new._new_grads(params))
        if hasattr(new, "gates"):
            new.gates = {}
        return new

    @classmethod
    def stack(cls, layers):
        """M layers of the same kind (type, sizes, dtype, options) as one layer with a leading
        model axis: ``params[k]`` becomes ``np.stack([m.params[k] for m in layers])``, shape
        (M, ...). Each model keeps its own weights, gradients and (in an optimizer) its own state.
        Use it to train several seeds as one computation; ``unstack()`` gives them back.
        """
        if isinstance(layers, _Layer) or not isinstance(layers, (list, tuple)) or not layers:
            raise TypeError(f"layers: expected a non-empty list of {cls.__name__} layers")
        for k, m in enumerate(layers):
            if type(m) is not cls or m.models is not None:
                raise TypeError(f"layers[{k}]: expected an (unstacked) {cls.__name__}, got {m!r}")
            if m._same_kind() != layers[0]._same_kind():
                raise ValueError(
                    f"layers[{k}]: expected the sizes, dtype and options of layers[0] "
                    f"({layers[0]!r}), got {m!r}"
                )
        params = {k: np.stack([m._checked_params()[k] for m in layers]) for k in layers[0].params}
        return layers[0]._copy_with(params, len(layers))

    def take(self, models):
        """A stacked layer of some of this stack's models (a list of indices), with copies of
        their weights: e.g. the models still training, once others have finished."""
        if self.models is None:
            raise ValueError(f"take: {self!r} is not a stacked layer (see stack)")
        rows = np.asarray(models)
        if rows.ndim != 1 or rows.size == 0 or rows.dtype.kind not in "iu":
            raise TypeError(f"models: expected a non-empty list of indices, got {models!r}")
        if rows.min() < 0 or rows.max() >= self.models:
            raise ValueError(f"models: expected indices in [0, {self.models}), got {models!r}")
        p = self._checked_params()
        return self._copy_with({k: v[rows].copy() for k, v in p.items()}, int(rows.size))

    def unstack(self) -> list:
        """The M layers of a stacked layer, each with a copy of its own weights."""
        if self.models is None:
            raise ValueError(f"unstack: {self!r} is not a stacked layer (see stack)")
        p = self._checked_params()
        return [
            self._copy_with({k: v[m].copy() for k, v in p.items()}, None)
            for m in range(self.models)
        ]

    def _models_repr(self) -> str:
        return "" if self.models is None else f", models={self.models}"

    def _set_params(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.params = params
        self._grads = grads  # the arrays backward writes into (never reallocated)
        self.grads = dict(grads)
        self._cache = None

    def _grad_views(self) -> dict[str, np.ndarray] | None:
        """The gradients as views into the buffers ``backward`` writes, for layers that keep
        their gradients in fused buffers (``LSTM``); ``None`` for layers that do not."""
        return None

    def __setstate__(self, state: dict) -> None:
        # copy.deepcopy and pickle copy every array on its own, so views into a shared gradient
        # buffer come back as separate arrays that backward never writes: a copy would train with
        # stale gradients. Re-create the views.
        self.__dict__.update(state)
        views = self._grad_views()
        if views is not None:
            self._grads = views
            self.grads = dict(views)

    def _checked_params(self) -> dict[str, np.ndarray]:
        shapes = {k: v.shape for k, v in self._grads.items()}
        return check_params("params", self.params, shapes, dtype=self.dtype)

    def _publish_grads(self) -> None:
        # re-point grads at the arrays just written, in case a caller rebound an entry
        self.grads.clear()
        self.grads.update(self._grads)

    def _array(self, name: str, x, shape, hint: str = "") -> np.ndarray:
        return check_array(
            name, x, shape=shape, dtype=self.dtype, shape_hint=hint, dtype_hint="the layer's dtype"
        )

    def _state(self, name: str, x, B: int, H: int) -> np.ndarray:
        """An initial or final state (or its gradient): ``None`` means zeros."""
        shape = (*self._lead, B, H)
        if x is None:
            return np.zeros(shape, self.dtype)
        what = "(B, H)" if self.models is None else f"(M, B, H) with M={self.models} (models)"
        return self._array(
            name,
            x,
            shape,
            f"= {what} with B={B} (the batch size of xs) and H={H} (the layer's hidden_size)",
        )

    def _sequence(self, name: str, xs, D: int) -> np.ndarray:
        if self.models is None:
            return self._array(name, xs, ("T", "B", D), f"with D={D} (the layer's input_size)")
        hint = f"= (T, M, B, D) with M={self.models} (models) and D={D} (the layer's input_size)"
        return self._array(name, xs, ("T", self.models, "B", D), hint)

    def _dhs(self, dhs, shape: tuple[int, ...]) -> np.ndarray:
        if dhs is None:
            return np.zeros(shape, self.dtype)
        return self._array("dhs", dhs, shape, "(the shape of hs returned by forward)")


class LSTM(_Layer):
    """A layer of ``hidden_size`` LSTM units run over sequences: forward, backward, conversion.

    ``LSTM(input_size, hidden_size, *, peephole=True, forget_bias=1.0, seed=None,
    dtype=np.float64)``

    peephole     ``True``: the source's unit, every valve sees ``[c_{t-1}, h_{t-1}, x_t]``;
                 ``False``: the standard LSTM of PyTorch and Keras, ``[h_{t-1}, x_t]``.
    forget_bias  the initial ``b_f``: 1.0 starts the forget valve open (sigmoid(1) = 0.73), so
                 memory flows from the start (Jozefowicz et al. 2015). Other biases start at 0.
    seed         weights drawn uniformly from [-1/sqrt(H), 1/sqrt(H)] (as PyTorch) by
                 ``np.random.default_rng(seed)``, in float64 and then cast: the same seed gives
                 the same weights bit for bit, and a float32 layer the float64 weights rounded.

    ``params``: ``W_f, W_i, W_g, W_o`` (H, n_in) with columns ``[c, h, x]`` (n_in = 2H + D) or
    ``[h, x]`` (n_in = H + D), and ``b_f, b_i, b_g, b_o`` (H,).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        peephole: bool = True,
        forget_bias: float = 1.0,
        seed=None,
        dtype=np.float64,
    ) -> None:
        self.input_size = D = check_positive_int("input_size", input_size)
        self.hidden_size = H = check_positive_int("hidden_size", hidden_size)
        self.peephole = check_bool("peephole", peephole)
        self.forget_bias = check_real("forget_bias", forget_bias)
        self.dtype = check_dtype("dtype", dtype)
        rng = check_seed("seed", seed)
        n_in = (2 * H if self.peephole else H) + D
        params = initial_valve_params(rng, H, n_in, forget_bias=self.forget_bias, dtype=self.dtype)
        # grads live in two fused buffers, one row block per valve (order _FUSED_ORDER)
        self._set_params(params, self._new_grads(params))
        #: After ``forward``: read-only views ``"f", "i", "g", "o", "c"``, each (T, B, H).
        self.gates: dict[str, np.ndarray] = {}

    def _new_grads(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        H, n_in = params["W_f"].shape[-2:]
        lead = params["W_f"].shape[:-2]
        self._gW = np.zeros((*lead, 4 * H, n_in), self.dtype)
        self._gb = np.zeros((*lead, 4 * H), self.dtype)
        return self._grad_views()

    def _grad_views(self) -> dict[str, np.ndarray]:
        H = self.hidden_size
        views = {}
        for k, g in enumerate(_FUSED_ORDER):
            views[f"W_{g}"] = self._gW[..., k * H : (k + 1) * H, :]
            views[f"b_{g}"] = self._gb[..., k * H : (k + 1) * H]
        return {key: views[key] for key in LSTM_PARAM_KEYS}

    def __repr__(self) -> str:
        return (
            f"LSTM(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"peephole={self.peephole}, dtype={self.dtype.name}{self._models_repr()})"
        )

    def _fused_weights(self):
        """All four valves' weights as one matrix, from the current ``params``.

        Returns ``stacked`` (4H, n_in), the rows of ``W_f, W_i, W_o, W_g`` one under another (so
        block k of a product with it belongs to valve ``_FUSED_ORDER[k]``), which ``backward``
        uses, and ``(W_rec, W_x, b)`` for ``forward``: ``W_rec`` (n_rec, 4H) and ``W_x`` (D, 4H)
        are transposed views (BLAS reads a transposed operand as fast as a contiguous one) of a
        copy of ``stacked`` whose sigmoid valves' rows are halved, and ``b`` (4H,) is halved
        likewise. Why halved: ``sigmoid(z) = (1 + tanh(z / 2)) / 2``, so with ``z / 2`` for f, i,
        o and ``z`` for G, one ``tanh`` call opens all four valves. Halving is exact in floating
        point (a power of two), so nothing is lost.
        """
        p = self._checked_params()
        H = self.hidden_size
        # (4H, n_in), a copy; stacked layers: (M, 4H, n_in), and so on below
        stacked = np.concatenate([p[f"W_{g}"] for g in _FUSED_ORDER], axis=-2)
        halved = np.empty_like(stacked)
        np.multiply(stacked[..., : 3 * H, :], 0.5, out=halved[..., : 3 * H, :])
        halved[..., 3 * H :, :] = stacked[..., 3 * H :, :]
        b = np.concatenate([p[f"b_{g}"] for g in _FUSED_ORDER], axis=-1)
        b[..., : 3 * H] *= 0.5
        n_rec = stacked.shape[-1] - self.input_size
        # W_rec is multiplied T times: a contiguous copy of its rows, which np.dot passes to
        # BLAS without copying it again. Keep it a transposed (4H, n_rec) array: BLAS then runs
        # the same routine as np.matmul on the transposed slice did, with the same bits; a
        # contiguous (n_rec, 4H) array would run another one at B = 1 (other last bits).
        W_rec = np.ascontiguousarray(halved[..., :n_rec]).swapaxes(-1, -2)
        if self.models is not None:  # a stack of M transposed operands: np.matmul runs ~2x
            W_rec = np.ascontiguousarray(W_rec)  # slower on them than on contiguous ones
        return stacked, (W_rec, halved[..., n_rec:].swapaxes(-1, -2), b)

    def forward(self, xs, state=None):
        """Run the layer over ``xs`` (T, B, D) from ``state = (h0, c0)``, each (B, H) (``None``:
        zeros). Returns ``hs`` (T, B, H), the output at every step, and ``(h_T, c_T)``.

        Also sets ``self.gates`` (read-only views, each (T, B, H)) and stores what ``backward``
        needs. (A stacked layer of M models: (T, M, B, D), (M, B, H) and (T, M, B, H).)
        """
        D, H, dtype, lead = self.input_size, self.hidden_size, self.dtype, self._lead
        xs = self._sequence("xs", xs, D)
        T, B = xs.shape[0], xs.shape[-2]
        if state is None:
            state = (None, None)
        h0, c0 = check_pair("state", state, ("h0", "c0"))
        h0 = self._state("state[0] (h0)", h0, B, H)
        c0 = self._state("state[1] (c0)", c0, B, H)
        stacked, (W_rec, W_x, b) = self._fused_weights()
        n_rec = W_rec.shape[-2]  # 2H (peephole: the valves see c and h) or H (standard: h)
        xs = xs.copy()  # backward needs the inputs; the caller may reuse its array meanwhile

        # The inputs' share of every valve (z/2 for the sigmoid valves, z for G), all steps in one
        # product: (T*B, D) @ (D, 4H).
        xz = _unfold(np.matmul(_fold(xs), W_x), T)
        xz += b[..., None, :]

        # What the loop writes, one block per step. Every elementwise operation reads and writes
        # whole blocks: numpy is ~4x slower on a (B, H) column slice of a (B, 4H) row.
        A = np.empty((T, 4, *lead, B, H), dtype)  # valve openings, A[t] = f_t, i_t, o_t, G_t
        tanh_C = np.empty((T, *lead, B, H), dtype)  # tanh(c_t), for h_t and again for backward
        R = np.empty((T + 1, *lead, B, n_rec), dtype)  # what W_rec multiplies: [c_{t-1}, h_{t-1}]
        hs = R[..., n_rec - H :]  # h_t is written straight into the last H columns of R[t + 1]
        if self.peephole:  # ... and c_t into the first H: the next step's product reads them
            C = R[..., :H]  # memory, C[t + 1] = c_t, C[0] = c0
        else:
            C = np.empty((T + 1, *lead, B, H), dtype)
        C[0] = c0
        hs[0] = h0

        rec = np.empty((*lead, B, 4 * H), dtype)
        rec4 = np.moveaxis(rec.reshape(*lead, B, 4, H), -2, 0)  # the same memory, valve by valve
        iG = np.empty((*lead, B, H), dtype)
        # one model: np.dot, the cheapest call; stacked: np.matmul, M products in one call
        mm = np.dot if not lead else np.matmul
        half = dtype.type(0.5)  # a numpy scalar: numpy need not convert a Python float every step
        # At small sizes the loop's time is numpy's per-call overhead, so the loop (a) takes
        # every step's blocks from one zip over views made once (not A[t], C[t + 1], ... per
        # step) and (b) multiplies with np.dot, which costs less per call than np.matmul (see
        # _fused_weights: the same BLAS routine on the same operands, so the same bits).
        f, i, o, G = np.moveaxis(A, 1, 0)  # each (T, B, H): f[t] = f_t, ...
        steps = zip(R[:-1], xz, A, A[:, :3], f, i, o, G, C[:-1], C[1:], tanh_C, hs[1:], strict=True)
        with np.errstate(under="ignore"):  # tiny values may flush to zero: harmless
            for r, xz_t, a, sig, f_t, i_t, o_t, G_t, c_prev, c, tanh_c, h in steps:
                mm(r, W_rec, out=rec)  # all four valves' recurrent share, one product
                rec += xz_t  # [z_f/2, z_i/2, z_o/2, z_g]
                np.tanh(rec4, out=a)  # one call for the four valves, regrouped a block each;
                # sig = a[:3]: sigmoid(z) = (1 + tanh(z/2)) / 2 for f, i, o
                np.multiply(sig, half, out=sig)
                np.add(sig, half, out=sig)
                # ... and G_t = tanh(z_g), the candidate memory
                np.multiply(f_t, c_prev, out=c)  # memory pipe: c_t = f c_{t-1} + i G
                np.multiply(i_t, G_t, out=iG)
                c += iG
                np.tanh(c, out=tanh_c)  # output state: h_t = o tanh(c_t)
                np.multiply(o_t, tanh_c, out=h)

        self._cache = (xs, A, C, tanh_C, R, stacked)
        self.gates = {
            "f": _read_only(A[:, 0]),
            "i": _read_only(A[:, 1]),
            "g": _read_only(A[:, 3]),
            "o": _read_only(A[:, 2]),
            "c": _read_only(C[1:]),
        }
        return hs[1:].copy(), (hs[T].copy(), C[T].copy())

    def backward(self, dhs, dstate=None):
        """Backpropagate through the last ``forward``.

        dhs     (T, B, H): dL/dh_t for every step (``None``: zeros).
        dstate  ``(dh_T, dc_T)``, each (B, H) or ``None``: the gradient reaching the final state
                from outside the sequence (e.g. the next chunk, or a loss on ``h_T``).

        Returns ``dxs`` (T, B, D) and ``(dh0, dc0)``; fills ``self.grads``.
        """
        check_called("backward", self._cache)
        xs, A, C, tanh_C, R, stacked = self._cache
        T, B = xs.shape[0], xs.shape[-2]
        H, dtype, lead = self.hidden_size, self.dtype, self._lead
        n_rec = R.shape[-1]
        dhs = self._dhs(dhs, (T, *lead, B, H))
        if dstate is None:
            dstate = (None, None)
        dh_T, dc_T = check_pair("dstate", dstate, ("dh_T", "dc_T"))
        dh_T = self._state("dstate[0] (dh_T)", dh_T, B, H)
        dc_T = self._state("dstate[1] (dc_T)", dc_T, B, H)
        # (4H, n_rec): dL/d[c, h] = dz @ W_rec_T; a contiguous copy for np.dot, as in forward
        W_rec_T = np.ascontiguousarray(stacked[..., :n_rec])

        # What does not depend on the gradient flowing back is computed for all steps at once,
        # in a few large calls rather than many small ones inside the loop:
        #   the valves' slopes, sigmoid' = s (1 - s) for f, i, o and tanh' = 1 - G^2 for G,
        #   and dh_t/dc_t = o (1 - tanh(c_t)^2).
        slope = np.empty_like(A)
        np.subtract(1, A[:, :3], out=slope[:, :3])
        slope[:, :3] *= A[:, :3]
        np.multiply(A[:, 3], A[:, 3], out=slope[:, 3])
        np.subtract(1, slope[:, 3], out=slope[:, 3])
        dh_dc = np.multiply(tanh_C, tanh_C)
        np.subtract(1, dh_dc, out=dh_dc)
        dh_dc *= A[:, 2]

        # dL/dz of every valve at every step, in the layout of the products (like xz in forward)
        dZ = np.empty((T, *lead, B, 4 * H), dtype)
        dZ4 = np.moveaxis(dZ.reshape(T, *lead, B, 4, H), -2, 1)  # dZ4[t]: (4, B, H), strided
        dA = np.empty((4, *lead, B, H), dtype)  # this step's dL/d(valve opening), per valve
        df, di, do, dG = dA
        dc = dc_T.copy()  # dL/dc_t, flowing back in time
        dh = np.empty((*lead, B, H), dtype)  # dL/dh_t
        dR = np.empty((*lead, B, n_rec), dtype)  # dL/d[c_{t-1}, h_{t-1}] through the valves
        dR_c, dR_h = dR[..., : n_rec - H], dR[..., n_rec - H :]  # (dR_c is empty if standard)
        dh_from_later = dh_T  # the part of dL/dh_t that comes from step t + 1 (or outside)
        tmp = np.empty((*lead, B, H), dtype)
        mm = np.dot if not lead else np.matmul  # as in forward
        # the blocks of every step, latest first, from views made once (as in forward)
        f, i, _, G = np.moveaxis(A, 1, 0)
        steps = (f, i, G, dhs, tanh_C, dh_dc, C[:-1], slope, dZ4, dZ)
        steps = zip(*(a[::-1] for a in steps), strict=True)  # t = T - 1, ..., 0
        with np.errstate(under="ignore"):
            for f_t, i_t, G_t, dh_out, tanh_c, dh_dc_t, c_prev, slope_t, dz4, dz in steps:
                np.add(dh_out, dh_from_later, out=dh)
                # output state h_t = o tanh(c_t): to the output valve, and to the memory
                np.multiply(dh, tanh_c, out=do)
                np.multiply(dh, dh_dc_t, out=tmp)
                dc += tmp  # dL/dc_t is complete: from step t + 1 and from h_t
                # memory pipe c_t = f c_{t-1} + i G: to each valve's opening
                np.multiply(dc, c_prev, out=df)
                np.multiply(dc, G_t, out=di)
                np.multiply(dc, i_t, out=dG)
                # through the valves' activations, into the products' layout (dz4 is dz)
                np.multiply(dA, slope_t, out=dz4)
                # to step t - 1: every valve saw [c_{t-1}, h_{t-1}] (one product), and the
                # memory pipe carries c_{t-1} straight through the forget valve
                mm(dz, W_rec_T, out=dR)
                dc *= f_t
                if self.peephole:
                    dc += dR_c
                dh_from_later = dR_h

        # The weight gradients of all steps at once: dL/dW = sum_t dz_t^T [c, h, x]_t.
        # (Stacked: one such product per model, (M, 4H, T*B) @ (M, T*B, 2H).)
        dZ2 = _fold(dZ)  # (T*B, 4H)
        dZ2_T = dZ2.swapaxes(-1, -2)
        np.matmul(dZ2_T, _fold(R[:-1]), out=self._gW[..., :n_rec])
        np.matmul(dZ2_T, _fold(xs), out=self._gW[..., n_rec:])
        np.sum(dZ2, axis=-2, out=self._gb)
        self._publish_grads()
        dxs = _unfold(dZ2 @ stacked[..., n_rec:], T)
        return dxs, (dh_from_later.copy(), dc)

    # --- conversion: thin wrappers around lstmlib.convert --------------------------------------

    def to_torch(self) -> dict[str, np.ndarray]:
        """The weights as a ``torch.nn.LSTM`` state dict of ndarrays (standard layer only)."""
        from .convert import params_to_torch

        return params_to_torch(self.params, input_size=self.input_size)

    def to_keras(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The weights as Keras' ``(kernel, recurrent_kernel, bias)`` (standard layer only)."""
        from .convert import params_to_keras

        return params_to_keras(self.params, input_size=self.input_size)

    @classmethod
    def from_torch(cls, state_dict) -> LSTM:
        """A standard (``peephole=False``) layer holding a one-layer ``torch.nn.LSTM``'s weights
        (its ``state_dict()``, tensors or ndarrays); float32 or float64 as the weights are."""
        from .convert import params_from_torch

        return cls._from_params(params_from_torch(state_dict), "state_dict")

    @classmethod
    def from_keras(cls, kernel, recurrent_kernel, bias=None) -> LSTM:
        """A standard (``peephole=False``) layer holding Keras' LSTM weights
        (``layer.get_weights()``); float32 or float64 as the weights are."""
        from .convert import params_from_keras

        return cls._from_params(params_from_keras(kernel, recurrent_kernel, bias), "kernel")

    @classmethod
    def _from_params(cls, params: dict[str, np.ndarray], name: str) -> LSTM:
        H, n_in = params["W_f"].shape
        dtype = params["W_f"].dtype
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"{name}: expected float32 or float64 weights, got {dtype}")
        m = cls(n_in - H, H, peephole=False, seed=0, dtype=dtype)
        for k, v in params.items():
            m.params[k][...] = v
        return m


class RNN(_Layer):
    """The Elman RNN the LSTM improves on: ``h_t = tanh(W [h_{t-1}, x_t] + b)``.

    ``RNN(input_size, hidden_size, *, recurrent_init="uniform", seed=None, dtype=np.float64)``;
    ``params``: ``W`` (H, H + D) with columns ``[h, x]`` and ``b`` (H,) zeros. ``W`` is drawn
    uniform in [-1/sqrt(H), 1/sqrt(H)] (as PyTorch); ``recurrent_init`` then sets its recurrent
    block ``W_h = W[:, :H]``:

    ``"uniform"``     keep it (PyTorch's default);
    ``"orthogonal"``  a random orthogonal matrix (all singular values 1, so at the start a
                      gradient keeps its size through ``W_h``; Saxe et al. 2014), drawn by the QR
                      decomposition of a Gaussian matrix with the signs fixed (uniform over the
                      orthogonal group);
    ``"identity"``    the identity, as in Le et al. 2015 (who paired it with ReLU units; here
                      the units stay tanh).
    """

    RECURRENT_INITS = ("uniform", "orthogonal", "identity")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        recurrent_init: str = "uniform",
        seed=None,
        dtype=np.float64,
    ) -> None:
        self.input_size = D = check_positive_int("input_size", input_size)
        self.hidden_size = H = check_positive_int("hidden_size", hidden_size)
        self.dtype = check_dtype("dtype", dtype)
        if recurrent_init not in self.RECURRENT_INITS:
            raise ValueError(
                f"recurrent_init: expected one of {self.RECURRENT_INITS}, got {recurrent_init!r}"
            )
        self.recurrent_init = recurrent_init
        rng = check_seed("seed", seed)
        bound = 1 / np.sqrt(H)
        W = rng.uniform(-bound, bound, size=(H, H + D))
        if recurrent_init == "orthogonal":
            q, r = np.linalg.qr(rng.standard_normal((H, H)))
            W[:, :H] = q * np.sign(np.diag(r))  # the signs fixed: uniform over O(H)
        elif recurrent_init == "identity":
            W[:, :H] = np.eye(H)
        W = W.astype(self.dtype)
        self._set_params(
            {"W": W, "b": np.zeros(H, self.dtype)},
            {"W": np.zeros((H, H + D), self.dtype), "b": np.zeros(H, self.dtype)},
        )

    def __repr__(self) -> str:
        return (
            f"RNN(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"dtype={self.dtype.name}{self._models_repr()})"
        )

    def forward(self, xs, h0=None):
        """Run over ``xs`` (T, B, D) from ``h0`` (B, H) (``None``: zeros); return ``hs``
        (T, B, H) and ``h_T`` (B, H). (Stacked: (T, M, B, D), (M, B, H), (T, M, B, H).)"""
        D, H, dtype, lead = self.input_size, self.hidden_size, self.dtype, self._lead
        xs = self._sequence("xs", xs, D)
        T, B = xs.shape[0], xs.shape[-2]
        h0 = self._state("h0", h0, B, H)
        p = self._checked_params()
        W_hT = np.ascontiguousarray(p["W"][..., :H].swapaxes(-1, -2))  # (H, H)
        W_xT = np.ascontiguousarray(p["W"][..., H:].swapaxes(-1, -2))  # (D, H)
        xs = xs.copy()

        hbuf = np.empty((T + 1, *lead, B, H), dtype)  # hbuf[t] = h_{t-1}
        hbuf[0] = h0
        hbuf[1:] = _unfold(np.matmul(_fold(xs), W_xT), T)  # the inputs' share, all steps
        hbuf[1:] += p["b"][..., None, :]
        rec = np.empty((*lead, B, H), dtype)
        for t in range(T):
            np.matmul(hbuf[t], W_hT, out=rec)
            hbuf[t + 1] += rec
            np.tanh(hbuf[t + 1], out=hbuf[t + 1])
        self._cache = (xs, hbuf, W_hT, W_xT)
        return hbuf[1:].copy(), hbuf[T].copy()

    def backward(self, dhs, dh_T=None):
        """Backpropagate through the last ``forward``: ``dhs`` (T, B, H) (``None``: zeros) and
        ``dh_T`` (B, H) (``None``: zeros). Returns ``dxs`` (T, B, D) and ``dh0`` (B, H); fills
        ``self.grads``."""
        check_called("backward", self._cache)
        xs, hbuf, W_hT, W_xT = self._cache
        T, B = xs.shape[0], xs.shape[-2]
        H, dtype, lead = self.hidden_size, self.dtype, self._lead
        dhs = self._dhs(dhs, (T, *lead, B, H))
        dh = self._state("dh_T", dh_T, B, H).copy()
        dZ = np.empty((T, *lead, B, H), dtype)  # dL/dz_t, z_t = W [h_{t-1}, x_t] + b
        tmp = np.empty((*lead, B, H), dtype)
        W_h = W_hT.swapaxes(-1, -2)
        for t in range(T - 1, -1, -1):
            dz = dZ[t]
            np.add(dh, dhs[t], out=dz)
            np.multiply(hbuf[t + 1], hbuf[t + 1], out=tmp)  # tanh' = 1 - h_t^2
            np.subtract(1, tmp, out=tmp)
            dz *= tmp
            np.matmul(dz, W_h, out=dh)
        dZ2 = _fold(dZ)  # (T*B, H), stacked (M, T*B, H)
        dZ2_T = dZ2.swapaxes(-1, -2)
        np.matmul(dZ2_T, _fold(hbuf[:-1]), out=self._grads["W"][..., :H])
        np.matmul(dZ2_T, _fold(xs), out=self._grads["W"][..., H:])
        np.sum(dZ2, axis=-2, out=self._grads["b"])
        self._publish_grads()
        return _unfold(dZ2 @ W_xT.swapaxes(-1, -2), T), dh


class Linear(_Layer):
    """A readout ``y = x W^T + b`` applied to the last axis.

    ``Linear(in_features, out_features, *, seed=None, dtype=np.float64)``; ``params``: ``W``
    (out, in), uniform in [-1/sqrt(in), 1/sqrt(in)] (as PyTorch), and ``b`` (out,) zeros.
    """

    def __init__(self, in_features: int, out_features: int, *, seed=None, dtype=np.float64) -> None:
        self.in_features = n = check_positive_int("in_features", in_features)
        self.out_features = m = check_positive_int("out_features", out_features)
        self.dtype = check_dtype("dtype", dtype)
        rng = check_seed("seed", seed)
        W = rng.uniform(-1 / np.sqrt(n), 1 / np.sqrt(n), size=(m, n)).astype(self.dtype)
        self._set_params(
            {"W": W, "b": np.zeros(m, self.dtype)},
            {"W": np.zeros((m, n), self.dtype), "b": np.zeros(m, self.dtype)},
        )

    def __repr__(self) -> str:
        return (
            f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
            f"dtype={self.dtype.name}{self._models_repr()})"
        )

    def forward(self, x):
        """``x`` (..., in) -> ``y`` (..., out). (Stacked: (M, ..., in) -> (M, ..., out).)"""
        if self.models is None:
            x = self._array("x", x, (..., self.in_features), "(in_features)")
        else:
            x = self._array("x", x, (self.models, ..., self.in_features), "(M, ..., in_features)")
        p = self._checked_params()
        self._cache = (x.copy(), p["W"].copy())
        x2 = x.reshape(*self._lead, -1, self.in_features)  # all rows of each model
        y = x2 @ p["W"].swapaxes(-1, -2) + p["b"][..., None, :]
        return y.reshape(*x.shape[:-1], self.out_features)

    def backward(self, dy):
        """``dy`` (..., out), the shape of the last output -> ``dx`` (..., in); fills ``grads``."""
        check_called("backward", self._cache)
        x, W = self._cache
        dy = self._array("dy", dy, (*x.shape[:-1], self.out_features), "(the shape of y)")
        x2 = x.reshape(*self._lead, -1, self.in_features)
        dy2 = dy.reshape(*self._lead, -1, self.out_features)
        np.matmul(dy2.swapaxes(-1, -2), x2, out=self._grads["W"])
        np.sum(dy2, axis=-2, out=self._grads["b"])
        self._publish_grads()
        return (dy2 @ W).reshape(x.shape)
