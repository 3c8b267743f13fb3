"""Effective dynamics of the single ReLU neuron (SPEC §3), with the constants of the loss actually trained.

Derivation. The network is ŷ = ReLU(s), s = w·x; the loss is the batch mean of (ŷ − y)² (no ½), labels
y ∈ {0, 1}, p = P(y = 1), Σ_y = Cov(x | y). Per sample ∇_w (ReLU(s) − y)² = 2(ReLU(s) − y)·1{s>0}·x, so
one SGD step with learning rate η moves w, on average over the batch, by
    Δw = η·(2E[y·1{s>0}x] − 2E[ReLU(s)·x]).
* Decay term (exact): ReLU(s)·x = s·1{s>0}·x. For a sign-symmetric class law (x and −x equally likely,
  true of every rfloc model), E_y[s 1{s>0} x] = E_y[s 1{s<0} x] and the two add up to E_y[s x] = Σ_y w; so
  2E[ReLU(s)x] = 2·½((1 − p)Σ_0 + pΣ_1)w = ((1 − p)Σ_0 + pΣ_1)w.
* Data term (the paper's one approximation): only class 1 contributes, 2E[y 1{s>0} x] = 2p·E_1[1{s>0} x].
  If s/√(wᵀΣ_1 w) given x_i is Gaussian with mean a_i x_i and variance 1 − a_i², a = Σ_1 w/√(wᵀΣ_1 w), then
  E_1[1{s>0} x_i] = E[x_i Φ(a_i x_i/√(1 − a_i²))] = ½E[x_i erf(a_i x_i/√(2(1 − a_i²)))] = ½φ(a_i)
  (E x_i = 0 removes the ½ of Φ = ½(1 + erf)). Hence 2p·½φ = p·φ(a).
With t = η × (number of SGD steps) the steps become, for small η, the flow
    dw/dt = p·φ(a(w)) − ((1 − p)Σ_0 + pΣ_1) w          (p = ½:  ½[φ(a) − (Σ_0 + Σ_1) w]),
with no fitted time scale or amplitude. For Gaussian data φ(a) = √(2/π)a is exact, so the flow is the exact
expected-gradient flow there.

Three integrators, and the result says which one it used:
* ``"ode"``: the continuous flow, adaptive Tsit5 with a PID step-size controller (diffrax), saved at the
  requested times;
* ``"map"``: the discrete mean-field map w ← w + η(pφ(a) − ((1 − p)Σ_0 + pΣ_1)w), one step per SGD step.
  With init_scale 0.001 the first step (η·pφ ≈ 0.01 per entry) is larger than w₀ (≈ 0.007), so the first
  steps are not in the continuous regime: the map follows expected SGD more closely at early times;
* ``"authors"``: the authors' notebook update w ← w + η(φ(a) − ½(Σ_0 + Σ_1)w), for side-by-side plots. It
  doubles φ relative to the decay (it is the exact flow of 2w, i.e. started from 2w₀): same shapes for tiny
  w₀, not the same trajectory.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable
from functools import lru_cache, partial

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from rfloc.data import DataModel
from rfloc.theory.amplifier import (
    SQRT_2_OVER_PI,
    binary_phi,
    cubic_amplifier,
    gaussian_amplifier,
    points_phi,
    quadrature_law,
)

PHI_KINDS = ("exact", "cubic", "gaussian")
METHODS = ("ode", "map", "authors")
COVARIANCES = ("exact", "empirical")


@dataclasses.dataclass(frozen=True)
class EffectiveDynamics:
    """Trajectories of the effective dynamics.

    weights: float32 (T, N) for one initial condition, (R, T, N) for R of them; times: (T,) in t = lr × steps;
    steps: (T,) SGD-step equivalents t/lr (None when no lr was given). ``method``/``phi``/``covariance`` name
    what produced them; ``num_steps``: solver steps taken per initial condition (ode) or map steps.
    """

    weights: np.ndarray
    times: np.ndarray
    steps: np.ndarray | None
    method: str
    phi: str
    covariance: str
    class_proportion: float
    lr: float | None
    num_steps: np.ndarray

    @property
    def final(self) -> np.ndarray:
        """Weights at the last saved time, (N,) or (R, N)."""
        return self.weights[..., -1, :]

    def describe(self) -> str:
        what = {
            "ode": "continuous flow dw/dt = p·phi(a) − ((1−p)Σ0 + pΣ1)w (diffrax Tsit5, adaptive)",
            "map": f"discrete mean-field map, one step of lr = {self.lr} per SGD step",
            "authors": f"authors' map w ← w + lr(phi(a) − ½(Σ0+Σ1)w), lr = {self.lr}",
        }[self.method]
        return f"{what}; phi = {self.phi}; covariance = {self.covariance}; p = {self.class_proportion:g}"


# -- amplifier selection -------------------------------------------------------------------------------
# The solvers take φ as (static kernel, traced parameters), so every model of a kind (all transform laws
# share one quadrature size) reuses one compiled program; a user callable is its own kernel.
def _kernel_points(a, params):
    return points_phi(a, *params)


def _kernel_binary(a, params):
    return binary_phi(a)


def _kernel_cubic(a, params):
    return SQRT_2_OVER_PI * (a + (3.0 - params) * a**3 / 6.0)


def _kernel_gaussian(a, params):
    return gaussian_amplifier(a)


@lru_cache(maxsize=32)
def _kernel_user(fn: Callable) -> Callable:
    return lambda a, params: fn(a)


@lru_cache(maxsize=64)
def _exact_params(model: DataModel):
    points, weights = quadrature_law(model.marginal)
    return (
        jnp.asarray(points, jnp.float32),
        jnp.asarray(weights, jnp.float32),
        float(model.marginal.mean_abs),
    )


def resolve_phi(model: DataModel, phi) -> tuple[Callable, object, str]:
    """(kernel(a, params), params, name) for phi = "exact" | "cubic" | "gaussian" | callable a -> φ(a)."""
    if callable(phi):
        return _kernel_user(phi), None, getattr(phi, "__name__", "custom")
    if phi == "exact":
        if model.marginal.binary:
            return _kernel_binary, None, "exact"
        return _kernel_points, _exact_params(model), "exact"
    if phi == "cubic":
        kappa = model.marginal.kurtosis
        cubic_amplifier(kappa, 0.0)  # validates κ (finite) before any compute
        return _kernel_cubic, jnp.float32(kappa), "cubic"
    if phi == "gaussian":
        return _kernel_gaussian, None, "gaussian"
    raise ValueError(f"phi must be one of {PHI_KINDS} or a callable a -> phi(a), got {phi!r}")


def class_covariances(model: DataModel, covariance="exact", key=None, num_samples: int = 100_000):
    """(Σ_0, Σ_1) float64: exact from the model, or empirical second moments of num_samples fresh samples."""
    if isinstance(covariance, tuple | list):
        if len(covariance) != 2:
            raise ValueError("covariance given as matrices must be a pair (Σ_0, Σ_1)")
        return tuple(np.asarray(c, dtype=np.float64) for c in covariance)
    if covariance == "exact":
        return model.class_covariance(0), model.class_covariance(1)
    if covariance != "empirical":
        raise ValueError(f"covariance must be one of {COVARIANCES} or a pair of matrices, got {covariance!r}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 2:
        raise ValueError(f"num_samples must be an integer >= 2, got {num_samples!r}")
    x, y = model.sample(jax.random.key(0) if key is None else key, num_samples)
    x, y = np.asarray(x, np.float64), np.asarray(y)
    out = []
    for label in (0, 1):
        xs = x[y == label]
        if xs.shape[0] < 2:
            raise ValueError(f"num_samples = {num_samples} gave fewer than 2 samples of class {label}")
        out.append(xs.T @ xs / xs.shape[0])  # mean 0 by construction: second moments
    return tuple(out)


def _velocity(phi, params, w, sigma1, scale, decay):
    """scale·φ(a(w)) − decay·w for one w (N,); a clipped to [−1, 1] against round-off."""
    v = sigma1 @ w
    a = jnp.clip(v / jnp.sqrt(jnp.maximum(w @ v, jnp.finfo(w.dtype).tiny)), -1.0, 1.0)
    return scale * phi(a, params) - decay @ w


@partial(jax.jit, static_argnames=("phi", "max_steps"))
def _solve_ode(phi, params, w0, times, sigma1, scale, decay, rtol, atol, max_steps):
    def field(t, w, args):
        return _velocity(phi, params, w, sigma1, scale, decay)

    def one(y0):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(field),
            diffrax.Tsit5(),
            t0=0.0,
            t1=times[-1],
            dt0=None,
            y0=y0,
            saveat=diffrax.SaveAt(ts=times),
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            max_steps=max_steps,
            throw=False,
        )
        return sol.ys, sol.stats["num_steps"]

    return jax.vmap(one)(w0)


@partial(jax.jit, static_argnames=("phi",))
def _run_map(phi, params, w0, record_steps, sigma1, scale, decay, lr):
    """Iterate w ← w + lr·(scale·φ(a) − decay·w), recording after the given (sorted) step counts."""

    def one(w_init):
        def segment(carry, target):
            w, done = carry
            w = jax.lax.fori_loop(
                done, target, lambda _, v: v + lr * _velocity(phi, params, v, sigma1, scale, decay), w
            )
            return (w, target), w

        _, rec = jax.lax.scan(segment, (w_init, jnp.int32(0)), record_steps)
        return rec

    return jax.vmap(one)(w0)


def _check_w0(w0, n: int) -> tuple[np.ndarray, bool]:
    w0 = np.asarray(w0, dtype=np.float32)
    single = w0.ndim == 1
    w0 = w0[None] if single else w0
    if w0.ndim != 2 or w0.shape[-1] != n:
        raise ValueError(f"w0 must have shape (N,) or (R, N) with N = {n}, got {w0.shape}")
    if not np.all(np.isfinite(w0)) or np.any(np.linalg.norm(w0, axis=-1) == 0):
        raise ValueError("w0 must be finite and nonzero (a(w) = Σ1 w/√(wᵀΣ1 w) is undefined at w = 0)")
    return w0, single


def _check_times(times) -> np.ndarray:
    times = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times < 0) or np.any(np.diff(times) < 0):
        raise ValueError("times must be a 1-D non-decreasing sequence of finite times >= 0 (t = lr × steps)")
    if times[-1] <= 0:
        raise ValueError("times must end after t = 0")
    return times


def effective_dynamics(
    model: DataModel,
    w0,
    times,
    phi: str | Callable = "exact",
    method: str = "ode",
    lr: float | None = None,
    class_proportion: float | None = None,
    covariance="exact",
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 100_000,
    key: jax.Array | None = None,
    num_samples: int = 100_000,
) -> EffectiveDynamics:
    """Integrate the effective dynamics from w0 (N,) or (R, N) and save at ``times`` (t = lr × SGD steps).

    phi: "exact" (quadrature / closed form of model.marginal), "cubic" (kurtosis law), "gaussian" (√(2/π)a),
    or a jit-able callable a -> φ(a) (e.g. ``lambda a: amplifier_from_samples(x, a)``).
    method: "ode" (continuous flow), "map" (one Euler step of size lr per SGD step) or "authors" (their map);
    map methods need lr and times that are multiples of lr. class_proportion: p, default model's.
    covariance: "exact", "empirical" (num_samples fresh samples drawn with key) or a pair (Σ_0, Σ_1).
    Returns float32 weights (R, T, N) — (T, N) for w0 (N,); w0 itself is returned at t = 0.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    n = model.n_inputs
    w0, single = _check_w0(w0, n)
    times = _check_times(times)
    p = model.class_proportion if class_proportion is None else class_proportion
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"class_proportion must be a real in [0, 1], got {p!r}")
    p = float(p)
    steps = None
    if method != "ode":
        if lr is None or isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr > 0:
            raise ValueError(f"lr must be a positive real for method={method!r}, got {lr!r}")
        lr = float(lr)
        steps = np.rint(times / lr)
        if not np.allclose(steps * lr, times, rtol=1e-9, atol=1e-9 * lr):
            raise ValueError(
                f"times must be multiples of lr = {lr} for method={method!r} (one step per SGD step)"
            )
    elif lr is not None:
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr > 0:
            raise ValueError(f"lr must be a positive real, got {lr!r}")
        lr = float(lr)
        steps = times / lr
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(v, numbers.Real) and v > 0):
            raise ValueError(f"{name} must be a positive real, got {v!r}")
    fn, params, phi_name = resolve_phi(model, phi)
    s0, s1 = class_covariances(model, covariance, key, num_samples)
    cov_name = covariance if isinstance(covariance, str) else "given"

    if method == "authors":
        scale, decay = 1.0, 0.5 * (s0 + s1)
    else:
        scale, decay = p, (1 - p) * s0 + p * s1
    f32 = partial(jnp.asarray, dtype=jnp.float32)
    if method == "ode":
        ys, nsteps = _solve_ode(
            fn,
            params,
            f32(w0),
            f32(times),
            f32(s1),
            f32(scale),
            f32(decay),
            f32(rtol),
            f32(atol),
            int(max_steps),
        )
        nsteps = np.asarray(nsteps)
        if np.any(nsteps >= max_steps):
            raise ValueError(f"max_steps = {max_steps} reached before t = {times[-1]}: raise max_steps")
    else:
        ys = _run_map(
            fn, params, f32(w0), jnp.asarray(steps, jnp.int32), f32(s1), f32(scale), f32(decay), f32(lr)
        )
        nsteps = np.full(w0.shape[0], int(steps[-1]))
    ys = np.asarray(ys)
    return EffectiveDynamics(
        weights=ys[0] if single else ys,
        times=times,
        steps=steps,
        method=method,
        phi=phi_name,
        covariance=cov_name,
        class_proportion=p,
        lr=lr,
        num_steps=nsteps[0] if single else nsteps,
    )


