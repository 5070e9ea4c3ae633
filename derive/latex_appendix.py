"""The derivation appendix: how the covariance SDE of an activation was obtained, as prose and
equations a researcher can cite (``sde.latex(steps=True)``, ``covsde derive ACT --latex --steps``).

Every equation is generated from the derivation's own objects, never retyped: the Taylor
coefficients (:meth:`Activation.taylor_coefficients`), the expansion of c E[phi_s phi_s] - V^ij in
1/s (:func:`covsde.derive.shaping.covariance_expansion`), the Gaussian moments
(:func:`covsde.derive.gaussian_moments.gaussian_moment`), the drift, the norm SDE, k and the regime
(:class:`covsde.derive.covariance_sde.CovarianceSDE`). The prose states only definitions and the
reasoning; where it names a number (q, the first non-zero Taylor orders) the number is computed.
Smooth activations follow Li, Nica & Roy (2022) Thm 3.2 and SPEC §1 "General order"; the
ReLU-like family has its own variant (slopes 1 + c±/sqrt(n), nu(rho), the correlation SDE).
Labels are ``covsde:<activation>:<step>`` (:func:`covsde.derive.latex_report.label_prefix`).
"""
from __future__ import annotations

import sympy as sp

from .bibliography import REFERENCES, bibtex, embedded_bibtex, thebibliography
from .gaussian_moments import gaussian_moment
from .latex_report import (activation_title, ascending_series, broken_sum,
                           drift_matrix_snippet, equation, label_prefix, normalization_sentence,
                           paper_latex, sde_snippets)
from .norm_stability import v
from .shaping import A, B, R, _series_coefficients, covariance_expansion

_LNR, _HY, _BLR = REFERENCES  # citation keys: Li-Nica-Roy 2022, Hayou-Yang 2023, Bassetti et al. 2024

_REGIME_PROSE = {
    "explodes": "Since $k > 0$, the norm explodes in finite time with positive probability; "
                "the probability, by Feller's test with the scale density of the norm SDE, is",
    "stationary": "Since the leading coefficient is negative and the norm cannot reach $0$ or "
                  r"$\infty$ in finite time, $V_t$ converges in law to the stationary density "
                  "(the speed density of the norm SDE)",
    "vanishes": r"Hence the norm does not explode, and $V_t \to 0$ almost surely as $t \to \infty$.",
    "grows": r"Hence the norm does not explode, and $V_t \to \infty$ as $t \to \infty$.",
}


def _setting(sde) -> str:
    """The network, the covariance, the limit and the symbols (prose with inline math)."""
    if sde.family == "smooth":
        phi = (r"$\varphi_s(x) = s\,\varphi(x/s)$ is the activation $\varphi$ shaped at the scale $s$, "
               r"which grows with the width")
    elif sde.family == "kinked":
        phi = (r"$\varphi_s(x) = s\,\varphi(x/s)$"
               + (r" $+\, (c_+\max(x, 0) + c_-\min(x, 0))/\sqrt{n}$" if sde.activation.has_slopes else "")
               + r" is the activation $\varphi$ shaped at the scale $s$, which grows with the width; "
               r"$\varphi$ has different Taylor expansions on the two sides of $0$")
    else:
        phi = (r"$\varphi_s(x) = s_+\max(x, 0) + s_-\min(x, 0)$ has slopes $s_\pm = 1 + c_\pm/\sqrt{n}$ "
               r"that approach the identity as the width grows")
    c = (r"$c^{-1} = \mathbb{E}[\varphi_s(w)^2]$, $w \sim N(0, 1)$ (the normalized convention)"
         if sde.convention == "normalized" else r"$c = 1$ (the unnormalized convention)")
    return "\n".join([
        rf"We follow \cite{{{_LNR}}}. A multilayer perceptron of width $n$ and depth $d$ maps the inputs "
        r"$x^1, \dots, x^m \in \mathbb{R}^{n_0}$ through $h_1 = W_0 x/\sqrt{n_0}$ and "
        r"$h_{\ell+1} = \sqrt{c/n}\, W_\ell\, \varphi_s(h_\ell)$, with independent standard Gaussian "
        rf"weights and no biases. Here {phi}, and $c$ is the normalising constant, {c}.",
        r"The covariance of inputs $i$ and $j$ after layer $\ell$ is "
        r"$V_\ell^{ij} = \frac{c}{n}\langle \varphi_s(h_\ell^i), \varphi_s(h_\ell^j)\rangle$; "
        r"$V^{ii}$ and $V^{jj}$ are the squared norms per unit and "
        r"$\rho^{ij} = V^{ij}/\sqrt{V^{ii}V^{jj}}$ the correlation. As $n, d \to \infty$ with "
        r"$d/n \to T$, the process $t \mapsto V_{\lfloor tn \rfloor}$ converges to the solution of a "
        r"stochastic differential equation $dV_t = b(V_t)\,dt + \Sigma(V_t)^{1/2}\,dB_t$ on "
        r"$t \in [0, T]$, where $B_t$ is a Brownian motion on symmetric matrices, the drift $b$ is "
        r"the limit of $n$ times the expected change of $V$ over one layer, and $\Sigma$ is $n$ times "
        r"its covariance.",
    ])


