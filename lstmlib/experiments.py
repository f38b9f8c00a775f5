"""Experiments of the book's second part: train models on a task over settings and seeds.

The claim "an LSTM keeps long-term dependencies that a plain RNN loses" is a claim about
*training*: with the same data, steps and learning rate, which model learns? This module runs
such comparisons reproducibly and returns a tidy table, one row per training run::

    models = {"LSTM": model_factory("lstm", hidden_size=16),
              "RNN": model_factory("rnn", hidden_size=16)}
    sweep = lag_sweep(models, lags=[5, 20, 100], seeds=[0, 1, 2], steps=300)
    print(sweep.table())                       # mean, min and max test accuracy per model and lag
    sweep.column("score", model="RNN", lag=100)  # the three seeds' test accuracies

Fairness and repeatability, by construction:

- every model of a comparison sees the *same* batches in the same order (the data of a run
  depends on its seed and lag only, never on the model), and is scored on the *same* held-out
  test set (drawn from a separate stream);
- a run is seeded entirely: its ``seed`` draws the weights and the batches, its lag the test
  set. The same call gives the same table bit for bit *on one machine* (same BLAS kernel, same
  number of threads, same numpy SIMD paths). On another machine the last bits of the products
  differ, and training, which is chaotic, can end in a different network: a claim about a sweep
  is a statistic over seeds, never a fact about "seed 3";
- every run gets the same budget (``steps``, ``batch_size``, ``lr``, ``clip``, Adam). A run may
  stop early, deterministically, once the last ``patience`` training batches (fresh sequences
  the model had not seen) were all solved.

Speed: the seeds of one model and setting are trained as one computation, their layers stacked
along a leading model axis (:meth:`~lstmlib.layers.LSTM.stack`): each seed keeps its own weights,
data, gradient clipping and Adam state, and a seed that stops early leaves the stack while the
others go on. The arithmetic per seed is that of training it alone.

:func:`country_spread` looks inside a trained model: how much of the first word is left in its
state, step by step. :func:`plot_lag_sweep` and :func:`plot_learning_curves` draw a sweep on a
matplotlib ``Axes`` you pass in (this module itself imports numpy only). The module is not
imported by ``lstmlib/__init__.py``: use ``from lstmlib import experiments``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_positive_int, check_real
from .layers import LSTM, RNN, Linear
from .tasks import SOLVED_TOLERANCE, adding_problem, fluent_language
from .train import Adam, SequenceModel, mean_squared_error, softmax_cross_entropy

__all__ = [
    "MODEL_COLORS",
    "Run",
    "Sweep",
    "adding_runs",
    "chance_accuracy",
    "count_params",
    "country_spread",
    "lag_sweep",
    "memory_kept",
    "model_factory",
    "plot_lag_sweep",
    "plot_learning_curves",
    "running_mean",
]

#: The colour of each model in the book's plots (Okabe-Ito): the LSTMs in the blues and green of
#: the memory pipe, the plain RNNs in vermillion and orange. Other model names take black.
MODEL_COLORS: dict[str, str] = {
    "LSTM": "#0072B2",
    "LSTM (source, b_f=5)": "#0072B2",
    "LSTM (b_f=1)": "#56B4E9",
    "LSTM (b_f=3)": "#009E73",
    "LSTM (b_f=5)": "#009E73",
    "RNN": "#D55E00",
    "RNN (orthogonal)": "#E69F00",
}

# Separate streams for the training batches and for the held-out test sets: a run's training data
# is np.random.default_rng([_TRAIN, seed, setting]), the test set default_rng([_TEST, setting]).
_TRAIN, _TEST = 1, 2


# --- models -----------------------------------------------------------------------------------


def model_factory(
    kind: str, hidden_size: int, *, dtype=np.float64, **core_kwargs
) -> Callable[[int, int, int], SequenceModel]:
    """A function ``factory(input_size, output_size, seed) -> SequenceModel`` for the sweeps.

    ``kind``: ``"lstm"`` (an :class:`~lstmlib.layers.LSTM` core; ``core_kwargs`` such as
    ``peephole=False`` or ``forget_bias=3.0`` are passed on) or ``"rnn"`` (an
    :class:`~lstmlib.layers.RNN` core; e.g. ``recurrent_init="orthogonal"``). The core of
    ``hidden_size`` units is read out on its last step by a ``Linear(hidden_size, output_size)``.
    ``dtype``: the layers' dtype (``np.float32`` halves the time of an LSTM of 32 units); the
    sweeps generate their data in the dtype of the model's weights.

    The core's weights are drawn with ``seed``, the readout's with ``SeedSequence([seed, 1])``,
    so two factories of different ``kind`` called with the same seed still differ in their weights
    but each is reproducible.
    """
    if kind not in ("lstm", "rnn"):
        raise ValueError(f"kind: expected 'lstm' or 'rnn', got {kind!r}")
    H = check_positive_int("hidden_size", hidden_size)
    layer = LSTM if kind == "lstm" else RNN
    layer(1, H, seed=0, dtype=dtype, **core_kwargs)  # fail now, not in the middle of a sweep

    def factory(input_size: int, output_size: int, seed: int) -> SequenceModel:
        core = layer(input_size, H, seed=seed, dtype=dtype, **core_kwargs)
        readout = Linear(H, output_size, seed=np.random.SeedSequence([int(seed), 1]), dtype=dtype)
        return SequenceModel(core, readout)

    extra = "".join(f", {k}={v!r}" for k, v in core_kwargs.items())
    extra += f", dtype={np.dtype(dtype).name}"
    factory.__name__ = factory.__qualname__ = f"{kind}_factory"
    factory.__doc__ = f"model_factory({kind!r}, hidden_size={H}{extra})"
    return factory


def count_params(model) -> int:
    """The number of trainable numbers of ``model`` (the sizes of all ``model.params`` arrays)."""
    return int(sum(p.size for p in model.params.values()))


def chance_accuracy(n_classes: int) -> float:
    """The accuracy of guessing among ``n_classes`` equally likely classes: ``1 / n_classes``."""
    return 1.0 / check_positive_int("n_classes", n_classes)


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Run:
    """One training run: a row of a :class:`Sweep`.

    Attributes
    ----------
    model : the model's name (a key of the ``models`` dict)
    task : ``"fluent_language"`` or ``"adding_problem"``
    lag : the setting swept: the lag of ``fluent_language``, the length ``T`` of the adding problem
    seed : the run's seed (weights, batches)
    score : on the held-out test set: the accuracy (fluent language) or the fraction of sequences
        solved, ``|prediction - target| < 0.04`` (adding problem)
    steps : optimizer steps taken (``<= budget``; fewer if the run stopped early)
    stopped : True if the run stopped early because it solved its last ``patience`` batches
    curve : (steps,) float array, the same score on each step's training batch *before* that
        step's update: fresh sequences, so an honest learning curve
    loss : (steps,) float array, each step's training loss
    trained : the trained model (its forward cache emptied), to look inside it afterwards
    """

    model: str
    task: str
    lag: int
    seed: int
    score: float
    steps: int
    stopped: bool
    curve: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)
    trained: object = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"Run(model={self.model!r}, task={self.task!r}, lag={self.lag}, seed={self.seed}, "
            f"score={self.score:.4f}, steps={self.steps}, stopped={self.stopped})"
        )


_COLUMNS = ("model", "task", "lag", "seed", "score", "steps", "stopped")


class Sweep:
    """A tidy table of :class:`Run` rows, in the order they were run.

    ``len(sweep)``, iteration and ``sweep[k]`` give the runs; :meth:`column` a column as an array
    (optionally filtered); :meth:`select` a sub-table; :meth:`summary` one row per (model, lag)
    with the mean, min and max score over seeds; :meth:`table` that summary as text.
    ``budget`` holds the training settings every run shared.
    """

    def __init__(self, runs: Sequence[Run], budget: Mapping | None = None):
        runs = list(runs)
        for r in runs:
            if not isinstance(r, Run):
                raise TypeError(f"runs: expected Run rows, got {type(r).__name__}")
        self.runs = runs
        self.budget = dict(budget or {})

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)

    def __getitem__(self, k: int) -> Run:
        return self.runs[k]

    def __add__(self, other: Sweep) -> Sweep:
        if not isinstance(other, Sweep):
            return NotImplemented
        return Sweep(self.runs + other.runs, {**self.budget, **other.budget})

    @property
    def models(self) -> list[str]:
        """The model names, in order of first appearance."""
        return list(dict.fromkeys(r.model for r in self.runs))

    @property
    def lags(self) -> list[int]:
        """The settings swept, sorted."""
        return sorted({r.lag for r in self.runs})

    @property
    def seeds(self) -> list[int]:
        """The seeds, sorted."""
        return sorted({r.seed for r in self.runs})

    def select(self, **where) -> Sweep:
        """The runs whose columns equal the given values, e.g. ``select(model="RNN", lag=20)``."""
        unknown = sorted(set(where) - set(_COLUMNS))
        if unknown:
            raise ValueError(f"select: unknown column(s) {unknown}; the columns are {_COLUMNS}")
        runs = [r for r in self.runs if all(getattr(r, k) == v for k, v in where.items())]
        return Sweep(runs, self.budget)

    def column(self, name: str, **where) -> np.ndarray:
        """Column ``name`` (one of ``model, task, lag, seed, score, steps, stopped``) as an array
        (N,) over the runs selected by ``where``, in run order."""
        if name not in _COLUMNS:
            raise ValueError(f"name: expected one of {_COLUMNS}, got {name!r}")
        return np.array([getattr(r, name) for r in self.select(**where)])

    def summary(self, threshold: float | None = None) -> list[dict]:
        """One dict per (model, lag), models in order, lags sorted: ``model, lag, n`` (seeds),
        ``mean, min, max`` of the score, ``steps`` (mean steps taken) and, if ``threshold`` is
        given, ``solved``: the fraction of seeds whose score is ``>= threshold``."""
        rows = []
        for m in self.models:
            for lag in self.lags:
                s = self.column("score", model=m, lag=lag)
                if s.size == 0:
                    continue
                row = {
                    "model": m,
                    "lag": lag,
                    "n": int(s.size),
                    "mean": float(s.mean()),
                    "min": float(s.min()),
                    "max": float(s.max()),
                    "steps": float(self.column("steps", model=m, lag=lag).mean()),
                }
                if threshold is not None:
                    row["solved"] = float(np.mean(s >= threshold))
                rows.append(row)
        return rows

    def table(self, threshold: float | None = None, decimals: int = 2) -> str:
        """:meth:`summary` as a fixed-width text table (scores rounded to ``decimals``)."""
        rows = self.summary(threshold)
        w = max([5, *(len(m) for m in self.models)]) + 2  # the model column fits every name
        head = f"{'model':<{w}}{'lag':>6}{'seeds':>7}{'mean':>8}{'min':>8}{'max':>8}{'steps':>8}"
        if threshold is not None:
            head += f"{'solved':>9}"
        lines = [head]
        for r in rows:
            line = (
                f"{r['model']:<{w}}{r['lag']:>6}{r['n']:>7}{r['mean']:>8.{decimals}f}"
                f"{r['min']:>8.{decimals}f}{r['max']:>8.{decimals}f}{r['steps']:>8.0f}"
            )
            if threshold is not None:
                line += f"{r['solved']:>9.2f}"
            lines.append(line)
        return "\n".join(lines)

    def solved_fraction(self, model: str, lag: int, threshold: float) -> float:
        """The fraction of ``model``'s seeds at ``lag`` whose score is ``>= threshold``."""
        s = self.column("score", model=model, lag=lag)
        if s.size == 0:
            raise ValueError(f"no runs of model {model!r} at lag {lag}")
        return float(np.mean(s >= threshold))

    def breaking_lag(self, model: str, threshold: float, fraction: float = 1.0) -> int | None:
        """The smallest lag at which fewer than ``fraction`` of ``model``'s seeds reach
        ``threshold`` (``None`` if it reaches it at every lag swept)."""
        for lag in self.lags:
            if self.column("score", model=model, lag=lag).size and (
                self.solved_fraction(model, lag, threshold) < fraction
            ):
                return lag
        return None

    def __repr__(self) -> str:
        return (
            f"Sweep({len(self.runs)} runs, models={self.models}, lags={self.lags}, "
            f"seeds={self.seeds})"
        )


