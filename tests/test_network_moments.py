"""Weight lists <-> flat vectors, seeded initialisation, and the data moments."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import derivative_settings, make_problem
from hypothesis import given
from hypothesis import strategies as st

import fastscape

widths_st = st.lists(st.integers(1, 9), min_size=2, max_size=7)


@derivative_settings
@given(widths_st, st.integers(0, 2**31))
def test_flatten_unflatten_round_trip(widths, seed):
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal((widths[k + 1], widths[k])) for k in range(len(widths) - 1)]
    theta = fastscape.flatten(ws)
    n = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    assert theta.shape == (n,) and fastscape.num_params(widths) == n
    assert fastscape.widths_of(ws) == tuple(widths)
    # row-major layer by layer: W_k[a, b] sits at offset_k + a * d_(k-1) + b
    off = 0
    for w in ws:
        for a in range(w.shape[0]):
            for b in range(w.shape[1]):
                assert theta[off + a * w.shape[1] + b] == w[a, b]
        off += w.size
    back = fastscape.unflatten(theta, widths)
    assert len(back) == len(ws)
    for a, b in zip(back, ws, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fastscape.flatten(back), theta)


def test_unflatten_errors():
    with pytest.raises(ValueError, match="theta has length 5"):
        fastscape.unflatten(np.zeros(5), [2, 3])
    with pytest.raises(ValueError, match="at least 1"):
        fastscape.num_params([2, 0, 3])
    with pytest.raises(TypeError, match="widths"):
        fastscape.num_params("23")


def test_random_weights_are_seeded():
    widths = [5, 3, 4, 2]
    a = fastscape.random_weights(widths, seed=7)
    b = fastscape.random_weights(widths, seed=7)
    c = fastscape.random_weights(widths, seed=8)
    d = fastscape.random_weights(widths, seed=np.random.default_rng(7))
    assert [w.shape for w in a] == [(3, 5), (4, 3), (2, 4)]
    for x, y, z, u in zip(a, b, c, d, strict=True):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, u)
        assert not np.array_equal(x, z)
        assert x.dtype == np.float64
    # default scale 1/sqrt(fan-in); an explicit scale overrides it
    big = fastscape.random_weights([400, 300], seed=1)[0]
    assert abs(big.std() * np.sqrt(400) - 1) < 0.02
    s = fastscape.random_weights([400, 300], seed=1, scale=3.0)[0]
    np.testing.assert_allclose(s, big * np.sqrt(400) * 3.0, rtol=1e-14)


@pytest.mark.parametrize("rank", [None, 2])
def test_moments_from_data(rank):
    p = make_problem([5, 3, 4], n=30, rank=rank, scale=7.0, seed=3)
    m = fastscape.Moments.from_data(p.X, p.Y)
    n = p.X.shape[0]
    scale = float(np.abs(p.X).max() * np.abs(p.Y).max() + np.abs(p.X).max() ** 2)
    for got, want in ((m.sxx, p.X.T @ p.X / n), (m.syx, p.Y.T @ p.X / n), (m.syy, p.Y.T @ p.Y / n)):
        assert np.abs(got - want).max() <= 1e-13 * scale
    assert (m.dx, m.dy) == (5, 4)
    assert m.trace_syy == pytest.approx(np.sum(p.Y**2) / n, rel=1e-13)
    with pytest.raises(AttributeError):
        m.sxx = np.eye(5)
    with pytest.raises(ValueError):
        m.sxx[0, 0] = 1.0
    ridge = fastscape.Moments.from_data(p.X, p.Y, ridge=0.5)
    np.testing.assert_allclose(ridge.sxx, m.sxx + 0.5 * np.eye(5), rtol=1e-14, atol=0)


def test_spectrum_and_least_squares():
    p = make_problem([4, 2, 3], n=40, scale=2.0, seed=5)
    m = fastscape.Moments.from_data(p.X, p.Y)
    # numpy reference: least squares by lstsq on the raw data, Sigma from it
    L, *_ = np.linalg.lstsq(p.X, p.Y, rcond=None)
    np.testing.assert_allclose(m.least_squares(), L.T, rtol=1e-9, atol=1e-12)
    sigma = m.syx @ np.linalg.solve(m.sxx, m.syx.T)
    vals, vecs = m.spectrum()
    assert np.all(np.diff(vals) <= 0)
    np.testing.assert_allclose(vals, np.sort(np.linalg.eigvalsh(sigma))[::-1], rtol=1e-10)
    np.testing.assert_allclose(sigma @ vecs, vecs * vals, atol=1e-10 * vals[0])
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(3), atol=1e-12)
    assert m.rank() == 3


def test_rank_deficient_and_singular():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((50, 4))
    Y = X[:, :1] @ rng.standard_normal((1, 3))  # Syx of rank 1
    m = fastscape.Moments.from_data(X, Y)
    assert m.rank() == 1
    Xs = np.c_[X, X[:, 0]]  # collinear columns: Sxx singular
    ms = fastscape.Moments.from_data(Xs, Y)
    with pytest.raises(fastscape.SingularInputError, match="ridge") as info:
        ms.spectrum()
    assert isinstance(info.value, ValueError)
    # the loss and its derivatives do not need Sxx^-1: fine on singular data
    ws = fastscape.random_weights([5, 2, 3], seed=0)
    assert np.isfinite(fastscape.loss(ws, ms))
    assert np.all(np.isfinite(fastscape.hessian(ws, ms)))


def test_rank_tol_is_the_deprecated_atol():
    m = fastscape.Moments(np.eye(2), np.diag([2.0, 1e-3]), np.eye(2))
    assert m.rank() == 2 and m.rank(atol=0.01) == 1
    with pytest.warns(DeprecationWarning, match="pass atol="):
        assert m.rank(0.01) == 1
    with pytest.raises(ValueError, match="atol"):
        m.rank(atol=-1.0)