def _taylor_step(sde, prefix, q):
    act = sde.activation
    degree = (q or 2) + 1
    coeffs = act.taylor_coefficients(degree)
    shown = [rf"\varphi^{{({k})}}(0) = {paper_latex(coeffs[k])}" if k > 3 else
             rf"\varphi{chr(39) * k}(0) = {paper_latex(coeffs[k])}" for k in range(2, degree + 1)]
    rows = [r",\quad ".join(shown[i:i + 3]) for i in range(0, len(shown), 3)]
    taylor = r"\begin{gathered}" + r" \\ ".join(rows) + r"\end{gathered}" if len(rows) > 1 else rows[0]
    snippets = sde_snippets(sde)
    out = [r"\subsection*{The activation and its Taylor coefficients}"]
    note = normalization_sentence(act)
    out.append("The activation is")
    out.append(equation(snippets["activation"], f"{prefix}:activation"))
    out.append((note + " " if note else "") + rf"It has $\varphi(0) = 0$ and $\varphi'(0) = 1$. Its derivatives at $0$ up to order "
               rf"${degree}$, which are all the shaping needs, are")
    out.append(equation(taylor, f"{prefix}:taylor-coefficients"))
    out.append("so that")
    out.append(equation(snippets["taylor"], f"{prefix}:taylor"))
    return out, coeffs


def _first_orders(coeffs):
    """(j_o, j_e): the first odd k >= 3 and the first even k >= 2 with phi^(k)(0) != 0 (None if none
    up to the degree given)."""
    nonzero = [k for k in range(2, len(coeffs)) if coeffs[k] != 0]
    odd = next((k for k in nonzero if k % 2), None)
    even = next((k for k in nonzero if k % 2 == 0), None)
    return odd, even


def _shaping_step(sde, prefix, coeffs) -> list:
    q = sde.order
    s = sp.Symbol("s", positive=True)
    shaped = [sp.Integer(0)] + [coeffs[k] / sp.factorial(k) * s ** (1 - k) for k in range(1, len(coeffs))]
    out = [r"\subsection*{Shaping}",
           r"The shaped activation is $\varphi_s(x) = s\,\varphi(x/s)$; term by term,"]
    out.append(equation(broken_sum(r"\varphi_s(x)", ascending_series(shaped) + [r"\dots"]),
                        f"{prefix}:shaped-series"))
    if q is None:
        out.append(r"Here $\varphi(x) = x$, so $\varphi_s(x) = x$ at every scale, every term of the "
                   r"expansion below vanishes and the drift is zero: the covariance follows the "
                   "matrix geometric Brownian motion of deep linear networks "
                   rf"\cite{{{_BLR}}}.")
        return out
    return out


