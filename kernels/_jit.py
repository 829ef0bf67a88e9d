"""The one decorator factory for every Numba kernel in fastscape, and its disk cache.

Every option lives here: ``cache=True`` (compiled code is kept on disk), an
explicit fastmath flag set that never contains ``nnan`` or ``ninf`` (NaN and inf
must stay visible), ``error_model="numpy"`` (no Python exception checks in hot
loops) and ``nogil=True`` (kernels can run on a thread pool).

``tests/test_jit_factory.py`` fails if any kernel is compiled some other way.

The cache (:class:`KernelCache`) differs from Numba's stock one in four ways, each
against a way the stock cache can hand out the wrong machine code:

1. **Options are part of the key.** Numba names a cache entry after the function's
   module, qualified name and line, and keys it by signature: two dispatchers built
   from one Python function with different options (say parallel and serial) would
   share an entry, and one would load the other's code (a segfault seen in practice).
   Here the file name and the key also carry a digest of the jit options, and
   :func:`jit` refuses to build a second dispatcher from a function it has seen.
2. **Sources are stamped per file, with their kernel imports.** Numba stamps an entry
   with the file the kernel is defined in, not the files of the kernels it calls: a
   cached caller could keep stale code of an edited callee. Here each file's stamp is a
   hash of that file and of every kernel file it imports, directly or not
   (:data:`SOURCE_HASHES`), and of the Numba version. Editing one kernel file
   recompiles it and its importers only.
3. **Files are checked before use.** Each data file holds the key it was saved under
   and a SHA-256 digest of its payload; a truncated, garbled or foreign file (or a
   garbled index) reads as missing, so Numba recompiles and overwrites it. ``save``
   holds an exclusive lock around Numba's read-pick-write of the index where ``fcntl``
   exists (two processes saving at once once left the index mapping one signature to
   another's file).
4. **The cache lives outside the installed package**, in :func:`cache_root`: the
   ``FASTSCAPE_CACHE_DIR`` environment variable, else ``NUMBA_CACHE_DIR``, else the
   platform's per-user cache folder (``$XDG_CACHE_HOME/fastscape`` or
   ``~/.cache/fastscape`` on Linux, ``~/Library/Caches/fastscape`` on macOS,
   ``%LOCALAPPDATA%\\fastscape\\Cache`` on Windows). Uninstalling or reinstalling the
   package leaves nothing behind in site-packages. ``fastscape cache`` shows and
   clears it.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
import threading
import time
from pathlib import Path

import numba
import numba.core.event
from numba.core.caching import (
    CompileResultCacheImpl,
    FunctionCache,
    IndexDataCacheFile,
    _CacheLocator,
)

_HERE = Path(__file__).resolve().parent

#: Bumped when the layout of the cache files written here changes.
CACHE_FORMAT = 2


def _kernel_imports(path: Path) -> set[str]:
    """Names of the sibling kernel modules ``path`` imports (``from .x import`` forms)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(a.name for a in node.names)
    return {n for n in found if (_HERE / f"{n}.py").is_file()}


def _source_hashes() -> dict[str, str]:
    files = {f.stem: f for f in sorted(_HERE.glob("*.py"))}
    deps = {name: _kernel_imports(f) for name, f in files.items()}
    raw = {name: hashlib.sha256(f.read_bytes()).hexdigest() for name, f in files.items()}
    out = {}
    for name in files:
        seen, todo = set(), [name, "_jit"]
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(deps.get(n, ()))
        h = hashlib.sha256(f"{numba.__version__}|{CACHE_FORMAT}".encode())
        for n in sorted(seen):
            h.update(f"{n}:{raw[n]}\n".encode())
        out[name] = h.hexdigest()
    return out


#: Per kernel file (module stem): a hash of that file, the kernel files it imports
#: (transitively), this file and the Numba version.
SOURCE_HASHES = _source_hashes()


