"""Fig 5 (networks): many-neuron nets localize for negative excess kurtosis, not for positive (SPEC §5).

Networks (N = 100, SPEC §2 table): K = 10 sigmoid with trainable bias on Kur(4, 10, 30); K = 100 ReLU
without bias on Kur(5, 6); K = 100 sigmoid with a fixed bias −1 on NLGP(100). Every architecture is also
trained, in the same run and from the same seed, on the Gaussian process with the same latent kernel (the
paper's Gaussian control, NLGP g → 0): a neuron is *localized* when its final IPR exceeds every neuron of
that control — a threshold set by the control, not by looking at the non-Gaussian runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.stats
import xarray as xr

from rfloc import metrics
from rfloc.data import NLGP, GaussianGP, Kur
from rfloc.experiments import VECTORIZE
from rfloc.experiments.claims import Claim, clopper_pearson
from rfloc.experiments.claims import deviations as _deviations
from rfloc.nn import NetConfig
from rfloc.train import TrainConfig, train_many

NAME = "fig5_networks"
TITLE = "Fig 5 (networks) - many neurons localize for negative excess kurtosis, against a Gaussian control"
CAPTION = (
    "Final RFs of many-neuron nets (N = 100; five neurons per panel at the IPR quantiles 0, 1/4, 1/2, 3/4, "
    "1), "
    "median IPR over training beside the same architecture trained on the Gaussian control, and every "
    "neuron's final IPR against the control's largest (dashed): above it = localized."
)

N_NET = 100
# name: (data model, k or gain, net, lr, init_scale) from SPEC §2 (authors' seed 0).
NETS = {
    "kur4": ("kur", 4.0, "sigmoid10", 100.0, 0.1),
    "kur10": ("kur", 10.0, "sigmoid10", 100.0, 0.1),
    "kur30": ("kur", 30.0, "sigmoid10", 100.0, 0.1),
    "kur5": ("kur", 5.0, "relu100", 5.0, 0.001),
    "kur6": ("kur", 6.0, "relu100", 5.0, 0.001),
    "nlgp100": ("nlgp", 100.0, "sigmoid100_bias-1", 5.0, 0.001),
}
# Paper's expectation: localized for negative excess kurtosis (k = 6, 10, 30; g = 100), not for k = 4, 5.
EXPECT_LOCALIZED = {"kur4": False, "kur10": True, "kur30": True, "kur5": False, "kur6": True, "nlgp100": True}
LABELS = {
    "kur4": "Kur(4), K=10 sigmoid",
    "kur10": "Kur(10), K=10 sigmoid",
    "kur30": "Kur(30), K=10 sigmoid",
    "kur5": "Kur(5), K=100 ReLU",
    "kur6": "Kur(6), K=100 ReLU",
    "nlgp100": "NLGP(100), K=100 sigmoid b=-1",
}
# A net "localizes" when most neurons do, with confidence: the 95 % Clopper-Pearson interval of its
# localized fraction lies above 1/2; it "does not" when the interval lies below 1/2; otherwise undecided,
# which fails either expectation. (K = 10: 9 or 10 of 10 localized, or at most 1.)
MAJORITY = 0.5
CONFIDENCE = 0.95  # of every interval and test here
PAPER = {
    "steps": 5000,
    "batch.sigmoid10": 1000,
    "batch.relu100": 1000,
    "batch.sigmoid100_bias-1": 1000,
    "seed": 0,
    "xi": (1.0, 3.0),
    "n": N_NET,
}
_K100 = (
    "2-core budget: 6 nets + 3 Gaussian controls x 5000 steps; the step cost scales with the batch "
    "(measured 27 s at 1000 vs 12 s at 500 for 1500 ReLU-100 steps), so the controls cost the other half"
)
REASONS = {
    "steps": "quick profile (smoke test)",
    "batch.sigmoid10": "quick profile (smoke test)",
    "batch.relu100": _K100,
    "batch.sigmoid100_bias-1": _K100,
}


def config(quick: bool, profile: str = "default") -> dict:
    """profile "paper": the paper's 5000 steps at batch 1000 for every net (PAPER); "default": the K = 100
    nets at half batch; quick: a smoke test."""
    if profile not in ("default", "paper"):
        raise ValueError(f"profile must be one of ['default', 'paper'], got {profile!r}")
    if quick:
        steps, records = 100, 10  # smoke test of the pipeline: RFs barely move
        batch = {"sigmoid10": 100, "relu100": 100, "sigmoid100_bias-1": 100}
    else:
        # The paper's 5000 steps, IPR every 200 steps. The K = 100 nets at half the paper's batch (REASONS);
        # the K = 10 sigmoid nets (lr 100) keep the paper's 1000: at 500 the Kur(10) net no longer
        # localized (5/10 neurons vs 10/10 at 1000, measured), the noise and not the data deciding.
        steps, records = 5000, 25
        batch = {"sigmoid10": 1000, "relu100": 500, "sigmoid100_bias-1": 500}
        if profile == "paper":
            batch = {k: PAPER[f"batch.{k}"] for k in batch}
    return {
        "n": N_NET,
        "xi": [1.0, 3.0],
        "steps": steps,
        "batch": batch,
        "records": records,
        "seed": 0,
        "nets": {name: list(v) for name, v in NETS.items()},
    }


def deviations(cfg: dict):
    used = {**cfg, **{f"batch.{k}": b for k, b in cfg["batch"].items()}}
    return _deviations(NAME, PAPER, used, REASONS)


def net_config(kind: str, init_scale: float) -> NetConfig:
    if kind == "sigmoid10":
        return NetConfig(kind="simplenet", width=10, activation="sigmoid", bias=True, init_scale=init_scale)
    if kind == "relu100":
        return NetConfig(kind="simplenet", width=100, activation="relu", init_scale=init_scale)
    if kind == "sigmoid100_bias-1":
        return NetConfig(
            kind="simplenet",
            width=100,
            activation="sigmoid",
            bias=True,
            train_bias=False,
            bias_value=-1.0,
            init_scale=init_scale,
        )
    raise ValueError(f"net kind must be one of sigmoid10, relu100, sigmoid100_bias-1, got {kind!r}")


def control_of(spec) -> str:
    """Name of the Gaussian control shared by every case with this architecture, lr and init."""
    _, _, kind, lr, init = spec
    return f"gauss_{kind}_lr{lr:g}_init{init:g}"


def _train(data, kind, init, lr, cfg) -> tuple[np.ndarray, np.ndarray, bool]:
    tc = TrainConfig(
        data=data,
        net=net_config(kind, init),
        lr=lr,
        batch_size=cfg["batch"][kind],
        steps=cfg["steps"],
        eval_every=cfg["steps"] // cfg["records"],
        seed=cfg["seed"],
    )
    tr = train_many(tc, seeds=[cfg["seed"]], vectorize=VECTORIZE).to_xarray().isel(setting=0, seed=0)
    return tr.weights.values, tr.step.values, bool(tr.diverged)  # (time, neuron, input) = (T, K, N)


def run(cfg: dict) -> xr.Dataset:
    n, xi = cfg["n"], tuple(cfg["xi"])
    runs = {}
    for name, spec in cfg["nets"].items():
        model, param, kind, lr, init = spec
        data = Kur(n=n, xi=xi, k=param) if model == "kur" else NLGP(n=n, xi=xi, gain=param)
        runs[name] = (*_train(data, kind, init, lr, cfg), control_of(spec))
        if control_of(spec) not in runs:
            runs[control_of(spec)] = (*_train(GaussianGP(n=n, xi=xi), kind, init, lr, cfg), "")
    return summarize(runs)


def summarize(runs: dict) -> xr.Dataset:
    """Dataset from {case: (weights (T, K, N), steps (T,), diverged, control case name or "")}."""
    names = list(runs)
    kmax = max(w.shape[1] for w, *_ in runs.values())
    t, n = next(iter(runs.values()))[0].shape[0], next(iter(runs.values()))[0].shape[2]
    final_w = np.full((len(names), kmax, n), np.nan)
    ipr_t = np.full((len(names), t, kmax), np.nan)
    for c, (w, *_) in enumerate(runs.values()):
        final_w[c, : w.shape[1]] = w[-1]
        ipr_t[c, :, : w.shape[1]] = np.asarray(metrics.ipr(np.asarray(w, np.float64)))
    return xr.Dataset(
        {
            "final_w": (("case", "neuron", "input"), final_w),
            "ipr": (("case", "step", "neuron"), ipr_t),
            "diverged": ("case", np.array([r[2] for r in runs.values()])),
        },
        coords={
            "case": names,
            "step": next(iter(runs.values()))[1],
            "control": ("case", [r[3] for r in runs.values()]),
            "width": ("case", [r[0].shape[1] for r in runs.values()]),
        },
    )


def _final(ds: xr.Dataset, case: str) -> np.ndarray:
    ipr = ds.ipr.sel(case=case).isel(step=-1).values
    return ipr[np.isfinite(ipr)]


def localized_fraction(ds: xr.Dataset, case: str) -> tuple[int, int, float]:
    """(localized neurons, neurons, threshold): localized = final IPR above the control's largest."""
    bar = float(_final(ds, str(ds.control.sel(case=case).values)).max())
    ipr = _final(ds, case)
    return int(np.sum(ipr > bar)), len(ipr), bar


