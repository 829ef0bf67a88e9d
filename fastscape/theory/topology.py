"""Closed forms for the global shape of the landscape: components, barriers, sublevel sets.

Conventions as in ``fastscape.theory.laws``: ``eigenvalues`` are the q positive
eigenvalues of Sigma, descending; ``widths`` is (d_0, ..., d_H). With p = min(widths)
the global minima have end-to-end rank r = min(p, q). A hidden layer i (1 <= i <= H-1)
with d_i = r is an *orientation layer*: it carries a sign that cannot change inside the
set of global minima. Let m be their number and say the spectrum is *tied at r* when
r < q and lambda_r = lambda_(r+1) (within ``tie_tol``). Then (proofs in docs/topology.md):

- the global minima have 2^m components, or 2^(m-1) when tied at r and m >= 1;
- the lowest barrier between two components is (lambda_r - lambda_(r+1)) / 2 with
  lambda_(q+1) = 0 (untied), or lambda_r / 2 (tied at r, m >= 2);
- two components whose orientation signs differ other than by a global sign change
  are separated by lambda_r / 2 exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._types import ArrayLike, Widths

__all__ = [
    "barrier_between",
    "component_count",
    "mountain_pass_barrier",
    "orientation_layers",
    "sublevel_components",
    "weight_decay_component_count",
]


def _spectrum(eigenvalues) -> np.ndarray:
    v = np.asarray(eigenvalues, dtype=float).ravel()
    if v.size and (np.any(np.diff(v) > 0) or v[-1] <= 0):
        raise ValueError(
            "eigenvalues must be the positive eigenvalues of Sigma in descending order "
            "(Moments.spectrum().values[:Moments.rank()])"
        )
    return v


def _widths(widths) -> tuple[int, ...]:
    w = tuple(int(x) for x in widths)
    if len(w) < 2 or min(w) < 1:
        raise ValueError(f"widths must be (d_0, ..., d_H) with H >= 1 and every d_i >= 1, got {w}")
    return w


def _rank_and_tie(v: np.ndarray, w: tuple[int, ...], tie_tol: float) -> tuple[int, bool]:
    r = min(min(w), v.size)
    tied = 0 < r < v.size and v[r - 1] - v[r] <= tie_tol
    return r, bool(tied)


def orientation_layers(eigenvalues: ArrayLike, widths: Widths) -> tuple[int, ...]:
    """The hidden layers i (1 <= i <= H-1) of width d_i = r = min(p, q): one sign each.

    Examples
    --------
    >>> from fastscape.theory import orientation_layers
    >>> orientation_layers([3.0, 2.0, 1.0], [4, 2, 2, 5, 4])
    (1, 2)
    >>> orientation_layers([3.0], [4, 2, 4])  # q = 1 < width 2: no orientation layer
    ()
    """
    v = _spectrum(eigenvalues)
    w = _widths(widths)
    r = min(min(w), v.size)
    return tuple(i for i in range(1, len(w) - 1) if w[i] == r)


def component_count(eigenvalues: ArrayLike, widths: Widths, *, tie_tol: float = 0.0) -> int:
    """Number of connected components of the set of global minima (no weight decay).

    2^m for m orientation layers; 2^(m-1) when lambda_r = lambda_(r+1) (m >= 1); 1
    when m = 0. Two layers: 2 when p <= q and lambda_p > lambda_(p+1), else 1.

    Examples
    --------
    >>> from fastscape.theory import component_count
    >>> component_count([3.0, 2.0, 1.0], [4, 2, 4])
    2
    >>> component_count([3.0, 2.0, 2.0], [4, 2, 4])  # tied at p: one component
    1
    >>> component_count([3.0, 2.0, 1.0], [4, 2, 2, 2, 4])
    8
    """
    v = _spectrum(eigenvalues)
    w = _widths(widths)
    r, tied = _rank_and_tie(v, w, float(tie_tol))
    m = len(orientation_layers(v, w))
    if m == 0:
        return 1
    return 2 ** (m - 1) if tied else 2**m


def weight_decay_component_count(
    singular_values: ArrayLike, p: int, weight_decay: float, *, tie_tol: float = 0.0
) -> int:
    """Components of the two-layer global minima with weight decay (Sxx = I).

    The minima form one O(p) orbit of A = [U_S D, 0] Q, B = Q^T [D V_S^T; 0], S the top
    k = min(p, #{sigma_i > mu}) singular values of Syx. The stabiliser is O(p - k), so
    the orbit has 2 components when k = p (and sigma_p > sigma_(p+1), or sigma_(p+1) <=
    mu), otherwise 1.

    Examples
    --------
    >>> from fastscape.theory import weight_decay_component_count
    >>> weight_decay_component_count([2.0, 1.0, 0.5], 2, 0.1)
    2
    >>> weight_decay_component_count([2.0, 1.0, 0.5], 2, 1.5)  # k = 1 < p
    1
    """
    s = np.asarray(singular_values, dtype=float).ravel()
    mu = float(weight_decay)
    p = int(p)
    k = min(p, int(np.sum(s > mu + tie_tol)))
    if k < p or k == 0:
        return 1
    if s.size > p and s[p] > mu + tie_tol and s[p - 1] - s[p] <= tie_tol:
        return 1
    return 2


def _levels(v, w, tie_tol):
    r, tied = _rank_and_tie(v, w, float(tie_tol))
    m = len(orientation_layers(v, w))
    low = (v[r - 1] - (v[r] if r < v.size else 0.0)) / 2 if r else 0.0
    high = v[r - 1] / 2 if r else 0.0
    return r, tied, m, low, high


def mountain_pass_barrier(eigenvalues: ArrayLike, widths: Widths, *, tie_tol: float = 0.0) -> float:
    """The lowest barrier (above the minimum) of any path joining two components.

    (lambda_r - lambda_(r+1)) / 2 with lambda_(q+1) = 0, or lambda_r / 2 when the
    spectrum is tied at r and there are m >= 2 orientation layers.

    Raises
    ------
    ValueError
        If the global minima are connected (one component): there is no pass.

    Examples
    --------
    >>> from fastscape.theory import mountain_pass_barrier
    >>> mountain_pass_barrier([3.0, 2.0, 1.0], [4, 2, 4])
    0.5
    >>> mountain_pass_barrier([3.0, 2.0], [3, 2, 2])  # q = p: lambda_3 = 0
    1.0
    """
    v = _spectrum(eigenvalues)
    w = _widths(widths)
    if component_count(v, w, tie_tol=tie_tol) == 1:
        raise ValueError(
            f"the global minima of widths {list(w)} are connected (one component): there "
            "is no mountain pass; join two minima with fastscape.minimum_path instead"
        )
    r, tied, m, low, high = _levels(v, w, tie_tol)
    return float(high if tied else low)


def barrier_between(
    eigenvalues: ArrayLike,
    widths: Widths,
    signs_a: Sequence[int],
    signs_b: Sequence[int],
    *,
    tie_tol: float = 0.0,
) -> float:
    """The barrier between the components with invariants ``signs_a`` and ``signs_b``.

    ``signs`` are ``fastscape.component_of(...).signs``. 0 for equal signs; with one sign
    per orientation layer (untied), (lambda_r - lambda_(r+1)) / 2 when every sign
    differs and lambda_r / 2 otherwise; with relative signs (tied at r), lambda_r / 2.

    Examples
    --------
    >>> from fastscape.theory import barrier_between
    >>> barrier_between([3.0, 2.0, 1.0], [4, 2, 2, 4], (1, 1), (-1, -1))
    0.5
    >>> barrier_between([3.0, 2.0, 1.0], [4, 2, 2, 4], (1, 1), (1, -1))
    1.0
    """
    v = _spectrum(eigenvalues)
    w = _widths(widths)
    r, tied, m, low, high = _levels(v, w, tie_tol)
    a, b = tuple(int(x) for x in signs_a), tuple(int(x) for x in signs_b)
    want = m - 1 if tied else m
    for name, s in (("signs_a", a), ("signs_b", b)):
        if len(s) != want or any(x not in (-1, 1) for x in s):
            raise ValueError(
                f"{name} must hold {want} signs +-1 (fastscape.component_of(...).signs), got {s}"
            )
    if a == b:
        return 0.0
    if not tied and all(x == -y for x, y in zip(a, b, strict=True)):
        return float(low)
    return float(high)


def sublevel_components(
    eigenvalues: ArrayLike, widths: Widths, level: float, *, tie_tol: float = 0.0
) -> int:
    """Components of {loss <= min + level}: 0 below the minimum, then 2^m (or 2^(m-1)),
    halving at (lambda_r - lambda_(r+1)) / 2 and down to 1 at lambda_r / 2.

    Every point of a sublevel set is joined inside it to a global minimum, so its
    components are the classes of minima joined by paths below the level.

    Examples
    --------
    >>> from fastscape.theory import sublevel_components
    >>> [sublevel_components([3.0, 2.0, 1.0], [4, 2, 4], c) for c in (-0.1, 0.0, 0.49, 0.5)]
    [0, 2, 2, 1]
    >>> [sublevel_components([3.0, 2.0, 1.0], [4, 2, 2, 4], c) for c in (0.0, 0.5, 1.0)]
    [4, 2, 1]
    """
    v = _spectrum(eigenvalues)
    w = _widths(widths)
    c = float(level)
    if c < 0:
        return 0
    n = component_count(v, w, tie_tol=tie_tol)
    if n == 1:
        return 1
    r, tied, m, low, high = _levels(v, w, tie_tol)
    if c >= high:
        return 1
    if not tied and c >= low:
        return n // 2
    return n
