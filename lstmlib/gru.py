"""The gated recurrent unit (GRU) of Cho et al. (2014), exactly as ``torch.nn.GRU`` computes it.

The GRU is the coupled LSTM of chapter 11 (``i_t = 1 - f_t``) with two more changes: the memory
pipe is the output (no output valve, no tanh on the way out: ``h_t`` *is* the memory), and a
third valve, the *reset valve*, decides how much of the old memory the candidate sees. One step,
in PyTorch's notation and gate order ``r, z, n``::

    combined = [h_{t-1}, x_t]
    r_t = sigmoid(W_r combined + b_r)                              reset_valve
    z_t = sigmoid(W_z combined + b_z)                              update_valve (keeps, like f_t)
    n_t = tanh(W_nx x_t + b_n + r_t * (W_nh h_{t-1} + b_hn))       candidate_memory (like G_t)
    h_t = z_t * h_{t-1} + (1 - z_t) * n_t                          memory_pipe(h_{t-1}, z, 1 - z, n)

The update valve ``z_t`` plays the forget valve's role (1 keeps the old memory), ``1 - z_t`` the new
memory valve's, and ``n_t`` the candidate's: the last line is :func:`lstmlib.unit.memory_pipe`
with ``f = z_t``, ``i = 1 - z_t`` and ``G = n_t``. The reset valve multiplies the *recurrent share*
of the candidate, bias included: ``r_t * (W_nh h_{t-1} + b_hn)``. That is PyTorch's form (and
Keras' ``reset_after=True``), the one of the first arXiv version of Cho et al.'s paper; the
published version resets before the product, ``W_nh (r_t * h_{t-1})``, a different unit.

Parameters (``params`` of :class:`GRU`; H the hidden size, D the input size)::

    W_r, W_z, W_n   (H, H + D)   columns [h, x], as the standard LSTM's W_* (W_nh = W_n[:, :H],
                                  W_nx = W_n[:, H:])
    b_r, b_z, b_n   (H,)         the biases that add to the valves' inputs
    b_hn            (H,)         the candidate's recurrent bias, inside the reset valve

PyTorch keeps two bias vectors per gate, ``bias_ih`` and ``bias_hh``. For ``r`` and ``z`` only
their sum matters, so ``b_r = b_ir + b_hr`` and ``b_z = b_iz + b_hz``; for the candidate they play
different roles, so they stay separate: ``b_n = b_in`` and ``b_hn``. :meth:`GRU.to_torch` writes
``b_r, b_z, b_n`` into ``bias_ih_l0`` and ``[0, 0, b_hn]`` into ``bias_hh_l0``: params → torch →
params is exact, and torch → params → torch computes the same layer (the bias of ``r`` and ``z``
moved into ``bias_ih``), as for the LSTM in :mod:`lstmlib.convert`.

:class:`GRU` has the interface of :class:`lstmlib.layers.RNN` (``forward(xs, h0=None) -> hs,
h_T``, ``backward(dhs, dh_T=None) -> dxs, dh0``, live ``params``/``grads``, ``stack``), plus
``gates`` after ``forward``: read-only ``"r", "z", "n"``, each (T, B, H). It is batched and
vectorised like the book's other layers: the inputs' share of all three valves, for all steps,
is one matrix product before the time loop, and each step is one ``(B, H) @ (H, 3H)`` product.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._checks import (
    check_array,
    check_called,
    check_dtype,
    check_positive_int,
    check_seed,
)
from .activations import sigmoid
from .convert import TORCH_KEYS, _array, _check_keys, _torch_layer
from .layers import _fold, _Layer, _read_only, _unfold
from .unit import memory_pipe

__all__ = [
    "GRU",
    "GRU_PARAM_KEYS",
    "candidate_memory",
    "gru_unit",
    "reset_valve",
    "update_valve",
]

#: The keys of a GRU's ``params``, in order.
GRU_PARAM_KEYS = ("W_r", "W_z", "W_n", "b_r", "b_z", "b_n", "b_hn")
#: PyTorch's order of the three blocks of its fused matrices (and of ours).
GRU_GATE_ORDER = ("r", "z", "n")
#: The keys of a one-layer, unidirectional ``torch.nn.GRU`` state dict.


# --- one step, written to be read ----------------------------------------------------------------


def check_gru_params(name: str, params, keys=GRU_PARAM_KEYS) -> tuple[int, int, np.dtype]:
    """Check a GRU ``params`` dict (at least ``keys``); return ``(H, n_in, dtype)``: ``W_*`` all
    (H, n_in) with n_in = H + D, ``b_*`` all (H,), one dtype."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"{name}: expected a dict of arrays (a GRU's params), got {type(params).__name__}"
        )
    missing = [k for k in keys if k not in params]
    if missing:
        raise ValueError(
            f"{name}: missing {', '.join(map(repr, missing))}; a GRU's params have the keys "
            f"{', '.join(GRU_PARAM_KEYS)}"
        )
    first_w = next((k for k in keys if k.startswith("W")), None)
    first = first_w or keys[0]
    ref = check_array(
        f"{name}[{first!r}]", params[first], ndim=2 if first_w else 1, finite=False,
        shape_hint="(H, H + D)" if first_w else "(H,)",
    )  # fmt: skip
    H = ref.shape[0]
    n_in = ref.shape[1] if first_w else None
    for k in keys:
        shape = (H, n_in if n_in is not None else "n_in") if k.startswith("W") else (H,)
        check_array(
            f"{name}[{k!r}]", params[k], shape=shape, dtype=ref.dtype, finite=False,
            shape_hint=f"like {name}[{first!r}] (H={H})",
            dtype_hint=f"that of {name}[{first!r}]",
        )  # fmt: skip
    if n_in is not None and n_in <= H:
        raise ValueError(
            f"{name}[{first_w!r}]: expected shape (H, H + D) with D >= 1, got {ref.shape}"
        )
    return H, n_in, ref.dtype


