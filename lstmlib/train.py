"""The training kit: losses, optimizers, gradient clipping, a sequence model and a training loop.

Everything works on dicts of live numpy arrays, the layers' ``params`` and ``grads``::

    model = SequenceModel(LSTM(V, 16, seed=0), Linear(16, K, seed=1))
    opt = Adam(model.params, lr=0.05)
    history = fit(model, data, optimizer=opt, steps=200, clip=1.0)

The optimizers update the arrays of ``params`` in place, so the layers see the new values without
copying. Nothing here draws random numbers: a run is as repeatable as its data and its layers'
seeds, bit for bit.

The progress bar is ``tqdm``'s plain-text bar on ``sys.stdout`` (never the notebook widget, whose
model ids are random) with no timings or rates, a fixed width and character set, and a fixed update
cadence: the same run prints the same text in a terminal and in a notebook. The updates are
separated by carriage returns; nbval, MyST-NB (``nb_merge_streams``) and nbclient
(``coalesce_streams=True``) merge a cell's stream outputs and keep the last line only.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_array, check_positive_int, check_real

__all__ = [
    "SGD",
    "Adam",
    "History",
    "SequenceModel",
    "clip_grad_norm",
    "evaluate",
    "fit",
    "mean_squared_error",
    "softmax_cross_entropy",
]


# --- checks -----------------------------------------------------------------------------------


def _positive(name: str, value, *, allow_zero: bool = False) -> float:
    value = check_real(name, value)
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(
            f"{name}: expected a number {'>= 0' if allow_zero else '> 0'}, got {value}"
        )
    return value


def _fraction(name: str, value) -> float:
    value = check_real(name, value)
    if not 0 <= value < 1:
        raise ValueError(f"{name}: expected a number in [0, 1), got {value}")
    return value


def _array_dict(name: str, arrays) -> dict[str, np.ndarray]:
    """A non-empty dict of float32/float64 ndarrays (not copies; NaN allowed)."""
    if not isinstance(arrays, Mapping):
        raise TypeError(
            f"{name}: expected a dict of arrays (e.g. model.params), got {type(arrays).__name__}"
        )
    if not arrays:
        raise ValueError(f"{name}: expected a non-empty dict of arrays, got an empty one")
    for k, a in arrays.items():
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name}[{k!r}]: expected a numpy array, got {type(a).__name__}")
        check_array(f"{name}[{k!r}]", a, finite=False, nonempty=False)
    return dict(arrays)


# --- losses -----------------------------------------------------------------------------------


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(logits)`` against class indices ``targets``, and gradient.

    ``logits (B, K)`` float, ``targets (B,)`` int in ``[0, K)``. Returns ``(loss, dlogits)``:
    ``loss = -mean_b log softmax(logits[b])[targets[b]]`` as a Python float and
    ``dlogits = (softmax(logits) - onehot(targets)) / B``, shape (B, K), the dtype of ``logits``.
    Numerically stable: the row maximum is subtracted before ``exp``.
    """
    logits = check_array("logits", logits, shape=("B", "K"))
    B, K = logits.shape
    targets = np.asarray(targets)
    if targets.dtype.kind not in "iu":
        raise TypeError(
            f"targets: expected an integer array of class indices, got dtype {targets.dtype}"
        )
    if targets.shape != (B,):
        raise ValueError(f"targets: expected shape (B,) = ({B},) like logits, got {targets.shape}")
    if targets.min() < 0 or targets.max() >= K:
        raise ValueError(
            f"targets: expected class indices in [0, {K}) (K = logits.shape[1]), got values in "
            f"[{targets.min()}, {targets.max()}]"
        )
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(B)
    loss = -float(logp[rows, targets].mean())
    dlogits = np.exp(logp)
    dlogits[rows, targets] -= 1.0
    dlogits /= B
    return loss, dlogits


