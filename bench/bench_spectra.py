"""Matrix-free Hessian spectra at N ~ 1e5 .. 1e7 against JAX, PyTorch, scipy eigsh and PyHessian.

Run (peers from the ``bench`` extra plus ``pip install pyhessian``):

    python bench/bench_spectra.py                 # every section
    python bench/bench_spectra.py --sections hvp  # one section (hvp eig trace density big)

Sections (all float64, H = 4 layers of equal width, dx = dy = width; every peer warmed up
(compiled / traced) before timing; "best of r" is the fastest of r calls):

* hvp: one Hessian-vector product at widths 160, 500, 1600 (N = 1.0e5, 1.0e6, 1.0e7):
  fastscape.hvp (all partial products per call), fastscape.HessianOperator (the
  v-independent products reused, as in every iterative method), jax.jvp(jax.grad(f))
  under jit, and PyTorch double backward (PyHessian's way) on the same moment-form loss;
* eig: the top eigenvalue at width 500: fastscape.hessian_eigenvalues(k=1), scipy
  eigsh(k=1, which="LA") on a JAX HVP LinearOperator, and PyHessian's power iteration
  on a bias-free nn.Sequential of nn.Linear with n = 1e4 samples and the loss
  1/2 mean_i |y_i - f(x_i)|^2 (fastscape's);
* trace: exact fastscape.hessian_trace against PyHessian's 100-probe Hutchinson
  estimate (time and relative error) and against 10 Hutchinson probes' worth of HVPs;
* density: fastscape.hessian_density (80 steps, 10 probes) at N = 1e6 on a whitened
  two-layer strict saddle (1000 -> 500 -> 1000), Wasserstein-1 to its closed-form
  spectrum, and at the width-500 H = 4 point;
* big: the top eigenvalue at N = 1.0e7 (width 1600) in a fresh process: time and peak
  resident memory as a multiple of 8 N bytes.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import textwrap
import time

import numpy as np

import fastscape

DEPTH = 4


def problem(width, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2 * width, width))
    Y = X @ rng.standard_normal((width, width)) / np.sqrt(width) + rng.standard_normal(X.shape)
    m = fastscape.Moments.from_data(X, Y)
    return fastscape.random_weights([width] * (DEPTH + 1), seed=seed), m


def best(fn, r):
    fn()
    ts = []
    for _ in range(r):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def jax_hvp(ws, m):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    shapes = [w.shape for w in ws]
    sxx, syx = jnp.asarray(m.sxx), jnp.asarray(m.syx)
    tr_syy = float(np.trace(m.syy))

    def loss(theta):
        o, w = 0, None
        for r, c in shapes:
            wk = theta[o : o + r * c].reshape(r, c)
            o += r * c
            w = wk if w is None else wk @ w
        return 0.5 * tr_syy - jnp.sum(w * syx) + 0.5 * jnp.sum((w @ sxx) * w)

    f = jax.jit(lambda t, v: jax.jvp(jax.grad(loss), (t,), (v,))[1])
    theta = jnp.asarray(fastscape.flatten(ws))
    return lambda v: f(theta, v).block_until_ready(), jnp


def torch_hvp(ws, m):
    import torch

    torch.set_default_dtype(torch.float64)
    params = [torch.tensor(w, requires_grad=True) for w in ws]
    sxx, syx = torch.tensor(m.sxx), torch.tensor(m.syx)

    def loss():
        w = params[0]
        for p in params[1:]:
            w = p @ w
        return -(w * syx).sum() + 0.5 * ((w @ sxx) * w).sum()

    sizes = [w.size for w in ws]

    def hvp(v):
        g = torch.autograd.grad(loss(), params, create_graph=True)
        vs = [t.reshape(w.shape) for t, w in zip(torch.split(v, sizes), ws, strict=True)]
        hv = torch.autograd.grad(g, params, grad_outputs=vs)
        return torch.cat([h.reshape(-1) for h in hv])

    return hvp, torch


def section_hvp(widths, reps):
    print("\n## HVP (H = 4), best of r calls, seconds")
    print(
        "| width | N | fastscape.hvp | HessianOperator | JAX jvp(grad) | torch | "
        "JAX / hvp | JAX / operator | torch / operator |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for width in widths:
        _hvp_row(width, reps if width < 1000 else 2)


def _hvp_row(width, r):
    ws, m = problem(width)
    n = fastscape.num_params([width] * (DEPTH + 1))
    v = np.random.default_rng(1).standard_normal(n)
    op = fastscape.HessianOperator(ws, m)
    want = op @ v
    jh, jnp = jax_hvp(ws, m)
    vj = jnp.asarray(v)
    err = np.abs(np.asarray(jh(vj)) - want).max() / np.abs(want).max()
    assert err < 1e-10, err
    th, torch = torch_hvp(ws, m)
    vt = torch.tensor(v)
    err = np.abs(th(vt).detach().numpy() - want).max() / np.abs(want).max()
    assert err < 1e-10, err
    t_hvp = best(lambda: fastscape.hvp(ws, m, v), r)
    t_op = best(lambda: op @ v, r)
    t_jax = best(lambda: jh(vj), r)
    t_torch = best(lambda: th(vt), r)
    t_hvp = min(t_hvp, best(lambda: fastscape.hvp(ws, m, v), r))  # a second block each
    t_op = min(t_op, best(lambda: op @ v, r))
    t_jax = min(t_jax, best(lambda: jh(vj), r))
    print(
        f"| {width} | {n:,} | {t_hvp:.4f} | {t_op:.4f} | {t_jax:.4f} | {t_torch:.4f} | "
        f"{t_jax / t_hvp:.2f}x | {t_jax / t_op:.2f}x | {t_torch / t_op:.2f}x |"
    )


def _pyhessian(ws, width, n_samples, seed=0):
    import torch
    from pyhessian import hessian as pyh

    torch.set_default_dtype(torch.float64)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, width))
    Y = X @ rng.standard_normal((width, width)) / np.sqrt(width) + rng.standard_normal(X.shape)
    model = torch.nn.Sequential(*[torch.nn.Linear(width, width, bias=False) for _ in ws])
    with torch.no_grad():
        for layer, w in zip(model, ws, strict=True):
            layer.weight.copy_(torch.tensor(w))

    def criterion(out, target):  # fastscape's loss: 1/2 mean_i |y_i - f(x_i)|^2
        return 0.5 * ((out - target) ** 2).sum(dim=1).mean()

    t0 = time.perf_counter()
    h = pyh(model, criterion, data=(torch.tensor(X), torch.tensor(Y)), cuda=False)
    setup = time.perf_counter() - t0
    return h, fastscape.Moments.from_data(X, Y), setup


def section_eig(width, n_samples):
    import scipy.sparse.linalg as sla

    print(f"\n## Top eigenvalue, width {width} (N = {DEPTH * width * width:,}), seconds")
    ws = fastscape.random_weights([width] * (DEPTH + 1), seed=0)
    h, m, setup = _pyhessian(ws, width, n_samples)
    n = fastscape.num_params([width] * (DEPTH + 1))
    fastscape.hessian_eigenvalues(ws, m, k=1)  # warm
    t0 = time.perf_counter()
    r = fastscape.hessian_eigenvalues(ws, m, k=1, tol=1e-8)
    t_fs = time.perf_counter() - t0
    jh, jnp = jax_hvp(ws, m)
    jh(jnp.zeros(n))
    calls = [0]

    def matvec(v):
        calls[0] += 1
        return np.asarray(jh(jnp.asarray(v.ravel(), dtype=jnp.float64)))

    op = sla.LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    t0 = time.perf_counter()
    e_eigsh = sla.eigsh(op, k=1, which="LA", tol=1e-8, v0=np.ones(n))[0][0]
    t_eigsh = time.perf_counter() - t0
    t0 = time.perf_counter()
    e_pyh = h.eigenvalues(maxIter=100, tol=1e-3, top_n=1)[0][0]
    t_pyh = time.perf_counter() - t0
    top = r.values[0]
    print("| method | time | value | relative error | HVPs |")
    print("|---|---|---|---|---|")
    print(
        f"| fastscape.hessian_eigenvalues (tol 1e-8) | {t_fs:.2f} | {top:.10g} | "
        f"bound {r.bounds[0] / top:.1e} | {r.matvecs} |"
    )
    print(
        f"| scipy eigsh + JAX HVP (tol 1e-8) | {t_eigsh:.2f} | {e_eigsh:.10g} | "
        f"{abs(e_eigsh - top) / top:.1e} | {calls[0]} |"
    )
    print(
        f"| PyHessian power iteration (n = {n_samples:,}, tol 1e-3) | {t_pyh:.2f} "
        f"(+ {setup:.2f} setup) | {e_pyh:.10g} | {abs(e_pyh - top) / top:.1e} | <= 100 |"
    )
    print(
        f"\nratios: eigsh+JAX / fastscape = {t_eigsh / t_fs:.2f}x, "
        f"PyHessian / fastscape = {t_pyh / t_fs:.1f}x"
    )
    return ws, m, h


def section_trace(ws, m, h):
    print("\n## Trace, seconds")
    fastscape.hessian_trace(ws, m)
    t0 = time.perf_counter()
    exact = fastscape.hessian_trace(ws, m)
    t_exact = time.perf_counter() - t0
    t0 = time.perf_counter()
    samples = h.trace(maxIter=100, tol=0.0)
    t_hutch = time.perf_counter() - t0
    est = float(np.mean(samples))
    op = fastscape.HessianOperator(ws, m)
    z = np.sign(np.random.default_rng(0).standard_normal((op.shape[0], 10)))
    t0 = time.perf_counter()
    est10 = float(np.mean(np.einsum("ij,ij->j", z, op @ z)))
    t_ten = time.perf_counter() - t0
    print("| method | time | value | relative error |")
    print("|---|---|---|---|")
    print(f"| fastscape.hessian_trace (exact) | {t_exact:.4f} | {exact:.10g} | 0 |")
    print(
        f"| PyHessian Hutchinson, {len(samples)} probes | {t_hutch:.2f} | {est:.6g} | "
        f"{abs(est - exact) / exact:.1e} |"
    )
    print(
        f"| 10 Hutchinson probes on fastscape's HVP | {t_ten:.2f} | {est10:.6g} | "
        f"{abs(est10 - exact) / exact:.1e} |"
    )
    print(
        f"\nratios: PyHessian 10 probes (est.) / exact = "
        f"{t_hutch / len(samples) * 10 / t_exact:.0f}x, "
        f"fastscape 10 probes / exact = {t_ten / t_exact:.0f}x"
    )


def whitened_two_layer(dx, p, dy, index_set, seed=0):
    """A whitened two-layer canonical point and its closed-form Hessian spectrum."""
    from fastscape.theory import whitened_hessian_spectrum

    lam = np.random.default_rng(seed).uniform(0.5, 4.0, size=min(dx, dy))
    m = fastscape.whitened_moments(lam, dx, dy, seed=seed)
    ws = fastscape.canonical_point(m, [dx, p, dy], index_set)
    spec = whitened_hessian_spectrum(m.spectrum().values[: lam.size], index_set, p, dx, dy)
    return ws, m, spec


def section_density():
    print("\n## Density (80 steps, 10 probes), seconds")
    print("| point | N | time | HVPs | W1 / spectral width |")
    print("|---|---|---|---|---|")
    ws, m, spec = whitened_two_layer(1000, 500, 1000, list(range(250, 750)))
    t0 = time.perf_counter()
    d = fastscape.hessian_density(ws, m)
    t = time.perf_counter() - t0
    w1 = d.wasserstein(spec) / (spec[-1] - spec[0])
    print(
        f"| two-layer strict saddle, closed form known | {d.n:,} | {t:.1f} | {d.matvecs} | "
        f"{w1:.1e} |"
    )
    ws, m = problem(500)
    t0 = time.perf_counter()
    d = fastscape.hessian_density(ws, m)
    t = time.perf_counter() - t0
    print(f"| H = 4, width 500, random point | {d.n:,} | {t:.1f} | {d.matvecs} | - |")


BIG = """
import resource, time, numpy as np, fastscape, sys
sys.path.insert(0, {here!r})
from bench_spectra import problem
ws, m = problem(1600)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
n = fastscape.num_params([1600] * 5)
t0 = time.perf_counter()
r = fastscape.hessian_eigenvalues(ws, m, k=1, basis={basis})
t = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f"| {{n:,}} | {basis} | {{t:.1f}} | {{r.matvecs}} | {{r.values[0]:.8g}} | "
      f"{{r.bounds[0] / r.values[0]:.1e}} | {{peak / 2**30:.2f}} GiB = {{peak / (8 * n):.1f}} x 8N "
      f"| {{(peak - base) / (8 * n):.1f}} x 8N |")
"""


def section_big():
    print("\n## Top eigenvalue at N = 1e7 (width 1600), fresh process")
    print(
        "| N | basis | time (s) | HVPs | value | bound / value | peak RSS | "
        "peak RSS - before the call |"
    )
    print("|---|---|---|---|---|---|---|---|")
    here = os.path.dirname(os.path.abspath(__file__))
    for basis in (8, 21):
        code = textwrap.dedent(BIG.format(here=here, basis=basis))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        print(out.stdout.strip() or out.stderr[-2000:])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", nargs="+", default=["hvp", "eig", "trace", "density", "big"])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--widths", type=int, nargs="+", default=[160, 500, 1600])
    ap.add_argument("--eig-width", type=int, default=500)
    args = ap.parse_args(argv)
    print(f"load: {os.getloadavg()}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
    fastscape.warmup()
    if "hvp" in args.sections:
        section_hvp(args.widths, args.reps)
    if "eig" in args.sections or "trace" in args.sections:
        ws, m, h = section_eig(args.eig_width, args.samples)
        if "trace" in args.sections:
            section_trace(ws, m, h)
    if "density" in args.sections:
        section_density()
    if "big" in args.sections:
        section_big()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\npeak RSS of this process: {rss:.2f} GiB; load: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
