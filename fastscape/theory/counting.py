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
so lowest values agree bitwise.
"""

from __future__ import annotations

import functools
import heapq
import math
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._indexsets import resolve_ranks
from .._types import ArrayLike, IndexSet
from .._validate import as_int
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

_INT64_MAX = 2**63 - 1


class HistogramTooLargeError(ValueError):
    """The exact loss-histogram DP would need too many cells or additions.

    Examples
    --------
    >>> from fastscape.theory import HistogramTooLargeError, loss_histogram
    >>> try:
    ...     loss_histogram([1.0 + i / 1000 for i in range(1000)][::-1], 500, [0.0, 1e3])
    ... except HistogramTooLargeError as e:
    ...     print(str(e)[:30])
    the histogram DP is too large:
    """


def as_q_p(q: int, p: int, ranks: str) -> tuple[int, int]:
    """(q, p) checked: q >= 1, p >= 1, and p <= q unless ``ranks == "all"``."""
    q = as_int(q, "q", 1)
    p = as_int(p, "p", 1, " (the hidden width)")
    if p > q and ranks != "all":
        raise ValueError(
            f"p = {p} > q = {q}: there is no full-rank critical point (C(q, p) = 0); "
            "use p <= q, or ranks='all' to count the rank-deficient points"
        )
    return q, p


def as_spectrum(spectrum) -> np.ndarray:
    lam = np.asarray(spectrum, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"spectrum must be a non-empty 1-D array, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)):
        raise ValueError("spectrum has NaN or inf entries: pass finite eigenvalues")
    if np.any(lam <= 0):
        raise ValueError(
            "spectrum must hold the q > 0 eigenvalues of Sigma; drop zero or negative ones "
            "(q is the rank of Sigma)"
        )
    d = np.diff(lam)
    if np.any(d > 0):
        raise ValueError("spectrum must be sorted in descending order: use np.sort(x)[::-1]")
    if np.any(d == 0):
        i = int(np.flatnonzero(d == 0)[0])
        raise ValueError(
            f"spectrum has tied eigenvalues (positions {i} and {i + 1}); the index law "
            "inv(S) = sum(S) - k(k-1)/2 assumes distinct eigenvalues (docs/theory.md)"
        )
    return np.ascontiguousarray(lam)


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
    if math.comb(q, p) <= _INT64_MAX:
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
        low = [int(v) for v in _gaussian_binomial_crt(q, p, half)]
    return low + low[: deg - half][::-1] if deg % 2 else low + low[:-1][::-1]


@functools.lru_cache(maxsize=8)
def _primes_below(n: int, count: int) -> tuple:
    """The ``count`` largest primes below n (n <= 2**32), by a numpy sieve + trial division."""
    root = int(n**0.5) + 1
    sieve = np.ones(root + 1, dtype=bool)
    sieve[:2] = False
    for i in range(2, int(root**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = False
    small = np.flatnonzero(sieve).astype(np.int64)
    out: list[int] = []
    hi = n - 1
    while len(out) < count:
        cand = np.arange(hi, max(hi - 4000, 2), -1, dtype=np.int64)
        ok = np.all(cand[:, None] % small[None, :] != 0, axis=1)
        out.extend(int(c) for c in cand[ok])
        hi -= 4000
    return tuple(out[:count])


def _gaussian_binomial_crt(q: int, p: int, half: int) -> list[int]:
    """Lower half of [q choose p]_t, exact, from residues modulo 31-bit primes."""
    from ..kernels.counting import garner_digits, gaussian_binomial_mod

    bits = math.comb(q, p).bit_length() + 1
    primes = _primes_below(2**31, bits // 30 + 1)
    res = np.empty((len(primes), half + 1), dtype=np.int64)
    gaussian_binomial_mod(q, p, np.array(primes, dtype=np.int64), res)
    # Garner: mixed-radix digits d_i with value = d_0 + p_0 (d_1 + p_1 (d_2 + ...))
    n = len(primes)
    inv = np.ones((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(i):
            inv[j, i] = pow(primes[j], -1, primes[i])
    digits = np.empty_like(res)
    garner_digits(res, np.array(primes, dtype=np.int64), inv, digits)
    # combine the digits pairwise up a tree: (value, radix) pairs, radix = product of primes
    vals = [digits[i].astype(object) for i in range(n)]
    radix = [int(p_) for p_ in primes]
    while len(vals) > 1:
        nv, nr = [], []
        for i in range(0, len(vals) - 1, 2):
            nv.append(vals[i] + radix[i] * vals[i + 1])
            nr.append(radix[i] * radix[i + 1])
        if len(vals) % 2:
            nv.append(vals[-1])
            nr.append(radix[-1])
        vals, radix = nv, nr
    return vals[0].tolist()


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


class HistogramCounts(NamedTuple):
    """Loss histogram computed without enumeration.

    ``counts[i]`` counts points placed in [edges[i], edges[i+1]) (the last bin is
    closed); ``underflow``/``overflow`` count points placed below edges[0] / above
    edges[-1]. A point is placed by a value within ``error_bound`` of its loss, so
    the count of bin i lies between the number of points with loss in
    [edges[i] + error_bound, edges[i+1] - error_bound) and the number with loss in
    [edges[i] - error_bound, edges[i+1] + error_bound]. ``grid`` is the rounding
    unit of the eigenvalues.

    Examples
    --------
    >>> from fastscape.theory import loss_histogram
    >>> h = loss_histogram([3.0, 2.0, 1.0], 2, [0.0, 1.0, 2.0])
    >>> h.counts, round(h.error_bound, 3)
    ((1, 2), 0.125)
    """

    edges: np.ndarray
    counts: tuple
    underflow: int
    overflow: int
    error_bound: float
    grid: float


def loss_histogram(
    spectrum: ArrayLike,
    p: int,
    edges: ArrayLike,
    *,
    ranks: str = "full",
    offset: float = 0.0,
    grid: float | None = None,
    all_ranks: bool | None = None,
) -> HistogramCounts:
    """Histogram of critical values by dynamic programming over the eigenvalues.

    Each eigenvalue is rounded to a multiple u_i * grid (|lambda_i - u_i grid| <=
    grid/2) and the DP counts subsets by the integer sum of the u_i: n terms (the
    set S, or its complement when that is smaller) so every point's placed value
    differs from its loss by at most n * grid / 4 (the factor 1/2 of the loss times
    n roundings of grid/2), plus a float slack (q + 4) * 2^-52 * (sum lambda + |offset|)
    covering rounding in both computations: that total is ``error_bound``. The
    default grid makes n * grid / 4 one eighth of the narrowest bin. Cost
    O(q * n * n * max(lambda) / grid) exact integer additions.

    Parameters
    ----------
    spectrum : array_like
        The eigenvalues of Sigma: positive, distinct, in descending order.
    p : int
        Hidden width.
    edges : array_like
        Increasing bin edges (at least two).
    ranks : {"full", "all"}, optional
        |S| = p, or every |S| = k <= p (``all_ranks=`` is the deprecated spelling).
    offset : float, optional
        Added to every loss (0: the excess over the full-rank least-squares loss).
    grid : float, optional
        Rounding unit of the eigenvalues (default: from the narrowest bin, see above).

    Returns
    -------
    HistogramCounts
        The counts per bin, under- and overflow, and the ``error_bound``.

    Raises
    ------
    HistogramTooLargeError
        When the DP would need too many cells or additions (pass a coarser ``grid``).

    Examples
    --------
    >>> import numpy as np
    >>> from fastscape.theory import loss_histogram
    >>> h = loss_histogram([4.0, 2.0, 1.0], 1, np.array([0.0, 1.0, 2.0, 3.0]))
    >>> h.counts, h.underflow, h.overflow
    ((0, 1, 2), 0, 0)
    """
    ranks = resolve_ranks(ranks, all_ranks)
    all_ranks = ranks == "all"
    lam = as_spectrum(spectrum)
    q, p = as_q_p(lam.size, p, ranks)
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be a 1-D increasing array of at least 2 bin edges")
    kmax = min(p, q)
    use_complement = not all_ranks and q - p < p
    n = q - p if use_complement else kmax
    if grid is None:
        grid = float(np.min(np.diff(edges))) / (2 * max(n, 1))
    grid = float(grid)
    if not np.isfinite(grid) or grid <= 0:
        raise ValueError(f"grid must be finite and > 0, got {grid}")
    u = np.rint(lam / grid).astype(np.int64)
    cnt = _subset_sum_counts(u, n, grid)
    tot = math.fsum(lam)
    units = np.arange(cnt.shape[1], dtype=np.float64) * grid
    rows: Sequence[int]
    if use_complement:  # the complement T = [q] \ S, |T| = q - p, is summed
        rows = [q - p]
        placed = offset + 0.5 * units
    else:
        rows = range(kmax + 1) if all_ranks else [p]
        placed = offset + 0.5 * (tot - units)
    counts = _place_in_bins(edges, placed, cnt, rows)
    slack = (q + 4) * 2.0**-52 * (tot + abs(offset))
    return HistogramCounts(
        edges=edges,
        counts=tuple(counts[1:-1]),
        underflow=counts[0],
        overflow=counts[-1],
        error_bound=n * grid / 4 + slack,
        grid=grid,
    )


def _subset_sum_counts(u: np.ndarray, n: int, grid: float) -> np.ndarray:
    """cnt[j, t] = the number of j-subsets (j <= n) of the integers u with sum t.

    Exact: int64 while C(q, n) fits, Python ints beyond. HistogramTooLargeError when
    the table or the number of additions would be too large (``grid`` is only named in
    that message).
    """
    q = u.size
    umax = int(np.sort(u)[::-1][:n].sum())
    big = math.comb(q, n) > _INT64_MAX
    work = q * n * (umax + 1) * (20 if big else 1)  # Python-int additions cost ~20x
    if (n + 1) * (umax + 1) > 50_000_000 or work > 4e9:
        raise HistogramTooLargeError(
            f"the histogram DP is too large: {(n + 1) * (umax + 1):,} cells, about "
            f"{work:.2g} additions (grid = {grid:.3g}, n = {n} summed eigenvalues); pass a "
            "coarser grid= (error_bound grows as n * grid / 4) or fewer bins, or skip the "
            "histogram (count_landscape(..., bins=None))"
        )
    cnt = np.zeros((n + 1, umax + 1), dtype=object if big else np.int64)
    cnt[0, 0] = 1
    for i, ui in enumerate(u.tolist()):
        width = umax + 1 - ui
        if width <= 0:
            continue
        for j in range(min(i + 1, n), 0, -1):
            cnt[j, ui:] = cnt[j, ui:] + cnt[j - 1, :width]
    return cnt


def _place_in_bins(edges: np.ndarray, placed: np.ndarray, cnt: np.ndarray, rows) -> list[int]:
    """[underflow, bin 0, ..., bin nb-1, overflow]: the counts of rows ``rows`` of ``cnt``,
    column t placed at ``placed[t]`` (the last bin closed)."""
    counts = [0] * (edges.size + 1)
    bins = np.searchsorted(edges, placed, side="right")  # 0 under, 1..nb, nb + 1 over
    bins[placed == edges[-1]] = edges.size - 1
    for j in rows:
        for b, c in zip(bins.tolist(), cnt[j].tolist(), strict=True):
            if c:
                counts[b] += int(c)
    return counts


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
