"""fastscape.theory.histogram against brute force over all index sets and a plain DP."""

from __future__ import annotations

import itertools
import math

import numba
import numpy as np
import pytest
from histogram_reference import all_losses, bracket, grid_dp_counts

import fastscape
from fastscape.theory import HistogramTooLargeError, loss_histogram
from fastscape.theory.histogram import count_table, layout


def spectrum(q, seed, lo=0.1, hi=3.0):
    return np.sort(np.random.default_rng(seed).uniform(lo, hi, q))[::-1].copy()


def slots(h):
    return [h.underflow, *h.counts, h.overflow]


@pytest.mark.parametrize("all_rows", [False, True])
def test_kernel_counts_every_row_like_itertools(all_rows):
    rng = np.random.default_rng(1)
    for _ in range(12):
        q = int(rng.integers(1, 10))
        u = np.sort(rng.integers(0, 7, q))[::-1].copy()
        v = u - u[-1]
        for n in range(q + 1):
            lay = layout(u, n, all_rows)
            tables = [
                count_table(lay, n, all_rows, np.int64, 2**63 - 1, nblock=nb) for nb in (1, 3)
            ]
            tables.append(count_table(lay, n, all_rows, np.float64, np.inf, nblock=2))
            tables.append(count_table(lay, n, all_rows, np.int64, 5, nblock=3))
            for j in range(n + 1) if all_rows else [n]:
                ref: dict = {}
                for s in itertools.combinations(range(q), j):
                    t = int(v[list(s)].sum())
                    ref[t] = ref.get(t, 0) + 1
                for k, tab in enumerate(tables):
                    row = tab[lay.row_off[j] : lay.row_off[j + 1]]
                    got = {int(lay.row_lo[j] + x): int(c) for x, c in enumerate(row) if c}
                    want = {t: c % 5 for t, c in ref.items() if c % 5} if k == 3 else ref
                    assert got == want, (q, n, j, k)


def test_kernel_independent_of_blocks_and_threads():
    u = np.rint(spectrum(40, 3) * 20).astype(np.int64)
    lay = layout(u, 20, False)
    ref = count_table(lay, 20, False, np.float64, np.inf, nblock=1)
    before = numba.get_num_threads()
    try:
        for threads in {1, before}:
            numba.set_num_threads(threads)
            for nb in (2, 8, 13):
                got = count_table(lay, 20, False, np.float64, np.inf, nblock=nb)
                assert np.array_equal(got, ref)
    finally:
        numba.set_num_threads(before)
    assert math.fsum(ref[lay.row_off[20] :]) == math.comb(40, 20)  # < 2**53: exact


@pytest.mark.parametrize("seed", range(12))
def test_bound_against_all_index_sets(seed):
    rng = np.random.default_rng(100 + seed)
    q = int(rng.integers(2, 15))
    all_ranks = bool(seed % 3 == 0)
    p = int(rng.integers(1, q + (3 if all_ranks else 1)))  # all ranks: p > q allowed
    offset = float(rng.uniform(-2, 2)) if seed % 2 else 0.0
    lam = spectrum(q, seed)
    losses = all_losses(lam, p, all_ranks, offset)
    lo, hi = losses.min(), losses.max()
    nb = int(rng.integers(1, 12))
    # edges inside the range, one at an actual loss value, some points outside
    edges = np.sort(rng.uniform(lo - 0.1, hi + 0.1, nb + 1))
    edges[rng.integers(0, nb + 1)] = losses[rng.integers(0, losses.size)]
    edges = np.unique(edges)
    if edges.size < 2:
        edges = np.array([lo, hi + 1.0])
    ranks = "all" if all_ranks else "full"
    for grid in (None, 0.013, 0.2, 1.1):
        h = loss_histogram(lam, p, edges, ranks=ranks, offset=offset, grid=grid)
        assert h.exact and h.count_rel_error == 0.0
        assert all(type(c) is int for c in slots(h))
        assert sum(slots(h)) == losses.size
        inner, outer = bracket(losses, edges, h.error_bound)
        for c, a, b in zip(slots(h), inner, outer, strict=True):
            assert a <= c <= b
        n = min(p, q - p) if not all_ranks else min(p, q)
        assert h.error_bound <= n * h.grid / 4 * (1 + 1e-12) + 1e-12 * (q + 4) * lam.sum()
        # counts equal the plain DP on the same grid: the cases that worked before agree
        assert slots(h) == grid_dp_counts(lam, p, edges, h.grid, all_ranks, offset)