def mean_squared_error(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean over every element of ``(pred - target) ** 2``, and its gradient.

    ``pred`` float and ``target`` of the same shape (e.g. ``(B, 1)``). Returns ``(loss, dpred)``
    with ``dpred = 2 (pred - target) / pred.size``, the dtype of ``pred``.
    """
    pred = check_array("pred", pred)
    target = np.asarray(target)
    if target.dtype.kind not in "fiu":
        raise TypeError(f"target: expected a real numeric array, got dtype {target.dtype}")
    if target.shape != pred.shape:
        raise ValueError(f"target: expected the shape of pred {pred.shape}, got {target.shape}")
    with np.errstate(over="ignore"):  # a float64 target beyond float32's range: refused below
        cast = target.astype(pred.dtype, copy=False)
    if not np.isfinite(cast).all():
        bad = ~np.isfinite(cast)
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        value = target[index]
        why = "" if not np.isfinite(value) else f", beyond the range of {pred.dtype} (pred's dtype)"
        raise ValueError(
            f"target: expected finite numbers, got {int(bad.sum())} NaN or inf value(s), the "
            f"first at index {index} ({value}{why})"
        )
    diff = pred - cast
    loss = float(np.mean(diff * diff))
    return loss, diff * (2.0 / pred.size)


_LOSSES = {"xent": softmax_cross_entropy, "mse": mean_squared_error}


def _loss_fn(loss) -> Callable:
    if isinstance(loss, str):
        if loss not in _LOSSES:
            raise ValueError(f"loss: expected 'xent', 'mse' or a function, got {loss!r}")
        return _LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"loss: expected 'xent', 'mse' or a function, got {type(loss).__name__}")
    return loss


# --- optimizers -------------------------------------------------------------------------------


class _Optimizer:
    def __init__(self, params: Mapping[str, np.ndarray], lr: float):
        self.params = _array_dict("params", params)
        for k, p in self.params.items():
            if not p.flags.writeable:
                raise ValueError(
                    f"params[{k!r}]: expected a writeable array (the optimizer updates it in "
                    "place), got a read-only one"
                )
        self.lr = _positive("lr", lr)
        self.t = 0  # steps taken

    def _check(self, grads) -> None:
        if not isinstance(grads, Mapping):
            raise TypeError(f"grads: expected a dict of arrays, got {type(grads).__name__}")
        if grads.keys() != self.params.keys():
            missing = sorted(set(self.params) - set(grads))
            extra = sorted(set(grads) - set(self.params))
            raise ValueError(
                f"grads: expected the keys of params; missing {missing}, unexpected {extra}"
            )
        for k, p in self.params.items():
            g = grads[k]
            if not isinstance(g, np.ndarray) or g.shape != p.shape or g.dtype != p.dtype:
                got = f"{g.shape} {g.dtype}" if isinstance(g, np.ndarray) else type(g).__name__
                raise ValueError(f"grads[{k!r}]: expected an array {p.shape} {p.dtype}, got {got}")

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place from the same-keyed ``grads``."""
        self._check(grads)
        self.t += 1
        self._update(grads)

    def _update(self, grads) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class SGD(_Optimizer):
    """Stochastic gradient descent, with optional momentum (PyTorch's form).

    ``v ← momentum · v + g``, ``p ← p − lr · v`` (``v`` starts at 0; with ``momentum=0``,
    ``p ← p − lr · g``). ``params``: a dict of live arrays (``model.params``), updated in place.
    """

    def __init__(self, params: Mapping[str, np.ndarray], lr: float, momentum: float = 0.0):
        super().__init__(params, lr)
        self.momentum = _fraction("momentum", momentum)
        self.velocity = {k: np.zeros_like(p) for k, p in self.params.items()}

    def _update(self, grads) -> None:
        lr, mu = self.lr, self.momentum
        for k, p in self.params.items():
            if mu:
                v = self.velocity[k]
                v *= mu
                v += grads[k]
                p -= lr * v
            else:
                p -= lr * grads[k]

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum}, {len(self.params)} arrays)"


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015), with bias correction.

    ``m ← β1 m + (1 − β1) g``, ``v ← β2 v + (1 − β2) g²``,
    ``p ← p − lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps)``.
    ``params``: a dict of live arrays (``model.params``), updated in place.
    """

    def __init__(
        self,
        params: Mapping[str, np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas: expected a pair (beta1, beta2), got {betas!r}")
        self.betas = (_fraction("betas[0]", betas[0]), _fraction("betas[1]", betas[1]))
        self.eps = _positive("eps", eps)
        self.m = {k: np.zeros_like(p) for k, p in self.params.items()}
        self.v = {k: np.zeros_like(p) for k, p in self.params.items()}

    def _update(self, grads) -> None:
        b1, b2 = self.betas
        step = self.lr / (1.0 - b1**self.t)
        root_bc2 = math.sqrt(1.0 - b2**self.t)
        for k, p in self.params.items():
            g, m, v = grads[k], self.m[k], self.v[k]
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            denom = np.sqrt(v)
            denom /= root_bc2
            denom += self.eps
            p -= step * (m / denom)

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, {len(self.params)} arrays)"


def clip_grad_norm(grads: Mapping[str, np.ndarray], max_norm: float) -> float:
    """Scale all ``grads`` in place so that their global L2 norm is at most ``max_norm``.

    The global norm is ``sqrt(sum of every squared entry of every array)``. If it exceeds
    ``max_norm``, every array is multiplied by ``max_norm / norm`` (the direction is kept, and the
    norm becomes ``max_norm`` up to rounding); otherwise nothing changes. Returns the norm
    *before* clipping, as a Python float.

    Every array is checked before any is written: a dict with a non-float, read-only, NaN or inf
    array raises (``TypeError`` or ``ValueError``, naming it) and leaves all of them as they were.

    How ``torch.nn.utils.clip_grad_norm_(parameters, max_norm)`` differs (its defaults): it
    multiplies every gradient by ``min(1, max_norm / (norm + 1e-6))``, always, so a clipped
    gradient's norm is ``max_norm * norm / (norm + 1e-6)``, slightly below ``max_norm``, and a
    norm within 1e-6 below ``max_norm`` is scaled down a little too; here the factor is exactly
    ``max_norm / norm`` and only when ``norm > max_norm``. The two agree to about
    ``1e-6 / norm`` relative. A NaN or inf gradient: torch (``error_if_nonfinite=False``) returns
    the non-finite norm and multiplies every gradient by NaN (a NaN norm) or by 0 (an inf norm,
    which turns the inf entries into NaN); here it is an error and nothing is scaled. torch
    returns the norm as a tensor.
    """
    grads = _array_dict("grads", grads)
    max_norm = _positive("max_norm", max_norm)
    for k, g in grads.items():
        if not g.flags.writeable:
            raise ValueError(
                f"grads[{k!r}]: expected a writeable array (clip_grad_norm scales the gradients "
                "in place), got a read-only one; no gradient was changed"
            )
    total = _global_norm(grads)  # refuses NaN and inf, before anything is written
    if total > max_norm:
        scale = max_norm / total
        for g in grads.values():
            g *= scale
    return total


def _global_norm(grads: Mapping[str, np.ndarray]) -> float:
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if not math.isfinite(total):
        bad = [k for k, g in grads.items() if not np.isfinite(g).all()]
        raise ValueError(
            f"grads: expected finite numbers, got NaN or inf in {', '.join(map(repr, bad))}"
            if bad
            else "grads: the global gradient norm overflows"
        )
    return total


# --- the model --------------------------------------------------------------------------------


class SequenceModel:
    """A recurrent core (``LSTM`` or ``RNN``) read out on its last step by a ``Linear`` layer.

    ``forward(xs (T, B, D)) -> (B, K)``: ``readout(h_T)`` where ``hs, _ = core.forward(xs)`` and
    ``h_T = hs[-1]``. ``backward(dout (B, K)) -> dxs (T, B, D)`` fills the layers' ``grads``.

    ``params`` and ``grads`` merge the two layers' dicts under prefixed keys (``"core.W_f"``,
    ``"readout.W"``, …); their values are the layers' own arrays, not copies, so an optimizer
    built on ``model.params`` trains the layers.
    """

    def __init__(self, core, readout):
        for name, layer in (("core", core), ("readout", readout)):
            for attr in ("forward", "backward", "params", "grads"):
                if not hasattr(layer, attr):
                    raise TypeError(
                        f"{name}: expected a layer with forward, backward, params and grads "
                        f"(an LSTM/RNN core, a Linear readout), got {type(layer).__name__}"
                    )
        self.core = core
        self.readout = readout
        self._hs = None  # (shape, dtype) of the last forward's hs

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self._merged("params")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return self._merged("grads")

    def _merged(self, attr: str) -> dict[str, np.ndarray]:
        merged = {f"core.{k}": v for k, v in getattr(self.core, attr).items()}
        merged.update({f"readout.{k}": v for k, v in getattr(self.readout, attr).items()})
        return merged

    def forward(self, xs: np.ndarray) -> np.ndarray:
        """``xs (T, B, D)`` → outputs ``(B, K)`` from the core's last hidden state."""
        out = self.core.forward(xs)
        hs = out[0] if isinstance(out, tuple) else out
        self._hs = (hs.shape, hs.dtype)
        return self.readout.forward(hs[-1])

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``dout (B, K)`` → ``dxs (T, B, D)``; fills ``core.grads`` and ``readout.grads``."""
        if self._hs is None:
            raise RuntimeError("SequenceModel.backward called before forward")
        shape, dtype = self._hs
        dh_T = self.readout.backward(dout)
        dhs = np.zeros(shape, dtype=dtype)
        dhs[-1] = dh_T
        out = self.core.backward(dhs)
        return out[0] if isinstance(out, tuple) else out

    def __repr__(self) -> str:
        return f"SequenceModel({self.core!r}, {self.readout!r})"


# --- the training loop ------------------------------------------------------------------------


@dataclass
class History:
    """What :func:`fit` recorded, one entry per step (``step`` counts from 1).

    ``loss``: the batch loss before the step's update. ``accuracy``: the batch accuracy (``"xent"``
    only, else empty). ``grad_norm``: the global gradient norm before clipping.
    ``eval_steps`` / ``evals``: the steps after which ``eval_fn`` ran and what it returned.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    evals: list = field(default_factory=list)
    stopped_early: bool = False

    @property
    def steps(self) -> int:
        return len(self.loss)

    def __repr__(self) -> str:
        if not self.loss:
            return "History(steps=0)"
        text = f"History(steps={self.steps}, loss={self.loss[-1]:.4f}"
        if self.accuracy:
            text += f", accuracy={self.accuracy[-1]:.3f}"
        return text + (", stopped early)" if self.stopped_early else ")")


