"""Streaming enumeration of the two-layer critical points (THEORY.md 3).

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

Exactness. Every set's loss is the same fixed-order float expression

    offset + 0.5 * (P_H + S_L),   P_H, S_L: sums over T_H, T_L from the top position down

whatever chunk or thread produced it, so results are bitwise independent of the
chunking and the thread count (``fastscape.theory.critical_value`` computes the
same float). Compiled with fastmath=False: nothing is reassociated.

The Morse index is an integer: index = base - sum(T) with
base = q(q-1)/2 - k(k-1)/2 + (q-k)(p-k) (the last term only for all-ranks runs).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import jit

INT64_MAX = np.iinfo(np.int64).max


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
    ``_run`` computes the bin inline: the arithmetic guess (v - e_0) / w + 1 is off by
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
def _insert_low(v, r, vals, ranks, n):
    """Insert (v, r) into the n kept lowest (sorted by value, then rank). Return n."""
    cap = vals.shape[0]
    if n < cap:
        pos = n
        n += 1
    else:
        pos = cap - 1
    while pos > 0 and (vals[pos - 1] > v or (vals[pos - 1] == v and ranks[pos - 1] > r)):
        vals[pos] = vals[pos - 1]
        ranks[pos] = ranks[pos - 1]
        pos -= 1
    vals[pos] = v
    ranks[pos] = r
    return n


@jit(fastmath=False)
def _insert_high(v, r, vals, ranks, n):
    """Insert (v, r) into the n kept highest (value descending, then rank). Return n."""
    cap = vals.shape[0]
    if n < cap:
        pos = n
        n += 1
    else:
        pos = cap - 1
    while pos > 0 and (vals[pos - 1] < v or (vals[pos - 1] == v and ranks[pos - 1] > r)):
        vals[pos] = vals[pos - 1]
        ranks[pos] = ranks[pos - 1]
        pos -= 1
    vals[pos] = v
    ranks[pos] = r
    return n


@jit(fastmath=False)
def _run(
    p_h,
    tsum,
    tpos,
    tord,
    i0,
    i1,
    r0,
    offset,
    idx0,
    counts,
    hist4,
    ext,
    uniform,
    e0,
    inv_w,
    top,
    threshold,
    low_v,
    low_r,
    high_v,
    high_r,
    nl,
    nhi,
    low_worst,
    high_worst,
    below,
    do_counts,
):
    """The innermost loop: T_H fixed, T_L over table entries i0..i1-1 (rank r0 + i).

    With do_counts False the run is a whole a-block of the table, and ``tord[i0:i1]``
    lists it by ascending sum (stable): since v is a monotone (rounded) function of
    the table sum, the lowest / highest values are then read from its two ends.
    """
    n_low = low_v.shape[0]
    n_high = high_v.shape[0]
    top_i = ext.shape[0] - 2  # ext[top_i] = nextafter(e_nb, inf)
    vmin = np.inf
    vmax = -np.inf
    if do_counts:  # a partial run
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
        vmin = offset + 0.5 * (p_h + tsum[tord[i0]])  # v is monotone in the sum
        vmax = offset + 0.5 * (p_h + tsum[tord[i1 - 1]])
        if threshold == -np.inf and uniform and vmin >= e0 and vmax < ext[top_i]:
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
    if vmin < low_worst or (nl < n_low and i1 > i0):
        if do_counts:
            for i in range(i0, i1):
                v = offset + 0.5 * (p_h + tsum[i])
                if v < low_worst or nl < n_low:
                    nl = _insert_low(v, r0 + i, low_v, low_r, nl)
                    if nl == n_low:
                        low_worst = low_v[n_low - 1]
        else:  # ascending values: stop past the kept worst (ties: lower rank wins)
            for j in range(i0, i1):
                i = tord[j]
                v = offset + 0.5 * (p_h + tsum[i])
                if nl == n_low:
                    if v > low_worst:
                        break
                    if v == low_worst and r0 + i > low_r[n_low - 1]:
                        continue
                nl = _insert_low(v, r0 + i, low_v, low_r, nl)
                if nl == n_low:
                    low_worst = low_v[n_low - 1]
    if vmax > high_worst or (nhi < n_high and i1 > i0):
        if do_counts:
            for i in range(i0, i1):
                v = offset + 0.5 * (p_h + tsum[i])
                if v > high_worst or nhi < n_high:
                    nhi = _insert_high(v, r0 + i, high_v, high_r, nhi)
                    if nhi == n_high:
                        high_worst = high_v[n_high - 1]
        else:  # descending values
            for j in range(i1 - 1, i0 - 1, -1):
                i = tord[j]
                v = offset + 0.5 * (p_h + tsum[i])
                if nhi == n_high:
                    if v < high_worst:
                        break
                    if v == high_worst and r0 + i > high_r[n_high - 1]:
                        continue
                nhi = _insert_high(v, r0 + i, high_v, high_r, nhi)
                if nhi == n_high:
                    high_worst = high_v[n_high - 1]
    return below, nl, nhi, low_worst, high_worst


@jit(fastmath=False)
def _walk(
    lam,
    q,
    k,
    h,
    shift,
    lo,
    hi,
    offset,
    binom,
    tsum,
    tpos,
    thist,
    tord,
    ext,
    uniform,
    e0,
    inv_w,
    threshold,
    counts,
    hist,
    low_v,
    low_r,
    high_v,
    high_r,
):
    """Aggregate the k-sets of ranks lo..hi-1 (see the module docstring); return #below."""
    m = q - k
    nh = q - h
    nbins = hist.shape[0]
    top = nbins - 1.0
    n_low = low_v.shape[0]
    n_high = high_v.shape[0]
    base = q * (q - 1) // 2 - k * (k - 1) // 2 + shift
    hist4 = np.zeros((4, nbins), dtype=np.int64)  # interleaved: no store-load chain
    th = np.empty(m + 2, dtype=np.int64)
    part = np.empty(m + 2, dtype=np.float64)
    nl = np.int64(0)  # not the literal 0: _run would compile a second, literal-typed build
    nhi = np.int64(0)
    low_worst = np.inf if n_low > 0 else -np.inf  # never triggers when nothing is kept
    high_worst = -np.inf if n_high > 0 else np.inf
    below = np.int64(0)
    # find the block a holding rank lo
    a = max(0, m - nh)
    a_max = min(m, h)
    block0 = 0
    while a <= a_max:
        size = binom[h, a] * binom[nh, m - a]
        if block0 + size > lo:
            break
        block0 += size
        a += 1
    r = lo
    while r < hi:
        b = m - a
        n_l = binom[h, a]
        n_h = binom[nh, b]
        toff = 0
        for a2 in range(a):
            toff += binom[h, a2]
        r_h = (r - block0) // n_l
        r_l = (r - block0) - r_h * n_l
        unrank_colex(r_h, b, nh, binom, th)
        th[b] = nh
        part[b] = 0.0
        s_h = 0
        for i in range(b - 1, -1, -1):
            part[i] = part[i + 1] + lam[h + th[i]]
            s_h += h + th[i]
        while True:
            n_here = min(n_l - r_l, hi - r)
            p_h = part[0]
            idx0 = base - s_h
            start = toff + r_l
            below, nl, nhi, low_worst, high_worst = _run(
                p_h,
                tsum,
                tpos,
                tord,
                start,
                start + n_here,
                r - start,
                offset,
                idx0,
                counts,
                hist4,
                ext,
                uniform,
                e0,
                inv_w,
                top,
                threshold,
                low_v,
                low_r,
                high_v,
                high_r,
                nl,
                nhi,
                low_worst,
                high_worst,
                below,
                n_here < n_l,
            )
            if n_here == n_l:  # a whole table: add its position-sum histogram at once
                for ss in range(a * (a - 1) // 2, a * (2 * h - a - 1) // 2 + 1):
                    counts[idx0 - ss] += thist[a, ss]
            r += n_here
            r_l = 0
            if r >= hi:
                break
            r_h += 1
            if r_h >= n_h:
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
        block0 += n_l * n_h
        a += 1
    for c in range(4):
        for g in range(nbins):
            hist[g] += hist4[c, g]
    return below


@jit(parallel=True, fastmath=False)
def enumerate_chunks(
    lam,
    q,
    p,
    h,
    all_ranks,
    ks,
    los,
    his,
    offset,
    binom,
    tsum,
    tpos,
    thist,
    tord,
    edges,
    uniform,
    threshold,
    counts,
    hist,
    below,
    low_v,
    low_r,
    high_v,
    high_r,
):
    """Aggregate every chunk c = (ks[c], los[c], his[c]) into row c of the outputs.

    tsum/tpos/thist come from :func:`low_tables`; tord lists each a-block of the table
    by ascending sum (a stable argsort, offset to the block). counts (C, M) and
    hist (C, nb + 2) int64 must be zeroed; low_v/high_v (C, n) are padded with
    +inf/-inf and low_r/high_r (C, n) with -1 for unused slots. Each prange
    iteration writes only its own rows.
    """
    nb = edges.shape[0] - 1
    e0 = edges[0]
    inv_w = nb / (edges[nb] - edges[0])
    ext = np.empty(nb + 3)
    ext[0] = -np.inf
    ext[1 : nb + 1] = edges[:nb]
    ext[nb + 1] = np.nextafter(edges[nb], np.inf)
    ext[nb + 2] = np.inf
    for c in prange(ks.shape[0]):
        k = ks[c]
        shift = (q - k) * (p - k) if all_ranks else 0
        below[c] = _walk(
            lam,
            q,
            k,
            h,
            shift,
            los[c],
            his[c],
            offset,
            binom,
            tsum,
            tpos,
            thist,
            tord,
            ext,
            uniform,
            e0,
            inv_w,
            threshold,
            counts[c],
            hist[c],
            low_v[c],
            low_r[c],
            high_v[c],
            high_r[c],
        )
