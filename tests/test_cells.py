"""lstmlib.cells: scores of single units against a ground truth, and the causal test of what the
model needs to close a bracket."""

import numpy as np
import pytest

from lstmlib.cells import (
    auc_scores,
    bracket_pairs,
    closing_log2_probs,
    correlations,
    unit_states,
)
from lstmlib.charlm import CharLM, log2_probs


def test_auc_is_one_for_a_perfect_unit_a_half_for_noise_and_zero_reversed():
    rng = np.random.default_rng(0)
    labels = rng.random(2000) < 0.3
    values = np.stack([labels + 0.1 * rng.random(2000), rng.random(2000), -(labels * 1.0)], 1)
    auc = auc_scores(values, labels)
    assert auc[0] == 1.0 and abs(auc[1] - 0.5) < 0.05 and auc[2] == 0.0


def test_auc_counts_ties_as_one_half_like_the_mann_whitney_statistic():
    values = np.array([[0.0], [1.0], [1.0], [2.0]])
    labels = np.array([False, True, False, True])
    # pairs (yes, no): (1, 0) >, (1, 1) tie, (2, 0) >, (2, 1) > -> (3 + 0.5) / 4
    assert auc_scores(values, labels)[0] == pytest.approx(3.5 / 4)
    with pytest.raises(ValueError, match="labels: expected both"):
        auc_scores(values, np.ones(4, bool))


def test_correlations_are_pearsons_r_per_unit():
    rng = np.random.default_rng(1)
    t = rng.normal(size=500)
    values = np.stack([2 * t + 1, -t, rng.normal(size=500), np.ones(500)], 1)
    r = correlations(values, t)
    assert r[:2] == pytest.approx([1, -1]) and abs(r[2]) < 0.15 and r[3] == 0.0
    assert r[2] == pytest.approx(np.corrcoef(values[:, 2], t)[0, 1])


def test_bracket_pairs_match_python_and_skip_brackets_in_strings():
    src = "f(a, g(b), '(')\nx = [1, (2)]\n"
    pairs = bracket_pairs(src)
    assert [(src[a], src[b]) for a, b in pairs] == [("(", ")")] * 3
    assert [src[a : b + 1] for a, b in pairs] == ["(b)", "(a, g(b), '(')", "(2)"]
    assert bracket_pairs(src, "[").tolist() == [[src.index("["), src.index("]")]]


@pytest.fixture(scope="module")
def small_model():
    model = CharLM(5, 6, seed=2, dtype=np.float64)
    ids = np.random.default_rng(3).integers(5, size=120)
    return model, ids


def test_unit_states_are_the_layers_memory_and_output(small_model):
    model, ids = small_model
    acts = unit_states(model, [ids[:50], ids[50:]], chunk=7)
    model.forward(ids[50:, None])
    hs = model.hs
    assert acts["h"].shape == acts["c"].shape == (120, 6)
    assert acts["h"][50:] == pytest.approx(hs[:, 0], rel=1e-12)
    assert acts["c"][50:] == pytest.approx(model.core.gates["c"][:, 0], rel=1e-12)


def test_closing_probabilities_intact_equal_the_models_scores(small_model):
    model, ids = small_model
    acts = unit_states(model, [ids])
    (lp,) = log2_probs(model, [ids])
    pairs = np.array([[3, 4], [10, 40], [5, 90], [0, 119]])
    out = closing_log2_probs(model, ids, pairs, start_states=acts)
    assert out == pytest.approx(lp[pairs[:, 1]], rel=1e-10)


def test_a_reset_at_the_opening_forgets_everything_before_it(small_model):
    model, ids = small_model
    acts = unit_states(model, [ids])
    pairs = np.array([[10, 40], [20, 30]])
    out = closing_log2_probs(model, ids, pairs, start_states=acts, reset_at=pairs[:, 0])
    for (a, b), got in zip(pairs, out, strict=True):
        # the same as reading ids[a+1 .. b-1] from a zero state
        (lp,) = log2_probs(model, [np.r_[0, ids[a + 1 : b + 1]]])
        logits, _ = model.forward(ids[a + 1 : b, None])
        z = logits[-1, 0] - logits[-1, 0].max()
        want = (z - np.log(np.exp(z).sum()))[ids[b]] / np.log(2)
        assert got == pytest.approx(want, rel=1e-10)


def test_a_clamped_unit_stays_at_its_value(small_model):
    model, ids = small_model
    acts = unit_states(model, [ids])
    pairs = np.array([[10, 40]])
    clamped = closing_log2_probs(
        model, ids, pairs, start_states=acts, clamp=(np.array([2]), np.array([5.0]))
    )
    intact = closing_log2_probs(model, ids, pairs, start_states=acts)
    assert clamped[0] != pytest.approx(intact[0])  # a memory of 5 changes the prediction
    with pytest.raises(ValueError, match="start_states"):
        closing_log2_probs(model, ids, pairs)