def _rise(ds: xr.Dataset, case: str) -> float:
    """Relative rise of the median IPR over the last fifth of training (0 = converged)."""
    med = np.nanmedian(ds.ipr.sel(case=case).values, axis=-1)
    j = int(round(0.8 * (len(med) - 1)))
    return float((med[-1] - med[j]) / med[-1])


def _cases(ds: xr.Dataset) -> list[str]:
    return [str(c) for c, ctrl in zip(ds.case.values, ds.control.values, strict=True) if ctrl]


def check(ds: xr.Dataset) -> list[Claim]:
    claims = []
    counts = {}
    for case in _cases(ds):
        k, total, bar = localized_fraction(ds, case)
        counts[case] = (k, total)
        lo, hi = clopper_pearson(k, total)
        want = EXPECT_LOCALIZED[case]
        diverged = bool(ds.diverged.sel(case=case)) or bool(
            ds.diverged.sel(case=str(ds.control.sel(case=case).values))
        )
        ok = (lo > MAJORITY if want else hi < MAJORITY) and not diverged
        ipr = _final(ds, case)
        claims.append(
            Claim(
                NAME,
                f"network on {LABELS[case]}: {'localized' if want else 'not localized'}",
                "localized RFs (Fig 5)" if want else "no localized RFs (Fig 5)",
                f"{k}/{total} neurons localized ({lo:.2f}-{hi:.2f}); median IPR {np.median(ipr):.3f} vs "
                f"control max {bar:.3f}; median IPR rose {_rise(ds, case):+.0%} over the last fifth of "
                f"training" + (" (diverged)" if diverged else ""),
                ok,
                f"localized neuron: final IPR > the largest of the Gaussian control (same net, seed, steps); "
                f"95% Clopper-Pearson interval of the fraction {'above' if want else 'below'} {MAJORITY}",
            )
        )
    if "kur5" in counts and "kur6" in counts:
        (k5, n5), (k6, n6) = counts["kur5"], counts["kur6"]
        p = float(scipy.stats.fisher_exact([[k6, n6 - k6], [k5, n5 - k5]], alternative="greater").pvalue)
        med5, med6 = np.median(_final(ds, "kur5")), np.median(_final(ds, "kur6"))
        claims.append(
            Claim(
                NAME,
                "Kur(6) localizes more neurons than Kur(5) (sign change of excess kurtosis)",
                "k = 6 localized, k = 5 not (Fig 5)",
                f"localized {k6}/{n6} at k=6 vs {k5}/{n5} at k=5 (one-sided Fisher p = {p:.2g}); "
                f"median IPR {med6:.3f} vs {med5:.3f}",
                bool(p < 1 - CONFIDENCE),
                "localized fraction larger at k = 6 than at k = 5: one-sided Fisher exact "
                f"p < {1 - CONFIDENCE:.2f}",
            )
        )
    return claims


