"""The rank rule (predict_kind) against the Hessian: sweeps, witnesses, edge cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import reference as ref

import fastscape
from fastscape.deep_sweep import FAMILIES, random_factors, rank_rule_sweep, sweep_moments


@pytest.mark.slow
def test_sweep_depth3_all_widths_up_to_4_all_families():
    """H = 3, every width tuple in {1..4}^4 (256), every index set, all five families."""
    res = rank_rule_sweep((3,), 4, families=FAMILIES, seed=11)
    assert res.disagreements == []
    assert set(res.families) == set(FAMILIES)
    kinds = {h for _, h in res.counts}
    assert kinds == {"global_min", "strict_saddle", "non_strict_saddle"}
    assert res.points > 7000


@pytest.mark.slow
def test_sweep_depth4_all_widths_up_to_3_all_families():
    """H = 4, every width tuple in {1..3}^5 (243), every index set, all five families.

    (H = 4 with widths up to 4, about 29,000 points, runs in /work/notes/deep_sweep_full.py.)
    """
    res = rank_rule_sweep((4,), 3, families=FAMILIES, seed=12)
    assert res.disagreements == []
    assert set(res.families) == set(FAMILIES)
    assert res.points > 5000


def _layer_block_min_eig(ws, m, k, l):
    """Smallest eigenvalue of the plain-numpy Hessian restricted to layers k and l (1-based)."""
    h = ref.hessian(ws, m.sxx, m.syx)
    sizes = [w.size for w in ws]
    off = np.concatenate([[0], np.cumsum(sizes)])
    idx = np.r_[off[k - 1] : off[k], off[l - 1] : off[l]]
    return np.linalg.eigvalsh(h[np.ix_(idx, idx)]).min()


@pytest.mark.parametrize("widths", [(3, 3, 3, 3), (2, 3, 4, 3, 2), (3, 2, 3, 2, 3)])
def test_witness_layers_carry_a_negative_direction(widths):
    """Rule 3's witness (k, l): the Hessian restricted to W_k and W_l is indefinite."""
    rng = np.random.default_rng(0)
    m = sweep_moments(widths[0], widths[-1], 4)
    seen = 0
    for r in range(min(widths)):
        s = tuple(range(r))
        for rep in ("loose", "tight"):
            ws = random_factors(fastscape.deep_point(m, widths, s, representative=rep), rng)
            pred = fastscape.predict_kind(ws, m)
            if pred.witness is None:
                continue
            seen += 1
            k, l = pred.witness
            scale = np.abs(ref.hessian(ws, m.sxx, m.syx)).max()
            assert _layer_block_min_eig(ws, m, k, l) < -1e-6 * scale
    assert seen >= 1


def test_reach_matters_not_only_ranks():
    """dx != dy: extra rank in the residual's null space gives no descent direction.

    W_1 = 0, W_2 = 0 and W_3 with columns orthogonal to the residual G: ranks of the
    products ending at W_3 exceed r = 0, yet the Hessian is PSD. A rank-only test would
    call it strict; the rule's reach condition does not.
    """
    m = sweep_moments(1, 3, 0)
    g = -m.syx  # residual at W = 0
    null = np.linalg.svd(g.T)[2][1:]  # rows y with g^T y = 0
    w3 = np.zeros((3, 2))
    w3[:, 0] = null[0]
    ws = [np.zeros((1, 1)), np.zeros((2, 1)), w3]
    assert fastscape.partial_product_ranks(ws)[2, 3] == 1
    pred = fastscape.predict_kind(ws, m)
    c = fastscape.classify(ws, m)
    assert pred.kind == c.kind == "non_strict_saddle"
    w3[:, 0] = [1.0, 0.0, 0.0]  # now W_3 reaches the residual: strict via layers 1 and 2
    ws = [np.zeros((1, 1)), np.zeros((2, 1)), w3]
    pred = fastscape.predict_kind(ws, m)
    assert pred.kind == fastscape.classify(ws, m).kind == "strict_saddle"
    assert pred.witness == (1, 2)


