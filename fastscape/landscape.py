"""Whole-landscape work: streaming enumeration of every two-layer critical point.

:func:`enumerate_landscape` walks every index set S (docs/theory.md) in chunks of the
colex rank space, in parallel, and keeps only aggregates (memory flat in C(q, p)):
exact counts by Morse index, a loss histogram, the n lowest and highest losses with
their index sets, and the count below a threshold. Results are bitwise identical
for any thread count, chunk size, scheduler or crash-and-resume history.
:func:`count_landscape` gives the same summary in closed form (fastscape.theory).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._indexsets import resolve_ranks
from ._types import ArrayLike, PathLike
from ._validate import as_int
from .engine import Merger, Plan, chunk_plan, compute_chunks, total_points
from .moments import Moments
from .runstore import RunStore, sha256_bytes
from .summary import LOSS_KIND_ABSOLUTE, LOSS_KIND_EXCESS, LandscapeSummary
from .theory import counting
from .warmup import register_warmup

__all__ = ["count_landscape", "enumerate_landscape", "spectrum_of", "random_spectrum"]

_INT64_MAX = 2**63 - 1
#: The README's rate, used only to say how long an impossible run would take.
_RATE = 1e10  # docs/benchmarks.md: 1.7e10 sets/s on C(36, 18), 2 cores


def random_spectrum(q: int, seed: int) -> np.ndarray:
    """The documented random spectrum of ``fastscape enumerate --random Q --seed S``.

    ``np.sort(np.random.default_rng(seed).uniform(0.5, 1.5, q))[::-1]``: q distinct
    eigenvalues in (0.5, 1.5), descending, reproducible on every platform.

    Examples
    --------
    >>> import fastscape
    >>> fastscape.random_spectrum(3, 0).round(3)
    array([1.137, 0.77 , 0.541])
    """
    q = as_int(q, "q", 1)
    rng = np.random.default_rng(int(seed))
    return np.ascontiguousarray(np.sort(rng.uniform(0.5, 1.5, q))[::-1])


def spectrum_of(source: ArrayLike | Moments) -> tuple[np.ndarray, float, str]:
    """(lambda descending, loss offset, loss kind) of a spectrum or of Moments.

    A 1-D spectrum gives excess losses (offset 0). ``Moments`` give absolute losses:
    lambda = the rank(Sigma) = q positive eigenvalues, offset 1/2 (tr Syy - sum lambda).

    Examples
    --------
    >>> import numpy as np, fastscape
    >>> m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 5)
    >>> lam, offset, loss_kind = fastscape.spectrum_of(m)
    >>> lam, offset, loss_kind[:8]
    (array([4., 1.]), 2.5, 'absolute')
    """
    if isinstance(source, Moments):
        q = source.rank()
        if q == 0:
            raise ValueError("Sigma is zero (rank 0): there is only the zero critical point")
        lam = np.array(source.spectrum().values[:q], dtype=np.float64)
        lam = counting.as_spectrum(lam)
        offset = 0.5 * (source.trace_syy - math.fsum(lam.tolist()))
        return lam, float(offset), LOSS_KIND_ABSOLUTE
    return counting.as_spectrum(source), 0.0, LOSS_KIND_EXCESS


def _edges(lam, p, all_ranks, offset, bins) -> tuple[np.ndarray, bool]:
    q = lam.size
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        if bins < 1:
            raise ValueError(
                f"bins must be >= 1 (a number of bins) or an array of edges, got {bins}"
            )
        lo = counting.critical_value(lam, range(min(p, q)), offset=offset)
        top = () if all_ranks else range(q - p, q)
        hi = counting.critical_value(lam, top, offset=offset)
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, int(bins) + 1)
        edges[0], edges[-1] = lo, hi
    else:
        edges = np.array(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or not np.all(np.isfinite(edges)):
            raise ValueError("bins must be an int or a 1-D array of >= 2 finite edges")
        if np.any(np.diff(edges) <= 0):
            raise ValueError("bin edges must be strictly increasing: sort them with np.sort")
    w = np.diff(edges)
    scale = max(abs(edges[0]), abs(edges[-1]))
    uniform = bool(np.allclose(w, w[0], rtol=1e-9, atol=0) and w[0] > 1e-9 * scale)
    return np.ascontiguousarray(edges), uniform


def enumerate_landscape(
    source: ArrayLike | Moments,
    p: int,
    *,
    ranks: str = "full",
    bins: int | ArrayLike = 64,
    n_lowest: int = 10,
    n_highest: int = 10,
    threshold: float | None = None,
    chunk_size: int | None = None,
    threads: int | None = None,
    out: PathLike | None = None,
    resume: bool = False,
    client: Any = None,
    progress: Callable[[int, int], None] | None = None,
    all_ranks: bool | None = None,
) -> LandscapeSummary:
    """Enumerate every critical point of a two-layer network and aggregate.

    Parameters
    ----------
    source : array_like (q,) or Moments
        Descending distinct positive eigenvalues of Sigma (losses are then the excess
        over full-rank least squares, 1/2 sum_{i not in S} lambda_i), or Moments
        (absolute losses 1/2 (tr Syy - sum_{i in S} lambda_i)).
    p : int
        Hidden width.
    ranks : {"full", "all"}
        |S| = p, or every |S| = k <= p. (``all_ranks=True/False`` is the deprecated
        spelling of ``ranks="all"/"full"``.)
    bins : int or array_like
        Number of uniform bins over [lowest, highest] loss, or the bin edges.
    n_lowest, n_highest : int
        How many lowest / highest critical values to keep (exact, with index sets).
    threshold : float, optional
        Count the points with loss strictly below it.
    chunk_size : int, optional
        Index sets per chunk (default: total / 64 clamped to [2**16, 2**23]). Results
        do not depend on it; a resume must use the same value.
    threads : int, optional
        Numba threads (default all). Results do not depend on it.
    out : path, optional
        Run directory: chunk files, manifest, lock and ``summary.json`` (crash-safe).
    resume : bool
        Continue the run in ``out``, reusing its verified chunk files.
    client : distributed.Client, optional
        Run the chunks on a Dask cluster (needs the ``fastscape-dln[dask]`` extra).
    progress : callable, optional
        Called as ``progress(done_sets, total_sets)`` after each batch.

    Returns
    -------
    LandscapeSummary

    Examples
    --------
    >>> import fastscape
    >>> s = fastscape.enumerate_landscape([4.0, 3.0, 2.0, 1.0], 2, n_lowest=2)
    >>> s.total, s.index_counts
    (6, (1, 1, 2, 1, 1))
    >>> [(v.loss, v.index_set) for v in s.lowest]
    [(1.5, (0, 1)), (2.0, (0, 2))]
    """
    ranks = resolve_ranks(ranks, all_ranks)
    lam, offset, loss_kind = spectrum_of(source)
    q = lam.size
    p = as_int(p, "p", 1)
    total = _enumerable_total(q, p, ranks)
    if chunk_size is None:
        chunk_size = max(2**16, min(2**23, -(-total // 64)))
    chunk_size = as_int(chunk_size, "chunk_size", 1)
    if resume and out is None:
        raise ValueError("resume=True needs out= (the run directory to resume)")
    if threads is not None:
        threads = as_int(threads, "threads", 1)
        _check_thread_limit(threads, client)
    thr = None if threshold is None else float(threshold)
    if thr is not None and math.isnan(thr):
        raise ValueError("threshold must be a number, got NaN")
    edges, uniform = _edges(lam, p, ranks == "all", offset, bins)
    plan = Plan.build(
        lam,
        q,
        p,
        ranks,
        offset,
        edges,
        uniform,
        -np.inf if thr is None else thr,
        as_int(n_lowest, "n_lowest", 0),
        as_int(n_highest, "n_highest", 0),
    )
    chunks = chunk_plan(q, plan.ks, chunk_size)
    run = _Run(plan, chunks, _manifest(plan, chunk_size, len(chunks), thr), loss_kind,
               client, threads, progress, time.perf_counter())  # fmt: skip
    if out is None:
        return _run_plan(run, None)
    with RunStore(out, run.manifest, resume=resume) as store:
        return _run_plan(run, store)


def _enumerable_total(q: int, p: int, ranks: str) -> int:
    """The number of index sets; ValueError / OverflowError when there is none or too many."""
    if p > q and ranks != "all":
        raise ValueError(
            f"p = {p} > q = {q}: there are no full-rank critical points (C(q, p) = 0); "
            "choose p <= q (q is the number of positive eigenvalues) or use ranks='all'"
        )
    total = total_points(q, p, ranks)
    if total > _INT64_MAX:
        years = total / _RATE / 3.15e7
        raise OverflowError(
            f"{total} critical points (>= 2**63): too many to enumerate (about {years:.2g} "
            f"years at {_RATE:.0e} per second) and beyond int64 ranks; use "
            "fastscape.count_landscape (closed form, exact counts) instead"
        )
    return total


def _manifest(plan: Plan, chunk_size: int, n_chunks: int, threshold: float | None) -> dict:
    """What a run directory computes: a resume must ask for exactly the same."""
    return {
        "spectrum_sha256": sha256_bytes(plan.lam.tobytes()),
        "q": plan.q, "p": plan.p, "mode": "all-ranks" if plan.all_ranks else "full-rank",
        "loss_offset": plan.offset, "chunk_size": chunk_size, "n_chunks": n_chunks,
        "hist_edges_sha256": sha256_bytes(plan.edges.tobytes()), "threshold": threshold,
        "n_lowest": plan.n_lowest, "n_highest": plan.n_highest,
    }  # fmt: skip


@dataclass(frozen=True, eq=False)
class _Run:
    """One enumeration: the plan and its chunks, and how to run and report it."""

    plan: Plan
    chunks: list
    manifest: dict
    loss_kind: str
    client: Any
    threads: int | None
    progress: Callable[[int, int], None] | None
    t0: float


def _run_plan(run: _Run, store: RunStore | None) -> LandscapeSummary:
    """Merge the chunks a run directory holds, compute the others, write the summary."""
    plan, chunks, progress = run.plan, run.chunks, run.progress
    merger = Merger(plan, chunks)
    reused = 0
    if store is not None:
        for cid in store.done_chunks():
            if cid < len(chunks):
                merger.add(cid, store.read_chunk(cid))
                reused += 1
    pending = [c for c in range(len(chunks)) if c not in merger.done]
    counted0 = merger.counted
    cpu0 = time.process_time()
    total = total_points(plan.q, plan.p, plan.ranks)

    writer = ThreadPoolExecutor(max_workers=1) if store is not None else None
    writes: list = []

    def finish(cid, arrays):
        # file I/O overlaps the next kernel call (the kernel drops the GIL)
        if writer is not None and store is not None:
            writes.append(writer.submit(store.write_chunk, cid, arrays))
            while writes and writes[0].done():
                writes.pop(0).result()
        merger.add(cid, arrays)

    def batch_done():
        if writer is not None and store is not None:
            writes.append(writer.submit(store.sync))
        if progress is not None:
            progress(merger.counted, total)

    def timing():
        dt = time.perf_counter() - run.t0
        new = merger.counted - counted0
        cpu = time.process_time() - cpu0  # this process: local threads, not Dask workers
        return {"seconds": round(dt, 6), "sets_this_run": new,
                "sets_per_second": round(new / dt, 1) if dt > 0 else None,
                "cpu_seconds": round(cpu, 6) if run.client is None else None,
                "threads": run.threads, "chunks_reused": reused,
                "scheduler": "dask" if run.client is not None else "numba"}  # fmt: skip

    if progress is not None:
        progress(merger.counted, total)
    try:
        if run.client is not None:
            from . import distributed

            distributed.run_chunks(
                run.client, plan, chunks, pending, finish, batch_done, run.threads
            )
        else:
            _run_local(plan, chunks, pending, finish, batch_done, run.threads)
        for w in writes:
            w.result()
    except BaseException:
        if writer is not None and store is not None:
            writer.shutdown(wait=True)
            _save_partial_summary(run, store, merger.done, timing())
        raise
    finally:
        if writer is not None:
            writer.shutdown(wait=True)
    summary = merger.summary(run.loss_kind, run.manifest, timing())
    if store is not None:
        store.write_summary(summary.to_json())
    return summary


def _save_partial_summary(run: _Run, store: RunStore, done: set, timing: dict) -> None:
    """After a failure: the summary of the chunks whose files exist (if there are any)."""
    on_disk = set(store.done_chunks())
    partial = Merger(run.plan, run.chunks)
    for cid in sorted(done & on_disk):
        partial.add(cid, store.read_chunk(cid))
    if partial.done:
        store.write_summary(partial.summary(run.loss_kind, run.manifest, timing).to_json())


def _check_thread_limit(threads, client):
    """Local runs cannot use more threads than Numba was started with."""
    import numba

    limit = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    if client is None and threads > limit:
        raise ValueError(
            f"threads = {threads} exceeds Numba's maximum {limit} "
            "(set NUMBA_NUM_THREADS to allow more)"
        )


def _run_local(plan, chunks, pending, finish, batch_done, threads):
    import numba

    previous = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    try:
        nth = numba.get_num_threads()
        i = 0
        while i < len(pending):
            # a batch: about 0.05-0.5 s of work at full speed, at least one chunk per thread;
            # compute_chunks cuts it into equal pieces, the same share of each per thread
            size = chunks[pending[i]][2] - chunks[pending[i]][1]
            per = max(nth, min(64 * nth, int(1e9 // max(size, 1))))
            batch = pending[i : i + per]
            results = compute_chunks(plan, [chunks[c] for c in batch])
            for cid, arrays in zip(batch, results, strict=True):
                finish(cid, arrays)
            i += len(batch)
            batch_done()
    finally:
        numba.set_num_threads(previous)


def count_landscape(
    source: ArrayLike | Moments,
    p: int,
    *,
    ranks: str = "full",
    bins: int | ArrayLike | None = 64,
    n_lowest: int = 10,
    grid: float | None = None,
    all_ranks: bool | None = None,
) -> LandscapeSummary:
    """The same summary in closed form, without enumeration (any q).

    Index counts are exact (Gaussian binomials), the lowest values exact (best-first
    search, same floats as the engine), the histogram exact up to
    ``hist_error_bound`` (dynamic programming over rounded eigenvalues, see
    :func:`fastscape.theory.loss_histogram` and docs/histogram.md: q = 1000, p = 500 in
    seconds; counts beyond 2**63 may be float64 there; ``bins=None`` skips it).
    ``highest`` and ``count_below`` are not computed.

    Examples
    --------
    >>> import fastscape
    >>> s = fastscape.count_landscape(fastscape.random_spectrum(67, 0), 33, n_lowest=1)
    >>> s.total > 2**63, s.total == sum(s.index_counts), s.lowest[0].morse_index
    (True, True, 0)
    """
    t0 = time.perf_counter()
    ranks = resolve_ranks(ranks, all_ranks)
    all_ranks = ranks == "all"
    lam, offset, loss_kind = spectrum_of(source)
    q = lam.size
    p = as_int(p, "p", 1)
    counting.as_q_p(q, p, ranks)
    n_lowest = as_int(n_lowest, "n_lowest", 0)
    counts = counting.index_counts(q, p, ranks=ranks)
    if bins is None:  # no histogram
        h = counting.HistogramCounts(np.zeros(0), (), 0, 0, 0.0, 0.0)
    else:
        edges, _ = _edges(lam, p, all_ranks, offset, bins)
        h = counting.loss_histogram(lam, p, edges, ranks=ranks, offset=offset, grid=grid)
    low = counting.lowest_critical_values(lam, p, n_lowest, ranks=ranks, offset=offset)
    total = total_points(q, p, ranks)
    return LandscapeSummary(
        q=q, p=p, ranks=ranks, method="closed form",
        loss_kind=loss_kind, loss_offset=offset, total=total, counted=total, complete=True,
        index_counts=tuple(counts), hist_edges=h.edges, hist_counts=h.counts,
        hist_underflow=h.underflow, hist_overflow=h.overflow, hist_error_bound=h.error_bound,
        lowest=tuple(low), highest=(), threshold=None, count_below=None, spectrum=lam,
        chunking={}, timing={"seconds": round(time.perf_counter() - t0, 6)},
    )  # fmt: skip


def warmup_enumeration() -> None:
    """Compile the enumeration and counting kernels (registered with fastscape.warmup)."""
    enumerate_landscape([3.0, 2.0, 1.0], 2, ranks="all", threshold=1.0)
    counting.gaussian_binomial(70, 35)


register_warmup(warmup_enumeration)
