"""Elliptical laws x = R · L u / c: u uniform on S^{N−1}, L = C_y^{1/2}, R ≥ 0 independent of u.

Cov x = E[R²] C_y / (N c²), so c² = E[R²] / N gives Cov x = C_y exactly (C_ii = 1 on the ring).
Radial laws: "t" (multivariate Student-t, ν > 2: x = z / √(χ²_ν/ν), z ~ N(0, (ν−2)/ν · C_y));
"shell" (R ≡ 1); "custom" (the authors' R = 2 + artanh(p), p ~ U(0, 1): density sech²(R − 2) on
[2, ∞), E R = 2 + ln 2, E(R − 2)² = π²/12). Marginal kurtosis: 3N E[R⁴] / ((N + 2) E[R²]²).
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import scipy.integrate

from rfloc import _checks
from rfloc.data import marginals, ring
from rfloc.data.base import DataModel, checked, checked_pair, register

RADIAL_LAWS = ("t", "shell", "custom")


def custom_radial_moment(power: int) -> float:
    """E[R^power] for R = 2 + r, r with density sech²(r) on [0, ∞)."""
    # sech²(r) = 4e^{−2r} / (1 + e^{−2r})², which does not overflow.
    f = lambda r: (2 + r) ** power * 4 * math.exp(-2 * r) / (1 + math.exp(-2 * r)) ** 2  # noqa: E731
    return scipy.integrate.quad(f, 0, np.inf, epsabs=1e-13, epsrel=1e-12)[0]


@register("elliptical")
@dataclasses.dataclass(frozen=True)
class Elliptical(DataModel):
    """Elliptical data with the ring kernel of length ξ_y as its shape matrix and a radial law."""

    xi: tuple[float, float] = (1.0, 3.0)
    radial: str = "t"
    nu: float = 3.0

    PARAMS: ClassVar[tuple[str, ...]] = ("class_proportion", "xi", "nu")

    def _validate(self):
        self._set("xi", checked_pair("xi", self.xi, low=0.0, low_open=True))
        _checks.choice("radial", self.radial, RADIAL_LAWS)
        if self.radial == "t":
            self._set("nu", checked("nu", self.nu, partial(_checks.real, low=2.0, low_open=True)))

    def _prepare(self):
        if self.radial == "custom":  # constants of the radial law alone (no parameter): host quadrature
            self._set("_moments", {p: custom_radial_moment(p) for p in (1, 2, 4)})

    @property
    def _field(self) -> ring.GaussianField:
        return self._derived("field", lambda xp: ring.GaussianField(self.n, self.xi, self.dim, xp=xp))

    def _sample_x(self, key, y):
        num, size = y.shape[0], self.n_inputs
        key_e, key_r = jax.random.split(key)
        eps = jax.random.normal(key_e, (num, size))
        if self.radial == "t":
            nu = self.nu
            scale = math.sqrt((nu - 2) / nu) if self.on_host else jnp.sqrt((nu - 2) / nu)
            z = self._field.apply(eps, y) * scale
            chi2 = 2.0 * jax.random.gamma(key_r, self.nu / 2, (num,))
            return z / jnp.sqrt(chi2 / self.nu)[:, None]
        direction = self._field.apply(eps, y) / jnp.linalg.norm(eps, axis=1, keepdims=True)
        if self.radial == "shell":
            radius = jnp.ones((num,))
        else:
            radius = 2.0 + jnp.arctanh(jax.random.uniform(key_r, (num,), maxval=1.0 - 1e-7))
        c = math.sqrt(self._radial_moment(2) / size)
        return radius[:, None] * direction / c

    def _radial_moment(self, power: int) -> float:
        return 1.0 if self.radial == "shell" else self._moments[power]

    def class_covariance(self, label: int):
        return ring.kernel(self.n, self.xi[self.covariance_check_label(label)], self.dim, self.xp)

    @property
    def marginal(self):
        size = self.n_inputs
        if self.radial == "t" and not self.on_host:
            return _t_marginal_traced(self.nu)
        if self.radial == "t":
            nu = self.nu
            kurt = 3 * (nu - 2) / (nu - 4) if nu > 4 else math.inf
            # |x| = √((ν−2)/ν)·|z|/√(χ²/ν): E|z| = √(2/π), E[(χ²_ν/ν)^{−1/2}] = √(ν/2) Γ((ν−1)/2)/Γ(ν/2).
            inv = math.sqrt(nu / 2) * math.exp(math.lgamma((nu - 1) / 2) - math.lgamma(nu / 2))
            mean_abs = math.sqrt((nu - 2) / nu) * math.sqrt(2 / math.pi) * inv
            return marginals.Marginal(f"t(nu={nu:g})", kurt, mean_abs)
        m2, m4 = self._radial_moment(2), self._radial_moment(4)
        kurt = 3 * size * m4 / ((size + 2) * m2**2)
        # E|u_1| on S^{N−1} = Γ(N/2) / (√π Γ((N+1)/2)); scale by √N E R / √(E R²).
        eu = math.exp(math.lgamma(size / 2) - math.lgamma((size + 1) / 2)) / math.sqrt(math.pi)
        mean_abs = eu * math.sqrt(size) * self._radial_moment(1) / math.sqrt(m2)
        return marginals.Marginal(self.radial, kurt, mean_abs)


def _t_marginal_traced(nu) -> marginals.Marginal:
    """The Student-t marginal for a traced ν (jnp, float32): same formulas as the host branch."""
    from jax.scipy.special import gammaln

    kurt = jnp.where(nu > 4, 3 * (nu - 2) / jnp.where(nu > 4, nu - 4, 1.0), jnp.inf)
    inv = jnp.sqrt(nu / 2) * jnp.exp(gammaln((nu - 1) / 2) - gammaln(nu / 2))
    mean_abs = jnp.sqrt((nu - 2) / nu) * math.sqrt(2 / math.pi) * inv
    return marginals.Marginal("t", kurt, mean_abs)
