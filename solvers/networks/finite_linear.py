"""Finite deep linear networks with several outputs (the ground truth for SPEC §3).

Network (Bassetti, Ladelli & Rotondo 2024, arXiv 2411.15267; SPEC §3), hidden width N, depth L,
D outputs, weights iid N(0, 1)::

    h_0 = W_0 x / sqrt(n0),   h_l = W_l h_{l-1} / sqrt(N)  (l = 1..L),   F = W_{L+1} h_L / sqrt(N),

so there are L + 1 hidden layers h_0..h_L of width N and alpha = L/N. With
V_l^{ab} = <h_l(a), h_l(b)>/N and K = X X^T / n0 the input Gram matrix:

* F | V_L ~ N(0, V_L (x) I_D): the D outputs are iid N(0, V_L) over the m inputs;
* each hidden layer is one exact Wishart step V_l = Z^T Z / N, Z with iid N(0, V_{l-1}) rows
  (V_{-1} = K), so one output has kurtosis E f^4 / (E f^2)^2 = 3 (1 + 2/N)^{L+1} (-> 3 e^{2 alpha})
  and E[f_a^2 f_b^2] = (1 + 2/N)^{L+1} (K_aa K_bb + 2 K_ab^2).

``method="chain"`` samples V_0..V_L by those Wishart steps (O(N m^2) per layer) and then F given
V_L, exact in law; ``method="weights"`` multiplies by the literal matrices.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from covsde.derive.errors import InputError

from covsde.solvers import result_display as display
from covsde.solvers.input_validation import count
from covsde.solvers.random_streams import generators, spawn_streams, stacked_normals
from covsde.solvers.networks import network_sampling as ns


@dataclass(frozen=True, repr=False)
class DeepLinearSamples:
    """Outputs and final covariance of finite deep linear networks.

    Attributes
    ----------
    outputs : (networks, m, D) array
        F(x^a)_d for each input a and output d.
    V : (networks, m, m) array
        V_L = h_L^T h_L / N, the covariance of the outputs given the network.
    K : (m, m) array
        The input Gram matrix X X^T / n0.
    width, depth, outputs_count, networks : int
        N, L (L + 1 hidden layers), D.
    method : str
    seed : int
        Entropy of the root SeedSequence (pass it as ``seed`` to reproduce the run).
    message : str
        One line summary.

    A linear network does not overflow at the sizes simulated: no ``fraction_exploded``.
    Notebooks show the settings and the mean, std and 5/50/95 % quantiles of V_L^ab, rho^ab and
    of the outputs f(x^a) (pooled over the D outputs) (:mod:`covsde.solvers.result_display`).
    """

    outputs: np.ndarray
    V: np.ndarray
    K: np.ndarray
    width: int
    depth: int
    outputs_count: int
    networks: int
    method: str
    seed: int
    message: str

    @property
    def alpha(self) -> float:
        """Depth-to-width ratio L / N."""
        return self.depth / self.width

    @property
    def final(self) -> np.ndarray:
        """V_L: (networks, m, m)."""
        return self.V

    def _settings(self) -> dict:
        return {"networks": self.networks, "m": int(self.V.shape[-1]), "width": self.width,
                "depth": self.depth, "outputs": self.outputs_count, "alpha": self.alpha,
                "method": self.method, "seed": self.seed}

    def __repr__(self) -> str:
        return display.settings_repr("DeepLinearSamples", self._settings() | {"message": self.message})

    def _repr_html_(self) -> str:
        samples = display.covariance_samples(self.V)
        inputs = range(min(self.outputs.shape[1], display.TABLE_INPUTS))
        samples.update({f"f(x^{a + 1})": self.outputs[:, a, :] for a in inputs})
        return display.html_report("DeepLinearSamples", self.message, self._settings(),
                                   [display.statistics_table(samples)])


def simulate_deep_linear(X=None, *, K=None, width, depth, outputs=1, networks, seed=None,
                         method="chain", chunk=None, executor=None, workers=1) -> DeepLinearSamples:
    """Sample outputs of finite deep linear networks (SPEC §3; definition in the module docstring).

    Parameters
    ----------
    X : (m, n0) array, optional
        Inputs as rows.
    K : (m, m) array, optional
        Symmetric PSD input Gram matrix instead of X.
    width : int
        N >= 1, the width of every hidden layer.
    depth : int
        L >= 0: hidden layers h_0..h_L (L + 1 of them), alpha = L/N.
    outputs : int
        D >= 1 outputs.
    networks : int
        Independent networks >= 1.
    seed : int, SeedSequence, Generator or None
        Network i draws from ``SeedSequence(seed).spawn(networks)[i]``.
    method : {"chain", "weights"}
        Exact Wishart chain then F | V_L, or literal weight matrices.
    chunk : int, optional
        Networks simulated at once; does not change the numbers.
    executor, workers : where the chunks run (any ``concurrent.futures.Executor``, a Dask
        ``Client``, or ``workers`` local processes; :mod:`covsde.solvers.chunk_executor`); does
        not change the numbers.

    Returns
    -------
    DeepLinearSamples
        ``.outputs`` (networks, m, D), ``.V`` (networks, m, m).
    """
    width = count(width, "width", 1)
    depth = count(depth, "depth", 0)
    outputs = count(outputs, "outputs", 1)
    networks = count(networks, "networks", 1)
    if method not in ("chain", "weights"):
        raise InputError(f"method must be 'chain' or 'weights', got {method!r}")
    gram, rows = ns.input_gram(X, K, V0_name="K")
    m = gram.shape[0]
    per_network = 3 * width * m if method == "chain" else width * max(width, rows.shape[1]) + 3 * width * m
    chunk = ns.default_chunk(networks, per_network) if chunk is None else \
        count(chunk, "chunk", 1)
    ns.check_network_resources("simulate_deep_linear", networks, chunk, result_doubles=m * (m + outputs),
                               working_doubles=per_network + 2 * outputs * max(m, width), layer_steps=depth + 2,
                               work_per_layer=width * m * m if method == "chain" else width * width * m)
    root, children = spawn_streams(seed, networks)

    F = np.empty((networks, m, outputs))
    V = np.empty((networks, m, m))
    work = DeepLinearChunkWork(gram, rows, width, depth, outputs, method)
    for task, (V_part, F_part) in ns.run_network_chunks(work, ns.network_tasks(children, networks, chunk),
                                                        executor=executor, workers=workers):
        V[task.part], F[task.part] = V_part, F_part
    return DeepLinearSamples(outputs=F, V=V, K=gram, width=width, depth=depth, outputs_count=outputs,
                             networks=networks, method=method, seed=root.entropy,
                             message=f"{networks} deep linear networks of width {width}, depth {depth} "
                                     f"(alpha = {depth / width:.4g}), {outputs} outputs ({method})")


@dataclass(frozen=True)
class DeepLinearChunkWork:
    """Simulates one chunk of deep linear networks: (V_L (k, m, m), outputs (k, m, D)).  Picklable."""

    gram: np.ndarray
    rows: np.ndarray
    width: int
    depth: int
    outputs: int
    method: str

    def __call__(self, task):
        gens = generators(task.streams)
        if self.method == "chain":
            return _chain(gens, self.gram, self.width, self.depth, self.outputs)
        return _weights(gens, self.rows, self.width, self.depth, self.outputs)


def _chain(gens, gram, N, depth, outputs):
    k, m = len(gens), gram.shape[0]
    V = np.broadcast_to(gram, (k, m, m))
    for _ in range(depth + 1):                                    # h_0 .. h_L
        V = ns.gram(ns.rows_with_covariance(stacked_normals(gens, (N, m)), V), 1.0 / N)
    F_rows = ns.rows_with_covariance(stacked_normals(gens, (outputs, m)), V)   # (k, D, m)
    return V, np.swapaxes(F_rows, -1, -2)


def _weights(gens, rows, N, depth, outputs):
    n0 = rows.shape[1]
    h = stacked_normals(gens, (N, n0)) @ rows.T / np.sqrt(n0)                 # h_0: (k, N, m)
    for _ in range(depth):
        h = stacked_normals(gens, (N, N)) @ h / np.sqrt(N)
    F_rows = stacked_normals(gens, (outputs, N)) @ h / np.sqrt(N)              # (k, D, m)
    return ns.gram(h, 1.0 / N), np.swapaxes(F_rows, -1, -2)
