"""Kernels for the Hessian at scale: exact block quantities and a fast batched HVP.

Conventions as in ``kernels.derivatives``: theta holds vec(W_1), ..., vec(W_H)
row-major, layer k (0-based) has shape (widths[k+1], widths[k]), F_k = W_k (or
I + W_k when residual). With L_k = F_(k-1) ... F_0 (L_0 = I), R_k = F_(H-1) ... F_(k+1)
(R_(H-1) = I), G = L_H Sxx - Syx and D_k = R_k^T G (the back-propagated residual,
D_(H-1) = G) the gradient of layer k is D_k L_k^T.

Hessian-vector product by forward-mode differentiation of that gradient along V
(the same recursions as the gradient, differentiated once):

    dL_1 = V_0,   dL_(k+1) = V_k L_k + F_k dL_k             2 products per layer
    dG = dL_H Sxx                                            1 product
    dD_(H-1) = dG,  dD_k = V_(k+1)^T D_(k+1) + F_(k+1)^T dD_(k+1)   2 per layer
    (H v)_k = dD_k L_k^T + D_k dL_k^T  (+ mu V_k)            2 per layer, 0 for k = 0

that is 6H - 5 matrix products per vector once the v-independent primal pieces
(L_k, D_k: 2H - 1 products) are known; ``hvp_primal`` computes those once per point
and ``hvp_apply`` reuses them for any number of vectors.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import jit
from .linalg import layer_factors, left_products, mm, offsets_of, right_products


@jit()
def layer_grams(theta, widths, sxx, residual):
    """The Kronecker factors of every diagonal block, packed row-major.

    Returns (A, B): A holds R_k^T R_k (d_(k+1) x d_(k+1)) for k = 0..H-1 one after the
    other, B holds L_k Sxx L_k^T (d_k x d_k). H_kk = A_k (x) B_k (+ mu I).
    """
    fs = layer_factors(theta, widths, residual)
    H = len(fs)
    ls = left_products(fs, widths[0])
    rs = right_products(fs, widths[-1])
    na = 0
    nb = 0
    for k in range(H):
        na += widths[k + 1] * widths[k + 1]
        nb += widths[k] * widths[k]
    A = np.empty(na)
    B = np.empty(nb)
    ia = 0
    ib = 0
    for k in range(H):
        a = mm(np.ascontiguousarray(rs[k].T), rs[k])
        b = mm(mm(ls[k], sxx), np.ascontiguousarray(ls[k].T))
        A[ia : ia + a.size] = a.ravel()
        B[ib : ib + b.size] = b.ravel()
        ia += a.size
        ib += b.size
    return A, B


@jit()
def frobenius_parts(theta, widths, sxx, syx, residual):
    """Squared Frobenius norms of the Hessian's blocks, without weight decay.

    Returns an (H, H) array F with F[k, l] = |H_kl|_F^2 (symmetric). For k < l the
    block is A (x) B plus the residual part P[c, b] M[e, a] (A = R_k^T R_l,
    B = L_k Sxx L_l^T, P = R_l^T G L_k^T, M = F_(l-1) ... F_(k+1)), so
    |H_kl|^2 = |A|^2 |B|^2 + |P|^2 |M|^2 + 2 tr(A P B M).
    """
    fs = layer_factors(theta, widths, residual)
    H = len(fs)
    ls = left_products(fs, widths[0])
    rs = right_products(fs, widths[-1])
    g = mm(ls[-1], sxx) - syx
    out = np.zeros((H, H))
    lsx = []
    rg = []
    rst = []
    for k in range(H):
        lsx.append(mm(ls[k], sxx))
        rst.append(np.ascontiguousarray(rs[k].T))
        rg.append(mm(np.ascontiguousarray(rs[k].T), g))
    for k in range(H):
        lkt = np.ascontiguousarray(ls[k].T)
        # M = F_(l-1) ... F_(k+1), built up one factor at a time
        m = np.eye(widths[k + 1])
        for l in range(k, H):
            a = mm(rst[k], rs[l])
            b = mm(lsx[k], np.ascontiguousarray(ls[l].T))
            na = np.sum(a * a)
            nb = np.sum(b * b)
            if l == k:
                out[k, k] = na * nb
                continue
            if l > k + 1:
                m = mm(fs[l - 1], m)
            p = mm(rg[l], lkt)
            ap = mm(a, p)
            bm = mm(b, m)
            cross = np.sum(ap * bm.T)
            val = na * nb + np.sum(p * p) * np.sum(m * m) + 2.0 * cross
            out[k, l] = val
            out[l, k] = val
    return out


@jit()
def hvp_primal(theta, widths, sxx, syx, residual):
    """The v-independent pieces of the HVP, packed: F_k^T, L_k, L_k^T and D_k.

    Returns (buf, off) with piece i at buf[off[i]:off[i+1]] row-major, in the order
    F_0^T..F_(H-1)^T, L_0..L_(H-1), L_0^T..L_(H-1)^T, D_0..D_(H-1), then L_H.
    """
    fs = layer_factors(theta, widths, residual)
    H = len(fs)
    dx = widths[0]
    ls = left_products(fs, dx)
    g = mm(ls[-1], sxx) - syx
    ds = [g]
    for k in range(H - 2, -1, -1):
        ds.append(mm(np.ascontiguousarray(fs[k + 1].T), ds[-1]))
    ds.reverse()
    sizes = np.zeros(4 * H + 1, dtype=np.int64)
    for k in range(H):
        sizes[k] = widths[k + 1] * widths[k]
        sizes[H + k] = widths[k] * dx
        sizes[2 * H + k] = widths[k] * dx
        sizes[3 * H + k] = widths[k + 1] * dx
    sizes[4 * H] = widths[H] * dx
    off = np.zeros(4 * H + 2, dtype=np.int64)
    for i in range(4 * H + 1):
        off[i + 1] = off[i] + sizes[i]
    buf = np.empty(off[-1])
    for k in range(H):
        buf[off[k] : off[k + 1]] = np.ascontiguousarray(fs[k].T).ravel()
        buf[off[H + k] : off[H + k + 1]] = ls[k].ravel()
        buf[off[2 * H + k] : off[2 * H + k + 1]] = np.ascontiguousarray(ls[k].T).ravel()
        buf[off[3 * H + k] : off[3 * H + k + 1]] = ds[k].ravel()
    buf[off[4 * H] : off[4 * H + 1]] = ls[H].ravel()
    return buf, off


@jit()
def _hvp_one(theta, widths, sxx, fs, fts, ls, lts, ds, mu, sxx_identity, vt, outt, j):
    """H v_j into outt[j] (one vector; the pieces come from ``hvp_primal``)."""
    H = widths.size - 1
    off = offsets_of(widths)
    vs = []
    for k in range(H):
        vs.append(vt[j, off[k] : off[k + 1]].copy().reshape((widths[k + 1], widths[k])))
    # forward tangents dL_(k+1), k = 0..H-1 (dls[k] = dL_k, dls[0] unused)
    dls = [np.zeros((1, 1)), vs[0]]
    for k in range(1, H):
        dls.append(mm(vs[k], ls[k]) + mm(fs[k], dls[k]))
    # backward tangents dD_k
    dd = [dls[H].copy() if sxx_identity else mm(dls[H], sxx)]
    for k in range(H - 2, -1, -1):
        dd.append(mm(np.ascontiguousarray(vs[k + 1].T), ds[k + 1]) + mm(fts[k + 1], dd[-1]))
    dd.reverse()
    row = outt[j]
    for k in range(H):
        if k == 0:
            blk = dd[0]
        else:
            blk = mm(dd[k], lts[k]) + mm(ds[k], np.ascontiguousarray(dls[k].T))
        flat = blk.ravel()
        o = off[k]
        for i in range(flat.size):
            row[o + i] = flat[i] + mu * vt[j, o + i]


@jit()
def _unpack(theta, widths, buf, poff, residual):
    """The factors and the packed primal pieces of ``hvp_primal`` as lists of matrices."""
    H = widths.size - 1
    dx = widths[0]
    fs = layer_factors(theta, widths, residual)
    fts = []
    ls = []
    lts = []
    ds = []
    for k in range(H):
        m = widths[k + 1]
        n = widths[k]
        fts.append(buf[poff[k] : poff[k + 1]].reshape((n, m)))
        ls.append(buf[poff[H + k] : poff[H + k + 1]].reshape((n, dx)))
        lts.append(buf[poff[2 * H + k] : poff[2 * H + k + 1]].reshape((dx, n)))
        ds.append(buf[poff[3 * H + k] : poff[3 * H + k + 1]].reshape((m, dx)))
    return fs, fts, ls, lts, ds


@jit()
def hvp_apply(theta, widths, sxx, buf, poff, residual, mu, sxx_identity, vt, outt):
    """Write H v_j into outt[j] for every row v_j of vt (b, N), reusing ``hvp_primal``.

    6H - 5 matrix products per vector (see the module docstring), one fewer when
    ``sxx_identity`` (whitened inputs: dG = dL_H); the factors F_k are re-read from
    theta (plus I when residual), the rest from the packed buffer.
    """
    fs, fts, ls, lts, ds = _unpack(theta, widths, buf, poff, residual)
    for j in range(vt.shape[0]):
        _hvp_one(theta, widths, sxx, fs, fts, ls, lts, ds, mu, sxx_identity, vt, outt, j)
    return outt


@jit(parallel=True)
def hvp_apply_parallel(theta, widths, sxx, buf, poff, residual, mu, sxx_identity, vt, outt):
    """``hvp_apply`` with one vector per thread (call with single-threaded BLAS).

    Each row of outt is written by one iteration from the same operations as the
    serial kernel, so the result does not depend on the thread count.
    """
    fs, fts, ls, lts, ds = _unpack(theta, widths, buf, poff, residual)
    for j in prange(vt.shape[0]):
        _hvp_one(theta, widths, sxx, fs, fts, ls, lts, ds, mu, sxx_identity, vt, outt, j)
    return outt
