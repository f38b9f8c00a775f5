"""PyTorch and Keras weight layouts in and out: plain ndarrays, no framework needed.

``lstmlib`` keeps one weight matrix per valve, named after the source; the frameworks stack the four
valves into one matrix each for the input and the recurrent weights. For the standard LSTM
(``peephole=False``) with input size ``D`` and hidden size ``H``::

    lstmlib params        W_f, W_i, W_g, W_o: (H, H + D), columns [h, x];  b_f, b_i, b_g, b_o: (H,)

    torch.nn.LSTM         weight_ih_l0 (4H, D)   rows [i; f; g; o]    (x  @ weight_ih.T)
    state_dict            weight_hh_l0 (4H, H)   rows [i; f; g; o]    (h  @ weight_hh.T)
                          bias_ih_l0 (4H,), bias_hh_l0 (4H,)          (both added)

    keras LSTM            kernel           (D, 4H)   columns [i, f, c, o]   (x @ kernel)
    get_weights()         recurrent_kernel (H, 4H)   columns [i, f, c, o]   (h @ recurrent_kernel)
                          bias             (4H,)

Keras calls the candidate ``c`` where the source says ``G`` (PyTorch says ``g``): same block.

Biases: PyTorch adds two bias vectors that play the same role. :func:`params_from_torch` sums them
into ``b_*``; :func:`params_to_torch` puts ``b_*`` into ``bias_ih_l0`` and zeros into
``bias_hh_l0`` (the sum, which is all the layer sees, is the same). So a round trip
params → torch → params is exact, while torch → params → torch moves the whole bias into
``bias_ih_l0``.

The source's peephole LSTM (every valve also sees ``c_{t-1}``, ``W_*`` of width ``2H + D``) has no
counterpart in either framework: converting it raises ``ValueError``. Keras' ``LSTM`` matches only
with its default activations (``activation="tanh"``, ``recurrent_activation="sigmoid"``).

Every function returns new arrays (never views of its input) in the common floating dtype of its
input; PyTorch tensors are accepted wherever an array is (they are read with ``.detach().cpu()``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._checks import check_array, check_lstm_params, check_positive_int

__all__ = [
    "FRAMEWORK_GATE_ORDER",
    "PARAM_KEYS",
    "TORCH_KEYS",
    "params_from_keras",
    "params_from_torch",
    "params_to_keras",
    "params_to_torch",
]

#: The order in which PyTorch and Keras stack the four blocks (Keras names ``g`` ``c``).
FRAMEWORK_GATE_ORDER = ("i", "f", "g", "o")
#: The keys of an ``lstmlib`` LSTM's ``params``.
PARAM_KEYS = ("W_f", "W_i", "W_g", "W_o", "b_f", "b_i", "b_g", "b_o")
#: The keys of a one-layer, unidirectional ``torch.nn.LSTM`` state dict.
TORCH_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")

_PEEPHOLE_HINT = (
    "PyTorch's nn.LSTM and Keras' LSTM have no peephole connections (the source's valves that "
    "also see c_(t-1)), so these weights cannot be written in their layout; build the layer "
    "with LSTM(..., peephole=False) to get a model that converts"
)


def _array(name: str, value, dtype=None) -> np.ndarray:
    """``value`` as a finite float32/float64 ndarray (a torch tensor is read, not kept)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor, without importing it
        value = value.detach().cpu().numpy()
    return check_array(name, value, dtype=dtype, dtype_hint="that of the other arrays")


def _expect_shape(name: str, arr: np.ndarray, shape: tuple[int, ...], what: str) -> None:
    if arr.shape != shape:
        raise ValueError(f"{name}: expected shape {shape} ({what}), got {arr.shape}")


def _check_keys(name: str, mapping, expected: tuple[str, ...], hint: str = "") -> None:
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{name}: expected a dict of arrays, got {type(mapping).__name__}")
    missing = [k for k in expected if k not in mapping]
    extra = sorted(str(k) for k in mapping if k not in expected)
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(map(repr, missing)))
        if extra:
            parts.append("unexpected " + ", ".join(map(repr, extra)))
        msg = f"{name}: expected exactly the keys {', '.join(expected)}; {' and '.join(parts)}"
        raise ValueError(msg + (f". {hint}" if hint else ""))


