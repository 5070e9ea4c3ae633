"""A real Dask cluster: two worker processes (no threads-only shortcut) give the single-process answer.

The cluster's workers receive pickled chunk tasks and a derived SDE as its specification,
re-derive it, simulate their chunks and send back sufficient statistics; merged in chunk order
they must equal the statistics of one process bit for bit, and a small sweep run with one task
per cell must give the same rows.  Starting a LocalCluster takes ~10 s on 2 shared cores: slow.
"""
import numpy as np
import pytest

from conftest import V0_TWO_INPUTS
from covsde.cli import main
from covsde.derive.errors import InputError
from covsde.solvers import simulate_sde, sweep

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.mark.slow
def test_streaming_run_on_two_dask_workers_equals_one_process(tanh, client, monkeypatch):
    from covsde.solvers import chunk_executor
    kw = dict(steps=30, paths=20_000, seed=9, chunk=4096, reduce="statistics")
    one = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, **kw).statistics
    # one chunk per task (5 chunks, 2 workers); then consecutive chunks batched two per task
    for executor, tasks_per_worker in ((client, 32), (client.get_executor(), 32), (client, 1)):
        monkeypatch.setattr(chunk_executor, "TASKS_PER_WORKER", tasks_per_worker)
        assert chunk_executor.chunks_per_task(5, 2) == (1 if tasks_per_worker == 32 else 2)
        on_dask = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, executor=executor, **kw).statistics
        assert on_dask.n == one.n and on_dask.exploded == one.exploded
        np.testing.assert_array_equal(on_dask.mean, one.mean)
        np.testing.assert_array_equal(on_dask.comoment, one.comoment)
        np.testing.assert_array_equal(on_dask.rho_histogram, one.rho_histogram)
        np.testing.assert_array_equal(on_dask.log_v_histogram, one.log_v_histogram)
    workers = {w["id"] for w in client.scheduler_info()["workers"].values()}
    assert len(workers) == 2


@pytest.mark.slow
def test_sweep_on_dask_equals_the_local_sweep(client):
    grid = dict(params={"alpha": [-0.1, 0.1]}, V0=[[1.0, 0.3], [0.3, 1.0]], T=[0.5, 1.0], steps=20, paths=4096,
                seed=3)
    assert sweep("x + alpha*x**2", executor=client, **grid).rows == sweep("x + alpha*x**2", **grid).rows


def test_unreachable_scheduler_is_one_error_line(capsys):
    code = main(["simulate", "tanh", "--paths", "100", "--steps", "40", "--scheduler", "tcp://127.0.0.1:9",
                 "--dask-timeout", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "no Dask scheduler answered at 'tcp://127.0.0.1:9' within 1 s" in err[0]


def test_without_dask_the_dask_options_say_how_to_install_it(capsys, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "distributed", None)       # import distributed now fails
    code = main(["sweep", "tanh", "--paths", "100", "--steps", "40", "--dask", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "pip install 'covsde[dask]'" in err[0]
    with pytest.raises(InputError, match="dask extra"):
        from covsde.solvers.dask_cluster import require_distributed
        require_distributed()


def test_conflicting_placements_are_refused(capsys):
    code = main(["simulate", "tanh", "--paths", "100", "--steps", "40", "--dask", "2", "--workers", "2"])
    assert code == 2 and "--workers" in capsys.readouterr().err
