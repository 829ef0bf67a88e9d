"""Counting over all index sets without enumerating them (docs/theory.md).

A two-layer critical point is an index set S of k <= p positions (0-based) in the
descending spectrum lambda_0 > ... > lambda_{q-1} > 0 of Sigma. Its Morse index is
``inv(S) + (q - k)(p - k)`` with ``inv(S) = sum(S) - k(k-1)/2``, and its loss is
``offset + 1/2 * sum_{i not in S} lambda_i`` (offset 0: the excess over the
full-rank least-squares loss; offset ``1/2 (tr Syy - sum lambda)``: the absolute
loss).

Exact arithmetic everywhere: counts are Python ints (no overflow at any q), and a
critical value is always the same fixed-order float sum (:func:`critical_value`),
the one the brute-force engine (:func:`fastscape.enumerate_landscape`) computes,
so lowest values agree bitwise. The loss histogram (:func:`loss_histogram`, in
``fastscape.theory.histogram``, importable from here too) is exact up to a stated
error bound.
"""

from __future__ import annotations

import heapq
import math
import warnings
from typing import NamedTuple

import numpy as np

from .._indexsets import resolve_ranks
from .._types import ArrayLike, IndexSet
from .._validate import as_int
from ._inputs import INT64_MAX, as_q_p, as_spectrum
from .crt import crt_combine, primes_for
from .histogram import HistogramCounts, HistogramTooLargeError, loss_histogram
from .laws import as_index_set, morse_index_distinct

__all__ = [
    "CriticalValue",
    "HistogramCounts",
    "HistogramTooLargeError",
    "critical_value",
    "enumeration_rank",
    "gaussian_binomial",
    "index_counts",
    "loss_histogram",
    "lowest_critical_values",
    "split",
    "unrank_set",
]


def gaussian_binomial(q: int, p: int) -> list[int]:
    """Coefficients of the Gaussian binomial [q choose p]_t, exact Python ints.

    Entry m is the number of p-subsets S of [q] with ``sum(S) - p(p-1)/2 = m``: the
    number of full-rank critical points of Morse index m (docs/theory.md). Computed
    as prod_{j=1..p} (1 - t^{q-p+j}) / (1 - t^j) one factor at a time (every
    partial product is a polynomial), on the lower half of the symmetric sequence.

    Examples
    --------
    >>> from fastscape.theory import gaussian_binomial
    >>> gaussian_binomial(4, 2)
    [1, 1, 2, 1, 1]
    >>> sum(gaussian_binomial(32, 16)) == 601080390
    True
    """
    q, p = as_q_p(q, p, "all")
    if p > q:
        return [0]
    p = min(p, q - p)
    m = q - p
    deg = p * m
    half = deg // 2
    if math.comb(q, p) <= INT64_MAX:
        c = np.ones(1, dtype=np.int64)
        for j in range(1, p + 1):
            a = m + j
            cur = min(j * m, half)  # P_j has degree j * m; keep the lower half only
            c = np.concatenate([c, np.zeros(cur + 1 - c.size, dtype=np.int64)])
            if a <= cur:  # multiply by (1 - t^a)
                c[a:] = c[a:] - c[: cur + 1 - a]
            # divide by (1 - t^j): c[x] += c[x - j], a prefix sum along each residue class
            pad = (-(cur + 1)) % j
            ext = np.concatenate([c, np.zeros(pad, dtype=np.int64)]).reshape(-1, j)
            c = np.cumsum(ext, axis=0).ravel()[: cur + 1]
        low: list[int] = [int(v) for v in c]
    else:
        from ..kernels.counting import gaussian_binomial_mod

        primes = primes_for(2 * math.comb(q, p))
        res = np.empty((len(primes), half + 1), dtype=np.int64)
        gaussian_binomial_mod(q, p, np.array(primes, dtype=np.int64), res)
        low = crt_combine(res, primes)
    return low + low[: deg - half][::-1] if deg % 2 else low + low[:-1][::-1]


