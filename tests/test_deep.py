"""Deep critical points (H >= 3): tight and loose representatives, verified and classified.

References are independent: Sigma's spectrum by numpy.linalg.eigh of Syx Sxx^-1 Syx^T,
gradients and products from tests/reference.py, ranks by numpy.linalg.matrix_rank.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import reference as ref

import fastscape
from fastscape.deep import deep_critical_points


def _moments(dx, dy, seed, n=30):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dx)) * np.linspace(1.0, 2.0, dx)
    Y = X @ rng.standard_normal((dx, dy)) + 0.4 * rng.standard_normal((n, dy))
    return fastscape.Moments.from_data(X, Y), X, Y


def _sigma_spectrum(m):
    sigma = m.syx @ np.linalg.solve(m.sxx, m.syx.T)
    vals = np.linalg.eigvalsh((sigma + sigma.T) / 2)[::-1]
    return vals[vals > 1e-9 * vals[0]]


def _expected_kind(s, r, p, q, rep):
    """The deep-network laws (docs/theory.md), from S and the representative alone."""
    top = tuple(range(min(p, q)))
    if s == top:
        return "global_min"
    if s != tuple(range(r)):
        return "strict_saddle"
    return "non_strict_saddle" if rep == "tight" else "strict_saddle"


@pytest.mark.parametrize(
    "widths",
    [
        (3, 3, 3, 3),
        (4, 3, 2, 4),
        (3, 4, 4, 2),
        (2, 3, 3, 3, 2),
        (4, 2, 3, 3, 4),
        (3, 3, 3, 3, 3, 3),
    ],
)
def test_every_index_set_tight_and_loose(widths):
    m, X, Y = _moments(widths[0], widths[-1], seed=sum(widths))
    lam = _sigma_spectrum(m)
    q, p, depth = lam.size, min(widths), len(widths) - 1
    cps = fastscape.critical_points(m, list(widths))  # delegates to deep_critical_points
    expected_rows = [
        (s, rep)
        for k in range(min(p, q) + 1)
        for s in itertools.combinations(range(q), k)
        for rep in ("tight", "loose")
        if rep == "tight" or k < p
    ]
    assert [(cps.index_sets[i], cps.representative[i]) for i in range(len(cps))] == expected_rows
    assert cps.disagreements == ()
    for i, (s, rep) in enumerate(expected_rows):
        ws = cps.weights(i)
        r = len(s)
        # critical: plain-numpy gradient vanishes; the loss is the closed form
        g = ref.gradient(ws, m.sxx, m.syx)
        assert np.abs(g).max() <= 1e-9 * max(1.0, np.abs(m.syx).max())
        value = 0.5 * (np.trace(m.syy) - lam[list(s)].sum())
        assert ref.loss_data(ws, X, Y) == pytest.approx(value, rel=1e-9, abs=1e-12)
        assert cps.loss[i] == pytest.approx(value, rel=1e-9, abs=1e-12)
        assert cps.predicted_loss[i] == pytest.approx(value, rel=1e-12, abs=1e-12)
        assert cps.kind[i] == _expected_kind(s, r, p, q, rep)
        # observed index law: inv(S) + (q - r)(m - r), m = rank of W_(H-1)...W_2
        inv = sum(1 for a in range(q) for b in s if a not in s and lam[a] > lam[b])
        middle = r if rep == "tight" else min(widths[1:-1])
        assert cps.morse_index[i] == inv + (q - r) * (middle - r) == cps.predicted_morse_index[i]
        # ranks: tight -> every partial product has rank r; loose -> middle layers full
        ranks = [np.linalg.matrix_rank(w, tol=1e-9) for w in ws]
        if rep == "tight":
            for a, b in itertools.combinations(range(depth + 1), 2):
                assert np.linalg.matrix_rank(ref.product(ws[a:b]), tol=1e-9) == r
        else:
            assert ranks[1:-1] == [min(widths[k], widths[k - 1]) for k in range(2, depth)]
        # the product is U_S U_S^T Syx Sxx^-1 whatever the representative
        vals, vecs = np.linalg.eigh(m.syx @ np.linalg.solve(m.sxx, m.syx.T))
        order = np.argsort(vals)[::-1]
        us = vecs[:, order[list(s)]]
        target = us @ us.T @ m.syx @ np.linalg.inv(m.sxx)
        assert np.allclose(ref.product(ws), target, atol=1e-9)
    kinds = list(cps.kind)
    assert kinds.count("global_min") == 1  # unique up to symmetry: one representative


def test_random_gauge_keeps_losses_and_kinds():
    m, _, _ = _moments(3, 3, seed=5)
    base = deep_critical_points(m, [3, 3, 2, 3, 3])
    moved = deep_critical_points(m, [3, 3, 2, 3, 3], gauge="random", seed=1)
    assert list(base.kind) == list(moved.kind)
    assert np.allclose(base.loss, moved.loss, rtol=1e-9, atol=1e-12)
    assert moved.disagreements == ()
    assert not np.allclose(base.weights(3)[1], moved.weights(3)[1])


def test_options_ranks_index_sets_and_no_verify():
    m, _, _ = _moments(3, 3, seed=2)
    full = deep_critical_points(m, [3, 2, 2, 3], ranks="full")
    assert set(full.index_sets) == set(itertools.combinations(range(3), 2))
    assert set(full.representative) == {"tight"}
    one = deep_critical_points(m, [3, 2, 2, 3], index_sets=[(1,)], representatives=("loose",))
    assert one.index_sets == ((1,),) and one.kind[0] == "strict_saddle"
    quick = deep_critical_points(m, [3, 2, 2, 3], verify=False)
    checked = deep_critical_points(m, [3, 2, 2, 3])
    assert list(quick.kind) == list(checked.kind)
    assert np.all(np.isnan(quick.grad_norm))
    assert np.array_equal(quick.predicted_morse_index, checked.morse_index)
    assert np.all(quick.morse_index == -1) and np.all(quick.predicted_nullity == -1)


def test_rank_deficient_sigma():
    """q < p: only q directions can be used; |S| = q is already the global minimum."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 3))
    Y = np.outer(X @ rng.standard_normal(3), rng.standard_normal(3))  # rank-1 Syx
    m = fastscape.Moments.from_data(X, Y)
    cps = deep_critical_points(m, [3, 2, 2, 3])
    assert {s for s in cps.index_sets} == {(), (0,)}
    assert cps.disagreements == ()
    # r = q < p: the loose point of S = (0,) is global too (nothing left to gain)
    kinds = {
        (s, r): k for s, r, k in zip(cps.index_sets, cps.representative, cps.kind, strict=True)
    }
    assert kinds == {
        ((), "tight"): "non_strict_saddle",
        ((), "loose"): "strict_saddle",
        ((0,), "tight"): "global_min",
        ((0,), "loose"): "global_min",
    }


def test_errors_are_clear():
    m, _, _ = _moments(2, 2, seed=0)
    with pytest.raises(ValueError, match="weight_decay"):
        deep_critical_points(m, [2, 2, 2, 2], weight_decay=0.1)
    with pytest.raises(ValueError, match="dx = 2"):
        deep_critical_points(m, [3, 2, 2, 2])
    with pytest.raises(ValueError, match="representative"):
        deep_critical_points(m, [2, 2, 2, 2], representatives=("wide",))
    with pytest.raises(ValueError, match="bottleneck"):
        fastscape.deep_point(m, [2, 1, 2, 2], [0, 1])
    with pytest.raises(ValueError, match="distinct 0-based positions"):
        fastscape.deep_point(m, [2, 2, 2, 2], [5])
    with pytest.raises(TypeError, match="Moments"):
        fastscape.deep_point(np.eye(2), [2, 2, 2, 2], [0])
