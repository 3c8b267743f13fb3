"""The `rfloc` command line. Each subcommand lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func(args) -> int``. Heavy imports stay
inside ``func`` so that ``rfloc --help`` is instant."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

DESCRIPTION = """\
rfloc -- how localized receptive fields emerge from learning.

Naturalistic two-class data on a ring (Gaussian GP, NLGP(g), Kur(k), Ising, elliptical), single
neurons and two-layer nets trained by online SGD, the effective dynamics
dw/dt = p.phi(a(w)) - ((1-p) Sigma_0 + p Sigma_1) w of Lufkin, Saxe & Grant (NeurIPS 2024), and the
reproduction of that paper's figures and claims."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rfloc", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    from rfloc import __version__

    parser.add_argument("--version", action="version", version=f"rfloc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValueError as err:  # invalid parameters: one clear line, no traceback
        print(f"rfloc {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
