"""The global shape of the landscape: components of the minima, paths, mountain passes.

For widths (d_0, ..., d_H) with p = min(widths) every global minimum has end-to-end rank
r = min(p, q). Each hidden layer with d_i = r (an *orientation layer*) carries the sign
of det(U_S^T W_H ... W_(i+1)), constant on each component, and the signs tell the
components apart: 2^m of them for m orientation layers (2^(m-1) when lambda_r =
lambda_(r+1)). Between components every path climbs at least (lambda_r -
lambda_(r+1)) / 2 above the minimum, and a path that does exactly that is known. The
proofs are in docs/topology.md; the closed forms in ``fastscape.theory.topology``.

``neb`` (climbing-image nudged elastic band) lives in ``fastscape.topology_neb``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._types import ArrayLike, Seed, Weights, Widths
from ._validate import as_int, as_weight_decay, as_weights
from .derivatives import loss
from .kernels import derivatives as _kd
from .moments import Moments, as_moments
from .network import flatten, unflatten, widths_of
from .theory import topology as _tt
from .topology_core import (
    check_minimum,
    loss_tol,
    minimum_set,
    orientation_signs,
    point_frame,
)
from .topology_paths import Frames, canonical, decay_segments, path_segments, sample

__all__ = [
    "Component",
    "MountainPass",
    "component_of",
    "global_min_components",
    "interpolate",
    "minimum_path",
    "mountain_pass",
    "random_directions",
    "sublevel_components",
]


class Component(NamedTuple):
    """The invariants of a global minimum: two minima share a component iff they are equal.

    ``signs[j]`` is sign det(U_S^T W_H ... W_(i+1)) for the orientation layer
    i = ``layers[j]`` (U_S: the top-r eigenvectors of ``Moments.spectrum()``). When
    lambda_r = lambda_(r+1) the subspace col(W) can turn inside the tied eigenspace and
    only orientations relative to each other survive: then ``relative`` is True and
    ``signs[j]`` is the product of the signs of layers[j] and layers[j + 1].

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 9)
    >>> B, A = fastscape.canonical_point(m, [3, 2, 3], [0, 1])
    >>> fastscape.component_of([B, A], m)
    Component(signs=(1,), layers=(1,), relative=False)
    >>> fastscape.component_of([-B, -A], m).signs  # det(-I_2) = 1: same component
    (1,)
    """

    signs: tuple[int, ...]
    layers: tuple[int, ...]
    relative: bool


class MountainPass(NamedTuple):
    """The lowest pass between two components of the global minima.

    ``barrier`` is the loss of the pass above the minimum; ``index_set`` the critical
    point crossed (0-based positions in Sigma's spectrum) and ``saddle`` its weights;
    ``path`` weight lists from a global minimum in one component (``ends[0]``) to one
    in another (``ends[1]``) whose highest loss is ``min + barrier``; ``losses`` the
    loss along it.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 9)
    >>> mp = fastscape.mountain_pass(m, [3, 2, 3])
    >>> mp.barrier, mp.index_set, mp.ends[0].signs, mp.ends[1].signs
    (1.5, (0, 2), (1,), (-1,))
    >>> bool(np.isclose(mp.losses.max() - mp.losses[0], mp.barrier))
    True
    """

    barrier: float
    index_set: tuple[int, ...]
    saddle: list
    path: list
    losses: np.ndarray
    ends: tuple


def global_min_components(moments: Moments, widths: Widths, *, weight_decay: float = 0.0) -> int:
    """The number of connected components of the set of global minima.

    Parameters
    ----------
    moments : Moments
    widths : sequence of int
        (dx, d_1, ..., d_(H-1), dy).
    weight_decay : float
        mu > 0: the two-layer minima of l + mu/2 (|A|^2 + |B|^2), whitened inputs
        (Sxx = I) only; they form one O(p) orbit.

    Returns
    -------
    int
        Without weight decay 2^m for the m hidden layers of width r = min(p, q), or
        2^(m-1) when lambda_r = lambda_(r+1); two layers: 2 when lambda_p >
        lambda_(p+1) (p <= q), else 1. With weight decay: 2 when all p hidden units
        are used (sigma_p > mu) and untied, else 1.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 9)
    >>> fastscape.global_min_components(m, [3, 2, 3])
    2
    >>> fastscape.global_min_components(m, [3, 2, 2, 4, 3])  # two layers of width r = 2
    4
    >>> fastscape.global_min_components(m, [3, 4, 3])  # rank 3 below the width 4
    1
    >>> fastscape.global_min_components(m, [3, 2, 3], weight_decay=1.5)  # sigma_2 = 2 > mu
    2
    """
    ms = minimum_set(moments, widths, weight_decay=weight_decay)
    n = len(ms.layers)
    if n == 0:
        return 1
    return 2 ** (n - 1) if ms.tied else 2**n


def component_of(weights: Weights, moments: Moments, *, weight_decay: float = 0.0) -> Component:
    """The invariants (orientation signs) of a global minimum; see :class:`Component`.

    Parameters
    ----------
    weights : list of array_like
        A global minimum [W_1, ..., W_H].
    moments : Moments
    weight_decay : float
        As in ``global_min_components`` (two layers, Sxx = I).

    Returns
    -------
    Component
        Equal for two minima exactly when they lie in one component.

    Raises
    ------
    ValueError
        If ``weights`` is not a global minimum (the message gives its excess loss).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 9)
    >>> ws = fastscape.deep_point(m, [3, 2, 2, 3], [0, 1])
    >>> fastscape.component_of(ws, m).signs
    (1, 1)
    >>> D = np.diag([-1.0, 1.0])
    >>> fastscape.component_of([ws[0], D @ ws[1], ws[2] @ D], m).signs  # flip layer 2
    (1, -1)
    """
    mu = as_weight_decay(weight_decay)
    ws0 = as_weights(weights)
    ms = minimum_set(moments, widths_of(ws0), weight_decay=mu)
    return _label(check_minimum(ws0, ms, "weights"), ms)


def _label(ws, ms) -> Component:
    if not ms.tied:
        return Component(orientation_signs(ws, ms.frame, ms.layers), ms.layers, False)
    s = orientation_signs(ws, point_frame(ws, ms.r), ms.layers)
    rel = tuple(int(a * b) for a, b in zip(s[:-1], s[1:], strict=True))
    return Component(rel, ms.layers, True)


def minimum_path(
    w_a: Weights, w_b: Weights, moments: Moments, *, n: int = 64, weight_decay: float = 0.0
) -> list[list[np.ndarray]]:
    """n weight lists from ``w_a`` to ``w_b``, every one a global minimum.

    The path follows the constructive proof that each component is connected
    (docs/topology.md): kernel moves, gauge moves along polar-decomposition paths in
    GL+(d_k), and, when lambda_r = lambda_(r+1), turns of col(W) inside the tied
    eigenspace. The loss is the minimum at every point up to round-off, and the points
    are equally spaced in arc length along the construction.

    With weight decay (two layers, Sxx = I) the minima are one O(p) orbit and the path
    is A0 Q(t), Q(t)^T B0 with Q(t) a rotation path in O(p).

    Parameters
    ----------
    w_a, w_b : list of array_like
        Two global minima of the same widths.
    moments : Moments
    n : int
        Number of points, n >= 2 (the first is ``w_a``, the last ``w_b``).
    weight_decay : float
        As in ``global_min_components``.

    Returns
    -------
    list
        n weight lists.

    Raises
    ------
    ValueError
        If either point is not a global minimum, or they lie in different components
        (the message gives both invariants).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 9)
    >>> a = fastscape.canonical_point(m, [3, 2, 3], [0, 1])
    >>> C = np.array([[2.0, 1.0], [0.0, 0.5]])  # det C > 0: same component
    >>> b = fastscape.canonical_point(m, [3, 2, 3], [0, 1], C=C)
    >>> path = fastscape.minimum_path(a, b, m, n=16)
    >>> losses = [fastscape.loss(w, m) for w in path]
    >>> len(path), bool(np.ptp(losses) < 1e-12)
    (16, True)
    """
    n = as_int(n, "n", 2, " (the number of points on the path)")
    ms = minimum_set(moments, widths_of(w_a), weight_decay=weight_decay)
    a = check_minimum(w_a, ms, "w_a")
    b = check_minimum(w_b, ms, "w_b")
    ca, cb = _label(a, ms), _label(b, ms)
    if ca != cb:
        raise ValueError(
            f"w_a and w_b lie in different components of the global minima (invariants "
            f"{ca.signs} and {cb.signs} at layers {ca.layers}): no path through minima joins "
            "them; fastscape.mountain_pass gives the lowest path over the barrier"
        )
    if ms.weight_decay > 0:
        return sample(decay_segments(a, b, ms), n)
    return sample(path_segments(a, b, ms), n)


class _Scale:
    """Row ``row`` of W_i and column ``row`` of W_(i+1) times cos(pi t) (W = ws)."""

    def __init__(self, ws, i, row):
        self.ws, self.i, self.row = ws, i, row

    def __call__(self, t):
        c = np.cos(np.pi * t)
        out = [w.copy() for w in self.ws]
        out[self.i - 1][self.row] *= c
        out[self.i][:, self.row] *= c
        return out


def mountain_pass(moments: Moments, widths: Widths, *, n: int = 65) -> MountainPass:
    """The lowest path between two components of the global minima, and its saddle.

    - r < q, lambda_r > lambda_(r+1): turn the last column of U_S into u_(r+1) and on
      (the frame F(t) = [u_1 .. u_(r-1), cos(pi t) u_r + sin(pi t) u_(r+1)]); the loss is
      min + sin^2(pi t) (lambda_r - lambda_(r+1)) / 2, the pass the critical point of S =
      {0, ..., r-2, r}; the path ends with every orientation reversed.
    - r = q: scale the r-th column of W_H and row of W_1 by cos(pi t); the loss is
      min + sin^4(pi t) lambda_r / 2, the pass the rank-deficient point S = {0..r-2}.
    - lambda_r = lambda_(r+1) (two orientation layers or more): the same scaling at the
      first orientation layer only, barrier lambda_r / 2.

    Parameters
    ----------
    moments : Moments
    widths : sequence of int
    n : int
        Points on the path (odd n puts one on the pass).

    Raises
    ------
    ValueError
        If the global minima are connected (no pass exists).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 9)
    >>> mp = fastscape.mountain_pass(m, [2, 2, 2])  # q = p = 2: barrier lambda_2 / 2
    >>> mp.barrier, mp.index_set
    (0.5, (0,))
    """
    n = as_int(n, "n", 3, " (the number of points on the path)")
    ms = minimum_set(moments, widths)
    v, w, r = ms.values, ms.widths, ms.r
    barrier = _tt.mountain_pass_barrier(v, w, tie_tol=ms.tie_tol)  # raises if connected
    start = canonical(ms, ms.frame, (False,) * (ms.depth - 1))
    seg: Frames | _ScaleEnds | _Scale
    if not ms.tied and r < v.size:
        ur, ur1 = ms.vectors[:, r - 1], ms.vectors[:, r]
        k = np.pi * (np.outer(ur1, ur) - np.outer(ur, ur1))
        seg = Frames(ms, k, ms.frame, (False,) * (ms.depth - 1))
        index_set = tuple(range(r - 1)) + (r,)
    elif not ms.tied:
        seg = _ScaleEnds(start, r - 1)
        index_set = tuple(range(r - 1))
    else:
        seg = _Scale(start, ms.layers[0], r - 1)
        index_set = tuple(range(r - 1))
    ts = np.linspace(0.0, 1.0, n)
    path = [seg(t) for t in ts]
    losses = np.array([loss(x, ms.moments) for x in path])
    saddle = seg(0.5)
    ends = (component_of(path[0], ms.moments), component_of(path[-1], ms.moments))
    return MountainPass(float(barrier), index_set, saddle, path, losses, ends)


class _ScaleEnds:
    """Row ``row`` of W_1 and column ``row`` of W_H times cos(pi t)."""

    def __init__(self, ws, row):
        self.ws, self.row = ws, row

    def __call__(self, t):
        c = np.cos(np.pi * t)
        out = [w.copy() for w in self.ws]
        out[0][self.row] *= c
        out[-1][:, self.row] *= c
        return out


def interpolate(
    w_a: Weights, w_b: Weights, moments: Moments, *, n: int = 65, weight_decay: float = 0.0
) -> np.ndarray:
    """The loss along the straight line (1 - t) w_a + t w_b, t = linspace(0, 1, n).

    Goodfellow, Vinyals & Saxe (2015)'s one-dimensional probe. Between two components
    of the global minima it can never rise less than the mountain pass.

    Parameters
    ----------
    w_a, w_b : list of array_like
        Two points of the same widths (any points, not only minima).
    moments : Moments
    n : int
        Number of points, n >= 2.
    weight_decay : float

    Returns
    -------
    ndarray, shape (n,)
        The loss at t = 0, 1/(n-1), ..., 1.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(1), np.array([[2.0]]), np.array([[4.0]]))
    >>> fastscape.interpolate([np.ones((1, 1))] * 2, [-np.ones((1, 1))] * 2, m, n=3)
    array([0.5, 2. , 0.5])
    """
    n = as_int(n, "n", 2, " (the number of points on the line)")
    la = loss(w_a, moments, weight_decay=weight_decay)  # checks both points
    loss(w_b, moments, weight_decay=weight_decay)
    ta, tb = flatten(w_a), flatten(w_b)
    if ta.size != tb.size or widths_of(w_a) != widths_of(w_b):
        raise ValueError("w_a and w_b must have the same widths")
    m = as_moments(moments)
    wid = np.asarray(widths_of(w_a), dtype=np.int64)
    mu = float(weight_decay)
    out = np.empty(n)
    for j, t in enumerate(np.linspace(0.0, 1.0, n)):
        out[j] = _kd.loss((1.0 - t) * ta + t * tb, wid, m.sxx, m.syx, m.trace_syy, False, mu)
    out[0] = la
    return out


def random_directions(
    weights: Weights, *, count: int = 2, normalize: str | None = "filter", seed: Seed = 0
) -> list:
    """Seeded random directions shaped like ``weights`` (Li et al. 2018).

    Parameters
    ----------
    weights : list of array_like
        The point the directions are drawn for.
    count : int
        Number of directions.
    normalize : {"filter", "layer", None}
        "filter": each row of each W_k (one unit's incoming weights, Li et al.'s
        filter) is scaled to the norm of that row of the point; "layer": each W_k to
        the Frobenius norm of W_k; None: plain standard normal entries.
    seed : int or numpy.random.Generator

    Returns
    -------
    list
        ``count`` lists of arrays shaped like ``weights``; pass two of them to
        ``fastscape.slices.slice_grid`` or ``fastscape.plot.loss_slice`` with
        ``unit=False`` to keep their scale.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> ws = [np.array([[3.0, 4.0], [0.0, 1.0]])]
    >>> (d,) = fastscape.random_directions(ws, count=1)
    >>> np.linalg.norm(d[0], axis=1).round(12)
    array([5., 1.])
    """
    ws = as_weights(weights)
    count = as_int(count, "count", 1, " (how many directions to draw)")
    if normalize not in ("filter", "layer", None):
        raise ValueError(f"normalize must be 'filter', 'layer' or None, got {normalize!r}")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        d = []
        for w in ws:
            x = rng.standard_normal(w.shape)
            if normalize == "filter":
                nx = np.linalg.norm(x, axis=1, keepdims=True)
                x = x * (np.linalg.norm(w, axis=1, keepdims=True) / np.where(nx > 0, nx, 1.0))
            elif normalize == "layer":
                nx = np.linalg.norm(x)
                x = x * (np.linalg.norm(w) / nx if nx > 0 else 0.0)
            d.append(x)
        out.append(d)
    return out


def sublevel_components(moments: Moments, widths: Widths, levels: ArrayLike) -> np.ndarray:
    """Components of {loss <= c} for each level c (absolute loss values), closed form.

    0 below the minimum; then the number of components of the minima, halved at
    min + (lambda_r - lambda_(r+1)) / 2 when the minima have orientation layers, and 1
    from min + lambda_r / 2 on (docs/topology.md). Levels within round-off of these
    critical levels count as on them.

    Parameters
    ----------
    moments : Moments
    widths : sequence of int
    levels : float or array_like
        Loss values c (absolute, not above the minimum).

    Returns
    -------
    ndarray of int
        One count per level.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 9)
    >>> lo = fastscape.global_min_loss(m, [3, 2, 3])
    >>> fastscape.sublevel_components(m, [3, 2, 3], lo + np.array([-1.0, 0.0, 1.4, 1.5]))
    array([0, 2, 2, 1])
    """
    ms = minimum_set(moments, widths)
    lv = np.atleast_1d(np.asarray(levels, dtype=float))
    if lv.ndim != 1 or not np.all(np.isfinite(lv)):
        raise ValueError("levels must be a finite number or a 1-D array of loss values")
    tol = loss_tol(ms, ms.gmin)
    v, r = ms.values, ms.r
    marks = [0.0]
    if r:  # the critical levels where the count changes, snapped to within round-off
        marks += [(v[r - 1] - (v[r] if r < v.size else 0.0)) / 2, v[r - 1] / 2]
    out = []
    for c in lv:
        c_rel = c - ms.gmin
        for mark in marks:
            if abs(c_rel - mark) <= tol:
                c_rel = mark
        out.append(_tt.sublevel_components(ms.values, ms.widths, c_rel, tie_tol=ms.tie_tol))
    return np.array(out, dtype=np.int64)


def path_array(path) -> np.ndarray:
    """A path (list of weight lists) as an (n, N) array of flat parameter vectors."""
    return np.array([flatten(x) for x in path])


def path_from_array(thetas, widths) -> list:
    """The inverse of :func:`path_array`."""
    return [[w.copy() for w in unflatten(t, widths)] for t in np.asarray(thetas)]
