"""The cells that remember: what single units of a trained character model track, and whether the
model needs them.

Karpathy, Johnson & Fei-Fei (2015) found single LSTM cells that switch on inside quotes, count
brackets or measure the line's length. This module measures that for a
:class:`lstmlib.charlm.CharLM` against an exact ground truth
(:func:`lstmlib.text.python_structure`), and tests it causally::

    acts = unit_states(model, texts)              # {"c": (n, H), "h": (n, H)}, float64
    auc_scores(acts["c"], labels)                 # (H,) ROC AUC of each unit for a yes/no property
    correlations(acts["c"], values)               # (H,) Pearson r of each unit with a number
    ranked_units(scores, chance=0.5)              # (H,) units, farthest from chance first
    pairs = bracket_pairs(text)                   # (P, 2) positions of "(" and its ")"
    closing_log2_probs(model, ids, pairs, ...)    # (P,) log2 p(")") at each closing position,
                                                  # state intact, reset or a unit clamped
    binned_means(values, distances, edges)        # (K,) means and counts per distance bin

Activations are aligned with characters: row ``t`` is the state *after reading* character ``t``.
Everything runs in the model's dtype: load the stored weights into a float64 model
(:meth:`CharLM.astype`) for numbers that are the same on every machine.
"""

from __future__ import annotations

import io
import tokenize

import numpy as np

from ._checks import check_array

__all__ = [
    "auc_scores",
    "binned_means",
    "bracket_pairs",
    "closing_log2_probs",
    "correlations",
    "ranked_units",
    "unit_states",
]

_LOG2E = 1.0 / np.log(2.0)


def unit_states(
    model, texts, chunk: int = 5000, *, one_at_a_time: bool = False
) -> dict[str, np.ndarray]:
    """Run ``model`` over each text of ``texts`` (int arrays, each from a zero state) and return
    every unit's memory ``"c"`` and output ``"h"`` after every character, each (n, H) with
    ``n`` the total length (texts concatenated in order). (For an RNN, ``"c"`` is ``"h"``.)

    The texts are read side by side as one batch, or, with ``one_at_a_time=True``, one after
    the other (a batch of one: faster for a few texts of unequal length on one BLAS thread)."""
    if one_at_a_time:
        parts = [unit_states(model, [t], chunk) for t in texts]
        return {k: np.concatenate([p[k] for p in parts]) for k in ("c", "h")}
    seqs = [np.asarray(t) for t in texts]
    n_max = max(s.size for s in seqs)
    batch = np.zeros((n_max, len(seqs)), np.int64)
    for j, s in enumerate(seqs):
        batch[: s.size, j] = s
    H = model.H
    c_all = np.empty((n_max, len(seqs), H), model.dtype)
    h_all = np.empty((n_max, len(seqs), H), model.dtype)
    state = None
    for a in range(0, n_max, chunk):
        _, state = model.forward(batch[a : a + chunk], state)
        h_all[a : a + chunk] = model.hs
        c_all[a : a + chunk] = model.core.gates["c"] if model.kind == "lstm" else model.hs
    return {
        "c": np.concatenate([c_all[: s.size, j] for j, s in enumerate(seqs)]),
        "h": np.concatenate([h_all[: s.size, j] for j, s in enumerate(seqs)]),
    }


def auc_scores(values, labels) -> np.ndarray:
    """ROC AUC of every column of ``values`` (n, H) as a score for the yes/no ``labels`` (n,).

    The AUC is the probability that a random "yes" character has a higher value than a random
    "no" one (ties count one half): 1 means the unit separates them perfectly, 0.5 chance, 0
    perfectly in reverse. Computed from ranks (the Mann-Whitney U statistic / (n_yes n_no)).
    """
    values = check_array("values", values, ndim=2)
    labels = np.asarray(labels)
    if labels.dtype != bool or labels.shape != values.shape[:1]:
        raise ValueError(
            f"labels: expected bool ({values.shape[0]},), got {labels.dtype}{labels.shape}"
        )
    n_yes = int(labels.sum())
    n_no = labels.size - n_yes
    if n_yes == 0 or n_no == 0:
        raise ValueError("labels: expected both yes and no characters")
    ranks = _average_ranks(values)  # (n, H), 1..n, ties averaged
    u = ranks[labels].sum(axis=0) - n_yes * (n_yes + 1) / 2
    return u / (n_yes * n_no)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of each column, tied values sharing their mean rank."""
    n, H = values.shape
    order = np.argsort(values, axis=0, kind="stable")
    sorted_vals = np.take_along_axis(values, order, axis=0)
    ranks = np.empty((n, H))
    for j in range(H):  # ties are rare in float data; a loop over units keeps this readable
        v = sorted_vals[:, j]
        new = np.r_[True, v[1:] != v[:-1]]
        group = np.cumsum(new) - 1
        first = np.flatnonzero(new)
        last = np.r_[first[1:], n] - 1
        ranks[order[:, j], j] = ((first + last) / 2 + 1)[group]
    return ranks


def ranked_units(scores, chance: float = 0.0) -> np.ndarray:
    """Unit indices, the unit whose score is farthest from ``chance`` first: (H,) int.

    A score below chance tracks the property just as well, in reverse (an AUC of 0.1 is a unit
    that is *low* on the "yes" characters), so units are ranked by ``|score - chance|``: use
    ``chance=0.5`` for :func:`auc_scores`, ``0`` for :func:`correlations`."""
    scores = check_array("scores", scores, ndim=1)
    return np.argsort(-np.abs(scores - chance), kind="stable")


def binned_means(values, distances, edges) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` (P,) over the items whose ``distances`` (P,) fall in each bin
    ``[edges[k], edges[k + 1])``: ``(means (K,), counts (K,) int)``, ``K = len(edges) - 1``;
    the mean of an empty bin is NaN. Items outside every bin are left out."""
    values = check_array("values", values, ndim=1)
    distances = np.asarray(distances)
    if distances.shape != values.shape:
        raise ValueError(f"distances: expected shape {values.shape}, got {distances.shape}")
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges: expected at least 2 increasing bin edges, got {edges.tolist()}")
    which = np.searchsorted(edges, distances, side="right") - 1
    inside = (which >= 0) & (which < edges.size - 1)
    K = edges.size - 1
    counts = np.bincount(which[inside], minlength=K)
    sums = np.bincount(which[inside], weights=values[inside], minlength=K)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means, counts


