"""Weight decay, two layers, whitened inputs (docs/theory.md), and the deep whitened minimum.

References: losses from tests/reference.py (with mu), Hessians from the Kronecker
reference, global minima by scipy L-BFGS from several seeded starts.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import reference as ref
import scipy.optimize

import fastscape
from fastscape import theory


def _whitened(dx, dy, seed, svals=None):
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((dy, dy)))
    V, _ = np.linalg.qr(rng.standard_normal((dx, dx)))
    r = min(dx, dy)
    s = np.sort(rng.uniform(0.1, 3.0, r))[::-1] if svals is None else np.asarray(svals)
    syx = U[:, :r] @ np.diag(s) @ V[:, :r].T
    return fastscape.Moments(np.eye(dx), syx, syx @ syx.T + 0.3 * np.eye(dy)), s


def _lbfgs(m, widths, mu, starts=6):
    def fg(th):
        ws = ref.split(th, widths)
        return (
            ref.loss_moments(ws, m.sxx, m.syx, m.syy, mu=mu),
            ref.gradient(ws, m.sxx, m.syx, mu=mu),
        )

    n = sum(widths[k] * widths[k + 1] for k in range(len(widths) - 1))
    return min(
        scipy.optimize.minimize(
            fg,
            np.random.default_rng(s).standard_normal(n),
            jac=True,
            method="L-BFGS-B",
            options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 10000},
        ).fun
        for s in range(starts)
    )


@pytest.mark.slow
@pytest.mark.parametrize("dx, p, dy, mu", [(4, 2, 3, 0.8), (3, 3, 4, 0.5), (5, 1, 5, 1.2)])
def test_closed_form_points_losses_indices_nullities(dx, p, dy, mu):
    m, s = _whitened(dx, dy, seed=dx * 10 + dy, svals=None)
    cps = fastscape.critical_points(m, [dx, p, dy], weight_decay=mu)
    assert cps.disagreements == ()
    above = [i for i in range(len(s)) if s[i] > mu]
    expected = [t for k in range(min(p, len(above)) + 1) for t in itertools.combinations(above, k)]
    assert sorted(cps.index_sets) == sorted(expected)
    for i, S in enumerate(cps.index_sets):
        ws = cps.weights(i)
        g = ref.gradient(ws, m.sxx, m.syx, mu=mu)
        assert np.linalg.norm(g) <= 1e-10 * (1 + s[0]) ** 2
        f = ref.loss_moments(ws, m.sxx, m.syx, m.syy, mu=mu)
        assert f == pytest.approx(0.5 * (np.trace(m.syy) - sum((s[j] - mu) ** 2 for j in S)))
        h = ref.hessian(ws, m.sxx, m.syx, mu=mu)
        ev = np.linalg.eigvalsh((h + h.T) / 2)
        tol = 1e-8 * np.abs(ev).max()
        k = len(S)
        index = sum(1 for a in range(len(s)) if a not in S for b in S if s[a] > s[b])
        index += (p - k) * sum(1 for a in range(len(s)) if a not in S and s[a] > mu)
        assert int(np.sum(ev < -tol)) == index == cps.morse_index[i]
        null = k * (k - 1) // 2 + k * (p - k)
        assert int(np.sum(np.abs(ev) <= tol)) == null == cps.nullity[i]
    best = _lbfgs(m, [dx, p, dy], mu)
    assert abs(cps.global_min_loss - best) <= 1e-8 * np.trace(m.syy)
    assert list(cps.kind).count("global_min") == 1
    gi = int(np.flatnonzero(cps.kind == "global_min")[0])
    assert cps.index_sets[gi] == tuple(above[: min(p, len(above))])


def test_orthogonal_family_keeps_loss_and_inertia():
    m, s = _whitened(4, 4, seed=3, svals=[2.5, 1.8, 1.1, 0.2])
    a = fastscape.critical_points(m, [4, 3, 4], weight_decay=0.5)
    b = fastscape.critical_points(m, [4, 3, 4], weight_decay=0.5, gauge="random", seed=2)
    assert np.allclose(a.loss, b.loss, atol=1e-12 * np.trace(m.syy))
    assert np.array_equal(a.morse_index, b.morse_index)
    assert np.array_equal(a.nullity, b.nullity) and b.disagreements == ()
    i = a.index_sets.index((0, 1, 2))
    assert a.nullity[i] == 3  # O(3): dim 3, the GL(3) flatness (9) is gone


def test_non_whitened_is_refused_with_reason():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3)) * [1.0, 2.0, 3.0]
    m = fastscape.Moments.from_data(X, X @ rng.standard_normal((3, 2)))
    with pytest.raises(ValueError, match="whiten"):
        fastscape.critical_points(m, [3, 1, 2], weight_decay=0.1)
    with pytest.raises(ValueError, match="Sxx = I"):
        theory.weight_decay_critical_point(m, 1, [0], 0.1)
    # classify still works there
    c = fastscape.classify([np.zeros((1, 3)), np.zeros((2, 1))], m, weight_decay=0.1)
    # at W = 0 the Hessian is [[mu I, -Syx^T], [-Syx, mu I]] per hidden unit (p = 1): its
    # eigenvalues are mu +- sigma_i(Syx) and mu, so the index is #{sigma_i > mu}
    sv = np.linalg.svd(m.syx, compute_uv=False)
    assert c.morse_index == int(np.sum(sv > 0.1)) and c.nullity == 0
    assert c.kind == ("strict_saddle" if sv[0] > 0.1 else "local_min")


def test_singular_value_at_threshold_warns():
    m, _ = _whitened(3, 3, seed=4, svals=[2.0, 1.0, 0.5])
    with pytest.warns(fastscape.TiedEigenvaluesWarning, match="equal weight_decay"):
        fastscape.critical_points(m, [3, 2, 3], weight_decay=1.0, verify=False)


@pytest.mark.slow
def test_deep_whitened_global_min_matches_numerical_descent():
    m, s = _whitened(3, 3, seed=5, svals=[2.0, 1.2, 0.6])
    for depth, mu in [(3, 0.1), (3, 0.3), (2, 0.4)]:
        widths = [3] + [2] * (depth - 1) + [3]
        value = fastscape.global_min_loss(m, widths, weight_decay=mu)
        assert abs(value - _lbfgs(m, widths, mu, starts=8)) <= 1e-7 * np.trace(m.syy)
        if depth == 2:
            assert value == pytest.approx(
                theory.weight_decay_global_min_loss(s, 2, mu, np.trace(m.syy))
            )
