"""The amplifier function φ of a marginal law and its cubic (kurtosis) approximation.

    φ(a) = E_x[ x · erf( x · a / √(2(1 − a²)) ) ],   a ∈ [−1, 1],   φ(±1) = ±E|x|

(SPEC §3): if s = w·x, normalized to unit variance, is Gaussian given x_i with mean a_i x_i and variance
1 − a_i², then 2·E[1{s>0} x_i] = E[x_i (1 + erf(a_i x_i / √(2(1 − a_i²))))] = φ(a_i), since E x_i = 0.

Every law is handled as a weighted point set {(x_j, π_j)}: φ(a) = Σ_j π_j x_j erf(x_j c(a)), with
c(a) = a / √(2(1 − a²)). The point set is

* binary (±1, Ising): no quadrature — φ(a) = erf(c(a)) in closed form;
* a pointwise transform x = h(z) of z ~ N(0, 1) (Gaussian, NLGP(g), Kur(k)): a composite Gauss–Legendre
  rule in z, weighted by the normal density (float64 nodes, built once per law). Plain Gauss–Hermite is not
  used because it cannot resolve the two sharp features that matter here: NLGP(g = 100) is a step of width
  1/g at z = 0, and as |a| → 1 the factor erf(x c) becomes a step of width 1/c at x = 0. The rule therefore
  grades its panels geometrically towards z = 0 (from 1e−9 up to 1, so both features are resolved for
  g ≤ 1e8 and 1 − |a| ≥ 1e−16) and uses unit panels out to |z| = 16, where the Kur(k) heavy tail
  (h(z) ≈ e^{z²/(2k)}) times the normal density is below 1e−14 for every k ≥ 2.5. Accuracy is checked
  against adaptive scipy quadrature in the tests (≤ 1e−10 in float64);
* samples (Monte Carlo): equal weights on the samples, see :func:`amplifier_from_samples`.

Precision: the JAX path computes in the dtype of ``a`` (float32 unless x64 is enabled — ≈1e−7 relative,
plenty for the ODE); pass ``xp=numpy`` to get float64 through numpy/scipy (used by the 1e−6 tests and
for tables). Both are vectorized over any shape of ``a``; the JAX path is jit-able and vmap-able.

:func:`select_amplifier` picks φ by name ("exact", "cubic", "gaussian") or takes a callable, in the form the
effective dynamics compile once per kind of law (:mod:`rfloc.theory.data_term`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np
import scipy.special

from rfloc.data.marginals import Marginal

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)

# Composite Gauss–Legendre rule on z ≥ 0 (mirrored to z < 0): geometric panels [r, 2r] from R_MIN to 1,
# then unit panels to Z_MAX. Convergence (rule order vs scipy.integrate.quad) is checked in the tests.
R_MIN = 1e-9
Z_MAX = 16.0
NODES_PER_PANEL = 8


@lru_cache(maxsize=4)
def _half_line_rule(r_min: float = R_MIN, z_max: float = Z_MAX, order: int = NODES_PER_PANEL):
    """Nodes z_j > 0 and weights ω_j (float64) with Σ ω_j f(z_j) ≈ ∫_0^∞ f(z) N(z) dz for smooth f·N."""
    n_geo = math.ceil(math.log2(1.0 / r_min))
    edges = np.concatenate([[0.0], 2.0 ** np.arange(-n_geo, 0), np.arange(1.0, z_max + 0.5)])
    t, v = np.polynomial.legendre.leggauss(order)
    lo, hi = edges[:-1, None], edges[1:, None]
    z = (0.5 * (hi - lo) * t + 0.5 * (hi + lo)).ravel()
    w = (0.5 * (hi - lo) * v).ravel()
    w = w * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return z, w


def quadrature_law(marginal: Marginal) -> tuple[np.ndarray, np.ndarray]:
    """Weighted points (x_j, π_j), float64 (M,), representing the law of x = h(z) for a transform marginal.

    E f(x) ≈ Σ_j π_j f(x_j). Uses the odd symmetry of h when present (all rfloc laws) to halve the rule.
    """
    if marginal.transform is None:
        raise ValueError(
            f"marginal {marginal.name!r} has no closed-form transform: use amplifier_from_samples(x, a)"
        )
    z, w = _half_line_rule()
    h = marginal.transform
    hp = np.asarray(h(z, xp=np), dtype=np.float64)
    hm = np.asarray(h(-z, xp=np), dtype=np.float64)
    if np.allclose(hm, -hp, rtol=1e-12, atol=1e-300):
        # Odd h: x erf(x c) is even in z, so the two half-lines contribute equally (φ odd in a).
        return hp, 2.0 * w
    return np.concatenate([hm, hp]), np.concatenate([w, w])


def _erf(xp):
    return scipy.special.erf if xp is np else jax.scipy.special.erf


def _split(a, xp):
    """(inside, c, sign): inside = |a| < 1, c = a/√(2(1 − a²)) with a safe value outside, sign(a)."""
    inside = xp.abs(a) < 1
    a_in = xp.where(inside, a, xp.zeros_like(a))
    c = a_in / xp.sqrt(2.0 * (1.0 - a_in * a_in))
    return inside, c, xp.sign(a)


def _as_array(a, xp):
    if xp is np:
        return np.asarray(a, dtype=np.float64)
    a = jnp.asarray(a)
    return a if jnp.issubdtype(a.dtype, jnp.floating) else a.astype(jnp.result_type(float))


def check_a(a) -> None:
    """ValueError unless every entry of a concrete ``a`` lies in [−1, 1] (tracers are not checked)."""
    if isinstance(a, jax.core.Tracer):
        return
    arr = np.asarray(a, dtype=np.float64)
    if arr.size and not (np.all(np.isfinite(arr)) and np.all(np.abs(arr) <= 1.0)):
        bad = arr[~(np.abs(arr) <= 1.0)].ravel()[0]
        raise ValueError(f"a must be finite and in [-1, 1], got {bad}")


def _weighted_phi(points, weights, a, xp):
    """(Σ_j π_j x_j erf(x_j c(a)) per entry of a, inside = |a| < 1, sign(a)); endpoints are the caller's."""
    erf = _erf(xp)
    inside, c, sign = _split(a, xp)
    points = xp.asarray(points, dtype=a.dtype)
    weights = xp.asarray(weights, dtype=a.dtype)
    flat = c.reshape(-1)
    vals = (erf(flat[:, None] * points[None, :]) * (weights * points)[None, :]).sum(axis=1)
    return vals.reshape(a.shape), inside, sign


