"""fastloss.dask on a cluster left without any worker (fastloss.dask._parts'
NO_WORKERS_TIMEOUT): the fit raises a clear RuntimeError instead of waiting forever. Its
own module: its client is the default one while it runs, after test_dask.py's is closed."""

import concurrent.futures

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

import fastloss.dask as fdask  # noqa: E402
from fastloss.dask import _parts  # noqa: E402
from fastloss.models import SoftmaxRegression  # noqa: E402

#: seconds the test may wait on the cluster
LIMIT = 60


def test_fit_raises_clearly_when_the_cluster_has_no_worker_left(monkeypatch):
    monkeypatch.setattr(_parts, "NO_WORKERS_TIMEOUT", 1.0)
    # in-process (inproc:// transport, no socket): its one worker can be taken away for good
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    client = distributed.Client(cluster, timeout=LIMIT)
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        rng = np.random.default_rng(14)
        X = rng.normal(size=(300, 4))
        t = rng.integers(0, 3, size=300)
        calls = [0]
        evaluate = fdask.PreparedData.value_and_grad

        def retire_all_during_fit(self, *args, **kwargs):
            calls[0] += 1
            if calls[0] == 2:  # mid-fit, every worker leaves and none comes back
                cluster.scale(0)
                for _ in range(int(LIMIT / 0.05)):
                    if not client.scheduler_info()["workers"]:
                        break
                    pool_sleep(0.05)
            return evaluate(self, *args, **kwargs)

        monkeypatch.setattr(fdask.PreparedData, "value_and_grad", retire_all_during_fit)
        fit = pool.submit(SoftmaxRegression(tol=1e-8).fit, da.from_array(X, chunks=(70, 4)),
                          da.from_array(t, chunks=70))
        with pytest.raises(RuntimeError, match="no worker for 1 s"):
            fit.result(timeout=LIMIT)
        assert calls[0] >= 2
    finally:
        pool.shutdown(wait=False)
        client.close(timeout=LIMIT)
        cluster.close(timeout=LIMIT)


def pool_sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)
