"""Finite shaped MLPs: the covariance V_l of a real network, layer by layer (the ground truth).

Network (Li, Nica & Roy 2022, arXiv 2206.02768, Sec. 2; SPEC §1)::

    h_1 = W_0 x / sqrt(n0),   h_{l+1} = sqrt(c/n) W_l phi_s(h_l),   weights iid N(0, 1), no biases,
    V_0^{ab} = <x^a, x^b> / n0,   V_l^{ab} = (c/n) <phi_s(h_l^a), phi_s(h_l^b)>   (l = 1..d).

Given V_l the rows of h_{l+1} are iid N(0, V_l), because W_l is fresh. Hence the covariance
sequence V_0, V_1, ... is a Markov chain with the exact one-layer rule

    V_{l+1} = (c/n) phi_s(Z)^T phi_s(Z),   Z an (n, m) matrix with iid N(0, V_l) rows,

which costs O(n m^2) per layer (``method="chain"``) instead of O(n^2 m) with the weight
matrices (``method="weights"``, kept as the reference). The SDE time of layer l is t = l/n.
Only the activation itself is taken from ``derive``; nothing here uses the derived SDE.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from covsde.derive.activation import Activation, as_activation
from covsde.derive.errors import InputError

from covsde.solvers import result_display as display
from covsde.solvers.input_validation import count, positive_number, real_number
from covsde.solvers.random_streams import generators, spawn_streams, stacked_normals
from covsde.solvers.networks import network_sampling as ns

#: Gauss–Hermite nodes used for the normalising constant E[phi_s(w)^2].
NORMALISING_NODES = 200


@dataclass(frozen=True, repr=False)
class MLPSamples:
    """Covariances of finite shaped MLPs.

    Attributes
    ----------
    V : (networks, len(layers), m, m) array
        V_l^{ab} = (c/n) <phi_s(h_l^a), phi_s(h_l^b)> at the recorded layers (V_0 = input Gram).
        A network whose activations overflowed holds NaN from that layer on.
    layers : (len(layers),) int array
        The recorded layer indices l (0 = input Gram, depth = last hidden layer).
    width, depth, networks : int
    c : float
        The normalising constant (1 for ``convention="unnormalized"``).
    activation : Activation
    a, exponent : float
        Shaping s = a * width**exponent (smooth family; unused for the ReLU-like family).
    convention, method : str
    seed : int
        Entropy of the root SeedSequence (pass it as ``seed`` to reproduce the run).
    message : str
        One line summary.

    Notebooks show the settings and the mean, std and 5/50/95 % quantiles of V^ab and rho^ab at
    the last recorded layer over the networks that did not overflow
    (:mod:`covsde.solvers.result_display`).
    """

    V: np.ndarray
    layers: np.ndarray
    width: int
    depth: int
    networks: int
    c: float
    activation: Activation
    a: float
    exponent: float
    convention: str
    method: str
    seed: int
    message: str

    @property
    def times(self) -> np.ndarray:
        """SDE times t = l / n of the recorded layers."""
        return self.layers / self.width

    @property
    def final(self) -> np.ndarray:
        """V at the last recorded layer: (networks, m, m)."""
        return self.V[:, -1]

    @property
    def fraction_exploded(self) -> float:
        """Fraction of networks whose activations overflowed by the last recorded layer (V not finite)."""
        return float(np.mean(~np.all(np.isfinite(self.final), axis=(-2, -1))))

    def _settings(self) -> dict:
        return {"networks": self.networks, "m": int(self.V.shape[-1]), "width": self.width,
                "depth": self.depth, "activation": self.activation.name,
                "convention": self.convention, "method": self.method, "seed": self.seed,
                "fraction_exploded": self.fraction_exploded}

    def __repr__(self) -> str:
        return display.settings_repr("MLPSamples", self._settings() | {"message": self.message})

    def _repr_html_(self) -> str:
        settings = self._settings() | {"a": self.a, "exponent": self.exponent, "c": self.c,
                                       "layers": display.layers_text(self.layers)}
        return display.html_report("MLPSamples", self.message, settings,
                                   [display.statistics_table(display.covariance_samples(self.final))])


#: Half-width of the interval on which E[phi_s(w)^2] is integrated piece by piece when phi_s has a kink.
_SPLIT_HALF_WIDTH = 12.0


def normalising_constant(activation, width: int, *, a: float = 1.0, exponent=None,
                         convention: str = "normalized", nodes: int = NORMALISING_NODES) -> float:
    """c with c^{-1} = E[phi_s(w)^2], w ~ N(0, 1) (SPEC §1, "normalized convention").

    Smooth family: Gauss–Hermite quadrature (probabilists', ``nodes`` points) of s^2 phi(w/s)^2.
    Kinked (one-sided, or with slopes or breakpoints within |w| < 12): Gauss–Legendre with ``nodes``
    points on each piece between the kinks of phi_s.
    ReLU-like family: exactly c = 2 / (s+^2 + s-^2). ``convention="unnormalized"`` gives c = 1.
    """
    act = as_activation(activation)
    _check_convention(convention)
    width, a = count(width, "width", 1), positive_number(a, "a")
    _check_shaping_scale(a, width, _exponent(exponent))
    nodes = count(nodes, "nodes", 2)
    ns.check_rule_size("normalising_constant", nodes)
    if convention == "unnormalized":
        return 1.0
    if act.family == "relu_like":
        s_plus, s_minus = _relu_slopes(act, width)
        return 2.0 / (s_plus ** 2 + s_minus ** 2)
    phi_s = act.shaped_function(width, a, _exponent(exponent))
    s = a * float(width) ** _exponent(exponent)
    kinks = [s * p for p in act.breakpoints if abs(s * p) < _SPLIT_HALF_WIDTH]
    with np.errstate(over="ignore", invalid="ignore"):
        if not kinks:
            w, weights = hermegauss(nodes)
            second_moment = float(np.sum(weights * phi_s(w) ** 2) / np.sqrt(2 * np.pi))
        else:
            # a kink (or a breakpoint of a piecewise formula) inside the Gaussian's bulk: Gauss-Legendre on
            # each piece between the kinks, over |w| <= 12 (the mass beyond is below 1e-32)
            edges = sorted({-_SPLIT_HALF_WIDTH, _SPLIT_HALF_WIDTH, *kinks})
            t, weights = np.polynomial.legendre.leggauss(nodes)
            second_moment = 0.0
            for lo, hi in zip(edges[:-1], edges[1:]):
                w = (hi - lo) / 2 * t + (hi + lo) / 2
                second_moment += float(np.sum(weights * (hi - lo) / 2 * phi_s(w) ** 2
                                              * np.exp(-w * w / 2)) / np.sqrt(2 * np.pi))
    if not np.isfinite(second_moment) or second_moment <= 0:
        raise InputError(f"E[phi_s(w)^2] is not a finite positive number for {act.name} at width "
                         f"{width}; use convention='unnormalized' or a larger width")
    return 1.0 / second_moment


def simulate_mlp(activation, X=None, *, V0=None, width, depth, networks, seed=None, a=1.0,
                 exponent=None, convention="normalized", method="chain", layers=None,
                 chunk=None, executor=None, workers=1) -> MLPSamples:
    """Sample the covariance sequence V_0..V_d of finite shaped MLPs (SPEC §1).

    Layer indexing (both methods): V_0 = X X^T / n0 is the input Gram matrix; V_l is the
    covariance after l hidden layers of width n, l = 1..depth; the SDE time is t = l/n.

    Parameters
    ----------
    activation : str, sympy.Expr or Activation
        Anything ``derive.as_activation`` accepts, e.g. ``"tanh"`` or
        ``as_activation("relu", c_plus=0, c_minus=-1)``.
    X : (m, n0) array, optional
        Inputs as rows; V_0 = X X^T / n0.
    V0 : (m, m) array, optional
        Symmetric PSD input Gram matrix instead of X (the weights method then uses
        X = sqrt(m) R, R R^T = V0, n0 = m).
    width : int
        n >= 1.
    depth : int
        d >= 0 hidden layers.
    networks : int
        Number of independent networks >= 1.
    seed : int, SeedSequence, Generator or None
        Network i draws from ``SeedSequence(seed).spawn(networks)[i]``: the same seed gives the
        same numbers whatever ``chunk`` is.
    a : float
        Smooth family: s = a * n**exponent, phi_s(x) = s phi(x/s).
    exponent : float or sympy.Rational, optional
        The shaping exponent; None means 1/2, the critical one when phi''(0) or phi'''(0) is
        non-zero. For activations with phi''(0) = phi'''(0) = 0 pass the critical exponent 1/q
        (SPEC §1, "General order"), e.g. 1/4 for x - x**5/5.
    convention : {"normalized", "unnormalized"}
        c^{-1} = E[phi_s(w)^2] (w ~ N(0, 1)), or c = 1.
    method : {"chain", "weights"}
        ``"chain"``: exact covariance chain V_{l+1} = (c/n) phi_s(Z)^T phi_s(Z), Z rows iid
        N(0, V_l), O(n m^2) per layer. ``"weights"``: literal weight matrices, O(n^2 m).
    layers : sequence of int, optional
        Layers to record (default all 0..depth; negative indices count from the end).
    chunk : int, optional
        Networks simulated at once (memory bound); does not change the numbers.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Runs the chunks there (:mod:`covsde.solvers.chunk_executor`); does not change the numbers.
    workers : int
        Local processes when no executor is given (default 1); does not change the numbers.

    Returns
    -------
    MLPSamples
        ``.V`` of shape (networks, len(layers), m, m).
    """
    act = as_activation(activation)
    width = count(width, "width", 1)
    depth = count(depth, "depth", 0)
    networks = count(networks, "networks", 1)
    _check_convention(convention)
    if method not in ("chain", "weights"):
        raise InputError(f"method must be 'chain' or 'weights', got {method!r}")
    a = positive_number(a, "a")
    exponent = _exponent(exponent)
    _check_shaping_scale(a, width, exponent)
    gram, rows = ns.input_gram(X, V0)
    recorded = None if layers is None else ns.select_layers(layers, depth)    # all: made after the checks
    m = gram.shape[0]
    if method == "chain":
        per_network = 4 * width * m
        work = width * m * m
    else:
        per_network = width * max(width, rows.shape[1]) + 4 * width * m
        work = width * width * m
    chunk = ns.default_chunk(networks, per_network) if chunk is None else \
        count(chunk, "chunk", 1)
    ns.check_network_resources("simulate_mlp", networks, chunk,
                               result_doubles=ns.recorded_count(recorded, depth) * m * m,
                               working_doubles=per_network
                               + (ns.recorded_count(recorded, depth, distinct=True) + 2) * m * m,
                               layer_steps=max(depth, 1), work_per_layer=work)
    recorded = ns.select_layers(None, depth) if recorded is None else recorded
    act.shaped_function(width, a, exponent)         # refuses a ReLU-like family without values, here
    c = normalising_constant(act, width, a=a, exponent=exponent, convention=convention)
    root, children = spawn_streams(seed, networks)

    work = MLPChunkWork(act, width, float(a), exponent, c, gram, rows, method, depth, recorded)
    V = np.empty((networks, recorded.size, m, m))
    for task, out in ns.run_network_chunks(work, ns.network_tasks(children, networks, chunk),
                                           executor=executor, workers=workers):
        V[task.part] = out
    overflowed = int(np.count_nonzero(~np.all(np.isfinite(V[:, -1]), axis=(-2, -1))))
    return MLPSamples(V=V, layers=recorded, width=width, depth=depth, networks=networks, c=c,
                      activation=act, a=float(a), exponent=exponent, convention=convention,
                      method=method, seed=root.entropy,
                      message=f"{networks} {act.name} networks of width {width}, depth {depth} "
                              f"({convention}, {method}): {overflowed} overflowed by layer "
                              f"{int(recorded[-1])}")


@dataclass(frozen=True)
class MLPChunkWork:
    """Simulates one chunk of networks (a :class:`~covsde.solvers.networks.network_sampling.NetworkChunk`):
    V at the recorded layers, (k, len(recorded), m, m).  Picklable (the activation travels as its
    specification), so chunks can run on any executor."""

    activation: Activation
    width: int
    a: float
    exponent: float
    c: float
    gram: np.ndarray
    rows: np.ndarray
    method: str
    depth: int
    recorded: np.ndarray

    def __call__(self, task):
        phi_s = self.activation.shaped_function(self.width, self.a, self.exponent)
        gens = generators(task.streams)
        keep = set(self.recorded.tolist())
        with np.errstate(over="ignore", invalid="ignore"):
            if self.method == "chain":
                sequence = _chain(gens, self.gram, phi_s, self.c, self.width, self.depth, keep)
            else:
                sequence = _weights(gens, self.rows, phi_s, self.c, self.width, self.depth, keep)
            out = np.empty((len(gens), self.recorded.size) + self.gram.shape)
            for position, layer in enumerate(self.recorded):
                out[:, position] = sequence[layer]
        return out


def _chain(gens, gram, phi_s, c, n, depth, keep):
    """V_l for the layers l in ``keep`` of len(gens) networks by the exact covariance chain:
    {l: (k, m, m)} (the other layers are not held)."""
    k, m = len(gens), gram.shape[0]
    V = np.broadcast_to(gram, (k, m, m)).copy()
    sequence = {0: V} if 0 in keep else {}
    # Normals are drawn a block of layers at a time per network (the stream order is the same).
    block = int(max(1, min(depth, ns.CHUNK_DOUBLES // (k * n * m))))
    for start in range(0, depth, block):
        G = stacked_normals(gens, (min(block, depth - start), n, m))
        for j in range(G.shape[1]):
            Z = ns.rows_with_covariance(G[:, j], V)
            V = ns.gram(phi_s(Z), c / n)
            V[~np.all(np.isfinite(V), axis=(-2, -1))] = np.nan
            if start + j + 1 in keep:
                sequence[start + j + 1] = V
    return sequence


def _weights(gens, rows, phi_s, c, n, depth, keep):
    """V_l for the layers l in ``keep`` of len(gens) networks with literal weight matrices:
    {l: (k, m, m)}."""
    k, (m, n0) = len(gens), rows.shape
    V0 = rows @ rows.T / n0
    sequence = {0: np.broadcast_to((V0 + V0.T) / 2, (k, m, m)).copy()}
    if depth == 0:
        return sequence
    h = stacked_normals(gens, (n, n0)) @ rows.T / np.sqrt(n0)       # h_1: (k, n, m)
    for layer in range(1, depth + 1):
        P = phi_s(h)
        if layer in keep:
            sequence[layer] = ns.gram(P, c / n)                        # V_layer
        if layer < depth:
            h = np.sqrt(c / n) * (stacked_normals(gens, (n, n)) @ P)
    return sequence


def _relu_slopes(act: Activation, width: int):
    if act.c_plus.free_symbols or act.c_minus.free_symbols:
        raise InputError("give c_plus and c_minus numeric values to simulate")
    root_n = np.sqrt(width)
    return 1.0 + float(act.c_plus) / root_n, 1.0 + float(act.c_minus) / root_n


def _exponent(exponent) -> float:
    if exponent is None:
        return 0.5
    if isinstance(exponent, (bool, np.bool_, str)) or not isinstance(exponent, numbers.Real):
        raise InputError(f"exponent must be a number such as 1/2 or 1/4, got {exponent!r}")
    value = real_number(exponent, "exponent")
    if not (np.isfinite(value) and value >= 0):
        raise InputError(f"exponent must be a non-negative number, got {exponent!r}")
    return value


def _check_shaping_scale(a: float, width: int, exponent: float) -> None:
    """Refuse a shaping scale s = a n^exponent that is not a finite positive float64."""
    log_s = np.log(a) + exponent * np.log(width)
    if not (np.log(np.finfo(np.float64).tiny) < log_s < np.log(np.finfo(np.float64).max)):
        raise InputError(f"the shaping scale s = a n^exponent = {a:g} * {width}^{exponent:g} is not a finite "
                         "positive float64; use a smaller exponent (1/2 is the critical one for most activations)")


def _check_convention(convention):
    if convention not in ("normalized", "unnormalized"):
        raise InputError(f"convention must be 'normalized' or 'unnormalized', got {convention!r}")
