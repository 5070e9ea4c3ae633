"""Finite networks, the ground truth the limits are checked against (SPEC §1–3).

The public surface of the finite-network simulators and the sample comparison::

    from covsde.solvers.networks import simulate_mlp, simulate_resnet, simulate_deep_linear, compare

* :func:`simulate_mlp` — shaped MLPs (SPEC §1), exact covariance chain or literal weights;
* :func:`simulate_resnet` — ResNets with branch scales alpha_{l,L} (SPEC §2);
* :func:`simulate_deep_linear` — deep linear networks with D outputs (SPEC §3);
* :func:`compare` — KS and Wasserstein-1 of rho and log V between two samples (SPEC §4).
"""
from covsde.solvers.networks.finite_linear import DeepLinearSamples, simulate_deep_linear
from covsde.solvers.networks.finite_mlp import MLPSamples, normalising_constant, simulate_mlp
from covsde.solvers.networks.finite_resnet import ResNetSamples, branch_scales, simulate_resnet
from covsde.solvers.networks.sample_comparison import QuantityComparison, SampleComparison, compare

__all__ = ["simulate_mlp", "MLPSamples", "normalising_constant",
           "simulate_resnet", "ResNetSamples", "branch_scales",
           "simulate_deep_linear", "DeepLinearSamples",
           "compare", "SampleComparison", "QuantityComparison"]
