"""Make the trained weights the chapters read: ``make weights`` (all) or ``make weights W=name``.

Each entry of RECIPES names a file of ``book/data/`` and the lstmlib function that trains it.
That function takes no arguments (its seeds and settings are written in it, and it records them
in the recipe it returns) and returns ``(params, recipe)``; this script saves both with
:func:`lstmlib.store.save_params`, adding how long the training took and on what BLAS.

Training is chaotic, so the weights this script makes on your machine may differ from the stored
ones in their last digits or more; the chapters' claims are about the stored files, and the tests
(``tests/test_weights.py``) check that the recipe still gives weights with the same qualitative
findings.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from lstmlib import store

HERE = Path(__file__).resolve().parent

#: file name in book/data -> "module:function" in lstmlib that trains it
RECIPES: dict[str, str] = {
    "inside_unit.npz": "analysis:trained_latch_recipe",  # chapter 10, Inside a trained unit
    "no_forget_run.npz": "variants:no_forget_stream_recipe",  # chapter 11, Variants
    "drifting_peephole_run.npz": "variants:drifting_peephole_recipe",  # chapter 11, Variants
}


def make(name: str) -> Path:
    module, function = RECIPES[name].split(":")
    recipe_fn = getattr(__import__(f"lstmlib.{module}", fromlist=[function]), function)
    start = time.perf_counter()
    params, recipe = recipe_fn()
    seconds = time.perf_counter() - start
    recipe = {
        "made_by": f"make weights W={name} (lstmlib.{module}.{function})",
        **recipe,
        "training_seconds": round(seconds, 1),
        "made_with": {"numpy": np.__version__, "python": platform.python_version()},
    }
    path = store.save_params(HERE / name, params, recipe=recipe)
    print(f"{path.relative_to(HERE.parent.parent)}: {seconds:.1f} s")
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"files to make (default: all): {list(RECIPES)}")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in RECIPES]
    if unknown:
        parser.error(f"unknown weights {unknown}; known: {list(RECIPES)}")
    for name in args.names or RECIPES:
        make(name)


if __name__ == "__main__":
    main()
