"""``covsde kernel ACT --resnet --t 1 --inputs FILE.npy``: Hayou's ResNet kernel (SPEC §2).

Reads the inputs (rows of FILE.npy, checked from its header before loading), forms
q_0 = X X^T / n0, solves the kernel ODE (or runs the finite-depth recursion with ``--recursion L``)
and prints the kernel or saves it with ``--out``.
"""
from __future__ import annotations

import sys

import numpy as np

from covsde import option_types
from covsde.derive import InputError
from covsde.derive.plain_activation import as_plain_activation
from covsde.derive_command import add_parameter_argument, parameter_values
from covsde.input_array import read_input_rows
from covsde.output_file import writable_file


def register(subparsers):
    parser = subparsers.add_parser(
        "kernel", help="the infinite-width ResNet kernel at depth-time t (kernel ODE or recursion)",
        description="Hayou's ResNet kernel dq/dt = alpha(t)^2 F_phi(q), q(0) = X X^T / n0, for the rows "
                    "of X in FILE.npy; phi is the plain branch activation as written (relu = max(x, 0)), any "
                    "function with finite Gaussian second moments: cos, x**2, exp(-x**2), abs(x), "
                    "Heaviside(x), ... (closed forms where they exist, quadrature otherwise).")
    parser.add_argument("activation", metavar="ACT", help="activation: a name (relu, tanh, erf, cos, ...) or an "
                                                          "expression in x (no shaping rule applies)")
    parser.add_argument("--resnet", action="store_true", help="the ResNet kernel (the only kernel for now)")
    parser.add_argument("--t", type=option_types.positive_float, default=1.0,
                        help="depth-time t > 0 (default 1: the whole network)")
    parser.add_argument("--inputs", required=True, metavar="FILE.npy",
                        help="inputs as the rows of a real (m, n0) array saved with numpy.save")
    parser.add_argument("--alpha", default=None, metavar="EXPR",
                        help="branch schedule alpha(t), alpha_(l,L) = alpha(l/L)/sqrt(L), e.g. 'sqrt(2*t)', "
                             "finite on [0, t] (default 1)")
    add_parameter_argument(parser)
    parser.add_argument("--out", default=None, metavar="FILE",
                        help="save the (m, m) kernel to FILE (numpy .npy format, written under exactly "
                             "this name) instead of printing it")
    parser.add_argument("--degree", type=option_types.positive_int, default=None,
                        help="nodes per dimension of the Hermite/trapezoid rules for activations without a "
                             "closed form, at least 2 (default 64)")
    parser.add_argument("--recursion", dest="depth", type=option_types.positive_int, default=None, metavar="L",
                        help="the depth-L infinite-width recursion instead of the ODE")
    parser.add_argument("--rtol", type=option_types.tolerance, default=1e-8,
                        help="ODE relative tolerance, between 0 and 1 (default 1e-8)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from covsde.solvers.kernels.resnet_kernel import resnet_kernel  # lazy: keeps `covsde derive` start-up fast
    if not args.resnet:
        raise InputError("only the ResNet kernel is available: add --resnet")
    out = None if args.out is None else writable_file(args.out, "--out")
    inputs = read_input_rows(args.inputs)
    gram = inputs @ inputs.T / inputs.shape[1]
    params = parameter_values(args.param)
    phi = as_plain_activation(args.activation, **params)
    if args.depth is not None:
        result = resnet_kernel(phi, gram, t=args.t, alpha=args.alpha, method="recursion",
                               depth=args.depth, degree=args.degree)
    else:
        result = resnet_kernel(phi, gram, t=args.t, alpha=args.alpha, rtol=args.rtol,
                               atol=args.rtol * 1e-2, degree=args.degree)
    if not result.success:
        raise InputError(f"the kernel ODE stopped at t = {result.t:.6g} before --t {args.t:g}: the kernel "
                         "grows without bound there (or too fast to follow); give a smaller --t, a milder "
                         "--alpha or a larger --rtol")
    m = gram.shape[0]
    what = f"ResNet kernel q(t = {result.t:g}) of {m} inputs for {args.activation} ({result.method})"
    if out is not None:
        with open(out, "wb") as handle:     # a file object: numpy appends no ".npy" to the name
            np.save(handle, result.q)
        print(f"saved the {what} to {args.out}")
        return 0
    print(f"# {what}")
    np.savetxt(sys.stdout, result.q, fmt="%.12g")
    return 0
