"""``covsde derive`` and ``covsde stability``: parse the arguments, call
:func:`covsde.derive.derive_sde`, print its report (:mod:`covsde.derive.text_report`)."""
from __future__ import annotations

import argparse
import json
import math

from covsde.choices import ACTIVATIONS, CONVENTIONS
from covsde.derive import derive_sde
from covsde.derive.activation_library import RELU_LIKE_DEFAULTS
from covsde.derive.errors import InputError
from covsde.derive.text_report import sde_json_report, sde_text_report, stability_text_report


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
    p.add_argument("--c-plus", type=float, default=None, help=f"ReLU-like family: c+ (default {c_plus})")
    p.add_argument("--c-minus", type=float, default=None, help=f"ReLU-like family: c- (default {c_minus})")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="give an activation parameter a value (repeatable), e.g. --param alpha=0.1")


def sde_from_arguments(args):
    """``derive_sde`` called with the activation options of :func:`add_activation_arguments`."""
    params = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--param takes NAME=VALUE, got {item!r}")
        try:
            params[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"--param {name.strip()} needs a number, got {value!r}") from None
    if args.c_plus is not None:
        params["c_plus"] = args.c_plus
    if args.c_minus is not None:
        params["c_minus"] = args.c_minus
    for key, val in params.items():
        if not math.isfinite(val):
            raise InputError(f"{key} must be finite, got {val}")
    a = args.a
    try:
        a = float(a)
    except ValueError:
        pass
    return derive_sde(args.activation, a=a, convention=args.convention, **params)


def register(sub):
    p = sub.add_parser("derive", help="derive the covariance SDE of an activation",
                       description="Derive the Neural Covariance SDE (drift, diffusion, norm SDE, "
                                   "stability) of a shaped MLP from its activation.")
    add_activation_arguments(p)
    p.add_argument("more_activations", nargs="*", metavar="ACT",
                   help="with --latex: more activations, set side by side in one comparison table")
    p.add_argument("--inputs", type=int, default=None, metavar="M",
                   help="also print the m×m drift matrix for M inputs")
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
    s.add_argument("--V0", type=float, default=1.0, help="initial squared norm per unit (default 1)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=run_stability)


def _check_inputs(args):
    if args.inputs is not None and not 1 <= args.inputs <= 12:
        raise InputError(f"--inputs must be between 1 and 12, got {args.inputs}")
    if args.standalone and not args.latex:
        raise InputError("--standalone goes with --latex")
    if args.steps and not args.latex:
        raise InputError("--steps goes with --latex")
    if args.more_activations and not args.latex:
        raise InputError("several activations go with --latex (a comparison table)")
    if args.more_activations and (args.steps or args.inputs is not None):
        raise InputError("--steps and --inputs take one activation; several activations give "
                         "a comparison table")


def run_derive(args) -> int:
    _check_inputs(args)
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
    if not (math.isfinite(args.V0) and args.V0 > 0):
        raise InputError(f"--V0 must be a positive number, got {args.V0}")
    sde = sde_from_arguments(args)
    if args.json:
        print(json.dumps(sde_json_report(sde, V0=args.V0), indent=2))
    else:
        print(stability_text_report(sde, V0=args.V0))
    return 0
