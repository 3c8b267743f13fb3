"""Marginal laws of the data models: pointwise transforms of a standard normal and their moments.

NLGP(g):  x = erf(g z) / Z(g),  Z(g)² = (2/π) arcsin(2g² / (1 + 2g²))  (unit variance).
Kur(k):   x = Q_k(Φ(z)) / s_k,  Q_k(p) = (2p − 1) / (1 − |2p − 1|^k)^{1/k}.
For the Kur law, with r = |2p − 1| and v = r^k, E u^{2m} = ∫_0^1 r^{2m} (1 − r^k)^{−2m/k} dr
= B((2m + 1)/k, 1 − 2m/k) / k, finite iff k > 2m:
  s_k² = B(3/k, 1 − 2/k)/k,  κ = k·B(5/k, 1 − 4/k)/B(3/k, 1 − 2/k)².
NLGP E|x| = (2/π) arctan(√2 g) / Z(g) (from d/da ∫_0^∞ erf(a z) φ(z) dz = √2 / (π (1 + 2a²))).
Every function of a parameter takes an array namespace ``xp``: numpy/math for the float64 host values,
jax.numpy for traced parameters (a vmapped sweep), float32 there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.integrate
import scipy.special


@dataclass(frozen=True)
class Marginal:
    """The law of one input coordinate x_i (mean 0, variance 1 for every rfloc model).

    kurtosis: E[x⁴] (inf when the fourth moment diverges, nan when unknown in closed form).
    transform: z ↦ x with z ~ N(0, 1) when the law is a pointwise Gaussian transform, else None.
    binary: True for the ±1 law (Ising), whose amplifier has a closed form.
    """

    name: str
    kurtosis: float
    mean_abs: float
    transform: Callable | None = None
    binary: bool = False
    variance: float = 1.0

    @property
    def excess_kurtosis(self) -> float:
        return self.kurtosis - 3.0


def _special(xp):
    if xp is np:
        return scipy.special
    import jax.scipy.special

    return jax.scipy.special


def _host(*values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, np.generic) for v in values)


def nlgp_norm(gain, xp=math):
    """Z(g) = sqrt((2/π) arcsin(2g² / (1 + 2g²))), the std of erf(g z)."""
    if xp is not math and not _host(gain):
        g2 = xp.square(gain)
        return xp.sqrt(2.0 / math.pi * xp.arcsin(2 * g2 / (1 + 2 * g2)))
    return math.sqrt(2.0 / math.pi * math.asin(2 * gain**2 / (1 + 2 * gain**2)))


def nlgp_transform(z, gain, xp=np):
    """x = erf(g z) / Z(g)."""
    return _special(xp).erf(gain * z) / nlgp_norm(gain, xp)


def nlgp_mean_abs(gain, xp=math):
    """E|x| = (2/π) arctan(√2 g) / Z(g), exact."""
    atan = math.atan if _host(gain) else xp.arctan
    return 2 / math.pi * atan(math.sqrt(2.0) * gain) / nlgp_norm(gain, xp)


def _beta(a, b, xp):
    if xp is np or xp is math:
        return scipy.special.beta(a, b)
    return xp.exp(_special(xp).betaln(a, b))


def kur_std(k, xp=math):
    """s_k, the standard deviation of the Kur(k) law (finite for k > 2): sqrt(B(3/k, 1 − 2/k)/k)."""
    if _host(k):
        return math.sqrt(scipy.special.beta(3 / k, 1 - 2 / k) / k)
    return xp.sqrt(_beta(3 / k, 1 - 2 / k, xp) / k)


def kur_kurtosis(k, xp=math):
    """E[x⁴] of the standardized Kur(k) law; inf for k ≤ 4."""
    if _host(k):
        if k <= 4:
            return math.inf
        return k * scipy.special.beta(5 / k, 1 - 4 / k) / scipy.special.beta(3 / k, 1 - 2 / k) ** 2
    safe = xp.where(k > 4, k, 5.0)  # keeps the Beta arguments positive where the moment is infinite
    kurt = safe * _beta(5 / safe, 1 - 4 / safe, xp) / _beta(3 / safe, 1 - 2 / safe, xp) ** 2
    return xp.where(k > 4, kurt, xp.inf)


def kur_mean_abs(k, xp=math):
    """E|x| = B(2/k, 1 − 1/k) / (k s_k), exact for k > 1."""
    if _host(k):
        return scipy.special.beta(2 / k, 1 - 1 / k) / k / kur_std(k)
    return _beta(2 / k, 1 - 1 / k, xp) / k / kur_std(k, xp)


def kur_transform(z, k, xp=np):
    """x = Q_k(Φ(z)) / s_k, written to avoid cancellation in the tails.

    |2Φ(z) − 1| = 1 − erfc(|z|/√2), and 1 − r^k = −expm1(k·log1p(−erfc(|z|/√2))).
    """
    sp = _special(xp)
    tail = sp.erfc(xp.abs(z) / math.sqrt(2.0))
    # Past erfc's underflow the quantile is still finite: keep the tail at the smallest normal number.
    tail = xp.maximum(tail, xp.finfo(xp.result_type(tail)).tiny)
    r = 1.0 - tail
    denom = (-xp.expm1(k * xp.log1p(-tail))) ** (1.0 / k)
    return xp.sign(z) * r / denom / kur_std(k, xp)


def gaussian_transform(z, xp=np):
    return z


def gauss_expect(f: Callable[[np.ndarray], np.ndarray], scale: float = 1.0) -> float:
    """E f(z), z ~ N(0, 1), by adaptive quadrature split at 0 and ±1/scale (sharp transforms)."""
    dens = lambda z: f(np.asarray(z)) * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)  # noqa: E731
    pts = sorted({-1.0 / scale, 0.0, 1.0 / scale})
    edges = [-np.inf, *pts, np.inf]
    return sum(
        scipy.integrate.quad(dens, a, b, limit=200, epsabs=1e-13, epsrel=1e-11)[0]
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    )


def from_transform(name: str, h: Callable, scale: float = 1.0, kurtosis: float | None = None):
    """Marginal of x = h(z): E|x| and (unless given) E x⁴ by quadrature."""
    if kurtosis is None:
        kurtosis = gauss_expect(lambda z: h(z) ** 4, scale)
    mean_abs = gauss_expect(lambda z: np.abs(h(z)), scale)
    return Marginal(name=name, kurtosis=kurtosis, mean_abs=mean_abs, transform=h)


def gaussian_marginal() -> Marginal:
    return Marginal("gaussian", 3.0, math.sqrt(2 / math.pi), transform=gaussian_transform)


def nlgp_marginal(gain) -> Marginal:
    """Host gain: quadrature (float64); traced gain: fixed Gauss–Legendre rule in jnp (float32)."""
    if _host(gain):
        return from_transform(f"nlgp(g={gain:g})", partial(nlgp_transform, gain=gain), scale=gain)
    import jax.numpy as jnp

    h = partial(nlgp_transform, gain=gain, xp=jnp)
    kurt = gauss_expect_even(lambda z: h(z) ** 4, gain)
    return Marginal("nlgp", kurt, nlgp_mean_abs(gain, jnp), transform=h)


def kur_marginal(k) -> Marginal:
    if _host(k):
        h = partial(kur_transform, k=k)
        # E|u| = ∫_0^1 r (1 − r^k)^{−1/k} dr = B(2/k, 1 − 1/k)/k, exact for k > 1.
        return Marginal(f"kur(k={k:g})", kur_kurtosis(k), kur_mean_abs(k), transform=h)
    import jax.numpy as jnp

    h = partial(kur_transform, k=k, xp=jnp)
    return Marginal("kur", kur_kurtosis(k, jnp), kur_mean_abs(k, jnp), transform=h)


# Composite Gauss–Legendre for E f(z), f even, in jnp: panels on [0, Z_MAX] split at fixed points and at
# multiples of 1/scale (the width of a sharp transform such as erf(g z)); 2·Φ(−Z_MAX) < 1e-15 is dropped.
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)
_Z_MAX = 8.0
_FIXED_BREAKS = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, _Z_MAX])
_SCALED_BREAKS = np.array([0.25, 0.5, 1.0, 2.0, 4.0, 8.0])


def gauss_expect_even(f: Callable, scale=1.0):
    """E f(z), z ~ N(0, 1), for an even f in jnp (traced scale allowed); float32 accuracy ~1e-6."""
    import jax.numpy as jnp

    breaks = jnp.sort(jnp.concatenate([_FIXED_BREAKS, jnp.clip(_SCALED_BREAKS / scale, 0.0, _Z_MAX)]))
    lo, hi = breaks[:-1, None], breaks[1:, None]
    z = 0.5 * (hi - lo) * _GL_NODES + 0.5 * (hi + lo)  # (panels, nodes)
    dens = jnp.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return 2.0 * jnp.sum(0.5 * (hi - lo) * _GL_WEIGHTS * f(z) * dens)


def binary_marginal() -> Marginal:
    return Marginal("binary", 1.0, 1.0, binary=True)


def transformed_covariance(h: Callable, rho, order: int = 160, xp=np):
    """E[h(z₁) h(z₂)] for standard normals with correlation ρ (any shape): float64 with numpy, or jnp
    (traced ρ or h parameters, float32) with xp=jax.numpy.

    Nested Gauss–Hermite: z₂ = ρ z₁ + √(1 − ρ²) w. Used for NORTA laws without a closed form (Kur).
    """
    nodes, weights = scipy.special.roots_hermitenorm(order)
    weights = weights / weights.sum()
    if xp is np:
        rho = np.asarray(rho, dtype=np.float64)
        flat = rho.ravel()[:, None, None]
        z1 = nodes[None, :, None]
        z2 = flat * z1 + np.sqrt(np.clip(1 - flat**2, 0, None)) * nodes[None, None, :]
        vals = h(z1) * h(z2)
        out = np.einsum("rij,i,j->r", vals, weights, weights)
        return out.reshape(rho.shape)
    import jax

    nodes, weights = nodes.astype(np.float32), weights.astype(np.float32)
    hz1 = h(xp.asarray(nodes))

    def one(r):
        z2 = r * nodes[:, None] + xp.sqrt(xp.clip(1 - r * r, 0.0, None)) * nodes[None, :]
        return weights @ (hz1[:, None] * h(z2)) @ weights

    rho = xp.asarray(rho)
    return jax.lax.map(one, rho.ravel(), batch_size=16).reshape(rho.shape)
