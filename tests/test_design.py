"""covsde.design: each target's solution checked against mathematics written here, independently of the
code under test (closed forms, quadrature of the ODE's time integral, the dks package)."""
import numpy as np
import pytest
import scipy.special
from scipy.integrate import quad

from covsde.derive import InputError
from covsde.design import TARGETS, solve
from covsde.design.unshaped_maps import composed_c_map, leaky_relu_c_map, leaky_relu_q_map, tat_negative_slope


def nu_one(r):
    """nu(rho)/(c+ - c-)^2 = (sqrt(1 - rho^2) - rho arccos rho)/(2 pi) (SPEC §1), typed here."""
    return (np.sqrt(1 - r * r) - r * np.arccos(r)) / (2 * np.pi)


def shaped_constant(eta, T=1.0, rho0=0.0):
    """|c+ - c-| with rho(T) = eta under d rho/dt = c^2 nu_one(rho): c^2 T = int_rho0^eta d rho / nu_one."""
    return np.sqrt(quad(lambda r: 1 / nu_one(r), rho0, eta, epsabs=1e-13, epsrel=1e-12)[0] / T)


def zhang_leaky_relu_c_map(c, alpha):
    """TAT's leaky-ReLU C-map, Zhang et al. 2022 eq. (10) as SPEC §6 writes it."""
    return ((1 - alpha) ** 2 * (np.sqrt(1 - c * c) + (np.pi - np.arccos(c)) * c) / np.pi + 2 * alpha * c) / (1 + alpha**2)


def test_every_issue_target_is_registered():
    assert set(TARGETS) >= {"correlation", "finite-correlation", "norm-k", "stationary-mean", "explosion",
                            "resnet-ratio", "resnet-correlation", "tat"}


# ------------------------------------------------------------------ target 1: the mean ODE
@pytest.mark.parametrize("eta, T", [(0.5, 1.0), (0.9, 1.0), (0.3, 2.0)])
def test_relu_like_correlation_design_matches_time_integral_of_nu(eta, T):
    result = solve("relu", "correlation", eta=eta, T=T, predict=False)
    assert result.value == pytest.approx(-shaped_constant(eta, T), rel=1e-7)
    assert abs(result.residual) < 1e-9


def test_correlation_design_of_the_plus_side_is_the_mirror_image():
    minus = solve("relu", "correlation", eta=0.5, predict=False)
    plus = solve("relu", "correlation", eta=0.5, free="c_plus", c_minus=0, predict=False)
    assert plus.value == pytest.approx(-minus.value, rel=1e-8)


def test_correlation_out_of_reach_is_refused_with_the_reachable_range():
    # rho(T) of the ReLU-like mean ODE only grows from rho0: a negative target is out of reach
    with pytest.raises(InputError, match=r"reachable range is \[0, 0\.99"):
        solve("relu", "correlation", eta=-0.5, predict=False)


def test_smooth_coefficient_correlation_design_satisfies_the_mean_ode_written_here():
    # x + alpha x^2, normalized, a = 1: b = alpha^2 (A B + 2 R^2 - 3 R) (SPEC §1 with phi2 = 2 alpha);
    # on the diagonal A = B = 1 stays fixed, so d rho/dt = alpha^2 (1 + 2 rho^2 - 3 rho) = alpha^2 (1 - rho)(1 - 2 rho),
    # solved from 0: t alpha^2 = log((1 - rho)/(1 - 2 rho)) for rho < 1/2
    result = solve("x + alpha*x**2", "correlation", eta=0.3, predict=False, bounds=(0.0, 5.0))
    assert result.value ** 2 == pytest.approx(np.log(0.7 / 0.4), rel=1e-8)


# ------------------------------------------------------------------ target 2: finite width, Fokker-Planck
def test_relu_like_finite_width_design_differs_from_infinite_width_as_the_law_says():
    finite = solve("relu", "finite-correlation", eta=0.5)
    infinite = solve("relu", "correlation", eta=0.5)
    assert abs(finite.residual) < 1e-8 and finite.standard_error is None
    # the SDE's E[rho_1] at the infinite-width design is not eta: the finite-width design corrects it
    assert infinite.prediction.mean - 0.5 == pytest.approx(0.0074, abs=2e-3)
    assert abs(finite.value) < abs(infinite.value)


# ------------------------------------------------------------------ target 3: the norm law
def test_stationary_mean_design_solves_k_from_the_paper_formula():
    # k = (3/4 phi''(0)^2 + phi'''(0))/a^2 = 3/4 (0.2)^2 + 6 beta; mean 1 + 1/k = 0.8 -> k = -5
    result = solve("x + 0.1*x**2 + beta*x**3", "stationary-mean", value=0.8, predict=False)
    assert result.value == pytest.approx((-5 - 0.03) / 6, rel=1e-12)
    assert result.achieved == pytest.approx(0.8, rel=1e-9)


def test_stationary_mean_refused_for_alpha_x_squared_with_its_range():
    with pytest.raises(InputError) as info:
        solve("x + alpha*x**2", "stationary-mean", value=0.8)
    message = str(info.value)
    assert "k = 3*alpha**2 takes values in [0, oo)" in message and "none" in message
    assert "\n" not in message


def test_norm_k_design_for_the_shaping_constant_of_tanh():
    # tanh: phi3 = -2, so k = -2/a^2; k = -4 -> a = 1/sqrt(2)
    result = solve("tanh", "norm-k", value=-4, free="a", predict=False)
    assert result.value == pytest.approx(1 / np.sqrt(2), rel=1e-12)


