"""lstmlib.variants: five LSTM variants, exact gradients, the stream and the comparison."""

from __future__ import annotations

import numpy as np
import pytest

from lstmlib.layers import LSTM, Linear
from lstmlib.tasks import fluent_language
from lstmlib.train import Adam, SequenceModel, fit
from lstmlib.variants import (
    COLORS,
    SHORT_NAMES,
    VARIANTS,
    LSTMVariant,
    Stream,
    compare_variants,
    continuous_stream,
    evaluate_stream,
    parameter_count,
    pipe_growth,
    plot_by_variant,
    plot_drift,
    plot_loss_curves,
    plot_pipe_growth,
)
from tests.gradcheck import numerical_gradient


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def perturbed(variant, D=2, H=3, seed=1, scale=0.3):
    """A layer whose weights (biases and peepholes included) are all generic, nonzero numbers."""
    m = LSTMVariant(D, H, variant, seed=seed)
    rng = np.random.default_rng(seed + 100)
    for p in m.params.values():
        p += scale * rng.standard_normal(p.shape)
    return m


# --- exact gradients ------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_gradients_match_finite_differences(variant):
    rng = np.random.default_rng(0)
    T, B, D, H = 4, 3, 2, 3
    m = perturbed(variant, D, H)
    xs = rng.standard_normal((T, B, D))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    wh, wc = rng.standard_normal((T, B, H)), rng.standard_normal((B, H))

    def loss():  # a loss on every h_t and on the final memory c_T
        hs, (_, c_T) = m.forward(xs, (h0, c0))
        return np.sum(hs * wh) + np.sum(c_T * wc)

    loss()
    dxs, (dh0, dc0) = m.backward(wh, (None, wc))
    exact = {**{k: g.copy() for k, g in m.grads.items()}, "xs": dxs, "h0": dh0, "c0": dc0}
    arrays = {**m.params, "xs": xs, "h0": h0, "c0": c0}
    assert set(m.grads) == set(m.params)
    for name, arr in arrays.items():
        num = numerical_gradient(loss, arr)
        rel = np.abs(num - exact[name]).max() / max(np.abs(num).max(), 1e-12)
        assert rel < 1e-6, f"{variant}: d loss / d {name}: relative error {rel:.2e}"


def test_gradient_with_dstate_h_only_and_dhs_none():
    rng = np.random.default_rng(3)
    m = perturbed("diagonal_peephole")
    xs = rng.standard_normal((3, 2, 2))
    wh = rng.standard_normal((2, 3))

    def loss():
        _, (h_T, _) = m.forward(xs)
        return np.sum(h_T * wh)

    loss()
    m.backward(None, (wh, None))
    num = numerical_gradient(loss, m.params["p_o"])
    np.testing.assert_allclose(m.grads["p_o"], num, rtol=1e-6, atol=1e-10)


# --- where a variant is a layer the book already has ------------------------------------------


@pytest.mark.parametrize(("variant", "peephole"), [("standard", False), ("full_peephole", True)])
def test_variant_equals_layers_lstm(variant, peephole):
    rng = np.random.default_rng(1)
    ref = LSTM(3, 4, peephole=peephole, seed=7)
    for p in ref.params.values():  # generic weights, then copied into the variant
        p += 0.2 * rng.standard_normal(p.shape)
    m = LSTMVariant(3, 4, variant, seed=0)
    assert set(m.params) == set(ref.params)
    for k, p in ref.params.items():
        m.params[k][...] = p
    xs = rng.standard_normal((6, 5, 3))
    state = (rng.standard_normal((5, 4)), rng.standard_normal((5, 4)))
    hs_ref, (h_ref, c_ref) = ref.forward(xs, state)
    hs, (h_T, c_T) = m.forward(xs, state)
    np.testing.assert_allclose(hs, hs_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_T, c_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_T, h_ref, rtol=0, atol=1e-12)
    for g in "figoc":
        np.testing.assert_allclose(m.gates[g], ref.gates[g], rtol=0, atol=1e-12)
    dhs, dstate = rng.standard_normal((6, 5, 4)), (rng.standard_normal((5, 4)), None)
    dxs_ref, (dh0_ref, dc0_ref) = ref.backward(dhs, dstate)
    dxs, (dh0, dc0) = m.backward(dhs, dstate)
    np.testing.assert_allclose(dxs, dxs_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dh0, dh0_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dc0, dc0_ref, rtol=0, atol=1e-12)
    for k in ref.grads:
        np.testing.assert_allclose(m.grads[k], ref.grads[k], rtol=0, atol=1e-12)


