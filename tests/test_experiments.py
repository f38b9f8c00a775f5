"""lstmlib.experiments: tiny sweeps (a few steps, short sequences), so the module runs fast."""

from __future__ import annotations

import hashlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstmlib import experiments as ex  # noqa: E402
from lstmlib.tasks import fluent_language  # noqa: E402
from lstmlib.train import SequenceModel  # noqa: E402

MODELS = {"LSTM": ex.model_factory("lstm", 4), "RNN": ex.model_factory("rnn", 4)}
TINY = dict(steps=3, batch_size=8, n_test=16, patience=None)


@pytest.fixture(scope="module")
def sweep():
    return ex.lag_sweep(MODELS, lags=[0, 3], seeds=[0, 1], **TINY)


# --- models -----------------------------------------------------------------------------------


def test_model_factory_builds_a_seeded_sequence_model():
    f = ex.model_factory("lstm", 5, forget_bias=2.0, peephole=False)
    a, b = f(3, 2, 7), f(3, 2, 7)
    assert isinstance(a, SequenceModel)
    assert a.core.hidden_size == 5 and a.core.input_size == 3 and a.readout.out_features == 2
    assert not a.core.peephole
    np.testing.assert_array_equal(a.core.params["b_f"], np.full(5, 2.0))
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    c = f(3, 2, 8)
    assert not np.array_equal(a.params["core.W_f"], c.params["core.W_f"])


def test_model_factory_rnn():
    m = ex.model_factory("rnn", 6)(4, 3, 0)
    assert m.core.params["W"].shape == (6, 10)
    assert ex.count_params(m) == 6 * 10 + 6 + 3 * 6 + 3


def test_count_params_lstm_peephole():
    D, H, K = 9, 16, 4
    m = ex.model_factory("lstm", H)(D, K, 0)
    assert ex.count_params(m) == 4 * H * (2 * H + D) + 4 * H + K * H + K


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        (("gru", 4), {}, ValueError),
        (("lstm", 0), {}, ValueError),
        (("rnn", 4), {"forget_bias": 1.0}, TypeError),
        (("lstm", 4), {"forget_bias": "high"}, TypeError),
    ],
)
def test_model_factory_rejects_bad_arguments(args, kwargs, error):
    with pytest.raises(error):
        ex.model_factory(*args, **kwargs)


def test_chance_accuracy():
    assert ex.chance_accuracy(4) == 0.25
    with pytest.raises(ValueError):
        ex.chance_accuracy(0)


# --- lag_sweep --------------------------------------------------------------------------------


def test_lag_sweep_has_one_row_per_model_lag_and_seed(sweep):
    assert len(sweep) == 2 * 2 * 2
    assert [(r.model, r.lag, r.seed) for r in sweep] == [
        (m, lag, s) for m in ("LSTM", "RNN") for lag in (0, 3) for s in (0, 1)
    ]
    assert sweep.models == ["LSTM", "RNN"] and sweep.lags == [0, 3] and sweep.seeds == [0, 1]
    for r in sweep:
        assert r.task == "fluent_language"
        assert r.steps == 3 and not r.stopped
        assert r.curve.shape == (3,) and r.loss.shape == (3,)
        assert 0.0 <= r.score <= 1.0
        # scores on 16 test sequences are multiples of 1/16
        assert r.score * 16 == pytest.approx(round(r.score * 16))
    assert sweep.budget["steps"] == 3 and sweep.budget["lr"] == 0.01


def test_lag_sweep_is_repeatable_bit_for_bit(sweep):
    again = ex.lag_sweep(MODELS, lags=[0, 3], seeds=[0, 1], **TINY)
    for a, b in zip(sweep, again, strict=True):
        assert a.score == b.score
        np.testing.assert_array_equal(a.curve, b.curve)
        np.testing.assert_array_equal(a.loss, b.loss)


