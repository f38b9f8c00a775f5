"""lstmlib.compose: Stack and Bidirectional compute what their layers compute, in the right order
and direction, with exact gradients; from_torch/to_torch read and write any nn.LSTM/nn.GRU state
dict; what PyTorch's layout cannot hold is refused clearly."""

import numpy as np
import pytest

from lstmlib import GRU, LSTM, RNN, Bidirectional, Linear, SequenceModel, Stack, from_torch
from tests.gradcheck import numerical_gradient, relative_error
from tests.test_gru import pytorch_gru_by_its_documented_equations

RNG = np.random.default_rng(7)


def _biases(model, rng=RNG):
    """Non-zero biases everywhere, so that no valve sits at a symmetric point."""
    for k, v in model.params.items():
        if k.rsplit(".", 1)[-1].startswith("b"):
            v[...] = rng.uniform(-0.5, 0.5, v.shape)
    return model


def _lstm(D, H, seed):
    return LSTM(D, H, peephole=False, seed=seed)


def gradient_errors(model, xs, state, dstate, loss_of_final) -> dict[str, float]:
    """Relative errors of model.backward against central differences: every parameter, the
    inputs and every array of the initial state. ``loss_of_final(final)`` is the part of the
    loss on the final state, whose gradient is ``dstate``."""
    hs, _ = model.forward(xs, state)
    dhs = RNG.standard_normal(hs.shape)

    def loss():
        hs, final = model.forward(xs, state)
        return np.sum(hs * dhs) + loss_of_final(final)

    loss()
    dxs, d0 = model.backward(dhs, dstate)
    pairs = {k: (model.params[k], model.grads[k].copy()) for k in model.params}
    pairs["xs"] = (xs, dxs)
    for path, (a, g) in _leaves(state, d0):
        pairs[f"state{path}"] = (a, g)
    return {k: relative_error(numerical_gradient(loss, a), g) for k, (a, g) in pairs.items()}


def _leaves(state, grad, path=""):
    """The arrays of a nested state and of its gradient, side by side."""
    if isinstance(state, np.ndarray):
        yield path, (state, grad)
        return
    for k, (s, g) in enumerate(zip(state, grad, strict=True)):
        yield from _leaves(s, g, f"{path}[{k}]")


def _sum_with(final, weights):
    return sum(np.sum(a * w) for (_, (a, w)) in _leaves(final, weights))


def _random_like(state):
    if isinstance(state, np.ndarray):
        return RNG.standard_normal(state.shape)
    return type(state)(_random_like(s) for s in state)


T, B, D, H = 4, 2, 3, 3


def _cases():
    def lstm_state():
        return (RNG.standard_normal((B, H)), RNG.standard_normal((B, H)))

    return {
        "Stack(LSTM, GRU, RNN)": (
            lambda: Stack([_lstm(D, H, 0), GRU(H, 4, seed=1), RNN(4, 2, seed=2)]),
            lambda: [lstm_state(), RNG.standard_normal((B, 4)), RNG.standard_normal((B, 2))],
        ),
        "Bidirectional(GRU, GRU)": (
            lambda: Bidirectional(GRU(D, H, seed=0), GRU(D, H, seed=1)),
            lambda: (RNG.standard_normal((B, H)), RNG.standard_normal((B, H))),
        ),
        "Bidirectional(LSTM, LSTM)": (
            lambda: Bidirectional(_lstm(D, H, 0), _lstm(D, H, 1)),
            lambda: (lstm_state(), lstm_state()),
        ),
        "Stack(Bidirectional(LSTM), Bidirectional(LSTM))": (
            lambda: Stack(
                [
                    Bidirectional(_lstm(D, H, 0), _lstm(D, H, 1)),
                    Bidirectional(_lstm(2 * H, H, 2), _lstm(2 * H, H, 3)),
                ]
            ),
            lambda: [(lstm_state(), lstm_state()), (lstm_state(), lstm_state())],
        ),
    }


CASES = _cases()


@pytest.mark.parametrize("with_dstate", [False, True], ids=["dstate=None", "dstate given"])
@pytest.mark.parametrize("case", list(CASES))
def test_backward_matches_finite_differences_for_every_parameter_input_and_state(case, with_dstate):
    make, make_state = CASES[case]
    model, state = _biases(make()), make_state()
    xs = RNG.standard_normal((T, B, D))
    _, final = model.forward(xs, state)
    weights = _random_like(final) if with_dstate else None
    errors = gradient_errors(
        model, xs, state, weights, (lambda f: _sum_with(f, weights)) if with_dstate else lambda f: 0
    )
    n_state = len(list(_leaves(state, state)))
    assert len(errors) == len(model.params) + 1 + n_state
    bad = {k: f"{e:.2e}" for k, e in errors.items() if not e < 1e-6}
    assert not bad, f"relative error of the gradient above 1e-6: {bad}"


