"""lstmlib.tasks: each generator produces what its docstring promises."""

from __future__ import annotations

import numpy as np
import pytest

from lstmlib.tasks import (
    COUNTRIES,
    FILLERS,
    LANGUAGES,
    QUERY,
    SOLVED_TOLERANCE,
    adding_problem,
    fluent_language,
    solved,
)

# --- fluent_language ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fluent_language_shapes_and_dtypes(dtype):
    d = fluent_language(50, lag=7, n_countries=5, seed=0, n_fillers=3, dtype=dtype)
    T, B, V = 9, 50, 5 + 3 + 1
    assert d.xs.shape == (T, B, V) and d.xs.dtype == dtype
    assert d.tokens.shape == (T, B) and d.tokens.dtype.kind == "i"
    assert d.targets.shape == (B,) and d.targets.dtype.kind == "i"
    assert (d.T, d.n_sequences, d.input_size, d.n_classes, d.lag) == (T, B, V, 5, 7)
    assert len(d.vocab) == V and len(d.languages) == 5


def test_fluent_language_content():
    d = fluent_language(400, lag=5, n_countries=4, seed=1)
    # one-hot rows that encode the tokens
    assert set(np.unique(d.xs)) == {0.0, 1.0}
    np.testing.assert_array_equal(d.xs.sum(axis=2), 1.0)
    np.testing.assert_array_equal(d.xs.argmax(axis=2), d.tokens)
    # vocabulary: countries, fillers, the query
    assert d.vocab == [*COUNTRIES[:4], *FILLERS[:4], QUERY]
    assert d.countries == list(COUNTRIES[:4]) and d.languages == list(LANGUAGES[:4])
    # country first, fillers in between, "fluent" last
    assert (d.tokens[0] < 4).all()
    assert ((d.tokens[1:-1] >= 4) & (d.tokens[1:-1] < 8)).all()
    assert (d.tokens[-1] == d.vocab.index("fluent")).all()
    # the target is the language of the country at step 0, and nothing else
    np.testing.assert_array_equal(d.targets, d.tokens[0])
    assert ((d.targets >= 0) & (d.targets < 4)).all()
    for b in range(10):
        country = d.vocab[d.tokens[0, b]]
        assert d.languages[d.targets[b]] == LANGUAGES[COUNTRIES.index(country)]
    # every country and every filler occurs ("several distinct blah words drawn at random")
    assert set(d.targets) == {0, 1, 2, 3}
    assert set(np.unique(d.tokens[1:-1])) == {4, 5, 6, 7}


def test_fluent_language_languages_match_countries():
    pairs = dict(zip(COUNTRIES, LANGUAGES, strict=True))
    assert pairs["France"] == "French" and pairs["Germany"] == "German"
    assert pairs["Spain"] == "Spanish" and pairs["Netherlands"] == "Dutch"
    assert len(set(COUNTRIES)) == len(COUNTRIES) and len(set(LANGUAGES)) == len(LANGUAGES)


def test_fluent_language_lag_zero_and_largest_vocabulary():
    d = fluent_language(3, lag=0, n_countries=len(COUNTRIES), n_fillers=len(FILLERS), seed=0)
    assert d.xs.shape == (2, 3, len(COUNTRIES) + len(FILLERS) + 1)
    assert [d.vocab[k] for k in d.tokens[:, 0]][1] == "fluent"


def test_fluent_language_seeds():
    a, b = fluent_language(20, 4, seed=3), fluent_language(20, 4, seed=3)
    np.testing.assert_array_equal(a.xs, b.xs)
    np.testing.assert_array_equal(a.targets, b.targets)
    c = fluent_language(20, 4, seed=4)
    assert not np.array_equal(a.tokens, c.tokens)
    g = fluent_language(20, 4, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(g.tokens, a.tokens)


def test_fluent_language_render():
    d = fluent_language(30, lag=3, seed=0)
    b = int(np.flatnonzero(d.targets == 0)[0])  # a France sentence
    words = d.words(b)
    assert words[0] == "France" and words[-1] == "fluent" and len(words) == 5
    assert d.render(b) == " ".join(words) + " → French"
    assert d.render(b, prediction=1).endswith("→ French (model: German)")
    assert d.render(b, prediction="Greek").endswith("(model: Greek)")
    long = fluent_language(1, lag=30, seed=0)
    text = long.render(0, max_fillers=4)
    assert "… (26 more) …" in text and len(text.split()) == 1 + 4 + 4 + 1 + 2
    assert len(long.render(0, max_fillers=None).split()) == 1 + 30 + 1 + 2
    assert "FluentLanguage(n_sequences=1, lag=30" in repr(long)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(n_sequences=0), ValueError, "n_sequences"),
        (dict(n_sequences=2.0), TypeError, "n_sequences"),
        (dict(lag=-1), ValueError, "lag"),
        (dict(lag=2.5), TypeError, "lag"),
        (dict(lag=True), TypeError, "lag"),
        (dict(n_countries=1), ValueError, "n_countries"),
        (dict(n_countries=len(COUNTRIES) + 1), ValueError, "n_countries"),
        (dict(n_fillers=0), ValueError, "n_fillers"),
        (dict(n_fillers=len(FILLERS) + 1), ValueError, "n_fillers"),
        (dict(dtype=np.int64), TypeError, "dtype"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(seed="x"), TypeError, "seed"),
    ],
)
def test_fluent_language_bad_arguments(kwargs, error, match):
    args = dict(n_sequences=4, lag=2) | kwargs
    with pytest.raises(error, match=match):
        fluent_language(**args)