def _expansion_step(sde, prefix, coeffs) -> list:
    q = sde.order
    out = [r"\subsection*{Expansion in $1/s$ and the critical exponent}"]
    e = covariance_expansion(sde.activation, q, sde.convention)
    norm = _series_coefficients(coeffs, q + 1, sp.Integer(1), sp.Integer(1), sp.Integer(1))

    def inverse_power(j):
        return rf"s^{{-{j}}}"

    if sde.convention == "normalized":
        out.append(r"The normalising constant follows from the same moments with "
                   r"$V^{ii} = V^{jj} = V^{ij} = 1$:")
        out.append(equation(broken_sum(r"c^{-1} = \mathbb{E}[\varphi_s(w)^2]",
                                       ascending_series(norm, monomial_tex=inverse_power) +
                                       [rf"O(s^{{-{q + 1}}})"]), f"{prefix}:normalisation"))
    out.append(r"Expand $c\,\mathbb{E}[\varphi_s(x)\varphi_s(y)] - V^{ij} = "
               r"\sum_{r \ge 0} e_r\, s^{-r}$. With the moments above,")
    rows = [rf"e_{{{r}}} = {paper_latex(e[r])}" for r in range(q)]
    zero_rows = [r",\quad ".join(rows[i:i + 4]) for i in range(0, len(rows), 4)]
    lead = broken_sum(rf"e_{{{q}}}", [t for t in _terms(e[q])])
    out.append(equation(r"\begin{gathered}" + r" \\ ".join(zero_rows + [lead]) + r"\end{gathered}",
                        f"{prefix}:expansion"))
    j_o, j_e = _first_orders(coeffs)
    cand = [rf"j_o - 1 = {j_o - 1}" if j_o else r"j_o - 1 = \infty",
            rf"2 j_e - 2 = {2 * j_e - 2}" if j_e else r"2 j_e - 2 = \infty"]
    out.append(
        rf"The first non-vanishing order is $q = {q}$: with $j_o$ the first odd and $j_e$ the first even "
        r"order $\ge 2$ at which $\varphi$ has a non-zero derivative, a single odd coefficient enters "
        r"at order $s^{-(j_o - 1)}$ and the square of an even one at $s^{-(2 j_e - 2)}$, while odd "
        r"Gaussian moments vanish" +
        (" and the normalising constant cancels the terms without $V^{ij}$" if sde.convention == "normalized"
         else "") +
        rf"; here $q = \min({cand[0]},\ {cand[1]}) = {q}$, and the lower orders cancel, as "
        rf"$e_0 = \dots = e_{{{q - 1}}} = 0$ above shows.")
    out.append(
        rf"One layer changes $V^{{ij}}$ in mean by $e_{{{q}}}\, s^{{-{q}}} + O(s^{{-{q + 1}}})$, and the "
        rf"drift is $n$ times this. With $s = a\, n^p$ the product is $a^{{-{q}}} n^{{1 - {q}p}} e_{{{q}}}$: "
        rf"the exponent $p = 1/{q}$ is critical, giving a finite non-zero drift; a larger $p$ gives the "
        r"zero-drift (linear) limit and a smaller one a drift that diverges with $n$. So")
    out.append(equation(sde_snippets(sde)["shaping"], f"{prefix}:shaping"))
    return out


def _terms(expr):
    from .latex_report import expression_terms
    return expression_terms(sp.factor_terms(sp.expand(expr)))


def _moments_step(sde, prefix, coeffs) -> list:
    q = sde.order
    support = [k for k in range(1, len(coeffs)) if coeffs[k] != 0]
    pairs = sorted({(k, l) for k in support for l in support
                    if (k + l) % 2 == 0 and k + l - 2 <= q and k <= l})
    rows = [rf"\mathbb{{E}}[x^{{{k}}} y^{{{l}}}] = " + paper_latex(gaussian_moment(k, l, A, B, R))
            for k, l in pairs]
    rows = [r.replace("x^{1}", "x").replace("y^{1}", "y") for r in rows]
    out = [r"\subsection*{Gaussian moments}",
           r"Given $V$, the pre-activations $(x, y)$ of one unit for inputs $i$ and $j$ are a centred "
           r"Gaussian pair with variances $V^{ii}$, $V^{jj}$ and covariance $V^{ij}$. "
           r"The expansion needs their mixed moments $\mathbb{E}[x^k y^l]$ for the "
           r"orders $k, l$ at which $\varphi$ has non-zero derivatives. By Isserlis' theorem (pair the "
           r"$k + l$ factors in all possible ways) they vanish when $k + l$ is odd, and otherwise",
           equation(r"\mathbb{E}[x^k y^l] = \sum_{r} \binom{k}{r}\binom{l}{r}\, r!\, (V^{ij})^r\, "
                    r"(k - r - 1)!!\, (V^{ii})^{\frac{k - r}{2}}\, (l - r - 1)!!\, "
                    r"(V^{jj})^{\frac{l - r}{2}},", f"{prefix}:isserlis"),
           r"the sum over $r \le \min(k, l)$ with $k - r$ and $l - r$ even. The moments that enter are "
           r"(the others follow by exchanging $x$ with $y$ and $V^{ii}$ with $V^{jj}$)"]
    out.append(equation(r"\begin{gathered}" + r" \\ ".join(rows) + r"\end{gathered}",
                        f"{prefix}:moments"))
    return out