# --- what they compute ------------------------------------------------------------------------


def test_a_stack_feeds_each_layer_the_output_of_the_one_before():
    layers = [_lstm(D, 4, 0), GRU(4, 5, seed=1)]
    model = Stack(layers)
    xs = RNG.standard_normal((T, B, D))
    hs, (s0, s1) = model.forward(xs, [None, None])
    h1, f1 = _lstm(D, 4, 0).forward(xs)
    h2, f2 = GRU(4, 5, seed=1).forward(h1)
    assert np.array_equal(hs, h2) and np.array_equal(s1, f2)
    assert np.array_equal(s0[0], f1[0]) and np.array_equal(s0[1], f1[1])
    assert (model.input_size, model.hidden_size, len(model)) == (D, 5, 2)
    assert model[1] is layers[1]


def test_a_bidirectional_layer_reads_the_reversed_sequence_and_puts_the_outputs_side_by_side():
    fwd, bwd = GRU(D, H, seed=0), GRU(D, H, seed=1)
    model = Bidirectional(fwd, bwd)
    xs = RNG.standard_normal((T, B, D))
    hs, (h_f, h_b) = model.forward(xs)
    assert hs.shape == (T, B, 2 * H) and model.output_size == 2 * H
    expect_f, last_f = GRU(D, H, seed=0).forward(xs)
    expect_b, last_b = GRU(D, H, seed=1).forward(xs[::-1])
    assert np.array_equal(hs[..., :H], expect_f) and np.array_equal(hs[..., H:], expect_b[::-1])
    assert np.array_equal(h_f, last_f) and np.array_equal(h_b, last_b)
    assert np.array_equal(h_b, hs[0, :, H:])  # the reverse direction ends at step 1


def test_a_bidirectional_output_at_step_t_depends_on_later_inputs_a_stack_of_one_way_layers_not():
    xs = RNG.standard_normal((6, 1, D))
    later = xs.copy()
    later[4] += 1.0  # change step 5 only
    both = Bidirectional(GRU(D, H, seed=0), GRU(D, H, seed=1))
    one_way = Stack([GRU(D, H, seed=0), GRU(H, H, seed=1)])
    change_both = np.abs(both.forward(later)[0] - both.forward(xs)[0]).max(axis=(1, 2))
    change_one = np.abs(one_way.forward(later)[0] - one_way.forward(xs)[0]).max(axis=(1, 2))
    assert np.all(change_both[:4] > 0) and np.all(change_one[:4] == 0)
    assert np.all(change_one[4:] > 0)


def test_params_and_grads_are_the_inner_layers_arrays_under_prefixed_keys():
    model = Stack(
        [Bidirectional(_lstm(D, H, 0), _lstm(D, H, 1)), Bidirectional(GRU(2 * H, H, seed=2),
                                                                      GRU(2 * H, H, seed=3))]
    )  # fmt: skip
    assert "0.forward.W_f" in model.params and "1.reverse.b_hn" in model.params
    assert model.params["1.reverse.W_r"] is model[1].backward_layer.params["W_r"]
    hs, _ = model.forward(RNG.standard_normal((T, B, D)))
    model.backward(np.ones_like(hs))
    assert model.grads["0.forward.W_f"] is model[0].forward_layer.grads["W_f"]
    assert model.grads.keys() == model.params.keys()
    n = sum(v.size for v in model.params.values())
    assert n == 2 * 4 * H * (H + D + 1) + 2 * (3 * H * (H + 2 * H) + 4 * H)


def test_a_sequence_model_trains_a_stack():
    from lstmlib import Adam, fit, fluent_language

    task = fluent_language(32, lag=2, seed=0)
    core = Stack([GRU(task.input_size, 8, seed=0), _lstm(8, 8, 1)])
    model = SequenceModel(core, Linear(8, task.n_classes, seed=2))
    history = fit(model, task, optimizer=Adam(model.params, lr=0.05), steps=40, progress=False)
    assert history.loss[-1] < 0.5 * history.loss[0]


