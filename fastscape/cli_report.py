"""What ``fastscape enumerate`` prints: progress on stderr and the final report.

Used by :mod:`fastscape.cli`; rates, counts and index sets as plain text.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from ._text import duration

__all__ = ["Progress", "noise_floor_note", "rate_text", "report"]


def rate_text(per_second: float) -> str:
    """A rate in sets/s with a unit that keeps three significant digits."""
    for scale, unit in ((1e9, "G "), (1e6, "M "), (1e3, "k ")):
        if per_second >= scale:
            return f"{per_second / scale:.3g} {unit}sets/s"
    return f"{per_second:.3g} sets/s"


class Progress:
    """Progress of an enumeration on stderr: a tqdm bar on a terminal, else a plain line
    every :attr:`EVERY` seconds (done/total, rate, ETA). Before a run expected to take
    over a minute it says how long, from the rate of the first batches."""

    EVERY = 5.0

    def __init__(self, stream):
        self.stream = stream
        self.tty = stream.isatty()
        self.bar = None
        self.t0 = None
        self.start = 0
        self.last = 0.0
        self.forecast = False

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.t0 is None:  # the first call reports what was already on disk
            self.t0, self.start, self.last = now, done, now
            if done:
                print(f"fastscape: reusing {done:,} of {total:,} index sets already "
                      "computed in this run directory", file=self.stream)  # fmt: skip
            return
        rate = (done - self.start) / max(now - self.t0, 1e-9)
        left = (total - done) / rate if rate > 0 else float("inf")
        if not self.forecast and done < total:
            self.forecast = True
            if left > 60:
                print(f"fastscape: this run will take about {duration(left)} "
                      f"(at {rate_text(rate)})", file=self.stream)  # fmt: skip
        if self.tty:
            if self.bar is None:  # made on the first real update: no empty bar before it
                from tqdm import tqdm

                size = shutil.get_terminal_size((100, 20))  # a 0 x 0 pty would hide the bar
                self.bar = tqdm(total=total, initial=self.start, unit="sets", unit_scale=True,
                                file=self.stream, ncols=size.columns or 100,
                                nrows=size.lines or 20)  # fmt: skip
            self.bar.n = done
            self.bar.refresh()
        elif now - self.last >= self.EVERY and done < total:
            self.last = now
            print(f"fastscape: {done:,} / {total:,} sets ({100 * done / total:.1f}%), "
                  f"{rate_text(rate)}, about {duration(left)} left", file=self.stream)  # fmt: skip
            self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def count_text(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"{float(n):.6g}"


def set_text(index_set) -> str:
    s = list(index_set)
    if len(s) <= 24:
        return str(s)
    return (
        f"[{', '.join(map(str, s[:10]))}, ..., {', '.join(map(str, s[-10:]))}] ({len(s)} positions)"
    )


def report_paths(s) -> None:
    """--verbose: which blocks were searched and which walked, one line per size k."""
    from .engine import SEARCH_MIN, block_paths

    ks = range(min(s.p, s.q) + 1) if s.ranks == "all" else [s.p]
    blocks = block_paths(s.q, ks)
    print("  kernel path per block (block a: the complement of S has a positions below "
          f"the split;\n  tables of >= {SEARCH_MIN} sets are searched, walked where a chunk "
          "edge cuts one):")  # fmt: skip
    for k in ks:
        parts = []
        for path in ("search", "walk"):
            mine = [b for b in blocks if b.k == k and b.path == path]
            if mine:
                sets = sum(b.sets for b in mine)
                runs = runs_text([b.a for b in mine])
                share = 100 * sets / s.total
                parts.append(f"{path} a={runs} ({count_text(sets)} sets, {share:.3g}%)")
        print(f"    k={k}: " + "; ".join(parts))


def runs_text(values: list[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> '0..2, 5, 7..8'."""
    out: list[str] = []
    start = prev = values[0]
    for v in [*values[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        out.append(str(start) if start == prev else f"{start}..{prev}")
        if v is not None:
            start = prev = v
    return ", ".join(out)


def report(s, what, args, status) -> None:
    t = s.timing
    ranks = "all-ranks" if s.ranks == "all" else "full-rank"
    print(f"fastscape enumerate: {what}, q={s.q}, p={s.p}, {ranks}, {s.method}")
    if s.method == "enumeration":
        rate = t.get("sets_per_second")
        reused = t.get("chunks_reused", 0)
        n_chunks = s.chunking.get("n_chunks") if isinstance(s.chunking, dict) else None
        if reused and t.get("sets_this_run", 0) == 0:
            print(f"  {count_text(s.total)} critical points: a finished run, all {reused} chunk "
                  "files reused (nothing recomputed)")  # fmt: skip
        else:
            shown = f", {rate_text(rate)} effective" if rate else ""
            print(f"  {count_text(s.total)} critical points in {t['seconds']:.2f} s{shown}")
            cpu = t.get("cpu_seconds")
            if getattr(args, "verbose", False) and cpu:
                print(f"  {rate_text(t['sets_this_run'] / cpu)[:-2]} per CPU-second "
                      f"({cpu:.2f} CPU-s in this process)")  # fmt: skip
            if reused:
                of = f" of {n_chunks}" if n_chunks else ""
                print(f"  ({reused}{of} chunk files reused from the earlier run)")
        compiled = getattr(args, "compile_seconds", 0.0)
        if compiled > 0.5:
            print(f"  (before that, Numba compiled or loaded the kernels in {compiled:.1f} s)")
    else:
        print(f"  {count_text(s.total)} critical points counted in {t['seconds']:.2f} s")
    print(f"  loss: {s.loss_kind}")
    note = noise_floor_note(s.spectrum)
    if note:
        print(f"  note: {note}")
    print("  points by Morse index (0..): " + ", ".join(count_text(c) for c in s.index_counts[:8])
          + (", ..." if len(s.index_counts) > 8 else ""))  # fmt: skip
    for v in s.lowest[:5]:
        print(f"  loss {v.loss:#.6g}  index {v.morse_index}  S = {set_text(v.index_set)}")
    if getattr(args, "verbose", False) and s.method == "enumeration":
        report_paths(s)
    if s.count_below is not None:
        print(f"  {s.count_below:,} points below loss {s.threshold}")
    if args.verify == "hessian":
        print(f"  --verify hessian: {'FAILED' if status else 'all points agree'}")
    print(f"  wrote {Path(args.out, 'summary.json')}")


def noise_floor_note(spectrum) -> str | None:
    """A note when Sigma has eigenvalues far below the rest (a likely noise floor).

    The floor is the widest gap of at least 100x between consecutive eigenvalues (in
    descending order) below which every eigenvalue is under 1e-3 of the largest.
    """
    lam = np.asarray(spectrum, dtype=np.float64)
    if lam.size < 2 or not lam[0] > 0:
        return None
    ratio = lam[:-1] / np.maximum(lam[1:], np.finfo(float).tiny)
    candidates = [i for i in range(lam.size - 1) if ratio[i] >= 100 and lam[i + 1] < 1e-3 * lam[0]]
    if not candidates:
        return None
    i = max(candidates, key=lambda j: ratio[j])
    low = lam.size - (i + 1)
    return (
        f"{low} of the {lam.size} eigenvalues of Sigma ({lam[i + 1]:.3g} and below) lie "
        f"{ratio[i]:.3g}x under the next one ({lam[i]:.3g}; the largest is {lam[0]:.3g}): "
        "they look like a noise floor, and critical points that differ only in them differ "
        "only by noise. Consider --p at most "
        f"{i + 1}, fewer inputs or outputs, or more samples"
    )
