"""Sigma's spectrum as the critical-point code uses it, and tie handling (a leaf module).

Data-level decisions, relative to ``Moments.scale = max(lambda_1, |Syy|_2)``:
lambda_i <= ``RANK_RTOL * scale`` counts as zero (q = ``Moments.rank()`` is the rank
above it) and |lambda_i - lambda_j| <= ``TIE_RTOL * scale`` counts as a tie.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from ._tolerance import TIE_RTOL

if TYPE_CHECKING:
    from .moments import Moments


class TiedEigenvaluesWarning(UserWarning):
    """Sigma (or Syx) has tied eigenvalues: critical points come in continua, nullity grows.

    Examples
    --------
    >>> import warnings, numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.eye(2), np.eye(2) * 2)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     cps = fastscape.critical_points(m, [2, 1, 2])
    >>> caught[0].category.__name__, cps.nullity.tolist()
    ('TiedEigenvaluesWarning', [0, 2, 2])
    """


TiedEigenvaluesWarning.__module__ = "fastscape.critical"  # where users import it from


def data_levels(m: Moments) -> tuple[np.ndarray, int, float]:
    """(values, q, tie_tol): Sigma's spectrum (descending), numerical rank, tie tolerance."""
    return np.asarray(m.spectrum().values), m.rank(), TIE_RTOL * m.scale


def positive_spectrum(m: Moments) -> tuple[np.ndarray, np.ndarray, float]:
    """Sigma's q positive eigenvalues, their eigenvectors (columns) and the tie tolerance."""
    vals, q, tie = data_levels(m)
    return vals[:q], m.spectrum().vectors[:, :q], tie


def warn_ties(vals: np.ndarray, tie_tol: float, what: str, *, stacklevel: int = 3) -> None:
    """Warn (TiedEigenvaluesWarning) about neighbours of ``vals`` within ``tie_tol``.

    ``stacklevel`` counts from the caller of this function (3: the caller's caller).
    """
    groups = []
    for i in range(len(vals) - 1):
        if vals[i] - vals[i + 1] <= tie_tol:
            groups.append(f"positions {i} and {i + 1} ({vals[i]:.6g} ~ {vals[i + 1]:.6g})")
    if groups:
        warnings.warn(
            f"tied {what} at " + ", ".join(groups) + ": each tie adds zero Hessian "
            "eigenvalues (nullity law with ties(S)) and the critical points of tied index "
            "sets form continua; the canonical eigenvectors are one arbitrary basis",
            TiedEigenvaluesWarning,
            stacklevel=stacklevel,
        )
