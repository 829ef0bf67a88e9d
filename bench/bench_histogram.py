"""Closed-form loss histogram at q = 1000, p = 500 (issue 15, deliverable 3).

``fastscape.theory.loss_histogram`` on ``fastscape.random_spectrum(1000, 0)`` with
the 64 uniform bins ``count_landscape`` uses (lowest to highest critical value),
full rank and all ranks at the default grid, and full rank at the grid whose
worst-case bound n grid / 4 is 1% of the range: wall time after a warm-up call
(compile excluded, the kernels load from the cache), CPU time, peak RSS of a fresh
process, the stated ``error_bound`` as a fraction of the loss range, and the count representation.

Peer, in the same run: the previous implementation (a numpy row-by-row DP over
full-width rows, int64 / Python ints; it refused q = 1000, p = 500), timed on the
largest case it accepted quickly, q = 300, p = 30, with the new code on the same
input (same grid, the counts compared).

Run: ``python bench/bench_histogram.py``.
"""

from __future__ import annotations

import math
import subprocess
import sys
import time

import numpy as np

import fastscape
from fastscape import theory

_RUN = """
import json, resource, sys, time
import numpy as np, fastscape
from fastscape import theory
q, p, ranks, frac = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
lam = fastscape.random_spectrum(q, 0)
lo = theory.critical_value(lam, range(p))
hi = theory.critical_value(lam, () if ranks == "all" else range(q - p, q))
edges = np.linspace(lo, hi, 65)
for ex in (True, False):  # load (or compile) the int64 and float64 kernels
    theory.loss_histogram(lam[:40], 20, np.linspace(0.0, 20.0, 5), ranks=ranks, exact=ex)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
n = min(p, q - p) if ranks == "full" else p
grid = 4 * frac * (hi - lo) / n if frac else None  # worst case n grid / 4 = frac x range
h = theory.loss_histogram(lam, p, edges, ranks=ranks, grid=grid)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
total = sum(h.counts) + h.underflow + h.overflow
print(json.dumps(dict(wall=wall, cpu=cpu, bound=h.error_bound, range=hi - lo, grid=h.grid,
    exact=h.exact, rel=h.count_rel_error, total=float(total),
    rss0=before / 1024, rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def run_fresh(q, p, ranks, frac=0.0):
    import json

    out = subprocess.run(
        [sys.executable, "-c", _RUN, str(q), str(p), ranks, str(frac)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def old_numpy_dp(lam, p, edges, grid):
    """The previous implementation's counts (full rank), numpy rows of full width."""
    q = lam.size
    n = min(p, q - p)
    comp = q - p < p
    u = np.rint(lam / grid).astype(np.int64)
    umax = int(np.sort(u)[::-1][:n].sum())
    big = math.comb(q, n) > 2**63 - 1
    cnt = np.zeros((n + 1, umax + 1), dtype=object if big else np.int64)
    cnt[0, 0] = 1
    for i, ui in enumerate(u.tolist()):
        width = umax + 1 - ui
        for j in range(min(i + 1, n), 0, -1):
            cnt[j, ui:] = cnt[j, ui:] + cnt[j - 1, :width]
    units = np.arange(umax + 1, dtype=np.float64) * grid
    placed = 0.5 * units if comp else 0.5 * (math.fsum(lam) - units)
    b = np.searchsorted(edges, placed, side="right")
    b[placed == edges[-1]] = edges.size - 1
    out = [0] * (edges.size + 1)
    for t, c in zip(b.tolist(), cnt[n].tolist(), strict=True):
        out[t] += int(c)
    return out


def peer(q=300, p=30):
    lam = fastscape.random_spectrum(q, 0)
    edges = np.linspace(
        theory.critical_value(lam, range(p)), theory.critical_value(lam, range(q - p, q)), 65
    )
    h = theory.loss_histogram(lam, p, edges)  # warm-up
    t0 = time.perf_counter()
    h = theory.loss_histogram(lam, p, edges)
    new = time.perf_counter() - t0
    t0 = time.perf_counter()
    old = old_numpy_dp(lam, p, edges, h.grid)
    was = time.perf_counter() - t0
    assert old == [h.underflow, *h.counts, h.overflow]
    return new, was


def main():
    import numba

    load = open("/proc/loadavg").read().split()[:3] if sys.platform == "linux" else "?"
    print(f"load average before: {' '.join(load)}; numba threads {numba.get_num_threads()}")
    for ranks, frac in (("full", 0.0), ("all", 0.0), ("full", 0.01)):
        r = run_fresh(1000, 500, ranks, frac)
        what = f"grid for a {100 * frac:g}% worst case" if frac else "default grid"
        rep = "exact" if r["exact"] else f"float64, rel. error <= {r['rel']:.2g}"
        print(
            f"q=1000 p=500 ranks={ranks}, {what}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU, "
            f"error_bound {r['bound']:.4g} = {100 * r['bound'] / r['range']:.3f}% of the "
            f"loss range {r['range']:.4g} (grid {r['grid']:.3g}); counts "
            f"{rep}"
            f", total {r['total']:.6g}; peak RSS {r['rss']:.0f} MiB (before {r['rss0']:.0f})"
        )
    new, was = peer()
    print(
        f"q=300 p=30 (64 bins, same grid, same counts): new {new:.3f} s, "
        f"previous numpy DP {was:.3f} s ({was / new:.1f}x)"
    )
    load = open("/proc/loadavg").read().split()[:3] if sys.platform == "linux" else "?"
    print(f"load average after: {' '.join(load)}")


if __name__ == "__main__":
    main()
