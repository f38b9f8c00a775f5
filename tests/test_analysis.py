"""lstmlib.analysis: Jacobians, gradient flow, forget-valve initialisation, latches."""

from __future__ import annotations

import numpy as np
import pytest

from lstmlib import analysis as A
from lstmlib.layers import LSTM, RNN, Linear
from lstmlib.tasks import fluent_language
from lstmlib.train import SequenceModel, evaluate, softmax_cross_entropy
from lstmlib.unit import combine, forget_valve, lstm_unit


def random_state(rng, H, D, B=None):
    shape = (H,) if B is None else (B, H)
    xshape = (D,) if B is None else (B, D)
    return rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=xshape)


# --- chrono initialisation ----------------------------------------------------------------------


def test_chrono_init_draws_log_uniform_and_sets_input_bias():
    m = LSTM(3, 200, seed=0)
    b_f = A.chrono_init(m, T_max=50, seed=1)
    assert np.array_equal(m.params["b_f"], b_f) and np.array_equal(m.params["b_i"], -b_f)
    assert b_f.min() >= 0.0 and b_f.max() <= np.log(49)
    # log(U(1, 49)): u = exp(b_f) is uniform, so its mean is near 25
    assert abs(np.exp(b_f).mean() - 25) < 2.5
    assert np.array_equal(b_f, A.chrono_init(LSTM(3, 200, seed=5), 50, seed=1))  # seeded
    assert np.all(m.params["b_g"] == 0) and np.all(m.params["b_o"] == 0)


def test_chrono_init_rejects_bad_arguments():
    with pytest.raises(TypeError, match="lstm"):
        A.chrono_init(RNN(2, 3, seed=0), 10)
    with pytest.raises(ValueError, match="T_max"):
        A.chrono_init(LSTM(2, 3, seed=0), 2)


def test_forget_init_model():
    task = fluent_language(4, 6, seed=0)
    m = A.forget_init_model(task, 5, 2.5, seed=3)
    assert np.all(m.core.params["b_f"] == 2.5) and np.all(m.core.params["b_i"] == 0)
    assert m.core.peephole and m.readout.params["W"].shape == (task.n_classes, 5)
    c = A.forget_init_model(task, 5, "chrono", seed=3)
    expected = A.chrono_init(LSTM(task.input_size, 5, seed=0), task.T, seed=3)
    assert np.array_equal(c.core.params["b_f"], expected)
    with pytest.raises(ValueError, match="chrono"):
        A.forget_init_model(task, 5, "chrona", seed=0)


# --- the one-step Jacobian ----------------------------------------------------------------------


@pytest.mark.parametrize("peephole", [True, False])
@pytest.mark.parametrize("B", [None, 4])
def test_step_jacobian_matches_finite_differences(peephole, B):
    rng = np.random.default_rng(0)
    m = LSTM(2, 3, peephole=peephole, seed=1)
    for p in m.params.values():  # larger weights, so that every term matters
        p[...] = rng.normal(size=p.shape)
    c, h, x = random_state(rng, 3, 2, B)
    J = A.step_jacobian(c, h, x, m.params)
    N = A.numeric_step_jacobian(c, h, x, m.params)
    shape = (3, 3) if B is None else (B, 3, 3)
    for k in ("cc", "ch", "hc", "hh"):
        assert J[k].shape == shape
        np.testing.assert_allclose(J[k], N[k], atol=1e-8)


def test_memory_jacobian_terms_sum_to_dc_dc_and_vanish_without_peephole():
    rng = np.random.default_rng(2)
    c, h, x = random_state(rng, 4, 3, B=2)
    m = LSTM(3, 4, seed=0)
    terms = A.memory_jacobian_terms(c, h, x, m.params)
    assert list(terms) == ["direct", "forget", "input", "candidate"]
    np.testing.assert_allclose(sum(terms.values()), A.step_jacobian(c, h, x, m.params)["cc"])
    f = forget_valve(combine(c, h, x), m.params)
    assert np.array_equal(terms["direct"], f[:, :, None] * np.eye(4))

    s = LSTM(3, 4, peephole=False, seed=0)
    terms = A.memory_jacobian_terms(c, h, x, s.params)
    for k in ("forget", "input", "candidate"):
        assert np.all(terms[k] == 0)
    f = forget_valve(combine(c, h, x, peephole=False), s.params)
    assert np.array_equal(A.step_jacobian(c, h, x, s.params)["cc"], f[:, :, None] * np.eye(4))


