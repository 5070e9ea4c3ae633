"""LaTeX output: paper conventions, the drift of SPEC §1 in the snippets, the derivation appendix's
closed forms, and real compilation (pdflatex -halt-on-error, no overfull box over 5pt, a page that
renders to a non-blank image).

Compilation uses the first LaTeX engine on PATH (pdflatex, latex, tectonic) and skips cleanly when
there is none (TeX is optional for users; ``.ci/run`` installs it). Every built-in activation's
documents compile in the slow test; a fast subset runs unmarked.
"""
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from covsde.cli import main
from covsde.choices import ACTIVATIONS
from covsde.derive import ActivationError, derive_sde
from covsde.derive.bibliography import REFERENCES
from covsde.derive.latex_report import LINE_WIDTH, display_width

A, B, R = sp.symbols("A B R", real=True)
DISPLAY = {A: sp.Symbol(r"V^{ii}"), B: sp.Symbol(r"V^{jj}"), R: sp.Symbol(r"V^{ij}")}
#: The widest overfull box a document may have (TeX reports anything wider than \hfuzz = 0.1pt).
OVERFULL_ALLOWED_PT = 5.0


def latex_engine():
    for name in ("pdflatex", "latex", "tectonic"):
        path = shutil.which(name)
        if path:
            return name, path
    return None


def compile_document(source, directory, name="doc"):
    """Compile ``source`` as ``name.tex`` in ``directory``; return the log. Fails on any error."""
    engine = latex_engine()
    if engine is None:
        pytest.skip("no LaTeX engine (pdflatex, latex, tectonic) on PATH")
    engine_name, path = engine
    tex = directory / f"{name}.tex"
    tex.write_text(source)
    if engine_name == "tectonic":
        cmd = [path, str(tex)]
    else:
        cmd = [path, "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape", tex.name]
    done = subprocess.run(cmd, cwd=directory, capture_output=True, timeout=120)
    log = done.stdout.decode(errors="replace")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert done.returncode == 0, f"{engine_name} failed on {name}: {errors or log[-1500:]}"
    assert any((directory / f"{name}.{ext}").exists() for ext in ("pdf", "dvi"))
    log_file = directory / f"{name}.log"
    return log_file.read_text(errors="replace") if log_file.exists() else log


def overfull_boxes(log):
    """Widths (pt) of the overfull boxes TeX reports in a log."""
    return [float(w) for w in re.findall(r"Overfull \\[hv]box \(([\d.]+)pt too wide\)", log)]


def assert_fits_the_page(source, directory, name="doc"):
    log = compile_document(source, directory, name)
    wide = [w for w in overfull_boxes(log) if w > OVERFULL_ALLOWED_PT]
    assert not wide, f"{name}: overfull boxes {wide} pt wider than the column"


# --------------------------------------------------------------- paper conventions
def spec_drift(phi2, phi3, a=1):
    """SPEC §1, normalized: (phi2^2/(4a^2))(AB + 2R^2 - 3R) + (phi3/(2a^2)) R (A + B - 2)."""
    return (phi2**2 / (4 * a**2)) * (A * B + 2 * R**2 - 3 * R) \
        + (phi3 / (2 * a**2)) * R * (A + B - 2)


def _flat(tex):
    """Math with the line-breaking markup removed and spaces normalised."""
    tex = re.sub(r"\\(begin|end)\{aligned\}(\[t\])?", "", tex)
    tex = tex.replace("&", "").replace(r"\\", "").replace(r"\quad", "")
    return " ".join(tex.split())


def latex_forms(expr):
    """The LaTeX of an expression in the usual SymPy normal forms, in the display symbols."""
    forms = (expr, sp.expand(expr), sp.factor(expr), sp.factor_terms(sp.expand(expr)))
    return {_flat(sp.latex(f.subs(DISPLAY, simultaneous=True))) for f in forms}


def equations(body):
    """label -> the math of each ``equation`` in a document body."""
    found = re.findall(r"\\begin\{equation\}\\label\{([^}]*)\}\n(.*?)\n\\end\{equation\}", body, re.S)
    return dict(found)


