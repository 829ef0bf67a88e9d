"""Plain numpy / itertools references for the loss histogram (no fastscape code).

- :func:`all_losses`: the loss 1/2 sum_{i not in S} lambda_i of every index set, from
  the definition (``naive_landscape.brute_points``: numpy sums over boolean masks).
- :func:`grid_dp_counts`: the textbook subset-sum DP over the rounded eigenvalues,
  one full-width row per size, in exact Python integers, with the same placement
  rule as the library (offset + 1/2 * units, or offset + 1/2 * (sum lambda - units)).
"""

from __future__ import annotations

import math

import numpy as np
from naive_landscape import brute_points


def all_losses(lam, p, all_ranks=False, offset=0.0):
    """Losses of all index sets S, |S| = p (or every |S| <= p), as a float array."""
    return np.array([pt[0] for pt in brute_points(lam, p, all_ranks, offset)])


def grid_dp_counts(lam, p, edges, grid, all_ranks=False, offset=0.0):
    """[underflow, bins..., overflow] of the rounded model, exact Python ints."""
    lam = np.asarray(lam, dtype=float)
    q = lam.size
    kmax = min(p, q)
    comp = not all_ranks and q - p < p
    n = q - p if comp else kmax
    u = [int(x) for x in np.rint(lam / grid).astype(np.int64)]
    top = sum(sorted(u)[::-1][:n])
    cnt = [[0] * (top + 1) for _ in range(n + 1)]
    cnt[0][0] = 1
    for ui in u:
        for j in range(n, 0, -1):
            row, prev = cnt[j], cnt[j - 1]
            for t in range(top, ui - 1, -1):
                if prev[t - ui]:
                    row[t] += prev[t - ui]
    tot = math.fsum(lam)
    units = np.arange(top + 1, dtype=np.float64) * grid
    placed = offset + 0.5 * units if comp else offset + 0.5 * (tot - units)
    b = np.searchsorted(edges, placed, side="right")
    b[placed == edges[-1]] = len(edges) - 1
    out = [0] * (len(edges) + 1)
    for j in range(kmax + 1) if all_ranks else [n]:
        for t, c in enumerate(cnt[j]):
            out[int(b[t])] += c
    return out


def bracket(losses, edges, d):
    """Per slot [under, bins..., over]: (points that must be credited to it, points that may be).

    A point of loss L is placed within d of L. Bin i = [e_i, e_{i+1}) (the last one
    closed) must receive every L in [e_i + d, e_{i+1} - d) and can only receive L in
    [e_i - d, e_{i+1} + d]; underflow gets all L < e_0 - d and only L < e_0 + d;
    overflow all L > e_nb + d and only L > e_nb - d.
    """
    losses = np.asarray(losses)
    nb = len(edges) - 1
    inner = [int(np.sum(losses < edges[0] - d))]
    outer = [int(np.sum(losses < edges[0] + d))]
    for i in range(nb):
        lo, hi = edges[i], edges[i + 1]
        inner.append(int(np.sum((losses >= lo + d) & (losses < hi - d))))
        outer.append(int(np.sum((losses >= lo - d) & (losses <= hi + d))))
    inner.append(int(np.sum(losses > edges[-1] + d)))
    outer.append(int(np.sum(losses > edges[-1] - d)))
    return inner, outer
