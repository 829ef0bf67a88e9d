"""Numba's disk cache must never hand out machine code built from other kernel sources."""

from __future__ import annotations

import subprocess
import sys

import numba
from fastscape.kernels import _jit
from fastscape.kernels import linalg as kl

# Runs in a fresh process: optionally pretend the kernel sources differ, call one
# cached kernel, and report whether it came from the disk cache.
_PROBE = """
import sys
import numpy as np
from fastscape.kernels import _jit
from fastscape.kernels import linalg
assert not linalg.offsets_of.signatures  # nothing compiled or loaded yet
if sys.argv[1] == "other":
    _jit.SOURCE_HASH = "0" * 64  # as if another version of kernels/ were running
    linalg.offsets_of._cache = _jit.KernelCache(linalg.offsets_of.py_func)
linalg.offsets_of(np.array([2, 3, 4], dtype=np.int64))
print(linalg.offsets_of.stats.cache_hits.get(linalg.offsets_of.signatures[0], 0))
"""


def _cache_hits(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip().splitlines()[-1])


def test_every_kernel_uses_the_source_hashed_cache():
    dispatchers = [d for d in _jit.REGISTRY if isinstance(d, numba.core.dispatcher.Dispatcher)]
    assert dispatchers, "no compiled kernels registered"
    for d in dispatchers:
        assert isinstance(d._cache, _jit.KernelCache), d
        assert d._cache._cache_file._source_stamp[1] == _jit.SOURCE_HASH


def test_cache_written_by_other_sources_is_not_loaded():
    kl.offsets_of(__import__("numpy").array([1, 1], dtype="int64"))  # make sure it is cached
    assert _cache_hits("same") == 1  # the cache works across processes ...
    assert _cache_hits("other") == 0  # ... but not for code built from other sources
    assert _cache_hits("same") == 0  # and the other version's entry replaced ours
    assert _cache_hits("same") == 1


def test_an_index_entry_pointing_at_another_signatures_code_is_not_loaded(tmp_path):
    """The race of two processes saving at once, replayed: index says k2 -> k1's file."""

    cf = _jit.KeyedCacheFile(str(tmp_path), "kern", ("stamp", _jit.SOURCE_HASH))
    cf.save("k1", b"code for k1")
    cf.save("k2", b"code for k2")
    assert cf.load("k1") == b"code for k1" and cf.load("k2") == b"code for k2"
    index = cf._load_index()
    index["k2"] = index["k1"]  # what an interleaved save by another process leaves
    cf._save_index(index)
    assert cf.load("k2") is None  # recompiled, never the wrong machine code
    assert cf.load("k1") == b"code for k1"
    # entries written by plain Numba (no key inside) are not trusted either
    with open(tmp_path / index["k1"], "wb") as f:
        f.write(cf._dump(b"bare"))
    assert cf.load("k1") is None
    assert (tmp_path / "kern.nbi.lock").exists()
