"""LAPACK's blocked tridiagonal reduction, one panel per call, so its progress can be counted.

``dsytrd`` (the reduction of ``kernels.lapack.tridiagonalize``) is one LAPACK call: on a
dense Hessian of N = 2·10^4 it runs for many minutes with nothing to report. Its lower
variant is a loop over panels of ``PANEL`` columns (LAPACK 3.x, ``dsytrd.f``):

    for i = 0, nb, 2 nb, ... while i < n - nx:
        dlatrd: reduce columns i..i+nb-1 of A[i:, i:], building W (n - i) x nb
        dsyr2k: A[i+nb:, i+nb:] -= V W^T + W V^T (the trailing update, level 3)
        d[j] = A[j, j], A[j+1, j] = e[j] for the panel's columns
    dsytd2 on the trailing block left (at most nx rows)

with nb = nx = 32 (LAPACK's ``ilaenv`` for DSYTRD). ``tridiagonal_panel`` is one pass of
that loop and ``tridiagonal_tail`` the last step, both calling the same LAPACK routines
(from SciPy's ``cython_lapack``/``cython_blas``, registered with LLVM like
``kernels.lapack``), so a driver that calls them in order performs exactly dsytrd's
operations and can count panels in between. Panel i of an n-row block costs
about 4/3 ((n - i)^3 - (n - i - nb)^3) of the 4/3 n^3 operations in all.

As in ``kernels.lapack``, C-ordered arrays are passed as their transposes (Fortran
column-major); the matrices are symmetric with both triangles filled, so "lower" in
LAPACK's terms reads the upper triangle of the C array: Fortran A(r, c) (0-based) is
a[c, r].
"""

from __future__ import annotations

import ctypes

import llvmlite.binding as ll
import numba
import numpy as np
from numba.core import types
from numba.extending import get_cython_function_address

from ._jit import jit

#: Columns per panel (LAPACK's block size for DSYTRD) and the size of the last block.
PANEL = 32

_ROUTINES = {
    "dlatrd": ("scipy.linalg.cython_lapack", 9),
    "dsytd2": ("scipy.linalg.cython_lapack", 8),
    "dsyr2k": ("scipy.linalg.cython_blas", 12),
}


def _external(name):
    module, nargs = _ROUTINES[name]
    address = get_cython_function_address(module, name)
    if numba.config.DISABLE_JIT:  # plain Python: the same routine through ctypes
        return ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * nargs)(address)
    symbol = "fastscape_steps_" + name
    ll.add_symbol(symbol, address)
    return types.ExternalFunction(symbol, types.void(*[types.voidptr] * nargs))


_dlatrd = _external("dlatrd")
_dsytd2 = _external("dsytd2")
_dsyr2k = _external("dsyr2k")

_LOWER = 76  # ord("L")
_NOTRANS = 78  # ord("N")


@jit()
def panel_workspace(m):
    """Scratch of ``tridiagonal_panel`` for blocks of up to m rows: W and small args."""
    return np.empty((PANEL, max(m, 1))), np.empty(2), np.empty(8, dtype=np.int32)


@jit()
def tridiagonal_panel(a, m, i, d, e, tau, w, scal, iwork):
    """Reduce columns i..i+PANEL-1 of the leading m x m block of symmetric ``a``.

    One pass of dsytrd's loop (module docstring): needs i + PANEL < m, the previous
    panels done. Writes d[i:i+PANEL], e[i:i+PANEL], tau[i:i+PANEL]; ``w``, ``scal`` and
    ``iwork`` come from ``panel_workspace``.
    """
    lda = a.shape[1]
    flat = a.reshape(-1)
    n = m - i
    iwork[0] = _LOWER
    iwork[1] = _NOTRANS
    iwork[2] = n  # dlatrd's N
    iwork[3] = PANEL
    iwork[4] = lda
    iwork[5] = n  # LDW
    iwork[6] = n - PANEL  # dsyr2k's N
    wf = w.reshape(-1)
    _dlatrd(
        iwork[0:].ctypes,
        iwork[2:].ctypes,
        iwork[3:].ctypes,
        flat[i * lda + i :].ctypes,
        iwork[4:].ctypes,
        e[i:].ctypes,
        tau[i:].ctypes,
        wf.ctypes,
        iwork[5:].ctypes,
    )
    scal[0] = -1.0
    scal[1] = 1.0
    _dsyr2k(
        iwork[0:].ctypes,
        iwork[1:].ctypes,
        iwork[6:].ctypes,
        iwork[3:].ctypes,
        scal[0:].ctypes,
        flat[i * lda + i + PANEL :].ctypes,  # Fortran A(i + nb, i)
        iwork[4:].ctypes,
        wf[PANEL:].ctypes,  # Fortran W(nb, 0)
        iwork[5:].ctypes,
        scal[1:].ctypes,
        flat[(i + PANEL) * lda + i + PANEL :].ctypes,
        iwork[4:].ctypes,
    )
    for j in range(i, i + PANEL):
        a[j, j + 1] = e[j]  # Fortran A(j + 1, j)
        d[j] = a[j, j]
    return 0


@jit()
def tridiagonal_tail(a, m, i, d, e, tau, iwork):
    """dsytd2 on the trailing block a[i:m, i:m] (the last step); returns LAPACK's info."""
    lda = a.shape[1]
    flat = a.reshape(-1)
    iwork[0] = _LOWER
    iwork[2] = m - i
    iwork[4] = lda
    iwork[7] = 0
    _dsytd2(
        iwork[0:].ctypes,
        iwork[2:].ctypes,
        flat[i * lda + i :].ctypes,
        iwork[4:].ctypes,
        d[i:].ctypes,
        e[i:].ctypes,
        tau[i:].ctypes,
        iwork[7:].ctypes,
    )
    return iwork[7]


def panel_starts(m: int) -> range:
    """Columns where dsytrd starts a panel for an m-row block (the tail starts after)."""
    return range(0, max(m - PANEL, 0), PANEL)
