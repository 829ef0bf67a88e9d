"""The Hessian as an operator: checked inputs and a batched product that reuses its setup.

A leaf module of the spectra tools: ``PreparedPoint`` holds a validated point and
``HessianOperator`` applies the Hessian to one vector or a block of vectors, computing
the v-independent partial products (2H - 1 matrix products) once and then 6H - 5
products per vector (see ``fastscape.kernels.spectra``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._blas import single_threaded_blas
from ._inputs import prepare_inputs
from ._types import Weights
from .kernels import spectra as _ks
from .moments import Moments

__all__ = [
    "HessianOperator",
    "PreparedPoint",
    "apply_kernel",
    "check_real",
    "prepare_point",
    "primal_pieces",
]


@dataclass(frozen=True, eq=False)
class PreparedPoint:
    """A validated point: flat theta, widths (d_0..d_H), moments, residual flag, mu."""

    theta: np.ndarray
    widths: np.ndarray
    moments: Moments
    residual: bool
    weight_decay: float

    @property
    def n(self) -> int:
        """Number of parameters N."""
        return int(self.theta.size)


def prepare_point(weights, moments, residual=False, weight_decay=0.0) -> PreparedPoint:
    """Check a point and its data; ValueError/TypeError with the fix on bad input."""
    theta, widths, m, residual, mu = prepare_inputs(weights, moments, residual, weight_decay)
    return PreparedPoint(theta, widths, m, residual, mu)


class HessianOperator:
    """The Hessian of the loss at one point as a linear operator (never formed).

    ``op @ v`` (or ``op.matvec(v)``) gives H v for v of shape (N,) or a block of
    shape (N, b); the partial products that do not depend on v are computed once at
    construction. ``matvecs`` counts the vectors multiplied so far.

    Parameters
    ----------
    weights : list of array_like
        [W_1, ..., W_H], W_k of shape (d_k, d_(k-1)).
    moments : Moments
    residual : bool
        Use the factors (I + W_k).
    weight_decay : float
        Adds weight_decay * I.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(1), np.array([[3.0]]), np.array([[9.0]]))
    >>> op = fastscape.HessianOperator([np.array([[1.0]]), np.array([[1.0]])], m)
    >>> op @ np.eye(2)
    array([[ 1., -1.],
           [-1.,  1.]])
    >>> op.shape, op.matvecs
    ((2, 2), 2)
    """

    def __init__(
        self,
        weights: Weights | PreparedPoint,
        moments: Moments,
        *,
        residual: bool = False,
        weight_decay: float = 0.0,
    ):
        pt = weights if isinstance(weights, PreparedPoint) else None
        if pt is None:
            pt = prepare_point(weights, moments, residual, weight_decay)
        self.point = pt
        m = pt.moments
        self._buf, self._poff = primal_pieces(pt.theta, pt.widths, m.sxx, m.syx, pt.residual)
        self.shape = (pt.n, pt.n)
        self.dtype = np.dtype(np.float64)
        self.matvecs = 0
        self._sxx_identity = bool(np.array_equal(m.sxx, np.eye(m.dx)))

    def matvec(self, v: ArrayLike) -> np.ndarray:
        """H v for v of shape (N,) or (N, b) (a float64 array of the same shape)."""
        v = np.asarray(v, dtype=np.float64)
        n = self.shape[0]
        if v.ndim not in (1, 2) or v.shape[0] != n:
            raise ValueError(
                f"v must have shape ({n},) or ({n}, b) for this network (N = {n}), got "
                f"{v.shape}; build it with fastscape.flatten or stack such vectors as columns"
            )
        vt = np.ascontiguousarray(v.reshape(n, -1).T)
        if not np.all(np.isfinite(vt)):
            raise ValueError("v contains NaN or inf; pass a finite vector")
        out = self.apply_rows(vt)
        return out[0].copy() if v.ndim == 1 else np.ascontiguousarray(out.T)

    def apply_rows(self, vt: np.ndarray) -> np.ndarray:
        """H applied to each row of a C-contiguous float64 (b, N) array (unchecked, fast path)."""
        pt = self.point
        out = np.empty_like(vt)
        apply_kernel(
            pt.theta,
            pt.widths,
            pt.moments.sxx,
            self._buf,
            self._poff,
            pt.weight_decay,
            self._sxx_identity,
            vt,
            out,
        )
        self.matvecs += vt.shape[0]
        return out

    def __matmul__(self, v) -> np.ndarray:
        return self.matvec(v)


#: A single vector's products are cut into this many row parts (threads) from this
#: many parameters on; a fixed count, so results do not depend on the thread count.
SPLIT_PARTS = 2
SPLIT_FROM = 20_000


def apply_kernel(theta, widths, sxx, buf, poff, mu, sxx_identity, vt, out):
    """Run the HVP kernel on the rows of vt with OpenBLAS held at one thread.

    OpenBLAS's own threads synchronise at every product and stall when the cores are
    shared with other work (on a loaded 2-core machine a two-thread 500 x 500 product
    took 5x as long as a one-thread one); instead the kernels parallelise themselves
    with single-threaded BLAS. A block of b >= 2 vectors runs one vector per Numba
    thread; a single vector (from ``SPLIT_FROM`` parameters) has the rows of each
    product cut into ``SPLIT_PARTS`` parts run side by side. For blocks, cutting every
    product was faster on an idle machine (N = 10^6, 2 cores: 58 against 65 ms per
    vector) but slower when another process held a core (median 96 against 71 ms):
    each of its 3H - 2 stages waits for the slower thread.
    """
    with single_threaded_blas():
        if vt.shape[0] > 1:
            _ks.hvp_apply_parallel(theta, widths, sxx, buf, poff, mu, sxx_identity, vt, out)
        elif theta.size >= SPLIT_FROM:
            _ks.hvp_apply_split(
                theta, widths, sxx, buf, poff, mu, sxx_identity, vt, out, SPLIT_PARTS
            )
        else:
            _ks.hvp_apply(theta, widths, sxx, buf, poff, mu, sxx_identity, vt, out)
    return out


def primal_pieces(theta, widths, sxx, syx, residual):
    """``kernels.spectra.hvp_primal`` with OpenBLAS held at one thread (see apply_kernel)."""
    with single_threaded_blas():
        return _ks.hvp_primal(theta, widths, sxx, syx, residual)


def check_real(value, name: str, low: float, high: float, hint: str) -> float:
    """A finite real in the open interval (low, high), else a ValueError with ``hint``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number in ({low}, {high}), got {value!r}; {hint}")
    x = float(value)
    if not (np.isfinite(x) and low < x < high):
        raise ValueError(f"{name} must lie in ({low}, {high}), got {value!r}; {hint}")
    return x