@pytest.mark.parametrize("activation,phi2,phi3", [
    ("tanh", 0, -2), ("sin", 0, -1), ("sinh", 0, 1),
    ("softplus", sp.Rational(1, 2), 0), ("x + x**2/2 - x**3", 1, -6),
])
def test_drift_equation_is_the_spec_drift(activation, phi2, phi3):
    body = derive_sde(activation).latex()
    assert r"\documentclass" not in body
    drift = [tex for label, tex in equations(body).items() if label.endswith(":drift")]
    assert len(drift) == 1
    rhs = _flat(drift[0]).split(" = ", 1)[1]
    assert rhs in latex_forms(spec_drift(sp.sympify(phi2), sp.sympify(phi3))), rhs


def test_series_ascend_and_unit_coefficients_are_dropped():
    tanh = equations(derive_sde("tanh").latex())
    # tanh x = x - x^3/3 + ...: ascending powers
    assert tanh["covsde:tanh:taylor"] == r"\varphi(x) = x - \frac{x^{3}}{3} + O(x^{4})"
    assert tanh["covsde:tanh:shaping"].endswith(r"s = n^{1/2}")
    poly = equations(derive_sde("x + alpha*x**2 + beta*x**3").latex())
    assert r"\varphi(x) = x + \alpha x^{2} + \beta x^{3}" in "\n".join(poly.values())
    quintic = derive_sde("x - x**5/5", a=2).latex()
    assert r"s = 2\, n^{1/4}" in quintic                     # SPEC §1 "General order": n^(1/4)
    relu = derive_sde("relu").latex()
    assert r"dV_t = \sqrt{2}\, V_t\, dB_t" in relu and r"\left(0\right)" not in relu


def test_functions_are_written_as_in_a_paper():
    relu = derive_sde("relu").latex()
    assert r"\arccos(\rho)" in relu and "acos" not in relu
    erf = derive_sde("erf").latex()
    assert r"\operatorname{erf}(x)" in erf
    assert r"\tanh(x)" in derive_sde("tanh").latex()


def test_symbolic_regimes_are_cases_with_ordinary_inequalities():
    body = derive_sde("x + alpha*x**2 + beta*x**3").latex()
    assert r"\wedge" not in body and r"\begin{cases}" in body
    # SPEC §1: explodes iff k > 0, stationary iff k < -1, vanishes for -1 <= k <= 0
    for row in (r"\text{explodes} & \text{if } k > 0", r"\text{stationary} & \text{if } k < -1",
                r"\text{vanishes} & \text{if } -1 \le k \le 0"):
        assert row in body
    assert r"k = 3 \alpha^{2} + 6 \beta" in body


def test_long_drifts_are_broken_at_top_level_sums_and_every_line_fits():
    body = derive_sde("x + alpha*x**2 + beta*x**3").latex()
    drift = equations(body)["covsde:x-alpha-x-2-beta-x-3:drift"]
    lines = drift.split(r"\\")
    assert len(lines) == 2 and r"\begin{aligned}" in drift
    # the split is at the top-level + between the alpha^2 and the beta term (SPEC §1 form)
    assert lines[1].strip().startswith(r"&\quad + 3 \beta V^{ij}")
    assert all(display_width(line) <= LINE_WIDTH + 1 for line in lines)


def test_labels_have_a_stable_prefix_and_are_unique():
    body = derive_sde("sinh").latex(inputs=2)
    labels = re.findall(r"\\label\{([^}]*)\}", body)
    assert len(labels) == len(set(labels)) >= 9
    assert all(label.startswith("covsde:sinh:") for label in labels)
    assert {"covsde:sinh:drift", "covsde:sinh:norm_sde", "covsde:sinh:stability",
            "covsde:sinh:explosion_probability", "covsde:sinh:drift_matrix"} <= set(labels)


def test_notebook_display_shows_the_same_snippets():
    from covsde.derive.latex_report import sde_snippets
    for name in ("tanh", "relu", "x + alpha*x**2 + beta*x**3"):
        sde = derive_sde(name)
        shown = sde._repr_latex_()
        assert all(tex in shown for tex in sde_snippets(sde).values())
        assert all(tex in sde.latex() for tex in sde_snippets(sde).values())


