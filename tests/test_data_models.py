"""Every data model against its closed forms: covariance, marginal moments, labels, determinism."""

import math

import jax
import numpy as np
import pytest

from conftest import assert_within_se
from rfloc.data import NLGP, Elliptical, GaussianGP, Ising, Kur, from_dict
from rfloc.data import ring as ring_mod
from rfloc.data.marginals import kur_kurtosis, kur_std

MODELS = [
    GaussianGP(n=20),
    NLGP(n=20, gain=3.0),
    NLGP(n=20, gain=100.0),
    Kur(n=20, k=10.0),
    Kur(n=20, k=5.0),
    Ising(n=20),
    Elliptical(n=20, radial="t", nu=5.0),
    Elliptical(n=20, radial="shell"),
    Elliptical(n=20, radial="custom"),
]


@pytest.mark.parametrize("model", MODELS, ids=repr)
@pytest.mark.parametrize("label", [0, 1])
def test_class_covariance(model, label, check_covariance):
    check_covariance(model, label=label)


@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_marginal_mean_zero_variance_one(model):
    x, _ = model.sample(jax.random.key(3), 100_000)
    x = np.asarray(x, np.float64).ravel()
    # Coordinates are correlated, so use per-sample means over the ring as the i.i.d. unit of the SE.
    rows = x.reshape(100_000, -1)
    se_mean = rows.mean(1).std() / math.sqrt(rows.shape[0])
    sq = (rows**2).mean(1)
    assert_within_se(x.mean(), 0.0, se_mean, what="mean")
    assert_within_se(sq.mean(), model.marginal.variance, sq.std() / math.sqrt(len(sq)), what="variance")


@pytest.mark.parametrize(
    "model",
    [
        NLGP(n=20, gain=3.0),
        NLGP(n=20, gain=0.5),
        Kur(n=20, k=10.0),
        Kur(n=20, k=30.0),
        Elliptical(n=20, radial="shell"),
        Elliptical(n=20, radial="custom"),
        Elliptical(n=20, nu=12.0),
    ],
    ids=repr,
)
def test_kurtosis_matches_exact(model):
    # E[x⁴] needs a finite 8th moment for a meaningful SE: true for all laws listed here.
    x, _ = model.sample(jax.random.key(4), 200_000)
    q = (np.asarray(x, np.float64) ** 4).mean(1)
    assert_within_se(q.mean(), model.marginal.kurtosis, q.std() / math.sqrt(len(q)), what="E[x^4]")


def test_mean_abs_matches_samples():
    for model in MODELS:
        x, _ = model.sample(jax.random.key(5), 50_000)
        a = np.abs(np.asarray(x, np.float64)).mean(1)
        assert_within_se(a.mean(), model.marginal.mean_abs, a.std() / math.sqrt(len(a)), what=repr(model))


def test_kur_constants_match_spec():
    # Values stated in SPEC §1 (computed there independently of this code).
    for k, s in [(3, 1.0000), (4, 0.7740), (5, 0.69503), (10, 0.60506), (30, 0.58046)]:
        assert kur_std(k) == pytest.approx(s, abs=6e-5)
    for k, kappa in [(5, 4.285), (6, 2.922), (10, 2.070), (30, 1.826)]:
        assert kur_kurtosis(k) == pytest.approx(kappa, abs=1e-3)
    assert math.isinf(kur_kurtosis(4)) and math.isinf(Kur(k=3.5).marginal.kurtosis)


def test_excess_kurtosis_signs():
    assert Kur(k=5.0).marginal.excess_kurtosis > 0
    assert Kur(k=10.0).marginal.excess_kurtosis < 0
    gains = [0.05, 0.5, 1.0, 3.0, 100.0]
    kurt = [NLGP(gain=g).marginal.kurtosis for g in gains]
    assert all(1.0 < k < 3.0 for k in kurt) and np.all(np.diff(kurt) < 0)  # 3 at g→0, 1 at g→∞
    # Sample estimate of Kur(5): heavy-tailed (biased low) but still clearly above the Gaussian 3.
    x, _ = Kur(n=40, k=5.0).sample(jax.random.key(6), 100_000)
    assert (np.asarray(x, np.float64) ** 4).mean() > 3.3