# --- training ---------------------------------------------------------------------------------


def _check_models(models) -> dict[str, Callable]:
    if not isinstance(models, Mapping) or not models:
        raise TypeError(
            "models: expected a non-empty dict name -> factory(input_size, output_size, seed), "
            f"e.g. {{'LSTM': model_factory('lstm', 16)}}; got {type(models).__name__}"
        )
    for name, f in models.items():
        if not isinstance(name, str) or not callable(f):
            raise TypeError(f"models: expected str names and callable factories, got {name!r}")
    return dict(models)


def _check_ints(name: str, values, minimum: int) -> list[int]:
    if isinstance(values, (int, np.integer)) or not isinstance(values, Sequence) or not values:
        raise TypeError(f"{name}: expected a non-empty list of ints, got {values!r}")
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < minimum:
            raise ValueError(f"{name}: expected ints >= {minimum}, got {values!r}")
        out.append(int(v))
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: expected distinct values, got {values!r}")
    return out


def _budget(steps, batch_size, lr, clip, patience) -> dict:
    steps = check_positive_int("steps", steps)
    batch_size = check_positive_int("batch_size", batch_size)
    lr = check_real("lr", lr)
    if lr <= 0:
        raise ValueError(f"lr: expected a number > 0, got {lr}")
    if clip is not None:
        clip = check_real("clip", clip)
        if clip <= 0:
            raise ValueError(f"clip: expected a number > 0 or None, got {clip}")
    if patience is not None:
        patience = check_positive_int("patience", patience)
    return {"steps": steps, "batch_size": batch_size, "lr": lr, "clip": clip, "patience": patience}


