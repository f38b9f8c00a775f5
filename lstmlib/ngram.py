"""Character n-gram language models, the baseline an LSTM must beat: interpolated Kneser-Ney::

    model = KneserNey(order=5, V=corpus.V).fit(corpus.encode(corpus.train))
    model.next_char_probs(corpus.encode("def "))   # float64 (V,): P(next char | "def ")
    model.log2_probs(ids)                          # float64 (n,): log2 P(ids[t] | ids[:t])
    model.bits_per_char(ids)                       # float: mean of -log2_probs(ids)

The method is interpolated Kneser-Ney (Kneser & Ney 1995) with the three discounts D1, D2, D3+
of *modified* Kneser-Ney, as Chen & Goodman (1999) define it; modified Kneser-Ney performed best
of the smoothing methods they compared. A model of order n predicts character w from the n - 1
characters h before it:

    P_k(w | h) = max(c_k(hw) - D_k(c_k(hw)), 0) / c_k(h.)  +  gamma_k(h) P_{k-1}(w | h')   (1)
    gamma_k(h) = (D_k1 N1(h.) + D_k2 N2(h.) + D_k3+ N3+(h.)) / c_k(h.)                      (2)
    P_0(w)     = 1 / V                                                                      (3)

for k = n, n-1, ..., 1, where h holds the k - 1 characters before w and h' is h without its
first character. At the highest level, k = n, c_k(hw) is the number of times the n-gram hw occurs
in the training text; at the lower levels it is Kneser-Ney's continuation count, the number of
distinct characters that precede hw in the training text, N1+(.hw). c_k(h.) is the sum of
c_k(hv) over v, Nj(h.) the number of characters v with c_k(hv) = j (N3+: >= 3), and D_k(c) is
D_k1, D_k2 or D_k3+ for c = 1, 2 or >= 3. A context h with c_k(h.) = 0 (never seen) leaves
P_k = P_{k-1}. The discounts of level k come from the count-of-counts of its own counts c_k
(n_j: how many k-grams have c_k = j; at the lower levels, counts of continuation counts, as in
KenLM, Heafield et al. 2013), by Chen & Goodman's estimates:

    Y = n1 / (n1 + 2 n2),  D_k1 = 1 - 2Y n2/n1,  D_k2 = 2 - 3Y n3/n2,  D_k3+ = 3 - 4Y n4/n3    (4)

When an n_j is 0 or a discount falls outside (0, j], equation (4) cannot be used; that level then
takes the fallback discounts 0.5, 1 and 1.5 (the default of KenLM's ``lmplz
--discount_fallback``). In a character model this happens at the unigram level, where no
character is rare. There the fallback often does not matter at all: when every one of the V
characters has c_1(w) >= 3, equations (1)-(3) give P_1(w) = c_1(w) / c_1(.) whatever D_13+.
Since every discount is > 0, gamma_1 > 0, and the uniform distribution (3) gives every character
a probability > 0. Each P_k sums to 1 over the V characters.

The start of a text. The first characters of ``ids`` have fewer than n - 1 characters before
them: character t (counted from 0) with t < n - 1 is predicted by the interpolated model of
order t + 1, P_{t+1}(w | ids[:t]), i.e. by equation (1) started at level k = t + 1 (whose counts
are continuation counts). The same holds for ``next_char_probs`` given a short context.

Shapes: n characters; V characters in the vocabulary; ids are integers in [0, V). Each k-gram is
coded as one int64 in base V (so V ** order must stay below 2 ** 63: order <= 9 for V = 96);
counting is sorting, scoring ``np.searchsorted``.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_positive_int

__all__ = ["FALLBACK_DISCOUNTS", "KneserNey"]

#: The discounts (D1, D2, D3+) a level uses when equation (4) cannot estimate them.
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)


def _check_ids(name: str, ids, V: int, *, nonempty: bool = True) -> np.ndarray:
    """``ids`` as an int64 (n,) array of characters in [0, V)."""
    if isinstance(ids, (str, bytes)):
        raise TypeError(
            f"{name}: expected integer ids, got a {type(ids).__name__}; encode it first"
        )
    arr = np.asarray(ids)
    if arr.size == 0 and arr.ndim == 1:
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected an array of integer ids, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array (n,), got {arr.ndim}-D shape {arr.shape}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name}: expected at least one character, got none")
    if arr.size and (arr.min() < 0 or arr.max() >= V):
        raise ValueError(f"{name}: expected ids in [0, {V}), got {arr.min()}..{arr.max()}")
    return arr.astype(np.int64, copy=False)


def _kgrams(ids: np.ndarray, k: int, V: int) -> np.ndarray:
    """int64 (n - k + 1,): the k-gram ending at each position t >= k - 1, coded in base V."""
    code = ids[: len(ids) - k + 1].copy()
    for j in range(1, k):
        code = code * V + ids[j : len(ids) - k + 1 + j]
    return code


def _runs(sorted_codes: np.ndarray) -> np.ndarray:
    """int64 (m,): where each run of equal values of a sorted array starts."""
    return np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])


def _count(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes, sorted, and how often each occurs: int64 (m,), int64 (m,)."""
    codes = np.sort(codes)
    first = _runs(codes)
    return codes[first], np.diff(np.r_[first, len(codes)])


def _discounts(counts: np.ndarray) -> np.ndarray:
    """(D1, D2, D3+) of equation (4) from a level's counts, or the fallback; float64 (3,)."""
    n1, n2, n3, n4 = (float(np.count_nonzero(counts == j)) for j in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) == 0:
        return np.array(FALLBACK_DISCOUNTS)
    Y = n1 / (n1 + 2 * n2)
    D = np.array([1 - 2 * Y * n2 / n1, 2 - 3 * Y * n3 / n2, 3 - 4 * Y * n4 / n3])
    if not ((D > 0) & (D <= np.arange(1, 4))).all():
        return np.array(FALLBACK_DISCOUNTS)
    return D


