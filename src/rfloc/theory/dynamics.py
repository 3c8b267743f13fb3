"""Effective dynamics of the single ReLU neuron (SPEC §3): one velocity, three data terms, three integrators.

Derivation. The network is ŷ = ReLU(s), s = w·x; the loss is the batch mean of (ŷ − y)² (no ½), labels
y ∈ {0, 1}, p = P(y = 1), Σ_y = Cov(x | y). Per sample ∇_w (ReLU(s) − y)² = 2(ReLU(s) − y)·1{s>0}·x, so
one SGD step with learning rate η moves w, on average over the batch, by
    Δw = η·(2E[y·1{s>0}x] − 2E[ReLU(s)·x]).
* Decay term (exact): ReLU(s)·x = s·1{s>0}·x. For a sign-symmetric class law (x and −x equally likely,
  true of every rfloc model), E_y[s 1{s>0} x] = E_y[s 1{s<0} x] and the two add up to E_y[s x] = Σ_y w; so
  2E[ReLU(s)x] = ((1 − p)Σ_0 + pΣ_1)w.
* Data term: only class 1 contributes, 2E[y 1{s>0} x] = p·g(w) with g(w) = 2E₁[1{s>0} x]. The paper's one
  approximation: if s/√(wᵀΣ_1 w) given x_i is Gaussian with mean a_i x_i and variance 1 − a_i²,
  a = Σ_1 w/√(wᵀΣ_1 w), then g(w) = φ(a) (:mod:`rfloc.theory.amplifier`). rfloc also computes g without it:
  exactly on the Ising ring (:mod:`rfloc.theory.ising_dp`) or by Monte Carlo (:mod:`rfloc.theory.data_term`).
With t = η × (number of SGD steps) the velocity is
    dw/dt = p·g(w) − ((1 − p)Σ_0 + pΣ_1) w          (p = ½:  ½[g(w) − (Σ_0 + Σ_1) w]),
with no fitted time scale or amplitude. For Gaussian data φ(a) = √(2/π)a is exact, so the flow is the exact
expected-gradient flow there.

Three integrators, and the result says which one it used:
* ``"ode"``: the continuous flow, adaptive Tsit5 with a PID step-size controller (diffrax), saved at the
  requested times;
* ``"map"``: the discrete expected-SGD map w ← w + η(p·g(w) − ((1 − p)Σ_0 + pΣ_1)w), one step per SGD step.
  With init_scale 0.001 the first step (η·pφ ≈ 0.01 per entry) is larger than w₀ (≈ 0.007), so the first
  steps are not in the continuous regime: the map follows expected SGD more closely at early times;
* ``"authors"``: the authors' notebook update w ← w + η(g(w) − ½(Σ_0 + Σ_1)w), for side-by-side plots. It
  doubles g relative to the decay (it is the exact flow of 2w, i.e. started from 2w₀): same shapes for tiny
  w₀, not the same trajectory.

Layout. The core (:func:`velocity`, :func:`iterate_map`, :func:`solve_ode`) is pure JAX on one w (N,): jit,
vmap and differentiate it freely (e.g. the final IPR with respect to the Ising coupling, through the data
term's params, or a covariance through ``decay``). :func:`effective_dynamics` is the host-side wrapper:
it validates, builds the data term and covariances from a data model, batches initial conditions, and
returns an :class:`EffectiveDynamics` (``.to_xarray()`` gives the labelled Dataset).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from collections.abc import Callable, Sequence
from functools import partial

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from rfloc import __version__, _checks
from rfloc.data import DataModel
from rfloc.store import canonical_json
from rfloc.theory.cores import split_rows, workers_for
from rfloc.theory.covariances import class_covariances
from rfloc.theory.data_term import DATA_TERMS, DataTerm, make_data_term

INTEGRATORS = ("ode", "map", "authors")
DIMS = ("seed", "time", "input")  # as rfloc.train.DIMS, less the setting and neuron axes

jax.tree_util.register_dataclass(DataTerm, data_fields=["params"], meta_fields=["fn", "name"])


@dataclasses.dataclass(frozen=True)
class EffectiveDynamics:
    """Trajectories of the effective dynamics.

    weights: float32 (T, N) for one initial condition, (R, T, N) for R of them; times: (T,) in t = lr × steps;
    steps: (T,) SGD-step equivalents t/lr (None when no lr was given). ``integrator`` and ``data_term`` name
    what produced them; ``num_steps``: solver steps taken per initial condition (ode) or map steps;
    ``config``: everything that determines the result (JSON-ready; the data model as its dict).
    """

    weights: np.ndarray
    times: np.ndarray
    steps: np.ndarray | None
    integrator: str
    data_term: str
    covariance: str
    class_proportion: float
    lr: float | None
    num_steps: np.ndarray
    config: dict = dataclasses.field(default_factory=dict)

    @property
    def final(self) -> np.ndarray:
        """Weights at the last saved time, (N,) or (R, N)."""
        return self.weights[..., -1, :]

    def describe(self) -> str:
        what = {
            "ode": "continuous flow dw/dt = p.g(w) - ((1-p)S0 + pS1)w (diffrax Tsit5, adaptive)",
            "map": f"discrete expected-SGD map, one step of lr = {self.lr} per SGD step",
            "authors": f"authors' map w <- w + lr(g(w) - (S0+S1)w/2), lr = {self.lr}",
        }[self.integrator]
        return f"{what}; g: {self.data_term}; covariance = {self.covariance}; p = {self.class_proportion:g}"

    def to_xarray(self, seeds: Sequence[int] | np.ndarray | None = None) -> xr.Dataset:
        """The labelled form, in the schema of :meth:`rfloc.train.TrainResult.to_xarray` (one neuron, so
        no setting or neuron axis): ``weights`` (seed, time, input) float32 and ``num_steps`` (seed).

        Coords: ``seed`` (R,) the seeds of the networks whose w₀ rows were integrated (``seeds``: a list of R
        seeds, in the row order of w₀; default 0..R−1, the row index); ``theory_time`` (time,) t = lr × steps
        of each record; ``step`` (time,) the SGD-step equivalents t/lr, float64 (an ODE may save between SGD
        steps), present when lr was given. Attrs: config (canonical JSON), rfloc_version, created (UTC),
        description. So ``sgd.weights.isel(setting=0, neuron=0)`` and this ``weights`` line up by dims
        and seeds.
        """
        weights = self.weights if self.weights.ndim == 3 else self.weights[None]
        num_steps = np.atleast_1d(self.num_steps)
        rows = weights.shape[0]
        if seeds is None:
            seed_values = np.arange(rows, dtype=np.int64)
        else:
            seed_values = np.asarray(_checks.seeds(seeds), dtype=np.int64)
            if seed_values.size != rows:
                raise ValueError(
                    f"seeds must name one seed per initial condition ({rows}), got {seed_values.size}"
                )
        coords = {
            "seed": seed_values,
            "theory_time": ("time", np.asarray(self.times, np.float64)),
        }
        if self.steps is not None:
            coords["step"] = ("time", np.asarray(self.steps, np.float64))
        ds = xr.Dataset(
            {"weights": (DIMS, weights), "num_steps": ("seed", num_steps)},
            coords=coords,
            attrs={
                "config": canonical_json(self.config),
                "rfloc_version": __version__,
                "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "description": self.describe(),
            },
        )
        ds["weights"].attrs["long_name"] = "weights of the effective dynamics (receptive field)"
        ds["num_steps"].attrs["long_name"] = f"{self.integrator} steps taken per initial condition"
        return ds


# -- the pure JAX core -------------------------------------------------------------------------------------
def velocity(term: DataTerm, w: jax.Array, scale, decay: jax.Array, key: jax.Array | None = None):
    """dw/dt = scale·g(w) − decay·w for one w (N,); g = term.fn(w, term.params, key)."""
    return scale * term.fn(w, term.params, key) - decay @ w


def iterate_map(
    term: DataTerm,
    w0: jax.Array,
    scale,
    decay: jax.Array,
    lr,
    stride: int,
    num_records: int,
    key: jax.Array | None = None,
) -> jax.Array:
    """w ← w + lr·velocity(w) for stride·num_records steps from w0 (N,); records (num_records + 1, N) at
    steps 0, stride, 2·stride, … (record 0 = w0). key: split into one key per step (Monte Carlo data term).
    stride and num_records are static; reverse-mode differentiable (scans of fixed length)."""
    key = jax.random.key(0) if key is None else key
    keys = jax.random.split(key, stride * num_records).reshape(num_records, stride)

    def step(w, k):
        return w + lr * velocity(term, w, scale, decay, k), None

    def block(w, kb):
        w, _ = jax.lax.scan(step, w, kb)
        return w, w

    _, rec = jax.lax.scan(block, w0, keys)
    return jnp.concatenate([w0[None], rec], axis=0)


def solve_ode(
    term: DataTerm,
    w0: jax.Array,
    times: jax.Array,
    scale,
    decay: jax.Array,
    rtol=1e-6,
    atol=1e-9,
    max_steps: int = 100_000,
    key: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array]:
    """The flow dw/dt = velocity(w) from w0 (N,) at t = 0, saved at ``times`` (T,): (weights (T, N), solver
    steps taken). Tsit5 + PID controller; a Monte Carlo data term uses the one sample drawn with key."""

    def field(t, w, args):
        return velocity(term, w, scale, decay, key)

    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(field),
        diffrax.Tsit5(),
        t0=0.0,
        t1=times[-1],
        dt0=None,
        y0=w0,
        saveat=diffrax.SaveAt(ts=times),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps,
        throw=False,
    )
    return sol.ys, sol.stats["num_steps"]


# -- batched, compiled programs ------------------------------------------------------------------------------
def _over_seeds(fn, group: int, *args):
    """fn over the leading axis of args: vmap when one group holds every seed, else lax.map in groups
    (group 1: one seed at a time, never vmapped)."""
    r = args[0].shape[0]
    if group >= r and group > 1:
        return jax.vmap(fn)(*args)
    return jax.lax.map(lambda a: fn(*a), args, batch_size=None if group == 1 else group)


@partial(jax.jit, static_argnames=("max_steps", "group"))
def _solve_batch(term, w0, times, scale, decay, rtol, atol, max_steps, key, group):
    return _over_seeds(
        lambda w: solve_ode(term, w, times, scale, decay, rtol, atol, max_steps, key), group, w0
    )


@partial(jax.jit, static_argnames=("stride", "num_records", "group"))
def _map_batch(term, w0, scale, decay, lr, keys, stride, num_records, group):
    return _over_seeds(
        lambda w, k: iterate_map(term, w, scale, decay, lr, stride, num_records, k), group, w0, keys
    )


def _seed_group(term: DataTerm, r: int, mc_samples: int) -> int:
    # The exact Ising term runs one seed at a time: vmapping its data-dependent grid shifts turns each
    # in-place dynamic update slice into a scatter. Measured on one core, N = 40, M = 2048, ms per
    # evaluation: 0.37-0.42 seed by seed, 1.0 vmapped in pairs. Monte Carlo seeds are grouped to bound
    # memory (2^20 samples at a time).
    if term.name == "ising-dp":
        return 1
    if term.name == "monte-carlo":
        return max(1, (1 << 20) // mc_samples)
    return r


def _on_all_cores(run: Callable, term: DataTerm, *per_seed: np.ndarray):
    """run(*per_seed), the seeds split over the CPU cores (:func:`rfloc.theory.cores.split_rows`).

    Only the exact Ising term is split: it runs one seed at a time (see _seed_group), so one compiled
    program occupies one core; the others are batched and XLA already spreads them. Seeds are independent, so
    the result equals one call on all seeds.
    """
    workers = workers_for(per_seed[0].shape[0]) if term.name == "ising-dp" else 1
    return split_rows(run, *per_seed, workers=workers)


# -- host-side wrapper -------------------------------------------------------------------------------------
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


def _map_steps(times: np.ndarray, lr: float, integrator: str) -> np.ndarray:
    steps = np.rint(times / lr)
    if not np.allclose(steps * lr, times, rtol=1e-9, atol=1e-9 * lr):
        raise ValueError(
            f"times must be multiples of lr = {lr} for integrator={integrator!r} (one step per SGD step)"
        )
    return steps


def effective_dynamics(
    model: DataModel,
    w0,
    times,
    phi: str | Callable = "exact",
    integrator: str = "ode",
    lr: float | None = None,
    class_proportion: float | None = None,
    covariance="exact",
    *,
    data_term: str = "phi",
    grid_points: int = 2048,
    mc_samples: int = 100_000,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 100_000,
    key: jax.Array | None = None,
    num_samples: int = 100_000,
) -> EffectiveDynamics:
    """Integrate the effective dynamics from w0 (N,) or (R, N) and save at ``times`` (t = lr × SGD steps).

    data_term: "phi" (g = φ(a), φ chosen by ``phi``: "exact" quadrature / closed form of model.marginal,
    "cubic" kurtosis law, "gaussian" √(2/π)a, or a jit-able callable a -> φ(a)), "ising-dp" (exact, Ising
    only, DP on grid_points points) or "monte-carlo" (mc_samples class-1 samples per step).
    integrator: "ode" (continuous flow), "map" (one step of size lr per SGD step) or "authors" (their map);
    the maps need lr and times that are multiples of lr. class_proportion: p, default the model's.
    covariance: "exact", "empirical" (num_samples fresh samples) or a pair (Σ_0, Σ_1). key (default key 0)
    draws the empirical covariances and the Monte Carlo samples.
    Returns float32 weights (R, T, N) — (T, N) for w0 (N,); w0 itself is returned at t = 0.
    """
    _checks.choice("integrator", integrator, INTEGRATORS)
    _checks.choice("data_term", data_term, DATA_TERMS)
    n = model.n_inputs
    w0, single = _check_w0(w0, n)
    times = _check_times(times)
    p = model.class_proportion if class_proportion is None else class_proportion
    p = _checks.real("class_proportion", p, low=0.0, high=1.0)
    lr = None if lr is None else _checks.real("lr", lr, low=0.0, low_open=True)
    if integrator != "ode" and lr is None:
        raise ValueError(f"lr must be a positive real for integrator={integrator!r}, got None")
    rtol = _checks.real("rtol", rtol, low=0.0, low_open=True)
    atol = _checks.real("atol", atol, low=0.0, low_open=True)
    max_steps = _checks.integer("max_steps", max_steps, minimum=1)
    steps = None if lr is None else (times / lr if integrator == "ode" else _map_steps(times, lr, integrator))
    s0, s1 = class_covariances(model, covariance, key, num_samples)
    term = make_data_term(model, data_term, phi, s1, grid_points, mc_samples)
    key = jax.random.key(0) if key is None else key

    if integrator == "authors":
        scale, decay = 1.0, 0.5 * (s0 + s1)
    else:
        scale, decay = p, (1 - p) * s0 + p * s1
    f32 = partial(np.asarray, dtype=np.float32)  # on the host: jnp.asarray would compile a conversion
    group = _seed_group(term, w0.shape[0], mc_samples)
    if integrator == "ode":
        ys, nsteps = _on_all_cores(
            lambda w: _solve_batch(
                term, f32(w), f32(times), f32(scale), f32(decay), f32(rtol), f32(atol), max_steps, key, group
            ),
            term,
            w0,
        )
        nsteps = np.asarray(nsteps)
        if np.any(nsteps >= max_steps):
            raise ValueError(f"max_steps = {max_steps} reached before t = {times[-1]}: raise max_steps")
    else:
        record = steps.astype(np.int64)
        stride = int(math.gcd(*record.tolist(), 0)) or 1
        num_records = int(record[-1] // stride)
        ys = _on_all_cores(
            lambda w, keys: _map_batch(
                term, f32(w), f32(scale), f32(decay), f32(lr), keys, stride, num_records, group
            ),
            term,
            w0,
            jax.random.split(key, w0.shape[0]),
        )
        ys = ys[:, record // stride]
        nsteps = np.full(w0.shape[0], int(record[-1]))
    ys = np.asarray(ys)
    config = {
        "data": model.to_dict(),
        "integrator": integrator,
        "data_term": term.name,
        "covariance": covariance if isinstance(covariance, str) else "given",
        "class_proportion": p,
        "lr": lr,
        **({"grid_points": grid_points} if data_term == "ising-dp" else {}),
        **({"mc_samples": mc_samples} if data_term == "monte-carlo" else {}),
        **({"rtol": rtol, "atol": atol} if integrator == "ode" else {}),
    }
    return EffectiveDynamics(
        weights=ys[0] if single else ys,
        times=times,
        steps=steps,
        integrator=integrator,
        data_term=term.name,
        covariance=config["covariance"],
        class_proportion=p,
        lr=lr,
        num_steps=nsteps[0] if single else nsteps,
        config=config,
    )
