"""First-call time of each entry point on an empty kernel cache, one process per call.

    python bench/bench_cold_start.py [--repeat 3] [--baseline OTHER_PYTHON]

Each measurement starts a fresh Python process with its own empty cache folder
(FASTSCAPE_CACHE_DIR and NUMBA_CACHE_DIR both pointed at it), imports fastscape, builds
a small problem, and times the first call of one entry point: that call compiles what
it needs. A second process on the now-filled cache times the same call warm. With
``--baseline`` another interpreter (for example a venv with an older fastscape
installed) is measured in the same run, interleaved, so the two see the same machine
load. Prints the median over ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

CALLS = {
    "hessian": "fastscape.hessian(ws, m)",
    "loss/gradient/hvp": "fastscape.loss(ws, m); fastscape.gradient(ws, m); "
    "fastscape.hvp(ws, m, np.ones(fastscape.num_params(widths)))",
    "classify": "fastscape.classify(ws, m)",
    "critical_points": "fastscape.critical_points(m, [6, 2, 5])",
    "enumerate_landscape": "fastscape.enumerate_landscape(fastscape.random_spectrum(16, 0), 8)",
}

SETUP = """
import time, numpy as np, fastscape
rng = np.random.default_rng(0)
X = rng.standard_normal((50, 6)); Y = X @ rng.standard_normal((6, 5))
m = fastscape.Moments.from_data(X, Y)
widths = [6, 4, 3, 5]
ws = fastscape.random_weights(widths, seed=1)
t0 = time.perf_counter()
{call}
print(time.perf_counter() - t0)
"""


def first_call(python: str, call: str, cache: str) -> float:
    env = dict(os.environ, FASTSCAPE_CACHE_DIR=cache, NUMBA_CACHE_DIR=cache,
               FASTSCAPE_COMPILE_NOTICE="0")  # fmt: skip
    out = subprocess.run(
        [python, "-c", SETUP.format(call=call)], capture_output=True, text=True, env=env,
        check=True, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", help="another Python interpreter to measure alongside")
    args = ap.parse_args()
    pythons = {"this": sys.executable}
    if args.baseline:
        pythons["baseline"] = args.baseline
    rows = []
    for name, call in CALLS.items():
        cold = {k: [] for k in pythons}
        warm = {k: [] for k in pythons}
        for _ in range(args.repeat):
            for label, py in pythons.items():
                with tempfile.TemporaryDirectory() as cache:
                    cold[label].append(first_call(py, call, cache))
                    warm[label].append(first_call(py, call, cache))
        rows.append((name, {k: statistics.median(v) for k, v in cold.items()},
                     {k: statistics.median(v) for k, v in warm.items()}))  # fmt: skip
        line = f"{name:22s}" + "".join(
            f"  {label}: cold {rows[-1][1][label]:6.1f} s, warm {rows[-1][2][label]:5.2f} s"
            for label in pythons
        )
        if args.baseline:
            line += f"   cold ratio {rows[-1][1]['this'] / rows[-1][1]['baseline']:.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
