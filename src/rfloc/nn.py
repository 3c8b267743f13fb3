"""Networks of SPEC §2: a single neuron, a K-neuron net with fixed mean readout ("SimpleNet") and a
two-layer net with learned readout ("MLP"). Parameters are plain dicts of arrays (pytrees).

    neuron:     ŷ = σ(w·x + b)                               W (1, N)
    simplenet:  ŷ = (1/K) Σ_k σ(w_k·x + b_k)                 W (K, N), readout fixed
    mlp:        ŷ = (1/K) (Σ_k v_k σ(w_k·x + b_k) + c)       W (K, N), v (K,), c () only with a bias

Init: W_kj ~ Xavier normal (truncated at ±2 of its underlying σ, rescaled to keep the variance) with
Var W_kj = init_scale · 2/(N + K) — jax.nn.initializers.glorot_normal times √init_scale. Biases b_k start
at bias_value, the MLP readout bias c at 0; with train_bias=False both are frozen (stop_gradient: their
gradient is exactly 0, so SGD leaves them unchanged).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import jax
import jax.numpy as jnp
from jax.scipy.special import erf

from rfloc import _checks

KINDS = ("neuron", "simplenet", "mlp")

ACTIVATIONS = {
    "relu": jax.nn.relu,
    "sigmoid": jax.nn.sigmoid,  # the logistic function 1/(1 + e^{−s})
    "tanh": jnp.tanh,
    "erf": erf,
    "linear": lambda s: s,
}

# Std of a standard normal truncated to [−2, 2] (scipy.stats.truncnorm(-2, 2).std(); the tests derive it):
# dividing by it restores unit variance. The literal is jax's own (variance_scaling), so draws match it.
_TRUNC_STD = 0.87962566103423978


@dataclasses.dataclass(frozen=True)
class NetConfig:
    """Architecture and initialization of a network (frozen, hashable).

    kind: "neuron" (width must be 1) | "simplenet" | "mlp"; width: K hidden units; activation σ.
    bias: add b_k (and the MLP readout bias c); train_bias: False freezes b (and c) at their start value;
    bias_value: start value of b_k; init_scale: multiplies the Xavier variance of W (and of v − 1).
    """

    kind: Literal["neuron", "simplenet", "mlp"] = "neuron"
    """architecture: one neuron, K neurons with a fixed mean readout, or a learned readout"""
    width: int = 1
    """K, the number of hidden units (1 for a neuron)"""
    activation: Literal["relu", "sigmoid", "tanh", "erf", "linear"] = "relu"
    """the nonlinearity σ"""
    bias: bool = False
    """add biases b_k (and the MLP readout bias c)"""
    train_bias: bool = True
    """learn the biases (False: frozen at bias_value)"""
    bias_value: float = 0.0
    """initial (or frozen) bias b_k"""
    init_scale: float = 0.001
    """multiplies the Xavier variance of W (the paper: 0.001)"""

    def __post_init__(self):
        _checks.choice("kind", self.kind, KINDS)
        _checks.choice("activation", self.activation, ACTIVATIONS)
        object.__setattr__(self, "width", _checks.integer("width", self.width, minimum=1))
        if self.kind == "neuron" and self.width != 1:
            raise ValueError(f"width must be 1 for kind='neuron', got {self.width}")
        _checks.boolean("bias", self.bias)
        _checks.boolean("train_bias", self.train_bias)
        object.__setattr__(self, "bias_value", _checks.real("bias_value", self.bias_value))
        init_scale = _checks.real("init_scale", self.init_scale, low=0.0, low_open=True)
        object.__setattr__(self, "init_scale", init_scale)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def xavier_normal(key: jax.Array, shape: tuple[int, int], scale=1.0) -> jax.Array:
    """Truncated Xavier normal of a (fan_out, fan_in) matrix, float32, Var = scale · 2/(fan_in + fan_out).

    scale may be a traced value (grids over init_scale run in one compiled call).
    """
    std = jnp.sqrt(scale * 2.0 / (shape[0] + shape[1])) / _TRUNC_STD
    return std * jax.random.truncated_normal(key, -2.0, 2.0, shape, jnp.float32)


def init_params(net: NetConfig, key: jax.Array, n_inputs: int, init_scale=None, bias_value=None) -> dict:
    """Like :func:`init`, but init_scale / bias_value may be given as (traced) arrays overriding net's."""
    init_scale = net.init_scale if init_scale is None else init_scale
    bias_value = net.bias_value if bias_value is None else bias_value
    k = net.width
    key_w, key_v = jax.random.split(key)
    params = {"W": xavier_normal(key_w, (k, n_inputs), init_scale)}
    if net.bias:
        params["b"] = jnp.full((k,), bias_value, jnp.float32)
    if net.kind == "mlp":
        # v_k = 1 + √init_scale · Xavier draw of a (1, K) readout (unit variance before the scale).
        params["v"] = 1.0 + jnp.sqrt(init_scale) * xavier_normal(key_v, (1, k))[0]
        if net.bias:
            params["c"] = jnp.zeros((), jnp.float32)
    return params


def init(net: NetConfig, key: jax.Array, n_inputs: int) -> dict:
    """Initial parameters {"W": (K, N), "b": (K,) if bias, "v": (K,) and "c": () (bias) for an MLP}."""
    return init_params(net, key, _checks.integer("n_inputs", n_inputs, minimum=1))


def hidden(net: NetConfig, params: dict, x: jax.Array) -> jax.Array:
    """Hidden activations σ(W x + b), (B, K) for x of shape (B, N)."""
    pre = x @ params["W"].T
    if net.bias:
        pre = pre + (params["b"] if net.train_bias else jax.lax.stop_gradient(params["b"]))
    return ACTIVATIONS[net.activation](pre)


def apply(net: NetConfig, params: dict, x: jax.Array) -> jax.Array:
    """Network output ŷ, shape (B,), for inputs x of shape (B, N)."""
    h = hidden(net, params, x)
    if net.kind == "neuron":
        return h[:, 0]
    if net.kind == "simplenet":
        return jnp.mean(h, axis=-1)
    out = h @ params["v"]
    if net.bias:
        out = out + (params["c"] if net.train_bias else jax.lax.stop_gradient(params["c"]))
    return out / net.width


def mse_loss(net: NetConfig, params: dict, x: jax.Array, y: jax.Array) -> jax.Array:
    """Batch mean of (ŷ − y)², no ½ (the paper's convention, to which its learning rates belong)."""
    return jnp.mean((apply(net, params, x) - y) ** 2)
