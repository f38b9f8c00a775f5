"""lstmlib.activations: the valves' squashing functions are right, stable and keep the dtype."""

import math
import warnings

import numpy as np
import pytest

from lstmlib.activations import (
    sigmoid,
    sigmoid_derivative,
    sigmoid_inplace,
    tanh,
    tanh_derivative,
    tanh_inplace,
)

DTYPES = [np.float32, np.float64]
X_MODERATE = np.linspace(-30, 30, 121)


def test_sigmoid_equals_the_textbook_formula_computed_by_hand():
    expected = np.array([1 / (1 + math.exp(-x)) for x in X_MODERATE])
    np.testing.assert_allclose(sigmoid(X_MODERATE), expected, rtol=1e-15, atol=0)


def test_sigmoid_of_known_points():
    assert sigmoid(0.0) == 0.5
    assert sigmoid(math.log(3)) == pytest.approx(0.75, abs=1e-16)
    assert sigmoid(-math.log(3)) == pytest.approx(0.25, abs=1e-16)


def test_sigmoid_keeps_tiny_values_accurate_where_one_minus_is_useless():
    # 1 - sigmoid(30) rounds to ~1e-13 with no correct digits; the stable form is exact
    assert sigmoid(-30.0) == pytest.approx(1 / (1 + math.exp(30)), rel=1e-14)
    assert sigmoid(-700.0) == pytest.approx(math.exp(-700), rel=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", [sigmoid, tanh, sigmoid_derivative, tanh_derivative])
def test_activation_keeps_the_dtype(fn, dtype):
    x = np.linspace(-5, 5, 11, dtype=dtype)
    assert fn(x).dtype == dtype, f"{fn.__name__}({dtype.__name__} array) changed the dtype"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", [sigmoid, sigmoid_derivative, tanh, tanh_derivative])
def test_activation_is_silent_and_exact_at_plus_minus_1e4(fn, dtype):
    x = np.array([-1e4, -1e3, -100.0, -50.0, 0.0, 50.0, 100.0, 1e3, 1e4], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = fn(x)
    assert np.isfinite(y).all(), f"{fn.__name__} gave NaN or inf: {y}"
    assert y.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_reaches_its_limits_at_plus_minus_1e4(dtype):
    y = sigmoid(np.array([-1e4, 1e4], dtype=dtype))
    np.testing.assert_array_equal(y, np.array([0.0, 1.0], dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_inplace_is_silent_and_overwrites_its_argument(dtype):
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out = sigmoid_inplace(x)
    assert out is x and x.dtype == dtype
    np.testing.assert_array_equal(x, np.array([0.0, 0.0, 0.5, 1.0, 1.0], dtype=dtype))


@pytest.mark.parametrize(("dtype", "atol"), [(np.float64, 3e-16), (np.float32, 2e-7)])
def test_sigmoid_inplace_agrees_with_sigmoid(dtype, atol):
    x = np.linspace(-40, 40, 2001).astype(dtype)
    np.testing.assert_allclose(sigmoid_inplace(x.copy()), sigmoid(x), rtol=0, atol=atol)


def test_tanh_inplace_is_numpy_tanh_in_place():
    x = np.linspace(-3, 3, 7)
    expected = np.tanh(x)
    assert tanh_inplace(x) is x
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize(("fn", "dfn"), [(sigmoid, sigmoid_derivative), (tanh, tanh_derivative)])
def test_derivative_matches_central_differences(fn, dfn):
    x = np.linspace(-6, 6, 25)
    eps = 1e-6
    numeric = (fn(x + eps) - fn(x - eps)) / (2 * eps)
    np.testing.assert_allclose(dfn(x), numeric, rtol=1e-7, atol=1e-10)


def test_a_scalar_gives_a_scalar_and_a_list_gives_float64():
    assert np.ndim(sigmoid(0.3)) == 0 and isinstance(sigmoid(0.3), np.floating)
    y = tanh([0.0, 1.0])
    assert isinstance(y, np.ndarray) and y.dtype == np.float64


def test_integer_arrays_are_converted_to_float64():
    y = sigmoid(np.arange(-2, 3))
    assert y.dtype == np.float64
    assert y[2] == 0.5


@pytest.mark.parametrize(
    "bad",
    [
        np.array([1 + 2j]),
        np.array([True, False]),
        np.array(["a"]),
        np.array([1.0], dtype=object),
        np.array([1.0], dtype=np.float16),
        "0.5",
        None,
    ],
    ids=["complex", "bool", "str array", "object", "float16", "str", "None"],
)
@pytest.mark.parametrize("fn", [sigmoid, tanh])
def test_activation_refuses_non_real_input_with_a_type_error_naming_x(fn, bad):
    with pytest.raises(TypeError, match=r"^x: expected"):
        fn(bad)
