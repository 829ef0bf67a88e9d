"""Training-run figures: drawn headless, checked by content."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import fastscape  # noqa: E402
from fastscape.plot import plot_learning_curve, plot_modes, plot_runs  # noqa: E402
from fastscape.theory import learning_curve  # noqa: E402

M = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 5)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_learning_curve_figure_marks_critical_values_and_plateaus():
    ws = fastscape.random_weights([3, 2, 3], seed=1, scale=1e-4)
    tr = fastscape.gradient_descent(ws, M, lr=0.02, steps=1500, record_every=5)
    ax = plot_learning_curve(tr, M).axes[0]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.texts] == ["S = ()", "S = (0,)", "S = (0, 1)"]
    levels = sorted(line.get_ydata()[0] for line in ax.lines[1:])
    assert levels == pytest.approx([1.0, 3.0, 7.5])  # 1/2 (tr Syy - sum lambda_S)
    assert np.array_equal(ax.lines[0].get_ydata(), tr.loss)


def test_mode_figure_overlays_the_closed_form():
    m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    ws = fastscape.balanced_start(m, [2, 2, 2, 2], [1e-2, 1e-2])
    tr = fastscape.gradient_descent(ws, m, lr=0.01, steps=600, record_every=10)
    ax = plot_modes(tr, m).axes[0]
    lc = learning_curve([2.0, 1.0], [1e-2, 1e-2], tr.times, depth=3)
    assert len(ax.lines) == 4
    assert np.array_equal(ax.lines[2].get_ydata(), lc.strengths[:, 0])
    assert np.array_equal(ax.lines[0].get_ydata(), tr.strengths[:, 0])


def test_many_runs_figure():
    res = fastscape.gradient_descent_many(
        [3, 2, 3], M, runs=12, init_scale=1e-4, lr=0.02, steps=250, record_every=5
    )
    fig = plot_runs(res, M)
    a0, a1 = fig.axes
    assert sum(p.get_height() for p in a0.patches) == 12
    # runs stopped after 250 steps sit at S = (0,): its value is marked
    assert any(t.get_text() == "S = (0,)" for t in a0.texts)
    assert [t.get_text() for t in a1.get_xticklabels()] == ["S = ()"]
