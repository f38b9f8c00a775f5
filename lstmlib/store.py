"""Trained weights on disk, with the recipe that made them.

Training is chaotic: the last bit of a matrix product (which differs between BLAS kernels, thread
counts and CPUs) decides which network a seed gives. So a chapter that makes a claim about *one*
trained network reads that network from a file in ``book/data/`` rather than training it live,
and the file says how it was made::

    save_params("book/data/latch.npz", model.params, recipe={"function": "...", "seed": 1, ...})
    params, recipe = load_params("book/data/latch.npz")
    model.params["core.W_f"]  # ... copy the arrays into a freshly built model: see load_into

An ``.npz`` file holds one array per parameter (``model.params``' keys, e.g. ``"core.W_f"``) and
one more entry, ``"__recipe__"``: a JSON text with the command and settings that produced the
weights and the metrics they reached. The files are plain numpy: ``np.load(path)`` reads them
without lstmlib.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ._checks import check_array

__all__ = ["RECIPE_KEY", "load_into", "load_params", "save_params"]

#: The entry of the ``.npz`` file that holds the recipe, as JSON text.
RECIPE_KEY = "__recipe__"


def save_params(path, params: Mapping[str, np.ndarray], *, recipe: Mapping) -> Path:
    """Write ``params`` (name -> float array) and ``recipe`` (JSON-able dict) to ``path`` (.npz).

    The arrays must be finite float32/float64; ``recipe`` should name the function and settings
    that made the weights (so that anyone can make them again) and may hold their metrics.
    Returns the path written.
    """
    if not isinstance(params, Mapping) or not params:
        raise TypeError(f"params: expected a non-empty dict of arrays, got {type(params).__name__}")
    arrays = {}
    for k, v in params.items():
        if not isinstance(k, str) or k == RECIPE_KEY:
            raise ValueError(f"params: expected str keys other than {RECIPE_KEY!r}, got {k!r}")
        arrays[k] = check_array(f"params[{k!r}]", v)
    if not isinstance(recipe, Mapping):
        raise TypeError(f"recipe: expected a dict, got {type(recipe).__name__}")
    try:
        text = json.dumps(dict(recipe), indent=1, sort_keys=True)
    except TypeError as err:
        raise TypeError(f"recipe: expected JSON-able values ({err})") from None
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"path: expected a file name ending in .npz, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays, **{RECIPE_KEY: np.array(text)})
    return path


def load_params(path) -> tuple[dict[str, np.ndarray], dict]:
    """Read a file written by :func:`save_params`: ``(params, recipe)``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no such file {str(path)!r}")
    with np.load(path, allow_pickle=False) as data:
        if RECIPE_KEY not in data.files:
            raise ValueError(f"path: {str(path)!r} has no {RECIPE_KEY!r} entry (not a saved model)")
        recipe = json.loads(str(data[RECIPE_KEY]))
        params = {k: data[k] for k in data.files if k != RECIPE_KEY}
    return params, recipe


def load_into(model, path) -> dict:
    """Copy the weights stored in ``path`` into ``model.params`` (in place) and return the recipe.

    ``model`` is any lstmlib layer or ``SequenceModel`` built with the same sizes as the stored
    one; its keys, shapes and dtypes must match the file's exactly (a mismatch is a
    ``ValueError`` naming the first difference, nothing is copied).
    """
    params, recipe = load_params(path)
    target = model.params
    if sorted(target) != sorted(params):
        raise ValueError(
            f"path: the file holds {sorted(params)}, the model expects {sorted(target)}"
        )
    for k, v in params.items():
        if target[k].shape != v.shape or target[k].dtype != v.dtype:
            raise ValueError(
                f"path: {k!r} is {v.dtype}{list(v.shape)} in the file, the model expects "
                f"{target[k].dtype}{list(target[k].shape)}"
            )
    for k, v in params.items():
        target[k][...] = v
    return recipe
