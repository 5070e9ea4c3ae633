"""Benchmark 7: the ResNet kernel by its ODE vs the layer-by-layer recursion, to accuracy 1e-6.

Hayou's infinite-width ResNet kernel (SPEC §2) for 500 inputs (x in R^20, q_0 = X Xᵀ/20), t = 1,
uniform branches. The recursion q_l = q_{l-1} + F(q_{l-1})/L is the Euler scheme of
dq/dt = F(q), so its error is C/L: the error is measured at a few L against a tight ODE
reference, C fitted, and L_needed = C / 1e-6 extrapolated; the recursion's time is its fixed cost
(input checks) plus its time per layer × L_needed, both from timings at L = 1 and the largest
measured L (the cost per layer does not depend on L). The ODE (``resnet_kernel``, DOP853) is timed at the
loosest tolerance rtol in 1e-4 … 1e-8 (atol = rtol/100) whose error is below 1e-6.
Relative error: max_ab |q - q_ref| / max_ab |q_ref|. Target: ODE ≥ 100× faster.
"""
from __future__ import annotations

import numpy as np

from covsde.verdict import at_least

from .report import BenchmarkReport, Ratio, print_table
from .timing import format_seconds, time_call

NUMBER = 7
TITLE = "Kernel ODE vs layer recursion"
INPUTS = 500
ACCURACY = 1e-6


def _relative_error(q, reference):
    return float(np.max(np.abs(q - reference)) / np.max(np.abs(reference)))


def run(quick: bool, figure_dir=None) -> BenchmarkReport:
    from covsde.solvers.kernels.gaussian_expectation import gaussian_kernel_map
    from covsde.solvers.kernels.resnet_kernel import resnet_kernel, resnet_kernel_recursion
    report = BenchmarkReport(NUMBER, "kernel_ode", TITLE)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((INPUTS, 20))
    Q0 = X @ X.T / X.shape[1]
    depths = (8, 16, 32) if quick else (16, 32, 64, 128)
    for activation in (("relu",) if quick else ("relu", "erf")):
        F = gaussian_kernel_map(activation)
        reference = resnet_kernel(activation, Q0, rtol=1e-12, atol=1e-14).q
        for rtol in (1e-4, 1e-5, 1e-6, 1e-7, 1e-8):
            ode_result = resnet_kernel(activation, Q0, rtol=rtol, atol=rtol / 100)
            ode_error = _relative_error(ode_result.q, reference)
            if ode_error <= ACCURACY:
                break
        ode = time_call(lambda: resnet_kernel(activation, Q0, rtol=rtol, atol=rtol / 100),
                        repeat=2 if quick else 3, warmup=0)
        errors, rows = [], []
        for L in depths:
            q = resnet_kernel_recursion(F, Q0, depth=L)
            errors.append(_relative_error(q, reference))
            rows.append([L, f"{errors[-1]:.3e}"])
        one = time_call(lambda: resnet_kernel_recursion(F, Q0, depth=1), repeat=5, warmup=0).best
        deepest = time_call(lambda: resnet_kernel_recursion(F, Q0, depth=depths[-1]), repeat=3, warmup=0).best
        slope, intercept = np.polyfit(np.log(depths), np.log(errors), 1)
        constant = float(np.exp(np.mean(np.log(errors) + np.log(depths))))   # error = C / L
        needed = constant / ACCURACY
        layer_time = max((deepest - one) / (depths[-1] - 1), 0.0)
        fixed = max(one - layer_time, 0.0)
        recursion_time = fixed + needed * layer_time
        print(f"  {activation}: {INPUTS} inputs, t = 1; ODE (DOP853, rtol = {rtol:g}): "
              f"{ode} for {ode_result.nfev} evaluations of F, error {ode_error:.1e}")
        print_table(["recursion L", "relative error"], rows)
        print(f"  recursion: {format_seconds(layer_time)} per layer + {format_seconds(fixed)} fixed")
        print(f"  fitted error ∝ L^{slope:.3f} (first order expected); error = {constant:.4g}/L "
              f"needs L = {needed:,.0f} for {ACCURACY:g}: {format_seconds(recursion_time)} projected")
        ratio = recursion_time / ode.best if ode_error <= ACCURACY else float("nan")
        report.ratios.append(Ratio(
            f"{activation} kernel, {INPUTS} inputs, accuracy 1e-6: recursion / ODE", ratio,
            f"ODE {ode} (error {ode_error:.0e}) vs recursion L = {needed:,.0f} × "
            f"{format_seconds(layer_time)} per layer + {format_seconds(fixed)} = "
            f"{format_seconds(recursion_time)} (extrapolated)",
            at_least(100)))
    return report


if __name__ == "__main__":
    from . import main_for
    raise SystemExit(main_for("kernel_ode"))
