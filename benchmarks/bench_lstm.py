"""How fast is lstmlib's LSTM? Forward and forward+backward, against numpy's own matrix products,
the naive per-valve LSTM, and (when it is installed) torch.nn.LSTM.

Usage::

    python benchmarks/bench_lstm.py [--quick] [--json out.json] [--strict] [--threads 1,2]

In one run, in float32, for each thread count (default 1 and 2) the script starts itself in a
subprocess with ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` set before
numpy is imported (the only reliable way to fix BLAS's thread count), and there:

* reports which BLAS numpy uses (threadpoolctl's info if it is installed: library, version,
  kernel ("architecture"), threads; otherwise ``numpy.show_config``);
* measures numpy's float32 matrix-product rate on ``(1024, 1024) @ (1024, 1024)``, timed in
  the same interleaved rounds as every shape's layers: that is the *peak* the layers at that
  shape are compared with (so that both see the same load); and per shape the rate of the
  product the time loop runs at every step, ``(B, H) @ (H, 4H)``;
* times ``lstmlib.LSTM(peephole=False)`` (the standard LSTM, as torch.nn.LSTM),
  ``lstmlib.LSTM(peephole=True)`` (the source's unit) and ``lstmlib.naive.NaiveLSTM``
  (``peephole=False``: the equations as written, a product per valve per step), and
  ``torch.nn.LSTM`` if torch is importable (``torch.set_num_threads`` set to match), and next
  to them ``lstmlib.GRU`` (and ``torch.nn.GRU``; forward ``2 T B 3H (D + H)`` flops), for
  ``(T, B, D, H)`` in (100, 1, 32, 32), (100, 32, 64, 128), (50, 64, 256, 256),
  (20, 128, 512, 512): the median of several repeats after warm-up, in ms (all of a shape's
  calls timed in interleaved rounds, so that a change in the machine's load hits them alike),
  and in GFLOP/s of
  matrix products (forward ``2 T B 4H (D + H_rec)`` with ``H_rec = H``, or ``2H`` with peepholes;
  backward twice that: :func:`lstmlib.naive.matmul_flops`).

and, at the sizes the book trains at (``T = 52``, ``B = 32``, ``D = 9``, ``H`` in 8, 16, 32, the
source's peephole LSTM and the standard one), the time of training-step forward+backward for
``SEEDS = 8`` models one after another against the same 8 models stacked along a leading model
axis (``LSTM.stack``), which the book's sweeps use to afford many seeds.

Then it prints the table and checks the targets, PASS/FAIL for each:

* forward+backward of the standard layer reaches at least 65% of the matrix-product peak at the
  two largest shapes (at every thread count measured);
* it is at least 3x faster than the naive version at (100, 1, 32, 32) (every thread count);
* 8 stacked seeds take at most half the time of 8 seeds one after another at H = 8 (the size of
  chapters 9-11), and are no slower at H = 32 (1 thread);
* with torch, single-threaded: its time is at most 2.6x torch's at (100, 1, 32, 32), 1.3x at
  (100, 32, 64, 128) and 1.1x at the two largest shapes (forward and forward+backward).

The exit code is 0, whatever the results, unless ``--strict`` (then 1 if a target fails).

``--quick`` takes fewer repeats (and shorter time budgets): a rough run in about a third of the
time. ``--json out.json`` writes everything measured.

Timings on a shared machine vary: run it when the machine is otherwise idle (the script prints the
load average at the start and the end), and compare numbers from one run only.

The BLAS kernel. Some machines set ``OPENBLAS_CORETYPE`` (and ``OPENBLAS_L2_SIZE``) in the
environment, e.g. to force OpenBLAS's Haswell kernel. A current numpy's OpenBLAS on a newer
processor is then slower than with the kernel it would choose itself (e.g. SkylakeX, with
AVX-512). To benchmark with the library's own choice, unset both together, in that command
alone::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_lstm.py

The report names the kernel that ran (with threadpoolctl installed) and the two variables' values.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHAPES = ((100, 1, 32, 32), (100, 32, 64, 128), (50, 64, 256, 256), (20, 128, 512, 512))
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
KERNEL_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
IMPLEMENTATIONS = {  # key -> label in the table
    "standard": "lstmlib.LSTM(peephole=False)",
    "peephole": "lstmlib.LSTM(peephole=True)",
    "naive": "naive.NaiveLSTM(peephole=False)",
    "torch": "torch.nn.LSTM",
    "gru": "lstmlib.GRU",
    "torch_gru": "torch.nn.GRU",
}
PEAK_FRACTION = 0.65  # of the matrix-product peak, forward+backward, the two largest shapes
NAIVE_SPEEDUP = 3.0  # at least this much faster than the naive version at the smallest shape
#: the book's training sizes: T, B, D, and the hidden sizes; how many seeds are stacked
SEED_SHAPE, SEED_SIZES, SEEDS = (52, 32, 9), (8, 16, 32), 8
SEED_SPEEDUP = {8: 2.0, 32: 1.0}  # stacked seeds at least this much faster (1 thread)
TORCH_RATIO = {SHAPES[0]: 2.6, SHAPES[1]: 1.3, SHAPES[2]: 1.1, SHAPES[3]: 1.1}  # at most, 1 thread


# --- the worker: runs in a subprocess with the thread count fixed ----------------------------


def _blas_info() -> dict:
    """Which BLAS numpy runs, and how (threadpoolctl's view if installed)."""
    import numpy as np

    info = {"numpy": np.__version__, "env": {k: os.environ.get(k) for k in KERNEL_VARIABLES}}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')} (threadpoolctl not installed)"
        info["kernel"] = "unknown (pip install threadpoolctl to see it)"
        return info
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if pools:
        p = pools[0]
        info["blas"] = f"{p.get('internal_api')} {p.get('version')} ({p.get('prefix')})"
        info["kernel"] = f"{p.get('architecture')}, {p.get('threading_layer')}"
        info["blas_threads"] = p.get("num_threads")
    else:
        info["blas"], info["kernel"] = "none found by threadpoolctl", "unknown"
    return info


def _interleaved(fns: dict, *, budget: float, min_repeats: int, max_repeats: int = 200) -> dict:
    """Median seconds of each of ``fns`` (name -> callable), timed in interleaved rounds.

    Each round calls every function once, in turn, so that a change in the machine's load hits
    all of them alike and their ratios stay meaningful. Two untimed rounds first (warm-up), then
    as many rounds as fit in ``budget`` seconds (within [min_repeats, max_repeats]).
    Returns name -> {"seconds": median, "best": minimum, "repeats": rounds}.
    """
    import numpy as np

    for _ in range(2):
        start = time.perf_counter()
        for fn in fns.values():
            fn()
        once = time.perf_counter() - start
    repeats = int(np.clip(budget / max(once, 1e-9), min_repeats, max_repeats))
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {
        name: {"seconds": float(np.median(t)), "best": float(np.min(t)), "repeats": repeats}
        for name, t in times.items()
    }


def _product(m: int, k: int, n: int):
    """A callable running float32 (m, k) @ (k, n) into a preallocated result (repeated for tiny
    products, so that the clock can see them), and the flops of one call."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    out = np.empty((m, n), np.float32)
    calls = max(1, int(2e7 / (2 * m * k * n)))

    def run():
        for _ in range(calls):
            np.matmul(a, b, out=out)

    return run, 2 * m * k * n * calls


def _lstmlib_calls(layer, xs) -> tuple:
    """forward, and forward+backward (from dL/dh_t = 1), of an lstmlib layer on ``xs``."""
    import numpy as np

    hs, _ = layer.forward(xs)
    dhs = np.ones_like(hs)

    def forward_backward():
        layer.forward(xs)
        layer.backward(dhs)

    return (lambda: layer.forward(xs)), forward_backward


def _torch_calls(torch, T, B, D, H, module: str = "LSTM") -> tuple:
    """The same two calls for torch.nn.LSTM (or ``module="GRU"``: torch.nn.GRU), float32,
    time-major like lstmlib."""
    torch.manual_seed(0)
    lstm = getattr(torch.nn, module)(D, H)
    x = torch.randn(T, B, D, requires_grad=True)  # so that backward computes dx, as lstmlib does
    dout = torch.ones(T, B, H)

    def forward():
        lstm(x)  # autograd records the graph, as lstmlib's forward stores its cache

    def forward_backward():
        lstm.zero_grad(set_to_none=True)
        x.grad = None
        out, _ = lstm(x)
        out.backward(dout)

    return forward, forward_backward


def worker(threads: int, quick: bool) -> dict:
    """Everything measured at one thread count (the environment already fixes it)."""
    sys.path.insert(0, str(REPO))  # lstmlib from this checkout, installed or not
    import numpy as np

    from lstmlib import GRU, LSTM
    from lstmlib.naive import NaiveLSTM, matmul_flops

    try:
        import torch
    except ImportError:
        torch = None
    else:
        torch.set_num_threads(threads)
    budget = 2.0 if quick else 8.0  # seconds of timed rounds per shape (at least min_repeats)
    min_repeats = 3 if quick else 5
    result = {
        "threads": threads,
        "blas": _blas_info(),
        "torch": None if torch is None else torch.__version__,
        "load_start": os.getloadavg(),
    }
    peak_call, peak_flops = _product(1024, 1024, 1024)
    peaks, shapes = [], []
    for T, B, D, H in SHAPES:
        xs = np.random.default_rng(0).standard_normal((T, B, D)).astype(np.float32)
        fns, flops = {}, {}
        for key, cls, peephole in (
            ("standard", LSTM, False),
            ("peephole", LSTM, True),
            ("naive", NaiveLSTM, False),
        ):
            layer = cls(D, H, peephole=peephole, seed=0, dtype=np.float32)
            fns[key, "forward"], fns[key, "forward_backward"] = _lstmlib_calls(layer, xs)
            flops[key] = matmul_flops(T, B, D, H, peephole=peephole)
        gru = GRU(D, H, seed=0, dtype=np.float32)
        fns["gru", "forward"], fns["gru", "forward_backward"] = _lstmlib_calls(gru, xs)
        flops["gru"] = 2 * T * B * 3 * H * (D + H)  # the forward's matrix products
        if torch is not None:
            fns["torch", "forward"], fns["torch", "forward_backward"] = _torch_calls(
                torch, T, B, D, H
            )
            flops["torch"] = matmul_flops(T, B, D, H, peephole=False)
            fns["torch_gru", "forward"], fns["torch_gru", "forward_backward"] = _torch_calls(
                torch, T, B, D, H, "GRU"
            )
            flops["torch_gru"] = flops["gru"]
        fns["peak", ""] = peak_call
        fns["step", ""], step_flops = _product(B, H, 4 * H)
        timed = _interleaved(fns, budget=budget, min_repeats=min_repeats)
        row = {"shape": [T, B, D, H], "repeats": timed["peak", ""]["repeats"]}
        for key in flops:
            row[key] = {
                "forward": timed[key, "forward"]["seconds"],
                "forward_backward": timed[key, "forward_backward"]["seconds"],
                "best": {w: timed[key, w]["best"] for w in ("forward", "forward_backward")},
                "flops_forward": flops[key],
            }
        peaks.append(peak_flops / timed["peak", ""]["seconds"] / 1e9)
        row["peak_gflops"] = peaks[-1]
        row["step_product_gflops"] = step_flops / timed["step", ""]["seconds"] / 1e9
        shapes.append(row)
    result.update(peak_gflops=float(np.median(peaks)), shapes=shapes)
    result["seeds"] = _seeds_at_once(np, LSTM, budget, min_repeats)
    result["load_end"] = os.getloadavg()
    return result


def _seeds_at_once(np, LSTM, budget: float, min_repeats: int) -> list[dict]:
    """forward+backward of SEEDS models, one after another and stacked, at the book's sizes."""
    T, B, D = SEED_SHAPE
    rows = []
    for H in SEED_SIZES:
        for peephole in (True, False):
            layers = [LSTM(D, H, peephole=peephole, seed=s, dtype=np.float32) for s in range(SEEDS)]
            xs = np.random.default_rng(0).standard_normal((T, SEEDS, B, D)).astype(np.float32)
            singles = [
                _lstmlib_calls(m, np.ascontiguousarray(xs[:, k]))[1] for k, m in enumerate(layers)
            ]
            stacked = _lstmlib_calls(LSTM.stack(layers), xs)[1]

            def one_after_another(singles=singles):
                for call in singles:
                    call()

            timed = _interleaved(
                {"apart": one_after_another, "stacked": stacked},
                budget=budget / 3,
                min_repeats=min_repeats,
            )
            rows.append(
                {
                    "H": H,
                    "peephole": peephole,
                    "apart": timed["apart"]["seconds"],
                    "stacked": timed["stacked"]["seconds"],
                }
            )
    return rows


# --- the driver: one subprocess per thread count, then the table and the targets ---------------


def run_worker(threads: int, quick: bool) -> dict:
    env = dict(os.environ)
    for k in THREAD_VARIABLES:
        env[k] = str(threads)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(threads)]
    if quick:
        cmd.append("--quick")
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _gflops(entry: dict, which: str) -> float:
    flops = entry["flops_forward"] * (3 if which == "forward_backward" else 1)
    return flops / entry[which] / 1e9


