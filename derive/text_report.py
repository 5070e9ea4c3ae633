"""Plain-text and JSON reports of a derived :class:`~covsde.derive.CovarianceSDE`.

The LaTeX report lives beside this one (:mod:`covsde.derive.latex_report`); these are what
``covsde derive`` and ``covsde stability`` print. Every number and formula comes from the
derived object: nothing here computes mathematics, it only writes it down.

- :func:`sde_text_report`: the aligned two-column table of ``covsde derive``.
- :func:`sde_json_report`: the same as one JSON-ready dict (``covsde derive --json``).
- :func:`stability_text_report`: the four lines of ``covsde stability`` (one input, from V0).
"""
from __future__ import annotations

import sympy as sp

#: What each regime of the one-input norm SDE dV = b(V) dt + sqrt(2) V dB means (SPEC §1).
REGIME_WORDS = {
    "explodes": "the norm explodes in finite time with positive probability",
    "vanishes": "no explosion; the norm tends to 0",
    "stationary": "no explosion; the norm converges in law to a stationary distribution",
    "grows": "no explosion; the norm grows without bound",
}


def activation_label(sde) -> str:
    """The activation as the reports name it: its expression (smooth) or its family name."""
    return sde.activation.name if sde.family == "relu_like" else sp.sstr(sde.activation.expr)


def explosion_probability_at(sde, V0: float) -> float | None:
    """P(the norm explodes | V_0 = V0), or None while the regime is symbolic."""
    stability = sde.stability
    if stability.is_symbolic:
        return None
    return float(stability.explosion_probability(V0))


def stability_verdict(sde, V0: float = 1.0) -> str:
    """One line: the regime in words, P(explosion | V0) when it explodes, the long-run law.

    A symbolic regime (free activation parameters) is listed region by region.
    """
    stability = sde.stability
    if isinstance(stability.regime, dict):
        return "; ".join(f"{name} where {sp.sstr(cond)}" for name, cond in stability.regime.items())
    line = f"{stability.regime}: {REGIME_WORDS[stability.regime]}"
    if stability.regime == "explodes":
        line += f"; P(explosion | V0 = {V0:g}) = {explosion_probability_at(sde, V0):.6g}"
    mean = stability.stationary_mean
    if mean is not None:
        line += f"; long-run law with mean {mean:.6g}"
        if stability.k.is_number and sde.order == 2 and sde.convention == "normalized" and \
                sde.family == "smooth":
            k = abs(float(stability.k))
            line += f" (Gamma(shape {k - 1:g}, rate {k:g}))"
    return line


def norm_drift_text(sde) -> str:
    """b(V) of the one-input norm SDE dV = b(V) dt + sqrt(2) V dB, written in V."""
    return sp.sstr(sde.norm_drift_expr.subs(sp.Symbol("v", positive=True), sp.Symbol("V")))


