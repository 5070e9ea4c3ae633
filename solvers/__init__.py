"""covsde.solvers: numeric solvers driven by the lambdified results of derive/, and finite networks.

- SDE and ODE limits: ``simulate_sde``, ``simulate_norm``, ``simulate_correlation``,
  ``correlation_density``, ``solve_mean_ode``, ``resnet_kernel``, ``resnet_kernel_recursion``.
- Finite networks (the ground truth): ``simulate_mlp``, ``simulate_resnet``, ``simulate_deep_linear``.
- Comparison: ``compare`` (KS and Wasserstein-1 of rho and log V).
"""
from .finite_networks import (DeepLinearSamples, MLPSamples, QuantityComparison, ResNetSamples,
                              SampleComparison, branch_scales, compare, normalising_constant,
                              simulate_deep_linear, simulate_mlp, simulate_resnet)
from .covariance_sde import SDEResult, simulate_sde
from .fokker_planck import CorrelationDensity, correlation_density
from .mean_ode import MeanODEResult, solve_mean_ode
from .richardson import RichardsonEstimate, richardson_expectation
from .scalar_sdes import CorrelationResult, NormResult, simulate_correlation, simulate_norm
from .gaussian_expectation import GaussianKernelMap, gaussian_kernel_map, kernel_map
from .resnet_kernel import KernelResult, resnet_kernel, resnet_kernel_recursion

__all__ = ["simulate_sde", "SDEResult", "simulate_norm", "NormResult", "simulate_correlation",
           "CorrelationResult", "correlation_density", "CorrelationDensity", "solve_mean_ode",
           "MeanODEResult", "richardson_expectation", "RichardsonEstimate", "simulate_mlp", "MLPSamples", "normalising_constant", "simulate_resnet", "ResNetSamples",
           "branch_scales", "simulate_deep_linear", "DeepLinearSamples", "compare",
           "SampleComparison", "QuantityComparison", "kernel_map", "gaussian_kernel_map",
           "GaussianKernelMap", "resnet_kernel", "resnet_kernel_recursion", "KernelResult"]
