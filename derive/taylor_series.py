"""Exact truncated Taylor series at 0 by power-series arithmetic (Taylor-mode differentiation).

``taylor_coefficients(expr, degree)`` returns a_0..a_degree of expr(x) = sum_k a_k x^k without calling
``sympy.series``: the expression tree is evaluated bottom-up on truncated power series, each
elementary function by the recurrence of the first-order ODE it solves (Knuth, TAOCP vol. 2, §4.7;
Griewank & Walther, *Evaluating Derivatives*, ch. 13).  With d the degree, every node costs O(d²)
coefficient operations, so the work is bounded by (number of nodes) × d² whatever the nesting:
``tanh`` nested 20 deep takes milliseconds where ``sympy.series`` takes minutes.

Recurrences (y = f(a), a = sum a_k x^k, y_n the coefficients, n >= 1):

- exp:        y_n = (1/n) sum_{k=1..n} k a_k y_{n-k}
- log:        y_n = (a_n - (1/n) sum_{k=1..n-1} k y_k a_{n-k}) / a_0
- a^p:        y_n = (1/(n a_0)) sum_{k=1..n} ((p + 1) k - n) a_k y_{n-k}          (a_0 != 0)
- sin, cos:   s_n = (1/n) sum k a_k c_{n-k},  c_n = -(1/n) sum k a_k s_{n-k}
- sinh, cosh: the same with + in both
- atan, asin, asinh, atanh, erf: y = y(a_0) + integral of y'(a) a' with y'(a) a series

Expressions outside these rules (or with a singular point at 0) raise :class:`SeriesUnavailable`;
the caller then falls back to ``sympy.series`` under a time budget.
"""
from __future__ import annotations

import sympy as sp


class SeriesUnavailable(Exception):
    """The power-series rules do not cover this expression (the caller falls back to SymPy)."""


class NotAnalyticAtZero(Exception):
    """The expression is singular, or not real-analytic, at 0 (message says why)."""


def _is_zero(c) -> bool:
    return c == 0 or (not c.free_symbols and c.is_zero is True)


class _Series:
    """Coefficients a_0..a_d of a truncated power series (SymPy exact numbers or expressions)."""

    __slots__ = ("a",)

    def __init__(self, coefficients):
        self.a = list(coefficients)

    @property
    def degree(self):
        return len(self.a) - 1

    @classmethod
    def constant(cls, c, d):
        return cls([c] + [sp.Integer(0)] * d)

    def __add__(self, other):
        return _Series([p + q for p, q in zip(self.a, other.a)])

    def __mul__(self, other):
        d = self.degree
        nz_p = [(i, p) for i, p in enumerate(self.a) if not _is_zero(p)]
        nz_q = [(j, q) for j, q in enumerate(other.a) if not _is_zero(q)]
        out = [sp.Integer(0)] * (d + 1)
        for i, p in nz_p:
            for j, q in nz_q:
                if i + j > d:
                    break
                out[i + j] += p * q
        return _Series([sp.expand(c) if c.free_symbols else c for c in out])

    def derivative_coefficients(self):
        """b_k = (k+1) a_{k+1}, k = 0..d-1 (the series of a')."""
        return [(k + 1) * self.a[k + 1] for k in range(self.degree)]


def _tail(a0_function, derivative_series, a: _Series) -> _Series:
    """y with y_0 = a0_function(a_0) and y' = derivative_series * a' (integrated term by term)."""
    d = a.degree
    da = _Series(a.derivative_coefficients() + [sp.Integer(0)])
    prod = derivative_series * da
    y = [a0_function(a.a[0])] + [prod.a[n - 1] / n for n in range(1, d + 1)]
    return _Series(y)


def _exp(a: _Series) -> _Series:
    d = a.degree
    y = [sp.exp(a.a[0])] + [sp.Integer(0)] * d
    for n in range(1, d + 1):
        y[n] = sp.expand(sum((k * a.a[k] * y[n - k] for k in range(1, n + 1) if not _is_zero(a.a[k])),
                             sp.Integer(0)) / n)
    return _Series(y)


def _log(a: _Series) -> _Series:
    a0 = a.a[0]
    if _is_zero(a0):
        raise NotAnalyticAtZero("log of an expression that vanishes at 0")
    d = a.degree
    y = [sp.log(a0)] + [sp.Integer(0)] * d
    for n in range(1, d + 1):
        s = sum((k * y[k] * a.a[n - k] for k in range(1, n) if not _is_zero(a.a[n - k])), sp.Integer(0))
        y[n] = sp.expand((a.a[n] - s / n) / a0)
    return _Series(y)


def _power(a: _Series, p) -> _Series:
    d = a.degree
    if p.is_Integer and p >= 0:
        out, base, e = _Series.constant(sp.Integer(1), d), a, int(p)
        while e:
            if e & 1:
                out = out * base
            e >>= 1
            if e:
                base = base * base
        return out
    a0 = a.a[0]
    if _is_zero(a0):
        raise NotAnalyticAtZero(f"power {p} of an expression that vanishes at 0")
    y = [a0 ** p] + [sp.Integer(0)] * d
    for n in range(1, d + 1):
        s = sum((((p + 1) * k - n) * a.a[k] * y[n - k] for k in range(1, n + 1) if not _is_zero(a.a[k])),
                sp.Integer(0))
        y[n] = sp.expand(s / (n * a0))
    return _Series(y)


