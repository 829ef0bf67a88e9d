"""The one decorator factory for every Numba kernel in fastscape.

Every option lives here: ``cache=True`` (compiled code is kept on disk), an
explicit fastmath flag set that never contains ``nnan`` or ``ninf`` (NaN and inf
must stay visible), ``error_model="numpy"`` (no Python exception checks in hot
loops) and ``nogil=True`` (kernels can run on a thread pool).

``tests/test_jit_factory.py`` fails if any kernel is compiled some other way.

Numba's on-disk cache validates a kernel by a stamp of the file it is defined in,
not of the kernels it calls from other files: after an edit (or a ``git pull`` into
an editable install) a cached caller could keep stale machine code of a changed
callee, which can crash. Every kernel therefore uses :class:`KernelCache`, whose
stamp also carries :data:`SOURCE_HASH`, a hash of every kernel source file taken
when this module is imported: an entry written by a process that runs other kernel
code is invalid for this one and is recompiled, never loaded. Its files are also
safe when several processes compile at once (:class:`KeyedCacheFile`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import numba
from numba.core.caching import FunctionCache, IndexDataCacheFile

_HERE = Path(__file__).resolve().parent


def _source_hash() -> str:
    h = hashlib.sha256(numba.__version__.encode())
    for f in sorted(_HERE.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


#: Hash of all kernel sources (and the Numba version) this process compiles from.
SOURCE_HASH = _source_hash()


class KeyedCacheFile(IndexDataCacheFile):
    """Numba's index + data files, safe when several processes compile at once.

    Numba's ``save`` reads the index, picks the first free data-file number and
    writes both, with no lock: two processes compiling different overloads of one
    kernel at the same time can pick the same number, and the index then maps one
    signature to the other's machine code, which crashes when loaded (seen here with
    tests and scripts running side by side). Here each data file also holds the key
    it was saved under and ``load`` returns nothing (so Numba recompiles) on a
    mismatch, and ``save`` holds an exclusive lock file around the read-pick-write
    sequence where ``fcntl`` exists (POSIX).
    """

    def save(self, key, data):
        with self._locked():
            super().save(key, (key, data))

    def load(self, key):
        entry = super().load(key)
        if entry is None or not isinstance(entry, tuple) or len(entry) != 2:
            return None
        saved_key, data = entry
        return data if saved_key == key else None

    @contextlib.contextmanager
    def _locked(self):
        try:
            import fcntl
        except ImportError:  # not POSIX: the key check alone keeps loads safe
            yield
            return
        os.makedirs(self._cache_path, exist_ok=True)
        with open(self._index_path + ".lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


class KernelCache(FunctionCache):
    """Numba's per-function cache, with :data:`SOURCE_HASH` in its source stamp."""

    def __init__(self, py_func):
        super().__init__(py_func)
        self._cache_file = KeyedCacheFile(
            cache_path=self._cache_path,
            filename_base=self._impl.filename_base,
            source_stamp=(self._impl.locator.get_source_stamp(), SOURCE_HASH),
        )


#: fastmath flags: reassociation and contraction for speed, never nnan/ninf.
FASTMATH = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})

#: Every dispatcher made by :func:`jit`, so a test can check none bypassed it.
REGISTRY: list = []


def jit(*, parallel: bool = False, fastmath: bool = True):
    """Return a decorator that compiles a function with fastscape's Numba options.

    Parameters
    ----------
    parallel : bool
        Enable ``prange`` parallel loops.
    fastmath : bool
        Use :data:`FASTMATH` (True) or IEEE-strict arithmetic (False). Kernels whose
        result must not depend on summation order (exact aggregates) pass False.
    """
    options = dict(
        nopython=True,
        nogil=True,
        cache=True,
        parallel=parallel,
        fastmath=set(FASTMATH) if fastmath else False,
        error_model="numpy",
        boundscheck=False,
    )

    def decorate(func):
        dispatcher = numba.jit(**options)(func)
        if isinstance(dispatcher, numba.core.dispatcher.Dispatcher):  # not NUMBA_DISABLE_JIT
            dispatcher._cache = KernelCache(dispatcher.py_func)
        REGISTRY.append(dispatcher)
        return dispatcher

    return decorate
