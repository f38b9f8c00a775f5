"""A character-level language model: one-hot characters in, a recurrent layer, a softmax out.

The model of the part "Speaking for real" reads text one character at a time and, at every step,
gives a probability to each of the ``V`` characters that could come next::

    x_t = onehot(char_t)                       (V,)
    h_t, c_t = LSTM(x_t, h_{t-1}, c_{t-1})     (H,)   the standard unit (peephole=False)
    p_t = softmax(W_y h_t + b_y)               (V,)   the next character's distribution

Its loss is the cross-entropy of the true next character in **bits per character**,
``-log2 p_t[char_{t+1}]`` averaged over the text: the number of yes/no questions an ideal code
built from the model needs per character.

Training uses truncated backpropagation through time (Williams & Peng 1990) on **stateful
batches**: the training text is cut into ``B`` equal streams, row ``b`` of every batch reads the
next ``T`` characters of stream ``b``, and the state at the end of one chunk is the start of the
next (:func:`stream_chunks`). The gradient sees ``T`` steps back; the state carries what the model
remembers from further back.

Shapes: ``T`` steps, ``B`` streams, ``V`` characters, ``H`` hidden units. ``ids`` are int64 arrays
of indices into a :class:`lstmlib.text.Corpus`'s vocabulary.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_dtype, check_ids, check_positive_int, check_real, check_seed
from .layers import LSTM, RNN, Linear
from .train import Adam, clip_grad_norm

__all__ = [
    "CharLM",
    "TrainingLog",
    "log2_probs",
    "sample",
    "stream_chunks",
    "train_char_lm",
]

LOG2E = 1.0 / math.log(2.0)


class CharLM:
    """``kind="lstm"`` (standard LSTM) or ``"rnn"`` (Elman, tanh) core and a ``Linear`` readout.

    ``CharLM(V, H, *, kind="lstm", seed=None, dtype=np.float32, forget_bias=1.0)``

    ``forward(ids (T, B), state=None) -> logits (T, B, V), state``: state is ``(h, c)`` for the
    LSTM and ``h`` for the RNN (each (B, H); ``None``: zeros). ``backward(dlogits (T, B, V))``
    fills ``grads`` (the gradient does not flow into the incoming state: truncated BPTT).
    ``params``/``grads`` merge the layers' dicts under ``"core."`` and ``"readout."`` keys (live
    arrays, like :class:`lstmlib.SequenceModel`).
    """

    def __init__(
        self, V: int, H: int, *, kind="lstm", seed=None, dtype=np.float32, forget_bias=1.0
    ):
        self.V = check_positive_int("V", V)
        self.H = check_positive_int("H", H)
        if kind not in ("lstm", "rnn"):
            raise ValueError(f"kind: expected 'lstm' or 'rnn', got {kind!r}")
        self.kind = kind
        self.dtype = check_dtype("dtype", dtype)
        rng = check_seed("seed", seed)
        seeds = rng.integers(2**31, size=2)
        if kind == "lstm":
            self.core = LSTM(
                V, H, peephole=False, forget_bias=forget_bias, seed=seeds[0], dtype=self.dtype
            )
        else:
            self.core = RNN(V, H, seed=seeds[0], dtype=self.dtype)
        self.readout = Linear(H, V, seed=seeds[1], dtype=self.dtype)
        self._eye = np.eye(V, dtype=self.dtype)  # one-hot rows: x_t = _eye[char_t]
        self.hs = None  # after forward: (T, B, H)

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {
            **_prefixed("core.", self.core.params),
            **_prefixed("readout.", self.readout.params),
        }

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {**_prefixed("core.", self.core.grads), **_prefixed("readout.", self.readout.grads)}

    @property
    def n_weights(self) -> int:
        """How many numbers the model learns."""
        return sum(p.size for p in self.params.values())

    def settings(self) -> dict:
        """What rebuilds the model: ``CharLM(**model.settings())``."""
        return {"V": self.V, "H": self.H, "kind": self.kind, "dtype": self.dtype.name}

    def astype(self, dtype) -> CharLM:
        """A copy in ``dtype`` (float32 -> float64 is exact: every float32 is a float64)."""
        other = CharLM(self.V, self.H, kind=self.kind, seed=0, dtype=dtype)
        for k, p in self.params.items():
            other.params[k][...] = p
        return other

    def load(self, params: dict[str, np.ndarray], prefix: str = "") -> CharLM:
        """Copy ``params[prefix + key]`` for every key of ``self.params`` into it (in place)."""
        mine = self.params
        missing = [prefix + k for k in mine if prefix + k not in params]
        if missing:
            raise ValueError(f"params: missing {missing[:3]} (prefix {prefix!r})")
        for k, p in mine.items():
            v = params[prefix + k]
            if v.shape != p.shape:
                raise ValueError(f"params[{prefix + k!r}]: expected shape {p.shape}, got {v.shape}")
            p[...] = v
        return self

    def initial_state(self, B: int):
        zeros = np.zeros((B, self.H), self.dtype)
        return (zeros, zeros.copy()) if self.kind == "lstm" else zeros

    def forward(self, ids, state=None):
        """``ids`` (T, B) int -> ``logits`` (T, B, V) and the state after the last step."""
        ids = check_ids("ids", ids, self.V, ndim=2)
        xs = self._eye[ids]  # (T, B, V)
        hs, state = self.core.forward(xs, state)  # state: (h, c) for the LSTM, h for the RNN
        self.hs = hs
        return self.readout.forward(hs), state

    def backward(self, dlogits) -> None:
        """``dlogits`` (T, B, V): dL/dlogits of the last forward. Fills ``grads``."""
        dhs = self.readout.backward(dlogits)
        self.core.backward(dhs)

    def __repr__(self) -> str:
        return (
            f"CharLM({self.kind}, V={self.V}, H={self.H}, {self.n_weights:,} weights, "
            f"{self.dtype.name})"
        )


def _prefixed(prefix: str, d: dict) -> dict:
    return {prefix + k: v for k, v in d.items()}


def stream_chunks(ids, B: int, T: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``ids`` (n,) into ``B`` streams and the streams into chunks of ``T`` steps.

    Stream ``b`` is ``ids[offset + b L : offset + (b + 1) L + 1]`` with ``L = (n - offset - 1) //
    B`` (the last ``(n - offset - 1) % B`` characters are left out). Returns ``inputs`` and
    ``targets``, each (K, T, B) with ``K = L // T`` chunks: ``inputs[k, t, b]`` is character
    ``k T + t`` of stream ``b`` and ``targets[k, t, b]`` the one after it. Row ``b`` of chunk
    ``k + 1`` continues row ``b`` of chunk ``k``: the state carried from one chunk to the next is
    the state of the same stream.
    """
    ids = check_ids("ids", ids, ndim=1)
    B, T = check_positive_int("B", B), check_positive_int("T", T)
    n = ids.size - offset - 1
    L = n // B
    K = L // T
    if K < 1:
        raise ValueError(f"ids: {ids.size} characters are too few for B={B} streams of T={T}")
    starts = offset + np.arange(B) * L  # (B,)
    index = starts[None, None, :] + np.arange(K * T).reshape(K, T)[:, :, None]  # (K, T, B)
    return ids[index], ids[index + 1]


