"""`rfloc reproduce`: every figure and claim of Lufkin, Saxe & Grant (NeurIPS 2024), with a report."""

from __future__ import annotations

import dataclasses
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
    "interrupted run resumes where it stopped, edited code recomputes, --force recomputes everything."
)


@dataclasses.dataclass(frozen=True)
class Reproduce:
    experiments: Annotated[tuple[str, ...], tyro.conf.Positional, tyro.conf.arg(metavar="NAME")] = ()
    """names to run (default: all; see --list)"""
    list: bool = False
    """list the experiments and exit"""
    quick: bool = False
    """fewer seeds and steps (about a minute)"""
    out: Path = Path("results")
    """output folder"""
    force: bool = False
    """recompute even when a cached result exists"""


def main(argv) -> int:
    args = parse(Reproduce, argv, "rfloc reproduce", DESCRIPTION)
    from rfloc import experiments

    if args.list:
        for name in experiments.available():
            print(f"{name:18s} {experiments.get(name).TITLE}")
        return 0
    names = [n.replace("-", "_") for n in args.experiments] or experiments.available()
    for n in names:
        experiments.get(n)  # unknown names fail before any compute

    from tqdm.auto import tqdm

    from rfloc.experiments.runner import run_experiment
    from rfloc.report import write_report

    args.out.mkdir(parents=True, exist_ok=True)
    outcomes = []
    bar = tqdm(names, desc="reproduce", unit="exp", disable=None)
    for name in bar:
        bar.set_postfix_str(name)
        outcome = run_experiment(name, args.out, quick=args.quick, force=args.force)
        outcomes.append(outcome)
        for c in outcome.claims:
            tqdm.write(f"  [{c.verdict}] {c.experiment}: {c.name} -- rfloc {c.measured} (paper {c.paper})")
        tqdm.write(f"{name}: {outcome.seconds:.1f} s{' (cached)' if outcome.cached else ''}")
    md, page = write_report(outcomes, args.out, TITLE)
    n_pass = sum(c.passed for o in outcomes for c in o.claims)
    n_all = sum(len(o.claims) for o in outcomes)
    print(f"{n_pass}/{n_all} claims pass. Report: {md} and {page}")
    return 0