def _drift_step(sde, prefix, inputs) -> list:
    snippets = sde_snippets(sde, inputs=inputs)
    out = [r"\subsection*{Drift and diffusion}"]
    if sde.family != "relu_like":
        if sde.order is None:
            out.append(r"The drift is zero:")
        else:
            a_part = "" if sde.a == 1 else rf" divided by $a^{{{sde.order}}}$ with $a = {paper_latex(sde.a)}$"
            out.append(rf"The drift is the leading coefficient $e_{{{sde.order}}}${a_part}:")
    else:
        out.append(r"The drift is $\nu$ of the correlation times the geometric mean of the variances:")
    out.append(equation(snippets["drift"], f"{prefix}:drift"))
    out.append(r"The diffusion is that of the Wishart fluctuation of one layer, whatever the activation "
               rf"\cite{{{_LNR}}}:")
    out.append(equation(snippets["diffusion"], f"{prefix}:diffusion"))
    out.append("and the covariance solves")
    out.append(equation(snippets["sde"], f"{prefix}:sde"))
    if inputs:
        out.append(rf"For ${inputs}$ inputs the drift matrix is")
        out.append(equation(drift_matrix_snippet(sde, inputs), f"{prefix}:drift-matrix"))
    return out


def _norm_step(sde, prefix) -> list:
    snippets = sde_snippets(sde)
    st = sde.stability
    out = [r"\subsection*{The norm: explosion, vanishing or a stationary law}",
           r"With one input, $V^{ii} = V^{jj} = V^{ij} = V$ and $\Sigma^{ii,ii} = 2V^2$, so the squared "
           r"norm per unit solves the scalar SDE",
           equation(snippets["norm_sde"], f"{prefix}:norm-sde")]
    log_drift = sp.simplify(st.norm_drift / v - 1)
    out.append(r"and, by It\^o's formula, $\log V_t$ solves")
    out.append(equation(r"d \log V_t = " + (paper_latex(log_drift.subs(v, sp.Symbol("V_t")))
                                            if not isinstance(log_drift, sp.Add) else
                                            r"\left(" + paper_latex(log_drift.subs(v, sp.Symbol("V_t"))) +
                                            r"\right)") + r"\, dt + \sqrt{2}\, dB_t", f"{prefix}:log-norm"))
    if log_drift.is_number:
        rate = "" if abs(log_drift) == 1 else paper_latex(abs(log_drift)) + " "
        out.append(rf"so $\log V_t \sim N(\log V_0 {'-' if log_drift < 0 else '+'} {rate}t,\ 2t)$ "
                   r"exactly: $V_t$ is a geometric Brownian motion.")
    out.append(r"Write $b(v) = v\,p(v)$ and let $k$ be the leading coefficient of the polynomial $p$ "
               + (r"in $\sqrt{v}$ (the one-sided moments bring in $\sqrt{V^{ii}}$) " if st._root == 2 else "") +
               rf"(for $q = 2$, $k = (\tfrac34 \varphi''(0)^2 + \varphi'''(0))/a^2$ \cite{{{_LNR}}}). "
               r"Feller's boundary classification gives")
    out.append(equation(snippets["stability"], f"{prefix}:stability"))
    regimes = list(st.regime) if isinstance(st.regime, dict) else [st.regime]
    if "explodes" in regimes:
        out.append(_REGIME_PROSE["explodes"] if not isinstance(st.regime, dict) else
                   r"Where $k > 0$, the norm explodes in finite time with probability")
        out.append(equation(snippets["explosion_probability"], f"{prefix}:explosion-probability"))
    if "stationary" in regimes:
        out.append(_REGIME_PROSE["stationary"] if not isinstance(st.regime, dict) else
                   r"Where the norm is stationary, $V_t$ converges in law to the density")
        out.append(equation(snippets["stationary_law"], f"{prefix}:stationary-law"))
    if not isinstance(st.regime, dict) and st.regime in ("vanishes", "grows"):
        out.append(_REGIME_PROSE[st.regime])
    return out


