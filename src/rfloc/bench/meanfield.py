"""Exact expected-SGD map on the Ising ring (rfloc's extension, beyond the paper): speed of the
transfer-matrix data term inside the map (seeds split over the CPU cores, one thread each), and its accuracy
against the grid size M. Wall and CPU seconds are both reported: on a shared machine the wall time depends
on the other jobs; cpu_per_core_s (CPU seconds / cores used) is the wall time with those cores free and the
seeds split evenly, an optimistic estimate for an idle machine. Full profile: 28 seeds × 2000 steps; quick:
28 × 100."""

from __future__ import annotations

import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from rfloc.bench import peak_rss_mb
from rfloc.data import Ising
from rfloc.theory import effective_dynamics, ising_data_term

COLUMNS = [
    "case",
    "cores",
    "seeds",
    "steps",
    "N",
    "M",
    "compile_s",
    "warm_s",
    "cpu_s",
    "cpu_per_core_s",
    "evals_per_s",
    "max_abs_err",
    "peak_MB",
]

N, SEEDS, LR = 40, 28, 0.05
REFERENCE_M = 16384


def _weights() -> dict[str, np.ndarray]:
    sites = np.arange(N)
    d = np.minimum(np.abs(sites - 20), N - np.abs(sites - 20))
    return {
        "random w": np.random.default_rng(1).normal(size=N),
        "localized w": np.exp(-(d**2) / 2.0),
    }


def run(quick: bool = False) -> list[dict]:
    model = Ising(n=N)
    rows = []
    steps = 100 if quick else 2000
    w0 = 0.001 * np.sqrt(2 / (N + 1)) * np.random.default_rng(0).normal(size=(SEEDS, N))

    times = LR * np.arange(0, steps + 1, 10)

    def fn():
        return effective_dynamics(
            model, w0, times, integrator="map", lr=LR, data_term="ising-dp", grid_points=2048
        ).weights

    # Like warm_time(fn, repeats=1), plus the CPU seconds of the warm call (summed over the cores used).
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    jax.block_until_ready(fn())
    warm, cpu = time.perf_counter() - t0, time.process_time() - c0
    cores = min(os.cpu_count() or 1, SEEDS)
    rows.append(
        {
            "case": "exact Ising map (ising-dp)",
            "cores": cores,
            "seeds": SEEDS,
            "steps": steps,
            "N": N,
            "M": 2048,
            "compile_s": first - warm,
            "warm_s": warm,
            "cpu_s": cpu,
            "cpu_per_core_s": cpu / cores,
            "evals_per_s": SEEDS * steps / warm,
            "peak_MB": peak_rss_mb(),
        }
    )
    sizes = (256, 1024, 2048) if quick else (256, 512, 1024, 2048, 4096, 8192)
    for name, w in _weights().items():
        w = jnp.asarray(w, jnp.float32)
        ref = np.asarray(ising_data_term(w, model.J[1], REFERENCE_M))
        for m in sizes:
            out = np.asarray(ising_data_term(w, model.J[1], m))  # also compiles
            reps = 20
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(reps):
                jax.block_until_ready(ising_data_term(w, model.J[1], m))
            per_eval, per_cpu = (time.perf_counter() - t0) / reps, (time.process_time() - c0) / reps
            rows.append(
                {
                    "case": f"data term vs M={REFERENCE_M}, {name}",
                    "cores": 1,
                    "seeds": 1,
                    "N": N,
                    "M": m,
                    "warm_s": per_eval,
                    "cpu_s": per_cpu,
                    "cpu_per_core_s": per_cpu,
                    "evals_per_s": 1 / per_eval,
                    "max_abs_err": float(np.abs(out - ref).max()),
                    "peak_MB": peak_rss_mb(),
                }
            )
    return rows
