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

On an executor, consecutive chunks travel together as one task (up to :data:`MAX_CHUNKS_PER_TASK`,
fewer when there are not :data:`TASKS_PER_WORKER` tasks per worker to share): a Dask task costs a
scheduler round trip and the pickling of ``work`` (the SDE's specification and the run's
settings) each time, which the local pool pays once per worker.  The batch is run chunk by chunk
on the worker and its results come back as a list, so every chunk's result and the merge order are
exactly those of one chunk per task: batching changes the cost, never the numbers.
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
#: At most this many consecutive chunks are sent to an executor as one task.
MAX_CHUNKS_PER_TASK = 8
#: Batches are made no larger than leaves this many tasks per worker (load balance at the end).
TASKS_PER_WORKER = 32


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
            yield from _windowed(pool, run_in_worker, tasks,
                                 in_flight or chunks_in_flight(len(tasks), workers, on_executor=False))
        return
    known = executor_workers(executor)
    size = chunks_per_task(len(tasks), known)
    window = in_flight or chunks_in_flight(len(tasks), known, on_executor=True)
    if size == 1:
        yield from _windowed(executor, work, tasks, window)
        return
    batches = [tasks[i:i + size] for i in range(0, len(tasks), size)]
    for batch, results in _windowed(executor, _BatchWork(work), batches, max(1, window // size)):
        yield from zip(batch, results)


def chunks_per_task(chunks: int, workers: int | None) -> int:
    """Chunks sent to an executor as one task: at most MAX_CHUNKS_PER_TASK, and small enough to leave
    TASKS_PER_WORKER tasks per worker (workers unknown: taken as 16)."""
    per_worker = chunks // ((workers or 16) * TASKS_PER_WORKER)
    return max(1, min(MAX_CHUNKS_PER_TASK, per_worker))


def chunks_in_flight(chunks: int, workers: int | None, on_executor: bool) -> int:
    """The most chunk results submitted and not yet collected: IN_FLIGHT_PER_WORKER tasks per worker
    (DEFAULT_IN_FLIGHT tasks when an executor does not say its workers), times the chunks per task."""
    if not on_executor:
        return min(chunks, IN_FLIGHT_PER_WORKER * (workers or 1))
    tasks = IN_FLIGHT_PER_WORKER * workers if workers else DEFAULT_IN_FLIGHT
    return min(chunks, tasks * chunks_per_task(chunks, workers))


class _BatchWork:
    """``work`` applied to consecutive chunks in one task (picklable: a module-level class)."""

    def __init__(self, work):
        self.work = work

    def __call__(self, batch):
        return [self.work(task) for task in batch]


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
