"""Classify a point without the dense Hessian: the route ``classify(method="matrix-free")``.

Tests, in order (the first that settles the kind is reported in ``decided_by``):

1. "gradient": |grad| above the gradient tolerance of ``fastscape.classify`` ->
   not critical;
2. "loss": the loss equals the global value (same tolerance as the dense route) ->
   global minimum (Morse index 0);
3. "rank rule" (plain networks: no residual form, no weight decay): the rank rule of
   ``fastscape.predict_kind`` (sufficiency proved, necessity checked against the
   Hessian) separates strict from non-strict saddles without any eigenvalue; at a
   strict saddle a short Lanczos run still reports the smallest eigenvalue seen;
4. "lanczos": a Rayleigh quotient v^T H v / v^T v below -tol certifies that the
   smallest eigenvalue is negative (lambda_min <= any Rayleigh quotient), so the point
   is a strict saddle. A short Lanczos run for the smallest eigenvalue (then a longer
   one if it found nothing) gives it, with its residual bound;
5. otherwise "lanczos" again: no negative curvature was found within the budget, so the
   point is labelled non-strict (or a local minimum with weight decay when the smallest
   Ritz value is clearly positive). This is the one label without a proof: a Krylov
   method cannot exclude an eigenvalue it has not seen; ``min_eigenvalue`` and its
   bound say what was seen.

The Morse index is reported only where it is known: 0 at global minima and non-strict
saddles, the closed form inv(S) + (q - k)(p - k) for two-layer points, else None.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from . import theory as _th
from .classify_methods import register
from .deep import predict_kind
from .kernels import derivatives as _kd
from .moments import Moments
from .spectra_dense import dense_point  # noqa: F401  (registers classify's progress route)
from .spectra_lanczos import EigenvalueConvergenceWarning, hessian_eigenvalues
from .spectra_ops import prepare_point

__all__ = ["MatrixFreeClassification"]

#: Hessian-vector products spent on the smallest eigenvalue: a short run, then a longer
#: one only when the first found no negative curvature.
LANCZOS_BUDGETS = (30, 150)


@dataclass(frozen=True, eq=False)
class MatrixFreeClassification:
    """What ``classify(..., method="matrix-free")`` found, and which test decided it.

    ``kind`` as in :class:`fastscape.Classification`; ``decided_by`` is "gradient",
    "loss", "lanczos" or "rank rule"; ``morse_index`` and ``nullity`` are None where
    not known; ``min_eigenvalue`` is the smallest Ritz value found (None when no
    eigenvalue was computed) and ``min_eigenvalue_bound`` its residual bound;
    ``eigenvalue_tol`` is the absolute level below which a Rayleigh quotient counts
    as negative; ``matvecs`` counts Hessian-vector products.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> A = np.array([[1.0], [0.0]]); B = np.array([[2.0, 0.0]])
    >>> c = fastscape.classify([B, A], m, method="matrix-free")
    >>> c.kind, c.decided_by, c.morse_index
    ('global_min', 'loss', 0)
    >>> c = fastscape.classify([B[:, ::-1] / 2, A[::-1]], m, method="matrix-free")
    >>> c.kind, c.decided_by, c.morse_index, bool(c.min_eigenvalue < 0)
    ('strict_saddle', 'rank rule', 1, True)
    """

    kind: str
    decided_by: str
    morse_index: int | None
    nullity: int | None
    min_eigenvalue: float | None
    min_eigenvalue_bound: float | None
    grad_norm: float
    loss: float
    global_min_loss: float
    grad_tol: float
    eigenvalue_tol: float | None
    loss_tol: float
    matvecs: int


def _two_layer_laws(ws, m, index_set):
    """(morse_index, nullity) from the closed forms for a two-layer critical point."""
    q = m.rank()
    vals = m.spectrum().values[:q]
    tie = 1e-6 * m.scale
    p = ws[0].shape[0]
    s = list(index_set)
    return (
        int(_th.morse_index(vals, s, p, tie_tol=tie)),
        int(_th.nullity(vals, s, p, m.dx, m.dy, tie_tol=tie)),
    )


def _smallest(ws, m, residual, mu, rtol, budget):
    """Smallest Ritz value, its bound, the |H| scale seen and the HVP count."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EigenvalueConvergenceWarning)
        r = hessian_eigenvalues(
            ws,
            m,
            k=1,
            which="smallest",
            tol=max(rtol, 1e-12),
            max_matvecs=budget,
            residual=residual,
            weight_decay=mu,
        )
    return float(r.values[0]), float(r.bounds[0]), r.scale, r.matvecs


def classify_matrix_free(ws, m: Moments, residual, mu, rtol, gmin, exact, g_tol):
    """The matrix-free route of ``fastscape.classify`` (inputs already checked there)."""
    pt = prepare_point(ws, m, residual, mu)
    grad = np.empty_like(pt.theta)
    loss = float(
        _kd.loss_gradient(pt.theta, pt.widths, m.sxx, m.syx, m.trace_syy, residual, mu, grad)
    )
    grad_norm = float(np.linalg.norm(grad))
    if not exact:
        gmin = min(gmin, loss)
    l_tol = rtol * max(m.trace_syy, abs(loss), abs(gmin))
    plain = not residual and mu == 0.0
    two_layer = plain and len(ws) == 2

    def done(kind, by, index=None, null=None, lam=None, bound=None, e_tol=None, mv=0):
        return MatrixFreeClassification(
            kind, by, index, null, lam, bound, grad_norm, loss, gmin, g_tol, e_tol, l_tol, mv
        )

    if grad_norm > g_tol:
        return done("not_critical", "gradient")
    pred = predict_kind(ws, m, tol=rtol) if plain else None
    laws = (
        _two_layer_laws(ws, m, pred.index_set) if two_layer and pred is not None else (None, None)
    )
    if abs(loss - gmin) <= l_tol:
        return done("global_min", "loss", 0, laws[1])
    if pred is not None and pred.kind == "non_strict_saddle":
        return done("non_strict_saddle", "rank rule", 0, laws[1])
    lam, bound, e_tol, mv = _certificate(ws, m, residual, mu, rtol, pt.n)
    info = dict(lam=lam, bound=bound, e_tol=e_tol, mv=mv)
    if pred is not None and pred.kind == "strict_saddle":
        return done("strict_saddle", "rank rule", laws[0], laws[1], **info)
    if lam < -e_tol:
        return done("strict_saddle", "lanczos", laws[0], laws[1], **info)
    if mu > 0.0 and lam - bound > e_tol:
        return done("local_min", "lanczos", 0, 0, **info)
    return done("non_strict_saddle", "lanczos", None, None, **info)


def _certificate(ws, m, residual, mu, rtol, n):
    """A short Lanczos run for the smallest eigenvalue, longer only if it found nothing.

    Returns (smallest Ritz value, its bound, the negativity level e_tol, HVPs used):
    a Ritz value below -e_tol is a Rayleigh quotient, so lambda_min is below it.
    """
    used = 0
    for budget in LANCZOS_BUDGETS:
        lam, bound, scale, mv = _smallest(ws, m, residual, mu, rtol, budget)
        used += mv
        floor = 16.0 * math.sqrt(n) * np.finfo(float).eps * scale
        e_tol = max(rtol * scale, floor)
        if lam < -e_tol:
            break
    return lam, bound, e_tol, used


register("matrix-free", classify_matrix_free)
