"""Local worker processes: a pool whose children receive the work function once, at start-up.

The work (e.g. :class:`covsde.solvers.sde.chunk_loop.ChunkWork`: the SDE, the backend, the
statistics to fold) is installed in every child by the pool's initializer; only the tasks (seed
streams and settings) then cross the pipe.  Two start methods:

* ``fork`` (the default where it exists): the children inherit the work from the parent's memory,
  nothing is pickled, so an SDE object that does not pickle works too, and a kernel compiled in
  the parent (numba) is inherited;
* ``spawn`` (macOS, Windows, or chosen with ``start_method="spawn"`` or the environment variable
  ``COVSDE_START_METHOD``): the work is pickled once per child.  A derived SDE pickles as its
  specification and is re-derived once per child (:mod:`covsde.derive.sde_specification`).
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor

from covsde.derive.errors import InputError

#: Environment variable naming the start method of local pools ("fork", "spawn", "forkserver").
START_METHOD_VARIABLE = "COVSDE_START_METHOD"

_WORK = None


def start_method(requested: str | None = None) -> str:
    """The start method of local pools: ``requested``, else $COVSDE_START_METHOD, else fork where it
    exists, else spawn."""
    method = requested or os.environ.get(START_METHOD_VARIABLE) or \
        ("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    available = multiprocessing.get_all_start_methods()
    if method not in available:
        raise InputError(f"start method {method!r} is not available here (available: {available})")
    return method


def worker_pool(work, workers: int, method: str | None = None) -> ProcessPoolExecutor:
    """A pool of ``workers`` children holding ``work`` (task -> result); submit
    :func:`run_in_worker` with a task to run ``work(task)`` in a child."""
    method = start_method(method)
    if method != "fork":
        try:
            pickle.dumps(work)
        except Exception as exc:   # what pickle raises depends on the object (PicklingError, TypeError, ...)
            raise InputError(f"the work does not pickle ({type(exc).__name__}: {exc}), which the {method!r} "
                             "start method needs; use an SDE from derive_sde, or workers=1") from None
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                               initializer=install_work, initargs=(work,))


def install_work(work) -> None:
    """Make ``work`` the function :func:`run_in_worker` applies (the pool's initializer)."""
    global _WORK
    _WORK = work


def run_in_worker(task):
    """``work(task)`` in a child of :func:`worker_pool`."""
    return _WORK(task)
