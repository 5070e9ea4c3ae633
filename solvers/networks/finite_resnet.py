"""Finite ResNets: the kernel q_l = <Y_l(a), Y_l(b)>/n of a real network (the ground truth).

Network (Hayou & Yang 2023, arXiv 2302.00453; SPEC §2)::

    Y_0 = W_in x / sqrt(n0),   Y_l = Y_{l-1} + alpha_{l,L} W_l phi(Y_{l-1}) / sqrt(n),   l = 1..L,

weights iid N(0, 1), unshaped phi. Given Y_{l-1}, W_l is fresh, so the rows of the increment
W_l phi(Y_{l-1}) / sqrt(n) are iid N(0, phi(Y_{l-1})^T phi(Y_{l-1}) / n): ``method="chain"`` keeps
the state Y (n x m per network) and draws the increment from that law exactly, O(n m^2) per
layer; ``method="weights"`` multiplies by the literal n x n matrices, O(n^2 m).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from covsde.derive.activation import Activation, as_activation
from covsde.derive.errors import InputError

from covsde.solvers import result_display as display
from covsde.solvers.input_validation import count, real_array, real_number
from covsde.solvers.random_streams import generators, spawn_streams, stacked_normals
from covsde.solvers.networks import network_sampling as ns


@dataclass(frozen=True, repr=False)
class ResNetSamples:
    """Kernels of finite ResNets.

    Attributes
    ----------
    q : (networks, len(layers), m, m) array
        q_l^{ab} = <Y_l(a), Y_l(b)> / n at the recorded layers (layer 0 is Y_0 = W_in x/sqrt(n0)).
        A network whose activations overflowed holds inf or NaN from that layer on.
    layers : int array
        Recorded layer indices l in 0..depth.
    alpha : (depth,) array
        The branch scales alpha_{l,L}, l = 1..L.
    width, depth, networks : int
    activation : Activation
    method : str
    seed : int
        Entropy of the root SeedSequence (pass it as ``seed`` to reproduce the run).
    message : str
        One line summary.

    Notebooks show the settings and the mean, std and 5/50/95 % quantiles of q^ab and rho^ab at
    the last recorded layer over the networks that did not overflow
    (:mod:`covsde.solvers.result_display`).
    """

    q: np.ndarray
    layers: np.ndarray
    alpha: np.ndarray
    width: int
    depth: int
    networks: int
    activation: Activation
    method: str
    seed: int
    message: str

    @property
    def final(self) -> np.ndarray:
        """q at the last recorded layer: (networks, m, m)."""
        return self.q[:, -1]

    @property
    def times(self) -> np.ndarray:
        """ODE times t = l / L of the recorded layers (uniform-branch convention)."""
        return self.layers / max(self.depth, 1)

    @property
    def fraction_exploded(self) -> float:
        """Fraction of networks whose activations overflowed by the last recorded layer (q not finite)."""
        return float(np.mean(~np.all(np.isfinite(self.final), axis=(-2, -1))))

    def _settings(self) -> dict:
        return {"networks": self.networks, "m": int(self.q.shape[-1]), "width": self.width,
                "depth": self.depth, "activation": self.activation.name, "method": self.method,
                "seed": self.seed, "fraction_exploded": self.fraction_exploded}

    def __repr__(self) -> str:
        return display.settings_repr("ResNetSamples", self._settings() | {"message": self.message})

    def _repr_html_(self) -> str:
        settings = self._settings() | {"layers": display.layers_text(self.layers)}
        samples = display.covariance_samples(self.final, name="q")
        return display.html_report("ResNetSamples", self.message, settings,
                                   [display.statistics_table(samples)])


def branch_scales(alpha, depth: int) -> np.ndarray:
    """alpha_{l,L} for l = 1..L: None -> 1/sqrt(L); a number; a callable alpha(l, L); an array."""
    if depth == 0:
        return np.zeros(0)
    if alpha is None:
        scales = np.full(depth, 1.0 / np.sqrt(depth))
    elif callable(alpha):
        scales = np.array([real_number(_scalar(alpha(l, depth)), f"alpha({l}, {depth})")
                           for l in range(1, depth + 1)])
    else:
        scales = real_array(alpha, "alpha")
        if scales.ndim == 0:
            scales = np.full(depth, float(scales))
        elif scales.shape != (depth,):
            raise InputError(f"alpha must be a number, a callable alpha(l, L) or an array of length "
                             f"depth = {depth}, got shape {scales.shape}")
    if not np.all(np.isfinite(scales)):
        raise InputError("alpha must be finite for every layer")
    return scales


def _scalar(value):
    """A 0-d array as its scalar (what a vectorised alpha(l, L) may return)."""
    return value[()] if isinstance(value, np.ndarray) and value.shape == () else value


def plain_activation(act: Activation):
    """The unshaped phi as a numpy function; the ReLU-like family means plain relu max(x, 0)."""
    if act.family == "relu_like":
        return lambda z: np.maximum(z, 0.0)
    return act.numpy()


def simulate_resnet(activation, X=None, *, Q0=None, width, depth, alpha=None, networks, seed=None,
                    method="chain", layers=None, chunk=None, executor=None, workers=1) -> ResNetSamples:
    """Sample the kernels q_0..q_L of finite ResNets (SPEC §2).

    Parameters
    ----------
    activation : str, sympy.Expr or Activation
        phi, unshaped: ``activation.numpy()``; for the ReLU-like family (``"relu"``) plain
        relu max(x, 0) whatever c_plus, c_minus are.
    X : (m, n0) array, optional
        Inputs as rows (Y_0 = W_in x / sqrt(n0), so E q_0 = X X^T / n0).
    Q0 : (m, m) array, optional
        Symmetric PSD Gram matrix instead of X: the rows of Y_0 are iid N(0, Q0).
    width, depth, networks : int
        n >= 1, L >= 1 (residual layers; alpha_{l,L} and t = l/L need one), networks >= 1.
    alpha : None, float, callable or (L,) array
        Branch scales alpha_{l,L}; None means 1/sqrt(L) for every branch.
    seed : int, SeedSequence, Generator or None
        Network i draws from ``SeedSequence(seed).spawn(networks)[i]``.
    method : {"chain", "weights"}
        Exact increment law given Y (O(n m^2)/layer), or literal weights (O(n^2 m)/layer).
    layers : sequence of int, optional
        Layers to record (default 0..L).
    chunk : int, optional
        Networks simulated at once; does not change the numbers.
    executor, workers : where the chunks run (any ``concurrent.futures.Executor``, a Dask
        ``Client``, or ``workers`` local processes; :mod:`covsde.solvers.chunk_executor`); does
        not change the numbers.

    Returns
    -------
    ResNetSamples
        ``.q`` of shape (networks, len(layers), m, m).
    """
    act = as_activation(activation)
    width = count(width, "width", 1)
    depth = count(depth, "depth", 1)
    networks = count(networks, "networks", 1)
    if method not in ("chain", "weights"):
        raise InputError(f"method must be 'chain' or 'weights', got {method!r}")
    gram, rows = ns.input_gram(X, Q0, V0_name="Q0")
    recorded = None if layers is None else ns.select_layers(layers, depth)    # all: made after the checks
    m = gram.shape[0]
    per_network = 4 * width * m if method == "chain" else width * max(width, rows.shape[1]) + 4 * width * m
    chunk = ns.default_chunk(networks, per_network) if chunk is None else \
        count(chunk, "chunk", 1)
    ns.check_network_resources("simulate_resnet", networks, chunk,
                               result_doubles=ns.recorded_count(recorded, depth) * m * m,
                               working_doubles=per_network
                               + (ns.recorded_count(recorded, depth, distinct=True) + 2) * m * m,
                               layer_steps=depth + 1,
                               work_per_layer=width * m * m if method == "chain" else width * width * m)
    recorded = ns.select_layers(None, depth) if recorded is None else recorded
    scales = branch_scales(alpha, depth)
    plain_activation(act)        # refuses what has no plain function, here
    root, children = spawn_streams(seed, networks)

    q = np.empty((networks, recorded.size, m, m))
    work = ResNetChunkWork(act, gram, rows, scales, width, method, recorded)
    for task, out in ns.run_network_chunks(work, ns.network_tasks(children, networks, chunk),
                                           executor=executor, workers=workers):
        q[task.part] = out
    overflowed = int(np.count_nonzero(~np.all(np.isfinite(q[:, -1]), axis=(-2, -1))))
    return ResNetSamples(q=q, layers=recorded, alpha=scales, width=width, depth=depth,
                         networks=networks, activation=act, method=method, seed=root.entropy,
                         message=f"{networks} {act.name} ResNets of width {width}, depth {depth} "
                                 f"({method}): {overflowed} overflowed by layer {int(recorded[-1])}")


@dataclass(frozen=True)
class ResNetChunkWork:
    """Simulates one chunk of ResNets (a :class:`~covsde.solvers.networks.network_sampling.NetworkChunk`):
    q at the recorded layers, (k, len(recorded), m, m).  Picklable, so chunks run on any executor."""

    activation: Activation
    gram: np.ndarray
    rows: np.ndarray
    scales: np.ndarray
    width: int
    method: str
    recorded: np.ndarray

    def __call__(self, task):
        phi = plain_activation(self.activation)
        gens = generators(task.streams)
        with np.errstate(over="ignore", invalid="ignore"):
            sequence = _resnet_kernels(gens, self.gram, self.rows, phi, self.scales, self.width, self.method,
                                       set(self.recorded.tolist()))
        out = np.empty((len(gens), self.recorded.size) + self.gram.shape)
        for position, layer in enumerate(self.recorded):
            out[:, position] = sequence[layer]
        return out


def _resnet_kernels(gens, gram, rows, phi, scales, n, method, keep):
    """q_l for the layers l in ``keep`` of len(gens) networks: {l: (k, m, m)}."""
    k, m = len(gens), gram.shape[0]
    if method == "chain":
        Y = ns.rows_with_covariance(stacked_normals(gens, (n, m)), np.broadcast_to(gram, (k, m, m)))
    else:
        n0 = rows.shape[1]
        Y = stacked_normals(gens, (n, n0)) @ rows.T / np.sqrt(n0)
    sequence = {0: ns.gram(Y, 1.0 / n)} if 0 in keep else {}
    for layer, scale in enumerate(scales, start=1):
        P = phi(Y)
        if method == "chain":
            increment = ns.rows_with_covariance(stacked_normals(gens, (n, m)), ns.gram(P, 1.0 / n))
        else:
            increment = stacked_normals(gens, (n, n)) @ P / np.sqrt(n)
        Y = Y + scale * increment
        if layer in keep:
            sequence[layer] = ns.gram(Y, 1.0 / n)
    return sequence
