"""Fig 4 (right): final IPR of the single ReLU neuron against the excess kurtosis of the data.

No code for this sweep exists in the authors' repository; the settings are SPEC §2's Fig 3 values
(lr 0.05, init 0.001, 2000 steps) with the batch reduced to fit the 10-minute budget (rfloc's choice).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from rfloc.experiments.claims import LOCALIZED_IPR, Claim

NAME = "fig4_kurtosis"
TITLE = "Fig 4 (right) - final IPR against excess kurtosis (NLGP gain sweep, Kur k sweep)"
CAPTION = (
    "Single ReLU neuron, lr 0.05, init 0.001, 2000 steps; each dot one seed, line the median. Negative "
    "excess kurtosis (NLGP, Kur k >= 6) localizes the RF; positive (Kur(5)) does not."
)
# "High" IPR: > 0.5 — half the paper's plateau of ≈ 1, i.e. ≤ 2 effective inputs.
HIGH_IPR = 0.5
# The cubic theory changes sign at excess kurtosis 0; finite training time can only delay localization,
# so the observed crossing of LOCALIZED_IPR may sit below 0 — accept [-1, 0], half the NLGP range (-2, 0).
CROSSING_RANGE = (-1.0, 0.0)


def config(quick: bool) -> dict:
    gains = [0.01, 1.0, 100.0] if quick else [0.01, 0.5, 1.0, 2.0, 3.0, 100.0]
    ks = [5.0, 30.0] if quick else [5.0, 6.0, 8.0, 10.0, 30.0]
    return {
        "n": 40,
        "xi": [1.0, 3.0],
        "gains": gains,
        "ks": ks,
        # Seeds agree to ~0.01 in IPR (first full run, 3 seeds), so 2 per point; each distinct data model
        # compiles its own program, so the grid is kept to 11 points.
        "seeds": 2,
        "lr": 0.05,
        "init_scale": 0.001,
        "batch": 500 if quick else 1000,
        "steps": 1000 if quick else 2000,
    }


def run(cfg: dict) -> xr.Dataset:
    from rfloc import metrics
    from rfloc.data import NLGP, Kur
    from rfloc.nn import NetConfig
    from rfloc.train import TrainConfig, train_many

    xi = tuple(cfg["xi"])
    rows = []
    for family, field, values, model in (
        ("nlgp", "gain", cfg["gains"], NLGP(n=cfg["n"], xi=xi)),
        ("kur", "k", cfg["ks"], Kur(n=cfg["n"], xi=xi)),
    ):
        tc = TrainConfig(
            data=model,
            net=NetConfig(init_scale=cfg["init_scale"]),
            lr=cfg["lr"],
            batch_size=cfg["batch"],
            steps=cfg["steps"],
            eval_every=cfg["steps"] // 20,
        )
        res = train_many(tc, seeds=cfg["seeds"], grid={field: values})
        ipr = np.asarray(metrics.ipr(res.final_weights[:, :, 0]))  # (H, S)
        for h, v in enumerate(values):
            excess = res.setting_config(h).data.marginal.excess_kurtosis
            rows.append((family, v, excess, ipr[h]))
    return xr.Dataset(
        {
            "family": ("point", [r[0] for r in rows]),
            "parameter": ("point", np.array([r[1] for r in rows], float)),
            "excess_kurtosis": ("point", np.array([r[2] for r in rows], float)),
            "ipr": (("point", "seed"), np.stack([r[3] for r in rows])),
        },
        coords={"seed": np.arange(cfg["seeds"])},
    )


def plot(ds: xr.Dataset, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from rfloc.plot import save_figure

    fig, ax = plt.subplots(figsize=(6, 4))
    for fam, colour, label in (
        ("nlgp", "tab:blue", "NLGP (gain sweep)"),
        ("kur", "tab:red", "Kur (k sweep)"),
    ):
        sel = ds.family.values == fam
        ex = ds.excess_kurtosis.values[sel]
        ipr = ds.ipr.values[sel]
        order = np.argsort(ex)
        for s in range(ipr.shape[1]):
            ax.scatter(ex, ipr[:, s], s=12, color=colour, alpha=0.5)
        ax.plot(ex[order], np.median(ipr, 1)[order], "-", color=colour, label=label)
    ax.axvline(0, color="0.5", ls=":")
    ax.axhline(LOCALIZED_IPR, color="0.7", ls="--", lw=0.8)
    ax.set(xlabel="excess kurtosis of the marginal", ylabel="final IPR", ylim=(0, 1.05))
    ax.legend()
    fig.tight_layout()
    return [save_figure(fig, Path(out) / "fig4_ipr_vs_kurtosis.png")]


def crossing(excess: np.ndarray, med: np.ndarray, level: float) -> float:
    """Largest excess kurtosis at which the median IPR (sorted by excess) falls through `level`."""
    order = np.argsort(excess)
    ex, m = excess[order], med[order]
    above = m > level
    if not above.any():
        return float("nan")
    i = int(np.nonzero(above)[0].max())
    if i == len(ex) - 1:
        return float(ex[-1])
    t = (m[i] - level) / (m[i] - m[i + 1])
    return float(ex[i] + t * (ex[i + 1] - ex[i]))


def check(ds: xr.Dataset) -> list[Claim]:
    ex = ds.excess_kurtosis.values
    med = np.median(ds.ipr.values, axis=1)
    neg = ex <= -1.0
    pos = ex > 0
    cross = crossing(ex, med, LOCALIZED_IPR)
    return [
        Claim(
            NAME,
            "IPR high for strongly negative excess kurtosis",
            "IPR -> ~1",
            f"median IPR {np.min(med[neg]):.2f}..{np.max(med[neg]):.2f} at excess <= -1 ({neg.sum()} points)",
            bool(np.all(med[neg] > HIGH_IPR)),
            f"every point with excess <= -1 has median IPR > {HIGH_IPR}",
        ),
        Claim(
            NAME,
            "IPR low for positive excess kurtosis",
            "IPR -> ~0",
            f"max IPR {ds.ipr.values[pos].max():.3f} over {pos.sum()} point(s) with excess > 0",
            bool(np.all(ds.ipr.values[pos] < LOCALIZED_IPR)),
            f"every run with excess > 0 has IPR < {LOCALIZED_IPR}",
        ),
        Claim(
            NAME,
            "transition near excess kurtosis 0",
            "sign change at 0 (cubic theory)",
            f"median IPR crosses {LOCALIZED_IPR} at excess {cross:.2f}",
            bool(CROSSING_RANGE[0] <= cross <= CROSSING_RANGE[1]),
            f"crossing in {list(CROSSING_RANGE)}",
        ),
    ]
