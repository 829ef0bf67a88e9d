"""Crash safety: SIGKILL at random moments, --resume, refusals, corruption, lock."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

import fastscape
from fastscape.cli import main
from fastscape.runstore import RunDirectoryError, RunStore

Q, P, CHUNK = 20, 10, 800  # 184,756 sets in 231 chunk files: a run lasts about a second
ARGS = ["--random", str(Q), "--seed", "7", "--p", str(P), "--chunk-size", str(CHUNK),
        "--threshold", "3.0", "--lowest", "12", "--highest", "5", "--bins", "40"]  # fmt: skip


def stripped(path):
    d = json.loads((path / "summary.json").read_text())
    d.pop("timing")
    return d


@pytest.fixture(scope="module")
def reference():
    s = fastscape.enumerate_landscape(
        fastscape.random_spectrum(Q, 7), P, chunk_size=CHUNK, threshold=3.0, n_lowest=12,
        n_highest=5, bins=40,
    )  # fmt: skip
    d = s.to_json()
    d.pop("timing")
    return d


def start(out, *extra):
    cmd = [sys.executable, "-m", "fastscape.cli", "enumerate", *ARGS, "--out", str(out), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_when(proc, out, n_chunks, deadline=30.0):
    """SIGKILL proc once at least n_chunks chunk files exist (0: right away)."""
    t0 = time.monotonic()
    while n_chunks and time.monotonic() - t0 < deadline and proc.poll() is None:
        d = out / "chunks"
        if d.exists() and sum(1 for _ in d.glob("c*.bin")) >= n_chunks:
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()


def n_chunk_files(out):
    return len(list((out / "chunks").glob("c*.bin"))) if (out / "chunks").exists() else 0


@pytest.mark.slow
def test_sigkill_then_resume_gives_identical_summary(tmp_path, reference):
    rng = random.Random(1234)
    out = tmp_path / "run0"
    proc = start(out)
    kill_when(proc, out, 0)  # very early: maybe before the directory exists
    killed_mid_run, rounds = 0, 0
    while killed_mid_run < 2 and rounds < 8:  # kills after a random number of chunks
        rounds += 1
        proc = start(out, "--resume")
        kill_when(proc, out, n_chunk_files(out) + rng.randint(1, 40))
        if proc.returncode == -signal.SIGKILL:
            killed_mid_run += 1
        else:  # it finished before the kill landed: check it, go on in a fresh directory
            assert proc.returncode == 0 and stripped(out) == reference
            out = tmp_path / f"run{rounds}"
    assert killed_mid_run >= 2  # the kills really interrupted running enumerations
    proc = start(out, "--resume")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert stripped(out) == reference
    # resuming a finished run recomputes nothing and changes nothing
    assert main(["enumerate", *ARGS, "--out", str(out), "--resume", "--quiet"]) == 0
    assert stripped(out) == reference
    assert json.loads((out / "summary.json").read_text())["timing"]["sets_this_run"] == 0


def test_resume_refuses_other_inputs(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["enumerate", "--random", "10", "--p", "5", "--out", str(out), "--quiet"]) == 0
    for other in (
        ["--random", "10", "--seed", "1", "--p", "5"],  # another spectrum
        ["--random", "10", "--p", "4"],  # another p
        ["--random", "10", "--p", "5", "--ranks", "all"],  # other ranks
        ["--random", "10", "--p", "5", "--chunk-size", "7"],  # another chunk plan
    ):
        assert main(["enumerate", *other, "--out", str(out), "--resume", "--quiet"]) == 1
        err = capsys.readouterr().err
        assert "cannot resume" in err and "new output directory" in err


def test_corrupted_chunk_is_refused_then_recomputed(tmp_path, capsys, reference):
    out = tmp_path / "run"
    assert main(["enumerate", *ARGS, "--out", str(out), "--quiet"]) == 0
    victim = sorted((out / "chunks").glob("c*.bin"))[17]
    data = bytearray(victim.read_bytes())
    data[-100] ^= 0x01  # one flipped bit in the payload
    victim.write_bytes(bytes(data))
    assert main(["enumerate", *ARGS, "--out", str(out), "--resume", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "corrupted" in err and victim.name in err and "delete it" in err
    victim.unlink()
    assert main(["enumerate", *ARGS, "--out", str(out), "--resume", "--quiet"]) == 0
    assert stripped(out) == reference


def test_lock_prevents_two_runs(tmp_path, capsys):
    out = tmp_path / "run"
    manifest = {"q": 1}
    with RunStore(out, manifest):
        status = main(["enumerate", "--random", "6", "--p", "3", "--out", str(out), "--resume"])
        assert status == 1
        assert "locked by another running fastscape process" in capsys.readouterr().err
        with pytest.raises(RunDirectoryError, match=f"pid {os.getpid()}"):
            RunStore(out, manifest, resume=True).__enter__()
    with RunStore(out, manifest, resume=True):  # released on exit
        pass


def test_interrupt_keeps_a_partial_summary(tmp_path, reference):
    """Ctrl-C (KeyboardInterrupt) mid-run: a consistent partial summary, then --resume."""
    out = tmp_path / "run"
    calls = []

    def progress(done, total):
        calls.append(done)
        if len(calls) == 2:  # after one batch (of up to 64 chunks per thread)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fastscape.enumerate_landscape(
            fastscape.random_spectrum(Q, 7), P, chunk_size=CHUNK, threshold=3.0, n_lowest=12,
            n_highest=5, bins=40, out=out, progress=progress,
        )  # fmt: skip
    partial = json.loads((out / "summary.json").read_text())
    assert partial["complete"] is False and 0 < partial["counted"] < partial["total"]
    assert sum(partial["index_counts"]) == partial["counted"]
    assert partial["chunking"]["chunks_done"] == len(list((out / "chunks").glob("c*.bin")))
    assert main(["enumerate", *ARGS, "--out", str(out), "--resume", "--quiet"]) == 0
    assert stripped(out) == reference


def test_too_many_threads_is_refused_before_the_run_directory_is_made(tmp_path):
    import numba

    out = tmp_path / "run"
    too_many = numba.config.NUMBA_NUM_THREADS + 1
    with pytest.raises(ValueError, match="NUMBA_NUM_THREADS"):
        fastscape.enumerate_landscape([3.0, 2.0, 1.0], 2, threads=too_many, out=out)
    assert not out.exists()
    fastscape.enumerate_landscape([3.0, 2.0, 1.0], 2, out=out)  # the same directory works
