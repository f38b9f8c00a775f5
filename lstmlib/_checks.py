"""Argument validation shared by every public function of lstmlib: one place for the messages.

Every check takes the argument's *name* first, spelled as the caller sees it (``"xs"``,
``"state[0] (h0)"``, ``"params['W_f']"``), so that the message names it, and *returns the cleaned
value*, so a caller writes ``xs = check_array("xs", xs, ...)``. The exceptions follow numpy's
convention:

- ``TypeError``: the wrong kind of thing (a bool where an int is expected, an integer, bool,
  complex or object array, an array whose dtype is not the layer's, an unknown dtype);
- ``ValueError``: the right kind with a wrong value (a shape, a non-positive size, NaN or inf);
- ``RuntimeError``: a call out of order (``backward`` before ``forward``).

Arrays. lstmlib computes in float32 or float64 only. A numpy array is never converted: a float64
array given to a float32 layer is a ``TypeError`` that says how to convert it, because a silent
cast would hide a copy or a loss of precision. Python lists and tuples of numbers (and Python
scalars) are accepted and converted to the expected dtype (float64 when none is expected): they
carry no dtype of their own, so nothing is lost.

The checks
----------
``check_positive_int(name, value) -> int``
    an ``int`` (or numpy integer) >= 1; ``True`` and ``3.0`` are refused.
``check_bool(name, value) -> bool``
    ``True`` or ``False`` (or ``np.bool_``), nothing else.
``check_real(name, value, *, finite=True) -> float``
    a real number (not a bool), finite unless ``finite=False``.
``check_dtype(name, dtype) -> np.dtype``
    ``np.float32`` or ``np.float64`` in any spelling (``"float32"``, ``np.dtype("f8")``,
    ``float``).
``check_seed(name, seed) -> np.random.Generator``
    ``None``, an int >= 0, a ``SeedSequence`` or a ``Generator`` (returned as is).
``check_array(name, x, *, shape=None, ndim=None, dtype=None, finite=True, ...) -> np.ndarray``
    the general array check; ``shape`` is a pattern such as ``("T", "B", 3)`` (a string names a
    free dimension in the message, an int fixes it, a leading ``...`` allows any leading
    dimensions), or a list of such patterns, any of which may match.
``check_pair(name, value, names) -> tuple``
    a 2-tuple (or list), e.g. an LSTM ``state`` ``(h0, c0)``.
``check_params(name, params, shapes, dtype=None) -> dict``
    a dict of weight arrays with the given keys and shapes (a layer's ``params``).
``check_lstm_params(name, params, keys=LSTM_PARAM_KEYS) -> (H, n_in, dtype)``
    an LSTM ``params`` dict of either layout; :func:`infer_peephole` then tells which.
``check_called(name, cache, first)``
    ``RuntimeError`` if ``cache`` is ``None``: ``name`` needs ``first`` to be called before.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "LSTM_PARAM_KEYS",
    "SUPPORTED_DTYPES",
    "check_array",
    "check_bool",
    "check_called",
    "check_dtype",
    "check_lstm_params",
    "check_pair",
    "check_params",
    "check_positive_int",
    "check_real",
    "check_seed",
    "format_shape",
    "infer_peephole",
]

#: The floating-point dtypes lstmlib computes in.
SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: The keys of an LSTM's ``params`` (and ``grads``), in the book's order.
LSTM_PARAM_KEYS = ("W_f", "W_i", "W_g", "W_o", "b_f", "b_i", "b_g", "b_o")

_KIND_NAMES = {
    "b": "a bool",
    "i": "an integer",
    "u": "an unsigned integer",
    "c": "a complex",
    "O": "an object",
    "U": "a string",
    "S": "a bytes",
    "M": "a datetime",
    "m": "a timedelta",
    "V": "a structured",
}


def _type_name(value) -> str:
    return type(value).__name__


# --- scalars ------------------------------------------------------------------------------------


def check_positive_int(name: str, value) -> int:
    """``value`` as an ``int`` >= 1 (a size); ``TypeError`` for a bool or a non-integer."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a positive int, got the bool {value!r}")
    try:
        result = operator.index(value)  # int and numpy integers; refuses 3.0 and "3"
    except TypeError:
        raise TypeError(
            f"{name}: expected a positive int, got {_type_name(value)} {value!r}"
        ) from None
    if result < 1:
        raise ValueError(f"{name}: expected a positive int (>= 1), got {result}")
    return result


