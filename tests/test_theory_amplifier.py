"""The amplifier φ(a) = E[x erf(x a/√(2(1 − a²)))]: closed forms, quadrature accuracy, Monte Carlo
agreement, the cubic (kurtosis) law and its sign law (SPEC §3)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.special

from conftest import assert_within_se
from rfloc.data import NLGP, GaussianGP, Ising, Kur
from rfloc.data.marginals import Marginal
from rfloc.theory import amplifier, amplifier_from_samples, cubic_amplifier, make_amplifier

SQ = math.sqrt(2 / math.pi)
A_GRID = np.concatenate([np.linspace(-1, 1, 41), [1 - 1e-6, -(1 - 1e-9), 0.999999999999]])


def reference_phi(marginal, a, scale=1.0):
    """Independent value for an odd transform h, a > 0: φ(a) = E|x| − E[|x| erfc(|x| c)] (as erf = 1 − erfc),
    the second term by adaptive scipy quadrature on z > 0 with breakpoints at the transform's scale 1/g and
    at multiples of erfc's width 1/(c·h'(0)), so that the step at x = 0 is resolved even as a → 1."""
    c = a / math.sqrt(2 * (1 - a * a))
    h = marginal.transform
    slope = (h(1e-9) - h(-1e-9)) / 2e-9
    width = 1.0 / (c * slope)

    def f(z):
        return abs(h(z)) * scipy.special.erfc(abs(h(z)) * c) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    edges = sorted({0.0, width, 10 * width, 100 * width, 1.0 / scale, 1.0, 4.0, 16.0} - {math.inf})
    tail = sum(
        scipy.integrate.quad(f, lo, hi, epsabs=1e-20, epsrel=1e-12, limit=500)[0]
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        if hi > lo
    )
    return marginal.mean_abs - 2 * tail


# -- item 1: Gaussian ------------------------------------------------------------------------------
def test_gaussian_is_linear_to_1e6():
    m = GaussianGP().marginal
    # float64 (numpy) and float32 (jax): the identity φ = √(2/π)a holds to quadrature accuracy, and
    # float32 round-off of a 368-node sum of O(1) terms is ~1e-7 (eps·√nodes).
    np.testing.assert_allclose(amplifier(m, A_GRID, xp=np), SQ * A_GRID, rtol=0, atol=1e-6)
    got = np.asarray(amplifier(m, A_GRID.astype(np.float32)))
    np.testing.assert_allclose(got, SQ * A_GRID, rtol=0, atol=1e-6)


# -- item 2: binary closed form, quadrature, Monte Carlo -------------------------------------------
def test_binary_closed_form_and_nlgp_limit():
    a = np.linspace(-0.999, 0.999, 37)
    closed = scipy.special.erf(a / np.sqrt(2 * (1 - a * a)))
    np.testing.assert_allclose(amplifier(Ising().marginal, a, xp=np), closed, rtol=0, atol=1e-12)
    # NLGP(g) → sign(z) as g → ∞ (x = ±1 up to O(1/g)): the *quadrature* rule must reproduce the binary
    # closed form, which tests its resolution of the step of width 1/g at z = 0.
    np.testing.assert_allclose(amplifier(NLGP(gain=1e7).marginal, a, xp=np), closed, rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        np.asarray(amplifier(Ising().marginal, a.astype(np.float32))), closed, atol=1e-6
    )


@pytest.mark.parametrize(
    "model, scale",
    [
        (NLGP(gain=3.0), 3.0),
        (NLGP(gain=100.0), 100.0),
        (Kur(k=5.0), 1.0),
        (Kur(k=3.0), 1.0),
        (Kur(k=30.0), 1.0),
    ],
)
def test_quadrature_matches_adaptive_quad(model, scale):
    m = model.marginal
    a = np.array([0.01, 0.3, 0.7, 0.95, 0.999, 1 - 1e-7])
    ref = np.array([reference_phi(m, v, scale) for v in a])
    # Two float64 quadratures of the same integral (mean_abs from rfloc.data by its own quadrature).
    np.testing.assert_allclose(amplifier(m, a, xp=np), ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(amplifier(m, -a, xp=np), -ref, rtol=0, atol=1e-9)


@pytest.mark.parametrize("model", [NLGP(n=8, gain=3.0), Kur(n=8, k=6.0), Kur(n=8, k=10.0)])
def test_quadrature_agrees_with_monte_carlo(model):
    # One coordinate per sample (x[:, 0]) so the samples are i.i.d.; tolerance = 6 standard errors of
    # each Monte Carlo mean (conftest.Z), estimated from the same samples.
    x, _ = model.sample(jax.random.key(3), 200_000)
    a = np.array([-0.9, -0.4, 0.1, 0.5, 0.8, 0.99, 1.0], dtype=np.float32)
    mc, se = amplifier_from_samples(np.asarray(x)[:, 0], a, stderr=True)
    assert_within_se(
        mc, amplifier(model.marginal, a.astype(np.float64), xp=np), se, what="MC vs quadrature phi"
    )


def test_from_samples_gaussian_and_shapes():
    z = jax.random.normal(jax.random.key(0), (100_000,))
    a = jnp.linspace(-1, 1, 12).reshape(3, 4)
    mc, se = amplifier_from_samples(z, a, stderr=True)
    assert mc.shape == se.shape == (3, 4)
    assert_within_se(mc, SQ * np.asarray(a), se, what="Gaussian MC phi")


# -- endpoints, vectorization, jit ------------------------------------------------------------------
@pytest.mark.parametrize("model", [GaussianGP(), NLGP(gain=100.0), Kur(k=3.0), Ising()])
def test_endpoints_exact_and_continuous(model):
    m = model.marginal
    for xp in (np, jnp):
        ends = np.asarray(amplifier(m, np.array([-1.0, 1.0]), xp=xp))
        np.testing.assert_allclose(ends, [-m.mean_abs, m.mean_abs], rtol=1e-6)
        near = np.asarray(amplifier(m, np.array([1 - 1e-7, 0.9999999]), xp=xp))
        assert np.all(np.isfinite(near))
        # φ(1) − φ(1−δ) = E[|x| erfc(|x| c)] = O(p_x(0)/c²) = O(δ) for a density bounded at 0; here ≤ 1e-5.
        assert np.all(np.abs(near - m.mean_abs) < 1e-5)
    grid = np.linspace(-1, 1, 201)
    assert np.all(np.diff(amplifier(m, grid, xp=np)) > 0)  # φ is strictly increasing


def test_jit_vmap_and_shapes():
    m = Kur(k=6.0).marginal
    phi = make_amplifier(m)
    a = jnp.linspace(-0.95, 0.95, 24).reshape(2, 3, 4)
    eager = phi(a)
    assert eager.shape == (2, 3, 4)
    np.testing.assert_allclose(jax.jit(phi)(a), eager, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(jax.vmap(phi)(a), eager, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(jax.jit(lambda v: amplifier(m, v))(a), eager, rtol=1e-6, atol=1e-7)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="a must be"):
        amplifier(GaussianGP().marginal, np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="amplifier_from_samples"):
        amplifier(Marginal("unknown", 3.0, 0.8), 0.5)
    with pytest.raises(ValueError, match="kappa"):
        cubic_amplifier(Kur(k=4.0).marginal.kurtosis, 0.1)
    with pytest.raises(ValueError, match="kappa"):
        cubic_amplifier(float("nan"), 0.1)
    with pytest.raises(ValueError, match="a must be"):
        amplifier_from_samples(np.ones(10), 2.0)


# -- item 3: cubic law and its sign ----------------------------------------------------------------
NLGP_GAINS = (0.3, 1.0, 3.0, 10.0, 100.0)
KUR_KS = (2.5, 3.0, 4.0, 4.5, 5.0, 6.0, 10.0, 30.0)


@pytest.mark.parametrize(
    "model", [NLGP(gain=g) for g in NLGP_GAINS] + [Kur(k=k) for k in KUR_KS], ids=lambda m: repr(m)[:24]
)
def test_sign_law(model):
    m = model.marginal
    a = np.array([-0.2, -0.1, -0.05, 0.05, 0.1, 0.2])
    dev = amplifier(m, a, xp=np) - SQ * a
    # κ = inf for k <= 4: then 3 − κ = −inf and the law says "sub-linear".
    expected = np.sign((3.0 - m.kurtosis) * a**3)
    assert np.all(np.sign(dev) == expected), (m.name, m.kurtosis, dev)
    # The deviation is far above the float64 quadrature error (~1e-12) at these a.
    assert np.all(np.abs(dev) > 1e-9)


@pytest.mark.parametrize(
    "model", [NLGP(gain=1.0), NLGP(gain=3.0), NLGP(gain=100.0), Kur(k=10.0), Kur(k=30.0)]
)
def test_cubic_is_the_small_a_limit(model):
    # (φ(a) − √(2/π)a)/a³ → √(2/π)(3 − κ)/6; the next term is O(a²) relative (needs E x⁶ < ∞:
    # NLGP, Kur k > 6).
    m = model.marginal
    a = 0.01
    ratio = (amplifier(m, a, xp=np) - SQ * a) / a**3
    coef = SQ * (3 - m.kurtosis) / 6
    assert abs(ratio - coef) <= 1e-2 * abs(coef)
    np.testing.assert_allclose(cubic_amplifier(m.kurtosis, a), SQ * a + coef * a**3, rtol=1e-12)
    # and the exact φ stays closer to the cubic than to the line at a = 0.2 (where it still applies)
    b = 0.2
    exact = amplifier(m, b, xp=np)
    assert abs(exact - cubic_amplifier(m.kurtosis, b)) < abs(exact - SQ * b)