# --- PyTorch's state dicts --------------------------------------------------------------------


def _torch_layer(kind, D, H, suffix, dtype=np.float64, rng=RNG):
    g = 4 if kind == "LSTM" else 3
    return {
        f"weight_ih{suffix}": rng.uniform(-0.5, 0.5, (g * H, D)).astype(dtype),
        f"weight_hh{suffix}": rng.uniform(-0.5, 0.5, (g * H, H)).astype(dtype),
        f"bias_ih{suffix}": rng.uniform(-0.5, 0.5, g * H).astype(dtype),
        f"bias_hh{suffix}": rng.uniform(-0.5, 0.5, g * H).astype(dtype),
    }


def torch_state_dict(kind, D, H, num_layers, bidirectional, dtype=np.float64):
    """A random nn.LSTM/nn.GRU state dict, keys in PyTorch's order."""
    sd = {}
    for k in range(num_layers):
        d_in = D if k == 0 else H * (2 if bidirectional else 1)
        sd.update(_torch_layer(kind, d_in, H, f"_l{k}", dtype))
        if bidirectional:
            sd.update(_torch_layer(kind, d_in, H, f"_l{k}_reverse", dtype))
    return sd


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def pytorch_lstm_by_its_documented_equations(sd, xs):
    """One nn.LSTM layer and direction (keys *_l0), from zero state, transcribed independently."""
    W_ii, W_if, W_ig, W_io = np.split(sd["weight_ih_l0"], 4)
    W_hi, W_hf, W_hg, W_ho = np.split(sd["weight_hh_l0"], 4)
    b = sd["bias_ih_l0"] + sd["bias_hh_l0"]
    b_i, b_f, b_g, b_o = np.split(b, 4)
    Hn = W_hi.shape[1]
    h = c = np.zeros((xs.shape[1], Hn))
    hs = []
    for x in xs:
        i = _sigmoid(x @ W_ii.T + h @ W_hi.T + b_i)
        f = _sigmoid(x @ W_if.T + h @ W_hf.T + b_f)
        g = np.tanh(x @ W_ig.T + h @ W_hg.T + b_g)
        o = _sigmoid(x @ W_io.T + h @ W_ho.T + b_o)
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    return np.array(hs)


