"""classify at points of any depth: the kind rule, residual form, scale invariance.

References: gradients/Hessians from tests/reference.py, least squares and ridge
solutions from numpy on raw data, minima by scipy L-BFGS.
"""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
import scipy.optimize

import fastscape


def _data(dx, dy, seed, n=40):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dx)) * rng.uniform(0.6, 1.6, dx)
    Y = X @ rng.standard_normal((dx, dy)) + 0.5 * rng.standard_normal((n, dy))
    return fastscape.Moments.from_data(X, Y), X, Y


def _top(m, r):
    sig = m.syx @ np.linalg.solve(m.sxx, m.syx.T)
    vals, vecs = np.linalg.eigh((sig + sig.T) / 2)
    return vecs[:, ::-1][:, :r]


def test_deep_zero_is_a_non_strict_saddle():
    m, _, _ = _data(3, 3, 0)
    ws = [np.zeros((2, 3)), np.zeros((2, 2)), np.zeros((3, 2))]
    c = fastscape.classify(ws, m)
    assert c.kind == "non_strict_saddle"
    assert c.grad_norm == 0.0 and c.morse_index == 0 and c.nullity == 6 + 4 + 6
    assert c.loss > c.global_min_loss
    # two layers: W = 0 is a strict saddle (every two-layer saddle is strict)
    c2 = fastscape.classify([np.zeros((2, 3)), np.zeros((3, 2))], m)
    assert c2.kind == "strict_saddle" and c2.min_eigenvalue < 0


def test_theory5_example_depends_on_partial_product_ranks():
    m, _, _ = _data(4, 4, 1)
    ls = np.linalg.solve(m.sxx, m.syx.T).T
    u = _top(m, 1)
    w1 = np.zeros((3, 4))
    w1[0] = u[:, 0] @ ls
    w3 = np.zeros((4, 3))
    w3[:, 0] = u[:, 0]
    rank_one = np.diag([1.0, 0.0, 0.0])
    c1 = fastscape.classify([w1, rank_one, w3], m)
    h = ref.hessian([w1, rank_one, w3], m.sxx, m.syx)
    ev = np.linalg.eigvalsh((h + h.T) / 2)
    assert ev[0] >= -1e-8 * np.abs(ev).max()  # reference: PSD
    assert c1.kind == "non_strict_saddle" and c1.morse_index == 0
    c2 = fastscape.classify([w1, np.eye(3), w3], m)
    assert c2.kind == "strict_saddle" and c2.morse_index > 0
    top = _top(m, 3)  # S = {1, 2, 3} at depth 3: the global minimum
    g = fastscape.classify([top.T @ ls, np.eye(3), top], m)
    assert g.kind == "global_min"
    assert g.global_min_loss == pytest.approx(
        0.5 * (np.trace(m.syy) - np.trace(top.T @ m.syx @ ls.T @ top)), rel=1e-12
    )


def test_not_critical_and_global_min_two_layers():
    m, X, Y = _data(4, 3, 2)
    ls = np.linalg.lstsq(X, Y, rcond=None)[0].T
    u = _top(m, 2)
    c = fastscape.classify([u.T @ ls, u], m)
    assert c.kind == "global_min" and c.morse_index == 0 and c.nullity == 4
    rnd = fastscape.random_weights([4, 2, 3], seed=1)
    assert fastscape.classify(rnd, m).kind == "not_critical"


def test_residual_global_value_is_least_squares():
    m, X, Y = _data(3, 3, 3)
    ls = np.linalg.lstsq(X, Y, rcond=None)[0].T
    lsq = 0.5 * np.mean(np.sum((Y - X @ ls.T) ** 2, axis=1))
    c = fastscape.classify([ls - np.eye(3), np.zeros((3, 3))], m, residual=True)
    assert c.kind == "global_min" and c.global_min_loss == pytest.approx(lsq, rel=1e-10)
    assert fastscape.global_min_loss(m, [3, 3, 3], residual=True) == pytest.approx(lsq)
    one = fastscape.classify([ls - np.eye(3)], m, residual=True)
    assert one.kind == "global_min" and one.nullity == 0
    assert fastscape.classify([np.zeros((3, 3))] * 2, m, residual=True).kind == "not_critical"


