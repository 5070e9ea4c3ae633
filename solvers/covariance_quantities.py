"""Quantities read off a covariance matrix V (..., m, m): the correlations.

One definition for every solver and report (SPEC §1):

    ρ^{ab} = V^{ab} / sqrt(V^{aa} V^{bb}),

written with one square root of the product, so that ρ^{aa} = 1 exactly (sqrt(x²) = |x| in IEEE
arithmetic) and the same number comes out wherever ρ is computed.
"""
from __future__ import annotations

import numpy as np


def correlation(V) -> np.ndarray:
    """ρ^{ab} = V^{ab} / sqrt(V^{aa} V^{bb}) for V (..., m, m), as (..., m, m).

    Where V^{aa} V^{bb} = 0 the entry is nan (0/0) or ±inf, without a warning: a path or network
    whose variance vanished has no correlation.
    """
    V = np.asarray(V, dtype=np.float64)
    d = np.diagonal(V, axis1=-2, axis2=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return V / np.sqrt(d[..., :, None] * d[..., None, :])
