"""lstmlib.naive: the five stages of chapter 13 compute the same layer, the first one matches finite
differences, every stage keeps lstmlib.LSTM's contract, and the measuring helpers count right."""

import numpy as np
import pytest

from lstmlib import LSTM
from lstmlib.naive import (
    STAGES,
    FusedGatesLSTM,
    HoistedInputLSTM,
    InPlaceLSTM,
    NaiveLSTM,
    matmul_flops,
    matmul_rate,
    max_differences,
    plot_stage_bars,
    time_layer,
    time_stages,
)
from tests.gradcheck import numerical_gradient, relative_error

RNG = np.random.default_rng(13)
STAGED = STAGES[:-1]  # the four stages written in lstmlib.naive (the fifth is lstmlib.LSTM)


def _problem(T=5, B=3, D=4, H=6, seed=0):
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((T, B, D))
    dhs = rng.standard_normal((T, B, H))
    state = (rng.standard_normal((B, H)), rng.standard_normal((B, H)))
    dstate = (rng.standard_normal((B, H)), rng.standard_normal((B, H)))
    return xs, dhs, state, dstate


def _layer(cls, D=4, H=6, peephole=True, seed=0, dtype=np.float64):
    m = cls(D, H, peephole=peephole, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 1)
    for k in ("b_i", "b_g", "b_o"):  # non-zero biases: no valve at a symmetric point
        m.params[k][...] = rng.uniform(-0.5, 0.5, H)
    return m


# --- every stage equals the one before it ----------------------------------------------------


@pytest.mark.parametrize("with_state", [False, True], ids=["zero state", "state and dstate"])
@pytest.mark.parametrize("peephole", [True, False], ids=["peephole", "standard"])
@pytest.mark.parametrize("k", range(1, len(STAGES)), ids=[c.__name__ for c in STAGES[1:]])
def test_each_stage_equals_the_previous_one(k, peephole, with_state):
    xs, dhs, state, dstate = _problem()
    before, after = _layer(STAGES[k - 1], peephole=peephole), _layer(STAGES[k], peephole=peephole)
    kw = {"state": state, "dstate": dstate} if with_state else {}
    forward, gradients = max_differences(before, after, xs, dhs, **kw)
    assert forward < 1e-12, f"forward differs by {forward:.1e}"
    assert gradients < 1e-10, f"gradients differ by {gradients:.1e}"


@pytest.mark.parametrize("cls", STAGED)
def test_a_stage_runs_a_long_sequence_in_float32_like_the_layer(cls):
    xs, dhs, _, _ = _problem(T=200, B=2, D=3, H=5)
    a = _layer(cls, D=3, H=5, dtype=np.float32)
    b = _layer(LSTM, D=3, H=5, dtype=np.float32)
    forward, gradients = max_differences(a, b, xs.astype(np.float32), dhs.astype(np.float32))
    scale = np.abs(b.forward(xs.astype(np.float32))[1][1]).max()  # the memory grows to ~175
    assert forward < 1e-6 * scale and gradients < 1e-4
    assert all(g.dtype == np.float32 for g in a.grads.values())


# --- stage 1 against finite differences ------------------------------------------------------


@pytest.mark.parametrize("peephole", [True, False], ids=["peephole", "standard"])
def test_the_naive_backward_matches_finite_differences(peephole):
    T, B, D, H = 4, 2, 3, 3
    m = _layer(NaiveLSTM, D=D, H=H, peephole=peephole)
    xs, dhs, (h0, c0), (dh_T, dc_T) = _problem(T, B, D, H, seed=4)

    def loss():
        hs, (h_T, c_T) = m.forward(xs, (h0, c0))
        return np.sum(hs * dhs) + np.sum(h_T * dh_T) + np.sum(c_T * dc_T)

    loss()
    dxs, (dh0, dc0) = m.backward(dhs, (dh_T, dc_T))
    pairs = {"xs": (xs, dxs), "h0": (h0, dh0), "c0": (c0, dc0)}
    pairs.update({k: (m.params[k], m.grads[k].copy()) for k in m.params})
    errors = {k: relative_error(numerical_gradient(loss, a), g) for k, (a, g) in pairs.items()}
    bad = {k: f"{e:.1e}" for k, e in errors.items() if not e < 1e-6}
    assert not bad, f"relative error of the gradient above 1e-6: {bad}"