def test_weight_decay_single_layer_is_ridge():
    m, X, Y = _data(4, 2, 4)
    mu = 0.3
    ridge = np.linalg.solve(X.T @ X / len(X) + mu * np.eye(4), X.T @ Y / len(X)).T
    c = fastscape.classify([ridge], m, weight_decay=mu)
    assert c.kind == "global_min" and c.nullity == 0
    assert c.global_min_loss == pytest.approx(ref.loss_data([ridge], X, Y, mu=mu), rel=1e-10)
    assert fastscape.classify([ridge * 1.01], m, weight_decay=mu).kind == "not_critical"


def test_weight_decay_deep_zero_is_a_spurious_local_min():
    rng = np.random.default_rng(5)
    syx = np.diag([2.0, 1.5, 0.5])
    m = fastscape.Moments(np.eye(3), syx, syx @ syx.T + 0.1 * np.eye(3))
    ws = [np.zeros((3, 3))] * 3
    c = fastscape.classify(ws, m, weight_decay=0.2)
    assert c.kind == "local_min" and c.nullity == 0
    assert c.min_eigenvalue == pytest.approx(0.2) and c.loss > c.global_min_loss
    del rng


def test_weight_decay_non_whitened_numerical_minimum():
    m, X, Y = _data(3, 3, 6)
    mu = 0.2

    def fg(th):
        ws = ref.split(th, [3, 2, 3])
        return (
            ref.loss_moments(ws, m.sxx, m.syx, m.syy, mu=mu),
            ref.gradient(ws, m.sxx, m.syx, mu=mu),
        )

    best = None
    for s in range(4):
        x0 = np.random.default_rng(s).standard_normal(12)
        r = scipy.optimize.minimize(
            fg, x0, jac=True, method="L-BFGS-B", options={"gtol": 1e-13, "ftol": 1e-16}
        )
        best = r if best is None or r.fun < best.fun else best
    c = fastscape.classify(ref.split(best.x, [3, 2, 3]), m, weight_decay=mu, tol=1e-6)
    assert c.kind == "global_min"
    assert abs(c.global_min_loss - best.fun) <= 1e-8 * np.trace(m.syy)
    z = fastscape.classify([np.zeros((2, 3)), np.zeros((3, 2))], m, weight_decay=mu)
    assert z.kind == "strict_saddle"


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e4])
def test_classification_is_scale_invariant(scale):
    m, X, Y = _data(4, 3, 7)
    ms = fastscape.Moments.from_data(X * scale, Y * scale)
    a = fastscape.critical_points(m, [4, 2, 3])
    b = fastscape.critical_points(ms, [4, 2, 3])
    assert np.array_equal(a.kind, b.kind)
    assert np.array_equal(a.morse_index, b.morse_index)
    assert np.array_equal(a.nullity, b.nullity) and b.disagreements == ()
    assert np.allclose(b.loss, a.loss * scale**2, rtol=1e-9)


def test_classify_result_and_errors():
    m, _, _ = _data(3, 2, 8)
    c = fastscape.classify(fastscape.random_weights([3, 2], seed=0), m)
    assert isinstance(c.tol, fastscape.Tolerances) and c.tol.grad > 0 and c.tol.loss > 0
    with pytest.raises(ValueError, match="dx = 3"):
        fastscape.classify([np.zeros((2, 4))], m)
    with pytest.raises(TypeError, match="Moments"):
        fastscape.classify([np.zeros((2, 3))], "data")
    with pytest.raises(ValueError, match="weight_decay"):
        fastscape.classify([np.zeros((2, 3))], m, weight_decay=-1.0)


def test_residual_weight_decay_uses_the_numerical_minimum():
    m, X, Y = _data(3, 3, 9)
    mu = 0.4
    # f(W) = l(I + W) + mu/2 |W|^2 is convex: its minimiser solves a linear system
    W = np.linalg.solve(m.sxx + mu * np.eye(3), (m.syx - m.sxx).T).T
    c = fastscape.classify([W], m, residual=True, weight_decay=mu)
    assert c.kind == "global_min"
    exact = 0.5 * np.mean(np.sum((Y - X @ (np.eye(3) + W).T) ** 2, axis=1)) + 0.5 * mu * np.sum(
        W * W
    )
    assert c.global_min_loss == pytest.approx(exact, rel=1e-9)