def index_counts(
    q: int, p: int, *, ranks: str = "full", all_ranks: bool | None = None
) -> list[int]:
    """Number of critical points of each Morse index, exact Python ints.

    ``ranks="full"`` (|S| = p): the coefficients of [q choose p]_t. ``ranks="all"``
    (every |S| = k <= p): the sum over k <= min(p, q) of [q choose k]_t shifted by
    (q - k)(p - k). ``all_ranks=`` is the deprecated spelling of ``ranks``.

    Examples
    --------
    >>> from fastscape.theory import index_counts
    >>> index_counts(3, 1)
    [1, 1, 1]
    >>> index_counts(3, 1, ranks="all")  # plus the zero point, index q * p = 3
    [1, 1, 1, 1]
    """
    ranks = resolve_ranks(ranks, all_ranks)
    q, p = as_q_p(q, p, ranks)
    if ranks == "full":
        return gaussian_binomial(q, p)
    total: list[int] = []
    for k in range(min(p, q) + 1):
        coeffs = gaussian_binomial(q, k) if k else [1]
        shift = (q - k) * (p - k)
        if len(total) < shift + len(coeffs):
            total.extend([0] * (shift + len(coeffs) - len(total)))
        for i, v in enumerate(coeffs):
            total[shift + i] += v
    return total


