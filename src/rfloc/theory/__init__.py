"""Theory of the single ReLU neuron: statistics of the data in, predicted dynamics and receptive fields out.

Layout (nothing here trains a network; comparisons with SGD live in :mod:`rfloc.protocols`):

* :mod:`~rfloc.theory.amplifier` — the amplifier φ of a marginal law (exact, cubic, Gaussian, Monte Carlo)
  and φ selection for the dynamics;
* :mod:`~rfloc.theory.covariances` — the class covariances Σ_0, Σ_1, exact or estimated;
* :mod:`~rfloc.theory.ising_dp` — the exact Ising-ring data term E₁[1{s>0}x] by a transfer-matrix DP;
* :mod:`~rfloc.theory.data_term` — the data term g(w) of the velocity: φ(a(w)), exact Ising DP, Monte Carlo;
* :mod:`~rfloc.theory.dynamics` — the one effective-dynamics engine dw/dt = p·g(w) − ((1 − p)Σ_0 + pΣ_1)w in
  t = lr × SGD steps, integrated as an ODE, a per-step map or the authors' map; pure JAX core + wrapper;
* :mod:`~rfloc.theory.noise` — the linear-response spread of online SGD around the map from batch noise;
* :mod:`~rfloc.theory.predict` — the final RF, its IPR and peak, and the localization criterion;
* :mod:`~rfloc.theory.phase` — rfloc's extension: the predicted final IPR over a grid of data models and
  initial conditions (exact φ, cubic φ, Monte Carlo map), one compiled program per family.
* :mod:`~rfloc.theory.torus` — rfloc's extension: the same dynamics on the 2-D torus, covariances by FFT;
* :mod:`~rfloc.theory.cores` — independent rows (seeds, grid points) split over the CPU cores, a thread each.
"""

from rfloc.theory.amplifier import (
    amplifier,
    amplifier_from_samples,
    cubic_amplifier,
    gaussian_amplifier,
    make_amplifier,
    quadrature_law,
    select_amplifier,
)
from rfloc.theory.covariances import class_covariances
from rfloc.theory.data_term import DataTerm, make_data_term
from rfloc.theory.dynamics import EffectiveDynamics, effective_dynamics, iterate_map, solve_ode, velocity
from rfloc.theory.ising_dp import ising_data_term
from rfloc.theory.noise import sgd_noise
from rfloc.theory.phase import predict_final, predict_ipr
from rfloc.theory.predict import Prediction, predict
from rfloc.theory.torus import TorusOperator, torus_class_operators, torus_dynamics, torus_operator

__all__ = [
    "DataTerm",
    "EffectiveDynamics",
    "Prediction",
    "amplifier",
    "amplifier_from_samples",
    "class_covariances",
    "cubic_amplifier",
    "effective_dynamics",
    "gaussian_amplifier",
    "ising_data_term",
    "iterate_map",
    "make_amplifier",
    "make_data_term",
    "predict",
    "predict_final",
    "predict_ipr",
    "quadrature_law",
    "select_amplifier",
    "sgd_noise",
    "solve_ode",
    "velocity",
    "TorusOperator",
    "torus_class_operators",
    "torus_dynamics",
    "torus_operator",
]