def _torch_layer(state_dict, gates: int, hint: str = "", blocks: str = "", mistaken: str = ""):
    """The four arrays of a one-layer, one-direction torch state dict (``TORCH_KEYS``, nothing
    else), checked: ``weight_hh_l0`` (G H, H), ``weight_ih_l0`` (G H, D), ``bias_ih_l0`` and
    ``bias_hh_l0`` (G H,), one dtype, with G = ``gates`` (4 for nn.LSTM, 3 for nn.GRU).
    ``hint`` ends the message of wrong keys; ``blocks`` names the row blocks in a wrong
    weight_hh_l0's message, and ``mistaken`` is added to it when its rows are 4H (an LSTM's)."""
    _check_keys("state_dict", state_dict, TORCH_KEYS, hint)
    w_hh = _array("state_dict['weight_hh_l0']", state_dict["weight_hh_l0"])
    arrays = {
        k: _array(f"state_dict[{k!r}]", state_dict[k], w_hh.dtype)
        for k in ("weight_ih_l0", "bias_ih_l0", "bias_hh_l0")
    }
    if w_hh.ndim != 2 or w_hh.shape[0] != gates * w_hh.shape[1]:
        looks_like_lstm = mistaken and w_hh.ndim == 2 and w_hh.shape[0] == 4 * w_hh.shape[1]
        raise ValueError(
            f"state_dict['weight_hh_l0']: expected shape ({gates}H, H){blocks}, got {w_hh.shape}"
            + (mistaken if looks_like_lstm else "")
        )
    H = w_hh.shape[1]
    w_ih = arrays["weight_ih_l0"]
    if w_ih.ndim != 2 or w_ih.shape[0] != gates * H:
        raise ValueError(
            f"state_dict['weight_ih_l0']: expected shape ({gates}H, D) = ({gates * H}, D) with "
            f"H = {H} (from weight_hh_l0), got {w_ih.shape}"
        )
    for k in ("bias_ih_l0", "bias_hh_l0"):
        _expect_shape(f"state_dict[{k!r}]", arrays[k], (gates * H,), f"{gates}H with H = {H}")
    return w_hh, w_ih, arrays["bias_ih_l0"], arrays["bias_hh_l0"]


def _torch_hint(state_dict: Mapping) -> str:
    keys = [str(k) for k in state_dict]
    if any(k.endswith(("_l1", "_reverse")) or "weight_hr" in k for k in keys):
        return (
            "Only a one-layer, unidirectional nn.LSTM without projection (num_layers=1, "
            "bidirectional=False, proj_size=0) converts to one lstmlib LSTM"
        )
    prefixes = {k[: -len(t)] for k in keys for t in TORCH_KEYS if k.endswith(t) and k != t}
    if len(prefixes) == 1:
        prefix = prefixes.pop()
        return (
            f"The keys carry the prefix {prefix!r} of a module inside a model: pass "
            f"{{k.removeprefix({prefix!r}): v for k, v in state_dict.items()}} instead"
        )
    return ""


def _check_params(params, input_size: int | None) -> tuple[int, int, dict[str, np.ndarray]]:
    """Validate a standard-LSTM ``params`` dict; return ``(H, D, arrays)`` (one dtype)."""
    _check_keys("params", params, PARAM_KEYS)
    H, n_in, dtype = check_lstm_params("params", params)
    arrays = {k: _array(f"params[{k!r}]", params[k], dtype) for k in PARAM_KEYS}  # finite
    if input_size is not None:
        D = check_positive_int("input_size", input_size)
        if n_in == 2 * H + D:
            raise ValueError(
                f"params: W_* have shape {(H, n_in)} = (H, 2H + D) with H = {H}, D = {D}: the "
                f"peephole layout [c, h, x]. {_PEEPHOLE_HINT}"
            )
        if n_in != H + D:
            raise ValueError(
                f"params['W_f']: expected shape ({H}, {H + D}) = (H, H + D) with input_size "
                f"D = {D}, got {(H, n_in)}"
            )
    else:
        D = n_in - H
        if D < 1:
            raise ValueError(
                f"params['W_f']: expected shape (H, H + D) with D >= 1, got {(H, n_in)}"
            )
    return H, D, arrays


def _stack(arrays: dict[str, np.ndarray], prefix: str, cols: slice | None = None) -> np.ndarray:
    """The four ``prefix_*`` blocks stacked along axis 0 in framework order i, f, g, o (a copy)."""
    blocks = [arrays[f"{prefix}_{g}"] for g in FRAMEWORK_GATE_ORDER]
    if cols is not None:
        blocks = [b[:, cols] for b in blocks]
    return np.concatenate(blocks, axis=0)


