"""Built-in activations, by name (before normalisation)."""
from __future__ import annotations

import sympy as sp

from .activation_parser import FUNCTIONS, X

#: Smooth activations: name -> expression in x.
SMOOTH_ACTIVATIONS = {
    "tanh": sp.tanh(X),
    "sin": sp.sin(X),
    "atan": sp.atan(X),
    "erf": sp.sqrt(sp.pi) / 2 * sp.erf(X),
    "sinh": sp.sinh(X),
    "gelu": FUNCTIONS["gelu"](X),
    "silu": FUNCTIONS["silu"](X),
    "swish": FUNCTIONS["silu"](X),
    "softplus": FUNCTIONS["softplus"](X),
    "linear": X,
    "identity": X,
}

#: Names of the ReLU-like family phi_s(x) = s+ max(x,0) + s- min(x,0), s± = 1 + c±/sqrt(n).
RELU_LIKE_NAMES = ("relu", "relu_like", "leaky_relu")

#: Default (c+, c-) of the ReLU-like family: the paper's example, c+ = 0, c- = -1.
RELU_LIKE_DEFAULTS = (0, -1)
