"""Result objects follow one convention: frozen, ``seed``/``message``/``fraction_exploded``, a short
repr, an HTML table whose numbers are the sample's statistics, and LaTeX for the derivation.

Every object is made by its public function.  The statistics in the HTML tables are recomputed
here from the result's arrays with other numpy routines (``np.median``, ``np.percentile``, the
standard deviation written out), and the deterministic results are checked against closed forms:
the tanh mean ODE's diagonal is logistic, the ReLU kernel's diagonal grows as e^(t/2), the
ReLU-like norm is a martingale, and the Fokker-Planck law's mean is 1 - int F.
"""
import dataclasses
from html.parser import HTMLParser

import numpy as np
import pytest
import sympy as sp
from scipy import stats

from covsde.derive import derive_sde
from covsde.derive.shaping import critical_shaping
from covsde.solvers import (compare, correlation_density, gaussian_kernel_map, resnet_kernel,
                            richardson_expectation, simulate_correlation, simulate_deep_linear,
                            simulate_mlp, simulate_norm, simulate_resnet, simulate_sde,
                            solve_mean_ode)

V0 = np.array([[1.0, 0.3], [0.3, 0.8]])
#: Numbers in the tables carry 6 significant digits.
SHOWN = dict(rel=1e-5, abs=1e-12)


# the tanh and relu fixtures come from conftest.py


@pytest.fixture(scope="module")
def sinh():
    return derive_sde("sinh")


# --------------------------------------------------------------------------- helpers
class _StrictTables(HTMLParser):
    """Parses the result HTML, checking that every tag is closed in order; collects its tables."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tables, self.cell, self.text = [], [], None, []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        if tag == "table":
            self.tables.append({"class": dict(attrs).get("class"), "rows": []})
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> does not close <{self.stack[-1:]}>"
        self.stack.pop()
        if tag in ("td", "th"):
            self.tables[-1]["rows"][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        (self.cell if self.cell is not None else self.text).append(data)


def parse_html(obj):
    """(message line, settings {name: text}, quantities {row name: {column: text}})."""
    parser = _StrictTables()
    parser.feed(obj._repr_html_())
    parser.close()
    assert not parser.stack, f"unclosed tags {parser.stack}"
    settings, quantities = {}, {}
    for table in parser.tables:
        if table["class"] == "covsde-settings":
            settings.update({row[0]: row[1] for row in table["rows"]})
        else:
            header, *rows = table["rows"]
            for row in rows:
                quantities[row[0]] = dict(zip(header[1:], row[1:]))
    return "".join(parser.text).strip(), settings, quantities


def assert_statistics(row, x):
    """The row's mean, std, q05, q50, q95 and n are those of the finite values of x."""
    x = np.asarray(x, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    mean = np.sum(x) / x.size
    expected = {"mean": mean, "std": np.sqrt(np.sum((x - mean) ** 2) / x.size),
                "q05": np.percentile(x, 5), "q50": np.median(x), "q95": np.percentile(x, 95)}
    for column, value in expected.items():
        assert float(row[column]) == pytest.approx(value, **SHOWN), column
    assert int(row["n"]) == x.size


def assert_readable_repr(obj, *fragments):
    text = repr(obj)
    assert "\n" not in text and len(text) < 500, text
    assert "array(" not in text and "[[" not in text and "..." not in text, text
    assert text.startswith(type(obj).__name__ + "("), text
    for fragment in fragments:
        assert fragment in text, (fragment, text)


def assert_frozen(obj, name):
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, name, getattr(obj, name))


def assert_message(obj):
    assert isinstance(obj.message, str) and obj.message.strip() and "\n" not in obj.message


def rho(V, a=0, b=1):
    V = np.asarray(V)
    return V[..., a, b] / np.sqrt(V[..., a, a] * V[..., b, b])


# --------------------------------------------------------------------------- SDE wing
def test_sde_result_table_is_the_statistics_of_the_paths_that_did_not_explode(sinh):
    result = simulate_sde(sinh, 2.0 * V0, 1.0, steps=40, paths=300, seed=2, explosion_threshold=1e3)
    assert 0 < result.fraction_exploded < 1
    assert result.fraction_exploded == np.count_nonzero(result.exploded) / 300
    assert_readable_repr(result, "paths=300", "m=2", "T=1.0", "steps=40", "scheme='euler'", "seed=2",
                         f"fraction_exploded={float(f'{result.fraction_exploded:.6g}')!r}", "message=")
    assert_message(result)
    message, settings, rows = parse_html(result)
    assert result.message in message
    assert settings["paths"] == "300" and settings["seed"] == "2" and settings["scheme"] == "euler"
    assert float(settings["fraction_exploded"]) == pytest.approx(result.fraction_exploded, **SHOWN)
    kept = result.V[~result.exploded]
    assert set(rows) == {"V^11", "V^12", "V^22", "rho^12"}
    for (a, b) in ((0, 0), (0, 1), (1, 1)):
        assert_statistics(rows[f"V^{a + 1}{b + 1}"], kept[:, a, b])
    assert_statistics(rows["rho^12"], rho(kept))
    assert_frozen(result, "V")
    assert not hasattr(result, "_repr_latex_")


