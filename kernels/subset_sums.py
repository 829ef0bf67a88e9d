"""Counting j-subsets of integers by their sum, one row per size j (docs/histogram.md).

The table holds, for each size j, the number of j-subsets of the items seen so far
with sum t, for t in the row's feasible range only. Items come in non-increasing
order (u_0 >= u_1 >= ...), so after i items a j-subset's sum lies between
``prefix[i] - prefix[i - j]`` (the j smallest) and ``prefix[j]`` (the j largest).
Adding item i updates row j from row j - 1 in place, rows in descending order.

Rows are split into blocks of about equal work and the blocks run in parallel. A
block's lowest row reads the row below it, which another block updates at the same
time, so that row is first copied into the block's scratch row. Every cell gets the
same single addition however the rows are split, so results do not depend on the
thread count. The same kernel counts in int64 (exact below 2**63), modulo a prime
(``mod`` < 2**62, exact residues) or in float64 (``mod`` = inf).
"""

from __future__ import annotations

from numba import prange

from ._jit import jit


@jit(parallel=True, fastmath=False)
def subset_sum_rows(u, prefix, row_lo, row_off, n, all_rows, mod, table, scratch, cuts):
    """Fill ``table`` with the counts of j-subsets (j <= n) of ``u`` by sum.

    u (q,) int64 non-increasing, >= 0; prefix (q + 1,) its prefix sums from 0.
    Row j holds sums t in [row_lo[j], row_lo[j] + row_off[j + 1] - row_off[j]) at
    ``table[row_off[j] + t - row_lo[j]]``. ``all_rows`` false: only row n is wanted
    at the end, so row j is dropped once it can no longer reach size n (fewer than
    n - j items left). mod: counts are reduced modulo it (a value >= mod loses mod:
    pass int64 max for plain int64, inf for float64). scratch (K, width) is work
    space of table's dtype with width >= the widest row; cuts (K + 1,) int64.
    """
    q = u.shape[0]
    nblock = cuts.shape[0] - 1
    for x in range(table.shape[0]):
        table[x] = 0
    table[row_off[0]] = 1  # the empty set, sum 0
    for i in range(q):
        w = u[i]
        jb = min(i + 1, n)
        ja = 1 if all_rows else max(1, n - (q - i - 1))
        if ja > jb:
            continue
        # work of row j = width of row j - 1 at stage i: prefix[j-1] - (prefix[i] - prefix[i-j+1])
        total = 0
        for j in range(ja, jb + 1):
            total += prefix[j - 1] - prefix[i] + prefix[i - j + 1] + 1
        cuts[0] = ja
        b = 1
        acc = 0
        for j in range(ja, jb + 1):
            while b < nblock and acc * nblock >= total * b:
                cuts[b] = j
                b += 1
            acc += prefix[j - 1] - prefix[i] + prefix[i - j + 1] + 1
        while b <= nblock:
            cuts[b] = jb + 1
            b += 1
        for blk in prange(nblock):  # copy each block's source row (read only)
            c0 = cuts[blk]
            if c0 < cuts[blk + 1]:
                r = c0 - 1
                slo = prefix[i] - prefix[i - r]
                src = row_off[r] + slo - row_lo[r]
                for s in range(prefix[r] - slo + 1):
                    scratch[blk, s] = table[src + s]
        for blk in prange(nblock):  # disjoint rows per block, descending inside
            c0 = cuts[blk]
            c1 = cuts[blk + 1]
            for j in range(c1 - 1, c0 - 1, -1):
                r = j - 1
                slo = prefix[i] - prefix[i - r]
                width = prefix[r] - slo + 1
                dst = row_off[j] + slo + w - row_lo[j]
                if j == c0:
                    for s in range(width):
                        v = table[dst + s] + scratch[blk, s]
                        if v >= mod:
                            v -= mod
                        table[dst + s] = v
                else:
                    src = row_off[r] + slo - row_lo[r]
                    for s in range(width):
                        v = table[dst + s] + table[src + s]
                        if v >= mod:
                            v -= mod
                        table[dst + s] = v
