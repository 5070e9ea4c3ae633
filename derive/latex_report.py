"""LaTeX of a derived covariance SDE, in the conventions of a paper: snippets and a document.

Every snippet is a string of math (no delimiters) built from the derived objects, never retyped:

* series in ascending powers (``x - \\frac{x^{3}}{3}``), ``\\arccos``, ``\\operatorname{erf}``,
  unit and zero coefficients dropped (``s = n^{1/2}``, ``dV_t = \\sqrt{2}\\, V_t\\, dB_t``);
* regions of parameters as ``cases`` with ordinary inequalities (``-1 \\le k \\le 0``);
* long sums broken at their top-level ``+``/``-`` into an ``aligned`` block
  (:func:`broken_sum`), so that no display overflows a standard article column.

The document (:func:`sde_latex`) puts each snippet in a numbered ``equation`` with a stable label

    ``covsde:<activation>:<snippet>``   e.g. ``covsde:tanh:drift``, ``covsde:relu:nu``,

where ``<activation>`` is the built-in name or the activation's text reduced to letters, digits and
``-`` (:func:`label_prefix`), and ``<snippet>`` a key of :data:`SNIPPET_TITLES`. Notebooks show the
same snippets (:func:`notebook_latex`). The derivation appendix is :mod:`covsde.derive.latex_appendix`;
the side-by-side table of several activations :mod:`covsde.derive.latex_comparison`.
"""
from __future__ import annotations

import re

import sympy as sp

from .activation_parser import X
from .norm_stability import V0, stationary_density, v
from .shaping import A, B, R

_DISPLAY = {A: sp.Symbol(r"V^{ii}"), B: sp.Symbol(r"V^{jj}"), R: sp.Symbol(r"V^{ij}")}
#: The symbol k stands for in the regions of a symbolic verdict.
K = sp.Symbol("k")
#: The label prefix of every equation covsde writes: ``covsde:<activation>:<snippet>``.
LABEL_ROOT = "covsde"
#: The widest a single display line may be, in the units of :func:`display_width` (about one glyph
#: of 10pt math with its spacing); a standard article column (345pt) less an equation number
#: holds about 48 such units, so this leaves a margin.
LINE_WIDTH = 40

_REGIME_TEXT = {
    "explodes": r"\text{the norm explodes in finite time with positive probability}",
    "vanishes": r"\text{no explosion, and } V_t \to 0 \text{ almost surely}",
    "stationary": r"\text{no explosion; } V_t \text{ converges in law to a stationary law}",
    "grows": r"\text{no explosion; } V_t \to \infty",
}

#: Titles of the snippets, as the LaTeX documents and notebook displays name them.
SNIPPET_TITLES = {"activation": "Activation", "normalization": "Normalisation",
                  "taylor": "Taylor expansion at 0", "shaping": "Shaping",
                  "nu": "ReLU-like drift function", "drift": "Drift", "diffusion": "Diffusion",
                  "sde": "Neural covariance SDE", "norm_sde": "Norm SDE (one input)",
                  "stability": "Stability of the norm", "explosion_probability": "Explosion probability",
                  "stationary_law": "Stationary law", "correlation_sde": "Correlation SDE",
                  "drift_matrix": "Drift matrix"}

#: Built-in activation names as a paper writes them (titles and tables).
_NAMES_IN_MATH = {"tanh": r"\tanh", "sin": r"\sin", "atan": r"\arctan", "sinh": r"\sinh",
                  "erf": r"\tfrac{\sqrt{\pi}}{2}\operatorname{erf}", "gelu": r"\operatorname{GELU}",
                  "silu": r"\operatorname{SiLU}", "swish": r"\operatorname{swish}",
                  "softplus": r"\operatorname{softplus}", "linear": r"x \mapsto x",
                  "identity": r"x \mapsto x", "relu": r"\operatorname{ReLU}",
                  "relu_like": r"\operatorname{ReLU}", "leaky_relu": r"\operatorname{LeakyReLU}",
                  "gelu_tanh": r"\operatorname{GELU}_{\tanh}", "mish": r"\operatorname{Mish}",
                  "sigmoid": r"\operatorname{sigmoid}", "elu": r"\operatorname{ELU}",
                  "celu": r"\operatorname{CELU}", "selu": r"\operatorname{SELU}",
                  "relu6": r"\operatorname{ReLU6}", "hardtanh": r"\operatorname{hardtanh}",
                  "hardsigmoid": r"\operatorname{hardsigmoid}", "hardswish": r"\operatorname{hardswish}",
                  "softsign": r"\operatorname{softsign}"}