def test_same_seed_same_starting_weights():
    """full_peephole / standard start as LSTM(peephole=True/False); shared weights agree."""
    for variant, peephole in (("full_peephole", True), ("standard", False)):
        ref, m = LSTM(3, 4, peephole=peephole, seed=5), LSTMVariant(3, 4, variant, seed=5)
        for k in ref.params:
            np.testing.assert_array_equal(m.params[k], ref.params[k])
    std = LSTMVariant(3, 4, "standard", seed=5).params
    for variant in ("diagonal_peephole", "no_forget", "coupled"):
        p = LSTMVariant(3, 4, variant, seed=5).params
        for k in set(p) & set(std):
            np.testing.assert_array_equal(p[k], std[k])


# --- each variant's equations, by hand -------------------------------------------------------


def one_step(variant, **weights):
    """One step, H = 1, D = 1, all weights zero except ``weights``; from c0 = 2, h0 = 0, x = 1."""
    m = LSTMVariant(1, 1, variant, seed=0)
    for k, p in m.params.items():
        p[...] = weights.get(k, 0.0)
    hs, (h, c) = m.forward(np.ones((1, 1, 1)), (np.zeros((1, 1)), np.full((1, 1), 2.0)))
    return m, float(h[0, 0]), float(c[0, 0])


BIASES = {"b_f": np.log(3.0), "b_i": 0.0, "b_g": np.arctanh(0.8), "b_o": 0.0}  # f .75, i .5, G .8


def test_no_forget_adds_to_the_old_memory():
    m, h, c = one_step("no_forget", **BIASES)
    assert c == pytest.approx(2.0 + 0.5 * 0.8, abs=1e-15)  # c_t = c_{t-1} + i G
    assert h == pytest.approx(0.5 * np.tanh(2.4), abs=1e-15)
    assert "W_f" not in m.params and "b_f" not in m.params
    np.testing.assert_array_equal(m.gates["f"], 1.0)
    # over many steps the memory is c0 + sum_t i_t G_t: nothing is ever taken away
    rng = np.random.default_rng(0)
    m = perturbed("no_forget", D=2, H=3)
    xs = rng.standard_normal((30, 4, 2))
    c0 = rng.standard_normal((4, 3))
    m.forward(xs, (None, c0))
    iG = m.gates["i"] * m.gates["g"]
    np.testing.assert_allclose(m.gates["c"], c0 + np.cumsum(iG, axis=0), rtol=0, atol=1e-12)


def test_standard_and_coupled_by_hand():
    _, h, c = one_step("standard", **BIASES)
    assert c == pytest.approx(0.75 * 2 + 0.5 * 0.8, abs=1e-15)
    assert h == pytest.approx(0.5 * np.tanh(1.9), abs=1e-15)
    m, h, c = one_step("coupled", **BIASES)
    assert c == pytest.approx(0.75 * 2 + 0.25 * 0.8, abs=1e-15)  # i = 1 - f = 0.25
    assert "W_i" not in m.params and "b_i" not in m.params


def test_coupled_input_is_one_minus_forget_and_memory_stays_bounded():
    rng = np.random.default_rng(2)
    m = perturbed("coupled", D=2, H=4, scale=2.0)
    xs = 3 * rng.standard_normal((200, 5, 2))
    m.forward(xs)
    np.testing.assert_array_equal(m.gates["i"], 1 - m.gates["f"])
    c = m.gates["c"]
    assert np.all(np.abs(c) <= 1)  # a convex mix of c_{t-1} and G (|G| <= 1), from c_0 = 0


