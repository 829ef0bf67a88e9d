"""Test data with a known Hessian spectrum at every size: whitened moments of a given Sigma."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_int, as_matrix
from .moments import Moments

__all__ = ["whitened_moments"]


def whitened_moments(eigenvalues: ArrayLike, dx: int, dy: int, *, seed: int = 0) -> Moments:
    """Moments with Sxx = I and Sigma = Syx Syx^T of the given positive eigenvalues.

    Syx = U diag(sqrt(lambda)) V^T with random orthogonal U (dy x dy) and V (dx x dx)
    drawn from ``seed``, Syy = Sigma + I. At the canonical two-layer critical points of
    these moments (``fastscape.canonical_point``) the whole Hessian spectrum is known in
    closed form for any size (``fastscape.theory.whitened_hessian_spectrum``), an exact
    reference for matrix-free estimates at N = 10^6 and beyond.

    Parameters
    ----------
    eigenvalues : array_like
        q <= min(dx, dy) positive eigenvalues of Sigma, in any order.
    dx, dy : int
        Input and output dimensions.
    seed : int
        Seed of the orthogonal factors.

    Returns
    -------
    Moments

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.whitened_moments([4.0, 1.0], 3, 2)
    >>> np.round(m.spectrum().values, 6), bool(np.allclose(m.sxx, np.eye(3)))
    (array([4., 1.]), True)
    """
    lam = np.sort(as_matrix(eigenvalues, "eigenvalues", ndim=1))[::-1]
    dx = as_int(dx, "dx", 1)
    dy = as_int(dy, "dy", 1)
    seed = as_int(seed, "seed", 0)
    q = lam.size
    if q > min(dx, dy) or q == 0 or lam[-1] <= 0:
        raise ValueError(
            f"eigenvalues must be 1 to min(dx, dy) = {min(dx, dy)} positive numbers, got "
            f"{q} with smallest {lam[-1] if q else None}"
        )
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((dy, dy)))
    v, _ = np.linalg.qr(rng.standard_normal((dx, dx)))
    syx = u[:, :q] @ np.diag(np.sqrt(lam)) @ v[:, :q].T
    return Moments(np.eye(dx), syx, syx @ syx.T + np.eye(dy))