def _dtype(model) -> np.dtype:
    """The dtype of a model's weights: the data is generated in it."""
    return next(iter(model.params.values())).dtype


def _score(out: np.ndarray, targets: np.ndarray, task: str) -> float:
    """Accuracy (fluent language) or fraction solved (adding problem) of one batch."""
    if task == "adding_problem":
        return float(np.mean(np.abs(out - targets) < SOLVED_TOLERANCE))
    return float(np.mean(out.argmax(axis=1) == targets))


def _clip_each(grads: Mapping[str, np.ndarray], max_norm: float) -> None:
    """Clip every model of a stack on its own: the first axis of each array indexes the models,
    and model m's arrays are scaled so that their global L2 norm is at most ``max_norm`` (as
    :func:`~lstmlib.train.clip_grad_norm` does for one model)."""
    arrays = list(grads.values())
    M = arrays[0].shape[0]
    squares = sum(np.square(g, dtype=np.float64).reshape(M, -1).sum(axis=1) for g in arrays)
    norms = np.sqrt(squares)
    if not np.all(np.isfinite(norms)):
        raise ValueError(
            "grads: expected finite numbers, got NaN or inf in models "
            f"{np.flatnonzero(~np.isfinite(norms)).tolist()}"
        )
    scale = np.minimum(1.0, max_norm / np.maximum(norms, np.finfo(np.float64).tiny))
    for g in arrays:
        g *= scale.reshape(M, *([1] * (g.ndim - 1))).astype(g.dtype)


