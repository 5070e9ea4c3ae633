"""covsde.derive: symbolic derivation of the Neural Covariance SDE from an activation.

The public surface::

    from derive import derive_sde
    sde = derive_sde("tanh", a=1, convention="normalized")
"""
from .activation import Activation, as_activation, relu_like
from .activation_parser import X, parse_activation_string
from .errors import ActivationError, CovsdeError, InputError

__all__ = ["Activation", "as_activation", "relu_like", "X", "parse_activation_string",
           "ActivationError", "CovsdeError", "InputError"]
