"""Plain itertools + numpy references for the enumeration tests (no fastscape code)."""

from __future__ import annotations

import itertools

import numpy as np


def brute_points(lam, p, all_ranks=False, offset=0.0):
    """Every critical point as (loss, S, index, k), straight from the definitions.

    The index counts the pairs (i not in S, j in S) with lambda_i > lambda_j (the
    definition, not the sum-of-positions shortcut); the loss sums with numpy.
    """
    lam = np.asarray(lam, dtype=float)
    q = lam.size
    ks = range(min(p, q) + 1) if all_ranks else [p]
    out = []
    for k in ks:
        for s in itertools.combinations(range(q), k):
            mask = np.zeros(q, dtype=bool)
            mask[list(s)] = True
            inv = int(np.sum(lam[~mask][:, None] > lam[mask][None, :]))
            index = inv + ((q - k) * (p - k) if all_ranks else 0)
            loss = offset + 0.5 * float(np.sum(lam[~mask]))
            out.append((loss, s, index, k))
    return out


def index_histogram(points):
    top = max(pt[2] for pt in points)
    counts = [0] * (top + 1)
    for pt in points:
        counts[pt[2]] += 1
    return counts


def bin_counts(losses, edges):
    """[under, bins..., over] with bins [e_i, e_{i+1}) and the last bin closed."""
    losses = np.asarray(losses)
    nb = len(edges) - 1
    out = [int(np.sum(losses < edges[0]))]
    for i in range(nb):
        if i == nb - 1:
            out.append(int(np.sum((losses >= edges[i]) & (losses <= edges[i + 1]))))
        else:
            out.append(int(np.sum((losses >= edges[i]) & (losses < edges[i + 1]))))
    out.append(int(np.sum(losses > edges[-1])))
    return out