def test_step_jacobian_worked_example_by_hand():
    zero = np.zeros((1, 3))
    p = {"W_f": zero + [[0.5, 0, 0]], "W_i": zero + [[-1.0, 0, 0]], "W_g": zero + [[0.5, 0, 0]],
         "W_o": zero + [[1.0, 0, 0]], "b_f": np.array([1.5]), "b_i": np.zeros(1),
         "b_g": np.zeros(1), "b_o": np.zeros(1)}  # fmt: skip
    t = A.memory_jacobian_terms(np.ones(1), np.zeros(1), np.zeros(1), p)
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    f, i, G = s(2.0), s(-1.0), np.tanh(0.5)
    assert t["direct"][0, 0] == pytest.approx(f)
    assert t["forget"][0, 0] == pytest.approx(f * (1 - f) * 0.5)
    assert t["input"][0, 0] == pytest.approx(-G * i * (1 - i))
    assert t["candidate"][0, 0] == pytest.approx(i * (1 - G * G) * 0.5)


def test_numeric_step_jacobian_rejects_bad_eps():
    m = LSTM(2, 2, seed=0)
    with pytest.raises(ValueError, match="eps"):
        A.numeric_step_jacobian(np.zeros(2), np.zeros(2), np.zeros(2), m.params, eps=0.0)


# --- gradient flow ------------------------------------------------------------------------------


def _backward_reference(model, task):
    """dL_b/dh_0 (and dL_b/dc_0) from the layers' own backward, for the per-sequence loss."""
    out = model.forward(task.xs)
    _, dout = softmax_cross_entropy(out, task.targets)
    dh_T = model.readout.backward(dout * task.n_sequences)
    dhs = np.zeros((task.T, task.n_sequences, model.core.hidden_size))
    dhs[-1] = dh_T
    return model.core.backward(dhs)[1]


@pytest.mark.parametrize("peephole", [True, False])
def test_gradient_flow_lstm_matches_backward(peephole):
    task = fluent_language(6, 7, seed=0)
    model = SequenceModel(LSTM(task.input_size, 5, peephole=peephole, seed=0), Linear(5, 4, seed=1))
    flow = A.gradient_flow(model, task.xs, task.targets)
    dh0, dc0 = _backward_reference(model, task)
    assert flow.dh.shape == flow.dc.shape == (task.T + 1, 6, 5) and flow.T == task.T
    np.testing.assert_allclose(flow.dh[0], dh0, atol=1e-14)
    np.testing.assert_allclose(flow.dc[0], dc0, atol=1e-14)
    assert np.all(flow.dc[-1] == 0)
    norms = flow.norms("c")
    assert norms.shape == (task.T + 1,) and flow.norms("h")[-1] == 1.0
    assert flow.gain("c", 2, 6) == pytest.approx((norms[2] / norms[6]) ** 0.25)
    with pytest.raises(ValueError, match="start"):
        flow.gain("c", 6, 2)


def test_gradient_flow_lstm_is_the_transposed_jacobian():
    task = fluent_language(3, 4, seed=1)
    model = SequenceModel(LSTM(task.input_size, 3, seed=2), Linear(3, 4, seed=3))
    flow = A.gradient_flow(model, task.xs, task.targets)
    g = model.core.gates
    t = 3  # the step from s_2 to s_3 reads x_3 = xs[2]
    J = A.step_jacobian(g["c"][1], np.tanh(g["c"][1]) * g["o"][1], task.xs[2], model.core.params)
    dc = np.einsum("bjk,bj->bk", J["cc"], flow.dc[t]) + np.einsum("bjk,bj->bk", J["hc"], flow.dh[t])
    dh = np.einsum("bjk,bj->bk", J["ch"], flow.dc[t]) + np.einsum("bjk,bj->bk", J["hh"], flow.dh[t])
    np.testing.assert_allclose(flow.dc[t - 1], dc, atol=1e-14)
    np.testing.assert_allclose(flow.dh[t - 1], dh, atol=1e-14)


