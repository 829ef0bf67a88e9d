"""Deep linear networks (H >= 3): critical points of any depth and the rank rule.

Two representatives per index set S (docs/theory.md), |S| = r <= p = min width:

- "tight": W_1 = [U_S^T Syx Sxx^-1; 0], middle layers [I_r 0; 0 0], W_H = [U_S, 0]: every
  partial product W_j ... W_i has rank r;
- "loose" (r < p only): the same W_1 and W_H, middle layers the rectangular identity of
  rank min(d_k, d_(k-1)), the largest the widths allow. Their product is [I_m 0; 0 0],
  m = min(d_1, ..., d_(H-1)) >= p > r, so W_H ... W_1 is unchanged; every gradient
  R_k^T G L_k^T vanishes because the columns of R_k lie in span(U_S) (U_S^T G = 0) or,
  for k = H, the rows of L_H lie in the row space of W (G L_H^T = 0).

The rank rule (``predict_kind``) classifies a critical point without the Hessian. Let
W = W_H ... W_1 = U_S U_S^T Syx Sxx^-1, r = |S|, q = rank Sigma, r_max = min(p, q) and
G = W Sxx - Syx. Then

1. sum_{i in S} lambda_i = sum of the top r_max eigenvalues -> global minimum;
2. else, if some i not in S has lambda_i > lambda_j for some j in S -> strict saddle;
3. else (S = the top r, r < r_max) the point is a strict saddle iff there are layers
   1 <= k < l <= H with

   - slack: rank(W_(l-1)...W_(k+1)) > min(rank(W_H...W_(k+1)), rank(W_(l-1)...W_1)), and
   - reach: (W_H...W_(l+1))^T G (W_(k-1)...W_1)^T != 0;

   otherwise it is a non-strict saddle (PSD Hessian, the point is "tightened").

Sufficiency of 3 is proved by a two-layer perturbation (E_k, E_l) (see
``predict_kind``); necessity, and the rule as a whole, are checked against the Hessian
by ``fastscape.deep_sweep``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from . import theory as _th
from ._gauge import random_layer_gauge
from ._indexsets import check_set, select_index_sets
from ._spectral import positive_spectrum, warn_ties
from ._tolerance import gradient_scale, loss_tolerance, relative_tol
from ._types import IndexSet, Ranks, Seed, Weights, Widths
from ._validate import as_flag, as_weight_decay, as_weights, as_widths
from .moments import Moments, as_moments
from .pointset import CriticalPointSet

__all__ = [
    "RankPrediction",
    "deep_critical_points",
    "deep_point",
    "partial_product_ranks",
    "predict_kind",
]

REPRESENTATIVES = ("tight", "loose")


def deep_point(
    moments: Moments, widths: Widths, index_set: IndexSet, *, representative: str = "tight"
) -> list[np.ndarray]:
    """The tight or loose critical point of index set S for widths (d_0, ..., d_H).

    Parameters
    ----------
    moments : Moments
    widths : sequence of int
        (dx, d_1, ..., d_(H-1), dy), H >= 2.
    index_set : sequence of int
        0-based positions into Sigma's positive eigenvalues (descending), |S| <= min width.
    representative : {"tight", "loose"}
        "tight": middle layers [I_r 0; 0 0], every partial product of rank r = |S|.
        "loose": middle layers the rectangular identity of rank min(d_k, d_(k-1)).

    Returns
    -------
    list of ndarray
        [W_1, ..., W_H]; W_H ... W_1 = U_S U_S^T Syx Sxx^-1 in both cases.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> ws = fastscape.deep_point(m, [2, 2, 2, 2], [0], representative="loose")
    >>> [int(np.linalg.matrix_rank(w)) for w in ws]
    [1, 2, 1]
    >>> fastscape.product(ws)
    array([[2., 0.],
           [0., 0.]])
    """
    m = as_moments(moments)
    w = as_widths(widths, min_len=3)
    if w[0] != m.dx or w[-1] != m.dy:
        raise ValueError(f"widths must start with dx = {m.dx} and end with dy = {m.dy}, got {w}")
    if representative not in REPRESENTATIVES:
        raise ValueError(f"representative must be 'tight' or 'loose', got {representative!r}")
    vals, vecs, _ = positive_spectrum(m)
    s = check_set(index_set, vals.size, vals.size)
    r, depth = len(s), len(w) - 1
    if r > min(w):
        raise ValueError(f"|index_set| = {r} exceeds the bottleneck width p = {min(w)}")
    us = vecs[:, list(s)]
    first = np.zeros((w[1], w[0]))
    first[:r] = us.T @ m.least_squares()
    out = [first]
    for k in range(2, depth):
        layer = np.zeros((w[k], w[k - 1]))
        n = min(w[k], w[k - 1]) if representative == "loose" else r
        layer[np.arange(n), np.arange(n)] = 1.0
        out.append(layer)
    last = np.zeros((w[-1], w[-2]))
    last[:, :r] = us
    out.append(last)
    return out


def _rank(a: np.ndarray, threshold: float) -> int:
    if a.size == 0:
        return 0
    return int(np.sum(np.linalg.svd(a, compute_uv=False) > threshold))


def partial_product_ranks(weights: Weights, *, tol: float | None = None) -> np.ndarray:
    """Ranks of every partial product: ``out[i, j] = rank(W_j...W_(i+1))`` for i <= j.

    Entry [i, i] is the width d_i (the identity); entries below the diagonal are -1.
    A singular value counts as zero at or below ``tol * prod_k |W_k|_F`` over the factors
    of that product (``tol`` defaults to sqrt(eps)).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> ws = [np.ones((2, 3)), np.eye(2), np.zeros((1, 2))]
    >>> fastscape.partial_product_ranks(ws)
    array([[ 3,  1,  1,  0],
           [-1,  2,  2,  0],
           [-1, -1,  2,  0],
           [-1, -1, -1,  1]])
    """
    ws = as_weights(weights)
    rtol = relative_tol(tol)
    return _rank_table(ws, rtol)


def _rank_table(ws, rtol: float) -> np.ndarray:
    depth = len(ws)
    norms = [math.sqrt(float(np.vdot(x, x))) for x in ws]
    widths = [ws[0].shape[1]] + [x.shape[0] for x in ws]
    out = -np.ones((depth + 1, depth + 1), dtype=np.int64)
    for i in range(depth + 1):
        out[i, i] = widths[i]
        prod = np.eye(widths[i])
        scale = 1.0
        for j in range(i + 1, depth + 1):
            prod = ws[j - 1] @ prod
            scale *= norms[j - 1]
            out[i, j] = _rank(prod, rtol * scale)
    return out


class RankPrediction(NamedTuple):
    """What the rank rule says about a point (see the ``fastscape.deep`` module docstring).

    ``witness`` is (k, l), 1-based layers whose joint perturbation gives a negative
    curvature direction (strict saddles from rule 3), else None. ``loss`` is the closed
    form 1/2 (tr Syy - sum_{i in S} lambda_i); ``ranks`` is ``partial_product_ranks``.

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> pred = fastscape.predict_kind(fastscape.deep_point(m, [2, 2, 2, 2], [1]), m)
    >>> pred.kind, pred.index_set, pred.rank, pred.loss, pred.global_min_loss
    ('strict_saddle', (1,), 1, 2.5, 0.5)
    """

    kind: str
    index_set: tuple
    rank: int
    loss: float
    global_min_loss: float
    witness: tuple | None
    grad_norm: float
    ranks: np.ndarray


def _recover_set(m: Moments, product: np.ndarray, vals, vecs, tie: float):
    """S from W = U_S U_S^T Syx Sxx^-1: diag(U^T W Syx^T U) = lambda_i on S, 0 off S.

    Tied eigenvalues: the count per tie group is what is determined; the first positions
    of the group are reported.
    """
    if vals.size == 0:
        return ()
    d = np.einsum("ai,ab,bi->i", vecs, product @ m.syx.T, vecs) / vals
    s: list[int] = []
    start = 0
    while start < vals.size:
        stop = start + 1
        while stop < vals.size and vals[start] - vals[stop] <= tie:
            stop += 1
        count = int(round(float(np.sum(d[start:stop]))))
        s.extend(range(start, start + min(max(count, 0), stop - start)))
        start = stop
    return tuple(s)


def predict_kind(weights: Weights, moments: Moments, *, tol: float | None = None) -> RankPrediction:
    """Classify a point of a linear network by the rank rule, without the Hessian.

    Costs O(H^2) small matrix products and SVDs (never an N x N matrix), so it works for
    networks whose Hessian would not fit in memory. Plain networks only (no residual
    form, no weight decay: use ``fastscape.classify`` there).

    The rule (S, r, G as in the module docstring): a critical point is a global minimum
    iff its loss is the global value; otherwise a strict saddle if S is not a top set;
    otherwise a strict saddle iff some layers k < l have *slack* (the segment between
    them, W_(l-1)...W_(k+1), has more rank than survives to the output or comes from the
    input) and *reach* ((W_H...W_(l+1))^T G (W_(k-1)...W_1)^T != 0); else non-strict.

    Why slack + reach gives a descent direction: take E_k = z w^T with
    W_H...W_(k+1) z = 0 and W_(l-1)...W_(k+1) z != 0 (slack, first alternative), and
    E_l = x y^T with y^T W_(l-1)...W_(k+1) z != 0. The first-order change of the product
    caused by E_k is zero, so along (s E_l, t E_k) the second-order change of the loss is
    s^2 a + 2 s t b with b = (y^T M z)(x^T R_l^T G L_k^T w) != 0 (reach): indefinite.
    The second alternative is the mirror image (E_l with no first-order effect).

    Parameters
    ----------
    weights : list of array_like
        [W_1, ..., W_H].
    moments : Moments
    tol : float, optional
        Relative tolerance (default sqrt(eps)) for the gradient test, the ranks and the
        reach test.

    Returns
    -------
    RankPrediction
        kind is "global_min", "strict_saddle", "non_strict_saddle" or "not_critical".

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> tight = fastscape.deep_point(m, [2, 2, 2, 2], [0])
    >>> loose = fastscape.deep_point(m, [2, 2, 2, 2], [0], representative="loose")
    >>> fastscape.predict_kind(tight, m).kind, fastscape.predict_kind(loose, m).kind
    ('non_strict_saddle', 'strict_saddle')
    >>> fastscape.predict_kind(loose, m).witness
    (1, 3)
    >>> fastscape.predict_kind([np.zeros((2, 2))] * 3, m).kind  # Kawaguchi's bad saddle
    'non_strict_saddle'
    """
    m = as_moments(moments)
    ws = as_weights(weights)
    rtol = relative_tol(tol)
    if ws[0].shape[1] != m.dx or ws[-1].shape[0] != m.dy:
        raise ValueError(
            f"weights map {ws[0].shape[1]} inputs to {ws[-1].shape[0]} outputs but the data "
            f"have dx = {m.dx}, dy = {m.dy}"
        )
    vals, vecs, tie = positive_spectrum(m)
    q, p = vals.size, min([m.dx] + [x.shape[0] for x in ws])
    table = _rank_table(ws, rtol)
    left, right = _partial_products(ws, m)
    product = left[-1]
    resid = product @ m.sxx - m.syx  # G
    gmin = 0.5 * (m.trace_syy - float(np.sum(vals[: min(p, q)])))
    grad_norm, g_scale = _gradient_norm(ws, m, left, right, resid)
    s = _recover_set(m, product, vals, vecs, tie)
    r = len(s)
    loss = 0.5 * (m.trace_syy - float(np.sum(vals[list(s)])))

    def result(kind, witness=None):
        return RankPrediction(kind, s, r, loss, gmin, witness, grad_norm, table)

    if grad_norm > rtol * g_scale:
        return result("not_critical")
    # rule 1: "at the global value" with the loss tolerance of fastscape.classify
    if abs(loss - gmin) <= loss_tolerance(rtol, m, loss, gmin):
        return result("global_min")
    # rule 2: S is not a top set
    outside = np.setdiff1d(np.arange(q), s)
    if r and outside.size and vals[outside].max() > vals[list(s)].min() + tie:
        return result("strict_saddle")
    # rule 3: slack and reach
    witness = _slack_and_reach(table, left, right, resid, rtol)
    return result("non_strict_saddle" if witness is None else "strict_saddle", witness)


def _partial_products(ws: list[np.ndarray], m: Moments) -> tuple[list, list]:
    """left[k] = W_k ... W_1 (left[0] = I) and right[k] = W_H ... W_(k+1) (right[H] = I)."""
    left = [np.eye(m.dx)]
    for x in ws:
        left.append(x @ left[-1])
    right = [np.eye(m.dy)]
    for x in ws[::-1]:
        right.append(right[-1] @ x)
    right.reverse()
    return left, right


def _gradient_norm(ws, m: Moments, left, right, resid) -> tuple[float, float]:
    """(|grad|, g_scale): dl/dW_k = R_k^T G L_k^T, and the size bound of ``classify``."""
    fro = np.array([[math.sqrt(float(np.vdot(x, x)))] for x in ws])
    g_scale = float(gradient_scale(fro, m)[0][0])
    grad_sq = 0.0
    for k in range(1, len(ws) + 1):
        g = right[k].T @ resid @ left[k - 1].T
        grad_sq += float(np.vdot(g, g))
    return math.sqrt(grad_sq), g_scale


def _slack_and_reach(table, left, right, resid, rtol: float) -> tuple[int, int] | None:
    """The first layers k < l (1-based) with slack and reach (rule 3), or None.

    Slack: rank(W_(l-1)...W_(k+1)) > min(rank(W_H...W_(k+1)), rank(W_(l-1)...W_1));
    reach: |R_l^T G L_k^T| above ``rtol`` times the bound |R_l| |G| |L_k|.
    """
    depth = len(left) - 1
    g_norm = math.sqrt(float(np.vdot(resid, resid)))
    for k in range(1, depth + 1):
        gl = resid @ left[k - 1].T  # G L_k^T
        l_norm = math.sqrt(float(np.vdot(left[k - 1], left[k - 1])))
        for l in range(k + 1, depth + 1):
            if table[k, l - 1] <= min(table[k, depth], table[0, l - 1]):
                continue  # no slack
            reach = right[l].T @ gl  # R_l^T G L_k^T
            bound = rtol * g_norm * l_norm * math.sqrt(float(np.vdot(right[l], right[l])))
            if math.sqrt(float(np.vdot(reach, reach))) > bound:
                return (k, l)
    return None


def deep_critical_points(
    moments: Moments,
    widths: Widths,
    *,
    ranks: Ranks = "all",
    representatives: str | Iterable[str] = REPRESENTATIVES,
    weight_decay: float = 0.0,
    verify: bool = True,
    tol: float | None = None,
    threads: int | None = None,
    gauge: str = "identity",
    seed: Seed = None,
    index_sets: Iterable[IndexSet] | None = None,
) -> CriticalPointSet:
    """Tight and loose critical points of every index set, for depth H >= 3.

    For every index set S (0-based positions into Sigma's q positive eigenvalues) with
    |S| <= p = min(widths) (``ranks="all"``) or |S| = min(p, q) (``ranks="full"``),
    build the tight representative and, for |S| < p, the loose one (``deep_point``),
    predict loss and kind in closed form (loss 1/2 (tr Syy - sum_S lambda), kind from
    the rank rule ``predict_kind``) and, with ``verify``, classify each point by its
    full Hessian (in parallel across points). ``fastscape.critical_points`` calls this
    for more than two layers.

    Parameters
    ----------
    moments : Moments
    widths : sequence of int
        (dx, d_1, ..., d_(H-1), dy) with H >= 3.
    ranks : "all", "full" or int
        Which |S| to enumerate (an int selects one size).
    representatives : tuple of {"tight", "loose"}
    weight_decay : float
        Must be 0: deep critical points with weight decay have no closed form here (W = 0
        is one; check points of your own with ``fastscape.classify``).
    verify : bool
        Classify every point by its Hessian. Without it the measured columns are NaN /
        -1 and ``kind`` is the rank rule's prediction.
    tol : float, optional
        Relative tolerance, as in ``fastscape.classify``.
    threads : int, optional
        Threads for the Hessian checks (default: Numba's thread count).
    gauge : "identity" or "random"
        "random" moves every point along its symmetry orbit, W_k -> G_k W_k G_(k-1)^-1
        with seeded random invertible G_k (same product, ranks and kind).
    seed : int, optional
        Seed for ``gauge="random"``.
    index_sets : sequence of sequences, optional
        Only these index sets (overrides ``ranks``).

    Returns
    -------
    CriticalPointSet
        ``representative`` is "tight" or "loose"; ``predicted_morse_index`` is the observed law
        inv(S) + (q - k)(m - k), m = rank of the middle product W_(H-1)...W_2 (k when
        tight, the smallest hidden width when loose): the two-layer law with m for p,
        checked on every tight and loose point of H = 3, 4 with widths <= 4 but not
        proved here; ``predicted_nullity`` is -1 (no law for H >= 3);
        ``disagreements`` lists points whose loss, index or Hessian kind differs from the
        prediction (the rank rule's kind is in the message).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    >>> cps = fastscape.critical_points(m, [2, 2, 2, 2])
    >>> for i in range(len(cps)):
    ...     print(cps.index_sets[i], cps.representative[i], cps.loss[i], cps.kind[i])
    () tight 3.0 non_strict_saddle
    () loose 3.0 strict_saddle
    (0,) tight 1.0 non_strict_saddle
    (0,) loose 1.0 strict_saddle
    (1,) tight 2.5 strict_saddle
    (1,) loose 2.5 strict_saddle
    (0, 1) tight 0.5 global_min
    >>> cps.disagreements
    ()
    """
    m = as_moments(moments)
    w = as_widths(widths, min_len=4)
    if w[0] != m.dx or w[-1] != m.dy:
        raise ValueError(f"widths must start with dx = {m.dx} and end with dy = {m.dy}, got {w}")
    if as_weight_decay(weight_decay) != 0.0:
        raise ValueError(
            "deep_critical_points has no closed form with weight_decay > 0 (beyond W = 0, "
            "a strict local minimum for H >= 3); classify points of your own with "
            "fastscape.classify(weights, moments, weight_decay=mu)"
        )
    verify = as_flag(verify, "verify")
    reps = (representatives,) if isinstance(representatives, str) else tuple(representatives)
    if not reps or any(x not in REPRESENTATIVES for x in reps):
        raise ValueError(f"representatives must be a subset of {REPRESENTATIVES}, got {reps!r}")
    if gauge not in ("identity", "random"):
        raise ValueError(f"gauge must be 'identity' or 'random', got {gauge!r}")
    rng = np.random.default_rng(seed)
    vals, _, tie = positive_spectrum(m)
    warn_ties(vals, tie, "eigenvalues of Sigma")
    sets = select_index_sets(ranks, index_sets, vals.size, min(w))
    rows, points = _representatives(m, w, sets, reps, rng if gauge == "random" else None)
    if not points:
        raise ValueError(f"no index sets to enumerate for ranks={ranks!r}")
    preds = [predict_kind(ws, m, tol=tol) for ws in points]
    cps = CriticalPointSet.from_points(
        points,
        m,
        index_sets=[r[0] for r in rows],
        predicted_loss=[x.loss for x in preds],
        predicted_morse_index=_observed_index_law(vals, tie, w, rows),
        representative=[r[1] for r in rows],
        verify=verify,
        tol=tol,
        threads=threads,
    )
    return _with_rank_rule(cps, rows, preds, verify)


def _representatives(m, w, sets, reps, rng) -> tuple[list, list]:
    """([(S, representative)], [weights]) for every set and representative that exists.

    With a Generator ``rng`` each point is moved along its symmetry orbit (random gauge).
    """
    p = min(w)
    rows, points = [], []
    for s in sets:
        for rep in reps:
            if rep == "loose" and len(s) >= p:
                continue
            ws = deep_point(m, w, s, representative=rep)
            if rng is not None:
                ws = random_layer_gauge(ws, rng)
            rows.append((tuple(s), rep))
            points.append(ws)
    return rows, points


def _observed_index_law(vals, tie: float, w, rows) -> list[int]:
    """The observed index law of depth H >= 3 (not proved here; checked on every tight
    and loose point of H = 3, 4 with widths <= 4): inv(S) + (q - k)(m - k), the
    two-layer law with the middle product's rank m = rank(W_(H-1)...W_2) (k tight,
    the smallest hidden width loose) in place of p."""
    middle = min(w[1:-1])
    return [
        _th.morse_index_law(
            _th.inversions(vals, s, tie_tol=tie),
            vals.size - len(s),
            middle if rep == "loose" else len(s),
            len(s),
        )
        for s, rep in rows
    ]


def _with_rank_rule(cps: CriticalPointSet, rows, preds, verify: bool) -> CriticalPointSet:
    """Verified: the rank rule's disagreements with the Hessian join the others.
    Unverified: the kinds are the rank rule's (equal to the index-based ones)."""
    if not verify:
        return dataclasses.replace(cps, kind=np.array([x.kind for x in preds], dtype=object))
    dis = list(cps.disagreements)
    for i, x in enumerate(preds):
        if x.kind != cps.kind[i]:
            dis.append(
                f"S={rows[i][0]} ({rows[i][1]}): Hessian says {cps.kind[i]}, "
                f"rank rule says {x.kind}"
            )
    return dataclasses.replace(cps, disagreements=tuple(dis))