def test_sde_result_table_stays_small_for_many_inputs_and_seed_reproduces(tanh):
    result = simulate_sde(tanh, np.eye(5) + 0.1, 0.2, steps=5, paths=50, seed=None)
    assert_readable_repr(result, "m=5", f"seed={result.seed}")
    _, _, rows = parse_html(result)
    assert "V^33" in rows and "rho^23" in rows and "V^14" not in rows and "rho^45" not in rows
    assert_statistics(rows["rho^13"], rho(result.V, 0, 2))
    again = simulate_sde(tanh, np.eye(5) + 0.1, 0.2, steps=5, paths=50, seed=result.seed)
    np.testing.assert_array_equal(again.V, result.V)


def test_norm_result_shows_V_and_log_V_of_surviving_paths(sinh):
    result = simulate_norm(sinh, 1.5, 1.0, steps=20, paths=300, seed=2)
    assert 0 < result.fraction_exploded < 1
    assert_readable_repr(result, "paths=300", "T=1.0", "steps=20", "scheme='log_euler'", "seed=2",
                         "fraction_exploded=")
    assert_message(result)
    _, settings, rows = parse_html(result)
    assert float(settings["fraction_exploded"]) == pytest.approx(np.mean(result.exploded), **SHOWN)
    kept = result.V[~result.exploded]
    assert_statistics(rows["V"], kept)
    assert_statistics(rows["log V"], np.log(kept))
    assert_frozen(result, "exploded")
    assert not hasattr(result, "_repr_latex_")


def test_correlation_result_table_is_the_statistics_of_rho(relu):
    result = simulate_correlation(relu, 0.3, 0.5, steps=10, paths=200, seed=None)
    assert_readable_repr(result, "paths=200", "T=0.5", "steps=10", f"seed={result.seed}", "clipped=")
    assert_message(result)
    _, settings, rows = parse_html(result)
    assert int(settings["clipped"]) == result.clipped
    assert_statistics(rows["rho"], result.rho)
    assert np.all(np.abs(result.rho) <= 1.0)
    again = simulate_correlation(relu, 0.3, 0.5, steps=10, paths=200, seed=result.seed)
    np.testing.assert_array_equal(again.rho, result.rho)
    assert_frozen(result, "rho")


def test_mean_ode_table_shows_the_logistic_diagonal_of_tanh(tanh):
    # tanh: b^aa = V^aa (2 - 2 V^aa), so V^aa(t) = 1 / (1 + (1/V0 - 1) e^(-2t)) (SPEC §1).
    start = np.array([[0.5, 0.2], [0.2, 1.5]])
    result = solve_mean_ode(tanh, start, 0.7)
    assert result.success and result.T == 0.7
    assert_readable_repr(result, "m=2", "T=0.7", "method='DOP853'", "success=True", "message=")
    assert_message(result)
    _, settings, rows = parse_html(result)
    for a in (0, 1):
        logistic = 1.0 / (1.0 + (1.0 / start[a, a] - 1.0) * np.exp(-2 * 0.7))
        assert float(rows[f"V^{a + 1}{a + 1}"]["value at T"]) == pytest.approx(logistic, rel=1e-5)
    assert float(rows["V^12"]["value at T"]) == pytest.approx(result.V[0, 1], **SHOWN)
    assert float(rows["rho^12"]["value at T"]) == pytest.approx(rho(result.V), **SHOWN)
    assert_frozen(result, "V")
    assert not hasattr(result, "seed") and not hasattr(result, "_repr_latex_")


