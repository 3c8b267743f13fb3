"""Training throughput: the Fig 3 single neuron, the same ×28 seeds in one train_many, a K = 100 ReLU
SimpleNet on NLGP(g = 3) (SPEC §2 hyper-parameters), and a small gain sweep. Each case runs with
vectorize="map" (lax.map over runs, bit-identical to separate runs) and "vmap" (batched runs). Warm time
excludes compilation; "compiles" counts the XLA compilations of the first (cold) call, read from
jax.monitoring's backend-compile events, i.e. compiled programs per sweep (samplers included)."""

from __future__ import annotations

import contextlib
import time

import jax

from rfloc.bench import peak_rss_mb
from rfloc.data import NLGP, Ising
from rfloc.nn import NetConfig
from rfloc.train import TrainConfig, train_many

COLUMNS = [
    "case",
    "vectorize",
    "runs",
    "batch",
    "steps",
    "compiles",
    "compile_s",
    "warm_s",
    "steps_per_s",
    "run_steps_per_s",
    "peak_MB",
]

_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def count_compiles():
    """Yields a list that grows by one entry (seconds) per XLA backend compilation inside the block."""
    seen: list[float] = []

    def listener(event: str, duration: float, **_):
        if event == _COMPILE_EVENT:
            seen.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield seen
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def cases(quick: bool):
    fig3 = TrainConfig(
        data=Ising(n=40, J=(0.3, 0.7)),
        net=NetConfig(kind="neuron", init_scale=0.001),
        lr=0.05,
        batch_size=100,
        steps=500 if quick else 2000,
        eval_every=10,
    )
    yield "(a) fig3 neuron, Ising", fig3, 1, None
    yield "(b) fig3 neuron x28 seeds", fig3, 28, None
    simplenet = TrainConfig(
        data=NLGP(n=40, gain=3.0),
        net=NetConfig(kind="simplenet", width=100, activation="relu", init_scale=0.001),
        lr=5.0,
        batch_size=1000,
        steps=500 if quick else 5000,
        eval_every=100,
    )
    yield "(c) K=100 ReLU SimpleNet, NLGP(3)", simplenet, 1, None
    sweep = TrainConfig(
        data=NLGP(n=40, gain=1.0),
        net=NetConfig(kind="neuron", init_scale=0.001),
        lr=0.05,
        batch_size=1000,
        steps=200 if quick else 1000,
        eval_every=50,
    )
    gains = [0.5, 1.0, 2.0, 4.0]
    yield f"(d) gain sweep x{len(gains)}, 4 seeds, lr x2", sweep, 4, {"gain": gains, "lr": [0.05, 0.1]}


def run(quick: bool = False) -> list[dict]:
    rows = []
    for name, config, num_seeds, grid in cases(quick):
        seeds = list(range(num_seeds))
        runs = num_seeds * (1 if grid is None else len(grid["gain"]) * len(grid["lr"]))
        for vectorize in ("map", "vmap"):
            jax.clear_caches()  # each row counts its own compilations
            with count_compiles() as compiles:
                t0 = time.perf_counter()
                train_many(config, seeds=seeds, grid=grid, progress=False, vectorize=vectorize)
                first = time.perf_counter() - t0
            warm = float("inf")
            for _ in range(1 if quick else 2):
                t0 = time.perf_counter()
                train_many(config, seeds=seeds, grid=grid, progress=False, vectorize=vectorize)
                warm = min(warm, time.perf_counter() - t0)  # numpy results: already synchronized
            rows.append(
                {
                    "case": name,
                    "vectorize": vectorize,
                    "runs": runs,
                    "batch": config.batch_size,
                    "steps": config.steps,
                    "compiles": len(compiles),
                    "compile_s": first - warm,
                    "warm_s": warm,
                    "steps_per_s": config.steps / warm,
                    "run_steps_per_s": runs * config.steps / warm,
                    "peak_MB": peak_rss_mb(),
                }
            )
    return rows
