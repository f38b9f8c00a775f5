"""lstmlib._checks: every check returns the cleaned value, or names the argument and what was
expected (TypeError for the wrong kind of thing, ValueError for a wrong value)."""

import numpy as np
import pytest

from lstmlib._checks import (
    check_array,
    check_bool,
    check_called,
    check_dtype,
    check_lstm_params,
    check_pair,
    check_params,
    check_positive_int,
    check_real,
    check_seed,
    format_shape,
    infer_peephole,
)

# --- scalars ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.uint8(2)])
def test_check_positive_int_accepts_ints_and_returns_a_python_int(value):
    result = check_positive_int("size", value)
    assert result == int(value) and type(result) is int


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (0, ValueError, r"size: expected a positive int \(>= 1\), got 0"),
        (-3, ValueError, r"size: expected a positive int \(>= 1\), got -3"),
        (2.0, TypeError, r"size: expected a positive int, got float 2.0"),
        (2.5, TypeError, r"size: expected a positive int, got float 2.5"),
        ("3", TypeError, r"size: expected a positive int, got str '3'"),
        (None, TypeError, r"size: expected a positive int, got NoneType None"),
        (True, TypeError, r"size: expected a positive int, got the bool True"),
    ],
)
def test_check_positive_int_refuses_with_a_message_naming_the_argument(value, error, match):
    with pytest.raises(error, match=f"^{match}$"):
        check_positive_int("size", value)


def test_check_bool_accepts_only_true_and_false():
    assert check_bool("peephole", True) is True
    assert check_bool("peephole", np.bool_(False)) is False
    for bad in (1, 0, "yes", None):
        with pytest.raises(TypeError, match=r"^peephole: expected True or False, got"):
            check_bool("peephole", bad)


def test_check_real_accepts_numbers_and_refuses_bools_strings_and_nan():
    assert check_real("forget_bias", 1) == 1.0
    assert check_real("forget_bias", np.float32(0.5)) == 0.5
    with pytest.raises(TypeError, match=r"^forget_bias: expected a real number, got bool"):
        check_real("forget_bias", True)
    with pytest.raises(TypeError, match=r"^forget_bias: expected a real number, got str"):
        check_real("forget_bias", "1")
    with pytest.raises(ValueError, match=r"^forget_bias: expected a finite number, got nan"):
        check_real("forget_bias", float("nan"))
    assert check_real("x", float("inf"), finite=False) == float("inf")


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        (np.float32, np.float32),
        ("float32", np.float32),
        (np.dtype("f4"), np.float32),
        (np.float64, np.float64),
        ("float64", np.float64),
        (float, np.float64),
    ],
)
def test_check_dtype_accepts_every_spelling_of_float32_and_float64(spelling, expected):
    assert check_dtype("dtype", spelling) == np.dtype(expected)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.float16, r"got float16$"),
        (np.int64, r"got int64$"),
        (complex, r"got complex128$"),
        ("foo", r"got 'foo' \(not a dtype\)$"),
        (None, r"got None$"),
        (True, r"got True$"),
    ],
)
def test_check_dtype_refuses_anything_else_with_a_type_error(bad, match):
    with pytest.raises(TypeError, match=r"^dtype: expected np.float32 or np.float64, " + match):
        check_dtype("dtype", bad)


def test_check_seed_makes_repeatable_generators_and_passes_a_generator_through():
    assert check_seed("seed", 3).random() == check_seed("seed", 3).random()
    assert check_seed("seed", np.int64(3)).random() == np.random.default_rng(3).random()
    rng = np.random.default_rng(0)
    assert check_seed("seed", rng) is rng
    assert isinstance(check_seed("seed", None), np.random.Generator)
    with pytest.raises(TypeError, match=r"^seed: expected None, an int >= 0"):
        check_seed("seed", 1.5)
    with pytest.raises(ValueError, match=r"^seed: expected an int >= 0, got -1"):
        check_seed("seed", -1)


# --- arrays ----------------------------------------------------------------------------------


def test_format_shape_writes_patterns_as_the_book_does():
    assert format_shape(("T", "B", 3)) == "(T, B, 3)"
    assert format_shape((5,)) == "(5,)"
    assert format_shape((..., 4)) == "(..., 4)"
    assert format_shape((None, 2)) == "(?, 2)"


