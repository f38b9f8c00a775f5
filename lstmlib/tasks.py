"""Tasks with a long-term dependency: seeded data generators ready for ``LSTM.forward``.

- :func:`fluent_language`: the source's sentence made learnable. "France blah la … fluent" →
  "French": the answer depends on the first token only, ``lag`` steps back.
- :func:`adding_problem`: Hochreiter & Schmidhuber's (1997) adding problem: add the two marked
  numbers of a long sequence.

Every generator takes a ``seed`` (an int, a ``numpy.random.Generator``, or ``None`` for fresh
entropy): the same seed gives the same data, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import check_dtype, check_positive_int, check_seed

__all__ = [
    "COUNTRIES",
    "FILLERS",
    "LANGUAGES",
    "QUERY",
    "SOLVED_TOLERANCE",
    "AddingProblem",
    "FluentLanguage",
    "adding_problem",
    "fluent_language",
    "solved",
]

#: Countries and their languages, in the order ``fluent_language`` takes the first ``n_countries``.
COUNTRIES = (
    "France",
    "Germany",
    "Spain",
    "Italy",
    "Netherlands",
    "Greece",
    "Poland",
    "Sweden",
    "Portugal",
    "Finland",
    "Hungary",
    "Turkey",
)
LANGUAGES = (
    "French",
    "German",
    "Spanish",
    "Italian",
    "Dutch",
    "Greek",
    "Polish",
    "Swedish",
    "Portuguese",
    "Finnish",
    "Hungarian",
    "Turkish",
)
#: The filler words ("blah, blah, many times"), the first ``n_fillers`` are used.
FILLERS = ("blah", "la", "yada", "um", "etc", "so", "well", "anyway")
#: The last token of every sentence: "I speak fluent ___".
QUERY = "fluent"

#: The adding problem counts a sequence as solved when ``|prediction - target| < 0.04``
#: (Hochreiter & Schmidhuber 1997, experiment 4).
SOLVED_TOLERANCE = 0.04


# --- argument checks (the shared ones live in lstmlib._checks) ---------------------------------


def _int(name: str, value, minimum: int, maximum: int | None = None, why: str = "") -> int:
    """``value`` as an int in ``[minimum, maximum]``; ``why`` explains the range in the message."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        span = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise ValueError(f"{name}: expected an int {span}{why}, got {value}")
    return value


# --- fluent language --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FluentLanguage:
    """A batch of "<country> <filler> … <filler> fluent" sentences and their languages.

    Attributes
    ----------
    xs : (T, B, V) float array, one-hot rows: the input of ``LSTM.forward`` (``T = lag + 2``)
    tokens : (T, B) int array, indices into ``vocab``; ``tokens[0]`` is the country,
        ``tokens[1:-1]`` the fillers, ``tokens[-1]`` the query ``"fluent"``
    targets : (B,) int array in ``[0, n_countries)``: the language, which is the country's index
    vocab : list of V token strings: the countries, then the fillers, then ``"fluent"``
    languages : list of the ``n_countries`` answers, ``languages[targets[b]]``
    countries : list of the ``n_countries`` countries (``vocab[:n_countries]``)
    lag : number of filler tokens between the country and the query
    """

    xs: np.ndarray
    tokens: np.ndarray
    targets: np.ndarray
    vocab: list[str]
    languages: list[str]
    countries: list[str]
    lag: int
    seed: object = field(default=None, repr=False)

    @property
    def n_sequences(self) -> int:
        return self.tokens.shape[1]

    @property
    def T(self) -> int:
        """Sequence length, ``lag + 2``."""
        return self.tokens.shape[0]

    @property
    def input_size(self) -> int:
        """Vocabulary size ``V``: the ``input_size`` of the LSTM that reads ``xs``."""
        return len(self.vocab)

    @property
    def n_classes(self) -> int:
        """Number of answers: the ``out_features`` of the readout."""
        return len(self.languages)

    def words(self, index: int) -> list[str]:
        """Sequence ``index`` as its list of tokens."""
        index = _int("index", index, -self.n_sequences, self.n_sequences - 1)
        return [self.vocab[k] for k in self.tokens[:, index]]

    def render(self, index: int = 0, prediction=None, max_fillers: int | None = 8) -> str:
        """Sequence ``index`` as text for the book, e.g. ``"France blah la blah fluent → French"``.

        ``prediction``: a class index (or a language name) to show after the answer, as
        ``"… → French (model: German)"``. ``max_fillers``: show at most this many fillers, the
        rest as ``"… (n more) …"``; ``None`` shows them all.
        """
        words = self.words(index)
        fillers = words[1:-1]
        if max_fillers is not None:
            max_fillers = _int("max_fillers", max_fillers, 0)
            if len(fillers) > max_fillers:
                head = (max_fillers + 1) // 2
                tail = max_fillers - head
                hidden = len(fillers) - max_fillers
                fillers = [*fillers[:head], f"… ({hidden} more) …", *fillers[len(fillers) - tail :]]
        text = " ".join([words[0], *fillers, words[-1]])
        text += f" → {self.languages[self.targets[index]]}"
        if prediction is not None:
            if isinstance(prediction, str):
                guess = prediction
            else:
                guess = self.languages[_int("prediction", prediction, 0, self.n_classes - 1)]
            text += f" (model: {guess})"
        return text

    def __repr__(self) -> str:
        return (
            f"FluentLanguage(n_sequences={self.n_sequences}, lag={self.lag}, "
            f"n_countries={self.n_classes}, vocab_size={self.input_size}, "
            f"xs={self.xs.shape} {self.xs.dtype})"
        )


