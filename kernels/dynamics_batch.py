"""Gradient descent for blocks of runs at once: the same arithmetic as gd_run, across lanes.

A block holds B runs side by side: every buffer is (rows, B), row r of a flat matrix
holding entry r of that matrix for each of the B runs (lanes). Every product loops
over the lanes innermost, so the compiler can use SIMD across runs while each lane
performs exactly the operations of ``dynamics.gd_run``, in the same order (no
fastmath): results are equal bit for bit to single runs, whatever the block size or
thread count.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import jit
from .dynamics import offsets


@jit(fastmath=False)
def _bmm(a, oa, b, ob, c, oc, m, kk, n, ta, tb):
    """c = op(a) @ op(b) per lane; op(a) is (m, kk), op(b) is (kk, n); ta / tb transpose.

    a is stored (m, kk) row-major (or (kk, m) when ta), b (kk, n) (or (n, kk) when tb).
    """
    lanes = c.shape[1]
    for i in range(m):
        ci = oc + i * n
        for j in range(n):
            for t in range(lanes):
                c[ci + j, t] = 0.0
        for k in range(kk):
            ia = oa + k * m + i if ta else oa + i * kk + k
            for j in range(n):
                ib = ob + j * kk + k if tb else ob + k * n + j
                for t in range(lanes):
                    c[ci + j, t] += a[ia, t] * b[ib, t]


@jit(fastmath=False)
def block_loss_grad(theta, widths, off, loff, sxx, syx, tr_syy, mu, lbuf, bbuf, ws, grad, lg):
    """Per lane: loss into lg[0], |grad|^2 into lg[1], gradient into grad (N, B)."""
    H = widths.size - 1
    dx = widths[0]
    dy = widths[H]
    lanes = theta.shape[1]
    for i in range(widths[1] * dx):
        for t in range(lanes):
            lbuf[i, t] = theta[i, t]
    for k in range(1, H):
        _bmm(theta, off[k], lbuf, loff[k - 1], lbuf, loff[k], widths[k + 1], widths[k], dx,
             False, False)  # fmt: skip
    wo = loff[H - 1]
    # W Sxx: Sxx is shared by the lanes
    for i in range(dy):
        for j in range(dx):
            for t in range(lanes):
                ws[i * dx + j, t] = 0.0
        for k in range(dx):
            ia = wo + i * dx + k
            for j in range(dx):
                sv = sxx[k, j]
                for t in range(lanes):
                    ws[i * dx + j, t] += lbuf[ia, t] * sv
    for t in range(lanes):
        lg[0, t] = 0.5 * tr_syy
    for i in range(dy):
        for j in range(dx):
            r = i * dx + j
            y = syx[i, j]
            for t in range(lanes):
                lg[0, t] += lbuf[wo + r, t] * (0.5 * ws[r, t] - y)
                bbuf[wo + r, t] = ws[r, t] - y
    for k in range(H - 2, -1, -1):
        _bmm(theta, off[k + 1], bbuf, loff[k + 1], bbuf, loff[k], widths[k + 1], widths[k + 2],
             dx, True, False)  # fmt: skip
    for i in range(widths[1] * dx):
        for t in range(lanes):
            grad[i, t] = bbuf[i, t]
    for k in range(1, H):
        _bmm(bbuf, loff[k], lbuf, loff[k - 1], grad, off[k], widths[k + 1], dx, widths[k],
             False, True)  # fmt: skip
    n = theta.shape[0]
    if mu != 0.0:
        for t in range(lanes):
            lg[2, t] = 0.0
        for i in range(n):
            for t in range(lanes):
                lg[2, t] += theta[i, t] * theta[i, t]
                grad[i, t] += mu * theta[i, t]
        for t in range(lanes):
            lg[0, t] += 0.5 * mu * lg[2, t]
    for t in range(lanes):
        lg[1, t] = 0.0
    for i in range(n):
        for t in range(lanes):
            lg[1, t] += grad[i, t] * grad[i, t]


@jit(fastmath=False)
def gd_block(theta, widths, sxx, syx, tr_syy, mu, lr, steps, every, uq, pq, recs, status):
    """gd_run for the B lanes of theta (N, B), updated in place.

    recs = (loss, gnorm, wnorm, proj) with a leading lane axis; status[t] = (records,
    diverged_at or -1) of lane t. A lane that stops being finite is put back to its
    last finite point and frozen there (its step size becomes 0).
    """
    loss_r, gn_r, wn_r, proj = recs
    H = widths.size - 1
    dx = widths[0]
    dy = widths[H]
    off, loff = offsets(widths)
    n, lanes = theta.shape
    lbuf = np.empty((loff[H], lanes))
    bbuf = np.empty((loff[H], lanes))
    ws = np.empty((dy * dx, lanes))
    grad = np.empty((n, lanes))
    prev = theta.copy()
    lg = np.empty((3, lanes))
    step = np.full(lanes, lr)
    q = uq.shape[1]
    wo = loff[H - 1]
    for t in range(lanes):
        status[t, 0] = 0
        status[t, 1] = -1
    for s in range(steps + 1):
        block_loss_grad(theta, widths, off, loff, sxx, syx, tr_syy, mu, lbuf, bbuf, ws, grad, lg)
        for t in range(lanes):
            if step[t] != 0.0 and not (np.isfinite(lg[0, t]) and np.isfinite(lg[1, t])):
                step[t] = 0.0
                status[t, 1] = s
                for i in range(n):
                    theta[i, t] = prev[i, t]
                    grad[i, t] = 0.0
        if s % every == 0 or s == steps:
            for t in range(lanes):
                if step[t] == 0.0:
                    continue
                r = status[t, 0]
                loss_r[t, r] = lg[0, t]
                gn_r[t, r] = np.sqrt(lg[1, t])
                wn = 0.0
                for i in range(dy * dx):
                    wn += lbuf[wo + i, t] * lbuf[wo + i, t]
                wn_r[t, r] = wn
                for c in range(q):
                    acc = 0.0
                    for a in range(dy):
                        row = 0.0
                        for b in range(dx):
                            row += lbuf[wo + a * dx + b, t] * pq[b, c]
                        acc += uq[a, c] * row
                    proj[t, r, c] = acc
                status[t, 0] = r + 1
        if s == steps:
            break
        for i in range(n):
            for t in range(lanes):
                prev[i, t] = theta[i, t]
                theta[i, t] -= step[t] * grad[i, t]


@jit(fastmath=False, parallel=True)
def gd_blocks(thetas, block, widths, sxx, syx, tr_syy, mu, lr, steps, every, uq, pq, recs, status):
    """gd_block over the runs of thetas (runs, N) in blocks of `block` runs, in parallel.

    recs = (loss, gnorm, wnorm, proj) with a leading runs axis, status (runs, 2).
    Blocks are fixed by `block` alone and write disjoint rows, so the results do not
    depend on the thread count; each run equals its single-run ``gd_run``.
    """
    loss_r, gn_r, wn_r, proj = recs
    runs, n = thetas.shape
    nblocks = (runs + block - 1) // block
    for bi in prange(nblocks):
        lo = bi * block
        hi = min(lo + block, runs)
        tb = np.ascontiguousarray(thetas[lo:hi].T)
        st = np.empty((hi - lo, 2), dtype=np.int64)
        gd_block(tb, widths, sxx, syx, tr_syy, mu, lr, steps, every, uq, pq,
                 (loss_r[lo:hi], gn_r[lo:hi], wn_r[lo:hi], proj[lo:hi]), st)  # fmt: skip
        for t in range(hi - lo):
            for i in range(n):
                thetas[lo + t, i] = tb[i, t]
            status[lo + t, 0] = st[t, 0]
            status[lo + t, 1] = st[t, 1]
