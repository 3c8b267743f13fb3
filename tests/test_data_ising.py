"""The exact Ising sampler: its conditional flip law against full enumeration, and its samples against
the enumerated law (chi-square) and the closed-form correlations."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from rfloc.data import Ising
from rfloc.data.ising import flip_table, flip_thresholds, ring_correlation


def enumerated_law(n: int, coupling: float) -> tuple[np.ndarray, np.ndarray]:
    """All 2^n states (row c: bit i of c gives s_i = +1) and their probabilities ∝ exp(J Σ s_i s_{i+1})."""
    states = np.array(list(itertools.product([-1, 1], repeat=n)))[:, ::-1]
    energy = (states * np.roll(states, -1, axis=1)).sum(1)
    p = np.exp(coupling * energy)
    return states, p / p.sum()


@pytest.mark.parametrize("coupling", [0.7, -0.4, 2.5, 0.0])
def test_flip_table_is_the_exact_conditional_law(coupling):
    # P(s_{i+1} = −s_i | s_1..s_i) from the enumerated joint law depends only on a_i = s_i s_1.
    n = 7
    states, p = enumerated_law(n, coupling)
    table = flip_table(n, coupling)
    for i in range(1, n):  # 0-based site i+1 given sites 0..i−1
        for prefix in itertools.product([-1, 1], repeat=i):
            match = np.all(states[:, :i] == prefix, axis=1)
            flip = match & (states[:, i] == -prefix[-1])
            exact = p[flip].sum() / p[match].sum()
            col = 0 if prefix[-1] * prefix[0] > 0 else 1
            assert table[i - 1, col] == pytest.approx(exact, abs=1e-12)


def test_thresholds_and_traced_table():
    n, couplings = 40, (0.3, -1.2)
    host = flip_thresholds(n, couplings)
    exact = np.stack([flip_table(n, j) for j in couplings])
    # Integer thresholds: P(u < T) = T / 2³² is within 2⁻³² of the float64 probability.
    assert np.all(np.abs(host / 2.0**32 - exact) <= 2.0**-32)
    traced = jax.jit(lambda j: flip_thresholds(n, (j[0], j[1]), jnp))(jnp.asarray(couplings))
    # float32 probabilities: relative error of a few ulps (2⁻²³ ≈ 1.2e-7), so |ΔP| < 1e-6.
    assert np.max(np.abs(np.asarray(traced, np.float64) - host) / 2.0**32) < 1e-6


@pytest.mark.parametrize(("n", "couplings"), [(8, (-0.5, 0.9)), (5, (1.5, 0.2))])
def test_samples_follow_the_enumerated_law(n, couplings):
    # Chi-square goodness of fit over all 2^n states of each class; the critical value has false-alarm
    # probability 1e-6 per test, so a failure means the law is wrong, not bad luck.
    num = 200_000
    x, y = Ising(n=n, J=couplings).sample(jax.random.key(12), num)
    x, y = np.asarray(x), np.asarray(y)
    for label, coupling in enumerate(couplings):
        rows = x[y == label]
        codes = ((rows > 0).astype(int) * (2 ** np.arange(n))).sum(1)
        counts = np.bincount(codes, minlength=2**n)
        states, p = enumerated_law(n, coupling)
        expected = p * len(rows)
        stat = ((counts - expected) ** 2 / expected).sum()
        assert stat < scipy.stats.chi2.ppf(1 - 1e-6, df=2**n - 1), f"class {label}: chi2 {stat:.1f}"
        tv = 0.5 * np.abs(counts / len(rows) - p).sum()
        # E[TV] ≤ ½ Σ √(p(1−p)/m) ≤ ½ √(2^n / m); allow 3× that bound.
        assert tv < 1.5 * math.sqrt(2**n / len(rows)), f"class {label}: TV {tv:.4f}"


@pytest.mark.parametrize(("n", "coupling"), [(40, 0.7), (41, -0.8), (40, 3.0)])
def test_closed_form_correlations(n, coupling, check_covariance):
    # Frustrated odd ring (J < 0, n odd) and a strongly coupled ring exercise the ring-closing term t^m.
    check_covariance(Ising(n=n, J=(0.3, coupling)), num=50_000, label=1)


def test_traced_correlation_matches_host():
    n = 12
    for coupling in (-0.9, 0.3, 1.7):
        traced = jax.jit(lambda j: ring_correlation(n, j, jnp))(coupling)
        # float32 evaluation of (t^d + t^{n−d}) / (1 + t^n): relative error of a few ulps.
        np.testing.assert_allclose(traced, ring_correlation(n, coupling), rtol=1e-6, atol=1e-7)
