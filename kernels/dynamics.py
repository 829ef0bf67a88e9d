"""Gradient descent, gradient flow and SGD loops of a deep linear network, whole runs compiled.

Every loop here works on the flat parameter vector theta (vec(W_1), ..., vec(W_H),
row-major) with explicit index arithmetic, and every small matrix product is an
explicit triple loop that accumulates over the inner index in ascending order. The
kernels are compiled without fastmath (no reassociation, no fused multiply-add), so
the arithmetic is exactly that of the plain-numpy loop in tests/dynamics_reference.py,
bit for bit, and independent of the BLAS build and of the thread count.

Layer k (0-based) maps width d_k to d_(k+1); its factor is F_k = W_k (or I + W_k
when residual). With L_0 = I, L_(k+1) = F_k L_k, W = L_H, G = W Sxx - Syx,
B_(H-1) = G and B_k = F_(k+1)^T B_(k+1), the gradient of layer k is B_k L_k^T (+ mu W_k).
"""

from __future__ import annotations

import numpy as np

from ._jit import jit


@jit(fastmath=False)
def _mm(a, oa, b, ob, c, oc, m, kk, n, ta, tb):
    """c[oc:] = op(a) @ op(b), flat row-major; op(a) is (m, kk), op(b) is (kk, n).

    a is stored (m, kk) (or (kk, m) when ta), b (kk, n) (or (n, kk) when tb); every entry
    accumulates over the inner index in ascending order.
    """
    for i in range(m):
        for j in range(n):
            c[oc + i * n + j] = 0.0
        for k in range(kk):
            aik = a[oa + k * m + i] if ta else a[oa + i * kk + k]
            for j in range(n):
                bkj = b[ob + j * kk + k] if tb else b[ob + k * n + j]
                c[oc + i * n + j] += aik * bkj


@jit(fastmath=False)
def offsets(widths):
    """(off, loff): off[k] starts layer k in theta (off[H] = N); loff[k] starts L_(k+1)
    (d_(k+1), d_0) in the left buffer and B_k (same shape) in the backward buffer."""
    H = widths.size - 1
    off = np.zeros(H + 1, dtype=np.int64)
    loff = np.zeros(H + 1, dtype=np.int64)
    for k in range(H):
        off[k + 1] = off[k] + widths[k + 1] * widths[k]
        loff[k + 1] = loff[k] + widths[k + 1] * widths[0]
    return off, loff


@jit(fastmath=False)
def buffers(widths):
    """Offsets and scratch of loss_grad: (off, loff, fs, lbuf, bbuf, ws, grad)."""
    off, loff = offsets(widths)
    H = widths.size - 1
    n = off[H]
    return (
        off,
        loff,
        np.empty(n),
        np.empty(loff[H]),
        np.empty(loff[H]),
        np.empty(widths[H] * widths[0]),
        np.empty(n),
    )


@jit(fastmath=False)
def loss_grad(theta, fs, widths, off, loff, sxx, syx, tr_syy, residual, mu, lbuf, bbuf, ws, grad):
    """Loss at theta; writes its gradient into grad and returns (loss, |grad|^2).

    fs is scratch for the factors (used only when residual), lbuf / bbuf hold L_k and
    B_k, ws holds W Sxx (dy, dx).
    """
    H = widths.size - 1
    dx = widths[0]
    dy = widths[H]
    f = theta
    if residual:
        for i in range(theta.size):
            fs[i] = theta[i]
        for k in range(H):
            for i in range(widths[k]):
                fs[off[k] + i * widths[k] + i] += 1.0
        f = fs
    # forward: L_1 = F_0, L_(k+1) = F_k L_k
    for i in range(widths[1] * dx):
        lbuf[i] = f[i]
    for k in range(1, H):
        _mm(f, off[k], lbuf, loff[k - 1], lbuf, loff[k], widths[k + 1], widths[k], dx, False, False)
    wo = loff[H - 1]  # W = L_H
    _mm(lbuf, wo, sxx.ravel(), 0, ws, 0, dy, dx, dx, False, False)
    sy = syx.ravel()
    total = 0.5 * tr_syy
    for i in range(dy * dx):
        total += lbuf[wo + i] * (0.5 * ws[i] - sy[i])
        bbuf[wo + i] = ws[i] - sy[i]  # B_(H-1) = G
    # backward: B_k = F_(k+1)^T B_(k+1); gradient of layer k = B_k L_k^T
    for k in range(H - 2, -1, -1):
        _mm(
            f,
            off[k + 1],
            bbuf,
            loff[k + 1],
            bbuf,
            loff[k],
            widths[k + 1],
            widths[k + 2],
            dx,
            True,
            False,
        )
    for i in range(widths[1] * dx):
        grad[i] = bbuf[i]
    for k in range(1, H):
        _mm(
            bbuf,
            loff[k],
            lbuf,
            loff[k - 1],
            grad,
            off[k],
            widths[k + 1],
            dx,
            widths[k],
            False,
            True,
        )
    if mu != 0.0:
        sq = 0.0
        for i in range(theta.size):
            sq += theta[i] * theta[i]
            grad[i] += mu * theta[i]
        total += 0.5 * mu * sq
    gn = 0.0
    for i in range(theta.size):
        gn += grad[i] * grad[i]
    return total, gn


