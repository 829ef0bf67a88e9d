"""NEB, the straight line and filter-normalised directions against the closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from topology_reference import barrier_pair, global_min, loss, moments_with, random_minimum

import fastscape
from fastscape.slices import slice_grid

CASES = [
    ([5.0, 3.0, 1.0], 4, 3, [4, 2, 3]),  # q > p
    ([5.0, 3.0], 3, 2, [3, 2, 2]),  # q = p: barrier lambda_p / 2
    ([4.0, 2.5, 1.0, 0.5], 5, 4, [5, 2, 4]),  # dx != dy
]


@pytest.mark.parametrize("case", CASES)
def test_neb_finds_the_mountain_pass_and_never_less(case):
    vals, dx, dy, widths = case
    rng = np.random.default_rng(11)
    m = moments_with(vals, dx, dy, rng)
    want = barrier_pair(vals, widths[1])
    a = random_minimum(m, widths, rng, scale=0.3)
    b = random_minimum(m, widths, rng, flips=(1,), scale=0.3)
    res = fastscape.neb(a, b, m, images=17, steps=2000, seed=0)
    assert res.barrier >= want * (1 - 1e-9)  # a continuous path: the lower bound holds
    assert res.barrier <= want * 1.03
    assert len(res.path) == 17 and res.losses.shape == (17,)
    np.testing.assert_allclose(res.losses, [loss(w, m) for w in res.path], atol=1e-12)
    gmin = global_min(m, widths)
    assert res.losses.max() - gmin == pytest.approx(res.barrier, rel=0.03)
    # inside one component the band relaxes into the valley: about 0
    c = random_minimum(m, widths, rng, scale=0.3)
    inside = fastscape.neb(a, c, m, images=17, steps=2000, seed=0)
    assert inside.barrier < 1e-2 * want  # the chords between images: O(spacing^2)
    assert inside.losses.max() - gmin < 1e-3 * want


def test_neb_deep_pair_barriers():
    """Depth 3, widths 4-2-2-3: reversing both orientations costs (lambda_2 - lambda_3)/2,
    reversing one costs lambda_2 / 2 (docs/topology.md). NEB is local: from other starts
    a band can settle on a higher pass (a rank-deficient saddle), never on a lower one."""
    rng = np.random.default_rng(12)
    m = moments_with([5.0, 3.0, 1.0], 4, 3, rng)
    widths = [4, 2, 2, 3]
    a = random_minimum(m, widths, rng, scale=0.2)
    for flips, want in (((1, 2), 1.0), ((1,), 1.5)):
        b = random_minimum(m, widths, rng, flips=flips, scale=0.2)
        res = fastscape.neb(a, b, m, images=17, steps=2000)
        assert want * (1 - 1e-9) <= res.barrier <= 1.03 * want


def test_sublevel_counts_checked_by_neb():
    """Just below the pass no band stays inside {loss <= c}; just above, one does."""
    vals, widths = [5.0, 3.0, 1.0], [4, 2, 3]
    rng = np.random.default_rng(13)
    m = moments_with(vals, 4, 3, rng)
    gmin = global_min(m, widths)
    want = barrier_pair(vals, 2)
    below, above = gmin + 0.97 * want, gmin + 1.03 * want
    assert fastscape.sublevel_components(m, widths, [below, above]).tolist() == [2, 1]
    a = random_minimum(m, widths, rng)
    b = random_minimum(m, widths, rng, flips=(1,))
    res = fastscape.neb(a, b, m, images=17, steps=2000)
    assert gmin + res.barrier <= above  # a path inside {loss <= above}
    line = fastscape.interpolate(a, b, m, n=201)
    assert line.max() > below  # and none inside {loss <= below}: the line, NEB, anything


@pytest.mark.parametrize("case", CASES)
def test_straight_line_never_beats_the_mountain_pass(case):
    vals, dx, dy, widths = case
    rng = np.random.default_rng(14)
    m = moments_with(vals, dx, dy, rng)
    gmin = global_min(m, widths)
    want = barrier_pair(vals, widths[1])
    mp = fastscape.mountain_pass(m, widths)
    pairs = [(mp.path[0], mp.path[-1])]
    for scale in (0.05, 0.4, 1.0):
        a = random_minimum(m, widths, rng, scale=scale)
        pairs.append((a, random_minimum(m, widths, rng, flips=(1,), scale=scale)))
        flip = np.ones(widths[1])
        flip[0] = -1.0  # one hidden unit's sign: the other component, same end-to-end map
        pairs.append((a, [flip[:, None] * a[0], a[1] * flip]))
    for a, b in pairs:
        if fastscape.component_of(a, m) == fastscape.component_of(b, m):
            continue
        line = fastscape.interpolate(a, b, m, n=257)
        ts = np.linspace(0, 1, 257)
        ref = [loss([(1 - t) * x + t * y for x, y in zip(a, b, strict=True)], m) for t in ts]
        np.testing.assert_allclose(line, ref, atol=1e-12 * np.trace(m.syy))
        assert line.max() - gmin >= want * (1 - 1e-9)


def test_neb_bad_input():
    m = moments_with([5.0, 3.0, 1.0], 4, 3, np.random.default_rng(15))
    a = random_minimum(m, [4, 2, 3], np.random.default_rng(0))
    with pytest.raises(ValueError, match="images must be an integer >= 3"):
        fastscape.neb(a, a, m, images=2)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        fastscape.neb(a, a, m, steps=0)
    with pytest.raises(ValueError, match="same network"):
        fastscape.neb(a, [np.zeros((3, 4)), np.zeros((3, 3))], m)
    with pytest.raises(ValueError, match="spring"):
        fastscape.neb(a, a, m, spring=-1.0)
    with pytest.raises(ValueError, match="n must be"):
        fastscape.interpolate(a, a, m, n=1)


def test_random_directions_are_filter_normalised_and_slices_take_them():
    rng = np.random.default_rng(16)
    ws = [rng.standard_normal((3, 4)), rng.standard_normal((2, 3))]
    ws[0][1] = 0.0  # a dead unit: its direction row is zero too
    ds = fastscape.random_directions(ws, count=3, seed=5)
    assert len(ds) == 3
    for d in ds:
        for w, x in zip(ws, d, strict=True):
            assert x.shape == w.shape
            np.testing.assert_allclose(np.linalg.norm(x, axis=1), np.linalg.norm(w, axis=1))
    again = fastscape.random_directions(ws, count=3, seed=5)
    for d, e in zip(ds, again, strict=True):
        assert all(np.array_equal(x, y) for x, y in zip(d, e, strict=True))
    lay = fastscape.random_directions(ws, count=1, normalize="layer", seed=5)[0]
    assert [np.linalg.norm(x) for x in lay] == pytest.approx([np.linalg.norm(w) for w in ws])
    with pytest.raises(ValueError, match="normalize"):
        fastscape.random_directions(ws, normalize="row")
    m = moments_with([2.0, 1.0], 4, 2, rng)
    sl = slice_grid(ws, m, ds[:2], span=1.0, resolution=5, unit=False)
    np.testing.assert_allclose(sl.directions[0], fastscape.flatten(ds[0]))
    corner = [w + x + y for w, x, y in zip(ws, ds[0], ds[1], strict=True)]
    assert sl.values[-1, -1] == pytest.approx(loss(corner, m), rel=1e-12)


def test_neb_tied_spectrum_finds_no_barrier():
    """lambda_p = lambda_(p+1): minima with opposite sign det(U_S^T A) are connected (the
    column space turns inside the tied eigenspace); NEB relaxes to about 0 although the
    straight line climbs."""
    rng = np.random.default_rng(300)
    m = moments_with([4.0, 2.0, 2.0, 0.5], 5, 4, rng)
    widths = [5, 2, 4]
    a = random_minimum(m, widths, rng, scale=0.3)
    b = random_minimum(m, widths, rng, flips=(1,), scale=0.3)
    gmin = global_min(m, widths)
    assert fastscape.global_min_components(m, widths) == 1
    assert fastscape.interpolate(a, b, m).max() - gmin > 1.0
    res = fastscape.neb(a, b, m, images=17, steps=2000)
    assert res.losses.max() - gmin < 1e-6
    assert res.barrier < 1e-2 * 2.0 / 2  # chords only, against lambda_p / 2 = 1
    path = fastscape.minimum_path(a, b, m, n=32)
    assert np.ptp([loss(w, m) for w in path]) < 1e-12 * np.trace(m.syy)
