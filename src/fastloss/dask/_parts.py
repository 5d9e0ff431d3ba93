"""Row chunks resident on a Dask cluster (or in this process), and the tasks that run on them.

A *part* is chunk ``i`` of ``X``, ``y`` and the weights in one piece ``(X_i, y_i, w_i)``
(``w_i`` None without weights), created by one task so the three sit on one worker. Work
on the parts is one task per worker over the parts it holds (``workers=[w]``): the round
trip of a whole evaluation is one submission and one gather, whatever the chunk count.
``allow_other_workers=True`` lets the scheduler move a task whose worker is gone; the
parts it held are recomputed from their lineage (the Dask graph of the input arrays), so
a lost worker costs time, not the fit. Results always come back in part order, so the
client's reduction does not depend on where the parts live (nor on faults).
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

#: (X_i, y_i, w_i) of one row chunk
Part = Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]


def current_client() -> Any:
    """The current ``distributed.Client``, or None (then the local scheduler is used).

    ``distributed`` is not imported here: a client exists only once it has been.
    """
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        return distributed.default_client()
    except ValueError:  # no client
        return None


def _run_parts(func: Callable[..., Any], parts: Sequence[Part], args: Tuple[Any, ...]
               ) -> Tuple[Optional[str], List[Any]]:
    """On a worker: ``func(part, *args)`` for each part, and where it ran."""
    try:
        from distributed import get_worker

        where: Optional[str] = get_worker().address
    except (ImportError, ValueError):
        where = None
    return where, [func(part, *args) for part in parts]


def _lost(err: BaseException) -> RuntimeError:
    return RuntimeError(f"fastloss.dask: the cluster lost data that it cannot recompute "
                        f"({type(err).__name__}: {err}); data scattered or held on one "
                        f"worker only are gone with it: build the Dask arrays from a "
                        f"source the workers can read again (files, a Dask graph)")


#: seconds a computation waits on a cluster that has no worker at all before it raises (a
#: lost worker is replaced or its parts recomputed elsewhere; a cluster with none left would
#: otherwise be waited on forever)
NO_WORKERS_TIMEOUT = 60.0
#: how often the wait looks at the cluster while tasks are pending
_POLL_SECONDS = 1.0


def _wait_while_workers(client: Any, tasks: List[Any]) -> None:
    """Wait for ``tasks``; raise a RuntimeError once the cluster has had no worker for
    NO_WORKERS_TIMEOUT seconds. Waiting reads the futures' state the client already holds:
    no extra round trip when the tasks are done within a poll."""
    import asyncio
    import time

    from distributed import wait

    no_workers_since: Optional[float] = None
    while True:
        try:
            wait(tasks, timeout=_POLL_SECONDS)
            return
        except (TimeoutError, asyncio.TimeoutError):
            pass
        if client.scheduler_info().get("workers"):
            no_workers_since = None
            continue
        now = time.monotonic()
        no_workers_since = now if no_workers_since is None else no_workers_since
        if now - no_workers_since >= NO_WORKERS_TIMEOUT:
            raise RuntimeError(f"fastloss.dask: the cluster has had no worker for "
                               f"{NO_WORKERS_TIMEOUT:g} s; start workers (or a new cluster) "
                               f"and fit again")


def _result(client: Any, tasks: List[Any]) -> List[Any]:
    """``client.gather(tasks)``, a lost-data failure as a RuntimeError saying so, and a
    cluster left without workers as one too (see NO_WORKERS_TIMEOUT)."""
    from concurrent.futures import CancelledError

    from distributed.scheduler import KilledWorker

    try:
        _wait_while_workers(client, tasks)
        return list(client.gather(tasks))
    except (CancelledError, KilledWorker) as err:
        raise _lost(err) from err


class Parts:
    """The parts of one data set: futures on the current client's cluster, or NumPy
    tuples in this process when there is no client."""

    def __init__(self, client: Any, items: List[Any]) -> None:
        self.client = client
        self.items = items
        self._owners: Optional[Dict[str, List[int]]] = None

    @classmethod
    def compute(cls, delayed_parts: List[Any]) -> "Parts":
        """Parts from one ``dask.delayed`` per chunk, computed on the cluster (kept there
        as futures) or, without a client, by Dask's local scheduler into this process."""
        client = current_client()
        if client is None:
            import dask

            return cls(None, list(dask.compute(*delayed_parts)))
        futures = client.compute(delayed_parts)
        _result(client, [client.submit(len, f, pure=False) for f in futures])  # placed
        return cls(client, futures)

    def __len__(self) -> int:
        return len(self.items)

    def _by_worker(self) -> Dict[str, List[int]]:
        """Part indices grouped by the worker that holds them (cached; refreshed after a
        task ran elsewhere than asked, as it does once a worker is lost)."""
        if self._owners is None:
            who = self.client.who_has(self.items)
            owners: Dict[str, List[int]] = {}
            for i, fut in enumerate(self.items):
                holders = sorted(who.get(fut.key, ()))
                owners.setdefault(holders[0] if holders else "", []).append(i)
            self._owners = owners
        return self._owners

    def _submit(self, func: Callable[..., Any], idx: List[int], args: Tuple[Any, ...],
                worker: str) -> Any:
        """One task running ``func`` over parts ``idx``, on ``worker`` if it is alive."""
        where = dict(workers=[worker], allow_other_workers=True) if worker else {}
        return self.client.submit(_run_parts, func, [self.items[i] for i in idx], args,
                                  pure=False, **where)

    def map(self, func: Callable[..., Any], *args: Any) -> List[Any]:
        """``[func(part, *args) for part in parts]``, in part order: one task per worker
        over its resident parts, one round trip."""
        if self.client is None:
            return [func(part, *args) for part in self.items]
        groups = list(self._by_worker().items())
        tasks = [self._submit(func, idx, args, w) for w, idx in groups]
        out: List[Any] = [None] * len(self.items)
        for (w, idx), (where, results) in zip(groups, _result(self.client, tasks)):
            if where != w:
                self._owners = None
            for i, r in zip(idx, results):
                out[i] = r
        return out

    def apply(self, i: int, func: Callable[..., Any], *args: Any) -> Any:
        """``func(part_i, *args)`` on the worker holding part ``i``."""
        if self.client is None:
            return func(self.items[i], *args)
        owner = next((w for w, idx in self._by_worker().items() if i in idx), "")
        where, results = _result(self.client, [self._submit(func, [i], args, owner)])[0]
        if where != owner:
            self._owners = None
        return results[0]

    def transform(self, func: Callable[..., Part], *args: Any) -> "Parts":
        """New parts ``func(part, *args)``, each made where its part is (the old parts
        stay in the new ones' lineage)."""
        if self.client is None:
            return Parts(None, [func(part, *args) for part in self.items])
        futures = [self.client.submit(func, fut, *args, pure=False) for fut in self.items]
        _result(self.client, [self.client.submit(len, f, pure=False) for f in futures])
        return Parts(self.client, futures)

    def release(self) -> None:
        """Frees the parts on the cluster (the futures dropped: released once unused;
        ``cancel`` would also cancel a later computation of the same keys)."""
        self.items = []
        self._owners = None