@jit(fastmath=False)
def _record(lbuf, wo, dx, dy, uq, pq, out, r, loss, gn):
    """Write record r: loss, |grad|, |W|^2, proj[r, i] = u_i^T W P[:, i] (P = W*^T U_q)
    and, when prod has rows, prod[r] = vec(W)."""
    loss_r, gn_r, wn_r, proj, prod = out[0], out[1], out[2], out[3], out[4]
    loss_r[r] = loss
    gn_r[r] = np.sqrt(gn)
    wn = 0.0
    for i in range(dy * dx):
        wn += lbuf[wo + i] * lbuf[wo + i]
    wn_r[r] = wn
    q = uq.shape[1]
    for i in range(q):
        acc = 0.0
        for a in range(dy):
            row = 0.0
            for b in range(dx):
                row += lbuf[wo + a * dx + b] * pq[b, i]
            acc += uq[a, i] * row
        proj[r, i] = acc
    if prod.shape[0] > 0:
        for i in range(dy * dx):
            prod[r, i] = lbuf[wo + i]


@jit(fastmath=False)
def gd_run(theta, widths, sxx, syx, tr_syy, residual, mu, lr, steps, every, uq, pq, out):
    """Full-batch GD for `steps` steps from theta (updated in place).

    out = (loss, gnorm, wnorm, proj, prod, rec_steps): records at step 0, every
    `every` steps and at the last step. Stops at the first non-finite loss or
    gradient (theta then holds the last finite point). Returns (records, diverged_at)
    with diverged_at = -1 when the run finished.
    """
    rec_steps = out[5]
    H = widths.size - 1
    dx = widths[0]
    dy = widths[H]
    off, loff, fs, lbuf, bbuf, ws, grad = buffers(widths)
    n = theta.size
    prev = theta.copy()
    wo = loff[H - 1]
    r = 0
    for t in range(steps + 1):
        loss, gn = loss_grad(
            theta, fs, widths, off, loff, sxx, syx, tr_syy, residual, mu, lbuf, bbuf, ws, grad
        )
        if not (np.isfinite(loss) and np.isfinite(gn)):
            for i in range(n):
                theta[i] = prev[i]  # back to the last finite point
            return r, t
        if t % every == 0 or t == steps:
            _record(lbuf, wo, dx, dy, uq, pq, out, r, loss, gn)
            rec_steps[r] = t
            r += 1
        if t == steps:
            break
        for i in range(n):
            prev[i] = theta[i]
            theta[i] -= lr * grad[i]
    return r, -1


# Dormand & Prince (1980) 5(4) tableau

