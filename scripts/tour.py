"""The fastscape tour: the classical facts about linear-network landscapes, reproduced.

This file is the source of truth for docs/tour.md (a page of the documentation): each
section's prose and code live here, the runner executes the code blocks in order in
one namespace (each block continues the previous ones, like one Python session),
and ``--write-docs`` rewrites docs/tour.md with the code, its printed output and the
figures it saved. tests/test_tour.py runs this script and checks that docs/tour.md
still matches it, so the tour cannot go stale.

Usage (from the repository root; needs the ``plot`` extra)::

    python scripts/tour.py                  # run the tour; figures -> docs/figures/
    python scripts/tour.py --root DIR       # run inside DIR (figures -> DIR/docs/figures/)
    python scripts/tour.py --write-docs     # run, then rewrite docs/tour.md
    python scripts/tour.py --root DIR --write-docs DIR/tour.md   # (what the test does)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
FIGURES = Path("docs") / "figures"


class Section(NamedTuple):
    key: str
    title: str
    text: str
    code: str


def _s(key: str, title: str, text: str, code: str) -> Section:
    return Section(key, title, textwrap.dedent(text).strip(), textwrap.dedent(code).strip())


INTRO = """\
# A tour of the landscape

Each section below reproduces one classical fact about the loss landscape of linear
networks with fastscape and shows what it prints or draws: first the two-layer facts
of Baldi & Hornik (1989), then the deep-network results of Kawaguchi (2016), Lu &
Kawaguchi (2017) and Hardt & Ma (2016); [the theory page](theory.md) has the
mathematics. The blocks continue each other: paste them in order into one Python
session started at the repository root, or run them all with `python scripts/tour.py`
(it needs the `plot` extra, `pip install -e '.[plot]'`). The loss is the mean
1/2 |y - W x|^2 over the samples; papers that write the sum |Y - W X|^2 have critical
values 2n times ours, which changes no critical point and no Hessian sign. Index sets
S are printed as 0-based positions in the descending spectrum, (0, 1) = the top two
eigenvalues; the prose and the figures count from 1, {1, 2}. `scripts/tour.py` is the
source of this page: edit it there and regenerate with
`python scripts/tour.py --write-docs`."""

SECTIONS = [
    _s(
        "setup",
        "Setup: data with a known spectrum",
        """
        Five inputs, four outputs, a hidden layer of width p = 2. The eigenvalues
        lambda_1 > ... > lambda_q of Sigma = Syx Sxx^-1 Syx^T organise everything
        that follows.
        """,
        r"""
        import numpy as np
        from pathlib import Path
        import fastscape
        import fastscape.plot as fplot

        FIG = Path("docs/figures")
        FIG.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        n, dx, dy, p = 500, 5, 4, 2
        X = rng.standard_normal((n, dx))
        Q1 = np.linalg.qr(rng.standard_normal((dy, dy)))[0]
        Q2 = np.linalg.qr(rng.standard_normal((dx, dx)))[0]
        M = Q1 @ np.diag([2.0, 1.4, 0.9, 0.5]) @ Q2[:dy]  # the true map, y = M x + noise
        Y = X @ M.T + 0.2 * rng.standard_normal((n, dy))

        m = fastscape.Moments.from_data(X, Y)
        lam, U = m.spectrum()
        q = m.rank()
        widths = [dx, p, dy]
        print("eigenvalues of Sigma:", lam.round(4), " q =", q)
        print("parameters N =", fastscape.num_params(widths))
        """,
    ),
    _s(
        "convex_b",
        "For fixed A the loss is convex in B",
        """
        With A fixed, l(A, B) is a convex quadratic in B, minimised at
        B(A) = (A^T A)^-1 A^T Syx Sxx^-1. There dl/dB = 0, and the B-block of the
        Hessian is (A^T A) kron Sxx: positive definite. dl/dA is not zero: (A, B(A)) is
        a minimiser in B only, not a critical point.
        """,
        r"""
        A = rng.standard_normal((dy, p))
        B_of_A = np.linalg.solve(A.T @ A, A.T @ m.least_squares())
        gB, gA = fastscape.gradient([B_of_A, A], m)
        H = fastscape.hessian([B_of_A, A], m)
        nB = p * dx  # theta = (vec B, vec A): W_1 = B acts first
        eig_BB = np.linalg.eigvalsh(H[:nB, :nB])
        print("|dl/dB| =", f"{np.linalg.norm(gB):.1e}", "  |dl/dA| =", f"{np.linalg.norm(gA):.3f}")
        print("B-block eigenvalues:", eig_BB.round(3))
        print("equal to eig((A^T A) kron Sxx):",
              np.allclose(eig_BB, np.linalg.eigvalsh(np.kron(A.T @ A, m.sxx))))
        assert np.linalg.norm(gB) < 1e-10 and eig_BB.min() > 0
        """,
    ),
    _s(
        "convex_a",
        "For fixed B the loss is convex in A",
        """
        The mirror image: A(B) = Syx B^T (B Sxx B^T)^-1 solves dl/dA = 0, and the
        A-block of the Hessian is I kron (B Sxx B^T), positive definite for a
        full-rank B.
        """,
        r"""
        B = rng.standard_normal((p, dx))
        A_of_B = m.syx @ B.T @ np.linalg.inv(B @ m.sxx @ B.T)
        gB, gA = fastscape.gradient([B, A_of_B], m)
        H = fastscape.hessian([B, A_of_B], m)
        eig_AA = np.linalg.eigvalsh(H[nB:, nB:])
        print("|dl/dA| =", f"{np.linalg.norm(gA):.1e}", "  |dl/dB| =", f"{np.linalg.norm(gB):.3f}")
        print("A-block eigenvalues:", eig_AA.round(3))
        assert np.linalg.norm(gA) < 1e-10 and eig_AA.min() > 0
        """,
    ),
    _s(
        "projection",
        "Critical points solve both, so W = P_A Syx Sxx^-1",
        """
        Alternating the two partial minimisations above from a random start
        converges to a critical point. There W = AB = P_A Syx Sxx^-1 (P_A the
        projection onto A's columns) and P_A commutes with Sigma:
        P_A Sigma = Sigma P_A = P_A Sigma P_A.
        """,
        r"""
        A = rng.standard_normal((dy, p))
        for it in range(300):
            B = np.linalg.solve(A.T @ A, A.T @ m.least_squares())  # the best B for this A
            A = m.syx @ B.T @ np.linalg.inv(B @ m.sxx @ B.T)  # the best A for this B
        g = fastscape.flatten(fastscape.gradient([B, A], m))
        P_A = A @ np.linalg.solve(A.T @ A, A.T)
        Sigma = m.syx @ m.least_squares().T
        print("|gradient| after 300 alternations:", f"{np.linalg.norm(g):.1e}")
        print("|AB - P_A Syx Sxx^-1| =", f"{np.abs(A @ B - P_A @ m.least_squares()).max():.1e}")
        print("|P_A Sigma - Sigma P_A| =", f"{np.abs(P_A @ Sigma - Sigma @ P_A).max():.1e}")
        print("|P_A Sigma - P_A Sigma P_A| =",
              f"{np.abs(P_A @ Sigma - P_A @ Sigma @ P_A).max():.1e}")
        assert np.linalg.norm(g) < 1e-8 and np.abs(P_A @ Sigma - Sigma @ P_A).max() < 1e-8
        """,
    ),
    _s(
        "critical_points",
        "Every critical point is A = U_S C, B = C^-1 U_S^T Syx Sxx^-1",
        """
        `fastscape.critical_points` builds the critical point of every index set S
        (here all |S| = p: Baldi and Hornik's full-rank points), computes its full
        Hessian and compares the measured Morse index and nullity with the closed
        forms of the index and nullity laws (in parentheses). Any invertible C gives another
        critical point with the same product W = U_S U_S^T Syx Sxx^-1.
        """,
        r"""
        pts = fastscape.critical_points(m, widths, ranks="full")
        print(pts.to_text())
        C = rng.standard_normal((p, p))
        for S in pts.index_sets:
            B, A = fastscape.canonical_point(m, widths, S, C=C)
            U_S = U[:, list(S)]
            assert np.allclose(A @ B, U_S @ U_S.T @ m.least_squares())
            assert fastscape.classify([B, A], m).grad_norm < 1e-10
        print("random C: W = U_S U_S^T Syx Sxx^-1 and gradient 0 for all", len(pts), "sets")
        """,
    ),
    _s(
        "critical_values",
        "The critical values, and the global minimum is PCA",
        """
        At the critical point of S the loss is 1/2 (tr Syy - sum_{i in S} lambda_i)
        (half the tr Syy - sum lambda of the summed loss). The smallest
        value takes the p largest eigenvalues: the projection onto the top-p
        eigenvectors of Sigma, PCA in the auto-associative case.
        """,
        r"""
        from fastscape.theory import critical_loss
        order = np.argsort(pts.loss)
        for i in order:
            S = pts.index_sets[i]
            print(f"S = {S}: loss {pts.loss[i]:.6f}   1/2(tr Syy - sum lambda_S) "
                  f"{critical_loss(lam[:q], S, m.trace_syy):.6f}")
        best = pts.index_sets[order[0]]
        print("lowest:", best, " = the top p =", p, "eigenvalues")
        assert best == tuple(range(p))
        closed = [critical_loss(lam[:q], S, m.trace_syy) for S in pts.index_sets]
        assert np.allclose(pts.loss, closed)
        """,
    ),
    _s(
        "saddle_counts",
        "Exponentially many saddle points",
        """
        There are C(q, p) full-rank index sets: one global minimum, every other one a
        saddle. On a problem with q = 10 and p = 5, all 252 points are built and their
        Hessians (N = 100) diagonalised; the number of points of each Morse index is
        exactly the coefficient list of the Gaussian binomial [q choose p]_t
        (see the theory page). The counts grow like 2^q / sqrt(q): the bottleneck p trades
        saddles for information.
        """,
        r"""
        from math import comb
        from fastscape.theory import gaussian_binomial

        X10 = rng.standard_normal((400, 10))
        Y10 = X10 @ rng.standard_normal((10, 10)) + 0.5 * rng.standard_normal((400, 10))
        m10 = fastscape.Moments.from_data(X10, Y10)
        big = fastscape.critical_points(m10, [10, 5, 10], ranks="full")
        counts = np.bincount(big.morse_index).tolist()
        print(len(big), "=", comb(10, 5), "full-rank critical points:", big.counts())
        print("Morse index counts (Hessians):", counts)
        print("[10 choose 5]_t coefficients: ", gaussian_binomial(10, 5))
        assert counts == gaussian_binomial(10, 5)
        print("C(q, q/2) for q = 8, 16, 32, 64:", [comb(k, k // 2) for k in (8, 16, 32, 64)])
        fig = fplot.index_counts({"q": 10, "p": 5, "index_counts": counts})
        fig.savefig(FIG / "index_counts.png", dpi=100)
        """,
    ),
    _s(
        "saddle_counts_at_scale",
        "Exponentially many saddles, at scale: 2.7 million critical points without a Hessian",
        """
        The closed forms make the whole landscape of a large problem countable.
        `fastscape.enumerate_landscape` streams every index set of a q = 24, p = 12
        spectrum (C(24, 12) = 2,704,156 critical points) through a Numba kernel and
        keeps the aggregates: index counts (again the Gaussian binomial), a loss
        histogram and the lowest critical values. `fastscape.plot.plot_run_dir` draws
        the run directory's figures, as `fastscape plot DIR` does on the command line.
        """,
        r"""
        import shutil
        import tempfile

        run = Path(tempfile.mkdtemp()) / "q24"
        lam24 = fastscape.random_spectrum(24, 0)
        s = fastscape.enumerate_landscape(lam24, 12, out=run, n_lowest=12)
        print(f"{s.total:,} critical points, complete: {s.complete}")
        same = list(s.index_counts) == gaussian_binomial(24, 12)
        print("index counts == [24 choose 12]_t:", same)
        print("lowest three excess losses:", [round(v.loss, 4) for v in s.lowest[:3]])
        for png in fplot.plot_run_dir(run):
            shutil.copy(png, FIG / f"q24_{png.name}")
            print("drew", png.name)
        """,
    ),
    _s(
        "no_bad_minima",
        "No bad local minima",
        """
        Every critical point other than S = {1, ..., p} has a negative Hessian
        eigenvalue, including the rank-deficient ones (|S| < p, ranks="all"), which
        have at least (q - k)(p - k) descent directions. The critical-value diagram
        plots each point's loss against its Morse index: the only index-0 point is
        the global minimum. The Hessian spectra at the minimum and at a saddle show
        where the negative eigenvalues are.
        """,
        r"""
        allpts = fastscape.critical_points(m, widths, ranks="all")
        print(len(allpts), "critical points (all ranks):", allpts.counts())
        for i in np.argsort(allpts.loss):
            print(f"  S = {str(allpts.index_sets[i]):8} index {allpts.morse_index[i]}  "
                  f"min eigenvalue {allpts.min_eigenvalue[i]:+.4f}  {allpts.kind[i]}")
        saddles = allpts.kind != "global_min"
        assert (allpts.min_eigenvalue[saddles] < 0).all() and (allpts.kind != "local_min").all()
        fig = fplot.critical_value_diagram(allpts)
        fig.savefig(FIG / "critical_values.png", dpi=100)

        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        fplot.hessian_spectrum(fastscape.canonical_point(m, widths, (0, 1)), m, ax=axes[0])
        fplot.hessian_spectrum(fastscape.canonical_point(m, widths, (1, 3)), m, ax=axes[1])
        axes[0].set_title("global minimum S = {1, 2}\n" + axes[0].get_title())
        axes[1].set_title("saddle S = {2, 4}\n" + axes[1].get_title())
        fig.tight_layout()
        fig.savefig(FIG / "hessian_spectra.png", dpi=100)
        """,
    ),
    _s(
        "minima_family",
        "The global minimum is not unique",
        """
        The critical value is unique, the minimiser is not: every invertible C gives
        another global minimum A = U_S C, B = C^-1 U_S^T Syx Sxx^-1. The family is
        GL(p), of dimension p^2, and that is exactly the nullity of the Hessian
        there. A slice of the loss through the minimum along its softest curved
        direction and the GL(p) orbit shows the flat valley, a "river basin";
        the same slice at a saddle shows the ridge falling away on both sides.
        """,
        r"""
        gmin = fastscape.global_min_loss(m, widths)
        for seed in range(4):
            C = np.random.default_rng(seed).standard_normal((p, p))
            B, A = fastscape.canonical_point(m, widths, (0, 1), C=C)
            c = fastscape.classify([B, A], m)
            print(f"C #{seed}: |A| = {np.linalg.norm(A):6.3f}  loss - min = {c.loss - gmin:+.1e}"
                  f"  nullity {c.nullity} (p^2 = {p * p})  {c.kind}")
            assert c.kind == "global_min" and c.nullity == p * p

        B, A = fastscape.canonical_point(m, widths, (0, 1))
        fig = fplot.loss_slice([B, A], m, title="global minimum: a flat valley (river basin)")
        fig.savefig(FIG / "slice_minimum.png", dpi=100)
        sl = fig.loss_slice
        print("slice through the minimum: centre", round(sl.center_loss, 6),
              " lowest on the grid", round(sl.values.min(), 6))
        B, A = fastscape.canonical_point(m, widths, (0, 2))
        fig = fplot.loss_slice([B, A], m, title="saddle S = {1, 3}: a ridge, flat along the orbit")
        fig.savefig(FIG / "slice_saddle.png", dpi=100)
        sl = fig.loss_slice
        print("slice through the saddle:  centre", round(sl.center_loss, 6),
              " lowest on the grid", round(sl.values.min(), 6))
        assert sl.values.min() < sl.center_loss
        """,
    ),
    _s(
        "deep",
        "The same holds for deep linear networks",
        """
        With H = 3 layers (widths 5-3-3-4, bottleneck p = 3) every critical point still
        has W_H ... W_1 = U_S U_S^T Syx Sxx^-1 and loss 1/2 (tr Syy - sum_S lambda).
        For each index set `fastscape.deep_critical_points` builds a "tight"
        representative (every partial product of rank |S|) and, for |S| < p, a "loose"
        one, and classifies both by the Hessian. Every local minimum is global; new
        in depth: non-strict saddles (PSD Hessian, above the minimum), and the same S
        can be a strict or a non-strict saddle depending on the ranks of the layers.
        """,
        r"""
        w3 = [dx, 3, 3, dy]
        deep = fastscape.deep_critical_points(m, w3)
        print(len(deep), "critical points of", w3, ":", deep.counts())
        for i in range(len(deep)):
            if deep.index_sets[i] in [(0,), (1,), (0, 1, 2)]:
                print(f"  S = {str(deep.index_sets[i]):10} {deep.representative[i]:6} "
                      f"index {deep.morse_index[i]:2}  min eig {deep.min_eigenvalue[i]:+.3f}  "
                      f"{deep.kind[i]}")
        assert (deep.kind != "local_min").all() and deep.counts()["global_min"] == 1
        assert len(deep.disagreements) == 0
        fig = fplot.critical_value_diagram(deep, title="depth 3, widths 5-3-3-4")
        fig.savefig(FIG / "critical_values_deep.png", dpi=100)
        """,
    ),
    _s(
        "decay",
        "Weight decay: fewer critical points, and a spurious minimum in depth",
        """
        How does weight decay (mu/2)(|A|^2 + |B|^2) change the landscape? With
        whitened inputs it is solved exactly. Directions with singular value sigma_i <= mu
        disappear, so there are fewer critical points; the GL(p) family of minima
        shrinks to the balanced ones, an O(p) orbit: nullity p(p-1)/2 instead of p^2.
        Among the minimisers A C, C^-1 B without decay, the balanced factorisation
        (A^T A = B B^T) has the smallest norm, 2 |W|_* (nuclear norm). And with
        H >= 3 layers, W = 0 becomes a strict local minimum that is not global.
        """,
        r"""
        Xw = np.linalg.solve(np.linalg.cholesky(m.sxx), X.T).T  # whitened: Sxx = I
        mw = fastscape.Moments.from_data(Xw, Y)
        sig = np.linalg.svd(mw.syx, compute_uv=False)
        mu = float(sig[1] + sig[2]) / 2
        print("singular values of Syx:", sig.round(3), "  mu =", round(mu, 3))
        for decay in (0.0, mu):
            cps = fastscape.critical_points(mw, widths, ranks="all", weight_decay=decay)
            g = int(np.flatnonzero(cps.kind == "global_min")[0])
            print(f"mu = {decay:.3f}: {len(cps):2} critical points {cps.counts()}, "
                  f"global min loss {cps.loss[g]:.4f}, nullity {cps.nullity[g]}")
        B, A = fastscape.theory.weight_decay_critical_point(mw, p, (0, 1), mu)
        print("balanced at the decayed minimum: |A^T A - B B^T| =",
              f"{np.abs(A.T @ A - B @ B.T).max():.1e}")

        B, A = fastscape.canonical_point(mw, widths, (0, 1))
        W = A @ B
        norms = []
        for seed in range(200):
            C = np.random.default_rng(seed).standard_normal((p, p))
            norms.append(np.sum((A @ C) ** 2) + np.sum(np.linalg.solve(C, B) ** 2))
        u, sv, vt = np.linalg.svd(W)
        A_bal, B_bal = u[:, :p] * np.sqrt(sv[:p]), np.sqrt(sv[:p])[:, None] * vt[:p]
        balanced = np.sum(A_bal**2) + np.sum(B_bal**2)
        print(f"|A C|^2 + |C^-1 B|^2 over 200 random C: min {min(norms):.4f}; balanced "
              f"{balanced:.4f} = 2 |W|_* = {2 * np.linalg.norm(W, 'nuc'):.4f}")
        assert min(norms) >= balanced - 1e-12 and np.isclose(balanced, 2 * sv.sum())

        for H in (2, 3):
            zeros = [np.zeros((a, b)) for a, b in zip([3] * (H - 1) + [dy], [dx] + [3] * (H - 1))]
            c = fastscape.classify(zeros, mw, weight_decay=0.1)
            print(f"H = {H}, mu = 0.1, W = 0: {c.kind}, index {c.morse_index}, "
                  f"loss {c.loss:.4f} vs global min {c.global_min_loss:.4f}")
        assert c.kind == "local_min" and c.loss > c.global_min_loss
        """,
    ),
    _s(
        "nobad",
        "Deep linear nets have no bad local minima",
        """
        Lu & Kawaguchi (2017): every local minimum of the deep loss is global. From
        ten random starts, L-BFGS on a four-layer network (widths 5-4-3-4-4) with
        fastscape's loss and gradient always ends at the global minimum value, which
        is the value of the shallow problem, the best map of rank <= 3.
        """,
        r"""
        import scipy.optimize

        w4 = [dx, 4, 3, 4, dy]
        gmin4 = fastscape.global_min_loss(m, w4)
        U3 = U[:, :3]
        shallow = fastscape.loss([U3 @ U3.T @ m.least_squares()], m)  # best rank-3 map
        print("global minimum (closed form):", round(gmin4, 6),
              " best rank-3 one-layer map:", round(shallow, 6))
        excess = []
        for seed in range(10):
            theta0 = fastscape.flatten(fastscape.random_weights(w4, seed=seed))
            res = scipy.optimize.minimize(
                lambda t: fastscape.loss(fastscape.unflatten(t, w4), m), theta0,
                jac=lambda t: fastscape.flatten(fastscape.gradient(fastscape.unflatten(t, w4), m)),
                method="L-BFGS-B", options={"maxiter": 5000, "gtol": 1e-12, "ftol": 1e-15})
            excess.append(res.fun - gmin4)
        print("starts ending within 1e-10 of the global minimum:",
              sum(abs(e) < 1e-10 for e in excess), "of", len(excess))
        assert max(np.abs(excess)) < 1e-10
        """,
    ),
    _s(
        "badsaddle",
        "The bad saddle at 0 for H >= 3",
        """
        Kawaguchi (2016): at W = 0 the gradient vanishes for every depth, but for
        H >= 3 the Hessian vanishes too: no negative eigenvalue reveals that 0 is a
        saddle (the loss falls only at third order). With H = 2 the Hessian at 0 has
        negative eigenvalues. The slice through 0 along the direction of the rank-1
        critical point shows the cubic fall on one side.
        """,
        r"""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for ax, w in zip(axes, ([dx, 3, dy], w3)):
            zeros = [np.zeros((b, a)) for a, b in zip(w[:-1], w[1:])]
            c = fastscape.classify(zeros, m)
            H0 = fastscape.hessian(zeros, m)
            print(f"H = {len(w) - 1}: |grad| = {c.grad_norm:.0e}, max |Hessian entry| = "
                  f"{np.abs(H0).max():.3f}, min eigenvalue {c.min_eigenvalue:+.3f}, {c.kind}")
            fplot.hessian_spectrum(zeros, m, ax=ax)
            ax.set_title(f"W = 0, H = {len(w) - 1}\n" + ax.get_title())
        fig.tight_layout()
        fig.savefig(FIG / "bad_saddle_spectra.png", dpi=100)
        assert c.kind == "non_strict_saddle" and c.loss > fastscape.global_min_loss(m, w3)

        zeros3 = [np.zeros((b, a)) for a, b in zip(w3[:-1], w3[1:])]
        toward = fastscape.flatten(fastscape.deep_point(m, w3, (0,)))
        other = fastscape.flatten(fastscape.random_weights(w3, seed=1))
        fig = fplot.loss_slice(zeros3, m, [toward, other], span=1.5,
                               labels=("toward the rank-1 critical point", "random"),
                               title="W = 0, H = 3: flat to second order, falls at third")
        fig.savefig(FIG / "bad_saddle_slice.png", dpi=100)
        sl = fig.loss_slice
        print("slice through 0: centre", round(sl.center_loss, 4), " lowest",
              round(sl.values.min(), 4))
        """,
    ),
    _s(
        "residual",
        "The residual reparameterisation",
        """
        Hardt & Ma (2016): with square layers and y = R x + noise, write the net as
        (I + W_H) ... (I + W_1). It is the same problem, but the point 0 is no longer
        critical, every critical point with max_k |W_k|_2 < 1 is a global minimum
        (Theorem 1), and a global minimum exists with max_k |W_k|_2 = O(1/H)
        (Theorem 2): below, H * max_k |W_k| stays bounded.
        """,
        r"""
        import scipy.linalg

        d = 4
        R = scipy.linalg.expm(0.6 * np.random.default_rng(5).standard_normal((d, d)))
        mr = fastscape.residual_moments(R, noise=1.0)  # y = R x + xi, x, xi ~ N(0, I)
        g0 = fastscape.flatten(fastscape.gradient([np.zeros((d, d))] * 3, mr, residual=True))
        print(f"residual form, W = 0: |grad| = {np.linalg.norm(g0):.3f} (not a critical point)")
        for H in (1, 2, 4, 8, 16, 32):
            ws = fastscape.residual_global_min(R, H)
            c = fastscape.classify(ws, mr, residual=True)
            top = max(np.linalg.norm(w, 2) for w in ws)
            print(f"H = {H:2}: max |W_k| = {top:.4f}, H * max |W_k| = {H * top:.3f}, {c.kind}")
            assert c.kind == "global_min"
        print(f"the limit, |logm R|_2 = {np.linalg.norm(scipy.linalg.logm(R).real, 2):.3f}")
        w_res = [d] * 5  # H = 4 residual layers
        ends = []
        for seed in range(5):
            theta0 = 0.1 * fastscape.flatten(fastscape.random_weights(w_res, seed=seed))
            res = scipy.optimize.minimize(
                lambda t: fastscape.loss(fastscape.unflatten(t, w_res), mr, residual=True),
                theta0, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15},
                jac=lambda t: fastscape.flatten(
                    fastscape.gradient(fastscape.unflatten(t, w_res), mr, residual=True)))
            ws = fastscape.unflatten(res.x, w_res)
            c = fastscape.classify(ws, mr, residual=True)
            ends.append((max(np.linalg.norm(w, 2) for w in ws), c.kind))
        print("Theorem 1, H = 4, L-BFGS from 5 small starts: max |W_k| at the end",
              [round(float(t), 3) for t, _ in ends], "kinds", sorted({k for _, k in ends}))
        assert all(k == "global_min" for t, k in ends if t < 1)
        """,
    ),
    _s(
        "topology",
        "The global shape: two components of minima and the pass between them",
        """
        How many global minima are there, and how are they connected? The minima form
        the GL(p) orbit A = U_S C, B = C^-1 U_S^T Syx Sxx^-1, and GL(p) has two
        components: sign det(U_S^T A) cannot change inside the set of minima. Inside a
        component a path through minima only exists (`minimum_path` builds it); between
        the two every path must climb at least (lambda_p - lambda_(p+1)) / 2 (the sign
        of det(U_S^T A) must pass through 0, and then Ky Fan's inequality bounds the
        loss), and the pass through the index-1 saddle S = {1, 3} reaches that bound
        (docs/topology.md has the proofs, also for deep networks: 2^m components for m
        hidden layers of width rank r, 2^(m-1) when lambda_r = lambda_(r+1)). A
        climbing-image nudged elastic band (Henkelman & Jonsson 2000; Draxler et al.
        2018) started on the straight line between two minima finds the same barrier;
        the straight line itself (Goodfellow et al. 2015) climbs higher. On the right,
        the sublevel sets {loss <= c}: two components until c reaches the pass.
        """,
        r"""
        widths = [dx, p, dy]
        print("components of the global minima:", fastscape.global_min_components(m, widths),
              "| deep, widths [5, 2, 2, 3, 4]:",
              fastscape.global_min_components(m, [dx, 2, 2, 3, dy]))
        a = fastscape.canonical_point(m, widths, [0, 1])
        b = fastscape.canonical_point(m, widths, [0, 1], C=np.array([[1.5, 0.4], [-0.3, 0.8]]))
        c = fastscape.canonical_point(m, widths, [0, 1], C=np.diag([-1.0, 2.0]))  # det C < 0
        print("invariants sign det(U_S^T A): a", fastscape.component_of(a, m).signs,
              " b", fastscape.component_of(b, m).signs, " c", fastscape.component_of(c, m).signs)
        path = fastscape.minimum_path(a, b, m, n=64)
        along = np.array([fastscape.loss(w, m) for w in path])
        print(f"minimum_path a -> b: {len(path)} points, all global minima "
              f"(loss spread {np.ptp(along):.1e})")
        try:
            fastscape.minimum_path(a, c, m)
        except ValueError as err:
            print("minimum_path a -> c:", str(err).split(" (")[0])
        mp = fastscape.mountain_pass(m, widths)
        print(f"mountain pass: barrier {mp.barrier:.4f} = (lambda_2 - lambda_3) / 2 = "
              f"{(lam[1] - lam[2]) / 2:.4f}, through the saddle S = {mp.index_set}")
        band = fastscape.neb(a, c, m, images=17, steps=2000, seed=0)
        line = fastscape.interpolate(a, c, m, n=201)
        print(f"a -> c: NEB barrier {band.barrier:.3f}, straight line rises "
              f"{line.max() - along[0]:.3f}")
        assert mp.barrier * (1 - 1e-9) <= band.barrier <= 1.03 * mp.barrier
        levels = along[0] + mp.barrier * np.array([0.0, 0.99, 1.0, 2.0])
        print("components of {loss <= min + c} for c / barrier = 0, 0.99, 1, 2:",
              fastscape.sublevel_components(m, widths, levels).tolist())
        fig = fplot.mountain_pass_figure(m, widths)
        fig.savefig(FIG / "mountain_pass.png", dpi=100)
        """,
    ),
    _s(
        "skip",
        "Li et al.'s Figure 12.1: random slices with and without skip connections, depth 8",
        """
        Li et al. (2018) compare random two-dimensional slices of networks with and
        without skip connections, each direction filter-normalised (every row of every
        W_k scaled to the norm of that row of the trained point). Here: one data set
        y = R x + noise, a depth-8 residual net (I + W_8) ... (I + W_1) trained by
        L-BFGS from W = 0, and the plain net with layers F_k = I + W_k: the same
        end-to-end map, both at a global minimum. The plain slice climbs to thousands
        within one filter-norm (every factor moves by its own size), the residual one
        stays a smooth bowl (its layers are small, and so are their directions).
        """,
        r"""
        import scipy.linalg
        import scipy.optimize
        from fastscape.slices import slice_grid

        g8 = np.random.default_rng(12)
        d8, H8 = 6, 8
        R8 = scipy.linalg.expm(0.5 * g8.standard_normal((d8, d8)))
        X8 = g8.standard_normal((500, d8))
        m8 = fastscape.Moments.from_data(X8, X8 @ R8.T + 0.3 * g8.standard_normal((500, d8)))
        w8 = [d8] * (H8 + 1)
        fit = scipy.optimize.minimize(
            lambda t: fastscape.loss(fastscape.unflatten(t, w8), m8, residual=True),
            np.zeros(fastscape.num_params(w8)), method="L-BFGS-B",
            jac=lambda t: fastscape.flatten(
                fastscape.gradient(fastscape.unflatten(t, w8), m8, residual=True)),
            options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 5000})
        W_res = [w.copy() for w in fastscape.unflatten(fit.x, w8)]
        W_plain = [np.eye(d8) + w for w in W_res]
        same = np.abs(fastscape.product(W_plain) - fastscape.product(W_res, residual=True)).max()
        kinds = (fastscape.classify(W_plain, m8).kind,
                 fastscape.classify(W_res, m8, residual=True).kind)
        print(f"same end-to-end map (max difference {same:.1e}); kinds:", *kinds)
        sl_plain = slice_grid(W_plain, m8, fastscape.random_directions(W_plain, seed=1),
                              span=1.0, resolution=41, unit=False)
        sl_res = slice_grid(W_res, m8, fastscape.random_directions(W_res, seed=1),
                            span=1.0, resolution=41, residual=True, unit=False)
        for name, sl in (("plain", sl_plain), ("residual", sl_res)):
            print(f"{name:8}: loss {sl.center_loss:.4f} at the point, "
                  f"max {sl.values.max():.4g} on [-1, 1]^2")
        assert sl_plain.values.max() > 100 * sl_res.values.max()
        fig = fplot.slice_panels([sl_plain, sl_res],
                                 ["plain, depth 8", "residual (I + W_k), depth 8"], log=True)
        fig.savefig(FIG / "skip_slices.png", dpi=90)
        """,
    ),
    _s(
        "dynamics",
        "Gradient descent: saddle to saddle, and the same run in PyTorch",
        """
        Full-batch gradient descent from a tiny start (scale 1e-5) on data whose Sigma has
        the well-separated eigenvalues 4, 1, 0.25, 0.0625: the loss sits on plateaus at the
        critical values of S = (), (0,), (0, 1) and ends at the global minimum (0, 1, 2),
        learning one mode at a time (Saxe, McClelland & Ganguli 2014; Jacot et al. 2021).
        Then the same start is trained in PyTorch and read back with `from_torch`: the
        weights agree with fastscape's run to rounding, and `locate` says where it stopped.
        docs/dynamics.md has the closed forms and the statistics over many runs.
        """,
        r"""
        import torch

        Xd = 2.0 * np.eye(4)  # Sxx = I: Sigma = Syx Syx^T, eigenvalues 4, 1, 0.25, 0.0625
        Yd = Xd @ np.diag([2.0, 1.0, 0.5, 0.25])
        md = fastscape.Moments.from_data(Xd, Yd)
        wd = [4, 3, 4]
        start = fastscape.random_weights(wd, seed=1, scale=1e-5)
        tr = fastscape.gradient_descent(start, md, lr=0.02, steps=6000, record_every=2)
        for pl in tr.plateaus(md):
            print(f"S = {str(pl.index_set):9}: steps {pl.start_step:4}-{pl.end_step:4}, loss "
                  f"{pl.loss:.5f}, critical value {pl.critical_loss:.5f}, index {pl.morse_index}")
        fplot.plot_learning_curve(tr, md).savefig(FIG / "trajectory.png", dpi=100)
        plt.close("all")

        net = fastscape.to_torch(start)  # float64 nn.Sequential of bias-free nn.Linear
        opt = torch.optim.SGD(net.parameters(), lr=0.02)
        Xt, Yt = torch.from_numpy(Xd), torch.from_numpy(Yd)
        for _ in range(6000):
            opt.zero_grad()
            (0.5 * ((net(Xt) - Yt) ** 2).sum(1).mean()).backward()
            opt.step()
        trained = fastscape.from_torch(net)
        gap = max(np.abs(a - b).max() for a, b in zip(trained, tr.weights))
        print(f"PyTorch vs fastscape after 6000 steps: max |weight difference| {gap:.1e}")
        loc = fastscape.locate(trained, md)
        print(f"locate: nearest S = {loc.index_set}, loss gap {loc.loss_gap:.1e}, "
              f"{loc.classification.kind}")
        assert gap < 1e-8 and loc.classification.kind == "global_min"
        """,
    ),
]


# ------------------------------------------------------------------------------ runner


def run(root: Path, *, echo: bool = True) -> list[tuple[Section, str, list[str]]]:
    """Run every section in ``root``; return (section, printed output, figure paths)."""
    root.mkdir(parents=True, exist_ok=True)
    os.chdir(root)
    namespace: dict = {"__name__": "__tour__"}
    results = []
    t_all = time.perf_counter()
    for sec in SECTIONS:
        before = _pngs(root)
        buf = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(buf):
            exec(compile(sec.code, f"<tour section {sec.key}>", "exec"), namespace)
        out = buf.getvalue()
        figs = sorted(
            str(p.relative_to(root).as_posix())
            for p, mtime in _pngs(root).items()
            if before.get(p) != mtime
        )
        results.append((sec, out, figs))
        if echo:
            print(f"== [{sec.key}] {sec.title} ({time.perf_counter() - t0:.1f} s)")
            print(out, end="" if out.endswith("\n") or not out else "\n")
            for f in figs:
                print(f"   figure: {f}")
    if echo:
        print(
            f"== tour complete: {len(SECTIONS)} sections, every assertion held "
            f"({time.perf_counter() - t_all:.1f} s)"
        )
    return results


def _pngs(root: Path) -> dict:
    d = root / FIGURES
    return {p: p.stat().st_mtime_ns for p in d.glob("*.png")} if d.is_dir() else {}


def markdown(results) -> str:
    """docs/tour.md: intro, then per section its text, code, output and figures."""
    parts = [INTRO, ""]
    for sec, out, figs in results:
        parts += [f"## {sec.title}", "", sec.text, "", "```python", sec.code, "```", ""]
        if out.strip():
            parts += ["```text", out.rstrip("\n"), "```", ""]
        for f in figs:
            rel = Path(f).relative_to(FIGURES.parent).as_posix()  # the page lives in docs/
            parts += [f"![{Path(f).stem}]({rel})", ""]
    return "\n".join(parts).rstrip("\n") + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=REPO, help="run here (default: the repo)")
    ap.add_argument(
        "--write-docs",
        type=Path,
        nargs="?",
        const=REPO / "docs" / "tour.md",
        default=None,
        metavar="PATH",
        help="write the markdown tour (default path: docs/tour.md)",
    )
    args = ap.parse_args(argv)
    # small matrices only: threaded BLAS just oversubscribes the cores (set before numpy loads)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    target = args.write_docs.resolve() if args.write_docs else None
    results = run(args.root.resolve())
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        text = markdown(results)
        target.write_text(text)
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