def test_two_layers_every_saddle_strict_by_rule_and_hessian():
    for dx, p, dy in [(3, 2, 3), (4, 2, 3), (2, 3, 2), (3, 1, 4)]:
        m = sweep_moments(dx, dy, dx * 10 + dy)
        cps = fastscape.critical_points(m, [dx, p, dy])
        for i in range(len(cps)):
            pred = fastscape.predict_kind(cps.weights(i), m)
            assert pred.kind == cps.kind[i]
            assert pred.kind in ("global_min", "strict_saddle")


def test_partial_product_ranks_match_numpy():
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal((3, 4)), np.diag([1.0, 1.0, 0.0]), rng.standard_normal((2, 3))]
    ws[2][:, 2] = 0.0
    table = fastscape.partial_product_ranks(ws)
    widths = [4, 3, 3, 2]
    for i, j in itertools.combinations_with_replacement(range(4), 2):
        want = widths[i] if i == j else np.linalg.matrix_rank(ref.product(ws[i:j]))
        assert table[i, j] == want
    assert np.all(table[np.tril_indices(4, -1)] == -1)


def test_not_critical_and_recovered_set():
    m = sweep_moments(3, 3, 7)
    ws = fastscape.random_weights([3, 3, 3, 3], seed=0)
    assert fastscape.predict_kind(ws, m).kind == "not_critical"
    pt = fastscape.deep_point(m, [3, 3, 3, 3], [0, 2])
    pred = fastscape.predict_kind(pt, m)
    lam = np.sort(np.linalg.eigvalsh(m.syx @ np.linalg.solve(m.sxx, m.syx.T)))[::-1]
    assert pred.index_set == (0, 2) and pred.rank == 2
    assert pred.loss == pytest.approx(0.5 * (np.trace(m.syy) - lam[0] - lam[2]), rel=1e-12)
    assert pred.kind == "strict_saddle" and pred.witness is None


@pytest.mark.slow
def test_scales_beyond_hessian_memory():
    """H = 4, width 160: N = 102,400 parameters (an 84 GB Hessian); the rule still answers."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((240, 160))
    Y = X @ rng.standard_normal((160, 160)) / 13 + rng.standard_normal((240, 160))
    m = fastscape.Moments.from_data(X, Y)
    widths = [160] * 5
    assert fastscape.num_params(widths) == 102_400
    with pytest.raises(MemoryError):
        fastscape.hessian(fastscape.deep_point(m, widths, [0]), m)
    tight = fastscape.predict_kind(fastscape.deep_point(m, widths, range(5)), m)
    loose = fastscape.predict_kind(
        fastscape.deep_point(m, widths, range(5), representative="loose"), m
    )
    assert (tight.kind, loose.kind) == ("non_strict_saddle", "strict_saddle")


def test_tied_eigenvalues_and_depth_one():
    """lambda_1 = lambda_2: S = (1,) is a top set by value (the rule reports (0,))."""
    m = fastscape.Moments(np.eye(3), np.diag([2.0, 2.0, 1.0]), np.eye(3) * 5)
    for s, rep in [((1,), "tight"), ((1,), "loose"), ((1, 2), "tight"), ((2,), "tight")]:
        ws = fastscape.deep_point(m, [3, 3, 2, 3], s, representative=rep)
        pred = fastscape.predict_kind(ws, m)
        assert pred.kind == fastscape.classify(ws, m).kind
        assert pred.loss == pytest.approx(0.5 * (15.0 - sum([4.0, 4.0, 1.0][i] for i in s)))
    with pytest.warns(fastscape.TiedEigenvaluesWarning):
        cps = fastscape.critical_points(m, [3, 3, 2, 3])
    assert cps.disagreements == ()
    assert fastscape.predict_kind([m.least_squares()], m).kind == "global_min"
    assert fastscape.predict_kind([np.zeros((3, 3))], m).kind == "not_critical"


def test_bad_input():
    m = fastscape.Moments(np.eye(2), np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="dx = 2"):
        fastscape.predict_kind([np.zeros((2, 3)), np.zeros((2, 2))], m)
    with pytest.raises(TypeError, match="Moments"):
        fastscape.predict_kind([np.zeros((2, 2))], np.eye(2))
    with pytest.raises(ValueError, match="tol"):
        fastscape.predict_kind([np.zeros((2, 2))], m, tol=-1.0)
