"""Theory of the single ReLU neuron: the amplifier φ, its cubic (kurtosis) law, the effective dynamics
dw/dt = p·φ(a(w)) − ((1 − p)Σ_0 + pΣ_1)w in t = lr × SGD steps, and predictions of the learned RF."""

from rfloc.theory.amplifier import (
    amplifier,
    amplifier_from_samples,
    cubic_amplifier,
    gaussian_amplifier,
    make_amplifier,
    quadrature_law,
)
from rfloc.theory.ode import EffectiveDynamics, effective_dynamics, sgd_noise
from rfloc.theory.predict import PeakAgreement, Prediction, peak_agreement, predict

__all__ = [
    "EffectiveDynamics",
    "PeakAgreement",
    "Prediction",
    "amplifier",
    "amplifier_from_samples",
    "cubic_amplifier",
    "effective_dynamics",
    "gaussian_amplifier",
    "make_amplifier",
    "peak_agreement",
    "predict",
    "quadrature_law",
    "sgd_noise",
]
