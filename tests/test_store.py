"""lstmlib.store: weights round-trip through .npz files with their recipe; mistakes are named."""

from __future__ import annotations

import numpy as np
import pytest

from lstmlib import LSTM, Linear, SequenceModel
from lstmlib.store import RECIPE_KEY, load_into, load_params, save_params


def _model(seed):
    return SequenceModel(LSTM(3, 4, seed=seed), Linear(4, 2, seed=seed))


def test_saved_weights_load_back_bit_for_bit_with_their_recipe(tmp_path):
    m = _model(0)
    path = save_params(tmp_path / "m.npz", m.params, recipe={"seed": 0, "steps": [1, 2]})
    params, recipe = load_params(path)
    assert recipe == {"seed": 0, "steps": [1, 2]}
    assert sorted(params) == sorted(m.params)
    for k, v in m.params.items():
        assert params[k].dtype == v.dtype and np.array_equal(params[k], v), k


def test_load_into_makes_a_fresh_model_compute_what_the_saved_one_did(tmp_path):
    saved, fresh = _model(0), _model(1)
    save_params(tmp_path / "m.npz", saved.params, recipe={})
    xs = np.random.default_rng(0).standard_normal((5, 2, 3))
    assert not np.array_equal(fresh.forward(xs), saved.forward(xs))
    load_into(fresh, tmp_path / "m.npz")
    assert np.array_equal(fresh.forward(xs), saved.forward(xs))


def test_a_file_for_another_model_is_refused_before_anything_is_copied(tmp_path):
    save_params(tmp_path / "m.npz", _model(0).params, recipe={})
    other = SequenceModel(LSTM(3, 5, seed=0), Linear(5, 2, seed=0))
    before = {k: v.copy() for k, v in other.params.items()}
    with pytest.raises(ValueError, match="core.W_f"):
        load_into(other, tmp_path / "m.npz")
    assert all(np.array_equal(before[k], v) for k, v in other.params.items())


@pytest.mark.parametrize(
    ("params", "recipe", "error", "match"),
    [
        ({}, {}, TypeError, "params"),
        ({"W": np.array([np.nan])}, {}, ValueError, "params\\['W'\\]"),
        ({RECIPE_KEY: np.zeros(1)}, {}, ValueError, "params"),
        ({"W": np.zeros(1)}, {"f": object()}, TypeError, "recipe"),
        ({"W": np.zeros(1)}, [1], TypeError, "recipe"),
    ],
)
def test_bad_arguments_are_named(tmp_path, params, recipe, error, match):
    with pytest.raises(error, match=match):
        save_params(tmp_path / "m.npz", params, recipe=recipe)


def test_a_missing_file_or_a_plain_npz_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_params(tmp_path / "nothing.npz")
    np.savez(tmp_path / "plain.npz", W=np.zeros(2))
    with pytest.raises(ValueError, match="not a saved model"):
        load_params(tmp_path / "plain.npz")
    with pytest.raises(ValueError, match=".npz"):
        save_params(tmp_path / "m.txt", {"W": np.zeros(1)}, recipe={})