def quantile_rows(ipr: np.ndarray) -> np.ndarray:
    """Indices of the units at the IPR quantiles 0, 1/4, 1/2, 3/4, 1 (finite entries only)."""
    idx = np.flatnonzero(np.isfinite(ipr))
    order = idx[np.argsort(ipr[idx])]
    return order[np.round(np.linspace(0, len(order) - 1, 5)).astype(int)]


def stack_rfs(ax, rows: np.ndarray, ipr: np.ndarray, title: str) -> None:
    """RFs one above the other (each scaled to max |w| = 0.45, zero line dotted), labelled with their IPR."""
    for j, (w, v) in enumerate(zip(rows, ipr, strict=True)):
        ax.axhline(j, color="0.85", lw=0.6, ls=":")
        ax.plot(w / np.abs(w).max() * 0.45 + j, lw=1)
        ax.text(len(w) - 1, j + 0.25, f"{v:.3f}", ha="right", fontsize=7)
    ax.set(title=title, xlabel="input i", yticks=[])
    ax.title.set_fontsize(9)


def plot(ds: xr.Dataset, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from rfloc.plot import save_figure

    out = Path(out)
    cases = _cases(ds)
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, case in zip(axes.flat, cases, strict=False):
        ipr = ds.ipr.sel(case=case).isel(step=-1).values
        rows = quantile_rows(ipr)
        k, total, _ = localized_fraction(ds, case)
        title = f"{LABELS.get(case, case)}: {k}/{total} localized"
        stack_rfs(ax, ds.final_w.sel(case=case).values[rows], ipr[rows], title)
    fig.tight_layout()
    files = [save_figure(fig, out / "fig5_network_rfs.png")]

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    for i, case in enumerate(cases):
        colour = f"C{i}"
        ctrl = str(ds.control.sel(case=case).values)
        axes[0].plot(
            ds.step.values,
            np.nanmedian(ds.ipr.sel(case=case).values, -1),
            color=colour,
            label=LABELS.get(case, case),
        )
        axes[0].plot(
            ds.step.values, np.nanmedian(ds.ipr.sel(case=ctrl).values, -1), color=colour, ls=":", lw=0.8
        )
        ipr = _final(ds, case)
        axes[1].plot(np.full(ipr.shape, i) + np.linspace(-0.2, 0.2, len(ipr)), ipr, ".", ms=3, color=colour)
        bar = localized_fraction(ds, case)[2]
        axes[1].plot([i - 0.3, i + 0.3], [bar, bar], "k--", lw=1)
    axes[0].set(
        xlabel="SGD step",
        ylabel="median neuron IPR",
        yscale="log",
        title="IPR over training (dotted: Gaussian control, same net)",
    )
    axes[0].legend(fontsize=7)
    axes[1].set(ylabel="final IPR per neuron", yscale="log", title="final IPR; dashed: control's largest")
    axes[1].set_xticks(range(len(cases)), [LABELS.get(c, c).split(",")[0] for c in cases])
    fig.tight_layout()
    files.append(save_figure(fig, out / "fig5_ipr.png"))
    return files