# --- the contract of lstmlib.LSTM ------------------------------------------------------------


@pytest.mark.parametrize("peephole", [True, False])
@pytest.mark.parametrize("cls", STAGED)
def test_same_seed_same_weights_as_the_layer_bit_for_bit(cls, peephole):
    for dtype in (np.float64, np.float32):
        a = cls(3, 4, peephole=peephole, forget_bias=2.0, seed=7, dtype=dtype)
        b = LSTM(3, 4, peephole=peephole, forget_bias=2.0, seed=7, dtype=dtype)
        assert list(a.params) == list(b.params)
        for k in a.params:
            assert a.params[k].dtype == dtype
            np.testing.assert_array_equal(a.params[k], b.params[k])


@pytest.mark.parametrize("cls", STAGED)
def test_shapes_dtypes_and_grads_follow_the_contract(cls):
    T, B, D, H = 3, 2, 4, 5
    m = cls(D, H, peephole=False, seed=0, dtype=np.float32)
    xs = RNG.standard_normal((T, B, D)).astype(np.float32)
    hs, (h_T, c_T) = m.forward(xs)
    assert hs.shape == (T, B, H) and h_T.shape == c_T.shape == (B, H)
    assert hs.dtype == h_T.dtype == c_T.dtype == np.float32
    np.testing.assert_array_equal(hs[-1], h_T)
    dxs, (dh0, dc0) = m.backward(np.ones_like(hs))
    assert dxs.shape == xs.shape and dh0.shape == dc0.shape == (B, H)
    assert dxs.dtype == dh0.dtype == dc0.dtype == np.float32
    assert {k: v.shape for k, v in m.grads.items()} == {k: v.shape for k, v in m.params.items()}
    assert repr(m) == f"{cls.__name__}(input_size=4, hidden_size=5, peephole=False, dtype=float32)"


@pytest.mark.parametrize("cls", STAGED)
def test_params_are_read_afresh_and_inputs_copied(cls):
    xs = RNG.standard_normal((3, 2, 4))
    m = cls(4, 5, seed=0)
    hs, _ = m.forward(xs)
    m.params["b_o"][...] += 1.0
    assert not np.allclose(m.forward(xs)[0], hs)
    m.params = LSTM(4, 5, seed=0).params  # a whole params dict of the same layout is fine
    np.testing.assert_allclose(m.forward(xs)[0], hs, rtol=0, atol=1e-15)
    g_before = m.backward(np.ones_like(hs))[0]
    m.forward(xs)
    xs_changed = xs.copy()
    m.forward(xs_changed)
    xs_changed[...] = 0  # the layer kept its own copy
    np.testing.assert_allclose(m.backward(np.ones_like(hs))[0], g_before, rtol=0, atol=1e-15)


@pytest.mark.parametrize("cls", STAGED)
def test_none_means_zeros(cls):
    xs, dhs, _, _ = _problem()
    m = _layer(cls)
    H, B = 6, xs.shape[1]
    zeros = (np.zeros((B, H)), np.zeros((B, H)))
    hs = m.forward(xs, (None, None))[0]
    np.testing.assert_array_equal(hs, m.forward(xs, zeros)[0])
    a = m.backward(dhs)[0]
    np.testing.assert_array_equal(a, m.backward(dhs, zeros)[0])
    np.testing.assert_array_equal(m.backward(None)[0], np.zeros_like(xs))


