"""Data -> sufficient statistics (Sxx, Syx, Syy) and the spectrum of Sigma."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.linalg

from ._tolerance import absolute_tol, deprecated_absolute_tol
from ._types import ArrayLike
from ._validate import as_matrix

#: Eigenvalues of Sigma at or below RANK_RTOL * Moments.scale count as zero.
RANK_RTOL = 1e-9


class Spectrum(NamedTuple):
    """Eigen-decomposition of Sigma = Syx Sxx^-1 Syx^T, eigenvalues in descending order.

    ``vectors[:, i]`` is the unit eigenvector of ``values[i]``.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([1.0, 2.0]), np.eye(2))
    >>> values, vectors = m.spectrum()
    >>> values
    array([4., 1.])
    >>> np.abs(vectors[:, 0])
    array([0., 1.])
    """

    values: np.ndarray
    vectors: np.ndarray


class SingularInputError(ValueError):
    """Sxx is singular (or numerically so): Sigma and the critical points are undefined.

    A subclass of ValueError; the message suggests a ridge or fewer inputs.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> X = np.ones((10, 2))  # two identical input columns
    >>> m = fastscape.Moments.from_data(X, X[:, :1])
    >>> try:
    ...     m.spectrum()
    ... except fastscape.SingularInputError as err:
    ...     print("ridge" in str(err))
    True
    >>> fastscape.Moments.from_data(X, X[:, :1], ridge=1e-3).spectrum().values.round(3)
    array([1.])
    """


def _symmetric(a: np.ndarray, name: str) -> np.ndarray:
    scale = max(1.0, float(np.abs(a).max(initial=0.0)))
    if not np.allclose(a, a.T, rtol=0.0, atol=1e-10 * scale):
        raise ValueError(f"{name} must be symmetric; symmetrise it with ({name} + {name}.T) / 2")
    return np.ascontiguousarray((a + a.T) / 2)


class Moments:
    """Second moments of the data, normalised by n (docs/theory.md).

    ``Sxx = X^T X / n``, ``Syx = Y^T X / n``, ``Syy = Y^T Y / n``; the loss of a map W is
    ``1/2 tr Syy - tr(W Syx^T) + 1/2 tr(W Sxx W^T)``, the mean of 1/2 |y - W x|^2.

    Parameters
    ----------
    sxx : array_like, shape (dx, dx)
        Input second moment, symmetric.
    syx : array_like, shape (dy, dx)
        Output-input cross moment.
    syy : array_like, shape (dy, dy)
        Output second moment, symmetric.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.array([[2.0, 0.0], [0.0, 1.0]]), np.eye(2) * 5)
    >>> m.dx, m.dy
    (2, 2)
    >>> m.spectrum().values
    array([4., 1.])
    """

    __slots__ = ("sxx", "syx", "syy", "_spectrum", "_least_squares", "_scale", "_n_samples")
    sxx: np.ndarray
    syx: np.ndarray
    syy: np.ndarray
    _spectrum: Spectrum | None
    _least_squares: np.ndarray | None
    _scale: float | None
    _n_samples: int | None

    def __init__(self, sxx: ArrayLike, syx: ArrayLike, syy: ArrayLike) -> None:
        sxx = as_matrix(sxx, "sxx")
        syx = as_matrix(syx, "syx")
        syy = as_matrix(syy, "syy")
        dx, dy = sxx.shape[0], syy.shape[0]
        if sxx.shape != (dx, dx):
            raise ValueError(f"sxx must be square (dx, dx), got shape {sxx.shape}")
        if syy.shape != (dy, dy):
            raise ValueError(f"syy must be square (dy, dy), got shape {syy.shape}")
        if syx.shape != (dy, dx):
            raise ValueError(
                f"syx must have shape (dy, dx) = ({dy}, {dx}) to match syy and sxx, got {syx.shape}"
            )
        if 0 in (dx, dy):
            raise ValueError("moments need dx >= 1 and dy >= 1")
        object.__setattr__(self, "sxx", _symmetric(sxx, "sxx"))
        object.__setattr__(self, "syx", syx)
        object.__setattr__(self, "syy", _symmetric(syy, "syy"))
        for name in ("_spectrum", "_least_squares", "_scale", "_n_samples"):  # on demand
            object.__setattr__(self, name, None)
        for a in (self.sxx, self.syx, self.syy):
            a.flags.writeable = False

    def __setattr__(self, name, value):
        raise AttributeError("Moments is immutable; build a new one")

    @classmethod
    def from_data(cls, X: ArrayLike, Y: ArrayLike, *, ridge: float = 0.0) -> Moments:
        """Moments of data X (n, dx) and Y (n, dy), rows are samples.

        Parameters
        ----------
        X : array_like, shape (n, dx)
        Y : array_like, shape (n, dy)
        ridge : float
            Added to the diagonal of Sxx (a ridge penalty), to make a singular Sxx
            invertible.

        Examples
        --------
        >>> import numpy as np, fastscape
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((100, 3)); Y = X @ rng.standard_normal((3, 2))
        >>> m = fastscape.Moments.from_data(X, Y)
        >>> m.sxx.shape, m.syx.shape, m.syy.shape
        ((3, 3), (2, 3), (2, 2))
        """
        X = as_matrix(X, "X")
        Y = as_matrix(Y, "Y")
        if X.shape[0] != Y.shape[0]:
            raise ValueError(
                f"X and Y must have the same number of rows (samples), got {X.shape[0]} and "
                f"{Y.shape[0]}; rows are samples, so pass X of shape (n, dx) and Y of shape "
                "(n, dy) (transpose them if samples are columns)"
            )
        if X.shape[0] == 0:
            raise ValueError("X and Y have no rows: pass at least one sample (one row each)")
        if isinstance(ridge, bool) or not isinstance(ridge, (int, float, np.integer, np.floating)):
            raise TypeError(f"ridge must be a real number such as 1e-6, got {ridge!r}")
        ridge = float(ridge)
        if not np.isfinite(ridge) or ridge < 0:
            raise ValueError(f"ridge must be finite and >= 0, got {ridge}; use 0.0 for no ridge")
        n = X.shape[0]
        sxx = X.T @ X / n + ridge * np.eye(X.shape[1])
        m = cls(sxx, Y.T @ X / n, Y.T @ Y / n)
        object.__setattr__(m, "_n_samples", n)  # for the hint when Sxx is singular
        return m

    @property
    def dx(self) -> int:
        """Input dimension."""
        return self.sxx.shape[0]

    @property
    def dy(self) -> int:
        """Output dimension."""
        return self.syy.shape[0]

    @property
    def trace_syy(self) -> float:
        """tr Syy: twice the loss of the zero map."""
        return float(np.trace(self.syy))

    def _cholesky(self) -> np.ndarray:
        try:
            c = scipy.linalg.cholesky(self.sxx, lower=True)
        except np.linalg.LinAlgError:
            c = None
        if c is not None:
            d = np.abs(np.diag(c))
            if d.min() > 1e-7 * d.max():
                return c
        ev = np.linalg.eigvalsh(self.sxx)
        n = self._n_samples
        hint = ""
        if n is not None and n < self.dx:
            hint = (
                f" X has {n} rows (samples) and {self.dx} columns (features), fewer samples "
                "than features: if your samples are the columns, pass X.T and Y.T (rows must "
                "be samples)."
            )
        raise SingularInputError(
            f"Sxx is singular (eigenvalues from {ev.min():.3g} to {ev.max():.3g}), so "
            "Sigma = Syx Sxx^-1 Syx^T is undefined: drop redundant inputs (fewer columns in "
            "X than samples, no collinear columns) or add a ridge, "
            "Moments.from_data(X, Y, ridge=1e-6)." + hint
        )

    def least_squares(self) -> np.ndarray:
        """The one-layer optimum L* = Syx Sxx^-1, shape (dy, dx) (read-only, computed once)."""
        if self._least_squares is None:
            c = self._cholesky()
            ls = np.ascontiguousarray(scipy.linalg.cho_solve((c, True), self.syx.T).T)
            ls.flags.writeable = False
            object.__setattr__(self, "_least_squares", ls)
            return ls
        return self._least_squares

    def spectrum(self) -> Spectrum:
        """Eigenvalues of Sigma = Syx Sxx^-1 Syx^T, descending, with unit eigenvectors.

        Raises
        ------
        SingularInputError
            If Sxx is singular; the message suggests a ridge or fewer inputs.

        Examples
        --------
        >>> import numpy as np, fastscape
        >>> m = fastscape.Moments(np.eye(2), np.diag([3.0, 1.0]), np.eye(2))
        >>> vals, vecs = m.spectrum()
        >>> vals
        array([9., 1.])
        """
        if self._spectrum is None:
            sigma = self.syx @ self.least_squares().T
            sigma = (sigma + sigma.T) / 2
            vals, vecs = np.linalg.eigh(sigma)
            order = np.argsort(vals, kind="stable")[::-1]
            vals = np.ascontiguousarray(vals[order])
            vecs = np.ascontiguousarray(vecs[:, order])
            vals.flags.writeable = False
            vecs.flags.writeable = False
            spectrum = Spectrum(vals, vecs)
            object.__setattr__(self, "_spectrum", spectrum)
            return spectrum
        return self._spectrum

    @property
    def scale(self) -> float:
        """max(lambda_1, |Syy|_2): the data scale that rank and tie tolerances are relative to."""
        if self._scale is None:
            vals = self.spectrum().values
            scale = max(float(vals[0]) if vals.size else 0.0, float(np.linalg.norm(self.syy, 2)))
            object.__setattr__(self, "_scale", scale)
            return scale
        return self._scale

    def rank(self, tol: float | None = None, *, atol: float | None = None) -> int:
        """q = rank(Sigma): the number of eigenvalues above ``atol``.

        The default, ``atol = RANK_RTOL * scale``, is the q that every part of fastscape
        uses (critical points, enumeration, verification). ``tol`` is the deprecated
        (absolute) spelling of ``atol``: it warns, and will become a relative tolerance
        in (0, 1), as everywhere else in fastscape.

        Examples
        --------
        >>> import numpy as np, fastscape
        >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1e-3]), np.eye(2))
        >>> m.rank(), m.rank(atol=0.01)
        (2, 1)
        """
        atol = deprecated_absolute_tol(tol, atol, "Moments.rank")
        atol = absolute_tol(atol)
        if atol is None:
            atol = RANK_RTOL * self.scale
            if atol == 0.0:
                return 0
        return int(np.sum(self.spectrum().values > atol))

    def __repr__(self) -> str:
        return f"Moments(dx={self.dx}, dy={self.dy})"


def as_moments(moments: Moments, name: str = "moments") -> Moments:
    """``moments`` if it is a :class:`Moments`, else a TypeError saying how to build one."""
    if not isinstance(moments, Moments):
        raise TypeError(
            f"{name} must be a fastscape.Moments, got {type(moments).__name__}; build one "
            "with fastscape.Moments.from_data(X, Y) or fastscape.Moments(sxx, syx, syy)"
        )
    return moments
