"""How far online SGD strays from the expected-SGD map through batch noise alone (linear response)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rfloc import _checks
from rfloc.data import DataModel
from rfloc.theory.data_term import phi_data_term
from rfloc.theory.dynamics import velocity


def sgd_noise(
    model: DataModel,
    path,
    lr: float,
    batch_size: int,
    key: jax.Array,
    phi: str | Callable = "exact",
    num_samples: int = 4000,
) -> np.ndarray:
    """Root-mean-square distance between online SGD and the expected-SGD map from batch noise alone.

    path: the map trajectory, one record per SGD step, (K+1, N) or (R, K+1, N) (``effective_dynamics(...,
    integrator="map").weights`` with times lr·arange(K+1)). Linear response: writing SGD = map + e_k,
      e_{k+1} = J_k e_k + lr·ξ_k,  J_k = I + lr·∂v/∂w(w_k),  Cov ξ_k = C_g(w_k)/B,
    where v is the effective velocity (g = φ(a) with ``phi``) and C_g the per-sample covariance of the loss
    gradient g = 2(ReLU(w·x) − y)·1{w·x>0}·x, estimated from num_samples fresh samples per step. Then
    P_{k+1} = J_k P_k J_kᵀ + lr² C_g/B and the result is √tr P_k, (K+1,) or (R, K+1). Valid while e stays
    small against ‖w‖ (not in the first steps from a tiny w₀, where ∂v/∂w ∝ 1/‖w‖).
    """
    path = jnp.asarray(path, jnp.float32)
    single = path.ndim == 2
    path = path[None] if single else path
    if path.ndim != 3 or path.shape[-1] != model.n_inputs or path.shape[1] < 2:
        raise ValueError(f"path must be (K+1, N) or (R, K+1, N) with K >= 1, N = {model.n_inputs}")
    batch_size = _checks.integer("batch_size", batch_size, minimum=2)
    num_samples = _checks.integer("num_samples", num_samples, minimum=2)
    lr = _checks.real("lr", lr, low=0.0, low_open=True)
    p = float(model.class_proportion)
    s0, s1 = model.class_covariance(0), model.class_covariance(1)
    term = phi_data_term(model, phi, s1)
    decay = jnp.asarray((1 - p) * s0 + p * s1, jnp.float32)
    keys = jax.random.split(key, path.shape[0])
    out = _noise(
        model, term, path, keys, jnp.float32(p), decay, jnp.float32(lr), jnp.float32(batch_size), num_samples
    )
    out = np.asarray(out)
    return out[0] if single else out


@partial(jax.jit, static_argnames=("model", "num_samples"))
def _noise(model, term, path, keys, p, decay, lr, batch, num_samples):
    n = path.shape[-1]
    eye = jnp.eye(n, dtype=path.dtype)

    def one(traj, key):
        def step(cov, inputs):
            w, k = inputs
            x, y = model.sample(k, num_samples)
            s = x @ w
            g = (2.0 * (jax.nn.relu(s) - y) * (s > 0))[:, None] * x
            jac = eye + lr * jax.jacfwd(lambda v: velocity(term, v, p, decay))(w)
            cov = jac @ cov @ jac.T + lr**2 * jnp.cov(g.T) / batch
            return cov, jnp.sqrt(jnp.trace(cov))

        ks = jax.random.split(key, traj.shape[0] - 1)
        _, rms = jax.lax.scan(step, jnp.zeros((n, n), path.dtype), (traj[:-1], ks))
        return jnp.concatenate([jnp.zeros((1,), path.dtype), rms])

    return jax.vmap(one)(path, keys)
