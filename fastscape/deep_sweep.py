"""Check the rank rule (``predict_kind``) against the Hessian on a sweep of deep networks.

Families of critical points, for every width tuple and every index set S:

- "tight" and "loose": ``deep_point``;
- "factored": a tight/loose/mixed point with random invertible factors between the
  layers, W_k -> G_k W_k G_(k-1)^-1 (same product, same partial-product ranks);
- "padded": the tight or loose point of a network with smaller hidden widths, padded
  with zeros to the full widths (intermediate ranks);
- "mixed": block points W_1 = [B; C], middle [I_r 0; 0 F_k], W_H = [U_S, D] with random
  ranks for F_k and C, D zero, in the residual's null space, or random; kept only if the
  gradient vanishes and the product is unchanged (rejection sampling).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ._gauge import random_layer_gauge
from ._spectral import positive_spectrum
from ._types import Seed, Weights, Widths
from .deep import deep_point, predict_kind
from .moments import Moments

__all__ = ["SweepResult", "random_factors", "rank_rule_sweep", "sweep_moments", "zero_pad"]

FAMILIES = ("tight", "loose", "factored", "padded", "mixed")


class SweepResult(NamedTuple):
    """``counts[(predicted, hessian)]`` over all points; ``disagreements`` lists
    (family, widths, index_set, predicted, hessian, min_eigenvalue)."""

    points: int
    counts: dict
    families: dict
    disagreements: list


def sweep_moments(dx: int, dy: int, seed: Seed) -> Moments:
    """Generic data: 3 (dx + dy) samples, distinct eigenvalues, Sxx not white.

    Examples
    --------
    >>> from fastscape.deep_sweep import sweep_moments
    >>> sweep_moments(2, 3, 0)
    Moments(dx=2, dy=3)
    """
    rng = np.random.default_rng(seed)
    n = 3 * (dx + dy) + 4
    X = rng.standard_normal((n, dx)) * np.linspace(1.0, 2.0, dx)
    Y = X @ rng.standard_normal((dx, dy)) + 0.3 * rng.standard_normal((n, dy))
    return Moments.from_data(X, Y)


def random_factors(weights: Weights, rng: np.random.Generator) -> list[np.ndarray]:
    """W_k -> G_k W_k G_(k-1)^-1 with random well-conditioned G_k on the hidden layers.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> from fastscape.deep_sweep import random_factors
    >>> ws = fastscape.random_weights([2, 3, 3, 2], seed=0)
    >>> moved = random_factors(ws, np.random.default_rng(1))
    >>> bool(np.allclose(fastscape.product(moved), fastscape.product(ws)))
    True
    """
    return random_layer_gauge([np.asarray(w, dtype=float) for w in weights], rng)


def zero_pad(weights: Weights, widths: Widths) -> list[np.ndarray]:
    """Embed a point of smaller hidden widths into ``widths`` by padding with zeros.

    Examples
    --------
    >>> import numpy as np
    >>> from fastscape.deep_sweep import zero_pad
    >>> [w.shape for w in zero_pad([np.ones((1, 2)), np.ones((2, 1))], [2, 3, 2])]
    [(3, 2), (2, 3)]
    """
    out = []
    for k, x in enumerate(weights):
        w = np.asarray(x, dtype=float)
        z = np.zeros((widths[k + 1], widths[k]))
        z[: w.shape[0], : w.shape[1]] = w
        out.append(z)
    return out


def _null_rows(a: np.ndarray, k: int, rng) -> np.ndarray:
    """k random rows x with a x = 0."""
    _, s, vt = np.linalg.svd(a)
    rank = int(np.sum(s > 1e-10 * max(1.0, float(s.max(initial=0.0)))))
    basis = vt[rank:]
    if basis.shape[0] == 0:
        return np.zeros((k, a.shape[1]))
    return rng.standard_normal((k, basis.shape[0])) @ basis


def _random_rank(rows: int, cols: int, rng) -> np.ndarray:
    r = int(rng.integers(0, min(rows, cols) + 1))
    return rng.standard_normal((rows, r)) @ rng.standard_normal((r, cols))


def _mixed(m: Moments, widths, s, rng, tries: int = 12):
    from . import derivatives as _d

    _, vecs, _ = positive_spectrum(m)
    r, depth = len(s), len(widths) - 1
    us = vecs[:, list(s)]
    b = us.T @ m.least_squares()
    prod = us @ b
    resid = prod @ m.sxx - m.syx
    for _ in range(tries):
        rows, cols = widths[1] - r, widths[-2] - r
        c = [
            np.zeros((rows, widths[0])),
            _null_rows(resid, rows, rng),
            rng.standard_normal((rows, widths[0])),
        ][int(rng.integers(0, 3))]
        d = [
            np.zeros((widths[-1], cols)),
            _null_rows(resid.T, cols, rng).T,
            rng.standard_normal((widths[-1], cols)),
        ][int(rng.integers(0, 3))]
        ws = [np.vstack([b, c])]
        for k in range(2, depth):
            layer = np.zeros((widths[k], widths[k - 1]))
            layer[:r, :r] = np.eye(r)
            layer[r:, r:] = _random_rank(widths[k] - r, widths[k - 1] - r, rng)
            ws.append(layer)
        ws.append(np.hstack([us, d]))
        scale = max(1.0, max(float(np.abs(x).max()) for x in ws)) ** depth
        g = np.concatenate([x.ravel() for x in _d.gradient(ws, m)])
        if np.abs(g).max() <= 1e-10 * scale and np.allclose(_d.product(ws), prod, atol=1e-10):
            return ws
    return None


def _points(m, widths, s, families, rng):
    r, p = len(s), min(widths)
    base = [("tight", deep_point(m, widths, s))]
    if r < p:
        base.append(("loose", deep_point(m, widths, s, representative="loose")))
    out = [x for x in base if x[0] in families]
    if "mixed" in families:
        for _ in range(2):
            ws = _mixed(m, widths, s, rng)
            if ws is not None:
                out.append(("mixed", ws))
    if "factored" in families:
        out.extend(("factored", random_factors(ws, rng)) for _, ws in list(out))
    if "padded" in families:
        hidden = [int(rng.integers(max(r, 1), d + 1)) for d in widths[1:-1]]
        small = (widths[0], *hidden, widths[-1])
        if small != tuple(widths):
            for rep in ("tight", "loose") if r < min(small) else ("tight",):
                out.append(
                    ("padded", zero_pad(deep_point(m, small, s, representative=rep), widths))
                )
    return out


def rank_rule_sweep(
    depths: Iterable[int] = (3, 4),
    max_width: int = 4,
    *,
    families: Iterable[str] = FAMILIES,
    square_io: bool = False,
    seed: int = 0,
    threads: int | None = None,
) -> SweepResult:
    """Compare ``predict_kind`` with ``fastscape.classify`` on every point of a sweep.

    Every width tuple (d_0, ..., d_H) with entries 1..max_width for each depth H in
    ``depths`` (``square_io``: only dx = dy), every index set S of Sigma's positions
    with |S| <= min width, and the families of points listed in the module docstring.
    The Hessian checks of one width tuple run as one parallel batch
    (``CriticalPointSet.from_points``).

    Examples
    --------
    >>> from fastscape.deep_sweep import rank_rule_sweep
    >>> res = rank_rule_sweep((3,), 2, families=("tight", "loose"))
    >>> res.points, len(res.disagreements)
    (55, 0)
    """
    from .critical import CriticalPointSet

    rng = np.random.default_rng(seed)
    counts: dict[tuple[str, str], int] = {}
    fams: dict[str, int] = {}
    bad: list[tuple] = []
    total = 0
    for depth in depths:
        for widths in itertools.product(range(1, max_width + 1), repeat=depth + 1):
            if square_io and widths[0] != widths[-1]:
                continue
            m = sweep_moments(widths[0], widths[-1], (seed, *widths))
            q = positive_spectrum(m)[0].size
            rows: list[tuple] = []
            for k in range(min(min(widths), q) + 1):
                for s in itertools.combinations(range(q), k):
                    rows.extend((fam, s, ws) for fam, ws in _points(m, widths, s, families, rng))
            checked = CriticalPointSet.from_points(
                [x[2] for x in rows], m, index_sets=[x[1] for x in rows], threads=threads
            )
            for (fam, s, ws), kind, low in zip(
                rows, checked.kind, checked.min_eigenvalue, strict=True
            ):
                pred = predict_kind(ws, m).kind
                total += 1
                counts[(pred, kind)] = counts.get((pred, kind), 0) + 1
                fams[fam] = fams.get(fam, 0) + 1
                if pred != kind:
                    bad.append((fam, widths, s, pred, kind, float(low)))
    return SweepResult(total, counts, fams, bad)
