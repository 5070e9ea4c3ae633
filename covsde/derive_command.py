"""``covsde derive`` and ``covsde stability``: parse the arguments, call
:func:`covsde.derive.derive_sde`, print its report (:mod:`covsde.derive.text_report`)."""
from __future__ import annotations

import argparse
import json
import sys

import sympy as sp

from covsde import option_types
from covsde.choices import ACTIVATIONS, CONVENTIONS
from covsde.derive import derive_sde
from covsde.derive.activation_library import RELU_LIKE_DEFAULTS
from covsde.derive.errors import InputError
from covsde.derive.text_report import sde_json_report, sde_text_report, stability_text_report

#: Coefficients of the derived drift must lie between these in size (or be 0): float64's normal range.
FLOAT64_RANGE = (sys.float_info.min, sys.float_info.max)


def add_activation_arguments(p):
    """The activation and its options, shared by derive, stability, simulate and compare."""
    p.add_argument("activation", metavar="ACT",
                   help=f"built-in name ({', '.join(ACTIVATIONS)}) or an expression in x, "
                        "e.g. 'x + alpha*x**2'")
    p.add_argument("--a", default="1", help="shaping constant a of s = a n^p (number or symbol; default 1)")
    p.add_argument("--convention", choices=CONVENTIONS, default="normalized", metavar="CONVENTION",
                   help="one of %(choices)s; normalized: c^-1 = E[phi_s(w)^2] (the paper's, default); "
                        "unnormalized: c = 1")
    c_plus, c_minus = RELU_LIKE_DEFAULTS
    p.add_argument("--c-plus", type=option_types.finite_float, default=None,
                   help=f"ReLU-like family: c+ (default {c_plus})")
    p.add_argument("--c-minus", type=option_types.finite_float, default=None,
                   help=f"ReLU-like family: c- (default {c_minus})")
    add_parameter_argument(p)
    p.add_argument("--declare", action="append", default=[], metavar="NAME",
                   help="accept NAME as a symbolic parameter of the expression (repeatable); single "
                        "letters and Greek names (a, c_1, alpha) need no declaration")


def add_parameter_argument(p):
    """``--param NAME=VALUE`` (repeatable): a value for a free name of the activation expression."""
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="give an activation parameter a value (repeatable), e.g. --param alpha=0.1")


def parameter_values(items) -> dict:
    """``["alpha=0.1", ...]`` of ``--param`` -> ``{"alpha": 0.1, ...}``, each a normal float64."""
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--param takes NAME=VALUE, e.g. --param alpha=0.1, got {item!r}")
        try:
            params[name.strip()] = option_types.finite_float(value.strip())
        except argparse.ArgumentTypeError as exc:
            raise InputError(f"--param {name.strip()} {exc}") from None
    return params


def sde_from_arguments(args):
    """``derive_sde`` called with the activation options of :func:`add_activation_arguments`, its
    coefficients checked to fit a float64 (:func:`check_float64_range`)."""
    params = parameter_values(args.param)
    params.update({name: sp.Symbol(name, real=True) for name in args.declare if name not in params})
    if args.c_plus is not None:
        params["c_plus"] = args.c_plus
    if args.c_minus is not None:
        params["c_minus"] = args.c_minus
    a = args.a
    try:
        float(a)
    except ValueError:       # a parameter name, or text the library refuses in its own words
        pass
    else:
        try:
            a = option_types.finite_float(a)
        except argparse.ArgumentTypeError as exc:
            raise InputError(f"--a {exc}") from None
    sde = derive_sde(args.activation, a=a, convention=args.convention, **params)
    check_float64_range(sde, given=_given_options(args))
    return sde


def _given_options(args) -> str:
    given = [f"--param {item}" for item in args.param]
    given += [f"--{name.replace('_', '-')} {getattr(args, name)}" for name in ("c_plus", "c_minus")
              if getattr(args, name) is not None]
    if args.a != "1":
        given.append(f"--a {args.a}")
    return ", ".join(given)