def test_fluent_language_render_bad_arguments():
    d = fluent_language(3, 2, seed=0)
    with pytest.raises(ValueError, match="index"):
        d.render(3)
    with pytest.raises(ValueError, match="prediction"):
        d.render(0, prediction=4)


# --- adding_problem -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adding_problem_shapes_and_dtypes(dtype):
    a = adding_problem(40, T=30, seed=0, dtype=dtype)
    assert a.xs.shape == (30, 40, 2) and a.xs.dtype == dtype
    assert a.targets.shape == (40, 1) and a.targets.dtype == dtype
    assert a.positions.shape == (40, 2) and a.positions.dtype.kind == "i"
    assert (a.T, a.n_sequences, a.input_size, a.output_size) == (30, 40, 2, 1)


def test_adding_problem_content():
    T, B = 40, 2000
    a = adding_problem(B, T=T, seed=1)
    values, markers = a.xs[:, :, 0], a.xs[:, :, 1]
    assert (values >= -1).all() and (values <= 1).all()
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers.sum(axis=0), 2.0)  # exactly two marks
    first, second = a.positions[:, 0], a.positions[:, 1]
    assert (first >= 0).all() and (first < 10).all()
    assert (second >= 0).all() and (second < T // 2).all()
    assert (first != second).all()
    cols = np.arange(B)
    assert (markers[first, cols] == 1).all() and (markers[second, cols] == 1).all()
    # the whole range is used, and the second mark may come before the first
    assert set(first) == set(range(10)) and set(second) == set(range(T // 2))
    assert (second < first).any()
    # target = 0.5 + (X1 + X2) / 4, in [0, 1]
    x1_plus_x2 = (values * markers).sum(axis=0)
    np.testing.assert_allclose(a.targets[:, 0], 0.5 + x1_plus_x2 / 4, rtol=0, atol=1e-15)
    assert (a.targets >= 0).all() and (a.targets <= 1).all()


def test_adding_problem_shortest_sequence():
    a = adding_problem(500, T=20, seed=0)
    assert (a.positions[:, 1] < 10).all()
    np.testing.assert_array_equal(a.xs[:, :, 1].sum(axis=0), 2.0)


def test_adding_problem_seeds():
    a, b = adding_problem(8, T=25, seed=5), adding_problem(8, T=25, seed=5)
    np.testing.assert_array_equal(a.xs, b.xs)
    np.testing.assert_array_equal(a.targets, b.targets)
    assert not np.array_equal(a.xs, adding_problem(8, T=25, seed=6).xs)


def test_solved():
    assert SOLVED_TOLERANCE == 0.04
    targets = np.array([[0.5], [0.5], [0.5], [0.2]])
    pred = np.array([[0.5], [0.539], [0.541], [0.159]])
    np.testing.assert_array_equal(solved(pred, targets), [True, True, False, False])
    np.testing.assert_array_equal(solved(pred[:, 0], targets[:, 0]), [True, True, False, False])
    a = adding_problem(10, T=20, seed=0)
    assert a.solved(a.targets).all()
    assert not a.solved(a.targets + 0.05).any()


@pytest.mark.parametrize(
    ("pred", "targets", "error", "match"),
    [
        (np.zeros((3, 1)), np.zeros((4, 1)), ValueError, "pred"),
        (np.zeros((3, 2)), np.zeros((3, 2)), ValueError, r"\(B, 1\)"),
        (np.full((3, 1), np.nan), np.zeros((3, 1)), ValueError, "NaN"),
        (np.zeros((3, 1), dtype=object), np.zeros((3, 1)), TypeError, "pred"),
    ],
)
def test_solved_bad_arguments(pred, targets, error, match):
    with pytest.raises(error, match=match):
        solved(pred, targets)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(T=19), ValueError, "T"),
        (dict(T=50.0), TypeError, "T"),
        (dict(n_sequences=0), ValueError, "n_sequences"),
        (dict(dtype="float16"), TypeError, "dtype"),
        (dict(seed=1.5), TypeError, "seed"),
    ],
)
def test_adding_problem_bad_arguments(kwargs, error, match):
    args = dict(n_sequences=4) | kwargs
    with pytest.raises(error, match=match):
        adding_problem(**args)
