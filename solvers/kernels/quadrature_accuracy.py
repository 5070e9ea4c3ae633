"""How accurate the kernel quadrature is, measured against the closed forms at 40 digits.

For each activation with a closed form (:mod:`covsde.derive.gaussian_kernels`, checked there against
independent mpmath quadrature), F^{ab} = E[phi(Z_a) phi(Z_b)] is computed by the quadrature
(``closed_form=False``; the default rule, or the one named) over a grid of variances Q^{aa}, Q^{bb}
in {1e-4, 1e-2, 1, 1e2, 1e4} (equal and unequal) and correlations in {-0.999999, -0.5, 0, 0.3, 0.9,
0.999999}, and compared with the closed form evaluated by mpmath at 40 digits. The error is relative,

    |F_quadrature - F_exact| / max(|F_exact|, FLOOR sqrt(F^{aa} F^{bb})),

with an absolute floor tied to the scale sqrt(F^{aa} F^{bb}) (the Cauchy–Schwarz bound of |F^{ab}|)
where the kernel is ~0 (cos at variance 1e4 and rho = 0.3: e^{-7000}).

``python -m covsde.solvers.kernels.quadrature_accuracy`` prints the worst error per activation and
variance Q^{aa} (over Q^{bb} and rho).
"""
from __future__ import annotations

import mpmath
import numpy as np

from covsde.derive.gaussian_kernels import gaussian_kernel_closed_form
from covsde.solvers.kernels.gaussian_expectation import gaussian_kernel_map

#: The activations of the check: kinks, a jump, saturation with a shift, oscillation, a decaying
#: envelope, polynomials.
ACTIVATIONS = ("relu", "Heaviside(x)", "abs(x)", "2*erf(0.7*x) + 0.3", "cos", "exp(-x**2)", "x**2", "x**3")
VARIANCES = (1e-4, 1e-2, 1.0, 1e2, 1e4)
CORRELATIONS = (-0.999999, -0.5, 0.0, 0.3, 0.9, 0.999999)
#: Below FLOOR sqrt(F^aa F^bb) the error is measured against that scale.
FLOOR = 1e-3


def quadrature_errors(activation, variances=VARIANCES, correlations=CORRELATIONS, rule=None):
    """Errors of the quadrature against the closed form, shape (len(variances), len(variances),
    len(correlations)) over (Q^aa, Q^bb, rho) (see the module docstring)."""
    quadrature = gaussian_kernel_map(activation, rule=rule, closed_form=False)
    exact = gaussian_kernel_closed_form(activation).function("mpmath")
    qaa, qbb, rho = (a.ravel() for a in np.meshgrid(variances, variances, correlations, indexing="ij"))
    qab = rho * np.sqrt(qaa * qbb)
    values = quadrature.pairs(qaa, qbb, qab)
    # the exact kernel at the correlation the quadrature works with, Q^ab / (sqrt(Q^aa) sqrt(Q^bb))
    # in double precision: near rho = -1 the Heaviside kernel moves by 1e-14 when rho is rounded
    seen = np.clip(qab / (np.sqrt(qaa) * np.sqrt(qbb)), -1.0, 1.0)
    errors = np.empty(values.size)
    with mpmath.workdps(40):
        for i, (a, b, ab, r, value) in enumerate(zip(qaa, qbb, qab, seen, values)):
            A, B, AB = mpmath.mpf(float(a)), mpmath.mpf(float(b)), mpmath.mpf(float(ab))
            reference = exact(A, B, AB, mpmath.mpf(float(r)))
            scale = mpmath.sqrt(exact(A, A, A, mpmath.mpf(1)) * exact(B, B, B, mpmath.mpf(1)))
            errors[i] = float(abs(value - reference) / max(abs(reference), FLOOR * scale))
    return errors.reshape(len(variances), len(variances), len(correlations))


def accuracy_table(activations=ACTIVATIONS, variances=VARIANCES, correlations=CORRELATIONS, rule=None):
    """{activation: worst error per Q^aa (over Q^bb and rho)}, and the text table."""
    worst = {name: quadrature_errors(name, variances, correlations, rule).max(axis=(1, 2))
             for name in activations}
    width = max(len(name) for name in activations)
    lines = [f"{'activation':<{width}}  " + "  ".join(f"Q_aa={q:<8.0e}" for q in variances) + "  worst"]
    for name, row in worst.items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{e:<13.1e}" for e in row) + f"  {row.max():.1e}")
    return worst, "\n".join(lines)


if __name__ == "__main__":
    print("worst relative error of the kernel quadrature against the closed forms (40-digit mpmath),")
    print(f"over Q_bb in {list(VARIANCES)} and rho in {list(CORRELATIONS)}:")
    print(accuracy_table()[1])