def test_explosion_design_matches_gammainc():
    # x + alpha x^2: k = 3 alpha^2 > 0; P(explosion | V0) = gammainc(1 + k, k V0) (SPEC §1)
    result = solve("x + alpha*x**2", "explosion", value=0.3, V0=1.0, predict=False, bounds=(0.01, 3.0))
    k = 3 * result.value**2
    assert scipy.special.gammainc(1 + k, k) == pytest.approx(0.3, abs=1e-9)


# ------------------------------------------------------------------ target 4: the ResNet kernel ODE
def test_resnet_ratio_design_for_relu_is_the_closed_form():
    # ReLU: q(t) = q(0) exp(alpha^2 t / 2) (SPEC §2), so q(1)/q(0) = r needs alpha = sqrt(2 log r)
    result = solve("relu", "resnet-ratio", value=2.0, predict=False)
    assert result.value == pytest.approx(np.sqrt(2 * np.log(2.0)), rel=1e-8)


def test_resnet_correlation_design_equals_the_shaped_relu_constant():
    # with q^aa = exp(s^2 t/2), rho solves d rho/dt = s^2 nu_one(rho): the same integral as the shaped MLP
    result = solve("relu", "resnet-correlation", eta=0.8, predict=False)
    assert result.value == pytest.approx(shaped_constant(0.8), rel=1e-7)


def test_resnet_schedule_scale_uses_the_integral_of_alpha_squared():
    # alpha(t) = sqrt(2 t) has int_0^1 alpha^2 = 1: the same scale as a constant branch
    constant = solve("relu", "resnet-correlation", eta=0.6, predict=False)
    scheduled = solve("relu", "resnet-correlation", eta=0.6, schedule="sqrt(2*t)", predict=False)
    assert scheduled.value == pytest.approx(constant.value, rel=1e-6)


# ------------------------------------------------------------------ target 5: TAT leaky ReLU
@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.57, 0.95])
def test_leaky_relu_c_map_from_kernel_map_is_zhang_closed_form(alpha):
    c = np.linspace(-1, 1, 41)
    assert np.allclose(leaky_relu_c_map(c, alpha), zhang_leaky_relu_c_map(c, alpha), atol=1e-13)
    assert np.allclose(leaky_relu_q_map(np.array([0.3, 1.0, 4.0]), alpha), [0.3, 1.0, 4.0], rtol=1e-13)


def test_tat_slope_solves_the_composed_closed_form():
    alpha, achieved, _ = tat_negative_slope(0.9, 100)
    c = 0.0
    for _ in range(100):
        c = zhang_leaky_relu_c_map(c, alpha)
    assert c == pytest.approx(0.9, abs=1e-9) and achieved == pytest.approx(0.9, abs=1e-12)


@pytest.mark.parametrize("depth", [30, 100, 1000])
def test_tat_slope_agrees_with_the_dks_package(depth):
    dks = pytest.importorskip("dks.base.activation_transform", reason="the dks package is not installed")

    def whole_network(x, local_map):
        for _ in range(depth):
            x = local_map(x)
        return x
    expected = dks._get_activations_params(["leaky_relu"], method="TAT", tat_params={"c_val_0_target": 0.9},
                                           subnet_max_func=whole_network)["leaky_relu"]
    result = solve("leaky_relu", "tat", eta=0.9, depth=depth, predict=False)
    assert result.value == pytest.approx(expected["negative_slope"], abs=1e-7)    # dks solves to 1e-8
    assert result.parameters["output_scale"] == pytest.approx(expected["output_scale"], abs=1e-7)


def test_tat_slope_approaches_the_shaped_design_as_depth_grows():
    # sqrt(L) (1 - alpha(L)) -> |c-| of the shaped design rho(1) = eta (SPEC §6); the gap shrinks ~ L^-0.45
    target = shaped_constant(0.9)
    depths = np.array([30, 100, 300, 1000])
    gaps = np.array([abs(np.sqrt(L) * (1 - tat_negative_slope(0.9, int(L))[0]) - target) for L in depths])
    assert np.all(np.diff(gaps) < 0)
    slope = np.polyfit(np.log(depths), np.log(gaps), 1)[0]
    assert -0.6 < slope < -0.3
    assert gaps[-1] < 0.1 * target


def test_tat_out_of_reach_at_shallow_depth_names_the_range():
    with pytest.raises(InputError, match=r"reachable range is \[0, 0\.87"):
        solve("leaky_relu", "tat", eta=0.9, depth=10)


def test_tat_prediction_maps_the_slope_to_c_minus_at_the_width():
    result = solve("leaky_relu", "tat", eta=0.9, depth=100, width=100)
    p = result.prediction
    assert (p.width, p.depth, p.T) == (100, 100, 1.0)
    # the finite network is less correlated than the infinite-width C-map says (noise pushes rho down on average)
    assert p.mean < 0.9 - 0.03 and p.fraction_exploded == 0.0


# ------------------------------------------------------------------ input checks
def test_bad_inputs_raise_one_sentence():
    for call in (lambda: solve("relu", "nope", eta=0.5),
                 lambda: solve("relu", "correlation", eta=1.5),
                 lambda: solve("relu", "correlation", eta=0.5, free="a"),
                 lambda: solve("x + alpha*x**2 + beta*x**3", "norm-k", value=1.0),
                 lambda: solve("relu", "correlation", eta=0.5, bounds=(1, 0))):
        with pytest.raises(InputError) as info:
            call()
        assert "\n" not in str(info.value)