def _unpack(batch, where: str) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(batch, "xs") and hasattr(batch, "targets"):
        return batch.xs, batch.targets
    if isinstance(batch, tuple) and len(batch) == 2:
        return batch
    raise TypeError(
        f"{where}: expected a pair (xs, targets) or a task (with .xs and .targets), "
        f"got {type(batch).__name__}"
    )


def _batch_source(data) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    """``data`` as a function ``step -> (xs, targets)`` (step counts from 0)."""
    if (hasattr(data, "xs") and hasattr(data, "targets")) or (
        isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray)
    ):
        fixed = _unpack(data, "data")
        return lambda step: fixed
    if callable(data):
        return lambda step: _unpack(data(step), f"data({step})")
    if isinstance(data, Iterator):

        def take(step):
            try:
                return _unpack(next(data), "an item of data")
            except StopIteration:
                raise ValueError(f"data ran out of batches after {step} steps") from None

        return take
    if isinstance(data, Sequence) and not isinstance(data, str) and len(data) > 0:
        batches = [_unpack(b, f"data[{i}]") for i, b in enumerate(data)]
        return lambda step: batches[step % len(batches)]
    raise TypeError(
        "data: expected one batch (xs, targets) or a task, a non-empty list of batches "
        f"(cycled), an iterator of batches, or a function step -> batch; got {type(data).__name__}"
    )