def correlations(values, target) -> np.ndarray:
    """Pearson correlation of every column of ``values`` (n, H) with ``target`` (n,): (H,)."""
    values = check_array("values", values, ndim=2)
    target = check_array("target", np.asarray(target, dtype=np.float64), shape=(values.shape[0],))
    v = values - values.mean(axis=0)
    t = target - target.mean()
    denom = np.sqrt((v * v).sum(axis=0) * (t @ t))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (t @ v) / denom
    return np.where(denom > 0, r, 0.0)


def bracket_pairs(text: str, opening: str = "(") -> np.ndarray:
    """Positions of every bracket ``opening`` of the Python source ``text`` and of the bracket that
    closes it: int64 (P, 2), rows ``[open_pos, close_pos]`` in order of closing. Brackets inside
    strings and comments are not brackets (``tokenize`` says which are)."""
    closing = {"(": ")", "[": "]", "{": "}"}
    if opening not in closing:
        raise ValueError(f"opening: expected one of '(', '[', '{{', got {opening!r}")
    starts = [0, 0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    stack, pairs = [], []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type != tokenize.OP or tok.string not in "()[]{}":
            continue
        pos = starts[tok.start[0]] + tok.start[1]
        if tok.string in closing:
            stack.append((tok.string, pos))
        else:
            kind, open_pos = stack.pop()
            if kind == opening:
                pairs.append((open_pos, pos))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def closing_log2_probs(
    model, ids, pairs, *, start_states=None, reset_at=None, clamp=None
) -> np.ndarray:
    """log2 of the probability ``model`` gives the closing character at each pair's closing
    position, after reading everything before it, possibly with an intervention.

    ids           int (n,): the text the pairs index (e.g. one file, or the held-out text).
    pairs         int (P, 2): ``[open_pos, close_pos]`` rows (:func:`bracket_pairs`).
    start_states  ``{"c": (n, H), "h": (n, H)}`` from :func:`unit_states` on the same text (read
                  from its start): the intact state after each character. Required.
    reset_at      None, or int (P,): for pair p, the state is set to zeros right after reading
                  character ``reset_at[p]`` (e.g. the opening bracket itself: the model then
                  reads on without knowing a bracket was opened).
    clamp         None, or ``(units, values)``: from the opening bracket on (after reading it)
                  to the closing position, units ``units`` (int array (k,)) of the memory ``c``
                  are held at ``values`` (k,) after every step. Both may also be (P, k): pair
                  ``p`` holds its own units ``units[p]`` at ``values[p]`` (e.g. the same pairs
                  stacked several times, each copy with another random unit: one batch).

    Returns (P,) float: ``log2 p(text[close_pos] | text[:close_pos])`` under the intervention.
    The model re-reads each span ``open_pos + 1 .. close_pos - 1`` from the intact state after
    the opening; all pairs are read side by side as one batch. With no intervention nothing needs
    re-reading: the intact output before each closing position is ``start_states["h"]``.
    """
    ids = np.asarray(ids)
    pairs = check_array("pairs", pairs, shape=("P", 2), allow_int=True).astype(np.int64)
    if start_states is None:
        raise ValueError("start_states: expected unit_states(model, [ids]) of the same text")
    P = len(pairs)
    opens, closes = pairs[:, 0], pairs[:, 1]
    if np.any(closes <= opens):
        raise ValueError("pairs: expected open_pos < close_pos in every row")
    spans = closes - opens  # characters read after the opening, the last one predicts the close
    if reset_at is not None:
        reset_at = np.asarray(reset_at, dtype=np.int64)
        if reset_at.shape != (P,):
            raise ValueError(f"reset_at: expected shape ({P},), got {reset_at.shape}")
    # The longest spans first: at step s only the pairs still open (span > s) are read, so a few
    # long pairs do not make the many short ones run for as many steps.
    order = np.argsort(-spans, kind="stable")
    opens, closes, spans = opens[order], closes[order], spans[order]
    if reset_at is not None:
        reset_at = reset_at[order]
    h = start_states["h"][opens].astype(model.dtype)  # (P, H): state after reading the opening
    # an RNN's memory is its output: one array, so that a clamp holds what the next step reads
    c = start_states["c"][opens].astype(model.dtype) if model.kind == "lstm" else h
    if reset_at is None and clamp is None:  # intact: the model's own output before each close
        out = np.empty(P)
        _record(
            out, _stepper(model)[1], start_states["h"][closes - 1], ids, closes, np.ones(P, bool)
        )
        result = np.empty(P)
        result[order] = out
        return result
    units = values = rows = None
    if clamp is not None:
        units = np.asarray(clamp[0], dtype=np.int64)
        values = np.asarray(clamp[1], model.dtype)
        if units.ndim == 1:  # the same units for every pair
            units, values = (
                np.broadcast_to(units, (P, units.size)),
                np.broadcast_to(values, (P, units.size)),
            )
        if units.shape != (P, units.shape[-1]) or values.shape != units.shape:
            raise ValueError(
                f"clamp: expected units and values of one shape (k,) or ({P}, k), got "
                f"{np.shape(clamp[0])} and {np.shape(clamp[1])}"
            )
        units, values = units[order], values[order]
        rows = np.arange(P)[:, None]
        c[rows, units] = values
    if reset_at is not None:
        zero_now = reset_at == opens
        h[zero_now] = 0
        c[zero_now] = 0
    step, readout = _stepper(model)
    out = np.empty(P)
    # step s reads character open + s (s = 1 .. span - 1) and then predicts character open + s + 1
    _record(out, readout, h, ids, closes, spans == 1)  # after reading the opening: open + 1
    for s in range(1, int(spans.max())):
        n = int(np.count_nonzero(spans > s))  # the first n pairs are still open
        pos = np.minimum(opens[:n] + s, ids.size - 1)
        h[:n], c[:n] = step(ids[pos], h[:n], c[:n])
        if clamp is not None:
            c[rows[:n], units[:n]] = values[:n]
        if reset_at is not None:
            zero_now = reset_at[:n] == opens[:n] + s
            h[:n][zero_now] = 0
            c[:n][zero_now] = 0
        _record(out[:n], readout, h[:n], ids, closes[:n], spans[:n] == s + 1)
    result = np.empty(P)
    result[order] = out
    return result


def _stepper(model):
    """One step of ``model``'s layer for a batch of character ids, and its readout: the
    equations of :class:`lstmlib.LSTM` (``peephole=False``) and :class:`lstmlib.RNN`, with the
    weights fused once (one matrix product per step; a one-hot input picks a row). The same
    numbers as ``model.forward`` up to rounding, several times faster one step at a time."""
    H, p = model.H, model.core.params
    if model.kind == "lstm":
        W = np.concatenate([p[f"W_{g}"] for g in "figo"])  # (4H, H + V), columns [h, x]
        b = np.concatenate([p[f"b_{g}"] for g in "figo"])
    else:
        W, b = p["W"], p["b"]
    W_h = np.ascontiguousarray(W[:, :H].T)  # (H, 4H) or (H, H)
    W_x = np.ascontiguousarray(W[:, H:].T) + b  # (V, 4H): row x is W x_t + b for one-hot x_t

    def step(x_ids, h, c):
        z = h @ W_h + W_x[x_ids]
        if model.kind != "lstm":
            h = np.tanh(z)
            return h, h
        # sigmoid(z) = (1 + tanh(z / 2)) / 2: no overflow for any z
        f, i, o = (0.5 + 0.5 * np.tanh(0.5 * z[:, k * H : (k + 1) * H]) for k in (0, 1, 3))
        c = f * c + i * np.tanh(z[:, 2 * H : 3 * H])
        return o * np.tanh(c), c

    W_y, b_y = model.readout.params["W"], model.readout.params["b"]
    return step, lambda h: h @ W_y.T + b_y


def _record(out, readout, h, ids, closes, done) -> None:
    """Store log2 p(closing character) for the pairs whose closing position is next."""
    if not done.any():
        return
    logits = readout(h[done])
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    out[done] = logp[np.arange(done.sum()), ids[closes[done]]] * _LOG2E
