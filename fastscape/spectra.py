"""Matrix-free Hessian spectra: exact traces, diagonals, norms, per-layer spectra, densities.

The diagonal block of layer k is a Kronecker product (R_k^T R_k) (x) (L_k Sxx L_k^T)
(+ mu I), and every off-diagonal block is one Kronecker product plus one "swapped"
product of small matrices (see docs/spectra.md). So the trace, the diagonal, the
Frobenius norm and the spectrum of each diagonal block are exact in O(H^2 d^3) time
and O(H d^2) memory for any N, with no sampling. The spectral density of the whole
Hessian is estimated by stochastic Lanczos quadrature (``hessian_density``) on the
batched Hessian-vector product; extreme eigenvalues are in ``fastscape.spectra_lanczos``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._blas import single_threaded_blas
from ._types import Weights
from ._validate import as_int
from .kernels import spectra as _ks
from .moments import Moments
from .spectra_ops import HessianOperator, check_real, prepare_point

__all__ = [
    "BlockSpectrum",
    "HessianDensity",
    "hessian_block_spectrum",
    "hessian_density",
    "hessian_diagonal",
    "hessian_frobenius",
    "hessian_trace",
]


def _grams(pt):
    """[(A_k, B_k)] with H_kk = A_k (x) B_k (+ mu I): A_k = R_k^T R_k, B_k = L_k Sxx L_k^T."""
    A, B = _ks.layer_grams(pt.theta, pt.widths, pt.moments.sxx, pt.residual)
    out, ia, ib = [], 0, 0
    for k in range(pt.widths.size - 1):
        m, n = int(pt.widths[k + 1]), int(pt.widths[k])
        out.append((A[ia : ia + m * m].reshape(m, m), B[ib : ib + n * n].reshape(n, n)))
        ia, ib = ia + m * m, ib + n * n
    return out


def hessian_trace(
    weights: Weights, moments: Moments, *, residual: bool = False, weight_decay: float = 0.0
) -> float:
    """The exact trace of the Hessian, sum_k tr(R_k^T R_k) tr(L_k Sxx L_k^T) + mu N.

    No sampling and no N x N memory: O(H d^3) work for any number of parameters.

    Parameters
    ----------
    weights : list of array_like
        [W_1, ..., W_H], W_k of shape (d_k, d_(k-1)).
    moments : Moments
    residual : bool
        Use the factors (I + W_k) (square layers only).
    weight_decay : float
        mu in mu/2 sum_k |W_k|_F^2 (adds mu I to the Hessian).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(1), np.array([[3.0]]), np.array([[9.0]]))
    >>> ws = [np.array([[1.0]]), np.array([[2.0]])]
    >>> fastscape.hessian_trace(ws, m), float(np.trace(fastscape.hessian(ws, m)))
    (5.0, 5.0)
    """
    pt = prepare_point(weights, moments, residual, weight_decay)
    tr = sum(float(np.trace(a)) * float(np.trace(b)) for a, b in _grams(pt))
    return tr + pt.weight_decay * pt.n


def hessian_diagonal(
    weights: Weights, moments: Moments, *, residual: bool = False, weight_decay: float = 0.0
) -> np.ndarray:
    """The exact diagonal of the Hessian, shape (N,), in the order of ``fastscape.flatten``.

    The entry of W_k[a, b] is (R_k^T R_k)[a, a] (L_k Sxx L_k^T)[b, b] + mu.

    Parameters
    ----------
    weights : list of array_like
        [W_1, ..., W_H].
    moments : Moments
    residual : bool
        Use the factors (I + W_k).
    weight_decay : float
        Adds mu to every entry.

    Returns
    -------
    ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(1), np.array([[3.0]]), np.array([[9.0]]))
    >>> fastscape.hessian_diagonal([np.array([[1.0]]), np.array([[2.0]])], m)
    array([4., 1.])
    """
    pt = prepare_point(weights, moments, residual, weight_decay)
    parts = [np.outer(np.diag(a), np.diag(b)).ravel() for a, b in _grams(pt)]
    return np.concatenate(parts) + pt.weight_decay


def hessian_frobenius(
    weights: Weights, moments: Moments, *, residual: bool = False, weight_decay: float = 0.0
) -> float:
    """The exact Frobenius norm |H|_F of the full Hessian, in O(H^2 d^3) work.

    Block (k, l), k < l, is A (x) B plus a swapped product with entries P[c, b] M[e, a],
    so |H_kl|_F^2 = |A|^2 |B|^2 + |P|^2 |M|^2 + 2 tr(A P B M) (derivation in
    docs/spectra.md); weight decay adds 2 mu tr H + mu^2 N to |H|_F^2.

    Parameters
    ----------
    weights : list of array_like
        [W_1, ..., W_H].
    moments : Moments
    residual : bool
        Use the factors (I + W_k).
    weight_decay : float
        mu in mu/2 sum_k |W_k|_F^2.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(1), np.array([[3.0]]), np.array([[9.0]]))
    >>> ws = [np.array([[1.0]]), np.array([[2.0]])]
    >>> H = fastscape.hessian(ws, m)
    >>> bool(np.isclose(fastscape.hessian_frobenius(ws, m), np.linalg.norm(H)))
    True
    """
    pt = prepare_point(weights, moments, residual, weight_decay)
    m = pt.moments
    sq = float(np.sum(_ks.frobenius_parts(pt.theta, pt.widths, m.sxx, m.syx, pt.residual)))
    mu = pt.weight_decay
    if mu:
        tr0 = sum(float(np.trace(a)) * float(np.trace(b)) for a, b in _grams(pt))
        sq += 2.0 * mu * tr0 + mu * mu * pt.n
    return math.sqrt(max(sq, 0.0))


class BlockSpectrum(NamedTuple):
    """Eigenvalues of one diagonal block H_kk = A (x) B + mu I, from its two factors.

    ``values`` (ascending, d_k d_(k-1) of them) are every alpha_i beta_j + mu;
    ``output_values`` are the eigenvalues alpha of A = R_k^T R_k (d_k) and
    ``input_values`` those beta of B = L_k Sxx L_k^T (d_(k-1)), both ascending.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.eye(2), np.eye(2))
    >>> s = fastscape.hessian_block_spectrum([2 * np.eye(2), np.eye(2)], m, 0)
    >>> s.values, s.output_values, s.input_values
    (array([1., 1., 1., 1.]), array([1., 1.]), array([1., 1.]))
    """

    values: np.ndarray
    output_values: np.ndarray
    input_values: np.ndarray


def hessian_block_spectrum(
    weights: Weights,
    moments: Moments,
    layer: int,
    *,
    residual: bool = False,
    weight_decay: float = 0.0,
) -> BlockSpectrum:
    """Exact spectrum of the Hessian's diagonal block for one layer, for any N.

    The block of layer k (the curvature when only W_k moves) is
    (R_k^T R_k) (x) (L_k Sxx L_k^T) + mu I, so its d_k d_(k-1) eigenvalues are the
    products of the eigenvalues of two small matrices: O(d^3) work.

    Parameters
    ----------
    weights : list of array_like
        [W_1, ..., W_H].
    moments : Moments
    layer : int
        0-based position in ``weights`` (0 is W_1, the layer that acts first).
    residual : bool
        Use the factors (I + W_k).
    weight_decay : float
        Adds mu to every eigenvalue.

    Returns
    -------
    BlockSpectrum

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.diag([1.0, 4.0]), np.zeros((1, 2)), np.eye(1))
    >>> fastscape.hessian_block_spectrum([np.eye(2), 3 * np.ones((1, 2))], m, 1).values
    array([1., 4.])
    """
    pt = prepare_point(weights, moments, residual, weight_decay)
    depth = pt.widths.size - 1
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
        raise TypeError(f"layer must be an integer in [0, {depth}), got {layer!r}")
    if not 0 <= layer < depth:
        raise ValueError(
            f"layer must be a 0-based position in weights, 0 <= layer < {depth}, got {layer}"
        )
    a, b = _grams(pt)[int(layer)]
    alpha = np.linalg.eigvalsh(a)
    beta = np.linalg.eigvalsh(b)
    values = np.sort(np.outer(alpha, beta).ravel()) + pt.weight_decay
    return BlockSpectrum(values, alpha, beta)


@dataclass(frozen=True, eq=False)
class HessianDensity:
    """A spectral density estimate from stochastic Lanczos quadrature.

    ``nodes`` and ``weights`` have shape (probes, steps): probe r puts mass
    weights[r, i] at nodes[r, i] (each row sums to 1; a row that broke down early,
    an exact invariant subspace, is padded with zero weights). The estimate of the
    eigenvalue distribution is the average over probes. ``n`` is N, ``matvecs`` the
    Hessian-vector products used.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.diag([1.0, 3.0]), np.zeros((1, 2)), np.eye(1))
    >>> d = fastscape.hessian_density([np.ones((1, 2))], m, steps=2, probes=1)
    >>> np.round(np.sort(d.nodes[0]), 6), round(float(d.weights.sum()), 6)
    (array([1., 3.]), 1.0)
    """

    nodes: np.ndarray
    weights: np.ndarray
    n: int
    matvecs: int

    def mass(self) -> tuple[np.ndarray, np.ndarray]:
        """All (node, mass) pairs of the averaged estimate, sorted by node.

        Examples
        --------
        >>> import numpy as np, fastscape
        >>> m = fastscape.Moments(np.eye(2), np.zeros((1, 2)), np.eye(1))
        >>> x, w = fastscape.hessian_density([np.ones((1, 2))], m, steps=2, probes=2).mass()
        >>> round(float(w.sum()), 6)
        1.0
        """
        x = self.nodes.ravel()
        w = self.weights.ravel() / self.nodes.shape[0]
        order = np.argsort(x, kind="stable")
        return x[order], w[order]

    def negative_fraction(self, *, atol: float = 0.0) -> float:
        """Estimated fraction of eigenvalues below -atol.

        Examples
        --------
        >>> import numpy as np, fastscape
        >>> m = fastscape.Moments(np.eye(2), np.zeros((1, 2)), np.eye(1))
        >>> fastscape.hessian_density([np.ones((1, 2))], m, steps=2).negative_fraction()
        0.0
        """
        x, w = self.mass()
        return float(np.sum(w[x < -atol]))

    def default_width(self) -> float:
        """The default smoothing width: 1/100 of the span of the nodes (or of |node|).

        Examples
        --------
        >>> import numpy as np, fastscape
        >>> m = fastscape.Moments(np.diag([1.0, 3.0]), np.zeros((1, 2)), np.eye(1))
        >>> round(fastscape.hessian_density([np.ones((1, 2))], m, steps=2).default_width(), 6)
        0.02
        """
        x, w = self.mass()
        x = x[w > 0]
        span = float(x.max() - x.min())
        return span / 100 if span > 0 else max(abs(float(x.max())), 1.0) * 1e-2

    def smooth(
        self, grid: ArrayLike | None = None, *, width: float | None = None, points: int = 1000
    ) -> tuple[np.ndarray, np.ndarray]:
        """The density convolved with a Gaussian kernel of standard deviation ``width``.

        Parameters
        ----------
        grid : array_like, optional
            Where to evaluate; by default ``points`` values spanning the nodes plus
            five widths on each side.
        width : float, optional
            Kernel standard deviation; by default 1/100 of the span of the nodes.
        points : int
            Grid size when ``grid`` is not given.

        Returns
        -------
        (grid, density) : two ndarrays; the density integrates to about 1.

        Examples
        --------
        >>> import numpy as np, fastscape
        >>> m = fastscape.Moments(np.eye(2), np.zeros((1, 2)), np.eye(1))
        >>> d = fastscape.hessian_density([np.ones((1, 2))], m, steps=2)
        >>> t, f = d.smooth(width=0.1)
        >>> round(float(np.trapezoid(f, t)), 3)
        1.0
        """
        x, w = self.mass()
        keep = w > 0
        x, w = x[keep], w[keep]
        if width is None:
            width = self.default_width()
        width = check_real(width, "width", 0.0, math.inf, "pass a positive kernel width")
        if grid is None:
            points = as_int(points, "points", 2)
            grid = np.linspace(x.min() - 5 * width, x.max() + 5 * width, points)
        grid = np.asarray(grid, dtype=float)
        dens = np.zeros_like(grid)
        norm = 1.0 / (width * math.sqrt(2 * math.pi))
        for start in range(0, x.size, 256):  # bounded memory for long node lists
            z = (grid[:, None] - x[None, start : start + 256]) / width
            dens += norm * (np.exp(-0.5 * z * z) @ w[start : start + 256])
        return grid, dens

    def wasserstein(self, eigenvalues: ArrayLike) -> float:
        """Wasserstein-1 distance between this estimate and a list of eigenvalues.

        The integral of |F - G| over t, F and G the two distribution functions (each
        eigenvalue has mass 1/len(eigenvalues)).

        Examples
        --------
        >>> import numpy as np, fastscape
        >>> m = fastscape.Moments(np.diag([1.0, 3.0]), np.zeros((1, 2)), np.eye(1))
        >>> d = fastscape.hessian_density([np.ones((1, 2))], m, steps=2, probes=3)
        >>> d.wasserstein([1.0, 3.0]) < 1.5
        True
        """
        x, w = self.mass()
        e = np.sort(np.asarray(eigenvalues, dtype=float).ravel())
        pts = np.concatenate([x, e])
        order = np.argsort(pts, kind="stable")
        mass = np.concatenate([w, -np.full(e.size, 1.0 / e.size)])[order]
        cdf_diff = np.cumsum(mass)[:-1]
        return float(np.sum(np.abs(cdf_diff) * np.diff(pts[order])))


def _lanczos_probes(op, v, steps):
    """Lanczos with full reorthogonalisation from each row of v, in lockstep.

    Returns a list of (alphas, betas) per row (each at most ``steps`` long). The rows are
    independent recurrences; per step their Hessian-vector products are taken as one
    block (``HessianOperator.apply_rows``), then ``kernels.spectra.lanczos_steps`` runs
    each probe's recurrence on its own thread: the three-term recurrence, one classical
    Gram-Schmidt pass against the probe's whole basis, and a second pass only when the
    first removed most of the vector (Daniel, Gragg, Kaufman & Stewart 1976): a pass
    reads the basis twice, which at large N costs about half a Hessian-vector product.
    """
    b, n = v.shape
    q = np.empty((b, steps, n))
    q[:, 0] = v / np.linalg.norm(v, axis=1)[:, None]
    alphas: list[list[float]] = [[] for _ in range(b)]
    betas: list[list[float]] = [[] for _ in range(b)]
    active = np.arange(b)
    for j in range(steps):
        ws = op.apply_rows(np.ascontiguousarray(q[active, j]))
        prev = np.array([betas[r][-1] if j else 0.0 for r in active])
        a_new, b_new = np.empty(active.size), np.empty(active.size)
        _ks.lanczos_steps(q, active, j, ws, prev, a_new, b_new)
        still = []
        for i, r in enumerate(active):
            alphas[r].append(float(a_new[i]))
            if j == steps - 1:
                continue
            beta = float(b_new[i])
            if beta <= 1e3 * np.finfo(float).eps * max(np.abs(alphas[r]).max(), 1e-300):
                continue  # invariant subspace: this probe's quadrature is exact
            betas[r].append(beta)
            q[r, j + 1] = ws[i] / beta
            still.append(r)
        active = np.array(still, dtype=np.int64)
        if not active.size:
            break
    return [(np.array(a), np.array(bt)) for a, bt in zip(alphas, betas, strict=True)]


def hessian_density(
    weights: Weights,
    moments: Moments,
    *,
    steps: int = 80,
    probes: int = 10,
    seed: int = 0,
    residual: bool = False,
    weight_decay: float = 0.0,
) -> HessianDensity:
    """Estimate the Hessian's eigenvalue density by stochastic Lanczos quadrature.

    For each of ``probes`` Rademacher vectors, ``steps`` Lanczos steps (with full
    reorthogonalisation) give a Gauss quadrature rule whose nodes are the Ritz values
    and whose weights are the squared first components of the Ritz vectors (Golub &
    Meurant 2010; Lin, Saad & Yang 2016). Each rule integrates every polynomial of
    degree < 2 steps exactly against that probe's spectral measure, whose mean over
    probes is the eigenvalue distribution. Accuracy (Wasserstein-1): the quadrature
    part shrinks like (spectral width) / steps; the probe part like 1 / sqrt(probes N)
    for spectra spread over many eigenvectors. Memory: 2 x steps x N floats (two
    probes run at once, one per thread).

    Parameters
    ----------
    weights : list of array_like
        [W_1, ..., W_H].
    moments : Moments
    steps : int
        Lanczos steps per probe, >= 2.
    probes : int
        Number of random probe vectors, >= 1.
    seed : int
        Seed of the probes (numpy.random.default_rng): equal seeds give equal results.
    residual : bool
        Use the factors (I + W_k).
    weight_decay : float
        Adds mu I.

    Returns
    -------
    HessianDensity

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.diag([1.0, 2.0, 4.0]), np.zeros((2, 3)), np.eye(2))
    >>> d = fastscape.hessian_density([np.eye(2, 3)], m, steps=3, probes=2)
    >>> round(float(d.mass()[0][-1]), 6)  # the largest node is the top eigenvalue, 4
    4.0
    """
    steps = as_int(steps, "steps", 2, " (Lanczos steps per probe; 80 is a good default)")
    probes = as_int(probes, "probes", 1, " (random probe vectors; 10 is a good default)")
    seed = as_int(seed, "seed", 0, " (a non-negative integer seed)")
    pt = prepare_point(weights, moments, residual, weight_decay)
    op = HessianOperator(pt, pt.moments)
    n = pt.n
    steps_used = min(steps, n)
    rng = np.random.default_rng(seed)
    nodes = np.zeros((probes, steps_used))
    wts = np.zeros((probes, steps_used))
    # Rademacher probes drawn in order, run two at a time (one per thread)
    v = rng.integers(0, 2, size=(probes, n)).astype(np.float64) * 2.0 - 1.0
    for r0 in range(0, probes, 2):
        with single_threaded_blas():  # see spectra_ops.apply_kernel
            pairs = _lanczos_probes(op, v[r0 : r0 + 2], steps_used)
        for r, (a, b) in enumerate(pairs, r0):
            t = np.diag(a) + np.diag(b[: a.size - 1], 1) + np.diag(b[: a.size - 1], -1)
            theta, y = np.linalg.eigh(t)
            nodes[r, : a.size] = theta
            wts[r, : a.size] = y[0] ** 2
            if a.size < steps_used:
                nodes[r, a.size :] = theta[-1]
    return HessianDensity(nodes, wts, n, op.matvecs)
