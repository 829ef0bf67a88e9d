"""Widths, weight lists and flat parameter vectors, and seeded initialisation.

Parameter order (docs/theory.md): theta = (vec(W_1), ..., vec(W_H)), each W_k
flattened row-major, W_k of shape (d_k, d_(k-1)).
"""

from __future__ import annotations

import numpy as np

from ._types import ArrayLike, Seed, Weights, Widths
from ._validate import as_matrix, as_weights, as_widths


def widths_of(weights: Weights) -> tuple[int, ...]:
    """The widths (d_0, ..., d_H) of a weight list.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> fastscape.widths_of([np.zeros((3, 5)), np.zeros((2, 3))])
    (5, 3, 2)
    """
    ws = as_weights(weights)
    return (ws[0].shape[1],) + tuple(w.shape[0] for w in ws)


def num_params(widths: Widths) -> int:
    """N = sum_k d_k d_(k-1), the length of the flat parameter vector.

    Examples
    --------
    >>> import fastscape
    >>> fastscape.num_params([5, 3, 2])
    21
    """
    w = as_widths(widths)
    return sum(w[k] * w[k + 1] for k in range(len(w) - 1))


def flatten(weights: Weights) -> np.ndarray:
    """Concatenate [W_1, ..., W_H] row-major into the flat vector theta.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> fastscape.flatten([np.arange(6).reshape(2, 3), np.ones((1, 2))])
    array([0., 1., 2., 3., 4., 5., 1., 1.])
    """
    ws = as_weights(weights)
    return np.concatenate([w.ravel() for w in ws])


def unflatten(theta: ArrayLike, widths: Widths) -> list[np.ndarray]:
    """Split a flat vector into [W_1, ..., W_H] for the given widths (views, no copy).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> [w.shape for w in fastscape.unflatten(np.zeros(21), [5, 3, 2])]
    [(3, 5), (2, 3)]
    """
    w = as_widths(widths)
    t = as_matrix(theta, "theta", ndim=1)
    n = num_params(w)
    if t.size != n:
        raise ValueError(f"theta has length {t.size} but widths {list(w)} need N = {n}")
    out, off = [], 0
    for k in range(len(w) - 1):
        size = w[k + 1] * w[k]
        out.append(t[off : off + size].reshape(w[k + 1], w[k]))
        off += size
    return out


def random_weights(
    widths: Widths, *, seed: Seed = None, scale: float | None = None
) -> list[np.ndarray]:
    """Seeded Gaussian weights: W_k ~ N(0, scale^2), default scale 1/sqrt(d_(k-1)).

    Parameters
    ----------
    widths : sequence of int
        (d_0, ..., d_H).
    seed : int, numpy.random.Generator or None
        Anything ``numpy.random.default_rng`` accepts.
    scale : float, optional
        Standard deviation of every entry; default 1/sqrt(fan-in) per layer.

    Examples
    --------
    >>> import fastscape
    >>> ws = fastscape.random_weights([4, 3, 2], seed=0)
    >>> [w.shape for w in ws]
    [(3, 4), (2, 3)]
    >>> bool((fastscape.random_weights([4, 3, 2], seed=0)[0] == ws[0]).all())
    True
    """
    w = as_widths(widths)
    rng = np.random.default_rng(seed)
    out = []
    for k in range(len(w) - 1):
        s = (1.0 / np.sqrt(w[k])) if scale is None else float(scale)
        out.append(rng.standard_normal((w[k + 1], w[k])) * s)
    return out