def binary_phi(a, xp=jnp):
    """φ of the ±1 law: erf(a/√(2(1 − a²))), ±1 at a = ±1."""
    a = _as_array(a, xp)
    inside, c, sign = _split(a, xp)
    return xp.where(inside, _erf(xp)(c), sign * 1.0)


def points_phi(a, points, weights, end, xp=jnp):
    """φ of the weighted point law {(x_j, π_j)}: Σ_j π_j x_j erf(x_j c(a)), ±end at a = ±1 (jit-able)."""
    a = _as_array(a, xp)
    vals, inside, sign = _weighted_phi(points, weights, a, xp)
    return xp.where(inside, vals, sign * xp.asarray(end, dtype=a.dtype))


def make_amplifier(marginal: Marginal, *, xp=jnp) -> Callable:
    """φ of ``marginal`` as a function a ↦ φ(a) (any shape), jit-able for xp=jax.numpy.

    Binary law: erf(a/√(2(1 − a²))) exactly. Transform laws: quadrature (module docstring). Others raise
    ValueError (use :func:`amplifier_from_samples`).
    """
    if marginal.binary:
        return partial(binary_phi, xp=xp)
    points, weights = quadrature_law(marginal)
    return partial(points_phi, points=points, weights=weights, end=float(marginal.mean_abs), xp=xp)


def amplifier(marginal: Marginal, a, *, xp=jnp):
    """φ(a) = E_x[x·erf(x a/√(2(1 − a²)))] for a ∈ [−1, 1] (any shape); φ(±1) = ±E|x| exactly.

    ``marginal``: ``model.marginal`` (binary or pointwise-transform law). ``xp``: jax.numpy (dtype of a,
    jit-able) or numpy (float64). Raises ValueError for concrete a outside [−1, 1].
    """
    check_a(a)
    return make_amplifier(marginal, xp=xp)(a)


def gaussian_amplifier(a):
    """φ of the standard normal law: √(2/π)·a exactly (E[x erf(xc)] = 2c/√(π(1 + 2c²)) = √(2/π) a)."""
    return SQRT_2_OVER_PI * a