def cache_root() -> Path:
    """The folder holding fastscape's compiled kernels (see the module docstring)."""
    for var in ("FASTSCAPE_CACHE_DIR", "NUMBA_CACHE_DIR"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "fastscape" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "fastscape"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fastscape"


def _fallback_root() -> Path:
    """Where the cache goes when :func:`cache_root` is not writable."""
    user = getattr(os, "getuid", lambda: "user")()
    return Path(tempfile.gettempdir()) / f"fastscape-cache-{user}"


def _cache_files(root: Path):
    if not root.is_dir():
        return []
    return [p for p in root.rglob("*") if p.is_file() and p.suffix in (".nbi", ".nbc", ".lock")]


def cache_info() -> dict:
    """Where the kernel cache is, and how many files and bytes it holds."""
    root = cache_root()
    files = _cache_files(root)
    return {
        "path": str(root),
        "files": len(files),
        "bytes": sum(f.stat().st_size for f in files),
        "kernels": len({f.name.split(".py")[0] for f in files if f.suffix == ".nbi"}),
    }


def clear_cache() -> int:
    """Delete every compiled kernel in the cache folder; return the number of files removed.

    Only Numba's cache files (``.nbi``, ``.nbc`` and their locks) are removed, and the
    folders left empty, so pointing the cache at a folder that holds other files is safe.
    """
    root = cache_root()
    files = _cache_files(root)
    for f in files:
        with contextlib.suppress(OSError):
            f.unlink()
    if root.is_dir():
        for d in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
            with contextlib.suppress(OSError):
                d.rmdir()
    return len(files)


class KernelLocator(_CacheLocator):
    """Numba cache locator that puts entries under :func:`cache_root`, per source folder."""

    def __init__(self, py_func, py_file, root: Path):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = str(root / self.get_suitable_cache_subpath(py_file))
        self._stamp = SOURCE_HASHES.get(Path(py_file).stem, "")

    def get_cache_path(self):
        return self._cache_path

    def get_source_stamp(self):
        return self._stamp

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        for root in (cache_root(), _fallback_root()):
            self = cls(py_func, py_file, root)
            try:
                self.ensure_cache_path()
            except OSError:
                continue
            return self
        return None


class _KernelCacheImpl(CompileResultCacheImpl):
    _locator_classes = [KernelLocator]


_MAGIC = b"fastscape-kernel-cache\0"


class KeyedCacheFile(IndexDataCacheFile):
    """Numba's index + data files, checked on load and safe when processes compile at once.

    Each data file holds the key it was saved under and a SHA-256 digest of its
    payload; ``load`` returns nothing (so Numba recompiles) for a missing, truncated,
    garbled or foreign file or a key mismatch, and a garbled index reads as empty.
    ``save`` holds an exclusive lock file around the read-pick-write sequence where
    ``fcntl`` exists (POSIX).
    """

    def save(self, key, data):
        with self._locked():
            super().save(key, (key, data))

    def load(self, key):
        try:
            entry = super().load(key)
        except Exception:  # garbled index or data: recompile, never load
            return None
        if not isinstance(entry, tuple) or len(entry) != 2:
            return None
        saved_key, data = entry
        return data if saved_key == key else None

    def _load_index(self):
        try:
            return super()._load_index()
        except Exception:  # truncated or garbled index: as if empty
            return {}

    def _save_data(self, name, data):
        payload = self._dump(data)
        path = self._data_path(name)
        with self._open_for_write(path) as f:
            f.write(_MAGIC + hashlib.sha256(payload).digest() + payload)

    def _load_data(self, name):
        with open(self._data_path(name), "rb") as f:
            raw = f.read()
        n = len(_MAGIC)
        if not raw.startswith(_MAGIC) or len(raw) < n + 32:
            raise ValueError("not a fastscape cache file")
        digest, payload = raw[n : n + 32], raw[n + 32 :]
        if hashlib.sha256(payload).digest() != digest:
            raise ValueError("cache file damaged")
        return pickle.loads(payload)

    @contextlib.contextmanager
    def _locked(self):
        try:
            import fcntl
        except ImportError:  # not POSIX: the key and digest checks alone keep loads safe
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
    """Numba's per-function cache, keyed by the jit options too (see the module docstring)."""

    _impl_class = _KernelCacheImpl

    def __init__(self, py_func, options_tag: str = ""):
        super().__init__(py_func)
        self._options_tag = options_tag
        base = self._impl.filename_base
        if options_tag:
            base = f"{base}-{options_tag}"
        self._cache_file = KeyedCacheFile(
            cache_path=self._cache_path,
            filename_base=base,
            source_stamp=self._impl.locator.get_source_stamp(),
        )

    def _index_key(self, sig, codegen):
        return (super()._index_key(sig, codegen), self._options_tag)


class CompileNotice(numba.core.event.Listener):
    """Says on stderr when compiling kernels takes longer than :attr:`after` seconds.

    First calls compile (tens of seconds for the larger entry points, once: the code is
    cached on disk afterwards); without a word a user cannot tell that from a hang. The
    notice is printed once a compile has run 2 seconds, and when it ends. Set
    ``FASTSCAPE_COMPILE_NOTICE=0`` to silence it (a positive number sets the delay).
    """

    def __init__(self):
        self.depth = 0
        self.timer = None
        self.started = 0.0
        self.shown = False
        self.lock = threading.Lock()

    @staticmethod
    def delay() -> float:
        """Seconds before the notice; 0 when it is switched off."""
        text = os.environ.get("FASTSCAPE_COMPILE_NOTICE", "2")
        try:
            return max(0.0, float(text))
        except ValueError:
            return 0.0 if text.lower() in ("off", "false", "no") else 2.0

    def on_start(self, event):
        with self.lock:
            self.depth += 1
            after = self.delay() if self.depth == 1 else 0.0
            if after > 0:
                self.started = time.perf_counter()
                self.shown = False
                self.timer = threading.Timer(after, self._show)
                self.timer.daemon = True
                self.timer.start()

    def on_end(self, event):
        with self.lock:
            self.depth = max(0, self.depth - 1)
            if self.depth == 0 and self.timer is not None:
                self.timer.cancel()
                self.timer = None
                if self.shown:
                    took = time.perf_counter() - self.started
                    sys.stderr.write(
                        f"fastscape: compiled in {took:.1f} s (cached for next time)\n"
                    )

    def _show(self):
        with self.lock:
            if self.depth == 0:
                return
            self.shown = True
        sys.stderr.write(
            "fastscape: compiling kernels for their first use; this takes a while once, then "
            f"they load from the cache in {cache_root()}\n"
        )
        sys.stderr.flush()


numba.core.event.register("numba:compile", CompileNotice())

#: fastmath flags: reassociation and contraction for speed, never nnan/ninf.
FASTMATH = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})

