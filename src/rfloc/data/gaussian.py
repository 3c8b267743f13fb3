"""Gaussian-process-based models: the ring Gaussian GP, NLGP(g) and Kur(k) (NORTA)."""

from __future__ import annotations

import dataclasses
from functools import partial

import jax.numpy as jnp
import numpy as np

from rfloc import _checks
from rfloc.data import marginals, ring
from rfloc.data.base import DataModel, register


@dataclasses.dataclass(frozen=True)
class _FieldModel(DataModel):
    """x = h(z), z ~ N(0, C_y) with C_y the ring (or torus) kernel of length ξ_y."""

    xi: tuple[float, float] = (1.0, 3.0)

    def _validate(self):
        self._set("xi", _checks.pair("xi", self.xi, low=0.0, low_open=True))

    def _prepare(self):
        self._set("_field", ring.GaussianField(self.n, self.xi, self.dim))

    def latent_covariance(self, label: int) -> np.ndarray:
        """Covariance C_y of the underlying Gaussian field z."""
        return ring.kernel(self.n, self.xi[self.covariance_check_label(label)], self.dim)

    def _transform(self, z):
        return z

    def _sample_x(self, key, y):
        return self._transform(self._field.sample(key, y))


@register("gaussian")
@dataclasses.dataclass(frozen=True)
class GaussianGP(_FieldModel):
    """Ring Gaussian process: x ~ N(0, C_y), C_ij = exp(−d(i, j)²/ξ_y²)."""

    def class_covariance(self, label: int) -> np.ndarray:
        return self.latent_covariance(label)

    @property
    def marginal(self):
        return marginals.gaussian_marginal()


@register("nlgp")
@dataclasses.dataclass(frozen=True)
class NLGP(_FieldModel):
    """Non-linear GP: x = erf(g z)/Z(g). Excess kurtosis < 0, from 0 (g → 0) to −2 (g → ∞)."""

    gain: float = 3.0

    def _validate(self):
        super()._validate()
        self._set("gain", _checks.real("gain", self.gain, low=0.0, low_open=True))

    def _transform(self, z):
        return marginals.nlgp_transform(z, self.gain, xp=jnp)

    def class_covariance(self, label: int) -> np.ndarray:
        """Arcsine law: (2/π) arcsin(2g² C / (1 + 2g²)) / Z(g)²."""
        c = self.latent_covariance(label)
        g2 = self.gain**2
        return (2 / np.pi) * np.arcsin(2 * g2 * c / (1 + 2 * g2)) / marginals.nlgp_norm(self.gain) ** 2

    @property
    def marginal(self):
        return marginals.nlgp_marginal(self.gain)


@register("kur")
@dataclasses.dataclass(frozen=True)
class Kur(_FieldModel):
    """Kur(k) ("Alg(k)") NORTA model: x = Q_k(Φ(z))/s_k, tails ∝ |x|^−(k+1); κ finite only for k > 4."""

    k: float = 5.0

    def _validate(self):
        super()._validate()
        self._set("k", _checks.real("k", self.k, low=2.0, low_open=True))

    def _transform(self, z):
        return marginals.kur_transform(z, self.k, xp=jnp)

    def class_covariance(self, label: int) -> np.ndarray:
        """E[h(z_i) h(z_j)] by Gauss–Hermite quadrature on each distinct latent correlation."""
        c = self.latent_covariance(label)
        values, inverse = np.unique(np.round(c, 14), return_inverse=True)
        cov = marginals.transformed_covariance(partial(marginals.kur_transform, k=self.k), values)
        out = cov[inverse].reshape(c.shape)
        np.fill_diagonal(out, 1.0)  # unit variance holds exactly by the choice of s_k
        return out

    @property
    def marginal(self):
        return marginals.kur_marginal(self.k)
