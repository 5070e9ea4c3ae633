"""Dask as an executor: connect to a running scheduler, or start a local cluster of processes.

Dask is optional (``pip install -e ".[dask]"``); nothing else in covsde imports it.  The solvers
take the client itself (or ``client.get_executor()``) as ``executor=``
(:mod:`covsde.solvers.chunk_executor`)::

    from covsde.solvers.dask_cluster import dask_client
    with dask_client(workers=4) as client:                 # a LocalCluster of 4 processes
        result = simulate_sde(sde, V0, 1.0, steps=200, paths=10**8, reduce="statistics", executor=client)
    with dask_client(scheduler="tcp://10.0.0.5:8786") as client:    # a cluster of machines
        ...

Every worker needs the same covsde installed (the chunks travel as picklable descriptions, and a
derived SDE as its specification, re-derived once per worker process).
"""
from __future__ import annotations

from contextlib import contextmanager

from covsde.derive.errors import InputError

#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_TIMEOUT = 10.0


def require_distributed():
    """The ``distributed`` module, or InputError saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise InputError("Dask is not installed; install the dask extra: pip install 'covsde[dask]' "
                         "(or pip install 'dask[distributed]')") from None
    return distributed


def local_cluster(workers: int):
    """A ``LocalCluster`` of ``workers`` processes, one thread each, without Dask's
    ``MALLOC_TRIM_THRESHOLD_`` (which, by fixing glibc's thresholds, makes every (P, m, m)
    temporary of a chunk a fresh mmap: a chunk ran about 1.3-1.5× slower with it in one measurement).  Set the same
    for workers started with ``dask worker`` (``distributed.nanny.pre-spawn-environ``)."""
    import dask
    distributed = require_distributed()
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None)


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None, timeout: float = CONNECT_TIMEOUT):
    """A ``distributed.Client``: connected to ``scheduler`` (an address such as
    ``tcp://host:8786``), or to a new ``LocalCluster`` of ``workers`` processes with one thread
    each; closed (with its cluster) on exit.

    Raises
    ------
    InputError
        When Dask is not installed, or no scheduler answers at ``scheduler`` within ``timeout`` s.
    """
    if (scheduler is None) == (workers is None):
        raise InputError("give exactly one of scheduler (an address) or workers (a local cluster)")
    distributed = require_distributed()
    cluster = None
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"no Dask scheduler answered at {scheduler!r} within {timeout:g} s "
                             f"({type(exc).__name__}); start one with 'dask scheduler' and workers with "
                             "'dask worker ADDRESS', or use a local cluster") from None
    else:
        import logging
        logging.getLogger("distributed").setLevel(logging.ERROR)
        cluster = local_cluster(workers)
        client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
