"""A localization phase diagram (rfloc's extension, beyond the paper): the predicted final IPR of the single
ReLU neuron over a grid of data models, for many initial conditions, in one compiled program.

Statistics in, predictions out; nothing here trains. A grid point is a ring data model (NLGP(g) or Kur(k),
ξ = (ξ₀, ξ₁)); its parameters are traced (``rfloc.data.stack``), so one program, vmapped over points and
initial conditions, serves every point of a family. At each point the effective dynamics of
:mod:`rfloc.theory.dynamics` is integrated as the expected-SGD map w ← w + lr·(p·g(w) − ((1 − p)Σ_0 + pΣ_1)w)
for ``steps`` steps: t = lr × steps steps of this map ARE the expected SGD, and it is cheaper than an
adaptive ODE solve of the same flow. Three data terms g:

* ``"exact"``: g = φ(a) with the exact φ(a) = E[x erf(x a/√(2(1 − a²)))], x = T(z), z ~ N(0, 1), T the
  traced marginal transform. φ is computed by the same composite Gauss–Legendre rule as
  :func:`rfloc.theory.amplifier.quadrature_law` (368 nodes) on a uniform table of ``table_size`` values of
  a ∈ [−1, 1] per point, then linearly interpolated in the map: the rule at every entry of every step costs
  368× more, and the interpolation error is ≤ h²·max|φ''|/8 with h = 2/(table_size − 1) (≈ 1e−6 at 1025);
* ``"cubic"``: φ(a) ≈ √(2/π)(a + (3 − κ)a³/6) with the exact, traced κ (finite only for Kur k > 4);
* ``"monte-carlo"``: the mean-field map with g = 2·mean over ``mc_samples`` fresh class-1 samples of
  1{w·x > 0}x at each step (no Gaussian-conditional assumption; costlier, so used on a coarser grid).
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rfloc import _checks, metrics
from rfloc.data import NLGP, DataModel, Kur, stack
from rfloc.theory.amplifier import _half_line_rule
from rfloc.theory.cores import split_rows, workers_for
from rfloc.theory.data_term import normalized_overlap

PREDICTORS = ("exact", "cubic", "monte-carlo")
FAMILIES = {"nlgp": "gain", "kur": "k"}


def family_models(
    family: str, values, xi_ratios, xi0: float = 1.0, n: int = 40, class_proportion: float = 0.5
) -> list[DataModel]:
    """Host models of ``family`` ("nlgp": values are gains g > 0; "kur": k > 4, finite κ) over
    values × ξ₁/ξ₀ ratios (ratio fastest), ξ = (ξ₀, ratio·ξ₀)."""
    _checks.choice("family", family, tuple(FAMILIES))
    xi0 = _checks.real("xi0", xi0, low=0.0, low_open=True)
    out = []
    for v in values:
        if family == "kur" and not v > 4:
            raise ValueError(f"k must be > 4 for the phase diagram (finite kurtosis), got {v}")
        for r in xi_ratios:
            r = _checks.real("xi_ratio", r, low=0.0, low_open=True)
            xi = (xi0, r * xi0)
            model = (
                NLGP(n=n, xi=xi, gain=float(v), class_proportion=class_proportion)
                if family == "nlgp"
                else Kur(n=n, xi=xi, k=float(v), class_proportion=class_proportion)
            )
            out.append(model)
    return out


def initial_conditions(n: int, count: int = 8, init_scale: float = 0.001, seed: int = 0) -> np.ndarray:
    """count fixed w₀ (count, n), drawn like a single neuron's weights (truncated Xavier, Var =
    init_scale·2/(n + 1)), from key(seed)."""
    from rfloc.nn import xavier_normal

    count = _checks.integer("count", count, minimum=1)
    keys = jax.random.split(jax.random.key(seed), count)
    return np.asarray(jax.vmap(lambda k: xavier_normal(k, (1, n), init_scale)[0])(keys))


# -- traced per-point pieces -------------------------------------------------------------------------------
def _phi_table(model: DataModel, table_size: int) -> jax.Array:
    """φ(a) on a uniform grid of table_size values of a in [−1, 1], for a traced transform marginal."""
    z, w = _half_line_rule()
    marg = model.marginal
    x = marg.transform(jnp.asarray(z, jnp.float32))  # odd T: the two half-lines contribute equally
    pw = jnp.asarray(2.0 * w, jnp.float32) * x
    a = jnp.linspace(-1.0, 1.0, table_size)
    inside = jnp.abs(a) < 1
    a_in = jnp.where(inside, a, 0.0)
    c = a_in / jnp.sqrt(2.0 * (1.0 - a_in * a_in))
    vals = jax.lax.map(lambda ci: jnp.sum(pw * jax.scipy.special.erf(x * ci)), c, batch_size=64)
    return jnp.where(inside, vals, jnp.sign(a) * marg.mean_abs)


def _interp(table: jax.Array, a: jax.Array) -> jax.Array:
    """Linear interpolation of a uniform table over [−1, 1] at a (any shape)."""
    m = table.shape[0] - 1
    u = (a + 1.0) * (0.5 * m)
    i = jnp.clip(jnp.floor(u).astype(jnp.int32), 0, m - 1)
    f = u - i
    return table[i] * (1.0 - f) + table[i + 1] * f


def _cubic(kappa, a):
    return math.sqrt(2.0 / math.pi) * (a + (3.0 - kappa) * a**3 / 6.0)


@partial(jax.jit, static_argnames=("predictor", "steps", "table_size", "mc_samples"))
def _phase_program(stacked, keys, w0, lr, predictor, steps, table_size, mc_samples):
    """Final weights (B, R, N) of the map for every point of a stacked model (its key in keys (B,)) and
    every w₀ (R, N)."""

    def point(model, pkey):
        s0 = model.class_covariance(0).astype(jnp.float32)
        s1 = model.class_covariance(1).astype(jnp.float32)
        p = jnp.asarray(model.class_proportion, jnp.float32)
        n = s1.shape[0]
        # One (2N, N) product per step gives Σ_1w (for a and the decay) and Σ_0w: the decay
        # ((1 − p)Σ_0 + pΣ_1)w costs no second product (measured 1.3x faster than two (N, N) products).
        both = jnp.concatenate([s1, s0])
        if predictor == "exact":
            table = _phi_table(model, table_size)
            g = lambda w, s1w, k: _interp(table, normalized_overlap(w, s1, s1w))  # noqa: E731
        elif predictor == "cubic":
            kappa = model.marginal.kurtosis
            g = lambda w, s1w, k: _cubic(kappa, normalized_overlap(w, s1, s1w))  # noqa: E731
        else:
            # The kernel roots are built once per point, not per step (a traced model rebuilds them per call).
            field = model._field
            ones = jnp.ones((mc_samples,), jnp.int32)

            def g(w, s1w, k):
                x = model._transform(field.sample(k, ones)).astype(jnp.float32)
                return 2.0 * ((x @ w) > 0).astype(x.dtype) @ x / mc_samples

        def one(w, ikey):
            def step(wc, k):
                u = both @ wc
                s1w, s0w = u[:n], u[n:]
                return wc + lr * (p * g(wc, s1w, k) - ((1 - p) * s0w + p * s1w)), None

            # Only the Monte Carlo term draws: the others scan without keys (no split of steps keys).
            ks = jax.random.split(ikey, steps) if predictor == "monte-carlo" else None
            wf, _ = jax.lax.scan(step, w, ks, length=steps)
            return wf

        return jax.vmap(one)(w0, jax.random.split(pkey, w0.shape[0]))

    return jax.vmap(point)(stacked, keys)


def predict_final(
    models: list[DataModel],
    w0,
    lr: float,
    steps: int,
    predictor: str = "exact",
    *,
    table_size: int = 1025,
    mc_samples: int = 2000,
    key: jax.Array | None = None,
) -> np.ndarray:
    """Final weights float32 (B, R, N) of the expected-SGD map after ``steps`` steps of size lr (t = lr·steps)
    for B models (one type and static shape) and R initial conditions w0 (R, N), one compiled program.

    predictor: "exact" (tabulated exact φ), "cubic" (kurtosis law) or "monte-carlo" (mc_samples fresh
    class-1 samples per step, drawn from key). See the module docstring.
    """
    _checks.choice("predictor", predictor, PREDICTORS)
    lr = _checks.real("lr", lr, low=0.0, low_open=True)
    steps = _checks.integer("steps", steps, minimum=1)
    table_size = _checks.integer("table_size", table_size, minimum=3)
    mc_samples = _checks.integer("mc_samples", mc_samples, minimum=1)
    if not models:
        raise ValueError("models must hold at least one data model")
    n = models[0].n_inputs
    w0 = np.asarray(w0, np.float32)
    if w0.ndim != 2 or w0.shape[1] != n or not np.all(np.isfinite(w0)) or np.any(~w0.any(axis=1)):
        raise ValueError(f"w0 must be a finite (R, N) array with N = {n} and no zero row, got {w0.shape}")
    if predictor == "cubic":
        bad = [m for m in models if not math.isfinite(m.marginal.kurtosis)]
        if bad:
            raise ValueError(f"the cubic predictor needs finite kurtosis; {bad[0]} has infinite kurtosis")
    stacked = jax.tree.map(lambda v: np.asarray(v, np.float32), stack(models))
    key = jax.random.key(0) if key is None else key
    keys = jax.random.split(key, len(models))  # one per point, so the split over cores changes nothing

    def run(points, point_keys):
        return _phase_program(
            points, point_keys, w0, np.float32(lr), predictor, steps, table_size, mc_samples
        )

    # The vmapped 40×40 products of one program run on one core (measured: 21 CPU-s in 18 s wall for
    # 1024 points × 8 inits), so the points are split over the cores.
    return np.asarray(split_rows(run, stacked, keys, workers=workers_for(len(models))))


def predict_ipr(models, w0, lr: float, steps: int, predictor: str = "exact", **kw) -> np.ndarray:
    """Final IPR (B, R) = Σw⁴/(Σw²)² of :func:`predict_final`."""
    return metrics.ipr(predict_final(models, w0, lr, steps, predictor, **kw))


__all__ = ["FAMILIES", "PREDICTORS", "family_models", "initial_conditions", "predict_final", "predict_ipr"]
