"""Independent plain-numpy reference for the loss, gradient and Hessian (no fastscape code).

Nothing here reuses the kernels' block formula (docs/theory.md). The constructions are:

* loss: straight from raw data, 1/(2n) sum_i |y_i - W x_i|^2, or from moments,
  1/2 tr Syy - tr(W Syx^T) + 1/2 tr(W Sxx W^T); plus mu/2 |theta|^2.
* Jacobian of the end-to-end map: W = R_k F_k L_k with F_k = W_k (or I + W_k), and in
  row-major vec, vec(A X B) = (A (x) B^T) vec(X), so d vec(W) / d vec(W_k) = R_k (x) L_k^T.
  J = [R_1 (x) L_1^T, ..., R_H (x) L_H^T], shape (dy dx, N), built with np.kron.
* gradient: J^T vec(W Sxx - Syx) + mu theta (chain rule through vec(W)).
* Hessian: Gauss-Newton part J^T (I_dy (x) Sxx) J, plus the second-order part
  d/dtheta_j [J(theta)^T g] at fixed g = vec(W Sxx - Syx), taken by central differences.
  Every entry of J is affine in any single theta_j (each layer appears once in a
  product), so that difference is exact up to rounding for any step; plus mu I.
* finite differences of any function (loss -> gradient, gradient -> Hessian). The loss
  is quadratic in each single theta_j, the gradient at most quadratic, so central
  differences are exact up to rounding and the step only trades rounding error.
"""

from __future__ import annotations

from functools import reduce

import numpy as np


def widths_of(ws):
    return [ws[0].shape[1]] + [w.shape[0] for w in ws]


def flat(ws):
    return np.concatenate([np.asarray(w, dtype=float).reshape(-1) for w in ws])


def split(theta, widths):
    out, o = [], 0
    for k in range(len(widths) - 1):
        m, n = widths[k + 1], widths[k]
        out.append(np.array(theta[o : o + m * n]).reshape(m, n))
        o += m * n
    return out


def factors(ws, residual):
    return [w + np.eye(w.shape[0]) if residual else w for w in ws]


def product(ws, residual=False):
    """W_H ... W_1 by repeated matmul (W_1 applied first)."""
    fs = factors(ws, residual)
    return reduce(lambda acc, f: f @ acc, fs[1:], fs[0])


def loss_data(ws, X, Y, residual=False, mu=0.0):
    """Mean over samples of 1/2 |y - W x|^2, plus mu/2 |theta|^2, from raw data."""
    W = product(ws, residual)
    err = Y - X @ W.T
    return 0.5 * np.mean(np.sum(err * err, axis=1)) + 0.5 * mu * sum(np.sum(w * w) for w in ws)


def loss_moments(ws, sxx, syx, syy, residual=False, mu=0.0):
    """1/2 tr Syy - tr(W Syx^T) + 1/2 tr(W Sxx W^T) + mu/2 |theta|^2."""
    W = product(ws, residual)
    return (
        0.5 * np.trace(syy)
        - np.trace(W @ syx.T)
        + 0.5 * np.trace(W @ sxx @ W.T)
        + 0.5 * mu * sum(np.sum(w * w) for w in ws)
    )


def jacobian(ws, residual=False):
    """d vec(W) / d theta, shape (dy * dx, N), row-major vec, by explicit Kronecker products."""
    fs = factors(ws, residual)
    H = len(fs)
    dx, dy = fs[0].shape[1], fs[-1].shape[0]
    blocks = []
    for k in range(H):
        L = reduce(lambda acc, f: f @ acc, fs[:k], np.eye(dx))  # F_{k-1} ... F_0
        R = reduce(lambda acc, f: acc @ f, fs[k + 1 :][::-1], np.eye(dy))  # F_{H-1} ... F_{k+1}
        blocks.append(np.kron(R, L.T))
    return np.hstack(blocks)


def hessian_blocks(ws, sxx, syx, residual=False):
    """docs/theory.md's named blocks, pair index i = k * H + l: dicts keyed by i.

    gn_r[i] = R_k^T R_l, gn_l[i] = L_k Sxx L_l^T and, for k < l, res_p[i] = R_l^T G L_k^T
    and res_m[i] = (F_(l-1) ... F_(k+1))^T (L_k = F_(k-1)...F_0, R_k = F_(H-1)...F_(k+1)).
    """
    fs = factors(ws, residual)
    H = len(fs)
    dx, dy = fs[0].shape[1], fs[-1].shape[0]
    L = [reduce(lambda acc, f: f @ acc, fs[:k], np.eye(dx)) for k in range(H)]
    R = [reduce(lambda acc, f: acc @ f, fs[k + 1 :][::-1], np.eye(dy)) for k in range(H)]
    G = product(ws, residual) @ sxx - syx
    gn_r, gn_l, res_p, res_m = {}, {}, {}, {}
    for k in range(H):
        for l in range(H):
            i = k * H + l
            gn_r[i] = R[k].T @ R[l]
            gn_l[i] = L[k] @ sxx @ L[l].T
            if k < l:
                res_p[i] = R[l].T @ G @ L[k].T
                chain = reduce(lambda acc, f: f @ acc, fs[k + 1 : l], np.eye(fs[k].shape[0]))
                res_m[i] = chain.T
    return gn_r, gn_l, res_p, res_m


def gradient(ws, sxx, syx, residual=False, mu=0.0):
    """Flat gradient J^T vec(W Sxx - Syx) + mu theta."""
    W = product(ws, residual)
    g = (W @ sxx - syx).reshape(-1)
    return jacobian(ws, residual).T @ g + mu * flat(ws)


def hessian(ws, sxx, syx, residual=False, mu=0.0, parts=False):
    """Full Hessian: J^T (I (x) Sxx) J + d(J^T g)/dtheta at fixed g (exact differences) + mu I.

    With ``parts=True`` return (Gauss-Newton part, second-order part, mu I) separately,
    so tests can scale tolerances by the size of the terms that were summed.
    """
    widths = widths_of(ws)
    theta = flat(ws)
    n = theta.size
    J = jacobian(ws, residual)
    dy = widths[-1]
    gn = J.T @ np.kron(np.eye(dy), sxx) @ J
    g = (product(ws, residual) @ sxx - syx).reshape(-1)
    h = max(1.0, float(np.sqrt(np.mean(theta * theta))))
    second = np.empty((n, n))
    for j in range(n):
        tp = theta.copy()
        tm = theta.copy()
        tp[j] += h
        tm[j] -= h
        jp = jacobian(split(tp, widths), residual)
        jm = jacobian(split(tm, widths), residual)
        second[:, j] = (jp.T @ g - jm.T @ g) / (2 * h)
    if parts:
        return gn, second, mu * np.eye(n)
    return gn + second + mu * np.eye(n)


def central_differences(f, theta, h):
    """Jacobian of f: R^N -> R^m (or R) by central differences with step h, shape (m, N)."""
    cols = []
    for j in range(theta.size):
        tp = theta.copy()
        tm = theta.copy()
        tp[j] += h
        tm[j] -= h
        cols.append((np.asarray(f(tp), dtype=float) - np.asarray(f(tm), dtype=float)) / (2 * h))
    return np.stack(cols, axis=-1)