#: Every dispatcher made by :func:`jit`, so a test can check none bypassed it.
REGISTRY: list = []
_SEEN: set = set()


def options_tag(options: dict) -> str:
    """A short digest of jit options, part of every cache entry's name and key."""
    text = repr(
        sorted((k, sorted(v) if isinstance(v, (set, frozenset)) else v) for k, v in options.items())
    )
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def jit(*, parallel: bool = False, fastmath: bool = True):
    """Return a decorator that compiles a function with fastscape's Numba options.

    Parameters
    ----------
    parallel : bool
        Enable ``prange`` parallel loops.
    fastmath : bool
        Use :data:`FASTMATH` (True) or IEEE-strict arithmetic (False). Kernels whose
        result must not depend on summation order (exact aggregates) pass False.

    A Python function can be decorated once only: a parallel and a serial build need
    two functions (they would otherwise be two dispatchers of one function, whose
    cache entries Numba cannot tell apart).
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
    tag = options_tag(options)

    def decorate(func):
        key = (func.__module__, func.__qualname__)
        if key in _SEEN:
            raise RuntimeError(
                f"{func.__module__}.{func.__qualname__} is compiled twice: define a "
                "separate function for each build (one cache entry per function)"
            )
        _SEEN.add(key)
        dispatcher = numba.jit(**options)(func)
        if isinstance(dispatcher, numba.core.dispatcher.Dispatcher):  # not NUMBA_DISABLE_JIT
            dispatcher._cache = KernelCache(dispatcher.py_func, tag)
        REGISTRY.append(dispatcher)
        return dispatcher

    return decorate


__all__ = [
    "CACHE_FORMAT",
    "FASTMATH",
    "KernelCache",
    "KeyedCacheFile",
    "REGISTRY",
    "SOURCE_HASHES",
    "cache_info",
    "cache_root",
    "clear_cache",
    "jit",
    "options_tag",
]
