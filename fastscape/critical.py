"""Critical points: construct (two layers; docs/theory.md), verify by the Hessian, classify.

Verification and the tolerances it uses live in ``fastscape.inertia``; the set of
results in ``fastscape.pointset``.

Data-level decisions (critical_points), relative to Moments.scale = max(lambda_1,
|Syy|_2): lambda_i <= 1e-9 scale counts as zero (q = Moments.rank() is the rank above
it) and |lambda_i - lambda_j| <= 1e-6 scale counts as a tie.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import numpy as np

from . import theory as _th
from ._gauge import random_invertible
from ._indexsets import check_set, padded, select_index_sets
from ._spectral import TiedEigenvaluesWarning, data_levels, warn_ties
from ._tolerance import TIE_RTOL
from ._types import ArrayLike, IndexSet, Ranks, Seed, Widths
from ._validate import as_flag, as_matrix, as_weight_decay, as_widths
from .deep import deep_critical_points
from .inertia import Classification, Tolerances, classify, global_min_loss
from .moments import RANK_RTOL, Moments, as_moments
from .pointset import CriticalPointSet, PointBatch, Predictions, build_point_set

__all__ = [
    "CriticalPointSet",
    "Classification",
    "TiedEigenvaluesWarning",
    "Tolerances",
    "canonical_point",
    "classify",
    "critical_points",
    "global_min_loss",
    "verify_index_sets",
]


def canonical_point(
    moments: Moments, widths: Widths, index_set: IndexSet, *, C: ArrayLike | None = None
) -> list[np.ndarray]:
    """The critical point of index set S (Baldi and Hornik 1989): [B, A], A = [U_S, 0] C and
    B = C^-1 [U_S^T Syx Sxx^-1; 0].

    ``index_set`` holds 0-based positions in Sigma's spectrum (descending); C is an
    invertible (p, p) matrix, the identity by default.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> B, A = fastscape.canonical_point(m, [2, 1, 2], [1])
    >>> np.abs(A @ B).round(3)
    array([[0., 0.],
           [0., 1.]])
    """
    m = as_moments(moments)
    dx, p, dy = _two_layer_widths(widths, m)
    vals, q, _ = data_levels(m)
    s = check_set(index_set, q, p)
    u = m.spectrum().vectors[:, list(s)]
    a = np.zeros((dy, p))
    b = np.zeros((p, dx))
    a[:, : len(s)] = u
    b[: len(s)] = u.T @ m.least_squares()
    if C is not None:
        c = as_matrix(C, "C")
        if c.shape != (p, p) or np.linalg.cond(c) > 1e12:
            raise ValueError(f"C must be an invertible ({p}, {p}) matrix")
        a, b = a @ c, np.linalg.solve(c, b)
    return [b, a]


def _two_layer_widths(widths, m):
    w = as_widths(widths)
    if len(w) != 3:
        raise ValueError(f"widths must be [dx, p, dy] for two layers, got {list(w)}")
    if w[0] != m.dx or w[2] != m.dy:
        raise ValueError(
            f"widths {list(w)} do not match the data (dx = {m.dx}, dy = {m.dy}): use "
            f"[{m.dx}, p, {m.dy}]"
        )
    return w


def _predict(vals, idx, p, dx, dy, tie_tol, tr_syy):
    """Vectorised closed forms (docs/theory.md) for index sets padded by ``padded``."""
    q = len(vals)
    M = np.zeros((len(idx), q + 1))  # column q collects the -1 padding
    M[np.arange(len(idx))[:, None], idx] = 1.0
    M = M[:, :q]
    v = np.asarray(vals[:q])
    gt = (v[:, None] > v[None, :] + tie_tol).astype(float)
    tie = (np.abs(v[:, None] - v[None, :]) <= tie_tol).astype(float)
    inv = np.sum(((1 - M) @ gt) * M, axis=1).round().astype(np.int64)
    ti = np.sum(((1 - M) @ tie) * M, axis=1).round().astype(np.int64)
    k = M.sum(axis=1).round().astype(np.int64)
    index = _th.morse_index_law(inv, q - k, p, k)
    null = k * k + (p - k) * (dx + dy) - 2 * (q - k) * (p - k) + ti
    loss = 0.5 * (tr_syy - M @ v)
    return loss, index, null


def critical_points(
    moments: Moments,
    widths: Widths,
    *,
    ranks: Ranks = "all",
    weight_decay: float = 0.0,
    verify: bool = True,
    tol: float | None = None,
    threads: int | None = None,
    gauge: str = "identity",
    seed: Seed = None,
    index_sets: Iterable[IndexSet] | None = None,
) -> CriticalPointSet:
    """Every critical point of a two-layer linear network, built, verified and classified.

    For each index set S of positions 0..q-1 of Sigma's spectrum (descending; q is its
    numerical rank) with |S| <= p the canonical point (Baldi and Hornik 1989) is built, its full
    Hessian spectrum computed (in parallel across points, see ``verify_index_sets``)
    and compared with the closed forms: loss 1/2 (tr Syy - sum_S lambda), index
    inv(S) + (q-k)(p-k), nullity k^2 + (p-k)(dx+dy) - 2(q-k)(p-k) + ties(S).

    With ``weight_decay = mu > 0`` (needs Sxx = I, else ValueError) the points are
    those of docs/theory.md (weight decay): S among {i: sigma_i > mu}, soft-thresholded
    singular values.

    Parameters
    ----------
    moments : Moments
    widths : sequence of int
        [dx, p, dy]. Longer lists are passed to ``fastscape.deep.deep_critical_points``.
    ranks : "all", "full" or int
        |S| <= p, |S| = min(p, q) (the highest rank there is), or exactly that many.
    weight_decay : float
    verify : bool
        False: closed forms only (no Hessians), kinds from the predictions.
    tol : float, optional
        Relative tolerance replacing sqrt(eps) (see the module docstring).
    threads : int, optional
        Threads for the Hessian verification (default: Numba's current setting).
    gauge : "identity" or "random"
        C = I, or a seeded random invertible C per point (orthogonal Q with weight
        decay): the points of one index set form a GL(p) orbit, O(p) with weight decay.
    seed : int, optional
        Seed for ``gauge="random"``.
    index_sets : sequence of sequences, optional
        Only these index sets (overrides ``ranks``).

    Returns
    -------
    CriticalPointSet

    Warns
    -----
    TiedEigenvaluesWarning
        When eigenvalues (singular values with weight decay) are tied.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 5)
    >>> cps = fastscape.critical_points(m, [3, 2, 3])
    >>> len(cps), cps.counts()
    (7, {'global_min': 1, 'strict_saddle': 6})
    >>> cps.index_sets[4], int(cps.morse_index[4]), int(cps.nullity[4]), cps.disagreements
    ((0, 1), 0, 4, ())
    """
    w = as_widths(widths)
    if len(w) > 3:
        return deep_critical_points(
            moments,
            widths,
            ranks=ranks,
            weight_decay=weight_decay,
            verify=verify,
            tol=tol,
            threads=threads,
            gauge=gauge,
            seed=seed,
            index_sets=index_sets,
        )
    m = as_moments(moments)
    dx, p, dy = _two_layer_widths(w, m)
    mu = as_weight_decay(weight_decay)
    verify = as_flag(verify, "verify")
    if gauge not in ("identity", "random"):
        raise ValueError(f"gauge must be 'identity' or 'random', got {gauge!r}")
    rng = np.random.default_rng(seed)
    if mu > 0:
        return _weight_decay_points(
            m, dx, p, dy, mu, ranks, verify, tol, threads, gauge, rng, index_sets
        )
    vals, q, tie_tol = data_levels(m)
    warn_ties(vals[:q], tie_tol, "eigenvalues of Sigma")
    sets = select_index_sets(ranks, index_sets, q, p)
    vecs = m.spectrum().vectors
    # unit j of the point of S uses eigenvector S[j]: A = U_S, B = U_S^T Syx Sxx^-1;
    # a zero column appended to U (index -1) fills the unused units
    padded_u = np.concatenate([vecs, np.zeros((dy, 1))], axis=1)
    idx = padded(sets, p)
    a = np.moveaxis(padded_u[:, idx], 0, 1)  # (n, dy, p)
    b = (padded_u.T @ m.least_squares())[idx]  # (n, p, dx)
    if gauge == "random":
        for r in range(len(sets)):
            c = random_invertible(rng, p, orthogonal=False)
            a[r], b[r] = a[r] @ c, np.linalg.solve(c, b[r])
    thetas = np.concatenate([b.reshape(len(sets), -1), a.reshape(len(sets), -1)], axis=1)
    loss, index, null = _predict(vals[:q], idx, p, dx, dy, tie_tol, m.trace_syy)
    gmin = _th.global_min_loss_two_layer(vals[:q], min(w), m.trace_syy)
    rep = "canonical" if gauge == "identity" else "random_gauge"
    return build_point_set(
        PointBatch(thetas, w, m, sets, basis=vecs),
        Predictions(loss, index, null, rep),
        verify=verify,
        tol=tol,
        threads=threads,
        global_min_loss=gmin,
    )


def _weight_decay_points(m, dx, p, dy, mu, ranks, verify, tol, threads, gauge, rng, index_sets):
    if not _th.is_whitened(m.sxx):
        raise ValueError(
            "critical_points with weight_decay > 0 needs whitened inputs (Sxx = I): only then "
            "are the critical points known in closed form (docs/theory.md). Whiten X first "
            "(X @ Sxx^-1/2), or classify your own points with fastscape.classify, which works "
            "for any Sxx"
        )
    sv = np.linalg.svd(m.syx, compute_uv=False)
    scale = max(float(sv[0]) if sv.size else 0.0, math.sqrt(np.linalg.norm(m.syy, 2)))
    tie_tol = TIE_RTOL * scale
    warn_ties(sv[sv > RANK_RTOL * scale], tie_tol, "singular values of Syx")
    near = np.abs(sv - mu) <= tie_tol
    if np.any(near):
        warnings.warn(
            f"singular values at positions {np.flatnonzero(near).tolist()} equal weight_decay "
            f"= {mu:g}: those directions are degenerate (extra zero Hessian eigenvalues)",
            TiedEigenvaluesWarning,
            stacklevel=2,
        )
    q_mu = int(np.sum(sv > mu + tie_tol))
    sets = select_index_sets(ranks, index_sets, q_mu, p)
    rows, pl, pi, pn = [], [], [], []
    for s in sets:
        qm = random_invertible(rng, p, orthogonal=True) if gauge == "random" else None
        b, a = _th.weight_decay_critical_point(m, p, s, mu, Q=qm)
        rows.append(np.concatenate([b.ravel(), a.ravel()]))
        pl.append(_th.weight_decay_loss(sv, s, mu, m.trace_syy))
        pi.append(_th.weight_decay_morse_index(sv, s, p, mu, tie_tol=tie_tol))
        pn.append(_th.weight_decay_nullity(sv, s, p, tie_tol=tie_tol))
    thetas = np.array(rows).reshape(len(sets), p * (dx + dy))
    gmin = _th.weight_decay_global_min_loss(sv, p, mu, m.trace_syy)
    rep = "canonical" if gauge == "identity" else "random_gauge"
    basis = m.spectrum().vectors  # Syx's left singular vectors (Sxx = I)
    return build_point_set(
        PointBatch(thetas, (dx, p, dy), m, sets, weight_decay=mu, basis=basis),
        Predictions(pl, pi, pn, rep),
        verify=verify,
        tol=tol,
        threads=threads,
        global_min_loss=gmin,
    )


def verify_index_sets(
    moments: Moments,
    widths: Widths,
    index_sets: Iterable[IndexSet],
    *,
    weight_decay: float = 0.0,
    tol: float | None = None,
    threads: int | None = None,
) -> CriticalPointSet:
    """Build and Hessian-verify the canonical points of the given index sets only.

    The batch entry point for enumeration code (``--verify hessian``): equivalent to
    ``critical_points(moments, widths, index_sets=index_sets, ...)``. Points are spread
    over ``threads`` threads (a Numba prange loop over interleaved chunks of points; each
    chunk fills its Hessians into its own buffer and counts their eigenvalues inside the
    kernel; see ``fastscape.inertia``).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 5)
    >>> r = fastscape.verify_index_sets(m, [3, 2, 3], [(0, 2), (1, 2)])
    >>> r.morse_index.tolist(), r.predicted_morse_index.tolist(), r.disagreements
    ([1, 2], [1, 2], ())
    """
    return critical_points(
        moments, widths, weight_decay=weight_decay, tol=tol, threads=threads, index_sets=index_sets
    )
