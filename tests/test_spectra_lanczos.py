"""Lanczos extreme eigenvalues and stochastic Lanczos quadrature vs dense spectra and closed forms.

Eigenvalue tolerances: a returned value must lie within its own bound (plus round-off
of order sqrt(N) eps |H|) of a true eigenvalue, and the bounds must meet tol * |H|.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import spectra_reference as sref
from conftest import make_problem

import fastscape
from fastscape.theory import whitened_hessian_spectrum

TOL = 1e-8


def _problem(widths, residual=False, mu=0.0, seed=0):
    p = make_problem(widths, residual=residual, mu=mu, n=20, seed=seed)
    m = fastscape.Moments.from_data(p.X, p.Y)
    return p.weights, m, sref.dense(p.weights, m, residual, mu)


def _check(r, H, k, which):
    want = sref.extreme(H, k, which)
    hn = np.abs(np.linalg.eigvalsh(H)).max()
    slack = 1e3 * np.sqrt(H.shape[0]) * np.finfo(float).eps * hn
    assert r.converged and r.values.shape == (k,) and r.bounds.shape == (k,)
    assert np.all(r.bounds <= TOL * hn * 1.01)
    # each value is within its bound of the matching true eigenvalue (multiplicities too)
    assert np.all(np.abs(r.values - want) <= r.bounds + slack), (r.values, want)


@pytest.mark.parametrize(
    "widths,residual,mu",
    [([3, 4, 2, 5], False, 0.0), ([4, 4, 4, 4], True, 0.2), ([6, 5, 3, 2, 4], False, 0.5)],
)
@pytest.mark.parametrize("which", ["largest", "smallest", "magnitude"])
def test_extremes_match_dense(widths, residual, mu, which):
    ws, m, H = _problem(widths, residual, mu)
    r = fastscape.hessian_eigenvalues(
        ws, m, k=3, which=which, residual=residual, weight_decay=mu, vectors=True
    )
    _check(r, H, 3, which)
    x = r.vectors
    assert x.shape == (H.shape[0], 3)
    assert np.allclose(x.T @ x, np.eye(3), atol=1e-8)
    assert np.allclose(np.linalg.norm(H @ x - x * r.values, axis=0), r.bounds, atol=1e-10)


def test_depth_one_multiplicity():
    """H = I_dy (x) Sxx: every eigenvalue of Sxx dy times, found with its multiplicity."""
    rng = np.random.default_rng(4)
    dx, dy = 12, 4
    a = rng.standard_normal((dx, dx))
    sxx = a @ a.T / dx + 0.1 * np.eye(dx)
    m = fastscape.Moments(sxx, rng.standard_normal((dy, dx)), np.eye(dy) * 10)
    ws = [rng.standard_normal((dy, dx))]
    e = np.linalg.eigvalsh(sxx)
    cases = (("largest", np.repeat(e[::-1][:2], dy)), ("smallest", np.repeat(e[:2], dy)))
    for which, want in cases:
        r = fastscape.hessian_eigenvalues(ws, m, k=2 * dy, which=which)
        assert r.converged
        assert np.allclose(r.values, want, rtol=0, atol=1e-8 * e.max())


def _whitened_two_layer(dx, p, dy, index_set, seed=0):
    lam = np.random.default_rng(seed).uniform(0.5, 4.0, size=min(dx, dy))
    m = fastscape.whitened_moments(lam, dx, dy, seed=seed)
    ws = fastscape.canonical_point(m, [dx, p, dy], index_set)
    spec = whitened_hessian_spectrum(m.spectrum().values[: lam.size], index_set, p, dx, dy)
    assert np.allclose(np.sort(m.spectrum().values[: lam.size]), np.sort(lam))
    return ws, m, spec


def test_canonical_two_layer_multiplicities():
    """Global minimum of [6, 3, 6]: 1 + lambda_j appears |S| = 3 times for every j in S."""
    ws, m, spec = _whitened_two_layer(6, 3, 6, [0, 1, 2])
    top = spec[::-1][:6]
    assert np.isclose(top[0], top[2]) and np.isclose(top[3], top[5])  # closed form: ties
    r = fastscape.hessian_eigenvalues(ws, m, k=6)
    assert r.converged and np.allclose(r.values, top, atol=1e-7 * top[0])
    # the strict saddle S = {0, 1, 3}: its negative eigenvalues are in the closed form too
    ws, m, spec = _whitened_two_layer(6, 3, 6, [0, 1, 3])
    r = fastscape.hessian_eigenvalues(ws, m, k=2, which="smallest")
    assert r.converged and np.allclose(r.values, spec[:2], atol=1e-7 * spec[-1])
    assert r.values[0] < 0


def test_deterministic_and_flags_non_convergence():
    ws, m, H = _problem([5, 6, 4, 5], seed=7)
    a = fastscape.hessian_eigenvalues(ws, m, k=2, seed=3)
    b = fastscape.hessian_eigenvalues(ws, m, k=2, seed=3)
    assert np.array_equal(a.values, b.values) and np.array_equal(a.bounds, b.bounds)
    assert a.matvecs == b.matvecs
    with pytest.warns(fastscape.EigenvalueConvergenceWarning, match="did not converge"):
        c = fastscape.hessian_eigenvalues(ws, m, k=2, which="smallest", max_matvecs=4, basis=4)
    assert not c.converged
    # the bounds stay honest: a true eigenvalue within each bound
    e = np.linalg.eigvalsh(H)
    for val, bound in zip(c.values, c.bounds, strict=True):
        assert np.min(np.abs(e - val)) <= bound * (1 + 1e-8) + 1e-12


def test_density_converges_to_dense_spectrum():
    """Wasserstein-1 distance to the dense spectrum shrinks as steps and probes grow.

    N = 150 at a random (non-critical) point. Observed W1 / spectral width: 0.03 at
    (4 steps, 2 probes), under 0.006 at (40, 40); the test asserts a factor-of-3 drop
    and an absolute 1 percent.
    """
    ws, m, H = _problem([6, 5, 7, 6, 5])
    e = np.linalg.eigvalsh(H)
    width = e[-1] - e[0]
    coarse = fastscape.hessian_density(ws, m, steps=4, probes=2, seed=1)
    fine = fastscape.hessian_density(ws, m, steps=40, probes=40, seed=1)
    w_coarse = coarse.wasserstein(e) / width
    w_fine = fine.wasserstein(e) / width
    assert w_fine < w_coarse / 3 and w_fine < 0.01, (w_coarse, w_fine)
    # an independent W1 of the same two distributions agrees
    x, w = fine.mass()
    assert np.isclose(sref.wasserstein1(x, w, e, np.full(e.size, 1 / e.size)), fine.wasserstein(e))
    assert np.allclose(fine.weights.sum(axis=1), 1.0)
    t, f = fine.smooth(width=width / 50)
    assert abs(np.trapezoid(f, t) - 1.0) < 1e-3


def test_density_against_closed_form_two_layer():
    """At a whitened two-layer strict saddle (N = 3,200) the estimate is within 1 percent
    (Wasserstein-1, relative to the spectral width) of the closed-form spectrum."""
    ws, m, spec = _whitened_two_layer(40, 40, 40, list(range(1, 21)), seed=1)
    assert fastscape.num_params([40, 40, 40]) == spec.size
    d = fastscape.hessian_density(ws, m, steps=40, probes=4)
    assert d.wasserstein(spec) / (spec[-1] - spec[0]) < 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert d.matvecs == 160


def test_plot_density_marks_negative_part():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import fastscape.plot

    ws, m, spec = _whitened_two_layer(6, 3, 6, [0, 1, 3])
    d = fastscape.hessian_density(ws, m, steps=20, probes=3)
    fig = fastscape.plot.hessian_density(d, width=0.05, reference=spec)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(lab.startswith("negative part") for lab in labels)
    assert "exact (closed form)" in labels
    red = [
        c
        for c in ax.collections
        if np.allclose(c.get_facecolor()[0][:3], (0.839, 0.153, 0.157), atol=1e-2)
    ]
    assert red and red[0].get_paths()  # the filled negative region is drawn
    plt.close(fig)
    with pytest.raises(TypeError, match="HessianDensity"):
        fastscape.plot.hessian_density(spec)