def test_integer_spectrum_ties_and_edges_on_values():
    lam = np.arange(12, 0, -1, dtype=float)  # many equal losses, all on half-integers
    losses = all_losses(lam, 5)
    edges = np.arange(losses.min(), losses.max() + 1.0, 1.5)  # edges on loss values
    h = loss_histogram(lam, 5, edges, grid=0.5)  # residuals 0: placed = exact loss
    assert h.error_bound < 1e-12
    ref = [int(np.sum(losses < edges[0]))]
    for i in range(edges.size - 1):
        last = i == edges.size - 2
        top = losses <= edges[i + 1] if last else losses < edges[i + 1]
        ref.append(int(np.sum((losses >= edges[i]) & top)))
    ref.append(int(np.sum(losses > edges[-1])))
    assert slots(h) == ref
    # a grid that does not divide them: still bracketed
    h = loss_histogram(lam, 5, edges, grid=0.7)
    inner, outer = bracket(losses, edges, h.error_bound)
    assert all(a <= c <= b for c, a, b in zip(slots(h), inner, outer, strict=True))


def test_q32_against_the_enumeration_engine():
    q, p = 32, 5
    lam = fastscape.random_spectrum(q, 7)
    s = fastscape.enumerate_landscape(lam, p, bins=12, n_lowest=0, n_highest=0)
    edges = s.hist_edges
    h = loss_histogram(lam, p, edges, grid=0.01)
    d = h.error_bound
    fine = np.sort(np.concatenate([edges - d, edges + d]))
    f = fastscape.enumerate_landscape(lam, p, bins=fine, n_lowest=0, n_highest=0)
    between = np.array(f.hist_counts)  # between fine[j] and fine[j + 1]
    for i, c in enumerate(h.counts):
        assert between[2 * i + 1] <= c <= between[2 * i : 2 * i + 3].sum()
    assert sum(slots(h)) == s.total == math.comb(q, p)


def test_counts_beyond_int64_exact_and_float():
    q, p = 70, 35  # C(70, 35) > 2**63
    lam = spectrum(q, 5, 0.5, 1.5)
    edges = np.linspace(15, 25, 9)
    ref = grid_dp_counts(lam, p, edges, 0.25)
    ex = loss_histogram(lam, p, edges, grid=0.25)  # residues modulo primes: exact
    assert ex.exact and slots(ex) == ref and sum(ref) == math.comb(q, p) > 2**63
    fl = loss_histogram(lam, p, edges, grid=0.25, exact=False)
    assert not fl.exact and 0 < fl.count_rel_error < 1e-13
    assert all(type(c) is float for c in slots(fl))
    for c, r in zip(slots(fl), ref, strict=True):
        assert abs(c - r) <= fl.count_rel_error * r
    # C(1100, 550) > 2**1023: float64 counts would overflow; exact counts do not
    lam = spectrum(1100, 0, 1.0, 1.2)  # grid 1: every u_i = 1, a cheap table
    with pytest.raises(HistogramTooLargeError, match="overflow float64"):
        loss_histogram(lam, 550, [0.0, 600.0], grid=1.0, exact=False)
    big = loss_histogram(lam, 550, [0.0, 600.0], grid=1.0)
    assert big.exact and slots(big) == [0, math.comb(1100, 550), 0]


def test_int64_boundary():
    # C(66, 33) < 2**63 - 1 < C(67, 33): int64 below, residues above, never a wrap
    for q in (66, 67):
        lam = spectrum(q, q, 0.5, 1.5)
        h = loss_histogram(lam, 33, [0.0, q / 4, q], grid=0.5)
        assert h.exact and sum(slots(h)) == math.comb(q, 33)
        assert slots(h) == grid_dp_counts(lam, 33, np.array([0.0, q / 4, q]), 0.5)


def test_bad_input():
    lam = spectrum(6, 0)
    for g in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="grid must be finite and > 0"):
            loss_histogram(lam, 3, [0.0, 1.0], grid=g)
    with pytest.raises(TypeError, match="grid must be a real number"):
        loss_histogram(lam, 3, [0.0, 1.0], grid="0.1")
    with pytest.raises(TypeError, match="offset must be a real number"):
        loss_histogram(lam, 3, [0.0, 1.0], offset=None)
    with pytest.raises(TypeError, match="exact must be None, True or False"):
        loss_histogram(lam, 3, [0.0, 1.0], exact="yes")
    with pytest.raises(ValueError, match="edges must be"):
        loss_histogram(lam, 3, [1.0, 0.0])
    with pytest.raises(ValueError, match="edges must be finite"):
        loss_histogram(lam, 3, [0.0, np.inf])
    with pytest.raises(ValueError, match="offset must be finite"):
        loss_histogram(lam, 3, [0.0, 1.0], offset=np.nan)
    with pytest.raises(HistogramTooLargeError, match="coarser grid"):
        loss_histogram(spectrum(200, 0), 100, [0.0, 1.0], grid=1e-9)
    with pytest.raises(HistogramTooLargeError, match="sums beyond 2"):
        loss_histogram(spectrum(200, 0), 100, [0.0, 1.0], grid=1e-14)  # int64 sums would wrap
    with pytest.raises(HistogramTooLargeError, match="coarser grid"):
        loss_histogram(spectrum(30, 0), 15, [0.0, 1e-6, 2e-6])
