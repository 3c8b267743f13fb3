"""`rfloc sweep SPEC.toml`: a training configuration over grid axes × seed chunks as cached, resumable jobs,
in process or on Dask; the logic lives in :mod:`rfloc.sweep`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import tyro

from rfloc.cli._common import parse

HELP = "run a grid × seeds sweep as cached, resumable jobs (in process or on Dask)"
DESCRIPTION = (
    "Run the sweep described by SPEC.toml ([data], [net], [train], [grid], [sweep] tables; see "
    "examples/sweep-small.toml). Each job (one grid point × one seed chunk) writes one result file "
    "under OUT/jobs, named by a hash of its config, seeds, rfloc version and source code; existing "
    "files are loaded, never recomputed, so an interrupted sweep resumes. An unreadable file is "
    "moved aside and recomputed. The merged Dataset is written to OUT/sweep-<hash>.nc when every "
    "job succeeded. Exit status 1 if any job failed."
)


@dataclasses.dataclass(frozen=True)
class Sweep:
    spec: Annotated[Path, tyro.conf.Positional, tyro.conf.arg(metavar="SPEC.toml")]
    """sweep spec (TOML)"""
    workers: int | None = None
    """run on a Dask LocalCluster of N spawned worker processes"""
    scheduler: str | None = None
    """run on an existing Dask cluster (tcp://host:8786)"""
    threads_per_worker: int = 1
    """XLA threads per LocalCluster worker (1: pinned to one thread; more: XLA uses all cores)"""
    out: Path | None = None
    """output folder (default results/sweeps/<spec name>)"""
    json: bool = False
    """print the summary as JSON"""
    no_progress: bool = False
    """no progress bar"""


def main(argv) -> int:
    args = parse(Sweep, argv, "rfloc sweep", DESCRIPTION)
    from rfloc.sweep import load_spec, run_sweep

    if args.workers is not None and args.scheduler is not None:
        raise ValueError("give at most one of --workers and --scheduler")
    sweep = load_spec(args.spec)
    out = args.out if args.out is not None else Path("results") / "sweeps" / args.spec.stem
    result = run_sweep(
        sweep,
        out,
        workers=args.workers,
        scheduler=args.scheduler,
        threads_per_worker=args.threads_per_worker,
        progress=False if args.no_progress or args.json else None,
    )
    s = result.summary
    if args.json:
        print(json.dumps(s, indent=2))
    else:
        print(
            f"{s['jobs']} jobs ({s['executor']}): {s['computed']} computed, {s['loaded']} loaded, "
            f"{s['failed']} failed, {s['recovered']} unreadable files moved aside; {s['seconds']:.1f} s"
        )
        for failure in s["failures"]:
            print(f"failed: {failure['setting']} seeds {failure['seeds']}: {failure['error']}")
        print(f"merged: {s['merged'] or '(not written: some jobs failed)'}")
    return 1 if s["failed"] else 0
