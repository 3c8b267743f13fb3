"""The effective dynamics dw/dt = p·g(w) − ((1 − p)Σ_0 + pΣ_1)w (SPEC §3): against SGD, against its own
identities, with each data term and integrator, and its pure JAX core (differentiable, labelled results)."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rfloc
from conftest import assert_within_se
from rfloc.data import NLGP, GaussianGP, Ising, Kur
from rfloc.metrics import ipr, peak_index, peaks_agree
from rfloc.nn import NetConfig
from rfloc.theory import (
    DataTerm,
    amplifier_from_samples,
    effective_dynamics,
    ising_data_term,
    iterate_map,
    make_data_term,
    predict,
    sgd_noise,
    solve_ode,
)
from rfloc.train import TrainConfig, train_many

SQ = np.sqrt(2 / np.pi)


def w_random(n, r=None, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n,) if r is None else (r, n)) * scale / np.sqrt(n)).astype(np.float32)


# -- the constants --------------------------------------------------------------------------------------
def test_velocity_is_the_expected_sgd_step_on_gaussian_data():
    """For Gaussian data φ = √(2/π)a is exact, so the velocity must equal −E[∇ loss] =
    2E[(y − ReLU(s))1{s>0}x] (loss = (ŷ − y)², no ½) — checked against a Monte Carlo mean, 6 SE per entry."""
    model = GaussianGP(n=12, class_proportion=0.3)  # p ≠ ½ tests where p enters
    w = w_random(12, seed=1, scale=2.0)
    one_step = effective_dynamics(model, w, [0.0, 1.0], phi="exact", integrator="map", lr=1.0)
    velocity = one_step.weights[1].astype(np.float64) - w  # one map step of lr = 1 is the velocity
    x, y = model.sample(jax.random.key(7), 400_000)
    x, y = np.asarray(x, np.float64), np.asarray(y)
    s = x @ w
    g = 2 * ((y - np.maximum(s, 0)) * (s > 0))[:, None] * x
    assert_within_se(velocity, g.mean(0), g.std(0) / np.sqrt(len(g)), what="velocity vs -E[grad]")


def test_authors_map_is_the_exact_map_of_twice_the_weights():
    # p = ½: w ← w + lr(φ − ½(Σ0+Σ1)w) started at 2w0 equals 2 × (w ← w + lr(½φ − ½(Σ0+Σ1)w) from w0),
    # because a(w) is scale-free (SPEC §3).
    model = Ising(n=16)
    w0 = w_random(16, r=3, seed=2, scale=0.01)
    times = 0.05 * np.arange(0, 201, 20)
    ours = effective_dynamics(model, w0, times, integrator="map", lr=0.05)
    theirs = effective_dynamics(model, 2 * w0, times, integrator="authors", lr=0.05)
    np.testing.assert_allclose(theirs.weights, 2 * ours.weights, rtol=1e-4, atol=1e-6)
    assert theirs.integrator == "authors" and ours.integrator == "map" and "authors" in theirs.describe()


def test_map_converges_to_the_ode_at_first_order():
    # The map is Euler with step lr: its global error at fixed t is O(lr), so halving lr halves it.
    model = NLGP(n=12, gain=3.0)
    w0 = w_random(12, r=2, seed=3)
    times = np.linspace(0.0, 2.0, 6)
    ode = effective_dynamics(model, w0, times, rtol=1e-7, atol=1e-10).weights
    err = [
        np.abs(effective_dynamics(model, w0, times, integrator="map", lr=lr).weights - ode).max()
        for lr in (0.02, 0.01)
    ]
    assert 0.4 < err[1] / err[0] < 0.6, err
    assert err[1] < 0.02 * np.abs(ode[:, -1] - ode[:, 0]).max()


def test_batched_initial_conditions_equal_single_runs():
    model = Kur(n=12, k=6.0)
    w0 = w_random(12, r=2, seed=4)
    times = np.linspace(0, 5, 6)
    both = effective_dynamics(model, w0, times, phi="cubic")
    assert both.weights.shape == (2, 6, 12) and both.num_steps.shape == (2,)
    for r in range(2):
        one = effective_dynamics(model, w0[r], times, phi="cubic")
        assert one.weights.shape == (6, 12)
        np.testing.assert_allclose(one.weights, both.weights[r], rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(both.weights[:, 0], w0)  # t = 0 is w0 itself


def test_sampled_phi_and_empirical_covariance_agree_with_exact():
    model = Kur(n=12, k=6.0)
    w0 = w_random(12, r=2, seed=5)
    times = np.linspace(0.0, 3.0, 6)
    exact = effective_dynamics(model, w0, times).final
    x = np.asarray(model.marginal.transform(np.random.default_rng(0).normal(size=20_000), xp=np), np.float32)
    sampled = effective_dynamics(model, w0, times, phi=lambda a: amplifier_from_samples(x, a)).final
    empirical = effective_dynamics(model, w0, times, covariance="empirical", num_samples=200_000).final
    # Monte Carlo φ (2e4 samples) and Σ (2e5) have relative errors ~ 1/√M ≤ 7e-3 per entry; allow 5 %.
    scale = np.abs(exact).max()
    assert np.abs(sampled - exact).max() < 0.05 * scale
    assert np.abs(empirical - exact).max() < 0.05 * scale


def test_bad_arguments_raise():
    model = Ising(n=8)
    w0 = w_random(8)
    with pytest.raises(ValueError, match="integrator"):
        effective_dynamics(model, w0, [0, 1], integrator="euler")
    with pytest.raises(ValueError, match="w0"):
        effective_dynamics(model, w0[:5], [0, 1])
    with pytest.raises(ValueError, match="w0"):
        effective_dynamics(model, np.zeros(8), [0, 1])
    with pytest.raises(ValueError, match="times"):
        effective_dynamics(model, w0, [1, 0.5])
    with pytest.raises(ValueError, match="lr"):
        effective_dynamics(model, w0, [0, 1], integrator="map")
    with pytest.raises(ValueError, match="multiples of lr"):
        effective_dynamics(model, w0, [0, 0.125], integrator="map", lr=0.05)
    with pytest.raises(ValueError, match="phi"):
        effective_dynamics(model, w0, [0, 1], phi="quartic")
    with pytest.raises(ValueError, match="kappa"):
        effective_dynamics(Kur(n=8, k=4.0), w0, [0, 1], phi="cubic")
    with pytest.raises(ValueError, match="class_proportion"):
        effective_dynamics(model, w0, [0, 1], class_proportion=1.5)
    with pytest.raises(ValueError, match="covariance"):
        effective_dynamics(model, w0, [0, 1], covariance="sample")


# -- item 1: the ODE is exact for Gaussian data -------------------------------------------------------
@pytest.mark.slow
def test_ode_matches_sgd_on_gaussian_data_within_batch_noise():
    """Large-batch SGD of the single ReLU neuron vs the ODE from the same w0 at t = lr × steps, no fit.

    Bound: SGD = map + e, with e the linear response to the batch noise (``sgd_noise``: P_{k+1} = J P Jᵀ +
    lr² C_g/B with the measured per-sample gradient covariance C_g), and map − ODE the deterministic Euler
    error, computed. So at every record ‖w_SGD − w_ODE‖ ≤ ‖map − ODE‖ + 4·√tr P (‖e‖/√tr P is O(1): a
    chi-like variable with mean ≈ 1; 4 leaves a wide margin over 3 seeds × 20 records).
    init_scale 1: ‖w0‖ ≈ 1.4, so the linear response is valid from the first step (see sgd_noise).
    """
    model = GaussianGP(n=16)
    lr, steps, batch, seeds = 0.05, 200, 4000, [0, 1, 2]
    config = TrainConfig(
        data=model, net=NetConfig(init_scale=1.0), lr=lr, batch_size=batch, steps=steps, eval_every=10
    )
    res = train_many(config, seeds=seeds)
    sim = res.weights[0, :, :, 0, :].astype(np.float64)  # (S, T, N)
    w0, t = sim[:, 0], res.time[0]
    ode = effective_dynamics(model, w0, t, phi="exact").weights
    every = lr * np.arange(steps + 1)
    path = effective_dynamics(model, w0, every, integrator="map", lr=lr).weights
    rms = sgd_noise(model, path, lr, batch, jax.random.key(11), num_samples=4000)[:, ::10]
    euler = np.linalg.norm(path[:, ::10] - ode, axis=-1)
    err = np.linalg.norm(sim - ode, axis=-1)
    assert np.all(err <= euler + 4 * rms + 1e-6), (err / (euler + rms + 1e-9)).max()
    moved = np.linalg.norm(ode - ode[:, :1], axis=-1).max(axis=1)
    assert np.all(err.max(axis=1) < 0.05 * moved)  # the test has teeth: the trajectory moved ≫ the bound
    # Negative control: the authors' constants (φ doubled against the decay) break the same bound.
    authors = effective_dynamics(model, w0, t, integrator="authors", lr=lr).weights
    miss = np.linalg.norm(sim - authors, axis=-1)
    assert np.all(np.any(miss > euler + 4 * rms, axis=1))


# -- item 4: Ising localizes from the trained neuron's w0, Gaussian does not --------------------------
@pytest.fixture(scope="module")
def ising_run():
    model = Ising(n=20)
    config = TrainConfig(
        data=model, net=NetConfig(init_scale=0.001), lr=0.05, batch_size=4000, steps=400, eval_every=20
    )
    res = train_many(config, seeds=[0])
    return model, res.weights[0, 0, :, 0, :], res.time[0]


@pytest.mark.slow
def test_ising_ode_localizes_and_peaks_where_sgd_peaks(ising_run):
    model, sim, t = ising_run
    w0 = sim[0]
    exact = effective_dynamics(model, w0, t, phi="exact").weights
    cubic = effective_dynamics(model, w0, t, phi="cubic").weights
    linear = effective_dynamics(model, w0, t, phi="gaussian").weights  # same Σ, Gaussian amplifier
    ipr_exact, ipr_linear = np.asarray(ipr(exact[-1])), np.asarray(ipr(linear[-1]))
    assert ipr_exact > 3 * ipr_linear  # localizes: IPR well above the Gaussian case
    assert np.asarray(ipr(cubic[-1])) > 1.5 * ipr_linear  # the cubic law localizes too, more weakly
    # Peak: the ODE's final peak is the simulation's, within ±1 site on the ring (fixed seed 0).
    n = model.n
    sim_peak = peak_index(sim[-1])
    assert bool(peaks_agree(peak_index(exact[-1]), sim_peak, n, tol=1))
    assert bool(peaks_agree(peak_index(cubic[-1]), sim_peak, n, tol=1))

    # Early direction (first 100 steps): the nonlinear amplifier predicts SGD's direction better than the
    # linear one; cosine similarity above 0.9 where the simulation's IPR has not yet grown twofold.
    def cos(u, v):
        return (u * v).sum(-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)

    early = slice(1, 6)
    assert np.all(cos(exact[early], sim[early]) > 0.9)
    assert np.all(cos(exact[early], sim[early]) > cos(linear[early], sim[early]))
    # predict() states the same, with its stated criterion (IPR >= 2 × Gaussian control).
    pred = predict(model, w0, float(t[-1]), num_times=len(t))
    assert bool(pred.localizes) and int(pred.peak) == int(peak_index(exact[-1]))


@pytest.mark.parametrize("model", [NLGP(n=20, gain=0.01), GaussianGP(n=20), Kur(n=20, k=5.0)])
def test_gaussian_and_heavy_tailed_stay_delocalized(ising_run, model):
    _, sim, t = ising_run
    pred = predict(model, sim[0], float(t[-1]), num_times=len(t))
    assert not bool(pred.localizes)
    assert pred.ipr < 2.0 / model.n  # extended: IPR within 2× of the uniform value 1/N
    assert float(pred.ipr) <= float(ipr(sim[0]))  # it spreads out from w0 rather than concentrating


# -- the exact and Monte Carlo data terms inside the map ------------------------------------------------
def test_exact_ising_map_iterates_the_update():
    n, coupling = 40, 0.7
    model = Ising(n=n, J=(0.3, coupling))
    w0 = 0.01 * np.random.default_rng(4).normal(size=(2, n))
    lr, steps = 0.05, 6
    times = lr * np.array([0, 3, 6])
    out = effective_dynamics(model, w0, times, integrator="map", lr=lr, data_term="ising-dp").weights
    assert out.shape == (2, 3, n)
    p = model.class_proportion
    decay = (1 - p) * model.class_covariance(0) + p * model.class_covariance(1)
    w = w0.astype(np.float32)
    expected = [w]
    for t in range(1, steps + 1):
        w = w + lr * (2 * p * np.asarray(ising_data_term(w, coupling)) - w @ decay.T)
        if t % 3 == 0:
            expected.append(w)
    np.testing.assert_allclose(out, np.stack(expected, axis=1), atol=1e-6)
    # One seed through the (N,) path, and records at uneven step counts (one step per record here).
    single = effective_dynamics(model, w0[0], times, integrator="map", lr=lr, data_term="ising-dp").weights
    np.testing.assert_allclose(single, out[0], atol=1e-7)
    uneven = effective_dynamics(
        model, w0, lr * np.array([3, 5, 6]), integrator="map", lr=lr, data_term="ising-dp"
    )
    np.testing.assert_allclose(uneven.weights[:, [0, 2]], out[:, 1:], atol=1e-7)


def test_gaussian_mc_map_follows_the_exact_effective_map():
    # On Gaussian data φ(a) = √(2/π)a is exact, so the Monte Carlo map must follow the closed-form map
    # w ← w + lr(p√(2/π)a − ((1 − p)Σ0 + pΣ1)w) up to its own noise. R replicate trajectories from one w0:
    # their mean deviates from the closed form by ≤ z·sd/√R (first-order noise propagation; the
    # second-order bias ~|D''|·sd² ≈ 1e-6 is far below the ~3e-4 SE). z = 6 with sd from R = 24 replicates
    # (Student t, 23 dof): P(|t| > 6) ≈ 4e-6 per entry, < 1e-3 over the 160 entries.
    n = 40
    model = GaussianGP(n=n)
    lr, steps, every, reps = 0.05, 20, 5, 24
    w0 = 0.1 * np.random.default_rng(6).normal(size=n)
    times = lr * np.arange(0, steps + 1, every)
    kwargs = dict(integrator="map", lr=lr, key=jax.random.key(7))
    out = effective_dynamics(
        model, np.tile(w0, (reps, 1)), times, data_term="monte-carlo", mc_samples=4_000, **kwargs
    ).weights.astype(np.float64)
    expected = effective_dynamics(model, w0, times, phi="exact", **kwargs).weights  # closed form φ
    se = out.std(axis=0, ddof=1) / np.sqrt(reps)
    np.testing.assert_allclose(out[:, 0], np.tile(w0, (reps, 1)), atol=1e-7)  # time 0 is w0 itself
    assert_within_se(out.mean(axis=0)[1:], expected[1:], se[1:], z=6.0, what="MC map vs closed form")
    assert np.abs(expected[-1] - w0).max() > 100 * se[-1].max()  # the map moved: the test has teeth


def test_data_term_validation():
    model = Ising(n=8)
    w0 = w_random(8)
    with pytest.raises(ValueError, match="Ising"):
        effective_dynamics(GaussianGP(n=8), w0, [0, 1], data_term="ising-dp")
    with pytest.raises(ValueError, match="data_term"):
        effective_dynamics(model, w0, [0, 1], data_term="gauss")
    with pytest.raises(ValueError, match="grid points"):
        effective_dynamics(model, w0, [0, 1], data_term="ising-dp", grid_points=16)
    with pytest.raises(ValueError, match="lr"):
        effective_dynamics(model, w0, [0, 1], integrator="map", lr=-1.0)


# -- the pure JAX core: differentiable, and the labelled result -------------------------------------------
@pytest.mark.slow  # compiles reverse-mode programs of the DP map and of diffrax in float64
def test_gradient_of_final_ipr_matches_finite_differences():
    """d IPR(w_T)/d J through the exact Ising map (J enters the DP's transfer matrix) and d IPR/d c,
    Σ_1 → cΣ_1, through the ODE, against central differences in float64 (error O(ε²), rounding ~1e-16/ε).
    The DP is continuous but piecewise smooth in w (kinks where w_j/h crosses an integer), so its step
    ε = 1e-6 is kept small enough not to straddle a kink (measured: ε = 1e-4 does, by 0.7 %). The Gaussian-φ
    ODE is smooth; rtol 1e-10 makes the adaptive step choices move its value by ≪ ε·1e-4 at ε = 1e-4."""

    def ipr_of(w):
        return jnp.sum(w**4) / jnp.sum(w**2) ** 2

    with jax.enable_x64(True):
        model = Ising(n=10, J=(0.3, 0.7))
        s0, s1 = (jnp.asarray(model.class_covariance(c)) for c in (0, 1))
        decay = 0.5 * (s0 + s1)
        w0 = jnp.asarray(w_random(10, seed=8, scale=0.5), jnp.float64)
        term = make_data_term(model, "ising-dp", None, s1, grid_points=256)

        @jax.jit  # one compile serves the three evaluations below
        def final_ipr_of_coupling(coupling):
            t = DataTerm(term.fn, coupling, term.name)
            return ipr_of(iterate_map(t, w0, 0.5, decay, 0.05, 10, 2)[-1])

        j = jnp.float64(0.7)
        grad = jax.jit(jax.grad(final_ipr_of_coupling))(j)
        eps = 1e-6
        fd = (final_ipr_of_coupling(j + eps) - final_ipr_of_coupling(j - eps)) / (2 * eps)
        assert abs(float(grad)) > 1e-6  # a real dependence
        np.testing.assert_allclose(float(grad), float(fd), rtol=1e-4)

        phi_term = make_data_term(model, "phi", "gaussian", s1)

        @jax.jit
        def final_ipr_of_scale(c):
            sigma = c * s1  # scale class 1's covariance: enters a(w) (as √c) and the decay
            t = DataTerm(phi_term.fn, (phi_term.params[0], sigma), phi_term.name)
            ys, _ = solve_ode(t, w0, jnp.array([0.0, 1.0]), 0.5, 0.5 * (s0 + sigma), rtol=1e-10, atol=1e-12)
            return ipr_of(ys[-1])

        c = jnp.float64(1.3)
        grad = jax.jit(jax.grad(final_ipr_of_scale))(c)
        eps = 1e-4
        fd = (final_ipr_of_scale(c + eps) - final_ipr_of_scale(c - eps)) / (2 * eps)
        assert abs(float(grad)) > 1e-6
        np.testing.assert_allclose(float(grad), float(fd), rtol=1e-4)


def test_to_xarray_labels_dims_and_config():
    model = Ising(n=8)
    w0 = w_random(8, r=3, seed=9)
    times = 0.05 * np.arange(0, 41, 10)
    dyn = effective_dynamics(model, w0, times, integrator="map", lr=0.05)
    ds = dyn.to_xarray()
    assert ds.weights.dims == ("seed", "time", "input") and ds.weights.shape == (3, 5, 8)
    np.testing.assert_array_equal(ds.weights.values, dyn.weights)
    np.testing.assert_array_equal(ds.seed.values, [0, 1, 2])  # no seeds given: the row index
    np.testing.assert_array_equal(ds.step.values, [0, 10, 20, 30, 40])
    np.testing.assert_array_equal(ds.theory_time.values, times)
    assert ds.step.dims == ds.theory_time.dims == ("time",)
    config = json.loads(ds.attrs["config"])
    assert config["data"] == json.loads(json.dumps(model.to_dict()))
    assert (config["integrator"], config["data_term"], config["lr"]) == ("map", "phi=exact", 0.05)
    assert ds.attrs["rfloc_version"] == rfloc.__version__ and "created" in ds.attrs
    single = effective_dynamics(model, w0[0], times).to_xarray()  # one initial condition: seed dim of 1
    assert single.weights.shape == (1, 5, 8) and "step" not in single.coords


def test_to_xarray_shares_the_train_schema():
    """Theory from the w0 of trained seeds lines up with TrainResult.to_xarray() by dims, seeds and clock."""
    model = Ising(n=8)
    config = TrainConfig(data=model, net=NetConfig(init_scale=0.001), lr=0.05, steps=20, eval_every=10)
    sgd = train_many(config, seeds=[3, 7], progress=False).to_xarray()
    w_sgd = sgd.weights.isel(setting=0, neuron=0)
    times = sgd.theory_time.isel(setting=0).values
    dyn = effective_dynamics(model, w_sgd.isel(time=0).values, times, integrator="map", lr=config.lr)
    ds = dyn.to_xarray(seeds=sgd.seed.values)
    assert ds.weights.dims == w_sgd.dims
    np.testing.assert_array_equal(ds.seed.values, [3, 7])
    np.testing.assert_array_equal(ds.step.values, sgd.step.values)
    assert set(sgd.attrs) <= set(ds.attrs)
    diff = ds.weights - w_sgd  # aligned on the seed labels, not on positions
    assert diff.dims == ("seed", "time", "input") and diff.sizes == {"seed": 2, "time": 3, "input": 8}
    np.testing.assert_array_equal(diff.isel(time=0).values, 0.0)  # both start from the same w0
    with pytest.raises(ValueError, match="one seed per initial condition"):
        dyn.to_xarray(seeds=[3])
    with pytest.raises(ValueError, match="seed"):
        dyn.to_xarray(seeds=[3, -1])