def check_bool(name: str, value) -> bool:
    """``value`` as a ``bool``; ``TypeError`` for anything but ``True``/``False``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {_type_name(value)} {value!r}")
    return bool(value)


def check_real(name: str, value, *, finite: bool = True) -> float:
    """``value`` as a ``float``: a real number, not a bool; finite unless ``finite=False``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"{name}: expected a real number, got {_type_name(value)} {value!r}")
    result = float(value)
    if finite and not np.isfinite(result):
        raise ValueError(f"{name}: expected a finite number, got {result}")
    return result


def check_dtype(name: str, dtype) -> np.dtype:
    """``dtype`` as ``np.dtype("float32")`` or ``np.dtype("float64")``; ``TypeError`` otherwise."""
    expected = "np.float32 or np.float64"
    if dtype is None or isinstance(dtype, bool):
        raise TypeError(f"{name}: expected {expected}, got {dtype!r}")
    try:
        result = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: expected {expected}, got {dtype!r} (not a dtype)") from None
    if result not in SUPPORTED_DTYPES:
        raise TypeError(f"{name}: expected {expected}, got {result}")
    return result


def check_seed(name: str, seed) -> np.random.Generator:
    """A ``np.random.Generator`` from ``seed``: ``None`` (fresh entropy), an int >= 0, a
    ``SeedSequence``, or a ``Generator`` (returned as is, so a caller can share one stream)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"{name}: expected None, an int >= 0 or a np.random.Generator, "
            f"got {_type_name(seed)} {seed!r}"
        )
    if seed < 0:
        raise ValueError(f"{name}: expected an int >= 0, got {seed}")
    return np.random.default_rng(int(seed))


# --- arrays -------------------------------------------------------------------------------------


def format_shape(pattern) -> str:
    """A shape pattern as text: ``("T", "B", 3)`` -> ``"(T, B, 3)"``, ``(5,)`` -> ``"(5,)"``."""
    parts = ["..." if p is Ellipsis else ("?" if p is None else str(p)) for p in pattern]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _matches(pattern, shape: tuple[int, ...]) -> bool:
    if pattern and pattern[0] is Ellipsis:
        tail = pattern[1:]
        if len(shape) < len(tail):
            return False
        shape = shape[len(shape) - len(tail) :]
        pattern = tail
    if len(pattern) != len(shape):
        return False
    fixed = (int, np.integer)
    return all(not isinstance(p, fixed) or p == s for p, s in zip(pattern, shape, strict=True))


def _ndim_text(ndim) -> str:
    dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    return " or ".join(f"{d}-D" for d in dims) + " array"


def _to_array(name: str, x, dtype, allow_int: bool) -> np.ndarray:
    """``x`` as an ndarray: arrays as they are, lists/tuples/scalars converted to ``dtype``."""
    if isinstance(x, np.ndarray):
        arr = x
        if arr.dtype.kind in "iu" and allow_int:
            return arr.astype(dtype if dtype is not None else np.float64)
    elif isinstance(x, (list, tuple, int, float, np.generic)) and not isinstance(x, bool):
        try:
            arr = np.asarray(x)
        except ValueError as err:  # ragged nested lists
            raise ValueError(f"{name}: could not be read as an array ({err})") from None
        if arr.dtype.kind in "iuf" and isinstance(x, (list, tuple, int, float)):
            # Python numbers carry no dtype: convert them to the one expected
            if dtype is not None:
                return arr.astype(dtype)
            return arr if arr.dtype in SUPPORTED_DTYPES else arr.astype(np.float64)
        if arr.dtype.kind in "iu" and allow_int:
            return arr.astype(dtype if dtype is not None else np.float64)
    else:
        raise TypeError(
            f"{name}: expected a numpy array of floats (or a list of numbers), got {_type_name(x)}"
        )
    if arr.dtype.kind != "f":
        what = _KIND_NAMES.get(arr.dtype.kind, "a non-float")
        raise TypeError(
            f"{name}: expected a float32 or float64 array, got {what} array (dtype "
            f"{arr.dtype}); convert it with .astype(np.float64) or .astype(np.float32)"
        )
    if arr.dtype not in SUPPORTED_DTYPES:
        raise TypeError(
            f"{name}: expected a float32 or float64 array, got dtype {arr.dtype}; convert it "
            f"with .astype(np.float64) or .astype(np.float32)"
        )
    return arr


def check_array(
    name: str,
    x,
    *,
    shape=None,
    ndim=None,
    dtype=None,
    finite: bool = True,
    nonempty: bool = True,
    allow_int: bool = False,
    shape_hint: str = "",
    dtype_hint: str = "",
) -> np.ndarray:
    """Check that ``x`` is a float32/float64 array of the expected shape; return it.

    name        the argument's name for the message.
    shape       a pattern ``(T, B, 3)``-like: an int fixes a dimension, a string (or ``None``)
                leaves it free and names it in the message, a leading ``...`` allows any
                leading dimensions; or a list of patterns, one of which must match.
    ndim        an int or a tuple of ints: the allowed numbers of dimensions.
    dtype       the exact dtype required (``None``: float32 or float64).
    finite      refuse NaN and inf (``ValueError`` naming the first offending index).
    nonempty    refuse arrays with a zero-length dimension.
    allow_int   convert integer arrays to ``dtype`` (default float64) instead of refusing them.
    shape_hint  appended to a shape message, e.g. ``"with D=3 (the layer's input_size)"``.
    dtype_hint  appended to a dtype message, e.g. ``"the layer's dtype"``.

    Lists, tuples and Python scalars are converted to ``dtype`` (float64 if ``None``); numpy
    arrays are returned as they are (never copied, never cast, except ``allow_int``).
    """
    if dtype is not None:
        dtype = np.dtype(dtype)
    arr = _to_array(name, x, dtype, allow_int)
    if dtype is not None and arr.dtype != dtype:
        hint = f" ({dtype_hint})" if dtype_hint else ""
        raise TypeError(
            f"{name}: expected dtype {dtype}{hint}, got {arr.dtype}; convert it with "
            f".astype(np.{dtype})"
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            if shape is None:
                raise ValueError(
                    f"{name}: expected a {_ndim_text(ndim)}, got {arr.ndim}-D shape {arr.shape}"
                    + (f" ({shape_hint})" if shape_hint else "")
                )
            _shape_error(name, arr, shape, shape_hint)
    if shape is not None:
        patterns = shape if isinstance(shape, list) else [shape]
        if not any(_matches(tuple(p), arr.shape) for p in patterns):
            _shape_error(name, arr, shape, shape_hint)
    if nonempty and arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty array, got shape {arr.shape}")
    if finite and not np.isfinite(arr).all():
        bad = ~np.isfinite(arr)
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name}: expected finite numbers, got {int(bad.sum())} NaN or inf value(s), "
            f"the first at index {index} ({arr[index]})"
        )
    return arr


def _shape_error(name: str, arr: np.ndarray, shape, shape_hint: str):
    patterns = shape if isinstance(shape, list) else [shape]
    expected = " or ".join(format_shape(p) for p in patterns)
    hint = f" {shape_hint}" if shape_hint else ""
    raise ValueError(f"{name}: expected shape {expected}{hint}, got {arr.shape}")


def check_pair(name: str, value, names: tuple[str, str]) -> tuple:
    """``value`` as a 2-tuple, e.g. an LSTM ``state`` ``(h0, c0)``; ``names`` for the message."""
    if isinstance(value, np.ndarray) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(
            f"{name}: expected a pair ({names[0]}, {names[1]}) (a tuple of two arrays) or None, "
            f"got {_type_name(value)}"
            + (f" of length {len(value)}" if isinstance(value, (list, tuple)) else "")
        )
    return tuple(value)


def check_params(name: str, params, shapes: Mapping[str, tuple], dtype=None) -> dict:
    """Check a dict of weight arrays: exactly the keys of ``shapes``, each of its shape (NaN and
    inf allowed: a diverged training run is a result, not a usage error) and of ``dtype``.

    ``shapes`` maps each key to its shape pattern (see :func:`check_array`), e.g.
    ``{"W": (4, 7), "b": (4,)}``. Returns a plain dict of the arrays (not copies).
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"{name}: expected a dict of arrays, got {_type_name(params)}")
    missing = [k for k in shapes if k not in params]
    extra = [k for k in params if k not in shapes]
    if missing or extra:
        what = []
        if missing:
            what.append("missing " + ", ".join(map(repr, missing)))
        if extra:
            what.append("unexpected " + ", ".join(map(repr, extra)))
        raise ValueError(
            f"{name}: expected the keys {', '.join(map(repr, shapes))}; {' and '.join(what)}"
        )
    want = None if dtype is None else np.dtype(dtype)
    checked = {}
    for k, s in shapes.items():
        value = params[k]
        # Fast path (a layer checks its params on every forward): an ndarray of exactly the
        # expected shape and dtype needs nothing more. Anything else gets the full check, which
        # either accepts it or explains what is wrong.
        if type(value) is np.ndarray and value.shape == s and (want is None or value.dtype == want):
            checked[k] = value
            continue
        checked[k] = check_array(
            f"{name}[{k!r}]", value, shape=s, dtype=dtype, finite=False,
            dtype_hint="the layer's dtype",
        )  # fmt: skip
    return checked


