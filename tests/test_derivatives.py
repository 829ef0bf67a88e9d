"""Product, loss, gradient, HVP and Hessian against the plain-numpy reference (tests/reference.py).

Tolerances are relative to the size of the terms that were summed (never a bare
absolute number), so they scale with the data and the weights.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
import reference as ref
from conftest import derivative_settings, make_problem, problems
from fastscape.kernels import derivatives as kd
from hypothesis import given

import fastscape

RTOL = 1e-10  # observed errors are ~1e-15 relative; any real bug is O(1)
EPS = np.finfo(float).eps


def assert_close(actual, expected, scale, rtol=RTOL, what=""):
    """max |actual - expected| <= rtol * scale, with scale the magnitude of the summed terms."""
    err = float(np.max(np.abs(np.asarray(actual) - np.asarray(expected)), initial=0.0))
    tol = rtol * max(float(scale), np.finfo(float).tiny)
    assert err <= tol, f"{what}: max error {err:.3e} > {tol:.3e} (scale {scale:.3e})"


def moments_of(p):
    return fastscape.Moments.from_data(p.X, p.Y)


def loss_term_scale(ws, m, residual, mu):
    """Sum of the magnitudes of the loss's terms: bounds its rounding error."""
    W = ref.product(ws, residual)
    return (
        0.5 * np.trace(m.syy)
        + abs(np.trace(W @ m.syx.T))
        + 0.5 * abs(np.trace(W @ m.sxx @ W.T))
        + 0.5 * mu * float(np.sum(ref.flat(ws) ** 2))
    )


@pytest.mark.slow
@derivative_settings
@given(problems())
def test_hessian_matches_reference(p):
    m = moments_of(p)
    H = fastscape.hessian(p.weights, m, residual=p.residual, weight_decay=p.mu)
    gn, second, decay = ref.hessian(p.weights, m.sxx, m.syx, p.residual, p.mu, parts=True)
    scale = np.abs(gn).max() + np.abs(second).max() + p.mu
    n = ref.flat(p.weights).size
    assert H.shape == (n, n) and H.dtype == np.float64
    assert_close(H, H.T, scale, what="symmetry")
    assert_close(H, gn + second + decay, scale, what="Hessian vs reference")


@derivative_settings
@given(problems())
def test_gradient_matches_reference_and_finite_differences(p):
    m = moments_of(p)
    ws, res, mu = p.weights, p.residual, p.mu
    g = fastscape.gradient(ws, m, residual=res, weight_decay=mu)
    assert [x.shape for x in g] == [w.shape for w in ws]
    flat = np.concatenate([x.ravel() for x in g])
    # Kronecker reference; scale = |J|^T |vec G| + mu |theta|
    J = ref.jacobian(ws, res)
    G = (ref.product(ws, res) @ m.sxx - m.syx).ravel()
    Gabs = np.abs(ref.product(ws, res)) @ np.abs(m.sxx) + np.abs(m.syx)
    theta = ref.flat(ws)
    scale = (np.abs(J).T @ Gabs.ravel() + mu * np.abs(theta)).max()
    assert_close(flat, J.T @ G + mu * theta, scale, what="gradient vs Kronecker reference")
    # central differences of the public loss: exact for a function quadratic in each theta_j
    h = max(1.0, float(np.sqrt(np.mean(theta**2))))
    widths = p.widths

    def f(t):
        return fastscape.loss(ref.split(t, widths), m, residual=res, weight_decay=mu)

    fd = ref.central_differences(f, theta, h)
    lscale = max(
        loss_term_scale(ref.split(theta + s * h * np.eye(theta.size)[j], widths), m, res, mu)
        for j in range(theta.size)
        for s in (-1, 1)
    )
    assert_close(flat, fd, scale + 64 * lscale / h / RTOL * EPS, what="gradient vs FD of loss")


