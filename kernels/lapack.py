"""Reduction of a symmetric matrix to tridiagonal form, T = Q^T A Q (Q orthogonal).

Blocks up to ``SMALL_BLOCK`` rows are reduced by a Householder loop compiled here;
bigger ones by LAPACK ``dsytrd``. At the small sizes a LAPACK call costs more than the
arithmetic, and OpenBLAS's level-2 routines inside ``dsytrd`` share work buffers, so
two threads reducing small blocks barely beat one while the loop here scales (and is
faster on one thread as well). From 64 rows up LAPACK is faster and scales (the loop
does not vectorise as well).

``dsytrd`` comes from SciPy's ``scipy.linalg.cython_lapack``, the same LAPACK that
Numba's own ``np.linalg`` support calls. Its address is registered with LLVM under a
fixed symbol name and the kernels call that symbol as a Numba ``ExternalFunction``,
so compiled kernels can still be cached on disk (a ctypes pointer baked into machine
code could not). With ``NUMBA_DISABLE_JIT=1`` (the coverage run) the same routine is
called through ctypes.

LAPACK is column-major and these kernels pass C-ordered arrays, i.e. the transpose;
that is harmless here because the matrices are symmetric (every triangle is filled).
"""

from __future__ import annotations

import ctypes

import llvmlite.binding as ll
import numba
import numpy as np
from numba.core import types
from numba.extending import get_cython_function_address

from ._jit import jit

_SYMBOL = "fastscape_lapack_dsytrd"
_ADDRESS = get_cython_function_address("scipy.linalg.cython_lapack", "dsytrd")
ll.add_symbol(_SYMBOL, _ADDRESS)

if numba.config.DISABLE_JIT:  # plain Python: the same routine through ctypes
    _dsytrd = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * 10)(_ADDRESS)
else:
    _dsytrd = types.ExternalFunction(_SYMBOL, types.void(*[types.voidptr] * 10))

_UPLO = 76  # ord("L")

#: Blocks with at most this many rows are reduced by ``householder_tridiagonal``.
SMALL_BLOCK = 32


@jit()
def _call_dsytrd(a, m, d, e, tau, work, lwork, iwork):
    """dsytrd on the leading m x m block of a (row length = leading dimension)."""
    iwork[0] = m
    iwork[1] = a.shape[1]
    iwork[2] = lwork
    iwork[3] = 0
    iwork[4] = _UPLO
    _dsytrd(
        iwork[4:].ctypes,
        iwork[0:].ctypes,
        a.ctypes,
        iwork[1:].ctypes,
        d.ctypes,
        e.ctypes,
        tau.ctypes,
        work.ctypes,
        iwork[2:].ctypes,
        iwork[3:].ctypes,
    )
    return iwork[3]


@jit()
def tridiagonal_workspace(a, iwork):
    """Optimal workspace length of ``tridiagonalize`` for matrices like ``a`` (a query).

    ``iwork`` is an int32 scratch array of length >= 5.
    """
    query = np.zeros(1)
    _call_dsytrd(a, a.shape[0], query, query, query, query, -1, iwork)
    return max(int(query[0]), a.shape[0])


@jit()
def tridiagonalize(a, m, d, e, tau, work, iwork):
    """Reduce the leading m x m block of symmetric ``a`` to tridiagonal T = Q^T A Q.

    ``a`` is C-contiguous with row length >= m (its leading block is overwritten);
    T's diagonal goes to d[:m] and its off-diagonal to e[:m - 1]. ``tau`` (length
    >= m), ``work`` (length from ``tridiagonal_workspace``) and ``iwork`` (int32,
    length >= 5) are scratch. Q is orthogonal, so T has exactly A's eigenvalues
    (Householder reflections: backward stable). Returns LAPACK's info (0 on success;
    always 0 for small blocks).
    """
    if m <= SMALL_BLOCK:
        return householder_tridiagonal(a, m, d, e, tau, work)
    return _call_dsytrd(a, m, d, e, tau, work, work.size, iwork)


@jit()
def householder_tridiagonal(a, m, d, e, v, w):
    """Householder reduction of the leading m x m block of symmetric ``a``.

    Reads and overwrites the lower triangle (a[i, j], j <= i); writes T's diagonal to
    d[:m] and off-diagonal to e[:m - 1] (e[m - 1] = 0); v and w (length >= m) are
    scratch. Step k maps column k below the diagonal onto beta e_1 with
    H = I - tau v v^T and updates the trailing block A <- H A H as
    A - v w^T - w v^T, w = p - (tau / 2)(p^T v) v, p = tau A v (Golub & Van Loan,
    Algorithm 8.3.1). Columns are scaled by their largest entry before the norm is
    taken, so entries up to the overflow limit are handled.
    """
    for k in range(m - 2):
        d[k] = a[k, k]
        big = 0.0
        for i in range(k + 1, m):
            big = max(big, abs(a[i, k]))
        alpha = a[k + 1, k]
        rest = 0.0
        if big > 0.0:
            for i in range(k + 2, m):
                x = a[i, k] / big
                rest += x * x
        if rest == 0.0:  # already tridiagonal in this column
            e[k] = alpha
            continue
        beta = -np.copysign(big * np.sqrt((alpha / big) ** 2 + rest), alpha)
        tau = (beta - alpha) / beta
        scale = 1.0 / (alpha - beta)
        v[k + 1] = 1.0
        for i in range(k + 2, m):
            v[i] = a[i, k] * scale
        e[k] = beta
        for i in range(k + 1, m):  # p = A v from the lower triangle
            w[i] = 0.0
        for i in range(k + 1, m):
            row = a[i]
            vi = v[i]
            acc = row[i] * vi
            for j in range(k + 1, i):
                acc += row[j] * v[j]
                w[j] += row[j] * vi
            w[i] += acc
        pv = 0.0
        for i in range(k + 1, m):
            w[i] *= tau
            pv += w[i] * v[i]
        half = 0.5 * tau * pv
        for i in range(k + 1, m):
            w[i] -= half * v[i]
        for i in range(k + 1, m):  # rank-2 update of the lower triangle
            row = a[i]
            vi = v[i]
            wi = w[i]
            for j in range(k + 1, i + 1):
                row[j] -= vi * w[j] + wi * v[j]
    if m >= 2:
        d[m - 2] = a[m - 2, m - 2]
        e[m - 2] = a[m - 1, m - 2]
    d[m - 1] = a[m - 1, m - 1]
    e[m - 1] = 0.0
    return 0
