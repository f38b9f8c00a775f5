"""lstmlib.layers: LSTM, RNN and Linear compute the right gradients, keep their contract (shapes,
dtypes, live weights, seeds), scale to long sequences, and refuse bad input clearly."""

import tracemalloc

import numpy as np
import pytest

from lstmlib import LSTM, RNN, Linear
from tests.gradcheck import numerical_gradient, relative_error

RNG = np.random.default_rng(2024)


def assert_gradients_match(loss, pairs, tol=1e-6):
    """``pairs``: name -> (array the loss reads, analytic gradient). All must agree within tol."""
    errors = {
        name: relative_error(numerical_gradient(loss, arr), grad)
        for name, (arr, grad) in pairs.items()
    }
    bad = {name: f"{err:.2e}" for name, err in errors.items() if not err < tol}
    assert not bad, f"relative error of the gradient above {tol:g}: {bad}"


# --- gradients -------------------------------------------------------------------------------


@pytest.mark.parametrize("with_dstate", [False, True], ids=["dstate=None", "dstate given"])
@pytest.mark.parametrize("peephole", [True, False], ids=["peephole", "standard"])
def test_lstm_backward_matches_finite_differences(peephole, with_dstate):
    T, B, D, H = 4, 2, 3, 3
    m = LSTM(D, H, peephole=peephole, seed=0)
    for k in ("b_i", "b_g", "b_o"):  # non-zero biases, so that no valve sits at a symmetric point
        m.params[k][...] = RNG.uniform(-0.5, 0.5, H)
    xs = RNG.standard_normal((T, B, D))
    h0, c0 = RNG.standard_normal((B, H)), RNG.standard_normal((B, H))
    dhs = RNG.standard_normal((T, B, H))
    dstate = (RNG.standard_normal((B, H)), RNG.standard_normal((B, H))) if with_dstate else None

    def loss():
        hs, (h_T, c_T) = m.forward(xs, state=(h0, c0))
        total = np.sum(hs * dhs)
        if dstate is not None:
            total += np.sum(h_T * dstate[0]) + np.sum(c_T * dstate[1])
        return total

    loss()
    dxs, (dh0, dc0) = m.backward(dhs, dstate)
    pairs = {k: (m.params[k], m.grads[k].copy()) for k in m.params}
    pairs.update(xs=(xs, dxs), h0=(h0, dh0), c0=(c0, dc0))
    assert_gradients_match(loss, pairs)


@pytest.mark.parametrize("with_dh_T", [False, True], ids=["dh_T=None", "dh_T given"])
def test_rnn_backward_matches_finite_differences(with_dh_T):
    T, B, D, H = 5, 2, 3, 4
    r = RNN(D, H, seed=1)
    r.params["b"][...] = RNG.uniform(-0.5, 0.5, H)
    xs, h0 = RNG.standard_normal((T, B, D)), RNG.standard_normal((B, H))
    dhs = RNG.standard_normal((T, B, H))
    dh_T = RNG.standard_normal((B, H)) if with_dh_T else None

    def loss():
        hs, h_T = r.forward(xs, h0)
        return np.sum(hs * dhs) + (np.sum(h_T * dh_T) if dh_T is not None else 0.0)

    loss()
    dxs, dh0 = r.backward(dhs, dh_T)
    pairs = {k: (r.params[k], r.grads[k].copy()) for k in r.params}
    pairs.update(xs=(xs, dxs), h0=(h0, dh0))
    assert_gradients_match(loss, pairs)


def test_linear_backward_matches_finite_differences():
    lin = Linear(4, 3, seed=2)
    lin.params["b"][...] = RNG.standard_normal(3)
    x = RNG.standard_normal((5, 2, 4))
    dy = RNG.standard_normal((5, 2, 3))

    def loss():
        return np.sum(lin.forward(x) * dy)

    loss()
    dx = lin.backward(dy)
    pairs = {k: (lin.params[k], lin.grads[k].copy()) for k in lin.params}
    pairs.update(x=(x, dx))
    assert_gradients_match(loss, pairs)


def test_none_gradients_mean_zeros():
    m = LSTM(2, 3, seed=0)
    xs = RNG.standard_normal((4, 2, 2))
    m.forward(xs)
    dh_T = RNG.standard_normal((2, 3))
    dxs, (dh0, dc0) = m.backward(None, (dh_T, None))
    expected_dxs, (expected_dh0, expected_dc0) = m.backward(
        np.zeros((4, 2, 3)), (dh_T, np.zeros((2, 3)))
    )
    np.testing.assert_array_equal(dxs, expected_dxs)
    np.testing.assert_array_equal(dh0, expected_dh0)
    np.testing.assert_array_equal(dc0, expected_dc0)