# ------------------------------------------------------------------ printing
def paper_latex(expr) -> str:
    """SymPy's LaTeX with the conventions of a paper: ``\\arccos`` (not ``\\operatorname{acos}``),
    ``\\tanh(x)`` (no ``\\left( \\right)`` around a single symbol or number), V^{ij} for A, B, R."""
    if isinstance(expr, sp.Basic):
        expr = expr.subs(_DISPLAY, simultaneous=True)
    tex = sp.latex(expr, inv_trig_style="full")
    return re.sub(r"\{\\left\(((?:\\?[A-Za-z0-9]+)(?:[_^]\{[^{}]*\})?) \\right\)\}", r"(\1)", tex)


_tex = paper_latex


def display_width(tex: str) -> float:
    """A conservative estimate of the printed width of math ``tex``, in glyphs.

    Sizing commands and braces count nothing, other commands one glyph, binary operators and
    relations two (their spacing), sub- and superscripts 0.7 per glyph, fractions the wider of
    their numerator and denominator (estimated as their sum, an upper bound, when nested).
    """
    tex = re.sub(r"\\(left|right|bigl|bigr|Bigl|Bigr)\b\.?", "", tex)
    tex = re.sub(r"\\(,|;|:|!|\s)", " ", tex)
    tex = tex.replace(r"\qquad", "  ").replace(r"\quad", " ")
    tex = re.sub(r"\\(text|operatorname|mathrm)\{([^{}]*)\}", lambda m: m.group(2), tex)
    width = 0.0
    scripts = re.findall(r"[_^]\{([^{}]*)\}", tex)
    width += 0.7 * sum(display_width(s) for s in scripts)
    tex = re.sub(r"[_^]\{[^{}]*\}", "", tex)
    width += 2 * len(re.findall(r"(?<!\\)[+=<>-]|\\(le|ge|leq|geq|to|cdot|mid)\b", tex))
    tex = re.sub(r"(?<!\\)[+=<>-]|\\(le|ge|leq|geq|to|cdot|mid)\b", "", tex)
    width += len(re.findall(r"\\[A-Za-z]+", tex))
    tex = re.sub(r"\\[A-Za-z]+|[{}\s&]", "", tex)
    return width + len(tex)


def broken_sum(lhs: str, terms, width: float = LINE_WIDTH) -> str:
    """``lhs = t_1 + t_2 + ...`` on one line, or broken before a top-level sign into an ``aligned``
    block (``lhs &= t_1 + t_2 \\\\ &\\quad + t_3``) when it would be wider than ``width``.

    ``terms`` are the LaTeX of the summands (each may start with ``-``).
    """
    pieces = []
    for i, term in enumerate(terms):
        term = term.strip()
        if i == 0:
            pieces.append(term)
        elif term.startswith("-"):
            pieces.append("- " + term[1:].lstrip())
        else:
            pieces.append("+ " + term)
    one_line = f"{lhs} = " + " ".join(pieces)
    if display_width(one_line) <= width or len(pieces) < 2:
        return one_line
    lines, current = [], []
    budget = width - display_width(lhs) - 2
    for piece in pieces:
        if current and display_width(" ".join(current + [piece])) > budget:
            lines.append(" ".join(current))
            current = []
            budget = width - display_width(lhs) - 2       # continuation lines start under the rhs
        current.append(piece)
    lines.append(" ".join(current))
    body = f" \\\\\n  &\\quad ".join(lines)
    return rf"\begin{{aligned}}[t] {lhs} &= {body} \end{{aligned}}"


