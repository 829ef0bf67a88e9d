"""Loss histograms of the two-layer critical points without enumeration (docs/histogram.md).

The loss of index set S is ``offset + 1/2 * sum_{i not in S} lambda_i``. Rounding
each eigenvalue to an integer multiple u_i of a grid turns the histogram into a
subset-sum count: the number of n-subsets with each integer sum (n = |S| or the
size of its complement, whichever is smaller), one dynamic-programming table row per
size, restricted to the sums a row can reach (kernel ``subset_sums``).

Two separate statements of accuracy come with every result:

- ``error_bound``: every point's placed value is within it of the point's loss.
  It is half the largest |sum of n rounding residuals| (computed exactly, in
  rationals, from the residuals lambda_i - u_i grid) plus a floating-point slack.
- ``count_rel_error``: 0 when the counts are exact integers (int64 while the
  total fits, residues modulo primes recombined otherwise), else the relative
  error of float64 counts, (q + 2) 2^-53 / (1 - (q + 2) 2^-53).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from .._indexsets import resolve_ranks
from .._types import ArrayLike
from ._inputs import INT64_MAX, as_q_p, as_spectrum
from .crt import crt_combine, primes_for

__all__ = ["HistogramCounts", "HistogramTooLargeError", "loss_histogram"]

#: Largest DP table (cells of 8 bytes) and number of additions accepted.
MAX_CELLS = 50_000_000
MAX_WORK = 4e10
#: Exact counts beyond int64 (residues modulo primes) while primes x additions stay below
#: (counting at most 15 primes: 2e8 additions, the previous exact DP's limit, stay exact).
EXACT_WORK = 3e9
#: Float64 counts need the total below this (the largest float64 is about 2**1024).
FLOAT_TOTAL_MAX = 2**1023


class HistogramTooLargeError(ValueError):
    """The histogram DP would need too many cells or additions, or overflow float64.

    Examples
    --------
    >>> from fastscape.theory import HistogramTooLargeError, loss_histogram
    >>> try:
    ...     loss_histogram([1.0 + i / 1000 for i in range(1000)][::-1], 500, [0.0, 1e3], grid=1e-7)
    ... except HistogramTooLargeError as e:
    ...     print(str(e)[:30])
    the histogram DP is too large:
    """


class HistogramCounts(NamedTuple):
    """Loss histogram computed without enumeration.

    ``counts[i]`` counts points placed in [edges[i], edges[i+1]) (the last bin is
    closed); ``underflow``/``overflow`` count points placed below edges[0] / above
    edges[-1]. A point is placed by a value within ``error_bound`` of its loss, so
    the count of bin i lies between the number of points with loss in
    [edges[i] + error_bound, edges[i+1] - error_bound) and the number with loss in
    [edges[i] - error_bound, edges[i+1] + error_bound]. ``grid`` is the rounding
    unit of the eigenvalues.

    ``exact`` True: the counts are exact Python ints. False: they are float64
    values (Python floats) within a relative ``count_rel_error`` of those integers
    (used when the total exceeds 2**63 and exact residue counting would cost too
    much). The bracket above then widens by the factor 1 -/+ count_rel_error.

    Examples
    --------
    >>> from fastscape.theory import loss_histogram
    >>> h = loss_histogram([3.0, 2.0, 1.0], 2, [0.0, 1.0, 2.0])
    >>> h.counts, h.exact, h.error_bound < 1e-12
    ((1, 2), True, True)
    """

    edges: np.ndarray
    counts: tuple
    underflow: int
    overflow: int
    error_bound: float
    grid: float
    exact: bool = True
    count_rel_error: float = 0.0


class _Layout(NamedTuple):
    """Table rows for the kernel: item values v (u minus its minimum), prefix sums, rows."""

    v: np.ndarray
    prefix: np.ndarray
    row_lo: np.ndarray
    row_off: np.ndarray
    cells: int
    work: float
    width: int


def layout(u: np.ndarray, n: int, all_rows: bool) -> _Layout:
    """Rows 0..n: row j spans the sums a j-subset can have while row j is still needed.

    u is non-increasing. Row j is needed up to stage q (``all_rows``) or q - n + j
    (it must still reach size n); there its sums run from the j smallest items seen
    (prefix[s] - prefix[s - j]) to the j largest (prefix[j]).
    """
    q = u.size
    v = np.ascontiguousarray(u - u[-1], dtype=np.int64)
    prefix = np.concatenate([[0], np.cumsum(v)]).astype(np.int64)
    j = np.arange(n + 1)
    last = np.full(n + 1, q) if all_rows else q - n + j
    row_lo = prefix[last] - prefix[last - j]
    widths = prefix[j] - row_lo + 1
    row_off = np.concatenate([[0], np.cumsum(widths)]).astype(np.int64)
    # additions: at item i, rows j in [ja, jb] each add the width of row j - 1 at stage i
    i = np.arange(q)
    jb = np.minimum(i + 1, n)
    ja = np.ones(q, dtype=np.int64) if all_rows else np.maximum(1, n - (q - i - 1))
    cum_p = np.concatenate([[0], np.cumsum(prefix, dtype=np.float64)])  # sum of prefix[:m]
    ok = ja <= jb
    i, ja, jb = i[ok], ja[ok], jb[ok]
    cnt = (jb - ja + 1).astype(np.float64)
    s_top = cum_p[jb] - cum_p[ja - 1]  # sum of prefix[j - 1], j = ja..jb
    s_low = cum_p[i - ja + 2] - cum_p[i - jb + 1]  # sum of prefix[i - j + 1]
    work = float(np.sum(s_top - cnt * prefix[i] + s_low + cnt))
    return _Layout(
        v, prefix, row_lo.astype(np.int64), row_off, int(row_off[-1]), work, int(widths.max())
    )


def count_table(lay: _Layout, n: int, all_rows: bool, dtype, mod, nblock=None) -> np.ndarray:
    """The kernel's table (counts mod ``mod``, or float64 for ``mod`` = inf), in
    ``nblock`` parallel blocks of rows (default: 8 when the work is large, else 1)."""
    from ..kernels.subset_sums import subset_sum_rows

    if nblock is None:
        nblock = 8 if lay.work > 2e4 * lay.v.size else 1
    table = np.empty(lay.cells, dtype=dtype)
    scratch = np.empty((nblock, lay.width), dtype=dtype)
    cuts = np.empty(nblock + 1, dtype=np.int64)
    subset_sum_rows(
        lay.v, lay.prefix, lay.row_lo, lay.row_off, n, all_rows, dtype(mod), table, scratch, cuts
    )
    return table


def residual_bound(lam: np.ndarray, u: np.ndarray, grid: float, sizes) -> float:
    """max over |T| in sizes of 1/2 |sum_T (lambda_i - u_i grid)|, exactly, rounded up."""
    g = Fraction(grid)
    r = sorted(Fraction(x) - int(k) * g for x, k in zip(lam.tolist(), u.tolist(), strict=True))
    top = list(itertools.accumulate(r[::-1], initial=Fraction(0)))  # the j largest residuals
    low = list(itertools.accumulate(r, initial=Fraction(0)))  # the j smallest
    worst = max(max(abs(top[j]), abs(low[j])) for j in sizes) / 2
    out = float(worst)
    return out if Fraction(out) >= worst else math.nextafter(out, math.inf)


def _cost(lam, n, all_rows, grid):
    if not np.isfinite(grid) or grid <= 0:
        raise ValueError(f"grid must be finite and > 0, got {grid}")
    if lam[0] / grid > 2.0**40 or math.fsum(lam) / grid > 2.0**50:  # sums stay exact
        return None, None
    u = np.rint(lam / grid).astype(np.int64)
    return u, layout(u, n, all_rows)


def _too_large(lay, grid, n, why=""):
    size = "sums beyond 2**50 grid units" if lay is None else f"{lay.cells:,} cells"
    work = "" if lay is None else f", about {lay.work:.2g} additions"
    return HistogramTooLargeError(
        f"the histogram DP is too large: {size}{work} (grid = {grid:.3g}, n = {n} "
        f"summed eigenvalues){why}; pass a coarser grid= (error_bound is at most "
        "n * grid / 4) or wider bins, or skip the histogram (count_landscape(..., bins=None))"
    )


def _as_float(x, name: str) -> float:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__} {x!r}")
    return float(x)


def _fits(lay) -> bool:
    return lay is not None and lay.cells <= MAX_CELLS and lay.work <= MAX_WORK


def loss_histogram(
    spectrum: ArrayLike,
    p: int,
    edges: ArrayLike,
    *,
    ranks: str = "full",
    offset: float = 0.0,
    grid: float | None = None,
    exact: bool | None = None,
    all_ranks: bool | None = None,
) -> HistogramCounts:
    """Histogram of critical values by dynamic programming over the eigenvalues.

    Each eigenvalue is rounded to a multiple u_i * grid and the DP counts subsets by
    the integer sum of the u_i: n terms (the set S, or its complement when that is
    smaller), each row restricted to the sums it can reach. A point's placed value
    differs from its loss by at most half the largest |sum of n rounding residuals
    lambda_i - u_i grid| (at most n * grid / 4), plus a float slack (q + 4) * 2^-52 *
    (sum lambda + |offset|) covering rounding in both computations: that total is
    ``error_bound``. The default grid makes n * grid / 4 one eighth of the narrowest
    bin, coarsened (up to four times) when the table would exceed 5e7 cells or 4e10
    additions (docs/histogram.md).

    Parameters
    ----------
    spectrum : array_like
        The eigenvalues of Sigma: positive, distinct, in descending order.
    p : int
        Hidden width.
    edges : array_like
        Increasing bin edges (at least two).
    ranks : {"full", "all"}, optional
        |S| = p, or every |S| = k <= p (``all_ranks=`` is the deprecated spelling).
    offset : float, optional
        Added to every loss (0: the excess over the full-rank least-squares loss).
    grid : float, optional
        Rounding unit of the eigenvalues (default: from the narrowest bin, see above).
    exact : bool, optional
        Counts as exact integers (True), as float64 (False), or (None, default) exact
        unless the total exceeds 2**63 and exact counting (modulo several primes) would
        cost over 3e9 additions.

    Returns
    -------
    HistogramCounts
        The counts per bin, under- and overflow, the ``error_bound``, and whether the
        counts are exact (else their relative error ``count_rel_error``).

    Raises
    ------
    HistogramTooLargeError
        When the DP would need too many cells or additions (pass a coarser ``grid``),
        or float64 counts would overflow (a total of 2**1023 or more).

    Examples
    --------
    >>> import numpy as np
    >>> from fastscape.theory import loss_histogram
    >>> h = loss_histogram([4.0, 2.0, 1.0], 1, np.array([0.0, 1.0, 2.0, 3.0]))
    >>> h.counts, h.underflow, h.overflow
    ((0, 1, 2), 0, 0)
    >>> lam = np.linspace(1.5, 0.5, 400)  # losses from about 75 to 125
    >>> big = loss_histogram(lam, 200, np.linspace(75.0, 125.0, 14), exact=False)
    >>> big.exact, big.count_rel_error < 1e-12, big.error_bound < 0.01 * 50
    (False, True, True)
    """
    ranks = resolve_ranks(ranks, all_ranks)
    all_rows = ranks == "all"
    lam = as_spectrum(spectrum)
    q, p = as_q_p(lam.size, p, ranks)
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be a 1-D increasing array of at least 2 bin edges")
    if not np.all(np.isfinite(edges)):
        raise ValueError("edges must be finite")
    offset = _as_float(offset, "offset")
    if not math.isfinite(offset):
        raise ValueError(f"offset must be finite, got {offset}")
    if exact not in (None, True, False):
        raise TypeError(f"exact must be None, True or False, got {exact!r}")
    kmax = min(p, q)
    use_complement = not all_rows and q - p < p
    n = q - p if use_complement else kmax
    min_width = float(np.min(np.diff(edges)))
    if grid is None:
        grid = min_width / (2 * max(n, 1))
        u, lay = _cost(lam, n, all_rows, grid)
        for _ in range(8):  # coarsen by up to 4x (1.19**8) to fit the limits
            if _fits(lay):
                break
            grid *= 2**0.25
            u, lay = _cost(lam, n, all_rows, grid)
        if not _fits(lay):
            raise _too_large(lay, grid, n, " at 4x the default grid")
    else:
        grid = _as_float(grid, "grid")
        u, lay = _cost(lam, n, all_rows, grid)
        if not _fits(lay):
            raise _too_large(lay, grid, n)
    total = sum(math.comb(q, k) for k in range(kmax + 1)) if all_rows else math.comb(q, n)
    rows = list(range(kmax + 1)) if all_rows else [n]
    primes = () if total < INT64_MAX and exact is not False else primes_for(total)
    if not primes:
        how = "int64"
    elif exact or (exact is None and min(len(primes), 15) * lay.work <= EXACT_WORK):
        how = "residues"
        if len(primes) * lay.work > 10 * MAX_WORK:
            raise _too_large(lay, grid, n, f" for exact counts ({len(primes)} primes)")
    else:
        how = "float64"
        if total >= FLOAT_TOTAL_MAX:
            raise HistogramTooLargeError(
                f"the counts (total about 1e{len(str(total)) - 1}) overflow float64: pass "
                "exact=True with a coarser grid= for exact integer counts, or skip the "
                "histogram (count_landscape(..., bins=None))"
            )
    tot = math.fsum(lam)
    segs = []  # per row: (first cell, end, start of each run of equal bins, bin of the run)
    for j in rows:
        lo, hi = int(lay.row_lo[j]), int(lay.row_lo[j] + lay.row_off[j + 1] - lay.row_off[j])
        shift = j * int(u[-1])  # the DP counted sums of v = u - min(u)
        units = np.arange(lo + shift, hi + shift, dtype=np.float64) * grid
        placed = offset + 0.5 * units if use_complement else offset + 0.5 * (tot - units)
        b = np.searchsorted(edges, placed, side="right")  # 0 under, 1..nb, nb + 1 over
        b[placed == edges[-1]] = edges.size - 1
        # placed is monotone in the sum, so each bin is one run of cells
        starts = np.concatenate([[0], np.flatnonzero(b[1:] != b[:-1]) + 1])
        segs.append((int(lay.row_off[j]), int(lay.row_off[j + 1]), starts, b[starts]))
    nout = edges.size + 1
    if how in ("int64", "residues"):
        mods = [INT64_MAX] if how == "int64" else list(primes)
        res = np.zeros((len(mods), nout), dtype=np.int64)
        for ip, pr in enumerate(mods):
            table = count_table(lay, n, all_rows, np.int64, pr)
            for off, end, starts, keys in segs:  # sums < 2**63: int64 total, or residues
                np.add.at(res[ip], keys, np.add.reduceat(table[off:end], starts))
            if how == "residues":
                res[ip] %= pr
        counts: list = [int(c) for c in res[0]] if how == "int64" else crt_combine(res, primes)
    else:
        table = count_table(lay, n, all_rows, np.float64, np.inf)
        parts: list[list[float]] = [[] for _ in range(nout)]
        for off, end, starts, keys in segs:
            cuts = [*starts.tolist(), end - off]
            for k, key in enumerate(keys.tolist()):
                parts[key].append(math.fsum(table[off + cuts[k] : off + cuts[k + 1]].tolist()))
        counts = [math.fsum(x) for x in parts]
    slack = (q + 4) * 2.0**-52 * (tot + abs(offset))
    rel = 0.0
    if how == "float64":
        e = (q + 2) * 2.0**-53
        rel = math.nextafter(e / (1 - e), math.inf)
    return HistogramCounts(
        edges=edges,
        counts=tuple(counts[1:-1]),
        underflow=counts[0],
        overflow=counts[-1],
        error_bound=residual_bound(lam, u, grid, rows) + slack,
        grid=grid,
        exact=how != "float64",
        count_rel_error=rel,
    )
