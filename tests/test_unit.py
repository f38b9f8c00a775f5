"""lstmlib.unit: the valves compute the source's equations, and step by step they are the layer."""

import math

import numpy as np
import pytest

from lstmlib import (
    LSTM,
    combine,
    forget_valve,
    lstm_unit,
    lstm_unit_backward,
    memory_pipe,
    new_memory_valve,
    output_state,
    output_valve,
)
from lstmlib.unit import UnitCache
from tests.gradcheck import numerical_gradient, relative_error

LN2, LN3 = math.log(2), math.log(3)  # sigmoid(ln 3) = 3/4, tanh(ln 2) = 3/5, tanh(ln 3) = 4/5


def _tanh_by_hand(x):
    return (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)


def _hand_params(W, b):
    """H = 1 params from one row per valve: W = {"f": [...], ...}, b = {"f": ..., ...}."""
    return {
        **{f"W_{g}": np.array([W[g]], dtype=float) for g in "figo"},
        **{f"b_{g}": np.array([b[g]], dtype=float) for g in "figo"},
    }


# The source's unit with H = D = 1: combined = [c_{t-1}, h_{t-1}, x_t].
PEEPHOLE_EXAMPLE = _hand_params(
    W={"f": [LN3, 0, 0], "i": [0, 0, 0], "g": [0, 0, LN2], "o": [0, LN3, 0]},
    b={"f": 0, "i": 0, "g": 0, "o": 0},
)
# With prev_c = prev_h = x = 1:
#   f = sigmoid(ln 3) = 3/4        (the forget valve sees the old memory c_{t-1})
#   i = sigmoid(0) = 1/2
#   G = tanh(ln 2) = 3/5
#   c = 3/4 * 1 + 1/2 * 3/5 = 1.05
#   o = sigmoid(ln 3) = 3/4        (the output valve sees h_{t-1})
#   h = 3/4 * tanh(1.05)
# and with prev_c = prev_h = x = 0 every valve sees only its bias 0: f = i = o = 1/2, G = 0,
#   c = 0, h = 0.


def test_hand_worked_peephole_step_valve_by_valve():
    combined = combine(np.array([1.0]), np.array([1.0]), np.array([1.0]))
    np.testing.assert_array_equal(combined, [1.0, 1.0, 1.0])
    f = forget_valve(combined, PEEPHOLE_EXAMPLE)
    i, G = new_memory_valve(combined, PEEPHOLE_EXAMPLE)
    c = memory_pipe(np.array([1.0]), f, i, G)
    o = output_valve(combined, PEEPHOLE_EXAMPLE)
    h = output_state(o, c)
    assert f == pytest.approx([0.75], abs=1e-15)
    assert i == pytest.approx([0.5], abs=1e-15)
    assert G == pytest.approx([0.6], abs=1e-15)
    assert c == pytest.approx([1.05], abs=1e-15)
    assert o == pytest.approx([0.75], abs=1e-15)
    assert h == pytest.approx([0.75 * _tanh_by_hand(1.05)], abs=1e-15)


