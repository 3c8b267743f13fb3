"""Networks: forward pass against an independent float64 reference, gradients against finite differences
of that reference, the Xavier initialization statistics, and config validation."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats

from rfloc import nn
from rfloc.nn import NetConfig

ACT64 = {
    "relu": lambda s: np.maximum(s, 0.0),
    "sigmoid": lambda s: 1.0 / (1.0 + np.exp(-s)),
    "tanh": np.tanh,
    "erf": scipy.special.erf,
    "linear": lambda s: s,
}


def reference_output(net: NetConfig, p: dict, x: np.ndarray) -> np.ndarray:
    """SPEC §2 written out in float64 numpy, independently of rfloc.nn."""
    pre = x @ p["W"].T + (p["b"] if net.bias else 0.0)
    h = ACT64[net.activation](pre)
    if net.kind == "neuron":
        return h[:, 0]
    if net.kind == "simplenet":
        return h.sum(axis=1) / net.width
    return (h @ p["v"] + (p["c"] if net.bias else 0.0)) / net.width


def reference_loss(net, p, x, y):
    return np.mean((reference_output(net, p, x) - y) ** 2)


NETS = [
    NetConfig(kind="neuron", activation="relu"),
    NetConfig(kind="neuron", activation="linear", bias=True, bias_value=0.3),
    NetConfig(kind="simplenet", width=3, activation="sigmoid", bias=True, bias_value=-1.0),
    NetConfig(kind="simplenet", width=4, activation="erf"),
    NetConfig(kind="mlp", width=3, activation="tanh", bias=True),
    NetConfig(kind="mlp", width=2, activation="relu"),
]


def _case(net: NetConfig, n: int = 5, batch: int = 7):
    key_p, key_x, key_y = jax.random.split(jax.random.key(1), 3)
    params = nn.init_params(net, key_p, n, init_scale=1.0)  # O(1) weights: every activation regime
    if net.kind == "mlp" and net.bias:
        params["c"] = jnp.float32(0.2)
    x = jax.random.normal(key_x, (batch, n))
    y = jax.random.bernoulli(key_y, 0.5, (batch,)).astype(jnp.float32)
    return params, x, y


@pytest.mark.parametrize("net", NETS, ids=lambda n: f"{n.kind}-{n.activation}-bias{n.bias}")
def test_forward_matches_reference(net):
    params, x, y = _case(net)
    p64 = {k: np.asarray(v, np.float64) for k, v in params.items()}
    out = np.asarray(nn.apply(net, params, x))
    # float32 forward of O(1) numbers: agreement to a few float32 ulps
    np.testing.assert_allclose(
        out, reference_output(net, p64, np.asarray(x, np.float64)), rtol=1e-5, atol=1e-6
    )
    assert out.shape == (x.shape[0],)


@pytest.mark.parametrize("net", NETS, ids=lambda n: f"{n.kind}-{n.activation}-bias{n.bias}")
def test_gradient_matches_finite_differences(net):
    params, x, y = _case(net)
    grads = jax.grad(nn.mse_loss, argnums=1)(net, params, x, y)
    p64 = {k: np.asarray(v, np.float64) for k, v in params.items()}
    x64, y64 = np.asarray(x, np.float64), np.asarray(y, np.float64)
    eps = 1e-6  # central differences in float64: error O(eps²) + O(1e-16/eps), far below float32 ulps
    for name, value in p64.items():
        fd = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            plus, minus = dict(p64), dict(p64)
            plus[name] = value.copy()
            minus[name] = value.copy()
            plus[name][idx] += eps
            minus[name][idx] -= eps
            fd[idx] = (reference_loss(net, plus, x64, y64) - reference_loss(net, minus, x64, y64)) / (2 * eps)
        # no ReLU kink lies within eps of any pre-activation for these O(1) random draws
        np.testing.assert_allclose(np.asarray(grads[name]), fd, rtol=1e-4, atol=1e-5, err_msg=name)


def test_loss_has_no_half():
    net = NetConfig(kind="neuron", activation="linear")
    params = {"W": jnp.zeros((1, 3))}
    x, y = jnp.ones((4, 3)), jnp.ones((4,))
    assert float(nn.mse_loss(net, params, x, y)) == 1.0  # mean of (0 − 1)², not ½ of it


def test_frozen_bias_gets_no_gradient():
    net = NetConfig(kind="mlp", width=3, activation="sigmoid", bias=True, train_bias=False, bias_value=-1.0)
    params, x, y = _case(net)
    grads = jax.grad(nn.mse_loss, argnums=1)(net, params, x, y)
    assert np.all(np.asarray(grads["b"]) == 0) and float(grads["c"]) == 0.0
    assert np.any(np.asarray(grads["W"]) != 0)


def test_init_shapes_and_start_values():
    net = NetConfig(kind="mlp", width=4, bias=True, bias_value=-0.5)
    p = nn.init(net, jax.random.key(0), 6)
    assert p["W"].shape == (4, 6) and p["v"].shape == (4,) and p["c"].shape == ()
    assert np.all(np.asarray(p["b"]) == -0.5) and float(p["c"]) == 0.0
    assert set(nn.init(NetConfig(), jax.random.key(0), 6)) == {"W"}
    assert set(nn.init(NetConfig(kind="simplenet", width=2, bias=True), jax.random.key(0), 6)) == {"W", "b"}


def test_xavier_init_statistics():
    """Var W = init_scale·2/(N+K), truncated at ±2 underlying σ; matches jax's glorot_normal·√scale."""
    k, n, scale = 300, 200, 0.01
    w = np.asarray(nn.init(NetConfig(kind="simplenet", width=k, init_scale=scale), jax.random.key(0), n)["W"])
    var = scale * 2 / (n + k)
    m = w.size
    # Var of w² for a unit normal truncated at ±2 (kurtosis ≈ 2.36 after rescaling) ≤ 2 var²:
    # 5 standard errors of the sample variance.
    assert abs(w.var() - var) < 5 * math.sqrt(2.0 / m) * var
    assert abs(w.mean()) < 5 * math.sqrt(var / m)
    trunc_std = scipy.stats.truncnorm(-2, 2).std()  # std of a unit normal truncated to [−2, 2]
    sigma_underlying = math.sqrt(var) / trunc_std
    assert np.abs(w).max() <= 2 * sigma_underlying * (1 + 1e-6)
    ref = np.asarray(jax.nn.initializers.glorot_normal()(jax.random.key(1), (n, k))) * math.sqrt(scale)
    assert abs(ref.var() - w.var()) < 10 * math.sqrt(2.0 / m) * var
    assert np.abs(ref).max() <= 2 * sigma_underlying * (1 + 1e-6)