def test_gradient_flow_rnn_matches_backward():
    task = fluent_language(5, 6, seed=2)
    model = SequenceModel(RNN(task.input_size, 4, seed=0), Linear(4, 4, seed=1))
    flow = A.gradient_flow(model, task.xs, task.targets)
    assert flow.dc is None
    np.testing.assert_allclose(flow.dh[0], _backward_reference(model, task), atol=1e-14)
    with pytest.raises(ValueError, match="memory pipe"):
        flow.norms("c")


def test_gradient_flow_rejects_bad_arguments():
    task = fluent_language(2, 3, seed=0)
    model = SequenceModel(LSTM(task.input_size, 2, seed=0), Linear(2, 4, seed=1))
    with pytest.raises(TypeError, match="SequenceModel"):
        A.gradient_flow(model.core, task.xs, task.targets)
    with pytest.raises(ValueError, match="loss"):
        A.gradient_flow(model, task.xs, task.targets, loss="hinge")
    with pytest.raises(ValueError, match="which"):
        A.gradient_flow(model, task.xs, task.targets).norms("x")


# --- the hand-set latch -------------------------------------------------------------------------


def test_latch_holds_exactly_for_1000_steps_and_reads_out():
    task = fluent_language(8, 1000, seed=0)
    model = A.latch_model(task)
    out = model.forward(task.xs)
    g = model.core.gates
    c, h = g["c"][:, :, 0], model.core.forward(task.xs)[0][:, :, 0]
    assert np.all(c[1:] == c[0])  # held bit for bit through 1000 fillers and the query
    assert np.all(g["f"][1:] == 1.0) and np.all(g["i"][1:] == 0.0)
    assert np.all(g["o"][:-1] == 0.0) and np.all(g["o"][-1] == 1.0)
    assert np.all(h[:-1] == 0.0) and np.array_equal(h[-1], np.tanh(c[0]))
    levels = np.linspace(-0.8, 0.8, 4)
    np.testing.assert_allclose(c[0], levels[task.targets], atol=1e-15)
    assert evaluate(model, task)["accuracy"] == 1.0 and out.shape == (8, 4)


def test_latch_unit_functions_agree_and_gradient_is_carried_exactly():
    task = fluent_language(3, 50, seed=1)
    model = A.latch_model(task)
    p = model.core.params
    c, h = np.zeros((3, 1)), np.zeros((3, 1))
    for t in range(task.T):
        h, c = lstm_unit(c, h, task.xs[t], p)
        if t == 0:
            written = c.copy()
    assert np.array_equal(c, written)
    flow = A.gradient_flow(model, task.xs, task.targets)
    assert np.all(flow.dc[1 : task.T - 1] == flow.dc[task.T - 1])  # the carousel: dc_t constant


def test_latch_lstm_rejects_bad_arguments():
    with pytest.raises(ValueError, match="write"):
        A.latch_lstm(4, write=[0, 0], read=3, values=[0.1, 0.2])
    with pytest.raises(ValueError, match="read"):
        A.latch_lstm(4, write=[0, 1], read=1, values=[0.1, 0.2])
    with pytest.raises(ValueError, match="values"):
        A.latch_lstm(4, write=[0, 1], read=3, values=[0.1, 1.0])


# --- finding latching units ---------------------------------------------------------------------


def test_latching_units_finds_the_hand_latch_and_not_a_random_unit():
    task = fluent_language(64, 10, seed=3)
    latch = A.latch_model(task)
    latch.forward(task.xs)
    found = A.latching_units(latch.core.gates, task.tokens, i_max=0.01)
    assert found.units.tolist() == [0] and found.country_share[0] == pytest.approx(1.0)
    assert found.f_mean[0] == 1.0 and found.i_mean[0] == 0.0 and found.reinforcing[0] == 0.0
    assert found.sign_held[0] == 1.0 and found.thresholds["i_max"] == 0.01

    model = SequenceModel(LSTM(task.input_size, 6, forget_bias=0.0, seed=0), Linear(6, 4, seed=1))
    model.forward(task.xs)
    none = A.latching_units(model.core.gates, task.tokens)
    assert none.units.size == 0 and np.all(none.f_mean < 0.95)


