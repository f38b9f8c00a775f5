"""lstmlib.gru: the GRU computes torch.nn.GRU's equations, its gradients are exact, its layout
converts to and from PyTorch's, and bad input is refused clearly."""

import numpy as np
import pytest

from lstmlib import GRU, candidate_memory, gru_unit, memory_pipe, reset_valve, update_valve
from lstmlib.gru import GRU_PARAM_KEYS, gru_params_from_torch, gru_params_to_torch
from tests.gradcheck import numerical_gradient, relative_error

RNG = np.random.default_rng(2025)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def pytorch_gru_by_its_documented_equations(sd, xs, h0):
    """torch.nn.GRU as its documentation writes it, transcribed independently of lstmlib:

    r_t = sigma(W_ir x_t + b_ir + W_hr h_(t-1) + b_hr)
    z_t = sigma(W_iz x_t + b_iz + W_hz h_(t-1) + b_hz)
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_(t-1) + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_(t-1)
    """
    W_ir, W_iz, W_in = np.split(sd["weight_ih_l0"], 3)
    W_hr, W_hz, W_hn = np.split(sd["weight_hh_l0"], 3)
    b_ir, b_iz, b_in = np.split(sd["bias_ih_l0"], 3)
    b_hr, b_hz, b_hn = np.split(sd["bias_hh_l0"], 3)
    h, hs = h0, []
    for x in xs:
        r = _sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
        z = _sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
        n = np.tanh(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))
        h = (1 - z) * n + z * h
        hs.append(h)
    return np.array(hs), h


def _torch_state_dict(D, H, dtype=np.float64, rng=RNG):
    """A random nn.GRU(D, H) state dict, every bias non-zero (bias_hh too)."""
    return {
        "weight_ih_l0": rng.uniform(-0.6, 0.6, (3 * H, D)).astype(dtype),
        "weight_hh_l0": rng.uniform(-0.6, 0.6, (3 * H, H)).astype(dtype),
        "bias_ih_l0": rng.uniform(-0.5, 0.5, 3 * H).astype(dtype),
        "bias_hh_l0": rng.uniform(-0.5, 0.5, 3 * H).astype(dtype),
    }


# --- gradients -------------------------------------------------------------------------------


def gru_gradient_errors(with_dh_T: bool) -> dict[str, float]:
    """Relative errors of GRU.backward against central differences, per parameter, xs and h0."""
    T, B, D, H = 5, 2, 3, 4
    m = GRU(D, H, seed=0)
    for k in ("b_r", "b_z", "b_n", "b_hn"):  # non-zero biases: no valve at a symmetric point
        m.params[k][...] = RNG.uniform(-0.5, 0.5, H)
    xs, h0 = RNG.standard_normal((T, B, D)), RNG.standard_normal((B, H))
    dhs = RNG.standard_normal((T, B, H))
    dh_T = RNG.standard_normal((B, H)) if with_dh_T else None

    def loss():
        hs, h_T = m.forward(xs, h0)
        return np.sum(hs * dhs) + (np.sum(h_T * dh_T) if dh_T is not None else 0.0)

    loss()
    dxs, dh0 = m.backward(dhs, dh_T)
    pairs = {k: (m.params[k], m.grads[k].copy()) for k in m.params}
    pairs.update(xs=(xs, dxs), h0=(h0, dh0))
    return {k: relative_error(numerical_gradient(loss, a), g) for k, (a, g) in pairs.items()}


@pytest.mark.parametrize("with_dh_T", [False, True], ids=["dh_T=None", "dh_T given"])
def test_gru_backward_matches_finite_differences_for_every_parameter_input_and_state(with_dh_T):
    errors = gru_gradient_errors(with_dh_T)
    assert set(errors) == {*GRU_PARAM_KEYS, "xs", "h0"}
    bad = {k: f"{e:.2e}" for k, e in errors.items() if not e < 1e-6}
    assert not bad, f"relative error of the gradient above 1e-6: {bad}"


