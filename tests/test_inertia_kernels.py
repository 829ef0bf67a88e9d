"""The inertia kernels: LAPACK tridiagonal reduction, Sturm counts, certified block splitting.

Independent reference: numpy.linalg.eigvalsh of the same matrices (and scipy's
eigvalsh_tridiagonal for tridiagonal ones); no fastscape code on the reference side.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from fastscape.kernels import inertia as ki
from fastscape.kernels.lapack import tridiagonal_workspace, tridiagonalize
from hypothesis import given, settings
from hypothesis import strategies as st

import fastscape
from fastscape.inertia import RTOL, _inertia


def _sym(rng, n, scale=1.0):
    a = rng.standard_normal((n, n)) * scale
    return a + a.T


def _reference(h, rtol, floor=0.0):
    ev = np.linalg.eigvalsh(h)
    tol = max(rtol * np.abs(ev).max(), floor)
    return ev[0], ev[-1], int(np.sum(ev < -tol)), int(np.sum(ev > tol))


def _inertia_of(h, *, blocks=True, decouple=1e-3, rtol=RTOL, floor=0.0):
    h = np.array(h, dtype=float)
    return ki.symmetric_inertia(h, blocks, decouple, rtol, floor, ki.inertia_workspace(len(h)))


@pytest.mark.parametrize("scale", [10.0, 1e200, 1e-200])
@pytest.mark.parametrize("m, lda", [(1, 1), (2, 5), (7, 7), (30, 41), (32, 33), (33, 40), (64, 64)])
def test_tridiagonal_reduction_keeps_the_eigenvalues(m, lda, scale):
    """Small blocks (Householder loop) and big ones (LAPACK), tiny and huge entries."""
    rng = np.random.default_rng(m)
    a = np.full((lda, lda), np.nan)  # only the leading m x m block may be read
    h = _sym(rng, m, scale=scale)
    if m > 3:
        h[2:, 0] = h[0, 2:] = 0.0  # a column that needs no reflection
    a[:m, :m] = h
    iwork = np.empty(5, dtype=np.int32)
    work = np.empty(tridiagonal_workspace(np.empty((lda, lda)), iwork))
    d, e, tau = np.empty(m), np.empty(m), np.empty(m)
    assert tridiagonalize(a, m, d, e, tau, work, iwork) == 0
    ev = scipy.linalg.eigvalsh_tridiagonal(d, e[: m - 1]) if m > 1 else d.copy()
    ref = np.linalg.eigvalsh(h)
    assert np.allclose(ev, ref, rtol=0, atol=1e-13 * np.abs(ref).max() * m)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 2**32 - 1), zeros=st.integers(0, 10))
def test_sturm_counts_and_extremes_match_eigvalsh(n, seed, zeros):
    rng = np.random.default_rng(seed)
    d = rng.standard_normal(n) * rng.uniform(0.1, 100)
    e = rng.standard_normal(n) * rng.uniform(0, 2) * np.abs(d).max()
    e[rng.integers(0, n, zeros)] = 0.0  # splits into independent blocks
    e[n - 1] = 0.0
    t = np.diag(d) + np.diag(e[: n - 1], 1) + np.diag(e[: n - 1], -1)
    ev = np.linalg.eigvalsh(t)
    scale = np.abs(ev).max()
    shifts = np.sort(rng.uniform(ev[0] - 1, ev[-1] + 1, ki.LANES))
    counts = np.empty(ki.LANES, dtype=np.int64)
    pivmin = np.finfo(float).tiny * max(1.0, np.max(e * e))
    ki.counts_below(d, e * e, shifts, pivmin, counts, np.empty(ki.LANES))
    for s, c in zip(shifts, counts, strict=True):
        if np.min(np.abs(ev - s)) > 1e-10 * scale:  # clear of every eigenvalue
            assert c == int(np.sum(ev < s))
    ws = np.empty(n), np.empty(ki.LANES), np.empty(ki.LANES, dtype=np.int64), np.empty(ki.LANES)
    for rtol in (RTOL, 0.3):
        lmin, lmax, neg, pos, ok = ki.tridiagonal_inertia(d, e, rtol, 0.0, 0.0, *ws)
        assert ok
        assert abs(lmin - ev[0]) <= 8 * n * np.finfo(float).eps * scale
        assert abs(lmax - ev[-1]) <= 8 * n * np.finfo(float).eps * scale
        tol = rtol * scale
        if np.min(np.abs(np.abs(ev) - tol)) > 1e-10 * scale:
            assert (neg, pos) == (int(np.sum(ev < -tol)), int(np.sum(ev > tol)))


def test_exact_zeros_and_non_finite_input():
    assert _inertia_of(np.zeros((4, 4)), floor=0.0) == (0.0, 0.0, 0, 0)
    h = np.diag([2.0, 0.0, -1.0])
    lmin, lmax, neg, pos = _inertia_of(h, rtol=1e-12)
    assert (neg, pos) == (1, 1)
    assert lmin == pytest.approx(-1.0, abs=1e-15) and lmax == pytest.approx(2.0, abs=1e-15)
    bad = np.eye(3)
    bad[1, 2] = bad[2, 1] = np.nan
    lmin, lmax, neg, pos = _inertia_of(bad)
    assert np.isnan(lmin) and np.isnan(lmax) and (neg, pos) == (-1, -1)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 9), min_size=1, max_size=6),
    seed=st.integers(0, 2**32 - 1),
    coupling=st.sampled_from([0.0, 1e-17, 1e-12, 1e-6]),
    null=st.integers(0, 3),
)
def test_block_splitting_matches_the_dense_spectrum(sizes, seed, coupling, null):
    """Blocks with round-off couplings, permuted: every mode gives the dense answer."""
    rng = np.random.default_rng(seed)
    blocks = []
    for s in sizes:
        q, _ = np.linalg.qr(rng.standard_normal((s, s)))
        ev = rng.standard_normal(s) * 3
        ev[: min(null, s)] = 0.0  # exact zero eigenvalues: the nullity
        blocks.append(q @ np.diag(ev) @ q.T)
    h = scipy.linalg.block_diag(*blocks)
    n = len(h)
    c = _sym(rng, n) * coupling
    perm = rng.permutation(n)
    h = (h + c)[np.ix_(perm, perm)]
    ref = _reference(h, RTOL)
    scale = max(np.abs(ref[:2]).max(), 1e-300)
    for blk in (True, False):
        for dec in (0.0, 1e-3):
            lmin, lmax, neg, pos = _inertia_of(h.copy(), blocks=blk, decouple=dec)
            assert (neg, pos) == ref[2:]
            assert abs(lmin - ref[0]) <= 1e-12 * scale + 2 * np.abs(c).sum()
            assert abs(lmax - ref[1]) <= 1e-12 * scale + 2 * np.abs(c).sum()


def test_uncertified_split_falls_back_to_the_exact_blocks():
    """A dropped coupling would move an eigenvalue across +tol: the kernel notices.

    h = [[a, c, 0], [c, b, 0], [0, 0, 1]] with rtol = 1e-2, so tol = 1e-2 and the
    coupling c = 1e-6 lies below the drop level 1e-3 * rtol * |h|_F / 3. Alone, a sits
    just above tol; coupled to b it moves by about c^2 / (a - b) ~ -2e-12 to just
    below. Splitting alone would call it positive; the exact answer is "zero".
    """
    rtol, c, b = 1e-2, 1e-6, 0.5
    a = rtol + 1e-13
    h = np.array([[a, c, 0.0], [c, b, 0.0], [0.0, 0.0, 1.0]])
    ev = np.linalg.eigvalsh(h)
    assert ev[0] < rtol < a  # the premise: dense and split answers differ
    ref = _reference(h, rtol)
    assert ref[2:] == (0, 2)
    assert _inertia_of(h, rtol=rtol, decouple=1e-3)[2:] == ref[2:]
    assert _inertia_of(h, rtol=rtol, decouple=0.0)[2:] == ref[2:]
    ws = ki.inertia_workspace(3)
    labels = ws[1]
    drop = 1e-3 * rtol * np.linalg.norm(h) / 3
    assert ki.components(h, drop, labels, ws[2], ws[3], ws[-1]) == 3
    assert ki.coupling_norm(h, labels) == pytest.approx(np.sqrt(2) * c)


def _canonical(seed, dx=7, p=3, dy=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, dx)) * rng.uniform(0.5, 2, dx)
    Y = X @ rng.standard_normal((dx, dy)) + 0.3 * rng.standard_normal((40, dy))
    m = fastscape.Moments.from_data(X, Y)
    cps = fastscape.critical_points(m, [dx, p, dy], verify=False)
    return m, cps, np.array([dx, p, dy])


def test_canonical_hessians_split_per_hidden_unit_in_sigmas_eigenbasis():
    """Two-layer structure: one block of dx + dy per used unit (exact zeros aside)."""
    from fastscape.kernels.derivatives import hessian_serial

    from fastscape.inertia import _rotate_outputs

    m, cps, w = _canonical(1)
    th, syx = _rotate_outputs(cps.thetas, w, m.syx, m.spectrum().vectors)
    n = th.shape[1]
    ws = ki.inertia_workspace(n)
    for i, s in enumerate(cps.index_sets):
        h = np.empty((n, n))
        hessian_serial(th[i], w, m.sxx, syx, False, 0.0, h)
        drop = 1e-3 * RTOL * np.linalg.norm(h) / n
        ncomp = ki.components(h, drop, ws[1], ws[2], ws[3], ws[-1])
        sizes = np.diff(ws[3][: ncomp + 1])
        assert np.sum(sizes == w[0] + w[2]) >= len(s)
        assert sizes.max() <= w[0] + w[2]
        assert ki.coupling_norm(h, ws[1]) <= 1e-12 * np.linalg.norm(h)


@pytest.mark.parametrize("gauge", ["identity", "random"])
def test_verification_in_any_output_basis_agrees(gauge):
    m, _, w = _canonical(2)
    cps = fastscape.critical_points(m, list(w), verify=False, gauge=gauge, seed=0)
    floors = np.zeros(len(cps))
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((w[2], w[2])))
    runs = [
        _inertia(cps.thetas, w, m, False, 0.0, RTOL, floors, 1, basis=b)
        for b in (None, m.spectrum().vectors, q)
    ]
    for r in runs[1:]:
        assert np.allclose(r[0], runs[0][0], rtol=1e-12, atol=1e-12 * m.trace_syy)
        assert np.allclose(r[1], runs[0][1], rtol=0, atol=1e-10 * np.abs(m.syx).max())
        assert np.allclose(r[2], runs[0][2], rtol=0, atol=1e-10 * np.abs(r[2]).max())
        assert np.array_equal(r[3], runs[0][3])


def test_prange_engine_busy_falls_back_to_the_pool():
    from fastscape import inertia

    m, cps, w = _canonical(3)
    floors = np.zeros(len(cps))
    ref = _inertia(cps.thetas, w, m, False, 0.0, RTOL, floors, 2, engine="pool")
    with inertia._PRANGE:  # as if another thread were inside the prange engine
        got = _inertia(cps.thetas, w, m, False, 0.0, RTOL, floors, 2, engine="prange")
    for a, b in zip(ref, got, strict=True):
        assert np.array_equal(a, b)


def test_overflowing_hessian_is_an_error_not_an_answer():
    m = fastscape.Moments(np.eye(2), np.eye(2), np.eye(2))
    ws = [np.full((2, 2), 1e200), np.full((2, 2), 1e200)]
    with pytest.raises(ValueError, match="not finite"):
        fastscape.classify(ws, m)
