"""Fig 4 (left): elliptical data give oscillatory, sinusoid-like RFs, not localized ones (SPEC §3, §5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from rfloc.experiments.claims import LOCALIZED_IPR, Claim

NAME = "fig4_elliptical"
TITLE = "Fig 4 (left) - elliptical data: oscillatory receptive fields"
CAPTION = (
    "Single ReLU neuron trained on elliptical data (Student-t nu=3, shell, the authors' custom radial "
    "law); final RF (black) with its best-fit sinusoid (red). Elliptical laws keep w in Fourier modes."
)
# Sinusoid claim: one integer-frequency cosine explains ≥ 80% of the final RF's variance (R² ≥ 0.8). A
# localized bump of width a few sites spreads over many frequencies and scores R² < 0.5.
R2_MIN = 0.8

CASES = {
    # radial law: (lr, batch, steps, init_scale, first seed) from SPEC §2 (authors' seeds: custom 42, else 0)
    "t": (0.01, 1000, 10_000, 1.0, 0),
    "shell": (0.05, 10_000, 5000, 0.001, 0),
    "custom": (0.05, 10_000, 5000, 0.001, 42),
}


def config(quick: bool) -> dict:
    cases = {}
    for name, (lr, batch, steps, init, seed) in CASES.items():
        if quick:
            batch, steps = min(batch, 500), steps // 10
        cases[name] = {"lr": lr, "batch": batch, "steps": steps, "init_scale": init, "seed": seed}
    # The paper's batches and the authors' seeds. Seeds per case: 2 for t (batch 1000 is cheap), 1 for
    # shell/custom (batch 10 000 x 5000 steps; like the paper). An earlier rfloc setting (4 seeds at batch
    # 2500) left SGD noise on the RFs that lowered R2 to 0.5-0.66: the noise, not the shape, failed the fit.
    seeds = {"t": 2, "shell": 1, "custom": 1}
    return {"n": 40, "xi": [1.0, 3.0], "nu": 3.0, "seeds": seeds, "cases": cases}


def run(cfg: dict) -> xr.Dataset:
    from rfloc import metrics
    from rfloc.data import Elliptical
    from rfloc.nn import NetConfig
    from rfloc.train import TrainConfig, train_many

    finals, iprs, r2s, freqs = [], [], [], []
    for radial, c in cfg["cases"].items():
        data = Elliptical(n=cfg["n"], xi=tuple(cfg["xi"]), radial=radial, nu=cfg["nu"])
        tc = TrainConfig(
            data=data,
            net=NetConfig(init_scale=c["init_scale"]),
            lr=c["lr"],
            batch_size=c["batch"],
            steps=c["steps"],
            eval_every=c["steps"] // 10,
            seed=c["seed"],
        )
        res = train_many(tc, seeds=cfg["seeds"][radial])
        w = res.final_weights[0, :, 0]  # (S, N)
        fit = metrics.sinusoid_fit(w)
        finals.append(w)
        iprs.append(np.asarray(metrics.ipr(w)))
        r2s.append(np.asarray(fit.r2))
        freqs.append(np.asarray(fit.frequency))
    radials = list(cfg["cases"])
    width = max(len(v) for v in iprs)

    def pad(rows):  # cases have different seed counts: pad with NaN (ignored by the claims' medians)
        return np.stack([np.concatenate([r, np.full((width - len(r), *r.shape[1:]), np.nan)]) for r in rows])

    dims = ("radial", "seed", "input")
    return xr.Dataset(
        {
            "final_w": (dims, pad(finals)),
            "ipr": (dims[:2], pad(iprs)),
            "r2": (dims[:2], pad(r2s)),
            "frequency": (dims[:2], pad([f.astype(float) for f in freqs])),
        },
        coords={"radial": radials, "seed": np.arange(width)},
    )


def plot(ds: xr.Dataset, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from rfloc import metrics
    from rfloc.plot import save_figure

    titles = {"t": "Student-t (nu=3)", "shell": "shell (R = 1)", "custom": "custom radial"}
    fig, axes = plt.subplots(1, len(ds.radial), figsize=(4.5 * len(ds.radial), 3.4))
    for ax, r in zip(np.atleast_1d(axes), ds.radial.values, strict=True):
        w = ds.final_w.sel(radial=r).isel(seed=0).values
        fit = metrics.sinusoid_fit(w)
        n = w.shape[-1]
        pos = np.linspace(0, n - 1, 400)
        ax.plot(w, "k.-", lw=1, label="final RF")
        ax.plot(pos, np.asarray(metrics.sinusoid(fit, n, pos)), "r-", lw=1.5, label="best-fit sinusoid")
        ax.set(
            title=f"{titles.get(r, r)}: R2 {float(fit.r2):.2f}, IPR {float(metrics.ipr(w)):.3f}",
            xlabel="input i",
            ylabel="w_i",
        )
        ax.legend(fontsize=8)
    fig.tight_layout()
    return [save_figure(fig, Path(out) / "fig4_elliptical.png")]


def check(ds: xr.Dataset) -> list[Claim]:
    claims = []
    for r in ds.radial.values:
        r2 = ds.r2.sel(radial=r).values
        ipr = ds.ipr.sel(radial=r).values
        keep = ~np.isnan(r2)
        r2, ipr = r2[keep], ipr[keep]
        freqs = sorted({int(f) for f in ds.frequency.sel(radial=r).values[keep]})
        # Informative, not part of the verdict: share of ||w||^2 (uncentered) in Fourier modes f <= 2.
        w = ds.final_w.sel(radial=r).values[keep]
        power = np.abs(np.fft.rfft(w, axis=-1)) ** 2
        power[:, 1:] *= 2
        low = np.median(power[:, :3].sum(-1) / power.sum(-1))
        ok = bool(np.median(r2) >= R2_MIN and np.median(ipr) <= LOCALIZED_IPR)
        claims.append(
            Claim(
                NAME,
                f"elliptical ({r}): RF oscillatory, not localized",
                "sinusoid-like RF (Fig 4 left)",
                f"median R2 {np.median(r2):.3f}, median IPR {np.median(ipr):.3f} over {len(r2)} seeds "
                f"(frequencies {freqs}); share of |w|^2 in modes f<=2: {low:.3f}",
                ok,
                f"median R2 >= {R2_MIN} and median IPR <= {LOCALIZED_IPR}",
            )
        )
    return claims
