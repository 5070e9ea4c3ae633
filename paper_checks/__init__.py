"""Reproductions of the three papers' claims: each check prints claim vs measurement with a verdict.

``covsde check [NAME] [--quick]`` runs them; :func:`run_check` is the Python entry point.
Each check module exposes ``run(quick: bool, seed: int, figure_dir) -> CheckReport``
(``figure_dir``: a folder for its PNG figures, or None for none); rows are
:class:`Claim` objects whose verdict is a :class:`covsde.verdict.Criterion`.
"""
from __future__ import annotations


if __name__ != "covsde.paper_checks":  # `import paper_checks` from the repository root would load a second copy
    raise ImportError(f"'{__name__}' is the source folder of covsde.paper_checks; import it as "
                      f"'covsde.paper_checks' (install the project first: python -m pip install -e .)")


import importlib
import time

from .report import CheckReport, Claim

#: Check name -> (module, one-line description).
CHECKS = {
    "covariance_sde": ("covsde.paper_checks.covariance_sde",
                       "finite shaped MLPs vs the Neural Covariance SDE (Li, Nica & Roy 2022)"),
    "norm_stability": ("covsde.paper_checks.norm_stability",
                       "exploding/vanishing norms: symbolic verdict vs finite networks and the SDE"),
    "shaping_exponent": ("covsde.paper_checks.shaping_exponent",
                         "critical shaping exponent when phi''(0) = phi'''(0) = 0"),
    "kinked_activations": ("covsde.paper_checks.kinked_activations",
                           "kinked activations (ELU, leaky slopes + curvature): finite networks vs the SDE"),
    "resnet_commutativity": ("covsde.paper_checks.resnet_commutativity",
                             "ResNet kernel: width and depth limits commute (Hayou & Yang 2023)"),
    "deep_linear_mixture": ("covsde.paper_checks.deep_linear_mixture",
                            "deep linear networks: log-normal mixture of Gaussians (Bassetti et al. 2024)"),
    "design": ("covsde.paper_checks.design",
               "design targets: TAT/DKS slopes, the shaped limit, designs in finite networks"),
}


def run_check(name: str, *, quick: bool = False, seed: int = 0, figure_dir=None) -> CheckReport:
    """Run one check by name and return its report (timed)."""
    if name not in CHECKS:
        from covsde.derive.errors import InputError
        raise InputError(f"unknown check {name!r}; available: {', '.join(CHECKS)}")
    module = importlib.import_module(CHECKS[name][0])
    start = time.perf_counter()
    report = module.run(quick=quick, seed=seed, figure_dir=figure_dir)
    report.seconds = time.perf_counter() - start
    return report


__all__ = ["CHECKS", "run_check", "CheckReport", "Claim"]