def split(q: int) -> int:
    """Where the engine splits the positions: L = [0, h), H = [h, q), h = min(q // 2, 16).

    Examples
    --------
    >>> from fastscape.theory import split
    >>> split(5), split(32), split(1000)
    (2, 16, 16)
    """
    return min(int(q) // 2, 16)


def critical_value(spectrum: ArrayLike, index_set: IndexSet, *, offset: float = 0.0) -> float:
    """The loss ``offset + 1/2 sum_{i not in S} lambda_i`` as the engine's exact float.

    With the complement T split at h = :func:`split` (q) into T_L (positions < h)
    and T_H, the value is ``offset + 0.5 * (P_H + S_L)`` where P_H and S_L are
    sequential sums over T_H and T_L from the largest position down, starting at
    0.0: bitwise the float the enumeration engine produces, whatever its chunking
    or thread count.

    Examples
    --------
    >>> from fastscape.theory import critical_value
    >>> critical_value([4.0, 2.0, 1.0], (0,))
    1.5
    """
    lam = np.asarray(spectrum, dtype=np.float64)
    h = split(lam.size)
    mask = np.ones(lam.size, dtype=bool)
    mask[as_index_set(index_set, lam.size)] = False
    low = lam[:h][mask[:h]][::-1]
    high = lam[h:][mask[h:]][::-1]
    s_l = float(np.cumsum(low)[-1]) if low.size else 0.0
    p_h = float(np.cumsum(high)[-1]) if high.size else 0.0
    return float(offset) + 0.5 * (p_h + s_l)


def _colex_rank(t) -> int:
    return sum(math.comb(x, j + 1) for j, x in enumerate(t))


def enumeration_rank(q: int, index_set: IndexSet) -> int:
    """Rank of S among the |S|-subsets in the engine's order (the tie-break key).

    Complement T = T_L + T_H split at h = split(q), a = |T_L|: ordered by a, then the
    colex rank of T_H (in [h, q)), then the colex rank of T_L (in [0, h)).

    Examples
    --------
    >>> from itertools import combinations
    >>> from fastscape.theory import enumeration_rank
    >>> sorted(enumeration_rank(4, s) for s in combinations(range(4), 2))
    [0, 1, 2, 3, 4, 5]
    """
    h = split(q)
    ss = set(as_index_set(index_set, q).tolist())
    t = [i for i in range(q) if i not in ss]
    m = len(t)
    t_l = [i for i in t if i < h]
    t_h = [i - h for i in t if i >= h]
    a = len(t_l)
    r = sum(math.comb(h, x) * math.comb(q - h, m - x) for x in range(max(0, m - (q - h)), a))
    return r + _colex_rank(t_h) * math.comb(h, a) + _colex_rank(t_l)


def unrank_set(q: int, k: int, r: int) -> tuple:
    """Inverse of :func:`enumeration_rank`: the k-set S of rank r.

    Examples
    --------
    >>> from fastscape.theory import enumeration_rank, unrank_set
    >>> unrank_set(6, 3, enumeration_rank(6, (0, 2, 5)))
    (0, 2, 5)
    """
    h = split(q)
    nh = q - h
    m = q - k
    a = max(0, m - nh)
    while True:
        size = math.comb(h, a) * math.comb(nh, m - a)
        if r < size:
            break
        r -= size
        a += 1
    r_h, r_l = divmod(r, math.comb(h, a))

    def unrank(rr, mm):
        out = []
        for j in range(mm - 1, -1, -1):
            x = j
            while math.comb(x + 1, j + 1) <= rr:
                x += 1
            out.append(x)
            rr -= math.comb(x, j + 1)
        return out

    t = set(unrank(r_l, a)) | {h + x for x in unrank(r_h, m - a)}
    return tuple(i for i in range(q) if i not in t)


class CriticalValue(NamedTuple):
    """One critical point: loss, index set (0-based positions), Morse index, rank k.

    ``index`` is the deprecated name of ``morse_index``.

    Examples
    --------
    >>> from fastscape.theory import lowest_critical_values
    >>> lowest_critical_values([3.0, 2.0, 1.0], 2, 1)[0]
    CriticalValue(loss=0.5, index_set=(0, 1), morse_index=0, k=2)
    """

    loss: float
    index_set: tuple
    morse_index: int
    k: int

    @property
    def index(self) -> int:  # type: ignore[override]
        """Deprecated: use ``morse_index``."""
        warnings.warn(
            "CriticalValue.index is deprecated: use .morse_index",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.morse_index


def _key(lam, q, s, offset):
    """Sort key (loss, k, enumeration rank): the engine's tie order."""
    return (critical_value(lam, s, offset=offset), len(s), enumeration_rank(q, s))


def lowest_critical_values(
    spectrum: ArrayLike,
    p: int,
    n: int,
    *,
    ranks: str = "full",
    offset: float = 0.0,
    all_ranks: bool | None = None,
) -> list[CriticalValue]:
    """The n lowest critical values with their index sets, by best-first search.

    Start from S = {0..k-1} (lowest loss of rank k). A state (S, j) may move its
    element j one position right, or (if moved) start moving element j - 1: every
    set is reached once, and a child's loss is never below its parent's, so a heap
    pops the sets in increasing loss (up to rounding, covered by a small slack). Ties
    are broken like the engine: by (loss, k, :func:`enumeration_rank`). Cost about
    O(n q log n) for distinct values.

    Examples
    --------
    >>> from fastscape.theory import lowest_critical_values
    >>> [(v.loss, v.index_set) for v in lowest_critical_values([4.0, 2.0, 1.0], 1, 2)]
    [(1.5, (0,)), (2.5, (1,))]
    """
    ranks = resolve_ranks(ranks, all_ranks)
    lam = as_spectrum(spectrum)
    q, p = as_q_p(lam.size, p, ranks)
    n = as_int(n, "n", 0)
    ks = range(min(p, q) + 1) if ranks == "all" else [p]
    heap: list[tuple[tuple[float, int, int], tuple[int, ...], int]] = []
    for k in ks:
        s = tuple(range(k))
        heapq.heappush(heap, (_key(lam, q, s, offset), s, k - 1))
    # Float sums are monotone along a search path only up to rounding: each value is
    # within eps_r of the exact sum, so a descendant is >= its ancestor - 2 eps_r. Popping
    # on until the heap passes the n-th value + slack finds every set below it.
    slack = 2 * (q + 4) * 2.0**-53 * (float(np.sum(lam)) + abs(offset)) * 2
    found = []
    best: list[float] = []
    nth = np.inf
    while heap and n:
        key, s, j = heapq.heappop(heap)
        if key[0] > nth + slack:
            break
        found.append((key, s))
        heapq.heappush(best, -key[0])  # the n smallest values so far (max-heap)
        if len(best) > n:
            heapq.heappop(best)
        if len(best) == n:
            nth = -best[0]
        if j < 0:
            continue
        nxt = s[j + 1] if j + 1 < len(s) else q
        if s[j] + 1 < nxt:
            t = s[:j] + (s[j] + 1,) + s[j + 1 :]
            heapq.heappush(heap, (_key(lam, q, t, offset), t, j))
        if j > 0 and s[j - 1] + 1 < s[j]:
            t = s[: j - 1] + (s[j - 1] + 1,) + s[j:]
            heapq.heappush(heap, (_key(lam, q, t, offset), t, j - 1))
    found.sort()
    return [CriticalValue(key[0], s, morse_index_distinct(q, p, s), len(s)) for key, s in found[:n]]