def test_a_stacked_gru_differentiates_each_model_as_it_would_alone():
    layers = [GRU(3, 4, seed=s) for s in range(3)]
    stacked = GRU.stack(layers)
    xs, dhs = RNG.standard_normal((5, 3, 2, 3)), RNG.standard_normal((5, 3, 2, 4))
    hs, h_T = stacked.forward(xs)
    dxs, dh0 = stacked.backward(dhs)
    for j, m in enumerate(layers):
        hs_j, h_T_j = m.forward(xs[:, j])
        dxs_j, dh0_j = m.backward(dhs[:, j])
        np.testing.assert_allclose(hs[:, j], hs_j, rtol=0, atol=1e-14)
        np.testing.assert_allclose(dxs[:, j], dxs_j, rtol=0, atol=1e-13)
        np.testing.assert_allclose(dh0[j], dh0_j, rtol=0, atol=1e-13)
        for k in m.grads:
            np.testing.assert_allclose(stacked.grads[k][j], m.grads[k], rtol=0, atol=1e-13)
    back = stacked.unstack()
    assert all(
        np.array_equal(b.params["W_n"], m.params["W_n"]) for b, m in zip(back, layers, strict=True)
    )


# --- the equations ----------------------------------------------------------------------------


def test_by_hand_zero_weights_make_it_the_coupled_memory_pipe():
    # H = D = 1, every weight 0: r = sigma(0) = 0.5, z = sigma(ln 3) = 0.75,
    # n = tanh(artanh 0.8) = 0.8, so h_t = 0.75 * 2 + 0.25 * 0.8 = 1.7 from h_(t-1) = 2:
    # chapter 11's coupled unit, c_t = f c_(t-1) + (1 - f) G.
    m = GRU(1, 1, seed=0)
    for p in m.params.values():
        p[...] = 0.0
    m.params["b_z"][...] = np.log(3)
    m.params["b_n"][...] = np.arctanh(0.8)
    hs, h_T = m.forward(np.ones((1, 1, 1)), np.full((1, 1), 2.0))
    assert np.isclose(h_T[0, 0], 1.7, rtol=0, atol=1e-15)
    r, z, n = (m.gates[k][0, 0, 0] for k in "rzn")
    assert np.allclose([r, z, n], [0.5, 0.75, 0.8], rtol=0, atol=1e-15)


def test_by_hand_the_reset_valve_scales_the_recurrent_share_with_its_bias():
    # H = D = 1, W_nh = 1, b_hn = 0.5, h_(t-1) = 2, x = 0: n = tanh(b_n + r (2 + 0.5)).
    params = {k: np.zeros((1, 2)) if k.startswith("W") else np.zeros(1) for k in GRU_PARAM_KEYS}
    params["W_n"][0, 0] = 1.0
    params["b_hn"][0] = 0.5
    h, x = np.array([2.0]), np.array([0.0])
    for r, expected in [(0.5, np.tanh(1.25)), (0.0, 0.0), (1.0, np.tanh(2.5))]:
        n = candidate_memory(h, x, np.array([r]), params)
        assert np.isclose(n[0], expected, rtol=0, atol=1e-15)
    # b_n sits outside the reset valve: it reaches n even when the valve is shut
    params["b_n"][0] = np.arctanh(0.3)
    assert np.isclose(candidate_memory(h, x, np.array([0.0]), params)[0], 0.3, atol=1e-15)


def test_from_torch_runs_the_pytorch_gru_equations():
    T, B, D, H = 6, 3, 4, 5
    sd = _torch_state_dict(D, H)
    xs, h0 = RNG.standard_normal((T, B, D)), RNG.standard_normal((B, H))
    expected_hs, expected_h = pytorch_gru_by_its_documented_equations(sd, xs, h0)
    hs, h_T = GRU.from_torch(sd).forward(xs, h0)
    np.testing.assert_allclose(hs, expected_hs, rtol=0, atol=1e-13)
    np.testing.assert_allclose(h_T, expected_h, rtol=0, atol=1e-13)


