"""Problems and peer implementations for the benchmarks (imported by bench_*.py and report.py).

jax and torch are optional extras: they are imported lazily here, never by fastscape.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import numpy as np
from fastscape.kernels._jit import jit
from numba import prange

import fastscape

#: (depth H, width): all widths equal, dx = dy = width.
SHAPES = [(2, 64), (4, 32), (8, 24), (3, 48)]


@dataclass(frozen=True)
class Problem:
    depth: int
    width: int
    weights: list
    moments: fastscape.Moments

    @property
    def widths(self) -> list[int]:
        return [self.width] * (self.depth + 1)

    @property
    def n(self) -> int:
        return self.depth * self.width * self.width

    @property
    def label(self) -> str:
        return f"H={self.depth},w={self.width}"


def make_problem(depth: int, width: int, seed: int = 0) -> Problem:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((4 * width, width))
    Y = X @ rng.standard_normal((width, width)) / np.sqrt(width) + rng.standard_normal(X.shape)
    m = fastscape.Moments.from_data(X, Y)
    return Problem(depth, width, fastscape.random_weights([width] * (depth + 1), seed=seed), m)


# --------------------------------------------------------------------------- floor
@jit(parallel=True)
def parallel_fill(out, value):
    """Fill a 2-D C-contiguous array row by row on all Numba threads (the parallel floor)."""
    for r in prange(out.shape[0]):
        row = out[r]
        for j in range(row.size):
            row[j] = value
    return out


# --------------------------------------------------------------------------- numpy
def numpy_hessian(p: Problem, out: np.ndarray) -> np.ndarray:
    """Plain-numpy Hessian from the block formula (docs/theory.md), one (k, l) block at a time.

    Vectorised with einsum (block-sized temporaries, no N x N temporary). The tests'
    tests/reference.py (explicit Jacobian + exact differences) is O(N^2 dx dy) and
    does not scale to these sizes.
    """
    ws, m = p.weights, p.moments
    H = len(ws)
    dx, dy = m.dx, m.dy
    L = [np.eye(dx)]
    for w in ws:
        L.append(w @ L[-1])
    R = [np.eye(dy)] * H
    for k in range(H - 2, -1, -1):
        R[k] = R[k + 1] @ ws[k + 1]
    G = L[-1] @ m.sxx - m.syx
    off = np.concatenate([[0], np.cumsum([w.size for w in ws])])
    for k in range(H):
        for l in range(H):
            A = R[k].T @ R[l]
            B = L[k] @ m.sxx @ L[l].T
            blk = np.einsum("ac,be->abce", A, B)
            if k < l:
                P = R[l].T @ G @ L[k].T
                Mb = np.eye(ws[k].shape[0])
                for j in range(k + 1, l):
                    Mb = ws[j] @ Mb
                blk += np.einsum("cb,ea->abce", P, Mb)
            elif k > l:
                P = R[k].T @ G @ L[l].T
                Mb = np.eye(ws[l].shape[0])
                for j in range(l + 1, k):
                    Mb = ws[j] @ Mb
                blk += np.einsum("ae,bc->abce", P, Mb)
            out[off[k] : off[k + 1], off[l] : off[l + 1]] = blk.reshape(ws[k].size, ws[l].size)
    return out


# --------------------------------------------------------------------------- jax
def _loss_fn(xp, p: Problem):
    sxx, syx, tr_syy = p.moments.sxx, p.moments.syx, p.moments.trace_syy
    shapes = [w.shape for w in p.weights]
    offs = np.concatenate([[0], np.cumsum([a * b for a, b in shapes])]).tolist()

    def loss(theta):
        W = None
        for k, (a, b) in enumerate(shapes):
            f = theta[offs[k] : offs[k + 1]].reshape(a, b)
            W = f if W is None else f @ W
        return 0.5 * tr_syy - xp.sum(W * syx_c) + 0.5 * xp.sum((W @ sxx_c) * W)

    if xp.__name__.startswith("jax"):
        import jax.numpy as jnp

        sxx_c, syx_c = jnp.asarray(sxx), jnp.asarray(syx)
    else:
        import torch

        sxx_c = torch.as_tensor(np.array(sxx), dtype=torch.float64)
        syx_c = torch.as_tensor(np.array(syx), dtype=torch.float64)
    return loss


def jax_functions(p: Problem):
    """(hessian, grad, theta) with jax.jit(jax.hessian(loss)) and jax.jit(jax.grad(loss))."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    loss = _loss_fn(jnp, p)
    theta = jnp.asarray(fastscape.flatten(p.weights))
    hess = jax.jit(jax.hessian(loss))
    grad = jax.jit(jax.grad(loss))

    def run_hess():
        return hess(theta).block_until_ready()

    def run_grad():
        return grad(theta).block_until_ready()

    return run_hess, run_grad


def torch_hessian(p: Problem):
    import torch
    import torch.func

    loss = _loss_fn(torch, p)
    theta = torch.as_tensor(fastscape.flatten(p.weights), dtype=torch.float64)
    hess = torch.func.hessian(loss)

    def run():
        return hess(theta)

    return run


# --------------------------------------------------------------------------- memory
_MEMORY_SCRIPT = textwrap.dedent(
    """
    import gc, json, sys
    import numpy as np
    sys.path.insert(0, {bench_dir!r})
    import peers
    p = peers.make_problem({depth}, {width})
    who = {who!r}
    if who == "fastscape":
        import fastscape
        fastscape.hessian(p.weights[:1], fastscape.Moments(np.eye(p.width), np.eye(p.width),
                          np.eye(p.width)))  # compile / load every kernel used
        run = lambda: fastscape.hessian(p.weights, p.moments)
    elif who == "jax":
        h, _ = peers.jax_functions(p)
        small = peers.make_problem(1, 2)
        peers.jax_functions(small)[0]()
        run = h
    elif who == "torch":
        run = peers.torch_hessian(p)
        peers.torch_hessian(peers.make_problem(1, 2))()
    gc.collect()
    def status(key):
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith(key + ":"))
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the high-water mark VmHWM to the current RSS
    before = status("VmRSS")
    result = run()
    peak = status("VmHWM")
    print(json.dumps({{"peak_bytes": peak - before, "n": p.n}}))
    """
)


def peak_memory(depth: int, width: int, who: str = "fastscape") -> dict:
    """Peak extra resident memory (bytes) of one Hessian, measured in a fresh process.

    Linux only: the high-water mark VmHWM is reset (/proc/self/clear_refs) after imports
    and compilation, and the figure is VmHWM after the call minus VmRSS before it: what
    the Hessian computation itself adds at its peak, output included.
    """
    code = _MEMORY_SCRIPT.format(
        bench_dir=os.path.dirname(os.path.abspath(__file__)), depth=depth, width=width, who=who
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=900
    )
    return json.loads(res.stdout.strip().splitlines()[-1])