def expression_terms(expr):
    """The LaTeX of the top-level summands of ``expr`` in SymPy's print order (one if not a sum)."""
    expr = expr.subs(_DISPLAY, simultaneous=True) if isinstance(expr, sp.Basic) else expr
    if not isinstance(expr, sp.Add):
        return [paper_latex(expr)]
    from sympy.printing.latex import LatexPrinter
    printer = LatexPrinter({"inv_trig_style": "full"})
    return [paper_latex(term) for term in printer._as_ordered_terms(expr)]


def ascending_series(coefficients, var=X, var_tex: str = "x", monomial_tex=None):
    """The LaTeX summands of sum_k c_k var^k in ascending powers of var (zero terms dropped,
    unit coefficients written as ``x^{3}``, sums of parameters in parentheses).

    ``monomial_tex(k)`` (optional) writes the k-th power, e.g. ``s^{-2}`` for a series in 1/s.
    """
    terms = []
    for power, coeff in enumerate(coefficients):
        coeff = sp.sympify(coeff)
        if coeff == 0:
            continue
        if monomial_tex is not None:
            monomial = "" if power == 0 else monomial_tex(power)
        else:
            monomial = "" if power == 0 else (var_tex if power == 1 else f"{var_tex}^{{{power}}}")
        if not monomial:
            terms.append(paper_latex(coeff))
        elif coeff == 1:
            terms.append(monomial)
        elif coeff == -1:
            terms.append("-" + monomial)
        elif isinstance(coeff, sp.Add):
            terms.append(r"\left(" + paper_latex(coeff) + r"\right) " + monomial)
        elif monomial_tex is None and (coeff.is_Rational or (coeff.is_number and coeff.is_real)):
            terms.append(paper_latex(coeff * sp.Symbol(var_tex) ** power))
        else:
            sign, magnitude = ("-", -coeff) if coeff.could_extract_minus_sign() else ("", coeff)
            terms.append(sign + paper_latex(magnitude) + " " + monomial)
    return terms or ["0"]


def activation_terms(expr):
    """The summands of phi(x): ascending powers for a polynomial in x, SymPy's order otherwise."""
    if expr.is_polynomial(X):
        poly = sp.Poly(expr, X)
        return ascending_series([poly.coeff_monomial(X**k) for k in range(poly.degree() + 1)])
    return expression_terms(expr)


def drift_terms(drift):
    """The summands of b^{ij}(V): with parameters, one term per monomial in the parameters
    (``\\alpha^{2} (V^{ii} V^{jj} + ...)``); without, SymPy's form of the derived expression."""
    params = sorted(drift.free_symbols - {A, B, R}, key=lambda s: s.name)
    if not params or not drift.is_polynomial(*params):
        if isinstance(drift, sp.Mul) and display_width(paper_latex(drift)) > LINE_WIDTH:
            drift = sp.expand(drift)                     # a long product: break its sum instead
        return expression_terms(drift)
    poly = sp.Poly(sp.expand(drift), *params)
    terms = []
    for monom, coeff in poly.terms():
        scalar = sp.Mul(*(p**e for p, e in zip(params, monom)))
        content, rest = sp.factor_terms(coeff).as_content_primitive()
        scalar = content * scalar
        sign = ""
        if rest.could_extract_minus_sign():
            rest, sign = -rest, "-" if sign == "" else ""
        if scalar.could_extract_minus_sign():
            scalar, sign = -scalar, "-" if sign == "" else ""
        rest_tex = paper_latex(rest)
        if isinstance(rest, sp.Add):
            rest_tex = r"\left(" + rest_tex + r"\right)"
        scalar_tex = "" if scalar == 1 else paper_latex(scalar) + " "
        terms.append(sign + scalar_tex + rest_tex)
    return terms


