"""The sorted-table search path of the enumeration kernel is bitwise the old walk.

Whole tables of low subsets are searched (bisection on their sorted sums) instead of
walked once they hold ``Plan.search_min`` sets. Every aggregate must come out
identical to the walk's: index counts, histogram with under- and overflow,
``count_below``, and the lowest / highest values with their ranks (tie order). The walk
is kept as the small-table path, so a plan with ``search_min`` beyond every table
size is the reference.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastscape
from fastscape import engine
from fastscape.theory import critical_value

WALK_ONLY = 2**62


def _plan(lam, p, ranks, edges, threshold, offset=0.0, n_lowest=5, n_highest=4):
    w = np.diff(edges)
    uniform = bool(np.allclose(w, w[0], rtol=1e-9, atol=0))
    return engine.Plan.build(
        lam, lam.size, p, ranks, offset, edges, uniform, threshold, n_lowest, n_highest
    )


def _run(plan, chunk_size, search_min):
    p = dataclasses.replace(plan, search_min=search_min)
    return engine.compute_chunks(p, engine.chunk_plan(plan.q, plan.ks, chunk_size))


def _assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for key in x:
            np.testing.assert_array_equal(x[key], y[key], err_msg=key, strict=True)


def _edges(kind, lo, hi, rng):
    if kind == "uniform":
        return np.linspace(lo, hi, 17)
    if kind == "inner":  # part of the range: under- and overflow are counted
        return np.linspace(lo + 0.3 * (hi - lo), hi - 0.2 * (hi - lo), 9)
    return np.unique(np.concatenate([[lo, hi], rng.uniform(lo, hi, 11)]))  # not uniform


CASES = [
    # q, p, ranks: with q >= 32 the split is h = 16, so tables hold up to C(16, 8) sets
    (12, 6, "full"),
    (18, 9, "all"),
    (24, 10, "full"),
    (32, 4, "full"),
    (32, 3, "all"),
    (32, 29, "full"),
    (26, 13, "full"),
]


@pytest.mark.parametrize("q,p,ranks", CASES)
@pytest.mark.parametrize("edge_kind", ["uniform", "inner", "random"])
def test_search_equals_walk_random_spectra(q, p, ranks, edge_kind):
    rng = np.random.default_rng(q * 100 + p)
    lam = np.sort(rng.uniform(0.05, 5.0, q))[::-1].copy()
    k = min(p, q)
    lo, hi = critical_value(lam, range(k)), critical_value(lam, range(q - k, q))
    if ranks == "all":
        hi = critical_value(lam, ())
    edges = _edges(edge_kind, lo, hi, rng)
    threshold = float(lo + 0.4 * (hi - lo))
    plan = _plan(lam, p, ranks, edges, threshold)
    total = sum(math.comb(q, kk) for kk in plan.ks)
    walk = _run(plan, max(1, total // 7), WALK_ONLY)
    for search_min in (1, engine.SEARCH_MIN):
        _assert_same(_run(plan, max(1, total // 7), search_min), walk)
    # small chunks: most tables are cut at chunk edges (partial runs are walked)
    _assert_same(_run(plan, 997, 1), _run(plan, 997, WALK_ONLY))


@pytest.mark.parametrize("q,p", [(20, 10), (32, 5)])
def test_search_equals_walk_with_ties_on_edges_and_threshold(q, p):
    """Integer eigenvalues: massive ties, and losses exactly on edges and threshold."""
    lam = np.arange(q, 0, -1, dtype=np.float64)
    lo, hi = critical_value(lam, range(p)), critical_value(lam, range(q - p, q))
    edges = np.arange(np.floor(lo), np.ceil(hi) + 0.5, 0.5)  # every loss is on an edge
    for threshold in (float(np.round((lo + hi) / 2)), lo, hi, -np.inf):
        plan = _plan(lam, p, "full", edges, threshold, n_lowest=7, n_highest=6)
        walk = _run(plan, 2**20, WALK_ONLY)
        _assert_same(_run(plan, 2**20, 1), walk)
        # ties are many: the kept values have equal losses, in rank order
        lows = walk[0]["low_v"]
        assert np.unique(lows).size < lows.size


def test_search_equals_walk_with_a_large_offset():
    """An offset that swallows low bits: distinct sums round to the same loss."""
    rng = np.random.default_rng(7)
    lam = np.sort(rng.uniform(1e-3, 1.0, 30))[::-1].copy()
    offset = 1.0e15  # one ulp is 0.125
    lo = offset + critical_value(lam, range(15))
    hi = offset + critical_value(lam, range(15, 30))
    plan = _plan(lam, 15, "full", np.linspace(lo, hi, 33), float(offset + 3.0), offset)
    ref = _run(plan, 2**22, WALK_ONLY)
    _assert_same(_run(plan, 2**22, 1), ref)
    assert np.unique(ref[0]["low_v"]).size < ref[0]["low_v"].size  # rounding made ties


def test_pipeline_default_path_equals_walk(monkeypatch):
    """enumerate_landscape end to end (pieces, merge, threads): the same summary."""
    lam = fastscape.random_spectrum(28, 3)

    def summary():
        s = fastscape.enumerate_landscape(lam, 14, n_lowest=6, n_highest=6, threshold=3.0)
        d = s.to_json()
        d.pop("timing")
        return d

    fast = summary()
    monkeypatch.setattr(engine, "SEARCH_MIN", WALK_ONLY)
    assert summary() == fast


def test_resume_mixes_walked_and_searched_chunk_files(tmp_path, monkeypatch):
    """A run directory written by the walk (the previous engine) resumes exactly."""
    lam = fastscape.random_spectrum(30, 1)
    kw = dict(n_lowest=5, n_highest=5, threshold=8.0, chunk_size=2**21)

    def strip(s):
        d = s.to_json()
        d.pop("timing")
        return d

    fresh = strip(fastscape.enumerate_landscape(lam, 12, **kw))
    monkeypatch.setattr(engine, "SEARCH_MIN", WALK_ONLY)
    fastscape.enumerate_landscape(lam, 12, out=tmp_path / "run", **kw)
    files = sorted((tmp_path / "run" / "chunks").iterdir())
    assert len(files) > 4
    for f in files[::2]:  # as if killed: half of the chunks never written
        f.unlink()
    (tmp_path / "run" / "summary.json").unlink()
    monkeypatch.setattr(engine, "SEARCH_MIN", 1)
    resumed = fastscape.enumerate_landscape(lam, 12, out=tmp_path / "run", resume=True, **kw)
    assert resumed.timing["chunks_reused"] == len(files) - len(files[::2])
    assert strip(resumed) == fresh


@settings(max_examples=30, deadline=None)
@given(
    q=st.integers(2, 20),
    data=st.data(),
    ranks=st.sampled_from(["full", "all"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_search_equals_walk_hypothesis(q, data, ranks, seed):
    """Random sizes, spectra (integer-valued half the time: ties), edges, thresholds, chunks."""
    p = data.draw(st.integers(1, q), label="p")
    rng = np.random.default_rng(seed)
    if data.draw(st.booleans(), label="integer spectrum"):
        lam = np.sort(rng.choice(np.arange(1, 3 * q + 1), q, replace=False))[::-1].astype(float)
    else:
        lam = np.sort(rng.uniform(0.05, 5.0, q))[::-1].copy()
    hi = critical_value(lam, ()) if ranks == "all" else critical_value(lam, range(q - p, q))
    lo = critical_value(lam, range(p))
    nb = data.draw(st.integers(1, 12), label="bins")
    edges = np.linspace(lo, hi, nb + 1) if lo < hi else np.array([lo - 1.0, lo + 1.0])
    threshold = float(rng.choice([-np.inf, lo, hi, (lo + hi) / 2, np.round(lo + 0.3 * (hi - lo))]))
    plan = _plan(lam, p, ranks, edges, threshold)
    chunk = data.draw(st.integers(1, 5000), label="chunk_size")
    _assert_same(_run(plan, chunk, 1), _run(plan, chunk, WALK_ONLY))
