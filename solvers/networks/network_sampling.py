"""What the finite-network simulators share: inputs, chunks of networks, Gaussian rows.

Every finite network in :mod:`covsde.solvers.networks.finite_mlp`,
:mod:`covsde.solvers.networks.finite_resnet` and :mod:`covsde.solvers.networks.finite_linear` is
simulated from

* an input Gram matrix ``K = X X^T / n0`` (or a given symmetric PSD ``V0``),
* its own random stream (:mod:`covsde.solvers.random_streams`): network ``i`` draws from
  ``SeedSequence(seed).spawn(networks)[i]``, always in the same order (layer by layer), so the
  numbers do not depend on how the networks are grouped into chunks for memory,
* Gaussian rows with a given covariance, ``Z = G R^T`` with ``R R^T = V`` (eigen-root, so a
  singular PSD ``V`` is fine),
* chunks of networks as picklable tasks (:class:`NetworkChunk`), run here or on any executor
  (``executor=``, ``workers=``) and collected in chunk order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from covsde.derive.errors import InputError

from covsde.solvers.input_validation import count, real_array, symmetric_psd
from covsde.solvers.resource_limits import (DOUBLE, GENERATOR_BYTES, STREAM_BYTES, check_memory, check_path_steps,
                                            vectorised_steps)

#: Doubles held at once by one chunk of networks (about 64 MB); sets the default chunk size.
CHUNK_DOUBLES = 2 ** 23


# --------------------------------------------------------------------------- arguments
def input_gram(X, V0, *, V0_name: str = "V0"):
    """The input Gram matrix and the input rows used by the literal-weights method.

    Parameters
    ----------
    X : (m, n0) array or None
        Inputs as rows.
    V0 : (m, m) array or None
        The Gram matrix itself (exactly one of X, V0).

    Returns
    -------
    gram : (m, m) array
        ``X X^T / n0`` or ``V0``.
    rows : (m, n0) array
        ``X``, or when only ``V0`` is given, ``sqrt(m) R`` with ``R R^T = V0`` (so n0 = m and
        ``rows rows^T / n0 = V0``).
    """
    if (X is None) == (V0 is None):
        raise InputError(f"give exactly one of X (inputs as rows) or {V0_name} (their Gram matrix)")
    if X is not None:
        X = real_array(X, "X")
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] < 1 or X.shape[0] < 1:
            raise InputError(f"X must be an (m, n0) array with one input per row, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise InputError("X has non-finite entries; give finite inputs")
        gram = X @ X.T / X.shape[1]
        return (gram + gram.T) / 2, X
    gram = symmetric_psd(V0, V0_name)
    m = gram.shape[0]
    return gram, np.sqrt(m) * psd_root(gram)


def select_layers(layers, depth: int) -> np.ndarray:
    """Layer indices to record: all 0..depth by default; negative indices count from the end."""
    if layers is None:
        return np.arange(depth + 1)
    try:
        chosen = np.atleast_1d(np.asarray(layers))
    except (TypeError, ValueError):                  # ragged nesting
        chosen = np.empty((0, 0))
    if chosen.ndim != 1 or chosen.size == 0 or not np.issubdtype(chosen.dtype, np.integer):
        raise InputError(f"layers must be a non-empty list of integers in 0..{depth}, got {layers!r}")
    if np.any(chosen > depth) or np.any(chosen < -(depth + 1)):
        raise InputError(f"layers must lie in 0..{depth} (the depth), got {chosen.tolist()}")
    return np.where(chosen < 0, chosen + depth + 1, chosen).astype(int)


def recorded_count(recorded, depth: int, distinct: bool = False) -> int:
    """Layers recorded: depth + 1 when ``recorded`` is None (all), else its (distinct) size."""
    if recorded is None:
        return depth + 1
    return int(np.unique(recorded).size if distinct else recorded.size)


# --------------------------------------------------------------------------- chunks
def chunks(networks: int, chunk: int):
    """Consecutive slices of at most ``chunk`` networks."""
    for start in range(0, networks, chunk):
        yield slice(start, min(start + chunk, networks))


def default_chunk(networks: int, doubles_per_network: int) -> int:
    """Networks per chunk so that one chunk holds about CHUNK_DOUBLES doubles."""
    return int(max(1, min(networks, CHUNK_DOUBLES // max(1, doubles_per_network))))


def check_network_resources(caller: str, networks: int, chunk: int, *, result_doubles: int,
                            working_doubles: int, layer_steps: int, work_per_layer: float) -> None:
    """Refuse (InputError) a finite-network run whose memory or work passes the limits of
    :mod:`covsde.solvers.resource_limits`, before any stream is spawned or array allocated.

    Parameters
    ----------
    networks, chunk : networks in all, and simulated at once.
    result_doubles : doubles of the returned arrays per network (recorded layers × m², outputs).
    working_doubles : doubles one network holds while it is simulated (its state, normals, weights).
    layer_steps : vectorised layer steps per chunk (depth, or depth + 1).
    work_per_layer : path-steps of one layer of one network (width·m² for the chain, width²·m for
        literal weights).
    """
    check_memory(caller, [
        (networks * result_doubles * DOUBLE, f"the results of {networks:.3g} networks"),
        (networks * STREAM_BYTES, f"the random streams of {networks:.3g} networks"),
        (chunk * (working_doubles * DOUBLE + GENERATOR_BYTES),
         f"the working arrays of {chunk:.3g} network(s) at once"),
    ], "use fewer networks (or a smaller width, fewer recorded layers, or a smaller chunk)")
    chunks = -(-networks // chunk)
    check_path_steps(caller, vectorised_steps(layer_steps * chunks, chunk * work_per_layer),
                     f"{layer_steps:.3g} layers of {networks:.3g} networks",
                     "use fewer networks, layers or a smaller width")


# --------------------------------------------------------------------------- Gaussian rows
def psd_root(V: np.ndarray) -> np.ndarray:
    """R with R R^T = V for symmetric PSD V (..., m, m), by eigen-decomposition.

    Negative round-off eigenvalues are clipped to 0, so a singular V (e.g. two equal inputs) is
    fine. Non-finite matrices (a network that overflowed) give a NaN root.
    """
    V = np.asarray(V, dtype=np.float64)
    if V.shape[-1] == 2:
        return _psd_root_2x2(V)
    finite = np.all(np.isfinite(V), axis=(-2, -1))
    safe = np.where(finite[..., None, None], V, 0.0)
    eigenvalues, vectors = np.linalg.eigh(safe)
    root = vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))[..., None, :]
    return np.where(finite[..., None, None], root, np.nan)


def _psd_root_2x2(V: np.ndarray) -> np.ndarray:
    """Closed-form lower-triangular root of 2×2 PSD matrices (a Cholesky factor that tolerates
    singular V: l21 = 0 when V^11 = 0, and the Schur complement is clipped at 0).
    Non-finite matrices give NaN, as in the general route."""
    v11, v12, v22 = V[..., 0, 0], V[..., 0, 1], V[..., 1, 1]
    root = np.zeros(V.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        l11 = np.sqrt(np.clip(v11, 0.0, None))
        l21 = np.where(l11 > 0, v12 / np.where(l11 > 0, l11, 1.0), 0.0)
        l22 = np.sqrt(np.clip(v22 - l21 * l21, 0.0, None))
    root[..., 0, 0], root[..., 1, 0], root[..., 1, 1] = l11, l21, l22
    finite = np.all(np.isfinite(V), axis=(-2, -1))
    return np.where(finite[..., None, None], root, np.nan)


def rows_with_covariance(G: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Z = G R^T: rows of Z are N(0, V) when rows of G are N(0, I).  G (k, r, m), V (k, m, m)."""
    R = psd_root(V)
    if V.shape[-1] == 2:   # R is lower triangular: two fused multiply-adds instead of a batched matmul
        Z = np.empty_like(G)
        np.multiply(G[..., 0], R[:, None, 0, 0], out=Z[..., 0])
        np.multiply(G[..., 0], R[:, None, 1, 0], out=Z[..., 1])
        Z[..., 1] += G[..., 1] * R[:, None, 1, 1]
        return Z
    return G @ np.swapaxes(R, -1, -2)