# ------------------------------------------------------------------ snippets
def exponent_tex(p) -> str:
    """A shaping exponent as a paper writes it in a superscript: ``1/2``."""
    p = sp.Rational(p)
    return str(p.p) if p.q == 1 else f"{p.p}/{p.q}"


def shaping_scale(a, p) -> str:
    """``n^{1/2}``, ``2 n^{1/4}`` or ``a n^{1/2}``: s = a n^p with a unit a dropped."""
    power = rf"n^{{{exponent_tex(p)}}}"
    return power if a == 1 else paper_latex(a) + r"\, " + power


def sde_snippets(sde, inputs: int | None = None) -> dict:
    """Named LaTeX snippets (strings without math delimiters) of the derivation.

    Keys, in order: activation, taylor, shaping (smooth) or activation, nu, correlation_sde
    (ReLU-like); drift, diffusion, sde, norm_sde, stability, explosion_probability (when the norm
    may explode), stationary_law (when it may be stationary), drift_matrix (with ``inputs``).
    """
    act = sde.activation
    out = {}
    if act.family != "relu_like":
        degree = (sde.order or 2) + 1
        out["activation"] = broken_sum(r"\varphi(x)", activation_terms(act.expr))
        if act.is_one_sided:
            out["taylor"] = one_sided_taylor_snippet(act, max(degree, 3))
        else:
            coeffs = act.taylor_coefficients(degree)
            out["taylor"] = broken_sum(r"\varphi(x)", ascending_series(
                [c / sp.factorial(k) for k, c in enumerate(coeffs)]) + [rf"O(x^{{{degree + 1}}})"])
        slopes = ""
        if act.has_slopes:
            slopes = (r" + \frac{c_+ \max(x,0) + c_- \min(x,0)}{\sqrt{n}},\quad c_+ = " + paper_latex(act.c_plus)
                      + r",\ c_- = " + paper_latex(act.c_minus))
        if sde.exponent is None:
            out["shaping"] = r"\varphi_s(x) = s\,\varphi(x/s) = x \text{ for every } s"
        else:
            out["shaping"] = (r"\varphi_s(x) = s\,\varphi(x/s)" + slopes + r",\quad s = " +
                              shaping_scale(sde.a, sde.exponent))
    else:
        out["activation"] = (r"\varphi_s(x) = s_+ \max(x,0) + s_- \min(x,0),\quad s_\pm = 1 + "
                             r"\frac{c_\pm}{\sqrt{n}},\quad c_+ = " + paper_latex(act.c_plus) +
                             r",\ c_- = " + paper_latex(act.c_minus))
        out["nu"] = nu_snippet(sde)
        out["correlation_sde"] = correlation_sde_snippet(sde)
    if act.family != "relu_like":
        out["drift"] = broken_sum(r"b^{ij}(V)", drift_terms(sde.drift_expr))
    else:
        out["drift"] = r"b^{ij}(V) = \nu(\rho^{ij}) \sqrt{V^{ii} V^{jj}},\quad " \
                       r"\rho^{ij} = \frac{V^{ij}}{\sqrt{V^{ii} V^{jj}}}"
    out["diffusion"] = r"\Sigma^{ij,kl}(V) = V^{ik}V^{jl} + V^{il}V^{jk}"
    out["sde"] = r"dV_t = b(V_t)\,dt + \Sigma(V_t)^{1/2}\,dB_t"
    out["norm_sde"] = norm_sde_snippet(sde.norm_drift_expr)
    out["stability"] = stability_snippet(sde.stability)
    explosion = explosion_probability_snippet(sde.stability)
    if explosion:
        out["explosion_probability"] = explosion
    stationary = stationary_law_snippet(sde.stability)
    if stationary:
        out["stationary_law"] = stationary
    if inputs:
        out["drift_matrix"] = drift_matrix_snippet(sde, inputs)
    return out


def nu_snippet(sde) -> str:
    """nu(rho) of the ReLU-like family, from the derived expression."""
    from .covariance_sde import rho
    return r"\nu(\rho) = " + paper_latex(sde._nu.subs(rho, sp.Symbol(r"\rho")))