def check_lstm_params(name: str, params, keys=LSTM_PARAM_KEYS) -> tuple[int, int, np.dtype]:
    """Check an LSTM ``params`` dict (at least ``keys``), of either layout; return
    ``(H, n_in, dtype)``: ``W_*`` all (H, n_in), ``b_*`` all (H,), one dtype."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"{name}: expected a dict of arrays (a layer's params), got {_type_name(params)}"
        )
    missing = [k for k in keys if k not in params]
    if missing:
        raise ValueError(
            f"{name}: missing {', '.join(map(repr, missing))}; an LSTM's params have the keys "
            f"{', '.join(LSTM_PARAM_KEYS)}"
        )
    first_w = next(k for k in keys if k.startswith("W"))
    W = check_array(
        f"{name}[{first_w!r}]", params[first_w], ndim=2, finite=False, shape_hint="(H, n_in)"
    )
    H, n_in = W.shape
    for k in keys:
        check_array(
            f"{name}[{k!r}]",
            params[k],
            shape=(H, n_in) if k.startswith("W") else (H,),
            dtype=W.dtype,
            finite=False,
            shape_hint=f"like {name}[{first_w!r}] (H={H})",
            dtype_hint=f"that of {name}[{first_w!r}]",
        )
    return H, n_in, W.dtype


def infer_peephole(name: str, H: int, n_in: int, D: int) -> bool:
    """Which layout LSTM weights of width ``n_in`` have for hidden size ``H`` and input size ``D``:
    ``True`` for the source's ``[c, h, x]`` (2H + D), ``False`` for the standard ``[h, x]``
    (H + D); ``ValueError`` if neither fits."""
    if n_in == 2 * H + D:
        return True
    if n_in == H + D:
        return False
    raise ValueError(
        f"{name}: W_* have {n_in} columns, which fits neither the peephole layout [c, h, x] "
        f"(2H + D = {2 * H + D}) nor the standard layout [h, x] (H + D = {H + D}) for H={H} "
        f"(from W_*'s rows) and D={D} (from x)"
    )


def check_called(name: str, cache, first: str = "forward") -> None:
    """``RuntimeError`` unless ``cache`` (what ``first`` stored) exists."""
    if cache is None:
        raise RuntimeError(
            f"{name}: call {first} first: {name} uses the values that {first} stores"
        )


def check_ids(name: str, ids, V: int | None = None, *, ndim: int | None = None) -> np.ndarray:
    """Character (or class) indices: an integer array (or list) with values in ``[0, V)``;
    returned as int64. Floats, bools and out-of-range values are refused."""
    arr = np.asarray(ids)
    if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype == np.float64):
        raise TypeError(f"{name}: expected integer indices, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected {_ndim_text(ndim)}, got shape {arr.shape}")
    if V is not None and arr.size and (arr.min() < 0 or arr.max() >= V):
        raise ValueError(
            f"{name}: expected indices in [0, {V}), got values {arr.min()}..{arr.max()}"
        )
    return arr.astype(np.int64, copy=False)
