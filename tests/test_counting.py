"""fastscape.theory.counting against plain itertools references and the engine."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from naive_landscape import bin_counts, brute_points, index_histogram

import fastscape
from fastscape.theory import (
    critical_value,
    gaussian_binomial,
    index_counts,
    loss_histogram,
    lowest_critical_values,
)


def spectrum(q, seed):
    return np.sort(np.random.default_rng(seed).uniform(0.1, 3.0, q))[::-1].copy()


def inversion_counts(q, p):
    counts = [0] * (p * (q - p) + 1)
    for s in itertools.combinations(range(q), p):
        rest = set(range(q)) - set(s)
        counts[sum(1 for i in rest for j in s if i < j)] += 1
    return counts


@pytest.mark.parametrize("q", range(1, 11))
def test_gaussian_binomial_matches_inversions(q):
    for p in range(1, q + 1):
        assert gaussian_binomial(q, p) == inversion_counts(q, p)


def test_gaussian_binomial_large_is_exact_and_symmetric():
    g = gaussian_binomial(70, 35)  # C(70, 35) > 2**63: Python ints, no overflow
    assert sum(g) == math.comb(70, 35) > 2**63
    assert g == g[::-1] and len(g) == 35 * 35 + 1
    # q-Pascal: [n, k] = [n-1, k-1] + t^k [n-1, k]
    a, b = gaussian_binomial(69, 34), gaussian_binomial(69, 35)
    rhs = [0] * len(g)
    for i, v in enumerate(a):
        rhs[i] += v
    for i, v in enumerate(b):
        rhs[i + 35] += v
    assert g == rhs


@pytest.mark.parametrize("q,p", [(5, 2), (6, 6), (7, 3), (4, 6)])
def test_index_counts_all_ranks(q, p):
    pts = brute_points(spectrum(q, q), p, all_ranks=True)
    assert index_counts(q, p, ranks="all") == index_histogram(pts)
    assert sum(index_counts(q, p, ranks="all")) == len(pts)


def test_critical_value_matches_reference():
    lam = spectrum(7, 3)
    for loss, s, _, _ in brute_points(lam, 3, all_ranks=True):
        assert critical_value(lam, s) == pytest.approx(loss, rel=1e-14, abs=1e-14)


@pytest.mark.parametrize(
    "q,p,all_ranks", [(9, 4, False), (10, 7, False), (8, 3, True), (11, 5, False)]
)
def test_loss_histogram_within_stated_bound(q, p, all_ranks):
    lam = spectrum(q, 10 * q + p)
    pts = brute_points(lam, p, all_ranks=all_ranks)
    losses = np.array([pt[0] for pt in pts])
    edges = np.linspace(losses.min() - 0.1, losses.max() + 0.05, 17)
    for grid in (None, 0.05):
        h = loss_histogram(lam, p, edges, ranks="all" if all_ranks else "full", grid=grid)
        d = h.error_bound
        assert h.underflow + sum(h.counts) + h.overflow == len(pts)
        for i, c in enumerate(h.counts):
            lo_, hi_ = edges[i], edges[i + 1]
            inner = np.sum((losses >= lo_ + d) & (losses < hi_ - d))
            outer = np.sum((losses >= lo_ - d) & (losses <= hi_ + d))
            assert inner <= c <= outer
        if grid is None:  # the default grid keeps the bound well under a bin width
            assert d < (edges[1] - edges[0]) / 4
        if d == 0.0:
            assert list(h.counts) == bin_counts(losses, edges)[1:-1]


def test_loss_histogram_moderate_q_against_engine():
    q, p = 24, 12
    lam = fastscape.random_spectrum(q, 5)
    s = fastscape.enumerate_landscape(lam, p, bins=8, n_lowest=0, n_highest=0)
    edges = s.hist_edges
    h = loss_histogram(lam, p, edges)
    d = h.error_bound
    # engine counts between the points e_i -/+ d give both bounds of every DP bin
    grid = np.sort(np.concatenate([edges - d, edges + d]))
    fine = fastscape.enumerate_landscape(lam, p, bins=grid, n_lowest=0, n_highest=0)
    between = np.array(fine.hist_counts)  # between grid[j] and grid[j + 1]
    for i, c in enumerate(h.counts):
        j = 2 * i  # grid[2i] = e_i - d, grid[2i+1] = e_i + d
        inner = between[j + 1 : j + 2].sum()  # [e_i + d, e_{i+1} - d)
        outer = between[j : j + 3].sum()  # [e_i - d, e_{i+1} + d]
        assert inner <= c <= outer
    assert sum(h.counts) + h.underflow + h.overflow == s.total


@pytest.mark.parametrize(
    "q,p,all_ranks,n", [(8, 3, False, 20), (9, 9, False, 3), (7, 4, True, 40), (12, 6, False, 200)]
)
def test_lowest_values_match_brute_force(q, p, all_ranks, n):
    lam = spectrum(q, q + p)
    pts = sorted(brute_points(lam, p, all_ranks=all_ranks))
    got = lowest_critical_values(lam, p, n, ranks="all" if all_ranks else "full")
    assert len(got) == min(n, len(pts))
    for g, ref in zip(got, pts, strict=False):
        assert g.loss == pytest.approx(ref[0], rel=1e-13)
        assert g.index_set == ref[1] and g.morse_index == ref[2] and g.k == ref[3]


@pytest.mark.parametrize(
    "q,p,all_ranks", [(16, 8, False), (26, 13, False), (14, 9, True), (32, 4, False), (32, 3, True)]
)
def test_closed_form_equals_engine(q, p, all_ranks):
    lam = fastscape.random_spectrum(q, q)
    e = fastscape.enumerate_landscape(
        lam, p, ranks="all" if all_ranks else "full", n_lowest=30, n_highest=0
    )
    c = fastscape.count_landscape(lam, p, ranks="all" if all_ranks else "full", n_lowest=30)
    assert c.index_counts == e.index_counts  # exact
    assert [v.loss for v in c.lowest] == [v.loss for v in e.lowest]  # bitwise
    assert c.lowest == e.lowest
    assert c.total == e.total == sum(e.index_counts)


def test_lowest_ties_broken_like_the_engine():
    # 1 + 2 = 3: sets {0} and {1, 2} have equal complements' sums only by design below
    lam = np.array([4.0, 3.0, 2.0, 1.0])
    e = fastscape.enumerate_landscape(lam, 2, ranks="all", n_lowest=11, n_highest=0)
    c = lowest_critical_values(lam, 2, 11, ranks="all")
    assert tuple(c) == e.lowest


def test_validation_messages():
    with pytest.raises(ValueError, match="descending"):
        loss_histogram([1.0, 2.0], 1, [0, 1])
    with pytest.raises(ValueError, match="tied"):
        lowest_critical_values([2.0, 1.0, 1.0], 1, 3)
    with pytest.raises(ValueError, match="p = 4 > q = 3"):
        index_counts(3, 4)
    assert gaussian_binomial(3, 4) == [0]  # no 4-subset of 3 positions
    with pytest.raises(ValueError, match="coarser grid"):
        loss_histogram(spectrum(30, 0), 15, [0.0, 1e-6, 2e-6])
    with pytest.raises(ValueError, match="n must be"):
        lowest_critical_values([2.0, 1.0], 1, -1)


@pytest.mark.parametrize("s", [(-1,), (4,), (1, 1)])
def test_positions_outside_the_spectrum_are_refused(s):
    from fastscape.theory import critical_value, enumeration_rank

    with pytest.raises(ValueError, match="distinct positions 0..3"):
        critical_value([4.0, 3.0, 2.0, 1.0], s)
    with pytest.raises(ValueError, match="distinct positions 0..3"):
        enumeration_rank(4, s)


def test_deprecated_all_ranks_keyword_warns_and_still_works():
    lam = spectrum(6, 0)
    with pytest.warns(DeprecationWarning, match="ranks='all'"):
        old = index_counts(6, 2, all_ranks=True)
    assert old == index_counts(6, 2, ranks="all")
    with pytest.warns(DeprecationWarning, match="ranks='full'"):
        low = lowest_critical_values(lam, 2, 3, all_ranks=False)
    assert low == lowest_critical_values(lam, 2, 3)
    with pytest.warns(DeprecationWarning, match="use .morse_index"):
        assert low[0].index == low[0].morse_index == 0
    with pytest.warns(DeprecationWarning, match="all_ranks"):
        s = fastscape.count_landscape(lam, 2, all_ranks=True, n_lowest=1)
    assert s.ranks == "all" and s.total == 1 + 6 + 15
    with pytest.warns(DeprecationWarning, match="use .ranks"):
        assert s.mode == "all-ranks"
    with pytest.raises(ValueError, match="contradicts"), pytest.warns(DeprecationWarning):
        index_counts(6, 2, ranks="all", all_ranks=False)
    with pytest.raises(ValueError, match="single size ranks=k is for critical_points"):
        index_counts(6, 2, ranks=1)
