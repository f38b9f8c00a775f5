"""lstmlib.cells: scores of single units against a ground truth, and the causal test of what the
model needs to close a bracket."""

import numpy as np
import pytest

from lstmlib.cells import (
    auc_scores,
    binned_means,
    bracket_pairs,
    closing_log2_probs,
    correlations,
    ranked_units,
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


def test_units_are_ranked_by_their_distance_from_chance_in_either_direction():
    auc = np.array([0.55, 0.1, 0.5, 0.8])
    assert ranked_units(auc, chance=0.5).tolist() == [1, 3, 0, 2]
    assert ranked_units(np.array([0.2, -0.9, 0.5])).tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match="scores"):
        ranked_units(np.ones((2, 2)))


def test_binned_means_average_each_bin_and_count_its_items():
    values = np.array([1.0, 3.0, 10.0, 5.0, 7.0])
    distances = np.array([1, 2, 150, 20, 5000])
    means, counts = binned_means(values, distances, [1, 10, 100, 1000])
    assert counts.tolist() == [2, 1, 1]  # 5000 lies outside every bin: left out
    assert means.tolist() == [2.0, 5.0, 10.0]
    means, counts = binned_means(values, distances, [1, 3, 4, 10])
    assert counts.tolist() == [2, 0, 0] and np.isnan(means[1])  # an empty bin's mean is NaN
    with pytest.raises(ValueError, match="edges"):
        binned_means(values, distances, [10, 1])
    with pytest.raises(ValueError, match="distances"):
        binned_means(values, distances[:3], [1, 10])


def test_reading_texts_one_at_a_time_gives_the_same_states_as_side_by_side(small_model):
    model, ids = small_model
    texts = [ids[:50], ids[50:], ids[7:20]]
    together = unit_states(model, texts)
    apart = unit_states(model, texts, one_at_a_time=True)
    for k in ("c", "h"):
        assert apart[k] == pytest.approx(together[k], rel=1e-12, abs=1e-15)


def test_closing_probabilities_of_pairs_read_together_equal_each_pair_read_alone(small_model):
    # the long pair must not change the short pairs' numbers (they stop reading earlier)
    model, ids = small_model
    acts = unit_states(model, [ids])
    pairs = np.array([[3, 100], [10, 12], [20, 30], [0, 119]])
    for kw in ({}, {"clamp": (np.array([1, 4]), np.array([0.5, -2.0]))}):
        together = closing_log2_probs(model, ids, pairs, start_states=acts, **kw)
        alone = [closing_log2_probs(model, ids, p[None], start_states=acts, **kw)[0] for p in pairs]
        assert together == pytest.approx(alone, rel=1e-10), f"intervention {kw}"
    reset = closing_log2_probs(model, ids, pairs, start_states=acts, reset_at=pairs[:, 1] - 2)
    alone = [
        closing_log2_probs(model, ids, p[None], start_states=acts, reset_at=p[1:] - 2)[0]
        for p in pairs
    ]
    assert reset == pytest.approx(alone, rel=1e-10), "reset two characters before the close"


def test_a_clamped_rnn_unit_is_held_in_the_state_it_reads():
    model = CharLM(5, 6, kind="rnn", seed=4, dtype=np.float64)
    ids = np.random.default_rng(5).integers(5, size=60)
    acts = unit_states(model, [ids])
    pairs = np.array([[10, 11]])  # the close is predicted from the state after the opening
    got = closing_log2_probs(model, ids, pairs, start_states=acts, clamp=([2], [0.7]))
    h = acts["h"][10].copy()
    h[2] = 0.7
    z = model.readout.forward(h[None])[0]
    z = z - z.max()
    want = (z - np.log(np.exp(z).sum()))[ids[11]] / np.log(2)
    assert got[0] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "rnn"])
def test_closing_probabilities_intact_equal_the_models_scores_for_either_kind(kind):
    model = CharLM(7, 5, kind=kind, seed=6, dtype=np.float64)
    ids = np.random.default_rng(7).integers(7, size=80)
    (lp,) = log2_probs(model, [ids])
    pairs = np.array([[0, 79], [5, 6], [30, 60]])
    out = closing_log2_probs(model, ids, pairs, start_states=unit_states(model, [ids]))
    assert out == pytest.approx(lp[pairs[:, 1]], rel=1e-10), f"{kind}: not the model's scores"


def test_a_clamp_per_pair_equals_one_call_per_clamp(small_model):
    model, ids = small_model
    acts = unit_states(model, [ids])
    pairs = np.array([[3, 100], [10, 12], [20, 30]])
    units, values = np.array([1, 4]), np.array([0.5, -2.0])
    apart = [
        closing_log2_probs(model, ids, pairs, start_states=acts, clamp=([u], [v]))
        for u, v in zip(units, values, strict=True)
    ]
    stacked = closing_log2_probs(
        model,
        ids,
        np.concatenate([pairs, pairs]),
        start_states=acts,
        clamp=(np.repeat(units, 3)[:, None], np.repeat(values, 3)[:, None]),
    )
    assert stacked == pytest.approx(np.concatenate(apart), rel=1e-10)
    with pytest.raises(ValueError, match="clamp"):
        closing_log2_probs(
            model, ids, pairs, start_states=acts, clamp=(np.ones((2, 1), int), [1.0])
        )
