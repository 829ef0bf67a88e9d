"""The enumeration engine's Python side: chunk plan, kernel calls, exact merge.

Used by :mod:`fastscape.landscape` (local Numba threads) and by
:mod:`fastscape.distributed` (Dask workers call :func:`compute_chunks`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np

from ._indexsets import resolve_ranks
from .kernels import enumerate as ke
from .summary import LandscapeSummary
from .theory import counting
from .theory.counting import CriticalValue
from .theory.laws import morse_index_distinct


@dataclass(frozen=True, eq=False)
class Plan:
    """Everything a worker needs besides chunk ids (small; sent once)."""

    lam: np.ndarray
    q: int
    p: int
    all_ranks: bool
    offset: float
    edges: np.ndarray
    uniform: bool
    threshold: float
    n_lowest: int
    n_highest: int
    h: int = 0
    tsum: np.ndarray | None = None  # low_tables: sums and position sums of every T_L
    tpos: np.ndarray | None = None
    thist: np.ndarray | None = None
    tord: np.ndarray | None = None  # each a-block of tsum by ascending sum (stable)
    tsorted: np.ndarray | None = None  # tsum[tord]
    search_min: int = 0  # tables this large are searched (set by build; huge: walk only)

    @classmethod
    def build(
        cls, lam, q, p, ranks, offset, edges, uniform, threshold, n_lowest, n_highest, h=None
    ) -> Plan:
        """A plan with the split h = theory.split(q) and its tables of low subsets.

        ``ranks`` is "full" or "all" (a bool, the former ``all_ranks``, is deprecated).
        Another ``h`` is for timing only: the ranks, and the last bits of every loss
        (see :func:`fastscape.theory.critical_value`), depend on the split, so
        summaries, chunk files and the closed forms all assume the default.
        """
        if isinstance(ranks, (bool, np.bool_)):
            ranks = resolve_ranks("full", bool(ranks))
        all_ranks = resolve_ranks(ranks) == "all"
        h = counting.split(q) if h is None else int(h)
        tsum = np.empty(2**h)
        tpos = np.empty(2**h, dtype=np.int64)
        thist = np.zeros((h + 1, h * (h - 1) // 2 + 1), dtype=np.int64)
        ke.low_tables(lam, h, _binomials(q), tsum, tpos, thist)
        tord = np.empty(2**h, dtype=np.int64)
        start = 0
        for a in range(h + 1):
            stop = start + math.comb(h, a)
            tord[start:stop] = start + np.argsort(tsum[start:stop], kind="stable")
            start = stop
        tsorted = tsum[tord]
        return cls(
            lam,
            q,
            p,
            all_ranks,
            offset,
            edges,
            uniform,
            threshold,
            n_lowest,
            n_highest,
            h,
            tsum,
            tpos,
            thist,
            tord,
            tsorted,
            SEARCH_MIN,
        )

    @property
    def ranks(self) -> str:
        """ "all" (every |S| <= p) or "full" (|S| = p)."""
        return "all" if self.all_ranks else "full"

    @property
    def ks(self) -> list[int]:
        return list(range(min(self.p, self.q) + 1)) if self.all_ranks else [self.p]

    @property
    def n_index(self) -> int:
        """Length of the Morse-index histogram: the largest index inv(S) + shift, plus one."""
        q, p = self.q, self.p
        return max(k * (q - k) + ((q - k) * (p - k) if self.all_ranks else 0) for k in self.ks) + 1


#: Whole tables of T_L with at least this many sets are searched, not walked (the rate is
#: flat between 16 and 256: bench/bench_enumerate_engine.py, docs/benchmarks.md).
SEARCH_MIN = 64


class BlockPath(NamedTuple):
    """How the kernel aggregates one block: the k-sets whose complement has a low positions."""

    k: int  # |S|
    a: int  # complement positions in the low part [0, h)
    table: int  # C(h, a): sets per high part, one table
    sets: int  # C(h, a) C(q - h, q - k - a)
    path: str  # "search" (whole tables; walked where a chunk edge cuts one) or "walk"


def block_paths(q: int, ks: Iterable[int], search_min: int | None = None) -> list[BlockPath]:
    """The path every block of the sizes ``ks`` takes, in rank order (see :data:`SEARCH_MIN`)."""
    h = counting.split(q)
    search_min = SEARCH_MIN if search_min is None else search_min
    out = []
    for k in ks:
        m = q - k
        for a in range(max(0, m - (q - h)), min(m, h) + 1):
            table = math.comb(h, a)
            path = "search" if table >= search_min else "walk"
            out.append(BlockPath(k, a, table, table * math.comb(q - h, m - a), path))
    return out


#: Smallest piece a chunk is cut into for load balance (smaller chunks stay whole).
MIN_PIECE = 2**15
#: Pieces per Numba thread in one kernel call.
PIECES_PER_THREAD = 8


def compute_chunks(
    plan: Plan, chunks: list[tuple[int, int, int]], *, min_piece: int = MIN_PIECE
) -> list[dict]:
    """Aggregates of the chunks [(k, lo, hi), ...]: one dict of arrays per chunk.

    Runs the parallel kernel with Numba's current thread count; used locally and
    by Dask workers. For load balance each chunk is cut into a multiple of the thread
    count of equal rank ranges (about ``PIECES_PER_THREAD`` per thread in all, none
    below ``min_piece`` sets), ordered so that Numba's static split of the prange
    gives every thread the same share of every chunk. The pieces of a chunk are
    merged back exactly: integer sums, and the ``n_lowest`` / ``n_highest`` values
    by (value, rank), the order one walk over the whole chunk keeps. So the result
    is bitwise the same for every cut and thread count.
    """
    n = len(chunks)
    nth = numba.get_num_threads()
    total = sum(int(hi) - int(lo) for _, lo, hi in chunks)
    target = max(int(min_piece), -(-total // (PIECES_PER_THREAD * nth)))
    # pieces: (share, chunk, k, lo, hi), chunk-major
    pieces: list[tuple[int, int, int, int, int]] = []
    first: list[int] = []
    for i, (k, lo, hi) in enumerate(chunks):
        size = int(hi) - int(lo)
        first.append(len(pieces))
        cuts = nth * max(1, -(-size // (target * nth))) if size >= nth * min_piece else 1
        for j in range(cuts):
            pieces.append((j % nth, i, int(k), lo + size * j // cuts, lo + size * (j + 1) // cuts))
    order = sorted(range(len(pieces)), key=lambda x: (pieces[x][0], pieces[x][1], x))
    sel = np.array(order, dtype=np.int64)
    arr = np.array([pieces[x][2:] for x in order], dtype=np.int64).reshape(-1, 3)
    a = _kernel(plan, arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy())
    back = np.empty_like(sel)
    back[sel] = np.arange(sel.size)
    a = {key: v[back] for key, v in a.items()}  # rows in chunk-major piece order
    if len(pieces) == n:  # nothing was cut
        merged = a
    else:
        first_a = np.array(first, dtype=np.int64)
        merged = dict(
            counts=np.add.reduceat(a["counts"], first_a, axis=0),
            hist=np.add.reduceat(a["hist"], first_a, axis=0),
            below=np.add.reduceat(a["below"], first_a),
            low_v=np.full((n, plan.n_lowest), np.inf),
            low_r=np.full((n, plan.n_lowest), -1, dtype=np.int64),
            high_v=np.full((n, plan.n_highest), -np.inf),
            high_r=np.full((n, plan.n_highest), -1, dtype=np.int64),
        )
        bounds = [*first, len(pieces)]
        for i in range(n):
            s, e = bounds[i], bounds[i + 1]
            for side, sign in (("low", 1.0), ("high", -1.0)):
                v = a[side + "_v"][s:e].ravel()
                r = a[side + "_r"][s:e].ravel()
                # unused slots (+-inf, rank -1) sort last: every loss is finite
                keep = np.lexsort((r, sign * v))[: v.size // (e - s)]
                merged[side + "_v"][i] = v[keep]
                merged[side + "_r"][i] = r[keep]
    return [
        dict(
            k=np.int64(chunks[i][0]),
            lo=np.int64(chunks[i][1]),
            hi=np.int64(chunks[i][2]),
            counts=merged["counts"][i],
            hist=merged["hist"][i],
            below=merged["below"][i],
            low_v=merged["low_v"][i],
            low_r=merged["low_r"][i],
            high_v=merged["high_v"][i],
            high_r=merged["high_r"][i],
        )
        for i in range(n)
    ]


def _kernel(plan: Plan, ks, los, his) -> dict:
    """One call of the parallel kernel over the rank ranges; arrays with one row each."""
    n = ks.size
    nb = plan.edges.size - 1
    out = dict(
        counts=np.zeros((n, plan.n_index), dtype=np.int64),
        hist=np.zeros((n, nb + 2), dtype=np.int64),
        below=np.zeros(n, dtype=np.int64),
        low_v=np.full((n, plan.n_lowest), np.inf),
        low_r=np.full((n, plan.n_lowest), -1, dtype=np.int64),
        high_v=np.full((n, plan.n_highest), -np.inf),
        high_r=np.full((n, plan.n_highest), -1, dtype=np.int64),
    )
    ke.enumerate_chunks(
        ke.Problem(
            plan.lam,
            plan.q,
            plan.p,
            plan.h,
            plan.all_ranks,
            plan.offset,
            _binomials(plan.q),
            plan.search_min,
        ),
        ke.LowTables(plan.tsum, plan.tpos, plan.thist, plan.tord, plan.tsorted),
        ke.Bins(plan.edges, plan.uniform, plan.threshold),
        ks,
        los,
        his,
        ke.ChunkOutputs(**out),
    )
    return out


_BINOM_CACHE: dict[int, np.ndarray] = {}


def _binomials(q: int) -> np.ndarray:
    if q not in _BINOM_CACHE:
        _BINOM_CACHE[q] = ke.binomial_table(q)
    return _BINOM_CACHE[q]


def chunk_plan(q: int, ks: Iterable[int], chunk_size: int) -> list[tuple[int, int, int]]:
    """Chunks (k, lo, hi) of at most ``chunk_size`` consecutive ranks, for every size k."""
    out: list[tuple[int, int, int]] = []
    for k in ks:
        size = math.comb(q, k)
        out.extend((k, lo, min(lo + chunk_size, size)) for lo in range(0, size, chunk_size))
    return out


def total_points(q: int, p: int, ranks: str) -> int:
    """Number of index sets: C(q, p) for ranks "full", sum_k<=p C(q, k) for "all"."""
    if resolve_ranks(ranks) == "all":
        return sum(math.comb(q, k) for k in range(min(p, q) + 1))
    return math.comb(q, p)


class Merger:
    """Order-independent merge of chunk aggregates (exact ints, full sort keys)."""

    def __init__(self, plan: Plan, chunks):
        self.plan = plan
        self.chunks = chunks
        self.counts = np.zeros(plan.n_index, dtype=np.int64)  # <= total < 2**63
        self.hist = np.zeros(plan.edges.size + 1, dtype=np.int64)
        self.below = 0
        self.low: list = []
        self.high: list = []
        self.done: set[int] = set()
        self.counted = 0

    def add(self, cid: int, a: dict) -> None:
        k, lo, hi = self.chunks[cid]
        if (int(a["k"]), int(a["lo"]), int(a["hi"])) != (k, lo, hi):
            raise RuntimeError(f"chunk {cid} holds ranks of another plan; use a new directory")
        if cid in self.done:
            return
        self.done.add(cid)
        self.counted += hi - lo
        self.counts += a["counts"]
        self.hist += a["hist"]
        self.below += int(a["below"])
        n_low, n_high = self.plan.n_lowest, self.plan.n_highest
        for v, r in zip(a["low_v"].tolist(), a["low_r"].tolist(), strict=True):
            if r >= 0:
                self.low.append((v, k, r))
        for v, r in zip(a["high_v"].tolist(), a["high_r"].tolist(), strict=True):
            if r >= 0:
                self.high.append((-v, k, r))
        self.low = sorted(self.low)[:n_low]
        self.high = sorted(self.high)[:n_high]

    def summary(self, loss_kind, manifest, timing) -> LandscapeSummary:
        pl = self.plan
        total = total_points(pl.q, pl.p, pl.ranks)

        def cv(v, k, r):
            s = counting.unrank_set(pl.q, k, r)
            return CriticalValue(v, s, morse_index_distinct(pl.q, pl.p, s), k)

        counts = [int(c) for c in self.counts]
        return LandscapeSummary(
            q=pl.q,
            p=pl.p,
            ranks=pl.ranks,
            method="enumeration",
            loss_kind=loss_kind,
            loss_offset=pl.offset,
            total=total,
            counted=self.counted,
            complete=self.counted == total,
            index_counts=tuple(counts),
            hist_edges=pl.edges.copy(),
            hist_counts=tuple(int(c) for c in self.hist[1:-1]),
            hist_underflow=int(self.hist[0]),
            hist_overflow=int(self.hist[-1]),
            hist_error_bound=0.0,
            lowest=tuple(cv(v, k, r) for v, k, r in self.low),
            highest=tuple(cv(-v, k, r) for v, k, r in self.high),
            threshold=manifest["threshold"],
            count_below=None if manifest["threshold"] is None else self.below,
            spectrum=pl.lam.copy(),
            chunking={
                "chunk_size": manifest["chunk_size"],
                "n_chunks": len(self.chunks),
                "chunks_done": len(self.done),
            },
            timing=timing,
        )