def test_diagonal_peepholes_by_hand():
    """f and i peek at c_{t-1}, the output valve at the new c_t, one weight per unit."""
    peep = {"p_f": 0.5, "p_i": 0.5, "p_o": 0.5}
    m, h, c = one_step("diagonal_peephole", **BIASES, **peep)
    f, i = sigmoid(np.log(3.0) + 0.5 * 2), sigmoid(0.5 * 2)
    assert c == pytest.approx(f * 2 + i * 0.8, abs=1e-15)
    o = sigmoid(0.5 * c)  # c_t, not c_{t-1}
    assert h == pytest.approx(o * np.tanh(c), abs=1e-15)
    assert float(m.gates["o"][0, 0, 0]) == pytest.approx(o, abs=1e-15)
    # the full-matrix form with H = 1 has the same f and i, but o sees c_{t-1}
    W = np.array([[0.5, 0.0, 0.0]])  # columns c, h, x
    m2, h2, c2 = one_step("full_peephole", **BIASES, W_f=W, W_i=W, W_o=W)
    assert c2 == pytest.approx(c, abs=1e-15)
    assert float(m2.gates["o"][0, 0, 0]) == pytest.approx(sigmoid(0.5 * 2), abs=1e-15)


def test_parameter_counts():
    D, H = 9, 8
    expected = {
        "full_peephole": 4 * H * (2 * H + D + 1),
        "standard": 4 * H * (H + D + 1),
        "diagonal_peephole": 4 * H * (H + D + 1) + 3 * H,
        "no_forget": 3 * H * (H + D + 1),
        "coupled": 3 * H * (H + D + 1),
    }
    for v in VARIANTS:
        m = LSTMVariant(D, H, v, seed=0)
        assert m.n_params == parameter_count(v, D, H) == expected[v]
        assert set(m.grads) == set(m.params)
        for k in m.params:
            assert m.grads[k].shape == m.params[k].shape


def test_float32_and_gates_shapes():
    for v in VARIANTS:
        m = LSTMVariant(3, 2, v, seed=0, dtype=np.float32)
        hs, (h, c) = m.forward(np.ones((5, 4, 3), np.float32))
        assert hs.dtype == c.dtype == np.float32 and hs.shape == (5, 4, 2)
        assert set(m.gates) == {"f", "i", "g", "o", "c"}
        for g in m.gates.values():
            assert g.shape == (5, 4, 2) and not g.flags.writeable
        dxs, _ = m.backward(np.ones((5, 4, 2), np.float32))
        assert dxs.dtype == np.float32


# --- determinism and training -----------------------------------------------------------------


def test_determinism_by_seed():
    xs = np.random.default_rng(0).standard_normal((4, 2, 3))
    for v in VARIANTS:
        a, b = LSTMVariant(3, 4, v, seed=11), LSTMVariant(3, 4, v, seed=11)
        c = LSTMVariant(3, 4, v, seed=12)
        for k in a.params:
            np.testing.assert_array_equal(a.params[k], b.params[k])
        assert any(not np.array_equal(a.params[k], c.params[k]) for k in a.params)
        np.testing.assert_array_equal(a.forward(xs)[0], b.forward(xs)[0])


def test_trains_with_sequence_model_and_fit():
    task = fluent_language(32, lag=3, seed=0)
    for v in ("coupled", "no_forget"):
        model = SequenceModel(LSTMVariant(task.input_size, 6, v, seed=0), Linear(6, 4, seed=1))
        hist = fit(model, task, optimizer=Adam(model.params, lr=0.05), steps=40, progress=False)
        assert hist.loss[-1] < 0.5 * hist.loss[0]


def test_compare_variants_is_deterministic_and_shaped():
    train = [fluent_language(8, lag=2, seed=s) for s in range(3)]
    test = fluent_language(16, lag=2, seed=9)
    kw = {"variants": ["standard", "coupled"], "seeds": [0, 1], "hidden_size": 3, "steps": 5}
    a, b = compare_variants(train, test, **kw), compare_variants(train, test, **kw)
    assert a.loss.shape == (2, 2, 5) and a.test_accuracy.shape == (2, 2)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.test_loss, b.test_loss)
    assert set(a.summary()) == {"standard", "coupled"} and len(a.models["coupled"]) == 2


# --- the stream -------------------------------------------------------------------------------


