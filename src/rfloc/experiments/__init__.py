"""Experiments: one module per figure or claim of the paper (SPEC §5), plus rfloc's extensions.

Each module exposes
  NAME, TITLE, CAPTION          identifiers and the report's two-line caption
  config(quick: bool, profile: str = "default") -> dict
                                every setting of the run (JSON-ready; the cache key). profile "default":
                                the `make reproduce` budget; "paper": the paper's own settings (SPEC §2),
                                built from PAPER; quick=True: a seconds-long smoke test whatever the
                                profile. Bad profile -> ValueError. (A config(quick) without profile still
                                runs: its default settings under every profile, and the report says so.)
  run(config) -> xr.Dataset     the data, computed with train_many / effective_dynamics
  plot(ds, out_dir) -> [Path]   figure files
  check(ds) -> [Claim]          each claim with the paper's value, rfloc's and PASS/FAIL
and, for the report's "Deviations from the paper" table, either
  PAPER, REASONS, deviations(config) -> [Deviation]   the paper's settings, one reason per reduction, and
                                the rows where config differs (rfloc.experiments.claims.deviations)
  or config["reductions"]: [str] free-text reductions, shown one per row without a machine-readable reason.
An experiment with neither is named in the report as not compared with the paper.
Thresholds are stated next to each claim together with the reason they were chosen.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from rfloc.experiments.claims import Claim

# How the experiments lay out their runs in train_many: batched ("vmap"), not one after another ("map").
# Measured on the 2-core CPU (warm, 400 steps): Ising N = 40, 128 seeds at batch 100: 8.3 s map vs 2.5 s
# vmap; 24 seeds at batch 500: 3.2 vs 2.2 s; and "map" doubles a lone run (see rfloc.train). "map" keeps
# bit-identity with separate runs, which no experiment needs; vmap differs from it by float32 round-off.
VECTORIZE = "vmap"

# Report order: the paper's figures, then rfloc's extensions.
ORDER = (
    "fig1",
    "fig1_theory",
    "fig2",
    "fig3",
    "ising_table",
    "fig4_elliptical",
    "fig4_kurtosis",
    "fig5_networks",
    "fig5_ica",
    "natural_images",
    "imp",
    "phase_diagram",
)


def available() -> list[str]:
    """Names of the experiments present in this installation, in report order. Found without importing
    them: a run imports each experiment when it starts (their imports add up to seconds)."""
    return [name for name in ORDER if importlib.util.find_spec(f"{__name__}.{name}") is not None]


def checked_name(name: str) -> str:
    """``name`` with dashes as underscores, after checking that the experiment exists (not importing it)."""
    name = name.replace("-", "_")
    if name not in available():
        raise ValueError(f"experiment must be one of {available()}, got {name!r}")
    return name


def get(name: str) -> ModuleType:
    """The experiment module ``name`` (dashes or underscores), imported on first use."""
    return importlib.import_module(f"{__name__}.{checked_name(name)}")


__all__ = ["ORDER", "VECTORIZE", "Claim", "available", "checked_name", "get"]
