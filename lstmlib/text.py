"""Real text for a character-level language model: the corpus, its characters, and its structure.

The corpus of the chapters "Speaking for real" is Python source: 42 modules of the standard library
of one CPython release, stored in ``book/data/cpython-3.11.7-lib/`` with a ``manifest.json`` that
lists every file, its sha256 and whether it is for training or held out. Why Python source: it is
real text that no one on this project wrote, its licence (PSF) allows us to ship it, and its
structure has an exact ground truth: Python's own ``tokenize`` module says, for every character,
whether it sits inside a string or a comment, how deep inside brackets, and how far indented.

    corpus = load_corpus("data/cpython-3.11.7-lib")   # checks every file's sha256
    corpus.train, corpus.held_out                     # str, str (whole files, concatenated)
    ids = corpus.encode("def f(x):")                  # int64 (n,), indices into corpus.vocab
    corpus.decode(ids)                                # back to the str
    xs = corpus.one_hot(ids)                          # float64 (n, V)
    structure = python_structure(corpus.held_out_texts)   # one array per property, (n,)

Shapes: ``n`` characters, ``V = len(corpus.vocab)`` characters in the vocabulary.
"""

from __future__ import annotations

import hashlib
import io
import json
import tokenize
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._checks import check_dtype, check_ids

__all__ = ["Corpus", "load_corpus", "python_structure", "STRUCTURE_PROPERTIES"]

#: The properties :func:`python_structure` returns, with what each one is.
STRUCTURE_PROPERTIES: dict[str, str] = {
    "in_string": "inside a string literal (between its quotes, quotes excluded)",
    "in_comment": "inside a comment (from its '#' to the end of the line)",
    "bracket_depth": "how many (, [ or { are open before this character",
    "column": "position in the line (0 for the first character of a line)",
    "indent": "indentation of the current line, in spaces (0 on a blank line)",
}