def fluent_language(
    n_sequences: int,
    lag: int,
    n_countries: int = 4,
    seed=None,
    *,
    n_fillers: int = 4,
    dtype=np.float64,
) -> FluentLanguage:
    """The source's "I grew up in France … blah blah … I speak fluent ___" as a learnable task.

    Each of the ``n_sequences`` sentences is ``T = lag + 2`` tokens: a country drawn uniformly from
    the first ``n_countries`` of :data:`COUNTRIES`, then ``lag`` fillers drawn uniformly and
    independently from the first ``n_fillers`` of :data:`FILLERS`, then the query ``"fluent"``.
    The target is the country's language (its index in ``languages``), which nothing after step
    0 tells: to answer, a network has to carry the country across ``lag`` fillers.

    Parameters
    ----------
    n_sequences : int >= 1, the batch size ``B``
    lag : int >= 0, filler tokens between the country and the query
    n_countries : int in [2, 12], the number of countries (and of classes)
    seed : int >= 0, numpy Generator, or None
    n_fillers : int in [1, 8], distinct filler words
    dtype : np.float32 or np.float64, the dtype of ``xs``

    Returns
    -------
    FluentLanguage with ``xs (T, B, V)`` one-hot, ``tokens (T, B)`` int64, ``targets (B,)`` int64,
    ``vocab`` (``V = n_countries + n_fillers + 1`` words), ``languages``, ``countries``, ``lag``.
    """
    B = check_positive_int("n_sequences", n_sequences)
    lag = _int("lag", lag, 0)
    n_countries = _int(
        "n_countries", n_countries, 2, len(COUNTRIES), " (the countries the vocabulary knows)"
    )
    n_fillers = _int("n_fillers", n_fillers, 1, len(FILLERS))
    dtype = check_dtype("dtype", dtype)
    rng = check_seed("seed", seed)

    countries = list(COUNTRIES[:n_countries])
    vocab = [*countries, *FILLERS[:n_fillers], QUERY]
    T, V = lag + 2, len(vocab)

    targets = rng.integers(0, n_countries, size=B)
    tokens = np.empty((T, B), dtype=np.int64)
    tokens[0] = targets
    tokens[1:-1] = n_countries + rng.integers(0, n_fillers, size=(lag, B))
    tokens[-1] = V - 1

    xs = np.zeros((T, B, V), dtype=dtype)
    np.put_along_axis(xs, tokens[..., None], 1.0, axis=2)
    return FluentLanguage(
        xs=xs,
        tokens=tokens,
        targets=targets.astype(np.int64),
        vocab=vocab,
        languages=list(LANGUAGES[:n_countries]),
        countries=countries,
        lag=lag,
        seed=seed,
    )


# --- adding problem ---------------------------------------------------------------------------


def solved(pred, targets) -> np.ndarray:
    """Which sequences of the adding problem are solved: ``|pred - targets| < SOLVED_TOLERANCE``.

    ``pred`` and ``targets`` of the same shape, ``(B, 1)`` or ``(B,)``; returns a bool array
    ``(B,)``. ``solved(pred, targets).mean()`` is the fraction solved.
    """
    pred = np.asarray(pred)
    targets = np.asarray(targets)
    for name, a in (("pred", pred), ("targets", targets)):
        if a.dtype.kind not in "fiu":
            raise TypeError(f"{name}: expected a real numeric array, got dtype {a.dtype}")
        if a.ndim not in (1, 2) or (a.ndim == 2 and a.shape[1] != 1):
            raise ValueError(f"{name}: expected shape (B, 1) or (B,), got {a.shape}")
    if pred.shape != targets.shape:
        raise ValueError(f"pred: expected the shape of targets {targets.shape}, got {pred.shape}")
    if not np.isfinite(pred).all():
        raise ValueError("pred: expected finite numbers, got NaN or inf")
    return (np.abs(pred - targets) < SOLVED_TOLERANCE).reshape(-1)


