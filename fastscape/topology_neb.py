"""Climbing-image nudged elastic band (Henkelman, Uberuaga & Jonsson 2000; Draxler et al. 2018).

A band of images between two points relaxes under the loss gradient perpendicular to
the band plus springs along it (the improved tangent of Henkelman & Jonsson 2000); the
highest image climbs to the saddle (no spring, the gradient component along the band
reversed). The band moves by heavy-ball descent on these forces (momentum 0.9, step 1/2 of the
inverse largest curvature, re-estimated as the band moves, and the velocity reset
whenever it opposes the force: the adaptive restart of O'Donoghue & Candes 2015).
FIRE (Bitzek et al. 2006), whose time step grows, made bands drift along the flat
symmetry orbits of these landscapes into regions of high curvature and blow up.

NEB is a local method: it relaxes to a minimum-energy path near its start. Between
two components of a deep network it can settle on a pass through a higher critical
point; it can never report less than the true barrier. Every gradient comes
from the loss-gradient kernel of ``fastscape.kernels.derivatives``.

The barrier reported is the exact maximum of the loss along the piecewise-linear path
through the images (on each segment the loss is a polynomial of degree 2H in the
segment parameter): a continuous path, so between two components it can never fall
below the mountain pass.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._types import Seed, Weights
from ._validate import as_int, as_weight_decay
from .derivatives import loss
from .kernels import derivatives as _kd
from .moments import Moments, as_moments
from .network import flatten, unflatten, widths_of

__all__ = ["NEBResult", "neb"]

#: heavy-ball momentum of the band updates
MOMENTUM = 0.9
#: the climbing image starts after a fifth of the steps, at most after this many
CLIMB_AFTER = 200


class NEBResult(NamedTuple):
    """A relaxed band: ``path`` (weight lists, first and last the end points), ``losses``
    at the images, ``barrier`` (the highest loss along the piecewise-linear band above the
    higher end point), ``climbing`` (index of the climbing image), ``max_force`` (largest
    NEB force left on an image, relative to the data scale) and ``steps`` taken.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(1), np.array([[2.0]]), np.array([[4.0]]))
    >>> res = fastscape.neb([np.ones((1, 1))] * 2, [-np.ones((1, 1))] * 2, m, images=9, steps=300)
    >>> len(res.path), res.losses.shape
    (9, (9,))
    """

    path: list
    losses: np.ndarray
    barrier: float
    climbing: int
    max_force: float
    steps: int


def _tangents(x, e):
    """Improved tangents (Henkelman & Jonsson 2000) at the interior images, unit rows."""
    tp = x[2:] - x[1:-1]
    tm = x[1:-1] - x[:-2]
    ep, e0, em = e[2:], e[1:-1], e[:-2]
    up = (ep > e0) & (e0 > em)
    down = (ep < e0) & (e0 < em)
    dmax = np.maximum(np.abs(ep - e0), np.abs(em - e0))[:, None]
    dmin = np.minimum(np.abs(ep - e0), np.abs(em - e0))[:, None]
    mixed = np.where((ep > em)[:, None], tp * dmax + tm * dmin, tp * dmin + tm * dmax)
    tau = np.where(up[:, None], tp, np.where(down[:, None], tm, mixed))
    nrm = np.linalg.norm(tau, axis=1, keepdims=True)
    fallback = tp + tm
    tau = np.where(nrm > 0, tau, fallback)
    nrm = np.linalg.norm(tau, axis=1, keepdims=True)
    return tau / np.where(nrm > 0, nrm, 1.0), np.linalg.norm(tp, axis=1), np.linalg.norm(tm, axis=1)


class _Band:
    def __init__(self, widths, m: Moments, mu: float):
        self.wid = np.asarray(widths, dtype=np.int64)
        self.m, self.mu = m, mu

    def loss(self, theta) -> float:
        m = self.m
        return float(_kd.loss(theta, self.wid, m.sxx, m.syx, m.trace_syy, False, self.mu))

    def loss_grad(self, x):
        m = self.m
        g = np.empty_like(x)
        e = np.empty(x.shape[0])
        for i in range(x.shape[0]):
            e[i] = _kd.loss_gradient(
                x[i], self.wid, m.sxx, m.syx, m.trace_syy, False, self.mu, g[i]
            )
        return e, g

    def curvature(self, thetas, rng) -> float:
        """Largest Hessian eigenvalue over a few points (power iteration on |H|)."""
        m, best = self.m, 0.0
        for th in thetas:
            v = rng.standard_normal(th.size)
            v /= np.linalg.norm(v)
            out = np.empty_like(th)
            lam = 0.0
            for _ in range(30):
                _kd.hvp(th, self.wid, m.sxx, m.syx, False, self.mu, v, out)
                lam = float(np.linalg.norm(out))
                if lam == 0.0:
                    break
                v = out / lam
            best = max(best, lam)
        return best

    def segment_max(self, a, b) -> float:
        """Exact maximum of the loss on the segment [a, b] (a polynomial of degree 2H)."""
        deg = 2 * (self.wid.size - 1) + 2
        nodes = 0.5 - 0.5 * np.cos(np.pi * (np.arange(deg + 1) + 0.5) / (deg + 1))
        vals = [self.loss((1 - t) * a + t * b) for t in nodes]
        poly = np.polynomial.Chebyshev.fit(nodes, vals, deg, domain=[0.0, 1.0])
        roots = poly.deriv().roots()
        cand = [0.0, 1.0] + [float(t.real) for t in roots if abs(t.imag) < 1e-9 and 0 < t.real < 1]
        return max(self.loss((1 - t) * a + t * b) for t in cand)


def neb(
    w_a: Weights,
    w_b: Weights,
    moments: Moments,
    *,
    images: int = 17,
    steps: int = 2000,
    seed: Seed = 0,
    spring: float | None = None,
    climb: bool = True,
    perturbation: float = 1e-3,
    weight_decay: float = 0.0,
    ftol: float = 1e-7,
) -> NEBResult:
    """A climbing-image nudged elastic band between ``w_a`` and ``w_b``.

    The band starts on the straight line, each interior image moved by a seeded
    Gaussian perturbation of relative size ``perturbation`` (so that a band that begins
    on a saddle can leave it), and relaxes for at most ``steps`` steps (heavy-ball
    descent with restarts, see the module docstring). The climbing image is switched on
    after a fifth of them (at most 200). The barrier is the exact maximum of the loss along the
    piecewise-linear band, so between two components it is never below the mountain
    pass; inside one component it is the rise of the chords between images, which
    falls like the square of their spacing (use more images to bring it to 0).

    Parameters
    ----------
    w_a, w_b : list of array_like
        End points (fixed), usually two global minima.
    moments : Moments
    images : int
        Points on the band including both ends, >= 3.
    steps : int
        Maximum number of relaxation steps, >= 1.
    seed : int or numpy.random.Generator
        Seeds the initial perturbation (and the curvature estimate's start vectors).
    spring : float, optional
        Spring constant; default a tenth of the largest Hessian eigenvalue found on
        the initial band.
    climb : bool
        Use a climbing image.
    perturbation : float
        Size of the initial perturbation relative to |w_b - w_a| / sqrt(N).
    weight_decay : float
        As in ``fastscape.loss``.
    ftol : float
        Stop when every image's force is below ftol times the data scale.

    Returns
    -------
    NEBResult

    Raises
    ------
    ValueError
        images < 3, steps < 1, or end points of different widths.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> a = fastscape.canonical_point(m, [2, 1, 2], [0])
    >>> b = [-a[0], -a[1]]  # the other component (sign of the one hidden unit)
    >>> res = fastscape.neb(a, b, m, images=9, steps=1000)
    >>> round(res.barrier, 6)  # the mountain pass (lambda_1 - lambda_2) / 2 = (4 - 1) / 2
    1.5
    """
    images = as_int(images, "images", 3, " (points on the band including both ends)")
    steps = as_int(steps, "steps", 1, " (relaxation steps)")
    mu = as_weight_decay(weight_decay)
    m = as_moments(moments)
    la = loss(w_a, m, weight_decay=mu)
    lb = loss(w_b, m, weight_decay=mu)
    widths = widths_of(w_a)
    if widths_of(w_b) != widths:
        raise ValueError(
            f"w_a has widths {list(widths)} but w_b has {list(widths_of(w_b))}: pass two "
            "points of the same network"
        )
    if not isinstance(climb, (bool, np.bool_)):
        raise TypeError(f"climb must be True or False, got {climb!r}")
    for name, val in (("perturbation", perturbation), ("ftol", ftol)):
        if not (isinstance(val, (int, float)) and np.isfinite(val) and val >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {val!r}")
    rng = np.random.default_rng(seed)
    ta, tb = flatten(w_a), flatten(w_b)
    band = _Band(widths, m, mu)
    ts = np.linspace(0.0, 1.0, images)[:, None]
    x = (1 - ts) * ta + ts * tb
    size = float(np.linalg.norm(tb - ta)) or max(float(np.linalg.norm(ta)), 1.0)
    noise = rng.standard_normal((images - 2, ta.size)) * (perturbation * size / np.sqrt(ta.size))
    x[1:-1] += noise
    curv = band.curvature([ta, x[images // 2], tb], rng) or 1.0
    k = curv / 10 if spring is None else float(spring)
    if not (np.isfinite(k) and k > 0):
        raise ValueError(f"spring must be a positive finite number, got {spring!r}")
    eta = 0.5 / max(curv, 4 * k)  # steepest descent on the NEB force, stable step
    climb_from = min(steps // 5, CLIMB_AFTER)
    vel = np.zeros((images - 2, ta.size))
    momentum = MOMENTUM
    max_move = 0.05 * size / (images - 1)  # a trust radius per image and step
    scale = max(m.scale, m.trace_syy, 1e-300)
    e = np.empty(images)
    ci, fmax, done = 0, np.inf, 0
    for step in range(steps):
        if step and step % 50 == 0:  # the band moves to where the curvature differs
            far = int(np.argmax(np.linalg.norm(x, axis=1)))
            c2 = band.curvature([x[far], x[1 + int(np.argmax(e[1:-1]))]], rng)
            if spring is None:
                k = max(k, c2 / 10)
            eta = min(eta, 0.5 / max(c2, 4 * k))
        e, g = band.loss_grad(x)
        tau, dp, dm = _tangents(x, e)
        gi = g[1:-1]
        along = np.sum(gi * tau, axis=1, keepdims=True)
        f = -(gi - along * tau) + k * (dp - dm)[:, None] * tau
        if climb and step >= climb_from:
            ci = 1 + int(np.argmax(e[1:-1]))
            f[ci - 1] = -gi[ci - 1] + 2 * along[ci - 1] * tau[ci - 1]
        fmax = float(np.max(np.linalg.norm(f, axis=1))) / scale
        done = step + 1
        if fmax < ftol and (not climb or step >= climb_from):
            break
        if float(np.sum(f * vel)) < 0:  # adaptive restart (O'Donoghue & Candes 2015)
            vel[:] = 0.0
        vel = momentum * vel + eta * f
        move = vel
        big = np.linalg.norm(move, axis=1, keepdims=True)
        x[1:-1] += move * np.minimum(1.0, max_move / np.where(big > 0, big, 1.0))
    e, _ = band.loss_grad(x)
    top = max(band.segment_max(x[i], x[i + 1]) for i in range(images - 1))
    path = [[w.copy() for w in unflatten(th, widths)] for th in x]
    e[0], e[-1] = la, lb
    return NEBResult(path, e, float(top - max(la, lb)), int(ci), fmax, done)
