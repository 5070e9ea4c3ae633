"""The schemes of ``simulate_sde``: one module per scheme, found here, registered by their class.

Every module of this package is imported when the package is, and each defines one subclass of
:class:`covsde.solvers.sde.scheme.Scheme` (the written contract), which registers itself under its
``name``.  Adding a scheme is adding a file here; nothing else names it.

``euler``   Euler–Maruyama with the exact symmetric noise (weak 1, strong 1/2; :mod:`.euler`).
``lie``     geometric (Lie-group) Euler, PSD by construction (:mod:`.lie`).
``strang``  Strang splitting with the SymPy-derived weak order 2 noise flow (weak 2; :mod:`.strang`).
"""
from __future__ import annotations

import importlib
import pkgutil

from covsde.derive.errors import InputError

from covsde.solvers.sde.scheme import Scheme, registered_schemes

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

#: Names of the schemes this package defines (the choices of the CLI's --scheme).
SCHEMES = tuple(registered_schemes())


def scheme_names() -> tuple:
    """Names of every registered scheme now (those of this package and any defined since)."""
    return tuple(registered_schemes())


def get_scheme(scheme) -> Scheme:
    """The registered scheme of a name, or a :class:`Scheme` object returned as it is."""
    if isinstance(scheme, Scheme):
        return scheme
    if isinstance(scheme, str):
        schemes = registered_schemes()
        if scheme not in schemes:
            raise InputError(f"unknown scheme {scheme!r}; choose one of {list(schemes)}")
        return schemes[scheme]
    raise InputError(f"scheme must be a name in {list(scheme_names())} or a Scheme object "
                     f"(covsde.solvers.sde.scheme.Scheme), got {scheme!r}")
