"""Marginal laws of the data models: pointwise transforms of a standard normal and their moments.

NLGP(g):  x = erf(g z) / Z(g),  Z(g)² = (2/π) arcsin(2g² / (1 + 2g²))  (unit variance).
Kur(k):   x = Q_k(Φ(z)) / s_k,  Q_k(p) = (2p − 1) / (1 − |2p − 1|^k)^{1/k}.
For the Kur law, with r = |2p − 1| and v = r^k, E u^{2m} = ∫_0^1 r^{2m} (1 − r^k)^{−2m/k} dr
= B((2m + 1)/k, 1 − 2m/k) / k, finite iff k > 2m:
  s_k² = B(3/k, 1 − 2/k)/k,  κ = k·B(5/k, 1 − 4/k)/B(3/k, 1 − 2/k)².
Transforms accept an array namespace (numpy for float64 quadrature, jax.numpy for sampling).
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


def nlgp_norm(gain: float) -> float:
    """Z(g) = sqrt((2/π) arcsin(2g² / (1 + 2g²))), the std of erf(g z)."""
    return math.sqrt(2.0 / math.pi * math.asin(2 * gain**2 / (1 + 2 * gain**2)))


def nlgp_transform(z, gain: float, xp=np):
    """x = erf(g z) / Z(g)."""
    return _special(xp).erf(gain * z) / nlgp_norm(gain)


def kur_std(k: float) -> float:
    """s_k, the standard deviation of the Kur(k) law (finite for k > 2)."""
    return math.sqrt(scipy.special.beta(3 / k, 1 - 2 / k) / k)


def kur_kurtosis(k: float) -> float:
    """E[x⁴] of the standardized Kur(k) law; inf for k ≤ 4."""
    if k <= 4:
        return math.inf
    return k * scipy.special.beta(5 / k, 1 - 4 / k) / scipy.special.beta(3 / k, 1 - 2 / k) ** 2


def kur_transform(z, k: float, xp=np):
    """x = Q_k(Φ(z)) / s_k, written to avoid cancellation in the tails.

    |2Φ(z) − 1| = 1 − erfc(|z|/√2), and 1 − r^k = −expm1(k·log1p(−erfc(|z|/√2))).
    """
    sp = _special(xp)
    tail = sp.erfc(xp.abs(z) / math.sqrt(2.0))
    # Past erfc's underflow the quantile is still finite: keep the tail at the smallest normal number.
    tail = xp.maximum(tail, xp.finfo(xp.result_type(tail)).tiny)
    r = 1.0 - tail
    denom = (-xp.expm1(k * xp.log1p(-tail))) ** (1.0 / k)
    return xp.sign(z) * r / denom / kur_std(k)


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


def nlgp_marginal(gain: float) -> Marginal:
    return from_transform(f"nlgp(g={gain:g})", partial(nlgp_transform, gain=gain), scale=gain)


def kur_marginal(k: float) -> Marginal:
    h = partial(kur_transform, k=k)
    # E|u| = ∫_0^1 r (1 − r^k)^{−1/k} dr = B(2/k, 1 − 1/k)/k, exact for k > 1.
    mean_abs = scipy.special.beta(2 / k, 1 - 1 / k) / k / kur_std(k)
    return Marginal(f"kur(k={k:g})", kur_kurtosis(k), mean_abs, transform=h)


def binary_marginal() -> Marginal:
    return Marginal("binary", 1.0, 1.0, binary=True)


def transformed_covariance(h: Callable, rho: np.ndarray, order: int = 160) -> np.ndarray:
    """E[h(z₁) h(z₂)] for standard normals with correlation ρ (any shape), float64.

    Nested Gauss–Hermite: z₂ = ρ z₁ + √(1 − ρ²) w. Used for NORTA laws without a closed form (Kur).
    """
    nodes, weights = scipy.special.roots_hermitenorm(order)
    weights = weights / weights.sum()
    rho = np.asarray(rho, dtype=np.float64)
    flat = rho.ravel()[:, None, None]
    z1 = nodes[None, :, None]
    z2 = flat * z1 + np.sqrt(np.clip(1 - flat**2, 0, None)) * nodes[None, None, :]
    vals = h(z1) * h(z2)
    out = np.einsum("rij,i,j->r", vals, weights, weights)
    return out.reshape(rho.shape)
