"""Sampling throughput of every data model (warm, compile excluded), per PRNG implementation.

The samplers draw from whatever key they are given, so the PRNG is the caller's choice
(``jax.random.key(seed, impl=...)``); `rfloc.data.prng` records which one rfloc uses per device.
"""

from __future__ import annotations

import jax

from rfloc.bench import peak_rss_mb, warm_time
from rfloc.data import NLGP, Elliptical, GaussianGP, Ising, Kur, stack
from rfloc.data.prng import IMPLS

COLUMNS = ["model", "N", "num", "method", "prng", "compile_s", "warm_s", "samples_per_s", "peak_MB"]


def cases(quick: bool):
    big, ising = (10_000, 10_000) if quick else (100_000, 100_000)
    yield "gaussian", GaussianGP(), big
    yield "nlgp(g=3)", NLGP(gain=3.0), big
    yield "kur(k=5)", Kur(k=5.0), big
    yield "ising", Ising(), ising
    yield "elliptical(t3)", Elliptical(radial="t"), big
    yield "elliptical(shell)", Elliptical(radial="shell"), big
    yield "elliptical(custom)", Elliptical(radial="custom"), big
    yield "nlgp 2-D", NLGP(n=64, dim=2, gain=3.0), 1_000 if quick else 10_000


def _row(name, model, num, impl, fn) -> dict:
    keys = iter(jax.random.split(jax.random.key(0, impl=impl), 8))
    compile_s, warm_s = warm_time(lambda: fn(next(keys)))
    return {
        "model": name,
        "N": "x".join(str(model.n) for _ in range(model.dim)),
        "num": num,
        "method": model._field.method if hasattr(model, "_field") else "exact chain",
        "prng": impl,
        "compile_s": compile_s - warm_s,
        "warm_s": warm_s,
        "samples_per_s": num / warm_s,
        "peak_MB": peak_rss_mb(),
    }


def run(quick: bool = False) -> list[dict]:
    rows = []
    for name, model, num in cases(quick):
        impls = IMPLS if name in ("nlgp(g=3)", "kur(k=5)", "ising") else IMPLS[:1]
        for impl in impls:
            rows.append(_row(name, model, num, impl, lambda k, m=model, n=num: m.sample(k, n)[0]))
    # A vmapped sweep: 8 gains through one compiled program (traced constants), per-model throughput.
    gains = [0.5 * (i + 1) for i in range(8)]
    sweep = jax.jit(jax.vmap(lambda m, k: m.sample(k, 10_000)[0], in_axes=(0, None)))
    stacked = stack([NLGP(gain=g) for g in gains])
    row = _row("nlgp sweep (8 gains, vmap)", NLGP(), 8 * 10_000, IMPLS[0], lambda k: sweep(stacked, k))
    rows.append(row | {"method": "dense, traced"})
    return rows
