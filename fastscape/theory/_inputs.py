"""Checks shared by the counting modules: (q, p) and a descending positive spectrum."""

from __future__ import annotations

import numpy as np

from .._validate import as_int

#: The largest int64.
INT64_MAX = 2**63 - 1


def as_q_p(q: int, p: int, ranks: str) -> tuple[int, int]:
    """(q, p) checked: q >= 1, p >= 1, and p <= q unless ``ranks == "all"``."""
    q = as_int(q, "q", 1)
    p = as_int(p, "p", 1, " (the hidden width)")
    if p > q and ranks != "all":
        raise ValueError(
            f"p = {p} > q = {q}: there is no full-rank critical point (C(q, p) = 0); "
            "use p <= q, or ranks='all' to count the rank-deficient points"
        )
    return q, p


def as_spectrum(spectrum) -> np.ndarray:
    lam = np.asarray(spectrum, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"spectrum must be a non-empty 1-D array, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)):
        raise ValueError("spectrum has NaN or inf entries: pass finite eigenvalues")
    if np.any(lam <= 0):
        raise ValueError(
            "spectrum must hold the q > 0 eigenvalues of Sigma; drop zero or negative ones "
            "(q is the rank of Sigma)"
        )
    d = np.diff(lam)
    if np.any(d > 0):
        raise ValueError("spectrum must be sorted in descending order: use np.sort(x)[::-1]")
    if np.any(d == 0):
        i = int(np.flatnonzero(d == 0)[0])
        raise ValueError(
            f"spectrum has tied eigenvalues (positions {i} and {i + 1}); the index law "
            "inv(S) = sum(S) - k(k-1)/2 assumes distinct eigenvalues (docs/theory.md)"
        )
    return np.ascontiguousarray(lam)
