"""Keep OpenBLAS single-threaded while our own threads call LAPACK.

Batch verification runs one small eigenvalue problem per thread. If OpenBLAS also
spawns its threads for each call, the two levels fight for the cores and a small
``eigvalsh`` becomes several times slower. This context
manager (a minimal form of what ``threadpoolctl`` does, which is not a dependency)
finds the OpenBLAS builds loaded in the process (numpy's and scipy's, which Numba's
LAPACK calls use) and sets their thread count to 1, restoring it afterwards. It is
process-wide for its duration; libraries without these symbols are left alone.
The libraries are looked up once per process (numpy and scipy, whose OpenBLAS builds
fastscape's LAPACK calls use, are loaded when fastscape is imported).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import threading

_SUFFIXES = ("", "64_")
_PREFIXES = ("openblas", "scipy_openblas")


@functools.cache
def _handles():
    paths = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.rsplit(None, 1)[-1]
                if "openblas" in path.lower() and ".so" in path:
                    paths.add(path)
    except OSError:
        return ()
    out = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for pre in _PREFIXES:
            for suf in _SUFFIXES:
                get = getattr(lib, f"{pre}_get_num_threads{suf}", None)
                put = getattr(lib, f"{pre}_set_num_threads{suf}", None)
                if get is not None and put is not None:
                    get.restype = ctypes.c_int
                    put.argtypes = [ctypes.c_int]
                    out.append((get, put))
    return tuple(out)


_LOCK = threading.Lock()
_DEPTH = 0  # blocks open now, in any thread
_SAVED: list = []  # thread counts before the first of them opened


@contextlib.contextmanager
def single_threaded_blas():
    """Set every loaded OpenBLAS to one thread inside the block.

    Blocks may overlap (nested, or open in several threads at once): the counts are
    saved when the first opens and restored when the last closes, so overlapping
    blocks never leave OpenBLAS at one thread afterwards.
    """
    global _DEPTH, _SAVED
    handles = _handles()
    with _LOCK:
        if _DEPTH == 0:
            _SAVED = [get() for get, _ in handles]
            for _, put in handles:
                put(1)
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                for (_, put), n in zip(handles, _SAVED, strict=True):
                    put(max(int(n), 1))
