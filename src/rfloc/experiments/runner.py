"""Run experiments with caching and resumption, then hand the outcome to the report.

Profiles: "quick" (a smoke test), "default" (the `make reproduce` budget) and "paper" (the paper's own
settings, SPEC §2). An experiment whose ``config`` takes no ``profile`` argument runs its default settings
under every non-quick profile, and the report says so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path

from rfloc import store
from rfloc.experiments import Claim, checked_name, get
from rfloc.experiments.claims import Deviation

PROFILES = ("default", "paper")
# In process, two experiments at a time (threads): XLA compiles a program on one core, so one experiment's
# compiles overlap the other's compute (the CLI draws the figures in a process of its own: draw_apart).
# Measured on 2 cores, default profile: phase_diagram + imp + natural_images took 90.7 s in two threads
# against 112 s one after the other.
IN_PROCESS_THREADS = min(2, os.cpu_count() or 1)
# Seconds each experiment took on the 2-core machine (quick: alone, empty compile cache; default: the
# fresh-clone `make reproduce`, two at a time). Jobs start longest first so that no long one starts last
# while the other thread idles; the numbers only order the jobs, they decide nothing else.
SECONDS = {
    "quick": {
        "natural_images": 21.4,
        "fig3": 17.0,
        "imp": 16.9,
        "fig5_networks": 15.0,
        "ising_table": 13.9,
        "phase_diagram": 13.6,
        "fig4_kurtosis": 12.0,
        "fig4_elliptical": 10.6,
        "fig1": 9.5,
        "fig1_theory": 9.1,
        "fig2": 7.2,
        "fig5_ica": 6.3,
    },
    "default": {
        "fig5_networks": 148.2,
        "ising_table": 131.6,
        "fig4_kurtosis": 98.7,
        "natural_images": 83.8,
        "fig1": 75.5,
        "fig4_elliptical": 72.2,
        "fig1_theory": 67.6,
        "fig3": 55.9,
        "phase_diagram": 44.5,
        "imp": 35.3,
        "fig5_ica": 22.6,
        "fig2": 17.4,
    },
}


def longest_first(names: Sequence[str], quick: bool = False) -> list[str]:
    """names ordered by their measured time (SECONDS), longest first; unmeasured ones first, in order."""
    seconds = SECONDS["quick" if quick else "default"]
    return sorted(names, key=lambda name: -seconds.get(name, float("inf")))


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


def takes_profile(mod) -> bool:
    """True when the experiment's ``config`` accepts a ``profile`` argument."""
    return "profile" in inspect.signature(mod.config).parameters


def experiment_config(name: str, quick: bool = False, profile: str = "default") -> dict:
    """The full config of one run (the cache key): the experiment's settings under ``profile`` plus
    "experiment", "quick" and "profile", the profile that actually ran ("quick", "default" or "paper"; an
    experiment without profiles runs "default" when "paper" was asked for)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {list(PROFILES)}, got {profile!r}")
    mod = get(name)
    if takes_profile(mod):
        settings, ran = mod.config(quick, profile=profile), profile
    else:
        settings, ran = mod.config(quick), "default"
    config = {"experiment": mod.NAME, "quick": bool(quick), **settings}
    config["profile"] = "quick" if quick else ran
    return config


def reductions_as_deviations(name: str, config: dict) -> list[Deviation] | None:
    """Fallback for an experiment without a ``deviations`` hook: the free-text "reductions" its config
    lists, one row each; None when it lists none (the report then names it as not compared)."""
    reductions = config.get("reductions")
    if reductions is None:
        return None
    reason = "listed by the experiment's config; it gives no paper value or reason in machine-readable form"
    return [Deviation(name, str(r), "-", "-", reason) for r in reductions]


def declared_deviations(mod, config: dict) -> list[Deviation] | None:
    """The experiment's ``deviations(config)`` hook if it has one, else its config's "reductions"."""
    if hasattr(mod, "deviations"):
        return list(mod.deviations(config))
    return reductions_as_deviations(mod.NAME, config)


def compute(job: tuple[str, dict]):
    """Run one experiment's computation (the part a worker does): (name, config) -> xr.Dataset, with its
    run time in attrs["seconds"] so that a later cache hit still reports it."""
    name, config = job
    start = time.perf_counter()
    ds = get(name).run(config)
    ds.attrs["seconds"] = time.perf_counter() - start
    return ds


def draw(name: str, ds, folder: Path) -> tuple[list[Path], float]:
    """An experiment's figures of ``ds`` under folder, and the seconds drawing them took."""
    t0 = time.perf_counter()
    figures = get(name).plot(ds, folder)
    return figures, time.perf_counter() - t0