def test_hand_worked_peephole_step_with_lstm_unit_on_a_batch():
    prev_c = np.array([[1.0], [0.0]])
    prev_h = np.array([[1.0], [0.0]])
    x = np.array([[1.0], [0.0]])
    h, c = lstm_unit(prev_c, prev_h, x, PEEPHOLE_EXAMPLE)
    np.testing.assert_allclose(c, [[1.05], [0.0]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(h, [[0.75 * _tanh_by_hand(1.05)], [0.0]], rtol=0, atol=1e-15)


def test_hand_worked_peephole_step_through_the_layer():
    m = LSTM(1, 1, peephole=True, seed=0)
    for k, v in PEEPHOLE_EXAMPLE.items():
        m.params[k][...] = v
    ones = np.ones((1, 1))
    hs, (h, c) = m.forward(np.ones((1, 1, 1)), state=(ones, ones))
    assert c[0, 0] == pytest.approx(1.05, abs=1e-15)
    assert h[0, 0] == pytest.approx(0.75 * _tanh_by_hand(1.05), abs=1e-15)
    assert hs[0, 0, 0] == h[0, 0]
    for gate, expected in {"f": 0.75, "i": 0.5, "g": 0.6, "o": 0.75, "c": 1.05}.items():
        assert m.gates[gate][0, 0, 0] == pytest.approx(expected, abs=1e-15), gate


def test_hand_worked_standard_step():
    # Standard unit, H = D = 1: combined = [h_{t-1}, x_t]; prev_c = 2, prev_h = x = 1.
    params = _hand_params(
        W={"f": [0, 0], "i": [LN3, 0], "g": [0, LN2], "o": [0, 0]},
        b={"f": LN3, "i": 0, "g": 0, "o": 0},
    )
    # f = 3/4 (bias), i = 3/4 (from h), G = 3/5 (from x), o = 1/2
    # c = 3/4 * 2 + 3/4 * 3/5 = 1.95,  h = 1/2 * tanh(1.95)
    h, c = lstm_unit(np.array([2.0]), np.array([1.0]), np.array([1.0]), params)
    assert c == pytest.approx([1.95], abs=1e-15)
    assert h == pytest.approx([0.5 * _tanh_by_hand(1.95)], abs=1e-15)
    np.testing.assert_array_equal(combine([2.0], [1.0], [1.0], peephole=False), [1.0, 1.0])


def test_combine_orders_c_then_h_then_x():
    np.testing.assert_array_equal(combine([1.0, 2.0], [3.0, 4.0], [5.0]), [1, 2, 3, 4, 5])
    batch = combine(np.zeros((2, 2)), np.ones((2, 2)), np.full((2, 1), 7.0))
    np.testing.assert_array_equal(batch, [[0, 0, 1, 1, 7], [0, 0, 1, 1, 7]])


# --- the unit, step by step, is the layer ----------------------------------------------------


def _unit_over_sequence(params, xs, h0, c0):
    h, c = h0, c0
    hs = []
    for x in xs:
        h, c = lstm_unit(c, h, x, params)
        hs.append(h)
    return np.array(hs), h, c


@pytest.mark.parametrize("peephole", [True, False], ids=["peephole", "standard"])
def test_lstm_unit_step_by_step_equals_the_fused_layer_on_a_batch(peephole):
    rng = np.random.default_rng(1)
    T, B, D, H = 7, 3, 3, 4
    m = LSTM(D, H, peephole=peephole, seed=2)
    xs = rng.standard_normal((T, B, D))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    hs, (h_T, c_T) = m.forward(xs, state=(h0, c0))
    unit_hs, unit_h, unit_c = _unit_over_sequence(m.params, xs, h0, c0)
    np.testing.assert_allclose(hs, unit_hs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_T, unit_h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_T, unit_c, rtol=0, atol=1e-12)


@pytest.mark.parametrize("peephole", [True, False], ids=["peephole", "standard"])
def test_lstm_unit_on_single_vectors_equals_the_layer_with_one_sequence(peephole):
    rng = np.random.default_rng(3)
    T, D, H = 6, 2, 3
    m = LSTM(D, H, peephole=peephole, seed=4)
    xs = rng.standard_normal((T, D))
    hs, (h_T, c_T) = m.forward(xs[:, None, :])
    unit_hs, unit_h, unit_c = _unit_over_sequence(m.params, xs, np.zeros(H), np.zeros(H))
    assert unit_hs.shape == (T, H)
    np.testing.assert_allclose(hs[:, 0], unit_hs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_T[0], unit_c, rtol=0, atol=1e-12)


@pytest.mark.parametrize("peephole", [True, False], ids=["peephole", "standard"])
def test_each_valve_equals_the_layers_recorded_gates(peephole):
    rng = np.random.default_rng(5)
    T, B, D, H = 4, 2, 3, 4
    m = LSTM(D, H, peephole=peephole, seed=6)
    xs = rng.standard_normal((T, B, D))
    m.forward(xs)
    c, h = np.zeros((B, H)), np.zeros((B, H))
    for t in range(T):
        combined = combine(c, h, xs[t], peephole=peephole)
        f = forget_valve(combined, m.params)
        i, G = new_memory_valve(combined, m.params)
        c = memory_pipe(c, f, i, G)
        o = output_valve(combined, m.params)
        h = output_state(o, c)
        for name, value in {"f": f, "i": i, "g": G, "o": o, "c": c}.items():
            np.testing.assert_allclose(
                m.gates[name][t], value, rtol=0, atol=1e-12, err_msg=f"gate {name} at t={t}"
            )


def test_a_batch_is_its_rows_side_by_side():
    rng = np.random.default_rng(7)
    m = LSTM(3, 4, seed=8)
    c, h, x = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 3))
    h_batch, c_batch = lstm_unit(c, h, x, m.params)
    for b in range(3):
        h_row, c_row = lstm_unit(c[b], h[b], x[b], m.params)
        np.testing.assert_allclose(h_batch[b], h_row, rtol=0, atol=1e-15)
        np.testing.assert_allclose(c_batch[b], c_row, rtol=0, atol=1e-15)