def pytorch_rnn_module_by_its_documentation(kind, sd, xs, num_layers, bidirectional):
    """nn.LSTM/nn.GRU(num_layers, bidirectional) from zero state: each layer reads the previous
    layer's output; a reverse direction reads the sequence backwards; outputs concatenated."""
    one = pytorch_lstm_by_its_documented_equations if kind == "LSTM" else (
        lambda s, x: pytorch_gru_by_its_documented_equations(
            s, x, np.zeros((x.shape[1], s["weight_hh_l0"].shape[1]))
        )[0]
    )  # fmt: skip
    out = xs
    for k in range(num_layers):
        layer = {n: sd[f"{n}_l{k}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        layer = {f"{n}_l0": v for n, v in layer.items()}
        hs = one(layer, out)
        if bidirectional:
            rev = {f"{n}_l0": sd[f"{n}_l{k}_reverse"] for n in ("weight_ih", "weight_hh",
                                                                 "bias_ih", "bias_hh")}  # fmt: skip
            hs = np.concatenate([hs, one(rev, out[::-1])[::-1]], axis=-1)
        out = hs
    return out


LAYOUTS = [(kind, L, bi) for kind in ("LSTM", "GRU") for L in (1, 2, 3) for bi in (False, True)]


@pytest.mark.parametrize(("kind", "num_layers", "bidirectional"), LAYOUTS)
def test_from_torch_runs_pytorchs_equations_and_to_torch_gives_the_state_dict_back(
    kind, num_layers, bidirectional
):
    sd = torch_state_dict(kind, 3, 4, num_layers, bidirectional)
    model = from_torch(sd)
    inner = LSTM if kind == "LSTM" else GRU
    top = model if num_layers == 1 else model[0]
    assert isinstance(model, Stack) == (num_layers > 1)
    assert isinstance(top, Bidirectional) == bidirectional
    assert isinstance(top.forward_layer if bidirectional else top, inner)
    xs = RNG.standard_normal((5, 2, 3))
    expected = pytorch_rnn_module_by_its_documentation(kind, sd, xs, num_layers, bidirectional)
    np.testing.assert_allclose(model.forward(xs)[0], expected, rtol=0, atol=1e-12)
    back = model.to_torch()
    assert list(back) == list(sd)  # PyTorch's names, in PyTorch's order
    assert all(back[k].shape == sd[k].shape for k in sd)
    np.testing.assert_allclose(  # the same model (the biases' sum kept, bias_hh moved)
        from_torch(back).forward(xs)[0], expected, rtol=0, atol=1e-12
    )
    again = from_torch(back).to_torch()  # lstmlib -> torch -> lstmlib -> torch: exact
    assert all(np.array_equal(again[k], back[k]) for k in back)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_from_torch_keeps_the_dtype(dtype):
    model = from_torch(torch_state_dict("GRU", 2, 3, 2, True, dtype))
    assert model.dtype == dtype and all(v.dtype == dtype for v in model.to_torch().values())


# --- bad input --------------------------------------------------------------------------------


def _without(sd, *keys):
    return {k: v for k, v in sd.items() if k not in keys}


def _after_forward(model):
    model.forward(np.zeros((2, 1, model.input_size)))
    return model


BAD_CALLS = {
    "Stack of nothing": (lambda: Stack([]), TypeError, "layers: expected a non-empty list"),
    "Stack of a layer, not a list": (
        lambda: Stack(GRU(2, 3)),
        TypeError,
        "layers: expected a non-empty list",
    ),
    "Stack of sizes that do not chain": (
        lambda: Stack([GRU(2, 3), GRU(4, 3)]),
        ValueError,
        "layers[1]: expected input_size 3 (the output size of layers[0]",
    ),
    "Stack after a Bidirectional of size H": (
        lambda: Stack([Bidirectional(GRU(2, 3), GRU(2, 3)), GRU(3, 3)]),
        ValueError,
        "layers[1]: expected input_size 6",
    ),
    "Stack with the same layer twice": (
        lambda: (lambda g: Stack([g, g]))(GRU(3, 3)),
        ValueError,
        "layers[1]: the same layer object twice",
    ),
    "Stack with a Linear": (
        lambda: Stack([GRU(2, 3), Linear(3, 2)]),
        TypeError,
        "layers[1]: expected a recurrent layer",
    ),
    "Stack of two dtypes": (
        lambda: Stack([GRU(2, 3), GRU(3, 3, dtype=np.float32)]),
        TypeError,
        "layers[1]: expected dtype float64",
    ),
    "Stack state of the wrong length": (
        lambda: Stack([GRU(2, 3), GRU(3, 3)]).forward(np.zeros((2, 1, 2)), [None]),
        ValueError,
        "state: expected one entry per layer (2), got a list of 1",
    ),
    "Stack xs of the wrong size": (
        lambda: Stack([GRU(2, 3)]).forward(np.zeros((2, 1, 5))),
        ValueError,
        "layers[0]: xs: expected shape (T, B, 2)",
    ),
    "Stack backward first": (
        lambda: Stack([GRU(2, 3)]).backward(np.zeros((2, 1, 3))),
        RuntimeError,
        "backward: call forward first",
    ),
    "Bidirectional of one layer twice": (
        lambda: (lambda g: Bidirectional(g, g))(GRU(2, 3)),
        ValueError,
        "backward_layer: expected a second layer, got forward_layer itself",
    ),
    "Bidirectional of two kinds": (
        lambda: Bidirectional(GRU(2, 3), _lstm(2, 3, 0)),
        TypeError,
        "backward_layer: expected a GRU like forward_layer, got LSTM",
    ),
    "Bidirectional of two sizes": (
        lambda: Bidirectional(GRU(2, 3), GRU(2, 4)),
        ValueError,
        "backward_layer: expected hidden_size 3 (that of forward_layer), got 4",
    ),
    "Bidirectional state not a pair": (
        lambda: Bidirectional(GRU(2, 3), GRU(2, 3)).forward(np.zeros((2, 1, 2)), [None] * 3),
        TypeError,
        "state: expected a pair",
    ),
    "Bidirectional dhs of one direction": (
        lambda: _after_forward(Bidirectional(GRU(2, 3), GRU(2, 3))).backward(np.zeros((2, 1, 3))),
        ValueError,
        "dhs: expected shape (2, 1, 6)",
    ),
    "from_torch of a list": (lambda: from_torch([1]), TypeError, "state_dict: expected a dict"),
    "from_torch with proj_size": (
        lambda: from_torch({**torch_state_dict("LSTM", 2, 3, 1, False), "weight_hr_l0": 0}),
        ValueError,
        "proj_size > 0",
    ),
    "from_torch with bias=False": (
        lambda: from_torch(
            _without(torch_state_dict("GRU", 2, 3, 1, False), "bias_ih_l0", "bias_hh_l0")
        ),  # fmt: skip
        ValueError,
        "bias=False",
    ),
    "from_torch of an nn.RNN": (
        lambda: from_torch(
            {
                "weight_ih_l0": np.zeros((3, 2)),
                "weight_hh_l0": np.zeros((3, 3)),
                "bias_ih_l0": np.zeros(3),
                "bias_hh_l0": np.zeros(3),
            }
        ),  # fmt: skip
        ValueError,
        "it is an nn.RNN's",
    ),
    "from_torch with a layer missing": (
        lambda: from_torch(
            _without(
                torch_state_dict("GRU", 2, 3, 3, False),
                *[f"{n}_l1" for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")],
            )
        ),
        ValueError,
        "missing 'weight_ih_l1'",
    ),  # fmt: skip
    "from_torch with one direction missing in a layer": (
        lambda: from_torch(
            _without(torch_state_dict("LSTM", 2, 3, 2, True), "weight_ih_l1_reverse")
        ),  # fmt: skip
        ValueError,
        "missing 'weight_ih_l1_reverse'",
    ),
    "from_torch mixing LSTM and GRU layers": (
        lambda: from_torch(
            {**_torch_layer("LSTM", 2, 3, "_l0"), **_torch_layer("GRU", 3, 3, "_l1")}
        ),
        ValueError,
        "expected shape (12, 3) like weight_hh_l0",
    ),  # fmt: skip
    "from_torch, layer 1 of the wrong input size": (
        lambda: from_torch(
            {**_torch_layer("GRU", 2, 3, "_l0"), **_torch_layer("GRU", 4, 3, "_l1")}
        ),
        ValueError,
        "weight_ih_l1']: expected 3 columns",
    ),  # fmt: skip
    "from_torch of a model's state dict": (
        lambda: from_torch(
            {f"rnn.{k}": v for k, v in torch_state_dict("GRU", 2, 3, 1, False).items()}
        ),
        ValueError,
        "the keys carry the prefix 'rnn.'",
    ),  # fmt: skip
    "from_torch with a bad shape inside": (
        lambda: from_torch({**torch_state_dict("GRU", 2, 3, 2, False), "bias_ih_l1": np.zeros(4)}),
        ValueError,
        "the keys *_l1: state_dict['bias_ih_l0']: expected shape (9,)",
    ),
    "to_torch of a peephole LSTM": (
        lambda: Stack([LSTM(2, 3, peephole=True)]).to_torch(),
        ValueError,
        "no peephole connections",
    ),
    "to_torch of an RNN": (
        lambda: Stack([RNN(2, 3)]).to_torch(),
        ValueError,
        "to_torch: layers[0] is RNN",
    ),
    "to_torch of LSTM and GRU layers": (
        lambda: Stack([_lstm(2, 3, 0), GRU(3, 3)]).to_torch(),
        ValueError,
        "this Stack mixes",
    ),
    "to_torch of a Stack in a Stack": (
        lambda: Stack([Stack([GRU(2, 3)])]).to_torch(),
        ValueError,
        "a Stack inside a Stack",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_input_gets_a_clear_error(case):
    call, error, message = BAD_CALLS[case]
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value), str(info.value)


# --- against PyTorch itself (skipped where it is not installed) -------------------------------


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_parity_with_a_two_layer_bidirectional_torch_module(kind):
    torch = pytest.importorskip("torch")
    module = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    model = from_torch(module.state_dict())
    xs, dhs = RNG.standard_normal((6, 2, 3)), RNG.standard_normal((6, 2, 8))
    x_t = torch.tensor(xs, requires_grad=True)
    out, _ = module(x_t)
    (out * torch.tensor(dhs)).sum().backward()
    hs, _ = model.forward(xs)
    dxs, _ = model.backward(dhs)
    np.testing.assert_allclose(hs, out.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dxs, x_t.grad.numpy(), rtol=0, atol=1e-12)
    back = model.to_torch()
    ours = {k: back[k] for k in back if k.startswith("weight")}
    for k in ours:  # the weights come back as they were
        np.testing.assert_array_equal(ours[k], module.state_dict()[k].numpy())
