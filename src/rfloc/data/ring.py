"""Circulant kernels on the ring (and the torus) and exact Gaussian sampling from them.

A ring kernel C_ij = c(d(i, j)) is circulant, so C = F* diag(λ) F with λ the DFT of its first row.
Its symmetric square root C^{1/2} = F* diag(√λ) F is again circulant; sampling z = C^{1/2} ε costs
two real FFTs (O(N log N)) or, for small N where it is measured faster, one dense matmul with the
precomputed C^{1/2}. The 2-D torus kernel is the Kronecker product C ⊗ C, diagonalized by the 2-D DFT.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

# Below this many inputs a dense (N, N) square root beats the FFT on CPU (see `rfloc bench data`).
DENSE_MAX_INPUTS = 128


def ring_distance(n: int) -> np.ndarray:
    """(n, n) integer distances d(i, j) = min(|i - j|, n - |i - j|) on a ring of n sites."""
    i = np.arange(n)
    d = np.abs(i[:, None] - i[None, :])
    return np.minimum(d, n - d)


def ring_kernel(n: int, xi: float) -> np.ndarray:
    """(n, n) Gaussian ring kernel C_ij = exp(-d(i, j)² / ξ²), float64."""
    return np.exp(-(ring_distance(n) ** 2) / xi**2)


def ring_spectrum(n: int, xi, xp=np):
    """Eigenvalues (length n, DFT order) of the sampled ring covariance.

    The wrapped Gaussian is not PSD when ξ is comparable to n: negative eigenvalues are clipped to 0
    and the spectrum rescaled so that C_ii = mean(λ) = 1 (unit marginal variance). For ξ ≪ n this
    changes nothing beyond round-off. xp=jax.numpy for a traced ξ (float32: eigenvalues carry an
    absolute round-off ~1e-7 instead of ~1e-16).
    """
    if xp is np:
        lam = np.clip(np.fft.fft(ring_kernel(n, xi)[0]).real, 0.0, None)
    else:
        lam = xp.clip(xp.fft.fft(xp.exp(-(ring_distance(n)[0] ** 2) / xp.square(xi))).real, 0.0, None)
    return lam / lam.mean()


def _circulant(row):
    n = row.shape[0]
    return row[(np.arange(n)[None, :] - np.arange(n)[:, None]) % n]


def kernel(n: int, xi, dim: int, xp=np):
    """The covariance actually sampled: the ring kernel with negative eigenvalues clipped to 0
    (the wrapped Gaussian is not PSD for ξ comparable to n), or its Kronecker square for dim 2."""
    lam = ring_spectrum(n, xi, xp)
    c = _circulant(xp.fft.ifft(lam).real)
    return c if dim == 1 else xp.kron(c, c)


def circulant_eigenvalues(n: int, xi, dim: int, xp=np):
    """Real-DFT eigenvalues of the sampled ring/torus covariance (see `ring_spectrum`).

    Shape (n//2 + 1,) for dim 1 and (n, n//2 + 1) for dim 2 (the layout of rfft / rfft2).
    """
    lam = ring_spectrum(n, xi, xp)
    if dim == 1:
        return lam[: n // 2 + 1]
    return xp.outer(lam, lam)[:, : n // 2 + 1]


def sqrt_kernel(n: int, xi, dim: int, xp=np):
    """Symmetric PSD square root of the (ring or torus) kernel, (n**dim, n**dim)."""
    lam = ring_spectrum(n, xi, xp)
    root = _circulant(xp.fft.ifft(xp.sqrt(lam)).real)
    return root if dim == 1 else xp.kron(root, root)


class GaussianField:
    """Sampler of z ~ N(0, C_y) for two classes y ∈ {0, 1} of ring/torus kernels.

    The factorization is computed once here; `sample` only applies it.
    """

    def __init__(self, n: int, xis: tuple, dim: int, method: str = "auto", xp=np):
        self.n, self.dim = n, dim
        self.size = n**dim
        if method == "auto":
            method = "dense" if self.size <= DENSE_MAX_INPUTS else "fft"
        self.method = method
        # float64 on the host, then stored as float32; xp=jax.numpy builds them from traced ξ.
        if method == "dense":
            self._root = xp.stack([sqrt_kernel(n, xi, dim, xp) for xi in xis]).astype(np.float32)
        else:
            lam = xp.stack([circulant_eigenvalues(n, xi, dim, xp) for xi in xis])
            self._sqrt_lam = xp.sqrt(lam).astype(np.float32)

    def apply(self, eps: jax.Array, y: jax.Array) -> jax.Array:
        """C_y^{1/2} ε for white ε of shape (num, n**dim) and labels y (num,)."""
        if self.method == "dense":
            root = jnp.asarray(self._root)
            z0, z1 = eps @ root[0], eps @ root[1]
            return jnp.where(y[:, None] == 1, z1, z0)
        scale = jnp.asarray(self._sqrt_lam)[y]
        if self.dim == 1:
            return jnp.fft.irfft(jnp.fft.rfft(eps, axis=-1) * scale, n=self.n, axis=-1)
        img = eps.reshape(-1, self.n, self.n)
        out = jnp.fft.irfft2(jnp.fft.rfft2(img) * scale, s=(self.n, self.n))
        return out.reshape(-1, self.size)

    def sample(self, key: jax.Array, y: jax.Array) -> jax.Array:
        """z ~ N(0, C_y) per row, float32 (num, n**dim)."""
        eps = jax.random.normal(key, (y.shape[0], self.size), dtype=jnp.float32)
        return self.apply(eps, y)