def test_float32_params_give_float32_results():
    m = LSTM(3, 4, seed=0, dtype=np.float32)
    z = np.zeros(4, np.float32)
    h, c = lstm_unit(z, z, np.ones(3, np.float32), m.params)
    assert h.dtype == np.float32 and c.dtype == np.float32


# --- bad input -------------------------------------------------------------------------------

P = LSTM(3, 4, seed=0).params  # peephole: W_* (4, 11)
V4, V3 = np.zeros(4), np.zeros(3)
BAD_UNIT_CALLS = {
    "W fits neither layout": (
        lambda: lstm_unit(V4, V4, np.zeros(5), P),
        ValueError,
        r"^params: W_\* have 11 columns, which fits neither the peephole layout",
    ),
    "prev_h of the wrong size": (
        lambda: lstm_unit(V4, np.zeros(5), V3, P),
        ValueError,
        r"^prev_h: expected shape \(4,\) or \(B, 4\)",
    ),
    "x a batch, prev_h a vector": (
        lambda: lstm_unit(V4, V4, np.zeros((2, 3)), P),
        ValueError,
        r"^x: expected a 1-D array, got 2-D",
    ),
    "batch rows differ": (
        lambda: lstm_unit(np.zeros((2, 4)), np.zeros((2, 4)), np.zeros((3, 3)), P),
        ValueError,
        r"^x: expected shape \(2, D\)",
    ),
    "prev_c of another shape": (
        lambda: lstm_unit(np.zeros(5), V4, V3, P),
        ValueError,
        r"^prev_c: expected shape \(4,\) \(that of prev_h\), got \(5,\)",
    ),
    "float32 x, float64 params": (
        lambda: lstm_unit(V4, V4, np.zeros(3, np.float32), P),
        TypeError,
        r"^x: expected dtype float64 \(the dtype of params\), got float32",
    ),
    "integer x": (
        lambda: lstm_unit(V4, V4, np.zeros(3, int), P),
        TypeError,
        r"^x: expected a float32 or float64 array, got an integer array",
    ),
    "NaN in prev_c": (
        lambda: lstm_unit(np.array([0, np.nan, 0, 0]), V4, V3, P),
        ValueError,
        r"^prev_c: expected finite numbers, got 1 NaN or inf value\(s\), the first at index \(1,\)",
    ),
    "params missing a key": (
        lambda: lstm_unit(V4, V4, V3, {k: v for k, v in P.items() if k != "b_o"}),
        ValueError,
        r"^params: missing 'b_o'",
    ),
    "params not a dict": (
        lambda: lstm_unit(V4, V4, V3, [1, 2]),
        TypeError,
        r"^params: expected a dict of arrays",
    ),
    "combined of the wrong width": (
        lambda: forget_valve(np.zeros(10), P),
        ValueError,
        r"^combined: expected shape \(11,\) or \(B, 11\) with n_in=11",
    ),
    "valve of another shape than prev_c": (
        lambda: memory_pipe(V4, V4, np.zeros(3), V4),
        ValueError,
        r"^i: expected shape \(4,\) \(that of prev_c\), got \(3,\)",
    ),
    "o and c of different shapes": (
        lambda: output_state(np.zeros((2, 4)), V4),
        ValueError,
        r"^o: expected shape \(4,\) \(that of c\), got \(2, 4\)",
    ),
    "non-bool peephole": (
        lambda: combine(V4, V4, V3, peephole=1),
        TypeError,
        r"^peephole: expected True or False, got int 1",
    ),
}