def test_richardson_table_lists_each_estimate_and_the_relu_norm_is_a_martingale(relu):
    # ReLU-like: b(v, v, v) = 0, so V^11 is a martingale and every Euler estimate has mean V0^11.
    result = richardson_expectation(relu, V0, 0.5, lambda V: V[:, 0, 0], steps=[2, 4], paths=400, seed=4)
    assert_readable_repr(result, "paths=400", "T=0.5", "steps=[2, 4]", "seed=4", "message=")
    assert_message(result)
    _, settings, rows = parse_html(result)
    assert settings["steps"] == "[2, 4]"
    for i, n in enumerate(result.steps):
        row = rows[f"Richardson N={n}"]
        assert float(row["value"]) == pytest.approx(result.value[i], **SHOWN)
        assert float(row["standard error"]) == pytest.approx(result.standard_error[i], **SHOWN)
        assert abs(float(row["value"]) - V0[0, 0]) < 5 * float(row["standard error"])
    for j, n in enumerate(result.euler_steps):
        row = rows[f"Euler N={n}"]
        assert float(row["value"]) == pytest.approx(result.euler_value[j], **SHOWN)
        assert abs(float(row["value"]) - V0[0, 0]) < 5 * float(row["standard error"])
    assert_frozen(result, "value")


def test_richardson_table_labels_the_components_of_a_vector_quantity(relu):
    result = richardson_expectation(relu, V0, 0.5, lambda V: V[:, 0, :], steps=[2], paths=100, seed=1)
    _, _, rows = parse_html(result)
    assert float(rows["Richardson N=2 [1]"]["value"]) == pytest.approx(result.value[0, 1], **SHOWN)


def test_correlation_density_table_is_the_law_of_rho(relu):
    density = correlation_density(relu, 0.3, 0.5, grid=400, time_steps=100)
    assert_readable_repr(density, "T=0.5", "rho0=0.3", "cells=400", "message=")
    assert_message(density)
    _, settings, rows = parse_html(density)
    assert float(settings["total mass"]) == pytest.approx(1.0, abs=1e-10)
    # E rho = 1 - int_{-1}^{1} F(r) dr and E rho^2 = 1 - 2 int r F(r) dr, F by the density's cdf
    r = np.linspace(-1.0, 1.0, 400_001)
    F = density.cdf(r)
    mean = 1.0 - np.trapezoid(F, r)
    second = 1.0 - 2.0 * np.trapezoid(r * F, r)
    assert float(rows["rho"]["mean"]) == pytest.approx(mean, abs=2e-3)
    assert float(rows["rho"]["std"]) == pytest.approx(np.sqrt(second - mean**2), abs=2e-3)
    for p, column in ((0.05, "q05"), (0.5, "q50"), (0.95, "q95")):
        assert density.cdf(float(rows["rho"][column])) == pytest.approx(p, abs=1e-4)
    assert_frozen(density, "mass")


# --------------------------------------------------------------------------- kernels
def test_gaussian_kernel_map_shows_how_it_is_computed():
    F = gaussian_kernel_map("tanh")
    assert_readable_repr(F, "name='tanh'", "method='quadrature'", "rule='mehler'")
    assert_message(F)
    assert "Mehler" in F.message
    _, settings, _ = parse_html(F)
    assert settings == {"activation": "tanh", "method": "quadrature", "precision": "double",
                        "rule": "mehler", "degree": "64"}
    _, settings, _ = parse_html(gaussian_kernel_map("relu"))
    assert settings["method"] == "relu" and "rule" not in settings
    assert_frozen(F, "degree")


def test_kernel_result_table_shows_the_relu_diagonal_growing_as_exp_half_t():
    # ReLU: F(q)^aa = q^aa / 2, so q^aa(t) = q^aa(0) e^(t/2) (SPEC §2).
    Q0 = np.array([[1.0, 0.5], [0.5, 2.0]])
    result = resnet_kernel("relu", Q0, t=1.0)
    assert_readable_repr(result, "m=2", "t=1.0", "method='ode (DOP853)'", "success=True", "message=")
    assert_message(result)
    _, settings, rows = parse_html(result)
    assert int(settings["nfev"]) == result.nfev
    for a in (0, 1):
        assert float(rows[f"q^{a + 1}{a + 1}"]["value at t"]) == pytest.approx(Q0[a, a] * np.exp(0.5), rel=1e-5)
    assert float(rows["rho^12"]["value at t"]) == pytest.approx(rho(result.q), **SHOWN)
    assert_frozen(result, "q")


# --------------------------------------------------------------------------- finite networks
def test_mlp_samples_table_and_seed(tanh):
    samples = simulate_mlp("tanh", V0=V0, width=16, depth=8, networks=60, seed=None)
    assert_readable_repr(samples, "networks=60", "m=2", "width=16", "depth=8", "activation='tanh'",
                         f"seed={samples.seed}", "fraction_exploded=0.0", "message=")
    assert_message(samples)
    _, settings, rows = parse_html(samples)
    assert settings["layers"] == "0, 1, ..., 8 (9 layers)"
    final = samples.V[:, -1]
    assert_statistics(rows["V^11"], final[:, 0, 0])
    assert_statistics(rows["V^12"], final[:, 0, 1])
    assert_statistics(rows["rho^12"], rho(final))
    again = simulate_mlp("tanh", V0=V0, width=16, depth=8, networks=60, seed=samples.seed)
    np.testing.assert_array_equal(again.V, samples.V)
    assert_frozen(samples, "seed")
    assert not hasattr(samples, "_repr_latex_")