def _without_finished(model, optimizer, keep: list[int]):
    """The stack of the models at positions ``keep`` only, and an Adam optimizer that goes on
    from where ``optimizer`` was for them (its moments and step count)."""
    model = SequenceModel(model.core.take(keep), model.readout.take(keep))
    going_on = Adam(model.params, lr=optimizer.lr, betas=optimizer.betas, eps=optimizer.eps)
    going_on.t = optimizer.t
    for k in going_on.m:
        going_on.m[k][...] = optimizer.m[k][keep]
        going_on.v[k][...] = optimizer.v[k][keep]
    return model, going_on


def _single(model, position: int) -> SequenceModel:
    """Model ``position`` of a stacked SequenceModel, as an ordinary (unstacked) one."""
    return SequenceModel(
        model.core.take([position]).unstack()[0], model.readout.take([position]).unstack()[0]
    )


def _train_seeds(factory, seeds, batches: Callable, test, budget: dict, key: dict) -> list[Run]:
    """Train ``factory(seed)`` for every seed, as one stacked computation, and score each on
    ``test``. ``batches(seed)`` is that seed's stream: a function ``step -> task``. A seed that
    stops early leaves the stack (the others go on without computing it), exactly as if it had
    been trained alone."""
    task = key["task"]
    loss_fn = mean_squared_error if task == "adding_problem" else softmax_cross_entropy
    singles = [factory(seed) for seed in seeds]
    model = SequenceModel(
        type(singles[0].core).stack([m.core for m in singles]),
        type(singles[0].readout).stack([m.readout for m in singles]),
    )
    streams = [batches(seed) for seed in seeds]
    optimizer = Adam(model.params, lr=budget["lr"])
    patience = budget["patience"]
    scores = [[] for _ in seeds]  # per seed: the score of each training batch, before its step
    losses = [[] for _ in seeds]
    active = list(range(len(seeds)))  # the seeds the stack holds, in its order
    trained: dict[int, SequenceModel] = {}  # the seeds that stopped early
    for step in range(budget["steps"]):
        data = [streams[m](step) for m in active]
        xs = np.stack([d.xs for d in data], axis=1)  # (T, M, B, D)
        out = model.forward(xs)  # (M, B, K)
        dout = np.empty_like(out)
        for j, (m, d) in enumerate(zip(active, data, strict=True)):
            loss, dout[j] = loss_fn(out[j], d.targets)
            scores[m].append(_score(out[j], d.targets, task))
            losses[m].append(loss)
        model.backward(dout)
        if budget["clip"] is not None:
            _clip_each(model.grads, budget["clip"])
        optimizer.step(model.grads)
        if patience is None:
            continue
        done = [len(scores[m]) >= patience and min(scores[m][-patience:]) == 1.0 for m in active]
        if any(done):
            for j, m in enumerate(active):
                if done[j]:
                    trained[m] = _single(model, j)
            keep = [j for j in range(len(active)) if not done[j]]
            active = [active[j] for j in keep]
            if not active:
                break
            model, optimizer = _without_finished(model, optimizer, keep)
    for j, m in enumerate(active):
        trained[m] = _single(model, j)
    runs = []
    for m, seed in enumerate(seeds):
        # the test set in chunks (the layers keep their inputs and valves for backward), then a
        # one-step forward so that the kept model holds no large cache
        n = test.targets.shape[0]
        out = np.concatenate(
            [trained[m].forward(test.xs[:, k : k + 256]) for k in range(0, n, 256)]
        )
        trained[m].forward(test.xs[:1, :1])
        runs.append(
            Run(
                **key,
                seed=seed,
                score=_score(out, test.targets, task),
                steps=len(scores[m]),
                stopped=m not in active,  # it left the stack: it solved its last batches
                curve=np.array(scores[m]),
                loss=np.array(losses[m]),
                trained=trained[m],
            )
        )
    return runs


