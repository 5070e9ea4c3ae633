"""LaTeX for a derived covariance SDE: snippets and a standalone document that compiles."""
from __future__ import annotations

import re

import sympy as sp

from .activation_parser import X
from .norm_stability import V0, v
from .shaping import A, B, R

_DISPLAY = {A: sp.Symbol(r"V^{ii}"), B: sp.Symbol(r"V^{jj}"), R: sp.Symbol(r"V^{ij}")}
_REGIME_TEXT = {
    "explodes": "the norm explodes in finite time with positive probability",
    "vanishes": "the norm does not explode and $V_t \\to 0$ almost surely",
    "stationary": "the norm does not explode and converges in law to a stationary distribution",
    "grows": "the norm grows without bound but does not explode in finite time",
}


def _tex(expr) -> str:
    return sp.latex(expr.subs(_DISPLAY, simultaneous=True) if isinstance(expr, sp.Basic) else expr)


def sde_snippets(sde, inputs: int | None = None) -> dict:
    """Named LaTeX snippets (strings without math delimiters) of the derivation."""
    act = sde.activation
    out = {}
    if act.family == "smooth":
        degree = (sde.order or 2) + 1
        coeffs = act.taylor_coefficients(degree)
        poly = sum(c / sp.factorial(k) * X**k for k, c in enumerate(coeffs))
        out["activation"] = r"\varphi(x) = " + sp.latex(act.expr)
        out["taylor"] = r"\varphi(x) = " + sp.latex(sp.Poly(poly, X).as_expr()) + \
            rf" + O(x^{{{degree + 1}}})"
        p = sde.exponent if sde.exponent is not None else sp.Rational(1, 2)
        out["shaping"] = (r"\varphi_s(x) = s\,\varphi(x/s),\quad s = " + sp.latex(sde.a) +
                          r"\, n^{" + sp.latex(p) + "}")
    else:
        out["activation"] = (r"\varphi_s(x) = s_+ \max(x,0) + s_- \min(x,0),\quad s_\pm = 1 + "
                             r"\frac{c_\pm}{\sqrt{n}},\ c_+ = " + sp.latex(act.c_plus) +
                             r",\ c_- = " + sp.latex(act.c_minus))
        rho = sp.Symbol(r"\rho")
        out["nu"] = r"\nu(\rho) = " + sp.latex(sde._nu.subs(sp.Symbol("rho", real=True), rho))
        drift, diff = sde.correlation_sde()
        rr = sp.Symbol("rho", real=True)
        out["correlation_sde"] = (r"d\rho_t = \left[" + sp.latex(sp.simplify(drift).subs(rr, rho)) +
                                  r"\right] dt + \left(1 - \rho_t^2\right) dW_t")
    drift = sde.drift_expr if act.family == "smooth" else \
        sp.Symbol(r"\nu(\rho^{ij})") * sp.sqrt(A * B)
    out["drift"] = r"b^{ij}(V) = " + _tex(drift)
    out["diffusion"] = r"\Sigma^{ij,kl}(V) = V^{ik}V^{jl} + V^{il}V^{jk}"
    out["sde"] = r"dV_t = b(V_t)\,dt + \Sigma(V_t)^{1/2}\,dB_t"
    out["norm_sde"] = norm_sde_snippet(sde.norm_drift_expr)
    out["stability"] = stability_snippet(sde.stability)
    if inputs:
        out["drift_matrix"] = r"b(V) = " + sp.latex(sde.drift_matrix(inputs))
    return out


def norm_sde_snippet(norm_drift) -> str:
    """dV_t = b(V_t) dt + sqrt(2) V_t dB_t for the one-input drift b(v) (SymPy, in v)."""
    return (r"dV_t = \left(" + sp.latex(norm_drift.subs(v, sp.Symbol("V_t"))) +
            r"\right) dt + \sqrt{2}\, V_t\, dB_t")


def stability_snippet(st) -> str:
    """k and the verdict of a :class:`covsde.derive.norm_stability.NormStability` (with P(explosion))."""
    if isinstance(st.regime, dict):
        return r"k = " + sp.latex(st.k) + r";\quad " + r",\quad ".join(
            rf"\text{{{name}}}: {sp.latex(cond)}" for name, cond in st.regime.items())
    verdict = rf"k = {sp.latex(st.k)}: \text{{{_REGIME_TEXT[st.regime]}}}"
    if st.regime == "explodes":
        verdict += r",\quad P(\text{explosion}\mid V_0) = " + \
            sp.latex(st.explosion_probability_expr().args[0][0]
                     if isinstance(st.explosion_probability_expr(), sp.Piecewise)
                     else st.explosion_probability_expr())
    return verdict


