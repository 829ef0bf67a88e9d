"""Per-point closed forms for two layers (docs/theory.md): losses, Morse index, nullity laws.

Conventions: ``eigenvalues`` are the q positive eigenvalues lambda_1 >= ... >= lambda_q
of Sigma = Syx Sxx^-1 Syx^T (descending, zeros already removed); an index set S is a
sequence of 0-based positions into them. Two eigenvalues count as tied when they
differ by at most ``tie_tol`` (0 = exact equality).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.optimize

from .._types import ArrayLike, IndexSet

if TYPE_CHECKING:
    from ..moments import Moments

__all__ = [
    "critical_loss",
    "deep_weight_decay_global_min_loss",
    "global_min_loss_two_layer",
    "inversions",
    "is_whitened",
    "morse_index",
    "morse_index_distinct",
    "morse_index_law",
    "nullity",
    "ties",
    "weight_decay_critical_point",
    "weight_decay_global_min_loss",
    "weight_decay_loss",
    "weight_decay_morse_index",
    "weight_decay_nullity",
    "whitened_hessian_spectrum",
]


def _values(eigenvalues) -> np.ndarray:
    v = np.asarray(eigenvalues, dtype=float).ravel()
    if v.size and np.any(np.diff(v) > 0):
        raise ValueError("eigenvalues must be in descending order (Moments.spectrum().values)")
    return v


def as_index_set(index_set, q: int) -> np.ndarray:
    s = np.asarray(list(index_set), dtype=np.int64)
    if s.size and (s.min() < 0 or s.max() >= q or np.unique(s).size != s.size):
        raise ValueError(
            f"index set {tuple(int(i) for i in s)} must hold distinct positions 0..{q - 1}"
        )
    return np.sort(s)


def _pairs(values: np.ndarray, s: np.ndarray, tie_tol: float) -> tuple[int, int]:
    """(#inversions, #ties) over pairs i not in S, j in S."""
    out_mask = np.ones(values.size, dtype=bool)
    out_mask[s] = False
    li = values[out_mask][:, None]
    lj = values[s][None, :]
    return int(np.sum(li > lj + tie_tol)), int(np.sum(np.abs(li - lj) <= tie_tol))


def critical_loss(eigenvalues: ArrayLike, index_set: Sequence[int], trace_syy: float) -> float:
    """Loss 1/2 (tr Syy - sum_{i in S} lambda_i) at the critical points of S.

    Examples
    --------
    >>> from fastscape.theory import critical_loss
    >>> critical_loss([4.0, 1.0], [1], 6.0)
    2.5
    """
    v = _values(eigenvalues)
    s = as_index_set(index_set, v.size)
    return 0.5 * (float(trace_syy) - float(np.sum(v[s])))


def global_min_loss_two_layer(eigenvalues: ArrayLike, p: int, trace_syy: float) -> float:
    """Global minimum of the loss with hidden width p: 1/2 (tr Syy - top-p sum).

    Examples
    --------
    >>> from fastscape.theory import global_min_loss_two_layer
    >>> global_min_loss_two_layer([4.0, 1.0], 1, 6.0)
    1.0
    """
    v = _values(eigenvalues)
    return 0.5 * (float(trace_syy) - float(np.sum(v[: max(int(p), 0)])))


def inversions(eigenvalues: ArrayLike, index_set: Sequence[int], *, tie_tol: float = 0.0) -> int:
    """inv(S) = #{(i, j): i not in S, j in S, lambda_i > lambda_j} (beyond tie_tol).

    Examples
    --------
    >>> from fastscape.theory import inversions
    >>> inversions([3.0, 2.0, 1.0], [2])
    2
    """
    v = _values(eigenvalues)
    return _pairs(v, as_index_set(index_set, v.size), tie_tol)[0]


def ties(eigenvalues: ArrayLike, index_set: Sequence[int], *, tie_tol: float = 0.0) -> int:
    """ties(S) = #{(i, j): i not in S, j in S, |lambda_i - lambda_j| <= tie_tol}.

    Examples
    --------
    >>> from fastscape.theory import ties
    >>> ties([2.0, 2.0, 1.0], [0])
    1
    """
    v = _values(eigenvalues)
    return _pairs(v, as_index_set(index_set, v.size), tie_tol)[1]


def morse_index_law(inversions: Any, outside: Any, p: Any, k: Any) -> Any:
    """The Morse index law of a two-layer critical point: inv(S) + (p - k) * outside.

    The one implementation every part of fastscape uses (closed forms, the vectorised
    predictions of ``critical_points``, the weight-decay law, the engine's Python side).
    ``inversions`` = inv(S), the pairs i not in S, j in S with lambda_i > lambda_j;
    ``outside`` = the directions i not in S that a free hidden unit could still learn
    (q - k without weight decay, #{i not in S: sigma_i > mu} with it); ``k = |S| <= p``.
    Each of the p - k free units has one descent direction per such i. Works on ints
    and elementwise on integer arrays. The derivation is in docs/theory.md.

    Examples
    --------
    >>> from fastscape.theory import morse_index_law
    >>> morse_index_law(1, 2, 2, 1)  # inv = 1, q - k = 2 outside, one free unit
    3
    """
    return inversions + (p - k) * outside


def morse_index(
    eigenvalues: ArrayLike, index_set: Sequence[int], p: int, *, tie_tol: float = 0.0
) -> int:
    """Number of negative Hessian eigenvalues: inv(S) + (q - k)(p - k).

    Examples
    --------
    >>> from fastscape.theory import morse_index
    >>> morse_index([3.0, 2.0, 1.0], [0, 1], 2), morse_index([3.0, 2.0, 1.0], [1], 2)
    (0, 3)
    """
    v = _values(eigenvalues)
    s = as_index_set(index_set, v.size)
    q, k = v.size, s.size
    return int(morse_index_law(_pairs(v, s, tie_tol)[0], q - k, max(int(p), k), k))


def morse_index_distinct(q: int, p: int, index_set: Sequence[int]) -> int:
    """:func:`morse_index` for q distinct eigenvalues, from the positions alone.

    With lambda_0 > ... > lambda_(q-1), inv(S) = sum(S) - k(k-1)/2 (position j in S is
    passed by the j - (its rank in S) smaller positions outside S), so no eigenvalue
    is needed: this is the index the enumeration engine counts. Exact Python ints.

    Examples
    --------
    >>> from fastscape.theory import morse_index_distinct
    >>> morse_index_distinct(3, 2, [0, 1]), morse_index_distinct(3, 2, [1])
    (0, 3)
    """
    s = sorted(int(i) for i in index_set)
    k = len(s)
    return morse_index_law(sum(s) - k * (k - 1) // 2, int(q) - k, max(int(p), k), k)


def nullity(
    eigenvalues: ArrayLike,
    index_set: Sequence[int],
    p: int,
    dx: int,
    dy: int,
    *,
    tie_tol: float = 0.0,
) -> int:
    """Zero Hessian eigenvalues: k^2 + (p-k)(dx+dy) - 2(q-k)(p-k) + ties(S).

    Examples
    --------
    >>> from fastscape.theory import nullity
    >>> nullity([3.0, 2.0, 1.0], [0, 1], 2, 3, 3)
    4
    """
    v = _values(eigenvalues)
    s = as_index_set(index_set, v.size)
    q, k, p = v.size, s.size, int(p)
    return k * k + (p - k) * (dx + dy) - 2 * (q - k) * (p - k) + _pairs(v, s, tie_tol)[1]


def whitened_hessian_spectrum(
    eigenvalues: ArrayLike, index_set: Sequence[int], p: int, dx: int, dy: int
) -> np.ndarray:
    """Hessian eigenvalues (ascending) at the canonical point when Sxx = I (docs/theory.md).

    Per j in S: k zeros and k copies of 1 + lambda_j; per pair i not in S, j in S:
    ((lambda_j + 1) +- sqrt((lambda_j - 1)^2 + 4 lambda_i)) / 2; per j in S, dy - q
    copies of lambda_j and dx - q of 1; per i not in S and unused unit, +-sqrt(lambda_i);
    the rest zero.

    Examples
    --------
    >>> from fastscape.theory import whitened_hessian_spectrum
    >>> whitened_hessian_spectrum([4.0], [0], 1, 1, 1)
    array([0., 5.])
    """
    v = _values(eigenvalues)
    s = as_index_set(index_set, v.size)
    q, k, p = v.size, s.size, int(p)
    rest = np.setdiff1d(np.arange(q), s)
    out = []
    for j in s:
        lj = v[j]
        out += [0.0] * k + [1.0 + lj] * k + [lj] * (dy - q) + [1.0] * (dx - q)
        for i in rest:
            r = np.sqrt((lj - 1.0) ** 2 + 4.0 * v[i])
            out += [(lj + 1.0 + r) / 2, (lj + 1.0 - r) / 2]
    for i in rest:
        out += [np.sqrt(v[i]), -np.sqrt(v[i])] * (p - k)
    n = p * (dx + dy)
    return np.sort(np.array(out + [0.0] * (n - len(out))))


def is_whitened(sxx: ArrayLike, *, rtol: float = 1e-10) -> bool:
    """True when Sxx equals the identity within rtol (max-abs entrywise).

    Examples
    --------
    >>> import numpy as np
    >>> from fastscape.theory import is_whitened
    >>> is_whitened(np.eye(3)), is_whitened(2 * np.eye(3))
    (True, False)
    """
    a = np.asarray(sxx, dtype=float)
    return bool(np.max(np.abs(a - np.eye(a.shape[0])), initial=0.0) <= rtol)


def weight_decay_loss(
    singular_values: ArrayLike, index_set: IndexSet, weight_decay: float, trace_syy: float
) -> float:
    """f = 1/2 (tr Syy - sum_{i in S} (sigma_i - mu)^2), whitened two-layer (docs/theory.md).

    Examples
    --------
    >>> from fastscape.theory import weight_decay_loss
    >>> weight_decay_loss([2.0, 1.0], [0], 0.5, 5.0)
    1.375
    """
    s = _values(singular_values)
    idx = as_index_set(index_set, s.size)
    return 0.5 * (float(trace_syy) - float(np.sum((s[idx] - weight_decay) ** 2)))


def weight_decay_global_min_loss(
    singular_values: ArrayLike, p: int, weight_decay: float, trace_syy: float
) -> float:
    """Global minimum of f (whitened, two layers): S = the top min(p, #{sigma > mu}).

    Examples
    --------
    >>> from fastscape.theory import weight_decay_global_min_loss
    >>> weight_decay_global_min_loss([2.0, 1.0, 0.1], 3, 0.5, 5.0)
    1.25
    """
    s = _values(singular_values)
    top = s[: int(p)]
    top = top[top > weight_decay]
    return 0.5 * (float(trace_syy) - float(np.sum((top - weight_decay) ** 2)))


def weight_decay_morse_index(
    singular_values: ArrayLike,
    index_set: IndexSet,
    p: int,
    weight_decay: float,
    *,
    tie_tol: float = 0.0,
) -> int:
    """#{(i not in S, j in S): sigma_i > sigma_j} + (p - k) #{i not in S: sigma_i > mu}.

    Examples
    --------
    >>> from fastscape.theory import weight_decay_morse_index
    >>> weight_decay_morse_index([2.0, 1.0, 0.1], [1], 2, 0.5)
    2
    """
    s = _values(singular_values)
    idx = as_index_set(index_set, s.size)
    inv = _pairs(s, idx, tie_tol)[0]
    mask = np.ones(s.size, dtype=bool)
    mask[idx] = False
    outside = int(np.sum(s[mask] > weight_decay + tie_tol))
    return int(morse_index_law(inv, outside, int(p), idx.size))


def weight_decay_nullity(
    singular_values: ArrayLike, index_set: IndexSet, p: int, *, tie_tol: float = 0.0
) -> int:
    """k(k-1)/2 + k(p-k) (the O(p) orbit), plus ties(S) among the singular values.

    Examples
    --------
    >>> from fastscape.theory import weight_decay_nullity
    >>> weight_decay_nullity([2.0, 1.0], [0, 1], 3)
    3
    """
    s = _values(singular_values)
    idx = as_index_set(index_set, s.size)
    k = idx.size
    return k * (k - 1) // 2 + k * (int(p) - k) + _pairs(s, idx, tie_tol)[1]


def weight_decay_critical_point(
    moments: Moments,
    p: int,
    index_set: IndexSet,
    weight_decay: float,
    *,
    Q: ArrayLike | None = None,
) -> list[np.ndarray]:
    """[B, A] with A = [U_S D, 0] Q, B = Q^T [D V_S^T; 0], D = sqrt(sigma_S - mu) (weight decay).

    Raises ValueError unless Sxx = I (within 1e-10): the closed form holds only for
    whitened inputs (for other Sxx the balanced critical points are not given by the
    SVD of Syx); ``fastscape.classify`` still works at any point.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> from fastscape.theory import weight_decay_critical_point
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2))
    >>> B, A = weight_decay_critical_point(m, 1, [0], 0.5)
    >>> np.round(A @ B, 3)
    array([[1.5, 0. ],
           [0. , 0. ]])
    """
    if not is_whitened(moments.sxx):
        raise ValueError(
            "the weight-decay closed form (docs/theory.md) needs whitened inputs, Sxx = I; this "
            "Sxx is not the identity, so no closed form is known. Whiten X first (X @ Sxx^-1/2) "
            "or use fastscape.classify on your own points"
        )
    u, sv, vt = np.linalg.svd(moments.syx)
    idx = as_index_set(index_set, sv.size)
    k, p = idx.size, int(p)
    if k > p:
        raise ValueError(f"index set has {k} positions but the hidden width is p = {p}")
    if np.any(sv[idx] <= weight_decay):
        raise ValueError(f"every sigma_i in S must exceed weight_decay = {weight_decay}")
    d = np.sqrt(sv[idx] - weight_decay)
    a = np.zeros((moments.dy, p))
    b = np.zeros((p, moments.dx))
    a[:, :k] = u[:, idx] * d
    b[:k] = d[:, None] * vt[idx]
    if Q is not None:
        q = np.asarray(Q, dtype=float)
        a, b = a @ q, q.T @ b
    return [b, a]


def _mode_value(sigma: float, depth: int, mu: float) -> float:
    """min_{w >= 0} 1/2 w^2 - sigma w + mu H/2 w^(2/H) (one singular direction)."""

    def f(w):
        return 0.5 * w * w - sigma * w + 0.5 * mu * depth * w ** (2.0 / depth)

    if sigma <= 0:
        return 0.0
    grid = np.linspace(0.0, sigma, 2001)
    vals = f(grid)
    i = int(np.argmin(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    best = min(float(vals[i]), 0.0)
    if hi > lo:
        r = scipy.optimize.minimize_scalar(
            f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-14 * max(sigma, 1.0)}
        )
        best = min(best, float(r.fun))
    return best


def deep_weight_decay_global_min_loss(
    singular_values: ArrayLike, depth: int, p: int, weight_decay: float, trace_syy: float
) -> float:
    """Global minimum of l + mu/2 sum |W_k|^2 with Sxx = I at depth H (numerical 1-D).

    At a minimiser the layers are balanced and aligned with Syx's singular vectors, and
    sum_k |W_k|_F^2 = H sum_i w_i^(2/H) for the end-to-end singular values w_i. The
    problem splits per singular value sigma_i into min_{w >= 0} 1/2 w^2 - sigma_i w +
    mu H/2 w^(2/H), solved on a grid then refined by bounded Brent; the top p modes are
    kept (the per-mode value decreases with sigma). H = 2 gives -(sigma - mu)^2/2.

    Examples
    --------
    >>> from fastscape.theory import deep_weight_decay_global_min_loss
    >>> round(deep_weight_decay_global_min_loss([2.0, 1.0], 2, 2, 0.5, 5.0), 6)
    1.25
    """
    s = _values(singular_values)[: int(p)]
    vals = sorted(_mode_value(float(x), int(depth), float(weight_decay)) for x in s)
    return 0.5 * float(trace_syy) + float(np.sum(vals))
