"""The valves' activation functions: a numerically stable sigmoid, tanh, and their derivatives.

``sigmoid(x) = 1 / (1 + exp(-x))`` squeezes any number into (0, 1): how far a valve is open.
``tanh(x)`` squeezes any number into (-1, 1): the candidate memory ``G_t`` and the output
``tanh(c_t)``.

Written naively, ``1 / (1 + exp(-x))`` overflows ``exp`` for x < -88.7 in float32 (x < -709.8 in
float64): numpy warns, and only luck (``1 / inf == 0``) gives the right answer. :func:`sigmoid`
never exponentiates a positive number: with ``e = exp(-|x|)``, which lies in (0, 1],

    sigmoid(x) = 1 / (1 + e)   for x >= 0,        sigmoid(x) = e / (1 + e)   for x < 0,

both exact rewritings, so it is accurate (to a few ulps, even for results as small as 1e-300) and
silent for every input, ``±inf`` included (NaN stays NaN).

Every function takes a number, a list, or a float32/float64 array (integer arrays are converted to
float64) and returns the same dtype and shape (a numpy scalar for a scalar).

:func:`sigmoid_inplace` and :func:`tanh_inplace` are fast forms for layers: they overwrite their
argument (an ndarray, not checked) and allocate nothing.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_array

__all__ = [
    "sigmoid",
    "sigmoid_derivative",
    "sigmoid_inplace",
    "tanh",
    "tanh_derivative",
    "tanh_inplace",
]


def _checked(x) -> np.ndarray:
    return check_array("x", x, finite=False, nonempty=False, allow_int=True)


def _out(result: np.ndarray):
    return result[()] if result.ndim == 0 else result  # a numpy scalar for a scalar input


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, elementwise, computed without overflow."""
    x = _checked(x)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    s = 1 / (1 + e)  # sigmoid(|x|)
    return _out(np.where(x >= 0, s, e * s))  # sigmoid(-|x|) = e / (1 + e) = e * sigmoid(|x|)


def sigmoid_derivative(x):
    """``d sigmoid(x) / dx = sigmoid(x) * (1 - sigmoid(x))``, elementwise."""
    s = sigmoid(x)
    return _out(np.asarray(s * (1 - s)))


def tanh(x):
    """The hyperbolic tangent, elementwise (``np.tanh`` with lstmlib's argument checks)."""
    return _out(np.tanh(_checked(x)))


def tanh_derivative(x):
    """``d tanh(x) / dx = 1 - tanh(x)**2``, elementwise."""
    t = np.tanh(_checked(x))
    return _out(1 - t * t)


def sigmoid_inplace(z: np.ndarray) -> np.ndarray:
    """Overwrite the float array ``z`` with ``sigmoid(z)`` and return it (for layers).

    Uses ``sigmoid(z) = (1 + tanh(z / 2)) / 2``: four in-place passes, no temporary, no overflow
    for any input. Measured on the book's machine, numpy's vectorised tanh costs less per element
    than ``exp`` plus a division in float32 (0.28 vs 0.45 ns per element for the whole sigmoid) and
    about the same in float64. The result agrees with :func:`sigmoid` to within a few ulps of 1 in
    absolute terms; only results below ~1e-8 (a valve shut) lose relative accuracy.
    (``LSTM.forward`` goes one step further and folds the halving into its weights.)
    """
    np.multiply(z, 0.5, out=z)
    np.tanh(z, out=z)
    np.multiply(z, 0.5, out=z)
    np.add(z, 0.5, out=z)
    return z


def tanh_inplace(z: np.ndarray) -> np.ndarray:
    """Overwrite the float array ``z`` with ``tanh(z)`` and return it."""
    return np.tanh(z, out=z)