def sgd_noise(
    model: DataModel,
    path,
    lr: float,
    batch_size: int,
    key: jax.Array,
    phi: str | Callable = "exact",
    num_samples: int = 4000,
) -> np.ndarray:
    """Root-mean-square distance between online SGD and the mean-field map expected from batch noise alone.

    path: the map trajectory, one record per SGD step, (K+1, N) or (R, K+1, N) (``effective_dynamics(...,
    method="map").weights`` with times lr·arange(K+1)). Linear response: writing SGD = map + e_k,
      e_{k+1} = J_k e_k + lr·ξ_k,  J_k = I + lr·∂v/∂w(w_k),  Cov ξ_k = C_g(w_k)/B,
    where v is the effective velocity (with ``phi``) and C_g the per-sample covariance of the loss gradient
    g = 2(ReLU(w·x) − y)·1{w·x>0}·x, estimated from num_samples fresh samples per step. Then
    P_{k+1} = J_k P_k J_kᵀ + lr² C_g/B and the result is √tr P_k, (K+1,) or (R, K+1). Valid while e stays
    small against ‖w‖ (not in the first steps from a tiny w₀, where ∂v/∂w ∝ 1/‖w‖).
    """
    path = jnp.asarray(path, jnp.float32)
    single = path.ndim == 2
    path = path[None] if single else path
    if path.ndim != 3 or path.shape[-1] != model.n_inputs or path.shape[1] < 2:
        raise ValueError(f"path must be (K+1, N) or (R, K+1, N) with K >= 1, N = {model.n_inputs}")
    for name, v in (("batch_size", batch_size), ("num_samples", num_samples)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 2:
            raise ValueError(f"{name} must be an integer >= 2, got {v!r}")
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr > 0:
        raise ValueError(f"lr must be a positive real, got {lr!r}")
    fn, params, _ = resolve_phi(model, phi)
    p = float(model.class_proportion)
    s0, s1 = model.class_covariance(0), model.class_covariance(1)
    decay = jnp.asarray((1 - p) * s0 + p * s1, jnp.float32)
    keys = jax.random.split(key, path.shape[0])
    out = _noise(
        model,
        fn,
        params,
        path,
        keys,
        jnp.asarray(s1, jnp.float32),
        jnp.float32(p),
        decay,
        jnp.float32(lr),
        jnp.float32(batch_size),
        int(num_samples),
    )
    out = np.asarray(out)
    return out[0] if single else out


@partial(jax.jit, static_argnames=("model", "phi", "num_samples"))
def _noise(model, phi, params, path, keys, sigma1, p, decay, lr, batch, num_samples):
    n = path.shape[-1]
    eye = jnp.eye(n, dtype=path.dtype)

    def one(traj, key):
        def step(cov, inputs):
            w, k = inputs
            x, y = model.sample(k, num_samples)
            s = x @ w
            g = (2.0 * (jax.nn.relu(s) - y) * (s > 0))[:, None] * x
            jac = eye + lr * jax.jacfwd(lambda v: _velocity(phi, params, v, sigma1, p, decay))(w)
            cov = jac @ cov @ jac.T + lr**2 * jnp.cov(g.T) / batch
            return cov, jnp.sqrt(jnp.trace(cov))

        ks = jax.random.split(key, traj.shape[0] - 1)
        _, rms = jax.lax.scan(step, jnp.zeros((n, n), path.dtype), (traj[:-1], ks))
        return jnp.concatenate([jnp.zeros((1,), path.dtype), rms])

    return jax.vmap(one)(path, keys)
