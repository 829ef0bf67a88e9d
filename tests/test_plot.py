"""fastscape.plot: headless (Agg) rendering, checked by content, not pixels."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from math import comb

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import reference as ref  # noqa: E402
import scipy.linalg  # noqa: E402
from conftest import problems  # noqa: E402
from hypothesis import given, settings  # noqa: E402

import fastscape  # noqa: E402
import fastscape.plot as fplot  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- references (numpy)


def np_loss(ws, m, mu=0.0, residual=False):
    w = np.eye(m.dx)
    for wk in ws:
        w = ((wk + np.eye(wk.shape[0])) if residual else wk) @ w
    return (
        0.5 * np.trace(m.syy)
        - np.trace(w @ m.syx.T)
        + 0.5 * np.trace(w @ m.sxx @ w.T)
        + 0.5 * mu * sum(float((wk**2).sum()) for wk in ws)
    )


def brute_index_counts(q, p, ranks="full"):
    """Counts of Morse indices by direct enumeration of index sets (docs/theory.md)."""
    top = min(p, q)
    ks = [top] if ranks == "full" else range(top + 1)
    counts = {}
    for k in ks:
        for S in itertools.combinations(range(q), k):
            inv = sum(1 for i in range(q) if i not in S for j in S if i < j)
            m = inv + (q - k) * (p - k)
            counts[m] = counts.get(m, 0) + 1
    out = np.zeros(max(counts) + 1, dtype=int)
    for m, c in counts.items():
        out[m] = c
    return out


def data(seed=0, n=300, dx=5, dy=4, svals=(2.0, 1.4, 0.9, 0.5)):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dx))
    q1, _ = np.linalg.qr(rng.standard_normal((dy, dy)))
    q2, _ = np.linalg.qr(rng.standard_normal((dx, dx)))
    M = q1[:, : len(svals)] @ np.diag(svals) @ q2[: len(svals)]
    Y = X @ M.T + 0.2 * rng.standard_normal((n, dy))
    return fastscape.Moments.from_data(X, Y)


def two_layer_point(m, S, p, seed=None):
    """A = [U_S, 0] C, B = C^-1 [U_S^T L*; 0] (docs/theory.md)."""
    vals, U = m.spectrum()
    L = m.least_squares()
    A = np.zeros((m.dy, p))
    B = np.zeros((p, m.dx))
    A[:, : len(S)] = U[:, list(S)]
    B[: len(S)] = U[:, list(S)].T @ L
    if seed is not None:
        C = np.random.default_rng(seed).standard_normal((p, p)) + 2 * np.eye(p)
        A, B = A @ C, np.linalg.solve(C, B)
    return [B, A]


# ------------------------------------------------------------------------ imports


@pytest.mark.slow
def test_import_fastscape_does_not_import_matplotlib():
    code = (
        "import sys, pkgutil, importlib, fastscape, fastscape.plot\n"
        "for mod in pkgutil.walk_packages(fastscape.__path__, 'fastscape.'):\n"
        "    importlib.import_module(mod.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] == 'matplotlib')\n"
        "assert not bad, bad[:5]\n"
        "print('ok')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


def test_only_plot_module_mentions_matplotlib():
    import pathlib

    root = pathlib.Path(fastscape.__file__).parent
    offenders = [
        p.name
        for p in root.rglob("*.py")
        if p.name != "plot.py"
        and not p.name.startswith("plot_")  # plot_topology.py etc.: figures only
        and "import matplotlib" in p.read_text()
    ]
    assert offenders == []


# --------------------------------------------------------------- critical values


def synthetic_points(n=9, seed=0):
    rng = np.random.default_rng(seed)
    kinds = np.array(["global_min"] + ["strict_saddle"] * (n - 3) + ["non_strict_saddle"] * 2)
    return {
        "loss": rng.uniform(1, 2, n),
        "morse_index": rng.integers(0, 6, n),
        "nullity": rng.integers(0, 10, n),
        "kind": kinds,
    }


KINDS3 = ["global_min", "strict_saddle", "non_strict_saddle"]


def test_critical_value_diagram_content():
    pts = synthetic_points()
    fig = fplot.critical_value_diagram(pts)
    ax = fig.axes[0]
    offsets = np.concatenate([c.get_offsets() for c in ax.collections])
    assert len(offsets) == len(pts["loss"])
    # every (index, loss) pair plotted exactly once
    got = sorted(map(tuple, np.round(offsets, 12)))
    want = sorted(zip(pts["morse_index"].astype(float), np.round(pts["loss"], 12), strict=True))
    assert got == want
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["global_min (1)", "strict_saddle (6)", "non_strict_saddle (2)"]
    assert ax.get_xlabel().startswith("Morse index")
    assert ax.get_ylabel() == "loss"
    # colour per kind, size increasing with nullity
    for coll, kind in zip(ax.collections, KINDS3, strict=True):
        assert np.allclose(coll.get_facecolor()[0][:3], mcolors.to_rgb(fplot.KIND_COLORS[kind]))
    sizes = np.concatenate([c.get_sizes() for c in ax.collections])
    null = np.concatenate(
        [pts["nullity"][pts["kind"] == k] for k in fplot.KIND_COLORS if (pts["kind"] == k).any()]
    )
    order = np.argsort(null, kind="stable")
    assert np.all(np.diff(sizes[order]) >= 0) and sizes.max() > sizes.min()


def test_critical_value_diagram_on_given_axes_and_errors():
    fig, (a, b) = plt.subplots(1, 2)
    assert fplot.critical_value_diagram(synthetic_points(), ax=b) is fig
    assert len(b.collections) == 3 and len(a.collections) == 0
    with pytest.raises(TypeError, match="nullity"):
        fplot.critical_value_diagram({"loss": [1.0], "morse_index": [0], "kind": ["global_min"]})
    bad = synthetic_points()
    bad["kind"] = bad["kind"][:-1]
    with pytest.raises(ValueError, match="differ in length"):
        fplot.critical_value_diagram(bad)


def test_critical_value_diagram_real_points():
    """All two-layer critical points (Baldi and Hornik 1989), classified by the law."""
    m = data()
    vals = m.spectrum().values
    q, p = len(vals), 2
    rows = []
    for k in range(p + 1):
        for S in itertools.combinations(range(q), k):
            ws = two_layer_point(m, S, p, seed=len(rows))
            ev = np.linalg.eigvalsh(fastscape.hessian(ws, m))
            tol = 1e-7 * max(1.0, np.abs(ev).max())
            index, null = int((ev < -tol).sum()), int((np.abs(ev) <= tol).sum())
            inv = sum(1 for i in range(q) if i not in S for j in S if vals[i] > vals[j])
            assert index == inv + (q - k) * (p - k)
            kind = "global_min" if index == 0 else "strict_saddle"
            rows.append((fastscape.loss(ws, m), index, null, kind))
    pts = {
        name: np.array([r[i] for r in rows])
        for i, name in enumerate(["loss", "morse_index", "nullity", "kind"])
    }
    fig = fplot.critical_value_diagram(pts)
    ax = fig.axes[0]
    assert sum(len(c.get_offsets()) for c in ax.collections) == sum(comb(q, k) for k in range(3))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["global_min (1)", f"strict_saddle ({len(rows) - 1})"]


def test_critical_value_diagram_accepts_critical_point_set():
    if not hasattr(fastscape, "critical_points"):
        pytest.fail("fastscape.critical_points is missing (issue 3 contract)")
    m = data()
    pts = fastscape.critical_points(m, [m.dx, 2, m.dy], ranks="all")
    fig = fplot.critical_value_diagram(pts)
    ax = fig.axes[0]
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(pts.loss)
    kinds = [k for k in fplot.KIND_COLORS if (np.asarray(pts.kind) == k).any()]
    labels = [t.get_text().split(" (")[0] for t in ax.get_legend().get_texts()]
    assert labels == kinds


def test_critical_value_diagram_unverified_points_use_predictions():
    m = data()
    q = m.rank()
    pts = fastscape.critical_points(m, [m.dx, 2, m.dy], ranks="all", verify=False)
    assert (np.asarray(pts.morse_index) < 0).all()  # nothing measured
    fig = fplot.critical_value_diagram(pts)
    offsets = np.concatenate([c.get_offsets() for c in fig.axes[0].collections])
    want = sorted(
        (
            float(
                sum(1 for i in range(q) if i not in S for j in S if i < j)
                + (q - len(S)) * (2 - len(S))
            ),
            round(float(lo), 12),
        )
        for S, lo in zip(pts.index_sets, pts.loss, strict=True)
    )
    assert sorted((x, round(y, 12)) for x, y in offsets) == want
    bad = synthetic_points()
    bad["morse_index"] = np.full(len(bad["loss"]), -1)
    with pytest.raises(ValueError, match="verify=True"):
        fplot.critical_value_diagram(bad)


# ------------------------------------------------------------------ index counts


@pytest.mark.parametrize("q,p", [(1, 1), (4, 2), (6, 3), (7, 2), (3, 5)])
@pytest.mark.parametrize("ranks", ["full", "all"])
def test_predicted_index_counts_match_brute_force(q, p, ranks):
    got = fplot.predicted_index_counts(q, p, ranks=ranks)
    want = brute_index_counts(q, p, ranks)
    assert [int(x) for x in got] == want.tolist()
    total = comb(q, min(p, q)) if ranks == "full" else sum(comb(q, k) for k in range(min(p, q) + 1))
    assert int(sum(got)) == total


def test_predicted_index_counts_large_is_exact():
    got = fplot.predicted_index_counts(40, 20)
    assert int(sum(got)) == comb(40, 20)
    assert [int(x) for x in got] == [int(x) for x in got[::-1]]  # palindromic
    assert len(got) == 20 * 20 + 1


def test_index_counts_bars_and_overlay(tmp_path):
    q, p = 6, 3
    counts = brute_index_counts(q, p)
    summary = {"q": q, "p": p, "total": int(counts.sum()), "index_counts": counts.tolist()}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    for source in (summary, tmp_path, tmp_path / "summary.json", str(tmp_path)):
        fig = fplot.index_counts(source)
        ax = fig.axes[0]
        heights = [b.get_height() for b in ax.patches]
        assert heights == counts.tolist()
        (line,) = ax.get_lines()
        assert np.array_equal(line.get_ydata(), brute_index_counts(q, p))
        assert ax.get_xlabel() == "Morse index"
        assert ax.get_ylabel() == "number of critical points"
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels[0] == "enumerated" and labels[1].startswith("closed form")
        plt.close(fig)


def test_index_counts_all_ranks_overlay_is_the_shifted_sum():
    q, p = 5, 2
    counts = brute_index_counts(q, p, "all")
    fig = fplot.index_counts({"q": q, "p": p, "ranks": "all", "index_counts": counts.tolist()})
    (line,) = fig.axes[0].get_lines()
    assert np.array_equal(line.get_ydata(), counts)
    # and it differs from the full-rank prediction, so the test can fail
    assert not np.array_equal(brute_index_counts(q, p), counts)


def test_index_counts_missing_summary(tmp_path):
    with pytest.raises(FileNotFoundError, match="fastscape enumerate"):
        fplot.index_counts(tmp_path)


# --------------------------------------------------------------- Hessian spectrum


@pytest.mark.parametrize("S", [(0, 1), (0, 2), (2, 3), (1,), ()])
def test_hessian_spectrum_highlights_the_morse_index(S):
    m = data()
    vals = m.spectrum().values
    q, p = len(vals), 2
    ws = two_layer_point(m, S, p, seed=3)
    k = len(S)
    inv = sum(1 for i in range(q) if i not in S for j in S if vals[i] > vals[j])
    index = inv + (q - k) * (p - k)  # the two-layer law
    nullity = k * k + (p - k) * (m.dx + m.dy) - 2 * (q - k) * (p - k)
    n = fastscape.num_params([m.dx, p, m.dy])
    fig = fplot.hessian_spectrum(ws, m)
    ax = fig.axes[0]
    red = mcolors.to_rgba(fplot.NEGATIVE_COLOR)
    grey = mcolors.to_rgba(fplot.ZERO_COLOR)
    neg = sum(b.get_height() for b in ax.patches if np.allclose(b.get_facecolor(), red))
    zero = sum(b.get_height() for b in ax.patches if np.allclose(b.get_facecolor(), grey))
    assert neg == index
    assert zero == nullity
    assert sum(b.get_height() for b in ax.patches) == n
    # red bars lie left of zero
    assert all(
        b.get_x() < 0 for b in ax.patches if np.allclose(b.get_facecolor(), red) and b.get_height()
    )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        f"negative ({index})",
        f"zero ({nullity})",
        f"positive ({n - index - nullity})",
    ]
    assert ax.get_xlabel() == "Hessian eigenvalue" and ax.get_ylabel() == "count"


def test_hessian_spectrum_bad_saddle_at_zero_is_all_zero():
    m = data()
    ws = [np.zeros((3, m.dx)), np.zeros((3, 3)), np.zeros((m.dy, 3))]
    fig = fplot.hessian_spectrum(ws, m, bins=5)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    n = fastscape.num_params([m.dx, 3, 3, m.dy])
    assert labels == ["negative (0)", f"zero ({n})", "positive (0)"]


def test_hessian_spectrum_weight_decay_shifts_everything():
    m = data()
    ws = [np.zeros((3, m.dx)), np.zeros((3, 3)), np.zeros((m.dy, 3))]
    fig = fplot.hessian_spectrum(ws, m, weight_decay=0.1)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[:2] == ["negative (0)", "zero (0)"]
    with pytest.raises(ValueError, match="atol"):
        fplot.hessian_spectrum(ws, m, atol=-1.0)
    # tol= is the deprecated (absolute) spelling of atol=
    with pytest.warns(DeprecationWarning, match="pass atol="):
        old = fplot.hessian_spectrum(ws, m, weight_decay=0.1, tol=0.2)
    new = fplot.hessian_spectrum(ws, m, weight_decay=0.1, atol=0.2)
    texts = [[t.get_text() for t in f.axes[0].get_legend().get_texts()] for f in (old, new)]
    assert texts[0] == texts[1] and texts[1][1] != "zero (0)"  # 0.1 <= atol: all zero


# --------------------------------------------------------------------- loss slice


def hessian_action(ws, m, v, mu=0.0, residual=False):
    return fastscape.hvp(ws, m, v, weight_decay=mu, residual=residual)


@pytest.mark.parametrize("S,kind", [((0, 1), "min"), ((0, 2), "saddle"), ((1, 3), "saddle")])
def test_slice_centre_and_default_directions(S, kind):
    m = data()
    ws = two_layer_point(m, S, 2, seed=1)
    point_loss = fastscape.loss(ws, m)
    fig = fplot.loss_slice(ws, m, resolution=15)
    sl = fig.loss_slice
    c = len(sl.s) // 2
    assert sl.s[c] == 0.0 and sl.t[c] == 0.0 and len(sl.s) == 15
    assert sl.values[c, c] == point_loss == sl.center_loss
    assert np.isclose(point_loss, np_loss(ws, m), rtol=1e-12)
    # the 3-D panel marks the point at its loss
    assert [ax.name for ax in fig.axes] == ["rectilinear", "3d"]  # contour and surface
    ax3 = fig.axes[1]
    (mark,) = [c for c in ax3.collections if hasattr(c, "_offsets3d")]
    assert np.isclose(float(np.ravel(mark._offsets3d[2])[0]), point_loss, rtol=1e-12)
    # a few grid values against the plain numpy loss
    d1, d2 = sl.directions
    theta = fastscape.flatten(ws)
    widths = fastscape.widths_of(ws)
    for i, j in [(0, 0), (3, 11), (14, 7)]:
        w = fastscape.unflatten(theta + sl.s[j] * d1 + sl.t[i] * d2, widths)
        assert np.isclose(sl.values[i, j], np_loss(w, m), rtol=1e-10)
    # unit, orthogonal; d2 flat (in the Hessian null space), d1 an eigenvector
    assert np.isclose(d1 @ d1, 1) and np.isclose(d2 @ d2, 1) and abs(d1 @ d2) < 1e-12
    scale = max(1.0, np.abs(fastscape.hessian(ws, m)).max())
    assert np.abs(hessian_action(ws, m, d2)).max() < 1e-8 * scale
    hd1 = hessian_action(ws, m, d1)
    lam = d1 @ hd1
    assert np.allclose(hd1, lam * d1, atol=1e-8 * scale)
    ev = np.linalg.eigvalsh(fastscape.hessian(ws, m))
    if kind == "saddle":
        assert np.isclose(lam, ev[0], atol=1e-8 * scale) and lam < 0
        assert sl.values.min() < point_loss  # the descent is in the picture
        assert "negative curvature" in sl.labels[0]
    else:
        assert lam > 0 and sl.values.min() >= point_loss - 1e-12 * max(1, point_loss)
    assert sl.labels[1] == "symmetry orbit (flat)"
    ax0 = fig.axes[0]
    assert ax0.get_xlabel() == sl.labels[0] and ax0.get_ylabel() == sl.labels[1]


def test_slice_flat_direction_with_weight_decay_and_residual():
    # weight decay, whitened: A = U_S D, B = D V_S^T, D = sqrt(sigma - mu) (docs/theory.md)
    rng = np.random.default_rng(2)
    dx, dy, p, mu = 4, 3, 2, 0.1
    u, _ = np.linalg.qr(rng.standard_normal((dy, dy)))
    v, _ = np.linalg.qr(rng.standard_normal((dx, dx)))
    sig = np.array([2.0, 1.0, 0.5])
    syx = u @ np.diag(sig) @ v[:dy]
    m = fastscape.Moments(np.eye(dx), syx, np.eye(dy) * 3)
    D = np.diag(np.sqrt(sig[:p] - mu))
    ws = [D @ v[:p], u[:, :p] @ D]
    sl = fplot.slice_grid(ws, m, weight_decay=mu, resolution=5)
    g = fastscape.flatten(fastscape.gradient(ws, m, weight_decay=mu))
    assert np.abs(g).max() < 1e-12
    assert np.abs(hessian_action(ws, m, sl.directions[1], mu=mu)).max() < 1e-10
    assert sl.center_loss == fastscape.loss(ws, m, weight_decay=mu)
    assert np.isclose(sl.center_loss, np_loss(ws, m, mu=mu))
    # residual form at a global minimum (I + W_k) = R^(1/3): the orbit tangent keeps the
    # end-to-end product to first order and is flat
    r = np.eye(3) + 0.3 * rng.standard_normal((3, 3))
    root = scipy.linalg.fractional_matrix_power(r, 1 / 3).real
    ws_r = [root - np.eye(3)] * 3
    m3 = fastscape.Moments(np.eye(3), r, r @ r.T + np.eye(3))
    assert np.abs(fastscape.flatten(fastscape.gradient(ws_r, m3, residual=True))).max() < 1e-10
    sl = fplot.slice_grid(ws_r, m3, residual=True, resolution=3, span=0.5)
    d2 = fastscape.unflatten(sl.directions[1], [3, 3, 3, 3])
    h = 1e-6
    plus = fastscape.product([w + h * d for w, d in zip(ws_r, d2, strict=True)], residual=True)
    minus = fastscape.product([w - h * d for w, d in zip(ws_r, d2, strict=True)], residual=True)
    assert np.abs(plus - minus).max() / (2 * h) < 1e-6
    assert np.abs(hessian_action(ws_r, m3, sl.directions[1], residual=True)).max() < 1e-8
    assert sl.values[1, 1] == fastscape.loss(ws_r, m3, residual=True)
    assert np.isclose(sl.values[1, 1], np_loss(ws_r, m3, residual=True))


def test_slice_explicit_directions_and_errors():
    m = data()
    ws = two_layer_point(m, (0, 1), 2)
    n = fastscape.num_params([m.dx, 2, m.dy])
    e1, e2 = np.eye(n)[0], np.eye(n)[5]
    sl = fplot.slice_grid(
        ws, m, [e1 * 3, [b * 2 for b in fastscape.unflatten(e2, [5, 2, 4])]], span=0.3, resolution=4
    )
    assert len(sl.s) == 5 and sl.s[2] == 0.0 and np.isclose(sl.s[-1], 0.3)
    assert np.allclose(sl.directions, [e1, e2])
    w = [b.copy() for b in ws]
    w[0][0, 0] += 0.3
    assert np.isclose(sl.values[2, 4], np_loss(w, m))
    with pytest.raises(ValueError, match="parallel"):
        fplot.slice_grid(ws, m, [e1, 2 * e1])
    with pytest.raises(ValueError, match="span"):
        fplot.slice_grid(ws, m, [e1, e2], span=-1)
    with pytest.raises(ValueError, match="length N"):
        fplot.slice_grid(ws, m, [e1[:3], e2])
    with pytest.raises(ValueError, match="resolution"):
        fplot.slice_grid(ws, m, resolution=1)


def test_slice_without_orbit_uses_hessian_direction():
    m = fastscape.Moments(np.eye(2), np.array([[2.0, 0.0], [0.0, 1.0]]), np.eye(2) * 3)
    sl = fplot.slice_grid([np.zeros((2, 2))], m, resolution=3, span=1.0)
    assert sl.labels[1].startswith("flattest other direction")
    assert sl.values[1, 1] == fastscape.loss([np.zeros((2, 2))], m)


# ------------------------------------------------------------------ run directory


def test_plot_run_dir_writes_pngs(tmp_path):
    q, p = 5, 2
    counts = brute_index_counts(q, p)
    summary = {
        "q": q,
        "p": p,
        "total": int(counts.sum()),
        "index_counts": counts.tolist(),
        "lowest": [{"loss": 0.1 * i, "index_set": [0, i + 1]} for i in range(4)],
        "loss_histogram": {"edges": [0.0, 0.5, 1.0, 1.5], "counts": [3, 5, 2]},
        "complete": True,
    }
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    before = plt.get_fignums()
    paths = fplot.plot_run_dir(tmp_path)
    assert plt.get_fignums() == before  # no pyplot figures left open
    assert [p.name for p in paths] == ["index_counts.png", "lowest.png", "loss_histogram.png"]
    for path in paths:
        assert path.parent == tmp_path
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    assert fplot.plot_run_dir(tmp_path / "summary.json") == paths


@pytest.mark.slow
def test_plot_run_dir_on_a_real_enumeration(tmp_path):
    """An enumeration run directory (issue 5's engine) drawn as `fastscape plot DIR` does."""
    q, p = 7, 3
    run = tmp_path / "run"
    s = fastscape.enumerate_landscape(fastscape.random_spectrum(q, 1), p, ranks="all", out=run)
    paths = fplot.plot_run_dir(run)
    assert {x.name for x in paths} == {"index_counts.png", "lowest.png", "loss_histogram.png"}
    summary = json.loads((run / "summary.json").read_text())
    fig = fplot.index_counts(run)
    ax = fig.axes[0]
    assert [b.get_height() for b in ax.patches] == summary["index_counts"]
    (line,) = ax.get_lines()
    want = brute_index_counts(q, p, "all")
    assert np.array_equal(line.get_ydata(), want)
    assert list(s.index_counts) == want.tolist()
    assert "ranks: all" in ax.get_title()
    # straight from a LandscapeSummary, and for a size beyond int64 (closed form)
    fig = fplot.index_counts(s)
    assert [b.get_height() for b in fig.axes[0].patches] == want.tolist()
    huge = fastscape.count_landscape(fastscape.random_spectrum(67, 0), 33, n_lowest=1)
    fig = fplot.index_counts(huge)
    heights = np.array([b.get_height() for b in fig.axes[0].patches])
    assert len(heights) == 33 * 34 + 1 and np.isclose(heights.sum(), float(comb(67, 33)))
    assert fig.axes[0].get_yscale() == "log"


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(problems(max_depth=4, max_width=4))
def test_slice_and_spectrum_properties(prob):
    """Any depth, widths, residual or not, weight decay or not: centre, grid, directions."""
    m = fastscape.Moments.from_data(prob.X, prob.Y)
    ws, res, mu = prob.weights, prob.residual, prob.mu
    n = fastscape.num_params(prob.widths)
    if n < 2:
        with pytest.raises(ValueError):
            fplot.slice_grid(ws, m, residual=res, weight_decay=mu, resolution=3)
        return
    sl = fplot.slice_grid(ws, m, residual=res, weight_decay=mu, resolution=5)
    want = ref.loss_moments(ws, m.sxx, m.syx, m.syy, residual=res, mu=mu)
    scale = max(1.0, abs(want), float(np.trace(m.syy)))
    assert sl.values[2, 2] == sl.center_loss == fastscape.loss(ws, m, residual=res, weight_decay=mu)
    assert abs(sl.center_loss - want) <= 1e-9 * scale
    assert sl.s[2] == 0.0 and np.allclose(sl.s, -sl.s[::-1]) and sl.s[-1] > 0
    d1, d2 = sl.directions
    assert np.isclose(d1 @ d1, 1) and np.isclose(d2 @ d2, 1) and abs(d1 @ d2) < 1e-9
    theta = fastscape.flatten(ws)
    corner = fastscape.unflatten(theta + sl.s[0] * d1 + sl.t[-1] * d2, prob.widths)
    big = ref.loss_moments(corner, m.sxx, m.syx, m.syy, residual=res, mu=mu)
    assert abs(sl.values[-1, 0] - big) <= 1e-9 * max(scale, abs(big))
    if sl.labels[1] == "symmetry orbit (flat)":  # the loss is invariant along the orbit
        fwd = fastscape.unflatten(theta + 1e-4 * d2, prob.widths)
        back = fastscape.unflatten(theta - 1e-4 * d2, prob.widths)
        slope = (
            ref.loss_moments(fwd, m.sxx, m.syx, m.syy, residual=res, mu=mu)
            - ref.loss_moments(back, m.sxx, m.syx, m.syy, residual=res, mu=mu)
        ) / 2e-4
        assert abs(slope) <= 1e-5 * scale * max(1.0, float(np.abs(theta).max())) ** len(ws)
    fig = fplot.hessian_spectrum(ws, m, residual=res, weight_decay=mu)
    assert sum(b.get_height() for b in fig.axes[0].patches) == n
    plt.close(fig)