def _combined(combined, params, keys) -> tuple[np.ndarray, int]:
    H, n_in, dtype = check_gru_params("params", params, keys=keys)
    combined = check_array(
        "combined", combined, shape=[(n_in,), ("B", n_in)], dtype=dtype,
        shape_hint=f"with n_in={n_in} = H + D ([h_(t-1), x_t], a vector or a batch)",
        dtype_hint="the dtype of params",
    )  # fmt: skip
    return combined, H


def reset_valve(combined, params) -> np.ndarray:
    """``r_t = sigmoid(W_r [h_{t-1}, x_t] + b_r)``: how much of the old memory the candidate
    sees (0 resets it: the candidate is computed as if the sequence started here).
    ``combined`` (H + D,) or (B, H + D) -> (H,) or (B, H)."""
    combined, _ = _combined(combined, params, ("W_r", "b_r"))
    return sigmoid(combined @ params["W_r"].T + params["b_r"])


def update_valve(combined, params) -> np.ndarray:
    """``z_t = sigmoid(W_z [h_{t-1}, x_t] + b_z)``: how much of the old memory to keep, the
    forget valve's role (1 keeps everything); the candidate flows in through ``1 - z_t``.
    ``combined`` (H + D,) or (B, H + D) -> (H,) or (B, H)."""
    combined, _ = _combined(combined, params, ("W_z", "b_z"))
    return sigmoid(combined @ params["W_z"].T + params["b_z"])


def _check_step(prev_h, x, H: int, n_in: int, dtype, weights: str):
    """``prev_h`` (H,) or (B, H) and ``x`` (D,) or (B, D), D = n_in - H (``weights``' columns
    minus H), both of the params' dtype."""
    prev_h = check_array(
        "prev_h", prev_h, shape=[(H,), ("B", H)], dtype=dtype,
        shape_hint=f"with H={H} (params' rows)", dtype_hint="the dtype of params",
    )  # fmt: skip
    x = check_array(
        "x", x, shape=(*prev_h.shape[:-1], n_in - H), dtype=dtype,
        shape_hint=f"with D={n_in - H} ({weights}'s columns minus H), the rows of prev_h",
        dtype_hint="the dtype of params",
    )  # fmt: skip
    return prev_h, x


