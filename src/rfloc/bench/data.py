"""Sampling throughput of every data model (warm, compile excluded)."""

from __future__ import annotations

import jax

from rfloc.bench import peak_rss_mb, warm_time
from rfloc.data import NLGP, Elliptical, GaussianGP, Ising, Kur

COLUMNS = ["model", "N", "num", "method", "compile_s", "warm_s", "samples_per_s", "peak_MB"]


def cases(quick: bool):
    big, ising = (10_000, 2_000) if quick else (100_000, 10_000)
    yield "gaussian", GaussianGP(), big
    yield "nlgp(g=3)", NLGP(gain=3.0), big
    yield "kur(k=5)", Kur(k=5.0), big
    yield "ising", Ising(), ising
    yield "elliptical(t3)", Elliptical(radial="t"), big
    yield "elliptical(shell)", Elliptical(radial="shell"), big
    yield "elliptical(custom)", Elliptical(radial="custom"), big
    yield "nlgp 2-D", NLGP(n=64, dim=2, gain=3.0), 1_000 if quick else 10_000


def run(quick: bool = False) -> list[dict]:
    rows = []
    for name, model, num in cases(quick):
        keys = iter(jax.random.split(jax.random.key(0), 8))
        compile_s, warm_s = warm_time(lambda m=model, n=num, k=keys: m.sample(next(k), n)[0])
        field = getattr(model, "_field", None)
        rows.append(
            {
                "model": name,
                "N": "x".join(str(model.n) for _ in range(model.dim)),
                "num": num,
                "method": field.method if field is not None else "exact chain",
                "compile_s": compile_s - warm_s,
                "warm_s": warm_s,
                "samples_per_s": num / warm_s,
                "peak_MB": peak_rss_mb(),
            }
        )
    return rows
