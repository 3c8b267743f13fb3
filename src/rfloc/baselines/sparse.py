"""Sparse coding (Olshausen & Field 1996) with scikit-learn's MiniBatchDictionaryLearning as the reference.

Model: x ≈ u V with a dictionary V (C, N) of unit-norm atoms (the basis functions) and sparse codes u; the
fit minimizes the mean over samples of ½‖x − uV‖² + α‖u‖₁ subject to ‖V_k‖₂ ≤ 1 (scikit-learn's objective),
by online mini-batch steps: codes by coordinate descent (``fit_algorithm='cd'``), then a block-coordinate
dictionary update. On whitened natural-image patches the atoms come out localized, oriented and band-pass.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from rfloc._checks import integer, real


@dataclasses.dataclass(frozen=True)
class SparseCodingResult:
    """dictionary (C, N): unit-norm atoms V_k (the basis functions); ipr (C,): IPR Σv⁴/(Σv²)² of each atom;
    n_steps: mini-batch steps taken; alpha: the ℓ1 weight."""

    dictionary: np.ndarray
    ipr: np.ndarray
    n_steps: int
    alpha: float


def _check(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ValueError(f"x must be (num, N) with num >= 2, N >= 1, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite")
    return x


def sparse_coding(
    x,
    n_components: int,
    alpha: float = 1.0,
    batch_size: int = 256,
    epochs: int = 1,
    random_state: int = 0,
) -> SparseCodingResult:
    """Dictionary of n_components atoms learned from samples x (num, N) by MiniBatchDictionaryLearning
    (coordinate-descent codes, ``epochs`` passes over x in mini-batches of batch_size)."""
    x = _check(x)
    n_components = integer("n_components", n_components, minimum=1)
    alpha = real("alpha", alpha, low=0.0, low_open=True)
    batch_size = integer("batch_size", batch_size, minimum=1)
    epochs = integer("epochs", epochs, minimum=1)
    integer("random_state", random_state, minimum=0)

    from sklearn.decomposition import MiniBatchDictionaryLearning
    from threadpoolctl import threadpool_limits

    est = MiniBatchDictionaryLearning(
        n_components=n_components,
        alpha=alpha,
        batch_size=batch_size,
        max_iter=epochs,
        fit_algorithm="cd",
        random_state=int(random_state),
    )
    # One BLAS thread: the per-batch products are small, and multi-threaded OpenBLAS spin-waits on 2 cores
    # (measured: the LARS variant took 16x more CPU than coordinate descent, and threads made it worse).
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        est.fit(x)
    v = np.asarray(est.components_, dtype=np.float64)
    v2 = v**2
    return SparseCodingResult(
        dictionary=v,
        ipr=(v2**2).sum(-1) / v2.sum(-1) ** 2,
        n_steps=int(est.n_steps_),
        alpha=alpha,
    )


def lasso_codes(x, dictionary, alpha: float) -> np.ndarray:
    """Codes u (num, C) minimizing ½‖x − uV‖² + α‖u‖₁ for a fixed dictionary V (C, N) (coordinate descent)."""
    from sklearn.decomposition import sparse_encode

    x = _check(x)
    return sparse_encode(
        x, np.asarray(dictionary, np.float64), algorithm="lasso_cd", alpha=alpha, max_iter=2000
    )


def objective(x, dictionary, codes, alpha: float) -> float:
    """Mean over samples of ½‖x − uV‖² + α‖u‖₁ (scikit-learn's dictionary-learning objective)."""
    x, v, u = (np.asarray(a, np.float64) for a in (x, dictionary, codes))
    return float(np.mean(0.5 * ((x - u @ v) ** 2).sum(-1) + alpha * np.abs(u).sum(-1)))