def _relu_steps(sde, prefix) -> list:
    snippets = sde_snippets(sde)
    from .covariance_sde import rho
    nu_at_one = sp.simplify(sde._nu.subs(rho, 1))
    return [
        r"\subsection*{The ReLU-like family}",
        r"A kink at $0$ is not removed by rescaling $x$, so the shaped family moves the two slopes "
        r"towards each other instead:",
        equation(snippets["activation"], f"{prefix}:activation"),
        r"with normalising constant $c = 2/(s_+^2 + s_-^2)$. The slopes differ from $1$ by "
        r"$O(n^{-1/2})$, the critical order: the difference of the slopes enters the mean change of "
        r"$V^{ij}$ over one layer squared, at order $1/n$. The arc-cosine moments of the "
        r"rectified Gaussian pair give the drift function",
        equation(snippets["nu"], f"{prefix}:nu"),
        rf"with $\nu(1) = {paper_latex(nu_at_one)}$, so the diagonal has no drift.",
    ]


#: The most half-space moments listed in an appendix (the rest enter the same way).
_MOMENTS_SHOWN = 6


def _half_space_moment_step(sde, prefix) -> list:
    """The Gaussian moments with half-space indicators that enter the drift, in closed form
    (:func:`covsde.derive.half_space_moments.half_space_moment`); the arc-cosine kernels of Cho and
    Saul are the cases k = l = 0, 1."""
    from .half_space_moments import half_space_moment
    from .shaping import shaped_terms
    q = sde.order or 1
    terms = shaped_terms(sde.activation, q + 1, sde.a)
    pairs = []
    for i, psi in enumerate(terms):
        for i2, psi2 in enumerate(terms[:q + 1 - i]):
            for (k, su) in psi:
                for (l, sv) in psi2:
                    if (su or sv) and (k, su, l, sv) not in pairs and (l, sv, k, su) not in pairs:
                        pairs.append((k, su, l, sv))
    if not pairs:
        return []

    def factor(power, side, var):
        ind = {1: rf"\mathbf{{1}}_{{{var} > 0}}", -1: rf"\mathbf{{1}}_{{{var} < 0}}", 0: ""}[side]
        return (var if power == 1 else f"{var}^{{{power}}}") + ind
    rows = []
    for k, su, l, sv in pairs[:_MOMENTS_SHOWN]:
        value = half_space_moment(k, su, l, sv, A, B, R)
        rows.append(r"\mathbb{E}[" + factor(k, su, "x") + " " + factor(l, sv, "y") + "] &= "
                    + paper_latex(sp.factor_terms(sp.expand(value))))
    more = len(pairs) - _MOMENTS_SHOWN
    return [r"\subsection*{Gaussian moments on half-spaces}",
            r"For $(x, y)$ centred Gaussian with covariance $\begin{pmatrix} V^{ii} & V^{ij} \\ V^{ij} & "
            r"V^{jj}\end{pmatrix}$ the moments of monomials restricted to half-lines follow in polar "
            r"coordinates (the arc-cosine kernels of Cho and Saul are the first cases); the ones that enter "
            r"the drift are" + (f" (the first {_MOMENTS_SHOWN} of {len(pairs)})" if more > 0 else ""),
            equation(r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}", f"{prefix}:half-space-moments")]


def _kinked_steps(sde, prefix) -> list:
    """One-sided Taylor expansions, the shaping with the order where the expansion first survives,
    and the half-space moments."""
    snippets = sde_snippets(sde)
    act = sde.activation
    out = [r"\subsection*{One-sided Taylor expansions}",
           r"The activation" + (" (normalised so that $\\varphi(0) = 0$, $\\varphi'(0) = 1$)" if act.normalization
                                else "") + " is",
           equation(snippets["activation"], f"{prefix}:activation")]
    if act.note_at_zero:
        out.append("It is piecewise away from $0$; only the piece at $0$ enters the shaped limit.")
    out += [r"Near $0$ it has a Taylor expansion on each side, with the same value and slope:",
            equation(snippets["taylor"], f"{prefix}:taylor"),
            r"\subsection*{Shaping and the critical exponent}",
            r"Writing $\varphi_s(x) = \sum_j s^{-j} \psi_j(x)$ with one-sided monomials $\psi_j$, the "
            r"expansion of $c\,\mathbb{E}[\varphi_s(x)\varphi_s(y)] - V^{ij}$ in $1/s$ is computed order by "
            rf"order; its first non-vanishing term is of order $s^{{-{sde.order}}}$"
            + (r" (a kink in $\varphi''$ leaves the $O(1/s)$ term that cancels for smooth activations)"
               if sde.order == 1 else "")
            + ", so the critical shaping is",
            equation(snippets["shaping"], f"{prefix}:shaping")]
    out += _half_space_moment_step(sde, prefix)
    return out


def appendix_body(sde, inputs: int | None = None, prefix: str | None = None) -> str:
    """The appendix as a ``\\section`` with subsections, to paste into a paper (no preamble)."""
    prefix = prefix or label_prefix(sde)
    out = [rf"\section{{Derivation of the neural covariance SDE of {activation_title(sde.activation)}}}"
           rf"\label{{{prefix}:appendix}}",
           r"\subsection*{Setting and symbols}", _setting(sde)]
    if sde.family == "smooth":
        steps, coeffs = _taylor_step(sde, prefix, sde.order)
        out += steps
        out += _shaping_step(sde, prefix, coeffs)
        if sde.order is not None:
            out += _moments_step(sde, prefix, coeffs)
            out += _expansion_step(sde, prefix, coeffs)
    elif sde.family == "kinked":
        out += _kinked_steps(sde, prefix)
    else:
        out += _relu_steps(sde, prefix)
        out += _half_space_moment_step(sde, prefix)
    out += _drift_step(sde, prefix, inputs)
    if sde.family == "relu_like":
        out.append(r"By It\^o's formula the correlation $\rho_t = \rho^{ij}_t$ of two inputs solves an "
                   r"autonomous SDE on $[-1, 1]$:")
        out.append(equation(sde_snippets(sde)["correlation_sde"], f"{prefix}:correlation-sde"))
    out += _norm_step(sde, prefix)
    out.append(r"\subsection*{Related limits}")
    out.append(rf"For residual networks with branches scaled by $1/\sqrt{{L}}$, the infinite-width and "
               rf"infinite-depth limits commute and the covariance follows a deterministic ODE "
               rf"\cite{{{_HY}}}; for linear networks the drift vanishes and the proportional limit "
               rf"is a mixture of Gaussians \cite{{{_BLR}}}.")
    return "\n".join(("\n" + part) if part.startswith(r"\subsection") else part for part in out)


def appendix_latex(sde, standalone: bool = False, inputs: int | None = None) -> str:
    """The derivation appendix: the body with its BibTeX entries as comments, or (``standalone``) a
    document that compiles with pdflatex, typesets the references and writes the ``.bib`` file."""
    body = appendix_body(sde, inputs=inputs)
    if not standalone:
        commented = "\n".join("% " + line for line in bibtex().splitlines())
        return body + "\n\n% References cited above (BibTeX):\n" + commented + "\n"
    return "\n".join([
        embedded_bibtex(),
        r"\documentclass{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\begin{document}",
        r"\setlength{\parindent}{0pt}\setlength{\parskip}{0.6ex}",
        body,
        thebibliography(),
        r"\end{document}",
        "",
    ])