@dataclass(frozen=True)
class Corpus:
    """Training and held-out text (whole files, concatenated) and the characters they use.

    ``vocab`` is the sorted string of every character of the training text; ``encode`` refuses a
    character outside it (the held-out files use none: :func:`load_corpus` checks it).
    """

    train_texts: tuple[str, ...]
    held_out_texts: tuple[str, ...]
    train_files: tuple[str, ...]
    held_out_files: tuple[str, ...]
    vocab: str
    source: str

    @property
    def train(self) -> str:
        return "".join(self.train_texts)

    @property
    def held_out(self) -> str:
        return "".join(self.held_out_texts)

    @property
    def V(self) -> int:
        """Number of characters in the vocabulary."""
        return len(self.vocab)

    def encode(self, text: str) -> np.ndarray:
        """``text`` (str of n characters) -> int64 (n,): each character's index in ``vocab``."""
        if not isinstance(text, str):
            raise TypeError(f"text: expected a str, got {type(text).__name__}")
        table = {ch: k for k, ch in enumerate(self.vocab)}
        unknown = sorted(set(text) - set(table))
        if unknown:
            raise ValueError(f"text: characters outside the vocabulary: {unknown[:10]!r}")
        return np.fromiter((table[ch] for ch in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        """int array (n,) of indices into ``vocab`` -> the str they spell."""
        ids = check_ids("ids", ids, self.V, ndim=1)
        return "".join(self.vocab[k] for k in ids.tolist())

    def one_hot(self, ids, dtype=np.float64) -> np.ndarray:
        """int array (...) -> (..., V) of zeros with a 1 at each index: the network's input."""
        dtype = check_dtype("dtype", dtype)
        ids = check_ids("ids", ids, self.V)
        out = np.zeros(ids.shape + (self.V,), dtype=dtype)
        np.put_along_axis(out, ids[..., None], 1, axis=-1)
        return out

    def __repr__(self) -> str:
        return (
            f"Corpus({self.source!r}: {len(self.train_files)} training files, "
            f"{len(self.train):,} characters; {len(self.held_out_files)} held out, "
            f"{len(self.held_out):,} characters; V={self.V})"
        )


def load_corpus(directory) -> Corpus:
    """Read the corpus in ``directory`` as its ``manifest.json`` describes it, checking sha256.

    The manifest is ``{"source": str, "files": [{"name", "sha256", "split": "train" |
    "held_out"}, ...]}``. A file whose bytes do not match its sha256 is a ``ValueError``: the
    chapters' numbers are about exactly these bytes.
    """
    directory = Path(directory)
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"directory: no manifest.json in {str(directory)!r}")
    manifest = json.loads(manifest_path.read_text())
    texts: dict[str, list[tuple[str, str]]] = {"train": [], "held_out": []}
    for entry in manifest["files"]:
        data = (directory / entry["name"]).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            raise ValueError(
                f"directory: {entry['name']} has sha256 {digest}, "
                f"the manifest says {entry['sha256']}"
            )
        if entry["split"] not in texts:
            raise ValueError(
                f"manifest: split must be 'train' or 'held_out', got {entry['split']!r}"
            )
        texts[entry["split"]].append((entry["name"], data.decode("ascii")))
    train = "".join(t for _, t in texts["train"])
    vocab = "".join(sorted(set(train)))
    corpus = Corpus(
        train_texts=tuple(t for _, t in texts["train"]),
        held_out_texts=tuple(t for _, t in texts["held_out"]),
        train_files=tuple(n for n, _ in texts["train"]),
        held_out_files=tuple(n for n, _ in texts["held_out"]),
        vocab=vocab,
        source=manifest["source"],
    )
    corpus.encode(corpus.held_out)  # every held-out character is in the vocabulary
    return corpus


def _offsets(text: str) -> list[int]:
    """Offset in ``text`` of the first character of each line (tokenize's rows start at 1)."""
    starts, pos = [0, 0], 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        starts.append(pos)
    return starts


def python_structure(texts) -> dict[str, np.ndarray]:
    """The ground truth of :data:`STRUCTURE_PROPERTIES` for every character of ``texts``.

    ``texts`` is one str of Python source or a sequence of them (e.g. ``corpus.held_out_texts``;
    each is tokenized on its own, and the results are concatenated, so they line up with
    ``"".join(texts)``). Returns a dict: ``"in_string"``, ``"in_comment"`` bool (n,);
    ``"bracket_depth"``, ``"column"``, ``"indent"`` int64 (n,).

    Strings and comments come from ``tokenize`` (f-strings are one STRING token in Python 3.11,
    so the text inside their braces counts as string too); bracket depth counts the OP tokens
    ``( [ {`` minus ``) ] }`` before each character (brackets inside strings and comments do not
    count); a bracket itself has the depth outside it, like the characters before it.
    """
    if isinstance(texts, str):
        texts = [texts]
    parts = [_structure_of(t) for t in texts]
    return {k: np.concatenate([p[k] for p in parts]) for k in STRUCTURE_PROPERTIES}


def _structure_of(text: str) -> dict[str, np.ndarray]:
    n = len(text)
    starts = _offsets(text)
    in_string = np.zeros(n, dtype=bool)
    in_comment = np.zeros(n, dtype=bool)
    change = np.zeros(n + 1, dtype=np.int64)  # +1 after an opening bracket, -1 after a closing
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        (r0, c0), (r1, c1) = tok.start, tok.end
        a, b = starts[r0] + c0, starts[r1] + c1
        if tok.type == tokenize.STRING:
            # the body: after the prefix and opening quote(s), before the closing ones
            body = tok.string.lstrip("rRbBuUfF")
            q = 3 if body[:3] in ('"""', "'''") else 1
            in_string[a + (len(tok.string) - len(body)) + q : b - q] = True
        elif tok.type == tokenize.COMMENT:
            in_comment[a:b] = True
        elif tok.type == tokenize.OP and tok.string in "([{":
            change[b] += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            change[a] -= 1
    bracket_depth = np.cumsum(change)[:n]
    chars = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    newline = chars == ord("\n")
    line_start = np.zeros(n, dtype=np.int64)
    line_start[1:] = np.maximum.accumulate(np.where(newline[:-1], np.arange(1, n), 0))
    column = np.arange(n) - line_start
    indent = np.zeros(n, dtype=np.int64)
    for s, e in zip(starts[1:-1], starts[2:], strict=True):
        line = text[s:e]
        stripped = line.lstrip(" ")
        if stripped.strip():
            indent[s:e] = len(line) - len(stripped)
    return {
        "in_string": in_string,
        "in_comment": in_comment,
        "bracket_depth": bracket_depth,
        "column": column,
        "indent": indent,
    }