@derivative_settings
@given(problems())
def test_hvp_equals_hessian_times_v(p):
    m = moments_of(p)
    ws = p.weights
    n = ref.flat(ws).size
    rng = np.random.default_rng(n)
    H = fastscape.hessian(ws, m, residual=p.residual, weight_decay=p.mu)
    for v in (rng.standard_normal(n), np.eye(n)[n // 2]):
        hv = fastscape.hvp(ws, m, v, residual=p.residual, weight_decay=p.mu)
        assert hv.shape == (n,)
        assert_close(hv, H @ v, (np.abs(H) @ np.abs(v)).max(), what="hvp vs H @ v")
    # a v shaped like the weights gives the same product as its flat form
    v = rng.standard_normal(n)
    vs = [x.copy() for x in ref.split(v, p.widths)]
    a = fastscape.hvp(ws, m, vs, residual=p.residual, weight_decay=p.mu)
    b = fastscape.hvp(ws, m, v, residual=p.residual, weight_decay=p.mu)
    np.testing.assert_array_equal(a, b)


@derivative_settings
@given(problems())
def test_loss_from_moments_is_half_mean_squared_error(p):
    m = moments_of(p)
    value = fastscape.loss(p.weights, m, residual=p.residual, weight_decay=p.mu)
    assert isinstance(value, float)
    scale = loss_term_scale(p.weights, m, p.residual, p.mu)
    raw = ref.loss_data(p.weights, p.X, p.Y, p.residual, p.mu)
    assert_close(value, raw, scale, what="loss vs mean squared error / 2")
    mom = ref.loss_moments(p.weights, m.sxx, m.syx, m.syy, p.residual, p.mu)
    assert_close(value, mom, scale, what="loss vs trace formula")


@derivative_settings
@given(problems())
def test_product_is_the_numpy_chain(p):
    W = fastscape.product(p.weights, residual=p.residual)
    expected = ref.product(p.weights, p.residual)
    assert W.shape == (p.widths[-1], p.widths[0])
    fs = ref.factors(p.weights, p.residual)
    scale = 1.0
    for f in fs:
        scale *= max(np.abs(f).sum(axis=1).max(), np.finfo(float).tiny)  # inf-norm chain bound
    assert_close(W, expected, scale, what="product")


def test_reference_hessian_is_finite_differences_of_reference_gradient():
    """The reference itself: its two Hessian constructions agree (dx != dy, residual)."""
    for widths, residual, mu in (([3, 5, 2, 4], False, 0.4), ([4, 4, 4], True, 0.0)):
        p = make_problem(widths, residual=residual, mu=mu, seed=3)
        m = moments_of(p)
        theta = ref.flat(p.weights)

        def grad(t, widths=widths, residual=residual, mu=mu, m=m):
            return ref.gradient(ref.split(t, widths), m.sxx, m.syx, residual, mu)

        fd = ref.central_differences(grad, theta, 1.0)
        gn, second, decay = ref.hessian(p.weights, m.sxx, m.syx, residual, mu, parts=True)
        scale = np.abs(gn).max() + np.abs(second).max() + mu
        assert_close(gn + second + decay, fd, scale, what="reference Hessian vs FD")


def test_closed_forms():
    """One layer: H = I (x) Sxx + mu I; H >= 3 at W = 0: Hessian mu I, gradient 0."""
    p = make_problem([4, 3], seed=1)
    m = moments_of(p)
    H = fastscape.hessian(p.weights, m, weight_decay=0.25)
    expected = np.kron(np.eye(3), m.sxx) + 0.25 * np.eye(12)
    assert_close(H, expected, np.abs(expected).max(), rtol=4 * EPS, what="one layer")
    for widths in ([3, 4, 2, 5], [2, 2, 2, 2, 2]):
        zeros = [np.zeros((widths[k + 1], widths[k])) for k in range(len(widths) - 1)]
        m = moments_of(make_problem(widths, seed=2))
        n = ref.flat(zeros).size
        np.testing.assert_array_equal(fastscape.hessian(zeros, m), np.zeros((n, n)))
        np.testing.assert_array_equal(
            fastscape.hessian(zeros, m, weight_decay=0.5), 0.5 * np.eye(n)
        )
        for g in fastscape.gradient(zeros, m):
            np.testing.assert_array_equal(g, 0.0)


@pytest.mark.parametrize(
    ("widths", "residual"), [([17, 33, 20, 19], False), ([21, 21, 21], True), ([1, 40, 2], False)]
)
def test_wide_layers_columns_match_reference(widths, residual):
    """Widths past the vector length (unrolled SIMD body): sampled columns vs FD of the
    reference gradient, H @ v vs hvp, symmetry, and the serial kernel equals the parallel one."""
    p = make_problem(widths, residual=residual, mu=0.1, seed=4, n=50)
    m = moments_of(p)
    H = fastscape.hessian(p.weights, m, residual=residual, weight_decay=0.1)
    theta = ref.flat(p.weights)
    n = theta.size
    rng = np.random.default_rng(5)
    cols = np.unique(np.r_[0, n - 1, rng.integers(0, n, 12)])
    scale = np.abs(H).max()
    for j in cols:
        e = np.zeros(n)
        e[j] = 1.0
        gp = ref.gradient(ref.split(theta + e, widths), m.sxx, m.syx, residual, 0.1)
        gm = ref.gradient(ref.split(theta - e, widths), m.sxx, m.syx, residual, 0.1)
        assert_close(H[:, j], (gp - gm) / 2, scale, what=f"column {j}")
    assert_close(H, H.T, scale, what="symmetry")
    v = rng.standard_normal(n)
    hv = fastscape.hvp(p.weights, m, v, residual=residual, weight_decay=0.1)
    assert_close(hv, H @ v, (np.abs(H) @ np.abs(v)).max(), what="hvp")
    widths_arr = np.asarray(widths, dtype=np.int64)
    serial = np.empty((n, n))
    kd.hessian_serial(theta, widths_arr, m.sxx, m.syx, residual, 0.1, serial)
    np.testing.assert_array_equal(serial, H)


def test_hessian_does_not_depend_on_thread_count():
    p = make_problem([6, 9, 7, 5], seed=6)
    m = moments_of(p)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fastscape.hessian(p.weights, m)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = fastscape.hessian(p.weights, m)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one, many)


def test_out_is_filled_in_place_and_every_entry_written():
    p = make_problem([3, 5, 2], seed=7)
    m = moments_of(p)
    n = ref.flat(p.weights).size
    expected = fastscape.hessian(p.weights, m)
    for fill in (np.nan, 1e300):
        out = np.full((n, n), fill)
        got = fastscape.hessian(p.weights, m, out=out)
        assert got is out
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize(("widths", "residual"), [([3, 5, 2, 4], False), ([3, 3, 3, 3, 3], True)])
def test_packed_blocks_are_theorys_blocks(widths, residual):
    """hessian_pack (what the fill reads) holds docs/theory.md's named blocks, as documented."""
    p = make_problem(widths, residual=residual, seed=8)
    m = moments_of(p)
    theta = ref.flat(p.weights)
    w = np.asarray(widths, dtype=np.int64)
    gn_r, gn_l, res_p, res_m = ref.hessian_blocks(p.weights, m.sxx, m.syx, residual)
    A, B, U, V, oa, ob, ou, ov = kd.hessian_pack(theta, w, m.sxx, m.syx, residual)
    H = len(widths) - 1
    scale = max(np.abs(A).max(), np.abs(B).max(), np.abs(U).max(), np.abs(V).max())

    def block(buf, o, i, shape):
        return buf[o[i] : o[i + 1]].reshape(shape)

    for k in range(H):
        for l in range(H):
            i = k * H + l
            shape_a = (widths[k + 1], widths[l + 1])
            assert_close(block(A, oa, i, shape_a), gn_r[i], scale, what=f"A {k}{l}")
            assert_close(block(B, ob, i, (widths[k], widths[l])), gn_l[i], scale, what=f"B {k}{l}")
            if k == l:
                continue
            u = block(U, ou, i, (widths[k], widths[l + 1]))
            v = block(V, ov, i, (widths[k + 1], widths[l]))
            j = i if k < l else l * H + k
            if k < l:
                assert_close(u, res_p[j].T, scale, what=f"U {k}{l}")
                assert_close(v, res_m[j], scale, what=f"V {k}{l}")
            else:
                assert_close(u, res_m[j].T, scale, what=f"U {k}{l}")
                assert_close(v, res_p[j], scale, what=f"V {k}{l}")


@derivative_settings
@given(problems())
def test_loss_gradient_kernel_is_loss_and_gradient(p):
    """One pass for both (batch verification, L-BFGS): the same numbers as the two kernels."""
    m = moments_of(p)
    theta = ref.flat(p.weights)
    w = np.asarray(p.widths, dtype=np.int64)
    g = np.empty_like(theta)
    value = kd.loss_gradient(theta, w, m.sxx, m.syx, m.trace_syy, p.residual, p.mu, g)
    expected = ref.loss_moments(p.weights, m.sxx, m.syx, m.syy, p.residual, p.mu)
    assert_close(value, expected, loss_term_scale(p.weights, m, p.residual, p.mu), what="loss")
    g2 = np.empty_like(theta)
    kd.gradient(theta, w, m.sxx, m.syx, p.residual, p.mu, g2)
    assert np.array_equal(g, g2)
