"""Closed-form learning curves of gradient flow (Saxe, McClelland & Ganguli 2014).

Whitened inputs (Sxx = I), Syx = U diag(s) V^T, and a decoupled balanced start (see
``fastscape.balanced_start``): each mode strength u_i (the i-th diagonal entry of
U^T W V) obeys, for depth H and weight decay mu = 0,

    du/dt = H u^(2 - 2/H) (s - u).

Writing u = a^H (a is the common factor of the balanced chain) and separating the
variables, t(u) = int_{a0}^{a} db / (b^(H-1) (s - b^H)), which partial fractions
split as (1/s) [int b^(1-H) db + int b / (s - b^H) db]. The second part is
s^(2/H - 1) F(b / s^(1/H)) with F(x) = -(1/H) sum_k w_k^2 log(1 - x / w_k) over the
H-th roots of unity w_k. For H = 2 this inverts to the logistic curve
u(t) = s / (1 + (s/u0 - 1) exp(-2 s t)). docs/dynamics.md has the derivation.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._types import ArrayLike

__all__ = [
    "LearningCurve",
    "learning_curve",
    "learning_time",
    "weight_decay_growth_threshold",
]


class LearningCurve(NamedTuple):
    """``times`` (T,), ``strengths`` (T, modes) and ``loss`` (T,) of a closed-form curve.

    ``loss`` = 1/2 trace_syy - sum_i s_i u_i + 1/2 sum_i u_i^2 over the given modes.

    Examples
    --------
    >>> from fastscape.theory import learning_curve
    >>> lc = learning_curve([1.0], 0.5, [0.0], trace_syy=1.0)
    >>> lc.strengths, lc.loss
    (array([[0.5]]), array([0.125]))
    """

    times: np.ndarray
    strengths: np.ndarray
    loss: np.ndarray


def _check(singular_values, initial, depth):
    s = np.asarray(singular_values, dtype=float).ravel()
    u0 = np.broadcast_to(np.asarray(initial, dtype=float).ravel(), s.shape).copy()
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 2:
        raise ValueError(f"depth must be an integer >= 2, got {depth!r}")
    if not (np.all(np.isfinite(s)) and np.all(s > 0)):
        raise ValueError("singular_values must be finite and > 0")
    if not (np.all(np.isfinite(u0)) and np.all(u0 > 0)):
        raise ValueError("initial strengths must be finite and > 0 (one per mode, or one)")
    return s, u0, int(depth)


def _F(x, depth):
    """-(1/H) sum_k w_k^2 log(1 - x / w_k) (real), x >= 0, x != 1."""
    k = np.arange(depth)
    w = np.exp(2j * np.pi * k / depth)
    x = np.asarray(x, dtype=float)[..., None]
    terms = w**2 * np.log(1 - x / w)
    # the k = 0 term is real: log |1 - x| keeps it finite and real above saturation too
    terms[..., 0] = np.log(np.abs(1 - x[..., 0]))
    return -np.sum(terms, axis=-1).real / depth


def learning_time(
    singular_values: ArrayLike, initial: ArrayLike, strengths: ArrayLike, *, depth: int = 2
) -> np.ndarray:
    """Time t at which a mode starting at u0 reaches strength u under gradient flow.

    t(u) = (1/s) [P(a) - P(a0) + s^(2/H - 1) (F(a / s^(1/H)) - F(a0 / s^(1/H)))] with
    a = u^(1/H), P(a) = log a (H = 2) or -a^(2-H) / (H - 2) (H >= 3), F as in the module
    docstring. u must lie between u0 and s (the flow approaches s monotonically).

    Parameters
    ----------
    singular_values : array_like, shape (modes,)
        s_i > 0.
    initial : array_like, shape (modes,) or scalar
        u0_i > 0.
    strengths : array_like, shape (..., modes)
        Target strengths u.
    depth : int
        H >= 2.

    Returns
    -------
    ndarray, shape of ``strengths``

    Examples
    --------
    >>> import numpy as np
    >>> from fastscape.theory import learning_time
    >>> float(learning_time([2.0], [0.01], [1.0])[0])  # log(u (s - u0) / (u0 (s - u))) / (2 s)
    1.3233...
    """
    s, u0, depth = _check(singular_values, initial, depth)
    u = np.asarray(strengths, dtype=float)
    a, a0 = u ** (1.0 / depth), u0 ** (1.0 / depth)
    root = s ** (1.0 / depth)
    if depth == 2:
        p, p0 = np.log(a), np.log(a0)
    else:
        p, p0 = -(a ** (2.0 - depth)) / (depth - 2), -(a0 ** (2.0 - depth)) / (depth - 2)
    f = _F(a / root, depth) - _F(a0 / root, depth)
    return (p - p0 + s ** (2.0 / depth - 1.0) * f) / s


def learning_curve(
    singular_values: ArrayLike,
    initial: ArrayLike,
    times: ArrayLike,
    *,
    depth: int = 2,
    trace_syy: float = 0.0,
) -> LearningCurve:
    """Mode strengths u_i(t) under gradient flow from a decoupled balanced start.

    Depth 2: u(t) = s / (1 + (s / u0 - 1) exp(-2 s t)) (the logistic curve). Depth
    H >= 3: the implicit t(u) of :func:`learning_time`, inverted by bisection to
    machine precision (t is monotone in u).

    Parameters
    ----------
    singular_values : array_like, shape (modes,)
        Singular values s_i of Syx (whitened inputs).
    initial : array_like, shape (modes,) or scalar
        Initial strengths u0_i > 0.
    times : array_like, shape (T,)
        Times t >= 0 (gradient descent with step lr reaches t = lr * step).
    depth : int
        H >= 2.
    trace_syy : float
        tr Syy, for the loss column.

    Returns
    -------
    LearningCurve

    Examples
    --------
    >>> from fastscape.theory import learning_curve
    >>> lc = learning_curve([2.0, 1.0], 1e-3, [0.0, 5.0])
    >>> lc.strengths[-1].round(4), lc.strengths[0]
    (array([2.    , 0.9566]), array([0.001, 0.001]))
    >>> lc3 = learning_curve([2.0], 1e-2, [0.0, 3.0, 30.0], depth=3)
    >>> lc3.strengths[:, 0].round(4)
    array([0.01  , 1.9988, 2.    ])
    """
    s, u0, depth = _check(singular_values, initial, depth)
    t = np.asarray(times, dtype=float).ravel()
    if not (np.all(np.isfinite(t)) and np.all(t >= 0)):
        raise ValueError("times must be finite and >= 0")
    if depth == 2:
        u = s / (1.0 + (s / u0 - 1.0) * np.exp(-2.0 * s * t[:, None]))
    else:
        lo = np.broadcast_to(np.minimum(u0, s), (t.size, s.size)).copy()
        hi = np.broadcast_to(np.maximum(u0, s), (t.size, s.size)).copy()
        up = u0 < s
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            with np.errstate(divide="ignore", invalid="ignore"):
                tm = learning_time(s, u0, mid, depth=depth)
            before = tm < t[:, None]  # mid is reached before t: the answer lies beyond mid
            beyond = np.where(up, before, ~before)
            lo = np.where(beyond, mid, lo)
            hi = np.where(beyond, hi, mid)
        u = np.where(s == u0, s, 0.5 * (lo + hi))
    loss = 0.5 * float(trace_syy) - u @ s + 0.5 * np.sum(u * u, axis=1)
    return LearningCurve(t, u, loss)


def weight_decay_growth_threshold(
    singular_value: float, weight_decay: float, *, depth: int
) -> float:
    """Smallest balanced initial strength u0 from which a mode grows under weight decay.

    A balanced chain of H factors a (u = a^H) with decay mu follows
    da/dt = a (a^(H-2) (s - a^H) - mu). For H = 2 it grows from any start iff s > mu
    (threshold 0, else inf). For H >= 3 the bracket is -mu < 0 near a = 0, so W = 0
    attracts every small start; growth needs h(a) = a^(H-2) (s - a^H) > mu, possible
    iff mu < mu_c = (H s / (2H - 2)) ((H - 2) s / (2H - 2))^((H-2)/H). The threshold
    is a_lo^H with a_lo the smaller root of h(a) = mu (inf when mu >= mu_c).

    Parameters
    ----------
    singular_value : float
        s > 0.
    weight_decay : float
        mu >= 0.
    depth : int
        H >= 2.

    Returns
    -------
    float

    Examples
    --------
    >>> from fastscape.theory import weight_decay_growth_threshold
    >>> weight_decay_growth_threshold(2.0, 0.5, depth=2)
    0.0
    >>> round(weight_decay_growth_threshold(2.0, 0.1, depth=3), 6)
    0.000125
    >>> weight_decay_growth_threshold(2.0, 2.0, depth=3)
    inf
    """
    s = float(singular_value)
    mu = float(weight_decay)
    if not (np.isfinite(s) and s > 0 and np.isfinite(mu) and mu >= 0):
        raise ValueError("singular_value must be > 0 and weight_decay >= 0, both finite")
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 2:
        raise ValueError(f"depth must be an integer >= 2, got {depth!r}")
    H = int(depth)
    if H == 2:
        return 0.0 if s > mu else float("inf")
    if mu == 0.0:
        return 0.0
    a_star = ((H - 2) * s / (2 * H - 2)) ** (1.0 / H)  # argmax of h
    h = lambda a: a ** (H - 2) * (s - a**H)  # noqa: E731
    if h(a_star) <= mu:
        return float("inf")
    lo, hi = 0.0, a_star
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if h(mid) < mu else (lo, mid)
    return float((0.5 * (lo + hi)) ** H)