def candidate_memory(prev_h, x, r, params) -> np.ndarray:
    """``n_t = tanh(W_nx x_t + b_n + r_t * (W_nh h_{t-1} + b_hn))``: the candidate memory (the
    LSTM's ``G_t``), which sees the old memory only through the reset valve ``r_t``.

    prev_h, r  (H,) or (B, H);  x  (D,) or (B, D)  ->  (H,) or (B, H).
    """
    H, n_in, dtype = check_gru_params("params", params, keys=("W_n", "b_n", "b_hn"))
    prev_h, x = _check_step(prev_h, x, H, n_in, dtype, "W_n")
    r = check_array(
        "r", r, shape=prev_h.shape, dtype=dtype, shape_hint="(that of prev_h)",
        dtype_hint="the dtype of params",
    )  # fmt: skip
    W_nh, W_nx = params["W_n"][:, :H], params["W_n"][:, H:]
    return np.tanh(x @ W_nx.T + params["b_n"] + r * (prev_h @ W_nh.T + params["b_hn"]))


def gru_unit(prev_h, x, params) -> np.ndarray:
    """One step of the GRU: ``h_t`` from ``h_{t-1}`` and ``x_t``. Step by step it reproduces
    ``GRU.forward``::

        h = h0
        for x in xs:
            h = gru_unit(h, x, m.params)

    prev_h (H,) or (B, H);  x (D,) or (B, D)  ->  h_t of the shape of prev_h.
    """
    H, n_in, dtype = check_gru_params("params", params)
    prev_h, x = _check_step(prev_h, x, H, n_in, dtype, "W_*")
    combined = np.concatenate([prev_h, x], axis=-1)
    r = reset_valve(combined, params)
    z = update_valve(combined, params)
    n = candidate_memory(prev_h, x, r, params)
    return memory_pipe(prev_h, z, 1 - z, n)  # h_t = z h_{t-1} + (1 - z) n


# --- the layer -----------------------------------------------------------------------------------


