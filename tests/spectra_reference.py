"""Plain-numpy references for the spectra tests (no fastscape code, no block formula).

Everything is read off the dense Hessian of tests/reference.py (Jacobian and exact
central differences): trace, diagonal, Frobenius norm, diagonal blocks and their
spectra, extreme eigenvalues, and the Wasserstein-1 distance between two discrete
distributions on the line.
"""

from __future__ import annotations

import numpy as np
import reference as ref


def dense(ws, m, residual=False, mu=0.0):
    return ref.hessian(ws, m.sxx, m.syx, residual, mu)


def block(H, ws, layer):
    """The diagonal block of layer ``layer`` (0-based) cut out of the dense Hessian."""
    sizes = [w.size for w in ws]
    o = int(np.sum(sizes[:layer]))
    return H[o : o + sizes[layer], o : o + sizes[layer]]


def extreme(H, k, which):
    e = np.linalg.eigvalsh(H)
    if which == "largest":
        return e[::-1][:k]
    if which == "smallest":
        return e[:k]
    return e[np.argsort(-np.abs(e), kind="stable")][:k]


def wasserstein1(x, wx, y, wy):
    """W1 between sum wx delta_x and sum wy delta_y (each summing to 1): int |F - G|."""
    pts = np.concatenate([x, y])
    mass = np.concatenate([wx, -np.asarray(wy)])
    order = np.argsort(pts, kind="stable")
    cdf = np.cumsum(mass[order])[:-1]
    return float(np.sum(np.abs(cdf) * np.diff(pts[order])))
