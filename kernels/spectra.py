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
from .gemm import gemm
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
    """The v-independent pieces of the HVP, packed: F_k, L_k and D_k.

    Returns (buf, off) with piece i at buf[off[i]:off[i+1]] row-major, in the order
    F_0..F_(H-1) (W_k, or I + W_k when residual), L_0..L_(H-1), D_0..D_(H-1), then L_H.
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
    sizes = np.zeros(3 * H + 1, dtype=np.int64)
    for k in range(H):
        sizes[k] = widths[k + 1] * widths[k]
        sizes[H + k] = widths[k] * dx
        sizes[2 * H + k] = widths[k + 1] * dx
    sizes[3 * H] = widths[H] * dx
    off = np.zeros(3 * H + 2, dtype=np.int64)
    for i in range(3 * H + 1):
        off[i + 1] = off[i] + sizes[i]
    buf = np.empty(off[-1])
    for k in range(H):
        buf[off[k] : off[k + 1]] = fs[k].ravel()
        buf[off[H + k] : off[H + k + 1]] = ls[k].ravel()
        buf[off[2 * H + k] : off[2 * H + k + 1]] = ds[k].ravel()
    buf[off[3 * H] : off[3 * H + 1]] = ls[H].ravel()
    return buf, off


@jit()
def _pieces(widths, buf, poff):
    """The packed pieces of ``hvp_primal`` as lists of matrices (views of buf)."""
    H = widths.size - 1
    dx = widths[0]
    fs = []
    ls = []
    ds = []
    for k in range(H):
        m = widths[k + 1]
        n = widths[k]
        fs.append(buf[poff[k] : poff[k + 1]].reshape((m, n)))
        ls.append(buf[poff[H + k] : poff[H + k + 1]].reshape((n, dx)))
        ds.append(buf[poff[2 * H + k] : poff[2 * H + k + 1]].reshape((m, dx)))
    return fs, ls, ds


@jit()
def _tangents(widths, vrow, outrow, sxx_identity):
    """Views of one vector's layers, of its output's layers, and the tangent buffers.

    dls[k] = dL_k (dls[0] unused, dls[1] = V_0 itself); dd[k] = dD_k, with
    dd[H-1] = dG (dL_H itself when Sxx = I) and dd[0] = (H v)_0, written in place.
    """
    H = widths.size - 1
    dx = widths[0]
    off = offsets_of(widths)
    vs = []
    outs = []
    for k in range(H):
        shape = (widths[k + 1], widths[k])
        vs.append(vrow[off[k] : off[k + 1]].reshape(shape))
        outs.append(outrow[off[k] : off[k + 1]].reshape(shape))
    dls = [vs[0], vs[0]]
    for k in range(2, H + 1):
        dls.append(np.empty((widths[k], dx)))
    dd = []
    for k in range(H):
        dd.append(outs[0] if k == 0 else np.empty((widths[k + 1], dx)))
    if H == 1:
        dd[0] = outs[0]
    elif sxx_identity:
        dd[H - 1] = dls[H]
    return vs, outs, dls, dd


@jit()
def _stage(s, lo_part, parts, sxx, fs, ls, ds, vs, outs, dls, dd, sxx_identity):
    """Rows of part ``lo_part`` (of ``parts``) of stage s of the HVP of one vector.

    Stages (H layers): s = 0..H-2 forward, dL_(s+2) = V_(s+1) L_(s+1) + F_(s+1) dL_(s+1);
    s = H-1: dG = dL_H Sxx; s = H..2H-2 backward, k = 2H-2-s,
    dD_k = V_(k+1)^T D_(k+1) + F_(k+1)^T dD_(k+1) (dD_0 is (H v)_0); s = 2H-1..3H-3
    outputs, k = s-2H+2, (H v)_k = dD_k L_k^T + D_k dL_k^T. Each stage writes only its
    own rows of one array: the parts of a stage can run on different threads.
    """
    H = len(fs)
    if s < H - 1:
        k = s + 1
        out = dls[k + 1]
        lo, hi = _part(out.shape[0], lo_part, parts)
        gemm(False, False, 1.0, vs[k], ls[k], 0.0, out, lo, hi)
        gemm(False, False, 1.0, fs[k], dls[k], 1.0, out, lo, hi)
    elif s == H - 1:
        if sxx_identity and H > 1:
            return
        out = dd[H - 1]
        lo, hi = _part(out.shape[0], lo_part, parts)
        gemm(False, False, 1.0, dls[H], sxx, 0.0, out, lo, hi)
    elif s < 2 * H - 1:
        k = 2 * H - 2 - s
        out = dd[k]
        lo, hi = _part(out.shape[0], lo_part, parts)
        gemm(True, False, 1.0, vs[k + 1], ds[k + 1], 0.0, out, lo, hi)
        gemm(True, False, 1.0, fs[k + 1], dd[k + 1], 1.0, out, lo, hi)
    else:
        k = s - 2 * H + 2
        out = outs[k]
        lo, hi = _part(out.shape[0], lo_part, parts)
        gemm(False, True, 1.0, dd[k], ls[k], 0.0, out, lo, hi)
        gemm(False, True, 1.0, ds[k], dls[k], 1.0, out, lo, hi)


@jit()
def _part(rows, i, parts):
    """Row range of part i when ``rows`` rows are cut into ``parts`` near-equal parts."""
    return (rows * i) // parts, (rows * (i + 1)) // parts


@jit()
def _add_decay(outrow, vrow, mu):
    if mu != 0.0:
        for i in range(outrow.size):
            outrow[i] += mu * vrow[i]


@jit()
def _hvp_serial(sxx, fs, ls, ds, mu, sxx_identity, vrow, outrow, widths):
    """H v for one vector on the calling thread (3H - 2 stages, see ``_stage``)."""
    H = len(fs)
    vs, outs, dls, dd = _tangents(widths, vrow, outrow, sxx_identity)
    for s in range(3 * H - 2):
        _stage(s, 0, 1, sxx, fs, ls, ds, vs, outs, dls, dd, sxx_identity)
    _add_decay(outrow, vrow, mu)


@jit()
def hvp_apply(theta, widths, sxx, buf, poff, mu, sxx_identity, vt, outt):
    """Write H v_j into outt[j] for every row v_j of vt (b, N), reusing ``hvp_primal``.

    6H - 5 matrix products per vector (module docstring), one fewer when
    ``sxx_identity`` (whitened inputs: dG = dL_H), each a direct ``dgemm`` call
    (``kernels.gemm``: transposed operands read in place, the second product of each
    pair accumulated into the first's output, results written straight into outt).
    """
    fs, ls, ds = _pieces(widths, buf, poff)
    for j in range(vt.shape[0]):
        _hvp_serial(sxx, fs, ls, ds, mu, sxx_identity, vt[j], outt[j], widths)
    return outt


@jit(parallel=True)
def hvp_apply_parallel(theta, widths, sxx, buf, poff, mu, sxx_identity, vt, outt):
    """``hvp_apply`` with one vector per thread (call with single-threaded BLAS).

    Each row of outt is written by one iteration from the same operations as the
    serial kernel, so the result does not depend on the thread count.
    """
    fs, ls, ds = _pieces(widths, buf, poff)
    for j in prange(vt.shape[0]):
        _hvp_serial(sxx, fs, ls, ds, mu, sxx_identity, vt[j], outt[j], widths)
    return outt


@jit(parallel=True)
def hvp_apply_split(theta, widths, sxx, buf, poff, mu, sxx_identity, vt, outt, parts):
    """``hvp_apply`` with every product's rows cut into ``parts`` run side by side.

    The vectors (rows of vt) are taken one after the other; within one, stage by stage
    (``_stage``), the parts of a stage run on different threads, each writing its own
    rows of the stage's output. ``parts`` is fixed by the caller, not by the thread
    count, so the result does not depend on the thread count.
    """
    fs, ls, ds = _pieces(widths, buf, poff)
    H = len(fs)
    for j in range(vt.shape[0]):
        vs, outs, dls, dd = _tangents(widths, vt[j], outt[j], sxx_identity)
        for s in range(3 * H - 2):
            for i in prange(parts):
                _stage(s, i, parts, sxx, fs, ls, ds, vs, outs, dls, dd, sxx_identity)
        _add_decay(outt[j], vt[j], mu)
    return outt


@jit()
def _norm(x):
    acc = 0.0
    for i in range(x.size):
        acc += x[i] * x[i]
    return np.sqrt(acc)


@jit()
def _cgs(basis, w):
    """w -= basis^T (basis w): one classical Gram-Schmidt pass (two BLAS gemv)."""
    c = np.dot(basis, w)
    w -= np.dot(c, basis)


@jit(parallel=True)
def lanczos_steps(q, rows, j, w, beta_prev, alphas, betas):
    """Step j of the Lanczos recurrences of probes ``rows`` (one probe per thread).

    q is (probes, steps, N), q[r, :j+1] the orthonormal basis of probe r; w[i] holds
    H q[rows[i], j] and becomes the next residual: minus alpha q_j and beta_prev[i]
    q_(j-1) (three-term recurrence), then one classical Gram-Schmidt pass against the
    whole basis and a second when the first removed most of it (norm below 0.7 of
    what it was; Daniel, Gragg, Kaufman & Stewart 1976). Writes alphas[i] and the new
    norm betas[i]. Probes are independent: one per iteration, disjoint outputs.
    """
    for i in prange(rows.size):
        r = rows[i]
        wi = w[i]
        qj = q[r, j]
        a = np.dot(wi, qj)
        wi -= a * qj
        if j > 0:
            wi -= beta_prev[i] * q[r, j - 1]
        before = _norm(wi)
        basis = q[r, : j + 1]
        _cgs(basis, wi)
        beta = _norm(wi)
        if beta < 0.7 * before:
            _cgs(basis, wi)
            beta = _norm(wi)
        alphas[i] = a
        betas[i] = beta
    return 0
