"""Small dense helpers shared by the kernels: products of the layer factors."""

from __future__ import annotations

import numpy as np

from ._jit import jit


@jit()
def mm(a, b):
    """a @ b for 2-D float64 arrays of any layout (copies to C order for BLAS)."""
    return np.dot(np.ascontiguousarray(a), np.ascontiguousarray(b))


@jit()
def offsets_of(widths):
    """Start of each layer in the flat parameter vector; entry H is N."""
    H = widths.size - 1
    off = np.zeros(H + 1, dtype=np.int64)
    for k in range(H):
        off[k + 1] = off[k] + widths[k + 1] * widths[k]
    return off


@jit()
def layer_factors(theta, widths, residual):
    """The factors F_k = W_k (or I + W_k when residual) as C-ordered copies."""
    H = widths.size - 1
    off = offsets_of(widths)
    fs = []
    for k in range(H):
        m = widths[k + 1]
        n = widths[k]
        f = theta[off[k] : off[k + 1]].copy().reshape((m, n))
        if residual:
            for i in range(min(m, n)):
                f[i, i] += 1.0
        fs.append(f)
    return fs


@jit()
def left_products(fs, dx):
    """ls[k] = F_{k-1} ... F_0 (what feeds layer k), ls[H] = the end-to-end map."""
    ls = [np.eye(dx)]
    for k in range(len(fs)):
        if k == 0:
            ls.append(fs[0].copy())  # F_0 I: no product needed
        else:
            ls.append(mm(fs[k], ls[k]))
    return ls


@jit()
def right_products(fs, dy):
    """rs[k] = F_{H-1} ... F_{k+1} (what layer k feeds), rs[H-1] = I."""
    H = len(fs)
    rs = [np.eye(dy)]
    for k in range(H - 1, 0, -1):
        if k == H - 1:
            rs.append(fs[k].copy())  # I F_(H-1): no product needed
        else:
            rs.append(mm(rs[-1], fs[k]))
    rs.reverse()
    return rs