@pytest.mark.parametrize("case", list(BAD_UNIT_CALLS))
def test_bad_input_to_the_unit_gets_a_clear_error(case):
    call, error, match = BAD_UNIT_CALLS[case]
    with pytest.raises(error, match=match):
        call()


# --- backward, one step: lstm_unit_backward ----------------------------------------------------


def _caches_over_sequence(params, xs, h0, c0):
    h, c, caches = h0, c0, []
    for x in xs:
        h, c, cache = lstm_unit(c, h, x, params, return_cache=True)
        caches.append(cache)
    return caches


def _unit_backward_over_sequence(caches, dhs, dh_T, dc_T):
    """Backpropagation through time with the unit: the loop of lstm_unit_backward's docstring."""
    dh_next, dc_next = dh_T, dc_T
    grads, dxs = None, [None] * len(caches)
    for t in reversed(range(len(caches))):
        dc_next, dh_next, dxs[t], d = lstm_unit_backward(dhs[t] + dh_next, dc_next, caches[t])
        grads = d if grads is None else {k: grads[k] + d[k] for k in grads}
    return np.array(dxs), dh_next, dc_next, grads


def test_return_cache_keeps_the_default_return_and_adds_the_cache():
    rng = np.random.default_rng(0)
    m = LSTM(3, 4, seed=0)
    c, h, x = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(3)
    plain = lstm_unit(c, h, x, m.params)
    h2, c2, cache = lstm_unit(c, h, x, m.params, return_cache=True)
    assert len(plain) == 2 and isinstance(cache, UnitCache)
    np.testing.assert_array_equal(plain[0], h2)
    np.testing.assert_array_equal(plain[1], c2)
    assert cache.peephole and cache.combined.shape == (11,)
    np.testing.assert_array_equal(cache.c, c2)
    np.testing.assert_array_equal(cache.prev_c, c)
    np.testing.assert_array_equal(cache.f, forget_valve(cache.combined, m.params))


