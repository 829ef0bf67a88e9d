"""Components of the global minima, paths inside them and the mountain pass between them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from topology_reference import (
    barrier_pair,
    global_min,
    loss,
    moments_with,
    random_minimum,
    right,
    top_frame,
)

import fastscape
from fastscape.theory import barrier_between, component_count, sublevel_components

# (eigenvalues of Sigma, dx, dy, widths): distinct and tied spectra, q = p and q > p,
# dx != dy, two layers and deep
TWO_LAYER = [
    ([5.0, 3.0, 1.0], 4, 3, [4, 2, 3]),  # q > p, distinct
    ([5.0, 3.0], 3, 2, [3, 2, 2]),  # q = p
    ([4.0, 2.5, 1.0, 0.5], 5, 4, [5, 2, 4]),  # dx != dy
    ([4.0, 2.0, 2.0, 0.5], 5, 4, [5, 2, 4]),  # tied at p: connected
    ([4.0, 2.0], 5, 3, [5, 3, 3]),  # rank below the hidden width: connected
    ([4.0, 4.0, 1.0], 3, 4, [3, 2, 4]),  # tie inside the top p only: two components
]
DEEP = [
    ([5.0, 3.0, 1.0], 4, 3, [4, 2, 2, 3]),
    ([5.0, 3.0, 1.0], 3, 4, [3, 3, 3, 4]),  # r = q = 3 = d_1 = d_2
    ([5.0, 3.0, 3.0, 1.0], 5, 4, [5, 2, 3, 2, 2, 4]),  # tied at r, m = 3
    ([5.0, 3.0, 1.0], 4, 3, [4, 4, 5, 3]),  # every hidden width above r
    ([2.0, 1.0], 3, 2, [3, 1, 1, 2]),
]


def expected_count(vals, widths):
    """2^m, or 2^(m-1) when tied at r (written out, not fastscape's code)."""
    r = min(min(widths), len(vals))
    m = sum(1 for d in widths[1:-1] if d == r)
    tied = r < len(vals) and vals[r - 1] == vals[r]
    if m == 0:
        return 1
    return 2 ** (m - 1) if tied else 2**m


def layer_subsets(widths, r):
    layers = [i for i in range(1, len(widths) - 1) if widths[i] == r]
    return [c for j in range(len(layers) + 1) for c in itertools.combinations(layers, j)]


@pytest.mark.parametrize("case", TWO_LAYER + DEEP)
def test_component_count_matches_the_closed_form(case):
    vals, dx, dy, widths = case
    m = moments_with(vals, dx, dy, np.random.default_rng(0))
    assert fastscape.global_min_components(m, widths) == expected_count(vals, widths)
    assert component_count(vals, widths) == expected_count(vals, widths)


def test_two_layer_counts_by_the_rule_of_the_issue():
    rng = np.random.default_rng(1)
    m = moments_with([5.0, 3.0, 1.0], 4, 3, rng)
    assert fastscape.global_min_components(m, [4, 2, 3]) == 2
    assert fastscape.global_min_components(m, [4, 1, 3]) == 2
    assert fastscape.global_min_components(m, [4, 3, 3]) == 2  # p = q = 3
    assert fastscape.global_min_components(m, [4, 4, 3]) == 1  # r = 3 < hidden width 4
    m4 = moments_with([5.0, 3.0], 4, 4, rng)
    assert fastscape.global_min_components(m4, [4, 3, 4]) == 1  # q = 2 < p = 3


@pytest.mark.parametrize("case", TWO_LAYER + DEEP)
def test_paths_join_equal_invariants_and_invariants_separate(case):
    """Every pair of minima with equal invariants is joined through minima; the number
    of distinct invariants is the count."""
    vals, dx, dy, widths = case
    rng = np.random.default_rng(2)
    m = moments_with(vals, dx, dy, rng)
    r = min(min(widths), len(vals))
    gmin = global_min(m, widths)
    labels = {}
    for flips in layer_subsets(widths, r):
        a = random_minimum(m, widths, rng, flips=flips)
        labels.setdefault(fastscape.component_of(a, m), []).append(a)
    assert len(labels) == expected_count(vals, widths)
    for comp, pts in labels.items():
        b = random_minimum(m, widths, rng, flips=())
        if fastscape.component_of(b, m) != comp:
            b = pts[0]
            b = [w.copy() for w in b]
            b[0] = b[0] * 1.0
        n = 24
        path = fastscape.minimum_path(pts[0], b, m, n=n)
        assert len(path) == n
        losses = np.array([loss(w, m) for w in path])
        assert np.max(np.abs(losses - gmin)) <= 1e-12 * max(1.0, abs(gmin), np.trace(m.syy))
        flat = np.array([fastscape.flatten(w) for w in path])
        steps = np.linalg.norm(np.diff(flat, axis=0), axis=1)
        assert steps.max() <= 1.5 * steps.mean() + 1e-12
        np.testing.assert_allclose(flat[0], fastscape.flatten(pts[0]), atol=1e-13)
        np.testing.assert_allclose(flat[-1], fastscape.flatten(b), atol=1e-13)


def test_paths_move_the_subspace_when_tied():
    """Tied at r: minima on different subspaces col(W), and with every orientation
    reversed relative to one frame, are joined (the relative signs agree)."""
    rng = np.random.default_rng(3)
    vals, widths = [5.0, 3.0, 3.0, 1.0], [5, 2, 2, 4]
    m = moments_with(vals, 5, 4, rng)
    _, u = top_frame(m, 4)
    for angle in (0.7, 2.9):
        frame = np.stack([u[:, 0], np.cos(angle) * u[:, 1] + np.sin(angle) * u[:, 2]], axis=1)
        a = random_minimum(m, widths, rng)
        b = random_minimum(m, widths, rng, flips=(1, 2), frame=frame)
        assert not np.allclose(right(a, 0), right(b, 0))  # different end-to-end maps
        assert fastscape.component_of(a, m) == fastscape.component_of(b, m)
        path = fastscape.minimum_path(a, b, m, n=40)
        losses = np.array([loss(w, m) for w in path])
        assert np.ptp(losses) <= 1e-12 * np.trace(m.syy)
        c = random_minimum(m, widths, rng, flips=(1,), frame=frame)
        with pytest.raises(ValueError, match="different components"):
            fastscape.minimum_path(a, c, m)


@pytest.mark.parametrize("case", TWO_LAYER + DEEP)
def test_mountain_pass_matches_the_closed_form(case):
    vals, dx, dy, widths = case
    m = moments_with(vals, dx, dy, np.random.default_rng(4))
    n = expected_count(vals, widths)
    if n == 1:
        with pytest.raises(ValueError, match="connected"):
            fastscape.mountain_pass(m, widths)
        return
    r = min(min(widths), len(vals))
    tied = r < len(vals) and vals[r - 1] == vals[r]
    want = vals[r - 1] / 2 if tied else barrier_pair(vals, r)
    mp = fastscape.mountain_pass(m, widths)
    gmin = global_min(m, widths)
    scale = np.trace(m.syy)
    assert mp.barrier == pytest.approx(want, rel=1e-9)
    losses = np.array([loss(w, m) for w in mp.path])
    np.testing.assert_allclose(losses, mp.losses, rtol=0, atol=1e-12 * scale)
    assert losses.max() - gmin == pytest.approx(want, rel=1e-9)
    assert abs(losses[0] - gmin) <= 1e-12 * scale and abs(losses[-1] - gmin) <= 1e-12 * scale
    assert mp.ends[0] != mp.ends[1]
    assert mp.ends == (
        fastscape.component_of(mp.path[0], m),
        fastscape.component_of(mp.path[-1], m),
    )
    # the saddle: a critical point at the pass, of the stated index set
    g = fastscape.flatten(fastscape.gradient(mp.saddle, m))
    assert np.linalg.norm(g) <= 1e-10 * scale
    assert loss(mp.saddle, m) == pytest.approx(0.5 * (scale - sum(vals[i] for i in mp.index_set)))
    if len(widths) == 3:
        c = fastscape.classify(mp.saddle, m)
        assert (c.kind, c.morse_index) == ("strict_saddle", 1)
    steps = np.linalg.norm(np.diff([fastscape.flatten(w) for w in mp.path], axis=0), axis=1)
    assert steps.max() < 0.2 * np.linalg.norm(fastscape.flatten(mp.path[0]))


def test_deep_barriers_between_pairs_of_components():
    vals, widths = [5.0, 3.0, 1.0], [4, 2, 2, 3]
    assert barrier_between(vals, widths, (1, 1), (-1, -1)) == 1.0
    assert barrier_between(vals, widths, (1, 1), (1, -1)) == 1.5
    assert barrier_between(vals, widths, (1, -1), (1, -1)) == 0.0
    assert barrier_between([5.0, 3.0, 3.0], [4, 2, 2, 2, 3], (1, 1), (1, -1)) == 1.5
    with pytest.raises(ValueError, match="signs"):
        barrier_between(vals, widths, (1,), (1, 1))


def test_sublevel_counts_at_the_critical_values():
    vals, widths = [5.0, 3.0, 1.0], [4, 2, 3]
    gaps = [0.0, 0.999, 1.0, 1.5, 7.0]
    assert [sublevel_components(vals, widths, c) for c in gaps] == [2, 2, 1, 1, 1]
    assert sublevel_components(vals, widths, -1e-3) == 0
    deep = [sublevel_components(vals, [4, 2, 2, 3], c) for c in (0.0, 1.0, 1.49, 1.5)]
    assert deep == [4, 2, 2, 1]
    m = moments_with(vals, 4, 3, np.random.default_rng(5))
    gmin = global_min(m, widths)
    got = fastscape.sublevel_components(m, widths, gmin + np.array(gaps))
    assert got.tolist() == [2, 2, 1, 1, 1]


def test_weight_decay_components_and_invariants():
    rng = np.random.default_rng(6)
    u = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    v = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    syx = u[:, :3] @ np.diag([3.0, 2.0, 0.5]) @ v.T
    m = fastscape.Moments(np.eye(3), syx, syx @ syx.T + np.eye(4))
    assert fastscape.global_min_components(m, [3, 2, 4], weight_decay=0.1) == 2
    assert fastscape.global_min_components(m, [3, 2, 4], weight_decay=2.5) == 1  # k = 1 < p
    assert fastscape.global_min_components(m, [3, 3, 4], weight_decay=1.0) == 1  # k = 2 < 3
    from fastscape.theory import weight_decay_critical_point

    q = np.linalg.qr(rng.standard_normal((2, 2)))[0]
    for det in (1.0, -1.0):
        qq = q * np.sign(np.linalg.det(q)) if det > 0 else q @ np.diag([1.0, -1.0])
        qq = qq if np.sign(np.linalg.det(qq)) == det else qq @ np.diag([1.0, -1.0])
        ws = weight_decay_critical_point(m, 2, [0, 1], 0.1, Q=qq)
        c = fastscape.component_of(ws, m, weight_decay=0.1)
        frame = top_frame(fastscape.Moments(np.eye(3), syx, np.eye(4)), 2)[1]
        assert c.signs == (int(np.sign(np.linalg.det(frame.T @ ws[1]))),)
    # paths through the O(p) orbit: same sign joined; k < p: every pair joined
    for p, mu, k in ((2, 0.1, 2), (3, 1.0, 2)):
        pts = []
        for det in (1.0, -1.0):
            qq = np.linalg.qr(rng.standard_normal((p, p)))[0]
            if np.sign(np.linalg.det(qq)) != det:
                qq[:, 0] *= -1
            pts.append(weight_decay_critical_point(m, p, range(k), mu, Q=qq))
        qq = np.linalg.qr(rng.standard_normal((p, p)))[0]
        qq = qq if np.linalg.det(qq) > 0 else qq @ np.diag([-1.0] + [1.0] * (p - 1))
        same = weight_decay_critical_point(m, p, range(k), mu, Q=qq)
        wd = 0.5 * (np.trace(m.syy) - np.sum((np.array([3.0, 2.0, 0.5])[:k] - mu) ** 2))
        for b in [same, pts[1]] if k < p else [same]:
            path = fastscape.minimum_path(pts[0], b, m, n=20, weight_decay=mu)
            f = [loss(w, m) + mu / 2 * sum(np.sum(x * x) for x in w) for w in path]
            assert np.max(np.abs(np.array(f) - wd)) <= 1e-12 * np.trace(m.syy)
        if k == p:
            with pytest.raises(ValueError, match="different components"):
                fastscape.minimum_path(pts[0], pts[1], m, weight_decay=mu)
    with pytest.raises(ValueError, match="whitened"):
        fastscape.global_min_components(
            moments_with([3.0, 1.0], 3, 3, rng), [3, 2, 3], weight_decay=0.1
        )
    with pytest.raises(ValueError, match="two layers"):
        fastscape.global_min_components(m, [3, 2, 2, 4], weight_decay=0.1)


def test_bad_input_says_what_to_pass():
    rng = np.random.default_rng(7)
    m = moments_with([5.0, 3.0, 1.0], 4, 3, rng)
    a = random_minimum(m, [4, 2, 3], rng)
    b = random_minimum(m, [4, 2, 3], rng, flips=(1,))
    off = [a[0] + 0.1, a[1]]
    with pytest.raises(ValueError, match="w_b is not a global minimum"):
        fastscape.minimum_path(a, off, m)
    with pytest.raises(ValueError, match="weights is not a global minimum"):
        fastscape.component_of(off, m)
    with pytest.raises(ValueError, match="different components"):
        fastscape.minimum_path(a, b, m)
    with pytest.raises(ValueError, match="do not chain"):
        fastscape.global_min_components(m, [4, 2, 4])
    with pytest.raises(ValueError, match="do not chain"):
        fastscape.mountain_pass(m, [3, 2, 3])
    with pytest.raises(ValueError, match="shape"):
        fastscape.component_of([a[0], np.zeros((3, 3))], m)
    with pytest.raises(ValueError, match="n must be"):
        fastscape.minimum_path(a, a, m, n=1)
    with pytest.raises(TypeError, match="Moments"):
        fastscape.global_min_components("m", [4, 2, 3])
