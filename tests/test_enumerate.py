"""The streaming enumeration engine against plain itertools references and the two-layer laws."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive_landscape import bin_counts, brute_points, index_histogram

import fastscape
from fastscape.theory import gaussian_binomial, index_counts


def strip(summary):
    d = summary.to_json()
    d.pop("timing")
    return d


@settings(max_examples=25, deadline=None)
@given(
    q=st.integers(1, 9),
    data=st.data(),
    all_ranks=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_engine_matches_brute_force(q, data, all_ranks, seed):
    p = data.draw(st.integers(1, q + 2 if all_ranks else q), label="p")
    chunk = data.draw(st.integers(1, 50), label="chunk_size")
    nb = data.draw(st.integers(1, 9), label="bins")
    lam = np.sort(np.random.default_rng(seed).uniform(0.05, 5.0, q))[::-1].copy()
    pts = brute_points(lam, p, all_ranks=all_ranks)
    losses = np.array([pt[0] for pt in pts])
    # a threshold in the widest gap between neighbouring losses: "strictly below" is then
    # unambiguous whatever the rounding (strictness itself: test_threshold_is_strict)
    ordered = np.unique(losses)
    gaps = np.diff(ordered)
    thr = float(ordered[-1] + 1.0 if gaps.size == 0 else ordered[np.argmax(gaps)] + gaps.max() / 2)
    s = fastscape.enumerate_landscape(
        lam, p, ranks="all" if all_ranks else "full", bins=nb, n_lowest=4, n_highest=3,
        threshold=thr, chunk_size=chunk,
    )  # fmt: skip
    assert s.complete and s.total == s.counted == len(pts)
    assert list(s.index_counts) == index_histogram(pts)
    scale = max(1.0, float(losses.max()))
    assert s.count_below == int(np.sum(losses < thr))
    hist = [s.hist_underflow, *s.hist_counts, s.hist_overflow]
    assert hist[0] == hist[-1] == 0 and sum(hist) == len(pts)  # default bins cover all
    ref = bin_counts(losses, s.hist_edges)
    assert sum(abs(a - b) for a, b in zip(hist, ref, strict=False)) <= 2 * np.sum(
        np.min(np.abs(losses[:, None] - s.hist_edges[None, :]), axis=1) < 1e-12 * scale
    )
    order = sorted(pts, key=lambda pt: pt[0])
    for got, want in zip(s.lowest, order[:4], strict=False):
        assert got.loss == pytest.approx(want[0], rel=1e-13, abs=1e-13 * scale)
        assert got.morse_index == _index_by_definition(lam, got.index_set, p, all_ranks)
    assert len(s.lowest) == min(4, len(pts)) and len(s.highest) == min(3, len(pts))
    for got, want in zip(s.highest, order[::-1][:3], strict=False):
        assert got.loss == pytest.approx(want[0], rel=1e-13, abs=1e-13 * scale)


def _index_by_definition(lam, index_set, p, all_ranks):
    q, k = lam.size, len(index_set)
    mask = np.zeros(q, dtype=bool)
    mask[list(index_set)] = True
    inv = int(np.sum(lam[~mask][:, None] > lam[mask][None, :]))
    return inv + ((q - k) * (p - k) if all_ranks else 0)


@pytest.mark.parametrize("q,p", [(12, 6), (20, 10), (24, 11), (30, 3)])
def test_index_counts_equal_gaussian_binomial(q, p):
    s = fastscape.enumerate_landscape(fastscape.random_spectrum(q, 1), p, n_lowest=0, n_highest=0)
    assert list(s.index_counts) == gaussian_binomial(q, p)
    assert s.total == math.comb(q, p)


def test_all_ranks_counts_equal_closed_form():
    s = fastscape.enumerate_landscape(fastscape.random_spectrum(18, 2), 7, ranks="all")
    assert list(s.index_counts) == index_counts(18, 7, ranks="all")


def test_identical_for_any_thread_count_and_chunk_size():
    lam = fastscape.random_spectrum(22, 3)
    kw = dict(bins=50, n_lowest=25, n_highest=25, threshold=float(lam.sum() / 2 - 3))
    ref = None
    previous = numba.get_num_threads()
    for threads in (1, 2):
        for chunk in (997, 4096, 100_000, 10**7):
            s = fastscape.enumerate_landscape(lam, 11, threads=threads, chunk_size=chunk, **kw)
            assert numba.get_num_threads() == previous  # restored
            d = strip(s)
            d.pop("chunking")
            if ref is None:
                ref = d
            assert d == ref  # bitwise: exact float repr in the JSON
    s = fastscape.enumerate_landscape(lam, 5, ranks="all", threads=1, chunk_size=333, **kw)
    t = fastscape.enumerate_landscape(lam, 5, ranks="all", threads=2, chunk_size=50_000, **kw)
    assert {**strip(s), "chunking": 0} == {**strip(t), "chunking": 0}


def test_chunks_cut_into_pieces_merge_exactly():
    """compute_chunks cuts chunks into pieces for load balance; the merge is exact.

    Integer eigenvalues make many equal losses, so the (value, rank) tie order of the
    lowest / highest lists is exercised; the reference is one uncut walk per chunk.
    """
    from fastscape import engine
    from fastscape.landscape import _edges

    q, p = 16, 7
    lam = np.arange(q, 0, -1.0)
    edges, uniform = _edges(lam, p, False, 0.0, 40)
    plan = engine.Plan.build(lam, q, p, "full", 0.0, edges, uniform, float(lam.sum() / 4), 9, 7)
    chunks = engine.chunk_plan(q, plan.ks, 1500)
    ref = engine.compute_chunks(plan, chunks, min_piece=10**18)  # nothing cut
    previous = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            for min_piece in (1, 50):
                got = engine.compute_chunks(plan, chunks[:3], min_piece=min_piece)
                got += [
                    engine.compute_chunks(plan, [c], min_piece=min_piece)[0] for c in chunks[3:]
                ]
                assert len(got) == len(ref)
                for a, b in zip(ref, got, strict=True):
                    assert a.keys() == b.keys()
                    for key in a:
                        assert np.array_equal(a[key], b[key]), key
    finally:
        numba.set_num_threads(previous)


def test_tied_losses_lowest_and_highest():
    """Integer eigenvalues: many equal losses around the kept lists' boundaries.

    The kept values must be the brute-force extremes, each listed set must have that
    loss, and the choice among ties must not depend on the chunking or threads.
    """
    lam = np.arange(14, 0, -1.0)
    points = brute_points(lam, 6)
    losses = sorted(pt[0] for pt in points)
    ref = None
    for threads, chunk in ((1, 7), (2, 100), (2, 5000)):
        s = fastscape.enumerate_landscape(
            lam, 6, n_lowest=15, n_highest=15, threads=threads, chunk_size=chunk
        )
        assert [v.loss for v in s.lowest] == pytest.approx(losses[:15], abs=1e-12)
        assert [v.loss for v in s.highest] == pytest.approx(losses[::-1][:15], abs=1e-12)
        for v in s.lowest + s.highest:
            mask = np.ones(lam.size, dtype=bool)
            mask[list(v.index_set)] = False
            assert v.loss == pytest.approx(0.5 * lam[mask].sum(), abs=1e-12)
        d = strip(s)
        d.pop("chunking")
        ref = d if ref is None else ref
        assert d == ref


def test_absolute_loss_from_moments_matches_direct_loss():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((200, 6))
    Y = X @ rng.standard_normal((6, 5)) + 0.3 * rng.standard_normal((200, 5))
    m = fastscape.Moments.from_data(X, Y)
    s = fastscape.enumerate_landscape(m, 2, ranks="all", n_lowest=30, n_highest=0)
    assert s.loss_kind.startswith("absolute")
    lstar = np.linalg.solve(m.sxx, m.syx.T).T
    sigma = lstar @ m.syx.T
    vals, vecs = np.linalg.eigh((sigma + sigma.T) / 2)
    u = vecs[:, np.argsort(vals)[::-1]]
    for v in s.lowest:
        us = u[:, list(v.index_set)]
        w = us @ us.T @ lstar
        direct = 0.5 * np.trace(m.syy) - np.trace(w @ m.syx.T) + 0.5 * np.trace(w @ m.sxx @ w.T)
        assert v.loss == pytest.approx(direct, rel=1e-10, abs=1e-10)
    assert s.total == sum(math.comb(5, k) for k in range(3))


def test_overflow_detected_and_closed_form_exact():
    lam = fastscape.random_spectrum(67, 0)
    with pytest.raises(OverflowError, match=str(math.comb(67, 33))):
        fastscape.enumerate_landscape(lam, 33)
    c = fastscape.count_landscape(lam, 33, n_lowest=3, bins=4)
    assert c.total == math.comb(67, 33) >= 2**63
    assert sum(c.index_counts) == c.total and isinstance(c.index_counts[33 * 17], int)
    assert c.hist_underflow + sum(c.hist_counts) + c.hist_overflow == c.total


def test_summary_round_trip(tmp_path):
    s = fastscape.enumerate_landscape(fastscape.random_spectrum(10, 0), 4, threshold=2.0)
    s.save(tmp_path)
    t = fastscape.LandscapeSummary.load(tmp_path)
    assert t == s and t.lowest == s.lowest
    assert np.array_equal(t.hist_edges, s.hist_edges)


def test_user_bin_edges_nonuniform():
    lam = fastscape.random_spectrum(14, 6)
    edges = np.array([0.0, 3.0, 3.2, 3.21, 3.5, 4.0])
    s = fastscape.enumerate_landscape(lam, 7, bins=edges)
    pts = brute_points(lam, 7)
    assert [s.hist_underflow, *s.hist_counts, s.hist_overflow] == bin_counts(
        [pt[0] for pt in pts], edges
    )


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(p=5), "p = 5 > q = 4"),
        (dict(p=2, bins=0), "bins must be >= 1"),
        (dict(p=2, bins=[1.0, 0.5]), "strictly increasing"),
        (dict(p=2, n_lowest=-1), "n_lowest"),
        (dict(p=2, chunk_size=0), "chunk_size"),
        (dict(p=2, threads=10**6), "NUMBA_NUM_THREADS"),
        (dict(p=2, threshold=float("nan")), "threshold"),
        (dict(p=2, resume=True), "needs out"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fastscape.enumerate_landscape([4.0, 3.0, 2.0, 1.0], **kwargs)


@pytest.mark.parametrize(
    "spec,match", [([1.0, 2.0], "descending"), ([2.0, 2.0], "tied"), ([1.0, 0.0], "zero")]
)
def test_bad_spectra_are_refused(spec, match):
    with pytest.raises(ValueError, match=match):
        fastscape.enumerate_landscape(spec, 1)


def test_progress_callback_reaches_total():
    seen = []
    fastscape.enumerate_landscape(
        fastscape.random_spectrum(16, 0),
        8,
        chunk_size=1000,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen[0] == (0, 12870) and seen[-1] == (12870, 12870)
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:], strict=False))


@pytest.mark.parametrize("q,p,all_ranks", [(40, 2, False), (34, 3, True), (33, 31, False)])
def test_large_q_beyond_the_split_cap(q, p, all_ranks):
    """q > 32: the low part is capped at 16 positions; still exact against references."""
    lam = fastscape.random_spectrum(q, q)
    pts = brute_points(lam, p, all_ranks=all_ranks)
    s = fastscape.enumerate_landscape(lam, p, ranks="all" if all_ranks else "full", n_lowest=20,
                                      n_highest=5, chunk_size=97)  # fmt: skip
    assert (
        list(s.index_counts)
        == index_histogram(pts)
        == index_counts(q, p, ranks="all" if all_ranks else "full")
    )
    order = sorted(pts, key=lambda pt: pt[0])
    assert [v.index_set for v in s.lowest] == [pt[1] for pt in order[:20]]
    assert [v.index_set for v in s.highest] == [pt[1] for pt in order[::-1][:5]]
    c = fastscape.count_landscape(lam, p, ranks="all" if all_ranks else "full", n_lowest=20)
    assert c.lowest == s.lowest


def test_threshold_is_strict():
    """count_below counts loss < threshold: a threshold equal to attained losses excludes them.

    Integer eigenvalues make every loss a half-integer, exact in floating point.
    """
    lam = np.array([4.0, 3.0, 2.0, 1.0])
    pts = brute_points(lam, 2)
    losses = np.array([pt[0] for pt in pts])  # 1.5, 2.0, 2.5, 2.5, 3.0, 3.5
    for thr in (2.5, 3.0):
        s = fastscape.enumerate_landscape(lam, 2, threshold=thr, chunk_size=2)
        assert s.count_below == int(np.sum(losses < thr)) < int(np.sum(losses <= thr))


@pytest.mark.parametrize("all_ranks", [False, True])
def test_kernel_index_is_the_python_index_law_on_every_set(all_ranks):
    """The kernel counts index = base - sum(T) (its own compiled form of the law); one
    chunk per set makes its index histogram that set's index, compared with
    theory.morse_index_distinct and theory.morse_index for every subset, q <= 6."""
    from fastscape import engine
    from fastscape.landscape import _edges
    from fastscape.theory import morse_index, morse_index_distinct, unrank_set

    for q in range(1, 7):
        lam = np.arange(q, 0, -1.0)
        for p in range(1, q + 2 if all_ranks else q + 1):
            edges, uniform = _edges(lam, p, all_ranks, 0.0, 4)
            plan = engine.Plan.build(
                lam, q, p, "all" if all_ranks else "full", 0.0, edges, uniform, -np.inf, 0, 0
            )
            chunks = [(k, r, r + 1) for k in plan.ks for r in range(math.comb(q, k))]
            for (k, r, _), a in zip(chunks, engine.compute_chunks(plan, chunks), strict=True):
                s = unrank_set(q, k, r)
                law = morse_index_distinct(q, p, s)
                assert np.flatnonzero(a["counts"]).tolist() == [law] and a["counts"].sum() == 1
                assert law == morse_index(lam, s, p)
