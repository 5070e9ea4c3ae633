"""The Gaussian kernel map F_phi(Q)^{ab} = E[phi(Z_a) phi(Z_b)], Z ~ N(0, Q).

This is the right-hand side of Hayou's ResNet kernel recursion and ODE (SPEC §2; Hayou & Yang 2023,
arXiv 2302.00453). Here ``phi`` is the PLAIN activation of the ResNet branch, not the normalised or
shaped one of the covariance SDE (:mod:`covsde.derive.plain_activation`): any phi with finite
Gaussian second moments, cos(x), x**2, exp(-x**2), abs(x), Heaviside(x), Piecewise(...), ...;
``Activation.raw`` for an Activation and ``max(x, 0)`` for the ReLU family.

Closed forms (arc-cosine kernels of degree 0, 1, 2 and their one-sided combinations: Heaviside,
relu, leaky relu, abs, relu^2; c erf(k x) + d; c cos(k x + b); c exp(-g x^2); polynomials) are
written once, in SymPy, in :mod:`covsde.derive.gaussian_kernels`; this module receives them as numpy
and mpmath functions (``gaussian_kernel_closed_form(phi).function(backend)``), and phi itself as
``PlainActivation.function(backend)``: no SymPy here.

Any other activation: a tensor quadrature rule for each pair, written with independent standard
normals u, v as Z_a = sqrt(Q^{aa}) u, Z_b = sqrt(Q^{bb}) (rho u + sqrt(1 - rho^2) v), vectorised
over all pairs; the diagonal uses the 1-D rule. Two rules for the Gaussian weight:

- ``"trapezoid"``: the truncated trapezoidal rule on [-U, U], U = 8.5, which converges
  geometrically in the number of nodes for integrands analytic in a strip, where Gauss–Hermite
  only converges like exp(-c sqrt(degree)) (Trefethen & Weideman 2014, SIAM Review 56, §5).
  Measured at 64 nodes: E[tanh(sigma u)^2], sigma^2 = 2: trapezoid 1e-10, Gauss–Hermite 1e-6;
  F for erf(x) + x: trapezoid 3e-15, Gauss–Hermite 2e-8.
- ``"hermite"``: Gauss–Hermite, exact for polynomials, and needed for exponentially growing
  activations (sinh, cosh, exp), whose integrand leaves [-U, U]: sinh at Q^aa = 3, 64 nodes:
  Gauss–Hermite 1e-15, trapezoid 2e-6.

- ``"mehler"``: Mehler's expansion E[phi(sa u) phi(sb v)] = sum_k c_k(sa) c_k(sb) rho^k,
  c_k(s) = E[phi(s u) He_k(u)] / sqrt(k!), with the c_k computed once per input by a fine 1-D
  trapezoidal rule (1401 nodes on [-14, 14], k <= 160): O(m K) activation evaluations and O(m^2 K)
  arithmetic instead of O(m^2 degree^2). The truncation order is set per band of |rho| from a tail
  bound on the coefficients; pairs with |rho| > 0.98 or an unconverged series use the 2-D
  trapezoidal rule, |rho| = 1 (diagonal, duplicate inputs) a 1-D rule. Measured (tanh, random Gram
  of 500 inputs in R^20): one F in 0.10 s against 4.4 s for the 2-D rule, max difference 1e-9
  (the 2-D rule's error at 64 nodes; against 256 nodes the series agrees to 1e-12); m = 2000: 1.6 s.

- ``"panels"``: Gauss–Legendre panels in the conditional form E_u[phi(sa u) E_v[phi(Z_b) | u]],
  placed from the variances and phi's kinks, length scale and envelope
  (:mod:`covsde.solvers.kernels.panel_quadrature`): accurate to ~1e-11 relative for variances
  1e-4..1e4 and |rho| up to 1 - 1e-6, kinks and jumps included.

``rule=None`` picks Gauss–Hermite for polynomials without a closed form and for activations that
grow exponentially (exp, sinh, cosh: ``PlainActivation.grows_exponentially``), the panels for
activations with kinks or jumps, and Mehler's expansion otherwise (tanh, gelu, sin, sigmoid,
softplus, exp(-x**2) sin(x), ...), whose pairs with a variance above ``MEHLER_VARIANCE_MAX`` go to
the panels (the expansion's coefficients lose accuracy there: 2 % at variance 100 for erf).
``precision="mpmath"`` evaluates the
same expectations with ``mpmath.quad`` (or the closed forms in mpmath) as a high-precision reference.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import numpy as np

from covsde.derive import InputError
from covsde.derive.gaussian_kernels import gaussian_kernel_closed_form
from covsde.derive.plain_activation import as_plain_activation

from covsde.solvers import result_display as display
from covsde.solvers.input_validation import count, symmetric_psd
from covsde.solvers.kernels.panel_quadrature import PANEL_NODES, panel_layout, panel_pairs
from covsde.solvers.resource_limits import DOUBLE, check_memory, check_path_steps, vectorised_steps

#: Default number of quadrature nodes per dimension (the 2-D rule has degree**2 nodes).
DEFAULT_DEGREE = 64

#: Half-width of the trapezoidal rule's interval: the Gaussian weight beyond it is < 1e-16.
TRAPEZOID_HALF_WIDTH = 8.5

#: Mehler expansion: largest Hermite order, its largest |rho|, and the relative tail tolerance.
MEHLER_ORDER = 160
MEHLER_RHO_MAX = 0.98
#: Upper |rho| of the bands that share one truncation order (small |rho| needs few terms).
MEHLER_BANDS = np.array([0.1, 0.25, 0.4, 0.55, 0.7, 0.8, 0.9, 0.95, MEHLER_RHO_MAX])
MEHLER_TOLERANCE = 1e-13
#: Largest variance Mehler's expansion serves (its coefficients come from a fixed 1-D trapezoidal
#: rule); pairs with a larger variance go to the panels.
MEHLER_VARIANCE_MAX = 4.0
#: Integrand evaluations one kernel entry typically costs with the panels (counted by the resource
#: limits): about 40 outer and 40 inner panels.
PANEL_ENTRY_COST = float((40 * PANEL_NODES) ** 2)
#: The quadrature rules by name.
RULES = ("hermite", "trapezoid", "mehler", "panels")

#: Fewest coefficients beyond the truncation order that the tail envelope T_K is taken over.
_TAIL_SPAN = 8

#: |rho| this close to 1 is a rounded 1 (a diagonal entry or duplicate inputs).
_ROUNDING = 1e-14

#: Trapezoidal rule for the Hermite coefficients c_k(s): h_k(u) exp(-u^2/2) ~ exp(-u^2/4) needs U = 14.
MEHLER_HALF_WIDTH = 14.0
MEHLER_NODES = 1401

#: Number of integrand evaluations per chunk of the vectorised 2-D quadrature (memory bound).
_CHUNK_EVALUATIONS = 1 << 22
#: Path-steps (:mod:`covsde.solvers.resource_limits`) one ``mpmath.quad`` of a kernel entry counts
#: as (0.1 to 1 s each).
MPMATH_ENTRY_COST = 1e7
#: Arrays of the size of Q one evaluation holds at once (output, pair values, indices, sigmas, rho).
_ARRAYS_PER_ENTRY = 8


@dataclass(frozen=True)
class GaussianKernelMap:
    """Q -> F_phi(Q) for one plain activation; build it once with :func:`gaussian_kernel_map`.

    Attributes
    ----------
    name : str
        The activation's name.
    method : str
        Closed form used (:data:`covsde.derive.gaussian_kernels.CLOSED_FORM_KERNELS`: "relu",
        "linear", "erf", "polynomial", "arc-cosine", "cos", "gaussian"), or "quadrature".
    degree : int
        Quadrature nodes per dimension (quadrature only).
    precision : {"double", "mpmath"}
    rule : {"hermite", "trapezoid", "mehler", "panels"}
        Quadrature rule (quadrature only).

    A map, not a run: no seed; ``message`` says how F_phi is computed, and notebooks show the
    settings as a table (:mod:`covsde.solvers.result_display`).
    """

    name: str
    method: str
    degree: int
    precision: str = "double"
    rule: str = "hermite"
    _phi: object = field(default=None, repr=False, compare=False)
    _phi_mp: object = field(default=None, repr=False, compare=False)
    #: f(q_aa, q_bb, q_ab, rho) of the closed form, numpy and mpmath (None for quadrature).
    _closed_form: object = field(default=None, repr=False, compare=False)
    _closed_form_mp: object = field(default=None, repr=False, compare=False)
    #: Where the panels put nodes (:class:`covsde.solvers.kernels.panel_quadrature.PanelLayout`).
    _layout: object = field(default=None, repr=False, compare=False)

    @property
    def message(self) -> str:
        """One line: how F_phi(Q) is computed."""
        if self.method != "quadrature":
            how = f"the closed form '{self.method}'"
        else:
            how = {"hermite": f"Gauss-Hermite quadrature, {self.degree} nodes per dimension",
                   "trapezoid": f"the trapezoidal rule, {self.degree} nodes per dimension",
                   "mehler": f"Mehler's expansion (2-D trapezoid with {self.degree} nodes per "
                             "dimension where it does not converge, Gauss-Legendre panels above "
                             f"variance {MEHLER_VARIANCE_MAX:g})",
                   "panels": "Gauss-Legendre panels placed from the variances and phi's kinks and "
                             "features"}[self.rule]
        return f"F_phi(Q) = E[phi(Z) phi(Z)^T], Z ~ N(0, Q), for {self.name} by {how}" + \
            (" in mpmath" if self.precision == "mpmath" else "")

    def _repr_html_(self) -> str:
        settings = {"activation": self.name, "method": self.method, "precision": self.precision}
        if self.method == "quadrature":
            settings |= {"rule": self.rule, "degree": self.degree}
        return display.html_report("GaussianKernelMap", self.message, settings)

    @property
    def evaluations_per_entry(self) -> float:
        """Integrand evaluations (path-steps) one kernel entry costs: 1 for a closed form, degree² for
        the 2-D rules, MEHLER_ORDER for Mehler's series, PANEL_ENTRY_COST for the panels,
        MPMATH_ENTRY_COST for mpmath."""
        if self.precision == "mpmath":
            return MPMATH_ENTRY_COST
        if self._closed_form is not None:
            return 1.0
        if self.rule == "panels":
            return PANEL_ENTRY_COST
        return float(MEHLER_ORDER if self.rule == "mehler" else self.degree ** 2)

    def check_work(self, entries: int, calls: float = 1.0, caller: str = "kernel_map") -> None:
        """Refuse (InputError) ``calls`` evaluations of ``entries`` kernel entries each that pass
        the memory or path-step limits of :mod:`covsde.solvers.resource_limits`."""
        check_memory(caller, [(entries * _ARRAYS_PER_ENTRY * DOUBLE, f"the working arrays of {entries:.3g} "
                                                                     "kernel entries")],
                     "use fewer inputs")
        check_path_steps(caller, vectorised_steps(calls, entries * self.evaluations_per_entry),
                         f"{calls:.3g} evaluation(s) of {entries:.3g} kernel entries, "
                         f"{self.evaluations_per_entry:.3g} integrand evaluations each",
                         "use fewer inputs or layers, or a smaller degree")

    def __call__(self, Q):
        """F_phi(Q) for Q (..., m, m) symmetric PSD; returns (..., m, m), symmetric."""
        Q = np.asarray(Q, dtype=np.float64)
        m = Q.shape[-1]
        rows, cols = np.triu_indices(m)
        if self.method == "quadrature" and self.rule == "mehler" and self.precision == "double":
            return self._mehler_matrix(Q, rows, cols)
        values = self.pairs(Q[..., np.arange(m), np.arange(m)][..., rows],
                            Q[..., np.arange(m), np.arange(m)][..., cols],
                            Q[..., rows, cols])
        out = np.empty(Q.shape, dtype=np.float64)
        out[..., rows, cols] = values
        out[..., cols, rows] = values
        return out

    def _mehler_matrix(self, Q, rows, cols):
        """F_phi(Q) by :meth:`_mehler_pairs` over the upper triangle, with one c_k(s) per input."""
        m = Q.shape[-1]
        batch = Q.reshape(-1, m, m)
        sigmas = np.sqrt(np.maximum(np.diagonal(batch, axis1=-2, axis2=-1), 0.0))    # (B, m)
        offset = (np.arange(batch.shape[0]) * m)[:, None]
        index_a, index_b = (offset + rows).ravel(), (offset + cols).ravel()
        sigmas = sigmas.ravel()
        flat_sa, flat_sb = sigmas[index_a], sigmas[index_b]
        flat_rho = _correlation(batch[:, rows, cols].ravel(), flat_sa, flat_sb)
        values = np.empty(flat_rho.size, dtype=np.float64)
        self._mehler_pairs(values, flat_sa, flat_sb, flat_rho, inputs=(sigmas, index_a, index_b))
        out = np.empty(batch.shape, dtype=np.float64)
        out[:, rows, cols] = values.reshape(batch.shape[0], -1)
        out[:, cols, rows] = values.reshape(batch.shape[0], -1)
        return out.reshape(Q.shape)

    def pairs(self, qaa, qbb, qab):
        """E[phi(Z_a) phi(Z_b)] elementwise for variances qaa, qbb and covariance qab (same shape)."""
        qaa, qbb, qab = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (qaa, qbb, qab)))
        if self.precision == "mpmath":
            flat = [self._pair_mpmath(*v) for v in zip(qaa.ravel(), qbb.ravel(), qab.ravel())]
            return np.array(flat, dtype=np.float64).reshape(qaa.shape)
        qaa, qbb = np.maximum(qaa, 0.0), np.maximum(qbb, 0.0)
        sa, sb = np.sqrt(qaa), np.sqrt(qbb)
        rho = _correlation(qab, sa, sb)
        if self._closed_form is not None:
            return self._closed_form(qaa, qbb, qab, rho)
        out = np.empty(qaa.shape, dtype=np.float64)
        flat_out, flat_sa, flat_sb, flat_rho = out.reshape(-1), sa.ravel(), sb.ravel(), rho.ravel()
        if self.rule == "mehler":
            self._mehler_pairs(flat_out, flat_sa, flat_sb, flat_rho)
        elif self.rule == "panels":
            flat_out[:] = panel_pairs(self._phi, self._layout, flat_sa, flat_sb, flat_rho)
        else:
            self._quadrature_pairs(self.rule, flat_out, flat_sa, flat_sb, flat_rho,
                                   np.ones(flat_out.size, dtype=bool))
        return out

    # ------------------------------------------------------------------ quadrature
    def _quadrature_pairs(self, rule, flat_out, flat_sa, flat_sb, flat_rho, selected):
        """Fill flat_out[selected] by the 1-D rule (diagonal) or the 2-D tensor rule (other pairs)."""
        x, w = _gaussian_rule(rule, self.degree)
        on_diagonal = selected & (flat_rho == 1.0) & (flat_sa == flat_sb)
        if on_diagonal.any():   # E[phi(sigma u)^2] by the 1-D rule
            values = self._phi(flat_sa[on_diagonal, None] * x)
            flat_out[on_diagonal] = (values * values) @ w
        index = np.flatnonzero(selected & ~on_diagonal)
        chunk = max(1, _CHUNK_EVALUATIONS // self.degree ** 2)
        for start in range(0, index.size, chunk):
            part = index[start:start + chunk]
            s_a, s_b, r = flat_sa[part], flat_sb[part], flat_rho[part]
            phi_a = self._phi(s_a[:, None] * x) * w                               # (P, d) over u
            inner = (r[:, None, None] * x[None, :, None]
                     + np.sqrt(1.0 - r * r)[:, None, None] * x[None, None, :])    # (P, d_u, d_v)
            phi_b = self._phi(s_b[:, None, None] * inner) @ w                     # (P, d_u)
            flat_out[part] = np.einsum("pi,pi->p", phi_a, phi_b)

    def _mehler_pairs(self, flat_out, flat_sa, flat_sb, flat_rho, inputs=None):
        """Fill flat_out by Mehler's expansion where it has converged, the trapezoid rules elsewhere.

        E[phi(sa u) phi(sb v)] = sum_k c_k(sa) c_k(sb) rho^k with c_k(s) = E[phi(s u) He_k(u)] / sqrt(k!)
        (Mehler's formula; O'Donnell 2014, Analysis of Boolean Functions, §11.2), summed by Horner's
        rule. Pairs are grouped in bands of |rho| (``MEHLER_BANDS``); each band stops at the smallest
        order K whose tail bound max_s T_K(s)^2 r^(K+1) / (1 - r), r the band's largest |rho| and
        T_K(s) = max_{K < k <= K_max} |c_k(s)| / ||c(s)||, K <= K_max - 8, is below ``MEHLER_TOLERANCE``;
        then each pair's
        own bound T_K(sa) T_K(sb) |rho|^(K+1) / (1 - |rho|) is checked. Pairs with |rho| > ``MEHLER_RHO_MAX``
        and pairs whose bound is not met at K_max go to the 2-D trapezoidal rule, except |rho| = 1
        (the diagonal, duplicate or opposite inputs), a 1-D expectation done with the coefficients' rule.
        ``inputs`` = (sigmas, index_a, index_b) with flat_sa = sigmas[index_a], flat_sb = sigmas[index_b]
        saves finding the distinct standard deviations.
        """
        if inputs is None:
            sigmas, inverse = np.unique(np.concatenate([flat_sa, flat_sb]), return_inverse=True)
            index_a, index_b = inverse[:flat_sa.size], inverse[flat_sa.size:]
        else:
            sigmas, index_a, index_b = inputs
        coefficients = _mehler_coefficients(self._phi, sigmas)                   # (s, K_max + 1)
        norms = np.sqrt(np.sum(coefficients ** 2, axis=1))
        tails = np.maximum.accumulate(np.abs(coefficients[:, ::-1]), axis=1)[:, ::-1]
        tails = np.concatenate([tails[:, 1:], np.zeros((sigmas.size, 1))], axis=1)  # max over k > K
        tails /= np.maximum(norms, np.finfo(float).tiny)[:, None]
        worst_tail = np.max(tails, axis=0)
        magnitude = np.abs(flat_rho)
        wide = np.maximum(flat_sa, flat_sb) ** 2 > MEHLER_VARIANCE_MAX
        band = np.searchsorted(MEHLER_BANDS, magnitude)          # band i: |rho| <= MEHLER_BANDS[i]
        band[wide] = len(MEHLER_BANDS)                           # no band: the panels
        series = np.zeros(flat_out.size, dtype=bool)
        for i in range(len(MEHLER_BANDS)):
            members = np.flatnonzero(band == i)
            if members.size == 0:
                continue
            r = magnitude[members]
            top = np.max(r)
            bound = worst_tail ** 2 * top ** np.arange(1, MEHLER_ORDER + 2) / (1 - top)
            # the envelope of the tail must span several coefficients (odd phi: every other c_k = 0)
            met = np.flatnonzero(bound[:MEHLER_ORDER - _TAIL_SPAN + 1] <= MEHLER_TOLERANCE)
            order = int(met[0]) if met.size else MEHLER_ORDER - _TAIL_SPAN
            estimate = tails[index_a[members], order] * tails[index_b[members], order] * r ** (order + 1) / (1 - r)
            converged = members[estimate <= MEHLER_TOLERANCE]
            series[converged] = True
            table = np.ascontiguousarray(coefficients[:, :order + 1].T)             # (K + 1, s)
            chunk = max(1, _CHUNK_EVALUATIONS // (order + 1))
            for start in range(0, converged.size, chunk):
                part = converged[start:start + chunk]
                ca, cb, rho = table[:, index_a[part]], table[:, index_b[part]], flat_rho[part]
                total = ca[order] * cb[order]
                for k in range(order - 1, -1, -1):
                    total *= rho
                    total += ca[k] * cb[k]
                flat_out[part] = total
        u, weights, _ = _RULES["mehler"]
        # Z_b = rho (sb/sa) Z_a: a 1-D expectation; |rho| within rounding of 1 (sqrt(q) sqrt(q) != q)
        # counts, the neglected term being O(1 - rho^2) by the symmetry of v.
        degenerate = np.flatnonzero((magnitude >= 1.0 - _ROUNDING) & ~wide)
        chunk = max(1, _CHUNK_EVALUATIONS // u.size)
        for start in range(0, degenerate.size, chunk):
            part = degenerate[start:start + chunk]
            values_a = self._phi(flat_sa[part, None] * u)
            values_b = self._phi((flat_rho[part] * flat_sb[part])[:, None] * u)
            flat_out[part] = (values_a * values_b) @ weights
        if wide.any():
            flat_out[wide] = panel_pairs(self._phi, self._layout, flat_sa[wide], flat_sb[wide], flat_rho[wide])
        rest = ~series & (magnitude < 1.0 - _ROUNDING) & ~wide
        if rest.any():
            self._quadrature_pairs("trapezoid", flat_out, flat_sa, flat_sb, flat_rho, rest)

    def _pair_mpmath(self, qaa, qbb, qab):
        qaa, qbb = mpmath.mpf(max(qaa, 0.0)), mpmath.mpf(max(qbb, 0.0))
        sa, sb = mpmath.sqrt(qaa), mpmath.sqrt(qbb)
        rho = mpmath.mpf(0)
        if sa * sb > 0:
            rho = max(min(mpmath.mpf(qab) / (sa * sb), mpmath.mpf(1)), mpmath.mpf(-1))
        if self._closed_form_mp is not None:
            return self._closed_form_mp(qaa, qbb, mpmath.mpf(qab), rho)
        phi = self._phi_mp
        kinks = [] if self._layout is None else [mpmath.mpf(float(k)) for k in self._layout.kinks]
        density = lambda z: mpmath.exp(-z * z / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731

        def split(points):     # the real line split at the finite points (kinks seen in u or v)
            return [-mpmath.inf] + sorted(set(points) | {mpmath.mpf(0)}) + [mpmath.inf]
        if sa == 0 or sb == 0:
            sigma = sa if sb == 0 else sb
            if sigma == 0:
                return phi(mpmath.mpf(0)) ** 2
            return phi(mpmath.mpf(0)) * mpmath.quad(lambda u: phi(sigma * u) * density(u),
                                                     split([k / sigma for k in kinks]))
        if qaa == qbb == qab:   # a diagonal entry: E[phi(sigma u)^2]
            return mpmath.quad(lambda u: phi(sa * u) ** 2 * density(u), split([k / sa for k in kinks]))
        c = mpmath.sqrt(1 - rho ** 2)
        if c == 0:
            return mpmath.quad(lambda u: phi(sa * u) * phi(sb * rho * u) * density(u),
                               split([k / sa for k in kinks] + [k / (sb * rho) for k in kinks]))

        if not kinks:        # smooth phi: one 2-D tanh-sinh rule (an inner quadrature per node is far slower)
            return mpmath.quad(lambda u, v: phi(sa * u) * phi(sb * (rho * u + c * v)) * density(u) * density(v),
                               [-mpmath.inf, mpmath.inf], [-mpmath.inf, mpmath.inf])

        def inner(u):
            return mpmath.quad(lambda v: phi(sb * (rho * u + c * v)) * density(v),
                               split([(k / sb - rho * u) / c for k in kinks]))
        return mpmath.quad(lambda u: phi(sa * u) * inner(u) * density(u), split([k / sa for k in kinks]))


def gaussian_kernel_map(phi, *, degree=None, precision="double", rule=None,
                        closed_form=True) -> GaussianKernelMap:
    """Build Q -> F_phi(Q) = E[phi(Z) phi(Z)^T], Z ~ N(0, Q), for the plain activation ``phi``.

    Parameters
    ----------
    phi : str, sympy.Expr, Activation or PlainActivation
        Anything :func:`covsde.derive.plain_activation.as_plain_activation` accepts: phi as written,
        with no shaping requirement (cos, x**2, exp(-x**2), abs, Heaviside, Piecewise, elu, ...);
        ``Activation.raw`` for an Activation, ``max(x, 0)`` for the ReLU family (SPEC §2). phi must
        have finite Gaussian second moments (exp(x**2) is refused).
    degree : int, optional
        Nodes per dimension of the "hermite" and "trapezoid" rules (default 64).
    precision : {"double", "mpmath"}
        ``"mpmath"`` evaluates every entry with mpmath (closed forms, or ``mpmath.quad`` split at
        phi's kinks): a slow high-precision reference for small m.
    rule : {"hermite", "trapezoid", "mehler", "panels"}, optional
        Quadrature rule for activations without a closed form (see the module docstring); default:
        Gauss–Hermite for polynomials and exponentially growing phi, the panels for phi with kinks or
        jumps, Mehler's expansion otherwise (panels above variance ``MEHLER_VARIANCE_MAX``).
    closed_form : bool
        False: quadrature even where a closed form exists (to check one against the other).
    """
    if precision not in ("double", "mpmath"):
        raise InputError(f"precision must be 'double' or 'mpmath', got {precision!r}")
    if rule is not None and rule not in RULES:
        raise InputError(f"rule must be one of {', '.join(repr(r) for r in RULES)}, got {rule!r}")
    if degree is None:
        degree = DEFAULT_DEGREE
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 2:
        raise InputError(f"degree must be an integer >= 2, got {degree!r}")
    degree = count(degree, "degree", 2)
    _check_rule_resources(degree, rule)
    plain = as_plain_activation(phi)
    layout = panel_layout(plain.kinks, plain.feature_scale, plain.feature_radius, plain.exponential_type,
                          plain.name)
    closed = gaussian_kernel_closed_form(plain) if closed_form else None
    if closed is not None:
        return GaussianKernelMap(plain.name, closed.name, int(degree), precision,
                                 _closed_form=closed.function("numpy"),
                                 _closed_form_mp=closed.function("mpmath"), _layout=layout)
    if rule is None:
        if plain.is_polynomial or plain.grows_exponentially:
            rule = "hermite"
        elif plain.kinks:
            rule = "panels"
        else:
            rule = "mehler"
    return GaussianKernelMap(plain.name, "quadrature", int(degree), precision, rule,
                             _phi=plain.function("numpy"), _phi_mp=plain.function("mpmath"), _layout=layout)


def kernel_map(phi, Q, *, degree=None, precision="double", rule=None, closed_form=True):
    """F_phi(Q)^{ab} = E[phi(Z_a) phi(Z_b)], Z ~ N(0, Q) (SPEC §2; Hayou & Yang 2023).

    Parameters
    ----------
    phi : str, sympy.Expr, Activation or PlainActivation
        The plain activation, any phi with finite Gaussian second moments (see
        :func:`gaussian_kernel_map`).
    Q : array_like, (..., m, m)
        Symmetric positive semi-definite covariance matrices.
    degree : int, optional
        Quadrature nodes per dimension (default 64) when there is no closed form.
    precision : {"double", "mpmath"}
    rule : {"hermite", "trapezoid", "mehler", "panels"}, optional
        See :func:`gaussian_kernel_map`.
    closed_form : bool
        False: quadrature even where a closed form exists.

    Returns
    -------
    F : ndarray, (..., m, m)
        Symmetric.
    """
    Q = validate_covariance(Q, "Q")
    F = gaussian_kernel_map(phi, degree=degree, precision=precision, rule=rule, closed_form=closed_form)
    m = Q.shape[-1]
    F.check_work(Q.size // (m * m) * m * (m + 1) // 2)
    with np.errstate(over="ignore", invalid="ignore"):
        return _finite_or_refuse(F(Q), F.name)


def _check_rule_resources(degree: int, rule) -> None:
    """Refuse a quadrature degree whose rule or 2-D evaluation passes the resource limits: the 2-D
    rule holds (pairs, degree, degree) arrays (three at once, at least one pair), and Gauss–Hermite
    nodes come from the eigenvalues of a degree × degree matrix (O(degree³) work)."""
    parts = [(3 * degree ** 2 * DOUBLE, f"the 2-D rule's nodes for one kernel entry at degree {degree}")]
    if rule in (None, "hermite"):
        parts.append((2 * degree ** 2 * DOUBLE, f"the Gauss–Hermite companion matrix of degree {degree}"))
    check_memory("gaussian_kernel_map", parts, "use a smaller degree (64 to 256 is plenty for analytic activations)")
    if rule in (None, "hermite"):
        check_path_steps("gaussian_kernel_map", float(degree) ** 3,
                         f"the Gauss–Hermite nodes of degree {degree}",
                         "use a smaller degree (64 to 256 is plenty for analytic activations)")


def _finite_or_refuse(F, name):
    """F when no entry is NaN (an entry that overflows to ±inf is the value rounded to double
    precision and stays); else InputError: the quadrature met inf − inf (the activation grows too
    fast for these variances), so the entry has no value to report."""
    if np.any(np.isnan(F)):
        raise InputError(f"E[phi(Z_a) phi(Z_b)] for {name} overflows double precision at these variances "
                         "(the quadrature met inf - inf); use smaller variances")
    return F


def validate_covariance(Q, name="Q0"):
    """Return Q as float64 (..., m, m) after checking it is finite, symmetric and PSD (InputError)."""
    return symmetric_psd(Q, name, stacked=True)


def _correlation(qab, sa, sb):
    """qab / (sa sb) clipped to [-1, 1], and 0 where a variance vanishes; within ``_ROUNDING`` of
    +-1 it is +-1 (a diagonal entry or duplicate inputs: sqrt(q) sqrt(q) != q in double precision,
    and a kernel with a jump, E[H(Z_a) H(Z_b)] = (pi - arccos rho)/(2 pi), would move by sqrt(2e-16))."""
    denom = sa * sb
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(denom > 0, qab / np.where(denom > 0, denom, 1.0), 0.0)
    rho = np.clip(rho, -1.0, 1.0)
    return np.where(np.abs(rho) >= 1.0 - _ROUNDING, np.sign(rho), rho)


_RULES: dict = {}


def _mehler_coefficients(phi, sigmas):
    """c_k(s) = E[phi(s u) He_k(u)] / sqrt(k!), u ~ N(0, 1), k = 0..MEHLER_ORDER, for each s in sigmas.

    The normalised Hermite polynomials h_k = He_k / sqrt(k!) follow the three-term recurrence
    h_(k+1) = (u h_k - sqrt(k) h_(k-1)) / sqrt(k + 1); the expectation is the trapezoidal rule on
    [-MEHLER_HALF_WIDTH, MEHLER_HALF_WIDTH] with MEHLER_NODES nodes. Returns (len(sigmas), MEHLER_ORDER + 1).
    """
    if "mehler" not in _RULES:
        u = np.linspace(-MEHLER_HALF_WIDTH, MEHLER_HALF_WIDTH, MEHLER_NODES)
        weights = np.exp(-u * u / 2)
        weights /= weights.sum()
        hermite = np.empty((MEHLER_ORDER + 1, u.size))
        hermite[0], hermite[1] = 1.0, u
        for k in range(1, MEHLER_ORDER):
            hermite[k + 1] = (u * hermite[k] - np.sqrt(k) * hermite[k - 1]) / np.sqrt(k + 1)
        _RULES["mehler"] = (u, weights, hermite * weights)
    u, _, weighted_hermite = _RULES["mehler"]
    return phi(sigmas[:, None] * u) @ weighted_hermite.T


def _gaussian_rule(rule, degree):
    """Nodes x and weights w (summing to 1) with sum_i w_i f(x_i) ~ E[f(u)], u ~ N(0, 1)."""
    if (rule, degree) not in _RULES:
        if rule == "hermite":
            x, w = np.polynomial.hermite_e.hermegauss(degree)
        else:
            x = np.linspace(-TRAPEZOID_HALF_WIDTH, TRAPEZOID_HALF_WIDTH, degree)
            w = np.exp(-x * x / 2)
        _RULES[rule, degree] = (x, w / w.sum())
    return _RULES[rule, degree]
