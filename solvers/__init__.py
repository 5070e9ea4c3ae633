"""covsde.solvers: numeric solvers driven by the lambdified results of derive/, and finite networks.

- SDE and ODE limits: ``simulate_sde``, ``simulate_norm``, ``simulate_correlation``,
  ``correlation_density``, ``solve_mean_ode``, ``resnet_kernel``, ``resnet_kernel_recursion``.
- Finite networks (the ground truth): ``simulate_mlp``, ``simulate_resnet``, ``simulate_deep_linear``.
- Comparison: ``compare`` (KS and Wasserstein-1 of rho and log V).
"""

if __name__ != "covsde.solvers":  # `import solvers` from the repository root would load a second copy
    raise ImportError(f"'{__name__}' is the source folder of covsde.solvers; import it as "
                      f"'covsde.solvers' (install the project first: python -m pip install -e .)")

from covsde.solvers.networks import (DeepLinearSamples, MLPSamples, QuantityComparison, ResNetSamples,
                              SampleComparison, branch_scales, compare, normalising_constant,
                              simulate_deep_linear, simulate_mlp, simulate_resnet)
from covsde.solvers.sde.driver import SDEResult, simulate_sde
from covsde.solvers.sde.fokker_planck import CorrelationDensity, correlation_density
from covsde.solvers.sde.mean_ode import MeanODEResult, solve_mean_ode
from covsde.solvers.sde.richardson import RichardsonEstimate, richardson_expectation
from covsde.solvers.sde.scalar_sdes import CorrelationResult, NormResult, simulate_correlation, simulate_norm
from covsde.solvers.kernels.gaussian_expectation import GaussianKernelMap, gaussian_kernel_map, kernel_map
from covsde.solvers.kernels.resnet_kernel import KernelResult, resnet_kernel, resnet_kernel_recursion

__all__ = ["simulate_sde", "SDEResult", "simulate_norm", "NormResult", "simulate_correlation",
           "CorrelationResult", "correlation_density", "CorrelationDensity", "solve_mean_ode",
           "MeanODEResult", "richardson_expectation", "RichardsonEstimate", "simulate_mlp", "MLPSamples", "normalising_constant", "simulate_resnet", "ResNetSamples",
           "branch_scales", "simulate_deep_linear", "DeepLinearSamples", "compare",
           "SampleComparison", "QuantityComparison", "kernel_map", "gaussian_kernel_map",
           "GaussianKernelMap", "resnet_kernel", "resnet_kernel_recursion", "KernelResult"]
