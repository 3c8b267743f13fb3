"""Splitting independent rows of a computation over the CPU cores, one thread each.

XLA runs a batched small-matrix program (a vmap of 40×40 products, a seed-by-seed dynamic program) on one
core; independent rows (seeds, grid points) split into one chunk per core run in parallel, because XLA
releases the GIL while a compiled program runs. Chunks are padded to equal size (the last row repeated),
so every chunk runs the same compiled program, and the padding is dropped from the result.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np


def workers_for(rows: int) -> int:
    """Threads to use for ``rows`` independent rows: one per core, at most one per row."""
    return max(1, min(os.cpu_count() or 1, rows))


def split_rows(run: Callable, *arrays, workers: int):
    """run(*chunk) on equal chunks of the leading axis of every leaf of ``arrays``, one thread each, the
    outputs' leading axes concatenated: equal to run(*arrays) for row-independent ``run``. workers = 1 calls
    run(*arrays) directly."""
    rows = jax.tree.leaves(arrays)[0].shape[0]
    if workers <= 1 or rows < 2:
        return run(*arrays)
    size = -(-rows // workers)
    idx = np.minimum(np.arange(size * workers), rows - 1).reshape(workers, size)

    def chunk(i):
        part = jax.tree.map(lambda a: a[idx[i]], arrays)
        return jax.block_until_ready(run(*part))

    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(chunk, range(workers)))
    return jax.tree.map(lambda *xs: jnp.concatenate(xs, axis=0)[:rows], *parts)
