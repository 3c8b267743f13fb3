"""Closed forms of the marginal laws: the jnp versions (traced parameters, float32) against the float64
host values, and the new closed forms against quadrature."""

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rfloc.data import marginals as mg

GAINS = [0.05, 0.5, 1.0, 3.0, 100.0]
KS = [2.5, 3.0, 5.0, 10.0, 30.0]
# float32: a handful of ulps (2⁻²³ ≈ 1.2e-7) through arcsin/sqrt; Beta via exp(betaln) loses ~|log B|·ulp.
RTOL = 5e-6


def test_nlgp_mean_abs_closed_form_matches_quadrature():
    for g in GAINS:
        quad = mg.gauss_expect(lambda z, g=g: np.abs(mg.nlgp_transform(z, g)), scale=g)
        assert mg.nlgp_mean_abs(g) == pytest.approx(quad, rel=1e-9)


def test_traced_constants_match_host():
    norm = jax.jit(jax.vmap(lambda g: mg.nlgp_norm(g, jnp)))(jnp.asarray(GAINS))
    np.testing.assert_allclose(norm, [mg.nlgp_norm(g) for g in GAINS], rtol=RTOL)
    std = jax.jit(jax.vmap(lambda k: mg.kur_std(k, jnp)))(jnp.asarray(KS))
    np.testing.assert_allclose(std, [mg.kur_std(k) for k in KS], rtol=RTOL)
    ks = [3.5, 4.0, 4.5, 5.0, 10.0, 30.0]
    kurt = jax.jit(jax.vmap(lambda k: mg.kur_kurtosis(k, jnp)))(jnp.asarray(ks))
    np.testing.assert_allclose(kurt, [mg.kur_kurtosis(k) for k in ks], rtol=RTOL)
    mean_abs = jax.jit(jax.vmap(lambda k: mg.kur_mean_abs(k, jnp)))(jnp.asarray(KS))
    np.testing.assert_allclose(mean_abs, [mg.kur_mean_abs(k) for k in KS], rtol=RTOL)


def test_even_gauss_legendre_rule():
    # Exact moments of z: E z⁴ = 3, E|z| = √(2/π); and the sharp erf(100 z) law of NLGP(100).
    assert float(mg.gauss_expect_even(lambda z: z**4)) == pytest.approx(3.0, rel=1e-6)
    assert float(mg.gauss_expect_even(jnp.abs)) == pytest.approx(math.sqrt(2 / math.pi), rel=1e-6)
    rule = jax.jit(jax.vmap(lambda g: mg.gauss_expect_even(lambda z: mg.nlgp_transform(z, g, jnp) ** 4, g)))
    host = [mg.nlgp_marginal(g).kurtosis for g in GAINS]
    np.testing.assert_allclose(rule(jnp.asarray(GAINS)), host, rtol=1e-5)


def traced_covariance(k, rho):
    return mg.transformed_covariance(partial(mg.kur_transform, k=k, xp=jnp), rho, xp=jnp)


def test_traced_transformed_covariance():
    rho = np.array([-0.9, -0.3, 0.0, 0.4, 0.95])
    for k in (5.0, 10.0):
        host = mg.transformed_covariance(partial(mg.kur_transform, k=k), rho)
        traced = jax.jit(
            lambda k: mg.transformed_covariance(partial(mg.kur_transform, k=k, xp=jnp), rho, xp=jnp)
        )(k)
        # A 160² float32 Gauss–Hermite sum of O(1) terms: absolute error ~1e-6 (2e-5 allowed).
        np.testing.assert_allclose(traced, host, atol=2e-5)
