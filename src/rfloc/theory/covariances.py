"""Class covariances Σ_0, Σ_1 of a data model, exact or estimated from samples, for the effective dynamics."""

from __future__ import annotations

import jax
import numpy as np

from rfloc import _checks
from rfloc.data import DataModel

COVARIANCES = ("exact", "empirical")


def class_covariances(model: DataModel, covariance="exact", key=None, num_samples: int = 100_000):
    """(Σ_0, Σ_1) float64 (N, N): exact from the model, empirical second moments of num_samples fresh samples
    (drawn with key, default key 0), or a given pair of matrices."""
    if isinstance(covariance, tuple | list):
        if len(covariance) != 2:
            raise ValueError("covariance given as matrices must be a pair (Σ_0, Σ_1)")
        return tuple(np.asarray(c, dtype=np.float64) for c in covariance)
    _checks.choice("covariance", covariance, COVARIANCES)
    if covariance == "exact":
        return model.class_covariance(0), model.class_covariance(1)
    num_samples = _checks.integer("num_samples", num_samples, minimum=2)
    x, y = model.sample(jax.random.key(0) if key is None else key, num_samples)
    x, y = np.asarray(x, np.float64), np.asarray(y)
    out = []
    for label in (0, 1):
        xs = x[y == label]
        if xs.shape[0] < 2:
            raise ValueError(f"num_samples = {num_samples} gave fewer than 2 samples of class {label}")
        out.append(xs.T @ xs / xs.shape[0])  # mean 0 by construction: second moments
    return tuple(out)