def sde_text_report(sde, inputs: int | None = None) -> str:
    """The table ``covsde derive`` prints: activation, shaping, drift, diffusion, norm SDE, k, stability.

    Parameters
    ----------
    sde : CovarianceSDE
    inputs : int, optional
        Also list the entries b^ab (a <= b) of the m×m drift matrix for m = ``inputs``.
    """
    rows = []
    act = sde.activation
    if sde.family != "relu_like":
        rows.append(("activation", f"phi(x) = {sp.sstr(act.expr)}"))
        if act.note_at_zero:
            rows.append(("near 0", act.note_at_zero))
        rows.append(("normalisation", act.normalization or "none needed (phi(0) = 0, phi'(0) = 1)"))
        if act.is_one_sided:
            rows.append(("one-sided at 0", one_sided_text(act, max(3, (sde.order or 1) + 1))))
        else:
            rows.append(("phi''(0), phi'''(0)", f"{sp.sstr(sde.phi2)}, {sp.sstr(sde.phi3)}"))
        if act.has_slopes:
            rows.append(("slopes", f"+ (c+ max(x,0) + c- min(x,0))/sqrt(n), c+ = {sp.sstr(act.c_plus)}, "
                                   f"c- = {sp.sstr(act.c_minus)} (ReLU-like slopes 1 + c±/sqrt(n))"))
        if sde.exponent is None:
            rows.append(("shaping", "every order vanishes: zero drift (linear network) for any s"))
        else:
            why = ""
            if act.is_one_sided and sde.order == 1:
                why = "; the kink in phi'' at 0 keeps the O(1/s) term"
            rows.append(("shaping", f"s = {sp.sstr(sde.a)} * n^({sp.sstr(sde.exponent)}) "
                                    f"(critical; first term of order s^-{sde.order}{why})"))
    else:
        rows.append(("activation", f"ReLU-like: s+ max(x,0) + s- min(x,0), s± = 1 + c±/sqrt(n), "
                                   f"c+ = {sp.sstr(act.c_plus)}, c- = {sp.sstr(act.c_minus)}"))
        drift, _ = sde.correlation_sde()
        rows.append(("correlation SDE", f"d rho = [{sp.sstr(sp.simplify(drift))}] dt + (1 - rho^2) dW"))
    rows.append(("convention", sde.convention + (" (c^-1 = E[phi_s(w)^2])"
                                                 if sde.convention == "normalized" else " (c = 1)")))
    rows.append(("drift", f"b^ab = {sp.sstr(sde.drift_expr)}   [A = V^aa, B = V^bb, R = V^ab]"))
    rows.append(("diffusion", "Sigma^{ab,cd} = V^ac V^bd + V^ad V^bc"))
    rows.append(("norm SDE", f"dV = ({norm_drift_text(sde)}) dt + sqrt(2) V dB"))
    rows.append(("k", sp.sstr(sde.stability.k)))
    rows.append(("stability", stability_verdict(sde, 1.0)))
    if inputs:
        M = sde.drift_matrix(inputs)
        for i in range(inputs):
            for j in range(i, inputs):
                rows.append((f"b^{i + 1}{j + 1}", sp.sstr(M[i, j])))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def one_sided_text(act, degree: int) -> str:
    """The normalised activation's one-sided Taylor polynomials at 0 to ``degree``, e.g.
    ``x - x**2 + x**3 + O(x^4) (x > 0); x + x**2 + x**3 + O(x^4) (x < 0)``."""
    x = sp.Symbol("x")
    plus, minus = act.one_sided_coefficients(degree)

    def poly(c):
        return sp.sstr(sum(c[k] * x**k / sp.factorial(k) for k in range(len(c)))) + f" + O(x^{degree + 1})"
    return f"{poly(plus)} (x > 0); {poly(minus)} (x < 0)"


def sde_json_report(sde, V0: float = 1.0) -> dict:
    """The machine-readable summary (``covsde derive --json``, ``covsde stability --json``).

    Formulas are SymPy strings (``sympy.sstr``) in A = V^aa, B = V^bb, R = V^ab (drift) and v
    (norm drift); the regime is a name, or a dict region name -> condition when symbolic.
    """
    stability = sde.stability
    regime = stability.regime if isinstance(stability.regime, str) \
        else {k: sp.sstr(v) for k, v in stability.regime.items()}
    return {
        "activation": activation_label(sde),
        "family": sde.family,
        "normalization": sde.activation.normalization,
        "convention": sde.convention,
        "a": sp.sstr(sde.a),
        "phi2": None if sde.phi2 is None else sp.sstr(sde.phi2),
        "phi3": None if sde.phi3 is None else sp.sstr(sde.phi3),
        "c_plus": None if not sde.activation.has_slopes else sp.sstr(sde.activation.c_plus),
        "c_minus": None if not sde.activation.has_slopes else sp.sstr(sde.activation.c_minus),
        "note_at_zero": sde.activation.note_at_zero,
        "exponent": None if sde.exponent is None else sp.sstr(sde.exponent),
        "drift": sp.sstr(sde.drift_expr),
        "drift_variables": {"A": "V^aa", "B": "V^bb", "R": "V^ab"},
        "diffusion": "V^ac*V^bd + V^ad*V^bc",
        "norm_drift": sp.sstr(sde.norm_drift_expr),
        "k": sp.sstr(stability.k),
        "regime": regime,
        "V0": V0,
        "explosion_probability": explosion_probability_at(sde, V0),
    }


def stability_text_report(sde, V0: float = 1.0) -> str:
    """The four lines ``covsde stability`` prints: activation, norm SDE, k, verdict from V0."""
    return "\n".join([
        f"activation  {activation_label(sde)}  ({sde.convention})",
        f"norm SDE    dV = ({norm_drift_text(sde)}) dt + sqrt(2) V dB",
        f"k           {sp.sstr(sde.stability.k)}",
        f"verdict     {stability_verdict(sde, V0)}",
    ])
