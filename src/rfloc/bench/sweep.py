"""Sweep executors: Dask LocalCluster start-up, per-job overhead and job throughput, in process and on 1 or
2 spawned workers (with 1 or 2 XLA threads each). Jobs are Fig 3 neurons (Ising, N = 40) over a grid of
learning rates, one compiled program per process: the cold pass includes each worker's compile, the warm
pass reuses it. Files are not written here (the executors alone are timed)."""

from __future__ import annotations

import time

from rfloc.bench import peak_rss_mb
from rfloc.data import Ising
from rfloc.nn import NetConfig
from rfloc.sweep import Sweep, _in_process, _on_dask, local_cluster
from rfloc.train import TrainConfig

COLUMNS = [
    "executor",
    "workers",
    "xla_threads",
    "jobs",
    "startup_s",
    "cold_s",
    "warm_s",
    "warm_jobs_per_s",
    "job_overhead_ms",
    "peak_MB",
]


def _sweep(quick: bool, first_seed: int) -> Sweep:
    base = TrainConfig(
        data=Ising(n=40, J=(0.3, 0.7)),
        net=NetConfig(kind="neuron", init_scale=0.001),
        batch_size=100,
        steps=200 if quick else 1000,
        eval_every=100,
        seed=first_seed,
    )
    lrs = [0.02 + 0.01 * i for i in range(4 if quick else 8)]
    return Sweep(base=base, grid={"lr": lrs}, seeds=tuple(range(first_seed, first_seed + 4)), chunk=4)


def _drain(results) -> float:
    t0 = time.perf_counter()
    for job, _, err in results:
        if err is not None:
            raise RuntimeError(f"bench job {job.describe()} failed: {err}")
    return time.perf_counter() - t0


def run(quick: bool = False) -> list[dict]:
    cold_jobs = _sweep(quick, 0).jobs()
    warm_jobs = _sweep(quick, 100).jobs()  # other seeds: same shapes, so the compiled program is reused
    num = len(warm_jobs)
    cold = _drain(_in_process(cold_jobs))
    warm = _drain(_in_process(warm_jobs))
    rows = [
        {
            "executor": "in-process",
            "workers": 0,
            "xla_threads": "all",
            "jobs": num,
            "startup_s": 0.0,
            "cold_s": cold,
            "warm_s": warm,
            "warm_jobs_per_s": num / warm,
            "job_overhead_ms": 0.0,
            "peak_MB": peak_rss_mb(),
        }
    ]
    base_per_job = warm / num
    for workers, threads in ((1, 1), (1, 2), (2, 1)):
        t0 = time.perf_counter()
        with local_cluster(workers, threads) as client:
            client.wait_for_workers(workers)
            startup = time.perf_counter() - t0
            cold = _drain(_on_dask(client, cold_jobs))
            warm = _drain(_on_dask(client, warm_jobs))
        rows.append(
            {
                "executor": "LocalCluster",
                "workers": workers,
                "xla_threads": threads if threads == 1 else "all",
                "jobs": num,
                "startup_s": startup,
                "cold_s": cold,
                "warm_s": warm,
                "warm_jobs_per_s": num / warm,
                # one worker runs the jobs one after another, like in-process: the difference is overhead
                "job_overhead_ms": 1e3 * (warm / num - base_per_job) if workers == 1 else "",
                "peak_MB": peak_rss_mb(),
            }
        )
    return rows
