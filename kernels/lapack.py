"""LAPACK routines that Numba's numpy support does not expose, called by name.

``dsytrd`` (Householder reduction of a symmetric matrix to tridiagonal form) comes
from SciPy's ``scipy.linalg.cython_lapack``, the same LAPACK that Numba's own
``np.linalg`` support calls. Its address is registered with LLVM under a fixed
symbol name and the kernels call that symbol as a Numba ``ExternalFunction``, so
compiled kernels can still be cached on disk (a ctypes pointer baked into machine
code could not). With ``NUMBA_DISABLE_JIT=1`` (the coverage run) the same routine
is called through ctypes.

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
    (LAPACK ``dsytrd``: backward stable). Returns LAPACK's info (0 on success).
    """
    return _call_dsytrd(a, m, d, e, tau, work, work.size, iwork)
