"""Paths inside the set of global minima: the constructive connectivity proof as code.

Every global minimum is joined, through global minima only, to a canonical point
c(F, T): W_1 = [T_1 F^T L*; 0], middle layers [T_k 0; 0 0], W_H = [F T_1 ... T_(H-1), 0],
where F is an orthonormal basis of col(W) (r columns), L* = Syx Sxx^-1 and each T_k is
I or D = diag(-1, 1, ..., 1), D only at orientation layers (d_k = r). The moves
(docs/topology.md, "the fibre is connected"), each keeping W_H ... W_1 fixed:

1. kernel move: W_k -> P W_k with P the projector onto the row space of W_H...W_(k+1);
2. gauge move in GL+(d_k): W_k -> G W_k, W_(k+1) -> W_(k+1) G^-1 along G(t) = Q(t) P(t)
   (polar factors; Q(t) = expm(t log Q) in SO(d_k), P(t) = P^t);
3. zeroing the columns of W_(k+1) (or rows of W_k) that meet only zero rows (columns).

With tied eigenvalues at r the minima also move between subspaces col(W): frames F(t)
= expm(t K) F with K skew and supported on the tied eigenspace.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from .topology_core import MinimumSet, point_frame, right_product


class Rotation:
    """t -> expm(t log q) for q in SO(d): rotations by t * angle in q's invariant planes.

    The planes and angles come from the real Schur form q = Z T Z^T (T block diagonal
    with 2 x 2 rotations and +-1 entries; the -1 entries pair up into rotations by pi
    because det q = +1).
    """

    def __init__(self, q: np.ndarray):
        t, z = scipy.linalg.schur(q, output="real")
        d = q.shape[0]
        planes, neg, i = [], [], 0
        while i < d:
            if i + 1 < d and abs(t[i + 1, i]) > 1e-14:
                c = (t[i, i] + t[i + 1, i + 1]) / 2
                s = (t[i + 1, i] - t[i, i + 1]) / 2
                planes.append((i, i + 1, float(np.arctan2(s, c))))
                i += 2
            else:
                if t[i, i] < 0:
                    neg.append(i)
                i += 1
        if len(neg) % 2:
            raise ValueError("Rotation needs det q = +1")
        planes += [(a, b, float(np.pi)) for a, b in zip(neg[::2], neg[1::2], strict=True)]
        self.z, self.planes, self.d = z, planes, d

    def log(self) -> np.ndarray:
        k = np.zeros((self.d, self.d))
        for a, b, th in self.planes:
            k[b, a], k[a, b] = th, -th
        return self.z @ k @ self.z.T

    def __call__(self, t: float) -> np.ndarray:
        r = np.eye(self.d)
        for a, b, th in self.planes:
            c, s = np.cos(t * th), np.sin(t * th)
            r[a, a], r[a, b], r[b, a], r[b, b] = c, -s, s, c
        return self.z @ r @ self.z.T


def so_log(q: np.ndarray) -> np.ndarray:
    """A real skew-symmetric K with expm(K) = q, for q in SO(d)."""
    return Rotation(q).log()


class Line:
    """W_k(t) = W_k + t delta_k for the given layers."""

    def __init__(self, ws, deltas: dict):
        self.ws, self.deltas = ws, deltas

    def __call__(self, t: float):
        return [w + t * self.deltas[k] if k in self.deltas else w for k, w in enumerate(self.ws)]


class Gauge:
    """W_k(t) = G_k(t) W_k G_(k-1)(t)^-1 for hidden layers k with a matrix G_k in GL+(d_k)."""

    def __init__(self, ws, gauges: dict):
        self.ws, self.parts = ws, {}
        for k, g in gauges.items():
            u, s, vt = np.linalg.svd(g)
            self.parts[k] = (Rotation(u @ vt), vt.T, s)

    def __call__(self, t: float):
        gs = {k: rot(t) @ (v * s**t) @ v.T for k, (rot, v, s) in self.parts.items()}
        out = []
        for k, w in enumerate(self.ws):  # W_(k+1) sits between hidden layers k and k+1
            left, right = gs.get(k + 1), gs.get(k)
            x = w if left is None else left @ w
            out.append(x if right is None else np.linalg.solve(right.T, x.T).T)
        return out


class Frames:
    """Canonical points c(expm(t K) F, T) for a skew K: minima that move col(W)."""

    def __init__(self, ms: MinimumSet, k: np.ndarray, frame: np.ndarray, flips):
        self.ms, self.frame, self.flips = ms, frame, flips
        # expm(t K) as rotations by t * angle in K's invariant planes (one expm in all)
        self.rot = Rotation(scipy.linalg.expm(k))

    def __call__(self, t: float):
        return canonical(self.ms, self.rot(t) @ self.frame, self.flips)


class Reverse:
    def __init__(self, seg):
        self.seg = seg

    def __call__(self, t: float):
        return self.seg(1.0 - t)


def canonical(ms: MinimumSet, frame: np.ndarray, flips) -> list[np.ndarray]:
    """c(F, T): the tight point with W_H = [F T_1...T_(H-1), 0]; flips[k-1] means T_k = D."""
    w, r, h = ms.widths, ms.r, ms.depth
    if h == 1:
        return [frame @ (frame.T @ ms.moments.least_squares())]
    sign = np.ones(r)
    out = []
    first = np.zeros((w[1], w[0]))
    first[:r] = frame.T @ ms.moments.least_squares()
    if flips[0]:
        first[0] *= -1
    out.append(first)
    tot = -1.0 if flips[0] else 1.0
    for k in range(2, h):
        layer = np.zeros((w[k], w[k - 1]))
        layer[np.arange(r), np.arange(r)] = 1.0
        if flips[k - 1]:
            layer[0, 0] = -1.0
            tot = -tot
        out.append(layer)
    if r:
        sign[0] = tot
    last = np.zeros((w[-1], w[-2]))
    last[:, :r] = frame * sign
    out.append(last)
    return out


def reduce(ws, ms: MinimumSet, frame: np.ndarray):
    """(segments, flips): moves from ``ws`` to c(frame, T), span(frame) = col(W)."""
    ws = [w.copy() for w in ws]
    segs = []
    r, d, h = ms.r, ms.widths, ms.depth

    def add(seg):
        nonlocal ws
        segs.append(seg)
        ws = [np.array(x) for x in seg(1.0)]

    if h == 1:
        end = canonical(ms, frame, ())
        segs.append(Line(ws, {0: end[0] - ws[0]}))
        return segs, ()
    if r == 0:  # W = 0: scale each layer to zero in turn (the product stays 0)
        for k in range(h):
            add(Line(ws, {k: -ws[k]}))
        return segs, (False,) * (h - 1)
    for k in range(1, h):  # hidden layer k lies between W_k = ws[k-1] and W_(k+1) = ws[k]
        if d[k] == r:
            continue
        a = right_product(ws, k)
        _, s, vt = np.linalg.svd(a)
        v = vt[: int(np.sum(s > 1e-13 * s[0]))].T
        b = ws[k - 1]
        add(Line(ws, {k - 1: v @ (v.T @ b) - b}))
        g = np.linalg.svd(ws[k - 1])[0].T.copy()  # rows: top-r left singular vectors first
        if np.linalg.det(g) < 0:
            g[-1] *= -1
        add(Gauge(ws, {k: g}))
        cols = np.zeros_like(ws[k])
        cols[:, r:] = -ws[k][:, r:]
        add(Line(ws, {k: cols}))
        rows = np.zeros_like(ws[k - 1])
        rows[r:] = -ws[k - 1][r:]
        add(Line(ws, {k - 1: rows}))
    target = frame.T @ ms.moments.least_squares()
    flip_d = np.ones(r)
    flip_d[0] = -1.0
    gauges, flips, prev = {}, [], None
    for k in range(1, h):
        if k == 1:
            hk = target @ np.linalg.pinv(ws[0][:r])
        else:
            hk = prev @ np.linalg.inv(ws[k - 1][:r, :r])
        flip = bool(d[k] == r and np.linalg.det(hk) < 0)
        gk = flip_d[:, None] * hk if flip else hk
        flips.append(flip)
        big = np.eye(d[k])
        big[:r, :r] = gk
        if d[k] > r and np.linalg.det(gk) < 0:
            big[r, r] = -1.0
        gauges[k] = big
        prev = gk
    add(Gauge(ws, gauges))
    end = canonical(ms, frame, flips)
    segs.append(Line(ws, {k: end[k] - ws[k] for k in range(h)}))  # round-off only
    return segs, tuple(flips)


def _tied_blocks(ms: MinimumSet):
    lam = ms.values[ms.r - 1]
    tied = np.flatnonzero(np.abs(ms.values - lam) <= ms.tie_tol)
    top = int(np.sum(ms.values > lam + ms.tie_tol))
    return ms.vectors[:, tied], ms.r - top


def transport(ms: MinimumSet, frame_a: np.ndarray, frame_b: np.ndarray):
    """Skew K (dy, dy) on the tied eigenspace with span(expm(K) frame_a) = span(frame_b)."""
    e, k = _tied_blocks(ms)
    ua = np.linalg.svd(e.T @ frame_a)[0]
    ub = np.linalg.svd(e.T @ frame_b)[0]
    o = ub @ ua.T
    if np.linalg.det(o) < 0:  # the tied space is larger than its part in col(W): fix det
        ub[:, -1] *= -1
        o = ub @ ua.T
    return e @ so_log(o) @ e.T, e @ ub[:, :k], e @ ub[:, k]


def path_segments(a, b, ms: MinimumSet):
    """Segments from minimum ``a`` to minimum ``b`` (same component) through minima."""
    if not ms.tied:
        frame = ms.frame
        sa, fa = reduce(a, ms, frame)
        sb, fb = reduce(b, ms, frame)
        if fa != fb:
            raise AssertionError("points in one component reduced to different canonical points")
        return sa + [Reverse(s) for s in reversed(sb)]
    frame_a = point_frame(a, ms.r)
    sa, fa = reduce(a, ms, frame_a)
    k, v, w = transport(ms, frame_a, point_frame(b, ms.r))
    segs = sa + [Frames(ms, k, frame_a, fa)]
    frame = scipy.linalg.expm(k) @ frame_a
    sb, fb = reduce(b, ms, frame)
    if fb != fa:  # all orientations reversed: turn col(W) once around inside the tied space
        k2 = np.pi * (np.outer(w, v) - np.outer(v, w))
        segs.append(Frames(ms, k2, frame, fa))
        flipped = canonical(ms, scipy.linalg.expm(k2) @ frame, fa)
        sc, fc = reduce(flipped, ms, frame)
        if fc != fb:
            raise AssertionError("relative orientations differ: different components")
        segs += sc
    return segs + [Reverse(s) for s in reversed(sb)]


def sample(segs, n: int, *, fine: int = 65) -> list[list[np.ndarray]]:
    """n points along the segments, equally spaced in arc length (each exactly on a segment)."""
    grid = np.linspace(0.0, 1.0, fine)
    pieces, total = [], 0.0
    for seg in segs:
        pts = np.array([np.concatenate([w.ravel() for w in seg(t)]) for t in grid])
        cum = np.concatenate(([0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))))
        if cum[-1] > 0:
            pieces.append((seg, total + cum))
            total += cum[-1]
    first = [np.array(x) for x in segs[0](0.0)]
    last = [np.array(x) for x in segs[-1](1.0)]
    if not pieces:
        return [[x.copy() for x in first] for _ in range(n)]
    out = []
    for j, s in enumerate(np.linspace(0.0, total, n)):
        if j == 0:
            out.append(first)
            continue
        if j == n - 1:
            out.append(last)
            continue
        for seg, cum in pieces:
            if s <= cum[-1]:
                t = float(np.interp(s, cum, grid))
                out.append([np.array(x) for x in seg(t)])
                break
        else:  # round-off past the end
            out.append(last)
    return out


class Orbit:
    """Two-layer weight-decay minima A = A0 Q(t), B = Q(t)^T B0 along Q(t) = R(t) Q_a."""

    def __init__(self, a0, b0, rot: Rotation, qa):
        self.a0, self.b0, self.rot, self.qa = a0, b0, rot, qa

    def __call__(self, t: float):
        q = self.rot(t) @ self.qa
        return [q.T @ self.b0, self.a0 @ q]


def decay_segments(a, b, ms: MinimumSet):
    """Segments through the O(p) orbit of weight-decay minima (two layers, Sxx = I)."""
    if ms.tied:
        raise ValueError(
            "with weight decay and tied singular values sigma_p = sigma_(p+1) the minima "
            "are not one O(p) orbit; minimum_path does not join them (pass untied data)"
        )
    u, sv, vt = np.linalg.svd(ms.moments.syx)
    k, p = ms.r, ms.widths[1]
    if k == 0:  # the only minimum is W = 0
        return [Line(a, {0: b[0] - a[0], 1: b[1] - a[1]})]
    d = np.sqrt(sv[:k] - ms.weight_decay)
    a0 = np.zeros((ms.widths[2], p))
    a0[:, :k] = u[:, :k] * d
    b0 = np.zeros((p, ms.widths[0]))
    b0[:k] = d[:, None] * vt[:k]

    def gauge(ws):  # A = U_S D Q[:k]; the other rows of Q complete it (any choice)
        top = (u[:, :k].T @ ws[1]) / d[:, None]
        return np.vstack([top, np.linalg.svd(top)[2][k:]])

    qa, qb = gauge(a), gauge(b)
    if np.linalg.det(qb @ qa.T) < 0:  # only when k < p: a free reflection of unused rows
        qb[-1] *= -1
    seg = Orbit(a0, b0, Rotation(qb @ qa.T), qa)
    start, end = seg(0.0), seg(1.0)
    return [
        Line(a, {i: start[i] - a[i] for i in range(2)}),
        seg,
        Line(end, {i: b[i] - end[i] for i in range(2)}),
    ]
