"""Work on several processes: a fork-started pool whose children inherit the work function.

Lambdified drifts and numba kernels do not pickle, so the work (e.g. ``run_chunk`` bound to the SDE
and the scheme's compiled step) is handed to the children by ``fork``, as a module global set
before the pool starts; only the tasks (seed streams and settings) cross the pipe.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from covsde.derive.errors import InputError

_FORKED_WORK = None


def worker_pool(work, workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` forked children that inherit ``work`` (task -> result); submit
    :func:`run_in_worker` with a task to run ``work(task)`` in a child."""
    global _FORKED_WORK
    if "fork" not in multiprocessing.get_all_start_methods():
        raise InputError("workers > 1 needs the 'fork' start method, not available here; use workers=1")
    _FORKED_WORK = work
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


def run_in_worker(task):
    """``work(task)`` in a child of :func:`worker_pool`."""
    return _FORKED_WORK(task)
