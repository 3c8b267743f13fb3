"""`rfloc reproduce`: every figure and claim of Lufkin, Saxe & Grant (NeurIPS 2024), with a report."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Annotated

import tyro

from rfloc.cli._common import parse

TITLE = "rfloc reproduction of Lufkin, Saxe & Grant (NeurIPS 2024)"
HELP = "regenerate the paper's figures and check its claims; writes report.md / report.html"
DESCRIPTION = (
    "Regenerate every figure of 'Nonlinear dynamics of localization in neural receptive fields' and check "
    "each claim against the paper's number (claim, paper, rfloc, PASS/FAIL). Finished experiments are "
    "cached under OUT/data, keyed by their config, the rfloc version and a hash of rfloc's code: an "
    "interrupted run resumes where it stopped, edited code recomputes, --force recomputes everything. "
    "--paper runs every experiment at the paper's own settings (SPEC §2; tens of hours on 2 cores, see "
    "docs/scale.md), each experiment one job of the sweep engine: in process, on --workers N local "
    "processes or on the Dask cluster at --scheduler."
)


@dataclasses.dataclass(frozen=True)
class Reproduce:
    experiments: Annotated[tuple[str, ...], tyro.conf.Positional, tyro.conf.arg(metavar="NAME")] = ()
    """names to run (default: all; see --list)"""
    list: bool = False
    """list the experiments and exit"""
    quick: bool = False
    """fewer seeds and steps, a smoke test; compiled for compile speed (LLVM -O1, older fusion emitters)"""
    out: Path = Path("results")
    """output folder"""
    force: bool = False
    """recompute even when a cached result exists"""
    paper: bool = False
    """the paper's own settings (SPEC §2) instead of the default budget: tens of hours on 2 cores"""
    workers: int | None = None
    """run the experiments on a Dask LocalCluster of N spawned worker processes"""
    scheduler: str | None = None
    """run the experiments on an existing Dask cluster (tcp://host:8786)"""
    compile_cache: Path | None = Path.home() / ".cache" / "rfloc" / "xla"
    """folder of JAX's persistent compilation cache (in-process runs): a rerun loads its compiled programs
    instead of compiling them again; None turns it off"""


def enable_compile_cache(folder: Path) -> None:
    """JAX's persistent compilation cache in folder. Entries are keyed by the program, the compile options,
    the jax version and the device, so a changed program compiles anew: never a stale executable."""
    import jax

    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    # Cache every program that took a visible time to compile (the default skips those under 1 s).
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    # The default profile stores ~6 MB; older entries are evicted (least recently used) beyond 2 GB.
    jax.config.update("jax_compilation_cache_max_size", 2 * 1024**3)


# The quick profile's time is mostly compilation, so it trades run time for compile time: LLVM at -O1
# instead of XLA's default -O3, and XLA:CPU's older elemental fusion emitters instead of its MLIR ones.
# Measured cold on 2 cores, back to back: the whole quick run 172.6 s wall (307.6 s CPU) at the defaults,
# 150.9 s (265.5 s) with -O1 alone, 114.6 s (186.5 s) with both; identical verdicts. Warm, the same flags cost
# run time (sampler throughput -50 % to +200 % by model and PRNG, the Ising DP +20 %), so the longer
# profiles keep XLA's defaults.
QUICK_XLA_FLAGS = ("--xla_backend_optimization_level=1", "--xla_cpu_use_fusion_emitters=false")


def quick_xla_flags(flags: str) -> str:
    """XLA_FLAGS for a quick run: ``flags`` plus each of QUICK_XLA_FLAGS that ``flags`` does not set."""
    extra = [f for f in QUICK_XLA_FLAGS if f.split("=")[0] not in flags]
    return " ".join([flags, *extra]).strip()


def main(argv) -> int:
    args = parse(Reproduce, argv, "rfloc reproduce", DESCRIPTION)
    from rfloc import experiments

    if args.list:
        from rfloc.experiments.runner import takes_profile

        for name in experiments.available():
            mod = experiments.get(name)
            note = "" if takes_profile(mod) else " (no paper profile: --paper runs its default settings)"
            print(f"{name:18s} {mod.TITLE}{note}")
        return 0
    # Unknown names fail before any compute; each experiment is imported when its job starts.
    names = [experiments.checked_name(n) for n in args.experiments] or experiments.available()

    if args.quick and args.paper:
        raise ValueError("give at most one of --quick and --paper")
    if args.workers is not None and args.scheduler is not None:
        raise ValueError("give at most one of --workers and --scheduler")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"workers must be >= 1, got {args.workers}")

    from rfloc.experiments.runner import IN_PROCESS_THREADS
    from rfloc.sweep import executor_name, xla_flags_set

    if args.compile_cache is not None:
        enable_compile_cache(args.compile_cache.expanduser())
    profile = "paper" if args.paper else "default"
    executor = executor_name(args.workers, args.scheduler, threads=IN_PROCESS_THREADS)
    args.out.mkdir(parents=True, exist_ok=True)
    flags = os.environ.get("XLA_FLAGS", "")
    with xla_flags_set(quick_xla_flags(flags) if args.quick else flags):
        return _run(args, names, profile, executor)


def _run(args: Reproduce, names: list[str], profile: str, executor: str) -> int:
    from tqdm.auto import tqdm

    from rfloc.experiments.runner import Failure, run_experiments
    from rfloc.report import write_report

    done, failures = {}, []
    runs = run_experiments(
        names,
        args.out,
        quick=args.quick,
        profile=profile,
        force=args.force,
        workers=args.workers,
        scheduler=args.scheduler,
        draw_apart=True,
    )
    bar = tqdm(
        total=len(names),
        desc=f"reproduce ({profile if not args.quick else 'quick'})",
        unit="exp",
        disable=None,
    )
    for outcome in runs:
        bar.update(1)
        if isinstance(outcome, Failure):
            failures.append(outcome)
            tqdm.write(f"{outcome.name} FAILED ({outcome.error}); config: {outcome.config}")
            continue
        done[outcome.name] = outcome
        for c in outcome.claims:
            tqdm.write(f"  [{c.verdict}] {c.experiment}: {c.name} -- rfloc {c.measured} (paper {c.paper})")
        tqdm.write(f"{outcome.name}: {outcome.seconds:.1f} s{' (cached)' if outcome.cached else ''}")
    bar.close()
    outcomes = [done[n] for n in names if n in done]  # report order, whatever order jobs finished in
    md, page = write_report(outcomes, args.out, TITLE, executor=executor)
    n_pass = sum(c.passed for o in outcomes for c in o.claims)
    n_all = sum(len(o.claims) for o in outcomes)
    print(f"{n_pass}/{n_all} claims pass. Report: {md} and {page}")
    if failures:
        print(f"{len(failures)} experiment(s) failed: {', '.join(f.name for f in failures)}")
        return 1
    return 0
