"""Finite differences, shared by the tests that check exact gradients."""

from __future__ import annotations

import numpy as np


def numerical_gradient(loss, arr: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``loss()`` with respect to every entry of ``arr``.

    ``arr`` is nudged in place (and restored), so ``loss`` must read it afresh on every call.
    """
    grad = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + eps
        up = loss()
        arr[idx] = old - eps
        down = loss()
        arr[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``|a - b| / max(|a|, |b|)`` in the Frobenius norm (0 when both are zero)."""
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300))