def test_truncation_constant_is_the_truncated_normal_std():
    # float64 closed form vs the literal jax and rfloc divide by: equal to float64 round-off
    assert nn._TRUNC_STD == pytest.approx(scipy.stats.truncnorm(-2, 2).std(), rel=1e-14)


def test_mlp_readout_init():
    """v_k = 1 + √init_scale · Xavier draw of a (1, K) readout: mean 1, Var = init_scale · 2/(K + 1)."""
    k, scale = 4000, 0.25
    v = np.asarray(nn.init(NetConfig(kind="mlp", width=k, init_scale=scale), jax.random.key(2), 3)["v"])
    var = scale * 2 / (k + 1)
    assert abs(v.mean() - 1) < 5 * math.sqrt(var / k)
    assert abs(v.var() - var) < 5 * math.sqrt(2.0 / k) * var


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"kind": "cnn"}, "kind"),
        ({"activation": "gelu"}, "activation"),
        ({"kind": "simplenet", "width": 0}, "width"),
        ({"kind": "simplenet", "width": 2.5}, "width"),
        ({"kind": "neuron", "width": 3}, "width"),
        ({"init_scale": 0.0}, "init_scale"),
        ({"init_scale": -1.0}, "init_scale"),
        ({"bias_value": float("nan")}, "bias_value"),
        ({"bias": "yes"}, "bias"),
    ],
)
def test_bad_net_config(kwargs, name):
    with pytest.raises(ValueError, match=name):
        NetConfig(**kwargs)


def test_bad_n_inputs():
    with pytest.raises(ValueError, match="n_inputs"):
        nn.init(NetConfig(), jax.random.key(0), 0)
