"""Classify every critical point of a two-layer net with full Hessians: fastscape vs a loop.

Problem: dx = dy = 12, p = 6, seeded Gaussian data; all sum_{k<=6} C(12, k) = 2,510
index sets. Both sides build each canonical point, its loss, gradient and full
144 x 144 Hessian, and classify it by the Hessian's inertia; the results are checked
equal point by point (index, nullity, kind).

- fastscape: ``critical_points(m, [12, 6, 12], threads=t)``. A Numba prange loop runs
  a nogil kernel on interleaved chunks of points. Each point is verified in the
  eigenbasis of Sigma (an orthogonal change of output coordinates), where its
  Hessian is block diagonal up to round-off; the kernel fills the full Hessian,
  splits it into blocks (dropping round-off couplings only when Weyl's inequality
  certifies the inertia unchanged), reduces each block to tridiagonal form (LAPACK
  dsytrd above 32 rows, a compiled Householder loop below) and counts eigenvalues
  below -tol / above tol by Sturm sequences; the smallest and largest eigenvalue
  come from multisection.
- peer: a plain per-point Python loop, numpy Hessian from the block formula (np.kron /
  broadcasting) and ``scipy.linalg.eigvalsh`` per point (all 144 eigenvalues); timed
  with OpenBLAS at its default thread count and with OpenBLAS limited to one thread
  (its best on 2 cores).

Run ``python bench/bench_critical.py`` for the table quoted in the README (best and
median of 9 interleaved repeats), or
``python -m pytest bench/bench_critical.py --benchmark-only``.
"""

from __future__ import annotations

import itertools
import math
import sys
import time

import numba
import numpy as np
import pytest
import scipy.linalg

import fastscape
from fastscape._blas import single_threaded_blas

DX, P, DY = 12, 6, 12
RTOL = math.sqrt(np.finfo(float).eps)


def make_moments(seed=0, n=200):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, DX)) * np.linspace(0.5, 2.0, DX)
    Y = X @ rng.standard_normal((DX, DY)) + 0.5 * rng.standard_normal((n, DY))
    return fastscape.Moments.from_data(X, Y)


def numpy_loop(m):
    """Per point: canonical point, numpy Hessian, scipy eigvalsh, inertia and kind."""
    sig = m.syx @ np.linalg.solve(m.sxx, m.syx.T)
    lam, U = np.linalg.eigh((sig + sig.T) / 2)
    lam, U = lam[::-1], U[:, ::-1]
    ls = np.linalg.solve(m.sxx, m.syx.T).T
    gmin = 0.5 * (np.trace(m.syy) - lam[:P].sum())
    q = min(DX, DY)
    out = []
    for k in range(P + 1):
        for s in itertools.combinations(range(q), k):
            A = np.zeros((DY, P))
            A[:, :k] = U[:, list(s)]
            B = np.zeros((P, DX))
            B[:k] = A[:, :k].T @ ls
            W = A @ B
            G = W @ m.sxx - m.syx
            loss = 0.5 * np.trace(m.syy) - np.sum(W * m.syx) + 0.5 * np.sum((W @ m.sxx) * W)
            grad = np.concatenate([(A.T @ G).ravel(), (G @ B.T).ravel()])
            hbb = np.kron(A.T @ A, m.sxx)
            haa = np.kron(np.eye(DY), B @ m.sxx @ B.T)
            sbt = m.sxx @ B.T
            hba = A.T[:, None, :, None] * sbt[None, :, None, :]
            hba = hba + G.T[None, :, :, None] * np.eye(P)[:, None, None, :]
            hba = hba.reshape(P * DX, DY * P)
            h = np.block([[hbb, hba], [hba.T, haa]])
            ev = scipy.linalg.eigvalsh(h)
            etol = RTOL * np.abs(ev).max()
            neg = int(np.sum(ev < -etol))
            null = int(np.sum(np.abs(ev) <= etol))
            gscale = (
                np.linalg.norm(m.syx)
                + np.linalg.norm(m.sxx, 2) * np.linalg.norm(A) * np.linalg.norm(B)
            ) * max(np.linalg.norm(A), np.linalg.norm(B))
            if np.linalg.norm(grad) > RTOL * gscale:
                kind = "not_critical"
            elif abs(loss - gmin) <= RTOL * max(np.trace(m.syy), abs(loss)):
                kind = "global_min"
            else:
                kind = "strict_saddle" if neg else "non_strict_saddle"
            out.append((s, neg, null, kind))
    return out


def fastscape_all(m, threads):
    return fastscape.critical_points(m, [DX, P, DY], threads=threads)


def _agree(cps, loop):
    assert len(cps) == len(loop) == sum(math.comb(12, k) for k in range(P + 1))
    for i, (s, neg, null, kind) in enumerate(loop):
        assert cps.index_sets[i] == s
        assert (cps.morse_index[i], cps.nullity[i], cps.kind[i]) == (neg, null, kind)


