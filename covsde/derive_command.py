"""``covsde derive`` and ``covsde stability``: thin wrappers over :func:`derive.derive_sde`."""
from __future__ import annotations

import json
import math

import sympy as sp

from covsde.derive import derive_sde
from covsde.derive.errors import InputError

_REGIME_WORDS = {
    "explodes": "the norm explodes in finite time with positive probability",
    "vanishes": "no explosion; the norm tends to 0",
    "stationary": "no explosion; the norm converges in law to a stationary distribution",
    "grows": "no explosion; the norm grows without bound",
}


def _add_activation_arguments(p):
    p.add_argument("activation", metavar="ACT",
                   help="built-in name (tanh, sin, atan, erf, sinh, gelu, silu, swish, softplus, "
                        "linear, relu) or an expression in x, e.g. 'x + alpha*x**2'")
    p.add_argument("--a", default="1", help="shaping constant a of s = a n^p (number or symbol; default 1)")
    p.add_argument("--convention", choices=("normalized", "unnormalized"), default="normalized",
                   help="normalized: c^-1 = E[phi_s(w)^2] (the paper's, default); unnormalized: c = 1")
    p.add_argument("--c-plus", type=float, default=None, help="ReLU-like family: c+ (default 0)")
    p.add_argument("--c-minus", type=float, default=None, help="ReLU-like family: c- (default -1)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="give an activation parameter a value (repeatable), e.g. --param alpha=0.1")


def _sde_from_args(args):
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
    _add_activation_arguments(p)
    p.add_argument("--inputs", type=int, default=None, metavar="M",
                   help="also print the m×m drift matrix for M inputs")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--latex", action="store_true", help="print LaTeX")
    out.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--standalone", action="store_true",
                   help="with --latex: a complete document that compiles")
    p.set_defaults(func=run_derive)

    s = sub.add_parser("stability", help="classify the norm: explodes, vanishes or stationary",
                       description="Stability of the norm of a shaped network (one input): k, the "
                                   "regime, the explosion probability from V0, the long-run law.")
    _add_activation_arguments(s)
    s.add_argument("--V0", type=float, default=1.0, help="initial squared norm per unit (default 1)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=run_stability)


def _check_inputs(args):
    if args.inputs is not None and not 1 <= args.inputs <= 12:
        raise InputError(f"--inputs must be between 1 and 12, got {args.inputs}")
    if args.standalone and not args.latex:
        raise InputError("--standalone goes with --latex")


def _explosion_at(sde, V0):
    st = sde.stability
    if st.is_symbolic:
        return None
    return float(st.explosion_probability(V0))


def summary_dict(sde, V0=1.0) -> dict:
    """The machine-readable summary printed by ``covsde derive --json``."""
    st = sde.stability
    regime = st.regime if isinstance(st.regime, str) else {k: sp.sstr(v) for k, v in st.regime.items()}
    return {
        "activation": sp.sstr(sde.activation.expr) if sde.family == "smooth" else sde.activation.name,
        "family": sde.family,
        "normalization": sde.activation.normalization,
        "convention": sde.convention,
        "a": sp.sstr(sde.a),
        "phi2": None if sde.phi2 is None else sp.sstr(sde.phi2),
        "phi3": None if sde.phi3 is None else sp.sstr(sde.phi3),
        "c_plus": None if sde.family == "smooth" else sp.sstr(sde.activation.c_plus),
        "c_minus": None if sde.family == "smooth" else sp.sstr(sde.activation.c_minus),
        "exponent": None if sde.exponent is None else sp.sstr(sde.exponent),
        "drift": sp.sstr(sde.drift_expr),
        "drift_variables": {"A": "V^aa", "B": "V^bb", "R": "V^ab"},
        "diffusion": "V^ac*V^bd + V^ad*V^bc",
        "norm_drift": sp.sstr(sde.norm_drift_expr),
        "k": sp.sstr(st.k),
        "regime": regime,
        "V0": V0,
        "explosion_probability": _explosion_at(sde, V0),
    }


def _stability_line(sde, V0):
    st = sde.stability
    if isinstance(st.regime, dict):
        return "; ".join(f"{name} where {sp.sstr(cond)}" for name, cond in st.regime.items())
    line = f"{st.regime}: {_REGIME_WORDS[st.regime]}"
    if st.regime == "explodes":
        line += f"; P(explosion | V0 = {V0:g}) = {_explosion_at(sde, V0):.6g}"
    mean = st.stationary_mean
    if mean is not None:
        line += f"; long-run law with mean {mean:.6g}"
        if st.k.is_number and sde.order == 2 and sde.convention == "normalized":
            kk = abs(float(st.k))
            line += f" (Gamma(shape {kk - 1:g}, rate {kk:g}))"
    return line


def _norm_drift_text(sde):
    return sp.sstr(sde.norm_drift_expr.subs(sp.Symbol("v", positive=True), sp.Symbol("V")))


def _text(sde, inputs=None):
    rows = []
    act = sde.activation
    if sde.family == "smooth":
        rows.append(("activation", f"phi(x) = {sp.sstr(act.expr)}"))
        rows.append(("normalisation", act.normalization or "none needed (phi(0) = 0, phi'(0) = 1)"))
        rows.append(("phi''(0), phi'''(0)", f"{sp.sstr(sde.phi2)}, {sp.sstr(sde.phi3)}"))
        if sde.exponent is None:
            rows.append(("shaping", "every order vanishes: zero drift (linear network) for any s"))
        else:
            rows.append(("shaping", f"s = {sp.sstr(sde.a)} * n^({sp.sstr(sde.exponent)}) "
                                    f"(critical; first term of order s^-{sde.order})"))
    else:
        rows.append(("activation", f"ReLU-like: s+ max(x,0) + s- min(x,0), s± = 1 + c±/sqrt(n), "
                                   f"c+ = {sp.sstr(act.c_plus)}, c- = {sp.sstr(act.c_minus)}"))
        drift, _ = sde.correlation_sde()
        rows.append(("correlation SDE", f"d rho = [{sp.sstr(sp.simplify(drift))}] dt + (1 - rho^2) dW"))
    rows.append(("convention", sde.convention + (" (c^-1 = E[phi_s(w)^2])"
                                                 if sde.convention == "normalized" else " (c = 1)")))
    rows.append(("drift", f"b^ab = {sp.sstr(sde.drift_expr)}   [A = V^aa, B = V^bb, R = V^ab]"))
    rows.append(("diffusion", "Sigma^{ab,cd} = V^ac V^bd + V^ad V^bc"))
    rows.append(("norm SDE", f"dV = ({_norm_drift_text(sde)}) dt + sqrt(2) V dB"))
    rows.append(("k", sp.sstr(sde.stability.k)))
    rows.append(("stability", _stability_line(sde, 1.0)))
    if inputs:
        M = sde.drift_matrix(inputs)
        for i in range(inputs):
            for j in range(i, inputs):
                rows.append((f"b^{i + 1}{j + 1}", sp.sstr(M[i, j])))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def run_derive(args) -> int:
    _check_inputs(args)
    sde = _sde_from_args(args)
    if args.json:
        print(json.dumps(summary_dict(sde), indent=2))
    elif args.latex:
        print(sde.latex(standalone=args.standalone, inputs=args.inputs))
    else:
        print(_text(sde, inputs=args.inputs))
    return 0


def run_stability(args) -> int:
    if not (math.isfinite(args.V0) and args.V0 > 0):
        raise InputError(f"--V0 must be a positive number, got {args.V0}")
    sde = _sde_from_args(args)
    if args.json:
        print(json.dumps(summary_dict(sde, V0=args.V0), indent=2))
        return 0
    print(f"activation  {sp.sstr(sde.activation.expr) if sde.family == 'smooth' else sde.activation.name}"
          f"  ({sde.convention})")
    print(f"norm SDE    dV = ({_norm_drift_text(sde)}) dt + sqrt(2) V dB")
    print(f"k           {sp.sstr(sde.stability.k)}")
    print(f"verdict     {_stability_line(sde, args.V0)}")
    return 0
