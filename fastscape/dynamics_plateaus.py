"""Where a point sits in the landscape: the nearest critical family, and plateau detection.

Every critical point of a linear network without weight decay (any depth) has the
end-to-end product W_S = U_S U_S^T W* with W* = Syx Sxx^-1 the least-squares map and
U_S the eigenvectors of Sigma = Syx Sxx^-1 Syx^T in the index set S (|S| <= p, the
bottleneck width). Because the u_i are orthonormal, the squared distance of a product
W to the family S separates over the modes:

    |W - W_S|_F^2 = |W|_F^2 + sum_{i in S} (a_i - 2 c_i),
    a_i = |u_i^T W*|^2,  c_i = u_i^T W W*^T u_i,

so the nearest family takes every mode with a_i - 2 c_i < 0, at most p of them (the
most negative): no search over index sets is needed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.linalg

from . import theory as _th
from ._types import Weights
from ._validate import as_weights
from .critical import TIE_RTOL
from .deep import deep_point
from .derivatives import HessianTooLargeError, loss, product
from .inertia import Classification, classify, global_min_loss
from .moments import Moments, as_moments

__all__ = ["Location", "Plateau", "locate"]


class ModeBasis(NamedTuple):
    """Sigma's eigenbasis for the mode coordinates U^T W Sxx^(1/2) V and family distances.

    ``u`` (dy, dy) and ``v`` (dx, dx) are orthogonal, ``sqrt_sxx`` is Sxx^(1/2),
    ``wstar`` = Syx Sxx^-1, ``a[i]`` = |u_i^T W*|^2 for the q positive eigenvalues
    ``values``, ``pq`` = W*^T U_q (dx, q). With Sxx = I the mode coordinates are
    U^T W V and Syx = U diag(s) V^T, s_i = sqrt(lambda_i).
    """

    u: np.ndarray
    v: np.ndarray
    sqrt_sxx: np.ndarray
    wstar: np.ndarray
    values: np.ndarray
    a: np.ndarray
    pq: np.ndarray


def mode_basis(m: Moments) -> ModeBasis:
    """The basis of :class:`ModeBasis` for the moments m (Sxx must be invertible)."""
    vals, u = m.spectrum()
    q = m.rank()
    wstar = np.asarray(m.least_squares())
    ev, evec = np.linalg.eigh(m.sxx)
    sqrt_sxx = (evec * np.sqrt(np.maximum(ev, 0.0))) @ evec.T
    # right singular vectors of Syx Sxx^-1/2 = W* Sxx^1/2: v_i = (W* Sxx^1/2)^T u_i / s_i
    vq = (wstar @ sqrt_sxx).T @ u[:, :q] / np.sqrt(vals[:q])
    rest = scipy.linalg.null_space(vq.T) if q < m.dx else np.zeros((m.dx, 0))
    v = np.ascontiguousarray(np.concatenate([vq, rest], axis=1))
    uq = u[:, :q]
    pq = np.ascontiguousarray(wstar.T @ uq)
    a = np.sum(pq * pq, axis=0)
    return ModeBasis(np.asarray(u), v, sqrt_sxx, wstar, np.asarray(vals[:q]), a, pq)


def nearest_sets(c: np.ndarray, a: np.ndarray, wnorm2: np.ndarray, p: int):
    """Nearest family per row: (boolean masks (n, q), squared distances (n,)).

    c (n, q) holds c_i = u_i^T W W*^T u_i per point, wnorm2 (n,) |W|_F^2.
    """
    score = a[None, :] - 2.0 * c
    n, q = score.shape
    order = np.argsort(score, axis=1, kind="stable")[:, : min(p, q)]
    chosen = np.take_along_axis(score, order, axis=1)
    keep = chosen < 0.0
    mask = np.zeros((n, q), dtype=bool)
    np.put_along_axis(mask, order, keep, axis=1)
    d2 = wnorm2 + np.sum(np.where(keep, chosen, 0.0), axis=1)
    return mask, np.maximum(d2, 0.0)


class Plateau(NamedTuple):
    """One visit of a run to a critical family S.

    ``index_set`` (0-based positions in Sigma's descending spectrum), ``critical_loss``
    (the closed form 1/2 (tr Syy - sum_S lambda)), ``morse_index`` (of the family's
    canonical point: the closed form for two layers, the Hessian of the tight
    representative of ``fastscape.deep_point`` for depth >= 3), ``start_step`` and
    ``end_step`` (first and last recorded steps within ``tol`` of the family),
    ``loss`` (the recorded loss at the closest record) and ``distance`` (the smallest
    |W - W_S|_F / |W*|_F over the visit).

    Examples
    --------
    >>> import fastscape
    >>> pl = fastscape.Plateau((0,), 1.5, 1, 100, 400, 1.5001, 0.002)
    >>> pl.index_set, pl.end_step - pl.start_step
    ((0,), 300)
    """

    index_set: tuple
    critical_loss: float
    morse_index: int
    start_step: int
    end_step: int
    loss: float
    distance: float


class FamilyInfo:
    """Closed-form loss and Morse index per index set, cached (one per moments and widths)."""

    def __init__(self, m: Moments, widths):
        self.m = m
        self.widths = tuple(int(w) for w in widths)
        self.values = np.asarray(m.spectrum().values)[: m.rank()]
        self.p = min(self.widths)
        self.tie_tol = TIE_RTOL * m.scale
        self._index: dict = {}

    def critical_loss(self, s: tuple) -> float:
        return _th.critical_loss(self.values, s, self.m.trace_syy)

    def morse_index(self, s: tuple) -> int:
        if s not in self._index:
            if len(self.widths) == 3:
                idx = _th.morse_index(self.values, s, self.p, tie_tol=self.tie_tol)
            else:
                ws = deep_point(self.m, self.widths, s, representative="tight")
                idx = classify(ws, self.m).morse_index
            self._index[s] = int(idx)
        return self._index[s]


def find_plateaus(steps, losses, c, wnorm2, basis: ModeBasis, info: FamilyInfo, tol: float):
    """Plateaus of one run from its records (see ``Trajectory.plateaus``)."""
    n = len(steps)
    if n == 0:
        return ()
    mask, d2 = nearest_sets(np.asarray(c).reshape(n, -1), basis.a, np.asarray(wnorm2), info.p)
    scale = float(np.sqrt(np.sum(basis.a)))  # |W*|_F
    rel = np.sqrt(d2) / scale if scale > 0 else np.zeros(n)
    near = rel <= tol
    out = []
    r = 0
    while r < n:
        if not near[r]:
            r += 1
            continue
        e = r
        while e + 1 < n and near[e + 1] and np.array_equal(mask[e + 1], mask[r]):
            e += 1
        best = r + int(np.argmin(rel[r : e + 1]))
        s = tuple(int(i) for i in np.flatnonzero(mask[r]))
        out.append(
            Plateau(
                s,
                info.critical_loss(s),
                info.morse_index(s),
                int(steps[r]),
                int(steps[e]),
                float(losses[best]),
                float(rel[best]),
            )
        )
        r = e + 1
    return tuple(out)


class Location(NamedTuple):
    """The critical family nearest a point, from :func:`locate`.

    ``index_set`` S; ``distance`` |W - W_S|_F of the product W to the family's product
    W_S = U_S U_S^T Syx Sxx^-1 and ``relative_distance`` = distance / |W*|_F;
    ``critical_loss`` (the family's value), ``morse_index`` (as in :class:`Plateau`),
    ``loss`` (the point's), ``loss_gap`` = loss - global minimum; ``classification``
    is ``fastscape.classify``'s result when the point is critical (else None, also
    when its Hessian would not fit in memory).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> loc = fastscape.locate(fastscape.canonical_point(m, [2, 1, 2], (1,)), m)
    >>> loc.index_set, loc.distance, loc.loss_gap, loc.classification.kind
    ((1,), 0.0, 1.5, 'strict_saddle')
    """

    index_set: tuple
    distance: float
    relative_distance: float
    critical_loss: float
    morse_index: int
    loss: float
    loss_gap: float
    classification: Classification | None


def locate(weights: Weights, moments: Moments, *, tol: float | None = None) -> Location:
    """The critical family nearest any point (a trained model, say), and its classification.

    The nearest family is found in closed form from the product (see the module
    docstring), for networks of any depth without weight decay. Critical or not, the
    point is measured against it; when ``fastscape.classify`` finds the point
    critical, its result is attached.

    Parameters
    ----------
    weights : list of array_like
        [W_1, ..., W_H] (numpy, torch or JAX arrays).
    moments : Moments
    tol : float, optional
        Relative tolerance passed to ``classify`` (default sqrt(eps)).

    Returns
    -------
    Location

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> B = np.array([[1.9, 0.1]]); A = np.array([[1.0], [0.05]])
    >>> loc = fastscape.locate([B, A], m)
    >>> loc.index_set, round(loc.distance, 3), loc.classification is None
    ((0,), 0.17, True)
    """
    m = as_moments(moments)
    ws = as_weights(weights)
    widths = (ws[0].shape[1],) + tuple(w.shape[0] for w in ws)
    if widths[0] != m.dx or widths[-1] != m.dy:
        raise ValueError(
            f"weights map {widths[0]} inputs to {widths[-1]} outputs but the data have "
            f"dx = {m.dx}, dy = {m.dy}"
        )
    basis = mode_basis(m)
    info = FamilyInfo(m, widths)
    w = product(ws)
    q = basis.values.size
    c = np.einsum("ai,ab,bi->i", basis.u[:, :q], w, basis.pq)[None, :]
    mask, d2 = nearest_sets(c, basis.a, np.array([float(np.sum(w * w))]), info.p)
    s = tuple(int(i) for i in np.flatnonzero(mask[0]))
    dist = float(np.sqrt(d2[0]))
    scale = float(np.sqrt(np.sum(basis.a)))
    value = loss(ws, m)
    gmin = global_min_loss(m, widths)
    try:
        cls = classify(ws, m, tol=tol)
    except HessianTooLargeError:
        cls = None
    if cls is not None and cls.kind == "not_critical":
        cls = None
    return Location(
        s,
        dist,
        dist / scale if scale > 0 else 0.0,
        info.critical_loss(s),
        info.morse_index(s),
        float(value),
        float(value - gmin),
        cls,
    )
