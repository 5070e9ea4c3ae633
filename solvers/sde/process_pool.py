"""Chunks of paths on several processes: a fork-started pool whose children inherit the SDE.

Lambdified drifts and numba kernels do not pickle, so the SDE and the scheme's compiled step are
handed to the children by ``fork`` (module globals set before the pool starts); only the
:class:`covsde.solvers.sde.chunk_loop.ChunkTask` (seed streams and settings) crosses the pipe.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from covsde.derive.errors import InputError

from covsde.solvers.sde.chunk_loop import run_chunk

_FORKED_SDE = None
_FORKED_COMPILED = None


def worker_pool(sde, compiled, workers: int) -> ProcessPoolExecutor:
    """A process pool of ``workers`` forked children that inherit ``sde`` and ``compiled``."""
    global _FORKED_SDE, _FORKED_COMPILED
    if "fork" not in multiprocessing.get_all_start_methods():
        raise InputError("workers > 1 needs the 'fork' start method, not available here; use workers=1")
    _FORKED_SDE, _FORKED_COMPILED = sde, compiled
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


def run_chunk_in_worker(task):
    """:func:`run_chunk` in a child of :func:`worker_pool`."""
    return run_chunk(task, _FORKED_SDE, _FORKED_COMPILED)
