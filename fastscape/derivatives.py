"""Product, loss, gradient, Hessian and Hessian-vector product: validate, then call kernels."""

from __future__ import annotations

import numpy as np

from ._inputs import prepare_inputs
from ._types import ArrayLike, Weights
from ._validate import as_flag, as_matrix, as_weights
from .kernels import derivatives as _k
from .moments import Moments
from .spectra_ops import apply_kernel, primal_pieces

#: A Hessian larger than this many bytes is refused without ``out`` (see ``hessian``).
_MAX_AUTO_BYTES_FRACTION = 0.5


class HessianTooLargeError(MemoryError, ValueError):
    """The dense Hessian would not fit in memory and no ``out`` array was given.

    A ``MemoryError`` and a ``ValueError``: the request, not the machine, is at fault.
    The message gives the size (8 N^2 bytes) and the two ways out: ``hvp`` for
    products, or a memory-mapped ``out``.

    Examples
    --------
    >>> import fastscape
    >>> issubclass(fastscape.HessianTooLargeError, MemoryError)
    True
    >>> issubclass(fastscape.HessianTooLargeError, ValueError)
    True
    """


def product(weights: Weights, *, residual: bool = False) -> np.ndarray:
    """The end-to-end map W_H ... W_1 (or (I + W_H) ... (I + W_1)), shape (dy, dx).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> fastscape.product([np.array([[1.0, 2.0]]), np.array([[3.0]])])
    array([[3., 6.]])
    >>> fastscape.product([np.zeros((2, 2))], residual=True)
    array([[1., 0.],
           [0., 1.]])
    """
    residual = as_flag(residual, "residual")
    ws = as_weights(weights, residual=residual)
    widths = np.array([ws[0].shape[1]] + [w.shape[0] for w in ws], dtype=np.int64)
    return _k.product(np.concatenate([w.ravel() for w in ws]), widths, residual)


def loss(
    weights: Weights, moments: Moments, *, residual: bool = False, weight_decay: float = 0.0
) -> float:
    """The loss 1/2 tr Syy - tr(W Syx^T) + 1/2 tr(W Sxx W^T) + weight_decay/2 sum |W_k|_F^2.

    This is the mean over samples of 1/2 |y - W x|^2 (docs/theory.md).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> X = np.array([[1.0], [2.0]]); Y = np.array([[2.0], [4.0]])
    >>> m = fastscape.Moments.from_data(X, Y)
    >>> fastscape.loss([np.array([[2.0]])], m)
    0.0
    >>> fastscape.loss([np.array([[0.0]])], m)
    5.0
    """
    theta, widths, m, residual, mu = prepare_inputs(weights, moments, residual, weight_decay)
    return float(_k.loss(theta, widths, m.sxx, m.syx, m.trace_syy, residual, mu))


def gradient(
    weights: Weights, moments: Moments, *, residual: bool = False, weight_decay: float = 0.0
) -> list[np.ndarray]:
    """dl/dW_k = R_k^T (W Sxx - Syx) L_k^T + weight_decay W_k for every layer.

    Returns a list of arrays shaped like ``weights``.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(1), np.array([[2.0]]), np.array([[4.0]]))
    >>> fastscape.gradient([np.array([[1.0]]), np.array([[1.0]])], m)
    [array([[-1.]]), array([[-1.]])]
    """
    theta, widths, m, residual, mu = prepare_inputs(weights, moments, residual, weight_decay)
    out = np.empty_like(theta)
    _k.gradient(theta, widths, m.sxx, m.syx, residual, mu, out)
    off = np.concatenate(([0], np.cumsum(widths[1:] * widths[:-1])))
    return [
        out[off[k] : off[k + 1]].reshape(widths[k + 1], widths[k]) for k in range(widths.size - 1)
    ]


