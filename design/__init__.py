"""covsde.design: choose the shaping that hits a target, at infinite and at finite width.

    from covsde.design import solve
    result = solve("relu", "finite-correlation", eta=0.5, T=1)      # c_minus with E[rho_1] = 0.5
    result.value, result.achieved, result.prediction

Targets (:data:`TARGETS`, one module each, contract in :mod:`covsde.design.target`): ``correlation``
(mean ODE), ``finite-correlation`` (covariance SDE), ``norm-k``, ``stationary-mean``, ``explosion``
(the norm law), ``resnet-ratio``, ``resnet-correlation`` (ResNet kernel ODE), ``tat`` (unshaped
TAT leaky ReLU at depth L), ``dks`` (Deep Kernel Shaping of a smooth activation at depth L).
"""

if __name__ != "covsde.design":  # `import design` from the repository root would load a second copy
    raise ImportError(f"'{__name__}' is the source folder of covsde.design; import it as "
                      f"'covsde.design' (install the project first: python -m pip install -e .)")

from .family import DesignFamily, design_family
from .target import TARGETS, Solution, Target, target_from_name
from . import targets  # noqa: F401  (registers the built-in targets)
from .targets import (CorrelationAtDepth, DKSSmooth, ExplosionProbability, FiniteWidthCorrelation, NormK,
                      ResNetCorrelation, ResNetNormRatio, StationaryMean, TATLeakyReLU)
from .finite_width import FiniteWidthPrediction
from .design_result import DesignResult
from .solve import solve

__all__ = ["solve", "DesignResult", "FiniteWidthPrediction", "TARGETS", "Target", "Solution",
           "target_from_name", "DesignFamily", "design_family", "CorrelationAtDepth",
           "FiniteWidthCorrelation", "NormK", "StationaryMean", "ExplosionProbability",
           "ResNetNormRatio", "ResNetCorrelation", "TATLeakyReLU", "DKSSmooth"]
