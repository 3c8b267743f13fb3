"""Experiments: one module per figure or claim of the paper (SPEC §5), plus rfloc's extensions.

Each module exposes
  NAME, TITLE, CAPTION          identifiers and the report's two-line caption
  config(quick: bool) -> dict   every setting of the run (JSON-ready; the cache key)
  run(config) -> xr.Dataset     the data, computed with train_many / effective_dynamics
  plot(ds, out_dir) -> [Path]   figure files
  check(ds) -> [Claim]          each claim with the paper's value, rfloc's and PASS/FAIL
Thresholds are stated next to each claim together with the reason they were chosen.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from rfloc.experiments.claims import Claim

# Report order: the paper's figures, then rfloc's extensions.
ORDER = (
    "fig1",
    "fig1_theory",
    "fig2",
    "fig3",
    "ising_table",
    "fig4_elliptical",
    "fig4_kurtosis",
    "fig5",
    "meanfield",
    "imp",
)


def available() -> list[str]:
    """Names of the experiments present in this installation, in report order."""
    names = []
    for name in ORDER:
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
            continue
        names.append(name)
    return names


def get(name: str) -> ModuleType:
    name = name.replace("-", "_")
    if name not in available():
        raise ValueError(f"experiment must be one of {available()}, got {name!r}")
    return importlib.import_module(f"{__name__}.{name}")


__all__ = ["ORDER", "Claim", "available", "get"]