def correlation_sde_snippet(sde) -> str:
    """d rho = [nu(rho) + (drift - nu)] dt + diffusion dW, with drift and diffusion from Itô's formula
    (:meth:`CovarianceSDE.correlation_sde`); the part beyond nu is simplified from their difference."""
    from .covariance_sde import rho
    drift, diffusion = sde.correlation_sde()
    rest = sp.factor_terms(sp.expand(sp.simplify(drift - sde._nu)))
    diffusion = diffusion.replace(sp.Abs, lambda e: e if e.subs(rho, 0) >= 0 else -e)
    rho_t = sp.Symbol(r"\rho_t")
    rest_tex = paper_latex(rest.subs(rho, rho_t))
    sign = "" if rest_tex.startswith("-") else "+ "
    return (r"d\rho_t = \left[\nu(\rho_t) " + sign + rest_tex + r"\right] dt + \left(" +
            paper_latex(sp.expand(diffusion).subs(rho, rho_t)) + r"\right) dW_t")


def drift_matrix_snippet(sde, inputs: int) -> str:
    """The m×m drift matrix; an entry-by-entry list (upper triangle) when the matrix is too wide."""
    matrix = sde.drift_matrix(inputs)
    tex = r"b(V) = " + paper_latex(matrix)
    if display_width(tex) <= LINE_WIDTH:
        return tex
    rows = [broken_sum(rf"b^{{{i + 1}{j + 1}}}(V)", expression_terms(matrix[i, j]))
            for i in range(inputs) for j in range(i, inputs)]
    return r"\begin{gathered}" + r" \\ ".join(rows) + r"\end{gathered}"


def norm_sde_snippet(norm_drift) -> str:
    """dV_t = b(V_t) dt + sqrt(2) V_t dB_t for the one-input drift b(v) (SymPy, in v); a zero drift
    is dropped (``dV_t = \\sqrt{2}\\, V_t\\, dB_t``)."""
    noise = r"\sqrt{2}\, V_t\, dB_t"
    if norm_drift == 0:
        return r"dV_t = " + noise
    drift = sp.latex(norm_drift.subs(v, sp.Symbol("V_t")))
    if isinstance(norm_drift, sp.Add):
        drift = r"\left(" + drift + r"\right)"
    return rf"dV_t = {drift}\, dt + {noise}"


def _relation_tex(rel) -> str:
    """One condition in k as ordinary (chained) inequalities: ``-1 \\le k \\le 0``."""
    if isinstance(rel, sp.And):
        parts = list(rel.args)
        if len(parts) == 2 and all(isinstance(p, sp.core.relational.Relational) for p in parts):
            lower, upper = [], []
            for p in parts:
                lhs, rhs = (p.lhs, p.rhs) if p.lhs.has(K) else (p.rhs, p.lhs)
                flipped = p.reversed if not p.lhs.has(K) else p
                op = {">=": r"\le", ">": "<", "<=": r"\le", "<": "<"}[flipped.rel_op]
                (lower if flipped.rel_op in (">=", ">") else upper).append((rhs, op))
            if len(lower) == 1 and len(upper) == 1:
                (lo, lo_op), (hi, hi_op) = lower[0], upper[0]
                return f"{paper_latex(lo)} {lo_op} k {hi_op} {paper_latex(hi)}"
        return r",\ ".join(_relation_tex(p) for p in parts)
    tex = paper_latex(rel)
    return tex.replace(r"\geq", r"\ge").replace(r"\leq", r"\le")


def stability_snippet(st) -> str:
    """k and the verdict of a :class:`covsde.derive.norm_stability.NormStability`; with free
    parameters, the regimes as ``cases`` over k."""
    if isinstance(st.regime, dict):
        rows = [rf"\text{{{name}}} & \text{{if }} {_relation_tex(cond.subs(st.k, K))}"
                for name, cond in st.regime.items()]
        return (r"k = " + paper_latex(st.k) + r",\qquad \text{the norm } \begin{cases} " +
                r" \\ ".join(rows) + r" \end{cases}")
    return rf"k = {paper_latex(st.k)}\colon\quad {_REGIME_TEXT[st.regime]}"


