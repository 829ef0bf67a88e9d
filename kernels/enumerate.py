"""Streaming enumeration of the two-layer critical points (docs/theory.md).

A critical point is an index set S of k positions in the descending spectrum
lambda_0 > ... > lambda_{q-1}; the kernels walk its complement T = [q] \\ S
(m = q - k elements). The positions are split at h (the Python layer's fixed
``split(q)``) into a low part L = [0, h) and a high part H = [h, q):
T = T_L + T_H with a = |T_L|, b = m - a = |T_H|.

Order and ranks. Within one k, sets are ordered by a, then by the colex rank rH of
T_H (as a b-subset of H), then by the colex rank rL of T_L (an a-subset of L):
rank = block_offset(a) + rH * C(h, a) + rL. A chunk is a rank range [lo, hi).

Walk. For every a the a-subsets of L are tabulated once per run (their sums and
position sums, colex order), so the innermost loop runs over that table with T_H
fixed: one float add per set. T_H advances by the colex successor, keeping suffix
partial sums P[t] = (((0 + lambda[T_H,b-1]) + ...) + lambda[T_H,t]); a successor
changes only T_H,0..j so only P[j..0] are recomputed (amortised O(1)).

Search. With T_H fixed the loss v(s) = offset + 0.5 * (P_H + s) is a non-decreasing
function of the table sum s (rounded addition and halving are monotone), so a whole
a-block of the table, sorted by sum (``LowTables.sorted_sums``), has sorted losses: its
histogram is the differences of bisections at the bin edges, ``count_below`` one more
bisection, the extremes sit at its two ends and the Morse-index counts come from its
position-sum histogram. Blocks of at least ``Problem.search_min`` sets are searched
(O(bins log C(h, a)) per T_H), smaller ones and runs cut by a chunk edge are walked;
both compare the same floats, so the aggregates are identical.

Exactness. Every set's loss is the same fixed-order float expression

    offset + 0.5 * (P_H + S_L),   P_H, S_L: sums over T_H, T_L from the top position down

whatever chunk or thread produced it, so results are bitwise independent of the
chunking and the thread count (``fastscape.theory.critical_value`` computes the
same float). Compiled with fastmath=False: nothing is reassociated.

The Morse index is an integer: index = base - sum(T) with
base = q(q-1)/2 - k(k-1)/2 + (q-k)(p-k), the compiled form of
``fastscape.theory.morse_index_law`` for distinct eigenvalues (sum(S) = q(q-1)/2 -
sum(T); a test compares the two on every subset of small q).

Arguments travel in named tuples (:class:`Problem`, :class:`LowTables`,
:class:`Bins`, :class:`Extremes`, :class:`ChunkOutputs`). Names: the *low part* L
and *high part* H of the positions (``len_high = q - h``), ``n_low_sets`` /
``n_high_sets`` subsets of one size in each, and the kept *lowest* / *highest*
critical values (``n_lowest`` / ``n_highest`` kept so far out of ``cap_lowest`` /
``cap_highest`` slots).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import prange

from ._jit import jit

INT64_MAX = np.iinfo(np.int64).max


class Problem(NamedTuple):
    """The spectrum and sizes of one enumeration (the same for every chunk)."""

    lam: np.ndarray  # (q,) descending eigenvalues
    q: int
    p: int  # hidden width
    h: int  # split: low part [0, h), high part [h, q)
    all_ranks: bool  # every |S| <= p (index shifted by (q-k)(p-k)), else |S| = p
    offset: float  # loss = offset + 1/2 sum_{i not in S} lambda_i
    binom: np.ndarray  # binomial_table(q)
    search_min: int  # whole tables of at least this many sets are searched, not walked


class LowTables(NamedTuple):
    """Every subset T_L of the low part, from :func:`low_tables` (colex within each size)."""

    sums: np.ndarray  # fixed-order sum of lambda over T_L
    possums: np.ndarray  # sum of the positions of T_L
    hist: np.ndarray  # hist[a, s]: a-subsets with position sum s
    order: np.ndarray  # each a-block by ascending sum (stable argsort, offset to the block)
    sorted_sums: np.ndarray  # sums[order]: each a-block's sums, ascending


class Bins(NamedTuple):
    """The loss histogram's edges and the threshold of ``count_below``."""

    edges: np.ndarray  # nb + 1 increasing edges, the last bin closed
    uniform: bool  # equal widths, far above rounding: the bin is computed, not searched
    threshold: float  # count loss < threshold (-inf: count nothing)


