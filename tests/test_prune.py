"""Tests of rfloc.prune: exact survivor counts, masked gradients, rewinding, support recovery, contiguity."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rfloc import prune
from rfloc.nn import NetConfig, init_params, mse_loss


@pytest.mark.parametrize("scope", ["global", "neuron"])
def test_prune_mask_keeps_exactly_the_requested_count(scope):
    rng = np.random.default_rng(0)
    score = jnp.asarray(rng.normal(size=(6, 30)))
    mask = jnp.asarray(rng.random((6, 30)) < 0.8, jnp.float32)
    # Ties among survivors must not change the count: give a block of them equal magnitude.
    score = score.at[:, :5].set(0.25)
    n_keep = 60 if scope == "global" else 10
    new = prune.prune_mask(jnp.abs(score), mask, n_keep, scope)
    counts = np.asarray(new.sum() if scope == "global" else new.sum(-1))
    assert np.all(counts == n_keep)
    assert np.all(np.asarray(new) <= np.asarray(mask)), "a pruned weight came back"
    # Every survivor outranks every newly pruned weight (within the pruning unit).
    s, m, n = np.abs(np.asarray(score)), np.asarray(mask) > 0, np.asarray(new) > 0
    rows = [slice(None)] if scope == "global" else [i for i in range(6)]
    for r in rows:
        assert s[r][n[r]].min() >= s[r][m[r] & ~n[r]].max()


def test_keep_counts_follow_the_geometric_schedule():
    cfg = prune.IMPConfig(rounds=9, rate=0.3)
    counts = prune.keep_counts(cfg, width=20, n_inputs=40)
    np.testing.assert_array_equal(counts, np.round(800 * 0.7 ** np.arange(10)).astype(int))
    assert prune.sparsity(cfg, 20, 40)[-1] >= 0.95
    per = prune.keep_counts(prune.IMPConfig(rounds=2, rate=0.5, scope="neuron"), width=20, n_inputs=40)
    np.testing.assert_array_equal(per, [40, 20, 10])


def test_config_rejects_bad_values():
    for kw, name in (
        ({"rate": 1.0}, "rate"),
        ({"rate": 0.0}, "rate"),
        ({"scope": "layer"}, "scope"),
        ({"rewind_step": 500, "steps": 500}, "rewind_step"),
        ({"rounds": -1}, "rounds"),
    ):
        with pytest.raises(ValueError, match=name):
            prune.IMPConfig(**kw)


def _data(key, p, n, noise=0.0):
    x = jax.random.normal(key, (p, n))
    return x, (x[:, 0] > 0).astype(jnp.float32)


def test_pruned_weights_stay_zero_and_gradient_is_masked():
    net = NetConfig(kind="mlp", width=4, bias=True, init_scale=1.0)
    params = init_params(net, jax.random.PRNGKey(0), 10)
    mask = (jax.random.uniform(jax.random.PRNGKey(1), (4, 10)) < 0.5).astype(jnp.float32)
    x, y = _data(jax.random.PRNGKey(2), 200, 10)
    steps, lr, batch = 5, 0.5, 32
    out, _ = prune.train_masked(net, params, mask, x, y, jax.random.PRNGKey(3), steps, lr, batch)
    assert np.all(np.asarray(out["W"])[np.asarray(mask) == 0] == 0.0)
    # Reference: the same minibatches, the update of W applied only to survivors at every step.
    idx = jax.random.randint(jax.random.PRNGKey(3), (steps, batch), 0, 200)
    ref = {**params, "W": params["W"] * mask}
    late = dict(params)  # "re-zero only at the end": the pruned weights train, then get zeroed
    late["W"] = params["W"] * mask

    @jax.jit
    def both(ref, late, i):
        g = jax.grad(lambda p: mse_loss(net, p, x[i], y[i]))(ref)
        g2 = jax.grad(lambda p: mse_loss(net, p, x[i], y[i]))(late)
        ref = jax.tree.map(lambda a, b: a - lr * b, ref, {**g, "W": g["W"] * mask})
        return ref, jax.tree.map(lambda a, b: a - lr * b, late, g2)

    for t in range(steps):
        ref, late = both(ref, late, idx[t])
    for k in ref:
        np.testing.assert_allclose(np.asarray(out[k]), np.asarray(ref[k]), rtol=1e-5, atol=1e-6)
    # The check has power: re-zeroing only at the end moves the survivors differently.
    assert np.max(np.abs(np.asarray(late["W"] * mask) - np.asarray(ref["W"]))) > 1e-4


@pytest.mark.parametrize("rewind_step", [0, 3])
def test_rewinding_restores_the_rewind_point(rewind_step):
    net = NetConfig(kind="mlp", width=3, bias=True, init_scale=1.0)
    cfg = prune.IMPConfig(rounds=2, rate=0.5, steps=6, lr=0.5, batch=16, rewind_step=rewind_step)
    x, y = _data(jax.random.PRNGKey(0), 100, 8)
    data = {"x_train": x, "y_train": y, "x_test": x, "y_test": y}
    key = jax.random.PRNGKey(7)
    out = jax.jit(lambda d, k: prune.imp(net, cfg, d, k))(data, key)
    w_init = np.asarray(init_params(net, jax.random.split(key, 3)[0], 8)["W"])
    if rewind_step == 0:
        np.testing.assert_array_equal(np.asarray(out["W_rewind"]), w_init)
    else:
        assert not np.allclose(np.asarray(out["W_rewind"]), w_init)
    for r in range(cfg.rounds + 1):
        np.testing.assert_array_equal(
            np.asarray(out["W_start"][r]), np.asarray(out["W_rewind"]) * np.asarray(out["mask"][r])
        )
    counts = np.asarray(out["mask"]).sum((1, 2))
    np.testing.assert_array_equal(counts, prune.keep_counts(cfg, 3, 8))


def test_imp_recovers_a_planted_sparse_teacher():
    # Teacher: y = relu(w*.x) with w* on 5 of 20 inputs; white Gaussian x. The student (one ReLU neuron)
    # fits w* well, so the 5 largest |w| are the support; IMP with rate 0.5 over 2 rounds keeps 20·¼ = 5.
    n, support = 20, np.array([2, 3, 9, 14, 17])
    w_star = np.zeros(n, np.float32)
    w_star[support] = np.array([1.0, -0.8, 0.9, -1.1, 0.7])
    x = jax.random.normal(jax.random.PRNGKey(0), (4000, n))
    y = jax.nn.relu(x @ w_star)
    data = {"x_train": x, "y_train": y, "x_test": x[:500], "y_test": (y[:500] > 0.5).astype(jnp.int32)}
    net = NetConfig(kind="neuron", width=1, init_scale=1.0)
    cfg = prune.IMPConfig(rounds=2, rate=0.5, steps=300, lr=0.2, batch=100)
    out = prune.imp_many(net, cfg, jax.tree.map(lambda a: a[None], data), 3, [False])
    final = out["mask"][0, :, -1, 0]  # (seeds, N)
    for s in range(3):
        np.testing.assert_array_equal(np.nonzero(final[s])[0], support)
    # The trained survivors approach the teacher's weights (the loss has its minimum there).
    np.testing.assert_allclose(out["W"][0, :, -1, 0][:, support], np.tile(w_star[support], (3, 1)), atol=0.1)


def test_null_resultant_matches_enumeration():
    # E[R²] over all k-subsets of m ring sites, enumerated exactly for small m.
    from itertools import combinations

    m = 9
    z = np.exp(2j * np.pi * np.arange(m) / m)
    for k in (1, 2, 3, 5, 9):
        r2 = [abs(z[list(c)].mean()) ** 2 for c in combinations(range(m), k)]
        np.testing.assert_allclose(np.mean(r2), prune.null_resultant_sq(k, m), atol=1e-12)
    # Torus: one axis of an n×n grid, all 2-subsets of the 16 sites.
    n = 4
    rows = np.repeat(np.arange(n), n)
    zr = np.exp(2j * np.pi * rows / n)
    r2 = [abs(zr[list(c)].mean()) ** 2 for c in combinations(range(n * n), 2)]
    np.testing.assert_allclose(np.mean(r2), prune.null_resultant_sq(2, n * n), atol=1e-12)


def test_contiguity_of_blocks_and_random_masks():
    n = 40
    block = np.zeros((1, n))
    block[0, 10:14] = 1
    spread = np.zeros((1, n))
    spread[0, [0, 10, 20, 30]] = 1  # evenly spread: R = 0
    c = prune.contiguity(np.concatenate([block, spread]), (n,))
    # Block of 4: R = sin(4π/n) / (4 sin(π/n)); C = (R² − μ)/(1 − μ), μ = (n − 4)/(4(n − 1)).
    r = np.sin(4 * np.pi / n) / (4 * np.sin(np.pi / n))
    mu = (n - 4) / (4 * (n - 1))
    np.testing.assert_allclose(c[0], (r**2 - mu) / (1 - mu), rtol=1e-12)
    np.testing.assert_allclose(c[1], -mu / (1 - mu), rtol=1e-12)
    # Random placement: mean C is 0 (exact null); 4000 masks of k = 6 put the sample mean within ~4 SE.
    rng = np.random.default_rng(1)
    masks = np.zeros((4000, n))
    for i in range(4000):
        masks[i, rng.choice(n, 6, replace=False)] = 1
    cr = prune.contiguity(masks, (n,))
    assert abs(cr.mean()) < 4 * cr.std() / np.sqrt(cr.size)
    # Undefined for < 2 or all survivors.
    assert np.isnan(prune.contiguity(np.eye(n)[:1], (n,))).all()
    # 2-D: a 3×3 square on the 20×20 torus is contiguous.
    sq = np.zeros((20, 20))
    sq[5:8, 5:8] = 1
    assert prune.contiguity(sq.reshape(1, -1), (20, 20))[0] > 0.9
    with pytest.raises(ValueError, match="mask"):
        prune.contiguity(np.ones((2, 10)), (20,))
