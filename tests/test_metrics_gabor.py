"""2-D Gabor fit: parameter recovery from noisy synthetic Gabors within their Cramér–Rao bounds."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rfloc.metrics import GaborFit, _gabor_model, gabor, gabor_fit

N = 12
NOISE = 0.05  # white-noise s.d. per pixel, against a carrier amplitude of 1


def _random_gabors(rng, count):
    """Parameters p (count, 8) = (x₀, y₀, θ, log σ_u, log σ_v, f, a, b), well inside the fit's bounds and with
    f·σ_u >= 0.3 cycles per envelope s.d.: with fewer cycles under the envelope the frequency is not
    identified (an exact least-squares optimum at another f then beats the truth; seen at f·σ_u = 0.2)."""
    su = rng.uniform(1.5, 2.5, count)
    f = np.maximum(rng.uniform(0.12, 0.3, count), 0.3 / su)
    phase = rng.uniform(-np.pi, np.pi, count)
    p = [
        rng.uniform(4, 7, count),
        rng.uniform(4, 7, count),
        rng.uniform(0, np.pi, count),
        np.log(su),
        np.log(rng.uniform(1.5, 2.5, count)),
        f,
        np.cos(phase),
        -np.sin(phase),
    ]
    return jnp.asarray(np.stack(p, 1), jnp.float32)


def test_recovers_parameters_within_cramer_rao():
    rng = np.random.default_rng(0)
    p = _random_gabors(rng, 60)
    model = jax.vmap(lambda q: _gabor_model(q, N))
    clean = np.asarray(model(p), np.float64)
    w = clean + NOISE * rng.standard_normal(clean.shape)
    fit = gabor_fit(w, N)
    # Least squares under white noise of s.d. σ: Cov(p̂) ≈ σ² (JᵀJ)⁻¹ with J the model's Jacobian at the
    # truth (the Cramér–Rao bound, attained asymptotically). 6 s.d. bounds every one of the 60 × 6
    # estimates with a family-wise false-alarm rate < 1e-6 if the fit is efficient; a fit stuck in a wrong
    # basin misses by far more.
    jac = np.asarray(jax.vmap(jax.jacfwd(lambda q: _gabor_model(q, N)))(p), np.float64)
    se = NOISE * np.sqrt(np.diagonal(np.linalg.inv(np.einsum("kij,kil->kjl", jac, jac)), axis1=1, axis2=2))
    est = np.stack([fit.x0, fit.y0, fit.theta, np.log(fit.sigma_u), np.log(fit.sigma_v), fit.frequency], 1)
    err = est - np.asarray(p[:, :6], np.float64)
    err[:, 2] = (err[:, 2] + np.pi / 2) % np.pi - np.pi / 2  # θ is defined modulo π
    z = np.abs(err) / se[:, :6]
    assert z.max() < 6, f"worst error {z.max():.1f} s.d. (parameter {np.unravel_index(z.argmax(), z.shape)})"
    # R²: the residual holds the noise minus its projection on the 8-dim tangent space, E SS_res =
    # σ²(n² − 8) with s.d. σ²·sqrt(2(n² − 8)); 6 s.d. of the ratio per RF.
    ss_tot = ((w - w.mean(1, keepdims=True)) ** 2).sum(1)
    expect = 1 - NOISE**2 * (N * N - 8) / ss_tot
    tol = 6 * NOISE**2 * np.sqrt(2 * (N * N - 8)) / ss_tot
    assert np.all(np.abs(np.asarray(fit.r2) - expect) < tol)


def test_evaluates_its_own_fit_and_keeps_leading_shape():
    rng = np.random.default_rng(1)
    p = _random_gabors(rng, 6)
    w = np.asarray(jax.vmap(lambda q: _gabor_model(q, N))(p)).reshape(2, 3, N * N)
    fit = gabor_fit(w, N)
    assert fit.r2.shape == (2, 3) and fit.width.shape == (2, 3)
    # noiseless Gabors: the fit reproduces them (float32 round-off only)
    np.testing.assert_allclose(np.asarray(gabor(fit, N)), w, atol=1e-3)
    assert np.all(np.asarray(fit.theta) >= 0) and np.all(np.asarray(fit.theta) < np.pi)
    assert isinstance(fit, GaborFit)


def test_noise_fits_badly():
    # A white-noise RF has no Gabor in it: the best of the fit's 8 parameters explains little of its
    # variance (chance level ~8/144 ≈ 0.06 for a linear 8-parameter model; the search over positions,
    # orientations and frequencies selects the best, hence the looser 0.3 bound on the median).
    w = np.random.default_rng(2).standard_normal((40, N * N))
    assert float(np.median(gabor_fit(w, N).r2)) < 0.3


@pytest.mark.parametrize(("w", "n", "name"), [(np.ones((3, 10)), 3, "w"), (np.ones(9), 0, "n")])
def test_invalid(w, n, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        gabor_fit(w, n)