def test_latching_units_rejects_bad_tokens():
    task = fluent_language(4, 3, seed=0)
    model = A.latch_model(task)
    model.forward(task.xs)
    with pytest.raises(ValueError, match="tokens"):
        A.latching_units(model.core.gates, task.tokens[:, :2])


# --- training and plotting helpers --------------------------------------------------------------


def test_train_fluent_is_seeded_and_silent(capsys):
    task = fluent_language(4, 3, seed=0)
    runs = [A.forget_init_model(task, 3, 1.0, seed=0) for _ in range(2)]
    h0, h1 = (A.train_fluent(m, 3, steps=4, seed=2, batch_size=8) for m in runs)
    assert h0.loss == h1.loss and h0.steps == 4 and capsys.readouterr().out == ""
    assert np.array_equal(runs[0].core.params["W_f"], runs[1].core.params["W_f"])
    with pytest.raises(ValueError, match="seed"):
        A.train_fluent(runs[0], 3, steps=1, seed=-1)


def test_plot_helpers_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    task = fluent_language(8, 4, seed=0)
    model = A.forget_init_model(task, 3, 1.0, seed=0)
    n = A.gradient_flow(model, task.xs, task.targets).norms("c")
    fig, axes = plt.subplots(1, 3)
    A.plot_gradient_flow(axes[0], {"LSTM": n, "RNN group": np.stack([n, n])})
    assert len(axes[0].lines) == 2 + 2 + 2  # curves (1 + 2 faint + median) and two marks
    A.plot_by_country(axes[1], model.core.gates["c"][:, :, 0], task.tokens, task.countries)
    assert len(axes[1].lines) == len(np.unique(task.tokens[0]))
    A.plot_valves_at_step(axes[2], model.core.gates, 2, word="blah")
    assert axes[2].get_title() == "step 2: 'blah'" and len(axes[2].patches) == 9
    with pytest.raises(ValueError, match="t:"):
        A.plot_valves_at_step(axes[2], model.core.gates, 0)
    plt.close(fig)


# --- the network of "Inside a trained unit" and its ablation ------------------------------------


def test_latch_network_is_the_chapters_model():
    task = fluent_language(1, 20, seed=0)
    m = A.latch_network(3)
    ref = A.forget_init_model(task, 8, "chrono", seed=3)
    assert sorted(m.params) == sorted(ref.params)
    assert all(np.array_equal(m.params[k], ref.params[k]) for k in m.params)
    assert m.core.peephole and m.core.hidden_size == A.LATCH_SETTINGS["hidden_size"]
    std = A.latch_network(3, peephole=False)
    assert not std.core.peephole and std.core.params["W_f"].shape == (8, 8 + task.input_size)
    assert np.array_equal(std.core.params["b_f"], ref.core.params["b_f"])  # the same chrono draw
    assert np.array_equal(std.core.params["b_i"], -std.core.params["b_f"])


def test_trained_latch_recipe_keeps_the_first_seed_that_passes(monkeypatch):
    calls = []

    def fake(seed, *, peephole=True):
        calls.append(seed)
        metrics = {"seed": seed, "validation_accuracy": 1.0 if seed == 2 else 0.5}
        return A.latch_network(seed), metrics

    monkeypatch.setattr(A, "trained_latch", fake)
    params, recipe = A.trained_latch_recipe()
    assert calls == [0, 1, 2] and recipe["seed"] == 2 and len(recipe["tried"]) == 3
    assert recipe["settings"] == A.LATCH_SETTINGS and recipe["validation"] == A.LATCH_VALIDATION
    assert np.array_equal(params["core.W_f"], A.latch_network(2).params["core.W_f"])
    with pytest.raises(RuntimeError, match="max_seed"):
        A.trained_latch_recipe(max_seed=2)