def test_continuous_stream_strings_sentences_together():
    st = continuous_stream(5, lag=3, n_streams=2, seed=4)
    task = fluent_language(10, lag=3, seed=4)
    assert isinstance(st, Stream) and st.xs.shape == (25, 2, task.input_size) and st.T == 25
    np.testing.assert_array_equal(st.query_steps, [4, 9, 14, 19, 24])
    for s in range(5):
        for b in range(2):
            np.testing.assert_array_equal(st.xs[5 * s : 5 * s + 5, b], task.xs[:, 2 * s + b])
            assert st.targets[s, b] == task.targets[2 * s + b]
    fluent = task.vocab.index("fluent")
    assert np.all(st.xs[st.query_steps, :, fluent] == 1)
    xs, y = st.as_batch()
    assert xs is st.xs and np.array_equal(y, st.targets[-1]) and st.n_classes == 4


def test_evaluate_stream_and_no_forget_drift():
    st = continuous_stream(30, lag=4, n_streams=3, seed=0)
    out = {}
    for v in ("no_forget", "coupled"):
        core = LSTMVariant(st.xs.shape[2], 4, v, seed=0)
        core.params["b_g"][...] = 1.0  # every step writes the same sign into the memory
        model = SequenceModel(core, Linear(4, 4, seed=1))
        out[v] = evaluate_stream(model, st)
        assert out[v]["accuracy"].shape == (30,) and out[v]["c_max"].shape == (st.T,)
        assert out[v]["f_max"].shape == (st.T,)
    assert out["no_forget"]["c_max"][-1] > 20 * out["no_forget"]["c_max"][5]  # drifts
    assert np.all(out["coupled"]["c_max"] <= 1)  # bounded
    assert np.all(out["no_forget"]["f_max"] == 1) and np.all(out["coupled"]["f_max"] < 1)
    # with c_0 = 0 and |i G| < 1, |c_t| < 1 / (1 - max f) whenever the forget valve is below 1
    assert out["coupled"]["c_max"].max() < 1 / (1 - out["coupled"]["f_max"].max())


# --- bad arguments ----------------------------------------------------------------------------


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"variant: .*'full_peephole'.*'coupled'.*got 'gru'"):
        LSTMVariant(3, 4, "gru")
    with pytest.raises(TypeError, match="variant"):
        LSTMVariant(3, 4, None)
    with pytest.raises(ValueError, match="hidden_size"):
        LSTMVariant(3, 0, "standard")
    with pytest.raises(TypeError, match="forget_bias"):
        LSTMVariant(3, 4, "standard", forget_bias="1")
    with pytest.raises(TypeError, match="dtype"):
        LSTMVariant(3, 4, "standard", dtype=np.int32)
    with pytest.raises(ValueError, match="seed"):
        LSTMVariant(3, 4, "standard", seed=-1)
    with pytest.raises(ValueError, match="variant"):
        parameter_count("peephole", 3, 4)
    m = LSTMVariant(3, 4, "coupled", seed=0)
    with pytest.raises(RuntimeError, match="backward"):
        m.backward(np.zeros((2, 1, 4)))
    with pytest.raises(ValueError, match=r"xs: expected shape \(T, B, 3\)"):
        m.forward(np.zeros((2, 1, 5)))
    with pytest.raises(TypeError, match="xs"):
        m.forward(np.zeros((2, 1, 3), np.float32))
    with pytest.raises(ValueError, match=r"state\[1\] \(c0\)"):
        m.forward(np.zeros((2, 1, 3)), (None, np.zeros((2, 4))))
    m.forward(np.zeros((2, 1, 3)))
    with pytest.raises(ValueError, match="dhs"):
        m.backward(np.zeros((3, 1, 4)))
    del m.params["W_f"]
    with pytest.raises(ValueError, match="params"):
        m.forward(np.zeros((2, 1, 3)))
    with pytest.raises(ValueError, match="n_sentences"):
        continuous_stream(0, 3)
    with pytest.raises(TypeError, match="stream"):
        evaluate_stream(None, fluent_language(2, 1, seed=0))
    test = fluent_language(4, lag=1, seed=0)
    with pytest.raises(ValueError, match="variant"):
        compare_variants(test, test, variants=["lstm"], steps=1)
    with pytest.raises(TypeError, match="variants"):
        compare_variants(test, test, variants="standard", steps=1)
    with pytest.raises(TypeError, match="seeds"):
        compare_variants(test, test, seeds=[], steps=1)
    with pytest.raises(TypeError, match="test"):
        compare_variants(test, (test.xs, test.targets), steps=1)