@pytest.mark.parametrize("peephole", [True, False], ids=["peephole", "standard"])
def test_lstm_unit_backward_step_by_step_equals_the_fused_layers_backward(peephole):
    # The specification of the layer's backward: to 1e-12 in float64, every output and gradient,
    # from a non-zero initial state and with a gradient arriving at the final state.
    rng = np.random.default_rng(11)
    T, B, D, H = 7, 3, 2, 4
    m = LSTM(D, H, peephole=peephole, seed=12)
    xs, dhs = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, H))
    h0, c0, dh_T, dc_T = rng.standard_normal((4, B, H))
    m.forward(xs, state=(h0, c0))
    dxs, (dh0, dc0) = m.backward(dhs, dstate=(dh_T, dc_T))
    caches = _caches_over_sequence(m.params, xs, h0, c0)
    unit_dxs, unit_dh0, unit_dc0, unit_grads = _unit_backward_over_sequence(caches, dhs, dh_T, dc_T)
    np.testing.assert_allclose(unit_dxs, dxs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(unit_dh0, dh0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(unit_dc0, dc0, rtol=0, atol=1e-12)
    assert list(unit_grads) == list(m.grads)
    for k in m.grads:
        assert unit_grads[k].shape == m.grads[k].shape, k
        np.testing.assert_allclose(unit_grads[k], m.grads[k], rtol=0, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("peephole", [True, False], ids=["peephole", "standard"])
def test_lstm_unit_backward_on_single_vectors_equals_the_layer_with_one_sequence(peephole):
    rng = np.random.default_rng(13)
    T, D, H = 5, 3, 2
    m = LSTM(D, H, peephole=peephole, seed=14)
    xs, dhs = rng.standard_normal((T, D)), rng.standard_normal((T, H))
    m.forward(xs[:, None, :])
    dxs, (dh0, dc0) = m.backward(dhs[:, None, :])
    caches = _caches_over_sequence(m.params, xs, np.zeros(H), np.zeros(H))
    unit_dxs, unit_dh0, unit_dc0, unit_grads = _unit_backward_over_sequence(caches, dhs, 0.0, None)
    assert unit_dxs.shape == (T, D) and unit_dc0.shape == (H,)
    np.testing.assert_allclose(unit_dxs, dxs[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(unit_dh0, dh0[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(unit_dc0, dc0[0], rtol=0, atol=1e-12)
    for k in m.grads:
        np.testing.assert_allclose(unit_grads[k], m.grads[k], rtol=0, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("peephole", [True, False], ids=["peephole", "standard"])
def test_lstm_unit_backward_agrees_with_finite_differences(peephole):
    # L = sum(gh * h_t) + sum(gc * c_t): dL/dh_t = gh and dL/dc_t = gc, the most general
    # gradient one step can receive. Weights larger than at initialisation, so every term counts.
    rng = np.random.default_rng(15)
    B, D, H = 2, 3, 4
    params = {
        k: rng.standard_normal(v.shape) for k, v in LSTM(D, H, peephole=peephole).params.items()
    }
    c, h, x = rng.standard_normal((B, H)), rng.standard_normal((B, H)), rng.standard_normal((B, D))
    gh, gc = rng.standard_normal((2, B, H))

    def loss():
        h_t, c_t = lstm_unit(c, h, x, params)
        return float(np.sum(gh * h_t) + np.sum(gc * c_t))

    _, _, cache = lstm_unit(c, h, x, params, return_cache=True)
    dc_prev, dh_prev, dx, dparams = lstm_unit_backward(gh, gc, cache)
    for name, analytic, arr in [("c", dc_prev, c), ("h", dh_prev, h), ("x", dx, x)] + [
        (k, dparams[k], params[k]) for k in params
    ]:
        assert analytic.shape == arr.shape, name
        assert relative_error(analytic, numerical_gradient(loss, arr)) < 1e-8, name


def test_lstm_unit_backward_standard_unit_carries_the_memory_through_the_forget_valve_only():
    # Without peepholes, dL/dc_{t-1} is exactly the pipe's path: dL/dc_t * f_t (chapter 9).
    rng = np.random.default_rng(16)
    m = LSTM(3, 4, peephole=False, seed=0)
    _, _, cache = lstm_unit(*rng.standard_normal((2, 4)), rng.standard_normal(3), m.params,
                            return_cache=True)  # fmt: skip
    dc = rng.standard_normal(4)
    dc_prev, _, _, _ = lstm_unit_backward(None, dc, cache)
    np.testing.assert_array_equal(dc_prev, dc * cache.f)


def test_lstm_unit_backward_keeps_float32():
    m = LSTM(3, 4, seed=0, dtype=np.float32)
    z = np.zeros(4, np.float32)
    _, _, cache = lstm_unit(z, z, np.ones(3, np.float32), m.params, return_cache=True)
    out = lstm_unit_backward(np.ones(4, np.float32), None, cache)
    assert all(a.dtype == np.float32 for a in out[:3])
    assert all(v.dtype == np.float32 for v in out[3].values())


_, _, CACHE = lstm_unit(V4, V4, V3, P, return_cache=True)
BAD_BACKWARD_CALLS = {
    "return_cache not a bool": (
        lambda: lstm_unit(V4, V4, V3, P, return_cache="yes"),
        TypeError,
        r"^return_cache: expected True or False, got str 'yes'",
    ),
    "cache not a UnitCache": (
        lambda: lstm_unit_backward(V4, V4, (V4, V4)),
        TypeError,
        r"^cache: expected the UnitCache of lstm_unit\(\.\.\., return_cache=True\), got tuple",
    ),
    "dh of another shape": (
        lambda: lstm_unit_backward(np.zeros((2, 4)), V4, CACHE),
        ValueError,
        r"^dh: expected shape \(4,\) \(that of the step's h\), got \(2, 4\)",
    ),
    "dc of another dtype": (
        lambda: lstm_unit_backward(V4, np.zeros(4, np.float32), CACHE),
        TypeError,
        r"^dc: expected dtype float64 \(that of the step's c\), got float32",
    ),
    "NaN in dh": (
        lambda: lstm_unit_backward(np.array([0, 0, np.inf, 0]), None, CACHE),
        ValueError,
        r"^dh: expected finite numbers, got 1 NaN or inf value\(s\), the first at index \(2,\)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_BACKWARD_CALLS))
def test_bad_input_to_the_backward_step_gets_a_clear_error(case):
    call, error, match = BAD_BACKWARD_CALLS[case]
    with pytest.raises(error, match=match):
        call()
