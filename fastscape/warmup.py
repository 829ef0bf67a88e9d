"""Compile every kernel once, so first calls in timed code are fast."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def warmup() -> float:
    """Compile (or load from Numba's on-disk cache) every fastscape kernel.

    Returns the seconds it took. Cold (nothing cached) this is the full compile
    cost; with the cache warm it is the cost of loading the compiled code.

    Examples
    --------
    >>> import fastscape
    >>> seconds = fastscape.warmup()
    >>> seconds >= 0
    True
    """
    from . import derivatives as d
    from .moments import Moments

    t0 = time.perf_counter()
    m = Moments(np.eye(2), np.ones((2, 2)), np.eye(2))
    for residual in (False, True):
        ws = [np.eye(2) * 0.5, np.eye(2) * 0.5, np.eye(2)]
        d.product(ws, residual=residual)
        d.loss(ws, m, residual=residual, weight_decay=0.1)
        d.gradient(ws, m, residual=residual)
        d.hvp(ws, m, np.ones(12), residual=residual)
        d.hessian(ws, m, residual=residual)
    from .kernels import derivatives as kd

    theta = np.ones(8)
    widths = np.array([2, 2, 2], dtype=np.int64)
    kd.hessian_serial(theta, widths, m.sxx, m.syx, False, 0.0, np.empty((8, 8)))
    for extra in _EXTRA_WARMUPS:
        extra()
    return time.perf_counter() - t0


#: Warm-up callables other modules registered (kept import-light: no imports here).
_EXTRA_WARMUPS: list[Callable[[], None]] = []


def register_warmup(fn: Callable[[], None]) -> Callable[[], None]:
    """Add ``fn`` to what :func:`warmup` runs (modules call this at import); returns ``fn``.

    Examples
    --------
    >>> from fastscape.warmup import register_warmup
    >>> def compile_mine():
    ...     pass
    >>> register_warmup(compile_mine) is compile_mine
    True
    """
    if fn not in _EXTRA_WARMUPS:
        _EXTRA_WARMUPS.append(fn)
    return fn
