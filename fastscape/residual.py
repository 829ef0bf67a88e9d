"""Residual linear networks W = (I + W_H) ... (I + W_1) (Hardt and Ma 2016; docs/theory.md).

- Theorem 2, constructively: ``residual_global_min(R, depth)`` builds equal layers
  W_k = expm(logm(R) / H) - I with (I + W_H) ... (I + W_1) = R exactly, so the point is
  a global minimum (and critical) for data y = R x + noise, with
  max_k |W_k|_2 <= exp(|log R|_2 / H) - 1 = O(1/H).
- Theorem 1, numerically: ``hardt_ma_experiment`` looks for critical points inside the
  ball max_k |W_k|_2 <= tau < 1 by minimising |grad|^2 from small random starts
  (critical points of any kind are zeros of |grad|^2) and classifies what it finds.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.optimize

from ._tolerance import relative_tol
from ._types import ArrayLike, Seed
from ._validate import as_int, as_matrix
from .moments import Moments, as_moments

__all__ = ["HardtMaResult", "hardt_ma_experiment", "residual_global_min", "residual_moments"]


def _real_log(R: np.ndarray) -> np.ndarray:
    d = R.shape[0]
    ev = np.linalg.eigvals(R)
    scale = max(1.0, float(np.abs(ev).max()))
    det = float(np.linalg.det(R))
    if det <= 0 or np.any(np.abs(ev) <= 1e-12 * scale):
        raise ValueError(
            f"R has det = {det:.3g} <= 0: no real matrix root or logarithm exists, and no "
            "product of factors I + W_k with |W_k|_2 < 1 can equal R (each such factor has "
            "positive determinant); flip the sign of one output (a row of R) to make det R > 0"
        )
    neg = ev[(np.abs(ev.imag) <= 1e-12 * scale) & (ev.real < 0)]
    if neg.size:
        raise ValueError(
            f"R has {neg.size} negative real eigenvalue(s) "
            f"({', '.join(f'{x.real:.3g}' for x in neg)}): "
            "its principal logarithm is not real, so expm(logm(R)/H) is not a real root; "
            "rotate or reflect the data so that R has no eigenvalue on the negative real axis"
        )
    log = scipy.linalg.logm(R)
    if np.iscomplexobj(log):
        if np.abs(log.imag).max() > 1e-8 * max(1.0, np.abs(log.real).max()):
            raise ValueError("the principal logarithm of R is not real; see the eigenvalues")
        log = log.real
    return np.ascontiguousarray(log, dtype=float).reshape(d, d)


def residual_global_min(R: ArrayLike, depth: int) -> list[np.ndarray]:
    """Layers W_1 = ... = W_H = expm(logm(R) / H) - I with (I + W_H)...(I + W_1) = R.

    Hardt & Ma's Theorem 2 made constructive: for data y = R x + noise this point is a
    global minimum of the residual network, and H * max_k |W_k|_2 stays bounded (by
    H (exp(|logm R|_2 / H) - 1) -> |logm R|_2) as H grows.

    Parameters
    ----------
    R : array_like, shape (d, d)
        Target map with det R > 0 and no eigenvalue on the negative real axis.
    depth : int
        Number of layers H >= 1.

    Raises
    ------
    ValueError
        If det R <= 0 (no real root: every factor I + W_k near I has positive
        determinant) or R has a negative real eigenvalue (no real principal logarithm).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> R = np.array([[2.0, 1.0], [0.0, 1.5]])
    >>> ws = fastscape.residual_global_min(R, 8)
    >>> bool(np.allclose(fastscape.product(ws, residual=True), R))
    True
    >>> round(float(8 * max(np.linalg.norm(w, 2) for w in ws)), 3)
    0.992
    """
    R = as_matrix(R, "R")
    if R.shape[0] != R.shape[1]:
        raise ValueError(f"R must be square (residual layers are d x d), got shape {R.shape}")
    depth = as_int(depth, "depth", 1)
    step = scipy.linalg.expm(_real_log(R) / depth) - np.eye(R.shape[0])
    return [step.copy() for _ in range(depth)]


def residual_moments(R: ArrayLike, *, noise: float = 0.1, sxx: ArrayLike | None = None) -> Moments:
    """Population moments of y = R x + noise: Syx = R Sxx, Syy = R Sxx R^T + noise^2 I.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.residual_moments(np.eye(2) * 2)
    >>> m.syx
    array([[2., 0.],
           [0., 2.]])
    """
    R = as_matrix(R, "R")
    d = R.shape[0]
    sxx = np.eye(R.shape[1]) if sxx is None else as_matrix(sxx, "sxx")
    return Moments(sxx, R @ sxx, R @ sxx @ R.T + float(noise) ** 2 * np.eye(d))


class HardtMaResult(NamedTuple):
    """Critical points found inside the ball max_k |W_k|_2 <= tau, one row per start.

    ``inside`` marks converged points (|grad| small) within the ball; ``kinds`` are
    ``fastscape.classify`` kinds; Theorem 1 says every inside point is a global minimum.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.residual_moments(np.diag([1.2, 0.9]))
    >>> res = fastscape.hardt_ma_experiment(m, 2, starts=1, start_norm=0.1)
    >>> res.kinds, bool(res.inside[0]), res.all_inside_global
    (('global_min',), True, True)
    """

    tau: float
    max_norms: np.ndarray
    grad_norms: np.ndarray
    losses: np.ndarray
    kinds: tuple
    inside: np.ndarray
    global_min_loss: float

    @property
    def all_inside_global(self) -> bool:
        """True iff every critical point found inside the ball is a global minimum."""
        return all(k == "global_min" for k, i in zip(self.kinds, self.inside, strict=True) if i)


def hardt_ma_experiment(
    moments: Moments,
    depth: int,
    *,
    tau: float = 0.9,
    starts: int = 8,
    start_norm: float = 0.3,
    seed: Seed = 0,
    grad_rtol: float = 1e-9,
    tol: float | None = None,
) -> HardtMaResult:
    """Hardt & Ma's Theorem 1 as an experiment: critical points in the tau-ball are global.

    From ``starts`` random points with max_k |W_k|_2 = start_norm, minimise |grad l|^2
    (gradient 2 H g by Hessian-vector products) with L-BFGS; this converges to critical
    points of every kind, not only minima. Each end point is classified with
    ``fastscape.classify(residual=True)`` and marked inside if
    |grad| <= ``grad_rtol`` * max(1, |Syx|_F) and max_k |W_k|_2 <= tau. (``tol=`` is the
    deprecated name of ``grad_rtol``; it warns.)

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> R = np.array([[1.3, 0.2], [-0.1, 0.9]])
    >>> res = fastscape.hardt_ma_experiment(fastscape.residual_moments(R), 3, starts=3)
    >>> res.all_inside_global, bool(res.inside.any())
    (True, True)
    """
    from .inertia import classify
    from .kernels import derivatives as _kd
    from .network import flatten, unflatten

    if tol is not None:
        warnings.warn(
            "hardt_ma_experiment(tol=) is deprecated: the gradient ratio is grad_rtol=",
            DeprecationWarning,
            stacklevel=2,
        )
        grad_rtol = tol
    grad_rtol = relative_tol(grad_rtol, "grad_rtol")
    moments = as_moments(moments)
    depth = as_int(depth, "depth", 1)
    starts = as_int(starts, "starts", 1)
    if moments.dx != moments.dy:
        raise ValueError(
            f"residual layers are square: need dx == dy, got {moments.dx} != {moments.dy}"
        )
    if not 0 < tau < 1:
        raise ValueError(f"tau must lie in (0, 1), got {tau}")
    d = moments.dx
    widths = [d] * (depth + 1)
    rng = np.random.default_rng(seed)
    scale = max(1.0, float(np.linalg.norm(moments.syx)))

    wid = np.asarray(widths, dtype=np.int64)
    sxx, syx = moments.sxx, moments.syx

    def fg(theta):  # the kernels directly: inputs were checked once, above
        g = np.empty_like(theta)
        _kd.gradient(theta, wid, sxx, syx, True, 0.0, g)
        hg = np.empty_like(theta)
        _kd.hvp(theta, wid, sxx, syx, True, 0.0, g, hg)
        return float(g @ g), 2.0 * hg

    norms, grads, losses, kinds, inside = [], [], [], [], []
    gmin = None
    for _ in range(starts):
        ws = []
        for _k in range(depth):
            a = rng.standard_normal((d, d))
            ws.append(a * (start_norm / np.linalg.norm(a, 2)))
        res = scipy.optimize.minimize(
            fg,
            flatten(ws),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 3000, "ftol": 0.0, "gtol": 1e-13},
        )
        ws = [w.copy() for w in unflatten(res.x, widths)]
        c = classify(ws, moments, residual=True)
        gmin = c.global_min_loss
        mx = max(float(np.linalg.norm(w, 2)) for w in ws)
        norms.append(mx)
        grads.append(c.grad_norm)
        losses.append(c.loss)
        kinds.append(c.kind)
        inside.append(c.grad_norm <= grad_rtol * scale and mx <= tau)
    return HardtMaResult(
        float(tau),
        np.array(norms),
        np.array(grads),
        np.array(losses),
        tuple(kinds),
        np.array(inside),
        float(gmin),  # type: ignore[arg-type]  # starts >= 1: set in the loop
    )
