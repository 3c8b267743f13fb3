"""The exact Ising data term (transfer-matrix DP) and the Monte Carlo one, against exact enumeration, closed
forms, Monte Carlo with derived standard errors, and large-batch SGD gradients.

Monte Carlo tolerances are z standard errors of a sample mean, SE = sd/√n from the same sample
(z = 5 for ~10² entries checked at once: Gaussian family-wise false-alarm rate < 1e-4). DP tolerances come
from its discretization: with dithered rounding the error is O(1/M²); the measured values are in comments.
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import erf

from conftest import assert_within_se
from rfloc.data import GaussianGP, Ising
from rfloc.theory.data_term import monte_carlo_data_term
from rfloc.theory.ising_dp import grid_step, ising_data_term

N = 40
J1 = 0.7
SITES = np.arange(N)


def ring_bump(width: float, center: int = 20) -> np.ndarray:
    d = np.minimum(np.abs(SITES - center), N - np.abs(SITES - center))
    return np.exp(-(d**2) / (2 * width**2))


WEIGHTS = {
    "random": np.random.default_rng(1).normal(size=N),
    "localized": ring_bump(1.0) + 0.05 * np.random.default_rng(2).normal(size=N),
    "spread": np.cos(2 * np.pi * SITES / N) + 0.1 * np.random.default_rng(3).normal(size=N),
}


def binary_half_phi(w: np.ndarray, sigma1: np.ndarray) -> np.ndarray:
    """Gaussian-conditional data term ½φ(a) for a binary marginal: φ(a) = erf(a/√(2(1 − a²)))."""
    a = sigma1 @ w / np.sqrt(w @ sigma1 @ w)
    a = np.clip(a, -1 + 1e-12, 1 - 1e-12)
    return 0.5 * erf(a / np.sqrt(2 * (1 - a**2)))


@pytest.fixture(scope="module")
def ising_class1():
    x, _ = Ising(n=N, J=(0.3, J1), class_proportion=1.0).sample(jax.random.key(11), 400_000)
    return np.asarray(x, dtype=np.float64)


def brute_force(w: np.ndarray, coupling: float) -> np.ndarray:
    """E[1{s>0}x] by summing over all 2^n spin configurations of the ring."""
    x = np.array(list(itertools.product([-1.0, 1.0], repeat=len(w))))
    weight = np.exp(coupling * np.sum(x * np.roll(x, -1, axis=1), axis=1))
    weight /= weight.sum()
    return ((x @ w > 0) * weight) @ x


def test_dp_matches_exact_enumeration():
    # The DP is exact for w + h·ε with |ε_j| < 1, so it is exact (up to float32 rounding, ~1e-7) when no
    # configuration has |s| ≤ N·h: then no sign can change. Draw w until that margin holds.
    rng = np.random.default_rng(0)
    n, m = 10, 16384
    x = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    for coupling in (0.3, 0.7, -0.5):
        for _ in range(100):
            w = rng.normal(size=n)
            if np.min(np.abs(x @ w)) > n * float(grid_step(jnp.asarray(w), m)):
                break
        else:
            pytest.fail("no w with a margin found")
        dp = np.asarray(ising_data_term(jnp.asarray(w, jnp.float32), coupling, m))
        np.testing.assert_allclose(dp, brute_force(w, coupling), atol=2e-6)


def test_dp_ties_contribute_nothing():
    # w with exact ties (s = 0 on many configurations) and integer grid shifts: E[1{s=0}x] = 0 by sign
    # symmetry, so the DP's sign(0) = 0 convention is exact here.
    w = np.zeros(10)
    w[[0, 1]], w[5] = 1.0, -1.0
    dp = np.asarray(ising_data_term(jnp.asarray(w, jnp.float32), J1, 256))
    np.testing.assert_allclose(dp, brute_force(w, J1), atol=2e-6)
    np.testing.assert_array_equal(np.asarray(ising_data_term(np.zeros(10), J1, 256)), 0.0)


def test_single_site_closed_form_and_float64():
    # w = e_i: s = x_i, so E[1{x_i>0}x] = ½E[x | x_i = 1] = ½Σ1[:, i] exactly, at any grid size.
    sigma1 = Ising(n=N, J=(0.3, J1)).class_covariance(1)
    w = np.zeros(N)
    w[7] = 0.3
    np.testing.assert_allclose(np.asarray(ising_data_term(w, J1, 256)), 0.5 * sigma1[:, 7], atol=1e-6)
    # float32 against float64 on a generic w: messages stay O(1), so the gap is float32 rounding.
    w = WEIGHTS["random"]
    f32 = np.asarray(ising_data_term(jnp.asarray(w, jnp.float32), J1, 2048))
    with jax.enable_x64(True):
        f64 = np.asarray(ising_data_term(jnp.asarray(w, jnp.float64), J1, 2048))
    assert f64.dtype == np.float64
    np.testing.assert_allclose(f32, f64, atol=1e-6)  # measured 2e-8


def test_dp_matches_monte_carlo(ising_class1):
    x = ising_class1
    for name, w in WEIGHTS.items():
        dp = np.asarray(ising_data_term(jnp.asarray(w, jnp.float32), J1, 2048))
        prod = (x @ w > 0)[:, None] * x
        se = prod.std(axis=0) / np.sqrt(len(x))  # ≈ 7.9e-4
        assert_within_se(prod.mean(axis=0), dp, se, z=5.0, what=f"DP vs MC, {name} w")


def test_dp_converges_in_grid_size():
    for name, w in WEIGHTS.items():
        w = jnp.asarray(w, jnp.float32)
        ref = np.asarray(ising_data_term(w, J1, 8192))
        errs = [np.abs(np.asarray(ising_data_term(w, J1, m)) - ref).max() for m in (256, 512, 1024, 2048)]
        # Measured (random / localized / spread): 2.9e-3→4.2e-5, 4.3e-4→2.7e-6, 9.3e-4→8.3e-5.
        assert all(b < a for a, b in zip(errs, errs[1:], strict=False)), f"{name}: {errs}"
        assert errs[-1] < errs[0] / 5, f"{name}: {errs}"
        assert errs[-1] < 2e-4, f"{name}: {errs}"  # well below the 7.9e-4 MC SE of the test above


def test_gaussian_conditional_close_when_spread_and_off_when_localized():
    sigma1 = Ising(n=N, J=(0.3, J1)).class_covariance(1)

    def rel_gap(w):
        dp = np.asarray(ising_data_term(jnp.asarray(w, jnp.float32), J1, 4096))
        return np.abs(dp - binary_half_phi(w, sigma1)).max() / np.abs(dp).max()

    # Measured: cos (IPR 0.037) 3.3 %, flat 2.4 %; Gaussian bumps of width 2 (IPR 0.20) 10.1 %,
    # width 1 (IPR 0.41) 10.7 %; a single site (IPR 1) 6.0 % (the exact value is then ½Σ1[:, i]).
    spread = [rel_gap(np.cos(2 * np.pi * SITES / N)), rel_gap(np.ones(N))]
    localized = [rel_gap(ring_bump(2.0)), rel_gap(ring_bump(1.0))]
    assert max(spread) < 0.05, spread
    assert min(localized) > 0.08, localized


def test_mean_field_update_is_expected_sgd_gradient():
    # −∇ of the batch-mean loss (ReLU(w·x) − y)², averaged over a huge mixed-class batch, against
    # 2p·E₁[1{s>0}x] − ((1 − p)Σ0 + pΣ1)w with the exact DP data term.
    model = Ising(n=N, J=(0.3, J1))
    w = jnp.asarray(0.3 * WEIGHTS["random"], jnp.float32)
    x, y = model.sample(jax.random.key(5), 200_000)

    def loss(v, xn, yn):
        return (jax.nn.relu(xn @ v) - yn) ** 2

    grads = np.asarray(
        jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(w, x, y.astype(jnp.float32)), np.float64
    )
    p = model.class_proportion
    decay = (1 - p) * model.class_covariance(0) + p * model.class_covariance(1)
    update = 2 * p * np.asarray(ising_data_term(w, J1), np.float64) - decay @ np.asarray(w, np.float64)
    se = grads.std(axis=0) / np.sqrt(len(grads))
    assert_within_se(-grads.mean(axis=0), update, se, z=5.0, what="expected SGD step")


def test_gaussian_mc_term_matches_closed_form():
    # Gaussian class 1: E₁[1{s>0}x] = Σ1 w/√(2π wᵀΣ1 w) = ½√(2/π)·a exactly, and the per-sample variance is
    # known too: E[1{s>0}x_i²] = ½E[x_i²] = ½ by sign symmetry, so Var = ½ − (½√(2/π)a_i)².
    model = GaussianGP(n=N)
    sigma1 = model.class_covariance(1)
    w, num = WEIGHTS["localized"], 200_000
    a = sigma1 @ w / np.sqrt(w @ sigma1 @ w)
    expected = 0.5 * np.sqrt(2 / np.pi) * a
    term = monte_carlo_data_term(model, num)
    est = 0.5 * np.asarray(
        term.fn(jnp.asarray(w, jnp.float32), term.params, jax.random.key(9))
    )  # g = 2E₁[..]
    assert_within_se(est, expected, np.sqrt((0.5 - expected**2) / num), z=5.0, what="Gaussian MC data term")


def test_validation():
    w0 = np.zeros(N) + 0.01
    with pytest.raises(ValueError, match="m "):
        ising_data_term(w0, J1, m=64)
    with pytest.raises(ValueError, match="coupling"):
        ising_data_term(w0, float("nan"))
    with pytest.raises(ValueError, match="mc_samples"):
        monte_carlo_data_term(Ising(n=N), 0)