def lag_sweep(
    models: Mapping[str, Callable],
    lags: Sequence[int],
    seeds: Sequence[int],
    steps: int,
    *,
    batch_size: int = 32,
    lr: float = 0.01,
    clip: float | None = 1.0,
    patience: int | None = 20,
    n_test: int = 1000,
    n_countries: int = 4,
    n_fillers: int = 4,
) -> Sweep:
    """Train every model on :func:`~lstmlib.tasks.fluent_language` at every lag, for every seed.

    Parameters
    ----------
    models : dict name -> ``factory(input_size, output_size, seed) -> SequenceModel`` whose core
        and readout are lstmlib layers (the seeds' layers are stacked; see :func:`model_factory`),
        e.g. ``{"LSTM": ..., "RNN": ...}``
    lags : the lags to train at (ints >= 0); sequences are ``T = lag + 2`` tokens
    seeds : ints >= 0; seed ``s`` draws the weights and the training batches of its runs
    steps : the training budget, Adam steps per run
    batch_size : sequences per step (``B``); every step draws a fresh batch
    lr : Adam's learning rate; clip : the maximum global gradient norm (None: no clipping)
    patience : stop a run early once this many consecutive training batches were answered
        without a mistake (None: always train for ``steps``)
    n_test : held-out sequences per lag, the same for every model and seed
    n_countries, n_fillers : passed to ``fluent_language`` (chance is ``1 / n_countries``)

    Returns
    -------
    Sweep with one :class:`Run` per (model, lag, seed), in that nesting order; ``score`` is the
    test accuracy and ``curve`` the accuracy on each training batch (shape (steps,)).
    """
    models = _check_models(models)
    lags = _check_ints("lags", lags, 0)
    seeds = _check_ints("seeds", seeds, 0)
    budget = _budget(steps, batch_size, lr, clip, patience)
    n_test = check_positive_int("n_test", n_test)
    task_kw = {"n_countries": n_countries, "n_fillers": n_fillers}
    probe = fluent_language(1, 0, seed=0, **task_kw)
    D, K = probe.input_size, probe.n_classes

    runs = []
    for name, factory in models.items():
        dtype = _dtype(factory(D, K, seeds[0]))
        for lag in lags:
            test = fluent_language(
                n_test, lag, seed=np.random.default_rng([_TEST, lag]), dtype=dtype, **task_kw
            )

            def stream(seed, lag=lag, dtype=dtype):
                rng = np.random.default_rng([_TRAIN, seed, lag])
                B = budget["batch_size"]
                return lambda step: fluent_language(B, lag, seed=rng, dtype=dtype, **task_kw)

            runs += _train_seeds(
                lambda seed, factory=factory: factory(D, K, seed),
                seeds,
                stream,
                test,
                budget,
                key={"model": name, "task": "fluent_language", "lag": lag},
            )
    return Sweep(runs, {**budget, "n_test": n_test, **task_kw, "task": "fluent_language"})