def cubic_amplifier(kappa: float, a):
    """Cubic (kurtosis) approximation φ(a) ≈ √(2/π)·(a + (3 − κ)·a³/6), κ = E[x⁴] (unit variance).

    Derivation: with c = a/√(2(1 − a²)) = (a/√2)(1 + a²/2 + O(a⁴)) and erf(u) = (2/√π)(u − u³/3 + O(u⁵)),
      E[x erf(x c)] = (2/√π)(c E[x²] − c³ E[x⁴]/3 + O(c⁵)) = (2/√π)(a/√2 + a³/(2√2) − κ a³/(6√2)) + O(a⁵)
                    = √(2/π)(a + (3 − κ) a³/6) + O(a⁵).
    κ < 3 (negative excess kurtosis) makes φ super-linear, κ > 3 sub-linear. Raises ValueError for
    κ = inf (e.g. Kur(k ≤ 4)) or nan.
    """
    if not (isinstance(kappa, int | float | np.floating | np.integer) and math.isfinite(kappa)):
        raise ValueError(
            f"kappa must be a finite fourth moment E[x^4] for the cubic amplifier, got {kappa!r} "
            "(Kur(k) with k <= 4 has infinite kurtosis: use the exact amplifier)"
        )
    return SQRT_2_OVER_PI * (a + (3.0 - float(kappa)) * a**3 / 6.0)


def amplifier_from_samples(x, a, *, stderr: bool = False, chunk: int = 64):
    """Monte Carlo φ(a) = mean_j x_j erf(x_j c(a)) over samples ``x`` (any shape, flattened) of the marginal.

    Vectorized over any shape of ``a`` (float32 unless x64); memory O(chunk · x.size). With stderr=True
    also returns the standard error sd_j(x_j erf(x_j c))/√M of each value (for i.i.d. samples), and the
    endpoint uses the sample mean of |x| (φ(±1) = ±mean|x|).
    """
    check_a(a)
    x = jnp.ravel(jnp.asarray(x))
    x = x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))
    if x.size < 2:
        raise ValueError(f"x must hold at least 2 samples, got {x.size}")
    a = jnp.asarray(a, dtype=x.dtype)
    return _mc_phi(x, a, stderr, chunk)


def _mc_phi(x, a, stderr, chunk):
    inside, c, sign = _split(a, jnp)
    m = x.shape[0]

    def one(ci):
        v = x * jax.scipy.special.erf(x * ci)
        mean = v.mean()
        return mean, jnp.sqrt(jnp.maximum((v * v).mean() - mean * mean, 0.0) * m / (m - 1) / m)

    flat = c.reshape(-1)
    mean, se = jax.lax.map(one, flat, batch_size=min(chunk, max(flat.size, 1)))
    abs_x = jnp.abs(x)
    end_mean, end_se = abs_x.mean(), abs_x.std(ddof=1) / math.sqrt(m)
    mean = jnp.where(inside, mean.reshape(a.shape), sign * end_mean)
    if not stderr:
        return mean
    return mean, jnp.where(inside, se.reshape(a.shape), end_se)


# -- φ selection for the effective dynamics ----------------------------------------------------------------
# The dynamics take φ as (static phi_fn(a, phi_params), traced phi_params), so every model of a kind (all
# transform laws share one quadrature size) reuses one compiled program; a user callable is its own phi_fn.
PHI_NAMES = ("exact", "cubic", "gaussian")


def _phi_points(a, phi_params):
    return points_phi(a, *phi_params)


def _phi_binary(a, phi_params):
    return binary_phi(a)


def _phi_cubic(a, phi_params):
    return SQRT_2_OVER_PI * (a + (3.0 - phi_params) * a**3 / 6.0)


def _phi_gaussian(a, phi_params):
    return gaussian_amplifier(a)


@lru_cache(maxsize=32)
def _phi_user(fn: Callable) -> Callable:
    return lambda a, phi_params: fn(a)


@lru_cache(maxsize=64)
def _quadrature_params(marginal: Marginal):
    points, weights = quadrature_law(marginal)
    return (
        np.asarray(points, np.float32),
        np.asarray(weights, np.float32),
        float(marginal.mean_abs),
    )


def select_amplifier(marginal: Marginal, phi) -> tuple[Callable, object, str]:
    """(phi_fn(a, phi_params), phi_params, name) for phi = "exact" | "cubic" | "gaussian" | a callable φ.

    "exact": closed form (binary law) or quadrature of ``marginal``; "cubic": the kurtosis law (ValueError for
    infinite κ); "gaussian": √(2/π)a. phi_fn is a module-level (hashable) function; phi_params a pytree.
    """
    if callable(phi):
        return _phi_user(phi), None, getattr(phi, "__name__", "custom")
    if phi == "exact":
        if marginal.binary:
            return _phi_binary, None, "exact"
        return _phi_points, _quadrature_params(marginal), "exact"
    if phi == "cubic":
        kappa = marginal.kurtosis
        cubic_amplifier(kappa, 0.0)  # validates κ (finite) before any compute
        return _phi_cubic, np.float32(kappa), "cubic"
    if phi == "gaussian":
        return _phi_gaussian, None, "gaussian"
    raise ValueError(f"phi must be one of {PHI_NAMES} or a callable a -> phi(a), got {phi!r}")