def test_mlp_fraction_exploded_counts_the_overflowed_networks():
    samples = simulate_mlp("sinh", V0=4 * V0, width=2, depth=60, networks=50, seed=1,
                           convention="unnormalized")
    overflowed = ~np.all(np.isfinite(samples.V[:, -1]), axis=(1, 2))
    assert 0 < overflowed.sum() < 50
    assert samples.fraction_exploded == overflowed.mean()
    assert f"{overflowed.sum()} overflowed" in samples.message
    _, _, rows = parse_html(samples)
    assert int(rows["V^11"]["n"]) == 50 - overflowed.sum()
    assert_statistics(rows["V^22"], samples.V[~overflowed, -1, 1, 1])


def test_resnet_samples_table_and_overflow():
    samples = simulate_resnet("tanh", Q0=V0, width=16, depth=8, networks=40, seed=6)
    assert_readable_repr(samples, "networks=40", "width=16", "depth=8", "seed=6", "fraction_exploded=0.0")
    assert_message(samples)
    _, _, rows = parse_html(samples)
    assert_statistics(rows["q^11"], samples.q[:, -1, 0, 0])
    assert_statistics(rows["rho^12"], rho(samples.q[:, -1]))
    assert_frozen(samples, "q")
    blown = simulate_resnet("exp(x)", Q0=4 * V0, width=2, depth=50, alpha=2.0, networks=50, seed=1)
    overflowed = ~np.all(np.isfinite(blown.q[:, -1]), axis=(1, 2))
    assert 0 < overflowed.sum() < 50 and blown.fraction_exploded == overflowed.mean()


def test_deep_linear_samples_table_shows_V_and_the_outputs():
    samples = simulate_deep_linear(K=V0, width=16, depth=8, outputs=3, networks=50, seed=None)
    assert_readable_repr(samples, "networks=50", "width=16", "depth=8", "outputs=3", "alpha=0.5",
                         f"seed={samples.seed}")
    assert_message(samples)
    _, _, rows = parse_html(samples)
    assert_statistics(rows["V^12"], samples.V[:, 0, 1])
    assert_statistics(rows["f(x^2)"], samples.outputs[:, 1, :])
    again = simulate_deep_linear(K=V0, width=16, depth=8, outputs=3, networks=50, seed=samples.seed)
    np.testing.assert_array_equal(again.outputs, samples.outputs)
    assert_frozen(samples, "outputs")


def test_sample_comparison_table_is_the_two_sample_statistics(tanh):
    networks = simulate_mlp("tanh", V0=V0, width=16, depth=8, networks=60, seed=5)
    paths = simulate_sde(tanh, V0, 0.5, steps=10, paths=200, seed=1)
    comparison = compare(networks, paths.V)
    assert_readable_repr(comparison, "quantities=['rho^12', 'log V^11', 'log V^22']", "message=")
    assert_message(comparison)
    _, _, rows = parse_html(comparison)
    ks = stats.ks_2samp(rho(networks.V[:, -1]), rho(paths.V))
    assert float(rows["rho^12"]["KS"]) == pytest.approx(ks.statistic, **SHOWN)
    assert float(rows["rho^12"]["p-value"]) == pytest.approx(ks.pvalue, **SHOWN)
    w1 = stats.wasserstein_distance(np.log(networks.V[:, -1, 1, 1]), np.log(paths.V[:, 1, 1]))
    assert float(rows["log V^22"]["W1"]) == pytest.approx(w1, **SHOWN)
    assert int(rows["log V^11"]["n B"]) == 200
    row = comparison["rho^12"]
    assert_readable_repr(row, "name='rho^12'", "n_a=60", "n_b=200")
    _, _, single = parse_html(row)
    assert float(single["rho^12"]["KS"]) == pytest.approx(ks.statistic, **SHOWN)
    assert_frozen(comparison, "rows")
    assert_frozen(row, "ks_statistic")


# --------------------------------------------------------------------------- derive
def _balanced(tex):
    body = tex.replace(r"\{", "").replace(r"\}", "")
    return body.count("{") == body.count("}")


