"""Exact trace, diagonal, Frobenius norm, block spectra and the batched HVP vs dense references.

Tolerances scale with the size of the Hessian's entries (|H|_max) and the number of
summed terms; observed errors are ~1e-15 relative, a real bug is O(1).
"""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
import spectra_reference as sref
from conftest import make_problem, problems
from hypothesis import HealthCheck, given, settings

import fastscape

RTOL = 1e-10
spectra_settings = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _setup(p):
    m = fastscape.Moments.from_data(p.X, p.Y)
    H = sref.dense(p.weights, m, p.residual, p.mu)
    return m, H, max(float(np.abs(H).max()), np.finfo(float).tiny)


@spectra_settings
@given(problems(max_depth=4, max_width=6))
def test_trace_diagonal_frobenius_match_dense(p):
    m, H, scale = _setup(p)
    kw = dict(residual=p.residual, weight_decay=p.mu)
    n = H.shape[0]
    assert abs(fastscape.hessian_trace(p.weights, m, **kw) - np.trace(H)) <= RTOL * scale * n
    diag = fastscape.hessian_diagonal(p.weights, m, **kw)
    assert diag.shape == (n,)
    assert np.max(np.abs(diag - np.diag(H))) <= RTOL * scale
    fro = fastscape.hessian_frobenius(p.weights, m, **kw)
    assert abs(fro - np.linalg.norm(H)) <= RTOL * scale * n


def test_frobenius_cross_term_index_order():
    """The cross term is +2 tr(A P B M): flipping its sign or transposing P is caught.

    A point far from critical (large residual part) where the cross term is large,
    so any other index order gives a norm off by O(1).
    """
    p = make_problem([3, 4, 5, 2], n=9, wscale=1.5, seed=3)
    m, H, scale = _setup(p)
    fro = fastscape.hessian_frobenius(p.weights, m)
    assert abs(fro - np.linalg.norm(H)) <= RTOL * scale * H.shape[0]
    # the off-diagonal blocks alone, with the Gauss-Newton part removed, are not zero
    gn, second, _ = ref.hessian(p.weights, m.sxx, m.syx, parts=True)
    cross = np.sum(gn * second)
    assert abs(cross) > 1e-3 * np.linalg.norm(H) ** 2
    wrong = np.sqrt(np.linalg.norm(gn) ** 2 + np.linalg.norm(second) ** 2 - 2 * cross)
    assert abs(wrong - fro) > 1e-3 * fro


@spectra_settings
@given(problems(max_depth=4, max_width=6))
def test_block_spectrum_matches_dense_block(p):
    m, H, scale = _setup(p)
    kw = dict(residual=p.residual, weight_decay=p.mu)
    for layer in range(len(p.weights)):
        s = fastscape.hessian_block_spectrum(p.weights, m, layer, **kw)
        want = np.linalg.eigvalsh(sref.block(H, p.weights, layer))
        assert s.values.shape == want.shape
        assert np.max(np.abs(s.values - want)) <= 1e-9 * scale * want.size
        assert s.output_values.size == p.weights[layer].shape[0]
        assert s.input_values.size == p.weights[layer].shape[1]


@spectra_settings
@given(problems(max_depth=4, max_width=6))
def test_batched_hvp_matches_dense(p):
    m, H, scale = _setup(p)
    rng = np.random.default_rng(0)
    V = rng.standard_normal((H.shape[0], 3))
    kw = dict(residual=p.residual, weight_decay=p.mu)
    HV = fastscape.hvp(p.weights, m, V, **kw)
    assert HV.shape == V.shape
    tol = RTOL * (np.abs(H) @ np.abs(V)).max()
    assert np.max(np.abs(HV - H @ V)) <= tol
    for j in range(3):  # each column equals the 1-D call
        assert np.max(np.abs(fastscape.hvp(p.weights, m, V[:, j], **kw) - HV[:, j])) <= tol
    op = fastscape.HessianOperator(p.weights, m, **kw)
    assert np.max(np.abs(op @ V - HV)) <= tol and op.matvecs == 3


def test_hvp_shape_errors():
    p = make_problem([2, 3, 2])
    m = fastscape.Moments.from_data(p.X, p.Y)
    with pytest.raises(ValueError, match="N = 12"):
        fastscape.hvp(p.weights, m, np.ones((11, 2)))
    with pytest.raises(ValueError, match="NaN or inf"):
        fastscape.hvp(p.weights, m, np.full((12, 2), np.nan))
    with pytest.raises(ValueError, match="shape"):
        fastscape.HessianOperator(p.weights, m) @ np.ones((3, 4))


BAD = [np.array([[np.nan, 1.0]]), np.array([[1.0]])]


@pytest.mark.parametrize(
    "call",
    [
        lambda ws, m: fastscape.hessian_trace(ws, m),
        lambda ws, m: fastscape.hessian_diagonal(ws, m),
        lambda ws, m: fastscape.hessian_frobenius(ws, m),
        lambda ws, m: fastscape.hessian_block_spectrum(ws, m, 0),
        lambda ws, m: fastscape.hessian_eigenvalues(ws, m),
        lambda ws, m: fastscape.hessian_density(ws, m),
    ],
)
def test_non_finite_weights_rejected(call):
    m = fastscape.Moments(np.eye(2), np.ones((1, 2)), np.eye(1))
    with pytest.raises(ValueError, match="NaN or inf.*remove"):
        call(BAD, m)


def test_bad_arguments():
    m = fastscape.Moments(np.eye(2), np.ones((1, 2)), np.eye(1))
    ws = [np.eye(2), np.ones((1, 2))]  # N = 6
    ev = fastscape.hessian_eigenvalues
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        ev(ws, m, k=0)
    with pytest.raises(ValueError, match="k must be < N = 6.*fastscape.hessian"):
        ev(ws, m, k=6)
    with pytest.raises(ValueError, match="which must be one of"):
        ev(ws, m, which="top")
    for tol in (0.0, 1.0, -1e-3, float("nan")):
        with pytest.raises(ValueError, match="tol must lie in .*tol=1e-8"):
            ev(ws, m, tol=tol)
    with pytest.raises(ValueError, match="tol must be a real number"):
        ev(ws, m, tol="small")
    with pytest.raises(ValueError, match="steps must be an integer >= 2"):
        fastscape.hessian_density(ws, m, steps=1)
    with pytest.raises(ValueError, match="probes must be an integer >= 1"):
        fastscape.hessian_density(ws, m, probes=0)
    with pytest.raises(ValueError, match="layer must be a 0-based position"):
        fastscape.hessian_block_spectrum(ws, m, 2)


def test_whitened_moments():
    m = fastscape.whitened_moments([3.0, 1.0, 2.0], 4, 3, seed=2)
    assert np.allclose(m.sxx, np.eye(4)) and np.allclose(m.spectrum().values, [3.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="1 to min"):
        fastscape.whitened_moments([1.0, 1.0, 1.0], 2, 5)
    with pytest.raises(ValueError, match="positive"):
        fastscape.whitened_moments([1.0, -1.0], 2, 5)
