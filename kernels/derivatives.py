"""Product, loss, gradient, Hessian-vector product and full Hessian kernels.

Conventions (docs/theory.md): theta holds vec(W_1), ..., vec(W_H) row-major; layer
k (0-based here) has shape (widths[k+1], widths[k]); sxx is (dx, dx), syx is
(dy, dx). Loss l = 1/2 tr Syy - tr(W Syx^T) + 1/2 tr(W Sxx W^T) + mu/2 |theta|^2.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import jit
from .linalg import layer_factors, left_products, mm, offsets_of, right_products
from .spectra import hvp_apply, hvp_primal


@jit()
def product(theta, widths, residual):
    """End-to-end map F_{H-1} ... F_0, shape (dy, dx)."""
    fs = layer_factors(theta, widths, residual)
    return left_products(fs, widths[0])[-1]


@jit()
def loss(theta, widths, sxx, syx, tr_syy, residual, mu):
    """The loss (docs/theory.md) plus mu/2 |theta|^2."""
    w = product(theta, widths, residual)
    ws = mm(w, sxx)
    total = 0.5 * tr_syy
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            total += w[i, j] * (0.5 * ws[i, j] - syx[i, j])
    if mu != 0.0:
        total += 0.5 * mu * np.dot(theta, theta)
    return total


@jit()
def gradient(theta, widths, sxx, syx, residual, mu, out):
    """Write dl/dtheta into out (N,): layer k gets R_k^T G L_k^T + mu W_k."""
    loss_gradient(theta, widths, sxx, syx, 0.0, residual, mu, out)
    return out


@jit()
def loss_gradient(theta, widths, sxx, syx, tr_syy, residual, mu, out):
    """Return the loss and write its gradient into out, from one set of layer products.

    With G = W Sxx - Syx the loss is 1/2 tr Syy + 1/2 sum W o (G - Syx) (+ mu/2 |theta|^2).
    """
    fs = layer_factors(theta, widths, residual)
    ls = left_products(fs, widths[0])
    rs = right_products(fs, widths[-1])
    g = mm(ls[-1], sxx) - syx
    off = offsets_of(widths)
    H = len(fs)
    for k in range(H):
        # R_k = I for the last layer and L_k = I for the first: skip those products
        rg = g if k == H - 1 else mm(rs[k].T, g)
        blk = rg if k == 0 else mm(rg, ls[k].T)
        for a in range(blk.shape[0]):
            for b in range(blk.shape[1]):
                i = off[k] + a * blk.shape[1] + b
                out[i] = blk[a, b] + mu * theta[i]
    w = ls[-1]
    total = 0.5 * tr_syy
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            total += 0.5 * w[i, j] * (g[i, j] - syx[i, j])
    if mu != 0.0:
        total += 0.5 * mu * np.dot(theta, theta)
    return total


@jit()
def hvp(theta, widths, sxx, syx, residual, mu, v, out):
    """Write H v into out (N,) by forward-mode differentiation of the gradient.

    The kernel of the spectra tools (``kernels.spectra``: 2H - 1 v-independent
    products, then 6H - 5 per vector), for callers that need one product at a time:
    O(H d^3) work, no N x N memory.
    """
    buf, poff = hvp_primal(theta, widths, sxx, syx, residual)
    vt = np.ascontiguousarray(v).reshape((1, v.size))
    res = np.empty((1, v.size))
    hvp_apply(theta, widths, sxx, buf, poff, mu, False, vt, res)
    out[:] = res[0]
    return out


@jit()
def _put(dst, start, src, transpose):
    """Write src (or src.T) row-major into dst[start:] (explicit loops compile fast)."""
    m, n = src.shape
    if transpose:
        for j in range(n):
            for i in range(m):
                dst[start + j * m + i] = src[i, j]
    else:
        for i in range(m):
            for j in range(n):
                dst[start + i * n + j] = src[i, j]


@jit()
def hessian_pack(theta, widths, sxx, syx, residual):
    """docs/theory.md's Hessian blocks, computed directly into flat buffers.

    Returns flat float64 buffers ``A, B, U, V`` and int64 offsets ``oa, ob, ou, ov``
    (pair index i = k * H + l, block i is ``X[ox[i]:ox[i + 1]]`` row-major). The
    entry between W_k[a, b] and W_l[c, e] is

        A_kl[a, c] * B_kl[b, e] + U_kl[b, c] * V_kl[a, e]      (U, V only for k != l)

    with A_kl = R_k^T R_l (d_k, d_l), B_kl = L_k Sxx L_l^T (d_(k-1), d_(l-1)) and
    U_kl = res_p[k, l]^T, V_kl = res_m[k, l] for k < l, U_kl = res_m[l, k]^T,
    V_kl = res_p[l, k] for k > l. Every row of a block is contiguous, so a Hessian
    row is a sum of two outer products written with unit stride.
    """
    fs = layer_factors(theta, widths, residual)
    H = len(fs)
    ls = left_products(fs, widths[0])
    rs = right_products(fs, widths[-1])
    g = mm(ls[-1], sxx) - syx
    oa = np.zeros(H * H + 1, dtype=np.int64)
    ob = np.zeros(H * H + 1, dtype=np.int64)
    ou = np.zeros(H * H + 1, dtype=np.int64)
    ov = np.zeros(H * H + 1, dtype=np.int64)
    for k in range(H):
        for l in range(H):
            i = k * H + l
            oa[i + 1] = oa[i] + widths[k + 1] * widths[l + 1]
            ob[i + 1] = ob[i] + widths[k] * widths[l]
            ou[i + 1] = ou[i]
            ov[i + 1] = ov[i]
            if k != l:
                ou[i + 1] += widths[k] * widths[l + 1]
                ov[i + 1] += widths[k + 1] * widths[l]
    A = np.empty(oa[-1])
    B = np.empty(ob[-1])
    U = np.empty(max(ou[-1], 1))
    V = np.empty(max(ov[-1], 1))
    for k in range(H):
        rkt = np.ascontiguousarray(rs[k].T)
        lsx = mm(ls[k], sxx)
        lg = mm(ls[k], np.ascontiguousarray(g.T))  # L_k G^T: U_kl = L_k G^T R_l for k < l
        rg = mm(rkt, g)  # R_k^T G: V_kl = R_k^T G L_l^T for k > l
        for l in range(H):
            i = k * H + l
            _put(A, oa[i], mm(rkt, rs[l]), False)
            _put(B, ob[i], mm(lsx, np.ascontiguousarray(ls[l].T)), False)
            if l > k:
                _put(U, ou[i], mm(lg, rs[l]), False)
            elif l < k:
                _put(V, ov[i], mm(rg, np.ascontiguousarray(ls[l].T)), False)
        # V_kl = (F_(l-1) ... F_(k+1))^T for l > k, built up one factor at a time
        m = np.eye(widths[k + 1])
        for l in range(k + 1, H):
            if l > k + 1:
                m = mm(fs[l - 1], m)
            _put(V, ov[k * H + l], m, True)
        # U_kl = F_(k-1) ... F_(l+1) for l < k, built down one factor at a time
        m = np.eye(widths[k])
        for l in range(k - 1, -1, -1):
            if l < k - 1:
                m = mm(m, fs[l + 1])
            _put(U, ou[k * H + l], m, False)
    return A, B, U, V, oa, ob, ou, ov


@jit()
def _fill_row(r, widths, off, mu, A, B, U, V, oa, ob, ou, ov, out):
    """Write row r of the Hessian (parameter W_k[a, b]) into out[r], each entry once.

    Its segment for layer l is the (d_l, d_(l-1)) matrix
    A_kl[a, :] (x) B_kl[b, :] + U_kl[b, :] (x) V_kl[a, :], written through views
    indexed from zero so that Numba's negative-index handling drops out and the
    inner loop vectorises (flat signed indexing does not). A separate
    function, so the parallel loop's body is one call (fast parfor compilation).
    """
    H = widths.size - 1
    row = out[r]
    k = 0
    while off[k + 1] <= r:
        k += 1
    nk = widths[k]
    a = (r - off[k]) // nk
    b = (r - off[k]) - a * nk
    for l in range(H):
        i = k * H + l
        nl = widths[l]
        ml = widths[l + 1]
        blk = row[off[l] : off[l + 1]].reshape((ml, nl))
        arow = A[oa[i] + a * ml : oa[i] + (a + 1) * ml]
        brow = B[ob[i] + b * nl : ob[i] + (b + 1) * nl]
        if l == k:
            for c in range(ml):
                alpha = arow[c]
                for e in range(nl):
                    blk[c, e] = alpha * brow[e]
        else:
            urow = U[ou[i] + b * ml : ou[i] + (b + 1) * ml]
            vrow = V[ov[i] + a * nl : ov[i] + (a + 1) * nl]
            for c in range(ml):
                alpha = arow[c]
                beta = urow[c]
                for e in range(nl):
                    blk[c, e] = alpha * brow[e] + beta * vrow[e]
    row[r] += mu


@jit(parallel=True)
def hessian(theta, widths, sxx, syx, residual, mu, out):
    """Fill out (N, N) with the Hessian, rows in parallel (prange; see _fill_row).

    Each entry is written once; the only allocations are the packed blocks
    (O(H^2 d^2)), never anything N x N.
    """
    A, B, U, V, oa, ob, ou, ov = hessian_pack(theta, widths, sxx, syx, residual)
    off = offsets_of(widths)
    for r in prange(out.shape[0]):
        _fill_row(r, widths, off, mu, A, B, U, V, oa, ob, ou, ov, out)
    return out


@jit()
def hessian_serial(theta, widths, sxx, syx, residual, mu, out):
    """:func:`hessian` on one thread, for callers that parallelise over points.

    A function of its own (not a second build of ``hessian``): one cache entry per
    function and options.
    """
    A, B, U, V, oa, ob, ou, ov = hessian_pack(theta, widths, sxx, syx, residual)
    off = offsets_of(widths)
    for r in range(out.shape[0]):
        _fill_row(r, widths, off, mu, A, B, U, V, oa, ob, ou, ov, out)
    return out