def _sin_cos(a: _Series, hyperbolic: bool):
    d = a.degree
    a0 = a.a[0]
    s = [sp.sinh(a0) if hyperbolic else sp.sin(a0)] + [sp.Integer(0)] * d
    c = [sp.cosh(a0) if hyperbolic else sp.cos(a0)] + [sp.Integer(0)] * d
    sign = 1 if hyperbolic else -1
    for n in range(1, d + 1):
        ks = [(k, k * a.a[k]) for k in range(1, n + 1) if not _is_zero(a.a[k])]
        s[n] = sp.expand(sum((w * c[n - k] for k, w in ks), sp.Integer(0)) / n)
        c[n] = sp.expand(sign * sum((w * s[n - k] for k, w in ks), sp.Integer(0)) / n)
    return _Series(s), _Series(c)


def _divide(a: _Series, b: _Series) -> _Series:
    b0 = b.a[0]
    if _is_zero(b0):
        raise SeriesUnavailable("division by a series that vanishes at 0")
    d = a.degree
    y = [sp.Integer(0)] * (d + 1)
    for n in range(d + 1):
        s = sum((b.a[k] * y[n - k] for k in range(1, n + 1) if not _is_zero(b.a[k])), sp.Integer(0))
        y[n] = sp.expand((a.a[n] - s) / b0)
    return _Series(y)


def _one_plus_square(a: _Series, sign: int) -> _Series:
    """1 + sign * a²."""
    sq = a * a
    return _Series([(1 if k == 0 else 0) + sign * c for k, c in enumerate(sq.a)])


def _function(func, a: _Series) -> _Series:
    half = sp.Rational(1, 2)
    if func is sp.exp:
        return _exp(a)
    if func is sp.log:
        return _log(a)
    if func in (sp.sin, sp.cos):
        s, c = _sin_cos(a, hyperbolic=False)
        return s if func is sp.sin else c
    if func in (sp.sinh, sp.cosh):
        s, c = _sin_cos(a, hyperbolic=True)
        return s if func is sp.sinh else c
    if func in (sp.tan, sp.tanh):
        s, c = _sin_cos(a, hyperbolic=func is sp.tanh)
        return _divide(s, c)
    if func is sp.atan:
        return _tail(sp.atan, _power(_one_plus_square(a, 1), sp.Integer(-1)), a)
    if func is sp.atanh:
        if abs(a.a[0]) == 1:
            raise NotAnalyticAtZero("atanh at ±1")
        return _tail(sp.atanh, _power(_one_plus_square(a, -1), sp.Integer(-1)), a)
    if func is sp.asinh:
        return _tail(sp.asinh, _power(_one_plus_square(a, 1), -half), a)
    if func in (sp.asin, sp.acos):
        if abs(a.a[0]) == 1:
            raise NotAnalyticAtZero(f"{func.__name__} at ±1")
        sign = 1 if func is sp.asin else -1
        return _tail(func, _Series([sign * c for c in _power(_one_plus_square(a, -1), -half).a]), a)
    if func in (sp.erf, sp.erfc):
        neg_square = _Series([-c for c in (a * a).a])
        sign = 1 if func is sp.erf else -1
        g = _Series([sign * 2 / sp.sqrt(sp.pi) * c for c in _exp(neg_square).a])
        return _tail(func, g, a)
    raise SeriesUnavailable(f"no power-series rule for {func}")


def _series(expr, x, d, memo):
    if expr in memo:
        return memo[expr]
    if not expr.has(x):
        out = _Series.constant(expr, d)
    elif expr == x:
        out = _Series([sp.Integer(0), sp.Integer(1)] + [sp.Integer(0)] * (d - 1)) if d >= 1 \
            else _Series([sp.Integer(0)])
    elif expr.is_Add:
        parts = [_series(t, x, d, memo) for t in expr.args]
        out = parts[0]
        for p in parts[1:]:
            out = out + p
    elif expr.is_Mul:
        const = sp.Mul(*[t for t in expr.args if not t.has(x)])
        parts = [_series(t, x, d, memo) for t in expr.args if t.has(x)]
        out = parts[0]
        for p in parts[1:]:
            out = out * p
        if const != 1:
            out = _Series([const * c for c in out.a])
    elif expr.is_Pow:
        base, p = expr.args
        if p.has(x):  # b^g = exp(g log b)
            out = _exp(_series(p, x, d, memo) * _log(_series(base, x, d, memo)))
        elif p.is_Integer and p < 0:
            out = _divide(_Series.constant(sp.Integer(1), d), _power(_series(base, x, d, memo), -p))
        else:
            out = _power(_series(base, x, d, memo), p)
    elif isinstance(expr, sp.Function) and len(expr.args) == 1:
        out = _function(expr.func, _series(expr.args[0], x, d, memo))
    else:
        raise SeriesUnavailable(f"no power-series rule for {type(expr).__name__}")
    memo[expr] = out
    return out


def taylor_coefficients(expr: sp.Expr, x: sp.Symbol, degree: int) -> list:
    """a_0..a_degree of the Taylor series of ``expr`` at x = 0, exact.

    Raises
    ------
    SeriesUnavailable
        The expression uses a function without a rule here (use ``sympy.series``).
    NotAnalyticAtZero
        log, a negative or fractional power of something vanishing at 0, or an inverse
        trigonometric function at a branch point.
    """
    if degree < 0:
        raise ValueError("degree must be >= 0")
    s = _series(sp.sympify(expr), x, int(degree), {})
    return [sp.nsimplify(c) if c.is_Float else c for c in s.a]