def explosion_probability_snippet(st) -> str | None:
    """P(explosion | V_0) where the norm may explode (in k when k is symbolic), else None."""
    may_explode = st.regime == "explodes" or (isinstance(st.regime, dict) and "explodes" in st.regime)
    if not may_explode:
        return None
    expr = st.explosion_probability_expr()
    if isinstance(expr, sp.Piecewise):
        expr = expr.args[0][0]
    condition = ""
    if isinstance(st.regime, dict):
        expr = expr.subs(st.k, K)
        condition = r"\quad (k > 0)"
    return r"P(\text{explosion}\mid V_0) = " + paper_latex(expr) + condition


def stationary_law_snippet(st) -> str | None:
    """The stationary density pi(v) ∝ v^(p_0 - 2) exp(P(v)) (Feller), and its Gamma name when
    b(v) = v (p_0 + p_1 v); None when the norm cannot be stationary."""
    may_be = st.regime == "stationary" or (isinstance(st.regime, dict) and "stationary" in st.regime)
    if not may_be:
        return None
    density = stationary_density(st._p, st._root)
    if isinstance(st.regime, dict):
        density = density.subs(st.k, K) if st._p[0] == -st.k else density
    tex = r"\pi(v) \propto " + paper_latex(density)
    p = st._p
    if len(p) == 2 and st._root == 1 and not isinstance(st.regime, dict):
        tex += (r",\quad V_t \Rightarrow \operatorname{Gamma}\bigl(" + paper_latex(p[0] - 1) +
                r",\ \text{rate } " + paper_latex(-p[1]) + r"\bigr)")
    return tex


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


# ------------------------------------------------------------------ names, labels
def label_prefix(sde_or_activation) -> str:
    """``covsde:<activation>``: the stable prefix of the labels of one derivation's equations."""
    act = getattr(sde_or_activation, "activation", sde_or_activation)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", act.name.replace("**", "^")).strip("-") or "phi"
    return f"{LABEL_ROOT}:{slug[:48]}"


def activation_title(act) -> str:
    """The activation as a title names it: the built-in name in math (``$\\tanh$``) or
    ``$\\varphi(x) = <formula>$`` (ascending powers) for an expression."""
    from .activation_library import BUILTIN_ACTIVATIONS
    name = act.name.strip().lower()
    if act.family == "relu_like":
        return (rf"${_NAMES_IN_MATH.get(name, _NAMES_IN_MATH['relu'])}$-like activation "
                rf"($c_+ = {paper_latex(act.c_plus)}$, $c_- = {paper_latex(act.c_minus)}$)")
    if name in BUILTIN_ACTIVATIONS and name in _NAMES_IN_MATH:
        return f"${_NAMES_IN_MATH[name]}$"
    raw = act.raw if act.raw is not None else act.expr
    terms = activation_terms(raw)
    return "$" + broken_sum(r"\varphi(x)", terms, width=10**6) + "$"


def activation_in_math(act) -> str:
    """The activation's name or formula in math, without ``$`` (table cells)."""
    title = activation_title(act)
    return title[1:-1] if title.startswith("$") and title.endswith("$") and title.count("$") == 2 \
        else None


# ------------------------------------------------------------------ displays
def aligned_display(rows) -> str:
    """(title, snippet) rows as one ``$$\\begin{aligned}...$$`` block: what a notebook renders."""
    lines = [rf"\text{{{_escape(title)}}}\quad & {tex}" for title, tex in rows]
    return "$$\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}$$"


def notebook_latex(sde) -> str:
    """The whole derivation as one display block (CovarianceSDE._repr_latex_): every snippet of
    :func:`sde_snippets` (the same strings the documents print) and the normalisation."""
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