def adding_runs(
    models: Mapping[str, Callable],
    seeds: Sequence[int],
    steps: int,
    *,
    T: int = 100,
    batch_size: int = 32,
    lr: float = 0.01,
    clip: float | None = 1.0,
    patience: int | None = 20,
    n_test: int = 1000,
) -> Sweep:
    """Train every model on the adding problem (:func:`~lstmlib.tasks.adding_problem`) of
    length ``T`` for every seed, with the mean squared error.

    ``models``, ``seeds``, ``steps``, ``batch_size``, ``lr``, ``clip``, ``n_test``: as in
    :func:`lag_sweep` (the factories get ``input_size=2, output_size=1``). ``patience``: stop
    early once this many consecutive training batches were entirely solved.

    Returns a :class:`Sweep` with one :class:`Run` per (model, seed), ``lag = T``; ``score`` is
    the fraction of the ``n_test`` held-out sequences solved (``|prediction - target| < 0.04``,
    Hochreiter & Schmidhuber's criterion) and ``curve`` the fraction of each training batch
    solved, before that step's update.
    """
    models = _check_models(models)
    seeds = _check_ints("seeds", seeds, 0)
    budget = _budget(steps, batch_size, lr, clip, patience)
    n_test = check_positive_int("n_test", n_test)
    T = check_positive_int("T", T)
    runs = []
    for name, factory in models.items():
        dtype = _dtype(factory(2, 1, seeds[0]))
        test = adding_problem(n_test, T, seed=np.random.default_rng([_TEST, T]), dtype=dtype)

        def stream(seed, dtype=dtype):
            rng = np.random.default_rng([_TRAIN, seed, T])
            return lambda step: adding_problem(budget["batch_size"], T, seed=rng, dtype=dtype)

        runs += _train_seeds(
            lambda seed, factory=factory: factory(2, 1, seed),
            seeds,
            stream,
            test,
            budget,
            key={"model": name, "task": "adding_problem", "lag": T},
        )
    return Sweep(runs, {**budget, "n_test": n_test, "T": T, "task": "adding_problem"})


