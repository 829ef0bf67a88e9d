"""Matrix-free classification at N = 2e4 and N = 1e6 (H = 4): timings of classify(method="auto").

Run: python scripts/spectra_classify_large.py [--widths 70 500]
Points: the global minimum (S = the top p), a strict saddle (S misses the top value) and a
non-strict saddle (S = the top p/2, tight representative) of fastscape.deep_point.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import fastscape


def moments(width, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2 * width, width))
    Y = X @ rng.standard_normal((width, width)) / np.sqrt(width) + rng.standard_normal(X.shape)
    return fastscape.Moments.from_data(X, Y)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--widths", type=int, nargs="+", default=[70, 500])
    args = ap.parse_args(argv)
    for w in args.widths:
        m = moments(w)
        widths = [w] * 5
        half = w // 2
        cases = {
            "global_min": list(range(w)),
            "strict_saddle": list(range(1, half + 1)),
            "non_strict_saddle": list(range(half)),
        }
        n = fastscape.num_params(widths)
        for want, S in cases.items():
            ws = fastscape.deep_point(m, widths, S)
            t0 = time.perf_counter()
            c = fastscape.classify(ws, m, method="auto")
            t = time.perf_counter() - t0
            lam = "-" if c.min_eigenvalue is None else f"{c.min_eigenvalue:.4g}"
            print(
                f"N = {n:>9,}  {want:<18} -> {c.kind:<18} decided by {c.decided_by:<10} "
                f"min eig {lam:<10} HVPs {c.matvecs:<4} {t:6.2f} s"
            )
            assert c.kind == want
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
