"""Training throughput: the Fig 3 single neuron, the same ×28 seeds in one train_many, a K = 100 ReLU
SimpleNet on NLGP(g = 3) (SPEC §2 hyper-parameters), a small gain sweep, and the Fig 4 (right) grid (NLGP
gains and Kur k, one train_many call per data family: data parameters are traced, so each family is one
compiled program). Each case runs with
vectorize="map" (lax.map over runs, bit-identical to separate runs) and "vmap" (batched runs). Warm time
excludes compilation; "compiles" counts the XLA compilations of the first (cold) call, read from
jax.monitoring's backend-compile events, i.e. compiled programs per sweep (samplers included); cpu_s is
the process CPU time of the warm call (the machine may be shared). samples_per_s is the training throughput
summed over runs (runs × batch × steps / warm_s); vs_sampler divides it by the warm throughput of the data
model's sampler alone (`rfloc.bench.data`'s measurement, one call of the same number of samples as one
step of all runs)."""

from __future__ import annotations

import contextlib
import time

import jax
import numpy as np

from rfloc.bench import peak_rss_mb, warm_time
from rfloc.data import NLGP, Ising, Kur
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
    "cpu_s",
    "steps_per_s",
    "run_steps_per_s",
    "samples_per_s",
    "vs_sampler",
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
    """(name, [(config, seeds, grid), ...]): the train_many calls of one case."""
    fig3 = TrainConfig(
        data=Ising(n=40, J=(0.3, 0.7)),
        net=NetConfig(kind="neuron", init_scale=0.001),
        lr=0.05,
        batch_size=100,
        steps=500 if quick else 2000,
        eval_every=10,
    )
    yield "(a) fig3 neuron, Ising", [(fig3, 1, None)]
    yield "(b) fig3 neuron x28 seeds", [(fig3, 28, None)]
    simplenet = TrainConfig(
        data=NLGP(n=40, gain=3.0),
        net=NetConfig(kind="simplenet", width=100, activation="relu", init_scale=0.001),
        lr=5.0,
        batch_size=1000,
        steps=500 if quick else 5000,
        eval_every=100,
    )
    yield "(c) K=100 ReLU SimpleNet, NLGP(3)", [(simplenet, 1, None)]
    sweep = TrainConfig(
        data=NLGP(n=40, gain=1.0),
        net=NetConfig(kind="neuron", init_scale=0.001),
        lr=0.05,
        batch_size=1000,
        steps=200 if quick else 1000,
        eval_every=50,
    )
    gains = [0.5, 1.0, 2.0, 4.0]
    yield (
        f"(d) gain sweep x{len(gains)}, 4 seeds, lr x2",
        [(sweep, 4, {"data.gain": gains, "lr": [0.05, 0.1]})],
    )
    # Fig 4 (right) at SPEC §2's Fig 3 settings with the paper's batch 10 000: 10 gains + 10 k × 4 seeds
    steps, batch, seeds = (100, 1000, 2) if quick else (2000, 10_000, 4)
    num = 3 if quick else 10
    fig4 = dict(net=NetConfig(kind="neuron", init_scale=0.001), lr=0.05, batch_size=batch, steps=steps)
    gains = [float(g) for g in np.geomspace(0.01, 100.0, num)]
    ks = [float(k) for k in np.linspace(5.0, 30.0, num)]
    yield (
        f"(e) fig4-right grid {2 * num} pts x{seeds} seeds",
        [
            (TrainConfig(data=NLGP(n=40), eval_every=steps // 20, **fig4), seeds, {"data.gain": gains}),
            (TrainConfig(data=Kur(n=40), eval_every=steps // 20, **fig4), seeds, {"data.k": ks}),
        ],
    )


def _sampler_rate(calls) -> float:
    """Samples/s of the data sampler alone: one call drawing one step's samples of all runs (warm)."""
    seconds, total = 0.0, 0
    for config, seeds, grid in calls:
        num = config.batch_size * _num_runs(seeds, grid)
        key = iter(jax.random.split(jax.random.key(0), 8))
        _, warm = warm_time(lambda c=config, n=num, k=key: c.data.sample(next(k), n)[0])
        seconds += warm
        total += num
    return total / seconds


def _num_runs(seeds, grid) -> int:
    return seeds * (1 if grid is None else int(np.prod([len(v) for v in grid.values()])))


def run(quick: bool = False) -> list[dict]:
    rows = []
    for name, calls in cases(quick):
        runs = sum(_num_runs(seeds, grid) for _, seeds, grid in calls)
        config = calls[0][0]
        sampler = _sampler_rate(calls)
        for vectorize in ("map", "vmap"):

            def once(vectorize=vectorize, calls=calls):
                for cfg, seeds, grid in calls:
                    train_many(cfg, seeds=list(range(seeds)), grid=grid, progress=False, vectorize=vectorize)

            jax.clear_caches()  # each row counts its own compilations
            with count_compiles() as compiles:
                t0 = time.perf_counter()
                once()
                first = time.perf_counter() - t0
            warm, cpu = float("inf"), float("inf")
            for _ in range(1 if quick else 2):
                t0, c0 = time.perf_counter(), time.process_time()
                once()  # numpy results: already synchronized
                warm = min(warm, time.perf_counter() - t0)
                cpu = min(cpu, time.process_time() - c0)
            samples = runs * config.batch_size * config.steps / warm
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
                    "cpu_s": cpu,
                    "steps_per_s": config.steps / warm,
                    "run_steps_per_s": runs * config.steps / warm,
                    "samples_per_s": samples,
                    "vs_sampler": samples / sampler,
                    "peak_MB": peak_rss_mb(),
                }
            )
    return rows
