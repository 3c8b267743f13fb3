"""Training throughput: the Fig 3 single neuron, the same ×28 seeds in one train_many, and a K = 100
ReLU SimpleNet on NLGP(g = 3) (SPEC §2 hyper-parameters). Warm time excludes compilation."""

from __future__ import annotations

import time

from rfloc.bench import peak_rss_mb
from rfloc.data import NLGP, Ising
from rfloc.nn import NetConfig
from rfloc.train import TrainConfig, train_many

COLUMNS = [
    "case",
    "runs",
    "batch",
    "steps",
    "compile_s",
    "warm_s",
    "steps_per_s",
    "run_steps_per_s",
    "peak_MB",
]


def cases(quick: bool):
    fig3 = TrainConfig(
        data=Ising(n=40, J=(0.3, 0.7)),
        net=NetConfig(kind="neuron", init_scale=0.001),
        lr=0.05,
        batch_size=100,
        steps=500 if quick else 2000,
        eval_every=10,
    )
    yield "(a) fig3 neuron, Ising", fig3, 1
    yield "(b) fig3 neuron x28 seeds", fig3, 28
    simplenet = TrainConfig(
        data=NLGP(n=40, gain=3.0),
        net=NetConfig(kind="simplenet", width=100, activation="relu", init_scale=0.001),
        lr=5.0,
        batch_size=1000,
        steps=500 if quick else 5000,
        eval_every=100,
    )
    yield "(c) K=100 ReLU SimpleNet, NLGP(3)", simplenet, 1


def run(quick: bool = False) -> list[dict]:
    rows = []
    for name, config, num_seeds in cases(quick):
        seeds = list(range(num_seeds))
        t0 = time.perf_counter()
        train_many(config, seeds=seeds, progress=False)
        first = time.perf_counter() - t0
        warm = float("inf")
        for _ in range(1 if quick else 2):
            t0 = time.perf_counter()
            train_many(config, seeds=seeds, progress=False)  # returns numpy arrays: already synchronized
            warm = min(warm, time.perf_counter() - t0)
        rows.append(
            {
                "case": name,
                "runs": num_seeds,
                "batch": config.batch_size,
                "steps": config.steps,
                "compile_s": first - warm,
                "warm_s": warm,
                "steps_per_s": config.steps / warm,
                "run_steps_per_s": num_seeds * config.steps / warm,
                "peak_MB": peak_rss_mb(),
            }
        )
    return rows
