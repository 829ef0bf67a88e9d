"""Known landmarks of the deep linear landscape (docs/theory.md) as tests.

References: tests/reference.py (plain-numpy loss, gradient, Hessian), numpy.linalg.eigh
for Sigma's spectrum, scipy L-BFGS on the plain-numpy loss for minima.
"""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

import fastscape


def _data(dx, dy, seed, n=40, white=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dx)) * np.linspace(1.0, 2.0, dx)
    Y = X @ rng.standard_normal((dx, dy)) + 0.4 * rng.standard_normal((n, dy))
    if white:  # exactly whitened inputs: X^T X / n = I
        q, _ = np.linalg.qr(X - 0.0)
        X = q * np.sqrt(n)
        Y = X @ rng.standard_normal((dx, dy)) + 0.4 * rng.standard_normal((n, dy))
    return X, Y, fastscape.Moments.from_data(X, Y)


def _lams(m):
    s = m.syx @ np.linalg.solve(m.sxx, m.syx.T)
    return np.sort(np.linalg.eigvalsh((s + s.T) / 2))[::-1]


@pytest.mark.parametrize("widths", [(3, 3, 3, 3), (2, 4, 1, 3, 2), (3, 2, 2, 2, 2, 3)])
def test_zero_is_kawaguchis_bad_saddle(widths):
    X, Y, m = _data(widths[0], widths[-1], 1)
    zero = [np.zeros((widths[k + 1], widths[k])) for k in range(len(widths) - 1)]
    assert np.all(ref.gradient(zero, m.sxx, m.syx) == 0.0)
    assert np.all(fastscape.hessian(zero, m) == 0.0)  # identically zero, not just PSD
    assert np.abs(ref.hessian(zero, m.sxx, m.syx)).max() <= 1e-12
    c = fastscape.classify(zero, m)
    assert c.kind == "non_strict_saddle"
    assert c.loss == pytest.approx(0.5 * np.trace(m.syy)) and c.loss > c.global_min_loss
    # ... and not a minimum: along W_k = t a_k b_k^T the loss drops like -t^H
    u, _, vt = np.linalg.svd(m.syx)
    path = []
    for k in range(len(zero)):
        a = np.zeros(widths[k + 1])
        b = np.zeros(widths[k])
        a[0] = b[0] = 1.0
        if k == 0:
            b = vt[0]
        if k == len(zero) - 1:
            a = u[:, 0]
        path.append(np.outer(a, b))
    for t in (1e-1, 1e-2):
        assert ref.loss_data([t * w for w in path], X, Y) < ref.loss_data(zero, X, Y)


@pytest.mark.parametrize("widths", [(3, 2, 3), (4, 2, 3), (2, 3, 2), (3, 1, 4), (4, 3, 4)])
def test_two_layers_every_saddle_is_strict(widths):
    _, _, m = _data(widths[0], widths[-1], 2)
    cps = fastscape.critical_points(m, list(widths))
    zero = [np.zeros((widths[1], widths[0])), np.zeros((widths[2], widths[1]))]
    points = [cps.weights(i) for i in range(len(cps))] + [zero]
    gmin = 0.5 * (np.trace(m.syy) - _lams(m)[: min(widths)].sum())
    for ws in points:
        h = ref.hessian(ws, m.sxx, m.syx)
        low = np.linalg.eigvalsh(h).min()
        if ref.loss_moments(ws, m.sxx, m.syx, m.syy) > gmin + 1e-9 * np.trace(m.syy):
            assert low < -1e-6 * np.abs(h).max()  # every saddle strict
        else:
            assert low > -1e-9 * np.abs(h).max()