# --- the contract: shapes, gates, dtypes, live weights, seeds -----------------------------------


@pytest.mark.parametrize("peephole", [True, False], ids=["peephole", "standard"])
def test_lstm_shapes_follow_the_contract(peephole):
    T, B, D, H = 5, 2, 3, 4
    m = LSTM(D, H, peephole=peephole, seed=0)
    n_in = 2 * H + D if peephole else H + D
    assert {k: v.shape for k, v in m.params.items()} == {
        **{f"W_{g}": (H, n_in) for g in "figo"},
        **{f"b_{g}": (H,) for g in "figo"},
    }
    assert list(m.params) == ["W_f", "W_i", "W_g", "W_o", "b_f", "b_i", "b_g", "b_o"]
    hs, (h_T, c_T) = m.forward(RNG.standard_normal((T, B, D)))
    assert hs.shape == (T, B, H) and h_T.shape == (B, H) and c_T.shape == (B, H)
    np.testing.assert_array_equal(hs[-1], h_T)
    assert sorted(m.gates) == ["c", "f", "g", "i", "o"]
    assert all(v.shape == (T, B, H) for v in m.gates.values())
    dxs, (dh0, dc0) = m.backward(np.ones((T, B, H)))
    assert dxs.shape == (T, B, D) and dh0.shape == (B, H) and dc0.shape == (B, H)
    assert {k: v.shape for k, v in m.grads.items()} == {k: v.shape for k, v in m.params.items()}


def test_lstm_gates_obey_the_source_equations_and_are_read_only():
    m = LSTM(3, 4, seed=0)
    c0 = RNG.standard_normal((2, 4))
    hs, _ = m.forward(RNG.standard_normal((6, 2, 3)), state=(np.zeros((2, 4)), c0))
    g = m.gates
    prev_c = np.concatenate([c0[None], g["c"][:-1]])
    np.testing.assert_allclose(g["c"], g["f"] * prev_c + g["i"] * g["g"], atol=1e-15)
    np.testing.assert_allclose(hs, g["o"] * np.tanh(g["c"]), atol=1e-15)
    for name in ("f", "i", "o"):
        assert ((g[name] > 0) & (g[name] < 1)).all(), f"{name} is a sigmoid valve"
    with pytest.raises(ValueError, match="read-only"):
        g["f"][0, 0, 0] = 1.0


@pytest.mark.parametrize("layer", ["LSTM", "RNN", "Linear"])
def test_same_seed_same_weights_bit_for_bit_other_seed_other_weights(layer):
    make = {
        "LSTM": lambda s: LSTM(3, 4, seed=s),
        "RNN": lambda s: RNN(3, 4, seed=s),
        "Linear": lambda s: Linear(3, 4, seed=s),
    }[layer]
    a, b, c = make(7), make(7), make(8)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert any(not np.array_equal(a.params[k], c.params[k]) for k in a.params)


def test_seeded_runs_are_repeatable_bit_for_bit():
    xs = RNG.standard_normal((5, 2, 3))
    results = []
    for _ in range(2):
        m = LSTM(3, 4, seed=11)
        hs, _ = m.forward(xs)
        dxs, _ = m.backward(np.ones_like(hs))
        results.append((hs, dxs, m.grads["W_f"].copy()))
    for first, second in zip(*results, strict=True):
        np.testing.assert_array_equal(first, second)


def test_initialisation_is_uniform_within_one_over_sqrt_h_with_the_forget_bias():
    H = 16
    m = LSTM(5, H, forget_bias=2.5, seed=0)
    for g in "figo":
        assert np.abs(m.params[f"W_{g}"]).max() <= 1 / np.sqrt(H)
        assert m.params[f"W_{g}"].std() > 0.4 / np.sqrt(H)  # uniform(-a, a) has std a / sqrt(3)
    np.testing.assert_array_equal(m.params["b_f"], np.full(H, 2.5))
    for g in "igo":
        np.testing.assert_array_equal(m.params[f"b_{g}"], np.zeros(H))
    assert np.abs(RNN(5, H, seed=0).params["W"]).max() <= 1 / np.sqrt(H)
    assert np.abs(Linear(9, 2, seed=0).params["W"]).max() <= 1 / 3


