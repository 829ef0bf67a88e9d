"""The on-disk run directory of an enumeration: manifest, chunk files, lock, summary.

Layout of a run directory ``DIR``::

    DIR/.lock            fcntl lock held by the running process (holds its pid)
    DIR/manifest.json    what is being computed: spectrum hash, q, p, mode, chunk
                         plan, aggregate options; written once, atomically
    DIR/chunks/c<id>.bin one finished chunk: a 64-hex sha256 line, then an .npz
                         payload with that checksum (its aggregates)
    DIR/summary.json     the merged result (``complete`` false while partial)

Every file is written to a temporary name in the same directory, fsynced, then
renamed over the target (``os.replace``), so a crash at any moment leaves either
the old file or the new one, never a torn one. A resume re-reads the manifest,
refuses if anything differs, verifies the checksum of every chunk file it reuses
and recomputes only the missing chunks.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

FORMAT = "fastscape-enumeration/1"


class RunDirectoryError(RuntimeError):
    """The run directory cannot be used as asked; the message says what to do."""


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same dir, fsync, rename.

    ``sync_dir`` also fsyncs the directory (makes the rename durable on power loss;
    a killed process needs only the rename). Chunk writes batch it: :meth:`RunStore.sync`.
    """
    path = Path(path)
    tmp = path.parent / f".tmp-{path.name}-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if sync_dir:
        _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def dumps_json(obj) -> bytes:
    """Deterministic JSON bytes (sorted keys, exact float repr)."""
    return (json.dumps(obj, indent=1, sort_keys=True, allow_nan=True) + "\n").encode()


class RunStore:
    """An open, locked run directory. Use as a context manager.

    Parameters
    ----------
    directory : path
        The run directory (created if missing).
    manifest : dict
        JSON-able description of the run; a resume must match it exactly.
    resume : bool
        Continue a run in ``directory``. Without it a non-empty directory is refused.
    """

    def __init__(self, directory, manifest: dict, *, resume: bool = False):
        self.dir = Path(directory)
        self.manifest = manifest
        self.resume = resume
        self._lock_fd: int | None = None

    def __enter__(self) -> RunStore:
        d = self.dir
        if d.exists() and not d.is_dir():
            raise RunDirectoryError(f"{d} exists and is not a directory: choose another --out")
        existing = [x for x in d.iterdir() if x.name != ".lock"] if d.exists() else []
        if existing and not self.resume:
            raise RunDirectoryError(
                f"{d} is not empty: pass --resume (resume=True) to continue the run in it, "
                "or choose a new output directory"
            )
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunDirectoryError(
                f"cannot create the run directory {d} ({e.strerror}); choose a writable --out"
            ) from None
        self._lock()
        try:
            self._open_manifest()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _lock(self) -> None:
        fd = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise RunDirectoryError(
                f"{self.dir} is locked by another running fastscape process (pid {holder}); "
                "wait for it to finish or stop it, or use another output directory"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def close(self) -> None:
        """Release the lock."""
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _open_manifest(self) -> None:
        for tmp in self.dir.glob(".tmp-*"):  # torn writes of a killed run
            tmp.unlink()
        (self.dir / "chunks").mkdir(exist_ok=True)
        for tmp in (self.dir / "chunks").glob(".tmp-*"):
            tmp.unlink()
        path = self.dir / "manifest.json"
        wanted = {"format": FORMAT, **self.manifest}
        if path.exists():
            try:
                found = json.loads(path.read_text())
            except ValueError as e:
                raise RunDirectoryError(
                    f"{path} is not valid JSON ({e}); it was not written by fastscape: "
                    "use a new output directory"
                ) from None
            # round-trip through JSON so tuples and lists compare alike
            wanted_rt = json.loads(dumps_json(wanted))
            diff = [k for k in set(found) | set(wanted_rt) if found.get(k) != wanted_rt.get(k)]
            if diff:
                raise RunDirectoryError(
                    f"cannot resume in {self.dir}: the run there was made with "
                    + "; ".join(_differences(diff, found, wanted_rt))
                    + ". Rerun with the same inputs and options as that run, or use a new "
                    "output directory"
                )
        else:
            atomic_write(path, dumps_json(wanted))

    def chunk_path(self, cid: int) -> Path:
        return self.dir / "chunks" / f"c{cid:08d}.bin"

    def write_chunk(self, cid: int, arrays: dict) -> None:
        """Store chunk ``cid``'s aggregates atomically with a sha256 header."""
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        payload = buf.getvalue()
        data = sha256_bytes(payload).encode() + b"\n" + payload
        atomic_write(self.chunk_path(cid), data, sync_dir=False)

    def sync(self) -> None:
        """fsync the chunk directory (after a batch of :meth:`write_chunk`)."""
        _fsync_dir(self.dir / "chunks")

    def done_chunks(self) -> list[int]:
        """Ids of chunk files present (not yet verified)."""
        out = []
        for f in (self.dir / "chunks").glob("c*.bin"):
            try:
                out.append(int(f.stem[1:]))
            except ValueError:
                continue
        return sorted(out)

    def read_chunk(self, cid: int) -> dict:
        """Load and verify chunk ``cid``; a bad checksum is refused with a clear message."""
        path = self.chunk_path(cid)
        data = path.read_bytes()
        head, _, payload = data.partition(b"\n")
        if len(head) != 64 or sha256_bytes(payload) != head.decode(errors="replace"):
            raise RunDirectoryError(
                f"chunk file {path} is corrupted (sha256 checksum mismatch); delete it and "
                "run again with --resume to recompute that chunk"
            )
        with np.load(io.BytesIO(payload)) as z:
            return {k: z[k] for k in z.files}

    def write_summary(self, summary_json: dict) -> Path:
        path = self.dir / "summary.json"
        atomic_write(path, dumps_json(summary_json))
        return path


#: Plain words for the manifest entries a resume compares, in the order they are reported.
_WORDS = {
    "format": "another version of fastscape's run format",
    "spectrum_sha256": "another spectrum (other eigenvalues or data)",
    "q": "another number of eigenvalues q",
    "loss_offset": "another kind of loss (a spectrum where this is data, or the reverse)",
    "p": "another hidden width p",
    "mode": "another rank mode",
    "chunk_size": "another chunk size",
    "hist_edges_sha256": "other loss histogram bins (bins)",
    "threshold": "another threshold",
    "n_lowest": "another number of lowest values kept (n_lowest)",
    "n_highest": "another number of highest values kept (n_highest)",
}
#: Entries that follow from others: reported only when what they follow from agrees.
_FOLLOWS = {
    "n_chunks": ("chunk_size", "p", "mode", "q", "spectrum_sha256"),
    "q": ("spectrum_sha256",),
    "hist_edges_sha256": ("spectrum_sha256", "loss_offset", "p", "mode"),
}


def _differences(keys, found: dict, wanted: dict) -> list[str]:
    """What differs between a run directory's manifest and a new request, in words."""
    keys = set(keys)
    out = []
    for key in list(_WORDS) + sorted(keys - set(_WORDS)):
        if key not in keys or any(k in keys for k in _FOLLOWS.get(key, ())):
            continue
        words = _WORDS.get(key, f"another {key}")
        old, new = found.get(key), wanted.get(key)
        if key.endswith("sha256") or key == "format":
            out.append(words)
        else:
            out.append(f"{words}: {_show(old)} there, {_show(new)} now")
    return out or ["other options"]


def _show(value) -> str:
    return "none" if value is None else str(value)
