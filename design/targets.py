"""The built-in design targets; importing this module registers them in :data:`TARGETS`."""
from .correlation_at_depth import CorrelationAtDepth
from .finite_width_correlation import FiniteWidthCorrelation
from .norm_law import ExplosionProbability, NormK, StationaryMean
from .resnet_branch import ResNetCorrelation, ResNetNormRatio
from .tat_leaky_relu import TATLeakyReLU
from .dks_smooth import DKSSmooth
from .target import TARGETS

__all__ = ["TARGETS", "CorrelationAtDepth", "FiniteWidthCorrelation", "NormK", "StationaryMean",
           "ExplosionProbability", "ResNetNormRatio", "ResNetCorrelation", "TATLeakyReLU", "DKSSmooth"]