def hvp(
    weights: Weights,
    moments: Moments,
    v: ArrayLike,
    *,
    residual: bool = False,
    weight_decay: float = 0.0,
) -> np.ndarray:
    """The Hessian-vector product H v, shape (N,), without forming the Hessian.

    ``v`` is a flat vector in the parameter order of ``fastscape.flatten`` (or a list
    shaped like ``weights``), or a block of b such vectors as the columns of an (N, b)
    array (the result is then (N, b)). Costs O(H d^3) time and O(H d^2) memory: 2H - 1
    matrix products shared by all vectors and 6H - 5 per vector.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(1), np.array([[3.0]]), np.array([[9.0]]))
    >>> fastscape.hvp([np.array([[1.0]]), np.array([[1.0]])], m, [1.0, 0.0])
    array([ 1., -1.])
    >>> fastscape.hvp([np.array([[1.0]]), np.array([[1.0]])], m, np.eye(2))
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    theta, widths, m, residual, mu = prepare_inputs(weights, moments, residual, weight_decay)
    if isinstance(v, (list, tuple)) and v and np.ndim(v[0]) == 2:
        if len(v) != widths.size - 1:
            raise ValueError(
                f"v has {len(v)} blocks but the network has {widths.size - 1} layers; give one "
                "array per layer shaped like weights, or a flat vector of length N"
            )
        blocks = [as_matrix(b, f"v[{i}]") for i, b in enumerate(v)]
        for i, b in enumerate(blocks):
            if b.shape != (widths[i + 1], widths[i]):
                raise ValueError(
                    f"v[{i}] has shape {b.shape} but weights[{i}] has shape "
                    f"({widths[i + 1]}, {widths[i]}); v must be shaped like weights"
                )
        v = np.concatenate([b.ravel() for b in blocks])
    if np.ndim(v) > 2:
        raise ValueError(
            f"v must be 1-D (one vector of length N) or 2-D (N, b) (b vectors as columns), "
            f"got shape {np.shape(v)}; ravel a single vector with np.ravel(v)"
        )
    v = as_matrix(v, "v", ndim=2 if np.ndim(v) == 2 else 1)
    if v.shape[0] != theta.size:
        raise ValueError(
            f"v has length {v.shape[0]} but the network has N = {theta.size} parameters; "
            "build v with fastscape.flatten(list_shaped_like_weights) (or stack such "
            "vectors as the columns of an (N, b) array)"
        )
    # v-independent partial products once, then 6H - 5 products per vector
    buf, poff = primal_pieces(theta, widths, m.sxx, m.syx, residual)
    vt = np.ascontiguousarray(v.reshape(theta.size, -1).T)
    out = np.empty_like(vt)
    ident = bool(np.array_equal(m.sxx, np.eye(m.dx)))
    apply_kernel(theta, widths, m.sxx, buf, poff, mu, ident, vt, out)
    return out[0] if v.ndim == 1 else np.ascontiguousarray(out.T)


def available_memory() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 2**30


def _too_large_message(n: int, need: int, avail: int, folder: str = ".") -> str:
    """Why the Hessian is refused, and what to do instead: a memory map only if it fits."""
    import shutil

    text = (
        f"the Hessian has N = {n:,} parameters and needs {need / 2**30:,.2f} GiB "
        f"(8 N^2 bytes), more than half of the {avail / 2**30:.1f} GiB available: use "
        "fastscape.hvp for products with the Hessian"
    )
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = 0
    if need < 0.9 * free:
        return text + (
            f", or pass a memory-mapped out=np.lib.format.open_memmap('H.npy', mode='w+', "
            f"shape=({n}, {n})) (the disk here has {free / 2**30:,.0f} GiB free)"
        )
    return text + (
        f"; a memory-mapped out would not fit either ({free / 2**30:,.0f} GiB free on disk here)"
    )


def _check_out(out, n: int) -> np.ndarray:
    if not isinstance(out, np.ndarray):
        raise TypeError(
            f"out must be a numpy array of shape ({n}, {n}), got {type(out).__name__}; "
            f"allocate it with np.empty(({n}, {n}))"
        )
    if out.shape != (n, n):
        raise ValueError(
            f"out must have shape ({n}, {n}) for this network (N = {n} parameters), got "
            f"{out.shape}; allocate it with np.empty(({n}, {n}))"
        )
    if out.dtype != np.float64:
        raise TypeError(
            f"out must have dtype float64, got {out.dtype}; allocate it with "
            f"np.empty(({n}, {n}), dtype=np.float64)"
        )
    if not out.flags.c_contiguous:
        raise ValueError(
            "out must be C-contiguous (row-major, no strides or slicing); allocate it with "
            f"np.empty(({n}, {n})) or make one with np.ascontiguousarray"
        )
    if not out.flags.writeable:
        raise ValueError(
            "out is read-only; pass a writeable array (a memmap opened with 'w+' or 'r+')"
        )
    return out


def hessian(
    weights: Weights,
    moments: Moments,
    *,
    residual: bool = False,
    weight_decay: float = 0.0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The full (N, N) float64 Hessian over all weights, in docs/theory.md's parameter order.

    Assembled straight from the block formula by one parallel pass over rows: each
    entry is written once, and no N x N temporary is made.

    Parameters
    ----------
    weights : list of array_like
        [W_1, ..., W_H], W_k of shape (d_k, d_(k-1)).
    moments : Moments
    residual : bool
        Use the factors (I + W_k) (square layers only).
    weight_decay : float
        Adds weight_decay * I.
    out : ndarray, shape (N, N), float64, C-contiguous, optional
        Filled in place and returned; may be a ``numpy.memmap`` for Hessians larger
        than memory.

    Raises
    ------
    HessianTooLargeError
        (a MemoryError and a ValueError) when ``out`` is not given and 8 N^2 bytes
        exceed half the available memory; the message gives the size and suggests
        ``hvp`` or a memory-mapped ``out``.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(1), np.array([[3.0]]), np.array([[9.0]]))
    >>> fastscape.hessian([np.array([[1.0]]), np.array([[1.0]])], m)
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    theta, widths, m, residual, mu = prepare_inputs(weights, moments, residual, weight_decay)
    n = theta.size
    if out is None:
        need = 8 * n * n
        avail = available_memory()
        if need > _MAX_AUTO_BYTES_FRACTION * avail:
            raise HessianTooLargeError(_too_large_message(n, need, avail))
        out = np.empty((n, n))
    else:
        out = _check_out(out, n)
    _k.hessian(theta, widths, m.sxx, m.syx, residual, mu, out)
    return out
