"""Every Monte Carlo solver gives the same numbers, bit for bit, on any executor.

Chunks are seeded by index (one stream per block of paths or per network) and collected in chunk
order, so a thread pool, a pool of spawned processes, the local fork pool and one process must
agree exactly (the Dask cluster is in tests/test_dask_cluster.py).
"""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

from conftest import V0_TWO_INPUTS
from covsde.derive.errors import InputError
from covsde.solvers import (compare, simulate_correlation, simulate_deep_linear, simulate_mlp, simulate_norm,
                            simulate_resnet, simulate_sde)
from covsde.solvers.chunk_executor import results_in_order


@pytest.fixture(scope="module")
def spawn_pool():
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def test_sde_paths_equal_on_threads_spawned_processes_and_one_process(tanh, spawn_pool):
    kw = dict(steps=40, paths=9000, seed=5, chunk=4096)
    one = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, **kw)
    with ThreadPoolExecutor(3) as threads:
        on_threads = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, executor=threads, **kw)
    spawned = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, executor=spawn_pool, **kw)
    for other in (on_threads, spawned):
        np.testing.assert_array_equal(other.V, one.V)
        np.testing.assert_array_equal(other.explosion_time, one.explosion_time)


@pytest.mark.slow
def test_local_pool_with_the_spawn_start_method(tanh, monkeypatch):
    kw = dict(steps=30, paths=8192, seed=2, chunk=4096)
    one = simulate_sde(tanh, V0_TWO_INPUTS, 0.5, **kw)
    monkeypatch.setenv("COVSDE_START_METHOD", "spawn")
    two = simulate_sde(tanh, V0_TWO_INPUTS, 0.5, workers=2, **kw)
    np.testing.assert_array_equal(two.V, one.V)


def test_spawn_refuses_an_sde_that_does_not_pickle(monkeypatch):
    class LocalSDE:                       # a class local to a function does not pickle
        def drift(self, V):
            return np.zeros_like(V)

    monkeypatch.setenv("COVSDE_START_METHOD", "spawn")
    with pytest.raises(InputError, match="does not pickle"):
        simulate_sde(LocalSDE(), np.eye(2), 0.1, steps=5, paths=8192, chunk=4096, workers=2, seed=0)
    monkeypatch.setenv("COVSDE_START_METHOD", "fork")        # fork: inherited, nothing pickled
    result = simulate_sde(LocalSDE(), np.eye(2), 0.1, steps=5, paths=8192, chunk=4096, workers=2, seed=0)
    assert result.V.shape == (8192, 2, 2)


def test_scalar_solvers_equal_on_any_executor(tanh, relu, spawn_pool):
    norm = simulate_norm(tanh, 1.5, 1.0, steps=50, paths=70_000, seed=1)
    corr = simulate_correlation(relu, 0.3, 1.0, steps=50, paths=70_000, seed=1)
    with ThreadPoolExecutor(2) as threads:
        norm_threads = simulate_norm(tanh, 1.5, 1.0, steps=50, paths=70_000, seed=1, executor=threads)
    corr_spawned = simulate_correlation(relu, 0.3, 1.0, steps=50, paths=70_000, seed=1, executor=spawn_pool)
    np.testing.assert_array_equal(norm_threads.V, norm.V)
    np.testing.assert_array_equal(corr_spawned.rho, corr.rho)
    assert corr_spawned.clipped == corr.clipped


def test_finite_networks_equal_on_any_executor(spawn_pool):
    kw = dict(V0=V0_TWO_INPUTS, width=16, depth=8, networks=30, seed=4, chunk=7)
    mlp = simulate_mlp("tanh", **kw)
    np.testing.assert_array_equal(simulate_mlp("tanh", executor=spawn_pool, **kw).V, mlp.V)
    relu = simulate_mlp("relu", method="weights", **kw)
    np.testing.assert_array_equal(simulate_mlp("relu", method="weights", workers=2, **kw).V, relu.V)
    res_kw = dict(Q0=V0_TWO_INPUTS, width=16, depth=8, networks=30, seed=4, chunk=7)
    with ThreadPoolExecutor(2) as threads:
        np.testing.assert_array_equal(simulate_resnet("tanh", executor=threads, **res_kw).q,
                                      simulate_resnet("tanh", **res_kw).q)
    lin_kw = dict(K=V0_TWO_INPUTS, width=8, depth=4, outputs=2, networks=30, seed=4, chunk=7)
    a, b = simulate_deep_linear(**lin_kw), simulate_deep_linear(executor=spawn_pool, **lin_kw)
    np.testing.assert_array_equal(a.outputs, b.outputs)
    np.testing.assert_array_equal(a.V, b.V)


def test_compare_rows_equal_on_an_executor():
    rng = np.random.default_rng(0)
    G = rng.standard_normal((2, 500, 2, 4))
    A, B = (g @ np.swapaxes(g, -1, -2) / 4 for g in G)
    with ThreadPoolExecutor(2) as threads:
        assert compare(A, B, executor=threads) == compare(A, B)


def test_results_come_back_in_chunk_order_whatever_finishes_first():
    import time

    def slow_first(i):
        time.sleep(0.05 * (5 - i))
        return i

    with ThreadPoolExecutor(5) as threads:
        assert [r for _, r in results_in_order(slow_first, range(6), executor=threads, in_flight=3)] == list(range(6))


def test_batched_chunks_come_back_in_order_with_a_bounded_window():
    """Many chunks on an executor travel several to a task; the results are still those of one chunk
    at a time, in chunk order, and no more than ``chunks_in_flight`` run ahead of the one collected."""
    import threading
    from covsde.solvers.chunk_executor import chunks_in_flight, chunks_per_task
    started, lock = [], threading.Lock()

    def square(i):
        with lock:
            started.append(i)
        return i * i

    tasks = range(1000)
    bound = chunks_in_flight(len(tasks), 2, on_executor=True)
    assert chunks_per_task(len(tasks), 2) > 1 and bound < len(tasks)
    collected = []
    with ThreadPoolExecutor(2) as threads:
        for task, result in results_in_order(square, tasks, executor=threads):
            assert result == task * task
            with lock:
                ahead = max(started) - task
            assert ahead < bound
            collected.append(task)
    assert collected == list(tasks) and sorted(started) == list(tasks)


def test_an_executor_must_be_an_executor(tanh):
    with pytest.raises(InputError, match="executor must be"):
        simulate_sde(tanh, V0_TWO_INPUTS, 0.1, steps=5, paths=10, executor="dask")
