"""The dense route of ``classify`` for one point, with running progress.

The batch kernel ``kernels.inertia.inertia_range`` fills the Hessian, splits it into
blocks, reduces each block to tridiagonal form with one LAPACK ``dsytrd`` call and
counts eigenvalues by Sturm sequences, all inside one compiled call: at N = 2·10^4
that is minutes with nothing to report. This module runs the same steps from Python
for a single point, with the reduction done panel by panel
(``kernels.tridiagonal_steps``: exactly dsytrd's operations, so the tridiagonal form
and therefore the classification are bit for bit the same), and reports after every
panel how much of the work is done. The work is counted in floating-point
operations of the reduction, 4/3 m^3 for a block of m rows (panel i of it:
4/3 ((m - i)^3 - (m - i - 32)^3)), which is where the time goes; the Hessian fill
before it is reported as one phase.

``fastscape.inertia`` calls :func:`dense_point` through the ``classify_methods``
registry (this module sits above it) when ``classify`` asks for progress.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ._blas import single_threaded_blas
from ._text import duration
from .classify_methods import register
from .kernels import derivatives as _kd
from .kernels import inertia as _ki
from .kernels import lapack as _kl
from .kernels import tridiagonal_steps as _kt

__all__ = ["DenseProgress", "dense_point"]


class DenseProgress:
    """Progress of one dense classification on a stream (stderr by default).

    On a terminal a tqdm bar over the reduction's operations; otherwise a plain line
    every :attr:`EVERY` seconds (percent of the operations done, elapsed, estimated time
    left from the rate so far). ``callback``, when given, replaces the display: it is
    called as ``callback(done, total)`` with the reduction's operations (in units of
    10^6 floating-point operations) after every panel.
    """

    EVERY = 5.0

    def __init__(self, n: int, *, stream=None, callback=None):
        self.n = n
        self.stream = sys.stderr if stream is None else stream
        self.callback = callback
        self.bar: Any = None
        self.t0 = time.perf_counter()
        self.t_reduce: float | None = None
        self.last = self.t0

    def note(self, text: str) -> None:
        """A phase line (not shown when a callback takes the reports)."""
        if self.callback is None:
            print(f"fastscape: classify, N = {self.n:,}: {text}", file=self.stream, flush=True)

    def __call__(self, done: float, total: float) -> None:
        now = time.perf_counter()
        if self.t_reduce is None:
            self.t_reduce = now
        t_reduce = self.t_reduce
        if self.callback is not None:
            self.callback(int(done / 1e6), int(total / 1e6))
            return
        if self.stream.isatty():
            if self.bar is None:
                from tqdm import tqdm

                cols = shutil.get_terminal_size((100, 20)).columns or 100
                self.bar = tqdm(total=100.0, unit="%", file=self.stream, ncols=cols,
                                desc="reduction", bar_format="{l_bar}{bar}| {n:.1f}% "
                                "[{elapsed}<{remaining}]")  # fmt: skip
            self.bar.n = 100.0 * done / total
            self.bar.refresh()
        elif now - self.last >= self.EVERY and done < total:
            self.last = now
            spent = now - t_reduce
            rate = done / spent if spent > 0 else 0.0
            left = (total - done) / rate if rate > 0 else float("inf")
            self.note(f"tridiagonal reduction {100 * done / total:.1f}% of "
                      f"{total / 1e9:,.0f} Gflop done, {duration(now - self.t0)} so far, "
                      f"about {duration(left)} left")  # fmt: skip

    def close(self) -> None:
        """Close the bar (if any)."""
        if self.bar is not None:
            self.bar.n = self.bar.total
            self.bar.refresh()
            self.bar.close()
            self.bar = None


def _reduce_flops(m: int) -> float:
    return 4.0 / 3.0 * float(m) ** 3


def _reduce(a, m, d, e, tau, report, base, total):
    """Tridiagonalise the leading m x m block of ``a`` panel by panel, reporting."""
    w, scal, iwork = _kt.panel_workspace(m)
    starts = _kt.panel_starts(m)
    for i in starts:
        _kt.tridiagonal_panel(a, m, i, d, e, tau, w, scal, iwork)
        rest = m - i - _kt.PANEL
        report(base + _reduce_flops(m) - _reduce_flops(rest), total)
    tail = starts[-1] + _kt.PANEL if len(starts) else 0
    return _kt.tridiagonal_tail(a, m, tail, d, e, tau, iwork)


def _reduce_block(a, m, d, e, scratch, report, base, total):
    """One block: small ones by ``kernels.lapack.tridiagonalize`` (as the batch kernel),
    big ones panel by panel (dsytrd's own steps); returns LAPACK's info."""
    tau, work, iwork = scratch
    if m <= 4 * _kt.PANEL:
        code = _kl.tridiagonalize(a, m, d, e, tau, work, iwork)
    else:
        code = _reduce(a, m, d, e, tau, report, base, total)
    report(base + _reduce_flops(m), total)
    return code


def _blocks_to_tridiagonal(h, ncomp, d, e, order, starts, report):
    """``kernels.inertia.blocks_to_tridiagonal`` with the big blocks reduced in panels."""
    n = h.shape[0]
    sizes = np.diff(starts[: ncomp + 1]) if ncomp > 1 else np.array([n])
    big = int(sizes.max())
    sub = h if ncomp == 1 else np.empty((big, big))
    iwork = np.empty(5, dtype=np.int32)
    scratch = (np.empty(big), np.empty(_kl.tridiagonal_workspace(sub, iwork)), iwork)
    total = float(sum(_reduce_flops(s) for s in sizes))
    if ncomp == 1:
        info = _reduce_block(h, n, d, e, scratch, report, 0.0, total)
        e[n - 1] = 0.0
        return info
    pos, info, done = 0, 0, 0.0
    for comp in range(ncomp):
        lo, m = starts[comp], int(sizes[comp])
        rows = order[lo : lo + m]
        if m == 1:
            d[pos] = h[rows[0], rows[0]]
        else:
            sub[:m, :m] = h[np.ix_(rows, rows)]
            code = _reduce_block(sub, m, d[pos:], e[pos:], scratch, report, done, total)
            info = info or code  # keep the first failure, as the batch kernel
        e[pos + m - 1] = 0.0
        pos += m
        done += _reduce_flops(m)
    return info


def _symmetric_inertia(h, blocks, decouple, rtol, floor, report):
    """``kernels.inertia.symmetric_inertia`` (same steps and kernels), reporting progress."""
    n = h.shape[0]
    size = _ki.frobenius(h)
    if not np.isfinite(size):
        return np.nan, np.nan, -1, -1
    labels, order = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    starts, stack = np.empty(n + 1, dtype=np.int64), np.empty(n, dtype=np.int64)
    d, e, e2 = np.empty(n), np.empty(n), np.empty(n)
    lanes = _ki.LANES
    shifts, counts, q = np.empty(lanes), np.empty(lanes, dtype=np.int64), np.empty(lanes)
    drop = decouple * rtol * size / n if blocks and decouple > 0.0 else 0.0
    while True:
        ncomp = _ki.components(h, drop, labels, order, starts, stack) if blocks else 1
        margin = _ki.coupling_norm(h, labels) if drop > 0.0 and ncomp > 1 else 0.0
        info = _blocks_to_tridiagonal(h, ncomp, d, e, order, starts, report)
        if info != 0:
            d[0] = np.nan
        lmin, lmax, neg, pos, ok = _ki.tridiagonal_inertia(
            d, e, rtol, floor, margin, e2, shifts, counts, q
        )
        if ok:
            return lmin, lmax, neg, pos
        drop = 0.0


def dense_point(thetas: np.ndarray, job: tuple, progress: Callable | bool | None) -> None:
    """One row of ``kernels.inertia.inertia_range`` (same ``job`` tuple), showing progress.

    ``progress`` is True (show it on stderr) or a callable ``progress(done, total)``
    receiving the reduction's work in 10^6 operations.
    """
    widths, sxx, syx, tr_syy, residual, mu, blocks, decouple, rtol, floors = job[:10]
    losses, grad_norms, extremes, inertia = job[10:]
    th = thetas[0]
    n = th.size
    report = DenseProgress(n, callback=None if progress is True else progress)
    g = np.empty(n)
    with single_threaded_blas():
        losses[0] = _kd.loss_gradient(th, widths, sxx, syx, tr_syy, residual, mu, g)
        grad_norms[0] = np.sqrt(g @ g)
        report.note(f"filling the dense Hessian ({8.0 * n * n / 2**30:.2f} GiB)")
        h = np.empty((n, n))
        _kd.hessian_serial(th, widths, sxx, syx, residual, mu, h)
        report.note(f"Hessian filled in {duration(time.perf_counter() - report.t0)}; "
                    "reducing it to tridiagonal form")  # fmt: skip
        try:
            out = _symmetric_inertia(h, blocks, decouple, rtol, floors[0], report)
        finally:
            report.close()
    extremes[0, 0], extremes[0, 1] = out[0], out[1]
    inertia[0, 0], inertia[0, 1] = out[2], out[3]
    report.note(f"inertia counted, {duration(time.perf_counter() - report.t0)} in all")


register("dense-progress", dense_point)
