"""Exact sampling of the 1-D Ising ring P(s) ∝ exp(J Σ_i s_i s_{i+1}), periodic boundary.

No Markov chain: s_1 is uniform (by symmetry), then s_2..s_N follow the two-state chain conditioned
on closing the ring. With t = tanh J and a_i = s_i s_1, the transfer matrix gives
  P(s_{i+1} = s_i·f | s_i, s_1) ∝ e^{J f} (1 + f a_i t^{N−i}),   f ∈ {+1, −1},
so the flip probability depends only on (site, a_i) and is tabulated once. O(N) per sample.
Exact correlations: E[s_i s_{i+d}] = (t^d + t^{N−d}) / (1 + t^N).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from rfloc import _checks
from rfloc.data import marginals
from rfloc.data.base import DataModel, register
from rfloc.data.ring import ring_distance


def flip_table(n: int, coupling: float) -> np.ndarray:
    """(n − 1, 2) flip probabilities for sites i = 1..n−1 and agreement a_i = +1 (col 0) / −1 (col 1)."""
    t = math.tanh(coupling)
    m = n - np.arange(1, n)  # bonds left to close the ring after site i+1
    tm = t ** m.astype(np.float64)
    out = np.empty((n - 1, 2))
    for col, a in enumerate((1.0, -1.0)):
        stay = math.exp(coupling) * (1 + a * tm)
        flip = math.exp(-coupling) * (1 - a * tm)
        out[:, col] = flip / (stay + flip)
    return out


def ring_correlation(n: int, coupling: float) -> np.ndarray:
    """(n, n) exact E[s_i s_j] = (t^d + t^{n−d}) / (1 + t^n), d the ring distance."""
    t = math.tanh(coupling)
    d = ring_distance(n).astype(np.float64)
    return (t**d + t ** (n - d)) / (1 + t**n)


@register("ising")
@dataclasses.dataclass(frozen=True)
class Ising(DataModel):
    """Two-class 1-D Ising ring with couplings J = (J_0, J_1); spins ±1 (kurtosis 1)."""

    J: tuple[float, float] = (0.3, 0.7)

    _dims_allowed = (1,)

    def _validate(self):
        self._set("J", _checks.pair("J", self.J))

    def _prepare(self):
        table = np.stack([flip_table(self.n, j) for j in self.J])  # (2, n−1, 2)
        self._set("_flip", table.astype(np.float32))

    def _sample_x(self, key, y):
        num = y.shape[0]
        key_s, key_u = jax.random.split(key)
        first = jnp.where(jax.random.bernoulli(key_s, 0.5, (num,)), 1.0, -1.0)
        u = jax.random.uniform(key_u, (self.n - 1, num))
        flip = jnp.asarray(self._flip)[y]  # (num, n−1, 2)
        flip = jnp.moveaxis(flip, 1, 0)  # (n−1, num, 2)

        def step(agree, inputs):
            u_i, p_i = inputs
            p = jnp.where(agree > 0, p_i[:, 0], p_i[:, 1])
            agree = jnp.where(u_i < p, -agree, agree)
            return agree, agree

        _, rest = jax.lax.scan(step, jnp.ones((num,)), (u, flip))
        agree = jnp.concatenate([jnp.ones((1, num)), rest], axis=0).T
        return first[:, None] * agree

    def class_covariance(self, label: int) -> np.ndarray:
        return ring_correlation(self.n, self.J[self.covariance_check_label(label)])

    @property
    def marginal(self):
        return marginals.binary_marginal()
