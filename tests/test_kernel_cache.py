"""Numba's disk cache must never hand out the wrong machine code, across processes.

The cross-process tests start every entry point in its own process on one shared,
initially empty cache folder (FASTSCAPE_CACHE_DIR), in order, reversed and again, and
require exit 0 and output identical to a fresh-cache run. Others damage cache files
and check that they are recompiled, never loaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numba
import pytest
from fastscape.kernels import _jit
from fastscape.kernels import linalg as kl

HERE = Path(__file__).resolve().parent
PROBE = HERE / "cache_probe.py"
sys.path.insert(0, str(HERE))
import cache_probe  # noqa: E402

NAMES = [f.__name__ for f in cache_probe.ENTRY_POINTS]


def _run(cache: Path, *names: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, FASTSCAPE_CACHE_DIR=str(cache))
    env.pop("NUMBA_CACHE_DIR", None)
    r = subprocess.run(
        [sys.executable, str(PROBE), *names], capture_output=True, text=True, env=env,
        timeout=600,
    )  # fmt: skip
    if check:
        assert r.returncode == 0, f"{names} exited {r.returncode} (negative: a signal)\n{r.stderr}"
    return r


def _results(text: str) -> dict:
    return dict(line.split(": ", 1) for line in text.strip().splitlines())


# One simple kernel, in a fresh process: report whether it came from the disk cache.
_HITS = """
import sys
import numpy as np
from fastscape.kernels import _jit
from fastscape.kernels import linalg
assert not linalg.offsets_of.signatures  # nothing compiled or loaded yet
if sys.argv[1] == "other":  # as if another version of kernels/linalg.py were running
    _jit.SOURCE_HASHES["linalg"] = "0" * 64
    tag = linalg.offsets_of._cache._options_tag
    linalg.offsets_of._cache = _jit.KernelCache(linalg.offsets_of.py_func, tag)
print(linalg.offsets_of(np.array([2, 3, 4], dtype=np.int64)).tolist())
print(linalg.offsets_of.stats.cache_hits.get(linalg.offsets_of.signatures[0], 0))
"""


def _cache_hits(cache: Path, mode: str = "same") -> int:
    env = dict(os.environ, FASTSCAPE_CACHE_DIR=str(cache))
    out = subprocess.run(
        [sys.executable, "-c", _HITS, mode], capture_output=True, text=True, check=True, env=env
    )
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "[0, 6, 18]"  # the kernel's answer is right whatever the cache held
    return int(lines[-1])


def test_every_kernel_uses_the_keyed_cache_outside_the_package():
    dispatchers = [d for d in _jit.REGISTRY if isinstance(d, numba.core.dispatcher.Dispatcher)]
    assert dispatchers, "no compiled kernels registered"
    package = Path(kl.__file__).resolve().parent
    for d in dispatchers:
        assert isinstance(d._cache, _jit.KernelCache), d
        stem = Path(d.py_func.__code__.co_filename).stem
        assert d._cache._cache_file._source_stamp == _jit.SOURCE_HASHES[stem]
        assert d._cache._options_tag  # the jit options are part of every entry
        assert package not in Path(d._cache.cache_path).resolve().parents


def test_parallel_and_serial_builds_have_distinct_entries():
    from fastscape.kernels import derivatives as kd

    a, b = kd.hessian._cache, kd.hessian_serial._cache
    assert a._options_tag != b._options_tag
    assert a._cache_file._index_name != b._cache_file._index_name


def test_one_function_cannot_be_compiled_twice():
    def kernel(x):
        return x + 1

    _jit.jit()(kernel)
    with pytest.raises(RuntimeError, match="compiled twice"):
        _jit.jit(parallel=True)(kernel)


def test_source_stamps_follow_kernel_imports():
    # inertia imports derivatives, which imports linalg: an edit of linalg.py changes
    # all three stamps, an edit of enumerate.py none of them
    assert {"derivatives", "linalg", "lapack"} <= _jit._kernel_imports(
        Path(kl.__file__).parent / "inertia.py"
    ) | _jit._kernel_imports(Path(kl.__file__).parent / "derivatives.py")
    assert len(set(_jit.SOURCE_HASHES.values())) > 1  # per file, not one hash for all


@pytest.mark.slow
def test_cache_written_by_other_sources_is_not_loaded(tmp_path):
    assert _cache_hits(tmp_path) == 0  # empty cache: compiled ...
    assert _cache_hits(tmp_path) == 1  # ... then loaded across processes
    assert _cache_hits(tmp_path, "other") == 0  # not for code built from other sources
    assert _cache_hits(tmp_path) == 0  # and the other version's entry replaced ours
    assert _cache_hits(tmp_path) == 1


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncate", "garble", "foreign", "index"])
def test_damaged_cache_files_are_recompiled(tmp_path, damage):
    assert _cache_hits(tmp_path) == 0
    data = sorted(tmp_path.rglob("linalg.offsets_of-*.nbc"))
    index = sorted(tmp_path.rglob("linalg.offsets_of-*.nbi"))
    assert len(data) == 1 and len(index) == 1
    raw = data[0].read_bytes()
    if damage == "truncate":
        data[0].write_bytes(raw[: len(raw) // 2])
    elif damage == "garble":  # same length, one flipped byte in the machine code
        i = len(raw) * 3 // 4
        data[0].write_bytes(raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1 :])
    elif damage == "foreign":  # a file plain Numba could have written
        import pickle

        data[0].write_bytes(pickle.dumps(("something", "else")))
    else:
        index[0].write_bytes(index[0].read_bytes()[:10])
    assert _cache_hits(tmp_path) == 0  # recompiled, the right answer (checked inside)
    assert _cache_hits(tmp_path) == 1  # and the rewritten entry loads again


def test_an_index_entry_pointing_at_another_signatures_code_is_not_loaded(tmp_path):
    """The race of two processes saving at once, replayed: index says k2 -> k1's file."""

    cf = _jit.KeyedCacheFile(str(tmp_path), "kern", "stamp")
    cf.save("k1", b"code for k1")
    cf.save("k2", b"code for k2")
    assert cf.load("k1") == b"code for k1" and cf.load("k2") == b"code for k2"
    index = cf._load_index()
    index["k2"] = index["k1"]  # what an interleaved save by another process leaves
    cf._save_index(index)
    assert cf.load("k2") is None  # recompiled, never the wrong machine code
    assert cf.load("k1") == b"code for k1"
    # entries written by plain Numba (no key or digest inside) are not trusted either
    with open(tmp_path / index["k1"], "wb") as f:
        f.write(cf._dump(("k1", b"bare")))
    assert cf.load("k1") is None
    assert (tmp_path / "kern.nbi.lock").exists()