# --------------------------------------------------------------- derivation appendix
def test_tanh_appendix_states_the_closed_forms_of_each_step():
    body = derive_sde("tanh").latex(steps=True)
    eq = equations(body)
    assert eq["covsde:tanh:taylor-coefficients"] == r"\varphi''(0) = 0,\quad \varphi'''(0) = -2"
    # E[tanh_s(w)^2] = E[(w - w^3/(3 s^2))^2] + O(s^-4) = 1 - (2/3) E[w^4] s^-2 = 1 - 2 s^-2
    assert r"= 1 - 2 s^{-2} + O(s^{-3})" in eq["covsde:tanh:normalisation"]
    # Isserlis: E[x y] = V^ij, E[x y^3] = 3 V^ij V^jj
    assert r"\mathbb{E}[x y] = V^{ij}" in eq["covsde:tanh:moments"]
    assert r"\mathbb{E}[x y^{3}] = 3 V^{ij} V^{jj}" in eq["covsde:tanh:moments"]
    # e_0 = e_1 = 0 and e_2 = the drift: q = 2, s = n^(1/2)
    assert eq["covsde:tanh:expansion"].startswith(r"\begin{gathered}e_{0} = 0,\quad e_{1} = 0 \\")
    assert "q = 2" in body and r"s = n^{1/2}" in eq["covsde:tanh:shaping"]
    # k = -2 < -1: stationary with law Gamma(1, rate 2) (SPEC §1)
    assert r"k = -2" in eq["covsde:tanh:stability"]
    assert r"\operatorname{Gamma}\bigl(1,\ \text{rate } 2\bigr)" in eq["covsde:tanh:stationary-law"]
    for key in REFERENCES:
        assert rf"\cite{{{key}}}" in body
    for number in ("2206.02768", "2302.00453", "2411.15267"):
        assert f"eprint = {{{number}}}" in body


def test_general_order_appendix_shows_the_lower_orders_cancel():
    eq = equations(derive_sde("x - x**5/5").latex(steps=True))
    assert eq["covsde:x-x-5-5:expansion"].startswith(
        r"\begin{gathered}e_{0} = 0,\quad e_{1} = 0,\quad e_{2} = 0,\quad e_{3} = 0 \\")
    assert r"s = n^{1/4}" in eq["covsde:x-x-5-5:shaping"]
    # E[x y^5] = 5 R B^2 (5 pairings of x with one y, 3 of the remaining four y's)
    assert r"\mathbb{E}[x y^{5}] = 15 V^{ij} \left(V^{jj}\right)^{2}" in eq["covsde:x-x-5-5:moments"]


def test_relu_appendix_has_nu_the_correlation_sde_and_the_lognormal_norm():
    sde = derive_sde("relu", c_plus=0, c_minus=-1)
    body = sde.latex(steps=True)
    eq = equations(body)
    assert r"\nu(1) = 0" in body
    assert r"\arccos(\rho)" in eq["covsde:relu:nu"]
    # Li, Nica & Roy Prop 3.10: d rho = [nu(rho) - rho (1 - rho^2)/2] dt + (1 - rho^2) dW
    assert eq["covsde:relu:correlation-sde"] == (
        r"d\rho_t = \left[\nu(\rho_t) + \frac{\rho_{t} \left(\rho_{t}^{2} - 1\right)}{2}\right] dt "
        r"+ \left(1 - \rho_{t}^{2}\right) dW_t")
    # SPEC §1: log V_T ~ N(log V_0 - T, 2T)
    assert r"\log V_t \sim N(\log V_0 - t,\ 2t)" in body


# --------------------------------------------------------------- command line
def test_cli_comparison_sets_three_activations_side_by_side(capsys):
    assert main(["derive", "tanh", "gelu", "sinh", "--latex"]) == 0
    table = capsys.readouterr().out
    rows = [line for line in table.splitlines() if line.endswith(r"\\") and "&" in line][1:]
    assert [row.split(" & ")[0] for row in rows] == [r"$\tanh$", r"$\operatorname{GELU}$", r"$\sinh$"]
    # k: tanh -2, GELU 3 phi2^2/4 with phi2 = 2 sqrt(2/pi)... = 6/pi, sinh 1 (SPEC §1 reference values)
    assert [row.split(" & ")[3] for row in rows] == ["$-2$", r"$\frac{6}{\pi}$", "$1$"]
    assert [row.split(" & ")[4].rstrip(" \\") for row in rows] == ["stationary", "explodes", "explodes"]


@pytest.mark.parametrize("argv", [["derive", "tanh", "gelu"], ["derive", "tanh", "--steps"],
                                  ["derive", "tanh", "gelu", "--latex", "--steps"]])
def test_cli_refuses_latex_options_out_of_place(argv, capsys):
    assert main(argv) == 2
    assert "error" in capsys.readouterr().err


