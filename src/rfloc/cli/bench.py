"""`rfloc bench {data,train,theory,all}`: speed and memory tables."""

from __future__ import annotations

import argparse
import importlib
import pkgutil


def _suites() -> list[str]:
    import rfloc.bench

    return sorted(m.name for m in pkgutil.iter_modules(rfloc.bench.__path__))


def register(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmark sampling, training and the theory (table or --json)",
        description="Time the compiled hot paths on this machine. Compile time is reported "
        "separately from warm time; peak MB is the process's peak resident memory.",
    )
    p.add_argument("suite", nargs="?", default="all", help=f"one of {_suites() + ['all']}")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--quick", action="store_true", help="smaller sizes (smoke test)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rfloc.bench import emit

    suites = _suites() if args.suite == "all" else [args.suite]
    unknown = set(suites) - set(_suites())
    if unknown:
        raise ValueError(f"suite must be one of {_suites() + ['all']}, got {args.suite!r}")
    for name in suites:
        mod = importlib.import_module(f"rfloc.bench.{name}")
        rows = mod.run(quick=args.quick)
        if not args.json:
            print(f"\n== rfloc bench {name} ==")
        print(emit(rows, mod.COLUMNS, args.json))
    return 0