class GRU(_Layer):
    """A layer of ``hidden_size`` GRU units run over sequences: ``torch.nn.GRU``'s equations.

    ``GRU(input_size, hidden_size, *, seed=None, dtype=np.float64)``

    seed   ``W_r, W_z, W_n`` (H, H + D) drawn in that order uniformly from
           [-1/sqrt(H), 1/sqrt(H)] (PyTorch's range) by ``np.random.default_rng(seed)`` in float64,
           then cast; the biases ``b_r, b_z, b_n, b_hn`` (H,) start at 0, as the book's LSTM's do
           (PyTorch draws them from the same range).

    ``forward(xs, h0=None) -> hs, h_T``: xs (T, B, D), h0 (B, H), hs (T, B, H), h_T (B, H).
    ``backward(dhs, dh_T=None) -> dxs, dh0``; fills ``grads`` (the keys and shapes of ``params``).
    ``gates`` after forward: read-only ``"r", "z", "n"``, each (T, B, H).
    ``GRU.stack([...])`` stacks layers along a leading model axis, as ``LSTM.stack`` does.
    """

    def __init__(self, input_size: int, hidden_size: int, *, seed=None, dtype=np.float64) -> None:
        self.input_size = D = check_positive_int("input_size", input_size)
        self.hidden_size = H = check_positive_int("hidden_size", hidden_size)
        self.dtype = check_dtype("dtype", dtype)
        rng = check_seed("seed", seed)
        bound = 1 / np.sqrt(H)
        params = {
            f"W_{g}": rng.uniform(-bound, bound, size=(H, H + D)).astype(self.dtype)
            for g in GRU_GATE_ORDER
        }
        for k in ("b_r", "b_z", "b_n", "b_hn"):
            params[k] = np.zeros(H, self.dtype)
        self._set_params(params, self._new_grads(params))
        #: After ``forward``: read-only views ``"r", "z", "n"``, each (T, B, H).
        self.gates: dict[str, np.ndarray] = {}

    def _new_grads(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        H, n_in = params["W_r"].shape[-2:]
        lead = params["W_r"].shape[:-2]
        # one row block per gate (order r, z, n), as in the products of backward
        self._gW = np.zeros((*lead, 3 * H, n_in), self.dtype)
        self._gb = np.zeros((*lead, 4 * H), self.dtype)  # b_r, b_z, b_n, then b_hn
        return self._grad_views()

    def _grad_views(self) -> dict[str, np.ndarray]:
        H = self.hidden_size
        views = {}
        for k, g in enumerate(GRU_GATE_ORDER):
            views[f"W_{g}"] = self._gW[..., k * H : (k + 1) * H, :]
        for k, name in enumerate(("b_r", "b_z", "b_n", "b_hn")):
            views[name] = self._gb[..., k * H : (k + 1) * H]
        return {key: views[key] for key in GRU_PARAM_KEYS}

    def __repr__(self) -> str:
        return (
            f"GRU(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"dtype={self.dtype.name}{self._models_repr()})"
        )

    def _fused(self):
        """The weights of the three blocks, from the current ``params``: ``W`` (3H, H + D), the
        rows of ``W_r, W_z, W_n`` one under another (for ``backward``), and for ``forward``
        ``W_hT`` (H, 3H) and ``W_xT`` (D, 3H), its recurrent and input columns transposed, and
        ``b_x`` (3H,) = ``[b_r, b_z, b_n]``, in which the rows of the two sigmoid valves are
        halved: ``sigmoid(a) = (1 + tanh(a / 2)) / 2``, so one ``tanh`` opens both (halving is
        exact in floating point). (Stacked layers: a leading model axis on each.)"""
        p = self._checked_params()
        H = self.hidden_size
        W = np.concatenate([p[f"W_{g}"] for g in GRU_GATE_ORDER], axis=-2)  # (3H, H + D), a copy
        halved = W.copy()
        halved[..., : 2 * H, :] *= 0.5
        b_x = np.concatenate([p["b_r"], p["b_z"], p["b_n"]], axis=-1)
        b_x[..., : 2 * H] *= 0.5
        W_hT = np.ascontiguousarray(halved[..., :H].swapaxes(-1, -2))
        return W, W_hT, halved[..., H:].swapaxes(-1, -2), b_x

    def forward(self, xs, h0=None):
        """Run the layer over ``xs`` (T, B, D) from ``h0`` (B, H) (``None``: zeros). Returns
        ``hs`` (T, B, H), the output (and memory) at every step, and ``h_T`` (B, H).

        Also sets ``self.gates`` and stores what ``backward`` needs. (A stacked layer of M
        models: (T, M, B, D), (M, B, H) and (T, M, B, H).)
        """
        D, H, dtype, lead = self.input_size, self.hidden_size, self.dtype, self._lead
        xs = self._sequence("xs", xs, D)
        T, B = xs.shape[0], xs.shape[-2]
        h0 = self._state("h0", h0, B, H)
        W, W_hT, W_xT, b_x = self._fused()
        b_hn = self._checked_params()["b_hn"][..., None, :]
        xs = xs.copy()  # backward needs the inputs; the caller may reuse its array meanwhile

        # The inputs' share of r, z and n (halved for r and z), all steps in one product, then
        # regrouped gate by gate: XZ[t] = (3, B, H), so that the loop works on whole blocks.
        xz = _unfold(np.matmul(_fold(xs), W_xT), T) + b_x[..., None, :]  # (T, B, 3H)
        XZ = np.ascontiguousarray(np.moveaxis(xz.reshape(*xz.shape[:-1], 3, H), -2, 1))

        Hs = np.empty((T + 1, *lead, B, H), dtype)  # Hs[t] = h_{t-1}: the memory, step by step
        Hs[0] = h0
        A = np.empty((T, 3, *lead, B, H), dtype)  # A[t] = r_t, z_t, n_t
        HN = np.empty((T, *lead, B, H), dtype)  # W_nh h_{t-1} + b_hn, what the reset valve scales
        hz = np.empty((*lead, B, 3 * H), dtype)
        hz3 = np.moveaxis(hz.reshape(*lead, B, 3, H), -2, 0)  # the same memory, gate by gate
        mm = np.dot if not lead else np.matmul
        half = dtype.type(0.5)
        r, z, n = np.moveaxis(A, 1, 0)  # each (T, B, H)
        steps = zip(Hs[:-1], Hs[1:], XZ, A[:, :2], r, z, n, HN, strict=True)
        with np.errstate(under="ignore"):
            for h_prev, h, xz_t, rz, r_t, z_t, n_t, hn in steps:
                mm(h_prev, W_hT, out=hz)  # the recurrent share of all three, one product
                np.add(hz3[:2], xz_t[:2], out=rz)  # (z/2 for r and z)
                np.tanh(rz, out=rz)  # reset and update valves: sigmoid = (1 + tanh(z/2)) / 2
                np.multiply(rz, half, out=rz)
                np.add(rz, half, out=rz)
                np.add(hz3[2], b_hn, out=hn)
                np.multiply(r_t, hn, out=n_t)  # the reset valve on the recurrent share
                n_t += xz_t[2]
                np.tanh(n_t, out=n_t)  # the candidate memory
                # memory pipe: h_t = z h_{t-1} + (1 - z) n = n + z (h_{t-1} - n)
                np.subtract(h_prev, n_t, out=h)
                h *= z_t
                h += n_t

        self._cache = (xs, Hs, A, HN, W)
        self.gates = {"r": _read_only(A[:, 0]), "z": _read_only(A[:, 1]), "n": _read_only(A[:, 2])}
        return Hs[1:].copy(), Hs[T].copy()

    def backward(self, dhs, dh_T=None):
        """Backpropagate through the last ``forward``: ``dhs`` (T, B, H) (``None``: zeros) and
        ``dh_T`` (B, H), the gradient reaching the final state from outside (``None``: zeros).
        Returns ``dxs`` (T, B, D) and ``dh0`` (B, H); fills ``self.grads``."""
        check_called("backward", self._cache)
        xs, Hs, A, HN, W = self._cache
        T, B = xs.shape[0], xs.shape[-2]
        H, dtype, lead = self.hidden_size, self.dtype, self._lead
        dhs = self._dhs(dhs, (T, *lead, B, H))
        dh = self._state("dh_T", dh_T, B, H).copy()  # dL/dh_t, flowing back in time
        W_h = np.ascontiguousarray(W[..., :H])  # (3H, H)
        # dL/da of r, z, n at every step, a = the input share + the recurrent share, in the
        # layout of the products (T, B, 3H): dXZ for the input share, dHZ for the recurrent one
        # (they differ only in n's block, where the recurrent share went through r).
        dXZ = np.empty((T, *lead, B, 3 * H), dtype)
        dHZ = np.empty((T, *lead, B, 3 * H), dtype)
        dn = np.empty((*lead, B, H), dtype)
        tmp = np.empty((*lead, B, H), dtype)
        rec = np.empty((*lead, B, H), dtype)
        mm = np.dot if not lead else np.matmul
        with np.errstate(under="ignore"):
            for t in range(T - 1, -1, -1):
                r, z, n = A[t]
                da, da_r, da_z = dXZ[t], dXZ[t, ..., :H], dXZ[t, ..., H : 2 * H]
                da_n = da[..., 2 * H :]
                dh += dhs[t]
                # memory pipe h_t = z h_{t-1} + (1 - z) n: to n, to z, and (below) straight on
                np.subtract(1, z, out=tmp)
                np.multiply(dh, tmp, out=dn)
                np.subtract(Hs[t], n, out=tmp)
                np.multiply(dh, tmp, out=da_z)
                np.multiply(z, 1 - z, out=tmp)  # sigmoid' = z (1 - z)
                da_z *= tmp
                # candidate n = tanh(a_n), a_n = the input share + r * HN
                np.multiply(n, n, out=tmp)
                np.subtract(1, tmp, out=tmp)  # tanh' = 1 - n^2
                np.multiply(dn, tmp, out=da_n)
                np.multiply(da_n, HN[t], out=da_r)  # to the reset valve
                np.multiply(r, 1 - r, out=tmp)
                da_r *= tmp
                dHZ[t, ..., : 2 * H] = da[..., : 2 * H]  # r and z: one input for both shares
                np.multiply(da_n, r, out=dHZ[t, ..., 2 * H :])  # n: the share went through r
                # to h_{t-1}: through the product with W_h, and along the pipe through z
                mm(dHZ[t], W_h, out=rec)
                dh *= z
                dh += rec

        # The weight gradients of all steps at once: dL/dW = sum_t da_t^T [h, x]_t
        dHZ2, dXZ2 = _fold(dHZ), _fold(dXZ)  # (T*B, 3H)
        np.matmul(dHZ2.swapaxes(-1, -2), _fold(Hs[:-1]), out=self._gW[..., :H])
        np.matmul(dXZ2.swapaxes(-1, -2), _fold(xs), out=self._gW[..., H:])
        np.sum(dXZ2, axis=-2, out=self._gb[..., : 3 * H])
        np.sum(dHZ2[..., 2 * H :], axis=-2, out=self._gb[..., 3 * H :])
        self._publish_grads()
        dxs = _unfold(dXZ2 @ W[..., H:], T)
        return dxs, dh

    # --- conversion: PyTorch's layout ----------------------------------------------------------

    def to_torch(self) -> dict[str, np.ndarray]:
        """The weights as a one-layer ``torch.nn.GRU`` state dict of ndarrays (see
        :func:`gru_params_to_torch`)."""
        return gru_params_to_torch(self.params)

    @classmethod
    def from_torch(cls, state_dict) -> GRU:
        """A layer holding a one-layer, unidirectional ``torch.nn.GRU``'s weights (its
        ``state_dict()``, tensors or ndarrays); float32 or float64 as the weights are."""
        params = gru_params_from_torch(state_dict)
        H, n_in = params["W_r"].shape
        m = cls(n_in - H, H, seed=0, dtype=params["W_r"].dtype)
        for k, v in params.items():
            m.params[k][...] = v
        return m