def _xent_bits(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy in bits of ``logits`` (N, V) against ``targets`` (N,), and d/dlogits of
    the mean in nats (the scale the optimizer's learning rate is set for)."""
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    rows = np.arange(targets.size)
    bits = -float(logp[rows, targets].mean()) * LOG2E
    grad = np.exp(logp)
    grad[rows, targets] -= 1
    grad /= targets.size
    return bits, grad


@dataclass
class TrainingLog:
    """What :func:`train_char_lm` recorded: per step the batch loss (bits per character), the
    learning rate and the gradient norm before clipping; the parameters at chosen steps."""

    bits: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    snapshots: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return len(self.bits)


def train_char_lm(
    model: CharLM,
    ids,
    *,
    steps: int,
    B: int = 32,
    T: int = 100,
    lr: float = 2e-3,
    lr_final: float = 1e-4,
    clip: float = 1.0,
    seed=0,
    snapshot_steps=(),
    time_limit: float | None = None,
    callback: Callable[[int, TrainingLog], None] | None = None,
) -> TrainingLog:
    """Train ``model`` on ``ids`` (n,) with truncated BPTT on stateful batches, Adam and clipping.

    Every step takes the next chunk of :func:`stream_chunks` (``B`` streams, ``T`` steps),
    starts from the state the previous chunk ended in, backpropagates ``T`` steps, clips the
    gradient's global norm to ``clip`` and takes an Adam step. The learning rate falls from ``lr``
    to ``lr_final`` along a cosine over ``steps``. When the chunks run out (an epoch), the state
    is reset to zeros and the streams restart at a random offset in ``[0, T)`` (drawn from
    ``seed``), so that chunk boundaries move from one epoch to the next.

    ``snapshot_steps``: steps after which to copy the parameters into ``log.snapshots``.
    ``time_limit``: stop after this many seconds (then ``log.steps < steps``).
    """
    ids = check_ids("ids", ids, model.V, ndim=1)
    steps = check_positive_int("steps", steps)
    lr0 = check_real("lr", lr)
    lr1 = check_real("lr_final", lr_final)
    clip = check_real("clip", clip)
    rng = check_seed("seed", seed)
    opt = Adam(model.params, lr=lr0)
    log = TrainingLog()
    inputs, targets, k, state = None, None, 0, None
    start = time.perf_counter()
    for step in range(1, steps + 1):
        if inputs is None or k == len(inputs):  # a new epoch
            inputs, targets = stream_chunks(ids, B, T, offset=int(rng.integers(T)))
            k, state = 0, None
        logits, state = model.forward(inputs[k], state)
        bits, dlogits = _xent_bits(logits.reshape(-1, model.V), targets[k].reshape(-1))
        model.backward(dlogits.reshape(logits.shape))
        k += 1
        norm = clip_grad_norm(model.grads, clip)
        opt.lr = lr1 + 0.5 * (lr0 - lr1) * (1 + math.cos(math.pi * (step - 1) / steps))
        opt.step(model.grads)
        log.bits.append(bits)
        log.lr.append(opt.lr)
        log.grad_norm.append(norm)
        if step in snapshot_steps:
            log.snapshots[step] = {key: p.copy() for key, p in model.params.items()}
        if callback is not None:
            callback(step, log)
        if time_limit is not None and time.perf_counter() - start > time_limit:
            break
    log.seconds = time.perf_counter() - start
    return log


def log2_probs(model: CharLM, texts, chunk: int = 2000) -> list[np.ndarray]:
    """The log2 probability the model gives each character of each text, from the one before.

    ``texts``: a list of int arrays (n_j,); each is read from a zero state (as a file from its
    start), all of them side by side as one batch (shorter ones padded; padding is not scored).
    Returns one float array (n_j,) per text: entry 0 is the log2 probability of the first
    character after an empty context (the model's output from a zero state and no input is not
    defined, so the first character gets the uniform ``-log2 V``), entry ``t`` that of character
    ``t`` given characters ``0..t-1``. Computed in the model's dtype.
    """
    seqs = [check_ids(f"texts[{j}]", t, model.V, ndim=1) for j, t in enumerate(texts)]
    n = max(s.size for s in seqs)
    batch = np.zeros((n, len(seqs)), np.int64)
    for j, s in enumerate(seqs):
        batch[: s.size, j] = s
    out = np.zeros((n, len(seqs)))
    out[0] = -math.log2(model.V)
    state = None
    for a in range(0, n - 1, chunk):
        b = min(a + chunk, n - 1)
        logits, state = model.forward(batch[a:b], state)
        z = logits - logits.max(axis=-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        nxt = batch[a + 1 : b + 1]
        out[a + 1 : b + 1] = np.take_along_axis(logp, nxt[..., None], axis=-1)[..., 0] * LOG2E
    return [out[: s.size, j] for j, s in enumerate(seqs)]


def sample(model: CharLM, prompt_ids, n: int, *, temperature: float = 1.0, seed=0) -> np.ndarray:
    """Read ``prompt_ids`` (at least one character), then draw ``n`` characters one at a time.

    Each character is drawn from ``softmax(logits / temperature)`` given everything before it
    (temperature < 1 sharpens the distribution, > 1 flattens it), with uniforms from
    ``np.random.default_rng(seed)`` and the inverse of the cumulative distribution, so that a
    seed gives the same text wherever the probabilities agree to rounding. Returns the ``n``
    drawn ids (int64).
    """
    prompt = check_ids("prompt_ids", prompt_ids, model.V, ndim=1)
    if prompt.size == 0:
        raise ValueError("prompt_ids: expected at least one character")
    n = check_positive_int("n", n)
    temperature = check_real("temperature", temperature)
    if temperature <= 0:
        raise ValueError(f"temperature: expected a positive number, got {temperature}")
    uniforms = check_seed("seed", seed).random(n)
    logits, state = model.forward(prompt[:, None])
    last = logits[-1, 0]
    out = np.empty(n, np.int64)
    for t in range(n):
        z = (last - last.max()) / temperature
        p = np.exp(z)
        cdf = np.cumsum(p / p.sum())
        out[t] = min(int(np.searchsorted(cdf, uniforms[t], side="right")), model.V - 1)
        logits, state = model.forward(out[t : t + 1, None], state)
        last = logits[0, 0]
    return out


# --- the stored models of the part "Speaking for real" -------------------------------------------

#: The corpus directory in ``book/data`` the recipes train on.
CORPUS_DIR = "cpython-3.11.7-lib"

#: How the stored models were trained: the same budget for both (steps x B x T characters).
CHAR_LM_SETTINGS = {
    "lstm": {"H": 200, "B": 32, "T": 100, "steps": 5000, "lr": 1e-2, "lr_final": 5e-4, "clip": 1},
    "rnn": {"H": 419, "B": 32, "T": 100, "steps": 5000, "lr": 2e-3, "lr_final": 1e-4, "clip": 1},
}
#: How the learning rates were chosen: mean training bits per character over steps 401-500 of
#: 500 steps at a constant learning rate (seed 1, the settings above otherwise), per model and
#: rate tried. The best rate starts the cosine schedule; the schedule ends at a twentieth of it.
LR_PILOT = {
    "lstm": {2e-3: 2.998, 5e-3: 2.434, 1e-2: 2.070},
    "rnn": {1e-3: 2.885, 2e-3: 2.627, 5e-3: 2.996},
}
#: Fractions of training after which the LSTM recipe keeps a copy of the weights (for samples).
SNAPSHOT_FRACTIONS = (0.01, 0.1)
#: Every how many steps the recipe measures the held-out bits per character (float32).
EVAL_EVERY = 500


def snapshot_prefix(fraction: float) -> str:
    """The key prefix of the weights kept after ``fraction`` of training, e.g. ``"at_1pct/"``."""
    return f"at_{round(100 * fraction)}pct/"


def char_lm_recipe(kind: str, data_dir, steps: int | None = None, seed: int = 1):
    """Train the stored character model ``kind`` ("lstm" or "rnn") on the corpus in
    ``data_dir / CORPUS_DIR``: returns ``(params, recipe)`` for :func:`lstmlib.store.save_params`.

    Settings: :data:`CHAR_LM_SETTINGS` (``steps`` overrides the number of steps, for tests).
    Trained in float32; the metrics in the recipe are measured in float64 on the held-out text.
    The LSTM's params also hold the weights after :data:`SNAPSHOT_FRACTIONS` of training, under
    :func:`snapshot_prefix` keys.
    """
    from pathlib import Path

    from .text import load_corpus

    s = dict(CHAR_LM_SETTINGS[kind])
    if steps is not None:
        s["steps"] = check_positive_int("steps", steps)
    corpus = load_corpus(Path(data_dir) / CORPUS_DIR)
    train_ids = corpus.encode(corpus.train)
    held_out = [corpus.encode(t) for t in corpus.held_out_texts]
    model = CharLM(corpus.V, s["H"], kind=kind, seed=seed, dtype=np.float32)
    snap_steps = (
        {max(1, round(f * s["steps"])): f for f in SNAPSHOT_FRACTIONS} if kind == "lstm" else {}
    )
    curve = []

    def measure(step, log):
        if step % EVAL_EVERY == 0 or step == s["steps"]:
            bits = _bits(model, held_out)
            train_bits = float(np.mean(log.bits[-EVAL_EVERY:]))
            curve.append(
                {"step": step, "held_out_bits": round(bits, 4), "train_bits": round(train_bits, 4)}
            )

    log = train_char_lm(
        model,
        train_ids,
        steps=s["steps"],
        B=s["B"],
        T=s["T"],
        lr=s["lr"],
        lr_final=s["lr_final"],
        clip=s["clip"],
        seed=seed,
        snapshot_steps=tuple(snap_steps),
        callback=measure,
    )
    params = dict(model.params)
    metrics = {"held_out_bits": _bits(model.astype(np.float64), held_out)}
    for step, f in snap_steps.items():
        prefix = snapshot_prefix(f)
        params.update({prefix + k: v for k, v in log.snapshots[step].items()})
        snap = CharLM(corpus.V, s["H"], kind=kind, seed=0, dtype=np.float64)
        snap.load(log.snapshots[step])
        metrics[f"{prefix}held_out_bits"] = _bits(snap, held_out)
        metrics[f"{prefix}step"] = step
    every = 50
    recipe = {
        "function": "lstmlib.charlm.char_lm_recipe",
        "kind": kind,
        "seed": seed,
        "settings": s,
        "model": model.settings(),
        "n_weights": model.n_weights,
        "corpus": CORPUS_DIR,
        "metrics": metrics,
        "curve": curve,
        "train_bits_every_50": [
            round(float(np.mean(log.bits[a : a + every])), 4) for a in range(0, log.steps, every)
        ],
        "trained_seconds": round(log.seconds, 1),
    }
    return params, recipe


def _bits(model: CharLM, texts) -> float:
    """Mean bits per character over all characters of ``texts`` (first ones: uniform)."""
    lp = np.concatenate(log2_probs(model, texts))
    return float(-lp.mean())


def char_lstm_recipe(data_dir):
    """``make weights W=char_lstm.npz``: the LSTM of the part "Speaking for real"."""
    return char_lm_recipe("lstm", data_dir)


def char_rnn_recipe(data_dir):
    """``make weights W=char_rnn.npz``: an RNN as big as the LSTM, trained with the same budget."""
    return char_lm_recipe("rnn", data_dir)