def _format_eval(value) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"eval_{k}={float(v):.4f}" for k, v in value.items())
    return f"eval={float(value):.4f}"


def fit(
    model,
    data,
    *,
    optimizer,
    steps: int,
    loss: str | Callable = "xent",
    clip: float | None = None,
    progress: bool | int = True,
    eval_fn: Callable | None = None,
    eval_every: int | None = None,
    stop_when: Callable[[History], bool] | None = None,
    desc: str = "fit",
) -> History:
    """Train ``model`` for ``steps`` optimizer steps; return the :class:`History`.

    Each step: take a batch, ``out = model.forward(xs)``, ``loss, dout = loss_fn(out, targets)``,
    ``model.backward(dout)``, clip the global gradient norm to ``clip`` (if given),
    ``optimizer.step(model.grads)``.

    Parameters
    ----------
    model : anything with ``forward``, ``backward`` and ``grads`` (e.g. :class:`SequenceModel`)
    data : the batches, one of
        - one batch ``(xs, targets)`` (``xs`` an ndarray) or a task (``fluent_language(...)``):
          used at every step;
        - a list of batches: cycled in order;
        - an iterator of batches: ``next`` at every step;
        - a function ``step -> batch`` (``step`` from 0), e.g.
          ``lambda step: fluent_language(32, lag=5, seed=step)``.
    optimizer : an :class:`SGD` or :class:`Adam` built on ``model.params``
    steps : int >= 1
    loss : ``"xent"`` (:func:`softmax_cross_entropy`, integer targets; records accuracy),
        ``"mse"`` (:func:`mean_squared_error`), or a function ``(out, targets) -> (loss, dout)``
    clip : the maximum global gradient norm (:func:`clip_grad_norm`), or None
    progress : show a progress bar (True: updated every ``max(1, steps // 20)`` steps; an int:
        every that many steps; False: silent). The bar is plain text on ``sys.stdout`` without
        timings, so the same run prints the same text.
    eval_fn : a function ``model -> float or dict of floats``, run every ``eval_every`` steps and
        after the last one (``eval_every=None``: after the last step only)
    stop_when : a function ``history -> bool`` checked after every step (after that step's
        eval, if any); True stops the run (e.g. ``lambda h: h.accuracy[-1] == 1.0``)
    desc : the label in front of the progress bar
    """
    for attr in ("forward", "backward", "grads"):
        if not hasattr(model, attr):
            raise TypeError(
                f"model: expected forward, backward and grads (e.g. a SequenceModel), got "
                f"{type(model).__name__}"
            )
    if not isinstance(optimizer, _Optimizer):
        raise TypeError(f"optimizer: expected an SGD or Adam, got {type(optimizer).__name__}")
    steps = check_positive_int("steps", steps)
    loss_fn = _loss_fn(loss)
    classify = loss_fn is softmax_cross_entropy
    if clip is not None:
        clip = _positive("clip", clip)
    if progress is True:
        every = max(1, steps // 20)
    elif progress is False or progress is None:
        every = 0
    else:
        every = check_positive_int("progress", progress)
    if eval_fn is not None and not callable(eval_fn):
        raise TypeError(
            f"eval_fn: expected a function model -> value, got {type(eval_fn).__name__}"
        )
    if eval_every is not None:
        eval_every = check_positive_int("eval_every", eval_every)
    if stop_when is not None and not callable(stop_when):
        raise TypeError(
            f"stop_when: expected a function history -> bool, got {type(stop_when).__name__}"
        )
    batch = _batch_source(data)

    history = History()
    bar = _progress_bar(steps, desc) if every else None
    try:
        for step in range(1, steps + 1):
            xs, targets = batch(step - 1)
            out = model.forward(xs)
            value, dout = loss_fn(out, targets)
            value = float(value)
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"the loss is {value} at step {step}: lower the learning rate or clip the "
                    "gradients (clip=1.0)"
                )
            model.backward(dout)
            grads = model.grads
            norm = clip_grad_norm(grads, clip) if clip is not None else _global_norm(grads)
            optimizer.step(grads)

            history.loss.append(value)
            history.grad_norm.append(norm)
            if classify:
                history.accuracy.append(float(np.mean(out.argmax(axis=1) == targets)))
            last = step == steps
            due = eval_fn is not None and (last or (eval_every and step % eval_every == 0))
            if due:
                history.eval_steps.append(step)
                history.evals.append(eval_fn(model))
            stop = stop_when is not None and bool(stop_when(history))
            if stop and eval_fn is not None and not due:  # a run always ends with an eval
                history.eval_steps.append(step)
                history.evals.append(eval_fn(model))
            if bar is not None and (last or stop or step % every == 0):
                text = f"loss={value:.4f}"
                if classify:
                    text += f", acc={history.accuracy[-1]:.3f}"
                if history.evals:
                    text += ", " + _format_eval(history.evals[-1])
                bar.set_postfix_str(text, refresh=False)
                bar.update(step - bar.n)
            if stop:
                history.stopped_early = not last
                break
    finally:
        if bar is not None:
            bar.close()
    return history


