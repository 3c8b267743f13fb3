"""The vmapped phase-diagram predictor against the reference effective_dynamics engine."""

import numpy as np
import pytest

from rfloc import metrics
from rfloc.theory import effective_dynamics
from rfloc.theory.phase import family_models, initial_conditions, predict_ipr

LR, STEPS = 0.05, 300


@pytest.mark.parametrize("phi", ["exact", "cubic"])
def test_matches_effective_dynamics_at_sampled_points(phi):
    # Two points of one family in one stacked call, each compared with a direct map integration.
    # Tolerance: the tabulated exact φ differs from the quadrature by ≤ h²·max|φ''|/8 ≈ 1e-6 (h = 2/1024)
    # per step and both run in float32 (≈ 1e-7 per step); over 300 contracting steps the IPR moves by
    # far less than 1e-3 relative.
    models = family_models("nlgp", [0.7, 50.0], [0.6, 2.5])[1:3]  # (0.7, ξ₁ = 2.5), (50, ξ₁ = 0.6)
    w0 = initial_conditions(40, 2)
    got = predict_ipr(models, w0, LR, STEPS, phi)
    for b, model in enumerate(models):
        ref = effective_dynamics(model, w0, [0.0, LR * STEPS], phi=phi, integrator="map", lr=LR)
        np.testing.assert_allclose(got[b], np.asarray(metrics.ipr(ref.final)), rtol=1e-3)


@pytest.mark.slow  # the traced Kur covariance (Gauss–Hermite over 40 lags) compiles slowly on CPU
def test_kur_exact_matches_effective_dynamics():
    model = family_models("kur", [6.0], [3.0])
    w0 = initial_conditions(40, 2)
    got = predict_ipr(model, w0, LR, STEPS, "exact")
    ref = effective_dynamics(model[0], w0, [0.0, LR * STEPS], phi="exact", integrator="map", lr=LR)
    np.testing.assert_allclose(got[0], np.asarray(metrics.ipr(ref.final)), rtol=1e-3)


def test_bad_inputs_raise_before_compute():
    with pytest.raises(ValueError, match="k must be > 4"):
        family_models("kur", [4.0], [1.0])
    with pytest.raises(ValueError, match="family"):
        family_models("ising", [1.0], [1.0])
    models = family_models("nlgp", [1.0], [2.0])
    with pytest.raises(ValueError, match="predictor"):
        predict_ipr(models, initial_conditions(40, 1), LR, 10, "quartic")
    with pytest.raises(ValueError, match="w0"):
        predict_ipr(models, np.zeros((1, 40)), LR, 10, "cubic")