def test_a_float32_layer_has_the_float64_weights_rounded():
    m32, m64 = LSTM(3, 4, seed=5, dtype=np.float32), LSTM(3, 4, seed=5)
    for k in m64.params:
        np.testing.assert_array_equal(m32.params[k], m64.params[k].astype(np.float32))


@pytest.mark.parametrize("peephole", [True, False], ids=["peephole", "standard"])
def test_a_float32_lstm_stays_float32_throughout(peephole):
    m32 = LSTM(3, 4, peephole=peephole, seed=5, dtype=np.float32)
    m64 = LSTM(3, 4, peephole=peephole, seed=5)
    xs = RNG.standard_normal((6, 2, 3))
    hs, (h_T, c_T) = m32.forward(xs.astype(np.float32))
    dxs, (dh0, dc0) = m32.backward(np.ones((6, 2, 4), np.float32))
    arrays = {
        "hs": hs,
        "h_T": h_T,
        "c_T": c_T,
        "dxs": dxs,
        "dh0": dh0,
        "dc0": dc0,
        **{f"gates[{k!r}]": v for k, v in m32.gates.items()},
        **{f"grads[{k!r}]": v for k, v in m32.grads.items()},
        **{f"params[{k!r}]": v for k, v in m32.params.items()},
    }
    not32 = {k: str(v.dtype) for k, v in arrays.items() if v.dtype != np.float32}
    assert not not32, f"float64 crept in: {not32}"
    hs64, _ = m64.forward(xs)
    np.testing.assert_allclose(hs, hs64, atol=1e-6)