class Binning(NamedTuple):
    """:class:`Bins` as the walk uses them (built once per kernel call)."""

    ext: np.ndarray  # [-inf, e_0, ..., e_(nb-1), nextafter(e_nb, inf), inf]
    uniform: bool
    e0: float
    inv_w: float  # nb / (e_nb - e_0)
    top: float  # nb + 1.0, the overflow bin
    threshold: float


class Extremes(NamedTuple):
    """Kept lowest / highest values and ranks; unused slots +-inf and rank -1."""

    low_v: np.ndarray
    low_r: np.ndarray
    high_v: np.ndarray
    high_r: np.ndarray


class ChunkOutputs(NamedTuple):
    """One row per chunk, zeroed / padded by the caller (see :func:`enumerate_chunks`)."""

    counts: np.ndarray  # (C, n_index) sets per Morse index
    hist: np.ndarray  # (C, nb + 2) underflow, bins, overflow
    below: np.ndarray  # (C,) sets with loss < threshold
    low_v: np.ndarray  # (C, cap_lowest), as in Extremes (flat: Numba's prange cannot
    low_r: np.ndarray  # take a named tuple nested in another)
    high_v: np.ndarray  # (C, cap_highest)
    high_r: np.ndarray


class Kept(NamedTuple):
    """What one run of the innermost loop carries to the next."""

    below: int
    n_lowest: int
    n_highest: int
    lowest_worst: float  # the largest kept lowest value once all slots are full
    highest_worst: float


def binomial_table(n: int) -> np.ndarray:
    """C(a, b) for 0 <= a, b <= n as int64, saturated at 2**63 - 1.

    Saturation keeps comparisons ``C(a, b) <= r`` right for every rank r < 2**63.
    """
    table = np.zeros((n + 1, n + 2), dtype=np.int64)
    row = [1]
    for a in range(n + 1):
        for b, value in enumerate(row):
            table[a, b] = min(value, INT64_MAX)
        row = [1] + [row[i] + row[i + 1] for i in range(len(row) - 1)] + [1]
    return table


@jit(fastmath=False)
def unrank_colex(r, m, q, binom, out):
    """Write the m-subset of [q] of colex rank r into out[:m] (ascending)."""
    for j in range(m - 1, -1, -1):
        lo = j
        hi = q - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if binom[mid, j + 1] <= r:
                lo = mid
            else:
                hi = mid - 1
        out[j] = lo
        r -= binom[lo, j + 1]
    return out


@jit(fastmath=False)
def low_tables(lam, h, binom, sums, possums, thist):
    """Tabulate every a-subset T_L of [h], a = 0..h, in colex order within each a.

    Entry off(a) + r (off(a) = sum_{a' < a} C(h, a')) gets the fixed-order sum of
    lambda over T_L (top position first, from 0.0) and the sum of its positions;
    thist[a, s] (zeroed by the caller) counts the a-subsets with position sum s.
    """
    t = np.empty(h + 1, dtype=np.int64)
    pos = 0
    for a in range(h + 1):
        for r in range(binom[h, a]):
            unrank_colex(r, a, h, binom, t)
            acc = 0.0
            s = 0
            for i in range(a - 1, -1, -1):
                acc = acc + lam[t[i]]
                s += t[i]
            sums[pos] = acc
            possums[pos] = s
            thist[a, s] += 1
            pos += 1


@jit(fastmath=False)
def _bin_of(v, ext):
    """Bin b of v with ext[b] <= v < ext[b + 1]: 0 underflow, 1..nb, nb + 1 overflow.

    ``ext`` = [-inf, e_0, ..., e_{nb-1}, nextafter(e_nb, inf), inf] (so the last bin
    is closed); a binary search, for edges that are not uniform. For uniform edges
    ``_aggregate_run`` computes the bin inline: the arithmetic guess (v - e_0) / w + 1 is off by
    at most one bin (the caller checks the width is far above rounding) and one
    branch-free step each way makes it exact.
    """
    nb2 = ext.shape[0] - 2  # nb + 1
    lo = 0
    hi = nb2
    while lo < hi:  # last g with ext[g] <= v
        mid = (lo + hi + 1) // 2
        if ext[mid] <= v:
            lo = mid
        else:
            hi = mid - 1
    return lo


