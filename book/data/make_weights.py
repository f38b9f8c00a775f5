"""Make the trained weights the chapters read: ``make weights`` (all) or ``make weights W=name``.

Each entry of RECIPES names a file of ``book/data/`` and the lstmlib function that trains it.
That function takes no arguments, or only ``data_dir`` (this directory, for recipes that read the
corpus); its seeds and settings are written in it, and it records them in the recipe it returns.
It returns ``(params, recipe)``; this script saves both with :func:`lstmlib.store.save_params`,
adding how long the training took and with what. Recipes run ``--jobs`` at a time (default 2, one
process per core; each process uses one BLAS thread, as ``make`` sets).

Training is chaotic, so the weights this script makes on your machine may differ from the stored
ones in their last digits or more; the chapters' claims are about the stored files, and the tests
(``tests/test_weights.py``) check that the recipe still gives weights with the same qualitative
findings.
"""

from __future__ import annotations

import argparse
import inspect
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from lstmlib import store

HERE = Path(__file__).resolve().parent

#: file name in book/data -> "module:function" in lstmlib that trains it
RECIPES: dict[str, str] = {
    "inside_unit.npz": "analysis:trained_latch_recipe",  # chapter 10, Inside a trained unit
    "no_forget_run.npz": "variants:no_forget_stream_recipe",  # chapter 11, Variants
    "drifting_peephole_run.npz": "variants:drifting_peephole_recipe",  # chapter 11, Variants
    # part "Speaking for real": about 10 minutes each on one core of a 2020s x86-64 CPU
    "char_lstm.npz": "charlm:char_lstm_recipe",
    "char_rnn.npz": "charlm:char_rnn_recipe",
}


def make(name: str) -> Path:
    module, function = RECIPES[name].split(":")
    recipe_fn = getattr(__import__(f"lstmlib.{module}", fromlist=[function]), function)
    start, cpu_start = time.perf_counter(), time.process_time()
    wants_dir = "data_dir" in inspect.signature(recipe_fn).parameters
    params, recipe = recipe_fn(HERE) if wants_dir else recipe_fn()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    recipe = {
        "made_by": f"make weights W={name} (lstmlib.{module}.{function})",
        **recipe,
        "training_seconds": round(seconds, 1),
        "training_cpu_seconds": round(cpu_seconds, 1),  # wall time on a loaded machine is longer
        "made_with": {"numpy": np.__version__, "python": platform.python_version()},
    }
    path = store.save_params(HERE / name, params, recipe=recipe)
    print(f"{path.relative_to(HERE.parent.parent)}: {seconds:.1f} s ({cpu_seconds:.1f} s of CPU)")
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"files to make (default: all): {list(RECIPES)}")
    parser.add_argument("--jobs", type=int, default=2, help="recipes run at once (default 2)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in RECIPES]
    if unknown:
        parser.error(f"unknown weights {unknown}; known: {list(RECIPES)}")
    names = args.names or list(RECIPES)
    if args.jobs <= 1 or len(names) == 1:
        for name in names:
            make(name)
        return
    # the longest recipes first, so that the two cores finish together
    names.sort(key=lambda n: not n.startswith("char_"))
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for _ in pool.map(make, names):
            pass


if __name__ == "__main__":
    main()
