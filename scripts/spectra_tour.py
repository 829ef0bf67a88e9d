"""The Hessian's spectral density at N = 1e6: a strict saddle against the global minimum.

Run from the repository root (needs the ``plot`` extra):

    python scripts/spectra_tour.py          # writes docs/figures/hessian_density_1e6.png

A whitened two-layer network 1000 -> 500 -> 1000 (N = 1,000,000) at two canonical
critical points: the global minimum S = {1..500} and the strict saddle S = {251..750},
which misses the top 250 eigenvalues of Sigma. Their spectra are known in closed form
(fastscape.theory.whitened_hessian_spectrum), drawn dashed under each estimate.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fastscape  # noqa: E402
import fastscape.plot  # noqa: E402
from fastscape.theory import whitened_hessian_spectrum  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "figures" / "hessian_density_1e6.png"


def main(argv=None) -> int:
    dx, p, dy = 1000, 500, 1000
    lam = np.random.default_rng(0).uniform(0.5, 4.0, size=min(dx, dy))
    m = fastscape.whitened_moments(lam, dx, dy, seed=0)
    vals = m.spectrum().values[: min(dx, dy)]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    cases = [("global minimum", list(range(p))), ("strict saddle", list(range(250, 750)))]
    for ax, (name, S) in zip(axes, cases, strict=True):
        ws = fastscape.canonical_point(m, [dx, p, dy], S)
        t0 = time.perf_counter()
        d = fastscape.hessian_density(ws, m, steps=60, probes=4, seed=0)
        t = time.perf_counter() - t0
        spec = whitened_hessian_spectrum(vals, S, p, dx, dy)
        w1 = d.wasserstein(spec) / (spec[-1] - spec[0])
        c = fastscape.classify(ws, m, method="matrix-free")
        print(
            f"{name}: N = {d.n:,}, density {t:.1f} s ({d.matvecs} HVPs), W1/width = {w1:.1e}, "
            f"exact negative fraction {np.mean(spec < 0):.4f}, "
            f"classify -> {c.kind} ({c.decided_by}, Morse index {c.morse_index})"
        )
        fastscape.plot.hessian_density(d, ax, width=0.05, reference=spec)
        ax.set_title(f"{name}, S = {{{S[0] + 1}..{S[-1] + 1}}}: {c.kind}, index {c.morse_index}")
    fig.suptitle("Hessian spectral density, 1000 -> 500 -> 1000 network (N = 1,000,000)")
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
