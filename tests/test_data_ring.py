import jax
import numpy as np
import pytest

from rfloc.data import ring


def test_ring_distance_wraps():
    d = ring.ring_distance(10)
    assert d[0, 9] == 1 and d[0, 5] == 5 and d[2, 8] == 4
    np.testing.assert_array_equal(d, d.T)


def test_kernel_matches_definition_when_psd():
    # ξ ≪ N: the wrapped Gaussian is PSD up to round-off, so the sampled covariance is the SPEC kernel.
    n, xi = 40, 3.0
    d = ring.ring_distance(n)
    np.testing.assert_allclose(ring.kernel(n, xi, 1), np.exp(-(d**2) / xi**2), atol=1e-12)


def test_kernel_is_psd_with_unit_diagonal_when_clipped():
    c = ring.kernel(8, 3.0, 1)  # ξ comparable to N: negative eigenvalues clipped, diagonal renormalized
    assert np.linalg.eigvalsh(c).min() > -1e-12
    np.testing.assert_allclose(np.diag(c), 1.0, atol=1e-12)


@pytest.mark.parametrize("dim", [1, 2])
def test_square_root_squares_to_kernel(dim):
    root = ring.sqrt_kernel(12, 2.0, dim)
    np.testing.assert_allclose(root @ root, ring.kernel(12, 2.0, dim), atol=1e-10)
    np.testing.assert_allclose(root, root.T, atol=1e-12)


@pytest.mark.parametrize("dim", [1, 2])
def test_fft_and_dense_samplers_agree(dim):
    # Same white noise through both factorizations: they apply the same symmetric root C^{1/2}.
    n, xis = 10, (1.0, 3.0)
    dense = ring.GaussianField(n, xis, dim, method="dense")
    fft = ring.GaussianField(n, xis, dim, method="fft")
    eps = jax.random.normal(jax.random.key(1), (64, n**dim))
    y = jax.random.bernoulli(jax.random.key(2), 0.5, (64,)).astype(int)
    np.testing.assert_allclose(dense.apply(eps, y), fft.apply(eps, y), atol=2e-5)


def test_two_d_kernel_is_kronecker_product():
    c = ring.kernel(6, 1.5, 1)
    np.testing.assert_allclose(ring.kernel(6, 1.5, 2), np.kron(c, c))
