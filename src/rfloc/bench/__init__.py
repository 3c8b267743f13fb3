"""Benchmarks behind `rfloc bench`: each module of this package exposes ``COLUMNS`` and
``run(quick: bool) -> list[dict]``; compile time is measured separately from warm time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import jax


def warm_time(fn: Callable[[], object], repeats: int = 3) -> tuple[float, float]:
    """(first-call seconds incl. compile, best warm seconds) of fn, blocking on its outputs."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - t0
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return first, best


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux ru_maxrss is in kB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def format_table(rows: list[dict], columns: list[str]) -> str:
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1e5 else f"{v:.3e}"
        return str(v)

    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([line, sep, *body])


def emit(rows: list[dict], columns: list[str], as_json: bool) -> str:
    return json.dumps(rows, indent=2) if as_json else format_table(rows, columns)
