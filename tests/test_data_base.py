"""Data models as pytrees: leaves are the continuous parameters, a stack of models vmaps with one
compiled program, and every derived quantity computed in jnp from traced parameters matches the float64
host value."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rfloc.data import NLGP, Elliptical, GaussianGP, Ising, Kur, NaturalImages, stack, unstack

# float32 evaluation of the closed forms: a few ulps (2⁻²³ ≈ 1.2e-7) relative; FFT-based kernels and the
# 160² Gauss–Hermite sums accumulate ~n or ~order² roundings of that size, hence 2e-5 absolute there.
RTOL_CLOSED = 2e-6
ATOL_SUMS = 2e-5

FAMILIES = {
    "gaussian": [GaussianGP(n=12, xi=(1.0, x)) for x in (2.0, 3.0, 5.0)],
    "nlgp": [NLGP(n=12, gain=g, xi=(1.0, 2.5)) for g in (0.05, 1.0, 3.0, 100.0)],
    "kur": [Kur(n=12, k=k) for k in (2.5, 5.0, 10.0)],
    "ising": [Ising(n=12, J=(j, -j)) for j in (0.1, 0.7, 2.0)],
    "elliptical": [Elliptical(n=12, radial="t", nu=v) for v in (2.5, 5.0, 12.0)],
    "nlgp-2d": [NLGP(n=6, dim=2, gain=g) for g in (0.5, 3.0)],
    "kur-2d": [Kur(n=6, dim=2, k=k, xi=(0.8, 1.5)) for k in (5.0, 10.0)],
}


def test_leaves_are_the_parameters():
    model = NLGP(n=16, xi=(1.0, 3.0), gain=2.0, class_proportion=0.3)
    leaves, treedef = jax.tree.flatten(model)
    assert leaves == [0.3, 1.0, 3.0, 2.0]
    assert jax.tree.unflatten(treedef, leaves) == model
    assert hash(jax.tree.unflatten(treedef, leaves)) == hash(model)
    # Static fields are part of the structure: equal shapes share it, other shapes do not.
    assert jax.tree.structure(NLGP(n=16, gain=5.0)) == treedef
    assert jax.tree.structure(NLGP(n=20, gain=2.0)) != treedef
    assert jax.tree.structure(Elliptical(radial="t")) != jax.tree.structure(Elliptical(radial="shell"))


@pytest.mark.parametrize("family", FAMILIES)
def test_traced_covariances_match_host(family):
    models = FAMILIES[family]
    traced = jax.jit(jax.vmap(lambda m: (m.class_covariance(0), m.class_covariance(1))))(stack(models))
    for b, m in enumerate(models):
        for label in (0, 1):
            np.testing.assert_allclose(traced[label][b], m.class_covariance(label), atol=ATOL_SUMS)


@pytest.mark.parametrize("family", ["nlgp", "kur", "elliptical"])
def test_traced_marginals_match_host(family):
    models = FAMILIES[family]
    kurt, mean_abs = jax.jit(jax.vmap(lambda m: (m.marginal.kurtosis, m.marginal.mean_abs)))(stack(models))
    for b, m in enumerate(models):
        if math.isinf(m.marginal.kurtosis):
            assert np.isinf(kurt[b])
        else:  # 1e-5: the jnp rule for NLGP is a fixed composite Gauss–Legendre rule in float32
            assert float(kurt[b]) == pytest.approx(m.marginal.kurtosis, rel=1e-5)
        assert float(mean_abs[b]) == pytest.approx(m.marginal.mean_abs, rel=1e-5)


@pytest.mark.slow
def test_traced_samples_match_host_samples():
    # Same key, same white noise: traced and host constants differ only by float32 rounding.
    key = jax.random.key(3)
    draw = jax.jit(jax.vmap(lambda m: m.sample(key, 64)))
    for family in ("nlgp", "kur", "ising", "elliptical"):
        models = FAMILIES[family][:2]  # each host model compiles its own sampler: keep the test short
        batch = draw(stack(models))
        for b, m in enumerate(models):
            x, y = m.sample(key, 64)
            np.testing.assert_array_equal(batch[1][b], y)
            scale = float(np.abs(np.asarray(x)).max())
            np.testing.assert_allclose(batch[0][b], x, rtol=1e-4, atol=1e-4 * scale)


def test_sweep_compiles_once():
    traces = 0

    def fourth_moment(model, key):
        nonlocal traces
        traces += 1  # runs only while tracing
        x, _ = model.sample(key, 4096)
        return jnp.mean(x**4)

    sweep = jax.jit(jax.vmap(fourth_moment, in_axes=(0, None)))
    key = jax.random.key(5)
    gains = [0.3, 1.0, 3.0, 10.0]
    first = sweep(stack([NLGP(n=20, gain=g) for g in gains]), key)
    second = sweep(stack([NLGP(n=20, gain=2 * g) for g in gains]), key)
    assert traces == 1
    assert np.all(np.asarray(second) < np.asarray(first))  # larger gain: lighter tails (κ decreases)
    for g, a in zip(gains, first, strict=True):
        # Per-model host runs draw the same numbers; float32 constants: relative 1e-4 on a mean of x⁴.
        ref = jnp.mean(NLGP(n=20, gain=g).sample(key, 4096)[0] ** 4)
        assert float(a) == pytest.approx(float(ref), rel=1e-4)

    covs = 0

    def ising_cov(model):
        nonlocal covs
        covs += 1
        return model.class_covariance(1)

    couplings = [-0.5, 0.2, 0.9]
    out = jax.jit(jax.vmap(ising_cov))(stack([Ising(n=10, J=(0.0, j)) for j in couplings]))
    out2 = jax.jit(jax.vmap(ising_cov))(stack([Ising(n=10, J=(0.0, j / 2)) for j in couplings]))
    assert covs == 2  # one trace per jax.jit wrapper above, none per coupling
    for j, c, c2 in zip(couplings, out, out2, strict=True):
        np.testing.assert_allclose(
            c, Ising(n=10, J=(0.0, j)).class_covariance(1), rtol=RTOL_CLOSED, atol=1e-7
        )
        np.testing.assert_allclose(
            c2, Ising(n=10, J=(0.0, j / 2)).class_covariance(1), rtol=RTOL_CLOSED, atol=1e-7
        )


def test_array_parameters_sample_with_one_program():
    model = jax.tree.map(jnp.asarray, NLGP(n=16, gain=3.0))
    assert not model.on_host
    x, y = model.sample(jax.random.key(0), 32)
    ref = NLGP(n=16, gain=3.0).sample(jax.random.key(0), 32)
    np.testing.assert_allclose(x, ref[0], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="jax.vmap"):
        stack([NLGP(gain=1.0), NLGP(gain=2.0)]).sample(jax.random.key(0), 4)


def test_traced_construction_and_replace():
    # A model built from a traced parameter skips validation; the result follows the parameter.
    f = jax.jit(lambda g: NLGP(n=10, gain=g).class_covariance(1))
    np.testing.assert_allclose(f(2.0), NLGP(n=10, gain=2.0).class_covariance(1), rtol=RTOL_CLOSED, atol=1e-7)
    base = Ising(n=10, class_proportion=0.5)
    labels = jax.jit(
        lambda p: dataclasses.replace(base, class_proportion=p).sample(jax.random.key(1), 4000)[1]
    )
    assert abs(float(labels(0.2).mean()) - 0.2) < 6 * math.sqrt(0.2 * 0.8 / 4000)
    balanced = dataclasses.replace(base, balanced=True)
    ones = jax.jit(
        lambda p: dataclasses.replace(balanced, class_proportion=p).sample(jax.random.key(1), 1000)[1]
    )
    assert int(ones(0.3).sum()) == 300


def test_stack_and_unstack():
    models = [Kur(n=12, k=k, xi=(1.0, 1.0 + k)) for k in (3.0, 5.0)]
    stacked = stack(models)
    assert np.shape(stacked.k) == (2,) and np.shape(stacked.xi[1]) == (2,)
    assert unstack(stacked) == models
    with pytest.raises(ValueError, match="n: 12 vs 14"):
        stack([Kur(n=12), Kur(n=14)])
    with pytest.raises(ValueError, match="is a NLGP"):
        stack([Kur(n=12), NLGP(n=12)])
    with pytest.raises(ValueError, match="at least one"):
        stack([])


def test_stacked_parameters_are_validated():
    with pytest.raises(ValueError, match="^gain "):
        NLGP(gain=np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"^J\[1\] "):
        Ising(J=(np.array([0.1, 0.2]), np.array([0.3, np.nan])))
    assert np.shape(NLGP(gain=np.array([1.0, 2.0])).gain) == (2,)
    assert NLGP(gain=np.float32(2.0)) == NLGP(gain=2.0)  # numpy scalars normalize to Python floats


def test_images_keep_their_pixels_through_pytree_ops():
    model = NaturalImages(n=8, dim=1)
    leaves, treedef = jax.tree.flatten(model)
    assert leaves == [0.5]
    x, _ = jax.jit(lambda m: m.sample(jax.random.key(0), 16))(model)
    np.testing.assert_array_equal(x, model.sample(jax.random.key(0), 16)[0])
