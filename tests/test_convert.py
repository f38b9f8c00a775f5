"""lstmlib.convert: PyTorch and Keras weight layouts, against a layer written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lstmlib.convert import (
    PARAM_KEYS,
    TORCH_KEYS,
    params_from_keras,
    params_from_torch,
    params_to_keras,
    params_to_torch,
)
from lstmlib.layers import LSTM

FIXTURE = Path(__file__).parent / "fixtures" / "lstm_h2_d1.json"


@pytest.fixture(scope="module")
def hand():
    """The H=2, D=1 layer of tests/fixtures/lstm_h2_d1.json (derivation inside)."""
    data = json.loads(FIXTURE.read_text())

    def arrays(section):
        return {k: np.array(v, dtype=np.float64) for k, v in section.items() if k[0] != "_"}

    return {
        "xs": np.array(data["xs"], dtype=np.float64),
        "torch": arrays(data["torch"]),
        "keras": arrays(data["keras"]),
        "params": arrays(data["lstmlib"]),
        "expected": arrays(data["expected"]),
    }


def random_params(H=3, D=2, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    params = {k: rng.standard_normal((H, H + D)).astype(dtype) for k in PARAM_KEYS[:4]}
    params.update({k: rng.standard_normal(H).astype(dtype) for k in PARAM_KEYS[4:]})
    return params


def assert_params_equal(a, b):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


# --- the hand-written layer -----------------------------------------------------------------


def test_fixture_torch_layout_reads_as_written(hand):
    assert_params_equal(params_from_torch(hand["torch"]), hand["params"])


def test_fixture_keras_layout_reads_as_written(hand):
    k = hand["keras"]
    assert_params_equal(
        params_from_keras(k["kernel"], k["recurrent_kernel"], k["bias"]), hand["params"]
    )


def test_fixture_written_back_to_both_layouts(hand):
    t = params_to_torch(hand["params"])
    np.testing.assert_array_equal(t["weight_ih_l0"], hand["torch"]["weight_ih_l0"])
    np.testing.assert_array_equal(t["weight_hh_l0"], hand["torch"]["weight_hh_l0"])
    # the whole bias goes to bias_ih_l0, bias_hh_l0 is zeros: their sum is unchanged
    np.testing.assert_array_equal(
        t["bias_ih_l0"], hand["torch"]["bias_ih_l0"] + hand["torch"]["bias_hh_l0"]
    )
    np.testing.assert_array_equal(t["bias_hh_l0"], np.zeros(8))
    kernel, recurrent_kernel, bias = params_to_keras(hand["params"])
    np.testing.assert_array_equal(kernel, hand["keras"]["kernel"])
    np.testing.assert_array_equal(recurrent_kernel, hand["keras"]["recurrent_kernel"])
    np.testing.assert_array_equal(bias, hand["keras"]["bias"])


@pytest.mark.parametrize("layout", ["torch", "keras"])
def test_fixture_forward_reproduces_the_hand_computation(hand, layout):
    if layout == "torch":
        m = LSTM.from_torch(hand["torch"])
    else:
        k = hand["keras"]
        m = LSTM.from_keras(k["kernel"], k["recurrent_kernel"], k["bias"])
    assert (m.input_size, m.hidden_size, m.peephole) == (1, 2, False)
    hs, (h_T, c_T) = m.forward(hand["xs"])
    e = hand["expected"]
    np.testing.assert_allclose(hs[0, 0], e["h1"], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(m.gates["c"][0, 0], e["c1"], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(hs[1, 0], e["h2"], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(c_T[0], e["c2"], rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(h_T, hs[-1])


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trips_are_exact(dtype):
    p = random_params(H=3, D=2, dtype=dtype)
    assert_params_equal(params_from_torch(params_to_torch(p)), p)
    assert_params_equal(params_from_keras(*params_to_keras(p)), p)
    t = params_to_torch(p)
    assert {k: v.shape for k, v in t.items()} == {
        "weight_ih_l0": (12, 2),
        "weight_hh_l0": (12, 3),
        "bias_ih_l0": (12,),
        "bias_hh_l0": (12,),
    }
    assert all(v.dtype == dtype for v in t.values())
    kernel, recurrent_kernel, bias = params_to_keras(p)
    assert (kernel.shape, recurrent_kernel.shape, bias.shape) == ((2, 12), (3, 12), (12,))


def test_torch_biases_are_summed():
    t = params_to_torch(random_params())
    t["bias_hh_l0"] = np.arange(12.0)
    p = params_from_torch(t)
    np.testing.assert_array_equal(
        np.concatenate([p["b_i"], p["b_f"], p["b_g"], p["b_o"]]), t["bias_ih_l0"] + np.arange(12.0)
    )


def test_gate_blocks_land_in_the_right_place():
    # each valve's weights marked with its own constant: block order i, f, g, o in both layouts
    H, D = 2, 3
    mark = {"i": 1.0, "f": 2.0, "g": 3.0, "o": 4.0}
    p = {f"W_{g}": np.full((H, H + D), v) for g, v in mark.items()}
    p.update({f"b_{g}": np.full(H, -v) for g, v in mark.items()})
    p = {k: p[k] for k in PARAM_KEYS}
    t = params_to_torch(p)
    kernel, recurrent_kernel, bias = params_to_keras(p)
    for k, g in enumerate("ifgo"):
        rows = slice(k * H, (k + 1) * H)
        assert (t["weight_ih_l0"][rows] == mark[g]).all()
        assert (t["weight_hh_l0"][rows] == mark[g]).all()
        assert (kernel[:, rows] == mark[g]).all()
        assert (recurrent_kernel[:, rows] == mark[g]).all()
        assert (bias[rows] == -mark[g]).all()
    # and the [h, x] columns: h first
    p["W_f"][:, :H] = 7.0
    assert (params_to_torch(p)["weight_hh_l0"][H : 2 * H] == 7.0).all()
    assert (params_to_torch(p)["weight_ih_l0"][H : 2 * H] == 2.0).all()


def test_results_are_copies():
    p = random_params()
    before = {k: v.copy() for k, v in p.items()}
    for t in (params_to_torch(p), dict(zip("abc", params_to_keras(p), strict=True))):
        for v in t.values():
            v[...] = 0.0
    assert_params_equal(p, before)
    t = params_to_torch(p)
    q = params_from_torch(t)
    for v in q.values():
        v[...] = 0.0
    assert t["weight_ih_l0"].any()


def test_layer_round_trip_gives_the_same_outputs():
    m = LSTM(3, 4, peephole=False, seed=0)
    xs = np.random.default_rng(1).standard_normal((5, 2, 3))
    hs, (h_T, c_T) = m.forward(xs)
    for clone in (LSTM.from_torch(m.to_torch()), LSTM.from_keras(*m.to_keras())):
        hs2, (h2, c2) = clone.forward(xs)
        np.testing.assert_allclose(hs2, hs, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(c2, c_T, rtol=1e-14, atol=1e-15)


def test_float32_layer_converts_as_float32():
    m = LSTM(2, 3, peephole=False, seed=0, dtype=np.float32)
    assert all(v.dtype == np.float32 for v in m.to_torch().values())
    assert LSTM.from_torch(m.to_torch()).dtype == np.float32
    assert LSTM.from_keras(*m.to_keras()).dtype == np.float32


def test_keras_without_bias_means_zeros():
    kernel, recurrent_kernel, _ = params_to_keras(random_params())
    p = params_from_keras(kernel, recurrent_kernel)
    assert all((p[f"b_{g}"] == 0).all() for g in "figo")


# --- what cannot be converted ---------------------------------------------------------------


def test_peephole_layer_is_refused_with_a_hint():
    m = LSTM(1, 2, peephole=True, seed=0)
    for convert in (m.to_torch, m.to_keras):
        with pytest.raises(ValueError, match="peephole=False"):
            convert()
    with pytest.raises(ValueError, match="peephole"):
        params_to_torch(m.params, input_size=1)
    with pytest.raises(ValueError, match="peephole"):
        params_to_keras(m.params, input_size=1)


def test_params_input_size_mismatch():
    with pytest.raises(ValueError, match=r"\(3, 5\)"):
        params_to_torch(random_params(H=3, D=2), input_size=3)
    with pytest.raises(TypeError, match="input_size"):
        params_to_torch(random_params(), input_size=2.0)


@pytest.mark.parametrize(
    ("edit", "error", "match"),
    [
        (lambda p: p.pop("b_o"), ValueError, "missing 'b_o'"),
        (lambda p: p.update(W_x=np.zeros((3, 5))), ValueError, "unexpected 'W_x'"),
        (lambda p: p.update(W_g=np.zeros((3, 4))), ValueError, r"params\['W_g'\]"),
        (lambda p: p.update(b_f=np.zeros(4)), ValueError, r"params\['b_f'\]"),
        (lambda p: p.update(W_i=p["W_i"].astype(np.float32)), TypeError, r"params\['W_i'\]"),
        (lambda p: p.update(W_o=np.ones((3, 5), dtype=int)), TypeError, r"params\['W_o'\]"),
        (lambda p: p["W_f"].__setitem__((0, 0), np.nan), ValueError, r"params\['W_f'\].*NaN"),
        (lambda p: p.update({k: p[k][:, :3] for k in PARAM_KEYS[:4]}), ValueError, "D >= 1"),
    ],
)
def test_bad_params(edit, error, match):
    p = random_params(H=3, D=2)
    edit(p)
    with pytest.raises(error, match=match):
        params_to_torch(p)
    with pytest.raises(error, match=match):
        params_to_keras(p)


def test_params_must_be_a_dict():
    with pytest.raises(TypeError, match="params"):
        params_to_torch([1, 2, 3])


@pytest.mark.parametrize(
    ("edit", "error", "match"),
    [
        (lambda s: s.pop("bias_hh_l0"), ValueError, "missing 'bias_hh_l0'"),
        (lambda s: s.update(weight_ih_l1=np.zeros((12, 3))), ValueError, "num_layers=1"),
        (
            lambda s: s.update(weight_hh_l0=np.zeros((12, 4))),
            ValueError,
            r"weight_hh_l0.*\(4H, H\)",
        ),
        (lambda s: s.update(weight_ih_l0=np.zeros((8, 2))), ValueError, r"weight_ih_l0.*\(12, D\)"),
        (lambda s: s.update(weight_ih_l0=np.zeros(12)), ValueError, "weight_ih_l0"),
        (lambda s: s.update(bias_ih_l0=np.zeros(8)), ValueError, r"bias_ih_l0.*\(12,\)"),
        (lambda s: s.update(bias_hh_l0=np.zeros(12, int)), TypeError, "bias_hh_l0"),
        (lambda s: s.update(bias_hh_l0=np.zeros(12, np.float32)), TypeError, "bias_hh_l0"),
        (lambda s: s["weight_hh_l0"].__setitem__((1, 1), np.inf), ValueError, "weight_hh_l0"),
    ],
)
def test_bad_torch_state_dicts(edit, error, match):
    s = params_to_torch(random_params(H=3, D=2))
    edit(s)
    with pytest.raises(error, match=match):
        params_from_torch(s)


def test_torch_state_dict_with_a_module_prefix_gets_a_hint():
    s = {f"lstm.{k}": v for k, v in params_to_torch(random_params()).items()}
    with pytest.raises(ValueError, match="removeprefix"):
        params_from_torch(s)


def test_bad_keras_arrays():
    kernel, recurrent_kernel, bias = params_to_keras(random_params(H=3, D=2))
    with pytest.raises(ValueError, match=r"recurrent_kernel.*\(H, 4H\)"):
        params_from_keras(kernel, recurrent_kernel[:, :8], bias)
    with pytest.raises(ValueError, match=r"kernel.*\(D, 12\)"):
        params_from_keras(kernel[:, :8], recurrent_kernel, bias)
    with pytest.raises(ValueError, match=r"bias.*\(12,\)"):
        params_from_keras(kernel, recurrent_kernel, bias[:8])
    with pytest.raises(TypeError, match="kernel"):
        params_from_keras(kernel.astype(np.float32), recurrent_kernel, bias)
    bias[0] = np.nan
    with pytest.raises(ValueError, match="bias"):
        params_from_keras(kernel, recurrent_kernel, bias)


# --- against PyTorch itself, when it happens to be installed ---------------------------------


def test_against_torch_nn_lstm():
    torch = pytest.importorskip("torch")
    D, H, T, B = 3, 4, 6, 2
    torch.manual_seed(0)
    ref = torch.nn.LSTM(D, H).double()
    xs = np.random.default_rng(0).standard_normal((T, B, D))
    with torch.no_grad():
        hs_ref, (h_ref, c_ref) = ref(torch.from_numpy(xs))
    m = LSTM.from_torch(ref.state_dict())
    hs, (h_T, c_T) = m.forward(xs)
    np.testing.assert_allclose(hs, hs_ref.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c_T, c_ref.numpy()[0], rtol=1e-10, atol=1e-12)
    # and back: lstmlib weights loaded into torch give lstmlib's outputs
    back = torch.nn.LSTM(D, H).double()
    back.load_state_dict({k: torch.from_numpy(v) for k, v in m.to_torch().items()})
    with torch.no_grad():
        hs_back, _ = back(torch.from_numpy(xs))
    np.testing.assert_allclose(hs_back.numpy(), hs, rtol=1e-10, atol=1e-12)
    assert set(ref.state_dict()) == set(TORCH_KEYS)