@pytest.fixture(scope="module")
def moments():
    m = make_moments()
    fastscape.critical_points(m, [DX, P, DY], index_sets=[(0,)], threads=1)  # compile
    fastscape.critical_points(m, [DX, P, DY], index_sets=[(0,), (1,)], threads=2)
    return m


@pytest.mark.parametrize("threads", [1, 2])
def test_classify_all_fastscape(benchmark, moments, threads):
    benchmark.group = "classify 2,510 critical points, dx=dy=12 p=6"
    cps = benchmark.pedantic(fastscape_all, args=(moments, threads), rounds=3, iterations=1)
    assert cps.disagreements == ()


def test_classify_all_numpy_loop(benchmark, moments):
    benchmark.group = "classify 2,510 critical points, dx=dy=12 p=6"
    with single_threaded_blas():
        loop = benchmark.pedantic(numpy_loop, args=(moments,), rounds=2, iterations=1)
    _agree(fastscape_all(moments, 1), loop)


def _seconds(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def verification_only(m, cps, threads):
    """The parallel part alone: loss, gradient, Hessian and inertia of every point."""
    from fastscape.inertia import RTOL as rtol
    from fastscape.inertia import _inertia

    floors = np.zeros(len(cps))
    w = np.array([DX, P, DY])
    return _inertia(cps.thetas, w, m, False, 0.0, rtol, floors, threads, basis=m.spectrum().vectors)


@numba.njit(nogil=True)
def _spin(n):
    a = np.ones(16)
    for _ in range(n):
        for j in range(16):
            a[j] = a[j] * 1.0000001 + 1e-9
    return a.sum()


@numba.njit(parallel=True)
def _control_loop(n, chunks):
    out = np.zeros(chunks)
    for c in numba.prange(chunks):
        out[c] = _spin(n)
    return out.sum()


def control(threads, n):
    """A pure-arithmetic prange loop: what 2 threads can give on this machine right now."""
    old = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        return _seconds(lambda: _control_loop(n, 32))
    finally:
        numba.set_num_threads(old)


def main(repeats=9):
    m = make_moments()
    fastscape.critical_points(m, [DX, P, DY], index_sets=[(0,)], threads=1)
    fastscape.critical_points(m, [DX, P, DY], index_sets=[(0,), (1,)], threads=2)
    cps = fastscape_all(m, 2)
    with single_threaded_blas():
        _agree(cps, numpy_loop(m))
    print(f"{len(cps)} points, {cps.counts()}, disagreements: {len(cps.disagreements)}")
    _control_loop(10, 2)  # compile; then size the control like one fastscape run
    n = max(1, int(1000 * _seconds(lambda: fastscape_all(m, 1)) / control(1, 1000)))
    t = {k: [] for k in ("loop1", "fs1", "fs2", "v1", "v2", "c1", "c2")}
    for _ in range(repeats):  # interleaved, so a burst of load hits every variant
        t["c1"].append(control(1, n))
        t["c2"].append(control(2, n))
        t["fs1"].append(_seconds(lambda: fastscape_all(m, 1)))
        t["fs2"].append(_seconds(lambda: fastscape_all(m, 2)))
        t["v1"].append(_seconds(lambda: verification_only(m, cps, 1)))
        t["v2"].append(_seconds(lambda: verification_only(m, cps, 2)))
        with single_threaded_blas():
            t["loop1"].append(_seconds(lambda: numpy_loop(m)))
    t["loop"] = [_seconds(lambda: numpy_loop(m))]  # once: slow when cores are busy
    best = {k: min(v) for k, v in t.items()}
    med = {k: float(np.median(v)) for k, v in t.items()}
    peer = min(best["loop"], best["loop1"])
    nt = numba.config.NUMBA_NUM_THREADS
    rows = [
        ("numpy/scipy loop, OpenBLAS default threads", "loop"),
        ("numpy/scipy loop, OpenBLAS 1 thread", "loop1"),
        ("fastscape.critical_points, 1 thread", "fs1"),
        (f"fastscape.critical_points, 2 threads (of {nt})", "fs2"),
        ("  its verification part alone, 1 thread", "v1"),
        ("  its verification part alone, 2 threads", "v2"),
    ]
    print(f"best of {repeats} interleaved runs (median in brackets)")
    print(f"{'variant':<48} {'seconds':>17} {'vs best loop':>13}")
    for name, key in rows:
        sec = f"{best[key]:.3f} ({med[key]:.3f})"
        print(f"{name:<48} {sec:>17} {peer / best[key]:12.2f}x")
    for label, a, b in (
        ("critical_points", "fs1", "fs2"),
        ("verification", "v1", "v2"),
        ("control (pure arithmetic prange loop of the same length)", "c1", "c2"),
    ):
        print(
            f"thread scaling 1 -> 2 threads, {label}: {best[a] / best[b]:.2f}x best "
            f"({med[a] / med[b]:.2f}x median)"
        )
    return best


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
