"""The data term of the effective dynamics dw/dt = scale·g(w) − decay·w, in three versions.

g is the "φ-equivalent" data term, 2·E₁[1{s>0}x] with s = w·x and E₁ the class-1 expectation (the velocity
scale is p = P(y = 1), see :mod:`rfloc.theory.dynamics`):

* ``"phi"``: the paper's Gaussian-conditional approximation g(w) = φ(a(w)), a = Σ_1 w/√(wᵀΣ_1 w), with φ
  from :func:`rfloc.theory.amplifier.select_amplifier` (exact, cubic, gaussian or a callable);
* ``"ising-dp"``: the exact value for the Ising ring, 2·E₁[1{s>0}x] by the transfer-matrix dynamic program
  of :mod:`rfloc.theory.ising_dp` (no Gaussian assumption);
* ``"monte-carlo"``: 2·mean over a class-1 sample of 1{s>0}x, for any model (a fresh sample per map step;
  one fixed sample for the ODE, whose velocity must be a function of w alone).

Each is a :class:`DataTerm`: a module-level (hashable, so compiled programs are reused) function
``fn(w, params, key) -> g(w)`` for one w (N,), and its parameters, a pytree of arrays that may be traced
(jit, vmap, grad: e.g. the Ising coupling or Σ_1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import lru_cache, partial

import jax
import jax.numpy as jnp

from rfloc import _checks
from rfloc.data import DataModel, Ising
from rfloc.theory.amplifier import select_amplifier
from rfloc.theory.ising_dp import check_grid_points, ising_sign_terms

DATA_TERMS = ("phi", "ising-dp", "monte-carlo")


@dataclasses.dataclass(frozen=True)
class DataTerm:
    """g(w) = fn(w, params, key) for one w (N,); fn static, params a pytree of arrays; name says which."""

    fn: Callable
    params: object
    name: str


def normalized_overlap(w: jax.Array, sigma1: jax.Array, sigma1_w: jax.Array | None = None) -> jax.Array:
    """a(w) = Σ_1 w/√(wᵀΣ_1 w) for one w (N,), clipped to [−1, 1] against round-off; sigma1_w: Σ_1 w when
    the caller has it already."""
    v = sigma1 @ w if sigma1_w is None else sigma1_w
    return jnp.clip(v / jnp.sqrt(jnp.maximum(w @ v, jnp.finfo(w.dtype).tiny)), -1.0, 1.0)


def _phi_term(phi_fn, w, params, key):
    phi_params, sigma1 = params
    return phi_fn(normalized_overlap(w, sigma1), phi_params)


@lru_cache(maxsize=64)
def _phi_term_fn(phi_fn: Callable) -> Callable:
    return partial(_phi_term, phi_fn)


def _ising_term(m, w, coupling, key):
    return 2.0 * ising_sign_terms(w, coupling, m)


@lru_cache(maxsize=16)
def _ising_term_fn(m: int) -> Callable:
    return partial(_ising_term, m)


def _mc_term(model1, num_samples, w, params, key):
    x, _ = model1.sample(key, num_samples)
    return 2.0 * ((x @ w) > 0).astype(x.dtype) @ x / num_samples


@lru_cache(maxsize=16)
def _mc_term_fn(model1: DataModel, num_samples: int) -> Callable:
    return partial(_mc_term, model1, num_samples)


def phi_data_term(model: DataModel, phi, sigma1) -> DataTerm:
    """g(w) = φ(a(w)) with φ = "exact" | "cubic" | "gaussian" | callable a -> φ(a) (ValueError otherwise)."""
    phi_fn, phi_params, name = select_amplifier(model.marginal, phi)
    return DataTerm(_phi_term_fn(phi_fn), (phi_params, jnp.asarray(sigma1, jnp.float32)), f"phi={name}")


def ising_data_term(model: DataModel, grid_points: int = 2048) -> DataTerm:
    """g(w) = 2·E₁[1{s>0}x] exactly for an Ising ring by the DP on ``grid_points`` points; params: J₁."""
    if not isinstance(model, Ising):
        raise ValueError(f"data_term='ising-dp' needs an Ising model, got {type(model).__name__}")
    m = check_grid_points(grid_points, model.n_inputs)
    return DataTerm(_ising_term_fn(m), jnp.float32(model.J[1]), "ising-dp")


def monte_carlo_data_term(model: DataModel, num_samples: int = 100_000) -> DataTerm:
    """g(w) = 2·mean of 1{s>0}x over num_samples class-1 samples drawn with the key given to fn."""
    num_samples = _checks.integer("mc_samples", num_samples, minimum=1)
    model1 = model if model.class_proportion == 1.0 else dataclasses.replace(model, class_proportion=1.0)
    return DataTerm(_mc_term_fn(model1, num_samples), None, "monte-carlo")


def make_data_term(
    model: DataModel, data_term: str, phi, sigma1, grid_points: int = 2048, mc_samples: int = 100_000
) -> DataTerm:
    """The data term named ``data_term`` (one of DATA_TERMS) for ``model``; see the module docstring."""
    _checks.choice("data_term", data_term, DATA_TERMS)
    if data_term == "phi":
        return phi_data_term(model, phi, sigma1)
    if data_term == "ising-dp":
        return ising_data_term(model, grid_points)
    return monte_carlo_data_term(model, mc_samples)