def gram(P: np.ndarray, scale: float) -> np.ndarray:
    """scale * P^T P for P (k, n, m), symmetrised: (k, m, m)."""
    if P.shape[-1] == 2:   # three dot products per network, exactly symmetric
        p0, p1 = P[..., 0], P[..., 1]
        out = np.empty(P.shape[:-2] + (2, 2))
        out[..., 0, 0] = np.einsum("kn,kn->k", p0, p0)
        out[..., 1, 1] = np.einsum("kn,kn->k", p1, p1)
        out[..., 0, 1] = out[..., 1, 0] = np.einsum("kn,kn->k", p0, p1)
        return scale * out
    out = scale * (np.swapaxes(P, -1, -2) @ P)
    return (out + np.swapaxes(out, -1, -2)) / 2


def check_rule_size(caller: str, nodes: int) -> None:
    """Refuse a Gauss–Hermite rule of ``nodes`` points whose companion matrix (nodes², O(nodes³)
    work to diagonalise) passes the resource limits."""
    check_memory(caller, [(2 * nodes ** 2 * DOUBLE, f"the Gauss–Hermite companion matrix of {nodes} nodes")],
                 "use fewer nodes")
    check_path_steps(caller, float(nodes) ** 3, f"the Gauss–Hermite rule of {nodes} nodes", "use fewer nodes")


# --------------------------------------------------------------------------- chunks as tasks
@dataclass(frozen=True)
class NetworkChunk:
    """Networks ``part`` (a slice) and their random streams (picklable: a task for an executor)."""

    part: slice
    streams: tuple


def network_tasks(children, networks: int, chunk: int) -> list:
    """One :class:`NetworkChunk` per chunk of at most ``chunk`` networks, in order."""
    return [NetworkChunk(part, tuple(children[part])) for part in chunks(networks, chunk)]


def run_network_chunks(work, tasks, *, executor=None, workers=1):
    """Yield (task, work(task)) in chunk order, here or on an executor
    (:func:`covsde.solvers.chunk_executor.results_in_order`): the numbers do not depend on it."""
    from covsde.solvers.chunk_executor import results_in_order
    workers = count(workers, "workers")
    yield from results_in_order(work, tasks, executor=executor, workers=workers)
