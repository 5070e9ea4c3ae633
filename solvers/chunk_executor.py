"""Run the chunks of a Monte Carlo run on any executor and hand back their results in chunk order.

Every solver splits its samples into seeded chunks (:mod:`covsde.solvers.random_streams`): a
chunk's numbers depend only on the seed and its index.  :func:`results_in_order` runs
``work(task)`` for each chunk

* here, one after the other (``workers=1`` and no executor);
* on a local pool of ``workers`` processes (:mod:`covsde.solvers.sde.process_pool`);
* on any ``concurrent.futures.Executor`` given as ``executor`` (a ``ProcessPoolExecutor``, a
  ``ThreadPoolExecutor``, ``dask.distributed.Client.get_executor()``), or on a
  ``dask.distributed.Client`` itself (its ``get_executor()`` is used).  ``work`` and the tasks are
  then pickled and must be importable where they run (a derived SDE pickles as its specification,
  :mod:`covsde.derive.sde_specification`).

and yields the results in chunk order, whatever the order in which chunks finish, so that the
caller merges them deterministically: the answer is the same bit for bit on every executor and
for every number of workers.  At most ``in_flight`` chunks are submitted ahead of the one being
collected, so that finished results do not pile up in memory.
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import Executor

from covsde.derive.errors import InputError

from covsde.solvers.sde.process_pool import run_in_worker, worker_pool

#: Chunks submitted ahead of the one being collected, per worker.
IN_FLIGHT_PER_WORKER = 2
#: Chunks in flight on an executor whose number of workers is unknown.
DEFAULT_IN_FLIGHT = 32


def as_executor(executor):
    """A ``concurrent.futures.Executor`` from ``executor`` (an Executor, or a Dask Client)."""
    if executor is None or isinstance(executor, Executor):
        return executor
    if hasattr(executor, "get_executor") and hasattr(executor, "scheduler_info"):   # dask.distributed.Client
        return executor.get_executor(pure=False)     # every chunk is a new task (no hashing of arguments)
    raise InputError(f"executor must be a concurrent.futures.Executor or a dask.distributed.Client, "
                     f"got {type(executor).__name__}")


def executor_workers(executor) -> int | None:
    """Workers of an executor when it says (a local pool, a Dask cluster), else None."""
    known = getattr(executor, "_max_workers", None)
    if isinstance(known, int):
        return known
    client = getattr(executor, "_client", None)
    if client is not None:
        try:
            return max(1, len(client.scheduler_info()["workers"]))
        except Exception:        # a cluster that does not answer: the default window
            return None
    return None


def results_in_order(work, tasks, *, executor=None, workers: int = 1, start_method: str | None = None,
                     in_flight: int | None = None):
    """Yield (task, work(task)) for every task, in the order of ``tasks`` (module docstring)."""
    tasks = list(tasks)
    executor = as_executor(executor)
    if executor is None and (workers == 1 or len(tasks) <= 1):
        for task in tasks:
            yield task, work(task)
        return
    if executor is None:
        workers = min(workers, len(tasks))
        with worker_pool(work, workers, start_method) as pool:
            yield from _windowed(pool, run_in_worker, tasks, in_flight or IN_FLIGHT_PER_WORKER * workers)
        return
    known = executor_workers(executor)
    window = in_flight or (IN_FLIGHT_PER_WORKER * known if known else DEFAULT_IN_FLIGHT)
    yield from _windowed(executor, work, tasks, window)


def _windowed(executor, work, tasks, window: int):
    """Submit ``work(task)`` keeping at most ``window`` tasks in flight; yield results in order."""
    pending = deque()
    upcoming = iter(tasks)
    for task in upcoming:
        pending.append((task, executor.submit(work, task)))
        if len(pending) >= window:
            break
    try:
        while pending:
            task, future = pending.popleft()
            result = future.result()
            following = next(upcoming, None)
            if following is not None:
                pending.append((following, executor.submit(work, following)))
            yield task, result
    finally:
        for _, future in pending:
            future.cancel()
