"""covsde.solvers: numeric solvers driven by the lambdified results of derive/, and finite networks.

- SDE and ODE limits: ``simulate_sde``, ``simulate_norm``, ``simulate_correlation``,
  ``correlation_density``, ``solve_mean_ode``, ``resnet_kernel``, ``resnet_kernel_recursion``.
- Finite networks (the ground truth): ``simulate_mlp``, ``simulate_resnet``, ``simulate_deep_linear``.
- Comparison: ``compare`` (KS and Wasserstein-1 of rho and log V).
"""
from .finite_networks import (DeepLinearSamples, MLPSamples, QuantityComparison, ResNetSamples,
                              SampleComparison, branch_scales, compare, normalising_constant,
                              simulate_deep_linear, simulate_mlp, simulate_resnet)
from .gaussian_expectation import GaussianKernelMap, gaussian_kernel_map, kernel_map
from .resnet_kernel import KernelResult, resnet_kernel, resnet_kernel_recursion

__all__ = ["simulate_mlp", "MLPSamples", "normalising_constant", "simulate_resnet", "ResNetSamples",
           "branch_scales", "simulate_deep_linear", "DeepLinearSamples", "compare",
           "SampleComparison", "QuantityComparison", "kernel_map", "gaussian_kernel_map",
           "GaussianKernelMap", "resnet_kernel", "resnet_kernel_recursion", "KernelResult"]
