"""Seed 002's Facts 4-8 and the p >= d remark, each as a test named after it.

References are independent of fastscape's closed forms: Sigma's spectrum by
numpy.linalg.eigh of Syx Sxx^-1 Syx^T, losses from raw data (tests/reference.py),
gradients and Hessians from the Kronecker-product reference, minima by scipy L-BFGS.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import reference as ref
import scipy.optimize

import fastscape


def _data(dx, dy, seed, n=40, rank=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dx)) * np.linspace(1.0, 1.8, dx)
    M = rng.standard_normal((dx, dy))
    if rank is not None:  # rank-deficient Syx: q = rank < min(dx, dy)
        M = rng.standard_normal((dx, rank)) @ rng.standard_normal((rank, dy))
        return fastscape.Moments.from_data(X, X @ M), X, X @ M
    Y = X @ M + 0.5 * rng.standard_normal((n, dy))
    return fastscape.Moments.from_data(X, Y), X, Y


def _sigma(m):
    sig = m.syx @ np.linalg.solve(m.sxx, m.syx.T)
    vals, vecs = np.linalg.eigh((sig + sig.T) / 2)
    return vals[::-1], vecs[:, ::-1]


def _lbfgs(m, widths, x0):
    """L-BFGS on the reference loss and gradient (no fastscape code) from x0."""

    def fg(th):
        ws = ref.split(th, widths)
        return ref.loss_moments(ws, m.sxx, m.syx, m.syy), ref.gradient(ws, m.sxx, m.syx)

    return scipy.optimize.minimize(
        fg,
        x0,
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 5000},
    )


def _lbfgs_min(m, widths, seeds=3):
    n = sum(widths[k] * widths[k + 1] for k in range(len(widths) - 1))
    starts = [np.random.default_rng(100 + s).standard_normal(n) for s in range(seeds)]
    return min(_lbfgs(m, widths, x0).fun for x0 in starts)


@pytest.mark.slow
def test_fact4_critical_iff_form():
    m, X, Y = _data(4, 3, seed=1)
    widths = [4, 2, 3]
    ls = np.linalg.solve(m.sxx, m.syx.T).T
    lam, U = _sigma(m)
    scale = np.linalg.norm(m.syx) * (1 + np.linalg.norm(ls))
    # "if": every canonical point (A = U_S C, B = C^-1 U_S^T L*) has zero gradient
    cps = fastscape.critical_points(m, widths)
    assert len(cps) == 1 + 3 + 3
    for i in range(len(cps)):
        g = ref.gradient(cps.weights(i), m.sxx, m.syx)
        assert np.linalg.norm(g) <= 1e-12 * scale
        assert cps.kind[i] != "not_critical"
    # "only if": points not of that form are not critical
    rng = np.random.default_rng(0)
    B, A = cps.weights(len(cps) - 3)  # S = (0, 1)
    pert = [B + 1e-3 * rng.standard_normal(B.shape), A]
    assert fastscape.classify(pert, m).kind == "not_critical"
    Q, _ = np.linalg.qr(rng.standard_normal((3, 2)))  # orthonormal, not eigenvectors
    sig = m.syx @ np.linalg.solve(m.sxx, m.syx.T)
    assert np.linalg.norm(Q @ Q.T @ sig - sig @ Q @ Q.T) > 1e-3 * np.linalg.norm(sig)
    not_eig = [Q.T @ ls, Q]  # B = B_hat(A), the optimal B for this A, but A spans no eigenvectors
    assert np.linalg.norm(ref.gradient(not_eig, m.sxx, m.syx)) > 1e-3 * scale
    assert fastscape.classify(not_eig, m).kind == "not_critical"
    mixed = U[:, :2] @ np.array([[1.0, 0.0], [0.0, 1.0]])
    mixed[:, 1] = (U[:, 1] + U[:, 2]) / np.sqrt(2)  # span(u_1, u_2 + u_3): not invariant
    assert fastscape.classify([mixed.T @ ls, mixed], m).kind == "not_critical"
    # and every critical point found by solving grad = 0 from random starts has the form
    # W = P L* with P the projector onto an invariant subspace of Sigma
    found = 0
    for s in range(8):
        x0 = np.random.default_rng(s).standard_normal(14)

        def grad(th):
            return ref.gradient(ref.split(th, widths), m.sxx, m.syx)

        def jac(th):
            return fastscape.hessian(ref.split(th, widths), m)

        r = scipy.optimize.least_squares(grad, x0, jac=jac, xtol=1e-15, ftol=1e-15, gtol=1e-15)
        if np.linalg.norm(r.fun) > 1e-10 * scale:
            continue
        found += 1
        W = ref.product(ref.split(r.x, widths))
        u, sv, _ = np.linalg.svd(W)
        basis = u[:, sv > 1e-8 * sv.max(initial=1.0)]
        P = basis @ basis.T
        assert np.allclose(P @ sig, sig @ P, atol=1e-7 * np.abs(sig).max())
        assert np.allclose(W, P @ ls, atol=1e-7 * np.abs(ls).max())
    assert found >= 4


def test_fact5_loss_formula_and_global_min_is_top_p():
    m, X, Y = _data(5, 4, seed=2)
    lam, _ = _sigma(m)
    cps = fastscape.critical_points(m, [5, 2, 4], ranks="full")
    for i, s in enumerate(cps.index_sets):
        data_loss = ref.loss_data(cps.weights(i), X, Y)
        formula = 0.5 * (np.trace(m.syy) - lam[list(s)].sum())
        assert abs(cps.loss[i] - data_loss) <= 1e-10 * np.trace(m.syy)
        assert abs(formula - data_loss) <= 1e-10 * np.trace(m.syy)
    best = int(np.argmin(cps.loss))
    assert cps.index_sets[best] == (0, 1)
    assert list(cps.kind).count("global_min") == 1 and cps.kind[best] == "global_min"
    numeric = _lbfgs_min(m, [5, 2, 4])
    assert abs(numeric - cps.loss[best]) <= 1e-8 * np.trace(m.syy)
    assert abs(cps.global_min_loss - numeric) <= 1e-8 * np.trace(m.syy)


def test_fact6_count_and_all_others_saddles():
    for dx, p, dy, seed in [(6, 3, 5, 3), (4, 2, 4, 4), (5, 1, 3, 5), (3, 3, 6, 6)]:
        m, _, _ = _data(dx, dy, seed=seed)
        q = min(dx, dy)
        full = fastscape.critical_points(m, [dx, p, dy], ranks="full")
        assert len(full) == math.comb(q, min(p, q))
        assert sorted(set(full.index_sets)) == sorted(itertools.combinations(range(q), min(p, q)))
        every = fastscape.critical_points(m, [dx, p, dy])
        assert len(every) == sum(math.comb(q, k) for k in range(min(p, q) + 1))
        kinds = list(every.kind)
        assert kinds.count("global_min") == 1
        assert kinds.count("strict_saddle") == len(every) - 1
        assert np.all(every.min_eigenvalue[every.kind == "strict_saddle"] < 0)
        assert every.disagreements == ()


@pytest.mark.slow
def test_fact7_no_other_local_minima():
    m, X, Y = _data(4, 4, seed=7)
    cps = fastscape.critical_points(m, [4, 2, 4])
    glob = cps.kind == "global_min"
    assert set(cps.kind) == {"global_min", "strict_saddle"}
    assert np.all(cps.morse_index[~glob] > 0) and np.all(cps.morse_index[glob] == 0)
    # descent from random starts never stops above the global value
    rng = np.random.default_rng(3)
    for _ in range(3):
        r = _lbfgs(m, [4, 2, 4], rng.standard_normal(16) * 2)
        assert abs(r.fun - cps.global_min_loss) <= 1e-7 * np.trace(m.syy)
        assert fastscape.classify(ref.split(r.x, [4, 2, 4]), m, tol=1e-6).kind == "global_min"


def test_fact8_gl_p_family():
    m, _, _ = _data(5, 4, seed=8)
    p = 3
    base = fastscape.critical_points(m, [5, p, 4])
    fam = fastscape.critical_points(m, [5, p, 4], gauge="random", seed=11)
    assert fam.index_sets == base.index_sets and set(fam.representative) == {"random_gauge"}
    assert np.allclose(fam.loss, base.loss, rtol=0, atol=1e-10 * np.trace(m.syy))
    assert np.array_equal(fam.morse_index, base.morse_index)
    assert np.array_equal(fam.nullity, base.nullity)
    assert fam.disagreements == ()
    i = fam.index_sets.index((0, 1, 2))
    assert fam.nullity[i] == p * p and fam.kind[i] == "global_min"
    # our own random invertible C, applied by hand: the product is unchanged
    rng = np.random.default_rng(5)
    B, A = base.weights(i)
    for _ in range(3):
        C = rng.standard_normal((p, p)) + 2 * np.eye(p)
        pt = [np.linalg.solve(C, B), A @ C]
        assert np.allclose(ref.product(pt), ref.product([B, A]), atol=1e-10)
        c = fastscape.classify(pt, m)
        assert (c.kind, c.morse_index, c.nullity) == ("global_min", 0, p * p)


def test_remark_p_ge_d_gives_least_squares():
    for d, p in [(3, 3), (3, 5)]:
        m, X, Y = _data(d, d, seed=9 + p)
        ls, *_ = np.linalg.lstsq(X, Y, rcond=None)  # least squares on raw data, W = ls.T
        cps = fastscape.critical_points(m, [d, p, d], ranks="full")
        i = int(np.flatnonzero(cps.kind == "global_min")[0])
        W = ref.product(cps.weights(i))
        assert np.allclose(W, ls.T, atol=1e-9 * np.abs(ls).max())
        lsq_loss = 0.5 * np.mean(np.sum((Y - X @ ls) ** 2, axis=1))
        assert abs(cps.loss[i] - lsq_loss) <= 1e-10 * np.trace(m.syy)
