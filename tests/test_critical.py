"""critical_points: the inertia law on hundreds of random shapes, degenerate data, threads.

Independent references: Sigma's spectrum by numpy.linalg.eigh, the index and nullity
laws recomputed here from their definitions by brute-force pair counting, Hessians from
tests/reference.py (Kronecker products, no kernel code).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import reference as ref
from hypothesis import given, settings
from hypothesis import strategies as st

import fastscape
from fastscape import theory
from fastscape._indexsets import padded
from fastscape.critical import _predict


def _moments(dx, dy, seed, *, rank=None, n=30, noise=0.4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dx)) * rng.uniform(0.5, 2.0, dx)
    if rank is None:
        Y = X @ rng.standard_normal((dx, dy)) + noise * rng.standard_normal((n, dy))
    else:  # exactly rank-deficient Syx: q = rank
        Y = X @ rng.standard_normal((dx, rank)) @ rng.standard_normal((rank, dy))
    return fastscape.Moments.from_data(X, Y)


def _laws(m, s, p):
    """The two-layer laws by explicit pair counting (no fastscape code)."""
    sig = m.syx @ np.linalg.solve(m.sxx, m.syx.T)
    lam = np.sort(np.linalg.eigvalsh((sig + sig.T) / 2))[::-1]
    lam = lam[lam > 1e-9 * max(lam[0], np.linalg.norm(m.syy, 2))]
    q, k = lam.size, len(s)
    out = [i for i in range(q) if i not in s]
    inv = sum(1 for i in out for j in s if lam[i] > lam[j] * (1 + 1e-6))
    ties = sum(1 for i in out for j in s if abs(lam[i] - lam[j]) <= 1e-6 * lam[0])
    index = inv + (q - k) * (p - k)
    null = k * k + (p - k) * (m.dx + m.dy) - 2 * (q - k) * (p - k) + ties
    return q, 0.5 * (np.trace(m.syy) - lam[list(s)].sum()), index, null


def _check(m, p, *, threads=None):
    cps = fastscape.critical_points(m, [m.dx, p, m.dy], threads=threads)
    assert cps.disagreements == ()
    for i, s in enumerate(cps.index_sets):
        q, loss, index, null = _laws(m, s, p)
        assert cps.morse_index[i] == index and cps.nullity[i] == null
        assert abs(cps.loss[i] - loss) <= 1e-9 * np.trace(m.syy)
    assert len(cps) == sum(math.comb(q, k) for k in range(min(p, q) + 1))
    return cps


def test_inertia_law_on_hundreds_of_random_shapes():
    rng = np.random.default_rng(2024)
    points = deficient_points = 0
    for case in range(240):
        dx, dy = (int(x) for x in rng.integers(1, 6, 2))
        p = int(rng.integers(1, 6))
        rank = int(rng.integers(1, min(dx, dy) + 1)) if case % 3 == 0 else None
        cps = _check(_moments(dx, dy, case, rank=rank), p)
        points += len(cps)
        deficient_points += int(np.sum(cps.rank < p))
    assert points >= 1000 and deficient_points >= 400, (points, deficient_points)


@settings(deadline=None)
@given(
    dx=st.integers(1, 6),
    dy=st.integers(1, 6),
    p=st.integers(1, 6),
    rank=st.integers(0, 6),
    seed=st.integers(0, 10**6),
)
def test_inertia_law_property(dx, dy, p, rank, seed):
    r = rank if 0 < rank < min(dx, dy) else None
    _check(_moments(dx, dy, seed, rank=r), p)


def test_kernel_spectra_match_reference_hessian():
    m = _moments(4, 3, 1)
    cps = fastscape.critical_points(m, [4, 2, 3], gauge="random", seed=3)
    for i in range(len(cps)):
        ws = cps.weights(i)
        h = ref.hessian(ws, m.sxx, m.syx)
        ev = np.linalg.eigvalsh((h + h.T) / 2)
        tol = 1e-8 * np.abs(ev).max()
        assert int(np.sum(ev < -tol)) == cps.morse_index[i]
        assert int(np.sum(np.abs(ev) <= tol)) == cps.nullity[i]
        assert abs(ev[0] - cps.min_eigenvalue[i]) <= 1e-8 * np.abs(ev).max()


def test_whitened_hessian_spectrum_closed_form():
    rng = np.random.default_rng(5)
    for dx, p, dy in [(4, 2, 3), (3, 3, 5), (5, 1, 5)]:
        syx = rng.standard_normal((dy, dx))
        m = fastscape.Moments(np.eye(dx), syx, syx @ syx.T + np.eye(dy))
        lam = np.linalg.svd(syx, compute_uv=False) ** 2
        for s in fastscape.critical_points(m, [dx, p, dy], verify=False).index_sets:
            B, A = fastscape.canonical_point(m, [dx, p, dy], s)
            h = ref.hessian([B, A], m.sxx, m.syx)
            ev = np.linalg.eigvalsh((h + h.T) / 2)
            pred = theory.whitened_hessian_spectrum(lam, s, p, dx, dy)
            assert np.allclose(ev, pred, atol=1e-9 * (1 + lam[0]))


def test_laws_match_vectorised_predictions():
    rng = np.random.default_rng(1)
    lam = np.sort(rng.uniform(0.1, 5, 7))[::-1]
    lam[3] = lam[4]  # a tie
    sets = [s for k in range(5) for s in itertools.combinations(range(7), k)]
    loss, index, null = _predict(lam, padded(sets, 4), 4, 6, 8, 1e-12, 10.0)
    for i, s in enumerate(sets):
        assert loss[i] == pytest.approx(theory.critical_loss(lam, s, 10.0))
        assert index[i] == theory.morse_index(lam, s, 4, tie_tol=1e-12)
        assert null[i] == theory.nullity(lam, s, 4, 6, 8, tie_tol=1e-12)
        assert theory.inversions(lam, s) + (7 - len(s)) * (4 - len(s)) == theory.morse_index(
            lam, s, 4
        )


def test_tied_eigenvalues_warn_and_follow_the_nullity_law():
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    V, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    syx = U @ np.diag([3.0, 2.0, 2.0, 1.0]) @ V.T  # lambda = 9, 4, 4, 1: tie at 1, 2
    m = fastscape.Moments(np.eye(4), syx, syx @ syx.T + np.eye(4))
    with pytest.warns(fastscape.TiedEigenvaluesWarning, match=r"positions 1 and 2"):
        cps = fastscape.critical_points(m, [4, 2, 4])
    assert cps.disagreements == ()
    i = cps.index_sets.index((0, 1))
    assert cps.nullity[i] == 2 * 2 + 1  # p^2 + ties(S): (2, 1) is tied
    assert cps.kind[i] == "global_min" and cps.kind[cps.index_sets.index((0, 2))] == "global_min"
    for i, s in enumerate(cps.index_sets):
        assert cps.nullity[i] == _laws(m, s, 2)[3]


def test_singular_sxx_error_suggests_ridge():
    X = np.random.default_rng(0).standard_normal((10, 2)) @ np.ones((2, 3))
    m = fastscape.Moments.from_data(X, X[:, :2])
    with pytest.raises(fastscape.SingularInputError, match="ridge"):
        fastscape.critical_points(m, [3, 1, 2])
    m2 = fastscape.Moments.from_data(X, X[:, :2], ridge=1e-3)
    assert fastscape.critical_points(m2, [3, 1, 2]).disagreements == ()


@pytest.mark.parametrize(
    "dx, p, dy, rank",
    [
        (5, 2, 4, 2),
        (4, 4, 4, 2),
        (4, 1, 3, None),
        (4, 3, 3, None),
        (5, 2, 1, None),
        (3, 6, 2, None),
        (1, 1, 1, None),
    ],
    ids=["q<min", "p>q", "p=1", "p=min", "dy=1", "p>d", "scalar"],
)
def test_degenerate_shapes(dx, p, dy, rank):
    m = _moments(dx, dy, 11, rank=rank)
    cps = _check(m, p)
    q = rank if rank is not None else min(dx, dy)
    assert max(cps.rank) == min(p, q)
    assert list(cps.kind).count("global_min") == 1


def test_zero_eigenvectors_are_not_enumerated():
    m = _moments(5, 5, 3, rank=2)
    cps = fastscape.critical_points(m, [5, 3, 5])
    assert all(max(s, default=-1) < 2 for s in cps.index_sets) and len(cps) == 4
    with pytest.raises(ValueError, match="q = 2"):
        fastscape.critical_points(m, [5, 3, 5], index_sets=[(0, 2)])


def test_results_do_not_depend_on_threads_or_engine():
    from fastscape.inertia import RTOL, _inertia

    m = _moments(6, 5, 2)
    cps = fastscape.critical_points(m, [6, 3, 5], verify=False)
    w = np.array([6, 3, 5])
    floors = np.zeros(len(cps))
    runs = [
        _inertia(cps.thetas, w, m, False, 0.0, RTOL, floors, t, eng, blk)
        for t in (1, 2)
        for eng in ("prange", "pool")
        for blk in (True, False)
    ]
    for r in runs[1:]:
        for a, b in zip(runs[0][:2], r[:2], strict=True):
            assert np.array_equal(a, b)
        assert np.allclose(runs[0][2], r[2], rtol=0, atol=1e-12 * np.abs(r[2]).max())
        assert np.array_equal(runs[0][3], r[3])
    # the same engine and blocking give bit-identical results for 1 and 2 threads
    for a, b in ((runs[0], runs[4]), (runs[1], runs[5])):
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_point_set_api():
    m = _moments(3, 3, 4)
    cps = fastscape.critical_points(m, [3, 2, 3], ranks=1)
    assert len(cps) == 3 and set(cps.rank) == {1}
    text = str(cps)
    assert "strict_saddle" in text and "(0,)" in text and "disagreements" in text
    B, A = cps.weights(0)
    assert B.shape == (2, 3) and A.shape == (3, 2)
    again = fastscape.CriticalPointSet.from_points(
        [cps.weights(i) for i in range(3)],
        m,
        index_sets=cps.index_sets,
        predicted_morse_index=cps.predicted_morse_index,
        predicted_nullity=cps.predicted_nullity,
        predicted_loss=cps.predicted_loss,
    )
    assert np.array_equal(again.kind, cps.kind) and again.disagreements == ()
    lying = fastscape.CriticalPointSet.from_points(
        [cps.weights(0)], m, index_sets=[(0,)], predicted_morse_index=[7], predicted_nullity=[0]
    )
    assert len(lying.disagreements) == 1 and "index" in lying.disagreements[0]
    with pytest.warns(DeprecationWarning, match="predicted_morse_index"):
        old = fastscape.CriticalPointSet.from_points(
            [cps.weights(0)], m, index_sets=[(0,)], predicted_index=[7], predicted_nullity=[0]
        )
    assert old.disagreements == lying.disagreements
    with pytest.warns(DeprecationWarning, match="predicted_morse_index"):
        assert np.array_equal(cps.predicted_index, cps.predicted_morse_index)
    with pytest.raises(ValueError, match="predicted_morse_index only"):
        fastscape.CriticalPointSet.from_points(
            [cps.weights(0)], m, index_sets=[(0,)], predicted_index=[7], predicted_morse_index=[7]
        )
    assert "nullity" in lying.disagreements[0]
    unverified = fastscape.critical_points(m, [3, 2, 3], verify=False)
    assert np.all(np.isnan(unverified.grad_norm))
    full = fastscape.critical_points(m, [3, 2, 3])
    assert np.array_equal(unverified.kind, full.kind)
    assert fastscape.verify_index_sets(m, [3, 2, 3], [(0, 1)]).kind[0] == "global_min"


def test_input_errors():
    m = _moments(3, 2, 0)
    with pytest.raises(ValueError, match=r"\[3, p, 2\]"):
        fastscape.critical_points(m, [4, 2, 2])
    with pytest.raises(ValueError, match="ranks"):
        fastscape.critical_points(m, [3, 2, 2], ranks="some")
    with pytest.raises(ValueError, match="ranks"):
        fastscape.critical_points(m, [3, 2, 2], ranks=3)
    with pytest.raises(TypeError, match="Moments"):
        fastscape.critical_points(np.eye(3), [3, 2, 2])
    with pytest.raises(ValueError, match="gauge"):
        fastscape.critical_points(m, [3, 2, 2], gauge="other")
    with pytest.raises(ValueError, match="tol"):
        fastscape.critical_points(m, [3, 2, 2], tol=-1.0)
    with pytest.raises(ValueError, match="at most p"):
        fastscape.canonical_point(m, [3, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="threads"):
        fastscape.critical_points(m, [3, 2, 2], threads=0)


def test_memory_guard(monkeypatch):
    import fastscape.inertia as fi

    m = _moments(3, 2, 0)
    monkeypatch.setattr(fi, "available_memory", lambda: 1000)
    with pytest.raises(MemoryError, match="GiB"):
        fastscape.critical_points(m, [3, 2, 2])


def test_deep_widths_are_delegated():
    m = _moments(3, 3, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # whatever the deep module warns about
        out = fastscape.critical_points(m, [3, 2, 2, 3])
    assert isinstance(out, fastscape.CriticalPointSet) and out.widths == (3, 2, 2, 3)
    assert set(out.representative) <= {"tight", "loose"}


def test_single_threaded_blas_restores_thread_counts():
    from fastscape._blas import _handles, single_threaded_blas

    handles = _handles()
    assert handles, "no OpenBLAS found in the process (numpy and scipy bundle one)"
    before = [get() for get, _ in handles]
    with single_threaded_blas():
        assert all(get() == 1 for get, _ in handles)
    assert [get() for get, _ in handles] == before


def test_overlapping_single_threaded_blas_blocks_restore_the_first_counts():
    """A enters, B enters, A leaves, B leaves (as two threads may): counts come back."""
    from fastscape._blas import _handles, single_threaded_blas

    handles = _handles()
    before = [get() for get, _ in handles]
    a, b = single_threaded_blas(), single_threaded_blas()
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)
    assert all(get() == 1 for get, _ in handles)  # B is still inside
    b.__exit__(None, None, None)
    assert [get() for get, _ in handles] == before
