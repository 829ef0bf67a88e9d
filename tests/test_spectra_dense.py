"""Dense classify with running progress: the panel-by-panel reduction and its reports."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg.lapack as sla
from fastscape.kernels import tridiagonal_steps as kt

import fastscape
from fastscape import classify_methods
from fastscape.spectra_dense import DenseProgress


def _stepped(a):
    """d, e of the panel-by-panel reduction of symmetric a (a copy is overwritten)."""
    m = a.shape[0]
    a = np.ascontiguousarray(a, dtype=np.float64).copy()
    d, e, tau = np.empty(m), np.zeros(m), np.empty(m)
    w, scal, iwork = kt.panel_workspace(m)
    starts = kt.panel_starts(m)
    for i in starts:
        kt.tridiagonal_panel(a, m, i, d, e, tau, w, scal, iwork)
    info = kt.tridiagonal_tail(a, m, starts[-1] + kt.PANEL if len(starts) else 0, d, e, tau, iwork)
    assert info == 0
    return d, e[: m - 1]


@pytest.mark.parametrize("m", [3, 32, 33, 64, 65, 150])
def test_steps_are_dsytrd(m):
    """Same operations as one LAPACK dsytrd call: the same T, bit for bit; T has A's spectrum."""
    rng = np.random.default_rng(m)
    x = rng.standard_normal((m, m))
    a = x + x.T
    d, e = _stepped(a)
    _, d0, e0, _, info = sla.dsytrd(a, lower=1, lwork=64 * m)  # room for the blocked code
    assert info == 0
    assert np.array_equal(d, d0) and np.array_equal(e, e0)
    t = np.diag(d) + np.diag(e, 1) + np.diag(e, -1)
    ref = np.linalg.eigvalsh(a)
    assert np.allclose(np.linalg.eigvalsh(t), ref, atol=1e-12 * np.abs(ref).max())


@pytest.fixture(scope="module")
def point():
    rng = np.random.default_rng(3)
    m = fastscape.Moments(np.eye(8), rng.standard_normal((8, 8)), np.eye(8) * 20)
    return fastscape.random_weights((8, 12, 12, 8), seed=3), m  # N = 336, one block


@pytest.fixture(scope="module")
def split_point():
    """A single layer: H = I (x) Sxx, dy blocks of dx = 150 rows (reduced in panels too)."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((400, 150))
    y = x @ rng.standard_normal((150, 2))
    m = fastscape.Moments.from_data(x, y)
    return [rng.standard_normal((2, 150))], m


def _same(a, b):
    assert (a.kind, a.morse_index, a.nullity) == (b.kind, b.morse_index, b.nullity)
    assert a.min_eigenvalue == b.min_eigenvalue and a.loss == b.loss
    assert a.grad_norm == b.grad_norm and a.tol == b.tol


@pytest.mark.parametrize("which", ["point", "split_point"])
def test_progress_lines_and_same_result(which, request, monkeypatch, capsys):
    ws, m = request.getfixturevalue(which)
    quiet = fastscape.classify(ws, m, method="dense")  # small: no progress by default
    assert "classify, N =" not in capsys.readouterr().err
    monkeypatch.setattr(classify_methods, "PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(DenseProgress, "EVERY", 0.0)
    shown = fastscape.classify(ws, m, method="dense")  # now "long": progress by default
    err = capsys.readouterr().err
    n = sum(w.size for w in ws)
    assert f"classify, N = {n:,}: filling the dense Hessian" in err
    assert "tridiagonal reduction" in err and "left" in err
    assert "inertia counted" in err
    _same(quiet, shown)
    assert fastscape.classify(ws, m, method="dense", progress=False) is not None
    assert "classify, N =" not in capsys.readouterr().err


def test_progress_callback(point, capsys):
    ws, m = point
    calls = []
    a = fastscape.classify(ws, m, method="dense", progress=lambda d, t: calls.append((d, t)))
    assert capsys.readouterr().err.count("classify, N =") == 0  # the callback replaces it
    n = 336
    total = int(4 / 3 * n**3 / 1e6)
    assert len(calls) == len(kt.panel_starts(n)) + 1  # one report per panel, one at the end
    assert all(t == total for _, t in calls) and calls[-1][0] == total
    assert all(x[0] <= y[0] for x, y in zip(calls, calls[1:], strict=False))
    _same(a, fastscape.classify(ws, m, method="dense", progress=False))


def test_bad_progress(point):
    ws, m = point
    with pytest.raises(TypeError, match="progress must be"):
        fastscape.classify(ws, m, progress="yes")