def print_table(res: dict) -> None:
    blas, peak = res["blas"], res["peak_gflops"]
    env = ", ".join(f"{k}={v}" for k, v in blas["env"].items())
    print(f"\n=== {res['threads']} thread(s) ===")
    print(f"numpy {blas['numpy']}, BLAS {blas['blas']}, kernel: {blas['kernel']}; {env}")
    samples = ", ".join(f"{row['peak_gflops']:.1f}" for row in res["shapes"])
    print(
        f"matrix-product peak, float32 (1024, 1024) @ (1024, 1024), timed alongside each shape: "
        f"{samples} GFLOP/s (median {peak:.1f}); 'peak' columns: share of the shape's own"
    )
    print(f"load average at start {res['load_start'][0]:.2f}, at end {res['load_end'][0]:.2f}")
    head = (
        f"{'T, B, D, H':>19}  {'implementation':32} {'fwd ms':>9} {'GFLOP/s':>8} {'peak':>5}"
        f" {'fwd+bwd ms':>11} {'GFLOP/s':>8} {'peak':>5}  {'vs torch (fwd, fwd+bwd)':>36}"
    )
    print(head)
    print("-" * len(head))
    for row in res["shapes"]:
        shape = "(" + ", ".join(map(str, row["shape"])) + ")"
        torch_row = row.get("torch")
        for key, label in IMPLEMENTATIONS.items():
            if key not in row:
                continue
            e = row[key]
            cells = []
            for which in ("forward", "forward_backward"):
                g = _gflops(e, which)
                w = 9 if which == "forward" else 11
                cells.append(f"{e[which] * 1e3:{w}.2f} {g:8.1f} {g / row['peak_gflops']:5.0%}")
            ratio = ""
            ref = row.get("torch_gru") if key == "gru" else torch_row  # GRU against torch's GRU
            if ref is not None and key not in ("torch", "torch_gru"):
                r = [e[w] / ref[w] for w in ("forward", "forward_backward")]
                b = [e["best"][w] / ref["best"][w] for w in ("forward", "forward_backward")]
                ratio = f"{r[0]:.2f}x, {r[1]:.2f}x (best {b[0]:.2f}x, {b[1]:.2f}x)"
            print(f"{shape:>19}  {label:32} {cells[0]} {cells[1]}  {ratio:>36}")
            shape = ""
        std, naive = row["standard"], row["naive"]
        print(
            f"{'':19}  step product (B, H) @ (H, 4H): {row['step_product_gflops']:.1f} GFLOP/s;"
            f" standard vs naive: {naive['forward'] / std['forward']:.1f}x faster forward, "
            f"{naive['forward_backward'] / std['forward_backward']:.1f}x forward+backward"
        )


