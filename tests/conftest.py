"""Shared statistical helpers for the tests.

Tolerances are k standard errors, with the standard error estimated from the same sample: for an
entrywise mean of n i.i.d. products, SE = sd(product)/√n. With ~10³ entries checked at once, a 6-SE
band keeps the family-wise false-alarm rate below 1e-5 (Gaussian tail 2e-9 per entry).
"""

import os

import numpy as np
import pytest

from rfloc.cli.reproduce import quick_xla_flags

# The suite compiles hundreds of small programs and runs each briefly, so it compiles for speed like
# `rfloc reproduce --quick` (LLVM -O1, XLA:CPU's older fusion emitters): measured on 2 cores,
# test_theory_dynamics + test_train 160 -> 115 s. Set before any computation starts the backend (XLA reads
# the flags then); the numbers checked are the same maths, compiled differently. `make reproduce` and
# `rfloc bench` run XLA's defaults.
os.environ["XLA_FLAGS"] = quick_xla_flags(os.environ.get("XLA_FLAGS", ""))

Z = 6.0


def assert_within_se(estimate, expected, se, z=Z, what="value"):
    estimate, expected, se = (np.asarray(v, dtype=np.float64) for v in (estimate, expected, se))
    err = np.abs(estimate - expected)
    worst = np.max(err / np.maximum(se, 1e-300))
    assert np.all(err <= z * se), f"{what}: worst deviation {worst:.2f} SE (> {z})"


def empirical_covariance(x: np.ndarray):
    """Second-moment matrix of rows (mean 0 by construction) and its entrywise standard error."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    cov = x.T @ x / n
    second = (x**2).T @ (x**2) / n  # E[x_i² x_j²], so Var(x_i x_j) = second − cov²
    se = np.sqrt(np.clip(second - cov**2, 0, None) / n)
    return cov, se


@pytest.fixture
def check_covariance():
    def check(model, num=200_000, seed=0, label=1):
        import jax

        x, y = model.sample(jax.random.key(seed), num)
        x, y = np.asarray(x), np.asarray(y)
        cov, se = empirical_covariance(x[y == label])
        assert_within_se(cov, model.class_covariance(label), se, what=f"{model!r} covariance")

    return check


@pytest.fixture(autouse=True)
def _no_persistent_compile_cache(monkeypatch):
    """`rfloc reproduce` turns on JAX's persistent compilation cache in ~/.cache; tests run it in process,
    so it stays off here (no writes outside tmp, no process-wide config change). test_reproduce checks it
    in a subprocess."""
    from rfloc.cli import reproduce

    monkeypatch.setattr(reproduce, "enable_compile_cache", lambda folder: None)
