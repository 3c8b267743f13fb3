"""Integrating the effective dynamics over the Fig 3 horizon (N = 40, t = 0.05 × 2000 = 100) for 1 and 28
initial conditions at once (warm, compile excluded). Target: < 1 s warm for 28 on a 2-core CPU; for scale,
the authors' per-step Python loop takes ≈ 4 s for one initial condition there."""

from __future__ import annotations

import numpy as np

from rfloc.bench import peak_rss_mb, warm_time
from rfloc.data import Ising, Kur

COLUMNS = ["model", "phi", "integrator", "R", "N", "t", "solver_steps", "compile_s", "warm_s", "peak_MB"]

LR, STEPS = 0.05, 2000


def cases(quick: bool):
    yield "ising", Ising(n=40), "exact", "ode"
    yield "ising", Ising(n=40), "cubic", "ode"
    if not quick:
        yield "ising", Ising(n=40), "exact", "map"
        yield "kur(k=5)", Kur(n=40, k=5.0), "exact", "ode"  # quadrature φ (368 nodes per entry)


def run(quick: bool = False) -> list[dict]:
    from rfloc.theory import effective_dynamics

    horizon = LR * STEPS
    times = LR * np.arange(0, STEPS + 1, 10)  # the Fig 3 records, every 10 steps
    rng = np.random.default_rng(0)
    rows = []
    for name, model, phi, method in cases(quick):
        for r in (1, 28):
            w0 = (rng.normal(size=(r, model.n_inputs)) * np.sqrt(0.001 * 2 / 41)).astype(np.float32)
            holder = {}

            def fn(model=model, w0=w0, phi=phi, method=method, holder=holder):
                res = effective_dynamics(model, w0, times, phi=phi, integrator=method, lr=LR)
                holder["res"] = res
                return res.weights

            compile_s, warm_s = warm_time(fn)
            rows.append(
                {
                    "model": name,
                    "phi": phi,
                    "integrator": method,
                    "R": r,
                    "N": model.n_inputs,
                    "t": horizon,
                    "solver_steps": int(np.max(holder["res"].num_steps)),
                    "compile_s": compile_s - warm_s,
                    "warm_s": warm_s,
                    "peak_MB": peak_rss_mb(),
                }
            )
    return rows + phase_rows(quick)


# -- the phase diagram (rfloc's extension): B grid points × 8 initial conditions, one compiled program ------
def phase_rows(quick: bool) -> list[dict]:
    """Warm wall time and process CPU time of :func:`rfloc.theory.phase.predict_final` (expected-SGD map,
    2000 steps of lr 0.05) over B = 1024 NLGP points (32 gains × 32 ξ₁/ξ₀) × 8 inits (B = 64 when quick)."""
    import time

    from rfloc.theory.phase import family_models, initial_conditions, predict_final

    side = 8 if quick else 32
    models = family_models("nlgp", np.geomspace(0.05, 100.0, side), np.linspace(0.5, 4.0, side))
    w0 = initial_conditions(40, 8)
    rows = []
    for phi in ("exact", "cubic"):
        first = time.perf_counter()
        predict_final(models, w0, LR, STEPS, phi)
        first = time.perf_counter() - first
        wall, cpu = time.perf_counter(), time.process_time()
        predict_final(models, w0, LR, STEPS, phi)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rows.append(
            {
                "model": f"phase nlgp B={len(models)} (cpu {cpu:.1f} s)",
                "phi": phi,
                "integrator": "map",
                "R": len(models) * w0.shape[0],
                "N": 40,
                "t": LR * STEPS,
                "solver_steps": STEPS,
                "compile_s": first - wall,
                "warm_s": wall,
                "peak_MB": peak_rss_mb(),
            }
        )
    return rows
