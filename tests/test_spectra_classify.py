"""classify(method="matrix-free" | "auto") against the dense route on points of known kind."""

from __future__ import annotations

import numpy as np
import pytest

import fastscape
from fastscape import classify_methods
from fastscape.theory import weight_decay_critical_point


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 4))
    Y = X @ rng.standard_normal((4, 4)) + rng.standard_normal((100, 4))
    return fastscape.Moments.from_data(X, Y)


def _agree(ws, m, **kw):
    a = fastscape.classify(ws, m, method="dense", **kw)
    b = fastscape.classify(ws, m, method="matrix-free", **kw)
    assert isinstance(b, fastscape.MatrixFreeClassification)
    assert b.kind == a.kind, (a, b)
    assert b.morse_index is None or b.morse_index == a.morse_index
    assert b.nullity is None or b.nullity == a.nullity
    assert np.isclose(b.loss, a.loss) and np.isclose(b.global_min_loss, a.global_min_loss)
    if b.min_eigenvalue is not None and b.kind == "strict_saddle":
        # the Rayleigh-quotient certificate is an upper bound on the smallest eigenvalue
        assert a.min_eigenvalue <= b.min_eigenvalue + 1e-9 * abs(a.min_eigenvalue)
    return a, b


@pytest.mark.parametrize(
    "S,rep,kind,by",
    [
        ([0, 1, 2], "tight", "global_min", "loss"),
        ([0], "tight", "non_strict_saddle", "rank rule"),
        ([0, 1], "tight", "non_strict_saddle", "rank rule"),
        ([0], "loose", "strict_saddle", "rank rule"),
        ([1], "tight", "strict_saddle", "rank rule"),
    ],
)
def test_deep_points(data, S, rep, kind, by):
    ws = fastscape.deep_point(data, [4, 3, 3, 3, 4], S, representative=rep)
    _, b = _agree(ws, data)
    assert (b.kind, b.decided_by) == (kind, by)
    if kind != "strict_saddle":
        assert b.morse_index == 0


@pytest.mark.parametrize("S", [[0, 1], [0, 2], [1, 3], [0], []])
def test_two_layer_points_with_closed_form_index(data, S):
    C = np.array([[2.0, 0.3], [-0.4, 0.7]])
    ws = fastscape.canonical_point(data, [4, 2, 4], S, C=C)
    a, b = _agree(ws, data)
    assert b.morse_index == a.morse_index and b.nullity == a.nullity


def test_not_critical_and_weight_decay(data):
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal((4, 4)) for _ in range(3)]
    _, b = _agree(ws, data)
    assert (b.kind, b.decided_by) == ("not_critical", "gradient")
    m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 4)
    kinds = []
    for S in ([0, 1], [0, 2], [1, 2]):
        ws = weight_decay_critical_point(m, 2, S, 0.3)
        kinds.append(_agree(ws, m, weight_decay=0.3)[1])
    assert [(b.kind, b.decided_by) for b in kinds[1:]] == [("strict_saddle", "lanczos")] * 2
    assert kinds[1].min_eigenvalue < -kinds[1].eigenvalue_tol


def test_auto_picks_by_cost(data, monkeypatch):
    ws = fastscape.deep_point(data, [4, 3, 3, 3, 4], [0])
    assert isinstance(fastscape.classify(ws, data), fastscape.Classification)
    monkeypatch.setattr(classify_methods, "DENSE_TIME_LIMIT", 0.0)
    c = fastscape.classify(ws, data)
    assert isinstance(c, fastscape.MatrixFreeClassification) and c.kind == "non_strict_saddle"
    assert classify_methods.dense_seconds(20_000) > 60 > classify_methods.dense_seconds(2_000)


def test_unknown_method(data):
    ws = fastscape.deep_point(data, [4, 3, 4], [0])
    with pytest.raises(ValueError, match="method must be one of.*'matrix-free'"):
        fastscape.classify(ws, data, method="sparse")