def test_check_array_returns_a_matching_array_itself():
    x = np.zeros((5, 2, 3))
    assert check_array("xs", x, shape=("T", "B", 3), dtype=np.float64) is x


def test_check_array_shape_message_names_the_argument_the_pattern_and_the_hint():
    msg = r"^xs: expected shape \(T, B, 3\) with D=3 \(the layer's input_size\), got \(5, 2, 4\)$"
    with pytest.raises(ValueError, match=msg):
        check_array(
            "xs",
            np.zeros((5, 2, 4)),
            shape=("T", "B", 3),
            shape_hint="with D=3 (the layer's input_size)",
        )


def test_check_array_wrong_rank_gets_the_same_shape_message():
    with pytest.raises(ValueError, match=r"^xs: expected shape \(T, B, 3\), got \(5, 3\)$"):
        check_array("xs", np.zeros((5, 3)), shape=("T", "B", 3))


def test_check_array_accepts_any_of_several_patterns():
    patterns = [(4,), ("B", 4)]
    check_array("x", np.zeros(4), shape=patterns)
    check_array("x", np.zeros((2, 4)), shape=patterns)
    with pytest.raises(ValueError, match=r"^x: expected shape \(4,\) or \(B, 4\), got \(2, 3\)$"):
        check_array("x", np.zeros((2, 3)), shape=patterns)


def test_check_array_leading_ellipsis_allows_any_leading_dimensions():
    for shape in [(3,), (2, 3), (4, 2, 3)]:
        check_array("x", np.zeros(shape), shape=(..., 3))
    with pytest.raises(ValueError, match=r"^x: expected shape \(\.\.\., 3\), got \(2, 4\)$"):
        check_array("x", np.zeros((2, 4)), shape=(..., 3))


def test_check_array_ndim_alone():
    with pytest.raises(ValueError, match=r"^x: expected a 1-D or 2-D array, got 3-D shape"):
        check_array("x", np.zeros((1, 1, 1)), ndim=(1, 2))


def test_check_array_dtype_mismatch_is_a_type_error_that_says_how_to_convert():
    msg = (
        r"^xs: expected dtype float32 \(the layer's dtype\), got float64; "
        r"convert it with \.astype\(np\.float32\)$"
    )
    with pytest.raises(TypeError, match=msg):
        check_array("xs", np.zeros(3), dtype=np.float32, dtype_hint="the layer's dtype")


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        (np.zeros(3, dtype=int), "an integer"),
        (np.zeros(3, dtype=np.uint8), "an unsigned integer"),
        (np.zeros(3, dtype=bool), "a bool"),
        (np.zeros(3, dtype=complex), "a complex"),
        (np.zeros(3, dtype=object), "an object"),
    ],
)
def test_check_array_refuses_non_float_arrays_naming_their_kind(bad, what):
    with pytest.raises(TypeError, match=rf"^xs: expected a float32 or float64 array, got {what}"):
        check_array("xs", bad)


def test_check_array_refuses_float16_and_non_arrays():
    with pytest.raises(TypeError, match=r"got dtype float16"):
        check_array("xs", np.zeros(3, dtype=np.float16))
    with pytest.raises(TypeError, match=r"^xs: expected a numpy array of floats"):
        check_array("xs", "abc")
    with pytest.raises(TypeError, match=r"^xs: expected a numpy array of floats"):
        check_array("xs", {"a": 1})


def test_check_array_converts_lists_to_the_expected_dtype():
    x = check_array("x", [[1, 2], [3, 4]], dtype=np.float32)
    assert x.dtype == np.float32 and x.shape == (2, 2)
    assert check_array("x", [1, 2.5]).dtype == np.float64


def test_check_array_refuses_lists_of_bools_strings_and_ragged_lists():
    with pytest.raises(TypeError, match=r"^x: expected a float32 or float64 array, got a bool"):
        check_array("x", [True, False])
    with pytest.raises(TypeError, match=r"^x: expected a float32 or float64 array, got a string"):
        check_array("x", ["a"])
    with pytest.raises(ValueError, match=r"^x: could not be read as an array"):
        check_array("x", [[1.0], [1.0, 2.0]])