# The bar: no {elapsed}, {rate} or {remaining}, a fixed width and an ASCII charset (no dependence
# on the terminal's size or encoding), printed only when fit calls update (miniters=1,
# mininterval=0, maxinterval=inf so tqdm's monitor thread never forces an extra refresh).
_BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt}{postfix}"


def _progress_bar(total: int, desc: str):
    from tqdm import tqdm  # std tqdm: plain text, never the notebook widget

    return tqdm(
        total=total,
        desc=desc,
        file=sys.stdout,
        bar_format=_BAR_FORMAT,
        ascii=" =",
        ncols=100,
        dynamic_ncols=False,
        mininterval=0,
        maxinterval=float("inf"),
        miniters=1,
        smoothing=0,
        unit_scale=False,
        initial=0,
        delay=0,
        leave=True,
        disable=False,
    )


def evaluate(model, data, loss: str | Callable = "xent") -> dict[str, float]:
    """The loss (and accuracy, for ``"xent"``) of ``model`` on one batch, without training.

    ``data``: a batch ``(xs, targets)`` or a task. Returns ``{"loss": ..., "accuracy": ...}``
    (``{"loss": ...}`` for other losses). Handy as ``eval_fn=lambda m: evaluate(m, test)``.
    """
    xs, targets = _unpack(data, "data")
    loss_fn = _loss_fn(loss)
    out = model.forward(xs)
    result = {"loss": float(loss_fn(out, targets)[0])}
    if loss_fn is softmax_cross_entropy:
        result["accuracy"] = float(np.mean(out.argmax(axis=1) == targets))
    return result
