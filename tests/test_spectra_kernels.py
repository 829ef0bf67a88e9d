"""Direct dgemm, the row-split HVP and the lockstep Lanczos step against plain numpy."""

from __future__ import annotations

import numba
import numpy as np
import pytest
import spectra_reference as sref
from conftest import make_problem, problems
from fastscape.kernels import spectra as ks
from fastscape.kernels.gemm import gemm
from hypothesis import HealthCheck, given, settings

import fastscape
from fastscape import spectra_ops


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("rows", [(0, 7), (2, 5), (3, 3)])
def test_gemm_against_numpy(ta, tb, rows):
    rng = np.random.default_rng(int(ta) + 2 * int(tb))
    m, k, n = 7, 5, 9
    a = rng.standard_normal((k, m) if ta else (m, k))
    b = rng.standard_normal((n, k) if tb else (k, n))
    c = rng.standard_normal((m, n))
    want = c.copy()
    lo, hi = rows
    want[lo:hi] = 1.5 * (a.T if ta else a)[lo:hi] @ (b.T if tb else b) - 0.5 * c[lo:hi]
    gemm(ta, tb, 1.5, a, b, -0.5, c, lo, hi)
    assert np.allclose(c, want, rtol=1e-14, atol=1e-14)


def test_gemm_bad_shapes_and_empty_inner():
    with pytest.raises(ValueError, match="do not agree"):
        gemm(False, False, 1.0, np.ones((2, 3)), np.ones((2, 3)), 0.0, np.ones((2, 3)), 0, 2)
    c = np.full((2, 3), 4.0)
    gemm(False, False, 1.0, np.ones((2, 0)), np.ones((0, 3)), 0.5, c, 0, 2)
    assert np.array_equal(c, np.full((2, 3), 2.0))


def _pieces(p, m):
    pt = spectra_ops.prepare_point(p.weights, m, p.residual, p.mu)
    buf, poff = spectra_ops.primal_pieces(pt.theta, pt.widths, m.sxx, m.syx, pt.residual)
    return pt, buf, poff


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_depth=4, max_width=6))
def test_split_hvp_matches_dense(p):
    """Every product cut into 1, 2 or 3 row parts: H v of the dense reference."""
    m = fastscape.Moments.from_data(p.X, p.Y)
    H = sref.dense(p.weights, m, p.residual, p.mu)
    pt, buf, poff = _pieces(p, m)
    v = np.random.default_rng(0).standard_normal((2, H.shape[0]))
    tol = 1e-10 * (np.abs(v) @ np.abs(H)).max()
    for parts in (1, 2, 3):
        out = np.empty_like(v)
        ks.hvp_apply_split(pt.theta, pt.widths, m.sxx, buf, poff, pt.weight_decay, False, v,
                           out, parts)  # fmt: skip
        assert np.max(np.abs(out - v @ H)) <= tol


def test_split_hvp_does_not_depend_on_threads():
    p = make_problem(widths=(6, 8, 7, 5), residual=False, mu=0.1, seed=3)
    m = fastscape.Moments.from_data(p.X, p.Y)
    pt, buf, poff = _pieces(p, m)
    v = np.random.default_rng(1).standard_normal((1, pt.n))
    outs = []
    old = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            out = np.empty_like(v)
            ks.hvp_apply_split(pt.theta, pt.widths, m.sxx, buf, poff, 0.1, False, v, out, 2)
            outs.append(out)
    finally:
        numba.set_num_threads(old)
    assert np.array_equal(outs[0], outs[1])


def _lanczos_reference(q, rows, j, w, beta_prev):
    """The same step in plain numpy: recurrence, Gram-Schmidt, conditional second pass."""
    alphas, betas, ws = [], [], []
    for i, r in enumerate(rows):
        x = w[i].copy()
        a = x @ q[r, j]
        x -= a * q[r, j]
        if j:
            x -= beta_prev[i] * q[r, j - 1]
        before = np.linalg.norm(x)
        basis = q[r, : j + 1]
        x -= basis.T @ (basis @ x)
        beta = np.linalg.norm(x)
        if beta < 0.7 * before:
            x -= basis.T @ (basis @ x)
            beta = np.linalg.norm(x)
        alphas.append(a), betas.append(beta), ws.append(x)
    return np.array(alphas), np.array(betas), np.array(ws)


@pytest.mark.parametrize("j", [0, 1, 4])
def test_lanczos_steps_against_numpy(j):
    rng = np.random.default_rng(j)
    n, steps = 40, 6
    q = np.empty((3, steps, n))
    for r in range(3):
        q[r] = np.linalg.qr(rng.standard_normal((n, steps)))[0].T
    rows = np.array([0, 2], dtype=np.int64)
    w = rng.standard_normal((2, n))
    w[1] = 3.0 * q[2, j] + 1e-3 * w[1]  # mostly in the basis: takes the second pass
    prev = np.array([0.3, 0.7])
    a_ref, b_ref, w_ref = _lanczos_reference(q, rows, j, w, prev)
    a, b = np.empty(2), np.empty(2)
    ks.lanczos_steps(q, rows, j, w, prev, a, b)
    assert np.allclose(a, a_ref, rtol=1e-13, atol=1e-13)
    assert np.allclose(b, b_ref, rtol=1e-10, atol=1e-14)
    assert np.allclose(w, w_ref, rtol=1e-10, atol=1e-13)
    assert np.abs(q[2, : j + 1] @ w[1]).max() <= 1e-13 * np.linalg.norm(w[1]) + 1e-15


def test_density_is_deterministic_for_a_seed():
    p = make_problem(widths=(5, 6, 4), residual=False, mu=0.0, seed=1)
    m = fastscape.Moments.from_data(p.X, p.Y)
    a = fastscape.hessian_density(p.weights, m, steps=8, probes=3, seed=5)
    b = fastscape.hessian_density(p.weights, m, steps=8, probes=3, seed=5)
    assert np.array_equal(a.nodes, b.nodes) and np.array_equal(a.weights, b.weights)


@pytest.mark.parametrize("widths", [(4, 3), (4, 5, 6, 3)])
def test_split_hvp_whitened(widths):
    """Sxx = I skips the product dG = dL_H Sxx; depth 1 writes (H v)_0 directly."""
    m = fastscape.whitened_moments(np.array([3.0, 2.0, 1.0]), widths[0], widths[-1], seed=0)
    ws = fastscape.random_weights(widths, seed=2)
    H = sref.dense(ws, m)
    pt = spectra_ops.prepare_point(ws, m)
    buf, poff = spectra_ops.primal_pieces(pt.theta, pt.widths, m.sxx, m.syx, False)
    v = np.random.default_rng(0).standard_normal((1, H.shape[0]))
    for ident in (False, True):
        out = np.empty_like(v)
        ks.hvp_apply_split(pt.theta, pt.widths, m.sxx, buf, poff, 0.0, ident, v, out, 2)
        assert np.max(np.abs(out - v @ H)) <= 1e-10 * (np.abs(v) @ np.abs(H)).max()
