"""Run experiments with caching and resumption, then hand the outcome to the report."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from rfloc import store
from rfloc.experiments import Claim, get
from rfloc.experiments.claims import Deviation


@dataclasses.dataclass
class Outcome:
    name: str
    title: str
    caption: str
    figures: list[Path]
    claims: list[Claim]
    seconds: float
    cached: bool
    config: dict = dataclasses.field(default_factory=dict)
    deviations: list[Deviation] | None = None  # None: the experiment does not declare its settings


def run_experiment(name: str, out: Path, quick: bool = False, force: bool = False) -> Outcome:
    """Run (or load from out/data) one experiment, plot it, check it. The cache key is the experiment's
    config with the rfloc version and the code hash (:func:`rfloc.store.cached`): edited code recomputes."""
    mod = get(name)
    config = {"experiment": mod.NAME, "quick": quick, **mod.config(quick)}
    calls = []

    def compute():
        calls.append(1)
        start = time.perf_counter()
        ds = mod.run(config)
        ds.attrs["seconds"] = time.perf_counter() - start  # run time survives a later cache hit
        return ds

    t0 = time.perf_counter()
    ds = store.cached(config, compute, root=out / "data", force=force)
    figures = mod.plot(ds, out / "figures")
    claims = mod.check(ds)
    seconds = time.perf_counter() - t0
    if not calls and "seconds" in ds.attrs:
        seconds = float(ds.attrs["seconds"])
    # Experiments list where their run departs from the paper's settings (optional hook).
    devs = list(mod.deviations(config)) if hasattr(mod, "deviations") else None
    return Outcome(mod.NAME, mod.TITLE, mod.CAPTION, figures, claims, seconds, not calls, config, devs)
