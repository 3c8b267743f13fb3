"""2-D (torus) effective dynamics: FFT operator, reduction to the ring, Monte Carlo map vs exact φ."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rfloc.data import NLGP, GaussianGP
from rfloc.theory import effective_dynamics
from rfloc.theory.data_term import monte_carlo_data_term
from rfloc.theory.dynamics import iterate_map
from rfloc.theory.torus import (
    torus_class_operators,
    torus_data_term,
    torus_dynamics,
    torus_operator,
    torus_peak_distance,
)


def test_fft_operator_equals_dense_product():
    n = 6
    model = NLGP(n=n, dim=2, xi=(1.0, 2.0), gain=100.0)
    w = np.random.default_rng(0).normal(size=(3, n * n)).astype(np.float32)
    for y, op in enumerate(torus_class_operators(model)):
        dense = np.asarray(model.class_covariance(y), np.float64)
        np.testing.assert_allclose(op.dense(), dense, atol=1e-6)  # float32 spectrum
        # float32 FFT round-off: ~1e-6 relative to the largest eigenvalue (< 9) times |w| (~few)
        np.testing.assert_allclose(np.asarray(op @ jnp.asarray(w)), w @ dense, atol=1e-4)


def test_operator_rejects_asymmetric_row():
    with pytest.raises(ValueError, match="first_row"):
        torus_operator(np.arange(16.0))


def test_reduces_to_ring_for_covariance_constant_along_one_axis():
    # Data constant along axis 2, x(i1, i2) = z(i1), z a ring NLGP: Σ_y = c_y(d1) for every d2. For
    # w(i1, i2) = v(i1) one has s = w·x = n v·z, Σw = n C v and wᵀΣw = n² vᵀC v; with u = n v the 2-D
    # velocity is (1/n) × the ring velocity at u (a(w) = a_ring(u) broadcast). So w(t) = u(n t)/n with u the
    # ring flow from u0 = n v0: the map with step lr in 2-D is the ring map with step n·lr.
    n, lr, steps = 8, 0.02, 60
    ring = NLGP(n=n, dim=1, xi=(1.0, 2.0), gain=3.0)
    cov = [np.asarray(ring.class_covariance(y)) for y in (0, 1)]
    ops = [torus_operator(np.repeat(c[0][:, None], n, axis=1)) for c in cov]
    v0 = np.random.default_rng(1).normal(size=n).astype(np.float32) * 0.1
    w0 = np.repeat(v0[:, None], n, axis=1).reshape(-1)
    term = torus_data_term(NLGP(n=n, dim=2, xi=(1.0, 2.0), gain=3.0), "phi", ops[1], 1)
    p = ring.class_proportion
    decay = (1 - p) * ops[0] + p * ops[1]
    w = np.asarray(iterate_map(term, jnp.asarray(w0), p, decay, lr, steps, 1))[-1].reshape(n, n)
    u = effective_dynamics(ring, n * v0, [n * lr * steps], integrator="map", lr=n * lr, covariance=tuple(cov))
    np.testing.assert_allclose(w, np.repeat(u.final[:, None] / n, n, axis=1), rtol=1e-4, atol=1e-6)


def test_monte_carlo_map_matches_exact_phi_on_gaussian_torus_within_mc_error():
    # Gaussian data: g(w) = 2E₁[1{s>0}x] = √(2/π)a exactly (the "exact" φ of a Gaussian marginal). One map
    # step from the same w differs only by lr·p·(g_MC − g). g_MC,i = (2/M)Σ_m 1{s_m>0}x_mi is a sample mean
    # of M iid terms with variance 4(E[1{s>0}x_i²] − (a_i/√(2π))²) = 2 − 2a_i²/π (E[1{s>0}x_i²] = ½ by
    # x → −x symmetry), so its standard error is √((2 − 2a_i²/π)/M). Checked at 5 states of the exact
    # trajectory: every coordinate within 5 SE (union bound over 5·N = 320 coordinates: P(fail) < 2e-4),
    # and the mean z² within 1 ± 0.5 (a too-wide or too-narrow MC spread fails).
    n, lr, m = 8, 0.1, 20_000
    model = GaussianGP(n=n, dim=2, xi=(1.0, 2.0))
    w0 = np.random.default_rng(2).normal(size=(1, n * n)).astype(np.float32) * 0.01
    traj = torus_dynamics(model, w0, lr, steps=40, records=4)[0]  # (5, N) states along the exact map
    s0, s1 = torus_class_operators(model)
    p = model.class_proportion
    decay = (1 - p) * s0 + p * s1
    exact = torus_data_term(model, "phi", s1, 1)
    mc = monte_carlo_data_term(model, m)
    step = jax.jit(jax.vmap(lambda term, w, k: iterate_map(term, w, p, decay, lr, 1, 1, k)[-1], (None, 0, 0)))
    keys = jax.random.split(jax.random.key(10), traj.shape[0])
    diff = np.asarray(step(mc, jnp.asarray(traj), keys)) - np.asarray(step(exact, jnp.asarray(traj), keys))
    s1w = np.asarray(s1 @ jnp.asarray(traj))
    a = s1w / np.sqrt(np.sum(traj * s1w, axis=-1, keepdims=True))
    z = diff / (lr * p * np.sqrt((2 - 2 * a**2 / np.pi) / m))
    assert np.max(np.abs(z)) < 5
    assert 0.5 < np.mean(z**2) < 1.5


def test_torus_peak_distance_wraps():
    n = 10
    assert torus_peak_distance(0, 9 * n + 9, n) == 1  # (0, 0) and (9, 9) are diagonal neighbours
    assert torus_peak_distance(0, 5 * n, n) == 5
    assert torus_peak_distance(3 * n + 4, 3 * n + 4, n) == 0


def test_torus_dynamics_validates():
    model = NLGP(n=4, dim=2, xi=(1.0, 2.0), gain=3.0)
    with pytest.raises(ValueError, match="w0"):
        torus_dynamics(model, np.ones((2, 5)), 0.1, 10)
    with pytest.raises(ValueError, match="dim"):
        torus_class_operators(NLGP(n=4, dim=1))