# --- looking inside a trained model -----------------------------------------------------------


def country_spread(
    model,
    lag: int,
    *,
    n_countries: int = 4,
    n_fillers: int = 4,
    n_sentences: int = 16,
    seed=0,
) -> np.ndarray:
    """How far apart a model's memory stays for sentences that differ *only* in their country.

    Draws ``n_sentences`` filler sequences of length ``lag`` (with ``seed``) and, for each, one
    sentence per country with exactly those fillers: ``n_sentences * n_countries`` sentences of
    ``T = lag + 2`` tokens. The core's state after each step, ``c_t`` for an LSTM (its memory
    pipe) and ``h_t`` for an RNN, is then compared between the countries: ``spread[t]`` is the
    Euclidean distance between two countries' states, averaged over every pair of countries and
    every filler sequence. Only the country differs, so ``spread[t]`` is what is left at step
    ``t`` of the memory of the country; it decays towards 0 when the model forgets.

    ``model``: a :class:`~lstmlib.train.SequenceModel` with an ``LSTM`` or ``RNN`` core
    (e.g. ``run.trained``). Returns ``spread`` of shape ``(T,)``. Leaves the core's forward
    cache small (a one-step forward at the end).
    """
    lag = _check_ints("lag", [lag], 0)[0]
    n_sentences = check_positive_int("n_sentences", n_sentences)
    core = model.core
    dtype = next(iter(core.params.values())).dtype
    base = fluent_language(
        n_sentences, lag, n_countries, seed=seed, n_fillers=n_fillers, dtype=dtype
    )
    # (T, S, V) -> (T, S, C, V): copy each sentence once per country, then set token 0
    xs = np.repeat(base.xs[:, :, None, :], n_countries, axis=2)
    xs[0] = 0.0
    xs[0, :, np.arange(n_countries), np.arange(n_countries)] = 1.0
    T, V = xs.shape[0], xs.shape[-1]
    xs = xs.reshape(T, n_sentences * n_countries, V)
    if isinstance(core, LSTM):
        core.forward(xs)
        states = np.array(core.gates["c"])
    elif isinstance(core, RNN):
        states = core.forward(xs)[0]
    else:
        raise TypeError(f"model.core: expected an LSTM or RNN, got {type(core).__name__}")
    core.forward(xs[:1, :1])  # keep the layer's cache small
    states = states.reshape(T, n_sentences, n_countries, -1).astype(np.float64)
    a, b = np.triu_indices(n_countries, k=1)
    dist = np.linalg.norm(states[:, :, a] - states[:, :, b], axis=-1)  # (T, S, pairs)
    return dist.mean(axis=(1, 2))


def memory_kept(model, task) -> np.ndarray:
    """How much of its memory each unit of an LSTM keeps across the fillers of each sentence.

    ``model``: a :class:`~lstmlib.train.SequenceModel` with an ``LSTM`` core; ``task``: a
    :func:`~lstmlib.tasks.fluent_language` task. Runs the core over ``task.xs`` and returns
    ``kept`` of shape ``(B, H)``: the product of the forget valve's openings ``f_t`` over the
    filler steps (2 to T - 1) of sentence ``b`` in unit ``h``, i.e. the fraction of what was in
    the pipe after the country that the pipe alone would still hold at the question. Leaves the
    core's forward cache small.
    """
    core = model.core
    if not isinstance(core, LSTM):
        raise TypeError(f"model.core: expected an LSTM, got {type(core).__name__}")
    core.forward(task.xs)
    kept = np.prod(np.asarray(core.gates["f"][1:-1], dtype=np.float64), axis=0)
    core.forward(task.xs[:1, :1])
    return kept


# --- plots ------------------------------------------------------------------------------------


