"""The topology figures draw what the closed forms say."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from topology_reference import moments_with  # noqa: E402

import fastscape  # noqa: E402
import fastscape.plot as fplot  # noqa: E402
from fastscape.slices import slice_grid  # noqa: E402


def test_mountain_pass_figure_shows_the_pass_and_the_staircase():
    m = moments_with([5.0, 3.0, 1.0], 4, 3, np.random.default_rng(0))
    fig = fplot.mountain_pass_figure(m, [4, 2, 3], images=9, steps=600)
    ax, ax2 = fig.axes
    curves = {ln.get_label(): ln for ln in ax.get_lines()}
    pass_curve = curves["mountain-pass path"].get_ydata()
    assert np.isclose(np.max(pass_curve), 1.0, rtol=1e-12)  # (lambda_2 - lambda_3) / 2
    assert np.isclose(fig.mountain_pass.barrier, 1.0, rtol=1e-12)
    assert np.max(curves["straight line"].get_ydata()) >= 1.0 * (1 - 1e-9)
    (stair,) = [ln for ln in ax2.get_lines() if ln.get_label() == "closed form"]
    x, y = stair.get_xdata(), stair.get_ydata()
    assert set(np.unique(y)) == {0, 1, 2}
    assert np.all(y[(x >= 0) & (x < 0.999)] == 2) and np.all(y[x >= 1.001] == 1)
    plt.close(fig)


def test_slice_panels_draw_every_slice():
    m = moments_with([2.0, 1.0], 2, 2, np.random.default_rng(1))
    ws = fastscape.canonical_point(m, [2, 2, 2], [0, 1])
    sl = slice_grid(
        ws, m, fastscape.random_directions(ws, seed=3), span=1.0, resolution=7, unit=False
    )
    fig = fplot.slice_panels([sl, sl, sl], ["a", "b", "c"], log=True)
    assert len(fig.axes) == 6
    assert fig.axes[0].get_title().startswith("a\nloss")
    plt.close(fig)