def test_every_model_sees_the_same_batches_and_test_set(monkeypatch):
    drawn = []  # every batch or test set the sweep draws, as a hash, in order
    original = ex.fluent_language

    def recording(*args, **kwargs):
        task = original(*args, **kwargs)
        drawn.append(hashlib.sha1(task.xs.tobytes()).hexdigest())
        return task

    monkeypatch.setattr(ex, "fluent_language", recording)
    models = {"a": ex.model_factory("rnn", 3), "b": ex.model_factory("lstm", 2)}
    ex.lag_sweep(models, lags=[2], seeds=[0, 1], **TINY)
    # per model (after a one-sentence probe of the sizes): the test set, then 3 steps x 2 seeds
    a, b = drawn[1:8], drawn[8:15]
    assert len(drawn) == 1 + 2 * 7
    assert a == b  # both models read the same test set and the same batches in the same order
    assert a[1:7:2] != a[2:7:2]  # the two seeds read different batches


def test_lag_sweep_stops_early_when_solved():
    s = ex.lag_sweep(
        {"LSTM": ex.model_factory("lstm", 8)},
        lags=[0],
        seeds=[0],
        steps=300,
        batch_size=16,
        lr=0.05,
        patience=3,
        n_test=64,
    )
    (r,) = s
    assert r.stopped and r.steps < 300
    assert np.all(r.curve[-3:] == 1.0)
    assert r.score == 1.0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"models": {}}, TypeError),
        ({"models": [ex.model_factory("rnn", 2)]}, TypeError),
        ({"lags": []}, TypeError),
        ({"lags": 5}, TypeError),
        ({"lags": [-1]}, ValueError),
        ({"lags": [2, 2]}, ValueError),
        ({"seeds": [0.5]}, ValueError),
        ({"steps": 0}, ValueError),
        ({"lr": -1.0}, ValueError),
        ({"clip": 0.0}, ValueError),
        ({"patience": 0}, ValueError),
    ],
)
def test_lag_sweep_rejects_bad_arguments(kwargs, error):
    args = {"models": MODELS, "lags": [1], "seeds": [0], "steps": 1, **kwargs}
    with pytest.raises(error):
        ex.lag_sweep(**args)


# --- adding_runs ------------------------------------------------------------------------------


def test_adding_runs():
    s = ex.adding_runs(MODELS, seeds=[0, 1], steps=2, T=20, batch_size=4, n_test=50)
    assert len(s) == 4 and s.models == ["LSTM", "RNN"] and s.lags == [20]
    for r in s:
        assert r.task == "adding_problem" and r.steps == 2
        assert r.curve.shape == (2,) and r.loss.shape == (2,)
        assert 0.0 <= r.score <= 1.0 and r.score * 50 == pytest.approx(round(r.score * 50))
    again = ex.adding_runs(MODELS, seeds=[0, 1], steps=2, T=20, batch_size=4, n_test=50)
    assert s.column("score").tolist() == again.column("score").tolist()


# --- the table --------------------------------------------------------------------------------


def _run(model, lag, seed, score, steps=10, stopped=False):
    return ex.Run(
        model=model,
        task="fluent_language",
        lag=lag,
        seed=seed,
        score=score,
        steps=steps,
        stopped=stopped,
        curve=np.linspace(0.25, score, steps),
        loss=np.zeros(steps),
    )


@pytest.fixture
def table():
    runs = [
        _run("LSTM", 5, 0, 1.0),
        _run("LSTM", 5, 1, 1.0),
        _run("LSTM", 50, 0, 1.0),
        _run("LSTM", 50, 1, 0.96),
        _run("RNN", 5, 0, 1.0),
        _run("RNN", 5, 1, 0.98),
        _run("RNN", 50, 0, 0.25, steps=20),
        _run("RNN", 50, 1, 0.5, steps=20),
    ]
    return ex.Sweep(runs, {"steps": 20})


def test_sweep_column_select_and_summary(table):
    np.testing.assert_array_equal(table.column("score", model="RNN", lag=50), [0.25, 0.5])
    assert table.column("seed", lag=5).tolist() == [0, 1, 0, 1]
    assert len(table.select(model="LSTM")) == 4
    rows = table.summary(threshold=0.95)
    assert [(r["model"], r["lag"]) for r in rows] == [
        ("LSTM", 5),
        ("LSTM", 50),
        ("RNN", 5),
        ("RNN", 50),
    ]
    rnn50 = rows[3]
    assert rnn50["mean"] == 0.375 and rnn50["min"] == 0.25 and rnn50["max"] == 0.5
    assert rnn50["n"] == 2 and rnn50["steps"] == 20 and rnn50["solved"] == 0.0
    assert rows[2]["solved"] == 1.0


