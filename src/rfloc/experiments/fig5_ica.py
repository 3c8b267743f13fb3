"""Fig 5 (ICA): FastICA's filters localize for heavy-tailed data, the regime opposite to the network's.

FastICA (scikit-learn, N = 40) on pooled, unlabelled Kur(3) and Kur(30) data (SPEC §2: 10⁵ samples,
whiten='unit-variance', random_state 0). The test uses C = 40 components. With C = 10 every filter lies in
the top-10 principal-component subspace, whose most localized vector has IPR ≈ 0.18 (the *ceiling*,
computed here), so "Kur(30) not localized" cannot be tested there: C = 10 is shown as a diagnostic only.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import jax
import numpy as np
import xarray as xr

from rfloc import metrics
from rfloc.baselines import fit_ica, fit_in_parallel
from rfloc.data import Kur
from rfloc.experiments.claims import LOCALIZED_IPR, Claim, clopper_pearson
from rfloc.experiments.claims import deviations as _deviations
from rfloc.experiments.fig5_networks import CONFIDENCE, MAJORITY, quantile_rows, stack_rfs

NAME = "fig5_ica"
TITLE = "Fig 5 (ICA) - FastICA localizes for heavy tails (Kur(3)), not for Kur(30): opposite to the network"
CAPTION = (
    "FastICA filters (N = 40; five per panel at the IPR quantiles 0, 1/4, 1/2, 3/4, 1) on pooled Kur(3) and "
    "Kur(30) data. Top row: C = 40 components (the test). Bottom row: C = 10, a diagnostic with no verdict "
    "(its filters cannot exceed the IPR ceiling of the top-10 PC subspace printed in the title)."
)
ICA_K = (3.0, 30.0)
TEST_COMPONENTS = 40
PAPER = {"n": 40, "num": 100_000, "whiten": "unit-variance", "random_state": 0, "k": ICA_K}
REASONS = {"num": "quick profile (smoke test)"}


def config(quick: bool, profile: str = "default") -> dict:
    """The default profile already runs the paper's 10^5 samples (PAPER), so
    "paper" is the same; quick: a smoke test."""
    if profile not in ("default", "paper"):
        raise ValueError(f"profile must be one of ['default', 'paper'], got {profile!r}")
    # The authors' 10⁵ samples (≈3 s per FastICA fit with one BLAS thread); quick: a smoke test.
    num = 5000 if quick else 100_000
    return {
        "n": 40,
        "xi": [1.0, 3.0],
        "k": list(ICA_K),
        "components": [TEST_COMPONENTS, 10],
        "num": num,
        "whiten": "unit-variance",
        "random_state": 0,
    }


def deviations(cfg: dict):
    return _deviations(NAME, PAPER, cfg, REASONS)


def pca_ceiling(components: int, n: int = 40, xi=(1.0, 3.0), k: float = 3.0) -> float:
    """Largest IPR reachable inside FastICA's whitened subspace: that of a delta projected onto the top
    `components` principal components of the pooled covariance (a Dirichlet-like kernel when C < N)."""
    m = Kur(n=n, xi=tuple(xi), k=k)
    cov = 0.5 * (m.class_covariance(0) + m.class_covariance(1))
    u = np.linalg.eigh(cov)[1][:, ::-1][:, :components]
    return float(np.max(np.asarray(metrics.ipr(u @ u.T))))


def run(cfg: dict) -> xr.Dataset:
    comps, ks = cfg["components"], cfg["k"]
    cmax = max(comps)
    filters = np.full((len(comps), len(ks), cmax, cfg["n"]), np.nan)
    ipr = np.full((len(comps), len(ks), cmax), np.nan)
    converged = np.zeros((len(comps), len(ks)), bool)
    cases = [(r, c, j, k) for r, c in enumerate(comps) for j, k in enumerate(ks)]
    fits = fit_in_parallel(
        [
            partial(
                fit_ica,
                Kur(n=cfg["n"], xi=tuple(cfg["xi"]), k=k),
                cfg["num"],
                c,
                jax.random.key(j),  # same data for both component counts
                whiten=cfg["whiten"],
                random_state=cfg["random_state"],
            )
            for _, c, j, k in cases
        ]
    )
    for (r, c, j, _), out in zip(cases, fits, strict=True):
        filters[r, j, :c] = out.filters
        ipr[r, j, :c] = out.ipr
        converged[r, j] = out.converged
    ceiling = [pca_ceiling(c, cfg["n"], tuple(cfg["xi"])) for c in comps]
    return xr.Dataset(
        {
            "filters": (("components", "k", "filter", "input"), filters),
            "ipr": (("components", "k", "filter"), ipr),
            "converged": (("components", "k"), converged),
            "ceiling": ("components", ceiling),
        },
        coords={"components": list(comps), "k": list(ks)},
        attrs={"num": cfg["num"]},
    )


def check(ds: xr.Dataset) -> list[Claim]:
    claims = []
    for k in ds.k.values:
        ipr = ds.ipr.sel(components=TEST_COMPONENTS, k=k).values
        ipr = ipr[np.isfinite(ipr)]
        hits = int(np.sum(ipr > LOCALIZED_IPR))
        lo, hi = clopper_pearson(hits, len(ipr))
        want = bool(k < 4)  # infinite kurtosis (heavy tail) -> ICA localizes
        conv = bool(ds.converged.sel(components=TEST_COMPONENTS, k=k))
        claims.append(
            Claim(
                NAME,
                f"FastICA (C = {TEST_COMPONENTS}) on Kur({k:g}): filters "
                + ("localized" if want else "not localized"),
                "localized (heavy tails)" if want else "not localized (light tails)",
                f"{hits}/{len(ipr)} filters localized ({lo:.2f}-{hi:.2f}); median IPR {np.median(ipr):.3f} "
                f"({int(ds.attrs['num'])} samples, {'converged' if conv else 'NOT converged'})",
                (lo > MAJORITY if want else hi < MAJORITY),
                f"localized filter: IPR > {LOCALIZED_IPR} (3 x a sinusoid's IPR at N = 40, theory); "
                f"{CONFIDENCE:.0%} Clopper-Pearson interval of the fraction {'above' if want else 'below'} "
                f"{MAJORITY}",
            )
        )
    return claims


def plot(ds: xr.Dataset, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from rfloc.plot import save_figure

    rows, cols = len(ds.components), len(ds.k)
    fig, axes = plt.subplots(rows, cols, figsize=(10, 3.6 * rows), squeeze=False)
    for r, c in enumerate(ds.components.values):
        role = "test" if int(c) == TEST_COMPONENTS else "diagnostic, no verdict"
        for j, k in enumerate(ds.k.values):
            ipr = ds.ipr.sel(components=c, k=k).values
            sel = quantile_rows(ipr)
            stack_rfs(
                axes[r, j],
                ds.filters.sel(components=c, k=k).values[sel],
                ipr[sel],
                f"C={int(c)} ({role}), Kur({k:g}): median IPR {np.nanmedian(ipr):.3f}, "
                f"ceiling {float(ds.ceiling.sel(components=c)):.2f}",
            )
    fig.tight_layout()
    return [save_figure(fig, Path(out) / "fig5_ica.png")]
