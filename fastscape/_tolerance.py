"""Tolerances shared by the verification, the rank rule and the closed forms (a leaf module).

Every ``tol`` in fastscape is relative, in (0, 1); absolute values are called ``atol``.

- ``RTOL = sqrt(eps)``: the default relative tolerance of gradients, Hessian
  eigenvalues and losses (see :mod:`fastscape.inertia`);
- ``TIE_RTOL``: two eigenvalues of Sigma within ``TIE_RTOL * Moments.scale`` count as
  tied (the rank tolerance, ``moments.RANK_RTOL``, lives beside Moments).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

RTOL = math.sqrt(np.finfo(float).eps)
TIE_RTOL = 1e-6


def relative_tol(tol: float | None, name: str = "tol") -> float:
    """The relative tolerance: ``RTOL`` by default, else ``tol`` checked to lie in (0, 1)."""
    if tol is None:
        return RTOL
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number in (0, 1) or None, got {tol!r}")
    rtol = float(tol)
    if not (np.isfinite(rtol) and 0 < rtol < 1):
        raise ValueError(
            f"{name} must be a relative tolerance in (0, 1), got {tol!r} (absolute "
            "thresholds are passed as atol= where a function takes one)"
        )
    return rtol


def absolute_tol(atol: float | None, name: str = "atol") -> float | None:
    """``atol`` checked to be a finite number >= 0 (None stays None)."""
    if atol is None:
        return None
    if isinstance(atol, bool) or not isinstance(atol, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number >= 0 or None, got {atol!r}")
    value = float(atol)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite absolute tolerance >= 0, got {atol!r}")
    return value


def loss_tolerance(rtol: float, m: Any, losses: Any, gmin: float) -> Any:
    """|l - l_min| <= this means "at the global value": rtol * max(tr Syy, |l|, |l_min|)."""
    return rtol * np.maximum(np.maximum(m.trace_syy, np.abs(losses)), abs(gmin))


def gradient_scale(fn: np.ndarray, m: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(g_scale without weight decay, prod_j |F_j|, max_k prod_(j != k) |F_j|) per column.

    ``fn`` is (H, P): the Frobenius norms of the H factors of P points; ``m`` the
    Moments. g_scale = (|Syx|_F + |Sxx|_2 prod_j |F_j|) max_k prod_(j != k) |F_j| bounds
    the size of the gradient's terms (see :mod:`fastscape.inertia`).
    """
    prod_all = np.prod(fn, axis=0)
    others = np.max([np.prod(np.delete(fn, k, axis=0), axis=0) for k in range(fn.shape[0])], axis=0)
    scale = (np.linalg.norm(m.syx) + np.linalg.norm(m.sxx, 2) * prod_all) * others
    return scale, prod_all, others


def deprecated_absolute_tol(
    tol: float | None, atol: float | None, where: str, *, stacklevel: int = 3
) -> float | None:
    """``atol``, or the value of the deprecated absolute ``tol=`` of ``where`` (warns).

    ``tol`` will mean a relative tolerance in (0, 1) there, as everywhere else.
    """
    if tol is None:
        return atol
    warnings.warn(
        f"{where}(tol=) is an absolute threshold and deprecated: pass atol= (tol will "
        "mean a relative tolerance in (0, 1), as everywhere in fastscape)",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
    if atol is not None:
        raise ValueError("pass atol only (tol is its deprecated spelling)")
    return tol
