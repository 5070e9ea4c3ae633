"""covsde.solvers: numeric solvers driven by the lambdified results of derive/, and finite networks.

- SDE and ODE limits: ``simulate_sde``, ``simulate_norm``, ``simulate_correlation``,
  ``correlation_density``, ``solve_mean_ode``, ``richardson_expectation``, ``resnet_kernel``,
  ``resnet_kernel_recursion``.
- Finite networks (the ground truth): ``simulate_mlp``, ``simulate_resnet``, ``simulate_deep_linear``.
- Past one machine: ``simulate_sde(..., reduce="statistics")`` (streaming statistics,
  ``StreamingResult``), ``executor=`` on every Monte Carlo solver, ``sweep`` (grids of streaming
  runs, ``SweepResult``).
- Comparison: ``compare`` (KS and Wasserstein-1 of rho and log V); ``correlation`` (rho of V).
- Choices of ``simulate_sde``: ``SCHEMES`` (registered scheme names; a new scheme is a subclass of
  ``Scheme`` in one file of ``solvers/sde/schemes/``), ``NOISES``, ``BACKENDS``.
"""

if __name__ != "covsde.solvers":  # `import solvers` from the repository root would load a second copy
    raise ImportError(f"'{__name__}' is the source folder of covsde.solvers; import it as "
                      f"'covsde.solvers' (install the project first: python -m pip install -e .)")

from covsde.solvers.covariance_quantities import correlation
from covsde.solvers.networks import (DeepLinearSamples, MLPSamples, QuantityComparison, ResNetSamples,
                                     SampleComparison, branch_scales, compare, normalising_constant,
                                     simulate_deep_linear, simulate_mlp, simulate_resnet)
from covsde.solvers.random_streams import NOISES
from covsde.solvers.sde.driver import BACKENDS, simulate_sde
from covsde.solvers.sde.fokker_planck import CorrelationDensity, correlation_density
from covsde.solvers.sde.mean_ode import MeanODEResult, solve_mean_ode
from covsde.solvers.sde.richardson import RichardsonEstimate, richardson_expectation
from covsde.solvers.sde.scalar_sdes import CorrelationResult, NormResult, simulate_correlation, simulate_norm
from covsde.solvers.sde.scheme import Scheme
from covsde.solvers.sde.schemes import SCHEMES
from covsde.solvers.sde.sde_result import SDEResult, StreamingResult
from covsde.solvers.sde.streaming_statistics import StatisticsPlan
from covsde.solvers.parameter_sweep import SweepResult, sweep
from covsde.solvers.kernels.gaussian_expectation import GaussianKernelMap, gaussian_kernel_map, kernel_map
from covsde.solvers.kernels.resnet_kernel import KernelResult, resnet_kernel, resnet_kernel_recursion

__all__ = ["simulate_sde", "SDEResult", "StreamingResult", "StatisticsPlan", "sweep", "SweepResult", "SCHEMES", "NOISES", "BACKENDS", "Scheme",
           "simulate_norm", "NormResult", "simulate_correlation", "CorrelationResult",
           "correlation_density", "CorrelationDensity", "solve_mean_ode", "MeanODEResult",
           "richardson_expectation", "RichardsonEstimate", "correlation",
           "simulate_mlp", "MLPSamples", "normalising_constant", "simulate_resnet", "ResNetSamples",
           "branch_scales", "simulate_deep_linear", "DeepLinearSamples", "compare",
           "SampleComparison", "QuantityComparison", "kernel_map", "gaussian_kernel_map",
           "GaussianKernelMap", "resnet_kernel", "resnet_kernel_recursion", "KernelResult"]
