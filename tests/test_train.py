"""lstmlib.train: losses, optimizers, clipping, SequenceModel and fit."""

from __future__ import annotations

import numpy as np
import pytest

from lstmlib.layers import LSTM, RNN, Linear
from lstmlib.tasks import adding_problem, fluent_language
from lstmlib.train import (
    SGD,
    Adam,
    History,
    SequenceModel,
    clip_grad_norm,
    evaluate,
    fit,
    mean_squared_error,
    softmax_cross_entropy,
)
from tests.gradcheck import numerical_gradient

# --- losses ---------------------------------------------------------------------------------


def test_softmax_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((5, 4))
    targets = np.array([0, 3, 1, 1, 2])
    loss, dlogits = softmax_cross_entropy(logits, targets)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(5), targets])), rel=1e-14)
    num = numerical_gradient(lambda: softmax_cross_entropy(logits, targets)[0], logits)
    np.testing.assert_allclose(dlogits, num, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-16)
    assert isinstance(loss, float) and dlogits.shape == (5, 4)


def test_softmax_cross_entropy_is_stable():
    logits = np.array([[1000.0, 0.0, -1000.0], [-1e4, 1e4, 0.0]])
    loss, dlogits = softmax_cross_entropy(logits, np.array([0, 1]))
    assert loss == 0.0 and np.isfinite(dlogits).all()
    loss, dlogits = softmax_cross_entropy(logits, np.array([2, 0]))
    assert loss == pytest.approx((2000.0 + 2e4) / 2)
    np.testing.assert_allclose(dlogits, [[0.5, 0, -0.5], [-0.5, 0.5, 0]])
    # uniform logits: log K
    assert softmax_cross_entropy(np.zeros((3, 8)), np.zeros(3, int))[0] == pytest.approx(np.log(8))
    # float32 in, float32 out
    assert softmax_cross_entropy(np.zeros((2, 3), np.float32), np.array([0, 1]))[1].dtype == (
        np.float32
    )


def test_mean_squared_error_value_and_gradient():
    rng = np.random.default_rng(1)
    pred, target = rng.standard_normal((6, 1)), rng.standard_normal((6, 1))
    loss, dpred = mean_squared_error(pred, target)
    assert loss == pytest.approx(np.mean((pred - target) ** 2), rel=1e-14)
    num = numerical_gradient(lambda: mean_squared_error(pred, target)[0], pred)
    np.testing.assert_allclose(dpred, num, rtol=1e-6, atol=1e-10)
    assert mean_squared_error(pred.astype(np.float32), target)[1].dtype == np.float32


@pytest.mark.parametrize(
    ("logits", "targets", "error", "match"),
    [
        (np.zeros((2, 3)), np.array([0.0, 1.0]), TypeError, "targets"),
        (np.zeros((2, 3)), np.array([0, 3]), ValueError, r"\[0, 3\)"),
        (np.zeros((2, 3)), np.array([-1, 0]), ValueError, "targets"),
        (np.zeros((2, 3)), np.array([0, 1, 2]), ValueError, "targets"),
        (np.zeros(3), np.array([0]), ValueError, "logits"),
        (np.full((2, 3), np.nan), np.array([0, 1]), ValueError, "logits"),
        (np.zeros((2, 3), int), np.array([0, 1]), TypeError, "logits"),
    ],
)
def test_softmax_cross_entropy_bad_arguments(logits, targets, error, match):
    with pytest.raises(error, match=match):
        softmax_cross_entropy(logits, targets)


def test_mean_squared_error_bad_arguments():
    with pytest.raises(ValueError, match="target"):
        mean_squared_error(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(TypeError, match="pred"):
        mean_squared_error(np.zeros((3, 1), int), np.zeros((3, 1)))
    with pytest.raises(TypeError, match="target"):
        mean_squared_error(np.zeros((3, 1)), np.zeros((3, 1), object))


# --- optimizers -----------------------------------------------------------------------------

CURVATURE = np.array([1.0, 3.0, 0.5])
OPTIMUM = np.array([1.0, -2.0, 0.5])


def quadratic_grads(params):
    """Gradient of 0.5 * sum(CURVATURE * (w - OPTIMUM)**2) + 0.5 * b**2."""
    return {"w": CURVATURE * (params["w"] - OPTIMUM), "b": params["b"].copy()}


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0.3),
        lambda p: SGD(p, lr=0.1, momentum=0.9),
        lambda p: Adam(p, lr=0.05),
    ],
)
def test_optimizers_converge_in_place(make):
    w, b = np.zeros(3), np.array([[2.0, -1.0]])
    params = {"w": w, "b": b}
    opt = make(params)
    for _ in range(500):
        opt.step(quadratic_grads(params))
    assert params["w"] is w and params["b"] is b  # the same arrays, updated in place
    np.testing.assert_allclose(w, OPTIMUM, atol=1e-4)
    np.testing.assert_allclose(b, 0.0, atol=1e-4)
    assert opt.t == 500


