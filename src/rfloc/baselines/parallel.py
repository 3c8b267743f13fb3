"""Independent baseline fits (FastICA, sparse coding) side by side, one thread per core.

Each fit runs single-threaded BLAS (multi-threaded OpenBLAS spin-waits on these products, see ica.py) and
scikit-learn's products and Cython loops release the GIL, so two fits on two cores take the time of one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from rfloc.baselines.ica import silenced_nonconvergence
from rfloc.theory.cores import workers_for

R = TypeVar("R")


def fit_in_parallel(calls: Sequence[Callable[[], R]]) -> list[R]:
    """[call() for call in calls], the calls run in threads (one per core, at most one per call) with one
    BLAS thread each. Each fit is deterministic given its inputs, so the results equal the sequential ones."""
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    calls = list(calls)
    # The BLAS limit and the warning filters are process-wide: set once here, so a fit's own blocks restore
    # them, not the caller's settings, on exit while the other fit runs.
    with silenced_nonconvergence(), threadpool_limits(1), ThreadPoolExecutor(workers_for(len(calls))) as pool:
        return list(pool.map(lambda call: call(), calls))
