"""Verify points by their full Hessians, in parallel, and classify them (docs/theory.md).

Many points of one network are checked in one call. The points are cut into
interleaved chunks (c, c + n, c + 2n, ...), and each chunk runs the nogil kernel
``kernels.inertia.inertia_range``: it fills every Hessian into the chunk's own
buffer, splits it into blocks and counts the eigenvalues below -tol and above tol
by tridiagonal reductions (Householder) and Sturm counts, with OpenBLAS held at
one thread (``_blas``). ``critical_points`` verifies its canonical points in the
eigenbasis of Sigma, where their Hessians split into one small block per hidden
unit (see ``kernels.inertia``). Results do not depend on the thread count or the
engine.

Two engines run the chunks: a thread pool calling ``inertia_range`` (the default) and a
Numba prange loop (``kernels.inertia.inertia_parallel``, chunks handed out
dynamically). Both scale alike with the thread count (figures on the documentation's
benchmark page), but the prange loop takes much longer to compile on first use, so the
pool is the default.
Numba's workqueue threading layer (used where neither OpenMP nor TBB is available)
must not be entered by two threads at once, so a call made while another thread is
inside the prange engine uses the pool instead.

Tolerances (all relative, default ``rtol = sqrt(eps) ~ 1.5e-8``; ``tol=`` overrides it):

- gradient: |grad| <= rtol * g_scale, g_scale = (|Syx|_F + |Sxx|_2 prod_j |F_j|_F)
  max_k prod_{j != k} |F_j|_F + mu |theta|, a bound on the size of the gradient's terms
  (F_j = W_j, or I + W_j when residual); round-off in a critical point is eps * g_scale;
- eigenvalues: |e| <= rtol * max|eig(H)| counts as zero (a Hessian computed in floating
  point has eigenvalue errors ~ N eps |H|, far below; sqrt(eps) leaves room for the
  error of the point itself, which moves eigenvalues by ~ |point error| * |H|);
- loss: |l - l_min| <= rtol * max(tr Syy, |l|, |l_min|) means "at the global value".

Data-level decisions (critical_points), relative to Moments.scale = max(lambda_1,
|Syy|_2): lambda_i <= 1e-9 scale counts as zero (q = Moments.rank() is the rank above
it) and |lambda_i - lambda_j| <= 1e-6 scale counts as a tie.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple

import numba
import numpy as np
import scipy.optimize

from . import classify_methods as _routes
from . import theory as _th
from ._blas import single_threaded_blas
from ._tolerance import RTOL, gradient_scale, loss_tolerance, relative_tol
from ._types import Weights, Widths
from ._validate import as_flag, as_int, as_weight_decay, as_weights, as_widths
from .derivatives import HessianTooLargeError, available_memory
from .kernels import derivatives as _kd
from .kernels import inertia as _ki
from .moments import Moments, as_moments
from .warmup import register_warmup

__all__ = ["Classification", "Tolerances", "classify", "global_min_loss"]

_log = logging.getLogger("fastscape")
#: Hessian entries below DECOUPLE * rtol * |H|_F / N may be dropped to split the
#: Hessian into blocks, only when Weyl's inequality certifies the inertia unchanged.
DECOUPLE = 1e-3
KINDS = ("global_min", "strict_saddle", "non_strict_saddle", "local_min", "not_critical")


class Tolerances(NamedTuple):
    """Absolute tolerances actually used (see the module docstring for how they scale).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(1), np.array([[2.0]]), np.array([[4.0]]))
    >>> t = fastscape.classify([np.array([[2.0]])], m).tol
    >>> t.grad > 0, t.loss > 0
    (True, True)
    """

    grad: float
    eigenvalue: float
    loss: float


@dataclass(frozen=True, eq=False)
class Classification:
    """What a point is, as returned by :func:`classify`.

    ``kind`` is one of "global_min", "strict_saddle", "non_strict_saddle", "local_min",
    "not_critical"; ``global_min_loss`` is the value the loss was compared with and
    ``tol`` the absolute :class:`Tolerances` used.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(1), np.array([[2.0]]), np.array([[4.0]]))
    >>> c = fastscape.classify([np.array([[1.0]]), np.array([[2.0]])], m)
    >>> c.kind, c.morse_index, c.nullity, c.loss, c.global_min_loss
    ('global_min', 0, 1, 0.0, 0.0)
    """

    kind: str
    morse_index: int
    nullity: int
    min_eigenvalue: float
    grad_norm: float
    loss: float
    global_min_loss: float
    tol: Tolerances


def _factor_norms(thetas, widths, residual):
    off = np.concatenate([[0], np.cumsum(widths[1:] * widths[:-1])])
    norms = []
    for k in range(len(widths) - 1):
        blk = thetas[:, off[k] : off[k + 1]]
        sq = np.sum(blk * blk, axis=1)
        if residual:
            d = widths[k]
            diag = blk[:, :: d + 1]
            sq = sq + 2 * np.sum(diag, axis=1) + d
        norms.append(np.sqrt(np.maximum(sq, 0.0)))
    return np.array(norms)  # (H, P)


def _check_threads(threads):
    return numba.get_num_threads() if threads is None else as_int(threads, "threads", 1)


def _rotate_outputs(thetas, widths, syx, basis):
    """The same points and data in the output coordinates y' = basis^T y.

    An orthogonal change of coordinates: loss, gradient norm and Hessian eigenvalues
    are unchanged (the Hessian is Q^T H Q with Q = basis (x) I on the last layer).
    """
    w = np.asarray(widths, dtype=np.int64)
    start = int(np.sum(w[1:-1] * w[:-2]))
    out = thetas.copy()
    last = out[:, start:].reshape(len(out), w[-1], w[-2])
    last[...] = np.matmul(basis.T, last)
    syx = np.ascontiguousarray(basis.T @ syx)
    syx.flags.writeable = False  # as Moments' own arrays: one compiled variant, not two
    return out, syx


def _inertia(
    thetas,
    widths,
    m,
    residual,
    mu,
    rtol,
    floors,
    threads,
    engine="pool",
    blocks=True,
    decouple=DECOUPLE,
    basis=None,
    progress=None,
):
    """Loss, gradient norm, (min, max) Hessian eigenvalue and (#neg, #pos) of every row.

    An eigenvalue counts as zero when |e| <= max(rtol * max|eig|, floors[i]). With
    ``basis`` (an orthogonal dy x dy matrix; not for residual nets) the points are
    verified in the output coordinates basis^T y, where their Hessians may split into
    smaller blocks; the results are the same up to round-off. ``progress`` (True or a
    callable, one point only) runs the point through the ``"dense-progress"`` route,
    which reports the reduction as it goes and gives the same numbers.
    """
    thetas = np.require(thetas, dtype=np.float64, requirements=["C", "W"])
    P, N = thetas.shape
    w = np.asarray(widths, dtype=np.int64)
    syx = m.syx
    if basis is not None:
        if residual:  # I + W_H is not rotated by rotating W_H
            raise ValueError("an output basis needs a plain (not residual) network")
        thetas, syx = _rotate_outputs(thetas, w, syx, basis)
    floors = np.ascontiguousarray(floors, dtype=np.float64)
    losses = np.empty(P)
    gn = np.empty(P)
    extremes = np.empty((P, 2))
    inertia = np.empty((P, 2), dtype=np.int64)
    args: tuple = (w, m.sxx, syx, m.trace_syy, residual, float(mu), bool(blocks))
    args = args + (float(decouple), float(rtol), floors, losses, gn, extremes, inertia)
    nthreads = _check_threads(threads)
    per_thread = 2 * 8 * N * N  # the Hessian and its block gather
    budget = 0.5 * available_memory()
    if per_thread > budget:
        raise HessianTooLargeError(
            f"verifying a point needs the dense Hessian of N = {N} parameters, about "
            f"{per_thread / 2**30:.2f} GiB of work space, more than half of the available "
            f"memory: use a smaller network, or fastscape.hvp-based checks"
        )
    nthreads = max(1, min(nthreads, int(budget // per_thread)))
    with single_threaded_blas():
        if progress and P == 1:
            _routes.route("dense-progress")(thetas, args, progress)
        else:
            _run_chunks(thetas, P, args, nthreads, engine)
    bad = np.flatnonzero(~np.isfinite(extremes[:, 0]))
    if bad.size:
        raise ValueError(
            f"the Hessian at point {bad[0]} is not finite (overflow in the weights or data): "
            "rescale the data (e.g. standardise X and Y) or the weights"
        )
    return losses, gn, extremes, inertia


#: Held while a thread runs the prange engine (the workqueue layer is not reentrant).
_PRANGE = threading.Lock()


def _run_chunks(thetas, P, args, nthreads, engine):
    nchunks = min(P, 32 * nthreads)
    if nthreads == 1 or P == 1:
        _ki.inertia_range(thetas, 0, P, 1, args)
    elif engine == "prange" and _PRANGE.acquire(blocking=False):
        old = numba.get_num_threads()
        try:
            limit = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
            numba.set_num_threads(min(nthreads, limit))
            with numba.parallel_chunksize(1):  # chunks handed out as threads come free
                _ki.inertia_parallel(thetas, nchunks, args)
        finally:
            numba.set_num_threads(old)
            _PRANGE.release()
    else:
        with ThreadPoolExecutor(nthreads) as ex:
            futs = [
                ex.submit(_ki.inertia_range, thetas, c, P, nchunks, args) for c in range(nchunks)
            ]
            for f in futs:
                f.result()


@dataclass(frozen=True, eq=False)
class Assessment:
    """What :func:`assess` measured, one entry per point (arrays), and the global value.

    ``kind`` holds the point kinds; ``grad_tol``, ``eigenvalue_tol`` and ``loss_tol``
    the absolute tolerances used; ``global_min_loss`` the value the losses were
    compared with (lowered to the batch's lowest loss when it was not exact).
    """

    loss: np.ndarray
    grad_norm: np.ndarray
    min_eigenvalue: np.ndarray
    morse_index: np.ndarray
    nullity: np.ndarray
    kind: np.ndarray
    grad_tol: np.ndarray
    eigenvalue_tol: np.ndarray
    loss_tol: np.ndarray
    global_min_loss: float


def assess(
    thetas: np.ndarray,
    widths,
    m: Moments,
    *,
    residual: bool,
    weight_decay: float,
    global_min: float,
    exact: bool,
    tol: float | None,
    threads: int | None,
    basis: np.ndarray | None = None,
    progress=None,
) -> Assessment:
    """Verify and classify every row of ``thetas`` (flat points of one network).

    When the global value is not ``exact`` (a numerical minimum, an upper bound) and a
    point is lower, the lowest loss of the batch is used instead (and returned).
    ``progress`` (one point): see ``_inertia``.
    """
    rtol = relative_tol(tol)
    widths = np.asarray(widths, dtype=np.int64)
    mu = weight_decay
    with np.errstate(over="ignore", invalid="ignore"):  # overflow: _inertia says so
        return _assess_scaled(
            thetas, widths, m, residual, mu, global_min, exact, rtol, threads, basis, progress
        )


def _assess_scaled(thetas, widths, m, residual, mu, gmin, exact, rtol, threads, basis, progress):
    fn = _factor_norms(thetas, widths, residual)
    g_scale, prod_all, others = gradient_scale(fn, m)
    sxx2 = np.linalg.norm(m.sxx, 2)
    g_scale = g_scale + mu * np.linalg.norm(thetas, axis=1)
    g_tol = rtol * g_scale
    # floor: round-off of a Hessian whose entries are bounded by h_scale (a Hessian that
    # is zero in exact arithmetic must not be called indefinite from its round-off)
    pairs = [
        np.prod(np.delete(fn, [k, j], axis=0), axis=0)
        for k in range(fn.shape[0])
        for j in range(k + 1, fn.shape[0])
    ]
    h_scale = sxx2 * others**2 + mu
    if pairs:
        h_scale = h_scale + (np.linalg.norm(m.syx) + sxx2 * prod_all) * np.max(pairs, axis=0)
    n_par = thetas.shape[1]
    floor = 16 * n_par * np.finfo(float).eps * h_scale
    losses, gn, ext, inertia = _inertia(
        thetas, widths, m, residual, mu, rtol, floor, threads, basis=basis, progress=progress
    )
    if not exact:
        gmin = min(gmin, float(np.min(losses)))
    e_tol = np.maximum(rtol * np.max(np.abs(ext), axis=1), floor)
    l_tol = loss_tolerance(rtol, m, losses, gmin)
    neg = inertia[:, 0]
    null = n_par - neg - inertia[:, 1]
    kind = np.where(
        gn > g_tol,
        "not_critical",
        np.where(
            np.abs(losses - gmin) <= l_tol,
            "global_min",
            np.where(
                neg > 0,
                "strict_saddle",
                np.where(null == 0, "local_min", "non_strict_saddle"),
            ),
        ),
    )
    return Assessment(
        loss=losses,
        grad_norm=gn,
        min_eigenvalue=ext[:, 0].copy(),
        morse_index=neg,
        nullity=null,
        kind=kind.astype(object),
        grad_tol=g_tol,
        eigenvalue_tol=e_tol,
        loss_tol=l_tol,
        global_min_loss=float(gmin),
    )


def global_min_loss(
    moments: Moments, widths: Widths, *, residual: bool = False, weight_decay: float = 0.0
) -> float:
    """The global minimum value of the (regularised) loss that ``classify`` compares with.

    - no weight decay: 1/2 (tr Syy - sum of the top p eigenvalues of Sigma), p = min
      width (residual: the least-squares loss, p = d);
    - weight decay, Sxx = I, not residual: per singular value of Syx (docs/theory.md for
      H = 2; the balanced 1-D reduction of ``theory.deep_weight_decay_global_min_loss``
      for any H, including H = 1 where it is ridge regression);
    - weight decay otherwise: no closed form. H = 1 is ridge regression (exact). For
      H >= 2 the value is the best of L-BFGS runs from a balanced SVD start and four
      seeded random starts: an upper bound on the true minimum, so a point can at worst
      be called a saddle or local minimum when it is in fact global.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> fastscape.global_min_loss(m, [2, 1, 2])
    1.0
    """
    m = as_moments(moments)
    w = as_widths(widths)
    mu = as_weight_decay(weight_decay)
    residual = as_flag(residual, "residual")
    depth = len(w) - 1
    p = w[0] if residual else min(w)
    if mu == 0.0:
        return _th.global_min_loss_two_layer(m.spectrum().values, p, m.trace_syy)
    if depth == 1 and not residual:
        ridge = np.linalg.solve(m.sxx + mu * np.eye(m.dx), m.syx.T)
        return 0.5 * (m.trace_syy - float(np.sum(m.syx.T * ridge)))
    sv = np.linalg.svd(m.syx, compute_uv=False)
    if not residual and _th.is_whitened(m.sxx):
        return _th.deep_weight_decay_global_min_loss(sv, depth, p, mu, m.trace_syy)
    return _numerical_min(m, w, residual, mu)


def _numerical_min(m, w, residual, mu) -> float:
    from .network import random_weights

    wid = np.asarray(w, dtype=np.int64)
    depth = len(w) - 1

    def fg(theta):
        g = np.empty_like(theta)
        return _kd.loss_gradient(theta, wid, m.sxx, m.syx, m.trace_syy, residual, mu, g), g

    starts = []
    if not residual:  # balanced start: rank-r truncation of the least-squares map
        u, s, vt = np.linalg.svd(m.least_squares())
        r = min(w)
        root = s[:r] ** (1.0 / depth)
        layers = []
        for k in range(depth):
            layer = np.zeros((w[k + 1], w[k]))
            if k == 0:
                layer[:r] = root[:, None] * vt[:r]
            elif k == depth - 1:
                layer[:, :r] = u[:, :r] * root
            else:
                layer[:r, :r] = np.diag(root)
            layers.append(layer)
        starts.append(np.concatenate([x.ravel() for x in layers]))
    for seed in range(4):
        starts.append(np.concatenate([x.ravel() for x in random_weights(w, seed=seed)]))
    best = np.inf
    for x0 in starts:
        res = scipy.optimize.minimize(
            fg, x0, jac=True, method="L-BFGS-B", options={"maxiter": 20000, "gtol": 1e-12}
        )
        best = min(best, float(res.fun))
    return best


def global_min_reference(m: Moments, w: Widths, residual: bool, mu: float) -> tuple[float, bool]:
    """(value, exact): exact is False when the value came from numerical minimisation."""
    exact = mu == 0.0 or (len(w) == 2 and not residual) or (not residual and _th.is_whitened(m.sxx))
    return global_min_loss(m, w, residual=residual, weight_decay=mu), exact


def prepare_point(
    weights: Weights, moments: Moments, residual: bool
) -> tuple[Moments, list[np.ndarray], tuple[int, ...]]:
    m = as_moments(moments)
    ws = as_weights(weights, residual=residual)
    if ws[0].shape[1] != m.dx or ws[-1].shape[0] != m.dy:
        raise ValueError(
            f"weights map {ws[0].shape[1]} inputs to {ws[-1].shape[0]} outputs but the data "
            f"have dx = {m.dx}, dy = {m.dy}: W_1 needs {m.dx} columns, W_H {m.dy} rows"
        )
    widths = (ws[0].shape[1],) + tuple(x.shape[0] for x in ws)
    return m, ws, widths


def classify(
    weights: Weights,
    moments: Moments,
    *,
    residual: bool = False,
    weight_decay: float = 0.0,
    tol: float | None = None,
    method: str = "auto",
    progress: bool | Callable[[int, int], None] | None = None,
) -> Classification | Any:  # Any: the matrix-free result type lives above this module
    """Classify one point of a network of any depth from its full Hessian (docs/theory.md).

    Rule: |grad| above tolerance -> "not_critical"; loss equal to ``global_min_loss``
    -> "global_min"; else a Hessian eigenvalue below -tol -> "strict_saddle"; else a
    positive definite Hessian -> "local_min" (only possible with weight decay); else
    (PSD and singular, above the minimum) -> "non_strict_saddle". Without weight decay
    every local minimum is global, so that last case is a saddle of higher order; with
    weight decay the second-order test is inconclusive there and the label follows
    the same rule. See the module docstring for the tolerances and
    ``global_min_loss`` for the comparison value (with weight decay and no closed
    form, a numerical minimum; if the point itself is lower, its loss is used).

    Parameters
    ----------
    weights : list of array_like
        [W_1, ..., W_H], W_k of shape (d_k, d_(k-1)).
    moments : Moments
    residual : bool
        Factors I + W_k (square layers); the global value is then the least-squares loss.
    weight_decay : float
        mu in mu/2 sum_k |W_k|_F^2.
    tol : float, optional
        Relative tolerance replacing sqrt(eps).
    method : {"auto", "dense", "matrix-free"}
        "dense" forms the Hessian (exact inertia, O(N^3) time, 8 N^2 bytes);
        "matrix-free" uses only Hessian-vector products and the rank rule
        (``fastscape.spectra_classify``); "auto" goes matrix-free when the dense route
        would not fit in memory or is estimated (from N) to take over a minute.
    progress : bool or callable, optional
        Progress of the dense route's O(N^3) reduction (panel by panel, the same
        arithmetic). None (default): shown on stderr when the dense route is estimated
        at over ``classify_methods.PROGRESS_SECONDS`` (10 s); True / False: always /
        never; a callable is called as ``progress(done, total)`` with the reduction's
        work in 10^6 floating-point operations (nothing is printed then).

    Returns
    -------
    Classification
        (a ``MatrixFreeClassification`` from the matrix-free route, which also says
        which test decided the kind).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> A = np.array([[1.0], [0.0]]); B = np.array([[2.0, 0.0]])
    >>> c = fastscape.classify([B, A], m)
    >>> c.kind, c.morse_index, c.nullity, round(c.loss, 6)
    ('global_min', 0, 1, 1.0)
    >>> fastscape.classify([B[:, ::-1] / 2, A[::-1]], m).kind
    'strict_saddle'
    """
    residual = as_flag(residual, "residual")
    mu = as_weight_decay(weight_decay)
    method = _routes.check_method(method)
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        raise TypeError(f"progress must be None, True, False or a callable, got {progress!r}")
    m, ws, widths = prepare_point(weights, moments, residual)
    theta = np.concatenate([x.ravel() for x in ws])[None, :]
    n_par = theta.shape[1]
    if method == "auto":
        fits = 8.0 * n_par * n_par <= 0.5 * available_memory()
        dense_ok = fits and _routes.dense_seconds(n_par) <= _routes.DENSE_TIME_LIMIT
        method = "dense" if dense_ok else "matrix-free"
    gmin, exact = global_min_reference(m, widths, residual, mu)
    if method == "matrix-free":
        rtol = relative_tol(tol)
        fn = _factor_norms(theta, np.asarray(widths, dtype=np.int64), residual)
        g_tol = rtol * (gradient_scale(fn, m)[0][0] + mu * float(np.linalg.norm(theta)))
        return _routes.route("matrix-free")(ws, m, residual, mu, rtol, gmin, exact, g_tol)
    if _routes.dense_seconds(n_par) > 10.0:
        _log.warning(
            "classify: dense route for N = %d parameters, estimated %.0f s (8 N^2 = %.2f GiB); "
            "method='matrix-free' avoids the N x N Hessian",
            n_par,
            _routes.dense_seconds(n_par),
            8.0 * n_par * n_par / 2**30,
        )
    if progress is None:
        progress = _routes.dense_seconds(n_par) > _routes.PROGRESS_SECONDS
    a = assess(
        theta,
        widths,
        m,
        residual=residual,
        weight_decay=mu,
        global_min=gmin,
        exact=exact,
        tol=tol,
        threads=1,
        progress=progress,
    )
    if _routes.dense_seconds(n_par) > 10.0:
        _log.warning("classify: dense route for N = %d done", n_par)
    return Classification(
        str(a.kind[0]),
        int(a.morse_index[0]),
        int(a.nullity[0]),
        float(a.min_eigenvalue[0]),
        float(a.grad_norm[0]),
        float(a.loss[0]),
        a.global_min_loss,
        Tolerances(float(a.grad_tol[0]), float(a.eigenvalue_tol[0]), float(a.loss_tol[0])),
    )


def _warmup() -> None:
    """Compile the batch-verification kernels (serial and prange) on a tiny problem."""
    m = Moments(np.eye(2), np.array([[2.0, 0.0], [0.0, 1.0]]), np.eye(2) * 5)
    thetas = np.ones((2, 8))
    for threads in (1, 2):
        for engine in ("pool", "prange"):
            _inertia(thetas, (2, 2, 2), m, False, 0.0, RTOL, np.zeros(2), threads, engine)
    classify([np.eye(2), np.eye(2)], m)


register_warmup(_warmup)
