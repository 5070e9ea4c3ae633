"""Several derived SDEs side by side in one table, for a paper's related-work section
(``covsde derive tanh gelu sinh --latex --standalone``).

Columns: the activation (its name or formula in math), the critical exponent p of s = a n^p, the
drift b^{ij}(V), k and the regime of the norm; every cell comes from the derived objects (the same
snippets as :mod:`covsde.derive.latex_report`). The drift column is a paragraph column, so long
drifts wrap at their sums inside the column. The table's label is ``covsde:comparison``.
"""
from __future__ import annotations

from .latex_report import (LABEL_ROOT, activation_in_math, activation_title, broken_sum,
                           drift_terms, exponent_tex, paper_latex, regime_label)


def _row(sde) -> str:
    name = activation_in_math(sde.activation)
    name = f"${name}$" if name else activation_title(sde.activation)
    exponent = "---" if sde.exponent is None else f"${exponent_tex(sde.exponent)}$"
    if sde.family != "relu_like":
        drift = broken_sum("b", drift_terms(sde.drift_expr), width=float("inf")).split(" = ", 1)[1]
    else:
        drift = r"\nu(\rho^{ij}) \sqrt{V^{ii} V^{jj}}"
    return (f"{name} & {exponent} & $\\displaystyle {drift}$ & ${paper_latex(sde.stability.k)}$ & "
            f"{regime_label(sde.stability)} \\\\")


def comparison_table(sdes, caption: str | None = None) -> str:
    """A ``table`` (booktabs) with one row per derived SDE: activation, p, b^{ij}(V), k, regime."""
    conventions = sorted({sde.convention for sde in sdes})
    caption = caption or (
        "Neural covariance SDEs of shaped MLPs at the critical shaping $s = a\\,n^p$ "
        f"({' and '.join(conventions)} convention): drift $b^{{ij}}(V)$ of "
        "$dV_t = b(V_t)\\,dt + \\Sigma(V_t)^{1/2}\\,dB_t$ and the norm's $k$ and regime.")
    rows = "\n".join(_row(sde) for sde in sdes)
    return "\n".join([
        r"\begin{table}[ht]",
        r"\centering",
        r"\small",
        r"\setlength{\tabcolsep}{4pt}",
        r"\begin{tabular}{@{}>{\raggedright\arraybackslash}p{0.19\linewidth} c "
        r">{\raggedright\arraybackslash}p{0.4\linewidth} c >{\raggedright\arraybackslash}p{0.14\linewidth}@{}}",
        r"\toprule",
        r"Activation & $p$ & Drift $b^{ij}(V)$ & $k$ & Norm \\",
        r"\midrule",
        rows,
        r"\bottomrule",
        r"\end{tabular}",
        rf"\caption{{{caption}}}",
        rf"\label{{{LABEL_ROOT}:comparison}}",
        r"\end{table}",
    ])


def comparison_latex(sdes, standalone: bool = False) -> str:
    """The comparison table, alone (to paste) or in a document that compiles with pdflatex."""
    table = comparison_table(sdes)
    if not standalone:
        return table + "\n"
    return "\n".join([
        r"\documentclass{article}",
        r"\usepackage{amsmath,amssymb,array,booktabs}",
        r"\begin{document}",
        table,
        r"\end{document}",
        "",
    ])