def running_mean(x, window: int) -> np.ndarray:
    """The mean of each ``window`` consecutive values of ``x`` (N,) -> (N,): the first
    ``window - 1`` entries average what there is so far (no edge padding)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x: expected a 1-D array (N,), got shape {x.shape}")
    window = check_positive_int("window", window)
    c = np.cumsum(np.concatenate([[0.0], x]))
    n = np.arange(1, x.size + 1)
    lo = np.maximum(n - window, 0)
    return (c[n] - c[lo]) / (n - lo)


def _color(model: str) -> str:
    return MODEL_COLORS.get(model, "#000000")


def plot_lag_sweep(
    ax,
    sweep: Sweep,
    *,
    chance: float | None = None,
    ylabel: str = "test accuracy",
    legend: str | bool = "lower left",
):
    """Score against lag, one colour per model: every seed as a dot, the mean as a line, the
    min-max range over seeds shaded. ``chance``: draw that level as a dashed grey line.
    The lag axis is logarithmic when the lags span more than a factor 8. ``legend``: a matplotlib
    ``loc`` or False. Returns ``ax``."""
    lags = np.array(sweep.lags)
    n = len(sweep.models)
    log = lags.min() > 0 and lags.max() / lags.min() > 8
    for k, m in enumerate(sweep.models):
        rows = [r for r in sweep.summary() if r["model"] == m]
        x = np.array([r["lag"] for r in rows], dtype=float)
        color = _color(m)
        ax.fill_between(
            x, [r["min"] for r in rows], [r["max"] for r in rows], color=color, alpha=0.15, lw=0
        )
        ax.plot(x, [r["mean"] for r in rows], color=color, marker="o", ms=4, label=f"{m} (mean)")
        # the seeds as dots, nudged sideways so the models' dots do not hide each other
        nudge = (k - (n - 1) / 2) * 0.04
        for r in sweep.select(model=m):
            xr = r.lag * math.exp(nudge) if log else r.lag + nudge * (lags.max() - lags.min())
            ax.plot(xr, r.score, ls="none", marker="o", ms=4, mfc="white", mec=color, mew=1.2)
    if chance is not None:
        ax.axhline(chance, color="#7F7F7F", ls="--", lw=1.2, label=f"chance ({chance:.2f})")
    if log:
        ax.set_xscale("log")
        ax.set_xticks(lags)
        ax.set_xticklabels([str(v) for v in lags])
        ax.minorticks_off()
    ax.set_xlabel("lag (filler tokens between the country and the question)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.05)
    if legend:
        ax.legend(loc=legend)
    return ax


def plot_learning_curves(
    ax,
    sweep: Sweep,
    lag: int,
    *,
    steps: int | None = None,
    window: int = 10,
    chance: float | None = None,
    chance_label: str = "chance",
    ylabel: str = "accuracy on fresh batches",
    legend: str | bool = "above",
):
    """The learning curves of every model at ``lag``: one thin line per seed (the running mean
    over ``window`` steps of ``Run.curve``), a dot where a run stopped because it had solved
    the task. ``steps``: the x range (default: the sweep's budget). ``chance``: draw that level
    as a dashed grey line labelled ``chance_label``. ``legend``: ``"above"`` (in one row above
    the top right corner of the axes, clear of the curves), a matplotlib ``loc``, or False.
    Returns ``ax``."""
    runs = sweep.select(lag=lag)
    if len(runs) == 0:
        raise ValueError(f"lag: no runs at lag {lag}; the sweep has lags {sweep.lags}")
    steps = steps or sweep.budget.get("steps") or max(r.steps for r in runs)
    for m in runs.models:
        color = _color(m)
        for k, r in enumerate(runs.select(model=m)):
            y = running_mean(r.curve, window)
            x = np.arange(1, r.steps + 1)
            ax.plot(x, y, color=color, lw=1.3, alpha=0.85, label=m if k == 0 else None)
            if r.stopped:
                ax.plot(x[-1], y[-1], marker="o", ms=5, color=color)
    if chance is not None:
        ax.axhline(chance, color="#7F7F7F", ls="--", lw=1.2, label=chance_label)
    ax.set_xlim(0, steps)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    if legend == "above":
        n = len(ax.get_legend_handles_labels()[1])
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=n, borderaxespad=0.2)
    elif legend:
        ax.legend(loc=legend)
    return ax