class _Level:
    """Level k of equation (1): sorted k-gram codes, their counts c_k, and per context h the
    total c_k(h.) and the weight gamma_k(h) of the level below."""

    def __init__(self, keys: np.ndarray, counts: np.ndarray, V: int):
        self.keys, self.counts, self.D = keys, counts, _discounts(counts)
        contexts = keys // V  # hw -> h; sorted, since keys are
        first = _runs(contexts)  # the k-grams of one context h are contiguous
        self.contexts = contexts[first]
        self.totals = np.add.reduceat(counts, first).astype(np.float64)  # c_k(h.)
        D_of_count = self.D[np.minimum(counts, 3) - 1]  # counts are >= 1
        self.gammas = np.add.reduceat(D_of_count, first) / self.totals  # equation (2)

    def probs(self, grams: np.ndarray, lower: np.ndarray, V: int) -> np.ndarray:
        """P_k(w | h) of equation (1) for the k-grams ``grams`` (coded hw), given
        ``lower`` = P_{k-1}(w | h') of the same shape."""
        h = grams // V
        j = np.minimum(np.searchsorted(self.contexts, h), len(self.contexts) - 1)
        seen = self.contexts[j] == h  # c_k(h.) > 0
        i = np.minimum(np.searchsorted(self.keys, grams), len(self.keys) - 1)
        c = np.where(self.keys[i] == grams, self.counts[i], 0)  # c_k(hw), 0 if unseen
        D = np.r_[0.0, self.D][np.minimum(c, 3)]  # D_k(c), 0 for c = 0
        # equation (1); c - D >= 0, since D_kj <= j (equation (4) or the fallback)
        own = (c - D) / self.totals[j] + self.gammas[j] * lower
        return np.where(seen, own, lower)


class KneserNey:
    """An interpolated modified Kneser-Ney character model of order ``order`` (module docstring).

    ``KneserNey(order, V).fit(ids)`` counts the training ids (int (n,), n >= order); then
    ``next_char_probs``, ``log2_probs`` and ``bits_per_char`` score text. ``discounts`` is the
    float64 (order, 3) array of (D1, D2, D3+), one row per level k = 1..order.
    """

    def __init__(self, order: int, V: int):
        self.order = check_positive_int("order", order)
        self.V = check_positive_int("V", V)
        if self.V**self.order >= 2**63:
            raise ValueError(
                f"order: {self.order} is too large for V={self.V}: k-grams are coded as int64 "
                f"in base V, which needs V ** order < 2 ** 63"
            )
        self._levels: list[_Level] | None = None

    def fit(self, ids) -> KneserNey:
        """Count the training text ``ids`` (int (n,), n >= order); returns the model itself."""
        ids = _check_ids("ids", ids, self.V)
        n, V = self.order, self.V
        if len(ids) < n:
            raise ValueError(f"ids: expected at least order={n} characters, got {len(ids)}")
        distinct, counts = _count(_kgrams(ids, n, V))
        levels = [_Level(distinct, counts, V)]  # level n: raw counts c(hw)
        for k in range(n - 1, 0, -1):  # levels n-1..1: continuation counts N1+(.hw)
            # each distinct (k+1)-gram "a hw" adds 1 to its suffix hw
            keys, counts = _count(distinct % V**k)
            levels.insert(0, _Level(keys, counts, V))
            if k > 1:
                distinct = _count(_kgrams(ids, k, V))[0]
        self._levels = levels
        return self

    @property
    def discounts(self) -> np.ndarray:
        """float64 (order, 3): (D1, D2, D3+) of each level k = 1..order (row k - 1)."""
        return np.array([level.D for level in self._fitted()])

    def _fitted(self) -> list[_Level]:
        if self._levels is None:
            raise RuntimeError("KneserNey: call fit(ids) first: the model scores with its counts")
        return self._levels

    def next_char_probs(self, context) -> np.ndarray:
        """float64 (V,): P(w | context) for every character w; sums to 1, every entry > 0.

        ``context`` is int (m,), m >= 0; its last order - 1 characters count (all of them if
        m < order - 1, as at the start of a text)."""
        levels = self._fitted()
        context = _check_ids("context", context, self.V, nonempty=False)
        context = context[max(len(context) - (self.order - 1), 0) :]
        p, h, w = np.full(self.V, 1.0 / self.V), 0, np.arange(self.V)
        for k in range(1, len(context) + 2):  # level k sees the last k - 1 characters
            if k > 1:
                h = h + int(context[-(k - 1)]) * self.V ** (k - 2)
            p = levels[k - 1].probs(h * self.V + w, p, self.V)
        return p

    def log2_probs(self, ids) -> np.ndarray:
        """float64 (n,): log2 P(ids[t] | ids[:t]) for every t, the first order - 1 characters
        predicted from the shorter contexts they have."""
        levels = self._fitted()
        ids = _check_ids("ids", ids, self.V)
        p = np.full(len(ids), 1.0 / self.V)
        for k in range(1, min(self.order, len(ids)) + 1):
            p[k - 1 :] = levels[k - 1].probs(_kgrams(ids, k, self.V), p[k - 1 :], self.V)
        return np.log2(p)

    def bits_per_char(self, ids) -> float:
        """Mean of ``-log2_probs(ids)`` over the n characters of ``ids``: bits per character."""
        return float(-self.log2_probs(ids).mean())

    def __repr__(self) -> str:
        state = "fitted" if self._levels is not None else "not fitted"
        return f"KneserNey(order={self.order}, V={self.V}, {state})"
