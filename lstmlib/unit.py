"""The LSTM unit, valve by valve, as the source names it: one time step, written to be read.

The source's unit (a *peephole* LSTM: every valve also sees the old memory ``c_{t-1}``)::

    combined = [c_{t-1}, h_{t-1}, x_t]                          combine
    f_t = sigmoid(W_f combined + b_f)                           forget_valve
    i_t = sigmoid(W_i combined + b_i)                           new_memory_valve (how much)
    G_t = tanh   (W_g combined + b_g)                           new_memory_valve (candidate)
    c_t = f_t * c_{t-1} + i_t * G_t                             memory_pipe
    o_t = sigmoid(W_o combined + b_o)                           output_valve
    h_t = o_t * tanh(c_t)                                       output_state

The standard LSTM of PyTorch and Keras is the same with ``combined = [h_{t-1}, x_t]``
(``peephole=False``).

Shapes: ``H`` the hidden size (the number of units), ``D`` the input size, ``n_in = 2H + D``
(peephole) or ``H + D`` (standard). Each function takes one vector (``x`` of shape ``(D,)``,
``prev_c`` and ``prev_h`` of shape ``(H,)``) or a batch of ``B`` of them (``(B, D)``, ``(B, H)``).
``params`` is a layer's ``m.params``: ``W_f, W_i, W_g, W_o`` of shape ``(H, n_in)`` (the source
writes ``W · combined``, so a row per unit) and ``b_f, b_i, b_g, b_o`` of shape ``(H,)``.

Backward, one step (backpropagation through time, chapter 17): ``lstm_unit(..., return_cache=True)``
also returns a :class:`UnitCache`, and :func:`lstm_unit_backward` takes the gradients arriving at
``h_t`` and ``c_t`` back through the same valves, in reverse order.

This module is the specification: :class:`lstmlib.layers.LSTM` computes the same numbers, fused and
batched over a whole sequence, and a test holds the two equal, forward and backward.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ._checks import LSTM_PARAM_KEYS, check_array, check_bool, check_lstm_params, infer_peephole
from .activations import sigmoid

__all__ = [
    "UnitCache",
    "combine",
    "forget_valve",
    "lstm_unit",
    "lstm_unit_backward",
    "memory_pipe",
    "new_memory_valve",
    "output_state",
    "output_valve",
]

_VECTOR_OR_BATCH = "(a vector, or a batch with one row per sequence)"


def _vector_or_batch(name: str, x, size: int, size_name: str, dtype=None) -> np.ndarray:
    return check_array(
        name,
        x,
        shape=[(size,), ("B", size)],
        dtype=dtype,
        shape_hint=f"with {size_name}={size} {_VECTOR_OR_BATCH}",
        dtype_hint="the dtype of params",
    )


def _like(name: str, x, other_name: str, other: np.ndarray) -> np.ndarray:
    """``x`` checked to have the shape and dtype of ``other``."""
    return check_array(
        name,
        x,
        shape=other.shape,
        dtype=other.dtype,
        shape_hint=f"(that of {other_name})",
        dtype_hint=f"that of {other_name}",
    )


def _valve_input(combined, params, gate: str) -> np.ndarray:
    """``W_gate @ combined + b_gate`` for a vector, or row by row for a batch: shape (..., H)."""
    _, n_in, dtype = check_lstm_params("params", params, keys=(f"W_{gate}", f"b_{gate}"))
    combined = _vector_or_batch("combined", combined, n_in, "n_in", dtype)
    return combined @ params[f"W_{gate}"].T + params[f"b_{gate}"]


def combine(prev_c, prev_h, x, peephole: bool = True) -> np.ndarray:
    """The valves' common input: ``[c_{t-1}, h_{t-1}, x_t]`` (or ``[h_{t-1}, x_t]`` with
    ``peephole=False``), concatenated along the last axis: shape ``(n_in,)`` or ``(B, n_in)``.

    prev_c, prev_h  ``(H,)`` or ``(B, H)``, the same shape (``prev_c`` is checked even when
                    ``peephole=False`` leaves it out).
    x               ``(D,)`` or ``(B, D)``, the same number of dimensions and rows.
    """
    peephole = check_bool("peephole", peephole)
    prev_h = check_array("prev_h", prev_h, ndim=(1, 2), shape_hint="(H,) or (B, H)")
    prev_c = _like("prev_c", prev_c, "prev_h", prev_h)
    lead = prev_h.shape[:-1]  # () for a vector, (B,) for a batch
    x = check_array(
        "x",
        x,
        shape=(*lead, "D"),
        dtype=prev_h.dtype,
        shape_hint=f"(the same rows as prev_h {prev_h.shape})",
        dtype_hint="that of prev_h",
    )
    parts = [prev_c, prev_h, x] if peephole else [prev_h, x]
    return np.concatenate(parts, axis=-1)


def forget_valve(combined, params) -> np.ndarray:
    """``f_t = sigmoid(W_f [c_{t-1}, h_{t-1}, x_t] + b_f)``: how much old memory to keep
    (0 forgets everything, 1 keeps everything). ``combined`` (n_in,) or (B, n_in) -> (H,) or
    (B, H)."""
    return sigmoid(_valve_input(combined, params, "f"))


def new_memory_valve(combined, params) -> tuple[np.ndarray, np.ndarray]:
    """``(i_t, G_t)``: the new memory valve. ``G_t = tanh(W_g combined + b_g)`` is the candidate
    memory, ``i_t = sigmoid(W_i combined + b_i)`` how much of it flows into the pipe. Each has
    shape (H,) or (B, H)."""
    i = sigmoid(_valve_input(combined, params, "i"))
    G = np.tanh(_valve_input(combined, params, "g"))
    return i, G


def memory_pipe(prev_c, f, i, G) -> np.ndarray:
    """``c_t = f_t * c_{t-1} + i_t * G_t``: the old memory through the forget valve plus the new
    memory through the new memory valve. All four arguments have one shape, (H,) or (B, H)."""
    prev_c = check_array("prev_c", prev_c, ndim=(1, 2), shape_hint="(H,) or (B, H)")
    f = _like("f", f, "prev_c", prev_c)
    i = _like("i", i, "prev_c", prev_c)
    G = _like("G", G, "prev_c", prev_c)
    return f * prev_c + i * G


def output_valve(combined, params) -> np.ndarray:
    """``o_t = sigmoid(W_o [c_{t-1}, h_{t-1}, x_t] + b_o)``: how much of the (squashed) memory
    the unit shows. ``combined`` (n_in,) or (B, n_in) -> (H,) or (B, H)."""
    return sigmoid(_valve_input(combined, params, "o"))


def output_state(o, c) -> np.ndarray:
    """``h_t = o_t * tanh(c_t)``: the unit's output (and its next hidden state). ``o`` and ``c``
    have one shape, (H,) or (B, H)."""
    c = check_array("c", c, ndim=(1, 2), shape_hint="(H,) or (B, H)")
    o = _like("o", o, "c", c)
    return o * np.tanh(c)


class UnitCache(NamedTuple):
    """What one forward step keeps for its backward: ``lstm_unit(..., return_cache=True)``.

    Every array has the step's shape, ``(H,)`` or ``(B, H)``, except ``combined``, ``(n_in,)`` or
    ``(B, n_in)``. ``params`` holds the weights the step used (the arrays themselves, not copies:
    update them only after the backward of every step that used them).
    """

    combined: np.ndarray  # [c_{t-1}, h_{t-1}, x_t] (peephole) or [h_{t-1}, x_t] (standard)
    prev_c: np.ndarray  # c_{t-1}
    f: np.ndarray  # forget valve
    i: np.ndarray  # new memory valve: how much
    G: np.ndarray  # new memory valve: the candidate
    o: np.ndarray  # output valve
    c: np.ndarray  # c_t
    params: Mapping[str, np.ndarray]
    peephole: bool


def lstm_unit(
    prev_c, prev_h, x, params, *, return_cache: bool = False
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, UnitCache]:
    """One step of the LSTM unit: ``(h_t, c_t)`` from ``c_{t-1}``, ``h_{t-1}`` and ``x_t``.

    The source's pseudo-code, done right. ``params`` is a layer's ``m.params``; whether the unit is
    the source's peephole LSTM or the standard one is read from the width of ``W_*`` (``2H + D``
    or ``H + D`` columns), so that, step by step, this reproduces ``LSTM.forward``::

        c, h = c0, h0
        for x in xs:
            h, c = lstm_unit(c, h, x, m.params)

    prev_c, prev_h  (H,) or (B, H);  x  (D,) or (B, D)  ->  h, c  each of the shape of prev_h.
    return_cache    ``True``: return ``(h, c, cache)``, with the :class:`UnitCache` that
                    :func:`lstm_unit_backward` needs.
    """
    return_cache = check_bool("return_cache", return_cache)
    H, n_in, dtype = check_lstm_params("params", params)
    prev_h = _vector_or_batch("prev_h", prev_h, H, "H (params' rows)", dtype)
    x = check_array(
        "x",
        x,
        ndim=prev_h.ndim,
        dtype=dtype,
        shape_hint="like prev_h: (D,) or (B, D)",
        dtype_hint="the dtype of params",
    )
    peephole = infer_peephole("params", H, n_in, x.shape[-1])

    combined = combine(prev_c, prev_h, x, peephole=peephole)
    prev_c = np.asarray(prev_c, dtype)  # checked by combine
    f = forget_valve(combined, params)
    i, G = new_memory_valve(combined, params)
    c = memory_pipe(prev_c, f, i, G)
    o = output_valve(combined, params)
    h = output_state(o, c)
    if not return_cache:
        return h, c
    return h, c, UnitCache(combined, prev_c, f, i, G, o, c, params, peephole)


def lstm_unit_backward(dh, dc, cache) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """One step of the LSTM unit, backward: the valves of :func:`lstm_unit` in reverse order.

    dh      ``dL/dh_t``, (H,) or (B, H) as the step's ``h``: everything that reaches ``h_t``
            (the loss at step t, and step t + 1 through its valves). ``None``: zeros.
    dc      ``dL/dc_t`` from step t + 1 only (through its memory pipe and, for the source's
            unit, its peepholes), the shape of ``dh``. ``None``: zeros (the last step).
    cache   the :class:`UnitCache` of the forward step, ``lstm_unit(..., return_cache=True)``.

    Returns ``(dprev_c, dprev_h, dx, dparams)``: ``dL/dc_{t-1}``, ``dL/dh_{t-1}`` (each (H,) or
    (B, H)), ``dL/dx_t`` ((D,) or (B, D)) and this step's share of the weights' gradients, a dict
    with the keys and shapes of ``params`` (summed over the batch). Over a sequence, from the last
    step back, this reproduces ``LSTM.backward``::

        dh_next, dc_next = dh_T, dc_T                 # from outside the sequence (or zeros)
        for t in reversed(range(T)):
            dc_next, dh_next, dxs[t], d = lstm_unit_backward(dhs[t] + dh_next, dc_next, caches[t])
            grads = {k: grads[k] + d[k] for k in grads}

    The chain rule, valve by valve (``*`` elementwise; ``z_*`` the argument of each valve's
    squashing function, ``z_* = W_* combined + b_*``)::

        output state   h_t = o_t * tanh(c_t)     do   = dh * tanh(c_t)
                                                 dc_t = dc + dh * o_t * (1 - tanh(c_t)^2)
        memory pipe    c_t = f_t * c_{t-1}       df   = dc_t * c_{t-1}
                             + i_t * G_t         di   = dc_t * G_t,   dG = dc_t * i_t
                                                 dc_{t-1} = dc_t * f_t        (the carousel)
        the valves     f, i, o = sigmoid(z)      dz_f = df * f (1 - f), and so for i and o
                       G = tanh(z_g)             dz_g = dG * (1 - G^2)
        their weights                            dW_* = dz_*^T combined,  db_* = sum of dz_*
        their input                              dcombined = sum over * of dz_* W_*
                                                 = [dc_{t-1} (peepholes), dh_{t-1}, dx_t]

    The memory pipe's own path back, ``dc_t * f_t``, holds no weight and no squashing derivative:
    the constant error carousel of chapter 9. The source's unit adds to it what flows back through
    the valves' peephole columns; the standard unit adds nothing.
    """
    if not isinstance(cache, UnitCache):
        raise TypeError(
            f"cache: expected the UnitCache of lstm_unit(..., return_cache=True), "
            f"got {type(cache).__name__}"
        )
    combined, prev_c, f, i, G, o, c, params, peephole = cache
    H = c.shape[-1]
    dh = np.zeros_like(c) if dh is None else _like("dh", dh, "the step's h", c)
    dc = np.zeros_like(c) if dc is None else _like("dc", dc, "the step's c", c)

    # output state  h_t = o_t * tanh(c_t): to the output valve, and down into the pipe
    tanh_c = np.tanh(c)
    do = dh * tanh_c
    dc = dc + dh * o * (1 - tanh_c**2)  # dL/dc_t: from step t + 1 and from h_t

    # memory pipe  c_t = f_t * c_{t-1} + i_t * G_t: to each valve, and back along the pipe
    df = dc * prev_c
    di = dc * G
    dG = dc * i
    dprev_c = dc * f  # the carousel: through the forget valve's multiplication only

    # through each valve's squashing function: sigmoid' = s (1 - s), tanh' = 1 - tanh^2
    dz = {
        "f": df * f * (1 - f),
        "i": di * i * (1 - i),
        "g": dG * (1 - G**2),
        "o": do * o * (1 - o),
    }

    # every valve read the same input, combined: its weights' gradient is dz^T combined (summed
    # over the batch's rows), and combined's own gradient is the sum over the four valves
    rows = combined.reshape(-1, combined.shape[-1])  # (B, n_in); a vector is one row
    dparams = {}
    for g in "figo":
        dparams[f"W_{g}"] = dz[g].reshape(-1, H).T @ rows
        dparams[f"b_{g}"] = dz[g].reshape(-1, H).sum(axis=0)
    dparams = {key: dparams[key] for key in LSTM_PARAM_KEYS}  # in the order of params
    dcombined = sum(dz[g] @ params[f"W_{g}"] for g in "figo")

    # combined = [c_{t-1}, h_{t-1}, x_t] (or [h_{t-1}, x_t]): hand each part back
    if peephole:
        dprev_c = dprev_c + dcombined[..., :H]  # the peepholes' share joins the pipe's
        dcombined = dcombined[..., H:]
    dprev_h, dx = dcombined[..., :H], dcombined[..., H:]
    return dprev_c, dprev_h, dx, dparams