# --- the chapter's figures --------------------------------------------------------------------


def test_pipe_growth_levels_off_or_grows():
    c = pipe_growth(0.9, write=0.4, steps=500)
    assert c[0] == 0 and c.shape == (501,)
    assert np.all(np.diff(c) >= 0) and c[-1] == pytest.approx(4.0) and np.all(c < 4.0 + 1e-12)
    np.testing.assert_allclose(pipe_growth(1.0, write=0.4, steps=10), 0.4 * np.arange(11))
    # the same as running the memory pipe c_t = f c_{t-1} + write
    c, run = pipe_growth(0.8, write=0.3, steps=20), [0.0]
    for _ in range(20):
        run.append(0.8 * run[-1] + 0.3)
    np.testing.assert_allclose(c, run, rtol=1e-12)
    with pytest.raises(ValueError, match="f: expected"):
        pipe_growth(1.5)
    with pytest.raises(ValueError, match="steps"):
        pipe_growth(0.5, steps=0)


def test_plot_helpers_draw_what_they_say():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4)
    values = np.array([[0.2, 0.4, 0.3], [1.0, 1.0, 0.9]])
    variants = ["standard", "coupled"]
    plot_by_variant(axes[0], values, variants, ylabel="accuracy", title="t")
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["standard", "coupled"]
    assert len(axes[0].collections) >= 2 and axes[0].get_ylabel() == "accuracy"
    train = [fluent_language(8, lag=2, seed=s) for s in range(2)]
    comp = compare_variants(train, train[0], variants=variants, seeds=[0, 1], hidden_size=2,
                            steps=12)  # fmt: skip
    plot_loss_curves(axes[1], comp, window=3)
    labels = [line.get_label() for line in axes[1].get_lines() if not line.get_label()[0] == "_"]
    assert labels == [SHORT_NAMES[v] for v in variants] and axes[1].get_yscale() == "log"
    assert len(axes[1].get_lines()) == 2 * 2 + 2  # a thin line per seed, a median per variant
    plot_drift(axes[2], np.ones((2, 3, 7)), variants)
    assert axes[2].get_yscale() == "log" and len(axes[2].get_lines()) == 2 * 3 + 2
    plot_pipe_growth(axes[3], 1.0)
    assert "no forget valve" in axes[3].get_title() and axes[3].get_ylim() == (0, 85)
    plt.close(fig)
    with pytest.raises(ValueError, match="values: expected one row per variant"):
        plot_by_variant(axes[0], np.ones((3, 2)), variants)
    with pytest.raises(ValueError, match="c_max"):
        plot_drift(axes[2], np.ones((2, 3)), variants)
    with pytest.raises(ValueError, match="window"):
        plot_loss_curves(axes[1], comp, window=50)
    assert set(COLORS) == set(SHORT_NAMES) == set(VARIANTS)


# --- found by an independent tester -------------------------------------------------------------


