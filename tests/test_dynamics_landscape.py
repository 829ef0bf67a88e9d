"""Where runs go: saddle-to-saddle statistics, locate, and the weight-decay trap at W = 0."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.optimize

import fastscape
from fastscape.theory import critical_loss, weight_decay_growth_threshold

S4 = np.array([2.0, 1.0, 0.5, 0.25])
M4 = fastscape.Moments(np.eye(4), np.diag(S4), np.eye(4) * 2)
ORDER = ((), (0,), (0, 1), (0, 1, 2))


def visits(res):
    return [tuple(pl.index_set for pl in run) for run in res.plateaus]


def median_lengths(res):
    out: dict = {}
    for run in res.plateaus:
        for pl in run:
            out.setdefault(pl.index_set, []).append(pl.end_step - pl.start_step)
    return {k: float(np.median(v)) for k, v in out.items()}


def test_two_layer_saddle_to_saddle_statistics():
    """32 runs per eps of a 4-3-4 net: order, plateau losses, log(1/eps) / s lengths."""
    lr, lengths, errors = 0.02, {}, {}
    for eps in (1e-4, 1e-6):
        res = fastscape.gradient_descent_many(
            [4, 3, 4], M4, runs=32, init_scale=eps, seed=1, lr=lr, steps=3000, record_every=5
        )
        seqs = visits(res)
        assert np.mean([s == ORDER for s in seqs]) >= 0.9
        for run in res.plateaus:  # plateau losses sit at the closed-form critical values
            for pl in run:
                assert pl.critical_loss == critical_loss(S4**2, pl.index_set, M4.trace_syy)
        errors[eps] = max(abs(pl.loss - pl.critical_loss) for run in res.plateaus for pl in run)
        lengths[eps] = median_lengths(res)
        gmin = fastscape.global_min_loss(M4, [4, 3, 4])
        assert np.abs(res.final_loss - gmin).max() <= 1e-9 * M4.trace_syy
    # smaller starts: closer passes, smaller plateau-loss errors
    assert errors[1e-6] < errors[1e-4] / 4 and errors[1e-6] < 1e-3 * M4.trace_syy
    # mode i is learned at t_i ~ ln(1/eps) / s_i, so the plateau of S = (0..i-1) grows by
    # (1/s_i - 1/s_(i-1)) / lr steps per unit of ln(1/eps) (1/s_0 for S = ())
    dlog = np.log(1e6) - np.log(1e4)
    for s, rate in [
        ((), 1 / S4[0]),
        ((0,), 1 / S4[1] - 1 / S4[0]),
        ((0, 1), 1 / S4[2] - 1 / S4[1]),
    ]:
        slope = (lengths[1e-6][s] - lengths[1e-4][s]) / dlog
        assert slope == pytest.approx(rate / lr, rel=0.1), s


@pytest.mark.parametrize("depth, eps, steps", [(3, (0.04, 0.02), 8000), (4, (0.16, 0.08), 8000)])
def test_deep_saddle_to_saddle_statistics(depth, eps, steps):
    """Depth H >= 3: the same order, but plateau lengths grow like eps^-(H-2), not ln(1/eps)."""
    widths = [4] + [3] * (depth - 1) + [4]
    meds = []
    for e in eps:
        res = fastscape.gradient_descent_many(
            widths, M4, runs=32, init_scale=e, seed=1, lr=0.04, steps=steps, record_every=10
        )
        seqs = visits(res)
        # the visits so far follow the order (runs may not have finished in `steps`)
        prefix = [s == ORDER[: len(s)] for s in seqs]
        assert np.mean(prefix) >= 0.8
        # top sets (0, ..., k-1) are non-strict saddles in depth: Morse index 0
        tops = [pl for run in res.plateaus for pl in run if pl.index_set in ORDER]
        assert tops and all(pl.morse_index == 0 for pl in tops)
        meds.append(median_lengths(res)[()])
    # homogeneity near W = 0: rescaling the start by 1/2 stretches the escape by 2^(H-2)
    ratio = meds[1] / meds[0]
    assert ratio == pytest.approx(2.0 ** (depth - 2), rel=0.2)


def test_locate_a_trained_point_and_critical_points():
    m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 5)
    for s in [(), (0,), (1,), (0, 1), (1, 2)]:
        loc = fastscape.locate(fastscape.canonical_point(m, [3, 2, 3], s), m)
        assert loc.index_set == s and loc.distance <= 1e-12
        assert loc.classification is not None
        assert loc.classification.morse_index == loc.morse_index
        assert loc.loss_gap == pytest.approx(loc.critical_loss - 1.0, abs=1e-12)
    # deep: the tight representative is a non-strict saddle of Morse index 0
    loc = fastscape.locate(fastscape.deep_point(m, [3, 2, 2, 3], (0,)), m)
    assert loc.index_set == (0,) and loc.classification.kind == "non_strict_saddle"
    # a point off every family: nearest by brute force over all index sets
    rng = np.random.default_rng(0)
    wstar = np.diag([3.0, 2.0, 1.0])
    for _ in range(20):
        ws = fastscape.random_weights([3, 2, 3], seed=rng, scale=1.0)
        w = fastscape.product(ws)
        best = min(
            (np.linalg.norm(w - np.diag([wstar[i, i] if i in s else 0 for i in range(3)])), s)
            for k in range(3)
            for s in itertools.combinations(range(3), k)
        )
        loc = fastscape.locate(ws, m)
        assert loc.index_set == best[1] and loc.distance == pytest.approx(best[0], rel=1e-10)
        assert loc.classification is None
    with pytest.raises(ValueError, match="but the data have"):
        fastscape.locate([np.eye(3), np.ones((2, 3))], m)


def a_plus(s, mu, depth):
    h = lambda a: a ** (depth - 2) * (s - a**depth) - mu  # noqa: E731
    return scipy.optimize.brentq(
        h, ((depth - 2) * s / (2 * depth - 2)) ** (1 / depth), s ** (1 / depth)
    )


def test_weight_decay_traps_small_starts_at_zero_for_depth_three():
    s, mu, depth = np.array([2.0, 1.0]), 0.1, 3
    m = fastscape.Moments(np.eye(2), np.diag(s), np.eye(2) * 3)
    thr = np.array([weight_decay_growth_threshold(x, mu, depth=depth) for x in s])
    for factor, learns in [(0.8, False), (1.25, True)]:
        ws = fastscape.balanced_start(m, [2, 2, 2, 2], factor * thr)
        tr = fastscape.gradient_descent(
            ws, m, lr=0.02, steps=10000, record_every=10000, weight_decay=mu
        )
        final = tr.strengths[-1]
        if learns:
            want = [a_plus(x, mu, depth) ** depth for x in s]
            assert final == pytest.approx(want, rel=1e-6)
        else:
            assert np.all(np.abs(final) < 1e-6 * thr)
    # mu above the critical value: even a start at the optimum without decay collapses
    grid = np.linspace(0.0, s[0] ** (1 / 3), 200001)
    mu_c = float(np.max(grid * (s[0] - grid**3)))  # max of h(a) = a^(H-2) (s - a^H), H = 3
    assert mu_c == pytest.approx(0.75 * s[0] * (s[0] / 4) ** (1 / 3), rel=1e-9)
    assert weight_decay_growth_threshold(s[0], mu_c * 1.01, depth=3) == np.inf
    assert weight_decay_growth_threshold(s[0], mu_c * 0.99, depth=3) < np.inf
    ws = fastscape.balanced_start(m, [2, 2, 2, 2], s)
    tr = fastscape.gradient_descent(
        ws, m, lr=0.02, steps=5000, record_every=5000, weight_decay=mu_c * 1.01
    )
    assert np.abs(tr.strengths[-1]).max() < 1e-3
    # random small starts (observed): tiny ones stay at W = 0, larger ones learn
    for scale, stuck in [(0.01, True), (0.6, False)]:
        res = fastscape.gradient_descent_many(
            [2, 2, 2, 2], m, runs=16, init_scale=scale, seed=3, lr=0.02, steps=6000,
            record_every=6000, weight_decay=mu,
        )  # fmt: skip
        at_zero = np.abs(res.final_loss - 0.5 * m.trace_syy) < 1e-6
        assert np.all(at_zero) if stuck else not np.any(at_zero)


def test_two_layer_weight_decay_keeps_modes_above_mu():
    s, mu = np.array([2.0, 1.0]), 1.5
    m = fastscape.Moments(np.eye(2), np.diag(s), np.eye(2) * 3)
    assert weight_decay_growth_threshold(2.0, mu, depth=2) == 0.0
    assert weight_decay_growth_threshold(1.0, mu, depth=2) == np.inf
    ws = fastscape.balanced_start(m, [2, 2, 2], [1e-6, 1e-6])
    tr = fastscape.gradient_descent(ws, m, lr=0.02, steps=5000, record_every=5000, weight_decay=mu)
    assert tr.strengths[-1] == pytest.approx([s[0] - mu, 0.0], abs=1e-9)
