"""Batch verification of many points of one network: loss, gradient norm, Hessian inertia.

For every row ``thetas[i]`` (a flat parameter vector, all rows sharing ``widths``)
the kernels write the loss, the gradient's 2-norm, the smallest and largest Hessian
eigenvalue and the inertia: how many eigenvalues lie below -tol and above +tol.

1. The Hessian is filled with ``hessian_serial`` into a buffer owned by one chunk of
   points (one buffer per chunk, never shared).
2. It is split into the connected components of its nonzero pattern. Permuting rows
   and columns together is an exact similarity, so the spectrum of the Hessian is
   the union of the components' spectra. Optionally entries at round-off level
   (<= decouple * rtol * |H|_F / N) are dropped as well. That changes no eigenvalue
   by more than the dropped part's norm (Weyl's inequality), and the result is kept
   only when no eigenvalue lies that close to a threshold; otherwise the exact
   components are used. In the eigenbasis of Sigma the Hessian of a canonical
   critical point is block diagonal up to round-off, one block of at most dx + dy
   per hidden unit, so this replaces one dense N x N reduction by p small ones.
3. Each component is reduced to tridiagonal form by Householder reflections (an
   orthogonal similarity, backward stable; ``lapack.tridiagonalize``: LAPACK
   ``dsytrd`` for big blocks, a compiled loop for small ones). The components'
   tridiagonals, joined with zero couplings, form one tridiagonal T with exactly
   the eigenvalues of the Hessian's block-diagonal part.
4. Sylvester's law of inertia on T - sigma I (its LDL^T pivots: the Sturm count)
   gives the number of eigenvalues below any sigma in O(N). Multisection (eight
   shifts per sweep, evaluated side by side) brackets the smallest and largest
   eigenvalue to the accuracy of T, eps |T|; tol = max(rtol max|eig|, floor), then
   one more sweep counts the eigenvalues below -tol and below +tol.

This is what an eigenvalue solver does minus its last stage: ``eigvalsh`` is
``dsytrd`` followed by an O(N^2) QR iteration for all N eigenvalues, which costs
about as much again at these sizes and is not needed for an inertia.

Every point is computed independently and written to its own row: results do not
depend on the number of threads or on the chunking.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import jit
from .derivatives import hessian_serial, loss_gradient
from .lapack import tridiagonal_workspace, tridiagonalize

#: Shifts evaluated per Sturm sweep (independent recurrences, run side by side).
LANES = 8


@jit()
def components(h, drop, labels, order, starts, stack):
    """Connected components of the graph {(r, c): |h[r, c]| > drop} (h symmetric).

    Writes a component label per row into ``labels``, the rows grouped by component
    (ascending within each) into ``order``, and the start of each group into
    ``starts`` (entry ``n_components`` is N). Returns the number of components.
    With drop = 0 these are the exact nonzero blocks of h. ``stack`` (int64, length
    >= N) is scratch.
    """
    n = h.shape[0]
    for r in range(n):
        labels[r] = -1
    ncomp = 0
    for seed in range(n):
        if labels[seed] >= 0:
            continue
        labels[seed] = ncomp
        stack[0] = seed
        top = 1
        while top > 0:
            top -= 1
            r = stack[top]
            row = h[r]
            for c in range(n):
                if labels[c] < 0 and abs(row[c]) > drop:
                    labels[c] = ncomp
                    stack[top] = c
                    top += 1
        ncomp += 1
    for comp in range(ncomp + 1):  # counting sort of the rows by label
        starts[comp] = 0
    for r in range(n):
        starts[labels[r] + 1] += 1
    for comp in range(ncomp):
        starts[comp + 1] += starts[comp]
        stack[comp] = starts[comp]  # stack reused: next free slot of each component
    for r in range(n):
        order[stack[labels[r]]] = r
        stack[labels[r]] += 1
    return ncomp


@jit()
def frobenius(h):
    """|h|_F of a 2-D array, without a temporary."""
    acc = 0.0
    for r in range(h.shape[0]):
        for c in range(h.shape[1]):
            acc += h[r, c] * h[r, c]
    return np.sqrt(acc)


@jit()
def coupling_norm(h, labels):
    """Frobenius norm of the entries of h that join different components."""
    n = h.shape[0]
    acc = 0.0
    for r in range(n):
        lr = labels[r]
        row = h[r]
        for c in range(n):
            if labels[c] != lr:
                acc += row[c] * row[c]
    return np.sqrt(acc)


@jit()
def blocks_to_tridiagonal(h, ncomp, d, e, order, starts, sub, tau, work, iwork):
    """Tridiagonal T (diagonal d, off-diagonal e, e[N-1] = 0) of h's diagonal blocks.

    The ``ncomp`` components found by ``components`` are reduced one by one and joined
    with zero couplings: T has the eigenvalues of the block-diagonal part of h, which
    are h's own when no entry joins two components. h is overwritten. Returns LAPACK's
    info (0 = success).
    """
    n = h.shape[0]
    if ncomp == 1:
        info = tridiagonalize(h, n, d, e, tau, work, iwork)
        e[n - 1] = 0.0
        return info
    pos = 0
    info = 0
    for comp in range(ncomp):
        lo = starts[comp]
        m = starts[comp + 1] - lo
        if m == 1:
            d[pos] = h[order[lo], order[lo]]
        else:
            for i in range(m):
                ri = order[lo + i]
                for j in range(m):
                    sub[i, j] = h[ri, order[lo + j]]
            code = tridiagonalize(sub, m, d[pos:], e[pos:], tau, work, iwork)
            if info == 0:  # keep the first failure (LAPACK: < 0 = illegal argument)
                info = code
        e[pos + m - 1] = 0.0
        pos += m
    return info


@jit(fastmath=False)
def counts_below(d, e2, shifts, pivmin, counts, q):
    """counts[j] = number of eigenvalues of T below shifts[j], for all LANES shifts.

    T has diagonal d and squared off-diagonal e2 (e2[i] couples i and i + 1). The
    count is the number of negative pivots q_i = d_i - s - e2[i-1] / q_(i-1) of
    T - s I (Sylvester's law of inertia; LAPACK's dstebz recurrence, with a pivot
    smaller than ``pivmin`` replaced by -pivmin). The lanes are independent
    recurrences, so they run side by side instead of waiting on each division.
    ``q`` (length LANES) is scratch.
    """
    n = d.size
    for j in range(LANES):
        counts[j] = 0
        q[j] = 1.0
    e2p = 0.0
    for i in range(n):
        di = d[i]
        for j in range(LANES):
            x = di - shifts[j] - e2p / q[j]
            if abs(x) < pivmin:
                x = -pivmin
            counts[j] += x < 0.0
            q[j] = x
        e2p = e2[i]
    return counts


@jit(fastmath=False)
def tridiagonal_inertia(d, e, rtol, floor, margin, e2, shifts, counts, q):
    """(lambda_min, lambda_max, #eig < -tol, #eig > tol, certified) of tridiagonal T.

    tol = max(rtol * max|eig|, floor). Both extremes are bracketed by multisection
    (LANES / 2 shifts each per sweep, starting from T's Gershgorin interval) until
    the bracket is as narrow as T's eigenvalues are accurate, eps (|a| + |b| + |T|).

    ``margin`` bounds how far the eigenvalues of the matrix actually asked about may
    lie from T's (Weyl: at most the norm of the couplings dropped to split it). The
    counts are certified when they are the same at -tol -+ margin' and at
    tol -+ margin' (margin' = margin (1 + rtol) also covers the shift of tol itself):
    then no eigenvalue can cross a threshold. margin = 0 always certifies.
    Non-finite T gives NaN extremes and counts of -1.
    """
    n = d.size
    eps = np.finfo(np.float64).eps
    lo = np.inf
    hi = -np.inf
    big = 0.0
    for i in range(n):
        if not (np.isfinite(d[i]) and np.isfinite(e[i])):
            return np.nan, np.nan, -1, -1, True
        r = abs(e[i]) + (abs(e[i - 1]) if i > 0 else 0.0)
        lo = min(lo, d[i] - r)
        hi = max(hi, d[i] + r)
        e2[i] = e[i] * e[i]
        big = max(big, e2[i])
    pivmin = np.finfo(np.float64).tiny * max(1.0, big)
    tnorm = max(abs(lo), abs(hi))
    half = LANES // 2
    a0, b0, a1, b1 = lo, hi, lo, hi  # brackets of lambda_min and lambda_max
    for _ in range(200):
        done0 = b0 - a0 <= eps * (abs(a0) + abs(b0) + tnorm) + pivmin
        done1 = b1 - a1 <= eps * (abs(a1) + abs(b1) + tnorm) + pivmin
        if done0 and done1:
            break
        for j in range(half):
            shifts[j] = a0 + (b0 - a0) * (j + 1) / (half + 1)
            shifts[half + j] = a1 + (b1 - a1) * (j + 1) / (half + 1)
        counts_below(d, e2, shifts, pivmin, counts, q)
        na0, nb0, na1, nb1 = a0, b0, a1, b1
        for j in range(half):  # lambda_min < s  iff  count(s) >= 1
            if counts[j] >= 1:
                nb0 = shifts[j]
                break
            na0 = shifts[j]
        for j in range(half):  # lambda_max < s  iff  count(s) = n
            if counts[half + j] >= n:
                nb1 = shifts[half + j]
                break
            na1 = shifts[half + j]
        a0, b0, a1, b1 = na0, nb0, na1, nb1
    lmin = 0.5 * (a0 + b0)
    lmax = 0.5 * (a1 + b1)
    # at least 2 pivmin: a pivot that small counts as negative, so with tol = 0 an
    # exactly zero eigenvalue would count as below -tol
    tol = max(rtol * max(abs(lmin), abs(lmax)), floor, 2.0 * pivmin)
    wide = margin * (1.0 + rtol)
    for j in range(LANES):
        shifts[j] = tol + wide
    shifts[0] = -tol - wide
    shifts[1] = -tol + wide
    shifts[2] = tol - wide
    counts_below(d, e2, shifts, pivmin, counts, q)
    certified = counts[0] == counts[1] and counts[2] == counts[3]
    return lmin, lmax, counts[0], n - counts[3], certified


@jit()
def inertia_workspace(n):
    """Scratch buffers of ``symmetric_inertia`` for n x n matrices (one set per thread)."""
    iwork = np.empty(5, dtype=np.int32)
    sub = np.empty((n, n))
    work = np.empty(tridiagonal_workspace(sub, iwork))
    return (
        sub,
        np.empty(n, dtype=np.int64),  # labels
        np.empty(n, dtype=np.int64),  # order
        np.empty(n + 1, dtype=np.int64),  # starts
        np.empty(n),  # d
        np.empty(n),  # e
        np.empty(n),  # e2
        np.empty(n),  # tau
        work,
        iwork,
        np.empty(LANES),  # shifts
        np.empty(LANES, dtype=np.int64),  # counts
        np.empty(LANES),  # q: Sturm pivots
        np.empty(n, dtype=np.int64),  # stack
    )


@jit()
def symmetric_inertia(h, blocks, decouple, rtol, floor, ws):
    """(lambda_min, lambda_max, #eig < -tol, #eig > tol) of symmetric h, tol as above.

    ``blocks``: split h into the components of its nonzero pattern first. ``decouple``
    > 0 also drops entries |h_rc| <= decouple * rtol * |h|_F / N between blocks
    (only then can h be split; its norm bounds the change of every eigenvalue), and
    the result is kept only if ``tridiagonal_inertia`` certifies it; otherwise the
    exact blocks are used. h is overwritten unless it splits into several blocks.
    ``ws`` comes from ``inertia_workspace``. A non-finite h gives (NaN, NaN, -1, -1).
    """
    sub, labels, order, starts, d, e, e2, tau, work, iwork, shifts, counts, q, stack = ws
    n = h.shape[0]
    size = frobenius(h)
    if not np.isfinite(size):  # NaN would read as "no coupling" below
        return np.nan, np.nan, -1, -1
    drop = decouple * rtol * size / n if blocks and decouple > 0.0 else 0.0
    while True:
        ncomp = components(h, drop, labels, order, starts, stack) if blocks else 1
        margin = coupling_norm(h, labels) if drop > 0.0 and ncomp > 1 else 0.0
        info = blocks_to_tridiagonal(h, ncomp, d, e, order, starts, sub, tau, work, iwork)
        if info != 0:
            d[0] = np.nan
        lmin, lmax, neg, pos, ok = tridiagonal_inertia(
            d, e, rtol, floor, margin, e2, shifts, counts, q
        )
        if ok:  # margin = 0 always certifies; margin > 0 left h intact (ncomp > 1)
            return lmin, lmax, neg, pos
        drop = 0.0


@jit()
def inertia_range(thetas, lo, hi, step, job):
    """Serial worker: points lo, lo + step, ... < hi with one private set of buffers (nogil).

    ``job`` = (widths, sxx, syx, tr_syy, residual, mu, blocks, decouple, rtol, floors,
    losses, grad_norms, extremes, inertia); per point i it writes losses[i],
    grad_norms[i], extremes[i] = (lambda_min, lambda_max) and inertia[i] =
    (#eig < -tol, #eig > tol) with tol = max(rtol max|eig|, floors[i]).
    """
    widths, sxx, syx, tr_syy, residual, mu, blocks, decouple, rtol, floors = job[:10]
    losses, grad_norms, extremes, inertia = job[10:]
    n = thetas.shape[1]
    h = np.empty((n, n))
    g = np.empty(n)
    ws = inertia_workspace(n)
    for i in range(lo, hi, step):
        th = thetas[i]
        losses[i] = loss_gradient(th, widths, sxx, syx, tr_syy, residual, mu, g)
        grad_norms[i] = np.sqrt(np.dot(g, g))
        hessian_serial(th, widths, sxx, syx, residual, mu, h)
        lmin, lmax, neg, pos = symmetric_inertia(h, blocks, decouple, rtol, floors[i], ws)
        extremes[i, 0] = lmin
        extremes[i, 1] = lmax
        inertia[i, 0] = neg
        inertia[i, 1] = pos
    return 0


@jit(parallel=True)
def inertia_parallel(thetas, nchunks, job):
    """prange over ``nchunks`` interleaved chunks (c, c + nchunks, ...), one buffer set each.

    Interleaving balances the load when the cost varies along the batch (index sets
    come sorted by size, and bigger sets have bigger dense Hessian blocks).
    """
    p = thetas.shape[0]
    for c in prange(nchunks):  # c is unsigned in a prange: cast, or inertia_range compiles twice
        inertia_range(thetas, np.int64(c), p, nchunks, job)
    return 0
