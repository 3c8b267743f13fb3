"""The compiled many-run trainer: reproducibility, train_many == separate runs (bit for bit), the exact
mean dynamics of a linear neuron, divergence handling and config validation."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from rfloc import nn
from rfloc.data import NLGP, GaussianGP, Ising
from rfloc.nn import NetConfig
from rfloc.train import TrainConfig, expand_grid, train, train_many

SMALL = TrainConfig(
    data=GaussianGP(n=8, xi=(1.0, 2.0)),
    net=NetConfig(kind="simplenet", width=3, activation="sigmoid", bias=True, init_scale=0.1),
    lr=0.5,
    batch_size=16,
    steps=24,
    eval_every=6,
    seed=3,
)


def test_shapes_and_records():
    r = train_many(SMALL, seeds=[0, 1], grid={"lr": [0.1, 0.2, 0.3]}, progress=False)
    assert r.weights.shape == (3, 2, 5, 3, 8) and r.weights.dtype == np.float32
    assert r.loss.shape == (3, 2, 5) and np.isnan(r.loss[..., 0]).all() and np.isfinite(r.loss[..., 1:]).all()
    np.testing.assert_array_equal(r.steps, [0, 6, 12, 18, 24])
    assert r.settings == [{"lr": 0.1}, {"lr": 0.2}, {"lr": 0.3}]
    assert not r.diverged.any() and (r.diverged_step == -1).all()
    assert r.init_weights.shape == (3, 2, 3, 8) and set(r.final_params) == {"W", "b"}
    np.testing.assert_array_equal(r.final_params["W"], r.weights[:, :, -1])
    # same seed -> same init and same data stream, whatever the learning rate
    np.testing.assert_array_equal(r.init_weights[0], r.init_weights[2])
    json.dumps(r.config_dict())  # JSON-ready


def test_same_seed_is_bit_identical_and_seeds_differ():
    a, b = train(SMALL, progress=False), train(SMALL, progress=False)
    assert a.weights.shape == (1, 1, 5, 3, 8)
    np.testing.assert_array_equal(a.weights, b.weights)
    c = train(dataclasses.replace(SMALL, seed=4), progress=False)
    assert not np.array_equal(a.weights[..., -1, :, :], c.weights[..., -1, :, :])


@pytest.mark.parametrize(
    "config",
    [
        dataclasses.replace(
            SMALL, net=NetConfig(kind="mlp", width=3, activation="tanh", bias=True), data=NLGP(n=8, gain=3.0)
        ),
        TrainConfig(data=Ising(n=10), net=NetConfig(), lr=0.5, batch_size=20, steps=20, eval_every=5),
    ],
    ids=["mlp-tanh-nlgp", "neuron-ising"],
)
def test_train_many_equals_separate_runs(config):
    """Every run of an S × H batch is bit-identical to the same run trained alone; chunked == one scan."""
    seeds = [0, 1, 2]
    grid = {"lr": [0.2, 0.5], "init_scale": [0.001, 0.1]}
    many = train_many(config, seeds=seeds, grid=grid, progress=False)
    for h, setting in enumerate(many.settings):
        for i, seed in enumerate(seeds):
            one = train(dataclasses.replace(many.setting_config(h), seed=seed), progress=False)
            np.testing.assert_array_equal(one.weights[0, 0], many.weights[h, i], err_msg=f"{setting} {seed}")
            np.testing.assert_array_equal(one.loss[0, 0], many.loss[h, i])
            for name, value in one.final_params.items():
                np.testing.assert_array_equal(value[0, 0], many.final_params[name][h, i])
    if isinstance(config.data, Ising):  # once is enough: chunking compiles another program
        from rfloc import train as train_module

        before = train_module._advance._cache_size()
        chunked = train_many(config, seeds=seeds, grid=grid, progress=True)
        np.testing.assert_array_equal(chunked.weights, many.weights)
        np.testing.assert_array_equal(chunked.loss, many.loss)
        assert train_module._advance._cache_size() == before + 1  # equal chunks: one more program


def test_progress_chunks_are_equal():
    from rfloc.train import _equal_chunk

    assert [_equal_chunk(t, -(-t // 20)) for t in (1, 4, 20, 25, 31, 40, 100)] == [1, 1, 1, 1, 1, 2, 5]
    assert _equal_chunk(50, 3) == 2 and _equal_chunk(7, 0) == 1


def test_data_grid_compiles_once_and_equals_separate_runs():
    """Data parameters are traced: a 4-gain × 2-lr sweep is one compiled program (as many XLA compiles as
    one gain), and each of its runs is bit-identical to the same run trained alone (both take the
    traced-constant path, whose per-data-setting loop body does not depend on how many settings share it)."""
    import jax

    from rfloc import train as train_module
    from rfloc.bench.train import count_compiles

    base = TrainConfig(
        data=NLGP(n=8, gain=1.0), net=NetConfig(), lr=0.5, batch_size=10, steps=10, eval_every=5
    )
    grid = {"data.gain": [0.5, 1.0, 2.0, 4.0], "lr": [0.5, 1.0]}
    counts = []
    for gains in ([0.5, 1.0, 2.0, 4.0], [0.5]):
        jax.clear_caches()
        with count_compiles() as compiles:
            many = train_many(base, seeds=[0, 1], grid={**grid, "data.gain": gains}, progress=False)
        assert train_module._advance._cache_size() == 1 and train_module._init_runs._cache_size() == 1
        counts.append(len(compiles))
    assert counts == [2, 2]  # one init and one training program, for 4 gains as for 1
    many = train_many(base, seeds=[0, 1], grid=grid, progress=False)
    assert [s["data.gain"] for s in many.settings] == [0.5, 0.5, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0]
    for h, setting in enumerate(many.settings):
        assert many.setting_config(h).data.gain == setting["data.gain"]
        for i, seed in enumerate([0, 1]):
            one = train(dataclasses.replace(many.setting_config(h), seed=seed), progress=False)
            np.testing.assert_array_equal(one.weights[0, 0], many.weights[h, i], err_msg=f"{setting} {seed}")
            np.testing.assert_array_equal(one.loss[0, 0], many.loss[h, i])
    assert not np.array_equal(many.weights[0, 0, -1], many.weights[2, 0, -1])  # the gain matters


def test_stream_and_data_model_share_programs():
    """The data stream is traced (the SGD-vs-SGD control reuses stream 0's training program) and the
    initial state depends only on the net, so runs on another data model, or more runs, reuse the init
    program."""
    import jax

    from rfloc import train as train_module

    config = TrainConfig(data=Ising(n=10), net=NetConfig(), lr=0.5, batch_size=10, steps=4, eval_every=2)
    jax.clear_caches()
    first = train_many(config, seeds=[0, 1], progress=False)
    again = train_many(config, seeds=[0, 1], data_stream=1, progress=False)
    assert train_module._advance._cache_size() == 1
    assert not np.array_equal(first.weights[:, :, 1], again.weights[:, :, 1])  # another stream
    # stream 0 is the seed's own stream, bit for bit: the same run through the other layout of the sampler
    np.testing.assert_array_equal(train(config, progress=False).weights[0, 0], first.weights[0, 0])
    inits = train_module._init_runs._cache_size()
    train_many(dataclasses.replace(config, data=GaussianGP(n=10), batch_size=6), seeds=[0, 1], progress=False)
    assert train_module._init_runs._cache_size() == inits  # another data model and batch: same init program
    train_many(config, seeds=[0, 1, 2], progress=False)  # 3 runs (was 2): the padded init program again
    assert train_module._init_runs._cache_size() == inits


@pytest.mark.parametrize(
    "config, grid",
    [
        (
            TrainConfig(data=GaussianGP(n=8), net=NetConfig(), lr=0.5, batch_size=10, steps=10, eval_every=5),
            {"data.xi": [(1.0, 2.0), (1.0, 3.0)], "class_proportion": [0.3, 0.5]},
        ),
        (
            TrainConfig(data=Ising(n=10), net=NetConfig(), lr=0.5, batch_size=10, steps=10, eval_every=5),
            {"J": [(0.3, 0.7), (0.1, 0.9)]},
        ),
    ],
    ids=["gaussian-xi-p", "ising-J"],
)
def test_data_grid_pairs_and_vmap(config, grid):
    """Per-class pairs and P(y = 1) as grid axes: "map" equals separate runs bit for bit; "vmap" (data
    settings batched too) agrees to float32 round-off (a few ulps per step, 10 steps: 1e-5)."""
    many = train_many(config, seeds=[0, 1], grid=grid, progress=False)
    for h in range(len(many.settings)):
        one = train_many(many.setting_config(h), seeds=[0, 1], progress=False)
        np.testing.assert_array_equal(one.weights[0], many.weights[h], err_msg=str(many.settings[h]))
    batched = train_many(config, seeds=[0, 1], grid=grid, progress=False, vectorize="vmap")
    np.testing.assert_allclose(batched.weights, many.weights, rtol=1e-5, atol=1e-6)
    assert not np.array_equal(many.weights[0, 0, -1], many.weights[-1, 0, -1])  # the data matter


def test_linear_neuron_mean_dynamics():
    """Linear neuron, zero-mean Gaussian data: E[y x] = 0, so E[w_{t+1} | w_t] = (I − 2 lr Σ) w_t exactly,
    Σ = (1 − p) Σ0 + p Σ1. Per seed, w_t − (I − 2 lr Σ)^t w_0 has mean zero; its seed average must lie
    within 5 standard errors (estimated across seeds) of 0 in every coordinate and record. The init differs
    per seed with mean 0, so the power check uses q_s = w_0 · (w_t − M^t w_0), whose mean is 0 for the right
    M and w_0ᵀ(A^t − M^t)w_0 ≠ 0 for a wrong one (here the ½-loss convention)."""
    model = GaussianGP(n=8, xi=(1.0, 2.0))
    lr, steps, every = 0.05, 20, 5
    config = TrainConfig(
        data=model,
        net=NetConfig(kind="neuron", activation="linear", init_scale=1.0),
        lr=lr,
        batch_size=40,
        steps=steps,
        eval_every=every,
    )
    seeds = list(range(96))
    r = train_many(config, seeds=seeds, progress=False)
    p = model.class_proportion
    sigma = (1 - p) * model.class_covariance(0) + p * model.class_covariance(1)
    a = np.eye(model.n) - 2 * lr * sigma
    a_wrong = np.eye(model.n) - lr * sigma  # the ½-convention: the test must be able to tell
    w0 = r.init_weights[0, :, 0, :].astype(np.float64)  # (S, N)
    separated = False
    for t_idx, step in enumerate(r.steps):
        if step == 0:
            continue
        pred = w0 @ np.linalg.matrix_power(a, step).T
        resid = r.weights[0, :, t_idx, 0, :] - pred
        se = resid.std(axis=0, ddof=1) / np.sqrt(len(seeds))
        assert np.all(np.abs(resid.mean(axis=0)) < 5 * se), (step, resid.mean(axis=0), se)
        q = np.sum(w0 * resid, axis=1)
        assert abs(q.mean()) < 5 * q.std(ddof=1) / np.sqrt(len(seeds))
        wrong = w0 @ np.linalg.matrix_power(a_wrong, step).T
        q_wrong = np.sum(w0 * (r.weights[0, :, t_idx, 0, :] - wrong), axis=1)
        separated |= bool(abs(q_wrong.mean()) > 5 * q_wrong.std(ddof=1) / np.sqrt(len(seeds)))
    assert separated


def test_divergence_freezes_only_that_run():
    config = TrainConfig(
        data=GaussianGP(n=8),
        net=NetConfig(kind="neuron", activation="linear", init_scale=0.1),
        lr=0.05,
        batch_size=10,
        steps=60,
        eval_every=5,
    )
    r = train_many(config, seeds=[0, 1], grid={"lr": [0.05, 1e4]}, progress=False)
    assert not r.diverged[0].any() and (r.diverged_step[0] == -1).all()
    assert r.diverged[1].all() and ((r.diverged_step[1] > 0) & (r.diverged_step[1] <= 60)).all()
    assert np.isfinite(r.weights).all()  # frozen at the last finite parameters
    for i in range(2):
        after = r.steps >= r.diverged_step[1, i]
        assert np.isnan(r.loss[1, i, after]).all()
        np.testing.assert_array_equal(
            r.weights[1, i, after], np.broadcast_to(r.weights[1, i, -1], (after.sum(), 1, 8))
        )
        before = (r.steps > 0) & (r.steps < r.diverged_step[1, i] - 5)
        assert np.isfinite(r.loss[1, i, before]).all()
    # the healthy runs did not notice their diverging neighbours
    calm = train_many(config, seeds=[0, 1], grid={"lr": [0.05, 0.01]}, progress=False)
    np.testing.assert_array_equal(calm.weights[0], r.weights[0])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"lr": 0.0}, "lr"),
        ({"lr": -0.1}, "lr"),
        ({"lr": float("inf")}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"steps": 0}, "steps"),
        ({"eval_every": 0}, "eval_every"),
        ({"eval_every": 7}, "eval_every"),  # does not divide steps = 24
        ({"seed": -1}, "seed"),
        ({"data": "ising"}, "data"),
    ],
)
def test_bad_train_config(kwargs, name):
    with pytest.raises(ValueError, match=name):
        dataclasses.replace(SMALL, **kwargs)


@pytest.mark.parametrize(
    "seeds, grid, name",
    [
        ([], None, "seeds"),
        ([-1], None, "seed"),
        ([0], {"lr": [0.1, -1.0]}, "lr"),
        ([0], {"steps": [10, 20]}, "steps"),
        ([0], {"width": [1, 2]}, "width"),
        ([0], {"beta": [0.9]}, "beta"),
        ([0], {"momentum": [1.0]}, "momentum"),
        ([0], {"optimizer": ["adam"]}, "optimizer"),
        ([0], {"activation": ["relu", "gelu"]}, "activation"),
        ([0], {"gain": [1.0]}, "gain"),  # GaussianGP has no gain
        ([0], {"lr": []}, "lr"),
    ],
)
def test_bad_train_many_arguments(seeds, grid, name):
    with pytest.raises(ValueError, match=name):
        train_many(SMALL, seeds=seeds, grid=grid, progress=False)


def test_expand_grid_and_config_round_trip():
    assert expand_grid(None) == [{}]
    assert expand_grid({"lr": [1, 2], "init_scale": 0.1}) == [
        {"lr": 1, "init_scale": 0.1},
        {"lr": 2, "init_scale": 0.1},
    ]
    assert expand_grid([{"lr": 1}, {"lr": 3, "batch_size": 4}]) == [{"lr": 1}, {"lr": 3, "batch_size": 4}]
    assert TrainConfig.from_dict(json.loads(json.dumps(SMALL.to_dict()))) == SMALL
    r = train_many(SMALL, seeds=2, progress=False)
    assert r.seeds == (3, 4)


def _linear_neuron_batches(config: TrainConfig, seed: int):
    """The data stream and init of a run, rebuilt from the documented PRNG scheme (module docstring)."""
    import jax

    init_key, data_key = jax.random.split(jax.random.key(seed))
    w0 = np.asarray(nn.init_params(config.net, init_key, config.data.n_inputs)["W"][0], np.float64)
    batches = []
    for t in range(config.steps):
        x, y = config.data.sample(jax.random.fold_in(data_key, t), config.batch_size)
        batches.append((np.asarray(x, np.float64), np.asarray(y, np.float64)))
    return w0, batches


@pytest.mark.parametrize("optimizer, momentum", [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.0)])
def test_optimizer_state_is_carried_through_the_scan(optimizer, momentum):
    """Linear neuron, loss mean((w·x − y)²): g = (2/B) Σ_b (w·x_b − y_b) x_b. The trained trajectory must
    follow the optimizer's recurrence written out here in float64 (heavy ball v ← g + μv, w ← w − lr·v;
    Adam with bias correction) — a state re-initialized every step (the old bug) is plain SGD and fails."""
    config = TrainConfig(
        data=GaussianGP(n=5, xi=(1.0, 2.0)),
        net=NetConfig(kind="neuron", activation="linear", init_scale=1.0),
        lr=0.05,
        batch_size=8,
        steps=12,
        eval_every=1,
        optimizer=optimizer,
        momentum=momentum,
    )
    r = train(config, progress=False)
    w, batches = _linear_neuron_batches(config, config.seed)
    np.testing.assert_allclose(r.weights[0, 0, 0, 0], w, rtol=1e-6)  # eager vs compiled init: ~1 ulp
    w = r.weights[0, 0, 0, 0].astype(np.float64)
    v, m, s = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    plain = w.copy()
    for t, (x, y) in enumerate(batches, start=1):
        g = 2 / len(y) * (x @ w - y) @ x
        if optimizer == "adam":
            b1, b2, eps = 0.9, 0.999, 1e-8
            m, s = b1 * m + (1 - b1) * g, b2 * s + (1 - b2) * g**2
            w = w - config.lr * (m / (1 - b1**t)) / (np.sqrt(s / (1 - b2**t)) + eps)
        else:
            v = g + momentum * v
            w = w - config.lr * v
        plain = plain - config.lr * 2 / len(y) * (x @ plain - y) @ x
        # float32 training vs float64 recurrence: O(t) roundings of O(1) numbers
        np.testing.assert_allclose(r.weights[0, 0, t, 0], w, rtol=1e-4, atol=1e-5, err_msg=f"step {t}")
    if optimizer != "sgd" or momentum:
        assert np.max(np.abs(plain - w)) > 1e-2  # the test can tell the optimizer from plain SGD


def test_vmap_agrees_with_map():
    """vectorize="vmap" batches the runs: same results as the bit-exact "map" path up to float32
    round-off (a few ulps per step, 24 steps of O(1) weights: 1e-5)."""
    grid = {"lr": [0.2, 0.5]}
    a = train_many(SMALL, seeds=[0, 1], grid=grid, progress=False)
    b = train_many(SMALL, seeds=[0, 1], grid=grid, progress=False, vectorize="vmap")
    np.testing.assert_array_equal(a.init_weights, b.init_weights)
    np.testing.assert_allclose(b.weights, a.weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.loss, a.loss, rtol=1e-5)
    with pytest.raises(ValueError, match="vectorize"):
        train_many(SMALL, vectorize="pmap")


def test_to_xarray_schema():
    r = train_many(SMALL, seeds=[0, 1], grid={"lr": [0.1, 0.2, 0.3]}, progress=False)
    ds = r.to_xarray()
    assert ds["weights"].dims == ("setting", "seed", "time", "neuron", "input")
    assert ds["loss"].dims == ("setting", "seed", "time") and ds["diverged"].dims == ("setting", "seed")
    assert list(ds["setting"].values) == ["lr=0.1", "lr=0.2", "lr=0.3"]
    np.testing.assert_array_equal(ds["lr"].values, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(ds["seed"].values, [0, 1])
    np.testing.assert_array_equal(ds["step"].values, [0, 6, 12, 18, 24])
    np.testing.assert_allclose(ds["theory_time"].values[1], [0, 1.2, 2.4, 3.6, 4.8])
    np.testing.assert_array_equal(ds["weights"].values, r.weights)
    assert json.loads(ds.attrs["config"]) == json.loads(json.dumps(r.config_dict()))
    assert "ipr" not in ds  # metrics are computed by the caller
