"""The ``fastscape`` command: enumerate (files, exit codes, messages) and plot."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

import fastscape
from fastscape.cli import main
from fastscape.theory import gaussian_binomial


def run(args, capsys):
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_enumerate_random_writes_summary(tmp_path, capsys):
    out = tmp_path / "run"
    status, text, err = run(
        ["enumerate", "--random", "14", "--seed", "3", "--p", "6", "--out", str(out),
         "--threshold", "4.0", "--lowest", "7", "--bins", "20"],
        capsys,
    )  # fmt: skip
    assert status == 0 and err == ""  # no progress bar when stderr is not a terminal
    d = json.loads((out / "summary.json").read_text())
    for key in ("q", "p", "total", "index_counts", "lowest", "loss_histogram", "complete",
                "loss_kind", "highest", "count_below", "mode", "chunking", "timing"):  # fmt: skip
        assert key in d
    assert d["q"] == 14 and d["p"] == 6 and d["complete"] is True
    assert d["index_counts"] == gaussian_binomial(14, 6)
    assert d["loss_kind"].startswith("excess") and "not in S" in d["loss_kind"]
    assert len(d["lowest"]) == 7 and set(d["lowest"][0]) >= {"loss", "index_set"}
    api = fastscape.enumerate_landscape(
        fastscape.random_spectrum(14, 3), 6, threshold=4.0, n_lowest=7, bins=20
    )
    ref = api.to_json()
    for key in ("index_counts", "lowest", "highest", "loss_histogram", "count_below", "total"):
        assert d[key] == ref[key]
    assert "summary.json" in text and "critical points" in text


def test_enumerate_data_is_absolute(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4))
    Y = X @ rng.standard_normal((4, 3))
    np.savez(tmp_path / "xy.npz", X=X, Y=Y)
    status, _, _ = run(
        ["enumerate", "--data", str(tmp_path / "xy.npz"), "--p", "2", "--ranks", "all",
         "--out", str(tmp_path / "r")],
        capsys,
    )  # fmt: skip
    assert status == 0
    d = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert (
        d["loss_kind"].startswith("absolute") and d["ranks"] == "all" and d["mode"] == "all-ranks"
    )
    m = fastscape.Moments.from_data(X, Y)
    # the zero point S = {} has loss 1/2 tr Syy
    top = max(d["highest"], key=lambda v: v["loss"])
    assert top["index_set"] == [] and top["loss"] == pytest.approx(0.5 * m.trace_syy)


def test_enumerate_spectrum_file_sorted(tmp_path, capsys):
    np.save(tmp_path / "s.npy", np.array([1.0, 3.0, 2.0, 5.0]))
    status, _, _ = run(
        ["enumerate", "--spectrum", str(tmp_path / "s.npy"), "--p", "2", "--out",
         str(tmp_path / "r")],
        capsys,
    )  # fmt: skip
    assert status == 0
    d = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert d["spectrum"] == [5.0, 3.0, 2.0, 1.0]
    assert d["lowest"][0] == {
        "loss": 1.5, "index_set": [0, 1], "morse_index": 0, "index": 0, "k": 2
    }  # fmt: skip


def test_deprecated_all_ranks_flag_still_works(tmp_path, capsys):
    status, _, err = run(
        ["enumerate", "--random", "5", "--p", "2", "--all-ranks", "--quiet", "--out",
         str(tmp_path / "r")],
        capsys,
    )  # fmt: skip
    assert status == 0 and "--all-ranks is deprecated: use --ranks all" in err
    d = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert d["ranks"] == "all" and d["total"] == 1 + 5 + 10
    status, _, err = run(
        ["enumerate", "--random", "5", "--p", "2", "--all-ranks", "--ranks", "full", "--out",
         str(tmp_path / "s")],
        capsys,
    )  # fmt: skip
    assert status == 1 and "contradicts" in err


def test_closed_form_option(tmp_path, capsys):
    status, _, _ = run(
        ["enumerate", "--random", "80", "--p", "40", "--closed-form", "--lowest", "3", "--out",
         str(tmp_path / "r")],
        capsys,
    )  # fmt: skip
    assert status == 0
    d = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert d["method"] == "closed form" and d["total"] == sum(d["index_counts"]) > 2**63


@pytest.mark.parametrize(
    "args,match",
    [
        (["--random", "5", "--p", "6"], "p = 6 > q = 5"),
        (["--random", "67", "--p", "33"], "count_landscape"),
        (["--spectrum", "/nonexistent.npy", "--p", "2"], "cannot read --spectrum"),
        (["--data", "/nonexistent.npz", "--p", "2"], "cannot read --data"),
    ],
)
def test_errors_exit_nonzero_with_advice(tmp_path, capsys, args, match):
    status, _, err = run(["enumerate", *args, "--out", str(tmp_path / "r")], capsys)
    assert status == 1 and match in err


def test_bad_npz_and_nonempty_dir(tmp_path, capsys):
    np.savez(tmp_path / "bad.npz", A=np.ones(3))
    status, _, err = run(
        [
            "enumerate",
            "--data",
            str(tmp_path / "bad.npz"),
            "--p",
            "1",
            "--out",
            str(tmp_path / "r"),
        ],
        capsys,
    )
    assert status == 1 and "X=X, Y=Y" in err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    status, _, err = run(
        ["enumerate", "--random", "5", "--p", "2", "--out", str(tmp_path / "full")], capsys
    )
    assert status == 1 and "--resume" in err and "new output directory" in err


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["enumerate", "--random", "5"])  # --p and --out missing
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["enumerate", "--p", "0", "--out", "x"])
    assert e.value.code == 2
    assert "integer >= 1" in capsys.readouterr().err


@pytest.mark.slow
def test_console_script_runs_on_defaults(tmp_path):
    """The installed console script with only --p and --out: the embedded random spectrum."""
    r = subprocess.run(
        [sys.executable, "-m", "fastscape.cli", "enumerate", "--p", "3", "--out",
         str(tmp_path / "r"), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""
    d = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert d["q"] == 28 and d["spectrum"] == fastscape.random_spectrum(28, 0).tolist()


def test_plot_subcommand(tmp_path, capsys, monkeypatch):
    main(["enumerate", "--random", "8", "--p", "4", "--out", str(tmp_path / "r"), "--quiet"])
    status, text, _ = run(["plot", str(tmp_path / "r")], capsys)
    assert status == 0
    paths = text.split()
    assert paths and all(p.endswith(".png") and (tmp_path / "r" / p).exists() for p in paths)
    monkeypatch.setitem(sys.modules, "fastscape.plot", None)  # as if matplotlib were missing
    status, _, err = run(["plot", str(tmp_path / "r")], capsys)
    assert status == 1 and "fastscape-dln[plot]" in err


def test_verify_hessian_agrees_and_can_fail(tmp_path, capsys, monkeypatch):
    out = tmp_path / "v"
    args = ["enumerate", "--random", "7", "--p", "3", "--ranks", "all", "--verify", "hessian"]
    status, text, _ = run([*args, "--out", str(out)], capsys)
    assert status == 0 and "all points agree" in text
    report = json.loads((out / "verify.json").read_text())
    assert report["checked"] == 1 + 7 + 21 + 35 and report["disagreements"] == []
    # a wrong index law must be caught by the Hessians
    import fastscape.verify

    monkeypatch.setattr(fastscape.verify, "morse_index_distinct", lambda q, p, s: sum(s))
    status, _, err = run([*args, "--out", str(tmp_path / "w")], capsys)
    assert status == 1 and "disagree with the closed form" in err
    assert json.loads((tmp_path / "w" / "verify.json").read_text())["disagreements"]


def test_verify_hessian_refuses_large_q(tmp_path, capsys):
    status, _, err = run(
        ["enumerate", "--random", "30", "--p", "15", "--verify", "hessian", "--out",
         str(tmp_path / "x")],
        capsys,
    )  # fmt: skip
    assert status == 1 and "q up to about 16" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_progress_bar_on_a_terminal(tmp_path):
    """stderr on a (pseudo-)terminal: a tqdm bar with rate and ETA; quiet when piped."""
    import os
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fastscape.cli", "enumerate", "--random", "18", "--p", "9",
         "--chunk-size", "2000", "--out", str(tmp_path / "r")],
        stdout=subprocess.DEVNULL, stderr=slave,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0
    text = b"".join(chunks).decode(errors="replace")
    assert "sets/s" in text and "48.6k/48.6k" in text and "<" in text  # rate, total, ETA


def test_closed_form_without_histogram_when_the_dp_is_too_large(tmp_path, capsys):
    status, text, err = run(
        ["enumerate", "--random", "200", "--p", "100", "--closed-form", "--lowest", "2",
         "--bins", "500000", "--out", str(tmp_path / "r")],
        capsys,
    )  # fmt: skip
    assert status == 0 and "histogram is skipped" in err and "DP is too large" in err
    assert "bins=None" not in err and "grid=" not in err  # no library words in the CLI
    d = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert d["loss_histogram"]["counts"] == [] and d["total"] == sum(d["index_counts"])
    assert "(100 positions)" in text  # long index sets are abbreviated in the report


def test_data_file_of_the_wrong_type_is_an_error_not_a_traceback(tmp_path, capsys):
    f = tmp_path / "bad.npz"
    np.savez(f, X=np.array([["a", "b"], ["c", "d"]]), Y=np.ones((2, 2)))
    status, _, err = run(
        ["enumerate", "--data", str(f), "--p", "1", "--out", str(tmp_path / "r")], capsys
    )
    assert status == 1 and "real numbers" in err


def test_misspelt_flags_get_a_did_you_mean(capsys):
    for wrong, right in (("--P", "--p"), ("--outdir", "--out"), ("--all_ranks", "--all-ranks")):
        argv = ["enumerate", "--random", "5", wrong, "2"]
        argv += ["--p", "2"] if wrong != "--P" else []
        argv += ["--out", "x"] if wrong != "--outdir" else []
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
        assert f"{wrong}: did you mean {right}?" in capsys.readouterr().err


def test_messages_use_the_flags_not_the_library_names(tmp_path, capsys):
    out = str(tmp_path / "r")
    assert run(["enumerate", "--random", "9", "--p", "4", "--out", out, "--quiet"], capsys)[0] == 0
    status, _, err = run(["enumerate", "--random", "9", "--p", "4", "--out", out], capsys)
    assert status == 1 and "--resume" in err and "resume=True" not in err
    # a refused resume says in words what differs, with both values
    status, _, err = run(
        ["enumerate", "--random", "9", "--p", "3", "--out", out, "--resume", "--ranks", "all",
         "--lowest", "4"],
        capsys,
    )  # fmt: skip
    assert status == 1
    assert "hidden width p: 4 there, 3 now" in err
    assert "rank mode: full-rank there, all-ranks now" in err
    assert "(--lowest): 10 there, 4 now" in err
    for key in ("hist_edges_sha256", "n_chunks", "n_lowest", "all_ranks"):
        assert key not in err


def test_header_rate_and_reuse_are_reported_plainly(tmp_path, capsys):
    out = str(tmp_path / "r")
    status, text, _ = run(["enumerate", "--random", "10", "--p", "5", "--out", out], capsys)
    header = text.splitlines()[0]
    assert status == 0 and header.count("q=") == 1 and "seed 0" in header
    assert "0.0 M sets/s" not in text and "sets/s" in text
    status, text, err = run(
        ["enumerate", "--random", "10", "--p", "5", "--out", out, "--resume"], capsys
    )
    assert status == 0 and "a finished run, all 1 chunk files reused" in text
    assert "reusing 252 of 252 index sets" in err


def test_progress_lines_without_a_terminal(tmp_path, monkeypatch, capsys):
    """Piped stderr: plain lines with done/total, rate and time left, and a forecast."""
    from fastscape import cli_report

    monkeypatch.setattr(cli_report.Progress, "EVERY", 0.0)
    clock = iter(range(0, 10**6, 40))  # 40 s between calls: a run of minutes
    monkeypatch.setattr(cli_report.time, "perf_counter", lambda: float(next(clock)))
    p = cli_report.Progress(sys.stderr)
    for done in (0, 100, 200, 300):
        p(done, 1000)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("fastscape: this run will take about 6 min (at 2.5 sets/s)")
    assert "200 / 1,000 sets (20.0%), 2.5 sets/s, about 5 min left" in err[2]


def test_noise_floor_note(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 9))
    B = rng.standard_normal((9, 9))
    B[:, 2:] *= 1e-3  # seven directions of output far below the rest
    Y = X @ B
    np.savez(tmp_path / "xy.npz", X=X, Y=Y)
    status, text, _ = run(
        ["enumerate", "--data", str(tmp_path / "xy.npz"), "--p", "3", "--out",
         str(tmp_path / "r")],
        capsys,
    )  # fmt: skip
    assert status == 0 and "note: 7 of the 9 eigenvalues" in text and "noise floor" in text
    status, text, _ = run(
        ["enumerate", "--random", "9", "--p", "3", "--out", str(tmp_path / "r2")], capsys
    )
    assert status == 0 and "noise floor" not in text


def test_plot_without_matplotlib_names_the_extra(tmp_path, capsys, monkeypatch):
    import importlib.util

    main(["enumerate", "--random", "6", "--p", "3", "--out", str(tmp_path / "r"), "--quiet"])
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name)
    )
    status, _, err = run(["plot", str(tmp_path / "r")], capsys)
    assert status == 1 and "pip install 'fastscape-dln[plot]'" in err


def test_verbose_reports_cpu_rate_and_the_path_of_every_block(tmp_path, capsys):
    from fastscape.engine import SEARCH_MIN, block_paths

    status, text, _ = run(
        ["enumerate", "--random", "34", "--p", "3", "--ranks", "all", "--out",
         str(tmp_path / "r"), "--verbose"],
        capsys,
    )  # fmt: skip
    assert status == 0 and "sets/s effective" in text and "per CPU-second" in text
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("k=")]
    assert [line.split(":")[0] for line in lines] == ["k=0", "k=1", "k=2", "k=3"]
    blocks = block_paths(34, range(4))
    assert sum(b.sets for b in blocks) == sum(math.comb(34, k) for k in range(4))
    # q = 34: split 16; k = 3 leaves a = 13..16 low positions, tables C(16, a)
    assert {b.a: b.path for b in blocks if b.k == 3} == {
        a: ("search" if math.comb(16, a) >= SEARCH_MIN else "walk") for a in range(13, 17)
    }
    assert "k=3: search a=13..14" in text and "walk a=15..16" in text