@settings(max_examples=25)
@given(
    depth=st.integers(3, 5),
    widths=st.lists(st.integers(1, 4), min_size=6, max_size=6),
    data=st.data(),
)
def test_critical_values_are_the_closed_form(depth, widths, data):
    w = widths[: depth + 1]
    X, Y, m = _data(w[0], w[-1], sum(w))
    lam = _lams(m)
    q = int(np.sum(lam > 1e-9 * lam[0]))
    p = min(w)
    s = data.draw(st.lists(st.integers(0, q - 1), unique=True, max_size=min(p, q)))
    rep = data.draw(st.sampled_from(["tight", "loose"] if len(s) < p else ["tight"]))
    ws = fastscape.deep_point(m, w, s, representative=rep)
    scale = max(1.0, np.abs(m.syx).max())
    assert np.abs(ref.gradient(ws, m.sxx, m.syx)).max() <= 1e-9 * scale
    value = 0.5 * (np.trace(m.syy) - lam[list(s)].sum())
    assert ref.loss_data(ws, X, Y) == pytest.approx(value, rel=1e-9, abs=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("widths", [(3, 3, 3, 3), (3, 2, 4, 3), (2, 3, 3, 3, 2), (4, 3, 2, 2, 3)])
def test_local_minima_from_random_starts_are_global(widths):
    X, Y, m = _data(widths[0], widths[-1], 3)
    gmin = 0.5 * (np.trace(m.syy) - _lams(m)[: min(widths)].sum())
    w = list(widths)

    def fg(theta):
        ws = ref.split(theta, w)
        return ref.loss_moments(ws, m.sxx, m.syx, m.syy), ref.gradient(ws, m.sxx, m.syx)

    for seed in range(4):
        x0 = fastscape.flatten(fastscape.random_weights(w, seed=seed))
        res = scipy.optimize.minimize(
            fg, x0, jac=True, method="L-BFGS-B", options={"maxiter": 20000, "gtol": 1e-11}
        )
        assert res.fun == pytest.approx(gmin, rel=1e-7, abs=1e-9)
        assert fastscape.classify(ref.split(res.x, w), m, tol=1e-6).kind == "global_min"


def _deep_wd_min_1d(sigma, depth, mu):
    """min over t >= 0 of 1/2 (t^H - sigma)^2 + mu H t^2 / 2 - sigma^2 / 2 (<= 0), by grid."""
    t = np.linspace(0.0, 1.5 * max(sigma, 1.0) ** (1.0 / depth), 200001)
    g = 0.5 * (t**depth - sigma) ** 2 + 0.5 * mu * depth * t**2 - 0.5 * sigma**2
    i = int(np.argmin(g))
    res = scipy.optimize.minimize_scalar(
        lambda x: 0.5 * (x**depth - sigma) ** 2 + 0.5 * mu * depth * x**2 - 0.5 * sigma**2,
        bounds=(t[max(i - 1, 0)], t[min(i + 1, t.size - 1)]),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return min(res.fun, 0.0)


@pytest.mark.slow
@pytest.mark.parametrize("depth", [3, 4])
@pytest.mark.parametrize("white", [True, False])
def test_weight_decay_makes_zero_a_spurious_strict_local_minimum(depth, white):
    dx, dy, mu = 3, 3, 0.4
    X, Y, m = _data(dx, dy, 4 + depth, white=white)
    w = [dx] + [2] * (depth - 1) + [dy]
    zero = [np.zeros((w[k + 1], w[k])) for k in range(depth)]
    n = fastscape.num_params(w)
    assert np.array_equal(fastscape.hessian(zero, m, weight_decay=mu), mu * np.eye(n))
    assert np.allclose(ref.hessian(zero, m.sxx, m.syx, mu=mu), mu * np.eye(n), atol=1e-12)
    assert np.all(ref.gradient(zero, m.sxx, m.syx, mu=mu) == 0.0)
    c = fastscape.classify(zero, m, weight_decay=mu)
    assert c.kind == "local_min" and c.morse_index == 0 and c.nullity == 0

    # the global minimum is lower: independent minimisation of the regularised loss
    def fg(theta):
        ws = ref.split(theta, w)
        return (
            ref.loss_moments(ws, m.sxx, m.syx, m.syy, mu=mu),
            ref.gradient(ws, m.sxx, m.syx, mu=mu),
        )

    # starts: random, and balanced layers of the truncated least-squares map (weight decay
    # has spurious minima, W = 0 among them, so random starts alone can get stuck)
    u, sv, vt = np.linalg.svd(np.linalg.solve(m.sxx, m.syx.T).T)
    root = sv[:2] ** (1.0 / depth)
    balanced = [np.zeros((w[k + 1], w[k])) for k in range(depth)]
    balanced[0][:2] = root[:, None] * vt[:2]
    for k in range(1, depth - 1):
        balanced[k][:2, :2] = np.diag(root)
    balanced[-1][:, :2] = u[:, :2] * root
    starts = [fastscape.flatten(balanced)] + [
        fastscape.flatten(fastscape.random_weights(w, seed=s, scale=1.0)) for s in range(3)
    ]
    best = min(
        scipy.optimize.minimize(
            fg, x0, jac=True, method="L-BFGS-B", options={"maxiter": 20000, "gtol": 1e-12}
        ).fun
        for x0 in starts
    )
    assert best < c.loss - 0.05
    assert c.global_min_loss == pytest.approx(best, rel=1e-6, abs=1e-9)
    if white:  # per singular value of Syx: balanced layers, a 1-D problem (docs/theory.md)
        sv = np.linalg.svd(m.syx, compute_uv=False)[: min(w)]
        value = 0.5 * np.trace(m.syy) + sum(_deep_wd_min_1d(s, depth, mu) for s in sv)
        assert best == pytest.approx(value, rel=1e-7, abs=1e-9)
