"""`rfloc sweep SPEC.toml`: a training configuration over grid axes × seed chunks as cached, resumable jobs,
in process or on Dask; the logic lives in :mod:`rfloc.sweep`."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="run a grid × seeds sweep as cached, resumable jobs (in process or on Dask)",
        description=(
            "Run the sweep described by SPEC.toml ([data], [net], [train], [grid], [sweep] tables; see "
            "examples/sweep-small.toml). Each job (one grid point × one seed chunk) writes one result file "
            "under OUT/jobs, named by a hash of its config, seeds, rfloc version and source code; existing "
            "files are loaded, never recomputed, so an interrupted sweep resumes. An unreadable file is "
            "moved aside and recomputed. The merged Dataset is written to OUT/sweep-<hash>.nc when every "
            "job succeeded. Exit status 1 if any job failed."
        ),
    )
    p.add_argument("spec", type=Path, help="sweep spec (TOML)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="run on a Dask LocalCluster of N spawned worker processes")
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster (tcp://host:8786)"
    )
    p.add_argument(
        "--threads-per-worker",
        type=int,
        default=1,
        help="XLA threads per LocalCluster worker (1: pinned to one thread; more: XLA uses all cores)",
    )
    p.add_argument("--out", type=Path, help="output folder (default results/sweeps/<spec name>)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from rfloc.sweep import load_spec, run_sweep

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
