"""Copies of layers and models (copy.deepcopy, pickle) train exactly like the original.

A layer may keep its gradients as views into one fused buffer that ``backward`` writes
(``LSTM``, ``LSTMVariant``). ``copy.deepcopy`` and pickle copy every array on its own, so unless
the layer re-creates the views, a copy's ``grads`` are separate arrays that ``backward`` never
writes, and training the copy silently leaves its weights unchanged. Every layer-like class of
lstmlib is checked here: a copy (fresh, or taken mid-training together with its optimizer) is
trained on the same data as the original, and must see the same gradients at every step and end
with the same weights, bit for bit.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from lstmlib.layers import LSTM, RNN, Linear
from lstmlib.naive import FusedGatesLSTM, HoistedInputLSTM, InPlaceLSTM, NaiveLSTM
from lstmlib.train import Adam, SequenceModel
from lstmlib.variants import VARIANTS, LSTMVariant

T, B, D, H, K = 5, 3, 2, 3, 2
STEPS = 30

#: Every layer-like class, by name: a function that builds it with fixed seeds.
LAYERS = {
    "LSTM peephole": lambda: LSTM(D, H, seed=0),
    "LSTM standard": lambda: LSTM(D, H, peephole=False, seed=0),
    "LSTM float32": lambda: LSTM(D, H, seed=0, dtype=np.float32),
    "RNN": lambda: RNN(D, H, seed=0),
    "Linear": lambda: Linear(D, H, seed=0),  # applied to the last axis of xs (T, B, D)
    **{f"LSTMVariant {v}": (lambda v=v: LSTMVariant(D, H, v, seed=0)) for v in VARIANTS},
    **{
        f"{cls.__name__} peephole={p}": (lambda cls=cls, p=p: cls(D, H, peephole=p, seed=0))
        for cls in (NaiveLSTM, FusedGatesLSTM, HoistedInputLSTM, InPlaceLSTM)
        for p in (True, False)
    },
    "SequenceModel LSTM": lambda: SequenceModel(LSTM(D, H, seed=0), Linear(H, K, seed=1)),
    "SequenceModel diagonal_peephole": lambda: SequenceModel(
        LSTMVariant(D, H, "diagonal_peephole", seed=0), Linear(H, K, seed=1)
    ),
}

COPIES = {
    "deepcopy": copy.deepcopy,
    "pickle": lambda obj: pickle.loads(pickle.dumps(obj)),
}


def dtype_of(layer) -> np.dtype:
    return next(iter(layer.params.values())).dtype


def forward_backward(layer) -> None:
    """One forward on fixed inputs and a backward of a fixed linear loss ``sum(out * w)``."""
    dtype = dtype_of(layer)
    xs = np.random.default_rng(0).standard_normal((T, B, D)).astype(dtype)
    out = layer.forward(xs)
    out = out[0] if isinstance(out, tuple) else out  # a recurrent layer's hs
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    layer.backward(dout)


def train(layer, optimizer, steps: int, who: str) -> list[dict[str, np.ndarray]]:
    """``steps`` Adam steps; returns a copy of the gradients ``backward`` published at each.

    Also checks that the arrays of ``grads`` taken before training are the ones ``backward``
    writes (the library's contract: a reference to ``grads[k]`` stays valid).
    """
    held = dict(layer.grads)
    seen = []
    for step in range(steps):
        forward_backward(layer)
        grads = layer.grads
        for k, g in grads.items():
            assert np.array_equal(held[k], g), (
                f"{who}, step {step}: grads[{k!r}] taken before training does not hold what "
                f"backward wrote (backward writes into other arrays)"
            )
        seen.append({k: g.copy() for k, g in grads.items()})
        optimizer.step(grads)
    return seen


def assert_same(got, want, what: str) -> None:
    assert got.keys() == want.keys(), f"{what}: keys {sorted(got)} != {sorted(want)}"
    for k in want:
        assert np.array_equal(got[k], want[k]), (
            f"{what}[{k!r}] differs (largest difference {np.max(np.abs(got[k] - want[k])):.3g})"
        )


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize("name", LAYERS)
def test_a_copy_trains_exactly_like_the_original(name, how):
    original = LAYERS[name]()
    forward_backward(original)  # a layer in use: filled buffers and a forward cache
    start = {k: p.copy() for k, p in original.params.items()}
    duplicate = COPIES[how](original)

    seen_copy = train(duplicate, Adam(duplicate.params, lr=0.02), STEPS, f"{name}, {how}")
    assert_same(original.params, start, f"{name}: the original's params after training its copy")
    changed = [k for k in start if not np.array_equal(duplicate.params[k], start[k])]
    assert changed == list(start), (
        f"{name}, {how}: training the copy left {sorted(set(start) - set(changed))} unchanged"
    )
    seen_original = train(original, Adam(original.params, lr=0.02), STEPS, name)

    for step, (got, want) in enumerate(zip(seen_copy, seen_original, strict=True)):
        assert_same(got, want, f"{name}, {how}, step {step}: the copy's grads")
    assert_same(duplicate.params, original.params, f"{name}, {how}: the trained copy's params")


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize("name", LAYERS)
def test_a_checkpoint_mid_training_resumes_exactly(name, how):
    """A layer copied together with its optimizer (Adam's moments and step count) after some
    steps continues exactly as the original does."""
    original = LAYERS[name]()
    optimizer = Adam(original.params, lr=0.02)
    train(original, optimizer, STEPS // 3, name)
    duplicate, dup_optimizer = COPIES[how]((original, optimizer))
    for k, p in duplicate.params.items():
        assert dup_optimizer.params[k] is p, (
            f"{name}, {how}: the copied optimizer does not update the copied layer's {k!r}"
        )

    seen_copy = train(duplicate, dup_optimizer, STEPS - STEPS // 3, f"{name}, {how}")
    seen_original = train(original, optimizer, STEPS - STEPS // 3, name)

    for step, (got, want) in enumerate(zip(seen_copy, seen_original, strict=True)):
        assert_same(got, want, f"{name}, {how}, step {STEPS // 3 + step}: the copy's grads")
    assert_same(duplicate.params, original.params, f"{name}, {how}: the resumed copy's params")