@pytest.mark.parametrize("how", ["in place", "rebound"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_backward_uses_the_weights_forward_used(variant, how):
    """An optimizer may change params between forward and backward (in place, or by binding new
    arrays): backward must still differentiate what forward computed, with forward's weights
    (the diagonal peepholes p_f, p_i, p_o included)."""
    rng = np.random.default_rng(5)
    m, ref = perturbed(variant), perturbed(variant)  # the same weights
    xs = rng.standard_normal((4, 3, 2))
    state = (rng.standard_normal((3, 3)), rng.standard_normal((3, 3)))
    dhs, dstate = rng.standard_normal((4, 3, 3)), (None, rng.standard_normal((3, 3)))
    m.forward(xs, state)
    ref.forward(xs, state)
    for k, p in m.params.items():  # every weight moves, as after an optimizer step
        if how == "in place":
            p += 0.5 * rng.standard_normal(p.shape)
        else:
            m.params[k] = p + 0.5 * rng.standard_normal(p.shape)
    dxs, (dh0, dc0) = m.backward(dhs, dstate)
    dxs_ref, (dh0_ref, dc0_ref) = ref.backward(dhs, dstate)
    for name, got, want in [("dxs", dxs, dxs_ref), ("dh0", dh0, dh0_ref), ("dc0", dc0, dc0_ref)]:
        assert np.array_equal(got, want), f"{variant}, params {how}: {name} used the new weights"
    for k in ref.grads:
        assert np.array_equal(m.grads[k], ref.grads[k]), (
            f"{variant}, params {how}: grads[{k!r}] used the new weights, not forward's"
        )


# --- chapter 11's Experiment 2 and its stored runs (appended with the recipes) -----------------


def test_stream_experiment_data():
    from lstmlib.variants import long_stream, stream_pieces, stream_test_pieces

    xs, y = stream_pieces(3)
    want = continuous_stream(3, lag=5, n_streams=32, seed=20_003)
    assert xs.shape == (21, 32, want.xs.shape[2]) and y.shape == (32,)
    np.testing.assert_array_equal(xs, want.xs)
    np.testing.assert_array_equal(y, want.targets[-1])
    assert stream_test_pieces().xs.shape[:2] == (21, 256) and long_stream().T == 700
    for bad in (-1, 1.5, True, "0"):
        with pytest.raises(TypeError, match="step"):
            stream_pieces(bad)


def test_stream_run_is_compare_variants_run(monkeypatch):
    from lstmlib import variants

    short = dict(variants.STREAM_SETTINGS, steps=3)
    monkeypatch.setattr(variants, "STREAM_SETTINGS", short)
    model = variants.stream_run("coupled", 2)
    test = variants.stream_test_pieces()
    ref = compare_variants(variants.stream_pieces, test, variants=["coupled"], seeds=[2], **short)
    ref = ref.models["coupled"][0]
    assert sorted(model.params) == sorted(ref.params)
    for k in ref.params:
        np.testing.assert_array_equal(model.params[k], ref.params[k])
    fresh = variants.stream_network("coupled")
    assert {k: v.shape for k, v in fresh.params.items()} == {
        k: v.shape for k, v in model.params.items()
    }


def _writing_network(variant):
    """Experiment 2's sizes, every weight 0 but b_g = 1 and b_i = b_o = 3: each unit writes
    sigma(3) tanh(1) ~ 0.73 into its memory at every step."""
    from lstmlib.variants import stream_network

    model = stream_network(variant)
    for k, p in model.params.items():
        p[...] = {"core.b_g": 1.0, "core.b_i": 3.0, "core.b_o": 3.0}.get(k, 0.0)
    return model


def test_stream_findings_of_drifting_and_bounded_memories():
    from lstmlib.variants import stream_findings

    nf = stream_findings(_writing_network("no_forget"))  # c_t = 0.73 t: drifts
    assert nf["c_max_700"] == pytest.approx(700 * sigmoid(3.0) * np.tanh(1.0))
    assert nf["c_max_700"] == pytest.approx(2 * nf["c_max_350"])
    assert nf["flat_fraction"] == 1.0 and nf["big_memories"] == 32 * 8
    assert nf["big_forget_min"] == 1.0 and nf["big_peek_min"] is None
    keys = "pieces_accuracy stream_accuracy c_max_350 c_max_700 flat_fraction big_memories"
    assert set(nf) == set(keys.split()) | {"big_forget_min", "big_peek_min"}
    full = _writing_network("full_peephole")  # the memory holds its own forget valve open
    H = full.core.hidden_size
    full.params["core.W_f"][:, :H] = 10 * np.eye(H)
    found = stream_findings(full)
    assert found["c_max_700"] > 400 and found["big_forget_min"] == 1.0
    assert found["big_peek_min"] == pytest.approx(10 * (found["c_max_700"] - 0.73), rel=1e-2)
    bounded = stream_findings(_writing_network("coupled"))  # f = 1/2, i = 1/2: c -> tanh(1)
    assert bounded["c_max_700"] <= 1 and bounded["big_memories"] == 0
    assert bounded["big_forget_min"] is None and bounded["flat_fraction"] == 0.0


def test_drifting_peephole_recipe_needs_a_drifting_seed(monkeypatch):
    from lstmlib import variants

    monkeypatch.setattr(variants, "DRIFT_SEEDS", ())
    with pytest.raises(RuntimeError, match="drifted"):
        variants.drifting_peephole_recipe()
