"""The enumeration engine: searched sorted tables against the walk over every set.

Today's engine (the walk: one add, one bin and one increment per set) and the engine that
searches whole sorted tables are the same kernel with a different ``search_min``, so
both are timed in the same run on the same plan, with every aggregate on: index counts,
a 64-bin histogram, ``count_below``, and the 10 lowest and 10 highest values. Their
summaries are compared for bitwise equality.

* C(32, 16) = 6.0e8, C(36, 18) = 9.1e9 and C(40, 20) = 1.4e11 index sets: wall time,
  sets/s, and sets per CPU-second (all threads of this process). The walk on C(40, 20)
  takes minutes: it runs only with ``--full``.
* C(40, 20) through ``fastscape enumerate`` with a run directory (chunk files written).
* Peak RSS of a fresh process per size: flat in C(q, p).
* ``search_min`` (the table size from which tables are searched) and the split h
  (timing only: the ranks and the last bits of the losses depend on h, so the engine
  keeps h = 16).

Run: ``python bench/bench_enumerate_engine.py [--full]``. Timings on a shared machine are
noisy: the script prints the load average; read the ratios and the CPU-second rates.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

import fastscape
from fastscape import engine
from fastscape.theory import critical_value

WALK = 2**62


def _summary(lam, p, search_min):
    saved = engine.SEARCH_MIN
    engine.SEARCH_MIN = search_min
    try:
        c0, t0 = time.process_time(), time.perf_counter()
        s = fastscape.enumerate_landscape(
            lam, p, n_lowest=10, n_highest=10, threshold=float(np.median(lam)) * lam.size / 4
        )
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        engine.SEARCH_MIN = saved
    d = s.to_json()
    d.pop("timing")
    return d, wall, cpu


def compare(q, p, walk=True):
    """(search wall, cpu, walk wall, cpu, equal) for C(q, p) with every aggregate."""
    lam = fastscape.random_spectrum(q, 0)
    fastscape.enumerate_landscape(lam, min(p, 4))  # compile / load the cache
    fast, fw, fc = _summary(lam, p, engine.SEARCH_MIN)
    if not walk:
        return fw, fc, None, None, None
    slow, sw, sc = _summary(lam, p, WALK)
    return fw, fc, sw, sc, fast == slow


def cli_with_run_dir(q, p):
    """Wall time of ``fastscape enumerate --random q --p p --out DIR`` (chunk files on)."""
    out = tempfile.mkdtemp(prefix="fastscape-bench-")
    try:
        main = "import sys; from fastscape.cli import main; sys.exit(main(sys.argv[1:]))"
        cmd = [sys.executable, "-c", main, "enumerate", "--random", str(q), "--p", str(p)]
        subprocess.run([*cmd, "--out", out + "/warm", "--quiet"], check=True)
        t0 = time.perf_counter()
        subprocess.run([*cmd, "--out", out + "/run", "--quiet"], check=True)
        return time.perf_counter() - t0, len(os.listdir(out + "/run/chunks"))
    finally:
        shutil.rmtree(out, ignore_errors=True)


_RSS = """
import resource, sys, fastscape
q, p = int(sys.argv[1]), int(sys.argv[2])
fastscape.enumerate_landscape(fastscape.random_spectrum(q, 0), min(p, 3))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
fastscape.enumerate_landscape(fastscape.random_spectrum(q, 0), p, n_lowest=10, n_highest=10)
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mib(q, p):
    """(peak RSS after warm-up, after the run) in MiB, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _RSS, str(q), str(p)], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]) / 1024, int(out[1]) / 1024


def kernel_rate(q, p, search_min=None, h=None):
    """Sets per CPU-second of the kernel alone (no merge), one chunk per 2**26 sets."""
    lam = fastscape.random_spectrum(q, 0)
    lo, hi = critical_value(lam, range(p)), critical_value(lam, range(q - p, q))
    plan = engine.Plan.build(
        lam, q, p, "full", 0.0, np.linspace(lo, hi, 65), True, -np.inf, 10, 10, h=h
    )
    if search_min is not None:
        plan = dataclasses.replace(plan, search_min=search_min)
    chunks = engine.chunk_plan(q, [p], 2**26)
    engine.compute_chunks(plan, chunks[:1])
    best = math.inf
    for _ in range(2):
        c0 = time.process_time()
        engine.compute_chunks(plan, chunks)
        best = min(best, time.process_time() - c0)
    return math.comb(q, p) / best


def _g(x):
    return f"{x / 1e9:.2f} G"


def main():
    import numba

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="also walk all of C(40, 20) (minutes)")
    args = ap.parse_args()
    print(
        f"cores: {os.cpu_count()}, numba threads: {numba.get_num_threads()}, "
        f"load average: {os.getloadavg()[0]:.1f}; search_min = {engine.SEARCH_MIN}"
    )
    print("| sets | searched: wall, sets/s, per CPU-s | walk (before): wall, sets/s, per CPU-s "
          "| speed-up (wall / CPU) | equal |")  # fmt: skip
    print("| --- | --- | --- | --- | --- |")
    for q, p in ((32, 16), (36, 18), (40, 20)):
        n = math.comb(q, p)
        fw, fc, sw, sc, same = compare(q, p, walk=(q < 40 or args.full))
        fast = f"{fw:.2f} s, {_g(n / fw)}, {_g(n / fc)}"
        if sw is None:
            print(f"| C({q},{p}) = {n:.3g} | {fast} | (--full) | | |")
        else:
            print(
                f"| C({q},{p}) = {n:.3g} | {fast} | {sw:.2f} s, {_g(n / sw)}, {_g(n / sc)} "
                f"| {sw / fw:.1f}x / {sc / fc:.1f}x | {same} |"
            )
    wall, files = cli_with_run_dir(40, 20)
    print(f"fastscape enumerate --random 40 --p 20 --out DIR: {wall:.1f} s ({files} chunk files)")
    for q, p in ((28, 14), (32, 16), (36, 18), (40, 20)):
        before, after = peak_rss_mib(q, p)
        print(f"peak RSS C({q},{p}) = {math.comb(q, p):.3g} sets: {after:.0f} MiB "
              f"(after warm-up {before:.0f} MiB)")  # fmt: skip
    row = [f"{sm}: {_g(kernel_rate(36, 18, search_min=sm))}" for sm in (1, 16, 64, 256, 1024)]
    print("C(36,18) kernel, sets per CPU-s by search_min:", "; ".join(row))
    for q, p in ((24, 12), (28, 14)):
        row = [f"{sm}: {_g(kernel_rate(q, p, search_min=sm))}" for sm in (8, 32, 64, 128, 512)]
        print(f"C({q},{p}) kernel, sets per CPU-s by search_min:", "; ".join(row))
    row = [f"h={h}: {_g(kernel_rate(40, 20, h=h))}" for h in (14, 16, 18, 20)]
    print("C(40,20) kernel, sets per CPU-s by split (timing only):", "; ".join(row))


if __name__ == "__main__":
    main()