def test_cache_folder_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FASTSCAPE_CACHE_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "b"))
    assert _jit.cache_root() == tmp_path / "a"
    monkeypatch.delenv("FASTSCAPE_CACHE_DIR")
    assert _jit.cache_root() == tmp_path / "b"
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert _jit.cache_root() == tmp_path / "xdg" / "fastscape"


@pytest.mark.slow
def test_cache_command_shows_and_clears(monkeypatch, tmp_path, capsys):
    from fastscape.cli import main

    monkeypatch.setenv("FASTSCAPE_CACHE_DIR", str(tmp_path))
    _cache_hits(tmp_path)
    (tmp_path / "keep.txt").write_text("not a kernel")
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path) in out and "kernels" in out and " 0 files" not in out
    assert main(["cache", "--clear"]) == 0
    assert "removed" in capsys.readouterr().out
    assert not list(tmp_path.rglob("*.nb*")) and (tmp_path / "keep.txt").exists()


@pytest.mark.slow
def test_entry_points_in_separate_processes_on_one_shared_cache(tmp_path):
    """Every entry point one per process on one empty cache: in order, reversed, again.

    The reference is one process on a cache of its own, empty at its start, so each
    of its results comes from freshly compiled code; it runs alongside the sequence.
    """
    env = dict(os.environ, FASTSCAPE_CACHE_DIR=str(tmp_path / "fresh"))
    env.pop("NUMBA_CACHE_DIR", None)
    fresh = subprocess.Popen(
        [sys.executable, str(PROBE), *NAMES], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip
    shared = tmp_path / "shared"
    seen = []
    for order in (NAMES, NAMES[::-1], NAMES):
        for name in order:
            seen.append(_results(_run(shared, name).stdout))
    out, err = fresh.communicate(timeout=900)
    assert fresh.returncode == 0, err
    reference = _results(out)
    assert set(reference) == set(NAMES)
    for result in seen:
        ((name, text),) = result.items()
        assert text == reference[name], name


def test_np_int_and_readonly_arguments_compile_one_variant():
    """Arguments are normalised at the boundary: one build per real variant."""
    from fastscape.kernels import inertia as ki

    import fastscape

    m, ws = cache_probe._problem()
    fastscape.critical_points(m, [5, 2, 4], threads=2)
    fastscape.critical_points(m, [5, 2, 4], threads=1)
    fastscape.classify(ws, m)
    builds = {str(s) for s in ki.inertia_range.signatures}
    assert len(builds) == 1, builds
    assert not any("uint64" in s for s in builds)


@pytest.mark.slow
def test_a_long_compile_is_announced_on_stderr(tmp_path):
    env = dict(os.environ, FASTSCAPE_CACHE_DIR=str(tmp_path), FASTSCAPE_COMPILE_NOTICE="0.05")
    code = "import numpy as np, fastscape.kernels.linalg as l; l.offsets_of(np.ones(3, 'int64'))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0
    assert "compiling kernels" in r.stderr and str(tmp_path) in r.stderr
    assert "compiled in" in r.stderr
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stderr == ""  # loaded from the cache: nothing to say
