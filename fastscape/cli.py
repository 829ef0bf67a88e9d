"""The ``fastscape`` command line.

``fastscape enumerate``: stream every two-layer critical point of a spectrum and
write ``DIR/summary.json`` (see ``fastscape enumerate --help``).
``fastscape plot DIR``: figures of a finished run (needs the ``plot`` extra).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_RANDOM_Q = 28
DEFAULT_SEED = 0

_EPILOG = """\
input (one of; default --random 28 --seed 0):
  --spectrum FILE.npy   1-D eigenvalues of Sigma (sorted descending here); losses are the
                        excess over the full-rank least-squares loss, 1/2 sum_{i not in S}
  --data FILE.npz       arrays X (n, dx) and Y (n, dy); losses are absolute
  --random Q --seed S   Q eigenvalues sort(default_rng(S).uniform(0.5, 1.5, Q)) descending

examples:
  fastscape enumerate --random 28 --seed 0 --p 14 --out run
  fastscape enumerate --random 28 --seed 0 --p 14 --out run --resume   # after a crash
  fastscape enumerate --data xy.npz --p 3 --ranks all --out run2 --verify hessian
  fastscape enumerate --random 32 --seed 1 --p 16 --out run3 --scheduler tcp://host:8786

exit status: 0 success, 1 failure (message says what to do), 2 bad arguments,
130 interrupted (partial results kept: rerun with --resume).
"""


def _int_at_least(minimum: int):
    """An argparse type: an integer >= minimum, with a message that says so."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1)