def test_tanh_sde_latex_shows_the_whole_derivation(tanh):
    tex = tanh._repr_latex_()
    assert tex.startswith("$$") and tex.endswith("$$") and _balanced(tex)
    Vii, Vjj, Vij = sp.symbols("V^{ii} V^{jj} V^{ij}")
    drift = sp.latex(Vij * (2 - Vii - Vjj))           # SPEC §1: b = R (2 - A - B) for tanh
    assert r"b^{ij}(V) = " + drift in tex
    assert r"\Sigma^{ij,kl}(V) = V^{ik}V^{jl} + V^{il}V^{jk}" in tex
    Vt = sp.Symbol("V_t")
    assert sp.latex(-2 * Vt * (Vt - 1)) in tex and r"\sqrt{2}\, V_t\, dB_t" in tex
    assert "k = -2" in tex and "stationary" in tex
    assert r"\varphi(x) = \tanh" in tex and r"s = n^{1/2}" in tex
    assert "CovarianceSDE(tanh" in repr(tanh) and "k=-2" in repr(tanh) and "regime=stationary" in repr(tanh)


def test_relu_sde_latex_shows_nu_the_norm_sde_and_regime(relu):
    tex = relu._repr_latex_()
    assert tex.startswith("$$") and _balanced(tex)
    r = sp.Symbol(r"\rho")
    nu = (sp.sqrt(1 - r**2) - r * sp.acos(r)) / (2 * sp.pi)   # (c+ - c-)^2 = 1 (SPEC §1)
    assert sp.latex(nu, inv_trig_style="full").replace(r"{\left(\rho \right)}", r"(\rho)") in tex
    assert r"b^{ij}(V) = \nu(\rho^{ij}) \sqrt{V^{ii} V^{jj}}" in tex
    assert r"\Sigma^{ij,kl}(V) = V^{ik}V^{jl} + V^{il}V^{jk}" in tex
    assert r"dV_t = \sqrt{2}\, V_t\, dB_t" in tex
    assert "k = 0" in tex and "vanishes" in tex and r"c_- = -1" in tex


def test_normalised_and_symbolic_derivations_show_the_normalisation_and_the_regions():
    softplus = derive_sde("softplus")._repr_latex_()
    assert r"\text{Normalisation}" in softplus and _balanced(softplus)
    assert "explodes" in softplus and r"P(\text{explosion}\mid V_0)" in softplus
    symbolic = derive_sde("x + alpha*x**2 + beta*x**3")._repr_latex_()
    assert all(name in symbolic for name in ("explodes", "stationary", "vanishes")) and _balanced(symbolic)


def test_derive_objects_are_frozen_and_still_cache_their_numerics(tanh):
    sde = derive_sde("tanh")
    assert_frozen(sde, "drift_expr")
    assert_frozen(sde.stability, "k")
    V = np.array([[1.0, 0.5], [0.5, 2.0]])
    expected = V[0, 1] * (2 - V[0, 0] - V[1, 1])
    assert sde.drift(V)[0, 1] == pytest.approx(expected) and sde.drift(V)[0, 1] == pytest.approx(expected)
    assert sde.stability.stationary_mean == pytest.approx(sde.stability.stationary_mean)
    assert sde == tanh          # the numeric cache does not enter equality


def test_norm_stability_and_shaping_expansion_latex(tanh):
    tex = tanh.stability._repr_latex_()
    Vt = sp.Symbol("V_t")
    assert sp.latex(-2 * Vt * (Vt - 1)) in tex and "k = -2" in tex and "stationary" in tex
    shaping = critical_shaping(tanh.activation)
    tex = shaping._repr_latex_()
    Vii, Vjj, Vij = sp.symbols("V^{ii} V^{jj} V^{ij}")
    assert "s^{-2}" in tex and sp.latex(Vij * (2 - Vii - Vjj)) in tex and r"n^{\frac{1}{2}}" in tex
    assert_frozen(shaping, "order")


@pytest.mark.parametrize("activation,params", [("tanh", {}), ("softplus", {}), ("relu", {"c_plus": 0, "c_minus": -1}),
                                               ("x + alpha*x**2 + beta*x**3", {})])
def test_notebook_latex_compiles_in_a_document(activation, params, tmp_path):
    from test_latex import compile_document        # skips when no LaTeX engine is on PATH
    sde = derive_sde(activation, **params)
    body = "\n\n".join([sde._repr_latex_(), sde.stability._repr_latex_()]
                       + ([critical_shaping(sde.activation)._repr_latex_()] if sde.family == "smooth" else []))
    compile_document("\n".join([r"\documentclass{article}", r"\usepackage{amsmath,amssymb}",
                                r"\begin{document}", body, r"\end{document}", ""]), tmp_path)