def test_check_array_allow_int_converts_integer_arrays():
    assert check_array("x", np.arange(3), allow_int=True).dtype == np.float64
    assert check_array("x", np.arange(3), allow_int=True, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_array_finds_nan_and_inf_and_names_the_first_index(bad):
    x = np.zeros((2, 3))
    x[1, 2] = bad
    with pytest.raises(
        ValueError,
        match=r"^xs: expected finite numbers, got 1 NaN or inf "
        r"value\(s\), the first at index \(1, 2\)",
    ):
        check_array("xs", x)
    assert check_array("xs", x, finite=False) is x


def test_check_array_refuses_empty_arrays_unless_told():
    with pytest.raises(ValueError, match=r"^xs: expected a non-empty array, got shape \(0, 2, 3\)"):
        check_array("xs", np.zeros((0, 2, 3)))
    check_array("xs", np.zeros((0, 2, 3)), nonempty=False)


def test_check_pair_wants_two_things():
    assert check_pair("state", [1, 2], ("h0", "c0")) == (1, 2)
    for bad in (np.zeros((2, 3)), (1,), (1, 2, 3), 5):
        with pytest.raises(TypeError, match=r"^state: expected a pair \(h0, c0\)"):
            check_pair("state", bad, ("h0", "c0"))


def test_check_params_wants_exactly_the_keys_shapes_and_dtype():
    shapes = {"W": (2, 3), "b": (2,)}
    good = {"W": np.zeros((2, 3)), "b": np.zeros(2)}
    assert check_params("params", good, shapes, np.float64)["W"] is good["W"]
    with pytest.raises(ValueError, match=r"^params: expected the keys 'W', 'b'; missing 'b'"):
        check_params("params", {"W": good["W"]}, shapes)
    with pytest.raises(ValueError, match=r"unexpected 'c'"):
        check_params("params", {**good, "c": 1}, shapes)
    with pytest.raises(ValueError, match=r"^params\['W'\]: expected shape \(2, 3\), got \(3, 2\)"):
        check_params("params", {**good, "W": np.zeros((3, 2))}, shapes)
    with pytest.raises(TypeError, match=r"^params\['b'\]: expected dtype float64"):
        check_params("params", {**good, "b": np.zeros(2, np.float32)}, shapes, np.float64)
    with pytest.raises(TypeError, match=r"^params: expected a dict of arrays, got list"):
        check_params("params", [1], shapes)


def _lstm_params(H, n_in, dtype=np.float64):
    return {
        **{f"W_{g}": np.zeros((H, n_in), dtype) for g in "figo"},
        **{f"b_{g}": np.zeros(H, dtype) for g in "figo"},
    }


def test_check_lstm_params_reads_sizes_and_dtype():
    assert check_lstm_params("params", _lstm_params(4, 11, np.float32)) == (4, 11, np.float32)


def test_check_lstm_params_finds_the_inconsistent_array():
    params = _lstm_params(4, 11)
    params["W_o"] = np.zeros((4, 10))
    with pytest.raises(ValueError, match=r"^params\['W_o'\]: expected shape \(4, 11\)"):
        check_lstm_params("params", params)
    params = _lstm_params(4, 11)
    params["b_g"] = np.zeros(4, np.float32)
    with pytest.raises(TypeError, match=r"^params\['b_g'\]: expected dtype float64"):
        check_lstm_params("params", params)
    params = _lstm_params(4, 11)
    del params["b_i"]
    with pytest.raises(ValueError, match=r"^params: missing 'b_i'"):
        check_lstm_params("params", params)


def test_infer_peephole_reads_the_layout_from_the_width():
    assert infer_peephole("params", H=4, n_in=11, D=3) is True
    assert infer_peephole("params", H=4, n_in=7, D=3) is False
    with pytest.raises(
        ValueError,
        match=r"fits neither the peephole layout \[c, h, x\] "
        r"\(2H \+ D = 11\) nor the standard layout \[h, x\] \(H \+ D = 7\)",
    ):
        infer_peephole("params", H=4, n_in=9, D=3)


def test_check_called_raises_runtime_error_before_the_first_call():
    check_called("backward", cache=(1,))
    with pytest.raises(RuntimeError, match=r"^backward: call forward first"):
        check_called("backward", cache=None)
