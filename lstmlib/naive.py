"""From the equations to the fast layer: the LSTM in five stages, each one change from the last.

Chapter 13 ("Making it fast") walks through these. Every stage computes the same numbers as
:class:`lstmlib.layers.LSTM` (forward and backward, to rounding), has the same constructor, the
same ``params`` and ``grads`` (same keys, shapes and, for the same ``seed``, the same weights bit
for bit) and the same ``forward``/``backward`` signatures; only the arithmetic is reordered.

===  ==========================  ============================================================
1    :class:`NaiveLSTM`          the equations as written: per valve, per step, forward and
                                 backward (four products ``[c, h, x] @ W_k^T`` per step)
2    :class:`FusedGatesLSTM`     the four valves stacked into one matrix: one product per step
3    :class:`HoistedInputLSTM`   the input's share of all ``T`` steps in one product before the
                                 loop (and its gradient in one product after it)
4    :class:`InPlaceLSTM`        preallocated buffers and in-place ufuncs (``out=``): no
                                 allocation and no concatenation inside the loops
5    :class:`lstmlib.LSTM`       the weight gradients of all steps from a few large products
                                 after the backward loop (plus one ``tanh`` for the four valves
                                 and valve-by-valve blocks; see the docstring of
                                 :mod:`lstmlib.layers`)
===  ==========================  ============================================================

:data:`STAGES` lists the five classes in that order. :func:`max_differences` compares two
layers on the same input. :func:`matmul_flops` counts the floating-point operations of a layer's
matrix products; :func:`time_layer` times one layer, :func:`time_stages` all five stages on a
list of shapes, and :func:`matmul_rate` numpy's own matrix-product rate, the yardstick;
:func:`plot_stage_bars` draws one bar per stage and shape (it imports matplotlib, through
:mod:`lstmlib.draw`, only when called).

Stages 2 to 4 stack the valves in the order ``f, i, o, G`` (as :class:`lstmlib.LSTM` does), so
that the three sigmoid valves are one contiguous block of columns.
"""

from __future__ import annotations

import time

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
from .activations import sigmoid, sigmoid_inplace
from .layers import LSTM, initial_valve_params

__all__ = [
    "STAGES",
    "STAGE_NAMES",
    "FusedGatesLSTM",
    "HoistedInputLSTM",
    "InPlaceLSTM",
    "NaiveLSTM",
    "matmul_flops",
    "max_differences",
    "matmul_rate",
    "plot_stage_bars",
    "time_layer",
    "time_stages",
]

#: The order in which stages 2-4 stack the valves (as lstmlib.LSTM): the sigmoid valves first.
_ORDER = ("f", "i", "o", "g")