def gru_params_to_torch(params: Mapping) -> dict[str, np.ndarray]:
    """A GRU's ``params`` as a ``torch.nn.GRU`` state dict (ndarrays, new arrays):
    ``weight_ih_l0`` (3H, D) and ``weight_hh_l0`` (3H, H), row blocks ``r; z; n``;
    ``bias_ih_l0 = [b_r, b_z, b_n]`` and ``bias_hh_l0 = [0, 0, b_hn]`` (3H,)."""
    _check_keys("params", params, GRU_PARAM_KEYS)
    H, n_in, dtype = check_gru_params("params", params)
    p = {k: _array(f"params[{k!r}]", params[k], dtype) for k in GRU_PARAM_KEYS}  # finite
    W = np.concatenate([p[f"W_{g}"] for g in GRU_GATE_ORDER], axis=0)
    bias_hh = np.zeros(3 * H, dtype)
    bias_hh[2 * H :] = p["b_hn"]
    return {
        "weight_ih_l0": np.ascontiguousarray(W[:, H:]),
        "weight_hh_l0": np.ascontiguousarray(W[:, :H]),
        "bias_ih_l0": np.concatenate([p["b_r"], p["b_z"], p["b_n"]]),
        "bias_hh_l0": bias_hh,
    }


def gru_params_from_torch(state_dict: Mapping) -> dict[str, np.ndarray]:
    """A GRU's ``params`` from a one-layer, unidirectional ``torch.nn.GRU`` state dict: exactly
    ``weight_ih_l0`` (3H, D), ``weight_hh_l0`` (3H, H), ``bias_ih_l0`` and ``bias_hh_l0`` (3H,),
    one dtype (ndarrays or CPU tensors). ``b_r``, ``b_z`` are the sums of the two biases' blocks,
    ``b_n`` is ``bias_ih``'s and ``b_hn`` ``bias_hh``'s n block."""
    hint = ""
    if isinstance(state_dict, Mapping) and any(
        str(k).endswith(("_l1", "_reverse")) for k in state_dict
    ):
        hint = (
            "GRU.from_torch reads one layer in one direction; lstmlib.from_torch reads any "
            "num_layers and bidirectional"
        )
    w_hh, w_ih, b_ih, b_hh = _torch_layer(
        state_dict, 3, hint, blocks=" (a GRU's r, z, n blocks)",
        mistaken=" (that is an LSTM's (4H, H): use LSTM.from_torch)",
    )  # fmt: skip
    H = w_hh.shape[1]
    params = {}
    for k, g in enumerate(GRU_GATE_ORDER):
        rows = slice(k * H, (k + 1) * H)
        params[f"W_{g}"] = np.concatenate([w_hh[rows], w_ih[rows]], axis=1)
    params["b_r"] = b_ih[:H] + b_hh[:H]
    params["b_z"] = b_ih[H : 2 * H] + b_hh[H : 2 * H]
    params["b_n"] = b_ih[2 * H :].copy()
    params["b_hn"] = b_hh[2 * H :].copy()
    return params


__all__ += ["GRU_GATE_ORDER", "TORCH_KEYS", "check_gru_params", "gru_params_from_torch"]
__all__ += ["gru_params_to_torch"]
