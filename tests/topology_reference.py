"""Plain-numpy helpers for the topology tests (no fastscape code beyond Moments).

* ``moments_with``: moments whose Sigma = Syx Sxx^-1 Syx^T has exactly the given
  positive eigenvalues (and a random SPD Sxx), so ties and q are chosen exactly.
* ``random_minimum``: a global minimum built from the eigenvectors by hand (the tight
  point), then moved by random kernel moves (W_k + N with W_H...W_(k+1) N = 0) and
  random gauges G in GL+(d_k) (or with one reflection at chosen layers), all of which
  keep the end-to-end map.
* ``barrier_two_layer`` etc.: the closed forms written out directly.
"""

from __future__ import annotations

import numpy as np

import fastscape


def moments_with(vals, dx, dy, rng, noise=0.5):
    q = len(vals)
    a = rng.standard_normal((dx, dx))
    sxx = a @ a.T / dx + 0.5 * np.eye(dx)
    u = np.linalg.qr(rng.standard_normal((dy, dy)))[0][:, :q]
    v = np.linalg.qr(rng.standard_normal((dx, dx)))[0][:, :q]
    w, e = np.linalg.eigh(sxx)
    half = e @ np.diag(np.sqrt(w)) @ e.T
    syx = u @ np.diag(np.sqrt(np.asarray(vals, dtype=float))) @ v.T @ half
    syy = syx @ np.linalg.solve(sxx, syx.T) + noise * np.eye(dy)
    return fastscape.Moments(sxx, syx, syy)


def top_frame(m, r):
    sigma = m.syx @ np.linalg.solve(m.sxx, m.syx.T)
    vals, vecs = np.linalg.eigh((sigma + sigma.T) / 2)
    order = np.argsort(vals)[::-1]
    return vals[order], vecs[:, order[:r]]


def tight_point(m, widths, frame):
    r = frame.shape[1]
    ls = np.linalg.solve(m.sxx, m.syx.T).T
    ws = [np.zeros((widths[k + 1], widths[k])) for k in range(len(widths) - 1)]
    ws[0][:r] = frame.T @ ls
    for k in range(1, len(ws) - 1):
        ws[k][np.arange(r), np.arange(r)] = 1.0
    ws[-1][:, :r] = frame
    if len(ws) == 1:
        ws[0] = frame @ frame.T @ ls
    return ws


def right(ws, k):
    out = np.eye(ws[-1].shape[0])
    for w in reversed(ws[k:]):
        out = out @ w
    return out


def random_minimum(m, widths, rng, *, flips=(), scale=0.4, frame=None):
    """A global minimum; ``flips``: hidden layers whose gauge includes a reflection."""
    r = min(min(widths), int(np.sum(top_frame(m, 0)[0] > 1e-9 * top_frame(m, 0)[0][0])))
    if frame is None:
        frame = top_frame(m, r)[1]
    ws = tight_point(m, widths, frame)
    for k in range(1, len(ws)):
        if widths[k] > r:
            _, s, vt = np.linalg.svd(right(ws, k))
            ker = vt[int(np.sum(s > 1e-10 * s[0])) :].T
            noise = rng.standard_normal((ker.shape[1], ws[k - 1].shape[1]))
            ws[k - 1] = ws[k - 1] + scale * ker @ noise
    for k in range(1, len(ws)):
        d = widths[k]
        g = np.eye(d) + scale * rng.standard_normal((d, d))
        if np.linalg.det(g) < 0:
            g[-1] *= -1
        if k in flips:
            g = np.diag([-1.0] + [1.0] * (d - 1)) @ g
        ws[k - 1] = g @ ws[k - 1]
        ws[k] = ws[k] @ np.linalg.inv(g)
    return ws


def loss(ws, m):
    w = right(ws, 0)
    return 0.5 * np.trace(m.syy) - np.trace(w @ m.syx.T) + 0.5 * np.trace(w @ m.sxx @ w.T)


def global_min(m, widths):
    vals = top_frame(m, 0)[0]
    return 0.5 * (np.trace(m.syy) - np.sum(vals[: min(widths)]))


def barrier_pair(vals, r):
    """(lambda_r - lambda_(r+1)) / 2 with lambda_(q+1) = 0, 1-based r."""
    nxt = vals[r] if r < len(vals) else 0.0
    return (vals[r - 1] - nxt) / 2
