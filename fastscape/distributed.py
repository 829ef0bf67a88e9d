"""Enumeration on a Dask cluster: the only module of fastscape that imports dask.

The client sends the small :class:`~fastscape.engine.Plan` once (scatter,
broadcast) and then only chunk ranges ``(k, lo, hi)`` (integers). Each task sets
Numba's thread count on its worker to that worker's share of the host's cores
(cores // task slots on the host, at least 1), runs the same parallel kernel as a
local run and returns per-chunk aggregates; the client writes the chunk files
and merges exactly as a local run does, so summaries are identical and
``--resume`` works the same. Install with ``pip install 'fastscape-dln[dask]'``.
"""

from __future__ import annotations

import os
from collections import defaultdict

from .engine import Plan, compute_chunks

__all__ = ["connect", "run_chunks"]

_MISSING = (
    "Dask is not installed: install the optional extra with "
    "pip install 'fastscape-dln[dask]' (or run without --scheduler / client=)"
)


def _distributed():
    try:
        import distributed
    except ImportError as e:  # pragma: no cover - the test environment has dask
        raise ImportError(f"{_MISSING} ({e})") from None
    return distributed


def connect(address: str, timeout: float = 20.0):
    """A ``distributed.Client`` connected to the scheduler at ``address``.

    Raises
    ------
    ImportError
        Dask is missing; the message names the extra to install.
    OSError
        No scheduler answered; the message says what to check.
    """
    distributed = _distributed()
    try:
        return distributed.Client(address, timeout=timeout)
    except (OSError, TimeoutError) as e:
        raise OSError(
            f"cannot reach the Dask scheduler at {address} ({e}); start one with "
            "`dask scheduler` and workers with `dask worker ADDRESS`, and check the address"
        ) from None


def _threads_per_worker(client) -> dict[str, int]:
    """Numba threads for one task on each worker: host cores // task slots on host."""
    info = client.scheduler_info(n_workers=-1) if _takes_n_workers(client) else None
    if info is None:
        info = client.scheduler_info()
    workers = info["workers"]
    cores = client.run(os.cpu_count)
    slots: dict[str, int] = defaultdict(int)
    host_cores: dict[str, int] = {}
    for addr, w in workers.items():
        host = w.get("host", addr)
        slots[host] += int(w.get("nthreads", 1))
        host_cores[host] = int(cores.get(addr) or 1)
    return {
        addr: max(1, host_cores[w.get("host", addr)] // max(1, slots[w.get("host", addr)]))
        for addr, w in workers.items()
    }


def _takes_n_workers(client) -> bool:
    import inspect

    try:
        return "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False


def _task(plan: Plan, chunks, threads_by_worker: dict, threads: int | None):
    """Runs on a worker: set this worker's Numba thread share, aggregate the chunks."""
    import numba

    if threads is None:
        try:
            from distributed import get_worker

            threads = threads_by_worker.get(get_worker().address, 1)
        except ValueError:  # not inside a worker (a local test of the function)
            threads = 1
    limit = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    numba.set_num_threads(max(1, min(int(threads), limit)))
    return compute_chunks(plan, chunks)


def run_chunks(client, plan: Plan, chunks, pending, finish, batch_done, threads=None):
    """Compute the pending chunk ids on the cluster; ``finish(cid, aggregates)`` each.

    Chunks are grouped into tasks of about 5e7 index sets; results are handled as
    they arrive (any order: the merge is order-independent and exact).
    """
    distributed = _distributed()
    if not isinstance(client, distributed.Client):
        raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}")
    if not pending:
        return
    share = _threads_per_worker(client)
    plan_future = client.scatter(plan, broadcast=True)
    groups, group, size = [], [], 0
    for cid in pending:
        k, lo, hi = chunks[cid]
        group.append(cid)
        size += hi - lo
        if size >= 5e7 or len(group) >= 256:
            groups.append(group)
            group, size = [], 0
    if group:
        groups.append(group)
    futures = {}
    for g in groups:
        fut = client.submit(
            _task, plan_future, [tuple(int(x) for x in chunks[c]) for c in g], share, threads,
            pure=False,
        )  # fmt: skip
        futures[fut] = g
    try:
        for fut in distributed.as_completed(list(futures)):
            results = fut.result()
            for cid, arrays in zip(futures[fut], results, strict=True):
                finish(cid, arrays)
            batch_done()
    finally:
        client.cancel(list(futures))