def normalization_sentence(act) -> str:
    """How the raw activation was normalised, as one LaTeX sentence with its values in math
    (phi_0(0) and phi_0'(0) from the raw activation's Taylor expansion); empty when it was not."""
    if not act.normalization or act.raw is None:
        return ""
    from .activation import _taylor
    value, slope = _taylor(act._raw_piece, 1)[:2]      # the piece at 0 for piecewise formulas
    raw = broken_sum(r"\varphi_0(x)", activation_terms(act.raw), width=float("inf"))
    return (rf"The activation ${raw}$ was normalised as "
            r"$\varphi = (\varphi_0 - \varphi_0(0))/\varphi_0'(0)$, with "
            rf"$\varphi_0(0) = {paper_latex(value)}$ and $\varphi_0'(0) = {paper_latex(slope)}$, "
            r"so that $\varphi(0) = 0$ and $\varphi'(0) = 1$.")


def equation(tex: str, label: str | None) -> str:
    """One numbered display with its label."""
    tag = rf"\label{{{label}}}" if label else ""
    return "\\begin{equation}" + tag + "\n" + tex + "\n\\end{equation}"


def sde_body(sde, inputs: int | None = None, prefix: str | None = None) -> str:
    """Every snippet as a labelled ``equation`` (``covsde:<activation>:<snippet>``), titled by a
    comment: what a researcher pastes into a paper."""
    prefix = prefix or label_prefix(sde)
    lines = []
    if sde.activation.normalization:
        lines.append(r"% " + sde.activation.normalization)
    for key, tex in sde_snippets(sde, inputs=inputs).items():
        lines.append(f"% {SNIPPET_TITLES.get(key, key)}")
        lines.append(equation(tex, f"{prefix}:{key}"))
    return "\n".join(lines)


def document(title: str, body: str, preamble: str = "", packages: str = "amsmath,amssymb") -> str:
    """A complete article that compiles with pdflatex."""
    return "\n".join(filter(None, [
        preamble,
        r"\documentclass{article}",
        rf"\usepackage{{{packages}}}",
        r"\begin{document}",
        rf"\section*{{{title}}}",
        body,
        r"\end{document}",
        "",
    ]))


def sde_latex(sde, standalone: bool = False, inputs: int | None = None, steps: bool = False) -> str:
    """All snippets as labelled equations; ``standalone=True`` wraps them in a compilable document;
    ``steps=True`` gives the derivation appendix instead (:mod:`covsde.derive.latex_appendix`)."""
    if steps:
        from .latex_appendix import appendix_latex
        return appendix_latex(sde, standalone=standalone, inputs=inputs)
    body = sde_body(sde, inputs=inputs)
    if not standalone:
        return body
    note = normalization_sentence(sde.activation)
    convention = (r"Normalized convention, $c^{-1} = \mathbb{E}[\varphi_s(w)^2]$, $w \sim N(0, 1)$."
                  if sde.convention == "normalized" else r"Unnormalized convention, $c = 1$.")
    intro = "\\noindent " + convention + (" " + note if note else "") + "\n"
    return document("Neural covariance SDE of " + activation_title(sde.activation), intro + body)


def _escape(text: str) -> str:
    for ch, rep in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"),
                    ("#", r"\#"), ("$", r"\$"), ("{", r"\{"), ("}", r"\}"), ("^", r"\^{}"),
                    ("~", r"\~{}")):
        text = text.replace(ch, rep)
    return text


def one_sided_taylor_snippet(act, degree: int) -> str:
    """The normalised activation's one-sided Taylor polynomials at 0 as a ``cases`` display."""
    plus, minus = act.one_sided_coefficients(degree)

    def side(coeffs):
        terms = ascending_series([c / sp.factorial(k) for k, c in enumerate(coeffs)])
        text = " ".join(t if i == 0 or t.startswith("-") else "+ " + t for i, t in enumerate(terms))
        return text + rf" + O(x^{{{degree + 1}}})"
    return (r"\varphi(x) = \begin{cases} " + side(plus) + r" & x > 0, \\ " + side(minus)
            + r" & x < 0 \end{cases}")
