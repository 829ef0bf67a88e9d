"""Loss slices: the loss on a 2-D grid through a point (no matplotlib).

:func:`slice_grid` evaluates the loss in the plane through a point spanned by two
directions, by default the most negative (or softest) Hessian curvature and the
tangent of the layer-symmetry orbit, and returns a :class:`LossSlice`.
``fastscape.plot.loss_slice`` draws it; ``fastscape.plot`` re-exports both names.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ._tolerance import RTOL, absolute_tol
from ._types import Weights
from .derivatives import hessian, loss
from .kernels import derivatives as _kd
from .moments import Moments
from .network import flatten, unflatten, widths_of

__all__ = ["LossSlice", "slice_grid"]


def spectral_zero_tol(eigenvalues: np.ndarray, atol: float | None = None) -> float:
    """The absolute threshold below which |eigenvalue| counts as zero.

    ``atol`` when given, else the relative tolerance of ``fastscape.classify``
    (sqrt(eps)) times max |eigenvalue|, so counts match its nullity.
    """
    value = absolute_tol(atol)
    if value is not None:
        return value
    return RTOL * float(np.abs(eigenvalues).max(initial=0.0))


class LossSlice(NamedTuple):
    """A 2-D slice of the loss: ``values[i, j]`` = loss(point + s[j] d_1 + t[i] d_2).

    ``s`` and ``t`` are the grid coordinates (both contain 0 exactly, at the
    centre), ``directions`` the two unit vectors (2, N) in the parameter order of
    ``fastscape.flatten``, ``labels`` their descriptions, ``center_loss`` the
    loss at the point itself.

    Examples
    --------
    >>> import numpy as np, fastscape, fastscape.slices as fslices
    >>> m = fastscape.Moments(np.eye(1), np.array([[2.0]]), np.array([[4.0]]))
    >>> sl = fslices.slice_grid([np.ones((1, 1))] * 2, m, span=0.5, resolution=3)
    >>> sl.values.shape, sl.center_loss, sl.labels[1]
    ((3, 3), 0.5, 'symmetry orbit (flat)')
    """

    s: np.ndarray
    t: np.ndarray
    values: np.ndarray
    directions: np.ndarray
    labels: tuple[str, str]
    center_loss: float


def _orbit_tangent(ws, residual: bool, antisymmetric: bool, rng) -> np.ndarray:
    """Tangent of the layer-symmetry orbit at ``ws``: the adjacent pair with largest norm.

    For layers k, k+1 and X (d_k, d_k): dF_k = X F_k, dF_(k+1) = -F_(k+1) X with
    F = W (or I + W), so the product, and the loss, stay put to first order.
    """
    best, best_norm = None, 0.0
    for k in range(len(ws) - 1):
        d = ws[k].shape[0]
        x = rng.standard_normal((d, d))
        if antisymmetric:
            x = x - x.T
        fk = ws[k] + np.eye(d) if residual else ws[k]
        fk1 = ws[k + 1] + np.eye(d) if residual else ws[k + 1]
        v = [np.zeros_like(w) for w in ws]
        v[k] = x @ fk
        v[k + 1] = -fk1 @ x
        vec = flatten(v)
        nrm = float(np.linalg.norm(vec))
        if nrm > best_norm:
            best, best_norm = vec, nrm
    return best if best is not None else np.zeros(sum(w.size for w in ws))


def _default_directions(ws, moments, residual, weight_decay, seed):
    h = hessian(ws, moments, residual=residual, weight_decay=weight_decay)
    vals, vecs = np.linalg.eigh(h)
    tol = spectral_zero_tol(vals, None)
    if vals[0] < -tol:
        i1 = 0
        lab1 = f"most negative curvature (eigenvalue {vals[0]:.3g})"
    else:
        pos = np.flatnonzero(vals > tol)
        i1 = int(pos[0]) if pos.size else vals.size - 1
        lab1 = f"softest curved direction (eigenvalue {vals[i1]:.3g})"
    d1 = vecs[:, i1]
    rng = np.random.default_rng(seed)
    if residual and weight_decay > 0:  # |I + W| symmetries do not preserve |W|: no orbit
        d2 = np.zeros_like(d1)
    else:
        d2 = _orbit_tangent(ws, residual, weight_decay > 0, rng)
    scale = max(1.0, float(np.linalg.norm(flatten(ws))))
    if np.linalg.norm(d2) > 1e-8 * scale:
        # keep the orbit tangent exact (the loss is invariant along it to first order at
        # any point); at a critical point d1 is already orthogonal to it (null space)
        d2 = d2 / np.linalg.norm(d2)
        d1 = d1 - (d1 @ d2) * d2
        if not np.linalg.norm(d1) > 1e-8:  # d1 lies along the orbit: any other direction
            d1 = vecs[:, -1] - (vecs[:, -1] @ d2) * d2
        d1 = d1 / np.linalg.norm(d1)
        lab2 = "symmetry orbit (flat)"
    else:  # no orbit through this point (one layer, or zero layers): nearest-zero curvature
        others = np.delete(np.arange(vals.size), i1)
        if others.size == 0:
            raise ValueError("the network has a single parameter: a 2-D slice needs N >= 2")
        i2 = int(others[np.argmin(np.abs(vals[others]))])
        d2 = vecs[:, i2]
        lab2 = f"flattest other direction (eigenvalue {vals[i2]:.3g})"
    return d1, d2, lab1, lab2


def _auto_span(ws, moments, d1, residual, weight_decay, center) -> float:
    theta, widths = flatten(ws), widths_of(ws)
    base = max(0.5, 0.5 * float(np.linalg.norm(theta)) / math.sqrt(len(ws)))
    reach = np.linspace(0.0, 4.0 * base, 161)[1:]
    best = 0.0
    for sign in (1.0, -1.0):
        f = np.array(
            [
                loss(
                    unflatten(theta + sign * r * d1, widths),
                    moments,
                    residual=residual,
                    weight_decay=weight_decay,
                )
                for r in reach
            ]
        )
        if f[0] < center:  # descending: first local minimum along the line
            stop = np.flatnonzero(np.diff(f) > 0)
            best = max(best, float(reach[stop[0] if stop.size else -1]))
    return 1.5 * best if best > 0 else base


def _as_direction(v, ws, name: str) -> np.ndarray:
    if isinstance(v, (list, tuple)) and v and np.ndim(v[0]) == 2:
        if [np.shape(b) for b in v] != [w.shape for w in ws]:
            raise ValueError(f"{name} must be shaped like weights: {[w.shape for w in ws]}")
        v = np.concatenate([np.asarray(b, dtype=float).ravel() for b in v])
    v = np.asarray(v, dtype=float)
    n = sum(w.size for w in ws)
    if v.shape != (n,):
        raise ValueError(f"{name} must be a flat vector of length N = {n} or a list like weights")
    if not np.all(np.isfinite(v)) or not np.linalg.norm(v) > 0:
        raise ValueError(f"{name} must be finite and nonzero")
    return v


def slice_grid(
    weights: Weights,
    moments: Moments,
    directions: Any = None,
    *,
    span: float | None = None,
    resolution: int = 41,
    residual: bool = False,
    weight_decay: float = 0.0,
    seed: int = 0,
    labels: tuple[str, str] | None = None,
    unit: bool = True,
) -> LossSlice:
    """The loss on a square grid in the plane through ``weights`` spanned by two directions.

    Parameters
    ----------
    weights : list of array_like
        The centre point [W_1, ..., W_H].
    moments : Moments
    directions : pair of vectors, optional
        Each a flat (N,) vector or a list shaped like ``weights``. The second is
        orthogonalised against the first; both are normalised to unit length.
        Default: the Hessian eigenvector of the most negative eigenvalue (or, if
        there is none, of the smallest positive one), and the tangent of the
        layer-symmetry orbit through the point (GL(d_k) between two adjacent layers,
        O(d_k) with weight decay), which at a critical point lies in the Hessian's
        null space: a flat "river" through the point (the first is made orthogonal to
        it, which changes nothing at a critical point). Where there is no orbit (one
        layer; residual layers with weight decay) the second direction is the
        Hessian eigenvector whose eigenvalue is closest to zero.
    span : float, optional
        The grid covers [-span, span] in both coordinates. Default: if the loss
        falls along the first direction, 1.5 times the distance to the lowest point
        on that line (so the descent and where it stops are in view); otherwise
        half the root-mean-square layer norm of the point (at least 0.5).
    resolution : int
        Points per axis, made odd so that 0 is on the grid exactly.
    residual, weight_decay
        As in ``fastscape.loss``.
    seed : int
        Seeds the random generator of the orbit tangent.
    labels : pair of str, optional
        Axis labels for the two directions (default: what they are).
    unit : bool
        True: given directions are scaled to unit length and the second made
        orthogonal to the first. False: they are used as given, e.g. the
        filter-normalised directions of ``fastscape.random_directions`` (Li et al.
        2018), whose scale is the point's own.

    Returns
    -------
    LossSlice

    Examples
    --------
    >>> import numpy as np, fastscape, fastscape.slices as fslices
    >>> m = fastscape.Moments(np.eye(1), np.array([[2.0]]), np.array([[4.0]]))
    >>> sl = fslices.slice_grid([np.zeros((1, 1))] * 2, m, span=1.0, resolution=5)
    >>> sl.s.tolist()
    [-1.0, -0.5, 0.0, 0.5, 1.0]
    >>> float(sl.values[2, 2]) == fastscape.loss([np.zeros((1, 1))] * 2, m) == sl.center_loss
    True
    """
    ws = [np.asarray(w, dtype=float) for w in weights]
    center = loss(ws, moments, residual=residual, weight_decay=weight_decay)
    resolution = int(resolution)
    if resolution < 3:
        raise ValueError(f"resolution must be >= 3, got {resolution}")
    if directions is None:
        d1, d2, lab1, lab2 = _default_directions(ws, moments, residual, weight_decay, seed)
    else:
        if len(directions) != 2:
            raise ValueError("directions must be a pair (d_1, d_2)")
        d1 = _as_direction(directions[0], ws, "directions[0]")
        d2 = _as_direction(directions[1], ws, "directions[1]")
        if unit:
            d1 = d1 / np.linalg.norm(d1)
            d2 = d2 / np.linalg.norm(d2)
            d2 = d2 - (d2 @ d1) * d1
            if not np.linalg.norm(d2) > 1e-10:
                raise ValueError("directions are parallel: give two independent directions")
        lab1, lab2 = "direction 1", "direction 2"
    if unit or directions is None:
        d1 = d1 / np.linalg.norm(d1)
        d2 = d2 / np.linalg.norm(d2)
    theta = flatten(ws)
    if span is None:
        span = _auto_span(ws, moments, d1, residual, weight_decay, center)
    span = float(span)
    if not math.isfinite(span) or span <= 0:
        raise ValueError(f"span must be finite and > 0, got {span}")
    half = resolution // 2
    axis = span * np.arange(-half, half + 1) / half
    wid = np.asarray(widths_of(ws), dtype=np.int64)
    mu = float(weight_decay)  # checked by the loss at the centre, above
    values = np.empty((axis.size, axis.size))
    for i, t in enumerate(axis):
        for j, s in enumerate(axis):
            point = theta + s * d1 + t * d2
            args = (moments.sxx, moments.syx, moments.trace_syy, bool(residual), mu)
            values[i, j] = _kd.loss(point, wid, *args)
    if labels is not None:
        lab1, lab2 = (str(x) for x in labels)
    return LossSlice(axis, axis.copy(), values, np.stack([d1, d2]), (lab1, lab2), center)
