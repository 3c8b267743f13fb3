"""Gaussian-process-based models: the ring Gaussian GP, NLGP(g) and Kur(k) (NORTA)."""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from rfloc import _checks
from rfloc.data import marginals, ring
from rfloc.data.base import DataModel, checked, checked_pair, register


@dataclasses.dataclass(frozen=True)
class _FieldModel(DataModel):
    """x = h(z), z ~ N(0, C_y) with C_y the ring (or torus) kernel of length ξ_y."""

    xi: tuple[float, float] = (1.0, 3.0)

    PARAMS: ClassVar[tuple[str, ...]] = ("class_proportion", "xi")

    def _validate(self):
        self._set("xi", checked_pair("xi", self.xi, low=0.0, low_open=True))

    @property
    def _field(self) -> ring.GaussianField:
        """The factorized kernels C_y^{1/2} (float32; host float64 before the cast when not traced)."""
        return self._derived("field", lambda xp: ring.GaussianField(self.n, self.xi, self.dim, xp=xp))

    def latent_covariance(self, label: int):
        """Covariance C_y of the underlying Gaussian field z."""
        xi = self.xi[self.covariance_check_label(label)]
        return ring.kernel(self.n, xi, self.dim, self.xp)

    def _transform(self, z):
        return z

    def _sample_x(self, key, y):
        return self._transform(self._field.sample(key, y))


@register("gaussian")
@dataclasses.dataclass(frozen=True)
class GaussianGP(_FieldModel):
    """Ring Gaussian process: x ~ N(0, C_y), C_ij = exp(−d(i, j)²/ξ_y²)."""

    def class_covariance(self, label: int):
        return self.latent_covariance(label)

    @property
    def marginal(self):
        return marginals.gaussian_marginal()


@register("nlgp")
@dataclasses.dataclass(frozen=True)
class NLGP(_FieldModel):
    """Non-linear GP: x = erf(g z)/Z(g). Excess kurtosis < 0, from 0 (g → 0) to −2 (g → ∞)."""

    gain: float = 3.0

    PARAMS: ClassVar[tuple[str, ...]] = ("class_proportion", "xi", "gain")

    def _validate(self):
        super()._validate()
        self._set("gain", checked("gain", self.gain, partial(_checks.real, low=0.0, low_open=True)))

    def _transform(self, z):
        return marginals.nlgp_transform(z, self.gain, xp=jnp)

    def class_covariance(self, label: int):
        """Arcsine law: (2/π) arcsin(2g² C / (1 + 2g²)) / Z(g)²."""
        xp, c = self.xp, self.latent_covariance(label)
        g2 = self.gain**2
        return (2 / np.pi) * xp.arcsin(2 * g2 * c / (1 + 2 * g2)) / marginals.nlgp_norm(self.gain, xp) ** 2

    @property
    def marginal(self):
        return marginals.nlgp_marginal(self.gain)


def _torus_index(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ((j1 − i1) mod n, (j2 − i2) mod n) of the n² × n² block-circulant torus layout."""
    i = np.arange(n)
    diff = (i[None, :] - i[:, None]) % n
    rows = np.broadcast_to(diff[:, None, :, None], (n, n, n, n)).reshape(n * n, n * n)
    cols = np.broadcast_to(diff[None, :, None, :], (n, n, n, n)).reshape(n * n, n * n)
    return rows, cols


@register("kur")
@dataclasses.dataclass(frozen=True)
class Kur(_FieldModel):
    """Kur(k) ("Alg(k)") NORTA model: x = Q_k(Φ(z))/s_k, tails ∝ |x|^−(k+1); κ finite only for k > 4."""

    k: float = 5.0

    PARAMS: ClassVar[tuple[str, ...]] = ("class_proportion", "xi", "k")

    def _validate(self):
        super()._validate()
        self._set("k", checked("k", self.k, partial(_checks.real, low=2.0, low_open=True)))

    def _transform(self, z):
        return marginals.kur_transform(z, self.k, xp=jnp)

    def class_covariance(self, label: int):
        """E[h(z_i) h(z_j)] by Gauss–Hermite quadrature on each distinct latent correlation."""
        c = self.latent_covariance(label)
        if self.on_host:
            values, inverse = np.unique(np.round(c, 14), return_inverse=True)
            cov = marginals.transformed_covariance(partial(marginals.kur_transform, k=self.k), values)
            out = cov[inverse].reshape(c.shape)
            np.fill_diagonal(out, 1.0)  # unit variance holds exactly by the choice of s_k
            return out
        # Traced: the covariance is circulant (block-circulant on the torus); transform its first row.
        h = partial(marginals.kur_transform, k=self.k, xp=jnp)
        n = self.n
        if self.dim == 1:
            row = marginals.transformed_covariance(h, c[0].at[0].set(0.0), xp=jnp).at[0].set(1.0)
            return row[(np.arange(n)[None, :] - np.arange(n)[:, None]) % n]
        grid = c[0].reshape(n, n).at[0, 0].set(0.0)
        grid = marginals.transformed_covariance(h, grid, xp=jnp).at[0, 0].set(1.0)
        return grid[_torus_index(n)]

    @property
    def marginal(self):
        return marginals.kur_marginal(self.k)