def test_ablate_zeroes_the_named_blocks_of_a_copy():
    m = A.latch_network(0)
    H, D = 8, m.core.input_size
    before = {k: v.copy() for k, v in m.params.items()}
    cut = A.ablate(m, {"g": "c", "o": "hx"})
    assert all(np.array_equal(m.params[k], before[k]) for k in before)  # the original untouched
    W_g, W_o = cut.core.params["W_g"], cut.core.params["W_o"]
    assert np.all(W_g[:, :H] == 0) and np.array_equal(W_g[:, H:], before["core.W_g"][:, H:])
    assert np.all(W_o[:, H:] == 0) and np.array_equal(W_o[:, :H], before["core.W_o"][:, :H])
    assert W_o.shape == (H, 2 * H + D)
    for k in ("core.W_f", "core.W_i", "core.b_g", "readout.W"):
        assert np.array_equal(cut.params[k], before[k])
    # the ablated copy runs, and cutting nothing changes nothing
    task = fluent_language(8, 5, seed=1)
    assert np.array_equal(A.ablate(m, {}).forward(task.xs), m.forward(task.xs))
    std = A.ablate(A.latch_network(0, peephole=False), {"g": "h"})
    assert np.all(std.core.params["W_g"][:, :H] == 0)


def test_ablate_rejects_bad_arguments():
    m = A.latch_network(0)
    with pytest.raises(ValueError, match="zero"):
        A.ablate(m, {"q": "c"})
    with pytest.raises(ValueError, match=r"zero\['g'\]"):
        A.ablate(m, {"g": "cz"})
    with pytest.raises(ValueError, match=r"zero\['g'\]"):
        A.ablate(A.latch_network(0, peephole=False), {"g": "c"})  # no peephole columns
    with pytest.raises(TypeError, match="zero"):
        A.ablate(m, [("g", "c")])
    with pytest.raises(TypeError, match="model"):
        A.ablate(m.core, {"g": "c"})


def test_memory_size_is_the_median_of_the_fullest_unit():
    c = np.array([[[1.0, -3.0], [0.5, 0.0], [2.0, 1.0]]])  # T=1, B=3, H=2
    assert np.array_equal(A.memory_size({"c": c}), [2.0])  # median of 3, 0.5, 2
    with pytest.raises(ValueError, match="gates"):
        A.memory_size({"c": c[0]})


def test_latch_findings_and_ablation_study():
    task = fluent_language(16, 6, seed=2)
    hand = A.latch_model(task)  # the hand-made latch: solves the task, one sealed latching unit
    found = A.latch_findings(hand, task)
    assert found["accuracy"] == 1.0 and found["latching"].tolist() == [0]
    assert found["sealed"].tolist() == [0] and found["memory"].shape == (task.T,)
    assert np.all(found["memory"][1:-1] == found["memory"][0])  # the level is held exactly
    assert found["spread_growth"].tolist() == [1.0]  # the countries' levels, held exactly
    study = A.ablation_study(
        hand, task, {"nothing": {}, "no input": {"f": "x", "i": "x", "g": "x"}}
    )
    assert list(study) == ["nothing", "no input"] and study["nothing"]["accuracy"] == 1.0
    assert np.all(study["no input"]["memory"] == 0.0)  # nothing is ever written
    assert np.isnan(study["no input"]["spread_growth"]).all()  # no ratio from nothing
    with pytest.raises(TypeError, match="cuts"):
        A.ablation_study(hand, task, [{}])
    with pytest.raises(TypeError, match="model"):
        A.latch_findings(hand.core, task)


def test_forget_init_model_standard_unit_and_chrono_time_scales():
    task = fluent_language(4, 6, seed=0)
    std = A.forget_init_model(task, 5, 2.5, seed=3, peephole=False)
    assert not std.core.peephole and std.core.params["W_f"].shape == (5, 5 + task.input_size)
    assert np.all(std.core.params["b_f"] == 2.5) and np.all(std.core.params["b_i"] == 0)
    c = A.forget_init_model(task, 200, "chrono", seed=3, peephole=False)
    assert not c.core.peephole and np.array_equal(c.core.params["b_i"], -c.core.params["b_f"])
    f = 1 / (1 + np.exp(-c.core.params["b_f"]))  # sigmoid(log u) = u / (1 + u) = 1 - 1/(1 + u)
    span = 1 / (1 - f)  # the time scale of a leaky memory: 1 + u, in [2, T_max]
    assert np.allclose(span, 1 + np.exp(c.core.params["b_f"]))
    assert 2 <= span.min() and span.max() <= task.T
    assert A.forget_init_model(task, 5, 1.0, seed=3).core.peephole  # the default: the source's
    with pytest.raises(TypeError, match="peephole"):
        A.forget_init_model(task, 5, 1.0, seed=3, peephole="no")
