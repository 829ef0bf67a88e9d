"""Bad input gets a ValueError/TypeError naming the argument and saying how to fix it.

Each case asserts on fragments of the message: the argument's name and the fix.
Integer and float32 inputs are converted, not refused.
"""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
from conftest import make_problem

import fastscape
import fastscape.derivatives as fd

P = make_problem([3, 4, 2], seed=11)
M = fastscape.Moments.from_data(P.X, P.Y)
WS = P.weights
N = 3 * 4 + 4 * 2


def raises(exc, call, *fragments):
    with pytest.raises(exc) as info:
        call()
    msg = str(info.value)
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in message {msg!r}"
    return msg


ALL = {
    "loss": lambda ws, **kw: fastscape.loss(ws, M, **kw),
    "gradient": lambda ws, **kw: fastscape.gradient(ws, M, **kw),
    "hessian": lambda ws, **kw: fastscape.hessian(ws, M, **kw),
    "hvp": lambda ws, **kw: fastscape.hvp(ws, M, np.ones(N), **kw),
}


@pytest.mark.parametrize("name", list(ALL))
def test_weight_errors_in_every_entry_point(name):
    f = ALL[name]
    # widths that do not chain
    raises(ValueError, lambda: f([np.ones((4, 3)), np.ones((2, 5))]), "weights[1]", "4 columns")
    # weights vs the moments' dx and dy
    raises(
        ValueError,
        lambda: f([np.ones((4, 5)), np.ones((2, 4))]),
        "weights[0]",
        "dx = 3",
        "(d_1, 3)",
    )
    raises(
        ValueError,
        lambda: f([np.ones((4, 3)), np.ones((6, 4))]),
        "weights[-1]",
        "dy = 2",
        "(2, d_(H-1))",
    )
    # NaN / inf
    for bad in (np.nan, np.inf, -np.inf):
        w = [x.copy() for x in WS]
        w[1][0, 1] = bad
        raises(ValueError, lambda w=w: f(w), "weights[1]", "NaN or inf", "(0, 1)", "remove")
    # not 2-D
    raises(ValueError, lambda: f([np.ones(12), WS[1]]), "weights[0]", "2-D", "reshape")
    raises(ValueError, lambda: f([np.ones((4, 3, 1)), WS[1]]), "weights[0]", "2-D")
    raises(ValueError, lambda: f([1.0, WS[1]]), "weights[0]", "2-D")
    # strings
    raises(TypeError, lambda: f("W"), "weights", "list [W_1, ..., W_H]", "[W]")
    raises(TypeError, lambda: f(["abc", WS[1]]), "weights[0]", "string", "np.asarray")
    raises(
        TypeError, lambda: f([np.array([["a", "b", "c"]] * 4), WS[1]]), "weights[0]", "dtype=float"
    )
    raises(TypeError, lambda: f(np.ones((2, 3))), "weights", "wrap a single matrix as [W]")
    # zero-width layer, complex entries
    raises(ValueError, lambda: f([np.ones((0, 3)), np.ones((2, 0))]), "weights[0]", "at least 1")
    raises(TypeError, lambda: f([WS[0] + 1j, WS[1]]), "weights[0]", "complex", ".real")
    # empty list
    raises(ValueError, lambda: f([]), "weights is empty", "at least one layer")
    # residual with a non-square layer
    raises(
        ValueError, lambda: f(WS, residual=True), "residual=True", "weights[0]", "residual=False"
    )
    raises(TypeError, lambda: f(WS, residual="yes"), "residual", "True or False")
    # weight decay
    raises(ValueError, lambda: f(WS, weight_decay=-0.1), "weight_decay", ">= 0", "weight_decay=0.0")
    raises(ValueError, lambda: f(WS, weight_decay=np.nan), "weight_decay", "finite")
    raises(TypeError, lambda: f(WS, weight_decay="0.1"), "weight_decay", "real number", "float")
    # moments of the wrong type
    g = {
        "loss": fastscape.loss,
        "gradient": fastscape.gradient,
        "hessian": fastscape.hessian,
        "hvp": lambda ws, m: fastscape.hvp(ws, m, np.ones(N)),
    }[name]
    raises(TypeError, lambda: g(WS, (M.sxx, M.syx)), "moments", "Moments.from_data")