def test_sgd_momentum_by_hand():
    # v <- mu v + g, p <- p - lr v with p0 = 1, lr = 0.1, mu = 0.5, grads 1, 2, -1:
    # v1 = 1     p1 = 1    - 0.1   = 0.9
    # v2 = 2.5   p2 = 0.9  - 0.25  = 0.65
    # v3 = 0.25  p3 = 0.65 - 0.025 = 0.625
    p = {"w": np.array([1.0])}
    opt = SGD(p, lr=0.1, momentum=0.5)
    for g, expected in ((1.0, 0.9), (2.0, 0.65), (-1.0, 0.625)):
        opt.step({"w": np.array([g])})
        assert p["w"][0] == pytest.approx(expected, rel=1e-15)
    plain = {"w": np.array([1.0])}
    SGD(plain, lr=0.1).step({"w": np.array([2.0])})
    assert plain["w"][0] == pytest.approx(0.8, rel=1e-15)


def test_adam_by_hand():
    # step 1: m = 0.1 g, v = 0.001 g^2, bias-corrected m/(1-0.9) = g, v/(1-0.999) = g^2, so the
    # first step is lr * g / (|g| + eps): lr times the sign of g, whatever the size of g.
    p = {"w": np.array([1.0, 1.0])}
    opt = Adam(p, lr=0.1)
    opt.step({"w": np.array([0.5, -1e-3])})
    np.testing.assert_allclose(
        p["w"], [1 - 0.1 * 0.5 / (0.5 + 1e-8), 1 + 0.1 * 1e-3 / (1e-3 + 1e-8)]
    )
    # step 2 with g = 1, 1: m = 0.9 * 0.1 g1 + 0.1 g2, v = 0.999 * 0.001 g1^2 + 0.001 g2^2
    g1, g2 = np.array([0.5, -1e-3]), np.array([1.0, 1.0])
    m = 0.9 * 0.1 * g1 + 0.1 * g2
    v = 0.999 * 0.001 * g1**2 + 0.001 * g2**2
    expected = p["w"] - 0.1 * (m / (1 - 0.9**2)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-8)
    opt.step({"w": g2})
    np.testing.assert_allclose(p["w"], expected, rtol=1e-12)


def test_optimizers_keep_float32():
    p = {"w": np.ones(3, np.float32)}
    for opt in (SGD(p, lr=0.1, momentum=0.9), Adam(p, lr=0.1)):
        opt.step({"w": np.ones(3, np.float32)})
        assert p["w"].dtype == np.float32


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda p: SGD(p, lr=0.0), ValueError, "lr"),
        (lambda p: SGD(p, lr=-1), ValueError, "lr"),
        (lambda p: SGD(p, lr="1"), TypeError, "lr"),
        (lambda p: SGD(p, lr=0.1, momentum=1.0), ValueError, "momentum"),
        (lambda p: Adam(p, betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
        (lambda p: Adam(p, betas=0.9), TypeError, "betas"),
        (lambda p: Adam(p, eps=0), ValueError, "eps"),
        (lambda p: Adam([p["w"]]), TypeError, "params"),
        (lambda p: Adam({}), ValueError, "params"),
        (lambda p: Adam({"w": np.ones(2, int)}), TypeError, r"params\['w'\]"),
    ],
)
def test_optimizer_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make({"w": np.ones(2)})


def test_optimizer_refuses_read_only_params():
    w = np.ones(2)
    w.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        SGD({"w": w}, lr=0.1)