def test_ising_exact_distribution_on_small_ring():
    # Enumerate all 2^5 states of a 5-site ring: frequencies must match exp(J Σ s_i s_{i+1}) / Z.
    n, coupling, num = 5, 0.7, 200_000
    model = Ising(n=n, J=(coupling, coupling))
    x, _ = model.sample(jax.random.key(7), num)
    codes = ((np.asarray(x) > 0).astype(int) * (2 ** np.arange(n))).sum(1)
    freq = np.bincount(codes, minlength=2**n) / num
    states = np.array([[1 if (c >> i) & 1 else -1 for i in range(n)] for c in range(2**n)])
    energy = (states * np.roll(states, -1, axis=1)).sum(1)
    p = np.exp(coupling * energy)
    p /= p.sum()
    assert_within_se(freq, p, np.sqrt(p * (1 - p) / num), what="state frequencies")


def test_ising_spins_and_closed_form_correlation():
    model = Ising(n=12, J=(-0.4, 0.9))
    x, _ = model.sample(jax.random.key(8), 1000)
    assert set(np.unique(np.asarray(x))) == {-1.0, 1.0}
    t = math.tanh(0.9)
    d = ring_mod.ring_distance(12)
    np.testing.assert_allclose(model.class_covariance(1), (t**d + t ** (12 - d)) / (1 + t**12))


@pytest.mark.parametrize("p", [0.5, 0.2])
def test_class_proportion(p):
    num = 100_000
    _, y = GaussianGP(class_proportion=p).sample(jax.random.key(9), num)
    assert_within_se(np.asarray(y).mean(), p, math.sqrt(p * (1 - p) / num), what="P(y=1)")
    _, yb = GaussianGP(class_proportion=p, balanced=True).sample(jax.random.key(9), 1000)
    assert int(np.asarray(yb).sum()) == round(p * 1000)


def test_two_d_covariance_is_kronecker(check_covariance):
    model = NLGP(n=8, dim=2, xi=(1.0, 2.0), gain=3.0)
    c = GaussianGP(n=8, dim=2, xi=(1.0, 2.0)).class_covariance(1)
    np.testing.assert_allclose(c, np.kron(ring_mod.kernel(8, 2.0, 1), ring_mod.kernel(8, 2.0, 1)))
    x, _ = model.sample(jax.random.key(10), 10)
    assert x.shape == (10, 64) and model.shape == (8, 8)
    check_covariance(model)
    check_covariance(GaussianGP(n=12, dim=2, xi=(1.0, 2.0)))  # n² = 144 > dense threshold: FFT path


def test_elliptical_is_not_gaussian():
    # Same covariance as the GP, but the radius law differs: shell has κ = 3N/(N+2) < 3, t(ν=3) ≫ 3.
    x, _ = Elliptical(n=20, radial="shell").sample(jax.random.key(11), 100_000)
    q = (np.asarray(x, np.float64) ** 4).mean(1)
    assert q.mean() + Z_SE * q.std() / math.sqrt(len(q)) < 3.0
    x, _ = Elliptical(n=20, radial="t", nu=3.0).sample(jax.random.key(11), 100_000)
    norms = (np.asarray(x, np.float64) ** 2).mean(1)  # a Gaussian's would concentrate near 1
    assert np.quantile(norms, 0.99) > 5.0


Z_SE = 6.0


def test_deterministic_jittable_vmappable():
    model = NLGP(n=16, gain=3.0)
    a = model.sample(jax.random.key(0), 32)
    b = model.sample(jax.random.key(0), 32)
    c = model.sample(jax.random.key(1), 32)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    assert a[0].dtype == np.float32 and a[1].dtype == np.int32
    batched = jax.vmap(lambda k: model.sample(k, 8))(jax.random.split(jax.random.key(2), 3))
    assert batched[0].shape == (3, 8, 16)
    jitted = jax.jit(lambda k: Ising(n=10).sample(k, 4)[0])(jax.random.key(0))
    assert jitted.shape == (4, 10)


def test_config_round_trip():
    for model in MODELS:
        assert from_dict(model.to_dict()) == model
    assert hash(NLGP(gain=3.0)) == hash(NLGP(gain=3.0, xi=[1, 3]))
