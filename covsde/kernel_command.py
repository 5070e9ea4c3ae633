"""``covsde kernel ACT --resnet --t 1 --inputs FILE.npy``: Hayou's ResNet kernel (SPEC §2).

Reads the inputs (rows of FILE.npy), forms q_0 = X X^T / n0, solves the kernel ODE (or runs the
finite-depth recursion with ``--recursion L``) and prints the kernel or saves it with ``--out``.
"""
from __future__ import annotations

import sys

import numpy as np
import sympy as sp

from covsde.derive import InputError, parse_activation_string
from covsde.derive.codegen import to_callable
from covsde.derive.errors import ActivationError

_T = sp.Symbol("t", real=True)


def register(subparsers):
    parser = subparsers.add_parser(
        "kernel", help="the infinite-width ResNet kernel at depth-time t (kernel ODE or recursion)",
        description="Hayou's ResNet kernel dq/dt = alpha(t)^2 F_phi(q), q(0) = X X^T / n0, for the rows "
                    "of X in FILE.npy; phi is the plain branch activation (relu = max(x, 0)).")
    parser.add_argument("activation", metavar="ACT", help="activation: a name (relu, tanh, erf, ...) or an "
                                                          "expression in x")
    parser.add_argument("--resnet", action="store_true", help="the ResNet kernel (the only kernel for now)")
    parser.add_argument("--t", type=float, default=1.0, help="depth-time t > 0 (default 1: the whole network)")
    parser.add_argument("--inputs", required=True, metavar="FILE.npy",
                        help="inputs as the rows of an (m, n0) array saved with numpy.save")
    parser.add_argument("--alpha", default=None, metavar="EXPR",
                        help="branch schedule alpha(t), alpha_(l,L) = alpha(l/L)/sqrt(L), e.g. 'sqrt(2*t)' "
                             "(default 1)")
    parser.add_argument("--out", default=None, metavar="K.npy", help="save the (m, m) kernel here instead of "
                                                                      "printing it")
    parser.add_argument("--degree", type=int, default=None,
                        help="quadrature nodes per dimension for activations without a closed form (default 64)")
    parser.add_argument("--recursion", type=int, default=None, metavar="L",
                        help="the depth-L infinite-width recursion instead of the ODE")
    parser.add_argument("--rtol", type=float, default=1e-8, help="ODE relative tolerance (default 1e-8)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from covsde.solvers.kernels.resnet_kernel import resnet_kernel  # lazy: keeps `covsde derive` start-up fast
    if not args.resnet:
        raise InputError("only the ResNet kernel is available: add --resnet")
    inputs = _load_inputs(args.inputs)
    gram = inputs @ inputs.T / inputs.shape[1]
    alpha = _parse_alpha(args.alpha)
    if args.recursion is not None:
        result = resnet_kernel(args.activation, gram, t=args.t, alpha=alpha, method="recursion",
                               depth=args.recursion, degree=args.degree)
    else:
        result = resnet_kernel(args.activation, gram, t=args.t, alpha=alpha, rtol=args.rtol,
                               atol=args.rtol * 1e-2, degree=args.degree)
    if not result.success:
        raise InputError(f"the kernel ODE failed: {result.message}")
    m = gram.shape[0]
    what = f"ResNet kernel q(t = {result.t:g}) of {m} inputs for {args.activation} ({result.method})"
    if args.out:
        try:
            np.save(args.out, result.q)
        except OSError as exc:
            raise InputError(f"cannot write {args.out}: {exc.strerror or exc}") from None
        print(f"saved the {what} to {args.out}")
        return 0
    print(f"# {what}")
    np.savetxt(sys.stdout, result.q, fmt="%.12g")
    return 0


def _load_inputs(path):
    try:
        inputs = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or "not a numpy .npy array file"
        raise InputError(f"cannot read inputs from {path}: {reason}; give an (m, n0) array saved with "
                         "numpy.save") from None
    if not isinstance(inputs, np.ndarray) or inputs.ndim != 2 or inputs.size == 0 \
            or not np.issubdtype(inputs.dtype, np.number):
        raise InputError(f"{path} must hold a numeric (m, n0) array, one input per row; got "
                         f"{getattr(inputs, 'shape', '?')}")
    inputs = inputs.astype(np.float64)
    if not np.all(np.isfinite(inputs)):
        raise InputError(f"{path} has non-finite entries")
    return inputs


def _parse_alpha(text):
    """The --alpha expression in t as a float function, or None."""
    if text is None:
        return None
    try:
        expr = parse_activation_string(text)
    except ActivationError as exc:
        raise InputError(f"cannot parse --alpha {text!r}: give an expression in t such as 'sqrt(2*t)'") \
            from exc
    names = {s.name for s in expr.free_symbols}
    if names - {"t"}:
        raise InputError(f"--alpha may only use the variable t, got {sorted(names - {'t'})}")
    symbol = next(iter(expr.free_symbols), _T)
    function = to_callable(expr, (symbol,), "numpy")
    return lambda time: float(function(time))