@pytest.mark.parametrize(
    ("grads", "error", "match"),
    [
        ({}, ValueError, "missing"),
        ({"w": np.ones(2), "x": np.ones(2)}, ValueError, "unexpected"),
        ({"w": np.ones(3)}, ValueError, r"grads\['w'\]"),
        ({"w": np.ones(2, np.float32)}, ValueError, r"grads\['w'\]"),
        ([np.ones(2)], TypeError, "grads"),
    ],
)
def test_optimizer_step_bad_grads(grads, error, match):
    opt = Adam({"w": np.ones(2)})
    with pytest.raises(error, match=match):
        opt.step(grads)


# --- clip_grad_norm -------------------------------------------------------------------------


def test_clip_grad_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    a = grads["a"]
    assert clip_grad_norm(grads, 10.0) == 5.0
    np.testing.assert_array_equal(a, [3.0, 0.0])  # below the limit: untouched
    assert clip_grad_norm(grads, 1.0) == 5.0  # returns the norm before clipping
    assert grads["a"] is a  # in place
    np.testing.assert_allclose(a, [0.6, 0.0], rtol=1e-15)
    np.testing.assert_allclose(grads["b"], [[0.8]], rtol=1e-15)
    assert clip_grad_norm(grads, 1.0) == pytest.approx(1.0)


def test_clip_grad_norm_bad_arguments():
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm({"a": np.ones(2)}, 0.0)
    with pytest.raises(ValueError, match="'b'"):
        clip_grad_norm({"a": np.ones(2), "b": np.array([np.nan])}, 1.0)
    with pytest.raises(TypeError, match="grads"):
        clip_grad_norm([np.ones(2)], 1.0)


# --- SequenceModel --------------------------------------------------------------------------


def make_model(core="lstm", D=3, H=4, K=2, seed=0, dtype=np.float64):
    if core == "lstm":
        layer = LSTM(D, H, seed=seed, dtype=dtype)
    elif core == "lstm_standard":
        layer = LSTM(D, H, peephole=False, seed=seed, dtype=dtype)
    else:
        layer = RNN(D, H, seed=seed, dtype=dtype)
    return SequenceModel(layer, Linear(H, K, seed=seed + 1, dtype=dtype))


def test_sequence_model_params_are_the_layers_arrays():
    m = make_model()
    assert set(m.params) == {f"core.{k}" for k in m.core.params} | {"readout.W", "readout.b"}
    for k, v in m.core.params.items():
        assert m.params[f"core.{k}"] is v
    assert m.params["readout.W"] is m.readout.params["W"]
    assert set(m.grads) == set(m.params)
    assert "SequenceModel(LSTM(" in repr(m)


