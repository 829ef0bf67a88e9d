"""Figures for docs/dynamics.md: mode strengths against the closed form, and many runs.

Usage (repository root, needs the ``plot`` extra):  python scripts/dynamics_figures.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import fastscape  # noqa: E402
from fastscape.plot import plot_modes, plot_runs  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "figures"


def main() -> None:
    m = fastscape.Moments(np.eye(4), np.diag([2.0, 1.0, 0.5, 0.25]), np.eye(4) * 2)
    ws = fastscape.balanced_start(m, [4, 3, 3, 4], [1e-2, 1e-2, 1e-2])
    tr = fastscape.gradient_descent(ws, m, lr=0.005, steps=12000, record_every=40)
    plot_modes(tr, m).savefig(OUT / "dynamics_modes.png", dpi=100)
    res = fastscape.gradient_descent_many(
        [4, 3, 4], m, runs=256, init_scale=1e-4, seed=0, lr=0.02, steps=1200, record_every=5
    )
    plot_runs(res, m).savefig(OUT / "dynamics_runs.png", dpi=100)
    print("wrote", OUT / "dynamics_modes.png", "and", OUT / "dynamics_runs.png")


if __name__ == "__main__":
    main()