def test_a_fixture_with_known_numbers_for_the_torch_layout():
    # nn.GRU(1, 1) with weight_ih = [[0.5], [-1.0], [2.0]] (r, z, n), weight_hh = [[1.0], [0.5],
    # [-0.5]], bias_ih = [0.1, 0.2, 0.3], bias_hh = [-0.1, 0.4, 0.6]; x_1 = 1, h_0 = 0.5:
    #   r = sigma(0.5 + 0.1 + 0.5 - 0.1) = sigma(1.0)
    #   z = sigma(-1.0 + 0.2 + 0.25 + 0.4) = sigma(-0.15)
    #   n = tanh(2.0 + 0.3 + r * (-0.25 + 0.6)) = tanh(2.3 + 0.35 r)
    #   h = (1 - z) n + z * 0.5 = 0.53743 * tanh(2.55587) + 0.23129 = 0.53743 * 0.98803 + 0.23129
    sd = {
        "weight_ih_l0": np.array([[0.5], [-1.0], [2.0]]),
        "weight_hh_l0": np.array([[1.0], [0.5], [-0.5]]),
        "bias_ih_l0": np.array([0.1, 0.2, 0.3]),
        "bias_hh_l0": np.array([-0.1, 0.4, 0.6]),
    }
    r = 0.7310585786300049  # sigma(1)
    z = 0.46257015465625045  # sigma(-0.15)
    n = np.tanh(2.3 + 0.35 * r)
    h = (1 - z) * n + z * 0.5
    assert np.isclose(h, 0.7622770580, rtol=0, atol=1e-9)  # the number, written down once
    m = GRU.from_torch(sd)
    _, h_T = m.forward(np.ones((1, 1, 1)), np.full((1, 1), 0.5))
    assert np.isclose(h_T[0, 0], h, rtol=0, atol=1e-15)
    assert np.allclose([m.gates[k][0, 0, 0] for k in "rzn"], [r, z, n], rtol=0, atol=1e-15)
    assert m.params["b_r"][0] == 0.0 and m.params["b_z"][0] == pytest.approx(0.6)
    assert m.params["b_n"][0] == 0.3 and m.params["b_hn"][0] == 0.6


def test_the_valve_functions_step_by_step_reproduce_the_layer_and_its_gates():
    T, B, D, H = 4, 2, 3, 5
    m = GRU.from_torch(_torch_state_dict(D, H))
    xs, h0 = RNG.standard_normal((T, B, D)), RNG.standard_normal((B, H))
    hs, _ = m.forward(xs, h0)
    h = h0
    for t in range(T):
        combined = np.concatenate([h, xs[t]], axis=1)
        r, z = reset_valve(combined, m.params), update_valve(combined, m.params)
        n = candidate_memory(h, xs[t], r, m.params)
        np.testing.assert_allclose([r, z, n], [m.gates[k][t] for k in "rzn"], rtol=0, atol=1e-14)
        np.testing.assert_allclose(memory_pipe(h, z, 1 - z, n), hs[t], rtol=0, atol=1e-14)
        h = gru_unit(h, xs[t], m.params)
        np.testing.assert_allclose(h, hs[t], rtol=0, atol=1e-14)
    assert gru_unit(h0[0], xs[0, 0], m.params).shape == (H,)  # one vector, not a batch


def test_gates_are_read_only_and_shaped_t_b_h():
    m = GRU(2, 3, seed=0)
    m.forward(RNG.standard_normal((4, 5, 2)))
    assert set(m.gates) == {"r", "z", "n"}
    for g in m.gates.values():
        assert g.shape == (4, 5, 3) and not g.flags.writeable


# --- the layout and the contract --------------------------------------------------------------


def test_params_follow_the_contract_and_the_seed():
    m = GRU(3, 4, seed=7)
    assert list(m.params) == list(GRU_PARAM_KEYS)
    for k in ("W_r", "W_z", "W_n"):
        assert m.params[k].shape == (4, 7) and np.all(np.abs(m.params[k]) <= 0.5)
    for k in ("b_r", "b_z", "b_n", "b_hn"):
        assert m.params[k].shape == (4,) and not m.params[k].any()
    assert all(np.array_equal(m.params[k], GRU(3, 4, seed=7).params[k]) for k in m.params)
    assert not np.array_equal(m.params["W_r"], GRU(3, 4, seed=8).params["W_r"])
    m32 = GRU(3, 4, seed=7, dtype=np.float32)
    assert np.array_equal(m32.params["W_n"], m.params["W_n"].astype(np.float32))
    hs, h_T = m32.forward(RNG.standard_normal((2, 1, 3)).astype(np.float32))
    dxs, dh0 = m32.backward(np.ones_like(hs))
    arrays = [hs, h_T, dxs, dh0, *m32.grads.values(), *m32.gates.values()]
    assert all(a.dtype == np.float32 for a in arrays)
    assert repr(m) == "GRU(input_size=3, hidden_size=4, dtype=float64)"