DP_A = np.array(
    [
        [0, 0, 0, 0, 0, 0],
        [1 / 5, 0, 0, 0, 0, 0],
        [3 / 40, 9 / 40, 0, 0, 0, 0],
        [44 / 45, -56 / 15, 32 / 9, 0, 0, 0],
        [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729, 0, 0],
        [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656, 0],
        [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
    ]
)
DP_E = np.array(
    [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40],
)


@jit(fastmath=False)
def flow_run(theta, widths, sxx, syx, tr_syy, residual, mu, times, rtol, atol, a, e, uq, pq, out):
    """Integrate d theta / dt = -grad with Dormand-Prince 5(4), landing on every time in times.

    Local error control per step: max_i |err_i| / (atol + rtol max(|y_i|, |y_new_i|)) <= 1.
    out = (loss, gnorm, wnorm, proj, prod, counts); records at times[r]. Returns
    (records, stopped_at_time_index or -1); counts = [accepted, rejected, evaluations].
    """
    counts = out[5]
    H = widths.size - 1
    dx = widths[0]
    dy = widths[H]
    off, loff, fs, lbuf, bbuf, ws, _ = buffers(widths)
    n = theta.size
    wo = loff[H - 1]
    k = np.empty((7, n))
    y = np.empty(n)
    ynew = np.empty(n)
    t = times[0]
    loss, gn = loss_grad(
        theta, fs, widths, off, loff, sxx, syx, tr_syy, residual, mu, lbuf, bbuf, ws, k[0]
    )
    evals = 1
    h = 0.0
    nrec = len(times)
    for r in range(nrec):
        # integrate from t to times[r]
        while t < times[r]:
            if h == 0.0:
                h = 0.01 * (1.0 + np.sqrt(tr_syy)) / (1.0 + np.sqrt(gn))
            hh = min(h, times[r] - t)
            for i in range(n):
                y[i] = theta[i]
            for s in range(1, 7):
                for i in range(n):
                    acc = y[i]
                    for j in range(s):
                        acc -= hh * a[s, j] * k[j, i]
                    ynew[i] = acc
                loss, gn = loss_grad(
                    ynew,
                    fs,
                    widths,
                    off,
                    loff,
                    sxx,
                    syx,
                    tr_syy,
                    residual,
                    mu,
                    lbuf,
                    bbuf,
                    ws,
                    k[s],
                )
                evals += 1
            err = 0.0
            for i in range(n):
                ei = 0.0
                for j in range(7):
                    ei += e[j] * k[j, i]
                sc = atol + rtol * max(abs(y[i]), abs(ynew[i]))
                v = abs(hh * ei) / sc
                if not (v <= err):
                    err = v if np.isfinite(v) else np.inf
            if not np.isfinite(loss) or not np.isfinite(err):
                if hh < 1e-300:
                    counts[2] = evals
                    return r, r
                h = 0.1 * hh
                counts[1] += 1
                continue
            if err <= 1.0:
                t = t + hh if hh < times[r] - t else times[r]
                for i in range(n):
                    theta[i] = ynew[i]
                    k[0, i] = k[6, i]  # first same as last
                counts[0] += 1
                fac = 5.0 if err == 0.0 else min(5.0, 0.9 * err ** (-0.2))
                if hh == h:
                    h = hh * fac
            else:
                counts[1] += 1
                h = hh * max(0.2, 0.9 * err ** (-0.2))
            if h < 1e-14 * max(abs(t), 1.0):
                counts[2] = evals
                return r, r
        # record at times[r]: theta is the current state, k[0] its gradient
        loss, gn = loss_grad(
            theta, fs, widths, off, loff, sxx, syx, tr_syy, residual, mu, lbuf, bbuf, ws, k[0]
        )
        evals += 1
        if not (np.isfinite(loss) and np.isfinite(gn)):
            counts[2] = evals
            return r, r
        _record(lbuf, wo, dx, dy, uq, pq, out, r, loss, gn)
    counts[2] = evals
    return nrec, -1


@jit(fastmath=False)
def sgd_run(theta, widths, X, Y, order, bounds, sxx, syx, tr_syy, mu, lr, every, uq, pq, out):
    """Minibatch SGD: step b uses the rows order[bounds[b]:bounds[b + 1]] of X and Y.

    Each step forms the minibatch moments and takes one step on their loss (plus
    weight decay). Records the full-data loss (sxx, syx, tr_syy) like gd_run: at step
    0, every `every` steps and at the last step. Returns (records, diverged_at).
    """
    rec_steps = out[5]
    H = widths.size - 1
    dx = widths[0]
    dy = widths[H]
    off, loff, fs, lbuf, bbuf, ws, grad = buffers(widths)
    n = theta.size
    bx = np.zeros((dx, dx))
    by = np.zeros((dy, dx))
    prev = theta.copy()
    wo = loff[H - 1]
    steps = bounds.size - 1
    r = 0
    for t in range(steps + 1):
        if t % every == 0 or t == steps:
            loss, gn = loss_grad(
                theta, fs, widths, off, loff, sxx, syx, tr_syy, False, mu, lbuf, bbuf, ws, grad
            )
            if not (np.isfinite(loss) and np.isfinite(gn)):
                for i in range(n):
                    theta[i] = prev[i]
                return r, t
            _record(lbuf, wo, dx, dy, uq, pq, out, r, loss, gn)
            rec_steps[r] = t
            r += 1
        if t == steps:
            break
        lo = bounds[t]
        hi = bounds[t + 1]
        inv = 1.0 / (hi - lo)
        bx[:] = 0.0
        by[:] = 0.0
        for s in range(lo, hi):
            row = order[s]
            for i in range(dx):
                xi = X[row, i] * inv
                for j in range(dx):
                    bx[i, j] += xi * X[row, j]
            for i in range(dy):
                yi = Y[row, i] * inv
                for j in range(dx):
                    by[i, j] += yi * X[row, j]
        loss, gn = loss_grad(
            theta, fs, widths, off, loff, bx, by, 0.0, False, mu, lbuf, bbuf, ws, grad
        )
        if not (np.isfinite(loss) and np.isfinite(gn)):
            for i in range(n):
                theta[i] = prev[i]
            return r, t
        for i in range(n):
            prev[i] = theta[i]
            theta[i] -= lr * grad[i]
    return r, -1