@jit(fastmath=False)
def _insert_kept(v, r, vals, ranks, n, sign):
    """Insert (v, r) into the n kept values, sorted by sign * value, then rank. Return n.

    sign = 1.0 keeps the lowest values (ascending), -1.0 the highest (descending);
    negation is exact, so the order is the same as comparing the values directly.
    """
    cap = vals.shape[0]
    if n < cap:
        pos = n
        n += 1
    else:
        pos = cap - 1
    sv = sign * v
    while pos > 0 and (sign * vals[pos - 1] > sv or (vals[pos - 1] == v and ranks[pos - 1] > r)):
        vals[pos] = vals[pos - 1]
        ranks[pos] = ranks[pos - 1]
        pos -= 1
    vals[pos] = v
    ranks[pos] = r
    return n


@jit(fastmath=False)
def _first_not_below(p_h, ssum, offset, lo, hi, x):
    """First j in [lo, hi) with offset + 0.5 * (p_h + ssum[j]) >= x, else hi.

    ``ssum[lo:hi]`` ascends and the value is a monotone function of it (rounded
    addition and halving never reverse an order), so the exact float the walk
    would compute is compared, by bisection.
    """
    while lo < hi:
        mid = (lo + hi) >> 1
        if offset + 0.5 * (p_h + ssum[mid]) < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit(fastmath=False)
def _search_table(p_h, ssum, i0, i1, offset, hist4, ext, threshold, vmin, vmax):
    """Histogram and count below of a whole sorted table by searching it; return #below.

    The values of ``ssum[i0:i1]`` ascend from vmin to vmax, so the bins between
    those of vmin and vmax each get the distance between two searches (the first
    entries at or above consecutive edges) and ``count_below`` is one more search:
    O(bins spanned x log(i1 - i0)) instead of i1 - i0 steps, the same integers.
    """
    g_lo = _bin_of(vmin, ext)
    g_hi = _bin_of(vmax, ext)
    pos = i0
    for g in range(g_lo + 1, g_hi + 1):
        nxt = _first_not_below(p_h, ssum, offset, pos, i1, ext[g])
        hist4[0, g - 1] += nxt - pos
        pos = nxt
    hist4[0, g_hi] += i1 - pos
    if threshold <= vmin:  # also threshold = -inf: count nothing
        return 0
    if threshold > vmax:
        return i1 - i0
    return _first_not_below(p_h, ssum, offset, i0, i1, threshold) - i0


