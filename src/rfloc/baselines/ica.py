"""FastICA baseline (SPEC §2, Fig 5 ICA row): the filters ICA learns from a data model's unlabelled inputs.

ICA models x = A s with independent sources s; FastICA (scikit-learn) estimates the unmixing W ≈ A⁻¹ so that
s = W (x − mean). The rows of W are the *filters* (the analogue of a network's receptive fields), the
columns of A = W⁺ the basis functions. With n_components C < N, FastICA first whitens onto the top-C
principal components, so every filter lies in that C-dimensional subspace.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Iterator

import numpy as np

from rfloc import metrics
from rfloc._checks import choice, integer, real

WHITEN = ("unit-variance", "arbitrary-variance")


@contextlib.contextmanager
def silenced_nonconvergence() -> Iterator[None]:
    """Silence scikit-learn's "FastICA did not converge" warning: :class:`IcaResult` reports convergence.

    Warning filters are process-wide before Python 3.14, so a fit's own block, on leaving, restores the
    filters while a fit in another thread may still be running, and that fit's warning escapes. Code that
    runs fits in threads holds this block around all of them (fit_in_parallel, the reproduction's jobs).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="FastICA did not converge")
        yield


@dataclasses.dataclass(frozen=True)
class IcaResult:
    """filters (C, N): unmixing rows, s = filters @ (x − mean); mixing (N, C): x − mean ≈ mixing @ s;
    ipr (C,): IPR Σw⁴/(Σw²)² of each filter; n_iter: FastICA iterations; converged: n_iter < max_iter."""

    filters: np.ndarray
    mixing: np.ndarray
    ipr: np.ndarray
    n_iter: int
    converged: bool


def _check_options(whiten, random_state, max_iter, tol) -> None:
    choice("whiten", whiten, WHITEN)
    integer("random_state", random_state, minimum=0)
    integer("max_iter", max_iter, minimum=1)
    real("tol", tol, low=0.0, high=1.0, low_open=True, high_open=True)


def ica(
    x,
    n_components: int,
    whiten: str = "unit-variance",
    random_state: int = 0,
    max_iter: int = 1000,
    tol: float = 1e-4,
) -> IcaResult:
    """FastICA (logcosh contrast, parallel) of samples x (num, N) with num > N; C = n_components ≤ N.

    Non-convergence within max_iter is reported in IcaResult.converged (sklearn's warning is silenced).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] <= x.shape[1] or x.shape[1] < 1:
        raise ValueError(f"x must be (num, N) with num > N >= 1, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite")
    n_components = integer("n_components", n_components, minimum=1, maximum=x.shape[1])
    _check_options(whiten, random_state, max_iter, tol)

    from sklearn.decomposition import FastICA
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    est = FastICA(
        n_components=n_components,
        whiten=whiten,
        random_state=int(random_state),
        max_iter=int(max_iter),
        tol=float(tol),
    )
    # One BLAS thread: FastICA's products are small (C × N by N × num), and multi-threaded OpenBLAS spends
    # its time spin-waiting — measured 50× slower (0.8 s → 45 s CPU for N = C = 40, 2·10⁴ samples) on 2 cores.
    with silenced_nonconvergence(), threadpool_limits(1):
        est.fit(x)
    filters = np.asarray(est.components_, dtype=np.float64)
    return IcaResult(
        filters=filters,
        mixing=np.asarray(est.mixing_, dtype=np.float64),
        ipr=np.asarray(metrics.ipr(filters), dtype=np.float64),
        n_iter=int(est.n_iter_),
        converged=bool(est.n_iter_ < max_iter),
    )


def fit_ica(
    model,
    num: int,
    n_components: int,
    key,
    whiten: str = "unit-variance",
    random_state: int = 0,
    max_iter: int = 1000,
    tol: float = 1e-4,
) -> IcaResult:
    """FastICA on num inputs drawn from ``model`` (a rfloc.data model) with key, both classes pooled
    and labels dropped — the authors' protocol (10⁵ samples, whiten='unit-variance', random_state 0)."""
    from rfloc.data import DataModel

    if not isinstance(model, DataModel):
        raise ValueError(f"model must be a rfloc.data model, got {type(model).__name__}")
    num = integer("num", num, minimum=model.n_inputs + 1)
    integer("n_components", n_components, minimum=1, maximum=model.n_inputs)
    _check_options(whiten, random_state, max_iter, tol)  # before the (costly) sampling
    x, _ = model.sample(key, num)
    return ica(x, n_components, whiten=whiten, random_state=random_state, max_iter=max_iter, tol=tol)
