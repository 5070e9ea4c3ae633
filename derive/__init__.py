"""covsde.derive: symbolic derivation of the Neural Covariance SDE from an activation.

The public surface::

    from covsde.derive import derive_sde
    sde = derive_sde("tanh", a=1, convention="normalized")
    sde.drift(V); sde.diffusion(V); sde.stability.regime; sde.latex()
"""

if __name__ != "covsde.derive":  # `import derive` from the repository root would load a second copy
    raise ImportError(f"'{__name__}' is the source folder of covsde.derive; import it as "
                      f"'covsde.derive' (install the project first: python -m pip install -e .)")

from .activation import Activation, as_activation, relu_like, with_slopes
from .activation_parser import X, parse_activation_string
from .covariance_sde import CovarianceSDE, covariance_symbols, derive_sde
from .branch_schedule import schedule_function
from .errors import ActivationError, CovsdeError, InputError
from .gaussian_kernels import gaussian_kernel_closed_form
from .gaussian_moments import gaussian_moment
from .half_space_moments import half_space_moment
from .norm_stability import NormStability, classify_norm
from .shaping import A, B, R, critical_shaping, covariance_expansion

__all__ = ["derive_sde", "CovarianceSDE", "Activation", "as_activation", "relu_like", "with_slopes", "X",
           "parse_activation_string", "gaussian_moment", "half_space_moment", "critical_shaping",
           "covariance_expansion", "NormStability", "classify_norm", "covariance_symbols",
           "A", "B", "R", "gaussian_kernel_closed_form", "schedule_function",
           "ActivationError", "CovsdeError", "InputError"]