class _StagedLSTM:
    """What the stages share with :class:`lstmlib.LSTM`: constructor, ``params``, ``grads``,
    argument checks. Subclasses implement ``forward`` and ``backward``."""

    #: The stage's number in the chapter (1 to 4; lstmlib.LSTM is stage 5).
    stage = 0

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
        self.n_rec = 2 * H if self.peephole else H  # the columns of [c, h] (or [h]) in W_*
        n_in = self.n_rec + D
        # the same draws, in the same order, as lstmlib.LSTM: the same seed, the same weights
        self.params = initial_valve_params(
            rng, H, n_in, forget_bias=self.forget_bias, dtype=self.dtype
        )
        self._shapes = {k: v.shape for k, v in self.params.items()}
        self._grads = {k: np.zeros_like(v) for k, v in self.params.items()}  # backward writes
        self.grads = dict(self._grads)
        self._cache = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_size={self.input_size}, hidden_size="
            f"{self.hidden_size}, peephole={self.peephole}, dtype={self.dtype.name})"
        )

    # --- argument checks (the messages of lstmlib.LSTM) ----------------------------------------

    def _checked_params(self) -> dict[str, np.ndarray]:
        return check_params("params", self.params, self._shapes, dtype=self.dtype)

    def _array(self, name: str, x, shape, hint: str) -> np.ndarray:
        return check_array(
            name, x, shape=shape, dtype=self.dtype, shape_hint=hint, dtype_hint="the layer's dtype"
        )

    def _pair(self, name: str, pair, names: tuple[str, str], B: int) -> list[np.ndarray]:
        """A state ``(h, c)`` or its gradient: ``None`` (or a ``None`` entry) means zeros."""
        if pair is None:
            pair = (None, None)
        pair = check_pair(name, pair, names)
        H = self.hidden_size
        hint = f"= (B, H) with B={B} (the batch size of xs) and H={H} (the layer's hidden_size)"
        return [
            np.zeros((B, H), self.dtype)
            if v is None
            else self._array(f"{name}[{k}] ({n})", v, (B, H), hint)
            for k, (n, v) in enumerate(zip(names, pair, strict=True))
        ]

    def _forward_args(self, xs, state):
        D = self.input_size
        xs = self._array("xs", xs, ("T", "B", D), f"with D={D} (the layer's input_size)")
        h0, c0 = self._pair("state", state, ("h0", "c0"), xs.shape[1])
        return xs.copy(), h0, c0  # a copy: backward needs the inputs as they were

    def _backward_args(self, dhs, dstate, T: int, B: int):
        shape = (T, B, self.hidden_size)
        if dhs is None:
            dhs = np.zeros(shape, self.dtype)
        else:
            dhs = self._array("dhs", dhs, shape, "(the shape of hs returned by forward)")
        dh_T, dc_T = self._pair("dstate", dstate, ("dh_T", "dc_T"), B)
        return dhs, dh_T, dc_T

    # --- the fused layout of stages 2-4 -------------------------------------------------------

    def _stacked(self, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``W`` (4H, n_in): the rows of ``W_f, W_i, W_o, W_g`` one under another, and ``b``
        (4H,) likewise."""
        W = np.concatenate([p[f"W_{g}"] for g in _ORDER])
        b = np.concatenate([p[f"b_{g}"] for g in _ORDER])
        return W, b

    def _store_grads(self, grads: dict[str, np.ndarray]) -> None:
        """Write ``grads`` into the arrays of ``self.grads``: as in :class:`lstmlib.LSTM`, they
        are the same arrays from one ``backward`` to the next, so a reference stays valid."""
        for k, g in grads.items():
            self._grads[k][...] = g
        self.grads.clear()  # re-point grads at them, in case a caller rebound an entry
        self.grads.update(self._grads)

    def _unstack_grads(self, gW: np.ndarray, gb: np.ndarray) -> None:
        """Store the stacked gradients as ``grads`` (the params' keys)."""
        H = self.hidden_size
        grads = {}
        for k, g in enumerate(_ORDER):
            grads[f"W_{g}"] = gW[k * H : (k + 1) * H]
            grads[f"b_{g}"] = gb[k * H : (k + 1) * H]
        self._store_grads({k: grads[k] for k in LSTM_PARAM_KEYS})


class NaiveLSTM(_StagedLSTM):
    """Stage 1: the equations as written, one valve at a time, one step at a time.

    Forward, at every step: concatenate ``combined = [c_{t-1}, h_{t-1}, x_t]`` (B, n_in), then
    four products ``combined @ W_k^T`` (B, n_in) @ (n_in, H), one per valve, each followed by its
    activation; then the memory pipe and the output state. Backward (backpropagation through
    time) runs the same steps in reverse, again valve by valve: per step and valve, one product
    for the weight gradient ``dz_k^T @ combined`` and one for ``dz_k @ W_k``, the gradient
    flowing back into ``[c_{t-1}, h_{t-1}, x_t]``. Every operation allocates its result.

    This is the reference the faster stages are checked against (and it is checked against
    finite differences).
    """

    stage = 1

    def forward(self, xs, state=None):
        """``xs`` (T, B, D), ``state`` (h0, c0) or None -> ``hs``, ``(h_T, c_T)``."""
        xs, h, c = self._forward_args(xs, state)
        p = self._checked_params()
        steps = []
        hs = []
        for x in xs:
            combined = np.concatenate([c, h, x] if self.peephole else [h, x], axis=1)
            f = sigmoid(combined @ p["W_f"].T + p["b_f"])  # forget valve
            i = sigmoid(combined @ p["W_i"].T + p["b_i"])  # new memory valve
            g = np.tanh(combined @ p["W_g"].T + p["b_g"])  # candidate G_t
            o = sigmoid(combined @ p["W_o"].T + p["b_o"])  # output valve
            c_prev = c
            c = f * c_prev + i * g  # memory pipe
            tanh_c = np.tanh(c)
            h = o * tanh_c  # output state
            steps.append((combined, c_prev, f, i, g, o, tanh_c))
            hs.append(h)
        self._cache = (xs.shape, steps)
        return np.array(hs), (h.copy(), c.copy())

    def backward(self, dhs, dstate=None):
        """``dhs`` (T, B, H), ``dstate = (dh_T, dc_T)`` or ``None``; returns ``dxs`` and
        ``(dh0, dc0)``, and fills ``grads``."""
        check_called("backward", self._cache)
        (T, B, D), steps = self._cache
        dhs, dh_next, dc = self._backward_args(dhs, dstate, T, B)
        p = self._checked_params()
        H, n_rec = self.hidden_size, self.n_rec
        grads = {k: np.zeros_like(v) for k, v in p.items()}
        dxs = np.empty((T, B, D), self.dtype)
        for t in range(T - 1, -1, -1):
            combined, c_prev, f, i, g, o, tanh_c = steps[t]
            dh = dhs[t] + dh_next  # from the loss at step t and from step t + 1
            do = dh * tanh_c  # h_t = o_t tanh(c_t)
            dc = dc + dh * o * (1 - tanh_c**2)
            df, di, dg = dc * c_prev, dc * g, dc * i  # c_t = f_t c_{t-1} + i_t G_t
            dz = {  # through each valve's activation
                "f": df * f * (1 - f),
                "i": di * i * (1 - i),
                "g": dg * (1 - g**2),
                "o": do * o * (1 - o),
            }
            dcombined = np.zeros_like(combined)
            for k, dz_k in dz.items():  # every valve saw combined = [c_{t-1}, h_{t-1}, x_t]
                grads[f"W_{k}"] += dz_k.T @ combined
                grads[f"b_{k}"] += dz_k.sum(axis=0)
                dcombined += dz_k @ p[f"W_{k}"]
            dc = dc * f  # the memory pipe carries c_{t-1} through the forget valve
            if self.peephole:
                dc = dc + dcombined[:, :H]  # ... and the valves peeked at it
            dh_next = dcombined[:, n_rec - H : n_rec]
            dxs[t] = dcombined[:, n_rec:]
        self._store_grads(grads)
        return dxs, (dh_next.copy(), dc)


class FusedGatesLSTM(_StagedLSTM):
    """Stage 2: the four valves fused into one matrix product per step.

    The valves all multiply the same ``combined`` (B, n_in), so their weights can be stacked
    into one matrix ``W`` (4H, n_in) (rows of ``W_f, W_i, W_o, W_g``) and the four products
    become one: ``z = combined @ W^T + b``, (B, n_in) @ (n_in, 4H). The sigmoid then opens the
    three sigmoid valves in one call on the block ``z[:, :3H]``. Backward likewise: per step one
    product ``dz^T @ combined`` (4H, B) @ (B, n_in) for all the weight gradients and one
    ``dz @ W`` for the gradient into ``combined``, where ``dz`` (B, 4H) holds the four valves'
    gradients side by side. Same number of flops, a quarter of the calls.
    """

    stage = 2

    def forward(self, xs, state=None):
        """``xs`` (T, B, D), ``state`` (h0, c0) or None -> ``hs``, ``(h_T, c_T)``."""
        xs, h, c = self._forward_args(xs, state)
        W, b = self._stacked(self._checked_params())
        H = self.hidden_size
        steps = []
        hs = []
        for x in xs:
            combined = np.concatenate([c, h, x] if self.peephole else [h, x], axis=1)
            z = combined @ W.T + b  # (B, 4H): all four valves, one product
            s = sigmoid(z[:, : 3 * H])
            f, i, o = s[:, :H], s[:, H : 2 * H], s[:, 2 * H :]
            g = np.tanh(z[:, 3 * H :])
            c_prev = c
            c = f * c_prev + i * g
            tanh_c = np.tanh(c)
            h = o * tanh_c
            steps.append((combined, c_prev, s, g, tanh_c))
            hs.append(h)
        self._cache = (xs.shape, steps, W)
        return np.array(hs), (h.copy(), c.copy())

    def backward(self, dhs, dstate=None):
        """``dhs`` (T, B, H), ``dstate = (dh_T, dc_T)`` or ``None``; returns ``dxs`` and
        ``(dh0, dc0)``, and fills ``grads``."""
        check_called("backward", self._cache)
        (T, B, D), steps, W = self._cache
        dhs, dh_next, dc = self._backward_args(dhs, dstate, T, B)
        H, n_rec = self.hidden_size, self.n_rec
        gW = np.zeros_like(W)
        gb = np.zeros(4 * H, self.dtype)
        dxs = np.empty((T, B, D), self.dtype)
        for t in range(T - 1, -1, -1):
            combined, c_prev, s, g, tanh_c = steps[t]
            f, i, o = s[:, :H], s[:, H : 2 * H], s[:, 2 * H :]
            dh = dhs[t] + dh_next
            do = dh * tanh_c
            dc = dc + dh * o * (1 - tanh_c**2)
            ds = np.concatenate([dc * c_prev, dc * g, do], axis=1)  # d[f, i, o]
            dz = np.concatenate([ds * s * (1 - s), dc * i * (1 - g**2)], axis=1)  # (B, 4H)
            gW += dz.T @ combined  # all four valves' weight gradients, one product
            gb += dz.sum(axis=0)
            dcombined = dz @ W  # (B, n_in), one product
            dc = dc * f
            if self.peephole:
                dc = dc + dcombined[:, :H]
            dh_next = dcombined[:, n_rec - H : n_rec]
            dxs[t] = dcombined[:, n_rec:]
        self._unstack_grads(gW, gb)
        return dxs, (dh_next.copy(), dc)


class HoistedInputLSTM(_StagedLSTM):
    """Stage 3: the input's share of all steps, one product before the loop.

    ``W`` splits by columns into ``W_rec`` (4H, n_rec) for ``[c_{t-1}, h_{t-1}]`` and ``W_x``
    (4H, D) for ``x_t``. Only the first part depends on the previous step; the inputs are all
    known in advance, so ``xz = X @ W_x^T + b`` for every step at once is one product
    (T*B, D) @ (D, 4H) before the loop, and the loop keeps one smaller product per step,
    ``[c_{t-1}, h_{t-1}] @ W_rec^T`` (B, n_rec) @ (n_rec, 4H). Backward mirrors it: the
    gradients ``dz_t`` of every step are kept, and the input's gradient ``dX = dZ @ W_x``, its
    weights' ``dW_x = dZ^T @ X`` and the bias's come from single products after the loop; the
    loop keeps ``dz_t @ W_rec`` and ``dW_rec += dz_t^T @ [c_{t-1}, h_{t-1}]``.
    """

    stage = 3

    def forward(self, xs, state=None):
        """``xs`` (T, B, D), ``state`` (h0, c0) or None -> ``hs``, ``(h_T, c_T)``."""
        xs, h, c = self._forward_args(xs, state)
        W, b = self._stacked(self._checked_params())
        T, B, D = xs.shape
        H, n_rec = self.hidden_size, self.n_rec
        W_rec, W_x = W[:, :n_rec], W[:, n_rec:]
        xz = (xs.reshape(T * B, D) @ W_x.T + b).reshape(T, B, 4 * H)  # every step at once
        steps = []
        hs = []
        for t in range(T):
            rec = np.concatenate([c, h], axis=1) if self.peephole else h
            z = rec @ W_rec.T + xz[t]  # (B, 4H): only the recurrent share is left in the loop
            s = sigmoid(z[:, : 3 * H])
            f, i, o = s[:, :H], s[:, H : 2 * H], s[:, 2 * H :]
            g = np.tanh(z[:, 3 * H :])
            c_prev = c
            c = f * c_prev + i * g
            tanh_c = np.tanh(c)
            h = o * tanh_c
            steps.append((rec, c_prev, s, g, tanh_c))
            hs.append(h)
        self._cache = (xs, steps, W)
        return np.array(hs), (h.copy(), c.copy())

    def backward(self, dhs, dstate=None):
        """``dhs`` (T, B, H), ``dstate = (dh_T, dc_T)`` or ``None``; returns ``dxs`` and
        ``(dh0, dc0)``, and fills ``grads``."""
        check_called("backward", self._cache)
        xs, steps, W = self._cache
        T, B, D = xs.shape
        dhs, dh_next, dc = self._backward_args(dhs, dstate, T, B)
        H, n_rec = self.hidden_size, self.n_rec
        W_rec, W_x = W[:, :n_rec], W[:, n_rec:]
        gW = np.zeros_like(W)
        dZ = np.empty((T, B, 4 * H), self.dtype)  # every step's dz, for the products after
        for t in range(T - 1, -1, -1):
            rec, c_prev, s, g, tanh_c = steps[t]
            f, i, o = s[:, :H], s[:, H : 2 * H], s[:, 2 * H :]
            dh = dhs[t] + dh_next
            do = dh * tanh_c
            dc = dc + dh * o * (1 - tanh_c**2)
            ds = np.concatenate([dc * c_prev, dc * g, do], axis=1)
            dZ[t] = np.concatenate([ds * s * (1 - s), dc * i * (1 - g**2)], axis=1)
            gW[:, :n_rec] += dZ[t].T @ rec
            drec = dZ[t] @ W_rec  # (B, n_rec): into [c_{t-1}, h_{t-1}] only
            dc = dc * f
            if self.peephole:
                dc = dc + drec[:, :H]
            dh_next = drec[:, n_rec - H :]
        dZ2 = dZ.reshape(T * B, 4 * H)  # the input's share of the gradients, all steps at once
        gW[:, n_rec:] = dZ2.T @ xs.reshape(T * B, D)
        dxs = (dZ2 @ W_x).reshape(T, B, D)
        self._unstack_grads(gW, dZ2.sum(axis=0))
        return dxs, (dh_next.copy(), dc)


class InPlaceLSTM(_StagedLSTM):
    """Stage 4: preallocated buffers and in-place ufuncs; no allocation inside the loops.

    Stage 3's loop allocates a new array for nearly every operation, and concatenates
    ``[c_{t-1}, h_{t-1}]`` at every step. Here every array is allocated once per call, before the
    loop: ``R`` (T+1, B, n_rec) holds ``c`` and ``h`` side by side, so ``R[t]`` *is*
    ``[c_{t-1}, h_{t-1}]`` with nothing to concatenate; ``S`` (T, B, 4H) the valve openings;
    ``C`` (T+1, B, H) the memory; and every operation writes into them with ``out=`` (the
    sigmoid too, :func:`lstmlib.activations.sigmoid_inplace`). The arithmetic, and the products,
    are those of stage 3.
    """

    stage = 4

    def forward(self, xs, state=None):
        """``xs`` (T, B, D), ``state`` (h0, c0) or None -> ``hs``, ``(h_T, c_T)``."""
        xs, h0, c0 = self._forward_args(xs, state)
        W, b = self._stacked(self._checked_params())
        T, B, D = xs.shape
        H, n_rec, dtype = self.hidden_size, self.n_rec, self.dtype
        W_recT, W_xT = W[:, :n_rec].T, W[:, n_rec:].T  # transposed views: no copies
        S = np.matmul(xs.reshape(T * B, D), W_xT).reshape(T, B, 4 * H)  # z_t, then the valves
        S += b
        R = np.empty((T + 1, B, n_rec), dtype)  # R[t] = [c_{t-1}, h_{t-1}]
        C = np.empty((T + 1, B, H), dtype)  # C[t + 1] = c_t
        tanh_C = np.empty((T, B, H), dtype)
        rec = np.empty((B, 4 * H), dtype)
        iG = np.empty((B, H), dtype)
        hs = R[:, :, n_rec - H :]
        C[0], hs[0] = c0, h0
        if self.peephole:
            R[0, :, :H] = c0
        with np.errstate(under="ignore"):
            for t in range(T):
                z = S[t]
                np.matmul(R[t], W_recT, out=rec)
                z += rec
                sigmoid_inplace(z[:, : 3 * H])
                np.tanh(z[:, 3 * H :], out=z[:, 3 * H :])
                f, i, o, g = (z[:, k * H : (k + 1) * H] for k in range(4))
                np.multiply(f, C[t], out=C[t + 1])
                np.multiply(i, g, out=iG)
                C[t + 1] += iG
                np.tanh(C[t + 1], out=tanh_C[t])
                np.multiply(o, tanh_C[t], out=hs[t + 1])
                if self.peephole:
                    R[t + 1, :, :H] = C[t + 1]
        self._cache = (xs, S, R, C, tanh_C, W)
        return hs[1:].copy(), (hs[T].copy(), C[T].copy())

    def backward(self, dhs, dstate=None):
        """``dhs`` (T, B, H), ``dstate = (dh_T, dc_T)`` or ``None``; returns ``dxs`` and
        ``(dh0, dc0)``, and fills ``grads``."""
        check_called("backward", self._cache)
        xs, S, R, C, tanh_C, W = self._cache
        T, B, D = xs.shape
        dhs, dh_T, dc_T = self._backward_args(dhs, dstate, T, B)
        H, n_rec, dtype = self.hidden_size, self.n_rec, self.dtype
        W_rec, W_x = W[:, :n_rec], W[:, n_rec:]
        gW = np.zeros_like(W)
        gW_step = np.empty((4 * H, n_rec), dtype)
        dZ = np.empty((T, B, 4 * H), dtype)
        dc = dc_T.copy()
        dh = np.empty((B, H), dtype)
        dR = np.empty((B, n_rec), dtype)
        tmp = np.empty((B, H), dtype)
        slope = np.empty((B, 3 * H), dtype)
        dh_from_later = dh_T
        with np.errstate(under="ignore"):
            for t in range(T - 1, -1, -1):
                z, dz = S[t], dZ[t]
                f, i, o, g = (z[:, k * H : (k + 1) * H] for k in range(4))
                df, di, do, dg = (dz[:, k * H : (k + 1) * H] for k in range(4))
                np.add(dhs[t], dh_from_later, out=dh)
                np.multiply(dh, tanh_C[t], out=do)
                np.multiply(tanh_C[t], tanh_C[t], out=tmp)  # dc += dh o (1 - tanh(c)^2)
                np.subtract(1, tmp, out=tmp)
                tmp *= o
                tmp *= dh
                dc += tmp
                np.multiply(dc, C[t], out=df)
                np.multiply(dc, g, out=di)
                np.multiply(dc, i, out=dg)
                s = z[:, : 3 * H]  # through the sigmoid: s (1 - s)
                np.subtract(1, s, out=slope)
                slope *= s
                dz[:, : 3 * H] *= slope
                np.multiply(g, g, out=tmp)  # through the tanh: 1 - G^2
                np.subtract(1, tmp, out=tmp)
                dg *= tmp
                np.matmul(dz.T, R[t], out=gW_step)  # this step's recurrent weight gradient
                gW[:, :n_rec] += gW_step
                np.matmul(dz, W_rec, out=dR)
                dc *= f
                if self.peephole:
                    dc += dR[:, :H]
                dh_from_later = dR[:, n_rec - H :]
        dZ2 = dZ.reshape(T * B, 4 * H)
        np.matmul(dZ2.T, xs.reshape(T * B, D), out=gW[:, n_rec:])
        dxs = (dZ2 @ W_x).reshape(T, B, D)
        self._unstack_grads(gW, dZ2.sum(axis=0))
        return dxs, (dh_from_later.copy(), dc)


#: The five stages of chapter 13, from the equations to the fast layer.
STAGES = (NaiveLSTM, FusedGatesLSTM, HoistedInputLSTM, InPlaceLSTM, LSTM)


# --- measuring ----------------------------------------------------------------------------------


def matmul_flops(T: int, B: int, D: int, H: int, *, peephole: bool = True, backward=False) -> int:
    """The floating-point operations of an LSTM layer's matrix products over ``T`` steps.

    A product (m, k) @ (k, n) costs ``2 m k n`` (a multiply and an add per term). Forward, the
    four valves multiply ``[h_{t-1}, x_t]`` (``[c_{t-1}, h_{t-1}, x_t]`` with peepholes) by a
    (n_in, 4H) matrix at every step: ``2 T B 4H (D + H_rec)`` with ``H_rec = H`` (``2H`` with
    peepholes). Backward costs twice that: the gradient into the inputs (``dz @ W``) and into the
    weights (``dz^T @ [h, x]``) are each a product of the same size. ``backward=True`` returns
    forward plus backward (three times the forward count). The elementwise work (``O(T B H)``) is
    not counted: it is small in flops but, as chapter 13 measures, not in time.
    """
    for name, v in (("T", T), ("B", B), ("D", D), ("H", H)):
        check_positive_int(name, v)
    check_bool("peephole", peephole)
    check_bool("backward", backward)
    h_rec = 2 * H if peephole else H
    forward = 2 * T * B * 4 * H * (D + h_rec)
    return 3 * forward if backward else forward


def time_layer(layer, xs, *, backward: bool = False, repeats: int = 5, warmup: int = 1):
    """Seconds per call of ``layer.forward(xs)`` (and ``layer.backward`` of ones, if
    ``backward``), measured ``repeats`` times after ``warmup`` untimed calls.

    Returns an array of ``repeats`` times: take its ``min`` (the least disturbed run, best for
    comparing code on a busy machine) or its median.
    """
    check_bool("backward", backward)
    check_positive_int("repeats", repeats)
    if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or warmup < 0:
        raise ValueError(f"warmup: expected an int >= 0, got {warmup!r}")
    hs, _ = layer.forward(xs)
    dhs = np.ones_like(hs)
    times = []
    for k in range(warmup + repeats):
        start = time.perf_counter()
        layer.forward(xs)
        if backward:
            layer.backward(dhs)
        if k >= warmup:
            times.append(time.perf_counter() - start)
    return np.array(times)


def time_stages(
    shapes, *, stages=STAGES, peephole=False, dtype=np.float32, backward=True, repeats=5, seed=0
) -> np.ndarray:
    """The best time (seconds) of each stage at each shape ``(T, B, D, H)``: an array of shape
    ``(len(shapes), len(stages))``.

    Each layer runs ``forward`` (and ``backward`` of ones, if ``backward``) once untimed, then
    ``repeats`` times in interleaved rounds (every stage once per round), so that a change in
    the machine's load hits all stages alike; the least disturbed (smallest) time is kept.
    """
    check_positive_int("repeats", repeats)
    result = np.empty((len(shapes), len(stages)))
    for j, shape in enumerate(shapes):
        T, B, D, H = (check_positive_int(n, v) for n, v in zip("TBDH", shape, strict=True))
        xs = check_seed("seed", seed).standard_normal((T, B, D)).astype(dtype)
        layers = [cls(D, H, peephole=peephole, seed=seed, dtype=dtype) for cls in stages]
        dhs = np.ones((T, B, H), dtype)
        for layer in layers:  # warm-up
            layer.forward(xs)
            layer.backward(dhs)
        best = np.full(len(stages), np.inf)
        for _ in range(repeats):
            for k, layer in enumerate(layers):
                start = time.perf_counter()
                layer.forward(xs)
                if backward:
                    layer.backward(dhs)
                best[k] = min(best[k], time.perf_counter() - start)
        result[j] = best
    return result


def matmul_rate(m: int, k: int, n: int, *, dtype=np.float32, repeats: int = 5) -> float:
    """numpy's rate, in GFLOP/s, on the product (m, k) @ (k, n) into a preallocated result: the
    best of ``repeats`` timings (tiny products are repeated so that the clock can see them)."""
    m, k, n = (check_positive_int(name, v) for name, v in (("m", m), ("k", k), ("n", n)))
    check_positive_int("repeats", repeats)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    out = np.matmul(a, b)
    calls = max(1, int(1e7 // (2 * m * k * n)))
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            np.matmul(a, b, out=out)
        best = min(best, (time.perf_counter() - start) / calls)
    return 2 * m * k * n / best / 1e9


def max_differences(a, b, xs, dhs, *, state=None, dstate=None) -> tuple[float, float]:
    """Run two layers forward on ``xs`` and backward from ``dhs``; return the largest absolute
    difference of their forward results (``hs``, ``h_T``, ``c_T``) and of their gradients
    (``dxs``, ``dh0``, ``dc0`` and every entry of ``grads``)."""
    fa, fb = a.forward(xs, state), b.forward(xs, state)
    ga, gb = a.backward(dhs, dstate), b.backward(dhs, dstate)

    def largest(pairs):
        return max(float(np.max(np.abs(np.asarray(u) - np.asarray(v)))) for u, v in pairs)

    forward = largest([(fa[0], fb[0]), *zip(fa[1], fb[1], strict=True)])
    grads = [(a.grads[k], b.grads[k]) for k in LSTM_PARAM_KEYS]
    gradients = largest([(ga[0], gb[0]), *zip(ga[1], gb[1], strict=True), *grads])
    return forward, gradients


#: The stages' short names, for tables and legends.
STAGE_NAMES = ("1 naive", "2 fused valves", "3 hoisted input", "4 in place", "5 lstmlib.LSTM")
_STAGE_COLORS = ("vermillion", "orange", "reddish_purple", "sky_blue", "blue")


def plot_stage_bars(ax, shapes, values, *, ylabel: str, title=None, reference=None, fmt="{:.1f}"):
    """Grouped bars on ``ax``: one group per shape ``(T, B, D, H)``, one bar per stage.

    values     (len(shapes), number of stages), e.g. speed-ups or shares of the peak.
    reference  draw a dotted horizontal line there (e.g. 1 for "as fast as stage 1").
    fmt        the format of the value written above each bar (``None``: no labels).
    The bars are labelled with :data:`STAGE_NAMES` for a legend. Returns ``ax``.
    """
    from . import draw

    values = check_array("values", values, ndim=2)
    n_shapes, n_stages = values.shape
    if n_shapes != len(shapes):
        raise ValueError(f"values: expected {len(shapes)} rows (one per shape), got {n_shapes}")
    width = 0.8 / n_stages
    x = np.arange(n_shapes)
    for k in range(n_stages):
        color = draw.OKABE_ITO[_STAGE_COLORS[k % len(_STAGE_COLORS)]]
        pos = x - 0.4 + (k + 0.5) * width
        ax.bar(pos, values[:, k], width * 0.92, color=color, label=STAGE_NAMES[k])
        if fmt is not None:
            for xp, v in zip(pos, values[:, k], strict=True):
                ax.text(xp, v, fmt.format(v), ha="center", va="bottom", fontsize=7)
    if reference is not None:
        ax.axhline(reference, color="#555555", lw=1, ls=":")
    ax.set_xticks(x, ["T, B, D, H =\n" + ", ".join(map(str, s)) for s in shapes])
    ax.set_ylabel(ylabel)
    ax.grid(axis="x", visible=False)
    if title:
        ax.set_title(title)
    return ax
