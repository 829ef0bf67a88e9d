"""Seeded random gauges: points moved along their symmetry orbits (a leaf module).

The loss is invariant under W_k -> G_k W_k G_(k-1)^-1 for invertible G_k (G_0 = I,
G_H = I); with weight decay only orthogonal G_k keep it (Baldi and Hornik, 1989, for
two layers). These helpers draw the G_k from a numpy Generator.
"""

from __future__ import annotations

import numpy as np


def random_invertible(rng: np.random.Generator, p: int, *, orthogonal: bool) -> np.ndarray:
    """A random (p, p) matrix: orthogonal Q, or Q_1 D Q_2 (singular values in [e^-.5, e^.5])."""
    q1, _ = np.linalg.qr(rng.standard_normal((p, p)))
    if orthogonal:
        return q1
    q2, _ = np.linalg.qr(rng.standard_normal((p, p)))
    return (q1 * np.exp(rng.uniform(-0.5, 0.5, p))) @ q2


def random_layer_gauge(ws: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """W_k -> G_k W_k G_(k-1)^-1, random G_k = Q_1 D Q_2 (singular values in [1/2, 2])."""
    gs: list[np.ndarray | None] = [None]
    for x in ws[:-1]:
        d = x.shape[0]
        q1 = np.linalg.qr(rng.standard_normal((d, d)))[0]
        q2 = np.linalg.qr(rng.standard_normal((d, d)))[0]
        gs.append(q1 @ np.diag(np.exp(rng.uniform(-0.7, 0.7, d))) @ q2)  # condition <= 4
    gs.append(None)
    out = []
    for k, x in enumerate(ws):
        a = np.array(x, dtype=float)
        g_in, g_out = gs[k], gs[k + 1]
        if g_in is not None:
            a = a @ np.linalg.inv(g_in)
        if g_out is not None:
            a = g_out @ a
        out.append(a)
    return out
