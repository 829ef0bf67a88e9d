"""Residual networks (Hardt and Ma 2016): Theorem 2 built, Theorem 1 tested."""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
import scipy.linalg

import fastscape


def _target(d, seed, scale=0.5):
    """A random R with det R > 0 and no negative real eigenvalue: expm of a random matrix."""
    rng = np.random.default_rng(seed)
    return scipy.linalg.expm(rng.standard_normal((d, d)) * scale)


@pytest.mark.parametrize("d", [1, 2, 4])
def test_theorem2_global_min_with_norm_order_one_over_depth(d):
    R = _target(d, d)
    m = fastscape.residual_moments(R, noise=0.2)
    log_norm = np.linalg.norm(scipy.linalg.logm(R).real, 2)
    scaled = []
    for depth in [2, 3, 4, 8, 16, 32, 64]:
        ws = fastscape.residual_global_min(R, depth)
        assert len(ws) == depth
        assert np.allclose(ref.product(ws, residual=True), R, atol=1e-10 * depth)
        # critical for y = R x + noise: the plain-numpy gradient vanishes
        g = ref.gradient(ws, m.sxx, m.syx, residual=True)
        assert np.abs(g).max() <= 1e-9 * depth
        norm = max(np.linalg.norm(w, 2) for w in ws)
        assert norm <= np.expm1(log_norm / depth) * (1 + 1e-9)
        scaled.append(depth * norm)
    # H * max_k |W_k| stays bounded (H (e^(x/H) - 1) <= e^x - 1) and tends to |log R|_2:
    # the norm bound shrinks like 1/H
    assert max(scaled) <= np.expm1(log_norm) * (1 + 1e-9)
    assert scaled[-1] == pytest.approx(log_norm, rel=log_norm / 64 + 1e-9)


def test_theorem2_point_classifies_as_global_min():
    R = _target(2, 7)
    m = fastscape.residual_moments(R, noise=0.3)
    for depth in (3, 6):
        c = fastscape.classify(fastscape.residual_global_min(R, depth), m, residual=True)
        assert c.kind == "global_min"
        assert c.loss == pytest.approx(0.5 * 0.3**2 * 2, rel=1e-9)


@pytest.mark.parametrize(
    ("R", "match"),
    [
        (np.diag([1.0, -2.0]), "det"),
        (np.diag([1.0, 0.0]), "det"),
        (np.diag([-1.0, -2.0]), "negative real eigenvalue"),
        (np.ones((2, 3)), "square"),
    ],
)
def test_no_real_root_is_a_clear_error(R, match):
    with pytest.raises(ValueError, match=match):
        fastscape.residual_global_min(R, 4)


def test_bad_depth():
    with pytest.raises(ValueError, match="depth"):
        fastscape.residual_global_min(np.eye(2), 0)


@pytest.mark.slow
@pytest.mark.parametrize(("d", "depth"), [(2, 3), (3, 2)])
def test_theorem1_critical_points_in_the_ball_are_global(d, depth):
    """Minimise |grad|^2 from small and larger starts: critical points of every kind turn up;
    those inside max_k |W_k|_2 <= tau are all global minima, the saddles all lie outside."""
    R = _target(d, 10 + d, scale=0.25)
    m = fastscape.residual_moments(R, noise=0.1)
    tau = 0.9
    # a global minimum inside the ball exists (Theorem 2's point), so starts near 0 find one
    assert max(np.linalg.norm(w, 2) for w in fastscape.residual_global_min(R, depth)) < tau
    small = fastscape.hardt_ma_experiment(m, depth, tau=tau, starts=3, start_norm=0.2, seed=1)
    large = fastscape.hardt_ma_experiment(m, depth, tau=tau, starts=3, start_norm=1.5, seed=2)
    found = 0
    for res in (small, large):
        assert res.all_inside_global
        for kind, norm, g in zip(res.kinds, res.max_norms, res.grad_norms, strict=True):
            if g <= 1e-8:  # a critical point
                found += 1
                if kind != "global_min":
                    assert norm > tau  # Theorem 1: no other critical point in the ball
        assert res.inside.sum() == sum(
            1
            for g, n in zip(res.grad_norms, res.max_norms, strict=True)
            if g <= 1e-9 * max(1.0, np.linalg.norm(m.syx)) and n <= tau
        )
    assert found >= 4
    assert small.inside.any()


def test_hardt_ma_tol_is_the_deprecated_grad_rtol():
    m = fastscape.residual_moments(np.array([[1.3, 0.2], [-0.1, 0.9]]))
    new = fastscape.hardt_ma_experiment(m, 2, starts=2, grad_rtol=1e-8)
    with pytest.warns(DeprecationWarning, match="grad_rtol="):
        old = fastscape.hardt_ma_experiment(m, 2, starts=2, tol=1e-8)
    assert np.array_equal(old.inside, new.inside)
    assert np.array_equal(old.grad_norms, new.grad_norms)
    with pytest.raises(ValueError, match="grad_rtol must be a relative tolerance"):
        fastscape.hardt_ma_experiment(m, 2, starts=1, grad_rtol=2.0)