def params_to_torch(params: Mapping, *, input_size: int | None = None) -> dict[str, np.ndarray]:
    """A standard LSTM's ``params`` as a ``torch.nn.LSTM`` state dict (ndarrays).

    Returns ``{"weight_ih_l0": (4H, D), "weight_hh_l0": (4H, H), "bias_ih_l0": (4H,),
    "bias_hh_l0": (4H,)}``, blocks in PyTorch's order i, f, g, o, in the dtype of ``params``.
    The bias ``b_*`` goes to ``bias_ih_l0``; ``bias_hh_l0`` is zeros (PyTorch adds the two).

    ``input_size``: the layer's ``D``. A peephole dict (width ``2H + D``) has the same shape as a
    standard one with input size ``H + D``; give ``input_size`` (``LSTM.to_torch`` does) to have
    it recognised and refused. Without it, ``D`` is read as ``W_f.shape[1] - H``.

    Load the result into PyTorch with::

        lstm = torch.nn.LSTM(D, H)
        lstm.load_state_dict({k: torch.from_numpy(v) for k, v in params_to_torch(p).items()})
    """
    H, D, arrays = _check_params(params, input_size)
    bias_ih = _stack(arrays, "b")
    return {
        "weight_ih_l0": _stack(arrays, "W", slice(H, H + D)),
        "weight_hh_l0": _stack(arrays, "W", slice(0, H)),
        "bias_ih_l0": bias_ih,
        "bias_hh_l0": np.zeros_like(bias_ih),
    }


def _unstack(w_h: np.ndarray, w_x: np.ndarray, bias: np.ndarray, H: int) -> dict[str, np.ndarray]:
    """``lstmlib`` params from row-stacked blocks ``w_h`` (4H, H), ``w_x`` (4H, D), ``bias``."""
    params: dict[str, np.ndarray] = {}
    for k, g in enumerate(FRAMEWORK_GATE_ORDER):
        rows = slice(k * H, (k + 1) * H)
        params[f"W_{g}"] = np.concatenate([w_h[rows], w_x[rows]], axis=1)
        params[f"b_{g}"] = bias[rows].copy()
    return {key: params[key] for key in PARAM_KEYS}


def params_from_torch(state_dict: Mapping) -> dict[str, np.ndarray]:
    """``lstmlib`` params of a standard LSTM from a one-layer ``torch.nn.LSTM`` state dict.

    ``state_dict`` holds exactly ``weight_ih_l0 (4H, D)``, ``weight_hh_l0 (4H, H)``,
    ``bias_ih_l0 (4H,)`` and ``bias_hh_l0 (4H,)``, all of one dtype (ndarrays or CPU tensors,
    e.g. ``lstm.state_dict()``). Returns ``{"W_f", "W_i", "W_g", "W_o": (H, H + D) columns
    [h, x], "b_f", ...: (H,)}`` with ``b_* = bias_ih + bias_hh``, for ``LSTM(D, H,
    peephole=False)``, in the state dict's dtype.
    """
    w_hh, w_ih, b_ih, b_hh = _torch_layer(state_dict, 4, _torch_hint(state_dict))
    return _unstack(w_hh, w_ih, b_ih + b_hh, w_hh.shape[1])


def params_to_keras(
    params: Mapping, *, input_size: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A standard LSTM's ``params`` as Keras' ``(kernel (D, 4H), recurrent_kernel (H, 4H),
    bias (4H,))``, column blocks in Keras' order i, f, c, o, in the dtype of ``params``.

    ``input_size`` as in :func:`params_to_torch`. Load with
    ``keras.layers.LSTM(H).set_weights(list(params_to_keras(p)))`` once the layer is built.
    """
    H, D, arrays = _check_params(params, input_size)
    kernel = np.ascontiguousarray(_stack(arrays, "W", slice(H, H + D)).T)
    recurrent_kernel = np.ascontiguousarray(_stack(arrays, "W", slice(0, H)).T)
    return kernel, recurrent_kernel, _stack(arrays, "b")


def params_from_keras(kernel, recurrent_kernel, bias=None) -> dict[str, np.ndarray]:
    """``lstmlib`` params of a standard LSTM from Keras' LSTM weights.

    ``kernel (D, 4H)``, ``recurrent_kernel (H, 4H)``, ``bias (4H,)``, column blocks i, f, c, o,
    all of one dtype, as ``layer.get_weights()`` returns them:
    ``params_from_keras(*layer.get_weights())``. ``bias=None`` (a layer built with
    ``use_bias=False``) means zeros. Returns params in the arrays' dtype.
    """
    rk = _array("recurrent_kernel", recurrent_kernel)
    kernel = _array("kernel", kernel, rk.dtype)
    if rk.ndim != 2 or rk.shape[1] != 4 * rk.shape[0]:
        raise ValueError(f"recurrent_kernel: expected shape (H, 4H), got {rk.shape}")
    H = rk.shape[0]
    if kernel.ndim != 2 or kernel.shape[1] != 4 * H:
        raise ValueError(
            f"kernel: expected shape (D, 4H) = (D, {4 * H}) with H = {H} (from "
            f"recurrent_kernel), got {kernel.shape}"
        )
    bias = np.zeros(4 * H, dtype=rk.dtype) if bias is None else _array("bias", bias, rk.dtype)
    _expect_shape("bias", bias, (4 * H,), f"4H with H = {H}")
    return _unstack(rk.T, kernel.T, bias, H)
