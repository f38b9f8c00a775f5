"""lstmlib.ngram: interpolated modified Kneser-Ney, as Chen & Goodman (1999) define it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from lstmlib.ngram import FALLBACK_DISCOUNTS, KneserNey
from lstmlib.text import load_corpus

CORPUS = Path(__file__).resolve().parents[1] / "book" / "data" / "cpython-3.11.7-lib"

PROSE = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the "
    "age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the "
    "season of Light, it was the season of Darkness, it was the spring of hope, it was the winter "
    "of despair, we had everything before us, we had nothing before us."
)


def encode(text: str, vocab: str) -> np.ndarray:
    return np.array([vocab.index(ch) for ch in text], dtype=np.int64)


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(CORPUS)


@pytest.fixture(scope="module")
def code(corpus):
    """50,000 training characters and 5,000 held-out ones, as ids."""
    return corpus.encode(corpus.train[:50_000]), corpus.encode(corpus.held_out[:5_000])


# --- a distribution over every character -------------------------------------------------------


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6])
def test_every_next_char_distribution_sums_to_one_and_is_positive(code, corpus, order):
    train, held_out = code
    model = KneserNey(order, corpus.V).fit(train)
    rng = np.random.default_rng(order)
    contexts = [[], rng.integers(0, corpus.V, size=3), rng.integers(0, corpus.V, size=9)]
    contexts += [
        held_out[t - m : t] for t, m in zip(rng.integers(10, 5_000, 30), range(30), strict=True)
    ]
    for context in contexts:
        p = model.next_char_probs(context)
        assert p.shape == (corpus.V,) and p.dtype == np.float64
        assert abs(p.sum() - 1) < 1e-12
        assert (p > 0).all()


@pytest.mark.parametrize("order", [2, 4, 6])
def test_an_unseen_character_never_gets_probability_zero(order):
    vocab = "abcdefgh"  # the training text uses only a..d: e..h are never seen
    train = encode("abcabdabcabcdabcabdcab" * 3, vocab)
    model = KneserNey(order, len(vocab)).fit(train)
    for context in (encode("abc", vocab), encode("cab", vocab), encode("hhh", vocab), []):
        p = model.next_char_probs(context)
        assert (p[4:] > 0).all() and abs(p.sum() - 1) < 1e-12
    # seen contexts put more on what followed them than on what never occurred
    p = model.next_char_probs(encode("ab", vocab))
    assert p[vocab.index("c")] > p[vocab.index("e")]
    assert np.isfinite(model.log2_probs(encode("abhgfe", vocab))).all()


# --- the formula --------------------------------------------------------------------------------


def test_order_2_by_hand():
    """ "abracadabr", order 2. Too few counts for equation (4): both levels use the fallback
    discounts D1, D2, D3+ = 0.5, 1, 1.5."""
    vocab = "abcdr"
    model = KneserNey(2, 5).fit(encode("abracadabr", vocab))
    np.testing.assert_array_equal(model.discounts, [FALLBACK_DISCOUNTS] * 2)
    # level 1, continuation counts N1+(.w): a follows r, c, d (3); b, c, d, r follow a (1 each).
    # Their sum is 7; N1 = 4 characters have count 1, N3+ = 1 has count >= 3:
    gamma_1 = (0.5 * 4 + 1.5 * 1) / 7  # = 0.5
    P1 = {"a": (3 - 1.5) / 7 + gamma_1 / 5}
    P1.update({w: (1 - 0.5) / 7 + gamma_1 / 5 for w in "bcdr"})
    assert gamma_1 == 0.5 and sum(P1.values()) == pytest.approx(1, abs=1e-15)
    # level 2, raw counts after "a": ab 2, ac 1, ad 1 (total 4; N1 = 2, N2 = 1)
    gamma_a = (0.5 * 2 + 1.0 * 1) / 4  # = 0.5
    after_a = {
        "a": 0 + gamma_a * P1["a"],
        "b": (2 - 1.0) / 4 + gamma_a * P1["b"],
        "c": (1 - 0.5) / 4 + gamma_a * P1["c"],
        "d": (1 - 0.5) / 4 + gamma_a * P1["d"],
        "r": 0 + gamma_a * P1["r"],
    }
    np.testing.assert_allclose(
        model.next_char_probs(encode("a", vocab)), [after_a[w] for w in vocab], rtol=1e-14
    )
    # after "r": ra 1 (total 1, N1 = 1), so gamma = 0.5
    assert model.next_char_probs(encode("r", vocab))[0] == pytest.approx(0.5 + 0.5 * P1["a"])
    # no context (the first character of a text): the level-1 distribution
    np.testing.assert_allclose(model.next_char_probs([]), [P1[w] for w in vocab], rtol=1e-14)
    assert model.log2_probs(encode("ab", vocab)) == pytest.approx(np.log2([P1["a"], after_a["b"]]))


def test_order_1_is_the_smoothed_unigram():
    """Raw counts of "abracadabr": a 4, b 2, r 2, c 1, d 1; N1 = 2, N2 = 2, N3+ = 1."""
    vocab = "abcdr"
    model = KneserNey(1, 5).fit(encode("abracadabr", vocab))
    gamma = (0.5 * 2 + 1.0 * 2 + 1.5 * 1) / 10  # = 0.45
    expected = {"a": (4 - 1.5) / 10, "b": (2 - 1) / 10, "r": (2 - 1) / 10}
    expected.update(c=(1 - 0.5) / 10, d=(1 - 0.5) / 10)
    unigram = [expected[w] + gamma / 5 for w in vocab]
    np.testing.assert_allclose(model.next_char_probs([]), unigram, rtol=1e-14)
    # order 1 ignores the context
    np.testing.assert_array_equal(
        model.next_char_probs(encode("rab", vocab)), model.next_char_probs([])
    )


def test_unigram_with_every_count_at_least_3_is_the_relative_frequency():
    """Then the discount D3+ taken from each count comes back through gamma / V, exactly."""
    vocab = "abc"
    ids = encode("abcabcabcaaabbbccca", vocab)  # a 7, b 6, c 6
    p = KneserNey(1, 3).fit(ids).next_char_probs([])
    np.testing.assert_allclose(p, np.array([7, 6, 6]) / 19, rtol=1e-14)


def reference(ids, order: int, V: int):
    """Equations (1)-(4) of lstmlib.ngram, word for word, with dicts: P(w | context)."""
    ids = [int(i) for i in ids]
    grams = {order: Counter(tuple(ids[t : t + order]) for t in range(len(ids) - order + 1))}
    for k in range(order - 1, 0, -1):  # continuation counts: distinct (k+1)-grams per suffix
        distinct = {tuple(ids[t : t + k + 1]) for t in range(len(ids) - k)}
        grams[k] = Counter(g[1:] for g in distinct)
    discounts = {}
    for k, counts in grams.items():
        n1, n2, n3, n4 = (sum(c == j for c in counts.values()) for j in (1, 2, 3, 4))
        D = FALLBACK_DISCOUNTS
        if min(n1, n2, n3, n4) > 0:
            Y = n1 / (n1 + 2 * n2)
            estimate = (1 - 2 * Y * n2 / n1, 2 - 3 * Y * n3 / n2, 3 - 4 * Y * n4 / n3)
            if all(0 < d <= j for d, j in zip(estimate, (1, 2, 3), strict=True)):
                D = estimate
        discounts[k] = D

    def P(k, h, w):
        if k == 0:
            return 1 / V
        counts = [grams[k][(*h, v)] for v in range(V)]
        if sum(counts) == 0:
            return P(k - 1, h[1:], w)
        D = [0.0, *discounts[k]]
        gamma = sum(D[min(c, 3)] for c in counts) / sum(counts)
        c = counts[w]
        return max(c - D[min(c, 3)], 0) / sum(counts) + gamma * P(k - 1, h[1:], w)

    def probs(context):
        h = tuple(int(i) for i in context)[max(len(context) - (order - 1), 0) :]
        return np.array([P(len(h) + 1, h, w) for w in range(V)])

    return probs, np.array([discounts[k] for k in range(1, order + 1)])


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_matches_the_textbook_formula(order):
    vocab = "".join(sorted(set(PROSE)))
    V = len(vocab) + 2  # two characters the text never uses
    ids = encode(PROSE, vocab)
    model = KneserNey(order, V).fit(ids)
    probs, discounts = reference(ids, order, V)
    np.testing.assert_allclose(model.discounts, discounts, rtol=1e-14)
    contexts = [encode(c, vocab) for c in ["", "t", "it w", "the e", "of ", "we had nothing"]]
    contexts += [[V - 1, V - 2], encode("of", vocab).tolist() + [V - 1]]  # never seen
    for context in contexts:
        np.testing.assert_allclose(model.next_char_probs(context), probs(context), rtol=1e-12)
    if order >= 2:  # this text has enough counts for equation (4) at the top level
        assert not np.allclose(model.discounts[-1], FALLBACK_DISCOUNTS)


# --- scoring a text -----------------------------------------------------------------------------


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6])
def test_log2_probs_equal_a_loop_over_next_char_probs(code, corpus, order):
    """Character t is predicted from ids[:t]: the first ones from the shorter contexts they have."""
    train, held_out = code
    model = KneserNey(order, corpus.V).fit(train)
    ids = held_out[:60]
    loop = [np.log2(model.next_char_probs(ids[:t])[ids[t]]) for t in range(len(ids))]
    np.testing.assert_allclose(model.log2_probs(ids), loop, rtol=1e-13)
    assert model.log2_probs(ids).shape == (60,)
    assert model.bits_per_char(ids) == pytest.approx(-np.mean(loop), rel=1e-13)
    assert model.log2_probs(ids[:1]).shape == (1,)


def test_only_the_last_order_minus_one_characters_count(code, corpus):
    train, held_out = code
    model = KneserNey(4, corpus.V).fit(train)
    np.testing.assert_array_equal(
        model.next_char_probs(held_out[:50]), model.next_char_probs(held_out[47:50])
    )


def test_bits_per_char_on_the_training_text_decrease_with_order(code, corpus):
    train, _ = code
    bits = [KneserNey(n, corpus.V).fit(train).bits_per_char(train) for n in range(1, 9)]
    assert all(b > a for a, b in zip(bits[1:], bits[:-1], strict=True)), np.round(bits, 3)


def test_held_out_bits_per_char_of_the_corpus(corpus):
    """The baselines of the chapter "How good is it?": the whole training text, the held-out text
    scored. Counting is exact, so these hold on every machine to well within 0.001."""
    train, held_out = corpus.encode(corpus.train), corpus.encode(corpus.held_out)
    bits = {n: KneserNey(n, corpus.V).fit(train).bits_per_char(held_out) for n in (1, 3, 5)}
    assert bits == pytest.approx({1: 4.387, 3: 2.560, 5: 1.961}, abs=5e-4)


# --- bad input ----------------------------------------------------------------------------------


def test_bad_orders_and_vocabulary_sizes():
    with pytest.raises(ValueError, match="order: expected a positive int"):
        KneserNey(0, 5)
    with pytest.raises(TypeError, match="order: expected a positive int, got float"):
        KneserNey(2.0, 5)
    with pytest.raises(TypeError, match="order: expected a positive int, got the bool"):
        KneserNey(True, 5)
    with pytest.raises(ValueError, match="V: expected a positive int"):
        KneserNey(2, 0)
    with pytest.raises(ValueError, match=r"order: 10 is too large for V=96.*2 \*\* 63"):
        KneserNey(10, 96)
    KneserNey(9, 96)  # 96 ** 9 < 2 ** 63


@pytest.mark.parametrize(
    ("ids", "error", "message"),
    [
        ([0, 1, 5], ValueError, r"ids: expected ids in \[0, 5\), got 0..5"),
        (np.array([-1, 2]), ValueError, r"ids: expected ids in \[0, 5\), got -1..2"),
        (
            np.array([0.0, 1.0]),
            TypeError,
            "ids: expected an array of integer ids, got dtype float64",
        ),
        (
            np.array([True, False]),
            TypeError,
            "ids: expected an array of integer ids, got dtype bool",
        ),
        ("abc", TypeError, "ids: expected integer ids, got a str; encode it first"),
        (np.zeros((2, 3), dtype=np.int64), ValueError, r"ids: expected a 1-D array \(n,\)"),
        (np.int64(3), ValueError, r"ids: expected a 1-D array \(n,\), got 0-D"),
        ([], ValueError, "ids: expected at least one character"),
        ([1], ValueError, "ids: expected at least order=2 characters, got 1"),
    ],
)
def test_bad_ids(ids, error, message):
    with pytest.raises(error, match=message):
        KneserNey(2, 5).fit(ids)


def test_bad_calls():
    model = KneserNey(2, 5)
    with pytest.raises(RuntimeError, match=r"call fit\(ids\) first"):
        model.next_char_probs([1])
    with pytest.raises(RuntimeError, match=r"call fit\(ids\) first"):
        model.bits_per_char([1, 2])
    model.fit([0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"context: expected ids in \[0, 5\)"):
        model.next_char_probs([7])
    with pytest.raises(ValueError, match="ids: expected at least one character"):
        model.log2_probs([])
    with pytest.raises(TypeError, match="ids: expected an array of integer ids"):
        model.bits_per_char([0.5, 1.0])
    assert repr(model) == "KneserNey(order=2, V=5, fitted)"