@jit(fastmath=False)
def _aggregate_run(
    p_h, tables, i0, i1, r0, offset, idx0, counts, hist4, bins, ext_out, kept, partial, search_min
):
    """The innermost loop: T_H fixed, T_L over table entries i0..i1-1 (rank r0 + i).

    With ``partial`` False the run is a whole a-block of the table, and
    ``tables.order[i0:i1]`` lists it by ascending sum (stable; ``tables.sorted_sums``
    holds the sums in that order): since v is a monotone (rounded) function of the
    table sum, the lowest / highest values are then read from its two ends, and a
    table of at least ``search_min`` entries is searched, not walked
    (:func:`_search_table`). Returns the updated :class:`Kept`.
    """
    tsum = tables.sums
    tpos = tables.possums
    tord = tables.order
    ssum = tables.sorted_sums
    ext = bins.ext
    uniform = bins.uniform
    e0 = bins.e0
    inv_w = bins.inv_w
    top = bins.top
    threshold = bins.threshold
    low_v = ext_out.low_v
    low_r = ext_out.low_r
    high_v = ext_out.high_v
    high_r = ext_out.high_r
    below = kept.below
    n_lowest = kept.n_lowest
    n_highest = kept.n_highest
    lowest_worst = kept.lowest_worst
    highest_worst = kept.highest_worst
    cap_lowest = low_v.shape[0]
    cap_highest = high_v.shape[0]
    top_i = ext.shape[0] - 2  # ext[top_i] = nextafter(e_nb, inf)
    vmin = np.inf
    vmax = -np.inf
    if partial:
        for i in range(i0, i1):  # hot pass: branch-free, no calls
            v = offset + 0.5 * (p_h + tsum[i])
            counts[idx0 - tpos[i]] += 1
            if uniform:  # the uniform bin (see _bin_of), inline: no calls here
                t = min(max((v - e0) * inv_w + 1.0, 0.0), top)
                g = int(t)
                g += v >= ext[g + 1]
                g -= v < ext[g]
            else:
                g = _bin_of(v, ext)
            hist4[i & 3, g] += 1
            below += v < threshold
            vmin = min(vmin, v)
            vmax = max(vmax, v)
    else:  # a whole table: the caller adds its position-sum histogram
        vmin = offset + 0.5 * (p_h + ssum[i0])  # v is monotone in the sum
        vmax = offset + 0.5 * (p_h + ssum[i1 - 1])
        if i1 - i0 >= search_min:
            below += _search_table(p_h, ssum, i0, i1, offset, hist4, ext, threshold, vmin, vmax)
        elif threshold == -np.inf and uniform and vmin >= e0 and vmax < ext[top_i]:
            # nothing is below -inf and every value lies inside the edges: the guess
            # t lies in [1 - eps, nb + 1 + eps], so no clamp is needed
            for i in range(i0, i1):
                v = offset + 0.5 * (p_h + tsum[i])
                g = int((v - e0) * inv_w + 1.0)
                g += v >= ext[g + 1]
                g -= v < ext[g]
                hist4[i & 3, g] += 1
        else:
            for i in range(i0, i1):
                v = offset + 0.5 * (p_h + tsum[i])
                if uniform:
                    t = min(max((v - e0) * inv_w + 1.0, 0.0), top)
                    g = int(t)
                    g += v >= ext[g + 1]
                    g -= v < ext[g]
                else:
                    g = _bin_of(v, ext)
                hist4[i & 3, g] += 1
                below += v < threshold  # nothing when threshold = -inf
    # rare passes: only when this run holds a new lowest / highest value
    if vmin < lowest_worst or (n_lowest < cap_lowest and i1 > i0):
        if partial:
            for i in range(i0, i1):
                v = offset + 0.5 * (p_h + tsum[i])
                if v < lowest_worst or n_lowest < cap_lowest:
                    n_lowest = _insert_kept(v, r0 + i, low_v, low_r, n_lowest, 1.0)
                    if n_lowest == cap_lowest:
                        lowest_worst = low_v[cap_lowest - 1]
        else:  # ascending values: stop past the kept worst (ties: lower rank wins)
            for j in range(i0, i1):
                i = tord[j]
                v = offset + 0.5 * (p_h + ssum[j])
                if n_lowest == cap_lowest:
                    if v > lowest_worst:
                        break
                    if v == lowest_worst and r0 + i > low_r[cap_lowest - 1]:
                        continue
                n_lowest = _insert_kept(v, r0 + i, low_v, low_r, n_lowest, 1.0)
                if n_lowest == cap_lowest:
                    lowest_worst = low_v[cap_lowest - 1]
    if vmax > highest_worst or (n_highest < cap_highest and i1 > i0):
        if partial:
            for i in range(i0, i1):
                v = offset + 0.5 * (p_h + tsum[i])
                if v > highest_worst or n_highest < cap_highest:
                    n_highest = _insert_kept(v, r0 + i, high_v, high_r, n_highest, -1.0)
                    if n_highest == cap_highest:
                        highest_worst = high_v[cap_highest - 1]
        else:  # descending values
            for j in range(i1 - 1, i0 - 1, -1):
                i = tord[j]
                v = offset + 0.5 * (p_h + ssum[j])
                if n_highest == cap_highest:
                    if v < highest_worst:
                        break
                    if v == highest_worst and r0 + i > high_r[cap_highest - 1]:
                        continue
                n_highest = _insert_kept(v, r0 + i, high_v, high_r, n_highest, -1.0)
                if n_highest == cap_highest:
                    highest_worst = high_v[cap_highest - 1]
    return Kept(below, n_lowest, n_highest, lowest_worst, highest_worst)