_nonneg_int = _int_at_least(0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastscape", description="Exact loss landscapes of deep linear networks."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    e = sub.add_parser(
        "enumerate",
        help="enumerate every two-layer critical point and aggregate",
        description="Stream every critical point S (|S| = p, or every |S| <= p with "
        "--ranks all) of a two-layer linear network and write DIR/summary.json: counts by "
        "Morse index, loss histogram, lowest/highest critical values, count below a "
        "threshold. Crash-safe: finished chunks are kept; rerun with --resume.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = e.add_mutually_exclusive_group()
    src.add_argument("--spectrum", metavar="FILE.npy", help="1-D eigenvalues of Sigma")
    src.add_argument("--data", metavar="FILE.npz", help="arrays X and Y (rows are samples)")
    src.add_argument("--random", metavar="Q", type=_positive_int, help="random spectrum size")
    e.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed for --random (0)")
    e.add_argument("--p", type=_positive_int, required=True, help="hidden width p")
    e.add_argument(
        "--ranks",
        choices=["full", "all"],
        help="full: |S| = p (default); all: every |S| = k <= p",
    )
    e.add_argument("--all-ranks", action="store_true", help="deprecated spelling of --ranks all")
    e.add_argument("--out", required=True, metavar="DIR", help="run directory (new, or --resume)")
    e.add_argument("--resume", action="store_true", help="continue the run in DIR")
    e.add_argument("--threads", type=_positive_int, help="Numba threads (default: all cores)")
    e.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, tcp://HOST:PORT")
    e.add_argument("--bins", type=_positive_int, default=64, help="loss histogram bins (64)")
    e.add_argument("--lowest", type=_nonneg_int, default=10, help="lowest values kept (10)")
    e.add_argument("--highest", type=_nonneg_int, default=10, help="highest values kept (10)")
    e.add_argument("--threshold", type=float, help="count points with loss below this")
    e.add_argument("--chunk-size", type=_positive_int, help="index sets per chunk file")
    e.add_argument(
        "--closed-form",
        action="store_true",
        help="no enumeration: Gaussian binomials, histogram DP, best-first (any q)",
    )
    e.add_argument("--verify", choices=["hessian"], help="check every point's Hessian inertia")
    e.add_argument("--quiet", action="store_true", help="no progress bar, no report")
    pl = sub.add_parser("plot", help="figures of a run directory (needs fastscape-dln[plot])")
    pl.add_argument("dir", metavar="DIR", help="run directory with summary.json")
    return parser


def _load_source(args):
    """(source, description) from the input options."""
    import fastscape

    if args.spectrum is not None:
        path = Path(args.spectrum)
        try:
            lam = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ValueError(f"cannot read --spectrum {path}: {e}; pass a .npy file") from None
        lam = np.asarray(lam, dtype=np.float64)
        if lam.ndim != 1:
            raise ValueError(f"--spectrum {path} must hold a 1-D array, got shape {lam.shape}")
        return np.sort(lam)[::-1].copy(), f"spectrum file {path}"
    if args.data is not None:
        path = Path(args.data)
        try:
            with np.load(path, allow_pickle=False) as z:
                missing = {"X", "Y"} - set(z.files)
                if missing:
                    raise ValueError(
                        f"--data {path} lacks array(s) {sorted(missing)}; save it with "
                        "np.savez(path, X=X, Y=Y)"
                    )
                x, y = z["X"], z["Y"]
        except (OSError, EOFError) as e:
            raise ValueError(f"cannot read --data {path}: {e}; pass an .npz file") from None
        return fastscape.Moments.from_data(x, y), f"data file {path}"
    q = args.random if args.random is not None else DEFAULT_RANDOM_Q
    return fastscape.random_spectrum(q, args.seed), f"random spectrum q={q} seed={args.seed}"


def _resolve_ranks(args) -> str:
    """--ranks, or the deprecated --all-ranks (a note on stderr)."""
    if args.all_ranks:
        print("fastscape: --all-ranks is deprecated: use --ranks all", file=sys.stderr)
        if args.ranks == "full":
            raise ValueError("--ranks full contradicts --all-ranks: pass --ranks only")
        return "all"
    return args.ranks or "full"


def _enumerate(args) -> int:
    import fastscape

    args.ranks = _resolve_ranks(args)
    source, what = _load_source(args)
    if args.verify == "hessian":  # refuse an impossible verification before enumerating
        from .verify import check_size

        lam = fastscape.spectrum_of(source)[0]
        check_size(lam.size, args.p, args.ranks)
    quiet = args.quiet
    bar = None
    progress = None
    if not quiet and not args.closed_form and sys.stderr.isatty():
        from tqdm import tqdm

        size = shutil.get_terminal_size((100, 20))  # a 0 x 0 pty would hide the bar
        bar = tqdm(total=0, unit="sets", unit_scale=True, file=sys.stderr,
                   ncols=size.columns or 100, nrows=size.lines or 20)  # fmt: skip

        def progress(done, total):
            bar.total = total
            bar.n = done
            bar.refresh()

    client = None
    try:
        if args.scheduler is not None:
            from . import distributed

            client = distributed.connect(args.scheduler)
        if args.closed_form:
            out = Path(args.out)
            if out.exists() and any(out.iterdir()) and not args.resume:
                raise ValueError(f"{out} is not empty: use a new --out or --resume")
            try:
                summary = fastscape.count_landscape(
                    source, args.p, ranks=args.ranks, bins=args.bins,
                    n_lowest=args.lowest,
                )  # fmt: skip
            except fastscape.theory.HistogramTooLargeError as e:
                print(f"fastscape: no loss histogram: {e}", file=sys.stderr)
                summary = fastscape.count_landscape(
                    source, args.p, ranks=args.ranks, bins=None, n_lowest=args.lowest
                )
            summary.save(out)
        else:
            if client is None:  # compile first, so the reported rate is the enumeration's own
                from .landscape import warmup_enumeration

                t0 = time.perf_counter()
                warmup_enumeration()
                args.compile_seconds = time.perf_counter() - t0
            summary = fastscape.enumerate_landscape(
                source,
                args.p,
                ranks=args.ranks,
                bins=args.bins,
                n_lowest=args.lowest,
                n_highest=args.highest,
                threshold=args.threshold,
                chunk_size=args.chunk_size,
                threads=args.threads,
                out=args.out,
                resume=args.resume,
                client=client,
                progress=progress,
            )
    finally:
        if bar is not None:
            bar.close()
        if client is not None:
            client.close()
    status = 0
    if args.verify == "hessian":
        from .verify import verify_hessian

        report = verify_hessian(source, args.p, ranks=args.ranks, threads=args.threads)
        Path(args.out, "verify.json").write_text(json.dumps(report, indent=1) + "\n")
        if report["disagreements"]:
            status = 1
            print(
                f"fastscape: --verify hessian: {len(report['disagreements'])} of "
                f"{report['checked']} points disagree with the closed form; see "
                f"{Path(args.out, 'verify.json')}",
                file=sys.stderr,
            )
    if not quiet:
        _report(summary, what, args, status)
    return status


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"{float(n):.6g}"


def _set_text(index_set) -> str:
    s = list(index_set)
    if len(s) <= 24:
        return str(s)
    return (
        f"[{', '.join(map(str, s[:10]))}, ..., {', '.join(map(str, s[-10:]))}] ({len(s)} positions)"
    )


def _report(s, what, args, status) -> None:
    t = s.timing
    print(f"fastscape enumerate: {what}, q={s.q}, p={s.p}, ranks {s.ranks}, {s.method}")
    if s.method == "enumeration":
        rate = t.get("sets_per_second")
        rate_text = f", {rate / 1e6:.1f} M sets/s" if rate else ""
        print(f"  {_count(s.total)} critical points in {t['seconds']:.2f} s{rate_text}")
        compiled = getattr(args, "compile_seconds", 0.0)
        if compiled > 0.5:
            print(f"  (before that, Numba compiled or loaded the kernels in {compiled:.1f} s)")
    else:
        print(f"  {_count(s.total)} critical points counted in {t['seconds']:.2f} s")
    print(f"  loss: {s.loss_kind}")
    print("  points by Morse index (0..): " + ", ".join(_count(c) for c in s.index_counts[:8])
          + (", ..." if len(s.index_counts) > 8 else ""))  # fmt: skip
    for v in s.lowest[:5]:
        print(f"  loss {v.loss:#.6g}  index {v.morse_index}  S = {_set_text(v.index_set)}")
    if s.count_below is not None:
        print(f"  {s.count_below:,} points below loss {s.threshold}")
    if args.verify == "hessian":
        print(f"  --verify hessian: {'FAILED' if status else 'all points agree'}")
    print(f"  wrote {Path(args.out, 'summary.json')}")


def _plot(args) -> int:
    try:
        import fastscape.plot as fplot
    except ImportError as e:
        print(
            f"fastscape plot needs matplotlib ({e}); install the plot extra: "
            "pip install 'fastscape-dln[plot]'",
            file=sys.stderr,
        )
        return 1
    for path in fplot.plot_run_dir(args.dir):
        print(path)
    return 0


def main(argv=None) -> int:
    """Entry point of the ``fastscape`` console script; returns the exit status."""
    from .runstore import RunDirectoryError

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "enumerate":
            return _enumerate(args)
        return _plot(args)
    except KeyboardInterrupt:
        print(
            "fastscape: interrupted; finished chunks are saved: rerun the same command "
            "with --resume to continue",
            file=sys.stderr,
        )
        return 130
    except (ValueError, TypeError, OverflowError, RunDirectoryError, ImportError, OSError) as e:
        print(f"fastscape {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