def regime_label(st) -> str:
    """The regime's name(s): ``stationary``, or ``explodes / stationary / vanishes`` with parameters."""
    return " / ".join(st.regime) if isinstance(st.regime, dict) else st.regime


def shaping_expansion_snippet(expansion) -> str:
    """c E[phi_s(x) phi_s(y)] - V^ij = s^-q (coefficient) + ... of a ShapingExpansion, s = a n^(1/q)."""
    lhs = r"c\,\mathbb{E}[\varphi_s(x)\varphi_s(y)] - V^{ij} = "
    if expansion.order is None:
        return lhs + r"0 \quad (\varphi(x) = x)"
    return (lhs + rf"s^{{-{expansion.order}}} \left({_tex(expansion.coefficient)}\right) + \dots,"
            r"\quad s = a\, n^{" + sp.latex(expansion.exponent) + "}")


#: Titles of the snippets, as the LaTeX documents and notebook displays name them.
SNIPPET_TITLES = {"activation": "Activation", "normalization": "Normalisation",
                  "taylor": "Taylor expansion at 0", "shaping": "Shaping",
                  "nu": "ReLU-like drift function", "drift": "Drift", "diffusion": "Diffusion",
                  "sde": "Neural covariance SDE", "norm_sde": "Norm SDE (one input)",
                  "stability": "Stability of the norm", "correlation_sde": "Correlation SDE",
                  "drift_matrix": "Drift matrix"}


def aligned_display(rows) -> str:
    """(title, snippet) rows as one ``$$\\begin{aligned}...$$`` block: what a notebook renders."""
    lines = [rf"\text{{{_escape(title)}}}\quad & {tex}" for title, tex in rows]
    return "$$\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}$$"


def notebook_latex(sde) -> str:
    """The whole derivation as one display block (CovarianceSDE._repr_latex_): activation and its
    normalisation, Taylor expansion, shaping, drift, diffusion, the SDE, the norm SDE, k and the
    regime (ReLU-like: nu and the correlation SDE)."""
    rows = []
    for key, tex in sde_snippets(sde).items():
        title = SNIPPET_TITLES.get(key, key)
        if key == "stability":
            title += f" ({regime_label(sde.stability)})"
        rows.append((title, tex))
        if key == "activation" and sde.activation.normalization:
            rows.append((SNIPPET_TITLES["normalization"],
                         r"\text{" + _normalization_note(sde.activation.normalization) + "}"))
    return aligned_display(rows)


def _normalization_note(text: str) -> str:
    """The activation's normalisation sentence as LaTeX text, with phi typeset as $\\varphi$."""
    text = _escape(text)
    return re.sub(r"phi('?\(0\))?", lambda m: "$\\varphi" + (m.group(1) or "") + "$", text)


def sde_latex(sde, standalone: bool = False, inputs: int | None = None) -> str:
    """All snippets as display equations; ``standalone=True`` wraps them in a compilable document."""
    snippets = sde_snippets(sde, inputs=inputs)
    lines = []
    if sde.activation.normalization:
        lines.append(r"% " + sde.activation.normalization)
    for key, tex in snippets.items():
        lines.append(f"% {SNIPPET_TITLES.get(key, key)}")
        lines.append(r"\begin{equation*}" + "\n" + tex + "\n" + r"\end{equation*}")
    body = "\n".join(lines)
    if not standalone:
        return body
    note = ""
    if sde.activation.normalization:
        note = "The activation was " + _normalization_note(sde.activation.normalization) + ".\n\n"
    return "\n".join([
        r"\documentclass{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\begin{document}",
        rf"\section*{{Neural covariance SDE: \texttt{{{_escape(sde.activation.name)}}} "
        rf"({sde.convention} convention)}}",
        note + body,
        r"\end{document}",
        "",
    ])


def _escape(text: str) -> str:
    for ch, rep in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"),
                    ("#", r"\#"), ("$", r"\$"), ("{", r"\{"), ("}", r"\}"), ("^", r"\^{}"),
                    ("~", r"\~{}")):
        text = text.replace(ch, rep)
    return text
