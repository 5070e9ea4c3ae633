"""LaTeX output: the standalone document compiles, and the snippets carry the drift of SPEC §1.

Compilation is checked with the first LaTeX engine found on PATH (pdflatex, latex, tectonic);
the tests skip cleanly when none is installed.
"""
import shutil
import subprocess
import sys

import pytest
import sympy as sp

from covsde.derive import derive_sde

A, B, R = sp.symbols("A B R", real=True)
DISPLAY = {A: sp.Symbol(r"V^{ii}"), B: sp.Symbol(r"V^{jj}"), R: sp.Symbol(r"V^{ij}")}


def latex_engine():
    for name in ("pdflatex", "latex", "tectonic"):
        path = shutil.which(name)
        if path:
            return name, path
    return None


def compile_document(source, directory):
    engine = latex_engine()
    if engine is None:
        pytest.skip("no LaTeX engine (pdflatex, latex, tectonic) on PATH")
    name, path = engine
    tex = directory / "doc.tex"
    tex.write_text(source)
    if name == "tectonic":
        cmd = [path, str(tex)]
    else:
        cmd = [path, "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape", tex.name]
    done = subprocess.run(cmd, cwd=directory, capture_output=True, timeout=120)
    log = done.stdout.decode(errors="replace")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert done.returncode == 0, f"{name} failed: {errors or log[-1500:]}"
    assert any((directory / f"doc.{ext}").exists() for ext in ("pdf", "dvi"))


# (activation, keyword arguments of derive_sde, keyword arguments of latex())
DOCUMENTS = [
    ("tanh", {}, {}),
    ("softplus", {}, {}),                                   # normalisation sentence
    ("3 + 2*tanh(x)", {"convention": "unnormalized"}, {}),
    ("exp(x) + c_0", {}, {}),                               # parameter with _ in phi(0) note
    ("x + alpha_1*x^2 + beta*x**3", {}, {"inputs": 2}),     # symbolic regions, drift matrix
    ("x - x**5/5", {"a": 2}, {}),                           # general order, n^(1/4)
    ("sinh", {"a": "a"}, {}),                               # symbolic shaping constant
    ("relu", {"c_plus": 0.5, "c_minus": -0.7}, {}),         # ReLU-like family
]


@pytest.mark.parametrize("activation,params,options", DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_standalone_document_compiles(activation, params, options, tmp_path):
    source = derive_sde(activation, **params).latex(standalone=True, **options)
    assert source.lstrip().startswith(r"\documentclass") and r"\end{document}" in source
    compile_document(source, tmp_path)


def test_cli_standalone_output_compiles(tmp_path):
    done = subprocess.run([sys.executable, "-m", "covsde.cli", "derive", "gelu", "--latex",
                           "--standalone"], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-500:]
    compile_document(done.stdout.decode(), tmp_path)


def spec_drift(phi2, phi3, a=1):
    """SPEC §1, normalized: (phi2^2/(4a^2))(AB + 2R^2 - 3R) + (phi3/(2a^2)) R (A + B - 2)."""
    return (phi2**2 / (4 * a**2)) * (A * B + 2 * R**2 - 3 * R) \
        + (phi3 / (2 * a**2)) * R * (A + B - 2)


def latex_forms(expr):
    """The LaTeX of an expression in the usual SymPy normal forms, in the display symbols."""
    forms = (expr, sp.expand(expr), sp.factor(expr), sp.factor_terms(sp.expand(expr)))
    return {sp.latex(f.subs(DISPLAY, simultaneous=True)) for f in forms}


@pytest.mark.parametrize("activation,phi2,phi3", [
    ("tanh", 0, -2), ("sin", 0, -1), ("sinh", 0, 1),
    ("softplus", sp.Rational(1, 2), 0), ("x + x**2/2 - x**3", 1, -6),
])
def test_snippets_contain_the_drift(activation, phi2, phi3):
    body = derive_sde(activation).latex()
    assert r"\documentclass" not in body
    drift_lines = [line for line in body.splitlines() if line.startswith(r"b^{ij}(V) = ")]
    assert len(drift_lines) == 1
    rhs = drift_lines[0].split(" = ", 1)[1]
    assert rhs in latex_forms(spec_drift(sp.sympify(phi2), sp.sympify(phi3))), rhs
    for part in (r"\Sigma^{ij,kl}", r"\sqrt{2}", "k = "):
        assert part in body


def test_snippets_report_normalisation_and_explosion_probability():
    body = derive_sde("softplus").latex()
    assert "normalised" in body and "log(2)" in body
    assert r"\gamma" in body and r"\Gamma" in body           # gammainc(1 + k, k V0) formula
    assert "normalised" not in derive_sde("tanh").latex()