BAD_CALLS = {
    "backward before forward": (
        lambda m: m.backward(np.zeros((2, 1, 3))),
        RuntimeError,
        r"^backward: call forward first",
    ),
    "xs of the wrong input size": (
        lambda m: m.forward(np.zeros((2, 1, 5))),
        ValueError,
        r"^xs: expected shape \(T, B, 2\) with D=2",
    ),
    "xs float32 into a float64 layer": (
        lambda m: m.forward(np.zeros((2, 1, 2), np.float32)),
        TypeError,
        r"^xs: expected dtype float64",
    ),
    "xs with NaN": (
        lambda m: m.forward(np.full((2, 1, 2), np.nan)),
        ValueError,
        r"^xs: expected finite numbers",
    ),
    "c0 of the wrong shape": (
        lambda m: m.forward(np.zeros((2, 1, 2)), (np.zeros((1, 3)), np.zeros((3, 1)))),
        ValueError,
        r"^state\[1\] \(c0\): expected shape \(1, 3\)",
    ),
    "state not a pair": (
        lambda m: m.forward(np.zeros((2, 1, 2)), np.zeros((1, 3))),
        TypeError,
        r"^state: expected a pair \(h0, c0\)",
    ),
    "dhs of the wrong shape": (
        lambda m: (m.forward(np.zeros((2, 1, 2))), m.backward(np.zeros((2, 1, 4)))),
        ValueError,
        r"^dhs: expected shape \(2, 1, 3\)",
    ),
    "a param of the wrong shape": (
        lambda m: (m.params.update(W_f=np.zeros((3, 3))), m.forward(np.zeros((2, 1, 2)))),
        ValueError,
        r"^params\['W_f'\]: expected shape \(3, 8\)",
    ),
    "hidden_size zero": (lambda m: type(m)(2, 0), ValueError, r"^hidden_size: expected a positive"),
    "dtype float16": (
        lambda m: type(m)(2, 3, dtype=np.float16),
        TypeError,
        r"^dtype: expected np.float32 or np.float64",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
@pytest.mark.parametrize("cls", STAGED)
def test_bad_input_gets_a_clear_error_from_lstmlib(cls, case):
    call, error, match = BAD_CALLS[case]
    with pytest.raises(error, match=match) as info:
        call(cls(2, 3, seed=0))
    assert info.traceback[-1].path.parent.name == "lstmlib", "raised outside lstmlib's checks"


# --- the stages and the measuring helpers ----------------------------------------------------


def test_the_stages_are_numbered_in_order():
    assert STAGES == (NaiveLSTM, FusedGatesLSTM, HoistedInputLSTM, InPlaceLSTM, LSTM)
    assert [c.stage for c in STAGED] == [1, 2, 3, 4]
    assert all(c.__doc__.startswith(f"Stage {c.stage}: ") for c in STAGED)


def test_matmul_flops_counts_two_flops_per_multiply_add():
    # standard: per step (B, H + D) @ (H + D, 4H), 2 flops each; backward twice that
    assert matmul_flops(100, 1, 32, 32, peephole=False) == 2 * 100 * 1 * 4 * 32 * (32 + 32)
    assert matmul_flops(10, 2, 3, 4, peephole=True) == 2 * 10 * 2 * 16 * (3 + 8)
    assert matmul_flops(10, 2, 3, 4, backward=True) == 3 * matmul_flops(10, 2, 3, 4)
    with pytest.raises(ValueError, match="^T: expected a positive int"):
        matmul_flops(0, 1, 1, 1)


def test_time_layer_returns_one_positive_time_per_repeat():
    m = LSTM(2, 3, seed=0)
    times = time_layer(m, np.zeros((4, 1, 2)), backward=True, repeats=3, warmup=0)
    assert times.shape == (3,) and np.all(times > 0)
    with pytest.raises(ValueError, match="^warmup"):
        time_layer(m, np.zeros((4, 1, 2)), warmup=-1)


def test_max_differences_of_a_layer_with_itself_is_zero():
    xs, dhs, _, _ = _problem()
    m = _layer(LSTM)
    assert max_differences(m, m, xs, dhs) == (0.0, 0.0)


def test_time_stages_gives_one_best_time_per_shape_and_stage():
    times = time_stages([(3, 1, 2, 2), (2, 2, 3, 4)], repeats=2)
    assert times.shape == (2, len(STAGES)) and np.all(times > 0) and np.all(np.isfinite(times))
    with pytest.raises(ValueError, match="^B: expected a positive int"):
        time_stages([(3, 0, 2, 2)])


def test_matmul_rate_is_a_positive_rate():
    assert matmul_rate(8, 16, 32, repeats=2) > 0
    with pytest.raises(ValueError, match="^k: expected a positive int"):
        matmul_rate(8, 0, 32)


def test_plot_stage_bars_draws_a_bar_per_shape_and_stage():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    shapes = [(10, 1, 2, 3), (5, 2, 3, 4)]
    plot_stage_bars(ax, shapes, np.ones((2, 5)), ylabel="speed-up", reference=1.0)
    assert len(ax.patches) == 10 and len(ax.get_legend_handles_labels()[1]) == 5
    with pytest.raises(ValueError, match="^values: expected 2 rows"):
        plot_stage_bars(ax, shapes, np.ones((3, 5)), ylabel="x")
    plt.close(fig)
