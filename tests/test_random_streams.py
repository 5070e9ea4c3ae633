"""The one random-stream module (covsde.solvers.random_streams): seeds, block streams, increments.

Checked against what the numbers must be, not against the module's own code: a path's numbers
depend only on the seed and its index (not on the chunking); Rademacher signs are fair,
uncorrelated and carry unit variance (the three moments of N(0, 1) the weak Euler scheme needs,
Kloeden & Platen 1992, §14.1); coupled coarse steps are driven by the same Brownian path as the
fine steps (their increments sum to the same W_T) and are again N(0, 1).
"""
import numpy as np
import pytest

from covsde.derive import InputError
from covsde.solvers.random_streams import (BLOCK, CoupledNormals, StepInputs, path_chunks, paths_per_chunk,
                                           seed_sequence)


def _normals_by_path(seed, paths, chunk, k=2):
    """z (k, paths) drawn chunk by chunk."""
    _, chunks = path_chunks(seed, paths, chunk)
    out = np.empty((k, paths))
    for part in chunks:
        z = np.empty((k, part.size))
        part.draws().normals(z)
        out[:, part.start:part.stop] = z
    return out


def test_a_paths_numbers_depend_on_the_seed_and_its_index_only():
    paths = 3 * BLOCK + 17
    one = _normals_by_path(5, paths, BLOCK)
    assert np.array_equal(one, _normals_by_path(5, paths, 4 * BLOCK))
    assert np.array_equal(one, _normals_by_path(np.random.SeedSequence(5), paths, 2 * BLOCK))
    assert not np.array_equal(one, _normals_by_path(6, paths, BLOCK))
    # standard normals: mean 0 and variance 1 within 5 standard errors
    assert abs(one.mean()) < 5 / np.sqrt(one.size)
    assert abs(one.var() - 1.0) < 5 * np.sqrt(2.0 / one.size)


def test_rademacher_signs_are_fair_uncorrelated_and_unit():
    """z_j = ±1: E z = 0, E z² = 1 exactly, E z_i z_j = 0 across rows and neighbouring paths."""
    _, chunks = path_chunks(11, 2 * BLOCK + 100, 4 * BLOCK)
    inputs = StepInputs(chunks[0].draws(), normals=3, signs=2, noise="rademacher")
    z = np.concatenate([inputs.draw().copy() for _ in range(20)], axis=1)      # (5, n)
    n = z.shape[1]
    assert set(np.unique(z)) == {-1.0, 1.0}
    bound = 5 / np.sqrt(n)
    assert np.all(np.abs(z.mean(axis=1)) < bound)
    C = z @ z.T / n
    assert np.all(np.abs(C - np.eye(5)) < bound)
    assert np.all(np.abs(np.mean(z[:, 1:] * z[:, :-1], axis=1)) < bound)


def test_gaussian_step_inputs_are_normals_then_the_schemes_signs():
    _, chunks = path_chunks(2, 1000, BLOCK)
    z = StepInputs(chunks[0].draws(), normals=3, signs=6, noise="gaussian").draw()
    assert z.shape == (9, 1000)
    assert set(np.unique(z[3:])) == {-1.0, 1.0}
    assert len(np.unique(z[:3])) == 3000            # continuous normals, no repeats


@pytest.mark.parametrize("levels", [(2, 4, 8), (3, 6, 12, 24)])
def test_coupled_step_counts_share_one_brownian_path(levels):
    """Each level's increments sqrt(T/N) z sum to the same W_T as the fine ones, path by path,
    and its normals are again N(0, 1) (variance 1 within 5 standard errors)."""
    T, paths, k = 1.0, 20_000, 2
    finest = max(levels)
    _, chunks = path_chunks(3, paths, 8 * BLOCK)
    W = {n: np.zeros((k, paths)) for n in levels}
    samples = {n: [] for n in levels}
    for part in chunks:
        for ready in CoupledNormals(part.draws(), k, levels, finest):
            for i, z in ready:
                n = levels[i]
                W[n][:, part.start:part.stop] += np.sqrt(T / n) * z
                samples[n].append(z.copy())
    for n in levels:
        assert np.allclose(W[n], W[finest], rtol=0, atol=1e-12)
        z = np.concatenate(samples[n], axis=1)
        assert abs(z.var() - 1.0) < 5 * np.sqrt(2.0 / z.size)
    assert abs(W[finest].var() - T) < 5 * T * np.sqrt(2.0 / W[finest].size)


def test_seed_types_and_bad_seeds():
    sequence = np.random.SeedSequence(4)
    assert seed_sequence(sequence) is sequence
    assert seed_sequence(7).entropy == 7
    generator = np.random.default_rng(1)
    first, second = seed_sequence(generator).entropy, seed_sequence(generator).entropy
    assert first != second                           # a Generator is drawn from, once per call
    for bad in (-1, 2.5, "7", True):
        with pytest.raises(InputError, match="seed"):
            seed_sequence(bad)


def test_chunks_are_whole_blocks():
    assert paths_per_chunk(None, 4 * BLOCK) == 4 * BLOCK
    assert paths_per_chunk(1, 4 * BLOCK) == BLOCK
    assert paths_per_chunk(BLOCK + 1, 4 * BLOCK) == 2 * BLOCK
    with pytest.raises(InputError, match="chunk"):
        paths_per_chunk(0, 4 * BLOCK)