def test_sweep_solved_fraction_and_breaking_lag(table):
    assert table.solved_fraction("LSTM", 50, 0.95) == 1.0
    assert table.solved_fraction("LSTM", 50, 0.99) == 0.5
    assert table.breaking_lag("RNN", 0.95) == 50
    assert table.breaking_lag("LSTM", 0.95) is None
    assert table.breaking_lag("LSTM", 0.99) == 50
    with pytest.raises(ValueError):
        table.solved_fraction("GRU", 5, 0.9)


def test_sweep_table_text(table):
    text = table.table(threshold=0.95)
    lines = text.splitlines()
    assert lines[0].split() == ["model", "lag", "seeds", "mean", "min", "max", "steps", "solved"]
    assert lines[4].split() == ["RNN", "50", "2", "0.38", "0.25", "0.50", "20", "0.00"]


def test_sweep_add_and_errors(table):
    both = table + table.select(model="RNN")
    assert len(both) == 12
    with pytest.raises(ValueError):
        table.select(colour="red")
    with pytest.raises(ValueError):
        table.column("accuracy")
    with pytest.raises(TypeError):
        ex.Sweep([1, 2])
    assert "8 runs" in repr(table)
    assert "score=0.2500" in repr(table[6])


# --- helpers and plots ------------------------------------------------------------------------