def test_data_errors():
    X, Y = P.X, P.Y
    bad = X.copy()
    bad[2, 1] = np.nan
    raises(ValueError, lambda: fastscape.Moments.from_data(bad, Y), "X contains NaN", "(2, 1)")
    bad = Y.copy()
    bad[0, 0] = np.inf
    raises(ValueError, lambda: fastscape.Moments.from_data(X, bad), "Y contains NaN or inf")
    raises(ValueError, lambda: fastscape.Moments.from_data(X, Y[:-1]), "X and Y", "rows", "(n, dx)")
    raises(
        ValueError,
        lambda: fastscape.Moments.from_data(X[:, 0], Y),
        "X must be 2-D",
        "reshape(-1, 1)",
    )
    raises(
        ValueError,
        lambda: fastscape.Moments.from_data(X, Y[:, 0]),
        "Y must be 2-D",
        "reshape(-1, 1)",
    )
    raises(TypeError, lambda: fastscape.Moments.from_data("X", Y), "X must be a numeric array")
    raises(ValueError, lambda: fastscape.Moments.from_data(X[:0], Y[:0]), "at least one sample")
    raises(ValueError, lambda: fastscape.Moments.from_data(X, Y, ridge=-1.0), "ridge", ">= 0")
    raises(TypeError, lambda: fastscape.Moments.from_data(X, Y, ridge="a"), "ridge", "real number")
    raises(ValueError, lambda: fastscape.Moments(np.ones((2, 3)), M.syx, M.syy), "sxx", "square")
    raises(ValueError, lambda: fastscape.Moments(M.sxx, M.syx.T, M.syy), "syx", "(dy, dx)")
    raises(
        ValueError,
        lambda: fastscape.Moments(M.sxx + np.triu(M.sxx, 1), M.syx, M.syy),
        "sxx",
        "symmetri",
    )


def test_product_errors():
    raises(ValueError, lambda: fastscape.product([]), "weights is empty")
    raises(ValueError, lambda: fastscape.product([np.ones((4, 3)), np.ones((2, 5))]), "weights[1]")
    raises(ValueError, lambda: fastscape.product([np.ones((4, 3))], residual=True), "residual=True")


def test_out_errors():
    ok = np.empty((N, N))
    assert fastscape.hessian(WS, M, out=ok) is ok
    raises(
        ValueError,
        lambda: fastscape.hessian(WS, M, out=np.empty((N, N + 1))),
        "out",
        f"({N}, {N})",
        "np.empty",
    )
    raises(ValueError, lambda: fastscape.hessian(WS, M, out=np.empty(N * N)), "out", f"({N}, {N})")
    raises(
        TypeError,
        lambda: fastscape.hessian(WS, M, out=np.empty((N, N), np.float32)),
        "out",
        "float64",
    )
    raises(
        TypeError,
        lambda: fastscape.hessian(WS, M, out=np.empty((N, N), np.int64)),
        "out",
        "float64",
    )
    raises(
        ValueError,
        lambda: fastscape.hessian(WS, M, out=np.empty((N, 2 * N))[:, ::2]),
        "out",
        "C-contiguous",
    )
    raises(
        ValueError,
        lambda: fastscape.hessian(WS, M, out=np.empty((N, N), order="F")),
        "out",
        "C-contiguous",
    )
    ro = np.empty((N, N))
    ro.flags.writeable = False
    raises(ValueError, lambda: fastscape.hessian(WS, M, out=ro), "out", "read-only")
    raises(TypeError, lambda: fastscape.hessian(WS, M, out=[[0.0] * N] * N), "out", "numpy array")


def test_v_errors():
    raises(
        ValueError,
        lambda: fastscape.hvp(WS, M, np.ones(N - 1)),
        "v has length",
        f"N = {N}",
        "flatten",
    )
    # (N, b) is a block of b vectors (columns); more dimensions are refused
    assert fastscape.hvp(WS, M, np.ones((N, 1))).shape == (N, 1)
    raises(ValueError, lambda: fastscape.hvp(WS, M, np.ones((N, 1, 1))), "v must be 1-D", "ravel")
    v = np.ones(N)
    v[3] = np.nan
    raises(ValueError, lambda: fastscape.hvp(WS, M, v), "v contains NaN")
    raises(TypeError, lambda: fastscape.hvp(WS, M, "v"), "v must be a numeric array")
    # a list shaped unlike weights is refused even when the total length matches
    raises(
        ValueError, lambda: fastscape.hvp(WS, M, [w.T for w in WS]), "v[0]", "shaped like weights"
    )
    raises(ValueError, lambda: fastscape.hvp(WS, M, [WS[0]]), "v has 1 blocks", "2 layers")


def test_too_large_hessian_without_out(monkeypatch):
    monkeypatch.setattr(fd, "available_memory", lambda: 1000)
    msg = raises(
        ValueError,
        lambda: fastscape.hessian(WS, M),
        "GiB",
        "fastscape.hvp",
        "open_memmap",
        f"N = {N}",
    )
    assert f"{8 * N * N / 2**30:.2f} GiB" in msg
    with pytest.raises(MemoryError):
        fastscape.hessian(WS, M)
    # with out given, no memory check applies
    out = np.empty((N, N))
    assert fastscape.hessian(WS, M, out=out) is out


def test_memory_map_suggested_only_where_the_disk_can_hold_it(monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(fd, "available_memory", lambda: 1000)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(1000, 0, 1000))
    msg = raises(ValueError, lambda: fastscape.hessian(WS, M), "fastscape.hvp", "would not fit")
    assert "open_memmap" not in msg
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**12, 0, 10**12))
    raises(ValueError, lambda: fastscape.hessian(WS, M), "open_memmap", "GiB free")


