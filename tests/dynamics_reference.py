"""Plain-numpy gradient descent and SGD of a deep linear network (no fastscape code).

The arithmetic follows the compiled loops operation for operation: every matrix
product accumulates over its inner index in ascending order (``mm`` below, a sum of
outer products, never BLAS), sums run left to right (``np.add.accumulate``), and
nothing is fused. Results are therefore equal bit for bit, which the tests assert.
"""

from __future__ import annotations

import numpy as np


def mm(a, b):
    """a @ b accumulated over the inner index in ascending order (exact IEEE steps)."""
    c = np.zeros((a.shape[0], b.shape[1]))
    for k in range(a.shape[1]):
        c = c + a[:, k : k + 1] * b[k : k + 1, :]
    return c


def seqsum(start, values):
    """start + v_0 + v_1 + ..., left to right."""
    return float(np.add.accumulate(np.concatenate([[start], np.ravel(values)]))[-1])


def loss_grad(ws, sxx, syx, tr_syy, mu=0.0, residual=False):
    """(loss, [grad_k], |grad|^2) in the compiled loops' order of operations."""
    fs = [w + np.eye(w.shape[0]) if residual else w for w in ws]
    ls = [fs[0].copy()]  # L_1, ..., L_H
    for f in fs[1:]:
        ls.append(mm(f, ls[-1]))
    w = ls[-1]
    wsxx = mm(w, sxx)
    loss = seqsum(0.5 * tr_syy, w * (0.5 * wsxx - syx))
    bs = [wsxx - syx]  # B_(H-1), ..., B_0
    for f in fs[:0:-1]:
        bs.append(mm(f.T, bs[-1]))
    bs.reverse()
    grads = [bs[0].copy()] + [mm(bs[k], ls[k - 1].T) for k in range(1, len(ws))]
    if mu != 0.0:
        theta = np.concatenate([x.ravel() for x in ws])
        grads = [g + mu * x for g, x in zip(grads, ws, strict=True)]
        loss = loss + 0.5 * mu * seqsum(0.0, theta * theta)
    flat = np.concatenate([g.ravel() for g in grads])
    return loss, grads, seqsum(0.0, flat * flat)


def gd(ws, sxx, syx, tr_syy, *, lr, steps, every=1, mu=0.0, residual=False):
    """Full-batch GD; returns (recorded steps, losses, grad norms, products, final ws)."""
    ws = [np.array(w, dtype=float) for w in ws]
    rec_t, rec_l, rec_g, rec_p = [], [], [], []
    for t in range(steps + 1):
        loss, grads, gn = loss_grad(ws, sxx, syx, tr_syy, mu, residual)
        if t % every == 0 or t == steps:
            rec_t.append(t)
            rec_l.append(loss)
            rec_g.append(np.sqrt(gn))
            fs = [w + np.eye(w.shape[0]) if residual else w for w in ws]
            p = fs[0]
            for f in fs[1:]:
                p = mm(f, p)
            rec_p.append(p)
        if t == steps:
            break
        ws = [w - lr * g for w, g in zip(ws, grads, strict=True)]
    return np.array(rec_t), np.array(rec_l), np.array(rec_g), np.array(rec_p), ws


def sgd(ws, X, Y, batches, sxx, syx, tr_syy, *, lr, every=1, mu=0.0):
    """Minibatch SGD over the given row-index batches; records the full-data loss."""
    ws = [np.array(w, dtype=float) for w in ws]
    rec_t, rec_l = [], []
    steps = len(batches)
    for t in range(steps + 1):
        if t % every == 0 or t == steps:
            rec_t.append(t)
            rec_l.append(loss_grad(ws, sxx, syx, tr_syy, mu)[0])
        if t == steps:
            break
        rows = batches[t]
        inv = 1.0 / len(rows)
        bx = np.zeros((X.shape[1], X.shape[1]))
        by = np.zeros((Y.shape[1], X.shape[1]))
        for row in rows:
            bx = bx + np.outer(X[row] * inv, X[row])
            by = by + np.outer(Y[row] * inv, X[row])
        _, grads, _ = loss_grad(ws, bx, by, 0.0, mu)
        ws = [w - lr * g for w, g in zip(ws, grads, strict=True)]
    return np.array(rec_t), np.array(rec_l), ws
