"""Dask: a LocalCluster of 2 worker processes gives the local run's summary exactly."""

from __future__ import annotations

import json
import os

import distributed  # the dask extra is part of the test command: no skip
import numpy as np
import pytest

import fastscape
from fastscape.cli import main
from fastscape.distributed import _threads_per_worker
from fastscape.engine import Plan


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=":0",  # any free port: never clash with another run on 8787
    ) as c:  # fmt: skip
        yield c


def _threads_seen_by_task(plan, share):
    import numba

    from fastscape.distributed import _task

    _task(plan, [], share, None)
    return numba.get_num_threads()


def strip(d):
    d = dict(d)
    d.pop("timing")
    return d


@pytest.mark.slow
def test_dask_summary_equals_local(cluster, tmp_path):
    lam = fastscape.random_spectrum(20, 11)
    kw = dict(chunk_size=5000, threshold=3.0, n_lowest=15, n_highest=15, bins=30)
    local = fastscape.enumerate_landscape(lam, 10, **kw)
    with distributed.Client(cluster) as client:
        remote = fastscape.enumerate_landscape(lam, 10, client=client, out=tmp_path / "r", **kw)
        # each task sets its worker's Numba threads to host cores // task slots on the host
        share = _threads_per_worker(client)
        expected = max(1, os.cpu_count() // 2)  # 2 workers x 1 thread on this host
        assert sorted(share.values()) == [expected, expected]
        plan = Plan.build(lam, 20, 10, "full", 0.0, np.array([0.0, 1.0]), True, -np.inf, 0, 0)
        assert plan.n_index == 10 * 10 + 1
        seen = client.gather(
            [client.submit(_threads_seen_by_task, plan, share, pure=False) for _ in range(4)]
        )
        assert set(seen) == {expected}
        resumed = fastscape.enumerate_landscape(
            lam, 10, client=client, out=tmp_path / "r", resume=True, **kw
        )
        again = fastscape.enumerate_landscape(
            lam, 4, ranks="all", client=client, **{**kw, "chunk_size": 777}
        )
    assert strip(remote.to_json()) == strip(local.to_json())
    assert remote.timing["scheduler"] == "dask"
    ref = fastscape.enumerate_landscape(lam, 4, ranks="all", **kw)
    assert strip(again.to_json())["index_counts"] == ref.to_json()["index_counts"]
    assert {**strip(again.to_json()), "chunking": 0} == {**strip(ref.to_json()), "chunking": 0}
    # a resume through the cluster reuses every verified chunk file
    assert resumed == local and resumed.timing["sets_this_run"] == 0


@pytest.mark.slow
def test_cli_scheduler_address(cluster, tmp_path, capsys):
    args = ["enumerate", "--random", "16", "--seed", "2", "--p", "8", "--chunk-size", "999"]
    assert main([*args, "--out", str(tmp_path / "d"), "--scheduler", cluster.scheduler_address,
                 "--quiet"]) == 0  # fmt: skip
    assert main([*args, "--out", str(tmp_path / "l"), "--quiet"]) == 0
    d = json.loads((tmp_path / "d" / "summary.json").read_text())
    l_ = json.loads((tmp_path / "l" / "summary.json").read_text())
    assert d["timing"]["scheduler"] == "dask"
    assert strip(d) == strip(l_)


@pytest.mark.slow
def test_bad_scheduler_address_says_what_to_do():
    from fastscape.distributed import connect

    with pytest.raises(OSError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:1"):
        connect("tcp://127.0.0.1:1", timeout=1)