@jit(fastmath=False)
def _walk(problem, tables, bins, k, lo, hi, counts, hist, ext_out):
    """Aggregate the k-sets of ranks lo..hi-1 (see the module docstring); return #below."""
    lam = problem.lam
    q = problem.q
    h = problem.h
    binom = problem.binom
    offset = problem.offset
    thist = tables.hist
    shift = (q - k) * (problem.p - k) if problem.all_ranks else 0
    m = q - k
    len_high = q - h
    nbins = hist.shape[0]
    base = q * (q - 1) // 2 - k * (k - 1) // 2 + shift
    hist4 = np.zeros((4, nbins), dtype=np.int64)  # interleaved: no store-load chain
    th = np.empty(m + 2, dtype=np.int64)
    part = np.empty(m + 2, dtype=np.float64)
    # np.int64, not the literal 0: the callee would compile a second, literal-typed
    # build; the worst kept values never trigger when nothing is kept
    kept = Kept(
        np.int64(0),
        np.int64(0),
        np.int64(0),
        np.inf if ext_out.low_v.shape[0] > 0 else -np.inf,
        -np.inf if ext_out.high_v.shape[0] > 0 else np.inf,
    )
    # find the block a holding rank lo
    a = max(0, m - len_high)
    a_max = min(m, h)
    block0 = 0
    while a <= a_max:
        size = binom[h, a] * binom[len_high, m - a]
        if block0 + size > lo:
            break
        block0 += size
        a += 1
    r = lo
    while r < hi:
        b = m - a
        n_low_sets = binom[h, a]
        n_high_sets = binom[len_high, b]
        toff = 0
        for a2 in range(a):
            toff += binom[h, a2]
        r_h = (r - block0) // n_low_sets
        r_l = (r - block0) - r_h * n_low_sets
        unrank_colex(r_h, b, len_high, binom, th)
        th[b] = len_high
        part[b] = 0.0
        s_h = 0
        for i in range(b - 1, -1, -1):
            part[i] = part[i + 1] + lam[h + th[i]]
            s_h += h + th[i]
        while True:
            n_here = min(n_low_sets - r_l, hi - r)
            idx0 = base - s_h
            start = toff + r_l
            kept = _aggregate_run(
                part[0],
                tables,
                start,
                start + n_here,
                r - start,
                offset,
                idx0,
                counts,
                hist4,
                bins,
                ext_out,
                kept,
                n_here < n_low_sets,
                problem.search_min,
            )
            if n_here == n_low_sets:  # a whole table: add its position-sum histogram at once
                for ss in range(a * (a - 1) // 2, a * (2 * h - a - 1) // 2 + 1):
                    counts[idx0 - ss] += thist[a, ss]
            r += n_here
            r_l = 0
            if r >= hi:
                break
            r_h += 1
            if r_h >= n_high_sets:
                break
            # colex successor of T_H: T_H,0..j is a run; bump T_H,j, reset the run below
            j = 0
            while th[j] + 1 == th[j + 1]:
                j += 1
            for i in range(j):
                s_h += i - th[i]
                th[i] = i
            th[j] += 1
            s_h += 1
            for i in range(j, -1, -1):
                part[i] = part[i + 1] + lam[h + th[i]]
        block0 += n_low_sets * n_high_sets
        a += 1
    for c in range(4):
        for g in range(nbins):
            hist[g] += hist4[c, g]
    return kept.below


@jit(parallel=True, fastmath=False)
def enumerate_chunks(problem, tables, bins, ks, los, his, out):
    """Aggregate every chunk c = (ks[c], los[c], his[c]) into row c of ``out``.

    ``problem`` is a :class:`Problem`, ``tables`` the :class:`LowTables` of
    :func:`low_tables`, ``bins`` the :class:`Bins`, ``out`` a :class:`ChunkOutputs`
    whose counts (C, M) and hist (C, nb + 2) int64 are zeroed and whose
    low_v/high_v (C, n) are padded with +inf/-inf and low_r/high_r (C, n) with -1.
    Each prange iteration writes only its own rows.
    """
    edges = bins.edges
    nb = edges.shape[0] - 1
    ext = np.empty(nb + 3)
    ext[0] = -np.inf
    ext[1 : nb + 1] = edges[:nb]
    ext[nb + 1] = np.nextafter(edges[nb], np.inf)
    ext[nb + 2] = np.inf
    binning = Binning(
        ext, bins.uniform, edges[0], nb / (edges[nb] - edges[0]), nb + 1.0, bins.threshold
    )
    # plain locals in the prange body: Numba's parfor lowering silently dropped a store
    # through a named-tuple attribute (``out.below[c] = ...``) in this loop
    counts = out.counts
    hist = out.hist
    below = out.below
    low_v = out.low_v
    low_r = out.low_r
    high_v = out.high_v
    high_r = out.high_r
    for c in prange(ks.shape[0]):
        below[c] = _walk(
            problem,
            tables,
            binning,
            ks[c],
            los[c],
            his[c],
            counts[c],
            hist[c],
            Extremes(low_v[c], low_r[c], high_v[c], high_r[c]),
        )