@pytest.mark.parametrize("core", ["lstm", "lstm_standard", "rnn"])
def test_sequence_model_gradients_by_finite_differences(core):
    m = make_model(core)
    rng = np.random.default_rng(2)
    xs = rng.standard_normal((4, 2, 3))
    R = rng.standard_normal((2, 2))  # loss = sum(R * out), so dout = R
    out = m.forward(xs)
    assert out.shape == (2, 2)
    dxs = m.backward(R)
    assert dxs.shape == xs.shape
    grads = {k: v.copy() for k, v in m.grads.items()}

    def loss():
        return float(np.sum(R * m.forward(xs)))

    for k, p in m.params.items():
        for idx in list(np.ndindex(p.shape))[:: max(1, p.size // 5)]:
            old = p[idx]
            p[idx] = old + 1e-6
            up = loss()
            p[idx] = old - 1e-6
            down = loss()
            p[idx] = old
            assert grads[k][idx] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-9), (k, idx)
    np.testing.assert_allclose(dxs, numerical_gradient(loss, xs), rtol=1e-5, atol=1e-9)


def test_sequence_model_bad_use():
    m = make_model()
    with pytest.raises(RuntimeError, match="forward"):
        m.backward(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="core"):
        SequenceModel(object(), Linear(2, 2))


# --- fit ------------------------------------------------------------------------------------


def fluent_run(progress=False, steps=12, **kwargs):
    m = make_model("lstm", D=7, H=8, K=3, seed=0)
    opt = Adam(m.params, lr=0.05)
    history = fit(
        m,
        lambda step: fluent_language(16, lag=2, n_countries=3, n_fillers=3, seed=step),
        optimizer=opt,
        steps=steps,
        clip=1.0,
        progress=progress,
        **kwargs,
    )
    return m, history


def test_fit_is_repeatable():
    m1, h1 = fluent_run()
    m2, h2 = fluent_run()
    assert h1.loss == h2.loss and h1.accuracy == h2.accuracy and h1.grad_norm == h2.grad_norm
    for k in m1.params:
        np.testing.assert_array_equal(m1.params[k], m2.params[k])
    assert h1.steps == 12 and len(h1.accuracy) == 12 and len(h1.grad_norm) == 12


def test_fit_progress_prints_the_same_text(capsys):
    fluent_run(progress=True, steps=12)
    first = capsys.readouterr()
    fluent_run(progress=True, steps=12)
    second = capsys.readouterr()
    assert first.out == second.out and first.err == second.err == ""
    last = first.out.split("\r")[-1]
    assert last.startswith("fit: 100%|====================| 12/12, loss=")
    assert ", acc=" in last and last.endswith("\n")
    for timing in ("it/s", "s/it", "<", "?", "00:"):
        assert timing not in first.out
    # one line on start, one per 12 // 20 -> 1 step, one on close
    assert first.out.count("\r") == 1 + 12 + 1
    fluent_run(progress=4, steps=12)
    assert capsys.readouterr().out.count("\r") == 1 + 3 + 1
    fluent_run(progress=False)
    assert capsys.readouterr().out == ""


def test_fit_learns_fluent_language():
    test = fluent_language(200, lag=2, n_countries=4, seed=10_000)
    m = SequenceModel(LSTM(test.input_size, 12, seed=0), Linear(12, test.n_classes, seed=1))
    history = fit(
        m,
        lambda step: fluent_language(32, lag=2, n_countries=4, seed=step),
        optimizer=Adam(m.params, lr=0.05),
        steps=150,
        clip=1.0,
        progress=False,
        eval_fn=lambda model: evaluate(model, test),
        eval_every=10,
        stop_when=lambda h: (
            h.evals and h.eval_steps[-1] == h.steps and h.evals[-1]["accuracy"] == 1
        ),
    )
    assert evaluate(m, test)["accuracy"] == 1.0
    assert history.steps < 150 and history.stopped_early


def test_fit_with_an_rnn_and_mse():
    data = adding_problem(32, T=20, seed=0)
    m = SequenceModel(RNN(2, 8, seed=0), Linear(8, 1, seed=1))
    history = fit(m, data, optimizer=Adam(m.params, lr=0.01), steps=40, loss="mse", progress=False)
    assert history.accuracy == [] and history.loss[-1] < 0.5 * history.loss[0]
    assert evaluate(m, data, loss="mse")["loss"] < history.loss[0]


def test_fit_float32():
    d = fluent_language(8, lag=1, seed=0, dtype=np.float32)
    m = SequenceModel(
        LSTM(d.input_size, 4, seed=0, dtype=np.float32), Linear(4, 4, seed=0, dtype=np.float32)
    )
    fit(m, d, optimizer=SGD(m.params, lr=0.1, momentum=0.9), steps=3, progress=False)
    assert all(p.dtype == np.float32 for p in m.params.values())


class Recorder:
    """A stand-in model that records the batches it sees."""

    def __init__(self):
        self.params = {"w": np.zeros(2)}
        self.grads = {"w": np.ones(2)}
        self.seen = []

    def forward(self, xs):
        self.seen.append(xs)
        return np.zeros((2, 3))

    def backward(self, dout):
        return None


def batch(tag):
    """A batch whose xs is a one-element array holding ``tag``, so the test sees which it was."""
    return (np.array([tag]), np.array([0, 1]))


def run(data, steps=4, **kwargs):
    model = Recorder()
    history = fit(
        model, data, optimizer=SGD(model.params, lr=0.1), steps=steps, progress=False, **kwargs
    )
    return [xs[0] for xs in model.seen], history


def test_fit_data_forms():
    assert run(batch("a"))[0] == ["a"] * 4
    assert run([batch("a"), batch("b"), batch("c")])[0] == ["a", "b", "c", "a"]
    assert run(iter([batch(k) for k in "wxyz"]))[0] == ["w", "x", "y", "z"]
    assert run(lambda step: batch(step))[0] == [0, 1, 2, 3]
    task = fluent_language(2, 1, n_countries=3, seed=0)
    model = Recorder()
    fit(model, task, optimizer=SGD(model.params, lr=0.1), steps=2, progress=False)
    assert model.seen[0] is task.xs
    with pytest.raises(ValueError, match="ran out"):
        run(iter([batch("a")]))
    with pytest.raises(TypeError, match="data"):
        run(42)
    with pytest.raises(TypeError, match=r"data\(0\)"):
        run(lambda step: "nope")


def test_fit_eval_schedule_and_stop():
    _, h = run(lambda s: batch(s), steps=10, eval_fn=lambda m: 0.5, eval_every=4)
    assert h.eval_steps == [4, 8, 10] and h.evals == [0.5, 0.5, 0.5]
    _, h = run(lambda s: batch(s), steps=10, eval_fn=lambda m: {"x": 1.0})
    assert h.eval_steps == [10]
    _, h = run(lambda s: batch(s), steps=10, stop_when=lambda h: h.steps == 3)
    assert h.steps == 3 and h.stopped_early and "stopped early" in repr(h)
    assert repr(History()) == "History(steps=0)"


def test_fit_stops_on_a_non_finite_loss():
    with pytest.raises(FloatingPointError, match="step 1"):
        run(batch("a"), loss=lambda out, t: (float("nan"), out))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(steps=0), ValueError, "steps"),
        (dict(steps=2.0), TypeError, "steps"),
        (dict(loss="hinge"), ValueError, "loss"),
        (dict(loss=3), TypeError, "loss"),
        (dict(clip=-1.0), ValueError, "clip"),
        (dict(progress=0), ValueError, "progress"),
        (dict(eval_fn=1), TypeError, "eval_fn"),
        (dict(eval_fn=lambda m: 0, eval_every=0), ValueError, "eval_every"),
        (dict(stop_when="yes"), TypeError, "stop_when"),
        (dict(optimizer="adam"), TypeError, "optimizer"),
    ],
)
def test_fit_bad_arguments(kwargs, error, match):
    model = Recorder()
    args = dict(optimizer=SGD(model.params, lr=0.1), steps=2, progress=False) | kwargs
    with pytest.raises(error, match=match):
        fit(model, batch("a"), **args)
    with pytest.raises(TypeError, match="model"):
        fit(object(), batch("a"), optimizer=SGD(model.params, lr=0.1), steps=1)


