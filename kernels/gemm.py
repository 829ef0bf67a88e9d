"""Direct BLAS ``dgemm`` on row-major arrays: transposes without copies, accumulation in place.

``np.dot`` inside Numba needs C-ordered operands (a transposed operand is copied first)
and always writes a fresh result, so ``A B^T + C D`` costs two copies, two results and
an addition pass. ``gemm`` calls the BLAS routine itself (SciPy's ``cython_blas``,
registered with LLVM like ``kernels.lapack`` so compiled kernels stay cacheable):

    c[lo:hi] = alpha op(a)[lo:hi] op(b) + beta c[lo:hi]

with op(x) = x or x^T, for C-contiguous 2-D float64 arrays. A row range lets two
threads share one product (each its own rows, a disjoint output). BLAS is column-major:
a row-major C is the column-major C^T = op(b)^T op(a)^T, so the operands are passed in
swapped order with the transpose flags read accordingly.
"""

from __future__ import annotations

import ctypes

import llvmlite.binding as ll
import numba
import numpy as np
from numba.core import types
from numba.extending import get_cython_function_address

from ._jit import jit

_ADDRESS = get_cython_function_address("scipy.linalg.cython_blas", "dgemm")
if numba.config.DISABLE_JIT:  # plain Python: the same routine through ctypes
    _dgemm = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * 13)(_ADDRESS)
else:
    ll.add_symbol("fastscape_gemm_dgemm", _ADDRESS)
    _dgemm = types.ExternalFunction("fastscape_gemm_dgemm", types.void(*[types.voidptr] * 13))

_N = 78  # ord("N")
_T = 84  # ord("T")


@jit()
def gemm(ta, tb, alpha, a, b, beta, c, lo, hi):
    """c[lo:hi] = alpha op(a)[lo:hi] op(b) + beta c[lo:hi] (row-major, no copies).

    op(a) is a^T when ``ta`` (a stored k x m) else a (m x k); likewise op(b) (k x n).
    With beta = 0, c's old rows are not read (BLAS semantics). Shapes must agree (the
    callers are compiled kernels that build them so; checked here all the same).
    """
    m = a.shape[1] if ta else a.shape[0]
    k = a.shape[0] if ta else a.shape[1]
    kb = b.shape[1] if tb else b.shape[0]
    n = b.shape[0] if tb else b.shape[1]
    if kb != k or c.shape[0] != m or c.shape[1] != n or not (0 <= lo <= hi <= m):
        raise ValueError("gemm: operand shapes do not agree")
    rows = hi - lo
    if rows == 0 or n == 0:
        return
    if k == 0:  # BLAS would read nothing from a and b: scale c alone
        c[lo:hi] *= beta
        return
    ints = np.empty(8, dtype=np.int32)
    ints[0] = _T if tb else _N
    ints[1] = _T if ta else _N
    ints[2] = n
    ints[3] = rows
    ints[4] = k
    ints[5] = b.shape[1]  # ldb
    ints[6] = a.shape[1]  # lda
    ints[7] = n  # ldc
    scal = np.empty(2)
    scal[0] = alpha
    scal[1] = beta
    af = a.reshape(-1)
    cf = c.reshape(-1)
    start = lo if ta else lo * a.shape[1]
    _dgemm(
        ints[0:].ctypes,
        ints[1:].ctypes,
        ints[2:].ctypes,
        ints[3:].ctypes,
        ints[4:].ctypes,
        scal[0:].ctypes,
        b.ctypes,
        ints[5:].ctypes,
        af[start:].ctypes,
        ints[6:].ctypes,
        scal[1:].ctypes,
        cf[lo * n :].ctypes,
        ints[7:].ctypes,
    )