def finish(
    name: str,
    config: dict,
    ds,
    out: Path,
    seconds: float,
    cached: bool,
    drawn: tuple[list[Path], float] | None = None,
) -> Outcome:
    """Check a computed (or loaded) dataset in this process, and plot it here unless ``drawn`` (the result
    of :func:`draw`, done elsewhere) is given."""
    mod = get(name)
    figures, plot_seconds = drawn if drawn is not None else draw(name, ds, out / "figures")
    t0 = time.perf_counter()
    claims = mod.check(ds)
    if cached:
        seconds = float(ds.attrs.get("seconds", plot_seconds + time.perf_counter() - t0))
    else:
        seconds += plot_seconds + time.perf_counter() - t0
    devs = declared_deviations(mod, config)
    return Outcome(mod.NAME, mod.TITLE, mod.CAPTION, figures, claims, seconds, cached, config, devs)


def run_experiment(
    name: str, out: Path, quick: bool = False, force: bool = False, profile: str = "default"
) -> Outcome:
    """Run (or load from out/data) one experiment in this process, plot it, check it. The cache key is the
    experiment's config with the rfloc version and the code hash (:func:`rfloc.store.cached`): edited code
    recomputes."""
    config = experiment_config(name, quick, profile)
    calls = []

    def run():
        calls.append(1)
        return compute((name, config))

    t0 = time.perf_counter()
    ds = store.cached(config, run, root=out / "data", force=force)
    return finish(name, config, ds, out, time.perf_counter() - t0, not calls)


class _NotCached(Exception):
    pass


def _not_cached():
    raise _NotCached


def _call(job: tuple[str, dict]):
    name, config = job
    return compute, job, f"rfloc-experiment-{name}-{store.config_hash(store.cache_key(config))}"


@dataclasses.dataclass
class Failure:
    name: str
    config: dict
    error: str


class _Now:
    """submit(fn, *args) runs fn now, in this process: a finished Future."""

    def submit(self, fn, *args) -> Future:
        future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as err:
            future.set_exception(err)
        return future


@contextlib.contextmanager
def _drawing(apart: bool):
    """Where figures are drawn: one spawned process when ``apart`` (started at the first figure, so its
    imports do not compete with the first computations), else this process, at submit."""
    if not apart:
        yield _Now()
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, initializer=_exit_with_parent) as pool:
        yield pool


def _exit_with_parent() -> None:
    """In the drawing process: exit when the parent dies. A killed parent (SIGKILL, a crash) does not
    close the pool's pipe here, so without this the process would wait on it for ever (seen)."""
    sentinel = multiprocessing.parent_process().sentinel

    def watch():
        multiprocessing.connection.wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def run_experiments(
    names: Sequence[str],
    out: Path,
    *,
    quick: bool = False,
    profile: str = "default",
    force: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    draw_apart: bool = False,
) -> Iterator[Outcome | Failure]:
    """Run several experiments as jobs of the sweep engine's executors (:func:`rfloc.sweep.map_jobs`: in
    process by default, IN_PROCESS_THREADS at a time, ``workers`` LocalCluster processes, or the Dask
    cluster at ``scheduler``). Each experiment has its own cached result file under out/data, read and
    written by this process: a finished one is loaded (an unreadable one is set aside and recomputed), so a
    killed run resumes. Yields each Outcome as its figures are drawn, or a Failure, which does not stop the
    others.

    draw_apart: draw the figures in one spawned process beside the computations. Drawing is pure Python
    and holds the GIL, which the in-process jobs need to trace their programs; apart, it runs on a core of
    its own (the CLI's choice). Figures and claims are the same either way. Measured: the cold quick
    reproduction on 2 cores, back to back, 120.5 s drawing here, 102.2 s drawing apart."""
    from rfloc import sweep
    from rfloc.baselines.ica import silenced_nonconvergence

    names = [checked_name(name) for name in names]  # bad names fail here, before any compute
    root = out / "data"
    # Two jobs may fit FastICA at once (threads): see silenced_nonconvergence.
    with silenced_nonconvergence(), _drawing(draw_apart) as drawer:
        drawing = {}  # future of draw() -> finish()'s other arguments

        def submit(name, config, ds, seconds, cached):
            future = drawer.submit(draw, name, ds, out / "figures")
            drawing[future] = (name, config, ds, out, seconds, cached)

        def drawn(futures):
            for future in futures:
                yield finish(*drawing.pop(future), drawn=future.result())

        def jobs():
            # Longest first. Each experiment's config is built (its module imported) and a finished one
            # loaded just before its turn, so the first job starts after one import, not all of them.
            for name in longest_first(names, quick):
                config = experiment_config(name, quick, profile)
                if not force:
                    try:
                        ds = store.cached(config, _not_cached, root=root)
                    except _NotCached:
                        pass
                    else:
                        submit(name, config, ds, 0.0, True)
                        continue
                yield name, config

        runs = sweep.map_jobs(_call, jobs(), workers=workers, scheduler=scheduler, threads=IN_PROCESS_THREADS)
        for (name, config), ds, err in runs:
            yield from drawn([f for f in drawing if f.done()])
            if err is not None:
                yield Failure(name, config, f"{type(err).__name__}: {err}")
                continue
            saved = store.cached(config, lambda ds=ds: ds, root=root, force=force)
            submit(name, config, saved, float(ds.attrs.get("seconds", 0.0)), False)
        yield from drawn([f for f in drawing if f.done()])  # in submission order
        yield from drawn(as_completed(list(drawing)))