# --- found by an independent tester -------------------------------------------------------------


@pytest.mark.parametrize("bad", ["read-only", "nan", "inf", "int"])
def test_clip_grad_norm_checks_every_array_before_scaling_any(bad):
    # "a" comes first and would be scaled (the norm is far above max_norm) if clip_grad_norm
    # wrote before it had checked "b"
    a = np.array([30.0, 40.0])
    b = {
        "read-only": np.array([1.0, 2.0]),
        "nan": np.array([1.0, np.nan]),
        "inf": np.array([1.0, np.inf]),
        "int": np.array([1, 2]),
    }[bad]
    if bad == "read-only":
        b.flags.writeable = False
    before_a, before_b = a.copy(), b.copy()
    error = TypeError if bad == "int" else ValueError
    match = {"read-only": "'b'.*read-only", "nan": "'b'", "inf": "'b'", "int": "'b'"}[bad]
    with pytest.raises(error, match=match):
        clip_grad_norm({"a": a, "b": b}, 1.0)
    assert np.array_equal(a, before_a), f"a was changed before the error on b ({bad}): {a}"
    assert np.array_equal(b, before_b, equal_nan=bad == "nan"), f"b was changed: {b}"


def test_clip_grad_norm_refuses_a_read_only_array_even_below_the_limit():
    # the error must not depend on whether this batch happened to need clipping
    g = np.array([0.1, 0.2])
    g.flags.writeable = False
    with pytest.raises(ValueError, match=r"grads\['g'\]: expected a writeable array"):
        clip_grad_norm({"g": g}, 10.0)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_mean_squared_error_refuses_a_non_finite_target(value):
    pred = np.zeros((3, 1))
    target = np.array([[0.5], [value], [1.0]])
    with pytest.raises(ValueError, match=r"target: expected finite numbers.*index \(1, 0\)"):
        mean_squared_error(pred, target)


def test_mean_squared_error_refuses_a_target_beyond_float32_for_a_float32_pred():
    # finite in float64, inf once cast to pred's dtype: the loss would be inf
    pred = np.zeros(2, np.float32)
    with pytest.raises(ValueError, match="target: .*beyond the range of float32"):
        mean_squared_error(pred, np.array([0.0, 1e39]))
    # integer targets (cast to pred's dtype) are still fine
    loss, _ = mean_squared_error(pred, np.array([1, 3]))
    assert loss == 5.0