def test_running_mean():
    np.testing.assert_allclose(ex.running_mean([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(ex.running_mean([1, 2, 3], 10), [1, 1.5, 2])
    with pytest.raises(ValueError):
        ex.running_mean(np.zeros((2, 2)), 2)


def test_plots_draw_every_model(table):
    fig, (a, b) = plt.subplots(1, 2)
    ex.plot_lag_sweep(a, table, chance=0.25)
    ex.plot_learning_curves(b, table, lag=50, chance=0.25)
    colors = {line.get_color() for line in b.get_lines()}
    assert ex.MODEL_COLORS["LSTM"] in colors and ex.MODEL_COLORS["RNN"] in colors
    assert a.get_xscale() == "log"
    assert [t.get_text() for t in a.get_legend().get_texts()][-1] == "chance (0.25)"
    with pytest.raises(ValueError):
        ex.plot_learning_curves(b, table, lag=7)
    plt.close(fig)


def test_fluent_inputs_match_the_task():
    # the factories are built for fluent_language's vocabulary and classes
    task = fluent_language(2, 3, seed=0)
    m = MODELS["LSTM"](task.input_size, task.n_classes, 0)
    assert m.forward(task.xs).shape == (2, task.n_classes)


def test_runs_keep_the_trained_model_without_its_large_cache(sweep):
    r = sweep.select(model="LSTM", lag=3)[0]
    assert isinstance(r.trained, SequenceModel)
    assert r.trained.core.gates["f"].shape == (1, 1, 4)  # reset by a one-step forward
    task = fluent_language(16, 3, seed=np.random.default_rng([2, 3]))  # the sweep's test set
    acc = np.mean(r.trained.forward(task.xs).argmax(axis=1) == task.targets)
    assert acc == r.score


def test_float32_models_get_float32_data():
    f = ex.model_factory("lstm", 3, dtype=np.float32)
    assert f(2, 2, 0).params["core.W_f"].dtype == np.float32
    s = ex.lag_sweep(
        {"LSTM": f, "RNN": ex.model_factory("rnn", 3, dtype=np.float32)},
        lags=[2],
        seeds=[0],
        **TINY,
    )
    assert len(s) == 2
    a = ex.adding_runs({"LSTM": f}, seeds=[0], steps=2, T=20, batch_size=4, n_test=8)
    assert a[0].trained.params["readout.W"].dtype == np.float32


def test_country_spread_measures_what_is_left_of_the_first_word():
    m = ex.model_factory("rnn", 5)(9, 4, 0)
    s = ex.country_spread(m, 6, n_sentences=3)
    assert s.shape == (8,) and np.all(s >= 0) and s[0] > 0
    np.testing.assert_array_equal(s, ex.country_spread(m, 6, n_sentences=3))
    # no recurrence: the state forgets the country as soon as the next word comes in
    m.core.params["W"][:, :5] = 0.0
    s = ex.country_spread(m, 6, n_sentences=3)
    assert s[0] > 0 and np.all(s[1:] == 0)


def test_country_spread_lstm_uses_the_memory_pipe():
    m = ex.model_factory("lstm", 3, forget_bias=50.0, dtype=np.float32)(9, 4, 0)
    # the forget valve wide open and the new memory valve shut after step 0: c_t = c_0
    m.core.params["W_f"][:] = 0.0
    m.core.params["W_i"][:, :6] = 0.0  # no [c, h] input to the new memory valve
    m.core.params["W_i"][:, 6 + 4 :] = -50.0  # fillers and "fluent" shut it
    m.core.params["W_i"][:, 6 : 6 + 4] = 50.0  # countries open it
    s = ex.country_spread(m, 5, n_sentences=2)
    assert s.dtype == np.float64 and s.shape == (7,)
    np.testing.assert_allclose(s, s[0], rtol=1e-5)
    assert m.core.gates["f"].shape[:2] == (1, 1)  # the cache was reset


def test_country_spread_rejects_other_cores():
    class Core:
        params = {"W": np.zeros((2, 2))}

    class Model:
        core = Core()

    with pytest.raises(TypeError):
        ex.country_spread(Model(), 3)


def test_table_fits_long_model_names():
    s = ex.Sweep([_run("RNN, H = 92", 100, 0, 0.5), _run("LSTM", 100, 0, 1.0)])
    lines = s.table().splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[1].startswith("RNN, H = 92  ")


def test_plot_legend_options(table):
    fig, (a, b) = plt.subplots(1, 2)
    ex.plot_lag_sweep(a, table, legend=False)
    assert a.get_legend() is None
    ex.plot_learning_curves(b, table, lag=5, legend="upper left")
    assert b.get_legend() is not None
    plt.close(fig)


def test_seeds_trained_together_end_as_each_seed_trained_alone():
    # float64, early stopping on: seed by seed, the stacked computation is the same training
    kw = dict(lags=[1], steps=60, batch_size=8, lr=0.05, patience=3, n_test=32)
    models = {"LSTM": ex.model_factory("lstm", 4)}
    together = ex.lag_sweep(models, seeds=[0, 1, 2], **kw)
    assert len(set(together.column("steps"))) > 1, "the seeds should stop at different steps"
    for run in together:
        (alone,) = ex.lag_sweep(models, seeds=[run.seed], **kw)
        assert alone.steps == run.steps and alone.stopped == run.stopped, run
        for k, p in alone.trained.params.items():
            np.testing.assert_allclose(run.trained.params[k], p, rtol=0, atol=1e-12, err_msg=k)


def test_an_rnn_core_takes_its_recurrent_initialisation_from_the_factory():
    model = ex.model_factory("rnn", 5, recurrent_init="orthogonal")(3, 2, 0)
    W_h = model.core.params["W"][:, :5]
    np.testing.assert_allclose(W_h @ W_h.T, np.eye(5), atol=1e-12)
    with pytest.raises(ValueError, match="recurrent_init"):
        ex.model_factory("rnn", 5, recurrent_init="zeros")


def test_memory_kept_is_the_product_of_the_forget_valve_over_the_fillers():
    model = ex.model_factory("lstm", 3, forget_bias=2.0)(9, 4, 0)
    task = ex.fluent_language(5, 6, seed=0)
    kept = ex.memory_kept(model, task)
    model.core.forward(task.xs)
    f = model.core.gates["f"]
    assert kept.shape == (5, 3)
    np.testing.assert_allclose(kept, np.prod(f[1:7], axis=0), rtol=1e-12)
    assert np.all((kept > 0) & (kept < 1))
    with pytest.raises(TypeError, match="model.core: expected an LSTM"):
        ex.memory_kept(ex.model_factory("rnn", 3)(9, 4, 0), task)