@pytest.mark.slow
def test_transposed_data_get_a_hint_to_transpose():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((500, 6)), rng.standard_normal((500, 6))
    m = fastscape.Moments.from_data(X.T, Y.T)  # samples as columns: 6 samples, 500 features
    msg = raises(fastscape.SingularInputError, m.spectrum, "X.T and Y.T", "6 rows (samples)")
    assert "500 columns" in msg
    ok = fastscape.Moments.from_data(X[:, :3], Y[:, :3], ridge=0.0)  # well posed: no hint
    assert ok.spectrum().values.size == 3


def test_memmap_out(tmp_path):
    expected = fastscape.hessian(WS, M, weight_decay=0.2)
    mm = np.lib.format.open_memmap(tmp_path / "H.npy", mode="w+", dtype=np.float64, shape=(N, N))
    got = fastscape.hessian(WS, M, weight_decay=0.2, out=mm)
    assert got is mm
    mm.flush()
    np.testing.assert_array_equal(np.load(tmp_path / "H.npy"), expected)
    del mm, got


def test_integer_and_float32_inputs_are_converted():
    rng = np.random.default_rng(12)
    Xi = rng.integers(-5, 6, size=(20, 3))
    Yi = rng.integers(-5, 6, size=(20, 2))
    wi = [rng.integers(-2, 3, size=(4, 3)), rng.integers(-2, 3, size=(2, 4))]
    m64 = fastscape.Moments.from_data(Xi.astype(float), Yi.astype(float))
    mi = fastscape.Moments.from_data(Xi, Yi)
    np.testing.assert_array_equal(mi.sxx, m64.sxx)
    w64 = [w.astype(np.float64) for w in wi]
    w32 = [w.astype(np.float32) for w in wi]  # small integers: exact in float32
    for ws in (wi, w32, [w.tolist() for w in wi]):
        assert fastscape.loss(ws, mi) == fastscape.loss(w64, m64)
        np.testing.assert_array_equal(fastscape.hessian(ws, mi), fastscape.hessian(w64, m64))
        for a, b in zip(fastscape.gradient(ws, mi), fastscape.gradient(w64, m64), strict=True):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == np.float64
        v = np.arange(N)
        np.testing.assert_array_equal(
            fastscape.hvp(ws, mi, v), fastscape.hvp(w64, m64, v.astype(float))
        )
        np.testing.assert_array_equal(fastscape.product(ws), fastscape.product(w64))
    # float32 data: converted to float64 (moments of the float32 values)
    X32, Y32 = P.X.astype(np.float32), P.Y.astype(np.float32)
    m32 = fastscape.Moments.from_data(X32, Y32)
    mref = fastscape.Moments.from_data(X32.astype(float), Y32.astype(float))
    assert m32.sxx.dtype == np.float64
    np.testing.assert_array_equal(m32.sxx, mref.sxx)
    expected = ref.loss_data(WS, X32.astype(float), Y32.astype(float))
    np.testing.assert_allclose(fastscape.loss(WS, m32), expected, rtol=1e-12)


@pytest.mark.parametrize("tol, err", [(-1.0, ValueError), (2.0, ValueError), ("x", TypeError)])
@pytest.mark.parametrize("verify", [True, False])
def test_tol_is_checked_the_same_everywhere(tol, err, verify):
    m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    with pytest.raises(err, match="tol"):
        fastscape.critical_points(m, [2, 1, 2], verify=verify, tol=tol)
    with pytest.raises(err, match="tol"):
        fastscape.critical_points(m, [2, 1, 1, 2], verify=verify, tol=tol)
    with pytest.raises(err, match="tol"):
        fastscape.classify([np.ones((1, 2)), np.ones((2, 1))], m, tol=tol)


def test_more_bad_inputs_get_clear_errors():
    m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    with pytest.raises(ValueError, match="index_sets is empty"):
        fastscape.critical_points(m, [2, 1, 2], index_sets=[])
    with pytest.raises(ValueError, match="index_sets is empty"):
        fastscape.deep_critical_points(m, [2, 1, 1, 2], index_sets=[])
    with pytest.raises(TypeError, match="weight_decay"):
        fastscape.deep_critical_points(m, [2, 1, 1, 2], weight_decay="x")
    with pytest.raises(TypeError, match="C must be a numeric array"):
        fastscape.canonical_point(m, [2, 1, 2], (0,), C="ab")
    with pytest.raises(ValueError, match="C contains NaN"):
        fastscape.canonical_point(m, [2, 1, 2], (0,), C=[[np.nan]])
    with pytest.raises(ValueError, match="starts must be an integer >= 1"):
        fastscape.hardt_ma_experiment(m, 2, starts=0)
    with pytest.raises(ValueError, match="depth must be an integer >= 1"):
        fastscape.hardt_ma_experiment(m, 0)