# --------------------------------------------------------------- compilation
def test_tanh_documents_compile_and_fit_the_column(tmp_path):
    sde = derive_sde("tanh")
    assert_fits_the_page(sde.latex(standalone=True), tmp_path, "tanh")
    assert_fits_the_page(sde.latex(standalone=True, steps=True), tmp_path, "tanh-steps")


def test_symbolic_and_relu_documents_compile_and_fit_the_column(tmp_path):
    symbolic = derive_sde("x + alpha*x**2 + beta*x**3")
    assert_fits_the_page(symbolic.latex(standalone=True, inputs=2), tmp_path, "symbolic")
    assert_fits_the_page(derive_sde("relu").latex(standalone=True, steps=True), tmp_path, "relu-steps")


def test_cli_comparison_document_compiles(tmp_path):
    done = subprocess.run([sys.executable, "-m", "covsde.cli", "derive", "tanh", "gelu", "sinh",
                           "x + alpha*x**2 + beta*x**3", "--latex", "--standalone"],
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-500:]
    assert_fits_the_page(done.stdout.decode(), tmp_path, "comparison")


def test_appendix_page_renders_to_a_non_blank_image(tmp_path):
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None or latex_engine() is None or latex_engine()[0] != "pdflatex":
        pytest.skip("needs pdflatex and pdftoppm (poppler-utils)")
    compile_document(derive_sde("tanh").latex(standalone=True, steps=True), tmp_path, "page")
    subprocess.run([pdftoppm, "-r", "40", "-gray", "-f", "1", "-l", "1", "page.pdf", "page"],
                   cwd=tmp_path, check=True, timeout=60)
    image = next(tmp_path.glob("page*.pgm")).read_bytes()
    # binary PGM: "P5\n<w> <h>\n<max>\n" then w*h bytes
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", image)
    width, height = int(header.group(1)), int(header.group(2))
    pixels = np.frombuffer(image[header.end():], dtype=np.uint8)[: width * height]
    assert pixels.size == width * height and width > 100 and height > 100
    ink = pixels < 200
    # a page of text: some ink, far from all ink, and spread over many rows
    assert 0.005 < ink.mean() < 0.3 and pixels.std() > 10
    assert ink.reshape(height, width).any(axis=1).sum() > height // 5


BUILT_INS = list(ACTIVATIONS)


@pytest.mark.slow
def test_every_built_in_document_and_appendix_compiles_without_overfull_boxes(tmp_path):
    no_shaped_limit = []
    for name in BUILT_INS:
        try:
            sde = derive_sde(name)
        except ActivationError as exc:      # a first-order kink at 0: explained, no SDE to typeset
            assert "first-order kink" in str(exc)
            no_shaped_limit.append(name)
            continue
        assert_fits_the_page(sde.latex(standalone=True), tmp_path, f"{name}")
        assert_fits_the_page(sde.latex(standalone=True, steps=True), tmp_path, f"{name}-steps")
    assert sorted(no_shaped_limit) == ["leaky_relu", "relu6", "selu"]


@pytest.mark.parametrize("activation,params,options", [
    ("softplus", {}, {}),                                   # normalisation sentence
    ("3 + 2*tanh(x)", {"convention": "unnormalized"}, {}),
    ("exp(x) + c_0", {}, {}),                               # parameter with _ in phi(0) note
    ("x - x**5/5", {"a": 2}, {"steps": True}),              # general order, n^(1/4)
    ("sinh", {"a": "a"}, {"steps": True}),                  # symbolic shaping constant
    ("relu", {"c_plus": 0.5, "c_minus": -0.7}, {}),         # ReLU-like family
    ("linear", {}, {"steps": True}),                        # zero drift
    ("softsign", {}, {"steps": True}),                      # one-sided expansions, q = 1, sqrt(v) law
    ("x + x**2/2", {"c_plus": 0, "c_minus": -1}, {"steps": True}),   # slopes with curvature
], ids=["softplus", "unnormalized", "c_0", "quintic", "symbolic-a", "relu", "linear", "softsign",
        "slopes-curvature"])
def test_other_documents_compile(activation, params, options, tmp_path):
    source = derive_sde(activation, **params).latex(standalone=True, **options)
    assert source.lstrip().startswith((r"\documentclass", r"\begin{filecontents*}"))
    assert_fits_the_page(source, tmp_path)
