"""Many gradient-descent runs: fastscape.gradient_descent_many against JAX, numpy and PyTorch.

256 runs x 2000 full-batch steps of a [16, 8, 8, 16] linear network, from the same
seeded starts, on the loss of the same moments. Peers:

* JAX: jit(vmap(lax.scan)) in float64, the whole batch of runs in one compiled call;
* numpy: a per-run loop of BLAS matmuls (forward, backward, update), the natural way;
* PyTorch: a per-run full-batch training loop (nn.Sequential of bias-free float64
  nn.Linear layers, autograd, torch.optim.SGD), the loss written from the moments.

The final losses of every peer must equal fastscape's to 1e-10 of the loss scale
(different summation orders, so not bit for bit); the script asserts this. Slow peers
(numpy, PyTorch) are timed on a subset of runs and scaled to 256 (stated in the
output). Thread scaling: fastscape with 1 and 2 threads, same results bit for bit.

Run:  python bench/bench_dynamics.py [--numpy-runs 64] [--torch-runs 16]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import fastscape

WIDTHS = [16, 8, 8, 16]
RUNS, STEPS, LR = 256, 2000, 0.02


def problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((256, 16))
    Y = X @ rng.standard_normal((16, 16)) / 4 + 0.5 * rng.standard_normal((256, 16))
    m = fastscape.Moments.from_data(X, Y)
    starts = [
        rng.standard_normal((RUNS, WIDTHS[k + 1], WIDTHS[k])) / np.sqrt(WIDTHS[k])
        for k in range(len(WIDTHS) - 1)
    ]
    return m, starts


CPU: dict = {}


def best_of(fn, rounds, key=None):
    """Best wall time of `rounds` calls after a warm-up; the CPU time of that call in CPU[key]."""
    fn()  # warm-up (compile / trace)
    best, out = None, None
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        t, c = time.perf_counter() - t0, time.process_time() - c0
        if best is None or t < best[0]:
            best = (t, c)
    CPU[key] = best[1]
    return best[0], out


def fastscape_runs(m, starts, threads):
    res = fastscape.gradient_descent_many(
        WIDTHS, m, init=starts, lr=LR, steps=STEPS, record_every=STEPS, threads=threads
    )
    return res


def numpy_loss(ws, m):
    w = ws[2] @ ws[1] @ ws[0]
    return 0.5 * m.trace_syy - np.sum(w * m.syx) + 0.5 * np.sum((w @ m.sxx) * w)


def numpy_runs(m, starts, runs):
    sxx, syx = m.sxx, m.syx
    out = np.empty(runs)
    for r in range(runs):
        w1, w2, w3 = (s[r].copy() for s in starts)
        for _ in range(STEPS):
            l2 = w2 @ w1
            g = w3 @ l2 @ sxx - syx
            b2 = w3.T @ g
            b1 = w2.T @ b2
            g3 = g @ l2.T
            g2 = b2 @ w1.T
            w1 -= LR * b1
            w2 -= LR * g2
            w3 -= LR * g3
        out[r] = numpy_loss([w1, w2, w3], m)
    return out


def jax_runs_factory(m):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    sxx, syx, tr = jnp.asarray(m.sxx), jnp.asarray(m.syx), m.trace_syy

    def loss(ws):
        w = ws[2] @ ws[1] @ ws[0]
        return 0.5 * tr - jnp.sum(w * syx) + 0.5 * jnp.sum((w @ sxx) * w)

    grad = jax.grad(loss)

    def one(ws):
        def step(ws, _):
            g = grad(ws)
            return tuple(w - LR * gi for w, gi in zip(ws, g, strict=True)), None

        ws, _ = jax.lax.scan(step, ws, None, length=STEPS)
        return loss(ws)

    fn = jax.jit(jax.vmap(one))

    def run(starts):
        return np.asarray(fn(tuple(jnp.asarray(s) for s in starts)).block_until_ready())

    return run


def torch_runs(m, starts, runs):
    import torch

    torch.set_num_threads(1)
    sxx = torch.from_numpy(np.array(m.sxx))
    syx = torch.from_numpy(np.array(m.syx))
    tr = m.trace_syy
    out = np.empty(runs)
    for r in range(runs):
        net = fastscape.to_torch([s[r] for s in starts])
        opt = torch.optim.SGD(net.parameters(), lr=LR)
        mats = [lin.weight for lin in net]
        for _ in range(STEPS):
            opt.zero_grad()
            w = mats[2] @ mats[1] @ mats[0]
            loss = 0.5 * tr - (w * syx).sum() + 0.5 * ((w @ sxx) * w).sum()
            loss.backward()
            opt.step()
        with torch.no_grad():
            w = mats[2] @ mats[1] @ mats[0]
            out[r] = float(0.5 * tr - (w * syx).sum() + 0.5 * ((w @ sxx) * w).sum())
    return out


def fmt(t):
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numpy-runs", type=int, default=64)
    ap.add_argument("--torch-runs", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    m, starts = problem()
    print(f"uptime: {os.popen('uptime').read().strip()}")
    print(f"{platform.machine()}, {os.cpu_count()} cpus, numba threads up to 2")
    t1, r1 = best_of(lambda: fastscape_runs(m, starts, 1), args.rounds, "fastscape, 1 thread")
    t2, r2 = best_of(lambda: fastscape_runs(m, starts, 2), args.rounds, "fastscape, 2 threads")
    assert np.array_equal(r1.loss, r2.loss), "thread count changed the results"
    assert np.all(r1.diverged_at == -1)
    final = r1.final_loss
    tol = 1e-10 * m.trace_syy
    rows = [("fastscape, 1 thread", t1, "fastscape, 1 thread")]
    rows.append(("fastscape, 2 threads", t2, "fastscape, 2 threads"))
    best = min(t1, t2)
    goals = {}
    try:
        jrun = jax_runs_factory(m)
        tj, lj = best_of(lambda: jrun(starts), args.rounds, "JAX jit+vmap+scan (float64)")
        assert np.abs(lj - final).max() <= tol, np.abs(lj - final).max()
        rows.append(("JAX jit+vmap+scan (float64)", tj, "JAX jit+vmap+scan (float64)"))
        goals["JAX"] = (tj / best, 2.0)
    except ImportError:
        print("jax not installed: skipped")
    nr = min(args.numpy_runs, RUNS)
    tn, ln = best_of(lambda: numpy_runs(m, starts, nr), 1, "numpy")
    CPU["numpy"] *= RUNS / nr
    assert np.abs(ln - final[:nr]).max() <= tol, np.abs(ln - final[:nr]).max()
    tn_all = tn * RUNS / nr
    rows.append((f"numpy per-run loop ({nr} runs timed, x{RUNS / nr:g})", tn_all, "numpy"))
    goals["numpy loop"] = (tn_all / best, 5.0)
    try:
        tr_ = min(args.torch_runs, RUNS)
        tt, lt = best_of(lambda: torch_runs(m, starts, tr_), 1, "torch")
        CPU["torch"] *= RUNS / tr_
        assert np.abs(lt - final[:tr_]).max() <= tol, np.abs(lt - final[:tr_]).max()
        tt_all = tt * RUNS / tr_
        rows.append((f"PyTorch per-run loop ({tr_} runs timed, x{RUNS / tr_:g})", tt_all, "torch"))
        goals["PyTorch"] = (tt_all / best, 20.0)
    except ImportError:
        print("torch not installed: skipped")
    print(f"\n{RUNS} runs x {STEPS} steps of {WIDTHS}; final losses equal to {tol:.1e}\n")
    cbest = CPU["fastscape, 1 thread"]
    print(
        "| implementation | wall time | / fastscape (best wall) | CPU time "
        "| / fastscape 1 thread (CPU) |"
    )
    print("|---|---|---|---|---|")
    for name, t, key in rows:
        c = CPU[key]
        print(f"| {name} | {fmt(t)} | {t / best:.2f}x | {fmt(c)} | {c / cbest:.2f}x |")
    goals["2 threads vs 1"] = (t1 / t2, 1.6)
    print()
    for name, (ratio, goal) in goals.items():
        verdict = "ok" if ratio >= goal else f"MISSED by {goal / ratio:.2f}x"
        print(f"{name}: {ratio:.2f}x (goal >= {goal:g}x) {verdict}")
    print(f"uptime after: {os.popen('uptime').read().strip()}")


if __name__ == "__main__":
    main()