def check_float64_range(sde, given: str = "") -> None:
    """Refuse an SDE whose numbers cannot be computed in float64.

    The derivation is exact (SymPy rationals), so ``--param alpha=1e200`` derives k = 3e400 and
    ``--a 1e300`` a drift of size 1e-600 without complaint; but every number printed or simulated
    from them (the explosion probability, the long-run law, the drift of a path) is a float64,
    which holds sizes from about 2.2e-308 to 1.8e308 only: 3e400 becomes inf and 1e-600 becomes 0.
    Each numeric coefficient of the drift b^ab and of the norm drift b(v) (and k) must lie in that
    range or be 0.

    Raises
    ------
    InputError
        Naming the coefficient, its size and the options given.
    """
    for what, expr in (("drift b^ab", sde.drift_expr), ("norm drift b(v)", sde.norm_drift_expr)):
        symbols = tuple(expr.free_symbols)
        for term in sp.Add.make_args(sp.expand(expr)):
            coefficient = term.as_independent(*symbols)[0] if symbols else term
            if coefficient == 0:
                continue
            size = abs(sp.N(coefficient, 3))
            if not FLOAT64_RANGE[0] <= size <= FLOAT64_RANGE[1]:
                beyond = ("overflows float64 (largest 1.8e+308)" if size > 1 else
                          "underflows float64 (smallest normal 2.2e-308)")
                raise InputError(f"the {what} has a coefficient of size {sp.sstr(size)}, which {beyond}, so "
                                 f"its numbers cannot be computed; give values of moderate size"
                                 f"{' (given: ' + given + ')' if given else ''}")


def register(sub):
    p = sub.add_parser("derive", help="derive the covariance SDE of an activation",
                       description="Derive the Neural Covariance SDE (drift, diffusion, norm SDE, "
                                   "stability) of a shaped MLP from its activation.")
    add_activation_arguments(p)
    p.add_argument("more_activations", nargs="*", metavar="ACT",
                   help="with --latex: more activations, set side by side in one comparison table")
    p.add_argument("--inputs", type=option_types.integer_between(1, 12), default=None, metavar="M",
                   help="also print the m×m drift matrix for M inputs (1 to 12)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--latex", action="store_true", help="print LaTeX")
    out.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--standalone", action="store_true",
                   help="with --latex: a complete document that compiles with pdflatex")
    p.add_argument("--steps", action="store_true",
                   help="with --latex: the derivation appendix (setting, Taylor coefficients, "
                        "shaping, Gaussian moments, drift, norm, references)")
    p.set_defaults(func=run_derive)

    s = sub.add_parser("stability", help="classify the norm: explodes, vanishes or stationary",
                       description="Stability of the norm of a shaped network (one input): k, the "
                                   "regime, the explosion probability from V0, the long-run law.")
    add_activation_arguments(s)
    s.add_argument("--V0", type=option_types.positive_float, default=1.0,
                   help="initial squared norm per unit (default 1)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=run_stability)


def run_derive(args) -> int:
    if args.standalone and not args.latex:
        raise InputError("--standalone goes with --latex")
    if args.steps and not args.latex:
        raise InputError("--steps goes with --latex")
    if args.more_activations and not args.latex:
        raise InputError("several activations go with --latex (a comparison table)")
    if args.more_activations and (args.steps or args.inputs is not None):
        raise InputError("--steps and --inputs take one activation; several activations give "
                         "a comparison table")
    sde = sde_from_arguments(args)
    if args.json:
        print(json.dumps(sde_json_report(sde), indent=2))
    elif args.more_activations:
        from covsde.derive.latex_comparison import comparison_latex
        sdes = [sde] + [sde_from_arguments(argparse.Namespace(**{**vars(args), "activation": name}))
                        for name in args.more_activations]
        print(comparison_latex(sdes, standalone=args.standalone), end="")
    elif args.latex:
        print(sde.latex(standalone=args.standalone, inputs=args.inputs, steps=args.steps))
    else:
        print(sde_text_report(sde, inputs=args.inputs))
    return 0


def run_stability(args) -> int:
    sde = sde_from_arguments(args)
    if args.json:
        print(json.dumps(sde_json_report(sde, V0=args.V0), indent=2))
    else:
        print(stability_text_report(sde, V0=args.V0))
    return 0