@dataclass(frozen=True, eq=False)
class AddingProblem:
    """A batch of the adding problem.

    Attributes
    ----------
    xs : (T, B, 2) float array: ``xs[t, b, 0]`` a value uniform in [-1, 1], ``xs[t, b, 1]`` the
        marker (1.0 at exactly two steps, 0.0 elsewhere)
    targets : (B, 1) float array, ``0.5 + (X1 + X2) / 4`` in [0, 1]
    positions : (B, 2) int array, the two marked steps: ``positions[:, 0]`` in [0, 10),
        ``positions[:, 1]`` in [0, T // 2) and different from the first
    """

    xs: np.ndarray
    targets: np.ndarray
    positions: np.ndarray
    seed: object = field(default=None, repr=False)

    input_size = 2
    output_size = 1

    @property
    def T(self) -> int:
        return self.xs.shape[0]

    @property
    def n_sequences(self) -> int:
        return self.xs.shape[1]

    def solved(self, pred) -> np.ndarray:
        """``solved(pred, self.targets)``: bool (B,), ``|pred - target| < SOLVED_TOLERANCE``."""
        return solved(pred, self.targets)

    def __repr__(self) -> str:
        return (
            f"AddingProblem(n_sequences={self.n_sequences}, T={self.T}, "
            f"xs={self.xs.shape} {self.xs.dtype})"
        )


def adding_problem(n_sequences: int, T: int = 100, seed=None, *, dtype=np.float64) -> AddingProblem:
    """The adding problem (Hochreiter & Schmidhuber 1997, experiment 4).

    At each of the ``T`` steps the input is a pair: a value uniform in [-1, 1] and a marker. Exactly
    two steps are marked (marker 1.0, else 0.0): the first uniformly among the first 10 steps, the
    second uniformly among the other ``T // 2 - 1`` steps before ``T // 2``. The target, seen only
    at the end, is ``0.5 + (X1 + X2) / 4`` (in [0, 1]) where X1 and X2 are the two marked values.
    A sequence counts as solved when the absolute error is below :data:`SOLVED_TOLERANCE` (0.04);
    see :func:`solved`.

    Differences from the paper, to batch it: every sequence has length ``T`` (the paper draws it
    from [T, T + T/10]), and there are no -1 markers on the first and last steps (so X1 is never
    zeroed).

    Parameters
    ----------
    n_sequences : int >= 1, the batch size ``B``
    T : int >= 20, the sequence length (so that the first mark, in [0, 10), lies before T // 2)
    seed : int >= 0, numpy Generator, or None
    dtype : np.float32 or np.float64, the dtype of ``xs`` and ``targets``

    Returns
    -------
    AddingProblem with ``xs (T, B, 2)``, ``targets (B, 1)``, ``positions (B, 2)``.
    """
    B = check_positive_int("n_sequences", n_sequences)
    T = _int("T", T, 20, why=" (the first mark lies in the first 10 steps, the second before T/2)")
    dtype = check_dtype("dtype", dtype)
    rng = check_seed("seed", seed)

    values = rng.uniform(-1.0, 1.0, size=(T, B))
    first = rng.integers(0, 10, size=B)
    second = rng.integers(0, T // 2 - 1, size=B)
    second += second >= first  # skip the first mark: uniform over [0, T // 2) without it
    positions = np.stack([first, second], axis=1).astype(np.int64)

    xs = np.zeros((T, B, 2), dtype=dtype)
    xs[:, :, 0] = values
    cols = np.arange(B)
    xs[first, cols, 1] = 1.0
    xs[second, cols, 1] = 1.0
    # the sum of the values the model sees (rounded to dtype), so the target is exact for it
    x1, x2 = xs[first, cols, 0], xs[second, cols, 0]
    targets = (0.5 + (x1 + x2) / 4).astype(dtype).reshape(B, 1)
    return AddingProblem(xs=xs, targets=targets, positions=positions, seed=seed)
