"""Run the benchmark suite once and print the ratio table; also write bench/RESULTS.md.

    python bench/report.py                 # everything (several minutes: the peers are slow)
    python bench/report.py -k "H4-w32"     # extra arguments go to pytest (-k to select)

Times are the best of several rounds (pytest-benchmark ``min``) after a warm-up call;
ratios are peer / fastscape (higher = fastscape faster) and fastscape / floor, where the
floor is the faster of ``ndarray.fill`` and a parallel Numba fill of the same preallocated
N x N float64 array. Peak memory is the extra resident memory of one
``fastscape.hessian`` call (allocating its own output) in a fresh process, over 8 N^2.
The ``fastscape.warmup()`` cost is measured in fresh processes with an empty
NUMBA_CACHE_DIR (cold) and again with that cache filled (warm).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

WARMUP_CODE = (
    "import json, time; t0 = time.perf_counter(); import fastscape; "
    "t1 = time.perf_counter(); c = time.process_time(); s = fastscape.warmup(); "
    "print(json.dumps({'import': t1 - t0, 'warmup': s, 'cpu': time.process_time() - c}))"
)


def run_suite(extra: list[str]) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            str(HERE / "bench_hessian.py"),
            "-q",
            "-p",
            "no:cacheprovider",
            f"--benchmark-json={out}",
            "--benchmark-columns=min,median,rounds",
            *extra,
        ]
        print("running:", " ".join(cmd), file=sys.stderr, flush=True)
        res = subprocess.run(cmd, cwd=ROOT, stdout=sys.stderr)
        if res.returncode != 0:
            sys.exit(f"benchmark suite failed (exit {res.returncode})")
        return json.loads(out.read_text())["benchmarks"]


def measure_warmup() -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        result = {}
        for label in ("cold", "warm", "warm2"):
            res = subprocess.run(
                [sys.executable, "-c", WARMUP_CODE],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            result[label] = json.loads(res.stdout.strip().splitlines()[-1])
        # the cache is invalidated if a kernel file changes between runs (shared tree):
        # the warm figure is the better of two warm runs
        warm2 = result.pop("warm2")
        if warm2["warmup"] < result["warm"]["warmup"]:
            result["warm"] = warm2
        return result


def fmt_t(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"


def fmt_r(x: float | None, goal: float | None = None, at_most: bool = False) -> str:
    if x is None:
        return "-"
    s = f"{x:.1f}x" if x >= 10 else f"{x:.2f}x"
    if goal is not None:
        ok = x <= goal if at_most else x >= goal
        s += " ok" if ok else " MISS"
    return s


def build_table(benchmarks: list[dict]) -> tuple[str, list[str]]:
    rows: dict[tuple[int, int], dict] = {}
    for b in benchmarks:
        info = b["extra_info"]
        key = (info["depth"], info["width"])
        row = rows.setdefault(key, {"n": info["n"]})
        if info["kind"] == "memory":
            row["peak"] = info["peak_bytes"]
        elif info["kind"] == "interleaved":
            row["interleaved"] = info
        else:
            row[(info["kind"], info["peer"])] = b["stats"]["min"]
    head = (
        "| H, width | N | fastscape | fill | parallel fill | fastscape / floor (goal <= 2) "
        "| jax.hessian | jax / fastscape (goal >= 20) | torch.func.hessian | torch / fastscape "
        "| numpy blocks | numpy / fastscape | gradient (kernel) | jax.grad "
        "| jax.grad / gradient (/ kernel) "
        "| peak memory / 8N^2 (goal <= 1.1) |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    misses = []
    for (depth, width), r in sorted(rows.items(), key=lambda kv: kv[1]["n"]):
        n = r["n"]
        fs = r.get(("hessian", "fastscape"))

        def ratio(peer, kind="hessian", base=fs, r=r):
            t = r.get((kind, peer))
            return None if t is None or base is None else t / base

        fills = [t for t in (r.get(("hessian", "fill")), r.get(("hessian", "pfill"))) if t]
        floor_t = min(fills) if fills else None  # none when -k left the fills out
        separate = None if fs is None or floor_t is None else fs / floor_t
        il = r.get("interleaved")
        to_floor = il["ratio"] if il else separate
        peak = r.get("peak")
        peak_ratio = None if peak is None else peak / (8 * n * n)
        jax_ratio = ratio("jax")
        cells = [
            f"{depth}, {width}",
            str(n),
            fmt_t(fs),
            fmt_t(r.get(("hessian", "fill"))),
            fmt_t(r.get(("hessian", "pfill"))),
            fmt_r(to_floor, 2.0, at_most=True)
            + (
                ""
                if il is None
                else f" ({fmt_t(il['fastscape'])} / {fmt_t(min(il['fill'], il['pfill']))}; "
                f"separate runs {fmt_r(separate)})"
            ),
            fmt_t(r.get(("hessian", "jax"))),
            fmt_r(jax_ratio, 20.0 if n >= 4096 else None),
            fmt_t(r.get(("hessian", "torch"))),
            fmt_r(ratio("torch")),
            fmt_t(r.get(("hessian", "numpy"))),
            fmt_r(ratio("numpy")),
            f"{fmt_t(r.get(('gradient', 'fastscape')))} ({fmt_t(r.get(('gradient', 'kernel')))})",
            fmt_t(r.get(("gradient", "jax"))),
            f"{fmt_r(ratio('jax', 'gradient', r.get(('gradient', 'fastscape'))))} "
            f"({fmt_r(ratio('jax', 'gradient', r.get(('gradient', 'kernel'))))})",
            "-" if peak is None else f"{peak / 2**20:.0f} MiB = " + fmt_r(peak_ratio, 1.1, True),
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if to_floor is not None and to_floor > 2:
            misses.append(f"H={depth}, w={width}: fastscape / floor = {to_floor:.2f} (goal 2)")
        if jax_ratio is not None and n >= 4096 and jax_ratio < 20:
            misses.append(f"H={depth}, w={width}: jax / fastscape = {jax_ratio:.1f} (goal 20)")
        if peak_ratio is not None and peak_ratio > 1.1:
            misses.append(f"H={depth}, w={width}: peak memory {peak_ratio:.2f} x 8N^2 (goal 1.1)")
    return "\n".join(lines), misses


def main(argv: list[str]) -> None:
    command = "python bench/report.py" + ("" if not argv else " " + " ".join(argv))
    benchmarks = run_suite(argv)
    table, misses = build_table(benchmarks)
    warm = measure_warmup()
    import numba

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"numba {numba.__version__} with {numba.config.NUMBA_NUM_THREADS} threads, "
        f"python {platform.python_version()}"
    )
    warm_line = (
        f"`fastscape.warmup()`: cold (empty NUMBA_CACHE_DIR) {warm['cold']['warmup']:.1f} s "
        f"wall, {warm['cold']['cpu']:.1f} s CPU (+ import {warm['cold']['import']:.1f} s); "
        f"warm (cache filled) {warm['warm']['warmup']:.2f} s wall, {warm['warm']['cpu']:.2f} s "
        f"CPU (+ import {warm['warm']['import']:.1f} s). It compiles every kernel registered "
        "with fastscape.warmup, not only the derivatives."
    )
    verdict = "All goals met." if not misses else "Goals missed: " + "; ".join(misses) + "."
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            f"Measured {stamp} with `{command}` on {machine}.",
            "Best of several rounds after a warm-up call; the machine may be shared and",
            "noisy, so treat single figures with care. Ratios: peer / fastscape (higher =",
            "fastscape faster); fastscape / floor, floor = the faster fill of the same",
            "preallocated N x N float64 array; fastscape.hessian writes into a preallocated `out`.",
            "fastscape / floor comes from the three calls timed in alternation (same load),",
            "with the ratio of the separately timed columns in brackets.",
            "gradient = the public fastscape.gradient (validation included); (kernel) = the",
            "Numba kernel alone on prepared float64 inputs.",
            "",
            table,
            "",
            warm_line,
            "",
            verdict,
            "",
        ]
    )
    print(text)
    (HERE / "RESULTS.md").write_text(text)


if __name__ == "__main__":
    main(sys.argv[1:])
