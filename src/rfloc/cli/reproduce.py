"""`rfloc reproduce`: every figure and claim of Lufkin, Saxe & Grant (NeurIPS 2024), with a report."""

from __future__ import annotations

import argparse
from pathlib import Path

TITLE = "rfloc reproduction of Lufkin, Saxe & Grant (NeurIPS 2024)"


def register(sub) -> None:
    p = sub.add_parser(
        "reproduce",
        help="regenerate the paper's figures and check its claims; writes report.md / report.html",
        description="Regenerate every figure of 'Nonlinear dynamics of localization in neural receptive "
        "fields' and check each claim against the paper's number (claim, paper, rfloc, PASS/FAIL). "
        "Finished experiments are cached under OUT/data keyed by their config: an interrupted run "
        "resumes where it stopped; --force recomputes.",
    )
    p.add_argument("experiments", nargs="*", help="names to run (default: all; see --list)")
    p.add_argument("--list", action="store_true", help="list the experiments and exit")
    p.add_argument("--quick", action="store_true", help="fewer seeds and steps (about a minute)")
    p.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: results)")
    p.add_argument("--force", action="store_true", help="recompute even when a cached result exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
