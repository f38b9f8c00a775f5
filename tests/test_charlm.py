"""lstmlib.charlm: the character model's gradients are exact, its batches are stateful streams,
its scores are log-probabilities of the text, and its stored weights reproduce their metrics."""

from pathlib import Path

import numpy as np
import pytest

from lstmlib import charlm, store
from lstmlib.charlm import CharLM, log2_probs, sample, stream_chunks, train_char_lm
from lstmlib.text import load_corpus
from tests.gradcheck import numerical_gradient, relative_error

DATA = Path(__file__).resolve().parent.parent / "book" / "data"


@pytest.mark.parametrize("kind", ["lstm", "rnn"])
def test_gradients_match_finite_differences(kind):
    rng = np.random.default_rng(0)
    model = CharLM(7, 5, kind=kind, seed=3, dtype=np.float64)
    ids = rng.integers(7, size=(6, 2))
    weights = rng.normal(size=(6, 2, 7))  # loss = sum(weights * logits)
    state = None if kind == "rnn" else (rng.normal(size=(2, 5)), rng.normal(size=(2, 5)))

    def loss():
        return float((weights * model.forward(ids, state)[0]).sum())

    loss()
    model.backward(weights)
    for k, p in model.params.items():
        err = relative_error(model.grads[k], numerical_gradient(loss, p))
        assert err < 1e-6, f"{k}: relative error {err:.1e}"


def test_stream_chunks_continue_each_stream_from_one_chunk_to_the_next():
    ids = np.arange(1000)
    inputs, targets = stream_chunks(ids, B=4, T=10, offset=3)
    L = (1000 - 3 - 1) // 4
    assert inputs.shape == targets.shape == (L // 10, 10, 4)
    assert (targets == inputs + 1).all()  # the target is the next character
    assert (inputs[1, 0] == inputs[0, -1] + 1).all()  # row b goes on where it stopped
    assert (inputs[0, 0] == 3 + np.arange(4) * L).all()  # stream b starts at offset + b L
    with pytest.raises(ValueError, match="too few"):
        stream_chunks(np.arange(20), B=4, T=10)


def test_log2_probs_are_the_softmax_of_the_logits_of_the_character_before():
    model = CharLM(6, 4, seed=1, dtype=np.float64)
    text = np.array([0, 3, 5, 1, 1, 2])
    (lp,) = log2_probs(model, [text], chunk=2)  # chunks carry the state
    logits, _ = model.forward(text[:-1, None])
    p = np.exp(logits[:, 0]) / np.exp(logits[:, 0]).sum(-1, keepdims=True)
    assert lp[0] == pytest.approx(-np.log2(6))
    assert lp[1:] == pytest.approx(np.log2(p[np.arange(5), text[1:]]), rel=1e-12)
    short = log2_probs(model, [text, text[:3]])  # a shorter text in the same batch: the same
    assert short[1] == pytest.approx(lp[:3], rel=1e-12) and short[0] == pytest.approx(lp)


def test_sampling_is_seeded_and_temperature_sharpens():
    corpus = load_corpus(DATA / "cpython-3.11.7-lib")
    model = CharLM(corpus.V, 8, seed=0, dtype=np.float64)
    model.readout.params["b"][...] = np.random.default_rng(1).normal(size=corpus.V)
    a = sample(model, corpus.encode("def "), 50, temperature=1.0, seed=5)
    assert (a == sample(model, corpus.encode("def "), 50, temperature=1.0, seed=5)).all()
    cold = sample(model, corpus.encode("def "), 50, temperature=1e-6, seed=5)
    greedy, text = [], corpus.encode("def ")
    for _ in range(50):  # the most probable character, every time
        greedy.append(int(model.forward(text[:, None])[0][-1, 0].argmax()))
        text = np.append(text, greedy[-1])
    assert cold.tolist() == greedy != a.tolist()
    with pytest.raises(ValueError, match="temperature: expected a positive"):
        sample(model, corpus.encode("d"), 5, temperature=0)
    with pytest.raises(ValueError, match="prompt_ids: expected at least one"):
        sample(model, np.array([], np.int64), 5)


def test_training_lowers_the_loss_within_a_few_dozen_steps():
    rng = np.random.default_rng(0)
    ids = np.tile(rng.integers(5, size=23), 200)  # a repeated pattern: learnable
    model = CharLM(5, 16, seed=0, dtype=np.float64)
    log = train_char_lm(
        model, ids, steps=150, B=4, T=20, lr=1e-2, lr_final=1e-3, snapshot_steps=(6,)
    )
    assert np.mean(log.bits[-10:]) < 0.5 * np.mean(log.bits[:5])
    assert set(log.snapshots) == {6} and log.lr[0] == pytest.approx(1e-2)
    assert log.lr[-1] == pytest.approx(1e-3, rel=0.01)  # the cosine ends at lr_final


def test_bad_arguments_are_refused_with_their_names():
    with pytest.raises(ValueError, match="kind: expected 'lstm' or 'rnn'"):
        CharLM(5, 4, kind="gru")
    model = CharLM(5, 4, seed=0)
    with pytest.raises(ValueError, match=r"ids: expected indices in \[0, 5\)"):
        model.forward(np.array([[7]]))
    with pytest.raises(TypeError, match="ids: expected integer indices"):
        model.forward(np.array([[1.0]]))
    with pytest.raises(ValueError, match="ids: expected 2-D"):
        model.forward(np.array([1, 2]))


@pytest.mark.parametrize("name", ["char_lstm.npz", "char_rnn.npz"])
def test_stored_weights_reproduce_their_held_out_bits_per_character(name):
    params, recipe = store.load_params(DATA / name)
    corpus = load_corpus(DATA / recipe["corpus"])
    model = CharLM(**{**recipe["model"], "dtype": "float64"}, seed=0).load(params)
    held_out = [corpus.encode(t) for t in corpus.held_out_texts]
    bits = charlm._bits(model, held_out)  # float64: the same on every machine
    assert bits == pytest.approx(recipe["metrics"]["held_out_bits"], rel=1e-9)
    assert recipe["n_weights"] == model.n_weights


def test_the_recipe_runs_and_records_its_settings(tmp_path):
    params, recipe = charlm.char_lm_recipe("lstm", DATA, steps=3)
    assert recipe["settings"]["steps"] == 3 and recipe["settings"]["H"] == 200
    assert any(k.startswith(charlm.snapshot_prefix(0.1)) for k in params)
    assert np.isfinite(recipe["metrics"]["held_out_bits"])
