"""Predictions of the learned receptive field from the data's statistics alone.

``predict`` integrates the effective dynamics (:mod:`rfloc.theory.dynamics`) from given initial weights and
reports the final RF, its IPR and peak, and whether it localizes. Localization criterion (rfloc's): the
predicted IPR is at least ``LOCALIZATION_FACTOR`` = 2 times the IPR of the *Gaussian control* — the same
dynamics, same covariances Σ_0, Σ_1, same w₀ and time, with the Gaussian amplifier φ(a) = √(2/π)a, i.e.
what the data would give if only its covariances mattered. (That control converges to an extended
Fourier-like mode, IPR ≈ 1/N … 3/(2N); a localized bump of width ≈ N/10 has IPR several times larger.)
Comparing predictions with trained networks is the job of :mod:`rfloc.protocols`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from rfloc import _checks, metrics
from rfloc.data import DataModel
from rfloc.theory.dynamics import EffectiveDynamics, effective_dynamics

LOCALIZATION_FACTOR = 2.0


@dataclasses.dataclass(frozen=True)
class Prediction:
    """Predicted RF at the final time. Arrays have the leading shape of w0 minus its last axis.

    rf (…, N); ipr, peak (argmax |w_i|), localizes (ipr >= threshold); control_ipr: IPR of the Gaussian
    control (module docstring); threshold = factor × control_ipr; dynamics: the full trajectory.
    """

    rf: np.ndarray
    ipr: np.ndarray
    peak: np.ndarray
    localizes: np.ndarray
    control_ipr: np.ndarray
    threshold: np.ndarray
    dynamics: EffectiveDynamics


def predict(
    model: DataModel,
    w0,
    time: float,
    phi: str | Callable = "exact",
    integrator: str = "ode",
    lr: float | None = None,
    factor: float = LOCALIZATION_FACTOR,
    num_times: int = 101,
    **kwargs,
) -> Prediction:
    """Final RF of the effective dynamics from w0 (N,) or (R, N) at ``time`` (t = lr × SGD steps).

    phi, integrator, lr and kwargs go to :func:`effective_dynamics` (trajectory saved at num_times points;
    for the map integrators ``time`` must be a multiple of lr and the saving grid is rounded to whole steps).
    localizes: IPR >= factor × IPR of the Gaussian control (module docstring); the control always uses the
    φ data term.
    """
    time = _checks.real("time", time, low=0.0, low_open=True)
    factor = _checks.real("factor", factor, low=0.0, low_open=True)
    num_times = _checks.integer("num_times", num_times, minimum=2)
    times = np.linspace(0.0, time, num_times)
    if integrator != "ode" and lr is not None and lr > 0:
        times = np.unique(np.rint(times / lr)) * lr
    dyn = effective_dynamics(model, w0, times, phi=phi, integrator=integrator, lr=lr, **kwargs)
    control_kwargs = {k: v for k, v in kwargs.items() if k not in ("data_term", "grid_points", "mc_samples")}
    control = effective_dynamics(
        model, w0, times, phi="gaussian", integrator=integrator, lr=lr, **control_kwargs
    )
    rf = dyn.final
    value, control_ipr = np.asarray(metrics.ipr(rf)), np.asarray(metrics.ipr(control.final))
    threshold = factor * control_ipr
    return Prediction(
        rf=rf,
        ipr=value,
        peak=np.asarray(metrics.peak_index(rf)),
        localizes=value >= threshold,
        control_ipr=control_ipr,
        threshold=threshold,
        dynamics=dyn,
    )
