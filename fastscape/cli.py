"""The ``fastscape`` command line.

``fastscape enumerate``: stream every two-layer critical point of a spectrum and
write ``DIR/summary.json`` (see ``fastscape enumerate --help``).
``fastscape plot DIR``: figures of a finished run (needs the ``plot`` extra).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from .cli_report import Progress, report

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


class _Parser(argparse.ArgumentParser):
    """argparse with a "did you mean" for misspelt options (``--P``, ``--outdir``)."""

    _argv: list[str] = []

    def parse_known_args(self, args=None, namespace=None):
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message):
        known = _option_strings(self)
        hints = []
        for word in self._argv:
            flag = word.split("=", 1)[0]
            if flag.startswith("-") and flag not in known and not _is_number(flag):
                near = _closest(flag, known)
                if near and near != flag:
                    hints.append(f"{flag}: did you mean {near}?")
        if hints:
            message += " (" + "; ".join(dict.fromkeys(hints)) + ")"
        super().error(message)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string of the parser and its sub-commands."""
    found = set(parser._option_string_actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found.update(sub._option_string_actions)
    return sorted(found)


def _closest(flag: str, known: list[str]) -> str | None:
    import difflib

    lower = {k.lower(): k for k in known}
    if flag.lower() in lower:
        return lower[flag.lower()]
    prefix = [k for k in known if k.startswith("--") and flag.startswith(k) and len(k) > 3]
    if prefix:
        return max(prefix, key=len)
    near = difflib.get_close_matches(flag.lower(), list(lower), n=1, cutoff=0.6)
    return lower[near[0]] if near else None


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fastscape", description="Exact loss landscapes of deep linear networks.")
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
    e.add_argument(
        "--verbose", action="store_true", help="also report the kernel path of every block"
    )
    pl = sub.add_parser("plot", help="figures of a run directory (needs fastscape-dln[plot])")
    pl.add_argument("dir", metavar="DIR", help="run directory with summary.json")
    ca = sub.add_parser(
        "cache",
        help="show or clear the compiled-kernel cache",
        description="Show where fastscape keeps its compiled Numba kernels and how much they "
        "take (FASTSCAPE_CACHE_DIR, else NUMBA_CACHE_DIR, else the per-user cache folder), "
        "or clear it. Clearing is always safe: kernels are recompiled on next use.",
    )
    ca.add_argument("--clear", action="store_true", help="delete every cached kernel")
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
    return fastscape.random_spectrum(q, args.seed), f"random spectrum (seed {args.seed})"


def _resolve_ranks(args) -> str:
    """--ranks, or the deprecated --all-ranks (a note on stderr)."""
    if args.all_ranks:
        print("fastscape: --all-ranks is deprecated: use --ranks all", file=sys.stderr)
        if args.ranks == "full":
            raise ValueError("--ranks full contradicts --all-ranks: pass --ranks only")
        return "all"
    return args.ranks or "full"


def _enumerate(args) -> int:
    """``fastscape enumerate``: the summary (closed form or enumeration), then --verify."""
    args.ranks = _resolve_ranks(args)
    source, what = _load_source(args)
    if args.verify == "hessian":  # refuse an impossible verification before enumerating
        from .landscape import spectrum_of
        from .verify import check_size

        check_size(spectrum_of(source)[0].size, args.p, args.ranks)
    progress = None
    if not args.quiet and not args.closed_form:
        progress = Progress(sys.stderr)
    client = None
    try:
        if args.scheduler is not None:
            from . import distributed

            client = distributed.connect(args.scheduler)
        if args.closed_form:
            summary = _closed_form_summary(args, source)
        else:
            summary = _enumerated_summary(args, source, client, progress)
    finally:
        if progress is not None:
            progress.close()
        if client is not None:
            client.close()
    status = _verify_hessian(args, source) if args.verify == "hessian" else 0
    if not args.quiet:
        report(summary, what, args, status)
    return status


def _closed_form_summary(args, source):
    """--closed-form: count_landscape, without the histogram when its DP is too large."""
    from .landscape import count_landscape
    from .theory import HistogramTooLargeError

    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.resume:
        raise ValueError(f"{out} is not empty: use a new --out or --resume")
    try:
        summary = count_landscape(
            source, args.p, ranks=args.ranks, bins=args.bins, n_lowest=args.lowest
        )
    except HistogramTooLargeError as e:
        why = str(e).split(";")[0]
        print(f"fastscape: the loss histogram is skipped ({why}); the counts and the "
              "lowest values are exact", file=sys.stderr)  # fmt: skip
        summary = count_landscape(source, args.p, ranks=args.ranks, bins=None, n_lowest=args.lowest)
    summary.save(out)
    return summary


def _enumerated_summary(args, source, client, progress):
    """The streaming enumeration, compiled first so that the reported rate is its own."""
    from .landscape import enumerate_landscape, warmup_enumeration

    if client is None:
        t0 = time.perf_counter()
        warmup_enumeration()
        args.compile_seconds = time.perf_counter() - t0
    return enumerate_landscape(
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


def _verify_hessian(args, source) -> int:
    """--verify hessian: every point's Hessian against the closed form; DIR/verify.json."""
    from .verify import verify_hessian

    report = verify_hessian(source, args.p, ranks=args.ranks, threads=args.threads)
    path = Path(args.out, "verify.json")
    path.write_text(json.dumps(report, indent=1) + "\n")
    if not report["disagreements"]:
        return 0
    print(
        f"fastscape: --verify hessian: {len(report['disagreements'])} of "
        f"{report['checked']} points disagree with the closed form; see {path}",
        file=sys.stderr,
    )
    return 1


#: Library argument spellings in error messages, and the command-line flags they mean.
_CLI_WORDS = [
    (r"\bresume=True\b", "--resume"),
    (r"\branks='all'", "--ranks all"),
    (r"\branks='full'", "--ranks full"),
    (r"\ball_ranks(=True)?", "--ranks all"),
    (r"\bn_lowest\b", "--lowest"),
    (r"\bn_highest\b", "--highest"),
    (r"\bchunk_size\b", "--chunk-size"),
    (r"\bthreads\b(?= =)", "--threads"),
    (r"\bout=", "--out "),
]


def _cli_words(message: str) -> str:
    """An error message with the library's argument names replaced by the flags."""
    import re

    for pattern, flag in _CLI_WORDS:
        message = re.sub(pattern, flag, message)
    return message.replace("--resume (--resume)", "--resume")


def _cache(args) -> int:
    from .kernels import _jit

    if args.clear:
        n = _jit.clear_cache()
        print(f"removed {n} cached kernel files from {_jit.cache_root()}")
        return 0
    info = _jit.cache_info()
    print(f"kernel cache: {info['path']}")
    print(f"  {info['kernels']} kernels, {info['files']} files, {info['bytes'] / 2**20:.1f} MiB")
    print("  set FASTSCAPE_CACHE_DIR (or NUMBA_CACHE_DIR) to move it; "
          "`fastscape cache --clear` to empty it")  # fmt: skip
    return 0


def _plot(args) -> int:
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        print(
            "fastscape plot needs matplotlib, which is not installed: install the plot extra, "
            "pip install 'fastscape-dln[plot]' (or pip install matplotlib)",
            file=sys.stderr,
        )
        return 1
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
    if getattr(args, "quiet", False):
        import os

        os.environ["FASTSCAPE_COMPILE_NOTICE"] = "0"  # --quiet: nothing on stderr but errors
    try:
        if args.command == "enumerate":
            return _enumerate(args)
        if args.command == "cache":
            return _cache(args)
        return _plot(args)
    except KeyboardInterrupt:
        print(
            "fastscape: interrupted; finished chunks are saved: rerun the same command "
            "with --resume to continue",
            file=sys.stderr,
        )
        return 130
    except (ValueError, TypeError, OverflowError, RunDirectoryError, ImportError, OSError) as e:
        print(f"fastscape {args.command}: error: {_cli_words(str(e))}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