def test_rnn_and_linear_stay_float32():
    r = RNN(3, 4, seed=0, dtype=np.float32)
    hs, h_T = r.forward(np.ones((2, 1, 3), np.float32))
    dxs, dh0 = r.backward(np.ones((2, 1, 4), np.float32))
    lin = Linear(4, 2, seed=0, dtype=np.float32)
    y = lin.forward(hs)
    dx = lin.backward(np.ones_like(y))
    arrays = [hs, h_T, dxs, dh0, y, dx, *r.grads.values(), *lin.grads.values()]
    assert all(a.dtype == np.float32 for a in arrays)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_valves_stay_finite_and_silent(dtype):
    # valve inputs of about ±1e4: every sigmoid is exactly 0 or 1, nothing overflows or warns
    m = LSTM(3, 4, seed=0, dtype=dtype)
    for k in m.params:
        m.params[k] *= 1e4
    xs = np.random.default_rng(0).choice([-1.0, 1.0], size=(5, 2, 3)).astype(dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        hs, (h_T, c_T) = m.forward(xs)
        dxs, _ = m.backward(np.ones_like(hs))
    for name in ("f", "i", "o"):
        assert set(np.unique(m.gates[name])) <= {0.0, 1.0}, f"{name} is not saturated"
    arrays = [hs, c_T, dxs, *m.grads.values()]
    assert all(np.isfinite(a).all() and a.dtype == dtype for a in arrays)


def test_params_are_live_an_in_place_update_changes_the_next_forward():
    m = LSTM(3, 4, seed=0)
    xs = RNG.standard_normal((3, 2, 3))
    before, _ = m.forward(xs)
    for k in m.params:  # an optimizer's step, in place
        m.params[k] -= 0.1 * RNG.standard_normal(m.params[k].shape)
    after, _ = m.forward(xs)
    fresh = LSTM(3, 4, seed=1)
    for k in m.params:
        fresh.params[k][...] = m.params[k]
    np.testing.assert_array_equal(after, fresh.forward(xs)[0])
    assert not np.allclose(before, after)


def test_a_replaced_param_array_is_read_too_if_its_shape_and_dtype_fit():
    m = LSTM(3, 4, seed=0)
    xs = RNG.standard_normal((3, 2, 3))
    m.params["W_o"] = np.zeros_like(m.params["W_o"])
    m.params["b_o"] = np.full(4, -np.inf)  # the output valve shut: h = 0
    hs, _ = m.forward(xs)
    np.testing.assert_array_equal(hs, 0.0)
    m.params["W_f"] = np.zeros((4, 10))
    with pytest.raises(ValueError, match=r"^params\['W_f'\]: expected shape \(4, 11\)"):
        m.forward(xs)


def test_grads_are_the_same_arrays_overwritten_by_each_backward():
    m = LSTM(3, 4, seed=0)
    xs = RNG.standard_normal((3, 2, 3))
    m.forward(xs)
    m.backward(np.ones((3, 2, 4)))
    held = dict(m.grads)
    first = {k: v.copy() for k, v in held.items()}
    m.grads["W_f"] = None  # a caller rebinding an entry does not break the next backward
    m.backward(np.ones((3, 2, 4)))
    for k in held:
        assert m.grads[k] is held[k], f"grads[{k!r}] was replaced by a new array"
        np.testing.assert_array_equal(m.grads[k], first[k])  # overwritten, not accumulated


def test_backward_differentiates_the_forward_that_ran_whatever_changed_since():
    m = LSTM(3, 4, seed=0)
    xs = RNG.standard_normal((3, 2, 3))
    dhs = RNG.standard_normal((3, 2, 4))
    m.forward(xs)
    expected_dxs, _ = m.backward(dhs)
    m.forward(xs)
    xs[...] = 0.0  # the caller reuses its input buffer
    m.params["W_f"] *= 2  # and an optimizer steps before backward
    dxs, _ = m.backward(dhs)
    np.testing.assert_array_equal(dxs, expected_dxs)


def test_changing_the_returned_hs_does_not_change_backward():
    m = LSTM(3, 4, seed=0)
    xs = RNG.standard_normal((3, 2, 3))
    hs, (h_T, c_T) = m.forward(xs)
    expected, _ = m.backward(np.ones_like(hs))
    hs[...] = 7.0
    h_T[...] = 7.0
    c_T[...] = 7.0
    np.testing.assert_array_equal(m.backward(np.ones_like(hs))[0], expected)


def test_state_carries_a_sequence_across_chunks():
    m = LSTM(3, 4, seed=0)
    xs = RNG.standard_normal((8, 2, 3))
    hs, (h_T, c_T) = m.forward(xs)
    hs1, state = m.forward(xs[:5])
    hs2, (h2, c2) = m.forward(xs[5:], state=state)
    np.testing.assert_allclose(np.concatenate([hs1, hs2]), hs, atol=1e-15)
    np.testing.assert_allclose(c2, c_T, atol=1e-15)


def test_python_lists_are_accepted_as_inputs():
    m = LSTM(2, 3, seed=0)
    hs, _ = m.forward([[[0.5, -1]], [[1, 0]]])
    np.testing.assert_array_equal(hs, m.forward(np.array([[[0.5, -1.0]], [[1.0, 0.0]]]))[0])


def test_repr_names_the_sizes():
    assert repr(LSTM(3, 4)) == "LSTM(input_size=3, hidden_size=4, peephole=True, dtype=float64)"
    assert repr(RNN(3, 4, dtype=np.float32)) == "RNN(input_size=3, hidden_size=4, dtype=float32)"
    assert repr(Linear(4, 2)) == "Linear(in_features=4, out_features=2, dtype=float64)"


# --- long sequences --------------------------------------------------------------------------


def _peak_bytes_of_forward_backward(T, B=2, D=2, H=3):
    m = LSTM(D, H, seed=0)
    xs = np.random.default_rng(0).standard_normal((T, B, D))
    dhs = np.ones((T, B, H))
    tracemalloc.start()
    try:
        hs, _ = m.forward(xs)
        dxs, _ = m.backward(dhs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.isfinite(hs).all() and np.isfinite(dxs).all()
    return peak


def test_ten_thousand_steps_forward_and_backward_in_memory_linear_in_t():
    T = 10_000
    small, large = _peak_bytes_of_forward_backward(T // 10), _peak_bytes_of_forward_backward(T)
    # linear: 10x the steps, 10x the memory (plus a constant); quadratic would be 100x
    assert large / small < 11, f"peak memory grew {large / small:.1f}x for 10x the steps"
    # and in absolute terms: a few hundred bytes per step of (B, H) = (2, 3) float64 numbers
    assert large / T < 2000, f"{large / T:.0f} bytes per step"


def test_rnn_runs_ten_thousand_steps():
    r = RNN(2, 3, seed=0)
    hs, _ = r.forward(np.random.default_rng(0).standard_normal((10_000, 2, 2)))
    dxs, _ = r.backward(np.ones_like(hs))
    assert np.isfinite(dxs).all()


# --- conversion wrappers ---------------------------------------------------------------------


def _pytorch_lstm_by_its_documented_equations(sd, xs):
    """torch.nn.LSTM's equations (its documentation), written out: gates in rows i, f, g, o."""
    H = sd["weight_hh_l0"].shape[1]
    h = np.zeros((xs.shape[1], H))
    c = np.zeros_like(h)
    out = []
    for x in xs:
        z = x @ sd["weight_ih_l0"].T + sd["bias_ih_l0"]
        z += h @ sd["weight_hh_l0"].T + sd["bias_hh_l0"]
        i, f, g, o = (z[:, k * H : (k + 1) * H] for k in range(4))
        i, f, g, o = 1 / (1 + np.exp(-i)), 1 / (1 + np.exp(-f)), np.tanh(g), 1 / (1 + np.exp(-o))
        c = f * c + i * g
        h = o * np.tanh(c)
        out.append(h)
    return np.array(out)


def test_from_torch_runs_the_pytorch_lstm_equations():
    D, H = 3, 4
    sd = {
        "weight_ih_l0": RNG.standard_normal((4 * H, D)),
        "weight_hh_l0": RNG.standard_normal((4 * H, H)),
        "bias_ih_l0": RNG.standard_normal(4 * H),
        "bias_hh_l0": RNG.standard_normal(4 * H),
    }
    m = LSTM.from_torch(sd)
    assert (m.input_size, m.hidden_size, m.peephole, m.dtype) == (D, H, False, np.float64)
    xs = RNG.standard_normal((5, 2, D))
    np.testing.assert_allclose(
        m.forward(xs)[0], _pytorch_lstm_by_its_documented_equations(sd, xs), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_and_keras_round_trips_give_the_same_layer(dtype):
    m = LSTM(3, 4, peephole=False, seed=0, dtype=dtype)
    xs = RNG.standard_normal((4, 2, 3)).astype(dtype)
    hs, _ = m.forward(xs)
    for copy in (LSTM.from_torch(m.to_torch()), LSTM.from_keras(*m.to_keras())):
        assert copy.dtype == dtype and not copy.peephole
        np.testing.assert_array_equal(copy.forward(xs)[0], hs)


def test_a_peephole_layer_refuses_to_convert():
    m = LSTM(3, 4, peephole=True, seed=0)
    with pytest.raises(ValueError, match="peephole"):
        m.to_torch()
    with pytest.raises(ValueError, match="peephole"):
        m.to_keras()


# --- bad input -------------------------------------------------------------------------------


def _fresh(cls=LSTM, **kwargs):
    return cls(3, 4, seed=0, **kwargs)


def _after_forward(cls=LSTM):
    layer = _fresh(cls)
    layer.forward(np.zeros((5, 2, 3)) if cls is not Linear else np.zeros((5, 3)))
    return layer


Z = np.zeros
BAD_CALLS = {
    # the constructors
    "input_size 0": (lambda: LSTM(0, 4), ValueError, r"^input_size: expected a positive int"),
    "hidden_size -1": (lambda: LSTM(3, -1), ValueError, r"^hidden_size: expected a positive int"),
    "hidden_size 2.5": (lambda: LSTM(3, 2.5), TypeError, r"^hidden_size: expected a positive int"),
    "input_size 3.0": (lambda: RNN(3.0, 4), TypeError, r"^input_size: expected a positive int"),
    "hidden_size True": (lambda: RNN(3, True), TypeError, r"^hidden_size: .*bool"),
    "out_features 0": (lambda: Linear(3, 0), ValueError, r"^out_features: expected a positive"),
    "dtype float16": (lambda: LSTM(3, 4, dtype=np.float16), TypeError, r"^dtype: expected np"),
    "dtype 'foo'": (lambda: RNN(3, 4, dtype="foo"), TypeError, r"^dtype: expected np"),
    "dtype int": (lambda: Linear(3, 4, dtype=int), TypeError, r"^dtype: expected np"),
    "peephole 1": (lambda: LSTM(3, 4, peephole=1), TypeError, r"^peephole: expected True or"),
    "peephole 'yes'": (lambda: LSTM(3, 4, peephole="yes"), TypeError, r"^peephole: expected"),
    "forget_bias nan": (
        lambda: LSTM(3, 4, forget_bias=float("nan")),
        ValueError,
        r"^forget_bias: expected a finite",
    ),
    "seed 1.5": (lambda: LSTM(3, 4, seed=1.5), TypeError, r"^seed: expected None, an int"),
    # LSTM.forward
    "xs of the wrong input size": (
        lambda: _fresh().forward(Z((5, 2, 4))),
        ValueError,
        r"^xs: expected shape \(T, B, 3\) with D=3 \(the layer's input_size\), got \(5, 2, 4\)$",
    ),
    "xs 2-D": (lambda: _fresh().forward(Z((5, 3))), ValueError, r"^xs: expected shape \(T, B, 3\)"),
    "xs 4-D": (lambda: _fresh().forward(Z((1, 5, 2, 3))), ValueError, r"^xs: expected shape"),
    "xs empty": (lambda: _fresh().forward(Z((0, 2, 3))), ValueError, r"^xs: expected a non-empty"),
    "xs integer": (
        lambda: _fresh().forward(Z((5, 2, 3), int)),
        TypeError,
        r"^xs: expected a float32 or",
    ),
    "xs complex": (
        lambda: _fresh().forward(Z((5, 2, 3), complex)),
        TypeError,
        r"^xs: .*got a complex array",
    ),
    "xs object": (
        lambda: _fresh().forward(Z((5, 2, 3), object)),
        TypeError,
        r"^xs: .*got an object array",
    ),
    "xs bool": (lambda: _fresh().forward(Z((5, 2, 3), bool)), TypeError, r"^xs: .*got a bool"),
    "xs float32 into a float64 layer": (
        lambda: _fresh().forward(Z((5, 2, 3), np.float32)),
        TypeError,
        r"^xs: expected dtype float64 \(the layer's dtype\), got float32",
    ),
    "xs float64 into a float32 layer": (
        lambda: _fresh(dtype=np.float32).forward(Z((5, 2, 3))),
        TypeError,
        r"^xs: expected dtype float32 \(the layer's dtype\), got float64",
    ),
    "xs with NaN": (
        lambda: _fresh().forward(np.full((5, 2, 3), np.nan)),
        ValueError,
        r"^xs: expected finite numbers, got 30 NaN or inf value\(s\), the first at index \(0, 0, 0",
    ),
    "xs with inf": (
        lambda: _fresh().forward(np.array([[[0, 0, np.inf]]])),
        ValueError,
        r"^xs: expected finite numbers",
    ),
    "xs a string": (lambda: _fresh().forward("abc"), TypeError, r"^xs: expected a numpy array"),
    "state not a pair": (
        lambda: _fresh().forward(Z((5, 2, 3)), state=Z((2, 4))),
        TypeError,
        r"^state: expected a pair \(h0, c0\)",
    ),
    "h0 of another batch size": (
        lambda: _fresh().forward(Z((5, 2, 3)), state=(Z((3, 4)), Z((2, 4)))),
        ValueError,
        r"^state\[0\] \(h0\): expected shape \(2, 4\) = \(B, H\) with B=2 \(the batch size of "
        r"xs\) and H=4 \(the layer's hidden_size\), got \(3, 4\)$",
    ),
    "c0 of another hidden size": (
        lambda: _fresh().forward(Z((5, 2, 3)), state=(Z((2, 4)), Z((2, 5)))),
        ValueError,
        r"^state\[1\] \(c0\): expected shape \(2, 4\)",
    ),
    "c0 float32": (
        lambda: _fresh().forward(Z((5, 2, 3)), state=(Z((2, 4)), Z((2, 4), np.float32))),
        TypeError,
        r"^state\[1\] \(c0\): expected dtype float64",
    ),
    "h0 with NaN": (
        lambda: _fresh().forward(Z((5, 2, 3)), state=(np.full((2, 4), np.nan), Z((2, 4)))),
        ValueError,
        r"^state\[0\] \(h0\): expected finite numbers",
    ),
    # LSTM.backward
    "LSTM backward before forward": (
        lambda: _fresh().backward(Z((5, 2, 4))),
        RuntimeError,
        r"^backward: call forward first",
    ),
    "dhs of the wrong shape": (
        lambda: _after_forward().backward(Z((5, 2, 3))),
        ValueError,
        r"^dhs: expected shape \(5, 2, 4\) \(the shape of hs returned by forward\), "
        r"got \(5, 2, 3\)$",
    ),
    "dhs of another length": (
        lambda: _after_forward().backward(Z((4, 2, 4))),
        ValueError,
        r"^dhs: expected shape \(5, 2, 4\)",
    ),
    "dhs float32": (
        lambda: _after_forward().backward(Z((5, 2, 4), np.float32)),
        TypeError,
        r"^dhs: expected dtype float64",
    ),
    "dhs with NaN": (
        lambda: _after_forward().backward(np.full((5, 2, 4), np.nan)),
        ValueError,
        r"^dhs: expected finite numbers",
    ),
    "dstate of the wrong shape": (
        lambda: _after_forward().backward(Z((5, 2, 4)), (Z((2, 4)), Z((4, 2)))),
        ValueError,
        r"^dstate\[1\] \(dc_T\): expected shape \(2, 4\)",
    ),
    "dstate not a pair": (
        lambda: _after_forward().backward(Z((5, 2, 4)), Z((2, 4))),
        TypeError,
        r"^dstate: expected a pair \(dh_T, dc_T\)",
    ),
    # RNN
    "RNN xs of the wrong input size": (
        lambda: _fresh(RNN).forward(Z((5, 2, 2))),
        ValueError,
        r"^xs: expected shape \(T, B, 3\) with D=3",
    ),
    "RNN h0 of the wrong shape": (
        lambda: _fresh(RNN).forward(Z((5, 2, 3)), Z((2, 3))),
        ValueError,
        r"^h0: expected shape \(2, 4\)",
    ),
    "RNN integer xs": (
        lambda: _fresh(RNN).forward(Z((5, 2, 3), int)),
        TypeError,
        r"^xs: .*an integer array",
    ),
    "RNN backward before forward": (
        lambda: _fresh(RNN).backward(Z((5, 2, 4))),
        RuntimeError,
        r"^backward: call forward first",
    ),
    "RNN dhs of the wrong shape": (
        lambda: _after_forward(RNN).backward(Z((5, 2, 3))),
        ValueError,
        r"^dhs: expected shape",
    ),
    "RNN dh_T of the wrong shape": (
        lambda: _after_forward(RNN).backward(Z((5, 2, 4)), Z((1, 4))),
        ValueError,
        r"^dh_T: expected shape \(2, 4\)",
    ),
    # Linear
    "Linear x of the wrong width": (
        lambda: _fresh(Linear).forward(Z((5, 2))),
        ValueError,
        r"^x: expected shape \(\.\.\., 3\) \(in_features\), got \(5, 2\)",
    ),
    "Linear x with inf": (
        lambda: _fresh(Linear).forward(np.array([np.inf, 0, 0])),
        ValueError,
        r"^x: expected finite",
    ),
    "Linear x float32": (
        lambda: _fresh(Linear).forward(Z(3, np.float32)),
        TypeError,
        r"^x: expected dtype float64",
    ),
    "Linear backward before forward": (
        lambda: _fresh(Linear).backward(Z((5, 4))),
        RuntimeError,
        r"^backward: call forward first",
    ),
    "Linear dy of the wrong shape": (
        lambda: _after_forward(Linear).backward(Z((5, 3))),
        ValueError,
        r"^dy: expected shape \(5, 4\) \(the shape of y\), got \(5, 3\)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_input_gets_a_clear_error_from_lstmlib(case):
    call, error, match = BAD_CALLS[case]
    with pytest.raises(error, match=match) as info:
        call()
    assert info.traceback[-1].path.parent.name == "lstmlib", "raised outside lstmlib's checks"


# --- many models at once: stack / unstack ----------------------------------------------------

STACKABLE = {
    "peephole LSTM": lambda s: LSTM(3, 4, seed=s),
    "standard LSTM": lambda s: LSTM(3, 4, peephole=False, forget_bias=2.0, seed=s),
    "RNN": lambda s: RNN(3, 4, seed=s),
}


@pytest.mark.parametrize("make", STACKABLE.values(), ids=STACKABLE.keys())
def test_a_stack_of_layers_computes_what_each_layer_computes_on_its_own_slice(make):
    rng = np.random.default_rng(0)
    layers = [make(s) for s in range(3)]
    stacked = type(layers[0]).stack(layers)
    xs = rng.standard_normal((6, 3, 2, 3))  # (T, M, B, D)
    hs = stacked.forward(xs)[0]
    dhs = rng.standard_normal(hs.shape)
    dxs = stacked.backward(dhs)[0]
    for k, layer in enumerate(layers):
        assert np.allclose(layer.forward(xs[:, k])[0], hs[:, k], rtol=0, atol=1e-13), k
        assert np.allclose(layer.backward(dhs[:, k])[0], dxs[:, k], rtol=0, atol=1e-13), k
        for name, g in layer.grads.items():
            assert np.allclose(g, stacked.grads[name][k], rtol=0, atol=1e-12), (k, name)


def test_a_stacked_lstm_gives_each_model_its_own_state_and_gates():
    layers = [LSTM(2, 3, seed=s) for s in range(2)]
    stacked = LSTM.stack(layers)
    rng = np.random.default_rng(1)
    xs, h0, c0 = (
        rng.standard_normal((4, 2, 5, 2)),
        rng.standard_normal((2, 5, 3)),
        np.ones((2, 5, 3)),
    )
    _, (h_T, c_T) = stacked.forward(xs, (h0, c0))
    for k, layer in enumerate(layers):
        _, (h, c) = layer.forward(xs[:, k], (h0[k], c0[k]))
        assert np.allclose(h, h_T[k], atol=1e-14) and np.allclose(c, c_T[k], atol=1e-14)
        for g in "figoc":
            assert np.allclose(layer.gates[g], stacked.gates[g][:, k], atol=1e-14), g


def test_a_stacked_linear_reads_out_each_model_with_its_own_weights():
    layers = [Linear(4, 2, seed=s) for s in range(3)]
    stacked = Linear.stack(layers)
    x = np.random.default_rng(2).standard_normal((3, 5, 4))
    y = stacked.forward(x)
    dx = stacked.backward(np.ones_like(y))
    for k, layer in enumerate(layers):
        assert np.allclose(layer.forward(x[k]), y[k], atol=1e-14)
        assert np.allclose(layer.backward(np.ones((5, 2))), dx[k], atol=1e-14)
        assert np.allclose(layer.grads["W"], stacked.grads["W"][k], atol=1e-14)


@pytest.mark.parametrize("make", STACKABLE.values(), ids=STACKABLE.keys())
def test_unstack_gives_back_the_layers_that_were_stacked(make):
    layers = [make(s) for s in range(3)]
    back = type(layers[0]).stack(layers).unstack()
    assert [m.models for m in back] == [None] * 3
    for layer, b in zip(layers, back, strict=True):
        assert all(np.array_equal(layer.params[k], b.params[k]) for k in layer.params)
        xs = np.ones((2, 1, 3))
        assert np.array_equal(layer.forward(xs)[0], b.forward(xs)[0])


def test_a_stack_of_different_layers_is_refused_with_the_culprit_named():
    with pytest.raises(ValueError, match=r"layers\[1\]"):
        LSTM.stack([LSTM(3, 4, seed=0), LSTM(3, 5, seed=0)])
    with pytest.raises(ValueError, match=r"layers\[1\]"):
        LSTM.stack([LSTM(3, 4, seed=0), LSTM(3, 4, peephole=False, seed=0)])
    with pytest.raises(TypeError, match=r"layers\[1\]"):
        LSTM.stack([LSTM(3, 4, seed=0), RNN(3, 4, seed=0)])
    with pytest.raises(TypeError, match="layers"):
        LSTM.stack([])
    with pytest.raises(ValueError, match="not a stacked layer"):
        LSTM(3, 4, seed=0).unstack()


def test_a_stacked_layer_names_the_model_axis_when_the_input_lacks_it():
    stacked = LSTM.stack([LSTM(3, 4, seed=s) for s in range(2)])
    with pytest.raises(ValueError, match=r"\(T, M, B, D\) with M=2"):
        stacked.forward(np.ones((5, 1, 3)))
    with pytest.raises(ValueError, match=r"M=2"):
        stacked.forward(np.ones((5, 2, 1, 3)), (np.zeros((1, 4)), np.zeros((1, 4))))


def test_an_orthogonal_rnn_starts_with_all_singular_values_of_W_h_equal_to_one():
    W = RNN(3, 6, recurrent_init="orthogonal", seed=0).params["W"]
    assert np.allclose(np.linalg.svd(W[:, :6], compute_uv=False), 1.0, atol=1e-12)
    assert np.array_equal(W[:, 6:], RNN(3, 6, seed=0).params["W"][:, 6:])  # inputs as uniform


def test_an_identity_rnn_starts_with_W_h_the_identity_and_other_inits_are_named():
    assert np.array_equal(
        RNN(3, 4, recurrent_init="identity", seed=0).params["W"][:, :4], np.eye(4)
    )
    with pytest.raises(ValueError, match="recurrent_init: expected one of"):
        RNN(3, 4, recurrent_init="Orthogonal")


def test_take_keeps_the_chosen_models_of_a_stack_in_the_order_asked():
    layers = [LSTM(3, 4, seed=s) for s in range(4)]
    part = LSTM.stack(layers).take([3, 1])
    assert part.models == 2
    for k, s in enumerate([3, 1]):
        assert all(np.array_equal(part.params[n][k], layers[s].params[n]) for n in part.params)
    with pytest.raises(ValueError, match=r"indices in \[0, 4\)"):
        LSTM.stack(layers).take([4])
    with pytest.raises(TypeError, match="models"):
        LSTM.stack(layers).take([])
    with pytest.raises(ValueError, match="not a stacked layer"):
        layers[0].take([0])
