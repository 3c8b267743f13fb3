"""`rfloc bench [SUITE]`: speed and memory tables of the compiled hot paths."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Annotated

import tyro

from rfloc.cli._common import parse

HELP = "benchmark sampling, training and the theory (table or --json)"
DESCRIPTION = (
    "Time the compiled hot paths on this machine. Compile time is reported separately from warm time; "
    "peak MB is the process's peak resident memory. Suites: the modules of rfloc.bench, or all."
)


@dataclasses.dataclass(frozen=True)
class Bench:
    suite: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="SUITE")] = "all"
    """a module of rfloc.bench (data, train, theory, ...) or all"""
    json: bool = False
    """machine-readable output"""
    quick: bool = False
    """smaller sizes (smoke test)"""


def _suites() -> list[str]:
    import rfloc.bench

    return sorted(m.name for m in pkgutil.iter_modules(rfloc.bench.__path__))


def main(argv) -> int:
    args = parse(Bench, argv, "rfloc bench", DESCRIPTION)
    from rfloc import _checks
    from rfloc.bench import emit

    _checks.choice("suite", args.suite, [*_suites(), "all"])
    for name in _suites() if args.suite == "all" else [args.suite]:
        mod = importlib.import_module(f"rfloc.bench.{name}")
        rows = mod.run(quick=args.quick)
        if not args.json:
            print(f"\n== rfloc bench {name} ==")
        print(emit(rows, mod.COLUMNS, args.json))
    return 0
