"""Gradient descent, flow, SGD and many runs: against a plain-numpy loop and the closed forms."""

from __future__ import annotations

import warnings

import dynamics_reference as ref
import numpy as np
import pytest

import fastscape
from fastscape.theory import learning_curve


def problem(widths, seed=0, n=40):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, widths[0]))
    Y = X @ rng.standard_normal((widths[0], widths[-1])) + 0.3 * rng.standard_normal(
        (n, widths[-1])
    )
    return X, Y, fastscape.Moments.from_data(X, Y)


@pytest.mark.parametrize(
    "widths, mu, residual",
    [([4, 3, 5], 0.0, False), ([3, 2, 2, 4], 0.05, False), ([3, 3, 3, 3], 0.0, True)],
)
def test_gd_equals_numpy_loop_bit_for_bit(widths, mu, residual):
    _, _, m = problem(widths)
    ws = fastscape.random_weights(widths, seed=1, scale=0.4)
    steps, every, lr = 53, 7, 0.03
    tr = fastscape.gradient_descent(
        ws, m, lr=lr, steps=steps, record_every=every, weight_decay=mu, residual=residual
    )
    rt, rl, rg, rp, rws = ref.gd(
        ws, m.sxx, m.syx, m.trace_syy, lr=lr, steps=steps, every=every, mu=mu, residual=residual
    )
    assert list(tr.steps) == list(rt) == [0, 7, 14, 21, 28, 35, 42, 49, 53]
    assert np.array_equal(tr.loss, rl)
    assert np.array_equal(tr.grad_norm, rg)
    assert np.array_equal(tr.products, rp)
    for a, b in zip(tr.weights, rws, strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(tr.times, tr.steps * lr)
    # the loss is the library's loss at the final weights (independent code path)
    assert tr.loss[-1] == pytest.approx(
        fastscape.loss(tr.weights, m, weight_decay=mu, residual=residual), rel=1e-12
    )


def test_many_runs_equal_single_runs_and_ignore_thread_count():
    widths = [4, 3, 3, 4]
    _, _, m = problem(widths, seed=3)
    kw = dict(runs=6, init_scale=0.3, seed=5, lr=0.02, steps=120, record_every=10)
    # the SIMD block size follows the thread count (6 lanes vs 3): neither may matter
    one = fastscape.gradient_descent_many(widths, m, threads=1, **kw)
    two = fastscape.gradient_descent_many(widths, m, threads=2, **kw)
    assert np.array_equal(one.loss, two.loss)
    assert np.array_equal(one.grad_norm, two.grad_norm)
    for a, b in zip(one.weights, two.weights, strict=True):
        assert np.array_equal(a, b)
    # the seeded starts are drawn layer by layer; each run is the single-run loop
    rng = np.random.default_rng(5)
    starts = [rng.standard_normal((6, widths[k + 1], widths[k])) * 0.3 for k in range(3)]
    for r in (0, 5):
        tr = fastscape.gradient_descent(
            [s[r] for s in starts], m, lr=0.02, steps=120, record_every=10
        )
        assert np.array_equal(tr.loss, one.loss[r])
        assert np.array_equal(tr.grad_norm, one.grad_norm[r])
        for a, b in zip(tr.weights, one.run_weights(r), strict=True):
            assert np.array_equal(a, b)
    # explicit init gives the same runs
    again = fastscape.gradient_descent_many(
        widths, m, init=starts, lr=0.02, steps=120, record_every=10
    )
    assert np.array_equal(again.loss, one.loss)


def test_sgd_equals_numpy_loop_bit_for_bit():
    widths = [3, 2, 4]
    X, Y, m = problem(widths, seed=2, n=23)
    ws = fastscape.random_weights(widths, seed=4, scale=0.5)
    tr = fastscape.sgd(
        ws, X, Y, lr=0.05, batch_size=5, epochs=3, seed=9, record_every=4, weight_decay=0.01
    )
    rng = np.random.default_rng(9)
    batches = []
    for _ in range(3):
        perm = rng.permutation(23)
        batches += [perm[i : i + 5] for i in range(0, 23, 5)]
    rt, rl, rws = ref.sgd(ws, X, Y, batches, m.sxx, m.syx, m.trace_syy, lr=0.05, every=4, mu=0.01)
    assert len(batches) == 15 and list(tr.steps) == list(rt)
    assert np.array_equal(tr.loss, rl)
    for a, b in zip(tr.weights, rws, strict=True):
        assert np.array_equal(a, b)


S = np.array([2.0, 1.0])
WHITE = fastscape.Moments(np.eye(2), np.diag(S), np.eye(2) * 3)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_flow_equals_closed_form(depth):
    u0 = np.array([1e-2, 2e-2])
    ws = fastscape.balanced_start(WHITE, [2] * (depth + 1), u0)
    tol = 1e-10
    fl = fastscape.gradient_descent(
        ws, WHITE, lr=1e-3, steps=8000, record_every=100, method="flow", tol=tol
    )
    lc = learning_curve(S, u0, fl.times, depth=depth, trace_syy=WHITE.trace_syy)
    assert fl.times[-1] == 8.0 and lc.strengths[-1, 1] > 0.99 * S[1]  # both modes learned
    # the local tolerance is tol per step; over ~1e3 steps the global error stays
    # within 100 tol of the data scale
    assert np.abs(fl.strengths - lc.strengths).max() <= 100 * tol * S[0]
    assert np.abs(fl.loss - lc.loss).max() <= 100 * tol * WHITE.trace_syy
    off = fl.modes.copy()
    off[:, [0, 1], [0, 1]] = 0.0
    assert np.abs(off).max() <= 100 * tol * S[0]  # modes stay decoupled


@pytest.mark.parametrize("depth", [2, 3])
def test_gd_converges_to_closed_form_as_lr_shrinks(depth):
    u0 = np.array([1e-3, 2e-3])
    ws = fastscape.balanced_start(WHITE, [2] * (depth + 1), u0)
    errs = []
    for lr in (4e-3, 2e-3, 1e-3):
        steps = int(round(8.0 / lr))
        gd = fastscape.gradient_descent(ws, WHITE, lr=lr, steps=steps, record_every=steps // 80)
        lc = learning_curve(S, u0, gd.times, depth=depth)
        errs.append(np.abs(gd.strengths - lc.strengths).max())
    # first order in lr: halving lr halves the error
    assert 1.8 < errs[0] / errs[1] < 2.2 and 1.8 < errs[1] / errs[2] < 2.2
    assert errs[-1] < 0.01 * S[0]


def test_bad_input_is_a_clear_value_error():
    ws = [np.eye(2), np.eye(2)]
    for lr in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="lr must be finite and > 0"):
            fastscape.gradient_descent(ws, WHITE, lr=lr, steps=3)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        fastscape.gradient_descent(ws, WHITE, lr=0.1, steps=0)
    with pytest.raises(ValueError, match="record_every must be an integer >= 1"):
        fastscape.gradient_descent(ws, WHITE, lr=0.1, steps=3, record_every=0)
    with pytest.raises(ValueError, match="method"):
        fastscape.gradient_descent(ws, WHITE, lr=0.1, steps=3, method="adam")
    with pytest.raises(ValueError, match="but the data have"):
        fastscape.gradient_descent([np.eye(2), np.ones((3, 2))], WHITE, lr=0.1, steps=3)
    with pytest.raises(TypeError, match="lr must be a real number"):
        fastscape.gradient_descent(ws, WHITE, lr="0.1", steps=3)
    with pytest.raises(ValueError, match="runs must be an integer >= 1"):
        fastscape.gradient_descent_many([2, 2, 2], WHITE, runs=0, lr=0.1, steps=3)
    with pytest.raises(ValueError, match=r"init\[1\] has shape \(4, 2, 3\)"):
        fastscape.gradient_descent_many(
            [2, 2, 2], WHITE, init=[np.zeros((4, 2, 2)), np.zeros((4, 2, 3))], lr=0.1, steps=3
        )
    with pytest.raises(ValueError, match="init has 1 layers"):
        fastscape.gradient_descent_many(
            [2, 2, 2], WHITE, init=[np.zeros((4, 2, 2))], lr=0.1, steps=3
        )
    with pytest.raises(ValueError, match="lr must be finite"):
        fastscape.gradient_descent_many([2, 2, 2], WHITE, runs=2, lr=-0.1, steps=3)
    X = np.ones((5, 2))
    with pytest.raises(ValueError, match="batch_size = 6 exceeds"):
        fastscape.sgd(ws, X, X, lr=0.1, batch_size=6, epochs=1, seed=0)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        fastscape.sgd(ws, X, X, lr=0.1, batch_size=2, epochs=0, seed=0)


def test_divergence_stops_the_run_and_warns():
    ws = [np.eye(2) * 2, np.eye(2) * 2]
    with pytest.warns(fastscape.DivergenceWarning, match=r"smaller one, e\.g\. lr=0\.5"):
        tr = fastscape.gradient_descent(ws, WHITE, lr=5.0, steps=1000)
    assert tr.diverged_at is not None and 0 < tr.diverged_at < 1000
    assert np.all(np.isfinite(tr.loss)) and len(tr.loss) == tr.diverged_at
    assert all(np.all(np.isfinite(w)) for w in tr.weights)
    with pytest.warns(fastscape.DivergenceWarning, match="1 of 2 runs"):
        many = fastscape.gradient_descent_many(
            [2, 2, 2], WHITE, init=[np.stack([w * 0.1, w]) for w in ws], lr=1.0, steps=200
        )
    assert many.diverged_at[0] == -1 and many.diverged_at[1] > 0
    assert np.isnan(many.loss[1, -1]) and np.isfinite(many.final_loss).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fine = fastscape.gradient_descent(ws, WHITE, lr=0.01, steps=10)
    assert fine.diverged_at is None