def test_params_are_live_and_grads_are_the_same_arrays_each_backward():
    m = GRU(2, 3, seed=0)
    xs = RNG.standard_normal((3, 2, 2))
    before, _ = m.forward(xs)
    m.params["b_hn"] += 0.5  # an optimizer's in-place update
    after, _ = m.forward(xs)
    assert not np.allclose(before, after)
    m.backward(np.ones_like(after))
    held = m.grads["W_z"]
    first = held.copy()
    m.forward(2 * xs)
    m.backward(np.ones_like(after))
    assert m.grads["W_z"] is held and not np.allclose(first, held)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_round_trips(dtype):
    m = GRU(3, 4, seed=1, dtype=dtype)
    for k in ("b_r", "b_z", "b_n", "b_hn"):
        m.params[k][...] = RNG.uniform(-1, 1, 4)
    sd = m.to_torch()
    assert {k: v.shape for k, v in sd.items()} == {
        "weight_ih_l0": (12, 3),
        "weight_hh_l0": (12, 4),
        "bias_ih_l0": (12,),
        "bias_hh_l0": (12,),
    }
    assert all(v.dtype == dtype for v in sd.values())
    assert not sd["bias_hh_l0"][:8].any()  # r, z: the whole bias in bias_ih
    back = GRU.from_torch(sd)  # params -> torch -> params: exact
    assert all(np.array_equal(back.params[k], m.params[k]) for k in GRU_PARAM_KEYS)
    assert back.dtype == dtype
    # torch -> params -> torch: the same layer (the r and z biases moved into bias_ih)
    theirs = _torch_state_dict(3, 4, dtype)
    again = GRU.from_torch(GRU.from_torch(theirs).to_torch()).to_torch()
    xs = RNG.standard_normal((5, 2, 3)).astype(dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(
        pytorch_gru_by_its_documented_equations(again, xs, np.zeros((2, 4), dtype))[0],
        pytorch_gru_by_its_documented_equations(theirs, xs, np.zeros((2, 4), dtype))[0],
        rtol=0, atol=tol,
    )  # fmt: skip
    assert gru_params_from_torch(gru_params_to_torch(m.params)).keys() == m.params.keys()


# --- bad input --------------------------------------------------------------------------------


def _after_forward():
    m = GRU(3, 4, seed=0)
    m.forward(np.zeros((2, 1, 3)))
    return m


BAD_CALLS = {
    "input_size 0": (lambda: GRU(0, 4), ValueError, "input_size: expected a positive int"),
    "hidden_size 2.0": (lambda: GRU(3, 2.0), TypeError, "hidden_size: expected a positive int"),
    "dtype int": (lambda: GRU(3, 4, dtype=int), TypeError, "dtype: expected np.float32"),
    "seed -1": (lambda: GRU(3, 4, seed=-1), ValueError, "seed: expected an int >= 0"),
    "xs 2-D": (
        lambda: GRU(3, 4).forward(np.zeros((2, 3))),
        ValueError,
        "xs: expected shape (T, B, 3) with D=3",
    ),
    "xs float32 into float64": (
        lambda: GRU(3, 4).forward(np.zeros((2, 1, 3), np.float32)),
        TypeError,
        "xs: expected dtype float64 (the layer's dtype)",
    ),
    "xs NaN": (
        lambda: GRU(3, 4).forward(np.full((2, 1, 3), np.nan)),
        ValueError,
        "xs: expected finite numbers",
    ),
    "h0 wrong batch": (
        lambda: GRU(3, 4).forward(np.zeros((2, 1, 3)), np.zeros((2, 4))),
        ValueError,
        "h0: expected shape (1, 4)",
    ),
    "backward first": (
        lambda: GRU(3, 4).backward(np.zeros((2, 1, 4))),
        RuntimeError,
        "backward: call forward first",
    ),
    "dhs wrong shape": (
        lambda: _after_forward().backward(np.zeros((3, 1, 4))),
        ValueError,
        "dhs: expected shape (2, 1, 4)",
    ),
    "dh_T wrong shape": (
        lambda: _after_forward().backward(np.zeros((2, 1, 4)), np.zeros((1, 3))),
        ValueError,
        "dh_T: expected shape (1, 4)",
    ),
    "params missing a key": (
        lambda: gru_unit(np.zeros(2), np.zeros(1), {"W_r": np.zeros((2, 3))}),
        ValueError,
        "params: missing 'W_z'",
    ),
    "an LSTM's params to gru_unit": (
        lambda: gru_unit(np.zeros(2), np.zeros(1), {"W_f": np.zeros((2, 3))}),
        ValueError,
        "a GRU's params have the keys W_r, W_z, W_n",
    ),
    "x of the wrong size": (
        lambda: gru_unit(np.zeros(4), np.zeros(2), GRU(3, 4).params),
        ValueError,
        "x: expected shape (3,) with D=3",
    ),
    "an LSTM's state dict": (
        lambda: GRU.from_torch(
            {
                "weight_ih_l0": np.zeros((8, 1)),
                "weight_hh_l0": np.zeros((8, 2)),
                "bias_ih_l0": np.zeros(8),
                "bias_hh_l0": np.zeros(8),
            }
        ),
        ValueError,
        "that is an LSTM's (4H, H): use LSTM.from_torch",
    ),
    "a two-layer state dict": (
        lambda: GRU.from_torch({**_torch_state_dict(1, 2), "weight_ih_l1": np.zeros((6, 2))}),
        ValueError,
        "lstmlib.from_torch reads any num_layers and bidirectional",
    ),
    "weight_ih of the wrong height": (
        lambda: GRU.from_torch({**_torch_state_dict(1, 2), "weight_ih_l0": np.zeros((4, 1))}),
        ValueError,
        "weight_ih_l0']: expected shape (3H, D) = (6, D) with H = 2",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_input_gets_a_clear_error(case):
    call, error, message = BAD_CALLS[case]
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value), str(info.value)


# --- against PyTorch itself (skipped where it is not installed) -------------------------------


def test_parity_with_torch_nn_gru_forward_and_gradients():
    torch = pytest.importorskip("torch")
    T, B, D, H = 7, 3, 4, 5
    ref = torch.nn.GRU(D, H).double()
    m = GRU.from_torch(ref.state_dict())
    xs, h0 = RNG.standard_normal((T, B, D)), RNG.standard_normal((B, H))
    dhs = RNG.standard_normal((T, B, H))
    x_t = torch.tensor(xs, requires_grad=True)
    h0_t = torch.tensor(h0[None], requires_grad=True)
    out, h_n = ref(x_t, h0_t)
    (out * torch.tensor(dhs)).sum().backward()
    hs, h_T = m.forward(xs, h0)
    dxs, dh0 = m.backward(dhs)
    np.testing.assert_allclose(hs, out.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_T, h_n.detach().numpy()[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(dxs, x_t.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dh0, h0_t.grad.numpy()[0], rtol=0, atol=1e-12)
    grads = {k: getattr(ref, k).grad.numpy() for k in ("weight_ih_l0", "weight_hh_l0")}
    np.testing.assert_allclose(
        np.concatenate([m.grads[f"W_{g}"][:, :H] for g in "rzn"]), grads["weight_hh_l0"],
        rtol=0, atol=1e-12,
    )  # fmt: skip
    np.testing.assert_allclose(
        np.concatenate([m.grads[f"W_{g}"][:, H:] for g in "rzn"]), grads["weight_ih_l0"],
        rtol=0, atol=1e-12,
    )  # fmt: skip
    np.testing.assert_allclose(m.grads["b_hn"], ref.bias_hh_l0.grad.numpy()[2 * H :], atol=1e-12)
