"""Extreme Hessian eigenvalues by block thick-restart Lanczos on the batched HVP.

The method is block Krylov-Schur for a symmetric operator (Stewart 2001; Zhou & Saad
2008 for the block form): an orthonormal basis Q and a small symmetric T with
H Q = Q T + Q_next E^T are grown one block of b vectors at a time (every new block
is orthogonalised against the whole basis by two classical Gram-Schmidt passes,
"twice is enough": Giraud, Langou & Rozloznik 2005), T's eigenpairs give Ritz pairs
whose residual norms are |E^T y| exactly, and when the basis is full it is cut back
to the wanted Ritz vectors, with the couplings of converged ones set to zero
(locking: they stay in the basis, exact to within the tolerance, and are not
refined again). A block of b >= k vectors finds every eigenvalue of multiplicity up
to b: a single Krylov vector cannot see a second copy in exact arithmetic.

At the end every returned pair's residual |H x - theta x| is recomputed with one
block HVP: ``bounds`` are those recomputed norms, and for a symmetric H each interval
[theta - bound, theta + bound] contains an eigenvalue (Weyl / Kahan).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ._blas import single_threaded_blas
from ._types import Weights
from ._validate import as_int
from .moments import Moments
from .spectra_ops import HessianOperator, check_real, prepare_point

__all__ = ["EigenvalueConvergenceWarning", "HessianEigenvalues", "hessian_eigenvalues"]

WHICH = ("largest", "smallest", "magnitude")


class EigenvalueConvergenceWarning(UserWarning):
    """``hessian_eigenvalues`` stopped before every residual met the tolerance.

    The result then has ``converged=False``; its ``bounds`` still say how far each
    value may be from a true eigenvalue.

    Examples
    --------
    >>> import fastscape
    >>> issubclass(fastscape.EigenvalueConvergenceWarning, UserWarning)
    True
    """


@dataclass(frozen=True, eq=False)
class HessianEigenvalues:
    """Extreme eigenvalues of the Hessian, as returned by :func:`hessian_eigenvalues`.

    ``values`` are largest first ("largest"), smallest first ("smallest") or by
    decreasing magnitude ("magnitude"); ``bounds[i]`` = |H x_i - values[i] x_i| for
    the unit Ritz vector x_i, so an eigenvalue lies within bounds[i] of values[i];
    ``vectors`` is (N, k) or None; ``matvecs`` counts Hessian-vector products;
    ``converged`` is True when every bound is at most tol * scale, ``scale`` being
    the largest |Ritz value| seen (an estimate of |H|_2 from below).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.diag([1.0, 2.0, 3.0]), np.zeros((1, 3)), np.eye(1))
    >>> r = fastscape.hessian_eigenvalues([np.ones((1, 3))], m, k=2)
    >>> np.round(r.values, 8), r.converged
    (array([3., 2.]), True)
    """

    values: np.ndarray
    bounds: np.ndarray
    vectors: np.ndarray | None
    matvecs: int
    converged: bool
    which: str
    tol: float
    scale: float


def _order(theta, which):
    if which == "largest":
        return np.argsort(-theta, kind="stable")
    if which == "smallest":
        return np.argsort(theta, kind="stable")
    return np.argsort(-np.abs(theta), kind="stable")


def _orthonormal_block(w, q, rng, scale, passes=2):
    """Orthonormalise the rows of w against q's rows and each other; returns (rows, R).

    ``passes`` classical Gram-Schmidt passes against q (2: twice is enough; 0 when the
    caller has already done them), then a pivoted QR (for one row: its norm).
    Directions whose norm fell below round-off (an invariant subspace was found) are
    replaced by random vectors orthogonal to everything, with zero coupling in R, so
    the recurrence continues instead of breaking down.
    """
    for _ in range(passes):
        if q.shape[0]:
            w -= (w @ q.T) @ q
    if w.shape[0] == 1:  # a pivoted QR of one column is its norm: skip the N x 1 copy
        r = np.array([[np.linalg.norm(w[0])]])
        rp = r.copy()
        rows = w / r[0, 0] if r[0, 0] > 0 else np.zeros_like(w)
    else:
        qq, r, piv = scipy.linalg.qr(w.T, mode="economic", pivoting=True)
        rp = np.zeros_like(r)
        rp[:, piv] = r
        rows = np.ascontiguousarray(qq.T)
    small = np.abs(np.diag(r)) <= 1e-10 * max(scale, 1e-300)
    if np.any(small):
        for i in np.flatnonzero(small):
            x = rng.standard_normal(w.shape[1])
            basis = np.vstack([q, rows[:i]]) if q.shape[0] or i else rows[:0]
            for _ in range(2):
                if basis.shape[0]:
                    x -= (basis @ x) @ basis
            rows[i] = x / np.linalg.norm(x)
            rp[i] = 0.0
    return rows, rp


def _check_which(which):
    if not isinstance(which, str) or which not in WHICH:
        raise ValueError(f"which must be one of {WHICH}, got {which!r}")
    return which


def hessian_eigenvalues(
    weights: Weights,
    moments: Moments,
    *,
    k: int = 1,
    which: str = "largest",
    tol: float = 1e-8,
    seed: int = 0,
    vectors: bool = False,
    block: int | None = None,
    basis: int | None = None,
    max_matvecs: int | None = None,
    residual: bool = False,
    weight_decay: float = 0.0,
) -> HessianEigenvalues:
    """k extreme eigenvalues of the Hessian, with multiplicities and residual bounds.

    Block thick-restart Lanczos (see the module docstring) on the Hessian-vector
    product: O(basis N) memory and no N x N matrix. Deterministic for a given
    ``seed``. A run that stops before every residual is at most tol * scale returns
    ``converged=False`` and emits :class:`EigenvalueConvergenceWarning`.

    Parameters
    ----------
    weights : list of array_like
        [W_1, ..., W_H].
    moments : Moments
    k : int
        How many eigenvalues, 1 <= k < N.
    which : {"largest", "smallest", "magnitude"}
        Largest algebraic, smallest algebraic, or largest in absolute value.
    tol : float
        Relative residual tolerance in (0, 1): stop when |H x - theta x| <= tol * scale.
    seed : int
        Seed of the random starting block.
    vectors : bool
        Also return the (N, k) unit eigenvector estimates.
    block : int, optional
        Block size b (default k): eigenvalues of multiplicity up to b come out with their
        multiplicity; the b products of a block run one per thread.
    basis : int, optional
        Basis size kept in memory (default k + max(2 b, 20), at most N); peak memory is
        about (basis + 2 b) N floats.
    max_matvecs : int, optional
        Budget of Hessian-vector products (default 200 * basis).
    residual : bool
        Use the factors (I + W_k).
    weight_decay : float
        Adds mu I.

    Returns
    -------
    HessianEigenvalues

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.diag([1.0, 2.0]), np.zeros((2, 2)), np.eye(2))
    >>> r = fastscape.hessian_eigenvalues([np.eye(2)], m, k=3)  # H = I kron Sxx
    >>> np.round(r.values, 8), bool(r.bounds.max() < 1e-8)
    (array([2., 2., 1.]), True)
    """
    pt = prepare_point(weights, moments, residual, weight_decay)
    n = pt.n
    k = as_int(k, "k", 1, f" and < N = {n} (for all N eigenvalues use fastscape.hessian)")
    if k >= n:
        raise ValueError(
            f"k must be < N = {n}, got k = {k}; for all eigenvalues form the Hessian with "
            "fastscape.hessian and use numpy.linalg.eigvalsh"
        )
    which = _check_which(which)
    tol = check_real(tol, "tol", 0.0, 1.0, "pass a relative tolerance such as tol=1e-8")
    seed = as_int(seed, "seed", 0, " (a non-negative integer seed)")
    if not isinstance(vectors, (bool, np.bool_)):
        raise TypeError(f"vectors must be True or False, got {vectors!r}")
    b = k if block is None else as_int(block, "block", 1, " (the block size)")
    b = min(b, n - 1)
    m_basis = k + max(2 * b, 20) if basis is None else as_int(basis, "basis", 1)
    if m_basis < k + b:
        raise ValueError(f"basis must be >= k + block = {k + b}, got {m_basis}")
    m_basis = min(m_basis, n)
    budget = 200 * m_basis if max_matvecs is None else as_int(max_matvecs, "max_matvecs", 1)
    op = HessianOperator(pt, pt.moments)
    # one BLAS thread for the basis products too (see spectra_ops.apply_kernel)
    with single_threaded_blas():
        return _lanczos(op, n, k, b, m_basis, budget, which, tol, seed, vectors)


def _lanczos(op, n, k, b, m_basis, budget, which, tol, seed, vectors):
    """The block Krylov-Schur iteration of ``hessian_eigenvalues`` (inputs checked)."""
    rng = np.random.default_rng(seed)
    if n <= m_basis + b:  # tiny: the whole space is the Krylov space
        hmat = op.apply_rows(np.eye(n))
        theta, y = np.linalg.eigh(0.5 * (hmat + hmat.T))
        order = _order(theta, which)[:k]
        return _finish(op, theta[order], y[:, order].T.copy(), which, tol, vectors, theta)
    qbuf = np.empty((m_basis + b, n))  # the basis, rows 0..j-1 in use
    j = 0
    t = np.zeros((0, 0))
    e = np.zeros((0, b))
    qn, _ = _orthonormal_block(rng.standard_normal((b, n)), qbuf[:0], rng, 1.0)
    scale = 0.0
    converged = False
    while True:
        # expand: the new block's coefficients against the whole basis are T's column
        j0 = j
        w = op.apply_rows(qn)
        qbuf[j0 : j0 + b] = qn
        j = j0 + b
        q = qbuf[:j]
        c = w @ q.T  # (b, j)
        w -= c @ q
        c2 = w @ q.T  # a second pass, always: "twice is enough" (Giraud et al. 2005)
        w -= c2 @ q
        c += c2
        tn = np.zeros((j, j))
        tn[:j0, :j0] = t
        tn[j0:, :] = c
        tn[:, j0:] = c.T
        tn[j0:, j0:] = 0.5 * (c[:, j0:] + c[:, j0:].T)
        t = tn
        scale = max(scale, float(np.max(np.abs(np.linalg.eigvalsh(t)))))
        qn, r = _orthonormal_block(w, q, rng, scale, passes=0)  # w is orthogonal to q
        e = np.zeros((j, b))
        e[j0:] = r.T
        theta, y = np.linalg.eigh(t)
        order = _order(theta, which)
        res = np.linalg.norm(e.T @ y, axis=0)
        want = order[:k]
        if np.all(res[want] <= 0.5 * tol * scale):
            converged = True
        if converged or op.matvecs >= budget:
            break
        if j + b > m_basis:
            # thick restart: keep the best Ritz vectors, lock the converged ones
            keep = order[: max(k, min(m_basis - b, (m_basis + k) // 2))]
            yk = np.ascontiguousarray(y[:, keep].T)
            for c0 in range(0, n, 1 << 16):  # in place, column chunks: no second basis
                qbuf[: keep.size, c0 : c0 + (1 << 16)] = yk @ q[:, c0 : c0 + (1 << 16)]
            j = keep.size
            q = qbuf[:j]
            t = np.diag(theta[keep])
            e = y[:, keep].T @ e
            e[res[keep] <= 0.5 * tol * scale] = 0.0
            # the basis may have lost orthogonality to qn in the product: re-project
            qn, _ = _orthonormal_block(qn, q, rng, 1.0)
    x = np.ascontiguousarray(y[:, want].T @ q)
    return _finish(op, theta[want], x, which, tol, vectors, theta, scale, converged)


def _finish(op, values, x, which, tol, vectors, all_theta, scale=None, converged=True):
    """Recompute |H x - theta x| for every returned pair; warn if not converged."""
    norms = np.linalg.norm(x, axis=1)
    x = x / norms[:, None]
    hx = op.apply_rows(np.ascontiguousarray(x))
    values = np.einsum("ij,ij->i", hx, x)  # Rayleigh quotients of the unit vectors
    bounds = np.linalg.norm(hx - values[:, None] * x, axis=1)
    if scale is None:
        scale = float(np.max(np.abs(all_theta)))
    scale = max(scale, float(np.max(np.abs(values))))
    ok = bool(converged and np.all(bounds <= max(tol, 1e3 * np.finfo(float).eps) * scale))
    order = _order(values, which)
    values, bounds, x = values[order], bounds[order], x[order]
    if not ok:
        warnings.warn(
            f"hessian_eigenvalues did not converge within {op.matvecs} Hessian-vector "
            f"products (largest residual {bounds.max():.3g}, tolerance {tol * scale:.3g}); "
            "raise max_matvecs or basis, or loosen tol",
            EigenvalueConvergenceWarning,
            stacklevel=3,
        )
    return HessianEigenvalues(
        values=values,
        bounds=bounds,
        vectors=np.ascontiguousarray(x.T) if vectors else None,
        matvecs=int(op.matvecs),
        converged=ok,
        which=which,
        tol=float(tol),
        scale=float(scale),
    )