def print_seeds(res: dict) -> None:
    T, B, D = SEED_SHAPE
    print(f"{SEEDS} seeds, (T, B, D) = ({T}, {B}, {D}), forward+backward, ms:")
    for row in res["seeds"]:
        kind = "peephole" if row["peephole"] else "standard"
        print(
            f"  H = {row['H']:2d} {kind:9s}: one after another {row['apart'] * 1e3:7.2f}, "
            f"stacked {row['stacked'] * 1e3:7.2f}  ({row['apart'] / row['stacked']:.1f}x faster)"
        )


def check_targets(results: list[dict]) -> list[tuple[bool | None, str]]:
    """(passed, description) per target; passed is None when it cannot be checked."""
    checks = []
    for res in results:
        n = res["threads"]
        rows = {tuple(r["shape"]): r for r in res["shapes"]}
        for shape in SHAPES[2:]:
            g = _gflops(rows[shape]["standard"], "forward_backward")
            peak = rows[shape]["peak_gflops"]
            checks.append(
                (
                    g >= PEAK_FRACTION * peak,
                    f"{n} thread(s), {shape}: forward+backward at {g / peak:.0%} of the "
                    f"matrix-product peak ({g:.1f} of {peak:.1f} GFLOP/s; target >= "
                    f"{PEAK_FRACTION:.0%})",
                )
            )
        row = rows[SHAPES[0]]
        speedup = row["naive"]["forward_backward"] / row["standard"]["forward_backward"]
        checks.append(
            (
                speedup >= NAIVE_SPEEDUP,
                f"{n} thread(s), {SHAPES[0]}: {speedup:.1f}x faster than the naive version "
                f"(forward+backward; target >= {NAIVE_SPEEDUP:.0f}x)",
            )
        )
    single = [r for r in results if r["threads"] == 1]
    for row in single[0]["seeds"] if single else []:
        if row["H"] in SEED_SPEEDUP:
            speedup = row["apart"] / row["stacked"]
            kind = "peephole" if row["peephole"] else "standard"
            checks.append(
                (
                    speedup >= SEED_SPEEDUP[row["H"]],
                    f"1 thread, {SEEDS} seeds at H = {row['H']} ({kind}): stacked {speedup:.1f}x "
                    f"faster than one after another (target >= {SEED_SPEEDUP[row['H']]:.1f}x)",
                )
            )
    if not single or single[0]["torch"] is None:
        checks.append((None, "torch: not importable (or no single-threaded run), not compared"))
        return checks
    rows = {tuple(r["shape"]): r for r in single[0]["shapes"]}
    for shape, bound in TORCH_RATIO.items():
        for which, name in (("forward", "forward"), ("forward_backward", "forward+backward")):
            ratio = rows[shape]["standard"][which] / rows[shape]["torch"][which]
            checks.append(
                (
                    ratio <= bound,
                    f"1 thread, {shape}: {name} {ratio:.2f}x torch's time (target <= {bound}x)",
                )
            )
    return checks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, a rougher run")
    parser.add_argument("--json", metavar="PATH", help="write every measurement to PATH")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    parser.add_argument("--threads", default="1,2", help="thread counts, e.g. 1,2 (default)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.quick)))
        return 0
    threads = [int(t) for t in args.threads.split(",")]
    print(f"bench_lstm: float32, shapes (T, B, D, H) {', '.join(map(str, SHAPES))}")
    print(
        f"python {sys.version.split()[0]} on {os.cpu_count()} CPUs; times are medians after "
        f"warm-up (targets use them; 'best': ratio of the fastest runs); GFLOP/s count "
        f"matrix-product flops only"
    )
    results = [run_worker(n, args.quick) for n in threads]
    for res in results:
        print_table(res)
        print_seeds(res)
    print("\n=== targets ===")
    checks = check_targets(results)
    for passed, text in checks:
        print(f"{'SKIP' if passed is None else 'PASS' if passed else 'FAIL'}  {text}")
    failed = sum(passed is False for passed, _ in checks)
    print(f"{sum(passed is True for passed, _ in checks)} of {len(checks)} targets met")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "targets": checks}, indent=1))
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
